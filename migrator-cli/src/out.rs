//! Standard output and error without panics. `println!` and `eprintln!`
//! panic when a write fails, as it does once the reader of a pipe has gone
//! (`migrator history | head`); here a closed pipe ends that stream's
//! output quietly and the command runs on, so a migration is never cut
//! short by whoever reads its report. Any other write error (a full disk under `> script.sql`) is
//! kept and turned into exit code 1 when the command ends ([`failure`]).

use std::fmt::Arguments;
use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static OUT_CLOSED: AtomicBool = AtomicBool::new(false);
static ERR_CLOSED: AtomicBool = AtomicBool::new(false);
static FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// Writes to standard output; see the module docs.
pub(crate) fn stdout(args: Arguments<'_>) {
    write(&OUT_CLOSED, "standard output", &mut io::stdout().lock(), args);
}

/// Writes to standard error; see the module docs.
pub(crate) fn stderr(args: Arguments<'_>) {
    write(&ERR_CLOSED, "standard error", &mut io::stderr().lock(), args);
}

fn write(closed: &AtomicBool, name: &str, to: &mut impl Write, args: Arguments<'_>) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = to.write_fmt(args).and_then(|()| to.flush()) {
        closed.store(true, Ordering::Relaxed);
        if e.kind() != io::ErrorKind::BrokenPipe {
            let mut failure = FAILURE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            failure.get_or_insert_with(|| format!("cannot write to {name}: {e}"));
        }
    }
}

/// Forgets what an earlier call of the command line saw, so that nothing
/// carries over from one call to the next in one process.
pub(crate) fn reset() {
    OUT_CLOSED.store(false, Ordering::Relaxed);
    ERR_CLOSED.store(false, Ordering::Relaxed);
    *FAILURE.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
}

/// The first write error other than a closed pipe, if any.
pub(crate) fn failure() -> Option<String> {
    FAILURE.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
}

/// `print!` without the panic.
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::stdout(format_args!($($arg)*)) };
}

/// `println!` without the panic.
macro_rules! outln {
    () => { $crate::out::stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::out::stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` without the panic.
macro_rules! err {
    ($($arg:tt)*) => { $crate::out::stderr(format_args!($($arg)*)) };
}

/// `eprintln!` without the panic.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::out::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {err, errln, out, outln};
