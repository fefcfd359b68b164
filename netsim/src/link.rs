//! The link model: what happens to a packet on one direction of the path.
//!
//! A [`Link`] owns one direction (client to server, or server to client) of
//! the simulated path. For every packet that enters it, it decides a
//! [`Fate`]: delivered at a sim time, or dropped with a [`DropReason`]. It
//! models, in this order: the MTU, scheduled blackouts, targeted drops,
//! a drop-tail bottleneck queue served at a fixed rate, random loss
//! (Bernoulli or Gilbert–Elliott), and propagation delay plus jitter.
//!
//! The model never reads a clock (time is passed in as a [`Duration`] since
//! the start of the simulation) and all randomness comes from the seed given
//! to [`Link::new`], so the same packets in the same order always get the same
//! fates.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::packet::{FlowKey, PacketSummary};

/// Smallest MTU a link accepts, in bytes (the IPv6 minimum, which QUIC also
/// relies on).
pub const MIN_MTU: u32 = 1280;
/// Largest MTU a link accepts, in bytes (the largest IPv4 packet).
pub const MAX_MTU: u32 = 65_535;
/// Largest jitter a link accepts (a sanity limit).
pub const MAX_JITTER: Duration = Duration::from_secs(10);
/// Largest one-way delay a link accepts (a sanity limit).
pub const MAX_DELAY: Duration = Duration::from_secs(60);

/// ChaCha stream used for loss decisions.
const LOSS_STREAM: u64 = 0;
/// ChaCha stream used for jitter samples.
const JITTER_STREAM: u64 = 1;

/// Which way a packet travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// From the client to the server.
    Up,
    /// From the server to the client.
    Down,
}

impl Direction {
    /// Short lowercase name: `"up"` or `"down"`.
    pub fn label(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// Configuration of one direction of the path.
///
/// Start from [`LinkConfig::default`] and change what the scenario needs;
/// check it with [`LinkConfig::validate`] (which the link model also calls).
#[derive(Clone, Debug, PartialEq)]
pub struct LinkConfig {
    /// One-way propagation delay. Default 25 ms. At most [`MAX_DELAY`].
    pub delay: Duration,
    /// Extra random delay per packet. Default none.
    pub jitter: Jitter,
    /// Bottleneck rate in bits per second. Default 10 Mbit/s. Must be above 0.
    pub bandwidth_bps: u64,
    /// Drop-tail limit of the bottleneck queue. Default 42 packets (one
    /// bandwidth-delay product at 10 Mbit/s and 50 ms RTT, in 1500-byte
    /// packets, rounded up).
    pub queue: QueueLimit,
    /// Largest IP packet in bytes; larger packets are dropped
    /// ([`DropReason::Oversize`]). Default 1500. Between [`MIN_MTU`] and
    /// [`MAX_MTU`].
    pub mtu: u32,
    /// Random loss after the bottleneck. Default none.
    pub loss: LossModel,
}

/// Extra per-packet delay, drawn uniformly.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Jitter {
    /// Each packet gets an extra delay uniform in `[0, max]` (nanosecond
    /// resolution). Zero (the default) means no jitter. At most
    /// [`MAX_JITTER`].
    pub max: Duration,
    /// Whether jitter may reorder packets. When false (the default), a
    /// packet is never delivered before the one sent ahead of it.
    pub allow_reorder: bool,
}

/// Drop-tail limit of the bottleneck queue. The queue counts every packet
/// that has entered the link and not finished serialization, including the
/// one being serialized.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QueueLimit {
    /// At most this many packets. Must be at least 1.
    Packets(u32),
    /// At most this many bytes (whole IP packets). Must be at least the MTU.
    Bytes(u64),
}

/// Random loss, applied to packets that made it through the queue.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum LossModel {
    /// No random loss (the default).
    #[default]
    None,
    /// Each packet is lost independently.
    Bernoulli {
        /// Probability that a packet is lost, between 0 and 1.
        rate: f64,
    },
    /// Bursty loss: the simple Gilbert model, a two-state Markov chain where
    /// every packet in the Bad state is lost and none in the Good state is.
    ///
    /// Per packet, the chain first takes one step (Good to Bad with
    /// probability `p = mean_loss * r / (1 - mean_loss)`, Bad to Good with
    /// probability `r = 1 / mean_burst`), then the packet is lost if the
    /// chain is in Bad. The chain starts in Good. The long-run loss rate is
    /// `p / (p + r) = mean_loss` and loss bursts last `1 / r = mean_burst`
    /// packets on average.
    GilbertElliott {
        /// Long-run fraction of packets lost, at least 0 and below 1.
        mean_loss: f64,
        /// Mean number of packets in a burst of consecutive losses, at
        /// least 1 (and at least `mean_loss / (1 - mean_loss)`, or the
        /// chain cannot reach `mean_loss`).
        mean_burst: f64,
    },
}

/// Drop the `nth` packet that matches a filter, on one direction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TargetedDrop {
    /// The direction it applies to.
    pub direction: Direction,
    /// Which matching packet to drop, counting from 1.
    pub nth: u64,
    /// Count only packets of this flow: the 0-based index of the flow in
    /// order of first appearance on that direction (every packet counts for
    /// first appearance, even dropped ones). `None` counts every flow.
    pub flow: Option<u32>,
    /// Count only packets that carry transport payload
    /// ([`PacketSummary::carries_data`]).
    pub data_only: bool,
}

/// A time window in which every packet entering the link is dropped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Blackout {
    /// Sim time the blackout begins (inclusive).
    pub start: Duration,
    /// Sim time the blackout ends (exclusive). Must be after `start`.
    pub end: Duration,
    /// The direction it applies to; `None` means both.
    pub direction: Option<Direction>,
    /// The IP protocol it drops ([`IPPROTO_UDP`](crate::packet::IPPROTO_UDP)
    /// for a network that blocks UDP, as some middleboxes do); `None` drops
    /// every packet.
    pub protocol: Option<u8>,
}

/// Why a packet was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// Random loss from the [`LossModel`].
    Random,
    /// The bottleneck queue was full.
    QueueFull,
    /// A [`TargetedDrop`] picked it.
    Targeted,
    /// It entered during a [`Blackout`].
    Blackout,
    /// It was larger than the MTU.
    Oversize,
    /// The network had no host at its destination address (decided by the
    /// network, never by a link).
    NoRoute,
}

impl DropReason {
    /// Every reason, in order.
    pub const ALL: [DropReason; 6] = [
        DropReason::Random,
        DropReason::QueueFull,
        DropReason::Targeted,
        DropReason::Blackout,
        DropReason::Oversize,
        DropReason::NoRoute,
    ];

    /// Short lowercase name, e.g. `"queue-full"`.
    pub fn label(self) -> &'static str {
        match self {
            DropReason::Random => "random",
            DropReason::QueueFull => "queue-full",
            DropReason::Targeted => "targeted",
            DropReason::Blackout => "blackout",
            DropReason::Oversize => "oversize",
            DropReason::NoRoute => "no-route",
        }
    }
}

/// What happened to a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fate {
    /// It arrives at the far end at this sim time.
    Delivered {
        /// Arrival sim time.
        at: Duration,
    },
    /// It never arrives.
    Dropped(DropReason),
}

/// A configuration value out of range.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("invalid {field}: {reason}")]
pub struct ConfigError {
    /// Dotted path of the offending field, e.g. `up.loss.rate`.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ConfigError {
    fn new(field: String, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            field,
            reason: reason.into(),
        }
    }
}

/// `prefix.name`, or just `name` when the prefix is empty.
fn field_name(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Whole nanoseconds in `d`, saturating at `u64::MAX`.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Default for LinkConfig {
    /// 25 ms delay, 10 Mbit/s, a queue of 42 packets (one BDP at 50 ms RTT),
    /// MTU 1500, no jitter, no loss.
    fn default() -> Self {
        LinkConfig {
            delay: Duration::from_millis(25),
            jitter: Jitter::default(),
            bandwidth_bps: 10_000_000,
            queue: QueueLimit::Packets(42),
            mtu: 1500,
            loss: LossModel::None,
        }
    }
}

impl LinkConfig {
    /// Set the one-way propagation delay (default 25 ms).
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Set the jitter (default none).
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Set the bottleneck rate in bits per second (default 10 Mbit/s).
    pub fn with_bandwidth_bps(mut self, bandwidth_bps: u64) -> Self {
        self.bandwidth_bps = bandwidth_bps;
        self
    }

    /// Set the queue limit (default 42 packets).
    pub fn with_queue(mut self, queue: QueueLimit) -> Self {
        self.queue = queue;
        self
    }

    /// Set the MTU in bytes (default 1500).
    pub fn with_mtu(mut self, mtu: u32) -> Self {
        self.mtu = mtu;
        self
    }

    /// Set the loss model (default none).
    pub fn with_loss(mut self, loss: LossModel) -> Self {
        self.loss = loss;
        self
    }

    /// Check every field; the error names the first bad one as
    /// `{field_prefix}.{field}` (e.g. `up.loss.rate`).
    pub fn validate(&self, field_prefix: &str) -> Result<(), ConfigError> {
        let field = |name: &str| field_name(field_prefix, name);
        if self.delay > MAX_DELAY {
            return Err(ConfigError::new(field("delay"), "must be at most 60 s"));
        }
        if self.jitter.max > MAX_JITTER {
            return Err(ConfigError::new(
                field("jitter.max"),
                "must be at most 10 s",
            ));
        }
        if self.bandwidth_bps == 0 {
            return Err(ConfigError::new(
                field("bandwidth_bps"),
                "must be above 0 bits per second",
            ));
        }
        if self.mtu < MIN_MTU {
            return Err(ConfigError::new(
                field("mtu"),
                format!("must be at least {MIN_MTU} bytes"),
            ));
        }
        if self.mtu > MAX_MTU {
            return Err(ConfigError::new(
                field("mtu"),
                format!("must be at most {MAX_MTU} bytes"),
            ));
        }
        match self.queue {
            QueueLimit::Packets(0) => {
                return Err(ConfigError::new(
                    field("queue"),
                    "must hold at least 1 packet",
                ));
            }
            QueueLimit::Bytes(n) if n < u64::from(self.mtu) => {
                return Err(ConfigError::new(
                    field("queue"),
                    format!(
                        "must hold at least one mtu ({} bytes), got {n} bytes",
                        self.mtu
                    ),
                ));
            }
            QueueLimit::Packets(_) | QueueLimit::Bytes(_) => {}
        }
        match self.loss {
            LossModel::None => {}
            LossModel::Bernoulli { rate } => {
                if !(0.0..=1.0).contains(&rate) {
                    return Err(ConfigError::new(
                        field("loss.rate"),
                        "must be between 0 and 1 (0 % to 100 %)",
                    ));
                }
            }
            LossModel::GilbertElliott {
                mean_loss,
                mean_burst,
            } => {
                if !(0.0..1.0).contains(&mean_loss) {
                    return Err(ConfigError::new(
                        field("loss.mean_loss"),
                        "must be at least 0 and below 1 (0 % to under 100 %)",
                    ));
                }
                if !(mean_burst.is_finite() && mean_burst >= 1.0) {
                    return Err(ConfigError::new(
                        field("loss.mean_burst"),
                        "must be a finite number of packets, at least 1",
                    ));
                }
                let (p, _) = gilbert_probabilities(mean_loss, mean_burst);
                if p > 1.0 {
                    return Err(ConfigError::new(
                        field("loss.mean_burst"),
                        format!(
                            "must be at least mean_loss / (1 - mean_loss) = {:.3} packets \
                             to reach a mean loss of {mean_loss}",
                            mean_loss / (1.0 - mean_loss)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Bandwidth-delay product in bytes for a round-trip time `rtt`
    /// (`bandwidth_bps * rtt / 8`, rounded down).
    pub fn bdp_bytes(&self, rtt: Duration) -> u64 {
        let bits = u128::from(self.bandwidth_bps) * rtt.as_nanos() / 1_000_000_000;
        u64::try_from(bits / 8).unwrap_or(u64::MAX)
    }

    /// Time to put `len` bytes on the wire at the bottleneck rate, rounded up
    /// to whole nanoseconds.
    pub fn serialization_time(&self, len: u32) -> Duration {
        let bps = u128::from(self.bandwidth_bps.max(1));
        let ns = (u128::from(len) * 8 * 1_000_000_000).div_ceil(bps);
        Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }
}

/// Gilbert transition probabilities `(p, r)`: Good to Bad, Bad to Good.
fn gilbert_probabilities(mean_loss: f64, mean_burst: f64) -> (f64, f64) {
    let r = 1.0 / mean_burst;
    let p = mean_loss * r / (1.0 - mean_loss);
    (p, r)
}

impl TargetedDrop {
    /// Check the drop; errors name `{field}.nth`.
    pub fn validate(&self, field: &str) -> Result<(), ConfigError> {
        if self.nth == 0 {
            return Err(ConfigError::new(
                field_name(field, "nth"),
                "must be at least 1 (packets are counted from 1)",
            ));
        }
        Ok(())
    }

    fn matches(&self, flow_index: u32, packet: &PacketSummary) -> bool {
        self.flow.is_none_or(|f| f == flow_index) && (!self.data_only || packet.carries_data())
    }
}

impl Blackout {
    /// Check the window; errors name `{field}.end`.
    pub fn validate(&self, field: &str) -> Result<(), ConfigError> {
        if self.end <= self.start {
            return Err(ConfigError::new(
                field_name(field, "end"),
                format!("must be after start ({:?}), got {:?}", self.start, self.end),
            ));
        }
        Ok(())
    }

    fn applies_to(&self, direction: Direction) -> bool {
        self.direction.is_none_or(|d| d == direction)
    }

    fn covers(&self, now: Duration) -> bool {
        self.start <= now && now < self.end
    }
}

/// Loss model with its running state.
#[derive(Debug)]
enum LossState {
    None,
    Bernoulli { rate: f64 },
    Gilbert { p: f64, r: f64, bad: bool },
}

impl LossState {
    fn new(model: LossModel) -> LossState {
        match model {
            LossModel::None => LossState::None,
            LossModel::Bernoulli { rate } => LossState::Bernoulli { rate },
            LossModel::GilbertElliott {
                mean_loss,
                mean_burst,
            } => {
                let (p, r) = gilbert_probabilities(mean_loss, mean_burst);
                LossState::Gilbert { p, r, bad: false }
            }
        }
    }

    /// Decide whether the next packet is lost. Bernoulli and Gilbert draw
    /// exactly one number per packet; `None` draws nothing.
    fn lose(&mut self, rng: &mut ChaCha8Rng) -> bool {
        match self {
            LossState::None => false,
            LossState::Bernoulli { rate } => rng.random::<f64>() < *rate,
            LossState::Gilbert { p, r, bad } => {
                let u = rng.random::<f64>();
                *bad = if *bad { u >= *r } else { u < *p };
                *bad
            }
        }
    }
}

/// A targeted drop and how many matching packets it has seen.
#[derive(Debug)]
struct TargetCounter {
    drop: TargetedDrop,
    seen: u64,
}

/// One direction of the simulated path.
///
/// Create it with [`Link::new`], then call [`Link::transmit`] once for every
/// packet that enters the link, in order, with non-decreasing sim times; it
/// returns the packet's [`Fate`] at once. [`Link::queue_len`] and the getters
/// only observe.
///
/// `transmit` applies, in this order:
/// 1. MTU: a packet longer than [`LinkConfig::mtu`] is dropped
///    ([`DropReason::Oversize`]).
/// 2. Blackouts: a packet entering in `[start, end)` of a blackout for this
///    direction (and of its protocol, if the blackout names one) is dropped
///    ([`DropReason::Blackout`]).
/// 3. Targeted drops: every packet reaching this step is counted by each
///    targeted drop it matches; one whose count equals `nth` is dropped
///    ([`DropReason::Targeted`]). Flow indexes are given on first sight of a
///    flow, before step 1, so dropped packets count for first appearance.
/// 4. Bottleneck: packets are serialized FIFO at
///    [`LinkConfig::bandwidth_bps`]. A packet that would push the queue over
///    [`LinkConfig::queue`] is dropped ([`DropReason::QueueFull`]) without
///    using the bottleneck.
/// 5. Random loss: one draw from the [`LossModel`] for every packet reaching
///    this step; a lost packet ([`DropReason::Random`]) still used the
///    bottleneck, as on a lossy radio hop.
/// 6. Delivery at departure + delay + jitter, never before the previous
///    delivery unless [`Jitter::allow_reorder`].
///
/// Randomness: loss and jitter use two separate ChaCha8 streams of the one
/// seed, so turning jitter on does not change which packets are lost.
#[derive(Debug)]
pub struct Link {
    config: LinkConfig,
    loss_rng: ChaCha8Rng,
    jitter_rng: ChaCha8Rng,
    loss: LossState,
    targeted: Vec<TargetCounter>,
    blackouts: Vec<Blackout>,
    /// Flow index by first appearance.
    flows: BTreeMap<FlowKey, u32>,
    /// Departure time and length of packets not yet fully serialized,
    /// in FIFO order (so departures are non-decreasing).
    queue: VecDeque<(Duration, u32)>,
    queued_bytes: u64,
    /// When the bottleneck finishes its current backlog.
    busy_until: Duration,
    /// Latest delivery time handed out.
    last_delivery: Duration,
}

impl Link {
    /// A link for `direction`. `targeted` and `blackouts` are the scenario's
    /// full lists; the link keeps those that apply to its direction.
    ///
    /// Validates everything: `config` with the field prefix
    /// `direction.label()` (e.g. `up.loss.rate`), the lists as
    /// `targeted_drops[i]` and `blackouts[i]`.
    pub fn new(
        direction: Direction,
        config: LinkConfig,
        seed: [u8; 32],
        targeted: &[TargetedDrop],
        blackouts: &[Blackout],
    ) -> Result<Link, ConfigError> {
        config.validate(direction.label())?;
        for (i, t) in targeted.iter().enumerate() {
            t.validate(&format!("targeted_drops[{i}]"))?;
        }
        for (i, b) in blackouts.iter().enumerate() {
            b.validate(&format!("blackouts[{i}]"))?;
        }
        let mut loss_rng = ChaCha8Rng::from_seed(seed);
        loss_rng.set_stream(LOSS_STREAM);
        let mut jitter_rng = ChaCha8Rng::from_seed(seed);
        jitter_rng.set_stream(JITTER_STREAM);
        Ok(Link {
            loss: LossState::new(config.loss),
            config,
            loss_rng,
            jitter_rng,
            targeted: targeted
                .iter()
                .filter(|t| t.direction == direction)
                .map(|&drop| TargetCounter { drop, seen: 0 })
                .collect(),
            blackouts: blackouts
                .iter()
                .filter(|b| b.applies_to(direction))
                .copied()
                .collect(),
            flows: BTreeMap::new(),
            queue: VecDeque::new(),
            queued_bytes: 0,
            busy_until: Duration::ZERO,
            last_delivery: Duration::ZERO,
        })
    }

    #[cfg(test)]
    /// Its configuration.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Decide the fate of `packet`, entering the link at sim time `now`.
    /// Calls must come with non-decreasing `now`.
    pub fn transmit(&mut self, now: Duration, packet: &PacketSummary) -> Fate {
        let next_index = u32::try_from(self.flows.len()).unwrap_or(u32::MAX);
        let flow_index = *self.flows.entry(packet.flow).or_insert(next_index);

        if packet.len > self.config.mtu {
            return Fate::Dropped(DropReason::Oversize);
        }
        if self
            .blackouts
            .iter()
            .any(|b| b.covers(now) && b.protocol.is_none_or(|p| p == packet.flow.proto))
        {
            return Fate::Dropped(DropReason::Blackout);
        }
        let mut targeted = false;
        for t in &mut self.targeted {
            if t.drop.matches(flow_index, packet) {
                t.seen += 1;
                targeted |= t.seen == t.drop.nth;
            }
        }
        if targeted {
            return Fate::Dropped(DropReason::Targeted);
        }

        self.drain(now);
        let len = u64::from(packet.len);
        let full = match self.config.queue {
            QueueLimit::Packets(n) => self.queue.len() as u64 + 1 > u64::from(n),
            QueueLimit::Bytes(n) => self.queued_bytes + len > n,
        };
        if full {
            return Fate::Dropped(DropReason::QueueFull);
        }
        let departure = now.max(self.busy_until) + self.config.serialization_time(packet.len);
        self.busy_until = departure;
        self.queue.push_back((departure, packet.len));
        self.queued_bytes += len;

        if self.loss.lose(&mut self.loss_rng) {
            return Fate::Dropped(DropReason::Random);
        }

        let mut at = departure + self.config.delay;
        let max_jitter = nanos(self.config.jitter.max);
        if max_jitter > 0 {
            at += Duration::from_nanos(self.jitter_rng.random_range(0..=max_jitter));
        }
        if !self.config.jitter.allow_reorder {
            at = at.max(self.last_delivery);
        }
        self.last_delivery = self.last_delivery.max(at);
        Fate::Delivered { at }
    }

    #[cfg(test)]
    /// Packets and bytes queued or in serialization at `now`.
    pub fn queue_len(&self, now: Duration) -> (u32, u64) {
        self.queue
            .iter()
            .filter(|(departure, _)| *departure > now)
            .fold((0, 0), |(n, bytes), (_, len)| {
                (n.saturating_add(1), bytes + u64::from(*len))
            })
    }

    /// Forget packets that finished serialization by `now`.
    fn drain(&mut self, now: Duration) {
        while let Some(&(departure, len)) = self.queue.front() {
            if departure > now {
                break;
            }
            self.queue.pop_front();
            self.queued_bytes -= u64::from(len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::IPPROTO_TCP;
    use std::net::{Ipv4Addr, SocketAddrV4};

    const SEED: [u8; 32] = [7; 32];

    fn flow(port: u16) -> FlowKey {
        FlowKey {
            proto: IPPROTO_TCP,
            src: SocketAddrV4::new(Ipv4Addr::new(10, 0, 1, 2), port),
            dst: SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 443),
        }
    }

    /// A packet of `len` bytes on flow `port`, with 40 bytes of headers.
    fn pkt(port: u16, len: u32) -> PacketSummary {
        PacketSummary {
            flow: flow(port),
            len,
            payload_len: len.saturating_sub(40),
            tcp: None,
        }
    }

    /// A pure ACK (no payload) on flow `port`.
    fn ack(port: u16) -> PacketSummary {
        PacketSummary {
            flow: flow(port),
            len: 40,
            payload_len: 0,
            tcp: None,
        }
    }

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    fn ns(n: u64) -> Duration {
        Duration::from_nanos(n)
    }

    fn delivered(at: Duration) -> Fate {
        Fate::Delivered { at }
    }

    fn dropped(reason: DropReason) -> Fate {
        Fate::Dropped(reason)
    }

    fn link(config: LinkConfig) -> Link {
        Link::new(Direction::Up, config, SEED, &[], &[]).expect("valid config")
    }

    /// 10 Mbit/s, 25 ms: a 1500-byte packet takes 1.2 ms to serialize.
    fn plain() -> LinkConfig {
        LinkConfig::default()
    }

    /// A link that never queues and never delays, for loss statistics.
    fn lossy(loss: LossModel) -> Link {
        link(
            LinkConfig::default()
                .with_bandwidth_bps(1_000_000_000_000)
                .with_queue(QueueLimit::Packets(1_000_000))
                .with_delay(Duration::ZERO)
                .with_loss(loss),
        )
    }

    /// Send `n` 1500-byte packets 1 µs apart; true for each one lost.
    fn loss_pattern(link: &mut Link, n: u64) -> Vec<bool> {
        (0..n)
            .map(|i| match link.transmit(us(i), &pkt(1000, 1500)) {
                Fate::Dropped(DropReason::Random) => true,
                Fate::Delivered { .. } => false,
                other => panic!("unexpected fate {other:?}"),
            })
            .collect()
    }

    /// Lengths of runs of consecutive losses.
    fn bursts(pattern: &[bool]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut run = 0;
        for &lost in pattern {
            if lost {
                run += 1;
            } else if run > 0 {
                out.push(run);
                run = 0;
            }
        }
        if run > 0 {
            out.push(run);
        }
        out
    }

    #[test]
    fn default_queue_is_one_bdp_at_50ms() {
        let c = LinkConfig::default();
        let bdp = c.bdp_bytes(Duration::from_millis(50));
        assert_eq!(bdp, 62_500);
        assert_eq!(c.queue, QueueLimit::Packets(bdp.div_ceil(1500) as u32));
        c.validate("up").expect("default is valid");
    }

    #[test]
    fn serialization_plus_propagation_is_exact() {
        let mut l = link(plain());
        // 1500 B * 8 / 10 Mbit/s = 1.2 ms, + 25 ms.
        assert_eq!(l.transmit(us(0), &pkt(1, 1500)), delivered(us(26_200)));
        // 41 B = 328 bits = 32.8 µs exactly; 1 bit = 100 ns.
        assert_eq!(l.transmit(ms(10), &pkt(1, 41)), delivered(ns(35_032_800)));
        // Rounded up to whole ns: 1 byte at 3 bit/s = 8/3 s.
        let mut slow = link(plain().with_bandwidth_bps(3));
        assert_eq!(
            slow.config().serialization_time(1),
            ns(2_666_666_667),
            "rounds up"
        );
        assert_eq!(
            slow.transmit(Duration::ZERO, &pkt(1, 1)),
            delivered(ns(2_666_666_667) + Duration::from_millis(25))
        );
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn back_to_back_packets_queue_up() {
        let mut l = link(plain());
        assert_eq!(l.transmit(us(0), &pkt(1, 1500)), delivered(us(26_200)));
        assert_eq!(l.transmit(us(0), &pkt(1, 1500)), delivered(us(27_400)));
        assert_eq!(l.transmit(us(100), &pkt(1, 1500)), delivered(us(28_600)));
        assert_eq!(l.queue_len(us(100)), (3, 4500));
        // The first finished at 1.2 ms.
        assert_eq!(l.queue_len(us(1_200)), (2, 3000));
        // Link idle again: no queueing delay.
        assert_eq!(l.transmit(ms(5), &pkt(1, 1500)), delivered(us(31_200)));
    }

    #[test]
    fn queue_full_with_packet_limit() {
        let mut l = link(plain().with_queue(QueueLimit::Packets(3)));
        for i in 0..3 {
            assert!(matches!(
                l.transmit(us(0), &pkt(1, 1500)),
                Fate::Delivered { .. }
            ));
            assert_eq!(l.queue_len(us(0)).0, i + 1);
        }
        assert_eq!(
            l.transmit(us(0), &pkt(1, 40)),
            dropped(DropReason::QueueFull)
        );
        // The dropped packet used no bandwidth: the next one follows the third.
        assert_eq!(l.transmit(us(1_200), &pkt(1, 1500)), delivered(us(29_800)));
    }

    #[test]
    fn queue_full_with_byte_limit() {
        let mut l = link(plain().with_queue(QueueLimit::Bytes(4000)));
        assert_eq!(l.transmit(us(0), &pkt(1, 1500)), delivered(us(26_200)));
        assert_eq!(l.transmit(us(0), &pkt(1, 1500)), delivered(us(27_400)));
        // 3000 + 1500 > 4000.
        assert_eq!(
            l.transmit(us(0), &pkt(1, 1500)),
            dropped(DropReason::QueueFull)
        );
        // 3000 + 1000 = 4000 fits exactly.
        assert_eq!(l.transmit(us(0), &pkt(1, 1000)), delivered(us(28_200)));
        assert_eq!(l.queue_len(us(0)), (3, 4000));
        assert_eq!(
            l.transmit(us(0), &pkt(1, 40)),
            dropped(DropReason::QueueFull)
        );
    }

    #[test]
    fn queue_drains_over_time() {
        let mut l = link(plain().with_queue(QueueLimit::Packets(2)));
        assert_eq!(l.transmit(us(0), &pkt(1, 1500)), delivered(us(26_200)));
        assert_eq!(l.transmit(us(0), &pkt(1, 1500)), delivered(us(27_400)));
        assert_eq!(
            l.transmit(us(1_199), &pkt(1, 1500)),
            dropped(DropReason::QueueFull)
        );
        // At exactly 1.2 ms the first has left.
        assert_eq!(l.queue_len(us(1_200)), (1, 1500));
        assert_eq!(l.transmit(us(1_200), &pkt(1, 1500)), delivered(us(28_600)));
        assert_eq!(l.queue_len(us(3_600)), (0, 0));
        assert_eq!(l.transmit(us(3_600), &pkt(1, 1500)), delivered(us(29_800)));
    }

    #[test]
    fn oversize_is_dropped() {
        let mut l = link(plain());
        assert_eq!(l.transmit(us(0), &pkt(1, 1500)), delivered(us(26_200)));
        assert_eq!(
            l.transmit(us(0), &pkt(1, 1501)),
            dropped(DropReason::Oversize)
        );
        assert_eq!(l.queue_len(us(0)), (1, 1500));
    }

    #[test]
    fn blackout_window_and_direction() {
        let blackouts = [
            Blackout {
                start: ms(100),
                end: ms(200),
                direction: None,
                protocol: None,
            },
            Blackout {
                start: ms(300),
                end: ms(400),
                direction: Some(Direction::Down),
                protocol: None,
            },
        ];
        let mut up = Link::new(Direction::Up, plain(), SEED, &[], &blackouts).unwrap();
        let mut down = Link::new(Direction::Down, plain(), SEED, &[], &blackouts).unwrap();
        let black = dropped(DropReason::Blackout);
        assert_eq!(
            up.transmit(ns(99_999_999), &ack(1)),
            delivered(ns(125_031_999))
        );
        assert_eq!(up.transmit(ms(100), &ack(1)), black);
        assert_eq!(up.transmit(ns(199_999_999), &ack(1)), black);
        assert_eq!(up.transmit(ms(200), &ack(1)), delivered(ns(225_032_000)));
        // The second blackout is for the down direction only.
        assert_eq!(up.transmit(ms(350), &ack(1)), delivered(ns(375_032_000)));
        assert_eq!(down.transmit(ms(150), &ack(1)), black);
        assert_eq!(down.transmit(ms(300), &ack(1)), black);
        assert_eq!(down.transmit(ms(400), &ack(1)), delivered(ns(425_032_000)));
    }

    fn fates(l: &mut Link, packets: &[PacketSummary]) -> Vec<Fate> {
        packets
            .iter()
            .enumerate()
            .map(|(i, p)| l.transmit(ms(i as u64 * 10), p))
            .collect()
    }

    fn drops(fates: &[Fate]) -> Vec<usize> {
        fates
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f, Fate::Dropped(_)))
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn targeted_nth_of_direction() {
        let targeted = [
            TargetedDrop {
                direction: Direction::Up,
                nth: 3,
                flow: None,
                data_only: false,
            },
            TargetedDrop {
                direction: Direction::Down,
                nth: 1,
                flow: None,
                data_only: false,
            },
        ];
        let mut up = Link::new(Direction::Up, plain(), SEED, &targeted, &[]).unwrap();
        let mut down = Link::new(Direction::Down, plain(), SEED, &targeted, &[]).unwrap();
        let packets = [ack(1), pkt(2, 500), ack(1), pkt(1, 500), ack(2)];
        let up_fates = fates(&mut up, &packets);
        assert_eq!(up_fates[2], dropped(DropReason::Targeted));
        assert_eq!(drops(&up_fates), vec![2]);
        assert_eq!(drops(&fates(&mut down, &packets)), vec![0]);
    }

    #[test]
    fn targeted_nth_of_flow_by_first_appearance() {
        let targeted = [TargetedDrop {
            direction: Direction::Up,
            nth: 2,
            flow: Some(1),
            data_only: false,
        }];
        let mut l = Link::new(Direction::Up, plain(), SEED, &targeted, &[]).unwrap();
        // Flow 7 appears first (index 0) although oversize; flow 5 is index 1.
        let packets = [
            pkt(7, 9000),
            pkt(5, 500),
            pkt(7, 500),
            ack(9),
            ack(5),
            ack(5),
        ];
        let f = fates(&mut l, &packets);
        assert_eq!(f[0], dropped(DropReason::Oversize));
        assert_eq!(f[4], dropped(DropReason::Targeted));
        assert_eq!(drops(&f), vec![0, 4]);
    }

    #[test]
    fn targeted_data_only() {
        let targeted = [TargetedDrop {
            direction: Direction::Up,
            nth: 2,
            flow: None,
            data_only: true,
        }];
        let mut l = Link::new(Direction::Up, plain(), SEED, &targeted, &[]).unwrap();
        let packets = [
            ack(1),
            pkt(1, 500),
            ack(1),
            ack(2),
            pkt(2, 500),
            pkt(1, 500),
        ];
        let f = fates(&mut l, &packets);
        assert_eq!(f[4], dropped(DropReason::Targeted));
        assert_eq!(drops(&f), vec![4]);
    }

    #[test]
    fn targeted_counts_only_packets_reaching_it() {
        let targeted = [TargetedDrop {
            direction: Direction::Up,
            nth: 2,
            flow: None,
            data_only: false,
        }];
        let blackouts = [Blackout {
            start: ms(10),
            end: ms(20),
            direction: None,
            protocol: None,
        }];
        let mut l = Link::new(Direction::Up, plain(), SEED, &targeted, &blackouts).unwrap();
        // The blacked-out second packet is not counted; the third is the 2nd.
        let f = fates(&mut l, &[ack(1), ack(1), ack(1), ack(1)]);
        assert_eq!(
            f[1..3],
            [dropped(DropReason::Blackout), dropped(DropReason::Targeted)]
        );
        assert_eq!(drops(&f), vec![1, 2]);
    }

    fn jittery(allow_reorder: bool) -> Link {
        link(plain().with_jitter(Jitter {
            max: ms(10),
            allow_reorder,
        }))
    }

    fn delivery_times(l: &mut Link, n: u64) -> Vec<Duration> {
        (0..n)
            .map(|i| match l.transmit(us(i * 100), &ack(1)) {
                Fate::Delivered { at } => at,
                other => panic!("unexpected fate {other:?}"),
            })
            .collect()
    }

    #[test]
    fn jitter_without_reorder_keeps_order() {
        let mut l = jittery(false);
        let times = delivery_times(&mut l, 1000);
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        // Jitter is applied: not every packet takes the bare path delay.
        let bare = us(25_032);
        assert!(times
            .iter()
            .enumerate()
            .any(|(i, t)| *t > us(i as u64 * 100) + bare));
        assert!(times
            .iter()
            .enumerate()
            .all(|(i, t)| *t >= us(i as u64 * 100) + bare));
    }

    #[test]
    fn jitter_with_reorder_reorders_sometimes() {
        let mut l = jittery(true);
        let times = delivery_times(&mut l, 1000);
        let reordered = times.windows(2).filter(|w| w[1] < w[0]).count();
        assert!(reordered > 10, "only {reordered} reorderings");
        for (i, t) in times.iter().enumerate() {
            let sent = us(i as u64 * 100);
            assert!(*t >= sent + us(25_032) && *t <= sent + us(35_032));
        }
    }

    #[test]
    fn bernoulli_two_percent() {
        let mut l = lossy(LossModel::Bernoulli { rate: 0.02 });
        let pattern = loss_pattern(&mut l, 50_000);
        let lost = pattern.iter().filter(|&&x| x).count();
        let pct = lost as f64 * 100.0 / pattern.len() as f64;
        eprintln!("bernoulli 2 %: measured {pct:.3} % ({lost} of 50000)");
        assert!((pct - 2.0).abs() <= 0.3, "measured {pct} %");
    }

    #[test]
    fn bernoulli_extremes() {
        let mut none = lossy(LossModel::Bernoulli { rate: 0.0 });
        assert!(loss_pattern(&mut none, 1000).iter().all(|&x| !x));
        let mut all = lossy(LossModel::Bernoulli { rate: 1.0 });
        assert!(loss_pattern(&mut all, 1000).iter().all(|&x| x));
    }

    fn check_gilbert(mean_loss: f64, mean_burst: f64) {
        let n = 500_000;
        let mut l = lossy(LossModel::GilbertElliott {
            mean_loss,
            mean_burst,
        });
        let pattern = loss_pattern(&mut l, n);
        let runs = bursts(&pattern);
        let lost: usize = runs.iter().sum();
        let loss = lost as f64 / n as f64;
        let burst = lost as f64 / runs.len() as f64;
        eprintln!(
            "gilbert-elliott {mean_loss}/{mean_burst}: measured loss {:.4} %, \
             mean burst {burst:.3} ({} bursts, {n} packets)",
            loss * 100.0,
            runs.len()
        );
        assert!(
            (loss - mean_loss).abs() <= 0.1 * mean_loss,
            "loss {loss} vs {mean_loss}"
        );
        assert!(
            (burst - mean_burst).abs() <= 0.1 * mean_burst,
            "burst {burst} vs {mean_burst}"
        );
    }

    #[test]
    fn gilbert_elliott_two_percent_bursts_of_three() {
        check_gilbert(0.02, 3.0);
    }

    #[test]
    fn gilbert_elliott_five_percent_bursts_of_one_and_a_half() {
        check_gilbert(0.05, 1.5);
    }

    #[test]
    fn gilbert_elliott_zero_loss_never_loses() {
        let mut l = lossy(LossModel::GilbertElliott {
            mean_loss: 0.0,
            mean_burst: 1.0,
        });
        assert!(loss_pattern(&mut l, 10_000).iter().all(|&x| !x));
    }

    fn run_with_seed(seed: [u8; 32]) -> Vec<Fate> {
        let config = plain()
            .with_loss(LossModel::Bernoulli { rate: 0.1 })
            .with_jitter(Jitter {
                max: ms(5),
                allow_reorder: true,
            });
        let mut l = Link::new(Direction::Down, config, seed, &[], &[]).unwrap();
        (0..2000)
            .map(|i| l.transmit(us(i * 300), &pkt(1, 1000)))
            .collect()
    }

    #[test]
    fn same_seed_same_fates_other_seed_other_fates() {
        assert_eq!(run_with_seed(SEED), run_with_seed(SEED));
        assert_ne!(run_with_seed(SEED), run_with_seed([8; 32]));
    }

    #[test]
    fn jitter_does_not_shift_losses() {
        let base = plain().with_loss(LossModel::Bernoulli { rate: 0.1 });
        let mut a = link(base.clone());
        let mut b = link(base.with_jitter(Jitter {
            max: ms(5),
            allow_reorder: false,
        }));
        for i in 0..2000 {
            let fa = a.transmit(us(i * 2000), &ack(1));
            let fb = b.transmit(us(i * 2000), &ack(1));
            assert_eq!(
                matches!(fa, Fate::Dropped(_)),
                matches!(fb, Fate::Dropped(_))
            );
        }
    }

    fn error_field(config: LinkConfig) -> String {
        Link::new(Direction::Up, config, SEED, &[], &[])
            .expect_err("invalid config")
            .field
    }

    #[test]
    fn validation_names_the_field() {
        let err = plain()
            .with_loss(LossModel::Bernoulli { rate: 1.5 })
            .validate("up")
            .unwrap_err();
        assert_eq!(err.field, "up.loss.rate");
        assert_eq!(
            err.to_string(),
            "invalid up.loss.rate: must be between 0 and 1 (0 % to 100 %)"
        );
        assert_eq!(
            error_field(plain().with_loss(LossModel::Bernoulli { rate: f64::NAN })),
            "up.loss.rate"
        );
        assert_eq!(
            error_field(plain().with_loss(LossModel::Bernoulli { rate: -0.1 })),
            "up.loss.rate"
        );
        assert_eq!(
            error_field(plain().with_bandwidth_bps(0)),
            "up.bandwidth_bps"
        );
        let mtu = plain().with_mtu(1000).validate("down").unwrap_err();
        assert_eq!(mtu.field, "down.mtu");
        assert_eq!(mtu.reason, "must be at least 1280 bytes");
        assert_eq!(error_field(plain().with_mtu(65_536)), "up.mtu");
        assert_eq!(
            error_field(plain().with_queue(QueueLimit::Packets(0))),
            "up.queue"
        );
        assert_eq!(
            error_field(plain().with_queue(QueueLimit::Bytes(1499))),
            "up.queue"
        );
        assert_eq!(
            error_field(plain().with_jitter(Jitter {
                max: Duration::from_secs(11),
                allow_reorder: false
            })),
            "up.jitter.max"
        );
        assert_eq!(
            error_field(plain().with_delay(Duration::from_secs(61))),
            "up.delay"
        );
        let ge = |mean_loss, mean_burst| {
            error_field(plain().with_loss(LossModel::GilbertElliott {
                mean_loss,
                mean_burst,
            }))
        };
        assert_eq!(ge(1.0, 3.0), "up.loss.mean_loss");
        assert_eq!(ge(f64::NAN, 3.0), "up.loss.mean_loss");
        assert_eq!(ge(0.02, 0.5), "up.loss.mean_burst");
        assert_eq!(ge(0.02, f64::NAN), "up.loss.mean_burst");
        // 60 % loss cannot come in bursts averaging 1 packet.
        assert_eq!(ge(0.6, 1.0), "up.loss.mean_burst");
        plain()
            .with_loss(LossModel::GilbertElliott {
                mean_loss: 0.5,
                mean_burst: 1.0,
            })
            .validate("up")
            .expect("50 % in single-packet bursts is reachable");
    }

    #[test]
    fn validation_of_drops_and_blackouts() {
        let zeroth = TargetedDrop {
            direction: Direction::Up,
            nth: 0,
            flow: None,
            data_only: false,
        };
        assert_eq!(
            zeroth.validate("targeted_drops[0]").unwrap_err().field,
            "targeted_drops[0].nth"
        );
        let empty = Blackout {
            start: ms(5),
            end: ms(5),
            direction: None,
            protocol: None,
        };
        assert_eq!(
            empty.validate("blackouts[2]").unwrap_err().field,
            "blackouts[2].end"
        );
        // Link::new checks the lists too, even entries for the other direction.
        let err = Link::new(Direction::Down, plain(), SEED, &[zeroth], &[]).unwrap_err();
        assert_eq!(err.field, "targeted_drops[0].nth");
        let err = Link::new(Direction::Up, plain(), SEED, &[], &[empty]).unwrap_err();
        assert_eq!(err.field, "blackouts[0].end");
    }

    #[test]
    fn labels() {
        assert_eq!(Direction::Up.label(), "up");
        assert_eq!(Direction::Down.label(), "down");
        let labels: Vec<_> = DropReason::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(
            labels,
            [
                "random",
                "queue-full",
                "targeted",
                "blackout",
                "oversize",
                "no-route"
            ]
        );
    }
}
