//! netsim: a deterministic simulated network that carries real TCP and real
//! QUIC, for httplab.
//!
//! Map of the crate:
//! - [`sim`]: one run: configuration, the turmoil simulation, its output;
//! - [`network`]: the dumbbell network, addresses, path change, per-flow
//!   counters;
//! - [`link`]: the link model of one direction (delay, jitter, bandwidth,
//!   drop-tail queue, MTU, loss models, targeted drops, blackouts);
//! - [`log`]: the per-run packet log and its digest;
//! - [`host`]: a simulated host and the driver that moves its packets;
//! - [`stream`]: TCP's async face: [`TcpStream`] and [`TcpListener`] over
//!   the sans-IO stacks of the `tcp` crate;
//! - [`udp`]: simulated UDP sockets and quinn's `AsyncUdpSocket`;
//! - [`quic`]: quinn endpoints on the simulated network;
//! - [`flow`]: [`FlowControl`], the flow-control room HTTP/2 and QUIC both
//!   get, and its QUIC config;
//! - [`tls`]: the lab's fixed TLS identity and rustls configs;
//! - [`capture`]: pcap, TLS key-log and qlog capture;
//! - [`stats`]: per-connection transport statistics;
//! - [`accepted`]: the connections a host accepted, whose statistics a run
//!   reads at its end;
//! - [`settings`]: the TCP, QUIC and TLS settings a run used, as text for
//!   reports;
//! - [`probe`]: raw transport downloads that validate the network;
//! - [`packet`]: IPv4/TCP/UDP parsing and framing;
//! - [`seed`]: deriving every RNG seed from the run seed.
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

pub mod accepted;
pub mod capture;
mod clock;
mod flow;
pub mod host;
pub mod link;
pub mod log;
pub mod network;
pub mod packet;
pub mod probe;
pub mod quic;
pub mod seed;
pub mod settings;
pub mod sim;
pub mod stats;
pub mod stream;
pub mod tls;
pub mod udp;
mod wire;

pub use accepted::AcceptedConnection;
pub use clock::{now, TICK};
pub use flow::FlowControl;
pub use host::Host;
pub use link::{
    Blackout, ConfigError, Direction, DropReason, Fate, Jitter, LinkConfig, LossModel, QueueLimit,
    TargetedDrop,
};
pub use network::{NetworkConfig, PathChange, PathConfig, Side};
pub use settings::{Settings, TransportSettings};
pub use sim::{CaptureConfig, RunError, RunOutput, SimConfig, Simulation};
pub use stats::{SegmentArrival, TransportStats};
pub use stream::{TcpListener, TcpStream};
pub use tcp::{Congestion, TcpConfig, TcpImplementation};
pub use udp::UdpSocket;
