//! `migrator test --with-data`: rows generated for every table of a
//! scratch database, so that a downgrade (and the upgrade after it) can be
//! checked for losing rows or changing values, and not only for leaving
//! the right schema.

use std::collections::BTreeMap;

use super::db::Db;
use crate::Dialect;
use crate::bookkeeping::quote;
use crate::schema::{Column, Schema, Table};

/// How many rows each table gets per revision tested.
const ROWS: usize = 2;

/// A literal of `column`'s type for the `n`th generated row (`None`: no
/// value of that type can be made up, so NULL or nothing).
pub(crate) fn literal(dialect: Dialect, column: &Column, n: u64, schema: &Schema) -> Option<String> {
    let t = column.data_type.to_lowercase();
    let has = |w: &str| t.contains(w);
    if let Some(labels) = schema.enums.get(&t) {
        return labels.first().map(|l| format!("'{}'", l.replace('\'', "''")));
    }
    if has("bool") {
        return Some(if dialect == Dialect::Postgres { "TRUE" } else { "1" }.to_owned());
    }
    if has("int") || has("serial") || has("numeric") || has("decimal") || has("real") || has("double") || has("float") {
        return Some(n.to_string());
    }
    if has("timestamp") || has("datetime") {
        return Some(format!("'2026-01-01 00:00:{:02}'", n % 60));
    }
    if has("date") {
        return Some(format!("'2026-01-{:02}'", 1 + n % 28));
    }
    if has("time") {
        return Some(format!("'12:00:{:02}'", n % 60));
    }
    if has("uuid") {
        return Some(format!("'00000000-0000-0000-0000-{n:012}'"));
    }
    if has("json") {
        return Some(format!("'{{\"n\": {n}}}'"));
    }
    if has("char") || has("text") || has("clob") || t.is_empty() {
        // Short enough for the narrowest VARCHAR a key would have.
        return Some(format!("'r{n}'"));
    }
    None
}

/// Tables in an order where a table comes after those its keys reference.
fn parents_first(schema: &Schema) -> Vec<&String> {
    let mut out: Vec<&String> = Vec::new();
    let mut left: Vec<&String> = schema.tables.keys().collect();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|name| {
            let t = &schema.tables[*name];
            let ready = t.foreign_keys.values().all(|fk| {
                fk.ref_table == **name || out.contains(&&fk.ref_table) || !schema.tables.contains_key(&fk.ref_table)
            });
            if ready {
                out.push(name);
            }
            !ready
        });
        if left.len() == before {
            // A cycle of keys: the rest in name order (their keys may refuse).
            out.append(&mut left);
        }
    }
    out
}

/// Inserts [`ROWS`] rows into every table of `schema`, values numbered from
/// `*next` on (so unique columns stay unique across calls). The `i`th row's
/// key column takes the value its parent's `i`th row was given (so a key
/// that is also a primary key stays unique). Returns the tables that
/// refused the rows (a check, a type this cannot make up), with the
/// database's reason.
pub(crate) async fn fill(db: &mut Db, schema: &Schema, next: &mut u64) -> Vec<(String, String)> {
    let d = db.dialect();
    let mut given: Given = BTreeMap::new();
    let mut refused = Vec::new();
    for name in parents_first(schema) {
        let t = &schema.tables[name];
        for i in 0..ROWS {
            *next += 1;
            match row(d, (name, t), (i, *next), schema, &given) {
                Ok((sql, values)) => match db.exec(&sql, &[]).await {
                    Ok(_) => {
                        for (col, v) in values {
                            given.entry((name.clone(), col)).or_default().push(v);
                        }
                    }
                    Err(e) => {
                        refused.push((name.clone(), super::error::describe(&e)));
                        break;
                    }
                },
                Err(why) => {
                    refused.push((name.clone(), why));
                    break;
                }
            }
        }
    }
    refused
}

/// `true` when `expr` names `column` as a word.
fn names(expr: &str, column: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    expr.match_indices(column).any(|(at, _)| {
        !expr[..at].chars().next_back().is_some_and(word) && !expr[at + column.len()..].chars().next().is_some_and(word)
    })
}

/// The values given so far, by table and column, in row order.
type Given = BTreeMap<(String, String), Vec<String>>;

/// The `INSERT` of the `i`th generated row of `name`, numbered `n`, and the
/// values it gives.
fn row(
    d: Dialect,
    (name, t): (&str, &Table),
    (i, n): (usize, u64),
    schema: &Schema,
    given: &Given,
) -> Result<(String, Vec<(String, String)>), String> {
    let mut cols = Vec::new();
    let mut values = Vec::new();
    for c in &t.columns {
        let key = t.foreign_keys.values().find_map(|fk| {
            let i = fk.columns.iter().position(|x| *x == c.name)?;
            Some((fk.ref_table.clone(), fk.ref_columns.get(i)?.clone()))
        });
        let value = match key {
            // A key to this same table: its own earlier row, or nothing.
            Some((parent, pcol)) => match given.get(&(parent.clone(), pcol.clone())) {
                Some(v) => v.get(v.len().saturating_sub(ROWS) + i).or(v.last()).cloned(),
                None if c.nullable => None,
                None => return Err(format!("no row in {parent} for the key on {}", c.name)),
            },
            // MariaDB's JSON is a text column checked by json_valid().
            None if t.checks.values().any(|e| e.contains("json_valid") && names(e, &c.name)) => {
                Some(format!("'{{\"n\": {n}}}'"))
            }
            None => literal(d, c, n, schema),
        };
        match value {
            Some(v) => {
                cols.push(quote(d, &c.name));
                values.push((c.name.clone(), v));
            }
            None if c.nullable || c.default.is_some() || c.autoincrement => {}
            None => return Err(format!("no value of type {} for {}", c.data_type, c.name)),
        }
    }
    // A PostgreSQL identity column (even GENERATED ALWAYS) takes the value.
    let identity = d == Dialect::Postgres && t.columns.iter().any(|c| c.autoincrement && !c.serial);
    let overriding = if identity { " OVERRIDING SYSTEM VALUE" } else { "" };
    let sql = format!(
        "INSERT INTO {} ({}){overriding} VALUES ({})",
        quote(d, name),
        cols.join(", "),
        values.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(", ")
    );
    Ok((sql, values))
}

/// The rows of every table in both `a` and `b`, over the columns in both,
/// as sorted text lines per table.
pub(crate) async fn contents(
    db: &mut Db,
    a: &Schema,
    b: &Schema,
) -> Result<BTreeMap<String, Vec<String>>, sqlx::Error> {
    let d = db.dialect();
    let text = match d {
        Dialect::Mysql => "CHAR",
        Dialect::Postgres | Dialect::Sqlite => "TEXT",
    };
    let mut out = BTreeMap::new();
    for (name, ta) in &a.tables {
        let Some(tb) = b.tables.get(name) else { continue };
        let cols: Vec<&str> = ta
            .columns
            .iter()
            .filter(|c| tb.column(&c.name).is_some())
            .map(|c| c.name.as_str())
            .collect();
        if cols.is_empty() {
            continue;
        }
        let select: Vec<String> = cols
            .iter()
            .map(|c| format!("CAST({} AS {text})", quote(d, c)))
            .collect();
        let rows = db
            .rows(&format!("SELECT {} FROM {}", select.join(", "), quote(d, name)), &[])
            .await?;
        let mut lines: Vec<String> = rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|v| v.unwrap_or_else(|| "NULL".to_owned()))
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect();
        lines.sort();
        out.insert(format!("{name} ({})", cols.join(", ")), lines);
    }
    Ok(out)
}

/// What differs between two [`contents`]: per table, rows gone and rows
/// that appeared (a changed value is one of each).
pub(crate) fn lost(before: &BTreeMap<String, Vec<String>>, after: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for (table, rows) in before {
        let now = after.get(table).cloned().unwrap_or_default();
        let gone: Vec<&String> = rows.iter().filter(|r| !now.contains(r)).collect();
        let new: Vec<&String> = now.iter().filter(|r| !rows.contains(r)).collect();
        if gone.is_empty() && new.is_empty() {
            continue;
        }
        let mut line = format!("{table}: {} of {} row(s) lost or changed", gone.len(), rows.len());
        if let Some(first) = gone.first() {
            line.push_str(&format!(" (e.g. {first}"));
            match new.first() {
                Some(n) => line.push_str(&format!(", now {n})")),
                None => line.push(')'),
            }
        }
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::test_column;

    #[test]
    fn values_follow_the_column_type() {
        let s = Schema::default();
        let lit = |d, ty: &str| literal(d, &test_column("c", ty, false), 7, &s);
        assert_eq!(lit(Dialect::Postgres, "bigint").as_deref(), Some("7"));
        assert_eq!(lit(Dialect::Postgres, "boolean").as_deref(), Some("TRUE"));
        assert_eq!(lit(Dialect::Mysql, "varchar(20)").as_deref(), Some("'r7'"));
        assert_eq!(
            lit(Dialect::Mysql, "datetime").as_deref(),
            Some("'2026-01-01 00:00:07'")
        );
        assert_eq!(lit(Dialect::Postgres, "date").as_deref(), Some("'2026-01-08'"));
        assert_eq!(lit(Dialect::Postgres, "bytea"), None);
    }

    #[test]
    fn a_loss_names_the_table_and_a_row() {
        let before = BTreeMap::from([("t (id, a)".to_owned(), vec!["1 | x".to_owned(), "2 | y".to_owned()])]);
        let after = BTreeMap::from([("t (id, a)".to_owned(), vec!["1 | x".to_owned()])]);
        assert_eq!(
            lost(&before, &after),
            ["t (id, a): 1 of 2 row(s) lost or changed (e.g. 2 | y)"]
        );
        assert!(lost(&before, &before).is_empty());
    }
}
