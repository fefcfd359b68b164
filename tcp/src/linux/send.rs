//! The send side of one connection: the send buffer, the scoreboard of
//! segments in flight, and loss recovery.
//!
//! What it does, and where each rule comes from:
//! - **Scoreboard** (RFC 6675): every segment in flight with its send time,
//!   whether the peer SACKed it, whether it is deemed lost (and waiting to be
//!   resent), and whether it was ever retransmitted. `pipe` counts bytes
//!   neither SACKed nor deemed lost; a resent segment counts again until it
//!   is deemed lost again.
//! - **Loss detection**: RACK (RFC 8985, Linux's `tcp_rack_detect_loss`): a
//!   segment sent before the most recently delivered one is lost once
//!   `RACK.rtt + reo_wnd` has passed since it was sent. `reo_wnd` is
//!   Linux's `tcp_rack_reo_wnd`: zero in recovery or once three segments
//!   are SACKed, unless reordering was seen; else `min_rtt / 4`. As in
//!   Linux 6.18 with RACK on, no separate RFC 6675 DupThresh rule.
//! - **Tail loss probe** (RFC 8985 section 7): `PTO = 2 × SRTT` (plus a
//!   delayed-ACK allowance when one segment is in flight), capped by the
//!   RTO; it sends new data if there is any, else resends the last segment.
//! - **Fast recovery with PRR** (RFC 6937 as Linux's `tcp_cwnd_reduction`
//!   does it, in segments): on the first loss of an episode, congestion
//!   control reduces `ssthresh`; while in recovery each ACK sets cwnd to
//!   the segments in flight plus PRR's quota. Recovery ends when the
//!   cumulative ACK passes the highest sequence sent when it started.
//! - **RTO** (RFC 6298 timers, Linux's 200 ms floor, see `rtt`): on expiry,
//!   back off, cut `cwnd` to one segment, mark everything unSACKed lost and
//!   resend from the first hole.
//! - **Zero window**: when the peer's window is zero and data waits, a
//!   persist timer (RTO, backing off) sends a window probe, as Linux does, a
//!   segment with sequence `SND.UNA − 1` and no data, which the peer must
//!   answer with an ACK carrying its window.
//! - **Cwnd-limited** (Linux's `tcp_cwnd_validate` and
//!   `tcp_is_cwnd_limited`): cwnd grows on an ACK only if some send of the
//!   current window (until `snd_una` passes the `snd_nxt` of the last
//!   reset) found cwnd full, or, in slow start, if cwnd is below twice the
//!   most segments that were out in it.
//!
//! - **Delivery-rate sampling** (Linux's `tcp_rate.c`, for every
//!   controller; only a `cong_control` one, BBR, reads it): each send
//!   stamps the segment with the connection's `delivered` count, the time
//!   of the latest delivery and of the first send of the current flight,
//!   and whether the connection was application-limited
//!   (`tcp_rate_skb_sent`); each ACK takes the most recently sent segment
//!   it delivered (`tcp_rate_skb_delivered`) and makes a sample of the
//!   segments delivered since over max(send phase, ACK phase), invalid
//!   when shorter than the minimum RTT (`tcp_rate_gen`). A write that
//!   finds less than a segment unsent, cwnd not full and no loss waiting
//!   marks the connection application-limited until the data in flight
//!   then is delivered (`tcp_rate_check_app_limited`, from
//!   `tcp_sendmsg`).
//! - **Pacing** (only when the connection paces: `Pacing::On`, or BBR):
//!   see [`Pacer`]. Each data segment leaves at its earliest departure
//!   time, as Linux computes it in `tcp_update_skb_after_send`.
//!
//! Byte positions are `u64` stream offsets: offset 0 is the first data byte
//! (wire sequence `ISS + 1`). The connection converts to and from the wire.
//!
//! Left out, compared with Linux: TSO/GSO bursts (and TSO autosizing), the TLP-based loss
//! detection that reduces `cwnd` after a probe repaired a loss, RACK's
//! adaptive reordering window (`reo_wnd_steps`, grown by DSACKs), F-RTO,
//! undo of spurious recoveries (so no `prior_ssthresh`), and the cwnd
//! reductions after idle or application-limited periods
//! (`tcp_cwnd_restart`, `tcp_cwnd_application_limited`). Also different:
//! the lab runs RACK on every ACK and its reordering timer at the earliest
//! deadline, where Linux's `tcp_rack_mark_lost` runs only when the RACK
//! segment advanced and arms the timer at the latest deadline plus 2 ms;
//! and the lab arms a probe outside recovery even with SACKed or resent
//! segments out, where Linux's `tcp_schedule_loss_probe` wants the Open
//! or CWR state (not Disorder).

use std::collections::VecDeque;
use std::time::Duration;

use super::cc::{
    AckEvent, CaState, CongestionControl, RateSample, PACING_CA_RATIO, PACING_SS_RATIO,
};
use super::rtt::RttEstimator;
use super::scoreboard::{InFlight, Scoreboard, TxRate};

/// A delayed-ACK allowance added to the PTO when only one segment is in
/// flight (RFC 8985 section 7.2, `WCDelAckT`).
const WORST_CASE_DELACK: Duration = Duration::from_millis(200);
/// SACKed segments that make RACK's reordering window zero while no
/// reordering has been seen (Linux's initial `tp->reordering`,
/// `sysctl_tcp_reordering`; RACK's form of RFC 6675's `DupThresh`).
pub(crate) const DUP_THRESH: u64 = 3;
/// Smallest PTO Linux uses.
pub(crate) const MIN_PTO: Duration = Duration::from_millis(10);

/// Counters of the send side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SenderStats {
    /// Data segments sent, first transmissions and retransmissions.
    pub segments_sent: u64,
    /// Data bytes sent, including retransmissions.
    pub bytes_sent: u64,
    /// Data segments resent.
    pub retransmissions: u64,
    /// Segments resent in fast recovery (RACK or SACK detected loss).
    pub fast_retransmissions: u64,
    /// Retransmission timeouts.
    pub rtos: u64,
    /// Tail loss probes sent.
    pub tlps: u64,
    /// Fast-recovery episodes.
    pub recoveries: u64,
    /// Zero-window probes sent.
    pub window_probes: u64,
}

/// Data segments a connection sends before pacing spaces them: Linux's
/// `tcp_update_skb_after_send` leaves `sk_pacing_rate` out while
/// `data_segs_out < 10` ("Original sch_fq does not pace first 10 MSS"), so
/// the first ten leave back to back.
pub(crate) const UNPACED_SEGMENTS: u64 = 10;

/// Earliest departure times (EDT) of one paced connection, as Linux with
/// the fq qdisc (or BBR's internal pacing, `tcp_internal_pacing`) spaces
/// its data segments.
///
/// - **Rate**: without a controller rate of its own (BBR sets one), Linux's
///   `tcp_update_pacing_rate` (tcp_input.c), recomputed after every ACK
///   that found data outstanding and after the handshake's RTT sample:
///   `mss × max(cwnd, packets_out) / srtt` × 200 % while cwnd <
///   ssthresh / 2, else × 120 %. Before the first RTT sample the rate is
///   unlimited (Linux divides by srtt only when it has one).
/// - **Departure** (`tcp_wstamp_ns`): a segment leaves at `max(wstamp,
///   now)`; then, from the eleventh data segment on, wstamp advances by
///   `len / rate`, less `min(len / 2 / rate, credit)` where credit is how
///   late the segment left after its departure time ("OS jitter" in
///   `tcp_update_skb_after_send`). `len` is `skb->len`: the TCP header and
///   options plus payload.
/// - **Holding back**: no data segment (new, resent, probe) leaves before
///   wstamp; the sender asks to be polled then ([`Sender::poll_timeout`]).
///   Pure ACKs are never held, as Linux/fq do not pace them.
///
/// What the fq qdisc adds to that is not modelled, because with one flow
/// per host and EDT timestamps it changes no departure: its per-flow DRR
/// credit (`quantum` = 2 × MTU, a new flow's `initial_quantum` = 10 × MTU,
/// `fq_init` in net/sched/sch_fq.c) only orders flows against each other,
/// and `fq_dequeue` holds each packet until its `skb->tstamp`. Linux's TCP
/// hands fq segments ahead of their departure (TCP Small Queues allow
/// about 1 ms of them); here the stack keeps them until they leave, so a
/// segment counts as in flight from its departure, not from its queueing.
/// TSO autosizing (`tcp_tso_autosize`) is not modelled: every segment is
/// one MSS.
#[derive(Clone, Debug, Default)]
pub struct Pacer {
    /// `sk_pacing_rate`, bytes per second; `None` is unlimited (`~0UL`).
    rate: Option<u64>,
    /// `tcp_wstamp_ns`: the earliest departure of the next data segment.
    wstamp: Duration,
    /// `data_segs_out`: data segments sent so far.
    data_segs_out: u64,
    /// The last `poll_transmit` held data back until this time.
    held_until: Option<Duration>,
}

impl Pacer {
    /// Account a data segment of `len` bytes (`skb->len`) leaving at `now`
    /// (`__tcp_transmit_skb`, then `tcp_update_skb_after_send`).
    fn on_sent(&mut self, now: Duration, len: u64) {
        self.data_segs_out += 1;
        let prior = self.wstamp;
        self.wstamp = self.wstamp.max(now);
        match self.rate {
            Some(rate) if rate > 0 && self.data_segs_out >= UNPACED_SEGMENTS => {
                let len_ns = len.saturating_mul(1_000_000_000) / rate;
                let credit = u64::try_from((self.wstamp - prior).as_nanos()).unwrap_or(u64::MAX);
                let len_ns = len_ns - (len_ns / 2).min(credit);
                self.wstamp += Duration::from_nanos(len_ns);
            }
            _ => {}
        }
    }
}

/// What to send next, decided by the sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// Data `[start, end)` (a retransmission if `retransmission`), with FIN
    /// if `fin`.
    Data {
        /// First byte offset.
        start: u64,
        /// One past the last byte offset.
        end: u64,
        /// Carries the FIN after the data.
        fin: bool,
        /// Resends data already sent.
        retransmission: bool,
    },
    /// A zero-window probe (sequence `SND.UNA − 1`, no data).
    WindowProbe,
}

/// The send side of one connection.
#[derive(Debug)]
pub struct Sender {
    /// Bytes from `snd_una` to the end of what the application wrote.
    buf: VecDeque<u8>,
    capacity: usize,
    snd_una: u64,
    snd_nxt: u64,
    fin_queued: bool,
    fin_sent: bool,
    fin_acked: bool,
    flight: Scoreboard,
    /// The peer's receive window in bytes, measured from `snd_una`.
    peer_window: u64,
    mss: u64,
    rtt: RttEstimator,
    cc: Box<dyn CongestionControl>,
    in_recovery: bool,
    /// Recovery (or the loss episode after an RTO) ends when `snd_una`
    /// reaches this.
    recovery_point: u64,
    /// No new congestion response before `snd_una` passes this.
    episode_end: u64,
    /// Linux's `prr_delivered`: segments delivered (SACKed or
    /// cumulatively acknowledged) since recovery started.
    prr_delivered: u64,
    /// Linux's `prr_out`: segments sent since recovery started.
    prr_out: u64,
    /// Linux's `prior_cwnd`: cwnd in segments when recovery started.
    prior_cwnd: u64,
    /// Linux's `reord_seen`: times reordering was detected (a segment
    /// never resent delivered below the highest SACKed one).
    reord_seen: u64,
    rack_xmit_ts: Option<Duration>,
    /// The send order of the most recently sent delivered segment.
    rack_order: u64,
    /// Sends so far, numbering [`InFlight::send_order`].
    sends: u64,
    rack_rtt: Duration,
    rto_at: Option<Duration>,
    pto_at: Option<Duration>,
    reorder_at: Option<Duration>,
    persist_at: Option<Duration>,
    persist_backoff: u32,
    probe_due: bool,
    tlp_due: bool,
    /// A tail loss probe is out and no ACK has arrived since: no new PTO.
    tlp_out: bool,
    /// Recovering from an RTO (Linux's Loss state): no TLP until `snd_una`
    /// passes `episode_end`.
    rto_recovery: bool,
    /// Linux's `is_cwnd_limited`: a send in the current window left cwnd
    /// full (see [`Sender::cwnd_validate`]).
    is_cwnd_limited: bool,
    /// Linux's `max_packets_out`: the most segments out (sent and not
    /// cumulatively acknowledged) in the current window.
    max_packets_out: u64,
    /// Linux's `cwnd_usage_seq`: the current window of cwnd-usage tracking
    /// ends when `snd_una` reaches this.
    cwnd_usage_seq: u64,
    /// Earliest departure times, if the connection paces.
    pacer: Option<Pacer>,
    /// `tp->delivered`: segments delivered (ACKed or SACKed), each once.
    delivered: u64,
    /// `tp->delivered_mstamp`: when the latest delivery happened.
    delivered_mstamp: Duration,
    /// `tp->first_tx_mstamp`: the send time of the flight's first segment,
    /// then of the newest segment a rate sample used.
    first_tx_mstamp: Duration,
    /// `tp->app_limited`: 0, or the `delivered` count after which the
    /// connection stops being application-limited.
    app_limited: u64,
    /// `tp->lost`: segments marked lost so far.
    lost: u64,
    /// `tcp_min_rtt`: the least RTT of the newest delivered segment (the
    /// `ca_rtt_us` samples, to the nanosecond).
    ca_min_rtt: Option<Duration>,
    stats: SenderStats,
}

impl Sender {
    /// A sender with a `capacity`-byte buffer, segments of `mss` payload
    /// bytes, the peer's initial window, and a congestion controller;
    /// `paces` spaces its data segments ([`Pacer`]).
    pub fn new(
        capacity: usize,
        mss: u64,
        peer_window: u64,
        rtt: RttEstimator,
        cc: Box<dyn CongestionControl>,
        paces: bool,
    ) -> Sender {
        Sender {
            buf: VecDeque::new(),
            capacity,
            snd_una: 0,
            snd_nxt: 0,
            fin_queued: false,
            fin_sent: false,
            fin_acked: false,
            flight: Scoreboard::default(),
            peer_window,
            mss,
            rtt,
            cc,
            in_recovery: false,
            recovery_point: 0,
            episode_end: 0,
            prr_delivered: 0,
            prr_out: 0,
            prior_cwnd: 0,
            reord_seen: 0,
            rack_xmit_ts: None,
            rack_order: 0,
            sends: 0,
            rack_rtt: Duration::ZERO,
            rto_at: None,
            pto_at: None,
            reorder_at: None,
            persist_at: None,
            persist_backoff: 0,
            probe_due: false,
            tlp_due: false,
            tlp_out: false,
            rto_recovery: false,
            is_cwnd_limited: false,
            max_packets_out: 0,
            cwnd_usage_seq: 0,
            pacer: paces.then(Pacer::default),
            delivered: 0,
            delivered_mstamp: Duration::ZERO,
            first_tx_mstamp: Duration::ZERO,
            app_limited: 0,
            lost: 0,
            ca_min_rtt: None,
            stats: SenderStats::default(),
        }
    }

    // ---- getters ----

    /// First unacknowledged offset.
    pub fn snd_una(&self) -> u64 {
        self.snd_una
    }

    /// Next new offset to send.
    pub fn snd_nxt(&self) -> u64 {
        self.snd_nxt
    }

    /// End of the data the application wrote.
    fn data_end(&self) -> u64 {
        self.snd_una + self.buf.len() as u64
    }

    /// Room left in the send buffer.
    pub fn free_space(&self) -> usize {
        self.capacity.saturating_sub(self.buf.len())
    }

    /// Whether [`Sender::write`] would take at least one byte now.
    pub fn accepts_data(&self) -> bool {
        !self.fin_queued && self.free_space() > 0
    }

    #[cfg(test)]
    /// Payload bytes per full segment.
    pub fn mss(&self) -> u64 {
        self.mss
    }

    /// The congestion window.
    pub fn cwnd(&self) -> u64 {
        self.cc.cwnd()
    }

    /// The pacing rate in bytes per second, if the connection paces and
    /// has a rate (unlimited before the first RTT sample).
    pub fn pacing_rate(&self) -> Option<u64> {
        self.pacer.as_ref().and_then(|p| p.rate)
    }

    /// The congestion controller's own state, by name.
    pub fn cc_state(&self) -> Vec<(&'static str, u64)> {
        self.cc.state()
    }

    #[cfg(test)]
    /// The congestion controller.
    pub fn cc(&self) -> &dyn CongestionControl {
        &*self.cc
    }

    /// The RTT estimator.
    pub fn rtt(&self) -> &RttEstimator {
        &self.rtt
    }

    /// Counters.
    pub fn stats(&self) -> SenderStats {
        self.stats
    }

    /// Bytes in flight per RFC 6675: not SACKed and not deemed lost (a
    /// resent segment is in flight again until deemed lost again).
    pub fn pipe(&self) -> u64 {
        self.flight.pipe()
    }

    /// Segments in flight (Linux's `tcp_packets_in_flight`): sent, neither
    /// SACKed nor deemed lost, a resent one counting again.
    fn packets_in_flight(&self) -> u64 {
        self.flight.packets_in_flight()
    }

    /// Whether cwnd is full: as many segments in flight as cwnd holds
    /// (Linux counts cwnd in segments, whatever their length).
    fn cwnd_full(&self) -> bool {
        self.packets_in_flight() * self.mss >= self.cc.cwnd()
    }

    /// Linux's `tcp_cwnd_validate` (tcp_output.c), its tracking part, run
    /// where `tcp_write_xmit` runs it: after new data went out, or when
    /// data waits and cwnd is full. Within one window of data (until
    /// `snd_una` passes the `snd_nxt` of the last reset) it remembers
    /// whether any send found cwnd full, else the most segments that were
    /// out.
    fn cwnd_validate(&mut self, is_cwnd_limited: bool) {
        let packets_out = self.flight.len() as u64;
        if self.snd_una >= self.cwnd_usage_seq
            || is_cwnd_limited
            || (!self.is_cwnd_limited && packets_out > self.max_packets_out)
        {
            self.is_cwnd_limited = is_cwnd_limited;
            self.max_packets_out = packets_out;
            self.cwnd_usage_seq = self.snd_nxt;
        }
    }

    /// Linux's `tcp_is_cwnd_limited` (include/net/tcp.h), which CUBIC's and
    /// Reno's `cong_avoid` ask before growing cwnd: cwnd was full at some
    /// send of the current window, or, in slow start, cwnd is below twice
    /// the most segments out in it (an application-limited sender may
    /// still double what it used).
    fn is_cwnd_limited(&self) -> bool {
        self.is_cwnd_limited
            || (self.cc.in_slow_start() && self.cc.cwnd() < 2 * self.max_packets_out * self.mss)
    }

    /// Whether the FIN was sent.
    pub fn fin_sent(&self) -> bool {
        self.fin_sent
    }

    /// Whether the FIN was acknowledged.
    pub fn fin_acked(&self) -> bool {
        self.fin_acked
    }

    /// The bytes `[start, end)` of the stream, which must still be buffered.
    pub fn bytes(&self, start: u64, end: u64) -> Vec<u8> {
        let from = (start - self.snd_una) as usize;
        let to = (end - self.snd_una) as usize;
        self.buf.range(from..to).copied().collect()
    }

    // ---- application calls ----

    /// Queue bytes; returns how many fit.
    pub fn write(&mut self, data: &[u8]) -> usize {
        if self.fin_queued {
            return 0;
        }
        self.rate_check_app_limited();
        let n = data.len().min(self.free_space());
        self.buf.extend(&data[..n]);
        n
    }

    /// Send a FIN after the queued data.
    pub fn close(&mut self) {
        self.fin_queued = true;
    }

    // ---- inputs ----

    /// An RTT sample measured by the connection (from the handshake or a
    /// timestamp echo).
    pub fn on_rtt_sample(&mut self, rtt: Duration) {
        self.rtt.on_sample(rtt);
        self.ca_min_rtt = Some(self.ca_min_rtt.map_or(rtt, |m| m.min(rtt)));
        self.update_pacing_rate();
    }

    /// The handshake completed at `now`: the controller starts (Linux's
    /// `tcp_init_transfer` runs its `init`).
    pub fn on_established(&mut self, now: Duration) {
        self.cc
            .on_established(now, self.rtt.srtt(), self.ca_min_rtt);
        self.update_pacing_rate();
    }

    /// Linux's `tcp_rate_check_app_limited` (tcp_rate.c), run when the
    /// application writes: less than a segment unsent, nothing queued below
    /// TCP (always true here: paced segments wait in the send buffer), cwnd
    /// not full and no lost segment waiting to be resent mark the
    /// connection application-limited until what is in flight now is
    /// delivered.
    fn rate_check_app_limited(&mut self) {
        let unsent = self.data_end() - self.snd_nxt;
        let in_flight = self.packets_in_flight();
        if unsent < self.mss && in_flight * self.mss < self.cc.cwnd() && !self.flight.any_lost() {
            self.app_limited = (self.delivered + in_flight).max(1);
        }
    }

    /// Linux's `tcp_rate_skb_sent`: the delivery state a segment sent at
    /// `now` carries. A send with nothing outstanding starts a new flight.
    fn rate_skb_sent(&mut self, now: Duration) -> TxRate {
        if self.flight.is_empty() {
            self.first_tx_mstamp = now;
            self.delivered_mstamp = now;
        }
        TxRate {
            first_tx_mstamp: self.first_tx_mstamp,
            delivered_mstamp: Some(self.delivered_mstamp),
            delivered: self.delivered,
            is_app_limited: self.app_limited != 0,
        }
    }

    /// Linux's `tcp_update_pacing_rate` (tcp_input.c), when the connection
    /// paces: the controller's own rate if it sets one (BBR), else
    /// `mss × max(cwnd, packets_out) / srtt` at 200 % while cwnd <
    /// ssthresh / 2, else at 120 %; unlimited before the first RTT sample.
    fn update_pacing_rate(&mut self) {
        let Some(pacer) = self.pacer.as_mut() else {
            return;
        };
        if let Some(rate) = self.cc.own_pacing_rate() {
            pacer.rate = Some(rate);
            return;
        }
        let Some(srtt) = self.rtt.srtt() else {
            pacer.rate = None;
            return;
        };
        let cwnd = self.cc.cwnd() / self.mss;
        let ssthresh = self.cc.ssthresh() / self.mss;
        let ratio = if cwnd < ssthresh / 2 {
            PACING_SS_RATIO
        } else {
            PACING_CA_RATIO
        };
        let packets = cwnd.max(self.flight.len() as u64);
        let srtt_us = u64::try_from(srtt.as_micros()).unwrap_or(u64::MAX).max(1);
        // mss × ratio / 100 per srtt, in bytes per second.
        let rate = u128::from(self.mss) * u128::from(packets) * u128::from(ratio) * 10_000
            / u128::from(srtt_us);
        pacer.rate = Some(u64::try_from(rate).unwrap_or(u64::MAX));
    }

    /// An acknowledgement arrived: cumulative ACK at offset `ack` (the FIN
    /// counts as one offset past the data), the peer's window in bytes, SACK
    /// blocks as offsets, and an RTT sample from the timestamp echo if the
    /// connection has one. Returns true if the ACK acknowledged new data.
    pub fn on_ack(
        &mut self,
        now: Duration,
        ack: u64,
        window: u64,
        sack: &[(u64, u64)],
        ts_rtt: Option<Duration>,
    ) -> bool {
        let fin_offset = self.data_end();
        let highest = if self.fin_sent {
            self.snd_nxt + 1
        } else {
            self.snd_nxt
        };
        if ack > highest || ack < self.snd_una {
            return false;
        }
        let in_flight_before = self.pipe();
        let prior_packets = self.flight.len();
        let prior_in_flight = self.packets_in_flight();
        let prior_snd_una = self.snd_una;
        self.peer_window = window;
        if window > 0 {
            self.persist_at = None;
            self.persist_backoff = 0;
        } else if self.has_unsent() && self.persist_at.is_none() {
            self.persist_at = Some(now + self.rtt.rto());
        }

        let mut delivered = 0u64;
        let mut delivered_segments = 0u64;
        let mut newest_delivered: Option<InFlight> = None;
        // Send times of the newest newly SACKed and the newest cumulatively
        // acknowledged segment never resent, for Linux's `ca_rtt_us`.
        let mut newest_sacked_at: Option<Duration> = None;
        let mut newest_acked_at: Option<Duration> = None;
        let mut resent_acked = false;
        // Linux's prior_fack (tcp_ack): the end of the highest SACKed
        // segment before this ACK, else snd_una (tcp_highest_sack_seq). A
        // segment never resent that is delivered below it arrived out of
        // order (tcp_sacktag_one, tcp_clean_rtx_queue, then
        // tcp_check_sack_reordering counts it in reord_seen).
        let prior_fack = self.flight.highest_sack_end().unwrap_or(self.snd_una);
        let mut reordered = false;
        // tcp_rate_skb_delivered: the most recently sent delivered segment
        // that still carries its delivery state.
        let mut rate_from: Option<InFlight> = None;
        let rate_note = |seg: &InFlight, best: &mut Option<InFlight>| {
            if seg.tx.delivered_mstamp.is_some()
                && best.is_none_or(|b| seg.send_order > b.send_order)
            {
                *best = Some(*seg);
            }
        };
        // RACK orders segments by when they were sent (RFC 8985 section
        // 6.2; Linux's tcp_rack_sent_after on microsecond stamps).
        let note = |seg: &InFlight, newest: &mut Option<InFlight>| {
            if newest.is_none_or(|n| seg.send_order > n.send_order) {
                *newest = Some(*seg);
            }
        };
        // SACKed segments.
        // The segments a block covers are found by binary search; within
        // a block they are visited in sequence order, blocks in the ACK's
        // order.
        for &(left, right) in sack {
            for i in self.flight.covered(left, right) {
                if self.flight.get(i).sacked {
                    continue;
                }
                let seg = self.flight.mark_sacked(i);
                delivered += seg.len();
                delivered_segments += 1;
                if !seg.retransmitted {
                    newest_sacked_at = newest_sacked_at.max(Some(seg.sent_at));
                    reordered |= seg.start < prior_fack;
                }
                note(&seg, &mut newest_delivered);
                rate_note(&seg, &mut rate_from);
            }
        }
        // Cumulatively acknowledged segments.
        let advanced = ack > self.snd_una;
        let mut karn_rtt = None;
        while let Some(seg) = self.flight.pop_acked(ack) {
            if !seg.sacked {
                delivered += seg.len();
                delivered_segments += 1;
                note(&seg, &mut newest_delivered);
                rate_note(&seg, &mut rate_from);
                if seg.retransmitted {
                    resent_acked = true;
                } else {
                    karn_rtt = Some(now - seg.sent_at);
                    newest_acked_at = newest_acked_at.max(Some(seg.sent_at));
                    reordered |= seg.start < prior_fack;
                }
            }
        }
        if advanced {
            let data_acked = ack.min(fin_offset) - self.snd_una;
            self.buf.drain(..data_acked as usize);
            self.snd_una += data_acked;
            if self.fin_sent && ack == fin_offset + 1 {
                self.fin_acked = true;
            }
            self.rtt.reset_backoff();
            self.pto_at = None;
            self.tlp_out = false;
            if self.snd_una >= self.episode_end {
                self.rto_recovery = false;
            }
        }
        // RTT: the timestamp echo when there is one, else Karn's rule.
        let sample = if advanced { ts_rtt.or(karn_rtt) } else { None };
        if let Some(rtt) = sample {
            self.rtt.on_sample(rtt);
        }
        // Linux's ca_rtt_us (tcp_clean_rtx_queue, tcp_ack_update_rtt): the
        // newest SACKed segment's RTT, else the newest cumulatively ACKed
        // one's unless resent data was ACKed too, else the timestamp echo's.
        let newest_rtt = newest_sacked_at
            .or(newest_acked_at.filter(|_| !resent_acked))
            .map(|sent| now - sent)
            .or(if advanced { ts_rtt } else { None });
        if let Some(rtt) = newest_rtt {
            self.ca_min_rtt = Some(self.ca_min_rtt.map_or(rtt, |m| m.min(rtt)));
        }
        #[cfg(test)]
        debug_assert!(self.flight.is_consistent(), "{:?}", self.flight);
        if let Some(seg) = rate_from {
            // Record the send time of the most recently delivered segment.
            self.first_tx_mstamp = seg.sent_at;
        }

        // RACK: remember the most recently sent delivered segment.
        if let Some(seg) = newest_delivered {
            let rtt = now - seg.sent_at;
            // A retransmitted segment acked faster than min_rtt was
            // delivered by its earlier transmission: ambiguous, skip.
            let ambiguous = seg.retransmitted && self.rtt.min_rtt().is_some_and(|m| rtt < m);
            if !ambiguous && (self.rack_xmit_ts.is_none() || seg.send_order > self.rack_order) {
                self.rack_xmit_ts = Some(seg.sent_at);
                self.rack_order = seg.send_order;
                self.rack_rtt = rtt;
            }
        }
        if reordered {
            self.reord_seen += 1;
        }
        // tcp_fastretrans_alert: recovery ends when snd_una reaches the
        // snd_nxt of its start (high_seq), before this ACK's loss detection;
        // tcp_end_cwnd_reduction sets cwnd = ssthresh.
        if self.in_recovery && self.snd_una >= self.recovery_point {
            self.in_recovery = false;
            self.cc.on_recovery_end(now);
        }
        let newly_lost = self.detect_losses(now);

        // Congestion response.
        if newly_lost > 0 {
            self.maybe_enter_recovery(now, in_flight_before);
        }
        let ev = AckEvent {
            now,
            acked: delivered,
            segments: delivered_segments,
            rtt_sample: sample,
            newest_rtt,
            srtt: self.rtt.srtt(),
            min_rtt: self.rtt.min_rtt(),
            snd_una: self.snd_una,
            snd_nxt: self.snd_nxt,
            app_limited: !self.is_cwnd_limited(),
        };
        self.delivered += delivered_segments;
        let rs = self.rate_gen(
            now,
            rate_from,
            delivered_segments,
            newly_lost,
            newest_rtt,
            prior_in_flight,
        );
        // tcp_rate_gen's is_ack_delayed (FLAG_ACK_MAYBE_DELAYED in
        // tcp_clean_rtx_queue): one short segment acknowledged alone.
        let rs = RateSample {
            is_ack_delayed: delivered_segments == 1
                && sack.is_empty()
                && advanced
                && self.snd_una - prior_snd_una < self.mss
                && rs.prior_delivered + 1 == self.delivered,
            ..rs
        };
        if self.cc.has_cong_control() {
            // tcp_cong_control hands a cong_control controller every ACK
            // that found data outstanding; no PRR, no cwnd growth here.
            if prior_packets > 0 && self.cc.cong_control(&rs) {
                self.app_limited = (self.delivered + self.packets_in_flight()).max(1);
            }
        } else if self.in_recovery {
            // tcp_cong_control: PRR while in recovery, else cwnd growth
            // (also on the ACK that ended recovery).
            self.cc.on_ack_in_recovery(&ev);
            self.cwnd_reduction(delivered_segments, newly_lost, advanced);
        } else if delivered > 0 {
            self.cc.on_ack(&ev);
        }
        // tcp_cong_control ends with tcp_update_pacing_rate; tcp_ack skips
        // it when nothing was outstanding (its `no_queue` path).
        if prior_packets > 0 {
            self.update_pacing_rate();
        }

        // Timers.
        let fin_outstanding = self.fin_sent && !self.fin_acked;
        if self.flight.is_empty() && !fin_outstanding {
            self.rto_at = None;
            self.pto_at = None;
        } else if advanced {
            self.rto_at = Some(now + self.rtt.rto());
            self.arm_pto(now);
        }
        advanced
    }

    /// Linux's `tcp_rate_gen` (tcp_rate.c): this ACK's rate sample, from
    /// the most recently sent segment it delivered (`from`), the segments
    /// it delivered and marked lost, and its RTT sample.
    fn rate_gen(
        &mut self,
        now: Duration,
        from: Option<InFlight>,
        acked_sacked: u64,
        losses: u64,
        rtt: Option<Duration>,
        prior_in_flight: u64,
    ) -> RateSample {
        if self.app_limited != 0 && self.delivered > self.app_limited {
            self.app_limited = 0;
        }
        if acked_sacked > 0 {
            self.delivered_mstamp = now;
        }
        let ca_state = if self.rto_recovery {
            CaState::Loss
        } else if self.in_recovery {
            CaState::Recovery
        } else {
            CaState::Open
        };
        let edt = self.pacer.as_ref().map_or(now, |p| p.wstamp.max(now));
        let mut rs = RateSample {
            acked_sacked,
            losses,
            rtt,
            prior_in_flight,
            in_flight: self.packets_in_flight(),
            tp_delivered: self.delivered,
            tp_lost: self.lost,
            delivered_mstamp: self.delivered_mstamp,
            ca_state,
            edt,
            srtt: self.rtt.srtt(),
            ..RateSample::empty(now)
        };
        let Some(seg) = from else {
            return rs;
        };
        let Some(prior_mstamp) = seg.tx.delivered_mstamp else {
            return rs;
        };
        rs.prior_delivered = seg.tx.delivered;
        rs.is_app_limited = seg.tx.is_app_limited;
        rs.delivered = Some(self.delivered - seg.tx.delivered);
        // The send phase and the ACK phase of the window; the longer one.
        let snd = seg.sent_at.saturating_sub(seg.tx.first_tx_mstamp);
        let ack = now.saturating_sub(prior_mstamp);
        let interval = snd.max(ack);
        rs.interval = match self.ca_min_rtt {
            Some(min_rtt) if interval < min_rtt => None,
            _ => Some(interval),
        };
        rs
    }

    /// Start fast recovery after a newly detected loss, unless recovery or
    /// the loss episode of an RTO is already under way (one congestion
    /// response per episode). Returns whether recovery started.
    fn maybe_enter_recovery(&mut self, now: Duration, in_flight: u64) -> bool {
        if self.in_recovery || self.snd_una < self.episode_end {
            return false;
        }
        self.in_recovery = true;
        self.stats.recoveries += 1;
        self.recovery_point = self.snd_nxt;
        self.episode_end = self.snd_nxt;
        // tcp_init_cwnd_reduction: prior_cwnd before ssthresh is reduced.
        self.prior_cwnd = self.cc.cwnd() / self.mss;
        self.prr_delivered = 0;
        self.prr_out = 0;
        self.cc.on_congestion_event(now, in_flight);
        true
    }

    /// Linux's `tcp_cwnd_reduction` (tcp_input.c), PRR in segments: on an
    /// ACK in recovery that delivered `newly_acked_sacked` segments and
    /// newly marked `newly_lost` lost, sets cwnd = in flight + `sndcnt`.
    /// While more than ssthresh is in flight, `sndcnt` keeps the sends at
    /// ssthresh / prior_cwnd of the deliveries; below it, PRR-SSRB sends
    /// what was delivered, one more when snd_una advanced and nothing was
    /// newly lost, up to ssthresh. The first send of a recovery is always
    /// allowed (the fast retransmit). An ACK that delivered nothing leaves
    /// cwnd alone.
    fn cwnd_reduction(&mut self, newly_acked_sacked: u64, newly_lost: u64, una_advanced: bool) {
        if newly_acked_sacked == 0 || self.prior_cwnd == 0 {
            return;
        }
        let in_flight = self.packets_in_flight() as i64;
        let ssthresh = (self.cc.ssthresh() / self.mss) as i64;
        let delta = ssthresh - in_flight;
        self.prr_delivered += newly_acked_sacked;
        let prr_delivered = self.prr_delivered as i64;
        let prr_out = self.prr_out as i64;
        let prior_cwnd = self.prior_cwnd as i64;
        let mut sndcnt = if delta < 0 {
            (ssthresh * prr_delivered + prior_cwnd - 1) / prior_cwnd - prr_out
        } else {
            let mut n = (prr_delivered - prr_out).max(newly_acked_sacked as i64);
            if una_advanced && newly_lost == 0 {
                n += 1;
            }
            n.min(delta)
        };
        sndcnt = sndcnt.max(if self.prr_out > 0 { 0 } else { 1 });
        self.cc
            .set_cwnd((in_flight + sndcnt).max(0) as u64 * self.mss);
    }

    /// Linux's `tcp_rack_reo_wnd` (tcp_recovery.c): until reordering has
    /// been seen, no reordering window in recovery (or after an RTO) or
    /// once `DUP_THRESH` segments are SACKed (Linux's `tp->reordering`,
    /// RACK's stand-in for the DupThresh rule); otherwise min_rtt / 4,
    /// capped by SRTT.
    fn rack_reo_wnd(&self) -> Duration {
        if self.reord_seen == 0 {
            if self.in_recovery || self.rto_recovery {
                return Duration::ZERO;
            }
            let sacked_out = self.flight.sacked_out();
            if sacked_out >= DUP_THRESH {
                return Duration::ZERO;
            }
        }
        match (self.rtt.min_rtt(), self.rtt.srtt()) {
            (Some(min_rtt), Some(srtt)) => (min_rtt / 4).min(srtt),
            _ => Duration::ZERO,
        }
    }

    /// RACK (Linux's `tcp_rack_detect_loss`): mark lost each segment sent
    /// before the most recently delivered one once `RACK.rtt + reo_wnd`
    /// has passed since it was sent; returns how many were newly marked.
    /// Arms the reordering timer for those not yet due. (Linux 6.18 with
    /// RACK on runs no RFC 6675 DupThresh rule besides.)
    fn detect_losses(&mut self, now: Duration) -> u64 {
        self.reorder_at = None;
        let reo_wnd = self.rack_reo_wnd();
        let mut newly = 0;
        if self.rack_xmit_ts.is_none() {
            return 0;
        }
        // In sequence order, a segment never resent was sent after every
        // segment before it was first sent, and every segment after it was
        // last sent after it. So the first such segment (neither SACKed
        // nor lost) that was sent after the RACK segment, or is not due
        // yet, ends the walk: every later one is too, with a later
        // deadline. Which segments are marked and the reordering
        // timer's deadline are those of a walk over every segment.
        for i in 0..self.flight.len() {
            let seg = self.flight.get(i);
            if seg.sacked || seg.lost {
                continue;
            }
            let last = !seg.retransmitted;
            if seg.send_order >= self.rack_order {
                if last {
                    break;
                }
                continue;
            }
            let deadline = seg.sent_at + self.rack_rtt + reo_wnd;
            if now >= deadline {
                self.flight.mark_lost(i);
                newly += 1;
            } else {
                self.reorder_at = Some(self.reorder_at.map_or(deadline, |d| d.min(deadline)));
                if last {
                    break;
                }
            }
        }
        self.lost += newly;
        newly
    }

    fn arm_pto(&mut self, now: Duration) {
        let Some(srtt) = self.rtt.srtt() else {
            self.pto_at = None;
            return;
        };
        if self.in_recovery || self.rto_recovery || self.flight.is_empty() || self.tlp_out {
            self.pto_at = None;
            return;
        }
        let mut pto = (srtt * 2).max(MIN_PTO);
        if self.flight.len() == 1 {
            pto += WORST_CASE_DELACK;
        }
        let pto = pto.min(self.rtt.rto());
        self.pto_at = Some(now + pto);
    }

    fn has_unsent(&self) -> bool {
        self.snd_nxt < self.data_end() || (self.fin_queued && !self.fin_sent)
    }

    // ---- timers ----

    /// The earliest timer.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let paced = self.pacer.as_ref().and_then(|p| p.held_until);
        [
            self.rto_at,
            self.pto_at,
            self.reorder_at,
            self.persist_at,
            paced,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Run the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.reorder_at.is_some_and(|t| now >= t) {
            // tcp_rack_reo_timeout: entering recovery here reduces cwnd as
            // if one segment had been delivered.
            let in_flight = self.pipe();
            if self.detect_losses(now) > 0 && self.maybe_enter_recovery(now, in_flight) {
                self.cwnd_reduction(1, 0, false);
            }
        }
        // As in Linux, the probe timer stands in for the RTO timer: when both
        // are due, the probe goes first.
        let pto_first = match (self.pto_at, self.rto_at) {
            (Some(p), Some(r)) => p <= r,
            (Some(_), None) => true,
            _ => false,
        };
        if self.rto_at.is_some_and(|t| now >= t) && !pto_first {
            self.on_rto(now);
        } else if self.pto_at.is_some_and(|t| now >= t) {
            self.pto_at = None;
            self.tlp_due = true;
            self.tlp_out = true;
            self.rto_at = Some(now + self.rtt.rto());
        }
        if self.persist_at.is_some_and(|t| now >= t) {
            self.probe_due = true;
            self.persist_backoff += 1;
            let backoff = self.rtt.rto() * 2u32.saturating_pow(self.persist_backoff);
            self.persist_at = Some(now + backoff.min(super::rtt::MAX_RTO));
        }
    }

    fn on_rto(&mut self, now: Duration) {
        self.stats.rtos += 1;
        let in_flight = self.pipe();
        self.rtt.back_off();
        for i in 0..self.flight.len() {
            let seg = self.flight.get(i);
            if !seg.sacked && !seg.lost {
                self.flight.mark_lost(i);
                self.lost += 1;
            }
        }
        self.cc.on_rto(now, in_flight);
        self.in_recovery = false;
        self.rto_recovery = true;
        self.episode_end = self.snd_nxt;
        self.pto_at = None;
        self.reorder_at = None;
        self.rto_at = Some(now + self.rtt.rto());
        // An unacknowledged FIN alone is resent too.
        if self.flight.is_empty() && self.fin_sent && !self.fin_acked {
            self.fin_sent = false;
        }
    }

    // ---- outputs ----

    /// The next segment to send at `now`, if the windows (and, when the
    /// connection paces, its next departure time) allow one. `max_payload`
    /// is the payload that fits in one packet with the options the
    /// connection will add. Pacing spaces segments by their payload, as
    /// Linux's does (the write queue's `skb->len`).
    pub fn poll_transmit(&mut self, now: Duration, max_payload: u64) -> Option<Transmit> {
        let max_payload = max_payload.min(self.mss).max(1);
        if self.probe_due {
            self.probe_due = false;
            if self.peer_window == 0 && self.has_unsent() {
                self.stats.window_probes += 1;
                return Some(Transmit::WindowProbe);
            }
        }
        let t = self.poll_data(now, max_payload);
        if let (Some(Transmit::Data { start, end, .. }), Some(pacer)) = (&t, self.pacer.as_mut()) {
            // Linux spaces departures by the write queue's skb (`oskb` in
            // `__tcp_transmit_skb`), whose length is the payload: the TCP
            // header is pushed on the clone that leaves.
            pacer.on_sent(now, end - start);
        }
        t
    }

    /// Whether pacing holds data back at `now` (Linux's `tcp_pacing_check`
    /// at the top of `tcp_write_xmit` and `tcp_xmit_retransmit_queue`):
    /// data waits to be sent and the next departure time is still to come.
    /// Then the sender asks to be polled at that time.
    fn paced(&mut self, now: Duration) -> bool {
        let waiting = self.tlp_due || self.has_unsent() || self.flight.any_lost();
        let Some(pacer) = self.pacer.as_mut() else {
            return false;
        };
        pacer.held_until = None;
        if waiting && pacer.wstamp > now {
            pacer.held_until = Some(pacer.wstamp);
            return true;
        }
        false
    }

    /// [`Sender::poll_transmit`] once any window probe is out.
    fn poll_data(&mut self, now: Duration, max_payload: u64) -> Option<Transmit> {
        if self.paced(now) {
            // tcp_write_xmit still runs tcp_cwnd_validate after its loop.
            if self.has_unsent() && self.cwnd_full() {
                self.cwnd_validate(true);
            }
            return None;
        }
        let tlp = std::mem::take(&mut self.tlp_due);
        let pipe = self.pipe();
        // In recovery cwnd is set by PRR in segments, and Linux's
        // tcp_cwnd_test counts segments in flight against it.
        let cwnd_room = if self.in_recovery {
            self.cc
                .cwnd()
                .saturating_sub(self.packets_in_flight() * self.mss)
        } else {
            self.cc.cwnd().saturating_sub(pipe)
        };

        // 1. Lost segments, oldest first.
        if let Some(i) = self.flight.first_lost() {
            // A segment longer than fits now (it left without options that
            // this packet carries, SACK blocks say) is cut to fit, as Linux's
            // tcp_retransmit_skb cuts the skb to tcp_current_mss with
            // tcp_fragment; the rest keeps its marks and goes next.
            if self.flight.get(i).len() > max_payload {
                self.flight.split(i, max_payload);
            }
            let len = self.flight.get(i).len();
            if cwnd_room >= len.min(self.mss) || tlp {
                let tx = self.rate_skb_sent(now);
                self.flight.resent(i, now, self.sends, tx);
                let seg = self.flight.get(i);
                let (start, end) = (seg.start, seg.end);
                self.note_sent(now, len, true, pipe);
                if self.in_recovery {
                    self.stats.fast_retransmissions += 1;
                }
                if tlp {
                    self.stats.tlps += 1;
                }
                let fin = self.fin_sent && end == self.data_end() && !self.fin_acked;
                return Some(Transmit::Data {
                    start,
                    end,
                    fin,
                    retransmission: true,
                });
            }
            if !tlp {
                if self.has_unsent() && self.cwnd_full() {
                    self.cwnd_validate(true);
                }
                return None;
            }
        }

        // 2. New data (and the FIN).
        let window_end = self.snd_una + self.peer_window;
        let unsent = self.data_end() - self.snd_nxt;
        let window_room = window_end.saturating_sub(self.snd_nxt);
        let len = unsent.min(max_payload).min(window_room);
        let room_ok = tlp || cwnd_room >= len.max(1);
        if len > 0 && room_ok {
            let start = self.snd_nxt;
            let end = start + len;
            let fin = self.fin_queued && end == self.data_end();
            let tx = self.rate_skb_sent(now);
            self.flight.push_back(InFlight {
                start,
                end,
                sent_at: now,
                send_order: self.sends,
                sacked: false,
                lost: false,
                retransmitted: false,
                tx,
            });
            self.snd_nxt = end;
            if fin {
                self.fin_sent = true;
            }
            self.note_sent(now, len, false, pipe);
            if tlp {
                self.stats.tlps += 1;
            }
            self.cwnd_validate(self.cwnd_full());
            return Some(Transmit::Data {
                start,
                end,
                fin,
                retransmission: false,
            });
        }
        if len > 0 && self.cwnd_full() {
            // Data waits on a full cwnd (tcp_write_xmit's break on
            // tcp_cwnd_test, then tcp_cwnd_validate).
            self.cwnd_validate(true);
        }
        if unsent == 0 && self.fin_queued && !self.fin_sent {
            self.fin_sent = true;
            if self.rto_at.is_none() {
                self.rto_at = Some(now + self.rtt.rto());
            }
            return Some(Transmit::Data {
                start: self.snd_nxt,
                end: self.snd_nxt,
                fin: true,
                retransmission: false,
            });
        }
        if unsent > 0
            && self.peer_window == 0
            && self.persist_at.is_none()
            && self.flight.is_empty()
        {
            self.persist_at = Some(now + self.rtt.rto());
        }

        // 3. A probe with nothing new to send: resend the last segment.
        if tlp {
            let tx = self.rate_skb_sent(now);
            let last = (0..self.flight.len())
                .rev()
                .find(|&i| !self.flight.get(i).sacked);
            if let Some(i) = last {
                self.flight.resent(i, now, self.sends, tx);
                let seg = self.flight.get(i);
                let (start, end) = (seg.start, seg.end);
                let len = end - start;
                self.note_sent(now, len, true, pipe);
                self.stats.tlps += 1;
                let fin = self.fin_sent && end == self.data_end();
                return Some(Transmit::Data {
                    start,
                    end,
                    fin,
                    retransmission: true,
                });
            }
        }
        None
    }

    /// Counts a data segment of `len` bytes sent at `now`, with `pipe`
    /// bytes in flight before it.
    fn note_sent(&mut self, now: Duration, len: u64, retransmission: bool, pipe: u64) {
        self.cc.on_send(now, pipe, self.snd_nxt);
        if !retransmission && pipe == 0 && self.cc.has_cong_control() {
            // tcp_event_data_sent: CA_EVENT_TX_START for new data with
            // nothing in flight.
            self.cc
                .on_tx_start(now, self.app_limited != 0, self.delivered_mstamp);
            self.update_pacing_rate();
        }
        self.sends += 1;
        self.stats.segments_sent += 1;
        self.stats.bytes_sent += len;
        if retransmission {
            self.stats.retransmissions += 1;
        }
        if self.in_recovery {
            self.prr_out += 1;
        }
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.rtt.rto());
        }
        if !self.in_recovery {
            self.arm_pto(now);
        }
    }
}
