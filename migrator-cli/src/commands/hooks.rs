//! Hook commands from `migrator.toml` around a run that will apply
//! something: `before_upgrade` (with the lock held and the plan made;
//! failing stops the run before anything is applied), `after_upgrade`
//! (after success) and `on_failure`. Each runs with `sh -c`, its output
//! on our standard error, and the target in its environment (never in
//! its arguments): `MIGRATOR_COMMAND`, `MIGRATOR_TARGET`,
//! `MIGRATOR_REVISIONS`, `MIGRATOR_ERROR` (on_failure), and the
//! connection's parts ([`migrator_core::Target::environment`]).

use std::process::{Command, Stdio};

use migrator_core::{Direction, RunHooks, StepReport, Target};

use crate::out::errln;
use crate::settings::Settings;

/// The configured commands and what a run has told them so far.
pub(crate) struct Hooks<'s, 'p> {
    settings: &'s Settings,
    direction: Direction,
    target: String,
    planned: Vec<String>,
    /// Called with each step, for printing.
    print: &'p mut dyn FnMut(&StepReport),
}

impl std::fmt::Debug for Hooks<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("planned", &self.planned)
            .finish_non_exhaustive()
    }
}

impl<'s, 'p> Hooks<'s, 'p> {
    pub(crate) fn new(
        settings: &'s Settings,
        direction: Direction,
        target: &str,
        print: &'p mut dyn FnMut(&StepReport),
    ) -> Self {
        Hooks {
            settings,
            direction,
            target: target.to_owned(),
            planned: Vec::new(),
            print,
        }
    }

    /// Runs `after_upgrade` (no error) or `on_failure` (an error), when the
    /// run got as far as planning something to apply. An `after_upgrade`
    /// that fails is reported as an error: the revisions stay applied.
    pub(crate) fn after(&self, error: Option<&str>) -> Result<(), String> {
        if self.planned.is_empty() {
            return Ok(());
        }
        match error {
            None => match &self.settings.hooks.after_upgrade {
                Some(cmd) => self
                    .run("after_upgrade", cmd, None)
                    .map_err(|e| format!("{e}; the revisions were applied ({})", self.planned.join(", "))),
                None => Ok(()),
            },
            Some(error) => {
                if let Some(cmd) = &self.settings.hooks.on_failure
                    && let Err(e) = self.run("on_failure", cmd, Some(error))
                {
                    errln!("warning: {e}");
                }
                Ok(())
            }
        }
    }

    fn run(&self, name: &str, command: &str, error: Option<&str>) -> Result<(), String> {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(command)
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::io::stderr()))
            .env("MIGRATOR_COMMAND", self.direction.verb())
            .env("MIGRATOR_TARGET", &self.target)
            .env("MIGRATOR_REVISIONS", self.planned.join(" "));
        for (key, value) in Target::of(&self.settings.url).environment() {
            c.env(key, value);
        }
        if let Some(e) = error {
            c.env("MIGRATOR_ERROR", e);
        }
        match c.status() {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(format!(
                "the {name} hook `{command}` failed ({s}){}",
                if name == "before_upgrade" {
                    "; nothing was applied"
                } else {
                    ""
                }
            )),
            Err(e) => Err(format!("cannot run the {name} hook `{command}`: {e}")),
        }
    }
}

impl RunHooks for Hooks<'_, '_> {
    fn before_apply(&mut self, planned: &[StepReport]) -> Result<(), String> {
        self.planned = planned.iter().map(|a| a.revision.clone()).collect();
        match &self.settings.hooks.before_upgrade {
            Some(cmd) => self.run("before_upgrade", cmd, None),
            None => Ok(()),
        }
    }

    fn on_step(&mut self, applied: &StepReport) {
        (self.print)(applied);
    }
}
