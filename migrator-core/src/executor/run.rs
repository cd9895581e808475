//! Executing a plan: transactions, statement-by-statement progress where
//! DDL cannot be rolled back, and the log.

use std::collections::BTreeSet;
use std::time::Instant;

use super::db::Db;
use super::error::{Context, Error};
use super::failure::failure;
use super::foreign_keys::{ForeignKeysOff, commit_checked};
use super::lock::Fence;
use super::report::{StepReport, TransactionMode};
use super::statements::run_statements;
use super::step::{StepError, log_row, move_rows, transactional_ddl};
use super::timeouts;
use crate::bookkeeping::Tables;
use crate::{Dialect, Digest, Plan, RevisionIndex, RowChange, Step, Text, Timeouts, disables_foreign_keys, now_utc};

/// How [`execute`] runs: where the bookkeeping goes, what each commit
/// checks, the transaction mode, and the run's own timeouts (which a
/// revision's header may change for that revision).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunSettings<'a> {
    pub tables: &'a Tables,
    pub fence: &'a Fence,
    pub mode: TransactionMode,
    pub session: Timeouts,
}

/// What [`execute`] did.
#[derive(Debug, Default)]
pub(crate) struct Executed {
    /// The steps that committed, in order.
    pub applied: Vec<StepReport>,
    /// `true` when, on SQLite, another runner moved the version rows
    /// before a step: the caller re-plans from the new rows.
    pub interrupted: bool,
}

/// Runs `plan` step by step. The caller holds the lock (PostgreSQL,
/// MySQL); on SQLite each transaction starts with `BEGIN IMMEDIATE` and
/// checks that the version rows are still those the plan expects.
///
/// `digest` is the applied digest before the plan, when the checks found
/// every applied revision recorded with this binary's checksum; each log
/// row of a successful step then records the digest after it.
pub(crate) async fn execute(
    db: &mut Db,
    run: &RunSettings<'_>,
    plan: &Plan<'_, '_>,
    mut digest: Option<Digest>,
    on_step: &mut dyn FnMut(&StepReport),
) -> Result<Executed, Error> {
    let RunSettings {
        tables,
        fence,
        mode,
        session,
    } = *run;
    let graph = plan.graph();
    let dialect = db.dialect();
    let mut done = Executed::default();
    let mut expected: BTreeSet<String> = plan.before.iter().map(|r| graph.revision(r).id.to_string()).collect();
    let mut in_batch = false;
    // How many steps, from the first, are committed.
    let mut committed = 0;
    let mut reported = 0;
    // SQLite steps that ask for foreign keys off (see `pragma`); in mode
    // `all`, one such step turns them off for the whole transaction.
    let wants_fk_off = |step: &Step| {
        dialect == Dialect::Sqlite
            && graph
                .revision(step.revision)
                .body(step.direction, dialect)
                .sections()
                .any(|s| disables_foreign_keys(&s.sql))
    };
    let batch_fk_off = mode == TransactionMode::All && plan.steps.iter().any(wants_fk_off);
    let mut fk_off: Option<ForeignKeysOff> = None;
    for (n, step) in plan.steps.iter().enumerate() {
        let rev = graph.revision(step.revision);
        let body = rev.body(step.direction, dialect);
        let transactional = transactional_ddl(dialect) && body.is_transactional();
        let started = Instant::now();
        let started_at = now_utc();
        let after = digest.map(|mut d| {
            d.toggle(&rev.id, &rev.checksum(dialect));
            d
        });
        if in_batch && !transactional {
            if let Err(e) = commit_checked(db, fence, &mut fk_off, plan, step).await {
                flush(&done.applied, committed, &mut reported, on_step);
                return Err(e);
            }
            flush(&done.applied, committed, &mut reported, on_step);
            in_batch = false;
            committed = n;
        }
        if fk_off.is_none() && (wants_fk_off(step) || (transactional && batch_fk_off)) {
            fk_off = Some(ForeignKeysOff::switch(db).await?);
        }
        if transactional && !in_batch {
            db.begin()
                .await
                .context(|| format!("cannot start a transaction for revision {}", rev.id))?;
            if dialect == Dialect::Sqlite && !rows_unchanged(db, tables, &expected).await? {
                let _ = db.rollback().await;
                ForeignKeysOff::restore(db, &mut fk_off).await;
                done.interrupted = true;
                return Ok(done);
            }
            in_batch = mode == TransactionMode::All;
        }
        // Outside a transaction, the lock is checked before the step runs
        // (inside one, before it commits).
        if !transactional && let Err(e) = fence.check(db, &format!("revision {}", rev.id)).await {
            ForeignKeysOff::restore(db, &mut fk_off).await;
            flush(&done.applied, committed, &mut reported, on_step);
            return Err(e);
        }
        // The revision's own timeouts: inside a PostgreSQL transaction for
        // that transaction only, elsewhere set now and put back after it.
        let local = transactional && dialect == Dialect::Postgres;
        let set_timeouts = timeouts::set(dialect, rev.timeouts, local);
        let result = match &set_timeouts {
            Some(sql) => db.script(&Text::Owned(sql.clone())).await.map_err(StepError::Sql),
            None => Ok(()),
        };
        let result = match result {
            Err(e) => Err(e),
            Ok(()) if transactional => {
                let sql = body.only_transactional().map(|s| &s.sql);
                run_transactional(db, tables, plan, step, sql, &started_at, after).await
            }
            Ok(()) => run_statements(db, tables, plan, step, body, &started_at, after).await,
        };
        let restore = set_timeouts.is_some() && !local;
        let put_back = async |db: &mut Db| {
            if restore && let Some(sql) = timeouts::restore(dialect, rev.timeouts, session) {
                let _ = db.script(&Text::Owned(sql)).await;
            }
        };
        match result {
            Ok(()) => {
                if !in_batch && transactional {
                    let committed = commit_checked(db, fence, &mut fk_off, plan, step).await;
                    put_back(db).await;
                    committed?;
                } else if !transactional {
                    put_back(db).await;
                    ForeignKeysOff::restore(db, &mut fk_off).await;
                }
                if !in_batch {
                    committed = n + 1;
                }
                digest = after;
            }
            Err(e) => {
                if transactional {
                    let _ = db.rollback().await;
                }
                put_back(db).await;
                if transactional {
                    // The failure goes into the log on its own, as rolled back.
                    let _ = log_row(db, tables, plan, step, &started_at, Some(&e.to_string()), None).await;
                }
                ForeignKeysOff::restore(db, &mut fk_off).await;
                flush(&done.applied, committed, &mut reported, on_step);
                return Err(failure(plan, step, e, committed, transactional, mode));
            }
        }
        for change in &step.rows {
            apply_expected(&mut expected, graph, change);
        }
        done.applied.push(StepReport {
            revision: rev.id.to_string(),
            message: rev.message.to_string(),
            direction: step.direction,
            duration: started.elapsed(),
            position: n + 1,
            total: plan.steps.len(),
            note: None,
        });
        if !in_batch {
            flush(&done.applied, committed, &mut reported, on_step);
        }
    }
    if in_batch && let Some(last) = plan.steps.last() {
        commit_checked(db, fence, &mut fk_off, plan, last).await?;
    }
    flush(&done.applied, plan.steps.len(), &mut reported, on_step);
    Ok(done)
}

/// Reports the committed steps not reported yet; `reported` counts those
/// already reported.
fn flush(applied: &[StepReport], committed: usize, reported: &mut usize, on_step: &mut dyn FnMut(&StepReport)) {
    let upto = committed.min(applied.len());
    for a in applied.iter().take(upto).skip(*reported) {
        on_step(a);
    }
    *reported = (*reported).max(upto);
}

async fn rows_unchanged(db: &mut Db, tables: &Tables, expected: &BTreeSet<String>) -> Result<bool, Error> {
    let rows = super::state::read_rows(db, tables).await?;
    Ok(rows.len() == expected.len() && rows.iter().all(|r| expected.contains(r)))
}

fn apply_expected(expected: &mut BTreeSet<String>, graph: &crate::Graph<'_>, change: &RowChange) {
    let id = |i: RevisionIndex| graph.revision(i).id.to_string();
    match *change {
        RowChange::Insert(r) => {
            expected.insert(id(r));
        }
        RowChange::Delete(r) => {
            expected.remove(&id(r));
        }
        RowChange::Update { from, to } => {
            expected.remove(&id(from));
            expected.insert(id(to));
        }
    }
}

/// A step inside the open transaction: its SQL, its rows, its log row.
async fn run_transactional(
    db: &mut Db,
    tables: &Tables,
    plan: &Plan<'_, '_>,
    step: &Step,
    sql: Option<&Text>,
    started_at: &str,
    digest: Option<Digest>,
) -> Result<(), StepError> {
    let d = db.dialect();
    // SQLite: the bookkeeping goes with the SQL in one round trip. This
    // transaction began with BEGIN IMMEDIATE and found the rows as planned,
    // so nothing else can move them and the row counts need no checking.
    // A block comment could be left open at the end and swallow what
    // follows, so SQL with one takes the general path.
    if d == Dialect::Sqlite && !sql.is_some_and(|s| s.contains("/*")) {
        let sql: &str = sql.map_or("", |s| s);
        let mut script = String::with_capacity(sql.len() + 600);
        script.push_str(sql);
        script.push_str("\n;\n");
        // Finished when the INSERT runs, after the revision's statements.
        let finished = "strftime('%Y-%m-%d %H:%M:%f', 'now')";
        crate::offline::write_bookkeeping(&mut script, plan, step, d, tables, (started_at, finished), digest);
        return db.script(&Text::Owned(script)).await.map_err(StepError::Sql);
    }
    if let Some(sql) = sql.filter(|s| !crate::normalize(s).is_empty()) {
        db.script(sql).await.map_err(StepError::Sql)?;
    }
    move_rows(db, tables, plan, step).await?;
    log_row(db, tables, plan, step, started_at, None, digest)
        .await
        .map_err(StepError::Bookkeeping)
}
