//! Reading a live schema into [`Schema`], per dialect. Migrator's own
//! tables are left out.

use std::collections::BTreeMap;

use super::db::{Db, Value};
use super::error::{Context, Error};
use crate::Dialect;
use crate::bookkeeping::Tables;
use crate::schema::{Column, ForeignKey, Index, Schema, Table};

type Rows = Vec<Vec<Option<String>>>;

fn cell(row: &[Option<String>], i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

fn opt(row: &[Option<String>], i: usize) -> Option<String> {
    row.get(i).cloned().flatten()
}

/// Collapses white space.
pub(crate) fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The schema of the database `db` is connected to.
pub(crate) async fn introspect(db: &mut Db, own: &Tables) -> Result<Schema, Error> {
    let skip = |name: &str| name == own.version || name == own.log || name.starts_with("_migrator_");
    let mut schema = match db.dialect() {
        Dialect::Sqlite => sqlite(db).await,
        Dialect::Postgres => postgres(db).await,
        Dialect::Mysql => mysql(db).await,
    }
    .context(|| "cannot read the database's schema".to_owned())?;
    schema.tables.retain(|name, _| !skip(name));
    Ok(schema)
}

async fn q(db: &mut Db, sql: &str, args: &[Value<'_>]) -> Result<Rows, sqlx::Error> {
    db.rows(sql, args).await
}

async fn sqlite(db: &mut Db) -> Result<Schema, sqlx::Error> {
    let mut schema = Schema::default();
    let tables = q(
        db,
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        &[],
    )
    .await?;
    for t in &tables {
        let (name, create) = (cell(t, 0), cell(t, 1));
        let mut table = Table::default();
        let autoinc = create.to_ascii_uppercase().contains("AUTOINCREMENT");
        let cols = q(
            db,
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid",
            &[Value::Text(&name)],
        )
        .await?;
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in &cols {
            let pkpos: i64 = cell(c, 4).parse().unwrap_or(0);
            if pkpos > 0 {
                pk.push((pkpos, cell(c, 0)));
            }
            table.columns.push(Column {
                name: cell(c, 0),
                data_type: squash(&cell(c, 1).to_lowercase()),
                nullable: cell(c, 2) == "0",
                default: opt(c, 3),
                autoincrement: false,
            });
        }
        pk.sort();
        table.primary_key = pk.into_iter().map(|(_, n)| n).collect();
        if autoinc && table.primary_key.len() == 1 {
            let key = table.primary_key[0].clone();
            if let Some(c) = table.columns.iter_mut().find(|c| c.name == key) {
                c.autoincrement = true;
            }
        }
        let indexes = q(
            db,
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?)",
            &[Value::Text(&name)],
        )
        .await?;
        for ix in &indexes {
            let (iname, unique, origin) = (cell(ix, 0), cell(ix, 1) == "1", cell(ix, 2));
            if origin == "pk" {
                continue;
            }
            let info = q(
                db,
                "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
                &[Value::Text(&iname)],
            )
            .await?;
            let mut columns: Vec<String> = info.iter().map(|r| cell(r, 0)).collect();
            if origin == "u" {
                table
                    .uniques
                    .insert(format!("uq_{name}_{}", columns.join("_")), columns);
                continue;
            }
            let sql = q(
                db,
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                &[Value::Text(&iname)],
            )
            .await?;
            let sql = sql.first().map(|r| cell(r, 0)).unwrap_or_default();
            let (parsed, predicate) = index_parts(&sql);
            if columns.iter().any(String::is_empty) || !parsed.is_empty() {
                columns = parsed;
            }
            table.indexes.insert(
                iname,
                Index {
                    columns,
                    unique,
                    predicate,
                },
            );
        }
        let fks = q(db, "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq", &[Value::Text(&name)]).await?;
        let mut by_id: BTreeMap<String, ForeignKey> = BTreeMap::new();
        for f in &fks {
            let fk = by_id.entry(cell(f, 0)).or_insert_with(|| ForeignKey {
                columns: Vec::new(),
                ref_table: cell(f, 1),
                ref_columns: Vec::new(),
                on_delete: cell(f, 5).to_uppercase(),
                on_update: cell(f, 4).to_uppercase(),
            });
            fk.columns.push(cell(f, 2));
            fk.ref_columns.push(cell(f, 3));
        }
        for fk in by_id.into_values() {
            table
                .foreign_keys
                .insert(format!("fk_{name}_{}", fk.columns.join("_")), fk);
        }
        table.checks = named_checks(&create);
        schema.tables.insert(name, table);
    }
    let views = q(
        db,
        "SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name",
        &[],
    )
    .await?;
    for v in &views {
        let sql = cell(v, 1);
        let body = view_body(&sql);
        schema.views.insert(cell(v, 0), squash(&body));
    }
    Ok(schema)
}

/// The column list and `WHERE` of a `CREATE INDEX` statement.
pub(crate) fn index_parts(sql: &str) -> (Vec<String>, Option<String>) {
    let upper = sql.to_ascii_uppercase();
    let Some(on) = upper.find(" ON ") else {
        return (Vec::new(), None);
    };
    let Some(open) = sql[on..].find('(').map(|o| on + o) else {
        return (Vec::new(), None);
    };
    let Some(close) = matching(sql, open) else {
        return (Vec::new(), None);
    };
    let columns = split_top(&sql[open + 1..close])
        .into_iter()
        .map(|c| squash(&unquote(&c)))
        .collect();
    let rest = &sql[close + 1..];
    let predicate = rest
        .to_ascii_uppercase()
        .find("WHERE")
        .map(|w| squash(strip_parens(rest[w + 5..].trim())));
    (columns, predicate)
}

fn unquote(s: &str) -> String {
    let t = s.trim();
    for (a, b) in [('"', '"'), ('`', '`'), ('[', ']')] {
        if t.len() >= 2
            && t.starts_with(a)
            && t.ends_with(b)
            && t[1..t.len() - 1].chars().all(|c| c.is_alphanumeric() || c == '_')
        {
            return t[1..t.len() - 1].to_owned();
        }
    }
    t.to_owned()
}

/// Removes one pair of parentheses around the whole of `s`.
fn strip_parens(s: &str) -> &str {
    let t = s.trim();
    if t.starts_with('(') && matching(t, 0) == Some(t.len() - 1) {
        t[1..t.len() - 1].trim()
    } else {
        t
    }
}

/// The index of the parenthesis closing the one at `open`.
fn matching(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip_while(|(i, _)| *i < open) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits at commas outside parentheses and quotes.
fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut quote: Option<char> = None;
    let mut cur = String::new();
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(cur.trim().to_owned());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    out
}

/// `CONSTRAINT name CHECK (expr)` clauses of a `CREATE TABLE`.
pub(crate) fn named_checks(create: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let upper = create.to_ascii_uppercase();
    let mut from = 0;
    while let Some(p) = upper[from..].find("CONSTRAINT ").map(|p| from + p) {
        let rest = &create[p + 11..];
        let name_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let name = unquote(&rest[..name_end]);
        let after = rest[name_end..].trim_start();
        from = p + 11;
        if after.to_ascii_uppercase().starts_with("CHECK")
            && let Some(open) = after.find('(')
            && let Some(close) = matching(after, open)
        {
            out.insert(name, squash(&after[open + 1..close]));
        }
    }
    out
}

/// The `SELECT` of a `CREATE VIEW name AS SELECT ...`.
fn view_body(sql: &str) -> String {
    let upper = sql.to_ascii_uppercase();
    match upper.find(" AS ") {
        Some(p) => sql[p + 4..].trim().trim_end_matches(';').to_owned(),
        None => sql.to_owned(),
    }
}

async fn postgres(db: &mut Db) -> Result<Schema, sqlx::Error> {
    let mut schema = Schema::default();
    let enums = q(
        db,
        "SELECT t.typname::text, e.enumlabel::text FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
         JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = current_schema() ORDER BY t.typname, e.enumsortorder",
        &[],
    )
    .await?;
    for e in &enums {
        schema.enums.entry(cell(e, 0)).or_default().push(cell(e, 1));
    }
    let tables = q(
        db,
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
         AND table_type = 'BASE TABLE' ORDER BY table_name",
        &[],
    )
    .await?;
    const REG: &str = "to_regclass(quote_ident(current_schema()) || '.' || quote_ident($1))";
    for t in &tables {
        let name = cell(t, 0);
        let arg = [Value::Text(&name)];
        let mut table = Table::default();
        let cols = q(
            db,
            &format!(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), (NOT a.attnotnull)::text, \
                 pg_get_expr(d.adbin, d.adrelid), (a.attidentity <> '')::text FROM pg_attribute a \
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 WHERE a.attrelid = {REG} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
            ),
            &arg,
        )
        .await?;
        for c in &cols {
            let default = opt(c, 3);
            let serial = default.as_deref().is_some_and(|d| d.starts_with("nextval("));
            table.columns.push(Column {
                name: cell(c, 0),
                data_type: cell(c, 1),
                nullable: cell(c, 2) == "true",
                default: if serial { None } else { default },
                autoincrement: cell(c, 4) == "true" || serial,
            });
        }
        let pk = q(
            db,
            &format!(
                "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                 WHERE i.indrelid = {REG} AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)"
            ),
            &arg,
        )
        .await?;
        table.primary_key = pk.iter().map(|r| cell(r, 0)).collect();
        let cons = q(
            db,
            &format!("SELECT conname::text, contype::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = {REG} ORDER BY conname"),
            &arg,
        )
        .await?;
        for c in &cons {
            let (cname, kind, def) = (cell(c, 0), cell(c, 1), cell(c, 2));
            match kind.as_str() {
                "u" => {
                    let (columns, _) = paren_list(&def);
                    table.uniques.insert(cname, columns);
                }
                "c" => {
                    table
                        .checks
                        .insert(cname, squash(strip_parens(def.trim_start_matches("CHECK").trim())));
                }
                "f" => {
                    if let Some(fk) = parse_fk(&def) {
                        table.foreign_keys.insert(cname, fk);
                    }
                }
                "p" => table.primary_key_name = Some(cname),
                _ => {}
            }
        }
        let idx = q(
            db,
            &format!(
                "SELECT c.relname::text, pg_get_indexdef(i.indexrelid), i.indisunique::text FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = {REG} AND NOT i.indisprimary \
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY c.relname"
            ),
            &arg,
        )
        .await?;
        for i in &idx {
            let def = cell(i, 1);
            let using = def.find(" USING ").map_or(0, |u| u + 7);
            let (columns, predicate) = index_parts(&format!(" ON {}", &def[using..]));
            table.indexes.insert(
                cell(i, 0),
                Index {
                    columns,
                    unique: cell(i, 2) == "true",
                    predicate,
                },
            );
        }
        schema.tables.insert(name, table);
    }
    let views = q(
        db,
        &format!("SELECT table_name::text, pg_get_viewdef({}, true) FROM information_schema.views WHERE table_schema = current_schema() ORDER BY table_name", REG.replace("$1", "table_name")),
        &[],
    )
    .await?;
    for v in &views {
        schema
            .views
            .insert(cell(v, 0), squash(cell(v, 1).trim_end_matches(';')));
    }
    Ok(schema)
}

/// The list in the first parentheses of `s`, and what follows.
fn paren_list(s: &str) -> (Vec<String>, &str) {
    let Some(open) = s.find('(') else {
        return (Vec::new(), s);
    };
    let Some(close) = matching(s, open) else {
        return (Vec::new(), s);
    };
    (
        split_top(&s[open + 1..close]).iter().map(|c| unquote(c)).collect(),
        &s[close + 1..],
    )
}

/// `FOREIGN KEY (a) REFERENCES t(b) ON DELETE CASCADE`, as PostgreSQL
/// prints it.
pub(crate) fn parse_fk(def: &str) -> Option<ForeignKey> {
    let (columns, rest) = paren_list(def);
    let rest = rest.trim_start().strip_prefix("REFERENCES")?.trim_start();
    let open = rest.find('(')?;
    let ref_table = unquote(rest[..open].trim());
    let ref_table = ref_table.rsplit('.').next().unwrap_or(&ref_table).to_owned();
    let (ref_columns, tail) = paren_list(&rest[open..]);
    let action = |key: &str| {
        let upper = tail.to_ascii_uppercase();
        upper.find(key).map_or_else(
            || "NO ACTION".to_owned(),
            |p| {
                let words: Vec<&str> = upper[p + key.len()..].split_whitespace().collect();
                match words.as_slice() {
                    ["SET", x, ..] => format!("SET {x}"),
                    ["NO", "ACTION", ..] => "NO ACTION".to_owned(),
                    [x, ..] => (*x).to_owned(),
                    [] => "NO ACTION".to_owned(),
                }
            },
        )
    };
    Some(ForeignKey {
        columns,
        ref_table,
        ref_columns,
        on_delete: action("ON DELETE"),
        on_update: action("ON UPDATE"),
    })
}

async fn mysql(db: &mut Db) -> Result<Schema, sqlx::Error> {
    let mut schema = Schema::default();
    let dbname = q(db, "SELECT DATABASE()", &[])
        .await?
        .first()
        .map(|r| cell(r, 0))
        .unwrap_or_default();
    let tables = q(
        db,
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() \
         AND table_type = 'BASE TABLE' ORDER BY table_name",
        &[],
    )
    .await?;
    for t in &tables {
        let name = cell(t, 0);
        let arg = [Value::Text(&name)];
        let mut table = Table::default();
        let cols = q(
            db,
            "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR), CAST(is_nullable AS CHAR), \
             CAST(column_default AS CHAR), CAST(extra AS CHAR) FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position",
            &arg,
        )
        .await?;
        for c in &cols {
            let default = opt(c, 3).filter(|d| d != "NULL");
            table.columns.push(Column {
                name: cell(c, 0),
                data_type: cell(c, 1).to_lowercase(),
                nullable: cell(c, 2) == "YES",
                default,
                autoincrement: cell(c, 4).to_lowercase().contains("auto_increment"),
            });
        }
        let fks = q(
            db,
            "SELECT CAST(k.constraint_name AS CHAR), CAST(k.column_name AS CHAR), CAST(k.referenced_table_name AS CHAR), \
             CAST(k.referenced_column_name AS CHAR), CAST(r.update_rule AS CHAR), CAST(r.delete_rule AS CHAR) \
             FROM information_schema.key_column_usage k JOIN information_schema.referential_constraints r \
             ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name \
             WHERE k.table_schema = DATABASE() AND k.table_name = ? ORDER BY k.constraint_name, k.ordinal_position",
            &arg,
        )
        .await?;
        for f in &fks {
            let fk = table.foreign_keys.entry(cell(f, 0)).or_insert_with(|| ForeignKey {
                columns: Vec::new(),
                ref_table: cell(f, 2),
                ref_columns: Vec::new(),
                on_delete: cell(f, 5).to_uppercase(),
                on_update: cell(f, 4).to_uppercase(),
            });
            fk.columns.push(cell(f, 1));
            fk.ref_columns.push(cell(f, 3));
        }
        let uniques = q(
            db,
            "SELECT CAST(constraint_name AS CHAR) FROM information_schema.table_constraints \
             WHERE table_schema = DATABASE() AND table_name = ? AND constraint_type = 'UNIQUE'",
            &arg,
        )
        .await?;
        let unique_names: Vec<String> = uniques.iter().map(|r| cell(r, 0)).collect();
        let stats = q(
            db,
            "SELECT CAST(index_name AS CHAR), CAST(non_unique AS CHAR), CAST(column_name AS CHAR), CAST(sub_part AS CHAR) \
             FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? \
             ORDER BY index_name, seq_in_index",
            &arg,
        )
        .await?;
        let mut indexes: BTreeMap<String, (bool, Vec<String>)> = BTreeMap::new();
        for s in &stats {
            let col = match opt(s, 3) {
                Some(part) => format!("{}({part})", cell(s, 2)),
                None => cell(s, 2),
            };
            let e = indexes.entry(cell(s, 0)).or_insert((cell(s, 1) == "0", Vec::new()));
            e.1.push(col);
        }
        for (iname, (unique, columns)) in indexes {
            if iname == "PRIMARY" {
                table.primary_key = columns;
            } else if unique_names.contains(&iname) {
                table.uniques.insert(iname, columns);
            } else if table.foreign_keys.get(&iname).is_some_and(|fk| fk.columns == columns) {
                // The index MySQL creates for a foreign key.
            } else {
                table.indexes.insert(
                    iname,
                    Index {
                        columns,
                        unique,
                        predicate: None,
                    },
                );
            }
        }
        let checks = q(
            db,
            "SELECT CAST(cc.constraint_name AS CHAR), CAST(cc.check_clause AS CHAR) FROM information_schema.check_constraints cc \
             JOIN information_schema.table_constraints tc ON tc.constraint_schema = cc.constraint_schema \
             AND tc.constraint_name = cc.constraint_name AND tc.table_name = ? \
             WHERE tc.table_schema = DATABASE() AND tc.constraint_type = 'CHECK'",
            &arg,
        )
        .await?;
        for c in &checks {
            table.checks.insert(cell(c, 0), squash(&cell(c, 1)));
        }
        schema.tables.insert(name, table);
    }
    let views = q(
        db,
        "SELECT CAST(table_name AS CHAR), CAST(view_definition AS CHAR) FROM information_schema.views \
         WHERE table_schema = DATABASE() ORDER BY table_name",
        &[],
    )
    .await?;
    for v in &views {
        let def = cell(v, 1).replace(&format!("`{dbname}`."), "");
        schema.views.insert(cell(v, 0), squash(&def));
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_databases_print() {
        let (cols, pred) = index_parts("CREATE INDEX ix ON t (status, lower(name)) WHERE status IS NOT NULL");
        assert_eq!(cols, ["status", "lower(name)"]);
        assert_eq!(pred.as_deref(), Some("status IS NOT NULL"));
        let (cols, pred) = index_parts(" ON btree (\"name\") WHERE (price > 0)");
        assert_eq!((cols, pred.as_deref()), (vec!["name".to_owned()], Some("price > 0")));
        let fk = parse_fk("FOREIGN KEY (org_id, x) REFERENCES public.orgs(id, y) ON UPDATE SET NULL ON DELETE CASCADE")
            .unwrap();
        assert_eq!(fk.columns, ["org_id", "x"]);
        assert_eq!((fk.ref_table.as_str(), fk.ref_columns.len()), ("orgs", 2));
        assert_eq!((fk.on_delete.as_str(), fk.on_update.as_str()), ("CASCADE", "SET NULL"));
        let checks = named_checks("CREATE TABLE t (a INT, CONSTRAINT ck_a CHECK (a > (0)), CONSTRAINT uq UNIQUE (a))");
        assert_eq!(
            checks.into_iter().collect::<Vec<_>>(),
            [("ck_a".to_owned(), "a > (0)".to_owned())]
        );
    }
}
