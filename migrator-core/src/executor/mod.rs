//! Applying plans to a database through sqlx: the only part of
//! migrator-core that does I/O against a database.

mod connected;
mod connection;
mod db;
mod error;
mod failure;
mod foreign_keys;
mod hooks;
mod introspect;
mod introspect_objects;
mod lease;
mod lock;
mod migrator;
mod repair;
mod report;
mod retry;
mod run;
mod sample_rows;
mod scratch;
mod server;
#[cfg(feature = "sqlite")]
mod sqlite_exec;
mod state;
mod statements;
mod step;
mod timeouts;

pub use connected::Connected;
pub use connection::Connection;
pub use error::{Error, ErrorKind};
pub use hooks::RunHooks;
pub use migrator::Migrator;
pub use report::{Repair, Report, StepReport, TransactionMode};
pub use scratch::{
    Generated, RoundTrip, RoundTripFailure, Scratch, autogenerate, autogenerate_with_renames, declared_schema,
    history_schema, round_trip, round_trip_with,
};
pub use server::Target;
