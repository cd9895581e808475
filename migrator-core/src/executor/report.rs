//! What a run reports, and how it is asked to run: the types of the
//! library API that carry no connection.

use std::time::Duration;

use crate::{Direction, Graph, Plan, RevisionIndex};

/// How revisions are grouped into transactions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TransactionMode {
    /// One transaction per revision: a failure keeps the revisions before it.
    #[default]
    PerRevision,
    /// One transaction for the whole run: a failure keeps nothing.
    All,
}

impl TransactionMode {
    /// Reads `per-revision` or `all`.
    pub fn from_name(name: &str) -> Option<TransactionMode> {
        match name {
            "per-revision" => Some(TransactionMode::PerRevision),
            "all" => Some(TransactionMode::All),
            _ => None,
        }
    }
}

/// One step of a run: a revision applied or reverted (for a dry run, one
/// that would be; for a repair, the revision resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// The revision id.
    pub revision: String,
    /// Its message.
    pub message: String,
    /// Up or down.
    pub direction: Direction,
    /// How long its SQL and bookkeeping took.
    pub duration: Duration,
    /// Its place in the run, from 1.
    pub position: usize,
    /// How many revisions the run has.
    pub total: usize,
    /// What was recorded instead of running SQL (a repair says how the
    /// revision was resolved); `None` for a step that ran.
    pub note: Option<String>,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The revisions run, in order.
    pub applied: Vec<StepReport>,
    /// The version rows afterwards.
    pub current: Vec<String>,
}

/// How `repair` resolves a revision that failed partway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// The user finished the revision by hand: record it as applied.
    Applied,
    /// The user undid its partial effects: record it as not applied.
    RolledBack,
    /// The revision's file was changed on purpose after it was applied:
    /// record the binary's checksum as the applied one.
    AcceptChecksum,
}

/// Revision ids in file order.
pub(crate) fn ids(graph: &Graph<'_>, rows: impl Iterator<Item = RevisionIndex>) -> Vec<String> {
    let mut v: Vec<RevisionIndex> = rows.collect();
    v.sort_unstable();
    v.into_iter().map(|r| graph.revision(r).id.to_string()).collect()
}

/// The steps of a plan, as a report lists them (nothing ran).
pub(crate) fn planned(plan: &Plan<'_, '_>) -> Vec<StepReport> {
    let graph = plan.graph();
    let total = plan.steps.len();
    plan.steps
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let rev = graph.revision(s.revision);
            StepReport {
                revision: rev.id.to_string(),
                message: rev.message.to_string(),
                direction: s.direction,
                duration: Duration::ZERO,
                position: n + 1,
                total,
                note: None,
            }
        })
        .collect()
}
