//! A connection the service opened itself, handed to migrator
//! ([`crate::Migrator::connect_with`]) and handed back afterwards
//! ([`crate::Connected::into_connection`]), as sqlx's
//! `Migrator::run(&mut conn)` lets a service use the connection it has.
//! A pool's connection is taken with `pool.acquire().await?.detach()`.

use super::db::Db;

/// An sqlx connection of any of the compiled-in dialects.
#[derive(Debug)]
pub struct Connection(pub(crate) Db);

#[cfg(feature = "sqlite")]
impl From<sqlx::SqliteConnection> for Connection {
    fn from(c: sqlx::SqliteConnection) -> Self {
        Connection(Db::Sqlite(c))
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::PgConnection> for Connection {
    fn from(c: sqlx::PgConnection) -> Self {
        Connection(Db::Postgres(c))
    }
}

#[cfg(feature = "mysql")]
impl From<sqlx::MySqlConnection> for Connection {
    fn from(c: sqlx::MySqlConnection) -> Self {
        Connection(Db::Mysql(c))
    }
}

impl Connection {
    /// The SQLite connection, if it is one.
    #[cfg(feature = "sqlite")]
    pub fn into_sqlite(self) -> Option<sqlx::SqliteConnection> {
        match self.0 {
            Db::Sqlite(c) => Some(c),
            #[allow(unreachable_patterns)] // reachable with another driver compiled in
            _ => None,
        }
    }

    /// The PostgreSQL connection, if it is one.
    #[cfg(feature = "postgres")]
    pub fn into_postgres(self) -> Option<sqlx::PgConnection> {
        match self.0 {
            Db::Postgres(c) => Some(c),
            #[allow(unreachable_patterns)] // reachable with another driver compiled in
            _ => None,
        }
    }

    /// The MySQL connection, if it is one.
    #[cfg(feature = "mysql")]
    pub fn into_mysql(self) -> Option<sqlx::MySqlConnection> {
        match self.0 {
            Db::Mysql(c) => Some(c),
            #[allow(unreachable_patterns)] // reachable with another driver compiled in
            _ => None,
        }
    }
}
