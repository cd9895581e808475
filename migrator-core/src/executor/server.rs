//! The parts of a server URL (host, port, user, password, database), for
//! the environment of hook commands: `PG*` variables that `pg_dump` and
//! `psql` read, `MYSQL_PWD` that `mariadb-dump` reads, and migrator's own.
//! Read with the `url` crate, as sqlx reads them.

use crate::{DatabaseUrl, Dialect, SqliteTarget};

/// What a hook needs to reach the database, with the password kept out of
/// any command line: it goes into the environment only.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    /// The dialect.
    pub dialect: Dialect,
    /// The database's name (SQLite: the file's path, or `:memory:`).
    pub database: String,
    /// Host, port and user of a server.
    pub host: Option<String>,
    /// The port, when the URL gives one.
    pub port: Option<u16>,
    /// The user, when the URL gives one.
    pub user: Option<String>,
    password: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("dialect", &self.dialect)
            .field("database", &self.database)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Target {
    /// The target a URL names.
    pub fn of(url: &DatabaseUrl) -> Target {
        if let Some(t) = url.sqlite_target() {
            let database = match t {
                SqliteTarget::File(p) => p.display().to_string(),
                SqliteTarget::Memory => ":memory:".to_owned(),
            };
            return Target {
                dialect: Dialect::Sqlite,
                database,
                host: None,
                port: None,
                user: None,
                password: None,
            };
        }
        let parsed = url::Url::parse(url.for_driver()).ok();
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                .next()
                .map_or_else(|| s.to_owned(), |(_, v)| v.into_owned())
        };
        let p = parsed.as_ref();
        Target {
            dialect: url.dialect(),
            database: p.map(|u| decode(u.path().trim_start_matches('/'))).unwrap_or_default(),
            host: p.and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned())),
            port: p.and_then(url::Url::port),
            user: p.map(|u| decode(u.username())).filter(|u| !u.is_empty()),
            password: p.and_then(|u| u.password().map(decode)),
        }
    }

    /// The variables a hook command gets: `MIGRATOR_DIALECT`,
    /// `MIGRATOR_DATABASE`, `MIGRATOR_DB_HOST`, `MIGRATOR_DB_PORT`,
    /// `MIGRATOR_DB_USER`, `MIGRATOR_DB_PASSWORD`, and the client's own
    /// (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`;
    /// `MYSQL_HOST`, `MYSQL_TCP_PORT`, `MYSQL_PWD`).
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("MIGRATOR_DIALECT", self.dialect.name().to_owned()),
            ("MIGRATOR_DATABASE", self.database.clone()),
        ];
        let port = self.port.map(|p| p.to_string());
        let parts = [
            ("HOST", self.host.clone()),
            ("PORT", port.clone()),
            ("USER", self.user.clone()),
            ("PASSWORD", self.password.clone()),
        ];
        for (key, value) in parts {
            if let Some(v) = value {
                let name = match key {
                    "HOST" => "MIGRATOR_DB_HOST",
                    "PORT" => "MIGRATOR_DB_PORT",
                    "USER" => "MIGRATOR_DB_USER",
                    _ => "MIGRATOR_DB_PASSWORD",
                };
                env.push((name, v));
            }
        }
        let client: [(&'static str, Option<String>); 5] = match self.dialect {
            Dialect::Postgres => [
                ("PGHOST", self.host.clone()),
                ("PGPORT", port),
                ("PGUSER", self.user.clone()),
                ("PGPASSWORD", self.password.clone()),
                ("PGDATABASE", Some(self.database.clone())),
            ],
            Dialect::Mysql => [
                ("MYSQL_HOST", self.host.clone()),
                ("MYSQL_TCP_PORT", port),
                ("MYSQL_PWD", self.password.clone()),
                ("", None),
                ("", None),
            ],
            Dialect::Sqlite => [("", None), ("", None), ("", None), ("", None), ("", None)],
        };
        env.extend(client.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_a_server_url_with_an_encoded_password() {
        let url = DatabaseUrl::parse("postgresql://app:p%40ss%3Aw@db.example:6543/orders").unwrap();
        let t = Target::of(&url);
        assert_eq!(
            (t.host.as_deref(), t.port, t.user.as_deref(), t.database.as_str()),
            (Some("db.example"), Some(6543), Some("app"), "orders")
        );
        let env = t.environment();
        assert!(env.contains(&("PGPASSWORD", "p@ss:w".to_owned())));
        assert!(env.contains(&("PGDATABASE", "orders".to_owned())));
        assert!(!format!("{t:?}").contains("p@ss"), "the password never shows in Debug");
        let my = Target::of(&DatabaseUrl::parse("mysql://root:pw@127.0.0.1/app").unwrap()).environment();
        assert!(my.contains(&("MYSQL_PWD", "pw".to_owned())) && my.contains(&("MIGRATOR_DATABASE", "app".to_owned())));
        let lite = Target::of(&DatabaseUrl::parse("sqlite://data/app.db").unwrap());
        assert_eq!(lite.database, "data/app.db");
    }
}
