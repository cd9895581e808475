//! Autogenerate against the database as the oracle. Random schema pairs
//! per dialect: v1 is applied as a revision and filled with rows, v2 is the
//! declared schema; the revision autogenerate writes is applied, and the
//! live catalog must equal v2 loaded directly into a database of its own;
//! then the downgrade must give back v1's catalog. Rows of tables in both,
//! and values of columns in both, must survive both ways.
//!
//! The catalogs are read here, by the databases' own catalog queries
//! (SQLite pragmas, information_schema and pg_catalog), not by migrator's
//! introspection. The seed is fixed unless `MIGRATOR_AUTOGEN_SEED` names
//! one (`random` draws one); it is printed. `MIGRATOR_AUTOGEN_PAIRS` sets
//! how many pairs per dialect (default 40, about a minute per server).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;

use migrator_core::{Dialect, Migrator};
use tests::{History, Rng, Server, server_db};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Int,
    Big,
    Var(u16),
    Text,
}

#[derive(Debug, Clone)]
struct Col {
    name: String,
    ty: Ty,
    nullable: bool,
    default: Option<i64>,
}

#[derive(Debug, Clone)]
struct Idx {
    name: String,
    cols: Vec<String>,
    unique: bool,
}

#[derive(Debug, Clone)]
struct Fk {
    name: String,
    col: String,
    parent: String,
    on_delete: &'static str,
}

#[derive(Debug, Clone)]
struct Tab {
    name: String,
    /// `id` first: the primary key.
    cols: Vec<Col>,
    indexes: Vec<Idx>,
    fks: Vec<Fk>,
}

/// Tables in an order where every parent comes before its children.
#[derive(Debug, Clone, Default)]
struct Spec {
    tables: Vec<Tab>,
    next: usize,
}

const ACTIONS: [&str; 4] = ["NO ACTION", "CASCADE", "SET NULL", "RESTRICT"];

impl Spec {
    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn column(&mut self, rng: &mut Rng, dialect: Dialect) -> Col {
        let ty = match rng.below(4) {
            0 => Ty::Int,
            1 => Ty::Big,
            2 => Ty::Var(20 + 10 * rng.below(3) as u16),
            _ if dialect == Dialect::Mysql => Ty::Var(40),
            _ => Ty::Text,
        };
        let nullable = rng.chance(50);
        let default = (matches!(ty, Ty::Int | Ty::Big) && (!nullable || rng.chance(30))).then(|| rng.below(100) as i64);
        // A NOT NULL column without a default cannot be added to a table
        // with rows; such a column is only ever created with its table.
        Col {
            name: self.fresh("c"),
            ty,
            nullable,
            default,
        }
    }

    fn table(&mut self, rng: &mut Rng, dialect: Dialect) -> Tab {
        let name = self.fresh("t");
        let mut cols = vec![Col {
            name: "id".to_owned(),
            ty: Ty::Int,
            nullable: false,
            default: None,
        }];
        for _ in 0..1 + rng.below(3) {
            cols.push(self.column(rng, dialect));
        }
        let mut t = Tab {
            name,
            cols,
            indexes: Vec::new(),
            fks: Vec::new(),
        };
        if !self.tables.is_empty() && rng.chance(60) {
            self.add_fk(rng, &mut t);
        }
        if rng.chance(50) {
            self.add_index(rng, &mut t);
        }
        t
    }

    /// A nullable INT column referencing an earlier table (or this one).
    fn add_fk(&mut self, rng: &mut Rng, t: &mut Tab) {
        let parent = if self.tables.is_empty() || rng.chance(15) {
            t.name.clone()
        } else {
            rng.pick(&self.tables).name.clone()
        };
        let col = self.fresh("f");
        t.cols.push(Col {
            name: col.clone(),
            ty: Ty::Int,
            nullable: true,
            default: None,
        });
        t.fks.push(Fk {
            name: self.fresh("fk"),
            col,
            parent,
            on_delete: ACTIONS[rng.below(ACTIONS.len())],
        });
    }

    fn add_index(&mut self, rng: &mut Rng, t: &mut Tab) {
        let fk_cols: Vec<&str> = t.fks.iter().map(|f| f.col.as_str()).collect();
        let candidates: Vec<String> = t
            .cols
            .iter()
            .skip(1)
            .filter(|c| c.ty != Ty::Text && !fk_cols.contains(&c.name.as_str()))
            .map(|c| c.name.clone())
            .collect();
        if candidates.is_empty() {
            return;
        }
        let mut cols = vec![rng.pick(&candidates).clone()];
        if candidates.len() > 1 && rng.chance(30) {
            let other = rng.pick(&candidates).clone();
            if other != cols[0] {
                cols.push(other);
            }
        }
        t.indexes.push(Idx {
            name: self.fresh("ix"),
            cols,
            unique: rng.chance(40),
        });
    }

    fn generate(rng: &mut Rng, dialect: Dialect) -> Spec {
        let mut s = Spec::default();
        for _ in 0..1 + rng.below(3) {
            let t = s.table(rng, dialect);
            s.tables.push(t);
        }
        s
    }

    /// v2: v1 with one to three changes.
    fn mutate(&self, rng: &mut Rng, dialect: Dialect, log: &mut Vec<String>) -> Spec {
        let mut s = self.clone();
        for _ in 0..1 + rng.below(3) {
            let n = s.tables.len();
            let ti = rng.below(n.max(1));
            match rng.below(10) {
                0 => {
                    let t = s.table(rng, dialect);
                    log.push(format!("add table {}", t.name));
                    s.tables.push(t);
                }
                1 if n > 1 => {
                    let name = s.tables[ti].name.clone();
                    // Its children lose their keys to it (the columns stay).
                    for t in &mut s.tables {
                        t.fks.retain(|f| f.parent != name || t.name == name);
                    }
                    log.push(format!("drop table {name}"));
                    s.tables.remove(ti);
                }
                2 => {
                    let mut c = s.column(rng, dialect);
                    if !c.nullable && c.default.is_none() {
                        c.nullable = true;
                    }
                    log.push(format!("add column {}.{}", s.tables[ti].name, c.name));
                    s.tables[ti].cols.push(c);
                }
                3 if s.tables[ti].cols.iter().skip(1).any(|c| c.nullable) => {
                    // Only a column that can come back on a table with rows.
                    let t = &mut s.tables[ti];
                    // (One in a unique index could come back with one
                    // value, its default, in every row: not that one.)
                    let in_unique = |name: &str| t.indexes.iter().any(|i| i.unique && i.cols.iter().any(|c| c == name));
                    let droppable: Vec<usize> = (1..t.cols.len())
                        .filter(|&i| t.cols[i].nullable && !in_unique(&t.cols[i].name))
                        .collect();
                    if droppable.is_empty() {
                        continue;
                    }
                    let ci = *rng.pick(&droppable);
                    let name = t.cols.remove(ci).name;
                    // What used the column goes with it.
                    t.indexes.retain(|i| !i.cols.contains(&name));
                    t.fks.retain(|f| f.col != name);
                    log.push(format!("drop column {}.{name}", t.name));
                }
                4 => {
                    let t = &mut s.tables[ti];
                    let fk_cols: Vec<String> = t.fks.iter().map(|f| f.col.clone()).collect();
                    if let Some(c) = t.cols.iter_mut().skip(1).find(|c| !fk_cols.contains(&c.name)) {
                        c.nullable = !c.nullable;
                        log.push(format!("{}.{} nullable: {}", t.name, c.name, c.nullable));
                    }
                }
                5 => {
                    let t = &mut s.tables[ti];
                    let fk_cols: Vec<String> = t.fks.iter().map(|f| f.col.clone()).collect();
                    let plain = |c: &Col| matches!(c.ty, Ty::Int | Ty::Big) && c.nullable && !fk_cols.contains(&c.name);
                    if let Some(c) = t.cols.iter_mut().skip(1).find(|c| plain(c)) {
                        c.default = match c.default {
                            Some(_) => None,
                            None => Some(rng.below(100) as i64),
                        };
                        log.push(format!("{}.{} default: {:?}", t.name, c.name, c.default));
                    }
                }
                6 => {
                    let mut t = s.tables[ti].clone();
                    s.add_index(rng, &mut t);
                    log.push(format!("add index on {}", t.name));
                    s.tables[ti] = t;
                }
                7 if !s.tables[ti].indexes.is_empty() => {
                    let t = &mut s.tables[ti];
                    let i = rng.below(t.indexes.len());
                    log.push(format!("drop index {}", t.indexes[i].name));
                    t.indexes.remove(i);
                }
                8 => {
                    let mut t = s.tables[ti].clone();
                    // A key to an earlier table only, or to itself.
                    let earlier = Spec {
                        tables: s.tables[..ti].to_vec(),
                        next: s.next,
                    };
                    let mut helper = earlier;
                    helper.add_fk(rng, &mut t);
                    s.next = helper.next;
                    log.push(format!("add foreign key on {}", t.name));
                    s.tables[ti] = t;
                }
                9 if !s.tables[ti].fks.is_empty() => {
                    let t = &mut s.tables[ti];
                    log.push(format!("drop foreign key {}", t.fks[0].name));
                    t.fks.remove(0);
                }
                _ => {
                    let t = &mut s.tables[ti];
                    if let Some(c) = t.cols.iter_mut().find(|c| matches!(c.ty, Ty::Var(_))) {
                        if let Ty::Var(n) = c.ty {
                            c.ty = Ty::Var(n + 20);
                        }
                        log.push(format!("widen {}.{}", t.name, c.name));
                    }
                }
            }
        }
        s
    }

    fn ddl(&self, dialect: Dialect) -> String {
        let mut out = String::new();
        for t in &self.tables {
            let mut parts: Vec<String> = t
                .cols
                .iter()
                .map(|c| {
                    let ty = match c.ty {
                        Ty::Int => "INTEGER".to_owned(),
                        Ty::Big => "BIGINT".to_owned(),
                        Ty::Var(n) => format!("VARCHAR({n})"),
                        Ty::Text => "TEXT".to_owned(),
                    };
                    let mut s = format!("{} {ty}", c.name);
                    if !c.nullable {
                        s.push_str(" NOT NULL");
                    }
                    if let Some(d) = c.default {
                        write!(s, " DEFAULT {d}").unwrap();
                    }
                    if c.name == "id" {
                        s.push_str(" PRIMARY KEY");
                    }
                    s
                })
                .collect();
            for f in &t.fks {
                parts.push(format!(
                    "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} (id) ON DELETE {}",
                    f.name, f.col, f.parent, f.on_delete
                ));
            }
            writeln!(out, "CREATE TABLE {} (\n  {}\n);", t.name, parts.join(",\n  ")).unwrap();
            for i in &t.indexes {
                let unique = if i.unique { "UNIQUE " } else { "" };
                writeln!(
                    out,
                    "CREATE {unique}INDEX {} ON {} ({});",
                    i.name,
                    t.name,
                    i.cols.join(", ")
                )
                .unwrap();
            }
        }
        let _ = dialect;
        out
    }

    /// Three rows per table, parents first: distinct values per column,
    /// keys to existing parent rows (self-references left NULL).
    fn rows(&self, v2: &Spec) -> String {
        let mut out = String::new();
        for t in &self.tables {
            for r in 1..=3i64 {
                let values: Vec<String> = t
                    .cols
                    .iter()
                    .enumerate()
                    .map(|(ci, c)| {
                        if c.name == "id" {
                            return r.to_string();
                        }
                        if let Some(f) = t.fks.iter().find(|f| f.col == c.name) {
                            // A parent that v2 drops comes back empty on the
                            // way down: keys to it would dangle.
                            let kept = v2.tables.iter().any(|p| p.name == f.parent);
                            return if f.parent == t.name || !kept {
                                "NULL".to_owned()
                            } else {
                                ((r % 3) + 1).to_string()
                            };
                        }
                        match c.ty {
                            Ty::Int | Ty::Big => (r * 10 + ci as i64).to_string(),
                            Ty::Var(_) | Ty::Text => format!("'v{r}_{ci}'"),
                        }
                    })
                    .collect();
                let names: Vec<&str> = t.cols.iter().map(|c| c.name.as_str()).collect();
                writeln!(
                    out,
                    "INSERT INTO {} ({}) VALUES ({});",
                    t.name,
                    names.join(", "),
                    values.join(", ")
                )
                .unwrap();
            }
        }
        out
    }
}

/// The catalog of the database at `url` as sorted lines, read by the
/// database's own catalog queries; migrator's tables left out.
async fn catalog(url: &str, dialect: Dialect) -> Vec<String> {
    let queries: &[&str] = match dialect {
        Dialect::Sqlite => &[
            "SELECT m.name || ' col ' || p.name || ' ' || upper(p.type) || ' notnull=' || p.\"notnull\" || ' default=' \
             || coalesce(p.dflt_value, '-') || ' pk=' || p.pk FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'migrator_%'",
            "SELECT m.name || ' index ' || CASE WHEN il.origin = 'c' THEN il.name ELSE il.origin END || ' unique=' || \
             il.\"unique\" || ' ' || (SELECT group_concat(ii.name, ',') FROM pragma_index_info(il.name) ii) \
             FROM sqlite_master m, pragma_index_list(m.name) il WHERE m.type = 'table' AND m.name NOT LIKE \
             'sqlite_%' AND m.name NOT LIKE 'migrator_%'",
            "SELECT m.name || ' fk ' || f.\"from\" || ' -> ' || f.\"table\" || '.' || f.\"to\" || ' delete ' || \
             f.on_delete || ' update ' || f.on_update FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'migrator_%'",
        ],
        Dialect::Postgres => &[
            "SELECT table_name || ' col ' || column_name || ' ' || data_type || coalesce('(' || \
             character_maximum_length || ')', '') || ' nullable=' || is_nullable || ' default=' || \
             coalesce(column_default, '-') || ' identity=' || is_identity FROM information_schema.columns WHERE \
             table_schema = 'public' AND table_name NOT LIKE 'migrator_%'",
            "SELECT tablename || ' index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT \
             LIKE 'migrator_%'",
            "SELECT conrelid::regclass::text || ' constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM \
             pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE \
             'migrator_%'",
        ],
        Dialect::Mysql => &[
            "SELECT CONCAT(table_name, ' col ', column_name, ' ', column_type, ' nullable=', is_nullable, ' \
             default=', COALESCE(column_default, '-'), ' ', extra) FROM information_schema.columns WHERE \
             table_schema = DATABASE() AND table_name NOT LIKE 'migrator\\_%'",
            "SELECT CONCAT(table_name, ' index ', index_name, ' unique=', 1 - non_unique, ' ', \
             GROUP_CONCAT(column_name ORDER BY seq_in_index)) FROM information_schema.statistics WHERE \
             table_schema = DATABASE() AND table_name NOT LIKE 'migrator\\_%' GROUP BY table_name, index_name, \
             non_unique",
            "SELECT CONCAT(r.table_name, ' fk ', r.constraint_name, ' -> ', r.referenced_table_name, ' delete ', \
             r.delete_rule, ' update ', r.update_rule) FROM information_schema.referential_constraints r WHERE \
             r.constraint_schema = DATABASE()",
        ],
    };
    let mut lines = Vec::new();
    for q in queries {
        lines.extend(tests::strings(url, q).await);
    }
    lines.sort();
    lines
}

/// Every row of every table of `spec`, as text, by table.
async fn contents(url: &str, spec: &Spec, keep: &Spec) -> Vec<String> {
    let mut out = Vec::new();
    for t in &spec.tables {
        let Some(k) = keep.tables.iter().find(|k| k.name == t.name) else {
            continue;
        };
        // Columns in both, of the same type (a widened one keeps its values).
        let cols: Vec<&str> = t
            .cols
            .iter()
            .filter(|c| k.cols.iter().any(|kc| kc.name == c.name))
            .map(|c| c.name.as_str())
            .collect();
        let concat: Vec<String> = cols
            .iter()
            .map(|c| format!("COALESCE(CAST({c} AS CHAR(40)), 'NULL')"))
            .collect();
        let sep = match url.split(':').next() {
            Some("mysql") => format!("CONCAT_WS('|', {})", concat.join(", ")),
            _ => concat.join(" || '|' || "),
        };
        let rows = tests::strings(url, &format!("SELECT {sep} FROM {} ORDER BY id", t.name)).await;
        out.push(format!("{}: {}", t.name, rows.join(" / ").replace(' ', "")));
    }
    out
}

/// Where the pairs run.
enum Target {
    /// SQLite files in this directory.
    Sqlite(std::path::PathBuf),
    /// Scratch databases on this server.
    Server(Server),
}

/// A fresh empty database (dropped with the guard).
async fn fresh(target: &Target, n: usize, tag: &str) -> (String, Option<tests::ServerDb>) {
    match target {
        Target::Sqlite(dir) => (format!("sqlite://{}/p{n}{tag}.db?mode=rwc", dir.display()), None),
        Target::Server(server) => {
            let db = server_db(*server).await.unwrap();
            (db.url.clone(), Some(db))
        }
    }
}

async fn one_pair(n: usize, rng: &mut Rng, dialect: Dialect, target: &Target, dev: &str) -> Result<(), String> {
    let v1 = Spec::generate(rng, dialect);
    let mut changes = Vec::new();
    let v2 = v1.mutate(rng, dialect, &mut changes);
    let (v1_sql, v2_sql) = (v1.ddl(dialect), v2.ddl(dialect));
    if v1_sql == v2_sql {
        // The changes undid each other: nothing to generate.
        return Ok(());
    }
    let context = |what: &str| {
        format!(
            "pair {n} ({}): {what}\n-- v1:\n{v1_sql}\n-- v2:\n{v2_sql}",
            changes.join("; ")
        )
    };
    // v2 loaded directly, and v1, for the catalogs to compare with.
    let want_v2 = {
        let (url, _guard) = fresh(target, n, "a").await;
        tests::exec(&url, &v2_sql).await;
        catalog(&url, dialect).await
    };
    let want_v1 = {
        let (url, _guard) = fresh(target, n, "b").await;
        tests::exec(&url, &v1_sql).await;
        catalog(&url, dialect).await
    };
    // The project: v1 as its one revision; the database at v1, with rows.
    let mut h = History::new();
    h.revision("v1", &[], &v1_sql, "");
    let m = h.load();
    let (target, _guard) = fresh(target, n, "c").await;
    let mut db = Migrator::new(&m)
        .connect(&target)
        .await
        .map_err(|e| context(&e.to_string()))?;
    db.upgrade("heads").await.map_err(|e| context(&format!("v1: {e}")))?;
    db.close().await;
    tests::exec(&target, &v1.rows(&v2)).await;
    let before = contents(&target, &v1, &v2).await;
    let generated = migrator_core::autogenerate(&m, dev, &v2_sql, "v2.sql")
        .await
        .map_err(|e| context(&format!("autogenerate: {e}")))?
        .ok_or_else(|| context("autogenerate found no change"))?;
    let (up, down) = (generated.up.sql.clone(), generated.down.sql.clone());
    let context = |what: &str| context(&format!("{what}\n-- generated up:\n{up}\n-- generated down:\n{down}"));
    h.revision("v2", &["v1"], &up, &down);
    let m = h.load();
    let mut db = Migrator::new(&m)
        .connect(&target)
        .await
        .map_err(|e| context(&e.to_string()))?;
    db.upgrade("heads")
        .await
        .map_err(|e| context(&format!("upgrade: {e}")))?;
    let got = catalog(&target, dialect).await;
    if got != want_v2 {
        return Err(context(&format!(
            "after upgrade the catalog differs from v2's:\n{}",
            lines_diff(&want_v2, &got)
        )));
    }
    let after = contents(&target, &v1, &v2).await;
    if after != before {
        return Err(context(&format!(
            "rows changed by the upgrade:\nbefore {before:?}\nafter  {after:?}"
        )));
    }
    db.downgrade("v1")
        .await
        .map_err(|e| context(&format!("downgrade: {e}")))?;
    db.close().await;
    let got = catalog(&target, dialect).await;
    if got != want_v1 {
        return Err(context(&format!(
            "after downgrade the catalog differs from v1's:\n{}",
            lines_diff(&want_v1, &got)
        )));
    }
    let back = contents(&target, &v1, &v2).await;
    if back != before {
        return Err(context(&format!(
            "rows changed by the round trip:\nbefore {before:?}\nafter  {back:?}"
        )));
    }
    Ok(())
}

fn lines_diff(want: &[String], got: &[String]) -> String {
    let mut out = String::new();
    for w in want.iter().filter(|w| !got.contains(w)) {
        writeln!(out, "  missing: {w}").unwrap();
    }
    for g in got.iter().filter(|g| !want.contains(g)) {
        writeln!(out, "  extra:   {g}").unwrap();
    }
    out
}

async fn differential(dialect: Dialect, target: Target, dev: &str) {
    let seed = tests::seed("MIGRATOR_AUTOGEN_SEED", 20_261_202);
    let pairs: usize = std::env::var("MIGRATOR_AUTOGEN_PAIRS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    eprintln!(
        "autogenerate differential on {dialect}: seed {seed}, {pairs} pairs (MIGRATOR_AUTOGEN_SEED={seed} replays it)"
    );
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    for n in 0..pairs {
        if let Err(e) = one_pair(n, &mut rng, dialect, &target, dev).await {
            failures.push(e);
        }
    }
    let headlines: Vec<String> = failures
        .iter()
        .map(|f| f.lines().next().unwrap_or_default().chars().take(300).collect())
        .collect();
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of {pairs} pairs failed on {dialect}:\n{}\nthe first in full:\n{}",
        failures.len(),
        headlines.join("\n"),
        failures[0]
    );
}

#[tokio::test]
async fn autogenerate_differential_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    differential(
        Dialect::Sqlite,
        Target::Sqlite(dir.path().to_path_buf()),
        "sqlite::memory:",
    )
    .await;
}

async fn on_server(server: Server, dialect: Dialect) {
    let Some(dev) = server_db(server).await else {
        return;
    };
    differential(dialect, Target::Server(server), &dev.url).await;
}

#[tokio::test]
async fn autogenerate_differential_postgres() {
    on_server(Server::Postgres, Dialect::Postgres).await;
}

#[tokio::test]
async fn autogenerate_differential_mysql() {
    on_server(Server::Mysql, Dialect::Mysql).await;
}

/// PostgreSQL: a declared `BIGSERIAL` comes back as a serial (a sequence
/// default the column owns), an identity as an identity, each exactly as
/// the database's own client creates it; a change from one to the other is
/// left to review, never half-generated.
#[tokio::test]
async fn serial_stays_serial_and_identity_stays_identity() {
    let Some(dev) = server_db(Server::Postgres).await else {
        return;
    };
    let declared = "CREATE TABLE a (id BIGSERIAL PRIMARY KEY, n INTEGER);\n\
                    CREATE TABLE b (id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, s SMALLSERIAL);\n";
    let empty = History::new();
    let m = empty.load();
    let generated = migrator_core::autogenerate(&m, &dev.url, declared, "schema.sql")
        .await
        .unwrap()
        .unwrap();
    let up = &generated.up.sql;
    assert!(
        up.contains("\"id\" BIGSERIAL") && up.contains("\"s\" SMALLSERIAL"),
        "{up}"
    );
    assert!(up.contains("\"id\" INTEGER GENERATED BY DEFAULT AS IDENTITY"), "{up}");
    let mut h = History::new();
    h.revision("r1", &[], up, &generated.down.sql);
    let m = h.load();
    let target = server_db(Server::Postgres).await.unwrap();
    let mut db = Migrator::new(&m).connect(&target.url).await.unwrap();
    db.upgrade("heads").await.unwrap();
    db.close().await;
    let direct = server_db(Server::Postgres).await.unwrap();
    tests::exec(&direct.url, declared).await;
    assert_eq!(
        catalog(&target.url, Dialect::Postgres).await,
        catalog(&direct.url, Dialect::Postgres).await
    );
    assert!(
        migrator_core::autogenerate(&m, &dev.url, declared, "schema.sql")
            .await
            .unwrap()
            .is_none()
    );
    // From a serial to an identity: for review, nothing half-done.
    let changed = declared.replace("id BIGSERIAL", "id BIGINT GENERATED BY DEFAULT AS IDENTITY");
    let g = migrator_core::autogenerate(&m, &dev.url, &changed, "schema.sql")
        .await
        .unwrap()
        .unwrap();
    assert!(
        g.up.sql
            .contains("-- REVIEW: a.id changes from a serial to an identity; not generated"),
        "{}",
        g.up.sql
    );
    assert!(!g.up.sql.contains("ALTER TABLE"), "{}", g.up.sql);
}
