//! Simulator speed: a 10 MB download at 10 Mbit/s and 40 ms RTT, over TCP
//! and over QUIC.
//!
//! This bench prints its figures; it is not a timed test. For each
//! transport it reports the wall time of one run (median of [`RUNS`]), the
//! simulated time the run covered, simulated seconds per wall second
//! ("x real time") and packets per wall second. The goal is at least
//! [`GOAL_X_REAL_TIME`] x real time on one core; the table says whether it
//! is met. A run is single-threaded: the stepping loop drives both hosts on the
//! calling thread, and criterion is built without rayon.
//!
//! After the table, criterion times the same runs as
//! `transfer_tcp_10mb_10mbit_40ms` and `transfer_quic_10mb_10mbit_40ms`,
//! and the table is printed again.
//!
//! `cargo bench -p netsim --bench transfer` runs both. Under
//! `cargo test --benches` (no `--bench` argument) the table is skipped and
//! criterion runs each bench once, so the bench keeps compiling and working
//! without slowing the tests down.

// The wall clock, legitimately: a benchmark measures wall-clock time by definition; nothing it reads reaches a result.
#![allow(clippy::disallowed_methods)]
// a bench that prints its figures
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use criterion::Criterion;
use netsim::probe::{self, Transport};
use netsim::{LossModel, NetworkConfig, SimConfig};

/// Bytes downloaded per run.
const SIZE: u64 = 10_000_000;
/// Bottleneck rate, bits per second, both directions.
const RATE_BPS: u64 = 10_000_000;
/// Round-trip time of the path.
const RTT: Duration = Duration::from_millis(40);
/// Runs per transport behind the figures table; it reports the median.
const RUNS: usize = 5;
/// Simulated seconds per wall second the simulator should reach.
const GOAL_X_REAL_TIME: f64 = 50.0;

/// The benches: criterion name and transport.
const CASES: [(&str, Transport); 2] = [
    ("transfer_tcp_10mb_10mbit_40ms", Transport::Tcp),
    ("transfer_quic_10mb_10mbit_40ms", Transport::Quic),
];

fn config() -> SimConfig {
    SimConfig {
        network: NetworkConfig::symmetric(RTT, RATE_BPS, LossModel::None),
        time_limit: Duration::from_secs(120),
        ..SimConfig::default()
    }
}

/// What one run cost and covered.
#[derive(Clone, Copy, Debug)]
struct Run {
    /// Wall time of the whole run, setup included.
    wall: Duration,
    /// Simulated time when the run ended.
    simulated: Duration,
    /// Packets that entered the network.
    packets: usize,
}

/// One download. Panics if it fails: a failed run must not be reported as
/// fast.
fn run(name: &str, transport: Transport) -> Run {
    let config = config();
    // The wall clock is read here, outside the simulation, because this
    // bench measures the simulator itself. Nothing inside the run reads it.
    let started = Instant::now();
    let out = probe::download(config, transport, vec![SIZE]);
    let wall = started.elapsed();
    if let Err(e) = &out.outcome {
        panic!("{name}: download failed: {e}");
    }
    Run {
        wall,
        simulated: out.elapsed,
        packets: out.packet_log.len(),
    }
}

/// The figures of one transport: the run with the median wall time.
#[derive(Clone, Copy, Debug)]
struct Figures {
    median: Run,
    fastest: Duration,
    slowest: Duration,
}

impl Figures {
    fn measure(name: &str, transport: Transport) -> Figures {
        let mut runs: Vec<Run> = (0..RUNS).map(|_| run(name, transport)).collect();
        runs.sort_by_key(|r| r.wall);
        Figures {
            median: runs[runs.len() / 2],
            fastest: runs[0].wall,
            slowest: runs[runs.len() - 1].wall,
        }
    }

    fn x_real_time(&self) -> f64 {
        self.median.simulated.as_secs_f64() / self.median.wall.as_secs_f64()
    }

    fn packets_per_second(&self) -> f64 {
        self.median.packets as f64 / self.median.wall.as_secs_f64()
    }
}

fn print_table(figures: &[(&str, Figures)]) {
    println!(
        "simulator speed: {} MB at {} Mbit/s, {} ms RTT, no loss; median of {RUNS} runs, one thread",
        SIZE / 1_000_000,
        RATE_BPS / 1_000_000,
        RTT.as_millis(),
    );
    println!(
        "{:<32} {:>10} {:>16} {:>10} {:>12} {:>8} {:>14} {:>5}",
        "bench",
        "wall ms",
        "wall min-max ms",
        "sim s",
        "x real time",
        "packets",
        "packets/wall s",
        "goal"
    );
    for (name, f) in figures {
        let met = if f.x_real_time() >= GOAL_X_REAL_TIME {
            "met"
        } else {
            "MISSED"
        };
        println!(
            "{:<32} {:>10.1} {:>16} {:>10.3} {:>12.1} {:>8} {:>14.0} {:>5}",
            name,
            f.median.wall.as_secs_f64() * 1e3,
            format!(
                "{:.1}-{:.1}",
                f.fastest.as_secs_f64() * 1e3,
                f.slowest.as_secs_f64() * 1e3
            ),
            f.median.simulated.as_secs_f64(),
            f.x_real_time(),
            f.median.packets,
            f.packets_per_second(),
            met,
        );
    }
    println!("goal: at least {GOAL_X_REAL_TIME}x real time on one core");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // cargo bench passes --bench; cargo test --benches does not, and then
    // criterion runs each bench once as a test.
    let measuring = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list");

    let figures: Vec<(&str, Figures)> = if measuring {
        CASES
            .iter()
            .map(|&(name, transport)| (name, Figures::measure(name, transport)))
            .collect()
    } else {
        Vec::new()
    };
    if measuring {
        print_table(&figures);
        println!();
    }

    // One iteration takes about 0.1 s: few samples. With 10 samples
    // criterion runs 1 + 2 + ... + 10 = 55 iterations (or a multiple), so
    // the measurement time leaves room for that; a slower machine makes
    // criterion switch to one iteration per sample on its own.
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .configure_from_args();
    for (name, transport) in CASES {
        c.bench_function(name, |b| b.iter(|| run(name, transport)));
    }
    c.final_summary();

    if measuring {
        println!();
        print_table(&figures);
    }
}
