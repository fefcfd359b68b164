//! Transport probes: raw downloads over each transport, with no HTTP.
//!
//! netsim's own tests and benchmarks use them to validate the network and
//! the transports (throughput, handshake timing, head-of-line blocking,
//! path change). A probe request is the number of bytes wanted, as 8 bytes
//! little-endian; the server answers with that many bytes of a fixed
//! pattern and closes. The client checks every byte.
//!
//! - [`Transport::Tcp`]: one TCP connection, one download;
//! - [`Transport::TlsTcp`]: the same inside TLS 1.3;
//! - [`Transport::Quic`]: one QUIC connection, one bidirectional stream per
//!   requested download, all at once. After a path change the client
//!   rebinds its endpoint to its new address and the connection migrates.

use std::io;
use std::net::SocketAddrV4;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::clock::now;
use crate::host::Host;
use crate::quic::{self, QuicConfig};
use crate::sim::{RunOutput, SimConfig, Simulation};
use crate::stats::TransportStats;
use crate::tls;

/// The port probes use on the server, for TCP and for QUIC.
pub const PROBE_PORT: u16 = 4433;
/// The ALPN id of the probe protocol.
pub const PROBE_ALPN: &[u8] = b"httplab-probe";
const CHUNK: usize = 64 * 1024;

/// Which transport a probe runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Transport {
    /// Plain TCP.
    Tcp,
    /// TLS 1.3 over TCP.
    TlsTcp,
    /// QUIC (TLS 1.3 inside).
    Quic,
}

/// The byte at offset `i` of every probe response.
pub fn pattern_byte(i: u64) -> u8 {
    (i.wrapping_mul(31).wrapping_add(7) % 251) as u8
}

/// One download's progress: `(time, cumulative bytes)` after every read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Points in read order.
    pub points: Vec<(Duration, u64)>,
}

impl Timeline {
    /// When the cumulative count first reached `bytes`, if it did.
    pub fn time_to(&self, bytes: u64) -> Option<Duration> {
        self.points
            .iter()
            .find(|(_, b)| *b >= bytes)
            .map(|(t, _)| *t)
    }

    /// Time of the last read.
    pub fn end(&self) -> Option<Duration> {
        self.points.last().map(|(t, _)| *t)
    }
}

/// What a probe measured, in simulated time since the run started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeResult {
    /// When the client started connecting.
    pub start: Duration,
    /// When the transport connection was ready (TCP: handshake done).
    pub connected: Duration,
    /// When the secure channel was ready (TLS or QUIC handshake done; for
    /// plain TCP the same as `connected`).
    pub secured: Duration,
    /// One timeline per download.
    pub streams: Vec<Timeline>,
    /// When the last byte of every download was read and checked.
    pub done: Duration,
    /// The client's view of its connection.
    pub stats: TransportStats,
}

/// Run a probe: `sizes.len()` downloads of the given sizes. TCP transports
/// take exactly one size.
pub fn download(
    config: SimConfig,
    transport: Transport,
    sizes: Vec<u64>,
) -> RunOutput<ProbeResult> {
    let sim = match Simulation::new(config) {
        Ok(s) => s,
        Err(e) => panic!("probe given an invalid config: {e}"),
    };
    sim.run(
        move |host| serve(host, transport),
        move |host| fetch(host, transport, sizes),
    )
}

/// The probe client's TLS config: trusting the run's identity, no resumption.
fn client_tls(host: &Host) -> tls::ClientTls {
    tls::client_tls_for(
        &[PROBE_ALPN],
        host.key_log(),
        &tls::ClientResumption::Off,
        host.certificate(),
    )
}

/// Serve probe requests on [`PROBE_PORT`] for ever, presenting the run's TLS identity
/// ([`Host::certificate`]).
pub async fn serve(host: Host, transport: Transport) -> io::Result<()> {
    match transport {
        Transport::Tcp | Transport::TlsTcp => {
            let listener = host.tcp_listen(PROBE_PORT)?;
            let acceptor = tokio_rustls::TlsAcceptor::from(tls::server_config_for(
                &[PROBE_ALPN],
                host.key_log(),
                tls::ServerResumption::Off,
                host.certificate(),
            ));
            loop {
                let (stream, _) = listener.accept().await?;
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = match transport {
                        Transport::TlsTcp => match acceptor.accept(stream).await {
                            Ok(tls) => answer(tls).await,
                            Err(e) => Err(e),
                        },
                        _ => answer(stream).await,
                    };
                });
            }
        }
        Transport::Quic => {
            let crypto = tls::quic_server_crypto_for(
                &[PROBE_ALPN],
                host.key_log(),
                tls::ServerResumption::Off,
                host.certificate(),
            );
            let server =
                quic::QuicServer::bind(&host, PROBE_PORT, crypto, &QuicConfig::for_host(&host))?;
            while let Some(incoming) = server.endpoint().accept().await {
                let server = server.clone();
                tokio::spawn(async move {
                    let Ok(conn) = server.accept(incoming, false).await else {
                        return;
                    };
                    while let Ok((send, recv)) = conn.accept_bi().await {
                        tokio::spawn(answer(QuicStream { send, recv }));
                    }
                });
            }
            Ok(())
        }
    }
}

async fn answer<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> io::Result<()> {
    let mut req = [0u8; 8];
    stream.read_exact(&mut req).await?;
    let size = u64::from_le_bytes(req);
    let mut offset = 0u64;
    let mut chunk = Vec::with_capacity(CHUNK);
    while offset < size {
        let n = (size - offset).min(CHUNK as u64);
        chunk.clear();
        chunk.extend((offset..offset + n).map(pattern_byte));
        stream.write_all(&chunk).await?;
        offset += n;
    }
    stream.shutdown().await?;
    // Keep the connection open until the client closes it, so the last
    // bytes are not cut off by an early close.
    let mut rest = [0u8; 1];
    let _ = stream.read(&mut rest).await;
    Ok(())
}

/// Read one download, checking every byte, recording the timeline.
async fn read_checked<S: AsyncRead + Unpin>(stream: &mut S, size: u64) -> io::Result<Timeline> {
    let mut timeline = Timeline::default();
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0u64;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        for (i, b) in buf[..n].iter().enumerate() {
            if *b != pattern_byte(got + i as u64) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("byte {} differs from the pattern", got + i as u64),
                ));
            }
        }
        got += n as u64;
        timeline.points.push((now(), got));
    }
    if got != size {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("got {got} of {size} bytes"),
        ));
    }
    Ok(timeline)
}

/// The client side of a probe.
pub async fn fetch(host: Host, transport: Transport, sizes: Vec<u64>) -> io::Result<ProbeResult> {
    let server = SocketAddrV4::new(host.server_addr(), PROBE_PORT);
    let start = now();
    match transport {
        Transport::Tcp | Transport::TlsTcp => {
            let [size] = sizes[..] else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a TCP probe takes exactly one download",
                ));
            };
            let tcp = host.tcp_connect(server).await?;
            let connected = now();
            if transport == Transport::Tcp {
                let mut s = tcp;
                s.write_all(&size.to_le_bytes()).await?;
                let timeline = read_checked(&mut s, size).await?;
                return Ok(ProbeResult {
                    start,
                    connected,
                    secured: connected,
                    done: now(),
                    streams: vec![timeline],
                    stats: s.transport_stats(),
                });
            }
            let connector = tokio_rustls::TlsConnector::from(client_tls(&host).config);
            let name = rustls::pki_types::ServerName::try_from(tls::SERVER_NAME)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let mut s = connector.connect(name, tcp).await?;
            let secured = now();
            s.write_all(&size.to_le_bytes()).await?;
            let timeline = read_checked(&mut s, size).await?;
            Ok(ProbeResult {
                start,
                connected,
                secured,
                done: now(),
                streams: vec![timeline],
                stats: s.get_ref().0.transport_stats(),
            })
        }
        Transport::Quic => {
            let crypto = tls::quic_client(&client_tls(&host));
            let endpoint = quic::client_endpoint(&host, crypto, &QuicConfig::for_host(&host))?;
            // Like a phone: when the network changes, move the endpoint to
            // the new address; QUIC migrates the connection.
            {
                let (host, endpoint) = (host.clone(), endpoint.clone());
                tokio::spawn(async move {
                    host.address_changed().await;
                    quic::rebind(&host, &endpoint)
                });
            }
            let conn = endpoint
                .connect(server.into(), tls::SERVER_NAME)
                .map_err(|e| io::Error::other(e.to_string()))?
                .await?;
            let secured = now();
            let mut tasks = Vec::new();
            for size in sizes {
                let (mut send, recv) = conn.open_bi().await?;
                send.write_all(&size.to_le_bytes()).await?;
                let mut stream = QuicStream { send, recv };
                tasks.push(tokio::spawn(async move {
                    read_checked(&mut stream, size).await
                }));
            }
            let mut streams = Vec::new();
            for t in tasks {
                streams.push(t.await.map_err(io::Error::other)??);
            }
            let done = now();
            let stats = quic::transport_stats(&host, &endpoint, &conn);
            conn.close(0u32.into(), b"done");
            Ok(ProbeResult {
                start,
                connected: secured,
                secured,
                done,
                streams,
                stats,
            })
        }
    }
}

/// A QUIC bidirectional stream as one `AsyncRead + AsyncWrite`.
struct QuicStream {
    send: quinn::SendStream,
    recv: quinn::RecvStream,
}

impl AsyncRead for QuicStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.recv).poll_read(cx, buf)
    }
}

impl AsyncWrite for QuicStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.send)
            .poll_write(cx, data)
            .map_err(io::Error::from)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.send).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.send).poll_shutdown(cx)
    }
}
