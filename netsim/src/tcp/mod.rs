//! TCP for the simulated hosts: the stack trait, its two implementations,
//! and the async stream and listener written once against the trait.
//!
//! - [`stack`]: the [`TcpStack`] trait and the types it speaks;
//! - [`linux`]: the lab's TCP modelled on Linux's defaults (the default);
//! - [`smoltcp`]: smoltcp 0.14 behind the trait, an independent cross-check;
//! - [`io`]: [`TcpStream`] and [`TcpListener`] for applications.
pub mod io;
pub mod linux;
pub mod smoltcp;
pub mod stack;

pub use self::io::{TcpListener, TcpStream};
pub use self::smoltcp::SmoltcpStack;
pub use linux::LinuxStack;
pub use stack::{
    Congestion, ConnId, ConnState, ListenerId, RecvOutcome, SendOutcome, TcpConfig, TcpError,
    TcpImplementation, TcpSenderInfo, TcpStack,
};

use std::net::Ipv4Addr;
use std::time::Duration;

/// Build the TCP stack `config` asks for, for a host at `addr`, its random
/// choices seeded with `seed`.
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
