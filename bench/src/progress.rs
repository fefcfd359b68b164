//! Progress of a sweep on stderr: on a terminal, one line redrawn in place
//! with the share done, failures, elapsed time and an ETA; otherwise (a
//! log, a CI job, a batch system) one plain line per finished run.
//!
//! Progress is the only place the runner reads the wall clock, and only to
//! tell a person how long is left; nothing read here reaches a record.
//! Each update is one write ([`crate::console::note`]), so a log never
//! holds half a line, and a closed stderr is no error.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use records::{Outcome, RunResult};

/// A sweep's progress display.
#[derive(Debug)]
pub struct Progress {
    total: usize,
    done: usize,
    failed: usize,
    started: Instant,
    terminal: bool,
    drawn: bool,
}

impl Progress {
    /// Progress over `total` runs to go, drawn in place when stderr is a
    /// terminal.
    pub fn new(total: usize) -> Progress {
        Progress::with_terminal(total, std::io::stderr().is_terminal())
    }

    /// Progress over `total` runs, drawn in place when `terminal`.
    // The wall clock, legitimately: the ETA tells a person how long is
    // left, and nothing read here reaches a record.
    #[allow(clippy::disallowed_methods)]
    pub fn with_terminal(total: usize, terminal: bool) -> Progress {
        Progress {
            total,
            done: 0,
            failed: 0,
            started: Instant::now(),
            terminal,
            drawn: false,
        }
    }

    /// A run finished.
    pub fn record(&mut self, result: &RunResult) {
        self.done += 1;
        if result.outcome != Outcome::Ok {
            self.failed += 1;
        }
        let elapsed = self.started.elapsed();
        let eta = self.eta(elapsed);
        let line = if self.terminal {
            self.drawn = true;
            format!(
                "\r\x1b[K[{}/{}] {:>3}%  {} failed  elapsed {}  ETA {}",
                self.done,
                self.total,
                self.done * 100 / self.total.max(1),
                self.failed,
                clock(elapsed),
                eta.map_or_else(|| "-".to_owned(), clock),
            )
        } else {
            let axes: Vec<String> = result
                .axes
                .iter()
                .map(|(k, v)| format!(" {k}={v}"))
                .collect();
            let what = match (
                &result.outcome,
                result.measurements.as_ref().and_then(|m| m.plt),
            ) {
                (Outcome::Ok, Some(plt)) => format!("ok, PLT {:.3} s", plt.as_secs_f64()),
                (outcome, _) => format!(
                    "{}: {}",
                    outcome.label(),
                    result.reason.as_deref().unwrap_or("no reason recorded")
                ),
            };
            format!(
                "[{}/{}] {} seed={}{}: {what} (ETA {})\n",
                self.done,
                self.total,
                result.protocol,
                result.seed,
                axes.concat(),
                eta.map_or_else(|| "-".to_owned(), clock),
            )
        };
        crate::console::note(&line);
    }

    /// End the in-place line, if one was drawn.
    pub fn finish(&mut self) {
        if self.drawn {
            crate::console::note("\n");
            self.drawn = false;
        }
    }

    /// Time left at the mean pace so far.
    fn eta(&self, elapsed: Duration) -> Option<Duration> {
        if self.done == 0 {
            return None;
        }
        let left = self.total.saturating_sub(self.done) as u32;
        Some(elapsed / self.done as u32 * left)
    }
}

/// `m:ss`, or `h:mm:ss` from an hour.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}
