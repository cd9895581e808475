//! The schema model: what introspection reads and diffs compare.

use std::collections::BTreeMap;
use std::fmt;

/// A whole schema (migrator's own tables excluded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
    /// Views by name: their definition, normalised.
    pub views: BTreeMap<String, String>,
    /// PostgreSQL enum types by name: their labels in order.
    pub enums: BTreeMap<String, Vec<String>>,
    /// Triggers by name (every dialect).
    pub triggers: BTreeMap<String, Object>,
    /// PostgreSQL functions and procedures by signature (`f(integer)`).
    pub functions: BTreeMap<String, Object>,
    /// PostgreSQL sequences that no column owns (a `SERIAL` column's
    /// sequence goes with its column) by name.
    pub sequences: BTreeMap<String, Object>,
}

/// A trigger, function or sequence: an object compared by its definition,
/// which the database prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The statement that creates it, as the database prints it (without
    /// the final `;`).
    pub sql: String,
    /// A trigger's table.
    pub table: Option<String>,
}

impl Object {
    /// `true` when both define the same thing: the same statement up to
    /// white space, on the same table.
    pub fn same_as(&self, other: &Object) -> bool {
        self.table == other.table && self.sql.split_whitespace().eq(other.sql.split_whitespace())
    }
}

/// MySQL's table options that change behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOptions {
    /// `ENGINE` (`InnoDB`, `MyISAM`, ...).
    pub engine: String,
    /// The table's default collation (which names its character set).
    pub collation: String,
}

impl TableOptions {
    /// The character set the collation belongs to (`utf8mb4_general_ci`:
    /// `utf8mb4`).
    pub fn charset(&self) -> &str {
        self.collation.split('_').next().unwrap_or(&self.collation)
    }
}

/// One table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Primary key columns in key order.
    pub primary_key: Vec<String>,
    /// The primary key constraint's name, where the database keeps one
    /// (PostgreSQL), so that a change drops it by its real name. Not
    /// compared: two schemas with the same key are the same.
    pub primary_key_name: Option<String>,
    /// Unique constraints by name: their columns.
    pub uniques: BTreeMap<String, Vec<String>>,
    /// Indexes (not backing a constraint) by name.
    pub indexes: BTreeMap<String, Index>,
    /// Foreign keys by name (or by a name made from their columns where the
    /// database keeps none).
    pub foreign_keys: BTreeMap<String, ForeignKey>,
    /// Named check constraints: their expression, normalised.
    pub checks: BTreeMap<String, String>,
    /// Its comment (PostgreSQL `COMMENT ON TABLE`, MySQL `COMMENT=`).
    pub comment: Option<String>,
    /// Indexes MySQL created by itself for foreign keys (named as the key,
    /// on its columns): not in `indexes`, and dropped with their key,
    /// which MySQL does not do by itself.
    pub foreign_key_indexes: std::collections::BTreeSet<String>,
    /// MySQL: engine and collation (`None` elsewhere).
    pub options: Option<TableOptions>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type, normalised per dialect (lowercase).
    pub data_type: String,
    /// `NULL` allowed.
    pub nullable: bool,
    /// Its default expression, as the database reports it.
    pub default: Option<String>,
    /// Identity / auto-increment / owned sequence.
    pub autoincrement: bool,
    /// PostgreSQL: the auto-increment is a `SERIAL`-style sequence default,
    /// not an identity column (the two are set up differently, and a
    /// declared `BIGSERIAL` must stay one).
    pub serial: bool,
    /// Its comment (PostgreSQL `COMMENT ON COLUMN`, MySQL `COMMENT`).
    pub comment: Option<String>,
}

/// One index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Columns or expressions, in order.
    pub columns: Vec<String>,
    /// `UNIQUE`.
    pub unique: bool,
    /// The `WHERE` of a partial index.
    pub predicate: Option<String>,
}

/// One foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// Its columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub ref_table: String,
    /// The referenced columns.
    pub ref_columns: Vec<String>,
    /// `ON DELETE` action, uppercase (`NO ACTION` when none).
    pub on_delete: String,
    /// `ON UPDATE` action, uppercase.
    pub on_update: String,
}

/// A plain column, for tests.
#[cfg(test)]
pub(crate) fn test_column(name: &str, ty: &str, nullable: bool) -> Column {
    Column {
        name: name.into(),
        data_type: ty.into(),
        nullable,
        default: None,
        autoincrement: false,
        serial: false,
        comment: None,
    }
}

impl Table {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}{}",
            self.name,
            self.data_type,
            if self.nullable { "" } else { " not null" }
        )?;
        if let Some(d) = &self.default {
            write!(f, " default {d}")?;
        }
        if let Some(c) = &self.comment {
            write!(f, " comment '{c}'")?;
        }
        Ok(())
    }
}
