//! The `migration` scenario, as shipped: a 10 MB download over the `wifi`
//! preset that moves to the `lte` preset (and a new address) at 1 s.
//!
//! - HTTP/3 keeps its one QUIC connection: it rebinds to the new address,
//!   the server validates the path, and the body keeps coming on the same
//!   connection, with no second handshake.
//! - HTTP/1.1 and HTTP/2 lose their TCP connection with the old address,
//!   open a new one (TCP and TLS handshakes) and ask for the rest of the
//!   body with `Range`; the server answers 206 with just that rest, and the
//!   client verifies the two parts as one body.
//! - A failure that is not the path change's stays a failure.

mod harness;

use std::net::Ipv4Addr;
use std::time::Duration;

use clients::{MigrationRecord, RunRecord};
use harness::{Outcome, ServerSetup};
use netsim::packet::{IPPROTO_TCP, IPPROTO_UDP};
use netsim::Fate;
use netsim::PacketLog;
use netsim::{LinkConfig, NetworkConfig, PathChange, PathConfig, QueueLimit};
use netsim::{CLIENT_ADDR, CLIENT_ADDR_AFTER_CHANGE};
use scenarios::Protocol;
use scenarios::{Scenario, Workload};
use servers::Fault;

/// The shipped scenario's path change time.
const CHANGE_AT: Duration = Duration::from_secs(1);
/// The round-trip time of the path after the change (the `lte` preset).
const NEW_RTT: Duration = Duration::from_millis(70);
/// The body size of the shipped scenario.
const SIZE: u64 = 10_000_000;

fn scenario() -> Scenario {
    Scenario::builtin("migration").expect("the migration scenario ships")
}

/// One direction of a preset's path: half its RTT of delay, its rate, a
/// drop-tail queue of one bandwidth-delay product in 1500-byte packets (at
/// least 4), as scenarios resolve a preset's default queue.
fn link(rtt: Duration, mbit: u64, down_mbit: u64) -> LinkConfig {
    let bdp = down_mbit * 1_000_000 / 8 * rtt.as_nanos() as u64 / 1_000_000_000;
    LinkConfig {
        delay: rtt / 2,
        bandwidth_bps: mbit * 1_000_000,
        queue: QueueLimit::Packets(bdp.div_ceil(1500).max(4) as u32),
        ..LinkConfig::default()
    }
}

/// A preset's path: `rtt`, `down` / `up` Mbit/s.
fn path(rtt: Duration, down: u64, up: u64) -> PathConfig {
    PathConfig {
        up: link(rtt, up, down),
        down: link(rtt, down, down),
    }
}

/// The shipped scenario's network in netsim's terms (netsim knows nothing
/// of scenarios; `bench::network` converts a scenario, and this spells the
/// same network out): the `wifi` preset (21 ms, 30/15 Mbit/s), then at
/// [`CHANGE_AT`] the `lte` preset (70 ms, 12/12 Mbit/s). The scenario's own
/// change time, new RTT and workload are checked against what these tests
/// assume.
fn setup() -> (NetworkConfig, Workload) {
    let scenario = scenario();
    let resolved = scenario.base_network();
    let change = resolved.path_change.as_ref().expect("a path change");
    assert_eq!(Duration::from_nanos(change.at_ns), CHANGE_AT);
    assert_eq!(
        Duration::from_nanos(change.path.up.delay_ns + change.path.down.delay_ns),
        NEW_RTT
    );
    let network = NetworkConfig {
        path: path(Duration::from_millis(21), 30, 15),
        path_change: Some(PathChange {
            at: CHANGE_AT,
            path: path(NEW_RTT, 12, 12),
        }),
        ..NetworkConfig::default()
    };
    network.validate().expect("a valid network");
    let workload = scenario.workload.to_workload();
    assert_eq!(workload, Workload::Bulk { size: SIZE });
    (network, workload)
}

fn run(protocol: Protocol, setup_server: ServerSetup) -> Outcome {
    let (network, workload) = setup();
    harness::run(protocol, network, 1, &workload, setup_server)
}

/// The run's migration figures, with the change at [`CHANGE_AT`] of
/// simulated time.
fn migration(outcome: &Outcome) -> &MigrationRecord {
    let m = outcome
        .record
        .migration
        .as_ref()
        .expect("a run across a path change has a migration record");
    assert_eq!(m.path_change + outcome.run_started, CHANGE_AT);
    m
}

/// Payload bytes of `proto` delivered to the client at `addr`.
fn delivered_to(log: &PacketLog, proto: u8, addr: Ipv4Addr) -> u64 {
    log.records()
        .iter()
        .filter(|p| p.flow.proto == proto && *p.flow.dst.ip() == addr)
        .filter(|p| matches!(p.fate, Fate::Delivered { .. }))
        .map(|p| u64::from(p.payload_len))
        .sum()
}

fn assert_whole_body(record: &RunRecord) {
    assert_eq!(record.failure, None);
    let [request] = &record.requests[..] else {
        panic!("one request, got {}", record.requests.len());
    };
    assert!(request.verified, "{request:?}");
    assert_eq!(request.bytes, SIZE);
    assert_eq!(request.timeline.last().map(|&(_, b)| b), Some(SIZE));
}

#[test]
fn http3_migrates_and_continues_on_the_same_connection() {
    let outcome = run(Protocol::H3, ServerSetup::default());
    let record = &outcome.record;
    assert_whole_body(record);

    // One connection, one handshake (before the change), no resumption.
    let [connection] = &record.connections[..] else {
        panic!("one QUIC connection, got {:?}", record.connections);
    };
    let handshake = connection.handshake_done.expect("handshake done");
    assert!(handshake + outcome.run_started < CHANGE_AT);
    assert_eq!(connection.error, None);
    assert!(record.requests[0].resumptions.is_empty());

    let m = migration(&outcome);
    assert_eq!(m.connections_after_change, 0);
    assert_eq!(m.resumed_requests, 0);
    assert_eq!(m.bytes_fetched_twice, 0);
    assert!(m.bytes_before_change > 0 && m.bytes_before_change < SIZE);
    // The new path needs at least a round trip before data flows again
    // (the client's first packet from its new address, then the server's
    // data), and path validation takes a few at most.
    let interruption = m.interruption.expect("bytes before and after");
    assert!(
        interruption >= NEW_RTT && interruption <= 4 * NEW_RTT,
        "interruption {interruption:?}"
    );
    assert_eq!(m.completion, record.plt);

    // On the wire: the rest of the body came over the new address, and no
    // TCP at all.
    let log = &outcome.packet_log;
    assert!(
        delivered_to(log, IPPROTO_UDP, CLIENT_ADDR_AFTER_CHANGE) > SIZE - m.bytes_before_change
    );
    assert!(delivered_to(log, IPPROTO_UDP, CLIENT_ADDR) < m.bytes_before_change + SIZE / 100);
    assert!(log.records().iter().all(|p| p.flow.proto != IPPROTO_TCP));
}

/// HTTP/1.1 or HTTP/2: a second connection, opened at the change, carries
/// a `Range` request for exactly the bytes not yet in hand.
fn resumes_with_range_on_a_new_connection(protocol: Protocol) {
    let outcome = run(protocol, ServerSetup::default());
    let record = &outcome.record;
    assert_whole_body(record);
    let m = migration(&outcome);

    // Two connections: the first lost with the old address, the second
    // opened when the client learned of the change.
    let [old, new] = &record.connections[..] else {
        panic!("two connections, got {:?}", record.connections);
    };
    let lost = old.error.as_deref().unwrap_or_default();
    assert!(lost.contains("network path changed"), "{lost}");
    assert_eq!(new.started, m.path_change);
    assert_eq!(new.error, None);
    let new_ready = new.handshake_done.expect("the new connection's handshake");
    assert!(new.tcp_connected.is_some());

    // One resumption, from exactly the bytes in hand, answered 206.
    let request = &record.requests[0];
    assert_eq!(request.connection_id, Some(0));
    let [resumption] = &request.resumptions[..] else {
        panic!("one resumption, got {:?}", request.resumptions);
    };
    assert_eq!(resumption.interrupted, m.path_change);
    assert!(resumption.interrupted_by.contains("network path changed"));
    assert_eq!(resumption.offset, m.bytes_before_change);
    assert!(resumption.offset > 0 && resumption.offset < SIZE);
    assert_eq!(resumption.connection_id, Some(1));
    assert_eq!(resumption.status, Some(206));
    assert!(resumption.request_sent >= Some(new_ready));

    assert_eq!(m.resumed_requests, 1);
    assert_eq!(m.connections_after_change, 1);
    assert_eq!(m.bytes_fetched_twice, 0);
    // TCP and TLS handshakes, then the request: at least three round trips
    // of the new path before the first byte after the change.
    let interruption = m.interruption.expect("bytes before and after");
    assert!(
        interruption >= 3 * NEW_RTT && interruption <= 6 * NEW_RTT,
        "interruption {interruption:?}"
    );
    assert_eq!(m.completion, record.plt);

    // On the wire: the new address got the rest of the body, not the whole
    // body again (TLS and HTTP framing add a few percent).
    let rest = SIZE - resumption.offset;
    let after = delivered_to(&outcome.packet_log, IPPROTO_TCP, CLIENT_ADDR_AFTER_CHANGE);
    assert!(
        after > rest && after < rest + rest / 20,
        "{after} bytes for {rest}"
    );
}

#[test]
fn http2_resumes_with_range_on_a_new_connection() {
    resumes_with_range_on_a_new_connection(Protocol::H2);
}

#[test]
fn http1_resumes_with_range_on_a_new_connection() {
    resumes_with_range_on_a_new_connection(Protocol::H1);
}

/// A fault the path change did not cause, on the resumed attempt: the
/// server sends only half of what it announces. It fails the request, and
/// nothing retries it.
#[test]
fn a_failure_after_the_resumption_stays_a_failure() {
    for protocol in [Protocol::H1, Protocol::H2] {
        let fault = Fault::Truncate {
            path_contains: "bulk".into(),
        };
        let record = run(protocol, ServerSetup::with_fault(fault)).record;
        let failure = record.failure.as_deref().expect("the run fails");
        assert!(
            !failure.contains("network path changed"),
            "{protocol}: {failure}"
        );
        assert_eq!(
            record.connections.len(),
            2,
            "{protocol}: no third connection"
        );
        let request = &record.requests[0];
        assert!(!request.verified);
        assert_eq!(request.resumptions.len(), 1, "{protocol}");
        assert_eq!(request.resumptions[0].status, Some(206));
        assert_eq!(record.plt, None);
        let m = record.migration.as_ref().expect("a migration record");
        assert_eq!(m.completion, None);
    }
}

#[test]
fn the_record_is_the_same_run_to_run() {
    for protocol in [Protocol::H2, Protocol::H3] {
        let a = run(protocol, ServerSetup::default());
        let b = run(protocol, ServerSetup::default());
        assert_eq!(a.record, b.record, "{protocol}");
        assert_eq!(a.packet_log.digest(), b.packet_log.digest(), "{protocol}");
    }
}

#[test]
fn without_a_path_change_there_is_no_migration_record() {
    let mut network = setup().0;
    network.path_change = None;
    for protocol in Protocol::ALL {
        let outcome = harness::run(
            protocol,
            network.clone(),
            1,
            &Workload::Bulk { size: 100_000 },
            ServerSetup::default(),
        );
        assert_eq!(outcome.record.failure, None);
        assert_eq!(outcome.record.migration, None, "{protocol}");
        assert!(outcome.record.requests[0].resumptions.is_empty());
    }
}
