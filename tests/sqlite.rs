//! SQLite-specific executor tests: the demo's branch rows, a 300-revision
//! chain, `transaction:false` sections and `repair`. The cases every
//! dialect shares are in `databases.rs`.

#![allow(clippy::unwrap_used, clippy::panic)]

use migrator_core::{Error, Migrations, Migrator, Repair, TransactionMode};
use tests::{History, chain, sqlite_log, sqlite_tables};

static DEMO: Migrations = migrator_macros::embed_migrations!("../migrations");

#[tokio::test]
async fn demo_history_upgrades_and_downgrades_completely() {
    let h = History::new();
    let url = h.sqlite_url();
    let mut db = Migrator::new(&DEMO).connect(&url).await.unwrap();
    let report = db.upgrade("heads").await.unwrap();
    assert_eq!(report.applied.len(), DEMO.revisions.len());
    assert_eq!(report.current, ["a3b4c5d6e7f8"]);
    assert_eq!(db.current().await.unwrap(), ["a3b4c5d6e7f8"]);
    assert_eq!(
        sqlite_tables(&url).await,
        [
            "audit_log",
            "invitations",
            "memberships",
            "organisations",
            "plans",
            "subscriptions",
            "users"
        ]
    );
    // A second run is a no-op.
    assert!(db.upgrade("head").await.unwrap().applied.is_empty());
    let down = db.downgrade("base").await.unwrap();
    assert_eq!(down.applied.len(), DEMO.revisions.len());
    assert!(db.current().await.unwrap().is_empty());
    assert!(sqlite_tables(&url).await.is_empty());
    let log = sqlite_log(&url).await;
    assert_eq!(log.len(), 2 * DEMO.revisions.len());
    assert!(log.iter().all(|(_, _, ok)| *ok));
}

#[tokio::test]
async fn labelled_branch_and_merge_move_rows() {
    let h = History::new();
    let url = h.sqlite_url();
    let mut db = Migrator::new(&DEMO).connect(&url).await.unwrap();
    // One step along the billing branch's line from base: its root.
    db.upgrade("billing@+1").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["1a2b3c4d5e6f"]);
    db.upgrade("5e6f").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["5e6f708192a3"]);
    db.upgrade("708192").await.unwrap();
    // Two branches applied: one row each.
    assert_eq!(db.current().await.unwrap(), ["5e6f708192a3", "708192a3b4c5"]);
    db.upgrade("8192a3b4c5d6").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["8192a3b4c5d6"]);
    // Reverting the merge gives the two rows back.
    db.downgrade("708192a3b4c5").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["6f708192a3b4", "708192a3b4c5"]);
}

#[tokio::test]
async fn a_long_chain_moves_by_relative_steps_and_prefixes() {
    let h = chain(300);
    let m = h.load();
    let url = h.sqlite_url();
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    assert_eq!(db.upgrade("head").await.unwrap().applied.len(), 300);
    assert_eq!(db.current().await.unwrap(), ["r0300"]);
    let down = db.downgrade("-1").await.unwrap();
    assert_eq!(
        down.applied.iter().map(|a| a.revision.as_str()).collect::<Vec<_>>(),
        ["r0300"]
    );
    assert_eq!(db.current().await.unwrap(), ["r0299"]);
    db.downgrade("-10").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["r0289"]);
    db.upgrade("+2").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["r0291"]);
    // A six-character prefix that names exactly one revision.
    let up = db.upgrade("r00300").await;
    assert!(matches!(up, Err(Error::Plan(_))), "r00300 matches nothing: {up:?}");
    db.upgrade("r0295").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["r0295"]);
    // Upgrading to an ancestor does nothing.
    assert!(db.upgrade("r0100").await.unwrap().applied.is_empty());
    assert_eq!(db.current().await.unwrap(), ["r0295"]);
    assert_eq!(sqlite_tables(&url).await.len(), 295);
}

#[tokio::test]
async fn unreachable_database_is_a_clear_error() {
    let m = chain(1).load();
    let err = Migrator::new(&m)
        .connect("sqlite:///nonexistent-dir/sub/x.db")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Connect { .. }), "{text}");
    assert!(
        text.starts_with("cannot connect to sqlite:///nonexistent-dir/sub/x.db"),
        "{text}"
    );
}

#[tokio::test]
async fn transaction_false_sections_run_outside_a_transaction() {
    let mut h = History::new();
    h.revision("a1", &[], "CREATE TABLE a (id INTEGER);", "DROP TABLE a;");
    // VACUUM cannot run inside a transaction: this proves the section runs outside one.
    h.write(
        "00002_b2.sql",
        "-- vacuum\n-- Revision ID: b2\n-- Revises: a1\n-- migrate:up transaction:false\nVACUUM;\n-- migrate:down\n",
    );
    h.revision("c3", &["b2"], "CREATE TABLE c (id INTEGER);", "DROP TABLE c;");
    h.write(
        "00004_d4.sql",
        "-- fails\n-- Revision ID: d4\n-- Revises: c3\n-- migrate:up transaction:false\nCREATE TABLE d (id INTEGER);\nVACUUM nope;\n-- migrate:down\nDROP TABLE d;\n",
    );
    let m = h.load();
    let url = h.sqlite_url();
    for mode in [TransactionMode::PerRevision, TransactionMode::All] {
        let mut db = Migrator::new(&m).transaction_mode(mode).connect(&url).await.unwrap();
        let report = db.upgrade("c3").await.unwrap();
        assert_eq!(report.applied.len(), 3, "{mode:?}");
        assert_eq!(db.current().await.unwrap(), ["c3"]);
        let text = db.upgrade("d4").await.unwrap_err().to_string();
        assert!(
            text.contains("Its first statement took effect and could not be rolled back"),
            "{text}"
        );
        // The revision is not recorded; its first statement did take effect.
        assert_eq!(db.current().await.unwrap(), ["c3"]);
        assert_eq!(sqlite_tables(&url).await, ["a", "c", "d"]);
        // The next run refuses, naming the statement and `repair`.
        let text = db.upgrade("head").await.unwrap_err().to_string();
        assert!(
            text.contains("revision d4 (00004_d4.sql) failed during upgrade at statement 2 of 2 (`VACUUM nope`)"),
            "{text}"
        );
        assert!(text.contains("migrator repair d4 --applied"), "{text}");
        // Undo by hand, record it as rolled back, and everything goes on.
        sqlx_drop_table(&url, "d").await;
        db.repair(None, Repair::RolledBack).await.unwrap();
        assert_eq!(db.current().await.unwrap(), ["c3"]);
        db.downgrade("base").await.unwrap();
        assert!(sqlite_tables(&url).await.is_empty());
    }
}

#[tokio::test]
async fn repair_applied_moves_the_rows_on() {
    let mut h = History::new();
    h.revision("a1", &[], "CREATE TABLE a (id INTEGER);", "DROP TABLE a;");
    h.write(
        "00002_b2.sql",
        "-- fails late\n-- Revision ID: b2\n-- Revises: a1\n-- migrate:up transaction:false\nCREATE TABLE b (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n-- migrate:down\nDROP TABLE b;\n",
    );
    h.revision("c3", &["b2"], "CREATE TABLE c (id INTEGER);", "DROP TABLE c;");
    let m = h.load();
    let url = h.sqlite_url();
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    assert!(db.upgrade("head").await.is_err());
    assert_eq!(db.current().await.unwrap(), ["a1"]);
    assert!(matches!(
        db.repair(Some("c3"), Repair::Applied).await,
        Err(Error::NothingToRepair(_))
    ));
    // Finished by hand (the failing statement was meant to be a no-op):
    // record it as applied and continue.
    let report = db.repair(Some("b2"), Repair::Applied).await.unwrap();
    assert_eq!(report.current, ["b2"]);
    db.upgrade("head").await.unwrap();
    assert_eq!(db.current().await.unwrap(), ["c3"]);
    assert!(matches!(
        db.repair(None, Repair::Applied).await,
        Err(Error::NothingToRepair(_))
    ));
    let log = sqlite_log(&url).await;
    let ops: Vec<&str> = log
        .iter()
        .map(|(r, op, _)| if r == "b2" { op.as_str() } else { "" })
        .filter(|o| !o.is_empty())
        .collect();
    assert_eq!(ops, ["upgrade", "repair"]);
}

async fn sqlx_drop_table(url: &str, table: &str) {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
        .execute(&mut c)
        .await
        .unwrap();
}

/// SQLite sends a revision's SQL and its bookkeeping in one script; SQL
/// that ends in a comment, without a semicolon, or with a block comment
/// must neither swallow the bookkeeping nor lose its own statements.
#[tokio::test]
async fn sections_ending_oddly_are_recorded() {
    let h = History::new();
    h.write(
        "a_line_comment.sql",
        "-- a\n--\n-- Revision ID: a\n-- Revises:\n\n-- migrate:up\nCREATE TABLE ta (id INTEGER) -- no semicolon",
    );
    h.write(
        "b_block_comment.sql",
        "-- b\n--\n-- Revision ID: b\n-- Revises: a\n\n-- migrate:up\nCREATE TABLE tb (id INTEGER);\n/* left open",
    );
    h.write(
        "c_empty.sql",
        "-- c\n--\n-- Revision ID: c\n-- Revises: b\n\n-- migrate:up\n-- nothing to do\n",
    );
    let url = h.sqlite_url();
    let m = h.load();
    for mode in [TransactionMode::PerRevision, TransactionMode::All] {
        std::fs::remove_file(h.root().join("test.db")).ok();
        let mut db = Migrator::new(&m).transaction_mode(mode).connect(&url).await.unwrap();
        assert_eq!(db.upgrade("head").await.unwrap().applied.len(), 3, "{mode:?}");
        assert_eq!(db.current().await.unwrap(), ["c"]);
        assert_eq!(sqlite_tables(&url).await, ["ta", "tb"]);
        let log = sqlite_log(&url).await;
        let revisions: Vec<&str> = log
            .iter()
            .map(|(r, _, ok)| {
                assert!(ok);
                r.as_str()
            })
            .collect();
        assert_eq!(revisions, ["a", "b", "c"], "{mode:?}");
        db.close().await;
    }
}

/// parent <- child (ON DELETE CASCADE), with a row in each.
fn parent_child() -> History {
    let mut h = History::new();
    h.revision(
        "base1",
        &[],
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\n\
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE);\n\
         INSERT INTO parent (id, name) VALUES (1, 'a');\nINSERT INTO child (id, parent_id) VALUES (10, 1);",
        "DROP TABLE child;\nDROP TABLE parent;",
    );
    h
}

const REBUILD_PARENT: &str = "PRAGMA foreign_keys = OFF;\n\
    CREATE TABLE new_parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');\n\
    INSERT INTO new_parent (id, name) SELECT id, COALESCE(name, '') FROM parent;\n\
    DROP TABLE parent;\nALTER TABLE new_parent RENAME TO parent;";

#[tokio::test]
async fn foreign_keys_off_is_hoisted_out_of_the_transaction() {
    for mode in [TransactionMode::PerRevision, TransactionMode::All] {
        let mut h = parent_child();
        h.revision("rebuild2", &["base1"], REBUILD_PARENT, "SELECT 1;");
        h.revision(
            "after3",
            &["rebuild2"],
            "CREATE TABLE later (x INTEGER);",
            "DROP TABLE later;",
        );
        let url = h.sqlite_url();
        let m = h.load();
        let mut db = Migrator::new(&m).transaction_mode(mode).connect(&url).await.unwrap();
        db.upgrade("heads").await.unwrap();
        db.close().await;
        let child_rows = tests::scalar(&url, "SELECT CAST(COUNT(*) AS TEXT) FROM child").await;
        assert_eq!(child_rows.as_deref(), Some("1"), "{mode:?}: the cascade fired");
    }
}

#[tokio::test]
async fn rows_that_break_foreign_keys_roll_the_revision_back() {
    let mut h = parent_child();
    h.revision(
        "orphan2",
        &["base1"],
        "PRAGMA foreign_keys = OFF;\nINSERT INTO child (id, parent_id) VALUES (11, 999);",
        "SELECT 1;",
    );
    let url = h.sqlite_url();
    let m = h.load();
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    let err = db.upgrade("heads").await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::ForeignKeyViolations { .. }), "{text}");
    assert!(text.contains("revision orphan2 (00002_orphan2.sql)"), "{text}");
    assert!(text.contains("child row 11 -> parent"), "{text}");
    assert!(text.contains("nothing of it was kept"), "{text}");
    assert_eq!(db.current().await.unwrap(), ["base1"]);
    db.close().await;
    let child_rows = tests::scalar(&url, "SELECT CAST(COUNT(*) AS TEXT) FROM child").await;
    assert_eq!(child_rows.as_deref(), Some("1"));
}

#[tokio::test]
async fn a_revision_interrupted_after_its_last_statement_says_so() {
    let mut h = History::new();
    h.revision("a1", &[], "CREATE TABLE a (id INTEGER);", "DROP TABLE a;");
    h.write(
        "00002_b2.sql",
        "-- two steps\n-- Revision ID: b2\n-- Revises: a1\n-- migrate:up transaction:false\n\
         CREATE TABLE b (id INTEGER);\nCREATE INDEX ix_b_with_a_long_name_to_cut_short ON b (id) WHERE id > 1000000;\n\
         -- migrate:down\nDROP TABLE b;\n",
    );
    let m = h.load();
    let url = h.sqlite_url();
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    db.upgrade("a1").await.unwrap();
    // What a process killed between the last statement and the bookkeeping
    // leaves: both statements done, the row started and never finished.
    tests::exec(
        &url,
        "CREATE TABLE b (id INTEGER); INSERT INTO migrator_log (revision, operation, started_at, success, \
         statements_done, tool_version) VALUES ('b2', 'upgrade', '2026-01-01 00:00:00.000', 0, 2, 'test')",
    )
    .await;
    let text = db.upgrade("heads").await.unwrap_err().to_string();
    assert!(
        text.contains("was interrupted during upgrade after all 2 of its statements completed"),
        "{text}"
    );
    assert!(
        text.contains("Every statement took effect, but the revision was not recorded as done"),
        "{text}"
    );
    assert!(!text.contains("of 2 (``)"), "{text}");
    // Stopped after the first: the second is named, cut at a word.
    tests::exec(
        &url,
        "UPDATE migrator_log SET statements_done = 1 WHERE revision = 'b2'",
    )
    .await;
    let text = db.upgrade("heads").await.unwrap_err().to_string();
    assert!(
        text.contains("at statement 2 of 2 (`CREATE INDEX ix_b_with_a_long_name_to_cut_short ON b (id) ...`)"),
        "{text}"
    );
    assert!(text.contains("Its first statement took effect"), "{text}");
    db.close().await;
}

#[tokio::test]
async fn a_renamed_revision_is_named_with_the_way_out() {
    let h = chain(3);
    let url = h.sqlite_url();
    let m = h.load();
    let mut db = Migrator::new(&m).connect(&url).await.unwrap();
    db.upgrade("heads").await.unwrap();
    db.close().await;
    // The last file gets a new id, its SQL unchanged.
    let renamed = History::new();
    for i in 1..=3 {
        let text = std::fs::read_to_string(h.migrations_dir().join(format!("{i:05}_r{i:04}.sql"))).unwrap();
        renamed.write(&format!("{i:05}.sql"), &text.replace("r0003", "r0009"));
    }
    let m2 = renamed.load();
    let mut db = Migrator::new(&m2).connect(&url).await.unwrap();
    let err = db.upgrade("heads").await.unwrap_err().to_string();
    assert!(
        err.contains("Revision r0003 was applied with exactly the SQL of r0009 (00003.sql)"),
        "{err}"
    );
    assert!(err.contains("`migrator stamp --purge r0009`"), "{err}");
    // The advice works.
    db.stamp(&["r0009"], true).await.unwrap();
    assert!(db.upgrade("heads").await.unwrap().applied.is_empty());
    assert_eq!(db.current().await.unwrap(), ["r0009"]);
    db.close().await;
}
