//! Transport-level head-of-line blocking.
//!
//! - TCP: one targeted drop of a mid-transfer data segment leaves the bytes
//!   after the hole unreadable until the retransmission arrives, although
//!   later segments arrived long before.
//! - QUIC with two streams: a drop that hits stream A does not stop stream B.

use std::time::Duration;

use netsim::packet;
use netsim::probe::{self, Timeline, Transport};
use netsim::{Direction, LossModel, NetworkConfig, SimConfig, TargetedDrop};

const RTT: Duration = Duration::from_millis(40);

/// 10 Mbit/s, 40 ms RTT, and a queue deep enough that slow start never
/// overflows it: the targeted drop is the only loss.
fn config_with_drop(nth: u64) -> SimConfig {
    let mut network = NetworkConfig::symmetric(RTT, 10_000_000, LossModel::None);
    network.path.down.queue = netsim::QueueLimit::Packets(10_000);
    network.targeted_drops.push(TargetedDrop {
        direction: Direction::Down,
        nth,
        flow: None,
        data_only: true,
    });
    SimConfig {
        network,
        capture: netsim::CaptureConfig {
            pcap: true,
            key_log: false,
            qlog: false,
        },
        ..SimConfig::default()
    }
}

/// (arrival time, sequence number, payload length) of every TCP segment
/// with data the client received, from the client-side pcap; and the
/// server's initial sequence number.
fn client_segments(pcap: &[u8]) -> (Vec<(Duration, u32, u32)>, u32) {
    let mut reader = pcap_file::pcap::PcapReader::new(pcap).expect("pcap header");
    let mut segments = Vec::new();
    let mut isn = None;
    while let Some(p) = reader.next_packet() {
        let p = p.expect("pcap record");
        let s = packet::parse(&p.data).expect("ipv4 packet");
        let tcp = s.tcp.expect("tcp");
        if s.flow.src.port() != probe::PROBE_PORT {
            continue; // sent by the client
        }
        if tcp.syn {
            isn = Some(tcp.seq);
        }
        if tcp.payload_len > 0 {
            segments.push((p.timestamp, tcp.seq, tcp.payload_len));
        }
    }
    (segments, isn.expect("saw the SYN-ACK"))
}

/// Cumulative bytes readable by the application at time `t`.
fn readable_at(timeline: &Timeline, t: Duration) -> u64 {
    timeline
        .points
        .iter()
        .take_while(|(at, _)| *at <= t)
        .last()
        .map_or(0, |(_, b)| *b)
}

#[test]
fn tcp_bytes_after_a_hole_wait_for_the_retransmission() {
    let out = probe::download(config_with_drop(40), Transport::Tcp, vec![400_000]);
    let r = out.outcome.expect("download completes");
    let log = out.packet_log.summary();
    assert_eq!(log.down.dropped_total(), 1, "exactly the targeted drop");

    let captures = out.captures.expect("pcap on");
    let (segments, isn) = client_segments(&captures.client.to_bytes());
    // The retransmission is the first segment that arrives below the highest
    // sequence number already received.
    let mut highest = 0u32;
    let mut retransmission = None;
    for (at, seq, len) in &segments {
        let rel = seq.wrapping_sub(isn);
        if rel < highest {
            retransmission = Some((*at, rel, *len));
            break;
        }
        highest = rel + len;
    }
    let (t_retx, hole_rel, hole_len) = retransmission.expect("a retransmission arrived");
    let hole = u64::from(hole_rel - 1); // stream offset of the lost bytes (after the SYN)
    let arrived_after_hole = segments
        .iter()
        .filter(|(at, seq, _)| *at < t_retx && seq.wrapping_sub(isn) > hole_rel)
        .count();
    eprintln!(
        "hole at byte {hole} ({hole_len} bytes), retransmission arrived at {t_retx:?}, \
         {arrived_after_hole} later segments arrived before it"
    );
    assert!(
        arrived_after_hole >= 3,
        "later segments arrived before the retransmission"
    );

    let timeline = &r.streams[0];
    let before = readable_at(timeline, t_retx - Duration::from_millis(1));
    assert!(
        before <= hole,
        "{before} bytes readable before the retransmission; the hole starts at {hole}"
    );
    let first_past_hole = timeline.time_to(hole + 1).expect("read past the hole");
    assert_eq!(
        first_past_hole, t_retx,
        "bytes past the hole became readable when the retransmission arrived"
    );
    // Everything that had arrived behind the hole became readable at once.
    let after = readable_at(timeline, t_retx);
    assert!(after >= hole + u64::from(hole_len) * (arrived_after_hole as u64));

    // The TCP stack's own record agrees: exactly the segments behind the
    // hole waited, each until the retransmission arrived.
    let waited: Vec<_> = r
        .stats
        .arrivals
        .as_deref()
        .expect("the Linux-like stack records arrivals")
        .iter()
        .filter(|a| a.readable_at != Some(a.arrived))
        .collect();
    assert_eq!(waited.len(), arrived_after_hole);
    assert!(waited
        .iter()
        .all(|a| a.offset > hole && a.readable_at == Some(t_retx)));
}

/// The longest interval between two consecutive reads of `stream` during
/// which `other` kept delivering bytes (at least three reads strictly
/// inside it): a stall of `stream` alone, as (start, end, bytes `other`
/// read meanwhile). Gaps in which both streams wait together (slow start
/// waiting for ACKs) do not count.
fn longest_solo_stall(stream: &Timeline, other: &Timeline) -> (Duration, Duration, u64) {
    stream
        .points
        .windows(2)
        .filter_map(|w| {
            let (start, end) = (w[0].0, w[1].0);
            let inside: Vec<u64> = other
                .points
                .iter()
                .filter(|(t, _)| *t > start && *t < end)
                .map(|(_, b)| *b)
                .collect();
            if inside.len() < 3 {
                return None;
            }
            let progress = inside.last()? - readable_at(other, start);
            Some((start, end, progress))
        })
        .max_by_key(|(start, end, _)| *end - *start)
        .unwrap_or_default()
}

#[test]
fn quic_loss_on_one_stream_does_not_stop_the_other() {
    const SIZE: u64 = 300_000;
    let stalls = |r: &probe::ProbeResult| {
        [
            longest_solo_stall(&r.streams[0], &r.streams[1]),
            longest_solo_stall(&r.streams[1], &r.streams[0]),
        ]
    };
    let clean = probe::download(
        config_with_drop(u64::MAX),
        Transport::Quic,
        vec![SIZE, SIZE],
    );
    assert_eq!(clean.packet_log.summary().down.dropped_total(), 0);
    let clean = clean.outcome.expect("clean run completes");
    for (start, end, _) in stalls(&clean) {
        assert!(
            end - start < RTT / 2,
            "without the drop no stream stalls alone"
        );
    }

    let out = probe::download(config_with_drop(60), Transport::Quic, vec![SIZE, SIZE]);
    assert_eq!(out.packet_log.summary().down.dropped_total(), 1);
    let r = out.outcome.expect("download completes");
    let [s0, s1] = stalls(&r);
    let (a, (start, end, b_progress)) = if s0.1 - s0.0 >= s1.1 - s1.0 {
        (0, s0)
    } else {
        (1, s1)
    };
    eprintln!(
        "stream {a} stalled alone for {:?} from {start:?}; the other stream read {b_progress} bytes meanwhile",
        end - start
    );
    // Stream A waited for its retransmission (about a round trip) ...
    assert!(
        end - start >= RTT / 2,
        "stream A stalled waiting for the retransmission"
    );
    // ... while stream B kept delivering bytes to the application.
    assert!(
        b_progress >= 10 * 1200,
        "stream B progressed while A waited"
    );
}
