//! What a run measured: one [`RequestRecord`] per requested object (with a
//! [`Resumption`] for each time a path change cut it off and it was asked
//! for again), one [`ConnectionRecord`] per connection opened, and the
//! [`RunRecord`] that holds them, with a [`MigrationRecord`] when the
//! client's network changed during the run, the [`Warmup`] that came
//! before it when the run resumes a session, and the [`PageTimes`] (with
//! their [`KindTimes`]) of a page loaded as a browser does, which
//! [`crate::page_times`] computes.
//!
//! Every time is a `Duration` since the run's start, read from the tokio
//! clock: simulated time in the simulation, real time on real sockets. The
//! run's start is the moment [`crate::run`] or [`crate::run_real`] was
//! called, which is also the first connection attempt; for a run with a
//! warm-up ([`Handshake::Resume`], [`Handshake::EarlyData`])
//! it is the start of the measured part, after the warm-up, and the
//! warm-up's own times count from its own start. Records are plain data: in
//! the simulation, equal seeds give equal records.
//!
//! Serialized (serde, e.g. in the lab's `results.jsonl`), every duration is
//! a whole number of nanoseconds in a field whose name ends in `_ns`
//! (`netsim::nanos`); [`RequestRecord::timeline`] is a list of
//! `[ns, cumulative bytes]` pairs.

use std::time::Duration;

use netsim::nanos;
use netsim::TransportStats;
use serde::{Deserialize, Serialize};

use scenarios::{Handshake, Protocol};

use crate::route::RaceRecord;

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
    /// or QUIC); `None` if it never got a ready connection. A request sent
    /// as early data (0-RTT) goes before this.
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
    /// Body bytes received, over every attempt: more than the body's size
    /// only if some bytes were fetched twice (see
    /// [`MigrationRecord::bytes_fetched_twice`]).
    pub bytes: u64,
    /// The stream that carried it (its first attempt; see
    /// [`RequestRecord::resumptions`] for the others). HTTP/3: the QUIC
    /// stream id (0, 4, 8, ...).
    /// HTTP/2: the HTTP/2 stream id, derived from order (hyper does not
    /// expose it): the n-th request handed to the connection (n = 0, 1, ...)
    /// gets 2n + 1, which is the id h2 assigns, since it numbers streams in
    /// the order hyper hands them over. HTTP/1.1: the request's 0-based
    /// index on its connection. `None` if it was never sent.
    pub stream_id: Option<u64>,
    /// The connection that carried it (its first attempt; an index into
    /// [`RunRecord::connections`]); `None` if none did.
    pub connection_id: Option<u32>,
    /// Every time a path change cut the request off and the client asked
    /// for the rest again, in order; empty if it ran in one piece. The
    /// fields above (`connection_ready`, `request_sent`, `first_byte`,
    /// `stream_id`, `connection_id`) describe the first attempt; each
    /// resumption describes one more. HTTP/1.1 and HTTP/2 only: an HTTP/3
    /// connection migrates instead.
    pub resumptions: Vec<Resumption>,
    /// Cumulative body bytes over time, one point per piece of body the
    /// HTTP stack handed over, unthinned: HTTP/1.1 per read from the TLS
    /// stream, HTTP/2 per DATA frame, HTTP/3 per read of the QUIC stream
    /// (roughly one per packet).
    #[serde(with = "timeline")]
    pub timeline: Vec<(Duration, u64)>,
    /// How many points [`RequestRecord::timeline`] had before it was
    /// thinned to [`MAX_TIMELINE_POINTS`]; absent when it was not (every
    /// run below about 70 MB per object). A thinned timeline keeps its
    /// first and last points and evenly spaced ones between: still the
    /// cumulative bytes at each kept time, at a coarser step. The client's
    /// figures (head-of-line times, migration, page times) are computed
    /// from the whole timeline; what is computed later from the record
    /// (the report's mean byte delivery, the charts) sees the thinned one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline_thinned_from: Option<u64>,
    /// Head-of-line blocked time of this stream: how long bytes of its
    /// response had reached the client and could not be delivered, in
    /// episodes in which another stream's bytes were held as well
    /// (`crate::hol`, `docs/metrics.md`). HTTP/3: 0; HTTP/1.1: 0 in
    /// practice (one stream per connection at a time); `None` if its
    /// connection's transport keeps no record of held data (smoltcp, real
    /// sockets) or it had no connection.
    #[serde(rename = "hol_blocked_ns", with = "nanos::option")]
    pub hol_blocked: Option<Duration>,
    /// The delay head-of-line blocking added to its completion: when its
    /// last byte became readable minus when it would have with only its
    /// own stream's holes ([`crate::hol_cost::StreamCost::added_delay`],
    /// `docs/metrics.md`). HTTP/1.1: 0 (one response at a time per
    /// connection); absent where [`ConnectionRecord::hol_cost`] is.
    #[serde(
        rename = "hol_added_ns",
        with = "nanos::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub hol_added: Option<Duration>,
    /// Whether its body was checked against the content model (length, and
    /// every byte compared) and matched. Always `false` for a failed request, and for
    /// every request of a real-socket run with
    /// [`crate::RealTarget::verify_bodies`] off, where only the length is
    /// checked, against `content-length`.
    pub verified: bool,
    /// Why the request failed (wrong status, bad body, reset, time limit,
    /// ...); `None` if its body arrived whole and passed its check.
    pub error: Option<String>,
}

/// The most points a request's [`RequestRecord::timeline`] keeps in a
/// record: 50 000 (about 1 MB of JSON). A 1 GiB object has some 740 000
/// pieces; every metric that needs them all is computed before the
/// record is written, and the rest only draws the timeline.
pub const MAX_TIMELINE_POINTS: usize = 50_000;

impl RequestRecord {
    /// Thin [`RequestRecord::timeline`] to at most [`MAX_TIMELINE_POINTS`]
    /// points, saying so in [`RequestRecord::timeline_thinned_from`].
    pub fn cap_timeline(&mut self) {
        let n = self.timeline.len();
        if n <= MAX_TIMELINE_POINTS {
            return;
        }
        let keep = MAX_TIMELINE_POINTS;
        // Point k of the kept ones is point k * (n - 1) / (keep - 1): the
        // first, the last and evenly spaced ones between.
        self.timeline = (0..keep as u64)
            .map(|k| self.timeline[(k * (n as u64 - 1) / (keep as u64 - 1)) as usize])
            .collect();
        self.timeline_thinned_from = Some(n as u64);
    }

    /// Whether the request completed with status 200 and a body that passed
    /// its check (the content model, or only `content-length` when
    /// verification is off; see [`RequestRecord::verified`]).
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.last_byte.is_some()
    }
}

/// One more attempt at a request, after a path change cut off the
/// connection carrying it: the client opened a new connection and asked
/// for the bytes it did not have yet, with `Range: bytes={offset}-`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resumption {
    /// When the previous attempt was cut off (the client learned that its
    /// connection was lost to the path change).
    #[serde(rename = "interrupted_ns", with = "nanos")]
    pub interrupted: Duration,
    /// The error that cut it off, as the HTTP stack reported it.
    pub interrupted_by: String,
    /// Body bytes already in hand, received and fed to the body check in
    /// order, where this attempt starts: it asks for `Range:
    /// bytes={offset}-`, or is a plain `GET` when `offset` is 0.
    pub offset: u64,
    /// The connection that carried this attempt (an index into
    /// [`RunRecord::connections`]); `None` if it never got one.
    pub connection_id: Option<u32>,
    /// The stream that carried it, numbered as [`RequestRecord::stream_id`];
    /// `None` if it was never sent.
    pub stream_id: Option<u64>,
    /// When this attempt's request was handed to the HTTP stack.
    #[serde(rename = "request_sent_ns", with = "nanos::option")]
    pub request_sent: Option<Duration>,
    /// When this attempt's response head reached the HTTP stack.
    #[serde(rename = "first_byte_ns", with = "nanos::option")]
    pub first_byte: Option<Duration>,
    /// The response's status: 206 when the server sent the range asked
    /// for, 200 when it sent the whole body again (then the bytes in hand
    /// are fetched twice); `None` before a response head arrived.
    pub status: Option<u16>,
}

/// What a path change (the client moving to a new network and address, as
/// a phone leaving Wi-Fi for LTE) did to a run. `docs/migration.md` defines
/// each figure.
///
/// "Before" and "after" split the run at [`MigrationRecord::path_change`]: a
/// body piece the HTTP stack handed over at or before that time counts as
/// before (at the moment of the change nothing can have come over the new
/// path yet: that takes at least its one-way delay), a later one as after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationRecord {
    /// When the client's OS reported the change (the first one, if there
    /// were several).
    #[serde(rename = "path_change_ns", with = "nanos")]
    pub path_change: Duration,
    /// The last time a body piece arrived before the change; `None` if none
    /// had.
    #[serde(rename = "last_byte_before_ns", with = "nanos::option")]
    pub last_byte_before: Option<Duration>,
    /// The first time a body piece arrived after the change; `None` if none
    /// did.
    #[serde(rename = "first_byte_after_ns", with = "nanos::option")]
    pub first_byte_after: Option<Duration>,
    /// Interruption time: from [`MigrationRecord::last_byte_before`] to
    /// [`MigrationRecord::first_byte_after`]; `None` unless both exist.
    #[serde(rename = "interruption_ns", with = "nanos::option")]
    pub interruption: Option<Duration>,
    /// Total completion time: the run's [`RunRecord::plt`] (first
    /// connection attempt to the last verified byte), repeated here so that
    /// the migration figures sit together; `None` if the run failed.
    #[serde(rename = "completion_ns", with = "nanos::option")]
    pub completion: Option<Duration>,
    /// Body bytes received up to the change.
    pub bytes_before_change: u64,
    /// Body bytes the client received more than once across attempts:
    /// bytes at body offsets it already had, as when a server ignores the
    /// Range and sends the whole body again. Bytes that were in flight, or
    /// held by TCP or in a partial TLS record when the connection died,
    /// never reached the client and are not counted.
    pub bytes_fetched_twice: u64,
    /// Requests asked for again after the change (those with a
    /// [`Resumption`]).
    pub resumed_requests: usize,
    /// Connections the client started opening at or after the change
    /// (HTTP/1.1 and HTTP/2: the reconnections; HTTP/3: 0, its connection
    /// migrates).
    pub connections_after_change: usize,
}

/// A head-of-line cost in a record (`crate::hol_cost::HolCost`, summed):
/// byte·time in byte·microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolCostRecord {
    /// Bytes that became readable later than their own stream's holes
    /// allowed: they waited for another stream's missing bytes.
    pub held_bytes: u64,
    /// The sum over those bytes of the wait (readable minus the time their
    /// own stream's bytes allowed), in byte·µs.
    pub excess_byte_us: u64,
    /// Bytes that waited for a hole in their own stream's data.
    pub own_wait_bytes: u64,
    /// The sum of those waits, in byte·µs.
    pub own_wait_byte_us: u64,
}

impl HolCostRecord {
    /// A connection's cost, in the record's units (rounded down to µs).
    pub fn of(cost: &crate::hol_cost::HolCost) -> HolCostRecord {
        HolCostRecord {
            held_bytes: cost.held_bytes,
            excess_byte_us: (cost.excess_byte_ns / 1000) as u64,
            own_wait_bytes: cost.own_wait_bytes,
            own_wait_byte_us: (cost.own_wait_byte_ns / 1000) as u64,
        }
    }

    /// The sum of two costs.
    pub fn plus(self, other: HolCostRecord) -> HolCostRecord {
        HolCostRecord {
            held_bytes: self.held_bytes + other.held_bytes,
            excess_byte_us: self.excess_byte_us + other.excess_byte_us,
            own_wait_bytes: self.own_wait_bytes + other.own_wait_bytes,
            own_wait_byte_us: self.own_wait_byte_us + other.own_wait_byte_us,
        }
    }

    /// The excess in byte·seconds.
    pub fn excess_byte_seconds(&self) -> f64 {
        self.excess_byte_us as f64 / 1e6
    }

    /// The mean wait of a held byte; `None` if no byte was held.
    pub fn mean_excess(&self) -> Option<Duration> {
        (self.held_bytes > 0).then(|| Duration::from_micros(self.excess_byte_us / self.held_bytes))
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
    /// When the TLS (or QUIC) handshake completed. With early data this
    /// is after the first request was sent.
    #[serde(rename = "handshake_done_ns", with = "nanos::option")]
    pub handshake_done: Option<Duration>,
    /// Whether the handshake resumed a session from an earlier connection
    /// (TLS 1.3 with a pre-shared key from a session ticket: no
    /// certificate) rather than being a full one; `None` if it did not
    /// complete or could not be told. Over TCP rustls says which; over QUIC
    /// the lab counts the certificates the client checked (see
    /// `netsim::tls::CertificateChecks`).
    pub resumed: Option<bool>,
    /// Whether the client offered early data (TLS) or 0-RTT data (QUIC):
    /// it held a ticket that allowed it and the run asked for it
    /// ([`Handshake::EarlyData`]). Its first request then went with the
    /// ClientHello (QUIC: in 0-RTT packets).
    pub early_data_offered: bool,
    /// Whether the server accepted that early data; `None` if none was
    /// offered or the handshake did not complete. Rejected early data is
    /// sent again after the handshake.
    pub early_data_accepted: Option<bool>,
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
    /// Head-of-line cost of the connection (`crate::hol_cost`,
    /// `docs/metrics.md`): HTTP/2 and HTTP/1.1 over the lab's TCP; absent
    /// for HTTP/3 (quinn does not say when each stream frame arrived),
    /// without a record of held data, or when the bytes could not be
    /// mapped to streams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hol_cost: Option<HolCostRecord>,
    /// Why it failed, if it did (handshake error, reset, ...).
    pub error: Option<String>,
    /// The origin (host name) it was opened to, in a run that loaded a
    /// page as a browser does; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// Everything one run of a workload measured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The protocol the run spoke.
    pub protocol: Protocol,
    /// How it set up its connections: full handshakes, or sessions resumed
    /// from its warm-up.
    pub handshake: Handshake,
    /// Every object of the plan, in plan order, failed or not.
    pub requests: Vec<RequestRecord>,
    /// Every connection opened, in the order they were opened.
    pub connections: Vec<ConnectionRecord>,
    /// Page load time: from the first connection attempt to the last
    /// verified byte of the last object; `None` if the run failed.
    #[serde(rename = "plt_ns", with = "nanos::option")]
    pub plt: Option<Duration>,
    /// Time to first byte: from the first connection attempt (the run's
    /// start) to the response head of the first request in plan order
    /// (the first head to arrive over its attempts: when a path change cut
    /// the request off before its head, the head of its resumption);
    /// `None` if no head of it ever arrived. Connection setup is part of
    /// it, so it counts the round trips a handshake costs.
    #[serde(rename = "ttfb_ns", with = "nanos::option")]
    pub ttfb: Option<Duration>,
    /// Head-of-line blocked time of the run: the sum of
    /// [`ConnectionRecord::hol_blocked`] over its connections; `None` if
    /// there were none or any of them is `None`.
    #[serde(rename = "hol_blocked_ns", with = "nanos::option")]
    pub hol_blocked: Option<Duration>,
    /// Head-of-line cost of the run: [`ConnectionRecord::hol_cost`] summed
    /// over its connections; absent if any connection's is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hol_cost: Option<HolCostRecord>,
    /// Body bytes received over all requests.
    pub total_bytes: u64,
    /// Connections opened, including any that failed (HTTP/2 and HTTP/3:
    /// 1; HTTP/1.1: up to the pool size, more if connections died and were
    /// replaced). A warm-up's connection is not counted.
    pub connections_used: usize,
    /// The first failure, naming the path (`"/bytes/...: reason"`): the
    /// earliest, and among requests failing at the same moment the first in
    /// plan order; `None` if every request succeeded. A failed warm-up fails
    /// the run: `"warm-up: /bytes/...: reason"`.
    pub failure: Option<String>,
    /// What the path change did, if the client's network changed during
    /// the run; `None` otherwise.
    pub migration: Option<MigrationRecord>,
    /// The warm-up that obtained the session the measured part resumes
    /// ([`Handshake::Resume`], [`Handshake::EarlyData`]); `None` with
    /// [`Handshake::Full`].
    pub warmup: Option<Warmup>,
    /// The times a person waits for, when the run loaded a page as a
    /// browser does and every object arrived; absent otherwise (a flat
    /// page's record is as it was before they existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PageTimes>,
    /// How each race of HTTP/3 against HTTP/2 went (an HTTP/3 page with
    /// `h3_discovery` race or alt-svc), one per group of origins; absent
    /// (empty) otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub races: Vec<RaceRecord>,
}

/// The user-facing times of one page load, each from the navigation start
/// (the document request's start). See `docs/metrics.md`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageTimes {
    /// First-render proxy: every render-blocking object has arrived and been
    /// processed (its delay), and the document's response has begun.
    #[serde(rename = "first_render_ns", with = "nanos")]
    pub first_render: Duration,
    /// DOMContentLoaded proxy: the document has arrived and been parsed
    /// (every parser-blocking script run, each after the stylesheets before
    /// it), and every `defer` script has run.
    #[serde(rename = "dom_content_loaded_ns", with = "nanos")]
    pub dom_content_loaded: Duration,
    /// Onload: every object has arrived and been processed.
    #[serde(rename = "onload_ns", with = "nanos")]
    pub onload: Duration,
    /// Byte-weighted visual completion (the Speed Index idea): the integral
    /// over time of the share of visual bytes (the document's and the
    /// images') not yet shown, where nothing is shown before the first
    /// render and a byte is shown once it has arrived.
    #[serde(rename = "speed_index_ns", with = "nanos")]
    pub speed_index: Duration,
    /// When the objects of each kind completed, per kind present, in
    /// `scenarios::ObjectKind::ALL` order.
    pub by_kind: Vec<KindTimes>,
}

/// The completion times of the objects of one kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindTimes {
    /// The kind's name (`scenarios::ObjectKind::as_str`).
    pub kind: String,
    /// Body bytes of its objects.
    pub bytes: u64,
    /// When each object completed (its last byte), ascending.
    #[serde(rename = "completed_ns", with = "nanos::vec")]
    pub completed: Vec<Duration>,
}

/// The first visit of a run that resumes a session: one connection, a full
/// handshake, the plan's first object, then the connection closes and
/// [`crate::config::WARMUP_PAUSE`] passes before the measured part starts.
///
/// Its times count from its own start, which is `offset` before the
/// measured part's start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warmup {
    /// From the warm-up's start to the measured part's start (the origin of
    /// every other time of the run): subtract it from a warm-up time to put
    /// that time on the measured part's clock.
    #[serde(rename = "offset_ns", with = "nanos")]
    pub offset: Duration,
    /// Its request: the plan's first object.
    pub requests: Vec<RequestRecord>,
    /// Its connection.
    pub connections: Vec<ConnectionRecord>,
    /// Why it failed, naming the path; `None` if it succeeded.
    pub failure: Option<String>,
}

impl RunRecord {
    /// Whether every request succeeded.
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }

    /// The first figure an ok run is compared on that this record lacks,
    /// in words ("no time to first byte", "no page load time"); `None`
    /// when it has them all. A run that lacks one is not ok, whatever
    /// arrived: it would drop out of that figure's table unseen.
    pub fn missing_figure(&self) -> Option<&'static str> {
        if self.ttfb.is_none() {
            Some("no time to first byte")
        } else if self.plt.is_none() {
            Some("no page load time")
        } else {
            None
        }
    }
}

/// Serde for [`RequestRecord::timeline`] as columns (`tcp::columns`): `unit_ns`, `t` (the
/// times in units, delta-encoded) and `bytes` (the cumulative bytes,
/// delta-encoded: the bytes each piece brought).
mod timeline {
    use std::time::Duration;

    use netsim::columns::{deltas, in_units, same_lengths, sums, to_ns, unit, Error};
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::nanos;

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Columns {
        unit_ns: u64,
        t: Vec<i64>,
        bytes: Vec<i64>,
    }

    pub(super) fn serialize<S: Serializer>(
        points: &[(Duration, u64)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let unit = unit(points.iter().map(|&(t, _)| nanos::to_u64(t)));
        Columns {
            unit_ns: unit,
            t: deltas(
                points
                    .iter()
                    .map(|&(t, _)| in_units(nanos::to_u64(t), unit)),
            ),
            bytes: deltas(points.iter().map(|&(_, b)| b)),
        }
        .serialize(s)
    }

    fn decode(c: Columns) -> Result<Vec<(Duration, u64)>, Error> {
        if c.unit_ns == 0 {
            return Err(Error::ZeroUnit);
        }
        same_lengths(&[("t", c.t.len()), ("bytes", c.bytes.len())])?;
        sums("t", &c.t)?
            .into_iter()
            .zip(sums("bytes", &c.bytes)?)
            .enumerate()
            .map(|(i, (t, b))| Ok((Duration::from_nanos(to_ns(t, c.unit_ns, "t", i)?), b)))
            .collect()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<(Duration, u64)>, D::Error> {
        decode(Columns::deserialize(d)?).map_err(|e| D::Error::custom(format!("timeline: {e}")))
    }
}

#[cfg(test)]
mod cap_tests {
    use super::*;

    fn request(points: usize) -> RequestRecord {
        RequestRecord {
            path: "/bytes/1/a".into(),
            size_expected: points as u64,
            start: Duration::ZERO,
            connection_ready: None,
            request_sent: None,
            first_byte: None,
            last_byte: None,
            bytes: points as u64,
            stream_id: None,
            connection_id: None,
            resumptions: Vec::new(),
            timeline: (1..=points as u64)
                .map(|i| (Duration::from_micros(i), i))
                .collect(),
            timeline_thinned_from: None,
            hol_blocked: None,
            hol_added: None,
            verified: true,
            error: None,
        }
    }

    /// A long timeline is cut to the cap, keeps its ends and its order,
    /// and the record says how long it was; a short one is untouched.
    #[test]
    fn a_timeline_over_the_cap_is_thinned_and_says_so() {
        let mut long = request(120_000);
        long.cap_timeline();
        assert_eq!(long.timeline.len(), MAX_TIMELINE_POINTS);
        assert_eq!(long.timeline_thinned_from, Some(120_000));
        assert_eq!(long.timeline[0], (Duration::from_micros(1), 1));
        assert_eq!(
            long.timeline[MAX_TIMELINE_POINTS - 1],
            (Duration::from_micros(120_000), 120_000)
        );
        assert!(long
            .timeline
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1));

        let mut short = request(MAX_TIMELINE_POINTS);
        let before = short.timeline.clone();
        short.cap_timeline();
        assert_eq!(short.timeline, before);
        assert_eq!(short.timeline_thinned_from, None);
    }
}
