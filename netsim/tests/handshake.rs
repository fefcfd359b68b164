//! Handshake timing: TCP connect in 1 RTT, TLS 1.3 over TCP in 2 RTT, QUIC
//! in 1 RTT, each within one tick plus serialization time.

use std::time::Duration;

use netsim::probe::{self, Transport};
use netsim::TICK;
use netsim::{LossModel, NetworkConfig, SimConfig};

const RTT: Duration = Duration::from_millis(50);
const RATE: u64 = 10_000_000;

/// Returns (transport ready, secure channel ready, serialization time of
/// every packet up to then).
fn handshake(transport: Transport) -> (Duration, Duration, Duration) {
    let config = SimConfig {
        network: NetworkConfig::symmetric(RTT, RATE, LossModel::None),
        ..SimConfig::default()
    };
    let out = probe::download(config, transport, vec![1000]);
    let r = out.outcome.expect("probe completes");
    let handshake_bytes: u64 = out
        .packet_log
        .records()
        .iter()
        .filter(|p| p.sent <= r.secured)
        .map(|p| u64::from(p.len))
        .sum();
    let serialization = Duration::from_nanos(handshake_bytes * 8 * 1_000_000_000 / RATE);
    eprintln!(
        "{transport:?}: connected {:?}, secured {:?}, serialization {serialization:?}",
        r.connected - r.start,
        r.secured - r.start
    );
    (r.connected - r.start, r.secured - r.start, serialization)
}

/// `measured` is `rtts` round trips, to within one tick (deliveries are
/// rounded to the nearest tick) plus the serialization time.
fn assert_within(measured: Duration, rtts: u32, serialization: Duration, transport: Transport) {
    let ideal = RTT * rtts;
    assert!(
        measured + TICK >= ideal && measured <= ideal + TICK + serialization,
        "{transport:?}: {measured:?}, expected {ideal:?} + at most {TICK:?} + {serialization:?}"
    );
}

#[test]
fn tcp_connect_takes_one_rtt() {
    let (connected, _, ser) = handshake(Transport::Tcp);
    assert_within(connected, 1, ser, Transport::Tcp);
}

#[test]
fn tls_over_tcp_takes_two_rtt() {
    let (connected, secured, ser) = handshake(Transport::TlsTcp);
    assert_within(connected, 1, ser, Transport::TlsTcp);
    assert_within(secured, 2, ser, Transport::TlsTcp);
}

#[test]
fn quic_handshake_takes_one_rtt() {
    let (_, secured, ser) = handshake(Transport::Quic);
    assert_within(secured, 1, ser, Transport::Quic);
}
