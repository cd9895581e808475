//! What differs between two schemas, as changes ordered so that
//! dependencies hold (referenced tables created first, dropped last).

use std::collections::BTreeSet;
use std::fmt;

use super::model::{Column, ForeignKey, Index, Object, Schema, Table, TableOptions};
use super::objects::ObjectKind;

/// One difference, as a change from the first schema to the second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A PostgreSQL enum type appears.
    CreateEnum { name: String, labels: Vec<String> },
    /// A PostgreSQL enum type goes.
    DropEnum { name: String, labels: Vec<String> },
    /// A table appears.
    CreateTable { name: String, table: Table },
    /// A table goes (data is lost).
    DropTable { name: String, table: Table },
    /// A column appears.
    AddColumn { table: String, column: Column },
    /// A column goes (data is lost).
    DropColumn { table: String, column: Column },
    /// A column is renamed (only as the author accepted: never guessed).
    RenameColumn { table: String, from: String, to: String },
    /// A column's type, nullability or default changes.
    AlterColumn { table: String, from: Column, to: Column },
    /// The primary key changes.
    SetPrimaryKey {
        table: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    /// A unique constraint appears.
    AddUnique {
        table: String,
        name: String,
        columns: Vec<String>,
    },
    /// A unique constraint goes.
    DropUnique {
        table: String,
        name: String,
        columns: Vec<String>,
    },
    /// An index appears.
    AddIndex { table: String, name: String, index: Index },
    /// An index goes.
    DropIndex { table: String, name: String, index: Index },
    /// A foreign key appears.
    AddForeignKey {
        table: String,
        name: String,
        fk: ForeignKey,
    },
    /// A foreign key goes.
    DropForeignKey {
        table: String,
        name: String,
        fk: ForeignKey,
    },
    /// A named check constraint appears.
    AddCheck { table: String, name: String, expr: String },
    /// A named check constraint goes.
    DropCheck { table: String, name: String, expr: String },
    /// A view appears.
    CreateView { name: String, sql: String },
    /// A view goes.
    DropView { name: String, sql: String },
    /// A table's comment changes (`None`: removed).
    SetTableComment {
        table: String,
        from: Option<String>,
        to: Option<String>,
    },
    /// MySQL: a table's engine or collation changes.
    SetTableOptions {
        table: String,
        from: Option<TableOptions>,
        to: Option<TableOptions>,
    },
    /// A trigger, function or sequence appears.
    CreateObject {
        kind: ObjectKind,
        name: String,
        object: Object,
    },
    /// A trigger, function or sequence goes.
    DropObject {
        kind: ObjectKind,
        name: String,
        object: Object,
    },
    /// A function or sequence is defined differently: changed in place.
    ReplaceObject {
        kind: ObjectKind,
        name: String,
        from: Object,
        to: Object,
    },
}

impl Change {
    /// The table the change is on, if any.
    pub fn table(&self) -> Option<&str> {
        match self {
            Change::CreateEnum { .. }
            | Change::DropEnum { .. }
            | Change::CreateView { .. }
            | Change::DropView { .. }
            | Change::CreateObject { .. }
            | Change::DropObject { .. }
            | Change::ReplaceObject { .. } => None,
            Change::CreateTable { name, .. } | Change::DropTable { name, .. } => Some(name),
            Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::RenameColumn { table, .. }
            | Change::AlterColumn { table, .. }
            | Change::SetPrimaryKey { table, .. }
            | Change::AddUnique { table, .. }
            | Change::DropUnique { table, .. }
            | Change::AddIndex { table, .. }
            | Change::DropIndex { table, .. }
            | Change::AddForeignKey { table, .. }
            | Change::DropForeignKey { table, .. }
            | Change::AddCheck { table, .. }
            | Change::DropCheck { table, .. }
            | Change::SetTableComment { table, .. }
            | Change::SetTableOptions { table, .. } => Some(table),
        }
    }
}

impl Change {
    /// The change as something to do: `drop column t.c`, `create index i`.
    pub fn action(&self) -> String {
        match self {
            Change::CreateEnum { name, .. } => format!("create enum {name}"),
            Change::DropEnum { name, .. } => format!("drop enum {name}"),
            Change::CreateTable { name, .. } => format!("create table {name}"),
            Change::DropTable { name, .. } => format!("drop table {name}"),
            Change::AddColumn { table, column } => format!("add column {table}.{} ({column})", column.name),
            Change::DropColumn { table, column } => format!("drop column {table}.{}", column.name),
            Change::RenameColumn { table, from, to } => format!("rename column {table}.{from} to {to}"),
            Change::AlterColumn { table, from, to } => {
                format!("change column {table}.{} from `{from}` to `{to}`", to.name)
            }
            Change::SetPrimaryKey { table, to, .. } => format!("set the primary key of {table} to ({})", to.join(", ")),
            Change::AddUnique { table, name, .. } => format!("add unique constraint {name} on {table}"),
            Change::DropUnique { table, name, .. } => format!("drop unique constraint {name} on {table}"),
            Change::AddIndex { table, name, .. } => format!("create index {name} on {table}"),
            Change::DropIndex { table, name, .. } => format!("drop index {name} on {table}"),
            Change::AddForeignKey { table, name, .. } => format!("add foreign key {name} on {table}"),
            Change::DropForeignKey { table, name, .. } => format!("drop foreign key {name} on {table}"),
            Change::AddCheck { table, name, .. } => format!("add check {name} on {table}"),
            Change::DropCheck { table, name, .. } => format!("drop check {name} on {table}"),
            Change::CreateView { name, .. } => format!("create view {name}"),
            Change::DropView { name, .. } => format!("drop view {name}"),
            Change::SetTableComment { table, .. } => format!("set the comment of {table}"),
            Change::SetTableOptions { table, .. } => format!("set the engine and collation of {table}"),
            Change::CreateObject { kind, name, .. } => format!("create {kind} {name}"),
            Change::DropObject { kind, name, .. } => format!("drop {kind} {name}"),
            Change::ReplaceObject { kind, name, .. } => format!("replace {kind} {name}"),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::CreateEnum { name, labels } => write!(f, "enum {name} ({}) is missing", labels.join(", ")),
            Change::DropEnum { name, .. } => write!(f, "enum {name} is not declared"),
            Change::CreateTable { name, .. } => write!(f, "table {name} is missing"),
            Change::DropTable { name, .. } => write!(f, "table {name} is not declared"),
            Change::AddColumn { table, column } => write!(f, "column {table}.{} is missing ({column})", column.name),
            Change::DropColumn { table, column } => write!(f, "column {table}.{} is not declared", column.name),
            Change::RenameColumn { table, from, to } => write!(f, "column {table}.{from} is declared as {to}"),
            Change::AlterColumn { table, from, to } => {
                write!(f, "column {table}.{} is `{from}`, declared `{to}`", to.name)
            }
            Change::SetPrimaryKey { table, from, to } => {
                write!(
                    f,
                    "primary key of {table} is ({}), declared ({})",
                    from.join(", "),
                    to.join(", ")
                )
            }
            Change::AddUnique { table, name, columns } => {
                write!(
                    f,
                    "unique constraint {name} on {table} ({}) is missing",
                    columns.join(", ")
                )
            }
            Change::DropUnique { table, name, .. } => write!(f, "unique constraint {name} on {table} is not declared"),
            Change::AddIndex { table, name, index } => {
                write!(f, "index {name} on {table} ({}) is missing", index.columns.join(", "))
            }
            Change::DropIndex { table, name, .. } => write!(f, "index {name} on {table} is not declared"),
            Change::AddForeignKey { table, name, fk } => {
                write!(
                    f,
                    "foreign key {name} on {table} ({}) -> {} is missing",
                    fk.columns.join(", "),
                    fk.ref_table
                )
            }
            Change::DropForeignKey { table, name, .. } => write!(f, "foreign key {name} on {table} is not declared"),
            Change::AddCheck { table, name, expr } => write!(f, "check {name} on {table} ({expr}) is missing"),
            Change::DropCheck { table, name, .. } => write!(f, "check {name} on {table} is not declared"),
            Change::CreateView { name, .. } => write!(f, "view {name} is missing"),
            Change::DropView { name, .. } => write!(f, "view {name} is not declared"),
            Change::SetTableComment { table, from, to } => {
                write!(f, "table {table} has the comment {from:?}, declared {to:?}")
            }
            Change::SetTableOptions { table, from, to } => {
                let show = |o: &Option<TableOptions>| {
                    o.as_ref()
                        .map_or_else(|| "-".to_owned(), |o| format!("{} {}", o.engine, o.collation))
                };
                write!(f, "table {table} is {}, declared {}", show(from), show(to))
            }
            Change::CreateObject { kind, name, .. } => write!(f, "{kind} {name} is missing"),
            Change::DropObject { kind, name, .. } => write!(f, "{kind} {name} is not declared"),
            Change::ReplaceObject { kind, name, .. } => write!(f, "{kind} {name} is defined differently"),
        }
    }
}

/// The changes that turn `from` into `to`, in an order that keeps
/// dependencies (views and foreign keys dropped first and created last,
/// referenced tables created before and dropped after their referrers).
pub fn diff(from: &Schema, to: &Schema) -> Vec<Change> {
    let mut drops_first = Vec::new();
    let mut middle = Vec::new();
    let mut adds_last = Vec::new();
    let mut late_drops = Vec::new();

    // A view over a table whose column changes type goes first and comes
    // back last, even if its own text is unchanged: PostgreSQL will not
    // alter the type of a column a view reads.
    let retyped: BTreeSet<&str> = to
        .tables
        .iter()
        .filter(|(name, new)| {
            from.tables.get(*name).is_some_and(|old| {
                new.columns
                    .iter()
                    .any(|c| old.column(&c.name).is_some_and(|o| o.data_type != c.data_type))
            })
        })
        .map(|(name, _)| name.as_str())
        .collect();
    let reads_retyped = |sql: &str| retyped.iter().any(|t| mentions(sql, t));
    for (name, sql) in &from.views {
        if to.views.get(name) != Some(sql) || reads_retyped(sql) {
            drops_first.push(Change::DropView {
                name: name.clone(),
                sql: sql.clone(),
            });
        }
    }
    for (tname, t) in &from.tables {
        let Some(new) = to.tables.get(tname) else {
            // Foreign keys pointing at other dropped tables go with the table.
            continue;
        };
        for (name, fk) in &t.foreign_keys {
            if new.foreign_keys.get(name) != Some(fk) {
                drops_first.push(Change::DropForeignKey {
                    table: tname.clone(),
                    name: name.clone(),
                    fk: fk.clone(),
                });
            }
        }
        for (name, index) in &t.indexes {
            let drop = Change::DropIndex {
                table: tname.clone(),
                name: name.clone(),
                index: index.clone(),
            };
            // An index on a column that goes must go first: dropping the
            // column drops it (PostgreSQL) or narrows it (MySQL).
            // (An expression or a partial index's filter may name it too.)
            let on_dropped_column = t.columns.iter().filter(|c| new.column(&c.name).is_none()).any(|d| {
                index.columns.iter().any(|part| mentions(part, &d.name))
                    || index.predicate.as_deref().is_some_and(|p| mentions(p, &d.name))
            });
            match new.indexes.get(name) {
                Some(same) if same == index => {}
                // Redefined under the same name: drop first.
                Some(_) => drops_first.push(drop),
                None if on_dropped_column => drops_first.push(drop),
                // Gone: drop after the new indexes exist (MySQL refuses to drop
                // the last index a foreign key can use).
                None => late_drops.push(drop),
            }
        }
        for (name, columns) in &t.uniques {
            if new.uniques.get(name) != Some(columns) {
                drops_first.push(Change::DropUnique {
                    table: tname.clone(),
                    name: name.clone(),
                    columns: columns.clone(),
                });
            }
        }
        for (name, expr) in &t.checks {
            if new.checks.get(name) != Some(expr) {
                drops_first.push(Change::DropCheck {
                    table: tname.clone(),
                    name: name.clone(),
                    expr: expr.clone(),
                });
            }
        }
    }
    for (name, labels) in &to.enums {
        match from.enums.get(name) {
            Some(old) if old == labels => {}
            Some(old) => {
                drops_first.push(Change::DropEnum {
                    name: name.clone(),
                    labels: old.clone(),
                });
                middle.push(Change::CreateEnum {
                    name: name.clone(),
                    labels: labels.clone(),
                });
            }
            None => middle.push(Change::CreateEnum {
                name: name.clone(),
                labels: labels.clone(),
            }),
        }
    }
    let created: Vec<&String> = to.tables.keys().filter(|n| !from.tables.contains_key(*n)).collect();
    for name in referenced_first(to, &created) {
        middle.push(Change::CreateTable {
            name: name.clone(),
            table: to.tables[name].clone(),
        });
    }
    for (tname, new) in &to.tables {
        let Some(old) = from.tables.get(tname) else { continue };
        for c in &new.columns {
            match old.column(&c.name) {
                None => middle.push(Change::AddColumn {
                    table: tname.clone(),
                    column: c.clone(),
                }),
                Some(o) if o != c => middle.push(Change::AlterColumn {
                    table: tname.clone(),
                    from: o.clone(),
                    to: c.clone(),
                }),
                Some(_) => {}
            }
        }
        if old.options.is_some() && new.options.is_some() && old.options != new.options {
            middle.push(Change::SetTableOptions {
                table: tname.clone(),
                from: old.options.clone(),
                to: new.options.clone(),
            });
        }
        if old.comment != new.comment {
            middle.push(Change::SetTableComment {
                table: tname.clone(),
                from: old.comment.clone(),
                to: new.comment.clone(),
            });
        }
        if old.primary_key != new.primary_key {
            middle.push(Change::SetPrimaryKey {
                table: tname.clone(),
                from: old.primary_key.clone(),
                to: new.primary_key.clone(),
            });
        }
        for c in &old.columns {
            if new.column(&c.name).is_none() {
                middle.push(Change::DropColumn {
                    table: tname.clone(),
                    column: c.clone(),
                });
            }
        }
        for (name, columns) in &new.uniques {
            if old.uniques.get(name) != Some(columns) {
                adds_last.push(Change::AddUnique {
                    table: tname.clone(),
                    name: name.clone(),
                    columns: columns.clone(),
                });
            }
        }
        for (name, index) in &new.indexes {
            if old.indexes.get(name) != Some(index) {
                adds_last.push(Change::AddIndex {
                    table: tname.clone(),
                    name: name.clone(),
                    index: index.clone(),
                });
            }
        }
        for (name, expr) in &new.checks {
            if old.checks.get(name) != Some(expr) {
                adds_last.push(Change::AddCheck {
                    table: tname.clone(),
                    name: name.clone(),
                    expr: expr.clone(),
                });
            }
        }
        for (name, fk) in &new.foreign_keys {
            if old.foreign_keys.get(name) != Some(fk) {
                adds_last.push(Change::AddForeignKey {
                    table: tname.clone(),
                    name: name.clone(),
                    fk: fk.clone(),
                });
            }
        }
    }
    let dropped: Vec<&String> = from.tables.keys().filter(|n| !to.tables.contains_key(*n)).collect();
    let mut drop_order = referenced_first(from, &dropped);
    drop_order.reverse();
    for name in drop_order {
        middle.push(Change::DropTable {
            name: name.clone(),
            table: from.tables[name].clone(),
        });
    }
    for (name, labels) in &from.enums {
        if !to.enums.contains_key(name) {
            middle.push(Change::DropEnum {
                name: name.clone(),
                labels: labels.clone(),
            });
        }
    }
    for (name, sql) in &to.views {
        if from.views.get(name) != Some(sql)
            || (from.views.contains_key(name) && reads_retyped(from.views[name].as_str()))
        {
            adds_last.push(Change::CreateView {
                name: name.clone(),
                sql: sql.clone(),
            });
        }
    }
    let objects = super::objects::place(from, to);
    let mut out = objects.first;
    out.extend(drops_first);
    out.extend(objects.early);
    out.extend(middle);
    out.extend(adds_last);
    out.extend(objects.last);
    out.extend(late_drops);
    out.extend(objects.late);
    out
}

/// `true` when `sql` names `table` as a word (quoted or not): a view that
/// may read it.
fn mentions(sql: &str, table: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    sql.match_indices(table).any(|(at, _)| {
        let before = sql[..at].chars().next_back();
        let after = sql[at + table.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// `names` ordered so that a table comes after the tables it references.
fn referenced_first<'a>(schema: &'a Schema, names: &[&'a String]) -> Vec<&'a String> {
    let wanted: BTreeSet<&String> = names.iter().copied().collect();
    let mut done: BTreeSet<&String> = BTreeSet::new();
    let mut out = Vec::new();
    fn visit<'a>(
        schema: &'a Schema,
        name: &'a String,
        wanted: &BTreeSet<&'a String>,
        done: &mut BTreeSet<&'a String>,
        out: &mut Vec<&'a String>,
        depth: usize,
    ) {
        if done.contains(name) || depth > wanted.len() {
            return;
        }
        if let Some(t) = schema.tables.get(name) {
            for fk in t.foreign_keys.values() {
                if let Some((r, _)) = schema.tables.get_key_value(&fk.ref_table)
                    && r != name
                    && wanted.contains(r)
                {
                    visit(schema, r, wanted, done, out, depth + 1);
                }
            }
        }
        if done.insert(name) {
            out.push(name);
        }
    }
    for n in names {
        visit(schema, n, &wanted, &mut done, &mut out, 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::model::test_column as col;

    #[test]
    fn orders_creates_and_drops_by_references() {
        let mut a = Schema::default();
        let mut b = Schema::default();
        let parent = Table {
            columns: vec![col("id", "integer", false)],
            primary_key: vec!["id".into()],
            ..Table::default()
        };
        let mut child = Table {
            columns: vec![col("id", "integer", false), col("p", "integer", true)],
            ..Table::default()
        };
        child.foreign_keys.insert(
            "fk_child_p".into(),
            ForeignKey {
                columns: vec!["p".into()],
                ref_table: "parent".into(),
                ref_columns: vec!["id".into()],
                on_delete: "CASCADE".into(),
                on_update: "NO ACTION".into(),
            },
        );
        b.tables.insert("a_child".into(), child.clone());
        b.tables.insert("parent".into(), parent.clone());
        let up: Vec<String> = diff(&a, &b).iter().map(ToString::to_string).collect();
        assert_eq!(up, ["table parent is missing", "table a_child is missing"]);
        let down: Vec<String> = diff(&b, &a).iter().map(ToString::to_string).collect();
        assert_eq!(down, ["table a_child is not declared", "table parent is not declared"]);
        a = b.clone();
        b.tables
            .get_mut("parent")
            .unwrap()
            .columns
            .push(col("name", "text", false));
        b.tables.get_mut("a_child").unwrap().columns[1].nullable = false;
        let changes: Vec<String> = diff(&a, &b).iter().map(ToString::to_string).collect();
        assert_eq!(
            changes,
            [
                "column a_child.p is `p integer`, declared `p integer not null`",
                "column parent.name is missing (name text not null)"
            ]
        );
    }

    #[test]
    fn a_view_over_a_retyped_column_is_dropped_first_and_made_last() {
        let mut a = Schema::default();
        a.tables.insert(
            "t".into(),
            Table {
                columns: vec![col("id", "integer", false), col("c", "varchar(20)", true)],
                ..Table::default()
            },
        );
        a.views.insert("v".into(), "select \"c\" from \"t\"".into());
        a.views.insert("w".into(), "select 1 from t2".into());
        let mut b = a.clone();
        b.tables.get_mut("t").unwrap().columns[1].data_type = "varchar(40)".into();
        let changes: Vec<String> = diff(&a, &b).iter().map(|c| c.action()).collect();
        assert_eq!(changes.first().map(String::as_str), Some("drop view v"), "{changes:?}");
        assert_eq!(changes.last().map(String::as_str), Some("create view v"), "{changes:?}");
        assert!(!changes.iter().any(|c| c.contains("view w")), "{changes:?}");
        assert!(mentions("select a from t", "t") && !mentions("select a from t2", "t") && !mentions("tt", "t"));
    }
}
