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
