//! Column renames the author accepted (`revision --autogenerate --rename
//! t.old=new`): the schema before, with the columns renamed, and the
//! `RENAME COLUMN` changes that do it, so that the rest of the diff sees a
//! column kept (its rows with it) instead of one dropped and one added.

use std::fmt;
use std::str::FromStr;

use super::diff::Change;
use super::model::{Schema, Table};

/// One accepted rename: column `from` of `table` is column `to` now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// The table.
    pub table: String,
    /// The column's name before.
    pub from: String,
    /// Its name after.
    pub to: String,
}

impl Rename {
    /// The same rename, the other way (for the downgrade).
    pub fn reversed(&self) -> Rename {
        Rename {
            table: self.table.clone(),
            from: self.to.clone(),
            to: self.from.clone(),
        }
    }
}

impl fmt::Display for Rename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}={}", self.table, self.from, self.to)
    }
}

impl FromStr for Rename {
    type Err = String;

    /// `table.old=new`.
    fn from_str(s: &str) -> Result<Rename, String> {
        let bad = || format!("`{s}` is not a rename; write TABLE.OLD=NEW (for example users.name=full_name)");
        let (left, to) = s.split_once('=').ok_or_else(bad)?;
        let (table, from) = left.rsplit_once('.').ok_or_else(bad)?;
        let (table, from, to) = (table.trim(), from.trim(), to.trim());
        if table.is_empty() || from.is_empty() || to.is_empty() || from == to {
            return Err(bad());
        }
        Ok(Rename {
            table: table.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
        })
    }
}

/// `from` with `renames` applied (to columns and to every key, index and
/// check naming them), and the changes that rename them, first in the
/// revision. A rename that does not fit — the table or the old column
/// missing before, the new name missing after or already there before —
/// is an error that names it.
pub fn apply_renames(from: &Schema, to: &Schema, renames: &[Rename]) -> Result<(Schema, Vec<Change>), String> {
    let mut out = from.clone();
    let mut changes = Vec::new();
    for r in renames {
        let Some(table) = out.tables.get_mut(&r.table) else {
            return Err(format!(
                "--rename {r}: there is no table {} before this revision",
                r.table
            ));
        };
        if table.column(&r.from).is_none() {
            return Err(format!(
                "--rename {r}: table {} has no column {} before this revision",
                r.table, r.from
            ));
        }
        if table.column(&r.to).is_some() {
            return Err(format!("--rename {r}: table {} already has a column {}", r.table, r.to));
        }
        if to.tables.get(&r.table).is_none_or(|t| t.column(&r.to).is_none()) {
            return Err(format!(
                "--rename {r}: the declared table {} has no column {}",
                r.table, r.to
            ));
        }
        rename_in_table(table, &r.from, &r.to);
        for other in out.tables.values_mut() {
            for fk in other.foreign_keys.values_mut().filter(|fk| fk.ref_table == r.table) {
                for c in fk.ref_columns.iter_mut().filter(|c| **c == r.from) {
                    c.clone_from(&r.to);
                }
            }
        }
        changes.push(Change::RenameColumn {
            table: r.table.clone(),
            from: r.from.clone(),
            to: r.to.clone(),
        });
    }
    Ok((out, changes))
}

fn rename_in_table(t: &mut Table, from: &str, to: &str) {
    let one = |name: &mut String| {
        if name == from {
            *name = to.to_owned();
        }
    };
    for c in &mut t.columns {
        one(&mut c.name);
    }
    t.primary_key.iter_mut().for_each(one);
    for cols in t.uniques.values_mut() {
        cols.iter_mut().for_each(one);
    }
    for fk in t.foreign_keys.values_mut() {
        fk.columns.iter_mut().for_each(one);
    }
    for index in t.indexes.values_mut() {
        for part in &mut index.columns {
            *part = replace_word(part, from, to);
        }
        if let Some(p) = &mut index.predicate {
            *p = replace_word(p, from, to);
        }
    }
    for expr in t.checks.values_mut() {
        *expr = replace_word(expr, from, to);
    }
}

/// `text` with every whole-word `from` (quoted or not) replaced by `to`.
fn replace_word(text: &str, from: &str, to: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + from.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(word) || after.is_some_and(word) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Index, diff, test_column};

    fn schema(cols: &[&str]) -> Schema {
        let mut t = Table::default();
        for c in cols {
            t.columns.push(test_column(c, "integer", true));
        }
        t.indexes.insert(
            "ix".into(),
            Index {
                columns: vec![cols[0].to_owned()],
                unique: false,
                predicate: Some(format!("{} > 0", cols[0])),
            },
        );
        t.checks
            .insert("ck".into(), format!("({} >= 0) AND (other_a > 1)", cols[0]));
        let mut s = Schema::default();
        s.tables.insert("t".into(), t);
        s
    }

    #[test]
    fn parses_table_old_new_and_explains_anything_else() {
        let r: Rename = "app.users.name=full_name".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (r.table.as_str(), r.from.as_str(), r.to.as_str()),
            ("app.users", "name", "full_name")
        );
        assert_eq!(r.reversed().to_string(), "app.users.full_name=name");
        for bad in ["users.name", "name=full", "users.=x", "users.a=a", ""] {
            let e = bad.parse::<Rename>().expect_err(bad);
            assert!(e.contains("TABLE.OLD=NEW"), "{e}");
        }
    }

    #[test]
    fn a_renamed_column_is_no_drop_and_add_and_its_index_and_check_follow() {
        let (from, to) = (schema(&["a", "x"]), schema(&["b", "x"]));
        let dropped: Vec<String> = diff(&from, &to).iter().map(Change::action).collect();
        assert!(dropped.iter().any(|a| a.starts_with("drop column t.a")), "{dropped:?}");
        let r: Rename = "t.a=b".parse().unwrap_or_else(|e| panic!("{e}"));
        let (renamed, changes) = apply_renames(&from, &to, std::slice::from_ref(&r)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            changes.iter().map(Change::action).collect::<Vec<_>>(),
            ["rename column t.a to b"]
        );
        assert!(diff(&renamed, &to).is_empty(), "{:?}", diff(&renamed, &to));
        assert_eq!(renamed.tables["t"].checks["ck"], "(b >= 0) AND (other_a > 1)");
    }

    #[test]
    fn a_rename_that_does_not_fit_names_what_is_missing() {
        let (from, to) = (schema(&["a", "x"]), schema(&["b", "x"]));
        let e = |s: &str| apply_renames(&from, &to, &[s.parse().unwrap_or_else(|e| panic!("{e}"))]).expect_err(s);
        assert!(e("u.a=b").contains("no table u"));
        assert!(e("t.q=b").contains("no column q before"));
        assert!(e("t.a=x").contains("already has a column x"));
        assert!(e("t.a=zz").contains("declared table t has no column zz"));
    }
}
