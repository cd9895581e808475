//! One function per command; `run` dispatches.

mod author;
mod declared;
mod hooks;
mod inspect;
mod migrate;
mod offline;

/// Where the generic binary reads revisions when neither `--dir` nor the
/// config names a directory.
pub(crate) const DEFAULT_DIR: &str = "migrations";

use std::process::ExitCode;

use std::path::PathBuf;

use anyhow::Result;
use migrator_core::{Direction, Graph, Migrations, Migrator, Repair, load_dir};

use crate::UsageError;
use crate::flags::{Command, Flags};
use crate::out::errln;
use crate::settings::{Settings, Verbosity};

/// Runs one command. `embedded` is the history built into a service's
/// binary; the generic `migrator` binary has none and reads a directory.
pub(crate) async fn run(
    flags: Flags,
    embedded: Option<&Migrations>,
    command: &str,
    dotenv: &[(String, String)],
) -> Result<ExitCode> {
    let mut settings = Settings::from_flags(&flags.global, dotenv)?;
    command.clone_into(&mut settings.command);
    if let Some(path) = &settings.config_path
        && settings.verbosity == Verbosity::Verbose
    {
        errln!("using the config file {}", path.display());
    }
    // Authoring works on the files on disk, whatever the binary embeds.
    match &flags.command {
        Command::Init { dir } => return author::init(&settings, dir.as_deref()),
        Command::Revision {
            message,
            head,
            splice,
            branch_label,
            depends_on,
            rev_id,
            autogenerate,
            rename,
        } => {
            let args = author::RevisionArgs {
                message,
                head: head.as_deref(),
                splice: *splice,
                branch_labels: branch_label,
                depends_on,
                rev_id: rev_id.as_deref(),
                sections: Vec::new(),
            };
            if *autogenerate {
                return author::autogenerate(&settings, args, rename).await;
            }
            return author::revision(&settings, args);
        }
        Command::Merge {
            revisions,
            message,
            branch_label,
            rev_id,
        } => {
            return author::merge(&settings, revisions, message, branch_label, rev_id.as_deref());
        }
        Command::Edit { rev } => return author::edit(&settings, rev),
        _ => {}
    }
    // Read commands show a history with several unlabelled heads (that is
    // how a team sees what it must merge); commands that write refuse it.
    let reads_only = matches!(
        flags.command,
        Command::Heads { .. }
            | Command::History { .. }
            | Command::Branches
            | Command::Show { .. }
            | Command::Current { .. }
            | Command::Status
    );
    let allow_multiple_heads = settings.allow_multiple_heads || reads_only;
    let loaded;
    let migrations: &Migrations = match (&settings.dir, embedded) {
        // Verified when the binary was compiled.
        (None, Some(embedded)) => embedded,
        (dir, _) => {
            let dir = dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
            if !dir.is_dir() {
                return Err(UsageError(format!(
                    "no migrations directory at `{}`: this `migrator` reads its revisions from `--dir`, else \
                     `directory` in migrator.toml, else ./migrations. Run `migrator init` to create one, or \
                     point --dir at yours",
                    dir.display()
                ))
                .into());
            }
            loaded = load_dir(&dir, allow_multiple_heads)
                .map_err(|d| migrator_core::Error::from(d.prefixed(&dir.display().to_string())))?;
            &loaded
        }
    };
    let graph = Graph::new(migrations).map_err(migrator_core::Error::from)?;
    match &flags.command {
        Command::Init { .. } | Command::Revision { .. } | Command::Merge { .. } | Command::Edit { .. } => {
            Ok(ExitCode::SUCCESS)
        }
        Command::Upgrade { target, sql: true, .. } => {
            offline::upgrade(&settings, &graph, target.as_deref().unwrap_or("heads"))
        }
        Command::Downgrade { target, sql: true, .. } => offline::downgrade(&settings, &graph, target),
        Command::Stamp {
            revisions, sql: true, ..
        } => offline::stamp(&settings, &graph, revisions),
        Command::Upgrade {
            target,
            dry_run,
            backup,
            ..
        } => {
            settings.backup.clone_from(backup);
            let target = target.as_deref().unwrap_or("heads");
            migrate::run(&settings, &graph, Direction::Up, target, *dry_run).await
        }
        Command::Downgrade {
            target,
            dry_run,
            backup,
            ..
        } => {
            settings.backup.clone_from(backup);
            migrate::run(&settings, &graph, Direction::Down, target, *dry_run).await
        }
        Command::Stamp { revisions, purge, .. } => migrate::stamp(&settings, &graph, revisions, *purge).await,
        Command::Repair {
            revision,
            applied,
            accept_checksum,
            ..
        } => {
            let how = if *applied {
                Repair::Applied
            } else if *accept_checksum {
                Repair::AcceptChecksum
            } else {
                Repair::RolledBack
            };
            migrate::repair(&settings, &graph, revision.as_deref(), how).await
        }
        Command::Status => inspect::status(&settings, &graph).await,
        Command::Test {
            allow_irreversible,
            with_data,
        } => inspect::round_trip(&settings, migrations, *allow_irreversible, *with_data).await,
        Command::Check => inspect::check(&settings, &graph).await,
        Command::Current { check_heads } => inspect::current(&settings, &graph, *check_heads).await,
        Command::History {
            range,
            indicate_current,
        } => inspect::history(&settings, &graph, range.as_deref(), *indicate_current).await,
        Command::Heads { resolve_dependencies } => inspect::heads(&settings, &graph, *resolve_dependencies),
        Command::Branches => inspect::branches(&settings, &graph),
        Command::Show { rev } => inspect::show(&settings, &graph, rev).await,
    }
}

/// Connects for a command that may write, announcing the default database
/// on stderr.
async fn connect<'m>(settings: &Settings, graph: &Graph<'m>) -> Result<migrator_core::Connected<'m>> {
    connect_as(settings, graph, false).await
}

/// Connects for a command that only reads (`current`, `status`, `check`,
/// a dry run): nothing is created or changed, not even a SQLite file.
async fn connect_to_read<'m>(settings: &Settings, graph: &Graph<'m>) -> Result<migrator_core::Connected<'m>> {
    connect_as(settings, graph, true).await
}

async fn connect_as<'m>(
    settings: &Settings,
    graph: &Graph<'m>,
    read_only: bool,
) -> Result<migrator_core::Connected<'m>> {
    if settings.default_url && settings.verbosity > Verbosity::Quiet {
        errln!(
            "using the default database {} (set --database-url or DATABASE_URL to choose another)",
            settings.url
        );
    }
    if let Some(note) = root_sqlite_file(settings)
        && settings.verbosity > Verbosity::Quiet
    {
        errln!("{note}");
    }
    if settings.lock == migrator_core::LockStrategy::None && settings.verbosity > Verbosity::Quiet {
        errln!("running without the migration lock (--lock none): concurrent runners are not serialised");
    }
    // The graph is verified already: the migrator takes a copy rather than
    // building it again.
    let connected = Migrator::with_graph(graph.clone())
        .version_table(&settings.version_table)
        .version_table_schema(settings.version_table_schema.clone())
        .lock_timeout(settings.lock_timeout)
        .connect_timeout(settings.connect_timeout)
        .ddl_lock_timeout(settings.ddl_lock_timeout)
        .statement_timeout(settings.statement_timeout)
        .lock_strategy(settings.lock)
        .lock_lease(settings.lock_lease)
        .transaction_mode(settings.mode)
        .read_only(read_only)
        .backup_to(settings.backup.clone())
        .connect(&settings.raw_url)
        .await?;
    Ok(connected)
}

/// A note for `sqlite:///app.db`, pasted from an alembic.ini where it means
/// `./app.db`: here (as in sqlx) it is `/app.db`, at the root of the file
/// system, which is rarely what was meant.
fn root_sqlite_file(settings: &Settings) -> Option<String> {
    let Some(migrator_core::SqliteTarget::File(path)) = settings.url.sqlite_target() else {
        return None;
    };
    let at_root = path.is_absolute() && path.parent() == Some(std::path::Path::new("/"));
    let name = path.file_name()?.to_string_lossy();
    at_root.then(|| {
        format!(
            "note: {} is the file {} at the root of the file system (sqlx reads three slashes as an absolute path); \
             SQLAlchemy and Alembic read it as ./{name}. For a file in the working directory write \
             sqlite:///./{name} or sqlite://{name}",
            settings.url,
            path.display()
        )
    })
}
