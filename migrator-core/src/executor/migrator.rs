//! The library's entry point: configure a [`Migrator`], then connect (to a
//! URL, or on the caller's own connection) to get a
//! [`Connected`](super::connected::Connected).

use std::time::Duration;

use super::connected::Connected;
use super::connection::Connection;
use super::db::{Access, Db};
use super::error::{Context, Error};
use super::lock::{Fence, LockSettings};
use super::report::TransactionMode;
use crate::bookkeeping::{Tables, check_identifier, check_schema};
use crate::{DatabaseUrl, Dialect, Graph, LockStrategy, Migrations, Timeouts};

/// Migrations plus settings, before connecting.
#[derive(Debug, Clone)]
pub struct Migrator<'m> {
    migrations: &'m Migrations,
    /// Built by the caller already, if it had one.
    graph: Option<Graph<'m>>,
    tables: Tables,
    mode: TransactionMode,
    lock_timeout: Duration,
    lock: LockStrategy,
    lock_lease: Duration,
    access: Access,
    backup: Option<std::path::PathBuf>,
    /// `log_table` was called: `version_table` leaves the log alone.
    log_named: bool,
    connect_timeout: Duration,
    ddl_lock_timeout: Option<Duration>,
    statement_timeout: Option<Duration>,
}

impl<'m> Migrator<'m> {
    /// A migrator for `migrations` with the default settings.
    pub fn new(migrations: &'m Migrations) -> Self {
        Migrator {
            migrations,
            graph: None,
            tables: Tables::default(),
            mode: TransactionMode::default(),
            lock_timeout: Duration::from_secs(60),
            lock: LockStrategy::Advisory,
            lock_lease: Duration::from_secs(60),
            access: Access::ReadWrite,
            backup: None,
            log_named: false,
            connect_timeout: Duration::ZERO,
            ddl_lock_timeout: None,
            statement_timeout: None,
        }
    }

    /// A migrator over a graph the caller has built (and so verified)
    /// already, which `connect` then does not build again.
    pub fn with_graph(graph: Graph<'m>) -> Self {
        let mut m = Migrator::new(graph.migrations());
        m.graph = Some(graph);
        m
    }

    /// Uses another version table, e.g. `alembic_version`, with the log
    /// table that belongs to it (`migrator_log` for `migrator_version` and
    /// `alembic_version`, `<name>_log` otherwise) unless [`Self::log_table`]
    /// names one.
    pub fn version_table(mut self, name: impl Into<String>) -> Self {
        self.tables.version = name.into();
        if !self.log_named {
            self.tables.log = crate::bookkeeping::log_table_for(&self.tables.version);
        }
        self
    }

    /// Puts the version and log tables in this schema.
    pub fn version_table_schema(mut self, schema: Option<String>) -> Self {
        self.tables.schema = schema;
        self
    }

    /// Uses another log table.
    pub fn log_table(mut self, name: impl Into<String>) -> Self {
        self.tables.log = name.into();
        self.log_named = true;
        self
    }

    /// Sets the transaction mode.
    pub fn transaction_mode(mut self, mode: TransactionMode) -> Self {
        self.mode = mode;
        self
    }

    /// How long to wait for another runner's lock (default 60 s).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Whether to take the migration lock (default: yes, the advisory
    /// lock). Without it, concurrent runners are not serialised.
    pub fn lock(mut self, lock: bool) -> Self {
        self.lock = if lock {
            LockStrategy::Advisory
        } else {
            LockStrategy::None
        };
        self
    }

    /// How runners are serialised (default: [`LockStrategy::Advisory`]);
    /// [`LockStrategy::Table`] behind a pooler in transaction mode.
    pub fn lock_strategy(mut self, strategy: LockStrategy) -> Self {
        self.lock = strategy;
        self
    }

    /// How long a `table` lock's lease lasts without renewal (default
    /// 60 s; at least 1 s): a runner that died releases the lock this long
    /// after its last renewal. The lease is renewed every third of it on a
    /// connection of its own, and before each revision commits.
    pub fn lock_lease(mut self, lease: Duration) -> Self {
        self.lock_lease = lease;
        self
    }

    /// Connects for reading only (default: no): `current`, `status` and
    /// dry runs then create and change nothing, not even a SQLite file
    /// (a missing one reads as empty), and every command that would write
    /// is refused.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.access = if read_only { Access::ReadOnly } else { Access::ReadWrite };
        self
    }

    /// Before a run applies anything, copies a SQLite database to `path`
    /// (`VACUUM INTO`: online and consistent; an existing file is never
    /// overwritten). Not for PostgreSQL or MySQL, where a `before_upgrade`
    /// hook runs their dump tools.
    pub fn backup_to(mut self, path: Option<std::path::PathBuf>) -> Self {
        self.backup = path;
        self
    }

    /// Verifies the history and works on a connection the caller opened
    /// (a pool's too: `pool.acquire().await?.detach()`), which
    /// [`Connected::into_connection`] gives back. The migration lock is
    /// taken on that connection (PostgreSQL, MySQL); on a SQLite file the
    /// lock file beside it is found through `PRAGMA database_list`.
    ///
    /// ```rust,no_run
    /// # async fn run(mut conn: sqlx::SqliteConnection) -> Result<(), migrator_core::Error> {
    /// static MIGRATIONS: migrator_core::Migrations = migrator_core::Migrations::from_static(&[], false);
    /// let mut db = migrator_core::Migrator::new(&MIGRATIONS).connect_with(conn).await?;
    /// db.upgrade("heads").await?;
    /// let conn = db.into_connection().into_sqlite();
    /// # Ok(()) }
    /// ```
    pub async fn connect_with(self, connection: impl Into<Connection>) -> Result<Connected<'m>, Error> {
        let mut db = connection.into().0;
        let url = match db.dialect() {
            Dialect::Sqlite => {
                let file = db
                    .rows("SELECT file FROM pragma_database_list WHERE name = 'main'", &[])
                    .await
                    .context(|| "cannot read which file the SQLite connection has open".to_owned())?
                    .into_iter()
                    .next()
                    .and_then(|mut r| r.swap_remove(0))
                    .filter(|f| !f.is_empty());
                match file {
                    Some(path) => format!("sqlite://{path}"),
                    None => "sqlite::memory:".to_owned(),
                }
            }
            Dialect::Postgres => "postgres://the-service-connection/".to_owned(),
            Dialect::Mysql => "mysql://the-service-connection/".to_owned(),
        };
        let url = DatabaseUrl::parse(&url)?;
        self.finish(url, None, db).await
    }

    /// How long `connect` keeps trying a server that refuses connections or
    /// is still starting (default: no retry), with back-off; a wrong
    /// password or an unknown database fails at once.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a statement waits for a table lock before it fails (default:
    /// as long as the server lets it): PostgreSQL's `lock_timeout`, MySQL's
    /// `lock_wait_timeout`, set on the session. A migration queued behind a
    /// long transaction then fails fast, naming the revision and the
    /// statement, instead of stalling every query queued behind it.
    pub fn ddl_lock_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.ddl_lock_timeout = timeout;
        self
    }

    /// How long one statement may run before the server cancels it
    /// (default: as long as the server lets it): PostgreSQL's
    /// `statement_timeout`, MariaDB's `max_statement_time`, set on the
    /// session. A revision's `Statement Timeout` header overrides it for
    /// that revision.
    pub fn statement_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Verifies the history and connects to `url`.
    pub async fn connect(mut self, url: &str) -> Result<Connected<'m>, Error> {
        let url = DatabaseUrl::parse(url)?;
        // Settings and history are checked before anything is connected to.
        self.check_settings()?;
        if self.graph.is_none() {
            self.graph = Some(Graph::new(self.migrations).map_err(Error::Migrations)?);
        }
        let deadline = std::time::Instant::now() + self.connect_timeout;
        let mut wait = Duration::from_millis(100);
        let db = loop {
            let attempt = Db::connect_with(&url, self.lock_timeout, self.access).await;
            // A server that refuses connections or is still starting may be
            // coming up beside this service: try again until the deadline.
            // A wrong password or database fails at once.
            if let Some(Err(e)) = &attempt
                && not_ready(e)
                && std::time::Instant::now() + wait < deadline
            {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
                continue;
            }
            break attempt;
        };
        let db = match db {
            Some(Ok(db)) => db,
            // Something in the URL itself (a port that is no number, an
            // unknown parameter or value): a usage error naming it.
            Some(Err(sqlx::Error::Configuration(cause))) => {
                return Err(Error::Config(format!(
                    "the database URL {url} cannot be used: {cause}; correct it"
                )));
            }
            Some(Err(cause)) => {
                return Err(Error::Connect {
                    url: url.to_string(),
                    cause,
                });
            }
            None => {
                return Err(Error::Unsupported {
                    dialect: url.dialect(),
                    feature: url.dialect().feature(),
                });
            }
        };
        let heartbeat = url.clone();
        self.finish(url, Some(heartbeat), db).await
    }

    fn check_settings(&self) -> Result<(), Error> {
        check_identifier(&self.tables.version).map_err(Error::Config)?;
        check_identifier(&self.tables.log).map_err(Error::Config)?;
        if let Some(schema) = &self.tables.schema {
            check_schema(schema).map_err(Error::Config)?;
        }
        Ok(())
    }

    /// Checks the settings, verifies the history, and makes the
    /// connection a [`Connected`].
    async fn finish(
        self,
        url: DatabaseUrl,
        heartbeat_url: Option<DatabaseUrl>,
        mut db: Db,
    ) -> Result<Connected<'m>, Error> {
        self.check_settings()?;
        // A migration waiting on a table lock must not stall the
        // application behind it: the session gives up after this long.
        let session = Timeouts {
            lock: self.ddl_lock_timeout,
            statement: self.statement_timeout,
        };
        if let Some(sql) = super::timeouts::set(db.dialect(), session, false) {
            db.script(&crate::Text::Owned(sql))
                .await
                .context(|| "cannot set the lock and statement timeouts".to_owned())?;
        }
        let graph = match self.graph {
            Some(graph) => graph,
            None => Graph::new(self.migrations).map_err(Error::Migrations)?,
        };
        Ok(Connected {
            graph,
            db,
            url,
            tables: self.tables,
            mode: self.mode,
            lock: LockSettings {
                strategy: self.lock,
                timeout: self.lock_timeout,
                lease: self.lock_lease,
                access: self.access,
            },
            heartbeat_url,
            fence: Fence::None,
            session,
            access: self.access,
            backup: self.backup,
        })
    }
}

/// `true` for a connection failure that waiting can cure: nothing listens
/// yet (refused, reset), or PostgreSQL is starting up or shutting down
/// (SQLSTATE 57P03), or too many clients for the moment (53300).
fn not_ready(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::NotFound
                | std::io::ErrorKind::UnexpectedEof
        ),
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("57P03" | "53300")),
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}
