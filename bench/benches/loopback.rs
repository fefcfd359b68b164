//! Cost per request of each protocol's server and client on the machine's
//! loopback: `servers::serve_real` and `clients::run_real` with 200
//! requests of 2 KB, 10 outstanding at a time, one connection (HTTP/2,
//! HTTP/3) or up to 6 (HTTP/1.1), every body verified.
//!
//! criterion reports the wall time of the whole batch and requests per
//! second (throughput in elements). Each batch opens its connections
//! afresh, TLS or QUIC handshakes included, as a sweep's run does. Client and server run on their own
//! threads, one core each at most, so the time per request is their CPU
//! cost plus loopback latency. `cargo bench -p bench --bench loopback`;
//! under `cargo test --benches` each bench runs once.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use clients::{ClientConfig, RealTarget};
use criterion::{Criterion, Throughput};
use netsim::FlowControl;
use scenarios::{Protocol, Workload};
use servers::{serve_real, ContentServer, Protocols};

/// Requests per batch.
const REQUESTS: u32 = 200;
/// Response body size.
const SIZE: u64 = 2_000;
/// Requests outstanding at once.
const CONCURRENCY: u32 = 10;
/// The content seed.
const SEED: u64 = 1;

fn flow() -> FlowControl {
    FlowControl::for_buffer(4 << 20)
}

/// A loopback port free for both TCP and UDP, at the time of asking.
fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = tcp.local_addr().expect("local addr").port();
        if std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

/// Start the lab's server on a thread of its own; it serves until the
/// process ends.
fn start_server() -> SocketAddr {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime
            .block_on(serve_real(
                addr,
                Protocols::ALL,
                ContentServer::new(SEED),
                flow(),
            ))
            .expect("serving");
    });
    // Wait until it accepts TCP connections.
    for _ in 0..500 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return addr;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the server at {addr} never accepted a connection");
}

fn main() {
    let addr = start_server();
    let plan = Workload::Rpc {
        requests: REQUESTS,
        size: SIZE,
        concurrency: CONCURRENCY,
    }
    .plan();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let target = RealTarget::new(addr);

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let mut group = c.benchmark_group("loopback");
    group.throughput(Throughput::Elements(u64::from(REQUESTS)));
    for protocol in Protocol::ALL {
        let config = ClientConfig::new(protocol, SEED, flow());
        let name = format!("rpc_{protocol}_{REQUESTS}x{}kb_c{CONCURRENCY}", SIZE / 1000);
        group.bench_function(name, |b| {
            b.iter(|| {
                let record = runtime.block_on(clients::run_real(&target, &config, &plan));
                assert!(record.succeeded(), "{protocol}: {:?}", record.failure);
            })
        });
    }
    group.finish();
    c.final_summary();
}
