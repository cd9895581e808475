//! Reading a migrations directory from disk: the only module of the format
//! layer that touches the file system. Used by `embed_migrations!` at
//! compile time and by `--dir` at run time, so both see the same table.

use std::path::{Path, PathBuf};

use crate::{Diagnostic, Diagnostics, Graph, List, Migrations, Revision, parse_revision};

/// A revision file found on disk.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The file's path relative to the directory, with `/` separators.
    pub relative: String,
    /// The absolute path.
    pub absolute: PathBuf,
    /// The file's text.
    pub text: String,
}

/// Every `*.sql` file under `dir`, recursively, sorted by relative path.
pub fn read_dir_sources(dir: &Path) -> Result<Vec<SourceFile>, Diagnostics> {
    if !dir.is_dir() {
        return Err(Diagnostics(vec![Diagnostic::new(
            dir.display().to_string(),
            1,
            "migrations directory does not exist; create it with `migrator init` or point `--dir` at it",
        )]));
    }
    // Resolved once; each file's absolute path is this plus its relative
    // path (no per-file system call).
    let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => {
                errors.push(Diagnostic::new(
                    d.display().to_string(),
                    1,
                    format!("cannot read directory: {e}"),
                ));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_dir = match entry.file_type() {
                Ok(t) if t.is_symlink() => path.is_dir(),
                Ok(t) => t.is_dir(),
                Err(_) => false,
            };
            if is_dir {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "sql") {
                let relative = relative_path(&root, &path);
                match std::fs::read(&path) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => files.push(SourceFile {
                            relative,
                            absolute: path,
                            text,
                        }),
                        Err(_) => errors.push(Diagnostic::new(
                            relative,
                            1,
                            "file is not valid UTF-8; save it as UTF-8",
                        )),
                    },
                    Err(e) => errors.push(Diagnostic::new(relative, 1, format!("cannot read file: {e}"))),
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(Diagnostics(errors));
    }
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(files)
}

fn relative_path(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Parses sources into a table and verifies its graph, reporting every
/// problem in every file at once.
pub fn parse_sources(files: &[SourceFile], allow_multiple_heads: bool) -> Result<Migrations, Diagnostics> {
    let mut revisions: Vec<Revision> = Vec::with_capacity(files.len());
    let mut errors = Vec::new();
    for f in files {
        match parse_revision(&f.relative, &f.text) {
            Ok(r) => revisions.push(r),
            Err(e) => errors.extend(e),
        }
    }
    let migrations = Migrations {
        revisions: List::Owned(revisions),
        allow_multiple_heads,
    };
    if let Err(graph_errors) = Graph::new(&migrations) {
        // With unparsed files around, references to them would be reported
        // as missing; show only the problems that stand on their own.
        let parse_failed = !errors.is_empty();
        errors.extend(graph_errors.0.into_iter().filter(|d| {
            !parse_failed || !(d.message.contains("does not exist") || d.message.contains("neither a revision"))
        }));
    }
    if errors.is_empty() {
        Ok(migrations)
    } else {
        Err(Diagnostics(errors))
    }
}

/// Reads and verifies a migrations directory.
pub fn load_dir(dir: &Path, allow_multiple_heads: bool) -> Result<Migrations, Diagnostics> {
    parse_sources(&read_dir_sources(dir)?, allow_multiple_heads)
}
