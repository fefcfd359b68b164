//! Determinism: the same seed gives the same packet log and the same
//! measurements; a different seed gives a different loss pattern.

use std::time::Duration;

use netsim::probe::{self, ProbeResult, Transport};
use netsim::TcpImplementation;
use netsim::{DropReason, Fate, LossModel, NetworkConfig, RunOutput, SimConfig, TcpConfig};

fn run(seed: u64, transport: Transport, tcp: TcpImplementation) -> RunOutput<ProbeResult> {
    let config = SimConfig {
        seed,
        tcp: TcpConfig {
            implementation: tcp,
            ..TcpConfig::default()
        },
        network: NetworkConfig::symmetric(
            Duration::from_millis(40),
            10_000_000,
            LossModel::Bernoulli { rate: 0.02 },
        ),
        time_limit: Duration::from_secs(120),
        ..SimConfig::default()
    };
    probe::download(config, transport, vec![500_000])
}

fn random_drops(out: &RunOutput<ProbeResult>) -> Vec<u64> {
    out.packet_log
        .records()
        .iter()
        .filter(|r| r.fate == Fate::Dropped(DropReason::Random))
        .map(|r| r.index)
        .collect()
}

fn check(transport: Transport, tcp: TcpImplementation) {
    let a = run(7, transport, tcp);
    let b = run(7, transport, tcp);
    let c = run(8, transport, tcp);
    assert!(!random_drops(&a).is_empty(), "2 % loss dropped something");
    assert_eq!(a.packet_log.digest(), b.packet_log.digest());
    assert_eq!(a.elapsed, b.elapsed);
    assert_eq!(
        a.outcome.as_ref().expect("run completes"),
        b.outcome.as_ref().expect("run completes")
    );
    assert_ne!(a.packet_log.digest(), c.packet_log.digest());
    assert_ne!(random_drops(&a), random_drops(&c));
}

#[test]
fn tcp_runs_repeat_exactly() {
    check(Transport::Tcp, TcpImplementation::Linux);
}

#[test]
fn smoltcp_runs_repeat_exactly() {
    check(Transport::Tcp, TcpImplementation::Smoltcp);
}

#[test]
fn quic_runs_repeat_exactly() {
    check(Transport::Quic, TcpImplementation::Linux);
}
