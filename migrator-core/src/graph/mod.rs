//! The revision graph: verification, identifier resolution and planning,
//! all pure (spec §2, §3).

mod adjacency;
mod build;
mod cycles;
mod heads;
mod history;
mod index;
mod plan;
mod queries;
mod resolve;
mod targets;
mod topo;

pub use build::Graph;
pub use heads::{RowChange, VersionRows};
pub use history::RangeEnd;
pub use index::RevisionIndex;
pub use plan::{Plan, PlanError, Step, StepKind};
pub use resolve::ResolveError;

#[cfg(test)]
mod tests;
