//! `httplab run --pcap FILE`: one pcapng by default, the classic pair with
//! `--pcap-format pcap`, the receivers' copies with `pcapng-both`; writing a
//! capture changes nothing the run measures, and a file that cannot be
//! written is an error naming it.

mod support;

use std::path::Path;

use support::{assert_ok, httplab, scratch, stderr, write};

/// The first four bytes of a pcapng file (a Section Header Block).
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// The first four bytes of a little-endian classic pcap, microseconds.
const PCAP_MAGIC: [u8; 4] = [0xd4, 0xc3, 0xb2, 0xa1];

/// `httplab run` of the tiny scenario's HTTP/1.1 seed 2, with `extra`.
fn run_h1(scenario: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        "--scenario",
        scenario.to_str().unwrap(),
        "--protocol",
        "h1",
        "--seed",
        "2",
        "--json",
    ];
    args.extend(extra);
    let out = httplab(&args);
    assert_ok(&out);
    out
}

/// The blocks of a pcapng file: (type, length) of each, checked to be
/// well-formed (lengths repeat, padded to 32 bits, nothing left over).
fn blocks(bytes: &[u8]) -> Vec<(u32, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let word = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
        let (kind, len) = (word(at), word(at + 4) as usize);
        assert!(len.is_multiple_of(4), "block at {at} not padded");
        assert_eq!(
            word(at + len - 4) as usize,
            len,
            "block at {at}: trailing length"
        );
        out.push((kind, len));
        at += len;
    }
    assert_eq!(at, bytes.len());
    out
}

#[test]
fn pcap_writes_one_pcapng_by_default() {
    let dir = scratch("pcap-default");
    let scenario = write(&dir, "tiny.toml", support::TINY);
    let plain = run_h1(&scenario, &[]);
    let file = dir.join("run.pcapng");
    let captured = run_h1(&scenario, &["--pcap", file.to_str().unwrap()]);

    // Capturing changes nothing the run measures.
    assert_eq!(plain.stdout, captured.stdout);
    let err = stderr(&captured);
    assert!(
        err.contains("pcapng: ") && err.contains("run.pcapng"),
        "{err}"
    );
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(bytes[..4], PCAPNG_MAGIC);
    let kinds: Vec<u32> = blocks(&bytes).iter().map(|b| b.0).collect();
    // Section header, two interfaces, the secrets, then packets.
    assert_eq!(kinds[..4], [0x0a0d_0d0a, 1, 1, 0x0a]);
    assert!(kinds[4..].iter().all(|&k| k == 6), "only packets follow");
    assert!(kinds.len() > 100, "{} blocks", kinds.len());
    assert!(!dir.join("run-server.pcapng").exists(), "one file, not two");

    // The receivers' copies: every delivered packet once more.
    let both = dir.join("both.pcapng");
    run_h1(
        &scenario,
        &[
            "--pcap",
            both.to_str().unwrap(),
            "--pcap-format",
            "pcapng-both",
        ],
    );
    let both_packets = blocks(&std::fs::read(&both).unwrap()).len() - 4;
    let sent_packets = kinds.len() - 4;
    assert!(
        both_packets > sent_packets * 3 / 2 && both_packets < sent_packets * 2,
        "{both_packets} packets with the receivers' copies, {sent_packets} without"
    );
}

#[test]
fn pcap_format_pcap_writes_the_classic_pair() {
    let dir = scratch("pcap-classic");
    let scenario = write(&dir, "tiny.toml", support::TINY);
    let file = dir.join("run.pcap");
    let out = run_h1(
        &scenario,
        &["--pcap", file.to_str().unwrap(), "--pcap-format", "pcap"],
    );
    let err = stderr(&out);
    assert!(
        err.contains("(client)") && err.contains("run-server.pcap (server)"),
        "{err}"
    );
    for path in [file.clone(), dir.join("run-server.pcap")] {
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[..4], PCAP_MAGIC, "{path:?}");
        assert!(bytes.len() > 10_000, "{path:?}");
    }
}

#[test]
fn a_bad_pcap_format_or_path_is_an_error() {
    let dir = scratch("pcap-bad");
    let scenario = write(&dir, "tiny.toml", support::TINY);
    let out = httplab([
        "run",
        "--scenario",
        scenario.to_str().unwrap(),
        "--protocol",
        "h1",
        "--pcap",
        dir.join("x.pcapng").to_str().unwrap(),
        "--pcap-format",
        "pcapng2",
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("--pcap-format") && err.contains("pcapng2"),
        "{err}"
    );

    let blocked = write(&dir, "a-file", "");
    let target = blocked.join("run.pcapng");
    let out = httplab([
        "run",
        "--scenario",
        scenario.to_str().unwrap(),
        "--protocol",
        "h1",
        "--pcap",
        target.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("--pcap") && err.contains("a-file/run.pcapng"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
