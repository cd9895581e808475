//! Building and verifying the graph from a revision table.

use super::RevisionIndex;
use super::adjacency::{Adjacency, IdMap};
use crate::diagnostic::nearest;
use crate::{Diagnostic, Diagnostics, Migrations, Revision};

/// A verified revision graph. The only way to get one is [`Graph::new`],
/// which rejects broken histories, so everything downstream (resolution,
/// planning) may assume a DAG with resolvable references.
///
/// Revisions are addressed by their index in the table, which is sorted by
/// file name; that order breaks every tie.
#[derive(Debug, Clone)]
pub struct Graph<'m> {
    pub(super) migrations: &'m Migrations,
    pub(super) ids: IdMap<'m>,
    pub(super) label_owner: IdMap<'m>,
    /// `Revises`, resolved.
    pub(super) parents: Adjacency,
    /// `Depends On`, resolved to revisions.
    pub(super) deps: Adjacency,
    /// Parents plus the dependencies not already implied by an ancestor's
    /// dependencies (Alembic's `_normalized_down_revisions`).
    pub(super) down: Adjacency,
    /// The dependency part of `down`.
    pub(super) norm_deps: Adjacency,
    /// Revisions naming this one in `Revises`.
    pub(super) children: Adjacency,
    /// Revisions naming this one in `Revises` or `Depends On`.
    pub(super) all_children: Adjacency,
    /// Branch labels, own and inherited, sorted.
    pub(super) labels: Vec<Vec<&'m str>>,
    pub(super) heads: Vec<RevisionIndex>,
    pub(super) real_heads: Vec<RevisionIndex>,
    pub(super) bases: Vec<RevisionIndex>,
}

impl<'m> Graph<'m> {
    /// Verifies `migrations` and builds its graph, or reports every problem
    /// at once, each naming its file and line.
    pub fn new(migrations: &'m Migrations) -> Result<Graph<'m>, Diagnostics> {
        let revs: &'m [Revision] = &migrations.revisions;
        if let [only] = revs
            && only.path == crate::packed::CORRUPT
        {
            return Err(Diagnostics(vec![Diagnostic::new(
                crate::packed::CORRUPT,
                1,
                "the embedded migrations table is corrupt (built by another release of migrator-macros than this \
                 migrator-core?); rebuild the binary with migrator-macros and migrator-core of one release",
            )]));
        }
        let n = revs.len();
        let mut errors = Vec::new();
        let at = |i: RevisionIndex, line: u32, msg: String| Diagnostic::new(revs[i].path.to_string(), line.max(1), msg);

        let mut ids = IdMap::with_capacity_and_hasher(n, Default::default());
        for (i, r) in RevisionIndex::all(n).zip(revs) {
            if let Some(&first) = ids.get(&*r.id) {
                errors.push(at(
                    i,
                    r.lines.id,
                    format!(
                        "duplicate revision id `{}`, already used by {}; give one of them a new id",
                        r.id, revs[first].path
                    ),
                ));
            } else {
                ids.insert(&r.id, i);
            }
        }

        // Ids that differ only in case are one row in MySQL's version table
        // (its default collation ignores case): refuse them everywhere.
        // Only ids with an upper-case letter can clash, so the common
        // lower-case histories allocate nothing here.
        let mut folded: std::collections::HashMap<String, RevisionIndex> = std::collections::HashMap::new();
        for (i, r) in RevisionIndex::all(n).zip(revs) {
            if !r.id.bytes().any(|b| b.is_ascii_uppercase()) {
                continue;
            }
            let lower = r.id.to_ascii_lowercase();
            let other = ids
                .get(lower.as_str())
                .copied()
                .filter(|&j| j != i)
                .or_else(|| folded.get(&lower).copied());
            match other {
                Some(j) => errors.push(at(
                    i,
                    r.lines.id,
                    format!(
                        "revision id `{}` differs from `{}` ({}) only in case, which MySQL's version table cannot \
                         tell apart; give one of them a new id",
                        r.id, revs[j].id, revs[j].path
                    ),
                )),
                None => {
                    folded.insert(lower, i);
                }
            }
        }

        let mut label_owner = IdMap::default();
        for (i, r) in RevisionIndex::all(n).zip(revs) {
            for label in r.branch_labels.iter() {
                if let Some(&owner) = label_owner.get(&**label) {
                    errors.push(at(
                        i,
                        r.lines.branch_labels,
                        format!(
                            "duplicate branch label `{label}`, already on {} ({})",
                            revs[owner].id, revs[owner].path
                        ),
                    ));
                } else if let Some(&owner) = ids.get(&**label) {
                    errors.push(at(
                        i,
                        r.lines.branch_labels,
                        format!(
                            "branch label `{label}` is also the id of revision {}; choose another label",
                            revs[owner].path
                        ),
                    ));
                } else {
                    label_owner.insert(label, i);
                }
            }
        }

        let mut parents = Adjacency::with_capacity(n, n);
        let mut deps = Adjacency::with_capacity(n, 0);
        for (i, r) in RevisionIndex::all(n).zip(revs) {
            for (k, p) in r.revises.iter().enumerate() {
                if r.revises[..k].contains(p) {
                    errors.push(at(
                        i,
                        r.lines.revises,
                        format!("revision {} names `{p}` twice in Revises; keep one", r.id),
                    ));
                } else if **p == *r.id {
                    errors.push(at(
                        i,
                        r.lines.revises,
                        format!("revision {} revises itself; remove it from Revises", r.id),
                    ));
                } else if let Some(&j) = ids.get(&**p) {
                    parents.push_unique(j);
                } else {
                    let hint = suggest_id(p, &ids);
                    errors.push(at(
                        i,
                        r.lines.revises,
                        format!("revision {} revises `{p}`, which does not exist{hint}", r.id),
                    ));
                }
            }
            for d in r.depends_on.iter() {
                let target = ids.get(&**d).or_else(|| label_owner.get(&**d)).copied();
                match target {
                    Some(j) if j == i => errors.push(at(
                        i,
                        r.lines.depends_on,
                        format!("revision {} depends on itself; remove it from Depends On", r.id),
                    )),
                    Some(j) => deps.push_unique(j),
                    None => {
                        let hint = suggest_id(d, &ids);
                        errors.push(at(
                            i,
                            r.lines.depends_on,
                            format!(
                                "revision {} depends on `{d}`, which is neither a revision nor a branch label{hint}",
                                r.id
                            ),
                        ));
                    }
                }
            }
            parents.close();
            deps.close();
        }

        if let Some(cycle_errors) = super::cycles::find_cycles(revs, &parents, &deps) {
            errors.extend(cycle_errors);
        }
        if !errors.is_empty() {
            errors.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
            return Err(Diagnostics(errors));
        }

        let mut up_edges: Vec<(RevisionIndex, RevisionIndex)> = Vec::with_capacity(n);
        for i in RevisionIndex::all(n) {
            up_edges.extend(parents[i].iter().map(|&p| (p, i)));
        }
        let children = Adjacency::grouped(n, &up_edges);
        // In each list, children in file order: a dependency that is also
        // a parent (a redundant link, rejected below) counts once.
        up_edges.clear();
        for i in RevisionIndex::all(n) {
            up_edges.extend(parents[i].iter().map(|&p| (p, i)));
            up_edges.extend(deps[i].iter().filter(|d| !parents[i].contains(d)).map(|&d| (d, i)));
        }
        let all_children = Adjacency::grouped(n, &up_edges);
        let mut graph = Graph {
            migrations,
            ids,
            label_owner,
            parents,
            deps,
            down: Adjacency::default(),
            norm_deps: Adjacency::default(),
            children,
            all_children,
            labels: vec![Vec::new(); n],
            heads: Vec::new(),
            real_heads: Vec::new(),
            bases: Vec::new(),
        };
        graph.normalize_dependencies();
        graph.check_redundant_links()?;
        graph.inherit_labels();
        graph.heads = RevisionIndex::all(n)
            .filter(|&i| graph.children[i].is_empty())
            .collect();
        graph.real_heads = RevisionIndex::all(n)
            .filter(|&i| graph.all_children[i].is_empty())
            .collect();
        graph.bases = RevisionIndex::all(n).filter(|&i| graph.parents[i].is_empty()).collect();
        if !migrations.allow_multiple_heads {
            graph.check_heads()?;
        }
        Ok(graph)
    }

    /// Rejects a revision that names, in `Revises` or `Depends On`, a
    /// revision that is already below another one it names. Alembic accepts
    /// such a link and then fails with a `KeyError` while moving the version
    /// rows; here it is an error in the file, before anything runs.
    fn check_redundant_links(&self) -> Result<(), Diagnostics> {
        let revs = &self.migrations.revisions;
        let mut errors = Vec::new();
        for r in self.indices() {
            let down = &self.down[r];
            if down.len() < 2 {
                continue;
            }
            for &d in down {
                let others: Vec<RevisionIndex> = down.iter().copied().filter(|&o| o != d).collect();
                let below = self.ancestors(&others, true);
                if below[d] {
                    let via = others
                        .iter()
                        .copied()
                        .find(|&o| self.ancestors(&[o], true)[d])
                        .unwrap_or(others[0]);
                    let (key, line) = if self.parents[r].contains(&d) {
                        ("Revises", revs[r].lines.revises)
                    } else {
                        ("Depends On", revs[r].lines.depends_on)
                    };
                    errors.push(Diagnostic::new(
                        revs[r].path.to_string(),
                        line.max(1),
                        format!(
                            "revision {} names {} in {key}, but {} already comes after it; remove {} from {key}",
                            revs[r].id, revs[d].id, revs[via].id, revs[d].id
                        ),
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Diagnostics(errors))
        }
    }

    /// Drops from each revision's dependencies those that one of its
    /// versioned ancestors already depends on.
    fn normalize_dependencies(&mut self) {
        let n = self.len();
        let mut norm_deps = Adjacency::with_capacity(n, 0);
        for i in RevisionIndex::all(n) {
            if !self.deps[i].is_empty() {
                let mut keep = self.deps[i].to_vec();
                let ancestors = self.ancestors(&[i], false);
                for (a, _) in self.indices().zip(&ancestors).filter(|(a, yes)| **yes && *a != i) {
                    keep.retain(|d| !self.deps[a].contains(d));
                }
                for k in keep {
                    norm_deps.push_unique(k);
                }
            }
            norm_deps.close();
        }
        let mut down = Adjacency::with_capacity(n, n);
        for i in RevisionIndex::all(n) {
            for &p in &self.parents[i] {
                down.push_unique(p);
            }
            for &d in &norm_deps[i] {
                down.push_unique(d);
            }
            down.close();
        }
        self.norm_deps = norm_deps;
        self.down = down;
    }

    /// Alembic's branch-label inheritance: a label covers every versioned
    /// descendant of the revision that carries it, and the revisions below
    /// it down to the nearest branch or merge point.
    fn inherit_labels(&mut self) {
        let revs = &self.migrations.revisions;
        for r in self.indices() {
            if revs[r].branch_labels.is_empty() {
                continue;
            }
            let own: Vec<&'m str> = self.migrations.revisions[r]
                .branch_labels
                .iter()
                .map(|l| &**l)
                .collect();
            // Depth-first over versioned children, as Alembic walks them.
            let mut seen = vec![false; self.len()];
            let mut stack = vec![r];
            let mut last = r;
            while let Some(x) = stack.pop() {
                if std::mem::replace(&mut seen[x], true) {
                    continue;
                }
                add_labels(&mut self.labels[x], &own);
                stack.extend(self.children[x].iter().copied());
                last = x;
            }
            let mut node = last;
            while self.all_children[node].len() <= 1 && self.parents[node].len() <= 1 {
                add_labels(&mut self.labels[node], &own);
                match self.parents[node].first() {
                    Some(&p) => node = p,
                    None => break,
                }
            }
        }
    }

    fn check_heads(&self) -> Result<(), Diagnostics> {
        if self.heads.len() < 2 {
            return Ok(());
        }
        let undistinguished: Vec<RevisionIndex> = self
            .heads
            .iter()
            .copied()
            .filter(|&h| {
                !self.labels[h]
                    .iter()
                    .any(|l| self.heads.iter().all(|&o| o == h || !self.labels[o].contains(l)))
            })
            .collect();
        if undistinguished.len() < 2 {
            return Ok(());
        }
        let revs = &self.migrations.revisions;
        let list = undistinguished
            .iter()
            .map(|&h| format!("{} ({})", revs[h].id, revs[h].path))
            .collect::<Vec<_>>()
            .join(", ");
        let Some(&last) = undistinguished.iter().max() else {
            return Ok(());
        };
        Err(Diagnostics(vec![Diagnostic::new(
            revs[last].path.to_string(),
            revs[last].lines.id.max(1),
            format!(
                "multiple heads: {list}; no branch label tells them apart. Join them with \
                 `migrator merge heads -m \"merge heads\"`, or give each branch its own label \
                 (`allow_multiple_heads = true` turns this check off)"
            ),
        )]))
    }
}

fn add_labels<'m>(set: &mut Vec<&'m str>, labels: &[&'m str]) {
    for l in labels {
        if let Err(pos) = set.binary_search(l) {
            set.insert(pos, l);
        }
    }
}

fn suggest_id(missing: &str, ids: &IdMap<'_>) -> String {
    let starts: Vec<&str> = ids.keys().copied().filter(|id| id.starts_with(missing)).collect();
    if starts.len() == 1 {
        return format!("; did you mean `{}`? (Revises needs the full id)", starts[0]);
    }
    match nearest(missing, ids.keys().copied()) {
        Some(id) => format!("; did you mean `{id}`?"),
        None => "; check the id, or add the missing revision file".to_owned(),
    }
}
