//! The order `history` lists revisions in, ranges of it, and how each
//! revision is marked.

use super::resolve::{Place, ResolveError};
use super::topo::reverse_topological;
use super::{Graph, RevisionIndex};

/// One end of a history range.
#[derive(Debug, Clone, Copy)]
pub enum RangeEnd<'a> {
    /// An identifier: `base`, `heads`, an id, `label@head`, ...
    Ident(&'a str),
    /// The database's current rows.
    Current(&'a [RevisionIndex]),
}

impl Graph<'_> {
    /// Every revision, newest first, in Alembic's `history` order.
    pub fn history(&self) -> Vec<RevisionIndex> {
        self.history_range(RangeEnd::Ident("base"), RangeEnd::Ident("heads"))
            .unwrap_or_default()
    }

    /// The revisions from `lower` up to `upper`, both included, newest
    /// first (Alembic's `walk_revisions`). `range` is how the user wrote
    /// it, for messages.
    pub fn history_range(&self, lower: RangeEnd<'_>, upper: RangeEnd<'_>) -> Result<Vec<RevisionIndex>, ResolveError> {
        let lower_revs: Vec<RevisionIndex> = match lower {
            RangeEnd::Current(rows) => rows.to_vec(),
            RangeEnd::Ident(ident) => {
                let mut v = Vec::new();
                for p in self.get_revisions(ident)? {
                    match p {
                        Place::Rev(r) => v.push(r),
                        Place::Base => {}
                        Place::Nothing => {
                            return Err(ResolveError::WalkedTooFar {
                                ident: ident.to_owned(),
                                edge: "base",
                            });
                        }
                    }
                }
                v
            }
        };
        let targets = match upper {
            RangeEnd::Current(rows) => rows.to_vec(),
            RangeEnd::Ident(ident) => self.upgrade_targets(&lower_revs, ident)?,
        };
        let required = self.ancestors(&targets, true);
        if let Some(&outside) = lower_revs.iter().find(|&&l| !required[l]) {
            return Err(ResolveError::RangeNotAncestor {
                range: format!("{}:{}", end_text(lower), end_text(upper)),
                lower: self.revision(outside).id.to_string(),
                upper: self.current_text(&targets),
            });
        }
        let mut needs = required;
        if !lower_revs.is_empty() {
            let up = self.descendants(&lower_revs, false);
            for (i, n) in needs.iter_mut().enumerate() {
                *n = *n && up[i];
            }
        }
        Ok(reverse_topological(self, &needs, &targets))
    }

    /// `true` when no revision names `i` in `Revises`.
    pub fn is_head(&self, i: RevisionIndex) -> bool {
        self.children(i).is_empty()
    }

    /// `true` when no revision names `i` in `Revises` or `Depends On`.
    pub fn is_real_head(&self, i: RevisionIndex) -> bool {
        self.all_children(i).is_empty()
    }

    /// `true` when several revisions name `i` in `Revises`.
    pub fn is_branch_point(&self, i: RevisionIndex) -> bool {
        self.children(i).len() > 1
    }

    /// `true` when `i` revises several revisions.
    pub fn is_merge_point(&self, i: RevisionIndex) -> bool {
        self.parents(i).len() > 1
    }

    /// The current rows and everything they imply, reduced to the tip of
    /// each branch: what `current` lists (Alembic's `get_all_current`).
    pub fn all_current(&self, rows: &[RevisionIndex]) -> Vec<RevisionIndex> {
        // The set is closed downwards, so a revision has a versioned
        // descendant in it exactly when one of its children is in it.
        let all = self.ancestors(rows, true);
        self.indices()
            .filter(|&i| all[i] && !self.children(i).iter().any(|&c| all[c]))
            .collect()
    }
}

fn end_text(end: RangeEnd<'_>) -> String {
    match end {
        RangeEnd::Ident(s) => s.to_owned(),
        RangeEnd::Current(_) => "current".to_owned(),
    }
}
