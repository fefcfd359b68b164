//! The flow-control room a connection gets, the same for HTTP/2 and QUIC.
//!
//! A comparison of HTTP/2 and HTTP/3 is fair only if neither protocol is held
//! back by a smaller flow-control window than the other: a window below the
//! bandwidth-delay product caps throughput whatever the transport does. So
//! both get the run's transport buffer size (the TCP socket buffers are the
//! same size) as their per-stream and per-connection windows, and both allow
//! 100 concurrent streams. hyper's adaptive HTTP/2 window (BDP probing with
//! PINGs) is off: it would grow HTTP/2's window on its own schedule while
//! QUIC's stays fixed.
//!
//! Servers and clients both apply these settings, so they live here, below
//! both of them.

use crate::quic::QuicConfig;

/// The largest flow-control window HTTP/2 can announce (2^31 − 1 bytes).
pub const MAX_WINDOW: u32 = (1 << 31) - 1;

/// Streams a peer may have open at once, for HTTP/2 and QUIC alike.
pub const MAX_CONCURRENT_STREAMS: u32 = 100;

/// Flow-control settings applied to HTTP/2 (by servers and clients) and to
/// QUIC (through [`FlowControl::quic`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowControl {
    /// Per-stream receive window, in bytes (HTTP/2
    /// `SETTINGS_INITIAL_WINDOW_SIZE`; QUIC `initial_max_stream_data_*`).
    pub stream_window: u32,
    /// Per-connection receive window, in bytes (HTTP/2 connection window;
    /// QUIC `initial_max_data`).
    pub connection_window: u32,
    /// Concurrent streams the peer may open (HTTP/2
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`; QUIC
    /// `initial_max_streams_bidi`).
    pub max_concurrent_streams: u32,
}

impl FlowControl {
    /// The settings for a run whose transport buffers are `buffer_bytes`:
    /// stream window = connection window = `min(buffer_bytes, 2^31 − 1)`,
    /// and [`MAX_CONCURRENT_STREAMS`] streams.
    pub fn for_buffer(buffer_bytes: usize) -> FlowControl {
        let window = u32::try_from(buffer_bytes).map_or(MAX_WINDOW, |b| b.min(MAX_WINDOW));
        FlowControl {
            stream_window: window,
            connection_window: window,
            max_concurrent_streams: MAX_CONCURRENT_STREAMS,
        }
    }

    /// The same numbers for quinn: receive window = `connection_window`,
    /// stream receive window = `stream_window`, send window =
    /// `connection_window`, bidirectional streams = `max_concurrent_streams`.
    /// Everything else is netsim's default (a fixed datagram size from the
    /// run's paths, no path-MTU discovery, 30 s idle timeout).
    pub fn quic(&self) -> QuicConfig {
        let mut config = QuicConfig::with_buffer(u64::from(self.connection_window));
        config.stream_receive_window = u64::from(self.stream_window);
        config.max_concurrent_bidi_streams = self.max_concurrent_streams;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_the_buffer() {
        let f = FlowControl::for_buffer(4 << 20);
        assert_eq!(
            f,
            FlowControl {
                stream_window: 4 << 20,
                connection_window: 4 << 20,
                max_concurrent_streams: 100,
            }
        );
    }

    #[test]
    fn window_is_capped_at_what_http2_can_announce() {
        let f = FlowControl::for_buffer(usize::MAX);
        assert_eq!(f.stream_window, MAX_WINDOW);
        assert_eq!(f.connection_window, MAX_WINDOW);
        let f = FlowControl::for_buffer(1 << 31);
        assert_eq!(f.stream_window, MAX_WINDOW);
    }

    #[test]
    fn quic_gets_the_same_numbers() {
        let q = FlowControl::for_buffer(6_000_000).quic();
        assert_eq!(q.receive_window, 6_000_000);
        assert_eq!(q.stream_receive_window, 6_000_000);
        assert_eq!(q.send_window, 6_000_000);
        assert_eq!(q.max_concurrent_bidi_streams, 100);
    }
}
