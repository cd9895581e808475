//! The applied digest: one value standing for "these revisions are applied,
//! each with this recorded checksum". Every successful upgrade and
//! downgrade writes it into its log row, so that a run can verify every
//! applied revision's checksum by reading one row instead of the whole log.
//!
//! It is the XOR, over the applied revisions, of a 128-bit mix of the
//! revision id and its checksum: order does not matter, and applying or
//! unapplying a revision updates it in constant time. It guards against
//! edited files, not against someone forging log rows; a mismatch of any
//! kind only sends the run down the slow path, which reads the whole log
//! and names the revision that differs.

use std::fmt;

use crate::{Checksum, Dialect, Graph};

/// See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Digest(u128);

impl Digest {
    /// The digest of nothing applied.
    pub const EMPTY: Digest = Digest(0);

    /// Adds or removes (the same operation) one revision with its checksum.
    pub fn toggle(&mut self, id: &str, checksum: &Checksum) {
        self.0 ^= mix(id, checksum);
    }

    /// The digest of every revision in `applied` (indexed like the graph),
    /// each with its checksum on `dialect` in this binary.
    pub fn of_applied(graph: &Graph<'_>, applied: &[bool], dialect: Dialect) -> Digest {
        let mut d = Digest::EMPTY;
        for (i, _) in graph.indices().zip(applied).filter(|(_, yes)| **yes) {
            let rev = graph.revision(i);
            d.toggle(&rev.id, &rev.checksum(dialect));
        }
        d
    }

    /// Parses the 32 hex digits written by `Display`.
    pub fn parse(hex: &str) -> Option<Digest> {
        if hex.len() != 32 {
            return None;
        }
        u128::from_str_radix(hex, 16).ok().map(Digest)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// FNV-1a of the id folded into the first 16 bytes of the checksum (which
/// are already uniformly distributed), then multiplied through so that the
/// id and the checksum cannot be traded against each other. The function is
/// stored in databases: changing it only makes the next run take the slow
/// path once.
fn mix(id: &str, checksum: &Checksum) -> u128 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut lo = [0u8; 8];
    let mut hi = [0u8; 8];
    lo.copy_from_slice(&checksum.0[..8]);
    hi.copy_from_slice(&checksum.0[8..16]);
    let lo = (u64::from_le_bytes(lo) ^ h).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let hi = (u64::from_le_bytes(hi) ^ h.rotate_left(29) ^ lo).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
    (u128::from(hi) << 64) | u128::from(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(bytes: u8) -> Checksum {
        Checksum([bytes; 32])
    }

    #[test]
    fn order_free_and_self_inverse() {
        let mut a = Digest::EMPTY;
        a.toggle("r1", &sum(1));
        a.toggle("r2", &sum(2));
        let mut b = Digest::EMPTY;
        b.toggle("r2", &sum(2));
        b.toggle("r1", &sum(1));
        assert_eq!(a, b);
        b.toggle("r2", &sum(2));
        b.toggle("r1", &sum(1));
        assert_eq!(b, Digest::EMPTY);
    }

    #[test]
    fn a_changed_or_swapped_checksum_changes_it() {
        let mut a = Digest::EMPTY;
        a.toggle("r1", &sum(1));
        a.toggle("r2", &sum(2));
        let mut edited = Digest::EMPTY;
        edited.toggle("r1", &sum(1));
        edited.toggle("r2", &sum(3));
        let mut swapped = Digest::EMPTY;
        swapped.toggle("r1", &sum(2));
        swapped.toggle("r2", &sum(1));
        assert_ne!(a, edited);
        assert_ne!(a, swapped);
    }

    #[test]
    fn display_parses_back() {
        let mut a = Digest::EMPTY;
        a.toggle("r1", &sum(7));
        assert_eq!(Digest::parse(&a.to_string()), Some(a));
        assert_eq!(Digest::parse("xyz"), None);
        assert_eq!(Digest::EMPTY.to_string().len(), 32);
    }
}
