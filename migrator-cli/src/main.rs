//! The generic `migrator` binary. It carries no history: it reads the
//! revisions from `--dir`, else the config's `directory`, else
//! `./migrations`, as Alembic and sqlx-cli do. A service that embeds its
//! history builds its own binary around `migrator_cli::main_with`.

fn main() -> std::process::ExitCode {
    migrator_cli::main()
}
