//! The order `history` lists revisions in, and how each is marked.

use super::Graph;
use super::topo::reverse_topological;

impl Graph<'_> {
    /// Every revision, newest first, in Alembic's `history` order.
    pub fn history(&self) -> Vec<usize> {
        reverse_topological(self, &vec![true; self.len()], &self.real_heads_and_heads())
    }

    fn real_heads_and_heads(&self) -> Vec<usize> {
        let mut all: Vec<usize> = self.heads().iter().chain(self.real_heads()).copied().collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// `true` when no revision names `i` in `Revises`.
    pub fn is_head(&self, i: usize) -> bool {
        self.children(i).is_empty()
    }

    /// `true` when several revisions name `i` in `Revises`.
    pub fn is_branch_point(&self, i: usize) -> bool {
        self.children(i).len() > 1
    }

    /// `true` when `i` revises several revisions.
    pub fn is_merge_point(&self, i: usize) -> bool {
        self.parents(i).len() > 1
    }
}
