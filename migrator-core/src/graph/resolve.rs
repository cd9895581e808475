//! Revision identifiers: `head`, `heads`, `base`, ids and unique prefixes,
//! `label@...`, and relative steps (`+2`, `-1`, `<rev>+1`, `head-2`,
//! `label@+1`), resolved the way Alembic resolves them.

use super::{Graph, RevisionIndex};

/// Why an identifier does not name what the command needs. Each message
/// names the identifier and says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// Neither a revision, a prefix of one, nor a branch label.
    #[error("no revision or branch label matches `{ident}`{hint}; `migrator history` lists the revisions")]
    Unknown {
        /// What was asked for.
        ident: String,
        /// Extra advice, starting with `; ` when present.
        hint: String,
    },
    /// A prefix shared by several revisions.
    #[error("`{prefix}` is ambiguous: it starts {candidates}; type more characters")]
    AmbiguousPrefix {
        /// The prefix.
        prefix: String,
        /// The matching revisions, comma separated.
        candidates: String,
    },
    /// `head` (or `label@head`) when there are several heads.
    #[error(
        "`{ident}` is ambiguous: there are several heads ({heads}); name one of them, use `heads` for all, \
         or `<label>@head` for one branch"
    )]
    MultipleHeads {
        /// `head` or `label@head`.
        ident: String,
        /// The heads, comma separated.
        heads: String,
    },
    /// `label@...` with a label nothing carries.
    #[error("no branch label `{label}`{hint}; `migrator branches` lists the labels")]
    UnknownBranch {
        /// The label.
        label: String,
        /// Extra advice, starting with `; ` when present.
        hint: String,
    },
    /// `label@rev` where the revision is not on that branch.
    #[error("revision {revision} is not on branch `{label}`; pick a revision from that branch")]
    NotOnBranch {
        /// The revision.
        revision: String,
        /// The label.
        label: String,
    },
    /// A relative step that runs past the top or bottom of the graph.
    #[error("`{ident}` walks past the {edge} of the history; use a smaller step")]
    WalkedTooFar {
        /// The identifier.
        ident: String,
        /// `base` or `head`.
        edge: &'static str,
    },
    /// A relative step from a branch point or merge point.
    #[error(
        "`{ident}` is ambiguous: {from} has several {way} ({candidates}); name the target revision, \
         or qualify it with a branch label (`<label>@{ident}`)"
    )]
    AmbiguousWalk {
        /// The identifier.
        ident: String,
        /// Where the walk stood.
        from: String,
        /// `children` or `parents`.
        way: &'static str,
        /// The choices, comma separated.
        candidates: String,
    },
    /// A relative step from the current state when the database has several
    /// heads.
    #[error(
        "`{ident}` is ambiguous: the database is at several revisions ({current}); name a revision \
         or use `<label>@{ident}`"
    )]
    AmbiguousCurrent {
        /// The identifier.
        ident: String,
        /// The database's rows, comma separated.
        current: String,
    },
    /// A relative step in the wrong direction for the command.
    #[error("`{ident}` points {wrong} from the current revision; {fix}")]
    WrongDirection {
        /// The identifier.
        ident: String,
        /// `up` or `down`.
        wrong: &'static str,
        /// What to run instead.
        fix: &'static str,
    },
    /// A downgrade target that is not below the current state.
    #[error(
        "`{target}` is not below the database's current revision ({current}); nothing would be downgraded. \
         Use `migrator upgrade {target}` to move up, or pick an applied revision"
    )]
    NotBelowCurrent {
        /// The target.
        target: String,
        /// The database's rows, comma separated, or `base`.
        current: String,
    },
    /// Two requested targets where one is an ancestor of the other.
    #[error(
        "requested revision {revision} overlaps with {others}, which lie on the same line; request only the upper one"
    )]
    Overlap {
        /// The lower revision.
        revision: String,
        /// The others, comma separated.
        others: String,
    },
    /// A history range whose ends are not on one line.
    #[error(
        "history range `{range}`: {lower} is not an ancestor of {upper}; put the older revision first \
         (`<older>:<newer>`) or pick two revisions on one line"
    )]
    RangeNotAncestor {
        /// The range as given.
        range: String,
        /// The lower end, resolved.
        lower: String,
        /// The upper end, resolved.
        upper: String,
    },
    /// A history range that is not `start:end`.
    #[error(
        "history range `{range}` is not of the form `[start]:[end]`; write e.g. `base:head`, `abc1:` or `:current`"
    )]
    BadRange {
        /// The range as given.
        range: String,
    },
    /// A range (`a:b`) where only a single target is allowed.
    #[error("`{ident}` is a range; ranges are for `history` and for `--sql` scripts")]
    RangeNotAllowed {
        /// The identifier.
        ident: String,
    },
}

/// Where a walk or an identifier lands: nothing at all (a walk that ran off
/// the graph), below every base, or a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Off the graph: Alembic's `None`.
    Nothing,
    /// Below every base: Alembic's `"base"`.
    Base,
    /// A revision.
    Rev(RevisionIndex),
}

/// A relative identifier: `[label@][symbol](+|-)N`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Relative<'a> {
    pub label: Option<&'a str>,
    pub symbol: Option<&'a str>,
    pub steps: i64,
}

/// Alembic's `(?:(.+?)@)?(\w+)?((?:\+|-)\d+)`, anchored at the start only.
pub(crate) fn parse_relative(ident: &str) -> Option<Relative<'_>> {
    // The optional label group is tried first, shortest label first.
    for (at, _) in ident.match_indices('@') {
        if at == 0 {
            continue;
        }
        if let Some((symbol, steps)) = symbol_and_steps(&ident[at + 1..]) {
            return Some(Relative {
                label: Some(&ident[..at]),
                symbol,
                steps,
            });
        }
    }
    symbol_and_steps(ident).map(|(symbol, steps)| Relative {
        label: None,
        symbol,
        steps,
    })
}

fn symbol_and_steps(s: &str) -> Option<(Option<&str>, i64)> {
    let word_end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    let (symbol, rest) = s.split_at(word_end);
    let sign = rest.chars().next()?;
    if sign != '+' && sign != '-' {
        return None;
    }
    let digits = &rest[1..];
    let n_end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    if n_end == 0 {
        return None;
    }
    let n: i64 = digits[..n_end].parse().unwrap_or(i64::MAX);
    let steps = if sign == '-' { -n } else { n };
    Some(((!symbol.is_empty()).then_some(symbol), steps))
}

/// What `_resolve_revision_number` makes of an identifier.
enum Number<'a> {
    /// Already revisions: `heads`, `head`, `base`.
    Revs(Vec<RevisionIndex>),
    /// A name still to look up.
    Name(&'a str),
}

fn split_label(ident: &str) -> (Option<&str>, &str) {
    match ident.split_once('@') {
        Some((l, id)) => (Some(l), id),
        None => (None, ident),
    }
}

impl<'m> Graph<'m> {
    pub(crate) fn ids(&self, revs: impl IntoIterator<Item = RevisionIndex>) -> String {
        let v: Vec<&str> = revs.into_iter().map(|i| &*self.revision(i).id).collect();
        v.join(", ")
    }

    pub(crate) fn current_text(&self, current: &[RevisionIndex]) -> String {
        if current.is_empty() {
            "base".to_owned()
        } else {
            self.ids(current.iter().copied())
        }
    }

    /// `true` when one of `with` is an ancestor or descendant of `target`
    /// (or `target` itself).
    fn shares_lineage(&self, target: RevisionIndex, with: &[RevisionIndex], with_deps: bool) -> bool {
        if with.is_empty() {
            return true;
        }
        let down = self.ancestors(&[target], with_deps);
        let up = self.descendants(&[target], with_deps);
        with.iter().any(|&w| down[w] || up[w])
    }

    /// Exact ids and branch labels (Alembic's revision map keys).
    fn exact(&self, name: &str) -> Option<RevisionIndex> {
        self.index_of(name).or_else(|| self.label_owner(name))
    }

    fn all_labels(&self) -> Vec<&'m str> {
        let mut v: Vec<&'m str> = self
            .indices()
            .flat_map(|i| self.revision(i).branch_labels.iter().map(|l| &**l))
            .collect();
        v.sort_unstable();
        v
    }

    /// The revision a branch label stands for; a revision id or prefix is
    /// accepted in its place, as Alembic does.
    pub(crate) fn resolve_branch(&self, label: &str) -> Result<RevisionIndex, ResolveError> {
        if let Some(i) = self.exact(label) {
            return Ok(i);
        }
        match self.revision_for_ident(label, None) {
            Ok(Some(i)) => Ok(i),
            _ => {
                let hint = match crate::diagnostic::nearest(label, self.all_labels()) {
                    Some(l) => format!("; did you mean `{l}`?"),
                    None => String::new(),
                };
                Err(ResolveError::UnknownBranch {
                    label: label.to_owned(),
                    hint,
                })
            }
        }
    }

    /// `_resolve_revision_number`: the symbolic names, or a name to look up.
    fn revision_number<'a>(&self, id: &'a str, label: Option<&str>) -> Result<Number<'a>, ResolveError> {
        if let Some(l) = label
            && matches!(id, "heads" | "head")
        {
            self.resolve_branch(l)?;
        }
        Ok(match id {
            "heads" => Number::Revs(match label {
                Some(l) => self.filter_for_lineage(self.heads(), l, false)?,
                None => self.real_heads().to_vec(),
            }),
            "head" => Number::Revs(self.current_head(label)?.into_iter().collect()),
            "base" => Number::Revs(Vec::new()),
            name => Number::Name(name),
        })
    }

    /// `filter_for_lineage`: the targets on a line with what `check`
    /// names. Nothing is resolved when there are no targets.
    pub(crate) fn filter_for_lineage(
        &self,
        targets: &[RevisionIndex],
        check: &str,
        with_deps: bool,
    ) -> Result<Vec<RevisionIndex>, ResolveError> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let (label, id) = split_label(check);
        let mut shares = Vec::new();
        if let Some(l) = label {
            shares.push(self.single_ident(l)?);
        }
        match self.revision_number(id, label)? {
            Number::Revs(v) => shares.extend(v),
            Number::Name(n) => shares.push(self.single_ident(n)?),
        }
        Ok(targets
            .iter()
            .copied()
            .filter(|&t| self.shares_lineage(t, &shares, with_deps))
            .collect())
    }

    /// `_revision_for_ident(name)` for a name that must exist.
    fn single_ident(&self, name: &str) -> Result<RevisionIndex, ResolveError> {
        match self.revision_for_ident(name, None)? {
            Some(i) => Ok(i),
            None => Err(ResolveError::Unknown {
                ident: name.to_owned(),
                hint: String::new(),
            }),
        }
    }

    /// `get_current_head`: the one versioned head (on the branch).
    fn current_head(&self, label: Option<&str>) -> Result<Option<RevisionIndex>, ResolveError> {
        let heads = match label {
            Some(l) => self.filter_for_lineage(self.heads(), l, false)?,
            None => self.heads().to_vec(),
        };
        if heads.len() > 1 {
            return Err(ResolveError::MultipleHeads {
                ident: label.map_or("head".to_owned(), |l| format!("{l}@head")),
                heads: self.ids(heads),
            });
        }
        Ok(heads.first().copied())
    }

    /// `_revision_for_ident`: an exact id or label, else a unique prefix of
    /// one (of more than three characters), checked against `branch`.
    fn revision_for_ident(&self, name: &str, branch: Option<&str>) -> Result<Option<RevisionIndex>, ResolveError> {
        let branch_rev = branch.map(|b| self.resolve_branch(b)).transpose()?;
        let found = match self.exact(name) {
            Some(i) => i,
            None => {
                let mut keys: Vec<RevisionIndex> = self
                    .indices()
                    .filter(|&i| {
                        let id = &self.revision(i).id;
                        id.len() > 3 && id.starts_with(name)
                    })
                    .collect();
                for (i, labels) in self.indices().map(|i| (i, &self.revision(i).branch_labels)) {
                    keys.extend(labels.iter().filter(|l| l.len() > 3 && l.starts_with(name)).map(|_| i));
                }
                if let Some(b) = branch_rev {
                    keys.retain(|&k| self.shares_lineage(k, &[b], false));
                }
                match keys.as_slice() {
                    [] => {
                        // Any prefix may match (as in Alembic, ids of at
                        // most three characters match only in full).
                        return Err(ResolveError::Unknown {
                            ident: name.to_owned(),
                            hint: String::new(),
                        });
                    }
                    [one] => *one,
                    many => {
                        return Err(ResolveError::AmbiguousPrefix {
                            prefix: name.to_owned(),
                            candidates: self.ids(many.iter().copied()),
                        });
                    }
                }
            }
        };
        if let (Some(b), Some(l)) = (branch_rev, branch)
            && !self.shares_lineage(found, &[b], false)
        {
            return Err(ResolveError::NotOnBranch {
                revision: self.revision(found).id.to_string(),
                label: l.to_owned(),
            });
        }
        Ok(Some(found))
    }

    /// `get_revisions`: every place an identifier names. `label@-N` walks
    /// down from the heads carrying the label; overwalks give
    /// [`Place::Nothing`].
    pub(crate) fn get_revisions(&self, ident: &str) -> Result<Vec<Place>, ResolveError> {
        let (label, id) = split_label(ident);
        match self.revision_number(id, label)? {
            Number::Revs(v) => Ok(v.into_iter().map(Place::Rev).collect()),
            Number::Name(name) => {
                if let Ok(n) = name.trim().parse::<i64>()
                    && n < 0
                {
                    let heads = self
                        .real_heads()
                        .iter()
                        .copied()
                        .filter(|&h| label.is_none_or(|l| self.labels(h).contains(&l)));
                    return heads.map(|h| self.walk(ident, Place::Rev(h), n, None)).collect();
                }
                Ok(vec![
                    self.revision_for_ident(name, label)?.map_or(Place::Base, Place::Rev),
                ])
            }
        }
    }

    /// `get_revision`: at most one revision (`None` for base).
    pub(crate) fn get_revision(&self, ident: &str) -> Result<Option<RevisionIndex>, ResolveError> {
        let (label, id) = split_label(ident);
        match self.revision_number(id, label)? {
            Number::Revs(v) => match v.as_slice() {
                [] => Ok(None),
                [one] => self.revision_for_ident(&self.revision(*one).id, label),
                many => Err(ResolveError::MultipleHeads {
                    ident: ident.to_owned(),
                    heads: self.ids(many.to_vec()),
                }),
            },
            Number::Name(name) => self.revision_for_ident(name, label),
        }
    }

    /// Resolves an absolute identifier to revisions (empty for `base`), as
    /// `show` and `stamp` read it.
    pub fn resolve(&self, ident: &str) -> Result<Vec<RevisionIndex>, ResolveError> {
        if ident.contains(':') {
            return Err(ResolveError::RangeNotAllowed {
                ident: ident.to_owned(),
            });
        }
        let mut out = Vec::new();
        for p in self.get_revisions(ident)? {
            match p {
                Place::Rev(r) => out.push(r),
                Place::Base => {}
                Place::Nothing => {
                    return Err(ResolveError::WalkedTooFar {
                        ident: ident.to_owned(),
                        edge: "base",
                    });
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_relative;

    fn rel(s: &str) -> Option<(Option<&str>, Option<&str>, i64)> {
        parse_relative(s).map(|r| (r.label, r.symbol, r.steps))
    }

    #[test]
    fn relative_identifiers_read_like_alembics_regex() {
        assert_eq!(rel("+1"), Some((None, None, 1)));
        assert_eq!(rel("-2"), Some((None, None, -2)));
        assert_eq!(rel("head-1"), Some((None, Some("head"), -1)));
        assert_eq!(rel("ab12+3"), Some((None, Some("ab12"), 3)));
        assert_eq!(rel("feature@+1"), Some((Some("feature"), None, 1)));
        assert_eq!(rel("feature@ab12-1"), Some((Some("feature"), Some("ab12"), -1)));
        assert_eq!(rel("a@b@+1"), Some((Some("a@b"), None, 1)));
        // Anchored at the start only: trailing text is ignored, as in Alembic.
        assert_eq!(rel("ab+1x"), Some((None, Some("ab"), 1)));
        assert_eq!(rel("head"), None);
        assert_eq!(rel("feature@head"), None);
        assert_eq!(rel("@+1"), None);
    }
}
