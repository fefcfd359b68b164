//! [`Limits`]: what one client, or many, can make a server on real sockets
//! hold, and for how long.
//!
//! A server on the machine's sockets meets clients the lab does not
//! control: a port scan, a slowloris, a client that stops reading, a flood
//! of QUIC Initials. Each limit bounds what such a client costs (a file
//! descriptor, a task, memory) or how long it may hold it. The defaults
//! follow what nginx and hyper ship for production; each field says which
//! and why. The simulation has none of these (its servers run with
//! [`Limits::unlimited`] behaviour by construction: they never see this
//! type), so no limit changes a simulated run.

use std::time::Duration;

use crate::error::ServerError;

/// Limits of a server on real sockets ([`crate::serve_real_with`],
/// [`crate::RealServer`]). `Default` is the production defaults below;
/// [`Limits::unlimited`] turns every limit off (what the servers did
/// before they had limits, and what a calibration run wants). A `None`
/// field is no limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest a TLS handshake over TCP, or a QUIC handshake, may take from
    /// the moment the connection is accepted; then it is closed. Default
    /// 10 s: a handshake takes one or two round trips, and even a lossy
    /// path with a few 1 s retransmission timeouts completes in well under
    /// 10 s, while a client that connects and sends nothing (or half a
    /// ClientHello) holds a descriptor and a task for no more than that.
    /// nginx has no separate TLS timeout and uses its 60 s
    /// `client_header_timeout`; Apache's `mod_reqtimeout` allows 5 to 10 s
    /// per stage. The shorter figure, because a handshake that takes 10 s is
    /// already broken.
    pub handshake_timeout: Option<Duration>,
    /// Longest an HTTP/1.1 request head may take to arrive, from the moment
    /// the connection waits for one (after the handshake, and after each
    /// response on a kept-alive connection) to its last header line, however
    /// slowly the bytes trickle (slowloris). Default 30 s: hyper's own
    /// `header_read_timeout` default; nginx's `client_header_timeout` is
    /// 60 s. hyper runs this timer while a kept-alive connection waits for
    /// its next request too, so an idle HTTP/1.1 connection is closed after
    /// the shorter of this and [`Limits::idle_timeout`].
    pub header_timeout: Option<Duration>,
    /// Longest a connection may go without progress, HTTP/1.1, HTTP/2 and
    /// HTTP/3 alike: nothing read or written for this long (a kept-alive
    /// connection with no requests, a peer that vanished), or response data
    /// held for it without any of it leaving for this long (a client that
    /// stopped reading, or holds its flow-control window at 0, even if it
    /// sends PINGs). HTTP/1.1 and HTTP/2 connections are then shut down
    /// gracefully (HTTP/2 sends GOAWAY) and closed a second later if
    /// still stuck; HTTP/3 connections get quinn's `max_idle_timeout` of
    /// this value and are closed when stalled. Default 60 s: nginx's
    /// `send_timeout` for a stalled response (its `keepalive_timeout` for an
    /// idle connection is 75 s); one timer serves both, so the shorter.
    pub idle_timeout: Option<Duration>,
    /// Most connections served at once, per transport (TCP, QUIC), counting
    /// those still in their handshake. A TCP connection beyond it is
    /// accepted and closed at once, a QUIC attempt refused (CONNECTION_REFUSED);
    /// serving goes on as connections end. The server lowers it to what its
    /// open-file limit (`ulimit -n`) leaves after a reserve of
    /// [`FD_RESERVE`], so that it refuses cleanly instead of failing to
    /// accept. Default 1024: nginx's `worker_connections` is 512 per worker
    /// and is commonly raised to 1024; with the default budget below, 1024
    /// connections hold at most 256 MiB of response data, capped again by
    /// [`Limits::send_budget`].
    pub max_connections: Option<usize>,
    /// Most concurrent request streams of one HTTP/2 or HTTP/3 connection
    /// (HTTP/2 `SETTINGS_MAX_CONCURRENT_STREAMS`, QUIC's bidirectional
    /// stream limit), applied on top of the flow-control settings' own.
    /// Default 100: quinn's default and the lab's own value (RFC 9113
    /// recommends no less than 100; nginx announces 128).
    pub max_streams: Option<u32>,
    /// Most response bytes one connection may hold in the server, generated
    /// but not yet written to the socket (inside hyper, h2 or h3), over all
    /// its streams; a stream waits for room before its next piece of body
    /// is generated, so a stream held at flow-control window 0 holds at most
    /// a piece or two, and a connection no more than this however many
    /// streams it opens. HTTP/2's per-stream send buffer (hyper's
    /// `max_send_buf_size`) is set to the same. Default 256 KiB, sixteen
    /// 16 KiB TLS records: enough to keep a socket fed (the data in flight
    /// sits in the kernel's send buffer, not here; a connection with this
    /// much queued above the socket is waiting for it anyway), where hyper's
    /// own default of 400 KiB per stream allows 40 MiB on a connection of
    /// 100 streams.
    pub connection_send_budget: Option<usize>,
    /// Most response bytes all connections together may hold in the server,
    /// as [`Limits::connection_send_budget`] counts them. Beyond it streams
    /// wait until data leaves. Default 64 MiB: 256 connections at their
    /// full budget, a quarter of the 256 MiB the lab's abuse test allows
    /// the whole server.
    pub send_budget: Option<usize>,
    /// hyper's HTTP/1.1 buffer limit (`max_buf_size`): the largest request
    /// head accepted (larger ones get 431) and the most response bytes
    /// hyper queues for a connection before it waits for the socket.
    /// Default 64 KiB: four times nginx's largest request header buffers
    /// (`large_client_header_buffers 4 8k`), a sixth of hyper's default
    /// (about 400 KiB), which a client that never reads kept in memory.
    /// hyper requires at least 8192.
    pub http1_buffer: Option<usize>,
    /// QUIC handshakes in progress beyond which a client whose address is
    /// not yet validated is sent a Retry (quinn's `Incoming::retry`): it
    /// must echo the token from its real address before the server keeps
    /// any state for it, which costs a legitimate client one round trip.
    /// Default 64: a spoofed or abandoned Initial otherwise costs a full
    /// connection's state (about 46 KB) for the handshake timeout, and a
    /// server that is not under attack has far fewer handshakes in flight.
    /// `Some(0)` sends every client a Retry.
    pub quic_retry_threshold: Option<usize>,
    /// Most QUIC handshakes in progress at once, validated addresses
    /// included; beyond it attempts are refused. Also quinn's `max_incoming`
    /// (connection attempts not yet accepted or refused). Default 1024:
    /// about 47 MB of handshake state at most.
    pub max_quic_handshakes: Option<usize>,
}

/// File descriptors [`Limits::max_connections`] leaves free under the
/// open-file limit: the listener, the QUIC socket, the runtime's own
/// (epoll, wakers), one to accept and close a connection beyond the limit,
/// and a margin for the standard streams and whatever the process opens.
pub const FD_RESERVE: usize = 32;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            handshake_timeout: Some(Duration::from_secs(10)),
            header_timeout: Some(Duration::from_secs(30)),
            idle_timeout: Some(Duration::from_secs(60)),
            max_connections: Some(1024),
            max_streams: Some(100),
            connection_send_budget: Some(256 * 1024),
            send_budget: Some(64 * 1024 * 1024),
            http1_buffer: Some(64 * 1024),
            quic_retry_threshold: Some(64),
            max_quic_handshakes: Some(1024),
        }
    }
}

/// hyper's smallest HTTP/1.1 buffer limit (it panics below it).
const MIN_HTTP1_BUFFER: usize = 8192;

impl Limits {
    /// No limit at all: no timeouts, no connection or stream caps beyond
    /// the flow-control settings', no budgets, hyper's and quinn's own
    /// buffer defaults, no Retry. What the servers did before they had
    /// limits.
    pub fn unlimited() -> Limits {
        Limits {
            handshake_timeout: None,
            header_timeout: None,
            idle_timeout: None,
            max_connections: None,
            max_streams: None,
            connection_send_budget: None,
            send_budget: None,
            http1_buffer: None,
            quic_retry_threshold: None,
            max_quic_handshakes: None,
        }
    }

    /// Check the limits once, before serving: the error names the field.
    /// A timeout or a count of 0 is an error (use `None` for no limit),
    /// except [`Limits::quic_retry_threshold`], where 0 means a Retry for
    /// every client.
    pub fn validate(&self) -> Result<(), ServerError> {
        let timeouts = [
            ("handshake_timeout", self.handshake_timeout),
            ("header_timeout", self.header_timeout),
            ("idle_timeout", self.idle_timeout),
        ];
        for (field, timeout) in timeouts {
            if timeout.is_some_and(|t| t.is_zero()) {
                return Err(limit_error(field, "must be above 0 (None for no limit)"));
            }
        }
        let counts = [
            ("max_connections", self.max_connections),
            ("max_streams", self.max_streams.map(|s| s as usize)),
            ("connection_send_budget", self.connection_send_budget),
            ("send_budget", self.send_budget),
            ("max_quic_handshakes", self.max_quic_handshakes),
        ];
        for (field, count) in counts {
            if count == Some(0) {
                return Err(limit_error(field, "must be above 0 (None for no limit)"));
            }
        }
        if let Some(buffer) = self.http1_buffer {
            if buffer < MIN_HTTP1_BUFFER {
                return Err(limit_error(
                    "http1_buffer",
                    &format!("{buffer} is below hyper's minimum of {MIN_HTTP1_BUFFER} bytes"),
                ));
            }
        }
        if let Some(idle) = self.idle_timeout {
            if quinn::IdleTimeout::try_from(idle).is_err() {
                return Err(limit_error(
                    "idle_timeout",
                    "is longer than QUIC's idle timeout can be (2^62 ms)",
                ));
            }
        }
        Ok(())
    }

    /// These limits with [`Limits::max_connections`] lowered to what an
    /// open-file limit of `open_files` leaves after [`FD_RESERVE`] (at
    /// least 1), if it is above that. No limit stays no limit.
    pub fn within_open_files(mut self, open_files: u64) -> Limits {
        let room = usize::try_from(open_files)
            .unwrap_or(usize::MAX)
            .saturating_sub(FD_RESERVE)
            .max(1);
        self.max_connections = self.max_connections.map(|max| max.min(room));
        self
    }
}

fn limit_error(field: &str, why: &str) -> ServerError {
    ServerError::Config(format!("limits.{field}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_documented() {
        let limits = Limits::default();
        assert_eq!(limits.validate().ok(), Some(()));
        assert_eq!(limits.handshake_timeout, Some(Duration::from_secs(10)));
        assert_eq!(limits.header_timeout, Some(Duration::from_secs(30)));
        assert_eq!(limits.idle_timeout, Some(Duration::from_secs(60)));
        assert_eq!(limits.max_connections, Some(1024));
        assert_eq!(Limits::unlimited().validate().ok(), Some(()));
    }

    #[test]
    fn a_bad_limit_names_its_field() {
        let zero = Limits {
            header_timeout: Some(Duration::ZERO),
            ..Limits::default()
        };
        assert_eq!(
            zero.validate().unwrap_err().to_string(),
            "bad server config: limits.header_timeout: must be above 0 (None for no limit)"
        );
        let small = Limits {
            http1_buffer: Some(100),
            ..Limits::default()
        };
        assert_eq!(
            small.validate().unwrap_err().to_string(),
            "bad server config: limits.http1_buffer: 100 is below hyper's minimum of 8192 bytes"
        );
    }

    #[test]
    fn the_open_file_limit_lowers_max_connections() {
        let limits = Limits::default();
        assert_eq!(
            limits.clone().within_open_files(1024).max_connections,
            Some(1024 - FD_RESERVE)
        );
        assert_eq!(
            limits.clone().within_open_files(1 << 20).max_connections,
            Some(1024)
        );
        assert_eq!(
            Limits::unlimited().within_open_files(4096).max_connections,
            None
        );
        assert_eq!(limits.within_open_files(3).max_connections, Some(1));
    }
}
