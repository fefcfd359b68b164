//! The client's start offset (`SimConfig::client_start`): its whole ticks
//! only shift the run; its fraction of a tick is the phase at which the
//! client's ticks fall between the server's, and changes the run; a seeded
//! offset lies in [0, RTT) and differs by seed.

use std::time::Duration;

use netsim::probe::{self, ProbeResult, Transport};
use netsim::{seeded_client_start, Direction, LossModel, NetworkConfig, PacketLog, SimConfig};
use netsim::{Fate, TICK};

const RTT: Duration = Duration::from_millis(50);
/// 10 Mbit/s: a full packet takes 1.2 ms to serialize, so arrivals fall
/// between ticks and their rounding depends on the phase.
const RATE: u64 = 10_000_000;

/// A 200 000-byte download over `transport` with the client started
/// `client_start` after the server: the client's result and the packet log.
fn download(transport: Transport, client_start: Duration) -> (ProbeResult, PacketLog) {
    let config = SimConfig {
        network: NetworkConfig::symmetric(RTT, RATE, LossModel::None),
        client_start,
        ..SimConfig::default()
    };
    let out = probe::download(config, transport, vec![200_000]);
    (out.outcome.expect("the probe completes"), out.packet_log)
}

/// The client's times, from its own start: connected, secured, done.
fn durations(r: &ProbeResult) -> [Duration; 3] {
    [r.connected, r.secured, r.done].map(|t| t - r.start)
}

#[test]
fn whole_ticks_only_shift_the_run() {
    for transport in [Transport::TlsTcp, Transport::Quic] {
        let (base, base_log) = download(transport, Duration::ZERO);
        let shift = Duration::from_millis(7);
        let (late, late_log) = download(transport, shift);
        assert_eq!(late.start, base.start + shift, "{transport:?}");
        assert_eq!(durations(&late), durations(&base), "{transport:?}");
        // Every packet is the same packet, 7 ms later.
        assert_eq!(late_log.len(), base_log.len(), "{transport:?}");
        for (a, b) in base_log.records().iter().zip(late_log.records()) {
            assert_eq!(b.sent, a.sent + shift, "{transport:?}: {a:?} / {b:?}");
            assert_eq!((a.len, a.direction), (b.len, b.direction));
        }
    }
}

#[test]
fn a_fraction_of_a_tick_is_the_client_phase() {
    let lag = Duration::from_micros(400);
    let (r, log) = download(Transport::TlsTcp, lag);
    // The client acts on its own ticks: on the network's clock they fall
    // `lag` after the server's.
    assert_eq!(r.start, Duration::ZERO, "the client's clock starts at 0");
    let (mut up, mut down) = (0, 0);
    for p in log.records() {
        let phase = p.sent.as_nanos() % TICK.as_nanos();
        match p.direction {
            Direction::Up => {
                up += 1;
                assert_eq!(phase, lag.as_nanos(), "{p:?}");
            }
            Direction::Down => {
                down += 1;
                assert_eq!(phase, 0, "{p:?}");
            }
        }
        assert!(matches!(p.fate, Fate::Delivered { .. }), "{p:?}");
    }
    assert!(up > 10 && down > 100, "{up} up, {down} down");
}

#[test]
fn the_phase_changes_the_run() {
    // Phases a quarter tick apart: the deliveries that round to another
    // tick change the client's times.
    for transport in [Transport::TlsTcp, Transport::Quic] {
        let runs: Vec<[Duration; 3]> = [0, 250, 500, 750]
            .into_iter()
            .map(|us| durations(&download(transport, Duration::from_micros(us)).0))
            .collect();
        let distinct: std::collections::BTreeSet<_> = runs.iter().collect();
        assert!(distinct.len() > 1, "{transport:?}: {runs:?}");
        // Rounding moves each hop by at most half a tick, so a round trip
        // by at most a tick: the times stay within a tick per round trip.
        for r in &runs {
            let round_trips = (runs[0][2].as_nanos() / RTT.as_nanos()) as u32 + 1;
            let d = r[2].abs_diff(runs[0][2]);
            assert!(d <= TICK * round_trips, "{transport:?}: {runs:?}");
        }
    }
}

#[test]
fn a_seeded_offset_lies_within_the_rtt_and_differs_by_seed() {
    let network = NetworkConfig::symmetric(RTT, RATE, LossModel::None);
    let offsets: Vec<Duration> = (1..=20)
        .map(|seed| seeded_client_start(seed, &network))
        .collect();
    assert!(offsets.iter().all(|&d| d < RTT), "{offsets:?}");
    let distinct: std::collections::BTreeSet<_> = offsets.iter().collect();
    assert_eq!(distinct.len(), 20, "{offsets:?}");
    // Not bunched: some in each half of the RTT.
    assert!(offsets.iter().any(|&d| d < RTT / 2) && offsets.iter().any(|&d| d >= RTT / 2));
    // The same seed, the same offset.
    assert_eq!(seeded_client_start(3, &network), offsets[2]);
}
