//! SQLite's `PRAGMA foreign_keys = OFF` in a revision: the first step of
//! SQLite's documented procedure for changing a table's schema (the
//! 12-step "generalized ALTER TABLE"). Inside a transaction the pragma is
//! a no-op, so the executor (and the offline script) hoist it: the step's
//! transaction runs with foreign keys off, `PRAGMA foreign_key_check`
//! must find nothing before it commits, and foreign keys are switched back
//! afterwards. Without the hoisting, rebuilding a table that others
//! reference fires their `ON DELETE CASCADE` on `DROP TABLE` and deletes
//! the children's rows. Pure: this module only reads SQL.

use crate::{Dialect, split_statements};

/// The statement autogenerate writes, and the one users are told to write.
pub const FOREIGN_KEYS_OFF: &str = "PRAGMA foreign_keys = OFF";

/// `true` when a SQLite section holds `PRAGMA foreign_keys = OFF` (any
/// spelling SQLite accepts: `off`, `0`, `false`, `no`, spacing and case
/// free) as a statement of its own.
pub fn disables_foreign_keys(sql: &str) -> bool {
    // Most sections never mention it: a cheap scan before splitting (only
    // the `_`s are looked at closely).
    let bytes = sql.as_bytes();
    let needle = b"foreign_keys";
    let mentions = bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'_' && i >= 7 && bytes.get(i - 7..i + 5).is_some_and(|w| w.eq_ignore_ascii_case(needle)));
    mentions
        && split_statements(sql, Dialect::Sqlite)
            .iter()
            .any(|s| is_foreign_keys_off(strip_leading_comments(s.sql)))
}

fn strip_leading_comments(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.find(['\n', '\r']).map_or("", |i| &rest[i..]);
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.find("*/").map_or("", |i| &rest[i + 2..]);
        } else {
            return s;
        }
    }
}

fn is_foreign_keys_off(statement: &str) -> bool {
    let compact: String = statement
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    let value = compact
        .strip_prefix("pragmaforeign_keys=")
        .or_else(|| compact.strip_prefix("pragmamain.foreign_keys="));
    matches!(
        value.map(|v| v.trim_matches(['\'', '"'])),
        Some("off" | "0" | "false" | "no")
    )
}

#[cfg(test)]
mod tests {
    use super::disables_foreign_keys;

    #[test]
    fn finds_the_pragma_in_any_spelling_and_nowhere_else() {
        for yes in [
            "PRAGMA foreign_keys = OFF;\nCREATE TABLE t (x INT);",
            "-- rebuild t\npragma Foreign_Keys=off;",
            "CREATE TABLE a (x INT);\n/* c */ PRAGMA foreign_keys = 0",
            "PRAGMA foreign_keys = 'false';",
            "PRAGMA\n  foreign_keys\n  =\n  no;",
        ] {
            assert!(disables_foreign_keys(yes), "{yes:?}");
        }
        for no in [
            "PRAGMA foreign_keys = ON;",
            "PRAGMA defer_foreign_keys = ON;",
            "-- PRAGMA foreign_keys = OFF;\nCREATE TABLE t (x INT);",
            "INSERT INTO notes (body) VALUES ('PRAGMA foreign_keys = OFF');",
            "CREATE TABLE foreign_keys (x INT);",
            "",
        ] {
            assert!(!disables_foreign_keys(no), "{no:?}");
        }
    }
}
