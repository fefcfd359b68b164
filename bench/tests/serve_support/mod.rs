//! An `httplab serve` subprocess under an open-file limit, and the abusive
//! clients that `tests/serve_abuse.rs` and `benches/serve_abuse.rs` point
//! at it: idle TCP connects, half-sent ClientHellos, slowloris request
//! heads, HTTP/2 streams held at window 0, HTTP/1.1 clients that never
//! read, QUIC Initials never answered. Loopback only; every loop has a
//! count.

// Each user takes a different part of this module.
#![allow(dead_code)]
// The wall clock, legitimately: these clients run against a real server
// on real sockets and time what it does; nothing here reaches a result.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use netsim::tls::{self, ALPN_H2, ALPN_H3, ALPN_HTTP1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// The open-file limit the server runs under: a common default, which the
/// abuse goes past.
pub const SERVER_OPEN_FILES: u64 = 1024;

/// How long the server gets to bind and say where.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// An `httplab serve` subprocess, killed when dropped.
pub struct Serve {
    child: Child,
    /// Where it serves, TCP and UDP.
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Serve {
    /// Start `httplab serve --listen 127.0.0.1:0 ARGS` under `ulimit -n
    /// 1024` and wait for the address it prints on stdout.
    pub fn start(args: &[&str]) -> Serve {
        Serve::start_at("127.0.0.1:0", args)
    }

    /// [`Serve::start`] at `listen`.
    pub fn start_at(listen: &str, args: &[&str]) -> Serve {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -n {SERVER_OPEN_FILES} && exec \"$0\" serve --listen {listen} \"$@\""
            ))
            .arg(env!("CARGO_BIN_EXE_httplab"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn httplab serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        {
            let pipe = child.stderr.take().expect("stderr is piped");
            let stderr = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut text = stderr.lock().unwrap_or_else(|e| e.into_inner());
                    text.push_str(&line);
                    text.push('\n');
                }
            });
        }
        let (said, heard) = mpsc::channel();
        let pipe = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = said.send(line);
            }
        });
        let line = heard.recv_timeout(START_TIMEOUT).unwrap_or_else(|_| {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "httplab serve printed no address within {START_TIMEOUT:?}; stderr:\n{}",
                stderr.lock().unwrap_or_else(|e| e.into_inner())
            )
        });
        let addr = line
            .strip_prefix("serving on ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|a| a.parse::<SocketAddr>().ok())
            .unwrap_or_else(|| panic!("not an address line: {line:?}"));
        let addr = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port());
        Serve {
            child,
            addr,
            stderr,
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What it printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Its memory now and at its peak: (VmRSS, VmHWM) in bytes.
    pub fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read the server's /proc status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kb| kb * 1024)
                .unwrap_or_else(|| panic!("no {name} in /proc/{}/status", self.pid()))
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// Assert it is running; the message has its stderr.
    pub fn assert_alive(&mut self, when: &str) {
        assert!(
            self.alive(),
            "the server stopped {when}: {:?}; stderr:\n{}",
            self.child.try_wait(),
            self.stderr()
        );
    }

    /// Fetch `path` with `httplab get` over `protocol` (h1, h2, h3): its
    /// output if it succeeded, its stderr if not.
    pub fn get(&self, protocol: &str, path: &str) -> Result<String, String> {
        let url = format!("https://localhost:{}{path}", self.addr.port());
        let out = Command::new(env!("CARGO_BIN_EXE_httplab"))
            .args(["get", &url, "--addr", &self.addr.to_string()])
            .args(["--protocol", protocol, "--insecure", "--timeout", "20"])
            .output()
            .expect("run httplab get");
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Assert that a request succeeds on each protocol.
    pub fn assert_serves_every_protocol(&mut self, when: &str) {
        for protocol in ["h1", "h2", "h3"] {
            if let Err(e) = self.get(protocol, "/bytes/100000/after.bin") {
                panic!(
                    "{protocol} failed {when}: {e}\nserver stderr:\n{}",
                    self.stderr()
                );
            }
        }
        self.assert_alive(when);
    }

    /// Wait until a request succeeds on each protocol, for at most
    /// `limit`; how long it took.
    pub fn time_to_serve_every_protocol(&mut self, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        for protocol in ["h1", "h2", "h3"] {
            while self.get(protocol, "/bytes/100000/after.bin").is_err() {
                if start.elapsed() > limit || !self.alive() {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Some(start.elapsed())
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Raise this process's open-file limit to `want` if its hard limit
/// allows; the limit it has after.
pub fn raise_open_files(want: u64) -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    if current >= want {
        return current;
    }
    let target = limit.maximum.map_or(want, |max| max.min(want));
    let raised = Rlimit {
        current: Some(target),
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => target,
        Err(_) => current,
    }
}

/// A current-thread tokio runtime with I/O and time.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime")
}

/// Open `n` TCP connections to `addr` that never send a byte, at most
/// `concurrency` connecting at a time; the ones that connected.
pub async fn idle_connects(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut open = Vec::with_capacity(n);
    let mut pending = tokio::task::JoinSet::new();
    for _ in 0..n {
        pending.spawn(tokio::time::timeout(
            Duration::from_secs(5),
            TcpStream::connect(addr),
        ));
        // A few hundred at once: past the listen backlog, connects wait.
        if pending.len() >= 256 {
            if let Some(Ok(Ok(Ok(tcp)))) = pending.join_next().await {
                open.push(tcp);
            }
        }
    }
    while let Some(done) = pending.join_next().await {
        if let Ok(Ok(Ok(tcp))) = done {
            open.push(tcp);
        }
    }
    open
}

/// How many of `conns` the server has closed (a read sees the end, or an
/// error), waiting at most `within` for each.
pub async fn closed_by_server(conns: &mut [TcpStream], within: Duration) -> usize {
    let mut closed = 0;
    let deadline = tokio::time::Instant::now() + within;
    for tcp in conns.iter_mut() {
        let mut buf = [0u8; 256];
        loop {
            match tokio::time::timeout_at(deadline, tcp.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    closed += 1;
                    break;
                }
                Ok(Ok(_)) => continue,
                Err(_) => break,
            }
        }
    }
    closed
}

/// A TLS connection to `addr` offering `alpn`, trusting the lab's
/// certificate.
pub async fn tls_connect(
    addr: SocketAddr,
    alpn: &'static [u8],
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let connector = TlsConnector::from(tls::client_config(&[alpn], None));
    let name =
        rustls::pki_types::ServerName::try_from(tls::SERVER_NAME).map_err(std::io::Error::other)?;
    connector.connect(name, tcp).await
}

/// The first `bytes` bytes of a TLS ClientHello for the lab's server.
pub fn client_hello_prefix(bytes: usize) -> Vec<u8> {
    let config = tls::client_config(&[ALPN_H2, ALPN_HTTP1], None);
    let name = rustls::pki_types::ServerName::try_from(tls::SERVER_NAME).expect("a server name");
    let mut client = rustls::ClientConnection::new(config, name).expect("a TLS client");
    let mut hello = Vec::new();
    client.write_tls(&mut hello).expect("a ClientHello");
    hello.truncate(bytes);
    hello
}

/// Connect to `addr` and send half a ClientHello, no more.
pub async fn half_hello(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let hello = client_hello_prefix(100);
    let mut tcp = TcpStream::connect(addr).await?;
    tcp.write_all(&hello[..hello.len() / 2]).await?;
    Ok(tcp)
}

/// A slowloris: over TLS (HTTP/1.1), a request line, then one header line
/// every `every`, never the blank line that ends the head, for at most
/// `lines` lines. How long the server kept it open (`None` if it still
/// had not closed it after the last line).
pub async fn slowloris(addr: SocketAddr, every: Duration, lines: usize) -> Option<Duration> {
    let start = Instant::now();
    let mut tls = tls_connect(addr, ALPN_HTTP1).await.ok()?;
    if tls
        .write_all(b"GET /bytes/1000/slow.bin HTTP/1.1\r\nhost: localhost\r\n")
        .await
        .is_err()
    {
        return Some(start.elapsed());
    }
    let mut buf = [0u8; 1024];
    for i in 0..lines {
        // Until the next line is due, watch for the server closing.
        match tokio::time::timeout(every, tls.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            // A response (a 408, say) then the close.
            Ok(Ok(_)) => continue,
            Err(_) => {}
        }
        let line = format!("x-slow-{i}: {}\r\n", "a".repeat(20));
        if tls.write_all(line.as_bytes()).await.is_err() {
            return Some(start.elapsed());
        }
    }
    None
}

/// An HTTP/2 connection whose client announced a stream window of 0 and
/// opened requests for large bodies, reading none: the server has every
/// response to send and may send none of it.
pub struct HeldH2 {
    send: h2::client::SendRequest<Bytes>,
    responses: Vec<h2::client::ResponseFuture>,
    driver: tokio::task::JoinHandle<Result<(), h2::Error>>,
    pings: Option<h2::PingPong>,
}

/// Open an HTTP/2 connection with a stream window of 0 and `streams`
/// requests on it (see [`HeldH2`]).
pub async fn h2_zero_window(addr: SocketAddr, streams: usize) -> std::io::Result<HeldH2> {
    let tls = tls_connect(addr, ALPN_H2).await?;
    let (mut send, mut connection) = h2::client::Builder::new()
        .initial_window_size(0)
        .handshake::<_, Bytes>(tls)
        .await
        .map_err(std::io::Error::other)?;
    let pings = connection.ping_pong();
    let driver = tokio::spawn(connection);
    let mut responses = Vec::with_capacity(streams);
    for i in 0..streams {
        send = send.ready().await.map_err(std::io::Error::other)?;
        let request = http::Request::get(format!("https://localhost/bytes/10000000/zw-{i}.bin"))
            .body(())
            .expect("a request");
        let (response, _) = send
            .send_request(request, true)
            .map_err(std::io::Error::other)?;
        responses.push(response);
    }
    Ok(HeldH2 {
        send,
        responses,
        driver,
        pings,
    })
}

impl HeldH2 {
    /// Hold every stream until `until` resolves, sending a PING every
    /// `ping_every` if given (so that the connection is never idle);
    /// whether the server closed the connection first.
    pub async fn hold(
        mut self,
        ping_every: Option<Duration>,
        until: impl std::future::Future<Output = ()>,
    ) -> bool {
        let pings = self.pings.take();
        let pinger = async move {
            let (Some(every), Some(mut pings)) = (ping_every, pings) else {
                return std::future::pending().await;
            };
            loop {
                tokio::time::sleep(every).await;
                if pings.ping(h2::Ping::opaque()).await.is_err() {
                    return std::future::pending().await;
                }
            }
        };
        let closed = tokio::select! {
            () = until => false,
            _ = &mut self.driver => true,
            () = pinger => false,
        };
        drop((self.send, self.responses));
        closed
    }
}

/// Run `work` on a thread and tokio runtime of its own; join the thread
/// for its output.
pub fn in_background<F>(work: F) -> std::thread::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    std::thread::spawn(move || runtime().block_on(work))
}

/// An HTTP/2 connection that makes one request, reads the response, and
/// then sits idle: how long after the response the server closed it (at
/// most `wait`).
pub async fn h2_idle_after_a_request(addr: SocketAddr, wait: Duration) -> Option<Duration> {
    let tls = tls_connect(addr, ALPN_H2).await.ok()?;
    let (send, connection) = h2::client::handshake(tls).await.ok()?;
    let mut driver = tokio::spawn(connection);
    let mut send = send.ready().await.ok()?;
    let request = http::Request::get("https://localhost/bytes/1000/idle.bin")
        .body(())
        .ok()?;
    let (response, _) = send.send_request(request, true).ok()?;
    let mut body = response.await.ok()?.into_body();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.ok()?;
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    let idle = Instant::now();
    let _ended = tokio::time::timeout(wait, &mut driver).await.ok()?;
    Some(idle.elapsed())
}

/// An HTTP/1.1 connection that makes one request, reads the response, and
/// then sits idle: how long after the response the server closed it (at
/// most `wait`).
pub async fn h1_idle_after_a_request(addr: SocketAddr, wait: Duration) -> Option<Duration> {
    let mut tls = tls_connect(addr, ALPN_HTTP1).await.ok()?;
    tls.write_all(b"GET /bytes/1000/idle.bin HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .ok()?;
    // The head and the 1000-byte body.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let complete = |got: &[u8]| {
        got.windows(4)
            .position(|w| w == b"\r\n\r\n")
            .is_some_and(|head| got.len() >= head + 4 + 1000)
    };
    while !complete(&got) {
        let n = tls.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let idle = Instant::now();
    loop {
        match tokio::time::timeout(wait, tls.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(idle.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

/// An HTTP/1.1 client that asks for a large body and never reads it.
pub async fn h1_never_reads(addr: SocketAddr) -> std::io::Result<TlsStream<TcpStream>> {
    let mut tls = tls_connect(addr, ALPN_HTTP1).await?;
    tls.write_all(b"GET /bytes/100000000/unread.bin HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await?;
    Ok(tls)
}

/// What the server answered QUIC connection attempts with, counted by
/// attempt (the connection ID the server's packet is addressed to).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuicAnswers {
    /// Attempts answered with an Initial packet: the server keeps state for
    /// each.
    pub stateful: usize,
    /// Attempts answered with a Retry: the server keeps nothing until the
    /// client proves its address.
    pub retried: usize,
    /// Datagrams that were neither.
    pub other: usize,
}

/// The packet type (0 Initial, 3 Retry in QUIC v1) and destination
/// connection ID of a long-header packet.
fn long_header(datagram: &[u8]) -> Option<(u8, &[u8])> {
    let first = *datagram.first()?;
    if first & 0x80 == 0 {
        return None;
    }
    let len = usize::from(*datagram.get(5)?);
    Some(((first >> 4) & 0x3, datagram.get(6..6 + len)?))
}

/// Send `n` QUIC connection attempts to `addr`, each its first Initial
/// datagram only and never answered, from `ports` source ports, at most
/// `per_second`; then count, for `listen` more, what came back.
pub fn quic_initials(
    addr: SocketAddr,
    n: usize,
    ports: usize,
    per_second: usize,
    listen: Duration,
) -> QuicAnswers {
    let sockets: Vec<UdpSocket> = (0..ports)
        .map(|_| {
            let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a UDP port");
            s.set_nonblocking(true).expect("non-blocking UDP");
            s
        })
        .collect();
    let mut endpoint = quinn_proto::Endpoint::new(
        Arc::new(quinn_proto::EndpointConfig::default()),
        None,
        false,
        None,
    );
    let config = quinn_proto::ClientConfig::new(tls::quic_client_crypto(&[ALPN_H3], None));
    let mut stateful = std::collections::BTreeSet::new();
    let mut retried = std::collections::BTreeSet::new();
    let mut other = 0;
    let mut buf = [0u8; 2048];
    let mut drain = |stateful: &mut std::collections::BTreeSet<Vec<u8>>,
                     retried: &mut std::collections::BTreeSet<Vec<u8>>,
                     other: &mut usize| {
        for socket in &sockets {
            // Bounded: at most what arrived since the last look.
            for _ in 0..10_000 {
                let Ok(len) = socket.recv(&mut buf) else {
                    break;
                };
                match long_header(&buf[..len]) {
                    Some((0, cid)) => {
                        stateful.insert(cid.to_vec());
                    }
                    Some((3, cid)) => {
                        retried.insert(cid.to_vec());
                    }
                    _ => *other += 1,
                }
            }
        }
    };
    let start = Instant::now();
    let mut datagram = Vec::new();
    for i in 0..n {
        let now = Instant::now();
        let (_, mut conn) = endpoint
            .connect(now, config.clone(), addr, "localhost")
            .expect("a client connection");
        datagram.clear();
        let transmit = conn
            .poll_transmit(now, 1, &mut datagram)
            .expect("a first Initial");
        let _ = sockets[i % ports].send_to(&datagram[..transmit.size], addr);
        // Pace: the attempts due by now, no more.
        let due = start + Duration::from_secs_f64((i + 1) as f64 / per_second as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if i % 100 == 0 {
            drain(&mut stateful, &mut retried, &mut other);
        }
    }
    let stop = Instant::now() + listen;
    while Instant::now() < stop {
        drain(&mut stateful, &mut retried, &mut other);
        std::thread::sleep(Duration::from_millis(20));
    }
    QuicAnswers {
        stateful: stateful.len(),
        retried: retried.len(),
        other,
    }
}
