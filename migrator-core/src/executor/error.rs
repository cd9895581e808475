//! What can go wrong while talking to a database, each case saying where
//! things stand and what to do.

use crate::{Diagnostics, Dialect, PlanError, UrlError, VerifyError};

/// An executor error. Every variant leaves the database consistent: a
/// revision is either applied and recorded, or neither.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database URL is malformed.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The revision files are broken.
    #[error("{0}")]
    Migrations(Diagnostics),
    /// A setting is invalid.
    #[error("{0}")]
    Config(String),
    /// The dialect's driver is not compiled into this binary.
    #[error("{dialect} support is not built into this binary; rebuild migrator-core with its `{feature}` feature")]
    Unsupported {
        /// The dialect the URL names.
        dialect: Dialect,
        /// The cargo feature that adds it.
        feature: &'static str,
    },
    /// The database cannot be reached.
    #[error("cannot connect to {url}: {}; {}", describe(.cause), connect_advice(.url, .cause))]
    Connect {
        /// The URL, password removed.
        url: String,
        /// The driver's error.
        #[source]
        cause: sqlx::Error,
    },
    /// No plan could be made; nothing ran.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The bookkeeping forbids going on: revisions unknown to this binary,
    /// one left failed partway, an edited one.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// A revision's SQL failed. Its changes were rolled back where the
    /// dialect allows.
    #[error("revision {revision} ({path}) failed during {direction}: {}\n{state}", describe(.cause))]
    Failed {
        /// The revision.
        revision: String,
        /// Its file.
        path: String,
        /// `upgrade` or `downgrade`.
        direction: &'static str,
        /// The database's error.
        #[source]
        cause: sqlx::Error,
        /// Where the database stands now and what to do.
        state: String,
    },
    /// A SQLite revision that ran with foreign keys off (it holds `PRAGMA
    /// foreign_keys = OFF`) left rows that break them; it was rolled back.
    #[error(
        "revision {revision} ({path}) left rows that break foreign keys during {direction} ({violations}); it ran \
         with foreign keys off, as its `PRAGMA foreign_keys = OFF` asks, and `PRAGMA foreign_key_check` found these \
         before commit, so nothing of it was kept. Fix the SQL (copy or delete the rows the keys need) and run the \
         command again"
    )]
    ForeignKeyViolations {
        /// The revision.
        revision: String,
        /// Its file.
        path: String,
        /// `upgrade` or `downgrade`.
        direction: &'static str,
        /// `table row 3 -> parent`, ...
        violations: String,
    },
    /// The version rows were not where the plan expected them.
    #[error(
        "the version table changed while migrating ({detail}); another migrator may be running against this \
         database (or one ran with --no-lock). {kept}"
    )]
    Concurrent {
        /// What was found.
        detail: String,
        /// What stays and what to do.
        kept: String,
    },
    /// Another runner held the migration lock for longer than the timeout.
    #[error(
        "another migrator held the migration lock for {waited:?}; wait for it to finish, raise --lock-timeout, \
         or (if no runner is active) check for a stuck session holding the lock"
    )]
    LockTimeout {
        /// How long this run waited.
        waited: std::time::Duration,
    },
    /// A hook before the run (a backup, a `before_upgrade` command)
    /// failed; nothing was applied.
    #[error("{0}")]
    Hook(String),
    /// The migration lock could not be taken for a reason other than
    /// another runner holding it.
    #[error("{0}")]
    Lock(String),
    /// A revision's SQL failed on a scratch database (`migrator test`,
    /// autogenerate), which was then dropped: nothing to repair.
    #[error(
        "revision {revision} ({path}) failed during {direction} on the scratch database: {cause}. The scratch \
         database was dropped and nothing else was touched; fix the SQL in the file and run the command again"
    )]
    Scratch {
        /// The revision.
        revision: String,
        /// Its file.
        path: String,
        /// `upgrade` or `downgrade`.
        direction: &'static str,
        /// The database's error.
        cause: String,
    },
    /// `repair` was asked to repair something that does not need it.
    #[error("{0}")]
    NothingToRepair(String),
    /// Any other database error, with what migrator was doing. The
    /// database's error is both in the message (summarised) and the
    /// `source()`.
    #[error("{context}: {}", describe(.cause))]
    Database {
        /// What migrator was doing.
        context: String,
        /// The database's error.
        #[source]
        cause: sqlx::Error,
    },
}

/// What to do about a connection that failed: for TLS, which setting of
/// the URL's own dialect to change; otherwise, check the server and the URL.
fn connect_advice(url: &str, cause: &sqlx::Error) -> String {
    let mysql = url.starts_with("mysql") || url.starts_with("mariadb");
    // (PostgreSQL's setting, MySQL's) for each piece of advice.
    let pick = |pg: &str, my: &str| if mysql { my.to_owned() } else { pg.to_owned() };
    let text = cause.to_string();
    if text.contains("UnknownIssuer") || text.contains("unknown issuer") || text.contains("BadSignature") {
        format!(
            "the server's certificate is not signed by a CA this client trusts: name yours with {}, or use {} to \
             encrypt without verifying the certificate",
            pick("sslrootcert=/path/ca.pem", "ssl-ca=/path/ca.pem"),
            pick("sslmode=require", "ssl-mode=REQUIRED"),
        )
    } else if text.contains("NotValidForName") || text.contains("not valid for name") {
        format!(
            "the server's certificate does not name the host in the URL: connect with the host name the \
             certificate names, or use {}, which checks the CA but not the name",
            pick("sslmode=verify-ca", "ssl-mode=VERIFY_CA"),
        )
    } else if text.contains("server does not support TLS") || text.contains("server does not support SSL") {
        format!(
            "the server offers no TLS: enable TLS on the server, or lower {} to {}",
            pick("sslmode", "ssl-mode"),
            pick("prefer or disable", "PREFERRED or DISABLED"),
        )
    } else if text.contains("SSL") && text.contains("required") || text.contains("no encryption") {
        format!(
            "the server requires TLS: add {} to the URL",
            pick("sslmode=require", "ssl-mode=REQUIRED")
        )
    } else {
        "check that the database is running and the URL is right".to_owned()
    }
}

/// What kind of failure an [`Error`] is, as a command line maps it to an
/// exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// How migrator was called or configured (exit code 2).
    Usage,
    /// The operation failed (exit code 1).
    Failed,
}

impl From<Diagnostics> for Error {
    fn from(d: Diagnostics) -> Error {
        Error::Migrations(d)
    }
}

impl Error {
    /// Usage or failure.
    pub fn kind(&self) -> ErrorKind {
        if self.is_usage() {
            ErrorKind::Usage
        } else {
            ErrorKind::Failed
        }
    }

    /// `true` for errors in how migrator was called or configured (exit
    /// code 2), `false` for operations that failed (exit code 1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Url(_)
                | Error::Migrations(_)
                | Error::Config(_)
                | Error::Unsupported { .. }
                | Error::NothingToRepair(_)
        )
    }
}

/// A database error as one line for a person: the server's message with
/// its code, detail and hint, without the driver's prefix ("error
/// returned from database") or the server's own source location (which
/// PostgreSQL errors carry and sqlx prints as "at line N").
pub(crate) fn describe(e: &sqlx::Error) -> String {
    let sqlx::Error::Database(db) = e else {
        return e.to_string();
    };
    let mut text = db.message().to_owned();
    #[cfg(feature = "postgres")]
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        if let Some(detail) = pg.detail() {
            text.push_str(&format!(" ({detail})"));
        }
        if let Some(hint) = pg.hint() {
            text.push_str(&format!("; hint: {hint}"));
        }
    }
    if let Some(code) = db.code() {
        text.push_str(&format!(" [{code}]"));
    }
    text
}

pub(crate) trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error>;
}

impl<T> Context<T> for Result<T, sqlx::Error> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|cause| Error::Database { context: what(), cause })
    }
}
