//! How each step moves the version rows, exactly as Alembic's
//! `HeadMaintainer` moves them.

use std::collections::BTreeSet;

use super::Graph;

/// One change to the version table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowChange {
    /// `INSERT` a row for this revision.
    Insert(usize),
    /// `DELETE` this revision's row.
    Delete(usize),
    /// `UPDATE` one revision's row to another revision.
    Update {
        /// The row that is there.
        from: usize,
        /// What it becomes.
        to: usize,
    },
}

/// The version rows as a plan moves them: the set of revision indices that
/// have a row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionRows(pub BTreeSet<usize>);

impl VersionRows {
    /// The rows, in file order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().copied()
    }

    fn apply(&mut self, changes: &[RowChange]) {
        for c in changes {
            match *c {
                RowChange::Insert(r) => {
                    self.0.insert(r);
                }
                RowChange::Delete(r) => {
                    self.0.remove(&r);
                }
                RowChange::Update { from, to } => {
                    self.0.remove(&from);
                    self.0.insert(to);
                }
            }
        }
    }

    /// The row changes of upgrading through revision `r`, applied to `self`.
    pub(crate) fn upgrade(&mut self, graph: &Graph<'_>, r: usize) -> Vec<RowChange> {
        let down = graph.down(r);
        let present: Vec<usize> = down.iter().copied().filter(|d| self.0.contains(d)).collect();
        let changes = if present.is_empty() {
            // A base, or none of its parents has a row: a new branch.
            vec![RowChange::Insert(r)]
        } else if down.len() > 1 && present.len() > 1 {
            // A merge: the parents' rows become one.
            let others: Vec<usize> = self.iter().filter(|h| !down.contains(h)).collect();
            let below = graph.ancestors(&others, true);
            let from: Vec<usize> = present
                .iter()
                .copied()
                .filter(|&d| others.is_empty() || !below[d])
                .collect();
            match from.split_last() {
                Some((&last, rest)) => {
                    let mut c: Vec<RowChange> = rest.iter().map(|&d| RowChange::Delete(d)).collect();
                    c.push(RowChange::Update { from: last, to: r });
                    c
                }
                None => vec![RowChange::Insert(r)],
            }
        } else {
            vec![RowChange::Update {
                from: present[0],
                to: r,
            }]
        };
        self.apply(&changes);
        changes
    }

    /// The row changes of downgrading through revision `r`, applied to
    /// `self`.
    pub(crate) fn downgrade(&mut self, graph: &Graph<'_>, r: usize) -> Vec<RowChange> {
        let down = graph.down(r);
        let changes = if !self.0.contains(&r) {
            // Reached only as a dependency of what stays: its row went to a
            // revision above it, so there is nothing to move.
            Vec::new()
        } else {
            let to = self.unmerge_targets(graph, r);
            if down.is_empty() || to.is_empty() {
                vec![RowChange::Delete(r)]
            } else if down.len() > 1 {
                let (&last, rest) = to.split_last().unwrap_or((&r, &[]));
                let mut c: Vec<RowChange> = rest.iter().map(|&t| RowChange::Insert(t)).collect();
                c.push(RowChange::Update { from: r, to: last });
                c
            } else {
                vec![RowChange::Update { from: r, to: down[0] }]
            }
        };
        self.apply(&changes);
        changes
    }

    /// The revisions below `r` that need their own row once `r`'s row goes:
    /// those not already below another remaining row.
    fn unmerge_targets(&self, graph: &Graph<'_>, r: usize) -> Vec<usize> {
        let down = graph.down(r);
        let others: Vec<usize> = self.iter().filter(|&h| h != r).collect();
        if !others.is_empty() {
            let below = graph.ancestors(&others, true);
            down.iter().copied().filter(|&d| !below[d]).collect()
        } else {
            down.iter()
                .copied()
                .filter(|&d| !down.iter().any(|&o| o != d && graph.ancestors(&[o], true)[d]))
                .collect()
        }
    }
}
