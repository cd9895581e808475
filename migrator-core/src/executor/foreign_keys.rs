//! SQLite steps that run with foreign keys off (they hold `PRAGMA
//! foreign_keys = OFF`, see `crate::pragma`): switched off outside the
//! transaction, checked with `PRAGMA foreign_key_check` before the commit,
//! switched back on after it.

use super::db::Db;
use super::error::{Context, Error};
use super::lock::Fence;
use crate::{Plan, Step, Text};

/// Foreign keys switched off on a SQLite connection, outside any
/// transaction, for a step that holds `PRAGMA foreign_keys = OFF` (see
/// `pragma`), and whether to switch them on again afterwards.
#[derive(Debug)]
pub(super) struct ForeignKeysOff {
    were_on: bool,
}

impl ForeignKeysOff {
    pub(super) async fn switch(db: &mut Db) -> Result<ForeignKeysOff, Error> {
        let were_on = db
            .strings("PRAGMA foreign_keys")
            .await
            .context(|| "cannot read PRAGMA foreign_keys".to_owned())?
            .first()
            .is_some_and(|v| v == "1");
        db.script(&Text::Borrowed("PRAGMA foreign_keys = OFF"))
            .await
            .context(|| "cannot switch foreign keys off".to_owned())?;
        Ok(ForeignKeysOff { were_on })
    }

    /// Switches them back, once the transaction is over. A failure here
    /// is harmless to the database: the connection closes after the run.
    pub(super) async fn restore(db: &mut Db, fk: &mut Option<ForeignKeysOff>) {
        if let Some(ForeignKeysOff { were_on: true }) = fk.take() {
            let _ = db.script(&Text::Borrowed("PRAGMA foreign_keys = ON")).await;
        }
    }
}

/// Commits the open transaction; when it ran with foreign keys off, first
/// checks that no row breaks them (rolling back if one does), and switches
/// them on again afterwards.
pub(super) async fn commit_checked(
    db: &mut Db,
    fence: &Fence,
    fk_off: &mut Option<ForeignKeysOff>,
    plan: &Plan<'_, '_>,
    step: &Step,
) -> Result<(), Error> {
    let rev = plan.graph().revision(step.revision);
    if fk_off.is_some() {
        let violations = match db.rows("PRAGMA foreign_key_check", &[]).await {
            Ok(rows) => rows,
            Err(cause) => {
                let _ = db.rollback().await;
                ForeignKeysOff::restore(db, fk_off).await;
                return Err(Error::Database {
                    context: format!("cannot check the foreign keys after revision {}", rev.id),
                    cause,
                });
            }
        };
        if !violations.is_empty() {
            let _ = db.rollback().await;
            ForeignKeysOff::restore(db, fk_off).await;
            let shown: Vec<String> = violations
                .iter()
                .take(5)
                .map(|r| {
                    let at = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
                    format!("{} row {} -> {}", at(0), at(1), at(2))
                })
                .collect();
            let more = violations.len().saturating_sub(shown.len());
            let mut list = shown.join(", ");
            if more > 0 {
                list.push_str(&format!(" and {more} more"));
            }
            return Err(Error::ForeignKeyViolations {
                revision: rev.id.to_string(),
                path: rev.path.to_string(),
                direction: step.direction.verb(),
                violations: list,
            });
        }
    }
    let committed = fence.commit(db, &format!("revision {}", rev.id)).await;
    ForeignKeysOff::restore(db, fk_off).await;
    committed
}
