//! The command line as clap parses it: a plain mirror of the flags, checked
//! and turned into [`crate::settings::Settings`] once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Database schema migrations: a graph of SQL revisions, Alembic's model,
/// verified at compile time.
#[derive(Debug, Parser)]
#[command(name = "migrator", version, about, max_term_width = 100)]
pub(crate) struct Flags {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Database URL: sqlite://file.db, sqlite::memory:, postgres://..., mysql://...
    /// [default: sqlite://migrator.db]
    #[arg(short = 'd', long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Config file [default: migrator.toml, if present]
    #[arg(short = 'c', long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not read `.env` from the working directory
    #[arg(long, global = true)]
    pub no_dotenv: bool,
    /// Read revisions from this directory instead of the ones built into the binary
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Allow several heads that no branch label distinguishes (with --dir)
    #[arg(long, global = true)]
    pub allow_multiple_heads: bool,
    /// per-revision (default): each revision commits on its own; all: one transaction for the run
    #[arg(long, global = true, value_name = "MODE")]
    pub transaction_mode: Option<Mode>,
    /// The version table [default: migrator_version]; alembic_version adopts an Alembic database
    #[arg(long, global = true, value_name = "NAME")]
    pub version_table: Option<String>,
    /// Schema of the version and log tables (PostgreSQL; MySQL: database)
    #[arg(long, global = true, value_name = "SCHEMA")]
    pub version_table_schema: Option<String>,
    /// Seconds to wait for another runner's migration lock [default: 60]
    #[arg(long, global = true, value_name = "SECS")]
    pub lock_timeout: Option<u64>,
    /// Fail a statement that waits longer than SECS for a table lock (PostgreSQL, MySQL) [default: the server's]
    #[arg(long, global = true, value_name = "SECS")]
    pub ddl_lock_timeout: Option<u64>,
    /// Cancel a statement that runs longer than SECS (PostgreSQL, MariaDB) [default: the server's]
    #[arg(long, global = true, value_name = "SECS")]
    pub statement_timeout: Option<u64>,
    /// Keep trying a database that refuses connections or is starting, for up to SECS [default: 0]
    #[arg(long, global = true, value_name = "SECS")]
    pub connect_timeout: Option<u64>,
    /// Do not take the migration lock (same as --lock none); concurrent runs are then unsafe
    #[arg(long, global = true, conflicts_with = "lock")]
    pub no_lock: bool,
    /// How runners are serialised: advisory (default), table (a lease row; behind PgBouncer and on CockroachDB), none
    #[arg(long, global = true, value_name = "STRATEGY")]
    pub lock: Option<LockFlag>,
    /// Seconds a --lock table lease lasts without renewal; a crashed holder's lock frees this long after [default: 60]
    #[arg(long, global = true, value_name = "SECS")]
    pub lock_lease: Option<u64>,
    /// The declared schema: a SQL file of CREATE statements; one per dialect, named like schema.postgresql.sql
    #[arg(long, global = true, value_name = "PATH")]
    pub schema: Vec<PathBuf>,
    /// Server for scratch databases, one per dialect [default: the target server; SQLite: in memory]
    #[arg(long, global = true, value_name = "URL")]
    pub dev_url: Vec<String>,
    /// Print read commands' output as JSON
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// `--transaction-mode`, as clap reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Mode {
    /// Each revision commits on its own
    PerRevision,
    /// One transaction for the run
    All,
}

/// `--lock`, as clap reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LockFlag {
    /// PostgreSQL advisory lock, MySQL GET_LOCK, a flock beside a SQLite file
    Advisory,
    /// A lease row in migrator_lock, renewed while the run lasts
    Table,
    /// No lock
    None,
}

impl From<LockFlag> for migrator_core::LockStrategy {
    fn from(l: LockFlag) -> Self {
        match l {
            LockFlag::Advisory => migrator_core::LockStrategy::Advisory,
            LockFlag::Table => migrator_core::LockStrategy::Table,
            LockFlag::None => migrator_core::LockStrategy::None,
        }
    }
}

impl From<Mode> for migrator_core::TransactionMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::PerRevision => migrator_core::TransactionMode::PerRevision,
            Mode::All => migrator_core::TransactionMode::All,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the migrations directory, migrator.toml and (in a Cargo crate) build.rs
    Init {
        /// The migrations directory [default: migrations]
        dir: Option<PathBuf>,
    },
    /// Write a new revision file
    Revision {
        /// The message (also the file name's slug)
        #[arg(short, long)]
        message: String,
        /// The revision to build on: a head, label@head, or base [default: the head]
        #[arg(long, value_name = "REV")]
        head: Option<String>,
        /// Allow --head to name a revision that is not a head (starts a branch)
        #[arg(long)]
        splice: bool,
        /// Branch label(s) for the new revision
        #[arg(long, value_name = "LABEL")]
        branch_label: Vec<String>,
        /// Revisions or branch labels that must be applied first (repeatable)
        #[arg(long, value_name = "REV")]
        depends_on: Vec<String>,
        /// Use this id instead of a random one
        #[arg(long, value_name = "ID")]
        rev_id: Option<String>,
        /// Generate the SQL from the declared schema
        #[arg(long)]
        autogenerate: bool,
        /// With --autogenerate: column TABLE.OLD is column NEW now; renamed in place, rows kept (repeatable)
        #[arg(long, value_name = "TABLE.OLD=NEW", requires = "autogenerate")]
        rename: Vec<migrator_core::schema::Rename>,
    },
    /// Write a merge revision joining REVISIONS (`heads` for all heads)
    Merge {
        /// The revisions to join
        #[arg(required = true)]
        revisions: Vec<String>,
        /// The message
        #[arg(short, long)]
        message: String,
        /// Branch label(s) for the merge
        #[arg(long, value_name = "LABEL")]
        branch_label: Vec<String>,
        /// Use this id instead of a random one
        #[arg(long, value_name = "ID")]
        rev_id: Option<String>,
    },
    /// Open a revision's file in $VISUAL or $EDITOR
    Edit {
        /// A revision id, prefix, or head
        rev: String,
    },
    /// Apply revisions up to TARGET (default: heads)
    Upgrade {
        /// head, heads, a revision id or prefix, label@head, +N, ...
        #[arg(allow_negative_numbers = true)]
        target: Option<String>,
        /// Take the lock, run every check, print the steps, change nothing
        #[arg(long)]
        dry_run: bool,
        /// Print the SQL script instead of connecting (TARGET may be START:END)
        #[arg(long, conflicts_with = "dry_run")]
        sql: bool,
        /// SQLite: copy the database to PATH (a new file) before applying anything
        #[arg(long, value_name = "PATH", conflicts_with_all = ["dry_run", "sql"])]
        backup: Option<PathBuf>,
    },
    /// Revert revisions down to TARGET
    Downgrade {
        /// base, a revision id or prefix, -N, label@base, ...
        #[arg(allow_negative_numbers = true)]
        target: String,
        /// Take the lock, run every check, print the steps, change nothing
        #[arg(long)]
        dry_run: bool,
        /// Print the SQL script instead of connecting (TARGET is START:END)
        #[arg(long, conflicts_with = "dry_run")]
        sql: bool,
        /// SQLite: copy the database to PATH (a new file) before reverting anything
        #[arg(long, value_name = "PATH", conflicts_with_all = ["dry_run", "sql"])]
        backup: Option<PathBuf>,
    },
    /// Move the version rows to REVISIONS without running any SQL
    Stamp {
        /// Target revisions (several for several branches); `base` clears the rows
        #[arg(required = true, allow_negative_numbers = true)]
        revisions: Vec<String>,
        /// Delete every version row first (for a table in a state the graph cannot explain)
        #[arg(long)]
        purge: bool,
        /// Print the SQL script instead of connecting (the first REVISION may be START:REV)
        #[arg(long, conflicts_with = "purge")]
        sql: bool,
    },
    /// Resolve a revision that failed partway (record it as finished or undone),
    /// or accept the changed checksum of an applied revision
    #[command(group = clap::ArgGroup::new("how").required(true).args(["applied", "rolled_back", "accept_checksum"]))]
    Repair {
        /// The revision (may be left out when only one failed partway)
        revision: Option<String>,
        /// You finished its remaining statements by hand: record it as applied
        #[arg(long)]
        applied: bool,
        /// You undid its partial effects by hand: record it as not applied
        #[arg(long)]
        rolled_back: bool,
        /// Its file was changed on purpose after it was applied: record the new checksum
        #[arg(long)]
        accept_checksum: bool,
    },
    /// Every revision and where it stands: applied, pending, modified, unknown, failed, unverified
    Status,
    /// On a scratch database, upgrade, downgrade and upgrade each revision; report the first
    /// whose downgrade does not restore the schema
    Test {
        /// Accept revisions with no down section (they are reported, not tested)
        #[arg(long)]
        allow_irreversible: bool,
        /// Also fill every table with generated rows before each downgrade and fail a revision whose
        /// downgrade (or the upgrade after it) loses rows or changes values
        #[arg(long)]
        with_data: bool,
    },
    /// Exit 1 unless the database is at the heads, unmodified, with no failed revision
    Check,
    /// Show the database's current revision(s) (-v: in full)
    Current {
        /// Fail (exit 1) unless the database is at every head
        #[arg(long)]
        check_heads: bool,
    },
    /// List revisions, newest first (-v: in full)
    History {
        /// START:END, either side empty or `current`
        #[arg(short = 'r', long = "rev-range", value_name = "RANGE", allow_hyphen_values = true)]
        range: Option<String>,
        /// Mark the revisions the database is at with (current)
        #[arg(short = 'i', long)]
        indicate_current: bool,
    },
    /// Show the head revisions (-v: in full)
    Heads {
        /// Leave out heads that another revision depends on
        #[arg(long)]
        resolve_dependencies: bool,
    },
    /// Show the branch points and where they lead (-v: in full)
    Branches,
    /// Show one revision, or `current`
    Show {
        /// A revision id, prefix, head, label@head, or current
        #[arg(allow_negative_numbers = true)]
        rev: String,
    },
}
