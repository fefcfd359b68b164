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

/// The blocks of a pcapng file, read with an independent reader: the
/// interfaces' names and timestamp resolutions, the secrets, and each packet.
struct Pcapng {
    interfaces: Vec<(String, u8)>,
    secrets: Vec<Vec<u8>>,
    packets: Vec<Packet>,
}

/// One Enhanced Packet Block.
#[derive(Debug)]
struct Packet {
    interface: u32,
    at: Duration,
    comment: Option<String>,
    /// `epb_flags`: 0b01 inbound, 0b10 outbound.
    flags: u32,
    bytes: Vec<u8>,
}

fn read_pcapng(bytes: &[u8]) -> Pcapng {
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
    use pcap_file::pcapng::{Block, PcapNgReader};
    let mut reader = PcapNgReader::new(bytes).expect("section header");
    let mut file = Pcapng {
        interfaces: Vec::new(),
        secrets: Vec::new(),
        packets: Vec::new(),
    };
    while let Some(block) = reader.next_block() {
        match block.expect("a well-formed block") {
            Block::InterfaceDescription(idb) => {
                assert_eq!(idb.linktype, pcap_file::DataLink::RAW);
                let mut name = String::new();
                let mut resolution = 6;
                for option in &idb.options {
                    match option {
                        InterfaceDescriptionOption::IfName(n) => name = n.to_string(),
                        InterfaceDescriptionOption::IfTsResol(r) => resolution = *r,
                        _ => {}
                    }
                }
                file.interfaces.push((name, resolution));
            }
            Block::Unknown(block) if block.type_ == 0x0000_000A => {
                // Secrets type, secrets length, then the secrets.
                let value = &block.value;
                assert_eq!(value[0..4], 0x544c_534bu32.to_le_bytes(), "a TLS key log");
                let len = u32::from_le_bytes(value[4..8].try_into().unwrap()) as usize;
                file.secrets.push(value[8..8 + len].to_vec());
            }
            Block::EnhancedPacket(epb) => {
                let mut comment = None;
                let mut flags = 0;
                for option in &epb.options {
                    match option {
                        EnhancedPacketOption::Comment(c) => comment = Some(c.to_string()),
                        EnhancedPacketOption::Flags(f) => flags = *f,
                        _ => {}
                    }
                }
                file.packets.push(Packet {
                    interface: epb.interface_id,
                    at: epb.timestamp,
                    comment,
                    flags,
                    bytes: epb.data.into_owned(),
                });
            }
            other => panic!("unexpected block {other:?}"),
        }
    }
    file
}

fn check_pcapng(transport: Transport) {
    let out = run(transport);
    out.outcome.as_ref().expect("run completes");
    let captures = out.captures.as_ref().expect("pcap on");
    let key_log = out.key_log.as_deref().expect("key log on");
    let sent = read_pcapng(&captures.to_pcapng(key_log, netsim::PcapngPackets::Sent));

    // Two interfaces, the client's and the server's, in nanoseconds.
    assert_eq!(
        sent.interfaces,
        [("client".to_owned(), 9), ("server".to_owned(), 9)]
    );
    // The key log, whole, is the file's one secrets block.
    assert_eq!(sent.secrets, [key_log.as_bytes().to_vec()]);

    // Each packet that entered the network once, at its sender, in the
    // order of the network's clock; the dropped ones, and only they, with
    // a comment saying why.
    let records = out.packet_log.records();
    assert_eq!(sent.packets.len(), records.len());
    assert!(
        sent.packets.windows(2).all(|w| w[0].at <= w[1].at),
        "time order"
    );
    let mut by_time: Vec<_> = records.iter().collect();
    by_time.sort_by_key(|r| (r.sent, r.direction != Direction::Up));
    for (packet, record) in sent.packets.iter().zip(&by_time) {
        let Packet {
            interface,
            at,
            comment,
            flags,
            ..
        } = packet;
        let sender = match record.direction {
            Direction::Up => 0,
            Direction::Down => 1,
        };
        assert_eq!(*interface, sender, "{record:?}");
        assert_eq!(*at, record.sent, "{record:?}");
        assert_eq!(*flags, 0b10, "outbound");
        let expected = match record.fate {
            Fate::Delivered { .. } => None,
            Fate::Dropped(reason) => Some(netsim::drop_comment(record.direction, reason)),
        };
        assert_eq!(comment, &expected, "{record:?}");
    }
    let dropped = sent.packets.iter().filter(|p| p.comment.is_some()).count();
    assert!(dropped > 0, "1 % loss dropped nothing");

    // With the receivers' copies: every delivered packet once more, inbound,
    // on the other interface.
    let both = read_pcapng(&captures.to_pcapng(key_log, netsim::PcapngPackets::SentAndReceived));
    let delivered = records
        .iter()
        .filter(|r| matches!(r.fate, Fate::Delivered { .. }))
        .count();
    let inbound = both.packets.iter().filter(|p| p.flags == 0b01).count();
    // The run ends with packets still in flight, which no one received.
    assert!(
        inbound <= delivered && inbound + 20 > delivered,
        "{inbound} of {delivered}"
    );
    assert_eq!(both.packets.len() - inbound, records.len());
    assert!(
        both.packets.windows(2).all(|w| w[0].at <= w[1].at),
        "time order"
    );

    // The same run gives the same packets at the same times with the same
    // comments. (Not the same bytes: rustls draws TLS randoms and key shares
    // from the system's RNG, so payloads and secrets differ run to run; their
    // sizes do not.)
    let again = run(transport);
    let again_keys = again.key_log.as_deref().unwrap();
    let shape = |file: &Pcapng| -> Vec<_> {
        file.packets
            .iter()
            .map(|p| (p.interface, p.at, p.comment.clone(), p.flags, p.bytes.len()))
            .collect()
    };
    let again = read_pcapng(
        &again
            .captures
            .as_ref()
            .unwrap()
            .to_pcapng(again_keys, netsim::PcapngPackets::Sent),
    );
    assert!(shape(&again) == shape(&sent), "a second run differs");
}

#[test]
fn tls_over_tcp_pcapng_holds_both_hosts_keys_and_drops() {
    check_pcapng(Transport::TlsTcp);
}

#[test]
fn quic_pcapng_holds_both_hosts_keys_and_drops() {
    check_pcapng(Transport::Quic);
}
