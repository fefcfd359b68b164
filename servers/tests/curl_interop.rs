//! Interoperability with a real peer: the HTTP/1.1 and HTTP/2 servers, on
//! loopback, answer curl (`--http1.1`, `--http2`) with correct bodies,
//! verified against the content model; a bad Range gets 416.
//!
//! curl verifies the lab's certificate with `--cacert` (no `-k`). Where curl
//! is missing the test says so and passes, unless `HTTPLAB_REQUIRE_CURL` is
//! set, as `.ci/run` sets it after installing curl: in CI it cannot skip.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;

use netsim::FlowControl;
use servers::{serve_real, ContentServer, Protocols};

const SEED: u64 = 5;

fn curl_available() -> bool {
    let found = Command::new("curl").arg("--version").output().is_ok();
    if !found && std::env::var_os("HTTPLAB_REQUIRE_CURL").is_some() {
        panic!("curl is required (HTTPLAB_REQUIRE_CURL is set) but was not found");
    }
    if !found {
        eprintln!("curl not found: skipping the interoperability test");
    }
    found
}

/// Start the servers (HTTP/1.1 and HTTP/2 only) on a free loopback port in
/// a background thread; returns the address.
fn start_server() -> SocketAddr {
    let port = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let protocols = Protocols {
                http1: true,
                http2: true,
                http3: false,
            };
            let server = ContentServer::new(SEED);
            serve_real(addr, protocols, server, FlowControl::for_buffer(4 << 20))
                .await
                .unwrap();
        });
    });
    // Wait until it listens.
    for _ in 0..200 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return addr;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the server did not start listening on {addr}");
}

/// The lab certificate as a PEM file, written once per process (the tests
/// run in parallel: rewriting it under a running curl would race), via a
/// temporary file and a rename so no reader ever sees it half written.
fn ca_file() -> PathBuf {
    static CA: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    CA.get_or_init(|| {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("httplab-ca-{}.pem", std::process::id()));
        let tmp = dir.join(format!("httplab-ca-{}.pem.tmp", std::process::id()));
        std::fs::write(&tmp, &netsim::tls::identity().cert_pem).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        path
    })
    .clone()
}

/// Run curl; returns (HTTP version, status, body).
fn curl(
    addr: SocketAddr,
    version_flag: &str,
    path: &str,
    extra: &[&str],
) -> (String, u16, Vec<u8>) {
    let ca = ca_file();
    let host = netsim::tls::SERVER_NAME;
    let out = Command::new("curl")
        .args(["--silent", "--show-error", version_flag, "--cacert"])
        .arg(&ca)
        .arg("--resolve")
        .arg(format!("{host}:{}:127.0.0.1", addr.port()))
        .args(["--write-out", "\n%{http_version} %{http_code}"])
        .args(extra)
        .arg(format!("https://{host}:{}{path}", addr.port()))
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = out.stdout;
    let split = stdout
        .iter()
        .rposition(|&b| b == b'\n')
        .expect("write-out line");
    let trailer = String::from_utf8_lossy(&stdout[split + 1..]).to_string();
    let mut parts = trailer.split(' ');
    let version = parts.next().unwrap_or_default().to_string();
    let status = parts.next().unwrap_or_default().parse().unwrap_or(0);
    (version, status, stdout[..split].to_vec())
}

#[test]
fn curl_gets_correct_bodies_over_http1_and_http2() {
    if !curl_available() {
        return;
    }
    let addr = start_server();
    let path = "/bytes/250000/curl.bin";
    let expected = scenarios::content::body(SEED, path, 250_000);
    for (flag, version) in [("--http1.1", "1.1"), ("--http2", "2")] {
        let (v, status, body) = curl(addr, flag, path, &[]);
        assert_eq!(v, version, "curl {flag} negotiated HTTP/{v}");
        assert_eq!(status, 200);
        assert_eq!(body.len(), expected.len(), "{flag}: body length");
        assert!(
            body == expected,
            "{flag}: body differs from the content model"
        );
    }
}

#[test]
fn curl_range_and_errors() {
    if !curl_available() {
        return;
    }
    let addr = start_server();
    let path = "/bytes/10000/r";
    let expected = scenarios::content::body(SEED, path, 10_000);
    for flag in ["--http1.1", "--http2"] {
        let (_, status, body) = curl(addr, flag, path, &["--range", "100-199"]);
        assert_eq!(status, 206, "{flag}");
        assert_eq!(body, expected[100..200].to_vec(), "{flag}: range bytes");
        let (_, status, _) = curl(addr, flag, path, &["--range", "20000-"]);
        assert_eq!(status, 416, "{flag}: unsatisfiable range");
        let (_, status, _) = curl(addr, flag, "/nothing", &[]);
        assert_eq!(status, 404, "{flag}: unknown path");
    }
}
