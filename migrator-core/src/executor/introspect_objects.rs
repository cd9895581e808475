//! Reading what stands beside tables into [`Schema`]: triggers (every
//! dialect), PostgreSQL functions, procedures and free-standing
//! sequences, MySQL table options. Each is read as the database prints
//! its definition.

use super::db::Db;
use crate::Dialect;
use crate::schema::{Object, Schema, TableOptions};

type Rows = Vec<Vec<Option<String>>>;

fn cell(row: &[Option<String>], i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

/// Adds the database's triggers, functions, sequences and table options
/// to `schema` (its tables already read).
pub(super) async fn read(db: &mut Db, schema: &mut Schema) -> Result<(), sqlx::Error> {
    match db.dialect() {
        Dialect::Sqlite => {
            let rows = rows(
                db,
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name",
            )
            .await?;
            schema.triggers = triggers(&rows);
        }
        Dialect::Postgres => postgres(db, schema).await?,
        Dialect::Mysql => mysql(db, schema).await?,
    }
    Ok(())
}

async fn rows(db: &mut Db, sql: &str) -> Result<Rows, sqlx::Error> {
    db.rows(sql, &[]).await
}

/// Rows of (name, table, definition) as triggers.
fn triggers(rows: &Rows) -> std::collections::BTreeMap<String, Object> {
    rows.iter()
        .map(|r| {
            let object = Object {
                sql: cell(r, 2),
                table: Some(cell(r, 1)),
            };
            (cell(r, 0), object)
        })
        .collect()
}

async fn postgres(db: &mut Db, schema: &mut Schema) -> Result<(), sqlx::Error> {
    let triggers_sql = "SELECT t.tgname::text, c.relname::text, pg_get_triggerdef(t.oid, true) FROM pg_trigger t \
                        JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal \
                        AND c.relnamespace = current_schema()::regnamespace ORDER BY 1";
    schema.triggers = triggers(&rows(db, triggers_sql).await?);
    // Functions and procedures of the schema, not those an extension owns;
    // their definition names the schema, which is left out so that the
    // text runs wherever the revision does.
    let functions = rows(
        db,
        "SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), current_schema()::text FROM pg_proc p \
         WHERE p.pronamespace = current_schema()::regnamespace AND p.prokind IN ('f', 'p') AND NOT EXISTS \
         (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') ORDER BY 1",
    )
    .await?;
    for f in &functions {
        let qualified = format!(" {}.", quote_pg(&cell(f, 2)));
        let sql = cell(f, 1).replacen(&qualified, " ", 1);
        schema.functions.insert(cell(f, 0), Object { sql, table: None });
    }
    // Sequences that no column owns: a SERIAL column's (`a`) and an
    // identity's (`i`) go with their column.
    let sequences = rows(
        db,
        "SELECT s.sequencename::text, 'CREATE SEQUENCE ' || quote_ident(s.sequencename) || ' AS ' || s.data_type \
         || ' INCREMENT BY ' || s.increment_by || ' MINVALUE ' || s.min_value || ' MAXVALUE ' || s.max_value \
         || ' START WITH ' || s.start_value || CASE WHEN s.cycle THEN ' CYCLE' ELSE ' NO CYCLE' END \
         FROM pg_sequences s WHERE s.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_depend d \
         WHERE d.objid = (quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename))::regclass \
         AND d.deptype IN ('a', 'i')) ORDER BY 1",
    )
    .await?;
    for s in &sequences {
        schema.sequences.insert(
            cell(s, 0),
            Object {
                sql: cell(s, 1),
                table: None,
            },
        );
    }
    Ok(())
}

/// `name` as PostgreSQL's `quote_ident` would print it.
fn quote_pg(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

async fn mysql(db: &mut Db, schema: &mut Schema) -> Result<(), sqlx::Error> {
    let triggers_sql = "SELECT CAST(trigger_name AS CHAR), CAST(event_object_table AS CHAR), \
                        CAST(CONCAT('CREATE TRIGGER `', REPLACE(trigger_name, '`', '``'), '` ', action_timing, ' ', \
                        event_manipulation, ' ON `', REPLACE(event_object_table, '`', '``'), '` FOR EACH ROW ', \
                        action_statement) AS CHAR) FROM information_schema.triggers \
                        WHERE trigger_schema = DATABASE() ORDER BY 1";
    schema.triggers = triggers(&rows(db, triggers_sql).await?);
    let options = rows(
        db,
        "SELECT CAST(table_name AS CHAR), CAST(engine AS CHAR), CAST(table_collation AS CHAR) \
         FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
    )
    .await?;
    for o in &options {
        if let Some(table) = schema.tables.get_mut(&cell(o, 0)) {
            table.options = Some(TableOptions {
                engine: cell(o, 1),
                collation: cell(o, 2),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::quote_pg;

    #[test]
    fn schema_names_are_quoted_as_postgresql_prints_them() {
        assert_eq!(quote_pg("public"), "public");
        assert_eq!(quote_pg("app_2"), "app_2");
        assert_eq!(quote_pg("App"), "\"App\"");
        assert_eq!(quote_pg("2x"), "\"2x\"");
    }
}
