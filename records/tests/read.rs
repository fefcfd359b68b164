//! The reader of `results.jsonl`: records read back as written, and every
//! line that is not a record of this layout is an error naming the file
//! and the line.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use clients::{KindTimes, PageTimes, RunRecord};

use records::{
    Axes, AxisValue, LabInfo, Outcome, ReadError, ResultsReader, RunResult, RESULTS_FILE, SCHEMA,
};
use scenarios::{Handshake, Protocol, Scenario};
use serde_json::Value;

/// A record of a run that failed before it measured anything: every
/// envelope field, none of the measurements.
fn record(protocol: Protocol, seed: u64) -> RunResult {
    RunResult {
        schema: SCHEMA,
        scenario: "page".into(),
        scenario_hash: "0123abcd".into(),
        run_key: format!("{protocol}/seed={seed}/loss_percent=2"),
        protocol,
        seed,
        axes: Axes::from([("loss_percent".to_owned(), AxisValue::Number(2.0))]),
        tcp: tcp::TcpImplementation::Linux,
        handshake: Handshake::Full,
        mode: records::Mode::Sim,
        transport: None,
        network: Scenario::builtin("page").expect("page").base_network(),
        lab: LabInfo {
            version: "0.1.0".into(),
            commit: "fcbd5b3".into(),
            dirty: false,
            crate_versions: BTreeMap::from([("quinn".to_owned(), "0.11.9".to_owned())]),
        },
        outcome: Outcome::Failed,
        reason: Some("the run panicked: a test".into()),
        measurements: None,
        server_connections: None,
        simulation: None,
        kernel: None,
    }
}

fn line(r: &RunResult) -> String {
    serde_json::to_string(r).unwrap() + "\n"
}

/// `record` as JSON, changed by `edit`, as one line.
fn edited(r: &RunResult, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut value = serde_json::to_value(r).unwrap();
    edit(value.as_object_mut().unwrap());
    value.to_string() + "\n"
}

/// The records of `text`, read as the file `dir/results.jsonl`.
fn read(text: &str) -> Result<Vec<(usize, RunResult)>, ReadError> {
    let mut reader = ResultsReader::of_bytes(
        Path::new("dir").join(RESULTS_FILE),
        text.as_bytes().to_vec(),
    );
    let mut records = Vec::new();
    while let Some(line) = reader.next_record() {
        let line = line?;
        records.push((line.number, line.record));
    }
    Ok(records)
}

/// The message of the error reading `text`.
fn error(text: &str) -> String {
    read(text).expect_err("not a record").to_string()
}

#[test]
fn records_read_back_as_written() {
    let (a, b) = (record(Protocol::H1, 1), record(Protocol::H3, 2));
    let text = format!("{}\n{}{}{{\"schema\":2,\"scen", line(&a), line(&b), "  \n");
    let mut reader = ResultsReader::of_bytes("results.jsonl", text.clone().into_bytes());
    let mut lines = Vec::new();
    while let Some(l) = reader.next_record() {
        let l = l.unwrap();
        lines.push((l.number, l.at, l.text.to_owned(), l.record));
    }
    assert!(reader.partial_last_line(), "the interrupted last write");
    assert_eq!(
        reader.complete_len() as usize,
        text.rfind('\n').unwrap() + 1
    );
    // Blank lines are skipped, and line numbers count them.
    assert_eq!(lines.len(), 2);
    assert_eq!((lines[0].0, &lines[0].3), (1, &a));
    assert_eq!((lines[1].0, &lines[1].3), (3, &b));
    assert_eq!(lines[1].2, line(&b).trim_end());
    // Where each line is: its first byte and its length.
    assert_eq!((lines[0].1.offset, lines[0].1.len), (0, line(&a).len() - 1));
    assert_eq!(lines[1].1.offset as usize, text.find(&lines[1].2).unwrap());
    assert_eq!(lines[0].1.end(), lines[0].1.offset + line(&a).len() as u64);
}

#[test]
fn named_axes_that_share_labels_read_back_as_their_own_axis() {
    // pacing, coalescing and network_events are all "on" or "off": the
    // key says which.
    let mut r = record(Protocol::H2, 1);
    r.axes.insert(
        "coalescing".into(),
        AxisValue::Coalescing(scenarios::Coalescing::Off),
    );
    r.axes
        .insert("pacing".into(), AxisValue::Pacing(tcp::Pacing::On));
    r.axes.insert(
        "network_events".into(),
        AxisValue::NetworkEvents(scenarios::NetworkEvents::Off),
    );
    let read_back = read(&line(&r)).expect("a record");
    assert_eq!(read_back, [(1, r.clone())]);
    // A label of none of them is still refused, naming the axis.
    let bad = edited(&r, |r| {
        r["axes"]["coalescing"] = "round-robin".into();
    });
    assert!(
        error(&bad).contains("axes.coalescing: round-robin is not a value of this axis"),
        "{}",
        error(&bad)
    );
    let bad = edited(&r, |r| {
        r["axes"]["network_events"] = "early-data".into();
    });
    assert!(
        error(&bad).contains("axes.network_events: early-data is not a value of this axis"),
        "{}",
        error(&bad)
    );
}

#[test]
fn an_unknown_protocol_names_the_file_and_line() {
    let good = line(&record(Protocol::H2, 1));
    let bad = edited(&record(Protocol::H2, 2), |r| {
        r.insert("protocol".into(), "h4".into());
    });
    let message = error(&format!("{good}{bad}"));
    assert!(
        message.starts_with("dir/results.jsonl:2: not a run record: unknown variant `h4`"),
        "{message}"
    );
    assert!(
        message.contains("expected one of `h1`, `h2`, `h3`"),
        "{message}"
    );
}

#[test]
fn a_missing_field_names_the_file_and_line() {
    let bad = edited(&record(Protocol::H2, 1), |r| {
        r.remove("seed");
    });
    assert!(
        error(&bad).starts_with("dir/results.jsonl:1: not a run record: missing field `seed`"),
        "{}",
        error(&bad)
    );
}

#[test]
fn an_unknown_field_or_name_is_not_a_record() {
    let r = record(Protocol::H2, 1);
    let extra = edited(&r, |r| {
        r.insert("colour".into(), "blue".into());
    });
    assert!(error(&extra).contains(":1: not a run record: unknown field `colour`"));
    let lab = edited(&r, |r| {
        r["lab"]["branch"] = "main".into();
    });
    assert!(
        error(&lab).contains("unknown field `branch`"),
        "{}",
        error(&lab)
    );
    for (field, value, complaint) in [
        ("handshake", "zero-rtt", "unknown variant `zero-rtt`"),
        ("outcome", "maybe", "unknown variant `maybe`"),
    ] {
        let bad = edited(&r, |r| {
            r.insert(field.into(), value.into());
        });
        assert!(error(&bad).contains(complaint), "{field}: {}", error(&bad));
    }
    let loss = edited(&r, |r| {
        r["network"]["path"]["up"]["loss"]["model"] = "sometimes".into();
    });
    assert!(
        error(&loss).contains("unknown variant `sometimes`"),
        "{}",
        error(&loss)
    );
    let axis = edited(&r, |r| {
        r["axes"]["handshake"] = "sideways".into();
    });
    assert!(
        error(&axis).contains(":1: not a run record"),
        "{}",
        error(&axis)
    );
}

#[test]
fn a_record_of_another_layout_says_which() {
    // A layout-1 record lacks fields later layouts added; the error says why.
    let old = edited(&record(Protocol::H1, 1), |r| {
        r.insert("schema".into(), 1.into());
        r.remove("handshake");
        r.remove("transport");
    });
    assert_eq!(
        error(&old),
        "dir/results.jsonl:1: a record of schema 1, and this build reads schema 4; \
         write the results again with this build, into a fresh directory"
    );
    let newer = edited(&record(Protocol::H1, 1), |r| {
        r.insert("schema".into(), (SCHEMA + 1).into());
    });
    assert!(
        error(&newer).contains(&format!(":1: a record of schema {}", SCHEMA + 1)),
        "{}",
        error(&newer)
    );
}

/// What a run that completed a page measured, without its requests and
/// connections (the reader does not look inside them), with `page`.
fn measured(page: Option<PageTimes>) -> RunRecord {
    RunRecord {
        protocol: Protocol::H3,
        handshake: Handshake::Full,
        requests: Vec::new(),
        connections: Vec::new(),
        plt: Some(Duration::from_millis(1_960)),
        ttfb: Some(Duration::from_millis(104)),
        hol_blocked: Some(Duration::ZERO),
        hol_cost: None,
        total_bytes: 1_750_000,
        connections_used: 1,
        failure: None,
        migration: None,
        warmup: None,
        page,
        races: Vec::new(),
    }
}

#[test]
fn a_record_reads_with_and_without_page_times() {
    let times = PageTimes {
        first_render: Duration::from_millis(412),
        dom_content_loaded: Duration::from_millis(900),
        onload: Duration::from_millis(1_950),
        speed_index: Duration::from_nanos(1_234_567_891),
        by_kind: vec![KindTimes {
            kind: "css".into(),
            bytes: 70_000,
            completed: vec![Duration::from_millis(300), Duration::from_millis(410)],
        }],
    };
    let ok = |page| RunResult {
        outcome: Outcome::Ok,
        reason: None,
        measurements: Some(measured(page)),
        ..record(Protocol::H3, 1)
    };
    // A flat page's record (and every record written before page times
    // existed) has no `page` field at all; it reads as `None`.
    let flat = ok(None);
    let text = line(&flat);
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["measurements"].get("page"), None, "{text}");
    assert_eq!(read(&text).unwrap(), vec![(1, flat)]);
    // A browser page's record has it, in nanoseconds, and reads back equal.
    let page = ok(Some(times));
    let text = line(&page);
    let value: Value = serde_json::from_str(&text).unwrap();
    let written = &value["measurements"]["page"];
    assert_eq!(written["first_render_ns"], 412_000_000u64);
    assert_eq!(written["speed_index_ns"], 1_234_567_891u64);
    assert_eq!(
        written["by_kind"][0]["completed_ns"],
        serde_json::json!([300_000_000u64, 410_000_000u64])
    );
    assert_eq!(read(&text).unwrap(), vec![(1, page.clone())]);
    // Both in one file.
    let both = format!("{}{text}", line(&ok(None)));
    assert_eq!(read(&both).unwrap().len(), 2);
    // Page times missing a time are not page times.
    let bad = edited(&page, |r| {
        r["measurements"]["page"]
            .as_object_mut()
            .unwrap()
            .remove("onload_ns");
    });
    assert!(
        error(&bad).starts_with("dir/results.jsonl:1: not a run record: missing field `onload_ns`"),
        "{}",
        error(&bad)
    );
}

#[test]
fn a_line_that_is_not_json_or_utf8_is_an_error() {
    let good = line(&record(Protocol::H2, 1));
    let not_json = error(&format!("{good}oops\n"));
    assert_eq!(
        not_json,
        "dir/results.jsonl:2: not a run record: expected value (column 1)"
    );
    let mut reader = ResultsReader::of_bytes("r.jsonl", b"\xff\xfe\n".to_vec());
    let e = reader.next_record().unwrap().unwrap_err();
    assert_eq!(e.to_string(), "r.jsonl:1: not UTF-8");
    let missing = records::read_records(Path::new("/nonexistent/results.jsonl")).unwrap_err();
    assert!(missing
        .to_string()
        .starts_with("/nonexistent/results.jsonl: "));
}

#[test]
fn a_file_reads_as_its_bytes_read_and_a_line_reads_again_where_it_is() {
    let (a, b) = (record(Protocol::H1, 1), record(Protocol::H3, 2));
    let text = format!(
        "{}\n{}oops\n{}{}{{\"schema\":4,\"scen",
        line(&a),
        line(&b),
        "  \n",
        line(&a)
    );
    let dir = std::env::temp_dir().join(format!("records-read-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(RESULTS_FILE);
    std::fs::write(&path, &text).unwrap();
    type Line = Result<(usize, records::LineAt, String, RunResult), String>;
    fn all<R: std::io::BufRead>(reader: &mut ResultsReader<R>) -> Vec<Line> {
        let mut lines = Vec::new();
        while let Some(l) = reader.next_record() {
            lines.push(
                l.map(|l| (l.number, l.at, l.text.to_owned(), l.record))
                    .map_err(|e| e.to_string()),
            );
        }
        lines
    }
    let mut in_memory = ResultsReader::of_bytes(&path, text.clone().into_bytes());
    let expected = all(&mut in_memory);
    let mut reader = ResultsReader::open(&path).unwrap();
    let streamed = all(&mut reader);
    assert_eq!(streamed, expected);
    // Lines 1 and 3 are records, 4 an error (it goes on past it), 5 blank,
    // 6 a record, and the partial last line is left out.
    let numbers: Vec<usize> = streamed
        .iter()
        .map(|l| l.as_ref().map_or(0, |l| l.0))
        .collect();
    assert_eq!(numbers, [1, 3, 0, 6]);
    assert!(streamed[2]
        .as_ref()
        .unwrap_err()
        .ends_with("results.jsonl:4: not a run record: expected value (column 1)"));
    assert!(reader.partial_last_line());
    assert_eq!(reader.complete_len(), in_memory.complete_len());
    assert_eq!(
        reader.complete_len() as usize,
        text.rfind('\n').unwrap() + 1
    );
    // read_records stops at the bad line 4.
    let e = records::read_records(&path).unwrap_err().to_string();
    assert!(e.ends_with("results.jsonl:4: not a run record: expected value (column 1)"));
    // A line read again by where it is: the same text and record, and the
    // stream is not moved by it.
    let (number, at, text_b, _) = streamed[1].clone().unwrap();
    assert_eq!(number, 3);
    assert_eq!(at.offset as usize, text.find(&text_b).unwrap());
    assert_eq!(at.len, text_b.len());
    assert_eq!(reader.text_at(at).unwrap(), text_b);
    let again = reader.record_at(number, at).unwrap();
    assert_eq!((again.number, &again.record), (3, &b));
    assert!(reader.next_record().is_none());
    // Reading past the end is an error naming the file.
    let past = reader
        .text_at(records::LineAt {
            offset: text.len() as u64,
            len: 10,
        })
        .unwrap_err()
        .to_string();
    assert!(past.starts_with(&format!("{}: ", path.display())), "{past}");
    std::fs::remove_dir_all(&dir).unwrap();
}
