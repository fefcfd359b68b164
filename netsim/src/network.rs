//! The simulated network between the client and the server: the link model
//! of each direction, addresses and routing, the path change, the packet log
//! and per-flow counters.
//!
//! The network is a dumbbell: one client, one server, and one path between
//! them with an `up` (client → server) and a `down` (server → client) link.
//! A [`PathChange`] swaps the client onto a new path and a new address at a
//! scheduled time, as when a phone moves from Wi-Fi to LTE.
//!
//! Every packet any host sends enters [`Network::transmit`], which decides its
//! fate with the link model and writes it to the [`PacketLog`]. Hosts carry the
//! packets themselves over the wire (see `host` and `wire`).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::link::{
    Blackout, ConfigError, Direction, DropReason, Fate, Link, LinkConfig, LossModel, QueueLimit,
    TargetedDrop,
};
use crate::log::PacketLog;
use crate::packet::{FlowKey, PacketSummary};
use crate::seed;

/// The server's address. It never changes.
pub const SERVER_ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// The server's port for every protocol: TCP 443 for HTTP/1.1 and HTTP/2,
/// UDP 443 for HTTP/3.
pub const SERVER_PORT: u16 = 443;
/// The client's address on its first path.
pub const CLIENT_ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);
/// The client's address after a [`PathChange`].
pub const CLIENT_ADDR_AFTER_CHANGE: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);

/// The two links of one path.
#[derive(Clone, Debug, PartialEq)]
pub struct PathConfig {
    /// Client → server.
    pub up: LinkConfig,
    /// Server → client.
    pub down: LinkConfig,
}

impl PathConfig {
    /// A path with the same link in both directions: half the RTT of
    /// propagation delay each way, `bandwidth_bps` each way, a drop-tail
    /// queue of one bandwidth-delay product (in 1500-byte packets, at least
    /// 4), an MTU of 1500 bytes and `loss` in both directions.
    pub fn symmetric(rtt: Duration, bandwidth_bps: u64, loss: LossModel) -> PathConfig {
        let bdp = (u128::from(bandwidth_bps) * rtt.as_nanos() / 8 / 1_000_000_000) as u64;
        let queue = QueueLimit::Packets(bdp.div_ceil(1500).max(4) as u32);
        let link = LinkConfig {
            delay: rtt / 2,
            bandwidth_bps,
            queue,
            mtu: 1500,
            loss,
            ..LinkConfig::default()
        };
        PathConfig {
            up: link.clone(),
            down: link,
        }
    }

    /// A symmetric path from numbers in the units people write them in:
    /// RTT in milliseconds, bandwidth in Mbit/s, Bernoulli loss in percent
    /// (both directions). Rejects negative, non-finite and impossible values
    /// with an error naming the field.
    pub fn from_units(
        rtt_ms: f64,
        bandwidth_mbit: f64,
        loss_percent: f64,
    ) -> Result<PathConfig, ConfigError> {
        let bad = |field: &str, reason: &str| ConfigError {
            field: field.to_string(),
            reason: reason.to_string(),
        };
        if !rtt_ms.is_finite() || rtt_ms < 0.0 {
            return Err(bad(
                "rtt_ms",
                "must be a number of milliseconds, zero or more",
            ));
        }
        if !bandwidth_mbit.is_finite() || bandwidth_mbit <= 0.0 {
            return Err(bad("bandwidth_mbit", "must be greater than zero"));
        }
        if !loss_percent.is_finite() || !(0.0..=100.0).contains(&loss_percent) {
            return Err(bad("loss_percent", "must be between 0 and 100"));
        }
        let rtt = Duration::from_nanos((rtt_ms * 1e6).round() as u64);
        let bandwidth_bps = (bandwidth_mbit * 1e6).round() as u64;
        let loss = if loss_percent == 0.0 {
            LossModel::None
        } else {
            LossModel::Bernoulli {
                rate: loss_percent / 100.0,
            }
        };
        let path = PathConfig::symmetric(rtt, bandwidth_bps, loss);
        path.validate("path")?;
        Ok(path)
    }

    /// Round-trip propagation delay (no queueing, no serialization).
    pub fn base_rtt(&self) -> Duration {
        self.up.delay + self.down.delay
    }

    /// The path's MTU: the smaller of the two directions' MTUs, in bytes.
    /// A host on the path takes it as its link's MTU: TCP announces its MSS
    /// from it, so that neither end sends a packet the path drops as
    /// oversize (see `docs/netsim.md`, "MTU").
    pub fn mtu(&self) -> u32 {
        self.up.mtu.min(self.down.mtu)
    }

    /// The larger of the two directions' bandwidth-delay products at the
    /// base RTT, in bytes.
    pub fn bdp_bytes(&self) -> u64 {
        let rtt = self.base_rtt();
        self.up.bdp_bytes(rtt).max(self.down.bdp_bytes(rtt))
    }

    fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        self.up.validate(&format!("{prefix}.up"))?;
        self.down.validate(&format!("{prefix}.down"))
    }
}

/// At `at`, the client leaves its path for `path` and its address becomes
/// [`CLIENT_ADDR_AFTER_CHANGE`].
///
/// What a host sees:
/// - packets to or from the old address are dropped (`no-route`), including
///   those still in flight towards it, and those the new path refuses as
///   larger than its MTU;
/// - TCP connections bound to the old address end with an error at once, as
///   on a phone whose OS tears down sockets when the network goes away;
/// - UDP sockets bound to the old address stop receiving; a QUIC endpoint
///   continues by rebinding to a socket on the new address.
#[derive(Clone, Debug, PartialEq)]
pub struct PathChange {
    /// When the change happens, in simulated time since the run started.
    pub at: Duration,
    /// The new path.
    pub path: PathConfig,
}

/// Everything about the network of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkConfig {
    /// The path at the start of the run.
    pub path: PathConfig,
    /// Targeted drops: the n-th packet of a direction or of a flow.
    pub targeted_drops: Vec<TargetedDrop>,
    /// Windows in which every packet is dropped.
    pub blackouts: Vec<Blackout>,
    /// An optional change of path and client address.
    pub path_change: Option<PathChange>,
}

impl Default for NetworkConfig {
    /// The lab's default network: 50 ms RTT, 10 Mbit/s, a queue of one BDP,
    /// MTU 1500, no loss.
    fn default() -> Self {
        NetworkConfig::symmetric(Duration::from_millis(50), 10_000_000, LossModel::None)
    }
}

impl NetworkConfig {
    /// A network on one symmetric path (see [`PathConfig::symmetric`]).
    pub fn symmetric(rtt: Duration, bandwidth_bps: u64, loss: LossModel) -> NetworkConfig {
        NetworkConfig {
            path: PathConfig::symmetric(rtt, bandwidth_bps, loss),
            targeted_drops: Vec::new(),
            blackouts: Vec::new(),
            path_change: None,
        }
    }

    /// Check every parameter; the error names the offending field, e.g.
    /// `network.path.up.loss.rate`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.path.validate("network.path")?;
        for (i, t) in self.targeted_drops.iter().enumerate() {
            t.validate(&format!("network.targeted_drops[{i}]"))?;
        }
        for (i, b) in self.blackouts.iter().enumerate() {
            b.validate(&format!("network.blackouts[{i}]"))?;
        }
        if let Some(change) = &self.path_change {
            change.path.validate("network.path_change.path")?;
        }
        Ok(())
    }

    /// The smallest MTU over every path of the run ([`PathConfig::mtu`] of
    /// the first path and of the path after a change), in bytes: the
    /// largest packet every path the client uses carries. QUIC's datagram
    /// size is set from it.
    pub fn smallest_mtu(&self) -> u32 {
        let after = self.path_change.as_ref().map_or(u32::MAX, |c| c.path.mtu());
        self.path.mtu().min(after)
    }

    /// The largest bandwidth-delay product over every path of the run, in
    /// bytes. TCP buffers are sized from it.
    pub fn max_bdp_bytes(&self) -> u64 {
        let after = self.path_change.as_ref().map_or(0, |c| c.path.bdp_bytes());
        self.path.bdp_bytes().max(after)
    }
}

/// Which end of the dumbbell a host is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    /// The client (sends on the `up` link).
    Client,
    /// The server (sends on the `down` link).
    Server,
}

impl Side {
    /// `"client"` or `"server"`: the side's name in records and captures.
    pub fn label(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }

    /// The other end.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    pub(crate) fn direction(self) -> Direction {
        match self {
            Side::Client => Direction::Up,
            Side::Server => Direction::Down,
        }
    }
}

/// Counters of one flow (one direction of a 5-tuple) as the network saw it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowCounters {
    /// Packets that entered the network.
    pub packets: u64,
    /// Bytes (whole IP packets) that entered the network.
    pub bytes: u64,
    /// Packets the network dropped, for any reason.
    pub dropped: u64,
}

/// The network's state during a run.
#[derive(Debug)]
pub struct Network {
    config: NetworkConfig,
    seed: u64,
    up: Link,
    down: Link,
    /// Index of the current path: 0 before the change, 1 after.
    path_index: u32,
    log: PacketLog,
    flows: BTreeMap<FlowKey, FlowCounters>,
    /// How far the client's clock runs behind the network's: the sub-tick
    /// part of the client's start offset ([`Network::set_client_lag`]).
    client_lag: Duration,
}

impl Network {
    /// Build the network of a run. Validates the configuration.
    pub fn new(config: NetworkConfig, seed: u64) -> Result<Network, ConfigError> {
        config.validate()?;
        let (up, down) = Self::links(&config, &config.path, seed, 0)?;
        Ok(Network {
            config,
            seed,
            up,
            down,
            path_index: 0,
            log: PacketLog::new(),
            flows: BTreeMap::new(),
            client_lag: Duration::ZERO,
        })
    }

    /// Let the client's clock run `lag` (less than a tick) behind the
    /// network's, which is the server's: a client that starts a fraction of
    /// a tick after the server acts on its own ticks, `lag` after the
    /// server's. The client passes its own time to [`Network::transmit`];
    /// the network adds `lag` to what the client sends, keeps its log and
    /// its links in its own time, and hands packets to the client in the
    /// client's time, so each delivery rounds to the client's nearest tick.
    /// A path change happens at its time on the network's clock, links and
    /// addresses alike; each host takes it at its first tick at or after it
    /// ([`Network::host_time`]).
    pub fn set_client_lag(&mut self, lag: Duration) {
        self.client_lag = lag;
    }

    /// What `side`'s clock reads at the network's time `t` (0 if its clock
    /// had not started).
    pub fn host_time(&self, side: Side, t: Duration) -> Duration {
        match side {
            Side::Client => t.saturating_sub(self.client_lag),
            Side::Server => t,
        }
    }

    /// The network's time when `side`'s clock reads `host_time`.
    pub fn network_time(&self, side: Side, host_time: Duration) -> Duration {
        match side {
            Side::Client => host_time + self.client_lag,
            Side::Server => host_time,
        }
    }

    fn links(
        config: &NetworkConfig,
        path: &PathConfig,
        seed: u64,
        index: u32,
    ) -> Result<(Link, Link), ConfigError> {
        let up = Link::new(
            Direction::Up,
            path.up.clone(),
            seed::derive(seed, &format!("link/path{index}/up")),
            &config.targeted_drops,
            &config.blackouts,
        )?;
        let down = Link::new(
            Direction::Down,
            path.down.clone(),
            seed::derive(seed, &format!("link/path{index}/down")),
            &config.targeted_drops,
            &config.blackouts,
        )?;
        Ok((up, down))
    }

    /// The configuration the network was built with.
    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// The client's address at simulated time `t`.
    pub fn client_addr_at(&self, t: Duration) -> Ipv4Addr {
        match &self.config.path_change {
            Some(change) if t >= change.at => CLIENT_ADDR_AFTER_CHANGE,
            _ => CLIENT_ADDR,
        }
    }

    /// Which side owns `addr` at time `t`, if any.
    pub fn route(&self, addr: Ipv4Addr, t: Duration) -> Option<Side> {
        if addr == SERVER_ADDR {
            Some(Side::Server)
        } else if addr == self.client_addr_at(t) {
            Some(Side::Client)
        } else {
            None
        }
    }

    fn apply_path_change(&mut self, now: Duration) {
        let Some(change) = &self.config.path_change else {
            return;
        };
        if self.path_index == 0 && now >= change.at {
            // Validated in `new`, so building the links cannot fail.
            let (up, down) = Self::links(&self.config, &change.path, self.seed, 1)
                .expect("path change validated at build time");
            self.up = up;
            self.down = down;
            self.path_index = 1;
        }
    }

    /// Send one IPv4 packet from `from` at simulated time `now` on `from`'s
    /// clock. Decides its fate, logs it (in the network's time), and returns
    /// the fate, a delivery time on the receiver's clock, and, when
    /// delivered, the side that receives it.
    pub fn transmit(
        &mut self,
        now: Duration,
        from: Side,
        packet: &PacketSummary,
    ) -> (Fate, Option<Side>) {
        let now = self.network_time(from, now);
        self.apply_path_change(now);
        let direction = from.direction();
        let src_ok = self.route(*packet.flow.src.ip(), now) == Some(from);
        let fate = if !src_ok {
            // Sent from an address the host no longer has.
            Fate::Dropped(DropReason::NoRoute)
        } else {
            let link = match direction {
                Direction::Up => &mut self.up,
                Direction::Down => &mut self.down,
            };
            let dst = *packet.flow.dst.ip();
            match link.transmit(now, packet) {
                Fate::Delivered { at } if self.route(dst, at) != Some(from.peer()) => {
                    Fate::Dropped(DropReason::NoRoute)
                }
                // Too large for this path, and for an address already
                // gone: sent on a connection of the path before the change,
                // whose MTU was larger. It reaches nobody either way; the
                // missing route is why (and the link refused it before it
                // took any queue or loss draw).
                Fate::Dropped(DropReason::Oversize)
                    if self.route(dst, now) != Some(from.peer()) =>
                {
                    Fate::Dropped(DropReason::NoRoute)
                }
                fate => fate,
            }
        };
        self.log.push(now, direction, packet, fate);
        let counters = self.flows.entry(packet.flow).or_default();
        counters.packets += 1;
        counters.bytes += u64::from(packet.len);
        if matches!(fate, Fate::Dropped(_)) {
            counters.dropped += 1;
        }
        let to = match fate {
            Fate::Delivered { .. } => Some(from.peer()),
            Fate::Dropped(_) => None,
        };
        // The receiver is handed the packet in its own time.
        let fate = match fate {
            Fate::Delivered { at } if from == Side::Server => Fate::Delivered {
                at: at.saturating_sub(self.client_lag),
            },
            fate => fate,
        };
        (fate, to)
    }

    /// Which side sends from `flow.src` (by address; the client's old and
    /// new addresses both count as the client).
    pub fn side_of_flow_src(&self, flow: &FlowKey) -> Option<Side> {
        match *flow.src.ip() {
            SERVER_ADDR => Some(Side::Server),
            CLIENT_ADDR | CLIENT_ADDR_AFTER_CHANGE => Some(Side::Client),
            _ => None,
        }
    }

    /// Packets logged so far: the index the next transmitted packet gets.
    pub fn log_len(&self) -> usize {
        self.log.len()
    }

    /// Take the packet log out at the end of a run.
    pub fn take_log(&mut self) -> PacketLog {
        std::mem::take(&mut self.log)
    }

    /// Per-flow counters, in flow order.
    pub fn flows(&self) -> &BTreeMap<FlowKey, FlowCounters> {
        &self.flows
    }
}
