//! emulator: httplab's link model in real time, between two network
//! namespaces joined by TUN devices, so that the real kernel's TCP, quinn
//! on real UDP, and any program (curl, a browser) run under exactly the
//! conditions the simulation models. Mahimahi's shells are the model; no
//! tc and no netem are involved.
//!
//! Map of the crate:
//! - `lab`: [`Emulator`] (the two namespaces, their devices, kernel
//!   settings, the forwarder) and [`EmulatorConfig`];
//! - `forward`: the forwarder thread: `netsim::Network` driven by the wall
//!   clock, and what it saw ([`Forwarded`], [`Lateness`]);
//! - `netns`: named network namespaces ([`Namespace`]) and the
//!   [`preflight`] check;
//! - `check`: measurements through the emulated link (ICMP echo, UDP
//!   floods) that validate it;
//! - `error`: [`EmulatorError`];
//! - `sys`: the system calls, the crate's only `unsafe` code.
//!
//! Needs Linux, root (or CAP_NET_ADMIN), `/dev/net/tun` and `ip` from
//! iproute2; [`preflight`] says which is missing.
//!
//! Unlike the rest of the lab this crate reads the wall clock: real time
//! is what it is for. Its results are measurements, not deterministic.

mod check;
mod error;
mod forward;
mod lab;
mod netns;
mod sys;

pub use check::{flood, ping, FloodResult};
pub use error::EmulatorError;
pub use forward::{Forwarded, Lateness};
pub use lab::{
    catch_interrupts, check_congestion, default_prefix, interrupted, run_at_realtime_priority,
    terminate, Emulator, EmulatorConfig, KernelSettings, DEVICE, ENDPOINT_PRIORITY, HOST_SYSCTLS,
    LATENESS_BOUND, RECORDED_SYSCTLS,
};
pub use netns::{check_name, preflight, Namespace};
