//! Checksums of the SQL that runs, immune to whitespace and line-ending
//! noise.

use sha2::{Digest, Sha256};

use crate::Checksum;

/// The SQL as it is hashed: without a BOM, with LF line endings, without
/// trailing whitespace on any line, and without leading or trailing blank
/// lines.
pub fn normalize(sql: &str) -> String {
    let sql = sql.strip_prefix('\u{feff}').unwrap_or(sql);
    let unified = sql.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = unified.lines().map(str::trim_end).collect();
    let start = lines.iter().position(|l| !l.is_empty()).unwrap_or(lines.len());
    let end = lines.iter().rposition(|l| !l.is_empty()).map_or(start, |e| e + 1);
    lines[start..end].join("\n")
}

/// SHA-256 of [`normalize`]d SQL.
pub fn checksum(sql: &str) -> Checksum {
    Checksum(Sha256::digest(normalize(sql).as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_ignores_line_endings_bom_and_blank_edges() {
        let a = checksum("CREATE TABLE t (id INT);\nDROP TABLE u;");
        assert_eq!(
            a,
            checksum("\u{feff}\r\n\nCREATE TABLE t (id INT);   \r\nDROP TABLE u;\n\n\n")
        );
        assert_eq!(a, checksum("CREATE TABLE t (id INT);\rDROP TABLE u;\t"));
        assert_ne!(a, checksum("CREATE TABLE t (id INTEGER);\nDROP TABLE u;"));
        // Leading whitespace inside a line is part of the SQL.
        assert_ne!(a, checksum("  CREATE TABLE t (id INT);\nDROP TABLE u;"));
        // Blank lines in the middle are kept.
        assert_ne!(a, checksum("CREATE TABLE t (id INT);\n\nDROP TABLE u;"));
    }

    #[test]
    fn empty_script_has_the_empty_digest() {
        assert_eq!(
            checksum("\n  \n").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
