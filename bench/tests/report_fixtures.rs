//! The raw results that `reports/tests` render (`reports/tests/fixtures`,
//! described in its README.md): that they are records of the current
//! schema, and, run on purpose, their regeneration:
//!
//! ```sh
//! cargo test -p bench --test report_fixtures -- --ignored
//! ```
//!
//! Regenerate from a clean, committed tree: every record names the lab's
//! commit and whether the tree was dirty.

mod support;

use std::path::{Path, PathBuf};

use bench::{Outcome, RunResult};
use clients::PageTimes;
use records::SCHEMA;
use scenarios::{PageGraph, Scenario};
use serde_json::Value;
use support::{assert_ok, httplab, scratch, write};

/// The fixture directory.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/tests/fixtures")
}

/// The fixture files, each with the runs it holds.
const FILES: [(&str, usize); 3] = [
    ("results.jsonl", 6),
    ("sweep/results.jsonl", 12),
    ("page-times/results.jsonl", 6),
];

/// The sweep fixture's scenario: the default page at 0 and 2 % loss, 2 seeds
/// × 3 protocols.
const SWEEP: &str = r#"
name = "fixture-sweep"
description = "Report test fixture: the default page at 0 and 2 % random loss."
seeds = 2
time_limit_s = 60.0

[sweep]
loss_percent = [0, 2]
"#;

/// Every line reads as a [`RunResult`] of schema [`SCHEMA`] and writes back
/// as the same JSON: a field added to, renamed in or dropped from the
/// record and not in the fixtures fails here.
#[test]
fn the_report_fixtures_are_records_of_the_current_schema() {
    for (file, runs) in FILES {
        let text = std::fs::read_to_string(fixtures().join(file)).expect("a fixture");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), runs, "{file}");
        for (i, line) in lines.iter().enumerate() {
            let at = format!("{file}:{}", i + 1);
            let value: Value = serde_json::from_str(line).expect("JSON");
            let record: RunResult = serde_json::from_value(value.clone())
                .unwrap_or_else(|e| panic!("{at}: not a current record: {e}"));
            assert_eq!(record.schema, SCHEMA, "{at}");
            assert_eq!(record.outcome, Outcome::Ok, "{at}");
            let written = serde_json::to_value(&record).unwrap();
            if let Some(path) = first_difference(&written, &value) {
                panic!(
                    "{at}: {path} is {} in the current record, {} in the fixture",
                    written.pointer(&path).unwrap_or(&Value::Null),
                    value.pointer(&path).unwrap_or(&Value::Null)
                );
            }
        }
    }
}

/// The JSON pointer of the first place where `a` and `b` differ, if any.
fn first_difference(a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x
            .keys()
            .chain(y.keys().filter(|k| !x.contains_key(*k)))
            .find_map(|k| match (x.get(k), y.get(k)) {
                (Some(v), Some(w)) => first_difference(v, w).map(|p| format!("/{k}{p}")),
                _ => Some(format!("/{k}")),
            }),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w).map(|p| format!("/{i}{p}"))),
        _ => (a != b).then(String::new),
    }
}

/// Thin a record to keep the fixtures small (the raw files are about 0.6
/// and 1.2 MB): each request's timeline to at most about 25 points (every
/// k-th and the last), each client connection's RTT samples and segment
/// arrivals and each server connection's arrivals to their first element.
/// The report tests recompute every number from the thinned records, so
/// this changes nothing they check.
fn thin(record: &mut RunResult) {
    if let Some(m) = record.measurements.as_mut() {
        for r in &mut m.requests {
            let n = r.timeline.len();
            if n > 24 {
                let last = r.timeline[n - 1];
                r.timeline = r.timeline.iter().copied().step_by(n.div_ceil(24)).collect();
                r.timeline.push(last);
            }
        }
        for stats in m.connections.iter_mut().filter_map(|c| c.stats.as_mut()) {
            stats.rtt_samples.truncate(1);
            if let Some(a) = stats.arrivals.as_mut() {
                a.truncate(1);
            }
        }
    }
    for c in record.server_connections.iter_mut().flatten() {
        if let Some(a) = c.stats.arrivals.as_mut() {
            a.truncate(1);
        }
    }
}

/// Run `httplab bench` with `args` (one job, so that records are in run-list
/// order) in scratch directory `name`, and write its thinned records and
/// its scenario to `into`. With `page_times`, every completed run's page
/// times are computed from its full records and the scenario's page graph
/// ([`page_times`]) before thinning.
fn bench_into(name: &str, args: &[&str], into: &Path, page_times: bool) {
    let out = scratch(name);
    let mut all = vec!["bench", "--jobs", "1", "--out", out.to_str().unwrap()];
    all.extend(args);
    assert_ok(&httplab(&all));
    let graph = page_times.then(|| {
        let scenario = Scenario::load(&out.join("scenario.toml")).expect("the scenario");
        let plan = scenario.workload_at(&Default::default()).plan();
        plan.page.expect("a page loaded as a browser does")
    });
    let raw = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    let mut text = String::new();
    for line in raw.lines() {
        let mut record: RunResult = serde_json::from_str(line).unwrap();
        if let Some(graph) = &graph {
            fill_page_times(&mut record, graph);
        }
        thin(&mut record);
        text.push_str(&serde_json::to_string(&record).unwrap());
        text.push('\n');
    }
    std::fs::create_dir_all(into).unwrap();
    std::fs::write(into.join("results.jsonl"), text).unwrap();
    std::fs::copy(out.join("scenario.toml"), into.join("scenario.toml")).unwrap();
}

/// Put `PageTimes::compute(graph, requests)` in `record`'s measurements:
/// the times the client records for a page loaded as a browser does.
/// Until the client fills them in itself, this is where the fixture's
/// come from; once it does, it checks that the stored ones are these.
fn fill_page_times(record: &mut RunResult, graph: &PageGraph) {
    let Some(m) = record.measurements.as_mut() else {
        return;
    };
    let computed = PageTimes::compute(graph, &m.requests);
    assert!(computed.is_some(), "{}: no page times", record.run_key);
    match &m.page {
        Some(stored) => assert_eq!(Some(stored), computed.as_ref(), "{}", record.run_key),
        None => m.page = computed,
    }
}

#[test]
#[ignore = "rewrites reports/tests/fixtures: run on purpose"]
fn regenerate_the_report_fixtures() {
    let dir = fixtures();
    // `results.jsonl`, `scenario.toml`: the page, 2 seeds × h1, h2, h3.
    bench_into("fixture-page", &["--quick"], &dir, false);
    // `sweep/`: every chart a sweep supports.
    let scenario = write(&scratch("fixture-sweep-scenario"), "sweep.toml", SWEEP);
    bench_into(
        "fixture-sweep",
        &["--scenario", scenario.to_str().unwrap()],
        &dir.join("sweep"),
        false,
    );
}

#[test]
#[ignore = "rewrites reports/tests/fixtures/page-times: run on purpose"]
fn regenerate_the_page_times_fixture() {
    // `page-times/`: the page loaded as a browser does, 2 seeds × h1, h2,
    // h3, with the times a person waits for.
    bench_into(
        "fixture-page-times",
        &["--quick", "--scenario", "page"],
        &fixtures().join("page-times"),
        true,
    );
}
