//! Database URLs: which dialect, where, and how to show one without its
//! password (spec §5). Pure; connecting is the executor's job.

use std::fmt;
use std::path::PathBuf;

use crate::Dialect;

/// Where a SQLite database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteTarget {
    /// `sqlite::memory:`
    Memory,
    /// A file, relative to the working directory or absolute.
    File(PathBuf),
}

/// A parsed database URL.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    dialect: Dialect,
    /// The URL in the form sqlx reads (driver suffixes removed).
    normalized: String,
    sqlite: Option<SqliteTarget>,
    /// `key=value` pairs after `?`, for SQLite.
    query: Vec<(String, String)>,
}

/// A URL migrator cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid database URL `{url}`: {reason}")]
pub struct UrlError {
    /// The URL, password removed.
    pub url: String,
    /// What is wrong and what to write instead.
    pub reason: String,
}

impl DatabaseUrl {
    /// Parses `url`. Accepts `sqlite:` (sqlx's forms, plus SQLAlchemy's
    /// `sqlite:///./x.db` and `sqlite:///../x.db` as relative paths),
    /// `postgres://`, `postgresql://`, `mysql://`, `mariadb://`, and
    /// SQLAlchemy's driver-suffixed schemes such as `postgresql+psycopg2://`.
    pub fn parse(url: &str) -> Result<DatabaseUrl, UrlError> {
        let err = |reason: &str| UrlError {
            url: redact(url),
            reason: reason.to_owned(),
        };
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(err(
                "it has no scheme; write e.g. `sqlite://app.db` or `postgres://user@host/db`",
            ));
        };
        let base_scheme = scheme.split('+').next().unwrap_or(scheme).to_ascii_lowercase();
        let dialect = match base_scheme.as_str() {
            "sqlite" => Dialect::Sqlite,
            "postgres" | "postgresql" => Dialect::Postgres,
            "mysql" | "mariadb" => Dialect::Mysql,
            _ => {
                return Err(err(&format!(
                    "unknown scheme `{scheme}`; use sqlite://, postgres://, postgresql://, mysql:// or mariadb://"
                )));
            }
        };
        if dialect != Dialect::Sqlite {
            if !rest.starts_with("//") {
                return Err(err(
                    "expected `//` after the scheme, as in `postgres://user@host:5432/db`",
                ));
            }
            let sqlx_scheme = if dialect == Dialect::Postgres {
                "postgres"
            } else {
                "mysql"
            };
            return Ok(DatabaseUrl {
                dialect,
                normalized: format!("{sqlx_scheme}:{rest}"),
                sqlite: None,
                query: Vec::new(),
            });
        }
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, q),
            None => (rest, ""),
        };
        let query: Vec<(String, String)> = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (kv.to_owned(), String::new()),
            })
            .collect();
        let target = if path == ":memory:" || path == "//:memory:" || path == "///:memory:" {
            SqliteTarget::Memory
        } else {
            let p = path.strip_prefix("//").unwrap_or(path);
            let p = if p.starts_with("/./") || p.starts_with("/../") {
                &p[1..]
            } else {
                p
            };
            if p.is_empty() || p == "/" {
                return Err(err(
                    "it names no file; write `sqlite://app.db`, `sqlite:///abs/path.db` or `sqlite::memory:`",
                ));
            }
            SqliteTarget::File(PathBuf::from(p))
        };
        Ok(DatabaseUrl {
            dialect,
            normalized: url.to_owned(),
            sqlite: Some(target),
            query,
        })
    }

    /// The dialect the URL's scheme names.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// For SQLite, the file or memory.
    pub fn sqlite_target(&self) -> Option<&SqliteTarget> {
        self.sqlite.as_ref()
    }

    /// The `?key=value` parameters of a SQLite URL.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// The URL as sqlx reads it (with the password: never print this).
    pub fn for_driver(&self) -> &str {
        &self.normalized
    }
}

impl fmt::Display for DatabaseUrl {
    /// The URL with any password replaced by `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.normalized))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// `url` with the password of its user-info part replaced by `***`; also
/// `password=` query parameters. It holds for any string, a valid URL or
/// not: everything from the first `:` after the scheme's `//` (or after
/// the start, for a string without one) up to the last `@` is hidden, so a
/// password holding `#`, `?`, `/`, `@` or `:` unencoded is hidden too. A
/// string with `@` in its query may lose more than its password to the
/// `***`; none loses less.
pub fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    // After `scheme://` when the string starts with one (a password may
    // hold `://` too), else from the start.
    let start = match url.find(':') {
        Some(i)
            if url[i..].starts_with("://")
                && url[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) =>
        {
            i + 3
        }
        _ => 0,
    };
    if let Some(at) = url.rfind('@').filter(|&a| a >= start)
        && let Some(colon) = url[start..at].find(':').map(|c| start + c)
    {
        out = format!("{}***{}", &url[..=colon], &url[at..]);
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_owned(),
            })
            .collect();
        out = format!("{head}{}", query.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(url: &str) -> SqliteTarget {
        DatabaseUrl::parse(url).unwrap().sqlite_target().unwrap().clone()
    }

    #[test]
    fn sqlite_forms() {
        assert_eq!(file("sqlite://migrator.db"), SqliteTarget::File("migrator.db".into()));
        assert_eq!(file("sqlite:migrator.db"), SqliteTarget::File("migrator.db".into()));
        assert_eq!(file("sqlite:///abs/path.db"), SqliteTarget::File("/abs/path.db".into()));
        assert_eq!(file("sqlite:///./x.db"), SqliteTarget::File("./x.db".into()));
        assert_eq!(file("sqlite:///../x.db"), SqliteTarget::File("../x.db".into()));
        assert_eq!(file("sqlite::memory:"), SqliteTarget::Memory);
        assert_eq!(
            file("sqlite+pysqlite:///data/app.db?mode=rwc"),
            SqliteTarget::File("/data/app.db".into())
        );
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn server_schemes_and_redaction() {
        let u = DatabaseUrl::parse("postgresql+psycopg2://app:s3cret@db:5432/prod").unwrap();
        assert_eq!(u.dialect(), Dialect::Postgres);
        assert_eq!(u.for_driver(), "postgres://app:s3cret@db:5432/prod");
        assert_eq!(u.to_string(), "postgres://app:***@db:5432/prod");
        assert_eq!(
            DatabaseUrl::parse("mariadb://root@localhost/test").unwrap().dialect(),
            Dialect::Mysql
        );
        assert_eq!(
            DatabaseUrl::parse("mysql+pymysql://u:p@h/d").unwrap().for_driver(),
            "mysql://u:p@h/d"
        );
        let e = DatabaseUrl::parse("oracle://u:pw@h/d").unwrap_err().to_string();
        assert!(e.contains("oracle://u:***@h/d") && !e.contains("pw"), "{e}");
        assert_eq!(
            redact("postgres://h/d?user=u&password=x"),
            "postgres://h/d?user=u&password=***"
        );
        assert!(DatabaseUrl::parse("nonsense").is_err());
    }

    mod redaction {
        use proptest::prelude::*;

        use super::super::{DatabaseUrl, redact};

        /// Passwords of at least four characters from every character a
        /// URL treats specially, and ordinary ones.
        fn password() -> impl Strategy<Value = String> {
            proptest::collection::vec(
                prop_oneof![
                    Just('#'),
                    Just('?'),
                    Just('/'),
                    Just('@'),
                    Just(':'),
                    Just('%'),
                    Just('&'),
                    Just('='),
                    Just(' '),
                    Just('\''),
                    Just('"'),
                    Just('\\'),
                    Just('+'),
                    Just('!'),
                    Just('é'),
                    prop::char::range('a', 'z'),
                    prop::char::range('A', 'Z'),
                    prop::char::range('0', '9'),
                ],
                4..16,
            )
            .prop_map(|chars| format!("Q{}Z", chars.into_iter().collect::<String>()))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn the_password_never_shows(pw in password(), shape in 0usize..8) {
                let encoded: String = pw.bytes().map(|b| format!("%{b:02X}")).collect();
                let (url, secret) = match shape {
                    0 => (format!("postgres://postgres:{pw}@127.0.0.1:5432/db"), pw.clone()),
                    1 => (format!("mysql://root:{pw}@localhost/db?ssl-mode=REQUIRED"), pw.clone()),
                    2 => (format!("postgresql+psycopg2://u:{encoded}@[::1]:5432/db"), encoded.clone()),
                    3 => (format!("postgresql//u:{pw}@h/db"), pw.clone()),
                    4 => (format!("mysql:root:{pw}@h/db"), pw.clone()),
                    5 => (format!("postgres://h/db?user=u&password={encoded}"), encoded.clone()),
                    6 => (format!("oracle://u:{pw}@h/db"), pw.clone()),
                    _ => (format!("postgres://u:{pw}@h/db?sslrootcert=/etc/a@b"), pw.clone()),
                };
                prop_assert!(!redact(&url).contains(&secret), "{url} -> {}", redact(&url));
                match DatabaseUrl::parse(&url) {
                    Ok(u) => {
                        prop_assert!(!u.to_string().contains(&secret));
                        let debug = format!("{u:?}");
                        prop_assert!(!debug.contains(&secret), "{}", debug);
                    }
                    Err(e) => prop_assert!(!e.to_string().contains(&secret), "{e}"),
                }
            }
        }
    }
}
