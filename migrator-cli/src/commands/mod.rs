//! One function per command; `run` dispatches.

mod inspect;
mod migrate;

use std::process::ExitCode;

use anyhow::Result;
use migrator_core::{Graph, Migrations, Migrator, load_dir};

use crate::UsageError;
use crate::flags::{Command, Flags};
use crate::settings::{Settings, Verbosity};

pub(crate) async fn run(flags: Flags, embedded: &Migrations) -> Result<ExitCode> {
    let settings = Settings::from_flags(&flags.global)?;
    let loaded;
    let migrations: &Migrations = match &settings.dir {
        Some(dir) => {
            loaded =
                load_dir(dir, settings.allow_multiple_heads).map_err(|d| d.prefixed(&dir.display().to_string()))?;
            &loaded
        }
        None => embedded,
    };
    let graph = Graph::new(migrations)?;
    match &flags.command {
        Command::Upgrade { target } => {
            migrate::upgrade(&settings, migrations, target.as_deref().unwrap_or("heads")).await
        }
        Command::Downgrade { target } => migrate::downgrade(&settings, migrations, target).await,
        Command::Current => inspect::current(&settings, migrations).await,
        Command::History => inspect::history(&graph),
        Command::Heads => inspect::heads(&graph, settings.verbosity),
        Command::Show { rev } => inspect::show(&graph, rev),
    }
}

/// Connects, announcing the default database on stderr.
async fn connect<'m>(settings: &Settings, migrations: &'m Migrations) -> Result<migrator_core::Connected<'m>> {
    if settings.default_url && settings.verbosity > Verbosity::Quiet {
        eprintln!(
            "using the default database {} (set --database-url or DATABASE_URL to choose another)",
            settings.url
        );
    }
    let connected = Migrator::new(migrations)
        .version_table(&settings.version_table)
        .transaction_mode(settings.mode)
        .connect(&settings.raw_url)
        .await?;
    Ok(connected)
}

fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}
