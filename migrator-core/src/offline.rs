//! Offline scripts (`--sql`): a plan written out as SQL for the database's
//! own client, with the same bookkeeping an online run does. Pure: no
//! connection is made.

use std::fmt::Write as _;

use crate::bookkeeping::{LogRow, TOOL_VERSION, Tables};
use crate::{
    Body, Dialect, Digest, Direction, FOREIGN_KEYS_OFF, Plan, RevisionIndex, RowChange, Step, StepKind,
    disables_foreign_keys, now_utc, split_statements,
};

/// Writes `plan` as a script for `dialect`. With `create_tables`, the
/// script starts by creating the version and log tables (as when it starts
/// from base). `all` puts the whole script in one transaction where the
/// dialect allows.
pub fn offline_script(
    plan: &Plan<'_, '_>,
    dialect: Dialect,
    tables: &Tables,
    create_tables: bool,
    all: bool,
) -> String {
    let graph = plan.graph();
    let transactional = dialect != Dialect::Mysql;
    let mut out = String::new();
    let _ = writeln!(out, "-- {TOOL_VERSION}: offline script for {dialect}");
    let _ = writeln!(out, "-- feed it to the database's own client ({})\n", client(dialect));
    if create_tables {
        let _ = writeln!(
            out,
            "{};\n{};\n",
            tables.create_version(dialect),
            tables.create_log(dialect)
        );
    }
    let batch = all && transactional;
    // SQLite's `PRAGMA foreign_keys = OFF` does nothing inside a
    // transaction: hoisted before it, as the online run does (see `pragma`).
    let fk_off = |step: &Step| {
        dialect == Dialect::Sqlite
            && step.kind == StepKind::Run
            && graph
                .revision(step.revision)
                .body(step.direction, dialect)
                .sections()
                .any(|s| disables_foreign_keys(&s.sql))
    };
    let batch_fk_off = batch && plan.steps.iter().any(fk_off);
    if batch_fk_off {
        let _ = writeln!(out, "{FOREIGN_KEYS_OFF};");
    }
    if batch {
        out.push_str("BEGIN;\n\n");
    }
    let now = now_utc();
    for step in &plan.steps {
        let rev = graph.revision(step.revision);
        let body = if step.kind == StepKind::Stamp {
            Body::default()
        } else {
            rev.body(step.direction, dialect)
        };
        let step_tx = transactional && body.is_transactional();
        let from_to = match (step.kind, step.direction) {
            (StepKind::Stamp, _) => format!("stamp {}", rev.id),
            (StepKind::Run, Direction::Up) => format!("upgrade {} -> {}", rev.revises.join(", "), rev.id),
            (StepKind::Run, Direction::Down) => format!("downgrade {} -> {}", rev.id, rev.revises.join(", ")),
        };
        let _ = writeln!(out, "-- Running {from_to}");
        if !step_tx && batch {
            out.push_str("COMMIT;\n");
        }
        let step_fk_off = !batch && fk_off(step);
        if step_fk_off {
            let _ = writeln!(out, "{FOREIGN_KEYS_OFF};");
        }
        if step_tx && !batch {
            out.push_str("BEGIN;\n");
        }
        for section in body.sections() {
            // Beside a `transaction:false` section, a transactional one
            // gets a transaction of its own.
            let own_tx = !step_tx && transactional && section.transactional;
            if own_tx {
                out.push_str("BEGIN;\n");
            }
            write_sql(&mut out, &section.sql, dialect);
            if own_tx {
                out.push_str("COMMIT;\n");
            }
        }
        if !step_tx && transactional {
            // The SQL ran outside a transaction; the bookkeeping gets one.
            out.push_str("BEGIN;\n");
        }
        write_bookkeeping(&mut out, plan, step, dialect, tables, (&now, &literal(&now)), None);
        if transactional && !batch {
            out.push_str("COMMIT;\n");
        }
        if step_fk_off {
            out.push_str("PRAGMA foreign_keys = ON;\n");
        }
        if !step_tx && batch {
            out.push_str("COMMIT;\nBEGIN;\n");
        }
        out.push('\n');
    }
    if batch {
        out.push_str("COMMIT;\n");
    }
    if batch_fk_off {
        out.push_str("PRAGMA foreign_keys = ON;\n");
    }
    out
}

fn client(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "sqlite3 DB < script.sql",
        Dialect::Postgres => "psql -v ON_ERROR_STOP=1 -f script.sql",
        Dialect::Mysql => "mariadb DB < script.sql",
    }
}

/// The section's SQL, each statement terminated. On MySQL, statements
/// with `;` inside (routines, triggers) are wrapped in `DELIMITER`, as the
/// `mysql`/`mariadb` client needs.
fn write_sql(out: &mut String, sql: &str, dialect: Dialect) {
    for statement in split_statements(sql, dialect) {
        if dialect == Dialect::Mysql && statement.sql.contains(';') {
            let _ = writeln!(out, "DELIMITER //\n{}\n//\nDELIMITER ;", statement.sql);
        } else {
            let _ = writeln!(out, "{};", statement.sql);
        }
    }
}

fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The version row moves and the log row of `step`, as SQL with literal
/// values: for offline scripts, and for SQLite runs, which send them with
/// the revision's SQL in one round trip. `times` are the start (a value)
/// and the finish (an SQL expression).
pub(crate) fn write_bookkeeping(
    out: &mut String,
    plan: &Plan<'_, '_>,
    step: &Step,
    dialect: Dialect,
    tables: &Tables,
    times: (&str, &str),
    digest: Option<Digest>,
) {
    let graph = plan.graph();
    let v = tables.version_table(dialect);
    let id = |i: RevisionIndex| literal(&graph.revision(i).id);
    for change in &step.rows {
        let _ = match *change {
            RowChange::Insert(r) => writeln!(out, "INSERT INTO {v} (version_num) VALUES ({});", id(r)),
            RowChange::Delete(r) => writeln!(out, "DELETE FROM {v} WHERE version_num = {};", id(r)),
            RowChange::Update { from, to } => {
                writeln!(
                    out,
                    "UPDATE {v} SET version_num = {} WHERE version_num = {};",
                    id(to),
                    id(from)
                )
            }
        };
    }
    let row = LogRow {
        applied_digest: digest.map(|d| d.to_string()),
        ..LogRow::for_step(plan, step, dialect, times.0)
    };
    let _ = writeln!(out, "{}", row.insert_literal(tables, dialect, Some(times.1)));
}
