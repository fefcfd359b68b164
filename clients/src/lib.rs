//! clients: HTTP/1.1, HTTP/2 and HTTP/3 clients that carry out a workload
//! and measure it, request by request and connection by connection.
//!
//! Map of the crate:
//! - [`config`]: [`ClientConfig`] (the protocol and handshake, both
//!   `scenarios`' names, pool size, content seed, flow control, time
//!   limit), validated once, and [`WARMUP_PAUSE`];
//! - [`record`]: what a run measured: [`RequestRecord`] (with its
//!   [`Resumption`]s after a path change), [`ConnectionRecord`],
//!   [`RunRecord`] (with its [`MigrationRecord`] and, for a page loaded as a
//!   browser does, its [`PageTimes`]), and the [`Warmup`] of a run that
//!   resumes a session;
//! - [`page_times`]: the times a person waits for on a page loaded as a
//!   browser does ([`PageTimes`]: first render, DOMContentLoaded, onload,
//!   visual completion, per-kind completions), from the records alone;
//! - [`hol`]: the head-of-line blocking metric ([`HolBlockedTime`]) the
//!   records carry, computed from the streams' timelines and the
//!   transport's record of held data;
//! - [`hol_cost`]: the head-of-line cost ([`hol_cost::HolCost`]): per byte,
//!   the delay that holes in other streams' data added (computed; not yet
//!   in the records);
//! - [`stream_map`]: which HTTP/2 stream each TCP byte of a connection
//!   carries, read off the TLS records and HTTP/2 frames the client
//!   receives, for [`hol_cost`];
//! - `runner`: [`run`], the one workload runner: the warm-up, if any, then
//!   phases in order, requests as their concurrency allows, through the
//!   protocol's carrier, and the migration figures when the network
//!   changes;
//! - `browse`: a page loaded as a browser does: objects requested as the
//!   HTML parser, stylesheets and scripts discover them, per origin;
//! - [`route`]: which connection carries a page's request, and the race of
//!   HTTP/3 against HTTP/2 ([`RaceRecord`]) when a browser reaches HTTP/3
//!   by racing or by `alt-svc`;
//! - `h1`: the HTTP/1.1 carrier, a browser-like pool of keep-alive
//!   connections, replaced and resumed with `Range` after a path change;
//! - `mux`: the HTTP/2 and HTTP/3 carrier, one connection with every
//!   request a stream (HTTP/2: replaced and resumed after a path change;
//!   HTTP/3: migrated);
//! - `ledger`: the run's clock and records as they fill in, and body
//!   verification against the content model;
//! - `dial`: the boundary to the transports (TCP, TLS, QUIC) and the OS's
//!   view of the network, and its adapter for the simulated network; early
//!   data and 0-RTT;
//! - `real`: the adapter for the machine's own sockets: [`RealTarget`]
//!   (with its fallback addresses, [`QUIC_FALLBACK_AFTER`]), [`Trust`] and
//!   [`run_real`], the same runner outside the simulation.
//!
//! A client carries out a `scenarios::Plan`; it never defines one. Every
//! time is read from tokio's clock, which inside a netsim host is simulated
//! time (and on real sockets real time), never from `std::time`.
//!
//! ```no_run
//! # async fn doc(host: netsim::Host) {
//! use clients::ClientConfig;
//! use scenarios::Protocol;
//! let plan = scenarios::Workload::default().plan();
//! let config = ClientConfig::for_host(Protocol::H3, &host);
//! let record = clients::run(&host, &config, &plan).await;
//! assert!(record.succeeded(), "{:?}", record.failure);
//! # }
//! ```

mod browse;
mod carrier;
pub mod config;
mod dial;
mod error;
mod h1;
pub mod hol;
pub mod hol_cost;
mod ledger;
mod mux;
pub mod page_times;
mod real;
pub mod record;
pub mod route;
mod runner;
pub mod stream_map;

pub use config::{ClientConfig, ConfigError, WARMUP_PAUSE};
pub use hol::HolBlockedTime;
pub use real::{run_real, RealTarget, Trust, QUIC_FALLBACK_AFTER};
pub use record::{
    ConnectionRecord, KindTimes, MigrationRecord, PageTimes, RequestRecord, Resumption, RunRecord,
    Warmup,
};
pub use route::RaceRecord;
pub use runner::run;
