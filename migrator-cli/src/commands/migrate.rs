//! `upgrade` and `downgrade`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use migrator_core::{Direction, Graph, Repair, StepReport};

use super::hooks::Hooks;
use super::{connect, connect_to_read};
use crate::out::{err, outln};
use serde_json::json;

use crate::render::{self, duration, progress};
use crate::settings::{Settings, Verbosity};

pub(crate) async fn run(
    settings: &Settings,
    graph: &Graph<'_>,
    direction: Direction,
    target: &str,
    dry_run: bool,
) -> Result<ExitCode> {
    if dry_run {
        let mut db = connect_to_read(settings, graph).await?;
        let result = db.dry_run(direction, target).await;
        db.close().await;
        let report = result?;
        if settings.json {
            print_run(direction, target, true, &report.applied, Some(&report.current), None);
            return Ok(ExitCode::SUCCESS);
        }
        let verb = if direction == Direction::Up {
            "upgrade"
        } else {
            "downgrade"
        };
        for a in &report.applied {
            outln!("would {verb:<9} {}  {}", a.revision, a.message);
        }
        let at = if report.current.is_empty() {
            "base".to_owned()
        } else {
            report.current.join(", ")
        };
        let n = report.applied.len();
        let s = if n == 1 { "" } else { "s" };
        outln!("dry run: {n} revision{s} would run; the database would be at {at}; nothing was changed");
        return Ok(ExitCode::SUCCESS);
    }
    let mut db = connect(settings, graph).await?;
    let loud = settings.verbosity > Verbosity::Quiet && !settings.json;
    let started = Instant::now();
    // With --json, the steps are collected and printed as one document at
    // the end, failure or not.
    let mut done: Vec<StepReport> = Vec::new();
    // On a terminal, a progress bar under the lines; plain lines otherwise.
    let bar = loud && std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
    let mut print = |a: &StepReport| {
        if settings.json {
            done.push(a.clone());
        }
        if bar {
            err!("\r\x1b[K");
        }
        if loud {
            let verb = if a.direction == Direction::Up {
                "upgrade"
            } else {
                "downgrade"
            };
            outln!("{verb:<9} {}  {}  ({})", a.revision, a.message, duration(a.duration));
        }
        if bar && a.position < a.total {
            err!("{}", progress(a.position, a.total, &a.revision));
        }
    };
    let mut hooks = Hooks::new(settings, direction, target, &mut print);
    let result = db.run_with_hooks(direction, target, &mut hooks).await;
    db.close().await;
    let after = hooks.after(result.as_ref().err().map(ToString::to_string).as_deref());
    if settings.json {
        let (current, error) = match &result {
            Ok(report) => (Some(report.current.as_slice()), None),
            Err(e) => (None, Some(crate::in_terms_of(&e.to_string(), &settings.command))),
        };
        print_run(direction, target, false, &done, current, error.as_deref());
    }
    let report = result?;
    after.map_err(anyhow::Error::msg)?;
    if loud {
        let at = if report.current.is_empty() {
            "base".to_owned()
        } else {
            report.current.join(", ")
        };
        if report.applied.is_empty() {
            let why = if direction == Direction::Up {
                format!("the database already includes `{target}`")
            } else {
                format!("the database is already at or below `{target}`")
            };
            outln!("nothing to do: {why}; it is at {at}");
        } else {
            let n = report.applied.len();
            let verb = if direction == Direction::Up {
                "applied"
            } else {
                "reverted"
            };
            let s = if n == 1 { "" } else { "s" };
            outln!(
                "{verb} {n} revision{s} in {}; the database is at {at}",
                duration(started.elapsed())
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn stamp(settings: &Settings, graph: &Graph<'_>, targets: &[String], purge: bool) -> Result<ExitCode> {
    let mut db = connect(settings, graph).await?;
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    let result = db.stamp(&targets, purge).await;
    db.close().await;
    let report = result?;
    if settings.json {
        render::print_json(&json!({ "ok": true, "command": "stamp", "current": report.current }));
    } else if settings.verbosity > Verbosity::Quiet {
        let at = if report.current.is_empty() {
            "base".to_owned()
        } else {
            report.current.join(", ")
        };
        outln!("stamped: the database is at {at} (no SQL was run)");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn repair(
    settings: &Settings,
    graph: &Graph<'_>,
    revision: Option<&str>,
    how: Repair,
) -> Result<ExitCode> {
    let mut db = connect(settings, graph).await?;
    let result = db.repair(revision, how).await;
    db.close().await;
    let report = result?;
    if settings.verbosity > Verbosity::Quiet {
        for a in &report.applied {
            outln!("{}: {}", a.revision, a.note.as_deref().unwrap_or(&a.message));
        }
        let at = if report.current.is_empty() {
            "base".to_owned()
        } else {
            report.current.join(", ")
        };
        outln!("the database is at {at}");
    }
    Ok(ExitCode::SUCCESS)
}

/// One JSON document for an upgrade or downgrade: what ran (or would run),
/// where the database ended, and the error when it failed.
fn print_run(
    direction: Direction,
    target: &str,
    dry_run: bool,
    applied: &[StepReport],
    current: Option<&[String]>,
    error: Option<&str>,
) {
    let steps: Vec<serde_json::Value> = applied
        .iter()
        .map(|a| {
            json!({
                "revision": a.revision,
                "message": a.message,
                "direction": a.direction.verb(),
                "duration_ms": if dry_run { None } else { Some(u64::try_from(a.duration.as_millis()).unwrap_or(u64::MAX)) },
            })
        })
        .collect();
    render::print_json(&json!({
        "ok": error.is_none(),
        "command": direction.verb(),
        "target": target,
        "dry_run": dry_run,
        "applied": steps,
        "current": current,
        "error": error,
    }));
}
