//! What a run chooses for its QUIC connections' congestion control:
//! [`QuicCongestion`], which [`SimConfig::quic`](crate::SimConfig::quic)
//! carries to every host and [`QuicConfig`](crate::quic::QuicConfig) turns
//! into quinn's controller.

use tcp::Congestion;

/// What a run's scenario chooses for its QUIC connections' congestion
/// control (its `cc` and `initial_window`), the same on both sides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuicCongestion {
    /// The controller: `cubic` and `newreno` are quinn's own; `bbr` is
    /// quinn's BBR (see [`QuicConfig::transport`](crate::quic::QuicConfig::transport)). `cubic-rfc9438` runs
    /// quinn's CUBIC, which follows RFC 9438. Default: cubic.
    pub algorithm: Congestion,
    /// The initial window in full TCP segments of the path
    /// ([`tcp_segment_payload`](crate::quic::tcp_segment_payload) bytes
    /// each: the MTU less 52), so that QUIC and TCP start with the same
    /// bytes in flight;
    /// `None`: [`QuicConfig::initial_window`](crate::quic::QuicConfig::initial_window) bytes, quinn's default.
    pub initial_window: Option<u32>,
    /// The run seed, which seeds BBR's random choices (its PROBE_BW start
    /// phase) on each connection. [`Host::quic_congestion`](crate::Host::quic_congestion)
    /// sets it.
    pub seed: u64,
}
