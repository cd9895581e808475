//! Read commands: `current`, `history`, `heads`, `show`.

use std::process::ExitCode;

use anyhow::Result;
use migrator_core::{Graph, Migrations};

use super::connect;
use crate::render;
use crate::settings::{Settings, Verbosity};

pub(crate) async fn current(settings: &Settings, migrations: &Migrations) -> Result<ExitCode> {
    let mut db = connect(settings, migrations).await?;
    let rows = db.current().await;
    let graph = db.graph();
    let lines: Vec<String> = match &rows {
        Ok(rows) => rows
            .iter()
            .map(|r| match graph.index_of(r) {
                Some(i) => render::short(graph, i),
                None => format!("{r} (not in this binary: the database is ahead of it)"),
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    db.close().await;
    let rows = rows?;
    if rows.is_empty() && settings.verbosity > Verbosity::Quiet {
        eprintln!("no revision applied (base)");
    }
    for l in lines {
        println!("{l}");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn history(graph: &Graph<'_>) -> Result<ExitCode> {
    let mut out = String::new();
    for i in graph.history() {
        out.push_str(&render::history_line(graph, i));
        out.push('\n');
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn heads(graph: &Graph<'_>, verbosity: Verbosity) -> Result<ExitCode> {
    for &h in graph.heads() {
        if verbosity == Verbosity::Verbose {
            println!("{}", render::detail(graph, h));
        } else {
            println!("{}", render::short(graph, h));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn show(graph: &Graph<'_>, ident: &str) -> Result<ExitCode> {
    let revs = graph.resolve(ident)?;
    if revs.is_empty() {
        return Err(super::usage(format!(
            "`{ident}` is the base, which is not a revision; name a revision to show"
        )));
    }
    for r in revs {
        println!("{}", render::detail(graph, r));
    }
    Ok(ExitCode::SUCCESS)
}
