//! Several `migrator` processes against one database, and a process
//! killed in the middle of a revision, on all three databases.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tests::{History, Server, exec, server_db};

pub(crate) fn migrator() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_migrator"));
    c.env_remove("DATABASE_URL");
    c
}

/// How many times each revision's SQL ran, read from the `runs` table.
pub(crate) async fn runs(url: &str) -> Vec<(String, i64)> {
    use sqlx::Connection;
    let sql = "SELECT rev, CAST(COUNT(*) AS SIGNED) FROM runs GROUP BY rev ORDER BY rev";
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_as(sqlx::AssertSqlSafe(sql.replace("SIGNED", "INTEGER")))
            .fetch_all(&mut c)
            .await
            .unwrap()
    } else if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_as(sqlx::AssertSqlSafe(sql.replace("SIGNED", "BIGINT")))
            .fetch_all(&mut c)
            .await
            .unwrap()
    } else {
        let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
    }
}

/// 20 revisions, each recording in `runs` that its SQL ran; every third
/// runs `transaction:false` (statement by statement, outside any
/// transaction), which only the migration lock keeps from running twice.
pub(crate) fn counted_history() -> History {
    let h = History::new();
    for i in 1..=20 {
        let id = format!("r{i:02}");
        let create = if i == 1 {
            "CREATE TABLE runs (rev VARCHAR(10) NOT NULL);\n"
        } else {
            ""
        };
        let marker = if i % 3 == 0 {
            "-- migrate:up transaction:false"
        } else {
            "-- migrate:up"
        };
        let revises = if i == 1 {
            String::new()
        } else {
            format!("r{:02}", i - 1)
        };
        let text = format!(
            "-- revision {id}\n--\n-- Revision ID: {id}\n-- Revises: {revises}\n\n{marker}\n{create}\
             CREATE TABLE t{i} (id INTEGER);\nINSERT INTO runs (rev) VALUES ('{id}');\n\n\
             -- migrate:down\nDROP TABLE t{i};\n"
        );
        h.write(&format!("{i:05}_{id}.sql"), &text);
    }
    h
}

/// Starts one `migrator` per command at once (`upgrade head`, ...) and
/// asserts that every one of them exits 0.
pub(crate) fn all_at_once(url: &str, dir: &Path, commands: &[&str], round: usize) {
    let children: Vec<_> = commands
        .iter()
        .map(|cmd| {
            migrator()
                .arg("--dir")
                .arg(dir)
                .args(["-q", "-d", url])
                .args(cmd.split(' '))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "round {round}: a runner failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

async fn eight_runners(url: &str, dir: &Path) {
    all_at_once(url, dir, &["upgrade head"; 8], 0);
    let counts = runs(url).await;
    assert_eq!(counts.len(), 20, "{counts:?}");
    assert!(
        counts.iter().all(|(_, n)| *n == 1),
        "a revision ran more than once: {counts:?}"
    );
}

/// One test per database for `$case(url, migrations dir)` over a fresh
/// [`counted_history`]: a SQLite file, and scratch databases on the
/// servers (skipped without them, except under `CI=true`).
macro_rules! on_each_database {
    ($module:ident, $case:ident) => {
        mod $module {
            use tests::{Server, server_db};

            #[tokio::test]
            async fn sqlite() {
                let h = super::counted_history();
                super::$case(&h.sqlite_url(), &h.migrations_dir()).await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(db) = server_db(Server::Postgres).await else {
                    return;
                };
                let h = super::counted_history();
                super::$case(&db.url, &h.migrations_dir()).await;
            }

            #[tokio::test]
            async fn mysql() {
                let Some(db) = server_db(Server::Mysql).await else {
                    return;
                };
                let h = super::counted_history();
                super::$case(&db.url, &h.migrations_dir()).await;
            }
        }
    };
}

on_each_database!(eight_concurrent_runners_apply_each_revision_once, eight_runners);
on_each_database!(upgrades_and_downgrades_at_once, upgrades_and_downgrades);

/// Rounds of two upgrades and two downgrades started at once: every runner
/// exits 0, and the tables are exactly those of the revisions the version
/// table says are applied (nothing half-done, nothing twice, no false
/// "interrupted" block).
async fn upgrades_and_downgrades(url: &str, dir: &Path) {
    let first = migrator()
        .arg("--dir")
        .arg(dir)
        .args(["-q", "-d", url, "upgrade", "r07"])
        .output()
        .unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    for round in 0..6 {
        all_at_once(
            url,
            dir,
            &["upgrade head", "downgrade r05", "upgrade head", "downgrade r05"],
            round,
        );
        let at = current(url, dir);
        let n: usize = at.trim_start_matches('r').split(' ').next().unwrap().parse().unwrap();
        let mut expected: Vec<String> = (1..=n).map(|i| format!("t{i}")).collect();
        expected.push("runs".to_owned());
        expected.sort();
        assert_eq!(tests::tables(url).await, expected, "round {round}: at {at}");
    }
}

/// r1 creates the tables; r2 takes about 30 s unless `skip_sleep` has a
/// row; r3 is quick.
pub(crate) fn slow_history(server: Option<Server>) -> History {
    let sleep = match server {
        Some(Server::Postgres) => {
            "SELECT pg_sleep(CASE WHEN (SELECT COUNT(*) FROM skip_sleep) > 0 THEN 0 ELSE 30 END);"
        }
        Some(Server::Mysql) => "SELECT SLEEP(IF((SELECT COUNT(*) FROM skip_sleep) > 0, 0, 30));",
        None => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c \
             WHERE x < (CASE WHEN (SELECT COUNT(*) FROM skip_sleep) > 0 THEN 1 ELSE 500000000 END)) SELECT COUNT(*) FROM c;"
        }
    };
    let mut h = History::new();
    h.revision(
        "r1",
        &[],
        "CREATE TABLE skip_sleep (x INTEGER);",
        "DROP TABLE skip_sleep;",
    );
    h.revision(
        "r2",
        &["r1"],
        &format!("CREATE TABLE during (id INTEGER);\n{sleep}"),
        "DROP TABLE during;",
    );
    h.revision(
        "r3",
        &["r2"],
        "CREATE TABLE after_it (id INTEGER);",
        "DROP TABLE after_it;",
    );
    h
}

/// Starts `migrator upgrade head` over [`slow_history`] and returns once
/// r1 is applied, so that the runner is about to be, or is, in r2.
pub(crate) fn start_slow_runner(url: &str, dir: &Path, lock: &[&str], stderr: Stdio) -> std::process::Child {
    let child = migrator()
        .args(lock)
        .arg("--dir")
        .arg(dir)
        .args(["-q", "-d", url, "upgrade", "head"])
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while current(url, dir) != "r1" {
        assert!(Instant::now() < deadline, "r1 was never applied");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

pub(crate) fn current(url: &str, dir: &Path) -> String {
    let out = migrator()
        .arg("--dir")
        .arg(dir)
        .args(["-d", url, "current"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Kills a runner in the middle of r2, then shows what the next run does.
pub(crate) async fn killed_mid_revision(url: &str, server: Option<Server>, lock: &[&str]) {
    let h = slow_history(server);
    let dir = h.migrations_dir();
    // Wait until r1 is in and r2 is running, then SIGKILL.
    let mut child = start_slow_runner(url, &dir, lock, Stdio::null());
    let deadline = Instant::now() + Duration::from_secs(20);
    // Then until r2's statement is running: the servers show it in their
    // process lists; SQLite shows nothing of an open transaction, so there
    // the runner's own progress is the last state to wait for.
    let running = match server {
        Some(Server::Postgres) => Some(
            "SELECT CAST(COUNT(*) AS TEXT) FROM pg_stat_activity WHERE datname = current_database() \
             AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()",
        ),
        Some(Server::Mysql) => Some(
            "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.processlist WHERE db = DATABASE() \
             AND info LIKE '%SLEEP(%' AND id <> CONNECTION_ID()",
        ),
        None => None,
    };
    match running {
        Some(sql) => {
            while tests::scalar(url, sql).await.as_deref() != Some("1") {
                assert!(Instant::now() < deadline, "r2 never started");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        None => std::thread::sleep(Duration::from_millis(700)),
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The server may still be running the dead client's statement: end it,
    // as an operator would.
    match server {
        Some(Server::Postgres) => {
            exec(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").await;
        }
        Some(Server::Mysql) => kill_other_mysql_sessions(url).await,
        None => {}
    }
    assert_eq!(
        current(url, &dir),
        "r1",
        "the killed revision is not recorded as applied"
    );
    exec(url, "INSERT INTO skip_sleep (x) VALUES (1)").await;
    let next = migrator()
        .args(lock)
        .arg("--dir")
        .arg(&dir)
        .args(["-d", url, "upgrade", "head"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&next.stderr).into_owned();
    if server == Some(Server::Mysql) {
        // DDL cannot be rolled back: r2 is recorded as started and never
        // finished, and the next run (holding the lock) treats it as failed.
        assert_eq!(next.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("revision r2 (00002_r2.sql) was interrupted during upgrade"),
            "{stderr}"
        );
        assert!(stderr.contains("migrator repair r2"), "{stderr}");
        exec(url, "DROP TABLE during").await;
        let repair = migrator()
            .args(lock)
            .arg("--dir")
            .arg(&dir)
            .args(["-d", url, "repair", "r2", "--rolled-back"])
            .output()
            .unwrap();
        assert!(repair.status.success(), "{}", String::from_utf8_lossy(&repair.stderr));
        let last = migrator()
            .args(lock)
            .arg("--dir")
            .arg(&dir)
            .args(["-d", url, "upgrade", "head"])
            .output()
            .unwrap();
        assert!(last.status.success(), "{}", String::from_utf8_lossy(&last.stderr));
    } else {
        // Rolled back with the connection: the next run simply completes.
        assert!(next.status.success(), "{stderr}");
    }
    assert_eq!(current(url, &dir), "r3 (head)");
}

pub(crate) async fn kill_other_mysql_sessions(url: &str) {
    use sqlx::Connection;
    let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
    let ids: Vec<u64> = sqlx::query_scalar(
        "SELECT CAST(id AS UNSIGNED) FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    for id in ids {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("KILL {id}")))
            .execute(&mut c)
            .await;
    }
}

#[tokio::test]
async fn a_runner_killed_mid_revision_sqlite() {
    let h = History::new();
    killed_mid_revision(&h.sqlite_url(), None, &[]).await;
}

#[tokio::test]
async fn a_runner_killed_mid_revision_postgres() {
    let Some(db) = server_db(Server::Postgres).await else {
        return;
    };
    killed_mid_revision(&db.url, Some(Server::Postgres), &[]).await;
}

#[tokio::test]
async fn a_runner_killed_mid_revision_mysql() {
    let Some(db) = server_db(Server::Mysql).await else {
        return;
    };
    killed_mid_revision(&db.url, Some(Server::Mysql), &[]).await;
}

/// Passwords never appear in output, errors or the log table.
#[tokio::test]
async fn passwords_never_appear() {
    let Some(db) = server_db(Server::Postgres).await else {
        return;
    };
    // Trust authentication ignores the password, so the run succeeds and
    // every message that names the database can be checked.
    let with_password = db.url.replacen("postgres@", "postgres:s3cretPW@", 1);
    let h = counted_history();
    let dir = h.migrations_dir();
    let mut seen = String::new();
    for args in [
        vec!["-v", "upgrade", "r05"],
        vec!["-v", "current"],
        vec!["status"],
        vec!["--json", "current"],
        vec!["-v", "upgrade", "nope"],
        vec!["downgrade", "--dry-run", "base"],
    ] {
        let out = migrator()
            .arg("--dir")
            .arg(&dir)
            .args(["-d", &with_password])
            .args(&args)
            .output()
            .unwrap();
        seen += &String::from_utf8_lossy(&out.stdout);
        seen += &String::from_utf8_lossy(&out.stderr);
    }
    assert!(seen.contains("postgres:***@"), "the URL is shown, redacted: {seen}");
    // A refused connection, through the environment variable.
    let refused = with_password.replace(":5432/", ":1/");
    let out = migrator()
        .arg("--dir")
        .arg(&dir)
        .env("DATABASE_URL", &refused)
        .arg("current")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    seen += &String::from_utf8_lossy(&out.stderr);
    let bad = migrator()
        .args(["-d", "oracle://u:s3cretPW@h/db", "current"])
        .output()
        .unwrap();
    seen += &String::from_utf8_lossy(&bad.stderr);
    assert!(!seen.contains("s3cretPW"), "a password leaked: {seen}");
    // Passwords that URL parsers trip on, in every shape and through every
    // way a URL arrives (flag, environment, .env, migrator.toml), on
    // error paths: none shows. (The property test of `redact` in
    // migrator-core covers every character; this covers the binary.)
    let tmp = tempfile::tempdir().unwrap();
    for (n, pw) in ["SEC#RETPW", "SEC?RETPW", "p@ss:w/rd%40X", "QQ://ZZ@"]
        .iter()
        .enumerate()
    {
        for url in [
            format!("postgres://postgres:{pw}@127.0.0.1:1/db"),
            format!("postgresql//u:{pw}@h/db"),
            format!("mysql:root:{pw}@h/db"),
            format!("postgres://postgres:{pw}@127.0.0.1:notaport/db"),
        ] {
            let mut runs = vec![
                migrator()
                    .current_dir(tmp.path())
                    .arg("--dir")
                    .arg(&dir)
                    .args(["-d", &url, "current"])
                    .output(),
                migrator()
                    .current_dir(tmp.path())
                    .arg("--dir")
                    .arg(&dir)
                    .env("DATABASE_URL", &url)
                    .arg("status")
                    .output(),
            ];
            std::fs::write(tmp.path().join(".env"), format!("DATABASE_URL={url}\n")).unwrap();
            runs.push(
                migrator()
                    .current_dir(tmp.path())
                    .arg("--dir")
                    .arg(&dir)
                    .arg("current")
                    .output(),
            );
            std::fs::remove_file(tmp.path().join(".env")).unwrap();
            std::fs::write(tmp.path().join("migrator.toml"), format!("database_url = \"{url}\"\n")).unwrap();
            runs.push(
                migrator()
                    .current_dir(tmp.path())
                    .arg("--dir")
                    .arg(&dir)
                    .arg("upgrade")
                    .output(),
            );
            std::fs::remove_file(tmp.path().join("migrator.toml")).unwrap();
            for out in runs {
                let out = out.unwrap();
                let all = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                assert!(!out.status.success(), "{n} {url}: {all}");
                assert!(!all.contains(pw), "{url}: the password leaked: {all}");
            }
        }
    }
    // Nor in the log.
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let log: Vec<String> = sqlx::query_scalar("SELECT CAST(migrator_log AS TEXT) FROM migrator_log")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert!(!log.is_empty());
    assert!(log.iter().all(|row| !row.contains("s3cretPW")), "{log:?}");
}

/// The session holding the PostgreSQL advisory lock is ended by the server
/// (an operator's pg_terminate_backend, a failover) in the middle of a
/// revision: that runner must fail, never finish without the lock while
/// another runner takes it.
#[tokio::test]
async fn losing_the_lock_session_fails_the_run_postgres() {
    let Some(db) = server_db(Server::Postgres).await else {
        return;
    };
    let url = db.url.as_str();
    let h = slow_history(Some(Server::Postgres));
    let dir = h.migrations_dir();
    let child = start_slow_runner(url, &dir, &[], Stdio::piped());
    // End exactly the session that holds the advisory lock.
    let ended = tests::scalar(
        url,
        "SELECT CAST(COUNT(pg_terminate_backend(l.pid)) AS TEXT) FROM pg_locks l \
         JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()",
    )
    .await;
    assert_eq!(ended.as_deref(), Some("1"), "one session held the lock");
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "the runner went on without its lock");
    assert_eq!(current(url, &dir), "r1", "r2 is not recorded");
    // The next runner takes the lock and finishes.
    exec(url, "INSERT INTO skip_sleep (x) VALUES (1)").await;
    let next = migrator()
        .arg("--dir")
        .arg(&dir)
        .args(["-q", "-d", url, "upgrade", "head"])
        .output()
        .unwrap();
    assert!(next.status.success(), "{}", String::from_utf8_lossy(&next.stderr));
    assert_eq!(current(url, &dir), "r3 (head)");
}

/// A service whose database starts beside it: `--connect-timeout` keeps
/// trying until the server is up (here 5 s later), then migrates; an
/// unknown database fails at once all the same.
#[tokio::test]
async fn a_database_that_starts_late_is_waited_for() {
    let port = tests::free_port();
    let h = counted_history();
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let mut child = migrator()
        .arg("--dir")
        .arg(h.migrations_dir())
        .args(["-q", "-d", &url, "--connect-timeout", "60", "upgrade"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The scenario itself: the server comes up some seconds later.
    std::thread::sleep(Duration::from_secs(5));
    let Some(_pg) = tests::OwnPostgres::start_on(port, &[], |_| {}) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(runs(&url).await.len(), 20, "every revision ran once");
    // What waiting cannot cure fails at once.
    let Some(db) = server_db(Server::Postgres).await else {
        return;
    };
    let unknown = db
        .url
        .rsplit_once('/')
        .map(|(base, _)| format!("{base}/no_such_database"))
        .unwrap();
    let started = Instant::now();
    let out = migrator()
        .arg("--dir")
        .arg(h.migrations_dir())
        .args(["-d", &unknown, "--connect-timeout", "60", "current"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it waited for a database that does not exist"
    );
}
