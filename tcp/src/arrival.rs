//! The receiver's record of each data segment: when it arrived and when its
//! bytes became readable by the application (transport-level head-of-line
//! blocking is the difference).

use std::time::Duration;

/// One data segment as the receiver saw it: when it arrived and when its
/// bytes became readable by the application. The difference is the time it
/// waited behind a hole (transport-level head-of-line blocking). Records
/// hold a connection's arrivals as columns ([`crate::columns::arrivals`]),
/// not one object each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentArrival {
    /// Simulated time of arrival.
    pub arrived: Duration,
    /// Stream offset of its first new byte.
    pub offset: u64,
    /// New bytes it carried.
    pub len: u32,
    /// When they became readable; `None` if never (the run ended first).
    pub readable_at: Option<Duration>,
}
