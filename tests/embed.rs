//! The table `embed_migrations!` builds at compile time equals the one the
//! runtime loader builds from the same directory.

#![allow(clippy::unwrap_used)]

use migrator_core::{Dialect, Direction, Migrations, load_dir};

static DEMO: Migrations = migrator_macros::embed_migrations!("../migrations");
static VARIED: Migrations = migrator_macros::embed_migrations!("fixtures/varied", allow_multiple_heads = true);

fn dir(relative: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn demo_history_matches_the_runtime_loader() {
    let loaded = load_dir(&dir("../migrations"), false).unwrap();
    assert_eq!(DEMO, loaded);
    assert!(DEMO.revisions.len() >= 8);
}

#[test]
fn tricky_files_match_the_runtime_loader() {
    let loaded = load_dir(&dir("fixtures/varied"), true).unwrap();
    assert_eq!(VARIED, loaded);
    let paths: Vec<&str> = VARIED.revisions.iter().map(|r| &*r.path).collect();
    assert_eq!(paths, ["001_base.sql", "002_second.sql", "nested/003_other_root.sql"]);
}

#[test]
fn embedded_table_keeps_sections_and_checksums() {
    let base = &VARIED.revisions[0];
    assert_eq!(base.message, "first, with a BOM and CRLF");
    assert_eq!(&*base.branch_labels, ["core"]);
    let second = &VARIED.revisions[1];
    let pg: Vec<_> = second.body(Direction::Up, Dialect::Postgres).sections().collect();
    assert!(pg[0].transactional && pg[0].sql.contains("BIGINT"));
    assert!(!pg[1].transactional && pg[1].sql.contains("CONCURRENTLY"));
    let sqlite: Vec<_> = second.body(Direction::Up, Dialect::Sqlite).sections().collect();
    assert!(sqlite.len() == 1 && sqlite[0].transactional);
    assert_eq!(
        second.checksum(Dialect::Sqlite),
        migrator_core::checksum("CREATE TABLE b (id INTEGER PRIMARY KEY, note TEXT);")
    );
    assert_ne!(second.checksum(Dialect::Sqlite), second.checksum(Dialect::Postgres));
    assert_eq!(&*VARIED.revisions[2].depends_on, ["core"]);
}
