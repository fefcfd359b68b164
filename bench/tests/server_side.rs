//! A run's record carries the server's side of every connection and the
//! transport settings the run used, through the same code path as
//! `httplab run`.

mod support;

use serde_json::Value;
use support::{assert_ok, httplab};

/// The record `httplab run --scenario SCENARIO --protocol PROTOCOL --seed 1
/// --json EXTRA...` prints.
fn record(scenario: &str, protocol: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "run",
        "--scenario",
        scenario,
        "--protocol",
        protocol,
        "--seed",
        "1",
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = httplab(args);
    assert_ok(&out);
    serde_json::from_slice(&out.stdout).expect("a JSON record")
}

/// The record's server connections, checked for what every one has.
fn server_connections<'a>(record: &'a Value, transport: &str) -> &'a [Value] {
    assert_eq!(record["outcome"], "ok", "{}", record["reason"]);
    let conns = record["server_connections"]
        .as_array()
        .expect("server_connections is an array");
    assert!(!conns.is_empty(), "the server accepted a connection");
    for (i, c) in conns.iter().enumerate() {
        assert_eq!(c["id"], i, "accept order");
        assert_eq!(c["transport"], transport);
        assert!(c["accepted_ns"].as_u64().is_some_and(|t| t > 0), "{c}");
        assert!(
            c["stats"]["packets_sent"].as_u64().is_some_and(|n| n > 0),
            "{c}"
        );
        assert_eq!(c["stats"]["rtt_samples"]["at"], Value::Array(Vec::new()));
    }
    conns
}

/// Retransmissions summed over the server's connections.
fn server_retransmissions(record: &Value, transport: &str) -> u64 {
    server_connections(record, transport)
        .iter()
        .filter_map(|c| c["stats"]["retransmissions"].as_u64())
        .sum()
}

#[test]
fn a_handshake_run_records_the_server_connection() {
    for (protocol, transport) in [("h2", "tcp"), ("h3", "quic")] {
        let r = record("handshake", protocol, &[]);
        let conns = server_connections(&r, transport);
        assert_eq!(conns.len(), 1, "{protocol}: one connection");
        let peer = conns[0]["peer"].as_str().unwrap_or_default();
        assert!(peer.starts_with("10.0.1.2:"), "{protocol}: {peer}");
    }
}

#[test]
fn the_server_retransmits_at_two_percent_loss() {
    for (protocol, transport) in [("h2", "tcp"), ("h3", "quic")] {
        let r = record("page", protocol, &["--loss", "2"]);
        let retransmitted = server_retransmissions(&r, transport);
        assert!(retransmitted > 0, "{protocol}: no server retransmission");
    }
}

#[test]
fn the_record_states_the_transport_settings() {
    let r = record("handshake", "h2", &[]);
    let transport = &r["transport"];
    let tcp = &transport["tcp"];
    assert_eq!(tcp["name"], "linux");
    assert_eq!(tcp["name"], r["tcp"]);
    let parameters = tcp["parameters"].as_array().expect("an array of pairs");
    assert!(!parameters.is_empty());
    let value = |settings: &Value, key: &str| -> Option<String> {
        settings["parameters"]
            .as_array()?
            .iter()
            .find(|pair| pair[0] == key)
            .and_then(|pair| pair[1].as_str().map(str::to_owned))
    };
    assert_eq!(
        value(tcp, "initial_window").as_deref(),
        Some("10 segments (14480 bytes)")
    );
    assert_eq!(value(tcp, "min_rto").as_deref(), Some("200 ms"));
    assert_eq!(transport["quic"]["name"], "quinn");
    assert_eq!(
        value(&transport["quic"], "initial_window").as_deref(),
        Some("12000 bytes")
    );
    assert_eq!(transport["tls"]["name"], "rustls");
    assert_eq!(
        value(&transport["tls"], "versions").as_deref(),
        Some("TLS 1.3")
    );
}
