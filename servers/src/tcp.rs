//! HTTP/1.1 and HTTP/2 over TLS over TCP, served by hyper.
//!
//! One TLS port serves both: the protocol is the one ALPN settled on (`h2`
//! → HTTP/2, anything else → HTTP/1.1). HTTP/2 gets the windows and stream
//! limit of [`FlowControl`] with hyper's adaptive window off; HTTP/1.1 keeps
//! connections alive. TLS records start small and grow (see [`crate::records`]).
//! hyper's `Date` header and its timers are off: nothing
//! reads the wall clock, and no timeout depends on one.
//!
//! Malformed HTTP/1.1 requests are answered by hyper itself (400, or 431 /
//! 414 for oversized heads) before the connection closes.
//!
//! A TLS config that accepts early data (`max_early_data_size > 0`, as
//! `netsim::tls::ServerResumption::On` sets it) is served through
//! [`crate::early_data`], which hands the connection to hyper as soon as the
//! server's first flight is out, so that a request sent as early data is
//! answered in the same round trip. Any other config goes through
//! tokio-rustls, which waits for the client's `Finished`.

use std::convert::Infallible;
use std::io;
use std::sync::Arc;

use http::header::RANGE;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use netsim::tls::ALPN_H2;
use netsim::FlowControl;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::content::ContentServer;
use crate::early_data;
use crate::error::ServerError;
use crate::records::DynamicRecords;

/// The largest HTTP/2 frame payload the server accepts: 16 KiB, the
/// protocol's default.
pub const H2_MAX_FRAME_SIZE: u32 = 16 * 1024;

/// Serve one TLS connection until the client closes it: HTTP/2 if ALPN
/// negotiated `h2`, else HTTP/1.1 with keep-alive. HTTP/2 announces
/// `flow`'s windows and stream limit.
///
/// Returns the connection's error, if it ended with one (a reset, a
/// protocol error, a truncated response under [`crate::Fault::Truncate`]).
pub async fn serve_h1_h2<IO>(
    tls: TlsStream<IO>,
    server: ContentServer,
    flow: FlowControl,
) -> Result<(), ServerError>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let h2 = tls.get_ref().1.alpn_protocol() == Some(ALPN_H2);
    serve_http(tls, h2, server, flow).await
}

/// Serve HTTP/1.1 or HTTP/2 (`h2`) on an established TLS stream until the
/// client closes it; see [`serve_h1_h2`].
async fn serve_http<S>(
    tls: S,
    h2: bool,
    server: ContentServer,
    flow: FlowControl,
) -> Result<(), ServerError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(DynamicRecords::new(tls));
    let service = service_fn(move |req: Request<Incoming>| {
        let range = req.headers().get(RANGE).map(|v| v.as_bytes());
        let response = server.respond(req.method(), req.uri().path(), range);
        std::future::ready(Ok::<_, Infallible>(response))
    });
    let served = if h2 {
        http2::Builder::new(TokioExecutor::new())
            .initial_stream_window_size(flow.stream_window)
            .initial_connection_window_size(flow.connection_window)
            .adaptive_window(false)
            .max_concurrent_streams(flow.max_concurrent_streams)
            .max_frame_size(H2_MAX_FRAME_SIZE)
            .auto_date_header(false)
            .serve_connection(io, service)
            .await
    } else {
        http1::Builder::new()
            .keep_alive(true)
            .header_read_timeout(None)
            .auto_date_header(false)
            .serve_connection(io, service)
            .await
    };
    served.map_err(|e| ServerError::Http(Box::new(e)))
}

/// Accept TCP connections on `listener` for ever, each in its own task:
/// TLS handshake with `tls` (which must offer ALPN `h2` and/or `http/1.1`),
/// then [`serve_h1_h2`]. An error on one connection ends only that
/// connection. With a config that accepts early data, connections go
/// through [`crate::early_data`] (see the module docs).
///
/// Returns only if the listener itself fails.
pub async fn serve_tcp(
    listener: netsim::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    server: ContentServer,
    flow: FlowControl,
) -> Result<(), ServerError> {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => spawn_tls_connection(&acceptor, tcp, &server, flow),
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => return Err(ServerError::Accept(e)),
        }
    }
}

/// Serve one accepted TCP connection in a task of its own; its errors go
/// nowhere, as a server's per-connection errors do.
pub(crate) fn spawn_tls_connection<IO>(
    acceptor: &TlsAcceptor,
    io: IO,
    server: &ContentServer,
    flow: FlowControl,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    if acceptor.config().max_early_data_size > 0 {
        let accept = early_data::accept(acceptor.config().clone(), io);
        let server = server.clone();
        tokio::spawn(async move {
            let Ok(tls) = accept.await else {
                return;
            };
            let h2 = tls.get_ref().1.alpn_protocol() == Some(ALPN_H2);
            let _ = serve_http(tls, h2, server, flow).await;
        });
        return;
    }
    let accept = acceptor.accept(io);
    let server = server.clone();
    tokio::spawn(async move {
        let Ok(tls) = accept.await else {
            return;
        };
        let _ = serve_h1_h2(tls, server, flow).await;
    });
}

/// Whether an `accept` error belongs to one connection (which vanished
/// before it was accepted) rather than to the listener.
pub(crate) fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotConnected
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::TimedOut
            | io::ErrorKind::WouldBlock
    )
}
