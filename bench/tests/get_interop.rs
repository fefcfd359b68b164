//! `httplab get` against servers that are not the lab's (issue #17): nginx
//! over HTTP/1.1 and HTTP/2, nghttpd over HTTP/2 (it speaks no HTTP/1.1
//! over TLS) and an aioquic HTTP/3 server (a script of this test, in a
//! Python venv), each with a certificate chain the test makes (a CA and a
//! leaf for `localhost` with an ECDSA P-256 key, valid from yesterday, so
//! after the simulation's frozen certificate clock). Each fetch trusts the
//! CA with `--cacert`, and fails cleanly without it. And the lab's own
//! server: `curl --cacert <(httplab cert)` trusts `httplab serve`, and
//! `httplab serve --cert/--key` presents the test's chain to `httplab get`
//! on every protocol.
//!
//! Every server listens on loopback, on a free port, and every wait is
//! bounded. Where a tool is missing the test says so and passes, unless
//! `HTTPLAB_REQUIRE_INTEROP` (nginx, nghttpd, aioquic) or
//! `HTTPLAB_REQUIRE_CURL` (curl) is set, as `.ci/run` sets them after
//! installing the tools: in CI they cannot skip.

// The wall clock, legitimately: real servers in real time, and a
// certificate dated by the real calendar.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The body every server under test serves: its size.
const BODY_SIZE: usize = 200_000;
/// Its path.
const BODY_PATH: &str = "/interop.bin";
/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// `httplab get --timeout`, in seconds: bounds every fetch.
const GET_TIMEOUT_S: &str = "20";

fn httplab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_httplab"))
}

/// Whether `program` runs (`program ARG` succeeds or fails, but starts);
/// if not, panics when `require` is set in the environment, else says why
/// it skips.
fn available(program: &str, arg: &str, require: &str) -> bool {
    let found = Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found && std::env::var_os(require).is_some() {
        panic!("{program} is required ({require} is set) but was not found");
    }
    if !found {
        eprintln!("{program} not found: skipping (install it, or set {require} to require it)");
    }
    found
}

/// A port free on loopback for TCP and UDP alike, at the moment of asking.
fn free_port() -> u16 {
    for _ in 0..50 {
        let tcp = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no loopback port free for both TCP and UDP in 50 tries");
}

/// A scratch directory, removed when dropped.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Scratch {
        Scratch(tempfile::tempdir().expect("a temporary directory"))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

/// The test's certificates: a CA, and a leaf for `localhost` and
/// 127.0.0.1 issued by it, as PEM files.
struct Certs {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// Make the CA and the leaf in `dir`, valid from yesterday for a year.
fn make_certs(dir: &Path) -> Certs {
    let yesterday = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let next_year = yesterday + time::Duration::days(365);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "httplab interop test CA");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    ca.not_before = yesterday;
    ca.not_after = next_year;
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let mut leaf =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    leaf.not_before = yesterday;
    leaf.not_after = next_year;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
    let certs = Certs {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&certs.ca, ca_cert.pem()).unwrap();
    // The chain as servers send it: the leaf, then its issuer.
    std::fs::write(&certs.cert, leaf_cert.pem() + &ca_cert.pem()).unwrap();
    std::fs::write(&certs.key, leaf_key.serialize_pem()).unwrap();
    certs
}

/// The body the servers serve: a byte pattern, BODY_SIZE long.
fn body() -> Vec<u8> {
    (0..BODY_SIZE).map(|i| (i % 251) as u8).collect()
}

/// A server process, killed when dropped.
struct Server {
    child: Child,
    name: &'static str,
}

impl Server {
    fn spawn(name: &'static str, command: &mut Command) -> Server {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Server { child, name }
    }

    /// Wait until something accepts TCP connections on `port`.
    fn wait_for_tcp(&mut self, port: u16) {
        let start = Instant::now();
        while start.elapsed() < START_TIMEOUT {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let (name, stderr) = (self.name, self.stderr());
                panic!("{name} exited ({status}) before listening: {stderr}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "{} did not listen on port {port} within {START_TIMEOUT:?}",
            self.name
        );
    }

    /// Wait until the server prints a line starting with `word` on stdout.
    fn wait_for_line(&mut self, word: &str) {
        let pipe = self.child.stdout.take().expect("stdout is piped");
        let (said, heard) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = said.send(line);
            }
        });
        let start = Instant::now();
        while let Some(left) = START_TIMEOUT.checked_sub(start.elapsed()) {
            match heard.recv_timeout(left) {
                Ok(line) if line.starts_with(word) => return,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let (name, stderr) = (self.name, self.stderr());
        panic!("{name} did not say {word:?} within {START_TIMEOUT:?}: {stderr}");
    }

    /// What it wrote on stderr so far (only once it has exited or been
    /// killed: the read ends at end of file).
    fn stderr(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut text = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `httplab get URL --protocol P --timeout ... --json EXTRA`.
fn get(url: &str, protocol: &str, extra: &[&str]) -> Output {
    httplab()
        .args([
            "get",
            url,
            "--protocol",
            protocol,
            "--timeout",
            GET_TIMEOUT_S,
            "--json",
        ])
        .args(extra)
        .output()
        .expect("run httplab get")
}

/// Assert `httplab get --cacert CA` fetched the whole body over
/// `protocol`, checked against Content-Length, with every timing in order.
fn assert_fetches(url: &str, protocol: &str, ca: &Path, server: &str) {
    let out = get(url, protocol, &["--cacert", ca.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{server} over {protocol}: httplab get failed: {stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("httplab get --json prints JSON");
    assert_eq!(
        report["body_check"], "length",
        "{server}: a path not of the content model"
    );
    let record = &report["record"];
    assert_eq!(record["protocol"], protocol, "{server}");
    assert_eq!(record["failure"], serde_json::Value::Null, "{server}");
    let request = &record["requests"][0];
    assert_eq!(
        request["bytes"], BODY_SIZE as u64,
        "{server} over {protocol}: body bytes"
    );
    assert_eq!(request["error"], serde_json::Value::Null);
    let t = &report["timings"];
    let step = |name: &str| {
        t[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{server} over {protocol}: no {name} in {t}"))
    };
    let (dns, connect, tls, ttfb, total) = (
        step("time_namelookup_ns"),
        step("time_connect_ns"),
        step("time_appconnect_ns"),
        step("time_starttransfer_ns"),
        step("time_total_ns"),
    );
    assert!(
        dns <= connect && connect <= tls && tls < ttfb && ttfb <= total,
        "{server} over {protocol}: timings out of order: {t}"
    );
    if protocol == "h3" {
        assert_eq!(connect, tls, "HTTP/3: connect is the QUIC handshake");
    }
    eprintln!("{server} over {protocol}: {t}");
}

/// Assert `httplab get` without `--cacert` (the system's roots, which do
/// not hold the test's CA) fails with a clear message and no panic.
fn assert_refused_without_cacert(url: &str, protocol: &str, server: &str) {
    let out = get(url, protocol, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{server} over {protocol}: trusted without --cacert"
    );
    assert!(!stderr.contains("panicked"), "{server}: {stderr}");
    assert!(
        stderr.contains("UnknownIssuer") || stderr.contains("no trusted root certificates"),
        "{server} over {protocol}: {stderr}"
    );
    assert!(stderr.contains("--cacert"), "{server}: no advice: {stderr}");
}

#[test]
fn nginx_over_http1_and_http2() {
    if !available("nginx", "-v", "HTTPLAB_REQUIRE_INTEROP") {
        return;
    }
    let dir = Scratch::new();
    let certs = make_certs(dir.path());
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join(BODY_PATH.trim_start_matches('/')), body()).unwrap();
    let port = free_port();
    let d = dir.path().display();
    // One process (no master, no workers to drop privileges to), in the
    // foreground, every file in the scratch directory.
    let conf = format!(
        "daemon off;\nmaster_process off;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
           server {{\n    listen 127.0.0.1:{port} ssl http2;\n    ssl_certificate {};\n\
             ssl_certificate_key {};\n    root {};\n  }}\n}}\n",
        certs.cert.display(),
        certs.key.display(),
        www.display()
    );
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let mut nginx = Server::spawn(
        "nginx",
        Command::new("nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&conf_path),
    );
    nginx.wait_for_tcp(port);
    let url = format!("https://localhost:{port}{BODY_PATH}");
    for protocol in ["h1", "h2"] {
        assert_fetches(&url, protocol, &certs.ca, "nginx");
        assert_refused_without_cacert(&url, protocol, "nginx");
    }
}

#[test]
fn nghttpd_over_http2() {
    if !available("nghttpd", "--version", "HTTPLAB_REQUIRE_INTEROP") {
        return;
    }
    let dir = Scratch::new();
    let certs = make_certs(dir.path());
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join(BODY_PATH.trim_start_matches('/')), body()).unwrap();
    let port = free_port();
    let mut nghttpd = Server::spawn(
        "nghttpd",
        Command::new("nghttpd")
            .arg("--address=127.0.0.1")
            .arg(format!("--htdocs={}", www.display()))
            .arg(port.to_string())
            .arg(&certs.key)
            .arg(&certs.cert),
    );
    nghttpd.wait_for_tcp(port);
    let url = format!("https://localhost:{port}{BODY_PATH}");
    assert_fetches(&url, "h2", &certs.ca, "nghttpd");
    assert_refused_without_cacert(&url, "h2", "nghttpd");
}

/// A minimal HTTP/3 server on aioquic: `BODY_PATH` is BODY_SIZE bytes of
/// the test's pattern, with its content-length; anything else is 404.
/// Prints `ready` once it listens.
const AIOQUIC_SERVER: &str = r#"
import asyncio, sys
from aioquic.asyncio import QuicConnectionProtocol, serve
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ProtocolNegotiated

host, port, cert, key, path, size = sys.argv[1:7]
BODY = bytes(i % 251 for i in range(int(size)))
PATH = path.encode()

class Http3(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = None

    def quic_event_received(self, event):
        if isinstance(event, ProtocolNegotiated):
            self.h3 = H3Connection(self._quic)
        if self.h3 is None:
            return
        for h3_event in self.h3.handle_event(event):
            if isinstance(h3_event, HeadersReceived):
                headers = dict(h3_event.headers)
                found = headers.get(b":path") == PATH
                body = BODY if found else b"not found\n"
                self.h3.send_headers(h3_event.stream_id, [
                    (b":status", b"200" if found else b"404"),
                    (b"content-length", str(len(body)).encode()),
                ])
                self.h3.send_data(h3_event.stream_id, body, end_stream=True)
        self.transmit()

async def main():
    config = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
    config.load_cert_chain(cert, key)
    await serve(host, int(port), configuration=config, create_protocol=Http3)
    print("ready", flush=True)
    await asyncio.Future()

asyncio.run(main())
"#;

/// How long creating the venv and installing aioquic may take.
const PIP_TIMEOUT: Duration = Duration::from_secs(300);

/// A Python with aioquic: `HTTPLAB_AIOQUIC_PYTHON` if set (`.ci/run`
/// prepares one), else a venv in the target directory's scratch space,
/// made on first use (python3 -m venv, pip install aioquic). `None`, with
/// the reason printed, if there is no python3 or the install fails, unless
/// `HTTPLAB_REQUIRE_INTEROP` is set.
fn aioquic_python() -> Option<PathBuf> {
    let require = std::env::var_os("HTTPLAB_REQUIRE_INTEROP").is_some();
    let give_up = |why: String| {
        if require {
            panic!("aioquic is required (HTTPLAB_REQUIRE_INTEROP is set): {why}");
        }
        eprintln!("skipping the aioquic test: {why}");
        None
    };
    if let Some(python) = std::env::var_os("HTTPLAB_AIOQUIC_PYTHON") {
        return Some(PathBuf::from(python));
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aioquic-venv");
    let python = venv.join("bin").join("python");
    let has_aioquic = |python: &Path| {
        Command::new(python)
            .args(["-c", "import aioquic"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if has_aioquic(&python) {
        return Some(python);
    }
    if !available("python3", "--version", "HTTPLAB_REQUIRE_INTEROP") {
        return None;
    }
    let steps: [(&str, Command); 2] = [
        ("python3 -m venv", {
            let mut c = Command::new("python3");
            c.args(["-m", "venv"]).arg(&venv);
            c
        }),
        ("pip install aioquic", {
            let mut c = Command::new(&python);
            c.args(["-m", "pip", "install", "--quiet", "aioquic"]);
            c
        }),
    ];
    for (what, mut command) in steps {
        let mut child = match command.stdout(Stdio::null()).stderr(Stdio::null()).spawn() {
            Ok(child) => child,
            Err(e) => return give_up(format!("{what}: {e}")),
        };
        let start = Instant::now();
        let status = loop {
            if let Ok(Some(status)) = child.try_wait() {
                break Some(status);
            }
            if start.elapsed() > PIP_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        match status {
            Some(s) if s.success() => {}
            Some(s) => return give_up(format!("{what} failed ({s})")),
            None => return give_up(format!("{what} took over {PIP_TIMEOUT:?}")),
        }
    }
    if !has_aioquic(&python) {
        return give_up("aioquic does not import after pip install".to_owned());
    }
    Some(python)
}

#[test]
fn aioquic_over_http3() {
    let Some(python) = aioquic_python() else {
        return;
    };
    let dir = Scratch::new();
    let certs = make_certs(dir.path());
    let script = dir.path().join("h3_server.py");
    std::fs::write(&script, AIOQUIC_SERVER).unwrap();
    let port = free_port();
    let mut server = Server::spawn(
        "aioquic",
        Command::new(&python)
            .arg(&script)
            .arg("127.0.0.1")
            .arg(port.to_string())
            .arg(&certs.cert)
            .arg(&certs.key)
            .arg(BODY_PATH)
            .arg(BODY_SIZE.to_string()),
    );
    server.wait_for_line("ready");
    let url = format!("https://localhost:{port}{BODY_PATH}");
    assert_fetches(&url, "h3", &certs.ca, "aioquic");
    assert_refused_without_cacert(&url, "h3", "aioquic");
}

/// `httplab serve` on a free port with `args`; its address once it says.
fn serve(args: &[&str]) -> (Server, SocketAddr) {
    let mut server = Server::spawn(
        "httplab serve",
        httplab()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args),
    );
    let pipe = server.child.stdout.take().expect("stdout is piped");
    let (said, heard) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = said.send(line);
        }
    });
    let line = heard
        .recv_timeout(START_TIMEOUT)
        .unwrap_or_else(|_| panic!("httplab serve printed no address: {}", server.stderr()));
    let addr = line
        .strip_prefix("serving on ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("not an address line: {line:?}"));
    (server, addr)
}

#[test]
fn serve_presents_its_own_certificate_to_get_on_every_protocol() {
    let dir = Scratch::new();
    let certs = make_certs(dir.path());
    let (_server, addr) = serve(&[
        "--cert",
        certs.cert.to_str().unwrap(),
        "--key",
        certs.key.to_str().unwrap(),
    ]);
    let url = format!("https://localhost:{}/bytes/100000/own.bin", addr.port());
    let lab = dir.path().join("lab.pem");
    let made = httplab()
        .args(["cert", "--out"])
        .arg(&lab)
        .output()
        .unwrap();
    assert!(made.status.success());
    for protocol in ["h1", "h2", "h3"] {
        let out = get(&url, protocol, &["--cacert", certs.ca.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{protocol}: {stderr}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["body_check"], "content-model");
        assert_eq!(
            report["record"]["requests"][0]["verified"], true,
            "{protocol}"
        );
        assert_refused_without_cacert(&url, protocol, "httplab serve --cert");
        // The lab's certificate is not what it presents now.
        let out = get(&url, protocol, &["--cacert", lab.to_str().unwrap()]);
        assert!(
            !out.status.success(),
            "{protocol}: trusted the lab's certificate"
        );
    }
}

#[test]
fn serve_refuses_a_key_that_is_not_the_certificates() {
    let dir = Scratch::new();
    let certs = make_certs(dir.path());
    let other = dir.path().join("other.pem");
    std::fs::write(&other, rcgen::KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let out = httplab()
        .args(["serve", "--listen", "127.0.0.1:0", "--cert"])
        .arg(&certs.cert)
        .arg("--key")
        .arg(&other)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("--cert/--key"), "{stderr}");
    assert!(stderr.contains(other.to_str().unwrap()), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let missing = httplab()
        .args([
            "get",
            "https://localhost:1/",
            "--cacert",
            "/nonexistent/ca.pem",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert!(
        stderr.contains("--cacert") && stderr.contains("/nonexistent/ca.pem"),
        "{stderr}"
    );
}

#[test]
fn curl_trusts_serve_with_the_certificate_httplab_cert_prints() {
    if !available("curl", "--version", "HTTPLAB_REQUIRE_CURL") {
        return;
    }
    if !available("bash", "--version", "HTTPLAB_REQUIRE_CURL") {
        return;
    }
    let (_server, addr) = serve(&[]);
    let url = format!("https://localhost:{}/bytes/12345/curl.bin", addr.port());
    // As a user types it: process substitution.
    let out = Command::new("bash")
        .arg("-c")
        .arg(
            "curl --silent --show-error --max-time 20 --cacert <(\"$0\" cert) \
             --output /dev/null --write-out '%{http_code} %{size_download}' \"$1\"",
        )
        .arg(env!("CARGO_BIN_EXE_httplab"))
        .arg(&url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "200 12345");
    // And httplab get, the same way, over all three protocols.
    for protocol in ["h1", "h2", "h3"] {
        let out = Command::new("bash")
            .arg("-c")
            .arg("\"$0\" get --cacert <(\"$0\" cert) --protocol \"$2\" --timeout 20 \"$1\"")
            .arg(env!("CARGO_BIN_EXE_httplab"))
            .arg(&url)
            .arg(protocol)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "httplab get {protocol}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("time_starttransfer"), "{text}");
        assert!(text.contains("content model"), "{text}");
    }
}
