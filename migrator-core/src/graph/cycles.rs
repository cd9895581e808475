//! Finding cycles through `Revises` and `Depends On`, each reported with
//! the revisions on it and their files.

use super::RevisionIndex;
use super::adjacency::Adjacency;
use crate::{Diagnostic, Revision};

/// Finds cycles through `Revises` and `Depends On`. Each cycle is reported
/// once, on the file (of those in the cycle) that sorts last, which is most
/// often the one just edited.
pub(super) fn find_cycles(revs: &[Revision], parents: &Adjacency, deps: &Adjacency) -> Option<Vec<Diagnostic>> {
    let n = revs.len();
    // Kahn's algorithm from the bases up: whatever is never freed is on or
    // above a cycle.
    let mut pending: Vec<usize> = RevisionIndex::all(n)
        .map(|i| parents[i].len() + deps[i].len())
        .collect();
    let mut edges = Vec::with_capacity(n);
    for i in RevisionIndex::all(n) {
        edges.extend(parents[i].iter().chain(&deps[i]).map(|&p| (p, i)));
    }
    let ups = Adjacency::grouped(n, &edges);
    let mut ready: Vec<RevisionIndex> = RevisionIndex::all(n).filter(|&i| pending[i] == 0).collect();
    let mut freed = vec![false; n];
    while let Some(x) = ready.pop() {
        freed[x] = true;
        for &c in &ups[x] {
            pending[c] -= 1;
            if pending[c] == 0 {
                ready.push(c);
            }
        }
    }
    if freed.iter().all(|f| *f) {
        return None;
    }
    // Walk down from each stuck revision through stuck parents until a
    // revision repeats: that stretch is a cycle.
    let mut reported = vec![false; n];
    let mut out = Vec::new();
    for start in RevisionIndex::all(n) {
        if freed[start] || reported[start] {
            continue;
        }
        let mut path = vec![start];
        let mut pos = vec![usize::MAX; n];
        pos[start] = 0;
        let mut x = start;
        let cycle = loop {
            let Some(&next) = parents[x].iter().chain(&deps[x]).find(|&&p| !freed[p]) else {
                break None;
            };
            if pos[next] != usize::MAX {
                break Some(path[pos[next]..].to_vec());
            }
            if reported[next] {
                break None;
            }
            pos[next] = path.len();
            path.push(next);
            x = next;
        };
        for &p in &path {
            reported[p] = true;
        }
        let Some(cycle) = cycle else { continue };
        let Some(&blame) = cycle.iter().max() else { continue };
        let names: Vec<String> = cycle
            .iter()
            .chain(cycle.first())
            .map(|&i| format!("{} ({})", revs[i].id, revs[i].path))
            .collect();
        let r = &revs[blame];
        let line = if r.lines.revises != 0 {
            r.lines.revises
        } else {
            r.lines.depends_on
        };
        out.push(Diagnostic::new(
            r.path.to_string(),
            line.max(1),
            format!(
                "cycle in the revision graph: {} (each revises or depends on the next); remove one of these links",
                names.join(" -> ")
            ),
        ));
    }
    Some(out)
}
