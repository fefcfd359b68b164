//! What a run measured: one [`RequestRecord`] per requested object, one
//! [`ConnectionRecord`] per connection opened, and the [`RunRecord`] that
//! holds them.
//!
//! Every time is a `Duration` since the run's start (the moment
//! [`crate::run`] or [`crate::run_real`] was called, which is also the first
//! connection attempt), read from the tokio clock: simulated time in the
//! simulation, real time on real sockets. Records are plain data: in the
//! simulation, equal seeds give equal records.
//!
//! Serialized (serde, e.g. in the lab's `results.jsonl`), every duration is
//! a whole number of nanoseconds in a field whose name ends in `_ns`
//! (`netsim::stats::nanos`); [`RequestRecord::timeline`] is a list of
//! `[ns, cumulative bytes]` pairs.

use std::time::Duration;

use netsim::stats::nanos;
use netsim::TransportStats;
use serde::{Deserialize, Serialize};

use crate::config::Protocol;

/// One requested object, from being queued to its last verified byte.
///
/// A failed request is never dropped: it stays in the run with `error` set
/// and whatever it measured before it failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// The path requested, e.g. `/bytes/30000/index.html`.
    pub path: String,
    /// The body size the workload expects.
    pub size_expected: u64,
    /// When the request was queued (its phase reached it). A request never
    /// queued because the client's time limit passed first has the time the
    /// run gave up, and an error saying so.
    #[serde(rename = "start_ns", with = "nanos")]
    pub start: Duration,
    /// When the connection that carried it had finished its handshake (TLS
    /// or QUIC); `None` if it never got a ready connection.
    #[serde(rename = "connection_ready_ns", with = "nanos::option")]
    pub connection_ready: Option<Duration>,
    /// When the request was handed to the HTTP stack on a ready connection
    /// (HTTP/1.1 and HTTP/2: hyper writes it in the same tick; HTTP/3: once
    /// the HEADERS frame is written and the stream finished); `None` if it
    /// was never sent.
    #[serde(rename = "request_sent_ns", with = "nanos::option")]
    pub request_sent: Option<Duration>,
    /// When the response head (status and headers) reached the HTTP stack:
    /// over TLS, only once the whole TLS record holding it has arrived and
    /// been decrypted, which can be a round trip after its first byte was on
    /// the wire (see `tests/ttfb.rs`).
    #[serde(rename = "first_byte_ns", with = "nanos::option")]
    pub first_byte: Option<Duration>,
    /// When the body ended (its last byte arrived), whether or not it
    /// verified.
    #[serde(rename = "last_byte_ns", with = "nanos::option")]
    pub last_byte: Option<Duration>,
    /// Body bytes received.
    pub bytes: u64,
    /// The stream that carried it. HTTP/3: the QUIC stream id (0, 4, 8, ...).
    /// HTTP/2: the HTTP/2 stream id, derived from order (hyper does not
    /// expose it): the n-th request handed to the connection (n = 0, 1, ...)
    /// gets 2n + 1, which is the id h2 assigns, since it numbers streams in
    /// the order hyper hands them over. HTTP/1.1: the request's 0-based
    /// index on its connection. `None` if it was never sent.
    pub stream_id: Option<u64>,
    /// The connection that carried it (an index into
    /// [`RunRecord::connections`]); `None` if none did.
    pub connection_id: Option<u32>,
    /// Cumulative body bytes over time, one point per piece of body the
    /// HTTP stack handed over, unthinned: HTTP/1.1 per read from the TLS
    /// stream, HTTP/2 per DATA frame, HTTP/3 per read of the QUIC stream
    /// (roughly one per packet).
    #[serde(with = "timeline")]
    pub timeline: Vec<(Duration, u64)>,
    /// Head-of-line blocked time of this stream: how long bytes of its
    /// response had reached the client and could not be delivered, in
    /// episodes in which another stream's bytes were held as well
    /// (`crate::hol`, `docs/metrics.md`). HTTP/3: 0; HTTP/1.1: 0 in
    /// practice (one stream per connection at a time); `None` if its
    /// connection's transport keeps no record of held data (smoltcp, real
    /// sockets) or it had no connection.
    #[serde(rename = "hol_blocked_ns", with = "nanos::option")]
    pub hol_blocked: Option<Duration>,
    /// Whether its body was checked against the content model (length and
    /// SHA-256) and matched. Always `false` for a failed request, and for
    /// every request of a real-socket run with
    /// [`crate::RealTarget::verify_bodies`] off, where only the length is
    /// checked, against `content-length`.
    pub verified: bool,
    /// Why the request failed (wrong status, bad body, reset, time limit,
    /// ...); `None` if its body arrived whole and passed its check.
    pub error: Option<String>,
}

impl RequestRecord {
    /// Whether the request completed with status 200 and a body that passed
    /// its check (the content model, or only `content-length` when
    /// verification is off; see [`RequestRecord::verified`]).
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.last_byte.is_some()
    }
}

/// One connection the client opened (TLS over TCP, or QUIC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    /// Its id: the order in which connections were opened, from 0.
    pub id: u32,
    /// The protocol it carried.
    pub protocol: Protocol,
    /// When the client started opening it.
    #[serde(rename = "started_ns", with = "nanos")]
    pub started: Duration,
    /// When TCP's handshake completed (`None` for QUIC, or if it never did).
    #[serde(rename = "tcp_connected_ns", with = "nanos::option")]
    pub tcp_connected: Option<Duration>,
    /// When the TLS (or QUIC) handshake completed.
    #[serde(rename = "handshake_done_ns", with = "nanos::option")]
    pub handshake_done: Option<Duration>,
    /// Its transport statistics, read at the end of the run (netsim's
    /// `TcpStream::transport_stats` or `quic::transport_stats`; on real
    /// sockets, quinn's statistics for QUIC and nothing for TCP); `None` if
    /// the connection never got far enough to have any, or is a real TCP
    /// connection.
    pub stats: Option<TransportStats>,
    /// Head-of-line blocked time of the connection: how long at least one
    /// of its streams had bytes at the client that waited for missing bytes
    /// of another stream (`crate::hol`, `docs/metrics.md`). HTTP/3: 0 (QUIC
    /// orders bytes per stream); `None` if the transport keeps no record of
    /// held data (smoltcp, real sockets, no statistics).
    #[serde(rename = "hol_blocked_ns", with = "nanos::option")]
    pub hol_blocked: Option<Duration>,
    /// Why it failed, if it did (handshake error, reset, ...).
    pub error: Option<String>,
}

/// Everything one run of a workload measured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The protocol the run spoke.
    pub protocol: Protocol,
    /// Every object of the plan, in plan order, failed or not.
    pub requests: Vec<RequestRecord>,
    /// Every connection opened, in the order they were opened.
    pub connections: Vec<ConnectionRecord>,
    /// Page load time: from the first connection attempt to the last
    /// verified byte of the last object; `None` if the run failed.
    #[serde(rename = "plt_ns", with = "nanos::option")]
    pub plt: Option<Duration>,
    /// Head-of-line blocked time of the run: the sum of
    /// [`ConnectionRecord::hol_blocked`] over its connections; `None` if
    /// there were none or any of them is `None`.
    #[serde(rename = "hol_blocked_ns", with = "nanos::option")]
    pub hol_blocked: Option<Duration>,
    /// Body bytes received over all requests.
    pub total_bytes: u64,
    /// Connections opened, including any that failed (HTTP/2 and HTTP/3:
    /// 1; HTTP/1.1: up to the pool size, more if connections died and were
    /// replaced).
    pub connections_used: usize,
    /// The first failure, naming the path (`"/bytes/...: reason"`): the
    /// earliest, and among requests failing at the same moment the first in
    /// plan order; `None` if every request succeeded.
    pub failure: Option<String>,
}

impl RunRecord {
    /// Whether every request succeeded.
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }
}

/// Serde for [`RequestRecord::timeline`]: `[ns, cumulative bytes]` pairs.
mod timeline {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::nanos;

    pub(super) fn serialize<S: Serializer>(
        points: &[(Duration, u64)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(points.iter().map(|&(t, bytes)| (nanos::to_u64(t), bytes)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<(Duration, u64)>, D::Error> {
        let points = Vec::<(u64, u64)>::deserialize(d)?;
        Ok(points
            .into_iter()
            .map(|(t, bytes)| (Duration::from_nanos(t), bytes))
            .collect())
    }
}
