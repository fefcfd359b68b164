//! The receive side of one connection: reassembly, the receive window, SACK
//! blocks and the delayed-ACK policy, modelled on Linux.
//!
//! [`Receiver`] works in 64-bit stream offsets (offset 0 is the first byte
//! after the peer's SYN) and converts to and from 32-bit wire sequence
//! numbers at its edges, unwrapping relative to `rcv_nxt`, so sequence
//! wrap-around never reaches the bookkeeping.
//!
//! Simplifications against Linux, on purpose:
//! - the window is the free buffer space (no `rcv_ssthresh` growth, no
//!   autotuning, no per-skb memory overhead), with receiver silly window
//!   avoidance as in `__tcp_select_window`, and never shrinking the right
//!   edge already advertised (RFC 9293 3.8.6.2.2), except by under one
//!   window-scale unit once the buffer is full (see
//!   [`Receiver::window_field`]); out-of-order data is never pruned, and
//!   storage stays within the buffer (plus that rounding);
//! - data beyond the advertised window is still taken if the buffer has
//!   room (Linux drops it);
//! - the delayed-ACK timeout is a fixed [`DELACK`] (Linux adapts `ato`
//!   between 40 ms and 200 ms to the arrival pattern);
//! - quick-ack mode only at connection start (Linux re-enters it after an
//!   idle period and on some out-of-window events);
//! - no D-SACK (RFC 2883): duplicates trigger an ACK but are not reported;
//! - the window-update rule after a read is a simplified
//!   `tcp_cleanup_rbuf`: see [`Receiver::ack_need`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::time::Duration;

use super::segment::MAX_SACK_BLOCKS;

/// Longest an ACK for in-order data is held back (Linux's `TCP_DELACK_MIN`).
pub const DELACK: Duration = Duration::from_millis(40);

/// Most segments ACKed at once in quick-ack mode (Linux's
/// `TCP_MAX_QUICKACKS`).
pub const MAX_QUICKACKS: u32 = 16;

/// Configuration of a [`Receiver`], fixed for the connection's life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecvConfig {
    /// Receive buffer in bytes: in-order data the application has not read
    /// plus out-of-order data held for reassembly. The window never offers
    /// more than this.
    pub buffer: usize,
    /// Our window scale shift, as advertised in our SYN (0 to 14).
    pub window_shift: u8,
    /// The peer's segment size estimate in bytes (`rcv_mss`), normally the
    /// MSS the peer announced; raised if a larger segment arrives. A value of
    /// 0 counts as 1.
    pub mss: u32,
    /// Keep a [`SegmentRecord`] for every segment that brings new data.
    pub record_segments: bool,
}

/// When the connection must send an ACK, from [`Receiver::ack_need`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckNeed {
    /// Nothing to acknowledge.
    None,
    /// Send an ACK now.
    Now,
    /// Send an ACK at this time unless one goes out before (the delayed-ACK
    /// timer).
    At(Duration),
}

/// What one arriving segment did, from [`Receiver::on_segment`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Arrival {
    /// Payload bytes not received before.
    pub new_bytes: u32,
    /// It advanced `rcv_nxt` (new in-order data, or the FIN in order).
    pub in_order: bool,
    /// It brought new data (or the FIN) beyond a hole: held for reassembly.
    pub out_of_order: bool,
    /// It brought nothing new: everything in it was already received.
    pub duplicate: bool,
    /// Its new bytes fill all or part of a hole below data already held.
    pub filled_hole: bool,
    /// Some or all of it lay beyond the receive window and was dropped.
    pub beyond_window: bool,
}

/// One received data segment, for instrumentation (see
/// [`RecvConfig::record_segments`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentRecord {
    /// When it arrived.
    pub arrived: Duration,
    /// Stream offset of its first byte kept (after trimming what was
    /// already in order and what lay beyond the window).
    pub offset: u64,
    /// Bytes kept, from `offset`.
    pub len: u32,
    /// When all its bytes became readable (when `rcv_nxt` passed its end):
    /// `arrived` for an in-order segment, later for one that waited behind
    /// a hole, `None` while it still waits.
    pub readable_at: Option<Duration>,
}

impl SegmentRecord {
    #[cfg(test)]
    /// How long it waited behind a hole (head-of-line blocking), once
    /// readable.
    pub fn reorder_wait(&self) -> Option<Duration> {
        self.readable_at.map(|t| t.saturating_sub(self.arrived))
    }
}

/// The receive side of one connection.
///
/// Call order:
/// - inputs: [`Receiver::on_segment`] for each arriving segment with
///   payload or FIN (already checked for RST, SYN and ACK by the
///   connection), [`Receiver::read`] when the application reads;
/// - outputs: after any input, [`Receiver::ack_need`] says when to ACK;
///   every segment sent carries [`Receiver::rcv_nxt`],
///   [`Receiver::window_field`] and [`Receiver::sack_blocks`], and must be
///   followed by [`Receiver::on_ack_sent`] (pure ACKs and data alike), which
///   records the window the peer now knows;
/// - getters: [`Receiver::readable`], [`Receiver::fin_received`],
///   [`Receiver::at_eof`], [`Receiver::window`],
///   [`Receiver::segment_records`].
pub struct Receiver {
    irs: u32,
    config: RecvConfig,
    /// In-order bytes not yet read, up to `rcv_nxt`.
    readable: VecDeque<u8>,
    /// Next expected stream offset (data only; the FIN is `fin_at`).
    rcv_nxt: u64,
    /// Out-of-order data by start offset: disjoint, each one segment's new
    /// bytes, all beyond `rcv_nxt`.
    chunks: BTreeMap<u64, Vec<u8>>,
    /// The same data as maximal contiguous ranges, start -> end.
    ranges: BTreeMap<u64, u64>,
    /// Bytes in `chunks`.
    held: u64,
    /// Stream offset of the peer's FIN, once a segment carried it.
    fin_at: Option<u64>,
    /// SACK blocks in reporting order, most recently changed first (as
    /// Linux's `selective_acks`), at most [`MAX_SACK_BLOCKS`].
    sack_list: Vec<(u64, u64)>,
    /// Right edge (stream offset) of the window the peer knows; never moves
    /// left. Before any ACK, the window of our SYN.
    adv_edge: u64,
    /// `rcv_nxt` as of the last ACK sent.
    acked: u64,
    /// An event that wants an immediate ACK happened since the last one.
    ack_now: bool,
    /// Delayed-ACK deadline for in-order data not yet acknowledged.
    delack_at: Option<Duration>,
    /// In-order data segments still to be ACKed at once (quick-ack mode).
    quickacks: u32,
    /// The application read since the last ACK.
    read_since_ack: bool,
    /// Segment size estimate.
    rcv_mss: u32,
    records: Vec<SegmentRecord>,
    /// Records still waiting behind a hole: (end offset, index).
    waiting: BTreeSet<(u64, usize)>,
}

impl Receiver {
    /// Start receiving after the handshake. The peer's SYN occupied `irs`;
    /// its data starts at `irs + 1`.
    ///
    /// Assumes our SYN (or SYN-ACK) advertised `min(buffer, 65535)`, the
    /// unscaled window RFC 7323 requires there.
    pub fn new(irs: u32, config: RecvConfig) -> Self {
        let mss = config.mss.max(1);
        let per_buffer = config.buffer as u64 / (2 * u64::from(mss));
        // Linux (tcp_incr_quickack): rcv_wnd / (2 * rcv_mss), at least 2,
        // at most 16.
        let quickacks = if per_buffer == 0 {
            2
        } else {
            per_buffer.min(u64::from(MAX_QUICKACKS)) as u32
        };
        Receiver {
            irs,
            readable: VecDeque::new(),
            rcv_nxt: 0,
            chunks: BTreeMap::new(),
            ranges: BTreeMap::new(),
            held: 0,
            fin_at: None,
            sack_list: Vec::new(),
            adv_edge: (config.buffer as u64).min(u64::from(u16::MAX)),
            acked: 0,
            ack_now: false,
            delack_at: None,
            quickacks,
            read_since_ack: false,
            rcv_mss: mss,
            records: Vec::new(),
            waiting: BTreeSet::new(),
            config,
        }
    }

    // ---- sequence numbers ----

    fn wire(&self, offset: u64) -> u32 {
        self.irs.wrapping_add(1).wrapping_add(offset as u32)
    }

    /// The stream offset of wire sequence number `seq`: the one nearest to
    /// `rcv_nxt` (within 2^31). Negative before the first data byte.
    fn unwrap(&self, seq: u32) -> i64 {
        let delta = seq.wrapping_sub(self.wire(self.rcv_nxt)) as i32;
        self.rcv_nxt as i64 + i64::from(delta)
    }

    // ---- inputs ----

    /// A segment with `payload` starting at wire sequence `seq` (and the FIN
    /// flag `fin`) arrived at `now`.
    ///
    /// Keeps the bytes not seen before that fit in the window, holds
    /// out-of-order bytes for reassembly, advances `rcv_nxt` over contiguous
    /// data and decides whether the ACK can wait. A FIN is taken once all
    /// data before it fits in the window (a bare FIN even at zero window, as
    /// Linux); data beyond a FIN is dropped. A segment without payload or FIN
    /// changes nothing.
    pub fn on_segment(&mut self, now: Duration, seq: u32, payload: &[u8], fin: bool) -> Arrival {
        let mut arrival = Arrival::default();
        if payload.is_empty() && !fin {
            return arrival;
        }
        let len = payload.len() as u32;
        self.rcv_mss = self.rcv_mss.max(len);

        let start = self.unwrap(seq);
        let end = start + i64::from(len);
        let nxt = self.rcv_nxt;
        let limit = self.accept_limit();
        let data_limit = self.fin_at.map_or(limit, |f| f.min(limit));
        let held_end = self.ranges.last_key_value().map(|(_, &e)| e);
        let fin_before = self.fin_received();

        arrival.beyond_window = end > limit as i64;
        let lo = start.max(nxt as i64) as u64;
        let hi = (end.max(0) as u64).min(data_limit);
        let mut new_bytes = 0;
        if lo < hi {
            let data = &payload[(lo as i64 - start) as usize..(hi as i64 - start) as usize];
            new_bytes = self.store(lo, data);
        }

        let mut new_fin = false;
        if fin && self.fin_at.is_none() && end >= nxt as i64 {
            let end = end as u64;
            // All data before the FIN is in the window, and nothing held
            // lies beyond it (else the FIN contradicts what we have).
            if end <= limit && held_end.is_none_or(|h| h <= end) {
                self.fin_at = Some(end);
                new_fin = true;
            }
        }

        self.drain_in_order(now);
        if lo < hi && lo > self.rcv_nxt {
            // Held out of order (new or a duplicate): its block goes first.
            self.promote_sack_block(lo);
        }

        arrival.new_bytes = new_bytes as u32;
        arrival.in_order = self.rcv_nxt > nxt || (!fin_before && self.fin_received());
        arrival.out_of_order = (new_bytes > 0 || new_fin) && !arrival.in_order;
        arrival.duplicate = new_bytes == 0 && !new_fin && start < limit as i64;
        arrival.filled_hole = new_bytes > 0 && held_end.is_some_and(|h| lo < h);

        if self.config.record_segments && new_bytes > 0 {
            self.record(now, lo, hi);
        }

        // The ACK policy.
        if arrival.in_order && len > 0 && self.quickacks > 0 {
            self.quickacks -= 1;
            self.ack_now = true;
        }
        if arrival.out_of_order
            || arrival.filled_hole
            || arrival.duplicate
            || arrival.beyond_window
            || (!fin_before && self.fin_received())
        {
            self.ack_now = true;
        }
        if arrival.in_order && self.delack_at.is_none() {
            self.delack_at = Some(now + DELACK);
        }
        arrival
    }

    /// Copy in-order data into `buf`; returns the bytes copied.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.readable.len());
        let (a, b) = self.readable.as_slices();
        let from_a = n.min(a.len());
        buf[..from_a].copy_from_slice(&a[..from_a]);
        buf[from_a..n].copy_from_slice(&b[..n - from_a]);
        self.readable.drain(..n);
        if n > 0 {
            self.read_since_ack = true;
        }
        n
    }

    /// An ACK carrying [`Receiver::rcv_nxt`], [`Receiver::window_field`] and
    /// [`Receiver::sack_blocks`] was sent at `now` (alone or on data): the
    /// delayed-ACK state resets and the advertised right edge is recorded.
    pub fn on_ack_sent(&mut self, _now: Duration) {
        let shown = u64::from(self.window_field()) << self.config.window_shift;
        self.adv_edge = self.adv_edge.max(self.rcv_nxt + shown);
        self.acked = self.rcv_nxt;
        self.ack_now = false;
        self.delack_at = None;
        self.read_since_ack = false;
    }

    // ---- outputs ----

    /// When an ACK must go out, Linux-like:
    /// - `Now` for the first in-order data segments (quick-ack mode at
    ///   connection start: `min(16, buffer / (2 * mss))` segments, at least
    ///   2, as Linux's `tcp_incr_quickack`);
    /// - `Now` after an out-of-order segment, one that fills all or part of
    ///   a hole, a duplicate, or one beyond the window (RFC 5681 4.2,
    ///   RFC 2018, RFC 9293 3.10.7.4), and after the FIN;
    /// - `Now` once more than one full-sized segment (more than `rcv_mss`
    ///   bytes) is unacknowledged, so every second full segment (Linux's
    ///   `__tcp_ack_snd_check`; without its check that the window would not
    ///   shrink, which in this free-space model would nearly always fail);
    /// - `Now` for a window update after the application read, when the
    ///   window the peer knows is below one MSS and could now be at least
    ///   one MSS, or is at most half the buffer and could now grow by at
    ///   least two MSS (a simplified `tcp_cleanup_rbuf`, which asks the
    ///   window to double);
    /// - else `At(first unacked arrival + DELACK)` if in-order data waits
    ///   for its ACK, else `None`.
    pub fn ack_need(&self) -> AckNeed {
        if self.ack_now
            || self.rcv_nxt - self.acked > u64::from(self.rcv_mss)
            || self.window_update_due()
        {
            return AckNeed::Now;
        }
        match self.delack_at {
            Some(t) => AckNeed::At(t),
            None => AckNeed::None,
        }
    }

    fn window_update_due(&self) -> bool {
        if !self.read_since_ack || self.fin_received() {
            return false;
        }
        let known = self.adv_edge.saturating_sub(self.rcv_nxt);
        let now = u64::from(self.window());
        let mss = u64::from(self.rcv_mss);
        (known < mss && now >= mss)
            || (2 * known <= self.config.buffer as u64 && now >= known + 2 * mss)
    }

    /// The acknowledgement number to send: the wire sequence number after
    /// the in-order data, plus one once the FIN is in order.
    pub fn rcv_nxt(&self) -> u32 {
        self.wire(self.rcv_nxt)
            .wrapping_add(u32::from(self.fin_received()))
    }

    /// The window to advertise, in bytes: the free buffer space (buffer
    /// less readable and out-of-order bytes), 0 when that is below half the
    /// buffer and below one MSS or a sixteenth of the buffer (receiver silly
    /// window avoidance, as Linux's `__tcp_select_window`), but never less
    /// than keeps the right edge already advertised in place.
    pub fn window(&self) -> u32 {
        let free = self.free_space();
        let buffer = self.config.buffer as u64;
        let sws = free < buffer / 2 && (free < u64::from(self.rcv_mss) || free < buffer / 16);
        let offered = if sws { 0 } else { free };
        let known = self.adv_edge.saturating_sub(self.rcv_nxt);
        offered.max(known).min(u64::from(u32::MAX)) as u32
    }

    /// The 16-bit window field for a segment: [`Receiver::window`] shifted
    /// down by our window scale, capped at 65535.
    ///
    /// Where rounding down would move the advertised right edge left, it
    /// rounds up instead (as Linux's `tcp_select_window`), but only while the
    /// edge stays within `2^window_shift - 1` bytes past the buffer's end;
    /// beyond that the edge may appear to move left by less than
    /// `2^window_shift` bytes. That keeps memory bounded where Linux would
    /// prune, and stops the edge creeping forward one rounding at a time
    /// while the application does not read.
    pub fn window_field(&self) -> u16 {
        let unit = 1u64 << self.config.window_shift;
        let known = self.adv_edge.saturating_sub(self.rcv_nxt);
        let down = u64::from(self.window()) / unit;
        let room =
            (self.config.buffer as u64 + unit - 1).saturating_sub(self.readable.len() as u64);
        let up = known.div_ceil(unit).min(room / unit);
        down.max(up).min(u64::from(u16::MAX)) as u16
    }

    /// SACK blocks to send (RFC 2018) as wire `(left, right)` pairs, at most
    /// `max`: first the block holding the most recently received
    /// out-of-order segment, then the others most recently changed first
    /// (Linux keeps [`MAX_SACK_BLOCKS`]; older blocks are not repeated).
    /// Empty when no out-of-order data is held.
    pub fn sack_blocks(&self, max: usize) -> Vec<(u32, u32)> {
        self.sack_list
            .iter()
            .take(max)
            .map(|&(l, r)| (self.wire(l), self.wire(r)))
            .collect()
    }

    // ---- getters ----

    #[cfg(test)]
    /// In-order bytes waiting for the application.
    pub fn readable(&self) -> usize {
        self.readable.len()
    }

    /// Whether the peer's FIN has been received in order.
    pub fn fin_received(&self) -> bool {
        self.fin_at == Some(self.rcv_nxt)
    }

    /// Whether in-order bytes wait to be read.
    pub fn has_readable(&self) -> bool {
        !self.readable.is_empty()
    }

    /// Whether the FIN has been received and all data read.
    pub fn at_eof(&self) -> bool {
        self.fin_received() && self.readable.is_empty()
    }

    #[cfg(test)]
    /// Bytes held out of order, waiting for a hole to fill.
    pub fn out_of_order_bytes(&self) -> usize {
        self.held as usize
    }

    #[cfg(test)]
    /// In-order bytes received so far (the stream offset of `rcv_nxt`).
    pub fn bytes_in_order(&self) -> u64 {
        self.rcv_nxt
    }

    /// One record per segment that brought new data, in arrival order
    /// (empty unless [`RecvConfig::record_segments`]).
    pub fn segment_records(&self) -> &[SegmentRecord] {
        &self.records
    }

    // ---- internals ----

    fn free_space(&self) -> u64 {
        (self.config.buffer as u64).saturating_sub(self.readable.len() as u64 + self.held)
    }

    /// The stream offset where acceptable data ends: the right edge the peer
    /// knows, or further if the buffer has room for more. Everything stored
    /// lies between the first unread byte and this limit, so storage stays
    /// within the buffer plus under `2^window_shift` bytes of rounding (see
    /// [`Receiver::window_field`]).
    fn accept_limit(&self) -> u64 {
        (self.rcv_nxt + self.free_space()).max(self.adv_edge)
    }

    /// Store the bytes of `data` (starting at stream offset `lo >=
    /// rcv_nxt`) not already held; returns how many were new.
    fn store(&mut self, lo: u64, data: &[u8]) -> u64 {
        let hi = lo + data.len() as u64;
        if lo == self.rcv_nxt && self.chunks.is_empty() {
            // The common case: in order, nothing held.
            self.readable.extend(data.iter().copied());
            self.rcv_nxt = hi;
            return data.len() as u64;
        }
        let mut gaps = Vec::new();
        let mut pos = lo;
        if let Some((&s, c)) = self.chunks.range(..lo).next_back() {
            pos = pos.max(s + c.len() as u64);
        }
        for (&s, c) in self.chunks.range(lo..hi) {
            if s > pos {
                gaps.push((pos, s));
            }
            pos = pos.max(s + c.len() as u64);
        }
        if pos < hi {
            gaps.push((pos, hi));
        }
        let mut new = 0;
        for (s, e) in gaps {
            let piece = data[(s - lo) as usize..(e - lo) as usize].to_vec();
            self.chunks.insert(s, piece);
            self.add_range(s, e);
            new += e - s;
        }
        self.held += new;
        new
    }

    fn add_range(&mut self, s: u64, e: u64) {
        let (mut start, mut end) = (s, e);
        if let Some((&ps, &pe)) = self.ranges.range(..=s).next_back() {
            if pe >= s {
                start = ps;
                end = end.max(pe);
                self.ranges.remove(&ps);
            }
        }
        while let Some((&ns, &ne)) = self.ranges.range(start..=end).next() {
            end = end.max(ne);
            self.ranges.remove(&ns);
        }
        self.ranges.insert(start, end);
    }

    /// Move held chunks that now continue the in-order data to the readable
    /// queue.
    fn drain_in_order(&mut self, now: Duration) {
        let first = self.ranges.first_key_value().map(|(&s, &e)| (s, e));
        let Some((start, end)) = first else { return };
        if start != self.rcv_nxt {
            return;
        }
        self.ranges.remove(&start);
        while self.rcv_nxt < end {
            let (s, data) = self.chunks.pop_first().expect("chunks cover every range");
            debug_assert_eq!(s, self.rcv_nxt);
            self.held -= data.len() as u64;
            self.rcv_nxt += data.len() as u64;
            self.readable.extend(data);
        }
        self.sack_list.retain(|&(s, _)| s > end);
        while let Some(&(rec_end, i)) = self.waiting.first() {
            if rec_end > self.rcv_nxt {
                break;
            }
            self.waiting.pop_first();
            self.records[i].readable_at = Some(now);
        }
    }

    /// Put the block holding `offset` first in the SACK list.
    fn promote_sack_block(&mut self, offset: u64) {
        let Some((&s, &e)) = self.ranges.range(..=offset).next_back() else {
            return;
        };
        if e <= offset {
            return;
        }
        self.sack_list.retain(|&(bs, be)| !(bs >= s && be <= e));
        self.sack_list.insert(0, (s, e));
        self.sack_list.truncate(MAX_SACK_BLOCKS);
    }

    fn record(&mut self, now: Duration, lo: u64, hi: u64) {
        let readable_at = (hi <= self.rcv_nxt).then_some(now);
        if readable_at.is_none() {
            self.waiting.insert((hi, self.records.len()));
        }
        self.records.push(SegmentRecord {
            arrived: now,
            offset: lo,
            len: (hi - lo) as u32,
            readable_at,
        });
    }
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("irs", &self.irs)
            .field("rcv_nxt", &self.rcv_nxt)
            .field("readable", &self.readable.len())
            .field("out_of_order", &self.ranges)
            .field("fin_at", &self.fin_at)
            .field("adv_edge", &self.adv_edge)
            .field("acked", &self.acked)
            .field("ack_now", &self.ack_now)
            .field("delack_at", &self.delack_at)
            .field("quickacks", &self.quickacks)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;

    fn ms(t: u64) -> Duration {
        Duration::from_millis(t)
    }

    /// The stream's content: byte at offset `o` is `o % 251`.
    fn bytes(offset: u64, len: u64) -> Vec<u8> {
        (offset..offset + len).map(|o| (o % 251) as u8).collect()
    }

    /// One receiver and the wire around it, driven in stream offsets.
    struct Rx {
        rx: Receiver,
        irs: u32,
    }

    impl Rx {
        fn new(irs: u32, buffer: usize, window_shift: u8) -> Rx {
            let config = RecvConfig {
                buffer,
                window_shift,
                mss: MSS,
                record_segments: true,
            };
            Rx {
                rx: Receiver::new(irs, config),
                irs,
            }
        }

        fn seq(&self, offset: u64) -> u32 {
            self.irs.wrapping_add(1).wrapping_add(offset as u32)
        }

        /// Data `offset..offset + len` arrives at `t` ms.
        fn data(&mut self, t: u64, offset: u64, len: u64) -> Arrival {
            let seq = self.seq(offset);
            self.rx.on_segment(ms(t), seq, &bytes(offset, len), false)
        }

        /// Data `offset..offset + len` and a FIN arrive at `t` ms.
        fn fin(&mut self, t: u64, offset: u64, len: u64) -> Arrival {
            let seq = self.seq(offset);
            self.rx.on_segment(ms(t), seq, &bytes(offset, len), true)
        }

        /// The ACK number, as a stream offset.
        fn acks(&self) -> u64 {
            u64::from(self.rx.rcv_nxt().wrapping_sub(self.seq(0)))
        }

        /// SACK blocks as stream offsets.
        fn sacks(&self, max: usize) -> Vec<(u64, u64)> {
            let base = self.seq(0);
            self.rx
                .sack_blocks(max)
                .into_iter()
                .map(|(l, r)| {
                    (
                        u64::from(l.wrapping_sub(base)),
                        u64::from(r.wrapping_sub(base)),
                    )
                })
                .collect()
        }

        /// Send an ACK at `t` ms.
        fn send_ack(&mut self, t: u64) {
            self.rx.on_ack_sent(ms(t));
        }

        fn read(&mut self, n: usize) -> Vec<u8> {
            let mut buf = vec![0; n];
            let got = self.rx.read(&mut buf);
            buf.truncate(got);
            buf
        }

        /// The peer's view of our right edge, as a stream offset.
        fn edge_shown(&self) -> u64 {
            let field = u64::from(self.rx.window_field());
            self.rx.bytes_in_order() + (field << self.rx.config.window_shift)
        }

        /// Deliver the 16 quick-ack segments (0..16000), ACKing each.
        fn past_quickack(&mut self) {
            for i in 0..16 {
                self.data(i, i * 1000, 1000);
                assert_eq!(self.rx.ack_need(), AckNeed::Now, "segment {i}");
                self.send_ack(i);
            }
        }
    }

    fn in_order(new_bytes: u32) -> Arrival {
        Arrival {
            new_bytes,
            in_order: true,
            ..Arrival::default()
        }
    }

    fn out_of_order(new_bytes: u32) -> Arrival {
        Arrival {
            new_bytes,
            out_of_order: true,
            ..Arrival::default()
        }
    }

    #[test]
    fn in_order_data_is_readable_and_acked() {
        let mut r = Rx::new(1000, 64_000, 0);
        assert_eq!(r.rx.ack_need(), AckNeed::None);
        assert_eq!(r.rx.rcv_nxt(), 1001);
        assert_eq!(r.data(5, 0, 1000), in_order(1000));
        assert_eq!(r.data(6, 1000, 500), in_order(500));
        assert_eq!(r.rx.readable(), 1500);
        assert_eq!(r.acks(), 1500);
        assert_eq!(r.rx.window(), 62_500);
        assert_eq!(r.read(1000), bytes(0, 1000));
        assert_eq!(r.read(1000), bytes(1000, 500));
        assert_eq!(r.read(1000), Vec::<u8>::new());
        assert!(!r.rx.fin_received() && !r.rx.at_eof());
        let records = r.rx.segment_records();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].reorder_wait(), Some(Duration::ZERO));
    }

    #[test]
    fn out_of_order_waits_for_the_hole() {
        let mut r = Rx::new(7, 64_000, 0);
        // t=10: 1000..2000 arrives before 0..1000.
        assert_eq!(r.data(10, 1000, 1000), out_of_order(1000));
        assert_eq!(r.rx.ack_need(), AckNeed::Now);
        assert_eq!((r.acks(), r.rx.readable()), (0, 0));
        assert_eq!(r.sacks(4), vec![(1000, 2000)]);
        assert_eq!(r.rx.out_of_order_bytes(), 1000);
        assert_eq!(r.rx.window(), 64_000); // the edge stays put
        r.send_ack(10);
        // t=20: 2000..3000, also beyond the hole.
        assert_eq!(r.data(20, 2000, 1000), out_of_order(1000));
        assert_eq!(r.sacks(4), vec![(1000, 3000)]);
        r.send_ack(20);
        // t=50: the hole fills; rcv_nxt jumps to 3000.
        let fill = r.data(50, 0, 1000);
        assert_eq!(
            fill,
            Arrival {
                filled_hole: true,
                ..in_order(1000)
            }
        );
        assert_eq!(r.rx.ack_need(), AckNeed::Now);
        assert_eq!((r.acks(), r.rx.readable()), (3000, 3000));
        assert!(r.sacks(4).is_empty());
        assert_eq!(r.rx.out_of_order_bytes(), 0);
        assert_eq!(r.read(5000), bytes(0, 3000));
        let rec = |arrived, offset, readable_at| SegmentRecord {
            arrived: ms(arrived),
            offset,
            len: 1000,
            readable_at: Some(ms(readable_at)),
        };
        assert_eq!(
            r.rx.segment_records(),
            &[rec(10, 1000, 50), rec(20, 2000, 50), rec(50, 0, 50)]
        );
        assert_eq!(r.rx.segment_records()[0].reorder_wait(), Some(ms(40)));
    }

    #[test]
    fn partial_fill_leaves_the_rest_waiting() {
        let mut r = Rx::new(0, 64_000, 0);
        r.data(1, 2000, 1000);
        // 500..1500 fills part of the hole but is not in order.
        let a = r.data(2, 500, 1000);
        assert_eq!(
            a,
            Arrival {
                filled_hole: true,
                ..out_of_order(1000)
            }
        );
        assert_eq!(r.sacks(4), vec![(500, 1500), (2000, 3000)]);
        // 0..2000 overlaps held data: only 0..500 and 1500..2000 are new.
        let a = r.data(3, 0, 2000);
        assert_eq!(a.new_bytes, 1000);
        assert!(a.in_order && a.filled_hole && !a.duplicate);
        assert_eq!(r.acks(), 3000);
        assert_eq!(r.read(10_000), bytes(0, 3000));
        let waits: Vec<_> =
            r.rx.segment_records()
                .iter()
                .map(|s| (s.offset, s.len, s.reorder_wait()))
                .collect();
        assert_eq!(
            waits,
            vec![
                (2000, 1000, Some(ms(2))),
                (500, 1000, Some(ms(1))),
                (0, 2000, Some(ms(0)))
            ]
        );
    }

    #[test]
    fn sack_blocks_most_recent_first() {
        let mut r = Rx::new(0, 64_000, 0);
        // Three holes: 0..1000, 2000..3000, 4000..5000.
        r.data(1, 1000, 1000);
        r.data(2, 3000, 1000);
        r.data(3, 5000, 1000);
        assert_eq!(r.sacks(4), vec![(5000, 6000), (3000, 4000), (1000, 2000)]);
        assert_eq!(r.sacks(2), vec![(5000, 6000), (3000, 4000)]);
        r.data(4, 7000, 1000);
        assert_eq!(r.sacks(3), vec![(7000, 8000), (5000, 6000), (3000, 4000)]);
        assert_eq!(r.sacks(4).len(), 4);
        // Filling 4000..5000 merges two blocks; the merged one goes first.
        let a = r.data(5, 4000, 1000);
        assert!(a.filled_hole && a.out_of_order);
        assert_eq!(r.sacks(4), vec![(3000, 6000), (7000, 8000), (1000, 2000)]);
        // A duplicate of an old block brings it to the front.
        let dup = r.data(6, 1000, 1000);
        assert!(dup.duplicate && dup.new_bytes == 0);
        assert_eq!(r.sacks(4), vec![(1000, 2000), (3000, 6000), (7000, 8000)]);
        // The first hole fills: blocks at or below rcv_nxt go.
        r.data(7, 0, 1000);
        assert_eq!(r.acks(), 2000);
        assert_eq!(r.sacks(4), vec![(3000, 6000), (7000, 8000)]);
    }

    #[test]
    fn only_four_sack_blocks_are_remembered() {
        let mut r = Rx::new(0, 64_000, 0);
        for (t, off) in [1000u64, 3000, 5000, 7000, 9000].iter().enumerate() {
            r.data(t as u64, *off, 1000);
        }
        assert_eq!(
            r.sacks(10),
            vec![(9000, 10_000), (7000, 8000), (5000, 6000), (3000, 4000)]
        );
        // 1000..2000 is still held: it is readable once the hole fills.
        r.data(10, 0, 1000);
        assert_eq!(r.acks(), 2000);
        assert_eq!(r.sacks(10).len(), 4);
    }

    #[test]
    fn duplicate_is_acked_at_once() {
        let mut r = Rx::new(0, 64_000, 0);
        r.past_quickack();
        assert_eq!(r.data(100, 16_000, 1000), in_order(1000));
        assert_eq!(r.rx.ack_need(), AckNeed::At(ms(140)));
        let dup = r.data(101, 5000, 1000);
        assert_eq!(
            dup,
            Arrival {
                duplicate: true,
                ..Arrival::default()
            }
        );
        assert_eq!(r.rx.ack_need(), AckNeed::Now);
        r.send_ack(101);
        // Half old, half new: not a duplicate.
        let a = r.data(102, 16_500, 1000);
        assert_eq!(a, in_order(500));
        assert_eq!(r.rx.ack_need(), AckNeed::At(ms(142)));
    }

    #[test]
    fn delayed_ack_after_quickack() {
        let mut r = Rx::new(0, 64_000, 0);
        // 64000 / (2 * 1000) = 32, capped at 16 quick ACKs.
        r.past_quickack();
        // Then one full segment waits up to 40 ms ...
        r.data(100, 16_000, 1000);
        assert_eq!(r.rx.ack_need(), AckNeed::At(ms(140)));
        // ... and the second full segment is ACKed at once.
        r.data(110, 17_000, 1000);
        assert_eq!(r.rx.ack_need(), AckNeed::Now);
        r.send_ack(110);
        assert_eq!(r.rx.ack_need(), AckNeed::None);
        // A lone segment: the timer fires.
        r.data(120, 18_000, 1000);
        assert_eq!(r.rx.ack_need(), AckNeed::At(ms(160)));
        r.send_ack(160);
        // Small segments: the deadline stays that of the first, until more
        // than one MSS is unacknowledged.
        r.data(200, 19_000, 300);
        r.data(210, 19_300, 300);
        r.data(220, 19_600, 300);
        assert_eq!(r.rx.ack_need(), AckNeed::At(ms(240)));
        r.data(230, 19_900, 300);
        assert_eq!(r.rx.ack_need(), AckNeed::Now);
    }

    #[test]
    fn second_full_segment_counts_with_timestamps() {
        // Segments of MSS - 12 bytes (timestamps on) still ACK every second.
        let mut r = Rx::new(0, 64_000, 0);
        r.past_quickack();
        r.data(100, 16_000, 988);
        assert_eq!(r.rx.ack_need(), AckNeed::At(ms(140)));
        r.data(101, 16_988, 988);
        assert_eq!(r.rx.ack_need(), AckNeed::Now);
    }

    #[test]
    fn quickack_count_follows_the_buffer() {
        // 6000 / (2 * 1000) = 3 quick ACKs.
        let mut r = Rx::new(0, 6000, 0);
        for i in 0..3 {
            r.data(i, i * 100, 100);
            assert_eq!(r.rx.ack_need(), AckNeed::Now);
            r.send_ack(i);
            r.read(100);
        }
        r.data(3, 300, 100);
        assert_eq!(r.rx.ack_need(), AckNeed::At(ms(43)));
        // A buffer under two MSS still gets Linux's minimum of 2.
        let mut tiny = Rx::new(0, 1500, 0);
        for i in 0..2 {
            tiny.data(i, i * 100, 100);
            assert_eq!(tiny.rx.ack_need(), AckNeed::Now);
            tiny.send_ack(i);
        }
        tiny.data(2, 200, 100);
        assert_eq!(tiny.rx.ack_need(), AckNeed::At(ms(42)));
    }

    #[test]
    fn window_shrinks_as_data_is_held_and_reopens_after_read() {
        let mut r = Rx::new(0, 10_000, 0);
        assert_eq!(r.rx.window(), 10_000);
        for i in 0..8 {
            r.data(i, i * 1000, 1000);
            r.send_ack(i);
            assert_eq!(r.rx.window(), 10_000 - (i as u32 + 1) * 1000);
        }
        // 8000 readable, the peer knows 2000 of window.
        assert_eq!(r.rx.window_field(), 2000);
        r.read(1000);
        // 3000 free: not two MSS more than the peer knows.
        assert_eq!(r.rx.window(), 3000);
        assert_eq!(r.rx.ack_need(), AckNeed::None);
        r.read(1000);
        assert_eq!(r.rx.window(), 4000);
        assert_eq!(r.rx.ack_need(), AckNeed::Now);
        r.send_ack(20);
        assert_eq!(r.rx.ack_need(), AckNeed::None);
        assert_eq!(r.edge_shown(), 12_000);
    }

    #[test]
    fn out_of_order_data_takes_buffer_but_never_moves_the_edge_left() {
        let mut r = Rx::new(0, 10_000, 0);
        r.send_ack(0);
        r.data(1, 5000, 3000);
        // 7000 free, but the peer was promised 0..10000.
        assert_eq!(r.rx.window(), 10_000);
        r.send_ack(1);
        r.data(2, 0, 1000);
        // 6000 free; the edge 10000 still stands: 9000 from rcv_nxt.
        assert_eq!(r.rx.window(), 9000);
        assert_eq!(r.edge_shown(), 10_000);
    }

    #[test]
    fn zero_window_and_probe() {
        let mut r = Rx::new(0, 4000, 0);
        for i in 0..4 {
            r.data(i, i * 1000, 1000);
            r.send_ack(i);
        }
        assert_eq!((r.rx.window(), r.rx.window_field()), (0, 0));
        // A one-byte zero-window probe is not taken, but answered at once.
        let probe = r.data(10, 4000, 1);
        assert_eq!(
            probe,
            Arrival {
                beyond_window: true,
                ..Arrival::default()
            }
        );
        assert_eq!(r.rx.ack_need(), AckNeed::Now);
        assert_eq!((r.acks(), r.rx.readable()), (4000, 4000));
        r.send_ack(10);
        // Reading 500 frees less than one MSS: silly window avoidance keeps
        // the window shut and no update goes out.
        r.read(500);
        assert_eq!(r.rx.window(), 0);
        assert_eq!(r.rx.ack_need(), AckNeed::None);
        // 1100 free: the window reopens, and the peer must hear of it.
        r.read(600);
        assert_eq!(r.rx.window(), 1100);
        assert_eq!(r.rx.ack_need(), AckNeed::Now);
        r.send_ack(11);
        assert_eq!(r.data(12, 4000, 1100), in_order(1100));
    }

    #[test]
    fn data_beyond_the_window_is_trimmed() {
        let mut r = Rx::new(0, 4000, 0);
        // One segment larger than the whole window.
        let a = r.data(1, 0, 5000);
        assert_eq!(
            a,
            Arrival {
                beyond_window: true,
                ..in_order(4000)
            }
        );
        assert_eq!(r.acks(), 4000);
        r.send_ack(1);
        r.read(4000);
        r.send_ack(2);
        // Out of order, straddling the right edge 8000.
        let a = r.data(3, 7500, 1000);
        assert_eq!(
            a,
            Arrival {
                beyond_window: true,
                ..out_of_order(500)
            }
        );
        assert_eq!(r.sacks(4), vec![(7500, 8000)]);
        // Wholly beyond.
        let a = r.data(4, 9000, 1000);
        assert_eq!(
            a,
            Arrival {
                beyond_window: true,
                ..Arrival::default()
            }
        );
        assert_eq!(r.rx.out_of_order_bytes(), 500);
    }

    #[test]
    fn fin_in_order() {
        let mut r = Rx::new(100, 64_000, 0);
        r.data(1, 0, 1000);
        r.send_ack(1);
        let a = r.fin(2, 1000, 500);
        assert_eq!(a, in_order(500));
        assert!(r.rx.fin_received());
        assert_eq!(r.rx.rcv_nxt(), 100 + 1 + 1500 + 1);
        assert_eq!(r.rx.ack_need(), AckNeed::Now);
        r.send_ack(2);
        assert!(!r.rx.at_eof());
        assert_eq!(r.read(2000), bytes(0, 1500));
        assert!(r.rx.at_eof());
        // No window updates after the FIN.
        assert_eq!(r.rx.ack_need(), AckNeed::None);
        // A retransmitted FIN (our ACK was lost) is a duplicate: ACK again.
        let again = r.fin(300, 1000, 500);
        assert!(again.duplicate && !again.in_order);
        assert_eq!(r.rx.ack_need(), AckNeed::Now);
        assert_eq!(r.rx.rcv_nxt(), 100 + 1 + 1500 + 1);
    }

    #[test]
    fn fin_out_of_order() {
        let mut r = Rx::new(100, 64_000, 0);
        let a = r.fin(1, 1000, 1000);
        assert_eq!(a, out_of_order(1000));
        assert!(!r.rx.fin_received());
        assert_eq!(r.acks(), 0);
        // A bare FIN beyond the hole is out of order too.
        let mut bare = Rx::new(100, 64_000, 0);
        assert_eq!(bare.fin(1, 500, 0), out_of_order(0));
        // The hole fills: data and FIN are in.
        let a = r.data(2, 0, 1000);
        assert!(a.in_order && a.filled_hole);
        assert!(r.rx.fin_received());
        assert_eq!(r.acks(), 2001);
        // Data past the FIN is not taken.
        let late = r.data(3, 2000, 1000);
        assert_eq!(late.new_bytes, 0);
        assert_eq!(r.read(5000), bytes(0, 2000));
        assert!(r.rx.at_eof());
    }

    #[test]
    fn bare_fin_is_taken_at_zero_window() {
        let mut r = Rx::new(0, 2000, 0);
        r.data(1, 0, 1000);
        r.data(2, 1000, 1000);
        r.send_ack(2);
        assert_eq!(r.rx.window(), 0);
        assert_eq!(r.fin(3, 2000, 0), in_order(0));
        assert!(r.rx.fin_received());
        assert_eq!(r.acks(), 2001);
    }

    #[test]
    fn sequence_wraps() {
        let irs = u32::MAX - 1000;
        let mut r = Rx::new(irs, 64_000, 0);
        r.data(1, 0, 800);
        assert_eq!(r.rx.rcv_nxt(), u32::MAX - 199);
        // Out of order across the wrap.
        r.data(2, 1500, 1000);
        assert_eq!(r.rx.sack_blocks(4), vec![(500, 1500)]);
        r.data(3, 800, 700);
        assert_eq!(r.rx.rcv_nxt(), 1500);
        assert_eq!(r.acks(), 2500);
        assert_eq!(r.read(10_000), bytes(0, 2500));
        // A retransmission from before the wrap is a duplicate.
        let dup = r.data(4, 0, 800);
        assert!(dup.duplicate);
        // A segment with the old SYN's sequence number and no payload does
        // nothing.
        assert_eq!(r.rx.on_segment(ms(5), irs, &[], false), Arrival::default());
        // Far beyond 2^32 bytes the offsets keep counting.
        let mut big = Rx::new(irs, 1 << 21, 0);
        let chunk = 1 << 20;
        let mut off = 0u64;
        while off < (1 << 32) + 12_345 {
            let a = big
                .rx
                .on_segment(ms(6), big.seq(off), &vec![0; chunk], false);
            assert_eq!(a.new_bytes as usize, chunk);
            big.rx.read(&mut vec![0; chunk]);
            big.send_ack(6);
            off += chunk as u64;
        }
        assert_eq!(big.rx.bytes_in_order(), off);
        assert_eq!(big.rx.rcv_nxt(), big.seq(off));
    }

    #[test]
    fn window_field_is_scaled_and_rounds_up_to_keep_the_edge() {
        let mut r = Rx::new(0, 1_000_000, 7);
        assert_eq!(r.rx.window_field(), 7812); // 999_936 bytes
        r.send_ack(0);
        assert_eq!(r.edge_shown(), 999_936);
        r.data(1, 0, 1000);
        // 999_000 free, rounded down: 7804 * 128 = 998_912, which would end
        // at 999_912 < 999_936; so round up.
        assert_eq!(r.rx.window_field(), 7805);
        assert!(r.edge_shown() >= 999_936);
        // An unscaled window caps at 65535.
        let wide = Rx::new(0, 1_000_000, 0);
        assert_eq!(wide.rx.window_field(), u16::MAX);
    }

    #[test]
    fn rounding_up_does_not_creep_past_the_buffer() {
        // Shift 7: the edge moves in steps of 128 bytes. A peer trickling
        // one byte per ACK into a receiver whose application never reads
        // meets a closed window within the buffer plus 127 bytes.
        let buffer = 10_000;
        let mut r = Rx::new(0, buffer, 7);
        r.send_ack(0);
        let mut t = 0;
        while r.rx.window_field() > 0 {
            t += 1;
            assert!(t < 20_000, "the window never closes");
            let off = r.rx.bytes_in_order();
            r.data(t, off, 1);
            r.send_ack(t);
        }
        assert!(r.rx.readable() < buffer + 128);
    }

    /// A tiny deterministic generator for the shuffled tests.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn shuffled_segments_with_duplicates_reassemble() {
        let mut rng = Lcg(42);
        let mut r = Rx::new(u32::MAX - 5000, 1 << 20, 0);
        // Segments of 1..1500 bytes covering 0..total.
        let mut segs = Vec::new();
        let mut off = 0;
        while off < 300_000 {
            let len = 1 + rng.next(1500);
            segs.push((off, len));
            off += len;
        }
        let total = off;
        // Shuffle, and send a fifth of them twice.
        for i in (1..segs.len()).rev() {
            let j = rng.next(i as u64 + 1) as usize;
            segs.swap(i, j);
        }
        let dups: Vec<_> = segs.iter().step_by(5).copied().collect();
        segs.extend(dups);
        let mut got = Vec::new();
        let mut sum_new = 0;
        for (t, &(o, l)) in segs.iter().enumerate() {
            let a = r.data(t as u64, o, l);
            sum_new += u64::from(a.new_bytes);
            for &(left, right) in &r.sacks(4) {
                assert!(left > r.acks() && left < right);
            }
            if rng.next(3) == 0 {
                got.extend(r.read(5000));
            }
            let edge = r.edge_shown();
            r.send_ack(t as u64);
            assert!(r.edge_shown() >= edge);
        }
        got.extend(r.read(total as usize));
        assert_eq!(sum_new, total);
        assert_eq!(got, bytes(0, total));
        assert_eq!(r.rx.out_of_order_bytes(), 0);
        assert!(r.sacks(4).is_empty());
        let records = r.rx.segment_records();
        assert!(records.iter().all(|s| s.readable_at.is_some()));
        assert_eq!(records.iter().map(|s| u64::from(s.len)).sum::<u64>(), total);
    }

    #[test]
    fn storage_stays_within_the_buffer() {
        // Random arrivals in a small buffer never hold more than the buffer
        // (plus the rounding of a scaled window), and the peer's view of the
        // right edge never moves left (by less than a scale unit when
        // scaled).
        for shift in [0u8, 7] {
            let slack = (1u64 << shift) - 1;
            let mut rng = Lcg(7);
            let buffer = 20_000;
            let mut r = Rx::new(0, buffer, shift);
            let mut edge = r.edge_shown();
            for t in 0..5000 {
                let off = r.rx.bytes_in_order() + rng.next(30_000);
                r.data(t, off, 1 + rng.next(1400));
                let stored = r.rx.readable() + r.rx.out_of_order_bytes();
                assert!(stored as u64 <= buffer as u64 + slack, "shift {shift}");
                if rng.next(4) == 0 {
                    r.read(rng.next(8000) as usize);
                }
                if rng.next(2) == 0 {
                    r.send_ack(t);
                    assert!(r.edge_shown() + slack >= edge, "shift {shift}");
                    edge = edge.max(r.edge_shown());
                }
            }
        }
    }
}
