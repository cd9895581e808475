//! How each step moves the version rows, exactly as Alembic's
//! `HeadMaintainer` moves them, including where it refuses.

use super::{Graph, RevisionIndex};

/// One change to the version table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowChange {
    /// `INSERT` a row for this revision.
    Insert(RevisionIndex),
    /// `DELETE` this revision's row.
    Delete(RevisionIndex),
    /// `UPDATE` one revision's row to another revision.
    Update {
        /// The row that is there.
        from: RevisionIndex,
        /// What it becomes.
        to: RevisionIndex,
    },
}

/// The version rows as a plan moves them, in table order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionRows(pub Vec<RevisionIndex>);

/// A version-row change that does not fit the rows: the plan is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowConflict(pub String);

impl VersionRows {
    /// The rows, in table order.
    pub fn iter(&self) -> impl Iterator<Item = RevisionIndex> + '_ {
        self.0.iter().copied()
    }

    /// `true` when `r` has a row.
    pub fn contains(&self, r: RevisionIndex) -> bool {
        self.0.contains(&r)
    }

    fn insert(&mut self, g: &Graph<'_>, r: RevisionIndex, out: &mut Vec<RowChange>) -> Result<(), RowConflict> {
        if self.contains(r) {
            return Err(RowConflict(format!("{} already has a version row", g.revision(r).id)));
        }
        self.0.push(r);
        out.push(RowChange::Insert(r));
        Ok(())
    }

    fn delete(&mut self, g: &Graph<'_>, r: RevisionIndex, out: &mut Vec<RowChange>) -> Result<(), RowConflict> {
        let Some(pos) = self.0.iter().position(|&x| x == r) else {
            return Err(RowConflict(format!(
                "{} has no version row to delete",
                g.revision(r).id
            )));
        };
        self.0.remove(pos);
        out.push(RowChange::Delete(r));
        Ok(())
    }

    fn update(
        &mut self,
        g: &Graph<'_>,
        from: RevisionIndex,
        to: RevisionIndex,
        out: &mut Vec<RowChange>,
    ) -> Result<(), RowConflict> {
        if self.contains(to) {
            return Err(RowConflict(format!("{} already has a version row", g.revision(to).id)));
        }
        let Some(pos) = self.0.iter().position(|&x| x == from) else {
            return Err(RowConflict(format!(
                "{} has no version row to move",
                g.revision(from).id
            )));
        };
        self.0[pos] = to;
        out.push(RowChange::Update { from, to });
        Ok(())
    }

    /// The row changes of upgrading through revision `r`.
    pub(crate) fn upgrade(&mut self, g: &Graph<'_>, r: RevisionIndex) -> Result<Vec<RowChange>, RowConflict> {
        let down = g.down(r);
        let mut out = Vec::new();
        let present = down.iter().filter(|d| self.contains(**d)).count();
        if down.is_empty() || present == 0 {
            // A base, or none of its parents has a row: a new branch.
            self.insert(g, r, &mut out)?;
        } else if down.len() > 1 && present > 1 {
            // A merge: the parents' rows become one. Parents below another
            // remaining row are left alone.
            let others: Vec<RevisionIndex> = self.iter().filter(|h| !down.contains(h)).collect();
            let from: Vec<RevisionIndex> = if others.is_empty() {
                down.to_vec()
            } else {
                let below = g.ancestors(&others, true);
                down.iter().copied().filter(|&d| !below[d]).collect()
            };
            let Some((&last, rest)) = from.split_last() else {
                return Err(RowConflict(format!(
                    "merge {} has no parent row to replace",
                    g.revision(r).id
                )));
            };
            for &d in rest {
                self.delete(g, d, &mut out)?;
            }
            self.update(g, last, r, &mut out)?;
        } else {
            let from = if down.len() == 1 {
                down[0]
            } else {
                match down.iter().copied().find(|d| self.contains(*d)) {
                    Some(d) => d,
                    None => return Err(RowConflict(format!("no parent row of {} to move", g.revision(r).id))),
                }
            };
            self.update(g, from, r, &mut out)?;
        }
        Ok(out)
    }

    /// The row changes of downgrading through revision `r`.
    pub(crate) fn downgrade(&mut self, g: &Graph<'_>, r: RevisionIndex) -> Result<Vec<RowChange>, RowConflict> {
        let down = g.down(r);
        let mut out = Vec::new();
        let present = self.contains(r);
        if present && (down.is_empty() || self.unmerge_targets(g, r).is_empty()) {
            self.delete(g, r, &mut out)?;
        } else if present && down.len() > 1 {
            let to = self.unmerge_targets(g, r);
            let (&last, rest) = to.split_last().unwrap_or((&r, &[]));
            for &t in rest {
                self.insert(g, t, &mut out)?;
            }
            self.update(g, r, last, &mut out)?;
        } else {
            let to = if down.len() == 1 {
                down[0]
            } else {
                let present: Vec<RevisionIndex> = down.iter().copied().filter(|d| self.contains(*d)).collect();
                match present.as_slice() {
                    [one] => *one,
                    _ => return Err(RowConflict(format!("no single row to move {} to", g.revision(r).id))),
                }
            };
            self.update(g, r, to, &mut out)?;
        }
        Ok(out)
    }

    /// The revisions below `r` that need their own row once `r`'s row goes:
    /// those not already below another remaining row.
    fn unmerge_targets(&self, g: &Graph<'_>, r: RevisionIndex) -> Vec<RevisionIndex> {
        let down = g.down(r);
        let others: Vec<RevisionIndex> = self.iter().filter(|&h| h != r).collect();
        if !others.is_empty() {
            let below = g.ancestors(&others, true);
            down.iter().copied().filter(|&d| !below[d]).collect()
        } else {
            let mut below = vec![false; g.len()];
            for &t in down {
                let a = g.ancestors(&[t], true);
                for (i, yes) in g.indices().zip(&a) {
                    if *yes && i != t {
                        below[i] = true;
                    }
                }
            }
            down.iter().copied().filter(|&d| !below[d]).collect()
        }
    }

    /// The row changes of one stamp step (Alembic's `StampStep`).
    pub(crate) fn stamp(&mut self, g: &Graph<'_>, step: &StampMove) -> Result<Vec<RowChange>, RowConflict> {
        let mut out = Vec::new();
        let from_missing = step.from.iter().any(|f| !self.contains(*f));
        let to_missing = step.to.is_some_and(|t| !self.contains(t));
        if !step.up && step.branch_move {
            let [only] = step.from.as_slice() else {
                return Err(RowConflict("a branch delete needs exactly one row".to_owned()));
            };
            self.delete(g, *only, &mut out)?;
        } else if step.up && (step.branch_move || from_missing) && to_missing {
            let Some(to) = step.to else {
                return Err(RowConflict("nothing to stamp".to_owned()));
            };
            self.insert(g, to, &mut out)?;
        } else if step.from.len() > 1 {
            let Some(to) = step.to else {
                return Err(RowConflict("nothing to stamp".to_owned()));
            };
            let (&last, rest) = step.from.split_last().unwrap_or((&to, &[]));
            for &d in rest {
                self.delete(g, d, &mut out)?;
            }
            self.update(g, last, to, &mut out)?;
        } else {
            match (step.from.as_slice(), step.to) {
                ([from], Some(to)) => self.update(g, *from, to, &mut out)?,
                _ => return Err(RowConflict("a stamp update needs one row and one target".to_owned())),
            }
        }
        Ok(out)
    }
}

/// One stamp step: rows `from` become `to` without running SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StampMove {
    pub from: Vec<RevisionIndex>,
    pub to: Option<RevisionIndex>,
    pub up: bool,
    pub branch_move: bool,
}
