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
//! Every connection of a run uses the run's one TLS config (`ClientTls`,
//! from [`Dialer::tls_client`]): rustls resumes a session only with the
//! config that received its ticket. With early data allowed and a ticket at
//! hand, [`open_tls`] and [`open_quic`] hand the connection over before its
//! handshake completes, so that the first request goes as early data
//! (0-RTT); the handshake's completion is recorded when it happens.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, SocketAddrV4};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use netsim::quic::QuicConfig;
use netsim::tls::{self, ClientResumption, ClientTls, ALPN_H2};
use netsim::SERVER_PORT;
use netsim::{Host, TransportStats};
use rustls::pki_types::ServerName;
use rustls::HandshakeKind;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::error::error_chain;
use crate::ledger::{HandshakeFacts, LateHandshakeSlot, Ledger, NetworkId};
use crate::stream_map::StreamMapHandle;

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

    /// The TLS client config for every connection of a run: offers exactly
    /// `alpn`, and keeps and uses sessions as `resumption` says.
    fn tls_client(&self, alpn: &[u8], resumption: &ClientResumption) -> ClientTls;

    /// The server's name, for SNI and certificate checks.
    fn server_name(&self) -> &str;

    /// The request authority (`Host` / `:authority`). Default: the server
    /// name, which is right when the server listens on port 443.
    fn authority(&self) -> String {
        self.server_name().to_string()
    }

    /// A QUIC client endpoint whose default client config is `tls` (from
    /// [`Dialer::tls_client`]) with transport settings `config`.
    fn quic_endpoint(&self, tls: &ClientTls, config: &QuicConfig) -> io::Result<quinn::Endpoint>;

    /// The server's QUIC address.
    fn quic_server(&self) -> SocketAddr;

    /// Every QUIC address of the server, in the order to try them, and how
    /// long a handshake with one that is not the last may take before the
    /// next is tried. Default: [`Dialer::quic_server`] alone.
    fn quic_servers(&self) -> (Vec<SocketAddr>, Duration) {
        (vec![self.quic_server()], Duration::MAX)
    }

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
            host.tcp_connect(SocketAddrV4::new(host.server_addr(), SERVER_PORT))
                .await
        }
    }

    fn tcp_stats(&self, tcp: &netsim::TcpStream) -> Option<TransportStats> {
        Some(tcp.transport_stats())
    }

    /// Trusts only the run's TLS identity (`Host::certificate`).
    fn tls_client(&self, alpn: &[u8], resumption: &ClientResumption) -> ClientTls {
        tls::client_tls_for(&[alpn], self.key_log(), resumption, self.certificate())
    }

    fn server_name(&self) -> &str {
        tls::SERVER_NAME
    }

    /// Also, like a phone, moves the endpoint to the host's new address
    /// after a path change, so that QUIC migrates the connection.
    fn quic_endpoint(&self, tls: &ClientTls, config: &QuicConfig) -> io::Result<quinn::Endpoint> {
        let crypto = tls::quic_client(tls);
        let endpoint = netsim::quic::client_endpoint(self, crypto, config)?;
        let (host, moving) = (self.clone(), endpoint.clone());
        tokio::spawn(async move {
            host.address_changed().await;
            netsim::quic::rebind(&host, &moving)
        });
        Ok(endpoint)
    }

    fn quic_server(&self) -> SocketAddr {
        SocketAddrV4::new(self.server_addr(), SERVER_PORT).into()
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
///
/// With a stream map, it also hands every byte it reads (the ciphertext,
/// in TCP order) to the map's TLS record parser.
pub(crate) struct SharedStream<T>(Arc<Mutex<T>>, Option<StreamMapHandle>);

impl<T> Clone for SharedStream<T> {
    fn clone(&self) -> Self {
        SharedStream(self.0.clone(), self.1.clone())
    }
}

impl<T> SharedStream<T> {
    fn new(stream: T, map: Option<StreamMapHandle>) -> SharedStream<T> {
        SharedStream(Arc::new(Mutex::new(stream)), map)
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
        let before = buf.filled().len();
        let result = Pin::new(&mut *self.lock()).poll_read(cx, buf);
        if let Some(map) = &self.1 {
            let mut seen = map.lock().unwrap_or_else(|e| e.into_inner());
            seen.records.feed(&buf.filled()[before..]);
        }
        result
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
pub(crate) type TlsConnection<D> = HandshakeWatch<TlsStream<SharedStream<<D as Dialer>::Tcp>>>;

/// Open connection `conn` as TLS over TCP with the run's config `tls`,
/// which offers exactly `alpn`, and record its network, milestones (TCP
/// connected, TLS done) and statistics source in `ledger`. The error says
/// which step failed; the caller records it.
///
/// With early data allowed and a ticket that allows it, the connection is
/// handed over at once, its handshake still running: what the HTTP stack
/// writes first goes as early data with the ClientHello, and the
/// handshake's completion is recorded when the stream sees it.
pub(crate) async fn open_tls<D: Dialer>(
    dialer: &D,
    tls: &ClientTls,
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
    // HTTP/2: map which stream each byte carries, for the head-of-line
    // cost (HTTP/1.1 carries one response at a time and needs no map).
    let map = (alpn == ALPN_H2).then(|| {
        let map = StreamMapHandle::default();
        ledger.stream_map(conn, map.clone());
        map
    });
    let tcp = SharedStream::new(tcp, map.clone());
    {
        let (dialer, tcp) = (dialer.clone(), tcp.clone());
        ledger.stats_source(conn, Box::new(move || dialer.tcp_stats(&tcp.lock())));
    }
    let name = ServerName::try_from(dialer.server_name().to_string())
        .map_err(|e| format!("tls: bad server name: {e}"))?;
    let stream = TlsConnector::from(tls.config.clone())
        .early_data(tls.config.enable_early_data)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("tls handshake: {}", error_chain(&e)))?;
    if stream.get_ref().1.is_handshaking() {
        // tokio-rustls returns before the handshake only to send early data.
        let late = ledger.late_handshake(conn);
        return Ok(HandshakeWatch {
            inner: stream,
            late: Some(late),
            alpn,
            map,
        });
    }
    check_alpn(stream.get_ref().1, alpn)?;
    ledger.handshake_done(conn, tls_facts(stream.get_ref().1));
    Ok(HandshakeWatch {
        inner: stream,
        late: None,
        alpn,
        map,
    })
}

/// What a TLS handshake that completed before the connection was handed
/// over was: no early data went (tokio-rustls hands over early exactly when
/// rustls offers early data).
fn tls_facts(session: &rustls::ClientConnection) -> HandshakeFacts {
    HandshakeFacts {
        resumed: session
            .handshake_kind()
            .map(|k| k == HandshakeKind::Resumed),
        early_data_offered: false,
        early_data_accepted: None,
    }
}

/// An error unless the server chose `alpn`.
fn check_alpn(session: &rustls::ClientConnection, alpn: &[u8]) -> Result<(), String> {
    let chosen = session.alpn_protocol();
    if chosen != Some(alpn) {
        return Err(format!(
            "tls: server chose ALPN {:?}, expected {:?}",
            chosen.map(String::from_utf8_lossy),
            String::from_utf8_lossy(alpn)
        ));
    }
    Ok(())
}

/// A TLS stream handed to the HTTP stack while its handshake may still be
/// running (early data): the first time a read or write finds the handshake
/// complete, it records when, and what it was, and checks the ALPN.
pub(crate) struct HandshakeWatch<S> {
    inner: S,
    /// Where to record the handshake; `None` once recorded (or if it was
    /// complete before the stream was handed over).
    late: Option<LateHandshakeSlot>,
    alpn: &'static [u8],
    /// Where the plaintext read goes, for the map of bytes to streams.
    map: Option<StreamMapHandle>,
}

impl<T> HandshakeWatch<TlsStream<T>> {
    fn observe(&mut self) -> io::Result<()> {
        let Some(late) = &self.late else {
            return Ok(());
        };
        let session = self.inner.get_ref().1;
        if session.is_handshaking() {
            return Ok(());
        }
        {
            let mut late = late.lock().unwrap_or_else(|e| e.into_inner());
            late.done = Some(Instant::now());
            late.facts = HandshakeFacts {
                resumed: session
                    .handshake_kind()
                    .map(|k| k == HandshakeKind::Resumed),
                early_data_offered: true,
                early_data_accepted: Some(session.is_early_data_accepted()),
            };
        }
        self.late = None;
        check_alpn(session, self.alpn).map_err(io::Error::other)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for HandshakeWatch<TlsStream<T>> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Some(map) = &this.map {
            let mut seen = map.lock().unwrap_or_else(|e| e.into_inner());
            seen.frames.feed(&buf.filled()[before..]);
        }
        this.observe()?;
        result
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for HandshakeWatch<TlsStream<T>> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, data);
        this.observe()?;
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.observe()?;
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_flush(cx);
        this.observe()?;
        result
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.observe()?;
        result
    }
}

/// Open connection `conn` as QUIC with the run's config `tls` and transport
/// settings `config`, and record its handshake and statistics source in
/// `ledger`.
///
/// With early data allowed and a ticket that allows it, the connection is
/// handed over at once (quinn's `into_0rtt`): requests go as 0-RTT data,
/// and the handshake's completion, and whether the server accepted them,
/// are recorded when quinn reports them.
///
/// Whether the handshake resumed comes from `tls`'s count of certificate
/// checks, which tells connections apart only if their handshakes do not
/// overlap: the HTTP/3 client opens one connection at a time.
pub(crate) async fn open_quic<D: Dialer>(
    dialer: &D,
    tls: &ClientTls,
    config: &QuicConfig,
    ledger: &Ledger,
    conn: u32,
) -> Result<quinn::Connection, String> {
    let endpoint = dialer
        .quic_endpoint(tls, config)
        .map_err(|e| format!("quic endpoint: {}", error_chain(&e)))?;
    let checks = tls.certificate_checks.clone();
    let checked_before = checks.count();
    // A handshake done without early data: recorded, and its statistics
    // source kept.
    let established = |connection: &quinn::Connection| {
        ledger.handshake_done(
            conn,
            HandshakeFacts {
                resumed: Some(checks.count() == checked_before),
                early_data_offered: false,
                early_data_accepted: None,
            },
        );
        record_quic_stats(dialer, &endpoint, connection, ledger, conn);
    };
    let (servers, fallback_after) = dialer.quic_servers();
    let mut failures = Vec::new();
    if let Some((&last, earlier)) = servers.split_last() {
        // Several addresses (real sockets only): each but the last gets
        // `fallback_after` to finish its handshake.
        for &addr in earlier {
            let attempt = endpoint
                .connect(addr, dialer.server_name())
                .map_err(|e| format!("quic connect to {addr}: {}", error_chain(&e)))?;
            match netsim::time::timeout(fallback_after, attempt).await {
                Ok(Ok(connection)) => {
                    established(&connection);
                    return Ok(connection);
                }
                Ok(Err(e)) => failures.push(format!("{addr}: {}", error_chain(&e))),
                Err(_) => failures.push(format!(
                    "{addr}: no handshake within {} ms",
                    fallback_after.as_millis()
                )),
            }
        }
        if !earlier.is_empty() {
            failures.push(format!("{last}: "));
        }
    }
    let server = servers
        .last()
        .copied()
        .unwrap_or_else(|| dialer.quic_server());
    let tried = failures.join("; ");
    let connecting = endpoint
        .connect(server, dialer.server_name())
        .map_err(|e| format!("quic connect: {}", error_chain(&e)))?;
    let connecting = if tls.config.enable_early_data {
        match connecting.into_0rtt() {
            Ok((connection, accepted)) => {
                let late = ledger.late_handshake(conn);
                let watched = connection.clone();
                let checks = checks.clone();
                tokio::spawn(async move {
                    let accepted = accepted.await;
                    if watched.close_reason().is_some() {
                        return;
                    }
                    let mut late = late.lock().unwrap_or_else(|e| e.into_inner());
                    late.done = Some(Instant::now());
                    late.facts = HandshakeFacts {
                        resumed: Some(checks.count() == checked_before),
                        early_data_offered: true,
                        early_data_accepted: Some(accepted),
                    };
                });
                record_quic_stats(dialer, &endpoint, &connection, ledger, conn);
                return Ok(connection);
            }
            Err(connecting) => connecting,
        }
    } else {
        connecting
    };
    // A path change before the handshake is done ends the attempt: QUIC
    // may not migrate a connection before then (RFC 9000, section 9), and
    // its packets from the new address would go unanswered until the idle
    // timeout. The carrier opens another connection on the new network.
    let connection = tokio::select! {
        biased;
        done = connecting => done.map_err(|e| format!("quic handshake: {tried}{}", error_chain(&e)))?,
        () = dialer.network_changed() => {
            return Err("quic handshake: cut off by a path change before it completed (QUIC cannot migrate a connection during its handshake)".to_owned());
        }
    };
    established(&connection);
    Ok(connection)
}

/// Tell `ledger` where connection `conn`'s statistics come from.
fn record_quic_stats<D: Dialer>(
    dialer: &D,
    endpoint: &quinn::Endpoint,
    connection: &quinn::Connection,
    ledger: &Ledger,
    conn: u32,
) {
    let (dialer, endpoint, connection, start) = (
        dialer.clone(),
        endpoint.clone(),
        connection.clone(),
        ledger.start(),
    );
    ledger.stats_source(
        conn,
        Box::new(move || dialer.quic_stats(&endpoint, &connection, start.elapsed())),
    );
}

/// A dialer that reaches the same server under another name: one origin of
/// a page with several, all served by the lab's server. Only the name (SNI,
/// certificate check, authority) differs from `inner`.
#[derive(Clone)]
pub(crate) struct Named<D: Dialer> {
    inner: D,
    name: Arc<str>,
}

impl<D: Dialer> Named<D> {
    /// `inner` under `name`.
    pub(crate) fn new(inner: D, name: &str) -> Named<D> {
        Named {
            inner,
            name: name.into(),
        }
    }
}

impl<D: Dialer> Dialer for Named<D> {
    type Tcp = D::Tcp;

    fn connect_tcp(&self) -> impl Future<Output = io::Result<D::Tcp>> {
        self.inner.connect_tcp()
    }

    fn tcp_stats(&self, tcp: &D::Tcp) -> Option<TransportStats> {
        self.inner.tcp_stats(tcp)
    }

    fn tls_client(&self, alpn: &[u8], resumption: &ClientResumption) -> ClientTls {
        self.inner.tls_client(alpn, resumption)
    }

    fn server_name(&self) -> &str {
        &self.name
    }

    /// The inner dialer's authority under its own name (which may carry a
    /// port), else the name (port 443).
    fn authority(&self) -> String {
        if *self.name == *self.inner.server_name() {
            self.inner.authority()
        } else {
            self.name.to_string()
        }
    }

    fn quic_endpoint(&self, tls: &ClientTls, config: &QuicConfig) -> io::Result<quinn::Endpoint> {
        self.inner.quic_endpoint(tls, config)
    }

    fn quic_server(&self) -> SocketAddr {
        self.inner.quic_server()
    }

    fn quic_servers(&self) -> (Vec<SocketAddr>, Duration) {
        self.inner.quic_servers()
    }

    fn network(&self) -> NetworkId {
        self.inner.network()
    }

    fn network_changed(&self) -> impl Future<Output = ()> {
        self.inner.network_changed()
    }

    fn quic_stats(
        &self,
        endpoint: &quinn::Endpoint,
        conn: &quinn::Connection,
        at: Duration,
    ) -> Option<TransportStats> {
        self.inner.quic_stats(endpoint, conn, at)
    }
}
