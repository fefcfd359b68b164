//! The `httplab` command line: [`Cli`] (clap) and [`main`], which carries
//! out a command and turns any error into a message and a non-zero exit.
//!
//! Standard output carries what a command produces (a table, a record, a
//! list); progress and notes go to standard error.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

use netsim::{Congestion, Pacing, TcpImplementation};
use scenarios::{
    Certificate, Coalescing, ErrorKind, H3Discovery, Handshake, NetworkEvents, Overrides, Protocol,
    RunSpec, Scenario, ScenarioError, Scheduler,
};

use crate::progress::Progress;
use crate::results::{self, RESULTS_FILE, SUMMARY_FILE};
use crate::sweep::{self, Shard, SweepConfig};
use crate::{note, outln, runner, spec, table};
use crate::{Outcome, RunResult};

/// Seeds per protocol in a `--quick` sweep.
pub const QUICK_SEEDS: u64 = 2;
/// The simulated-time limit of each run in a `--quick` sweep, in seconds.
pub const QUICK_TIME_LIMIT_S: f64 = 20.0;

/// httplab: HTTP/1.1, HTTP/2 and HTTP/3 measured against one another in a
/// deterministic simulated network.
///
/// The same scenario, seed and binary give byte-identical results.
#[derive(Debug, Parser)]
#[command(
    name = "httplab",
    version = crate::lab::VERSION_LINE,
    propagate_version = true,
    after_help = crate::console::EXIT_CODES_HELP
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The `httplab` commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario's sweep (protocol × axes × seed) and write its raw
    /// results: results.jsonl, summary.csv and scenario.toml.
    ///
    /// Rerunning the same command resumes: runs already in results.jsonl
    /// for the same scenario, run and lab build are skipped.
    Bench(BenchArgs),
    /// Carry out one run and print its result (--json: the full record).
    Run(RunArgs),
    /// List the built-in scenarios and network presets, one line each.
    List,
    /// Join the results of several shards (`bench --shard I/N`) into one
    /// results directory.
    Merge(MergeArgs),
    /// Serve the content model over HTTP/1.1, HTTP/2 and HTTP/3 on real
    /// sockets, with the lab's TLS certificate (or --cert/--key), until
    /// interrupted.
    Serve(ServeArgs),
    /// Fetch a URL (or a scenario's workload) from any HTTPS server on real
    /// sockets with the lab's client, and print what was measured: the
    /// body's check, and timings like curl's --write-out (DNS, connect,
    /// TLS, first byte, total).
    Get(GetArgs),
    /// Print the lab's TLS certificate (PEM), the one `httplab serve`
    /// presents, for curl's --cacert, `httplab get --cacert` or a browser.
    Cert(CertArgs),
    /// Render a report (report.md, index.html, summary.csv) from a
    /// results directory's raw results, by default into DIR/report/.
    /// Rendering the same results twice gives the same bytes.
    Report(ReportArgs),
    /// Run a scenario's workload in the simulation and on this machine's
    /// kernel (the kernel's TCP, quinn on real UDP) through a real-time
    /// emulator of the same link, and report the two side by side. Needs
    /// root, /dev/net/tun and iproute2; see docs/calibration.md.
    Calibrate(CalibrateArgs),
    /// Run COMMAND in a network namespace behind the emulated link, with
    /// the lab's server reachable at a printed address; exits with the
    /// command's status. Needs root, /dev/net/tun and iproute2.
    Shell(ShellArgs),
    /// Turn a recorded page (a HAR file, as Chrome DevTools or WebPageTest
    /// export it) into a scenario file whose workload is that page, object
    /// by object (kind = "page-graph"), and print what was imported and
    /// inferred on stderr. See docs/workloads.md, "Importing a HAR".
    ImportHar(ImportHarArgs),
    /// Print a shell completion script for httplab on stdout, e.g.
    /// `httplab completions bash > ~/.local/share/bash-completion/completions/httplab`.
    Completions(CompletionsArgs),
    /// Print httplab's man page (roff) on stdout, or with --out DIR write
    /// one page per command into DIR (httplab.1, httplab-bench.1, ...),
    /// e.g. `httplab man | man -l -`.
    Man(ManArgs),
}

/// `httplab completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `httplab man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write httplab.1 and one page per command into DIR (created if
    /// absent) instead of printing httplab.1.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// The network and scenario choices `bench` and `run` share.
#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// The scenario: a built-in name (see `httplab list`) or a TOML file.
    #[arg(long, value_name = "NAME|FILE", default_value = "page")]
    pub scenario: String,
    /// Random loss in percent, both directions, e.g. `--loss 2`: pins the
    /// scenario's loss_percent axis to this value (its loss model,
    /// Bernoulli unless it names another, stays).
    #[arg(long, value_name = "PCT")]
    pub loss: Option<f64>,
    /// Round-trip time in milliseconds: pins the scenario's rtt_ms axis.
    #[arg(long, value_name = "MS")]
    pub rtt: Option<f64>,
    /// Bottleneck bandwidth in Mbit/s (10^6 bit/s), both directions: pins
    /// the scenario's bandwidth_mbit axis.
    #[arg(long, value_name = "MBIT")]
    pub bandwidth: Option<f64>,
    /// A named network preset (see `httplab list`) as the scenario's
    /// network.preset; values the scenario sets itself, and --loss, --rtt
    /// and --bandwidth, apply on top.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// The TCP implementation under HTTP/1.1 and HTTP/2. Default: the
    /// scenario's (linux unless it says otherwise).
    #[arg(long, value_parser = tcp_parser())]
    pub tcp: Option<TcpImplementation>,
    /// How connections are set up: pins the scenario's handshake axis
    /// (full handshakes; a warm-up, then a resumed session; or a resumed
    /// session with the first request as early data / 0-RTT).
    #[arg(long, value_parser = handshake_parser())]
    pub handshake: Option<Handshake>,
    /// Congestion control for TCP and QUIC alike: pins the scenario's cc
    /// axis. Default: the scenario's (cubic unless it says otherwise).
    /// Kernel runs (calibrate, shell) give the kernel's TCP its cubic, reno
    /// or bbr.
    #[arg(long, value_parser = congestion_parser())]
    pub cc: Option<Congestion>,
    /// TCP pacing (Linux with the fq qdisc): pins the scenario's pacing
    /// axis. Default: the scenario's (off unless it says otherwise; QUIC
    /// always paces, and BBR paces whatever this says).
    #[arg(long, value_parser = pacing_parser())]
    pub pacing: Option<Pacing>,
    /// The initial congestion window in segments, for TCP and QUIC alike
    /// (QUIC's in bytes of TCP's full segments): pins the scenario's
    /// initial_window axis. Default: each transport's own (TCP 10
    /// segments, quinn 12 000 bytes).
    #[arg(long, value_name = "SEGMENTS")]
    pub initial_window: Option<u32>,
    /// How the server orders the responses of an HTTP/2 or HTTP/3
    /// connection: pins the scenario's scheduler axis.
    #[arg(long, value_parser = scheduler_parser())]
    pub scheduler: Option<Scheduler>,
    /// The server's certificate chain: pins the scenario's certificate
    /// axis.
    #[arg(long, value_parser = certificate_parser())]
    pub certificate: Option<Certificate>,
    /// Whether HTTP/2 and HTTP/3 send every origin of a page on the
    /// document origin's connection (on) or open one connection per origin
    /// (off): pins the scenario's coalescing axis. HTTP/1.1 opens a pool
    /// per origin either way.
    #[arg(long, value_parser = coalescing_parser())]
    pub coalescing: Option<Coalescing>,
    /// How an HTTP/3 client reaches HTTP/3 on a page loaded as a browser
    /// does: pins the scenario's h3_discovery axis. HTTP/1.1 and HTTP/2
    /// runs ignore it.
    #[arg(long = "h3-discovery", value_parser = h3_discovery_parser())]
    pub h3_discovery: Option<H3Discovery>,
    /// Whether the runs have the scenario's targeted drops and blackouts
    /// (its [[network.events]]; on) or run without them (off, the no-event
    /// baseline; a path change stays): pins the scenario's network_events
    /// axis. A scenario without a drop or a blackout refuses it.
    #[arg(long = "network-events", value_parser = network_events_parser())]
    pub network_events: Option<NetworkEvents>,
}

/// `httplab bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    /// The scenario and network overrides.
    pub scenario: ScenarioArgs,
    /// Seeds per protocol and axis point: runs seeds 1..=N. Default: the
    /// scenario's.
    #[arg(long, value_name = "N")]
    pub seeds: Option<u64>,
    /// Protocols to run, comma-separated. Default: the scenario's.
    #[arg(long, value_parser = protocol_parser(), value_delimiter = ',', value_name = "h1,h2,h3")]
    pub protocols: Option<Vec<Protocol>>,
    /// The results directory. Default: reports/out/NAME/, NAME being the
    /// scenario's name (reports/out/NAME-quick/ with --quick).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Runs at once, each on its own thread. Default: the number of CPUs.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    /// Run only share I of N of the run list (runs whose 0-based position
    /// p has p % N == I - 1), for splitting a sweep over machines; join the
    /// shards with `httplab merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Take --shard from the batch system running this task: in a Slurm
    /// array job, the task's position in the array (SLURM_ARRAY_TASK_ID,
    /// _MIN, _MAX, _STEP) of SLURM_ARRAY_TASK_COUNT, so --array=0-7 gives
    /// shards 1/8 to 8/8; in a Kubernetes Indexed Job,
    /// JOB_COMPLETION_INDEX + 1 of HTTPLAB_SHARD_COUNT, which the Job sets
    /// to its completions. See docs/cluster.md.
    #[arg(long, conflicts_with = "shard")]
    pub shard_from_env: bool,
    /// A smoke test: 2 seeds (unless --seeds is given) and a 20 s
    /// simulated-time limit per run.
    #[arg(long)]
    pub quick: bool,
    /// The wall-clock guard: stop a run still going after this many
    /// seconds of wall-clock time, and record it as failed, saying so (0:
    /// no guard). Off the measured path: a run that finishes in time is
    /// untouched by it.
    #[arg(long, value_name = "S", default_value_t = WALL_LIMIT_S)]
    pub wall_limit_s: u64,
    /// Exit with code 3 when any run of the sweep failed or timed out
    /// (after storing every run and rendering the report). Without it the
    /// exit code is 0 once the sweep completed: a failed run is a result.
    #[arg(long)]
    pub strict: bool,
}

/// `--wall-limit-s`'s default: [`runner::DEFAULT_WALL_LIMIT`] in seconds.
const WALL_LIMIT_S: u64 = runner::DEFAULT_WALL_LIMIT.as_secs();

/// `--wall-limit-s` as the runner takes it.
fn wall_limit(seconds: u64) -> Option<std::time::Duration> {
    (seconds > 0).then(|| std::time::Duration::from_secs(seconds))
}

/// `httplab run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    /// The scenario and network overrides.
    pub scenario: ScenarioArgs,
    /// The protocol to run.
    #[arg(long, value_parser = protocol_parser())]
    pub protocol: Protocol,
    /// The run seed.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// The wall-clock guard, as for `bench` (0: no guard).
    #[arg(long, value_name = "S", default_value_t = WALL_LIMIT_S)]
    pub wall_limit_s: u64,
    /// Write the run's packets to FILE. By default (`--pcap-format pcapng`)
    /// one pcapng file that Wireshark decodes with no setup: the client and
    /// the server as two interfaces, each packet once at its sender, the TLS
    /// and QUIC keys inside, a comment on every packet the link dropped
    /// (docs/netsim.md, "Capture"). Simulated time from 1970-01-01.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// What --pcap writes: `pcapng` (the default, as above), `pcapng-both`
    /// (the same, plus each packet again on the receiver's interface when
    /// it arrived), or `pcap` (classic pcap: the client's packets, sent and
    /// received, in FILE and the server's in FILE with `-server` before its
    /// extension; no keys inside, pass --keylog).
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = PcapFormat::Pcapng)]
    pub pcap_format: PcapFormat,
    /// Write the TLS secrets (NSS key-log format, for Wireshark) to FILE.
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// Write a qlog trace of each QUIC connection into DIR (created if
    /// absent): DIR/client-N.sqlog and DIR/server-N.sqlog, N counting each
    /// side's connections from 0. JSON-SEQ, event times in simulated
    /// milliseconds since the run started; qvis reads them. QUIC only: an
    /// error with --protocol h1 or h2.
    #[arg(long, value_name = "DIR")]
    pub qlog: Option<PathBuf>,
    /// Write the run's packet log to FILE as CSV: every packet that entered
    /// the network, with its fate (the format `httplab shell
    /// --packet-log` writes, less its late_ns column).
    #[arg(long, value_name = "FILE")]
    pub packet_log: Option<PathBuf>,
    /// Print the full run record as pretty JSON on stdout (identical on
    /// every invocation with the same arguments and binary).
    #[arg(long)]
    pub json: bool,
}

/// `httplab merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Results directories to join (each with a results.jsonl).
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where the joined results.jsonl, summary.csv and scenario.toml go.
    /// Records already there are kept; duplicates are dropped.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `httplab serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Which protocols to serve: h1, h2, h3 or all.
    #[arg(long, value_parser = serve_protocol_parser(), default_value = SERVE_ALL)]
    pub protocol: ServeProtocol,
    /// Address to listen on, TCP and UDP alike. Port 0: a port free for
    /// both, printed on stdout once bound ("serving on ADDR (TCP and
    /// UDP)"). An address other than loopback gets a warning: the lab's
    /// TLS private key is public.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// The content seed the bodies are generated from (a client checks
    /// bodies against the same seed).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Present the certificate chain in FILE (PEM, the server's own
    /// certificate first) instead of the lab's, with rustls's default
    /// cipher suites, key exchange groups and versions. Needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The private key of --cert's certificate (PEM: PKCS#8, PKCS#1 or
    /// SEC1). Needs --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// The server's limits (timeouts, caps, memory).
    #[command(flatten)]
    pub limits: crate::serve::LimitArgs,
}

/// `httplab get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The URL: `https://HOST[:PORT]/PATH`. HOST is a name (resolved; each of
    /// its addresses tried in turn) or an IP address, and is the TLS
    /// server name and the request authority; PORT is 443 unless given.
    /// Any path: its body is checked as --body-check says.
    #[arg(value_name = "URL")]
    pub url: String,
    /// The protocol to speak (one ALPN offered: http/1.1, h2 or h3).
    #[arg(long, value_parser = protocol_parser(), default_value = "h2")]
    pub protocol: Protocol,
    /// Trust the certificates in FILE (PEM) instead of the system's roots,
    /// e.g. --cacert <(httplab cert) for httplab serve.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub cacert: Option<PathBuf>,
    /// Accept any server certificate (handshake signatures are still
    /// checked), as curl --insecure.
    #[arg(long, short = 'k')]
    pub insecure: bool,
    /// Connect to ADDR (IP:PORT) instead of resolving the URL's host; the
    /// host still names the server in TLS and the request.
    #[arg(long, value_name = "ADDR")]
    pub addr: Option<SocketAddr>,
    /// How bodies are checked: auto (the lab's content model for a path
    /// /bytes/N[/NAME], Content-Length otherwise), length (Content-Length
    /// only, for any server) or content-model (length and SHA-256 under
    /// --seed, for httplab serve). Replaces --no-verify.
    #[arg(long, value_enum, default_value_t = crate::get::BodyCheck::Auto)]
    pub body_check: crate::get::BodyCheck,
    /// Fetch this scenario's workload (a built-in name or a TOML file)
    /// from the URL's server instead of the URL's path; the URL then names
    /// only the server (https://HOST:PORT/).
    #[arg(long, value_name = "NAME|FILE")]
    pub scenario: Option<String>,
    /// The content seed the server was started with (httplab serve
    /// --seed), for the content-model check.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Give up after this many seconds, name resolution included. Default:
    /// 30, or with --scenario the scenario's time limit (time_limit_s).
    #[arg(long, value_name = "SECS", alias = "time-limit")]
    pub timeout: Option<f64>,
    /// Print the timings and the lab client's full record as pretty JSON.
    #[arg(long)]
    pub json: bool,
}

/// `httplab cert`.
#[derive(Debug, Args)]
pub struct CertArgs {
    /// Write the certificate to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `httplab calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    #[command(flatten)]
    /// The scenario and network overrides.
    pub scenario: ScenarioArgs,
    /// Runs per protocol in each mode: seeds 1..=N.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: u64,
    /// Protocols to run, comma-separated. Default: the scenario's.
    #[arg(long, value_parser = protocol_parser(), value_delimiter = ',', value_name = "h1,h2,h3")]
    pub protocols: Option<Vec<Protocol>>,
    /// The results directory. Default: reports/out/calibrate-NAME/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The network namespaces' prefix: PREFIX-client and PREFIX-server.
    /// Default: httplab-PID.
    #[arg(long, value_name = "PREFIX")]
    pub netns: Option<String>,
    /// Keep kernel runs already stored by another build of the lab, and run
    /// only the simulated runs again: for checking a change to the
    /// simulation against kernel runs already measured (valid while the
    /// lab's clients, servers and emulator are unchanged).
    #[arg(long)]
    pub reuse_kernel_runs: bool,
}

/// `httplab shell`.
#[derive(Debug, Args)]
pub struct ShellArgs {
    #[command(flatten)]
    /// The scenario whose network to emulate (its first sweep point), and
    /// network overrides.
    pub scenario: ScenarioArgs,
    /// The link's seed (its loss and jitter draws) and the server's
    /// content seed.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// The network namespaces' prefix: PREFIX-client and PREFIX-server.
    /// Default: httplab-PID.
    #[arg(long, value_name = "PREFIX")]
    pub netns: Option<String>,
    /// Write the emulator's packet log to FILE: the simulation's CSV with
    /// a late_ns column.
    #[arg(long, value_name = "FILE")]
    pub packet_log: Option<PathBuf>,
    /// The command to run, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `httplab import-har`.
#[derive(Debug, Args)]
pub struct ImportHarArgs {
    /// The HAR file (HAR 1.2).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to write the scenario file. Default: standard output.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// The scenario's name: 1 to 64 characters from A-Z a-z 0-9 . _ -.
    /// Default: the HAR file's name without its extension, other
    /// characters replaced by `-`.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// `httplab report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results directory (with a results.jsonl).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Where the report goes. Default: DIR/report/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Parses a protocol from its label (`scenarios::Protocol::ALL`), which
/// `--help` and errors list with each protocol's description.
fn protocol_parser() -> impl TypedValueParser<Value = Protocol> {
    PossibleValuesParser::new(
        Protocol::ALL.map(|p| PossibleValue::new(p.label()).help(p.description())),
    )
    .try_map(|label| label.parse::<Protocol>())
}

/// Parses a handshake mode from its label (`scenarios::Handshake::ALL`),
/// which `--help` and errors list with each mode's description.
fn handshake_parser() -> impl TypedValueParser<Value = Handshake> {
    PossibleValuesParser::new(
        Handshake::ALL.map(|h| PossibleValue::new(h.label()).help(h.description())),
    )
    .try_map(|label| label.parse::<Handshake>())
}

/// Parses a congestion control from its label (`tcp::Congestion::ALL`).
fn congestion_parser() -> impl TypedValueParser<Value = Congestion> {
    PossibleValuesParser::new(
        Congestion::ALL.map(|c| PossibleValue::new(c.label()).help(c.description())),
    )
    .try_map(|label| label.parse::<Congestion>())
}

/// Parses a pacing choice from its label (`tcp::Pacing::ALL`).
fn pacing_parser() -> impl TypedValueParser<Value = Pacing> {
    PossibleValuesParser::new(
        Pacing::ALL.map(|p| PossibleValue::new(p.label()).help(p.description())),
    )
    .try_map(|label| label.parse::<Pacing>())
}

/// Parses a scheduler from its label (`scenarios::Scheduler::ALL`).
fn scheduler_parser() -> impl TypedValueParser<Value = Scheduler> {
    PossibleValuesParser::new(
        Scheduler::ALL.map(|s| PossibleValue::new(s.label()).help(s.description())),
    )
    .try_map(|label| label.parse::<Scheduler>())
}

/// Parses a certificate chain from its label (`scenarios::Certificate::ALL`).
fn certificate_parser() -> impl TypedValueParser<Value = Certificate> {
    PossibleValuesParser::new(
        Certificate::ALL.map(|c| PossibleValue::new(c.label()).help(c.description())),
    )
    .try_map(|label| label.parse::<Certificate>())
}

/// Parses a coalescing choice from its label (`scenarios::Coalescing::ALL`).
fn coalescing_parser() -> impl TypedValueParser<Value = Coalescing> {
    PossibleValuesParser::new(
        Coalescing::ALL.map(|c| PossibleValue::new(c.label()).help(c.description())),
    )
    .try_map(|label| label.parse::<Coalescing>())
}

/// Parses a way of reaching HTTP/3 from its label
/// (`scenarios::H3Discovery::ALL`).
fn h3_discovery_parser() -> impl TypedValueParser<Value = H3Discovery> {
    PossibleValuesParser::new(
        H3Discovery::ALL.map(|d| PossibleValue::new(d.label()).help(d.description())),
    )
    .try_map(|label| label.parse::<H3Discovery>())
}

/// Parses a network-events choice from its label
/// (`scenarios::NetworkEvents::ALL`).
fn network_events_parser() -> impl TypedValueParser<Value = NetworkEvents> {
    PossibleValuesParser::new(
        NetworkEvents::ALL.map(|e| PossibleValue::new(e.label()).help(e.description())),
    )
    .try_map(|label| label.parse::<NetworkEvents>())
}

/// What `serve` offers: one protocol, or all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServeProtocol {
    /// This protocol only.
    One(Protocol),
    /// Every protocol ([`SERVE_ALL`]).
    All,
}

impl ServeProtocol {
    /// Whether it offers `p`.
    pub fn offers(self, p: Protocol) -> bool {
        self == ServeProtocol::All || self == ServeProtocol::One(p)
    }
}

/// `serve --protocol all`: every protocol.
pub const SERVE_ALL: &str = "all";

/// Parses `serve --protocol`: a protocol's label, or [`SERVE_ALL`].
fn serve_protocol_parser() -> impl TypedValueParser<Value = ServeProtocol> {
    let one =
        Protocol::ALL.map(|p| PossibleValue::new(p.label()).help(format!("{} only", p.name())));
    let all = PossibleValue::new(SERVE_ALL).help("All three");
    PossibleValuesParser::new(one.into_iter().chain([all])).try_map(|label| {
        if label == SERVE_ALL {
            Ok(ServeProtocol::All)
        } else {
            label.parse::<Protocol>().map(ServeProtocol::One)
        }
    })
}

/// Parses a TCP implementation from its label
/// (`tcp::TcpImplementation::ALL`), which `--help` and errors list with each
/// implementation's description.
fn tcp_parser() -> impl TypedValueParser<Value = TcpImplementation> {
    PossibleValuesParser::new(
        TcpImplementation::ALL.map(|t| PossibleValue::new(t.label()).help(t.description())),
    )
    .try_map(|label| label.parse::<TcpImplementation>())
}

/// Parse the command line, carry out the command, and report any error on
/// stderr with a non-zero exit.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Shell(args) = &cli.command {
        return match shell(args) {
            Ok(code) => code,
            Err(e) => failed(&e),
        };
    }
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failed(&e),
    }
}

/// Print `error` (each cause once) and give its exit code.
fn failed(error: &anyhow::Error) -> ExitCode {
    note!("{}", crate::console::message(error));
    ExitCode::from(crate::console::exit_code(error))
}

/// Carry out `cli`'s command.
pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Bench(args) => bench(args),
        Command::Run(args) => run(args),
        Command::List => list(),
        Command::Merge(args) => merge(args),
        Command::Serve(args) => serve(args),
        Command::Get(args) => get(args),
        Command::Cert(args) => crate::cert::run(args.out.as_deref()),
        Command::Report(args) => report(args),
        Command::Calibrate(args) => calibrate(args),
        Command::ImportHar(args) => import_har(args),
        Command::Completions(args) => {
            let mut script = Vec::new();
            clap_complete::generate(
                args.shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "httplab",
                &mut script,
            );
            crate::console::out(&String::from_utf8_lossy(&script))
                .context("writing the completion script")
        }
        Command::Man(args) => man(args),
        Command::Shell(args) => {
            let code = shell(&args)?;
            if code != ExitCode::SUCCESS {
                bail!("the command exited with {code:?}");
            }
            Ok(())
        }
    }
}

fn import_har(args: ImportHarArgs) -> Result<()> {
    let source = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading the HAR file {source}"))?;
    let page = scenarios::har::HarPage::parse(&text)
        .and_then(|har| har.to_page())
        .map_err(|e| anyhow!("{source}: {e}"))?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => crate::import_har::default_name(
            &args
                .file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
    };
    let toml = crate::import_har::scenario_toml(&page, &name, &source)?;
    crate::console::note(&crate::import_har::summary(&page, &source));
    match &args.out {
        Some(path) => {
            results::write_atomic(path, toml.as_bytes())?;
            note!(
                "wrote scenario {name} to {} (run it: httplab bench --scenario {})",
                path.display(),
                path.display()
            );
        }
        None => crate::console::out(&toml).context("writing the scenario to standard output")?,
    }
    Ok(())
}

fn calibrate(args: CalibrateArgs) -> Result<()> {
    let scenario = resolve(&args.scenario, |o| {
        o.seeds = Some(args.runs);
        o.protocols = args.protocols.clone();
    })?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| crate::calibrate::default_out(&scenario));
    let config = crate::calibrate::CalibrateConfig {
        scenario,
        out,
        kernel: crate::kernel::KernelOptions {
            prefix: args.netns.clone().unwrap_or_else(emulator::default_prefix),
        },
        reuse_kernel_runs: args.reuse_kernel_runs,
    };
    let done = crate::calibrate::run(&config)?;
    if done.resumed > 0 {
        note!(
            "resumed: {} runs were already in {}",
            done.resumed,
            RESULTS_FILE
        );
    }
    outln!("{}", reports::calibration::table(&done.calibration.rows))?;
    note!("calibration report: {}", done.calibration.path.display());
    Ok(())
}

/// `httplab shell`; its exit code is the command's.
fn shell(args: &ShellArgs) -> Result<ExitCode> {
    let scenario = resolve(&args.scenario, |_| {})?;
    let runs = scenario.expand();
    let first = runs
        .first()
        .ok_or_else(|| anyhow!("scenario {} has no runs", scenario.name))?;
    let network = spec::network(first).map_err(|e| anyhow!("invalid network: {e}"))?;
    let config = crate::shell::ShellConfig {
        network,
        seed: args.seed,
        congestion: crate::kernel::kernel_congestion(first.choices.cc).to_owned(),
        prefix: args.netns.clone().unwrap_or_else(emulator::default_prefix),
        packet_log: args.packet_log.clone(),
        command: args.command.clone(),
    };
    let status = crate::shell::run(&config)?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => {
            use std::os::unix::process::ExitStatusExt as _;
            ExitCode::from(128u8.saturating_add(status.signal().unwrap_or(0) as u8))
        }
    })
}

/// A built-in scenario by name, or a scenario file.
fn load_scenario(name_or_file: &str) -> Result<Scenario> {
    if let Some(s) = Scenario::builtin(name_or_file) {
        return Ok(s);
    }
    let path = Path::new(name_or_file);
    if path.exists() || name_or_file.ends_with(".toml") || name_or_file.contains('/') {
        return Ok(Scenario::load(path)?);
    }
    bail!(
        "unknown scenario '{name_or_file}': not a built-in ({}) and no such file",
        Scenario::builtin_names().join(", ")
    )
}

/// The overrides `args` ask for.
fn overrides(args: &ScenarioArgs) -> Overrides {
    Overrides {
        loss_percent: args.loss,
        rtt_ms: args.rtt,
        bandwidth_mbit: args.bandwidth,
        preset: args.preset.clone(),
        tcp: args.tcp,
        handshake: args.handshake,
        cc: args.cc,
        pacing: args.pacing,
        initial_window: args.initial_window,
        scheduler: args.scheduler,
        certificate: args.certificate,
        coalescing: args.coalescing,
        h3_discovery: args.h3_discovery,
        network_events: args.network_events,
        ..Overrides::default()
    }
}

/// The scenario of `args` with its overrides, and `extra` ones, applied.
fn resolve(args: &ScenarioArgs, extra: impl FnOnce(&mut Overrides)) -> Result<Scenario> {
    let scenario = load_scenario(&args.scenario)?;
    let mut o = overrides(args);
    extra(&mut o);
    scenario
        .with_overrides(&o)
        .map_err(|e| override_error(e, &args.scenario))
}

/// An override error in the command line's terms (the flag, not the
/// scenario field).
fn override_error(e: ScenarioError, scenario: &str) -> anyhow::Error {
    if e.kind() != ErrorKind::Override {
        return anyhow::Error::new(e).context(format!(
            "scenario {scenario} with the command-line overrides"
        ));
    }
    let flag = match e.field().unwrap_or_default() {
        "loss_percent" => "--loss",
        "rtt_ms" => "--rtt",
        "bandwidth_mbit" => "--bandwidth",
        "preset" => "--preset",
        "seeds" => "--seeds",
        "protocols" => "--protocols",
        "tcp" => "--tcp",
        "handshake" => "--handshake",
        "cc" => "--cc",
        "pacing" => "--pacing",
        "initial_window" => "--initial-window",
        "scheduler" => "--scheduler",
        "certificate" => "--certificate",
        "coalescing" => "--coalescing",
        "h3_discovery" => "--h3-discovery",
        "network_events" => "--network-events",
        other => return anyhow!("invalid override {other}: {}", e.reason()),
    };
    anyhow!("invalid {flag}: {}", e.reason())
}

fn bench(args: BenchArgs) -> Result<()> {
    let mut scenario = resolve(&args.scenario, |o| {
        o.seeds = args.seeds.or(args.quick.then_some(QUICK_SEEDS));
        o.protocols = args.protocols.clone();
    })?;
    if args.quick {
        spec::cap_time_limit(&mut scenario, QUICK_TIME_LIMIT_S);
    }
    let hash = scenario.content_hash();
    let runs = scenario.expand();
    check_runs(&scenario, &runs)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let mut name = scenario.name.clone();
        if args.quick {
            name.push_str("-quick");
        }
        Path::new("reports").join("out").join(name)
    });
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |j| j as usize,
    );
    let shard = if args.shard_from_env {
        let from_env = Shard::from_env(|name| {
            std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
        })
        .map_err(|e| anyhow!("--shard-from-env: {e}"))?;
        note!("shard {} from {}", from_env.shard, from_env.source);
        Some(from_env.shard)
    } else {
        args.shard
    };
    let interrupts = crate::signals::Interrupts::install()?;
    let config = SweepConfig {
        shard,
        wall_limit: wall_limit(args.wall_limit_s),
        interrupt: interrupts.any.clone(),
        ..SweepConfig::new(out.clone(), jobs)
    };
    let total = runs.len();
    let name = scenario.name.clone();
    let toml = spec::to_toml(&scenario)?;
    let done = std::sync::atomic::AtomicBool::new(false);
    let report = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| say_when_interrupted(&interrupts, &done));
        // Raised however the sweep ends, a panic included, so that the
        // scope's join of the watcher never waits for a signal.
        struct Done<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let done_guard = Done(&done);
        let report = sweep::run(&hash, &toml, runs, &config, |left| {
            let shard = shard.map_or_else(String::new, |s| format!(", shard {s}"));
            note!(
                "scenario {name} ({hash}): {total} runs{shard}; {left} to run, {jobs} at a time, into {}",
                out.display()
            );
            Progress::new(left)
        });
        drop(done_guard);
        let _ = watcher.join();
        report
    })?;
    if report.resumed > 0 {
        note!(
            "resumed: {} of {} runs were already in {}",
            report.resumed,
            report.planned,
            RESULTS_FILE
        );
    }
    if report.dropped_partial_line {
        note!("note: dropped a partial last line of {RESULTS_FILE} (an interrupted write); that run ran again");
    }
    if report.other_records > 0 {
        note!(
            "note: {RESULTS_FILE} also holds {} records of other scenario versions, lab builds or seeds; summary.csv leaves them out",
            report.other_records
        );
    }
    outln!("{}", table::render(&table::rows(&report.runs)).trim_end())?;
    let done = report.resumed + report.ran;
    let runs_done = if done < report.planned {
        format!("{done} of {} runs done", report.planned)
    } else {
        format!("{} runs", report.planned)
    };
    outln!(
        "\n{runs_done} ({} failed or timed out); results in {}, summary in {}",
        report.failed,
        out.join(RESULTS_FILE).display(),
        out.join(SUMMARY_FILE).display()
    )?;
    if report.planned == 0 {
        // A shard of a sweep with fewer runs than shards: nothing to
        // report, and nothing wrong (a batch system's task must succeed).
        match shard {
            Some(s) => {
                note!("note: shard {s} has no runs (the sweep has {total}); no report rendered")
            }
            None => note!("note: the sweep has no runs; no report rendered"),
        }
        return bench_outcome(&report, args.strict, &interrupts);
    }
    let report_dir = out.join(REPORT_DIR);
    let rendered = reports::render(&out, &report_dir)
        .with_context(|| format!("rendering the report of {}", out.display()))?;
    outln!("report: {}", report_dir.join(reports::REPORT_MD).display())?;
    if rendered.left_out > 0 {
        note!(
            "note: the report leaves out {} records of other scenario versions or lab builds, repeated runs, or runs not in scenario.toml (seeds or points the last sweep did not have)",
            rendered.left_out
        );
    }
    if rendered.kernel_runs > 0 {
        note!(
            "note: the report leaves out {} kernel runs (httplab calibrate reports them, in calibration.md)",
            rendered.kernel_runs
        );
    }
    for warning in &rendered.warnings {
        note!("warning: {warning}");
    }
    bench_outcome(&report, args.strict, &interrupts)
}

/// How a sweep that stored its runs and rendered its report ends: an
/// interruption (the signal's exit code, saying how to go on), `--strict`
/// with a failed run (exit code 3), or success.
fn bench_outcome(
    report: &sweep::SweepReport,
    strict: bool,
    interrupts: &crate::signals::Interrupts,
) -> Result<()> {
    let done = report.resumed + report.ran;
    if interrupts.raised() {
        let next = if done < report.planned {
            "rerun the same command to resume"
        } else {
            "the sweep was complete"
        };
        return Err(crate::console::Stop::Interrupted {
            message: format!(
                "interrupted: {done} of {} runs done; {next}",
                report.planned
            ),
            code: interrupts.exit_code(),
        }
        .into());
    }
    if strict && report.failed > 0 {
        return Err(crate::console::Stop::RunsFailed(format!(
            "--strict: {} of {} runs failed or timed out (see summary.csv's reason column)",
            report.failed, report.planned
        ))
        .into());
    }
    Ok(())
}

/// Until `done`, wait for a signal and say, once, what happens now.
fn say_when_interrupted(
    interrupts: &crate::signals::Interrupts,
    done: &std::sync::atomic::AtomicBool,
) {
    use std::sync::atomic::Ordering;
    while !done.load(Ordering::Relaxed) {
        if interrupts.raised() {
            // On a new line: the progress line may be half drawn.
            note!(
                "\nstopping: no new runs start; the runs in flight finish and are stored \
                 (a second Ctrl-C or SIGTERM stops at once)"
            );
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The report's directory inside a results directory.
pub const REPORT_DIR: &str = "report";

fn report(args: ReportArgs) -> Result<()> {
    let out = args.out.unwrap_or_else(|| args.dir.join(REPORT_DIR));
    let rendered = reports::render(&args.dir, &out)
        .with_context(|| format!("rendering the report of {}", args.dir.display()))?;
    outln!(
        "{} runs ({} failed, {} timed out) in {} groups; report: {}",
        rendered.runs,
        rendered.failed,
        rendered.timed_out,
        rendered.groups,
        out.join(reports::REPORT_MD).display()
    )?;
    for file in &rendered.files {
        outln!("  {}", file.display())?;
    }
    if rendered.left_out > 0 {
        note!(
            "note: left out {} records of other scenario versions or lab builds, repeated runs, or runs not in scenario.toml (seeds or points the last sweep did not have)",
            rendered.left_out
        );
    }
    if rendered.kernel_runs > 0 {
        note!(
            "note: left out {} kernel runs (httplab calibrate reports them, in calibration.md)",
            rendered.kernel_runs
        );
    }
    for warning in &rendered.warnings {
        note!("warning: {warning}");
    }
    Ok(())
}

/// The run `args` name, from the scenario with the network overrides
/// applied (so its scenario hash is a `bench` sweep's with the same
/// overrides): that protocol's first run at the first sweep point, with the
/// seed set. A run of a `bench` sweep with the same overrides has the very
/// same record.
fn run_spec(args: &RunArgs) -> Result<(Scenario, RunSpec)> {
    let protocol = args.protocol;
    let scenario = resolve(&args.scenario, |_| {})?;
    let runs = scenario.expand();
    let first = runs
        .first()
        .ok_or_else(|| anyhow!("scenario {} has no runs", scenario.name))?;
    let point = (first.axes.clone(), first.choices);
    let at_point = |r: &RunSpec| (&r.axes, r.choices) == (&point.0, point.1);
    if !runs.iter().all(at_point) {
        let mut at: Vec<String> = point.0.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        let mut swept: Vec<String> = point.0.keys().cloned().collect();
        for &axis in &first.named_axes {
            at.push(format!("{} = {}", axis.name(), axis.label_in(&point.1)));
            swept.push(axis.name().to_owned());
        }
        note!(
            "note: scenario {} sweeps {}; running its first point ({}); pin another with --loss, --rtt, --bandwidth, --initial-window, --handshake, --cc, --pacing, --scheduler, --certificate, --coalescing, --h3-discovery or --network-events",
            scenario.name,
            swept.join(", "),
            at.join(", ")
        );
    }
    let mut spec = runs
        .iter()
        .find(|r| at_point(r) && r.protocol == protocol && r.seed == args.seed)
        .or_else(|| runs.iter().find(|r| at_point(r) && r.protocol == protocol))
        .unwrap_or(first)
        .clone();
    spec.protocol = protocol;
    spec.seed = args.seed;
    Ok((scenario, spec))
}

/// Refuse a sweep in which any run cannot run ([`runner::check`]),
/// before the first one starts: the error names the first such run and
/// says how many there are.
fn check_runs(scenario: &Scenario, runs: &[RunSpec]) -> Result<()> {
    let mut bad = runs
        .iter()
        .filter_map(|spec| runner::check(spec).err().map(|e| (spec, e)));
    let Some((spec, reason)) = bad.next() else {
        return Ok(());
    };
    let more = bad.count();
    let others = match more {
        0 => String::new(),
        1 => " (and 1 other run)".to_owned(),
        n => format!(" (and {n} other runs)"),
    };
    bail!(
        "scenario {}: run {} cannot run{others}: {reason}",
        scenario.name,
        spec.key()
    )
}

fn run(args: RunArgs) -> Result<()> {
    if let Some(dir) = &args.qlog {
        if args.protocol != Protocol::H3 {
            bail!(
                "--qlog {}: qlog records QUIC connections, and --protocol {} runs over TCP; \
                 use --protocol h3, or --pcap to capture TCP",
                dir.display(),
                args.protocol
            );
        }
    }
    let (scenario, spec) = run_spec(&args)?;
    check_runs(&scenario, std::slice::from_ref(&spec))?;
    if let Some(dir) = &args.qlog {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("--qlog: creating the directory {}", dir.display()))?;
    }
    let capture = netsim::CaptureConfig {
        pcap: args.pcap.is_some(),
        // A pcapng carries the keys itself.
        key_log: args.keylog.is_some()
            || (args.pcap.is_some() && args.pcap_format != PcapFormat::Pcap),
        qlog: args.qlog.is_some(),
    };
    let artifacts = runner::run_limited(
        &spec,
        &scenario.content_hash(),
        capture,
        wall_limit(args.wall_limit_s),
    );
    if let Some(path) = &args.pcap {
        let captures = artifacts.captures.as_ref().ok_or_else(|| {
            anyhow!("the run produced no capture (it failed before the hosts started)")
        })?;
        let key_log = artifacts.key_log.as_deref().unwrap_or_default();
        write_pcap(path, args.pcap_format, captures, key_log)?;
    }
    if let Some(path) = &args.keylog {
        let text = artifacts.key_log.clone().unwrap_or_default();
        results::write_atomic(path, text.as_bytes())?;
        note!("TLS key log: {}", path.display());
    }
    if let Some(dir) = &args.qlog {
        write_qlogs(dir, artifacts.qlogs.as_deref().unwrap_or_default())?;
    }
    if let Some(path) = &args.packet_log {
        let log = artifacts.packet_log.as_ref().ok_or_else(|| {
            anyhow!("the run produced no packet log (its configuration was invalid or it panicked)")
        })?;
        let mut csv = Vec::new();
        log.write_csv(&mut csv).context("encoding the packet log")?;
        results::write_atomic(path, &csv)?;
        note!("packet log: {}", path.display());
    }
    let result = &artifacts.result;
    if args.json {
        let json = serde_json::to_string_pretty(result).context("encoding the run record")?;
        outln!("{json}")?;
        return run_succeeded(result);
    }
    outln!(
        "{} {} seed {} ({}): {}",
        result.scenario,
        result.protocol,
        result.seed,
        result.run_key,
        result.outcome.label()
    )?;
    if let Some(reason) = &result.reason {
        outln!("reason: {reason}")?;
    }
    if let Some(m) = &result.measurements {
        if let Some(plt) = m.plt {
            outln!("page load time: {:.3} s", plt.as_secs_f64())?;
        }
        if let Some(ttfb) = m.ttfb {
            outln!("time to first byte: {:.1} ms", ttfb.as_secs_f64() * 1e3)?;
        }
        outln!(
            "{} requests, {} bytes, {} connections",
            m.requests.len(),
            m.total_bytes,
            m.connections_used
        )?;
        if let Some(warmup) = &m.warmup {
            outln!(
                "warm-up: {} connection(s), {:.3} s before the measured part",
                warmup.connections.len(),
                warmup.offset.as_secs_f64()
            )?;
        }
        if result.handshake != Handshake::Full {
            for c in &m.connections {
                let known = |v: Option<bool>| v.map_or("unknown", |b| if b { "yes" } else { "no" });
                outln!(
                    "connection {}: resumed {}, early data {}",
                    c.id,
                    known(c.resumed),
                    match (c.early_data_offered, c.early_data_accepted) {
                        (false, _) => "not offered",
                        (true, Some(true)) => "accepted",
                        (true, Some(false)) => "rejected",
                        (true, None) => "offered, handshake incomplete",
                    }
                )?;
            }
        }
    }
    if let Some(sim) = &result.simulation {
        let drops: Vec<String> = sim
            .drops
            .iter()
            .filter(|(_, &n)| n > 0)
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        outln!(
            "simulated {:.3} s, {} packets, drops: {}; packet log {}",
            sim.elapsed.as_secs_f64(),
            sim.packets,
            if drops.is_empty() {
                "none".to_owned()
            } else {
                drops.join(", ")
            },
            sim.packet_log_digest
        )?;
    }
    run_succeeded(result)
}

/// `Ok` if `result` is an ok run; otherwise an error that says how the
/// run ended, so that `run` exits non-zero (its record is already out).
fn run_succeeded(result: &RunResult) -> Result<()> {
    if result.outcome == Outcome::Ok {
        return Ok(());
    }
    Err(crate::console::Stop::RunsFailed(format!(
        "run {} {}: {}",
        result.run_key,
        result.outcome.label(),
        result.reason.as_deref().unwrap_or("no reason recorded")
    ))
    .into())
}

/// `httplab man`: the main page on stdout, or every page into a directory.
fn man(args: ManArgs) -> Result<()> {
    let command = <Cli as clap::CommandFactory>::command();
    let render = |command: &clap::Command| -> Result<Vec<u8>> {
        let mut page = Vec::new();
        clap_mangen::Man::new(command.clone())
            .render(&mut page)
            .context("rendering the man page")?;
        Ok(page)
    };
    let Some(dir) = args.out else {
        return crate::console::out(&String::from_utf8_lossy(&render(&command)?))
            .context("writing the man page");
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut pages = vec![("httplab.1".to_owned(), render(&command)?)];
    for sub in command.get_subcommands() {
        let name = format!("httplab-{}", sub.get_name());
        let page = render(&sub.clone().name(name.clone()))?;
        pages.push((format!("{name}.1"), page));
    }
    for (file, page) in &pages {
        results::write_atomic(&dir.join(file), page)?;
    }
    note!("wrote {} man pages into {}", pages.len(), dir.display());
    Ok(())
}

/// Write each trace to `dir/<side>-<N>.sqlog` and say what was written.
fn write_qlogs(dir: &Path, traces: &[netsim::QlogTrace]) -> Result<()> {
    if traces.is_empty() {
        note!(
            "qlog: the run made no QUIC connection; nothing written to {}",
            dir.display()
        );
        return Ok(());
    }
    for trace in traces {
        let path = dir.join(trace.file_name());
        trace
            .write_to(&path)
            .with_context(|| format!("writing the qlog trace {}", path.display()))?;
    }
    let names: Vec<String> = traces.iter().map(|t| t.file_name()).collect();
    note!("qlog: {} ({})", dir.display(), names.join(", "));
    Ok(())
}

/// What `--pcap` writes (see [`RunArgs::pcap_format`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PcapFormat {
    /// One pcapng file, each packet once at its sender.
    Pcapng,
    /// One pcapng file, each packet at its sender and again at its receiver.
    PcapngBoth,
    /// Two classic pcap files, the client's and the server's.
    Pcap,
}

/// Write the run's capture to `path` as `format` says, with `key_log` inside a
/// pcapng, and say what was written.
fn write_pcap(
    path: &Path,
    format: PcapFormat,
    captures: &netsim::Captures,
    key_log: &str,
) -> Result<()> {
    let which = match format {
        PcapFormat::Pcapng => netsim::PcapngPackets::Sent,
        PcapFormat::PcapngBoth => netsim::PcapngPackets::SentAndReceived,
        PcapFormat::Pcap => {
            captures.client.write_to(path).context("--pcap")?;
            let server = server_pcap_path(path);
            captures.server.write_to(&server).context("--pcap")?;
            note!(
                "pcap: {} (client), {} (server)",
                path.display(),
                server.display()
            );
            return Ok(());
        }
    };
    captures
        .write_pcapng(path, key_log, which)
        .context("--pcap")?;
    note!(
        "pcapng: {} (client and server, TLS keys inside)",
        path.display()
    );
    Ok(())
}

/// `FILE` with `-server` before its extension: `a/run.pcap` →
/// `a/run-server.pcap`.
fn server_pcap_path(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-server.{}", ext.to_string_lossy()),
        None => format!("{stem}-server"),
    };
    path.with_file_name(name)
}

fn list() -> Result<()> {
    outln!("scenarios:")?;
    for name in Scenario::builtin_names() {
        let line = Scenario::builtin(name)
            .map(|s| s.description)
            .unwrap_or_default();
        outln!("  {name:<14} {line}")?;
    }
    outln!("presets:")?;
    for preset in scenarios::presets() {
        outln!("  {:<14} {}", preset.name, preset.description)?;
    }
    Ok(())
}

fn merge(args: MergeArgs) -> Result<()> {
    let (kept, duplicates) = results::merge(&args.dirs, &args.out)?;
    outln!(
        "merged {kept} records into {} ({duplicates} duplicates dropped); summary in {}",
        args.out.join(RESULTS_FILE).display(),
        args.out.join(SUMMARY_FILE).display()
    )?;
    Ok(())
}

/// A current-thread tokio runtime with I/O and time, for real sockets.
fn real_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")
}

fn serve(args: ServeArgs) -> Result<()> {
    let protocols = servers::Protocols {
        http1: args.protocol.offers(Protocol::H1),
        http2: args.protocol.offers(Protocol::H2),
        http3: args.protocol.offers(Protocol::H3),
    };
    let limits = args.limits.limits()?;
    let identity = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(
            netsim::tls::real::ServerIdentity::from_pem_files(cert, key).context("--cert/--key")?,
        ),
        _ => None,
    };
    let server = servers::ContentServer::new(args.seed);
    let flow = netsim::FlowControl::for_buffer(4 << 20);
    let offered: Vec<&str> = Protocol::ALL
        .into_iter()
        .filter(|&p| args.protocol.offers(p))
        .map(Protocol::name)
        .collect();
    if let Some(warning) = crate::serve::listen_warning(args.listen).filter(|_| identity.is_none())
    {
        note!("{warning}");
    }
    let runtime = real_runtime()?;
    let bound = {
        let _runtime = runtime.enter();
        servers::RealServer::bind_presenting(
            args.listen,
            protocols,
            flow,
            &netsim::RealSockets::default(),
            limits.clone(),
            identity.as_ref(),
        )
        .with_context(|| format!("serving on {}", args.listen))?
    };
    let addr = bound.local_addr();
    let certificate = match &identity {
        Some(identity) => format!("certificate from {}", identity.cert_path()),
        None => format!(
            "the lab's certificate for {}, see httplab cert",
            netsim::tls::SERVER_NAME
        ),
    };
    note!(
        "serving {} on {addr} (content seed {}; {certificate}); Ctrl-C to stop",
        offered.join(", "),
        args.seed,
    );
    note!("{}", crate::serve::describe(bound.limits(), &limits));
    outln!("{}", crate::serve::bound_line(&bound))?;
    runtime
        .block_on(bound.serve(server))
        .with_context(|| format!("serving on {addr}"))
}

fn get(args: GetArgs) -> Result<()> {
    let scenario = args.scenario.as_deref().map(load_scenario).transpose()?;
    crate::get::run(&crate::get::GetRequest {
        url: args.url,
        protocol: args.protocol,
        cacert: args.cacert,
        insecure: args.insecure,
        addr: args.addr,
        scenario,
        seed: args.seed,
        body_check: args.body_check,
        timeout_s: args.timeout,
        json: args.json,
    })
}
