//! The packed table: a whole history as one byte string, which is what
//! `embed_migrations!` emits. rustc compiles one byte-string literal of any
//! size almost for free, while an array constant of structs costs time that
//! grows faster than its length; the strings of the unpacked revisions point
//! into the literal, so the binary carries each piece of SQL once.
//!
//! Layout (integers little-endian `u32`, strings as a length then UTF-8
//! bytes): the magic `MGT1`, the revision count, then per revision its id,
//! message and path, the counts and strings of `Revises`, `Depends On` and
//! `Branch Labels`, a flag and the `Create Date`, the sections (direction,
//! dialect, transaction flag, line, SQL), the three checksums (32 bytes
//! each) and the four header lines.
//!
//! [`pack`] runs in the proc-macro and [`unpack`] at run time; both live here
//! so that a round-trip test covers the format.

use crate::Dialect;
use crate::revision::{Checksum, Direction, HeaderLines, List, Revision, Section, Text};

const MAGIC: &[u8; 4] = b"MGT1";

/// Packs revisions (in table order) into the byte string that
/// [`crate::Migrations::from_packed_v1`] takes.
pub fn pack(revisions: &[Revision]) -> Vec<u8> {
    let size: usize = revisions
        .iter()
        .map(|r| 256 + r.sections.iter().map(|s| s.sql.len() + 16).sum::<usize>())
        .sum();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(MAGIC);
    put_len(&mut out, revisions.len());
    for r in revisions {
        put_str(&mut out, &r.id);
        put_str(&mut out, &r.message);
        put_str(&mut out, &r.path);
        for list in [&r.revises, &r.depends_on, &r.branch_labels] {
            put_len(&mut out, list.len());
            for item in list.iter() {
                put_str(&mut out, item);
            }
        }
        match &r.create_date {
            Some(date) => {
                out.push(1);
                put_str(&mut out, date);
            }
            None => out.push(0),
        }
        put_len(&mut out, r.sections.len());
        for s in r.sections.iter() {
            out.push(match s.direction {
                Direction::Up => 0,
                Direction::Down => 1,
            });
            out.push(match s.dialect {
                None => 0,
                Some(d) => 1 + d.index() as u8,
            });
            out.push(u8::from(s.transactional));
            out.extend_from_slice(&s.line.to_le_bytes());
            put_str(&mut out, &s.sql);
        }
        for c in &r.checksums {
            out.extend_from_slice(&c.0);
        }
        for line in [r.lines.id, r.lines.revises, r.lines.depends_on, r.lines.branch_labels] {
            out.extend_from_slice(&line.to_le_bytes());
        }
    }
    out
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    // Revision files are far below 4 GiB; the macro reads them into memory.
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// Unpacks what [`pack`] wrote. The bytes come from the macro of the same
/// release (the emitted call names the format version), so they are well
/// formed; should they not be, the result is an empty table rather than a
/// panic, which every command then reports as a database ahead of the
/// binary instead of running anything.
pub fn unpack(bytes: &'static [u8]) -> Vec<Revision> {
    let mut r = Reader { bytes, pos: 0 };
    read_all(&mut r).unwrap_or_default()
}

fn read_all(r: &mut Reader) -> Option<Vec<Revision>> {
    if r.take(MAGIC.len())? != MAGIC {
        return None;
    }
    let count = r.len()?;
    let mut revisions = Vec::with_capacity(count.min(r.bytes.len() / 16));
    for _ in 0..count {
        revisions.push(read_revision(r)?);
    }
    (r.pos == r.bytes.len()).then_some(revisions)
}

fn read_revision(r: &mut Reader) -> Option<Revision> {
    let id = r.text()?;
    let message = r.text()?;
    let path = r.text()?;
    let revises = r.texts()?;
    let depends_on = r.texts()?;
    let branch_labels = r.texts()?;
    let create_date = match r.u8()? {
        0 => None,
        _ => Some(r.text()?),
    };
    let n = r.len()?;
    let mut sections = Vec::with_capacity(n.min(16));
    for _ in 0..n {
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
        let sql = r.text()?;
        sections.push(Section {
            direction,
            dialect,
            transactional,
            sql,
            line,
        });
    }
    let checksums = [r.checksum()?, r.checksum()?, r.checksum()?];
    let lines = HeaderLines {
        id: r.u32()?,
        revises: r.u32()?,
        depends_on: r.u32()?,
        branch_labels: r.u32()?,
    };
    Some(Revision {
        id,
        message,
        path,
        revises,
        depends_on,
        branch_labels,
        create_date,
        sections: List::Owned(sections),
        checksums,
        lines,
    })
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

    fn text(&mut self) -> Option<Text> {
        let n = self.len()?;
        Some(Text::Borrowed(std::str::from_utf8(self.take(n)?).ok()?))
    }

    fn texts(&mut self) -> Option<List<Text>> {
        let n = self.len()?;
        if n == 0 {
            return Some(List::Static(&[]));
        }
        let mut items = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            items.push(self.text()?);
        }
        Some(List::Owned(items))
    }

    fn checksum(&mut self) -> Option<Checksum> {
        Some(Checksum(self.take(32)?.try_into().ok()?))
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
                "-- next, with ünïcode\n--\n-- Revision ID: b2\n-- Revises: a1\n-- Branch Labels: billing, x\n\n\
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
        // The strings point into the packed bytes, not into copies.
        let range = packed.as_ptr_range();
        assert!(unpacked.iter().all(|r| range.contains(&r.id.as_ptr())));
    }

    #[test]
    fn malformed_bytes_give_an_empty_table() {
        assert!(unpack(b"").is_empty());
        assert!(unpack(b"XXXX\x00\x00\x00\x00").is_empty());
        let files = vec![source(
            "a.sql",
            "-- a\n--\n-- Revision ID: a\n-- Revises:\n\n-- migrate:up\nSELECT 1;\n",
        )];
        let migrations = parse_sources(&files, false).unwrap_or_else(|d| panic!("{d}"));
        let mut packed = pack(&migrations.revisions);
        for cut in [5, packed.len() / 2, packed.len() - 1] {
            assert!(unpack(leak(packed[..cut].to_vec())).is_empty(), "cut at {cut}");
        }
        packed.push(0);
        assert!(unpack(leak(packed)).is_empty(), "trailing bytes");
    }
}
