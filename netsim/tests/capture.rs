//! Capture: the pcaps a run writes parse back with an independent reader
//! and hold exactly the packets the packet log says each side saw; the TLS
//! key log has the secrets Wireshark needs.

use std::time::Duration;

use netsim::probe::{self, Transport};
use netsim::{CaptureConfig, Direction, Fate, LossModel, NetworkConfig, SimConfig};

fn run(transport: Transport) -> netsim::RunOutput<probe::ProbeResult> {
    let config = SimConfig {
        network: NetworkConfig::symmetric(
            Duration::from_millis(40),
            10_000_000,
            LossModel::Bernoulli { rate: 0.01 },
        ),
        capture: CaptureConfig {
            pcap: true,
            key_log: true,
            qlog: false,
        },
        ..SimConfig::default()
    };
    probe::download(config, transport, vec![200_000])
}

/// Packets in a pcap captured before `cutoff`.
fn count_packets(bytes: &[u8], cutoff: Duration) -> usize {
    let mut reader = pcap_file::pcap::PcapReader::new(bytes).expect("pcap header");
    assert_eq!(
        reader.header().datalink,
        pcap_file::DataLink::RAW,
        "raw IPv4 link type"
    );
    let mut n = 0;
    while let Some(p) = reader.next_packet() {
        let p = p.expect("pcap record");
        netsim::packet::parse(&p.data).expect("every record is an IPv4 TCP/UDP packet");
        if p.timestamp < cutoff {
            n += 1;
        }
    }
    n
}

fn check(transport: Transport, secret_label: &str) {
    let out = run(transport);
    out.outcome.as_ref().expect("run completes");
    // The run ends when the client is done, with packets still in flight:
    // compare everything before a cutoff shortly before the end.
    let cutoff = out.elapsed - Duration::from_millis(2);
    let records = out.packet_log.records();
    let sent = |d: Direction| {
        records
            .iter()
            .filter(|r| r.direction == d && r.sent < cutoff)
            .count()
    };
    // Deliveries happen at the nearest whole millisecond.
    let delivered = |d: Direction| {
        records
            .iter()
            .filter(|r| r.direction == d)
            .filter(|r| match r.fate {
                Fate::Delivered { at } => {
                    Duration::from_millis(((at.as_micros() + 500) / 1000) as u64) < cutoff
                }
                Fate::Dropped(_) => false,
            })
            .count()
    };
    let captures = out.captures.expect("pcap on");
    let dir = std::env::temp_dir().join(format!(
        "netsim-capture-test-{transport:?}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let client = dir.join("client.pcap");
    captures.client.write_to(&client).unwrap();
    let client_bytes = std::fs::read(&client).unwrap();
    // The client sees what it sent (lost or not) and what reached it.
    assert_eq!(
        count_packets(&client_bytes, cutoff),
        sent(Direction::Up) + delivered(Direction::Down)
    );
    assert_eq!(
        count_packets(&captures.server.to_bytes(), cutoff),
        sent(Direction::Down) + delivered(Direction::Up)
    );
    assert!(captures.client.packet_count() > 100);
    std::fs::remove_dir_all(&dir).ok();

    let key_log = out.key_log.expect("key log on");
    assert!(
        key_log.lines().any(|l| l.starts_with(secret_label)),
        "{key_log}"
    );
    for line in key_log.lines() {
        let fields: Vec<_> = line.split(' ').collect();
        assert_eq!(fields.len(), 3, "NSS key log line: {line}");
        assert_eq!(fields[1].len(), 64, "client random is 32 bytes of hex");
    }
}

#[test]
fn tls_over_tcp_capture_and_key_log() {
    check(Transport::TlsTcp, "CLIENT_TRAFFIC_SECRET_0");
}

#[test]
fn quic_capture_and_key_log() {
    check(Transport::Quic, "CLIENT_HANDSHAKE_TRAFFIC_SECRET");
}
