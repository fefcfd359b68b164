//! `httplab bench --scenario handshake` covers every protocol × handshake
//! variant, and each record shows the round trips and the mechanism: full
//! handshakes, resumed sessions, early data / 0-RTT.

mod support;

use serde_json::Value;
use support::{assert_ok, httplab, scratch, stdout};

/// The default path's round-trip time.
const RTT_MS: f64 = 50.0;

/// Round trips to the first byte, by protocol and handshake.
fn expected_rtts(protocol: &str, handshake: &str) -> f64 {
    match (protocol, handshake) {
        ("h3", "early-data") => 1.0,
        ("h3", _) | (_, "early-data") => 2.0,
        _ => 3.0,
    }
}

#[test]
fn the_handshake_scenario_measures_every_variant() {
    let dir = scratch("handshake");
    let out = dir.join("out");
    let run = httplab([
        "bench".as_ref(),
        "--scenario".as_ref(),
        "handshake".as_ref(),
        "--seeds".as_ref(),
        "1".as_ref(),
        "--jobs".as_ref(),
        "1".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_ok(&run);
    let table = stdout(&run);
    for handshake in ["full", "resume", "early-data"] {
        assert!(table.contains(&format!("handshake={handshake}")), "{table}");
    }
    assert!(table.contains("median TTFB"), "{table}");

    let text = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 9, "3 protocols × 3 handshakes × 1 seed");
    for r in &records {
        let protocol = r["protocol"].as_str().unwrap();
        let handshake = r["handshake"].as_str().unwrap();
        let what = format!("{protocol} {handshake}");
        assert_eq!(r["outcome"], "ok", "{what}: {}", r["reason"]);
        assert_eq!(r["axes"]["handshake"], handshake, "{what}");
        assert_eq!(
            r["run_key"],
            format!("{protocol}/seed=1/handshake={handshake}")
        );
        let m = &r["measurements"];
        // 1 ms ticks below; above, the tick plus serialization of the
        // handshake's few full-size packets (1.2 ms each at 10 Mbit/s).
        let ttfb_ms = m["ttfb_ns"].as_u64().unwrap() as f64 / 1e6;
        let ideal = expected_rtts(protocol, handshake) * RTT_MS;
        assert!(
            ttfb_ms >= ideal - 1.0 && ttfb_ms <= ideal + 6.0,
            "{what}: first byte after {ttfb_ms} ms, expected {ideal} ms"
        );
        let conn = &m["connections"][0];
        let resuming = handshake != "full";
        assert_eq!(conn["resumed"], resuming, "{what}");
        assert_eq!(
            conn["early_data_offered"],
            handshake == "early-data",
            "{what}"
        );
        if handshake == "early-data" {
            assert_eq!(conn["early_data_accepted"], true, "{what}");
        } else {
            assert!(conn["early_data_accepted"].is_null(), "{what}");
        }
        if resuming {
            let warm = &m["warmup"]["connections"][0];
            assert_eq!(
                warm["resumed"], false,
                "{what}: the warm-up is a full handshake"
            );
            assert!(m["warmup"]["offset_ns"].as_u64().unwrap() > 1_000_000_000);
        } else {
            assert!(m["warmup"].is_null(), "{what}");
        }
    }
}
