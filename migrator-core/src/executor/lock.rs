//! Serialising concurrent runners: PostgreSQL advisory locks on a dedicated
//! connection, MySQL `GET_LOCK`. SQLite has no lock to take: every step
//! runs under `BEGIN IMMEDIATE` and re-checks the version rows first (see
//! `run`).

use std::time::{Duration, Instant};

use super::db::{Db, Value};
use super::error::{Context, Error};
use crate::bookkeeping::Tables;
use crate::{DatabaseUrl, Dialect};

/// A held lock; released by [`Lock::release`], and by the server when the
/// connection holding it closes (which covers errors and cancellation).
#[derive(Debug)]
pub(crate) enum Lock {
    /// Nothing held (SQLite, or `--no-lock`).
    None,
    /// A PostgreSQL session advisory lock on its own connection.
    Postgres(Db, i64),
    /// A MySQL named lock on the main connection.
    Mysql(String),
}

/// Takes the lock for `tables` on `db`'s database, waiting at most
/// `timeout`.
pub(crate) async fn acquire(url: &DatabaseUrl, db: &mut Db, tables: &Tables, timeout: Duration) -> Result<Lock, Error> {
    match db.dialect() {
        Dialect::Sqlite => Ok(Lock::None),
        Dialect::Postgres => {
            let Some(connected) = Db::connect(url, timeout).await else {
                return Ok(Lock::None);
            };
            let mut conn = connected.map_err(|cause| Error::Connect {
                url: url.to_string(),
                cause,
            })?;
            let key = tables.lock_key();
            let started = Instant::now();
            let mut wait = Duration::from_millis(20);
            loop {
                let got = conn
                    .rows(
                        "SELECT CAST(pg_try_advisory_lock($1) AS TEXT)",
                        &[Value::OptInt(Some(key))],
                    )
                    .await
                    .context(|| "cannot take the migration lock (pg_try_advisory_lock)".to_owned())?;
                if got.first().and_then(|r| r.first()).and_then(|v| v.as_deref()) == Some("true") {
                    return Ok(Lock::Postgres(conn, key));
                }
                if started.elapsed() >= timeout {
                    conn.close().await;
                    return Err(Error::LockTimeout { waited: timeout });
                }
                tokio::time::sleep(wait.min(timeout.saturating_sub(started.elapsed()))).await;
                wait = (wait * 2).min(Duration::from_secs(1));
            }
        }
        Dialect::Mysql => {
            let key = format!("migrator_{:016x}", tables.lock_key());
            let secs = i64::try_from(timeout.as_secs().max(1)).unwrap_or(i64::MAX);
            let got = db
                .rows(
                    "SELECT CAST(GET_LOCK(CONCAT(?, '_', LEFT(MD5(DATABASE()), 16)), ?) AS CHAR)",
                    &[Value::Text(&key), Value::OptInt(Some(secs))],
                )
                .await
                .context(|| "cannot take the migration lock (GET_LOCK)".to_owned())?;
            match got.first().and_then(|r| r.first()).and_then(|v| v.as_deref()) {
                Some("1") => Ok(Lock::Mysql(key)),
                Some("0") => Err(Error::LockTimeout { waited: timeout }),
                _ => Err(Error::Config(
                    "GET_LOCK returned NULL: the server could not take the migration lock".to_owned(),
                )),
            }
        }
    }
}

impl Lock {
    /// Releases the lock. Errors are ignored: closing the connection
    /// releases it anyway.
    pub(crate) async fn release(self, db: &mut Db) {
        match self {
            Lock::None => {}
            Lock::Postgres(mut conn, key) => {
                let _ = conn
                    .rows(
                        "SELECT CAST(pg_advisory_unlock($1) AS TEXT)",
                        &[Value::OptInt(Some(key))],
                    )
                    .await;
                conn.close().await;
            }
            Lock::Mysql(key) => {
                let _ = db
                    .rows(
                        "SELECT CAST(RELEASE_LOCK(CONCAT(?, '_', LEFT(MD5(DATABASE()), 16))) AS CHAR)",
                        &[Value::Text(&key)],
                    )
                    .await;
            }
        }
    }
}
