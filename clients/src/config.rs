//! What a client run is told: the protocol, how it sets up connections
//! (full handshakes or resumed sessions), the HTTP/1.1 pool size, the
//! content seed its bodies are checked against, the flow-control room, its
//! own time limit, whether its requests carry a `priority` header, and
//! whether HTTP/2 and HTTP/3 coalesce a page's origins onto one connection.

use std::time::Duration;

use netsim::quic::QuicCongestion;
use netsim::FlowControl;
use scenarios::{H3Discovery, Handshake, Protocol, H3_FALLBACK_DELAY};

/// Simulated (or, on real sockets, real) time between the end of a run's
/// warm-up ([`Handshake::Resume`], [`Handshake::EarlyData`]: one connection
/// with a full handshake fetches the plan's first object, keeps the
/// server's session tickets and closes) and the start of its measured part,
/// whose connections offer those tickets: 1 s. The warm-up's
/// connection has closed by then (its closing packets take one round trip,
/// and the lab's presets stay below 1 s), so nothing of it is still on the
/// path when the measured connection starts.
pub const WARMUP_PAUSE: Duration = Duration::from_secs(1);

/// HTTP/1.1 connections a browser opens per origin, the default of
/// [`ClientConfig::max_h1_connections`].
pub const DEFAULT_MAX_H1_CONNECTIONS: usize = 6;

/// The client's own time limit, the default of [`ClientConfig::time_limit`]:
/// 50 s, below netsim's default simulation limit of 60 s so that a stuck run
/// is still recorded.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(50);

/// How a client carries out a workload.
///
/// Build it with [`ClientConfig::new`] (or [`ClientConfig::for_host`] in the
/// simulation) and adjust it with the `with_*` setters; [`crate::run`] and
/// [`crate::run_real`] validate it once, before the first connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The HTTP version to speak.
    pub protocol: Protocol,
    /// How connections are set up: full handshakes, or resumed sessions
    /// after a warm-up ([`Handshake`]). Default: [`Handshake::Full`].
    pub handshake: Handshake,
    /// Most HTTP/1.1 connections open at once (browser-like, per origin).
    /// Ignored by HTTP/2 and HTTP/3, which use one connection (per origin
    /// when they do not coalesce, [`ClientConfig::coalesce`]). Default:
    /// [`DEFAULT_MAX_H1_CONNECTIONS`] (6).
    pub max_h1_connections: usize,
    /// The seed the served content is keyed by (the run seed); every body
    /// is checked against it.
    pub content_seed: u64,
    /// Flow-control room for HTTP/2 and QUIC, the same numbers the server
    /// uses.
    pub flow: FlowControl,
    /// The congestion controller and initial window of QUIC connections,
    /// the same as the server's. Default: quinn's CUBIC and its own
    /// initial window.
    pub quic_congestion: QuicCongestion,
    /// Time after the run's start (simulated in the simulation, real on
    /// real sockets) at which every unfinished request is recorded as timed
    /// out and the run ends. Default: [`DEFAULT_TIME_LIMIT`] (50 s). In the
    /// simulation, keep it below the simulation's own limit, or a stuck run
    /// leaves no record.
    pub time_limit: Duration,
    /// Whether HTTP/2 and HTTP/3 requests carry the RFC 9218 `priority`
    /// header field Chrome sends for the object's kind
    /// (`scenarios::ObjectKind::priority`; none for a kind whose priority
    /// is the default, `u=3`), which a server under
    /// `scenarios::Scheduler::Priorities` orders its responses by.
    /// HTTP/1.1 requests never carry it. Default: `false`, so that the
    /// requests' bytes are those of every run before schedulers existed.
    /// A page loaded as a browser does always carries them.
    pub priority_headers: bool,
    /// How an HTTP/3 client reaches HTTP/3 on a page loaded as a browser
    /// does (see [`H3Discovery`]); other plans and protocols ignore it.
    /// Default: [`H3Discovery::Known`].
    pub h3_discovery: H3Discovery,
    /// The fallback delay of [`H3Discovery::Race`] and
    /// [`H3Discovery::AltSvc`]. Default: [`H3_FALLBACK_DELAY`] (300 ms).
    pub h3_fallback: Duration,
    /// Whether HTTP/2 and HTTP/3 send the requests of every origin of a
    /// page on one connection, the document origin's (connection
    /// coalescing, as Chrome does when the certificate covers the name and
    /// the address is the same; `scenarios::Coalescing::On`), or open one
    /// connection per origin (`false`). HTTP/1.1 opens a pool per origin
    /// either way, and a plan without a page has one origin. Default:
    /// `true`.
    pub coalesce: bool,
}

/// A [`ClientConfig`] field with a value the client cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("client.{field}: {reason}")]
pub struct ConfigError {
    /// The field, e.g. `max_h1_connections`.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl ClientConfig {
    /// A config for `protocol` checking bodies against `content_seed`, with
    /// flow control `flow` and the defaults for everything else.
    pub fn new(protocol: Protocol, content_seed: u64, flow: FlowControl) -> ClientConfig {
        ClientConfig {
            protocol,
            handshake: Handshake::Full,
            max_h1_connections: DEFAULT_MAX_H1_CONNECTIONS,
            content_seed,
            flow,
            quic_congestion: QuicCongestion::default(),
            time_limit: DEFAULT_TIME_LIMIT,
            priority_headers: false,
            h3_discovery: H3Discovery::Known,
            h3_fallback: H3_FALLBACK_DELAY,
            coalesce: true,
        }
    }

    /// The config for a simulated run on `host`: content seed = the run
    /// seed, flow control = [`FlowControl::for_buffer`] of the run's buffer
    /// size (what `servers::run_simulated` uses), QUIC's congestion
    /// control the run's ([`netsim::Host::quic_congestion`]).
    pub fn for_host(protocol: Protocol, host: &netsim::Host) -> ClientConfig {
        let mut config = ClientConfig::new(
            protocol,
            host.seed(),
            FlowControl::for_buffer(host.buffer_bytes()),
        );
        config.quic_congestion = host.quic_congestion();
        config
    }

    /// Set [`ClientConfig::max_h1_connections`].
    pub fn with_max_h1_connections(mut self, n: usize) -> ClientConfig {
        self.max_h1_connections = n;
        self
    }

    /// Set [`ClientConfig::handshake`].
    pub fn with_handshake(mut self, handshake: Handshake) -> ClientConfig {
        self.handshake = handshake;
        self
    }

    /// Set [`ClientConfig::time_limit`].
    pub fn with_time_limit(mut self, limit: Duration) -> ClientConfig {
        self.time_limit = limit;
        self
    }

    /// Set [`ClientConfig::priority_headers`].
    pub fn with_priority_headers(mut self, on: bool) -> ClientConfig {
        self.priority_headers = on;
        self
    }

    /// Set [`ClientConfig::h3_discovery`] and [`ClientConfig::h3_fallback`].
    pub fn with_h3_discovery(mut self, discovery: H3Discovery, fallback: Duration) -> ClientConfig {
        self.h3_discovery = discovery;
        self.h3_fallback = fallback;
        self
    }

    /// Set [`ClientConfig::coalesce`].
    pub fn with_coalescing(mut self, on: bool) -> ClientConfig {
        self.coalesce = on;
        self
    }

    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_h1_connections == 0 {
            return Err(ConfigError {
                field: "max_h1_connections",
                reason: "must be at least 1",
            });
        }
        if self.time_limit.is_zero() {
            return Err(ConfigError {
                field: "time_limit",
                reason: "must be greater than zero",
            });
        }
        if self.flow.stream_window == 0 || self.flow.connection_window == 0 {
            return Err(ConfigError {
                field: "flow",
                reason: "windows must be greater than zero",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let c = ClientConfig::new(Protocol::H1, 1, FlowControl::for_buffer(1 << 20));
        assert_eq!(c.validate(), Ok(()));
        let e = c.clone().with_max_h1_connections(0).validate().unwrap_err();
        assert_eq!(
            e.to_string(),
            "client.max_h1_connections: must be at least 1"
        );
        let e = c.with_time_limit(Duration::ZERO).validate().unwrap_err();
        assert_eq!(e.field, "time_limit");
    }
}
