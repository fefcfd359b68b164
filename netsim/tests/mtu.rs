//! The path's MTU reaches the transports: raw downloads over TCP (both
//! implementations) and QUIC put packets exactly as large as the path
//! carries on the wire, and none larger, from the smallest MTU a link
//! accepts to the largest (QUIC up to what quinn can send); a path whose
//! directions differ is used at the
//! smaller; a path change between MTUs leaves QUIC at the smaller of the
//! two and drops nothing as oversize.

use std::time::Duration;

use netsim::packet::{IPPROTO_TCP, IPPROTO_UDP};
use netsim::probe::{self, ProbeResult, Transport};
use netsim::quic::QUIC_MAX_UDP_PAYLOAD;
use netsim::{
    DropReason, Fate, LossModel, NetworkConfig, PathChange, PathConfig, RunOutput, SimConfig,
    TcpImplementation,
};

const SIZE: u64 = 1_000_000;

/// 20 ms RTT, 50 Mbit/s, no loss, MTU `up` client → server and `down`
/// server → client.
fn path(up: u32, down: u32) -> PathConfig {
    let mut path = PathConfig::symmetric(Duration::from_millis(20), 50_000_000, LossModel::None);
    path.up.mtu = up;
    path.down.mtu = down;
    path
}

fn config(network: NetworkConfig, tcp: TcpImplementation) -> SimConfig {
    let mut config = SimConfig {
        network,
        time_limit: Duration::from_secs(30),
        ..SimConfig::default()
    };
    config.tcp.implementation = tcp;
    config
}

/// One download of [`SIZE`] bytes over `transport`, which must complete.
fn download(config: SimConfig, transport: Transport) -> RunOutput<ProbeResult> {
    let out = probe::download(config, transport, vec![SIZE]);
    if let Err(e) = &out.outcome {
        let mtu = out.transport.tcp.get("mtu").unwrap_or("?");
        panic!("{transport:?} at MTU {mtu}: {e}");
    }
    out
}

/// The longest packet of protocol `proto` in the run, and the count of
/// packets dropped as oversize.
fn longest_and_oversize(out: &RunOutput<ProbeResult>, proto: u8) -> (u32, usize) {
    let records = out.packet_log.records();
    let longest = records
        .iter()
        .filter(|r| r.flow.proto == proto)
        .map(|r| r.len)
        .max()
        .unwrap_or(0);
    let oversize = records
        .iter()
        .filter(|r| r.fate == Fate::Dropped(DropReason::Oversize))
        .count();
    (longest, oversize)
}

#[test]
fn full_sized_packets_are_the_mtu_from_the_smallest_to_the_largest() {
    for mtu in [1280, 9000, 65_535] {
        let network = NetworkConfig {
            path: path(mtu, mtu),
            ..NetworkConfig::default()
        };
        for tcp in TcpImplementation::ALL {
            let out = download(config(network.clone(), tcp), Transport::Tcp);
            assert_eq!(
                longest_and_oversize(&out, IPPROTO_TCP),
                (mtu, 0),
                "{tcp} at MTU {mtu}"
            );
            let mss = format!("{} bytes", mtu - 40);
            assert_eq!(out.transport.tcp.get("announced_mss"), Some(mss.as_str()));
        }
        // quinn's datagrams stop growing at 16 383 bytes of UDP payload.
        let quic = mtu.min(u32::from(QUIC_MAX_UDP_PAYLOAD) + 28);
        let out = download(config(network, TcpImplementation::Linux), Transport::Quic);
        assert_eq!(
            longest_and_oversize(&out, IPPROTO_UDP),
            (quic, 0),
            "QUIC at MTU {mtu}"
        );
    }
}

#[test]
fn a_path_is_used_at_the_smaller_of_its_two_directions_mtus() {
    for (up, down) in [(1500, 1280), (1280, 1500)] {
        let network = NetworkConfig {
            path: path(up, down),
            ..NetworkConfig::default()
        };
        for tcp in TcpImplementation::ALL {
            let out = download(config(network.clone(), tcp), Transport::TlsTcp);
            assert_eq!(
                longest_and_oversize(&out, IPPROTO_TCP),
                (1280, 0),
                "{tcp}, up {up}, down {down}"
            );
        }
        let out = download(config(network, TcpImplementation::Linux), Transport::Quic);
        assert_eq!(longest_and_oversize(&out, IPPROTO_UDP), (1280, 0));
    }
}

#[test]
fn quic_keeps_the_smaller_mtu_of_a_path_change_throughout() {
    for (before, after) in [(1500, 1280), (1280, 1500)] {
        let network = NetworkConfig {
            path: path(before, before),
            path_change: Some(PathChange {
                at: Duration::from_millis(100),
                path: path(after, after),
            }),
            ..NetworkConfig::default()
        };
        let out = download(config(network, TcpImplementation::Linux), Transport::Quic);
        let r = out.outcome.as_ref().expect("the transfer completes");
        assert!(
            r.done > Duration::from_millis(100),
            "the change came mid-transfer"
        );
        assert_eq!(
            longest_and_oversize(&out, IPPROTO_UDP),
            (1280, 0),
            "from {before} to {after}"
        );
        assert_eq!(
            out.transport.quic.get("udp_payload"),
            Some("1252 bytes (1280 bytes IP packets)")
        );
    }
}
