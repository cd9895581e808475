//! migrator-core: the revision file format, the revision graph, identifier
//! resolution and planning (all pure), and the executor that applies plans
//! to a database through sqlx (behind the `runtime` feature and one feature
//! per database: `sqlite` (default), `postgres`, `mysql`).
//!
//! A service embeds its history at compile time and migrates at startup:
//!
//! ```toml
//! [dependencies]
//! migrator-core = { version = "0.1", features = ["postgres"] }
//! migrator-macros = "0.1"
//! ```
//!
//! ```rust,no_run
//! // build.rs (`migrator init` writes it): adding a revision file rebuilds the crate
//! fn main() {
//!     println!("cargo:rerun-if-changed=migrations");
//! }
//! ```
//!
//! ```rust,no_run
//! # use migrator_core::Migrations;
//! # // (migrator-core cannot depend on migrator-macros: a stand-in here.)
//! # macro_rules! embed_migrations { ($path:literal) => { Migrations::from_static(&[], false) } }
//! // migrator_macros::embed_migrations!, with a path relative to the crate's Cargo.toml
//! static MIGRATIONS: Migrations = embed_migrations!("migrations");
//!
//! # async fn startup(url: &str) -> Result<(), migrator_core::Error> {
//! migrator_core::Migrator::new(&MIGRATIONS).connect(url).await?.upgrade("heads").await?;
//! # Ok(())
//! # }
//! ```
//!
//! The upgrade takes the migration lock first, so several replicas can
//! start at once; see `examples/service` in the repository.

// The build.rs example above is a whole file, `fn main` included.
#![allow(clippy::needless_doctest_main)]

pub mod bookkeeping;
mod diagnostic;
mod dialect;
mod digest;
mod format;
mod graph;
pub mod lease;
mod load;
mod offline;
mod packed;
mod pragma;
mod revision;
pub mod schema;
mod split;
mod time;
mod url;
mod verify;

#[cfg(feature = "runtime")]
mod executor;
#[cfg(feature = "runtime")]
pub use executor::{
    Connected, Connection, Error, ErrorKind, Migrator, Repair, Report, RunHooks, StepReport, Target, TransactionMode,
};
#[cfg(feature = "runtime")]
pub use executor::{
    Generated, RoundTrip, RoundTripFailure, Scratch, autogenerate, autogenerate_with_renames, declared_schema,
    history_schema, round_trip, round_trip_with,
};

pub use diagnostic::{Diagnostic, Diagnostics, nearest};
pub use dialect::Dialect;
pub use digest::Digest;
pub use format::{check_branch_label, check_revision_id, checksum, normalize, parse_revision};
pub use graph::{
    Graph, Plan, PlanError, RangeEnd, ResolveError, RevisionIndex, RowChange, Step, StepKind, VersionRows,
};
pub use lease::LockStrategy;
pub use load::{SourceFile, load_dir, parse_sources, read_dir_sources};
pub use offline::offline_script;
pub use packed::pack;
pub use pragma::{FOREIGN_KEYS_OFF, disables_foreign_keys};
pub use revision::{Body, Checksum, Direction, HeaderLines, List, Migrations, Revision, Section, Text, Timeouts};
pub use split::{Statement, split_statements};
pub use time::{now_utc, parse_utc_millis};
pub use url::{DatabaseUrl, SqliteTarget, UrlError, redact};
pub use verify::{
    Operation, Recorded, RevisionState, RevisionStatus, Snapshot, Unfinished, Verified, VerifyError, classify,
    fast_path, verify,
};
