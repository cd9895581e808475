//! Statement-by-statement steps: MySQL's, and `transaction:false`
//! sections anywhere. The log row says the revision started and counts
//! the statements that completed, so that a failure or a crash leaves the
//! log telling exactly what took effect.

use super::db::{Db, Value};
use super::error::describe;
use super::retry::retrying;
use super::step::{StepError, log_args, move_rows, transactional_ddl, values};
use crate::bookkeeping::Tables;
use crate::{Body, Digest, Plan, Step, Text, now_utc, split_statements};

/// A step whose SQL cannot all be rolled back (MySQL, or a
/// `transaction:false` section): the log records it as started, then how
/// many statements completed; its rows and its outcome commit together at
/// the end. A transactional section beside a `transaction:false` one runs
/// as one transaction that also records its progress, so a crash leaves
/// the log telling exactly what took effect. A failure before anything
/// took effect is logged as rolled back and blocks nothing.
pub(super) async fn run_statements(
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
    // Bookkeeping only: tried again after a serialization failure.
    retrying(bookkeeping_cause, async || {
        let finish = async {
            db.begin().await.map_err(StepError::Bookkeeping)?;
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
    })
    .await
}

/// The database's error of a failed bookkeeping statement.
fn bookkeeping_cause(e: &StepError) -> Option<&sqlx::Error> {
    match e {
        StepError::Bookkeeping(e) => Some(e),
        _ => None,
    }
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
