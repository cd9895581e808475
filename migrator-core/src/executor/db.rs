//! One connection to one database, whatever the dialect, with the few
//! operations the executor needs. Everything above this module is written
//! once for all dialects.

use std::str::FromStr;
use std::time::Duration;

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

/// Whether a connection may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    ReadWrite,
    /// Reading only: nothing is created or changed.
    ReadOnly,
}

/// A live connection.
#[derive(Debug)]
pub(crate) enum Db {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(sqlx::MySqlConnection),
}

/// Runs `$body` with `$c` bound to the connection, whatever its type.
macro_rules! on {
    ($db:expr, $c:ident => $body:expr) => {
        match $db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            Db::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            Db::Mysql($c) => $body,
        }
    };
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
    pub(crate) async fn connect(url: &DatabaseUrl, busy_timeout: Duration) -> Option<Result<Db, sqlx::Error>> {
        Db::connect_with(url, busy_timeout, Access::ReadWrite).await
    }

    /// [`Db::connect`], for reading only where `access` says so: a SQLite
    /// file is then opened read-only, and one that does not exist is read
    /// as the empty database it would be (in memory), so that nothing,
    /// not even the file, is created.
    pub(crate) async fn connect_with(
        url: &DatabaseUrl,
        busy_timeout: Duration,
        access: Access,
    ) -> Option<Result<Db, sqlx::Error>> {
        let _ = (busy_timeout, access);
        match url.dialect() {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => Some(connect_sqlite(url, busy_timeout, access).await.map(Db::Sqlite)),
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Some(connect_postgres(url).await.map(Db::Postgres)),
            #[cfg(feature = "mysql")]
            Dialect::Mysql => Some(connect_mysql(url).await.map(Db::Mysql)),
            #[allow(unreachable_patterns)] // reachable when a driver is compiled out
            _ => None,
        }
    }

    /// The connected dialect.
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Db::Mysql(_) => Dialect::Mysql,
        }
    }

    /// Runs a script of zero or more statements, without parameters.
    pub(crate) async fn script(&mut self, sql: &Text) -> Result<(), sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(c) => super::sqlite_exec::exec(c, sql).await,
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => sqlx::raw_sql(AssertSqlSafe(sql.clone())).execute(c).await.map(drop),
            #[cfg(feature = "mysql")]
            Db::Mysql(c) => sqlx::raw_sql(AssertSqlSafe(sql.clone())).execute(c).await.map(drop),
        }
    }

    /// Runs one statement with parameters; returns the rows affected.
    pub(crate) async fn exec(&mut self, sql: &str, args: &[Value<'_>]) -> Result<u64, sqlx::Error> {
        #[cfg(feature = "postgres")]
        if let Db::Postgres(c) = self {
            let sql = inline_postgres(sql, args);
            return Ok(sqlx::raw_sql(AssertSqlSafe(sql)).execute(c).await?.rows_affected());
        }
        on!(self, c => {
            let q = bind_all!(sqlx::query(AssertSqlSafe(sql.to_owned())), args);
            Ok(q.execute(c).await?.rows_affected())
        })
    }

    /// Runs a query; every column is read as optional text.
    pub(crate) async fn rows(
        &mut self,
        sql: &str,
        args: &[Value<'_>],
    ) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
        #[cfg(feature = "postgres")]
        if let Db::Postgres(c) = self {
            let sql = inline_postgres(sql, args);
            let rows = sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(c).await?;
            return rows
                .iter()
                .map(|r| (0..r.len()).map(|i| text_at(r, i)).collect())
                .collect();
        }
        on!(self, c => {
            let q = bind_all!(sqlx::query(AssertSqlSafe(sql.to_owned())), args);
            let rows = q.fetch_all(c).await?;
            rows.iter().map(|r| (0..r.len()).map(|i| text_at(r, i)).collect::<Result<Vec<_>, _>>()).collect()
        })
    }

    /// Runs a query whose first column is text.
    pub(crate) async fn strings(&mut self, sql: &str) -> Result<Vec<String>, sqlx::Error> {
        Ok(self
            .rows(sql, &[])
            .await?
            .into_iter()
            .filter_map(|mut r| r.swap_remove(0))
            .collect())
    }

    /// Runs an `INSERT` into a table with an `id` key and returns the id
    /// it generated.
    pub(crate) async fn insert_returning_id(&mut self, sql: &str, args: &[Value<'_>]) -> Result<i64, sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Db::Sqlite(c) => {
                let q = bind_all!(sqlx::query(AssertSqlSafe(sql.to_owned())), args);
                Ok(q.execute(c).await?.last_insert_rowid())
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(c) => {
                let sql = inline_postgres(&format!("{sql} RETURNING id"), args);
                let rows = sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(c).await?;
                let row = rows.first().ok_or(sqlx::Error::RowNotFound)?;
                row.try_get::<i64, _>(0)
            }
            #[cfg(feature = "mysql")]
            Db::Mysql(c) => {
                let q = bind_all!(sqlx::query(AssertSqlSafe(sql.to_owned())), args);
                Ok(i64::try_from(q.execute(c).await?.last_insert_id()).unwrap_or(i64::MAX))
            }
        }
    }

    /// `true` when `table` exists (in `schema`, where given).
    pub(crate) async fn table_exists(&mut self, table: &str, schema: Option<&str>) -> Result<bool, sqlx::Error> {
        let (sql, args): (&str, Vec<Value<'_>>) = match self.dialect() {
            Dialect::Sqlite => (
                "SELECT 'x' FROM sqlite_master WHERE type = 'table' AND name = ?",
                vec![Value::Text(table)],
            ),
            Dialect::Postgres => (
                "SELECT 'x' FROM information_schema.tables WHERE table_name = $1 AND table_schema = COALESCE($2, current_schema())",
                vec![Value::Text(table), Value::OptText(schema)],
            ),
            Dialect::Mysql => (
                "SELECT 'x' FROM information_schema.tables WHERE table_name = ? AND table_schema = COALESCE(?, DATABASE())",
                vec![Value::Text(table), Value::OptText(schema)],
            ),
        };
        Ok(!self.rows(sql, &args).await?.is_empty())
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
        on!(self, c => {
            let _ = c.close().await;
        })
    }
}

#[cfg(feature = "sqlite")]
async fn connect_sqlite(
    url: &DatabaseUrl,
    busy_timeout: Duration,
    access: Access,
) -> Result<sqlx::SqliteConnection, sqlx::Error> {
    use sqlx::ConnectOptions;
    use sqlx::sqlite::SqliteConnectOptions;

    let mut options = match url.sqlite_target() {
        Some(SqliteTarget::File(path)) if access == Access::ReadOnly && !path.exists() => {
            SqliteConnectOptions::from_str("sqlite::memory:")?
        }
        Some(SqliteTarget::File(path)) if access == Access::ReadOnly => {
            SqliteConnectOptions::new().filename(path).read_only(true)
        }
        Some(SqliteTarget::File(path)) => SqliteConnectOptions::new().filename(path).create_if_missing(true),
        _ => SqliteConnectOptions::from_str("sqlite::memory:")?,
    };
    options = options.busy_timeout(busy_timeout);
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

/// An IPv6 literal's address without its brackets (`[::1]` is `::1`):
/// sqlx would look the bracketed form up as a host name.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn ipv6_host(url: &DatabaseUrl) -> Option<String> {
    let parsed = url::Url::parse(url.for_driver()).ok()?;
    let host = parsed.host_str()?;
    host.strip_prefix('[')?.strip_suffix(']').map(str::to_owned)
}

#[cfg(feature = "postgres")]
async fn connect_postgres(url: &DatabaseUrl) -> Result<sqlx::PgConnection, sqlx::Error> {
    use sqlx::ConnectOptions;
    use sqlx::postgres::PgConnectOptions;

    // No `extra_float_digits` in the startup packet: PgBouncer refuses
    // startup parameters it does not know, and migrator reads no floats.
    let mut options = PgConnectOptions::from_str(url.for_driver())?.extra_float_digits(None);
    if let Some(host) = ipv6_host(url) {
        options = options.host(&host);
    }
    options.connect().await
}

/// `sql` with its `$1`, `$2`, ... replaced by the arguments as literals,
/// for PostgreSQL's simple query protocol. Behind a pooler in transaction
/// mode (PgBouncer, RDS Proxy) consecutive messages outside a transaction
/// may reach different server sessions, so a statement prepared on one
/// is unknown on the next; one self-contained query message always works,
/// and costs one round trip where a prepared statement's first use costs
/// two. The arguments are migrator's own (ids, messages, checksums), and
/// are quoted as [`postgres_literal`] says.
#[cfg(feature = "postgres")]
fn inline_postgres(sql: &str, args: &[Value<'_>]) -> String {
    if args.is_empty() {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 64);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
        let n: Option<usize> = rest[at + 1..at + 1 + digits].parse().ok();
        match n.and_then(|n| n.checked_sub(1)).and_then(|i| args.get(i)) {
            Some(value) => out.push_str(&postgres_literal(value)),
            None => out.push_str(&rest[at..at + 1 + digits]),
        }
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    out
}

/// A value as a PostgreSQL literal: `NULL`, a number, `TRUE`/`FALSE`, or
/// a string, as an escape string (`E'...'`, backslashes and quotes
/// doubled) so that it reads the same whatever `standard_conforming_strings`
/// is.
#[cfg(feature = "postgres")]
fn postgres_literal(value: &Value<'_>) -> String {
    let text = |s: &str| format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''"));
    match *value {
        Value::Text(s) | Value::OptText(Some(s)) => text(s),
        Value::OptText(None) | Value::OptInt(None) => "NULL".to_owned(),
        Value::Bool(b) => if b { "TRUE" } else { "FALSE" }.to_owned(),
        Value::OptInt(Some(n)) => format!("({n})"),
    }
}

/// A MySQL session as the `mysql`/`mariadb` client opens it: the server's
/// `sql_mode` and time zone, not sqlx's (which adds `PIPES_AS_CONCAT` and
/// `IGNORE_SPACE` and sets UTC), with the `utf8mb4` character set.
/// Triggers and routines keep the `sql_mode` they were created under, so
/// this matters for the schema a revision leaves.
#[cfg(feature = "mysql")]
async fn connect_mysql(url: &DatabaseUrl) -> Result<sqlx::MySqlConnection, sqlx::Error> {
    use sqlx::ConnectOptions;
    use sqlx::mysql::MySqlConnectOptions;

    let mut options = MySqlConnectOptions::from_str(url.for_driver())?;
    if let Some(host) = ipv6_host(url) {
        options = options.host(&host);
    }
    let mut conn = options
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None)
        .connect()
        .await?;
    // The driver's handshake also asks for IGNORE_SPACE; go back to exactly
    // the server's default.
    sqlx::raw_sql("SET SESSION sql_mode = @@GLOBAL.sql_mode")
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

/// A column as text, whatever its type (strings, integers, booleans).
fn text_at<R: Row>(row: &R, i: usize) -> Result<Option<String>, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i32>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<bool>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    match row.try_get::<Option<String>, _>(i) {
        Ok(v) => Ok(v),
        Err(e) => {
            if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                return Ok(v.map(|n| n.to_string()));
            }
            if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
                return Ok(v.map(|n| n.to_string()));
            }
            if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
                return Ok(v.map(|b| b.to_string()));
            }
            Err(e)
        }
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::*;

    #[test]
    fn parameters_become_literals_that_read_back_the_same() {
        let sql = "INSERT INTO t VALUES ($1, $2, $3, $4, $10, $1)";
        let got = inline_postgres(
            sql,
            &[
                Value::Text("it's a \\ path"),
                Value::OptText(None),
                Value::Bool(true),
                Value::OptInt(Some(-7)),
            ],
        );
        assert_eq!(
            got,
            "INSERT INTO t VALUES (E'it''s a \\\\ path', NULL, TRUE, (-7), $10, E'it''s a \\\\ path')"
        );
        assert_eq!(inline_postgres("SELECT $1", &[]), "SELECT $1");
    }
}
