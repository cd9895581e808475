//! Serialization failures: what engines that run every transaction as
//! `SERIALIZABLE` (CockroachDB; PostgreSQL set so by
//! `default_transaction_isolation`) return under contention, asking the
//! client to run the transaction again. migrator retries its own
//! bookkeeping transactions, which hold no user SQL, a bounded number of
//! times; a revision's SQL is never run again behind the user's back.

use std::time::Duration;

/// How many times a bookkeeping transaction is tried again.
pub(crate) const RETRIES: usize = 5;

/// `true` for an error that running the same transaction again can cure:
/// a serialization failure (SQLSTATE 40001) or a deadlock (40P01; MySQL
/// error 1213).
pub(crate) fn retryable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("40001" | "40P01" | "1213")),
        _ => false,
    }
}

/// Runs `work` until it succeeds, fails otherwise than by
/// [`retryable`] (as `cause` finds it), or has been tried [`RETRIES`] more
/// times, with a short growing pause between tries. `work` must leave
/// nothing behind when it fails (it rolls its transaction back).
pub(crate) async fn retrying<T, E>(
    cause: fn(&E) -> Option<&sqlx::Error>,
    mut work: impl AsyncFnMut() -> Result<T, E>,
) -> Result<T, E> {
    let mut tries = 0;
    loop {
        match work().await {
            Err(e) if tries < RETRIES && cause(&e).is_some_and(retryable) => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(10 << tries)).await;
            }
            other => return other,
        }
    }
}
