//! What a section's SQL may not hold, found when the file is read (at
//! compile time for an embedded history), each with the line it is on:
//! NUL bytes (SQLite would loop on them), commands of a database client
//! rather than SQL (psql's `\copy` and `\i`, mysql's `DELIMITER`, `COPY ...
//! FROM STDIN`, which waits for data no one sends), and, in a
//! transactional section, statements that end the transaction migrator
//! runs the section and its bookkeeping in (`COMMIT`, `ROLLBACK`, ...),
//! after which the record could say a revision was applied when it was
//! not.

use crate::{Dialect, Section, split_statements};

/// Every problem in `section`, as (line in the file, message).
pub(crate) fn check_content(section: &Section, errors: &mut Vec<(u32, String)>) {
    let sql: &str = &section.sql;
    // The section's SQL starts on the line after its marker.
    let first_line = section.line + 1;
    if let Some(at) = sql.find('\0') {
        let line = first_line + count_lines(&sql[..at]);
        errors.push((
            line,
            "a NUL byte in the SQL; no database runs it (remove it, or write the value as an escape such as \
             `char(0)`)"
                .to_owned(),
        ));
        return;
    }
    // A problem counts when every dialect the section is for sees it: an
    // unqualified section holding a SQLite trigger or a PostgreSQL `DO $$`
    // block splits differently per dialect, and only a real `COMMIT`
    // stands out in all of them.
    let dialects: Vec<Dialect> = match section.dialect {
        Some(d) => vec![d],
        None => Dialect::ALL.to_vec(),
    };
    let mut found: Option<Vec<(u32, String)>> = None;
    for d in dialects {
        // Nearly every section has no problem: one reading shows it.
        if found.as_ref().is_some_and(Vec::is_empty) {
            break;
        }
        let mine = problems(section, d);
        found = Some(match found {
            None => mine,
            Some(before) => before.into_iter().filter(|p| mine.contains(p)).collect(),
        });
    }
    errors.extend(found.unwrap_or_default());
}

/// The problems of `section` as `dialect`'s splitter reads it.
fn problems(section: &Section, dialect: Dialect) -> Vec<(u32, String)> {
    let mut errors = Vec::new();
    for statement in split_statements(&section.sql, dialect) {
        let text = strip_leading_comments(statement.sql);
        let line = section.line + statement.line + count_lines(&statement.sql[..statement.sql.len() - text.len()]);
        let words: Vec<String> = text
            .split(|c: char| c.is_whitespace() || c == ';' || c == '(')
            .filter(|w| !w.is_empty())
            .take(3)
            .map(str::to_ascii_uppercase)
            .collect();
        let word = |i: usize| words.get(i).map_or("", String::as_str);
        let (first, second, third) = (word(0), word(1), word(2));
        if text.starts_with('\\') {
            let command = text.split_whitespace().next().unwrap_or("\\");
            errors.push((
                line,
                format!(
                    "`{command}` is a command of the psql client, not SQL; migrator sends the SQL to the server \
                     itself, so write the SQL it stands for (for `\\copy`, INSERT statements)"
                ),
            ));
        } else if first == "DELIMITER" {
            errors.push((
                line,
                "`DELIMITER` is a command of the mysql client, not SQL; write a routine or trigger as one \
                 statement ending in `END;` (migrator keeps BEGIN ... END bodies whole)"
                    .to_owned(),
            ));
        } else if first == "COPY" && text.to_ascii_uppercase().contains("FROM STDIN") {
            errors.push((
                line,
                "`COPY ... FROM STDIN` waits for data from the client, which migrator does not send; use INSERT \
                 statements, or COPY from a file the server can read"
                    .to_owned(),
            ));
        } else if section.transactional {
            let ends_transaction = match first {
                // MariaDB's anonymous block is `BEGIN NOT ATOMIC ... END`.
                "BEGIN" => second != "NOT",
                "COMMIT" | "ABORT" | "END" => true,
                // `ROLLBACK TO [SAVEPOINT] s` stays inside the transaction.
                "ROLLBACK" => !(second == "TO" || (matches!(second, "WORK" | "TRANSACTION") && third == "TO")),
                "START" => second == "TRANSACTION",
                _ => false,
            };
            if ends_transaction {
                let shown = if second.is_empty() {
                    first.to_owned()
                } else {
                    format!("{first} {second}")
                };
                errors.push((
                    line,
                    format!(
                        "`{shown}` in a transactional section: migrator runs the section and its bookkeeping in \
                         one transaction, which this would begin or end on its own, so the record could lie. \
                         Leave it out (migrator begins and commits), or move the statements to a `-- migrate:{} \
                         transaction:false` section",
                        section.direction.name()
                    ),
                ));
            }
        }
    }
    errors
}

fn count_lines(text: &str) -> u32 {
    u32::try_from(text.matches('\n').count()).unwrap_or(u32::MAX)
}

fn strip_leading_comments(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.find('\n').map_or("", |i| &rest[i..]);
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.find("*/").map_or("", |i| &rest[i + 2..]);
        } else {
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::parse_revision;

    fn errors(body: &str) -> Vec<String> {
        let text = format!("-- m\n-- Revision ID: a1\n{body}");
        match parse_revision("x.sql", &text) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn client_commands_and_nul_bytes_are_named_with_their_line() {
        let e = errors("-- migrate:up\nCREATE TABLE t (x INT);\n\\copy t FROM 'x.csv'\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("x.sql:5: `\\copy` is a command of the psql client"),
            "{e:?}"
        );
        let e = errors("-- migrate:up mysql\nDELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\n");
        assert!(
            e[0].starts_with("x.sql:4: `DELIMITER` is a command of the mysql client"),
            "{e:?}"
        );
        let e = errors("-- migrate:up postgresql\nCREATE TABLE t (x INT);\nCOPY t FROM stdin;\n");
        assert!(e[0].starts_with("x.sql:5: `COPY ... FROM STDIN`"), "{e:?}");
        let e = errors("-- migrate:up\nCREATE TABLE t (x INT);\n\nINSERT INTO t VALUES ('a\0b');\n");
        assert!(e[0].starts_with("x.sql:6: a NUL byte"), "{e:?}");
    }

    #[test]
    fn transaction_control_only_outside_transactional_sections() {
        for stmt in [
            "COMMIT;",
            "ROLLBACK;",
            "BEGIN;",
            "begin transaction;",
            "START TRANSACTION;",
            "END;",
            "ABORT;",
        ] {
            let e = errors(&format!("-- migrate:up\nCREATE TABLE ta (x INT);\n{stmt}\n"));
            assert_eq!(e.len(), 1, "{stmt}: {e:?}");
            assert!(
                e[0].starts_with("x.sql:5: `") && e[0].contains("transaction:false"),
                "{e:?}"
            );
            assert!(
                errors(&format!(
                    "-- migrate:up transaction:false\nCREATE TABLE ta (x INT);\n{stmt}\n"
                ))
                .is_empty()
            );
        }
        for fine in [
            "SAVEPOINT s;\nROLLBACK TO SAVEPOINT s;\nROLLBACK TO s;\nRELEASE SAVEPOINT s;",
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;",
            "DO $$ BEGIN PERFORM 1; END $$;",
            "-- COMMIT;\nSELECT 'COMMIT';",
        ] {
            assert_eq!(
                errors(&format!("-- migrate:up\n{fine}\n")),
                Vec::<String>::new(),
                "{fine}"
            );
        }
    }
}
