//! Sweeps that are interrupted, resumed, sharded and merged end with the
//! same results as one uninterrupted sweep, and no run is lost or doubled.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use support::{assert_ok, httplab, httplab_command, result_lines, run_key, scratch, stderr, write};

/// `httplab bench --scenario scenario --out out --jobs 2` plus `extra`.
fn sweep(scenario: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let output = support::bench_command(scenario, out, &["--jobs", "2"])
        .args(extra)
        .output()
        .expect("run httplab");
    assert_ok(&output);
    output
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

fn assert_no_duplicates(lines: &[String]) {
    let keys: BTreeSet<String> = lines.iter().map(|l| run_key(l)).collect();
    assert_eq!(keys.len(), lines.len(), "a run was recorded twice");
}

#[test]
fn an_interrupted_sweep_runs_only_the_rest() {
    let dir = scratch("interrupted");
    let scenario = write(&dir, "tiny.toml", support::TINY);
    let full = dir.join("full");
    sweep(&scenario, &full, &[]);
    let expected = result_lines(&full);
    assert_eq!(expected.len(), 6);

    // The same sweep, cut off after two records and half of a third, as a
    // kill in the middle of a write leaves it.
    let part = dir.join("part");
    sweep(&scenario, &part, &[]);
    let lines = result_lines(&part);
    let cut = format!(
        "{}\n{}\n{}",
        lines[0],
        lines[1],
        &lines[2][..lines[2].len() / 2]
    );
    std::fs::write(part.join("results.jsonl"), cut).unwrap();

    let resumed = sweep(&scenario, &part, &[]);
    let err = stderr(&resumed);
    assert!(err.contains("4 to run"), "{err}");
    assert!(err.contains("partial last line"), "{err}");
    let lines = result_lines(&part);
    assert_eq!(lines.len(), 6);
    assert_no_duplicates(&lines);
    assert_eq!(sorted(lines), sorted(expected.clone()));
    assert_eq!(
        std::fs::read_to_string(part.join("summary.csv")).unwrap(),
        std::fs::read_to_string(full.join("summary.csv")).unwrap()
    );

    // Once complete, a rerun runs nothing.
    let again = sweep(&scenario, &part, &[]);
    assert!(stderr(&again).contains("0 to run"), "{}", stderr(&again));
    assert_eq!(result_lines(&part).len(), 6);
}

#[test]
// The wall clock, legitimately: the test waits (boundedly) for a real child
// process to write its first results before killing it.
#[allow(clippy::disallowed_methods)]
fn a_killed_sweep_resumes_where_it_stopped() {
    let dir = scratch("killed");
    let scenario = write(
        &dir,
        "more.toml",
        &support::TINY.replace("seeds = 3", "seeds = 8"),
    );
    let out = dir.join("out");
    let mut child = httplab_command([
        "bench".as_ref(),
        "--scenario".as_ref(),
        scenario.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--jobs".as_ref(),
        "1".as_ref(),
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while result_lines(&out).len() < 2 && Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let done = result_lines(&out).len();
    eprintln!("killed after {done} runs");

    let resumed = sweep(&scenario, &out, &[]);
    let err = stderr(&resumed);
    assert!(
        err.contains(&format!("{} to run", 16 - done)),
        "{done} done: {err}"
    );
    let lines = result_lines(&out);
    assert_eq!(lines.len(), 16);
    assert_no_duplicates(&lines);
}

#[test]
fn shards_merge_into_the_whole_sweep() {
    let dir = scratch("shards");
    let scenario = write(&dir, "tiny.toml", support::TINY);
    let full = dir.join("full");
    sweep(&scenario, &full, &[]);
    let (one, two) = (dir.join("one"), dir.join("two"));
    sweep(&scenario, &one, &["--shard", "1/2"]);
    sweep(&scenario, &two, &["--shard", "2/2"]);
    assert_eq!(result_lines(&one).len(), 3);
    assert_eq!(result_lines(&two).len(), 3);

    let merged = dir.join("merged");
    for _ in 0..2 {
        // Merging twice changes nothing: duplicates are dropped.
        assert_ok(&httplab([
            "merge".as_ref(),
            one.as_os_str(),
            two.as_os_str(),
            "--out".as_ref(),
            merged.as_os_str(),
        ]));
    }
    assert_eq!(sorted(result_lines(&merged)), sorted(result_lines(&full)));
    for file in ["summary.csv", "scenario.toml"] {
        assert_eq!(
            std::fs::read_to_string(merged.join(file)).unwrap(),
            std::fs::read_to_string(full.join(file)).unwrap(),
            "{file}"
        );
    }
}
