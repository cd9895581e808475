//! The error of a failed step: what failed, what of it took effect, what
//! was applied before it, and the way out.

use super::error::Error;
use super::report::TransactionMode;
use super::step::StepError;
use crate::{Direction, Plan, Step};

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

/// `true` when a statement gave up waiting for a lock (PostgreSQL's
/// `lock_timeout`, 55P03; MySQL's `lock_wait_timeout`, 1205).
fn lock_timed_out(e: &StepError) -> bool {
    match e {
        StepError::Sql(sqlx::Error::Database(db)) | StepError::Partly(sqlx::Error::Database(db), _) => {
            matches!(db.code().as_deref(), Some("55P03" | "HY000" | "1205"))
                && (db.message().contains("lock timeout") || db.message().contains("Lock wait timeout"))
        }
        _ => false,
    }
}

/// `true` when the server cancelled a statement that ran too long
/// (PostgreSQL's `statement_timeout`, 57014; MariaDB's
/// `max_statement_time`, 1969).
fn statement_timed_out(e: &StepError) -> bool {
    match e {
        StepError::Sql(sqlx::Error::Database(db)) | StepError::Partly(sqlx::Error::Database(db), _) => {
            (db.code().as_deref() == Some("57014") && db.message().contains("statement timeout"))
                || db.message().contains("max_statement_time exceeded")
        }
        _ => false,
    }
}

/// The error for a failed step, saying where the database stands.
pub(super) fn failure(
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
    if lock_timed_out(&e) {
        state.push_str(
            " Another session held a lock on what this revision changes for longer than the lock timeout allows \
             (the revision's `Lock Timeout` header, else --ddl-lock-timeout): run the command again when that \
             session has finished, or raise the timeout.",
        );
    }
    if statement_timed_out(&e) {
        state.push_str(
            " A statement ran longer than the statement timeout (the revision's `Statement Timeout` header, else \
             --statement-timeout) and the server cancelled it: raise the timeout for this revision in its header \
             (`-- Statement Timeout: 30min`), or make the statement cheaper.",
        );
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
