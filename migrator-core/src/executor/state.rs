//! What the database says about itself: its version rows, and revisions
//! left failed partway by an earlier run.

use std::collections::HashMap;

use super::db::Db;
use super::error::{Context, Error};
use crate::bookkeeping::Tables;
use crate::{Operation, Recorded, Snapshot, Unfinished};

/// The log's operation column, or the error naming a value migrator never
/// writes (a loud failure, not a guess).
fn operation(value: Option<String>, tables: &Tables) -> Result<Operation, Error> {
    let text = value.unwrap_or_default();
    Operation::parse(&text).ok_or_else(|| {
        Error::Config(format!(
            "the log table {} holds the operation `{text}`, which migrator never writes; it was edited by hand",
            tables.log
        ))
    })
}

/// One read of the bookkeeping: version rows, unfinished revisions, and
/// the latest successful entry of each revision (empty where the tables do
/// not exist).
pub(crate) async fn read_snapshot(db: &mut Db, tables: &Tables) -> Result<Snapshot, Error> {
    Ok(Snapshot {
        rows: read_rows(db, tables).await?,
        unfinished: read_unfinished(db, tables).await?,
        recorded: read_recorded(db, tables).await?,
    })
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
    rows.into_iter()
        .map(|mut r| {
            r.resize(5, None);
            Ok(Unfinished {
                revision: r[0].take().unwrap_or_default(),
                operation: operation(r[1].take(), tables)?,
                statements_done: r[2].as_deref().and_then(|s| s.parse().ok()),
                error: r[3].take(),
                finished: r[4].is_some(),
            })
        })
        .collect()
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
    rows.into_iter()
        .map(|mut r| {
            r.resize(5, None);
            let revision = r[0].take().unwrap_or_default();
            let rec = Recorded {
                operation: operation(r[1].take(), tables)?,
                checksum: r[2].take(),
                started_at: r[3].take(),
                finished_at: r[4].take(),
            };
            Ok((revision, rec))
        })
        .collect()
}
