//! Reading a live schema into [`Schema`], per dialect. Migrator's own
//! tables are left out.

use std::collections::BTreeMap;

use super::db::{Db, Value};
use super::error::{Context, Error};
use crate::Dialect;
use crate::bookkeeping::Tables;
use crate::schema::ddl::{index_parts, named_checks, paren_list, parse_fk, squash, strip_parens, view_body};
use crate::schema::{Column, ForeignKey, Index, Schema, Table};

type Rows = Vec<Vec<Option<String>>>;

fn cell(row: &[Option<String>], i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

fn opt(row: &[Option<String>], i: usize) -> Option<String> {
    row.get(i).cloned().flatten()
}

/// The schema of the database `db` is connected to.
pub(crate) async fn introspect(db: &mut Db, own: &Tables) -> Result<Schema, Error> {
    let skip = |name: &str| {
        name == own.version || name == own.log || name == crate::lease::LOCK_TABLE || name.starts_with("_migrator_")
    };
    let mut schema = match db.dialect() {
        Dialect::Sqlite => sqlite(db).await,
        Dialect::Postgres => postgres(db).await,
        Dialect::Mysql => mysql(db).await,
    }
    .context(|| "cannot read the database's schema".to_owned())?;
    schema.tables.retain(|name, _| !skip(name));
    super::introspect_objects::read(db, &mut schema)
        .await
        .context(|| "cannot read the database's triggers, functions and sequences".to_owned())?;
    schema.triggers.retain(|_, t| !t.table.as_deref().is_some_and(skip));
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
                serial: false,
                comment: None,
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
        "SELECT table_name::text, obj_description(to_regclass(quote_ident(table_schema) || '.' || \
         quote_ident(table_name)), 'pg_class') FROM information_schema.tables WHERE table_schema = current_schema() \
         AND table_type = 'BASE TABLE' ORDER BY table_name",
        &[],
    )
    .await?;
    const REG: &str = "to_regclass(quote_ident(current_schema()) || '.' || quote_ident($1))";
    for t in &tables {
        let name = cell(t, 0);
        let arg = [Value::Text(&name)];
        let mut table = Table {
            comment: opt(t, 1),
            ..Table::default()
        };
        let cols = q(
            db,
            &format!(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), (NOT a.attnotnull)::text, \
                 pg_get_expr(d.adbin, d.adrelid), (a.attidentity <> '')::text, \
                 col_description(a.attrelid, a.attnum), \
                 (pg_get_serial_sequence(a.attrelid::regclass::text, a.attname) IS NOT NULL)::text \
                 FROM pg_attribute a \
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 WHERE a.attrelid = {REG} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
            ),
            &arg,
        )
        .await?;
        for c in &cols {
            let default = opt(c, 3);
            // A serial: a `nextval` default on a sequence the column owns
            // (one it does not own is a plain default).
            let serial = default.as_deref().is_some_and(|d| d.starts_with("nextval(")) && cell(c, 6) == "true";
            table.columns.push(Column {
                name: cell(c, 0),
                data_type: cell(c, 1),
                nullable: cell(c, 2) == "true",
                default: if serial { None } else { default },
                autoincrement: cell(c, 4) == "true" || serial,
                serial: serial && cell(c, 4) != "true",
                comment: opt(c, 5),
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

async fn mysql(db: &mut Db) -> Result<Schema, sqlx::Error> {
    let mut schema = Schema::default();
    let dbname = q(db, "SELECT DATABASE()", &[])
        .await?
        .first()
        .map(|r| cell(r, 0))
        .unwrap_or_default();
    let tables = q(
        db,
        "SELECT CAST(table_name AS CHAR), CAST(table_comment AS CHAR) FROM information_schema.tables WHERE \
         table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name",
        &[],
    )
    .await?;
    for t in &tables {
        let name = cell(t, 0);
        let arg = [Value::Text(&name)];
        let mut table = Table {
            comment: opt(t, 1).filter(|c| !c.is_empty()),
            ..Table::default()
        };
        let cols = q(
            db,
            "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR), CAST(is_nullable AS CHAR), \
             CAST(column_default AS CHAR), CAST(extra AS CHAR), CAST(column_comment AS CHAR) \
             FROM information_schema.columns \
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
                serial: false,
                comment: opt(c, 5).filter(|c| !c.is_empty()),
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
                table.foreign_key_indexes.insert(iname);
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
