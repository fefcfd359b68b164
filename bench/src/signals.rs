//! SIGINT and SIGTERM as flags a sweep polls ([`Interrupts`]), so that
//! `bench` stops starting runs, lets the runs in flight finish, and stores
//! and reports what is done before it exits. A second signal of either
//! kind ends the process at once, as a person pressing Ctrl-C twice
//! expects; what is already in `results.jsonl` stays (each record is one
//! whole line), and the same command resumes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};

use crate::console::{EXIT_SIGINT, EXIT_SIGTERM};

/// The signals this process has caught since [`Interrupts::install`].
#[derive(Clone, Debug)]
pub struct Interrupts {
    /// Raised by either signal: what a sweep polls.
    pub any: Arc<AtomicBool>,
    term: Arc<AtomicBool>,
}

impl Interrupts {
    /// Catch SIGINT and SIGTERM from now on: the first raises [`any`](Self::any),
    /// the second exits at once with 130 (SIGINT) or 143 (SIGTERM).
    pub fn install() -> Result<Interrupts> {
        let any = Arc::new(AtomicBool::new(false));
        let term = Arc::new(AtomicBool::new(false));
        for (signal, code) in [(SIGINT, EXIT_SIGINT), (SIGTERM, EXIT_SIGTERM)] {
            // Registered first, so it sees the flag as the previous signal
            // left it: a second signal finds it raised and exits.
            signal_hook::flag::register_conditional_shutdown(signal, i32::from(code), any.clone())
                .and_then(|_| signal_hook::flag::register(signal, any.clone()))
                .with_context(|| format!("catching signal {signal}"))?;
        }
        signal_hook::flag::register(SIGTERM, term.clone()).context("catching SIGTERM")?;
        Ok(Interrupts { any, term })
    }

    /// Whether a signal arrived.
    pub fn raised(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// The exit code for the signal that arrived: 143 if it was SIGTERM,
    /// otherwise 130.
    pub fn exit_code(&self) -> u8 {
        if self.term.load(Ordering::Relaxed) {
            EXIT_SIGTERM
        } else {
            EXIT_SIGINT
        }
    }
}
