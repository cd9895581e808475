//! The `migrator` binary as a user runs it: output, exit codes, and no
//! panic on bad input.

// Test helpers: a panic is a test failure with a location.
#![allow(clippy::unwrap_used, clippy::panic)]

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

/// A fresh folder holding a copy of the demo history as `migrations/`,
/// where the generic binary reads it.
fn demo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let to = tmp.path().join("migrations");
    std::fs::create_dir(&to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    tmp
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
    let tmp = demo();
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
    let tmp = demo();
    expect![[r#"
        92a3b4c5d6e7 -> a3b4c5d6e7f8 (billing) (head), default plan for new organisations
        8192a3b4c5d6 -> 92a3b4c5d6e7 (billing), create invitations
        708192a3b4c5, 6f708192a3b4 -> 8192a3b4c5d6 (billing) (mergepoint), merge the billing branch into the main line
        4d5e6f708192 -> 708192a3b4c5, create the audit log
        3c4d5e6f7081 -> 4d5e6f708192, add users.last_login_at
        5e6f708192a3 -> 6f708192a3b4 (billing), create subscriptions
        3c4d5e6f7081 -> 5e6f708192a3 (billing), create billing plans
        2b3c4d5e6f70 -> 3c4d5e6f7081 (branchpoint), create memberships
        1a2b3c4d5e6f -> 2b3c4d5e6f70, create organisations
        <base> -> 1a2b3c4d5e6f, create users
    "#]]
    .assert_eq(&text(&migrator(tmp.path(), &["history"]).stdout));
    expect![[r#"
        a3b4c5d6e7f8 (billing) (head)
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
    let tmp = demo();
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
    let tmp = demo();
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
    let tmp = demo();
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
    let tmp = demo();
    let cases: [(&[&str], i32, &str); 6] = [
        (
            &["-d", "oracle://u:secret@h/db", "current"],
            2,
            "unknown scheme `oracle`",
        ),
        (
            &["--transaction-mode", "some", "upgrade"],
            2,
            "invalid value 'some' for '--transaction-mode <MODE>'",
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
    let tmp = demo();
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

/// Runs against the demo history in a fresh folder, after `setup`
/// commands, and returns (exit code, stderr) of the last command.
fn demo_error(setup: &[Vec<&str>], args: &[&str]) -> (Option<i32>, String) {
    let tmp = demo();
    for s in setup {
        let out = migrator(tmp.path(), s);
        assert_eq!(out.status.code(), Some(0), "{s:?}: {}", text(&out.stderr));
    }
    let out = migrator(tmp.path(), args);
    (out.status.code(), text(&out.stderr))
}

#[test]
fn every_resolution_error_names_what_is_wrong() {
    let up = |t: &'static str| vec!["-q", "upgrade", t];
    // (setup, command, message that must appear)
    // (commands run first, the command, what its message must say)
    type Case<'a> = (Vec<Vec<&'a str>>, Vec<&'a str>, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            vec![],
            vec!["upgrade", "0ddba11"],
            "no revision or branch label matches `0ddba11`",
        ),
        (
            vec![],
            vec!["show", "nope"],
            "no revision or branch label matches `nope`",
        ),
        (
            vec![],
            vec!["upgrade", "billng@head"],
            "no branch label `billng`; did you mean `billing`?",
        ),
        (
            vec![],
            vec!["upgrade", "billing@4d5e6f708192"],
            "revision 4d5e6f708192 is not on branch `billing`",
        ),
        (
            vec![up("4d5e")],
            vec!["downgrade", "-99"],
            "`-99` walks past the base of the history",
        ),
        (
            vec![up("8192a3b4c5d6")],
            vec!["downgrade", "-2"],
            "revision 8192a3b4c5d6 has several parents (708192a3b4c5, 6f708192a3b4)",
        ),
        (
            vec![],
            vec!["upgrade", "3c4d5e6f7081+1"],
            "revision 3c4d5e6f7081 has several children (4d5e6f708192, 5e6f708192a3)",
        ),
        (
            vec![up("2b3c")],
            vec!["downgrade", "4d5e6f708192"],
            "`4d5e6f708192` is not below the database's current revision (2b3c4d5e6f70)",
        ),
        (
            vec![],
            vec!["history", "-r", "5e6f:4d5e"],
            "5e6f708192a3 is not an ancestor of 4d5e6f708192",
        ),
        (
            vec![],
            vec!["history", "-r", "5e6f"],
            "history range `5e6f` is not of the form `[start]:[end]`",
        ),
        (
            vec![up("4d5e"), up("5e6f")],
            vec!["downgrade", "-1"],
            "the database is at several revisions (4d5e6f708192, 5e6f708192a3)",
        ),
        (
            vec![],
            vec!["downgrade", "+1"],
            "`+1` points up from the current revision",
        ),
    ];
    for (setup, args, message) in cases {
        let (code, err) = demo_error(&setup, &args);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: expected {message:?} in {err}");
    }
}

#[test]
fn ambiguous_prefixes_and_several_heads_list_the_candidates() {
    let tmp = demo();
    let dir = tmp.path().join("m");
    write(&dir, "1.sql", &rev("abcd01", "", "SELECT 1;"));
    let labelled = |id, label| {
        rev(id, "abcd01", "SELECT 1;").replace(
            "\n\n-- migrate:up",
            &format!("\n-- Branch Labels: {label}\n\n-- migrate:up"),
        )
    };
    write(&dir, "2.sql", &labelled("abcd02", "left"));
    write(&dir, "3.sql", &labelled("ffff03", "right"));
    let run = |args: &[&str]| {
        let mut all = vec!["--dir", "m", "-d", "sqlite://x.db"];
        all.extend_from_slice(args);
        migrator(tmp.path(), &all)
    };
    let out = run(&["upgrade", "abcd"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("`abcd` is ambiguous: it starts abcd01, abcd02"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["upgrade", "head"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("`head` is ambiguous: there are several heads (abcd02, ffff03)"),
        "{}",
        text(&out.stderr)
    );
    // Both branches at once, then the heads and branches listings.
    assert_eq!(run(&["-q", "upgrade", "heads"]).status.code(), Some(0));
    assert_eq!(text(&run(&["current"]).stdout), "abcd02 (head)\nffff03 (head)\n");
    assert_eq!(run(&["current", "--check-heads"]).status.code(), Some(0));
    assert_eq!(
        text(&run(&["heads"]).stdout),
        "abcd02 (left) (head)\nffff03 (right) (head)\n"
    );
    expect![[r#"
        abcd01 (branchpoint)
               -> abcd02 (left) (head)
               -> ffff03 (right) (head)

    "#]]
    .assert_eq(&text(&run(&["branches"]).stdout));
    // Upgrading to an ancestor of the current state does nothing, and says so.
    let out = run(&["upgrade", "abcd01"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("nothing to do: the database already includes `abcd01`"));
}

#[test]
fn stamp_moves_rows_without_running_sql() {
    let tmp = demo();
    let out = migrator(tmp.path(), &["stamp", "708192"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&migrator(tmp.path(), &["current"]).stdout), "708192a3b4c5\n");
    // No table was created: stamping runs no SQL.
    let out = migrator(tmp.path(), &["-q", "upgrade", "head"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the demo's next revision needs tables that were never created"
    );
    let out = migrator(tmp.path(), &["stamp", "--purge", "base"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&migrator(tmp.path(), &["current"]).stdout), "");
    let out = migrator(tmp.path(), &["stamp", "4d5e", "5e6f"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&migrator(tmp.path(), &["current"]).stdout),
        "4d5e6f708192\n5e6f708192a3\n"
    );
}

#[test]
fn read_commands_speak_json() {
    let tmp = demo();
    migrator(tmp.path(), &["-q", "upgrade", "5e6f"]);
    let parse = |args: &[&str]| -> serde_json::Value {
        let out = migrator(tmp.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let current = parse(&["--json", "current"]);
    assert_eq!(current["rows"], serde_json::json!(["5e6f708192a3"]));
    assert_eq!(current["revisions"][0]["branch_labels"], serde_json::json!(["billing"]));
    let history = parse(&["--json", "history", "--indicate-current"]);
    assert_eq!(history.as_array().unwrap().len(), 10);
    let marked: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["is_current"] == true)
        .map(|r| r["revision"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["5e6f708192a3"]);
    assert_eq!(parse(&["--json", "heads"])[0]["revision"], "a3b4c5d6e7f8");
    assert_eq!(
        parse(&["--json", "branches"])[0]["branches_into"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(parse(&["--json", "show", "current"])[0]["revision"], "5e6f708192a3");
    assert_eq!(parse(&["--json", "show", "8192"])[0]["is_merge_point"], true);
}

#[test]
fn checksums_status_and_check() {
    let tmp = demo();
    let dir = tmp.path().join("m");
    write(&dir, "1.sql", &rev("aaa1", "", "CREATE TABLE a (id INTEGER);"));
    write(&dir, "2.sql", &rev("bbb2", "aaa1", "CREATE TABLE b (id INTEGER);"));
    let run = |args: &[&str]| {
        let mut all = vec!["--dir", "m", "-d", "sqlite://x.db"];
        all.extend_from_slice(args);
        migrator(tmp.path(), &all)
    };
    let check = |why: &str| {
        let out = run(&["check"]);
        (out.status.code(), text(&out.stderr), why.to_owned())
    };
    let (code, err, _) = check("empty");
    assert_eq!(code, Some(1), "empty: {err}");
    assert!(err.contains("no revision applied"), "{err}");
    run(&["-q", "upgrade", "aaa1"]);
    let (code, err, _) = check("behind");
    assert_eq!(code, Some(1));
    assert!(err.contains("behind: 1 pending (bbb2)"), "{err}");
    // A dry run changes nothing.
    let dry = run(&["upgrade", "--dry-run"]);
    assert!(
        text(&dry.stdout).contains("would upgrade   bbb2"),
        "{}",
        text(&dry.stdout)
    );
    assert_eq!(text(&run(&["current"]).stdout), "aaa1\n");
    run(&["-q", "upgrade"]);
    assert_eq!(check("up to date").0, Some(0));

    // Editing comments of an applied revision is fine ...
    write(
        &dir,
        "1.sql",
        &rev("aaa1", "", "CREATE TABLE a (id INTEGER);").replacen("-- aaa1\n", "-- aaa1, renamed\n", 1),
    );
    assert_eq!(check("comment edit").0, Some(0));
    // ... editing its SQL is not: upgrade refuses before running anything.
    write(&dir, "3.sql", &rev("ccc3", "bbb2", "CREATE TABLE c (id INTEGER);"));
    write(&dir, "1.sql", &rev("aaa1", "", "CREATE TABLE a (id BIGINT);"));
    let out = run(&["upgrade"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("revision aaa1 (1.sql) was applied with checksum"), "{err}");
    assert!(err.contains("migrator repair aaa1 --accept-checksum"), "{err}");
    assert_eq!(text(&run(&["current"]).stdout), "bbb2\n", "ccc3 did not run");
    let status = text(&run(&["status"]).stdout);
    assert!(
        status.lines().any(|l| l.starts_with("modified") && l.contains("aaa1")),
        "{status}"
    );
    assert!(
        status.lines().any(|l| l.starts_with("pending") && l.contains("ccc3")),
        "{status}"
    );
    let (code, err, _) = check("modified");
    assert_eq!(code, Some(1));
    assert!(err.contains("revision aaa1 (1.sql) is modified"), "{err}");
    assert_eq!(run(&["repair", "aaa1", "--accept-checksum"]).status.code(), Some(0));
    assert_eq!(run(&["-q", "upgrade"]).status.code(), Some(0));
    assert_eq!(check("accepted").0, Some(0));

    // A revision that failed partway.
    write(
        &dir,
        "4.sql",
        "-- d\n-- Revision ID: ddd4\n-- Revises: ccc3\n-- migrate:up transaction:false\nCREATE TABLE d (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n-- migrate:down\nDROP TABLE d;\n",
    );
    assert_eq!(run(&["-q", "upgrade"]).status.code(), Some(1));
    let (code, err, _) = check("failed");
    assert_eq!(code, Some(1));
    assert!(err.contains("revision ddd4 (4.sql) failed partway"), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&run(&["--json", "status"]).stdout).unwrap();
    let states: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["applied", "applied", "applied", "failed"]);
}

#[test]
fn offline_scripts_need_no_connection() {
    let tmp = demo();
    let dir = tmp.path().join("m");
    write(&dir, "1.sql", &rev("aaa1", "", "CREATE TABLE a (id INTEGER);"));
    write(&dir, "2.sql", &rev("bbb2", "aaa1", "CREATE TABLE b (id INTEGER)"));
    // Nothing listens on port 1: a connection attempt would fail.
    let url = "postgresql+psycopg2://u:s3cret@127.0.0.1:1/db";
    let out = migrator(tmp.path(), &["--dir", "m", "-d", url, "upgrade", "--sql"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    assert!(
        script.contains("CREATE TABLE IF NOT EXISTS \"migrator_version\""),
        "{script}"
    );
    assert!(
        script.contains("-- Running upgrade  -> aaa1\nBEGIN;\nCREATE TABLE a (id INTEGER);"),
        "{script}"
    );
    assert!(script.contains("CREATE TABLE b (id INTEGER);\nUPDATE \"migrator_version\" SET version_num = 'bbb2' WHERE version_num = 'aaa1';"), "{script}");
    assert!(!script.contains("s3cret"));
    let from = text(&migrator(tmp.path(), &["--dir", "m", "-d", url, "upgrade", "--sql", "aaa1:bbb2"]).stdout);
    assert!(
        !from.contains("CREATE TABLE IF NOT EXISTS") && from.contains("-- Running upgrade aaa1 -> bbb2"),
        "{from}"
    );
    let down = text(
        &migrator(
            tmp.path(),
            &["--dir", "m", "-d", "mysql://u@h/db", "downgrade", "--sql", "bbb2:base"],
        )
        .stdout,
    );
    assert!(
        down.contains("-- Running downgrade bbb2 -> aaa1") && !down.contains("BEGIN;"),
        "MySQL has no DDL transactions: {down}"
    );
    let stamp = text(&migrator(tmp.path(), &["--dir", "m", "stamp", "--sql", "bbb2"]).stdout);
    assert!(
        stamp.contains("INSERT INTO \"migrator_version\" (version_num) VALUES ('bbb2');"),
        "{stamp}"
    );
    let out = migrator(tmp.path(), &["--dir", "m", "downgrade", "--sql", "base"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("downgrade --sql needs the revision to start from"));
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_new_user_authors_a_history() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| migrator(tmp.path(), args);
    let ok = |args: &[&str]| {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    ok(&["init"]);
    assert!(tmp.path().join("migrations").is_dir() && tmp.path().join("migrator.toml").is_file());
    // A second init overwrites nothing.
    std::fs::write(
        tmp.path().join("migrator.toml"),
        "directory = \"migrations\"\nfile_template = \"%(rev)s_%(slug)s\"\ntruncate_slug_length = 12\n",
    )
    .unwrap();
    assert!(ok(&["init"]).contains("migrator.toml exists; left as it is"));

    let first = ok(&["revision", "-m", "create the users table", "--rev-id", "aaa001"]);
    assert_eq!(
        first.trim(),
        "migrations/aaa001_create_the_.sql",
        "file_template and truncate_slug_length apply"
    );
    let second = ok(&["revision", "-m", "add email", "--rev-id", "bbb002"]);
    let text2 = std::fs::read_to_string(tmp.path().join(second.trim())).unwrap();
    assert!(
        text2.starts_with("-- add email\n--\n-- Revision ID: bbb002\n-- Revises: aaa001\n-- Create Date: "),
        "{text2}"
    );
    assert!(text2.contains("\n-- migrate:up\n") && text2.contains("\n-- migrate:down\n"));
    // A branch needs --splice when it does not start at a head.
    let out = run(&["revision", "-m", "reports", "--head", "aaa001"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("revision aaa001 is not a head; pass --splice"));
    ok(&[
        "revision",
        "-m",
        "reports",
        "--head",
        "aaa001",
        "--splice",
        "--branch-label",
        "reports",
        "--rev-id",
        "ccc003",
    ]);
    let reports = std::fs::read_to_string(tmp.path().join("migrations/ccc003_reports.sql")).unwrap();
    assert!(
        reports.contains("-- Revises: aaa001\n") && reports.contains("-- Branch Labels: reports\n"),
        "{reports}"
    );
    ok(&[
        "revision",
        "-m",
        "more reports",
        "--head",
        "reports@head",
        "--depends-on",
        "bbb0",
        "--rev-id",
        "ddd004",
    ]);
    let more = std::fs::read_to_string(tmp.path().join("migrations/ddd004_more_reports.sql")).unwrap();
    assert!(
        more.contains("-- Revises: ccc003\n") && more.contains("-- Depends On: bbb002\n"),
        "{more}"
    );
    // Two people add a revision on the same head: a second, unlabelled head.
    ok(&["revision", "-m", "mine", "--rev-id", "eee005", "--head", "bbb002"]);
    ok(&[
        "revision", "-m", "theirs", "--rev-id", "fff006", "--head", "bbb002", "--splice",
    ]);
    let out = run(&["upgrade", "head"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("multiple heads: eee005 (eee005_mine.sql), fff006 (fff006_theirs.sql)"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["revision", "-m", "next"]);
    assert!(
        text(&out.stderr).contains("migrator merge heads"),
        "{}",
        text(&out.stderr)
    );
    ok(&["merge", "heads", "-m", "join the work", "--rev-id", "ggg007"]);
    let merge = std::fs::read_to_string(tmp.path().join("migrations/ggg007_join_the_.sql")).unwrap();
    assert!(merge.contains("-- Revises: ddd004, eee005, fff006\n"), "{merge}");
    ok(&["-q", "upgrade", "heads"]);
    assert_eq!(ok(&["current"]), "ggg007 (head) (mergepoint)\n");
    assert_eq!(files(&tmp.path().join("migrations")).len(), 7);
}

#[test]
fn database_url_precedence_and_dotenv() {
    let tmp = demo();
    std::fs::write(
        tmp.path().join("migrator.toml"),
        "database_url = \"sqlite://from_config.db\"\n",
    )
    .unwrap();
    // `-v current` names the database it reads.
    let at = |env: Option<&str>, args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_migrator"));
        c.current_dir(tmp.path()).env_remove("DATABASE_URL");
        if let Some(url) = env {
            c.env("DATABASE_URL", url);
        }
        text(&c.args(args).args(["-v", "current"]).output().unwrap().stdout)
    };
    assert!(at(None, &[]).contains("sqlite://from_config.db"));
    assert!(at(Some("sqlite://from_env.db"), &[]).contains("sqlite://from_env.db"));
    assert!(at(Some("sqlite://from_env.db"), &["-d", "sqlite://from_flag.db"]).contains("sqlite://from_flag.db"));
    // .env counts as the environment, and --no-dotenv skips it.
    std::fs::write(tmp.path().join(".env"), "DATABASE_URL=sqlite://from_dotenv.db\n").unwrap();
    assert!(at(None, &[]).contains("sqlite://from_dotenv.db"));
    assert!(
        at(Some("sqlite://from_env.db"), &[]).contains("sqlite://from_env.db"),
        ".env never overrides"
    );
    assert!(at(None, &["--no-dotenv"]).contains("sqlite://from_config.db"));
    // An unknown key names the nearest one.
    std::fs::write(tmp.path().join("migrator.toml"), "databse_url = \"x\"\n").unwrap();
    let out = migrator(tmp.path(), &["current"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown key `databse_url`; did you mean `database_url`?"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn edit_opens_the_file_in_the_editor() {
    let tmp = demo();
    write(&tmp.path().join("m"), "1.sql", &rev("abc123", "", "SELECT 1;"));
    let out = Command::cargo_bin("migrator")
        .unwrap()
        .current_dir(tmp.path())
        .env_remove("VISUAL")
        .env("EDITOR", "ls -l")
        .args(["--dir", "m", "edit", "abc1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("m/1.sql"), "{}", text(&out.stdout));
}

/// `migrator history | head -0`: the reader is gone before anything is
/// written. The command ends normally instead of panicking, and a
/// migration whose report nobody reads still runs to the end.
#[test]
fn a_closed_stdout_ends_output_quietly() {
    use std::process::Stdio;
    let tmp = demo();
    let run = |args: &[&str]| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_migrator"))
            .current_dir(tmp.path())
            .env_remove("DATABASE_URL")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        child.wait_with_output().unwrap()
    };
    for args in [
        &["history"][..],
        &["-d", "sqlite://closed.db", "upgrade", "head"],
        &["heads"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert!(
            !text(&out.stderr).contains("panicked"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let now = text(&migrator(tmp.path(), &["-d", "sqlite://closed.db", "current"]).stdout);
    assert!(
        !now.is_empty() && now.lines().all(|l| l.contains("(head)")),
        "the upgrade ran to the heads:\n{now}"
    );
}

/// Output that cannot be written for another reason (a full disk) is an
/// error: exit code 1, said on stderr.
#[test]
fn output_to_a_full_disk_fails_the_command() {
    let tmp = demo();
    let Ok(full) = std::fs::File::create("/dev/full") else {
        panic!("this test needs /dev/full (Linux)");
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_migrator"))
        .current_dir(tmp.path())
        .env_remove("DATABASE_URL")
        .args(["upgrade", "--sql", "head"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("error: cannot write to standard output"),
        "{}",
        text(&out.stderr)
    );
}

/// In a crate whose build.rs lacks the rerun line, `init` leaves build.rs
/// alone and prints the exact line to add.
#[test]
fn init_in_a_crate_with_its_own_build_rs_prints_the_line_to_add() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "Cargo.toml", "[package]\nname = \"svc\"\n");
    write(tmp.path(), "build.rs", "fn main() {}\n");
    let out = migrator(tmp.path(), &["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("    println!(\"cargo:rerun-if-changed=migrations\");\n"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("build.rs")).unwrap(),
        "fn main() {}\n"
    );
}

#[test]
fn the_generic_binary_carries_no_history() {
    // An empty migrations/ beside the database: nothing is applied.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("migrations")).unwrap();
    let out = migrator(tmp.path(), &["-d", "sqlite://app.db", "upgrade"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let status = migrator(tmp.path(), &["-d", "sqlite://app.db", "--json", "status"]);
    assert_eq!(text(&status.stdout).trim(), "[]", "{}", text(&status.stderr));
    let tables = tables_of(&tmp.path().join("app.db"));
    assert!(
        tables
            .iter()
            .all(|t| t.starts_with("migrator_") || t == "sqlite_sequence"),
        "only the bookkeeping: {tables:?}"
    );

    // No migrations/ at all: an error naming the path, and no database.
    let bare = tempfile::tempdir().unwrap();
    let out = migrator(bare.path(), &["-d", "sqlite://app.db", "upgrade"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("no migrations directory at `migrations`"), "{err}");
    assert!(err.contains("migrator init"), "{err}");
    assert!(!bare.path().join("app.db").exists());
    let out = migrator(bare.path(), &["--dir", "elsewhere", "history"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no migrations directory at `elsewhere`"));
}

/// The tables of a SQLite database file, read with `sqlite3`.
fn tables_of(db: &Path) -> Vec<String> {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .output()
        .unwrap();
    assert!(out.status.success(), "sqlite3: {}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn read_commands_show_several_unlabelled_heads() {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("m");
    write(&m, "a.sql", &rev("aaa1", "", "CREATE TABLE a (x INT);"));
    write(&m, "b.sql", &rev("bbb2", "aaa1", "CREATE TABLE b (x INT);"));
    write(&m, "c.sql", &rev("ccc3", "aaa1", "CREATE TABLE c (x INT);"));
    let url = "sqlite://x.db";
    for args in [
        &["heads"][..],
        &["history"],
        &["branches"],
        &["show", "bbb2"],
        &["current"],
        &["status"],
    ] {
        let out = migrator(tmp.path(), &[&["--dir", "m", "-d", url][..], args].concat());
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
    }
    let heads = text(&migrator(tmp.path(), &["--dir", "m", "heads"]).stdout);
    assert!(heads.contains("bbb2") && heads.contains("ccc3"), "{heads}");
    for args in [&["upgrade"][..], &["stamp", "bbb2"], &["downgrade", "base"]] {
        let out = migrator(tmp.path(), &[&["--dir", "m", "-d", url][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains("migrator merge heads"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_dry_run_and_read_commands_create_nothing() {
    let tmp = demo();
    for args in [
        &["upgrade", "--dry-run"][..],
        &["downgrade", "base", "--dry-run"],
        &["current"],
        &["status"],
    ] {
        let out = migrator(tmp.path(), &[&["-d", "sqlite://app.db"][..], args].concat());
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert!(!tmp.path().join("app.db").exists(), "{args:?} created the database");
    }
    let out = migrator(tmp.path(), &["-d", "sqlite://app.db", "upgrade", "--dry-run"]);
    assert!(
        text(&out.stdout).contains("dry run: 10 revisions would run"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn flags_may_follow_positionals() {
    let tmp = demo();
    let url = "sqlite://x.db";
    let sql = migrator(tmp.path(), &["-d", url, "stamp", "1a2b3c4d5e6f", "--sql"]);
    assert_eq!(sql.status.code(), Some(0), "{}", text(&sql.stderr));
    assert!(text(&sql.stdout).contains("INSERT INTO \"migrator_version\" (version_num) VALUES ('1a2b3c4d5e6f');"));
    let up = migrator(tmp.path(), &["-d", url, "upgrade", "2b3c", "--dry-run"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up.stderr));
    assert!(
        text(&up.stdout).contains("dry run: 2 revisions would run"),
        "{}",
        text(&up.stdout)
    );
    let stamp = migrator(tmp.path(), &["-d", url, "stamp", "1a2b3c4d5e6f", "--purge"]);
    assert_eq!(stamp.status.code(), Some(0), "{}", text(&stamp.stderr));
    assert_eq!(
        text(&migrator(tmp.path(), &["-d", url, "current"]).stdout),
        "1a2b3c4d5e6f\n"
    );
    // Relative targets that start with `-` are still targets.
    let up = migrator(tmp.path(), &["-d", url, "-q", "upgrade", "+2"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up.stderr));
    let down = migrator(tmp.path(), &["-d", url, "downgrade", "-1", "-q"]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
    assert_eq!(
        text(&migrator(tmp.path(), &["-d", url, "current"]).stdout),
        "2b3c4d5e6f70\n"
    );
}

#[test]
fn an_empty_database_url_is_a_usage_error() {
    let tmp = demo();
    let with_env = |value: &str, args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_migrator"))
            .current_dir(tmp.path())
            .env("DATABASE_URL", value)
            .args(args)
            .output()
            .unwrap()
    };
    for out in [
        with_env("", &["upgrade"]),
        with_env("  ", &["current"]),
        migrator(tmp.path(), &["-d", "", "upgrade"]),
    ] {
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("the database URL is empty"),
            "{}",
            text(&out.stderr)
        );
    }
    assert!(
        !tmp.path().join("migrator.db").exists(),
        "the default database was not used"
    );
    // A flag still wins over an empty environment variable.
    assert_eq!(
        with_env("", &["-d", "sqlite://x.db", "-q", "upgrade"]).status.code(),
        Some(0)
    );
}

#[test]
fn a_sqlite_url_at_the_root_is_pointed_out() {
    let tmp = demo();
    // `current` reads only, so nothing is created at the root.
    let out = migrator(tmp.path(), &["-d", "sqlite:///migrator-test-nowhere.db", "current"]);
    let err = text(&out.stderr);
    assert!(
        err.contains("/migrator-test-nowhere.db at the root of the file system"),
        "{err}"
    );
    assert!(err.contains("sqlite:///./migrator-test-nowhere.db"), "{err}");
    // The SQLAlchemy spelling of a relative file says nothing.
    let out = migrator(tmp.path(), &["-d", "sqlite:///./app.db", "current"]);
    assert!(!text(&out.stderr).contains("root"), "{}", text(&out.stderr));
}

#[test]
fn check_heads_and_check_agree_on_a_head_reached_through_depends_on() {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("m");
    write(
        &m,
        "a.sql",
        "-- a\n-- Revision ID: aaa1\n-- Branch Labels: lib\n-- migrate:up\nCREATE TABLE a (x INT);\n-- migrate:down\nDROP TABLE a;\n",
    );
    write(
        &m,
        "b.sql",
        "-- b\n-- Revision ID: bbb2\n-- Branch Labels: app\n-- Depends On: aaa1\n-- migrate:up\nCREATE TABLE b (x INT);\n-- migrate:down\nDROP TABLE b;\n",
    );
    let run = |args: &[&str]| migrator(tmp.path(), &[&["--dir", "m", "-d", "sqlite://x.db"][..], args].concat());
    for args in [&["current", "--check-heads"][..], &["check"]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?} before upgrading");
        assert!(
            text(&out.stderr).contains("migrator upgrade heads"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert_eq!(run(&["-q", "upgrade", "heads"]).status.code(), Some(0));
    // aaa1 is applied with no row of its own, as Alembic does it.
    assert_eq!(text(&run(&["current"]).stdout), "aaa1 (effective head)\nbbb2 (head)\n");
    for args in [&["current", "--check-heads"][..], &["check"]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
    }
}

static DEMO: migrator_core::Migrations = migrator_macros::embed_migrations!("../migrations");

#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_runs_inside_a_tokio_runtime_with_nothing_kept_between_calls() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/app.db", tmp.path().display());
    // The blocking entry point, from inside a runtime.
    let code = migrator_cli::main_from(["service migrate", "-q", "-d", &url, "upgrade", "2b3c"], &DEMO);
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    // A failure in one call (a usage error) does not leak into the next.
    let bad = migrator_cli::run(["service migrate", "-d", &url, "upgrade", "nope"], Some(&DEMO)).await;
    assert_eq!(bad, std::process::ExitCode::from(1));
    let code = migrator_cli::run(["service migrate", "-q", "-d", &url, "upgrade", "heads"], Some(&DEMO)).await;
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    let tables = tables_of(&tmp.path().join("app.db"));
    assert!(tables.contains(&"invitations".to_owned()), "{tables:?}");
    // `.env` is read, never loaded into the process environment. (The
    // only test of this binary that changes the working directory: the
    // others give their child processes one of their own.)
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=sqlite://from_dotenv.db\nMIGRATOR_DOTENV_PROBE=1\n",
    )
    .unwrap();
    let demo_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let before = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let code = migrator_cli::run(["migrator", "--dir", demo_dir.to_str().unwrap(), "-q", "upgrade"], None).await;
    std::env::set_current_dir(before).unwrap();
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    assert!(
        dir.path().join("from_dotenv.db").exists(),
        "DATABASE_URL came from .env"
    );
    assert!(
        std::env::var_os("MIGRATOR_DOTENV_PROBE").is_none(),
        ".env was loaded into the environment"
    );
}

/// Runs with `--json` and reads the one document it prints.
fn json_of(cwd: &Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = migrator(cwd, &[&["--json"][..], args].concat());
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not one JSON document ({e}): {}", text(&out.stdout)));
    (out.status.code(), doc)
}

#[test]
fn writing_commands_speak_json() {
    let tmp = demo();
    let url = "sqlite://x.db";
    let (code, doc) = json_of(tmp.path(), &["-d", url, "check"]);
    assert_eq!((code, &doc["ok"]), (Some(1), &serde_json::json!(false)));
    assert!(
        doc["problems"][0].as_str().unwrap().contains("no revision applied"),
        "{doc}"
    );
    let (code, doc) = json_of(tmp.path(), &["-d", url, "upgrade", "2b3c", "--dry-run"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        (doc["dry_run"].as_bool(), doc["applied"].as_array().unwrap().len()),
        (Some(true), 2)
    );
    let (code, doc) = json_of(tmp.path(), &["-d", url, "upgrade"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["applied"].as_array().unwrap().len(), 10);
    assert_eq!(doc["current"], serde_json::json!(["a3b4c5d6e7f8"]));
    assert_eq!(doc["applied"][0]["revision"], "1a2b3c4d5e6f");
    let (code, doc) = json_of(tmp.path(), &["-d", url, "check"]);
    assert_eq!((code, &doc["ok"]), (Some(0), &serde_json::json!(true)), "{doc}");
    let (code, doc) = json_of(tmp.path(), &["-d", url, "downgrade", "-2"]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["command"], "downgrade");
    assert_eq!(doc["applied"][0]["direction"], "downgrade");
    let (code, doc) = json_of(tmp.path(), &["-d", url, "stamp", "heads"]);
    assert_eq!((code, &doc["current"]), (Some(0), &serde_json::json!(["a3b4c5d6e7f8"])));
    // A failure: what ran before it, and the error.
    let m = tmp.path().join("m");
    write(&m, "a.sql", &rev("aaa1", "", "CREATE TABLE a (x INT);"));
    write(&m, "b.sql", &rev("bbb2", "aaa1", "INSERT INTO nowhere VALUES (1);"));
    let (code, doc) = json_of(tmp.path(), &["--dir", "m", "-d", "sqlite://y.db", "upgrade"]);
    assert_eq!(code, Some(1));
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["applied"][0]["revision"], "aaa1");
    assert!(doc["error"].as_str().unwrap().contains("revision bbb2"), "{doc}");
}

#[test]
fn hooks_run_around_a_run_that_applies_something() {
    let tmp = demo();
    let url = "sqlite://app.db";
    std::fs::write(
        tmp.path().join("migrator.toml"),
        "before_upgrade = \"env | grep -E '^(MIGRATOR|PG|MYSQL)_' | sort > before.env\"\n\
         after_upgrade = \"echo done > after.txt\"\n\
         on_failure = \"echo \\\"$MIGRATOR_ERROR\\\" > failure.txt\"\n",
    )
    .unwrap();
    let out = migrator(tmp.path(), &["-d", url, "-q", "upgrade", "2b3c"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let env = std::fs::read_to_string(tmp.path().join("before.env")).unwrap();
    assert!(env.contains("MIGRATOR_REVISIONS=1a2b3c4d5e6f 2b3c4d5e6f70\n"), "{env}");
    assert!(
        env.contains("MIGRATOR_DIALECT=sqlite\n") && env.contains("MIGRATOR_DATABASE=app.db\n"),
        "{env}"
    );
    assert!(env.contains("MIGRATOR_COMMAND=upgrade\n"), "{env}");
    assert!(tmp.path().join("after.txt").exists());
    // Nothing to apply: no hook runs.
    std::fs::remove_file(tmp.path().join("before.env")).unwrap();
    assert_eq!(
        migrator(tmp.path(), &["-d", url, "-q", "upgrade", "2b3c"])
            .status
            .code(),
        Some(0)
    );
    assert!(!tmp.path().join("before.env").exists());
    // A failing before_upgrade stops the run before anything is applied.
    std::fs::write(tmp.path().join("migrator.toml"), "before_upgrade = \"exit 3\"\n").unwrap();
    let out = migrator(tmp.path(), &["-d", url, "upgrade"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the before_upgrade hook `exit 3` failed"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("nothing was applied"));
    assert_eq!(
        text(&migrator(tmp.path(), &["-d", url, "current"]).stdout),
        "2b3c4d5e6f70\n"
    );
    // on_failure gets the error.
    let m = tmp.path().join("m");
    write(&m, "a.sql", &rev("aaa1", "", "INSERT INTO nowhere VALUES (1);"));
    std::fs::write(
        tmp.path().join("migrator.toml"),
        "on_failure = \"echo \\\"$MIGRATOR_ERROR\\\" > failure.txt\"\n",
    )
    .unwrap();
    let out = migrator(tmp.path(), &["--dir", "m", "-d", "sqlite://other.db", "upgrade"]);
    assert_eq!(out.status.code(), Some(1));
    let failure = std::fs::read_to_string(tmp.path().join("failure.txt")).unwrap();
    assert!(
        failure.contains("revision aaa1") && failure.contains("nowhere"),
        "{failure}"
    );
}

#[test]
fn upgrade_backup_copies_a_sqlite_database_first() {
    let tmp = demo();
    let url = "sqlite://app.db";
    assert_eq!(
        migrator(tmp.path(), &["-d", url, "-q", "upgrade", "2b3c"])
            .status
            .code(),
        Some(0)
    );
    let out = migrator(tmp.path(), &["-d", url, "-q", "upgrade", "--backup", "before.db"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The copy is the database as it was before the upgrade.
    assert_eq!(
        tables_of(&tmp.path().join("before.db")).len(),
        tables_of(&tmp.path().join("app.db")).len() - 5
    );
    let copy = migrator(tmp.path(), &["-d", "sqlite://before.db", "current"]);
    assert_eq!(text(&copy.stdout), "2b3c4d5e6f70\n");
    // An existing file is never overwritten, and then nothing is applied.
    assert_eq!(
        migrator(tmp.path(), &["-d", url, "-q", "downgrade", "-1"])
            .status
            .code(),
        Some(0)
    );
    let out = migrator(tmp.path(), &["-d", url, "upgrade", "--backup", "before.db"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("exists already"), "{}", text(&out.stderr));
    assert_eq!(
        text(&migrator(tmp.path(), &["-d", url, "current"]).stdout),
        "92a3b4c5d6e7\n"
    );
}

/// The `before_upgrade` line of docs/hooks.md after `heading`.
fn documented_hook(heading: &str) -> String {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/hooks.md")).unwrap();
    let at = doc.find(heading).unwrap();
    let line = doc[at..].lines().find(|l| l.starts_with("before_upgrade = ")).unwrap();
    line.to_owned()
}

/// The documented dump hook for `server` runs before an upgrade and
/// writes a backup the database's own tools can read.
async fn documented_backup_hook(server: tests::Server) {
    let Some(db) = tests::server_db(server).await else {
        return;
    };
    let tmp = demo();
    let heading = match server {
        tests::Server::Postgres => "### A PostgreSQL backup",
        tests::Server::Mysql => "### A MySQL/MariaDB backup",
    };
    std::fs::write(
        tmp.path().join("migrator.toml"),
        format!("{}\n", documented_hook(heading)),
    )
    .unwrap();
    let out = migrator(tmp.path(), &["-d", &db.url, "-q", "upgrade"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let backups: Vec<String> = files(tmp.path())
        .into_iter()
        .filter(|f| f.starts_with("backup-"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    let backup = tmp.path().join(&backups[0]);
    match server {
        tests::Server::Postgres => {
            let list = std::process::Command::new("pg_restore")
                .arg("--list")
                .arg(&backup)
                .output()
                .unwrap();
            assert!(list.status.success(), "{}", text(&list.stderr));
        }
        tests::Server::Mysql => {
            let dump = std::fs::read_to_string(&backup).unwrap();
            assert!(dump.contains("-- Dump completed"), "{dump}");
        }
    }
}

#[tokio::test]
async fn the_documented_pg_dump_hook_works() {
    documented_backup_hook(tests::Server::Postgres).await;
}

#[tokio::test]
async fn the_documented_mariadb_dump_hook_works() {
    documented_backup_hook(tests::Server::Mysql).await;
}

#[test]
fn settings_that_would_hurt_are_refused() {
    let tmp = demo();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--version-table-schema", "temp", "upgrade"],
            "`temp` is a temporary schema",
        ),
        (
            &[
                "-d",
                "postgres://u@h/db",
                "--version-table-schema",
                "pg_temp",
                "upgrade",
                "--sql",
            ],
            "temporary schema",
        ),
        (
            &[
                "--version-table-schema",
                "main\".\"t0\" (a INT); DROP TABLE victim; CREATE TABLE IF NOT EXISTS \"main",
                "upgrade",
                "--sql",
            ],
            "not a valid schema name",
        ),
        (&["--lock-timeout", "2147484", "upgrade"], "more than a day"),
        (&["--lock-timeout", "99999999999999999999", "upgrade"], "error"),
    ];
    for (args, message) in cases {
        let out = migrator(tmp.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(message), "{args:?}: {}", text(&out.stderr));
        assert!(!text(&out.stderr).contains("panicked"));
    }
    std::fs::write(tmp.path().join("migrator.toml"), "file_template = \"../%(rev)s\"\n").unwrap();
    let out = migrator(tmp.path(), &["revision", "-m", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("leaves the migrations directory"),
        "{}",
        text(&out.stderr)
    );
    assert!(!tmp.path().join("x.sql").exists() && files(tmp.path()).iter().all(|f| !f.ends_with(".sql")));
}

#[test]
fn urls_are_read_as_their_servers_read_them() {
    let tmp = demo();
    // An IPv6 literal reaches that address (a listener on [::1] sees the
    // connection; the handshake then fails, which is the point).
    if let Ok(listener) = std::net::TcpListener::bind("[::1]:0") {
        let port = listener.local_addr().unwrap().port();
        let seen = std::thread::spawn(move || listener.accept().is_ok());
        for scheme in ["postgres", "mysql"] {
            let url = format!("{scheme}://u@[::1]:{port}/db");
            let out = migrator(tmp.path(), &["-d", &url, "current"]);
            assert_eq!(out.status.code(), Some(1), "{url}");
            assert!(!text(&out.stderr).contains("lookup"), "{url}: {}", text(&out.stderr));
        }
        assert!(seen.join().unwrap(), "the listener on [::1] was reached");
    }
    // A URL the driver cannot use is a usage error that names the part.
    for (url, part) in [
        ("postgres://u@127.0.0.1:notaport/db", "invalid port"),
        ("sqlite://x.db?bogus=1", "`bogus`"),
        ("postgres://u@127.0.0.1/db?sslmode=bogus", "\"bogus\""),
    ] {
        let out = migrator(tmp.path(), &["-d", url, "current"]);
        assert_eq!(out.status.code(), Some(2), "{url}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(err.contains(part) && err.contains("cannot be used"), "{url}: {err}");
        assert!(!err.contains("check that the database is running"), "{err}");
    }
}

#[test]
fn check_and_status_agree_on_unverified_revisions() {
    let tmp = demo();
    let url = "sqlite://x.db";
    assert_eq!(
        migrator(tmp.path(), &["-d", url, "-q", "upgrade"]).status.code(),
        Some(0)
    );
    let db = tmp.path().join("x.db");
    let deleted = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("DELETE FROM migrator_log WHERE revision = '2b3c4d5e6f70'")
        .status()
        .unwrap();
    assert!(deleted.success());
    let status = text(&migrator(tmp.path(), &["-d", url, "status"]).stdout);
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("unverified") && l.contains("2b3c4d5e6f70")),
        "{status}"
    );
    let check = migrator(tmp.path(), &["-d", url, "check"]);
    assert_eq!(check.status.code(), Some(0));
    let said = text(&check.stdout);
    assert!(said.contains("1 unverified: 2b3c4d5e6f70"), "{said}");
}
