//! Scratch databases and the work done on them: the round-trip test, the
//! declared schema loaded for drift checks and autogenerate. SQLite
//! scratches live in memory; PostgreSQL and MySQL ones are uniquely named
//! databases on a server, always dropped afterwards, even on error.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::db::Db;
use super::error::{Context, Error};
use super::migrator::Migrator;
use super::sample_rows;
use crate::schema::{Change, Rename, Rendered, Schema, apply_renames, diff, render};
use crate::{DatabaseUrl, Dialect, Migrations, RevisionIndex, Text, split_statements};

/// A scratch database: its URL, and how to drop it.
#[derive(Debug)]
pub struct Scratch {
    /// Where it is.
    pub url: String,
    server: Option<(DatabaseUrl, String)>,
}

/// `url` pointing at database `name` on the same server.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..path])
}

impl Scratch {
    /// A fresh, empty database of `url`'s dialect, on `url`'s server.
    pub async fn create(url: &str) -> Result<Scratch, Error> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let parsed = DatabaseUrl::parse(url)?;
        if parsed.dialect() == Dialect::Sqlite {
            return Ok(Scratch {
                url: "sqlite::memory:".to_owned(),
                server: None,
            });
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "migrator_scratch_{}_{}_{nanos}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let mut db = admin(&parsed).await?;
        let made = db.script(&Text::Owned(format!("CREATE DATABASE {name}"))).await;
        db.close().await;
        made.context(|| format!("cannot create the scratch database {name} on {parsed}"))?;
        Ok(Scratch {
            url: with_database(parsed.for_driver(), &name),
            server: Some((parsed, name)),
        })
    }

    /// Drops it (SQLite: nothing to do).
    pub async fn drop(self) {
        if let Some((server, name)) = self.server
            && let Ok(mut db) = admin(&server).await
        {
            let sql = match server.dialect() {
                Dialect::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                _ => format!("DROP DATABASE IF EXISTS {name}"),
            };
            let _ = db.script(&Text::Owned(sql)).await;
            db.close().await;
        }
    }
}

async fn admin(url: &DatabaseUrl) -> Result<Db, Error> {
    match Db::connect(url, std::time::Duration::from_secs(10)).await {
        Some(Ok(db)) => Ok(db),
        Some(Err(cause)) => Err(Error::Connect {
            url: url.to_string(),
            cause,
        }),
        None => Err(Error::Unsupported {
            dialect: url.dialect(),
            feature: url.dialect().feature(),
        }),
    }
}

/// Runs a SQL file (the declared schema) statement by statement.
pub(crate) async fn run_file(db: &mut Db, sql: &str, what: &str) -> Result<(), Error> {
    for s in split_statements(sql, db.dialect()) {
        db.script(&Text::Owned(s.sql.to_owned())).await.context(|| {
            format!(
                "{what}, line {}: cannot run `{}`",
                s.line,
                s.sql.lines().next().unwrap_or("")
            )
        })?;
    }
    Ok(())
}

/// The schema the declared schema file gives, loaded into a scratch
/// database on `dev_url`'s server.
pub async fn declared_schema(dev_url: &str, sql: &str, file: &str) -> Result<Schema, Error> {
    let scratch = Scratch::create(dev_url).await?;
    let result = async {
        let empty = Migrations::from_static(&[], false);
        let mut conn = Migrator::new(&empty).lock(false).connect(&scratch.url).await?;
        run_file(conn.db_mut(), sql, &format!("the declared schema {file}")).await?;
        let schema = conn.schema().await;
        conn.close().await;
        schema
    }
    .await;
    scratch.drop().await;
    result
}

/// The schema `migrations` give when applied to their heads, on a scratch
/// database on `dev_url`'s server.
pub async fn history_schema(migrations: &Migrations, dev_url: &str) -> Result<Schema, Error> {
    let scratch = Scratch::create(dev_url).await?;
    let result = async {
        let mut conn = Migrator::new(migrations).lock(false).connect(&scratch.url).await?;
        conn.upgrade("heads").await?;
        let schema = conn.schema().await;
        conn.close().await;
        schema
    }
    .await;
    scratch.drop().await;
    result
}

/// What `revision --autogenerate` writes: the upgrade that turns the
/// history's schema into the declared one, and the downgrade back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The differences, history → declared.
    pub changes: Vec<Change>,
    /// The upgrade SQL.
    pub up: Rendered,
    /// The downgrade SQL.
    pub down: Rendered,
}

/// Diffs the history against the declared schema; `None` when they agree.
pub async fn autogenerate(
    migrations: &Migrations,
    dev_url: &str,
    declared_sql: &str,
    file: &str,
) -> Result<Option<Generated>, Error> {
    autogenerate_with_renames(migrations, dev_url, declared_sql, file, &[]).await
}

/// [`autogenerate`] with column renames the author accepted: each is a
/// `RENAME COLUMN` (the column keeps its rows) instead of a drop and an
/// add, and the downgrade renames it back. A rename that does not fit the
/// two schemas is an error naming it.
pub async fn autogenerate_with_renames(
    migrations: &Migrations,
    dev_url: &str,
    declared_sql: &str,
    file: &str,
    renames: &[Rename],
) -> Result<Option<Generated>, Error> {
    let dialect = DatabaseUrl::parse(dev_url)?.dialect();
    let from = history_schema(migrations, dev_url).await?;
    let to = declared_schema(dev_url, declared_sql, file).await?;
    let (renamed, mut changes) = apply_renames(&from, &to, renames).map_err(Error::Config)?;
    changes.extend(diff(&renamed, &to));
    if changes.is_empty() {
        return Ok(None);
    }
    let up = render(&changes, &renamed, &to, dialect);
    let back_renames: Vec<Rename> = renames.iter().rev().map(Rename::reversed).collect();
    let (renamed_back, mut back) = apply_renames(&to, &from, &back_renames).map_err(Error::Config)?;
    back.extend(diff(&renamed_back, &from));
    let down = render(&back, &renamed_back, &from, dialect);
    Ok(Some(Generated { changes, up, down }))
}

/// One revision whose downgrade does not give back the schema its upgrade
/// started from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundTripFailure {
    /// The revision.
    pub revision: String,
    /// Its file.
    pub path: String,
    /// What the downgrade would also have to do to restore the schema.
    pub differences: Vec<Change>,
    /// With data: the tables whose rows the downgrade, or the upgrade
    /// after it, lost or changed (in columns both sides have).
    pub lost_rows: Vec<String>,
}

/// What `migrator test` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundTrip {
    /// Revisions upgraded, downgraded and upgraded again.
    pub tested: usize,
    /// Revisions with no down section on the dialect (irreversible), which
    /// could not be tested: `(id, file)`.
    pub untested: Vec<(String, String)>,
    /// The first revision whose downgrade does not restore the schema.
    pub failure: Option<RoundTripFailure>,
    /// With data: tables that refused the generated rows (a check, a type
    /// no value can be made up for), with the reason; their data was not
    /// checked.
    pub unfilled: Vec<String>,
}

/// `migrator test`: on a scratch database, each revision in order is
/// upgraded, downgraded and upgraded again; the first whose downgrade does
/// not restore the schema is returned, with every revision that could not
/// be tested. A revision whose SQL fails is an error naming it; the
/// scratch database is dropped whatever happens.
pub async fn round_trip(migrations: &Migrations, dev_url: &str) -> Result<RoundTrip, Error> {
    round_trip_with(migrations, dev_url, false).await
}

/// [`round_trip`]; `with_data` also fills every table with generated rows
/// before each downgrade, and fails the first revision whose downgrade, or
/// the upgrade after it, loses rows or changes values in the columns that
/// both sides have (tables that refuse the rows are listed in
/// [`RoundTrip::unfilled`]).
pub async fn round_trip_with(migrations: &Migrations, dev_url: &str, with_data: bool) -> Result<RoundTrip, Error> {
    let scratch = Scratch::create(dev_url).await?;
    let result = async {
        let mut conn = Migrator::new(migrations).lock(false).connect(&scratch.url).await?;
        let dialect = conn.dialect();
        let order: Vec<RevisionIndex> = {
            let plan = conn.graph().plan_upgrade(&[], "heads", dialect)?;
            plan.steps.iter().map(|s| s.revision).collect()
        };
        let mut report = RoundTrip::default();
        let mut numbered = 0;
        for r in order {
            let rev = conn.graph().revision(r);
            let (id, path) = (rev.id.to_string(), rev.path.to_string());
            let on_scratch = |direction: crate::Direction| {
                let (id, path) = (id.clone(), path.clone());
                move |e: Error| Error::Scratch {
                    revision: id,
                    path,
                    direction: direction.verb(),
                    cause: match e {
                        Error::Failed { cause, .. } => cause.to_string(),
                        other => other.to_string(),
                    },
                }
            };
            let before = conn.schema().await?;
            conn.step(r, crate::Direction::Up)
                .await
                .map_err(on_scratch(crate::Direction::Up))?;
            if !conn.graph().revision(r).is_reversible(dialect) {
                report.untested.push((id, path));
                continue;
            }
            conn.step(r, crate::Direction::Down)
                .await
                .map_err(on_scratch(crate::Direction::Down))?;
            let after = conn.schema().await?;
            let differences = diff(&after, &before);
            if !differences.is_empty() {
                report.failure = Some(RoundTripFailure {
                    revision: id,
                    path,
                    differences,
                    lost_rows: Vec::new(),
                });
                return Ok(report);
            }
            conn.step(r, crate::Direction::Up)
                .await
                .map_err(on_scratch(crate::Direction::Up))?;
            if with_data {
                // Rows in every table, then down and up again: the rows of
                // the columns that the schema before keeps must survive both.
                let upgraded = conn.schema().await?;
                for (table, why) in sample_rows::fill(conn.db_mut(), &upgraded, &mut numbered).await {
                    if !report.unfilled.iter().any(|u| u.starts_with(&format!("{table} ("))) {
                        report.unfilled.push(format!("{table} ({why})"));
                    }
                }
                let read = async |conn: &mut super::connected::Connected<'_>| {
                    sample_rows::contents(conn.db_mut(), &before, &upgraded)
                        .await
                        .context(|| "cannot read the generated rows back".to_owned())
                };
                let filled = read(&mut conn).await?;
                conn.step(r, crate::Direction::Down)
                    .await
                    .map_err(on_scratch(crate::Direction::Down))?;
                let mut lost_rows = sample_rows::lost(&filled, &read(&mut conn).await?);
                if lost_rows.is_empty() {
                    conn.step(r, crate::Direction::Up)
                        .await
                        .map_err(on_scratch(crate::Direction::Up))?;
                    lost_rows = sample_rows::lost(&filled, &read(&mut conn).await?)
                        .into_iter()
                        .map(|l| format!("{l} after upgrading again"))
                        .collect();
                }
                if !lost_rows.is_empty() {
                    report.failure = Some(RoundTripFailure {
                        revision: id,
                        path,
                        differences: Vec::new(),
                        lost_rows,
                    });
                    return Ok(report);
                }
            }
            report.tested += 1;
        }
        conn.close().await;
        Ok(report)
    }
    .await;
    scratch.drop().await;
    result
}
