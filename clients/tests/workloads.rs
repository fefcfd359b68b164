//! The runner carries out what the plan says: phases in order, at most a
//! phase's concurrency outstanding, HTTP/1.1 one request at a time per
//! connection with keep-alive reuse, HTTP/2 and HTTP/3 streams numbered in
//! plan order; and it stops at its own time limit with everything recorded.

mod harness;

use std::time::Duration;

use clients::{RequestRecord, RunRecord};
use harness::ServerSetup;
use scenarios::Protocol;
use scenarios::Workload;

fn run(protocol: Protocol, workload: &Workload) -> RunRecord {
    let record = harness::run(
        protocol,
        harness::network(0.0),
        3,
        workload,
        ServerSetup::default(),
    )
    .record;
    assert_eq!(record.failure, None, "{protocol}");
    record
}

/// Most requests outstanding (queued, not yet finished) at once.
fn most_outstanding(requests: &[RequestRecord]) -> usize {
    requests
        .iter()
        .map(|r| {
            requests
                .iter()
                .filter(|o| o.start <= r.start && r.start < o.last_byte.unwrap())
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn rpc_keeps_at_most_its_concurrency_outstanding() {
    let workload = Workload::Rpc {
        requests: 30,
        size: 2_000,
        concurrency: 3,
    };
    for protocol in Protocol::ALL {
        let record = run(protocol, &workload);
        assert_eq!(record.requests.len(), 30);
        assert_eq!(most_outstanding(&record.requests), 3, "{protocol}");
        if protocol == Protocol::H1 {
            assert_eq!(
                record.connections_used, 3,
                "one connection per outstanding request"
            );
        }
    }
}

#[test]
fn page_phases_run_in_order() {
    let plan = harness::flat_page().plan();
    let html = plan.phases[0].objects.len();
    for protocol in Protocol::ALL {
        let record = run(protocol, &harness::flat_page());
        let html_done = record.requests[..html]
            .iter()
            .map(|r| r.last_byte.unwrap())
            .max()
            .unwrap();
        for r in &record.requests[html..] {
            assert_eq!(
                r.start, html_done,
                "{protocol}: {} is queued when the document is done",
                r.path
            );
        }
    }
}

#[test]
fn http1_is_one_request_at_a_time_per_connection() {
    let record = run(Protocol::H1, &harness::flat_page());
    for c in &record.connections {
        let mut on_conn: Vec<&RequestRecord> = record
            .requests
            .iter()
            .filter(|r| r.connection_id == Some(c.id))
            .collect();
        on_conn.sort_by_key(|r| r.stream_id);
        for (i, r) in on_conn.iter().enumerate() {
            assert_eq!(r.stream_id, Some(i as u64), "index on connection {}", c.id);
            assert!(r.request_sent.unwrap() >= c.handshake_done.unwrap());
        }
        for pair in on_conn.windows(2) {
            assert!(
                pair[1].request_sent.unwrap() >= pair[0].last_byte.unwrap(),
                "no pipelining on connection {}",
                c.id
            );
        }
    }
    // Plan order: a later request is never sent before an earlier one.
    for pair in record.requests.windows(2) {
        assert!(pair[0].request_sent <= pair[1].request_sent);
    }
}

#[test]
fn multiplexed_streams_follow_plan_order() {
    let h2 = run(Protocol::H2, &harness::flat_page());
    let ids: Vec<_> = h2.requests.iter().map(|r| r.stream_id.unwrap()).collect();
    let expected: Vec<u64> = (0..ids.len() as u64).map(|n| 2 * n + 1).collect();
    assert_eq!(ids, expected);
    let h3 = run(Protocol::H3, &harness::flat_page());
    let ids: Vec<_> = h3.requests.iter().map(|r| r.stream_id.unwrap()).collect();
    let expected: Vec<u64> = (0..ids.len() as u64).map(|n| 4 * n).collect();
    assert_eq!(ids, expected, "client-initiated bidirectional QUIC streams");
}

#[test]
fn parallel_objects_share_one_connection_or_six() {
    let workload = Workload::Parallel {
        count: 20,
        size: 50_000,
    };
    for protocol in Protocol::ALL {
        let record = run(protocol, &workload);
        let expected = if protocol == Protocol::H1 { 6 } else { 1 };
        assert_eq!(record.connections_used, expected, "{protocol}");
        assert_eq!(record.total_bytes, 20 * 50_000);
    }
}

#[test]
fn time_limit_records_every_request() {
    let workload = harness::flat_page();
    let count = workload.plan().object_count();
    for protocol in Protocol::ALL {
        // The document arrives after about 4 round trips; 150 ms cuts the
        // run off before it.
        let record = harness::run_configured(
            protocol,
            harness::network(0.0),
            1,
            &workload,
            ServerSetup::default(),
            |c| c.with_time_limit(Duration::from_millis(150)),
        )
        .record;
        assert_eq!(record.requests.len(), count, "{protocol}");
        assert_eq!(record.plt, None);
        let failure = record.failure.as_deref().unwrap();
        assert!(failure.contains("timed out"), "{protocol}: {failure}");
        let html = &record.requests[0];
        assert!(html.error.as_deref().unwrap().starts_with("timed out"));
        for r in &record.requests[1..] {
            assert!(
                r.error.as_deref().unwrap().starts_with("not requested"),
                "{protocol}: {}: {:?}",
                r.path,
                r.error
            );
        }
    }
}

#[test]
fn invalid_config_fails_every_request() {
    let record = harness::run_configured(
        Protocol::H1,
        harness::network(0.0),
        1,
        &harness::flat_page(),
        ServerSetup::default(),
        |c| c.with_max_h1_connections(0),
    )
    .record;
    assert_eq!(
        record.failure.as_deref(),
        Some("/bytes/30000/index.html: client.max_h1_connections: must be at least 1")
    );
    assert!(record.requests.iter().all(|r| r.error.is_some()));
    assert_eq!(record.connections_used, 0);
}
