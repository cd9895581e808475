//! What a built graph answers: its revisions, heads, bases, the links of
//! each revision, and the closures (ancestors, descendants) that planning
//! and `status` use.

use super::{Graph, RevisionIndex};
use crate::{Migrations, Revision};

impl<'m> Graph<'m> {
    /// The table this graph was built from.
    pub fn migrations(&self) -> &'m Migrations {
        self.migrations
    }

    /// The number of revisions.
    pub fn len(&self) -> usize {
        self.parents.len()
    }

    /// `true` for an empty history.
    pub fn is_empty(&self) -> bool {
        self.parents.is_empty()
    }

    /// Every revision's index, in file order.
    pub fn indices(&self) -> impl DoubleEndedIterator<Item = RevisionIndex> + ExactSizeIterator + use<> {
        RevisionIndex::all(self.len())
    }

    /// The revision at index `i`.
    pub fn revision(&self, i: RevisionIndex) -> &'m Revision {
        &self.migrations.revisions[i]
    }

    /// The index of the revision with exactly this id.
    pub fn index_of(&self, id: &str) -> Option<RevisionIndex> {
        self.ids.get(id).copied()
    }

    /// The revision carrying `label` itself (not by inheritance).
    pub fn label_owner(&self, label: &str) -> Option<RevisionIndex> {
        self.label_owner.get(label).copied()
    }

    /// Revisions that no revision names in `Revises`, in file order.
    pub fn heads(&self) -> &[RevisionIndex] {
        &self.heads
    }

    /// Heads that no revision names in `Revises` or `Depends On`.
    pub fn real_heads(&self) -> &[RevisionIndex] {
        &self.real_heads
    }

    /// Revisions with an empty `Revises`, in file order.
    pub fn bases(&self) -> &[RevisionIndex] {
        &self.bases
    }

    /// The versioned parents (`Revises`).
    pub fn parents(&self, i: RevisionIndex) -> &[RevisionIndex] {
        &self.parents[i]
    }

    /// The resolved `Depends On`.
    pub fn dependencies(&self, i: RevisionIndex) -> &[RevisionIndex] {
        &self.deps[i]
    }

    /// Parents plus non-redundant dependencies.
    pub fn down(&self, i: RevisionIndex) -> &[RevisionIndex] {
        &self.down[i]
    }

    /// The non-redundant dependencies.
    pub(crate) fn normalized_dependencies(&self, i: RevisionIndex) -> &[RevisionIndex] {
        &self.norm_deps[i]
    }

    /// The versioned children.
    pub fn children(&self, i: RevisionIndex) -> &[RevisionIndex] {
        &self.children[i]
    }

    /// Children through `Revises` or `Depends On`.
    pub fn all_children(&self, i: RevisionIndex) -> &[RevisionIndex] {
        &self.all_children[i]
    }

    /// Branch labels, own and inherited.
    pub fn labels(&self, i: RevisionIndex) -> &[&'m str] {
        &self.labels[i]
    }

    /// `from` and everything below it, as a membership vector; through
    /// dependencies too when `with_deps`.
    pub fn ancestors(&self, from: &[RevisionIndex], with_deps: bool) -> Vec<bool> {
        self.closure(from, |i| {
            if with_deps {
                self.down_or_parents(i, true)
            } else {
                &self.parents[i]
            }
        })
    }

    fn down_or_parents(&self, i: RevisionIndex, with_deps: bool) -> &[RevisionIndex] {
        if with_deps && !self.down.is_empty() {
            &self.down[i]
        } else {
            &self.parents[i]
        }
    }

    /// `from` and everything above it; through dependencies too when
    /// `with_deps`.
    pub fn descendants(&self, from: &[RevisionIndex], with_deps: bool) -> Vec<bool> {
        self.closure(from, |i| {
            if with_deps {
                &self.all_children[i]
            } else {
                &self.children[i]
            }
        })
    }

    fn closure<'a>(&'a self, from: &[RevisionIndex], next: impl Fn(RevisionIndex) -> &'a [RevisionIndex]) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<RevisionIndex> = from.to_vec();
        while let Some(x) = stack.pop() {
            if !std::mem::replace(&mut seen[x], true) {
                stack.extend(next(x).iter().copied().filter(|&y| !seen[y]));
            }
        }
        seen
    }
}
