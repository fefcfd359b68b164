//! A results.jsonl line that is not a record of this build is rejected the
//! same way by every command that reads the file (`bench` resuming,
//! `merge`, `report`): an error naming the file and the line, and nothing
//! written.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{httplab, result_lines, stderr, tiny_sweep, write};

/// The message of `httplab args`, which must fail.
fn failure<const N: usize>(args: [&str; N]) -> String {
    let out = httplab(args);
    assert!(!out.status.success(), "httplab {args:?} succeeded");
    stderr(&out)
}

/// An edit of a record's JSON.
type Edit = fn(&mut Value);

/// `dir` as the commands take it.
fn arg(dir: &Path) -> &str {
    dir.to_str().expect("a UTF-8 path")
}

#[test]
fn a_bad_record_is_rejected_by_bench_merge_and_report_naming_file_and_line() {
    let (scenario, good) = tiny_sweep("bad-record");
    let base = good
        .parent()
        .expect("the sweep's scratch directory")
        .to_owned();
    let lines = result_lines(&good);
    assert_eq!(lines.len(), 6);

    // Line 3 edited, as JSON; every other line as the lab wrote it.
    let edits: [(&str, Edit, &str); 5] = [
        // `report` once took these two (issue #16 item 12).
        (
            "empty-object",
            |r| *r = serde_json::json!({}),
            ":3: not a run record: missing field",
        ),
        (
            "unknown-outcome",
            |r| r["outcome"] = "fast".into(),
            ":3: not a run record: unknown variant `fast`",
        ),
        (
            "h4",
            |r| r["protocol"] = "h4".into(),
            ":3: not a run record: unknown variant `h4`, expected one of `h1`, `h2`, `h3`",
        ),
        (
            "no-seed",
            |r| {
                r.as_object_mut().unwrap().remove("seed");
            },
            ":3: not a run record: missing field `seed`",
        ),
        (
            "old-layout",
            |r| r["schema"] = 1.into(),
            ":3: a record of schema 1, and this build reads schema 4",
        ),
    ];
    for (name, edit, complaint) in edits {
        let dir = base.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::new();
        for (i, line) in lines.iter().enumerate() {
            if i == 2 {
                let mut record: Value = serde_json::from_str(line).unwrap();
                edit(&mut record);
                text.push_str(&record.to_string());
            } else {
                text.push_str(line);
            }
            text.push('\n');
        }
        write(&dir, "results.jsonl", &text);
        let expected = format!("{}{complaint}", dir.join("results.jsonl").display());

        // bench, resuming into the directory.
        let bench = failure(["bench", "--scenario", arg(&scenario), "--out", arg(&dir)]);
        assert!(bench.contains(&expected), "bench: {bench}");
        // merge, reading it as an input.
        let merged = base.join(format!("{name}-merged"));
        let merge = failure(["merge", arg(&dir), "--out", arg(&merged)]);
        assert!(merge.contains(&expected), "merge: {merge}");
        // report, the same reader.
        let report = failure(["report", arg(&dir)]);
        assert!(report.contains(&expected), "report: {report}");

        // Nothing was run, appended or rendered.
        assert_eq!(
            std::fs::read_to_string(dir.join("results.jsonl")).unwrap(),
            text
        );
        assert!(!dir.join("report").exists());
        assert!(!merged.join("results.jsonl").exists());
    }
}
