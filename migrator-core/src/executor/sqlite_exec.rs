//! SQLite scripts run by SQLite itself: `sqlite3_exec` on the connection
//! handle that sqlx lends while its worker thread waits
//! ([`sqlx::SqliteConnection::lock_handle`]).
//!
//! Why not `sqlx::raw_sql`: sqlx runs a script on its worker thread and
//! hands every statement's result back across threads, and it passes
//! SQLite the rest of the script without its terminator, so SQLite copies
//! what is left before each statement. `sqlite3_exec` is what the
//! `sqlite3` client runs: one call, one pass over the text. The call
//! blocks the calling thread while SQLite executes the script, as the
//! database executing it would block any client.
//!
//! The only `unsafe` code of the project, kept to this file.
#![allow(unsafe_code)]

use std::borrow::Cow;
use std::error::Error as StdError;
use std::ffi::{CStr, CString, c_char, c_int};
use std::fmt;
use std::ptr;

use libsqlite3_sys as ffi;
use sqlx::error::{DatabaseError, ErrorKind};

/// Runs `sql`, a script of zero or more statements, as `sqlite3` would.
pub(crate) async fn exec(conn: &mut sqlx::SqliteConnection, sql: &str) -> Result<(), sqlx::Error> {
    let sql = CString::new(sql).map_err(|_| {
        sqlx::Error::Database(Box::new(ExecError {
            code: ffi::SQLITE_MISUSE,
            message: "the SQL holds a NUL byte".to_owned(),
        }))
    })?;
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut message: *mut c_char = ptr::null_mut();
    // SAFETY: `db` is an open connection that sqlx's worker thread does not
    // touch while `handle` lives (the guarantee of `lock_handle`); `sql` is
    // a NUL-terminated string that outlives the call; no callback is given;
    // `message` is a valid place for SQLite to store an error text.
    let rc = unsafe { ffi::sqlite3_exec(db, sql.as_ptr(), None, ptr::null_mut(), &mut message) };
    if rc == ffi::SQLITE_OK {
        return Ok(());
    }
    // SAFETY: as above; the extended code describes the failed call.
    let code = unsafe { ffi::sqlite3_extended_errcode(db) };
    let message = if message.is_null() {
        // SAFETY: `sqlite3_errstr` returns a static NUL-terminated string.
        unsafe { CStr::from_ptr(ffi::sqlite3_errstr(rc)) }
            .to_string_lossy()
            .into_owned()
    } else {
        // SAFETY: SQLite allocated `message` with its allocator and wrote a
        // NUL-terminated string; it is read once, then freed by the same
        // allocator and not used again.
        unsafe {
            let text = CStr::from_ptr(message).to_string_lossy().into_owned();
            ffi::sqlite3_free(message.cast());
            text
        }
    };
    Err(sqlx::Error::Database(Box::new(ExecError { code, message })))
}

/// A failed script: SQLite's extended result code and its message, shown
/// as sqlx shows SQLite's errors.
#[derive(Debug)]
struct ExecError {
    code: c_int,
    message: String,
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl StdError for ExecError {}

impl DatabaseError for ExecError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{ConnectOptions, Row};

    use super::*;

    async fn memory() -> sqlx::SqliteConnection {
        sqlx::sqlite::SqliteConnectOptions::new()
            .filename(":memory:")
            .connect()
            .await
            .expect("in-memory SQLite")
    }

    #[tokio::test]
    async fn a_script_runs_every_statement_and_sqlx_sees_the_result() {
        let mut c = memory().await;
        exec(
            &mut c,
            "CREATE TABLE t (x INT); INSERT INTO t VALUES (1); -- done\nINSERT INTO t VALUES (2)",
        )
        .await
        .expect("runs");
        let n: i64 = sqlx::query("SELECT sum(x) FROM t")
            .fetch_one(&mut c)
            .await
            .expect("reads")
            .get(0);
        assert_eq!(n, 3);
    }

    #[tokio::test]
    async fn a_failing_statement_reports_sqlites_code_and_message_and_stops_there() {
        let mut c = memory().await;
        let e = exec(&mut c, "CREATE TABLE t (x INT UNIQUE); INSERT INTO t VALUES (1); INSERT INTO t VALUES (1); CREATE TABLE after (y INT)")
            .await
            .expect_err("a duplicate fails");
        let db = e.as_database_error().expect("a database error");
        assert_eq!(db.code().as_deref(), Some("2067"), "{e}");
        assert!(db.message().contains("UNIQUE constraint failed: t.x"), "{e}");
        assert_eq!(db.kind(), ErrorKind::UniqueViolation);
        let after: i64 = sqlx::query("SELECT count(*) FROM sqlite_master WHERE name = 'after'")
            .fetch_one(&mut c)
            .await
            .expect("reads")
            .get(0);
        assert_eq!(after, 0, "nothing after the failing statement ran");
    }

    #[tokio::test]
    async fn a_nul_byte_is_an_error_not_a_truncated_script() {
        let mut c = memory().await;
        let e = exec(&mut c, "CREATE TABLE t (x INT);\0CREATE TABLE u (x INT)")
            .await
            .expect_err("refused");
        assert!(e.to_string().contains("NUL byte"), "{e}");
        let tables: i64 = sqlx::query("SELECT count(*) FROM sqlite_master")
            .fetch_one(&mut c)
            .await
            .expect("reads")
            .get(0);
        assert_eq!(tables, 0, "nothing ran");
    }
}
