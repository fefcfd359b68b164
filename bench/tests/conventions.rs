//! The command line keeps shell conventions (issue #17 item 5 and 6): exit
//! codes, a closed pipe, SIGINT in the middle of a sweep, each error cause
//! once, `-V` with the commit, completions and man pages; and a sweep's
//! files are the same however it was run: grown seeds reuse finished runs,
//! and `results.jsonl` is in run order whatever `--jobs` was.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{
    assert_ok, bench_command, httplab, httplab_command, result_lines, run_key, scratch, stderr,
    write,
};

/// A scenario of small, quick runs: a 20 KB object over HTTP/2, `seeds`
/// seeds.
fn quick(seeds: u64) -> String {
    format!(
        "name = \"quick\"\nprotocols = [\"h2\"]\nseeds = {seeds}\ntime_limit_s = 20\n\
         [workload]\nkind = \"bulk\"\nsize = 20_000\n"
    )
}

/// `bench` of `scenario` into `out` with `extra` flags, to its end.
fn bench(scenario: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    bench_command(scenario, out, extra).output().unwrap()
}

/// The summary's data rows.
fn summary_rows(out: &Path) -> usize {
    std::fs::read_to_string(out.join("summary.csv"))
        .unwrap_or_default()
        .lines()
        .count()
        .saturating_sub(1)
}

#[test]
fn run_exits_3_on_a_timed_out_run() {
    let dir = scratch("conv-timeout");
    // 1.75 MB at 10 Mbit/s cannot finish in 0.2 s of simulated time.
    let scenario = write(
        &dir,
        "short.toml",
        "name = \"short\"\ntime_limit_s = 0.2\n[workload]\nkind = \"bulk\"\nsize = 1_750_000\n",
    );
    let out = httplab([
        "run",
        "--scenario",
        scenario.to_str().unwrap(),
        "--protocol",
        "h2",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("timed out"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
}

#[test]
fn bench_strict_fails_on_a_failed_run_and_plain_bench_does_not() {
    let dir = scratch("conv-strict");
    let scenario = write(
        &dir,
        "short.toml",
        "name = \"short\"\nprotocols = [\"h2\"]\nseeds = 1\ntime_limit_s = 0.2\n\
         [workload]\nkind = \"bulk\"\nsize = 1_750_000\n",
    );
    let out = dir.join("out");
    let plain = bench(&scenario, &out, &[]);
    assert_ok(&plain);
    let strict = bench(&scenario, &out, &["--strict"]);
    assert_eq!(strict.status.code(), Some(3), "{}", stderr(&strict));
    assert!(stderr(&strict).contains("--strict: 1 of 1 runs failed or timed out"));
    // Everything was still written.
    assert!(out.join("report").join("report.md").is_file());
    assert_eq!(summary_rows(&out), 1);
}

/// `bench … 2>&1 | head -2`: the reader goes away after two lines. The
/// sweep neither panics nor fails, and stores and reports every run.
#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = scratch("conv-pipe");
    let scenario = write(&dir, "quick.toml", &quick(4));
    let out = dir.join("out");
    let mut child = bench_command(&scenario, &out, &["--jobs", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both ends closed at once, before anything is read: stderr's first
    // line and the table on stdout both meet a closed pipe.
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "not 101 (a panic) nor 1");
    assert_eq!(result_lines(&out).len(), 4);
    assert!(out.join("report").join("report.md").is_file());

    // `run --json | head -c 100`: no "Broken pipe", exit 0.
    let mut child = httplab_command(["run", "--scenario", "page", "--protocol", "h2", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        !stderr(&output).to_lowercase().contains("broken pipe"),
        "{}",
        stderr(&output)
    );
}

/// Wait, at most `limit`, until `ready` holds.
fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    // The wall clock bounds a wait for another process; no result
    // depends on it.
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    while !ready() {
        #[allow(clippy::disallowed_methods)]
        let waited = start.elapsed();
        if waited > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

#[test]
fn sigint_mid_sweep_stores_reports_and_resumes() {
    let dir = scratch("conv-sigint");
    let scenario = write(&dir, "quick.toml", &quick(100));
    let out = dir.join("out");
    let mut child = bench_command(&scenario, &out, &["--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr_pipe)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    assert!(
        wait_until(Duration::from_secs(120), || result_lines(&out).len() >= 2),
        "the sweep stored no run"
    );
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let mut status = None;
    assert!(
        wait_until(Duration::from_secs(120), || {
            status = child.try_wait().unwrap();
            status.is_some()
        }),
        "bench did not end after SIGINT"
    );
    let lines = reader.join().unwrap();
    let text = lines.join("\n");
    assert_eq!(status.unwrap().code(), Some(130), "{text}");
    let done = result_lines(&out).len();
    assert!(done < 100, "SIGINT stopped nothing: {text}");
    let said = format!("interrupted: {done} of 100 runs done; rerun the same command to resume");
    assert!(text.contains(&said), "{text}");
    // summary.csv and the report are current: every stored run is in them.
    assert_eq!(summary_rows(&out), done);
    assert!(out.join("report").join("report.md").is_file());

    // The same command runs the rest, and only the rest.
    let rest = bench(&scenario, &out, &["--jobs", "1"]);
    assert_ok(&rest);
    assert!(
        stderr(&rest).contains(&format!("{} to run", 100 - done)),
        "{}",
        stderr(&rest)
    );
    assert_eq!(result_lines(&out).len(), 100);
    assert_eq!(summary_rows(&out), 100);
}

#[test]
fn growing_the_seeds_runs_only_the_new_ones() {
    let dir = scratch("conv-seeds");
    let scenario = write(&dir, "quick.toml", &quick(1));
    let out = dir.join("out");
    let first = bench(&scenario, &out, &["--seeds", "10"]);
    assert_ok(&first);
    let ten = result_lines(&out);
    assert_eq!(ten.len(), 10);
    let grown = bench(&scenario, &out, &["--seeds", "20"]);
    assert_ok(&grown);
    let err = stderr(&grown);
    assert!(err.contains("10 to run"), "{err}");
    assert!(err.contains("resumed: 10 of 20 runs"), "{err}");
    let twenty = result_lines(&out);
    assert_eq!(twenty.len(), 20);
    // The first ten records are kept as they were, and the file is what a
    // fresh 20-seed sweep writes.
    assert_eq!(twenty[..10], ten[..]);
    let fresh = dir.join("fresh");
    assert_ok(&bench(&scenario, &fresh, &["--seeds", "20"]));
    assert_eq!(
        std::fs::read(out.join("results.jsonl")).unwrap(),
        std::fs::read(fresh.join("results.jsonl")).unwrap()
    );
}

/// The SHA-256-comparable file: two identical sweeps on two jobs give the
/// same bytes, in the scenario's run order.
#[test]
fn identical_sweeps_give_identical_results_files() {
    let dir = scratch("conv-identical");
    let scenario = write(&dir, "tiny.toml", support::TINY);
    let results: Vec<PathBuf> = ["a", "b"]
        .iter()
        .map(|name| {
            let out = dir.join(name);
            assert_ok(&bench(&scenario, &out, &["--jobs", "2"]));
            out
        })
        .collect();
    let a = std::fs::read(results[0].join("results.jsonl")).unwrap();
    let b = std::fs::read(results[1].join("results.jsonl")).unwrap();
    assert!(a == b, "two identical sweeps wrote different results.jsonl");
    let keys: Vec<String> = result_lines(&results[0])
        .iter()
        .map(|l| run_key(l))
        .collect();
    assert_eq!(
        keys,
        [
            "h1/seed=1",
            "h1/seed=2",
            "h1/seed=3",
            "h3/seed=1",
            "h3/seed=2",
            "h3/seed=3"
        ]
    );
}

#[test]
fn an_error_names_its_cause_once() {
    let out = httplab(["bench", "--scenario", "/no/such/dir/x.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("/no/such/dir/x.toml"), "{err}");
    assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn version_names_the_commit_and_help_the_exit_codes() {
    let out = httplab(["-V"]);
    assert_ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("httplab 0."), "{text}");
    assert!(text.contains("(commit "), "{text}");
    let help = httplab(["--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    for code in ["Exit codes:", "  3 ", "  130 "] {
        assert!(text.contains(code), "{code} missing from --help:\n{text}");
    }
}

#[test]
fn completions_and_man_pages_come_from_the_command_line() {
    for shell in ["bash", "zsh", "fish"] {
        let out = httplab(["completions", shell]);
        assert_ok(&out);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("bench") && text.contains("scenario"),
            "{shell}"
        );
    }
    let page = httplab(["man"]);
    assert_ok(&page);
    let text = String::from_utf8_lossy(&page.stdout);
    assert!(
        text.starts_with(".ie") || text.contains(".TH httplab"),
        "{text}"
    );
    let dir = scratch("conv-man");
    assert_ok(&httplab(["man", "--out", dir.to_str().unwrap()]));
    let bench_page = std::fs::read_to_string(dir.join("httplab-bench.1")).unwrap();
    assert!(bench_page.contains("strict"), "{bench_page}");
}

/// A sweep rerun after a rebuild runs every run again, and its report is of
/// the new build: the end-of-sweep rewrite keeps the older build's records
/// before this sweep's, so the last record, which the report goes by, is
/// this build's.
#[test]
fn a_sweep_after_a_rebuild_reports_the_new_build() {
    let dir = scratch("conv-rebuild");
    let scenario = write(&dir, "quick.toml", &quick(3));
    let out = dir.join("out");
    assert_ok(&bench(&scenario, &out, &[]));
    let old_commit = "0".repeat(40);
    let mut older = String::new();
    for line in result_lines(&out) {
        let mut record: serde_json::Value = serde_json::from_str(&line).unwrap();
        record["lab"]["commit"] = old_commit.clone().into();
        older.push_str(&serde_json::to_string(&record).unwrap());
        older.push('\n');
    }
    std::fs::write(out.join("results.jsonl"), older).unwrap();

    let again = bench(&scenario, &out, &[]);
    assert_ok(&again);
    assert!(stderr(&again).contains("3 to run"), "{}", stderr(&again));
    let commits: Vec<String> = result_lines(&out)
        .iter()
        .map(|l| {
            let record: serde_json::Value = serde_json::from_str(l).unwrap();
            record["lab"]["commit"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(commits.len(), 6);
    assert!(commits[..3].iter().all(|c| *c == old_commit), "{commits:?}");
    assert!(commits[3..].iter().all(|c| *c != old_commit), "{commits:?}");
    let report = std::fs::read_to_string(out.join("report").join("report.md")).unwrap();
    assert!(
        report.contains(&format!("commit {}", commits[5])),
        "the report is not of the current build"
    );
    assert!(
        !report.contains(&old_commit),
        "the report names the old build"
    );
}

/// Records of seeds a later sweep dropped stay in the file and are left out
/// of the report with one warning, not one per record.
#[test]
fn fewer_seeds_keep_the_others_and_warn_once() {
    let dir = scratch("conv-fewer-seeds");
    let scenario = write(&dir, "quick.toml", &quick(6));
    let out = dir.join("out");
    assert_ok(&bench(&scenario, &out, &[]));
    let fewer = bench(&scenario, &out, &["--seeds", "2"]);
    assert_ok(&fewer);
    let err = stderr(&fewer);
    assert!(err.contains("0 to run"), "{err}");
    assert_eq!(err.matches("warning:").count(), 1, "{err}");
    assert!(
        err.contains("left out 4 records whose run is not in scenario.toml"),
        "{err}"
    );
    assert_eq!(result_lines(&out).len(), 6);
    assert_eq!(summary_rows(&out), 2);
}
