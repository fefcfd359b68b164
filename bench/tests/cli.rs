//! The command line: determinism of `run --json`, and bad input giving a
//! clear error and a non-zero exit, never a panic.

mod support;

use support::{assert_ok, httplab, scratch, stderr, stdout, write};

#[test]
fn run_json_is_byte_identical_across_invocations() {
    let args = [
        "run",
        "--scenario",
        "page",
        "--protocol",
        "h2",
        "--seed",
        "7",
        "--loss",
        "2",
        "--json",
    ];
    let first = httplab(args);
    assert_ok(&first);
    let second = httplab(args);
    assert_ok(&second);
    assert!(!first.stdout.is_empty());
    assert!(
        first.stdout == second.stdout,
        "two runs printed different JSON"
    );

    let record: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(record["run_key"], "h2/seed=7/loss_percent=2");
    assert_eq!(record["outcome"], "ok");
    assert_eq!(record["axes"]["loss_percent"], 2.0);
    assert_eq!(record["measurements"]["total_bytes"], 1_750_000);
}

/// `httplab run` gives the very record a sweep with the same overrides
/// stores for that run.
#[test]
fn run_gives_the_record_a_sweep_stores() {
    let dir = scratch("run-equals-sweep");
    let scenario = write(&dir, "tiny.toml", support::TINY);
    let out = dir.join("out");
    assert_ok(&httplab([
        "bench".as_ref(),
        "--scenario".as_ref(),
        scenario.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--loss".as_ref(),
        "1".as_ref(),
    ]));
    let single = httplab([
        "run".as_ref(),
        "--scenario".as_ref(),
        scenario.as_os_str(),
        "--loss".as_ref(),
        "1".as_ref(),
        "--protocol".as_ref(),
        "h3".as_ref(),
        "--seed".as_ref(),
        "2".as_ref(),
        "--json".as_ref(),
    ]);
    assert_ok(&single);
    let single: serde_json::Value = serde_json::from_slice(&single.stdout).unwrap();
    let stored = support::result_lines(&out)
        .into_iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(&l).unwrap())
        .find(|r| r["run_key"] == "h3/seed=2/loss_percent=1")
        .expect("the sweep stored h3 seed 2");
    assert_eq!(single, stored);
}

#[test]
fn a_bad_flag_fails_with_a_message() {
    let cases: [(&[&str], &str); 18] = [
        (&["bench", "--bogus"], "--bogus"),
        (&["bench", "--cc", "vegas"], "--cc"),
        (&["bench", "--pacing", "fast"], "--pacing"),
        (&["bench", "--scheduler", "fifo"], "--scheduler"),
        (&["bench", "--certificate", "huge"], "--certificate"),
        (&["bench", "--coalescing", "sometimes"], "--coalescing"),
        (
            &["bench", "--network-events", "sometimes"],
            "--network-events",
        ),
        // The default page has no drop or blackout to turn off.
        (
            &["bench", "--network-events", "off"],
            "sweep.network_events",
        ),
        (&["bench", "--initial-window", "0"], "--initial-window"),
        (
            &["run", "--protocol", "h2", "--tcp", "smoltcp", "--cc", "bbr"],
            "bbr needs",
        ),
        (&["bench", "--loss", "lots"], "--loss"),
        (&["bench", "--loss", "150"], "--loss"),
        (&["bench", "--protocols", "h4"], "h4"),
        (&["bench", "--shard", "3/2"], "--shard"),
        (&["bench", "--preset", "moon"], "moon"),
        (&["run", "--protocol", "h2", "--seed", "x"], "--seed"),
        // smoltcp's buffers stop at 1 GiB, and 4 x this path's BDP is
        // more: once a panic inside smoltcp, recorded as a failed run with
        // exit 0 (issue #16 item 4).
        (
            &[
                "run",
                "--protocol",
                "h1",
                "--tcp",
                "smoltcp",
                "--bandwidth",
                "50000",
            ],
            "network.bandwidth_mbit",
        ),
        (
            &["bench", "--tcp", "smoltcp", "--bandwidth", "50000"],
            "smoltcp's socket buffers cannot exceed 1 GiB",
        ),
    ];
    for (args, needle) in cases {
        let out = httplab(args);
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    }
}

#[test]
fn a_bad_scenario_file_names_file_line_and_field() {
    let dir = scratch("bad-scenarios");
    let cases = [
        (
            "unknown-field.toml",
            "name = \"x\"\nseedz = 3\n",
            ":2:",
            "seedz",
        ),
        (
            "wrong-type.toml",
            "name = \"x\"\nseeds = \"three\"\n",
            ":2:",
            "seeds",
        ),
        (
            "loss.toml",
            "name = \"x\"\n\n[network]\nloss = { model = \"bernoulli\", percent = 150 }\n",
            ":4:",
            "network.loss.percent",
        ),
        (
            "protocol.toml",
            "name = \"x\"\nprotocols = [\"h1\", \"h4\"]\n",
            ":2:",
            "protocols[1]",
        ),
        (
            "preset.toml",
            "name = \"x\"\n[network]\npreset = \"moon\"\n",
            ":3:",
            "network.preset",
        ),
    ];
    for (file, text, line, field) in cases {
        let path = write(&dir, file, text);
        for command in ["bench", "run"] {
            let mut args = vec![command, "--scenario", path.to_str().unwrap()];
            if command == "run" {
                args.extend(["--protocol", "h1"]);
            }
            let out = httplab(&args);
            let err = stderr(&out);
            assert!(!out.status.success(), "{file} was accepted");
            assert!(err.contains(&format!("{file}{line}")), "{file}: {err}");
            assert!(err.contains(field), "{file}: {err}");
            assert!(!err.contains("panicked"), "{file}: {err}");
        }
    }
    let out = httplab(["bench", "--scenario", "no-such-scenario"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no-such-scenario"));
}

#[test]
fn report_renders_a_results_directory() {
    let out = httplab(["report", "some/dir"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("some/dir/results.jsonl"), "{err}");

    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../reports/tests/fixtures");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-report");
    let _ = std::fs::remove_dir_all(&dir);
    let out = httplab(["report", fixture, "--out", dir.to_str().unwrap()]);
    assert_ok(&out);
    assert!(stdout(&out).contains("6 runs (0 failed, 0 timed out)"));
    for file in ["report.md", "index.html", "stats.csv"] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
}

#[test]
fn merge_puts_the_page_times_of_the_records_in_summary_csv() {
    // The page-times fixture: the page loaded as a browser does, every
    // record with `measurements.page`.
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../reports/tests/fixtures/page-times"
    );
    let dir = scratch("cli-merge-page-times");
    assert_ok(&httplab(["merge", fixture, "--out", dir.to_str().unwrap()]));
    let csv = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.last(), Some(&"reason"));
    assert_eq!(
        header[..12],
        [
            "scenario",
            "protocol",
            "seed",
            "outcome",
            "plt_ms",
            "ttfb_ms",
            "first_render_ms",
            "dcl_ms",
            "onload_ms",
            "speed_index_ms",
            "total_bytes",
            "connections",
        ]
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let records: Vec<serde_json::Value> =
        std::fs::read_to_string(format!("{fixture}/results.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    assert_eq!(rows.len(), records.len());
    for r in &records {
        let (protocol, seed) = (r["protocol"].as_str().unwrap(), r["seed"].to_string());
        let row = rows
            .iter()
            .find(|row| row[1] == protocol && row[2] == seed)
            .unwrap_or_else(|| panic!("no row for {protocol} seed {seed}"));
        let page = &r["measurements"]["page"];
        for (column, field) in [
            (6, "first_render_ns"),
            (7, "dom_content_loaded_ns"),
            (8, "onload_ns"),
            (9, "speed_index_ns"),
        ] {
            let ns = page[field].as_u64().unwrap();
            let ms = format!("{}.{:06}", ns / 1_000_000, ns % 1_000_000);
            assert_eq!(row[column], ms, "{protocol} seed {seed} {field}");
        }
    }
}

#[test]
fn list_names_every_scenario_and_preset() {
    let out = httplab(["list"]);
    assert_ok(&out);
    let text = stdout(&out);
    for name in scenarios::Scenario::builtin_names() {
        assert!(
            text.contains(&format!("  {name} ")),
            "{name} missing:\n{text}"
        );
    }
    for preset in scenarios::presets() {
        assert!(
            text.contains(preset.name),
            "{} missing:\n{text}",
            preset.name
        );
    }
}

/// The wall-clock guard ends a run that would take too long (a 1 GiB
/// download at 10 Gbit/s, minutes of CPU), records it as failed saying
/// why, and `run` exits non-zero (issue #16 item 9: such a run once made
/// `bench` look hung).
#[test]
fn the_wall_clock_guard_stops_a_run_and_says_so() {
    let dir = scratch("wall-guard");
    let scenario = write(
        &dir,
        "huge.toml",
        "name = \"huge\"\nseeds = 1\nprotocols = [\"h2\"]\ntime_limit_s = 600\n\
         [network]\nrtt_ms = 20\nbandwidth_mbit = 10000\n\
         [workload]\nkind = \"bulk\"\nsize = 1073741824\n",
    );
    let out = httplab([
        "run".as_ref(),
        "--scenario".as_ref(),
        scenario.as_os_str(),
        "--protocol".as_ref(),
        "h2".as_ref(),
        "--wall-limit-s".as_ref(),
        "1".as_ref(),
        "--json".as_ref(),
    ]);
    assert!(!out.status.success(), "a stopped run exits non-zero");
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["outcome"], "failed");
    let reason = record["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("stopped by the wall-clock guard: 1 s of wall-clock time passed"),
        "{reason}"
    );
    assert!(
        stderr(&out).contains("failed: stopped by the wall-clock guard"),
        "{}",
        stderr(&out)
    );
}

/// The per-run `summary.csv` has every per-run metric, with the values the
/// report's statistics are computed from: for each protocol and metric,
/// the median of its column is the median `stats.csv` gives.
#[test]
fn summary_csv_has_every_per_run_metric_as_the_report_computes_it() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../reports/tests/fixtures");
    let dir = scratch("cli-summary-metrics");
    assert_ok(&httplab(["merge", fixture, "--out", dir.to_str().unwrap()]));
    let report = dir.join("report");
    assert_ok(&httplab([
        "report",
        dir.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
    ]));
    let table = |path: std::path::PathBuf| -> Vec<std::collections::BTreeMap<String, String>> {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
        lines
            .map(|l| {
                header
                    .iter()
                    .cloned()
                    .zip(l.split(',').map(String::from))
                    .collect()
            })
            .collect()
    };
    let summary = table(dir.join("summary.csv"));
    let stats = table(report.join("stats.csv"));
    for column in [
        "handshake_ms",
        "hol_blocked_ms",
        "byte_delivery_ms",
        "goodput_mbit_s",
        "retransmissions",
        "server_retransmissions",
        "drops_random",
        "drops_queue_full",
    ] {
        assert!(
            summary[0].contains_key(column),
            "summary.csv lacks {column}"
        );
    }
    let mut compared = 0;
    for row in &stats {
        let column = match row["unit"].as_str() {
            // The one metric whose summary column is abbreviated.
            "ms" if row["metric"] == "dom_content_loaded" => "dcl_ms".to_owned(),
            "ms" => format!("{}_ms", row["metric"]),
            "Mbit/s" => format!("{}_mbit_s", row["metric"]),
            "byte·s" => format!("{}_byte_s", row["metric"]),
            _ => row["metric"].clone(),
        };
        if row["median"].is_empty() || column.ends_with("plt_ms") || column == "ttfb_ms" {
            continue;
        }
        let mut values: Vec<f64> = summary
            .iter()
            .filter(|r| r["protocol"] == row["protocol"] && r["outcome"] == "ok")
            .filter_map(|r| r.get(&column).filter(|v| !v.is_empty()))
            .map(|v| v.parse().unwrap())
            .collect();
        values.sort_by(f64::total_cmp);
        assert_eq!(
            values.len().to_string(),
            row["n"],
            "{column} of {}",
            row["protocol"]
        );
        let n = values.len();
        let middle = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        let median: f64 = row["median"].parse().unwrap();
        assert!(
            (middle - median).abs() <= 1e-9 * median.abs().max(1.0),
            "{column} of {}: summary {values:?}, stats median {median}",
            row["protocol"]
        );
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} metrics compared");
}
