//! The `migrator` command line, as a library so that a service can expose
//! it over its own embedded history:
//!
//! ```rust,no_run
//! // The path is relative to the crate's Cargo.toml (here, this repository's demo history).
//! static MIGRATIONS: migrator_core::Migrations = migrator_macros::embed_migrations!("../migrations");
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
    blocking(std::env::args_os().collect(), None)
}

/// Runs the command line from the process arguments over a service's
/// embedded `migrations` (or the directory `--dir` names), printing
/// errors, and returns the exit code. Callable from a plain `fn main` and
/// from inside a tokio runtime alike (it then runs on a thread of its
/// own); an `async` caller can use [`run`] instead.
pub fn main_with(migrations: &Migrations) -> ExitCode {
    main_from(std::env::args_os(), migrations)
}

/// Runs the command line from `args` (the first is the program name, as
/// advice prints it: `service migrate`) over a service's embedded
/// `migrations`; see [`main_with`].
pub fn main_from<I, T>(args: I, migrations: &Migrations) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    blocking(args.into_iter().map(Into::into).collect(), Some(migrations))
}

/// The command line as an `async fn`, for a service already inside a tokio
/// runtime: `args` as for [`main_from`]; `migrations` is the embedded
/// history (`None`: read the revisions from a directory, as the generic
/// binary does). Nothing is kept between calls and the process
/// environment is never changed (`.env` is read, not loaded).
///
/// ```rust,no_run
/// static MIGRATIONS: migrator_core::Migrations = migrator_core::Migrations::from_static(&[], false);
///
/// #[tokio::main]
/// async fn main() -> std::process::ExitCode {
///     migrator_cli::run(["service migrate", "upgrade", "heads"], Some(&MIGRATIONS)).await
/// }
/// ```
pub async fn run<I, T>(args: I, migrations: Option<&Migrations>) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    out::reset();
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
    // `.env` counts as the environment, as in sqlx-cli, but only for the
    // settings migrator reads: it is read here, never loaded into the
    // process environment.
    let dotenv = if args.iter().any(|a| a == "--no-dotenv") {
        Vec::new()
    } else {
        read_dotenv()
    };
    let flags = match flags::Flags::try_parse_from(args) {
        Ok(f) => f,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let code = match commands::run(flags, migrations, &command, &dotenv).await {
        Ok(code) => code,
        Err(e) => {
            errln!("error: {}", in_terms_of(&message(&e), &command));
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

/// The variables of `./.env`, if there is one (unreadable lines skipped).
fn read_dotenv() -> Vec<(String, String)> {
    match dotenvy::from_path_iter(".env") {
        Ok(iter) => iter.filter_map(Result::ok).collect(),
        Err(_) => Vec::new(),
    }
}

/// [`run`] to its end from synchronous code: on a runtime of its own, on
/// this thread, or on a scoped thread when called from inside a runtime
/// (where blocking on another would panic).
fn blocking(args: Vec<OsString>, migrations: Option<&Migrations>) -> ExitCode {
    let go = move || match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(run(args, migrations)),
        Err(e) => {
            errln!("error: cannot start the async runtime: {e}");
            ExitCode::from(1)
        }
    };
    if tokio::runtime::Handle::try_current().is_err() {
        return go();
    }
    std::thread::scope(|scope| match scope.spawn(go).join() {
        Ok(code) => code,
        Err(_) => {
            errln!("error: the command line's thread stopped unexpectedly");
            ExitCode::from(1)
        }
    })
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
            return match core.kind() {
                migrator_core::ErrorKind::Usage => 2,
                migrator_core::ErrorKind::Failed => 1,
            };
        }
    }
    1
}

/// The error as one paragraph: the command line's own context, then the
/// first migrator error's message, which already summarises its cause
/// (its `source()`, the driver's error, is not printed again).
fn message(e: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in e.chain() {
        parts.push(cause.to_string());
        if cause.is::<migrator_core::Error>() || cause.is::<UsageError>() {
            break;
        }
    }
    parts.join(": ")
}
