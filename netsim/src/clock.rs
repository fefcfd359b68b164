//! Time inside a run: [`now`], the simulated time since the run started,
//! and [`TICK`], the step in which hosts are handed their packets; the
//! host being stepped (its clock's origin and its timers' deadlines,
//! which the stepping loop reads and `crate::time` writes).

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::sync::lock;

/// The simulation's tick: 1 ms, tokio's timer resolution.
pub const TICK: Duration = Duration::from_millis(1);

/// Simulated time since the run started, as seen by the current host.
///
/// # Panics
/// Outside a running simulation.
pub fn now() -> Duration {
    sim_elapsed().expect("netsim::now() called outside a simulation")
}

/// The tick at which a packet whose modelled arrival time is `at` is
/// delivered: the nearest whole tick (1 ms). Rounding to the nearest tick
/// rather than up keeps the error of each hop within ±0.5 ms and unbiased;
/// the link model itself keeps exact (nanosecond) times, so rates and queues
/// are not affected.
pub(crate) fn to_tick(at: Duration) -> Duration {
    let tick = TICK.as_nanos();
    let n = (at.as_nanos() + tick / 2) / tick;
    Duration::from_nanos((n * tick) as u64)
}

/// The host being stepped: when its clock started, and its timers'
/// deadlines.
#[derive(Clone)]
pub(crate) struct Current {
    origin: Instant,
    deadlines: Arc<Deadlines>,
}

impl Current {
    /// A host whose clock starts at `origin`, with no timers.
    pub(crate) fn new(origin: Instant) -> Current {
        Current {
            origin,
            deadlines: Arc::default(),
        }
    }

    /// Its clock's reading at the run's start.
    pub(crate) fn origin(&self) -> Instant {
        self.origin
    }

    /// Its timers' deadlines.
    pub(crate) fn deadlines(&self) -> &Deadlines {
        &self.deadlines
    }
}

thread_local! {
    /// The host being stepped, while one is.
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
    /// Whether a skip is under way, and whether anything read the clock
    /// during it (which means a task ran).
    static SKIP: Cell<(bool, bool)> = const { Cell::new((false, false)) };
}

/// Simulated time since the run started, on the clock of the host being
/// stepped; `None` outside a step.
pub(crate) fn sim_elapsed() -> Option<Duration> {
    SKIP.with(|s| {
        if s.get().0 {
            s.set((true, true));
        }
    });
    CURRENT.with(|c| c.borrow().as_ref().map(|c| Instant::now() - c.origin))
}

/// The deadlines of the host being stepped, if one is (see `crate::time`).
pub(crate) fn current_deadlines() -> Option<Arc<Deadlines>> {
    CURRENT.with(|c| c.borrow().as_ref().map(|c| c.deadlines.clone()))
}

/// Sets [`CURRENT`] for the life of the guard.
pub(crate) struct Entered(Option<Current>);

impl Entered {
    pub(crate) fn new(host: &Current) -> Entered {
        Entered(CURRENT.with(|c| c.replace(Some(host.clone()))))
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Note that a skip starts (see [`end_skip`]).
pub(crate) fn begin_skip() {
    SKIP.with(|s| s.set((true, false)));
}

/// Note that the skip ended; whether anything read the clock during it.
pub(crate) fn end_skip() -> bool {
    SKIP.with(|s| s.replace((false, false))).1
}

/// The deadlines of one host's pending timers.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    slots: Mutex<Slots>,
}

#[derive(Debug, Default)]
struct Slots {
    deadlines: Vec<Option<Instant>>,
    free: Vec<usize>,
}

impl Deadlines {
    /// Note `deadline`; returns its slot.
    pub(crate) fn add(&self, deadline: Instant) -> usize {
        let mut s = lock(&self.slots);
        match s.free.pop() {
            Some(i) => {
                s.deadlines[i] = Some(deadline);
                i
            }
            None => {
                s.deadlines.push(Some(deadline));
                s.deadlines.len() - 1
            }
        }
    }

    /// Change the deadline in `slot`, or free it (`None`).
    pub(crate) fn set(&self, slot: usize, deadline: Option<Instant>) {
        let mut s = lock(&self.slots);
        let was = s.deadlines[slot].is_some();
        s.deadlines[slot] = deadline;
        if was && deadline.is_none() {
            s.free.push(slot);
        }
    }

    /// The earliest pending deadline.
    pub(crate) fn earliest(&self) -> Option<Instant> {
        lock(&self.slots).deadlines.iter().flatten().min().copied()
    }
}
