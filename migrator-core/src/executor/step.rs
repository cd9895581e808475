//! What every kind of step shares: why a step fails, the version-row
//! moves, and the log row it writes.

use super::db::{Db, Value};
use super::error::describe;
use crate::bookkeeping::{LogRow, TOOL_VERSION, Tables};
use crate::{Dialect, Digest, Plan, RevisionIndex, RowChange, Step, now_utc};

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

/// `true` when the dialect can roll DDL back.
pub(crate) fn transactional_ddl(dialect: Dialect) -> bool {
    dialect != Dialect::Mysql
}

/// Moves the version rows for `step`. Every statement must touch exactly
/// one row; anything else means another runner changed the table.
pub(crate) async fn move_rows(db: &mut Db, tables: &Tables, plan: &Plan<'_, '_>, step: &Step) -> Result<(), StepError> {
    let graph = plan.graph();
    let d = db.dialect();
    let id = |i: RevisionIndex| &*graph.revision(i).id;
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
pub(crate) fn values(row: &LogRow) -> [Value<'_>; 10] {
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
pub(crate) fn log_args(
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
