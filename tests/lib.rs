//! Helpers for the cross-crate tests: revision directories written on the
//! fly, and scratch SQLite databases.

// Test helpers: a panic is a test failure with a location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use migrator_core::{Migrations, load_dir};
use tempfile::TempDir;

/// A migrations directory in a temporary folder, with a SQLite database
/// file beside it.
#[derive(Debug)]
pub struct History {
    dir: TempDir,
    count: usize,
}

impl Default for History {
    fn default() -> Self {
        Self::new()
    }
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("migrations")).unwrap();
        History { dir, count: 0 }
    }

    /// The migrations directory.
    pub fn migrations_dir(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    /// A SQLite URL for a database file beside the migrations.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("test.db").display())
    }

    /// The folder holding both.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file under the migrations directory.
    pub fn write(&self, name: &str, text: &str) {
        let path = self.migrations_dir().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Adds a revision file named `NNNN_<id>.sql` with the given parents and
    /// SQL.
    pub fn revision(&mut self, id: &str, revises: &[&str], up: &str, down: &str) -> &mut Self {
        self.count += 1;
        let text = revision_text(id, revises, up, down);
        self.write(&format!("{:05}_{id}.sql", self.count), &text);
        self
    }

    /// Loads and verifies the directory as `--dir` does.
    pub fn load(&self) -> Migrations {
        load_dir(&self.migrations_dir(), false).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// The text of a revision file.
pub fn revision_text(id: &str, revises: &[&str], up: &str, down: &str) -> String {
    let mut t = String::new();
    writeln!(
        t,
        "-- revision {id}\n--\n-- Revision ID: {id}\n-- Revises: {}\n",
        revises.join(", ")
    )
    .unwrap();
    writeln!(t, "-- migrate:up\n{up}\n\n-- migrate:down\n{down}").unwrap();
    t
}

/// A linear history of `n` revisions `r0001`, `r0002`, ..., each creating
/// a table `t<n>`.
pub fn chain(n: usize) -> History {
    let mut h = History::new();
    for i in 1..=n {
        let id = format!("r{i:04}");
        let parent = format!("r{:04}", i - 1);
        let revises: Vec<&str> = if i == 1 { vec![] } else { vec![parent.as_str()] };
        h.revision(
            &id,
            &revises,
            &format!("CREATE TABLE t{i} (id INTEGER PRIMARY KEY);"),
            &format!("DROP TABLE t{i};"),
        );
    }
    h
}

/// Names of the user tables in a SQLite database (bookkeeping excluded).
pub async fn sqlite_tables(url: &str) -> Vec<String> {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
    let mut names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'migrator_%' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    names.sort();
    names
}

/// Rows of the log table: `(revision, operation, success)`.
pub async fn sqlite_log(url: &str) -> Vec<(String, String, bool)> {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query_as("SELECT revision, operation, success FROM migrator_log ORDER BY id")
        .fetch_all(&mut c)
        .await
        .unwrap()
}

/// A scratch database on a real server, dropped when this value is.
#[derive(Debug)]
pub struct ServerDb {
    /// The URL of the scratch database.
    pub url: String,
    admin: String,
    name: String,
    mysql: bool,
}

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// PostgreSQL (`MIGRATOR_TEST_POSTGRES`, default
    /// `postgres://postgres@127.0.0.1:5432/test`).
    Postgres,
    /// MySQL or MariaDB (`MIGRATOR_TEST_MYSQL`, default
    /// `mysql://root@127.0.0.1:3306/test`).
    Mysql,
}

impl Server {
    fn admin_url(self) -> String {
        match self {
            Server::Postgres => std::env::var("MIGRATOR_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned()),
            Server::Mysql => {
                std::env::var("MIGRATOR_TEST_MYSQL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned())
            }
        }
    }

    /// The server's name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Server::Postgres => "PostgreSQL",
            Server::Mysql => "MySQL/MariaDB",
        }
    }
}

async fn admin_exec(server: Server, admin: &str, sql: &str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    match server {
        Server::Postgres => {
            let mut c = sqlx::PgConnection::connect(admin).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await?;
            c.close().await
        }
        Server::Mysql => {
            let mut c = sqlx::MySqlConnection::connect(admin).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await?;
            c.close().await
        }
    }
}

/// Creates a uniquely named database on `server`. Without the server the
/// test is skipped with a message, except under `CI=true`, where that is a
/// failure.
pub async fn server_db(server: Server) -> Option<ServerDb> {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let admin = server.admin_url();
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!("migrator_t{}_{n}_{nanos}", std::process::id());
    let create = match server {
        Server::Postgres => format!("CREATE DATABASE {name}"),
        Server::Mysql => format!("CREATE DATABASE {name}"),
    };
    if let Err(e) = admin_exec(server, &admin, &create).await {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "{} is required under CI=true, but {} failed: {e}",
                server.name(),
                redact(&admin)
            );
        }
        eprintln!(
            "skipped: {} is not reachable at {} ({e})",
            server.name(),
            redact(&admin)
        );
        return None;
    }
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    Some(ServerDb {
        url,
        admin,
        name,
        mysql: server == Server::Mysql,
    })
}

fn redact(url: &str) -> String {
    migrator_core::redact(url)
}

impl Drop for ServerDb {
    fn drop(&mut self) {
        let (admin, name, mysql) = (self.admin.clone(), self.name.clone(), self.mysql);
        // Drop runs outside any runtime the test may be in: use a thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let server = if mysql { Server::Mysql } else { Server::Postgres };
                let sql = if mysql {
                    format!("DROP DATABASE IF EXISTS {name}")
                } else {
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                };
                let _ = admin_exec(server, &admin, &sql).await;
            });
        })
        .join();
    }
}

/// User tables of a database at `url` (bookkeeping and SQLite internals
/// excluded), sorted.
pub async fn tables(url: &str) -> Vec<String> {
    use sqlx::Connection;
    let mut names: Vec<String> = if url.starts_with("sqlite") {
        return sqlite_tables(url).await;
    } else if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_name NOT LIKE 'migrator\\_%'")
            .fetch_all(&mut c)
            .await
            .unwrap()
    } else {
        let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
        sqlx::query_scalar("SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name NOT LIKE 'migrator\\_%'")
            .fetch_all(&mut c)
            .await
            .unwrap()
    };
    names.sort();
    names
}

/// Runs raw SQL against the database at `url`.
pub async fn exec(url: &str, sql: &str) {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if url.starts_with("sqlite") {
        let create = if url.contains('?') {
            url.to_owned()
        } else {
            format!("{url}?mode=rwc")
        };
        let mut c = sqlx::SqliteConnection::connect(&create).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    } else if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    }
}

/// The first column of the first row of a query, as text (`None` for no
/// row or NULL).
pub async fn scalar(url: &str, sql: &str) -> Option<String> {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar::<_, Option<String>>(sql)
            .fetch_optional(&mut c)
            .await
            .unwrap()
            .flatten()
    } else if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar::<_, Option<String>>(sql)
            .fetch_optional(&mut c)
            .await
            .unwrap()
            .flatten()
    } else {
        let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
        sqlx::query_scalar::<_, Option<String>>(sql)
            .fetch_optional(&mut c)
            .await
            .unwrap()
            .flatten()
    }
}

/// A PostgreSQL instance of the test's own, on a port of its own in a
/// temporary directory, run as the `postgres` user (the shared servers are
/// never reconfigured); stopped when dropped. `None` (the test skips, or
/// under `CI=true` fails) when the binaries are missing.
#[derive(Debug)]
pub struct OwnPostgres {
    /// The data directory and the certificates' folder.
    pub dir: TempDir,
    /// The port it listens on, on 127.0.0.1 (and the `localhost` name).
    pub port: u16,
}

/// The PostgreSQL server binaries.
pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

impl OwnPostgres {
    /// Starts an instance with `settings` (`-c key=value` each), after
    /// `prepare` has written what they name into the data directory's
    /// folder (certificates). The data directory is `dir/data`.
    pub fn start(settings: &[&str], prepare: impl FnOnce(&Path)) -> Option<OwnPostgres> {
        OwnPostgres::start_on(free_port(), settings, prepare)
    }

    /// [`OwnPostgres::start`] on a given port.
    pub fn start_on(port: u16, settings: &[&str], prepare: impl FnOnce(&Path)) -> Option<OwnPostgres> {
        if !Path::new(PG_BIN).join("initdb").exists()
            || std::process::Command::new("runuser").arg("--help").output().is_err()
        {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("PostgreSQL's binaries ({PG_BIN}) and runuser are required under CI=true");
            }
            eprintln!("skipped: PostgreSQL's binaries are not in {PG_BIN}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path());
        let as_postgres = |args: &[&str]| {
            let out = std::process::Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        std::process::Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        std::process::Command::new("chmod")
            .args(["755"])
            .arg(dir.path())
            .status()
            .unwrap();
        let data = dir.path().join("data");
        let data_s = data.to_str().unwrap();
        as_postgres(&[
            &format!("{PG_BIN}/initdb"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-D",
            data_s,
        ]);
        let mut options = format!("-p {port} -k {} -c listen_addresses=127.0.0.1", dir.path().display());
        for s in settings {
            options.push_str(&format!(" -c {s}"));
        }
        let log = dir.path().join("log");
        as_postgres(&[
            &format!("{PG_BIN}/pg_ctl"),
            "-D",
            data_s,
            "-l",
            log.to_str().unwrap(),
            "-o",
            &options,
            "-w",
            "start",
        ]);
        Some(OwnPostgres { dir, port })
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--", &format!("{PG_BIN}/pg_ctl"), "-D"])
            .arg(&data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// A MariaDB instance of the test's own, on a port of its own in a
/// temporary directory, started with `args` after `prepare` has written
/// what they name (certificates) into that directory; stopped when
/// dropped. `root` logs in without a password over TCP. `None` (the test
/// skips, or under `CI=true` fails) without Debian's MariaDB server.
#[derive(Debug)]
pub struct OwnMariadb {
    /// The data directory's parent, with what `prepare` wrote.
    pub dir: TempDir,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    child: std::process::Child,
}

impl OwnMariadb {
    /// Starts it; see [`OwnMariadb`].
    pub fn start(args: &[&str], prepare: impl FnOnce(&Path)) -> Option<OwnMariadb> {
        let (install, server) = ("/usr/bin/mariadb-install-db", "/usr/sbin/mariadbd");
        if !Path::new(install).exists() || !Path::new(server).exists() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("MariaDB's server ({server}, {install}) is required under CI=true");
            }
            eprintln!("skipped: MariaDB's server is not installed");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path());
        let data = dir.path().join("data");
        let out = std::process::Command::new(install)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args([
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{install}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let d = dir.path().display();
        let child = std::process::Command::new(server)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(["--user=root", "--bind-address=127.0.0.1", "--skip-name-resolve"])
            .arg(format!("--port={port}"))
            .arg(format!("--socket={d}/mysqld.sock"))
            .arg(format!("--pid-file={d}/mysqld.pid"))
            .arg(format!("--log-error={d}/error.log"))
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "mariadbd did not start: {}",
                std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Some(OwnMariadb { dir, port, child })
    }
}

impl Drop for OwnMariadb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A PgBouncer of the test's own in transaction pooling mode, in front of
/// the PostgreSQL server at `127.0.0.1:upstream`, on a port of its own,
/// run as the `postgres` user (PgBouncer refuses root); stopped when
/// dropped. `None` (the test skips, or under `CI=true` fails) without
/// Debian's `pgbouncer`.
#[derive(Debug)]
pub struct PgBouncer {
    dir: TempDir,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
}

impl PgBouncer {
    /// Starts it with at most `pool_size` server connections per database.
    pub fn start(upstream: u16, pool_size: usize) -> Option<PgBouncer> {
        let bin = "/usr/sbin/pgbouncer";
        if !Path::new(bin).exists() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("Debian's pgbouncer ({bin}) is required under CI=true");
            }
            eprintln!("skipped: pgbouncer is not installed");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let d = dir.path().display();
        std::fs::write(dir.path().join("users.txt"), "\"postgres\" \"\"\n").unwrap();
        std::fs::write(
            dir.path().join("pgbouncer.ini"),
            format!(
                "[databases]\n* = host=127.0.0.1 port={upstream}\n[pgbouncer]\nlisten_addr = 127.0.0.1\n\
                 listen_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {d}/users.txt\n\
                 pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 200\n\
                 logfile = {d}/pgbouncer.log\npidfile = {d}/pgbouncer.pid\n"
            ),
        )
        .unwrap();
        std::process::Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        let out = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--", bin, "-d"])
            .arg(dir.path().join("pgbouncer.ini"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pgbouncer: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Ready when it accepts connections.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "pgbouncer did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Some(PgBouncer { dir, port })
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("pgbouncer.pid")) {
            let _ = std::process::Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// A TCP port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `true` when the command-line tool `name` runs (`name version_arg`
/// succeeds); without it the test says it was skipped, except under
/// `CI=true`, where that is a failure.
pub fn tool(name: &str, version_arg: &str) -> bool {
    let found = std::process::Command::new(name)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("`{name}` is required under CI=true");
        }
        eprintln!("skipped: `{name}` is not installed");
    }
    found
}

/// splitmix64: small, seedable, good enough to pick shapes for the
/// generated tests (each prints its seed).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number below `n` (which must not be 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// `true` `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The seed of a generated test: `var` if set (`random` draws one), else
/// `fixed`, so that a run is reproducible as it stands. The caller prints
/// it.
pub fn seed(var: &str, fixed: u64) -> u64 {
    match std::env::var(var).as_deref() {
        Ok("random") => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
        Ok(s) => s.parse().unwrap_or(fixed),
        Err(_) => fixed,
    }
}

/// Every row of a query whose first column is text (NULLs left out), on
/// any of the three databases.
pub async fn strings(url: &str, sql: &str) -> Vec<String> {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    let rows: Vec<Option<String>> = if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
    } else if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
    };
    rows.into_iter().flatten().collect()
}
