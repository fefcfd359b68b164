//! The emulator checked against its configuration, with the figures
//! printed (docs/calibration.md quotes them):
//!
//! - ping RTT against the configured RTT plus serialization;
//! - a UDP flood above the bottleneck: the receive rate against the
//!   bottleneck's;
//! - Bernoulli loss: the measured loss against the configured, with its
//!   sampling error;
//! - the queue limit: the longest queueing delay against the queue's
//!   length;
//! - delivery lateness percentiles and the forwarder's CPU at 10 and
//!   100 Mbit/s.
//!
//! `cargo bench -p emulator --bench validate` runs it in full (about a
//! minute); as a test (`cargo test --benches`) it runs each check briefly.
//! It needs root, /dev/net/tun and iproute2, and says so and skips
//! without them.

// A bench prints its figures: that is its output.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use emulator::{Emulator, EmulatorConfig, Forwarded};
use netsim::{DropReason, Fate, LossModel, NetworkConfig, QueueLimit};

/// Full length with `--bench`, short otherwise.
fn full() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn start(network: NetworkConfig, name: &str) -> Emulator {
    let config = EmulatorConfig {
        prefix: format!("htl-bench-{name}-{}", std::process::id()),
        ..EmulatorConfig::new(network, 1)
    };
    Emulator::start(config).expect("the emulator starts")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn lateness_line(label: &str, f: &Forwarded) {
    let l = f.lateness();
    println!(
        "{label}: {} deliveries, lateness p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs; \
         forwarder CPU {:.1} ms over {:.2} s ({:.1} % of a core), real-time priority {}",
        l.count,
        l.p50.as_secs_f64() * 1e6,
        l.p90.as_secs_f64() * 1e6,
        l.p99.as_secs_f64() * 1e6,
        l.p999.as_secs_f64() * 1e6,
        l.max.as_secs_f64() * 1e6,
        ms(f.cpu),
        f.elapsed.as_secs_f64(),
        100.0 * f.cpu.as_secs_f64() / f.elapsed.as_secs_f64(),
        f.realtime
    );
}

fn ping_check() {
    let emu = start(NetworkConfig::default(), "ping");
    let count = if full() { 50 } else { 5 };
    for payload in [56usize, 1372] {
        let rtts = emulator::ping(&emu, count, payload, Duration::from_millis(100)).expect("ping");
        let ip = payload + 8 + 20;
        let expected = Duration::from_millis(50) + 2 * Duration::from_nanos(ip as u64 * 800);
        let mut sorted = rtts.clone();
        sorted.sort();
        let median = sorted[sorted.len() / 2];
        let worst = sorted
            .iter()
            .map(|r| (ms(*r) - ms(expected)).abs())
            .fold(0.0, f64::max);
        println!(
            "ping {ip}-byte packets: {} of {count} replies, median RTT {:.3} ms, expected {:.3} ms \
             (50 ms + 2 × serialization), median error {:+.3} ms, worst {:.3} ms",
            rtts.len(),
            ms(median),
            ms(expected),
            ms(median) - ms(expected),
            worst
        );
    }
    emu.stop().expect("stops");
}

fn rate_check() {
    let network = NetworkConfig::default();
    let emu = start(network, "rate");
    let secs = if full() { 5 } else { 1 };
    let r = emulator::flood(&emu, 15_000_000, 1500, Duration::from_secs(secs)).expect("flood");
    let f = emu.stop().expect("stops");
    println!(
        "flood at 15 Mbit/s into a 10 Mbit/s bottleneck for {secs} s: received {:.4} Mbit/s ({:+.2} % of 10), \
         {} of {} datagrams, {} dropped at the full queue",
        r.rate_bps / 1e6,
        100.0 * (r.rate_bps / 10e6 - 1.0),
        r.received,
        r.sent,
        f.log
            .records()
            .iter()
            .filter(|p| p.fate == Fate::Dropped(DropReason::QueueFull))
            .count()
    );
    // The queue limit: the longest wait of a delivered packet, less the
    // propagation delay, in packet serialization times.
    let serialization = Duration::from_nanos(1500 * 800);
    let limit = match network_queue() {
        QueueLimit::Packets(n) => n,
        other => panic!("the default queue counts packets, not {other:?}"),
    };
    let longest = f
        .log
        .records()
        .iter()
        .filter(|p| p.len == 1500)
        .filter_map(|p| match p.fate {
            Fate::Delivered { at } => Some(at - p.sent - Duration::from_millis(25)),
            Fate::Dropped(_) => None,
        })
        .max()
        .unwrap_or_default();
    println!(
        "queue limit {limit} packets: longest time a delivered packet spent queued and serialized {:.3} ms \
         = {:.2} serialization times (at most {limit})",
        ms(longest),
        longest.as_secs_f64() / serialization.as_secs_f64()
    );
    lateness_line("lateness at 10 Mbit/s, flooded", &f);
}

fn network_queue() -> QueueLimit {
    NetworkConfig::default().path.down.queue
}

fn loss_check() {
    for rate in [0.01, 0.05] {
        let network = NetworkConfig::symmetric(
            Duration::from_millis(10),
            10_000_000,
            LossModel::Bernoulli { rate },
        );
        let emu = start(network, "loss");
        let secs = if full() { 8 } else { 1 };
        // Half the bottleneck, so the queue never drops.
        let r = emulator::flood(&emu, 5_000_000, 1000, Duration::from_secs(secs)).expect("flood");
        emu.stop().expect("stops");
        let n = r.sent as f64;
        let sigma = (rate * (1.0 - rate) / n).sqrt();
        println!(
            "Bernoulli loss {:.1} %: {} datagrams, measured {:.3} %, standard error {:.3} %, \
             {:+.2} standard errors off",
            rate * 100.0,
            r.sent,
            r.loss() * 100.0,
            sigma * 100.0,
            (r.loss() - rate) / sigma
        );
    }
}

fn fast_link_check() {
    let network = NetworkConfig::symmetric(Duration::from_millis(50), 100_000_000, LossModel::None);
    let emu = start(network, "fast");
    let secs = if full() { 5 } else { 1 };
    let r = emulator::flood(&emu, 100_000_000, 1500, Duration::from_secs(secs)).expect("flood");
    let f = emu.stop().expect("stops");
    println!(
        "flood at 100 Mbit/s over a 100 Mbit/s bottleneck for {secs} s: received {:.2} Mbit/s, {} of {} datagrams",
        r.rate_bps / 1e6,
        r.received,
        r.sent
    );
    lateness_line("lateness at 100 Mbit/s", &f);
}

fn main() {
    if let Err(e) = emulator::preflight() {
        println!("emulator validation skipped: {e}");
        return;
    }
    ping_check();
    rate_check();
    loss_check();
    fast_link_check();
}
