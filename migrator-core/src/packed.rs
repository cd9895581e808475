//! The packed table: a whole history as one byte string, which is what
//! `embed_migrations!` emits. rustc compiles one byte-string literal of any
//! size almost for free, while an array constant of structs costs time that
//! grows faster than its length; the strings of the unpacked revisions point
//! into the literal, so the binary carries each piece of SQL once.
//!
//! Layout (integers little-endian `u32`), in three regions so that reading
//! the graph never touches the SQL:
//!
//! - the magic `MGT3`, the revision count, the length of the string pool
//!   and the pool: every id, message, path, reference and date, UTF-8,
//!   checked once as a whole;
//! - per revision a record: id, message and path as (offset, length) into
//!   the pool; the counts and references of `Revises`, `Depends On` and
//!   `Branch Labels`; a flag and the `Create Date`; the
//!   `Lock Timeout` and `Statement Timeout` in milliseconds (0: unset); the section count and
//!   per section its direction, dialect, transaction flag, line and the
//!   (offset, length) of its SQL, the offset counted from the section
//!   count; the three checksums (32 bytes each) and the four header lines;
//! - the SQL of every section.
//!
//! [`unpack`] checks every record and bound at once but leaves each
//! revision's sections packed until they are first read (a no-op upgrade
//! or `history` reads none), so the SQL is neither paged in nor checked as
//! UTF-8 for revisions that do not run.
//!
//! [`pack`] runs in the proc-macro and [`unpack`] at run time; both live here
//! so that a round-trip test covers the format.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::Dialect;
use crate::revision::{Checksum, Direction, HeaderLines, List, Migrations, Revision, Section, Text};

const MAGIC: &[u8; 4] = b"MGT3";

/// Packs revisions (in table order) into the byte string that
/// `Migrations::from_packed_v2` takes (run by the macro).
#[doc(hidden)]
pub fn pack(revisions: &[Revision]) -> Vec<u8> {
    let mut pool = String::new();
    let mut records = Vec::with_capacity(revisions.len() * 160);
    let mut sql = Vec::new();
    // (where in `records` an SQL offset goes, where the offset counts from)
    let mut patches = Vec::new();
    for r in revisions {
        put_ref(&mut records, &mut pool, &r.id);
        put_ref(&mut records, &mut pool, &r.message);
        put_ref(&mut records, &mut pool, &r.path);
        for list in [&r.revises, &r.depends_on, &r.branch_labels] {
            put_len(&mut records, list.len());
            for item in list.iter() {
                put_ref(&mut records, &mut pool, item);
            }
        }
        match &r.create_date {
            Some(date) => {
                records.push(1);
                put_ref(&mut records, &mut pool, date);
            }
            None => records.push(0),
        }
        for t in [r.timeouts.lock, r.timeouts.statement] {
            let ms = t.map_or(0, |d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX));
            records.extend_from_slice(&ms.to_le_bytes());
        }
        let base = records.len();
        put_len(&mut records, r.sections.len());
        for s in r.sections.iter() {
            records.push(match s.direction {
                Direction::Up => 0,
                Direction::Down => 1,
            });
            records.push(match s.dialect {
                None => 0,
                Some(d) => 1 + d.index() as u8,
            });
            records.push(u8::from(s.transactional));
            records.extend_from_slice(&s.line.to_le_bytes());
            patches.push((records.len(), base, sql.len()));
            put_len(&mut records, 0);
            put_len(&mut records, s.sql.len());
            sql.extend_from_slice(s.sql.as_bytes());
        }
        for c in &r.checksums {
            records.extend_from_slice(&c.0);
        }
        for line in [r.lines.id, r.lines.revises, r.lines.depends_on, r.lines.branch_labels] {
            records.extend_from_slice(&line.to_le_bytes());
        }
    }
    for (at, base, offset) in patches {
        // From the section count to the SQL: the rest of the records, then
        // the SQL before this one.
        let relative = records.len() - base + offset;
        records[at..at + 4].copy_from_slice(&u32_of(relative).to_le_bytes());
    }
    let mut out = Vec::with_capacity(12 + pool.len() + records.len() + sql.len());
    out.extend_from_slice(MAGIC);
    put_len(&mut out, revisions.len());
    put_len(&mut out, pool.len());
    out.extend_from_slice(pool.as_bytes());
    out.extend_from_slice(&records);
    out.extend_from_slice(&sql);
    out
}

fn u32_of(n: usize) -> u32 {
    // Revision files are far below 4 GiB; the macro reads them into memory.
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&u32_of(len).to_le_bytes());
}

/// Appends `s` to the pool and its (offset, length) to `out`.
fn put_ref(out: &mut Vec<u8>, pool: &mut String, s: &str) {
    put_len(out, pool.len());
    put_len(out, s.len());
    pool.push_str(s);
}

/// Unpacks what [`pack`] wrote. The bytes come from the macro of the same
/// release (the emitted call names the format version), so they are well
/// formed; should they not be, the table holds one revision with an empty
/// id whose path says so ([`CORRUPT`]), which `Graph::new` refuses with
/// that message: a loud error, never a panic and never an empty history.
pub fn unpack(bytes: &'static [u8]) -> Vec<Revision> {
    let mut r = Reader { bytes, pos: 0 };
    read_all(&mut r).unwrap_or_else(|| vec![corrupt()])
}

/// The path of the revision standing for a corrupt embedded table.
pub const CORRUPT: &str = "<the embedded migrations table>";

fn corrupt() -> Revision {
    let empty = crate::checksum("");
    Revision {
        id: Text::Borrowed(""),
        message: Text::Borrowed(""),
        path: Text::Borrowed(CORRUPT),
        revises: List::Static(&[]),
        depends_on: List::Static(&[]),
        branch_labels: List::Static(&[]),
        create_date: None,
        timeouts: crate::Timeouts::default(),
        sections: List::Static(&[]),
        checksums: [empty; 3],
        lines: HeaderLines::default(),
    }
}

fn read_all(r: &mut Reader) -> Option<Vec<Revision>> {
    if r.take(MAGIC.len())? != MAGIC {
        return None;
    }
    let count = r.len()?;
    let pool_len = r.len()?;
    let pool = std::str::from_utf8(r.take(pool_len)?).ok()?;
    let mut revisions = Vec::with_capacity(count.min(r.bytes.len() / 16));
    let mut sql_bytes = 0usize;
    for _ in 0..count {
        let (revision, sql) = read_revision(r, pool)?;
        revisions.push(revision);
        sql_bytes = sql_bytes.checked_add(sql)?;
    }
    // The records end where the SQL begins, and the sections account for
    // every byte after them.
    (r.pos.checked_add(sql_bytes)? == r.bytes.len()).then_some(revisions)
}

/// A revision from its record, with the number of SQL bytes its sections
/// claim.
fn read_revision(r: &mut Reader, pool: &'static str) -> Option<(Revision, usize)> {
    let id = r.text(pool)?;
    let message = r.text(pool)?;
    let path = r.text(pool)?;
    let revises = r.texts(pool)?;
    let depends_on = r.texts(pool)?;
    let branch_labels = r.texts(pool)?;
    let create_date = match r.u8()? {
        0 => None,
        _ => Some(r.text(pool)?),
    };
    let ms = |n: u32| (n > 0).then(|| std::time::Duration::from_millis(u64::from(n)));
    let timeouts = crate::Timeouts {
        lock: ms(r.u32()?),
        statement: ms(r.u32()?),
    };
    let block = r.bytes.get(r.pos..)?;
    let (header, sql_bytes) = check_sections(block)?;
    r.pos += header;
    let checksums = [r.checksum()?, r.checksum()?, r.checksum()?];
    let lines = HeaderLines {
        id: r.u32()?,
        revises: r.u32()?,
        depends_on: r.u32()?,
        branch_labels: r.u32()?,
    };
    let revision = Revision {
        id,
        message,
        path,
        revises,
        depends_on,
        branch_labels,
        create_date,
        timeouts,
        sections: List::Packed(block, unpack_sections, OnceLock::new()),
        checksums,
        lines,
    };
    Some((revision, sql_bytes))
}

/// One section's header, its SQL still as bytes.
struct PackedSection {
    direction: Direction,
    dialect: Option<Dialect>,
    transactional: bool,
    line: u32,
    sql: &'static [u8],
}

/// Reads the section headers at the start of `block` (a revision's section
/// count onwards) and hands each, with its SQL (which the offsets place in
/// `block`), to `each`. Returns the length of the headers.
fn read_sections(block: &'static [u8], mut each: impl FnMut(PackedSection)) -> Option<usize> {
    let mut r = Reader { bytes: block, pos: 0 };
    for _ in 0..r.len()? {
        let direction = match r.u8()? {
            0 => Direction::Up,
            _ => Direction::Down,
        };
        let dialect = match r.u8()? {
            0 => None,
            d => Some(*Dialect::ALL.get(usize::from(d) - 1)?),
        };
        let transactional = r.u8()? != 0;
        let line = r.u32()?;
        let offset = r.len()?;
        let len = r.len()?;
        let sql = block.get(offset..offset.checked_add(len)?)?;
        each(PackedSection {
            direction,
            dialect,
            transactional,
            line,
            sql,
        });
    }
    Some(r.pos)
}

/// Checks a revision's section headers and the bounds of their SQL without
/// reading the SQL: the length of the headers and the SQL bytes claimed.
fn check_sections(block: &'static [u8]) -> Option<(usize, usize)> {
    let mut sql_bytes = 0;
    let header = read_sections(block, |s| sql_bytes += s.sql.len())?;
    Some((header, sql_bytes))
}

/// The sections of one revision, on first use. [`unpack`] checked their
/// headers and bounds already; the SQL came from a `String` in the macro,
/// so it is UTF-8, and bytes that are not (a hand-made table) show as
/// U+FFFD rather than stopping the program.
fn unpack_sections(block: &'static [u8]) -> Vec<Section> {
    let mut sections = Vec::with_capacity(2);
    read_sections(block, |s| {
        sections.push(Section {
            direction: s.direction,
            dialect: s.dialect,
            transactional: s.transactional,
            line: s.line,
            sql: match String::from_utf8_lossy(s.sql) {
                Cow::Borrowed(text) => Text::Borrowed(text),
                Cow::Owned(text) => Text::Owned(text),
            },
        });
    });
    sections
}

struct Reader {
    bytes: &'static [u8],
    pos: usize,
}

impl Reader {
    fn take(&mut self, n: usize) -> Option<&'static [u8]> {
        let bytes: &'static [u8] = self.bytes;
        let out = bytes.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(out)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.u32()?).ok()
    }

    /// An (offset, length) into the pool; `str::get` refuses ranges that
    /// split a character.
    fn text(&mut self, pool: &'static str) -> Option<Text> {
        let offset = self.len()?;
        let len = self.len()?;
        Some(Text::Borrowed(pool.get(offset..offset.checked_add(len)?)?))
    }

    fn texts(&mut self, pool: &'static str) -> Option<List<Text>> {
        match self.len()? {
            0 => Some(List::Static(&[])),
            1 => Some(List::One(self.text(pool)?)),
            n => {
                let mut items = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    items.push(self.text(pool)?);
                }
                Some(List::Owned(items))
            }
        }
    }

    fn checksum(&mut self) -> Option<Checksum> {
        Some(Checksum(self.take(32)?.try_into().ok()?))
    }
}

impl Migrations {
    /// The table `embed_migrations!` emits: the revisions packed into one
    /// byte string by the macro (format version 2, see this module),
    /// unpacked on first use. The version is in the name so that a macro
    /// and a runtime of different releases fail to compile together rather
    /// than misread each other. Not for hand-written code.
    #[doc(hidden)]
    pub const fn from_packed_v2(packed: &'static [u8], allow_multiple_heads: bool) -> Self {
        Migrations {
            revisions: List::Packed(packed, unpack, std::sync::OnceLock::new()),
            allow_multiple_heads,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SourceFile, parse_sources};

    fn source(relative: &str, text: &str) -> SourceFile {
        SourceFile {
            relative: relative.into(),
            absolute: relative.into(),
            text: text.into(),
        }
    }

    fn leak(bytes: Vec<u8>) -> &'static [u8] {
        Box::leak(bytes.into_boxed_slice())
    }

    #[test]
    fn round_trips_every_field() {
        let files = vec![
            source(
                "a1_base.sql",
                "-- base\n--\n-- Revision ID: a1\n-- Revises:\n-- Create Date: 2026-01-01 00:00:00\n\n\
                 -- migrate:up\nCREATE TABLE t (id INT);\n-- migrate:down\nDROP TABLE t;\n",
            ),
            source(
                "b2_next.sql",
                "-- next, with ünïcode\n--\n-- Revision ID: b2\n-- Revises: a1\n-- Branch Labels: billing, x\n\
                 -- Lock Timeout: 2s\n-- Statement Timeout: 15min\n\n\
                 -- migrate:up postgresql transaction:false\nCREATE INDEX CONCURRENTLY i ON t (id);\n\
                 -- migrate:up\nCREATE INDEX i ON t (id);\n",
            ),
            source(
                "c3_dep.sql",
                "-- dep\n--\n-- Revision ID: c3\n-- Revises:\n-- Depends On: a1\n\n-- migrate:up\n-- migrate:down\n",
            ),
        ];
        let migrations = match parse_sources(&files, true) {
            Ok(m) => m,
            Err(d) => panic!("{d}"),
        };
        let packed = leak(pack(&migrations.revisions));
        let unpacked = unpack(packed);
        assert_eq!(&unpacked[..], &migrations.revisions[..]);
        assert_eq!(
            unpacked[1].timeouts.statement,
            Some(std::time::Duration::from_secs(900))
        );
        // The strings point into the packed bytes, not into copies.
        let range = packed.as_ptr_range();
        assert!(unpacked.iter().all(|r| range.contains(&r.id.as_ptr())));
        assert!(
            unpacked
                .iter()
                .flat_map(|r| r.sections.iter())
                .all(|s| s.sql.is_empty() || range.contains(&s.sql.as_ptr()))
        );
    }

    #[test]
    fn sections_stay_packed_until_read() {
        let files = vec![source(
            "a.sql",
            "-- a\n--\n-- Revision ID: a\n-- Revises:\n\n-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n",
        )];
        let migrations = parse_sources(&files, false).unwrap_or_else(|d| panic!("{d}"));
        let unpacked = unpack(leak(pack(&migrations.revisions)));
        let unread = |r: &Revision| matches!(&r.sections, List::Packed(_, _, once) if once.get().is_none());
        assert!(unread(&unpacked[0]));
        assert_eq!(unpacked[0].sections.len(), 2);
        assert!(!unread(&unpacked[0]));
        assert_eq!(&*unpacked[0].sections[1].sql, "SELECT 2;\n");
    }

    #[test]
    fn sql_that_is_not_utf8_shows_as_replacement_characters() {
        let files = vec![source(
            "a.sql",
            "-- a\n--\n-- Revision ID: a\n-- Revises:\n\n-- migrate:up\nSELECT 'x';\n",
        )];
        let migrations = parse_sources(&files, false).unwrap_or_else(|d| panic!("{d}"));
        let mut packed = pack(&migrations.revisions);
        let x = packed
            .iter()
            .rposition(|&b| b == b'x')
            .unwrap_or_else(|| panic!("no x"));
        packed[x] = 0xff;
        let unpacked = unpack(leak(packed));
        assert_eq!(&*unpacked[0].sections[0].sql, "SELECT '\u{fffd}';\n");
    }

    #[test]
    fn malformed_bytes_give_a_table_graph_new_refuses() {
        let refused = |revs: Vec<Revision>| revs.len() == 1 && revs[0].path == CORRUPT;
        assert!(refused(unpack(b"")));
        assert!(refused(unpack(b"XXXX\x00\x00\x00\x00")));
        let m = crate::Migrations::from_packed_v2(b"garbage", false);
        let e = crate::Graph::new(&m).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("the embedded migrations table is corrupt"), "{e}");
        let files = vec![source(
            "a.sql",
            "-- a\n--\n-- Revision ID: a\n-- Revises:\n\n-- migrate:up\nSELECT 1;\n",
        )];
        let migrations = parse_sources(&files, false).unwrap_or_else(|d| panic!("{d}"));
        let mut packed = pack(&migrations.revisions);
        for cut in [5, packed.len() / 2, packed.len() - 1] {
            assert!(refused(unpack(leak(packed[..cut].to_vec()))), "cut at {cut}");
        }
        let mut bad_pool = packed.clone();
        bad_pool[12] = 0xff;
        assert!(refused(unpack(leak(bad_pool))), "a string that is not UTF-8");
        packed.push(0);
        assert!(refused(unpack(leak(packed))), "trailing bytes");
    }
}
