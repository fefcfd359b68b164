//! `httplab run --qlog DIR`: one JSON-SEQ trace per QUIC connection and
//! side, byte-identical across invocations, in simulated time, and an error
//! for protocols that run over TCP.

mod support;

use std::path::Path;

use support::{assert_ok, httplab, scratch, stderr, write};

/// `httplab run` of the tiny scenario's HTTP/3 seed 2, with `extra`.
fn run_h3(scenario: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        "--scenario",
        scenario.to_str().unwrap(),
        "--protocol",
        "h3",
        "--seed",
        "2",
        "--json",
    ];
    args.extend(extra);
    let out = httplab(&args);
    assert_ok(&out);
    out
}

/// The names of the files in `dir`, sorted.
fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The records of a JSON-SEQ file: 0x1E, one JSON text, a newline.
fn records(bytes: &[u8]) -> Vec<serde_json::Value> {
    assert_eq!(bytes.first(), Some(&0x1e), "starts with a record separator");
    bytes[1..]
        .split(|&b| b == 0x1e)
        .map(|r| {
            assert_eq!(r.last(), Some(&b'\n'), "a record ends in a newline");
            serde_json::from_slice(r).expect("a record is one JSON text")
        })
        .collect()
}

#[test]
fn run_writes_the_same_trace_per_connection_and_side_every_time() {
    let dir = scratch("qlog-run");
    let scenario = write(&dir, "tiny.toml", support::TINY);
    let (first, second) = (dir.join("first"), dir.join("second"));
    let plain = run_h3(&scenario, &[]);
    let with_qlog = run_h3(&scenario, &["--qlog", first.to_str().unwrap()]);
    run_h3(&scenario, &["--qlog", second.to_str().unwrap()]);

    // Recording qlog changes nothing the run measures.
    assert_eq!(plain.stdout, with_qlog.stdout);
    let err = stderr(&with_qlog);
    assert!(err.contains("client-0.sqlog, server-0.sqlog"), "{err}");

    let names = file_names(&first);
    assert_eq!(names, ["client-0.sqlog", "server-0.sqlog"]);
    assert_eq!(file_names(&second), names);
    let record: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    let end_ms = record["simulation"]["elapsed_ns"].as_f64().unwrap() / 1e6;
    let mut group_ids = Vec::new();
    for name in &names {
        let bytes = std::fs::read(first.join(name)).unwrap();
        assert!(
            bytes == std::fs::read(second.join(name)).unwrap(),
            "{name} differs between two runs"
        );
        let records = records(&bytes);
        assert_eq!(records[0]["qlog_format"], "JSON-SEQ", "{name}");
        let events = &records[1..];
        let time_of = |suffix: &str| {
            events
                .iter()
                .find(|e| e["name"].as_str().unwrap().ends_with(suffix))
                .and_then(|e| e["time"].as_f64())
                .unwrap_or_else(|| panic!("{name} has no {suffix}"))
        };
        time_of("packet_sent");
        // qvis shows one connection per trace, seen from its side.
        let side = name.split('-').next().unwrap();
        assert_eq!(records[0]["trace"]["vantage_point"]["type"], side, "{name}");
        let mut groups: Vec<&str> = events
            .iter()
            .map(|e| e["group_id"].as_str().expect("a group_id"))
            .collect();
        groups.dedup();
        assert_eq!(groups.len(), 1, "{name}: {groups:?}");
        group_ids.push(groups[0].to_owned());
        // Simulated time since the run started: the server hears the client
        // no sooner than one way across the default 50 ms RTT, and nothing
        // is stamped after the run's end.
        if name.starts_with("server") {
            assert!(time_of("packet_received") >= 25.0, "{name}");
        }
        let last = events.last().unwrap()["time"].as_f64().unwrap();
        assert!(last <= end_ms + 1.0, "{name}: {last} ms after {end_ms} ms");
    }
    // Both sides name the connection by its original destination ID.
    assert_eq!(group_ids[0], group_ids[1]);
}

#[test]
fn qlog_with_a_tcp_protocol_is_an_error() {
    let dir = scratch("qlog-tcp");
    let qlog = dir.join("traces");
    for protocol in ["h1", "h2"] {
        let out = httplab([
            "run",
            "--scenario",
            "page",
            "--protocol",
            protocol,
            "--qlog",
            qlog.to_str().unwrap(),
        ]);
        assert!(!out.status.success(), "--qlog with {protocol} succeeded");
        let err = stderr(&out);
        assert!(
            err.contains("--qlog") && err.contains("QUIC") && err.contains(protocol),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(!qlog.exists(), "--qlog with {protocol} created {qlog:?}");
    }

    let blocked = write(&dir, "a-file", "");
    let out = httplab([
        "run",
        "--scenario",
        "page",
        "--protocol",
        "h3",
        "--qlog",
        blocked.join("traces").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("a-file/traces"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
