//! The record of one run, as `results.jsonl` stores it: [`RunResult`].
//!
//! One JSON object per run, every field always present (absent values are
//! `null`), fields in declaration order. Every duration is a whole number
//! of nanoseconds in a field whose name ends in `_ns` (the convention of
//! `netsim::nanos`). `docs/results.md` documents every field; a test
//! holds these types and that page to each other.
//!
//! The envelope's own types refuse fields they do not have, so that a
//! record of another layout is an error, not a record with parts missing.

use std::collections::BTreeMap;
use std::time::Duration;

use clients::RunRecord;
use netsim::nanos;
use netsim::Transport;
use netsim::{TransportSettings, TransportStats};
use scenarios::{Handshake, Protocol, ResolvedNetwork};
use serde::{Deserialize, Serialize};
use tcp::TcpImplementation;

use crate::axes::Axes;
use crate::lab::LabInfo;

/// The version of the record layout; changes whenever a field changes
/// meaning, appears or goes. 2: `handshake`, named axis values,
/// `transport`, `server_connections`, and in the measurements `handshake`,
/// `ttfb_ns`, `warmup`, `migration`, `hol_blocked_ns`, per request
/// `resumptions` and `hol_blocked_ns`, and per connection `resumed`,
/// `early_data_offered`, `early_data_accepted` and `hol_blocked_ns`. 3:
/// `mode` and `kernel` (runs on the real kernel through the emulator). 4:
/// the long series (segment `arrivals`, `rtt_samples`, request
/// `timeline`s) as compact columns (`tcp::columns`).
pub const SCHEMA: u32 = 4;

/// Where a run ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// In the deterministic simulation: the lab's TCP, quinn on simulated
    /// UDP, simulated time.
    Sim,
    /// On the machine's kernel through the real-time emulator of the same
    /// link model: the kernel's TCP, quinn on real UDP, real time.
    Kernel,
}

impl Mode {
    /// `"sim"` or `"kernel"`.
    pub fn label(self) -> &'static str {
        match self {
            Mode::Sim => "sim",
            Mode::Kernel => "kernel",
        }
    }
}

/// What a kernel run ran on, and how well the emulator kept time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelRun {
    /// The kernel release (`uname -r`).
    pub release: String,
    /// The kernel settings that matter for TCP, as the namespaces had them:
    /// sysctl name (dotted) → value.
    pub sysctls: BTreeMap<String, String>,
    /// Deliveries the emulator made (packets that crossed the link).
    pub deliveries: u64,
    /// Median delivery lateness against the link model's schedule.
    #[serde(rename = "late_p50_ns", with = "nanos")]
    pub late_p50: Duration,
    /// 99th percentile of the delivery lateness.
    #[serde(rename = "late_p99_ns", with = "nanos")]
    pub late_p99: Duration,
    /// The latest delivery.
    #[serde(rename = "late_max_ns", with = "nanos")]
    pub late_max: Duration,
    /// The bound on `late_p99_ns` (`emulator::LATENESS_BOUND`).
    #[serde(rename = "late_bound_ns", with = "nanos")]
    pub late_bound: Duration,
    /// Whether `late_p99_ns` exceeded the bound: then the emulator did not
    /// keep up and the run's times are suspect.
    pub late_exceeded: bool,
    /// CPU time of the emulator's forwarder thread during the run.
    #[serde(rename = "forwarder_cpu_ns", with = "nanos")]
    pub forwarder_cpu: Duration,
    /// Whether the forwarder ran at a real-time priority.
    pub realtime_priority: bool,
    /// Packets lost outside the link model: deliveries a TUN device
    /// refused, and packets a kernel dropped at its own device before the
    /// emulator read them. Non-zero means the kernel saw losses the model
    /// did not decide, and the run is suspect. `None` in records of builds
    /// that did not count them.
    pub unmodelled_losses: Option<u64>,
    /// Packets the emulator read that were not IPv4 TCP, UDP or ICMP, and
    /// dropped without entering the link model; `None` as above.
    pub foreign_packets: Option<u64>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every request completed and verified.
    Ok,
    /// Something failed: a request (wrong status, bad body, reset), a
    /// connection, the simulation, or the run panicked.
    Failed,
    /// The run's time limit passed before every request completed.
    Timeout,
}

impl Outcome {
    /// `"ok"`, `"failed"` or `"timeout"`.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Timeout => "timeout",
        }
    }
}

/// One run, everything it was and everything it measured: one line of
/// `results.jsonl`.
///
/// A run that failed, timed out or panicked is recorded too, with its
/// reason; it is never dropped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunResult {
    /// The record layout version, [`SCHEMA`].
    pub schema: u32,
    /// The scenario's name.
    pub scenario: String,
    /// The content hash of the resolved scenario (after command-line
    /// overrides) the run came from.
    pub scenario_hash: String,
    /// The run's key within its scenario: protocol, axes and seed.
    pub run_key: String,
    /// The protocol the run spoke.
    pub protocol: Protocol,
    /// The run seed.
    pub seed: u64,
    /// The sweep-axis values of this run, by axis name (empty without
    /// axes); each named axis's label is read as a value of the axis its
    /// name says (`pacing` and `coalescing` share `"on"` and `"off"`).
    #[serde(deserialize_with = "crate::axes::read_axes")]
    pub axes: Axes,
    /// The TCP implementation: `"linux"` or `"smoltcp"`.
    pub tcp: TcpImplementation,
    /// How the run set up its connections.
    pub handshake: Handshake,
    /// Where it ran: the simulation or the kernel.
    pub mode: Mode,
    /// The TCP, QUIC and TLS settings the run used, read from their
    /// configuration; `None` only if the run panicked or its configuration
    /// was invalid.
    pub transport: Option<TransportSettings>,
    /// The network the run used, fully resolved.
    pub network: ResolvedNetwork,
    /// The build of the lab that ran it.
    pub lab: LabInfo,
    /// How the run ended.
    pub outcome: Outcome,
    /// Why it failed or timed out; `None` when [`Outcome::Ok`].
    pub reason: Option<String>,
    /// Everything the client measured; `None` only if the client produced
    /// no record (the run panicked, or the simulation itself failed).
    pub measurements: Option<RunRecord>,
    /// Every connection the server accepted, in accept order, with its
    /// transport statistics from the server's side read when the run
    /// ended; `None` only if the run panicked or its configuration was
    /// invalid.
    pub server_connections: Option<Vec<ServerConnection>>,
    /// What the network saw; `None` only if the run panicked.
    pub simulation: Option<SimulationSummary>,
    /// For a kernel run: the kernel, its settings and the emulator's
    /// timing; `None` for a simulated run, and for a kernel run whose
    /// emulator never started.
    pub kernel: Option<KernelRun>,
}

/// One connection the server accepted, with its transport statistics from
/// the server's side. Times count from the simulation's start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConnection {
    /// Order of acceptance, from 0.
    pub id: u32,
    /// `tcp` (HTTP/1.1 and HTTP/2) or `quic` (HTTP/3).
    pub transport: Transport,
    /// When the server accepted it: TCP when its handshake completed and
    /// the listener handed it out, QUIC when its handshake completed.
    #[serde(rename = "accepted_ns", with = "nanos")]
    pub accepted: Duration,
    /// The client's address and port when it was accepted.
    pub peer: String,
    /// Its transport statistics from the server's side, read when the run
    /// ended. The lab's writer leaves the RTT samples out to keep records
    /// small (the server sends the data, so its TCP connection takes a
    /// sample per ACK); `smoothed_rtt_ns` stays, and the client's samples
    /// are in the measurements.
    pub stats: TransportStats,
}

/// What the simulated network saw during one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSummary {
    /// Simulated time from the simulation's start to the client's end.
    #[serde(rename = "elapsed_ns", with = "nanos")]
    pub elapsed: Duration,
    /// Simulated time from the simulation's start to the client's start
    /// (after a warm-up: to the start of the measured part), the origin of
    /// every time in `measurements`: add it to a measurement to compare it
    /// with the network's times (events, `elapsed_ns`).
    #[serde(rename = "client_started_ns", with = "nanos")]
    pub client_started: Duration,
    /// How long after the server the client started (the scenario's
    /// `start_offset`: drawn from the seed, or zero), on the network's
    /// clock; part of `client_started_ns`. Absent when zero (and in records
    /// written before the offset existed).
    #[serde(
        rename = "start_offset_ns",
        with = "nanos",
        default,
        skip_serializing_if = "Duration::is_zero"
    )]
    pub start_offset: Duration,
    /// `PacketLog::digest()`: SHA-256 over every packet's fate, lowercase
    /// hex. Two runs are the same run exactly when these are equal.
    pub packet_log_digest: String,
    /// Packets that entered the network, both directions.
    pub packets: u64,
    /// Of those, packets delivered.
    pub delivered: u64,
    /// Of those, packets dropped, by reason (`random`, `queue-full`,
    /// `targeted`, `blackout`, `oversize`, `no-route`); every reason is
    /// present, 0 if it never happened.
    pub drops: BTreeMap<String, u64>,
}
