//! Several replicas of the service starting at once on one database, and
//! the command line it exposes.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::{Command, Output, Stdio};

fn service(url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_service"));
    c.env("DATABASE_URL", url)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn replicas(url: &str) {
    let children: Vec<_> = (0..4).map(|_| service(url, &[]).spawn().unwrap()).collect();
    let mut applied = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "a replica failed: {}", text(&out));
        let line = text(&out);
        assert!(
            line.contains("the database is at 5e7a11ce0003") && line.contains("serving"),
            "{line}"
        );
        applied += line
            .split("migrated: ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .unwrap()
            .parse::<usize>()
            .unwrap();
    }
    assert_eq!(applied, 3, "each revision was applied by exactly one replica");
    let current = service(url, &["migrate", "current"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&current.stdout), "5e7a11ce0003 (head)\n");
    let down = service(url, &["migrate", "-q", "downgrade", "-1"]).output().unwrap();
    assert!(down.status.success(), "{}", text(&down));
    let history = service(url, &["migrate", "history", "--indicate-current"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&history.stdout)
            .contains("5e7a11ce0001 -> 5e7a11ce0002 (current), add notes.created_at")
    );
}

#[test]
fn replicas_start_together_on_sqlite() {
    let dir = tempfile_dir();
    replicas(&format!("sqlite://{}/service.db", dir.display()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn replicas_start_together_on_postgres() {
    let Some(db) = tests::server_db(tests::Server::Postgres).await else {
        return;
    };
    replicas(&db.url);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("service-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn advice_names_the_service_command() {
    let dir = tempfile_dir().join("advice");
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/service.db", dir.display());
    let made = Command::new("sqlite3")
        .arg(dir.join("service.db"))
        .arg("CREATE TABLE notes (id TEXT);")
        .output()
        .unwrap();
    assert!(made.status.success());
    let out = service(&url, &["migrate", "upgrade"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out);
    assert!(err.contains("`service migrate stamp 5e7a11ce0001`"), "{err}");
    assert!(!err.contains("`migrator "), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}
