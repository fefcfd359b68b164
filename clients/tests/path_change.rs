//! A path change in the middle of the page (the client's address changes):
//! HTTP/3 migrates and loads the whole page; over TCP the connections die
//! with the old address, and the client reconnects and resumes every
//! request that was cut off (the single large download of the `migration`
//! scenario is in `migration.rs`).

mod harness;

use std::time::Duration;

use harness::ServerSetup;
use netsim::packet::IPPROTO_UDP;
use netsim::{Direction, Fate, LossModel, NetworkConfig, PathChange, PathConfig};
use netsim::{CLIENT_ADDR, CLIENT_ADDR_AFTER_CHANGE};
use scenarios::Protocol;

/// When the path changes, in simulated time.
const CHANGE_AT: Duration = Duration::from_millis(600);
/// The round-trip time of the path after the change.
const NEW_RTT: Duration = Duration::from_millis(80);

fn network() -> NetworkConfig {
    let mut network = harness::network(0.0);
    network.path_change = Some(PathChange {
        at: CHANGE_AT,
        path: PathConfig::symmetric(NEW_RTT, 10_000_000, LossModel::None),
    });
    network
}

/// HTTP/3 keeps its one QUIC connection across the change: no second
/// connection, no request asked again, the responses that were arriving at
/// the change complete on it, verified, and on the wire the client's
/// packets come from its new address from the change on.
#[test]
fn http3_migrates_and_loads_the_page() {
    let outcome = harness::run(
        Protocol::H3,
        network(),
        1,
        &harness::flat_page(),
        ServerSetup::default(),
    );
    let record = &outcome.record;
    assert_eq!(record.failure, None);
    let plan = harness::flat_page().plan();
    assert_eq!(record.requests.len(), plan.object_count());
    assert!(record
        .requests
        .iter()
        .all(|r| r.verified && r.bytes == r.size_expected && r.resumptions.is_empty()));

    // One connection, opened and secured before the change, never failed.
    assert_eq!(record.connections_used, 1);
    let [connection] = &record.connections[..] else {
        panic!("one QUIC connection, got {:?}", record.connections);
    };
    assert_eq!(connection.error, None);
    let m = record.migration.as_ref().expect("a migration record");
    assert_eq!(m.path_change + outcome.run_started, CHANGE_AT);
    assert!(connection.handshake_done.is_some_and(|t| t < m.path_change));
    assert_eq!(m.connections_after_change, 0);
    assert_eq!(m.resumed_requests, 0);
    assert_eq!(m.bytes_fetched_twice, 0);
    let total: u64 = record.requests.iter().map(|r| r.bytes).sum();
    assert!(m.bytes_before_change > 0 && m.bytes_before_change < total);
    // Data flows again after at least a round trip of the new path (the
    // client's first packet from its new address, then the server's
    // answer) and a few at most (path validation).
    let interruption = m.interruption.expect("bytes before and after");
    assert!(
        interruption >= NEW_RTT && interruption <= 4 * NEW_RTT,
        "interruption {interruption:?}"
    );
    assert_eq!(m.completion, record.plt);

    // Every request went on that connection, and responses that were
    // arriving at the change finished on it after it.
    assert!(record
        .requests
        .iter()
        .all(|r| r.connection_id == Some(connection.id)));
    let spanning = record
        .requests
        .iter()
        .filter(|r| r.first_byte.is_some_and(|t| t < m.path_change))
        .filter(|r| r.last_byte.is_some_and(|t| t > m.path_change))
        .count();
    assert!(spanning >= 2, "{spanning} responses spanned the change");

    // On the wire: QUIC only; the client sent from its old address before
    // the change and from its new one after it, and the new address got
    // the rest of the page (UDP payload: QUIC and HTTP/3 framing on top of
    // the bodies).
    let log = &outcome.packet_log;
    assert!(log.records().iter().all(|p| p.flow.proto == IPPROTO_UDP));
    let (before, after): (Vec<_>, Vec<_>) = log
        .records()
        .iter()
        .filter(|p| p.direction == Direction::Up)
        .partition(|p| p.sent < CHANGE_AT);
    assert!(!before.is_empty() && !after.is_empty());
    assert!(before.iter().all(|p| *p.flow.src.ip() == CLIENT_ADDR));
    assert!(after
        .iter()
        .all(|p| *p.flow.src.ip() == CLIENT_ADDR_AFTER_CHANGE));
    let delivered_to = |addr| -> u64 {
        log.records()
            .iter()
            .filter(|p| *p.flow.dst.ip() == addr)
            .filter(|p| matches!(p.fate, Fate::Delivered { .. }))
            .map(|p| u64::from(p.payload_len))
            .sum()
    };
    let (to_old, to_new) = (
        delivered_to(CLIENT_ADDR),
        delivered_to(CLIENT_ADDR_AFTER_CHANGE),
    );
    assert!(
        to_old < total && to_new > total - to_old,
        "{to_old} bytes to the old address, {to_new} to the new, for {total}"
    );
}

#[test]
fn tcp_clients_reconnect_and_resume_every_request_cut_off() {
    let count = harness::flat_page().plan().object_count();
    for protocol in [Protocol::H1, Protocol::H2] {
        let record = harness::run(
            protocol,
            network(),
            1,
            &harness::flat_page(),
            ServerSetup::default(),
        )
        .record;
        assert_eq!(record.failure, None, "{protocol}");
        assert_eq!(record.requests.len(), count);
        assert!(record.requests.iter().all(|r| r.verified));
        let m = record.migration.as_ref().expect("a migration record");
        assert!(
            m.resumed_requests > 0,
            "{protocol}: some requests were cut off"
        );
        assert!(m.connections_after_change > 0);
        assert_eq!(m.bytes_fetched_twice, 0);
        // Every connection opened before the change went with it.
        let before = record
            .connections
            .iter()
            .filter(|c| c.started < m.path_change);
        for c in before {
            let error = c.error.as_deref().unwrap_or_default();
            assert!(error.contains("network path changed"), "{protocol}: {c:?}");
        }
        if protocol == Protocol::H2 {
            assert_eq!(record.connections.len(), 2);
        }
        // Each request cut off asks for what it lacks: a Range (206) when
        // it had bytes, a plain GET (200) when it had none.
        for r in record.requests.iter().filter(|r| !r.resumptions.is_empty()) {
            let [resumption] = &r.resumptions[..] else {
                panic!("{protocol}: one resumption each, got {:?}", r.resumptions);
            };
            let expected = if resumption.offset > 0 { 206 } else { 200 };
            assert_eq!(resumption.status, Some(expected), "{protocol}: {r:?}");
            assert!(resumption.offset < r.size_expected);
            assert_eq!(r.bytes, r.size_expected);
        }
    }
}
