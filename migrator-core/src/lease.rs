//! The lock strategies (`--lock advisory|table|none`) and the SQL of the
//! `table` strategy's lease: a row in `migrator_lock` (holder, acquired,
//! expiry by the database's own clock), taken, renewed and released in
//! short autocommitted statements, so that it works where session state
//! does not last (PgBouncer in transaction mode, RDS Proxy) and on engines
//! whose advisory locks do nothing (CockroachDB). Pure text, like
//! [`crate::bookkeeping`].

use crate::Dialect;
use crate::bookkeeping::{Tables, param, quote};

/// The table that holds the leases, one row per version table, in the
/// schema of the version table.
pub const LOCK_TABLE: &str = "migrator_lock";

/// How concurrent runners are serialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockStrategy {
    /// PostgreSQL advisory lock or MySQL `GET_LOCK` on the working
    /// connection, a `flock` beside a SQLite file (the default). Released
    /// by the server or the operating system when the holder dies. Unsafe
    /// behind a pooler in transaction mode, and refused on CockroachDB,
    /// where [`LockStrategy::Table`] is used instead.
    #[default]
    Advisory,
    /// A lease row in [`LOCK_TABLE`], renewed while the run lasts; a
    /// crashed holder's lease expires after the lease time.
    Table,
    /// No lock: concurrent runners are not serialised.
    None,
}

impl std::str::FromStr for LockStrategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "advisory" => Ok(LockStrategy::Advisory),
            "table" => Ok(LockStrategy::Table),
            "none" => Ok(LockStrategy::None),
            other => Err(format!("unknown lock strategy `{other}`; use advisory, table or none")),
        }
    }
}

/// `true` when PostgreSQL's `version()` says the server is CockroachDB,
/// whose `pg_try_advisory_lock` always succeeds without locking anything.
pub fn is_cockroach(version: &str) -> bool {
    version.trim_start().starts_with("CockroachDB")
}

/// The database's clock in milliseconds since 1970: every runner compares
/// expiries against the same clock, whatever its own says.
fn now_ms(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        Dialect::Mysql => "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)",
        Dialect::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
    }
}

/// The lease statements for one version table.
#[derive(Debug, Clone)]
pub struct LeaseSql {
    /// Creates the lock table if missing.
    pub create: String,
    /// Deletes the row if its lease expired. Parameter: the name.
    pub clear_expired: String,
    /// Inserts the row unless one exists (one row affected: taken).
    /// Parameters: name, holder, acquired time, lease in milliseconds.
    pub take: String,
    /// Extends the lease if this holder still has it (one row affected:
    /// still held). Parameters: lease in milliseconds, name, holder.
    pub renew: String,
    /// Deletes the row if this holder has it. Parameters: name, holder.
    pub release: String,
    /// Who holds the lease, since when, and milliseconds until it
    /// expires. Parameter: the name.
    pub holder: String,
}

impl LeaseSql {
    /// The statements for `tables`' lease, in `tables`' schema.
    pub fn new(tables: &Tables, dialect: Dialect) -> LeaseSql {
        let table = match &tables.schema {
            Some(s) => format!("{}.{}", quote(dialect, s), quote(dialect, LOCK_TABLE)),
            None => quote(dialect, LOCK_TABLE),
        };
        let p = |n| param(dialect, n);
        let now = now_ms(dialect);
        let insert = match dialect {
            Dialect::Postgres => "INSERT INTO",
            Dialect::Mysql => "INSERT IGNORE INTO",
            Dialect::Sqlite => "INSERT OR IGNORE INTO",
        };
        let text = if dialect == Dialect::Postgres {
            "TEXT"
        } else {
            "CHAR(20)"
        };
        let on_conflict = if dialect == Dialect::Postgres {
            " ON CONFLICT DO NOTHING"
        } else {
            ""
        };
        LeaseSql {
            create: format!(
                "CREATE TABLE IF NOT EXISTS {table} (name VARCHAR(255) NOT NULL PRIMARY KEY, holder VARCHAR(255) \
                 NOT NULL, acquired_at VARCHAR(32) NOT NULL, expires_ms BIGINT NOT NULL)"
            ),
            clear_expired: format!("DELETE FROM {table} WHERE name = {} AND expires_ms < {now}", p(1)),
            take: format!(
                "{insert} {table} (name, holder, acquired_at, expires_ms) VALUES ({}, {}, {}, {now} + {}){on_conflict}",
                p(1),
                p(2),
                p(3),
                p(4)
            ),
            renew: format!(
                "UPDATE {table} SET expires_ms = {now} + {} WHERE name = {} AND holder = {}",
                p(1),
                p(2),
                p(3)
            ),
            release: format!("DELETE FROM {table} WHERE name = {} AND holder = {}", p(1), p(2)),
            holder: format!(
                "SELECT holder, acquired_at, CAST(expires_ms - {now} AS {text}) FROM {table} WHERE name = {}",
                p(1)
            ),
        }
    }
}

/// The lease's name for `tables`: the version table it serialises.
pub fn lease_name(tables: &Tables) -> String {
    match &tables.schema {
        Some(s) => format!("{s}.{}", tables.version),
        None => tables.version.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_parse_from_their_names_only() {
        assert_eq!("table".parse(), Ok(LockStrategy::Table));
        assert_eq!("advisory".parse(), Ok(LockStrategy::Advisory));
        assert_eq!("none".parse(), Ok(LockStrategy::None));
        assert!(
            "lease"
                .parse::<LockStrategy>()
                .unwrap_err()
                .contains("advisory, table or none")
        );
    }

    #[test]
    fn cockroach_is_told_from_postgres_by_its_version() {
        assert!(is_cockroach(
            "CockroachDB CCL v23.1.11 (x86_64-pc-linux-gnu, built 2023/09/27 01:53:43, go1.19.13)"
        ));
        assert!(!is_cockroach(
            "PostgreSQL 15.19 (Debian 15.19-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc"
        ));
    }

    #[test]
    fn the_lease_lives_beside_the_version_table() {
        let tables = Tables::for_version_table("app_version", Some("ops".to_owned()));
        let sql = LeaseSql::new(&tables, Dialect::Postgres);
        assert!(
            sql.create
                .starts_with("CREATE TABLE IF NOT EXISTS \"ops\".\"migrator_lock\"")
        );
        assert!(sql.take.ends_with("ON CONFLICT DO NOTHING"));
        assert_eq!(lease_name(&tables), "ops.app_version");
        let mysql = LeaseSql::new(&Tables::default(), Dialect::Mysql);
        assert!(mysql.take.starts_with("INSERT IGNORE INTO `migrator_lock`"));
        assert_eq!(lease_name(&Tables::default()), "migrator_version");
    }
}
