//! `revision --autogenerate`, drift in `check`, and `migrator test`, on all
//! three databases: a declared schema v1, then v2 (a new column with a
//! default, a nullability change, an index replaced by a multi-column one,
//! a new table with a composite primary key and cascading foreign keys, and
//! on PostgreSQL and MySQL a named check and a view).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use tests::{Server, server_db};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/schema/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn run(dir: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrator"))
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, url: &str, args: &[&str]) -> String {
    let out = run(dir, url, args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
    text(&out)
}

fn declared_schema_round_trip(url: &str, suffix: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (v1, v2) = (
        fixture(&format!("v1_{suffix}.sql")),
        fixture(&format!("v2_{suffix}.sql")),
    );
    ok(dir, url, &["init"]);
    // From an empty history to v1.
    ok(
        dir,
        url,
        &[
            "revision",
            "--autogenerate",
            "--schema",
            &v1,
            "-m",
            "v1",
            "--rev-id",
            "v1",
        ],
    );
    let v1_file = std::fs::read_to_string(
        dir.join(
            std::fs::read_dir(dir.join("migrations"))
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path(),
        ),
    )
    .unwrap();
    assert!(
        v1_file.contains("CREATE TABLE") && v1_file.contains("-- REVIEW: drops data: table"),
        "{v1_file}"
    );
    // Nothing to do once the history matches.
    assert_eq!(
        run(dir, url, &["check", "--schema", &v1]).status.code(),
        Some(1),
        "not applied yet"
    );
    ok(dir, url, &["-q", "upgrade", "head"]);
    ok(dir, url, &["check", "--schema", &v1]);
    assert!(
        ok(
            dir,
            url,
            &["revision", "--autogenerate", "--schema", &v1, "-m", "again"]
        )
        .contains("no changes")
    );
    // In between: the live database is v1, the declared schema v2.
    let drift = run(dir, url, &["check", "--schema", &v2]);
    assert_eq!(drift.status.code(), Some(1));
    assert!(
        text(&drift).contains("schema drift: table tags is missing"),
        "{}",
        text(&drift)
    );
    // From v1 to v2.
    ok(
        dir,
        url,
        &[
            "revision",
            "--autogenerate",
            "--schema",
            &v2,
            "-m",
            "v2",
            "--rev-id",
            "v2",
        ],
    );
    assert_eq!(
        run(dir, url, &["check", "--schema", &v2]).status.code(),
        Some(1),
        "v2 is pending"
    );
    ok(dir, url, &["-q", "upgrade", "head"]);
    ok(dir, url, &["check", "--schema", &v2]);
    // The downgrade restores v1 exactly: only "behind" remains, no drift.
    ok(dir, url, &["-q", "downgrade", "-1"]);
    let back = text(&run(dir, url, &["check", "--schema", &v1]));
    assert!(
        back.contains("behind: 1 pending (v2)") && !back.contains("drift"),
        "{back}"
    );
    // The generated history round-trips on a scratch database.
    assert!(ok(dir, url, &["test"]).contains("ok: 2 revision(s)"));
}

#[test]
fn autogenerate_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    declared_schema_round_trip(&format!("sqlite://{}/app.db", tmp.path().display()), "sqlite");
}

#[tokio::test]
async fn autogenerate_on_postgres() {
    let Some(db) = server_db(Server::Postgres).await else {
        return;
    };
    declared_schema_round_trip(&db.url, "pg");
}

#[tokio::test]
async fn autogenerate_on_mysql() {
    let Some(db) = server_db(Server::Mysql).await else {
        return;
    };
    declared_schema_round_trip(&db.url, "my");
}
