//! qlog: each QUIC connection of a run leaves one JSON-SEQ trace per side,
//! its event times are simulated time since the run started, the same run
//! gives the same bytes, and recording it changes nothing on the wire.

use std::time::Duration;

use netsim::probe::{self, ProbeResult, Transport};
use netsim::QlogTrace;
use netsim::{CaptureConfig, Direction, LossModel, NetworkConfig, RunOutput, Side, SimConfig};

/// The RTT of every run here: 40 ms, 20 ms each way.
const RTT: Duration = Duration::from_millis(40);

fn download(qlog: bool) -> RunOutput<ProbeResult> {
    let config = SimConfig {
        seed: 3,
        network: NetworkConfig::symmetric(RTT, 10_000_000, LossModel::Bernoulli { rate: 0.02 }),
        capture: CaptureConfig {
            qlog,
            ..CaptureConfig::default()
        },
        ..SimConfig::default()
    };
    let out = probe::download(config, Transport::Quic, vec![300_000]);
    out.outcome.as_ref().expect("the download completes");
    out
}

/// One qlog event: its name and time in milliseconds.
#[derive(Debug)]
struct Event {
    name: String,
    time_ms: f64,
}

/// The records of a JSON-SEQ file (RFC 7464): each starts with the record
/// separator 0x1E and is one JSON text ending in a newline.
fn records(bytes: &[u8]) -> Vec<serde_json::Value> {
    assert_eq!(bytes.first(), Some(&0x1e), "starts with a record separator");
    bytes[1..]
        .split(|&b| b == 0x1e)
        .map(|record| {
            assert_eq!(record.last(), Some(&b'\n'), "a record ends in a newline");
            serde_json::from_slice(record).expect("each record is one JSON text")
        })
        .collect()
}

/// The trace's header and its events.
fn parse(trace: &QlogTrace) -> (serde_json::Value, Vec<Event>) {
    let mut records = records(&trace.bytes).into_iter();
    let header = records.next().expect("a header record");
    let events = records
        .map(|r| Event {
            name: r["name"].as_str().expect("an event has a name").to_owned(),
            time_ms: r["time"].as_f64().expect("an event has a time"),
        })
        .collect();
    (header, events)
}

fn first(events: &[Event], suffix: &str) -> f64 {
    events
        .iter()
        .find(|e| e.name.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix} event"))
        .time_ms
}

fn count(events: &[Event], suffix: &str) -> usize {
    events.iter().filter(|e| e.name.ends_with(suffix)).count()
}

#[test]
fn one_trace_per_connection_and_side() {
    let out = download(true);
    let traces = out.qlogs.expect("qlog on");
    let names: Vec<String> = traces.iter().map(QlogTrace::file_name).collect();
    assert_eq!(names, ["client-0.sqlog", "server-0.sqlog"]);
    assert_eq!(traces[0].side, Side::Client);
    assert_eq!(traces[1].side, Side::Server);
    for trace in &traces {
        let (header, events) = parse(trace);
        assert_eq!(header["qlog_format"], "JSON-SEQ");
        let title = header["title"].as_str().expect("a title");
        assert!(
            title.contains("seed 3") && title.contains(trace.side.label()),
            "{title}"
        );
        for name in ["packet_sent", "packet_received"] {
            assert!(
                count(&events, name) > 0,
                "{} has no {name}",
                trace.file_name()
            );
        }
        // Events come in the order they happened.
        assert!(events.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
    }
}

#[test]
fn event_times_are_simulated_time_since_the_run_started() {
    let out = download(true);
    let traces = out.qlogs.as_ref().expect("qlog on");
    let (_, client) = parse(&traces[0]);
    let (_, server) = parse(&traces[1]);
    let start_ms = out.outcome.as_ref().unwrap().start.as_secs_f64() * 1e3;
    let rtt_ms = RTT.as_secs_f64() * 1e3;

    // The client's first Initial leaves when the probe starts. The server
    // hears it one way later, and its answer reaches the client a round
    // trip after the Initial left: each a little later than the bare
    // delay, for serializing a full packet at 10 Mbit/s (1.2 ms) and the
    // 1 ms tick. On the wall clock they would all be microseconds apart.
    let within = |t: f64, from: f64, slack: f64| t >= from && t <= from + slack;
    let client_sent = first(&client, "packet_sent");
    assert!(
        within(client_sent, start_ms, 1.0),
        "{client_sent} vs {start_ms}"
    );
    let server_received = first(&server, "packet_received");
    assert!(
        within(server_received, client_sent + rtt_ms / 2.0, 3.0),
        "server heard the client at {server_received} ms"
    );
    let client_received = first(&client, "packet_received");
    assert!(
        within(client_received, client_sent + rtt_ms, 5.0),
        "client heard the server at {client_received} ms"
    );
    // Nothing is stamped after the run ended.
    let end_ms = out.elapsed.as_secs_f64() * 1e3;
    for e in client.iter().chain(&server) {
        assert!(
            e.time_ms <= end_ms + 1.0,
            "{e:?} after the end, {end_ms} ms"
        );
    }
    // Every datagram the client put on the wire holds at least one QUIC
    // packet, and 2 % loss makes quinn declare some lost.
    let datagrams = out
        .packet_log
        .records()
        .iter()
        .filter(|r| r.direction == Direction::Up)
        .count();
    assert!(count(&client, "packet_sent") >= datagrams);
    assert!(count(&server, "packet_lost") > 0, "2 % loss, no loss seen");
}

#[test]
fn the_same_run_gives_the_same_bytes() {
    let a = download(true);
    let b = download(true);
    assert_eq!(a.qlogs, b.qlogs);
    assert!(a.qlogs.unwrap().iter().all(|t| t.bytes.len() > 1000));
}

#[test]
fn recording_qlog_changes_nothing_on_the_wire() {
    let with = download(true);
    let without = download(false);
    assert_eq!(with.packet_log.digest(), without.packet_log.digest());
    assert_eq!(with.outcome.unwrap(), without.outcome.unwrap());
    assert!(without.qlogs.is_none());
}

#[test]
fn a_trace_writes_to_its_file() {
    let out = download(true);
    let trace = &out.qlogs.expect("qlog on")[1];
    let dir = std::env::temp_dir().join(format!("netsim-qlog-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(trace.file_name());
    trace.write_to(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), trace.bytes);
    assert!(!dir.join("server-0.sqlog.tmp").exists());
    std::fs::remove_dir_all(&dir).ok();
}
