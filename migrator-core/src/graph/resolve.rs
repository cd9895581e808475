//! Revision identifiers: `head`, `heads`, `base`, ids and unique prefixes,
//! `label@...`, and relative steps (`+2`, `-1`, `<rev>+1`, `head-2`,
//! `label@+1`), resolved the way Alembic resolves them.

use super::Graph;

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
    /// A range (`a:b`) where only a single target is allowed.
    #[error("`{ident}` is a range; ranges are for `history` and for `--sql` scripts")]
    RangeNotAllowed {
        /// The identifier.
        ident: String,
    },
}

/// A place in the graph a walk can stand on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pos {
    /// Below every base.
    Base,
    /// A revision.
    Rev(usize),
}

/// A relative identifier: `[label@][symbol](+|-)N`.
struct Relative<'a> {
    label: Option<&'a str>,
    symbol: Option<&'a str>,
    steps: i64,
}

fn parse_relative(ident: &str) -> Option<Relative<'_>> {
    let sign = ident.rfind(['+', '-'])?;
    let digits = &ident[sign + 1..];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    let steps = if ident.as_bytes()[sign] == b'-' { -n } else { n };
    let head = &ident[..sign];
    let (label, symbol) = match head.find('@') {
        Some(at) => (Some(&head[..at]), &head[at + 1..]),
        None => (None, head),
    };
    if label.is_some_and(str::is_empty) {
        return None;
    }
    if !symbol.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    Some(Relative {
        label,
        symbol: (!symbol.is_empty()).then_some(symbol),
        steps,
    })
}

impl<'m> Graph<'m> {
    fn ids(&self, revs: impl IntoIterator<Item = usize>) -> String {
        let v: Vec<&str> = revs.into_iter().map(|i| &*self.revision(i).id).collect();
        v.join(", ")
    }

    fn shares_lineage(&self, target: usize, with: &[usize]) -> bool {
        if with.is_empty() {
            return true;
        }
        let down = self.ancestors(&[target], false);
        let up = self.descendants(&[target], false);
        with.iter().any(|&w| down[w] || up[w])
    }

    /// The revision a branch label (or, as Alembic allows, a revision id or
    /// prefix in label position) stands for.
    fn branch(&self, label: &str) -> Result<usize, ResolveError> {
        if let Some(i) = self.label_owner(label) {
            return Ok(i);
        }
        self.ident(label, None).map_err(|_| {
            let hint = match crate::diagnostic::nearest(label, self.all_labels()) {
                Some(l) => format!("; did you mean `{l}`?"),
                None => String::new(),
            };
            ResolveError::UnknownBranch {
                label: label.to_owned(),
                hint,
            }
        })
    }

    fn all_labels(&self) -> Vec<&'m str> {
        let mut v: Vec<&'m str> = (0..self.len())
            .flat_map(|i| self.revision(i).branch_labels.iter().map(|l| &**l))
            .collect();
        v.sort_unstable();
        v
    }

    /// Keeps the targets that share a line (ancestor or descendant) with the
    /// branch named by `label`.
    fn filter_lineage(&self, targets: &[usize], label: &str) -> Result<Vec<usize>, ResolveError> {
        let branch = self.branch(label)?;
        Ok(targets
            .iter()
            .copied()
            .filter(|&t| self.shares_lineage(t, &[branch]))
            .collect())
    }

    /// A full id, a branch label or a unique prefix; checked against the
    /// branch when `label` is given.
    fn ident(&self, id: &str, label: Option<&str>) -> Result<usize, ResolveError> {
        let branch = label.map(|l| self.branch(l)).transpose()?;
        let found = if let Some(i) = self.index_of(id).or_else(|| self.label_owner(id)) {
            i
        } else {
            let mut matches: Vec<usize> = (0..self.len())
                .filter(|&i| self.revision(i).id.starts_with(id))
                .collect();
            if let Some(b) = branch {
                matches.retain(|&m| self.shares_lineage(m, &[b]));
            }
            match matches.as_slice() {
                [] => {
                    let hint = if id.len() < 4 {
                        "; a prefix needs at least four characters to be safe".to_owned()
                    } else {
                        String::new()
                    };
                    return Err(ResolveError::Unknown {
                        ident: id.to_owned(),
                        hint,
                    });
                }
                [one] => *one,
                many => {
                    return Err(ResolveError::AmbiguousPrefix {
                        prefix: id.to_owned(),
                        candidates: self.ids(many.iter().copied()),
                    });
                }
            }
        };
        if let (Some(b), Some(l)) = (branch, label)
            && !self.shares_lineage(found, &[b])
        {
            return Err(ResolveError::NotOnBranch {
                revision: self.revision(found).id.to_string(),
                label: l.to_owned(),
            });
        }
        Ok(found)
    }

    /// Resolves an absolute identifier to revisions (empty for `base`).
    /// `heads` may give several; everything else gives at most one.
    pub fn resolve(&self, ident: &str) -> Result<Vec<usize>, ResolveError> {
        if ident.contains(':') {
            return Err(ResolveError::RangeNotAllowed {
                ident: ident.to_owned(),
            });
        }
        if let Some(rel) = parse_relative(ident) {
            // Relative to a named revision (no database state involved).
            let Some(symbol) = rel.symbol else {
                return Err(ResolveError::WrongDirection {
                    ident: ident.to_owned(),
                    wrong: if rel.steps < 0 { "down" } else { "up" },
                    fix: "relative steps from the current revision are for upgrade and downgrade",
                });
            };
            let start = self.single(symbol, rel.label)?;
            return match self.walk(ident, start, rel.steps, rel.label)? {
                Pos::Base => Ok(Vec::new()),
                Pos::Rev(r) => Ok(vec![r]),
            };
        }
        let (label, id) = match ident.split_once('@') {
            Some((l, id)) => (Some(l), id),
            None => (None, ident),
        };
        match id {
            "heads" => match label {
                Some(l) => self.filter_lineage(self.heads(), l),
                None => Ok(self.real_heads().to_vec()),
            },
            "head" => Ok(self.current_head(label)?.into_iter().collect()),
            "base" | "" => Ok(Vec::new()),
            _ => Ok(vec![self.ident(id, label)?]),
        }
    }

    /// `head` or `label@head`: the one head (on that branch).
    fn current_head(&self, label: Option<&str>) -> Result<Option<usize>, ResolveError> {
        let heads = match label {
            Some(l) => self.filter_lineage(self.heads(), l)?,
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

    /// A symbol that must name one place: `head`, `base` or a revision.
    fn single(&self, symbol: &str, label: Option<&str>) -> Result<Pos, ResolveError> {
        match symbol {
            "head" => Ok(self.current_head(label)?.map_or(Pos::Base, Pos::Rev)),
            "base" => Ok(Pos::Base),
            "heads" => {
                let heads = self.heads();
                match heads {
                    [one] => Ok(Pos::Rev(*one)),
                    _ => Err(ResolveError::MultipleHeads {
                        ident: "heads".to_owned(),
                        heads: self.ids(heads.to_vec()),
                    }),
                }
            }
            id => Ok(Pos::Rev(self.ident(id, label)?)),
        }
    }

    /// Walks `steps` along versioned edges from `start` (`None`: below every
    /// base when walking up, above every head when walking down).
    fn walk(&self, ident: &str, start: Pos, steps: i64, label: Option<&str>) -> Result<Pos, ResolveError> {
        self.walk_from(ident, Some(start), steps, label)
    }

    fn walk_from(&self, ident: &str, start: Option<Pos>, steps: i64, label: Option<&str>) -> Result<Pos, ResolveError> {
        let mut at = start;
        for _ in 0..steps.unsigned_abs() {
            let (next, way): (Vec<Pos>, &'static str) = if steps > 0 {
                let mut up: Vec<usize> = match at {
                    None | Some(Pos::Base) => self.bases().to_vec(),
                    Some(Pos::Rev(r)) => self.children(r).to_vec(),
                };
                if let Some(l) = label {
                    up = self.filter_lineage(&up, l)?;
                }
                (up.into_iter().map(Pos::Rev).collect(), "children")
            } else {
                match at {
                    Some(Pos::Base) => (Vec::new(), "parents"),
                    None => (self.heads().iter().map(|&h| Pos::Rev(h)).collect(), "heads"),
                    Some(Pos::Rev(r)) => {
                        let p = self.parents(r);
                        if p.is_empty() {
                            (vec![Pos::Base], "parents")
                        } else {
                            (p.iter().map(|&x| Pos::Rev(x)).collect(), "parents")
                        }
                    }
                }
            };
            match next.as_slice() {
                [] => {
                    return Err(ResolveError::WalkedTooFar {
                        ident: ident.to_owned(),
                        edge: if steps > 0 { "head" } else { "base" },
                    });
                }
                [one] => at = Some(*one),
                many => {
                    let from = match at {
                        Some(Pos::Rev(r)) => format!("revision {}", self.revision(r).id),
                        _ => "the history".to_owned(),
                    };
                    let candidates = self.ids(many.iter().filter_map(|p| match p {
                        Pos::Rev(r) => Some(*r),
                        Pos::Base => None,
                    }));
                    return Err(ResolveError::AmbiguousWalk {
                        ident: ident.to_owned(),
                        from,
                        way,
                        candidates,
                    });
                }
            }
        }
        Ok(at.unwrap_or(Pos::Base))
    }

    /// The revisions an `upgrade` to `ident` targets, given the database's
    /// rows.
    pub(crate) fn upgrade_targets(&self, current: &[usize], ident: &str) -> Result<Vec<usize>, ResolveError> {
        let Some(rel) = parse_relative(ident) else {
            return self.resolve(ident);
        };
        if rel.symbol.is_some() {
            return self.resolve(ident);
        }
        if rel.steps < 0 {
            return Err(ResolveError::WrongDirection {
                ident: ident.to_owned(),
                wrong: "down",
                fix: "use `migrator downgrade` to move down",
            });
        }
        let mut start: Vec<usize> = current.to_vec();
        if let Some(l) = rel.label {
            let on_branch = self.filter_lineage(current, l)?;
            start = if on_branch.is_empty() {
                // The branch has no row: start from its highest applied
                // revision, or below base.
                let applied = self.ancestors(current, true);
                let mine: Vec<usize> =
                    self.filter_lineage(&(0..self.len()).filter(|&i| applied[i]).collect::<Vec<_>>(), l)?;
                mine.iter()
                    .copied()
                    .filter(|&m| !mine.iter().any(|&o| self.down(o).contains(&m)))
                    .collect()
            } else {
                on_branch
            };
        }
        if start.len() > 1 {
            return Err(ResolveError::AmbiguousCurrent {
                ident: ident.to_owned(),
                current: self.ids(start),
            });
        }
        let from = start.first().map(|&s| Pos::Rev(s));
        match self.walk_from(ident, from, rel.steps, rel.label)? {
            Pos::Rev(r) => Ok(vec![r]),
            Pos::Base => Ok(Vec::new()),
        }
    }

    /// The revision a `downgrade` to `ident` goes down to (`None`: base),
    /// and the branch it is confined to, given the database's rows.
    pub(crate) fn downgrade_target(
        &self,
        current: &[usize],
        ident: &str,
    ) -> Result<(Option<usize>, Option<usize>), ResolveError> {
        if let Some(rel) = parse_relative(ident) {
            if rel.steps >= 0 && rel.symbol.is_none() {
                return Err(ResolveError::WrongDirection {
                    ident: ident.to_owned(),
                    wrong: "up",
                    fix: "use `migrator upgrade` to move up",
                });
            }
            let (start, branch) = match (rel.symbol, rel.label) {
                (Some(symbol), label) => (self.single(symbol, label)?, label.map(|l| self.branch(l)).transpose()?),
                (None, Some(label)) => {
                    let on = self.filter_lineage(current, label)?;
                    let first = match on.as_slice() {
                        [one] => *one,
                        [] => {
                            return Err(ResolveError::NotBelowCurrent {
                                target: ident.to_owned(),
                                current: self.current_text(current),
                            });
                        }
                        many => {
                            return Err(ResolveError::AmbiguousCurrent {
                                ident: ident.to_owned(),
                                current: self.ids(many.to_vec()),
                            });
                        }
                    };
                    (Pos::Rev(first), Some(self.branch(label)?))
                }
                (None, None) => match current {
                    [] => {
                        return Err(ResolveError::WalkedTooFar {
                            ident: ident.to_owned(),
                            edge: "base",
                        });
                    }
                    [one] => (Pos::Rev(*one), Some(*one)),
                    many => {
                        return Err(ResolveError::AmbiguousCurrent {
                            ident: ident.to_owned(),
                            current: self.ids(many.to_vec()),
                        });
                    }
                },
            };
            return match self.walk(ident, start, rel.steps, None)? {
                Pos::Base => Ok((None, branch)),
                Pos::Rev(r) => Ok((Some(r), branch)),
            };
        }
        let (label, id) = match ident.split_once('@') {
            Some((l, id)) => (Some(l), id),
            None => (None, ident),
        };
        let branch = label.map(|l| self.branch(l)).transpose()?;
        let target = match id {
            "base" | "" => None,
            "heads" => {
                return Err(ResolveError::WrongDirection {
                    ident: ident.to_owned(),
                    wrong: "up",
                    fix: "a downgrade goes to one revision, `base`, or a relative step such as `-1`",
                });
            }
            _ => self.single(id, label).map(|p| match p {
                Pos::Rev(r) => Some(r),
                Pos::Base => None,
            })?,
        };
        Ok((target, branch))
    }

    pub(crate) fn current_text(&self, current: &[usize]) -> String {
        if current.is_empty() {
            "base".to_owned()
        } else {
            self.ids(current.to_vec())
        }
    }
}
