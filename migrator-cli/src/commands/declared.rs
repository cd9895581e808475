//! Declared schemas, one per dialect: which dialect a file declares (by
//! its name: `schema.sqlite.sql`, `schema.postgresql.sql`,
//! `schema.mysql.sql`; a name without one declares the target's dialect),
//! and which server each is loaded on (`--dev-url`, one per dialect; the
//! target when it has that dialect; SQLite in memory).

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use migrator_core::{DatabaseUrl, Dialect};

use crate::UsageError;
use crate::settings::Settings;

/// One declared schema file and the dialect it is written in.
#[derive(Debug, Clone)]
pub(crate) struct Declared {
    pub path: PathBuf,
    pub dialect: Dialect,
}

/// The dialect a file's name declares: the word before `.sql`.
pub(crate) fn dialect_of_file(path: &Path) -> Option<Dialect> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let stem = name.strip_suffix(".sql")?;
    let word = stem.rsplit_once('.')?.1;
    match word {
        "sqlite" | "sqlite3" => Some(Dialect::Sqlite),
        "postgresql" | "postgres" | "pg" => Some(Dialect::Postgres),
        "mysql" | "mariadb" => Some(Dialect::Mysql),
        _ => None,
    }
}

/// The declared schemas of `settings`, each with its dialect; two for one
/// dialect is a usage error.
pub(crate) fn declared(settings: &Settings) -> Result<Vec<Declared>> {
    let target = settings.url.dialect();
    let mut out: Vec<Declared> = Vec::new();
    for path in &settings.schema {
        let dialect = dialect_of_file(path).unwrap_or(target);
        if let Some(other) = out.iter().find(|d| d.dialect == dialect) {
            bail!(UsageError(format!(
                "{} and {} both declare the {dialect} schema; keep one per dialect (name them like \
                 schema.sqlite.sql and schema.postgresql.sql)",
                other.path.display(),
                path.display()
            )));
        }
        out.push(Declared {
            path: path.clone(),
            dialect,
        });
    }
    Ok(out)
}

/// The server a `dialect` schema is loaded on: the `--dev-url` of that
/// dialect, else the target when it has that dialect, else for SQLite a
/// database in memory.
pub(crate) fn dev_url_for(settings: &Settings, dialect: Dialect, schema: &Path) -> Result<String> {
    if let Some(url) = dev_url(settings, dialect) {
        return Ok(url);
    }
    bail!(UsageError(format!(
        "{} declares the {dialect} schema, but no {dialect} server is named to load it on: pass --dev-url with a \
         {dialect} URL (a server where migrator may create and drop scratch databases), or set `dev_url` in \
         migrator.toml",
        schema.display()
    )))
}

/// [`dev_url_for`], `None` where no server is named.
pub(crate) fn dev_url(settings: &Settings, dialect: Dialect) -> Option<String> {
    for url in &settings.dev_url {
        if DatabaseUrl::parse(url).map(|u| u.dialect()) == Ok(dialect) {
            return Some(url.clone());
        }
    }
    if settings.url.dialect() == dialect {
        return Some(settings.raw_url.clone());
    }
    (dialect == Dialect::Sqlite).then(|| "sqlite::memory:".to_owned())
}

/// The declared schema for the connected `dialect`, if any (for drift).
pub(crate) fn for_dialect(settings: &Settings, dialect: Dialect) -> Result<Option<Declared>> {
    Ok(declared(settings)?.into_iter().find(|d| d.dialect == dialect))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_says_the_dialect() {
        let d = |n: &str| dialect_of_file(Path::new(n));
        assert_eq!(d("db/schema.sqlite.sql"), Some(Dialect::Sqlite));
        assert_eq!(d("schema.postgresql.sql"), Some(Dialect::Postgres));
        assert_eq!(d("Schema.PG.sql"), Some(Dialect::Postgres));
        assert_eq!(d("prod.mariadb.sql"), Some(Dialect::Mysql));
        assert_eq!(d("schema.sql"), None);
        assert_eq!(d("schema.v2.sql"), None);
        assert_eq!(d("schema.sqlite"), None);
    }
}
