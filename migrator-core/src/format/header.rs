//! The header: `--` comment lines before the first section marker, holding
//! the message and the `Key: value` lines.

use crate::diagnostic::nearest;

/// The known keys, lowercase, as they are matched.
const KEYS: [&str; 7] = [
    "revision id",
    "revises",
    "create date",
    "branch labels",
    "depends on",
    "lock timeout",
    "statement timeout",
];

/// The longest revision id (the width of Alembic's `version_num`).
pub const MAX_ID_LEN: usize = 32;

/// A header value list with the line it came from (0 when absent).
#[derive(Debug, Default)]
pub(crate) struct Field {
    pub values: Vec<String>,
    pub line: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Header {
    pub id: Option<(String, u32)>,
    pub message: String,
    pub revises: Field,
    pub depends_on: Field,
    pub branch_labels: Field,
    pub create_date: Option<String>,
    pub timeouts: crate::Timeouts,
}

/// Checks a revision id: letters, digits and `_`, at most 32 characters.
pub fn check_revision_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("revision id is empty".to_owned());
    }
    if id.len() > MAX_ID_LEN {
        return Err(format!(
            "revision id `{id}` is {} characters long; the version table holds at most {MAX_ID_LEN}",
            id.len()
        ));
    }
    if let Some(bad) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_')) {
        return Err(format!(
            "revision id `{id}` contains `{bad}`; use only letters, digits and `_`"
        ));
    }
    if is_reserved(id) {
        return Err(format!("`{id}` is a reserved word and cannot be a revision id"));
    }
    Ok(())
}

/// Checks a branch label: no white space, and none of `@ , :` nor a leading
/// `+`/`-`, so that identifiers like `label@head` and `label@+1` stay
/// unambiguous.
pub fn check_branch_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("branch label is empty".to_owned());
    }
    if let Some(bad) = label
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | ',' | ':' | '+'))
    {
        return Err(format!(
            "branch label `{}` contains {}; use letters, digits, `_` and `-`",
            label.escape_debug(),
            if bad.is_control() {
                format!("the control character {:?}", bad)
            } else {
                format!("`{bad}`")
            }
        ));
    }
    if label.starts_with('-') || is_reserved(label) {
        return Err(format!("`{label}` cannot be a branch label"));
    }
    Ok(())
}

fn is_reserved(word: &str) -> bool {
    matches!(word, "head" | "heads" | "base" | "current")
}

/// The key of a `Key: value` line, if the line has that shape.
fn key_of(text: &str) -> Option<(&str, &str)> {
    let (key, value) = text.split_once(':')?;
    let key = key.trim();
    let shaped = !key.is_empty()
        && key.len() <= 30
        && key
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '_' || c == '-')
        && key.split_whitespace().count() <= 3;
    shaped.then_some((key, value.trim()))
}

fn normalize_key(key: &str) -> String {
    key.split(|c: char| c.is_whitespace() || c == '_' || c == '-')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses the comment lines of a header. `lines` holds `(line number, text
/// after the leading --)`. Problems are pushed onto `errors`.
pub(crate) fn parse_header(lines: &[(u32, &str)], errors: &mut Vec<(u32, String)>) -> Header {
    let mut header = Header::default();
    let mut seen_key = false;
    let mut message_set = false;
    for &(line, text) in lines {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let Some((raw_key, value)) = key_of(text) else {
            if !message_set {
                header.message = text.to_owned();
                message_set = true;
            }
            continue;
        };
        let key = normalize_key(raw_key);
        if !KEYS.contains(&key.as_str()) {
            // Alembic's name for the parents (`down_revision`, `Down
            // Revision`), as a converted file may still spell it; its other
            // names (`depends_on`, ...) are read as ours already.
            let alembic = match key.as_str() {
                "down revision" | "down revisions" => Some("revises"),
                "rev id" | "revision" => Some("revision id"),
                "branch label" => Some("branch labels"),
                _ => None,
            };
            let suggestion = alembic.or_else(|| nearest(&key, KEYS));
            // A first line shaped like `fix: add index` that resembles no key
            // is the message.
            if suggestion.is_none() && !seen_key && !message_set {
                header.message = text.to_owned();
                message_set = true;
                continue;
            }
            let hint = match suggestion {
                Some(k) => format!("did you mean `{}`?", title_case(k)),
                None => "the keys are Revision ID, Revises, Create Date, Branch Labels, Depends On, Lock Timeout and \
                 Statement Timeout"
                    .to_owned(),
            };
            errors.push((line, format!("unknown header key `{raw_key}`; {hint}")));
            continue;
        }
        seen_key = true;
        let duplicate = match key.as_str() {
            "revision id" => header.id.is_some(),
            "revises" => header.revises.line != 0,
            "depends on" => header.depends_on.line != 0,
            "branch labels" => header.branch_labels.line != 0,
            "lock timeout" => header.timeouts.lock.is_some(),
            "statement timeout" => header.timeouts.statement.is_some(),
            _ => header.create_date.is_some(),
        };
        if duplicate {
            errors.push((
                line,
                format!("header key `{}` appears twice; keep one", title_case(&key)),
            ));
            continue;
        }
        match key.as_str() {
            "revision id" => {
                if let Err(e) = check_revision_id(value) {
                    errors.push((line, e));
                }
                header.id = Some((value.to_owned(), line));
            }
            "revises" => {
                let values = split_list(value);
                for v in &values {
                    if let Err(e) = check_revision_id(v) {
                        errors.push((line, format!("in Revises: {e}")));
                    }
                }
                header.revises = Field { values, line };
            }
            "depends on" => {
                header.depends_on = Field {
                    values: split_list(value),
                    line,
                }
            }
            "branch labels" => {
                let values = split_list(value);
                for v in &values {
                    if let Err(e) = check_branch_label(v) {
                        errors.push((line, e));
                    }
                }
                header.branch_labels = Field { values, line };
            }
            "lock timeout" | "statement timeout" => match parse_duration(value) {
                Ok(d) if key == "lock timeout" => header.timeouts.lock = Some(d),
                Ok(d) => header.timeouts.statement = Some(d),
                Err(e) => errors.push((line, format!("`{}`: {e}", title_case(&key)))),
            },
            _ => header.create_date = Some(value.to_owned()),
        }
    }
    header
}

/// A timeout as written in a header: a whole number with a unit, `ms`,
/// `s`, `min` or `h` (`500ms`, `5s`, `2min`), from 1 ms to a day.
fn parse_duration(value: &str) -> Result<std::time::Duration, String> {
    let value = value.trim();
    let digits = value.bytes().take_while(u8::is_ascii_digit).count();
    let unit = value[digits..].trim();
    let scale: u64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "min" => 60_000,
        "h" => 3_600_000,
        _ => {
            return Err(format!(
                "`{value}` is not a duration; write a whole number and ms, s, min or h (`5s`)"
            ));
        }
    };
    let ms = value[..digits].parse::<u64>().ok().and_then(|n| n.checked_mul(scale));
    match ms {
        Some(ms) if (1..=86_400_000).contains(&ms) => Ok(std::time::Duration::from_millis(ms)),
        _ => Err(format!("`{value}` must be from 1ms to 24h")),
    }
}

fn title_case(key: &str) -> String {
    match key {
        "revision id" => "Revision ID".to_owned(),
        other => other
            .split(' ')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}
