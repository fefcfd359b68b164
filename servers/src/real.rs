//! The same servers on the machine's own sockets, for checking the lab's
//! servers against real clients (curl, browsers, h2load) and real networks.
//!
//! Nothing here is deterministic: the kernel's TCP and real time apply.
//! QUIC keeps the lab's windows and stream limit but, unless
//! [`RealSockets`] fixes its packet size, starts at quinn's default
//! 1200-byte packets and runs path-MTU discovery, as the kernel's TCP does.
//!
//! A server here meets clients the lab does not control, so it holds every
//! connection to [`Limits`]: handshake, request-head and idle timeouts, a
//! cap on connections, streams and the response bytes held in memory, QUIC
//! Retry under a flood of Initials; and a failing `accept` (out of file
//! descriptors) pauses accepting instead of stopping the server. The
//! simulation's servers ([`crate::run_simulated`]) have none of this.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use netsim::tls::real::ServerIdentity;
use netsim::tls::{self, ALPN_H2, ALPN_H3, ALPN_HTTP1};
use netsim::{FlowControl, RealSockets};
use scenarios::Scheduler;
use tokio_rustls::TlsAcceptor;

use crate::budget::{SendBudget, ServerBudget};
use crate::content::ContentServer;
use crate::error::ServerError;
use crate::limits::Limits;
use crate::quic::serve_h3_budgeted;
use crate::tcp::{is_per_connection, serve_http_limited, ConnectionLimits};
use crate::watchdog::{Activity, Watched};

/// Which protocols [`serve_real`] offers. Default: all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocols {
    /// HTTP/1.1 over TLS over TCP (ALPN `http/1.1`).
    pub http1: bool,
    /// HTTP/2 over TLS over TCP (ALPN `h2`).
    pub http2: bool,
    /// HTTP/3 over QUIC on UDP (ALPN `h3`).
    pub http3: bool,
}

impl Protocols {
    /// HTTP/1.1, HTTP/2 and HTTP/3.
    pub const ALL: Protocols = Protocols {
        http1: true,
        http2: true,
        http3: true,
    };

    fn tcp_alpn(&self) -> Vec<&'static [u8]> {
        let mut alpn = Vec::new();
        if self.http2 {
            alpn.push(ALPN_H2);
        }
        if self.http1 {
            alpn.push(ALPN_HTTP1);
        }
        alpn
    }
}

impl Default for Protocols {
    fn default() -> Self {
        Protocols::ALL
    }
}

/// Serve `server` on real sockets at `listen` for ever: TCP for HTTP/1.1
/// and HTTP/2, UDP (the same port) for HTTP/3, as `protocols` asks, under
/// the production [`Limits::default`]. TLS is the lab's fixed identity
/// (certificate for `server.httplab.test` and `localhost`; clients must
/// trust it explicitly). QUIC starts at 1200-byte datagrams and discovers
/// the path's MTU; TCP has the kernel's default congestion control (see
/// [`serve_real_with`] to choose). Must run inside a tokio runtime with I/O
/// and time enabled. Returns only if the sockets cannot be set up.
pub async fn serve_real(
    listen: SocketAddr,
    protocols: Protocols,
    server: ContentServer,
    flow: FlowControl,
) -> Result<(), ServerError> {
    serve_real_with(
        listen,
        protocols,
        server,
        flow,
        &RealSockets::default(),
        Limits::default(),
    )
    .await
}

/// [`serve_real`] with the socket settings `sockets` (a fixed QUIC packet
/// size, a TCP congestion control set on the listener, which accepted
/// connections inherit) and `limits`. The same as [`RealServer::bind`] and
/// [`RealServer::serve`].
pub async fn serve_real_with(
    listen: SocketAddr,
    protocols: Protocols,
    server: ContentServer,
    flow: FlowControl,
    sockets: &RealSockets,
    limits: Limits,
) -> Result<(), ServerError> {
    RealServer::bind(listen, protocols, flow, sockets, limits)?
        .serve(server)
        .await
}

/// A server on real sockets, bound and not yet serving: [`RealServer::bind`]
/// opens its sockets (so the caller learns the port it got), then
/// [`RealServer::serve`] serves on them.
#[derive(Debug)]
pub struct RealServer {
    addr: SocketAddr,
    tcp: Option<(tokio::net::TcpListener, Arc<rustls::ServerConfig>)>,
    quic: Option<quinn::Endpoint>,
    flow: FlowControl,
    limits: Limits,
}

/// How often [`RealServer::bind`] tries for a port free for both TCP and
/// UDP when asked for port 0.
const BIND_ATTEMPTS: usize = 16;

/// The backlog of the TCP listener: tokio's `TcpListener::bind` default.
const BACKLOG: u32 = 1024;

impl RealServer {
    /// Open the sockets for `protocols` at `listen`: a TCP listener for
    /// HTTP/1.1 and HTTP/2 and a QUIC endpoint for HTTP/3 on the same
    /// port. With port 0, one port free for both is chosen (the TCP
    /// listener's, which UDP then binds too; tried again on another port,
    /// a few times, if that UDP port is taken). `limits` are validated, and
    /// their [`Limits::max_connections`] lowered to what the open-file
    /// limit allows ([`Limits::within_open_files`]). Must run inside a
    /// tokio runtime with I/O and time enabled.
    pub fn bind(
        listen: SocketAddr,
        protocols: Protocols,
        flow: FlowControl,
        sockets: &RealSockets,
        limits: Limits,
    ) -> Result<RealServer, ServerError> {
        RealServer::bind_presenting(listen, protocols, flow, sockets, limits, None)
    }

    /// [`RealServer::bind`], presenting `identity` (a certificate chain and
    /// key of one's own, with rustls's default suites, groups and versions:
    /// `netsim::tls::real::server_config`) instead of the lab's identity
    /// and settings when one is given.
    pub fn bind_presenting(
        listen: SocketAddr,
        protocols: Protocols,
        flow: FlowControl,
        sockets: &RealSockets,
        limits: Limits,
        identity: Option<&ServerIdentity>,
    ) -> Result<RealServer, ServerError> {
        let alpn = protocols.tcp_alpn();
        if alpn.is_empty() && !protocols.http3 {
            return Err(ServerError::Config(
                "protocols: at least one must be on".into(),
            ));
        }
        limits.validate()?;
        let limits = match open_file_limit() {
            Some(files) => limits.within_open_files(files),
            None => limits,
        };
        let (tcp, udp) = bind_sockets(listen, !alpn.is_empty(), protocols.http3)?;
        let addr = match (&tcp, &udp) {
            (Some(tcp), _) => tcp.local_addr(),
            (None, Some(udp)) => udp.local_addr(),
            (None, None) => unreachable!("at least one protocol is on"),
        }
        .map_err(|source| ServerError::Listen {
            port: listen.port(),
            source,
        })?;
        let tcp = match tcp {
            None => None,
            Some(listener) => {
                // Connections the listener accepts inherit a congestion
                // control set on it with TCP_CONGESTION (Linux copies it
                // to the child).
                sockets
                    .prepare_tcp(&listener)
                    .map_err(|source| ServerError::Listen {
                        port: addr.port(),
                        source,
                    })?;
                let config = match identity {
                    None => tls::server_config(&alpn, None),
                    Some(identity) => tls::real::server_config(&alpn, identity)
                        .map_err(|e| ServerError::Config(e.to_string()))?,
                };
                Some((listener, config))
            }
        };
        let quic = match udp {
            None => None,
            Some(udp) => Some(
                quic_endpoint(udp, flow, sockets, &limits, identity)?.map_err(|source| {
                    ServerError::Endpoint {
                        port: addr.port(),
                        source,
                    }
                })?,
            ),
        };
        Ok(RealServer {
            addr,
            tcp,
            quic,
            flow,
            limits,
        })
    }

    /// The address it listens on: TCP's, and UDP's, which has the same
    /// port.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether it listens on TCP (HTTP/1.1, HTTP/2).
    pub fn has_tcp(&self) -> bool {
        self.tcp.is_some()
    }

    /// Whether it listens on UDP (HTTP/3).
    pub fn has_udp(&self) -> bool {
        self.quic.is_some()
    }

    /// The limits it serves under: those given, with
    /// [`Limits::max_connections`] lowered to the open-file limit's room.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Serve `server` for ever. An error of one connection ends only that
    /// connection; a failing `accept` (file descriptors exhausted, the
    /// kernel out of memory) pauses accepting, 10 ms at first and doubling
    /// up to 1 s while it fails, and never stops the server.
    pub async fn serve(self, server: ContentServer) -> Result<(), ServerError> {
        let shared = Arc::new(Shared {
            server,
            flow: self.flow,
            send_budget: self.limits.send_budget.map(ServerBudget::new),
            limits: self.limits,
        });
        let tcp = async {
            if let Some((listener, tls)) = self.tcp {
                accept_tcp(listener, TlsAcceptor::from(tls), shared.clone()).await;
            }
        };
        let quic = async {
            if let Some(endpoint) = self.quic {
                accept_quic(endpoint, shared.clone()).await;
            }
        };
        tokio::join!(tcp, quic);
        Ok(())
    }
}

/// What every connection of one [`RealServer`] shares.
#[derive(Debug)]
struct Shared {
    server: ContentServer,
    flow: FlowControl,
    limits: Limits,
    /// The server's send budget ([`Limits::send_budget`]).
    send_budget: Option<ServerBudget>,
}

impl Shared {
    /// A new connection's send budget and watchdog activity.
    fn connection_budget(&self, activity: &Arc<Activity>) -> Option<SendBudget> {
        let limits = &self.limits;
        (limits.connection_send_budget.is_some() || limits.send_budget.is_some()).then(|| {
            SendBudget::new(
                limits.connection_send_budget,
                self.send_budget.clone(),
                activity.clone(),
            )
        })
    }
}

/// The process's open-file limit (`ulimit -n`), if it has one.
fn open_file_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// Bind TCP and/or UDP at `listen`, on one port for both (see
/// [`RealServer::bind`]).
fn bind_sockets(
    listen: SocketAddr,
    tcp: bool,
    udp: bool,
) -> Result<(Option<tokio::net::TcpListener>, Option<std::net::UdpSocket>), ServerError> {
    let tcp_error = |source| ServerError::Listen {
        port: listen.port(),
        source,
    };
    let udp_error = |port, source| ServerError::Endpoint { port, source };
    if !tcp {
        let socket = std::net::UdpSocket::bind(listen).map_err(|e| udp_error(listen.port(), e))?;
        return Ok((None, Some(socket)));
    }
    let mut attempts = 0;
    loop {
        attempts += 1;
        let listener = bind_tcp(listen).map_err(tcp_error)?;
        if !udp {
            return Ok((Some(listener), None));
        }
        let port = listener.local_addr().map_err(tcp_error)?.port();
        match std::net::UdpSocket::bind(SocketAddr::new(listen.ip(), port)) {
            Ok(socket) => return Ok((Some(listener), Some(socket))),
            // The port TCP got is taken on UDP: try another.
            Err(e)
                if listen.port() == 0
                    && e.kind() == io::ErrorKind::AddrInUse
                    && attempts < BIND_ATTEMPTS => {}
            Err(e) => return Err(udp_error(port, e)),
        }
    }
}

/// A TCP listener at `addr`, as tokio's `TcpListener::bind` makes one
/// (address reuse, a backlog of [`BACKLOG`]).
fn bind_tcp(addr: SocketAddr) -> io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// The HTTP/3 endpoint on `udp`: the lab's windows, `limits`' stream cap
/// and idle timeout, and quinn's queue of undecided connection attempts
/// bounded by the handshake cap.
/// The outer error is a TLS config `identity` cannot make, the inner one
/// the endpoint's.
fn quic_endpoint(
    udp: std::net::UdpSocket,
    flow: FlowControl,
    sockets: &RealSockets,
    limits: &Limits,
    identity: Option<&ServerIdentity>,
) -> Result<io::Result<quinn::Endpoint>, ServerError> {
    let crypto = match identity {
        None => tls::quic_server_crypto(&[ALPN_H3], None),
        Some(identity) => tls::real::quic_server_crypto(&[ALPN_H3], identity)
            .map_err(|e| ServerError::Config(e.to_string()))?,
    };
    let mut quic = flow.quic();
    if let Some(max) = limits.max_streams {
        quic.max_concurrent_bidi_streams = quic.max_concurrent_bidi_streams.min(max);
    }
    let mut transport = sockets.quic_transport(&quic);
    if let Some(idle) = limits.idle_timeout {
        // Validated: it fits.
        transport.max_idle_timeout(quinn::IdleTimeout::try_from(idle).ok());
    }
    let mut config = quinn::ServerConfig::with_crypto(crypto);
    config.transport_config(Arc::new(transport));
    if let Some(max) = limits.max_quic_handshakes {
        config.max_incoming(max);
        // Packets buffered for attempts not yet accepted: at most 16 KiB
        // each and 16 MiB in all (quinn's defaults are 10 and 100 MiB).
        config.incoming_buffer_size(16 * 1024);
        config.incoming_buffer_size_total(16 * 1024 * 1024);
    }
    let Some(runtime) = quinn::default_runtime() else {
        return Ok(Err(io::Error::other(
            "quic: no tokio runtime to run the endpoint on",
        )));
    };
    Ok(quinn::Endpoint::new(
        quinn::EndpointConfig::default(),
        Some(config),
        udp,
        runtime,
    ))
}

/// A count of things in progress (connections, handshakes) under an
/// optional cap; each [`Slot`] taken is given back when dropped.
#[derive(Debug)]
struct Slots {
    taken: Arc<AtomicUsize>,
    max: Option<usize>,
}

/// One taken place of [`Slots`].
#[derive(Debug)]
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Slots {
    fn new(max: Option<usize>) -> Slots {
        Slots {
            taken: Arc::new(AtomicUsize::new(0)),
            max,
        }
    }

    /// How many are taken.
    fn taken(&self) -> usize {
        self.taken.load(Ordering::Relaxed)
    }

    /// A place, unless all are taken.
    fn take(&self) -> Option<Slot> {
        if self.max.is_some_and(|max| self.taken() >= max) {
            return None;
        }
        self.taken.fetch_add(1, Ordering::Relaxed);
        Some(Slot(self.taken.clone()))
    }
}

/// The pause after a failed `accept`: 10 ms, doubling while `accept` keeps
/// failing, to at most 1 s; back to 10 ms after a success. What Go's
/// `net/http` and tokio's examples do (Go: 5 ms doubling to 1 s).
#[derive(Debug, Default)]
struct Backoff {
    next: Option<Duration>,
    failures: u64,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    /// After a failure: how long to pause.
    fn failed(&mut self) -> Duration {
        let pause = self.next.unwrap_or(Self::FIRST);
        self.next = Some((pause * 2).min(Self::MAX));
        self.failures += 1;
        pause
    }

    /// After a success: the failures it ends, if any.
    fn succeeded(&mut self) -> Option<u64> {
        self.next = None;
        let failures = std::mem::take(&mut self.failures);
        (failures > 0).then_some(failures)
    }
}

/// Accept TCP connections for ever: each within [`Limits::max_connections`]
/// is served in a task of its own; one beyond it is closed at once; a
/// failing `accept` pauses accepting ([`Backoff`]).
async fn accept_tcp(listener: tokio::net::TcpListener, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    let slots = Slots::new(shared.limits.max_connections);
    let mut backoff = Backoff::default();
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                let pause = backoff.failed();
                if backoff.failures == 1 {
                    eprintln!(
                        "httplab server: accepting a TCP connection failed ({e}); \
                         pausing accept, {} ms at first and up to {} ms, until it works",
                        pause.as_millis(),
                        Backoff::MAX.as_millis()
                    );
                }
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        if let Some(failures) = backoff.succeeded() {
            eprintln!("httplab server: accepting TCP connections again after {failures} failures");
        }
        let Some(slot) = slots.take() else {
            // Full: refuse it cleanly (the client sees the connection
            // close) rather than leave it queued.
            drop(tcp);
            continue;
        };
        // Browsers and servers turn Nagle off; a failure here only costs
        // latency.
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let _slot = slot;
            serve_tcp_connection(tcp, &acceptor, &shared).await;
        });
    }
}

/// One TCP connection: the TLS handshake within the handshake timeout, then
/// HTTP/1.1 or HTTP/2 by ALPN under the connection limits.
async fn serve_tcp_connection(tcp: tokio::net::TcpStream, acceptor: &TlsAcceptor, shared: &Shared) {
    let limits = &shared.limits;
    let activity = Activity::new();
    let accept = acceptor.accept(Watched::new(tcp, activity.clone()));
    let tls = match limits.handshake_timeout {
        Some(limit) => tokio::time::timeout(limit, accept).await.ok(),
        None => Some(accept.await),
    };
    let Some(Ok(tls)) = tls else {
        return;
    };
    let h2 = tls.get_ref().1.alpn_protocol() == Some(ALPN_H2);
    let connection = ConnectionLimits {
        header_timeout: limits.header_timeout,
        http1_buffer: limits.http1_buffer,
        max_streams: limits.max_streams,
        // hyper takes at most u32::MAX here.
        h2_send_buffer: limits
            .connection_send_budget
            .map(|b| b.min(u32::MAX as usize)),
        budget: shared.connection_budget(&activity),
        watch: limits.idle_timeout.map(|idle| (activity.clone(), idle)),
    };
    let _ = serve_http_limited(
        tls,
        h2,
        shared.server.clone(),
        shared.flow,
        Scheduler::RoundRobin,
        &connection,
    )
    .await;
}

/// The HTTP/3 error code a connection is closed with when it stalls:
/// `H3_EXCESSIVE_LOAD` (RFC 9114 §8.1).
const H3_EXCESSIVE_LOAD: u32 = 0x0107;

/// Accept QUIC connection attempts until the endpoint closes: a client
/// whose address is not validated gets a Retry once more than
/// [`Limits::quic_retry_threshold`] handshakes are in progress; an attempt
/// beyond [`Limits::max_quic_handshakes`] handshakes, or beyond
/// [`Limits::max_connections`] connections, is refused; the rest are
/// accepted, each in a task of its own that gives up on a handshake after
/// the handshake timeout.
async fn accept_quic(endpoint: quinn::Endpoint, shared: Arc<Shared>) {
    let limits = &shared.limits;
    let handshakes = Slots::new(limits.max_quic_handshakes);
    let connections = Slots::new(limits.max_connections);
    while let Some(incoming) = endpoint.accept().await {
        let busy = handshakes.taken();
        if limits.quic_retry_threshold.is_some_and(|t| busy >= t)
            && !incoming.remote_address_validated()
            && incoming.may_retry()
        {
            // Only fails if the attempt may not be retried, checked above.
            let _ = incoming.retry();
            continue;
        }
        let (Some(handshake), Some(connection)) = (handshakes.take(), connections.take()) else {
            incoming.refuse();
            continue;
        };
        let Ok(connecting) = incoming.accept() else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let _connection = connection;
            let conn = match shared.limits.handshake_timeout {
                Some(limit) => tokio::time::timeout(limit, connecting).await.ok(),
                None => Some(connecting.await),
            };
            drop(handshake);
            let Some(Ok(conn)) = conn else {
                return;
            };
            serve_quic_connection(conn, &shared).await;
        });
    }
}

/// One established QUIC connection: HTTP/3, its bodies under the send
/// budget, closed if it stalls for the idle timeout (quinn closes it when
/// idle).
async fn serve_quic_connection(conn: quinn::Connection, shared: &Shared) {
    let activity = Activity::new();
    let budget = shared.connection_budget(&activity);
    let server = shared.server.clone();
    let serve = async {
        let _ = match budget {
            Some(budget) => serve_h3_budgeted(conn.clone(), server, budget).await,
            None => crate::quic::serve_h3_connection(conn.clone(), server).await,
        };
    };
    match shared.limits.idle_timeout {
        None => serve.await,
        Some(idle) => {
            tokio::select! {
                () = serve => {}
                () = activity.until_stalled(idle) => {
                    conn.close(quinn::VarInt::from_u32(H3_EXCESSIVE_LOAD), b"stalled");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_pauses_double_to_a_second_and_start_again_after_a_success() {
        let mut backoff = Backoff::default();
        let pauses: Vec<u128> = (0..10).map(|_| backoff.failed().as_millis()).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        assert_eq!(backoff.succeeded(), Some(10));
        assert_eq!(backoff.succeeded(), None);
        assert_eq!(backoff.failed(), Duration::from_millis(10));
    }

    #[test]
    fn slots_refuse_beyond_the_cap_and_come_back() {
        let slots = Slots::new(Some(2));
        let a = slots.take().expect("first");
        let _b = slots.take().expect("second");
        assert!(slots.take().is_none());
        drop(a);
        assert!(slots.take().is_some());
        let unlimited = Slots::new(None);
        let all: Vec<Slot> = (0..10_000).filter_map(|_| unlimited.take()).collect();
        assert_eq!(all.len(), 10_000);
    }
}
