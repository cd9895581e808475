//! `--sql`: offline scripts for `upgrade`, `downgrade` and `stamp`, for the
//! dialect of the URL's scheme, without connecting.

use std::process::ExitCode;

use anyhow::Result;
use migrator_core::bookkeeping::Tables;
use migrator_core::{Graph, Plan, RevisionIndex, TransactionMode, offline_script};

use crate::UsageError;
use crate::out::out;
use crate::settings::Settings;

/// `start:end` → (start, end); `end` → (None, end).
fn range(target: &str) -> Result<(Option<&str>, &str), UsageError> {
    match target.split_once(':') {
        None => Ok((None, target)),
        Some((start, end)) if !end.contains(':') => Ok(((!start.is_empty()).then_some(start), end)),
        Some(_) => Err(UsageError(format!("`{target}` is not of the form `[start:]end`"))),
    }
}

/// The rows a script starts from: none for base, else the start revision.
fn start_rows(graph: &Graph<'_>, start: Option<&str>) -> Result<Vec<RevisionIndex>> {
    Ok(match start {
        None | Some("base") => Vec::new(),
        Some(s) => graph.resolve(s)?,
    })
}

fn tables(settings: &Settings) -> Tables {
    Tables::for_version_table(&settings.version_table, settings.version_table_schema.clone())
}

fn print(settings: &Settings, plan: &Plan<'_, '_>, from_base: bool) -> Result<ExitCode> {
    let all = settings.mode == TransactionMode::All;
    out!(
        "{}",
        offline_script(plan, settings.url.dialect(), &tables(settings), from_base, all)
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn upgrade(settings: &Settings, graph: &Graph<'_>, target: &str) -> Result<ExitCode> {
    let (start, end) = range(target)?;
    let rows = start_rows(graph, start)?;
    let plan = graph.plan_upgrade(&rows, end, settings.url.dialect())?;
    print(settings, &plan, rows.is_empty())
}

pub(crate) fn downgrade(settings: &Settings, graph: &Graph<'_>, target: &str) -> Result<ExitCode> {
    let (Some(start), end) = range(target)? else {
        return Err(UsageError(format!(
            "downgrade --sql needs the revision to start from: `migrator downgrade --sql <start>:{target}`"
        ))
        .into());
    };
    let rows = start_rows(graph, Some(start))?;
    let plan = graph.plan_downgrade(&rows, end, settings.url.dialect())?;
    print(settings, &plan, false)
}

pub(crate) fn stamp(settings: &Settings, graph: &Graph<'_>, revisions: &[String]) -> Result<ExitCode> {
    let mut start = None;
    let mut targets = Vec::new();
    for (i, r) in revisions.iter().enumerate() {
        let (s, end) = range(r)?;
        if i == 0 {
            start = s;
        } else if s.is_some() {
            return Err(
                UsageError("only the first revision of `stamp --sql` may carry a start (`start:rev`)".into()).into(),
            );
        }
        targets.push(end);
    }
    let rows = start_rows(graph, start)?;
    let plan = graph.plan_stamp(&rows, &targets, false)?;
    print(settings, &plan, rows.is_empty())
}
