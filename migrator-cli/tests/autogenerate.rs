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

/// Row counts of the tables, read with `sqlite3`.
fn sqlite_counts(db: &Path, tables: &[&str]) -> Vec<(String, String)> {
    let sql: Vec<String> = tables
        .iter()
        .map(|t| format!("SELECT '{t}', COUNT(*) FROM {t};"))
        .collect();
    let out = Command::new("sqlite3").arg(db).arg(sql.join(" ")).output().unwrap();
    assert!(
        out.status.success(),
        "sqlite3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (t, n) = l.split_once('|').unwrap();
            (t.to_owned(), n.to_owned())
        })
        .collect()
}

#[test]
fn sqlite_rebuilds_of_referenced_tables_keep_every_row() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = dir.join("app.db");
    let url = format!("sqlite://{}", db.display());
    let v1 = "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\n\
              CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE, note TEXT);\n\
              CREATE TABLE grandchild (id INTEGER PRIMARY KEY, child_id INTEGER REFERENCES child (id) ON DELETE CASCADE);\n\
              CREATE TABLE plain (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));\n";
    // v2 changes both referenced tables in ways only a rebuild can.
    let v2 = "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '', CONSTRAINT name_len CHECK (length(name) < 100));\n\
              CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE, note TEXT NOT NULL DEFAULT 'x');\n\
              CREATE TABLE grandchild (id INTEGER PRIMARY KEY, child_id INTEGER REFERENCES child (id) ON DELETE CASCADE);\n\
              CREATE TABLE plain (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));\n";
    std::fs::write(dir.join("v1.sql"), v1).unwrap();
    std::fs::write(dir.join("v2.sql"), v2).unwrap();
    ok(dir, &url, &["init"]);
    ok(
        dir,
        &url,
        &[
            "revision",
            "--autogenerate",
            "--schema",
            "v1.sql",
            "-m",
            "v1",
            "--rev-id",
            "v1",
        ],
    );
    ok(dir, &url, &["-q", "upgrade", "head"]);
    let rows = "INSERT INTO parent (id, name) VALUES (1, 'a'), (2, 'b');\
                INSERT INTO child (id, parent_id, note) VALUES (10, 1, 'n'), (11, 2, 'm');\
                INSERT INTO grandchild (id, child_id) VALUES (100, 10), (101, 11);\
                INSERT INTO plain (id, parent_id) VALUES (1000, 1), (1001, 2);";
    let out = Command::new("sqlite3").arg(&db).arg(rows).output().unwrap();
    assert!(out.status.success());
    let tables = ["parent", "child", "grandchild", "plain"];
    let before = sqlite_counts(&db, &tables);
    assert!(before.iter().all(|(_, n)| n == "2"), "{before:?}");
    ok(
        dir,
        &url,
        &[
            "revision",
            "--autogenerate",
            "--schema",
            "v2.sql",
            "-m",
            "v2",
            "--rev-id",
            "v2",
        ],
    );
    ok(dir, &url, &["-q", "upgrade", "head"]);
    assert_eq!(sqlite_counts(&db, &tables), before, "upgrade");
    ok(dir, &url, &["check", "--schema", "v2.sql"]);
    ok(dir, &url, &["-q", "downgrade", "-1"]);
    assert_eq!(sqlite_counts(&db, &tables), before, "downgrade");
    ok(dir, &url, &["-q", "upgrade", "head"]);
    assert_eq!(sqlite_counts(&db, &tables), before, "upgrade again");
    // The foreign keys still hold, and are enforced again afterwards.
    let fk = Command::new("sqlite3")
        .arg(&db)
        .arg("PRAGMA foreign_key_check;")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&fk.stdout), "");
}

/// A history with an irreversible revision, and one whose SQL fails.
fn test_command_history(dir: &Path, failing: bool) {
    let m = dir.join("migrations");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(
        m.join("1.sql"),
        "-- a\n-- Revision ID: aaa1\n-- migrate:up\nCREATE TABLE a (x INTEGER);\n-- migrate:down\nDROP TABLE a;\n",
    )
    .unwrap();
    std::fs::write(
        m.join("2.sql"),
        "-- no way back\n-- Revision ID: bbb2\n-- Revises: aaa1\n-- migrate:up\nCREATE TABLE b (x INTEGER);\n",
    )
    .unwrap();
    if failing {
        std::fs::write(
            m.join("3.sql"),
            "-- fails\n-- Revision ID: ccc3\n-- Revises: bbb2\n-- migrate:up\nCREATE TABLE c (x INTEGER);\n\
             INSERT INTO nowhere VALUES (1);\n-- migrate:down\nDROP TABLE c;\n",
        )
        .unwrap();
    }
}

fn the_test_command(url: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    test_command_history(dir, false);
    let out = run(dir, url, &["test"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(
            "could not test 1 revision(s) with no down section for this database (irreversible): bbb2 (2.sql)"
        ),
        "{}",
        text(&out)
    );
    let allowed = ok(dir, url, &["test", "--allow-irreversible"]);
    assert!(
        allowed.contains("ok: 1 revision(s)") && allowed.contains("not tested (irreversible, allowed): bbb2"),
        "{allowed}"
    );
    let json = run(dir, url, &["--json", "test"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["untested"][0]["revision"], "bbb2");

    let tmp = tempfile::tempdir().unwrap();
    test_command_history(tmp.path(), true);
    let out = run(tmp.path(), url, &["test", "--allow-irreversible"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = text(&out);
    assert!(
        err.contains("revision ccc3 (3.sql) failed during upgrade on the scratch database"),
        "{err}"
    );
    assert!(
        !err.contains("repair"),
        "no repair advice for a scratch database: {err}"
    );
}

#[test]
fn the_test_command_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    the_test_command(&format!("sqlite://{}/app.db", tmp.path().display()));
}

#[tokio::test]
async fn the_test_command_on_mysql() {
    let Some(db) = server_db(Server::Mysql).await else {
        return;
    };
    the_test_command(&db.url);
}

/// The declared schema of `users` for `dialect`, at v1 or (with `v2`) with
/// a `name` column and an index on `email`.
fn users_schema(dialect: &str, v2: bool) -> String {
    let (id, email) = match dialect {
        "sqlite" => ("id INTEGER PRIMARY KEY AUTOINCREMENT", "email VARCHAR(255) NOT NULL"),
        "postgresql" => (
            "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "email TEXT NOT NULL",
        ),
        _ => ("id BIGINT AUTO_INCREMENT PRIMARY KEY", "email VARCHAR(255) NOT NULL"),
    };
    let mut sql = format!("CREATE TABLE users (\n  {id},\n  {email}");
    if v2 {
        sql.push_str(",\n  name VARCHAR(100)");
    }
    sql.push_str("\n);\n");
    if v2 {
        sql.push_str("CREATE INDEX ix_users_email ON users (email);\n");
    }
    sql
}

/// A team's flow: SQLite in development, PostgreSQL and MySQL where it
/// runs. A declared schema per dialect; `revision --autogenerate` writes
/// one revision with a section per dialect (none in the plain section);
/// it applies on all three, `check` finds each clean against its own file,
/// and `downgrade -1` gives back the previous state with the rows intact.
#[tokio::test]
async fn one_revision_for_every_declared_dialect() {
    let Some(pg) = server_db(Server::Postgres).await else {
        return;
    };
    let Some(my) = server_db(Server::Mysql).await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sqlite = format!("sqlite://{}/dev.db", dir.display());
    let targets = [
        ("sqlite", sqlite.as_str()),
        ("postgresql", pg.url.as_str()),
        ("mysql", my.url.as_str()),
    ];
    let write = |v2: bool| {
        for (dialect, _) in targets {
            std::fs::write(dir.join(format!("schema.{dialect}.sql")), users_schema(dialect, v2)).unwrap();
        }
    };
    ok(dir, &sqlite, &["init"]);
    std::fs::write(
        dir.join("migrator.toml"),
        format!(
            "schema = [\"schema.sqlite.sql\", \"schema.postgresql.sql\", \"schema.mysql.sql\"]\n\
             dev_url = [\"{}\", \"{}\"]\n",
            pg.url, my.url
        ),
    )
    .unwrap();
    write(false);
    ok(
        dir,
        &sqlite,
        &["revision", "--autogenerate", "-m", "users", "--rev-id", "r1"],
    );
    let file = |id: &str| {
        let path = std::fs::read_dir(dir.join("migrations"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains(id))
            .unwrap();
        std::fs::read_to_string(path).unwrap()
    };
    let r1 = file("r1");
    for (dialect, _) in targets {
        assert!(r1.contains(&format!("-- migrate:up {dialect}\n")), "{r1}");
        assert!(r1.contains(&format!("-- migrate:down {dialect}\n")), "{r1}");
    }
    assert!(!r1.contains("-- migrate:up\n"), "nothing in the plain section: {r1}");
    assert!(r1.contains("AUTO_INCREMENT") && r1.contains("IDENTITY"), "{r1}");
    for (_, url) in targets {
        ok(dir, url, &["-q", "upgrade"]);
        tests::exec(
            url,
            "INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')",
        )
        .await;
        ok(dir, url, &["check"]);
    }
    // v2 everywhere: one more revision, one section per dialect.
    write(true);
    for (_, url) in targets {
        let drift = run(dir, url, &["check"]);
        assert_eq!(drift.status.code(), Some(1), "{}", text(&drift));
        assert!(text(&drift).contains("schema drift"), "{}", text(&drift));
    }
    ok(
        dir,
        &sqlite,
        &["revision", "--autogenerate", "-m", "names", "--rev-id", "r2"],
    );
    let r2 = file("r2");
    assert_eq!(r2.matches("ADD COLUMN").count(), 3, "{r2}");
    for (_, url) in targets {
        ok(dir, url, &["-q", "upgrade"]);
        ok(dir, url, &["check"]);
        ok(dir, url, &["-q", "downgrade", "-1"]);
        assert_eq!(
            tests::strings(url, "SELECT email FROM users ORDER BY email").await,
            ["a@example.com", "b@example.com"],
            "{url}"
        );
        assert_eq!(tests::tables(url).await, ["users"]);
    }
    // Nothing left to generate once the history gives every declared schema.
    let again = ok(dir, &sqlite, &["revision", "--autogenerate", "-m", "nothing"]);
    assert!(again.contains("no changes"), "{again}");
}

/// `migrator test --with-data`: a downgrade that leaves the right schema
/// but loses the rows (a rebuild that copies nothing) passes the schema
/// round trip and fails with data, naming the revision and the table; the
/// demo history (keys between its tables) passes with data.
async fn the_test_command_with_data(url: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let m = dir.join("migrations");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(
        m.join("1.sql"),
        "-- t\n-- Revision ID: r1\n-- migrate:up\nCREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR(20));\n\
         -- migrate:down\nDROP TABLE t;\n",
    )
    .unwrap();
    std::fs::write(
        m.join("2.sql"),
        "-- b\n-- Revision ID: r2\n-- Revises: r1\n-- migrate:up\nALTER TABLE t ADD COLUMN b VARCHAR(20);\n\
         -- migrate:down\nCREATE TABLE t_new (id INTEGER PRIMARY KEY, a VARCHAR(20));\nDROP TABLE t;\n\
         ALTER TABLE t_new RENAME TO t;\n",
    )
    .unwrap();
    assert!(ok(dir, url, &["test"]).contains("ok: 2 revision(s)"));
    let out = run(dir, url, &["test", "--with-data"]);
    let err = text(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("revision r2 (2.sql) loses data") && err.contains("t (id, a): 2 of 2 row(s) lost or changed"),
        "{err}"
    );
    let json = run(dir, url, &["--json", "test", "--with-data"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["failure"]["revision"], "r2");
    // The demo history keeps every row both ways.
    let demo = tempfile::tempdir().unwrap();
    let dest = demo.path().join("migrations");
    std::fs::create_dir_all(&dest).unwrap();
    for f in std::fs::read_dir(format!("{}/../migrations", env!("CARGO_MANIFEST_DIR"))).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dest.join(f.file_name().unwrap())).unwrap();
    }
    let passed = ok(demo.path(), url, &["test", "--with-data"]);
    assert!(
        passed.contains("rows generated before each downgrade survived"),
        "{passed}"
    );
    assert!(
        !passed.contains("refused"),
        "every demo table takes the generated rows: {passed}"
    );
}

#[tokio::test]
async fn the_test_command_with_data_on_every_database() {
    let tmp = tempfile::tempdir().unwrap();
    the_test_command_with_data(&format!("sqlite://{}/app.db", tmp.path().display())).await;
    if let Some(db) = server_db(Server::Postgres).await {
        the_test_command_with_data(&db.url).await;
    }
    if let Some(db) = server_db(Server::Mysql).await {
        the_test_command_with_data(&db.url).await;
    }
}

/// `--rename`: the advice the hint gives is a flag that works from the
/// command line; a rename that does not fit, or is not one, is a usage
/// error (exit 2) that says why; without `--autogenerate` it is refused.
#[test]
fn the_rename_flag_follows_the_hint_and_refuses_what_does_not_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let url = format!("sqlite://{}/app.db", dir.display());
    let (v1, v2) = (dir.join("v1.sql"), dir.join("v2.sql"));
    std::fs::write(&v1, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, c INTEGER);\n").unwrap();
    std::fs::write(&v2, "CREATE TABLE t (id INTEGER PRIMARY KEY, b INTEGER);\n").unwrap();
    let (v1, v2) = (v1.display().to_string(), v2.display().to_string());
    ok(dir, &url, &["init"]);
    ok(
        dir,
        &url,
        &[
            "revision",
            "--autogenerate",
            "--schema",
            &v1,
            "-m",
            "v1",
            "--rev-id",
            "r1",
        ],
    );
    ok(dir, &url, &["upgrade"]);
    let sqlite = |sql: &str| {
        let out = Command::new("sqlite3")
            .arg(dir.join("app.db"))
            .arg(sql)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    sqlite("INSERT INTO t VALUES (1, 10, 100)");
    let revise = |extra: &[&str]| {
        let mut args = vec!["revision", "--autogenerate", "--schema", v2.as_str(), "-m", "v2"];
        args.extend(extra);
        run(dir, &url, &args)
    };
    for (bad, says) in [
        ("t.a", "TABLE.OLD=NEW"),
        ("t.zz=b", "has no column zz"),
        ("t.a=q", "no column q"),
    ] {
        let out = revise(&["--rename", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out));
        assert!(text(&out).contains(says), "{bad}: {}", text(&out));
    }
    let out = run(dir, &url, &["revision", "-m", "v2", "--rename", "t.a=b"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = revise(&["--rev-id", "r2", "--rename", "t.a=b"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    ok(dir, &url, &["upgrade"]);
    assert_eq!(sqlite("SELECT id || ' ' || b FROM t"), "1 10");
    ok(dir, &url, &["downgrade", "-1"]);
    assert_eq!(sqlite("SELECT id || ' ' || a FROM t"), "1 10");
}
