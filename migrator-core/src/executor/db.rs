//! One connection to one database, whatever the dialect, with the few
//! operations the executor needs.

use std::str::FromStr;

use sqlx::{AssertSqlSafe, Connection, Row};

use crate::{DatabaseUrl, Dialect, SqliteTarget, Text};

/// A bind parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Bool(bool),
    OptInt(Option<i64>),
}

/// A live connection.
#[derive(Debug)]
pub(crate) enum Db {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqliteConnection),
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match *a {
                Value::Text(s) => q.bind(s.to_owned()),
                Value::OptText(s) => q.bind(s.map(str::to_owned)),
                Value::Bool(b) => q.bind(b),
                Value::OptInt(i) => q.bind(i),
            };
        }
        q
    }};
}

impl Db {
    /// Opens a connection, or says why not. `None` when the dialect's
    /// driver is not compiled in.
    pub(crate) async fn connect(url: &DatabaseUrl) -> Option<Result<Db, sqlx::Error>> {
        match url.dialect() {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => Some(connect_sqlite(url).await.map(Db::Sqlite)),
            _ => None,
        }
    }

    /// The connected dialect.
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Runs a script of zero or more statements, without parameters.
    pub(crate) async fn script(&mut self, sql: &Text) -> Result<(), sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(c) => sqlx::raw_sql(AssertSqlSafe(sql.clone())).execute(c).await.map(drop),
        }
    }

    /// Runs one statement with parameters; returns the rows affected.
    pub(crate) async fn exec(&mut self, sql: &str, args: &[Value<'_>]) -> Result<u64, sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(c) => {
                let q = bind_all!(sqlx::query(AssertSqlSafe(sql.to_owned())), args);
                Ok(q.execute(c).await?.rows_affected())
            }
        }
    }

    /// Runs a query whose first column is text.
    pub(crate) async fn strings(&mut self, sql: &str) -> Result<Vec<String>, sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(c) => {
                let rows = sqlx::query(AssertSqlSafe(sql.to_owned())).fetch_all(c).await?;
                rows.iter().map(|r| r.try_get::<String, _>(0)).collect()
            }
        }
    }

    /// `true` when `table` exists (in `schema`, where given).
    pub(crate) async fn table_exists(&mut self, table: &str, _schema: Option<&str>) -> Result<bool, sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(c) => {
                let found: Option<i64> =
                    sqlx::query_scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
                        .bind(table.to_owned())
                        .fetch_optional(c)
                        .await?;
                Ok(found.is_some())
            }
        }
    }

    /// Starts a transaction that holds the write lock from its first
    /// statement (SQLite: `BEGIN IMMEDIATE`).
    pub(crate) async fn begin(&mut self) -> Result<(), sqlx::Error> {
        let sql = match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres | Dialect::Mysql => "BEGIN",
        };
        self.script(&Text::Borrowed(sql)).await
    }

    /// Commits the open transaction.
    pub(crate) async fn commit(&mut self) -> Result<(), sqlx::Error> {
        self.script(&Text::Borrowed("COMMIT")).await
    }

    /// Rolls back the open transaction, if any.
    pub(crate) async fn rollback(&mut self) -> Result<(), sqlx::Error> {
        self.script(&Text::Borrowed("ROLLBACK")).await
    }

    /// Closes the connection cleanly.
    pub(crate) async fn close(self) {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(c) => {
                let _ = c.close().await;
            }
        }
    }
}

#[cfg(feature = "sqlite")]
async fn connect_sqlite(url: &DatabaseUrl) -> Result<sqlx::SqliteConnection, sqlx::Error> {
    use sqlx::ConnectOptions;
    use sqlx::sqlite::SqliteConnectOptions;

    let mut options = match url.sqlite_target() {
        Some(SqliteTarget::File(path)) => SqliteConnectOptions::new().filename(path).create_if_missing(true),
        _ => SqliteConnectOptions::from_str("sqlite::memory:")?,
    };
    for (key, value) in url.query() {
        options = match (key.as_str(), value.as_str()) {
            ("mode", "ro") => options.read_only(true).create_if_missing(false),
            ("mode", "rw") => options.create_if_missing(false),
            ("mode", _) => options,
            ("foreign_keys", v) => options.foreign_keys(matches!(v, "on" | "true" | "1")),
            (other, _) => {
                return Err(sqlx::Error::Configuration(
                    format!("unknown SQLite URL parameter `{other}`; migrator knows `mode` and `foreign_keys`").into(),
                ));
            }
        };
    }
    options.connect().await
}
