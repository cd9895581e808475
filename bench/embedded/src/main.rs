//! `migrator` over the history in `$MIGRATOR_BENCH_MIGRATIONS`, embedded at
//! compile time (see bench/bench.py).

static MIGRATIONS: migrator_core::Migrations =
    migrator_macros::embed_migrations!("${MIGRATOR_BENCH_MIGRATIONS}", allow_multiple_heads = true);

fn main() -> std::process::ExitCode {
    migrator_cli::main_with(&MIGRATIONS)
}
