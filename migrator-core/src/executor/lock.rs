//! Serialising concurrent runners: PostgreSQL advisory locks and MySQL
//! `GET_LOCK` on the working connection, and on a SQLite file an exclusive `flock`
//! on a lock file beside it (`<database>-migrator-lock`), held for the
//! whole run so that `transaction:false` sections, which run outside any
//! transaction, are serialised too. The operating system releases every
//! one of them when the process dies. SQLite steps also still run under
//! `BEGIN IMMEDIATE` and re-check the version rows (see `run`), which is
//! what protects `--no-lock` runs.

use std::time::{Duration, Instant};

use super::db::{Access, Db, Value};
use super::error::{Context, Error};
use crate::bookkeeping::Tables;
use crate::{DatabaseUrl, Dialect, SqliteTarget};

/// A held lock; released by [`Lock::release`], and by the server when the
/// connection holding it closes (which covers errors and cancellation).
#[derive(Debug)]
pub(crate) enum Lock {
    /// Nothing held (SQLite, or `--no-lock`).
    None,
    /// A PostgreSQL session advisory lock on the working connection.
    Postgres(i64),
    /// A MySQL named lock on the main connection.
    Mysql(String),
    /// An exclusive `flock` on the lock file beside a SQLite database;
    /// closing the file releases it.
    Sqlite(std::fs::File),
}

/// The lock file of a SQLite database file: beside it, like its
/// `-journal` and `-wal` files, and never deleted (deleting a lock file
/// races with a runner about to take it).
pub(crate) fn sqlite_lock_path(database: &std::path::Path) -> std::path::PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-migrator-lock");
    std::path::PathBuf::from(name)
}

/// Takes the `flock` on a SQLite database's lock file, polling until
/// `timeout`. A reader that must not create anything goes without the
/// lock when the file does not exist yet (no runner has ever held it).
async fn sqlite_lock(database: &std::path::Path, timeout: Duration, access: Access) -> Result<Lock, Error> {
    let path = sqlite_lock_path(database);
    let opened = match access {
        Access::ReadWrite => std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path),
        Access::ReadOnly => match std::fs::File::open(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lock::None),
            other => other,
        },
    };
    let file = opened.map_err(|e| {
        Error::Lock(format!(
            "cannot open the migration lock file {}: {e}; the directory of the database must be writable \
             (or run with --no-lock, which gives up serialising concurrent runners)",
            path.display()
        ))
    })?;
    let started = Instant::now();
    let mut wait = Duration::from_millis(10);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Lock::Sqlite(file)),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::Lock(format!(
                    "cannot lock the migration lock file {}: {e}; run with --no-lock on a file system \
                     without locks",
                    path.display()
                )));
            }
        }
        if started.elapsed() >= timeout {
            return Err(Error::LockTimeout { waited: timeout });
        }
        tokio::time::sleep(wait.min(timeout.saturating_sub(started.elapsed()))).await;
        wait = (wait * 2).min(Duration::from_millis(250));
    }
}

/// Takes the lock for `tables` on `db`'s database, waiting at most
/// `timeout`.
pub(crate) async fn acquire(
    url: &DatabaseUrl,
    db: &mut Db,
    tables: &Tables,
    timeout: Duration,
    access: Access,
) -> Result<Lock, Error> {
    match db.dialect() {
        Dialect::Sqlite => match url.sqlite_target() {
            Some(SqliteTarget::File(path)) => sqlite_lock(path, timeout, access).await,
            // An in-memory database has one connection: nothing to serialise.
            _ => Ok(Lock::None),
        },
        // On the working connection itself: if that connection is lost,
        // the lock goes with it and so does the work, so no runner can go
        // on without the lock while another takes it.
        Dialect::Postgres => {
            let key = tables.lock_key();
            let started = Instant::now();
            let mut wait = Duration::from_millis(20);
            loop {
                let got = db
                    .rows(
                        "SELECT CAST(pg_try_advisory_lock($1) AS TEXT)",
                        &[Value::OptInt(Some(key))],
                    )
                    .await
                    .context(|| "cannot take the migration lock (pg_try_advisory_lock)".to_owned())?;
                if got.first().and_then(|r| r.first()).and_then(|v| v.as_deref()) == Some("true") {
                    return Ok(Lock::Postgres(key));
                }
                if started.elapsed() >= timeout {
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
                // Not a usage error: the server failed (it was killed, or
                // ran out of memory), so the run failed (exit code 1).
                _ => Err(Error::Lock(
                    "GET_LOCK returned NULL: the server could not take the migration lock; check the server's \
                     log and run the command again"
                        .to_owned(),
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
            Lock::Sqlite(file) => {
                let _ = file.unlock();
            }
            Lock::Postgres(key) => {
                // A transaction left open by a failure would refuse the
                // unlock: end it first (a no-op otherwise). Should the
                // unlock still fail, closing the connection releases it.
                let _ = db.rollback().await;
                let _ = db
                    .rows(
                        "SELECT CAST(pg_advisory_unlock($1) AS TEXT)",
                        &[Value::OptInt(Some(key))],
                    )
                    .await;
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
