//! A revision's own `Lock Timeout` and `Statement Timeout` (header keys),
//! and the run's (`--ddl-lock-timeout`, `--statement-timeout`), as the SQL
//! that sets them on the session. Inside a PostgreSQL transaction they are
//! `SET LOCAL`, which ends with the transaction (and so never leaks into
//! another client's session behind a pooler); elsewhere they are set
//! before the revision and put back after it.

use std::time::Duration;

use crate::{Dialect, Timeouts};

/// `SET` statements for `t` (only the timeouts it sets); `None` when it
/// sets none or the dialect has no such settings (SQLite).
pub(crate) fn set(dialect: Dialect, t: Timeouts, local: bool) -> Option<String> {
    let statements: Vec<String> = [(t.lock, Kind::Lock), (t.statement, Kind::Statement)]
        .into_iter()
        .filter_map(|(d, kind)| d.and_then(|d| assign(dialect, kind, Some(d), local)))
        .collect();
    (!statements.is_empty()).then(|| statements.join(";\n") + ";")
}

/// Puts back what [`set`] changed for `t`: the run's `session` value, or the
/// server's default.
pub(crate) fn restore(dialect: Dialect, t: Timeouts, session: Timeouts) -> Option<String> {
    let statements: Vec<String> = [
        (t.lock, session.lock, Kind::Lock),
        (t.statement, session.statement, Kind::Statement),
    ]
    .into_iter()
    .filter(|(changed, _, _)| changed.is_some())
    .filter_map(|(_, back, kind)| assign(dialect, kind, back, false))
    .collect();
    (!statements.is_empty()).then(|| statements.join(";\n") + ";")
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Lock,
    Statement,
}

/// One setting to `value`, or back to the server's default for `None`.
fn assign(dialect: Dialect, kind: Kind, value: Option<Duration>, local: bool) -> Option<String> {
    let ms = value.map(|d| d.as_millis());
    match dialect {
        Dialect::Sqlite => None,
        Dialect::Postgres => {
            let name = match kind {
                Kind::Lock => "lock_timeout",
                Kind::Statement => "statement_timeout",
            };
            let scope = if local { "SET LOCAL" } else { "SET" };
            Some(match ms {
                Some(ms) => format!("{scope} {name} = '{ms}ms'"),
                None => format!("{scope} {name} TO DEFAULT"),
            })
        }
        Dialect::Mysql => Some(match (kind, ms) {
            // Whole seconds, at least one.
            (Kind::Lock, Some(ms)) => format!("SET SESSION lock_wait_timeout = {}", ms.div_ceil(1000).max(1)),
            (Kind::Lock, None) => "SET SESSION lock_wait_timeout = DEFAULT".to_owned(),
            // MariaDB's: seconds, with a fraction.
            (Kind::Statement, Some(ms)) => format!("SET SESSION max_statement_time = {}.{:03}", ms / 1000, ms % 1000),
            (Kind::Statement, None) => "SET SESSION max_statement_time = DEFAULT".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(lock: Option<u64>, statement: Option<u64>) -> Timeouts {
        Timeouts {
            lock: lock.map(Duration::from_millis),
            statement: statement.map(Duration::from_millis),
        }
    }

    #[test]
    fn a_revision_s_timeouts_are_set_and_put_back_to_the_run_s() {
        let rev = t(Some(1500), None);
        assert_eq!(
            set(Dialect::Postgres, rev, true).as_deref(),
            Some("SET LOCAL lock_timeout = '1500ms';")
        );
        assert_eq!(
            restore(Dialect::Postgres, rev, t(Some(9000), Some(1))).as_deref(),
            Some("SET lock_timeout = '9000ms';")
        );
        assert_eq!(
            restore(Dialect::Postgres, rev, Timeouts::default()).as_deref(),
            Some("SET lock_timeout TO DEFAULT;")
        );
        assert_eq!(
            set(Dialect::Mysql, t(Some(1500), Some(2500)), false).as_deref(),
            Some("SET SESSION lock_wait_timeout = 2;\nSET SESSION max_statement_time = 2.500;")
        );
        assert_eq!(set(Dialect::Sqlite, rev, false), None);
        assert_eq!(set(Dialect::Postgres, Timeouts::default(), false), None);
    }
}
