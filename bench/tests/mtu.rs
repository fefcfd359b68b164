//! Path MTU end to end: a scenario's `mtu` sets the MSS TCP announces and
//! the datagram size QUIC sends, so that every packet fits the path and
//! full-sized packets are as large as the path carries. Run through the
//! same code as `httplab run` (`bench::runner`).
//!
//! - The default page at MTU 1280, 1400 and 1500, over HTTP/1.1, HTTP/2 and
//!   HTTP/3: every body verified, no packet dropped as oversize, none
//!   longer than the MTU, and the largest TCP or QUIC packet exactly the
//!   MTU; the transport settings of the record state it.
//! - A download across a path change between paths of different MTUs,
//!   both ways round, over either TCP: connections made on the new path use
//!   its MTU,
//!   QUIC keeps the smaller of the two throughout, and no packet is dropped
//!   as oversize.

use std::time::Duration;

use bench::{runner, Outcome, RunResult};
use netsim::packet::{IPPROTO_TCP, IPPROTO_UDP};
use netsim::{DropReason, Fate};
use netsim::{PacketLog, PacketRecord};
use netsim::{CLIENT_ADDR, CLIENT_ADDR_AFTER_CHANGE};
use scenarios::{Protocol, RunSpec, Scenario};

/// The default page on the default network at `mtu`, all three protocols,
/// seed 1.
fn page_at(mtu: u32) -> Scenario {
    let toml = format!(
        r#"
        name = "mtu-{mtu}"
        protocols = ["h1", "h2", "h3"]
        seeds = 1
        [network]
        mtu = {mtu}
        [workload]
        kind = "page"
        "#
    );
    Scenario::from_toml(&toml, "mtu.rs").expect("a valid scenario")
}

/// A 4 MB download that starts on the `wifi` preset at MTU `before` and
/// moves to the `lte` preset at MTU `after` half a second in, seed 1: the
/// shipped `migration` scenario, shorter. All three protocols over the
/// Linux-like TCP; with `smoltcp`, HTTP/1.1 and HTTP/2 over smoltcp.
fn path_change(before: u32, after: u32, tcp: &str) -> Scenario {
    let protocols = match tcp {
        "smoltcp" => r#"["h1", "h2"]"#,
        _ => r#"["h1", "h2", "h3"]"#,
    };
    let toml = format!(
        r#"
        name = "mtu-{before}-to-{after}"
        protocols = {protocols}
        tcp = "{tcp}"
        seeds = 1
        time_limit_s = 60
        [network]
        preset = "wifi"
        mtu = {before}
        [[network.events]]
        type = "path_change"
        at_ms = 500
        to = {{ preset = "lte", mtu = {after} }}
        [workload]
        kind = "bulk"
        size = 4_000_000
        "#
    );
    Scenario::from_toml(&toml, "mtu.rs").expect("a valid scenario")
}

/// Run `spec` of `scenario`; its record (which must be Ok: every body
/// verified) and its packet log.
fn run(scenario: &Scenario, spec: &RunSpec) -> (RunResult, PacketLog) {
    let a = runner::run_captured(
        spec,
        &scenario.content_hash(),
        netsim::CaptureConfig::default(),
    );
    assert_eq!(
        a.result.outcome,
        Outcome::Ok,
        "{}: {:?}",
        spec.key(),
        a.result.reason
    );
    (a.result, a.packet_log.expect("the simulation ran"))
}

/// The transport protocol that carries `protocol`.
fn carrier(protocol: Protocol) -> u8 {
    match protocol {
        Protocol::H3 => IPPROTO_UDP,
        _ => IPPROTO_TCP,
    }
}

/// The longest of `records`, in bytes (0 if none).
fn longest<'a>(records: impl Iterator<Item = &'a PacketRecord>) -> u32 {
    records.map(|r| r.len).max().unwrap_or(0)
}

/// No packet of `log` was dropped as oversize, and none is longer than
/// `mtu`.
fn assert_all_fit(log: &PacketLog, mtu: u32, what: &str) {
    let oversize = log
        .records()
        .iter()
        .filter(|r| r.fate == Fate::Dropped(DropReason::Oversize))
        .count();
    assert_eq!(oversize, 0, "{what}: packets dropped as oversize");
    let too_long = log.records().iter().find(|r| r.len > mtu);
    assert_eq!(too_long, None, "{what}: a packet longer than {mtu} bytes");
}

fn seconds(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".to_owned(), |d| format!("{:.3} s", d.as_secs_f64()))
}

#[test]
fn the_page_loads_at_every_mtu_in_packets_as_large_as_the_path_carries() {
    for mtu in [1280, 1400, 1500] {
        let scenario = page_at(mtu);
        for spec in scenario.expand() {
            let what = format!("{} at MTU {mtu}", spec.key());
            let (result, log) = run(&scenario, &spec);
            assert_all_fit(&log, mtu, &what);
            let proto = carrier(spec.protocol);
            let largest = longest(log.records().iter().filter(|r| r.flow.proto == proto));
            assert_eq!(largest, mtu, "{what}: the largest packet");
            let transport = result.transport.as_ref().expect("transport settings");
            let ip_bytes = format!("{mtu} bytes");
            assert_eq!(transport.tcp.get("mtu"), Some(ip_bytes.as_str()), "{what}");
            assert_eq!(
                transport.tcp.get("announced_mss"),
                Some(format!("{} bytes", mtu - 40).as_str()),
                "{what}"
            );
            if spec.protocol == Protocol::H3 {
                assert_eq!(
                    transport.quic.get("udp_payload"),
                    Some(format!("{} bytes ({mtu} bytes IP packets)", mtu - 28).as_str()),
                    "{what}"
                );
            }
            let plt = result.measurements.as_ref().and_then(|m| m.plt);
            eprintln!(
                "{what}: plt {}, largest packet {largest} bytes",
                seconds(plt)
            );
        }
    }
}

#[test]
fn a_path_change_between_mtus_drops_nothing_as_oversize() {
    for (before, after, tcp) in [
        (1500, 1280, "linux"),
        (1280, 1500, "linux"),
        (1500, 1280, "smoltcp"),
        (1280, 1500, "smoltcp"),
    ] {
        let scenario = path_change(before, after, tcp);
        let smaller = before.min(after);
        for spec in scenario.expand() {
            let what = format!("{} over {tcp} from MTU {before} to {after}", spec.key());
            let (result, log) = run(&scenario, &spec);
            let migration = result
                .measurements
                .as_ref()
                .and_then(|m| m.migration.as_ref());
            assert!(migration.is_some(), "{what}: the path changed mid-run");
            let proto = carrier(spec.protocol);
            let on = |addr| {
                log.records()
                    .iter()
                    .filter(move |r| r.flow.proto == proto)
                    .filter(move |r| *r.flow.src.ip() == addr || *r.flow.dst.ip() == addr)
            };
            let (old_path, new_path) = (
                longest(on(CLIENT_ADDR)),
                longest(on(CLIENT_ADDR_AFTER_CHANGE)),
            );
            if proto == IPPROTO_TCP {
                // Connections on each path announce that path's MSS.
                assert_all_fit(&log, before.max(after), &what);
                assert_eq!(old_path, before, "{what}: on the first path");
                assert_eq!(new_path, after, "{what}: on the second path");
            } else {
                // One QUIC connection across both paths, sized for both.
                assert_all_fit(&log, smaller, &what);
                assert_eq!(old_path, smaller, "{what}: on the first path");
                assert_eq!(new_path, smaller, "{what}: on the second path");
            }
            let completion = result.measurements.as_ref().and_then(|m| m.plt);
            eprintln!(
                "{what}: completed in {}, largest packet {old_path} then {new_path} bytes",
                seconds(completion)
            );
        }
    }
}
