//! The real-time forwarder: the simulation's [`netsim::Network`] (both
//! links, routing, the packet log) driven by the wall clock, moving IPv4
//! packets between the client's and the server's TUN devices.
//!
//! One thread does everything, in a loop:
//! 1. write every packet whose delivery time has come to the receiving
//!    side's TUN device, and note how late it was;
//! 2. read every packet either side has sent, and hand it to
//!    [`netsim::Network::transmit`] at the current time, which decides its
//!    fate exactly as in the simulation (queue, serialization, loss,
//!    delay, jitter);
//! 3. sleep until the next delivery or the next packet, whichever comes
//!    first; the last 50 µs before a delivery are spun, not slept, since a
//!    sleeping thread wakes tens of microseconds late.
//!
//! Time is the wall clock since the forwarder started, as a `Duration`:
//! the same scale as the simulation's time, so the packet log reads the
//! same.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use netsim::{Fate, Network, PacketLog, Side};

use crate::error::EmulatorError;
use crate::sys;

/// Below this much time to the next delivery the forwarder spins instead
/// of sleeping.
const SPIN: Duration = Duration::from_micros(50);
/// The longest sleep, so that a stop request is seen soon.
const MAX_SLEEP: Duration = Duration::from_millis(5);
/// The forwarder's SCHED_FIFO priority: above the endpoints'
/// ([`crate::ENDPOINT_PRIORITY`]), so that a busy endpoint never delays a
/// delivery.
const FORWARDER_PRIORITY: i32 = 10;
/// Packets read from one side before the forwarder turns to the other side
/// and to the deliveries due.
const READ_BATCH: usize = 64;
/// Attempts to write one packet whose device is momentarily full.
const WRITE_ATTEMPTS: u32 = 100;
/// Largest packet read from a TUN device.
const MAX_PACKET: usize = 65_535;

/// A packet on its way, ordered by delivery time, then by entry.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: Duration,
    index: u64,
    to: Side,
    bytes: Vec<u8>,
}

/// What the forwarder saw, handed back when it stops.
#[derive(Debug)]
pub struct Forwarded {
    /// Every packet that entered the emulated network, with its fate, as
    /// the simulation logs it.
    pub log: PacketLog,
    /// How late each delivery was against the time the link model gave it,
    /// by log index; `None` for dropped packets and for those still in
    /// flight when the forwarder stopped.
    pub late: Vec<Option<Duration>>,
    /// Packets read that were not IPv4 TCP, UDP or ICMP (IPv6 neighbour
    /// discovery, for instance), dropped without entering the network.
    pub foreign: u64,
    /// Deliveries the receiving TUN device refused: packets the link model
    /// logged as delivered that never arrived.
    pub write_errors: u64,
    /// Packets each kernel dropped at its own TUN device before the
    /// forwarder read them (the device's `tx_dropped`, client then
    /// server): losses the link model never saw. Filled in by
    /// `Emulator::stop`.
    pub device_drops: (u64, u64),
    /// How long the forwarder ran.
    pub elapsed: Duration,
    /// CPU time the forwarder thread used.
    pub cpu: Duration,
    /// Whether the forwarder ran at a real-time priority (SCHED_FIFO).
    pub realtime: bool,
}

impl Forwarded {
    /// Packets lost outside the link model: refused deliveries and drops
    /// at the devices. A run with any is flagged: the kernel saw losses
    /// the model did not decide.
    pub fn unmodelled_losses(&self) -> u64 {
        self.write_errors + self.device_drops.0 + self.device_drops.1
    }

    /// Percentiles of the delivery lateness.
    pub fn lateness(&self) -> Lateness {
        let mut late: Vec<Duration> = self.late.iter().flatten().copied().collect();
        late.sort();
        Lateness::of_sorted(&late)
    }
}

/// Delivery lateness percentiles (nearest rank), over delivered packets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lateness {
    /// Deliveries measured.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile.
    pub p999: Duration,
    /// The latest delivery.
    pub max: Duration,
}

impl Lateness {
    fn of_sorted(sorted: &[Duration]) -> Lateness {
        let rank = |q: f64| -> Duration {
            if sorted.is_empty() {
                return Duration::ZERO;
            }
            let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
            sorted[i]
        };
        Lateness {
            count: sorted.len(),
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            p999: rank(0.999),
            max: sorted.last().copied().unwrap_or_default(),
        }
    }
}

/// A running forwarder; [`Forwarder::stop`] ends it and returns what it
/// saw.
#[derive(Debug)]
pub struct Forwarder {
    start: Instant,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<Forwarded, EmulatorError>>>,
}

impl Forwarder {
    /// Start forwarding between `client` and `server` (TUN descriptors)
    /// through `network`.
    pub(crate) fn start(
        network: Network,
        client: OwnedFd,
        server: OwnedFd,
    ) -> Result<Forwarder, EmulatorError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let start = wall_clock();
        let thread = std::thread::Builder::new()
            .name("emulator".into())
            .spawn(move || forward(network, client, server, start, &flag))
            .map_err(|source| EmulatorError::Io {
                what: "starting the forwarder thread".into(),
                error: source,
            })?;
        Ok(Forwarder {
            start,
            stop,
            thread: Some(thread),
        })
    }

    /// When the forwarder started: the origin of its packet log's times.
    pub fn started(&self) -> Instant {
        self.start
    }

    /// Time since the forwarder started: the clock of its packet log.
    pub fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// Stop forwarding (packets still in flight are never delivered) and
    /// return what the forwarder saw.
    pub fn stop(mut self) -> Result<Forwarded, EmulatorError> {
        self.stop.store(true, Ordering::SeqCst);
        let thread = self.thread.take().expect("stopped only once");
        thread.join().map_err(|_| EmulatorError::Panicked {
            what: "the forwarder".into(),
        })?
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The wall clock, which is what the emulator is for.
#[allow(clippy::disallowed_methods)] // real time by design: see the module doc
pub(crate) fn wall_clock() -> Instant {
    Instant::now()
}

/// Write one packet into a TUN device, retrying while the device is
/// momentarily full or a signal interrupts; false if it refused.
fn write_packet(fd: &OwnedFd, bytes: &[u8]) -> bool {
    for _ in 0..WRITE_ATTEMPTS {
        match sys::write(fd, bytes) {
            Ok(_) => return true,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                ) =>
            {
                std::thread::yield_now();
            }
            Err(_) => return false,
        }
    }
    false
}

fn forward(
    mut network: Network,
    client: OwnedFd,
    server: OwnedFd,
    start: Instant,
    stop: &AtomicBool,
) -> Result<Forwarded, EmulatorError> {
    sys::sharpen_timers();
    // Best effort: without it the forwarder still runs, only later when
    // the machine is busy, which its lateness figures then show.
    let realtime = sys::realtime_priority(FORWARDER_PRIORITY);
    let cpu_start = sys::thread_cpu();
    let mut in_flight: BinaryHeap<Reverse<InFlight>> = BinaryHeap::new();
    let mut late: Vec<Option<Duration>> = Vec::new();
    let mut foreign = 0u64;
    let mut write_errors = 0u64;
    let mut buf = vec![0u8; MAX_PACKET];
    let fd_of = |side: Side| match side {
        Side::Client => &client,
        Side::Server => &server,
    };
    while !stop.load(Ordering::Relaxed) {
        // 1. Deliveries that are due.
        loop {
            let now = start.elapsed();
            match in_flight.peek() {
                Some(Reverse(next)) if next.at <= now => {}
                _ => break,
            }
            let Reverse(packet) = in_flight.pop().expect("peeked");
            let now = start.elapsed();
            if write_packet(fd_of(packet.to), &packet.bytes) {
                late[packet.index as usize] = Some(now.saturating_sub(packet.at));
            } else {
                write_errors += 1;
            }
        }
        // 2. Packets sent: at most READ_BATCH per side per turn, so that a
        // burst from one side neither starves the other nor delays the
        // deliveries that come due meanwhile.
        for side in [Side::Client, Side::Server] {
            for _ in 0..READ_BATCH {
                let n = match sys::read(fd_of(side), &mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(source) => {
                        return Err(EmulatorError::Io {
                            what: format!("reading the {} TUN device", side.label()),
                            error: source,
                        })
                    }
                };
                let bytes = &buf[..n];
                let Ok(summary) = netsim::packet::parse(bytes) else {
                    foreign += 1;
                    continue;
                };
                let now = start.elapsed();
                let index = network.log_len() as u64;
                let (fate, to) = network.transmit(now, side, &summary);
                late.push(None);
                if let (Fate::Delivered { at }, Some(to)) = (fate, to) {
                    in_flight.push(Reverse(InFlight {
                        at,
                        index,
                        to,
                        bytes: bytes.to_vec(),
                    }));
                }
            }
        }
        // 3. Wait.
        let now = start.elapsed();
        let until_next = in_flight
            .peek()
            .map_or(MAX_SLEEP, |Reverse(p)| p.at.saturating_sub(now))
            .min(MAX_SLEEP);
        let sleep = until_next.saturating_sub(SPIN);
        if !sleep.is_zero() {
            sys::wait_readable(&[&client, &server], sleep).map_err(|source| EmulatorError::Io {
                what: "waiting on the TUN devices".into(),
                error: source,
            })?;
        }
    }
    let elapsed = start.elapsed();
    Ok(Forwarded {
        log: network.take_log(),
        late,
        foreign,
        write_errors,
        elapsed,
        cpu: sys::thread_cpu().saturating_sub(cpu_start),
        realtime,
        device_drops: (0, 0),
    })
}
