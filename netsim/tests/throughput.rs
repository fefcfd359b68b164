//! Throughput at 0 % loss: a 10 MB download on a 10 Mbit/s bottleneck.
//!
//! - #2: at 40 ms RTT, TCP (the default, Linux-like stack) and QUIC each
//!   reach at least 90 % of the bottleneck rate.
//! - #7: at 50 ms RTT, the Linux-like TCP reaches at least 95 %.
//! - smoltcp, kept as a cross-check, does not: its slow-start overshoot fills
//!   the one-BDP queue, and with one-segment fast retransmit and a 1 s
//!   minimum RTO each overflow costs about a second. Its figure is pinned so
//!   a change in the simulator shows.

use std::time::Duration;

use netsim::probe::{self, Transport};
use netsim::TcpImplementation;
use netsim::{LossModel, NetworkConfig, SimConfig, TcpConfig};

const SIZE: u64 = 10_000_000;
const RATE: u64 = 10_000_000;

/// Goodput from the first request byte to the last response byte, as a
/// fraction of the bottleneck rate.
fn utilisation(transport: Transport, rtt_ms: u64, tcp: TcpImplementation) -> f64 {
    let config = SimConfig {
        network: NetworkConfig::symmetric(Duration::from_millis(rtt_ms), RATE, LossModel::None),
        tcp: TcpConfig {
            implementation: tcp,
            ..TcpConfig::default()
        },
        time_limit: Duration::from_secs(60),
        ..SimConfig::default()
    };
    let out = probe::download(config, transport, vec![SIZE]);
    let r = out.outcome.expect("download completes");
    let secs = (r.done - r.secured).as_secs_f64();
    let frac = SIZE as f64 * 8.0 / secs / RATE as f64;
    eprintln!(
        "{transport:?} ({}) at {rtt_ms} ms: {SIZE} bytes in {secs:.3} s = {:.1} % of the bottleneck",
        tcp.label(),
        frac * 100.0
    );
    frac
}

#[test]
fn quic_reaches_90_percent_at_40ms() {
    let u = utilisation(Transport::Quic, 40, TcpImplementation::Linux);
    assert!(u >= 0.90, "QUIC reached {:.1} %", u * 100.0);
}

#[test]
fn tcp_reaches_90_percent_at_40ms() {
    let u = utilisation(Transport::Tcp, 40, TcpImplementation::Linux);
    assert!(u >= 0.90, "TCP reached {:.1} %", u * 100.0);
}

#[test]
fn tcp_reaches_95_percent_at_50ms() {
    let u = utilisation(Transport::Tcp, 50, TcpImplementation::Linux);
    // IP, TCP and timestamp headers cap goodput at 1448/1500 = 96.5 %.
    assert!(u <= 0.966, "goodput above the header bound: {u}");
    assert!(u >= 0.95, "TCP reached {:.1} %", u * 100.0);
}

#[test]
fn smoltcp_throughput_is_pinned() {
    let u = utilisation(Transport::Tcp, 40, TcpImplementation::Smoltcp);
    // IP + TCP headers alone cap goodput at 1460/1500 = 97.3 %.
    assert!(u < 0.974, "goodput above the header bound: {u}");
    assert!(u >= 0.55, "smoltcp TCP fell to {:.1} %", u * 100.0);
}
