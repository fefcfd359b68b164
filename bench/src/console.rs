//! What a command writes to the terminal, the way shell tools do, and how
//! it ends: [`out`] and [`note`] (and the [`outln!`](crate::outln) and
//! [`note!`](crate::note) macros over them), [`Stop`], and [`message`].
//!
//! - Each line goes out in one `write` call, so lines from two threads, or
//!   two processes sharing a log, never interleave within a line.
//! - A closed standard output or error (`httplab bench | head -2`) is not
//!   an error: what would have been written there is dropped, and the
//!   command carries on and ends as it would have (a sweep still stores
//!   its runs and renders its report). Rust ignores SIGPIPE, so without
//!   this a write would fail with "Broken pipe", and `eprintln!` would
//!   panic. Any other failed write to standard output (a full disk under
//!   `> file`) is still an error.
//! - [`Stop`] carries the exit codes other than 0 (done), 1 (an error) and
//!   2 (a usage error, clap's): 3 when runs failed, 130 and 143 when a
//!   signal interrupted the command. `httplab --help` lists them.
//! - [`message`] prints an error's chain of causes, each cause once.

use std::io::{ErrorKind, Write};

/// Write `text` to standard output in one call and flush it. A closed
/// pipe drops it silently; any other write error is returned.
pub fn out(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Write `text` to standard error in one call. Errors are dropped: there
/// is nowhere left to report them.
pub fn note(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// `println!` through [`console::out`](crate::console::out): the line in
/// one write, a closed pipe ignored. Evaluates to `std::io::Result<()>`.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::console::out(&{
            let mut line = format!($($arg)*);
            line.push('\n');
            line
        })
    };
}

/// `eprintln!` through [`console::note`](crate::console::note): the line
/// in one write, never a panic.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::console::note(&{
            let mut line = format!($($arg)*);
            line.push('\n');
            line
        })
    };
}

/// Exit code: some run failed or timed out (`run`, `get`, `bench --strict`).
pub const EXIT_RUNS_FAILED: u8 = 3;
/// Exit code: interrupted by SIGINT (128 + 2, as a shell reports it).
pub const EXIT_SIGINT: u8 = 130;
/// Exit code: interrupted by SIGTERM (128 + 15).
pub const EXIT_SIGTERM: u8 = 143;

/// The exit codes, for `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    done (bench: the sweep completed, whatever its runs' outcomes)
  1    an error: bad input, a file that cannot be read or written, a
       server that cannot be reached
  2    a usage error: an unknown flag or a bad value
  3    a run failed or timed out (run, get; bench with --strict)
  130  interrupted by SIGINT (Ctrl-C), 143 by SIGTERM; bench first
       finishes the runs in flight and writes summary.csv and the report,
       and the same command resumes

A closed standard output or error (| head) is not an error: output
stops, the command finishes its work, and its exit code is unchanged.";

/// A command that ended without an error in itself, but not with success:
/// its message and exit code.
#[derive(Debug, thiserror::Error)]
pub enum Stop {
    /// A run failed or timed out; its record is already out.
    #[error("{0}")]
    RunsFailed(String),
    /// A signal stopped the command once it had stored what was done.
    #[error("{message}")]
    Interrupted {
        /// What was done and how to go on.
        message: String,
        /// The exit code: [`EXIT_SIGINT`] or [`EXIT_SIGTERM`].
        code: u8,
    },
}

impl Stop {
    /// The process's exit code.
    pub fn code(&self) -> u8 {
        match self {
            Stop::RunsFailed(_) => EXIT_RUNS_FAILED,
            Stop::Interrupted { code, .. } => *code,
        }
    }
}

/// How `error` is printed: `error: ` then its causes joined by `: `, each
/// cause once (a cause that repeats what is already said, as an I/O error
/// wrapped by a type that prints its source does, is left out). An
/// interruption prints as its message alone.
pub fn message(error: &anyhow::Error) -> String {
    if let Some(stop @ Stop::Interrupted { .. }) = error.downcast_ref::<Stop>() {
        return stop.to_string();
    }
    let mut said = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || said.contains(&text) {
            continue;
        }
        if !said.is_empty() {
            said.push_str(": ");
        }
        said.push_str(&text);
    }
    format!("error: {said}")
}

/// The exit code of a command that failed with `error`.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    error.downcast_ref::<Stop>().map_or(1, Stop::code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_printed_once() {
        let io = std::io::Error::from(ErrorKind::NotFound);
        let text = io.to_string();
        #[derive(Debug, thiserror::Error)]
        #[error("reading x.toml: {0}")]
        struct Repeats(#[source] std::io::Error);
        let error = anyhow::Error::new(Repeats(io)).context("loading the scenario");
        let printed = message(&error);
        assert_eq!(
            printed,
            format!("error: loading the scenario: reading x.toml: {text}")
        );
        assert_eq!(printed.matches(&text).count(), 1);
        assert_eq!(exit_code(&error), 1);
    }

    #[test]
    fn a_stop_has_its_own_code() {
        let failed = anyhow::Error::new(Stop::RunsFailed("run h2/seed=1 timed out".into()))
            .context("ignored context is still printed");
        assert_eq!(exit_code(&failed), EXIT_RUNS_FAILED);
        let interrupted = anyhow::Error::new(Stop::Interrupted {
            message: "interrupted: 3 of 10 runs done".into(),
            code: EXIT_SIGTERM,
        });
        assert_eq!(exit_code(&interrupted), EXIT_SIGTERM);
        assert_eq!(message(&interrupted), "interrupted: 3 of 10 runs done");
    }
}
