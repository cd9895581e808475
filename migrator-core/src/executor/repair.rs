//! `stamp` and `repair`: the commands that move the bookkeeping without
//! running a revision's SQL (or that record what a person did by hand).

use std::time::Duration;

use super::connected::Connected;
use super::db::Db;
use super::error::{Context, Error};
use super::report::{Repair, Report, StepReport, ids, planned};
use super::state;
use super::step::{self as run, StepError, values};
use crate::bookkeeping::{LogRow, Tables};
use crate::{Direction, Operation, Plan, Step, StepKind, VerifyError, VersionRows, now_utc};

impl<'m> Connected<'m> {
    /// Moves the version rows to `targets` without running any SQL
    /// (Alembic's `stamp`); with `purge`, every row is deleted first.
    pub async fn stamp(&mut self, targets: &[&str], purge: bool) -> Result<Report, Error> {
        self.writable("stamp")?;
        self.with_lock(async |c| {
            c.ensure_tables().await?;
            c.stamp_locked(targets, purge).await
        })
        .await
    }

    async fn stamp_locked(&mut self, targets: &[&str], purge: bool) -> Result<Report, Error> {
        // `--purge` is for a state the graph cannot explain (rows of
        // revisions this binary does not have, a renamed revision): every
        // row goes, and what the log says of revisions unknown here is
        // closed with a stamp row, so that later runs do not find them.
        let (current, forgotten) = if purge {
            let rows = state::read_rows(&mut self.db, &self.tables).await?;
            let recorded = state::read_recorded(&mut self.db, &self.tables).await?;
            let mut forgotten: Vec<String> = rows
                .into_iter()
                .chain(recorded.iter().filter(|(_, r)| r.applies()).map(|(id, _)| id.clone()))
                .filter(|id| self.graph.index_of(id).is_none())
                .collect();
            forgotten.sort();
            forgotten.dedup();
            (Vec::new(), forgotten)
        } else {
            (self.checked_rows(true).await?.0, Vec::new())
        };
        let graph = &self.graph;
        let plan = graph.plan_stamp(&current, targets, purge)?;
        let d = self.db.dialect();
        self.db
            .begin()
            .await
            .context(|| "cannot start the stamp transaction".to_owned())?;
        let result = async {
            if purge {
                let sql = format!("DELETE FROM {}", self.tables.version_table(d));
                self.db.exec(&sql, &[]).await.map_err(StepError::Bookkeeping)?;
            }
            let started_at = now_utc();
            for id in &forgotten {
                purge_row(&mut self.db, &self.tables, id, &started_at)
                    .await
                    .map_err(StepError::Bookkeeping)?;
            }
            for step in &plan.steps {
                run::move_rows(&mut self.db, &self.tables, &plan, step).await?;
                // A stamp records no checksum: the next run reads the whole log.
                run::log_row(&mut self.db, &self.tables, &plan, step, &started_at, None, None)
                    .await
                    .map_err(StepError::Bookkeeping)?;
            }
            Ok(())
        }
        .await;
        finish_bookkeeping(&mut self.db, result, "stamp").await?;
        let applied = planned(&plan);
        Ok(Report {
            applied,
            current: ids(graph, plan.after.iter()),
        })
    }

    /// Resolves a revision that failed partway (or was interrupted) in an
    /// earlier run: records it as applied (its rows move as if it had
    /// finished) or as rolled back, with a `repair` row in the log.
    /// `revision` may be omitted when exactly one revision needs repair.
    pub async fn repair(&mut self, revision: Option<&str>, how: Repair) -> Result<Report, Error> {
        self.writable("repair")?;
        self.with_lock(async |c| {
            c.ensure_tables().await?;
            c.repair_locked(revision, how).await
        })
        .await
    }

    async fn repair_locked(&mut self, revision: Option<&str>, how: Repair) -> Result<Report, Error> {
        if how == Repair::AcceptChecksum {
            return self.accept_checksum(revision).await;
        }
        let unfinished = state::read_unfinished(&mut self.db, &self.tables).await?;
        let graph = &self.graph;
        let chosen = match revision {
            Some(ident) => {
                let id = match graph.resolve(ident).map_err(crate::PlanError::from)?.as_slice() {
                    [one] => graph.revision(*one).id.to_string(),
                    _ => ident.to_owned(),
                };
                unfinished.into_iter().find(|u| u.revision == id).ok_or_else(|| {
                    Error::NothingToRepair(format!(
                        "revision {id} did not fail partway, so there is nothing to repair; `migrator current` shows \
                         where the database is"
                    ))
                })?
            }
            None => match unfinished.as_slice() {
                [] => {
                    return Err(Error::NothingToRepair(
                        "nothing to repair: no revision failed partway".to_owned(),
                    ));
                }
                [one] => one.clone(),
                many => {
                    let list: Vec<&str> = many.iter().map(|u| u.revision.as_str()).collect();
                    return Err(Error::NothingToRepair(format!(
                        "several revisions need repair ({}); name one: `migrator repair <revision> --applied`",
                        list.join(", ")
                    )));
                }
            },
        };
        let Some(r) = graph.index_of(&chosen.revision) else {
            return Err(VerifyError::UnknownRevisions {
                revisions: chosen.revision.clone(),
                first: chosen.revision,
                renamed: String::new(),
            }
            .into());
        };
        let direction = chosen.operation.direction();
        let current = self.current_indices().await?;
        let graph = &self.graph;
        let (changes, rows) = match how {
            Repair::RolledBack | Repair::AcceptChecksum => (Vec::new(), VersionRows(current.clone())),
            Repair::Applied => graph.move_one(&current, r, direction, "repair")?,
        };
        let step = Step {
            revision: r,
            direction,
            kind: StepKind::Run,
            rows: changes,
        };
        let plan = Plan::single(graph, &current, step.clone(), rows.clone());
        let note = match how {
            Repair::Applied => format!("repaired: {} marked as applied", chosen.operation.name()),
            Repair::RolledBack | Repair::AcceptChecksum => {
                format!("repaired: {} marked as rolled back", chosen.operation.name())
            }
        };
        let d = self.db.dialect();
        self.db
            .begin()
            .await
            .context(|| "cannot start the repair transaction".to_owned())?;
        let result = async {
            run::move_rows(&mut self.db, &self.tables, &plan, &step).await?;
            let now = now_utc();
            let rev = graph.revision(r);
            let checksum = (how == Repair::Applied && direction == Direction::Up).then(|| rev.checksum(d).to_hex());
            repair_row(&mut self.db, &self.tables, &rev.id, checksum.as_deref(), &now, &note)
                .await
                .map_err(StepError::Bookkeeping)
        }
        .await;
        finish_bookkeeping(&mut self.db, result, "repair").await?;
        let rev = graph.revision(r);
        Ok(Report {
            applied: vec![StepReport {
                revision: rev.id.to_string(),
                message: rev.message.to_string(),
                direction,
                duration: Duration::ZERO,
                position: 1,
                total: 1,
                note: Some(note),
            }],
            current: ids(graph, rows.iter()),
        })
    }

    /// Records the binary's checksum of `revision` as the applied one.
    async fn accept_checksum(&mut self, revision: Option<&str>) -> Result<Report, Error> {
        let Some(ident) = revision else {
            return Err(Error::NothingToRepair(
                "name the revision whose checksum to accept: `migrator repair <revision> --accept-checksum`".to_owned(),
            ));
        };
        let graph = &self.graph;
        let r = match graph.resolve(ident).map_err(crate::PlanError::from)?.as_slice() {
            [one] => *one,
            _ => return Err(Error::NothingToRepair(format!("`{ident}` does not name one revision"))),
        };
        let current = self.current_indices().await?;
        if !self.graph.ancestors(&current, true)[r] {
            return Err(Error::NothingToRepair(format!(
                "revision {} is not applied, so there is no checksum to accept",
                self.graph.revision(r).id
            )));
        }
        let recorded = state::read_recorded(&mut self.db, &self.tables).await?;
        let graph = &self.graph;
        let rev = graph.revision(r);
        let d = self.db.dialect();
        let checksum = rev.checksum(d).to_hex();
        let was = recorded
            .get(&*rev.id)
            .and_then(|x| x.checksum.clone())
            .unwrap_or_else(|| "none".to_owned());
        let note = format!("repaired: accepted checksum {checksum} (was {was})");
        let now = now_utc();
        repair_row(&mut self.db, &self.tables, &rev.id, Some(&checksum), &now, &note)
            .await
            .context(|| "cannot record the accepted checksum".to_owned())?;
        Ok(Report {
            applied: vec![StepReport {
                revision: rev.id.to_string(),
                message: rev.message.to_string(),
                direction: Direction::Up,
                duration: Duration::ZERO,
                position: 1,
                total: 1,
                note: Some(note),
            }],
            current: ids(graph, current.into_iter()),
        })
    }
}

/// Commits bookkeeping-only work, or rolls it back and says why.
async fn finish_bookkeeping(db: &mut Db, result: Result<(), StepError>, what: &str) -> Result<(), Error> {
    match result {
        Ok(()) => db.commit().await.context(|| format!("cannot commit the {what}")),
        Err(e) => {
            let _ = db.rollback().await;
            Err(match e {
                StepError::Rows(detail) => Error::Concurrent {
                    detail,
                    kept: format!("Nothing of the {what} was kept; run the command again"),
                },
                StepError::Sql(cause) | StepError::Partly(cause, _) | StepError::Bookkeeping(cause) => {
                    Error::Database {
                        context: format!("cannot {what} the version table"),
                        cause,
                    }
                }
            })
        }
    }
}

/// A `repair` row in the log: how a revision was resolved, with the
/// checksum it is now applied with, if any. (No applied digest: the next
/// upgrade or downgrade reads the whole log and writes it.)
async fn repair_row(
    db: &mut Db,
    tables: &Tables,
    revision: &str,
    checksum: Option<&str>,
    now: &str,
    note: &str,
) -> Result<(), sqlx::Error> {
    note_row(db, tables, Operation::Repair, revision, checksum, now, note).await
}

/// A `stamp` row for a revision this binary does not know, written by
/// `stamp --purge`: the log no longer counts it as applied.
async fn purge_row(db: &mut Db, tables: &Tables, revision: &str, now: &str) -> Result<(), sqlx::Error> {
    note_row(
        db,
        tables,
        Operation::Stamp,
        revision,
        None,
        now,
        "purged: not in this binary",
    )
    .await
}

/// A finished, successful log row that records a decision rather than SQL
/// that ran, with `note` in its error column.
async fn note_row(
    db: &mut Db,
    tables: &Tables,
    operation: Operation,
    revision: &str,
    checksum: Option<&str>,
    now: &str,
    note: &str,
) -> Result<(), sqlx::Error> {
    let row = LogRow {
        revision: revision.to_owned(),
        operation,
        checksum: checksum.map(str::to_owned),
        started_at: now.to_owned(),
        finished_at: Some(now.to_owned()),
        success: true,
        error: Some(note.to_owned()),
        statements_done: None,
        applied_digest: None,
    };
    db.exec(&tables.insert_log(db.dialect()), &values(&row)).await.map(drop)
}
