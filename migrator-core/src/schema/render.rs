//! Changes as SQL in a dialect: ALTER where the dialect can, SQLite's table
//! rebuild where it cannot. Drops are marked for review, and a drop plus
//! add of a same-typed column on one table gets a rename hint.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::diff::Change;
use super::model::{Column, Index, Schema, Table};
use crate::Dialect;
use crate::bookkeeping::quote;

/// Rendered SQL and what a person should look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// The statements, each ending in `;`, with `-- REVIEW:` comments.
    pub sql: String,
    /// How many `-- REVIEW:` markers the SQL carries.
    pub reviews: usize,
}

/// The SQL that applies `changes` (from `diff(from, to)`) on `dialect`.
pub fn render(changes: &[Change], from: &Schema, to: &Schema, dialect: Dialect) -> Rendered {
    let mut out = Rendered::default();
    let rebuilt = if dialect == Dialect::Sqlite {
        tables_to_rebuild(changes)
    } else {
        BTreeSet::new()
    };
    let mut done_rebuilds = BTreeSet::new();
    let hints = rename_hints(changes);
    for change in changes {
        // A rename comes first and is never part of a rebuild: SQLite
        // renames in place, and the rebuild after it copies the column
        // under its new name.
        if let Change::RenameColumn { table, from, to } = change {
            let _ = writeln!(
                out.sql,
                "ALTER TABLE {} RENAME COLUMN {} TO {};",
                q(dialect, table),
                q(dialect, from),
                q(dialect, to)
            );
            continue;
        }
        if let Some(t) = change.table()
            && rebuilt.contains(t)
        {
            if done_rebuilds.insert(t.to_owned())
                && let (Some(old), Some(new)) = (from.tables.get(t), to.tables.get(t))
            {
                let dropped: Vec<&Column> = old.columns.iter().filter(|c| new.column(&c.name).is_none()).collect();
                if !dropped.is_empty() {
                    let mut text = format!("drops data: column(s) {} of {t}", names(&dropped));
                    for c in &dropped {
                        if let Some(new) = hints.get(&(t.to_owned(), c.name.clone())) {
                            let _ = write!(
                                text,
                                "; rename? ({} to {new}: generate it again with --rename {t}.{}={new} to keep its rows)",
                                c.name, c.name
                            );
                        }
                    }
                    review(&mut out, &text);
                }
                for c in changes.iter().filter(|c| c.table() == Some(t)) {
                    if let Some(risk) = needs_review(c, from, dialect) {
                        review(&mut out, &risk);
                    }
                }
                out.sql += &rebuild(t, old, new);
            }
            continue;
        }
        if let Some(risk) = needs_review(change, from, dialect) {
            review(&mut out, &risk);
        }
        render_one(&mut out, change, dialect, &hints, (from, to));
    }
    if !done_rebuilds.is_empty() {
        // Step 10 of SQLite's procedure: views go before the tables they
        // read are rebuilt (renaming the new table checks every view, and
        // one over the dropped table fails) and come back afterwards. Views
        // the changes drop or create already are left to them.
        let (mut before, mut after) = (String::new(), String::new());
        for name in from.views.keys() {
            if !changes
                .iter()
                .any(|c| matches!(c, Change::DropView { name: n, .. } if n == name))
            {
                let _ = writeln!(before, "DROP VIEW {};", q(dialect, name));
            }
        }
        for (name, sql) in &to.views {
            let created = changes
                .iter()
                .any(|c| matches!(c, Change::CreateView { name: n, .. } if n == name));
            if from.views.contains_key(name) && !created {
                let _ = writeln!(
                    after,
                    "CREATE VIEW {} AS {};",
                    q(dialect, name),
                    sql.trim_end_matches(';')
                );
            }
        }
        // Dropping the old table dropped its triggers: they come back on
        // the new one, unless the changes make them already.
        for (name, trigger) in &to.triggers {
            let on_rebuilt = trigger.table.as_deref().is_some_and(|t| done_rebuilds.contains(t));
            let created = changes.iter().any(
                |c| matches!(c, Change::CreateObject { name: n, kind: super::ObjectKind::Trigger, .. } if n == name),
            );
            if on_rebuilt && !created {
                let _ = writeln!(after, "{};", trigger.sql.trim_end().trim_end_matches(';'));
            }
        }
        out.sql.insert_str(0, &before);
        out.sql += &after;
        // Step 1 of SQLite's procedure: the executor switches foreign keys
        // off around the transaction and checks them before it commits, so
        // dropping a referenced table fires no ON DELETE CASCADE.
        out.sql.insert_str(
            0,
            &format!(
                "-- foreign keys off while tables are rebuilt; checked (foreign_key_check) before commit\n{};\n",
                crate::FOREIGN_KEYS_OFF
            ),
        );
    }
    out
}

/// What a person must look at before `change` runs: what can make it fail
/// on a table that already has rows, and the way round it, or what was not
/// generated; `None` for changes that need nothing, and for tables created
/// by the same revision (which have no rows).
fn needs_review(change: &Change, from: &Schema, dialect: Dialect) -> Option<String> {
    let table = change.table()?;
    from.tables.get(table)?;
    let kind = |c: &Column| match (c.autoincrement, c.serial) {
        (true, true) => "a serial",
        (true, false) => "an identity",
        _ => "a plain column",
    };
    match change {
        // Between a serial, an identity and a plain column, with the values
        // the table already holds, no one statement is right.
        Change::AlterColumn { from: old, to: new, .. } if dialect == Dialect::Postgres && kind(old) != kind(new) => {
            Some(format!(
                "{table}.{} changes from {} to {}; not generated. Write it by hand: for an identity, ALTER COLUMN \
                 {} DROP DEFAULT, then ADD GENERATED BY DEFAULT AS IDENTITY, then RESTART it above SELECT max({}) \
                 FROM {table}",
                new.name,
                kind(old),
                kind(new),
                new.name,
                new.name
            ))
        }
        Change::AddColumn { column, .. } if !column.nullable && column.default.is_none() && !column.autoincrement => {
            Some(format!(
                "fails on a table with rows: {table}.{} is NOT NULL without a default. Add it with a DEFAULT, or \
                 add it nullable, backfill it (UPDATE {table} SET {} = ...), then set it NOT NULL in a later revision",
                column.name, column.name
            ))
        }
        Change::AlterColumn { from: old, to: new, .. } if old.nullable && !new.nullable => Some(format!(
            "fails if {table}.{} holds NULLs: backfill them first (UPDATE {table} SET {} = ... WHERE {} IS NULL)",
            new.name, new.name, new.name
        )),
        Change::AlterColumn { from: old, to: new, .. }
            if old.data_type != new.data_type && !widens(&old.data_type, &new.data_type) =>
        {
            Some(format!(
                "changes the type of {table}.{} from {} to {}: fails, or on some databases truncates, where existing \
             values do not fit the new type; check them first",
                new.name, old.data_type, new.data_type
            ))
        }
        Change::AddUnique { columns, .. } => Some(format!(
            "fails if {table} has rows with the same ({}): remove the duplicates first",
            columns.join(", ")
        )),
        Change::AddIndex { index, .. } if index.unique => Some(format!(
            "fails if {table} has rows with the same ({}): remove the duplicates first",
            index.columns.join(", ")
        )),
        _ => None,
    }
}

/// `true` when every value of type `old` fits `new`: the same type with a
/// longer length (`varchar(20)` to `varchar(40)`), or a wider integer.
fn widens(old: &str, new: &str) -> bool {
    let split = |t: &str| match t.split_once('(') {
        Some((base, rest)) => (
            base.trim().to_owned(),
            rest.trim_end_matches(')').trim().parse::<u64>().ok(),
        ),
        None => (t.trim().to_owned(), None),
    };
    let ((ob, ol), (nb, nl)) = (split(old), split(new));
    let rank = |b: &str| ["smallint", "integer", "int", "bigint"].iter().position(|x| *x == b);
    match (ol, nl) {
        (Some(o), Some(n)) if ob == nb => n >= o,
        _ => matches!((rank(&ob), rank(&nb)), (Some(o), Some(n)) if n >= o),
    }
}

fn names(cols: &[&Column]) -> String {
    cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
}

fn review(out: &mut Rendered, what: &str) {
    out.reviews += 1;
    let _ = writeln!(out.sql, "-- REVIEW: {what}");
}

/// SQLite tables whose changes ALTER cannot express.
fn tables_to_rebuild(changes: &[Change]) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    for c in changes {
        let needs = matches!(
            c,
            Change::AlterColumn { .. }
                | Change::SetPrimaryKey { .. }
                | Change::AddUnique { .. }
                | Change::DropUnique { .. }
                | Change::AddForeignKey { .. }
                | Change::DropForeignKey { .. }
                | Change::AddCheck { .. }
                | Change::DropCheck { .. }
                | Change::DropColumn { .. }
        ) || matches!(c, Change::AddColumn { column, .. } if !column.nullable && column.default.is_none());
        if needs && let Some(t) = c.table() {
            set.insert(t.to_owned());
        }
    }
    set
}

/// Dropped and added columns of the same type on one table: maybe a rename.
fn rename_hints(changes: &[Change]) -> BTreeMap<(String, String), String> {
    let mut hints = BTreeMap::new();
    for c in changes {
        if let Change::DropColumn { table, column } = c {
            let added = changes.iter().find_map(|a| match a {
                Change::AddColumn { table: t, column: n } if t == table && n.data_type == column.data_type => Some(n),
                _ => None,
            });
            if let Some(n) = added {
                hints.insert((table.clone(), column.name.clone()), n.name.clone());
            }
        }
    }
    hints
}

fn q(dialect: Dialect, name: &str) -> String {
    quote(dialect, name)
}

fn cols(dialect: Dialect, names: &[String]) -> String {
    names.iter().map(|n| q(dialect, n)).collect::<Vec<_>>().join(", ")
}

/// `name type [NOT NULL] [DEFAULT ...]`, with the dialect's auto-increment.
fn column_def(dialect: Dialect, c: &Column, inline_pk: bool) -> String {
    let mut s = format!("{} {}", q(dialect, &c.name), c.data_type.to_uppercase());
    if c.autoincrement {
        match dialect {
            Dialect::Sqlite if inline_pk => s = format!("{} INTEGER PRIMARY KEY AUTOINCREMENT", q(dialect, &c.name)),
            // As declared: a serial stays a serial (a sequence default the
            // column owns), an identity an identity.
            Dialect::Postgres if c.serial => s = format!("{} {}", q(dialect, &c.name), serial_type(&c.data_type)),
            Dialect::Postgres => s += " GENERATED BY DEFAULT AS IDENTITY",
            Dialect::Mysql => s += " AUTO_INCREMENT",
            Dialect::Sqlite => {}
        }
    }
    let sqlite_rowid = dialect == Dialect::Sqlite && inline_pk && c.autoincrement;
    if !c.nullable && !sqlite_rowid {
        s += " NOT NULL";
    }
    if let Some(d) = &c.default
        && !c.autoincrement
    {
        s += &format!(" DEFAULT {d}");
    }
    // MySQL keeps a column's comment in its definition; PostgreSQL in a
    // statement of its own (`comment_on`).
    if let (Some(comment), Dialect::Mysql) = (&c.comment, dialect) {
        s += &format!(" COMMENT {}", string_literal(dialect, comment));
    }
    s
}

/// A string as a literal of `dialect` (MySQL also reads backslashes as
/// escapes).
fn string_literal(dialect: Dialect, text: &str) -> String {
    let mut t = text.replace('\'', "''");
    if dialect == Dialect::Mysql {
        t = t.replace('\\', "\\\\");
    }
    format!("'{t}'")
}

/// PostgreSQL's `COMMENT ON COLUMN` for `column`'s comment (`IS NULL`
/// removes one); nothing elsewhere.
fn comment_on(dialect: Dialect, table: &str, column: &Column) -> String {
    if dialect != Dialect::Postgres {
        return String::new();
    }
    let what = column
        .comment
        .as_deref()
        .map_or_else(|| "NULL".to_owned(), |c| string_literal(dialect, c));
    format!(
        "COMMENT ON COLUMN {}.{} IS {what};\n",
        q(dialect, table),
        q(dialect, &column.name)
    )
}

/// The `SERIAL` type of an integer type.
fn serial_type(data_type: &str) -> &'static str {
    match data_type {
        "smallint" => "SMALLSERIAL",
        "bigint" => "BIGSERIAL",
        _ => "SERIAL",
    }
}

fn create_table(dialect: Dialect, name: &str, t: &Table) -> String {
    let inline_pk = dialect == Dialect::Sqlite
        && t.primary_key.len() == 1
        && t.column(&t.primary_key[0]).is_some_and(|c| c.autoincrement);
    let mut parts: Vec<String> = t
        .columns
        .iter()
        .map(|c| column_def(dialect, c, inline_pk && t.primary_key[0] == c.name))
        .collect();
    if !t.primary_key.is_empty() && !inline_pk {
        parts.push(format!(
            "{}PRIMARY KEY ({})",
            pk_name(dialect, t),
            cols(dialect, &t.primary_key)
        ));
    }
    for (uname, ucols) in &t.uniques {
        parts.push(format!(
            "CONSTRAINT {} UNIQUE ({})",
            q(dialect, uname),
            cols(dialect, ucols)
        ));
    }
    for (cname, expr) in &t.checks {
        parts.push(format!("CONSTRAINT {} CHECK ({expr})", q(dialect, cname)));
    }
    for (fname, fk) in &t.foreign_keys {
        parts.push(format!(
            "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
            q(dialect, fname),
            cols(dialect, &fk.columns),
            q(dialect, &fk.ref_table),
            cols(dialect, &fk.ref_columns),
            fk.on_delete,
            fk.on_update
        ));
    }
    let options = match (&t.options, dialect) {
        (Some(o), Dialect::Mysql) => super::objects::create_options(o),
        _ => String::new(),
    };
    let mut sql = format!(
        "CREATE TABLE {} (\n    {}\n){options};\n",
        q(dialect, name),
        parts.join(",\n    ")
    );
    for (iname, index) in &t.indexes {
        sql += &create_index(dialect, name, iname, index, Some(t));
    }
    for c in t.columns.iter().filter(|c| c.comment.is_some()) {
        sql += &comment_on(dialect, name, c);
    }
    if t.comment.is_some() {
        sql += &table_comment(dialect, name, t.comment.as_deref());
    }
    sql
}

/// Sets (or with `None` removes) a table's comment; nothing on SQLite.
fn table_comment(dialect: Dialect, table: &str, comment: Option<&str>) -> String {
    match (dialect, comment) {
        (Dialect::Sqlite, _) => String::new(),
        (Dialect::Postgres, Some(c)) => format!(
            "COMMENT ON TABLE {} IS {};\n",
            q(dialect, table),
            string_literal(dialect, c)
        ),
        (Dialect::Postgres, None) => format!("COMMENT ON TABLE {} IS NULL;\n", q(dialect, table)),
        (Dialect::Mysql, c) => format!(
            "ALTER TABLE {} COMMENT = {};\n",
            q(dialect, table),
            string_literal(dialect, c.unwrap_or_default())
        ),
    }
}

/// `CREATE INDEX`. An index part that names a column of `t` (the table as
/// it will be) is quoted; anything else is an expression, written as read.
/// `CONSTRAINT name ` for a primary key whose name the schema knows
/// (PostgreSQL), so that the database keeps the declared name and a later
/// change can drop it by that name.
fn pk_name(dialect: Dialect, t: &Table) -> String {
    match (&t.primary_key_name, dialect) {
        (Some(name), Dialect::Postgres) => format!("CONSTRAINT {} ", q(dialect, name)),
        _ => String::new(),
    }
}

fn create_index(dialect: Dialect, table: &str, name: &str, index: &Index, t: Option<&Table>) -> String {
    let columns: Vec<String> = index
        .columns
        .iter()
        .map(|c| {
            if t.is_some_and(|t| t.column(c).is_some()) || is_plain_name(c) {
                q(dialect, c)
            } else {
                c.clone()
            }
        })
        .collect();
    let mut s = format!(
        "CREATE {}INDEX {} ON {} ({})",
        if index.unique { "UNIQUE " } else { "" },
        q(dialect, name),
        q(dialect, table),
        columns.join(", ")
    );
    if let Some(p) = &index.predicate {
        s += &format!(" WHERE {p}");
    }
    s + ";\n"
}

fn is_plain_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

fn drop_index(dialect: Dialect, table: &str, name: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("DROP INDEX {} ON {};\n", q(dialect, name), q(dialect, table)),
        _ => format!("DROP INDEX {};\n", q(dialect, name)),
    }
}

/// SQLite's documented procedure: create the new table, copy the rows,
/// drop the old one, rename, recreate its indexes. It runs with foreign
/// keys off (the `PRAGMA foreign_keys = OFF` that `render` puts first,
/// which the executor hoists out of the transaction), so that dropping the
/// old table deletes no row of the tables that reference it.
fn rebuild(name: &str, old: &Table, new: &Table) -> String {
    let d = Dialect::Sqlite;
    let tmp = format!("_migrator_rebuild_{name}");
    let common: Vec<String> = new
        .columns
        .iter()
        .filter(|c| old.column(&c.name).is_some())
        .map(|c| c.name.clone())
        .collect();
    let mut sql = format!("-- rebuild {name}: SQLite cannot ALTER this\n");
    sql += &create_table(
        d,
        &tmp,
        &Table {
            indexes: BTreeMap::new(),
            ..new.clone()
        },
    );
    let _ = writeln!(
        sql,
        "INSERT INTO {} ({c}) SELECT {c} FROM {};",
        q(d, &tmp),
        q(d, name),
        c = cols(d, &common)
    );
    let _ = writeln!(sql, "DROP TABLE {};", q(d, name));
    let _ = writeln!(sql, "ALTER TABLE {} RENAME TO {};", q(d, &tmp), q(d, name));
    for (iname, index) in &new.indexes {
        sql += &create_index(d, name, iname, index, Some(new));
    }
    sql
}

fn render_one(
    out: &mut Rendered,
    change: &Change,
    d: Dialect,
    hints: &BTreeMap<(String, String), String>,
    (from, to): (&Schema, &Schema),
) {
    if let Some(sql) = super::objects::render(change, d) {
        out.sql += &sql;
        return;
    }
    let s = &mut String::new();
    match change {
        Change::CreateEnum { name, labels } => {
            let list: Vec<String> = labels.iter().map(|l| format!("'{}'", l.replace('\'', "''"))).collect();
            let _ = writeln!(s, "CREATE TYPE {} AS ENUM ({});", q(d, name), list.join(", "));
        }
        Change::DropEnum { name, .. } => {
            let _ = writeln!(s, "DROP TYPE {};", q(d, name));
        }
        Change::CreateTable { name, table } => *s += &create_table(d, name, table),
        Change::DropTable { name, .. } => {
            review(out, &format!("drops data: table {name}"));
            let _ = writeln!(s, "DROP TABLE {};", q(d, name));
        }
        Change::AddColumn { table, column } => {
            let _ = writeln!(
                s,
                "ALTER TABLE {} ADD COLUMN {};",
                q(d, table),
                column_def(d, column, false)
            );
            if column.comment.is_some() {
                *s += &comment_on(d, table, column);
            }
        }
        Change::DropColumn { table, column } => {
            match hints.get(&(table.clone(), column.name.clone())) {
                Some(new) => review(
                    out,
                    &format!(
                        "drops data: column {table}.{}; rename? (to {new}: generate it again with --rename \
                         {table}.{}={new} to keep its rows)",
                        column.name, column.name
                    ),
                ),
                None => review(out, &format!("drops data: column {table}.{}", column.name)),
            }
            let _ = writeln!(s, "ALTER TABLE {} DROP COLUMN {};", q(d, table), q(d, &column.name));
        }
        Change::AlterColumn { table, from, to } => alter_column(s, d, table, from, to),
        Change::SetPrimaryKey {
            table,
            from: old_key,
            to: new_key,
        } => {
            match d {
                Dialect::Mysql => {
                    if !old_key.is_empty() {
                        let _ = writeln!(s, "ALTER TABLE {} DROP PRIMARY KEY;", q(d, table));
                    }
                }
                _ => {
                    if !old_key.is_empty() {
                        // The name introspection read; PostgreSQL's default
                        // when there was none to read.
                        let name = from
                            .tables
                            .get(table)
                            .and_then(|t| t.primary_key_name.clone())
                            .unwrap_or_else(|| format!("{table}_pkey"));
                        let _ = writeln!(s, "ALTER TABLE {} DROP CONSTRAINT {};", q(d, table), q(d, &name));
                    }
                }
            }
            if !new_key.is_empty() {
                let named = to.tables.get(table).map_or(String::new(), |t| pk_name(d, t));
                let _ = writeln!(
                    s,
                    "ALTER TABLE {} ADD {named}PRIMARY KEY ({});",
                    q(d, table),
                    cols(d, new_key)
                );
            }
        }
        Change::AddUnique { table, name, columns } => {
            let _ = writeln!(
                s,
                "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({});",
                q(d, table),
                q(d, name),
                cols(d, columns)
            );
        }
        Change::DropUnique { table, name, .. } => {
            let _ = match d {
                Dialect::Mysql => writeln!(s, "ALTER TABLE {} DROP INDEX {};", q(d, table), q(d, name)),
                _ => writeln!(s, "ALTER TABLE {} DROP CONSTRAINT {};", q(d, table), q(d, name)),
            };
        }
        Change::AddIndex { table, name, index } => {
            *s += &create_index(d, table, name, index, to.tables.get(table));
        }
        Change::DropIndex { table, name, .. } => *s += &drop_index(d, table, name),
        Change::AddForeignKey { table, name, fk } => {
            // The index MySQL would make for the key, made first under the
            // key's name: without it MySQL would take over another index
            // on these columns, which then could not be dropped.
            if d == Dialect::Mysql
                && to
                    .tables
                    .get(table)
                    .is_some_and(|t| t.foreign_key_indexes.contains(name))
            {
                let _ = writeln!(
                    s,
                    "CREATE INDEX {} ON {} ({});",
                    q(d, name),
                    q(d, table),
                    cols(d, &fk.columns)
                );
            }
            let _ = writeln!(
                s,
                "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {};",
                q(d, table),
                q(d, name),
                cols(d, &fk.columns),
                q(d, &fk.ref_table),
                cols(d, &fk.ref_columns),
                fk.on_delete,
                fk.on_update
            );
        }
        Change::DropForeignKey { table, name, .. } => {
            let _ = match d {
                Dialect::Mysql => writeln!(s, "ALTER TABLE {} DROP FOREIGN KEY {};", q(d, table), q(d, name)),
                _ => writeln!(s, "ALTER TABLE {} DROP CONSTRAINT {};", q(d, table), q(d, name)),
            };
            // The index MySQL made for the key stays unless dropped too.
            if d == Dialect::Mysql
                && from
                    .tables
                    .get(table)
                    .is_some_and(|t| t.foreign_key_indexes.contains(name))
                && to.tables.contains_key(table)
            {
                let _ = writeln!(s, "ALTER TABLE {} DROP INDEX {};", q(d, table), q(d, name));
            }
        }
        Change::AddCheck { table, name, expr } => {
            let _ = writeln!(
                s,
                "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({expr});",
                q(d, table),
                q(d, name)
            );
        }
        Change::DropCheck { table, name, .. } => {
            let _ = match d {
                Dialect::Mysql => writeln!(s, "ALTER TABLE {} DROP CONSTRAINT {};", q(d, table), q(d, name)),
                _ => writeln!(s, "ALTER TABLE {} DROP CONSTRAINT {};", q(d, table), q(d, name)),
            };
        }
        Change::CreateView { name, sql } => {
            let _ = writeln!(s, "CREATE VIEW {} AS {};", q(d, name), sql.trim_end_matches(';'));
        }
        Change::DropView { name, .. } => {
            let _ = writeln!(s, "DROP VIEW {};", q(d, name));
        }
        Change::SetTableComment { table, to, .. } => *s += &table_comment(d, table, to.as_deref()),
        // Rendered before the rebuild check in `render`.
        Change::RenameColumn { .. } => {}
        // Rendered by `objects::render` above.
        Change::SetTableOptions { .. }
        | Change::CreateObject { .. }
        | Change::DropObject { .. }
        | Change::ReplaceObject { .. } => {}
    }
    out.sql += s;
}

fn alter_column(s: &mut String, d: Dialect, table: &str, from: &Column, to: &Column) {
    let (t, c) = (q(d, table), q(d, &to.name));
    match d {
        Dialect::Mysql => {
            let _ = writeln!(s, "ALTER TABLE {t} MODIFY COLUMN {};", column_def(d, to, false));
        }
        // Not generated: `needs_review` says what to write by hand.
        Dialect::Postgres if (from.autoincrement, from.serial) != (to.autoincrement, to.serial) => {}
        _ => {
            if from.data_type != to.data_type {
                let _ = writeln!(
                    s,
                    "ALTER TABLE {t} ALTER COLUMN {c} TYPE {} USING {c}::{};",
                    to.data_type, to.data_type
                );
            }
            if from.nullable != to.nullable {
                let what = if to.nullable { "DROP" } else { "SET" };
                let _ = writeln!(s, "ALTER TABLE {t} ALTER COLUMN {c} {what} NOT NULL;");
            }
            if from.default != to.default {
                let _ = match &to.default {
                    Some(v) => writeln!(s, "ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {v};"),
                    None => writeln!(s, "ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;"),
                };
            }
            if from.comment != to.comment {
                *s += &comment_on(d, table, to);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::diff::diff;
    use super::*;

    use super::super::model::test_column as col;

    /// Every statement that can fail on existing rows carries a review with
    /// the way round it; widening and new tables carry none.
    #[test]
    fn what_can_fail_on_rows_is_marked_for_review() {
        let mut from = Schema::default();
        from.tables.insert(
            "t".into(),
            Table {
                columns: vec![
                    col("id", "integer", false),
                    col("a", "integer", true),
                    col("s", "varchar(20)", true),
                ],
                primary_key: vec!["id".into()],
                ..Table::default()
            },
        );
        let mut to = from.clone();
        let t = to.tables.get_mut("t").unwrap();
        t.columns[1].nullable = false;
        t.columns[2].data_type = "varchar(40)".into();
        t.columns.push(col("b", "integer", false));
        t.indexes.insert(
            "ux".into(),
            Index {
                columns: vec!["a".into()],
                unique: true,
                predicate: None,
            },
        );
        to.tables.insert(
            "fresh".into(),
            Table {
                columns: vec![col("id", "integer", false), col("n", "integer", false)],
                ..Table::default()
            },
        );
        for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let up = render(&diff(&from, &to), &from, &to, dialect);
            let reviews: Vec<&str> = up.sql.lines().filter(|l| l.starts_with("-- REVIEW:")).collect();
            assert_eq!(reviews.len(), 3, "{dialect}: {}", up.sql);
            assert_eq!(up.reviews, 3);
            assert!(
                reviews.iter().any(|r| r.contains("t.a holds NULLs: backfill")),
                "{reviews:?}"
            );
            assert!(
                reviews.iter().any(|r| r.contains("t.b is NOT NULL without a default")),
                "{reviews:?}"
            );
            assert!(
                reviews.iter().any(|r| r.contains("rows with the same (a)")),
                "{reviews:?}"
            );
        }
        assert!(widens("varchar(20)", "varchar(40)") && widens("int(11)", "bigint(20)") && widens("integer", "bigint"));
        assert!(!widens("varchar(40)", "varchar(20)") && !widens("bigint", "integer") && !widens("text", "integer"));
    }

    #[test]
    fn column_comments_are_set_where_each_dialect_keeps_them() {
        let mut from = Schema::default();
        from.tables.insert(
            "t".into(),
            Table {
                columns: vec![col("id", "integer", false), col("a", "integer", true)],
                ..Table::default()
            },
        );
        let mut to = from.clone();
        to.tables.get_mut("t").unwrap().columns[1].comment = Some("it's a \\ note".into());
        let changes = diff(&from, &to);
        let pg = render(&changes, &from, &to, Dialect::Postgres).sql;
        assert_eq!(pg.trim(), "COMMENT ON COLUMN \"t\".\"a\" IS 'it''s a \\ note';");
        let my = render(&changes, &from, &to, Dialect::Mysql).sql;
        assert_eq!(
            my.trim(),
            "ALTER TABLE `t` MODIFY COLUMN `a` INTEGER COMMENT 'it''s a \\\\ note';"
        );
        let back = render(&diff(&to, &from), &to, &from, Dialect::Postgres).sql;
        assert_eq!(back.trim(), "COMMENT ON COLUMN \"t\".\"a\" IS NULL;");
    }
}
