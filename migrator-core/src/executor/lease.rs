//! The `table` lock strategy at run time: a lease row (see
//! [`crate::lease`]) taken with short autocommitted statements, renewed by
//! a heartbeat on a connection of its own while the run lasts, checked and
//! extended inside every revision's transaction just before it commits
//! (so a runner whose lease was taken over can never commit), and deleted
//! at the end. A holder that dies stops renewing; its lease expires and
//! the next runner deletes it and goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::db::{Db, Value};
use super::error::{Context, Error};
use super::retry::{RETRIES, retryable};
use crate::bookkeeping::Tables;
use crate::lease::{LeaseSql, lease_name};
use crate::{DatabaseUrl, now_utc};

/// A lease this run holds.
#[derive(Debug, Clone)]
pub(crate) struct Held(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    sql: LeaseSql,
    name: String,
    holder: String,
    lease_ms: i64,
    /// Set by the heartbeat when a renewal found the row gone or another
    /// holder's: the run must not commit anything more.
    lost: AtomicBool,
}

/// The heartbeat task; stopped when dropped.
#[derive(Debug)]
pub(crate) struct Heartbeat(tokio::task::JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Who this run is, as the lock table shows it: host, process, and a
/// nonce that tells two runs of one process apart.
fn holder() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|| "unknown-host".to_owned());
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut who = format!("{host} pid {} #{nonce:08x}", std::process::id());
    who.truncate(250);
    who
}

/// Runs one lease statement (autocommitted), trying again after a
/// serialization failure.
/// (A loop rather than `retrying`: the heartbeat's task must be `Send`,
/// which an async closure borrowing here cannot yet prove.)
async fn exec(db: &mut Db, sql: &str, args: &[Value<'_>]) -> Result<u64, sqlx::Error> {
    let mut tries = 0;
    loop {
        match db.exec(sql, args).await {
            Err(e) if retryable(&e) && tries < RETRIES => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(10 << tries)).await;
            }
            other => return other,
        }
    }
}

/// Takes the lease on `tables`' version table, waiting at most `timeout`
/// for another holder's to be released or to expire.
pub(crate) async fn acquire(db: &mut Db, tables: &Tables, lease: Duration, timeout: Duration) -> Result<Held, Error> {
    let d = db.dialect();
    let sql = LeaseSql::new(tables, d);
    // Two runners creating the table at once can collide (PostgreSQL's
    // catalog); the second try finds it.
    if let Err(e) = db.exec(&sql.create, &[]).await {
        tokio::time::sleep(Duration::from_millis(50)).await;
        db.exec(&sql.create, &[])
            .await
            .map_err(|_| e)
            .context(|| format!("cannot create the lock table {}", crate::lease::LOCK_TABLE))?;
    }
    let inner = Inner {
        name: lease_name(tables),
        holder: holder(),
        lease_ms: i64::try_from(lease.as_millis()).unwrap_or(i64::MAX).max(1000),
        lost: AtomicBool::new(false),
        sql,
    };
    let started = Instant::now();
    let mut wait = Duration::from_millis(20);
    loop {
        exec(db, &inner.sql.clear_expired, &[Value::Text(&inner.name)])
            .await
            .context(|| "cannot clear an expired migration lease".to_owned())?;
        let acquired_at = now_utc();
        let taken = exec(
            db,
            &inner.sql.take,
            &[
                Value::Text(&inner.name),
                Value::Text(&inner.holder),
                Value::Text(&acquired_at),
                Value::OptInt(Some(inner.lease_ms)),
            ],
        )
        .await
        .context(|| "cannot take the migration lease".to_owned())?;
        if taken == 1 {
            return Ok(Held(Arc::new(inner)));
        }
        if started.elapsed() >= timeout {
            return Err(held_by_other(db, &inner, timeout).await);
        }
        tokio::time::sleep(wait.min(timeout.saturating_sub(started.elapsed()))).await;
        wait = (wait * 2).min(Duration::from_secs(1));
    }
}

/// The timeout error, naming the lease's holder where it can be read.
async fn held_by_other(db: &mut Db, inner: &Inner, waited: Duration) -> Error {
    let row = db.rows(&inner.sql.holder, &[Value::Text(&inner.name)]).await.ok();
    let row = row.and_then(|rows| rows.into_iter().next());
    match row {
        Some(r) => {
            let at = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
            let left_ms: i64 = at(2).trim().parse().unwrap_or(0);
            Error::Lock(format!(
                "another migrator held the migration lease for {waited:?}: {} since {} (it expires in {} s unless \
                 renewed); wait for it to finish or raise --lock-timeout; a holder that died releases it when the \
                 lease runs out (--lock-lease)",
                at(0),
                at(1),
                (left_ms.max(0) + 999) / 1000
            ))
        }
        None => Error::LockTimeout { waited },
    }
}

impl Held {
    /// Starts renewing the lease every third of its length on a
    /// connection of its own to `url`. Renewals that fail (a connection
    /// lost, a database busy) are tried again at the next beat; one that
    /// finds the lease gone marks it lost.
    pub(crate) async fn heartbeat(&self, url: &DatabaseUrl) -> Option<Heartbeat> {
        let mut db = Db::connect(url, Duration::from_millis(500)).await?.ok()?;
        let held = self.clone();
        let every = Duration::from_millis(u64::try_from(self.0.lease_ms / 3).unwrap_or(1000).max(300));
        Some(Heartbeat(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match held.renew(&mut db).await {
                    Ok(true) => {}
                    Ok(false) => {
                        held.0.lost.store(true, Ordering::SeqCst);
                        return;
                    }
                    Err(_) => {}
                }
            }
        })))
    }

    /// Extends the lease; `false` when this run no longer holds it.
    async fn renew(&self, db: &mut Db) -> Result<bool, sqlx::Error> {
        let i = &self.0;
        let n = exec(
            db,
            &i.sql.renew,
            &[
                Value::OptInt(Some(i.lease_ms)),
                Value::Text(&i.name),
                Value::Text(&i.holder),
            ],
        )
        .await?;
        Ok(n == 1)
    }

    /// Renews the lease on the working connection (inside the revision's
    /// transaction when one is open), or says that it was lost.
    pub(crate) async fn check(&self, db: &mut Db, before: &str) -> Result<(), Error> {
        let lost = || {
            Error::Lock(format!(
                "the migration lease expired and another runner took it before {before}, so nothing of it was \
                 kept; the run stopped. Raise --lock-lease above the longest revision's time (renewals may not \
                 reach the database), then run the command again"
            ))
        };
        if self.0.lost.load(Ordering::SeqCst) {
            return Err(lost());
        }
        match self.renew(db).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(lost()),
            Err(cause) => Err(Error::Database {
                context: format!("cannot renew the migration lease before {before}"),
                cause,
            }),
        }
    }

    /// Deletes the lease if this run still holds it.
    pub(crate) async fn release(&self, db: &mut Db) {
        let i = &self.0;
        let _ = exec(db, &i.sql.release, &[Value::Text(&i.name), Value::Text(&i.holder)]).await;
    }
}
