//! netsim: a deterministic simulated network that carries real TCP and real
//! QUIC, for httplab.
//!
//! Map of the crate (modules are private but for the namespaces `tls`,
//! `quic`, `packet` and `probe`; the crate root re-exports the rest of the
//! public surface):
//! - `sim`: one run: configuration, the simulation, its output;
//! - `stepper`: the stepping loop over the two hosts' runtimes, and the
//!   simulated clock it keeps;
//! - `network`: the dumbbell network, addresses, path change, per-flow
//!   counters;
//! - `link`: the link model of one direction (delay, jitter, bandwidth,
//!   drop-tail queue, MTU, loss models, targeted drops, blackouts);
//! - `log`: the per-run packet log and its digest;
//! - `host`: a simulated host and the driver that moves its packets;
//! - `stream`: TCP's async face: [`TcpStream`] and [`TcpListener`] over
//!   the sans-IO stacks of the `tcp` crate;
//! - `udp`: simulated UDP sockets and quinn's `AsyncUdpSocket`;
//! - [`quic`]: quinn endpoints on the simulated network;
//! - `flow`: [`FlowControl`], the flow-control room HTTP/2 and QUIC both
//!   get, and its QUIC config;
//! - [`tls`]: the lab's fixed TLS identity and rustls configs, and
//!   ([`tls::real`]) rustls's defaults for peers outside the lab;
//! - `capture`: packet capture (classic pcap per host, one pcapng per run),
//!   TLS key log and qlog;
//! - `stats`: per-connection transport statistics;
//! - `accepted`: the connections a host accepted, whose statistics a run
//!   reads at its end;
//! - `settings`: the TCP, QUIC and TLS settings a run used, as text for
//!   reports;
//! - [`probe`]: raw transport downloads that validate the network;
//! - [`packet`]: IPv4/TCP/UDP parsing and framing;
//! - `seed`: deriving every RNG seed from the run seed;
//! - `real`: [`RealSockets`], how clients and servers set up the machine's
//!   own sockets outside the simulation.
//!
//! Time inside a run is simulated: [`now`] gives it, as a `Duration` since
//! the run started. Nothing here reads the wall clock.
// Determinism needs tokio's internal RNG (the order `select!` polls its
// branches, the scheduler's choices) seeded from the simulation; tokio does
// that only when built with `--cfg tokio_unstable`. `.cargo/config.toml`
// sets it, but a `RUSTFLAGS` (or `CARGO_ENCODED_RUSTFLAGS`) variable
// replaces that setting silently, so refuse to build without it.
#[cfg(not(tokio_unstable))]
compile_error!(
    "netsim must be built with `--cfg tokio_unstable`: without it tokio's RNG is not seeded from \
     the run seed and runs are not deterministic. `.cargo/config.toml` sets it; a RUSTFLAGS or \
     CARGO_ENCODED_RUSTFLAGS environment variable replaces that setting, so add \
     `--cfg tokio_unstable` to it (e.g. RUSTFLAGS=\"--cfg tokio_unstable -C target-cpu=native\")."
);

mod accepted;
mod capture;
mod clock;
mod congestion;
mod flow;
mod host;
mod link;
mod log;
mod network;
pub mod packet;
pub mod probe;
pub mod quic;
mod quic_bbr;
mod real;
mod seed;
mod settings;
mod sim;
mod stats;
mod stepper;
mod stream;
mod sync;
pub mod time;
pub mod tls;
mod udp;
mod wire;

pub use accepted::{AcceptedConnection, Transport};
pub use capture::{drop_comment, CaptureError, PcapRecorder, PcapngPackets, QlogTrace};
pub use clock::{now, TICK};
pub use flow::{FlowControl, MAX_CONCURRENT_STREAMS, MAX_WINDOW};
pub use host::{live_hosts, Host};
pub use link::{
    Blackout, ConfigError, Direction, DropReason, Fate, Jitter, LinkConfig, LossModel, QueueLimit,
    TargetedDrop, MAX_DELAY, MAX_JITTER, MAX_MTU, MIN_MTU,
};
pub use log::{PacketLog, PacketRecord, CSV_HEADER};
pub use network::{
    FlowCounters, Network, NetworkConfig, PathChange, PathConfig, Side, CLIENT_ADDR,
    CLIENT_ADDR_AFTER_CHANGE, SERVER_ADDR, SERVER_PORT,
};
pub use real::RealSockets;
pub use settings::{Settings, TransportSettings};
pub use sim::{
    seeded_client_start, CaptureConfig, Captures, RunError, RunOutput, SimConfig, Simulation,
    StopFlag, Ticks,
};
pub use stats::{columns, nanos, RttSample, SegmentArrival, TransportStats};
pub use stream::{TcpListener, TcpStream};
pub use tcp::{Congestion, Pacing, TcpConfig, TcpImplementation};
pub use udp::UdpSocket;
