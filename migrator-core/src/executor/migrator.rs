//! The library API: configure a [`Migrator`], connect, then upgrade,
//! downgrade or inspect.

use std::time::Duration;

use super::connection::Connection;
use super::db::{Access, Db};
use super::error::{Context, Error};
use super::hooks::{self, OnStep, RunHooks};
use super::lock;
use super::report::{Applied, Report, TransactionMode, ids, planned};
use super::run;
use super::state;
use crate::bookkeeping::{Tables, check_identifier, check_schema};
use crate::{
    DatabaseUrl, Dialect, Digest, Direction, Graph, Migrations, Plan, RevisionStatus, Step, StepKind, Text, VerifyError,
};

/// How many times a SQLite run without the lock (`--no-lock`) plans again
/// after another runner moved the version rows, before giving up.
const REPLANS: usize = 100;

/// Migrations plus settings, before connecting.
#[derive(Debug, Clone)]
pub struct Migrator<'m> {
    migrations: &'m Migrations,
    /// Built by the caller already, if it had one.
    graph: Option<Graph<'m>>,
    tables: Tables,
    mode: TransactionMode,
    lock_timeout: Duration,
    lock: bool,
    access: Access,
    backup: Option<std::path::PathBuf>,
    /// `log_table` was called: `version_table` leaves the log alone.
    log_named: bool,
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
            lock: true,
            access: Access::ReadWrite,
            backup: None,
            log_named: false,
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

    /// Whether to take the migration lock (default: yes). Without it,
    /// concurrent runners are not serialised.
    pub fn lock(mut self, lock: bool) -> Self {
        self.lock = lock;
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
        self.finish(url, db)
    }

    /// Verifies the history and connects to `url`.
    pub async fn connect(mut self, url: &str) -> Result<Connected<'m>, Error> {
        let url = DatabaseUrl::parse(url)?;
        // Settings and history are checked before anything is connected to.
        self.check_settings()?;
        if self.graph.is_none() {
            self.graph = Some(Graph::new(self.migrations).map_err(Error::Migrations)?);
        }
        let db = match Db::connect_with(&url, self.lock_timeout, self.access).await {
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
        self.finish(url, db)
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
    fn finish(self, url: DatabaseUrl, db: Db) -> Result<Connected<'m>, Error> {
        self.check_settings()?;
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
            lock_timeout: self.lock_timeout,
            lock: self.lock,
            access: self.access,
            backup: self.backup,
        })
    }
}

/// A connection with a verified graph: the commands.
#[derive(Debug)]
pub struct Connected<'m> {
    pub(super) graph: Graph<'m>,
    pub(super) db: Db,
    pub(super) url: DatabaseUrl,
    pub(super) tables: Tables,
    pub(super) mode: TransactionMode,
    pub(super) lock_timeout: Duration,
    pub(super) lock: bool,
    pub(super) access: Access,
    pub(super) backup: Option<std::path::PathBuf>,
}

impl<'m> Connected<'m> {
    /// The connection, back to the caller (see
    /// [`Migrator::connect_with`]).
    pub fn into_connection(self) -> Connection {
        Connection(self.db)
    }

    /// The verified graph.
    pub fn graph(&self) -> &Graph<'m> {
        &self.graph
    }

    /// The connected dialect.
    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// The version rows, in file order of the revisions (unknown ones
    /// last). Empty when the version table does not exist.
    pub async fn current(&mut self) -> Result<Vec<String>, Error> {
        let mut rows = state::read_rows(&mut self.db, &self.tables).await?;
        rows.sort_by_key(|r| (self.graph.index_of(r).unwrap_or(usize::MAX), r.clone()));
        Ok(rows)
    }

    /// The version rows as graph indices in table order, or the error for a
    /// database that is ahead of this binary.
    pub(super) async fn current_indices(&mut self) -> Result<Vec<usize>, Error> {
        let rows = state::read_rows(&mut self.db, &self.tables).await?;
        let unknown: Vec<&String> = rows.iter().filter(|r| self.graph.index_of(r).is_none()).collect();
        if let Some(first) = unknown.first() {
            return Err(VerifyError::UnknownRevisions {
                revisions: unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                first: (*first).clone(),
                renamed: String::new(),
            }
            .into());
        }
        Ok(rows.iter().filter_map(|r| self.graph.index_of(r)).collect())
    }

    /// Creates the bookkeeping tables if needed; called with the lock held
    /// (concurrent `CREATE TABLE IF NOT EXISTS` can fail on PostgreSQL).
    pub(super) async fn ensure_tables(&mut self) -> Result<(), Error> {
        let d = self.dialect();
        let sql = format!("{};\n{};", self.tables.create_version(d), self.tables.create_log(d));
        self.db
            .script(&Text::Owned(sql))
            .await
            .context(|| "cannot create the bookkeeping tables".to_owned())?;
        // A log table from before `applied_digest` existed gets the column.
        let probe = format!("SELECT applied_digest FROM {} WHERE 1 = 0", self.tables.log_table(d));
        if self.db.rows(&probe, &[]).await.is_err() {
            self.db
                .exec(&self.tables.add_digest_column(d), &[])
                .await
                .context(|| format!("cannot add the applied_digest column to {}", self.tables.log))?;
        }
        Ok(())
    }

    /// Refuses `command` on a connection opened for reading only.
    pub(super) fn writable(&self, command: &str) -> Result<(), Error> {
        match self.access {
            Access::ReadWrite => Ok(()),
            Access::ReadOnly => Err(Error::Config(format!(
                "cannot {command}: this connection was opened for reading only (`Migrator::read_only`)"
            ))),
        }
    }

    /// The one way work runs under the migration lock: taken first,
    /// released afterwards whatever the work returned (and by the server
    /// or the operating system should the process die in between).
    pub(super) async fn with_lock<T>(
        &mut self,
        work: impl AsyncFnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let lock = self.take_lock().await?;
        let result = work(self).await;
        lock.release(&mut self.db).await;
        result
    }

    async fn take_lock(&mut self) -> Result<lock::Lock, Error> {
        if !self.lock {
            return Ok(lock::Lock::None);
        }
        lock::acquire(&self.url, &mut self.db, &self.tables, self.lock_timeout, self.access).await
    }

    /// Reads the rows and the log, and runs every check a command makes
    /// before planning.
    ///
    /// Also returns the applied digest when every applied revision is
    /// recorded with this binary's checksum. When the latest log row carries
    /// exactly the digest this binary expects for the version rows, nothing
    /// can be failed, unknown or modified, and one round trip suffices;
    /// otherwise (the tables missing, a stamp or repair last, any
    /// difference) the whole log is read and checked.
    ///
    /// With `create`, missing bookkeeping tables are created; without it
    /// (a dry run) they read as empty and nothing is written.
    pub(super) async fn checked_rows(&mut self, create: bool) -> Result<(Vec<usize>, Option<Digest>), Error> {
        let d = self.dialect();
        if let Ok(rows) = self.db.rows(&self.tables.select_versions_and_digest(d), &[]).await
            && let Some(fast) = crate::fast_path(&self.graph, d, &rows)
        {
            return Ok((fast.current, fast.digest));
        }
        if create {
            self.ensure_tables().await?;
        }
        let snapshot = state::read_snapshot(&mut self.db, &self.tables).await?;
        let verified = crate::verify(&self.graph, d, &snapshot)?;
        Ok((verified.current, verified.digest))
    }

    /// Where every revision stands: applied, pending, modified, unknown,
    /// failed or unverified, oldest first, then revisions the binary does
    /// not contain.
    pub async fn status(&mut self) -> Result<Vec<RevisionStatus>, Error> {
        let snapshot = state::read_snapshot(&mut self.db, &self.tables).await?;
        Ok(crate::classify(&self.graph, self.dialect(), &snapshot))
    }

    /// Plans `upgrade`/`downgrade` to `target` with the lock held and every
    /// check made, and returns the steps without running anything.
    pub async fn dry_run(&mut self, direction: Direction, target: &str) -> Result<Report, Error> {
        self.with_lock(async |c| {
            let (current, _) = c.checked_rows(false).await?;
            let dialect = c.dialect();
            let graph = &c.graph;
            let plan = match direction {
                Direction::Up => graph.plan_upgrade(&current, target, dialect)?,
                Direction::Down => graph.plan_downgrade(&current, target, dialect)?,
            };
            let applied = planned(&plan);
            Ok(Report {
                applied,
                current: ids(graph, plan.after.iter()),
            })
        })
        .await
    }

    /// Upgrades to `target` (`head`, `heads`, an id, a prefix, `+N`, ...).
    pub async fn upgrade(&mut self, target: &str) -> Result<Report, Error> {
        self.upgrade_with(target, &mut |_| {}).await
    }

    /// Upgrades to `target`, calling `on_step` after each revision commits.
    pub async fn upgrade_with(&mut self, target: &str, on_step: &mut dyn FnMut(&Applied)) -> Result<Report, Error> {
        self.run(Direction::Up, target, &mut OnStep(on_step)).await
    }

    /// Upgrades or downgrades to `target` with `hooks` (see [`RunHooks`]):
    /// a backup or a command before anything is applied, and each step.
    pub async fn run_with_hooks(
        &mut self,
        direction: Direction,
        target: &str,
        hooks: &mut dyn RunHooks,
    ) -> Result<Report, Error> {
        self.run(direction, target, hooks).await
    }

    /// Downgrades to `target` (`base`, an id, `-N`, ...).
    pub async fn downgrade(&mut self, target: &str) -> Result<Report, Error> {
        self.downgrade_with(target, &mut |_| {}).await
    }

    /// Downgrades to `target`, calling `on_step` after each revision commits.
    pub async fn downgrade_with(&mut self, target: &str, on_step: &mut dyn FnMut(&Applied)) -> Result<Report, Error> {
        self.run(Direction::Down, target, &mut OnStep(on_step)).await
    }

    async fn run(&mut self, direction: Direction, target: &str, hooks: &mut dyn RunHooks) -> Result<Report, Error> {
        if self.mode == TransactionMode::All && self.dialect() == Dialect::Mysql {
            return Err(Error::Config(
                "transaction mode `all` needs DDL that can be rolled back, which MySQL does not have; \
                 use --transaction-mode per-revision"
                    .to_owned(),
            ));
        }
        self.writable(direction.verb())?;
        // The tables are created, if missing, by the checks.
        self.with_lock(async |c| c.run_locked(direction, target, hooks).await)
            .await
    }

    /// The plan is made only here, with the lock held.
    async fn run_locked(
        &mut self,
        direction: Direction,
        target: &str,
        hooks: &mut dyn RunHooks,
    ) -> Result<Report, Error> {
        let mut applied = Vec::new();
        let mut prepared = false;
        // On SQLite another runner may move the rows between our steps; each
        // time, plan again from where it left them.
        for _ in 0..REPLANS {
            let (current, digest) = self.checked_rows(true).await?;
            let dialect = self.dialect();
            let graph = &self.graph;
            let plan = match direction {
                Direction::Up => graph.plan_upgrade(&current, target, dialect)?,
                Direction::Down => graph.plan_downgrade(&current, target, dialect)?,
            };
            if !prepared && !plan.steps.is_empty() {
                // Once, before the first revision runs: the backup, then
                // the caller's hook; either failing applies nothing.
                prepared = true;
                if let Some(to) = &self.backup {
                    hooks::backup(&mut self.db, to).await?;
                }
                hooks.before_apply(&planned(&plan)).map_err(Error::Hook)?;
            }
            let graph = &self.graph;
            let on_step = &mut |a: &Applied| hooks.on_step(a);
            let executed = run::execute(&mut self.db, &self.tables, self.mode, &plan, digest, on_step).await?;
            applied.extend(executed.applied);
            if !executed.interrupted {
                return Ok(Report {
                    applied,
                    current: ids(graph, plan.after.iter()),
                });
            }
        }
        Err(Error::Concurrent {
            detail: format!("the version rows changed under this run {REPLANS} times in a row"),
            kept: "Nothing of the last step was kept; run the command again".to_owned(),
        })
    }

    /// The live schema (migrator's own tables left out).
    pub async fn schema(&mut self) -> Result<crate::schema::Schema, Error> {
        super::introspect::introspect(&mut self.db, &self.tables).await
    }

    /// The connection, for scratch work.
    pub(crate) fn db_mut(&mut self) -> &mut Db {
        &mut self.db
    }

    /// Runs one revision up or down, alone, with its bookkeeping (for the
    /// round-trip test).
    pub(crate) async fn step(&mut self, r: usize, direction: Direction) -> Result<(), Error> {
        self.ensure_tables().await?;
        let current = self.current_indices().await?;
        let graph = &self.graph;
        let (changes, rows) = graph.move_one(&current, r, direction, "test")?;
        let step = Step {
            revision: r,
            direction,
            kind: StepKind::Run,
            rows: changes,
        };
        let plan = Plan::single(graph, &current, step, rows);
        run::execute(&mut self.db, &self.tables, self.mode, &plan, None, &mut |_| {})
            .await
            .map(drop)
    }

    /// Closes the connection.
    pub async fn close(self) {
        self.db.close().await;
    }
}
