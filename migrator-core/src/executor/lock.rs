//! Serialising concurrent runners, by the strategy chosen
//! ([`LockStrategy`]). `advisory`: PostgreSQL advisory locks and MySQL
//! `GET_LOCK` on the working connection, and on a SQLite file an exclusive
//! `flock` on a lock file beside it (`<database>-migrator-lock`), held for
//! the whole run so that `transaction:false` sections, which run outside
//! any transaction, are serialised too; the server or the operating system
//! releases each when the process dies. `table`: a lease row (see
//! `lease`). SQLite steps also still run under `BEGIN IMMEDIATE` and
//! re-check the version rows (see `run`), which is what protects runs
//! without a lock.
//!
//! A [`Fence`] is what the executor checks before each revision commits:
//! that the lock is still this run's.

use std::time::{Duration, Instant};

use super::db::{Access, Db, Value};
use super::error::{Context, Error};
use super::lease::{Heartbeat, Held};
use crate::bookkeeping::Tables;
use crate::lease::{LockStrategy, is_cockroach};
use crate::{DatabaseUrl, Dialect, SqliteTarget, Text};

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
    /// A lease row, renewed by the heartbeat (when this run could open a
    /// connection of its own for it).
    Table(Held, Option<Heartbeat>),
}

/// How to tell, inside a revision's transaction, that the lock is still
/// this run's.
#[derive(Debug, Clone, Default)]
pub(crate) enum Fence {
    /// Nothing to check (no lock, SQLite's `flock`, MySQL's `GET_LOCK`,
    /// which live exactly as long as what holds them).
    #[default]
    None,
    /// PostgreSQL's advisory lock must be held by the server session that
    /// runs the transaction: behind a pooler in transaction mode it may
    /// not be (the session that took it went back to the pool).
    PostgresAdvisory(i64),
    /// The lease must still be this run's; checking renews it.
    Lease(Held),
}

/// The error when a pooler moved the work off the session that holds the
/// advisory lock: the marker PostgreSQL raises, and what it means.
pub(crate) const NOT_HELD_MARKER: &str = "migrator: the advisory lock is not held by this server session";

fn pooled_advice(before: &str) -> Error {
    Error::Lock(format!(
        "the migration lock (a PostgreSQL advisory lock) is not held by the server session that ran {before}: a          pooler in transaction mode (PgBouncer, RDS Proxy) hands each transaction to any server session, so          advisory locks cannot serialise runners through it. Nothing of {before} was kept. Run with --lock table \
         (config `lock = \"table\"`), or connect to the server directly"
    ))
}

impl Fence {
    /// Commits the open transaction, unless the lock is no longer this
    /// run's, in which case the transaction is rolled back and the error
    /// says why. `before` names what was about to commit.
    pub(crate) async fn commit(&self, db: &mut Db, before: &str) -> Result<(), Error> {
        match self {
            Fence::None => db.commit().await.context(|| format!("cannot commit {before}")),
            Fence::PostgresAdvisory(key) => {
                // In the same message as the COMMIT: no extra round trip.
                let sql = format!("{}\nCOMMIT", postgres_held_check(*key));
                match db.script(&Text::Owned(sql)).await {
                    Ok(()) => Ok(()),
                    Err(e) if e.to_string().contains(NOT_HELD_MARKER) => {
                        let _ = db.rollback().await;
                        Err(pooled_advice(before))
                    }
                    Err(e) => Err(e).context(|| format!("cannot commit {before}")),
                }
            }
            Fence::Lease(held) => {
                if let Err(e) = held.check(db, before).await {
                    let _ = db.rollback().await;
                    return Err(e);
                }
                db.commit().await.context(|| format!("cannot commit {before}"))
            }
        }
    }

    /// Checks the lock before `before` runs outside a transaction.
    pub(crate) async fn check(&self, db: &mut Db, before: &str) -> Result<(), Error> {
        match self {
            Fence::None => Ok(()),
            Fence::PostgresAdvisory(key) => match db.script(&Text::Owned(postgres_held_check(*key))).await {
                Ok(()) => Ok(()),
                Err(e) if e.to_string().contains(NOT_HELD_MARKER) => Err(pooled_advice(before)),
                Err(e) => Err(e).context(|| format!("cannot check the migration lock before {before}")),
            },
            Fence::Lease(held) => held.check(db, before).await,
        }
    }
}

/// A `DO` block that fails unless this server session holds the advisory
/// lock `key` (a bigint key is `classid` high, `objid` low, `objsubid` 1).
fn postgres_held_check(key: i64) -> String {
    let bits = key as u64;
    let (high, low) = (bits >> 32, bits & 0xffff_ffff);
    format!(
        "DO $migrator$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND \
         granted AND pid = pg_catalog.pg_backend_pid() AND classid = CAST({high} AS oid) AND objid = CAST({low} \
         AS oid) AND objsubid = 1) THEN RAISE EXCEPTION '{NOT_HELD_MARKER}'; END IF; END $migrator$;"
    )
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

/// What [`acquire`] needs to know.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LockSettings {
    pub strategy: LockStrategy,
    pub timeout: Duration,
    pub lease: Duration,
    pub access: Access,
}

/// Takes the lock for `tables` on `db`'s database, waiting at most
/// `settings.timeout`. `heartbeat_url`, where the run has one, is where
/// a lease's heartbeat connects.
pub(crate) async fn acquire(
    url: &DatabaseUrl,
    heartbeat_url: Option<&DatabaseUrl>,
    db: &mut Db,
    tables: &Tables,
    settings: LockSettings,
) -> Result<Lock, Error> {
    let timeout = settings.timeout;
    let in_memory = db.dialect() == Dialect::Sqlite && !matches!(url.sqlite_target(), Some(SqliteTarget::File(_)));
    match settings.strategy {
        LockStrategy::None => return Ok(Lock::None),
        // An in-memory database has one connection: nothing to serialise.
        _ if in_memory => return Ok(Lock::None),
        // A reader takes no lease: it would have to write one.
        LockStrategy::Table if settings.access == Access::ReadOnly => return Ok(Lock::None),
        LockStrategy::Table => return take_lease(heartbeat_url, db, tables, settings).await,
        LockStrategy::Advisory => {}
    }
    match db.dialect() {
        Dialect::Sqlite => match url.sqlite_target() {
            Some(SqliteTarget::File(path)) => sqlite_lock(path, timeout, settings.access).await,
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
                        "SELECT CAST(pg_try_advisory_lock($1) AS TEXT), version()",
                        &[Value::OptInt(Some(key))],
                    )
                    .await
                    .context(|| "cannot take the migration lock (pg_try_advisory_lock)".to_owned())?;
                let row = got.first();
                let cell = |i: usize| row.and_then(|r| r.get(i)).and_then(|v| v.as_deref());
                // CockroachDB's advisory lock always succeeds and locks
                // nothing: its runners share a lease instead.
                if cell(1).is_some_and(is_cockroach) {
                    return take_lease(heartbeat_url, db, tables, settings).await;
                }
                if cell(0) == Some("true") {
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

async fn take_lease(
    heartbeat_url: Option<&DatabaseUrl>,
    db: &mut Db,
    tables: &Tables,
    settings: LockSettings,
) -> Result<Lock, Error> {
    let held = super::lease::acquire(db, tables, settings.lease, settings.timeout).await?;
    let heartbeat = match heartbeat_url {
        Some(url) => held.heartbeat(url).await,
        None => None,
    };
    Ok(Lock::Table(held, heartbeat))
}

impl Lock {
    /// What the executor checks before each commit.
    pub(crate) fn fence(&self) -> Fence {
        match self {
            Lock::Postgres(key) => Fence::PostgresAdvisory(*key),
            Lock::Table(held, _) => Fence::Lease(held.clone()),
            Lock::None | Lock::Mysql(_) | Lock::Sqlite(_) => Fence::None,
        }
    }

    /// Releases the lock. Errors are ignored: closing the connection
    /// releases it anyway.
    pub(crate) async fn release(self, db: &mut Db) {
        match self {
            Lock::None => {}
            Lock::Table(held, heartbeat) => {
                drop(heartbeat);
                let _ = db.rollback().await;
                held.release(db).await;
            }
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
