//! The default page (one HTML document, then 39 subresources at once) over
//! each protocol, without loss and at 2 % loss: every body arrives and
//! verifies, and each protocol uses the connections it should.

mod harness;

use clients::RunRecord;
use harness::ServerSetup;
use scenarios::Protocol;

fn page(protocol: Protocol, loss: f64) -> RunRecord {
    let workload = harness::flat_page();
    let record = harness::run(
        protocol,
        harness::network(loss),
        1,
        &workload,
        ServerSetup::default(),
    )
    .record;
    eprintln!(
        "{protocol} at {:.0} % loss: plt {:?}, {} connections, {} bytes",
        loss * 100.0,
        record.plt,
        record.connections_used,
        record.total_bytes
    );
    assert_eq!(record.failure, None, "{protocol}: the page loads");
    let plan = workload.plan();
    assert_eq!(record.requests.len(), plan.object_count());
    for (r, object) in record.requests.iter().zip(plan.objects()) {
        assert_eq!(r.path, object.path, "records are in plan order");
        assert!(r.succeeded(), "{}: {:?}", r.path, r.error);
        assert_eq!(r.bytes, object.size, "{}", r.path);
        assert_eq!(r.timeline.last().map(|p| p.1), Some(object.size));
    }
    assert_eq!(record.total_bytes, plan.total_bytes());
    assert!(record.plt.is_some());
    for c in &record.connections {
        assert_eq!(c.error, None, "connection {}", c.id);
        assert!(c.handshake_done.is_some());
        assert!(c.stats.is_some(), "connection {} has statistics", c.id);
    }
    record
}

fn assert_connections(record: &RunRecord) {
    match record.protocol {
        Protocol::H1 => assert!(
            (2..=6).contains(&record.connections_used),
            "HTTP/1.1 opens more than one and at most 6 connections, opened {}",
            record.connections_used
        ),
        Protocol::H2 | Protocol::H3 => assert_eq!(record.connections_used, 1),
    }
    assert_eq!(record.connections.len(), record.connections_used);
    let tcp = record.connections.iter().all(|c| c.tcp_connected.is_some());
    assert_eq!(tcp, record.protocol != Protocol::H3);
}

#[test]
fn h1_page_without_loss() {
    assert_connections(&page(Protocol::H1, 0.0));
}

#[test]
fn h2_page_without_loss() {
    assert_connections(&page(Protocol::H2, 0.0));
}

#[test]
fn h3_page_without_loss() {
    assert_connections(&page(Protocol::H3, 0.0));
}

#[test]
fn h1_page_at_2_percent_loss() {
    assert_connections(&page(Protocol::H1, 0.02));
}

#[test]
fn h2_page_at_2_percent_loss() {
    assert_connections(&page(Protocol::H2, 0.02));
}

#[test]
fn h3_page_at_2_percent_loss() {
    assert_connections(&page(Protocol::H3, 0.02));
}
