//! The network of one run with every value filled in, in plain numbers.
//!
//! A [`ResolvedNetwork`] is what a scenario's `[network]` table (preset,
//! overrides, per-direction settings, events) and one point of its sweep come
//! to: every link parameter explicit, per direction, in integer nanoseconds,
//! bits per second and bytes. netsim builds its `NetworkConfig` from it
//! (`bench::network`), and the runner writes it into every result record, so a
//! result says exactly which network produced it.
//!
//! Nothing here knows about presets or defaults; see [`crate::schema`] for how
//! a scenario resolves to these.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which way a packet travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the client to the server (`"up"`).
    Up,
    /// From the server to the client (`"down"`).
    Down,
}

impl Direction {
    /// `"up"` or `"down"`, as scenario files spell it.
    pub fn label(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// An IP protocol a blackout can be limited to: `"udp"` (a network that
/// blocks UDP, and with it QUIC, as some middleboxes do) or `"tcp"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpProtocol {
    /// TCP (IP protocol 6).
    Tcp,
    /// UDP (IP protocol 17).
    Udp,
}

impl IpProtocol {
    /// The IP protocol number: 6 or 17.
    pub fn number(self) -> u8 {
        match self {
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
        }
    }
}

/// Drop-tail limit of a link's bottleneck queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResolvedQueue {
    /// At most this many packets (serialized as `{"packets": n}`).
    Packets(u32),
    /// At most this many bytes of whole IP packets (`{"bytes": n}`).
    Bytes(u64),
}

/// The name of a loss model: `"none"`, `"bernoulli"` or
/// `"gilbert-elliott"`, as a scenario's `loss = { model = ... }` and a
/// record's `loss.model` ([`ResolvedLoss`]) write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossModelName {
    /// No random loss (`"none"`).
    None,
    /// Independent losses (`"bernoulli"`).
    Bernoulli,
    /// Bursty losses, the simple Gilbert model (`"gilbert-elliott"`).
    GilbertElliott,
}

impl LossModelName {
    /// Every model, in order: none, Bernoulli, Gilbert–Elliott.
    pub const ALL: [LossModelName; 3] = [
        LossModelName::None,
        LossModelName::Bernoulli,
        LossModelName::GilbertElliott,
    ];

    /// `"none"`, `"bernoulli"` or `"gilbert-elliott"`.
    pub fn label(self) -> &'static str {
        match self {
            LossModelName::None => "none",
            LossModelName::Bernoulli => "bernoulli",
            LossModelName::GilbertElliott => "gilbert-elliott",
        }
    }
}

impl fmt::Display for LossModelName {
    /// The label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Random loss on a link, as rates (fractions, not percent). Serialized
/// with its model's name ([`LossModelName`]) in `model`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case")]
pub enum ResolvedLoss {
    /// No random loss (`{"model": "none"}`).
    None,
    /// Each packet lost independently with probability `rate` (0 to 1).
    Bernoulli {
        /// Probability that a packet is lost, 0 to 1.
        rate: f64,
    },
    /// The simple Gilbert model: long-run loss `mean_loss` (0 to below 1) in
    /// bursts of `mean_burst` packets on average.
    GilbertElliott {
        /// Long-run fraction of packets lost, 0 to below 1.
        mean_loss: f64,
        /// Mean length of a loss burst in packets, at least 1.
        mean_burst: f64,
    },
}

impl ResolvedLoss {
    /// The name of its model.
    pub fn model(&self) -> LossModelName {
        match self {
            ResolvedLoss::None => LossModelName::None,
            ResolvedLoss::Bernoulli { .. } => LossModelName::Bernoulli,
            ResolvedLoss::GilbertElliott { .. } => LossModelName::GilbertElliott,
        }
    }
}

/// One direction of a path, every parameter explicit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedLink {
    /// One-way propagation delay, in nanoseconds.
    pub delay_ns: u64,
    /// Bottleneck rate, in bits per second.
    pub bandwidth_bps: u64,
    /// Drop-tail limit of the bottleneck queue.
    pub queue: ResolvedQueue,
    /// Random loss after the bottleneck.
    pub loss: ResolvedLoss,
    /// Maximum extra delay per packet (uniform in `[0, jitter_ns]`), in
    /// nanoseconds; 0 is no jitter.
    pub jitter_ns: u64,
    /// Whether jitter may reorder packets.
    pub reorder: bool,
    /// Largest IP packet, in bytes.
    pub mtu: u32,
}

/// Both directions of one path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedPath {
    /// Client → server.
    pub up: ResolvedLink,
    /// Server → client.
    pub down: ResolvedLink,
}

impl ResolvedPath {
    /// Round-trip propagation delay (`up.delay_ns + down.delay_ns`), in
    /// nanoseconds.
    pub fn rtt_ns(&self) -> u64 {
        self.up.delay_ns.saturating_add(self.down.delay_ns)
    }
}

/// Drop the `nth` matching packet of one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedDrop {
    /// The direction it applies to.
    pub direction: Direction,
    /// Which matching packet to drop, counting from 1.
    pub nth: u64,
    /// Count only packets of this flow (0-based, in order of first
    /// appearance on that direction); `None` counts every flow.
    pub flow: Option<u32>,
    /// Count only packets that carry transport payload.
    pub data_only: bool,
}

/// A window in which every packet is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedBlackout {
    /// Start, inclusive, in nanoseconds of simulated time.
    pub start_ns: u64,
    /// End, exclusive, in nanoseconds of simulated time.
    pub end_ns: u64,
    /// The direction it applies to; `None` is both.
    pub direction: Option<Direction>,
    /// The IP protocol it drops; `None` (left out of the JSON, so
    /// networks from before it existed keep their hashes) drops every
    /// packet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<IpProtocol>,
}

/// The client moves to `path` (and a new address) at `at_ns`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedPathChange {
    /// When, in nanoseconds of simulated time.
    pub at_ns: u64,
    /// The new path.
    pub path: ResolvedPath,
}

/// Everything about the network of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedNetwork {
    /// The path at the start of the run.
    pub path: ResolvedPath,
    /// Targeted drops, in file order.
    pub drops: Vec<ResolvedDrop>,
    /// Blackouts, in file order.
    pub blackouts: Vec<ResolvedBlackout>,
    /// An optional change of path.
    pub path_change: Option<ResolvedPathChange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_models_are_written_with_their_names() {
        for name in LossModelName::ALL {
            let json = serde_json::to_string(&name).unwrap();
            assert_eq!(json, format!("\"{}\"", name.label()));
            assert_eq!(serde_json::from_str::<LossModelName>(&json).unwrap(), name);
        }
        let losses = [
            ResolvedLoss::None,
            ResolvedLoss::Bernoulli { rate: 0.02 },
            ResolvedLoss::GilbertElliott {
                mean_loss: 0.02,
                mean_burst: 3.0,
            },
        ];
        for (loss, name) in losses.into_iter().zip(LossModelName::ALL) {
            assert_eq!(loss.model(), name);
            let json = serde_json::to_value(loss).unwrap();
            assert_eq!(json["model"], name.label());
        }
    }
}
