//! Where the client's connections come from: the [`Dialer`] boundary, its
//! adapter for the simulated network ([`netsim::Host`]), and the two ways
//! to open a secure connection on any dialer ([`open_tls`], [`open_quic`]).
//!
//! The HTTP code above this module sees only a byte stream (TLS over TCP)
//! or a `quinn::Connection`. The adapter for the machine's own sockets is
//! in `crate::real`.
//!
//! A dialer is also the client's window on the operating system's view of
//! the network ([`Dialer::network`], [`Dialer::network_changed`]): a phone's
//! OS tells apps at once when it moves from Wi-Fi to LTE, and the carriers
//! use that to tell a connection lost to a path change from any other
//! failure (see `docs/migration.md`).

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use netsim::quic::QuicConfig;
use netsim::tls;
use netsim::{Host, TransportStats};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::error_chain;
use crate::ledger::Ledger;

/// The network the client is attached to, as its operating system names
/// it: two connections opened on the same network have equal ids, and a
/// path change gives the client a new one. In the simulation it is the
/// host's address (10.0.1.2, then 10.0.2.2 after a path change); on real
/// sockets there is one network for the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NetworkId(pub(crate) Ipv4Addr);

/// One way of reaching the server: TCP connections, TLS settings and QUIC
/// endpoints, plus the transport statistics of what it opened.
pub(crate) trait Dialer: Clone + 'static {
    /// A connected TCP byte stream.
    type Tcp: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Open a TCP connection to the server's HTTPS port; resolves once TCP's
    /// handshake completes.
    fn connect_tcp(&self) -> impl Future<Output = io::Result<Self::Tcp>>;

    /// Transport statistics of `tcp` so far, where the platform has them.
    fn tcp_stats(&self, tcp: &Self::Tcp) -> Option<TransportStats>;

    /// A TLS client config that offers exactly `alpn`.
    fn tls_config(&self, alpn: &[u8]) -> Arc<rustls::ClientConfig>;

    /// The server's name, for SNI and certificate checks.
    fn server_name(&self) -> &str;

    /// The request authority (`Host` / `:authority`). Default: the server
    /// name, which is right when the server listens on port 443.
    fn authority(&self) -> String {
        self.server_name().to_string()
    }

    /// A QUIC client endpoint offering exactly `alpn`, with transport
    /// settings `config`, as its default client config.
    fn quic_endpoint(&self, alpn: &[u8], config: &QuicConfig) -> io::Result<quinn::Endpoint>;

    /// The server's QUIC address.
    fn quic_server(&self) -> SocketAddr;

    /// The network the client is attached to now, as the OS reports it.
    fn network(&self) -> NetworkId;

    /// Resolves when the OS reports that the client moved to another
    /// network (a path change); never resolves where no change can be
    /// reported.
    fn network_changed(&self) -> impl Future<Output = ()>;

    /// Transport statistics of the QUIC connection `conn` on `endpoint`,
    /// read `at` (time since the run's start) for dialers that have no
    /// clock of their own to stamp RTT samples with.
    fn quic_stats(
        &self,
        endpoint: &quinn::Endpoint,
        conn: &quinn::Connection,
        at: Duration,
    ) -> Option<TransportStats>;
}

impl Dialer for Host {
    type Tcp = netsim::TcpStream;

    fn connect_tcp(&self) -> impl Future<Output = io::Result<netsim::TcpStream>> {
        let host = self.clone();
        async move {
            host.tcp_connect(SocketAddrV4::new(host.server_addr(), servers::sim::PORT))
                .await
        }
    }

    fn tcp_stats(&self, tcp: &netsim::TcpStream) -> Option<TransportStats> {
        Some(tcp.transport_stats())
    }

    fn tls_config(&self, alpn: &[u8]) -> Arc<rustls::ClientConfig> {
        tls::client_config(&[alpn], self.key_log())
    }

    fn server_name(&self) -> &str {
        tls::SERVER_NAME
    }

    /// Also, like a phone, moves the endpoint to the host's new address
    /// after a path change, so that QUIC migrates the connection.
    fn quic_endpoint(&self, alpn: &[u8], config: &QuicConfig) -> io::Result<quinn::Endpoint> {
        let crypto = tls::quic_client_crypto(&[alpn], self.key_log());
        let endpoint = netsim::quic::client_endpoint(self, crypto, config)?;
        let (host, moving) = (self.clone(), endpoint.clone());
        tokio::spawn(async move {
            host.address_changed().await;
            netsim::quic::rebind(&host, &moving)
        });
        Ok(endpoint)
    }

    fn quic_server(&self) -> SocketAddr {
        SocketAddrV4::new(self.server_addr(), servers::sim::PORT).into()
    }

    /// The host's current address.
    fn network(&self) -> NetworkId {
        NetworkId(self.address())
    }

    /// The host's address-change notification, which netsim raises in the
    /// same tick as the path change, before any socket sees it.
    fn network_changed(&self) -> impl Future<Output = ()> {
        let host = self.clone();
        async move {
            let before = host.address();
            if host.address_changed().await == before {
                // The notifier is gone (the host is shutting down): no
                // change will ever be reported.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Stamps RTT samples with simulated time (netsim's own clock), not
    /// `at`.
    fn quic_stats(
        &self,
        endpoint: &quinn::Endpoint,
        conn: &quinn::Connection,
        _at: Duration,
    ) -> Option<TransportStats> {
        Some(netsim::quic::transport_stats(self, endpoint, conn))
    }
}

/// A TCP stream the HTTP stack owns while the ledger keeps a handle to it,
/// to read its transport statistics when the run ends (hyper keeps the
/// stream it is given to itself).
pub(crate) struct SharedStream<T>(Arc<Mutex<T>>);

impl<T> Clone for SharedStream<T> {
    fn clone(&self) -> Self {
        SharedStream(self.0.clone())
    }
}

impl<T> SharedStream<T> {
    fn new(stream: T) -> SharedStream<T> {
        SharedStream(Arc::new(Mutex::new(stream)))
    }

    fn lock(&self) -> MutexGuard<'_, T> {
        // Only one task touches the stream at a time; a poisoned lock means
        // a panic that already fails the run.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for SharedStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.lock()).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for SharedStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.lock()).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.lock()).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.lock()).poll_shutdown(cx)
    }
}

/// A TLS-over-TCP connection as the HTTP stack gets it.
pub(crate) type TlsConnection<D> = TlsStream<SharedStream<<D as Dialer>::Tcp>>;

/// Open connection `conn` as TLS over TCP offering exactly `alpn`, and
/// record its network, milestones (TCP connected, TLS done) and statistics
/// source in `ledger`. The error says which step failed; the caller records
/// it.
pub(crate) async fn open_tls<D: Dialer>(
    dialer: &D,
    alpn: &'static [u8],
    ledger: &Ledger,
    conn: u32,
) -> Result<TlsConnection<D>, String> {
    // The socket binds to the current network's address in this same poll.
    ledger.opened_on(conn, dialer.network());
    let tcp = dialer
        .connect_tcp()
        .await
        .map_err(|e| format!("tcp connect: {}", error_chain(&e)))?;
    ledger.tcp_connected(conn);
    let tcp = SharedStream::new(tcp);
    {
        let (dialer, tcp) = (dialer.clone(), tcp.clone());
        ledger.stats_source(conn, Box::new(move || dialer.tcp_stats(&tcp.lock())));
    }
    let name = ServerName::try_from(dialer.server_name().to_string())
        .map_err(|e| format!("tls: bad server name: {e}"))?;
    let stream = TlsConnector::from(dialer.tls_config(alpn))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("tls handshake: {}", error_chain(&e)))?;
    let chosen = stream.get_ref().1.alpn_protocol();
    if chosen != Some(alpn) {
        return Err(format!(
            "tls: server chose ALPN {:?}, expected {:?}",
            chosen.map(String::from_utf8_lossy),
            String::from_utf8_lossy(alpn)
        ));
    }
    ledger.handshake_done(conn);
    Ok(stream)
}

/// Open connection `conn` as QUIC offering exactly `alpn` with transport
/// settings `config`, and record its handshake and statistics source in
/// `ledger`.
pub(crate) async fn open_quic<D: Dialer>(
    dialer: &D,
    alpn: &'static [u8],
    config: &QuicConfig,
    ledger: &Ledger,
    conn: u32,
) -> Result<quinn::Connection, String> {
    let endpoint = dialer
        .quic_endpoint(alpn, config)
        .map_err(|e| format!("quic endpoint: {}", error_chain(&e)))?;
    let connection = endpoint
        .connect(dialer.quic_server(), dialer.server_name())
        .map_err(|e| format!("quic connect: {}", error_chain(&e)))?
        .await
        .map_err(|e| format!("quic handshake: {}", error_chain(&e)))?;
    ledger.handshake_done(conn);
    {
        let (dialer, connection, start) = (dialer.clone(), connection.clone(), ledger.start());
        ledger.stats_source(
            conn,
            Box::new(move || dialer.quic_stats(&endpoint, &connection, start.elapsed())),
        );
    }
    Ok(connection)
}
