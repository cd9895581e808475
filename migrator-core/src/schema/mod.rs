//! Database schemas as plain data: the model introspection fills, the
//! differences between two schemas, and the SQL that turns one into the
//! other (spec §6). Pure.

// Used by introspection only, which needs a database.
#[cfg(feature = "runtime")]
pub(crate) mod ddl;
mod diff;
mod model;
mod objects;
mod renames;
mod render;

pub use diff::{Change, diff};
pub use model::{Column, ForeignKey, Index, Object, Schema, Table, TableOptions};
pub use objects::ObjectKind;
pub use renames::{Rename, apply_renames};
pub use render::{Rendered, render};

#[cfg(test)]
pub(crate) use model::test_column;
