//! A simulated host: its address, its TCP stack, its UDP sockets, and the
//! task (the *driver*) that moves packets between them and the wire.
//!
//! A [`Host`] composes parts that each own one thing:
//! - the [`Wire`] and its [`Inbox`] (`crate::wire`) carry packets to and
//!   from the peer;
//! - the demultiplexer here hands an arrived packet to the TCP stack or to
//!   the UDP socket bound to its port;
//! - [`FlowStats`] (`crate::stats`) counts each flow's packets, bytes,
//!   retransmissions and RTT samples at the host's NIC;
//! - a [`PcapRecorder`] (`crate::capture`) records the packets, when asked;
//! - the [`Registry`] (`crate::accepted`) keeps the connections it accepted.
//!
//! The driver delivers due packets, polls the TCP stack, and wakes tasks
//! waiting on sockets. Application calls on sockets take the host's lock,
//! act, and nudge the driver.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;

use tokio::sync::{watch, Notify};

use crate::accepted::{Entry, Registry};
use crate::capture::{KeyLogCollector, PcapRecorder, QlogCollector};
use crate::clock::now;
use crate::congestion::QuicCongestion;
use crate::link::Fate;
use crate::network::{Network, Side, CLIENT_ADDR, SERVER_ADDR};
use crate::packet::{self, FlowKey, PacketSummary, IPPROTO_TCP, IPPROTO_UDP};
use crate::seed;
use crate::settings::Settings;
use crate::stats::{FlowStats, TransportStats};
pub(crate) use crate::sync::lock;
use crate::tls;
use crate::wire::{Inbox, Wire, Wires};
use tcp::{build_stack, ConnId, TcpConfig, TcpStack};

/// First port handed out for outgoing connections and unbound sockets.
const EPHEMERAL_START: u16 = 49152;
/// Datagrams a UDP socket queues before dropping (like a socket receive
/// buffer). Drops are counted in the host's stats.
const UDP_QUEUE: usize = 8192;

#[derive(Debug)]
pub(crate) struct UdpSlot {
    pub(crate) addr: Ipv4Addr,
    pub(crate) queue: VecDeque<(SocketAddrV4, Vec<u8>)>,
    pub(crate) waker: Option<Waker>,
}

/// What a task waiting on the TCP stack waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Interest {
    /// A connection in a listener's backlog (woken after every step: a
    /// host has a listener or two).
    Accept,
    /// The end of a connection's handshake.
    Connect(ConnId),
    /// Something for `recv` on the connection.
    Read(ConnId),
    /// Room for `send` on the connection.
    Write(ConnId),
}

/// A task waiting on the TCP stack, and for what.
#[derive(Debug)]
struct Waiter {
    interest: Interest,
    waker: Waker,
}

#[derive(Debug)]
pub(crate) struct HostState {
    pub(crate) address: Ipv4Addr,
    pub(crate) tcp: Box<dyn TcpStack>,
    /// In the order they registered; a step wakes those whose interest
    /// holds, in that order, and keeps the others.
    tcp_waiters: Vec<Waiter>,
    pub(crate) udp: BTreeMap<u16, UdpSlot>,
    pub(crate) udp_queue_drops: u64,
    inbox: Inbox,
    capture: Option<PcapRecorder>,
    flows: FlowStats,
    ip_ident: u16,
    next_port: u16,
    used_ports: BTreeSet<u16>,
    /// What the path change changes on this host, until it happened.
    path_change: Option<HostChange>,
    pub(crate) endpoints_made: u32,
}

/// What a path change changes on one host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct HostChange {
    /// When, on this host's clock (the network's time of the change, less
    /// the client's lag behind it: `Network::host_time`).
    at: Duration,
    /// The host gets a new address (the client does).
    address: bool,
    /// The host's link MTU becomes this, when the new path's MTU differs
    /// from the old one's.
    mtu: Option<u32>,
}

impl HostChange {
    /// What the network's path change changes on `side`, if anything.
    ///
    /// Both hosts take the new path's MTU as their link's (a real host
    /// announces its MSS from its own interface's MTU; on the lab's
    /// dumbbell, the path is both hosts' link), so that TCP connections
    /// made after the change, on either side, announce the new path's MSS.
    /// Connections already open keep theirs (see the TCP stacks).
    fn of(network: &Network, side: Side) -> Option<HostChange> {
        let config = network.config();
        let change = config.path_change.as_ref()?;
        let (old, new) = (config.path.mtu(), change.path.mtu());
        let change = HostChange {
            at: network.host_time(side, change.at),
            address: side == Side::Client,
            mtu: (new != old).then_some(new),
        };
        (change.address || change.mtu.is_some()).then_some(change)
    }
}

impl HostState {
    /// Register `waker` to be woken after the first driver step after which
    /// `interest` holds.
    pub(crate) fn wait_tcp(&mut self, interest: Interest, waker: &Waker) {
        if !self
            .tcp_waiters
            .iter()
            .any(|w| w.interest == interest && w.waker.will_wake(waker))
        {
            self.tcp_waiters.push(Waiter {
                interest,
                waker: waker.clone(),
            });
        }
    }

    /// Whether what `interest` waits for holds now.
    fn holds(&self, interest: Interest) -> bool {
        match interest {
            Interest::Accept => true,
            Interest::Connect(conn) => !matches!(self.tcp.state(conn), tcp::ConnState::Connecting),
            Interest::Read(conn) => self.tcp.readable(conn),
            Interest::Write(conn) => self.tcp.writable(conn),
        }
    }

    /// Wake, in the order they registered, the waiters whose interest holds
    /// and keep the others. Waking only those is what keeps a host with
    /// many connections cheap: every other task would be polled only to
    /// find that it must wait.
    fn wake_tcp_waiters(&mut self) {
        let waiters = std::mem::take(&mut self.tcp_waiters);
        for w in waiters {
            if self.holds(w.interest) {
                w.waker.wake();
            } else {
                self.tcp_waiters.push(w);
            }
        }
    }

    /// Hand out an unused port.
    pub(crate) fn ephemeral_port(&mut self) -> io::Result<u16> {
        for _ in 0..=(u16::MAX - EPHEMERAL_START) {
            let p = self.next_port;
            self.next_port = if p == u16::MAX {
                EPHEMERAL_START
            } else {
                p + 1
            };
            if !self.used_ports.contains(&p) && !self.udp.contains_key(&p) {
                self.used_ports.insert(p);
                return Ok(p);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            "no free ephemeral port",
        ))
    }

    /// Give a port back.
    pub(crate) fn release_port(&mut self, port: u16) {
        self.used_ports.remove(&port);
    }

    pub(crate) fn next_ip_ident(&mut self) -> u16 {
        self.ip_ident = self.ip_ident.wrapping_add(1);
        self.ip_ident
    }
}

/// What the run hands every host.
#[derive(Debug)]
pub(crate) struct RunShared {
    pub(crate) seed: u64,
    pub(crate) network: Mutex<Network>,
    pub(crate) key_log: Option<Arc<KeyLogCollector>>,
    pub(crate) qlog: Option<Arc<QlogCollector>>,
    pub(crate) buffer_bytes: usize,
    pub(crate) quic: QuicCongestion,
    pub(crate) certificate: &'static tls::Identity,
    /// The wire between the two hosts.
    pub(crate) wires: Arc<Wires>,
}

#[derive(Debug)]
struct HostInner {
    side: Side,
    run: Arc<RunShared>,
    state: Mutex<HostState>,
    driver: Notify,
    wire: Wire,
    address: watch::Sender<Ipv4Addr>,
    /// Every connection the host accepted, in accept order.
    accepted: Registry,
    /// The settings of the first QUIC endpoint made on the host.
    quic_settings: Mutex<Option<Settings>>,
}

thread_local! {
    /// Hosts made on this thread and not yet freed, less those freed on
    /// it that other threads made ([`live_hosts`]).
    static LIVE_HOSTS: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
}

impl Drop for HostInner {
    fn drop(&mut self) {
        LIVE_HOSTS.with(|n| n.set(n.get() - 1));
    }
}

/// Hosts made on this thread that are not yet freed: back where it was
/// once a run on this thread has ended, as every run frees its hosts and
/// everything they hold (sockets, QUIC endpoints and connections, TCP
/// stacks). A test of that: a reference cycle through a host would leave
/// the count up, and the run's memory with it.
pub fn live_hosts() -> isize {
    LIVE_HOSTS.with(|n| n.get())
}

/// A handle to one simulated host (client or server). Cheap to clone.
///
/// Open TCP connections with [`Host::tcp_connect`] and [`Host::tcp_listen`],
/// UDP sockets with [`Host::udp_bind`], QUIC endpoints with the `quic`
/// module. Every packet they send crosses the run's link model.
#[derive(Clone, Debug)]
pub struct Host {
    inner: Arc<HostInner>,
}

impl Host {
    /// Bring up the host `side` inside its runtime (`crate::stepper`):
    /// its TCP stack from `tcp`, seeded from the run seed, and its driver
    /// task.
    pub(crate) fn start(side: Side, run: Arc<RunShared>, tcp: &TcpConfig, capture: bool) -> Host {
        let wire = Wire::new(run.wires.clone(), side);
        let (address, tcp_seed) = match side {
            Side::Client => (CLIENT_ADDR, "tcp/client"),
            Side::Server => (SERVER_ADDR, "tcp/server"),
        };
        let tcp = build_stack(tcp, address, seed::derive_u64(run.seed, tcp_seed), now());
        let path_change = HostChange::of(&lock(&run.network), side);
        let state = HostState {
            address,
            tcp,
            tcp_waiters: Vec::new(),
            udp: BTreeMap::new(),
            udp_queue_drops: 0,
            inbox: Inbox::default(),
            capture: capture.then(PcapRecorder::new),
            flows: FlowStats::default(),
            ip_ident: 0,
            next_port: EPHEMERAL_START,
            used_ports: BTreeSet::new(),
            path_change,
            endpoints_made: 0,
        };
        LIVE_HOSTS.with(|n| n.set(n.get() + 1));
        let host = Host {
            inner: Arc::new(HostInner {
                side,
                run,
                state: Mutex::new(state),
                driver: Notify::new(),
                wire,
                address: watch::channel(address).0,
                accepted: Registry::default(),
                quic_settings: Mutex::new(None),
            }),
        };
        tokio::spawn(host.clone().drive());
        host
    }

    /// Which end of the network this host is.
    pub fn side(&self) -> Side {
        self.inner.side
    }

    /// The host's current address.
    pub fn address(&self) -> Ipv4Addr {
        *self.inner.address.borrow()
    }

    /// The server's address, to connect to.
    pub fn server_addr(&self) -> Ipv4Addr {
        SERVER_ADDR
    }

    /// The run seed.
    pub fn seed(&self) -> u64 {
        self.inner.run.seed
    }

    /// Transport buffer size of the run (TCP send/receive buffers, QUIC
    /// windows), in bytes.
    pub fn buffer_bytes(&self) -> usize {
        self.inner.run.buffer_bytes
    }

    /// The congestion controller and initial window the run gives its QUIC
    /// connections ([`SimConfig::quic`](crate::SimConfig::quic)).
    pub fn quic_congestion(&self) -> QuicCongestion {
        QuicCongestion {
            seed: self.inner.run.seed,
            ..self.inner.run.quic
        }
    }

    /// The smallest MTU of every path the client is on during the run (the
    /// smaller direction of each), in bytes: the largest packet that every
    /// path of the run carries ([`crate::NetworkConfig::smallest_mtu`]).
    pub fn smallest_mtu(&self) -> u32 {
        lock(&self.inner.run.network).config().smallest_mtu()
    }

    /// Resolves when the host's address changes (a path change), with the
    /// new address.
    pub async fn address_changed(&self) -> Ipv4Addr {
        let mut rx = self.inner.address.subscribe();
        let start = *rx.borrow_and_update();
        loop {
            if rx.changed().await.is_err() {
                return start;
            }
            let a = *rx.borrow_and_update();
            if a != start {
                return a;
            }
        }
    }

    /// The run's TLS key-log collector, when key logging is on. Pass it to
    /// the TLS configs (see `tls`).
    pub fn key_log(&self) -> Option<Arc<dyn rustls::KeyLog>> {
        self.inner
            .run
            .key_log
            .clone()
            .map(|k| k as Arc<dyn rustls::KeyLog>)
    }

    /// A qlog stream for this host's next QUIC connection, when the run
    /// records qlog (see [`QlogCollector`]). Event times count from the
    /// run's start, on this host's tokio clock, which is simulated time.
    /// `group_id` is the connection's original destination connection ID,
    /// when known (see [`QlogCollector::open`]).
    pub(crate) fn qlog_stream(&self, group_id: Option<String>) -> Option<quinn::QlogStream> {
        let collector = self.inner.run.qlog.as_ref()?;
        // quinn reads tokio's clock (`Runtime::now`); inside a host it runs
        // in step with `now()`, so the difference is the instant the run
        // started on that clock.
        let tokio_now = tokio::time::Instant::now().into_std();
        let start = tokio_now.checked_sub(now()).unwrap_or(tokio_now);
        collector.open(self.side(), start, group_id)
    }

    /// Whether the run records qlog.
    pub(crate) fn qlog_enabled(&self) -> bool {
        self.inner.run.qlog.is_some()
    }

    /// The run's TLS identity (`SimConfig::certificate`): what the lab's servers
    /// present, and whose trust anchor the lab's clients trust. Build TLS configs with
    /// it (`tls::server_config_for`, `tls::client_tls_for`, ...).
    pub fn certificate(&self) -> &'static tls::Identity {
        self.inner.run.certificate
    }

    /// Name and key parameters of this host's TCP stack.
    pub fn tcp_settings(&self) -> Settings {
        let st = self.state();
        Settings::of_tcp(st.tcp.implementation().label(), st.tcp.parameters())
    }

    /// The settings of the first QUIC endpoint made on this host, if any.
    pub fn quic_settings(&self) -> Option<Settings> {
        lock(&self.inner.quic_settings).clone()
    }

    /// Note the settings of a QUIC endpoint made on this host; the first
    /// endpoint's are kept.
    pub(crate) fn note_quic_settings(&self, settings: impl FnOnce() -> Settings) {
        let mut slot = lock(&self.inner.quic_settings);
        if slot.is_none() {
            *slot = Some(settings());
        }
    }

    /// Register a connection this host accepted (see the `accepted` module).
    pub(crate) fn register_accepted(&self, entry: Entry) {
        self.inner.accepted.register(entry);
    }

    /// The connections this host accepted, in accept order, taken out of
    /// the host (`accepted::Registry::take`): call once, when the run ends.
    pub(crate) fn take_accepted(&self) -> Vec<Entry> {
        self.inner.accepted.take()
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, HostState> {
        lock(&self.inner.state)
    }

    /// Ask the driver to run a step soon (after an application call changed
    /// the TCP stack's state).
    pub(crate) fn nudge(&self) {
        self.inner.driver.notify_one();
    }

    /// Send one IPv4 packet built by this host. Called with the state lock
    /// held.
    pub(crate) fn send_packet(&self, st: &mut HostState, now: Duration, bytes: Vec<u8>) {
        let Ok(summary) = packet::parse(&bytes) else {
            return;
        };
        st.flows.on_send(now, &summary);
        let mut network = lock(&self.inner.run.network);
        let (fate, _) = network.transmit(now, self.inner.side, &summary);
        if let Some(cap) = st.capture.as_mut() {
            let dropped = match fate {
                Fate::Delivered { .. } => None,
                Fate::Dropped(reason) => Some((self.inner.side.direction(), reason)),
            };
            let network_time = network.network_time(self.inner.side, now);
            cap.record_sent(now, network_time, &bytes, dropped);
        }
        drop(network);
        if let Fate::Delivered { at } = fate {
            self.inner.wire.send(at, &bytes);
        }
    }

    /// Hand a packet that arrived (at its delivery time) to TCP or to a UDP
    /// socket.
    fn deliver(&self, st: &mut HostState, now: Duration, bytes: Vec<u8>) {
        let Ok(summary) = packet::parse(&bytes) else {
            return;
        };
        if let Some(cap) = st.capture.as_mut() {
            let network_time = lock(&self.inner.run.network).network_time(self.inner.side, now);
            cap.record_received(now, network_time, &bytes);
        }
        st.flows.on_receive(&summary);
        if *summary.flow.dst.ip() != st.address {
            return;
        }
        match summary.flow.proto {
            IPPROTO_TCP => {
                st.flows.on_ack(now, &summary);
                st.tcp.handle_packet(now, bytes);
            }
            IPPROTO_UDP => self.deliver_udp(st, &summary, &bytes),
            _ => {}
        }
    }

    fn deliver_udp(&self, st: &mut HostState, summary: &PacketSummary, bytes: &[u8]) {
        let port = summary.flow.dst.port();
        let Some(slot) = st.udp.get_mut(&port) else {
            return;
        };
        if slot.addr != *summary.flow.dst.ip() {
            return;
        }
        if slot.queue.len() >= UDP_QUEUE {
            st.udp_queue_drops += 1;
            return;
        }
        slot.queue
            .push_back((summary.flow.src, packet::udp_payload(bytes).to_vec()));
        if let Some(w) = slot.waker.take() {
            w.wake();
        }
    }

    /// One driver step at `now`. Returns when the next step is due.
    fn step(&self, now: Duration) -> Option<Duration> {
        let mut st = self.state();
        if let Some(change) = st.path_change.filter(|c| now >= c.at) {
            st.path_change = None;
            if let Some(mtu) = change.mtu {
                st.tcp
                    .set_mtu(mtu)
                    .expect("a link's MTU is one TCP accepts (validated at build time)");
            }
            if change.address {
                self.change_address(&mut st);
            }
        }
        while let Some(packet) = st.inbox.pop_due(now) {
            self.deliver(&mut st, now, packet);
        }
        let mut out = Vec::new();
        st.tcp.poll(now, &mut out);
        for p in out {
            self.send_packet(&mut st, now, p);
        }
        st.wake_tcp_waiters();
        let next_arrival = st.inbox.next_at();
        let next_tcp = st.tcp.poll_at(now);
        [next_arrival, next_tcp, st.path_change.map(|c| c.at)]
            .into_iter()
            .flatten()
            .min()
    }

    fn change_address(&self, st: &mut HostState) {
        let old = st.address;
        let net = lock(&self.inner.run.network);
        let new = net.client_addr_at(net.network_time(self.inner.side, now()));
        drop(net);
        if old == new {
            return;
        }
        st.address = new;
        st.tcp.change_address(old, new);
        for slot in st.udp.values_mut() {
            if let Some(w) = slot.waker.take() {
                w.wake();
            }
        }
        self.inner.address.send_replace(new);
    }

    async fn drive(self) {
        loop {
            self.inner.wire.receive(&mut self.state().inbox);
            let now = now();
            let next = self.step(now);
            // tokio's timers have 1 ms resolution; a deadline that is now or
            // past is served on the next tick.
            let wait = next.map_or(Duration::from_secs(3600), |t| {
                t.saturating_sub(now).max(Duration::from_millis(1))
            });
            tokio::select! {
                biased;
                _ = self.inner.wire.readable() => {}
                _ = self.inner.driver.notified() => {}
                _ = crate::time::sleep(wait) => {}
            }
        }
    }

    /// Transport statistics of the TCP connection `conn` (flow `local` →
    /// `remote`), from this host's view.
    pub(crate) fn tcp_stats(
        &self,
        conn: ConnId,
        local: SocketAddrV4,
        remote: SocketAddrV4,
    ) -> TransportStats {
        let out = FlowKey {
            proto: IPPROTO_TCP,
            src: local,
            dst: remote,
        };
        let st = self.state();
        let (tracker, rx) = st.flows.tcp_flow(&out);
        let info = st.tcp.sender_info(conn);
        let stack_counters = st
            .tcp
            .counters(conn)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let arrivals = st.tcp.arrivals(conn);
        drop(st);
        let net = lock(&self.inner.run.network);
        let drops = |k: &FlowKey| net.flows().get(k).map_or(0, |c| c.dropped);
        TransportStats {
            packets_sent: tracker.packets,
            bytes_sent: tracker.bytes,
            packets_received: rx.packets,
            bytes_received: rx.bytes,
            link_drops_sent: drops(&out),
            link_drops_received: drops(&out.reversed()),
            retransmissions: tracker.retransmissions,
            rtt_samples: tracker.rtt_samples,
            smoothed_rtt: info.srtt,
            cwnd: info.cwnd,
            stack_counters,
            arrivals,
        }
    }

    /// Link drops of every UDP flow between local port `port` on this host
    /// and remote port `peer_port` on the peer, whatever the addresses (they
    /// change when the client moves): (this host's packets dropped, packets
    /// to this host dropped).
    pub(crate) fn udp_link_drops(&self, port: u16, peer_port: u16) -> (u64, u64) {
        let net = lock(&self.inner.run.network);
        let mut sent = 0;
        let mut received = 0;
        for (k, c) in net.flows() {
            if k.proto != IPPROTO_UDP {
                continue;
            }
            if k.src.port() == port
                && k.dst.port() == peer_port
                && net.side_of_flow_src(k) == Some(self.inner.side)
            {
                sent += c.dropped;
            } else if k.dst.port() == port
                && k.src.port() == peer_port
                && net.side_of_flow_src(k) == Some(self.inner.side.peer())
            {
                received += c.dropped;
            }
        }
        (sent, received)
    }

    /// The pcap recorded at this host, if capture is on.
    pub(crate) fn take_capture(&self) -> Option<PcapRecorder> {
        self.state().capture.take()
    }
}
