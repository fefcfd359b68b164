//! A TCP modelled on Linux's defaults, sans-IO.
//!
//! - [`segment`]: TCP segments with options, to and from IPv4 packets;
//! - [`rtt`]: the RTT estimator and retransmission timeout (RFC 6298, with
//!   Linux's 200 ms minimum);
//! - [`cc`]: congestion control: CUBIC as Linux's `tcp_cubic.c` (the
//!   default), CUBIC per RFC 9438 with HyStart++ (RFC 9406), and NewReno;
//! - [`bbr`]: TCP BBR v1 as Linux's `tcp_bbr.c`, which sets cwnd and the
//!   pacing rate from delivery-rate samples;
//! - [`scoreboard`]: the segments in flight with running counts of what
//!   is SACKed, lost and in flight;
//! - [`recv`]: the receive side: reassembly, SACK blocks, delayed ACKs,
//!   the receive window;
//! - [`send`]: the send side: scoreboard, SACK, RACK-TLP, PRR, RTO, zero
//!   window probes, delivery-rate sampling (Linux's `tcp_rate.c`) and
//!   pacing (EDT, as Linux with fq);
//! - [`conn`]: one connection's state machine and handshake;
//! - [`stack`]: [`LinuxStack`], the connections of one host behind the
//!   `TcpStack` trait.
mod bbr;
mod cc;
mod conn;
mod recv;
mod rtt;
mod scoreboard;
mod segment;
mod send;
mod stack;
#[cfg(test)]
mod tests;

pub use bbr::{Bbr, BbrMode};
pub use cc::{CaState, RateSample};
pub use stack::LinuxStack;
