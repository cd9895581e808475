//! Flat adjacency lists and the id map's hasher: what keeps building a graph
//! of 100,000 revisions to a handful of allocations instead of several per
//! revision.

use std::collections::HashMap;
use std::ops::Index;

use super::RevisionIndex;

/// One list of revision indices per revision, stored in one vector.
/// Lists are written in revision order: push a list's items, then `close`.
#[derive(Debug, Default, Clone)]
pub(super) struct Adjacency {
    /// `starts[i]..starts[i + 1]` is list `i`; one more entry than lists.
    starts: Vec<usize>,
    items: Vec<RevisionIndex>,
}

impl Adjacency {
    pub(super) fn with_capacity(lists: usize, items: usize) -> Self {
        let mut starts = Vec::with_capacity(lists + 1);
        starts.push(0);
        Adjacency {
            starts,
            items: Vec::with_capacity(items),
        }
    }

    /// Appends `x` to the list being written unless it holds it already.
    pub(super) fn push_unique(&mut self, x: RevisionIndex) {
        if !self.open().contains(&x) {
            self.items.push(x);
        }
    }

    /// The list being written.
    pub(super) fn open(&self) -> &[RevisionIndex] {
        let start = self.starts.last().copied().unwrap_or(0);
        &self.items[start..]
    }

    /// Ends the list being written; the next push starts the next one.
    pub(super) fn close(&mut self) {
        if self.starts.is_empty() {
            self.starts.push(0);
        }
        self.starts.push(self.items.len());
    }

    /// `lists` lists, list `t` holding every `x` of the pairs `(t, x)` in
    /// the order given (a counting sort).
    pub(super) fn grouped(lists: usize, pairs: &[(RevisionIndex, RevisionIndex)]) -> Self {
        let mut starts = vec![0; lists + 1];
        for &(t, _) in pairs {
            starts[t.get() + 1] += 1;
        }
        for i in 0..lists {
            starts[i + 1] += starts[i];
        }
        let mut cursor = starts.clone();
        let mut items = vec![RevisionIndex::new(0); pairs.len()];
        for &(t, x) in pairs {
            items[cursor[t.get()]] = x;
            cursor[t.get()] += 1;
        }
        Adjacency { starts, items }
    }

    /// The number of closed lists.
    pub(super) fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Index<RevisionIndex> for Adjacency {
    type Output = [RevisionIndex];

    fn index(&self, i: RevisionIndex) -> &[RevisionIndex] {
        &self.items[self.starts[i.get()]..self.starts[i.get() + 1]]
    }
}

/// The id and label maps. Keys are the history's own ids, not hostile
/// input, so foldhash's fast hasher (with a fixed seed: the same layout on
/// every run) replaces SipHash. Ids that differ only in their last
/// characters (`r000001`, `r000002`, ...) must spread over the buckets;
/// a test below holds it to that.
pub(super) type IdMap<'m> = HashMap<&'m str, RevisionIndex, foldhash::fast::FixedState>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_written_in_order_and_grouped_agree() {
        let r = RevisionIndex::new;
        let list = |a: &Adjacency, i| a[r(i)].iter().map(|x| x.get()).collect::<Vec<_>>();
        let mut a = Adjacency::with_capacity(3, 4);
        a.push_unique(r(2));
        a.push_unique(r(2));
        a.push_unique(r(1));
        a.close();
        a.close();
        a.push_unique(r(0));
        a.close();
        assert_eq!(a.len(), 3);
        assert_eq!((list(&a, 0), list(&a, 1), list(&a, 2)), (vec![2, 1], vec![], vec![0]));
        let g = Adjacency::grouped(3, &[(r(2), r(5)), (r(0), r(1)), (r(2), r(3)), (r(0), r(4))]);
        assert_eq!(
            (list(&g, 0), list(&g, 1), list(&g, 2)),
            (vec![1, 4], vec![], vec![5, 3])
        );
        assert!(Adjacency::default().is_empty());
    }

    #[test]
    fn the_id_map_finds_what_it_holds() {
        let ids: Vec<String> = (0..1000).map(|i| format!("r{i:06}")).collect();
        let mut map = IdMap::default();
        for (i, id) in ids.iter().enumerate() {
            map.insert(id, RevisionIndex::new(i));
        }
        assert!(
            ids.iter()
                .enumerate()
                .all(|(i, id)| map.get(id.as_str()) == Some(&RevisionIndex::new(i)))
        );
        assert_eq!(map.get("r1000000"), None);
    }

    /// The bucket of an entry is picked by the low bits of its hash: ids
    /// that differ only in their last characters must still spread over
    /// them, or lookups degrade to long probe sequences.
    #[test]
    fn sequential_ids_spread_over_the_low_bits() {
        use std::hash::BuildHasher;
        let build = foldhash::fast::FixedState::default();
        let n = 1 << 16;
        let mut buckets: Vec<u64> = (0..n)
            .map(|i| build.hash_one(format!("r{i:06}").as_str()) & (n as u64 - 1))
            .collect();
        buckets.sort_unstable();
        buckets.dedup();
        // Random hashes fill about 1 - 1/e (63%) of the buckets.
        assert!(buckets.len() > n / 2, "{} of {n} buckets used", buckets.len());
    }
}
