//! Captures that open with no setup (issue #17): `httplab run --pcap` of the
//! default page at 2 % loss, read by tshark with no preferences (no `-o`, no
//! key-log file, an empty profile), decodes all 40 requests and all 40
//! responses over HTTP/1.1, HTTP/2 and HTTP/3, and shows a comment on every
//! packet the link dropped.
//!
//! Where tshark is missing the tests say so and pass, unless
//! `HTTPLAB_REQUIRE_TSHARK` is set, as `.ci/run` sets it after installing
//! tshark: in CI they cannot skip.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use netsim::{Direction, DropReason};
use serde_json::Value;
use support::{assert_ok, httplab, scratch};

/// The default page's objects: the HTML and 39 subresources.
const OBJECTS: usize = 40;

fn tshark_available() -> bool {
    let found = Command::new("tshark").arg("--version").output().is_ok();
    if !found && std::env::var_os("HTTPLAB_REQUIRE_TSHARK").is_some() {
        panic!("tshark is required (HTTPLAB_REQUIRE_TSHARK is set) but was not found");
    }
    if !found {
        eprintln!("tshark not found: skipping the capture decoding test");
    }
    found
}

/// `httplab run` of the page at 2 % loss over `protocol`, seed 1: the
/// pcapng it wrote and its packet log.
fn capture(protocol: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(&format!("wireshark-{protocol}"));
    let pcap = dir.join("page.pcapng");
    let log = dir.join("packets.csv");
    let out = httplab([
        "run",
        "--scenario",
        "page",
        "--protocol",
        protocol,
        "--loss",
        "2",
        "--seed",
        "1",
        "--pcap",
        pcap.to_str().unwrap(),
        "--packet-log",
        log.to_str().unwrap(),
    ]);
    assert_ok(&out);
    (pcap, log)
}

/// tshark with nothing but `args`: its profile is an empty directory, so no
/// preference, key-log file or protocol setting of this machine's user
/// applies.
fn tshark(pcap: &Path, args: &[&str]) -> Vec<u8> {
    let home = pcap.parent().unwrap().join("empty-home");
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(args)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .env_remove("SSLKEYLOGFILE")
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every packet tshark decodes, as JSON, with only `protocols`' layers.
fn packets(pcap: &Path, protocols: &str) -> Vec<Value> {
    let json = tshark(
        pcap,
        &["-T", "json", "--no-duplicate-keys", "-J", protocols],
    );
    let packets: Vec<Value> = serde_json::from_slice(&json).expect("tshark writes JSON");
    packets
        .into_iter()
        .map(|p| p["_source"]["layers"].clone())
        .collect()
}

/// `value`, or each element if it is an array (tshark's JSON gives an array
/// where a key repeats).
fn each(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Every value under `key`, at any depth of `value`.
fn find<'a>(value: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == key {
                    out.extend(each(v));
                } else {
                    find(v, key, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| find(v, key, out)),
        _ => {}
    }
}

fn all<'a>(value: &'a Value, key: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    find(value, key, &mut out);
    out
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// Asserts that the requests and responses tshark found are the page's: 40
/// requests, each answered once, for 40 distinct paths.
fn assert_page(protocol: &str, requests: &BTreeMap<String, String>, responses: &BTreeSet<String>) {
    let paths: BTreeSet<&String> = requests.values().collect();
    eprintln!(
        "{protocol}: tshark decoded {} requests ({} paths) and {} responses",
        requests.len(),
        paths.len(),
        responses.len()
    );
    assert_eq!(
        requests.len(),
        OBJECTS,
        "{protocol}: requests {requests:#?}"
    );
    assert_eq!(paths.len(), OBJECTS, "{protocol}: paths {paths:#?}");
    let asked: BTreeSet<&String> = requests.keys().collect();
    let answered: BTreeSet<&String> = responses.iter().collect();
    assert_eq!(
        asked, answered,
        "{protocol}: every request answered, nothing else"
    );
}

/// Each dropped packet in the packet log has its comment in the capture, and
/// nothing else has one.
fn assert_drop_comments(pcap: &Path, log: &Path) {
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    let csv = std::fs::read_to_string(log).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (direction, reason) = (column("direction"), column("drop_reason"));
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields[reason].is_empty() {
            continue;
        }
        let d = if fields[direction] == "up" {
            Direction::Up
        } else {
            Direction::Down
        };
        let r = DropReason::ALL
            .into_iter()
            .find(|r| r.label() == fields[reason])
            .unwrap_or_else(|| panic!("unknown drop reason in {line}"));
        *expected.entry(netsim::drop_comment(d, r)).or_default() += 1;
    }
    let out = tshark(
        pcap,
        &["-Y", "frame.comment", "-T", "fields", "-e", "frame.comment"],
    );
    let mut found: BTreeMap<String, usize> = BTreeMap::new();
    for line in String::from_utf8(out).unwrap().lines() {
        *found.entry(line.to_owned()).or_default() += 1;
    }
    eprintln!("drop comments: {found:?}");
    assert!(!expected.is_empty(), "2 % loss dropped nothing");
    assert_eq!(found, expected);
}

#[test]
fn http1_page_decodes_with_no_setup() {
    if !tshark_available() {
        return;
    }
    let (pcap, log) = capture("h1");
    let mut requests = BTreeMap::new();
    let mut responses = BTreeSet::new();
    for packet in packets(&pcap, "tcp http") {
        let stream = text(&packet["tcp"]["tcp.stream"]);
        for http in each(&packet["http"]) {
            for uri in all(http, "http.request.uri") {
                // Requests on one connection follow one another; key each by
                // its connection and path.
                let key = format!("{stream} {}", text(uri));
                assert!(
                    requests.insert(key.clone(), text(uri)).is_none(),
                    "{key} twice"
                );
            }
            for uri in all(http, "http.response_for.uri") {
                let path = text(uri);
                let path = path.split_once("://").map_or(path.as_str(), |(_, rest)| {
                    rest.find('/').map_or("/", |i| &rest[i..])
                });
                let key = format!("{stream} {path}");
                assert!(responses.insert(key.clone()), "{key} answered twice");
            }
        }
    }
    assert_page("HTTP/1.1", &requests, &responses);
    assert_drop_comments(&pcap, &log);
}

#[test]
fn http2_page_decodes_with_no_setup() {
    if !tshark_available() {
        return;
    }
    let (pcap, log) = capture("h2");
    let mut requests = BTreeMap::new();
    let mut responses = BTreeSet::new();
    for packet in packets(&pcap, "tcp http2") {
        let connection = text(&packet["tcp"]["tcp.stream"]);
        for frame in all(&packet, "http2.stream") {
            if text(&frame["http2.type"]) != "1" {
                continue;
            }
            let key = format!("{connection}/{}", text(&frame["http2.streamid"]));
            if let Some(path) = all(frame, "http2.headers.path").first() {
                assert!(
                    requests.insert(key.clone(), text(path)).is_none(),
                    "{key} twice"
                );
            }
            if !all(frame, "http2.headers.status").is_empty() {
                assert!(responses.insert(key.clone()), "{key} answered twice");
            }
        }
    }
    assert_page("HTTP/2", &requests, &responses);
    assert_drop_comments(&pcap, &log);
}

#[test]
fn http3_page_decodes_with_no_setup() {
    if !tshark_available() {
        return;
    }
    let (pcap, log) = capture("h3");
    // tshark 4.0 decrypts QUIC and frames HTTP/3 but does not decode QPACK,
    // so a request is a client-opened bidirectional stream whose first
    // bytes, at offset 0, are an HTTP/3 HEADERS frame (type 0x01) and which
    // the client finished; its response is the same stream from the server,
    // starting with HEADERS and finished too.
    let mut starts: BTreeMap<(String, &str), String> = BTreeMap::new();
    let mut finished: BTreeSet<(String, &str)> = BTreeSet::new();
    let mut undecrypted = 0;
    for packet in packets(&pcap, "ip quic") {
        let from = if text(&packet["ip"]["ip.src"]) == "10.0.1.2" {
            "client"
        } else {
            "server"
        };
        // A datagram of coalesced QUIC packets names its connection once.
        let connection = all(&packet["quic"], "quic.connection.number")
            .first()
            .map(|n| text(n))
            .expect("tshark numbers each QUIC connection");
        for quic in each(&packet["quic"]) {
            let frames = all(quic, "quic.frame");
            if frames.is_empty() {
                undecrypted += 1;
            }
            for frame in frames {
                let Some(id) = frame.get("quic.stream.stream_id") else {
                    continue;
                };
                let id: u64 = text(id).parse().unwrap();
                if !id.is_multiple_of(4) {
                    continue;
                }
                let key = (format!("{connection}/{id}"), from);
                let offset = frame.get("quic.stream.offset").map_or("0".to_owned(), text);
                if offset == "0" {
                    let data = frame.get("quic.stream_data").map(text).unwrap_or_default();
                    starts.entry(key.clone()).or_insert(data);
                }
                if all(frame, "quic.stream.fin").iter().any(|f| text(f) == "1") {
                    finished.insert(key);
                }
            }
        }
    }
    assert_eq!(
        undecrypted, 0,
        "every QUIC packet decrypts with the keys inside"
    );
    let headers_first = |from: &str| -> BTreeSet<String> {
        starts
            .iter()
            .filter(|((_, f), data)| *f == from && data.starts_with("01:"))
            .filter(|(key, _)| finished.contains(key))
            .map(|((stream, _), _)| stream.clone())
            .collect()
    };
    let requests: BTreeMap<String, String> = headers_first("client")
        .into_iter()
        .map(|s| (s.clone(), s))
        .collect();
    let responses = headers_first("server");
    assert_page("HTTP/3", &requests, &responses);
    let headers = tshark(
        &pcap,
        &[
            "-Y",
            "http3.frame_type == 1",
            "-T",
            "fields",
            "-e",
            "http3.frame_type",
        ],
    );
    let headers: usize = String::from_utf8(headers)
        .unwrap()
        .lines()
        .map(|l| l.split(',').filter(|t| *t == "1").count())
        .sum();
    assert!(
        headers >= 2 * OBJECTS,
        "tshark framed only {headers} HTTP/3 HEADERS"
    );
    assert_drop_comments(&pcap, &log);
}
