//! Upgrade and downgrade plans: which revisions run, in which order, and how
//! each moves the version rows.

use super::heads::{RowChange, RowConflict, StampMove, VersionRows};
use super::resolve::{Place, ResolveError};
use super::topo::reverse_topological;
use super::{Graph, RevisionIndex};
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
    /// The version rows cannot move as the plan needs (they disagree with
    /// the graph, e.g. after a manual stamp).
    #[error(
        "the version rows ({current}) do not fit this {command}: {detail}; nothing was run. \
         Check them with `migrator current`, and fix them with `migrator stamp`"
    )]
    Rows {
        /// `upgrade`, `downgrade` or `stamp`.
        command: &'static str,
        /// The rows before the plan.
        current: String,
        /// What did not fit.
        detail: String,
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

/// What a step does with its revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Runs the revision's SQL (up or down) and moves the rows.
    Run,
    /// Moves the rows only (`stamp`).
    Stamp,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The revision's index in the graph: the one whose SQL runs, or for a
    /// stamp the destination (the removed row when stamping to base).
    pub revision: RevisionIndex,
    /// Up or down.
    pub direction: Direction,
    /// Whether the revision's SQL runs, or only its rows move.
    pub kind: StepKind,
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
    /// The version rows before the first step, in table order.
    pub before: VersionRows,
    /// The version rows after the last step.
    pub after: VersionRows,
}

impl<'g, 'm> Plan<'g, 'm> {
    /// A plan of one step already worked out (for `repair`).
    #[cfg(feature = "runtime")]
    pub(crate) fn single(graph: &'g Graph<'m>, before: &[RevisionIndex], step: Step, after: VersionRows) -> Self {
        Plan {
            graph,
            steps: vec![step],
            before: VersionRows(before.to_vec()),
            after,
        }
    }

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
    /// Alembic's overlap check: a requested revision below another one
    /// requested before it.
    fn check_overlap(&self, targets: &[RevisionIndex]) -> Result<(), ResolveError> {
        let mut seen = vec![false; self.len()];
        for &t in targets {
            let mut reached = Vec::new();
            let mut stack = vec![t];
            while let Some(x) = stack.pop() {
                reached.push(x);
                if std::mem::replace(&mut seen[x], true) {
                    continue;
                }
                stack.extend(self.down(x).iter().copied());
            }
            let overlaps: Vec<RevisionIndex> = targets
                .iter()
                .copied()
                .filter(|&o| o != t && reached.contains(&o))
                .collect();
            if !overlaps.is_empty() {
                return Err(ResolveError::Overlap {
                    revision: self.revision(t).id.to_string(),
                    others: self.ids(overlaps),
                });
            }
        }
        Ok(())
    }

    /// Plans `upgrade <ident>` from the database's rows `current` (in table
    /// order): every ancestor of the target that is not applied, in
    /// Alembic's order. A target at or below the current state gives an
    /// empty plan.
    pub fn plan_upgrade<'g>(
        &'g self,
        current: &[RevisionIndex],
        ident: &str,
        dialect: Dialect,
    ) -> Result<Plan<'g, 'm>, PlanError> {
        let targets = self.upgrade_targets(current, ident)?;
        self.check_overlap(&targets)?;
        self.check_overlap(current)?;
        let required = self.ancestors(&targets, true);
        let applied = self.ancestors(current, true);
        let needs: Vec<bool> = required.iter().zip(&applied).map(|(r, a)| *r && !a).collect();
        let mut order = reverse_topological(self, &needs, &targets);
        order.reverse();
        for &r in &order {
            if self.revision(r).body(Direction::Up, dialect).is_empty() {
                let rev = self.revision(r);
                return Err(PlanError::NoUpgrade {
                    revision: rev.id.to_string(),
                    path: rev.path.to_string(),
                    dialect,
                });
            }
        }
        self.simulate(current, order, Direction::Up, "upgrade")
    }

    /// Plans `downgrade <ident>` from the database's rows `current`: every
    /// applied descendant of the target, newest first.
    pub fn plan_downgrade<'g>(
        &'g self,
        current: &[RevisionIndex],
        ident: &str,
        dialect: Dialect,
    ) -> Result<Plan<'g, 'm>, PlanError> {
        let (target, branch) = self.downgrade_target(current, ident)?;
        let mut roots: Vec<RevisionIndex> = match target {
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
        self.simulate(current, order, Direction::Down, "downgrade")
    }

    /// Plans `stamp <targets...>` (Alembic's `_stamp_revs`): the version
    /// rows move to the targets and no SQL runs. With `purge`, the rows
    /// are cleared first.
    pub fn plan_stamp<'g>(
        &'g self,
        current: &[RevisionIndex],
        targets: &[&str],
        purge: bool,
    ) -> Result<Plan<'g, 'm>, PlanError> {
        let current: &[RevisionIndex] = if purge { &[] } else { current };
        let mut filtered: Vec<RevisionIndex> = Vec::new();
        for t in targets.iter().filter(|t| !t.is_empty()) {
            for h in self.filter_for_lineage(current, t, true)? {
                if !filtered.contains(&h) {
                    filtered.push(h);
                }
            }
        }
        let mut dests: Vec<Place> = Vec::new();
        for t in targets {
            dests.extend(self.get_revisions(t)?);
        }
        if dests.is_empty() {
            dests.push(Place::Nothing);
        }
        let mut moves = Vec::new();
        for dest in dests {
            let dest = match dest {
                Place::Nothing => {
                    moves.extend(filtered.iter().map(|&h| StampMove {
                        from: vec![h],
                        to: None,
                        up: false,
                        branch_move: true,
                    }));
                    continue;
                }
                Place::Base => {
                    return Err(ResolveError::WalkedTooFar {
                        ident: targets.join(" "),
                        edge: "base",
                    }
                    .into());
                }
                Place::Rev(d) => d,
            };
            if filtered.contains(&dest) {
                continue;
            }
            let above = self.descendants(&[dest], true);
            let below = self.ancestors(&[dest], true);
            if filtered.iter().any(|&h| above[h]) {
                // Rows both above and below the target: Alembic asserts
                // this never happens; say so plainly.
                if let Some(&low) = filtered.iter().find(|&&h| below[h]) {
                    let (low, dest) = (&self.revision(low).id, &self.revision(dest).id);
                    return Err(PlanError::Rows {
                        command: "stamp",
                        current: self.current_text(current),
                        detail: format!(
                            "the rows lie both below ({low}) and above {dest}, so there is no single way to move \
                             them; use `migrator stamp --purge {dest}`"
                        ),
                    });
                }
                moves.push(StampMove {
                    from: filtered.clone(),
                    to: Some(dest),
                    up: false,
                    branch_move: false,
                });
            } else if filtered.iter().any(|&h| below[h]) {
                moves.push(StampMove {
                    from: filtered.clone(),
                    to: Some(dest),
                    up: true,
                    branch_move: false,
                });
            } else {
                moves.push(StampMove {
                    from: Vec::new(),
                    to: Some(dest),
                    up: true,
                    branch_move: true,
                });
            }
        }
        let before = VersionRows(current.to_vec());
        let mut rows = before.clone();
        let mut steps = Vec::with_capacity(moves.len());
        for m in &moves {
            let changes = rows
                .stamp(self, m)
                .map_err(|c| self.row_conflict("stamp", current, c))?;
            let revision = m.to.or(m.from.first().copied()).unwrap_or(RevisionIndex::new(0));
            let direction = if m.up { Direction::Up } else { Direction::Down };
            steps.push(Step {
                revision,
                direction,
                kind: StepKind::Stamp,
                rows: changes,
            });
        }
        Ok(Plan {
            graph: self,
            steps,
            before,
            after: rows,
        })
    }

    /// How the version rows move when revision `r` alone goes `direction`
    /// from `current` (a repair, a round-trip test): the changes and the
    /// rows afterwards.
    pub fn move_one(
        &self,
        current: &[RevisionIndex],
        r: RevisionIndex,
        direction: Direction,
        command: &'static str,
    ) -> Result<(Vec<RowChange>, VersionRows), PlanError> {
        let mut rows = VersionRows(current.to_vec());
        let changes = match direction {
            Direction::Up => rows.upgrade(self, r),
            Direction::Down => rows.downgrade(self, r),
        }
        .map_err(|c| self.row_conflict(command, current, c))?;
        Ok((changes, rows))
    }

    fn row_conflict(&self, command: &'static str, current: &[RevisionIndex], c: RowConflict) -> PlanError {
        PlanError::Rows {
            command,
            current: self.current_text(current),
            detail: c.0,
        }
    }

    fn not_below(&self, ident: &str, current: &[RevisionIndex]) -> ResolveError {
        ResolveError::NotBelowCurrent {
            target: ident.to_owned(),
            current: self.current_text(current),
        }
    }

    fn simulate<'g>(
        &'g self,
        current: &[RevisionIndex],
        order: Vec<RevisionIndex>,
        direction: Direction,
        command: &'static str,
    ) -> Result<Plan<'g, 'm>, PlanError> {
        let before = VersionRows(current.to_vec());
        let mut rows = before.clone();
        let mut steps = Vec::with_capacity(order.len());
        for r in order {
            let changes = match direction {
                Direction::Up => rows.upgrade(self, r),
                Direction::Down => rows.downgrade(self, r),
            }
            .map_err(|c| self.row_conflict(command, current, c))?;
            steps.push(Step {
                revision: r,
                direction,
                kind: StepKind::Run,
                rows: changes,
            });
        }
        Ok(Plan {
            graph: self,
            steps,
            before,
            after: rows,
        })
    }
}
