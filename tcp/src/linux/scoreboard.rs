//! The scoreboard (RFC 6675): the segments in flight, in sequence order,
//! with running counts of what is SACKed, deemed lost and in flight, so
//! that the sender's per-ACK work is in proportion to what the ACK changed
//! rather than to the window.
//!
//! Every change to a segment's marks goes through a method here, which
//! keeps the counts; [`Scoreboard::get`] lends a segment out for reading
//! only. Linux keeps the same counts (`tp->sacked_out`,
//! `tp->lost_out`, `tp->packets_out`) for the same reason.

use std::collections::VecDeque;
use std::time::Duration;

/// One segment in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct InFlight {
    pub(super) start: u64,
    pub(super) end: u64,
    /// When it was (last) sent.
    pub(super) sent_at: Duration,
    /// Its place in the order of (last) sends: Linux keeps segments in
    /// send order (`tsorted_sent_queue`) and stamps them in microseconds,
    /// so segments sent on different events are never simultaneous; this
    /// stands in for that where the lab's events share an instant.
    pub(super) send_order: u64,
    /// The peer SACKed it.
    pub(super) sacked: bool,
    /// Deemed lost and waiting to be resent (cleared when resent; RACK may
    /// set it again if the resend is lost too).
    pub(super) lost: bool,
    /// Sent more than once (so its ACK is ambiguous for RTT, per Karn).
    pub(super) retransmitted: bool,
    /// The delivery state when it was (last) sent, for rate samples.
    pub(super) tx: TxRate,
}

/// What `tcp_rate_skb_sent` stamps on a segment (`TCP_SKB_CB(skb)->tx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct TxRate {
    /// The send time of the first segment of the flight it was sent in.
    pub(super) first_tx_mstamp: Duration,
    /// The connection's latest delivery time then; `None` once the segment
    /// was SACKed (Linux zeroes it so the cumulative ACK does not count it
    /// again).
    pub(super) delivered_mstamp: Option<Duration>,
    /// Segments delivered then.
    pub(super) delivered: u64,
    /// The connection was application-limited then.
    pub(super) is_app_limited: bool,
}

impl InFlight {
    pub(super) fn len(&self) -> u64 {
        self.end - self.start
    }
}

/// The segments in flight and their counts.
#[derive(Clone, Debug, Default)]
pub(super) struct Scoreboard {
    segments: VecDeque<InFlight>,
    /// Bytes of all segments.
    bytes: u64,
    /// Segments and bytes SACKed.
    sacked: (u64, u64),
    /// Segments and bytes deemed lost and not resent since.
    lost: (u64, u64),
    /// The end of the highest SACKed segment (Linux's
    /// `tcp_highest_sack_seq`), if any is SACKed.
    highest_sack_end: Option<u64>,
    /// No segment before this index is lost.
    lost_from: usize,
}

impl Scoreboard {
    /// How many segments are in flight (sent and not cumulatively
    /// acknowledged).
    pub(super) fn len(&self) -> usize {
        self.segments.len()
    }

    /// Whether none is.
    pub(super) fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// The `i`-th segment.
    pub(super) fn get(&self, i: usize) -> &InFlight {
        &self.segments[i]
    }

    /// Bytes neither SACKed nor deemed lost (RFC 6675's pipe).
    pub(super) fn pipe(&self) -> u64 {
        self.bytes - self.sacked.1 - self.lost.1
    }

    /// Segments neither SACKed nor deemed lost (Linux's
    /// `tcp_packets_in_flight`).
    pub(super) fn packets_in_flight(&self) -> u64 {
        self.segments.len() as u64 - self.sacked.0 - self.lost.0
    }

    /// Segments SACKed.
    pub(super) fn sacked_out(&self) -> u64 {
        self.sacked.0
    }

    /// Whether a segment is deemed lost.
    pub(super) fn any_lost(&self) -> bool {
        self.lost.0 > 0
    }

    /// The end of the highest SACKed segment, if any is SACKed.
    pub(super) fn highest_sack_end(&self) -> Option<u64> {
        self.highest_sack_end
    }

    /// The first segment deemed lost.
    pub(super) fn first_lost(&mut self) -> Option<usize> {
        if self.lost.0 == 0 {
            self.lost_from = self.segments.len();
            return None;
        }
        let found = (self.lost_from..self.segments.len()).find(|&i| self.segments[i].lost);
        self.lost_from = found.unwrap_or(self.segments.len());
        found
    }

    /// Add a segment just sent, after every other.
    pub(super) fn push_back(&mut self, seg: InFlight) {
        debug_assert!(!seg.sacked && !seg.lost);
        self.bytes += seg.len();
        self.segments.push_back(seg);
    }

    /// Remove the first segment, if it ends at or below `ack`.
    pub(super) fn pop_acked(&mut self, ack: u64) -> Option<InFlight> {
        if self.segments.front()?.end > ack {
            return None;
        }
        let seg = self.segments.pop_front()?;
        self.bytes -= seg.len();
        if seg.sacked {
            self.sacked.0 -= 1;
            self.sacked.1 -= seg.len();
            if self.sacked.0 == 0 {
                self.highest_sack_end = None;
            }
        }
        if seg.lost {
            self.lost.0 -= 1;
            self.lost.1 -= seg.len();
        }
        self.lost_from = self.lost_from.saturating_sub(1);
        Some(seg)
    }

    /// The indices of the segments that lie within `left..right` and start
    /// at or after `left`: those a SACK block covers, found by binary
    /// search (segments are in sequence order and do not overlap).
    pub(super) fn covered(&self, left: u64, right: u64) -> std::ops::Range<usize> {
        let from = self.segments.partition_point(|s| s.start < left);
        let to = from
            + self
                .segments
                .range(from..)
                .take_while(|s| s.end <= right)
                .count();
        from..to
    }

    /// Mark the `i`-th segment SACKed (and so not lost), and clear its
    /// delivery stamp (Linux zeroes it so that the cumulative ACK does not
    /// count it again); returns a copy as marked, its stamp not yet
    /// cleared.
    pub(super) fn mark_sacked(&mut self, i: usize) -> InFlight {
        let seg = &mut self.segments[i];
        debug_assert!(!seg.sacked);
        if seg.lost {
            seg.lost = false;
            self.lost.0 -= 1;
            self.lost.1 -= seg.len();
        }
        seg.sacked = true;
        let marked = *seg;
        seg.tx.delivered_mstamp = None;
        self.sacked.0 += 1;
        self.sacked.1 += seg.len();
        self.highest_sack_end = self.highest_sack_end.max(Some(seg.end));
        marked
    }

    /// Mark the `i`-th segment lost (it is neither SACKed nor lost).
    pub(super) fn mark_lost(&mut self, i: usize) {
        let seg = &mut self.segments[i];
        debug_assert!(!seg.sacked && !seg.lost);
        seg.lost = true;
        self.lost.0 += 1;
        self.lost.1 += seg.len();
        self.lost_from = self.lost_from.min(i);
    }

    /// Cut the `i`-th segment after `len` bytes; the rest follows it with
    /// the same marks.
    pub(super) fn split(&mut self, i: usize, len: u64) {
        let head = &mut self.segments[i];
        let mut tail = *head;
        head.end = head.start + len;
        tail.start = head.end;
        if tail.sacked {
            self.sacked.0 += 1;
        }
        if tail.lost {
            self.lost.0 += 1;
        }
        self.segments.insert(i + 1, tail);
    }

    /// The `i`-th segment was sent again at `now` as send number `order`
    /// with delivery state `tx`: it is no longer lost, and is resent.
    pub(super) fn resent(&mut self, i: usize, now: Duration, order: u64, tx: TxRate) {
        let seg = &mut self.segments[i];
        if seg.lost {
            seg.lost = false;
            self.lost.0 -= 1;
            self.lost.1 -= seg.len();
        }
        seg.tx = tx;
        seg.retransmitted = true;
        seg.sent_at = now;
        seg.send_order = order;
    }

    /// Whether the counts are those of the segments (for tests).
    #[cfg(test)]
    pub(super) fn is_consistent(&self) -> bool {
        let count = |f: fn(&InFlight) -> bool| {
            let segs = self.segments.iter().filter(|s| f(s));
            (
                segs.clone().count() as u64,
                segs.map(InFlight::len).sum::<u64>(),
            )
        };
        self.bytes == self.segments.iter().map(InFlight::len).sum::<u64>()
            && self.sacked == count(|s| s.sacked)
            && self.lost == count(|s| s.lost)
            && self.highest_sack_end
                == self
                    .segments
                    .iter()
                    .filter(|s| s.sacked)
                    .map(|s| s.end)
                    .max()
            && self.segments.iter().take(self.lost_from).all(|s| !s.lost)
    }
}
