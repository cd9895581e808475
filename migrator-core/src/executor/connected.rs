//! [`Connected`]: a connection with a verified graph, and the commands
//! that run on it (upgrade, downgrade, dry runs, status, current; stamp
//! and repair are in `repair.rs`).

use super::connection::Connection;
use super::db::{Access, Db};
use super::error::{Context, Error};
use super::hooks::{self, OnStep, RunHooks};
use super::lock::{self, Fence, LockSettings};
use super::report::{Report, StepReport, TransactionMode, ids, planned};
use super::run;
use super::state;
use crate::bookkeeping::Tables;
use crate::{
    DatabaseUrl, Dialect, Digest, Direction, Graph, Plan, RevisionIndex, RevisionStatus, Step, StepKind, Text,
    Timeouts, VerifyError,
};

/// How many times a SQLite run without the lock (`--no-lock`) plans again
/// after another runner moved the version rows, before giving up.
const REPLANS: usize = 100;

/// A connection with a verified graph: the commands.
#[derive(Debug)]
pub struct Connected<'m> {
    pub(super) graph: Graph<'m>,
    pub(super) db: Db,
    pub(super) url: DatabaseUrl,
    pub(super) tables: Tables,
    pub(super) mode: TransactionMode,
    pub(super) lock: LockSettings,
    /// Where a lease's heartbeat connects: the URL this run connected to
    /// (none for a connection the caller handed in).
    pub(super) heartbeat_url: Option<DatabaseUrl>,
    /// What each commit checks while the lock is held.
    pub(super) fence: Fence,
    /// The run's own lock and statement timeouts, which a revision's
    /// header may change for that revision.
    pub(super) session: Timeouts,
    pub(super) access: Access,
    pub(super) backup: Option<std::path::PathBuf>,
}

impl<'m> Connected<'m> {
    /// The connection, back to the caller (see
    /// [`Migrator::connect_with`](crate::Migrator::connect_with)).
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
        rows.sort_by_key(|r| (self.graph.index_of(r).map_or(usize::MAX, RevisionIndex::get), r.clone()));
        Ok(rows)
    }

    /// The version rows as graph indices in table order, or the error for a
    /// database that is ahead of this binary.
    pub(super) async fn current_indices(&mut self) -> Result<Vec<RevisionIndex>, Error> {
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
        let lock = lock::acquire(
            &self.url,
            self.heartbeat_url.as_ref(),
            &mut self.db,
            &self.tables,
            self.lock,
        )
        .await?;
        self.fence = lock.fence();
        let result = work(self).await;
        self.fence = Fence::None;
        lock.release(&mut self.db).await;
        result
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
    pub(super) async fn checked_rows(&mut self, create: bool) -> Result<(Vec<RevisionIndex>, Option<Digest>), Error> {
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
    pub async fn upgrade_with(&mut self, target: &str, on_step: &mut dyn FnMut(&StepReport)) -> Result<Report, Error> {
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
    pub async fn downgrade_with(
        &mut self,
        target: &str,
        on_step: &mut dyn FnMut(&StepReport),
    ) -> Result<Report, Error> {
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
            let on_step = &mut |a: &StepReport| hooks.on_step(a);
            let settings = run::RunSettings {
                tables: &self.tables,
                fence: &self.fence,
                mode: self.mode,
                session: self.session,
            };
            let executed = run::execute(&mut self.db, &settings, &plan, digest, on_step).await?;
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
    pub(crate) async fn step(&mut self, r: RevisionIndex, direction: Direction) -> Result<(), Error> {
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
        let settings = run::RunSettings {
            tables: &self.tables,
            fence: &self.fence,
            mode: self.mode,
            session: self.session,
        };
        run::execute(&mut self.db, &settings, &plan, None, &mut |_| {})
            .await
            .map(drop)
    }

    /// Closes the connection.
    pub async fn close(self) {
        self.db.close().await;
    }
}
