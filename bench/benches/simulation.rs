//! Simulation speed of whole lab runs: the default page, a 10 MB bulk
//! download, and a recorded-size page of 200 objects from 5 origins (the
//! size of page `httplab import-har` is built for: issue #14's target is
//! under 0.2 s of CPU per run), over each protocol, on the default network
//! (50 ms RTT, 10 Mbit/s, no loss), through `bench::runner::run` exactly as
//! a sweep runs them.
//!
//! With `cargo bench -p bench --bench simulation` it first prints a table:
//! per bench, the wall time and the CPU time of one run (the thread's own, from
//! `/proc/thread-self/schedstat`; medians of [`RUNS`]), the simulated time it
//! covered and simulated seconds per wall second; then criterion times the
//! same runs. Under `cargo test --benches` the table is skipped
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
fn cases() -> Vec<(&'static str, String)> {
    vec![
        ("sim_page_h1_50ms_10mbit", PAGE_H1.to_owned()),
        ("sim_page_h2_50ms_10mbit", PAGE_H2.to_owned()),
        ("sim_page_h3_50ms_10mbit", PAGE_H3.to_owned()),
        ("sim_bulk_10mb_h1_50ms_10mbit", BULK_H1.to_owned()),
        ("sim_bulk_10mb_h2_50ms_10mbit", BULK_H2.to_owned()),
        ("sim_bulk_10mb_h3_50ms_10mbit", BULK_H3.to_owned()),
        ("sim_page200_5origins_h1", big_page("h1")),
        ("sim_page200_5origins_h2", big_page("h2")),
        ("sim_page200_5origins_h3", big_page("h3")),
    ]
}

/// A page graph of 200 objects from 5 origins, as `import-har` writes one
/// for a large recorded page: a 60 KB document; 20 stylesheets and 50
/// scripts in the head (render-blocking: the stylesheets and the first 10
/// scripts), 100 images over the body, 10 fonts found by the first
/// stylesheet, 19 data objects fetched by the first script. Sizes follow a
/// fixed pattern per kind (1.3 to 11 KB of CSS, 2 to 70 KB of JS, 3 to
/// 60 KB images, 20 to 40 KB fonts, 0.5 to 10 KB data): about 3.5 MB.
fn big_page(protocol: &str) -> String {
    let origins = [
        "server.httplab.test",
        "static.httplab.test",
        "img.httplab.test",
        "cdn.example.test",
        "api.example.test",
    ];
    let mut text = format!(
        "name = \"page200\"\nprotocols = [\"{protocol}\"]\ntime_limit_s = 60\n[workload]\n\
         kind = \"page-graph\"\norigins = {origins:?}\n"
    );
    let mut object = |path: String, origin: usize, extra: String| {
        text.push_str(&format!(
            "[[workload.objects]]\npath = \"{path}\"\norigin = \"{}\"\n{extra}",
            origins[origin]
        ));
    };
    let html = 60_000u64;
    object(
        format!("/bytes/{html}/index.html"),
        0,
        "kind = \"html\"\n".into(),
    );
    for i in 0..20u64 {
        let size = 1_300 + (i * 4_271) % 9_700;
        let extra = format!(
            "kind = \"css\"\nhtml_offset = {}\nrender_blocking = true\n",
            500 + i * 200
        );
        object(
            format!("/bytes/{size}/style-{i}.css"),
            (i % 2) as usize,
            extra,
        );
    }
    for i in 0..50u64 {
        let size = 2_000 + (i * 13_577) % 68_000;
        let kind = if i < 10 { "js" } else { "async-js" };
        let extra = format!(
            "kind = \"{kind}\"\nhtml_offset = {}\nrender_blocking = {}\n",
            5_000 + i * 100,
            i < 10
        );
        object(format!("/bytes/{size}/app-{i}.js"), (i % 4) as usize, extra);
    }
    for i in 0..100u64 {
        let size = 3_000 + (i * 7_919) % 57_000;
        let extra = format!("kind = \"image\"\nhtml_offset = {}\n", 12_000 + i * 450);
        object(
            format!("/bytes/{size}/img-{i}.jpg"),
            1 + (i % 3) as usize,
            extra,
        );
    }
    for i in 0..10u64 {
        let size = 20_000 + (i * 2_003) % 20_000;
        let extra = "kind = \"font\"\ninitiator = \"STYLE\"\n"
            .replace("STYLE", &format!("/bytes/{}/style-0.css", 1_300));
        object(format!("/bytes/{size}/font-{i}.woff2"), 3, extra);
    }
    for i in 0..19u64 {
        let size = 500 + (i * 997) % 9_500;
        let extra = "kind = \"data\"\ninitiator = \"SCRIPT\"\n"
            .replace("SCRIPT", &format!("/bytes/{}/app-0.js", 2_000));
        object(format!("/bytes/{size}/data-{i}.json"), 4, extra);
    }
    text
}

/// CPU time this thread has used so far: the first field of Linux's
/// `/proc/thread-self/schedstat` (nanoseconds on a CPU).
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("/proc/thread-self/schedstat is readable (Linux)");
    let ns: u64 = text
        .split_whitespace()
        .next()
        .and_then(|f| f.parse().ok())
        .expect("schedstat starts with the nanoseconds on a CPU");
    Duration::from_nanos(ns)
}

const PAGE_H1: &str = "name = \"page\"\nprotocols = [\"h1\"]\n";
const PAGE_H2: &str = "name = \"page\"\nprotocols = [\"h2\"]\n";
const PAGE_H3: &str = "name = \"page\"\nprotocols = [\"h3\"]\n";
const BULK_H1: &str =
    "name = \"bulk\"\nprotocols = [\"h1\"]\n[workload]\nkind = \"bulk\"\nsize = 10_000_000\n";
const BULK_H2: &str =
    "name = \"bulk\"\nprotocols = [\"h2\"]\n[workload]\nkind = \"bulk\"\nsize = 10_000_000\n";
const BULK_H3: &str =
    "name = \"bulk\"\nprotocols = [\"h3\"]\n[workload]\nkind = \"bulk\"\nsize = 10_000_000\n";

/// A `size`-byte download over `protocol` on `network` (TOML lines of a
/// `[network]` table) at `loss` % random loss.
fn bulk(protocol: &str, size: u64, network: &str, loss: f64) -> String {
    format!(
        "name = \"bulk\"\nprotocols = [\"{protocol}\"]\ntime_limit_s = 600\n\
         [workload]\nkind = \"bulk\"\nsize = {size}\n[network]\n{network}\
         [sweep]\nloss_percent = [{loss}]\n"
    )
}

/// The default page over `protocol` at `loss` % random loss.
fn page_at(protocol: &str, loss: f64) -> String {
    format!("name = \"page\"\nprotocols = [\"{protocol}\"]\n[sweep]\nloss_percent = [{loss}]\n")
}

/// The second table's cases: what event-driven time saves (a 1 KB fetch
/// over a 5 s RTT, 15 s simulated, against the same fetch at 50 ms), and
/// runs at 2 % loss, where the hosts wait for timers.
fn time_cases() -> Vec<(String, String)> {
    let mut cases = vec![
        (
            "fetch_1kb_h2_50ms".to_owned(),
            bulk("h2", 1_000, "rtt_ms = 50\n", 0.0),
        ),
        (
            "fetch_1kb_h2_5s_idle".to_owned(),
            bulk("h2", 1_000, "rtt_ms = 5000\n", 0.0),
        ),
    ];
    for p in ["h1", "h2", "h3"] {
        cases.push((format!("bulk_10mb_{p}_loss2"), bulk(p, 10_000_000, "", 2.0)));
    }
    for p in ["h1", "h2", "h3"] {
        cases.push((format!("page_{p}_loss2"), page_at(p, 2.0)));
    }
    cases
}

/// The third table's cases: the cost of a packet at 10 Mbit/s and at
/// 1 Gbit/s (100 MB), over TCP (h2) and QUIC (h3).
fn packet_cases() -> Vec<(String, String)> {
    let mut cases = Vec::new();
    for p in ["h2", "h3"] {
        cases.push((
            format!("bulk_10mb_{p}_10mbit"),
            bulk(p, 10_000_000, "bandwidth_mbit = 10\n", 0.0),
        ));
        cases.push((
            format!("bulk_100mb_{p}_1gbit"),
            bulk(p, 100_000_000, "bandwidth_mbit = 1000\n", 0.0),
        ));
    }
    cases
}

/// CPU per run, simulated time and simulated seconds per CPU second for
/// `cases`, medians of `runs`; with per-packet CPU when `per_packet`. The
/// thread's CPU clock advances in scheduler ticks (4 ms here), so a sample
/// is a batch of runs long enough to be measured to about 2 %: a first,
/// unmeasured run decides how many.
fn print_cpu_table(title: &str, cases: &[(String, String)], runs: usize, per_packet: bool) {
    println!("{title}: CPU per run, median of {runs} samples, one thread");
    println!(
        "{:<26} {:>10} {:>10} {:>10} {:>14}{}",
        "case",
        "cpu ms",
        "sim s",
        "packets",
        "sim s / cpu s",
        if per_packet { "   cpu us/packet" } else { "" }
    );
    let mut idle_active = (None, None);
    for (name, toml) in cases {
        let spec = spec(name, toml);
        let mut cpu: Vec<Duration> = Vec::new();
        let mut simulated = Duration::ZERO;
        let mut packets = 0;
        let mut batch = 1u32;
        for sample in 0..=runs {
            let cpu_before = thread_cpu();
            for _ in 0..batch {
                let result = bench::runner::run(&spec, "bench");
                assert_eq!(
                    result.outcome,
                    bench::Outcome::Ok,
                    "{name}: {:?}",
                    result.reason
                );
                let sim = result.simulation.expect("a finished run has its summary");
                simulated = sim.elapsed;
                packets = sim.packets;
            }
            let took = thread_cpu().saturating_sub(cpu_before) / batch;
            if sample == 0 {
                // At least 200 ms of CPU per sample.
                let ms = took.as_secs_f64() * 1e3;
                batch = (200.0 / ms.max(0.5)).ceil().clamp(1.0, 400.0) as u32;
            } else {
                cpu.push(took);
            }
        }
        cpu.sort();
        let cpu = cpu[runs / 2];
        if name.ends_with("_50ms") {
            idle_active.1 = Some(cpu);
        } else if name.ends_with("_idle") {
            idle_active.0 = Some(cpu);
        }
        let per = if per_packet {
            format!("{:>17.2}", cpu.as_secs_f64() * 1e6 / packets.max(1) as f64)
        } else {
            String::new()
        };
        println!(
            "{:<26} {:>10.2} {:>10.3} {:>10} {:>14.1}{per}",
            name,
            cpu.as_secs_f64() * 1e3,
            simulated.as_secs_f64(),
            packets,
            simulated.as_secs_f64() / cpu.as_secs_f64().max(1e-9)
        );
    }
    if let (Some(idle), Some(active)) = idle_active {
        println!(
            "the 15 s idle fetch costs {:.2}x the CPU of the same fetch at 50 ms RTT",
            idle.as_secs_f64() / active.as_secs_f64()
        );
    }
}

/// The first run (seed 1) of a scenario.
fn spec(name: &str, toml: &str) -> RunSpec {
    let scenario = Scenario::from_toml(toml, name).expect("a valid scenario");
    scenario.expand().remove(0)
}

/// One run: its wall time, CPU time and simulated time. Panics if it
/// fails: a failed run must not be reported as fast.
fn run(name: &str, spec: &RunSpec) -> (Duration, Duration, Duration) {
    // The wall clock is read here, outside the simulation: this bench
    // measures the simulator. Nothing inside the run reads it.
    let started = Instant::now();
    let cpu_before = thread_cpu();
    let result = bench::runner::run(spec, "bench");
    let cpu = thread_cpu().saturating_sub(cpu_before);
    let wall = started.elapsed();
    assert_eq!(
        result.outcome,
        bench::Outcome::Ok,
        "{name}: {:?}",
        result.reason
    );
    let simulated = result.simulation.map(|s| s.elapsed).unwrap_or_default();
    (wall, cpu, simulated)
}

fn print_table(specs: &[(&str, RunSpec)]) {
    println!("simulation speed: one run, median of {RUNS}, one thread");
    println!(
        "{:<30} {:>10} {:>10} {:>10} {:>12}",
        "bench", "wall ms", "cpu ms", "sim s", "x real time"
    );
    for (name, spec) in specs {
        let runs: Vec<(Duration, Duration, Duration)> =
            (0..RUNS).map(|_| run(name, spec)).collect();
        let median = |mut v: Vec<Duration>| {
            v.sort();
            v[RUNS / 2]
        };
        let wall = median(runs.iter().map(|r| r.0).collect());
        let cpu = median(runs.iter().map(|r| r.1).collect());
        let simulated = runs[0].2;
        println!(
            "{:<30} {:>10.1} {:>10.1} {:>10.3} {:>12.1}",
            name,
            wall.as_secs_f64() * 1e3,
            cpu.as_secs_f64() * 1e3,
            simulated.as_secs_f64(),
            simulated.as_secs_f64() / wall.as_secs_f64()
        );
    }
    println!("(target for the 200-object, 5-origin page: under 200 ms of CPU per run)");
}

/// The body check of a 10 MB body received in 16 KiB pieces, side by side:
/// today's comparison with the model's regenerated bytes
/// (`scenarios::BodyCheck`) against the SHA-256 check it replaced (the
/// received bytes hashed as they arrive, then the model's bytes
/// regenerated and hashed: `scenarios::digest`). Thread CPU time of ten
/// checks (the CPU clock ticks in milliseconds), medians of [`RUNS`], and
/// the ratio.
fn print_body_check() {
    use sha2::{Digest as _, Sha256};
    const LEN: u64 = 10_000_000;
    const PATH: &str = "/bytes/10000000/big.bin";
    let body = scenarios::body(1, PATH, LEN);
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let time = |f: &dyn Fn()| {
        median(
            (0..RUNS)
                .map(|_| {
                    let before = thread_cpu();
                    for _ in 0..10 {
                        f();
                    }
                    (thread_cpu() - before) / 10
                })
                .collect(),
        )
    };
    let compare = time(&|| {
        let mut check = scenarios::BodyCheck::new(1, PATH, LEN);
        for piece in body.chunks(16 * 1024) {
            check.update(piece);
        }
        assert_eq!(check.finish(), Ok(()));
    });
    let digest = time(&|| {
        let mut hasher = Sha256::new();
        for piece in body.chunks(16 * 1024) {
            hasher.update(piece);
        }
        let got: [u8; 32] = hasher.finalize().into();
        assert_eq!(got, scenarios::digest(1, PATH, LEN));
    });
    println!(
        "body check of 10 MB: comparison {:.1} ms CPU, SHA-256 twice {:.1} ms CPU ({:.2}x)",
        compare.as_secs_f64() * 1e3,
        digest.as_secs_f64() * 1e3,
        compare.as_secs_f64() / digest.as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // cargo bench passes --bench; cargo test --benches does not, and then
    // criterion runs each bench once as a test.
    let measuring = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list");
    let specs: Vec<(&str, RunSpec)> = cases()
        .iter()
        .map(|(name, toml)| (*name, spec(name, toml)))
        .collect();
    if measuring {
        print_table(&specs);
        println!();
        print_body_check();
        println!();
        print_cpu_table("event-driven time and loss", &time_cases(), RUNS, false);
        println!();
        print_cpu_table("cost per packet", &packet_cases(), 3, true);
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
