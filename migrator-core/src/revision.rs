//! The revision table: what `embed_migrations!` emits as a `static` and what
//! the runtime loader builds from a directory. One type serves both, so the
//! two can be compared field by field.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use crate::Dialect;

/// Text that is either compiled into the binary or loaded at run time.
pub type Text = Cow<'static, str>;

/// A list that is either a `static` slice (embedded) or owned (loaded from
/// a directory). Dereferences to a slice. An internal of the embedded
/// table: read the lists through the slice.
#[doc(hidden)]
pub enum List<T: 'static> {
    /// Compiled into the binary.
    Static(&'static [T]),
    /// Built at run time.
    Owned(Vec<T>),
    /// Exactly one item (most revisions revise one other), kept without
    /// an allocation.
    One(T),
    /// Compiled into the binary packed into one byte string (rustc compiles
    /// that far faster than an array of structs), unpacked on first use by
    /// the function beside it.
    Packed(&'static [u8], fn(&'static [u8]) -> Vec<T>, OnceLock<Vec<T>>),
}

impl<T: Clone> Deref for List<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            List::Static(s) => s,
            List::Owned(v) => v,
            List::One(x) => std::slice::from_ref(x),
            List::Packed(bytes, unpack, unpacked) => unpacked.get_or_init(|| unpack(bytes)),
        }
    }
}

impl<T: fmt::Debug + Clone> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq + Clone> PartialEq for List<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Eq + Clone> Eq for List<T> {}

impl<T: Clone> Clone for List<T> {
    fn clone(&self) -> Self {
        match self {
            List::Static(s) => List::Static(s),
            List::Owned(v) => List::Owned(v.clone()),
            List::One(x) => List::One(x.clone()),
            List::Packed(b, f, unpacked) => List::Packed(b, *f, unpacked.clone()),
        }
    }
}

/// Which way a section moves the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `-- migrate:up`
    Up,
    /// `-- migrate:down`
    Down,
}

impl Direction {
    /// `up` or `down`, as written in section markers.
    pub const fn name(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }

    /// `upgrade` or `downgrade`, the command that goes this way.
    pub const fn verb(self) -> &'static str {
        match self {
            Direction::Up => "upgrade",
            Direction::Down => "downgrade",
        }
    }
}

/// One `-- migrate:up` or `-- migrate:down` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Up or down.
    pub direction: Direction,
    /// `None` for an unqualified section, which applies to every dialect that
    /// has no section of its own.
    pub dialect: Option<Dialect>,
    /// `false` when the marker says `transaction:false`.
    pub transactional: bool,
    /// The SQL exactly as written, up to the next marker.
    pub sql: Text,
    /// The line of the marker.
    pub line: u32,
}

/// SHA-256 of a section's SQL after normalisation (see [`crate::checksum`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Checksum(pub [u8; 32]);

impl Checksum {
    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 15)]));
        }
        s
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({})", self.to_hex())
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Lines of the header keys, for diagnostics. Zero when the key is absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderLines {
    /// `Revision ID`
    pub id: u32,
    /// `Revises`
    pub revises: u32,
    /// `Depends On`
    pub depends_on: u32,
    /// `Branch Labels`
    pub branch_labels: u32,
}

/// One revision file, parsed. Built by [`crate::parse_revision`] at run time
/// and by `embed_migrations!` at compile time; the fields are public so that
/// the macro can write them as a constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// `Revision ID`.
    pub id: Text,
    /// The first free comment line of the header.
    pub message: Text,
    /// The file, relative to the migrations directory, with `/` separators.
    pub path: Text,
    /// `Revises`: the versioned parents. Empty for a base, two or more for a
    /// merge point.
    pub revises: List<Text>,
    /// `Depends On`: revision ids or branch labels that must be applied
    /// first without being versioned parents.
    pub depends_on: List<Text>,
    /// `Branch Labels` written on this revision (not the inherited ones).
    pub branch_labels: List<Text>,
    /// `Create Date`, as written.
    pub create_date: Option<Text>,
    /// The sections in file order.
    pub sections: List<Section>,
    /// Checksum of the upgrade SQL per dialect, indexed by
    /// [`Dialect::index`]. A dialect without an upgrade section has the
    /// checksum of the empty script.
    pub checksums: [Checksum; 3],
    /// Where the header keys are, for diagnostics.
    pub lines: HeaderLines,
    /// `Lock Timeout` and `Statement Timeout` from the header.
    pub timeouts: Timeouts,
}

/// How long a revision's statements may wait for a lock and run, from its
/// header (`Lock Timeout: 5s`, `Statement Timeout: 10min`); unset means the
/// run's own settings. Not part of the checksum: they change how the SQL
/// runs, not what it does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// PostgreSQL's `lock_timeout`, MySQL's `lock_wait_timeout`.
    pub lock: Option<std::time::Duration>,
    /// PostgreSQL's `statement_timeout`, MariaDB's `max_statement_time`.
    pub statement: Option<std::time::Duration>,
}

impl Revision {
    /// What runs in `direction` on `dialect`: for each transaction mode,
    /// the section qualified with the dialect, else the unqualified one;
    /// so at most a transactional and a `transaction:false` section, in
    /// file order (a table, then its index built concurrently).
    pub fn body(&self, direction: Direction, dialect: Dialect) -> Body<'_> {
        let mut chosen: [Option<&Section>; 2] = [None, None];
        for s in self.sections.iter().filter(|s| s.direction == direction) {
            let slot = &mut chosen[usize::from(!s.transactional)];
            match s.dialect {
                Some(d) if d == dialect => *slot = Some(s),
                None if slot.is_none_or(|c| c.dialect.is_none()) => *slot = Some(s),
                _ => {}
            }
        }
        if let [Some(a), Some(b)] = chosen
            && b.line < a.line
        {
            chosen = [Some(b), Some(a)];
        }
        Body { parts: chosen }
    }

    /// The upgrade checksum on `dialect`.
    pub fn checksum(&self, dialect: Dialect) -> Checksum {
        self.checksums[dialect.index()]
    }

    /// `true` when a downgrade through this revision is possible on
    /// `dialect`.
    pub fn is_reversible(&self, dialect: Dialect) -> bool {
        !self.body(Direction::Down, dialect).is_empty()
    }
}

/// The sections that run in one direction on one dialect
/// ([`Revision::body`]): none (no section: an upgrade that cannot run, or
/// an irreversible revision), one, or a transactional and a
/// `transaction:false` section, in file order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Body<'r> {
    parts: [Option<&'r Section>; 2],
}

impl<'r> Body<'r> {
    /// `true` when no section runs (an empty section is not "no section").
    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(Option::is_none)
    }

    /// The sections in file order.
    pub fn sections(&self) -> impl Iterator<Item = &'r Section> + '_ {
        self.parts.iter().flatten().copied()
    }

    /// The one transactional section, when that is all that runs: the
    /// step can then run and be recorded in one transaction.
    pub fn only_transactional(&self) -> Option<&'r Section> {
        match self.parts {
            [Some(s), None] | [None, Some(s)] if s.transactional => Some(s),
            _ => None,
        }
    }

    /// `true` when nothing runs, or only one transactional section.
    pub fn is_transactional(&self) -> bool {
        self.is_empty() || self.only_transactional().is_some()
    }

    /// Every statement, section after section, as statement-by-statement
    /// runs count them.
    pub fn statements(&self, dialect: Dialect) -> Vec<crate::Statement<'r>> {
        self.sections()
            .flat_map(|s| crate::split_statements(&s.sql, dialect))
            .collect()
    }
}

/// A whole history: every revision in sorted file-name order, which is also
/// the order that breaks ties in planning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrations {
    /// The revisions, sorted by [`Revision::path`].
    pub revisions: List<Revision>,
    /// Whether several undistinguished heads are allowed.
    pub allow_multiple_heads: bool,
}

impl Migrations {
    /// A table of revisions written out as constants (an empty history, or
    /// a hand-built one).
    pub const fn from_static(revisions: &'static [Revision], allow_multiple_heads: bool) -> Self {
        Migrations {
            revisions: List::Static(revisions),
            allow_multiple_heads,
        }
    }
}
