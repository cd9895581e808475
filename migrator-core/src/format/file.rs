//! One revision file from text to [`Revision`].

use super::checksum::checksum;
use super::content::check_content;
use super::header::parse_header;
use super::section::parse_marker;
use crate::{Checksum, Diagnostic, Dialect, Direction, HeaderLines, List, Revision, Section};

/// Parses the text of one revision file. `path` is the file relative to the
/// migrations directory and is used in diagnostics and kept in the result.
/// Every problem in the file is reported, not just the first.
pub fn parse_revision(path: &str, text: &str) -> Result<Revision, Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut errors: Vec<(u32, String)> = Vec::new();
    let mut header_lines: Vec<(u32, &str)> = Vec::new();
    let mut sections: Vec<Section> = Vec::new();
    let mut body: Vec<&str> = Vec::new();
    let mut in_header = true;

    for (i, line) in lines(text).enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        match parse_marker(line) {
            Some(Ok(marker)) => {
                finish_section(&mut sections, &mut body);
                in_header = false;
                sections.push(Section {
                    direction: marker.direction,
                    dialect: marker.dialect,
                    transactional: marker.transactional,
                    sql: String::new().into(),
                    line: line_no,
                });
            }
            Some(Err(message)) => {
                finish_section(&mut sections, &mut body);
                in_header = false;
                errors.push((line_no, message));
            }
            None if in_header => {
                let trimmed = line.trim();
                if let Some(comment) = trimmed.strip_prefix("--") {
                    header_lines.push((line_no, comment));
                } else if !trimmed.is_empty() {
                    errors.push((
                        line_no,
                        "SQL before the first section marker; put it under `-- migrate:up` or `-- migrate:down`"
                            .to_owned(),
                    ));
                    // Report it once, then read the rest as an (orphan) body.
                    in_header = false;
                }
            }
            None => {
                if !sections.is_empty() {
                    body.push(line);
                }
            }
        }
    }
    finish_section(&mut sections, &mut body);

    if sections.is_empty() && header_lines.is_empty() {
        return Err(vec![Diagnostic::new(
            path,
            1,
            "not a revision file: no `-- Revision ID:` header and no `-- migrate:up` section; every .sql file \
             under the migrations directory is a revision, so move other SQL elsewhere",
        )]);
    }
    let header = parse_header(&header_lines, &mut errors);
    check_sections(&sections, &mut errors);
    for section in &sections {
        check_content(section, &mut errors);
    }

    let id_line = header.id.as_ref().map_or(0, |(_, l)| *l);
    let id = match header.id {
        Some((id, _)) => id,
        None => {
            errors.push((
                header_lines.first().map_or(1, |l| l.0),
                "missing `Revision ID`; add a header line `-- Revision ID: <id>` before the first section".to_owned(),
            ));
            String::new()
        }
    };
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.0);
        return Err(errors
            .into_iter()
            .map(|(line, m)| Diagnostic::new(path, line, m))
            .collect());
    }

    let mut revision = Revision {
        id: id.into(),
        message: header.message.into(),
        path: path.to_owned().into(),
        revises: owned(header.revises.values),
        depends_on: owned(header.depends_on.values),
        branch_labels: owned(header.branch_labels.values),
        create_date: header.create_date.map(Into::into),
        timeouts: header.timeouts,
        sections: List::Owned(sections),
        checksums: [checksum(""); 3],
        lines: HeaderLines {
            id: id_line,
            revises: header.revises.line,
            depends_on: header.depends_on.line,
            branch_labels: header.branch_labels.line,
        },
    };
    // Dialects that run the same sections share one checksum: hashed once.
    let mut checksums: Vec<(Vec<u32>, Checksum)> = Vec::with_capacity(3);
    revision.checksums = Dialect::ALL.map(|d| {
        let key: Vec<u32> = revision.body(Direction::Up, d).sections().map(|s| s.line).collect();
        if let Some((_, c)) = checksums.iter().find(|(k, _)| *k == key) {
            return *c;
        }
        let c = upgrade_checksum(&revision, d);
        checksums.push((key, c));
        c
    });
    Ok(revision)
}

/// The lines of a file, ended by LF, CRLF or a lone CR (old Mac files).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest?;
        match t.find(['\n', '\r']) {
            Some(i) => {
                let after = if t[i..].starts_with("\r\n") { i + 2 } else { i + 1 };
                rest = Some(&t[after..]);
                Some(&t[..i])
            }
            None => {
                rest = None;
                Some(t)
            }
        }
    })
}

fn owned(values: Vec<String>) -> List<crate::Text> {
    List::Owned(values.into_iter().map(Into::into).collect())
}

fn finish_section(sections: &mut [Section], body: &mut Vec<&str>) {
    if let Some(last) = sections.last_mut() {
        last.sql = body.join("\n").into();
    }
    body.clear();
}

fn check_sections(sections: &[Section], errors: &mut Vec<(u32, String)>) {
    for (i, s) in sections.iter().enumerate() {
        if let Some(first) = sections[..i]
            .iter()
            .find(|p| p.direction == s.direction && p.dialect == s.dialect && p.transactional == s.transactional)
        {
            let dialect = s.dialect.map(|d| format!(" {d}")).unwrap_or_default();
            let mode = if s.transactional { "" } else { " transaction:false" };
            errors.push((
                s.line,
                format!(
                    "second `-- migrate:{}{dialect}{mode}` section (the first is on line {}); merge them into one \
                     (a direction may hold one transactional and one `transaction:false` section per dialect)",
                    s.direction.name(),
                    first.line
                ),
            ));
        }
    }
    if !sections.iter().any(|s| s.direction == Direction::Up) {
        let line = sections.first().map_or(1, |s| s.line);
        errors.push((
            line,
            "no `-- migrate:up` section; add one (an empty section is a valid no-op)".to_owned(),
        ));
    }
}

/// The checksum of what runs on `dialect` going up. One section: its SQL,
/// as it always was. A transactional and a `transaction:false` section:
/// both, each under its marker, so that moving a statement across the
/// boundary changes the checksum too.
fn upgrade_checksum(revision: &Revision, dialect: Dialect) -> Checksum {
    let body = revision.body(Direction::Up, dialect);
    let parts: Vec<&Section> = body.sections().collect();
    match parts.as_slice() {
        [] => checksum(""),
        [one] => checksum(&one.sql),
        many => {
            let text: Vec<String> = many
                .iter()
                .map(|s| {
                    let mode = if s.transactional { "" } else { " transaction:false" };
                    format!("-- migrate:up{mode}\n{}", &*s.sql)
                })
                .collect();
            checksum(&text.join("\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "-- add user preferences
--
-- Revision ID: a1b2c3d4e5f6
-- Revises: 9f8e7d6c5b4a
-- Create Date: 2026-01-15 14:30:00
-- Branch Labels: accounts
-- Depends On: 77aa88bb99cc

-- migrate:up
CREATE TABLE user_preferences (user_id INTEGER NOT NULL REFERENCES users (id), k TEXT, v TEXT);

-- migrate:down
DROP TABLE user_preferences;

-- migrate:up postgresql transaction:false
CREATE INDEX CONCURRENTLY ix_prefs_user ON user_preferences (user_id);
";

    fn errors(text: &str) -> Vec<String> {
        match parse_revision("x.sql", text) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn parses_the_spec_example() {
        let r = parse_revision("a.sql", EXAMPLE).unwrap();
        assert_eq!(r.id, "a1b2c3d4e5f6");
        assert_eq!(r.message, "add user preferences");
        assert_eq!(&*r.revises, ["9f8e7d6c5b4a"]);
        assert_eq!(&*r.depends_on, ["77aa88bb99cc"]);
        assert_eq!(&*r.branch_labels, ["accounts"]);
        assert_eq!(r.create_date.as_deref(), Some("2026-01-15 14:30:00"));
        assert_eq!(
            r.lines,
            HeaderLines {
                id: 3,
                revises: 4,
                depends_on: 7,
                branch_labels: 6
            }
        );
        // On PostgreSQL the table, then its index built concurrently.
        let pg: Vec<&Section> = r.body(Direction::Up, Dialect::Postgres).sections().collect();
        assert_eq!(pg.len(), 2);
        assert!(pg[0].transactional && pg[0].sql.contains("CREATE TABLE"));
        assert!(!pg[1].transactional && pg[1].sql.contains("CONCURRENTLY"));
        let sqlite: Vec<&Section> = r.body(Direction::Up, Dialect::Sqlite).sections().collect();
        assert_eq!(sqlite.len(), 1);
        assert!(sqlite[0].transactional && sqlite[0].sql.contains("CREATE TABLE"));
        assert_eq!(
            r.body(Direction::Down, Dialect::Mysql).sections().next().unwrap().line,
            12
        );
        assert_eq!(r.checksum(Dialect::Sqlite), r.checksum(Dialect::Mysql));
        assert_ne!(r.checksum(Dialect::Sqlite), r.checksum(Dialect::Postgres));
    }

    #[test]
    fn checksum_ignores_header_and_down_edits() {
        let base = parse_revision("a.sql", EXAMPLE).unwrap();
        let edited = EXAMPLE
            .replace("-- add user preferences", "-- add preferences for users")
            .replace("DROP TABLE user_preferences;", "DROP TABLE IF EXISTS user_preferences;");
        let edited = parse_revision("a.sql", &edited).unwrap();
        assert_eq!(base.checksums, edited.checksums);
        let sql_edit = parse_revision("a.sql", &EXAMPLE.replace("k TEXT", "key TEXT")).unwrap();
        assert_ne!(base.checksum(Dialect::Sqlite), sql_edit.checksum(Dialect::Sqlite));
    }

    #[test]
    fn a_message_with_a_colon_is_still_a_message() {
        let r = parse_revision("a.sql", "-- fix: add index\n-- Revision ID: abc\n-- migrate:up\n").unwrap();
        assert_eq!(r.message, "fix: add index");
        assert!(r.revises.is_empty());
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = "-- msg\n-- Revison ID: abc\n-- Revises: a-b\nSELECT 1;\n-- migrate:up\n-- migrate:up\n";
        expect_test::expect![[r#"
            [
                "x.sql:1: missing `Revision ID`; add a header line `-- Revision ID: <id>` before the first section",
                "x.sql:2: unknown header key `Revison ID`; did you mean `Revision ID`?",
                "x.sql:3: in Revises: revision id `a-b` contains `-`; use only letters, digits and `_`",
                "x.sql:4: SQL before the first section marker; put it under `-- migrate:up` or `-- migrate:down`",
                "x.sql:6: second `-- migrate:up` section (the first is on line 5); merge them into one (a direction may hold one transactional and one `transaction:false` section per dialect)",
            ]
        "#]]
        .assert_debug_eq(&errors(text));
    }

    #[test]
    fn rejects_bad_ids_and_missing_up() {
        assert_eq!(
            errors("-- Revision ID: abcdefghijklmnopqrstuvwxyz0123456789\n-- migrate:down\n"),
            [
                "x.sql:1: revision id `abcdefghijklmnopqrstuvwxyz0123456789` is 36 characters long; the version table holds at most 32",
                "x.sql:2: no `-- migrate:up` section; add one (an empty section is a valid no-op)",
            ]
        );
        assert_eq!(
            errors("-- Revision ID: a@b\n-- migrate:up\n"),
            ["x.sql:1: revision id `a@b` contains `@`; use only letters, digits and `_`"]
        );
        assert_eq!(
            errors("-- Revision ID: ok\n-- Revision id: ok2\n-- migrate:up\n").len(),
            1
        );
    }

    #[test]
    fn an_empty_section_is_a_no_op_and_crlf_is_read() {
        let r = parse_revision(
            "a.sql",
            "-- m\r\n-- Revision ID: r1\r\n-- migrate:up\r\n-- migrate:down\r\n",
        )
        .unwrap();
        assert_eq!(r.id, "r1");
        assert_eq!(
            r.body(Direction::Up, Dialect::Sqlite).sections().next().unwrap().sql,
            ""
        );
        assert!(r.is_reversible(Dialect::Sqlite));
    }

    const PAIR: &str = "-- pair\n-- Revision ID: p1\n\
        -- migrate:up\nCREATE TABLE t (id INT);\n\
        -- migrate:up transaction:false\nCREATE INDEX i ON t (id);\n\
        -- migrate:up postgresql transaction:false\nCREATE INDEX CONCURRENTLY i ON t (id);\n\
        -- migrate:up mysql\n\n\
        -- migrate:down\nDROP TABLE t;\n";

    fn bodies(r: &Revision, dialect: Dialect) -> Vec<(bool, String)> {
        r.body(Direction::Up, dialect)
            .sections()
            .map(|s| (s.transactional, s.sql.trim().to_owned()))
            .collect()
    }

    #[test]
    fn a_qualified_section_replaces_the_unqualified_one_of_its_mode() {
        let r = parse_revision("p.sql", PAIR).unwrap();
        let t = |s: &str| (true, s.to_owned());
        let f = |s: &str| (false, s.to_owned());
        assert_eq!(
            bodies(&r, Dialect::Sqlite),
            [t("CREATE TABLE t (id INT);"), f("CREATE INDEX i ON t (id);")]
        );
        assert_eq!(
            bodies(&r, Dialect::Postgres),
            [
                t("CREATE TABLE t (id INT);"),
                f("CREATE INDEX CONCURRENTLY i ON t (id);")
            ]
        );
        // An empty qualified section replaces the transactional one only.
        assert_eq!(bodies(&r, Dialect::Mysql), [f("CREATE INDEX i ON t (id);"), t("")]);
        assert!(!r.body(Direction::Up, Dialect::Postgres).is_transactional());
        assert!(r.body(Direction::Down, Dialect::Postgres).is_transactional());
        assert_eq!(
            r.body(Direction::Up, Dialect::Postgres)
                .statements(Dialect::Postgres)
                .len(),
            2
        );
    }

    #[test]
    fn checksums_of_pairs_and_single_sections() {
        // One section: the checksum of its SQL, as before pairs existed.
        let single = parse_revision("a.sql", "-- Revision ID: a\n-- migrate:up\nCREATE TABLE t (x INT);\n").unwrap();
        assert_eq!(single.checksum(Dialect::Sqlite), checksum("CREATE TABLE t (x INT);"));
        // Moving a statement across the boundary changes it.
        let a = "-- Revision ID: a\n-- migrate:up\nCREATE TABLE t (x INT);\nCREATE INDEX i ON t (x);\n\
                 -- migrate:up transaction:false\nSELECT 1;\n";
        let b = "-- Revision ID: a\n-- migrate:up\nCREATE TABLE t (x INT);\n\
                 -- migrate:up transaction:false\nCREATE INDEX i ON t (x);\nSELECT 1;\n";
        let (a, b) = (parse_revision("a.sql", a).unwrap(), parse_revision("a.sql", b).unwrap());
        assert_ne!(a.checksum(Dialect::Sqlite), b.checksum(Dialect::Sqlite));
        let pair = parse_revision("p.sql", PAIR).unwrap();
        assert_ne!(pair.checksum(Dialect::Sqlite), pair.checksum(Dialect::Postgres));
    }

    #[test]
    fn two_sections_of_one_mode_are_an_error() {
        let text = "-- Revision ID: a\n-- migrate:up transaction:false\nSELECT 1;\n\
                    -- migrate:up postgresql\nSELECT 2;\n-- migrate:up transaction:false\nSELECT 3;\n";
        expect_test::expect![[r#"
            [
                "x.sql:6: second `-- migrate:up transaction:false` section (the first is on line 2); merge them into one (a direction may hold one transactional and one `transaction:false` section per dialect)",
            ]
        "#]]
        .assert_debug_eq(&errors(text));
    }

    #[test]
    fn alembic_key_names_suggest_ours() {
        for key in ["Down Revision", "down_revision"] {
            let text = format!("-- m\n-- Revision ID: b\n-- {key}: a\n-- migrate:up\n");
            assert_eq!(
                errors(&text),
                [format!("x.sql:3: unknown header key `{key}`; did you mean `Revises`?")]
            );
        }
    }

    #[test]
    fn cr_only_files_and_control_characters_in_labels() {
        let r = parse_revision(
            "a.sql",
            "-- m\r-- Revision ID: r1\r-- migrate:up\rCREATE TABLE t (x INT);\r-- migrate:down\r",
        )
        .unwrap();
        assert_eq!(r.id, "r1");
        assert_eq!(
            r.body(Direction::Up, Dialect::Sqlite)
                .sections()
                .next()
                .unwrap()
                .sql
                .trim(),
            "CREATE TABLE t (x INT);"
        );
        let e = errors("-- m\n-- Revision ID: r1\n-- Branch Labels: a\u{7}b\n-- migrate:up\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("the control character '\\u{7}'"), "{e:?}");
    }

    #[test]
    fn timeouts_in_the_header_take_a_unit_and_a_sane_range() {
        let header = |lines: &str| format!("-- m\n-- Revision ID: r1\n{lines}-- migrate:up\nSELECT 1;\n");
        let r = parse_revision(
            "x.sql",
            &header("-- Lock Timeout: 1500ms\n-- statement_timeout: 2min\n"),
        )
        .unwrap();
        assert_eq!(r.timeouts.lock, Some(std::time::Duration::from_millis(1500)));
        assert_eq!(r.timeouts.statement, Some(std::time::Duration::from_secs(120)));
        assert_eq!(
            parse_revision("x.sql", &header("")).unwrap().timeouts,
            crate::Timeouts::default()
        );
        for (value, says) in [
            ("5", "write a whole number and ms, s, min or h"),
            ("soon", "is not a duration"),
            ("0s", "from 1ms to 24h"),
            ("25h", "from 1ms to 24h"),
            ("1.5s", "is not a duration"),
        ] {
            let e = errors(&header(&format!("-- Lock Timeout: {value}\n")));
            assert_eq!(e.len(), 1, "{value}: {e:?}");
            assert!(e[0].contains("`Lock Timeout`") && e[0].contains(says), "{value}: {e:?}");
        }
        let e = errors(&header("-- Lock Timeout: 1s\n-- Lock Timeout: 2s\n"));
        assert!(e[0].contains("appears twice"), "{e:?}");
        let e = errors(&header("-- Statment Timeout: 1s\n"));
        assert!(e[0].contains("did you mean `Statement Timeout`?"), "{e:?}");
    }
}
