//! Validated settings: flags and environment resolved into what the
//! commands use, with every check done once, up front.

use std::path::PathBuf;

use migrator_core::{DatabaseUrl, TransactionMode, bookkeeping};

use crate::UsageError;
use crate::config::Config;
use crate::flags::Global;

/// The database URL used when none is given.
pub(crate) const DEFAULT_URL: &str = "sqlite://migrator.db";

/// The longest `--lock-timeout` (a day): SQLite's busy timeout, which it
/// also sets, holds at most about 24 days in milliseconds.
const MAX_LOCK_TIMEOUT: u64 = 86_400;

/// How much to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// The hook commands of `migrator.toml` (see `commands::hooks`).
#[derive(Debug, Default, Clone)]
pub(crate) struct HookCommands {
    pub before_upgrade: Option<String>,
    pub after_upgrade: Option<String>,
    pub on_failure: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Settings {
    /// The URL as given (may hold a password: never print it, print `url`).
    pub raw_url: String,
    pub url: DatabaseUrl,
    /// `true` when the URL is the default one.
    pub default_url: bool,
    pub dir: Option<PathBuf>,
    pub allow_multiple_heads: bool,
    pub mode: TransactionMode,
    pub version_table: String,
    pub verbosity: Verbosity,
    /// Read commands print JSON.
    pub json: bool,
    pub version_table_schema: Option<String>,
    pub lock_timeout: std::time::Duration,
    /// How long to keep trying a database that is not up yet.
    pub connect_timeout: std::time::Duration,
    /// How long a statement may wait for a table lock.
    pub ddl_lock_timeout: Option<std::time::Duration>,
    /// How long a statement may run.
    pub statement_timeout: Option<std::time::Duration>,
    pub lock: migrator_core::LockStrategy,
    /// How long a `table` lock's lease lasts without renewal.
    pub lock_lease: std::time::Duration,
    /// Where authoring commands write revision files.
    pub authoring_dir: PathBuf,
    pub file_template: Option<String>,
    pub truncate_slug_length: Option<usize>,
    pub timezone: Option<String>,
    /// The declared schema files, at most one per dialect (autogenerate,
    /// drift).
    pub schema: Vec<PathBuf>,
    /// The server for scratch databases.
    pub dev_url: Vec<String>,
    /// The config file read, if any.
    pub config_path: Option<PathBuf>,
    /// Hook commands from the config file.
    pub hooks: HookCommands,
    /// `--backup PATH`: a SQLite copy before a run applies anything.
    pub backup: Option<PathBuf>,
    /// How the user runs this command line (`migrator`, `service
    /// migrate`), for advice that names a command.
    pub command: String,
}

impl Settings {
    /// Flags first, then the environment (clap reads `DATABASE_URL`),
    /// then the config file, then the defaults.
    /// `dotenv` holds the variables of `./.env`, which count as the
    /// environment where the real environment lacks them.
    pub(crate) fn from_flags(g: &Global, dotenv: &[(String, String)]) -> Result<Settings, UsageError> {
        let config = Config::load(g.config.as_deref())?;
        // An empty URL is a missing secret, never a reason to fall back to
        // the default database.
        let env_is_empty = std::env::var_os("DATABASE_URL").is_some_and(|v| v.to_string_lossy().trim().is_empty());
        let from_dotenv = match std::env::var_os("DATABASE_URL") {
            Some(_) => None,
            None => dotenv
                .iter()
                .rev()
                .find(|(k, _)| k == "DATABASE_URL")
                .map(|(_, v)| v.as_str()),
        };
        let flag_or_env = g.database_url.as_deref().or(from_dotenv);
        let (raw_url, default_url) = match (flag_or_env, config.database_url.as_deref()) {
            (Some(u), _) | (None, Some(u)) if u.trim().is_empty() => return Err(empty_url()),
            (None, _) if env_is_empty => return Err(empty_url()),
            (Some(u), _) | (None, Some(u)) => (u.trim().to_owned(), false),
            (None, None) => (DEFAULT_URL.to_owned(), true),
        };
        let url = DatabaseUrl::parse(&raw_url).map_err(|e| UsageError(e.to_string()))?;
        let mode = match (g.transaction_mode, config.transaction_mode.as_deref()) {
            (Some(m), _) => m.into(),
            (None, None) => TransactionMode::default(),
            (None, Some(m)) => TransactionMode::from_name(m).ok_or_else(|| {
                UsageError(format!(
                    "unknown transaction mode `{m}` in the config file; use `per-revision` or `all`"
                ))
            })?,
        };
        let version_table = g
            .version_table
            .clone()
            .or(config.version_table.clone())
            .unwrap_or_else(|| bookkeeping::DEFAULT_VERSION_TABLE.to_owned());
        bookkeeping::check_identifier(&version_table).map_err(|e| UsageError(format!("version table: {e}")))?;
        // Checked here once, for online runs and offline scripts alike.
        let version_table_schema = g.version_table_schema.clone().or(config.version_table_schema.clone());
        if let Some(schema) = &version_table_schema {
            bookkeeping::check_schema(schema).map_err(|e| UsageError(format!("version table schema: {e}")))?;
        }
        let verbosity = if g.quiet {
            Verbosity::Quiet
        } else if g.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        let dir = g.dir.clone().or(config.directory.clone());
        let lock_timeout = g.lock_timeout.or(config.lock_timeout).unwrap_or(60);
        if lock_timeout > MAX_LOCK_TIMEOUT {
            return Err(UsageError(format!(
                "a lock timeout of {lock_timeout} s is more than a day ({MAX_LOCK_TIMEOUT} s); give a shorter one"
            )));
        }
        let lock_timeout = std::time::Duration::from_secs(lock_timeout);
        let connect_timeout = g.connect_timeout.or(config.connect_timeout).unwrap_or(0);
        if connect_timeout > MAX_LOCK_TIMEOUT {
            return Err(UsageError(format!(
                "a connect timeout of {connect_timeout} s is more than a day ({MAX_LOCK_TIMEOUT} s); give a shorter one"
            )));
        }
        let connect_timeout = std::time::Duration::from_secs(connect_timeout);
        let ddl_lock_timeout = g.ddl_lock_timeout.or(config.ddl_lock_timeout);
        if ddl_lock_timeout.is_some_and(|t| t == 0 || t > MAX_LOCK_TIMEOUT) {
            return Err(UsageError(
                "--ddl-lock-timeout takes 1 to 86400 seconds (leave it out for the server's own)".to_owned(),
            ));
        }
        let ddl_lock_timeout = ddl_lock_timeout.map(std::time::Duration::from_secs);
        let statement_timeout = g.statement_timeout.or(config.statement_timeout);
        if statement_timeout.is_some_and(|t| t == 0 || t > MAX_LOCK_TIMEOUT) {
            return Err(UsageError(
                "--statement-timeout takes 1 to 86400 seconds (leave it out for the server's own)".to_owned(),
            ));
        }
        let statement_timeout = statement_timeout.map(std::time::Duration::from_secs);
        let lock = match (g.no_lock, g.lock) {
            (true, _) => migrator_core::LockStrategy::None,
            (false, Some(flag)) => flag.into(),
            (false, None) => config.lock.unwrap_or_default(),
        };
        let lock_lease = g.lock_lease.or(config.lock_lease).unwrap_or(60);
        if !(1..=MAX_LOCK_TIMEOUT).contains(&lock_lease) {
            return Err(UsageError("--lock-lease takes 1 to 86400 seconds".to_owned()));
        }
        let lock_lease = std::time::Duration::from_secs(lock_lease);
        Ok(Settings {
            raw_url,
            url,
            default_url,
            authoring_dir: dir.clone().unwrap_or_else(|| PathBuf::from("migrations")),
            dir,
            allow_multiple_heads: g.allow_multiple_heads || config.allow_multiple_heads.unwrap_or(false),
            mode,
            version_table,
            verbosity,
            json: g.json,
            version_table_schema,
            lock_timeout,
            connect_timeout,
            ddl_lock_timeout,
            statement_timeout,
            lock,
            lock_lease,
            file_template: config.file_template.clone(),
            truncate_slug_length: config.truncate_slug_length,
            timezone: config.timezone.clone(),
            schema: if g.schema.is_empty() {
                config.schema.clone()
            } else {
                g.schema.clone()
            },
            dev_url: if g.dev_url.is_empty() {
                config.dev_url.clone()
            } else {
                g.dev_url.clone()
            },
            config_path: config.path.clone(),
            command: "migrator".to_owned(),
            hooks: HookCommands {
                before_upgrade: config.before_upgrade.clone(),
                after_upgrade: config.after_upgrade.clone(),
                on_failure: config.on_failure.clone(),
            },
            backup: None,
        })
    }
}

fn empty_url() -> UsageError {
    UsageError(
        "the database URL is empty (from -d/--database-url, DATABASE_URL or `database_url` in the config): a \
         missing secret? Set it to the database to migrate; to use the default sqlite://migrator.db, unset \
         DATABASE_URL instead of leaving it empty"
            .to_owned(),
    )
}
