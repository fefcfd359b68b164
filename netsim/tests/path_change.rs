//! Path change: at 1 s the client moves from Wi-Fi (20 ms, 50 Mbit/s) to
//! LTE (60 ms, 10 Mbit/s, 0.5 % loss) and its address changes. A QUIC
//! transfer continues across it; a TCP connection fails with an error at
//! once, not a hang.

use std::time::Duration;

use netsim::probe::{self, Transport};
use netsim::{LossModel, NetworkConfig, PathChange, PathConfig, RunError, SimConfig};
use netsim::{CLIENT_ADDR, CLIENT_ADDR_AFTER_CHANGE};

const CHANGE_AT: Duration = Duration::from_secs(1);
const SIZE: u64 = 10_000_000;

fn config() -> SimConfig {
    let mut network =
        NetworkConfig::symmetric(Duration::from_millis(20), 50_000_000, LossModel::None);
    network.path_change = Some(PathChange {
        at: CHANGE_AT,
        path: PathConfig::symmetric(
            Duration::from_millis(60),
            10_000_000,
            LossModel::Bernoulli { rate: 0.005 },
        ),
    });
    SimConfig {
        network,
        time_limit: Duration::from_secs(30),
        ..SimConfig::default()
    }
}

#[test]
fn quic_transfer_continues_across_the_path_change() {
    let out = probe::download(config(), Transport::Quic, vec![SIZE]);
    let r = out.outcome.expect("the transfer completes");
    let timeline = &r.streams[0];
    let before = timeline
        .points
        .iter()
        .take_while(|(t, _)| *t < CHANGE_AT)
        .last()
        .expect("bytes before the change")
        .1;
    eprintln!("{before} bytes before the change, done at {:?}", r.done);
    eprintln!("{:?}", r.stats);
    assert!(
        before > 0 && before < SIZE,
        "the change happened mid-transfer"
    );
    assert!(r.done > CHANGE_AT);
    // Packets flowed on both addresses, on one connection.
    let flows_from = |addr| {
        out.flows
            .keys()
            .filter(|k| *k.src.ip() == addr && k.proto == netsim::packet::IPPROTO_UDP)
            .count()
    };
    assert_eq!(flows_from(CLIENT_ADDR), 1);
    assert_eq!(flows_from(CLIENT_ADDR_AFTER_CHANGE), 1);
}

#[test]
fn tcp_connection_fails_at_the_path_change() {
    let out = probe::download(config(), Transport::Tcp, vec![SIZE]);
    match &out.outcome {
        Err(RunError::Client(msg)) => {
            assert!(msg.contains("network path changed"), "error: {msg}")
        }
        other => panic!("expected the client to fail, got {other:?}"),
    }
    eprintln!("TCP failed at {:?}", out.elapsed);
    assert!(out.elapsed >= CHANGE_AT);
    assert!(
        out.elapsed <= CHANGE_AT + Duration::from_millis(1),
        "the error came at once, not after a timeout"
    );
}
