//! [`RevisionIndex`]: how the graph names a revision.

use std::fmt;
use std::ops::{Index, IndexMut};

/// A revision's place in its [`Graph`](super::Graph): the position of its
/// file in the revision table, which is sorted by file name. Only the
/// graph hands these out, so an index always names a revision of the
/// graph it came from. Vectors and slices with one entry per revision
/// (such as [`Graph::ancestors`](super::Graph::ancestors)) are indexed by
/// it directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RevisionIndex(usize);

impl RevisionIndex {
    /// The index at `position` in the revision table.
    pub(crate) const fn new(position: usize) -> Self {
        RevisionIndex(position)
    }

    /// The position in the revision table
    /// ([`Migrations::revisions`](crate::Migrations::revisions)).
    pub const fn get(self) -> usize {
        self.0
    }

    /// Every index of a table of `n` revisions, in file order.
    pub(crate) fn all(n: usize) -> impl DoubleEndedIterator<Item = RevisionIndex> + ExactSizeIterator {
        (0..n).map(RevisionIndex)
    }
}

impl fmt::Display for RevisionIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T> Index<RevisionIndex> for [T] {
    type Output = T;

    fn index(&self, i: RevisionIndex) -> &T {
        &self[i.0]
    }
}

impl<T> IndexMut<RevisionIndex> for [T] {
    fn index_mut(&mut self, i: RevisionIndex) -> &mut T {
        &mut self[i.0]
    }
}

impl<T> Index<RevisionIndex> for Vec<T> {
    type Output = T;

    fn index(&self, i: RevisionIndex) -> &T {
        &self[i.0]
    }
}

impl<T> IndexMut<RevisionIndex> for Vec<T> {
    fn index_mut(&mut self, i: RevisionIndex) -> &mut T {
        &mut self[i.0]
    }
}
