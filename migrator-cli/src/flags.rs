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
    /// Read revisions from this directory instead of the ones built into the binary
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Allow several heads that no branch label distinguishes (with --dir)
    #[arg(long, global = true)]
    pub allow_multiple_heads: bool,
    /// per-revision (default): each revision commits on its own; all: one transaction for the run
    #[arg(long, global = true, value_name = "MODE")]
    pub transaction_mode: Option<String>,
    /// The version table [default: migrator_version]; alembic_version adopts an Alembic database
    #[arg(long, global = true, value_name = "NAME")]
    pub version_table: Option<String>,
    /// Print only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Apply revisions up to TARGET (default: heads)
    Upgrade {
        /// head, heads, a revision id or prefix, label@head, +N, ...
        #[arg(allow_hyphen_values = true)]
        target: Option<String>,
    },
    /// Revert revisions down to TARGET
    Downgrade {
        /// base, a revision id or prefix, -N, label@base, ...
        #[arg(allow_hyphen_values = true)]
        target: String,
    },
    /// Show the database's current revision(s)
    Current,
    /// List revisions, newest first
    History,
    /// Show the head revisions
    Heads,
    /// Show one revision
    Show {
        /// A revision id, prefix, head, or label@head
        #[arg(allow_hyphen_values = true)]
        rev: String,
    },
}
