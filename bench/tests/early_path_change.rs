//! A path change early in a run (issue #16 items 7 and 8): during
//! HTTP/3's handshake, and between the first request and its response
//! head over TCP.

mod support;

use serde_json::Value;
use support::{assert_ok, httplab, scratch, write};

/// The migration scenario (10 MB, Wi-Fi to LTE) with its path change at
/// `at_ms`.
fn migration_at(at_ms: u32) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/files/migration.toml"
    ))
    .expect("the shipped migration scenario");
    assert!(
        text.contains("at_ms = 1000"),
        "the scenario moved its change"
    );
    text.replace("at_ms = 1000", &format!("at_ms = {at_ms}"))
        .replace(
            "name = \"migration\"",
            &format!("name = \"migration-at-{at_ms}\""),
        )
}

/// `httplab run --json` of `protocol`, `seed` on the migration scenario
/// with its change at `at_ms`.
fn run(at_ms: u32, protocol: &str, seed: u64) -> Value {
    let dir = scratch(&format!("early-path-change-{at_ms}"));
    let file = write(&dir, "scenario.toml", &migration_at(at_ms));
    let seed = seed.to_string();
    let out = httplab([
        "run",
        "--scenario",
        file.to_str().unwrap(),
        "--protocol",
        protocol,
        "--seed",
        &seed,
        "--json",
    ]);
    assert_ok(&out);
    serde_json::from_slice(&out.stdout).expect("run --json prints a record")
}

/// At 20 ms the client's QUIC handshake (about 40 ms of Wi-Fi round
/// trip, plus the start offset) is still under way. QUIC may not migrate
/// a connection before its handshake is done: the client gives that
/// handshake up and opens a new connection on the new path, and the
/// record shows both. Before the fix the run failed, its handshake timed
/// out after 30 s.
#[test]
fn http3_opens_a_new_connection_when_the_path_changes_during_its_handshake() {
    let record = run(20, "h3", 1);
    assert_eq!(record["outcome"], "ok", "{:#}", record["reason"]);
    let m = &record["measurements"];
    let connections = m["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 2, "{connections:#?}");
    let first = &connections[0];
    assert!(first["handshake_done_ns"].is_null());
    assert!(
        first["error"]
            .as_str()
            .is_some_and(|e| e.contains("cut off by a path change")),
        "{first:#}"
    );
    let second = &connections[1];
    assert!(second["error"].is_null(), "{second:#}");
    // The new connection starts after the change, on the client's clock.
    assert!(second["started_ns"].as_u64().unwrap() > 0);
    assert_eq!(m["requests"][0]["connection_id"], 1);
    // The lost handshake is part of the page load time and the TTFB,
    // which count from the first attempt.
    assert!(m["ttfb_ns"].as_u64().unwrap() > second["handshake_done_ns"].as_u64().unwrap());
}

/// At 50 ms, seed 2, the HTTP/1.1 and HTTP/2 requests are sent and their
/// response heads are on the way when the path changes: the request is
/// resumed on a new connection, whose response head is the run's first.
/// Before the fix the run was "ok" with no TTFB, and the TTFB table
/// silently compared HTTP/3 alone.
#[test]
fn a_request_resumed_before_its_head_arrived_has_the_resumption_s_ttfb() {
    for protocol in ["h1", "h2"] {
        let record = run(50, protocol, 2);
        assert_eq!(
            record["outcome"], "ok",
            "{protocol}: {:#}",
            record["reason"]
        );
        let m = &record["measurements"];
        let request = &m["requests"][0];
        assert!(
            request["first_byte_ns"].is_null(),
            "{protocol}: {request:#}"
        );
        let resumed = request["resumptions"][0]["first_byte_ns"]
            .as_u64()
            .unwrap_or_else(|| panic!("{protocol}: {request:#}"));
        assert_eq!(m["ttfb_ns"].as_u64(), Some(resumed), "{protocol}");
    }
}
