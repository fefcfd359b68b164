//! TCP BBR and pacing on the lab's default network (50 ms RTT, 10 Mbit/s,
//! a one-BDP drop-tail queue), against the default CUBIC.
//!
//! - A 10 MB download with BBR reaches at least 90 % of the bottleneck
//!   rate at 0 % loss.
//! - At 2 % Bernoulli loss (both directions) BBR's goodput is at least
//!   three times CUBIC's: BBR v1 does not back off on random loss.
//! - Pacing on against off for CUBIC: the queue-full drops of a 10 MB
//!   transfer are printed (measured: 120 unpaced, 28 paced, same goodput).
//!
//! The figures are printed (`cargo test -p netsim --test bbr --release --
//! --nocapture`) and quoted in `docs/tcp.md`.

use std::time::Duration;

use netsim::probe::{self, Transport};
use netsim::quic::QuicCongestion;
use netsim::{
    Congestion, Direction, DropReason, Fate, LossModel, NetworkConfig, Pacing, SimConfig, TcpConfig,
};

const SIZE: u64 = 10_000_000;
const RATE: u64 = 10_000_000;
const RTT: Duration = Duration::from_millis(50);

/// What one download measured.
struct Run {
    secs: f64,
    goodput_mbit: f64,
    queue_full_drops: usize,
    random_drops: usize,
    server_counters: Vec<(String, u64)>,
}

fn download(cc: Congestion, pacing: Pacing, loss: f64) -> Run {
    download_over(Transport::Tcp, cc, pacing, loss)
}

fn download_over(transport: Transport, cc: Congestion, pacing: Pacing, loss: f64) -> Run {
    let loss_model = if loss > 0.0 {
        LossModel::Bernoulli { rate: loss }
    } else {
        LossModel::None
    };
    let config = SimConfig {
        seed: 3,
        network: NetworkConfig::symmetric(RTT, RATE, loss_model),
        tcp: TcpConfig {
            congestion: cc,
            pacing,
            ..TcpConfig::default()
        },
        quic: QuicCongestion {
            algorithm: cc,
            ..QuicCongestion::default()
        },
        time_limit: Duration::from_secs(600),
        ..SimConfig::default()
    };
    let out = probe::download(config, transport, vec![SIZE]);
    let r = out.outcome.expect("download completes");
    let secs = (r.done - r.secured).as_secs_f64();
    let data: Vec<_> = out
        .packet_log
        .records()
        .iter()
        .filter(|p| p.direction == Direction::Down && p.payload_len > 0)
        .collect();
    let count = |reason| {
        data.iter()
            .filter(|p| p.fate == Fate::Dropped(reason))
            .count()
    };
    let run = Run {
        secs,
        goodput_mbit: SIZE as f64 * 8.0 / secs / 1e6,
        queue_full_drops: count(DropReason::QueueFull),
        random_drops: count(DropReason::Random),
        server_counters: out
            .server_connections
            .first()
            .map(|c| c.stats.stack_counters.clone())
            .unwrap_or_default(),
    };
    let bbr: Vec<String> = run
        .server_counters
        .iter()
        .filter(|(k, _)| k.starts_with("bbr.") || k.starts_with("pacing"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    eprintln!(
        "{transport:?} {cc} pacing {pacing} at {:.0} % loss: {SIZE} bytes in {:.3} s = {:.2} Mbit/s, \
         {} queue-full and {} random drops of data packets {}",
        loss * 100.0,
        run.secs,
        run.goodput_mbit,
        run.queue_full_drops,
        run.random_drops,
        bbr.join(" ")
    );
    run
}

#[test]
fn bbr_reaches_90_percent_of_the_bottleneck_at_no_loss() {
    let r = download(Congestion::Bbr, Pacing::Off, 0.0);
    let frac = r.goodput_mbit * 1e6 / RATE as f64;
    assert!(frac >= 0.90, "BBR reached {:.1} %", frac * 100.0);
    // IP, TCP and timestamp headers cap goodput at 1448/1500 = 96.5 %.
    assert!(frac <= 0.966, "goodput above the header bound: {frac}");
    let mode = r
        .server_counters
        .iter()
        .find(|(k, _)| k == "bbr.mode")
        .map(|(_, v)| *v);
    assert_eq!(mode, Some(2), "PROBE_BW at the end");
}

#[test]
fn bbr_gets_three_times_cubics_goodput_at_2_percent_loss() {
    let bbr = download(Congestion::Bbr, Pacing::Off, 0.02);
    let cubic = download(Congestion::Cubic, Pacing::Off, 0.02);
    eprintln!(
        "at 2 % loss: BBR {:.2} Mbit/s, CUBIC {:.2} Mbit/s ({:.1}x)",
        bbr.goodput_mbit,
        cubic.goodput_mbit,
        bbr.goodput_mbit / cubic.goodput_mbit
    );
    assert!(
        bbr.goodput_mbit >= 3.0 * cubic.goodput_mbit,
        "BBR {:.2} Mbit/s against CUBIC {:.2}",
        bbr.goodput_mbit,
        cubic.goodput_mbit
    );
}

#[test]
fn pacing_on_against_off_queue_full_drops() {
    let off = download(Congestion::Cubic, Pacing::Off, 0.0);
    let on = download(Congestion::Cubic, Pacing::On, 0.0);
    eprintln!(
        "CUBIC 10 MB at 0 % loss: queue-full drops {} unpaced, {} paced; goodput {:.2} against {:.2} Mbit/s",
        off.queue_full_drops, on.queue_full_drops, off.goodput_mbit, on.goodput_mbit
    );
    assert_eq!(off.random_drops + on.random_drops, 0);
    // Pacing On reports its rate; Off reports none (default counters).
    assert!(on
        .server_counters
        .iter()
        .any(|(k, _)| k == "pacing_rate_bps"));
    assert!(!off
        .server_counters
        .iter()
        .any(|(k, _)| k == "pacing_rate_bps"));
}

/// QUIC with `cc = bbr` runs the same BBR (the lab's port, on quinn's
/// controller trait): it fills 90 % of the bottleneck too. The ceiling is
/// QUIC's own header overhead (1500-byte packets carrying about 1440 bytes
/// of stream data).
#[test]
fn quic_bbr_reaches_90_percent_of_the_bottleneck_at_no_loss() {
    let r = download_over(Transport::Quic, Congestion::Bbr, Pacing::Off, 0.0);
    let frac = r.goodput_mbit * 1e6 / RATE as f64;
    assert!(frac >= 0.90, "QUIC BBR reached {:.1} %", frac * 100.0);
    assert!(frac <= 0.966, "goodput above the header bound: {frac}");
}

/// And at 2 % loss QUIC's BBR, which does not treat loss as congestion,
/// outruns quinn's CUBIC.
#[test]
fn quic_bbr_outruns_quic_cubic_at_2_percent_loss() {
    let bbr = download_over(Transport::Quic, Congestion::Bbr, Pacing::Off, 0.02);
    let cubic = download_over(Transport::Quic, Congestion::Cubic, Pacing::Off, 0.02);
    eprintln!(
        "QUIC at 2 % loss: BBR {:.2} Mbit/s, CUBIC {:.2} Mbit/s ({:.1}x)",
        bbr.goodput_mbit,
        cubic.goodput_mbit,
        bbr.goodput_mbit / cubic.goodput_mbit
    );
    assert!(
        bbr.goodput_mbit >= 2.0 * cubic.goodput_mbit,
        "BBR {:.2} Mbit/s against CUBIC {:.2}",
        bbr.goodput_mbit,
        cubic.goodput_mbit
    );
}
