//! BBR for QUIC: the lab's port of Linux's `tcp_bbr.c` ([`tcp::Bbr`], the
//! one the TCP runs) behind quinn's congestion-controller trait, fed with
//! delivery-rate samples made as Linux's `tcp_rate.c` makes them.
//!
//! Why not quinn's own BBR: quinn-proto 0.11's `congestion::Bbr`
//! (experimental, after quiche's BBR v1 sender) draws the PROBE_BW cycle's
//! start phase from `rand::rng()`, an unseeded thread RNG, so two runs with
//! one seed would differ. This controller seeds BBR from the run seed and
//! the connection's order, and runs the very code TCP's BBR runs, so that
//! `cc = bbr` means one algorithm for both transports.
//!
//! What quinn tells a controller, and how this one uses it:
//! - `on_sent` (every datagram, with its size and packet number): the
//!   datagram's send record, as `tcp_rate_skb_sent` stamps an skb: the
//!   delivered count and time at sending, the window's first send time,
//!   whether the sender was application-limited;
//! - `on_ack` (each acknowledged ack-eliciting packet, by its send time):
//!   one more delivery; the latest-sent acknowledged packet of the batch
//!   is the sample's, as `tcp_rate_skb_delivered` picks it;
//! - `on_end_acks` (the end of one ACK frame's batch): the rate sample
//!   (`tcp_rate_gen`) goes to BBR (`bbr_main`), with the loss state;
//! - `on_congestion_event` (lost packets): a loss episode starts (BBR
//!   saves cwnd; the samples carry the Recovery state until a packet sent
//!   after the loss is acknowledged); persistent congestion is what TCP's
//!   retransmission timeout is to TCP.
//!
//! Packets are counted in datagrams of the connection's size (its MSS, in
//! TCP's terms): delivered and in-flight bytes divided by it.
//!
//! Differences from TCP's BBR, all from quinn's side of the trait:
//! - **Pacing:** quinn paces with its own pacer, a token bucket refilled at
//!   5/4 × cwnd / smoothed RTT; a controller cannot give it a rate. So BBR's
//!   pacing gain reaches the wire only through cwnd, and BBR's
//!   `pacing_rate` is reported (qlog metrics) but not applied.
//! - **RTT:** BBR's RTT sample is the time from sending the batch's
//!   latest-sent acknowledged datagram to its ACK, which includes the
//!   peer's ACK delay (up to quinn's 25 ms `max_ack_delay`; quinn
//!   acknowledges every second packet at once).
//! - **Delayed ACKs** (`is_ack_delayed`) are never flagged.
//! - **The window is at least two datagrams** (RFC 9002's minimum): quinn
//!   sends only while in flight plus the next datagram is below the window,
//!   so BBR's one-packet cwnd after a timeout would stall it; TCP sends
//!   while in flight is below cwnd.
//! - A datagram that carries only ACKs is never acknowledged; its send
//!   record is dropped once a later datagram is.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use quinn::congestion::{Controller, ControllerFactory, ControllerMetrics};
use quinn_proto::RttEstimator;
use tcp::{Bbr, CaState, RateSample};

/// Builds a [`QuicBbr`] for each connection of an endpoint.
#[derive(Debug)]
pub(crate) struct QuicBbrFactory {
    /// The initial window, in bytes.
    initial_window: u64,
    /// The run seed, which with the build order seeds each connection's
    /// BBR.
    seed: u64,
    /// Connections built so far.
    built: AtomicU64,
}

impl QuicBbrFactory {
    /// A factory for connections starting at `initial_window` bytes, their
    /// random choices seeded from `seed`.
    pub(crate) fn new(initial_window: u64, seed: u64) -> QuicBbrFactory {
        QuicBbrFactory {
            initial_window,
            seed,
            built: AtomicU64::new(0),
        }
    }
}

impl ControllerFactory for QuicBbrFactory {
    fn build(self: Arc<Self>, now: Instant, current_mtu: u16) -> Box<dyn Controller> {
        let n = self.built.fetch_add(1, Ordering::Relaxed);
        let seed = crate::seed::derive_u64(self.seed, &format!("quic-bbr/{n}"));
        Box::new(QuicBbr::new(now, current_mtu, self.initial_window, seed))
    }
}

/// One datagram's send record (`tcp_rate_skb_sent`'s `tx` fields).
#[derive(Clone, Copy, Debug)]
struct Sent {
    /// When it left.
    at: Instant,
    /// Bytes delivered when it left (`tx.delivered`, in bytes here).
    delivered: u64,
    /// When the latest delivery before it happened (`tx.delivered_mstamp`).
    delivered_mstamp: Duration,
    /// When the window it belongs to started (`tx.first_tx_mstamp`).
    first_tx_mstamp: Duration,
    /// Whether the sender was application-limited when it left.
    is_app_limited: bool,
    /// Acknowledged in the current batch.
    acked: bool,
}

/// Linux's BBR on quinn's controller trait (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct QuicBbr {
    bbr: Bbr,
    /// Time zero: when the connection's controller was built.
    base: Instant,
    /// Datagram size, the unit BBR counts packets in.
    mss: u64,
    initial_window: u64,
    /// Datagrams not yet acknowledged or dropped, in send order.
    sent: VecDeque<Sent>,
    /// Bytes delivered so far (`tp->delivered`, in bytes).
    delivered: u64,
    /// Bytes declared lost so far (`tp->lost`, in bytes).
    lost: u64,
    /// Bytes lost since the last rate sample.
    lost_since_sample: u64,
    /// When the latest delivery happened (`tp->delivered_mstamp`).
    delivered_mstamp: Duration,
    /// When the current window's first datagram left (`first_tx_mstamp`).
    first_tx_mstamp: Duration,
    /// `tp->app_limited`: delivered bytes after which samples stop being
    /// application-limited; 0 = not limited.
    app_limited: u64,
    /// Bytes in flight, as quinn said at the last batch end.
    in_flight: u64,
    /// Bytes acknowledged in the current batch.
    batch_acked: u64,
    /// The latest-sent record acknowledged in the current batch.
    batch_from: Option<Sent>,
    /// The batch's RTT sample.
    batch_rtt: Option<Duration>,
    /// Smoothed RTT, from quinn's estimator.
    srtt: Option<Duration>,
    /// Whether [`Bbr::established`] ran (at the first ACK: quinn has no
    /// handshake-done hook, and the first ACK carries the first RTT).
    established: bool,
    /// In a loss episode until a datagram sent after this instant is
    /// acknowledged.
    recovery_until: Option<Instant>,
    /// quinn's minimum RTT, for `tcp_rate_gen`'s check that an interval
    /// is not shorter than min RTT.
    min_rtt: Option<Duration>,
}

impl QuicBbr {
    fn new(now: Instant, mtu: u16, initial_window: u64, seed: u64) -> QuicBbr {
        let mss = u64::from(mtu).max(1);
        let segments = u32::try_from(initial_window.div_ceil(mss)).unwrap_or(u32::MAX);
        QuicBbr {
            bbr: Bbr::new(mss, segments, seed),
            base: now,
            mss,
            initial_window,
            sent: VecDeque::new(),
            delivered: 0,
            lost: 0,
            lost_since_sample: 0,
            delivered_mstamp: Duration::ZERO,
            first_tx_mstamp: Duration::ZERO,
            app_limited: 0,
            in_flight: 0,
            batch_acked: 0,
            batch_from: None,
            batch_rtt: None,
            srtt: None,
            established: false,
            recovery_until: None,
            min_rtt: None,
        }
    }

    fn since(&self, t: Instant) -> Duration {
        t.saturating_duration_since(self.base)
    }

    fn packets(&self, bytes: u64) -> u64 {
        bytes.div_ceil(self.mss)
    }
}

impl Controller for QuicBbr {
    fn on_sent(&mut self, now: Instant, bytes: u64, _last_packet_number: u64) {
        let t = self.since(now);
        if self.sent.is_empty() && self.in_flight == 0 {
            // tcp_rate_skb_sent: a window starts when nothing is in flight.
            self.first_tx_mstamp = t;
            self.delivered_mstamp = t;
            if self.established {
                self.bbr
                    .send_after_idle(t, self.app_limited != 0, self.delivered_mstamp);
            }
        }
        self.in_flight += bytes;
        self.sent.push_back(Sent {
            at: now,
            delivered: self.delivered,
            delivered_mstamp: self.delivered_mstamp,
            first_tx_mstamp: self.first_tx_mstamp,
            is_app_limited: self.app_limited != 0,
            acked: false,
        });
    }

    fn on_ack(
        &mut self,
        now: Instant,
        sent: Instant,
        bytes: u64,
        app_limited: bool,
        rtt: &RttEstimator,
    ) {
        let t = self.since(now);
        self.delivered += bytes;
        self.delivered_mstamp = t;
        self.batch_acked += bytes;
        self.srtt = Some(rtt.get());
        self.min_rtt = Some(rtt.min());
        if app_limited && self.app_limited == 0 {
            // tcp_rate_check_app_limited: the sender ran out of data.
            self.app_limited = (self.delivered + self.in_flight).max(1);
        }
        // Records are in send order, so their times never decrease: find
        // the first sent at `sent` by bisection (this runs per acknowledged
        // packet), then the first of those not yet acknowledged.
        let from = self.sent.partition_point(|s| s.at < sent);
        let found = self
            .sent
            .range_mut(from..)
            .take_while(|s| s.at == sent)
            .find(|s| !s.acked);
        if let Some(record) = found {
            record.acked = true;
            // tcp_rate_skb_delivered: the latest-sent delivered packet
            // gives the sample.
            let newer = self.batch_from.is_none_or(|f| record.at >= f.at);
            if newer {
                self.batch_from = Some(*record);
                // The sample's RTT is this packet's (Linux's ca_rtt_us, of
                // the newest packet delivered); quinn passes its estimator,
                // not the sample.
                self.batch_rtt = Some(now.saturating_duration_since(sent));
            }
        }
        if self.recovery_until.is_some_and(|start| sent > start) {
            self.recovery_until = None;
        }
    }

    fn on_end_acks(
        &mut self,
        now: Instant,
        in_flight: u64,
        _app_limited: bool,
        _largest_packet_num_acked: Option<u64>,
    ) {
        let t = self.since(now);
        let prior_in_flight = self.in_flight;
        self.in_flight = in_flight;
        if in_flight == 0 {
            // Everything sent is acknowledged or declared lost: the loss
            // episode is over (TCP's snd_una has passed high_seq).
            self.recovery_until = None;
        }
        if !self.established {
            self.established = true;
            self.bbr.established(t, self.srtt, self.min_rtt);
        }
        // Records acknowledged, and any sent before the newest one
        // acknowledged (datagrams that carried only ACKs, or lost ones
        // quinn has not declared yet), leave the list.
        if let Some(from) = self.batch_from {
            while self.sent.front().is_some_and(|s| s.acked || s.at < from.at) {
                self.sent.pop_front();
            }
        }
        self.sent.retain(|s| !s.acked);
        if self.app_limited != 0 && self.delivered > self.app_limited {
            self.app_limited = 0;
        }
        let mut rs = RateSample {
            acked_sacked: self.packets(self.batch_acked),
            losses: self.packets(self.lost_since_sample),
            rtt: self.batch_rtt,
            prior_in_flight: self.packets(prior_in_flight),
            in_flight: self.packets(in_flight),
            tp_delivered: self.delivered / self.mss,
            tp_lost: self.lost / self.mss,
            delivered_mstamp: self.delivered_mstamp,
            ca_state: if self.recovery_until.is_some() {
                CaState::Recovery
            } else {
                CaState::Open
            },
            edt: t,
            srtt: self.srtt,
            ..RateSample::empty(t)
        };
        if let Some(from) = self.batch_from {
            rs.prior_delivered = from.delivered / self.mss;
            rs.is_app_limited = from.is_app_limited;
            rs.delivered = Some((self.delivered - from.delivered) / self.mss);
            let send_phase = self.since(from.at).saturating_sub(from.first_tx_mstamp);
            let ack_phase = t.saturating_sub(from.delivered_mstamp);
            let interval = send_phase.max(ack_phase);
            rs.interval = match self.min_rtt {
                Some(min) if interval < min => None,
                _ => Some(interval),
            };
            // The next window starts from this delivery.
            self.first_tx_mstamp = self.since(from.at);
        }
        if prior_in_flight > 0 && self.bbr.rate_sample(&rs) {
            self.app_limited = (self.delivered + in_flight).max(1);
        }
        self.batch_acked = 0;
        self.batch_from = None;
        self.batch_rtt = None;
        self.lost_since_sample = 0;
    }

    fn on_congestion_event(
        &mut self,
        now: Instant,
        sent: Instant,
        is_persistent_congestion: bool,
        lost_bytes: u64,
    ) {
        self.lost += lost_bytes;
        self.lost_since_sample += lost_bytes;
        self.in_flight = self.in_flight.saturating_sub(lost_bytes);
        // What was sent up to the newest lost datagram is lost or
        // acknowledged already.
        while self.sent.front().is_some_and(|s| s.at <= sent) {
            self.sent.pop_front();
        }
        if is_persistent_congestion {
            self.bbr.persistent_congestion(self.since(now));
            self.recovery_until = Some(now);
            return;
        }
        if self.recovery_until.is_none() {
            self.bbr.loss_episode();
            self.recovery_until = Some(now);
        }
    }

    fn on_mtu_update(&mut self, _new_mtu: u16) {
        // The lab fixes QUIC's datagram size for the whole run (no path-MTU
        // discovery), so this never changes the unit.
    }

    fn window(&self) -> u64 {
        // quinn sends an ack-eliciting packet only while in flight plus the
        // packet stays below the window, so a window of one datagram (BBR's
        // cwnd after a timeout, or packet conservation after losses) would
        // stop it for good; RFC 9002's minimum window is two datagrams.
        self.bbr.cwnd_bytes().max(2 * self.mss)
    }

    fn metrics(&self) -> ControllerMetrics {
        let mut m = ControllerMetrics::default();
        m.congestion_window = self.window();
        m.pacing_rate = self.bbr.pacing_rate().map(|r| r.saturating_mul(8));
        m
    }

    fn clone_box(&self) -> Box<dyn Controller> {
        Box::new(self.clone())
    }

    fn initial_window(&self) -> u64 {
        self.initial_window
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }
}
