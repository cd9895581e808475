//! The revision graph: verification, identifier resolution and planning,
//! all pure (spec §2, §3).

mod adjacency;
mod build;
mod heads;
mod history;
mod plan;
mod resolve;
mod topo;

pub use build::Graph;
pub use heads::{RowChange, VersionRows};
pub use history::RangeEnd;
pub use plan::{Plan, PlanError, Step, StepKind};
pub use resolve::ResolveError;

#[cfg(test)]
mod tests;
