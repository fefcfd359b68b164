//! How a browser reaches HTTP/3 (`h3_discovery`), on the default page over
//! HTTP/3, checked from the records:
//! - `alt-svc`: the document goes over HTTP/2; the server's `alt-svc`
//!   header starts QUIC, and every later request goes over HTTP/3;
//! - `alt-svc` with UDP dropped: the page completes over HTTP/2, and the
//!   record says so and what the fallback cost (the fallback delay);
//! - `race` with UDP dropped: QUIC first, TCP after the fallback delay, the
//!   page over HTTP/2, the cost the delay;
//! - `race` on an open network: QUIC wins and nothing is lost to the race;
//! - `known` with UDP dropped still fails: no fallback.

use std::time::Duration;

use bench::{runner, Outcome, RunResult};
use scenarios::{Protocol, Scenario};

const NO_UDP: &str =
    "[[network.events]]\ntype = \"blackout\"\nprotocol = \"udp\"\nfrom_ms = 0\nuntil_ms = 1000000\n";

fn run(fields: &str, network: &str) -> RunResult {
    let text = format!(
        "name = \"h3-discovery\"\nprotocols = [\"h3\"]\nseeds = 1\ntime_limit_s = 30\n{fields}\n\
         [workload]\nkind = \"page\"\n{network}"
    );
    let scenario = Scenario::from_toml(&text, "h3_discovery.rs").expect("the test scenario parses");
    let specs = scenario.expand();
    assert_eq!(specs.len(), 1);
    runner::run(&specs[0], &scenario.content_hash())
}

/// The protocol of the connection that carried each request, in page order.
fn protocols(result: &RunResult) -> Vec<Protocol> {
    let m = result.measurements.as_ref().expect("measurements");
    m.requests
        .iter()
        .map(|r| {
            let conn = r.connection_id.expect("every request had a connection") as usize;
            m.connections[conn].protocol
        })
        .collect()
}

fn ok(result: &RunResult) {
    assert_eq!(
        result.outcome,
        Outcome::Ok,
        "{}: {:?}",
        result.run_key,
        result.reason
    );
    let m = result.measurements.as_ref().unwrap();
    assert!(m.requests.iter().all(|r| r.verified), "every body verified");
}

#[test]
fn with_alt_svc_the_document_goes_over_http2_and_the_rest_over_http3() {
    let result = run("h3_discovery = \"alt-svc\"", "");
    ok(&result);
    let over = protocols(&result);
    assert_eq!(over[0], Protocol::H2, "the document");
    assert!(
        over[1..].iter().all(|&p| p == Protocol::H3),
        "every later request: {over:?}"
    );
    let m = result.measurements.as_ref().unwrap();
    let race = &m.races[0];
    assert_eq!(race.mode, "alt-svc");
    assert_eq!(race.winner, Some(Protocol::H3));
    let alt_svc = race.alt_svc.expect("the header arrived");
    // The header came with the document's response head.
    assert_eq!(Some(alt_svc), m.requests[0].first_byte);
    assert_eq!(race.quic_started, Some(alt_svc));
    // Waiting for QUIC cost the requests found meanwhile its handshake.
    let waited = race.waited.unwrap();
    assert!(waited > Duration::ZERO && waited < race.fallback_delay);
}

#[test]
fn with_alt_svc_and_udp_dropped_the_page_completes_over_http2_after_the_fallback_delay() {
    let result = run("h3_discovery = \"alt-svc\"", NO_UDP);
    ok(&result);
    assert!(protocols(&result).iter().all(|&p| p == Protocol::H2));
    let race = &result.measurements.as_ref().unwrap().races[0];
    assert_eq!(race.winner, Some(Protocol::H2));
    assert_eq!(race.fallback_delay, Duration::from_millis(300));
    assert_eq!(race.waited, Some(Duration::from_millis(300)));
}

#[test]
fn racing_with_udp_dropped_falls_back_to_tcp_after_the_stated_delay() {
    let result = run("h3_discovery = \"race\"\nh3_fallback_ms = 250", NO_UDP);
    ok(&result);
    assert!(protocols(&result).iter().all(|&p| p == Protocol::H2));
    let m = result.measurements.as_ref().unwrap();
    let race = &m.races[0];
    assert_eq!(race.mode, "race");
    assert_eq!(race.winner, Some(Protocol::H2));
    let quic = race.quic_started.unwrap();
    assert_eq!(race.tcp_started, Some(quic + Duration::from_millis(250)));
    assert_eq!(race.waited, Some(Duration::from_millis(250)));
    // The document was sent once TCP and TLS were up: after the delay.
    assert!(m.requests[0].request_sent.unwrap() > quic + Duration::from_millis(250));
}

#[test]
fn racing_on_an_open_network_is_won_by_quic_at_no_cost() {
    let result = run("h3_discovery = \"race\"", "");
    ok(&result);
    assert!(protocols(&result).iter().all(|&p| p == Protocol::H3));
    let race = &result.measurements.as_ref().unwrap().races[0];
    assert_eq!(race.winner, Some(Protocol::H3));
    assert_eq!(race.tcp_started, None, "QUIC was ready within the delay");
    assert_eq!(race.waited, Some(Duration::ZERO));
}

#[test]
fn known_http3_with_udp_dropped_still_fails() {
    let result = run("", NO_UDP);
    assert_ne!(result.outcome, Outcome::Ok);
    assert!(result
        .measurements
        .as_ref()
        .is_none_or(|m| m.races.is_empty()));
}
