//! The revision file format: header, sections and checksums (spec §2).

mod checksum;
mod content;
mod file;
mod header;
mod section;

pub use checksum::{checksum, normalize};
pub use file::parse_revision;
pub use header::{check_branch_label, check_revision_id};
