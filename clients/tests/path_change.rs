//! A path change in the middle of the page (the client's address changes):
//! HTTP/3 migrates and loads the whole page; over TCP the connections die
//! with the old address, and the client reconnects and resumes every
//! request that was cut off (the single large download of the `migration`
//! scenario is in `migration.rs`).

mod harness;

use std::time::Duration;

use harness::ServerSetup;
use netsim::{LossModel, NetworkConfig, PathChange, PathConfig};
use scenarios::Protocol;
use scenarios::Workload;

fn network() -> NetworkConfig {
    let mut network = harness::network(0.0);
    network.path_change = Some(PathChange {
        at: Duration::from_millis(600),
        path: PathConfig::symmetric(Duration::from_millis(80), 10_000_000, LossModel::None),
    });
    network
}

#[test]
fn http3_migrates_and_loads_the_page() {
    let record = harness::run(
        Protocol::H3,
        network(),
        1,
        &Workload::default(),
        ServerSetup::default(),
    )
    .record;
    assert_eq!(record.failure, None);
    assert_eq!(record.connections_used, 1);
}

#[test]
fn tcp_clients_reconnect_and_resume_every_request_cut_off() {
    let count = Workload::default().plan().object_count();
    for protocol in [Protocol::H1, Protocol::H2] {
        let record = harness::run(
            protocol,
            network(),
            1,
            &Workload::default(),
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
