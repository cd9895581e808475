//! PostgreSQL's client environment as libpq reads it: `PGPASSWORD`,
//! `PGPASSFILE` and `~/.pgpass`, `PGHOST`/`PGPORT`/`PGUSER` under a URL
//! without them, against an instance of the test's own that asks for a
//! password.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::Output;

use crate::processes::{counted_history, migrator};

/// An instance whose `app` role logs in with a password over TCP (SCRAM).
fn server_with_a_password() -> Option<tests::OwnPostgres> {
    let pg = tests::OwnPostgres::start(&[], |_| {})?;
    let socket = pg.dir.path().display().to_string();
    let port = pg.port.to_string();
    psql(&socket, &port, "CREATE ROLE app LOGIN PASSWORD 's3cret'");
    psql(&socket, &port, "CREATE DATABASE app OWNER app");
    std::fs::write(
        pg.dir.path().join("data/pg_hba.conf"),
        "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all app 127.0.0.1/32 scram-sha-256\n",
    )
    .unwrap();
    psql(&socket, &port, "SELECT pg_reload_conf()");
    Some(pg)
}

fn psql(socket: &str, port: &str, sql: &str) {
    let out = std::process::Command::new("psql")
        .args([
            "-h",
            socket,
            "-p",
            port,
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn passwords_and_hosts_come_from_the_libpq_environment() {
    if !tests::tool("psql", "--version") {
        return;
    }
    let Some(pg) = server_with_a_password() else {
        return;
    };
    let h = counted_history();
    let url = format!("postgres://app@127.0.0.1:{}/app", pg.port);
    let home = tempfile::tempdir().unwrap();
    let run = |url: &str, env: &[(&str, String)], command: &str| {
        let mut c = migrator();
        c.arg("--dir").arg(h.migrations_dir()).args(["-d", url, command]);
        for var in ["PGPASSWORD", "PGPASSFILE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"] {
            c.env_remove(var);
        }
        c.env("HOME", home.path());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    // No password anywhere: refused, and the error says so.
    let out = run(&url, &[], "current");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("password"), "{}", text(&out));
    // PGPASSWORD.
    let out = run(&url, &[("PGPASSWORD", "s3cret".to_owned())], "upgrade");
    assert!(out.status.success(), "{}", text(&out));
    // A password file named by PGPASSFILE, and ~/.pgpass; libpq ignores
    // one that others can read, and so should nobody rely on that here.
    let line = format!("127.0.0.1:{}:*:app:s3cret\n", pg.port);
    let file = home.path().join("passwords");
    std::fs::write(&file, &line).unwrap();
    let private = |p: &std::path::Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    private(&file);
    let out = run(&url, &[("PGPASSFILE", file.display().to_string())], "current");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("r20 (head)"), "{}", text(&out));
    std::fs::write(home.path().join(".pgpass"), &line).unwrap();
    private(&home.path().join(".pgpass"));
    let out = run(&url, &[], "current");
    assert!(out.status.success(), "~/.pgpass: {}", text(&out));
    // Host, port and user from the environment, the URL naming only the
    // database.
    let env = [
        ("PGHOST", "127.0.0.1".to_owned()),
        ("PGPORT", pg.port.to_string()),
        ("PGUSER", "app".to_owned()),
    ];
    let out = run("postgres:///app", &env, "current");
    assert!(out.status.success(), "PGHOST/PGPORT/PGUSER: {}", text(&out));
    assert!(!text(&out).contains("s3cret"));
}
