//! [`LinuxStack`]: the lab's Linux-like TCP behind the [`TcpStack`] trait.
//!
//! It demultiplexes segments to connections by 4-tuple, answers SYNs on
//! listening ports, resets segments for unknown connections, and draws
//! initial sequence numbers from the run seed.

use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::conn::{Connection, LinuxConfig, State};
use super::segment::Segment;
use crate::tcp::stack::{
    Congestion, ConnId, ConnState, ListenerId, RecvOutcome, SendOutcome, TcpConfig, TcpError,
    TcpSenderInfo, TcpStack,
};

#[derive(Debug)]
struct Slot {
    conn: Connection,
    released: bool,
    /// Reached Established (for telling refused from reset).
    accepted_by: Option<ListenerId>,
}

#[derive(Debug)]
struct Listener {
    local: SocketAddrV4,
    /// Connections whose handshake completed, waiting for `accept`.
    ready: VecDeque<ConnId>,
}

/// One host's Linux-like TCP.
#[derive(Debug)]
pub struct LinuxStack {
    config: LinuxConfig,
    rng: ChaCha8Rng,
    conns: BTreeMap<ConnId, Slot>,
    by_tuple: BTreeMap<(SocketAddrV4, SocketAddrV4), ConnId>,
    listeners: BTreeMap<ListenerId, Listener>,
    /// Segments to send at the next `poll`: resets for segments that match
    /// no connection, and what each arriving segment triggered.
    pending: Vec<Segment>,
    next_id: u32,
    ip_ident: u16,
}

impl LinuxStack {
    /// A stack whose initial sequence numbers come from `random_seed`.
    pub fn new(random_seed: u64, config: &TcpConfig) -> Self {
        LinuxStack {
            config: LinuxConfig {
                buffer: config.buffer_bytes,
                congestion: config.congestion,
                ..LinuxConfig::default()
            },
            rng: ChaCha8Rng::seed_from_u64(random_seed),
            conns: BTreeMap::new(),
            by_tuple: BTreeMap::new(),
            listeners: BTreeMap::new(),
            pending: Vec::new(),
            next_id: 0,
            ip_ident: 0,
        }
    }

    fn next_id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    fn insert(&mut self, conn: Connection, accepted_by: Option<ListenerId>) -> ConnId {
        let id = ConnId(self.next_id());
        self.by_tuple.insert((conn.local(), conn.remote()), id);
        self.conns.insert(
            id,
            Slot {
                conn,
                released: false,
                accepted_by,
            },
        );
        id
    }

    fn reset_for(seg: &Segment) -> Segment {
        // RFC 9293 3.10.7.1: answer with a RST that the sender accepts.
        let (seq, ack) = match seg.ack {
            Some(a) => (a, None),
            None => (0, Some(seg.seq.wrapping_add(seg.seq_len()))),
        };
        let mut rst = Segment::new(seg.dst, seg.src, seq);
        rst.ack = ack;
        rst.rst = true;
        rst
    }

    fn slot(&self, id: ConnId) -> Option<&Slot> {
        self.conns.get(&id)
    }

    fn conn_mut(&mut self, id: ConnId) -> Option<&mut Connection> {
        self.conns.get_mut(&id).map(|s| &mut s.conn)
    }
}

impl TcpStack for LinuxStack {
    fn name(&self) -> &'static str {
        "httplab linux-like TCP"
    }

    fn parameters(&self) -> Vec<(String, String)> {
        let cc = match self.config.congestion {
            Congestion::Cubic => "cubic with hystart++",
            Congestion::Reno => "newreno",
        };
        [
            ("congestion_control", cc.to_string()),
            ("initial_window", "10 segments".to_string()),
            ("min_rto", "200 ms".to_string()),
            ("initial_rto", "1 s".to_string()),
            (
                "loss_recovery",
                "SACK (RFC 6675) + RACK-TLP (RFC 8985) + PRR (RFC 6937)".to_string(),
            ),
            ("delayed_ack", "40 ms, quick-ack at start".to_string()),
            ("timestamps", self.config.timestamps.to_string()),
            ("nagle", "false".to_string()),
            ("buffer_bytes", self.config.buffer.to_string()),
            ("mss", "1448 (1460 less timestamps)".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn listen(&mut self, local: SocketAddrV4) -> Result<ListenerId, TcpError> {
        if self.listeners.values().any(|l| l.local == local) {
            return Err(TcpError::AddrInUse(local));
        }
        let id = ListenerId(self.next_id());
        self.listeners.insert(
            id,
            Listener {
                local,
                ready: VecDeque::new(),
            },
        );
        Ok(id)
    }

    fn accept(&mut self, listener: ListenerId) -> Option<ConnId> {
        self.listeners.get_mut(&listener)?.ready.pop_front()
    }

    fn close_listener(&mut self, listener: ListenerId) {
        if let Some(l) = self.listeners.remove(&listener) {
            for id in l.ready {
                if let Some(c) = self.conn_mut(id) {
                    c.abort(TcpError::Reset);
                }
            }
        }
    }

    fn connect(&mut self, local: SocketAddrV4, remote: SocketAddrV4) -> Result<ConnId, TcpError> {
        if self.by_tuple.contains_key(&(local, remote)) {
            return Err(TcpError::AddrInUse(local));
        }
        let iss = self.rng.random::<u32>();
        let conn = Connection::connect(local, remote, iss, self.config.clone());
        Ok(self.insert(conn, None))
    }

    fn state(&self, id: ConnId) -> ConnState {
        let Some(slot) = self.slot(id) else {
            return ConnState::Closed(Some(TcpError::Unknown));
        };
        let c = &slot.conn;
        match c.state() {
            State::SynSent | State::SynReceived => ConnState::Connecting,
            State::Closed => ConnState::Closed(c.error().cloned()),
            _ => ConnState::Established,
        }
    }

    fn endpoints(&self, id: ConnId) -> Option<(SocketAddrV4, SocketAddrV4)> {
        self.slot(id).map(|s| (s.conn.local(), s.conn.remote()))
    }

    fn recv(&mut self, id: ConnId, buf: &mut [u8]) -> RecvOutcome {
        let Some(c) = self.conn_mut(id) else {
            return RecvOutcome::Failed(TcpError::Unknown);
        };
        let n = c.read(buf);
        if n > 0 {
            return RecvOutcome::Data(n);
        }
        if let Some(e) = c.error() {
            return RecvOutcome::Failed(e.clone());
        }
        if c.at_eof() || c.state() == State::Closed {
            return RecvOutcome::Eof;
        }
        RecvOutcome::WouldBlock
    }

    fn send(&mut self, id: ConnId, data: &[u8]) -> SendOutcome {
        let Some(c) = self.conn_mut(id) else {
            return SendOutcome::Failed(TcpError::Unknown);
        };
        if let Some(e) = c.error() {
            return SendOutcome::Failed(e.clone());
        }
        match c.state() {
            State::SynSent | State::SynReceived => SendOutcome::WouldBlock,
            State::Established | State::CloseWait => match c.write(data) {
                0 => SendOutcome::WouldBlock,
                n => SendOutcome::Queued(n),
            },
            _ => SendOutcome::Failed(TcpError::Closed),
        }
    }

    fn shutdown(&mut self, id: ConnId) {
        if let Some(c) = self.conn_mut(id) {
            c.close();
        }
    }

    fn abort(&mut self, id: ConnId, reason: TcpError) {
        if let Some(c) = self.conn_mut(id) {
            c.abort(reason);
        }
    }

    fn release(&mut self, id: ConnId) {
        if let Some(slot) = self.conns.get_mut(&id) {
            slot.released = true;
            slot.conn.close();
        }
    }

    fn sender_info(&self, id: ConnId) -> TcpSenderInfo {
        let Some(s) = self.slot(id).and_then(|s| s.conn.sender()) else {
            return TcpSenderInfo::default();
        };
        TcpSenderInfo {
            cwnd: Some(s.cwnd()),
            srtt: s.rtt().srtt(),
        }
    }

    fn counters(&self, id: ConnId) -> Vec<(&'static str, u64)> {
        let Some(slot) = self.slot(id) else {
            return Vec::new();
        };
        let st = slot.conn.stats();
        let s = st.sender;
        vec![
            ("segments_sent", s.segments_sent),
            ("bytes_sent", s.bytes_sent),
            ("retransmissions", s.retransmissions),
            ("fast_retransmissions", s.fast_retransmissions),
            ("rtos", s.rtos),
            ("tlps", s.tlps),
            ("recoveries", s.recoveries),
            ("window_probes", s.window_probes),
            ("segments_received", st.segments_received),
            ("acks_sent", st.acks_sent),
        ]
    }

    fn arrivals(&self, id: ConnId) -> Option<Vec<crate::stats::SegmentArrival>> {
        // This stack always records; a connection without a receiver yet has
        // received nothing.
        let records = self
            .slot(id)
            .and_then(|s| s.conn.receiver())
            .map(|r| {
                r.segment_records()
                    .iter()
                    .map(|s| crate::stats::SegmentArrival {
                        arrived: s.arrived,
                        offset: s.offset,
                        len: s.len,
                        readable_at: s.readable_at,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(records)
    }

    fn change_address(&mut self, old: Ipv4Addr, _new: Ipv4Addr) -> Vec<ConnId> {
        let gone: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, s)| *s.conn.local().ip() == old && s.conn.state() != State::Closed)
            .map(|(id, _)| *id)
            .collect();
        for id in &gone {
            if let Some(c) = self.conn_mut(*id) {
                c.abort(TcpError::AddressGone(old));
            }
        }
        gone
    }

    fn handle_packet(&mut self, now: Duration, packet: Vec<u8>) {
        let Ok(seg) = Segment::parse(&packet) else {
            return;
        };
        if let Some(id) = self.by_tuple.get(&(seg.dst, seg.src)).copied() {
            if let Some(slot) = self.conns.get_mut(&id) {
                slot.conn.handle_segment(now, &seg);
                // Answer each segment as it is processed, as Linux does
                // without receive offload: ACK clocking stays per segment.
                while let Some(out) = slot.conn.poll_transmit(now) {
                    self.pending.push(out);
                }
            }
            return;
        }
        let listener = self
            .listeners
            .iter()
            .find(|(_, l)| l.local == seg.dst)
            .map(|(id, _)| *id);
        match listener {
            Some(l) if seg.syn && seg.ack.is_none() && !seg.rst => {
                let iss = self.rng.random::<u32>();
                let conn = Connection::accept(seg.dst, seg.src, iss, &seg, self.config.clone());
                self.insert(conn, Some(l));
            }
            _ if seg.rst => {}
            _ => self.pending.push(Self::reset_for(&seg)),
        }
    }

    fn poll(&mut self, now: Duration, out: &mut Vec<Vec<u8>>) {
        for seg in self.pending.drain(..) {
            self.ip_ident = self.ip_ident.wrapping_add(1);
            out.push(seg.to_ipv4(self.ip_ident));
        }
        let mut ready = Vec::new();
        for (id, slot) in self.conns.iter_mut() {
            let c = &mut slot.conn;
            if c.poll_timeout().is_some_and(|t| now >= t) {
                c.handle_timeout(now);
            }
            while let Some(seg) = c.poll_transmit(now) {
                self.ip_ident = self.ip_ident.wrapping_add(1);
                out.push(seg.to_ipv4(self.ip_ident));
            }
            if let Some(l) = slot.accepted_by {
                if matches!(c.state(), State::Established | State::CloseWait) {
                    ready.push((l, *id));
                    slot.accepted_by = None;
                }
            }
        }
        for (l, id) in ready {
            match self.listeners.get_mut(&l) {
                Some(listener) => listener.ready.push_back(id),
                None => {
                    if let Some(c) = self.conn_mut(id) {
                        c.abort(TcpError::Reset);
                    }
                }
            }
        }
        // Free connections that are over and no longer wanted.
        let done: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, s)| {
                s.conn.state() == State::Closed && (s.released || s.accepted_by.is_some())
            })
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            if let Some(s) = self.conns.remove(&id) {
                self.by_tuple.remove(&(s.conn.local(), s.conn.remote()));
            }
        }
    }

    fn poll_at(&mut self, _now: Duration) -> Option<Duration> {
        self.conns
            .values()
            .filter_map(|s| s.conn.poll_timeout())
            .min()
    }
}
