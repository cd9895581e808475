//! What the database says about itself: its version rows, and revisions
//! left failed partway by an earlier run.

use std::collections::HashMap;

use super::db::Db;
use super::error::{Context, Error};
use crate::bookkeeping::Tables;

/// A revision whose last run stopped partway: recorded as failed at a
/// statement, or started and never finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unfinished {
    pub revision: String,
    pub operation: String,
    /// Statements that completed.
    pub statements_done: Option<usize>,
    pub error: Option<String>,
    /// `false` when the run died without recording an outcome.
    pub finished: bool,
}

/// The version rows in table order; empty when there is no version table.
pub(crate) async fn read_rows(db: &mut Db, tables: &Tables) -> Result<Vec<String>, Error> {
    let dialect = db.dialect();
    match db.strings(&tables.select_versions(dialect)).await {
        Ok(rows) => Ok(rows),
        Err(e) => match db.table_exists(&tables.version, tables.schema.as_deref()).await {
            Ok(false) => Ok(Vec::new()),
            _ => Err(e).context(|| format!("cannot read the version table {}", tables.version)),
        },
    }
}

/// Revisions left unfinished; empty when there is no log table.
pub(crate) async fn read_unfinished(db: &mut Db, tables: &Tables) -> Result<Vec<Unfinished>, Error> {
    let dialect = db.dialect();
    let rows = match db.rows(&tables.select_unfinished(dialect), &[]).await {
        Ok(rows) => rows,
        Err(e) => {
            return match db.table_exists(&tables.log, tables.schema.as_deref()).await {
                Ok(false) => Ok(Vec::new()),
                _ => Err(e).context(|| format!("cannot read the log table {}", tables.log)),
            };
        }
    };
    Ok(rows
        .into_iter()
        .map(|mut r| {
            r.resize(5, None);
            Unfinished {
                revision: r[0].take().unwrap_or_default(),
                operation: r[1].take().unwrap_or_default(),
                statements_done: r[2].as_deref().and_then(|s| s.parse().ok()),
                error: r[3].take(),
                finished: r[4].is_some(),
            }
        })
        .collect())
}

/// What the log last recorded for a revision that succeeded at something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub operation: String,
    /// The upgrade checksum, for upgrades and repairs that record one.
    pub checksum: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

impl Recorded {
    /// `true` when this entry leaves the revision applied.
    pub fn applies(&self) -> bool {
        self.operation == "upgrade" || (self.operation == "repair" && self.checksum.is_some())
    }
}

/// The latest successful log entry of each revision; empty when there is
/// no log table.
pub(crate) async fn read_recorded(db: &mut Db, tables: &Tables) -> Result<HashMap<String, Recorded>, Error> {
    let dialect = db.dialect();
    let rows = match db.rows(&tables.select_recorded(dialect), &[]).await {
        Ok(rows) => rows,
        Err(e) => {
            return match db.table_exists(&tables.log, tables.schema.as_deref()).await {
                Ok(false) => Ok(HashMap::new()),
                _ => Err(e).context(|| format!("cannot read the log table {}", tables.log)),
            };
        }
    };
    Ok(rows
        .into_iter()
        .map(|mut r| {
            r.resize(5, None);
            let revision = r[0].take().unwrap_or_default();
            let rec = Recorded {
                operation: r[1].take().unwrap_or_default(),
                checksum: r[2].take(),
                started_at: r[3].take(),
                finished_at: r[4].take(),
            };
            (revision, rec)
        })
        .collect())
}
