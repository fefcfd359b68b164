//! The `[network]` table: a path (preset plus overrides, per-direction
//! settings) and events, and how it resolves to a [`ResolvedNetwork`].
//!
//! # Resolution, per field, first match wins
//!
//! | | RTT | bandwidth | loss | jitter | queue | MTU, reorder |
//! |---|---|---|---|---|---|---|
//! | 1 | `up`/`down` `delay_ms` | `up`/`down` `bandwidth_mbit` | `up`/`down` `loss` | `up`/`down` `jitter_ms` | `up`/`down` `queue` | |
//! | 2 | sweep axis `rtt_ms` | sweep axis `bandwidth_mbit` | sweep axis `loss_percent` (keeps the model) | | | |
//! | 3 | `rtt_ms` | `bandwidth_mbit` | `loss` | `jitter_ms` | `queue` | `mtu`, `reorder` |
//! | 4 | preset | preset (down and up) | preset | preset | | |
//! | 5 | 50 ms | 10 Mbit/s | none | 0 | one BDP | 1500, false |
//!
//! A direction's delay is half the RTT unless set; a queue given in BDPs is
//! that direction's bandwidth × the path's RTT (`up.delay + down.delay`),
//! in 1500-byte packets rounded up, at least 4, as netsim's
//! `PathConfig::symmetric` sizes it.

use std::fmt;
use std::str::FromStr;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::{FieldMessage, Invalid, NameError};
use crate::preset::{preset, preset_names};
use crate::resolved::{
    Direction, IpProtocol, LossModelName, ResolvedBlackout, ResolvedDrop, ResolvedLink,
    ResolvedLoss, ResolvedNetwork, ResolvedPath, ResolvedPathChange, ResolvedQueue,
};

/// RTT of the lab's default network, in milliseconds.
pub const DEFAULT_RTT_MS: f64 = 50.0;
/// Bandwidth of the lab's default network, each way, in Mbit/s.
pub const DEFAULT_BANDWIDTH_MBIT: f64 = 10.0;
/// MTU of the lab's default network, in bytes.
pub const DEFAULT_MTU: u32 = 1500;
/// Queue of the lab's default network: one bandwidth-delay product.
pub const DEFAULT_QUEUE: QueueSpec = QueueSpec::Bdp(1.0);

/// Packet size a BDP queue is counted in, as netsim's `PathConfig::symmetric`.
const QUEUE_PACKET_BYTES: f64 = 1500.0;
/// Smallest queue, in packets, that a BDP-sized queue gets.
const MIN_BDP_QUEUE_PACKETS: f64 = 4.0;
/// Largest RTT, in milliseconds (netsim allows 60 s of delay each way).
const MAX_RTT_MS: f64 = 120_000.0;
/// Largest one-way delay, in milliseconds.
const MAX_DELAY_MS: f64 = 60_000.0;
/// Bandwidth limits, in Mbit/s: 1 kbit/s to 100 Gbit/s.
const MIN_BANDWIDTH_MBIT: f64 = 0.001;
const MAX_BANDWIDTH_MBIT: f64 = 100_000.0;
/// Largest jitter, in milliseconds (netsim's limit).
const MAX_JITTER_MS: f64 = 10_000.0;
/// MTU limits, in bytes (netsim's).
const MIN_MTU: u32 = 1280;
const MAX_MTU: u32 = 65_535;
/// Largest queue in BDPs.
const MAX_QUEUE_BDP: f64 = 1_000.0;
/// Latest time an event may be scheduled at, in milliseconds (one day).
const MAX_EVENT_MS: f64 = 86_400_000.0;

/// Drop-tail limit of a bottleneck queue: `{ bdp = 1.0 }`,
/// `{ packets = 64 }` or `{ bytes = 100000 }`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueSpec {
    /// This many bandwidth-delay products, in 1500-byte packets rounded up
    /// (at least 4). Above 0, at most 1000.
    Bdp(f64),
    /// This many packets, at least 1.
    Packets(u32),
    /// This many bytes, at least the MTU.
    Bytes(u64),
}

/// Random loss: `"none"`, a number (Bernoulli, in percent),
/// `{ model = "bernoulli", percent = 1 }` or
/// `{ model = "gilbert-elliott", percent = 2, burst = 3 }`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LossSpec {
    /// No random loss.
    None,
    /// Each packet is lost independently.
    Bernoulli {
        /// Loss rate in percent, 0 to 100.
        percent: f64,
    },
    /// Bursty loss (the simple Gilbert model; see netsim's `LossModel`).
    GilbertElliott {
        /// Long-run loss in percent, 0 to below 100.
        percent: f64,
        /// Mean burst length in packets, at least 1 (and at least
        /// `p / (1 − p)` for loss fraction `p`).
        burst: f64,
    },
}

/// Per-direction overrides, `[network.up]` or `[network.down]`: each field
/// set here wins over the path-wide value, a sweep axis and the preset.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectionSpec {
    /// One-way propagation delay, in milliseconds. Default: half the RTT.
    pub delay_ms: Option<f64>,
    /// Bottleneck rate, in Mbit/s.
    pub bandwidth_mbit: Option<f64>,
    /// Random loss of this direction.
    pub loss: Option<LossSpec>,
    /// Bottleneck queue of this direction.
    pub queue: Option<QueueSpec>,
    /// Maximum extra delay per packet, in milliseconds.
    pub jitter_ms: Option<f64>,
}

/// A path: a preset and overrides; the `to` of a `path_change` event.
/// Every field is optional; see the module doc for how they resolve.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathSpec {
    /// A named network ([`crate::presets`]) to start from.
    pub preset: Option<String>,
    /// Round-trip propagation delay, in milliseconds. Default 50.
    pub rtt_ms: Option<f64>,
    /// Bottleneck rate each way, in Mbit/s. Default 10.
    pub bandwidth_mbit: Option<f64>,
    /// Bottleneck queue. Default one BDP.
    pub queue: Option<QueueSpec>,
    /// Random loss, both directions. Default none.
    pub loss: Option<LossSpec>,
    /// Maximum extra delay per packet, in milliseconds. Default 0.
    pub jitter_ms: Option<f64>,
    /// Whether jitter may reorder packets. Default false.
    pub reorder: Option<bool>,
    /// Largest IP packet, in bytes. Default 1500.
    pub mtu: Option<u32>,
    /// Overrides for client → server.
    pub up: Option<DirectionSpec>,
    /// Overrides for server → client.
    pub down: Option<DirectionSpec>,
}

/// The `[network]` table: the path at the start of the run, and events.
/// With nothing set it is the lab's default network: 50 ms RTT, 10 Mbit/s,
/// a queue of one BDP, no loss, MTU 1500.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// A named network ([`crate::presets`]) to start from.
    pub preset: Option<String>,
    /// Round-trip propagation delay, in milliseconds. Default 50.
    pub rtt_ms: Option<f64>,
    /// Bottleneck rate each way, in Mbit/s. Default 10.
    pub bandwidth_mbit: Option<f64>,
    /// Bottleneck queue. Default one BDP.
    pub queue: Option<QueueSpec>,
    /// Random loss, both directions. Default none.
    pub loss: Option<LossSpec>,
    /// Maximum extra delay per packet, in milliseconds. Default 0.
    pub jitter_ms: Option<f64>,
    /// Whether jitter may reorder packets. Default false.
    pub reorder: Option<bool>,
    /// Largest IP packet, in bytes. Default 1500.
    pub mtu: Option<u32>,
    /// Overrides for client → server.
    pub up: Option<DirectionSpec>,
    /// Overrides for server → client.
    pub down: Option<DirectionSpec>,
    /// Targeted drops, blackouts and a path change, as
    /// `[[network.events]]` tables.
    #[serde(default)]
    pub events: Vec<EventSpec>,
}

/// One `[[network.events]]` table, told apart by `type`.
#[derive(Clone, Debug, PartialEq)]
pub enum EventSpec {
    /// `type = "drop"`: drop the `nth` matching packet of a direction.
    Drop {
        /// `"up"` or `"down"`.
        direction: Direction,
        /// Which matching packet, counting from 1.
        nth: u64,
        /// Count only this flow (0-based, in order of first appearance).
        flow: Option<u32>,
        /// Count only packets that carry transport payload. Default false.
        data_only: bool,
    },
    /// `type = "blackout"`: drop every packet (of `protocol`, if given) in
    /// `[from_ms, until_ms)`.
    Blackout {
        /// Start, in milliseconds of simulated time.
        from_ms: f64,
        /// End (exclusive), in milliseconds; after `from_ms`.
        until_ms: f64,
        /// `"up"` or `"down"`; both when left out.
        direction: Option<Direction>,
        /// `"udp"` or `"tcp"`: drop only that protocol's packets; every
        /// packet when left out.
        protocol: Option<IpProtocol>,
    },
    /// `type = "path_change"`: at `at_ms`, the client moves to the path `to`
    /// (resolved on its own: preset and overrides, not inherited from the
    /// first path). At most one per scenario.
    PathChange {
        /// When, in milliseconds of simulated time.
        at_ms: f64,
        /// The new path.
        to: Box<PathSpec>,
    },
}

/// Whether a run has its scenario's targeted drops and blackouts (the
/// `drop` and `blackout` tables of `[[network.events]]`). Serialized as its
/// label (`"on"`, `"off"`), as a scenario's `network_events` and its
/// `network_events` sweep axis write it.
///
/// Off is the no-event baseline of a scenario built around its events: the
/// same network, workload and seeds without them, so that each run pairs
/// by seed with its twin (`single-loss` without its one drop). A path
/// change is not such an event: it is where the client goes, not a loss,
/// and it stays either way.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum NetworkEvents {
    /// The drops and blackouts apply (`"on"`): the default, and what every
    /// run did before it was a choice.
    #[default]
    On,
    /// No targeted drop and no blackout (`"off"`); the path change, if
    /// any, stays.
    Off,
}

impl NetworkEvents {
    /// Both choices, in order: on, off.
    pub const ALL: [NetworkEvents; 2] = [NetworkEvents::On, NetworkEvents::Off];

    /// The label scenario files, the command line and results use: `"on"`
    /// or `"off"`.
    pub fn label(self) -> &'static str {
        match self {
            NetworkEvents::On => "on",
            NetworkEvents::Off => "off",
        }
    }

    /// What it does, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            NetworkEvents::On => "the scenario's targeted drops and blackouts apply",
            NetworkEvents::Off => "no targeted drop and no blackout (a path change stays)",
        }
    }

    /// Whether the drops and blackouts apply ([`NetworkEvents::On`]).
    pub fn is_on(self) -> bool {
        self == NetworkEvents::On
    }

    /// `network` as a run with this choice has it: as it is when on;
    /// without its drops and blackouts when off, its path and path change
    /// untouched.
    pub fn apply(self, mut network: ResolvedNetwork) -> ResolvedNetwork {
        if !self.is_on() {
            network.drops.clear();
            network.blackouts.clear();
        }
        network
    }
}

impl fmt::Display for NetworkEvents {
    /// The label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for NetworkEvents {
    type Err = NameError;

    /// `"on"` or `"off"`.
    fn from_str(s: &str) -> Result<NetworkEvents, NameError> {
        NetworkEvents::ALL
            .into_iter()
            .find(|x| x.label() == s)
            .ok_or_else(|| {
                NameError::one_of(
                    "network_events",
                    s,
                    &NetworkEvents::ALL.map(NetworkEvents::label),
                )
            })
    }
}

/// When the client starts, after the server. Serialized as its label
/// (`"per-seed"`, `"none"`), as a scenario's `start_offset` writes it.
///
/// A run without random loss or jitter has nothing random in its timing:
/// without an offset every seed gives the same run. With
/// [`StartOffset::PerSeed`] each seed starts its client at its own offset,
/// uniform in [0, the first path's round-trip propagation delay) to the
/// nanosecond (`netsim::seeded_client_start`), so that it meets the
/// simulation's 1 ms ticks at its own phase and the scenario's timed events
/// (a path change, a blackout) at its own point of the transfer. Every time
/// a record measures counts from the client's start either way.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum StartOffset {
    /// An offset drawn from the run seed (`"per-seed"`): the default.
    #[default]
    PerSeed,
    /// The client starts with the server (`"none"`), as every run did
    /// before the offset existed: the `page-flat` scenario keeps it, so
    /// that its runs are the earlier runs to the byte.
    None,
}

impl StartOffset {
    /// Both choices, in order: per-seed, none.
    pub const ALL: [StartOffset; 2] = [StartOffset::PerSeed, StartOffset::None];

    /// The label scenario files and results use: `"per-seed"` or `"none"`.
    pub fn label(self) -> &'static str {
        match self {
            StartOffset::PerSeed => "per-seed",
            StartOffset::None => "none",
        }
    }
}

impl fmt::Display for StartOffset {
    /// The label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Values of the sweep axes at one point of a sweep; `None` keeps the
/// file's value.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct AxisValues {
    pub loss_percent: Option<f64>,
    pub rtt_ms: Option<f64>,
    pub bandwidth_mbit: Option<f64>,
}

impl NetworkSpec {
    /// The path part (everything but the events).
    pub fn path(&self) -> PathSpec {
        PathSpec {
            preset: self.preset.clone(),
            rtt_ms: self.rtt_ms,
            bandwidth_mbit: self.bandwidth_mbit,
            queue: self.queue,
            loss: self.loss,
            jitter_ms: self.jitter_ms,
            reorder: self.reorder,
            mtu: self.mtu,
            up: self.up.clone(),
            down: self.down.clone(),
        }
    }

    /// How many targeted drops and blackouts `[[network.events]]` lists:
    /// what [`NetworkEvents::Off`] takes away (a path change is not one).
    pub fn drops_and_blackouts(&self) -> usize {
        self.events
            .iter()
            .filter(|e| !matches!(e, EventSpec::PathChange { .. }))
            .count()
    }

    /// The network with every value filled in, before any sweep axis.
    /// Call [`crate::Scenario::validate`] first: an unknown preset is
    /// ignored here.
    pub fn resolve(&self) -> ResolvedNetwork {
        self.resolve_with(&AxisValues::default())
    }

    pub(crate) fn resolve_with(&self, axes: &AxisValues) -> ResolvedNetwork {
        let mut network = ResolvedNetwork {
            path: self.path().resolve_with(axes),
            drops: Vec::new(),
            blackouts: Vec::new(),
            path_change: None,
        };
        for event in &self.events {
            match event {
                EventSpec::Drop {
                    direction,
                    nth,
                    flow,
                    data_only,
                } => network.drops.push(ResolvedDrop {
                    direction: *direction,
                    nth: *nth,
                    flow: *flow,
                    data_only: *data_only,
                }),
                EventSpec::Blackout {
                    from_ms,
                    until_ms,
                    direction,
                    protocol,
                } => network.blackouts.push(ResolvedBlackout {
                    start_ns: ms_to_ns(*from_ms),
                    end_ns: ms_to_ns(*until_ms),
                    direction: *direction,
                    protocol: *protocol,
                }),
                EventSpec::PathChange { at_ms, to } => {
                    network.path_change = Some(ResolvedPathChange {
                        at_ns: ms_to_ns(*at_ms),
                        path: to.resolve(),
                    });
                }
            }
        }
        network
    }

    /// Checks every field; the error names it as a path in the file.
    pub(crate) fn check(&self) -> Result<(), Invalid> {
        self.path().check("network")?;
        let mut path_change = None;
        for (i, event) in self.events.iter().enumerate() {
            let field = format!("network.events[{i}]");
            match event {
                EventSpec::Drop { nth, .. } => {
                    if *nth == 0 {
                        return Err(Invalid::new(
                            format!("{field}.nth"),
                            "must be at least 1 (packets are counted from 1)",
                        ));
                    }
                }
                EventSpec::Blackout {
                    from_ms, until_ms, ..
                } => {
                    check_event_time(&format!("{field}.from_ms"), *from_ms)?;
                    check_event_time(&format!("{field}.until_ms"), *until_ms)?;
                    if until_ms <= from_ms {
                        return Err(Invalid::new(
                            format!("{field}.until_ms"),
                            format!("must be after from_ms ({from_ms} ms), got {until_ms} ms"),
                        ));
                    }
                }
                EventSpec::PathChange { at_ms, to } => {
                    if let Some(first) = path_change {
                        return Err(Invalid::new(
                            format!("{field}.type"),
                            format!(
                                "only one path_change per scenario; network.events[{first}] \
                                 is one already"
                            ),
                        ));
                    }
                    path_change = Some(i);
                    check_event_time(&format!("{field}.at_ms"), *at_ms)?;
                    to.check(&format!("{field}.to"))?;
                }
            }
        }
        Ok(())
    }
}

impl PathSpec {
    /// The path with every value filled in (see the module doc). Call
    /// [`crate::Scenario::validate`] first: an unknown preset is ignored.
    pub fn resolve(&self) -> ResolvedPath {
        self.resolve_with(&AxisValues::default())
    }

    pub(crate) fn resolve_with(&self, axes: &AxisValues) -> ResolvedPath {
        let preset = self.preset.as_deref().and_then(preset);
        let rtt_ms = axes
            .rtt_ms
            .or(self.rtt_ms)
            .or(preset.map(|p| p.rtt_ms))
            .unwrap_or(DEFAULT_RTT_MS);
        let (down_mbit, up_mbit) = match axes.bandwidth_mbit.or(self.bandwidth_mbit) {
            Some(mbit) => (mbit, mbit),
            None => preset.map_or((DEFAULT_BANDWIDTH_MBIT, DEFAULT_BANDWIDTH_MBIT), |p| {
                (p.down_mbit, p.up_mbit)
            }),
        };
        let preset_loss = preset.map(|p| match p.loss_burst {
            _ if p.loss_percent == 0.0 => LossSpec::None,
            None => LossSpec::Bernoulli {
                percent: p.loss_percent,
            },
            Some(burst) => LossSpec::GilbertElliott {
                percent: p.loss_percent,
                burst,
            },
        });
        let mut loss = self.loss.or(preset_loss).unwrap_or(LossSpec::None);
        if let Some(percent) = axes.loss_percent {
            loss = loss.with_percent(percent);
        }
        let jitter_ms = self
            .jitter_ms
            .or(preset.map(|p| p.jitter_ms))
            .unwrap_or(0.0);
        let queue = self.queue.unwrap_or(DEFAULT_QUEUE);
        let reorder = self.reorder.unwrap_or(false);
        let mtu = self.mtu.unwrap_or(DEFAULT_MTU);

        let none = DirectionSpec::default();
        let up = self.up.as_ref().unwrap_or(&none);
        let down = self.down.as_ref().unwrap_or(&none);
        let half_rtt = ms_to_ns(rtt_ms) / 2;
        let up_delay = up.delay_ms.map_or(half_rtt, ms_to_ns);
        let down_delay = down.delay_ms.map_or(half_rtt, ms_to_ns);
        let rtt_ns = up_delay.saturating_add(down_delay);
        let link = |d: &DirectionSpec, delay_ns: u64, mbit: f64| {
            let bandwidth_bps = mbit_to_bps(d.bandwidth_mbit.unwrap_or(mbit));
            ResolvedLink {
                delay_ns,
                bandwidth_bps,
                queue: d.queue.unwrap_or(queue).resolve(bandwidth_bps, rtt_ns),
                loss: d.loss.unwrap_or(loss).resolve(),
                jitter_ns: ms_to_ns(d.jitter_ms.unwrap_or(jitter_ms)),
                reorder,
                mtu,
            }
        };
        ResolvedPath {
            up: link(up, up_delay, up_mbit),
            down: link(down, down_delay, down_mbit),
        }
    }

    /// Checks every field, naming it under `prefix` (`network`,
    /// `network.events[2].to`).
    pub(crate) fn check(&self, prefix: &str) -> Result<(), Invalid> {
        let field = |name: &str| format!("{prefix}.{name}");
        if let Some(name) = &self.preset {
            if preset(name).is_none() {
                return Err(Invalid::new(
                    field("preset"),
                    format!("unknown preset {name:?}; known presets: {}", preset_names()),
                ));
            }
        }
        if let Some(rtt) = self.rtt_ms {
            check_range(&field("rtt_ms"), rtt, 0.0, MAX_RTT_MS, "ms")?;
        }
        if let Some(mbit) = self.bandwidth_mbit {
            check_bandwidth(&field("bandwidth_mbit"), mbit)?;
        }
        if let Some(jitter) = self.jitter_ms {
            check_range(&field("jitter_ms"), jitter, 0.0, MAX_JITTER_MS, "ms")?;
        }
        if let Some(mtu) = self.mtu {
            if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
                return Err(Invalid::new(
                    field("mtu"),
                    format!("must be between {MIN_MTU} and {MAX_MTU} bytes, got {mtu}"),
                ));
            }
        }
        let mtu = self.mtu.unwrap_or(DEFAULT_MTU);
        if let Some(queue) = &self.queue {
            queue.check(&field("queue"), mtu)?;
        }
        if let Some(loss) = &self.loss {
            loss.check(&field("loss"))?;
        }
        for (name, direction) in [("up", &self.up), ("down", &self.down)] {
            let Some(d) = direction else { continue };
            let field = |sub: &str| format!("{prefix}.{name}.{sub}");
            if let Some(delay) = d.delay_ms {
                check_range(&field("delay_ms"), delay, 0.0, MAX_DELAY_MS, "ms")?;
            }
            if let Some(mbit) = d.bandwidth_mbit {
                check_bandwidth(&field("bandwidth_mbit"), mbit)?;
            }
            if let Some(loss) = &d.loss {
                loss.check(&field("loss"))?;
            }
            if let Some(queue) = &d.queue {
                queue.check(&field("queue"), mtu)?;
            }
            if let Some(jitter) = d.jitter_ms {
                check_range(&field("jitter_ms"), jitter, 0.0, MAX_JITTER_MS, "ms")?;
            }
        }
        Ok(())
    }
}

impl QueueSpec {
    fn resolve(self, bandwidth_bps: u64, rtt_ns: u64) -> ResolvedQueue {
        match self {
            QueueSpec::Bdp(bdps) => {
                let bdp_bytes = u128::from(bandwidth_bps) * u128::from(rtt_ns) / 8 / 1_000_000_000;
                let packets = (bdps * bdp_bytes as f64 / QUEUE_PACKET_BYTES)
                    .ceil()
                    .max(MIN_BDP_QUEUE_PACKETS)
                    .min(f64::from(u32::MAX));
                ResolvedQueue::Packets(packets as u32)
            }
            QueueSpec::Packets(n) => ResolvedQueue::Packets(n),
            QueueSpec::Bytes(n) => ResolvedQueue::Bytes(n),
        }
    }

    fn check(&self, field: &str, mtu: u32) -> Result<(), Invalid> {
        match *self {
            QueueSpec::Bdp(bdps) => {
                if !(bdps.is_finite() && bdps > 0.0 && bdps <= MAX_QUEUE_BDP) {
                    return Err(Invalid::new(
                        format!("{field}.bdp"),
                        format!("must be above 0 and at most {MAX_QUEUE_BDP}, got {bdps}"),
                    ));
                }
            }
            QueueSpec::Packets(0) => {
                return Err(Invalid::new(
                    format!("{field}.packets"),
                    "must be at least 1",
                ));
            }
            QueueSpec::Bytes(n) if n < u64::from(mtu) => {
                return Err(Invalid::new(
                    format!("{field}.bytes"),
                    format!("must be at least the mtu ({mtu} bytes), got {n}"),
                ));
            }
            QueueSpec::Packets(_) | QueueSpec::Bytes(_) => {}
        }
        Ok(())
    }
}

impl LossSpec {
    /// The same model at another rate (`None` becomes Bernoulli); 0 % is
    /// no loss.
    pub fn with_percent(self, percent: f64) -> LossSpec {
        match self {
            LossSpec::None | LossSpec::Bernoulli { .. } => LossSpec::Bernoulli { percent },
            LossSpec::GilbertElliott { burst, .. } => LossSpec::GilbertElliott { percent, burst },
        }
    }

    /// The loss rate in percent (0 for none).
    pub fn percent(&self) -> f64 {
        match *self {
            LossSpec::None => 0.0,
            LossSpec::Bernoulli { percent } | LossSpec::GilbertElliott { percent, .. } => percent,
        }
    }

    /// As rates; 0 % of any model is [`ResolvedLoss::None`].
    pub fn resolve(self) -> ResolvedLoss {
        match self {
            LossSpec::None => ResolvedLoss::None,
            _ if self.percent() == 0.0 => ResolvedLoss::None,
            LossSpec::Bernoulli { percent } => ResolvedLoss::Bernoulli {
                rate: percent / 100.0,
            },
            LossSpec::GilbertElliott { percent, burst } => ResolvedLoss::GilbertElliott {
                mean_loss: percent / 100.0,
                mean_burst: burst,
            },
        }
    }

    /// Checks the rate (and burst), naming `{field}.percent` or
    /// `{field}.burst`.
    pub(crate) fn check(&self, field: &str) -> Result<(), Invalid> {
        match *self {
            LossSpec::None => Ok(()),
            LossSpec::Bernoulli { percent } => {
                check_range(&format!("{field}.percent"), percent, 0.0, 100.0, "%")
            }
            LossSpec::GilbertElliott { percent, burst } => {
                if !(percent.is_finite() && (0.0..100.0).contains(&percent)) {
                    return Err(Invalid::new(
                        format!("{field}.percent"),
                        format!(
                            "must be at least 0 and below 100 for gilbert-elliott, got {percent}"
                        ),
                    ));
                }
                if !(burst.is_finite() && burst >= 1.0) {
                    return Err(Invalid::new(
                        format!("{field}.burst"),
                        format!("must be a number of packets, at least 1, got {burst}"),
                    ));
                }
                let fraction = percent / 100.0;
                let shortest = fraction / (1.0 - fraction);
                if burst < shortest {
                    return Err(Invalid::new(
                        format!("{field}.burst"),
                        format!(
                            "must be at least {shortest:.3} packets to reach {percent} % loss, \
                             got {burst}"
                        ),
                    ));
                }
                Ok(())
            }
        }
    }
}

/// Checks one resolved link with netsim's rules, so that every run a valid
/// scenario expands to builds.
pub(crate) fn check_link(link: &ResolvedLink) -> Result<(), String> {
    let ms = |ns: u64| ns as f64 / 1e6;
    if ms(link.delay_ns) > MAX_DELAY_MS {
        return Err(format!(
            "one-way delay {} ms is above {MAX_DELAY_MS} ms",
            ms(link.delay_ns)
        ));
    }
    if ms(link.jitter_ns) > MAX_JITTER_MS {
        return Err(format!("jitter is above {MAX_JITTER_MS} ms"));
    }
    if link.bandwidth_bps == 0 {
        return Err("bandwidth is 0".into());
    }
    match link.queue {
        ResolvedQueue::Packets(0) => return Err("queue holds no packet".into()),
        ResolvedQueue::Bytes(n) if n < u64::from(link.mtu) => {
            return Err(format!("queue of {n} bytes is below the mtu"))
        }
        _ => {}
    }
    match link.loss {
        ResolvedLoss::None => {}
        ResolvedLoss::Bernoulli { rate } => {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("loss of {} % is not 0 to 100", rate * 100.0));
            }
        }
        ResolvedLoss::GilbertElliott {
            mean_loss,
            mean_burst,
        } => {
            if !(0.0..1.0).contains(&mean_loss) {
                return Err(format!(
                    "gilbert-elliott loss of {} % is not below 100",
                    mean_loss * 100.0
                ));
            }
            if !(mean_burst >= 1.0 && mean_burst >= mean_loss / (1.0 - mean_loss)) {
                return Err(format!(
                    "gilbert-elliott burst of {mean_burst} packets cannot reach {} % loss",
                    mean_loss * 100.0
                ));
            }
        }
    }
    Ok(())
}

/// Milliseconds to whole nanoseconds, rounded (as netsim's `from_units`).
pub(crate) fn ms_to_ns(ms: f64) -> u64 {
    (ms * 1e6).round() as u64
}

/// Mbit/s to whole bits per second, rounded (as netsim's `from_units`).
pub(crate) fn mbit_to_bps(mbit: f64) -> u64 {
    (mbit * 1e6).round() as u64
}

pub(crate) fn check_range(
    field: &str,
    value: f64,
    min: f64,
    max: f64,
    unit: &str,
) -> Result<(), Invalid> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        let unit = if unit == "%" {
            String::new()
        } else {
            format!(" {unit}")
        };
        Err(Invalid::new(
            field,
            format!("must be between {min} and {max}{unit}, got {value}"),
        ))
    }
}

pub(crate) fn check_bandwidth(field: &str, mbit: f64) -> Result<(), Invalid> {
    check_range(
        field,
        mbit,
        MIN_BANDWIDTH_MBIT,
        MAX_BANDWIDTH_MBIT,
        "Mbit/s",
    )
}

pub(crate) fn check_rtt(field: &str, rtt_ms: f64) -> Result<(), Invalid> {
    check_range(field, rtt_ms, 0.0, MAX_RTT_MS, "ms")
}

fn check_event_time(field: &str, ms: f64) -> Result<(), Invalid> {
    check_range(field, ms, 0.0, MAX_EVENT_MS, "ms")
}

// ---- reading and writing the TOML forms ----

/// The loss table as written: `{ model = ..., percent = ..., burst = ... }`.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct LossTable {
    model: LossModelName,
    #[serde(skip_serializing_if = "Option::is_none")]
    percent: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    burst: Option<f64>,
}

impl TryFrom<LossTable> for LossSpec {
    type Error = FieldMessage;

    fn try_from(table: LossTable) -> Result<LossSpec, FieldMessage> {
        match (table.model, table.percent, table.burst) {
            (LossModelName::None, None, None) => Ok(LossSpec::None),
            (LossModelName::None, Some(_), _) => Err(FieldMessage::new(
                "percent",
                format!("model \"{}\" takes no percent", LossModelName::None),
            )),
            (LossModelName::None | LossModelName::Bernoulli, _, Some(_)) => Err(FieldMessage::new(
                "burst",
                format!(
                    "only model \"{}\" has a burst length",
                    LossModelName::GilbertElliott
                ),
            )),
            (LossModelName::Bernoulli, Some(percent), None) => Ok(LossSpec::Bernoulli { percent }),
            (LossModelName::GilbertElliott, Some(percent), Some(burst)) => {
                Ok(LossSpec::GilbertElliott { percent, burst })
            }
            (LossModelName::Bernoulli | LossModelName::GilbertElliott, None, _) => Err(
                FieldMessage::new("percent", "missing: the loss rate in percent"),
            ),
            (LossModelName::GilbertElliott, Some(_), None) => Err(FieldMessage::new(
                "burst",
                "missing: the mean burst length in packets",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for LossSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<LossSpec, D::Error> {
        struct LossVisitor;

        impl<'de> Visitor<'de> for LossVisitor {
            type Value = LossSpec;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "\"{}\", a loss rate in percent, or a table such as \
                     {{ model = \"{}\", percent = 1 }}",
                    LossModelName::None,
                    LossModelName::Bernoulli
                )
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<LossSpec, E> {
                if s == LossModelName::None.label() {
                    Ok(LossSpec::None)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(s), &self))
                }
            }

            fn visit_f64<E: de::Error>(self, percent: f64) -> Result<LossSpec, E> {
                Ok(LossSpec::Bernoulli { percent })
            }

            fn visit_i64<E: de::Error>(self, percent: i64) -> Result<LossSpec, E> {
                Ok(LossSpec::Bernoulli {
                    percent: percent as f64,
                })
            }

            fn visit_u64<E: de::Error>(self, percent: u64) -> Result<LossSpec, E> {
                Ok(LossSpec::Bernoulli {
                    percent: percent as f64,
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LossSpec, A::Error> {
                let table = LossTable::deserialize(MapAccessDeserializer::new(map))?;
                LossSpec::try_from(table).map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_any(LossVisitor)
    }
}

impl Serialize for LossSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let table = match *self {
            LossSpec::None => return serializer.serialize_str(LossModelName::None.label()),
            LossSpec::Bernoulli { percent } => LossTable {
                model: LossModelName::Bernoulli,
                percent: Some(percent),
                burst: None,
            },
            LossSpec::GilbertElliott { percent, burst } => LossTable {
                model: LossModelName::GilbertElliott,
                percent: Some(percent),
                burst: Some(burst),
            },
        };
        table.serialize(serializer)
    }
}

/// An event table as written: the union of every event's fields.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct EventTable {
    #[serde(rename = "type")]
    kind: EventKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<Direction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nth: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flow: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    until_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<PathSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<IpProtocol>,
}

#[derive(Clone, Copy, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
enum EventKind {
    Drop,
    Blackout,
    PathChange,
}

impl EventTable {
    /// The first field set that `kind` does not take.
    fn stray_field(&self, kind: EventKind) -> Option<&'static str> {
        let set = [
            ("direction", self.direction.is_some()),
            ("nth", self.nth.is_some()),
            ("flow", self.flow.is_some()),
            ("data_only", self.data_only.is_some()),
            ("from_ms", self.from_ms.is_some()),
            ("until_ms", self.until_ms.is_some()),
            ("at_ms", self.at_ms.is_some()),
            ("to", self.to.is_some()),
            ("protocol", self.protocol.is_some()),
        ];
        let allowed: &[&str] = match kind {
            EventKind::Drop => &["direction", "nth", "flow", "data_only"],
            EventKind::Blackout => &["from_ms", "until_ms", "direction", "protocol"],
            EventKind::PathChange => &["at_ms", "to"],
        };
        set.iter()
            .find(|(name, is_set)| *is_set && !allowed.contains(name))
            .map(|(name, _)| *name)
    }
}

impl TryFrom<EventTable> for EventSpec {
    type Error = FieldMessage;

    fn try_from(t: EventTable) -> Result<EventSpec, FieldMessage> {
        let (name, takes) = match t.kind {
            EventKind::Drop => ("drop", "direction, nth, flow, data_only"),
            EventKind::Blackout => ("blackout", "from_ms, until_ms, direction, protocol"),
            EventKind::PathChange => ("path_change", "at_ms, to"),
        };
        if let Some(field) = t.stray_field(t.kind) {
            return Err(FieldMessage::new(
                field,
                format!("not a field of a {name} event (it takes {takes})"),
            ));
        }
        let missing = |field: &'static str, what: &str| {
            FieldMessage::new(field, format!("missing: a {name} event needs {what}"))
        };
        Ok(match t.kind {
            EventKind::Drop => EventSpec::Drop {
                direction: t
                    .direction
                    .ok_or_else(|| missing("direction", "a direction, \"up\" or \"down\""))?,
                nth: t
                    .nth
                    .ok_or_else(|| missing("nth", "nth, which packet to drop"))?,
                flow: t.flow,
                data_only: t.data_only.unwrap_or(false),
            },
            EventKind::Blackout => EventSpec::Blackout {
                from_ms: t
                    .from_ms
                    .ok_or_else(|| missing("from_ms", "from_ms, its start"))?,
                until_ms: t
                    .until_ms
                    .ok_or_else(|| missing("until_ms", "until_ms, its end"))?,
                direction: t.direction,
                protocol: t.protocol,
            },
            EventKind::PathChange => EventSpec::PathChange {
                at_ms: t
                    .at_ms
                    .ok_or_else(|| missing("at_ms", "at_ms, when it happens"))?,
                to: Box::new(t.to.ok_or_else(|| missing("to", "to, the new path"))?),
            },
        })
    }
}

impl From<&EventSpec> for EventTable {
    fn from(event: &EventSpec) -> EventTable {
        let mut table = EventTable {
            kind: EventKind::Drop,
            direction: None,
            nth: None,
            flow: None,
            data_only: None,
            from_ms: None,
            until_ms: None,
            at_ms: None,
            to: None,
            protocol: None,
        };
        match event {
            EventSpec::Drop {
                direction,
                nth,
                flow,
                data_only,
            } => {
                table.direction = Some(*direction);
                table.nth = Some(*nth);
                table.flow = *flow;
                table.data_only = Some(*data_only);
            }
            EventSpec::Blackout {
                from_ms,
                until_ms,
                direction,
                protocol,
            } => {
                table.kind = EventKind::Blackout;
                table.from_ms = Some(*from_ms);
                table.until_ms = Some(*until_ms);
                table.direction = *direction;
                table.protocol = *protocol;
            }
            EventSpec::PathChange { at_ms, to } => {
                table.kind = EventKind::PathChange;
                table.at_ms = Some(*at_ms);
                table.to = Some(to.as_ref().clone());
            }
        }
        table
    }
}

impl<'de> Deserialize<'de> for EventSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EventSpec, D::Error> {
        struct EventVisitor;

        impl<'de> Visitor<'de> for EventVisitor {
            type Value = EventSpec;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event table with type = \"drop\", \"blackout\" or \"path_change\"")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EventSpec, A::Error> {
                // Converted inside the visitor, so an error carries this
                // event's span rather than the whole list's.
                let table = EventTable::deserialize(MapAccessDeserializer::new(map))?;
                EventSpec::try_from(table).map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_map(EventVisitor)
    }
}

impl Serialize for EventSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        EventTable::from(self).serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bdp_queue_matches_netsims_symmetric_path() {
        // 10 Mbit/s × 50 ms = 62 500 bytes = 41.7 packets → 42.
        assert_eq!(
            QueueSpec::Bdp(1.0).resolve(10_000_000, 50_000_000),
            ResolvedQueue::Packets(42)
        );
        // Tiny BDPs get at least 4 packets.
        assert_eq!(
            QueueSpec::Bdp(1.0).resolve(1_000_000, 1_000_000),
            ResolvedQueue::Packets(4)
        );
        assert_eq!(
            QueueSpec::Bdp(2.0).resolve(10_000_000, 50_000_000),
            ResolvedQueue::Packets(84)
        );
    }

    #[test]
    fn network_events_reads_and_writes_its_labels() {
        for e in NetworkEvents::ALL {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.label()));
            assert_eq!(serde_json::from_str::<NetworkEvents>(&json).unwrap(), e);
            assert_eq!(e.label().parse::<NetworkEvents>().unwrap(), e);
            assert_eq!(e.to_string(), e.label());
        }
        assert_eq!(NetworkEvents::default(), NetworkEvents::On);
        assert!(NetworkEvents::On.is_on() && !NetworkEvents::Off.is_on());
        assert!(NetworkEvents::On < NetworkEvents::Off);
        assert_eq!(
            "sometimes"
                .parse::<NetworkEvents>()
                .unwrap_err()
                .to_string(),
            "unknown network_events \"sometimes\"; expected on or off"
        );
    }

    #[test]
    fn the_loss_axis_keeps_the_model() {
        let ge = LossSpec::GilbertElliott {
            percent: 1.0,
            burst: 3.0,
        };
        assert_eq!(
            ge.with_percent(5.0),
            LossSpec::GilbertElliott {
                percent: 5.0,
                burst: 3.0
            }
        );
        assert_eq!(
            LossSpec::None.with_percent(2.0),
            LossSpec::Bernoulli { percent: 2.0 }
        );
        assert_eq!(ge.with_percent(0.0).resolve(), ResolvedLoss::None);
    }
}
