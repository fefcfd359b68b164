//! Scenario files: the TOML schema, its validation, and the runs a scenario
//! expands to.
//!
//! ```text
//! TOML text ──► Scenario::from_toml (parse, validate) ──► with_overrides ──► expand ──► [RunSpec]
//! ```
//! A [`Scenario`] is data: names, a network, a workload, protocols, how
//! connections are set up ([`Handshake`]), seeds, a time limit and sweep
//! axes. [`Scenario::expand`] turns it into one [`RunSpec`] per protocol ×
//! sweep point × seed, each with a fully resolved network
//! ([`ResolvedNetwork`]) and workload. Nothing here runs
//! anything. The file format, field by field, is in `docs/scenarios.md`.
//!
//! Errors ([`ScenarioError`]) name the file, the line and the field: toml's
//! own errors carry a byte span, and a second parse of the text into a tree
//! of spans (the private `location` module) maps between spans and field paths.

mod error;
mod network;
mod workload;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use tcp::{Congestion, Pacing, TcpImplementation};

pub use self::error::{ErrorKind, NameError, ScenarioError};
pub use self::network::{
    DirectionSpec, EventSpec, LossSpec, NetworkEvents, NetworkSpec, PathSpec, QueueSpec,
    StartOffset, DEFAULT_BANDWIDTH_MBIT, DEFAULT_MTU, DEFAULT_QUEUE, DEFAULT_RTT_MS,
};
pub use self::workload::{ObjectSpec, WorkloadSpec};
pub use crate::preset::{preset, presets, Preset};
pub use crate::resolved::{
    Direction, LossModelName, ResolvedBlackout, ResolvedDrop, ResolvedLink, ResolvedLoss,
    ResolvedNetwork, ResolvedPath, ResolvedPathChange, ResolvedQueue,
};

use self::error::Invalid;
use self::network::{check_bandwidth, check_link, check_range, check_rtt, AxisValues};
use crate::location::SourceMap;
use crate::page::{Discovery, PageStructure};
use crate::protocol::{
    Certificate, Coalescing, H3Discovery, Handshake, Protocol, Scheduler, H3_FALLBACK_DELAY,
};
use crate::workload::Workload;

/// Seeds when a scenario names none: 1 to 10.
pub const DEFAULT_SEED_COUNT: u64 = 10;
/// Simulated-time limit per run when a scenario names none, in seconds.
pub const DEFAULT_TIME_LIMIT_S: f64 = 60.0;
/// The most seeds a scenario may list or count.
pub const MAX_SEEDS: u64 = 100_000;
/// The most points a sweep may have (the product of its axes' lengths,
/// named axes included): 10 000.
pub const MAX_SWEEP_POINTS: u64 = 10_000;
/// The most runs a scenario may expand to (points × protocols × seeds):
/// 100 000, a day of the lab's default page on one core. A million-point
/// sweep once sat silent for minutes while it expanded.
pub const MAX_RUNS: u64 = 100_000;
/// The most listed objects (a `list` or `page-graph` workload's) over all
/// of a scenario's runs: 10 000 000. Every run carries its own copy of
/// the workload, about 100 bytes an object, so this keeps an expanded
/// scenario near a gigabyte at most (10 000 objects x 1 000 runs, or the
/// 40-object default page graph x 100 000 runs, are both within it).
pub const MAX_LISTED_OBJECTS: u64 = 10_000_000;
/// The longest simulated-time limit, in seconds (one day).
pub const MAX_TIME_LIMIT_S: f64 = 86_400.0;
/// The numeric sweep axes, in expansion order (the first varies slowest).
/// The [`NamedAxis`] axes come after them.
pub const SWEEP_AXES: [&str; 5] = [
    "loss_percent",
    "rtt_ms",
    "bandwidth_mbit",
    "subresource_responses",
    "initial_window",
];
/// The name of the sweep axis over [`Handshake`]s ([`NamedAxis::Handshake`]).
pub const HANDSHAKE_AXIS: &str = "handshake";
/// The largest initial congestion window a scenario may ask for, in
/// segments.
pub const MAX_INITIAL_WINDOW: u32 = 1000;

/// A sweep axis whose values are names, not numbers. They come after the
/// numeric [`SWEEP_AXES`], in this order (the first varies slowest), in
/// expansion and in run keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NamedAxis {
    /// How connections are set up: [`Handshake`] (`handshake`).
    Handshake,
    /// Congestion control, for TCP and QUIC alike: [`Congestion`] (`cc`).
    Cc,
    /// TCP pacing: [`Pacing`] (`pacing`).
    Pacing,
    /// The server's stream scheduler: [`Scheduler`] (`scheduler`).
    Scheduler,
    /// The server's certificate chain: [`Certificate`] (`certificate`).
    Certificate,
    /// Whether HTTP/2 and HTTP/3 carry every origin of a page on one
    /// connection: [`Coalescing`] (`coalescing`).
    Coalescing,
    /// How an HTTP/3 client reaches HTTP/3 on a page: [`H3Discovery`]
    /// (`h3_discovery`).
    H3Discovery,
    /// Whether the run has the targeted drops and blackouts of
    /// `[[network.events]]`: [`NetworkEvents`] (`network_events`).
    NetworkEvents,
}

impl NamedAxis {
    /// Every named axis, in expansion order.
    pub const ALL: [NamedAxis; 8] = [
        NamedAxis::Handshake,
        NamedAxis::Cc,
        NamedAxis::Pacing,
        NamedAxis::Scheduler,
        NamedAxis::Certificate,
        NamedAxis::Coalescing,
        NamedAxis::H3Discovery,
        NamedAxis::NetworkEvents,
    ];

    /// The axis's name, which is also the scenario field it replaces:
    /// `handshake`, `cc`, `pacing`, `scheduler`, `certificate`,
    /// `coalescing`, `h3_discovery` or `network_events`.
    pub fn name(self) -> &'static str {
        match self {
            NamedAxis::Handshake => HANDSHAKE_AXIS,
            NamedAxis::Cc => "cc",
            NamedAxis::Pacing => "pacing",
            NamedAxis::Scheduler => "scheduler",
            NamedAxis::Certificate => "certificate",
            NamedAxis::Coalescing => "coalescing",
            NamedAxis::H3Discovery => "h3_discovery",
            NamedAxis::NetworkEvents => "network_events",
        }
    }

    /// The axis named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<NamedAxis> {
        NamedAxis::ALL.into_iter().find(|a| a.name() == name)
    }

    /// This axis's value in `choices`, as its label.
    pub fn label_in(self, choices: &Choices) -> &'static str {
        match self {
            NamedAxis::Handshake => choices.handshake.label(),
            NamedAxis::Cc => choices.cc.label(),
            NamedAxis::Pacing => choices.pacing.label(),
            NamedAxis::Scheduler => choices.scheduler.label(),
            NamedAxis::Certificate => choices.certificate.label(),
            NamedAxis::Coalescing => choices.coalescing.label(),
            NamedAxis::H3Discovery => choices.h3_discovery.label(),
            NamedAxis::NetworkEvents => choices.network_events.label(),
        }
    }
}

/// The choices of a run that are names: one value per [`NamedAxis`]. The
/// default is the lab's default run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Choices {
    /// How connections are set up.
    pub handshake: Handshake,
    /// Congestion control, TCP and QUIC alike.
    pub cc: Congestion,
    /// TCP pacing (QUIC always paces: quinn's pacer).
    pub pacing: Pacing,
    /// The server's stream scheduler (HTTP/2 and HTTP/3).
    pub scheduler: Scheduler,
    /// The server's certificate chain.
    pub certificate: Certificate,
    /// Whether HTTP/2 and HTTP/3 carry every origin of a page on one
    /// connection.
    pub coalescing: Coalescing,
    /// How an HTTP/3 client reaches HTTP/3 on a page.
    pub h3_discovery: H3Discovery,
    /// Whether the run has the scenario's targeted drops and blackouts.
    pub network_events: NetworkEvents,
}

impl Choices {
    /// The value of `axis` as JSON (its label).
    fn json(&self, axis: NamedAxis) -> serde_json::Value {
        serde_json::Value::String(axis.label_in(self).to_owned())
    }
}

/// The scenario files shipped with the lab, embedded at build time.
const BUILTIN: &[(&str, &str)] = &[
    ("page", include_str!("../../files/page.toml")),
    ("page-flat", include_str!("../../files/page-flat.toml")),
    ("loss-sweep", include_str!("../../files/loss-sweep.toml")),
    ("bulk", include_str!("../../files/bulk.toml")),
    ("bulk-30mb", include_str!("../../files/bulk-30mb.toml")),
    ("parallel", include_str!("../../files/parallel.toml")),
    ("rpc", include_str!("../../files/rpc.toml")),
    ("single-loss", include_str!("../../files/single-loss.toml")),
    ("migration", include_str!("../../files/migration.toml")),
    ("handshake", include_str!("../../files/handshake.toml")),
    ("bundled", include_str!("../../files/bundled.toml")),
    (
        "deciding-factors",
        include_str!("../../files/deciding-factors.toml"),
    ),
];

const BUILTIN_NAMES: &[&str] = &[
    "page",
    "page-flat",
    "loss-sweep",
    "bulk",
    "bulk-30mb",
    "parallel",
    "rpc",
    "single-loss",
    "migration",
    "handshake",
    "bundled",
    "deciding-factors",
];

/// The run seeds: `seeds = 10` (1 to 10) or `seeds = [3, 7, 42]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seeds {
    /// Seeds 1 to N.
    Count(u64),
    /// These seeds, in this order.
    List(Vec<u64>),
}

impl Default for Seeds {
    /// Seeds 1 to 10.
    fn default() -> Seeds {
        Seeds::Count(DEFAULT_SEED_COUNT)
    }
}

impl Seeds {
    /// The seeds in run order.
    pub fn to_vec(&self) -> Vec<u64> {
        match self {
            Seeds::Count(n) => (1..=*n).collect(),
            Seeds::List(seeds) => seeds.clone(),
        }
    }

    /// How many seeds.
    pub fn len(&self) -> usize {
        match self {
            Seeds::Count(n) => usize::try_from(*n).unwrap_or(usize::MAX),
            Seeds::List(seeds) => seeds.len(),
        }
    }

    /// Whether there are none (which validation rejects).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Serialize for Seeds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Seeds::Count(n) => serializer.serialize_u64(*n),
            Seeds::List(seeds) => seeds.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Seeds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Seeds, D::Error> {
        struct SeedsVisitor;

        impl<'de> Visitor<'de> for SeedsVisitor {
            type Value = Seeds;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of seeds (seeds 1..=N) or a list of seeds")
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Seeds, E> {
                Ok(Seeds::Count(n))
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Seeds, E> {
                u64::try_from(n)
                    .map(Seeds::Count)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Seeds, A::Error> {
                let mut seeds = Vec::new();
                while let Some(seed) = seq.next_element::<u64>()? {
                    seeds.push(seed);
                }
                Ok(Seeds::List(seeds))
            }
        }

        deserializer.deserialize_any(SeedsVisitor)
    }
}

/// Sweep axes: each one set is a list of values, and the runs cover every
/// combination. A network axis's value replaces the corresponding
/// `[network]` field of the first path (not a per-direction one, not a path
/// change's); `subresource_responses` replaces the page workload's field of
/// that name; a `handshake` value replaces the scenario's `handshake`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    /// Loss rates in percent; the loss model (Bernoulli, or
    /// Gilbert–Elliott with its burst) stays as configured.
    pub loss_percent: Option<Vec<f64>>,
    /// Round-trip times in milliseconds.
    pub rtt_ms: Option<Vec<f64>>,
    /// Bandwidths in Mbit/s, both directions.
    pub bandwidth_mbit: Option<Vec<f64>>,
    /// Responses that carry a page's subresources (whole numbers from 1 to
    /// the page's subresource count; page workloads only). The head-of-line
    /// ablation sweeps `[39, 1]`: one response per object against one
    /// bundle of them all.
    pub subresource_responses: Option<Vec<f64>>,
    /// Initial congestion windows in segments, for TCP and QUIC alike
    /// (whole numbers from 1 to [`MAX_INITIAL_WINDOW`]); replaces the
    /// scenario's `initial_window`.
    pub initial_window: Option<Vec<f64>>,
    /// How connections are set up ([`HANDSHAKE_AXIS`]), the first named
    /// axis.
    pub handshake: Option<Vec<Handshake>>,
    /// Congestion controls, TCP and QUIC alike.
    pub cc: Option<Vec<Congestion>>,
    /// TCP pacing, off or on.
    pub pacing: Option<Vec<Pacing>>,
    /// The server's stream schedulers.
    pub scheduler: Option<Vec<Scheduler>>,
    /// The server's certificate chains.
    pub certificate: Option<Vec<Certificate>>,
    /// Connection coalescing of HTTP/2 and HTTP/3, on or off.
    pub coalescing: Option<Vec<Coalescing>>,
    /// How an HTTP/3 client reaches HTTP/3: known, race, alt-svc.
    pub h3_discovery: Option<Vec<H3Discovery>>,
    /// The targeted drops and blackouts of `[[network.events]]`, on or
    /// off (the no-event baseline, paired by seed).
    pub network_events: Option<Vec<NetworkEvents>>,
}

impl Sweep {
    /// The numeric axes that are set, as `(name, values)` in
    /// [`SWEEP_AXES`] order (the named axes are [`Sweep::named`]).
    pub fn axes(&self) -> Vec<(&'static str, &[f64])> {
        [
            (SWEEP_AXES[0], &self.loss_percent),
            (SWEEP_AXES[1], &self.rtt_ms),
            (SWEEP_AXES[2], &self.bandwidth_mbit),
            (SWEEP_AXES[3], &self.subresource_responses),
            (SWEEP_AXES[4], &self.initial_window),
        ]
        .into_iter()
        .filter_map(|(name, values)| values.as_deref().map(|v| (name, v)))
        .collect()
    }

    /// The named axes that are set, in [`NamedAxis`] order, each with how
    /// many values it lists.
    pub fn named(&self) -> Vec<(NamedAxis, usize)> {
        let lens = [
            self.handshake.as_ref().map(Vec::len),
            self.cc.as_ref().map(Vec::len),
            self.pacing.as_ref().map(Vec::len),
            self.scheduler.as_ref().map(Vec::len),
            self.certificate.as_ref().map(Vec::len),
            self.coalescing.as_ref().map(Vec::len),
            self.h3_discovery.as_ref().map(Vec::len),
            self.network_events.as_ref().map(Vec::len),
        ];
        NamedAxis::ALL
            .into_iter()
            .zip(lens)
            .filter_map(|(axis, len)| len.map(|n| (axis, n)))
            .collect()
    }

    /// Every combination of numeric axis values, the first axis varying
    /// slowest, values in the order listed. One empty point when no numeric
    /// axis is set. (Within each, [`Scenario::expand`] goes through the
    /// named axes.)
    pub fn points(&self) -> Vec<BTreeMap<String, f64>> {
        let mut points = vec![BTreeMap::new()];
        for (name, values) in self.axes() {
            points = points
                .into_iter()
                .flat_map(|point| {
                    values.iter().map(move |&v| {
                        let mut point = point.clone();
                        // `-0` is `0`: the same point, the same run key
                        // (adding +0.0 turns -0.0 into +0.0, nothing else).
                        point.insert(name.to_owned(), v + 0.0);
                        point
                    })
                })
                .collect();
        }
        points
    }
}

fn axis_values(point: &BTreeMap<String, f64>) -> AxisValues {
    AxisValues {
        loss_percent: point.get("loss_percent").copied(),
        rtt_ms: point.get("rtt_ms").copied(),
        bandwidth_mbit: point.get("bandwidth_mbit").copied(),
    }
}

fn default_protocols() -> Vec<Protocol> {
    Protocol::ALL.to_vec()
}

/// Whether `h` is the default, full handshakes (which a scenario's TOML
/// leaves out).
fn is_full(h: &Handshake) -> bool {
    *h == Handshake::Full
}

/// Whether `value` is its type's default (which a scenario's TOML leaves
/// out, and content hashes too, so they stay what they were before the
/// field existed).
fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn default_time_limit() -> f64 {
    DEFAULT_TIME_LIMIT_S
}

/// A scenario: what to measure, on which network, how often.
///
/// Build one with [`Scenario::from_toml`], [`Scenario::load`] or
/// [`Scenario::builtin`] (all validate), adjust it with
/// [`Scenario::with_overrides`], then [`Scenario::expand`] it into runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name: 1 to 64 characters from `A-Z a-z 0-9 . _ -`.
    pub name: String,
    /// One or two sentences on what the scenario measures. Default empty.
    #[serde(default)]
    pub description: String,
    /// The protocols to run, in order. Default all three.
    #[serde(default = "default_protocols")]
    pub protocols: Vec<Protocol>,
    /// The run seeds. Default 10 (seeds 1 to 10).
    #[serde(default)]
    pub seeds: Seeds,
    /// Simulated-time limit per run, in seconds. Default 60.
    #[serde(default = "default_time_limit")]
    pub time_limit_s: f64,
    /// The TCP implementation. Default `linux`.
    #[serde(default)]
    pub tcp: TcpImplementation,
    /// How connections are set up, unless the `handshake` axis is swept.
    /// Default `full`.
    #[serde(default, skip_serializing_if = "is_full")]
    pub handshake: Handshake,
    /// Congestion control for TCP and QUIC alike, unless the `cc` axis is
    /// swept. Default `cubic`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub cc: Congestion,
    /// TCP pacing, unless the `pacing` axis is swept. Default `off`, as
    /// Linux without the fq qdisc (QUIC always paces).
    #[serde(default, skip_serializing_if = "is_default")]
    pub pacing: Pacing,
    /// The initial congestion window in segments, for TCP and QUIC alike
    /// (QUIC's in bytes of full TCP segments: the path MTU less 52), unless
    /// the `initial_window` axis is swept. Default: unset, each
    /// transport's own (TCP 10 segments, quinn 12 000 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_window: Option<u32>,
    /// The server's stream scheduler for HTTP/2 and HTTP/3, unless the
    /// `scheduler` axis is swept. Default `round-robin`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub scheduler: Scheduler,
    /// The server's certificate chain, unless the `certificate` axis is
    /// swept. Default `minimal`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub certificate: Certificate,
    /// Whether HTTP/2 and HTTP/3 send the requests of every origin of a
    /// page on the document origin's connection, unless the `coalescing`
    /// axis is swept. Default `on`. HTTP/1.1 never coalesces.
    #[serde(default, skip_serializing_if = "is_default")]
    pub coalescing: Coalescing,
    /// How an HTTP/3 client reaches HTTP/3 on a page loaded as a browser
    /// does, unless the `h3_discovery` axis is swept: `known` (HTTP/3 alone,
    /// the default), `race` or `alt-svc` (see [`H3Discovery`]). HTTP/1.1 and
    /// HTTP/2 runs ignore it.
    #[serde(default, skip_serializing_if = "is_default")]
    pub h3_discovery: H3Discovery,
    /// How long requests wait for QUIC before TCP is used, in milliseconds,
    /// under `race` and `alt-svc`. Default: unset, 300 ms
    /// ([`H3_FALLBACK_DELAY`], Chromium's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h3_fallback_ms: Option<f64>,
    /// Whether the runs have the targeted drops and blackouts of
    /// `[[network.events]]` (`on`, the default) or run without them
    /// (`off`), unless the `network_events` axis is swept. A path change
    /// stays either way.
    #[serde(default, skip_serializing_if = "is_default")]
    pub network_events: NetworkEvents,
    /// When the client starts after the server: `per-seed` (the default),
    /// an offset in [0, RTT) drawn from the seed, or `none` (see
    /// [`StartOffset`]).
    #[serde(default, skip_serializing_if = "is_default")]
    pub start_offset: StartOffset,
    /// The network. Default: the lab's default network.
    #[serde(default)]
    pub network: NetworkSpec,
    /// What the client fetches. Default: the default page.
    #[serde(default)]
    pub workload: WorkloadSpec,
    /// Sweep axes. Default none.
    #[serde(default)]
    pub sweep: Sweep,
}

/// Command-line overrides for a scenario (see [`Scenario::with_overrides`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// Pins the `loss_percent` axis to this one value.
    pub loss_percent: Option<f64>,
    /// Pins the `rtt_ms` axis to this one value.
    pub rtt_ms: Option<f64>,
    /// Pins the `bandwidth_mbit` axis to this one value.
    pub bandwidth_mbit: Option<f64>,
    /// Replaces `network.preset`.
    pub preset: Option<String>,
    /// Replaces `seeds` with seeds 1 to N.
    pub seeds: Option<u64>,
    /// Replaces `protocols`.
    pub protocols: Option<Vec<Protocol>>,
    /// Replaces `tcp`.
    pub tcp: Option<TcpImplementation>,
    /// Pins the `handshake` axis to this one value.
    pub handshake: Option<Handshake>,
    /// Pins the `cc` axis to this one value.
    pub cc: Option<Congestion>,
    /// Pins the `pacing` axis to this one value.
    pub pacing: Option<Pacing>,
    /// Pins the `initial_window` axis to this one value, in segments.
    pub initial_window: Option<u32>,
    /// Pins the `scheduler` axis to this one value.
    pub scheduler: Option<Scheduler>,
    /// Pins the `certificate` axis to this one value.
    pub certificate: Option<Certificate>,
    /// Pins the `coalescing` axis to this one value.
    pub coalescing: Option<Coalescing>,
    /// Pins the `h3_discovery` axis to this one value.
    pub h3_discovery: Option<H3Discovery>,
    /// Pins the `network_events` axis to this one value.
    pub network_events: Option<NetworkEvents>,
}

/// One run: a protocol, a seed and one point of the sweep, everything
/// resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// The scenario's name.
    pub scenario: String,
    /// The protocol.
    pub protocol: Protocol,
    /// The run seed.
    pub seed: u64,
    /// The numeric sweep axes' values at this run (empty without a
    /// sweep), by axis name ([`SWEEP_AXES`]).
    pub axes: BTreeMap<String, f64>,
    /// The network, every value explicit (without drops and blackouts
    /// when [`Choices::network_events`] is off).
    pub network: ResolvedNetwork,
    /// What the client fetches.
    pub workload: Workload,
    /// Simulated-time limit.
    pub time_limit: Duration,
    /// The TCP implementation.
    pub tcp: TcpImplementation,
    /// The initial congestion window in segments, TCP and QUIC alike;
    /// `None`: each transport's own.
    pub initial_window: Option<u32>,
    /// The named choices: handshake, congestion control, pacing, scheduler,
    /// certificate, coalescing, HTTP/3 discovery, network events.
    pub choices: Choices,
    /// How long requests wait for QUIC before TCP is used under
    /// [`H3Discovery::Race`] and [`H3Discovery::AltSvc`].
    pub h3_fallback: Duration,
    /// When the client starts after the server.
    pub start_offset: StartOffset,
    /// The named axes the scenario sweeps, in [`NamedAxis`] order: the
    /// run's key names their values, and its recorded axes include them.
    pub named_axes: Vec<NamedAxis>,
}

impl RunSpec {
    /// How the run sets up its connections.
    pub fn handshake(&self) -> Handshake {
        self.choices.handshake
    }

    /// Whether the scenario sweeps `axis`.
    pub fn is_axis(&self, axis: NamedAxis) -> bool {
        self.named_axes.contains(&axis)
    }

    /// A stable id within the scenario:
    /// `"{protocol}/seed={seed}"`, then `/{axis}={value}` for each numeric
    /// axis in [`SWEEP_AXES`] order, then `/{axis}={label}` for each named
    /// axis swept, in [`NamedAxis`] order, e.g. `"h2/seed=7/loss_percent=2"`,
    /// `"h3/seed=1/handshake=early-data"`, `"h2/seed=3/cc=bbr/pacing=on"`.
    /// Values print in Rust's shortest round-trip form (`2`, `0.5`).
    pub fn key(&self) -> String {
        let mut key = format!("{}/seed={}", self.protocol, self.seed);
        for axis in SWEEP_AXES {
            if let Some(value) = self.axes.get(axis) {
                key.push_str(&format!("/{axis}={value}"));
            }
        }
        for &axis in &self.named_axes {
            key.push_str(&format!(
                "/{}={}",
                axis.name(),
                axis.label_in(&self.choices)
            ));
        }
        key
    }

    /// SHA-256 (hex) of everything that decides what this run does:
    /// protocol, seed, network, workload, time limit, TCP, the initial
    /// window if set, and each named choice that is not its default, in the
    /// same canonical form as [`Scenario::content_hash`]. Two runs with
    /// equal hashes are the same simulation, whatever scenario they came
    /// from.
    pub fn content_hash(&self) -> String {
        let mut canonical = serde_json::json!({
            "format": "httplab-run-v1",
            "protocol": self.protocol,
            "seed": self.seed,
            "network": self.network,
            "workload": workload_json(&self.workload),
            "time_limit_ns": duration_ns(self.time_limit),
            "tcp": self.tcp,
        });
        if let Some(iw) = self.initial_window {
            canonical["initial_window"] = serde_json::json!(iw);
        }
        if self.h3_fallback != H3_FALLBACK_DELAY {
            canonical["h3_fallback_ns"] = serde_json::json!(duration_ns(self.h3_fallback));
        }
        let defaults = Choices::default();
        for axis in NamedAxis::ALL {
            if axis.label_in(&self.choices) != axis.label_in(&defaults) {
                canonical[axis.name()] = self.choices.json(axis);
            }
        }
        sha256_hex(&canonical)
    }
}

impl Scenario {
    /// Parses and validates a scenario from TOML text. `origin` names the
    /// text in errors: the file's path, or `<built-in page>`.
    ///
    /// Errors name the file, the line and column, and the field: unknown
    /// fields, wrong types, missing fields and unknown names (toml's own
    /// errors), and values out of range (validation).
    pub fn from_toml(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let map = SourceMap::new(text);
        let scenario: Scenario =
            toml::from_str(text).map_err(|e| ScenarioError::from_toml(origin, text, &map, &e))?;
        scenario
            .check()
            .map_err(|e| ScenarioError::invalid(origin, Some((text, &map)), e))?;
        Ok(scenario)
    }

    /// Reads, parses and validates the scenario file at `path`; errors name
    /// the path.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::read(&origin, e))?;
        Scenario::from_toml(&text, &origin)
    }

    /// A scenario shipped with the lab ([`Scenario::builtin_names`]).
    pub fn builtin(name: &str) -> Option<Scenario> {
        let text = Scenario::builtin_text(name)?;
        Scenario::from_toml(text, &format!("<built-in {name}>")).ok()
    }

    /// The TOML text of a shipped scenario, comments included.
    pub fn builtin_text(name: &str) -> Option<&'static str> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text)
    }

    /// The names of the shipped scenarios; `page` is the default.
    pub fn builtin_names() -> &'static [&'static str] {
        BUILTIN_NAMES
    }

    /// Checks every field; the error names the first bad one. Scenarios
    /// from [`Scenario::from_toml`] are already valid; this is for ones
    /// built or changed in code. The error has no line (there is no text).
    pub fn validate(&self) -> Result<(), ScenarioError> {
        self.check()
            .map_err(|e| ScenarioError::invalid(&format!("scenario {:?}", self.name), None, e))
    }

    /// Applies command-line overrides, then validates. Each override
    /// replaces its field (`preset`, `seeds`, `protocols`, `tcp`) or pins
    /// its sweep axis to one value (`loss_percent`, `rtt_ms`,
    /// `bandwidth_mbit`, `initial_window` and the named axes), so runs
    /// record it among their axes.
    pub fn with_overrides(mut self, o: &Overrides) -> Result<Scenario, ScenarioError> {
        let check = |r: Result<(), Invalid>| r.map_err(ScenarioError::override_value);
        if let Some(loss) = o.loss_percent {
            check(check_range("loss_percent", loss, 0.0, 100.0, "%"))?;
            self.sweep.loss_percent = Some(vec![loss]);
        }
        if let Some(rtt) = o.rtt_ms {
            check(check_rtt("rtt_ms", rtt))?;
            self.sweep.rtt_ms = Some(vec![rtt]);
        }
        if let Some(mbit) = o.bandwidth_mbit {
            check(check_bandwidth("bandwidth_mbit", mbit))?;
            self.sweep.bandwidth_mbit = Some(vec![mbit]);
        }
        if let Some(name) = &o.preset {
            if preset(name).is_none() {
                return Err(ScenarioError::override_value(Invalid::new(
                    "preset",
                    format!(
                        "unknown preset {name:?}; known presets: {}",
                        crate::preset::preset_names()
                    ),
                )));
            }
            self.network.preset = Some(name.clone());
        }
        if let Some(n) = o.seeds {
            check(check_seed_count("seeds", n))?;
            self.seeds = Seeds::Count(n);
        }
        if let Some(protocols) = &o.protocols {
            check(check_protocols("protocols", protocols))?;
            self.protocols = protocols.clone();
        }
        if let Some(tcp) = o.tcp {
            self.tcp = tcp;
        }
        if let Some(handshake) = o.handshake {
            self.sweep.handshake = Some(vec![handshake]);
        }
        if let Some(cc) = o.cc {
            self.sweep.cc = Some(vec![cc]);
        }
        if let Some(pacing) = o.pacing {
            self.sweep.pacing = Some(vec![pacing]);
        }
        if let Some(iw) = o.initial_window {
            check(check_initial_window("initial_window", f64::from(iw)))?;
            self.sweep.initial_window = Some(vec![f64::from(iw)]);
        }
        if let Some(scheduler) = o.scheduler {
            self.sweep.scheduler = Some(vec![scheduler]);
        }
        if let Some(certificate) = o.certificate {
            self.sweep.certificate = Some(vec![certificate]);
        }
        if let Some(coalescing) = o.coalescing {
            self.sweep.coalescing = Some(vec![coalescing]);
        }
        if let Some(discovery) = o.h3_discovery {
            self.sweep.h3_discovery = Some(vec![discovery]);
        }
        if let Some(events) = o.network_events {
            self.sweep.network_events = Some(vec![events]);
        }
        self.validate()?;
        Ok(self)
    }

    /// The runs: for each sweep point (numeric axes in [`SWEEP_AXES`]
    /// order, then the named axes in [`NamedAxis`] order; the first varying
    /// slowest, values as listed), each protocol in order, each seed in
    /// order. Call [`Scenario::validate`] first if the scenario was built
    /// in code.
    pub fn expand(&self) -> Vec<RunSpec> {
        let seeds = self.seeds.to_vec();
        let time_limit = Duration::from_nanos((self.time_limit_s * 1e9).round() as u64);
        let named_axes: Vec<NamedAxis> = self.sweep.named().into_iter().map(|(a, _)| a).collect();
        let mut runs = Vec::new();
        for point in self.sweep.points() {
            let network = self.network.resolve_with(&axis_values(&point));
            let workload = self.workload_at(&point);
            let initial_window = self.initial_window_at(&point);
            for choices in self.choices() {
                for &protocol in &self.protocols {
                    for &seed in &seeds {
                        runs.push(RunSpec {
                            scenario: self.name.clone(),
                            protocol,
                            seed,
                            axes: point.clone(),
                            network: choices.network_events.apply(network.clone()),
                            workload: workload.clone(),
                            time_limit,
                            tcp: self.tcp,
                            initial_window,
                            choices,
                            h3_fallback: self.h3_fallback(),
                            start_offset: self.start_offset,
                            named_axes: named_axes.clone(),
                        });
                    }
                }
            }
        }
        runs
    }

    /// The workload at a sweep point: the scenario's, with the
    /// `subresource_responses` axis applied to a page.
    pub fn workload_at(&self, point: &BTreeMap<String, f64>) -> Workload {
        let mut workload = self.workload.to_workload();
        if let (Workload::Page(page), Some(&k)) =
            (&mut workload, point.get("subresource_responses"))
        {
            page.subresource_responses = Some(k as u32);
        }
        workload
    }

    /// The initial window at a sweep point: the axis's value, else the
    /// scenario's.
    fn initial_window_at(&self, point: &BTreeMap<String, f64>) -> Option<u32> {
        match point.get("initial_window") {
            Some(&v) => Some(v as u32),
            None => self.initial_window,
        }
    }

    /// The scenario's own named choices, before any named axis.
    pub fn base_choices(&self) -> Choices {
        Choices {
            handshake: self.handshake,
            cc: self.cc,
            pacing: self.pacing,
            scheduler: self.scheduler,
            certificate: self.certificate,
            coalescing: self.coalescing,
            h3_discovery: self.h3_discovery,
            network_events: self.network_events,
        }
    }

    /// The fallback delay of the runs ([`RunSpec::h3_fallback`]).
    pub fn h3_fallback(&self) -> Duration {
        self.h3_fallback_ms
            .map_or(H3_FALLBACK_DELAY, |ms| Duration::from_secs_f64(ms / 1000.0))
    }

    /// The named choices the runs use, every combination of the named axes
    /// swept (in [`NamedAxis`] order, the first varying slowest), the
    /// scenario's own field for each axis not swept.
    pub fn choices(&self) -> Vec<Choices> {
        let mut all = vec![self.base_choices()];
        fn cross<T: Copy>(
            all: Vec<Choices>,
            values: &Option<Vec<T>>,
            set: fn(&mut Choices, T),
        ) -> Vec<Choices> {
            let Some(values) = values else { return all };
            all.into_iter()
                .flat_map(|c| {
                    values.iter().map(move |&v| {
                        let mut c = c;
                        set(&mut c, v);
                        c
                    })
                })
                .collect()
        }
        all = cross(all, &self.sweep.handshake, |c, v| c.handshake = v);
        all = cross(all, &self.sweep.cc, |c, v| c.cc = v);
        all = cross(all, &self.sweep.pacing, |c, v| c.pacing = v);
        all = cross(all, &self.sweep.scheduler, |c, v| c.scheduler = v);
        all = cross(all, &self.sweep.certificate, |c, v| c.certificate = v);
        all = cross(all, &self.sweep.coalescing, |c, v| c.coalescing = v);
        all = cross(all, &self.sweep.h3_discovery, |c, v| c.h3_discovery = v);
        all = cross(all, &self.sweep.network_events, |c, v| c.network_events = v);
        all
    }

    /// The number of runs [`Scenario::expand`] gives, without building them.
    pub fn run_count(&self) -> usize {
        self.sweep.points().len() * self.choices().len() * self.protocols.len() * self.seeds.len()
    }

    /// SHA-256 (hex) of the scenario fully resolved, its seeds left out:
    /// name, protocols, time limit, TCP, the initial window (if set), each named
    /// choice that is not its default, the workload with defaults filled
    /// in, and for every sweep point its axis values and resolved network
    /// (presets applied, every default explicit; without drops and
    /// blackouts at a point whose `network_events` is off). Formatting,
    /// comments, the description and how a value was written (a preset or
    /// its numbers) do not change it; any parameter of a run does. The
    /// seeds are not in it: a run's record does not depend on which other
    /// seeds its sweep has, so a sweep grown from `seeds = 10` to `20`
    /// keeps the hash and reuses the ten finished seeds (the run key names
    /// the seed). A named axis adds its value to each point's axes;
    /// without named axes and with every named choice at its default, the
    /// canonical form is what it was before they existed.
    pub fn content_hash(&self) -> String {
        let named: Vec<NamedAxis> = self.sweep.named().into_iter().map(|(a, _)| a).collect();
        let choices = self.choices();
        let mut points = Vec::new();
        for point in self.sweep.points() {
            let network = self.network.resolve_with(&axis_values(&point));
            for choice in &choices {
                let network = choice.network_events.apply(network.clone());
                let mut axes: serde_json::Map<String, serde_json::Value> = point
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::json!(v)))
                    .collect();
                for &axis in &named {
                    axes.insert(axis.name().to_owned(), choice.json(axis));
                }
                if point.contains_key("subresource_responses") {
                    let workload = workload_json(&self.workload_at(&point));
                    points.push(serde_json::json!({
                        "axes": axes,
                        "network": network,
                        "workload": workload,
                    }));
                } else {
                    points.push(serde_json::json!({ "axes": axes, "network": network }));
                }
            }
        }
        let mut canonical = serde_json::json!({
            "format": "httplab-scenario-v2",
            "name": self.name,
            "protocols": self.protocols,
            "time_limit_ns": (self.time_limit_s * 1e9).round() as u64,
            "tcp": self.tcp,
            "workload": workload_json(&self.workload.to_workload()),
            "points": points,
        });
        if let Some(ms) = self.h3_fallback_ms {
            canonical["h3_fallback_ms"] = serde_json::json!(ms);
        }
        if let Some(iw) = self.initial_window {
            canonical["initial_window"] = serde_json::json!(iw);
        }
        let base = self.base_choices();
        let defaults = Choices::default();
        for axis in NamedAxis::ALL {
            if axis.label_in(&base) != axis.label_in(&defaults) {
                canonical[axis.name()] = base.json(axis);
            }
        }
        sha256_hex(&canonical)
    }

    /// The network of the first run, before any sweep axis: without its
    /// drops and blackouts if the scenario's `network_events` is off.
    pub fn base_network(&self) -> ResolvedNetwork {
        self.network_events.apply(self.network.resolve())
    }

    fn check(&self) -> Result<(), Invalid> {
        // A name is a folder under reports/out: it starts with a letter or
        // a digit, so `.`, `..` and hidden names cannot be one.
        let name_ok = self.name.len() <= 64
            && self.name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !name_ok {
            return Err(Invalid::new(
                "name",
                format!(
                    "{:?} must be 1 to 64 characters from A-Z a-z 0-9 . _ -, \
                     the first a letter or a digit (it names a folder)",
                    self.name
                ),
            ));
        }
        check_protocols("protocols", &self.protocols)?;
        // First, from the lists' lengths alone: nothing below may cost more
        // than a bounded scenario can.
        self.check_run_count()?;
        match &self.seeds {
            Seeds::Count(n) => check_seed_count("seeds", *n)?,
            Seeds::List(seeds) => {
                if seeds.is_empty() {
                    return Err(Invalid::new("seeds", "must list at least one seed"));
                }
                if seeds.len() as u64 > MAX_SEEDS {
                    return Err(Invalid::new(
                        "seeds",
                        format!("must list at most {MAX_SEEDS} seeds"),
                    ));
                }
                if let Some((i, seed)) = first_repeat_ord(seeds) {
                    return Err(Invalid::new(
                        format!("seeds[{i}]"),
                        format!("seed {seed} is listed twice"),
                    ));
                }
            }
        }
        check_range(
            "time_limit_s",
            self.time_limit_s,
            0.0,
            MAX_TIME_LIMIT_S,
            "s",
        )?;
        if self.time_limit_s < 0.001 {
            return Err(Invalid::new(
                "time_limit_s",
                format!("must be at least 0.001 s, got {}", self.time_limit_s),
            ));
        }
        if let Some(ms) = self.h3_fallback_ms {
            check_range("h3_fallback_ms", ms, 0.0, 10_000.0, "ms")?;
        }
        if let Some(iw) = self.initial_window {
            check_initial_window("initial_window", f64::from(iw))?;
        }
        self.network.check()?;
        self.workload.check()?;
        self.check_sweep()?;
        self.check_certificate_names()?;
        self.check_h3_discovery()?;
        self.check_network_events()
    }

    /// The sweep within [`MAX_SWEEP_POINTS`] and the scenario within
    /// [`MAX_RUNS`], counted without expanding anything.
    fn check_run_count(&self) -> Result<(), Invalid> {
        let lens = self
            .sweep
            .axes()
            .into_iter()
            .map(|(_, values)| values.len())
            .chain(self.sweep.named().into_iter().map(|(_, n)| n));
        let points = lens.fold(1u64, |n, len| n.saturating_mul(len as u64));
        if points > MAX_SWEEP_POINTS {
            return Err(Invalid::new(
                "sweep",
                format!("has {points} points (the product of its axes' lengths); the most is {MAX_SWEEP_POINTS}"),
            ));
        }
        let seeds = match &self.seeds {
            Seeds::Count(n) => *n,
            Seeds::List(list) => list.len() as u64,
        };
        let runs = points
            .saturating_mul(self.protocols.len() as u64)
            .saturating_mul(seeds);
        let listed = match &self.workload {
            WorkloadSpec::List { objects } | WorkloadSpec::PageGraph { objects, .. } => {
                objects.len() as u64
            }
            _ => 0,
        };
        if runs.saturating_mul(listed) > MAX_LISTED_OBJECTS && runs <= MAX_RUNS {
            return Err(Invalid::new(
                "workload.objects",
                format!(
                    "{listed} objects in each of {runs} runs make {} listed objects; the most is {MAX_LISTED_OBJECTS} (fewer seeds, sweep points or objects)",
                    runs.saturating_mul(listed)
                ),
            ));
        }
        if runs > MAX_RUNS {
            return Err(Invalid::new(
                "seeds",
                format!(
                    "{points} sweep points x {} protocols x {seeds} seeds make {runs} runs; the most is {MAX_RUNS}",
                    self.protocols.len()
                ),
            ));
        }
        Ok(())
    }

    /// Turning the events off, or sweeping them on and off, needs a drop
    /// or a blackout to turn off.
    fn check_network_events(&self) -> Result<(), Invalid> {
        let field = if self.sweep.network_events.is_some() {
            "sweep.network_events"
        } else if !self.network_events.is_on() {
            "network_events"
        } else {
            return Ok(());
        };
        if self.network.drops_and_blackouts() == 0 {
            return Err(Invalid::new(
                field,
                "turns the targeted drops and blackouts of [[network.events]] on or off, and \
                 this scenario has none (a path change is not turned off): add a drop or a \
                 blackout, or leave network_events out",
            ));
        }
        Ok(())
    }

    /// Racing HTTP/3 and learning it from `alt-svc` are what a browser does
    /// on a page: only a page loaded as a browser does can ask for them.
    fn check_h3_discovery(&self) -> Result<(), Invalid> {
        let raced = self
            .choices()
            .iter()
            .any(|c| c.h3_discovery != H3Discovery::Known);
        if raced && self.workload.to_workload().plan().page.is_none() {
            let field = if self.sweep.h3_discovery.is_some() {
                "sweep.h3_discovery"
            } else {
                "h3_discovery"
            };
            let this = match self.workload.to_workload() {
                Workload::Page(_) => "the flat page (structure = \"flat\")".to_owned(),
                _ => format!("kind = \"{}\"", self.workload.kind()),
            };
            return Err(Invalid::new(
                field,
                format!(
                    "race and alt-svc are how a browser reaches HTTP/3 on a page: they need a \
                     page loaded as a browser does (kind = \"page\" without structure = \
                     \"flat\", or kind = \"page-graph\"), and this workload is {this}"
                ),
            ));
        }
        Ok(())
    }

    /// The realistic chain is issued for [`crate::SERVER_NAME`] (and
    /// `localhost`) only, so it cannot serve a page with other origins.
    fn check_certificate_names(&self) -> Result<(), Invalid> {
        let realistic = self
            .choices()
            .iter()
            .any(|c| c.certificate == Certificate::Realistic);
        let Some(page) = self.workload.to_workload().plan().page else {
            return Ok(());
        };
        let others: Vec<&str> = page
            .origins
            .iter()
            .map(String::as_str)
            .filter(|o| *o != crate::SERVER_NAME && *o != "localhost")
            .collect();
        if realistic && !others.is_empty() {
            let field = if self.sweep.certificate.is_some() {
                "sweep.certificate"
            } else {
                "certificate"
            };
            return Err(Invalid::new(
                field,
                format!(
                    "the realistic chain is issued for {} only, and this page also has the \
                     origins {}: use certificate = \"minimal\" (which the lab issues for every \
                     origin of the page), or one origin (the flat page: structure = \"flat\")",
                    crate::SERVER_NAME,
                    others.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// A `subresource_responses` value: a whole number from 1 to the page's
    /// subresource count, on a page workload.
    fn check_responses(&self, field: &str, v: f64) -> Result<(), Invalid> {
        let Workload::Page(page) = self.workload.to_workload() else {
            return Err(Invalid::new(
                field,
                format!(
                    "applies to page workloads only, and this workload is kind = \"{}\"",
                    self.workload.kind()
                ),
            ));
        };
        if page.structure != PageStructure::Flat {
            return Err(Invalid::new(
                field,
                "bundles the flat page only: set structure = \"flat\" in [workload]",
            ));
        }
        if v.fract() != 0.0 || v < 1.0 || v > f64::from(page.subresources) {
            return Err(Invalid::new(
                field,
                format!(
                    "must be a whole number from 1 to the page's {} subresources, got {v}",
                    page.subresources
                ),
            ));
        }
        Ok(())
    }

    /// The named axes' values: none empty, none listed twice.
    fn check_named(&self) -> Result<(), Invalid> {
        fn one<T: PartialEq + Copy + fmt::Display>(
            axis: NamedAxis,
            values: &Option<Vec<T>>,
        ) -> Result<(), Invalid> {
            let Some(values) = values else { return Ok(()) };
            if values.is_empty() {
                return Err(Invalid::new(
                    format!("sweep.{}", axis.name()),
                    "must list at least one value (or leave the axis out)",
                ));
            }
            if let Some((i, v)) = first_repeat(values) {
                return Err(Invalid::new(
                    format!("sweep.{}[{i}]", axis.name()),
                    format!("{v} is listed twice"),
                ));
            }
            Ok(())
        }
        one(NamedAxis::Handshake, &self.sweep.handshake)?;
        one(NamedAxis::Cc, &self.sweep.cc)?;
        one(NamedAxis::Pacing, &self.sweep.pacing)?;
        one(NamedAxis::Scheduler, &self.sweep.scheduler)?;
        one(NamedAxis::Certificate, &self.sweep.certificate)?;
        one(NamedAxis::Coalescing, &self.sweep.coalescing)?;
        one(NamedAxis::H3Discovery, &self.sweep.h3_discovery)?;
        one(NamedAxis::NetworkEvents, &self.sweep.network_events)
    }

    /// What the TCP implementation cannot do: smoltcp has neither BBR nor
    /// pacing, and its initial window is its own. The error names the
    /// field (or the sweep value) that asks for it.
    fn check_tcp_support(&self) -> Result<(), Invalid> {
        if self.tcp != TcpImplementation::Smoltcp {
            return Ok(());
        }
        let why = "tcp = \"smoltcp\"";
        if let Some(i) = self
            .sweep
            .cc
            .as_ref()
            .and_then(|v| v.iter().position(|c| *c == Congestion::Bbr))
        {
            return Err(Invalid::new(
                format!("sweep.cc[{i}]"),
                format!("bbr needs the lab's Linux-like TCP; {why} has no BBR"),
            ));
        }
        if self.sweep.cc.is_none() && self.cc == Congestion::Bbr {
            return Err(Invalid::new(
                "cc",
                format!("bbr needs the lab's Linux-like TCP; {why} has no BBR"),
            ));
        }
        if let Some(i) = self
            .sweep
            .pacing
            .as_ref()
            .and_then(|v| v.iter().position(|p| *p == Pacing::On))
        {
            return Err(Invalid::new(
                format!("sweep.pacing[{i}]"),
                format!("pacing needs the lab's Linux-like TCP; {why} does not pace"),
            ));
        }
        if self.sweep.pacing.is_none() && self.pacing == Pacing::On {
            return Err(Invalid::new(
                "pacing",
                format!("pacing needs the lab's Linux-like TCP; {why} does not pace"),
            ));
        }
        if self.sweep.initial_window.is_some() {
            return Err(Invalid::new(
                "sweep.initial_window",
                format!("{why} keeps its own initial window; sweep it with tcp = \"linux\""),
            ));
        }
        if self.initial_window.is_some() {
            return Err(Invalid::new(
                "initial_window",
                format!("{why} keeps its own initial window; set it with tcp = \"linux\""),
            ));
        }
        Ok(())
    }

    fn check_sweep(&self) -> Result<(), Invalid> {
        self.check_named()?;
        self.check_tcp_support()?;
        for (axis, values) in self.sweep.axes() {
            if values.is_empty() {
                return Err(Invalid::new(
                    format!("sweep.{axis}"),
                    "must list at least one value (or leave the axis out)",
                ));
            }
            for (i, &v) in values.iter().enumerate() {
                let field = format!("sweep.{axis}[{i}]");
                match axis {
                    "loss_percent" => check_range(&field, v, 0.0, 100.0, "%")?,
                    "rtt_ms" => check_rtt(&field, v)?,
                    "subresource_responses" => self.check_responses(&field, v)?,
                    "initial_window" => check_initial_window(&field, v)?,
                    _ => check_bandwidth(&field, v)?,
                }
            }
            if let Some((i, v)) = first_repeat(values) {
                return Err(Invalid::new(
                    format!("sweep.{axis}[{i}]"),
                    format!("{v} is listed twice"),
                ));
            }
            // An axis that per-direction settings override in both
            // directions would change nothing.
            let (up, down) = (&self.network.up, &self.network.down);
            let both = |f: fn(&DirectionSpec) -> bool| {
                up.as_ref().is_some_and(f) && down.as_ref().is_some_and(f)
            };
            let shadowed = match axis {
                "loss_percent" => both(|d| d.loss.is_some()).then_some("loss"),
                "rtt_ms" => both(|d| d.delay_ms.is_some()).then_some("delay_ms"),
                "subresource_responses" | "initial_window" => None,
                _ => both(|d| d.bandwidth_mbit.is_some()).then_some("bandwidth_mbit"),
            };
            if let Some(field) = shadowed {
                return Err(Invalid::new(
                    format!("sweep.{axis}"),
                    format!(
                        "has no effect: network.up.{field} and network.down.{field} are both set"
                    ),
                ));
            }
        }
        // Every run must build: check each resolved link as netsim will.
        for point in self.sweep.points() {
            let network = self.network.resolve_with(&axis_values(&point));
            let mut paths = vec![("network", &network.path)];
            if let Some(change) = &network.path_change {
                paths.push(("network.path_change", &change.path));
            }
            for (field, path) in paths {
                for (direction, link) in [("up", &path.up), ("down", &path.down)] {
                    if let Err(reason) = check_link(link) {
                        let at: Vec<String> =
                            point.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                        let field = match point.keys().next() {
                            Some(axis) => format!("sweep.{axis}"),
                            None => format!("{field}.{direction}"),
                        };
                        return Err(Invalid::new(
                            field,
                            format!("{direction} link at [{}]: {reason}", at.join(", ")),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn check_protocols(field: &str, protocols: &[Protocol]) -> Result<(), Invalid> {
    if protocols.is_empty() {
        let known: Vec<&str> = Protocol::ALL.iter().map(|p| p.label()).collect();
        return Err(Invalid::new(
            field,
            format!("must list at least one of {}", known.join(", ")),
        ));
    }
    if let Some((i, p)) = first_repeat(protocols) {
        return Err(Invalid::new(
            format!("{field}[{i}]"),
            format!("{p} is listed twice"),
        ));
    }
    Ok(())
}

/// An initial window: a whole number of segments from 1 to
/// [`MAX_INITIAL_WINDOW`].
fn check_initial_window(field: &str, v: f64) -> Result<(), Invalid> {
    if v.fract() != 0.0 || !(1.0..=f64::from(MAX_INITIAL_WINDOW)).contains(&v) {
        return Err(Invalid::new(
            field,
            format!("must be a whole number of segments from 1 to {MAX_INITIAL_WINDOW}, got {v}"),
        ));
    }
    Ok(())
}

fn check_seed_count(field: &str, n: u64) -> Result<(), Invalid> {
    if n == 0 || n > MAX_SEEDS {
        return Err(Invalid::new(
            field,
            format!("must be between 1 and {MAX_SEEDS} seeds, got {n}"),
        ));
    }
    Ok(())
}

/// The index and value of the first element equal to an earlier one.
/// [`first_repeat`] for ordered items, in O(n log n): for seed lists,
/// which may hold [`MAX_SEEDS`].
fn first_repeat_ord<T: Ord + Copy>(items: &[T]) -> Option<(usize, T)> {
    let mut seen = std::collections::BTreeSet::new();
    items
        .iter()
        .enumerate()
        .find(|&(_, item)| !seen.insert(*item))
        .map(|(i, &item)| (i, item))
}

/// The first item listed before, with its index. Quadratic: only for
/// lists [`Scenario::check_run_count`] has bounded (an axis of at most
/// [`MAX_SWEEP_POINTS`] values).
fn first_repeat<T: PartialEq + Copy>(items: &[T]) -> Option<(usize, T)> {
    (1..items.len())
        .find(|&i| items[..i].contains(&items[i]))
        .map(|i| (i, items[i]))
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A workload in canonical JSON: its kind and every parameter; a list
/// workload's objects with path, size and kind.
fn workload_json(workload: &Workload) -> serde_json::Value {
    use serde_json::json;
    match workload {
        Workload::Page(page) => {
            let mut value = json!({
                "kind": "page",
                "html_size": page.html_size,
                "subresources": page.subresources,
                "page_seed": page.page_seed,
            });
            // Only when set, so hashes of scenarios without it stay as
            // they were.
            if let (Some(k), Some(map)) = (page.subresource_responses, value.as_object_mut()) {
                map.insert("subresource_responses".into(), k.into());
            }
            // The flat page was the only page before structures existed, so
            // it hashes as it did then; the browser page names itself.
            if let (PageStructure::Browser, Some(map)) = (page.structure, value.as_object_mut()) {
                map.insert("structure".into(), page.structure.as_str().into());
            }
            value
        }
        Workload::PageGraph(graph) => json!({
            "kind": "page-graph",
            "origins": graph.origins,
            "preload_scanner": graph.preload_scanner,
            "objects": graph
                .objects
                .iter()
                .map(|o| {
                    let discovery = match o.discovery {
                        Discovery::Navigation => json!("navigation"),
                        Discovery::Html { offset } => json!({ "html_offset": offset }),
                        Discovery::Completion { of } => json!({ "initiator": of }),
                    };
                    json!({
                        "path": o.object.path,
                        "size": o.object.size,
                        "kind": o.object.kind.as_str(),
                        "origin": o.origin,
                        "discovery": discovery,
                        "render_blocking": o.render_blocking,
                        "delay_ns": duration_ns(o.delay),
                    })
                })
                .collect::<Vec<_>>(),
        }),
        Workload::Bulk { size } => json!({ "kind": "bulk", "size": size }),
        Workload::Parallel { count, size } => {
            json!({ "kind": "parallel", "count": count, "size": size })
        }
        Workload::Rpc {
            requests,
            size,
            concurrency,
        } => json!({
            "kind": "rpc",
            "requests": requests,
            "size": size,
            "concurrency": concurrency,
        }),
        Workload::List { objects } => json!({
            "kind": "list",
            "objects": objects
                .iter()
                .map(|o| json!({ "path": o.path, "size": o.size, "kind": o.kind.as_str() }))
                .collect::<Vec<_>>(),
        }),
    }
}

fn sha256_hex(value: &serde_json::Value) -> String {
    let mut text = String::new();
    write_canonical(value, &mut text);
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compact JSON with every object's keys in sorted order, whatever
/// serde_json's `preserve_order` feature says: another crate in the build
/// can switch that feature on, and the hash must not depend on which crates
/// were built together.
fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        // -0.0 hashes as 0.0: a number, not its sign bit, decides a run.
        serde_json::Value::Number(n) if n.as_f64() == Some(0.0) && n.is_f64() => {
            out.push_str("0.0")
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}
