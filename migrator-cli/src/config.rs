//! `migrator.toml`: one key per global setting. Unknown keys are an error
//! naming the nearest known one.

use std::path::{Path, PathBuf};

use crate::UsageError;

/// The file read when `-c/--config` is not given, if it exists.
pub(crate) const DEFAULT_CONFIG: &str = "migrator.toml";

const KEYS: [&str; 20] = [
    "directory",
    "database_url",
    "version_table",
    "version_table_schema",
    "transaction_mode",
    "lock_timeout",
    "lock",
    "lock_lease",
    "connect_timeout",
    "ddl_lock_timeout",
    "statement_timeout",
    "file_template",
    "truncate_slug_length",
    "timezone",
    "allow_multiple_heads",
    "schema",
    "dev_url",
    "before_upgrade",
    "after_upgrade",
    "on_failure",
];

/// The settings a config file gave; all optional.
#[derive(Debug, Default, Clone)]
pub(crate) struct Config {
    /// The file it came from.
    pub path: Option<PathBuf>,
    pub directory: Option<PathBuf>,
    pub database_url: Option<String>,
    pub version_table: Option<String>,
    pub version_table_schema: Option<String>,
    pub transaction_mode: Option<String>,
    pub lock_timeout: Option<u64>,
    pub lock: Option<migrator_core::LockStrategy>,
    pub lock_lease: Option<u64>,
    pub connect_timeout: Option<u64>,
    pub ddl_lock_timeout: Option<u64>,
    pub statement_timeout: Option<u64>,
    pub file_template: Option<String>,
    pub truncate_slug_length: Option<usize>,
    pub timezone: Option<String>,
    pub allow_multiple_heads: Option<bool>,
    pub schema: Vec<PathBuf>,
    pub dev_url: Vec<String>,
    /// Hook commands around a run that applies something (see `hooks`).
    pub before_upgrade: Option<String>,
    pub after_upgrade: Option<String>,
    pub on_failure: Option<String>,
}

impl Config {
    /// Reads `explicit`, or `migrator.toml` in the working directory when it
    /// exists; no file is no settings.
    pub(crate) fn load(explicit: Option<&Path>) -> Result<Config, UsageError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let default = PathBuf::from(DEFAULT_CONFIG);
                if !default.is_file() {
                    return Ok(Config::default());
                }
                default
            }
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| UsageError(format!("cannot read the config file {}: {e}", path.display())))?;
        parse(&text, &path)
    }
}

fn parse(text: &str, path: &Path) -> Result<Config, UsageError> {
    let here = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let at = |msg: String| UsageError(format!("{}: {msg}", path.display()));
    // A syntax error names its line, never shows it: the line may hold a
    // password (`database_url = "postgres://u:secret@...`).
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map_or(0, |s| 1 + text[..s.start.min(text.len())].matches('\n').count());
        at(format!("line {line}: {}", e.message().trim()))
    })?;
    let mut c = Config {
        path: Some(path.to_path_buf()),
        ..Config::default()
    };
    for (key, value) in &table {
        let wrong = |expected: &str| at(format!("`{key}` must be {expected}"));
        let string = || value.as_str().map(str::to_owned).ok_or_else(|| wrong("a string"));
        // One string, or a list of them.
        let strings = || match value {
            toml::Value::String(s) => Ok(vec![s.clone()]),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| wrong("a string or a list of strings")),
            _ => Err(wrong("a string or a list of strings")),
        };
        let number = || {
            value
                .as_integer()
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| wrong("a whole number"))
        };
        match key.as_str() {
            "directory" => c.directory = Some(here.join(string()?)),
            "database_url" => c.database_url = Some(string()?),
            "version_table" => c.version_table = Some(string()?),
            "version_table_schema" => c.version_table_schema = Some(string()?),
            "transaction_mode" => c.transaction_mode = Some(string()?),
            "lock_timeout" => c.lock_timeout = Some(number()?),
            "lock" => c.lock = Some(string()?.parse().map_err(|e: String| at(format!("`lock`: {e}")))?),
            "lock_lease" => c.lock_lease = Some(number()?),
            "connect_timeout" => c.connect_timeout = Some(number()?),
            "ddl_lock_timeout" => c.ddl_lock_timeout = Some(number()?),
            "statement_timeout" => c.statement_timeout = Some(number()?),
            "file_template" => c.file_template = Some(string()?),
            "truncate_slug_length" => c.truncate_slug_length = Some(usize::try_from(number()?).unwrap_or(usize::MAX)),
            "timezone" => c.timezone = Some(string()?),
            "allow_multiple_heads" => {
                c.allow_multiple_heads = Some(value.as_bool().ok_or_else(|| wrong("true or false"))?)
            }
            "schema" => c.schema = strings()?.iter().map(|s| here.join(s)).collect(),
            "dev_url" => c.dev_url = strings()?,
            "before_upgrade" => c.before_upgrade = Some(string()?),
            "after_upgrade" => c.after_upgrade = Some(string()?),
            "on_failure" => c.on_failure = Some(string()?),
            other => {
                let hint = match migrator_core::nearest(other, KEYS) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => format!("the keys are {}", KEYS.join(", ")),
                };
                return Err(at(format!("unknown key `{other}`; {hint}")));
            }
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_errors() {
        let c = parse(
            "directory = \"db/migrations\"\nlock_timeout = 5\nallow_multiple_heads = true\n",
            Path::new("conf/migrator.toml"),
        )
        .unwrap();
        assert_eq!(c.directory, Some(PathBuf::from("conf/db/migrations")));
        assert_eq!(c.lock_timeout, Some(5));
        assert_eq!(c.allow_multiple_heads, Some(true));
        let e = parse("databse_url = \"x\"", Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "m.toml: unknown key `databse_url`; did you mean `database_url`?");
        let e = parse("lock_timeout = \"soon\"", Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "m.toml: `lock_timeout` must be a whole number");
        assert!(parse("directory = ", Path::new("m.toml")).is_err());
        // A syntax error never shows the line that holds it.
        let e = parse(
            "x = 1\ndatabase_url = \"postgres://u:secret@h/db\n",
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("m.toml: line 2: ") && !e.contains("secret"), "{e}");
    }

    #[test]
    fn the_lock_strategy_and_lease() {
        let c = parse(
            "lock = \"table\"\nlock_lease = 20\nstatement_timeout = 90\n",
            Path::new("m.toml"),
        )
        .unwrap();
        assert_eq!(c.lock, Some(migrator_core::LockStrategy::Table));
        assert_eq!((c.lock_lease, c.statement_timeout), (Some(20), Some(90)));
        let e = parse("lock = \"lease\"", Path::new("m.toml")).unwrap_err().to_string();
        assert_eq!(
            e,
            "m.toml: `lock`: unknown lock strategy `lease`; use advisory, table or none"
        );
    }
}
