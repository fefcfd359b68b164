//! servers: the lab's one content model served over HTTP/1.1, HTTP/2 and
//! HTTP/3, inside the simulated network or on real sockets.
//!
//! Map of the crate:
//! - [`plan`]: [`plan_response`], the pure decision from method, path and
//!   `Range` to status, headers and bytes;
//! - [`content`]: [`ContentServer`], the request handler every protocol
//!   shares, its streamed [`ResponseBody`] and the test-only [`Fault`];
//! - [`tcp`]: HTTP/1.1 and HTTP/2 over TLS over TCP (hyper), chosen by ALPN;
//! - [`records`]: dynamic TLS record sizing (small records on a cold
//!   connection), as production servers do;
//! - [`early_data`]: a TLS server stream that reads early data and answers
//!   it with 0.5-RTT data (for runs that measure resumption);
//! - [`quic`]: HTTP/3 over QUIC (h3 on quinn);
//! - [`schedule`]: the order responses leave a connection in, by
//!   `scenarios::Scheduler`: HTTP/2's turns ([`schedule::Turns`]) and
//!   HTTP/3's quinn stream priorities ([`schedule::Rank`]);
//! - [`prioritized`]: the h3 transport over quinn whose request streams take
//!   a send priority, for HTTP/3 under a scheduler;
//! - [`sim`]: [`run_simulated`] and [`run_simulated_with`], what a
//!   simulation's server host runs;
//! - [`real`]: [`serve_real`] and [`RealServer`], the same servers on the
//!   machine's sockets;
//! - [`limits`]: [`Limits`], what a client can make a server on real sockets
//!   hold and for how long (timeouts, connection and stream caps, memory);
//! - `budget` (private): the send budget that bounds the response bytes a
//!   real-socket connection, and the server, hold;
//! - `watchdog` (private): when a real-socket connection last made progress,
//!   and the idle and stall timeout that acts on it;
//! - [`error`]: why serving stopped, [`ServerError`].
//!
//! Servers carry out requests; they never define a workload. Nothing here
//! reads the wall clock: hyper's `Date` header is off, so every response's
//! bytes depend only on the request and the seed.
mod budget;
pub mod content;
pub mod early_data;
pub mod error;
pub mod limits;
pub mod plan;
pub mod prioritized;
pub mod quic;
pub mod real;
pub mod records;
pub mod schedule;
pub mod sim;
pub mod tcp;
mod watchdog;

pub use content::{ContentServer, Fault, ResponseBody, ALT_SVC_H3};
pub use error::ServerError;
pub use limits::Limits;
pub use plan::{plan_response, PlannedBody, ResponsePlan};
pub use quic::{
    serve_h3, serve_h3_accepting, serve_h3_connection, serve_h3_scheduled, serve_h3_with,
};
pub use real::{serve_real, serve_real_with, Protocols, RealServer};
pub use schedule::http_settings;
pub use sim::{run_simulated, run_simulated_with};
pub use tcp::{serve_h1_h2, serve_tcp};
