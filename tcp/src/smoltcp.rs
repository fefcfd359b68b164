//! [`TcpStack`] on smoltcp's TCP.
//!
//! smoltcp is RFC-minimal rather than Linux-like (initial window of two
//! 1024-byte segments, 1 s minimum RTO, one-segment fast retransmit, incoming
//! SACK ignored); see `shared/design/dependencies.md`. The lab configures it
//! as far as its API allows: CUBIC or Reno, window scaling from a large
//! receive buffer, reassembly of up to 32 out-of-order ranges, Nagle off.
//!
//! smoltcp reads its device's MTU once, when the interface is made, and
//! every socket of the interface announces its MSS from it (the MTU less
//! 40 bytes) and sends at most that. [`TcpStack::set_mtu`] therefore makes
//! a new interface with the same addresses: the sockets stay, and every one
//! of them, open or new, uses the new MTU from then on.

use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpCidr, IpEndpoint, IpListenEndpoint};

use crate::stack::{
    check_mtu, Congestion, ConnId, ConnState, InvalidTcpConfig, ListenerId, RecvOutcome,
    SendOutcome, TcpConfig, TcpError, TcpImplementation, TcpSenderInfo, TcpStack,
};
use crate::{Parameter, Value};

/// Listening sockets kept open per listener, so that simultaneous SYNs (a
/// browser opening six connections at once) all find a socket.
const BACKLOG: usize = 16;
/// Prefix of every interface address: one /8 holds every address the lab
/// uses, so every peer is on-link.
const PREFIX_LEN: u8 = 8;

/// IPv4 and TCP headers without options: the MTU less this is the MSS
/// smoltcp announces.
const IP_TCP_HEADERS: u32 = 40;

fn to_instant(now: Duration) -> Instant {
    Instant::from_micros(now.as_micros() as i64)
}

fn to_duration(t: Instant) -> Duration {
    Duration::from_micros(t.total_micros().max(0) as u64)
}

/// smoltcp's view of the wire: two packet queues, and the link's MTU
/// (whole IP packets).
#[derive(Debug)]
struct PacketQueues {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
    mtu: usize,
}

struct RxToken(Vec<u8>);
struct TxToken<'a>(&'a mut Vec<Vec<u8>>);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        self.0.push(buf);
        r
    }
}

impl phy::Device for PacketQueues {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _: Instant) -> Option<(RxToken, TxToken<'_>)> {
        let packet = self.rx.pop_front()?;
        Some((RxToken(packet), TxToken(&mut self.tx)))
    }

    fn transmit(&mut self, _: Instant) -> Option<TxToken<'_>> {
        Some(TxToken(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = self.mtu;
        caps
    }
}

#[derive(Debug)]
struct Conn {
    handle: SocketHandle,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    /// Set once the connection reached Established.
    established: bool,
    /// A failure decided by the lab (abort, address gone).
    failure: Option<TcpError>,
    /// The application dropped its handle.
    released: bool,
}

#[derive(Debug)]
struct Listener {
    local: SocketAddrV4,
    listening: Vec<SocketHandle>,
    /// Sockets that left the listening state, oldest first.
    pending: VecDeque<SocketHandle>,
}

/// One host's smoltcp interface and sockets.
pub struct SmoltcpStack {
    iface: Interface,
    queues: PacketQueues,
    sockets: SocketSet<'static>,
    conns: BTreeMap<ConnId, Conn>,
    listeners: BTreeMap<ListenerId, Listener>,
    next_id: u32,
    config: TcpConfig,
    /// The seed of the first interface; later ones (after an MTU change)
    /// derive theirs from it.
    random_seed: u64,
    /// Interfaces made after the first (one per MTU change).
    interfaces_replaced: u64,
    /// The time of the last call that passed one in.
    now: Duration,
}

impl std::fmt::Debug for SmoltcpStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmoltcpStack")
            .field("conns", &self.conns.len())
            .field("listeners", &self.listeners.len())
            .finish()
    }
}

impl SmoltcpStack {
    /// A stack with one address, `addr`. `random_seed` fixes smoltcp's
    /// initial sequence numbers. `config` must pass
    /// [`TcpConfig::validate`].
    pub fn new(addr: Ipv4Addr, random_seed: u64, config: TcpConfig, now: Duration) -> Self {
        let mut queues = PacketQueues {
            rx: VecDeque::new(),
            tx: Vec::new(),
            mtu: config.mtu as usize,
        };
        let iface = interface(
            random_seed,
            &mut queues,
            now,
            &[IpCidr::new(addr.into(), PREFIX_LEN)],
        );
        SmoltcpStack {
            iface,
            queues,
            sockets: SocketSet::new(Vec::new()),
            conns: BTreeMap::new(),
            listeners: BTreeMap::new(),
            next_id: 0,
            config,
            random_seed,
            interfaces_replaced: 0,
            now,
        }
    }

    fn new_socket(&mut self) -> SocketHandle {
        let socket = self.configured_socket(self.config.buffer_bytes);
        self.sockets.add(socket)
    }

    /// A socket with `buffer_bytes` send and receive buffers, configured as
    /// every socket of this stack is.
    fn configured_socket(&self, buffer_bytes: usize) -> tcp::Socket<'static> {
        let rx = tcp::SocketBuffer::new(vec![0u8; buffer_bytes]);
        let tx = tcp::SocketBuffer::new(vec![0u8; buffer_bytes]);
        let mut socket = tcp::Socket::new(rx, tx);
        socket.set_nagle_enabled(self.config.nagle);
        socket.set_congestion_control(match self.config.congestion {
            Congestion::Cubic | Congestion::CubicRfc9438 => tcp::CongestionControl::Cubic,
            Congestion::Reno => tcp::CongestionControl::Reno,
            // smoltcp 0.14 has no BBR; `TcpConfig::validate` rejects it.
            Congestion::Bbr => unreachable!("TcpConfig::validate rejects bbr for smoltcp"),
        });
        socket
    }

    fn next_id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    fn listen_socket(&mut self, local: SocketAddrV4) -> Result<SocketHandle, TcpError> {
        let handle = self.new_socket();
        let endpoint = IpListenEndpoint {
            addr: Some((*local.ip()).into()),
            port: local.port(),
        };
        self.sockets
            .get_mut::<tcp::Socket<'_>>(handle)
            .listen(endpoint)
            .map_err(|_| TcpError::AddrInUse(local))?;
        Ok(handle)
    }

    /// Move sockets that received a SYN from the listening set to the
    /// backlog, and open fresh listening sockets in their place.
    fn refill_listeners(&mut self) {
        let ids: Vec<ListenerId> = self.listeners.keys().copied().collect();
        for id in ids {
            let listener = self.listeners.get_mut(&id).expect("listener id");
            let mut moved = 0;
            let sockets = &self.sockets;
            listener.listening.retain(|h| {
                let listening = sockets.get::<tcp::Socket<'_>>(*h).is_listening();
                if !listening {
                    listener.pending.push_back(*h);
                    moved += 1;
                }
                listening
            });
            let local = listener.local;
            for _ in 0..moved {
                if let Ok(h) = self.listen_socket(local) {
                    self.listeners
                        .get_mut(&id)
                        .expect("listener id")
                        .listening
                        .push(h);
                }
            }
        }
    }

    /// Free sockets whose handles were released and that are closed.
    fn reap(&mut self) {
        let done: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                c.released
                    && matches!(
                        self.sockets.get::<tcp::Socket<'_>>(c.handle).state(),
                        tcp::State::Closed | tcp::State::TimeWait
                    )
            })
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            if let Some(c) = self.conns.remove(&id) {
                self.sockets.remove(c.handle);
            }
        }
    }

    /// The socket of a connection the lab has not failed, and whether it
    /// ever reached Established.
    fn usable(&mut self, conn: ConnId) -> Result<(&mut tcp::Socket<'static>, bool), TcpError> {
        let c = self.conns.get(&conn).ok_or(TcpError::Unknown)?;
        if let Some(e) = &c.failure {
            return Err(e.clone());
        }
        let established = c.established;
        Ok((
            self.sockets.get_mut::<tcp::Socket<'static>>(c.handle),
            established,
        ))
    }

    fn socket(&self, conn: ConnId) -> Option<(&Conn, &tcp::Socket<'static>)> {
        let c = self.conns.get(&conn)?;
        Some((c, self.sockets.get::<tcp::Socket<'static>>(c.handle)))
    }
}

impl TcpStack for SmoltcpStack {
    fn implementation(&self) -> TcpImplementation {
        TcpImplementation::Smoltcp
    }

    fn parameters(&self) -> Vec<Parameter> {
        // Read from a socket configured as the stack's are (without its
        // buffers); smoltcp keeps its initial window and RTO bounds private,
        // so those are stated as smoltcp 0.14 fixes them.
        let socket = self.configured_socket(0);
        let cc = match socket.congestion_control() {
            tcp::CongestionControl::None => "none",
            tcp::CongestionControl::Reno => "reno",
            tcp::CongestionControl::Cubic => "cubic",
        };
        let delayed_ack = socket
            .ack_delay()
            .map(|d| Box::new(Value::Duration(d.into())));
        let fixed = |what: &str| Value::Text(format!("{what} (fixed in smoltcp 0.14)"));
        [
            ("congestion_control", Value::Text(cc.to_owned())),
            ("initial_window", fixed("2 segments of 1024 bytes")),
            ("mtu", Value::Bytes(u64::from(self.config.mtu))),
            (
                "announced_mss",
                Value::Bytes(u64::from(self.config.mtu - IP_TCP_HEADERS)),
            ),
            ("initial_rto", fixed("1 s")),
            ("min_rto", fixed("1 s")),
            (
                "sack",
                Value::Text("one block sent, incoming blocks ignored (smoltcp 0.14)".to_owned()),
            ),
            (
                "reassembly_ranges",
                Value::Count(smoltcp::config::ASSEMBLER_MAX_SEGMENT_COUNT as u64),
            ),
            ("delayed_ack", Value::Optional(delayed_ack)),
            ("nagle", Value::Switch(socket.nagle_enabled())),
            ("send_buffer", Value::Bytes(self.config.buffer_bytes as u64)),
            (
                "receive_buffer",
                Value::Bytes(self.config.buffer_bytes as u64),
            ),
        ]
        .into_iter()
        .map(|(k, v)| Parameter::new(k, v))
        .collect()
    }

    fn listen(&mut self, local: SocketAddrV4) -> Result<ListenerId, TcpError> {
        if self.listeners.values().any(|l| l.local == local) {
            return Err(TcpError::AddrInUse(local));
        }
        let mut listening = Vec::with_capacity(BACKLOG);
        for _ in 0..BACKLOG {
            listening.push(self.listen_socket(local)?);
        }
        let id = ListenerId(self.next_id());
        self.listeners.insert(
            id,
            Listener {
                local,
                listening,
                pending: VecDeque::new(),
            },
        );
        Ok(id)
    }

    fn accept(&mut self, listener: ListenerId) -> Option<ConnId> {
        let l = self.listeners.get_mut(&listener)?;
        // Take the oldest pending socket that finished its handshake; drop
        // the ones that died during it.
        let sockets = &mut self.sockets;
        let mut dead = Vec::new();
        let mut found = None;
        for (i, h) in l.pending.iter().enumerate() {
            match sockets.get::<tcp::Socket<'_>>(*h).state() {
                tcp::State::SynReceived => {}
                tcp::State::Closed => dead.push(i),
                _ => {
                    found = Some(i);
                    break;
                }
            }
        }
        let handle = found.map(|i| l.pending.remove(i).expect("index"));
        for i in dead.into_iter().rev() {
            if found.is_none_or(|f| i < f) {
                if let Some(h) = l.pending.remove(i) {
                    sockets.remove(h);
                }
            }
        }
        let handle = handle?;
        let socket = self.sockets.get::<tcp::Socket<'_>>(handle);
        let (local, remote) = match (socket.local_endpoint(), socket.remote_endpoint()) {
            (Some(l), Some(r)) => (endpoint_v4(l), endpoint_v4(r)),
            _ => return None,
        };
        let id = ConnId(self.next_id());
        self.conns.insert(
            id,
            Conn {
                handle,
                local,
                remote,
                established: true,
                failure: None,
                released: false,
            },
        );
        Some(id)
    }

    fn close_listener(&mut self, listener: ListenerId) {
        if let Some(l) = self.listeners.remove(&listener) {
            for h in l.listening.into_iter().chain(l.pending) {
                self.sockets.get_mut::<tcp::Socket<'_>>(h).abort();
                self.sockets.remove(h);
            }
        }
    }

    fn connect(&mut self, local: SocketAddrV4, remote: SocketAddrV4) -> Result<ConnId, TcpError> {
        let handle = self.new_socket();
        let cx = self.iface.context();
        let remote_ep = IpEndpoint::new((*remote.ip()).into(), remote.port());
        let local_ep = IpListenEndpoint {
            addr: Some((*local.ip()).into()),
            port: local.port(),
        };
        if self
            .sockets
            .get_mut::<tcp::Socket<'_>>(handle)
            .connect(cx, remote_ep, local_ep)
            .is_err()
        {
            self.sockets.remove(handle);
            return Err(TcpError::AddrInUse(local));
        }
        let id = ConnId(self.next_id());
        self.conns.insert(
            id,
            Conn {
                handle,
                local,
                remote,
                established: false,
                failure: None,
                released: false,
            },
        );
        Ok(id)
    }

    fn state(&self, conn: ConnId) -> ConnState {
        let Some((c, s)) = self.socket(conn) else {
            return ConnState::Closed(Some(TcpError::Unknown));
        };
        if let Some(e) = &c.failure {
            return ConnState::Closed(Some(e.clone()));
        }
        match s.state() {
            tcp::State::SynSent | tcp::State::SynReceived | tcp::State::Listen => {
                ConnState::Connecting
            }
            tcp::State::Closed if !c.established => ConnState::Closed(Some(TcpError::Refused)),
            tcp::State::Closed => ConnState::Closed(None),
            _ => ConnState::Established,
        }
    }

    fn endpoints(&self, conn: ConnId) -> Option<(SocketAddrV4, SocketAddrV4)> {
        self.conns.get(&conn).map(|c| (c.local, c.remote))
    }

    fn recv(&mut self, conn: ConnId, buf: &mut [u8]) -> RecvOutcome {
        let (socket, established) = match self.usable(conn) {
            Ok(s) => s,
            Err(e) => return RecvOutcome::Failed(e),
        };
        match socket.recv_slice(buf) {
            Ok(0) => RecvOutcome::WouldBlock,
            Ok(n) => RecvOutcome::Data(n),
            Err(tcp::RecvError::Finished) => RecvOutcome::Eof,
            Err(tcp::RecvError::InvalidState) => match socket.state() {
                tcp::State::SynSent | tcp::State::SynReceived => RecvOutcome::WouldBlock,
                _ => RecvOutcome::Failed(closed_error(established)),
            },
        }
    }

    fn send(&mut self, conn: ConnId, data: &[u8]) -> SendOutcome {
        let (socket, established) = match self.usable(conn) {
            Ok(s) => s,
            Err(e) => return SendOutcome::Failed(e),
        };
        match socket.state() {
            tcp::State::SynSent | tcp::State::SynReceived => return SendOutcome::WouldBlock,
            tcp::State::Closed => return SendOutcome::Failed(closed_error(established)),
            _ => {}
        }
        match socket.send_slice(data) {
            Ok(0) => SendOutcome::WouldBlock,
            Ok(n) => SendOutcome::Queued(n),
            Err(_) => SendOutcome::Failed(TcpError::Closed),
        }
    }

    fn readable(&self, conn: ConnId) -> bool {
        // Exact while the connection is open; during the handshake and
        // after it `true` (a wasted poll at most).
        self.socket(conn)
            .is_none_or(|(c, s)| c.failure.is_some() || s.can_recv() || !s.may_recv())
    }

    fn writable(&self, conn: ConnId) -> bool {
        self.socket(conn)
            .is_none_or(|(c, s)| c.failure.is_some() || s.can_send() || !s.may_send())
    }

    fn shutdown(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get(&conn) {
            self.sockets.get_mut::<tcp::Socket<'_>>(c.handle).close();
        }
    }

    fn abort(&mut self, conn: ConnId, reason: TcpError) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.failure.get_or_insert(reason);
            self.sockets.get_mut::<tcp::Socket<'_>>(c.handle).abort();
        }
    }

    fn release(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.released = true;
            self.sockets.get_mut::<tcp::Socket<'_>>(c.handle).close();
        }
    }

    fn sender_info(&self, _conn: ConnId) -> TcpSenderInfo {
        // smoltcp keeps its congestion window and RTT estimate private.
        TcpSenderInfo::default()
    }

    fn change_address(&mut self, old: Ipv4Addr, new: Ipv4Addr) -> Vec<ConnId> {
        let gone: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| *c.local.ip() == old && c.failure.is_none())
            .map(|(id, _)| *id)
            .collect();
        for id in &gone {
            self.abort(*id, TcpError::AddressGone(old));
        }
        self.iface.update_ip_addrs(|addrs| {
            addrs.retain(|a| a.address() != old.into());
            // Two slots: this cannot fail after removing the old one.
            let _ = addrs.push(IpCidr::new(new.into(), PREFIX_LEN));
        });
        gone
    }

    fn set_mtu(&mut self, mtu: u32) -> Result<(), InvalidTcpConfig> {
        check_mtu(mtu)?;
        if mtu == self.config.mtu {
            return Ok(());
        }
        self.config.mtu = mtu;
        self.queues.mtu = mtu as usize;
        // A new interface reads the new MTU. Its random stream (initial
        // sequence numbers, IP identification) is one of its own, derived
        // from the first interface's seed, so that no sequence number
        // repeats.
        self.interfaces_replaced += 1;
        let seed = self
            .random_seed
            .wrapping_add(self.interfaces_replaced.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let addrs: Vec<IpCidr> = self.iface.ip_addrs().to_vec();
        self.iface = interface(seed, &mut self.queues, self.now, &addrs);
        Ok(())
    }

    fn handle_packet(&mut self, now: Duration, packet: Vec<u8>) {
        self.now = now;
        self.queues.rx.push_back(packet);
    }

    fn poll(&mut self, now: Duration, out: &mut Vec<Vec<u8>>) {
        self.now = now;
        self.iface
            .poll(to_instant(now), &mut self.queues, &mut self.sockets);
        for c in self.conns.values_mut() {
            if !c.established {
                let s = self.sockets.get::<tcp::Socket<'_>>(c.handle);
                c.established = s.may_send() || s.may_recv();
            }
        }
        self.refill_listeners();
        self.reap();
        out.append(&mut self.queues.tx);
    }

    fn poll_at(&mut self, now: Duration) -> Option<Duration> {
        self.iface
            .poll_at(to_instant(now), &self.sockets)
            .map(to_duration)
    }
}

/// A smoltcp interface on `queues` (whose MTU it reads) with the addresses
/// `addrs`, its random choices seeded with `random_seed`.
fn interface(
    random_seed: u64,
    queues: &mut PacketQueues,
    now: Duration,
    addrs: &[IpCidr],
) -> Interface {
    let mut config = Config::new(HardwareAddress::Ip);
    config.random_seed = random_seed;
    let mut iface = Interface::new(config, queues, to_instant(now));
    iface.update_ip_addrs(|a| {
        for addr in addrs {
            a.push(*addr).expect("room for the stack's addresses");
        }
    });
    iface
}

/// How a closed connection failed: refused if it never got established,
/// reset if it did.
fn closed_error(established: bool) -> TcpError {
    if established {
        TcpError::Reset
    } else {
        TcpError::Refused
    }
}

fn endpoint_v4(ep: IpEndpoint) -> SocketAddrV4 {
    let smoltcp::wire::IpAddress::Ipv4(a) = ep.addr;
    SocketAddrV4::new(a, ep.port)
}
