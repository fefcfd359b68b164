//! Simulation speed of whole lab runs: a page and a 10 MB bulk download
//! over each protocol, on the default network (50 ms RTT, 10 Mbit/s, no
//! loss), through `bench::runner::run` exactly as a sweep runs them.
//!
//! With `cargo bench -p bench --bench simulation` it first prints a table:
//! per bench, the wall time of one run (median of [`RUNS`]), the simulated
//! time it covered and simulated seconds per wall second; then criterion
//! times the same runs. Under `cargo test --benches` the table is skipped
//! and criterion runs each bench once, so the bench keeps compiling.

// The wall clock, legitimately: a benchmark measures wall-clock time by definition; nothing it reads reaches a result.
#![allow(clippy::disallowed_methods)]
// a bench that prints its figures
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use criterion::Criterion;
use scenarios::{RunSpec, Scenario};

/// Runs per bench behind the figures table; it reports the median.
const RUNS: usize = 5;

/// The benches: criterion name, scenario TOML.
const CASES: [(&str, &str); 6] = [
    ("sim_page_h1_50ms_10mbit", PAGE_H1),
    ("sim_page_h2_50ms_10mbit", PAGE_H2),
    ("sim_page_h3_50ms_10mbit", PAGE_H3),
    ("sim_bulk_10mb_h1_50ms_10mbit", BULK_H1),
    ("sim_bulk_10mb_h2_50ms_10mbit", BULK_H2),
    ("sim_bulk_10mb_h3_50ms_10mbit", BULK_H3),
];

const PAGE_H1: &str = "name = \"page\"\nprotocols = [\"h1\"]\n";
const PAGE_H2: &str = "name = \"page\"\nprotocols = [\"h2\"]\n";
const PAGE_H3: &str = "name = \"page\"\nprotocols = [\"h3\"]\n";
const BULK_H1: &str =
    "name = \"bulk\"\nprotocols = [\"h1\"]\n[workload]\nkind = \"bulk\"\nsize = 10_000_000\n";
const BULK_H2: &str =
    "name = \"bulk\"\nprotocols = [\"h2\"]\n[workload]\nkind = \"bulk\"\nsize = 10_000_000\n";
const BULK_H3: &str =
    "name = \"bulk\"\nprotocols = [\"h3\"]\n[workload]\nkind = \"bulk\"\nsize = 10_000_000\n";

/// The first run (seed 1) of a scenario.
fn spec(name: &str, toml: &str) -> RunSpec {
    let scenario = Scenario::from_toml(toml, name).expect("a valid scenario");
    scenario.expand().remove(0)
}

/// One run: its wall time and simulated time. Panics if it fails: a
/// failed run must not be reported as fast.
fn run(name: &str, spec: &RunSpec) -> (Duration, Duration) {
    // The wall clock is read here, outside the simulation: this bench
    // measures the simulator. Nothing inside the run reads it.
    let started = Instant::now();
    let result = bench::runner::run(spec, "bench");
    let wall = started.elapsed();
    assert_eq!(
        result.outcome,
        bench::Outcome::Ok,
        "{name}: {:?}",
        result.reason
    );
    let simulated = result.simulation.map(|s| s.elapsed).unwrap_or_default();
    (wall, simulated)
}

fn print_table(specs: &[(&str, RunSpec)]) {
    println!("simulation speed: one run, median of {RUNS}, one thread");
    println!(
        "{:<30} {:>10} {:>10} {:>12}",
        "bench", "wall ms", "sim s", "x real time"
    );
    for (name, spec) in specs {
        let mut runs: Vec<(Duration, Duration)> = (0..RUNS).map(|_| run(name, spec)).collect();
        runs.sort();
        let (wall, simulated) = runs[RUNS / 2];
        println!(
            "{:<30} {:>10.1} {:>10.3} {:>12.1}",
            name,
            wall.as_secs_f64() * 1e3,
            simulated.as_secs_f64(),
            simulated.as_secs_f64() / wall.as_secs_f64()
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // cargo bench passes --bench; cargo test --benches does not, and then
    // criterion runs each bench once as a test.
    let measuring = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list");
    let specs: Vec<(&str, RunSpec)> = CASES
        .iter()
        .map(|&(name, toml)| (name, spec(name, toml)))
        .collect();
    if measuring {
        print_table(&specs);
        println!();
    }
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    for (name, spec) in &specs {
        c.bench_function(name, |b| b.iter(|| run(name, spec)));
    }
    c.final_summary();
}
