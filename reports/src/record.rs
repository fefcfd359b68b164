//! The fields of a `results.jsonl` record that reports read
//! (`docs/results.md` documents every field). Deserialized leniently:
//! unknown fields are ignored and missing ones take their defaults, so a
//! record with more fields than these still reads.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One line of `results.jsonl`: one run.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RunRecord {
    /// The scenario's name.
    pub scenario: String,
    /// The content hash of the resolved scenario.
    pub scenario_hash: String,
    /// The run's key within its scenario.
    pub run_key: String,
    /// `"h1"`, `"h2"` or `"h3"`.
    pub protocol: String,
    /// The run seed.
    pub seed: u64,
    /// Sweep-axis values by name (empty without a sweep).
    pub axes: BTreeMap<String, serde_json::Value>,
    /// The TCP implementation: `"linux"` or `"smoltcp"`.
    pub tcp: String,
    /// The network the run used.
    pub network: Option<Network>,
    /// The build of the lab that ran it.
    pub lab: Lab,
    /// `"ok"`, `"failed"` or `"timeout"`.
    pub outcome: String,
    /// Why it failed or timed out.
    pub reason: Option<String>,
    /// What the client measured.
    pub measurements: Option<Measurements>,
    /// What the network saw.
    pub simulation: Option<Simulation>,
    /// How the run set up its connections: `full`, `resume`, `early-data`.
    pub handshake: String,
    /// The transport settings the run used.
    pub transport: Option<Transport>,
    /// The server's side of each connection, in order of acceptance.
    pub server_connections: Vec<ServerConnection>,
}

/// The TCP, QUIC and TLS settings of a run.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Transport {
    /// TCP under HTTP/1.1 and HTTP/2.
    pub tcp: Settings,
    /// QUIC under HTTP/3.
    pub quic: Settings,
    /// TLS.
    pub tls: Settings,
}

/// One implementation's name and key settings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The implementation.
    pub name: String,
    /// Key settings, `[key, value with unit]`, in a fixed order.
    pub parameters: Vec<(String, String)>,
}

/// A connection as the server saw it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ServerConnection {
    /// `tcp` or `quic`.
    pub transport: String,
    /// Its statistics from the server's side.
    pub stats: Option<TransportStats>,
}

/// What the simulated network saw during one run.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Simulation {
    /// Simulated time from the start to the client's start, ns: the origin
    /// of every time in `measurements`.
    pub client_started_ns: u64,
    /// Packets that entered the network, both directions.
    pub packets: u64,
    /// Packets dropped, by reason.
    pub drops: BTreeMap<String, u64>,
}

/// The resolved network of a run.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Network {
    /// The path at the start of the run.
    pub path: Path,
    /// Targeted drops (kept as raw JSON; only counted).
    pub drops: Vec<serde_json::Value>,
    /// Blackout windows (kept as raw JSON; only counted).
    pub blackouts: Vec<serde_json::Value>,
    /// The client's move to a new path, if any.
    pub path_change: Option<PathChange>,
}

/// A path change: when, and to which path.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PathChange {
    /// When the client moves, ns of simulated time.
    pub at_ns: u64,
    /// The new path.
    pub path: Path,
}

/// Both directions of a path.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Path {
    /// Client → server.
    pub up: Link,
    /// Server → client.
    pub down: Link,
}

/// One direction of a path.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Link {
    /// One-way propagation delay, ns.
    pub delay_ns: u64,
    /// Bottleneck rate, bit/s.
    pub bandwidth_bps: u64,
    /// Drop-tail limit of the bottleneck queue.
    pub queue: Queue,
    /// Random loss.
    pub loss: Loss,
    /// Maximum extra delay per packet, ns.
    pub jitter_ns: u64,
    /// Whether jitter may reorder packets.
    pub reorder: bool,
    /// Largest IP packet, bytes.
    pub mtu: u64,
}

/// A queue limit: one of the two is set.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Queue {
    /// Limit in packets.
    pub packets: Option<u64>,
    /// Limit in bytes.
    pub bytes: Option<u64>,
}

/// A loss model and its parameters.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Loss {
    /// `none`, `bernoulli` or `gilbert-elliott`.
    pub model: String,
    /// Bernoulli: probability a packet is lost.
    pub rate: Option<f64>,
    /// Gilbert–Elliott: long-run fraction lost.
    pub mean_loss: Option<f64>,
    /// Gilbert–Elliott: mean burst length in packets.
    pub mean_burst: Option<f64>,
}

/// The build of the lab that made a record.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Lab {
    /// The lab's version.
    pub version: String,
    /// The git commit it was built from.
    pub commit: String,
    /// Whether the tree had uncommitted changes.
    pub dirty: bool,
    /// Dependency versions from `Cargo.lock`.
    pub crate_versions: BTreeMap<String, String>,
}

/// What the client measured.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Measurements {
    /// Every request, in plan order.
    pub requests: Vec<Request>,
    /// Every connection, in order of opening.
    pub connections: Vec<Connection>,
    /// Page load time, ns; `None` if the run failed.
    pub plt_ns: Option<u64>,
    /// Body bytes received over all requests.
    pub total_bytes: u64,
    /// What the client's change of network cost; `None` without one.
    pub migration: Option<Migration>,
    /// Time to first byte of the measured part, ns.
    pub ttfb_ns: Option<u64>,
    /// Head-of-line blocked time of the run, ns (docs/metrics.md); `None`
    /// where the transport keeps no arrival record.
    pub hol_blocked_ns: Option<u64>,
}

/// A run's path change, as the client saw it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Migration {
    /// When the client learned of the change, ns since its start.
    pub path_change_ns: u64,
    /// Last body byte before the change to the first after it, ns.
    pub interruption_ns: Option<u64>,
    /// Body bytes the HTTP layer received more than once.
    pub bytes_fetched_twice: u64,
    /// Connections opened after the change.
    pub connections_after_change: u64,
}

/// One request's times.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Request {
    /// The path requested.
    pub path: String,
    /// When the request was queued, ns.
    pub start_ns: u64,
    /// When the request was handed to the HTTP stack, ns.
    pub request_sent_ns: Option<u64>,
    /// When the response head arrived, ns.
    pub first_byte_ns: Option<u64>,
    /// When the body's last byte arrived, ns.
    pub last_byte_ns: Option<u64>,
    /// Body bytes received.
    pub bytes: u64,
    /// The stream that carried it.
    pub stream_id: Option<u64>,
    /// The connection that carried it (an index into `connections`).
    pub connection_id: Option<u32>,
    /// Cumulative body bytes over time: `[ns, bytes]` pairs.
    pub timeline: Vec<(u64, u64)>,
    /// Time this stream was held behind another stream's missing data, ns.
    pub hol_blocked_ns: Option<u64>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// One connection's times and statistics.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Connection {
    /// Its id, from 0 in order of opening.
    pub id: u32,
    /// When the client started opening it, ns.
    pub started_ns: u64,
    /// When the TLS or QUIC handshake completed, ns.
    pub handshake_done_ns: Option<u64>,
    /// Transport statistics.
    pub stats: Option<TransportStats>,
}

/// The transport statistics reports use.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TransportStats {
    /// TCP segments resent, or QUIC packets declared lost.
    pub retransmissions: u64,
    /// Packets this endpoint sent that the network dropped.
    pub link_drops_sent: u64,
    /// Packets sent to this endpoint that the network dropped.
    pub link_drops_received: u64,
}
