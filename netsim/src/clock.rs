//! Time inside a run: [`now`], the simulated time since the run started,
//! and [`TICK`], the step in which hosts are handed their packets.

use std::time::Duration;

/// The simulation's tick: 1 ms, tokio's timer resolution.
pub const TICK: Duration = Duration::from_millis(1);

/// Simulated time since the run started, as seen by the current host.
///
/// # Panics
/// Outside a running simulation.
pub fn now() -> Duration {
    turmoil::sim_elapsed().expect("netsim::now() called outside a simulation")
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
