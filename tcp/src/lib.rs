//! tcp: the lab's TCP, sans-IO. What `quinn-proto` is to `quinn`, this crate
//! is to `netsim`: protocol logic with no I/O, no runtime and no clock. A
//! stack is fed IPv4 packets and the current time by its caller, and hands
//! back the packets to send and the time it next needs to be polled; the
//! dependency graph proves it (no tokio, turmoil, quinn, rustls or hyper
//! below this crate).
//!
//! Map of the crate:
//! - `stack`: the [`TcpStack`] trait (its call order is documented on it)
//!   and the types it speaks: [`ConnId`], [`ListenerId`], [`ConnState`],
//!   [`RecvOutcome`], [`SendOutcome`], [`TcpError`], [`TcpSenderInfo`], and
//!   the configuration every implementation takes, [`TcpConfig`] (checked
//!   by [`TcpConfig::validate`], [`InvalidTcpConfig`]), its named
//!   choices [`Congestion`], [`Pacing`] and [`TcpImplementation`] (each
//!   with a label, `ALL`, `FromStr` and its error [`UnknownCongestion`],
//!   [`UnknownPacing`], [`UnknownImplementation`]), and the bounds
//!   [`MIN_MTU`], [`MAX_MTU`], [`DEFAULT_MTU`], [`DEFAULT_INITIAL_WINDOW`],
//!   [`MAX_INITIAL_WINDOW`];
//! - `linux`: [`LinuxStack`], the lab's TCP modelled on Linux's defaults
//!   (IW10, RFC 6298 RTO with a 200 ms floor, SACK, RACK-TLP, PRR, CUBIC
//!   as Linux's `tcp_cubic.c` with HyStart), the default; also NewReno,
//!   BBR v1 as Linux's `tcp_bbr.c` on `tcp_rate.c` delivery-rate samples,
//!   and pacing as Linux with the fq qdisc (EDT). [`Bbr`] (with
//!   [`RateSample`], [`CaState`], [`BbrMode`]) is public too, so that a
//!   sender of its own (netsim's QUIC controller) can run the same BBR;
//! - `smoltcp`: [`SmoltcpStack`], smoltcp 0.14 behind the trait, an
//!   independent cross-check;
//! - `arrival`: [`SegmentArrival`], the receiver's record of when each data
//!   segment arrived and when its bytes became readable;
//! - `parameter`: [`Parameter`] and [`Value`], a stack's key settings as
//!   data, which the caller turns into report text;
//! - [`nanos`]: the lab's serialization of durations (whole nanoseconds in
//!   `_ns` fields), used by every record.
//! - [`columns`]: the lab's compact encoding of long series in records
//!   (a time unit and delta-encoded columns), with the segment arrivals'
//!   serde, [`columns::arrivals`].
//!
//! [`build_stack`] makes the implementation a [`TcpConfig`] names.

mod arrival;
pub mod columns;
mod linux;
pub mod nanos;
mod parameter;
mod smoltcp;
mod stack;

pub use arrival::SegmentArrival;
pub use linux::{Bbr, BbrMode, CaState, LinuxStack, RateSample};
pub use parameter::{Parameter, Value};
pub use smoltcp::SmoltcpStack;
pub use stack::{
    Congestion, ConnId, ConnState, InvalidTcpConfig, ListenerId, Pacing, RecvOutcome, SendOutcome,
    TcpConfig, TcpError, TcpImplementation, TcpSenderInfo, TcpStack, UnknownCongestion,
    UnknownImplementation, UnknownPacing, DEFAULT_INITIAL_WINDOW, DEFAULT_MTU, MAX_INITIAL_WINDOW,
    MAX_MTU, MIN_MTU, SMOLTCP_MAX_BUFFER,
};

use std::net::Ipv4Addr;
use std::time::Duration;

/// Build the TCP stack `config` asks for, for a host at `addr`, its random
/// choices (initial sequence numbers, ports) seeded with `seed`; `now` is
/// the current time of the caller's clock.
pub fn build_stack(
    config: &TcpConfig,
    addr: Ipv4Addr,
    seed: u64,
    now: Duration,
) -> Box<dyn TcpStack> {
    match config.implementation {
        TcpImplementation::Linux => Box::new(LinuxStack::new(seed, config)),
        TcpImplementation::Smoltcp => Box::new(SmoltcpStack::new(addr, seed, config.clone(), now)),
    }
}
