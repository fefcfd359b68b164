//! What the lab changes in quinn's qlog output so that it reads as the qlog
//! 0.3 schema says (draft-ietf-quic-qlog-main-schema-03, -quic-events-03) and
//! qvis shows one connection per trace:
//!
//! - the header's `vantage_point` is the side that recorded the trace
//!   (`{"name": "client", "type": "client"}`), where quinn writes
//!   `"unknown"`;
//! - every event's `group_id` is the connection's original destination
//!   connection ID, where quinn writes the peer's current connection ID
//!   (which changes once the handshake gives it the server's);
//! - the RTT fields of `recovery:metrics_updated` (`min_rtt`, `smoothed_rtt`,
//!   `latest_rtt`, `rtt_variance`) are milliseconds, where quinn-proto 0.11.19
//!   writes seconds (fixed upstream by quinn PR #2631, not released in 0.11);
//! - a metric at `u64::MAX` (quinn's `ssthresh` before the first loss, which
//!   means "infinite") is left out, as the schema leaves out what is not set.
//!
//! The rewrite reads each JSON-SEQ record and writes it back with its keys in
//! the order quinn wrote them; the same input gives the same bytes.

use serde_json::{Map, Value};

use crate::network::Side;

/// The RTT fields of `recovery:metrics_updated`, in seconds as quinn writes
/// them.
const RTT_FIELDS: [&str; 4] = ["min_rtt", "smoothed_rtt", "latest_rtt", "rtt_variance"];

/// Record separator that starts each JSON-SEQ record (RFC 7464).
const RS: u8 = 0x1e;

/// `bytes` (one JSON-SEQ trace as quinn wrote it, recorded at `side`) with the
/// changes of the module docs. `group_id` is the connection's original
/// destination connection ID in hex; `None` takes the first event's, which is
/// that ID on the client (its first Initial is sent to it). A record that is
/// not JSON (a write cut short) is kept as it is.
pub(crate) fn rewrite(bytes: &[u8], side: Side, group_id: Option<&str>) -> Vec<u8> {
    let mut group_id = group_id.map(str::to_owned);
    let mut out = Vec::with_capacity(bytes.len());
    for record in bytes.split(|&b| b == RS).filter(|r| !r.is_empty()) {
        let Ok(mut value) = serde_json::from_slice::<Value>(record) else {
            out.push(RS);
            out.extend_from_slice(record);
            continue;
        };
        if let Some(object) = value.as_object_mut() {
            if object.contains_key("qlog_version") {
                set_vantage_point(object, side);
            } else {
                if group_id.is_none() {
                    group_id = object
                        .get("group_id")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                }
                rewrite_event(object, group_id.as_deref());
            }
        }
        out.push(RS);
        // Serializing a `Value` cannot fail.
        out.extend_from_slice(&serde_json::to_vec(&value).unwrap_or_default());
        out.push(b'\n');
    }
    out
}

/// The header's `trace.vantage_point`: the recording side, by name and type.
fn set_vantage_point(header: &mut Map<String, Value>, side: Side) {
    let Some(trace) = header.get_mut("trace").and_then(Value::as_object_mut) else {
        return;
    };
    let mut vantage = Map::new();
    vantage.insert("name".to_owned(), Value::from(side.label()));
    vantage.insert("type".to_owned(), Value::from(side.label()));
    trace.insert("vantage_point".to_owned(), Value::Object(vantage));
}

/// One event: its group ID, and its metrics in the schema's units.
fn rewrite_event(event: &mut Map<String, Value>, group_id: Option<&str>) {
    if let (Some(id), Some(slot)) = (group_id, event.get_mut("group_id")) {
        *slot = Value::from(id);
    }
    if event.get("name").and_then(Value::as_str) != Some("recovery:metrics_updated") {
        return;
    }
    let Some(data) = event.get_mut("data").and_then(Value::as_object_mut) else {
        return;
    };
    for field in RTT_FIELDS {
        if let Some(slot) = data.get_mut(field) {
            if let Some(seconds) = slot.as_f64() {
                *slot = Value::from(milliseconds(seconds));
            }
        }
    }
    data.retain(|_, v| v.as_u64() != Some(u64::MAX));
}

/// `seconds` (an `f32` widened, as quinn writes it) in milliseconds, rounded to
/// the microsecond: an `f32` holds about seven digits, so finer digits are noise
/// of the conversion.
fn milliseconds(seconds: f64) -> f64 {
    (seconds * 1_000_000.0).round() / 1_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(records: &[&str]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for r in records {
            bytes.push(RS);
            bytes.extend_from_slice(r.as_bytes());
            bytes.push(b'\n');
        }
        bytes
    }

    #[test]
    fn header_gets_the_vantage_point_and_events_one_group_id() {
        let input = seq(&[
            r#"{"qlog_version":"0.3","trace":{"vantage_point":{"type":"unknown"},"title":"t"}}"#,
            r#"{"time":5.0,"name":"transport:packet_sent","data":{},"group_id":"aa"}"#,
            r#"{"time":6.0,"name":"transport:packet_received","data":{},"group_id":"bb"}"#,
        ]);
        let out = rewrite(&input, Side::Client, None);
        assert_eq!(
            out,
            seq(&[
                r#"{"qlog_version":"0.3","trace":{"vantage_point":{"name":"client","type":"client"},"title":"t"}}"#,
                r#"{"time":5.0,"name":"transport:packet_sent","data":{},"group_id":"aa"}"#,
                r#"{"time":6.0,"name":"transport:packet_received","data":{},"group_id":"aa"}"#,
            ])
        );
        let server = rewrite(&input, Side::Server, Some("cc"));
        let text = String::from_utf8(server).unwrap();
        assert!(
            text.contains(r#"{"name":"server","type":"server"}"#),
            "{text}"
        );
        assert_eq!(text.matches(r#""group_id":"cc""#).count(), 2, "{text}");
    }

    #[test]
    fn rtts_become_milliseconds_and_infinite_ssthresh_goes() {
        let input = seq(&[
            r#"{"time":5.0,"name":"recovery:metrics_updated","data":{"min_rtt":0.052,"smoothed_rtt":0.333,"latest_rtt":0.0521234,"rtt_variance":0.1665,"congestion_window":12000,"ssthresh":18446744073709551615},"group_id":"aa"}"#,
            r#"{"time":6.0,"name":"recovery:metrics_updated","data":{"ssthresh":8400},"group_id":"aa"}"#,
        ]);
        let out = String::from_utf8(rewrite(&input, Side::Client, None)).unwrap();
        assert_eq!(
            out,
            String::from_utf8(seq(&[
                r#"{"time":5.0,"name":"recovery:metrics_updated","data":{"min_rtt":52.0,"smoothed_rtt":333.0,"latest_rtt":52.123,"rtt_variance":166.5,"congestion_window":12000},"group_id":"aa"}"#,
                r#"{"time":6.0,"name":"recovery:metrics_updated","data":{"ssthresh":8400},"group_id":"aa"}"#,
            ]))
            .unwrap()
        );
    }

    #[test]
    fn a_record_cut_short_is_kept() {
        let mut input = seq(&[r#"{"time":1.0,"name":"x","group_id":"aa"}"#]);
        input.push(RS);
        input.extend_from_slice(br#"{"time":2.0,"na"#);
        let out = rewrite(&input, Side::Client, None);
        assert!(out.ends_with(br#"{"time":2.0,"na"#));
    }
}
