//! Handshake timing: TCP connect in 1 RTT, TLS 1.3 over TCP in 2 RTT, QUIC
//! in 1 RTT, each within one tick plus serialization time, with the minimal
//! certificate (304 bytes).
//!
//! With the realistic chain (`tls::Identity::realistic()`, a 4076-byte
//! Certificate message), on the default path (50 ms RTT, 10 Mbit/s),
//! measured:
//!
//! | secured after | minimal | realistic |
//! |---|---|---|
//! | TLS 1.3 over TCP | 101 ms (2 RTT) | 104 ms (2 RTT) |
//! | QUIC | 52 ms (1 RTT) | 103 ms (2 RTT) |
//!
//! - TLS over TCP: the server's flight (ServerHello .. Finished, 4561 bytes
//!   with the probe's ALPN) fits TCP's initial window of 10 segments
//!   (14 480 bytes), so it leaves in one burst; the chain costs only its
//!   serialization, about 3 ms.
//! - QUIC: before it has validated the client's address the server may send
//!   at most 3x the bytes it received (RFC 9000 section 8.1). The client's
//!   first datagram is one Initial, padded to quinn's MTU (1472 bytes), so
//!   the server may send 4416 bytes: it sends exactly that (three full
//!   datagrams) and stops. The client acknowledges them with another padded
//!   1472-byte datagram; its arrival, one round trip after the first, lets
//!   the server send the last 588 bytes of its flight: one extra round trip.

use std::time::Duration;

use netsim::probe::{self, Transport};
use netsim::tls::Identity;
use netsim::TICK;
use netsim::{Direction, Fate, LossModel, NetworkConfig, PacketLog, SimConfig};

const RTT: Duration = Duration::from_millis(50);
const RATE: u64 = 10_000_000;

/// Returns (transport ready, secure channel ready, serialization time of
/// every packet up to then), with the minimal certificate.
fn handshake(transport: Transport) -> (Duration, Duration, Duration) {
    let (connected, secured, serialization, _) = handshake_with(transport, Identity::minimal());
    (connected, secured, serialization)
}

/// [`handshake`] with the server presenting `certificate`; also every
/// packet of the run.
fn handshake_with(
    transport: Transport,
    certificate: &'static Identity,
) -> (Duration, Duration, Duration, PacketLog) {
    let config = SimConfig {
        network: NetworkConfig::symmetric(RTT, RATE, LossModel::None),
        certificate,
        ..SimConfig::default()
    };
    let out = probe::download(config, transport, vec![1000]);
    let r = out.outcome.expect("probe completes");
    let handshake_bytes: u64 = out
        .packet_log
        .records()
        .iter()
        .filter(|p| p.sent <= r.secured)
        .map(|p| u64::from(p.len))
        .sum();
    let serialization = Duration::from_nanos(handshake_bytes * 8 * 1_000_000_000 / RATE);
    eprintln!(
        "{transport:?} {certificate:?}: connected {:?}, secured {:?}, serialization \
         {serialization:?}",
        r.connected - r.start,
        r.secured - r.start
    );
    (
        r.connected - r.start,
        r.secured - r.start,
        serialization,
        out.packet_log,
    )
}

/// Datagrams as (time, UDP payload bytes).
type Datagrams = Vec<(Duration, u32)>;

/// The server's (down) datagrams, as (sent, UDP payload bytes), and the
/// client's (up) ones as (arrived at the server, UDP payload bytes).
fn datagrams(log: &PacketLog) -> (Datagrams, Datagrams) {
    let (mut down, mut up) = (Vec::new(), Vec::new());
    for p in log.records() {
        match (p.direction, p.fate) {
            (Direction::Down, _) => down.push((p.sent, p.payload_len)),
            (Direction::Up, Fate::Delivered { at }) => up.push((at, p.payload_len)),
            (Direction::Up, Fate::Dropped(_)) => {}
        }
    }
    (down, up)
}

/// `measured` is `rtts` round trips, to within one tick (deliveries are
/// rounded to the nearest tick) plus the serialization time.
fn assert_within(measured: Duration, rtts: u32, serialization: Duration, transport: Transport) {
    let ideal = RTT * rtts;
    assert!(
        measured + TICK >= ideal && measured <= ideal + TICK + serialization,
        "{transport:?}: {measured:?}, expected {ideal:?} + at most {TICK:?} + {serialization:?}"
    );
}

#[test]
fn tcp_connect_takes_one_rtt() {
    let (connected, _, ser) = handshake(Transport::Tcp);
    assert_within(connected, 1, ser, Transport::Tcp);
}

#[test]
fn tls_over_tcp_takes_two_rtt() {
    let (connected, secured, ser) = handshake(Transport::TlsTcp);
    assert_within(connected, 1, ser, Transport::TlsTcp);
    assert_within(secured, 2, ser, Transport::TlsTcp);
}

#[test]
fn quic_handshake_takes_one_rtt() {
    let (_, secured, ser) = handshake(Transport::Quic);
    assert_within(secured, 1, ser, Transport::Quic);
}

/// Measured: secured after 104 ms, as against 101 ms with the minimal
/// certificate; the difference is the serialization of three more full
/// segments (1.2 ms each at 10 Mbit/s).
#[test]
fn tls_over_tcp_with_the_realistic_chain_still_takes_two_rtt() {
    let (connected, secured, ser, log) = handshake_with(Transport::TlsTcp, Identity::realistic());
    assert_within(connected, 1, ser, Transport::TlsTcp);
    assert_within(secured, 2, ser, Transport::TlsTcp);
    // The mechanism: the server's whole flight (ServerHello .. Finished)
    // left in one burst, the moment the ClientHello arrived: TCP's initial
    // window (10 segments of 1448 bytes) holds it.
    let data: Vec<_> = log
        .records()
        .iter()
        .filter(|p| p.direction == Direction::Down && p.payload_len > 0)
        .collect();
    let burst: u32 = data
        .iter()
        .filter(|p| p.sent == data[0].sent)
        .map(|p| p.payload_len)
        .sum();
    eprintln!(
        "server's first flight: {burst} bytes in one burst at {:?}",
        data[0].sent
    );
    let chain = Identity::realistic().certificate_message_bytes() as u32;
    assert!(burst > chain && burst < 10 * 1448, "{burst} bytes");
    let next = data.iter().find(|p| p.sent > data[0].sent).unwrap();
    assert!(
        next.sent >= RTT * 2,
        "nothing more before the client's Finished"
    );
}

/// Measured: secured after 103 ms (2 RTT), as against 52 ms (1 RTT) with
/// the minimal certificate. The client's Initial is one 1472-byte datagram;
/// the server sends exactly 3 x 1472 = 4416 bytes at once (three full
/// datagrams) and stops; the client answers them with a padded 1472-byte
/// datagram of ACKs, whose arrival lets the server send its last 588 bytes,
/// one round trip late.
#[test]
fn quic_with_the_realistic_chain_takes_two_rtt_for_anti_amplification() {
    let (_, minimal, minimal_ser, _) = handshake_with(Transport::Quic, Identity::minimal());
    let (_, secured, ser, log) = handshake_with(Transport::Quic, Identity::realistic());
    assert_within(minimal, 1, minimal_ser, Transport::Quic);
    assert_within(secured, 2, ser, Transport::Quic);

    // The mechanism, from the packet log: the server's first burst is
    // exactly 3x what it had received (RFC 9000 section 8.1), and the rest
    // of its flight waited for the client's second datagram.
    let (down, up) = datagrams(&log);
    let (first_in, second_in) = (up[0].1, up[1].0);
    let burst: u32 = down
        .iter()
        .filter(|(sent, _)| *sent == down[0].0)
        .map(|(_, len)| len)
        .sum();
    let rest = down.iter().find(|(sent, _)| *sent > down[0].0).unwrap();
    eprintln!(
        "client's Initial {first_in} bytes; server's first burst {burst} bytes at {:?}; \
         the client's next datagram ({} bytes) arrived at {second_in:?}; the server's next \
         datagram ({} bytes) left at {:?}",
        down[0].0, up[1].1, rest.1, rest.0
    );
    assert_eq!(first_in, 1472, "quinn pads the client's Initial to its MTU");
    assert_eq!(burst, 3 * first_in, "the server filled its 3x allowance");
    // Deliveries are rounded to the nearest tick.
    assert!(rest.0 + TICK >= second_in && rest.0 < RTT * 2, "{rest:?}");
}
