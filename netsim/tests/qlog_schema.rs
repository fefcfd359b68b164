//! qlog that qvis reads as the schema says: every record of every trace is
//! checked against the qlog 0.3 JSON-SEQ schema, written down here from
//! draft-ietf-quic-qlog-main-schema-03 (`QlogFileSeq`, `TraceSeq`,
//! `VantagePoint`, `Event`) and draft-ietf-quic-qlog-quic-events-03 (the
//! `transport:` and `recovery:` events quinn writes); each trace names its
//! vantage point, has one `group_id` (the original destination connection
//! ID, the same on both sides), and gives RTTs in milliseconds.
//!
//! The schema is a small table of required and optional fields with their
//! types, not a JSON Schema document: it covers what quinn 0.11 writes and
//! rejects any field it does not know in the events it checks, so a change
//! in quinn's output shows up here.

use std::time::Duration;

use netsim::probe::{self, Transport};
use netsim::{CaptureConfig, LossModel, NetworkConfig, QlogTrace, Side, SimConfig};
use serde_json::{Map, Value};

/// The round trip of the runs here.
const RTT: Duration = Duration::from_millis(40);

/// A JSON type of the schema (CDDL's `text`, `float64`, `uint64`, ...).
#[derive(Clone, Copy, Debug)]
enum Type {
    Text,
    /// Any number (`float32`, `float64`).
    Float,
    /// A whole number from 0 to `u64::MAX - 1`: the schema's `uint*`,
    /// without the "infinite" value quinn used to write.
    Uint,
    /// A fixed set of strings.
    OneOf(&'static [&'static str]),
    /// An object checked against a field table.
    Object(&'static [Field]),
    /// An array; its elements are not checked.
    Array,
}

/// One field of an object: its name, whether it must be there, its type.
#[derive(Clone, Copy, Debug)]
struct Field {
    name: &'static str,
    required: bool,
    ty: Type,
}

const fn req(name: &'static str, ty: Type) -> Field {
    Field {
        name,
        required: true,
        ty,
    }
}

const fn opt(name: &'static str, ty: Type) -> Field {
    Field {
        name,
        required: false,
        ty,
    }
}

/// main-schema-03 §5.2 `VantagePointType`.
const VANTAGE_POINT_TYPES: &[&str] = &["server", "client", "network", "unknown"];

/// main-schema-03 `VantagePoint`.
const VANTAGE_POINT: &[Field] = &[
    opt("name", Type::Text),
    req("type", Type::OneOf(VANTAGE_POINT_TYPES)),
    opt("flow", Type::OneOf(VANTAGE_POINT_TYPES)),
];

/// main-schema-03 `Configuration`.
const CONFIGURATION: &[Field] = &[
    opt("time_offset", Type::Float),
    opt("original_uris", Type::Array),
];

/// main-schema-03 `TraceSeq`.
const TRACE_SEQ: &[Field] = &[
    opt("title", Type::Text),
    opt("description", Type::Text),
    opt("configuration", Type::Object(CONFIGURATION)),
    opt("common_fields", Type::Object(&[])),
    req("vantage_point", Type::Object(VANTAGE_POINT)),
];

/// main-schema-03 `QlogFileSeq`: the first record of a JSON-SEQ file.
const QLOG_FILE_SEQ: &[Field] = &[
    req("qlog_format", Type::OneOf(&["JSON-SEQ"])),
    req("qlog_version", Type::OneOf(&["0.3"])),
    opt("title", Type::Text),
    opt("description", Type::Text),
    opt("summary", Type::Object(&[])),
    req("trace", Type::Object(TRACE_SEQ)),
];

/// quic-events-03 `PacketType`.
const PACKET_TYPES: &[&str] = &[
    "initial",
    "handshake",
    "0RTT",
    "1RTT",
    "retry",
    "version_negotiation",
    "stateless_reset",
    "unknown",
];

/// quic-events-03 `PacketHeader` (the fields quinn writes, and the others).
const PACKET_HEADER: &[Field] = &[
    req("packet_type", Type::OneOf(PACKET_TYPES)),
    req("packet_number", Type::Uint),
    opt("flags", Type::Uint),
    opt("token", Type::Object(&[])),
    opt("length", Type::Uint),
    opt("version", Type::Text),
    opt("scil", Type::Uint),
    opt("dcil", Type::Uint),
    opt("scid", Type::Text),
    opt("dcid", Type::Text),
];

/// quic-events-03 `transport:packet_sent` / `packet_received` data.
const PACKET_EVENT: &[Field] = &[
    req("header", Type::Object(PACKET_HEADER)),
    opt("frames", Type::Array),
    opt("is_coalesced", Type::Text),
    opt("trigger", Type::Text),
    opt("raw", Type::Object(&[])),
    opt("datagram_id", Type::Uint),
];

/// quic-events-03 `recovery:packet_lost` data.
const PACKET_LOST: &[Field] = &[
    opt("header", Type::Object(PACKET_HEADER)),
    opt("frames", Type::Array),
    opt("is_mtu_probe_packet", Type::Text),
    opt(
        "trigger",
        Type::OneOf(&["reordering_threshold", "time_threshold", "pto_expired"]),
    ),
];

/// quic-events-03 `recovery:metrics_updated` data; the RTTs are
/// milliseconds.
const METRICS_UPDATED: &[Field] = &[
    opt("min_rtt", Type::Float),
    opt("smoothed_rtt", Type::Float),
    opt("latest_rtt", Type::Float),
    opt("rtt_variance", Type::Float),
    opt("pto_count", Type::Uint),
    opt("congestion_window", Type::Uint),
    opt("bytes_in_flight", Type::Uint),
    opt("ssthresh", Type::Uint),
    opt("packets_in_flight", Type::Uint),
    opt("pacing_rate", Type::Uint),
];

/// The data table of each event name quinn writes.
fn event_data(name: &str) -> Option<&'static [Field]> {
    Some(match name {
        "transport:packet_sent" | "transport:packet_received" => PACKET_EVENT,
        "recovery:packet_lost" => PACKET_LOST,
        "recovery:metrics_updated" => METRICS_UPDATED,
        _ => return None,
    })
}

/// main-schema-03 `Event`, less its data (checked by name).
const EVENT: &[Field] = &[
    req("time", Type::Float),
    req("name", Type::Text),
    req("data", Type::Object(&[])),
    opt(
        "time_format",
        Type::OneOf(&["absolute", "delta", "relative"]),
    ),
    opt("protocol_type", Type::Array),
    opt("group_id", Type::Text),
    opt("system_information", Type::Object(&[])),
];

/// What is wrong with `value` against `ty`, at `path`; empty if nothing.
fn check(value: &Value, ty: Type, path: &str, errors: &mut Vec<String>) {
    let ok = match ty {
        Type::Text => value.is_string(),
        Type::Float => value.is_number(),
        Type::Uint => value.as_u64().is_some_and(|v| v < u64::MAX),
        Type::OneOf(options) => value.as_str().is_some_and(|s| options.contains(&s)),
        Type::Array => value.is_array(),
        Type::Object(fields) => match value.as_object() {
            None => false,
            Some(object) => {
                check_object(object, fields, path, errors);
                true
            }
        },
    };
    if !ok {
        errors.push(format!("{path}: {value} is not {ty:?}"));
    }
}

/// Checks `object`'s fields against `fields`. An empty table accepts any
/// object (the schema leaves it open); otherwise an unknown field is an
/// error.
fn check_object(
    object: &Map<String, Value>,
    fields: &[Field],
    path: &str,
    errors: &mut Vec<String>,
) {
    for field in fields {
        match object.get(field.name) {
            Some(v) => check(v, field.ty, &format!("{path}.{}", field.name), errors),
            None if field.required => errors.push(format!("{path}.{}: missing", field.name)),
            None => {}
        }
    }
    if !fields.is_empty() {
        for key in object.keys() {
            if !fields.iter().any(|f| f.name == key) {
                errors.push(format!("{path}.{key}: not in the schema"));
            }
        }
    }
}

/// Every schema error of `trace`, each naming its record and field.
fn schema_errors(bytes: &[u8]) -> Vec<String> {
    let mut errors = Vec::new();
    if bytes.first() != Some(&0x1e) {
        errors.push("the file does not start with a record separator".to_owned());
        return errors;
    }
    for (i, record) in bytes[1..].split(|&b| b == 0x1e).enumerate() {
        if record.last() != Some(&b'\n') {
            errors.push(format!("record {i}: does not end in a newline"));
        }
        let value: Value = match serde_json::from_slice(record) {
            Ok(v) => v,
            Err(e) => {
                errors.push(format!("record {i}: not JSON: {e}"));
                continue;
            }
        };
        if i == 0 {
            check(&value, Type::Object(QLOG_FILE_SEQ), "header", &mut errors);
            continue;
        }
        let path = format!("record {i}");
        check(&value, Type::Object(EVENT), &path, &mut errors);
        let name = value["name"].as_str().unwrap_or_default();
        match event_data(name) {
            Some(fields) => check(
                &value["data"],
                Type::Object(fields),
                &format!("{path} ({name}).data"),
                &mut errors,
            ),
            None => errors.push(format!("{path}: event {name:?} is not one this test knows")),
        }
    }
    errors
}

fn traces() -> Vec<QlogTrace> {
    let config = SimConfig {
        seed: 4,
        network: NetworkConfig::symmetric(RTT, 10_000_000, LossModel::Bernoulli { rate: 0.02 }),
        capture: CaptureConfig {
            qlog: true,
            ..CaptureConfig::default()
        },
        ..SimConfig::default()
    };
    let out = probe::download(config, Transport::Quic, vec![300_000]);
    out.outcome.as_ref().expect("the download completes");
    out.qlogs.expect("qlog on")
}

fn records(trace: &QlogTrace) -> Vec<Value> {
    trace.bytes[1..]
        .split(|&b| b == 0x1e)
        .map(|r| serde_json::from_slice(r).expect("a JSON record"))
        .collect()
}

#[test]
fn every_record_matches_the_qlog_0_3_schema() {
    let traces = traces();
    assert_eq!(traces.len(), 2);
    for trace in &traces {
        let errors = schema_errors(&trace.bytes);
        assert!(
            errors.is_empty(),
            "{}: {} schema errors, the first: {:#?}",
            trace.file_name(),
            errors.len(),
            &errors[..errors.len().min(10)]
        );
        let events = records(trace).len() - 1;
        assert!(events > 100, "{}: only {events} events", trace.file_name());
    }
}

#[test]
fn each_trace_names_its_vantage_point() {
    for trace in traces() {
        let header = &records(&trace)[0];
        let label = trace.side.label();
        assert_eq!(
            header["trace"]["vantage_point"]["type"],
            label,
            "{}",
            trace.file_name()
        );
        assert_eq!(header["trace"]["vantage_point"]["name"], label);
    }
}

#[test]
fn one_group_id_per_connection_on_both_sides() {
    let traces = traces();
    let mut ids = Vec::new();
    for trace in &traces {
        let mut seen: Vec<String> = records(trace)[1..]
            .iter()
            .map(|e| {
                e["group_id"]
                    .as_str()
                    .expect("every event has a group_id")
                    .to_owned()
            })
            .collect();
        seen.dedup();
        assert_eq!(seen.len(), 1, "{}: group ids {seen:?}", trace.file_name());
        ids.push((trace.side, seen.remove(0)));
    }
    assert_eq!(ids[0].0, Side::Client);
    assert_eq!(ids[1].0, Side::Server);
    assert_eq!(
        ids[0].1, ids[1].1,
        "client and server name the connection alike"
    );
    // The lab's connection IDs are 20 bytes (the client's first Initial's
    // destination, which the server's `Incoming` reports too).
    assert_eq!(ids[0].1.len(), 40, "{}", ids[0].1);
}

#[test]
fn rtts_are_milliseconds_and_nothing_is_infinite() {
    for trace in traces() {
        let mut smoothed = Vec::new();
        for event in &records(&trace)[1..] {
            if event["name"] != "recovery:metrics_updated" {
                continue;
            }
            let data = &event["data"];
            assert_ne!(data["ssthresh"].as_u64(), Some(u64::MAX), "{event}");
            if let Some(min) = data["min_rtt"].as_f64() {
                // The path's round trip is 40 ms: in seconds it would read 0.04.
                assert!(
                    min >= 39.0,
                    "{}: min_rtt {min} in {event}",
                    trace.file_name()
                );
            }
            if let Some(s) = data["smoothed_rtt"].as_f64() {
                smoothed.push(s);
            }
        }
        let last = *smoothed.last().expect("some smoothed_rtt");
        assert!(
            (40.0..200.0).contains(&last),
            "{}: last smoothed_rtt {last} ms",
            trace.file_name()
        );
    }
}

#[test]
fn the_schema_check_finds_what_quinn_used_to_write() {
    // A header without a vantage point type, an event with a ssthresh of
    // u64::MAX and a typo: each is an error.
    let bad = b"\x1e{\"qlog_format\":\"JSON-SEQ\",\"qlog_version\":\"0.3\",\"trace\":{\"vantage_point\":{}}}\n\
\x1e{\"time\":1.0,\"name\":\"recovery:metrics_updated\",\"data\":{\"ssthresh\":18446744073709551615,\"smoothed_rt\":1.0},\"group_id\":\"aa\"}\n";
    let errors = schema_errors(bad);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors[0].contains("vantage_point.type: missing"),
        "{errors:?}"
    );
    assert!(errors[1].contains("ssthresh"), "{errors:?}");
    assert!(
        errors[2].contains("smoothed_rt: not in the schema"),
        "{errors:?}"
    );
}
