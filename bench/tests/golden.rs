//! The golden results table: the lab's headline numbers, pinned.
//!
//! The default page's objects loaded flat (`structure = "flat"`, the
//! `page-flat` scenario: the page model before the browser page existed),
//! on the default network (50 ms RTT, 10 Mbit/s, one BDP of drop-tail
//! queue), h1 / h2 / h3 × random loss {0, 2, 5} % × seeds {1, 2, 3}, run
//! through the same code as `httplab run` (`bench::runner`). Its snapshot is
//! the one the page scenario had before the browser page, to the byte: the
//! flat page reproduces the earlier results. For each run the snapshot holds the page load time, the time to first byte, the
//! head-of-line blocked time (to the nanosecond), the packet-log digest,
//! which changes if any packet's fate or timing changes, and a digest of the
//! whole record as `results.jsonl` stores it (every measurement, the
//! server's statistics and the transport settings; the `lab` field, which
//! names the build, left out), which changes if anything recorded changes.
//!
//! A change to any number fails this test until the snapshot is updated in
//! the same commit (`INSTA_UPDATE=always cargo test -p bench --test golden`,
//! or `cargo insta review`), so every behaviour change is visible in review.
//! The flat page's client starts with the server (`start_offset = "none"`),
//! as every run did before the per-seed start offset.
//! The second snapshot is the default page as a browser loads it over the
//! same sweep, its client started at the default per-seed offset, with the times a person waits for (first render,
//! DOMContentLoaded, onload, speed index) added to each row. The third is
//! the table `httplab bench --loss 2` prints (the `page` scenario, seeds 1
//! to 10), and the README must quote all three snapshots verbatim.

use std::fmt::Write as _;

use bench::results::StoredRun;
use bench::{runner, table, Outcome, RunResult};
use scenarios::{Overrides, RunSpec, Scenario};
use sha2::{Digest, Sha256};

/// The golden scenario: the shipped `page-flat` scenario, seeds 1 to 3,
/// swept over 0, 2 and 5 % loss.
const GOLDEN: &str = r#"
name = "golden"
description = "The default page at 0, 2 and 5 % random loss on the default network."
protocols = ["h1", "h2", "h3"]
seeds = 3
time_limit_s = 120
start_offset = "none"

[workload]
kind = "page"
structure = "flat"

[sweep]
loss_percent = [0, 2, 5]
"#;

/// Run `specs` on two threads (the simulation is single-threaded and
/// deterministic, so the order of execution changes nothing), returning the
/// results in `specs` order.
fn run_all(specs: &[RunSpec], hash: &str) -> Vec<RunResult> {
    let mut results: Vec<Option<RunResult>> = vec![None; specs.len()];
    let (even, odd): (Vec<_>, Vec<_>) = results
        .iter_mut()
        .zip(specs)
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    std::thread::scope(|s| {
        for half in [even, odd] {
            s.spawn(move || {
                for (_, (slot, spec)) in half {
                    *slot = Some(runner::run(spec, hash));
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.expect("every run ran"))
        .collect()
}

/// Nanoseconds as seconds with all nine decimals, or `-`.
fn exact(ns: Option<std::time::Duration>) -> String {
    ns.map_or_else(
        || "-".to_owned(),
        |d| format!("{}.{:09}", d.as_secs(), d.subsec_nanos()),
    )
}

/// SHA-256 of the run's record as `results.jsonl` stores it, without the
/// `lab` field (the build's version and commit), lowercase hex.
fn record_digest(r: &RunResult) -> String {
    let mut record = r.clone();
    record.lab = records::LabInfo {
        version: String::new(),
        commit: String::new(),
        dirty: false,
        crate_versions: Default::default(),
    };
    let line = serde_json::to_string(&record).expect("a record serializes");
    Sha256::digest(line.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The golden table as text: one line per run, in run order; with
/// `page_times`, the four user-facing times after the outcome.
fn golden_table(results: &[RunResult], page_times: bool) -> String {
    let mut out = String::from(if page_times {
        "protocol  loss  seed  outcome  first_render_s  dcl_s  onload_s  speed_index_s  plt_s  ttfb_s  hol_blocked_s  packet_log_digest  record_digest\n"
    } else {
        "protocol  loss  seed  outcome  plt_s  ttfb_s  hol_blocked_s  packet_log_digest  record_digest\n"
    });
    for r in results {
        let m = r.measurements.as_ref();
        let page = m.and_then(|m| m.page.as_ref());
        let times = if page_times {
            format!(
                "{}  {}  {}  {}  ",
                exact(page.map(|p| p.first_render)),
                exact(page.map(|p| p.dom_content_loaded)),
                exact(page.map(|p| p.onload)),
                exact(page.map(|p| p.speed_index)),
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{}  {}  {}  {}  {times}{}  {}  {}  {}  {}",
            r.protocol,
            r.axes
                .get("loss_percent")
                .map_or_else(|| "-".to_owned(), |v| v.to_string()),
            r.seed,
            r.outcome.label(),
            exact(m.and_then(|m| m.plt)),
            exact(m.and_then(|m| m.ttfb)),
            exact(m.and_then(|m| m.hol_blocked)),
            r.simulation
                .as_ref()
                .map_or("-", |s| s.packet_log_digest.as_str()),
            record_digest(r),
        );
    }
    out
}

fn readme() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    std::fs::read_to_string(path).expect("README.md is readable")
}

#[test]
fn golden_table_is_unchanged() {
    let scenario = Scenario::from_toml(GOLDEN, "golden.rs").expect("the golden scenario parses");
    let specs = scenario.expand();
    assert_eq!(specs.len(), 27, "3 protocols × 3 loss rates × 3 seeds");
    let results = run_all(&specs, &scenario.content_hash());
    for r in &results {
        assert_eq!(r.outcome, Outcome::Ok, "{}: {:?}", r.run_key, r.reason);
    }
    let text = golden_table(&results, false);
    insta::assert_snapshot!("golden_table", text);
    assert!(
        readme().contains(&text),
        "README.md must quote the golden table exactly (bench/tests/snapshots/golden__golden_table.snap):\n{text}"
    );
}

#[test]
fn golden_browser_page_table_is_unchanged() {
    // The default page as a browser loads it, with the default per-seed
    // start offset.
    let text = GOLDEN
        .replace("structure = \"flat\"\n", "")
        .replace("start_offset = \"none\"\n", "");
    let scenario = Scenario::from_toml(&text, "golden.rs").expect("the golden scenario parses");
    let specs = scenario.expand();
    assert_eq!(specs.len(), 27, "3 protocols × 3 loss rates × 3 seeds");
    let results = run_all(&specs, &scenario.content_hash());
    for r in &results {
        assert_eq!(r.outcome, Outcome::Ok, "{}: {:?}", r.run_key, r.reason);
    }
    let text = golden_table(&results, true);
    insta::assert_snapshot!("golden_browser_table", text);
    assert!(
        readme().contains(&text),
        "README.md must quote the browser page's golden table exactly (bench/tests/snapshots/golden__golden_browser_table.snap):\n{text}"
    );
}

#[test]
fn readme_quick_start_table_is_unchanged() {
    let scenario = Scenario::builtin("page")
        .expect("a shipped scenario")
        .with_overrides(&Overrides {
            loss_percent: Some(2.0),
            ..Overrides::default()
        })
        .expect("--loss 2 applies");
    let specs = scenario.expand();
    assert_eq!(specs.len(), 30, "3 protocols × 10 seeds");
    let results = run_all(&specs, &scenario.content_hash());
    let stored: Vec<StoredRun> = results.iter().map(StoredRun::of).collect();
    let text = table::render(&table::rows(&stored));
    insta::assert_snapshot!("bench_loss_2", text);
    assert!(
        readme().contains(&text),
        "README.md must quote what `httplab bench --loss 2` prints exactly:\n{text}"
    );
}
