//! TCP goodput under random loss against the Mathis and PFTK throughput
//! models, at 10 Mbit/s and 50 ms RTT (issue #7's validation).
//!
//! - Mathis et al. (1997): `B = MSS / RTT × sqrt(3 / 2p)`, the
//!   congestion-avoidance-only bound for Reno-style AIMD.
//! - PFTK, Padhye et al. (1998): `B = MSS / (RTT sqrt(2bp/3) + T0 min(1,
//!   3 sqrt(3bp/8)) p (1 + 32p²))`, which adds retransmission timeouts; with
//!   `b = 2` segments per ACK (delayed ACKs) and `T0` the RTO.
//!
//! A long transfer's (30 MB) goodput should lie between PFTK (below) and Mathis
//! (above), allowing 15 % either side: CUBIC's Reno-friendly region and
//! SACK recovery are not exactly the models' Reno. `p` is the loss rate the
//! link actually applied to the data direction. Both stacks are held to
//! that band; smoltcp's rows (the cross-check stack) are also pinned
//! exactly. The table printed here is the one in `docs/tcp.md`.

use std::time::Duration;

use netsim::probe::{self, Transport};
use netsim::TcpImplementation;
use netsim::{Direction, DropReason, Fate, LossModel, NetworkConfig, SimConfig, TcpConfig};

const RTT: Duration = Duration::from_millis(50);
const RATE: u64 = 10_000_000;
const SIZE: u64 = 30_000_000;

struct Row {
    loss: f64,
    /// First request byte to last response byte, in simulated time.
    duration: Duration,
    /// Data packets the server sent, first transmissions and resent ones.
    data_packets: usize,
    /// Of those, dropped by the link's random loss.
    random_drops: usize,
    /// Of those, dropped by the full queue.
    queue_full_drops: usize,
    /// Random (path) loss rate the data direction saw.
    measured_p: f64,
    /// Share of data packets dropped by the full queue (the flow's own
    /// overshoot), not part of `p`.
    queue_drops: f64,
    goodput_mbit: f64,
    mathis_mbit: f64,
    pftk_mbit: f64,
}

impl Row {
    /// Whether the goodput lies between PFTK − 15 % and Mathis + 15 %.
    fn within_models(&self) -> bool {
        self.goodput_mbit >= self.pftk_mbit * 0.85 && self.goodput_mbit <= self.mathis_mbit * 1.15
    }
}

fn mathis(mss: f64, rtt: f64, p: f64) -> f64 {
    mss * 8.0 / rtt * (1.5 / p).sqrt()
}

fn pftk(mss: f64, rtt: f64, p: f64, t0: f64) -> f64 {
    let b = 2.0;
    let denom = rtt * (2.0 * b * p / 3.0).sqrt()
        + t0 * (3.0 * (3.0 * b * p / 8.0).sqrt()).min(1.0) * p * (1.0 + 32.0 * p * p);
    mss * 8.0 / denom
}

fn run(loss: f64, tcp: TcpImplementation, mss: f64) -> Row {
    let config = SimConfig {
        seed: 3,
        network: NetworkConfig::symmetric(RTT, RATE, LossModel::Bernoulli { rate: loss }),
        tcp: TcpConfig {
            implementation: tcp,
            ..TcpConfig::default()
        },
        time_limit: Duration::from_secs(600),
        ..SimConfig::default()
    };
    let out = probe::download(config, Transport::Tcp, vec![SIZE]);
    let r = out.outcome.expect("transfer completes");
    let duration = r.done - r.secured;
    let secs = duration.as_secs_f64();
    let down: Vec<_> = out
        .packet_log
        .records()
        .iter()
        .filter(|p| p.direction == Direction::Down && p.payload_len > 0)
        .collect();
    let random = down
        .iter()
        .filter(|p| p.fate == Fate::Dropped(DropReason::Random))
        .count();
    let queue = down
        .iter()
        .filter(|p| p.fate == Fate::Dropped(DropReason::QueueFull))
        .count();
    let measured_p = random as f64 / down.len() as f64;
    // The client's passive RTT samples (handshake and request) are few; use
    // the base RTT for the models, as the queue is mostly empty under loss.
    let rtt = RTT.as_secs_f64();
    let t0 = (rtt + 0.2).max(0.2);
    Row {
        loss,
        duration,
        data_packets: down.len(),
        random_drops: random,
        queue_full_drops: queue,
        measured_p,
        queue_drops: queue as f64 / down.len() as f64,
        goodput_mbit: SIZE as f64 * 8.0 / secs / 1e6,
        mathis_mbit: mathis(mss, rtt, measured_p) / 1e6,
        pftk_mbit: pftk(mss, rtt, measured_p, t0) / 1e6,
    }
}

fn table(tcp: TcpImplementation, mss: f64) -> Vec<Row> {
    let rows: Vec<Row> = [0.005, 0.01, 0.02]
        .iter()
        .map(|&l| run(l, tcp, mss))
        .collect();
    eprintln!(
        "\n{} (MSS {mss} B, 10 Mbit/s, 50 ms RTT, {} MB):",
        tcp.label(),
        SIZE / 1_000_000
    );
    eprintln!("| loss | measured p | queue drops | goodput | PFTK | Mathis | within range |");
    eprintln!("|---|---|---|---|---|---|---|");
    for r in &rows {
        let ok = r.within_models();
        eprintln!(
            "| {:.1} % | {:.2} % | {:.2} % | {:.2} Mbit/s | {:.2} Mbit/s | {:.2} Mbit/s | {} |",
            r.loss * 100.0,
            r.measured_p * 100.0,
            r.queue_drops * 100.0,
            r.goodput_mbit,
            r.pftk_mbit,
            r.mathis_mbit,
            if ok { "yes" } else { "no" }
        );
    }
    rows
}

#[test]
fn linux_tcp_goodput_lies_between_pftk_and_mathis() {
    for r in table(TcpImplementation::Linux, 1448.0) {
        assert!(
            r.within_models(),
            "at {} loss: {:.2} Mbit/s, models {:.2}..{:.2}",
            r.loss,
            r.goodput_mbit,
            r.pftk_mbit,
            r.mathis_mbit
        );
    }
}

/// smoltcp, the cross-check stack, held to the same band as the Linux-like
/// TCP (its 1 s minimum RTO and one-segment fast retransmit turn more
/// losses into timeouts, but it stays inside), losing goodput as the loss
/// rises, and pinned: the simulation is deterministic, so each row's
/// completion time and packet counts are exact, and any change in the
/// link's loss draws, the queue or the smoltcp stack shows here.
#[test]
fn smoltcp_goodput_lies_between_pftk_and_mathis_and_is_pinned() {
    let rows = table(TcpImplementation::Smoltcp, 1460.0);
    for r in &rows {
        assert!(
            r.within_models(),
            "at {} loss: {:.2} Mbit/s, models {:.2}..{:.2}",
            r.loss,
            r.goodput_mbit,
            r.pftk_mbit,
            r.mathis_mbit
        );
    }
    for w in rows.windows(2) {
        assert!(
            w[1].goodput_mbit < w[0].goodput_mbit,
            "goodput at {} loss not below that at {}",
            w[1].loss,
            w[0].loss
        );
    }
    // (loss, completion, data packets sent, random drops, queue drops)
    let pinned: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.loss,
                r.duration,
                r.data_packets,
                r.random_drops,
                r.queue_full_drops,
            )
        })
        .collect();
    let ms = Duration::from_millis;
    assert_eq!(
        pinned,
        [
            (0.005, ms(77_633), 28_277, 151, 49),
            (0.01, ms(105_208), 28_223, 299, 63),
            (0.02, ms(174_117), 28_159, 572, 0),
        ]
    );
}
