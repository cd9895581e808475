//! Splitting a section into statements, for the dialects that cannot run a
//! script in one go safely (MySQL, and `transaction:false` sections, which
//! run statement by statement so progress can be recorded). Understands
//! quotes and identifiers, `--`, `#` (MySQL) and `/* */` comments (nested
//! on PostgreSQL), PostgreSQL dollar quoting and `E''` strings, MySQL
//! backslash escapes, and `BEGIN ... END` bodies of triggers, procedures
//! and functions.

use crate::Dialect;

/// One statement of a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement, without its `;` and surrounding white space.
    pub sql: &'a str,
    /// Its first line within the section (one-based).
    pub line: u32,
}

/// Splits `sql` into statements at top-level `;`. Statements holding only
/// white space and comments are dropped.
pub fn split_statements(sql: &str, dialect: Dialect) -> Vec<Statement<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    // Depth of BEGIN/CASE ... END inside a compound statement, and whether
    // the current statement is one.
    let mut depth: i32 = 0;
    let mut compound: Option<bool> = None;
    let mut has_code = false;
    // Line numbers are counted once over the whole text, not again from
    // the start for every statement (which made 100,000 statements slow).
    let mut lines = LineCounter::default();
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\'' => {
                let escapes = dialect == Dialect::Mysql || is_e_string(bytes, i);
                i = skip_quoted(bytes, i, b'\'', escapes);
                has_code = true;
            }
            b'"' => {
                i = skip_quoted(bytes, i, b'"', dialect == Dialect::Mysql);
                has_code = true;
            }
            // SQLite also quotes identifiers in brackets (`[t;x]`).
            b'[' if dialect == Dialect::Sqlite => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b']')
                    .map_or(bytes.len(), |p| i + p + 1);
                has_code = true;
            }
            b'`' if dialect != Dialect::Postgres => {
                i = skip_quoted(bytes, i, b'`', false);
                has_code = true;
            }
            // PostgreSQL ends a `--` comment at CR as well as LF; MySQL
            // needs white space after `--` (`5--2` is arithmetic there).
            b'-' if bytes.get(i + 1) == Some(&b'-')
                && (dialect != Dialect::Mysql || bytes.get(i + 2).is_none_or(|b| b.is_ascii_whitespace())) =>
            {
                i = skip_line(bytes, i, dialect == Dialect::Postgres);
            }
            b'#' if dialect == Dialect::Mysql => i = skip_line(bytes, i, false),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                // MySQL's executable comments (`/*!40101 SET ... */`,
                // MariaDB's `/*M!...*/`) are code the server runs.
                if dialect == Dialect::Mysql && matches!(bytes.get(i + 2), Some(b'!' | b'M')) {
                    has_code = true;
                }
                i = skip_block(bytes, i, dialect == Dialect::Postgres);
            }
            b'$' if dialect == Dialect::Postgres => match dollar_tag(bytes, i) {
                Some(tag) => {
                    i = skip_dollar(bytes, i, tag);
                    has_code = true;
                }
                None => i += 1,
            },
            b';' if depth <= 0 => {
                push(&mut out, &mut lines, sql, start, i, has_code);
                i += 1;
                start = i;
                depth = 0;
                compound = None;
                has_code = false;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = word_end(bytes, i);
                let word = &sql[i..end];
                if compound.is_none() {
                    compound = Some(starts_compound(&sql[start..], dialect));
                }
                if compound == Some(true) {
                    depth += keyword_depth(word, &sql[end..], dialect);
                }
                has_code = true;
                i = end;
            }
            c => {
                if !c.is_ascii_whitespace() {
                    has_code = true;
                }
                i += 1;
            }
        }
    }
    push(&mut out, &mut lines, sql, start, bytes.len(), has_code);
    out
}

/// Lines counted up to a position, advancing only forward.
#[derive(Default)]
struct LineCounter {
    at: usize,
    line: usize,
}

impl LineCounter {
    /// The one-based line of byte `pos`, which is never before the last.
    fn line_of(&mut self, sql: &str, pos: usize) -> usize {
        self.line += sql.as_bytes()[self.at..pos].iter().filter(|&&b| b == b'\n').count();
        self.at = pos;
        self.line + 1
    }
}

fn push<'a>(
    out: &mut Vec<Statement<'a>>,
    lines: &mut LineCounter,
    sql: &'a str,
    start: usize,
    end: usize,
    has_code: bool,
) {
    if !has_code {
        return;
    }
    let text = &sql[start..end];
    let trimmed = text.trim();
    let lead = text.len() - text.trim_start().len();
    let line = lines.line_of(sql, start + lead);
    out.push(Statement {
        sql: trimmed,
        line: u32::try_from(line).unwrap_or(u32::MAX),
    });
}

fn is_e_string(bytes: &[u8], quote: usize) -> bool {
    quote > 0
        && matches!(bytes[quote - 1], b'e' | b'E')
        && (quote < 2 || !(bytes[quote - 2].is_ascii_alphanumeric() || bytes[quote - 2] == b'_'))
}

/// Index just past the closing quote (doubled quotes and, where allowed,
/// backslash escapes stay inside).
fn skip_quoted(bytes: &[u8], open: usize, quote: u8, backslash: bool) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        let c = bytes[i];
        if backslash && c == b'\\' {
            i += 2;
        } else if c == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// Index just past the end of a line comment: its LF, or with `cr_too`
/// its CR.
fn skip_line(bytes: &[u8], i: usize, cr_too: bool) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n' || (cr_too && b == b'\r'))
        .map_or(bytes.len(), |p| i + p + 1)
}

fn skip_block(bytes: &[u8], open: usize, nested: bool) -> usize {
    let mut depth = 1;
    let mut i = open + 2;
    while i < bytes.len() {
        if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 || !nested {
                return i;
            }
        } else if nested && bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// The tag of a dollar quote starting at `i` (`$$` or `$name$`), if it is
/// one (`$1` is a parameter, not a quote).
fn dollar_tag(bytes: &[u8], i: usize) -> Option<&[u8]> {
    if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
        return None;
    }
    let rest = &bytes[i + 1..];
    let len = rest.iter().position(|&b| b == b'$')?;
    let tag = &rest[..len];
    let valid = tag.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
        && tag.first().is_none_or(|b| !b.is_ascii_digit());
    valid.then_some(&bytes[i..i + len + 2])
}

fn skip_dollar(bytes: &[u8], open: usize, tag: &[u8]) -> usize {
    let body = open + tag.len();
    bytes[body..]
        .windows(tag.len())
        .position(|w| w == tag)
        .map_or(bytes.len(), |p| body + p + tag.len())
}

fn word_end(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .map_or(bytes.len(), |p| i + p)
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
}

/// Whether a statement is one whose body holds `;`-terminated statements
/// between `BEGIN` and `END`: triggers (SQLite, MySQL), procedures,
/// functions and events (MySQL), and `BEGIN ATOMIC` bodies (PostgreSQL).
/// The kind is the first object keyword after `CREATE` and its modifiers
/// (`OR REPLACE`, `DEFINER = ...`, `TEMPORARY`, ...), so that a table or a
/// column named `event`, `trigger` or `begin` is not taken for one.
fn starts_compound(statement: &str, dialect: Dialect) -> bool {
    let kinds: &[&str] = match dialect {
        Dialect::Sqlite => &["TRIGGER"],
        Dialect::Mysql => &["TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"],
        Dialect::Postgres => &["FUNCTION", "PROCEDURE"],
    };
    object_kind(statement).is_some_and(|kind| kinds.contains(&kind.as_str()))
}

/// What a `CREATE` statement creates (`TABLE`, `TRIGGER`, ...), upper
/// case; `None` for any other statement.
fn object_kind(statement: &str) -> Option<String> {
    const OBJECTS: [&str; 20] = [
        "TABLE",
        "VIEW",
        "INDEX",
        "TRIGGER",
        "PROCEDURE",
        "FUNCTION",
        "EVENT",
        "SEQUENCE",
        "SCHEMA",
        "DATABASE",
        "TYPE",
        "DOMAIN",
        "EXTENSION",
        "ROLE",
        "USER",
        "SERVER",
        "TABLESPACE",
        "MATERIALIZED",
        "POLICY",
        "RULE",
    ];
    let bytes = statement.as_bytes();
    let mut i = 0;
    let mut first = true;
    // The last character of code before the current word: a word right
    // after `=`, `@` or `.` is a value or a qualified name, not a keyword.
    let mut before = b' ';
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\'' | b'"' | b'`' => {
                i = skip_quoted(bytes, i, c, false);
                before = c;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => i = skip_line(bytes, i, true),
            b'#' => i = skip_line(bytes, i, false),
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block(bytes, i, false),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = word_end(bytes, i);
                let word = statement[i..end].to_ascii_uppercase();
                if first {
                    if word != "CREATE" {
                        return None;
                    }
                    first = false;
                } else if !matches!(before, b'=' | b'@' | b'.') && OBJECTS.contains(&word.as_str()) {
                    return Some(word);
                }
                before = b'a';
                i = end;
            }
            // Past the head: the kind would have come before any `(`, and
            // surely before the statement's end.
            b'(' | b';' => return None,
            c => {
                if !c.is_ascii_whitespace() {
                    before = c;
                }
                i += 1;
            }
        }
    }
    None
}

/// How a keyword moves the BEGIN ... END depth.
fn keyword_depth(word: &str, after: &str, dialect: Dialect) -> i32 {
    let next = words(after).next();
    match word.to_ascii_uppercase().as_str() {
        "BEGIN" if dialect == Dialect::Postgres => i32::from(next.as_deref() == Some("ATOMIC")),
        "BEGIN" => 1,
        "CASE" => 1,
        // MySQL closes IF, LOOP, WHILE and REPEAT blocks with `END IF` and
        // so on; those blocks were never counted. `END CASE` closes a CASE.
        "END" => match next.as_deref() {
            Some("IF" | "LOOP" | "WHILE" | "REPEAT") if dialect == Dialect::Mysql => 0,
            _ => -1,
        },
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(sql: &str, d: Dialect) -> Vec<(u32, &str)> {
        split_statements(sql, d).into_iter().map(|s| (s.line, s.sql)).collect()
    }

    #[test]
    fn plain_statements_and_comments() {
        let sql = "-- a comment; not a statement\nCREATE TABLE a (x INT);\n/* block; */ INSERT INTO a VALUES (1);\n\n  ; ;\nSELECT ';' || \"semi;colon\"";
        assert_eq!(
            split(sql, Dialect::Sqlite),
            [
                (1, "-- a comment; not a statement\nCREATE TABLE a (x INT)"),
                (3, "/* block; */ INSERT INTO a VALUES (1)"),
                (6, "SELECT ';' || \"semi;colon\""),
            ]
        );
    }

    #[test]
    fn postgres_dollar_quotes_e_strings_and_nested_comments() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;\n\
                   DO $$ BEGIN PERFORM 1; END $$;\n\
                   SELECT E'it\\'s; fine', $1;\n\
                   /* outer /* inner; */ still comment; */ SELECT 2;";
        let parts = split(sql, Dialect::Postgres);
        assert_eq!(parts.len(), 4, "{parts:?}");
        assert!(parts[0].1.ends_with("LANGUAGE plpgsql"));
        assert_eq!(parts[1], (2, "DO $$ BEGIN PERFORM 1; END $$"));
        assert_eq!(parts[2].1, "SELECT E'it\\'s; fine', $1");
        assert!(parts[3].1.ends_with("SELECT 2"));
    }

    #[test]
    fn mysql_backslashes_backticks_hash_comments_and_routines() {
        let sql = "INSERT INTO t VALUES ('a\\';b');\n# note; here\nCREATE TABLE `x;y` (id INT);\n\
                   CREATE PROCEDURE p() BEGIN\n  IF 1 THEN SELECT 1; END IF;\n  SELECT CASE WHEN 1 THEN 2 END;\nEND;\n\
                   CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END;\nSELECT 3";
        let parts = split(sql, Dialect::Mysql);
        assert_eq!(parts.len(), 5, "{parts:?}");
        assert_eq!(parts[0].1, "INSERT INTO t VALUES ('a\\';b')");
        assert_eq!(parts[1].1, "# note; here\nCREATE TABLE `x;y` (id INT)");
        assert!(parts[2].1.starts_with("CREATE PROCEDURE") && parts[2].1.ends_with("END"));
        assert!(parts[3].1.starts_with("CREATE TRIGGER") && parts[3].1.ends_with("END"));
        assert_eq!(parts[4].1, "SELECT 3");
    }

    #[test]
    fn sqlite_trigger_bodies_stay_whole() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = n + 1;\n  INSERT INTO c VALUES (CASE WHEN 1 THEN 2 END);\nEND;\nDROP TABLE z;";
        let parts = split(sql, Dialect::Sqlite);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts[0].1.ends_with("END"));
        assert_eq!(parts[1], (5, "DROP TABLE z"));
    }

    #[test]
    fn unterminated_text_does_not_panic() {
        for sql in [
            "SELECT 'open",
            "SELECT $$ open",
            "/* open",
            "SELECT \"x",
            "CREATE TRIGGER t BEGIN",
        ] {
            for d in Dialect::ALL {
                let _ = split_statements(sql, d);
            }
        }
    }

    #[test]
    fn names_that_are_keywords_do_not_start_a_body() {
        let sql = "CREATE TABLE event (id INT, begin INT);\nINSERT INTO event VALUES (1, 2);\n\
                   CREATE TABLE `trigger` (`end` INT);\nCREATE TABLE other (x INT)";
        for d in Dialect::ALL {
            assert_eq!(split(sql, d).len(), 4, "{d}: {:?}", split(sql, d));
        }
        let definer = "CREATE DEFINER = `event`@`%` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END;\n\
                       CREATE DEFINER=trigger@localhost PROCEDURE p() BEGIN SELECT 1; END;\nSELECT 2";
        assert_eq!(
            split(definer, Dialect::Mysql).len(),
            3,
            "{:?}",
            split(definer, Dialect::Mysql)
        );
        assert_eq!(
            object_kind("create or replace function f() returns int"),
            Some("FUNCTION".to_owned())
        );
        assert_eq!(
            object_kind("CREATE TEMPORARY TABLE event (x INT)"),
            Some("TABLE".to_owned())
        );
        assert_eq!(object_kind("INSERT INTO trigger VALUES (1)"), None);
    }

    #[test]
    fn line_comments_end_where_each_database_ends_them() {
        // PostgreSQL: a bare CR ends a `--` comment.
        let pg = split(
            "CREATE TABLE a (x int);\n-- b next\rCREATE TABLE b (x int);",
            Dialect::Postgres,
        );
        assert_eq!(pg.len(), 2, "{pg:?}");
        // SQLite and MySQL read to LF.
        assert_eq!(split("SELECT 1;\n-- c\rSELECT 2;", Dialect::Sqlite).len(), 1);
        // MySQL: `--` without white space after it is not a comment.
        let my = split("UPDATE t SET a = 5--2;\nSELECT 1;", Dialect::Mysql);
        assert_eq!(my, [(1, "UPDATE t SET a = 5--2"), (2, "SELECT 1")]);
    }

    #[test]
    fn mysql_executable_comments_are_statements() {
        let sql = "/*!40101 SET NAMES utf8mb4 */;\n/*!50000 CREATE TABLE hidden (a INT) */;\n/* plain */;\nSELECT 1;";
        let parts = split(sql, Dialect::Mysql);
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert_eq!(parts[1], (2, "/*!50000 CREATE TABLE hidden (a INT) */"));
        // Elsewhere they are comments.
        assert_eq!(split(sql, Dialect::Postgres).len(), 1);
    }

    #[test]
    fn sqlite_bracket_identifiers() {
        let parts = split(
            "CREATE TABLE [t;x] ([a;b] INT);\nINSERT INTO [t;x] VALUES (1);",
            Dialect::Sqlite,
        );
        assert_eq!(
            parts,
            [
                (1, "CREATE TABLE [t;x] ([a;b] INT)"),
                (2, "INSERT INTO [t;x] VALUES (1)")
            ]
        );
    }
}
