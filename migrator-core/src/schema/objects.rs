//! Triggers, functions, sequences and MySQL table options: the objects
//! beside tables, where they go in a diff and the SQL that makes them.
//!
//! Triggers, functions and sequences are compared by their definition as
//! the database prints it (up to white space) and written back as that
//! text, so whatever the declared schema says is reproduced, not
//! re-derived from a model.

use std::fmt;
use std::fmt::Write as _;

use super::diff::Change;
use super::model::{Schema, TableOptions};
use crate::Dialect;
use crate::bookkeeping::quote;

/// What kind of object a [`Change::CreateObject`] and its kin are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectKind {
    /// A trigger (every dialect).
    Trigger,
    /// A PostgreSQL function or procedure.
    Function,
    /// A PostgreSQL sequence no column owns.
    Sequence,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Trigger => "trigger",
            ObjectKind::Function => "function",
            ObjectKind::Sequence => "sequence",
        })
    }
}

/// The object changes of a diff, by where they go.
#[derive(Debug, Default)]
pub(super) struct Placed {
    /// Before anything else: triggers that go or change (a trigger reads
    /// its table and its function).
    pub first: Vec<Change>,
    /// Before tables are made or changed: sequences and functions that
    /// appear or change (a default or a check may use them).
    pub early: Vec<Change>,
    /// After everything else: triggers that appear or change.
    pub last: Vec<Change>,
    /// At the very end: functions and sequences that go, once nothing
    /// uses them.
    pub late: Vec<Change>,
}

/// Where each trigger, function and sequence change of `from` → `to` goes.
pub(super) fn place(from: &Schema, to: &Schema) -> Placed {
    let mut p = Placed::default();
    for (kind, old_map, new_map) in [
        (ObjectKind::Sequence, &from.sequences, &to.sequences),
        (ObjectKind::Function, &from.functions, &to.functions),
        (ObjectKind::Trigger, &from.triggers, &to.triggers),
    ] {
        for (name, old) in old_map {
            let drop = || Change::DropObject {
                kind,
                name: name.clone(),
                object: old.clone(),
            };
            match new_map.get(name) {
                None if kind == ObjectKind::Trigger => p.first.push(drop()),
                None => p.late.push(drop()),
                Some(new) if new.same_as(old) => {}
                // A trigger is dropped and made again; a function or a
                // sequence is changed in place (what uses it stays).
                Some(_) if kind == ObjectKind::Trigger => p.first.push(drop()),
                Some(new) => p.early.push(Change::ReplaceObject {
                    kind,
                    name: name.clone(),
                    from: old.clone(),
                    to: new.clone(),
                }),
            }
        }
        for (name, new) in new_map {
            let create = Change::CreateObject {
                kind,
                name: name.clone(),
                object: new.clone(),
            };
            match old_map.get(name) {
                None if kind == ObjectKind::Trigger => p.last.push(create),
                None => p.early.push(create),
                Some(old) if kind == ObjectKind::Trigger && !old.same_as(new) => p.last.push(create),
                Some(_) => {}
            }
        }
    }
    p
}

/// The SQL of an object change, or `None` for any other change.
pub(super) fn render(change: &Change, d: Dialect) -> Option<String> {
    let mut s = String::new();
    match change {
        Change::CreateObject { object, .. } => {
            let _ = writeln!(s, "{};", object.sql.trim_end().trim_end_matches(';'));
        }
        Change::ReplaceObject { kind, to, .. } => {
            let sql = to.sql.trim_end().trim_end_matches(';');
            match kind {
                // ALTER SEQUENCE takes the clauses CREATE SEQUENCE does
                // (the current value stays).
                ObjectKind::Sequence => {
                    let _ = writeln!(s, "ALTER{};", &sql[sql.find(' ').unwrap_or(0)..]);
                }
                // `pg_get_functiondef` writes CREATE OR REPLACE.
                _ => {
                    let _ = writeln!(s, "{sql};");
                }
            }
        }
        Change::DropObject { kind, name, object } => {
            let _ = match (kind, d) {
                (ObjectKind::Trigger, Dialect::Postgres) => writeln!(
                    s,
                    "DROP TRIGGER {} ON {};",
                    quote(d, name),
                    quote(d, object.table.as_deref().unwrap_or_default())
                ),
                (ObjectKind::Trigger, _) => writeln!(s, "DROP TRIGGER {};", quote(d, name)),
                // `name` is the signature, `f(integer)`, as PostgreSQL
                // prints it: already quoted where it must be.
                (ObjectKind::Function, _) => writeln!(s, "DROP ROUTINE {name};"),
                (ObjectKind::Sequence, _) => writeln!(s, "DROP SEQUENCE {};", quote(d, name)),
            };
        }
        Change::SetTableOptions { table, to, .. } => {
            if let Some(o) = to {
                let _ = writeln!(s, "ALTER TABLE {} {};", quote(d, table), alter_options(o));
            }
        }
        _ => return None,
    }
    Some(s)
}

/// The options of a MySQL `CREATE TABLE`: ` ENGINE=... DEFAULT CHARSET=...
/// COLLATE=...`.
pub(super) fn create_options(o: &TableOptions) -> String {
    format!(
        " ENGINE={} DEFAULT CHARSET={} COLLATE={}",
        o.engine,
        o.charset(),
        o.collation
    )
}

/// `ENGINE=..., CONVERT TO CHARACTER SET ... COLLATE ...`: the engine, and
/// the collation of the table and of its text columns alike, as declaring
/// the table with those options gives.
fn alter_options(o: &TableOptions) -> String {
    format!(
        "ENGINE={}, CONVERT TO CHARACTER SET {} COLLATE {}",
        o.engine,
        o.charset(),
        o.collation
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Object, diff};

    fn object(sql: &str, table: Option<&str>) -> Object {
        Object {
            sql: sql.into(),
            table: table.map(str::to_owned),
        }
    }

    fn actions(from: &Schema, to: &Schema) -> Vec<String> {
        diff(from, to).iter().map(Change::action).collect()
    }

    #[test]
    fn a_changed_trigger_goes_first_and_comes_back_last_and_white_space_is_no_change() {
        let mut a = Schema::default();
        a.triggers.insert(
            "tr".into(),
            object("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END", Some("t")),
        );
        let mut b = a.clone();
        b.triggers.insert(
            "tr".into(),
            object("CREATE TRIGGER tr  AFTER INSERT ON t\nBEGIN SELECT 1; END", Some("t")),
        );
        assert!(diff(&a, &b).is_empty());
        b.triggers.insert(
            "tr".into(),
            object("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 2; END", Some("t")),
        );
        b.sequences.insert("s".into(), object("CREATE SEQUENCE s", None));
        assert_eq!(
            actions(&a, &b),
            ["drop trigger tr", "create sequence s", "create trigger tr"]
        );
        assert_eq!(
            actions(&b, &a),
            ["drop trigger tr", "create trigger tr", "drop sequence s"]
        );
    }

    #[test]
    fn a_changed_function_is_replaced_before_tables_and_a_dropped_one_goes_after_them() {
        let mut a = Schema::default();
        a.functions.insert(
            "f()".into(),
            object(
                "CREATE OR REPLACE FUNCTION public.f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql",
                None,
            ),
        );
        a.tables.insert("t".into(), crate::schema::Table::default());
        let mut b = Schema::default();
        b.functions.insert(
            "f()".into(),
            object(
                "CREATE OR REPLACE FUNCTION public.f() RETURNS int AS $$ SELECT 2 $$ LANGUAGE sql",
                None,
            ),
        );
        assert_eq!(actions(&a, &b), ["replace function f()", "drop table t"]);
        let c = Schema::default();
        assert_eq!(actions(&a, &c), ["drop table t", "drop function f()"]);
        let sql = render(&diff(&a, &c)[1], Dialect::Postgres).unwrap_or_default();
        assert_eq!(sql, "DROP ROUTINE f();\n");
    }

    #[test]
    fn object_sql_per_dialect() {
        let seq = Change::ReplaceObject {
            kind: ObjectKind::Sequence,
            name: "s".into(),
            from: object("CREATE SEQUENCE s AS bigint INCREMENT BY 1", None),
            to: object("CREATE SEQUENCE s AS bigint INCREMENT BY 5", None),
        };
        assert_eq!(
            render(&seq, Dialect::Postgres).as_deref(),
            Some("ALTER SEQUENCE s AS bigint INCREMENT BY 5;\n")
        );
        let tr = Change::DropObject {
            kind: ObjectKind::Trigger,
            name: "tr".into(),
            object: object("CREATE TRIGGER tr ...", Some("t")),
        };
        assert_eq!(
            render(&tr, Dialect::Postgres).as_deref(),
            Some("DROP TRIGGER \"tr\" ON \"t\";\n")
        );
        assert_eq!(render(&tr, Dialect::Mysql).as_deref(), Some("DROP TRIGGER `tr`;\n"));
        let o = TableOptions {
            engine: "MyISAM".into(),
            collation: "latin1_swedish_ci".into(),
        };
        let opts = Change::SetTableOptions {
            table: "t".into(),
            from: None,
            to: Some(o.clone()),
        };
        assert_eq!(
            render(&opts, Dialect::Mysql).as_deref(),
            Some("ALTER TABLE `t` ENGINE=MyISAM, CONVERT TO CHARACTER SET latin1 COLLATE latin1_swedish_ci;\n")
        );
        assert_eq!(
            create_options(&o),
            " ENGINE=MyISAM DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci"
        );
    }
}
