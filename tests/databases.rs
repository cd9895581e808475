//! The executor on all three databases: SQLite files, and scratch databases
//! on the real PostgreSQL and MySQL/MariaDB servers. Each case runs once
//! per dialect; a missing server skips its cases with a message, except
//! under `CI=true`, where it fails them.

#![allow(clippy::unwrap_used, clippy::panic)]

use migrator_core::{
    Dialect, Digest, Direction, Error, Graph, Migrations, Migrator, Repair, RevisionState, TransactionMode,
};
use tests::{History, chain, exec, scalar, tables};

static DEMO: Migrations = migrator_macros::embed_migrations!("../migrations");

/// Generates one test per dialect for each case `async fn case(url, dialect)`.
macro_rules! on_all_databases {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $case() {
                let h = tests::History::new();
                super::$case(h.sqlite_url(), migrator_core::Dialect::Sqlite).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $case() {
                let Some(db) = tests::server_db(tests::Server::Postgres).await else { return };
                super::$case(db.url.clone(), migrator_core::Dialect::Postgres).await;
            })*
        }
        mod mysql {
            $(#[tokio::test]
            async fn $case() {
                let Some(db) = tests::server_db(tests::Server::Mysql).await else { return };
                super::$case(db.url.clone(), migrator_core::Dialect::Mysql).await;
            })*
        }
    };
}

on_all_databases!(
    demo_history_up_down_and_up_again,
    a_failing_revision_keeps_nothing_or_asks_for_repair,
    relative_steps_and_prefixes_on_a_chain,
    transaction_mode_all,
    a_database_ahead_of_the_binary_is_refused,
    irreversible_revisions_refuse_before_running,
    transaction_false_sections_record_progress,
    adopt_alembic_database,
    the_applied_digest_follows_every_step,
    a_log_table_without_the_digest_column_gets_it,
    a_dry_run_writes_nothing,
    the_readme_example_revision_runs,
    a_transactional_and_a_transaction_false_section_run_in_file_order,
    autogenerate_quotes_odd_names_and_drops_the_real_primary_key,
    a_table_that_exists_already_points_to_stamp,
    the_sql_examples_of_the_docs_run,
    two_histories_in_one_database_keep_two_logs,
    a_service_hands_over_its_own_connection,
    a_table_locked_elsewhere_fails_fast,
    a_revision_s_own_timeouts_hold_for_it_alone,
);

const DEMO_TABLES: [&str; 7] = [
    "audit_log",
    "invitations",
    "memberships",
    "organisations",
    "plans",
    "subscriptions",
    "users",
];

async fn demo_history_up_down_and_up_again(url: String, _dialect: Dialect) {
    let mut db = Migrator::new(&DEMO).connect(&url).await.unwrap();
    assert_eq!(db.upgrade("heads").await.unwrap().applied.len(), DEMO.revisions.len());
    assert_eq!(db.current().await.unwrap(), ["a3b4c5d6e7f8"]);
    assert_eq!(tables(&url).await, DEMO_TABLES);
    assert!(db.upgrade("heads").await.unwrap().applied.is_empty());
    db.downgrade("base").await.unwrap();
    assert!(db.current().await.unwrap().is_empty());
    assert!(tables(&url).await.is_empty());
    db.upgrade("heads").await.unwrap();
    assert_eq!(tables(&url).await, DEMO_TABLES);
    db.close().await;
}

fn failing_history() -> History {
    let mut h = History::new();
    h.revision("ok1", &[], "CREATE TABLE first (id INTEGER);", "DROP TABLE first;");
    h.revision(
        "ok2",
        &["ok1"],
        "CREATE TABLE second (id INTEGER);",
        "DROP TABLE second;",
    );
    h.revision(
        "bad3",
        &["ok2"],
        "CREATE TABLE third (id INTEGER);\nINSERT INTO no_such_table VALUES (1);",
        "DROP TABLE third;",
    );
    h
}

async fn a_failing_revision_keeps_nothing_or_asks_for_repair(url: String, dialect: Dialect) {
    let h = failing_history();
    let m = h.load();
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    let err = db.upgrade("head").await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Failed { .. }), "{text}");
    assert!(
        text.contains("revision bad3 (00003_bad3.sql) failed during upgrade"),
        "{text}"
    );
    assert_eq!(db.current().await.unwrap(), ["ok2"]);
    if dialect == Dialect::Mysql {
        // DDL cannot be rolled back: the first statement stays, the
        // revision is recorded as failed, and nothing runs until repair.
        assert_eq!(tables(&url).await, ["first", "second", "third"]);
        let text = db.upgrade("head").await.unwrap_err().to_string();
        assert!(
            text.contains("failed during upgrade at statement 2 of 2 (`INSERT INTO no_such_table"),
            "{text}"
        );
        assert!(text.contains("migrator repair bad3"), "{text}");
        assert!(
            db.downgrade("base").await.is_err(),
            "every command waits for the repair"
        );
        exec(&url, "DROP TABLE third").await;
        db.repair(Some("bad3"), Repair::RolledBack).await.unwrap();
        db.downgrade("base").await.unwrap();
        assert!(tables(&url).await.is_empty());
    } else {
        // Rolled back whole: the next run simply fails the same way.
        assert_eq!(tables(&url).await, ["first", "second"]);
        let text = db.upgrade("head").await.unwrap_err().to_string();
        assert!(text.contains("Nothing of it was kept"), "{text}");
        db.downgrade("base").await.unwrap();
    }
    db.close().await;
}

async fn relative_steps_and_prefixes_on_a_chain(url: String, _dialect: Dialect) {
    let m = chain(30).load();
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    assert_eq!(db.upgrade("head").await.unwrap().applied.len(), 30);
    db.downgrade("-1").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["r0029"]);
    db.downgrade("-10").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["r0019"]);
    db.upgrade("+2").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["r0021"]);
    db.upgrade("r0025").await.unwrap();
    assert_eq!(tables(&url).await.len(), 25);
    db.close().await;
}

async fn transaction_mode_all(url: String, dialect: Dialect) {
    let m = failing_history().load();
    let mut db = Migrator::new(&m)
        .transaction_mode(TransactionMode::All)
        .connect(&url)
        .await
        .unwrap();
    let err = db.upgrade("head").await.unwrap_err();
    let text = err.to_string();
    if dialect == Dialect::Mysql {
        assert!(matches!(err, Error::Config(_)), "{text}");
        assert!(
            text.contains("transaction mode `all` needs DDL that can be rolled back"),
            "{text}"
        );
        assert!(db.current().await.unwrap().is_empty());
    } else {
        assert!(text.contains("the whole run was rolled back"), "{text}");
        assert!(db.current().await.unwrap().is_empty());
        assert!(tables(&url).await.is_empty());
        assert_eq!(db.upgrade("ok2").await.unwrap().applied.len(), 2);
    }
    db.close().await;
}

async fn a_database_ahead_of_the_binary_is_refused(url: String, _dialect: Dialect) {
    let mut h = chain(3);
    let newer = h
        .revision("r0004", &["r0003"], "CREATE TABLE t4 (id INTEGER);", "DROP TABLE t4;")
        .load();
    Migrator::new(&newer)
        .connect(&url)
        .await
        .unwrap()
        .upgrade("head")
        .await
        .unwrap();
    let older = chain(3).load();
    let err = Migrator::new(&older)
        .connect(&url)
        .await
        .unwrap()
        .upgrade("head")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the database is at r0004, which this binary does not contain"),
        "{err}"
    );
    // Its own revisions are applied, not pending; the newer one is unknown.
    let mut db = Migrator::new(&older).connect(&url).await.unwrap();
    let states: Vec<(String, RevisionState)> = db
        .status()
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.revision, s.state))
        .collect();
    db.close().await;
    assert_eq!(
        states,
        [
            ("r0001".to_owned(), RevisionState::Applied),
            ("r0002".to_owned(), RevisionState::Applied),
            ("r0003".to_owned(), RevisionState::Applied),
            ("r0004".to_owned(), RevisionState::Unknown),
        ]
    );
}

async fn irreversible_revisions_refuse_before_running(url: String, _dialect: Dialect) {
    let mut h = History::new();
    h.revision("a1", &[], "CREATE TABLE a (id INTEGER);", "DROP TABLE a;");
    h.write(
        "00002_b2.sql",
        "-- no way back\n-- Revision ID: b2\n-- Revises: a1\n-- migrate:up\nCREATE TABLE b (id INTEGER);\n",
    );
    h.revision("c3", &["b2"], "CREATE TABLE c (id INTEGER);", "DROP TABLE c;");
    let m = h.load();
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    db.upgrade("head").await.unwrap();
    let text = db.downgrade("base").await.unwrap_err().to_string();
    assert!(
        text.contains("revision b2 (00002_b2.sql) has no `-- migrate:down` section"),
        "{text}"
    );
    assert_eq!(db.current().await.unwrap(), ["c3"]);
    assert_eq!(tables(&url).await, ["a", "b", "c"]);
}

async fn transaction_false_sections_record_progress(url: String, _dialect: Dialect) {
    let mut h = History::new();
    h.revision(
        "a1",
        &[],
        "CREATE TABLE a (id INTEGER, name VARCHAR(20));",
        "DROP TABLE a;",
    );
    h.write(
        "00002_b2.sql",
        "-- index outside a transaction\n-- Revision ID: b2\n-- Revises: a1\n\
         -- migrate:up transaction:false\nCREATE INDEX ix_a_name ON a (name);\n\
         -- migrate:up postgresql transaction:false\nCREATE INDEX CONCURRENTLY ix_a_name ON a (name);\n\
         -- migrate:down transaction:false\nDROP INDEX ix_a_name;\n\
         -- migrate:down mysql transaction:false\nDROP INDEX ix_a_name ON a;\n",
    );
    let m = h.load();
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    db.upgrade("head").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["b2"]);
    db.downgrade("a1").await.unwrap();
    db.upgrade("head").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["b2"]);
    db.close().await;
}

/// A revision whose SQL kills its own connection.
async fn dropped_connection(url: String, kill: &str) {
    let mut h = History::new();
    h.revision("a1", &[], "CREATE TABLE a (id INTEGER);", "DROP TABLE a;");
    h.revision("b2", &["a1"], kill, "SELECT 1;");
    let m = h.load();
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    let err = db.upgrade("head").await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("revision b2 (00002_b2.sql) failed during upgrade"),
        "{text}"
    );
    // A fresh connection sees a1 applied and b2 not.
    let mut again = Migrator::new(&m).connect(&url).await.unwrap();
    assert_eq!(again.current().await.unwrap(), ["a1"]);
}

#[tokio::test]
async fn a_dropped_connection_is_a_clear_error_postgres() {
    let Some(db) = tests::server_db(tests::Server::Postgres).await else {
        return;
    };
    dropped_connection(db.url.clone(), "SELECT pg_terminate_backend(pg_backend_pid());").await;
}

#[tokio::test]
async fn a_dropped_connection_is_a_clear_error_mysql() {
    let Some(db) = tests::server_db(tests::Server::Mysql).await else {
        return;
    };
    dropped_connection(db.url.clone(), "KILL CONNECTION_ID();").await;
}

#[tokio::test]
async fn version_table_schema_on_postgres() {
    let Some(db) = tests::server_db(tests::Server::Postgres).await else {
        return;
    };
    exec(&db.url, "CREATE SCHEMA meta").await;
    let m = chain(2).load();
    let mut conn = Migrator::new(&m)
        .version_table_schema(Some("meta".to_owned()))
        .connect(&db.url)
        .await
        .unwrap();
    conn.upgrade("head").await.unwrap();
    assert_eq!(conn.current().await.unwrap(), ["r0002"]);
    // The bookkeeping is in `meta`, the user's tables where they belong.
    assert_eq!(tables(&db.url).await, ["t1", "t2"]);
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM meta.migrator_version")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_revision_with_nothing_for_the_dialect_is_named() {
    let mut h = History::new();
    h.revision("a1", &[], "CREATE TABLE a (id INTEGER);", "DROP TABLE a;");
    h.write("00002_b2.sql", "-- pg only\n-- Revision ID: b2\n-- Revises: a1\n-- migrate:up postgresql\nCREATE EXTENSION IF NOT EXISTS pgcrypto;\n");
    let m = h.load();
    let mut db = Migrator::new(&m).connect(&h.sqlite_url()).await.unwrap();
    let text = db.upgrade("head").await.unwrap_err().to_string();
    assert!(
        text.contains("revision b2 (00002_b2.sql) has no `-- migrate:up` section for sqlite"),
        "{text}"
    );
    assert!(db.current().await.unwrap().is_empty(), "nothing ran");
}

/// A database Alembic has been managing, halfway through the history.
async fn adopt_alembic_database(url: String, _dialect: Dialect) {
    let m = chain(6).load();
    // What Alembic leaves: its version table, at r0003, and the schema.
    exec(&url, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))").await;
    exec(&url, "INSERT INTO alembic_version (version_num) VALUES ('r0003')").await;
    for i in 1..=3 {
        exec(&url, &format!("CREATE TABLE t{i} (id INTEGER PRIMARY KEY)")).await;
    }
    let mut db = Migrator::new(&m)
        .version_table("alembic_version")
        .connect(&url)
        .await
        .unwrap();
    assert_eq!(db.current().await.unwrap(), ["r0003"]);
    let report = db.upgrade("head").await.unwrap();
    let ran: Vec<&str> = report.applied.iter().map(|a| a.revision.as_str()).collect();
    assert_eq!(ran, ["r0004", "r0005", "r0006"]);
    assert_eq!(db.current().await.unwrap(), ["r0006"]);
    // The revisions Alembic applied have no checksum on record: unverified.
    let states: Vec<&str> = db.status().await.unwrap().iter().map(|s| s.state.name()).collect();
    assert_eq!(
        states,
        [
            "unverified",
            "unverified",
            "unverified",
            "applied",
            "applied",
            "applied"
        ]
    );
    assert_eq!(
        tables(&url).await,
        ["alembic_version", "t1", "t2", "t3", "t4", "t5", "t6"]
    );
}

/// What the latest log row says is applied.
async fn latest_digest(url: &str) -> Option<String> {
    scalar(url, "SELECT applied_digest FROM migrator_log ORDER BY id DESC LIMIT 1").await
}

/// The digest computed from scratch for the given version rows.
fn expected_digest(rows: &[String], dialect: Dialect) -> String {
    let graph = Graph::new(&DEMO).unwrap();
    let rows: Vec<_> = rows.iter().map(|r| graph.index_of(r).unwrap()).collect();
    Digest::of_applied(&graph, &graph.ancestors(&rows, true), dialect).to_string()
}

async fn the_applied_digest_follows_every_step(url: String, dialect: Dialect) {
    let mut db = Migrator::new(&DEMO).connect(&url).await.unwrap();
    // Upgrading one revision at a time, then a branch down and up again:
    // the digest kept up step by step equals the one computed from scratch.
    db.upgrade("+3").await.unwrap();
    assert_eq!(
        latest_digest(&url).await,
        Some(expected_digest(&db.current().await.unwrap(), dialect))
    );
    db.upgrade("heads").await.unwrap();
    let at_head = expected_digest(&db.current().await.unwrap(), dialect);
    assert_eq!(latest_digest(&url).await.as_ref(), Some(&at_head));
    // The fast path is taken: with a matching digest an upgrade reads no
    // earlier log row, so an older row forged by hand goes unseen, while
    // `status` (which always reads the whole log) sees it.
    let first = "1a2b3c4d5e6f";
    let recorded = format!("SELECT checksum FROM migrator_log WHERE revision = '{first}' AND operation = 'upgrade'");
    let original = scalar(&url, &recorded).await.unwrap();
    let forge = |checksum: &str| {
        format!("UPDATE migrator_log SET checksum = '{checksum}' WHERE revision = '{first}' AND operation = 'upgrade'")
    };
    exec(&url, &forge(&"f".repeat(64))).await;
    assert!(db.upgrade("heads").await.unwrap().applied.is_empty());
    let status = db.status().await.unwrap();
    let forged = status.iter().find(|s| s.revision == first).unwrap();
    assert_eq!(forged.state, RevisionState::Modified);
    exec(&url, &forge(&original)).await;
    db.downgrade("708192a3b4c5").await.unwrap();
    let rows = db.current().await.unwrap();
    assert_eq!(latest_digest(&url).await, Some(expected_digest(&rows, dialect)));
    assert_ne!(expected_digest(&rows, dialect), at_head);
    // A stamp records no checksum and no digest: the next run reads the
    // whole log, and writes the digest again once every applied revision
    // is verified.
    db.upgrade("heads").await.unwrap();
    db.downgrade("-1").await.unwrap();
    let below = db.current().await.unwrap();
    db.stamp(&["heads"], false).await.unwrap();
    assert_eq!(latest_digest(&url).await, None);
    assert!(db.upgrade("heads").await.unwrap().applied.is_empty());
    db.stamp(&[below[0].as_str()], false).await.unwrap();
    assert_eq!(latest_digest(&url).await, None);
    // The stamp's log row names its target, which is now unverified.
    assert_eq!(db.upgrade("heads").await.unwrap().applied.len(), 1);
    assert_eq!(latest_digest(&url).await, None);
    // Down to nothing and up again: every revision verified once more.
    db.downgrade("base").await.unwrap();
    db.upgrade("heads").await.unwrap();
    assert_eq!(latest_digest(&url).await.as_ref(), Some(&at_head));
    // A wrong digest only costs the slow path.
    exec(
        &url,
        "UPDATE migrator_log SET applied_digest = '00000000000000000000000000000000'",
    )
    .await;
    assert!(db.upgrade("heads").await.unwrap().applied.is_empty());
    db.downgrade("-1").await.unwrap();
    assert_eq!(
        latest_digest(&url).await,
        Some(expected_digest(&db.current().await.unwrap(), dialect))
    );
    // A started, never finished row (a runner that died mid-revision)
    // followed by a later row with the right digest: the fast path must not
    // take that digest's word, and the run refuses, naming the revision.
    let id_of_latest = "(SELECT MAX(id) FROM migrator_log)";
    let dead = format!(
        "INSERT INTO migrator_log (revision, operation, started_at, success, statements_done, tool_version) \
         SELECT 'a3b4c5d6e7f8', 'upgrade', started_at, {no}, 1, tool_version FROM migrator_log WHERE id = {id_of_latest}",
        no = if dialect == Dialect::Postgres { "false" } else { "0" },
    );
    // Another runner's later row, carrying the digest of where the rows
    // stand (a stamp, so that it says nothing of a3b4c5d6e7f8 itself).
    let good = format!(
        "INSERT INTO migrator_log (revision, operation, started_at, finished_at, success, tool_version, applied_digest) \
         SELECT '92a3b4c5d6e7', 'stamp', started_at, finished_at, success, tool_version, applied_digest FROM migrator_log \
         WHERE id = {id_of_latest}"
    );
    // MySQL cannot read the table it inserts into in a subquery: copy via a
    // derived table.
    let (dead, good) = if dialect == Dialect::Mysql {
        (
            dead.replace(
                id_of_latest,
                "(SELECT m FROM (SELECT MAX(id) AS m FROM migrator_log) x)",
            ),
            good.replace(
                &format!("WHERE id = {id_of_latest}"),
                "WHERE id = (SELECT m FROM (SELECT MAX(id) - 1 AS m FROM migrator_log) x)",
            ),
        )
    } else {
        (
            dead,
            good.replace(id_of_latest, "(SELECT MAX(id) - 1 FROM migrator_log)"),
        )
    };
    exec(&url, &dead).await;
    exec(&url, &good).await;
    let blocked = db.upgrade("heads").await.unwrap_err().to_string();
    assert!(blocked.contains("revision a3b4c5d6e7f8"), "{blocked}");
    assert!(blocked.contains("repair"), "{blocked}");
    db.close().await;
}

async fn a_log_table_without_the_digest_column_gets_it(url: String, dialect: Dialect) {
    let id = match dialect {
        Dialect::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        Dialect::Postgres => "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        Dialect::Mysql => "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
    };
    exec(
        &url,
        &format!(
            "CREATE TABLE migrator_log ({id}, revision VARCHAR(32) NOT NULL, operation VARCHAR(16) NOT NULL, \
             checksum VARCHAR(64), started_at VARCHAR(32) NOT NULL, finished_at VARCHAR(32), success BOOLEAN NOT NULL, \
             error TEXT, statements_done INTEGER, tool_version VARCHAR(32) NOT NULL)"
        ),
    )
    .await;
    let mut db = Migrator::new(&DEMO).connect(&url).await.unwrap();
    db.upgrade("heads").await.unwrap();
    assert_eq!(
        latest_digest(&url).await,
        Some(expected_digest(&db.current().await.unwrap(), dialect))
    );
    db.close().await;
}

/// Every table in the database, bookkeeping included, counted by the
/// database's own catalog.
async fn catalog_tables(url: &str, dialect: Dialect) -> String {
    let sql = match dialect {
        Dialect::Sqlite => "SELECT CAST(COUNT(*) AS TEXT) FROM sqlite_master",
        Dialect::Postgres => {
            "SELECT CAST(COUNT(*) AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema()"
        }
        Dialect::Mysql => {
            "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE()"
        }
    };
    scalar(url, sql).await.unwrap()
}

async fn a_dry_run_writes_nothing(url: String, dialect: Dialect) {
    // Read-only, as the CLI's `--dry-run`: not even a SQLite file appears.
    let mut db = Migrator::new(&DEMO).read_only(true).connect(&url).await.unwrap();
    let report = db.dry_run(Direction::Up, "heads").await.unwrap();
    assert_eq!(report.applied.len(), DEMO.revisions.len());
    assert_eq!(report.current, ["a3b4c5d6e7f8"]);
    let refused = db.upgrade("heads").await.unwrap_err().to_string();
    assert!(refused.contains("opened for reading only"), "{refused}");
    assert!(
        db.status()
            .await
            .unwrap()
            .iter()
            .all(|s| s.state == RevisionState::Pending)
    );
    db.close().await;
    if let Some(path) = url.strip_prefix("sqlite://") {
        assert!(
            !std::path::Path::new(path).exists(),
            "a read-only dry run created {path}"
        );
    }
    // On a connection that may write, a dry run still writes nothing.
    let mut db = Migrator::new(&DEMO).connect(&url).await.unwrap();
    db.dry_run(Direction::Up, "heads").await.unwrap();
    db.close().await;
    assert_eq!(catalog_tables(&url, dialect).await, "0");
    // Half-way, a dry run of the rest leaves the rows where they are.
    let mut db = Migrator::new(&DEMO).connect(&url).await.unwrap();
    db.upgrade("2b3c").await.unwrap();
    let before = catalog_tables(&url, dialect).await;
    let report = db.dry_run(Direction::Up, "heads").await.unwrap();
    assert_eq!(report.applied.len(), DEMO.revisions.len() - 2);
    assert_eq!(db.current().await.unwrap(), ["2b3c4d5e6f70"]);
    db.close().await;
    assert_eq!(catalog_tables(&url, dialect).await, before);
}

/// The ```sql example of README.md, exactly as the README shows it.
fn readme_example() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme.find("```sql\n").unwrap() + "```sql\n".len();
    let len = readme[start..].find("```").unwrap();
    readme[start..start + len].to_owned()
}

async fn the_readme_example_revision_runs(url: String, _dialect: Dialect) {
    let mut h = History::new();
    h.revision(
        "9f8e7d6c5b4a",
        &[],
        "CREATE TABLE users (id INTEGER PRIMARY KEY);",
        "DROP TABLE users;",
    );
    h.write(
        "00002_reporting.sql",
        "-- reporting\n-- Revision ID: 77aa88bb99cc\n-- Branch Labels: reporting\n\
         -- migrate:up\nCREATE TABLE report (id INTEGER);\n-- migrate:down\nDROP TABLE report;\n",
    );
    h.write("00003_example.sql", &readme_example());
    let m = h.load();
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    db.upgrade("heads").await.unwrap();
    // 77aa88bb99cc is applied, reached only through Depends On: no row.
    assert_eq!(db.current().await.unwrap(), ["a1b2c3d4e5f6"]);
    assert_eq!(tables(&url).await, ["report", "user_preferences", "users"]);
    db.downgrade("9f8e7d6c5b4a").await.unwrap();
    assert_eq!(tables(&url).await, ["report", "users"]);
    db.upgrade("heads").await.unwrap();
    db.close().await;
}

async fn a_transactional_and_a_transaction_false_section_run_in_file_order(url: String, dialect: Dialect) {
    let mut h = History::new();
    h.revision("a1", &[], "CREATE TABLE a (id INTEGER);", "DROP TABLE a;");
    // The transaction:false section comes first in the file, so it runs first.
    h.write(
        "00002_b2.sql",
        "-- pair\n-- Revision ID: b2\n-- Revises: a1\n\
         -- migrate:up transaction:false\nINSERT INTO a (id) VALUES (1);\nINSERT INTO a (id) VALUES (2);\n\
         -- migrate:up\nCREATE TABLE b (id INTEGER);\nINSERT INTO b (id) SELECT id FROM a;\n\
         -- migrate:down\nDROP TABLE b;\nDELETE FROM a;\n",
    );
    // A failing transactional section after a transaction:false one.
    h.write(
        "00003_c3.sql",
        "-- fails\n-- Revision ID: c3\n-- Revises: b2\n\
         -- migrate:up transaction:false\nCREATE TABLE c (id INTEGER);\n\
         -- migrate:up\nINSERT INTO a (id) VALUES (3);\nINSERT INTO nowhere (id) VALUES (1);\n\
         -- migrate:down\nDROP TABLE c;\n",
    );
    let m = h.load();
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    db.upgrade("b2").await.unwrap();
    let count = |sql: &'static str| {
        let url = url.clone();
        async move { scalar(&url, sql).await.map(|s| s.trim().to_owned()) }
    };
    assert_eq!(
        count("SELECT CAST(COUNT(*) AS CHAR(10)) FROM b").await.as_deref(),
        Some("2"),
        "the transaction:false section ran first"
    );
    let err = db.upgrade("heads").await.unwrap_err().to_string();
    assert!(err.contains("revision c3"), "{err}");
    // MySQL runs the transactional section statement by statement too.
    let took_effect = if dialect == Dialect::Mysql {
        "Its first 2 statements took effect"
    } else {
        "Its first statement took effect"
    };
    assert!(err.contains(took_effect), "{err}");
    assert!(err.contains("migrator repair c3 --rolled-back"), "{err}");
    // The transactional section was rolled back as a whole, except on MySQL,
    // which runs every statement on its own.
    let kept_3 = count("SELECT CAST(COUNT(*) AS CHAR(10)) FROM a WHERE id = 3").await;
    let expected = if dialect == Dialect::Mysql { "1" } else { "0" };
    assert_eq!(kept_3.as_deref(), Some(expected));
    // The next run names what took effect and the way out.
    let blocked = db.upgrade("heads").await.unwrap_err().to_string();
    assert!(
        blocked.contains("revision c3") && blocked.contains(took_effect),
        "{blocked}"
    );
    exec(&url, "DROP TABLE c").await;
    if dialect == Dialect::Mysql {
        exec(&url, "DELETE FROM a WHERE id = 3").await;
    }
    db.repair(Some("c3"), Repair::RolledBack).await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["b2"]);
    db.downgrade("a1").await.unwrap();
    assert_eq!(tables(&url).await, ["a"]);
    db.close().await;
}

/// Autogenerates the revision from the history in `h` to `declared`,
/// writes it as `id` and returns whether there was anything to write.
async fn autogenerate_into(h: &mut History, parent: &[&str], id: &str, url: &str, declared: &str) -> bool {
    let m = h.load();
    let Some(g) = migrator_core::autogenerate(&m, url, declared, "declared.sql")
        .await
        .unwrap()
    else {
        return false;
    };
    h.revision(id, parent, &g.up.sql, &g.down.sql);
    true
}

async fn autogenerate_quotes_odd_names_and_drops_the_real_primary_key(url: String, dialect: Dialect) {
    let q = |name: &str| match dialect {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    };
    let (t, c) = (q("odd\"name`x"), q("we\"ird`y"));
    let pk = if dialect == Dialect::Postgres {
        format!("CONSTRAINT {} ", q("custom pk"))
    } else {
        String::new()
    };
    let v1 = format!("CREATE TABLE {t} (id INTEGER NOT NULL, {c} VARCHAR(20) NOT NULL, {pk}PRIMARY KEY (id));");
    let v2 = format!(
        "CREATE TABLE {t} (id INTEGER NOT NULL, {c} VARCHAR(20) NOT NULL, {pk}PRIMARY KEY (id, {c}));\n\
         CREATE INDEX {} ON {t} ({c});",
        q("ix\"odd")
    );
    let mut h = History::new();
    assert!(autogenerate_into(&mut h, &[], "v1", &url, &v1).await);
    let m1 = h.load();
    let mut db = Migrator::new(&m1).connect(&url).await.unwrap();
    db.upgrade("heads").await.unwrap();
    db.close().await;
    exec(&url, &format!("INSERT INTO {t} (id, {c}) VALUES (1, 'kept')")).await;
    assert!(autogenerate_into(&mut h, &["v1"], "v2", &url, &v2).await);
    let m = h.load();
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    db.upgrade("heads").await.unwrap();
    // The history now gives exactly v2, and the row is still there.
    let again = migrator_core::autogenerate(&m, &url, &v2, "declared.sql")
        .await
        .unwrap();
    assert!(again.is_none(), "{again:?}");
    db.downgrade("v1").await.unwrap();
    db.close().await;
    let rows = scalar(&url, &format!("SELECT {c} FROM {t}")).await;
    assert_eq!(rows.as_deref(), Some("kept"));
}

async fn a_table_that_exists_already_points_to_stamp(url: String, _dialect: Dialect) {
    let h = chain(3);
    let m = h.load();
    // Built by hand (or by another tool) before migrator ran.
    exec(&url, "CREATE TABLE t1 (id INTEGER PRIMARY KEY)").await;
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    let error = db.upgrade("heads").await.unwrap_err();
    // The driver's error is the source, for callers that want it.
    let source = std::error::Error::source(&error).and_then(|s| s.downcast_ref::<sqlx::Error>());
    assert!(matches!(source, Some(sqlx::Error::Database(_))), "{source:?}");
    let err = error.to_string();
    assert!(err.contains("already exists"), "{err}");
    assert!(err.contains("`migrator stamp r0001`"), "{err}");
    // The advice is right: after it, the rest applies.
    db.stamp(&["r0001"], false).await.unwrap();
    assert_eq!(db.upgrade("heads").await.unwrap().applied.len(), 2);
    assert_eq!(tables(&url).await, ["t1", "t2", "t3"]);
    db.close().await;
}

/// Every ```sql block of docs/*.md.
fn docs_sql_examples() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("```sql\n") {
            let body = &rest[start + 7..];
            let end = body.find("```").unwrap();
            // Blocks indented in a list keep their indentation: drop it.
            let block: String = body[..end].lines().map(|l| format!("{}\n", l.trim_start())).collect();
            found.push((path.file_name().unwrap().to_string_lossy().into_owned(), block));
            rest = &body[end..];
        }
    }
    found
}

async fn the_sql_examples_of_the_docs_run(url: String, _dialect: Dialect) {
    let examples = docs_sql_examples();
    assert!(!examples.is_empty(), "docs/format.md shows at least one revision");
    for (n, (file, sql)) in examples.iter().enumerate() {
        let h = History::new();
        let text = if sql.contains("Revision ID") {
            sql.clone()
        } else {
            format!("-- example {n} of {file}\n-- Revision ID: doc{n}\n\n{sql}")
        };
        h.write("00001_example.sql", &text);
        let m = h.load();
        let mut db = Migrator::new(&m).connect(&url).await.unwrap();
        if let Err(e) = db.upgrade("heads").await {
            panic!("the example of {file} fails: {e}\n{text}");
        }
        if m.revisions[0].is_reversible(db.dialect()) {
            db.downgrade("base").await.unwrap();
        }
        db.close().await;
        for t in tables(&url).await {
            exec(&url, &format!("DROP TABLE {t}")).await;
        }
        exec(&url, "DROP TABLE migrator_log").await;
        exec(&url, "DROP TABLE migrator_version").await;
    }
}

async fn two_histories_in_one_database_keep_two_logs(url: String, _dialect: Dialect) {
    let mut a = History::new();
    a.revision("a1", &[], "CREATE TABLE ta (id INTEGER);", "DROP TABLE ta;");
    let mut b = History::new();
    b.revision("b1", &[], "CREATE TABLE tb (id INTEGER);", "DROP TABLE tb;");
    let (ma, mb) = (a.load(), b.load());
    for _ in 0..2 {
        let mut db = Migrator::new(&ma).version_table("va").connect(&url).await.unwrap();
        db.upgrade("heads").await.unwrap();
        assert_eq!(db.current().await.unwrap(), ["a1"]);
        db.close().await;
        let mut db = Migrator::new(&mb).version_table("vb").connect(&url).await.unwrap();
        db.upgrade("heads").await.unwrap();
        assert_eq!(db.current().await.unwrap(), ["b1"]);
        assert!(
            db.status()
                .await
                .unwrap()
                .iter()
                .all(|s| s.state == RevisionState::Applied)
        );
        db.close().await;
    }
    let logs = scalar(&url, "SELECT CAST(COUNT(*) AS CHAR(10)) FROM va_log").await;
    assert_eq!(logs.map(|s| s.trim().to_owned()).as_deref(), Some("1"));
}

async fn a_service_hands_over_its_own_connection(url: String, dialect: Dialect) {
    use sqlx::Connection as _;
    let count = "SELECT CAST(COUNT(*) AS CHAR(10)) FROM users";
    let counted = |v: Option<String>| v.map(|s| s.trim().to_owned());
    match dialect {
        Dialect::Sqlite => {
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
            let conn = sqlx::SqliteConnection::connect_with(&options.create_if_missing(true))
                .await
                .unwrap();
            let mut db = Migrator::new(&DEMO).connect_with(conn).await.unwrap();
            assert_eq!(db.upgrade("heads").await.unwrap().applied.len(), DEMO.revisions.len());
            let mut conn = db.into_connection().into_sqlite().unwrap();
            let n: Option<String> = sqlx::query_scalar(count).fetch_one(&mut conn).await.unwrap();
            assert_eq!(counted(n).as_deref(), Some("0"));
        }
        Dialect::Postgres => {
            let conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let mut db = Migrator::new(&DEMO).connect_with(conn).await.unwrap();
            assert_eq!(db.upgrade("heads").await.unwrap().applied.len(), DEMO.revisions.len());
            let mut conn = db.into_connection().into_postgres().unwrap();
            let n: Option<String> = sqlx::query_scalar("SELECT CAST(COUNT(*) AS TEXT) FROM users")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(counted(n).as_deref(), Some("0"));
        }
        Dialect::Mysql => {
            let conn = sqlx::MySqlConnection::connect(&url).await.unwrap();
            let mut db = Migrator::new(&DEMO).connect_with(conn).await.unwrap();
            assert_eq!(db.upgrade("heads").await.unwrap().applied.len(), DEMO.revisions.len());
            let mut conn = db.into_connection().into_mysql().unwrap();
            let n: Option<String> = sqlx::query_scalar(count).fetch_one(&mut conn).await.unwrap();
            assert_eq!(counted(n).as_deref(), Some("0"));
        }
    }
    assert_eq!(tables(&url).await, DEMO_TABLES);
}

async fn a_table_locked_elsewhere_fails_fast(url: String, dialect: Dialect) {
    use sqlx::Connection as _;
    let mut h = History::new();
    h.revision("a1", &[], "CREATE TABLE t (id INTEGER);", "DROP TABLE t;");
    h.revision(
        "b2",
        &["a1"],
        "ALTER TABLE t ADD COLUMN x INTEGER;",
        "ALTER TABLE t DROP COLUMN x;",
    );
    let m = h.load();
    if dialect == Dialect::Sqlite {
        // One writer at a time there, and its busy timeout is the lock
        // timeout: the setting changes nothing, and harms nothing.
        let mut db = Migrator::new(&m)
            .ddl_lock_timeout(Some(std::time::Duration::from_secs(1)))
            .connect(&url)
            .await
            .unwrap();
        assert_eq!(db.upgrade("heads").await.unwrap().applied.len(), 2);
        db.close().await;
        return;
    }
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    db.upgrade("a1").await.unwrap();
    db.close().await;
    // A long transaction elsewhere holds a lock on the table.
    let raw = sqlx::AssertSqlSafe;
    let holder = async {
        if dialect == Dialect::Postgres {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(raw("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE"))
                .execute(&mut c)
                .await
                .unwrap();
            Box::new(c) as Box<dyn std::any::Any>
        } else {
            let mut c = sqlx::MySqlConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(raw("START TRANSACTION; SELECT * FROM t"))
                .execute(&mut c)
                .await
                .unwrap();
            Box::new(c) as Box<dyn std::any::Any>
        }
    }
    .await;
    let started = std::time::Instant::now();
    let mut db = Migrator::new(&m)
        .ddl_lock_timeout(Some(std::time::Duration::from_secs(1)))
        .connect(&url)
        .await
        .unwrap();
    let err = db.upgrade("heads").await.unwrap_err().to_string();
    db.close().await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "it waited {:?}",
        started.elapsed()
    );
    assert!(
        err.contains("revision b2") && err.contains("--ddl-lock-timeout"),
        "{err}"
    );
    drop(holder);
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    if dialect == Dialect::Mysql {
        // MySQL's DDL is not transactional: the failed ALTER is recorded as
        // failed at its statement, with nothing of it kept.
        let _ = db.repair(Some("b2"), Repair::RolledBack).await;
    }
    db.upgrade("heads").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["b2"]);
    db.close().await;
}

/// A revision's `Statement Timeout` header holds for that revision alone:
/// it overrides the run's `--statement-timeout` for it, and the next
/// revision runs under the run's again. A timeout is reported with the
/// revision and the setting to change.
async fn a_revision_s_own_timeouts_hold_for_it_alone(url: String, dialect: Dialect) {
    let sleep = |secs: &str| match dialect {
        Dialect::Postgres => format!("SELECT pg_sleep({secs});"),
        Dialect::Mysql => format!("SELECT SLEEP({secs});"),
        Dialect::Sqlite => "SELECT 1;".to_owned(),
    };
    let with_header =
        |text: String, header: &str| text.replacen("\n\n-- migrate:up", &format!("\n-- {header}\n\n-- migrate:up"), 1);
    let h = History::new();
    h.write(
        "a1.sql",
        &with_header(
            tests::revision_text(
                "a1",
                &[],
                &format!("CREATE TABLE t (id INTEGER);\n{}", sleep("1.5")),
                "DROP TABLE t;",
            ),
            "Statement Timeout: 10s",
        ),
    );
    h.write("b2.sql", &tests::revision_text("b2", &["a1"], &sleep("1.5"), ""));
    h.write(
        "c3.sql",
        &with_header(
            tests::revision_text("c3", &["b2"], &sleep("1.5"), ""),
            "Statement Timeout: 500ms",
        ),
    );
    let m = h.load();
    let second = Some(std::time::Duration::from_secs(1));
    let mut db = Migrator::new(&m).statement_timeout(second).connect(&url).await.unwrap();
    if dialect == Dialect::Sqlite {
        // SQLite has no such settings: the headers change nothing.
        assert_eq!(db.upgrade("heads").await.unwrap().applied.len(), 3);
        return;
    }
    let err = db.upgrade("heads").await.unwrap_err().to_string();
    assert_eq!(db.current().await.unwrap(), ["a1"], "a1 ran under its own 10 s: {err}");
    assert!(
        err.contains("revision b2") && err.contains("--statement-timeout") && err.contains("Nothing of it was kept"),
        "b2 ran under the run's 1 s again: {err}"
    );
    db.close().await;
    // Without a run's timeout, c3's own 500 ms stops it.
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    if dialect == Dialect::Mysql {
        // b2's SELECT left nothing, but MySQL records it as failed at its statement.
        let _ = db.repair(Some("b2"), Repair::RolledBack).await;
    }
    let err = db.upgrade("heads").await.unwrap_err().to_string();
    assert_eq!(db.current().await.unwrap(), ["b2"], "{err}");
    assert!(
        err.contains("revision c3") && err.contains("Statement Timeout: 30min"),
        "{err}"
    );
    db.close().await;
}

/// A serialization failure (SQLSTATE 40001, what CockroachDB and
/// `SERIALIZABLE` PostgreSQL return under contention) in the bookkeeping
/// transaction that closes a `transaction:false` revision is retried: a
/// trigger raises it twice here, and the run still completes, recording
/// the revision once; raised for good, it fails naming what it was doing.
#[tokio::test]
async fn a_serialization_failure_in_bookkeeping_is_retried() {
    let Some(db) = tests::server_db(tests::Server::Postgres).await else {
        return;
    };
    let url = db.url.as_str();
    let mut h = History::new();
    h.revision("a1", &[], "CREATE TABLE t (id INTEGER);", "DROP TABLE t;");
    h.write(
        "b2.sql",
        "-- b2\n--\n-- Revision ID: b2\n-- Revises: a1\n\n-- migrate:up transaction:false\n\
         CREATE TABLE u (id INTEGER);\n\n-- migrate:down\nDROP TABLE u;\n",
    );
    h.write(
        "c3.sql",
        "-- c3\n--\n-- Revision ID: c3\n-- Revises: b2\n\n-- migrate:up transaction:false\n\
         CREATE TABLE v (id INTEGER);\n\n-- migrate:down\nDROP TABLE v;\n",
    );
    let m = h.load();
    let mut c = Migrator::new(&m).connect(url).await.unwrap();
    c.upgrade("a1").await.unwrap();
    exec(
        url,
        "CREATE SEQUENCE failures; \
         CREATE FUNCTION fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF NEW.success AND nextval('failures') NOT IN (3, 4) THEN \
         RAISE EXCEPTION 'could not serialize access' USING ERRCODE = 'serialization_failure'; END IF; \
         RETURN NEW; END $$; \
         CREATE TRIGGER fail BEFORE UPDATE ON migrator_log FOR EACH ROW EXECUTE FUNCTION fail();",
    )
    .await;
    c.upgrade("b2").await.unwrap();
    assert_eq!(c.current().await.unwrap(), ["b2"]);
    assert_eq!(
        scalar(url, "SELECT CAST(last_value AS TEXT) FROM failures")
            .await
            .as_deref(),
        Some("3"),
        "two failures, then the third try committed"
    );
    // The fourth try passes; from the fifth on every try fails: c3's
    // closing transaction is tried six times in all, then the error stands.
    exec(url, "SELECT nextval('failures')").await;
    let err = c.upgrade("heads").await.unwrap_err().to_string();
    assert!(
        err.contains("could not serialize access") && err.contains("40001"),
        "{err}"
    );
    assert_eq!(
        scalar(url, "SELECT CAST(last_value AS TEXT) FROM failures")
            .await
            .as_deref(),
        Some("10")
    );
    assert_eq!(c.current().await.unwrap(), ["b2"]);
    c.close().await;
}
