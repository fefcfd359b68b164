//! Time to first byte of the first request, from the run's start (the
//! first connection attempt) without loss: HTTP/1.1 and HTTP/2 take 3 round
//! trips (TCP, TLS 1.3, the request), HTTP/3 takes 2 (QUIC with TLS 1.3
//! inside, the request), each to within one tick (deliveries are rounded to
//! the nearest 1 ms tick) plus the serialization time of the packets that
//! were on the way.
//!
//! Over TCP this holds only because the server starts each connection with
//! TLS records that fit in one segment (`servers::records`): with rustls's
//! default 16 KiB records the head would share its record with the start of
//! the body, that record would need 12 segments, more than the initial
//! window of 10, and the client could decrypt nothing until the second
//! flight: 4 round trips.

mod harness;

use std::time::Duration;

use harness::{Outcome, ServerSetup};
use netsim::Direction;
use netsim::TICK;
use scenarios::Protocol;

fn page(protocol: Protocol, setup: ServerSetup) -> Outcome {
    harness::run(
        protocol,
        harness::network(0.0),
        1,
        &harness::flat_page(),
        setup,
    )
}

/// Serialization time of every packet that could have delayed a first
/// byte at `first_byte` (since the simulation started): client packets
/// sent at least one RTT earlier, server packets at least half an RTT
/// earlier.
fn serialization_before(out: &Outcome, first_byte: Duration) -> Duration {
    let bytes: u64 = out
        .packet_log
        .records()
        .iter()
        .filter(|p| match p.direction {
            Direction::Up => p.sent + harness::RTT <= first_byte,
            Direction::Down => p.sent + harness::RTT / 2 <= first_byte,
        })
        .map(|p| u64::from(p.len))
        .sum();
    Duration::from_nanos(bytes * 8 * 1_000_000_000 / harness::RATE)
}

/// Assert that the first request's TTFB is `rtts` round trips, to within
/// a tick plus serialization; returns it.
fn assert_first_byte_after(protocol: Protocol, setup: ServerSetup, rtts: u32) -> Duration {
    let out = page(protocol, setup);
    let first = &out.record.requests[0];
    let connection = &out.record.connections[0];
    assert_eq!(
        connection.started,
        Duration::ZERO,
        "the run starts with a connection attempt"
    );
    let ttfb = first.first_byte.expect("the first response arrived");
    let serialization = serialization_before(&out, out.run_started + ttfb);
    let ideal = harness::RTT * rtts;
    eprintln!(
        "{protocol}: tcp {:?}, handshake {:?}, request sent {:?}, first byte {ttfb:?}, \
         serialization allowance {serialization:?}",
        connection.tcp_connected, connection.handshake_done, first.request_sent
    );
    assert!(
        ttfb + TICK >= ideal && ttfb <= ideal + TICK + serialization,
        "{protocol}: first byte at {ttfb:?}, expected {ideal:?} + at most {TICK:?} + \
         {serialization:?}"
    );
    ttfb
}

#[test]
fn h1_first_byte_after_three_round_trips() {
    assert_first_byte_after(Protocol::H1, ServerSetup::default(), 3);
}

#[test]
fn h2_first_byte_after_three_round_trips() {
    assert_first_byte_after(Protocol::H2, ServerSetup::default(), 3);
}

#[test]
fn h3_first_byte_after_two_round_trips() {
    assert_first_byte_after(Protocol::H3, ServerSetup::default(), 2);
}
