//! The `migrator` binary as a user runs it: output, exit codes, and no
//! panic on bad input.

// Test helpers: a panic is a test failure with a location.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use expect_test::expect;

/// Runs `migrator` in `cwd` with no DATABASE_URL from the environment.
fn migrator(cwd: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("migrator")
        .unwrap()
        .current_dir(cwd)
        .env_remove("DATABASE_URL")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Durations vary; replace them.
fn no_times(s: &str) -> String {
    s.lines()
        .map(|l| match l.rfind("  (") {
            Some(i) if l.ends_with(" ms)") || l.ends_with(" s)") => format!("{}  (<time>)", &l[..i]),
            _ => match l.find(" in ") {
                Some(i) if l.starts_with("applied") || l.starts_with("reverted") => {
                    let rest = &l[i + 4..];
                    let after = rest.find(';').map_or("", |j| &rest[j..]);
                    format!("{} in <time>{after}", &l[..i])
                }
                _ => l.to_owned(),
            },
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn write(dir: &Path, name: &str, body: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), body).unwrap();
}

fn rev(id: &str, revises: &str, up: &str) -> String {
    format!(
        "-- {id}\n-- Revision ID: {id}\n-- Revises: {revises}\n\n-- migrate:up\n{up}\n\n-- migrate:down\nSELECT 1;\n"
    )
}

#[test]
fn upgrade_uses_and_announces_the_default_database() {
    let tmp = tempfile::tempdir().unwrap();
    let out = migrator(tmp.path(), &["upgrade"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("using the default database sqlite://migrator.db"));
    assert!(tmp.path().join("migrator.db").exists());
    expect![[r#"
        upgrade   1a2b3c4d5e6f  create users  (<time>)
        upgrade   2b3c4d5e6f70  create organisations  (<time>)
        upgrade   3c4d5e6f7081  create memberships  (<time>)
        upgrade   5e6f708192a3  create billing plans  (<time>)
        upgrade   6f708192a3b4  create subscriptions  (<time>)
        upgrade   4d5e6f708192  add users.last_login_at  (<time>)
        upgrade   708192a3b4c5  create the audit log  (<time>)
        upgrade   8192a3b4c5d6  merge the billing branch into the main line  (<time>)
        upgrade   92a3b4c5d6e7  create invitations  (<time>)
        upgrade   a3b4c5d6e7f8  default plan for new organisations  (<time>)
        applied 10 revisions in <time>; the database is at a3b4c5d6e7f8"#]]
    .assert_eq(&no_times(&text(&out.stdout)));

    let again = migrator(tmp.path(), &["upgrade", "head"]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        text(&again.stdout),
        "nothing to do: the database already includes `head`; it is at a3b4c5d6e7f8\n"
    );
    let current = migrator(tmp.path(), &["current"]);
    assert_eq!(text(&current.stdout), "a3b4c5d6e7f8 (head)\n");

    let down = migrator(tmp.path(), &["-q", "downgrade", "-1"]);
    assert_eq!(down.status.code(), Some(0));
    assert_eq!(text(&down.stdout), "");
    assert_eq!(text(&migrator(tmp.path(), &["current"]).stdout), "92a3b4c5d6e7\n");
}

#[test]
fn read_commands_show_the_graph() {
    let tmp = tempfile::tempdir().unwrap();
    expect![[r#"
        92a3b4c5d6e7 -> a3b4c5d6e7f8 (head), default plan for new organisations
        8192a3b4c5d6 -> 92a3b4c5d6e7, create invitations
        708192a3b4c5, 6f708192a3b4 -> 8192a3b4c5d6 (mergepoint), merge the billing branch into the main line
        4d5e6f708192 -> 708192a3b4c5, create the audit log
        3c4d5e6f7081 -> 4d5e6f708192, add users.last_login_at
        5e6f708192a3 -> 6f708192a3b4, create subscriptions
        3c4d5e6f7081 -> 5e6f708192a3 (billing), create billing plans
        2b3c4d5e6f70 -> 3c4d5e6f7081 (branchpoint), create memberships
        1a2b3c4d5e6f -> 2b3c4d5e6f70, create organisations
        <base> -> 1a2b3c4d5e6f, create users
    "#]]
    .assert_eq(&text(&migrator(tmp.path(), &["history"]).stdout));
    expect![[r#"
        a3b4c5d6e7f8 (head)
    "#]]
    .assert_eq(&text(&migrator(tmp.path(), &["heads"]).stdout));
    expect![[r#"
        Rev: 3c4d5e6f7081 (branchpoint)
        Parent: 2b3c4d5e6f70
        Branches into: 4d5e6f708192, 5e6f708192a3
        Path: 20260107_1100_3c4d5e6f7081_create_memberships.sql
        Create Date: 2026-01-07 11:00:00

            create memberships

    "#]]
    .assert_eq(&text(&migrator(tmp.path(), &["show", "3c4d"]).stdout));
    // Read commands that need no database create none.
    assert!(!tmp.path().join("migrator.db").exists());
}

#[test]
fn dir_flag_reads_revisions_from_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    write(&dir, "1.sql", &rev("aaa111", "", "CREATE TABLE a (id INTEGER);"));
    write(&dir, "2.sql", &rev("bbb222", "aaa111", "CREATE TABLE b (id INTEGER);"));
    let url = "sqlite://dir.db";
    let out = migrator(tmp.path(), &["--dir", "m", "-d", url, "upgrade", "head"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("upgrade   bbb222  bbb222"));
    assert_eq!(
        text(&migrator(tmp.path(), &["--dir", "m", "-d", url, "current"]).stdout),
        "bbb222 (head)\n"
    );
    // DATABASE_URL is read from the environment.
    let env = Command::cargo_bin("migrator")
        .unwrap()
        .current_dir(tmp.path())
        .env("DATABASE_URL", url)
        .args(["--dir", "m", "current"])
        .output()
        .unwrap();
    assert_eq!(text(&env.stdout), "bbb222 (head)\n");
    assert!(!text(&env.stderr).contains("default database"));
}

#[test]
fn a_failing_revision_exits_1_naming_its_id_and_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    write(&dir, "001_ok.sql", &rev("ok1", "", "CREATE TABLE a (id INTEGER);"));
    write(
        &dir,
        "002_bad.sql",
        &rev(
            "bad2",
            "ok1",
            "CREATE TABLE b (id INTEGER);\nINSERT INTO nowhere VALUES (1);",
        ),
    );
    let out = migrator(tmp.path(), &["--dir", "m", "-d", "sqlite://f.db", "upgrade"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("revision bad2 (002_bad.sql) failed during upgrade"),
        "{err}"
    );
    assert!(err.contains("no such table: nowhere"), "{err}");
    assert!(
        text(&out.stdout).contains("upgrade   ok1"),
        "ok1 was applied and printed"
    );
    assert_eq!(
        text(&migrator(tmp.path(), &["--dir", "m", "-d", "sqlite://f.db", "current"]).stdout),
        "ok1\n"
    );
}

#[test]
fn broken_migrations_exit_2_with_every_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    write(&dir, "001.sql", &rev("a1", "", "SELECT 1;"));
    write(&dir, "002.sql", &rev("b2", "zz9", "SELECT 1;"));
    write(&dir, "003.sql", "-- Revison ID: c3\n-- migrate:up\n");
    let out = migrator(tmp.path(), &["--dir", "m", "history"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("m/003.sql:1: unknown header key `Revison ID`; did you mean `Revision ID`?"),
        "{err}"
    );
    assert!(
        !err.contains("zz9"),
        "a reference into an unparsed file is not reported: {err}"
    );
}

#[test]
fn usage_errors_exit_2_and_operation_errors_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&[&str], i32, &str); 6] = [
        (
            &["-d", "oracle://u:secret@h/db", "current"],
            2,
            "unknown scheme `oracle`",
        ),
        (
            &["--transaction-mode", "some", "upgrade"],
            2,
            "unknown transaction mode `some`",
        ),
        (&["--version-table", "bad-name", "upgrade"], 2, "not a valid table name"),
        (&["upgrade", "nope"], 1, "no revision or branch label matches `nope`"),
        (&["show", "abc"], 1, "no revision or branch label matches `abc`"),
        (
            &["-d", "sqlite:///no/such/dir/x.db", "upgrade"],
            1,
            "cannot connect to sqlite:///no/such/dir/x.db",
        ),
    ];
    for (args, code, message) in cases {
        let out = migrator(tmp.path(), args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!err.contains("secret"), "passwords never appear: {err}");
    }
}

#[test]
fn odd_targets_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let targets = [
        "",
        "@",
        "+",
        "-",
        "a@",
        "@head",
        "::",
        "head+99999999999999999999",
        "-0",
        "+0",
        "heads-1",
        "base+1",
        "billing@-1",
        "billing@+99",
        "x@1a2b",
        "1a2b@head",
        "-99",
        "head-99",
        "ü",
        "head@head",
        "base-1",
        "+1:+2",
    ];
    for verb in ["upgrade", "downgrade", "show"] {
        for t in targets {
            let out = migrator(tmp.path(), &["-d", "sqlite::memory:", verb, t]);
            let err = text(&out.stderr);
            assert!(!err.contains("panicked"), "{verb} {t:?}: {err}");
            assert!(
                matches!(out.status.code(), Some(0..=2)),
                "{verb} {t:?}: {:?} {err}",
                out.status
            );
        }
    }
}
