//! What a caller may do around a run that will apply something: a hook
//! called once the plan is made (with the lock held) and before the first
//! revision runs, and a SQLite backup taken at that moment. Both happen
//! only when the plan has steps, and a failure in either stops the run
//! with nothing applied.

use std::path::Path;

use super::db::{Db, Value};
use super::error::Error;
use super::report::StepReport;
use crate::Dialect;

/// Callbacks of a run; every method has a default that does nothing.
pub trait RunHooks {
    /// Called once, with the lock held and the plan made, before the first
    /// revision runs, and only when one will: `planned` lists the steps
    /// (durations zero). An error stops the run before anything is
    /// applied; its text becomes [`Error::Hook`].
    fn before_apply(&mut self, planned: &[StepReport]) -> Result<(), String> {
        let _ = planned;
        Ok(())
    }

    /// Called after each revision commits.
    fn on_step(&mut self, applied: &StepReport) {
        let _ = applied;
    }
}

/// [`RunHooks`] with only `on_step`, from a closure.
pub(crate) struct OnStep<'a>(pub &'a mut dyn FnMut(&StepReport));

impl RunHooks for OnStep<'_> {
    fn on_step(&mut self, applied: &StepReport) {
        (self.0)(applied);
    }
}

/// An online, consistent copy of a SQLite database (`VACUUM INTO`), which
/// refuses to overwrite an existing file.
pub(crate) async fn backup(db: &mut Db, to: &Path) -> Result<(), Error> {
    if db.dialect() != Dialect::Sqlite {
        return Err(Error::Config(format!(
            "a backup file is for SQLite; on {} use a before_upgrade hook (pg_dump, mariadb-dump), see docs/hooks.md",
            db.dialect()
        )));
    }
    if to.exists() {
        return Err(Error::Hook(format!(
            "the backup file {} exists already; name a new file (nothing was applied)",
            to.display()
        )));
    }
    let path = to.to_string_lossy();
    db.exec("VACUUM INTO ?", &[Value::Text(&path)])
        .await
        .map_err(|cause| Error::Database {
            context: format!("cannot back the database up to {} (nothing was applied)", to.display()),
            cause,
        })
        .map(drop)
}
