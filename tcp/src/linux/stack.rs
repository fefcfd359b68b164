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

use super::conn::{Connection, LinuxConfig, State, SYN_TRIES};
use super::recv::{DELACK, MAX_QUICKACKS};
use super::rtt::{INITIAL_RTO, MAX_RTO, MIN_RTO};
use super::segment::Segment;
use super::send::{DUP_THRESH, MIN_PTO};
use crate::stack::{
    check_mtu, ConnId, ConnState, InvalidTcpConfig, ListenerId, RecvOutcome, SendOutcome,
    TcpConfig, TcpError, TcpImplementation, TcpSenderInfo, TcpStack,
};
use crate::{Parameter, SegmentArrival, Value};

#[derive(Debug)]
struct Slot {
    conn: Connection,
    released: bool,
    /// Reached Established (for telling refused from reset).
    accepted_by: Option<ListenerId>,
    /// Something may have changed since `poll` last looked at it: a
    /// segment arrived, or the application called. A clean connection's
    /// timers and output change only with time, at [`Slot::deadline`].
    dirty: bool,
    /// Its `poll_timeout` when `poll` last looked at it (valid while clean).
    deadline: Option<Duration>,
}

/// What stays readable of a connection after the stack freed it: its
/// statistics at that moment, so that they can still be read at the end of
/// a run.
#[derive(Debug)]
struct Finished {
    sender: TcpSenderInfo,
    counters: Vec<(&'static str, u64)>,
    arrivals: Vec<SegmentArrival>,
}

#[derive(Debug)]
struct Listener {
    local: SocketAddrV4,
    /// Connections whose handshake completed, waiting for `accept`.
    ready: VecDeque<ConnId>,
}

/// One host's Linux-like TCP.
///
/// Each connection keeps the MTU the stack had when it was opened or its
/// SYN arrived, as Linux keeps a socket's cached route: after
/// [`TcpStack::set_mtu`] only new connections use the new MTU.
#[derive(Debug)]
pub struct LinuxStack {
    config: LinuxConfig,
    rng: ChaCha8Rng,
    conns: BTreeMap<ConnId, Slot>,
    by_tuple: BTreeMap<(SocketAddrV4, SocketAddrV4), ConnId>,
    listeners: BTreeMap<ListenerId, Listener>,
    /// Connections freed after they closed, with their final statistics.
    finished: BTreeMap<ConnId, Finished>,
    /// Segments to send at the next `poll`: resets for segments that match
    /// no connection, and what each arriving segment triggered.
    pending: Vec<Segment>,
    next_id: u32,
    ip_ident: u16,
}

impl LinuxStack {
    /// A stack whose initial sequence numbers come from `random_seed`.
    /// `config` must pass [`TcpConfig::validate`].
    pub fn new(random_seed: u64, config: &TcpConfig) -> Self {
        LinuxStack {
            config: LinuxConfig {
                buffer: config.buffer_bytes,
                congestion: config.congestion,
                mtu: config.mtu as usize,
                initial_window: config.initial_window,
                pacing: config.pacing,
                ..LinuxConfig::default()
            },
            rng: ChaCha8Rng::seed_from_u64(random_seed),
            conns: BTreeMap::new(),
            by_tuple: BTreeMap::new(),
            listeners: BTreeMap::new(),
            finished: BTreeMap::new(),
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
                dirty: true,
                deadline: None,
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

    /// The connection, to change: the next `poll` looks at it.
    fn conn_mut(&mut self, id: ConnId) -> Option<&mut Connection> {
        self.conns.get_mut(&id).map(|s| {
            s.dirty = true;
            &mut s.conn
        })
    }
}

impl TcpStack for LinuxStack {
    fn implementation(&self) -> TcpImplementation {
        TcpImplementation::Linux
    }

    fn parameters(&self) -> Vec<Parameter> {
        let c = &self.config;
        let mss = c.full_segment_payload();
        let cc = c.congestion_controller(u64::from(mss), 0);
        let iw = cc.cwnd();
        let mut p: Vec<Parameter> = [
            (
                "congestion_control",
                Value::Text(format!("{} ({})", cc.name(), cc.variant())),
            ),
            (
                "initial_window",
                Value::Window {
                    segments: iw / u64::from(mss),
                    bytes: iw,
                },
            ),
            ("mtu", Value::Bytes(c.mtu as u64)),
            ("announced_mss", Value::Bytes(u64::from(c.announced_mss()))),
            ("segment_payload", Value::Bytes(u64::from(mss))),
            ("initial_rto", Value::Duration(INITIAL_RTO)),
            ("min_rto", Value::Duration(MIN_RTO)),
            ("max_rto", Value::Duration(MAX_RTO)),
            ("sack", Value::Switch(c.sack)),
            (
                "loss_recovery",
                Value::Text(
                    "SACK scoreboard (RFC 6675), RACK-TLP (RFC 8985), PRR (RFC 6937)".to_owned(),
                ),
            ),
            ("dup_thresh", Value::Segments(DUP_THRESH)),
            ("min_tlp_timeout", Value::Duration(MIN_PTO)),
            ("delayed_ack", Value::Duration(DELACK)),
            (
                "quick_acks",
                Value::AtMostSegments(u64::from(MAX_QUICKACKS)),
            ),
            ("timestamps", Value::Switch(c.timestamps)),
            ("window_scale", Value::Shift(c.window_shift())),
            ("send_buffer", Value::Bytes(c.buffer as u64)),
            ("receive_buffer", Value::Bytes(c.buffer as u64)),
            ("nagle", Value::Switch(false)),
            ("pacing", Value::Switch(c.paces())),
            ("syn_retries", Value::Count(u64::from(SYN_TRIES - 1))),
        ]
        .into_iter()
        .map(|(k, v)| Parameter::new(k, v))
        .collect();
        // The controller's own settings, after its name, MSS and initial
        // window (already above).
        p.extend(
            cc.parameters()
                .into_iter()
                .map(|q| Parameter::new(format!("{}.{}", cc.name(), q.key), q.value)),
        );
        p
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

    fn readable(&self, id: ConnId) -> bool {
        // As `recv` decides, without reading.
        self.slot(id).is_none_or(|slot| {
            let c = &slot.conn;
            c.receiver().is_some_and(|r| r.has_readable())
                || c.error().is_some()
                || c.at_eof()
                || c.state() == State::Closed
        })
    }

    fn writable(&self, id: ConnId) -> bool {
        // As `send` decides, without writing.
        self.slot(id).is_none_or(|slot| {
            let c = &slot.conn;
            if c.error().is_some() {
                return true;
            }
            match c.state() {
                State::SynSent | State::SynReceived => false,
                State::Established | State::CloseWait => {
                    c.sender().is_some_and(|s| s.accepts_data())
                }
                _ => true,
            }
        })
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
            slot.dirty = true;
            slot.released = true;
            slot.conn.close();
        }
    }

    fn sender_info(&self, id: ConnId) -> TcpSenderInfo {
        match self.slot(id) {
            Some(slot) => sender_info(&slot.conn),
            None => self.finished.get(&id).map(|f| f.sender).unwrap_or_default(),
        }
    }

    fn counters(&self, id: ConnId) -> Vec<(&'static str, u64)> {
        match self.slot(id) {
            Some(slot) => counters(&slot.conn),
            None => self
                .finished
                .get(&id)
                .map(|f| f.counters.clone())
                .unwrap_or_default(),
        }
    }

    fn arrivals(&self, id: ConnId) -> Option<Vec<SegmentArrival>> {
        // This stack always records; a connection without a receiver yet has
        // received nothing, and a finished one keeps its record.
        Some(match self.slot(id) {
            Some(slot) => arrivals(&slot.conn),
            None => self
                .finished
                .get(&id)
                .map(|f| f.arrivals.clone())
                .unwrap_or_default(),
        })
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

    fn set_mtu(&mut self, mtu: u32) -> Result<(), InvalidTcpConfig> {
        check_mtu(mtu)?;
        self.config.mtu = mtu as usize;
        Ok(())
    }

    fn handle_packet(&mut self, now: Duration, packet: Vec<u8>) {
        let Ok(seg) = Segment::parse(&packet) else {
            return;
        };
        if let Some(id) = self.by_tuple.get(&(seg.dst, seg.src)).copied() {
            if let Some(slot) = self.conns.get_mut(&id) {
                slot.dirty = true;
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
        let mut done = Vec::new();
        for (id, slot) in self.conns.iter_mut() {
            // A clean connection before its deadline has nothing to do:
            // what it would send and when it times out follow from its
            // state alone, and that state has not changed.
            if !slot.dirty && slot.deadline.is_none_or(|t| now < t) {
                continue;
            }
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
            // Free connections that are over and no longer wanted.
            if c.state() == State::Closed && (slot.released || slot.accepted_by.is_some()) {
                done.push(*id);
            }
            slot.dirty = false;
            slot.deadline = c.poll_timeout();
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
        for id in done {
            if let Some(s) = self.conns.remove(&id) {
                self.by_tuple.remove(&(s.conn.local(), s.conn.remote()));
                self.finished.insert(
                    id,
                    Finished {
                        sender: sender_info(&s.conn),
                        counters: counters(&s.conn),
                        arrivals: arrivals(&s.conn),
                    },
                );
            }
        }
    }

    fn poll_at(&mut self, _now: Duration) -> Option<Duration> {
        self.conns
            .values()
            .filter_map(|s| {
                if s.dirty {
                    s.conn.poll_timeout()
                } else {
                    s.deadline
                }
            })
            .min()
    }
}

/// A connection's congestion window and smoothed RTT.
fn sender_info(conn: &Connection) -> TcpSenderInfo {
    let Some(s) = conn.sender() else {
        return TcpSenderInfo::default();
    };
    TcpSenderInfo {
        cwnd: Some(s.cwnd()),
        srtt: s.rtt().srtt(),
    }
}

/// A connection's own counters, by name; a paced connection adds its
/// pacing rate (`pacing_rate_bps`, bits per second, once it has one).
fn counters(conn: &Connection) -> Vec<(&'static str, u64)> {
    let st = conn.stats();
    let s = st.sender;
    let mut counters = vec![
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
    ];
    if let Some(rate) = conn.sender().and_then(|s| s.pacing_rate()) {
        counters.push(("pacing_rate_bps", rate.saturating_mul(8)));
    }
    if let Some(s) = conn.sender() {
        counters.extend(s.cc_state());
    }
    counters
}

/// Every data segment a connection received, with when its bytes became
/// readable.
fn arrivals(conn: &Connection) -> Vec<SegmentArrival> {
    conn.receiver()
        .map(|r| {
            r.segment_records()
                .iter()
                .map(|s| SegmentArrival {
                    arrived: s.arrived,
                    offset: s.offset,
                    len: s.len,
                    readable_at: s.readable_at,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 1, 2), 49152);
    const SERVER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 443);

    /// Run both stacks from `from` to `to`, 1 ms at a time, each packet
    /// delivered in the millisecond it was sent.
    fn pump(a: &mut LinuxStack, b: &mut LinuxStack, from: u64, to: u64) {
        for t in from..to {
            let now = Duration::from_millis(t);
            let mut out = Vec::new();
            a.poll(now, &mut out);
            for p in out.drain(..) {
                b.handle_packet(now, p);
            }
            b.poll(now, &mut out);
            for p in out.drain(..) {
                a.handle_packet(now, p);
            }
        }
    }

    #[test]
    fn a_freed_connection_keeps_its_final_statistics() {
        let config = TcpConfig::default();
        let (mut client, mut server) = (LinuxStack::new(1, &config), LinuxStack::new(2, &config));
        let listener = server.listen(SERVER).unwrap();
        let c = client.connect(CLIENT, SERVER).unwrap();
        pump(&mut client, &mut server, 0, 10);
        let s = server.accept(listener).expect("an established connection");
        assert_eq!(server.send(s, &[7; 20_000]), SendOutcome::Queued(20_000));
        pump(&mut client, &mut server, 10, 100);
        let mut buf = vec![0; 30_000];
        assert_eq!(client.recv(c, &mut buf), RecvOutcome::Data(20_000));
        let open = (server.sender_info(s), server.counters(s));
        assert!(open.0.cwnd.is_some());
        // The client closes first, then the server: the server's side ends
        // in LAST-ACK → CLOSED and the stack frees it.
        client.release(c);
        pump(&mut client, &mut server, 100, 200);
        server.release(s);
        pump(&mut client, &mut server, 200, 300);
        assert!(
            server.slot(s).is_none(),
            "the server's connection was freed"
        );
        let counter =
            |cs: &[(&str, u64)], name: &str| cs.iter().find(|(k, _)| *k == name).map_or(0, |c| c.1);
        let last = server.counters(s);
        assert_eq!(counter(&last, "bytes_sent"), 20_000);
        // Read after the connection ended: the client's FIN and last ACK
        // are counted.
        assert!(
            counter(&last, "segments_received") > counter(&open.1, "segments_received"),
            "{last:?} vs {:?}",
            open.1
        );
        assert_eq!(server.sender_info(s).cwnd, open.0.cwnd);
        assert!(server.counters(ConnId(999)).is_empty());
    }

    #[test]
    fn parameters_come_from_the_configuration() {
        let stack = LinuxStack::new(1, &TcpConfig::default());
        let values = |stack: &LinuxStack| -> BTreeMap<String, Value> {
            stack
                .parameters()
                .into_iter()
                .map(|p| (p.key, p.value))
                .collect()
        };
        let p = values(&stack);
        assert_eq!(stack.implementation(), TcpImplementation::Linux);
        assert_eq!(
            p["congestion_control"],
            Value::Text(
                "cubic (Linux tcp_cubic.c 6.18: integer segments, β 717/1024, HyStart ACK-train + delay)"
                    .into()
            )
        );
        assert_eq!(
            p["initial_window"],
            Value::Window {
                segments: 10,
                bytes: 14480
            }
        );
        assert_eq!(p["segment_payload"], Value::Bytes(1448));
        assert_eq!(p["min_rto"], Value::Duration(Duration::from_millis(200)));
        assert_eq!(p["initial_rto"], Value::Duration(Duration::from_secs(1)));
        assert_eq!(p["delayed_ack"], Value::Duration(Duration::from_millis(40)));
        assert_eq!(p["send_buffer"], Value::Bytes(4 << 20));
        assert_eq!(p["window_scale"], Value::Shift(7));
        assert_eq!(p["sack"], Value::Switch(true));
        assert_eq!(p["cubic.beta"], Value::Text("717/1024".into()));
        let reno = LinuxStack::new(
            1,
            &TcpConfig {
                congestion: crate::Congestion::Reno,
                buffer_bytes: 1 << 20,
                ..TcpConfig::default()
            },
        );
        let p = values(&reno);
        assert_eq!(
            p["congestion_control"],
            Value::Text("newreno (RFC 5681 + RFC 6582)".into())
        );
        assert_eq!(p["receive_buffer"], Value::Bytes(1 << 20));
        assert!(p.contains_key("newreno.slow_start_l_segments"));
        let rfc = LinuxStack::new(
            1,
            &TcpConfig {
                congestion: crate::Congestion::CubicRfc9438,
                ..TcpConfig::default()
            },
        );
        let p = values(&rfc);
        assert_eq!(
            p["congestion_control"],
            Value::Text("cubic-rfc9438 (RFC 9438 + HyStart++)".into())
        );
        assert_eq!(p["cubic-rfc9438.beta"], Value::Number(0.7));
        assert_eq!(values(&stack)["pacing"], Value::Switch(false));
        let paced = LinuxStack::new(
            1,
            &TcpConfig {
                initial_window: 4,
                pacing: crate::Pacing::On,
                ..TcpConfig::default()
            },
        );
        let p = values(&paced);
        assert_eq!(
            p["initial_window"],
            Value::Window {
                segments: 4,
                bytes: 4 * 1448
            }
        );
        assert_eq!(p["pacing"], Value::Switch(true));
    }
}
