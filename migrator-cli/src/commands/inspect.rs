//! Read commands: `current`, `history`, `heads`, `branches`, `show`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Result, bail};
use migrator_core::{Graph, Migrations, RangeEnd, RevisionIndex};
use serde_json::{Value, json};

use super::connect_to_read;
use crate::UsageError;
use crate::out::{errln, out, outln};
use crate::render::{self, Line};
use crate::settings::{Settings, Verbosity};

/// The database's version rows, as graph indices (unknown ones dropped,
/// reported by the caller).
async fn rows(settings: &Settings, graph: &Graph<'_>) -> Result<(Vec<String>, Vec<RevisionIndex>)> {
    let mut db = connect_to_read(settings, graph).await?;
    let rows = db.current().await;
    db.close().await;
    let rows = rows?;
    let known = rows.iter().filter_map(|r| graph.index_of(r)).collect();
    Ok((rows, known))
}

pub(crate) async fn current(settings: &Settings, graph: &Graph<'_>, check_heads: bool) -> Result<ExitCode> {
    let (rows, known) = rows(settings, graph).await?;
    let unknown: Vec<&String> = rows.iter().filter(|r| graph.index_of(r).is_none()).collect();
    let shown = graph.all_current(&known);
    if settings.json {
        let revisions: Vec<Value> = shown
            .iter()
            .map(|&i| render::json(graph, i, known.contains(&i)))
            .collect();
        render::print_json(&json!({
            "database": settings.url.to_string(),
            "rows": rows,
            "unknown": unknown,
            "revisions": revisions,
        }));
    } else {
        if settings.verbosity == Verbosity::Verbose {
            outln!("Current revision(s) for {}:", settings.url);
        }
        for &i in &shown {
            if settings.verbosity == Verbosity::Verbose {
                outln!("{}", render::detail(graph, i, false));
            } else {
                outln!(
                    "{}",
                    render::line(
                        graph,
                        i,
                        Line {
                            tree: true,
                            ..Line::default()
                        }
                    )
                );
            }
        }
        for u in &unknown {
            outln!("{u} (not in this binary: the database is ahead of it)");
        }
        if rows.is_empty() && settings.verbosity > Verbosity::Quiet {
            errln!("no revision applied (base)");
        }
    }
    if check_heads {
        // At the heads when every head is applied, rows or not: a head
        // reached only through `Depends On` gets no row of its own (as in
        // Alembic), and `check` judges the same way.
        let applied = graph.ancestors(&known, true);
        let heads = graph.heads().to_vec();
        if !unknown.is_empty() {
            bail!(
                "the database is ahead of this binary: it has {}, which this binary does not contain; run a binary \
                 built from newer migrations, or pass --dir with the current files",
                unknown.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(", ")
            );
        }
        if heads.iter().any(|&h| !applied[h]) {
            bail!(
                "the database is not at the head revisions: it is at {}, the heads are {}; run `migrator upgrade heads`",
                if rows.is_empty() {
                    "base".to_owned()
                } else {
                    rows.join(", ")
                },
                heads
                    .iter()
                    .map(|&h| graph.revision(h).id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn history(
    settings: &Settings,
    graph: &Graph<'_>,
    range: Option<&str>,
    indicate_current: bool,
) -> Result<ExitCode> {
    let (lower, upper) = match range {
        None => ("", ""),
        Some(r) => match r.trim().split_once(':') {
            Some((l, u)) if !u.contains(':') => (l, u),
            _ => return Err(migrator_core::ResolveError::BadRange { range: r.to_owned() }.into()),
        },
    };
    let needs_db = indicate_current || lower == "current" || upper == "current";
    let current = if needs_db {
        rows(settings, graph).await?.1
    } else {
        Vec::new()
    };
    let end = |s: &'static str, given| match given {
        "" => RangeEnd::Ident(s),
        "current" => RangeEnd::Current(&current),
        other => RangeEnd::Ident(other),
    };
    let order = graph.history_range(end("base", lower), end("heads", upper))?;
    let is_current = |i: RevisionIndex| indicate_current && current.contains(&i);
    if settings.json {
        render::print_json(&Value::Array(
            order.iter().map(|&i| render::json(graph, i, is_current(i))).collect(),
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    for i in order {
        if settings.verbosity == Verbosity::Verbose {
            out += &render::detail(graph, i, is_current(i));
        } else {
            let how = Line {
                branches: true,
                doc: true,
                parents: true,
                tree: true,
                current: is_current(i),
            };
            out += &render::line(graph, i, how);
        }
        out.push('\n');
    }
    out!("{out}");
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn heads(settings: &Settings, graph: &Graph<'_>, resolve_dependencies: bool) -> Result<ExitCode> {
    let heads: Vec<RevisionIndex> = if resolve_dependencies {
        graph.resolve("heads")?
    } else {
        graph.heads().to_vec()
    };
    if settings.json {
        render::print_json(&Value::Array(
            heads.iter().map(|&i| render::json(graph, i, false)).collect(),
        ));
        return Ok(ExitCode::SUCCESS);
    }
    for h in heads {
        if settings.verbosity == Verbosity::Verbose {
            outln!("{}", render::detail(graph, h, false));
        } else {
            outln!(
                "{}",
                render::line(
                    graph,
                    h,
                    Line {
                        branches: true,
                        ..Line::default()
                    }
                )
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn branches(settings: &Settings, graph: &Graph<'_>) -> Result<ExitCode> {
    let points: Vec<RevisionIndex> = graph
        .history()
        .into_iter()
        .filter(|&i| graph.is_branch_point(i))
        .collect();
    if settings.json {
        let list: Vec<Value> = points
            .iter()
            .map(|&i| {
                let into: Vec<Value> = graph
                    .children(i)
                    .iter()
                    .map(|&c| render::json(graph, c, false))
                    .collect();
                json!({ "revision": render::json(graph, i, false), "branches_into": into })
            })
            .collect();
        render::print_json(&Value::Array(list));
        return Ok(ExitCode::SUCCESS);
    }
    let verbose = settings.verbosity == Verbosity::Verbose;
    for i in points {
        let head = if verbose {
            render::detail(graph, i, false)
        } else {
            render::line(
                graph,
                i,
                Line {
                    branches: true,
                    tree: true,
                    ..Line::default()
                },
            )
        };
        outln!("{head}");
        let pad = " ".repeat(graph.revision(i).id.len());
        for &c in graph.children(i) {
            outln!(
                "{pad} -> {}",
                render::line(
                    graph,
                    c,
                    Line {
                        branches: true,
                        doc: verbose,
                        tree: true,
                        ..Line::default()
                    }
                )
            );
        }
        outln!();
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn show(settings: &Settings, graph: &Graph<'_>, ident: &str) -> Result<ExitCode> {
    let (revs, current) = if ident == "current" {
        let (_, known) = rows(settings, graph).await?;
        (known.clone(), known)
    } else {
        (graph.resolve(ident)?, Vec::new())
    };
    if revs.is_empty() && ident != "current" {
        return Err(UsageError(format!(
            "`{ident}` is the base, which is not a revision; name a revision to show"
        ))
        .into());
    }
    if settings.json {
        render::print_json(&Value::Array(
            revs.iter()
                .map(|&i| render::json(graph, i, current.contains(&i)))
                .collect(),
        ));
        return Ok(ExitCode::SUCCESS);
    }
    for r in revs {
        outln!("{}", render::detail(graph, r, current.contains(&r)));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn status(settings: &Settings, graph: &Graph<'_>) -> Result<ExitCode> {
    let mut db = connect_to_read(settings, graph).await?;
    let result = db.status().await;
    db.close().await;
    let lines = result?;
    if settings.json {
        let list: Vec<Value> = lines
            .iter()
            .map(|l| {
                json!({
                    "revision": l.revision,
                    "state": l.state.name(),
                    "message": l.message,
                    "path": l.path,
                    "applied_at": l.applied_at,
                    "duration_ms": l.duration.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                })
            })
            .collect();
        render::print_json(&Value::Array(list));
        return Ok(ExitCode::SUCCESS);
    }
    let width = lines.iter().map(|l| l.revision.len()).max().unwrap_or(8).max(8);
    // One write for the whole table: a line per revision, 100,000 of them.
    let mut table = format!(
        "{:<10}  {:<width$}  {:<23}  {:>9}  MESSAGE\n",
        "STATE", "REVISION", "APPLIED AT (UTC)", "DURATION"
    );
    for l in &lines {
        let at = l.applied_at.as_deref().unwrap_or("-");
        let took = l.duration.map_or_else(|| "-".to_owned(), render::duration);
        let _ = writeln!(
            table,
            "{:<10}  {:<width$}  {at:<23}  {took:>9}  {}",
            l.state.name(),
            l.revision,
            l.message
        );
    }
    out!("{table}");
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn check(settings: &Settings, graph: &Graph<'_>) -> Result<ExitCode> {
    use migrator_core::RevisionState as S;
    let mut db = connect_to_read(settings, graph).await?;
    let result = db.status().await;
    let rows = db.current().await;
    db.close().await;
    let (lines, rows) = (result?, rows?);
    let mut problems = Vec::new();
    if rows.is_empty() {
        problems.push("the database has no revision applied (empty); run `migrator upgrade heads`".to_owned());
    }
    let pending: Vec<&str> = lines
        .iter()
        .filter(|l| l.state == S::Pending)
        .map(|l| l.revision.as_str())
        .collect();
    if !pending.is_empty() && !rows.is_empty() {
        problems.push(format!(
            "the database is behind: {} pending ({}); run `migrator upgrade heads`",
            pending.len(),
            pending.join(", ")
        ));
    }
    for l in &lines {
        let (id, path) = (&l.revision, l.path.as_deref().unwrap_or(""));
        match l.state {
            S::Modified => problems.push(format!(
                "revision {id} ({path}) is modified: its SQL changed after it was applied; restore the file or run \
                 `migrator repair {id} --accept-checksum`"
            )),
            S::Failed => problems.push(format!(
                "revision {id} ({path}) failed partway; `migrator upgrade` names the statement, then run `migrator repair {id}`"
            )),
            S::Unknown => problems.push(format!(
                "the database has revision {id}, which this binary does not contain: the database is ahead of it"
            )),
            _ => {}
        }
    }
    if let Some(declared) = super::declared::for_dialect(settings, settings.url.dialect())? {
        let path = &declared.path;
        let sql = std::fs::read_to_string(path)
            .map_err(|e| UsageError(format!("cannot read the declared schema {}: {e}", path.display())))?;
        let dev_url = super::declared::dev_url_for(settings, declared.dialect, path)?;
        let declared = migrator_core::declared_schema(&dev_url, &sql, &path.display().to_string()).await?;
        let mut db = connect_to_read(settings, graph).await?;
        let live = db.schema().await;
        db.close().await;
        for change in migrator_core::schema::diff(&live?, &declared) {
            problems.push(format!("schema drift: {change} (declared in {})", path.display()));
        }
    }
    if settings.json {
        let problems: Vec<String> = problems
            .iter()
            .map(|p| crate::in_terms_of(p, &settings.command))
            .collect();
        let unverified: Vec<&str> = lines
            .iter()
            .filter(|l| l.state == S::Unverified)
            .map(|l| l.revision.as_str())
            .collect();
        render::print_json(&json!({ "ok": problems.is_empty(), "problems": problems, "unverified": unverified }));
        return Ok(if problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    if problems.is_empty() {
        if settings.verbosity > Verbosity::Quiet {
            let heads: Vec<&str> = graph.heads().iter().map(|&h| &*graph.revision(h).id).collect();
            // Say what was verified: a revision with no checksum on record
            // (stamped, adopted, its log rows gone) is not "unmodified".
            let unverified: Vec<&str> = lines
                .iter()
                .filter(|l| l.state == S::Unverified)
                .map(|l| l.revision.as_str())
                .collect();
            let verified = if unverified.is_empty() {
                "unmodified".to_owned()
            } else {
                format!(
                    "unmodified where a checksum is on record ({} unverified: {}; `status` lists them)",
                    unverified.len(),
                    unverified.join(", ")
                )
            };
            outln!(
                "ok: the database is at the heads ({}), {verified}, with no failed revision",
                heads.join(", ")
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        errln!("check failed: {}", crate::in_terms_of(p, &settings.command));
    }
    Ok(ExitCode::from(1))
}

pub(crate) async fn round_trip(
    settings: &Settings,
    migrations: &Migrations,
    allow_irreversible: bool,
    with_data: bool,
) -> Result<ExitCode> {
    let dev_url =
        super::declared::dev_url(settings, settings.url.dialect()).unwrap_or_else(|| settings.raw_url.clone());
    let report = migrator_core::round_trip_with(migrations, &dev_url, with_data).await?;
    let untested: Vec<String> = report
        .untested
        .iter()
        .map(|(id, path)| format!("{id} ({path})"))
        .collect();
    let refuse_untested = !untested.is_empty() && !allow_irreversible;
    if settings.json {
        render::print_json(&json!({
            "ok": report.failure.is_none() && !refuse_untested,
            "tested": report.tested,
            "untested": report.untested.iter().map(|(id, path)| json!({"revision": id, "path": path})).collect::<Vec<_>>(),
            "failure": report.failure.as_ref().map(|f| json!({
                "revision": f.revision,
                "path": f.path,
                "missing": f.differences.iter().map(|d| d.action()).collect::<Vec<_>>(),
                "lost_rows": f.lost_rows,
            })),
            "unfilled": report.unfilled,
        }));
    }
    if let Some(f) = report.failure.as_ref().filter(|f| !f.lost_rows.is_empty()) {
        errln!(
            "revision {} ({}) loses data: its downgrade, or the upgrade after it, lost or changed rows of columns \
             that both sides keep:",
            f.revision,
            f.path
        );
        for l in &f.lost_rows {
            errln!("  {l}");
        }
        errln!(
            "fix its sections so that rows survive (on SQLite, a rebuild copies every row: INSERT INTO new SELECT \
             ... FROM old before the DROP)"
        );
        return Ok(ExitCode::from(1));
    }
    if let Some(f) = &report.failure {
        errln!(
            "revision {} ({}) does not round-trip: its downgrade leaves a schema different from the one its upgrade \
             started from. To restore it, the downgrade would also have to:",
            f.revision,
            f.path
        );
        for d in &f.differences {
            errln!("  {}", d.action());
        }
        errln!("fix its `-- migrate:down` section so that it undoes the upgrade exactly");
        return Ok(ExitCode::from(1));
    }
    if refuse_untested {
        errln!(
            "could not test {} revision(s) with no down section for this database (irreversible): {}. Add a \
             `-- migrate:down` section to each, or pass --allow-irreversible to accept them untested",
            untested.len(),
            untested.join(", ")
        );
        return Ok(ExitCode::from(1));
    }
    if settings.verbosity > Verbosity::Quiet && !settings.json {
        outln!(
            "ok: {} revision(s) upgraded, downgraded and upgraded again; every downgrade restored the schema",
            report.tested
        );
        if !untested.is_empty() {
            outln!("not tested (irreversible, allowed): {}", untested.join(", "));
        }
        if with_data {
            outln!("rows generated before each downgrade survived it and the upgrade after it");
        }
        if !report.unfilled.is_empty() {
            outln!(
                "tables that refused the generated rows (their data not checked): {}",
                report.unfilled.join("; ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
