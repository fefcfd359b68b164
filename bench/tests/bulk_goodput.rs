//! The lab's TCP against Linux: 30 MB over HTTP/2 under random loss.
//!
//! The `bulk-30mb` scenario (the default network: 50 ms RTT, 10 Mbit/s, a
//! 42-packet drop-tail queue, Bernoulli loss after the queue) at 0.5, 1
//! and 2 % loss, seeds 1 to 5, run in simulation through the same code as
//! `httplab run` (`bench::runner`). Goodput is the response's bytes × 8 over
//! the time from the request leaving the client to its last byte arriving
//! (`request_sent_ns` to `last_byte_ns`; the reports' goodput, total bytes
//! over the page load time, differs by the 0.1 s of handshakes, under
//! 0.2 %). The medians must lie within ±7 % of what Linux 6.18 (CUBIC, no
//! fq) measured on the same path: 3.39, 2.28 and 1.46 Mbit/s (issue #12).

use bench::{runner, Outcome, RunResult};
use scenarios::{Overrides, Protocol, Scenario};

/// Linux 6.18's median goodput per loss rate (percent), in Mbit/s.
const LINUX: [(f64, f64); 3] = [(0.5, 3.39), (1.0, 2.28), (2.0, 1.46)];
/// How far the lab's median may lie from Linux's, as a fraction.
const TOLERANCE: f64 = 0.07;

/// Goodput of a run's one request, in Mbit/s.
fn goodput_mbit(r: &RunResult) -> f64 {
    assert_eq!(r.outcome, Outcome::Ok, "{}: {:?}", r.run_key, r.reason);
    let m = r.measurements.as_ref().expect("measurements");
    let [request] = m.requests.as_slice() else {
        panic!("{}: one request expected", r.run_key);
    };
    assert_eq!(request.bytes, 30_000_000, "{}", r.run_key);
    let start = request.request_sent.expect("request sent");
    let end = request.last_byte.expect("last byte");
    request.bytes as f64 * 8.0 / (end - start).as_secs_f64() / 1e6
}

/// The HTTP/2 runs of `bulk-30mb` at `loss` percent, on two threads.
fn goodputs(loss: f64) -> Vec<(u64, f64)> {
    let scenario = Scenario::builtin("bulk-30mb")
        .expect("a shipped scenario")
        .with_overrides(&Overrides {
            loss_percent: Some(loss),
            ..Overrides::default()
        })
        .expect("--loss applies");
    let hash = scenario.content_hash();
    let specs: Vec<_> = scenario
        .expand()
        .into_iter()
        .filter(|s| s.protocol == Protocol::H2)
        .collect();
    assert_eq!(specs.len(), 5, "seeds 1 to 5");
    let (even, odd): (Vec<_>, Vec<_>) = specs.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let mut rows: Vec<(u64, f64)> = std::thread::scope(|s| {
        let handles: Vec<_> = [even, odd]
            .into_iter()
            .map(|half| {
                let hash = &hash;
                s.spawn(move || {
                    half.into_iter()
                        .map(|(_, spec)| (spec.seed, goodput_mbit(&runner::run(spec, hash))))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a run thread"))
            .collect()
    });
    rows.sort_by_key(|&(seed, _)| seed);
    rows
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn http2_goodput_over_30_mb_matches_linux_within_7_percent() {
    let mut misses = Vec::new();
    for (loss, linux) in LINUX {
        let rows = goodputs(loss);
        let values: Vec<f64> = rows.iter().map(|&(_, g)| g).collect();
        let lab = median(&values);
        let per_seed: Vec<String> = rows
            .iter()
            .map(|(seed, g)| format!("seed {seed} {g:.3}"))
            .collect();
        eprintln!(
            "{loss} % loss: median {lab:.3} Mbit/s (Linux {linux}, {:+.1} %); {}",
            (lab / linux - 1.0) * 100.0,
            per_seed.join(", ")
        );
        let (low, high) = (linux * (1.0 - TOLERANCE), linux * (1.0 + TOLERANCE));
        if !(low..=high).contains(&lab) {
            misses.push(format!(
                "{loss} %: {lab:.3} Mbit/s outside {low:.3}..{high:.3}"
            ));
        }
    }
    assert!(misses.is_empty(), "{misses:?}");
}
