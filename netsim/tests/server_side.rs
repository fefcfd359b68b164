//! The server's side of a run: every connection it accepted, with its
//! transport statistics read when the run ended, and the transport
//! settings the run used.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use netsim::probe::{self, ProbeResult, Transport};
use netsim::TcpImplementation;
use netsim::Transport as Carrier;
use netsim::{LossModel, NetworkConfig, RunOutput, SimConfig, TcpConfig};

/// A 500 KB probe download at 40 ms RTT, 10 Mbit/s and 2 % loss.
fn run(transport: Transport, tcp: TcpImplementation) -> RunOutput<ProbeResult> {
    let config = SimConfig {
        seed: 7,
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

/// The one server connection of a probe run, checked against the client's
/// view of the same connection.
fn check_server_side(out: &RunOutput<ProbeResult>, carrier: Carrier) {
    let client = &out.outcome.as_ref().expect("the probe completes").stats;
    let [server] = out.server_connections.as_slice() else {
        panic!("one accepted connection: {:?}", out.server_connections);
    };
    assert_eq!(server.transport, carrier);
    assert_eq!(server.peer.ip(), IpAddr::V4(Ipv4Addr::new(10, 0, 1, 2)));
    assert!(server.accepted_at > Duration::ZERO && server.accepted_at <= out.elapsed);
    let s = &server.stats;
    // The server sent the 500 KB: hundreds of packets, some lost and resent.
    assert!(s.packets_sent > 300, "{s:?}");
    assert!(s.bytes_sent > 500_000, "{s:?}");
    assert!(s.retransmissions > 0, "{s:?}");
    assert!(s.link_drops_sent > 0, "{s:?}");
    // Both ends read the same per-flow drop counters of the network.
    assert_eq!(s.link_drops_sent, client.link_drops_received);
    assert_eq!(s.link_drops_received, client.link_drops_sent);
    // The server sent far more than the client, which mostly ACKs.
    assert!(s.bytes_sent > 10 * client.bytes_sent, "{s:?} vs {client:?}");
    if carrier == Carrier::Quic {
        assert!(s.cwnd.is_some() && s.smoothed_rtt.is_some(), "{s:?}");
    }
}

#[test]
fn a_tcp_server_reports_its_connection_and_settings() {
    let out = run(Transport::Tcp, TcpImplementation::Linux);
    check_server_side(&out, Carrier::Tcp);
    let s = &out.server_connections[0].stats;
    assert!(s.cwnd.is_some() && s.smoothed_rtt.is_some());
    assert!(s
        .stack_counters
        .iter()
        .any(|(k, v)| k == "retransmissions" && *v > 0));
    let tcp = &out.transport.tcp;
    assert_eq!(tcp.name, "linux");
    assert_eq!(tcp.get("initial_window"), Some("10 segments (14480 bytes)"));
    assert_eq!(tcp.get("min_rto"), Some("200 ms"));
    // No QUIC endpoint in a TCP probe.
    assert_eq!(out.transport.quic.name, "");
    assert_eq!(out.transport.tls.get("versions"), Some("TLS 1.3"));
}

#[test]
fn a_quic_server_reports_its_connection_and_settings() {
    let out = run(Transport::Quic, TcpImplementation::Linux);
    check_server_side(&out, Carrier::Quic);
    let quic = &out.transport.quic;
    assert_eq!(quic.name, "quinn");
    assert_eq!(quic.get("initial_window"), Some("12000 bytes"));
    assert_eq!(quic.get("path_mtu_discovery"), Some("off"));
}

#[test]
fn a_run_frees_its_hosts() {
    // The server's registry of accepted QUIC connections held their
    // endpoint, whose socket held the host: a cycle that kept every
    // HTTP/3 run's QUIC state (about 190 KB) alive until the process
    // ended. The registry is emptied when the run reads it.
    for transport in [Transport::Quic, Transport::Tcp] {
        let before = netsim::live_hosts();
        let out = run(transport, TcpImplementation::Linux);
        assert!(out.outcome.is_ok(), "{transport:?}");
        assert_eq!(out.server_connections.len(), 1, "{transport:?}");
        drop(out);
        assert_eq!(
            netsim::live_hosts(),
            before,
            "{transport:?}: a host outlived its run"
        );
    }
}

#[test]
fn smoltcp_is_described_as_smoltcp() {
    let out = run(Transport::Tcp, TcpImplementation::Smoltcp);
    check_server_side(&out, Carrier::Tcp);
    let tcp = &out.transport.tcp;
    assert_eq!(tcp.name, "smoltcp");
    assert_eq!(tcp.get("reassembly_ranges"), Some("32"));
    assert_eq!(tcp.get("delayed_ack"), Some("10 ms"));
    assert_eq!(tcp.get("nagle"), Some("off"));
}

#[test]
fn server_statistics_repeat_exactly() {
    let a = run(Transport::Quic, TcpImplementation::Linux);
    let b = run(Transport::Quic, TcpImplementation::Linux);
    assert_eq!(a.server_connections, b.server_connections);
    let a = run(Transport::Tcp, TcpImplementation::Linux);
    let b = run(Transport::Tcp, TcpImplementation::Linux);
    assert_eq!(a.server_connections, b.server_connections);
    assert_eq!(a.transport, b.transport);
}
