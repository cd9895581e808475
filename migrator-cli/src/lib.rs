//! The `migrator` command line, as a library so that a service can expose
//! it over its own embedded history:
//!
//! ```text
//! static MIGRATIONS: migrator_core::Migrations = migrator_macros::embed_migrations!("migrations");
//!
//! fn main() -> std::process::ExitCode {
//!     migrator_cli::main_with(&MIGRATIONS)
//! }
//! ```
//!
//! Exit codes: 0 success, 1 the operation or check failed, 2 bad usage or
//! configuration.

mod commands;
mod config;
mod flags;
mod out;
mod render;
mod settings;
mod template;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use migrator_core::Migrations;

use crate::out::errln;

/// An error in how the command was called or configured (exit code 2).
#[derive(Debug)]
pub(crate) struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The generic `migrator` command line: it carries no history of its own
/// and reads the revisions from `--dir`, else the config's `directory`,
/// else `./migrations`. Returns the exit code.
pub fn main() -> ExitCode {
    run_from(std::env::args_os(), None)
}

/// Runs the command line from the process arguments over a service's
/// embedded `migrations` (or the directory `--dir` names), printing
/// errors, and returns the exit code.
pub fn main_with(migrations: &Migrations) -> ExitCode {
    main_from(std::env::args_os(), migrations)
}

/// Runs the command line from `args` (the first is the program name) over
/// a service's embedded `migrations`.
pub fn main_from<I, T>(args: I, migrations: &Migrations) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_from(args, Some(migrations))
}

fn run_from<I, T>(args: I, migrations: Option<&Migrations>) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // How the user runs this command line (`migrator`, or a service's
    // `service migrate`), so that advice names the right command.
    let command = args
        .first()
        .map(|a| {
            let a = a.to_string_lossy();
            a.rsplit('/').next().unwrap_or(&a).to_owned()
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "migrator".to_owned());
    // `.env` is read the way sqlx-cli reads it: before the flags, so that
    // DATABASE_URL from it counts as the environment, never overriding it.
    if !args.iter().any(|a| a == "--no-dotenv") {
        let _ = dotenvy::dotenv();
    }
    let flags = match flags::Flags::try_parse_from(args) {
        Ok(f) => f,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            errln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = match runtime.block_on(commands::run(flags, migrations, &command)) {
        Ok(code) => code,
        Err(e) => {
            errln!("error: {}", in_terms_of(&format!("{e:#}"), &command));
            return ExitCode::from(exit_code(&e));
        }
    };
    match out::failure() {
        // The command did its work, but what it printed did not all arrive.
        Some(failure) => {
            errln!("error: {failure}");
            ExitCode::from(1)
        }
        None => code,
    }
}

/// `text` with the commands it advises (`` `migrator repair ...` ``)
/// spelled as this binary is run.
pub(crate) fn in_terms_of(text: &str, command: &str) -> String {
    if command == "migrator" {
        return text.to_owned();
    }
    text.replace("`migrator ", &format!("`{command} "))
}

fn exit_code(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if cause.is::<UsageError>() {
            return 2;
        }
        if let Some(core) = cause.downcast_ref::<migrator_core::Error>() {
            return if core.is_usage() { 2 } else { 1 };
        }
        if cause.is::<migrator_core::Diagnostics>() {
            return 2;
        }
    }
    1
}
