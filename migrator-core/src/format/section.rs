//! Section markers: `-- migrate:up [dialect] [transaction:false]`.

use crate::diagnostic::nearest;
use crate::{Dialect, Direction};

/// What a marker line says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Marker {
    pub direction: Direction,
    pub dialect: Option<Dialect>,
    pub transactional: bool,
}

/// If `line` is a section marker, its meaning or what is wrong with it.
pub(crate) fn parse_marker(line: &str) -> Option<Result<Marker, String>> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("migrate:")?;
    let mut words = rest.split_whitespace();
    let direction = match words.next() {
        Some("up") => Direction::Up,
        Some("down") => Direction::Down,
        other => {
            let found = other.unwrap_or("");
            return Some(Err(format!(
                "section marker `-- migrate:{found}` names no direction; write `-- migrate:up` or `-- migrate:down`"
            )));
        }
    };
    let mut marker = Marker {
        direction,
        dialect: None,
        transactional: true,
    };
    for word in words {
        if let Some(value) = word.strip_prefix("transaction:") {
            marker.transactional = match value {
                "false" => false,
                "true" => true,
                _ => {
                    return Some(Err(format!(
                        "`{word}` is not a transaction setting; write `transaction:false`"
                    )));
                }
            };
        } else if let Some(dialect) = Dialect::from_name(word) {
            if let Some(first) = marker.dialect {
                return Some(Err(format!(
                    "section marker names two dialects, `{first}` and `{dialect}`; write one section per dialect"
                )));
            }
            marker.dialect = Some(dialect);
        } else {
            let known = ["sqlite", "postgresql", "mysql", "transaction:false"];
            let hint = match nearest(word, known) {
                Some(k) => format!("; did you mean `{k}`?"),
                None => "; expected a dialect (sqlite, postgresql, mysql) or transaction:false".to_owned(),
            };
            return Some(Err(format!("unknown word `{word}` in section marker{hint}")));
        }
    }
    Some(Ok(marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        assert_eq!(
            parse_marker("-- migrate:up"),
            Some(Ok(Marker {
                direction: Direction::Up,
                dialect: None,
                transactional: true
            }))
        );
        assert_eq!(
            parse_marker("--migrate:down postgresql transaction:false"),
            Some(Ok(Marker {
                direction: Direction::Down,
                dialect: Some(Dialect::Postgres),
                transactional: false
            }))
        );
        assert_eq!(parse_marker("-- a comment"), None);
        assert_eq!(parse_marker("SELECT 1; -- migrate:up"), None);
        let err = parse_marker("-- migrate:up postgre").and_then(Result::err);
        assert_eq!(
            err.as_deref(),
            Some("unknown word `postgre` in section marker; did you mean `postgresql`?")
        );
        assert!(matches!(parse_marker("-- migrate:sideways"), Some(Err(_))));
        assert!(matches!(parse_marker("-- migrate:up sqlite mysql"), Some(Err(_))));
    }
}
