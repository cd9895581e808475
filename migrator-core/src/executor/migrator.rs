//! The library API: configure a [`Migrator`], connect, then upgrade,
//! downgrade or inspect.

use std::time::Duration;

use super::db::{Access, Db, Value};
use super::error::{Context, Error};
use super::hooks::{self, OnStep, RunHooks};
use super::lock;
use super::run::{self, StepError};
use super::state;
use crate::bookkeeping::{TOOL_VERSION, Tables, check_identifier, check_schema};
use crate::{
    DatabaseUrl, Dialect, Digest, Direction, Graph, Migrations, Operation, Plan, RevisionStatus, Step, Text,
    VerifyError, VersionRows, now_utc,
};

/// How many times a SQLite run without the lock (`--no-lock`) plans again
/// after another runner moved the version rows, before giving up.
const REPLANS: usize = 100;

/// How revisions are grouped into transactions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TransactionMode {
    /// One transaction per revision: a failure keeps the revisions before it.
    #[default]
    PerRevision,
    /// One transaction for the whole run: a failure keeps nothing.
    All,
}

impl TransactionMode {
    /// Reads `per-revision` or `all`.
    pub fn from_name(name: &str) -> Option<TransactionMode> {
        match name {
            "per-revision" => Some(TransactionMode::PerRevision),
            "all" => Some(TransactionMode::All),
            _ => None,
        }
    }
}

/// A revision that was applied or reverted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The revision id.
    pub revision: String,
    /// Its message.
    pub message: String,
    /// Up or down.
    pub direction: Direction,
    /// How long its SQL and bookkeeping took.
    pub duration: Duration,
    /// Its place in the run, from 1.
    pub position: usize,
    /// How many revisions the run has.
    pub total: usize,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The revisions run, in order.
    pub applied: Vec<Applied>,
    /// The version rows afterwards.
    pub current: Vec<String>,
}

/// How `repair` resolves a revision that failed partway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// The user finished the revision by hand: record it as applied.
    Applied,
    /// The user undid its partial effects: record it as not applied.
    RolledBack,
    /// The revision's file was changed on purpose after it was applied:
    /// record the binary's checksum as the applied one.
    AcceptChecksum,
}

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

    /// Verifies the history and connects to `url`.
    pub async fn connect(self, url: &str) -> Result<Connected<'m>, Error> {
        let url = DatabaseUrl::parse(url)?;
        check_identifier(&self.tables.version).map_err(Error::Config)?;
        check_identifier(&self.tables.log).map_err(Error::Config)?;
        if let Some(schema) = &self.tables.schema {
            check_schema(schema).map_err(Error::Config)?;
        }
        let graph = match self.graph {
            Some(graph) => graph,
            None => Graph::new(self.migrations).map_err(Error::Migrations)?,
        };
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
    graph: Graph<'m>,
    db: Db,
    url: DatabaseUrl,
    tables: Tables,
    mode: TransactionMode,
    lock_timeout: Duration,
    lock: bool,
    access: Access,
    backup: Option<std::path::PathBuf>,
}

impl<'m> Connected<'m> {
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
    async fn current_indices(&mut self) -> Result<Vec<usize>, Error> {
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
    async fn ensure_tables(&mut self) -> Result<(), Error> {
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
    fn writable(&self, command: &str) -> Result<(), Error> {
        match self.access {
            Access::ReadWrite => Ok(()),
            Access::ReadOnly => Err(Error::Config(format!(
                "cannot {command}: this connection was opened for reading only (`Migrator::read_only`)"
            ))),
        }
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
    async fn checked_rows(&mut self, create: bool) -> Result<(Vec<usize>, Option<Digest>), Error> {
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
        let lock = self.take_lock().await?;
        let result = async {
            let (current, _) = self.checked_rows(false).await?;
            let dialect = self.dialect();
            let graph = &self.graph;
            let plan = match direction {
                Direction::Up => graph.plan_upgrade(&current, target, dialect)?,
                Direction::Down => graph.plan_downgrade(&current, target, dialect)?,
            };
            let applied = planned(&plan);
            Ok(Report {
                applied,
                current: ids(graph, plan.after.iter()),
            })
        }
        .await;
        lock.release(&mut self.db).await;
        result
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
        let lock = self.take_lock().await?;
        // The tables are created, if missing, by the checks.
        let result = self.run_locked(direction, target, hooks).await;
        lock.release(&mut self.db).await;
        result
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

    /// Moves the version rows to `targets` without running any SQL
    /// (Alembic's `stamp`); with `purge`, every row is deleted first.
    pub async fn stamp(&mut self, targets: &[&str], purge: bool) -> Result<Report, Error> {
        self.writable("stamp")?;
        let lock = self.take_lock().await?;
        let result = match self.ensure_tables().await {
            Ok(()) => self.stamp_locked(targets, purge).await,
            Err(e) => Err(e),
        };
        lock.release(&mut self.db).await;
        result
    }

    async fn stamp_locked(&mut self, targets: &[&str], purge: bool) -> Result<Report, Error> {
        // `--purge` is for a state the graph cannot explain (rows of
        // revisions this binary does not have, a renamed revision): every
        // row goes, and what the log says of revisions unknown here is
        // closed with a stamp row, so that later runs do not find them.
        let (current, forgotten) = if purge {
            let rows = state::read_rows(&mut self.db, &self.tables).await?;
            let recorded = state::read_recorded(&mut self.db, &self.tables).await?;
            let mut forgotten: Vec<String> = rows
                .into_iter()
                .chain(recorded.iter().filter(|(_, r)| r.applies()).map(|(id, _)| id.clone()))
                .filter(|id| self.graph.index_of(id).is_none())
                .collect();
            forgotten.sort();
            forgotten.dedup();
            (Vec::new(), forgotten)
        } else {
            (self.checked_rows(true).await?.0, Vec::new())
        };
        let graph = &self.graph;
        let plan = graph.plan_stamp(&current, targets, purge)?;
        let d = self.db.dialect();
        self.db
            .begin()
            .await
            .context(|| "cannot start the stamp transaction".to_owned())?;
        let result = async {
            if purge {
                let sql = format!("DELETE FROM {}", self.tables.version_table(d));
                self.db.exec(&sql, &[]).await.map_err(StepError::Bookkeeping)?;
            }
            let started_at = now_utc();
            for id in &forgotten {
                purge_row(&mut self.db, &self.tables, id, &started_at)
                    .await
                    .map_err(StepError::Bookkeeping)?;
            }
            for step in &plan.steps {
                run::move_rows(&mut self.db, &self.tables, &plan, step).await?;
                // A stamp records no checksum: the next run reads the whole log.
                run::log_row(&mut self.db, &self.tables, &plan, step, &started_at, None, None)
                    .await
                    .map_err(StepError::Bookkeeping)?;
            }
            Ok(())
        }
        .await;
        finish_bookkeeping(&mut self.db, result, "stamp").await?;
        let applied = planned(&plan);
        Ok(Report {
            applied,
            current: ids(graph, plan.after.iter()),
        })
    }

    /// Resolves a revision that failed partway (or was interrupted) in an
    /// earlier run: records it as applied (its rows move as if it had
    /// finished) or as rolled back, with a `repair` row in the log.
    /// `revision` may be omitted when exactly one revision needs repair.
    pub async fn repair(&mut self, revision: Option<&str>, how: Repair) -> Result<Report, Error> {
        self.writable("repair")?;
        let lock = self.take_lock().await?;
        let result = match self.ensure_tables().await {
            Ok(()) => self.repair_locked(revision, how).await,
            Err(e) => Err(e),
        };
        lock.release(&mut self.db).await;
        result
    }

    async fn repair_locked(&mut self, revision: Option<&str>, how: Repair) -> Result<Report, Error> {
        if how == Repair::AcceptChecksum {
            return self.accept_checksum(revision).await;
        }
        let unfinished = state::read_unfinished(&mut self.db, &self.tables).await?;
        let graph = &self.graph;
        let chosen = match revision {
            Some(ident) => {
                let id = match graph.resolve(ident).map_err(crate::PlanError::from)?.as_slice() {
                    [one] => graph.revision(*one).id.to_string(),
                    _ => ident.to_owned(),
                };
                unfinished.into_iter().find(|u| u.revision == id).ok_or_else(|| {
                    Error::NothingToRepair(format!(
                        "revision {id} did not fail partway, so there is nothing to repair; `migrator current` shows \
                         where the database is"
                    ))
                })?
            }
            None => match unfinished.as_slice() {
                [] => {
                    return Err(Error::NothingToRepair(
                        "nothing to repair: no revision failed partway".to_owned(),
                    ));
                }
                [one] => one.clone(),
                many => {
                    let list: Vec<&str> = many.iter().map(|u| u.revision.as_str()).collect();
                    return Err(Error::NothingToRepair(format!(
                        "several revisions need repair ({}); name one: `migrator repair <revision> --applied`",
                        list.join(", ")
                    )));
                }
            },
        };
        let Some(r) = graph.index_of(&chosen.revision) else {
            return Err(VerifyError::UnknownRevisions {
                revisions: chosen.revision.clone(),
                first: chosen.revision,
                renamed: String::new(),
            }
            .into());
        };
        let direction = chosen.operation.direction();
        let current = self.current_indices().await?;
        let graph = &self.graph;
        let (changes, rows) = match how {
            Repair::RolledBack | Repair::AcceptChecksum => (Vec::new(), VersionRows(current.clone())),
            Repair::Applied => move_one(graph, &current, r, direction, "repair")?,
        };
        let step = Step {
            revision: r,
            direction,
            stamp: false,
            rows: changes,
        };
        let plan = Plan::single(graph, &current, step.clone(), rows.clone());
        let note = match how {
            Repair::Applied => format!("repaired: {} marked as applied", chosen.operation.name()),
            Repair::RolledBack | Repair::AcceptChecksum => {
                format!("repaired: {} marked as rolled back", chosen.operation.name())
            }
        };
        let d = self.db.dialect();
        self.db
            .begin()
            .await
            .context(|| "cannot start the repair transaction".to_owned())?;
        let result = async {
            run::move_rows(&mut self.db, &self.tables, &plan, &step).await?;
            let now = now_utc();
            let rev = graph.revision(r);
            let checksum = (how == Repair::Applied && direction == Direction::Up).then(|| rev.checksum(d).to_hex());
            repair_row(&mut self.db, &self.tables, &rev.id, checksum.as_deref(), &now, &note)
                .await
                .map_err(StepError::Bookkeeping)
        }
        .await;
        finish_bookkeeping(&mut self.db, result, "repair").await?;
        let rev = graph.revision(r);
        Ok(Report {
            applied: vec![Applied {
                revision: rev.id.to_string(),
                message: note,
                direction,
                duration: Duration::ZERO,
                position: 1,
                total: 1,
            }],
            current: ids(graph, rows.iter()),
        })
    }

    /// Records the binary's checksum of `revision` as the applied one.
    async fn accept_checksum(&mut self, revision: Option<&str>) -> Result<Report, Error> {
        let Some(ident) = revision else {
            return Err(Error::NothingToRepair(
                "name the revision whose checksum to accept: `migrator repair <revision> --accept-checksum`".to_owned(),
            ));
        };
        let graph = &self.graph;
        let r = match graph.resolve(ident).map_err(crate::PlanError::from)?.as_slice() {
            [one] => *one,
            _ => return Err(Error::NothingToRepair(format!("`{ident}` does not name one revision"))),
        };
        let current = self.current_indices().await?;
        if !self.graph.ancestors(&current, true)[r] {
            return Err(Error::NothingToRepair(format!(
                "revision {} is not applied, so there is no checksum to accept",
                self.graph.revision(r).id
            )));
        }
        let recorded = state::read_recorded(&mut self.db, &self.tables).await?;
        let graph = &self.graph;
        let rev = graph.revision(r);
        let d = self.db.dialect();
        let checksum = rev.checksum(d).to_hex();
        let was = recorded
            .get(&*rev.id)
            .and_then(|x| x.checksum.clone())
            .unwrap_or_else(|| "none".to_owned());
        let note = format!("repaired: accepted checksum {checksum} (was {was})");
        let now = now_utc();
        repair_row(&mut self.db, &self.tables, &rev.id, Some(&checksum), &now, &note)
            .await
            .context(|| "cannot record the accepted checksum".to_owned())?;
        Ok(Report {
            applied: vec![Applied {
                revision: rev.id.to_string(),
                message: note,
                direction: Direction::Up,
                duration: Duration::ZERO,
                position: 1,
                total: 1,
            }],
            current: ids(graph, current.into_iter()),
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
        let (changes, rows) = move_one(graph, &current, r, direction, "test")?;
        let step = Step {
            revision: r,
            direction,
            stamp: false,
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

/// Commits bookkeeping-only work, or rolls it back and says why.
async fn finish_bookkeeping(db: &mut Db, result: Result<(), StepError>, what: &str) -> Result<(), Error> {
    match result {
        Ok(()) => db.commit().await.context(|| format!("cannot commit the {what}")),
        Err(e) => {
            let _ = db.rollback().await;
            Err(match e {
                StepError::Rows(detail) => Error::Concurrent {
                    detail,
                    kept: format!("Nothing of the {what} was kept; run the command again"),
                },
                StepError::Sql(cause) | StepError::Partly(cause, _) | StepError::Bookkeeping(cause) => {
                    Error::Database {
                        context: format!("cannot {what} the version table"),
                        cause,
                    }
                }
            })
        }
    }
}

/// Revision ids in file order.
fn ids(graph: &Graph<'_>, rows: impl Iterator<Item = usize>) -> Vec<String> {
    let mut v: Vec<usize> = rows.collect();
    v.sort_unstable();
    v.into_iter().map(|r| graph.revision(r).id.to_string()).collect()
}

/// The steps of a plan, as a report lists them (nothing ran).
fn planned(plan: &Plan<'_, '_>) -> Vec<Applied> {
    let graph = plan.graph();
    let total = plan.steps.len();
    plan.steps
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let rev = graph.revision(s.revision);
            Applied {
                revision: rev.id.to_string(),
                message: rev.message.to_string(),
                direction: s.direction,
                duration: Duration::ZERO,
                position: n + 1,
                total,
            }
        })
        .collect()
}

/// A `repair` row in the log: how a revision was resolved, with the
/// checksum it is now applied with, if any.
async fn repair_row(
    db: &mut Db,
    tables: &Tables,
    revision: &str,
    checksum: Option<&str>,
    now: &str,
    note: &str,
) -> Result<(), sqlx::Error> {
    let args = [
        Value::Text(revision),
        Value::Text(Operation::Repair.name()),
        Value::OptText(checksum),
        Value::Text(now),
        Value::OptText(Some(now)),
        Value::Bool(true),
        Value::OptText(Some(note)),
        Value::OptInt(None),
        Value::Text(TOOL_VERSION),
        // The next upgrade or downgrade reads the whole log and writes it.
        Value::OptText(None),
    ];
    db.exec(&tables.insert_log(db.dialect()), &args).await.map(drop)
}

/// A `stamp` row for a revision this binary does not know, written by
/// `stamp --purge`: the log no longer counts it as applied.
async fn purge_row(db: &mut Db, tables: &Tables, revision: &str, now: &str) -> Result<(), sqlx::Error> {
    let args = [
        Value::Text(revision),
        Value::Text(Operation::Stamp.name()),
        Value::OptText(None),
        Value::Text(now),
        Value::OptText(Some(now)),
        Value::Bool(true),
        Value::OptText(Some("purged: not in this binary")),
        Value::OptInt(None),
        Value::Text(TOOL_VERSION),
        Value::OptText(None),
    ];
    db.exec(&tables.insert_log(db.dialect()), &args).await.map(drop)
}

/// How the version rows move when revision `r` alone goes `direction`
/// from `current`: the changes and the rows afterwards.
fn move_one(
    graph: &Graph<'_>,
    current: &[usize],
    r: usize,
    direction: Direction,
    command: &'static str,
) -> Result<(Vec<crate::RowChange>, VersionRows), Error> {
    let mut rows = VersionRows(current.to_vec());
    let changes = match direction {
        Direction::Up => rows.upgrade(graph, r),
        Direction::Down => rows.downgrade(graph, r),
    }
    .map_err(|c| {
        Error::Plan(crate::PlanError::Rows {
            command,
            current: graph.current_text(current),
            detail: c.0,
        })
    })?;
    Ok((changes, rows))
}
