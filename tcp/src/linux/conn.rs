//! One TCP connection: the state machine of RFC 9293, the handshake with
//! MSS, window-scale, SACK-permitted and timestamp options, and the glue
//! between the receive side ([`Receiver`]) and the send side ([`Sender`]).
//!
//! # Call order
//! Sans-IO, in the style of quinn-proto's `Connection`:
//! - inputs: [`Connection::handle_segment`] for each arriving segment,
//!   [`Connection::handle_timeout`] when [`Connection::poll_timeout`] is due;
//! - outputs: call [`Connection::poll_transmit`] until it returns `None`
//!   after every input and every application call;
//! - application calls: [`Connection::write`], [`Connection::read`],
//!   [`Connection::close`], [`Connection::abort`].

use std::net::SocketAddrV4;
use std::time::Duration;

use super::bbr::Bbr;
use super::cc::{CongestionControl, CubicRfc9438, LinuxCubic, NewReno};
use super::recv::{AckNeed, Receiver, RecvConfig};
use super::rtt::{RttEstimator, INITIAL_RTO};
use super::segment::Segment;
use super::send::{Sender, SenderStats, Transmit};
use crate::{Congestion, Pacing, TcpError};

/// IPv4 and TCP headers without options.
const BASE_HEADERS: usize = 40;
/// Bytes of a timestamp option with its two NOPs.
const TS_OPTION: usize = 12;
/// The MSS to assume when the peer sends none (RFC 9293 3.7.1).
const DEFAULT_MSS: u16 = 536;
/// SYN (and SYN-ACK) transmissions before giving up (Linux `tcp_syn_retries`
/// = 6 retransmissions).
pub(crate) const SYN_TRIES: u32 = 7;
/// How long TIME-WAIT lasts. Linux uses 60 s; nothing in the lab reuses a
/// 4-tuple, so the state only has to absorb a late FIN retransmission.
const TIME_WAIT: Duration = Duration::from_secs(60);

/// Settings of one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinuxConfig {
    /// Send and receive buffer, in bytes.
    pub buffer: usize,
    /// Congestion control.
    pub congestion: Congestion,
    /// HyStart in CUBIC's slow start (Linux's HyStart for
    /// [`Congestion::Cubic`], HyStart++ for [`Congestion::CubicRfc9438`]).
    /// Default: on (Linux enables HyStart).
    pub hystart: bool,
    /// Offer timestamps (RFC 7323). Default: on, as Linux.
    pub timestamps: bool,
    /// Offer SACK (RFC 2018). Default: on, as Linux.
    pub sack: bool,
    /// The MTU of the host's link, in bytes (whole IPv4 packets): no
    /// packet is larger. Default: 1500.
    pub mtu: usize,
    /// The initial congestion window, in segments. Default: 10 (Linux's
    /// `TCP_INIT_CWND`).
    pub initial_window: u32,
    /// Pacing of data segments. Default: off.
    pub pacing: Pacing,
}

impl LinuxConfig {
    /// The MSS this stack announces in its SYN: the link's MTU less the
    /// IPv4 and TCP headers (as Linux's `advmss` from the route's MTU).
    pub fn announced_mss(&self) -> u16 {
        u16::try_from(self.mtu - BASE_HEADERS).unwrap_or(u16::MAX)
    }

    /// Payload bytes of a full-sized data segment between two hosts with
    /// this configuration: [`LinuxConfig::announced_mss`], less the
    /// timestamp option when timestamps are on.
    pub fn full_segment_payload(&self) -> u16 {
        self.segment_payload(self.announced_mss(), self.timestamps)
    }

    /// Payload bytes of a full-sized data segment for a peer MSS of
    /// `peer_mss` (capped at what this host's link carries), less the
    /// timestamp option when `timestamps` is negotiated (as Linux's
    /// `mss_cache`).
    fn segment_payload(&self, peer_mss: u16, timestamps: bool) -> u16 {
        let mss = peer_mss.min(self.announced_mss());
        if timestamps {
            mss - TS_OPTION as u16
        } else {
            mss
        }
    }

    /// Whether data segments are paced: [`Pacing::On`], or BBR, which
    /// always paces (Linux's `tcp_internal_pacing` when no fq qdisc does).
    pub fn paces(&self) -> bool {
        self.pacing == Pacing::On || self.congestion == Congestion::Bbr
    }

    /// The window-scale shift this stack announces for its buffer.
    pub fn window_shift(&self) -> u8 {
        window_shift(self.buffer)
    }

    /// A fresh congestion controller of this configuration for segments of
    /// `mss` bytes, as each connection gets; `seed` seeds its random
    /// choices (BBR's gain-cycle start phase).
    pub fn congestion_controller(&self, mss: u64, seed: u64) -> Box<dyn CongestionControl> {
        let iw = self.initial_window;
        match self.congestion {
            Congestion::Cubic => {
                Box::new(LinuxCubic::new(mss, self.hystart).with_initial_window(iw))
            }
            Congestion::CubicRfc9438 => {
                Box::new(CubicRfc9438::with_hystart(mss, self.hystart).with_initial_window(iw))
            }
            Congestion::Reno => Box::new(NewReno::new(mss).with_initial_window(iw)),
            Congestion::Bbr => Box::new(Bbr::new(mss, iw, seed)),
        }
    }
}

impl Default for LinuxConfig {
    fn default() -> Self {
        LinuxConfig {
            buffer: 4 << 20,
            congestion: Congestion::Cubic,
            hystart: true,
            timestamps: true,
            sack: true,
            mtu: crate::DEFAULT_MTU as usize,
            initial_window: crate::DEFAULT_INITIAL_WINDOW,
            pacing: Pacing::Off,
        }
    }
}

/// RFC 9293 connection states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// SYN sent, waiting for SYN-ACK.
    SynSent,
    /// SYN received, SYN-ACK sent.
    SynReceived,
    /// Open both ways.
    Established,
    /// Our FIN sent, not yet acknowledged.
    FinWait1,
    /// Our FIN acknowledged, waiting for the peer's.
    FinWait2,
    /// Both FINs sent, ours not yet acknowledged.
    Closing,
    /// Done; absorbing late segments.
    TimeWait,
    /// The peer's FIN received; we may still send.
    CloseWait,
    /// The peer closed first and our FIN is out.
    LastAck,
    /// Over.
    Closed,
}

/// The window-scale shift that lets a `buffer`-byte window be advertised
/// (RFC 7323 section 2.3, at most 14).
fn window_shift(buffer: usize) -> u8 {
    let mut shift = 0u8;
    while (buffer >> shift) > usize::from(u16::MAX) && shift < 14 {
        shift += 1;
    }
    shift
}

/// Counters of one connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnStats {
    /// The send side's counters.
    pub sender: SenderStats,
    /// Segments received.
    pub segments_received: u64,
    /// Pure ACKs sent.
    pub acks_sent: u64,
}

/// One TCP connection.
#[derive(Debug)]
pub struct Connection {
    local: SocketAddrV4,
    remote: SocketAddrV4,
    state: State,
    config: LinuxConfig,
    iss: u32,
    irs: u32,
    our_shift: u8,
    peer_shift: u8,
    peer_mss: u16,
    sack_ok: bool,
    ts_ok: bool,
    ts_recent: u32,
    sender: Option<Sender>,
    receiver: Option<Receiver>,
    /// The SYN or SYN-ACK must be (re)sent.
    syn_due: bool,
    syn_sent_at: Option<Duration>,
    syn_tries: u32,
    syn_timer: Option<Duration>,
    ack_due: bool,
    rst_due: bool,
    error: Option<TcpError>,
    time_wait_until: Option<Duration>,
    stats: ConnStats,
}

impl Connection {
    fn new(local: SocketAddrV4, remote: SocketAddrV4, iss: u32, config: LinuxConfig) -> Self {
        Connection {
            local,
            remote,
            state: State::SynSent,
            our_shift: window_shift(config.buffer),
            config,
            iss,
            irs: 0,
            peer_shift: 0,
            peer_mss: DEFAULT_MSS,
            sack_ok: false,
            ts_ok: false,
            ts_recent: 0,
            sender: None,
            receiver: None,
            syn_due: true,
            syn_sent_at: None,
            syn_tries: 0,
            syn_timer: None,
            ack_due: false,
            rst_due: false,
            error: None,
            time_wait_until: None,
            stats: ConnStats::default(),
        }
    }

    /// Open a connection: the SYN goes out at the next `poll_transmit`.
    pub fn connect(
        local: SocketAddrV4,
        remote: SocketAddrV4,
        iss: u32,
        config: LinuxConfig,
    ) -> Self {
        Connection::new(local, remote, iss, config)
    }

    /// Answer the SYN `syn` received on a listening port.
    pub fn accept(
        local: SocketAddrV4,
        remote: SocketAddrV4,
        iss: u32,
        syn: &Segment,
        config: LinuxConfig,
    ) -> Self {
        let mut c = Connection::new(local, remote, iss, config);
        c.state = State::SynReceived;
        c.take_peer_options(syn);
        c
    }

    fn take_peer_options(&mut self, syn: &Segment) {
        self.irs = syn.seq;
        self.peer_mss = syn.mss.unwrap_or(DEFAULT_MSS);
        self.sack_ok = self.config.sack && syn.sack_permitted;
        self.ts_ok = self.config.timestamps && syn.timestamp.is_some();
        if let Some((tsval, _)) = syn.timestamp {
            self.ts_recent = tsval;
        }
        // Window scaling needs both sides to offer it (RFC 7323 2.2).
        match syn.window_scale {
            Some(s) => self.peer_shift = s.min(14),
            None => {
                self.peer_shift = 0;
                self.our_shift = 0;
            }
        }
        self.receiver = Some(Receiver::new(
            self.irs,
            RecvConfig {
                buffer: self.config.buffer,
                window_shift: self.our_shift,
                mss: u32::from(self.peer_mss),
                // Kept for the out-of-order-wait instrumentation (a few
                // words per data segment).
                record_segments: true,
            },
        ));
        let mss = u64::from(self.effective_mss());
        // The connection's initial sequence number, drawn from the stack's
        // seeded RNG, seeds the controller's own random choices.
        let cc = self.config.congestion_controller(mss, u64::from(self.iss));
        let peer_window = u64::from(syn.window); // SYN windows are never scaled
        self.sender = Some(Sender::new(
            self.config.buffer,
            mss,
            peer_window,
            RttEstimator::new(),
            cc,
            self.config.paces(),
        ));
    }

    /// Payload bytes of a full-sized data segment: the peer's MSS, less the
    /// timestamp option (as Linux's `mss_cache`).
    fn effective_mss(&self) -> u16 {
        self.config.segment_payload(self.peer_mss, self.ts_ok)
    }

    // ---- getters ----

    /// The connection state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Local address.
    pub fn local(&self) -> SocketAddrV4 {
        self.local
    }

    /// Remote address.
    pub fn remote(&self) -> SocketAddrV4 {
        self.remote
    }

    /// Why the connection failed, if it did.
    pub fn error(&self) -> Option<&TcpError> {
        self.error.as_ref()
    }

    /// Whether the handshake completed at some point.
    pub fn is_synchronized(&self) -> bool {
        match self.state {
            State::SynSent | State::SynReceived => false,
            State::Closed => self.sender.is_some(),
            _ => true,
        }
    }

    /// The send side, once the handshake negotiated it.
    pub fn sender(&self) -> Option<&Sender> {
        self.sender.as_ref()
    }

    /// The receive side, once the handshake negotiated it.
    pub fn receiver(&self) -> Option<&Receiver> {
        self.receiver.as_ref()
    }

    /// Counters.
    pub fn stats(&self) -> ConnStats {
        ConnStats {
            sender: self.sender.as_ref().map(|s| s.stats()).unwrap_or_default(),
            ..self.stats
        }
    }

    // ---- application calls ----

    /// Queue bytes for sending; returns how many were taken (0 when the
    /// buffer is full or sending is over).
    pub fn write(&mut self, data: &[u8]) -> usize {
        match (self.state, self.sender.as_mut()) {
            (State::Established | State::CloseWait, Some(s)) => s.write(data),
            _ => 0,
        }
    }

    /// Copy received bytes; 0 means nothing is readable now (check
    /// [`Connection::at_eof`]).
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        self.receiver.as_mut().map_or(0, |r| r.read(buf))
    }

    /// Whether the peer closed and every byte was read.
    pub fn at_eof(&self) -> bool {
        self.receiver.as_ref().is_some_and(|r| r.at_eof())
    }

    /// Close the sending side: FIN after the queued data.
    pub fn close(&mut self) {
        match self.state {
            State::Established => self.state = State::FinWait1,
            State::CloseWait => self.state = State::LastAck,
            State::SynSent | State::SynReceived => {
                self.state = State::Closed;
                return;
            }
            _ => return,
        }
        if let Some(s) = self.sender.as_mut() {
            s.close();
        }
    }

    /// Reset the connection (RST) and fail it with `reason`.
    pub fn abort(&mut self, reason: TcpError) {
        if self.state != State::Closed {
            self.rst_due = self.is_synchronized() || self.state == State::SynReceived;
            self.state = State::Closed;
        }
        self.error.get_or_insert(reason);
    }

    // ---- wire helpers ----

    fn our_seq(&self, offset: u64) -> u32 {
        self.iss.wrapping_add(1).wrapping_add(offset as u32)
    }

    fn tsval(now: Duration) -> u32 {
        // A 1 ms clock, like Linux's (which starts at a random offset).
        (now.as_millis() as u32).wrapping_add(1)
    }

    /// A segment from us with the ACK, window, timestamp and SACK fields.
    fn segment(&self, now: Duration, seq: u32, payload: Vec<u8>) -> Segment {
        let (ack, window, sack) = match &self.receiver {
            Some(r) if self.state != State::SynSent => (
                Some(r.rcv_nxt()),
                r.window_field(),
                if self.sack_ok {
                    r.sack_blocks(if self.ts_ok { 3 } else { 4 })
                } else {
                    Vec::new()
                },
            ),
            _ => (None, 0, Vec::new()),
        };
        let mut seg = Segment::new(self.local, self.remote, seq);
        seg.ack = ack;
        seg.window = window;
        seg.timestamp = self.ts_ok.then(|| (Self::tsval(now), self.ts_recent));
        seg.sack = sack;
        seg.payload = payload;
        seg
    }

    fn syn_segment(&self, now: Duration) -> Segment {
        let mut s = self.segment(now, self.iss, Vec::new());
        s.syn = true;
        s.window = self.config.buffer.min(usize::from(u16::MAX)) as u16;
        s.mss = Some(self.config.announced_mss());
        s.window_scale = Some(self.our_shift);
        s.sack_permitted = self.config.sack;
        s.sack.clear();
        if self.state == State::SynSent {
            s.timestamp = self.config.timestamps.then(|| (Self::tsval(now), 0));
        } else {
            s.ack = Some(self.irs.wrapping_add(1));
            if self.our_shift == 0 && self.peer_shift == 0 {
                s.window_scale = None;
            }
            s.sack_permitted = self.sack_ok;
        }
        s
    }

    // ---- inputs ----

    /// A segment for this connection arrived at `now`.
    pub fn handle_segment(&mut self, now: Duration, seg: &Segment) {
        self.stats.segments_received += 1;
        if self.state == State::Closed {
            return;
        }
        if seg.rst {
            self.on_rst(seg);
            return;
        }
        match self.state {
            State::SynSent => self.on_syn_ack(now, seg),
            State::SynReceived => {
                if seg.syn && seg.seq == self.irs {
                    // Our SYN-ACK was lost: send it again.
                    self.syn_due = true;
                    return;
                }
                if seg.ack == Some(self.iss.wrapping_add(1)) {
                    self.state = State::Established;
                    self.syn_timer = None;
                    if let (Some(sent), false) = (self.syn_sent_at, self.syn_tries > 1) {
                        if let Some(s) = self.sender.as_mut() {
                            s.on_rtt_sample(now - sent);
                        }
                    }
                    if let Some(s) = self.sender.as_mut() {
                        s.on_established(now);
                    }
                    self.on_synchronized(now, seg);
                }
            }
            _ => {
                if seg.syn {
                    // A retransmitted SYN-ACK: our ACK was lost.
                    self.ack_due = true;
                    return;
                }
                self.on_synchronized(now, seg);
            }
        }
    }

    fn on_rst(&mut self, seg: &Segment) {
        let acceptable = match self.state {
            State::SynSent => seg.ack == Some(self.iss.wrapping_add(1)),
            _ => self
                .receiver
                .as_ref()
                .is_some_and(|r| seg.seq.wrapping_sub(r.rcv_nxt()) < r.window().max(1)),
        };
        if acceptable {
            let err = if self.is_synchronized() {
                TcpError::Reset
            } else {
                TcpError::Refused
            };
            self.error.get_or_insert(err);
            self.state = State::Closed;
        }
    }

    fn on_syn_ack(&mut self, now: Duration, seg: &Segment) {
        if !(seg.syn && seg.ack == Some(self.iss.wrapping_add(1))) {
            return;
        }
        self.take_peer_options(seg);
        self.state = State::Established;
        self.syn_timer = None;
        if let (Some(sent), 1) = (self.syn_sent_at, self.syn_tries) {
            if let Some(s) = self.sender.as_mut() {
                s.on_rtt_sample(now - sent);
            }
        }
        if let Some(s) = self.sender.as_mut() {
            s.on_established(now);
        }
        self.ack_due = true;
    }

    fn on_synchronized(&mut self, now: Duration, seg: &Segment) {
        if let Some((tsval, _)) = seg.timestamp {
            self.ts_recent = tsval;
        }
        let (Some(sender), Some(receiver)) = (self.sender.as_mut(), self.receiver.as_mut()) else {
            return;
        };
        if let Some(ack) = seg.ack {
            let near = sender.snd_una();
            let base = self.iss.wrapping_add(1).wrapping_add(near as u32);
            let to_offset = |seq: u32| {
                let off = near as i64 + seq.wrapping_sub(base) as i32 as i64;
                (off >= 0).then_some(off as u64)
            };
            if let Some(ack_off) = to_offset(ack) {
                let sack: Vec<(u64, u64)> = seg
                    .sack
                    .iter()
                    .filter_map(|&(l, r)| Some((to_offset(l)?, to_offset(r)?)))
                    .collect();
                let window = u64::from(seg.window) << self.peer_shift;
                let ts_rtt = seg.timestamp.filter(|(_, ecr)| *ecr != 0).map(|(_, ecr)| {
                    Duration::from_millis(u64::from(Self::tsval(now).wrapping_sub(ecr)))
                });
                sender.on_ack(now, ack_off, window, &sack, ts_rtt);
            }
        }
        if !seg.payload.is_empty() || seg.fin {
            receiver.on_segment(now, seg.seq, &seg.payload, seg.fin);
        } else if seg.seq == receiver.rcv_nxt().wrapping_sub(1) {
            // A window probe: answer with our window.
            self.ack_due = true;
        }
        let fin_in = receiver.fin_received();
        let fin_acked = sender.fin_acked();
        self.state = match self.state {
            State::Established if fin_in => State::CloseWait,
            State::FinWait1 if fin_in && fin_acked => self.enter_time_wait(now),
            State::FinWait1 if fin_in => State::Closing,
            State::FinWait1 if fin_acked => State::FinWait2,
            State::FinWait2 if fin_in => self.enter_time_wait(now),
            State::Closing if fin_acked => self.enter_time_wait(now),
            State::LastAck if fin_acked => State::Closed,
            s => s,
        };
    }

    fn enter_time_wait(&mut self, now: Duration) -> State {
        self.time_wait_until = Some(now + TIME_WAIT);
        self.ack_due = true;
        State::TimeWait
    }

    /// When [`Connection::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let ack = match self.receiver.as_ref().map(|r| r.ack_need()) {
            Some(AckNeed::At(t)) if self.is_synchronized() => Some(t),
            _ => None,
        };
        let sender = self
            .sender
            .as_ref()
            .filter(|_| self.is_synchronized() && self.state != State::TimeWait)
            .and_then(|s| s.poll_timeout());
        [self.syn_timer, ack, sender, self.time_wait_until]
            .into_iter()
            .flatten()
            .min()
    }

    /// Run the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.syn_timer.is_some_and(|t| now >= t) {
            self.syn_timer = None;
            if self.syn_tries >= SYN_TRIES {
                self.abort(TcpError::Refused);
                self.rst_due = false;
                return;
            }
            self.syn_due = true;
        }
        if self.time_wait_until.is_some_and(|t| now >= t) {
            self.time_wait_until = None;
            self.state = State::Closed;
            return;
        }
        if self.is_synchronized() && self.state != State::Closed {
            if let Some(s) = self.sender.as_mut() {
                s.handle_timeout(now);
            }
        }
    }

    /// The next segment to send at `now`, if any.
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Segment> {
        if self.rst_due {
            self.rst_due = false;
            let seq = self
                .sender
                .as_ref()
                .map_or(self.iss.wrapping_add(1), |s| self.our_seq(s.snd_nxt()));
            let mut s = self.segment(now, seq, Vec::new());
            s.rst = true;
            s.sack.clear();
            return Some(s);
        }
        if self.state == State::Closed {
            return None;
        }
        if self.syn_due && matches!(self.state, State::SynSent | State::SynReceived) {
            self.syn_due = false;
            self.syn_tries += 1;
            self.syn_sent_at = Some(now);
            // Initial RTO 1 s, doubling with every retry.
            self.syn_timer = Some(now + INITIAL_RTO * (1 << (self.syn_tries - 1).min(10)));
            return Some(self.syn_segment(now));
        }
        if !self.is_synchronized() {
            return None;
        }
        if let Some(seg) = self.poll_data(now) {
            self.after_ack_sent(now);
            return Some(seg);
        }
        let ack_now = self.ack_due
            || match self.receiver.as_ref().map(|r| r.ack_need()) {
                Some(AckNeed::Now) => true,
                Some(AckNeed::At(t)) => now >= t,
                _ => false,
            };
        if ack_now {
            let seq = self.our_seq(self.sender.as_ref().map_or(0, |s| {
                if s.fin_sent() {
                    s.snd_nxt() + 1
                } else {
                    s.snd_nxt()
                }
            }));
            let seg = self.segment(now, seq, Vec::new());
            self.stats.acks_sent += 1;
            self.after_ack_sent(now);
            return Some(seg);
        }
        None
    }

    fn after_ack_sent(&mut self, now: Duration) {
        self.ack_due = false;
        if let Some(r) = self.receiver.as_mut() {
            r.on_ack_sent(now);
        }
    }

    fn poll_data(&mut self, now: Duration) -> Option<Segment> {
        if !matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        ) {
            return None;
        }
        // Build the segment (ACK, window, timestamp, SACK blocks) once; its
        // options decide how much payload fits in one packet.
        let mut seg = self.segment(now, 0, Vec::new());
        let max_payload = self.config.mtu.saturating_sub(seg.header_len()) as u64;
        let sender = self.sender.as_mut()?;
        let start = match sender.poll_transmit(now, max_payload)? {
            // A window probe carries sequence SND.UNA − 1 and no data.
            Transmit::WindowProbe => None,
            Transmit::Data {
                start, end, fin, ..
            } => {
                seg.payload = sender.bytes(start, end);
                seg.fin = fin;
                seg.psh = !seg.payload.is_empty() && (fin || end == sender.snd_nxt());
                Some(start)
            }
        };
        let snd_una = sender.snd_una();
        seg.seq = match start {
            Some(start) => self.our_seq(start),
            None => self.our_seq(snd_una).wrapping_sub(1),
        };
        Some(seg)
    }
}
