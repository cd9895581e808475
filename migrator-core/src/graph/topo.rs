//! Alembic's topological order, which decides which branch runs first when
//! several could.

use super::{Graph, RevisionIndex};

/// The revisions in `todo`, descendants before ancestors, walking down from
/// `heads` branch by branch the way Alembic's `_topological_sort` does: stay
/// on the current branch until another pending branch still needs the next
/// revision, then switch to that branch. Heads are taken in file order.
///
/// An upgrade runs the reverse of this order; a downgrade runs it as is.
pub(crate) fn reverse_topological(graph: &Graph<'_>, todo: &[bool], heads: &[RevisionIndex]) -> Vec<RevisionIndex> {
    let mut todo = todo.to_vec();
    let mut current: Vec<RevisionIndex> = heads.iter().copied().filter(|&h| todo[h]).collect();
    current.sort_unstable();
    current.dedup();
    let mut ancestors: Vec<Vec<bool>> = current.iter().map(|&h| graph.ancestors(&[h], true)).collect();
    let mut output = Vec::new();
    let mut idx = 0;
    while !current.is_empty() {
        let candidate = current[idx];
        if let Some(k) = (0..ancestors.len()).find(|&k| k != idx && ancestors[k][candidate]) {
            // Another branch still needs this revision: walk that one first.
            idx = k;
            continue;
        }
        if todo[candidate] {
            output.push(candidate);
            todo[candidate] = false;
        }
        let next: Vec<RevisionIndex> = graph
            .down(candidate)
            .iter()
            .copied()
            .filter(|&r| todo[r] && !current.contains(&r))
            .collect();
        match next.split_first() {
            None => {
                current.remove(idx);
                ancestors.remove(idx);
                idx = idx.saturating_sub(1);
            }
            Some((&first, rest)) => {
                let plain = graph.normalized_dependencies(candidate).is_empty() && graph.parents(candidate).len() == 1;
                current[idx] = first;
                if plain {
                    ancestors[idx][candidate] = false;
                } else {
                    ancestors[idx] = graph.ancestors(&[first], true);
                    for &r in rest {
                        current.push(r);
                        ancestors.push(graph.ancestors(&[r], true));
                    }
                }
            }
        }
    }
    output
}
