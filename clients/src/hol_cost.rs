//! Head-of-line *cost*: how much later a connection's bytes became usable
//! than they would have had only holes in their own stream's data delayed
//! them ([`HolCost`]). Beside the blocked time of [`crate::hol`], which is
//! a duration during which streams waited, this is what the waiting cost,
//! byte by byte.
//!
//! For one connection's ordered byte stream (TCP), from the receiver's
//! record of each segment's new bytes (when they arrived and when they
//! became readable) and a map of which stream each byte belongs to
//! ([`StreamSpan`]s), for every byte `b` of stream `s`:
//!
//! - `arrived(b)` and `readable(b)` are its segment's;
//! - `own(b)`, when it would have been readable had the connection kept
//!   each stream's bytes in order on its own (as QUIC does): the latest
//!   arrival among `s`'s bytes up to and including `b`;
//! - its **head-of-line excess** is `readable(b) − own(b)`: the delay that
//!   holes in *other* streams' data added;
//! - its **own-stream wait** is `own(b) − arrived(b)`: the delay holes in
//!   its own stream's data added, which any in-order delivery pays.
//!
//! `readable − arrived` is the sum of the two. Per connection the cost adds
//! up excess × bytes (byte·seconds) and counts the bytes with an excess;
//! per stream it is the delay added to the stream's completion: the last
//! `readable` of its bytes minus the last `own` (the completion had only
//! its own holes delayed it, the counterfactual).
//!
//! Bytes that belong to no stream (TLS record headers and tags, HTTP/2
//! frame headers, control frames) are left out. Times are the transport's:
//! the application sees a byte only once the TLS record holding it is
//! complete, in either case.

use std::collections::BTreeMap;
use std::time::Duration;

use netsim::SegmentArrival;

/// Bytes `[start, end)` of a connection's byte stream, all of one stream's
/// data, or of none (`stream: None`: framing and control).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamSpan {
    /// First byte's offset in the connection's byte stream.
    pub start: u64,
    /// One past the last byte's offset.
    pub end: u64,
    /// The stream whose data they are.
    pub stream: Option<u64>,
}

/// One stream's part of a connection's [`HolCost`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamCost {
    /// The stream.
    pub stream: u64,
    /// Its bytes that had a head-of-line excess.
    pub held_bytes: u64,
    /// The sum of their excesses, in byte·nanoseconds.
    pub excess_byte_ns: u128,
    /// When its last byte became readable.
    pub completed: Duration,
    /// When it would have, with only its own holes: the latest `own` of
    /// its bytes.
    pub completed_own: Duration,
}

impl StreamCost {
    /// The delay head-of-line blocking added to its completion.
    pub fn added_delay(&self) -> Duration {
        self.completed.saturating_sub(self.completed_own)
    }
}

/// The head-of-line cost of one connection (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HolCost {
    /// Bytes whose head-of-line excess was above 0.
    pub held_bytes: u64,
    /// The sum of the excesses, in byte·nanoseconds.
    pub excess_byte_ns: u128,
    /// Bytes that waited for a hole in their own stream.
    pub own_wait_bytes: u64,
    /// The sum of those waits, in byte·nanoseconds.
    pub own_wait_byte_ns: u128,
    /// Per stream, by stream id.
    pub streams: Vec<StreamCost>,
}

impl HolCost {
    /// The mean head-of-line excess of a held byte; `None` if none was.
    pub fn mean_excess(&self) -> Option<Duration> {
        (self.held_bytes > 0).then(|| {
            Duration::from_nanos((self.excess_byte_ns / u128::from(self.held_bytes)) as u64)
        })
    }

    /// The excesses in byte·seconds.
    pub fn excess_byte_seconds(&self) -> f64 {
        self.excess_byte_ns as f64 / 1e9
    }

    /// The cost of a connection whose receiver recorded `arrivals` (any
    /// order) and whose bytes belong to streams as `spans` say (any order,
    /// not overlapping). A segment's bytes outside every span, and a
    /// segment never readable, count nowhere.
    pub fn compute(arrivals: &[SegmentArrival], spans: &[StreamSpan]) -> HolCost {
        let mut spans: Vec<StreamSpan> = spans
            .iter()
            .copied()
            .filter(|s| s.stream.is_some() && s.start < s.end)
            .collect();
        spans.sort_by_key(|s| s.start);
        let mut segments: Vec<&SegmentArrival> = arrivals
            .iter()
            .filter(|a| a.readable_at.is_some())
            .collect();
        segments.sort_by_key(|a| a.offset);
        // Pieces in offset order: (stream, bytes, arrived, readable).
        let mut pieces: Vec<(u64, u64, Duration, Duration)> = Vec::new();
        let mut first = 0;
        for seg in segments {
            let (start, end) = (seg.offset, seg.offset + u64::from(seg.len));
            let readable = seg.readable_at.unwrap_or(seg.arrived);
            while first < spans.len() && spans[first].end <= start {
                first += 1;
            }
            for span in spans[first..].iter().take_while(|s| s.start < end) {
                let bytes = end.min(span.end) - start.max(span.start);
                if let (Some(stream), true) = (span.stream, bytes > 0) {
                    pieces.push((stream, bytes, seg.arrived, readable));
                }
            }
        }
        let mut cost = HolCost::default();
        let mut latest: BTreeMap<u64, Duration> = BTreeMap::new();
        let mut per_stream: BTreeMap<u64, StreamCost> = BTreeMap::new();
        for (stream, bytes, arrived, readable) in pieces {
            let own = latest.entry(stream).or_insert(arrived);
            *own = (*own).max(arrived);
            let own = *own;
            let s = per_stream.entry(stream).or_insert(StreamCost {
                stream,
                ..StreamCost::default()
            });
            s.completed = s.completed.max(readable);
            s.completed_own = s.completed_own.max(own);
            if readable > own {
                let excess = u128::from(bytes) * (readable - own).as_nanos();
                cost.held_bytes += bytes;
                cost.excess_byte_ns += excess;
                s.held_bytes += bytes;
                s.excess_byte_ns += excess;
            }
            if own > arrived {
                cost.own_wait_bytes += bytes;
                cost.own_wait_byte_ns += u128::from(bytes) * (own - arrived).as_nanos();
            }
        }
        cost.streams = per_stream.into_values().collect();
        cost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A segment of `len` new bytes at `offset`, arrived at `arrived` ms and
    /// readable at `readable` ms.
    fn seg(offset: u64, len: u32, arrived: u64, readable: u64) -> SegmentArrival {
        SegmentArrival {
            arrived: ms(arrived),
            offset,
            len,
            readable_at: Some(ms(readable)),
        }
    }

    fn span(start: u64, end: u64, stream: u64) -> StreamSpan {
        StreamSpan {
            start,
            end,
            stream: Some(stream),
        }
    }

    const MS: u128 = 1_000_000;

    #[test]
    fn in_order_arrivals_cost_nothing() {
        let arrivals = [
            seg(0, 100, 10, 10),
            seg(100, 100, 11, 11),
            seg(200, 100, 12, 12),
        ];
        let spans = [span(0, 150, 1), span(150, 300, 3)];
        let c = HolCost::compute(&arrivals, &spans);
        assert_eq!((c.held_bytes, c.excess_byte_ns), (0, 0));
        assert_eq!((c.own_wait_bytes, c.own_wait_byte_ns), (0, 0));
        assert_eq!(c.streams.len(), 2);
        assert!(c.streams.iter().all(|s| s.added_delay() == Duration::ZERO));
        assert_eq!(c.mean_excess(), None);
    }

    #[test]
    fn bytes_behind_another_streams_hole_pay_the_whole_wait() {
        // Stream 1 is bytes 0..100, stream 3 bytes 100..300. Stream 1's
        // segment (0..100) is lost at 10 ms and retransmitted at 60 ms;
        // stream 3's two segments arrive at 11 and 12 ms and wait for it.
        let arrivals = [
            seg(0, 100, 60, 60),
            seg(100, 100, 11, 60),
            seg(200, 100, 12, 60),
        ];
        let spans = [span(0, 100, 1), span(100, 300, 3)];
        let c = HolCost::compute(&arrivals, &spans);
        // Stream 3's bytes: own = 11 and 12 ms (its own bytes were in order),
        // excess 49 and 48 ms on 100 bytes each.
        assert_eq!(c.held_bytes, 200);
        assert_eq!(c.excess_byte_ns, 100 * 49 * MS + 100 * 48 * MS);
        assert_eq!(c.mean_excess(), Some(Duration::from_micros(48_500)));
        assert_eq!(c.excess_byte_seconds(), 9.7);
        assert_eq!((c.own_wait_bytes, c.own_wait_byte_ns), (0, 0));
        let s3 = c.streams.iter().find(|s| s.stream == 3).unwrap();
        // Completed at 60 ms; with only its own holes at 12 ms: +48 ms.
        assert_eq!((s3.completed, s3.completed_own), (ms(60), ms(12)));
        assert_eq!(s3.added_delay(), ms(48));
        let s1 = c.streams.iter().find(|s| s.stream == 1).unwrap();
        assert_eq!(s1.added_delay(), Duration::ZERO);
    }

    #[test]
    fn bytes_behind_their_own_streams_hole_are_an_own_wait() {
        // One stream (bundled): the same loss costs no head-of-line excess,
        // the held bytes wait for their own stream.
        let arrivals = [
            seg(0, 100, 60, 60),
            seg(100, 100, 11, 60),
            seg(200, 100, 12, 60),
        ];
        let c = HolCost::compute(&arrivals, &[span(0, 300, 1)]);
        assert_eq!((c.held_bytes, c.excess_byte_ns), (0, 0));
        assert_eq!(c.own_wait_bytes, 200);
        assert_eq!(c.own_wait_byte_ns, 100 * 49 * MS + 100 * 48 * MS);
        assert_eq!(c.streams[0].added_delay(), Duration::ZERO);
    }

    #[test]
    fn a_segment_spanning_streams_and_framing_is_split() {
        // Stream 7's segment 0..50 is late (30 ms); the next segment,
        // 50..150, arrived at 10 ms and carries the end of stream 1
        // (50..90), a frame header (90..99, no stream) and the start of
        // stream 3 (99..150).
        let arrivals = [seg(0, 50, 30, 30), seg(50, 100, 10, 30)];
        let spans = [
            span(0, 50, 7),
            span(50, 90, 1),
            StreamSpan {
                start: 90,
                end: 99,
                stream: None,
            },
            span(99, 150, 3),
        ];
        let c = HolCost::compute(&arrivals, &spans);
        // 40 bytes of stream 1 and 51 of stream 3 wait 20 ms each for
        // stream 7; the 9 framing bytes count nowhere.
        assert_eq!(c.held_bytes, 91);
        assert_eq!(c.excess_byte_ns, 91 * 20 * MS);
        let added: Vec<(u64, Duration)> = c
            .streams
            .iter()
            .map(|s| (s.stream, s.added_delay()))
            .collect();
        assert_eq!(added, vec![(1, ms(20)), (3, ms(20)), (7, Duration::ZERO)]);
    }

    #[test]
    fn two_holes_split_a_bytes_wait_between_its_own_and_another_streams() {
        // Stream 1: bytes 0..100 (lost, arrives 80 ms) and 200..300 (arrives
        // 12 ms). Stream 3: bytes 100..200, lost, arrives 50 ms. Everything
        // is readable at 80 ms.
        let arrivals = [
            seg(0, 100, 80, 80),
            seg(100, 100, 50, 80),
            seg(200, 100, 12, 80),
        ];
        let spans = [span(0, 100, 1), span(100, 200, 3), span(200, 300, 1)];
        let c = HolCost::compute(&arrivals, &spans);
        // Stream 3 (100..200): own 50 ms, readable 80: excess 30 ms.
        // Stream 1's 200..300: own = 80 (its own first bytes came at 80),
        // so no excess, and an own wait of 68 ms.
        assert_eq!(c.held_bytes, 100);
        assert_eq!(c.excess_byte_ns, 100 * 30 * MS);
        assert_eq!(c.own_wait_bytes, 100);
        assert_eq!(c.own_wait_byte_ns, 100 * 68 * MS);
        let s3 = c.streams.iter().find(|s| s.stream == 3).unwrap();
        assert_eq!(s3.added_delay(), ms(30));
    }

    #[test]
    fn a_segment_never_readable_counts_nowhere() {
        let mut never = seg(100, 100, 11, 0);
        never.readable_at = None;
        let c = HolCost::compute(&[never], &[span(0, 300, 1)]);
        assert_eq!(c, HolCost::default());
    }
}
