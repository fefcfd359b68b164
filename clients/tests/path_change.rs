//! A path change in the middle of the page (the client's address changes):
//! HTTP/3 migrates and loads the whole page; over TCP the connections die
//! with the old address, the requests on them are recorded failed with the
//! reason, and the run still ends with a record rather than a hang.

mod harness;

use std::time::Duration;

use clients::Protocol;
use harness::ServerSetup;
use netsim::{LossModel, NetworkConfig, PathChange, PathConfig};
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
fn tcp_requests_cut_by_the_change_are_recorded_failed() {
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
        eprintln!(
            "{protocol}: {} connections, failure {:?}",
            record.connections_used, record.failure
        );
        assert_eq!(record.requests.len(), count);
        let failure = record.failure.as_deref().expect("a request was cut off");
        assert!(failure.contains("/bytes/"), "{failure}");
        let failed = record.requests.iter().filter(|r| r.error.is_some()).count();
        assert!(failed > 0);
    }
}
