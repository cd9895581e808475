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

/// The largest revision file read: a file past it is reported, not read
/// (a link to `/dev/zero` or a runaway dump must not exhaust memory).
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// Every `*.sql` file under `dir`, recursively, sorted by relative path.
/// Symbolic links are followed, each directory and file read once
/// whatever the links; anything but a plain file named `*.sql` is an
/// error naming it.
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
    // Directories and files already read, by their real path: a symbolic
    // link to a directory above, or two links to one place, are read once.
    let mut seen_dirs = std::collections::HashSet::new();
    let mut seen_files = std::collections::HashSet::new();
    seen_dirs.insert(root.clone());
    // Each directory as it is named (for the files' relative paths) and
    // its real path (for telling what was read already).
    let mut stack = vec![(root.clone(), root.clone())];
    while let Some((d, real_dir)) = stack.pop() {
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
        // Plain entries before links, each by name, so that a file reached
        // both ways is always read under its own name.
        let mut entries: Vec<(bool, std::fs::DirEntry)> = entries
            .flatten()
            .map(|e| (e.file_type().is_ok_and(|t| t.is_symlink()), e))
            .collect();
        entries.sort_by_key(|(link, e)| (*link, e.file_name()));
        for (is_link, entry) in entries {
            let path = entry.path();
            // What the entry is, following a link (a broken link: nothing).
            let Ok(meta) = std::fs::metadata(&path) else {
                if path.extension().is_some_and(|e| e == "sql") {
                    let relative = relative_path(&root, &path);
                    errors.push(Diagnostic::new(relative, 1, "cannot read file: a broken symbolic link"));
                }
                continue;
            };
            let real = if is_link {
                std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone())
            } else {
                real_dir.join(entry.file_name())
            };
            if meta.is_dir() {
                if seen_dirs.insert(real.clone()) {
                    stack.push((path, real));
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "sql") {
                continue;
            }
            let relative = relative_path(&root, &path);
            if !meta.is_file() {
                // A FIFO would block the read forever, a device never end.
                errors.push(Diagnostic::new(
                    relative,
                    1,
                    "not a regular file (a pipe, socket or device); revision files must be plain files",
                ));
                continue;
            }
            if meta.len() > MAX_FILE_BYTES {
                errors.push(Diagnostic::new(
                    relative,
                    1,
                    format!(
                        "file is {} MiB, more than the {} MiB a revision file may hold; split it into several \
                         revisions",
                        meta.len() >> 20,
                        MAX_FILE_BYTES >> 20
                    ),
                ));
                continue;
            }
            if !seen_files.insert(real) {
                continue;
            }
            match std::fs::read(&path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => files.push(SourceFile {
                        relative,
                        absolute: path,
                        text,
                    }),
                    Err(e) => {
                        let valid = e.utf8_error().valid_up_to();
                        let bytes = e.into_bytes();
                        let line = 1 + bytes[..valid].iter().filter(|&&b| b == b'\n').count();
                        errors.push(Diagnostic::new(
                            relative,
                            u32::try_from(line).unwrap_or(u32::MAX),
                            "not valid UTF-8 from this line on; save the file as UTF-8",
                        ));
                    }
                },
                Err(e) => errors.push(Diagnostic::new(relative, 1, format!("cannot read file: {e}"))),
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

#[cfg(all(test, unix))]
mod tests {
    use super::read_dir_sources;

    #[test]
    fn links_pipes_devices_and_bad_bytes_are_read_once_or_named() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(d.join("a.sql"), "-- a\n-- Revision ID: a1\n-- migrate:up\n").unwrap();
        std::os::unix::fs::symlink(".", d.join("loop1")).unwrap();
        std::os::unix::fs::symlink(".", d.join("loop2")).unwrap();
        std::os::unix::fs::symlink(d.join("a.sql"), d.join("again.sql")).unwrap();
        let files = read_dir_sources(d).unwrap();
        assert_eq!(
            files.len(),
            1,
            "{:?}",
            files.iter().map(|f| &f.relative).collect::<Vec<_>>()
        );

        std::os::unix::fs::symlink("/dev/zero", d.join("zero.sql")).unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(d.join("pipe.sql"))
            .status()
            .unwrap();
        assert!(fifo.success());
        std::fs::write(d.join("bad.sql"), b"-- b\n-- Revision ID: b1\n-- \xff\n").unwrap();
        let errors = read_dir_sources(d).unwrap_err().to_string();
        assert!(errors.contains("zero.sql:1: not a regular file"), "{errors}");
        assert!(errors.contains("pipe.sql:1: not a regular file"), "{errors}");
        assert!(
            errors.contains("bad.sql:3: not valid UTF-8 from this line on"),
            "{errors}"
        );
    }
}
