//! The `migrator` binary as users run it, in one test binary: its output
//! and exit codes (`cli`), autogenerate and `migrator test` on every
//! database (`autogenerate`), and several processes at once or killed
//! mid-revision (`processes`), and the
//! `table` lock's leases (`leases`), and PostgreSQL's client environment
//! (`libpq_env`).

mod autogenerate;
mod cli;
#[macro_use]
mod processes;
mod leases;
mod libpq_env;
