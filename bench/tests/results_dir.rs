//! A results directory survives what issue #16 found (items 5, 10 and
//! 12): a record of a run that panicked, a second process writing into
//! the same directory, and records that are foreign or implausible.

mod support;

use std::path::Path;

use bench::results::{OutLock, LOCK_FILE};
use serde_json::Value;
use support::{assert_ok, httplab, result_lines, scratch, stderr, stdout, tiny_sweep};

/// `dir` as the commands take it.
fn arg(dir: &Path) -> &str {
    dir.to_str().expect("a UTF-8 path")
}

/// Replace line `n` (from 0) of `dir`'s results.jsonl by `edit` of it.
fn edit_line(dir: &Path, n: usize, edit: impl FnOnce(&mut Value)) {
    let mut lines = result_lines(dir);
    let mut record: Value = serde_json::from_str(&lines[n]).unwrap();
    edit(&mut record);
    lines[n] = record.to_string();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join("results.jsonl"), text).unwrap();
}

/// A run that panicked is recorded as failed with the panic's message and
/// no transport, server connections, simulation or measurements (`null`,
/// as docs/results.md allows). Such a record once made `report` and every
/// later `bench` into the directory fail with "not a run record".
#[test]
fn a_record_of_a_panicked_run_leaves_the_directory_usable() {
    let (scenario, out) = tiny_sweep("panicked-record");
    edit_line(&out, 1, |r| {
        r["outcome"] = "failed".into();
        r["reason"] = "the run panicked: receiving buffer too large, cannot exceed 1 GiB".into();
        for field in [
            "transport",
            "server_connections",
            "simulation",
            "measurements",
        ] {
            r[field] = Value::Null;
        }
    });
    let report = httplab(["report", arg(&out)]);
    assert_ok(&report);
    assert!(
        stdout(&report).contains("6 runs (1 failed, 0 timed out)"),
        "{}",
        stdout(&report)
    );
    // bench resumes into it: the failed run is kept, nothing runs again.
    let again = httplab(["bench", "--scenario", arg(&scenario), "--out", arg(&out)]);
    assert_ok(&again);
    assert!(
        stderr(&again).contains("resumed: 6 of 6 runs"),
        "{}",
        stderr(&again)
    );
    assert_eq!(result_lines(&out).len(), 6);
}

/// While one process writes into a results directory, a second `bench` or
/// `merge` into it stops at once and names the holder. Two `bench`
/// processes on one directory once ran every run twice, and their shared
/// temporary file name made one of them fail.
#[test]
fn a_second_writer_of_a_results_directory_stops_naming_the_holder() {
    let (scenario, out) = tiny_sweep("locked-out");
    let before = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    let lock = OutLock::acquire(&out).expect("the directory is free");
    let holder = format!("process {} is writing into it", std::process::id());
    let bench = httplab([
        "bench",
        "--scenario",
        arg(&scenario),
        "--seeds",
        "4",
        "--out",
        arg(&out),
    ]);
    assert!(!bench.status.success());
    assert!(stderr(&bench).contains(&holder), "{}", stderr(&bench));
    let merge = httplab(["merge", arg(&out), "--out", arg(&out)]);
    assert!(!merge.status.success());
    assert!(stderr(&merge).contains(&holder), "{}", stderr(&merge));
    assert_eq!(
        std::fs::read_to_string(out.join("results.jsonl")).unwrap(),
        before,
        "the locked-out commands wrote nothing"
    );
    // Once the holder is gone the directory is free again.
    drop(lock);
    assert_ok(&httplab([
        "bench",
        "--scenario",
        arg(&scenario),
        "--seeds",
        "4",
        "--out",
        arg(&out),
    ]));
    // The first sweep's six records, and this one's two new runs (seed 4
    // of each protocol): the seed count is not part of the scenario's hash.
    assert_eq!(result_lines(&out).len(), 8);
    assert!(out.join(LOCK_FILE).is_file());
    // No temporary file is left behind.
    for entry in std::fs::read_dir(&out).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "{name} left behind");
    }
}

/// Two processes' atomic writes of one file never share a temporary file:
/// sixteen threads writing the same summary at once all succeed.
#[test]
fn concurrent_atomic_writes_of_one_file_all_succeed() {
    let dir = scratch("atomic-writes");
    let path = dir.join("summary.csv");
    std::thread::scope(|scope| {
        for i in 0..16 {
            let path = &path;
            scope.spawn(move || {
                for j in 0..20 {
                    bench::results::write_atomic(path, format!("{i} {j}\n").as_bytes())
                        .expect("every write succeeds");
                }
            });
        }
    });
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with(" 19\n"), "{text}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "temporaries left"
    );
}

/// `report` counts only the runs the scenario file describes, and warns of
/// records no run of the lab can produce, naming the file, line and run.
/// It once counted "601 runs" for a 600-run sweep and checked nothing.
#[test]
fn report_leaves_out_foreign_runs_and_warns_of_implausible_ones() {
    let (_, out) = tiny_sweep("implausible");
    let mut lines = result_lines(&out);
    // A seventh record with the scenario's hash and a run key it has not.
    let mut foreign: Value = serde_json::from_str(&lines[0]).unwrap();
    foreign["run_key"] = "h1/seed=999".into();
    foreign["seed"] = 999.into();
    lines.push(foreign.to_string());
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(out.join("results.jsonl"), text).unwrap();
    edit_line(&out, 0, |r| r["measurements"]["plt_ns"] = 1.into());
    edit_line(&out, 1, |r| r["measurements"]["ttfb_ns"] = Value::Null);
    edit_line(&out, 2, |r| r["reason"] = Value::Null);
    edit_line(&out, 2, |r| r["outcome"] = "failed".into());

    let report = httplab(["report", arg(&out)]);
    assert_ok(&report);
    assert!(
        stdout(&report).contains("6 runs (1 failed, 0 timed out)"),
        "{}",
        stdout(&report)
    );
    let err = stderr(&report);
    let file = out.join("results.jsonl");
    let file = file.display();
    let key = |n: usize| {
        let record: Value = serde_json::from_str(&result_lines(&out)[n]).unwrap();
        record["run_key"].as_str().unwrap().to_owned()
    };
    for (line, needle) in [
        (
            7,
            "left out 1 record whose run is not in scenario.toml (seeds or sweep points the \
             last sweep did not have; the first: run key \"h1/seed=999\")"
                .to_owned(),
        ),
        (
            1,
            format!(
                "run {}: a page load time of 0.000 ms is shorter than one round trip",
                key(0)
            ),
        ),
        (1, format!("run {}: its time to first byte", key(0))),
        (2, format!("run {}: ok with no time to first byte", key(1))),
        (3, format!("run {}: failed with no reason", key(2))),
    ] {
        let expected = format!("warning: {file}:{line}: {needle}");
        assert!(err.contains(&expected), "missing {expected:?} in\n{err}");
    }
}

/// A small seeded generator (SplitMix64), so that a failing case repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn chance(&mut self) -> bool {
        self.next().is_multiple_of(3)
    }

    fn duration(&mut self) -> Option<std::time::Duration> {
        (!self.chance()).then(|| std::time::Duration::from_nanos(self.next() >> (self.next() % 64)))
    }

    fn text(&mut self) -> String {
        const PIECES: &[&str] = &[
            "boom",
            "\"quoted\"",
            "new\nline",
            "tab\t",
            "ünïcödé",
            "\\",
            "",
            "{}",
            "\u{0}",
        ];
        (0..self.next() % 4)
            .map(|_| PIECES[(self.next() % PIECES.len() as u64) as usize])
            .collect()
    }
}

/// Every record the writer can produce, the reader reads back equal: 2 000
/// records made from the fixtures' real ones, with their optional parts
/// dropped at random (as a panicked, invalid or timed-out run leaves them),
/// every outcome, reasons with quotes, newlines and NULs, and times from 0
/// to the largest the record holds (issue #16 item 8).
#[test]
fn the_reader_reads_back_every_record_the_writer_writes() {
    use bench::results::ResultsAppender;
    use records::{Outcome, RunResult};

    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../reports/tests/fixtures");
    let mut bases: Vec<RunResult> = Vec::new();
    for file in [
        "results.jsonl",
        "page-times/results.jsonl",
        "sweep/results.jsonl",
    ] {
        bases.extend(records::read_records(&Path::new(fixtures).join(file)).expect("a fixture"));
    }
    assert!(bases.len() > 20);
    let dir = scratch("round-trip");
    let mut rng = Rng(8);
    let mut cases = 0;
    for batch in 0..20 {
        let path = dir.join(format!("batch-{batch}.jsonl"));
        let mut appender = ResultsAppender::open(&path, 0).unwrap();
        let mut written = Vec::new();
        for _ in 0..100 {
            let mut r = bases[(rng.next() % bases.len() as u64) as usize].clone();
            r.seed = rng.next();
            r.outcome = [Outcome::Ok, Outcome::Failed, Outcome::Timeout][(rng.next() % 3) as usize];
            r.reason = rng.chance().then(|| rng.text());
            if rng.chance() {
                r.transport = None;
            }
            if rng.chance() {
                r.server_connections = None;
            }
            if rng.chance() {
                r.simulation = None;
            }
            if rng.chance() {
                r.measurements = None;
            }
            if let Some(m) = &mut r.measurements {
                m.plt = rng.duration();
                m.ttfb = rng.duration();
                m.failure = rng.chance().then(|| rng.text());
                let keep = (rng.next() % (m.requests.len() as u64 + 1)) as usize;
                m.requests.truncate(keep);
                for q in &mut m.requests {
                    q.first_byte = rng.duration();
                    q.last_byte = rng.duration();
                    q.error = rng.chance().then(|| rng.text());
                    let points = (rng.next() % (q.timeline.len() as u64 + 1)) as usize;
                    q.timeline.truncate(points);
                }
            }
            appender.append(&r).unwrap();
            written.push(r);
            cases += 1;
        }
        let read = records::read_records(&path).unwrap_or_else(|e| panic!("batch {batch}: {e}"));
        assert_eq!(read.len(), written.len());
        for (i, (a, b)) in written.iter().zip(&read).enumerate() {
            assert!(a == b, "batch {batch} record {i} read back different");
        }
    }
    assert_eq!(cases, 2000);
}
