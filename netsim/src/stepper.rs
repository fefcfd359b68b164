//! The stepping loop: the two hosts' tokio runtimes, driven one tick at a
//! time on one thread, in a fixed order.
//!
//! ```text
//! step k:  server tick (its tasks at k ms, then its clock to k+1)
//!          client tick (its tasks at k ms, then its clock to k+1)
//! ```
//! Each host is a current-thread tokio runtime with a paused clock and a
//! `LocalSet`. A tick runs everything ready at the host's current time,
//! then lets the clock advance to the end of the tick, where due timers
//! fire and wake their tasks for the next tick. A packet the server sends
//! in step k reaches the client's wire in the same step; one the client
//! sends reaches the server in step k+1 (see [`crate::wire`]).
//!
//! This is turmoil's stepping (0.7), which the lab used before, rebuilt
//! over the same runtimes: the same runtime construction (paused clock,
//! shutdown on an unhandled panic, tokio's RNG seeded from the run seed the
//! way turmoil derived it), the same host order and the same tick, so runs
//! are the same to the byte. What the lab needed of turmoil was only this
//! loop and a zero-latency wire; owning the loop removes turmoil's
//! per-step work (a third runtime for its network, hash maps, a partition
//! of its hosts) and lets the loop skip ticks in which nothing can happen
//! (docs/netsim.md, "Event-driven time").

use std::future::Future;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::runtime::Runtime;
use tokio::task::{JoinHandle, LocalSet};
use tokio::time::Instant;

use crate::clock::{begin_skip, end_skip, Current, Entered};

/// tokio's current-thread scheduler takes a task woken from outside the
/// runtime first on every this many turns of its loop (its default
/// `global_queue_interval`).
const TURN_PERIOD: u64 = 31;

/// A tick in nanoseconds.
const TICK_NANOS: u128 = crate::clock::TICK.as_nanos();

/// What a host's software returns: `Err` with its message ends the run.
pub(crate) type HostResult = Result<(), String>;

/// The RNG the host seeds are drawn from, in host order: as turmoil drew
/// them from its builder's seed (a `SmallRng`, 32 bytes per host, and from
/// those another 32 for tokio's `RngSeed`), so that tokio's choices
/// (`select!` without `biased`) are the ones of earlier runs.
pub(crate) struct HostSeeds(SmallRng);

impl HostSeeds {
    /// The seeds of a run whose stepping seed is `seed`.
    pub(crate) fn new(seed: u64) -> HostSeeds {
        HostSeeds(SmallRng::seed_from_u64(seed))
    }

    fn next(&mut self) -> tokio::runtime::RngSeed {
        let host: [u8; 32] = self.0.random();
        let mut rng = SmallRng::from_seed(host);
        let bytes: [u8; 32] = rng.random();
        tokio::runtime::RngSeed::from_bytes(&bytes)
    }
}

/// One host: its runtime, its local task set and its software.
pub(crate) struct HostRuntime {
    tokio: Runtime,
    local: LocalSet,
    /// The clock's reading at the start of step 0, and the deadlines.
    current: Current,
    /// The software; `None` once it has finished.
    software: Option<JoinHandle<HostResult>>,
}

impl HostRuntime {
    /// A host running `software` (spawned on its local set), with tokio's
    /// RNG from `seeds`.
    pub(crate) fn new<F>(seeds: &mut HostSeeds, software: F) -> HostRuntime
    where
        F: Future<Output = HostResult> + 'static,
    {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        builder
            .unhandled_panic(tokio::runtime::UnhandledPanic::ShutdownRuntime)
            .rng_seed(seeds.next())
            .enable_time()
            .start_paused(true);
        let tokio = builder
            .build()
            .expect("a current-thread runtime with a paused clock builds");
        // Start the clock on a whole millisecond of the timer's grid.
        tokio.block_on(async { tokio::time::sleep(Duration::from_millis(1)).await });
        let mut local = LocalSet::new();
        local.unhandled_panic(tokio::runtime::UnhandledPanic::ShutdownRuntime);
        let origin = tokio.block_on(async { Instant::now() });
        let current = Current::new(origin);
        let software = {
            let _entered = Entered::new(&current);
            // Spawned from inside the local set, as turmoil did, so that the
            // task waits in its queue for the first tick.
            #[allow(clippy::async_yields_async)]
            tokio.block_on(local.run_until(async { tokio::task::spawn_local(software) }))
        };
        HostRuntime {
            tokio,
            local,
            current,
            software: Some(software),
        }
    }

    /// Whether its software is still running.
    pub(crate) fn is_running(&self) -> bool {
        self.software.is_some()
    }

    /// One tick of `tick`: run what is ready now, then let the clock reach
    /// the end of the tick. Returns whether the software has finished (it
    /// returned `Ok`, or the runtime was shut down by a panic elsewhere),
    /// or its error.
    pub(crate) fn tick(&mut self, tick: Duration) -> Result<bool, String> {
        let _entered = Entered::new(&self.current);
        let local = &self.local;
        self.tokio
            .block_on(local.run_until(async { tokio::time::sleep(tick).await }));
        match &self.software {
            Some(handle) if handle.is_finished() => {
                let handle = self.software.take().expect("checked above");
                match self.tokio.block_on(handle) {
                    Ok(result) => result.map(|()| true),
                    Err(e) if e.is_cancelled() => Ok(true),
                    Err(e) => Err(e.to_string()),
                }
            }
            Some(_) => Ok(false),
            None => Ok(true),
        }
    }

    /// The tick (counted from the run's start) at whose start its earliest
    /// pending timer will have fired: tokio fires a timer at the first
    /// whole millisecond at or after its deadline. `None` if it has none.
    pub(crate) fn next_timer_tick(&self) -> Option<u64> {
        let deadline = self.current.deadlines().earliest()?;
        let after = deadline.saturating_duration_since(self.current.origin());
        Some(after.as_nanos().div_ceil(TICK_NANOS) as u64)
    }

    /// Let the clock run `ticks` ticks with nothing to do: what as many
    /// ticks would do, in one. The caller knows no timer fires before the
    /// end and no packet comes in. tokio's scheduler counts its loop
    /// turns and takes a task woken from outside the runtime (the wire's)
    /// before its own queue on every 31st; a tick takes two turns, a
    /// longer one two plus one per level of its timer wheel it passes, so
    /// the skip makes up the difference with empty turns (one each), and
    /// the runs after it meet the same turn count as with every tick
    /// stepped. Returns an error if a task ran during the skip: a timer
    /// the loop did not know of (`crate::time`).
    pub(crate) fn skip(&mut self, ticks: u64, tick: Duration) -> Result<(), String> {
        if ticks == 0 {
            return Ok(());
        }
        let metrics = self.tokio.metrics();
        let (parks, polls) = (metrics.worker_park_count(0), metrics.worker_poll_count(0));
        let _entered = Entered::new(&self.current);
        let local = &self.local;
        let span = tick * u32::try_from(ticks).unwrap_or(u32::MAX);
        begin_skip();
        self.tokio
            .block_on(local.run_until(async { tokio::time::sleep(span).await }));
        let clock_read = end_skip();
        let turns = metrics.worker_park_count(0) - parks;
        if metrics.worker_poll_count(0) != polls || clock_read {
            return Err(format!(
                "a task ran during a skipped interval of {ticks} ms: a timer the stepping loop \
                 did not know of (use netsim::time)"
            ));
        }
        let want = (2 * ticks) % TURN_PERIOD;
        let empty = (want + TURN_PERIOD - turns % TURN_PERIOD) % TURN_PERIOD;
        if empty > 0 {
            // One `block_on` for all of them: each yield is one turn (the
            // future polled, the queue found empty, a `park_yield` that
            // wakes the yielder), exactly as a `block_on` of a single
            // yield is, without entering and leaving the runtime for each.
            self.tokio.block_on(async {
                for _ in 0..empty {
                    tokio::task::yield_now().await;
                }
            });
        }
        Ok(())
    }
}
