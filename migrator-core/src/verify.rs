//! What the database's bookkeeping says, judged against the binary's
//! history: the checks every command makes before planning (revisions
//! unknown to the binary, a revision left failed partway, an edited
//! revision), the applied-digest fast path, and where each revision
//! stands for `status`. Pure: the executor reads one [`Snapshot`] of the
//! version and log tables and hands it here; nothing in this module talks
//! to a database.

use std::collections::HashMap;
use std::time::Duration;

use crate::{Dialect, Digest, Direction, Graph, RevisionIndex, parse_utc_millis};

/// What a log row records: the log's `operation` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// A revision's upgrade.
    Upgrade,
    /// A revision's downgrade.
    Downgrade,
    /// A stamp: rows moved without SQL (or, with `--purge`, a revision
    /// this binary does not know, forgotten).
    Stamp,
    /// `migrator repair`.
    Repair,
}

impl Operation {
    /// The name in the log table.
    pub const fn name(self) -> &'static str {
        match self {
            Operation::Upgrade => "upgrade",
            Operation::Downgrade => "downgrade",
            Operation::Stamp => "stamp",
            Operation::Repair => "repair",
        }
    }

    /// Reads a name from the log table.
    pub fn parse(name: &str) -> Option<Operation> {
        match name {
            "upgrade" => Some(Operation::Upgrade),
            "downgrade" => Some(Operation::Downgrade),
            "stamp" => Some(Operation::Stamp),
            "repair" => Some(Operation::Repair),
            _ => None,
        }
    }

    /// What `step` does: a stamp, or the revision's upgrade or downgrade.
    pub const fn of(step: &crate::Step) -> Operation {
        match (step.kind, step.direction) {
            (crate::StepKind::Stamp, _) => Operation::Stamp,
            (crate::StepKind::Run, Direction::Up) => Operation::Upgrade,
            (crate::StepKind::Run, Direction::Down) => Operation::Downgrade,
        }
    }

    /// The direction a revision went in this operation (repairs and stamps
    /// are read as up).
    pub const fn direction(self) -> Direction {
        match self {
            Operation::Downgrade => Direction::Down,
            _ => Direction::Up,
        }
    }
}

/// A revision whose last run stopped partway: recorded as failed at a
/// statement, or started and never finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    /// The revision.
    pub revision: String,
    /// What was being done.
    pub operation: Operation,
    /// Statements that completed.
    pub statements_done: Option<usize>,
    /// The database's error, when it failed.
    pub error: Option<String>,
    /// `false` when the run died without recording an outcome.
    pub finished: bool,
}

/// What the log last recorded for a revision that succeeded at something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The operation.
    pub operation: Operation,
    /// The upgrade checksum, for upgrades and repairs that record one.
    pub checksum: Option<String>,
    /// When it started (UTC, as the log writes it).
    pub started_at: Option<String>,
    /// When it finished.
    pub finished_at: Option<String>,
}

impl Recorded {
    /// `true` when this entry leaves the revision applied.
    pub fn applies(&self) -> bool {
        self.operation == Operation::Upgrade || (self.operation == Operation::Repair && self.checksum.is_some())
    }
}

/// The bookkeeping as one read of it: version rows in table order,
/// revisions left unfinished, and the latest successful log entry of each
/// revision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The version rows.
    pub rows: Vec<String>,
    /// Revisions whose last run stopped partway.
    pub unfinished: Vec<Unfinished>,
    /// The latest successful log entry of each revision.
    pub recorded: HashMap<String, Recorded>,
}

/// Why a command may not go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The version table or the log names revisions this binary does not
    /// have.
    #[error(
        "the database is at {revisions}, which this binary does not contain; it may have been built before \
         {first} was added. Run a binary built from newer migrations, or pass `--dir` with the current files{renamed}"
    )]
    UnknownRevisions {
        /// The unknown revisions, comma separated.
        revisions: String,
        /// The first of them.
        first: String,
        /// When the log shows the unknown revision applied with the SQL of
        /// a revision this binary has under another id: a sentence saying
        /// so (a renamed revision), else empty.
        renamed: String,
    },
    /// An applied revision's SQL differs from what was applied.
    #[error(
        "revision {revision} ({path}) was applied with checksum {recorded}, but its SQL in this binary has checksum \
         {current}: the file was edited after it was applied. Nothing was run. Restore the file as it was, or, if \
         the change is intended (and already reflected in the database), run `migrator repair {revision} \
         --accept-checksum`"
    )]
    ChecksumMismatch {
        /// The revision.
        revision: String,
        /// Its file.
        path: String,
        /// The checksum in the log.
        recorded: String,
        /// The binary's checksum.
        current: String,
    },
    /// A revision failed partway in an earlier run, leaving changes that
    /// could not be rolled back; nothing runs until it is repaired.
    #[error(
        "revision {revision} ({path}) {how} during {operation}{at}{error}. {effect}, so nothing else will run. \
         Finish it or undo it by hand, then run `migrator repair {revision} --applied` (finished) or `migrator \
         repair {revision} --rolled-back` (undone)"
    )]
    NeedsRepair {
        /// The revision.
        revision: String,
        /// Its file.
        path: String,
        /// `failed`, or `was interrupted`.
        how: &'static str,
        /// `upgrade` or `downgrade`.
        operation: &'static str,
        /// ` at statement N (`...`)`, when known.
        at: String,
        /// What of it took effect, as far as the log knows.
        effect: String,
        /// `: <database error>`, when known.
        error: String,
    },
}

/// The version rows as graph indices, and the applied digest when every
/// applied revision is recorded with this binary's checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The version rows, in table order.
    pub current: Vec<RevisionIndex>,
    /// The digest of the applied revisions, when it is known.
    pub digest: Option<Digest>,
}

/// The full check a command makes before planning: every version row is
/// a revision of this binary, no revision is left failed partway, no
/// revision the log counts as applied is unknown here, and every applied
/// revision has the checksum it was applied with.
pub fn verify(graph: &Graph<'_>, dialect: Dialect, snapshot: &Snapshot) -> Result<Verified, VerifyError> {
    let unknown_rows: Vec<&str> = snapshot
        .rows
        .iter()
        .map(String::as_str)
        .filter(|r| graph.index_of(r).is_none())
        .collect();
    if let Some(first) = unknown_rows.first() {
        return Err(VerifyError::UnknownRevisions {
            revisions: unknown_rows.join(", "),
            first: (*first).to_owned(),
            renamed: renamed_hint(graph, dialect, &unknown_rows, &snapshot.recorded),
        });
    }
    let current: Vec<RevisionIndex> = snapshot.rows.iter().filter_map(|r| graph.index_of(r)).collect();
    if let Some(u) = snapshot.unfinished.first() {
        return Err(needs_repair(graph, dialect, u));
    }
    let mut unknown: Vec<&str> = snapshot
        .recorded
        .iter()
        .filter(|(r, rec)| rec.applies() && graph.index_of(r).is_none())
        .map(|(r, _)| r.as_str())
        .collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        return Err(VerifyError::UnknownRevisions {
            revisions: unknown.join(", "),
            first: unknown[0].to_owned(),
            renamed: renamed_hint(graph, dialect, &unknown, &snapshot.recorded),
        });
    }
    let applied = graph.ancestors(&current, true);
    let mut all_recorded = true;
    for i in graph.indices().filter(|&i| applied[i]) {
        let rev = graph.revision(i);
        let Some(recorded) = snapshot.recorded.get(&*rev.id).and_then(|r| r.checksum.as_deref()) else {
            all_recorded = false;
            continue;
        };
        let current = rev.checksum(dialect).to_hex();
        if recorded != current {
            return Err(VerifyError::ChecksumMismatch {
                revision: rev.id.to_string(),
                path: rev.path.to_string(),
                recorded: recorded.to_owned(),
                current,
            });
        }
    }
    let digest = all_recorded.then(|| Digest::of_applied(graph, &applied, dialect));
    Ok(Verified { current, digest })
}

/// The fast path: the rows of [`crate::bookkeeping::Tables::select_versions_and_digest`]
/// (`(0, version)`, `(1, latest digest)`, `(2, a started row)`). When the
/// latest log row carries exactly the digest this binary computes for the
/// version rows, and no row was started and left unfinished, nothing can
/// be failed, unknown or modified. `None` sends the caller to [`verify`].
pub fn fast_path(graph: &Graph<'_>, dialect: Dialect, rows: &[Vec<Option<String>>]) -> Option<Verified> {
    let mut current = Vec::new();
    let mut latest = None;
    for row in rows {
        let value = row.get(1).cloned().flatten();
        match row.first().cloned().flatten().as_deref() {
            Some("0") => current.push(graph.index_of(&value?)?),
            Some("1") => latest = Some(value),
            // A revision started and never finished: whatever digest came
            // after it, only the full check may judge it.
            _ => return None,
        }
    }
    let applied = graph.ancestors(&current, true);
    let expected = Digest::of_applied(graph, &applied, dialect);
    let verified = match latest {
        // An empty log: only an empty database is known to be clean.
        None => current.is_empty(),
        Some(recorded) => recorded.as_deref().and_then(Digest::parse) == Some(expected),
    };
    verified.then_some(Verified {
        current,
        digest: Some(expected),
    })
}

/// The error for a revision left failed partway: where it stopped, what
/// took effect, and the way out.
fn needs_repair(graph: &Graph<'_>, dialect: Dialect, u: &Unfinished) -> VerifyError {
    let index = graph.index_of(&u.revision);
    let path = index.map_or_else(
        || "not in this binary".to_owned(),
        |i| graph.revision(i).path.to_string(),
    );
    let statements = index.map(|i| {
        graph
            .revision(i)
            .body(u.operation.direction(), dialect)
            .statements(dialect)
    });
    let (at, effect) = match (u.statements_done, statements) {
        (Some(done), Some(statements)) if done >= statements.len() => (
            format!(" after all {} of its statements completed", statements.len()),
            "Every statement took effect, but the revision was not recorded as done".to_owned(),
        ),
        (Some(done), Some(statements)) => {
            let next = statements.get(done).map_or("", |s| s.sql);
            let at = format!(
                " at statement {} of {} (`{}`)",
                done + 1,
                statements.len(),
                excerpt(next)
            );
            let effect = match done {
                0 => {
                    "None of its statements is recorded as completed, though the first may have taken effect".to_owned()
                }
                1 => "Its first statement took effect and could not be rolled back".to_owned(),
                n => format!("Its first {n} statements took effect and could not be rolled back"),
            };
            (at, effect)
        }
        _ => (
            String::new(),
            "Some of its statements may have taken effect and could not be rolled back".to_owned(),
        ),
    };
    VerifyError::NeedsRepair {
        revision: u.revision.clone(),
        path,
        how: if u.finished { "failed" } else { "was interrupted" },
        operation: u.operation.direction().verb(),
        at,
        effect,
        error: u.error.as_ref().map(|e| format!(": {e}")).unwrap_or_default(),
    }
}

/// For applied revisions this binary does not know: when one was applied
/// with exactly the SQL of a revision the binary has under another id that
/// the log never saw, it was most likely renamed; say which and what to do.
fn renamed_hint(graph: &Graph<'_>, dialect: Dialect, unknown: &[&str], recorded: &HashMap<String, Recorded>) -> String {
    let mut hints = Vec::new();
    for old in unknown {
        let Some(checksum) = recorded.get(*old).and_then(|r| r.checksum.as_deref()) else {
            continue;
        };
        let same = graph
            .indices()
            .map(|i| graph.revision(i))
            .find(|r| r.checksum(dialect).to_hex() == checksum && !recorded.contains_key(&*r.id));
        if let Some(new) = same {
            hints.push(format!(
                ". Revision {old} was applied with exactly the SQL of {} ({}) in this binary: if it was renamed, \
                 put its old id back in the file, or record the new id with `migrator stamp --purge {}` (its \
                 checksum is then unverified)",
                new.id, new.path, new.id
            ));
        }
    }
    hints.concat()
}

/// The start of a statement for a message: its first line, at most about
/// 60 characters, cut at a word boundary.
fn excerpt(statement: &str) -> String {
    let line = statement.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    if line.chars().count() <= 60 {
        return line.to_owned();
    }
    let cut: String = line.chars().take(60).collect();
    let word_end = cut.rfind(char::is_whitespace).filter(|&i| i > 20).unwrap_or(cut.len());
    format!("{} ...", cut[..word_end].trim_end())
}

/// Where one revision stands in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionState {
    /// Applied, with the binary's checksum.
    Applied,
    /// Not applied.
    Pending,
    /// Applied, but the binary's SQL differs from what was applied.
    Modified,
    /// In the database, not in this binary.
    Unknown,
    /// Failed partway (or interrupted) and waiting for `repair`.
    Failed,
    /// Applied with no checksum on record (stamped, or adopted from
    /// another tool).
    Unverified,
}

impl RevisionState {
    /// The state as `status` prints it.
    pub fn name(self) -> &'static str {
        match self {
            RevisionState::Applied => "applied",
            RevisionState::Pending => "pending",
            RevisionState::Modified => "modified",
            RevisionState::Unknown => "unknown",
            RevisionState::Failed => "failed",
            RevisionState::Unverified => "unverified",
        }
    }
}

/// One line of `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionStatus {
    /// The revision id.
    pub revision: String,
    /// Its message (empty for unknown revisions).
    pub message: String,
    /// Its file (`None` for unknown revisions).
    pub path: Option<String>,
    /// Where it stands.
    pub state: RevisionState,
    /// When it was last applied, per the log.
    pub applied_at: Option<String>,
    /// How long that took.
    pub duration: Option<Duration>,
}

/// Where every revision stands, oldest first, then the revisions the
/// binary does not contain. A database ahead of the binary has version
/// rows it cannot place; which of its own revisions are applied then
/// comes from the log.
pub fn classify(graph: &Graph<'_>, dialect: Dialect, snapshot: &Snapshot) -> Vec<RevisionStatus> {
    let Snapshot {
        rows,
        unfinished,
        recorded,
    } = snapshot;
    let known: Vec<RevisionIndex> = rows.iter().filter_map(|r| graph.index_of(r)).collect();
    let mut applied = graph.ancestors(&known, true);
    if rows.len() != known.len() {
        for (i, a) in graph.indices().zip(applied.iter_mut()) {
            *a |= recorded.get(&*graph.revision(i).id).is_some_and(Recorded::applies);
        }
    }
    let mut out = Vec::with_capacity(graph.len());
    let mut order = graph.history();
    order.reverse();
    for i in order {
        let rev = graph.revision(i);
        let rec = recorded.get(&*rev.id);
        let state = if unfinished.iter().any(|u| *u.revision == *rev.id) {
            RevisionState::Failed
        } else if !applied[i] {
            RevisionState::Pending
        } else {
            match rec.and_then(|r| r.checksum.as_deref()) {
                None => RevisionState::Unverified,
                Some(c) if c == rev.checksum(dialect).to_hex() => RevisionState::Applied,
                Some(_) => RevisionState::Modified,
            }
        };
        let (applied_at, duration) = match rec.filter(|_| applied[i]) {
            Some(r) => (
                r.finished_at.clone(),
                duration_between(r.started_at.as_deref(), r.finished_at.as_deref()),
            ),
            None => (None, None),
        };
        out.push(RevisionStatus {
            revision: rev.id.to_string(),
            message: rev.message.to_string(),
            path: Some(rev.path.to_string()),
            state,
            applied_at,
            duration,
        });
    }
    let mut unknown: Vec<String> = rows.iter().filter(|r| graph.index_of(r).is_none()).cloned().collect();
    unknown.extend(
        recorded
            .iter()
            .filter(|(r, rec)| rec.applies() && graph.index_of(r).is_none())
            .map(|(r, _)| r.clone()),
    );
    unknown.sort();
    unknown.dedup();
    out.extend(unknown.into_iter().map(|revision| RevisionStatus {
        revision,
        message: String::new(),
        path: None,
        state: RevisionState::Unknown,
        applied_at: None,
        duration: None,
    }));
    out
}

/// The time between two log timestamps.
fn duration_between(started: Option<&str>, finished: Option<&str>) -> Option<Duration> {
    let ms = parse_utc_millis(finished?)? - parse_utc_millis(started?)?;
    u64::try_from(ms).ok().map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Migrations, SourceFile, parse_sources};

    /// `r1 <- r2 <- r3`, the last a statement-by-statement revision of
    /// three statements.
    fn history(ids: &[&str]) -> Migrations {
        let files: Vec<SourceFile> = ids
            .iter()
            .enumerate()
            .map(|(n, id)| {
                let revises = if n == 0 { String::new() } else { ids[n - 1].to_owned() };
                SourceFile {
                    relative: format!("{n}.sql"),
                    absolute: format!("/m/{n}.sql").into(),
                    text: format!(
                        "-- {id}\n-- Revision ID: {id}\n-- Revises: {revises}\n-- migrate:up transaction:false\n\
                         CREATE TABLE {id}_a (x INT);\nCREATE TABLE {id}_b (x INT);\n\
                         CREATE INDEX {id}_with_a_rather_long_name_to_be_cut_short ON {id}_b (x) WHERE x > 10;\n\
                         -- migrate:down\nDROP TABLE {id}_a;\n"
                    ),
                }
            })
            .collect();
        parse_sources(&files, false).unwrap()
    }

    fn recorded(graph: &Graph<'_>, id: &str, operation: Operation, checksum: bool) -> (String, Recorded) {
        let checksum = checksum.then(|| {
            graph
                .revision(graph.index_of(id).unwrap())
                .checksum(Dialect::Sqlite)
                .to_hex()
        });
        (
            id.to_owned(),
            Recorded {
                operation,
                checksum,
                started_at: Some("2026-01-01 00:00:00.000".to_owned()),
                finished_at: Some("2026-01-01 00:00:01.500".to_owned()),
            },
        )
    }

    #[test]
    fn a_clean_database_verifies_with_its_digest() {
        let m = history(&["r1", "r2", "r3"]);
        let g = Graph::new(&m).unwrap();
        let snap = Snapshot {
            rows: vec!["r2".to_owned()],
            unfinished: Vec::new(),
            recorded: [
                recorded(&g, "r1", Operation::Upgrade, true),
                recorded(&g, "r2", Operation::Upgrade, true),
            ]
            .into(),
        };
        let v = verify(&g, Dialect::Sqlite, &snap).unwrap();
        assert_eq!(v.current, [RevisionIndex::new(1)]);
        let applied = g.ancestors(&[RevisionIndex::new(1)], true);
        assert_eq!(v.digest, Some(Digest::of_applied(&g, &applied, Dialect::Sqlite)));
        // The fast path takes that digest's word, and nothing else's.
        let digest = v.digest.unwrap().to_string();
        let row = |tag: &str, v: &str| vec![Some(tag.to_owned()), Some(v.to_owned())];
        assert_eq!(
            fast_path(&g, Dialect::Sqlite, &[row("0", "r2"), row("1", &digest)]),
            Some(v)
        );
        assert_eq!(
            fast_path(&g, Dialect::Sqlite, &[row("0", "r2"), row("1", &"0".repeat(32))]),
            None
        );
        assert_eq!(
            fast_path(
                &g,
                Dialect::Sqlite,
                &[row("0", "r2"), row("1", &digest), row("2", "r3")]
            ),
            None
        );
        assert_eq!(fast_path(&g, Dialect::Sqlite, &[row("0", "nope")]), None);
        assert!(
            fast_path(&g, Dialect::Sqlite, &[]).is_some(),
            "an empty database with an empty log"
        );
        // A stamped revision has no checksum: no digest, and unverified.
        let mut stamped = snap.clone();
        stamped
            .recorded
            .insert("r2".to_owned(), recorded(&g, "r2", Operation::Stamp, false).1);
        assert_eq!(verify(&g, Dialect::Sqlite, &stamped).unwrap().digest, None);
        let states: Vec<RevisionState> = classify(&g, Dialect::Sqlite, &stamped)
            .iter()
            .map(|s| s.state)
            .collect();
        assert_eq!(
            states,
            [
                RevisionState::Applied,
                RevisionState::Unverified,
                RevisionState::Pending
            ]
        );
    }

    #[test]
    fn each_refusal_names_the_revision_and_the_way_out() {
        let m = history(&["r1", "r2", "r3"]);
        let g = Graph::new(&m).unwrap();
        let check = |snap: &Snapshot| verify(&g, Dialect::Sqlite, snap).unwrap_err().to_string();
        let mut snap = Snapshot {
            rows: vec!["r2".to_owned()],
            ..Snapshot::default()
        };
        snap.recorded.extend([recorded(&g, "r1", Operation::Upgrade, true)]);
        snap.recorded.insert(
            "r2".to_owned(),
            Recorded {
                checksum: Some("f".repeat(64)),
                ..recorded(&g, "r2", Operation::Upgrade, true).1
            },
        );
        let e = check(&snap);
        assert!(
            e.starts_with("revision r2 (1.sql) was applied with checksum ffff"),
            "{e}"
        );
        assert!(e.contains("`migrator repair r2 --accept-checksum`"), "{e}");
        // Interrupted, at each point of a statement-by-statement run.
        for (done, expected) in [
            (
                Some(0),
                "at statement 1 of 3 (`CREATE TABLE r3_a (x INT)`): boom. None of its statements",
            ),
            (
                Some(1),
                "at statement 2 of 3 (`CREATE TABLE r3_b (x INT)`): boom. Its first statement took effect",
            ),
            (
                Some(2),
                "at statement 3 of 3 (`CREATE INDEX r3_with_a_rather_long_name_to_be_cut_short ON ...`): boom. Its first 2",
            ),
            (
                Some(3),
                "after all 3 of its statements completed: boom. Every statement took effect",
            ),
            (
                None,
                "during upgrade: boom. Some of its statements may have taken effect",
            ),
        ] {
            let mut s = snap.clone();
            s.recorded
                .insert("r2".to_owned(), recorded(&g, "r2", Operation::Upgrade, true).1);
            s.unfinished.push(Unfinished {
                revision: "r3".to_owned(),
                operation: Operation::Upgrade,
                statements_done: done,
                error: Some("boom".to_owned()),
                finished: false,
            });
            let e = check(&s);
            assert!(e.contains(expected), "{done:?}: {e}");
            assert!(
                e.starts_with("revision r3 (2.sql) was interrupted during upgrade"),
                "{e}"
            );
            assert!(e.ends_with("`migrator repair r3 --rolled-back` (undone)"), "{e}");
        }
        // Ahead: rows and log name revisions the binary does not have; the
        // binary's own revisions are applied, not pending.
        let older = history(&["r1", "r2"]);
        let og = Graph::new(&older).unwrap();
        let mut ahead = Snapshot {
            rows: vec!["r3".to_owned()],
            ..Snapshot::default()
        };
        for id in ["r1", "r2", "r3"] {
            ahead
                .recorded
                .insert(id.to_owned(), recorded(&g, id, Operation::Upgrade, true).1);
        }
        let e = verify(&og, Dialect::Sqlite, &ahead).unwrap_err().to_string();
        assert!(
            e.starts_with("the database is at r3, which this binary does not contain"),
            "{e}"
        );
        let states: Vec<(String, RevisionState)> = classify(&og, Dialect::Sqlite, &ahead)
            .into_iter()
            .map(|s| (s.revision, s.state))
            .collect();
        assert_eq!(
            states,
            [
                ("r1".to_owned(), RevisionState::Applied),
                ("r2".to_owned(), RevisionState::Applied),
                ("r3".to_owned(), RevisionState::Unknown),
            ]
        );
        // Renamed: the unknown revision's SQL is that of one the log never saw.
        let renamed = history(&["r1", "r2", "r9"]);
        let rg = Graph::new(&renamed).unwrap();
        let mut moved = ahead.clone();
        let r9 = rg.revision(RevisionIndex::new(2)).checksum(Dialect::Sqlite).to_hex();
        moved.recorded.get_mut("r3").unwrap().checksum = Some(r9);
        let e = verify(&rg, Dialect::Sqlite, &moved).unwrap_err().to_string();
        assert!(
            e.contains("Revision r3 was applied with exactly the SQL of r9 (2.sql)"),
            "{e}"
        );
    }

    #[test]
    fn excerpts_are_cut_at_a_word() {
        assert_eq!(excerpt("\n  SELECT 1\nFROM t"), "SELECT 1");
        let long = "CREATE INDEX a_rather_long_index_name ON some_table (first_column, second_column)";
        assert_eq!(excerpt(long), "CREATE INDEX a_rather_long_index_name ON some_table ...");
    }
}
