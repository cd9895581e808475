//! `--lock table`: a lease row instead of a session lock, on all three
//! databases, behind PgBouncer in transaction pooling mode, and after its
//! holder was killed.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tests::{Server, server_db};

use crate::processes::{all_at_once, counted_history, current, killed_mid_revision, migrator, runs, slow_history};

/// Eight runners sharing one lease apply each revision once, and the
/// last leaves no lease behind.
async fn eight_runners_with_a_lease(url: &str, dir: &Path) {
    eight_runners_through(url, url, dir).await;
}

/// [`eight_runners_with_a_lease`] with the runners connecting to `url`
/// and the checks reading the database directly at `direct`.
async fn eight_runners_through(url: &str, direct: &str, dir: &Path) {
    all_at_once(url, dir, &["--lock table upgrade head"; 8], 0);
    let url = direct;
    let counts = runs(url).await;
    assert_eq!(counts.len(), 20, "{counts:?}");
    assert!(
        counts.iter().all(|(_, n)| *n == 1),
        "a revision ran more than once: {counts:?}"
    );
    assert_eq!(
        tests::scalar(url, "SELECT CAST(COUNT(*) AS CHAR(10)) FROM migrator_lock")
            .await
            .map(|n| n.trim().to_owned())
            .as_deref(),
        Some("0"),
        "the lease is released"
    );
}

on_each_database!(eight_runners_share_one_lease, eight_runners_with_a_lease);

const LEASE: [&str; 4] = ["--lock", "table", "--lock-lease", "5"];

#[tokio::test]
async fn a_killed_holder_s_lease_expires_sqlite() {
    let h = tests::History::new();
    killed_mid_revision(&h.sqlite_url(), None, &LEASE).await;
}

#[tokio::test]
async fn a_killed_holder_s_lease_expires_postgres() {
    let Some(db) = server_db(Server::Postgres).await else {
        return;
    };
    killed_mid_revision(&db.url, Some(Server::Postgres), &LEASE).await;
}

#[tokio::test]
async fn a_killed_holder_s_lease_expires_mysql() {
    let Some(db) = server_db(Server::Mysql).await else {
        return;
    };
    killed_mid_revision(&db.url, Some(Server::Mysql), &LEASE).await;
}

/// While a holder is alive its lease is renewed, so a second runner
/// waits, and one that gives up names the holder; once the holder dies
/// (SIGKILL: nothing released), the next runner waits out the lease, no
/// longer, and goes on.
#[tokio::test]
async fn a_live_lease_is_named_and_a_dead_one_runs_out() {
    let Some(db) = server_db(Server::Postgres).await else {
        return;
    };
    let url = db.url.as_str();
    let h = slow_history(Some(Server::Postgres));
    let dir = h.migrations_dir();
    let mut holder = crate::processes::start_slow_runner(url, &dir, &LEASE, Stdio::null());
    // Longer than the lease: the heartbeat keeps it.
    std::thread::sleep(Duration::from_secs(6));
    let waited = migrator()
        .args(LEASE)
        .arg("--dir")
        .arg(&dir)
        .args(["-d", url, "--lock-timeout", "1", "upgrade"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&waited.stderr);
    assert_eq!(waited.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {} ", holder.id())) && stderr.contains("--lock-lease"),
        "the holder is named: {stderr}"
    );
    holder.kill().unwrap();
    holder.wait().unwrap();
    let killed = Instant::now();
    // The dead client's statement still runs on the server: end it, as an
    // operator would (the lease row stays: nothing released it).
    tests::exec(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() \
         AND pid <> pg_backend_pid()",
    )
    .await;
    tests::exec(url, "INSERT INTO skip_sleep (x) VALUES (1)").await;
    let next = migrator()
        .args(LEASE)
        .arg("--dir")
        .arg(&dir)
        .args(["-q", "-d", url, "upgrade"])
        .output()
        .unwrap();
    assert!(next.status.success(), "{}", String::from_utf8_lossy(&next.stderr));
    let took = killed.elapsed();
    // Renewed every 5/3 s, so at least 3.3 s of the lease were left at the
    // kill; the wait ends at most a poll (1 s) after it runs out.
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(12),
        "waited {took:?} for a 5 s lease"
    );
    assert_eq!(current(url, &dir), "r3 (head)");
}

/// PgBouncer in transaction pooling mode (Debian's, started for the test)
/// in front of PostgreSQL: each transaction may reach another server
/// session, so session state (advisory locks, prepared statements) does
/// not last. Eight runners with `--lock table` apply each revision once.
#[tokio::test]
async fn behind_pgbouncer_in_transaction_mode_a_lease_serialises_runners() {
    let Some(db) = server_db(Server::Postgres).await else {
        return;
    };
    let Some(bouncer) = tests::PgBouncer::start(5432, 4) else {
        return;
    };
    let name = db.url.rsplit('/').next().unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{}/{name}", bouncer.port);
    let h = counted_history();
    eight_runners_through(&url, &db.url, &h.migrations_dir()).await;
    // Reading and downgrading through it work too (parameters are sent
    // inline, no statement is prepared on one session and run on another).
    let down = migrator()
        .args(["--lock", "table", "--dir"])
        .arg(h.migrations_dir())
        .args(["-q", "-d", &url, "downgrade", "r10"])
        .output()
        .unwrap();
    assert!(down.status.success(), "{}", String::from_utf8_lossy(&down.stderr));
    assert_eq!(current(&url, &h.migrations_dir()), "r10");
}

/// With the advisory lock behind the same pooler, a transaction that
/// reaches a server session other than the one holding the lock is
/// refused before it commits, with the way out. A `before_upgrade` hook
/// pins the lock's session (the pool's most recently used one) with a
/// transaction of its own, so the run's first revision must go elsewhere.
#[tokio::test]
async fn behind_pgbouncer_the_advisory_lock_is_refused_not_racy() {
    let Some(db) = server_db(Server::Postgres).await else {
        return;
    };
    let Some(bouncer) = tests::PgBouncer::start(5432, 2) else {
        return;
    };
    if !tests::tool("psql", "--version") {
        return;
    }
    let name = db.url.rsplit('/').next().unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{}/{name}", bouncer.port);
    let h = counted_history();
    let config = h.root().join("migrator.toml");
    std::fs::write(
        &config,
        format!("before_upgrade = \"psql '{url}' -qc 'BEGIN; SELECT pg_sleep(4); COMMIT' >/dev/null & sleep 1\"\n"),
    )
    .unwrap();
    let out = migrator()
        .arg("--config")
        .arg(&config)
        .arg("--dir")
        .arg(h.migrations_dir())
        .args(["-d", &url, "upgrade"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("pooler in transaction mode") && stderr.contains("--lock table"),
        "{stderr}"
    );
    assert_eq!(current(&url, &h.migrations_dir()), "", "nothing was kept");
}
