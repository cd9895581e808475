//! Where a command goes: Alembic's relative walks (`+N`, `-N`,
//! `label@+N`, `rev-N`) and the upgrade and downgrade target parsers,
//! function by function as in Alembic's `RevisionMap`.

use super::resolve::{Place, ResolveError, parse_relative};
use super::{Graph, RevisionIndex};

impl<'m> Graph<'m> {
    /// `_walk`: `steps` along versioned edges, filtering upward choices to
    /// the branch of `label`.
    pub(crate) fn walk(
        &self,
        ident: &str,
        start: Place,
        steps: i64,
        label: Option<&str>,
    ) -> Result<Place, ResolveError> {
        let mut at = start;
        for _ in 0..steps.unsigned_abs() {
            let (next, way): (Vec<Place>, &'static str) = if steps > 0 {
                let mut up: Vec<RevisionIndex> = match at {
                    Place::Nothing => self.bases().to_vec(),
                    Place::Rev(r) => self.children(r).to_vec(),
                    Place::Base => {
                        return Err(ResolveError::WalkedTooFar {
                            ident: ident.to_owned(),
                            edge: "base",
                        });
                    }
                };
                if let Some(l) = label {
                    up = self.filter_for_lineage(&up, l, false)?;
                }
                (up.into_iter().map(Place::Rev).collect(), "children")
            } else {
                match at {
                    Place::Base => (Vec::new(), "parents"),
                    Place::Nothing => (self.heads().iter().map(|&h| Place::Rev(h)).collect(), "heads"),
                    Place::Rev(r) => match self.parents(r) {
                        [] => (vec![Place::Base], "parents"),
                        p => (p.iter().map(|&x| Place::Rev(x)).collect(), "parents"),
                    },
                }
            };
            match next.as_slice() {
                [] => return Ok(Place::Nothing),
                [one] => at = *one,
                many => {
                    let from = match at {
                        Place::Rev(r) => format!("revision {}", self.revision(r).id),
                        _ => "the history".to_owned(),
                    };
                    let candidates = self.ids(many.iter().filter_map(|p| match p {
                        Place::Rev(r) => Some(*r),
                        _ => None,
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
        Ok(at)
    }

    /// `get_revision(label@symbol)` as a place.
    fn place_of(&self, label: Option<&str>, symbol: &str) -> Result<Place, ResolveError> {
        let named = match label {
            Some(l) => format!("{l}@{symbol}"),
            None => symbol.to_owned(),
        };
        Ok(self.get_revision(&named)?.map_or(Place::Nothing, Place::Rev))
    }

    /// `_parse_upgrade_target`: the revisions an `upgrade` to `ident`
    /// targets, given the database's rows (in table order).
    pub(crate) fn upgrade_targets(
        &self,
        current: &[RevisionIndex],
        ident: &str,
    ) -> Result<Vec<RevisionIndex>, ResolveError> {
        let too_far = || ResolveError::WalkedTooFar {
            ident: ident.to_owned(),
            edge: "head",
        };
        let places = match parse_relative(ident) {
            None => self.get_revisions(ident)?,
            Some(rel) if rel.steps > 0 => match rel.symbol {
                None => {
                    let mut start: Vec<Place> = current.iter().map(|&c| Place::Rev(c)).collect();
                    if let Some(l) = rel.label {
                        let on = self.filter_for_lineage(current, l, false)?;
                        start = if on.is_empty() {
                            let applied = self.ancestors(current, true);
                            let active: Vec<RevisionIndex> = self.indices().filter(|&i| applied[i]).collect();
                            let active = self.filter_for_lineage(&active, l, false)?;
                            let tips: Vec<Place> = active
                                .iter()
                                .copied()
                                .filter(|&a| !active.iter().any(|&o| self.down(o).contains(&a)))
                                .map(Place::Rev)
                                .collect();
                            if tips.is_empty() { vec![Place::Nothing] } else { tips }
                        } else {
                            on.into_iter().map(Place::Rev).collect()
                        };
                    }
                    if start.is_empty() {
                        start.push(Place::Nothing);
                    }
                    if start.len() > 1 {
                        let revs = start
                            .iter()
                            .filter_map(|p| if let Place::Rev(r) = p { Some(*r) } else { None });
                        return Err(ResolveError::AmbiguousCurrent {
                            ident: ident.to_owned(),
                            current: self.ids(revs),
                        });
                    }
                    match self.walk(ident, start[0], rel.steps, rel.label)? {
                        Place::Nothing => return Err(too_far()),
                        p => vec![p],
                    }
                }
                Some(symbol) => {
                    let start = self.get_revision(symbol)?.map_or(Place::Nothing, Place::Rev);
                    vec![self.walk(ident, start, rel.steps, rel.label)?]
                }
            },
            Some(rel) => match rel.symbol {
                None => {
                    return Err(ResolveError::WrongDirection {
                        ident: ident.to_owned(),
                        wrong: "down",
                        fix: "use `migrator downgrade` to move down",
                    });
                }
                Some(symbol) => {
                    let start = self.place_of(rel.label, symbol)?;
                    vec![self.walk(ident, start, rel.steps, None)?]
                }
            },
        };
        let mut targets = Vec::with_capacity(places.len());
        for p in places {
            match p {
                Place::Rev(r) => targets.push(r),
                Place::Nothing => return Err(too_far()),
                Place::Base => {
                    return Err(ResolveError::WalkedTooFar {
                        ident: ident.to_owned(),
                        edge: "base",
                    });
                }
            }
        }
        Ok(targets)
    }

    /// `_parse_downgrade_target`: the revision a `downgrade` goes down to
    /// (`None`: base) and the branch it is confined to.
    pub(crate) fn downgrade_target(
        &self,
        current: &[RevisionIndex],
        ident: &str,
    ) -> Result<(Option<RevisionIndex>, Option<RevisionIndex>), ResolveError> {
        let too_far = || ResolveError::WalkedTooFar {
            ident: ident.to_owned(),
            edge: "base",
        };
        let Some(rel) = parse_relative(ident) else {
            let (label, symbol) = match ident.rsplit_once('@') {
                Some((l, s)) if !l.is_empty() => (Some(l), s),
                Some((_, s)) => (None, s),
                None => (None, ident),
            };
            let branch = label.map(|l| self.resolve_branch(l)).transpose()?;
            return Ok((self.get_revision(symbol)?, branch));
        };
        if rel.steps >= 0 {
            let Some(symbol) = rel.symbol else {
                return Err(ResolveError::WrongDirection {
                    ident: ident.to_owned(),
                    wrong: "up",
                    fix: "use `migrator upgrade` to move up",
                });
            };
            let start = self.get_revision(symbol)?.map_or(Place::Nothing, Place::Rev);
            let branch = rel.label.map(|l| self.resolve_branch(l)).transpose()?;
            return match self.walk(ident, start, rel.steps, rel.label)? {
                Place::Nothing => Err(too_far()),
                Place::Base => Ok((None, branch)),
                Place::Rev(r) => Ok((Some(r), branch)),
            };
        }
        let (start, branch) = match rel.symbol {
            Some(symbol) => (
                self.place_of(rel.label, symbol)?,
                rel.label.map(|l| self.resolve_branch(l)).transpose()?,
            ),
            None => match rel.label {
                Some(label) => {
                    let mut on = self.filter_for_lineage(current, label, false)?;
                    if on.is_empty() {
                        let all = self.all_current(current);
                        on = self.filter_for_lineage(&all, label, false)?;
                    }
                    let one = match on.as_slice() {
                        [one] => *one,
                        [] => return Err(too_far()),
                        many => {
                            return Err(ResolveError::AmbiguousCurrent {
                                ident: ident.to_owned(),
                                current: self.ids(many.to_vec()),
                            });
                        }
                    };
                    let start = self.place_of(Some(label), &self.revision(one).id)?;
                    (start, Some(self.resolve_branch(label)?))
                }
                None => match current {
                    [] => return Err(too_far()),
                    [one] => (Place::Rev(*one), Some(*one)),
                    many => {
                        let mut distinct = many.to_vec();
                        distinct.sort_unstable();
                        distinct.dedup();
                        if distinct.len() > 1 {
                            return Err(ResolveError::AmbiguousCurrent {
                                ident: ident.to_owned(),
                                current: self.ids(distinct),
                            });
                        }
                        (Place::Rev(many[0]), Some(many[0]))
                    }
                },
            },
        };
        match self.walk(ident, start, rel.steps, None)? {
            Place::Nothing => Err(too_far()),
            Place::Base => Ok((None, branch)),
            Place::Rev(r) => Ok((Some(r), branch)),
        }
    }
}
