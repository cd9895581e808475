//! The `migrator` binary: the command line over the demo history in the
//! workspace's `migrations/` (or any directory, with `--dir`).

static MIGRATIONS: migrator_core::Migrations = migrator_macros::embed_migrations!("../migrations");

fn main() -> std::process::ExitCode {
    migrator_cli::main_with(&MIGRATIONS)
}
