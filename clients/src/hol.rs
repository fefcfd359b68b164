//! Head-of-line blocking: how long a connection's streams could not deliver
//! response bytes that had already reached the client, because bytes of
//! *another* stream were missing ([`HolBlockedTime`]).
//!
//! The definition, its formulas and what it means per protocol are in
//! `docs/metrics.md`. In short, for one connection:
//!
//! - a [`Hold`] is response data the client's transport received but could
//!   not hand to the application because bytes before it in the
//!   connection's one ordered byte stream were missing (TCP: a segment that
//!   arrived behind a hole), from its arrival until the hole was filled;
//! - holds that end at the same instant (one filled hole) form one hold
//!   episode, from its earliest arrival to that instant;
//! - the streams that deliver bytes to the application at the first
//!   delivery instant at or after that instant ([`StreamTimeline`]) are the
//!   ones whose bytes were held; if there are two or more, bytes of one
//!   stream waited for bytes of another, and the episode is head-of-line
//!   blocking;
//! - the connection's HOL-blocked time is the length of the union of its
//!   head-of-line episodes, and a stream's is the length of the union of the
//!   episodes that released it, each from the stream's previous delivery at
//!   the earliest.
//!
//! A hold that releases a single stream is that stream waiting for its own
//! data; time in which nothing was held (an idle gap, a timeout with nothing
//! arriving) is never counted. QUIC reassembles each stream on its own, so
//! a QUIC connection has no holds that span streams and its HOL-blocked
//! time is 0 by construction.
//!
//! This module is plain computation over records; `runner` applies it when
//! it builds the [`crate::RunRecord`].

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use netsim::SegmentArrival;

use crate::hol_cost::{HolCost, StreamSpan};
use crate::record::{ConnectionRecord, HolCostRecord, RequestRecord};
use scenarios::Protocol;

/// The instants at which one stream handed something new to the
/// application: its response head, and every piece of body that grew it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamTimeline {
    deliveries: Vec<Duration>,
}

impl StreamTimeline {
    /// A stream that delivered at `instants` (any order, repeats allowed).
    pub fn from_instants(instants: impl IntoIterator<Item = Duration>) -> StreamTimeline {
        let mut deliveries: Vec<Duration> = instants.into_iter().collect();
        deliveries.sort_unstable();
        deliveries.dedup();
        StreamTimeline { deliveries }
    }

    /// The deliveries of `request`: its `first_byte`, and every point of its
    /// `timeline` at which the cumulative body grew.
    pub fn of(request: &RequestRecord) -> StreamTimeline {
        let mut before = 0;
        let body = request.timeline.iter().filter_map(|&(at, bytes)| {
            let grew = bytes > before;
            before = bytes;
            grew.then_some(at)
        });
        StreamTimeline::from_instants(request.first_byte.into_iter().chain(body))
    }

    /// The delivery instants, ascending, without repeats.
    pub fn deliveries(&self) -> &[Duration] {
        &self.deliveries
    }

    /// The last delivery strictly before `t`.
    fn last_before(&self, t: Duration) -> Option<Duration> {
        let i = self.deliveries.partition_point(|&d| d < t);
        i.checked_sub(1).map(|i| self.deliveries[i])
    }
}

/// Response data that reached the client's transport at `arrived` and
/// became readable only at `readable`, because bytes before it in the
/// connection's ordered byte stream were missing until then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hold {
    /// When it arrived, on the run's clock.
    pub arrived: Duration,
    /// When the missing bytes arrived and it became readable, on the run's
    /// clock; later than `arrived`.
    pub readable: Duration,
}

impl Hold {
    /// The holds among a TCP connection's segment `arrivals`: every segment
    /// whose bytes became readable after it arrived. `origin` is the
    /// simulated time at which the run's clock started (the arrivals are in
    /// simulated time). A segment that never became readable (the run ended
    /// first) has no release to attribute and is left out.
    pub fn from_arrivals(arrivals: &[SegmentArrival], origin: Duration) -> Vec<Hold> {
        arrivals
            .iter()
            .filter_map(|a| {
                let readable = a.readable_at?;
                (readable > a.arrived).then(|| Hold {
                    arrived: a.arrived.saturating_sub(origin),
                    readable: readable.saturating_sub(origin),
                })
            })
            .collect()
    }
}

/// The head-of-line blocked time of one connection and of each of its
/// streams (see the module docs and `docs/metrics.md`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HolBlockedTime {
    /// Time during which at least one stream of the connection was
    /// head-of-line blocked.
    pub connection: Duration,
    /// Per stream, in the order the streams were given: time during which
    /// that stream's bytes were held in a head-of-line episode.
    pub streams: Vec<Duration>,
}

impl HolBlockedTime {
    /// The HOL-blocked time of a connection whose streams delivered as
    /// `streams` say and whose transport held data as `holds` say. Times
    /// are on one clock (the run's).
    pub fn compute(streams: &[StreamTimeline], holds: &[Hold]) -> HolBlockedTime {
        // Delivery instant → the streams delivering then.
        let mut delivered: BTreeMap<Duration, Vec<usize>> = BTreeMap::new();
        for (i, s) in streams.iter().enumerate() {
            for &d in &s.deliveries {
                delivered.entry(d).or_default().push(i);
            }
        }
        // Hold episodes: release instant → earliest arrival held until then.
        let mut episodes: BTreeMap<Duration, Duration> = BTreeMap::new();
        for h in holds.iter().filter(|h| h.readable > h.arrived) {
            let start = episodes.entry(h.readable).or_insert(h.arrived);
            *start = (*start).min(h.arrived);
        }
        let mut connection = Vec::new();
        let mut per_stream = vec![Vec::new(); streams.len()];
        for (&release, &start) in &episodes {
            // The released bytes reach the application at the connection's
            // first delivery at or after the release (later than it only if
            // they end inside a TLS record or HTTP/2 frame still arriving).
            let Some((&at, released)) = delivered.range(release..).next() else {
                continue;
            };
            if released.len() < 2 {
                continue; // one stream waiting for its own bytes
            }
            connection.push((start, release));
            for &s in released {
                let from = streams[s]
                    .last_before(at)
                    .map_or(start, |prev| prev.max(start));
                per_stream[s].push((from, release));
            }
        }
        HolBlockedTime {
            connection: union_length(connection),
            streams: per_stream.into_iter().map(union_length).collect(),
        }
    }
}

/// The requests of connection `conn` (indices into `requests`) that were
/// stalled throughout `window`: their response head had arrived before it
/// began, their body was still incomplete when it ended, and not one body
/// byte of theirs reached the application during it. Times are on the run's
/// clock. `docs/metrics.md` ("Streams stalled around a loss") uses it with
/// the window in which one lost packet's bytes were certainly missing.
pub fn stalled_streams(
    requests: &[RequestRecord],
    conn: u32,
    window: Range<Duration>,
) -> Vec<usize> {
    requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.connection_id == Some(conn))
        .filter(|(_, r)| r.first_byte.is_some_and(|t| t < window.start))
        .filter(|(_, r)| r.last_byte.is_none_or(|t| t >= window.end))
        .filter(|(_, r)| {
            let mut before = 0;
            !r.timeline.iter().any(|&(at, bytes)| {
                let grew = bytes > before;
                before = bytes;
                grew && window.contains(&at)
            })
        })
        .map(|(i, _)| i)
        .collect()
}

/// The total length of the union of half-open intervals `[start, end)`.
fn union_length(mut intervals: Vec<(Duration, Duration)>) -> Duration {
    intervals.retain(|(start, end)| start < end);
    intervals.sort_unstable();
    let mut total = Duration::ZERO;
    let mut current: Option<(Duration, Duration)> = None;
    for (start, end) in intervals {
        match current {
            Some((s, e)) if start <= e => current = Some((s, e.max(end))),
            _ => {
                if let Some((s, e)) = current {
                    total += e - s;
                }
                current = Some((start, end));
            }
        }
    }
    if let Some((s, e)) = current {
        total += e - s;
    }
    total
}

/// Fill in `hol_blocked` of every connection and request, and return the
/// run's total (the sum over connections), for a run whose clock started at
/// simulated time `origin`.
///
/// - HTTP/1.1 and HTTP/2: measured from the TCP stack's segment arrivals;
///   `None` for a connection whose stack keeps none (smoltcp, real
///   sockets) or that has no statistics, and for its requests.
/// - HTTP/3: 0. QUIC orders bytes per stream, not per connection, so no
///   data is ever held for a missing byte of another stream.
///
/// A request that no connection carried gets `None`. The total is `None`
/// if there is no connection or any connection's value is `None`.
pub(crate) fn fill_in(
    requests: &mut [RequestRecord],
    connections: &mut [ConnectionRecord],
    origin: Duration,
) -> Option<Duration> {
    for r in requests.iter_mut() {
        r.hol_blocked = None;
    }
    let mut total = Some(Duration::ZERO);
    for c in connections.iter_mut() {
        let holds = match c.protocol {
            Protocol::H3 => Some(Vec::new()),
            Protocol::H1 | Protocol::H2 => c
                .stats
                .as_ref()
                .and_then(|s| s.arrivals.as_deref())
                .map(|a| Hold::from_arrivals(a, origin)),
        };
        let Some(holds) = holds else {
            c.hol_blocked = None;
            if !never_used(c, requests) {
                total = None;
            }
            continue;
        };
        let carried: Vec<usize> = (0..requests.len())
            .filter(|&i| requests[i].connection_id == Some(c.id))
            .collect();
        let streams: Vec<StreamTimeline> = carried
            .iter()
            .map(|&i| StreamTimeline::of(&requests[i]))
            .collect();
        let time = HolBlockedTime::compute(&streams, &holds);
        for (&i, &t) in carried.iter().zip(&time.streams) {
            requests[i].hol_blocked = Some(t);
        }
        c.hol_blocked = Some(time.connection);
        total = total.map(|sum| sum + time.connection);
    }
    if connections.is_empty() {
        None
    } else {
        total
    }
}

/// Fill in the head-of-line cost (`crate::hol_cost`) of every connection
/// and request, and return the run's (the sum over connections).
///
/// - HTTP/2: from the TCP stack's segment arrivals and the client's map of
///   which stream each byte carried (`stream_maps`, by connection id); a
///   request gets the delay added to its stream's completion.
/// - HTTP/1.1: a connection carries one response at a time, so each byte's
///   only holes are its own response's: every wait is an own-stream wait
///   and every request's added delay is 0.
/// - HTTP/3: `None`: quinn does not say when each stream frame arrived.
///
/// `None` for a connection without segment arrivals (smoltcp, real
/// sockets) or without a map, and for its requests; the run's is `None`
/// if any connection's is, or there is none.
pub(crate) fn fill_in_cost(
    requests: &mut [RequestRecord],
    connections: &mut [ConnectionRecord],
    stream_maps: &[Option<Vec<StreamSpan>>],
) -> Option<HolCostRecord> {
    let mut total = Some(HolCostRecord::default());
    for c in connections.iter_mut() {
        let arrivals = c.stats.as_ref().and_then(|s| s.arrivals.as_deref());
        let whole = [StreamSpan {
            start: 0,
            end: u64::MAX,
            stream: Some(0),
        }];
        let spans: Option<&[StreamSpan]> = match c.protocol {
            Protocol::H1 => Some(&whole),
            Protocol::H2 => stream_maps.get(c.id as usize).and_then(|m| m.as_deref()),
            Protocol::H3 => None,
        };
        let cost = arrivals
            .zip(spans)
            .map(|(arrivals, spans)| HolCost::compute(arrivals, spans));
        for r in requests
            .iter_mut()
            .filter(|r| r.connection_id == Some(c.id))
        {
            r.hol_added = cost.as_ref().map(|cost| match c.protocol {
                Protocol::H2 => cost
                    .streams
                    .iter()
                    .find(|s| Some(s.stream) == r.stream_id)
                    .map_or(Duration::ZERO, |s| s.added_delay()),
                _ => Duration::ZERO,
            });
        }
        c.hol_cost = cost.as_ref().map(HolCostRecord::of);
        if c.hol_cost.is_some() || !never_used(c, requests) {
            total = total.zip(c.hol_cost).map(|(t, c)| t.plus(c));
        }
    }
    if connections.is_empty() {
        None
    } else {
        total
    }
}

/// Whether `c` never connected (it has no statistics) and carried no
/// request: a connection the client opened and no longer needed by the time
/// the page was done (an HTTP/1.1 pool's last connection, say). It held no
/// stream's data, so it leaves a run's totals as they are, where a
/// connection that carried data but has no arrival record makes them
/// unknown.
fn never_used(c: &ConnectionRecord, requests: &[RequestRecord]) -> bool {
    c.stats.is_none() && !requests.iter().any(|r| r.connection_id == Some(c.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A stream delivering at each of `instants` (ms).
    fn stream(instants: &[u64]) -> StreamTimeline {
        StreamTimeline::from_instants(instants.iter().map(|&t| ms(t)))
    }

    /// Data that arrived at `arrived` ms and became readable at `readable`
    /// ms.
    fn held(arrived: u64, readable: u64) -> Hold {
        Hold {
            arrived: ms(arrived),
            readable: ms(readable),
        }
    }

    #[test]
    fn nothing_held_is_no_hol_blocking() {
        let streams = [stream(&[10, 20, 30, 40]), stream(&[15, 25, 35])];
        let t = HolBlockedTime::compute(&streams, &[]);
        assert_eq!(t.connection, Duration::ZERO);
        assert_eq!(t.streams, vec![Duration::ZERO; 2]);
    }

    #[test]
    fn a_stream_waiting_for_its_own_data_is_not_hol_blocked() {
        // Stream 0's segment due at 100 ms is lost; its later segments arrive
        // at 101..=110 ms and wait until the retransmission at 160 ms, which
        // releases only stream 0. Stream 1 delivered meanwhile, unaffected.
        let streams = [stream(&[90, 100, 160]), stream(&[95, 120, 150])];
        let holds: Vec<Hold> = (101..=110).map(|t| held(t, 160)).collect();
        let t = HolBlockedTime::compute(&streams, &holds);
        assert_eq!(t.connection, Duration::ZERO);
        assert_eq!(t.streams, vec![Duration::ZERO; 2]);
    }

    #[test]
    fn all_streams_stalled_while_packets_arrive_is_hol_blocking() {
        // One connection byte stream: a hole at 100 ms; segments arriving
        // from 101 to 140 ms (data of both streams) are held until the
        // retransmission at 160 ms releases both at once.
        let streams = [stream(&[60, 90, 160, 170]), stream(&[70, 99, 160])];
        let holds: Vec<Hold> = (101..=140).map(|t| held(t, 160)).collect();
        let t = HolBlockedTime::compute(&streams, &holds);
        assert_eq!(
            t.connection,
            ms(59),
            "from the first held arrival to the release"
        );
        assert_eq!(t.streams, vec![ms(59), ms(59)]);
    }

    #[test]
    fn an_idle_gap_without_arrivals_is_not_hol_blocking() {
        // Both streams stop at 100 ms and resume together at 400 ms (a
        // retransmission timeout with nothing in flight): nothing was held,
        // so nothing counts, however long the gap and however many streams
        // resume at its end.
        let streams = [stream(&[90, 100, 400]), stream(&[95, 400])];
        let t = HolBlockedTime::compute(&streams, &[]);
        assert_eq!(t.connection, Duration::ZERO);
        // A retransmission that fills the hole is readable on arrival: it is
        // no hold either.
        let t = HolBlockedTime::compute(&streams, &[held(400, 400)]);
        assert_eq!(t.connection, Duration::ZERO);
    }

    #[test]
    fn a_stream_counts_from_its_own_previous_delivery() {
        // Held from 101 ms to 160 ms, but stream 1 still delivered at 130 ms
        // (bytes before the hole, e.g. a TLS record completing): stream 1 is
        // blocked only from then on.
        let streams = [stream(&[90, 160]), stream(&[80, 130, 160]), stream(&[50])];
        let holds = [held(101, 160), held(120, 160)];
        let t = HolBlockedTime::compute(&streams, &holds);
        assert_eq!(t.connection, ms(59));
        assert_eq!(t.streams, vec![ms(59), ms(30), Duration::ZERO]);
    }

    #[test]
    fn a_release_reaches_the_application_at_the_next_delivery() {
        // The hole fills at 160 ms but the released bytes end inside a TLS
        // record whose last segment arrives at 163 ms: both streams deliver
        // then. The blocked time still ends at the transport's release.
        let streams = [stream(&[90, 163]), stream(&[95, 163])];
        let t = HolBlockedTime::compute(&streams, &[held(110, 160)]);
        assert_eq!(t.connection, ms(50));
        // A release after the last delivery of the run has nothing to
        // attribute to.
        let t = HolBlockedTime::compute(&streams, &[held(170, 180)]);
        assert_eq!(t.connection, Duration::ZERO);
    }

    #[test]
    fn overlapping_episodes_count_once() {
        // Two holes: bytes between them wait for the first (released at
        // 160 ms), bytes after the second wait for it (released at 200 ms).
        let streams = [stream(&[90, 160, 200]), stream(&[95, 160, 200])];
        let holds = [held(110, 160), held(130, 200), held(150, 200)];
        let t = HolBlockedTime::compute(&streams, &holds);
        assert_eq!(t.connection, ms(90), "[110, 200) once, not 50 + 70");
        assert_eq!(t.streams, vec![ms(90), ms(90)]);
    }

    #[test]
    fn a_request_timeline_counts_its_head_and_growing_body() {
        let r = RequestRecord {
            path: "/bytes/10".into(),
            size_expected: 10,
            start: ms(0),
            connection_ready: None,
            request_sent: Some(ms(1)),
            first_byte: Some(ms(50)),
            last_byte: Some(ms(70)),
            bytes: 10,
            stream_id: Some(1),
            connection_id: Some(0),
            timeline: vec![(ms(50), 4), (ms(60), 4), (ms(70), 10)],
            timeline_thinned_from: None,
            hol_blocked: None,
            hol_added: None,
            resumptions: Vec::new(),
            verified: true,
            error: None,
        };
        assert_eq!(StreamTimeline::of(&r).deliveries(), &[ms(50), ms(70)]);
    }

    /// A request on connection 0 whose head arrived at `head` ms, with body
    /// points `(ms, cumulative bytes)`, complete at its last point if
    /// `done`.
    fn request(head: u64, points: &[(u64, u64)], done: bool) -> RequestRecord {
        RequestRecord {
            path: "/bytes/100".into(),
            size_expected: 100,
            start: ms(0),
            connection_ready: Some(ms(0)),
            request_sent: Some(ms(0)),
            first_byte: Some(ms(head)),
            last_byte: done.then(|| ms(points.last().map_or(head, |p| p.0))),
            bytes: points.last().map_or(0, |p| p.1),
            stream_id: Some(1),
            connection_id: Some(0),
            timeline: points.iter().map(|&(t, b)| (ms(t), b)).collect(),
            timeline_thinned_from: None,
            hol_blocked: None,
            hol_added: None,
            resumptions: Vec::new(),
            verified: done,
            error: None,
        }
    }

    #[test]
    fn stalled_streams_are_active_and_silent_for_the_whole_window() {
        let requests = [
            // delivered inside the window: not stalled
            request(10, &[(20, 10), (110, 20), (300, 100)], true),
            // silent from 90 to 300 ms: stalled
            request(10, &[(90, 10), (300, 100)], true),
            // a point inside the window that added nothing: still stalled
            request(10, &[(90, 10), (120, 10), (300, 100)], true),
            // finished inside the window: not active
            request(10, &[(90, 10), (130, 100)], true),
            // head only after the window began: not active
            request(105, &[(300, 100)], true),
            // never finished: stalled
            request(10, &[(50, 10)], false),
        ];
        let mut other = request(10, &[(90, 10), (300, 100)], true);
        other.connection_id = Some(1);
        let mut all = requests.to_vec();
        all.push(other);
        assert_eq!(stalled_streams(&all, 0, ms(100)..ms(150)), vec![1, 2, 5]);
    }

    fn connection(
        id: u32,
        protocol: Protocol,
        arrivals: Option<Vec<SegmentArrival>>,
    ) -> ConnectionRecord {
        ConnectionRecord {
            id,
            protocol,
            started: ms(0),
            tcp_connected: None,
            handshake_done: Some(ms(5)),
            stats: Some(netsim::TransportStats {
                arrivals,
                ..Default::default()
            }),
            hol_blocked: None,
            hol_cost: None,
            resumed: None,
            early_data_offered: false,
            early_data_accepted: None,
            error: None,
            origin: None,
        }
    }

    #[test]
    fn filled_in_per_protocol_and_transport() {
        // Two HTTP/2 streams released together after a hole: 40 ms.
        let segment = |arrived: u64, readable: u64| SegmentArrival {
            arrived: ms(1000 + arrived),
            offset: 0,
            len: 1000,
            readable_at: Some(ms(1000 + readable)),
        };
        let mut requests = vec![
            request(10, &[(20, 10), (60, 100)], true),
            request(10, &[(25, 10), (60, 100)], true),
        ];
        let mut connections = vec![connection(
            0,
            Protocol::H2,
            Some(vec![segment(20, 20), segment(30, 60)]),
        )];
        let total = fill_in(&mut requests, &mut connections, ms(1000));
        assert_eq!(total, Some(ms(30)));
        assert_eq!(connections[0].hol_blocked, Some(ms(30)));
        assert_eq!(requests[0].hol_blocked, Some(ms(30)));

        // The same timelines over QUIC: 0 by construction, records or not.
        let mut connections = vec![connection(0, Protocol::H3, None)];
        connections[0].stats = None;
        assert_eq!(
            fill_in(&mut requests, &mut connections, ms(1000)),
            Some(Duration::ZERO)
        );
        assert_eq!(requests[1].hol_blocked, Some(Duration::ZERO));

        // A TCP stack without a record (smoltcp): unknown, and so is the
        // run's total; a request on no connection is unknown too.
        requests[1].connection_id = Some(1);
        let mut connections = vec![
            connection(0, Protocol::H1, Some(vec![])),
            connection(1, Protocol::H1, None),
        ];
        assert_eq!(fill_in(&mut requests, &mut connections, ms(1000)), None);
        assert_eq!(connections[0].hol_blocked, Some(Duration::ZERO));
        assert_eq!(connections[1].hol_blocked, None);
        assert_eq!(requests[1].hol_blocked, None);
        requests[0].connection_id = None;
        fill_in(&mut requests, &mut connections, ms(1000));
        assert_eq!(requests[0].hol_blocked, None);
    }

    #[test]
    fn a_connection_that_never_connected_nor_carried_anything_leaves_the_totals() {
        let mut requests = vec![request(0, &[(10, 100)], true)];
        requests[0].connection_id = Some(0);
        // Connection 1 was opened for the pool and was not needed: it never
        // connected, so it has no statistics, and carried no request.
        let mut connections = vec![
            connection(
                0,
                Protocol::H1,
                Some(vec![SegmentArrival {
                    arrived: ms(1010),
                    offset: 0,
                    len: 100,
                    readable_at: Some(ms(1010)),
                }]),
            ),
            connection(1, Protocol::H1, None),
        ];
        connections[1].stats = None;
        assert_eq!(
            fill_in(&mut requests, &mut connections, ms(1000)),
            Some(Duration::ZERO)
        );
        assert_eq!(connections[1].hol_blocked, None);
        let cost = fill_in_cost(&mut requests, &mut connections, &[None, None]);
        assert_eq!(cost, Some(HolCostRecord::default()));
        // Had it carried the request, its missing record would make both
        // unknown.
        requests[0].connection_id = Some(1);
        assert_eq!(fill_in(&mut requests, &mut connections, ms(1000)), None);
        assert_eq!(
            fill_in_cost(&mut requests, &mut connections, &[None, None]),
            None
        );
    }

    #[test]
    fn holds_come_from_segments_readable_after_arrival() {
        let a = |arrived: u64, readable_at: Option<u64>| SegmentArrival {
            arrived: ms(arrived),
            offset: 0,
            len: 1000,
            readable_at: readable_at.map(ms),
        };
        let arrivals = [a(1010, Some(1010)), a(1020, Some(1080)), a(1030, None)];
        assert_eq!(
            Hold::from_arrivals(&arrivals, ms(1000)),
            vec![held(20, 80)],
            "on the run's clock; in-order and never-readable segments left out"
        );
    }

    #[test]
    fn the_cost_per_protocol_from_arrivals_and_the_stream_map() {
        // Bytes 0..100 (stream 1) lost and repaired at 60 ms; 100..300
        // (stream 3) arrived at 11 and 12 ms and were readable at 60.
        let seg = |offset, arrived, readable| SegmentArrival {
            arrived: ms(arrived),
            offset,
            len: 100,
            readable_at: Some(ms(readable)),
        };
        let arrivals = vec![seg(0, 60, 60), seg(100, 11, 60), seg(200, 12, 60)];
        let mut connections = vec![
            connection(0, Protocol::H2, Some(arrivals.clone())),
            connection(1, Protocol::H1, Some(arrivals)),
            connection(2, Protocol::H3, None),
        ];
        let span = |start, end, stream| StreamSpan {
            start,
            end,
            stream: Some(stream),
        };
        let maps = vec![Some(vec![span(0, 100, 1), span(100, 300, 3)]), None, None];
        let on = |conn: u32, stream: u64| {
            let mut r = request(10, &[(60, 100)], true);
            r.connection_id = Some(conn);
            r.stream_id = Some(stream);
            r
        };
        let mut requests = vec![on(0, 1), on(0, 3), on(1, 0), on(2, 0)];
        let total = fill_in_cost(&mut requests, &mut connections, &maps);
        // HTTP/2: stream 3's 200 bytes waited 49 and 48 ms for stream 1:
        // 100 × 49 + 100 × 48 = 9 700 byte·ms; its completion moved from 12
        // to 60 ms.
        let h2 = connections[0].hol_cost.unwrap();
        assert_eq!((h2.held_bytes, h2.excess_byte_us), (200, 9_700_000));
        assert_eq!((h2.own_wait_bytes, h2.own_wait_byte_us), (0, 0));
        assert_eq!(h2.mean_excess(), Some(Duration::from_micros(48_500)));
        assert_eq!(requests[0].hol_added, Some(Duration::ZERO));
        assert_eq!(requests[1].hol_added, Some(ms(48)));
        // HTTP/1.1: one response at a time, so the same wait is its own.
        let h1 = connections[1].hol_cost.unwrap();
        assert_eq!((h1.held_bytes, h1.excess_byte_us), (0, 0));
        assert_eq!((h1.own_wait_bytes, h1.own_wait_byte_us), (200, 9_700_000));
        assert_eq!(requests[2].hol_added, Some(Duration::ZERO));
        // HTTP/3: not measurable, and so the run's total is not either.
        assert_eq!(connections[2].hol_cost, None);
        assert_eq!(requests[3].hol_added, None);
        assert_eq!(total, None);
        // Without the HTTP/3 connection, the total is the sum.
        connections.pop();
        requests.pop();
        let total = fill_in_cost(&mut requests, &mut connections, &maps).unwrap();
        assert_eq!(total, h2.plus(h1));
        // An HTTP/2 connection without a map has no cost.
        let total = fill_in_cost(&mut requests, &mut connections, &[None, None]);
        assert_eq!((total, connections[0].hol_cost), (None, None));
    }
}
