//! `run_real` against `servers::serve_real` on the machine's loopback: the
//! default page (loaded flat) loads over every protocol with every body verified; with
//! verification off, bodies are checked against `content-length` only.
//!
//! Real sockets and real time: these tests assert what arrived and how many
//! connections carried it, never how long anything took.

mod harness;

use std::net::{Ipv4Addr, SocketAddr};
use std::thread::JoinHandle;
use std::time::Duration;

use clients::{ClientConfig, RealTarget, RunRecord};
use netsim::FlowControl;
use scenarios::Protocol;
use servers::{serve_real, ContentServer, Fault, Protocols};
use tokio::sync::oneshot;

/// The content seed the lab's server serves, and the clients check against.
const SEED: u64 = 23;

/// Flow control on both sides: 4 MiB windows.
fn flow() -> FlowControl {
    FlowControl::for_buffer(4 << 20)
}

/// A loopback port free for both TCP and UDP, at the time of asking.
fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = tcp.local_addr().unwrap().port();
        if std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

/// `servers::serve_real` on a loopback port, on a thread and tokio runtime
/// of its own; stopped when dropped.
struct LabServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl LabServer {
    /// Start serving `server` (HTTP/1.1, HTTP/2 and HTTP/3) and wait until
    /// it accepts TCP connections.
    fn start(server: ContentServer) -> LabServer {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("server runtime: {e}"))?;
            runtime.block_on(async move {
                tokio::select! {
                    served = serve_real(addr, Protocols::ALL, server, flow()) => {
                        served.map_err(|e| e.to_string())
                    }
                    _ = stopped => Ok(()),
                }
            })
        });
        let mut lab = LabServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        };
        lab.wait_until_listening();
        lab
    }

    /// serve_real binds its TCP listener and its QUIC endpoint in the same
    /// first poll, so once TCP accepts, UDP is bound too.
    fn wait_until_listening(&mut self) {
        for _ in 0..500 {
            if std::net::TcpStream::connect(self.addr).is_ok() {
                return;
            }
            if self.thread.as_ref().is_some_and(|t| t.is_finished()) {
                let end = self.thread.take().unwrap().join();
                panic!("the server stopped before listening: {end:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the server at {} never listened", self.addr);
    }

    /// A target for this server, as the lab's certificate names it.
    fn target(&self) -> RealTarget {
        RealTarget::new(self.addr).with_server_name("localhost")
    }
}

impl Drop for LabServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let end = thread.join().expect("the server thread panicked");
            if !std::thread::panicking() {
                assert_eq!(end, Ok(()), "the server failed");
            }
        }
    }
}

async fn page(target: &RealTarget, protocol: Protocol) -> RunRecord {
    let config = ClientConfig::new(protocol, SEED, flow());
    let record = clients::run_real(target, &config, &harness::flat_page().plan()).await;
    eprintln!(
        "{protocol} on loopback: plt {:?}, {} connections, {} bytes, failure {:?}",
        record.plt, record.connections_used, record.total_bytes, record.failure
    );
    record
}

#[tokio::test]
async fn the_page_loads_and_verifies_over_every_protocol() {
    let server = LabServer::start(ContentServer::new(SEED));
    let plan = harness::flat_page().plan();
    for protocol in Protocol::ALL {
        let record = page(&server.target(), protocol).await;
        assert_eq!(record.failure, None, "{protocol}: the page loads");
        assert_eq!(record.requests.len(), plan.object_count());
        for (r, object) in record.requests.iter().zip(plan.objects()) {
            assert_eq!(r.path, object.path, "{protocol}: records are in plan order");
            assert!(r.succeeded(), "{protocol}: {}: {:?}", r.path, r.error);
            assert!(r.verified, "{protocol}: {} verified", r.path);
            assert_eq!(r.bytes, object.size, "{protocol}: {}", r.path);
        }
        assert_eq!(record.total_bytes, plan.total_bytes());
        assert!(record.plt.is_some());

        match protocol {
            Protocol::H1 => assert!(
                (2..=6).contains(&record.connections_used),
                "HTTP/1.1 opens more than one and at most 6 connections, opened {}",
                record.connections_used
            ),
            Protocol::H2 | Protocol::H3 => assert_eq!(record.connections_used, 1, "{protocol}"),
        }
        assert_eq!(record.connections.len(), record.connections_used);
        for c in &record.connections {
            assert_eq!(c.error, None, "{protocol}: connection {}", c.id);
            assert!(c.handshake_done.is_some());
            assert_eq!(c.tcp_connected.is_some(), protocol != Protocol::H3);
            match (protocol, &c.stats) {
                (Protocol::H3, Some(stats)) => {
                    assert!(stats.bytes_received >= plan.total_bytes());
                    assert!(stats.smoothed_rtt.is_some() && stats.cwnd.is_some());
                    assert_eq!(stats.rtt_samples.len(), 1);
                }
                (Protocol::H3, None) => panic!("h3: quinn's statistics are read"),
                (_, stats) => assert_eq!(*stats, None, "{protocol}: the kernel's TCP is not read"),
            }
        }
    }
}

#[tokio::test]
async fn another_seed_fails_verification_but_passes_on_length_alone() {
    let server = LabServer::start(ContentServer::new(SEED + 1));
    for protocol in Protocol::ALL {
        let verified = page(&server.target(), protocol).await;
        let failure = verified.failure.as_deref().unwrap_or_default();
        assert!(
            failure.contains("differ from the content model"),
            "{protocol}: bodies of another seed fail the content check: {failure:?}"
        );

        let target = server.target().with_verify_bodies(false);
        let unverified = page(&target, protocol).await;
        assert_eq!(unverified.failure, None, "{protocol}: lengths match");
        assert!(unverified
            .requests
            .iter()
            .all(|r| r.succeeded() && !r.verified));
    }
}

#[tokio::test]
async fn without_verification_a_short_body_still_fails_on_content_length() {
    let path = harness::flat_page().plan().phases[1].objects[7]
        .path
        .clone();
    let server = LabServer::start(ContentServer::new(SEED).with_fault(Fault::Truncate {
        path_contains: path.clone(),
    }));
    let target = server.target().with_verify_bodies(false);
    for protocol in Protocol::ALL {
        let record = page(&target, protocol).await;
        let failure = record.failure.as_deref().unwrap_or_default();
        assert!(
            failure.starts_with(&format!("{path}: ")),
            "{protocol}: the short body fails the run: {failure:?}"
        );
        // hyper itself rejects a body short of its content-length over
        // HTTP/1.1 and HTTP/2; over HTTP/3 the client's own check does.
        if protocol == Protocol::H3 {
            assert!(failure.contains("content-length says"), "{failure}");
        }
        for r in record.requests.iter().filter(|r| r.path != path) {
            assert!(r.succeeded(), "{protocol}: {}: {:?}", r.path, r.error);
        }
    }
}

#[tokio::test]
async fn nothing_listening_fails_every_request() {
    let target = RealTarget::new((Ipv4Addr::LOCALHOST, free_port()).into());
    for protocol in Protocol::ALL {
        let config =
            ClientConfig::new(protocol, SEED, flow()).with_time_limit(Duration::from_secs(2));
        let record = clients::run_real(&target, &config, &harness::flat_page().plan()).await;
        let expected = match protocol {
            Protocol::H1 | Protocol::H2 => "tcp connect",
            Protocol::H3 => "time limit",
        };
        let failure = record.failure.as_deref().unwrap_or_default();
        eprintln!("{protocol} with nothing listening: {failure}");
        assert!(failure.contains(expected), "{protocol}: {failure:?}");
        assert!(record.requests.iter().all(|r| !r.succeeded()));
    }
}

/// A name that resolves to several addresses: one nothing listens on comes
/// first, and every protocol passes over it to the next (TCP at once, on
/// the refused connect; QUIC once its handshake has not completed within
/// `QUIC_FALLBACK_AFTER`).
#[tokio::test]
async fn an_address_nothing_listens_on_is_passed_over_for_the_next() {
    let server = LabServer::start(ContentServer::new(SEED));
    let silent = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
    let target = RealTarget::new(silent)
        .with_fallback(vec![server.addr])
        .with_server_name("localhost");
    assert_eq!(target.addrs(), [silent, server.addr]);
    for protocol in Protocol::ALL {
        let record = page(&target, protocol).await;
        assert_eq!(
            record.failure, None,
            "{protocol}: the second address serves"
        );
        assert!(record.requests.iter().all(|r| r.verified), "{protocol}");
    }
    // With only the silent address, the error names it.
    let alone = RealTarget::new(silent).with_server_name("localhost");
    let config =
        ClientConfig::new(Protocol::H2, SEED, flow()).with_time_limit(Duration::from_secs(2));
    let record = clients::run_real(&alone, &config, &harness::flat_page().plan()).await;
    let failure = record.failure.unwrap_or_default();
    assert!(failure.contains(&silent.to_string()), "{failure}");
}
