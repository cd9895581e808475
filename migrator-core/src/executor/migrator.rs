//! The library API: configure a [`Migrator`], connect, then upgrade,
//! downgrade or inspect.

use std::time::{Duration, Instant};

use super::db::{Db, Value};
use super::error::{Context, Error};
use crate::bookkeeping::{TOOL_VERSION, Tables, check_identifier};
use crate::{DatabaseUrl, Dialect, Direction, Graph, Migrations, Plan, RowChange, Step, Text, now_utc};

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
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The revisions run, in order.
    pub applied: Vec<Applied>,
    /// The version rows afterwards.
    pub current: Vec<String>,
}

/// Migrations plus settings, before connecting.
#[derive(Debug, Clone)]
pub struct Migrator<'m> {
    migrations: &'m Migrations,
    tables: Tables,
    mode: TransactionMode,
}

impl<'m> Migrator<'m> {
    /// A migrator for `migrations` with the default settings.
    pub fn new(migrations: &'m Migrations) -> Self {
        Migrator {
            migrations,
            tables: Tables::default(),
            mode: TransactionMode::default(),
        }
    }

    /// Uses another version table, e.g. `alembic_version`.
    pub fn version_table(mut self, name: impl Into<String>) -> Self {
        self.tables.version = name.into();
        self
    }

    /// Uses another log table.
    pub fn log_table(mut self, name: impl Into<String>) -> Self {
        self.tables.log = name.into();
        self
    }

    /// Sets the transaction mode.
    pub fn transaction_mode(mut self, mode: TransactionMode) -> Self {
        self.mode = mode;
        self
    }

    /// Verifies the history and connects to `url`.
    pub async fn connect(self, url: &str) -> Result<Connected<'m>, Error> {
        let url = DatabaseUrl::parse(url)?;
        check_identifier(&self.tables.version).map_err(Error::Config)?;
        check_identifier(&self.tables.log).map_err(Error::Config)?;
        let graph = Graph::new(self.migrations).map_err(Error::Migrations)?;
        let db = match Db::connect(&url).await {
            Some(Ok(db)) => db,
            Some(Err(source)) => {
                return Err(Error::Connect {
                    url: url.to_string(),
                    source,
                });
            }
            None => {
                let feature = match url.dialect() {
                    Dialect::Sqlite => "sqlite",
                    Dialect::Postgres => "postgres",
                    Dialect::Mysql => "mysql",
                };
                return Err(Error::Unsupported {
                    dialect: url.dialect(),
                    feature,
                });
            }
        };
        Ok(Connected {
            graph,
            db,
            tables: self.tables,
            mode: self.mode,
        })
    }
}

/// A connection with a verified graph: the commands.
#[derive(Debug)]
pub struct Connected<'m> {
    graph: Graph<'m>,
    db: Db,
    tables: Tables,
    mode: TransactionMode,
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
        let mut rows = self.rows().await?;
        rows.sort_by_key(|r| (self.graph.index_of(r).unwrap_or(usize::MAX), r.clone()));
        Ok(rows)
    }

    /// The version rows in table order.
    async fn rows(&mut self) -> Result<Vec<String>, Error> {
        let dialect = self.dialect();
        match self.db.strings(&self.tables.select_versions(dialect)).await {
            Ok(rows) => Ok(rows),
            Err(e) => {
                // A missing version table means an empty database.
                let exists = self
                    .db
                    .table_exists(&self.tables.version, self.tables.schema.as_deref())
                    .await;
                match exists {
                    Ok(false) => Ok(Vec::new()),
                    _ => Err(e).context(|| format!("cannot read the version table {}", self.tables.version)),
                }
            }
        }
    }

    /// The version rows as graph indices, or the error for a database that
    /// is ahead of this binary.
    async fn current_indices(&mut self) -> Result<Vec<usize>, Error> {
        let rows = self.rows().await?;
        let unknown: Vec<&String> = rows.iter().filter(|r| self.graph.index_of(r).is_none()).collect();
        if let Some(first) = unknown.first() {
            return Err(Error::UnknownRevisions {
                revisions: unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                first: (*first).clone(),
            });
        }
        Ok(rows.iter().filter_map(|r| self.graph.index_of(r)).collect())
    }

    async fn ensure_tables(&mut self) -> Result<(), Error> {
        let d = self.dialect();
        let sql = format!("{};\n{};", self.tables.create_version(d), self.tables.create_log(d));
        self.db
            .script(&Text::Owned(sql))
            .await
            .context(|| "cannot create the bookkeeping tables".to_owned())
    }

    /// Upgrades to `target` (`head`, `heads`, an id, a prefix, `+N`, ...).
    pub async fn upgrade(&mut self, target: &str) -> Result<Report, Error> {
        self.upgrade_with(target, &mut |_| {}).await
    }

    /// Upgrades to `target`, calling `on_step` after each revision commits.
    pub async fn upgrade_with(&mut self, target: &str, on_step: &mut dyn FnMut(&Applied)) -> Result<Report, Error> {
        self.run(Direction::Up, target, on_step).await
    }

    /// Downgrades to `target` (`base`, an id, `-N`, ...).
    pub async fn downgrade(&mut self, target: &str) -> Result<Report, Error> {
        self.downgrade_with(target, &mut |_| {}).await
    }

    /// Downgrades to `target`, calling `on_step` after each revision commits.
    pub async fn downgrade_with(&mut self, target: &str, on_step: &mut dyn FnMut(&Applied)) -> Result<Report, Error> {
        self.run(Direction::Down, target, on_step).await
    }

    async fn run(
        &mut self,
        direction: Direction,
        target: &str,
        on_step: &mut dyn FnMut(&Applied),
    ) -> Result<Report, Error> {
        self.ensure_tables().await?;
        let current = self.current_indices().await?;
        let dialect = self.dialect();
        let graph = &self.graph;
        let plan = match direction {
            Direction::Up => graph.plan_upgrade(&current, target, dialect)?,
            Direction::Down => graph.plan_downgrade(&current, target, dialect)?,
        };
        let applied = execute(&mut self.db, &self.tables, self.mode, &plan, on_step).await?;
        let current = plan.after.iter().map(|r| graph.revision(r).id.to_string()).collect();
        Ok(Report { applied, current })
    }

    /// Moves the version rows to `targets` without running any SQL
    /// (Alembic's `stamp`); with `purge`, every row is deleted first.
    pub async fn stamp(&mut self, targets: &[&str], purge: bool) -> Result<Report, Error> {
        self.ensure_tables().await?;
        let current = self.current_indices().await?;
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
            for step in &plan.steps {
                record(&mut self.db, &self.tables, &plan, step, &started_at).await?;
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => self
                .db
                .commit()
                .await
                .context(|| "cannot commit the stamp".to_owned())?,
            Err(e) => {
                let _ = self.db.rollback().await;
                return Err(match e {
                    StepError::Rows(detail) => Error::Concurrent {
                        revision: "(stamp)".to_owned(),
                        detail,
                    },
                    StepError::Sql(source) | StepError::Bookkeeping(source) => Error::Database {
                        context: "cannot stamp the version table".to_owned(),
                        source,
                    },
                });
            }
        }
        let applied = plan
            .steps
            .iter()
            .map(|s| {
                let rev = graph.revision(s.revision);
                Applied {
                    revision: rev.id.to_string(),
                    message: rev.message.to_string(),
                    direction: s.direction,
                    duration: Duration::ZERO,
                }
            })
            .collect();
        let current = plan.after.iter().map(|r| graph.revision(r).id.to_string()).collect();
        Ok(Report { applied, current })
    }

    /// Closes the connection.
    pub async fn close(self) {
        self.db.close().await;
    }
}

/// Runs a plan step by step.
async fn execute(
    db: &mut Db,
    tables: &Tables,
    mode: TransactionMode,
    plan: &Plan<'_, '_>,
    on_step: &mut dyn FnMut(&Applied),
) -> Result<Vec<Applied>, Error> {
    let graph = plan.graph();
    let mut applied = Vec::with_capacity(plan.steps.len());
    let mut in_batch = false;
    // How many steps, from the first, are committed.
    let mut committed = 0;
    for (n, step) in plan.steps.iter().enumerate() {
        let rev = graph.revision(step.revision);
        let section = if step.stamp {
            None
        } else {
            rev.section(step.direction, db.dialect())
        };
        let transactional = section.is_none_or(|s| s.transactional);
        let started = Instant::now();
        let started_at = now_utc();
        // Open the transaction this step runs in.
        if mode == TransactionMode::All && in_batch && !transactional {
            db.commit()
                .await
                .context(|| "cannot commit the revisions before a transaction:false section".to_owned())?;
            in_batch = false;
            committed = n;
        }
        if transactional && !in_batch {
            db.begin()
                .await
                .context(|| format!("cannot start a transaction for revision {}", rev.id))?;
            in_batch = mode == TransactionMode::All;
        }
        let result = async {
            if let Some(s) = section.filter(|s| !crate::normalize(&s.sql).is_empty()) {
                db.script(&s.sql).await.map_err(StepError::Sql)?;
            }
            if !transactional {
                db.begin().await.map_err(StepError::Bookkeeping)?;
            }
            record(db, tables, plan, step, &started_at).await
        }
        .await;
        match result {
            Ok(()) => {
                if !in_batch {
                    db.commit()
                        .await
                        .context(|| format!("cannot commit revision {}", rev.id))?;
                    committed = n + 1;
                }
            }
            Err(e) => {
                let _ = db.rollback().await;
                let state = state_after_failure(plan, committed, transactional, mode);
                // The failure goes into the log in its own transaction.
                let error_text = e.to_string();
                let _ = log_row(db, tables, plan, step, &started_at, Some(&error_text)).await;
                return Err(match e {
                    StepError::Sql(source) => Error::Failed {
                        revision: rev.id.to_string(),
                        path: rev.path.to_string(),
                        direction: if step.direction == Direction::Up {
                            "upgrade"
                        } else {
                            "downgrade"
                        },
                        source,
                        state,
                    },
                    StepError::Rows(detail) => Error::Concurrent {
                        revision: rev.id.to_string(),
                        detail,
                    },
                    StepError::Bookkeeping(source) => Error::Database {
                        context: format!("cannot record revision {} in {}", rev.id, tables.version),
                        source,
                    },
                });
            }
        }
        let done = Applied {
            revision: rev.id.to_string(),
            message: rev.message.to_string(),
            direction: step.direction,
            duration: started.elapsed(),
        };
        if !in_batch {
            on_step(&done);
        }
        applied.push(done);
    }
    if in_batch {
        db.commit()
            .await
            .context(|| "cannot commit the migration run".to_owned())?;
        for a in &applied {
            on_step(a);
        }
    }
    Ok(applied)
}

/// Says where the database stands after a step failed, when the first
/// `committed` steps of the plan are committed and the rest rolled back.
fn state_after_failure(plan: &Plan<'_, '_>, committed: usize, transactional: bool, mode: TransactionMode) -> String {
    let graph = plan.graph();
    let kept: Vec<&str> = plan.steps[..committed]
        .iter()
        .map(|s| &*graph.revision(s.revision).id)
        .collect();
    let mut state = String::new();
    if transactional {
        state.push_str("Nothing of it was kept");
        if mode == TransactionMode::All && committed == 0 {
            state.push_str(" (transaction mode `all`: the whole run was rolled back)");
        }
    } else {
        state.push_str(
            "It ran outside a transaction (transaction:false), so its statements before the failure may have \
             taken effect; undo them by hand",
        );
    }
    if kept.is_empty() {
        state.push_str(". No revision was applied in this run.");
    } else {
        state.push_str(&format!(". Applied before it and kept: {}.", kept.join(", ")));
    }
    state.push_str(" Fix the SQL in the file and run the command again.");
    state
}

enum StepError {
    Sql(sqlx::Error),
    Rows(String),
    Bookkeeping(sqlx::Error),
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepError::Sql(e) | StepError::Bookkeeping(e) => write!(f, "{e}"),
            StepError::Rows(d) => f.write_str(d),
        }
    }
}

/// Moves the version rows for `step` and logs it, inside the open
/// transaction. Every row statement must touch exactly one row.
async fn record(
    db: &mut Db,
    tables: &Tables,
    plan: &Plan<'_, '_>,
    step: &Step,
    started_at: &str,
) -> Result<(), StepError> {
    let graph = plan.graph();
    let d = db.dialect();
    let id = |i: usize| &*graph.revision(i).id;
    for change in &step.rows {
        let (sql, args, what) = match *change {
            RowChange::Insert(r) => (
                tables.insert_version(d),
                vec![Value::Text(id(r))],
                format!("insert {}", id(r)),
            ),
            RowChange::Delete(r) => (
                tables.delete_version(d),
                vec![Value::Text(id(r))],
                format!("delete {}", id(r)),
            ),
            RowChange::Update { from, to } => (
                tables.update_version(d),
                vec![Value::Text(id(to)), Value::Text(id(from))],
                format!("update {} to {}", id(from), id(to)),
            ),
        };
        let affected = match db.exec(&sql, &args).await {
            Ok(n) => n,
            // A duplicate key on insert means another runner got there first.
            Err(e) if matches!(change, RowChange::Insert(_)) && is_unique_violation(&e) => 0,
            Err(e) => return Err(StepError::Bookkeeping(e)),
        };
        if affected != 1 {
            return Err(StepError::Rows(format!(
                "expected to {what}, but {affected} rows matched"
            )));
        }
    }
    log_row(db, tables, plan, step, started_at, None)
        .await
        .map_err(StepError::Bookkeeping)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

async fn log_row(
    db: &mut Db,
    tables: &Tables,
    plan: &Plan<'_, '_>,
    step: &Step,
    started_at: &str,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    let d = db.dialect();
    let rev = plan.graph().revision(step.revision);
    let checksum = rev.checksum(d).to_hex();
    let operation = match (step.stamp, step.direction) {
        (true, _) => "stamp",
        (false, Direction::Up) => "upgrade",
        (false, Direction::Down) => "downgrade",
    };
    let finished = now_utc();
    let args = [
        Value::Text(&rev.id),
        Value::Text(operation),
        Value::OptText((step.direction == Direction::Up && !step.stamp).then_some(checksum.as_str())),
        Value::Text(started_at),
        Value::OptText(Some(&finished)),
        Value::Bool(error.is_none()),
        Value::OptText(error),
        Value::OptInt(None),
        Value::Text(TOOL_VERSION),
    ];
    db.exec(&tables.insert_log(d), &args).await.map(drop)
}
