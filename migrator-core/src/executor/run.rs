//! Executing a plan: transactions, statement-by-statement progress where
//! DDL cannot be rolled back, and the log.

use std::collections::BTreeSet;
use std::time::Instant;

use super::db::{Db, Value};
use super::error::{Context, Error, describe};
use super::report::{Applied, TransactionMode};
use crate::bookkeeping::{LogRow, TOOL_VERSION, Tables};
use crate::{
    Body, Dialect, Digest, Direction, Plan, RowChange, Step, Text, disables_foreign_keys, now_utc, split_statements,
};

/// What [`execute`] did.
#[derive(Debug, Default)]
pub(crate) struct Executed {
    /// The steps that committed, in order.
    pub applied: Vec<Applied>,
    /// `true` when, on SQLite, another runner moved the version rows
    /// before a step: the caller re-plans from the new rows.
    pub interrupted: bool,
}

/// Why a step failed.
pub(crate) enum StepError {
    /// The revision's SQL, with nothing of the revision kept.
    Sql(sqlx::Error),
    /// The revision's SQL, after this many of its statements took effect
    /// outside any transaction (at least one): the revision is recorded
    /// as failed there and needs `repair`.
    Partly(sqlx::Error, usize),
    /// A version-row statement touched the wrong number of rows.
    Rows(String),
    /// Migrator's own statements.
    Bookkeeping(sqlx::Error),
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepError::Sql(e) | StepError::Partly(e, _) | StepError::Bookkeeping(e) => f.write_str(&describe(e)),
            StepError::Rows(d) => f.write_str(d),
        }
    }
}

/// Above this size (bytes) a SQLite section runs in chunks of whole
/// statements of about [`SQLITE_CHUNK`] bytes (see `run_transactional`):
/// small enough that SQLite's copying stays cheap, large enough that the
/// calls into the driver are few.
const LARGE_SQLITE_SECTION: usize = 64 * 1024;
const SQLITE_CHUNK: usize = 4 * 1024;

/// `sql` as scripts of whole statements, each about `size` bytes or one
/// longer statement, cut from the text as written (comments inside a
/// statement stay with it).
fn chunks(sql: &str, dialect: Dialect, size: usize) -> Vec<String> {
    let offset = |s: &str| s.as_ptr() as usize - sql.as_ptr() as usize;
    let mut out = Vec::new();
    let mut from: Option<usize> = None;
    for statement in split_statements(sql, dialect) {
        let start = offset(statement.sql);
        let end = start + statement.sql.len();
        let begin = *from.get_or_insert(start);
        if end - begin >= size {
            out.push(format!("{}\n;", &sql[begin..end]));
            from = None;
        }
    }
    if let Some(begin) = from {
        out.push(format!("{}\n;", sql[begin..].trim_end()));
    }
    out
}

/// `true` when the dialect can roll DDL back.
fn transactional_ddl(dialect: Dialect) -> bool {
    dialect != Dialect::Mysql
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
    tables: &Tables,
    mode: TransactionMode,
    plan: &Plan<'_, '_>,
    mut digest: Option<Digest>,
    on_step: &mut dyn FnMut(&Applied),
) -> Result<Executed, Error> {
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
            if let Err(e) = commit_checked(db, &mut fk_off, plan, step).await {
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
        let result = if transactional {
            let sql = body.only_transactional().map(|s| &s.sql);
            run_transactional(db, tables, plan, step, sql, &started_at, after).await
        } else {
            run_statements(db, tables, plan, step, body, &started_at, after).await
        };
        match result {
            Ok(()) => {
                if !in_batch && transactional {
                    commit_checked(db, &mut fk_off, plan, step).await?;
                } else if !transactional {
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
        done.applied.push(Applied {
            revision: rev.id.to_string(),
            message: rev.message.to_string(),
            direction: step.direction,
            duration: started.elapsed(),
            position: n + 1,
            total: plan.steps.len(),
        });
        if !in_batch {
            flush(&done.applied, committed, &mut reported, on_step);
        }
    }
    if in_batch && let Some(last) = plan.steps.last() {
        commit_checked(db, &mut fk_off, plan, last).await?;
    }
    flush(&done.applied, plan.steps.len(), &mut reported, on_step);
    Ok(done)
}

/// Foreign keys switched off on a SQLite connection, outside any
/// transaction, for a step that holds `PRAGMA foreign_keys = OFF` (see
/// `pragma`), and whether to switch them on again afterwards.
#[derive(Debug)]
struct ForeignKeysOff {
    were_on: bool,
}

impl ForeignKeysOff {
    async fn switch(db: &mut Db) -> Result<ForeignKeysOff, Error> {
        let were_on = db
            .strings("PRAGMA foreign_keys")
            .await
            .context(|| "cannot read PRAGMA foreign_keys".to_owned())?
            .first()
            .is_some_and(|v| v == "1");
        db.script(&Text::Borrowed("PRAGMA foreign_keys = OFF"))
            .await
            .context(|| "cannot switch foreign keys off".to_owned())?;
        Ok(ForeignKeysOff { were_on })
    }

    /// Switches them back, once the transaction is over. A failure here
    /// is harmless to the database: the connection closes after the run.
    async fn restore(db: &mut Db, fk: &mut Option<ForeignKeysOff>) {
        if let Some(ForeignKeysOff { were_on: true }) = fk.take() {
            let _ = db.script(&Text::Borrowed("PRAGMA foreign_keys = ON")).await;
        }
    }
}

/// Commits the open transaction; when it ran with foreign keys off, first
/// checks that no row breaks them (rolling back if one does), and switches
/// them on again afterwards.
async fn commit_checked(
    db: &mut Db,
    fk_off: &mut Option<ForeignKeysOff>,
    plan: &Plan<'_, '_>,
    step: &Step,
) -> Result<(), Error> {
    let rev = plan.graph().revision(step.revision);
    if fk_off.is_some() {
        let violations = match db.rows("PRAGMA foreign_key_check", &[]).await {
            Ok(rows) => rows,
            Err(cause) => {
                let _ = db.rollback().await;
                ForeignKeysOff::restore(db, fk_off).await;
                return Err(Error::Database {
                    context: format!("cannot check the foreign keys after revision {}", rev.id),
                    cause,
                });
            }
        };
        if !violations.is_empty() {
            let _ = db.rollback().await;
            ForeignKeysOff::restore(db, fk_off).await;
            let shown: Vec<String> = violations
                .iter()
                .take(5)
                .map(|r| {
                    let at = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
                    format!("{} row {} -> {}", at(0), at(1), at(2))
                })
                .collect();
            let more = violations.len().saturating_sub(shown.len());
            let mut list = shown.join(", ");
            if more > 0 {
                list.push_str(&format!(" and {more} more"));
            }
            return Err(Error::ForeignKeyViolations {
                revision: rev.id.to_string(),
                path: rev.path.to_string(),
                direction: step.direction.verb(),
                violations: list,
            });
        }
    }
    let committed = db
        .commit()
        .await
        .context(|| format!("cannot commit revision {}", rev.id));
    ForeignKeysOff::restore(db, fk_off).await;
    committed
}

/// Reports the committed steps not reported yet; `reported` counts those
/// already reported.
fn flush(applied: &[Applied], committed: usize, reported: &mut usize, on_step: &mut dyn FnMut(&Applied)) {
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
    let id = |i: usize| graph.revision(i).id.to_string();
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
    // A large SQLite section goes statement by statement: sqlx hands SQLite
    // the rest of the script without its terminator, so SQLite copies all
    // that is left before each statement, which grows with the square of
    // the section's length (60,000 statements: seconds instead of a
    // fraction of one). The splitter agrees with sqlite3 (see the corpus
    // test in tests/parity.rs).
    if let Some(sql) = sql.filter(|s| d == Dialect::Sqlite && s.len() > LARGE_SQLITE_SECTION) {
        for chunk in chunks(sql, d, SQLITE_CHUNK) {
            db.script(&Text::Owned(chunk)).await.map_err(StepError::Sql)?;
        }
        move_rows(db, tables, plan, step).await?;
        return log_row(db, tables, plan, step, started_at, None, digest)
            .await
            .map_err(StepError::Bookkeeping);
    }
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

/// A step whose SQL cannot all be rolled back (MySQL, or a
/// `transaction:false` section): the log records it as started, then how
/// many statements completed; its rows and its outcome commit together at
/// the end. A transactional section beside a `transaction:false` one runs
/// as one transaction that also records its progress, so a crash leaves
/// the log telling exactly what took effect. A failure before anything
/// took effect is logged as rolled back and blocks nothing.
async fn run_statements(
    db: &mut Db,
    tables: &Tables,
    plan: &Plan<'_, '_>,
    step: &Step,
    body: Body<'_>,
    started_at: &str,
    digest: Option<Digest>,
) -> Result<(), StepError> {
    let d = db.dialect();
    let total = body.statements(d).len();
    let log_id = db
        .insert_returning_id(
            &tables.insert_log(d),
            &values(&log_args(plan, step, d, started_at, None, Some(0), None)),
        )
        .await
        .map_err(StepError::Bookkeeping)?;
    let mut done = 0;
    for section in body.sections() {
        let statements = split_statements(&section.sql, d);
        if section.transactional && transactional_ddl(d) {
            let n = statements.len();
            let ran = async {
                db.begin().await?;
                db.script(&section.sql).await?;
                let progress = i64::try_from(done + n).unwrap_or(i64::MAX);
                db.exec(
                    &tables.log_progress(d),
                    &[Value::OptInt(Some(progress)), Value::OptInt(Some(log_id))],
                )
                .await?;
                db.commit().await
            }
            .await;
            if let Err(e) = ran {
                let _ = db.rollback().await;
                // Where it stopped is in the log's statements_done.
                let error = describe(&e);
                return Err(record_failure(db, tables, log_id, done, &error, e).await);
            }
            done += n;
            continue;
        }
        for statement in &statements {
            if let Err(e) = db.script(&Text::Owned(statement.sql.to_owned())).await {
                let error = describe(&e);
                return Err(record_failure(db, tables, log_id, done, &error, e).await);
            }
            done += 1;
            let progress = i64::try_from(done).unwrap_or(i64::MAX);
            db.exec(
                &tables.log_progress(d),
                &[Value::OptInt(Some(progress)), Value::OptInt(Some(log_id))],
            )
            .await
            .map_err(StepError::Bookkeeping)?;
        }
    }
    db.begin().await.map_err(StepError::Bookkeeping)?;
    let finish = async {
        move_rows(db, tables, plan, step).await?;
        let finished = now_utc();
        let n = i64::try_from(total).unwrap_or(i64::MAX);
        let digest = digest.map(|d| d.to_string());
        db.exec(
            &tables.log_finish(d),
            &[
                Value::Bool(true),
                Value::OptText(Some(&finished)),
                Value::OptText(None),
                Value::OptInt(Some(n)),
                Value::OptText(digest.as_deref()),
                Value::OptInt(Some(log_id)),
            ],
        )
        .await
        .map_err(StepError::Bookkeeping)?;
        db.commit().await.map_err(StepError::Bookkeeping)
    }
    .await;
    if finish.is_err() {
        let _ = db.rollback().await;
    }
    finish
}

/// Closes a started log row as failed. With `done` statements kept, the
/// row keeps that count (and blocks later runs until `repair`); with none,
/// the count is cleared, as for a rolled-back transaction, and nothing is
/// blocked.
async fn record_failure(
    db: &mut Db,
    tables: &Tables,
    log_id: i64,
    done: usize,
    error: &str,
    cause: sqlx::Error,
) -> StepError {
    let d = db.dialect();
    let finished = now_utc();
    let kept = (done > 0).then(|| i64::try_from(done).unwrap_or(i64::MAX));
    let _ = db
        .exec(
            &tables.log_finish(d),
            &[
                Value::Bool(false),
                Value::OptText(Some(&finished)),
                Value::OptText(Some(error)),
                Value::OptInt(kept),
                Value::OptText(None),
                Value::OptInt(Some(log_id)),
            ],
        )
        .await;
    if done > 0 {
        StepError::Partly(cause, done)
    } else {
        StepError::Sql(cause)
    }
}

/// Moves the version rows for `step`. Every statement must touch exactly
/// one row; anything else means another runner changed the table.
pub(crate) async fn move_rows(db: &mut Db, tables: &Tables, plan: &Plan<'_, '_>, step: &Step) -> Result<(), StepError> {
    let graph = plan.graph();
    let d = db.dialect();
    let id = |i: usize| &*graph.revision(i).id;
    for change in &step.rows {
        let (sql, args, what) = match *change {
            RowChange::Insert(r) => (
                tables.insert_version(d),
                vec![Value::Text(id(r))],
                format!("insert {}", id(r)),
            ),
            RowChange::Delete(r) => (
                tables.delete_version(d),
                vec![Value::Text(id(r))],
                format!("delete {}", id(r)),
            ),
            RowChange::Update { from, to } => (
                tables.update_version(d),
                vec![Value::Text(id(to)), Value::Text(id(from))],
                format!("update {} to {}", id(from), id(to)),
            ),
        };
        let affected = match db.exec(&sql, &args).await {
            Ok(n) => n,
            // A duplicate key on insert means another runner got there first.
            Err(sqlx::Error::Database(e)) if matches!(change, RowChange::Insert(_)) && e.is_unique_violation() => 0,
            Err(e) => return Err(StepError::Bookkeeping(e)),
        };
        if affected != 1 {
            return Err(StepError::Rows(format!(
                "expected to {what}, but {affected} rows matched"
            )));
        }
    }
    Ok(())
}

/// A log row's values, bound in [`crate::bookkeeping::LOG_COLUMNS`] order.
fn values(row: &LogRow) -> [Value<'_>; 10] {
    [
        Value::Text(&row.revision),
        Value::Text(row.operation.name()),
        Value::OptText(row.checksum.as_deref()),
        Value::Text(&row.started_at),
        Value::OptText(row.finished_at.as_deref()),
        Value::Bool(row.success),
        Value::OptText(row.error.as_deref()),
        Value::OptInt(row.statements_done),
        Value::Text(TOOL_VERSION),
        Value::OptText(row.applied_digest.as_deref()),
    ]
}

/// A log row for `step`: finished now with `error` (or success), or, with
/// `statements_done`, started and not finished.
fn log_args(
    plan: &Plan<'_, '_>,
    step: &Step,
    d: Dialect,
    started_at: &str,
    error: Option<&str>,
    statements_done: Option<i64>,
    digest: Option<Digest>,
) -> LogRow {
    let started_only = statements_done.is_some();
    LogRow {
        finished_at: (!started_only).then(now_utc),
        success: error.is_none() && !started_only,
        error: error.map(str::to_owned),
        statements_done,
        applied_digest: digest.map(|d| d.to_string()),
        ..LogRow::for_step(plan, step, d, started_at)
    }
}

/// Inserts a finished log row for `step`.
pub(crate) async fn log_row(
    db: &mut Db,
    tables: &Tables,
    plan: &Plan<'_, '_>,
    step: &Step,
    started_at: &str,
    error: Option<&str>,
    digest: Option<Digest>,
) -> Result<(), sqlx::Error> {
    let d = db.dialect();
    let row = log_args(plan, step, d, started_at, error, None, digest);
    db.exec(&tables.insert_log(d), &values(&row)).await.map(drop)
}

/// `true` when the database refused to create something that exists
/// (SQLite and PostgreSQL say "already exists", MySQL error 1050 too).
fn already_exists(e: &StepError) -> bool {
    match e {
        StepError::Sql(sqlx::Error::Database(db)) | StepError::Partly(sqlx::Error::Database(db), _) => {
            db.message().contains("already exists")
        }
        _ => false,
    }
}

/// The error for a failed step, saying where the database stands.
fn failure(
    plan: &Plan<'_, '_>,
    step: &Step,
    e: StepError,
    committed: usize,
    transactional: bool,
    mode: TransactionMode,
) -> Error {
    let graph = plan.graph();
    let rev = graph.revision(step.revision);
    let kept: Vec<&str> = plan.steps[..committed]
        .iter()
        .map(|s| &*graph.revision(s.revision).id)
        .collect();
    // Statements of this revision that took effect and stay.
    let partly = match &e {
        StepError::Partly(_, done) => Some(*done),
        _ => None,
    };
    let mut state = String::new();
    match partly {
        None => {
            state.push_str("Nothing of it was kept");
            if transactional && mode == TransactionMode::All && committed == 0 {
                state.push_str(" (transaction mode `all`: the whole run was rolled back)");
            }
        }
        Some(done) => {
            let which = if done == 1 {
                "Its first statement".to_owned()
            } else {
                format!("Its first {done} statements")
            };
            state.push_str(&format!(
                "{which} took effect and could not be rolled back; it is recorded as failed. \
                 Undo or finish them by hand, then run `migrator repair {} --rolled-back` (undone) or `migrator \
                 repair {} --applied` (finished)",
                rev.id, rev.id
            ));
        }
    }
    if kept.is_empty() {
        state.push_str(". No revision was applied in this run.");
    } else {
        state.push_str(&format!(". Applied before it and kept: {}.", kept.join(", ")));
    }
    if partly.is_none() {
        state.push_str(" Fix the SQL in the file and run the command again.");
    }
    if step.direction == Direction::Up && already_exists(&e) {
        state.push_str(&format!(
            " If the database already has what this revision creates (built by hand or by another tool), record \
             that without running its SQL: `migrator stamp {}`.",
            rev.id
        ));
    }
    match e {
        StepError::Sql(cause) | StepError::Partly(cause, _) => Error::Failed {
            revision: rev.id.to_string(),
            path: rev.path.to_string(),
            direction: step.direction.verb(),
            cause,
            state,
        },
        StepError::Rows(detail) => Error::Concurrent {
            detail,
            // Statement by statement, its SQL ran before the rows were
            // found moved: that stays, and the log says so.
            kept: if transactional {
                format!("Nothing of revision {} was kept; run the command again", rev.id)
            } else {
                format!(
                    "Its statements ran and stay, but it is not recorded as applied; check where the database \
                     stands, then run `migrator repair {} --applied` (or undo them and `--rolled-back`)",
                    rev.id
                )
            },
        },
        StepError::Bookkeeping(cause) => Error::Database {
            context: format!("cannot record revision {} in the version table", rev.id),
            cause,
        },
    }
}
