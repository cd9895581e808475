//! Upgrade and downgrade plans: which revisions run, in which order, and how
//! each moves the version rows.

use super::Graph;
use super::heads::{RowChange, VersionRows};
use super::resolve::ResolveError;
use super::topo::reverse_topological;
use crate::{Dialect, Direction};

/// Why no plan could be made. Nothing has run when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The target does not resolve.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The plan would downgrade through a revision without a down section.
    #[error(
        "revision {revision} ({path}) has no `-- migrate:down` section for {dialect}, so it cannot be downgraded; \
         nothing was run. Add a down section, or stop the downgrade above it"
    )]
    Irreversible {
        /// The revision.
        revision: String,
        /// Its file.
        path: String,
        /// The connected dialect.
        dialect: Dialect,
    },
    /// The plan would upgrade through a revision with no SQL for the
    /// dialect.
    #[error(
        "revision {revision} ({path}) has no `-- migrate:up` section for {dialect}; nothing was run. \
         Add an unqualified `-- migrate:up` section or one marked `{dialect}`"
    )]
    NoUpgrade {
        /// The revision.
        revision: String,
        /// Its file.
        path: String,
        /// The connected dialect.
        dialect: Dialect,
    },
}

/// One revision to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The revision's index in the graph.
    pub revision: usize,
    /// Up or down.
    pub direction: Direction,
    /// How the version rows move when the step commits.
    pub rows: Vec<RowChange>,
}

/// A checked sequence of steps. Built only from a verified [`Graph`] and the
/// database's current rows, so every step's parents and dependencies are in
/// place before it runs.
#[derive(Debug, Clone)]
pub struct Plan<'g, 'm> {
    graph: &'g Graph<'m>,
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
    /// The version rows before the first step.
    pub before: VersionRows,
    /// The version rows after the last step.
    pub after: VersionRows,
}

impl<'g, 'm> Plan<'g, 'm> {
    /// The graph the plan was made from.
    pub fn graph(&self) -> &'g Graph<'m> {
        self.graph
    }

    /// `true` when there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl<'m> Graph<'m> {
    /// Plans `upgrade <ident>` from the database's rows `current`: every
    /// ancestor of the target that is not applied, in Alembic's order.
    /// A target at or below the current state gives an empty plan.
    pub fn plan_upgrade<'g>(
        &'g self,
        current: &[usize],
        ident: &str,
        dialect: Dialect,
    ) -> Result<Plan<'g, 'm>, PlanError> {
        let targets = self.upgrade_targets(current, ident)?;
        for (k, &t) in targets.iter().enumerate() {
            let above: Vec<usize> = targets
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != k)
                .map(|(_, &o)| o)
                .collect();
            if !above.is_empty() && self.ancestors(&above, true)[t] {
                return Err(ResolveError::Overlap {
                    revision: self.revision(t).id.to_string(),
                    others: above
                        .iter()
                        .map(|&o| self.revision(o).id.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                }
                .into());
            }
        }
        let required = self.ancestors(&targets, true);
        let applied = self.ancestors(current, true);
        let needs: Vec<bool> = required.iter().zip(&applied).map(|(r, a)| *r && !a).collect();
        let mut order = reverse_topological(self, &needs, &targets);
        order.reverse();
        for &r in &order {
            if self.revision(r).section(Direction::Up, dialect).is_none() {
                let rev = self.revision(r);
                return Err(PlanError::NoUpgrade {
                    revision: rev.id.to_string(),
                    path: rev.path.to_string(),
                    dialect,
                });
            }
        }
        Ok(self.simulate(current, order, Direction::Up))
    }

    /// Plans `downgrade <ident>` from the database's rows `current`: every
    /// applied descendant of the target, newest first.
    pub fn plan_downgrade<'g>(
        &'g self,
        current: &[usize],
        ident: &str,
        dialect: Dialect,
    ) -> Result<Plan<'g, 'm>, PlanError> {
        let (target, branch) = self.downgrade_target(current, ident)?;
        let mut roots: Vec<usize> = match target {
            None => self.bases().to_vec(),
            Some(t) => self.children(t).to_vec(),
        };
        if let Some(b) = branch
            && roots.len() > 1
        {
            let on_branch = self.ancestors(&[b], false);
            roots.retain(|&r| on_branch[r]);
            if roots.is_empty() {
                return Err(self.not_below(ident, current).into());
            }
        }
        let above = self.descendants(&roots, true);
        let applied = self.ancestors(current, true);
        let drop: Vec<bool> = above.iter().zip(&applied).map(|(a, b)| *a && *b).collect();
        if let Some(t) = target
            && !drop.iter().any(|d| *d)
            && !current.contains(&t)
        {
            return Err(self.not_below(ident, current).into());
        }
        let order = reverse_topological(self, &drop, current);
        for &r in &order {
            let rev = self.revision(r);
            if !rev.is_reversible(dialect) {
                return Err(PlanError::Irreversible {
                    revision: rev.id.to_string(),
                    path: rev.path.to_string(),
                    dialect,
                });
            }
        }
        Ok(self.simulate(current, order, Direction::Down))
    }

    fn not_below(&self, ident: &str, current: &[usize]) -> ResolveError {
        ResolveError::NotBelowCurrent {
            target: ident.to_owned(),
            current: self.current_text(current),
        }
    }

    fn simulate<'g>(&'g self, current: &[usize], order: Vec<usize>, direction: Direction) -> Plan<'g, 'm> {
        let before = VersionRows(current.iter().copied().collect());
        let mut rows = before.clone();
        let steps = order
            .into_iter()
            .map(|r| {
                let changes = match direction {
                    Direction::Up => rows.upgrade(self, r),
                    Direction::Down => rows.downgrade(self, r),
                };
                Step {
                    revision: r,
                    direction,
                    rows: changes,
                }
            })
            .collect();
        Plan {
            graph: self,
            steps,
            before,
            after: rows,
        }
    }
}
