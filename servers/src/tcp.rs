//! HTTP/1.1 and HTTP/2 over TLS over TCP, served by hyper.
//!
//! One TLS port serves both: the protocol is the one ALPN settled on (`h2`
//! → HTTP/2, anything else → HTTP/1.1). HTTP/2 gets the windows and stream
//! limit of [`FlowControl`] with hyper's adaptive window off; HTTP/1.1 keeps
//! connections alive. TLS records start small and grow (see [`crate::records`]).
//! hyper's `Date` header and its timers are off: nothing
//! reads the wall clock, and no timeout depends on one. On real sockets
//! ([`crate::real`]) the same connections are held to [`crate::Limits`]
//! instead: hyper's request-head timeout on tokio's timer, its HTTP/1.1
//! buffer and HTTP/2 send buffer capped, bodies generated under a send
//! budget (`budget`) and a watchdog for idle and stalled
//! connections (`watchdog`).
//!
//! HTTP/2 sends its responses in the order a [`Scheduler`] says (see
//! [`crate::schedule`]): under round-robin, as h2 does of itself, under the
//! other schedulers one turn at a time, with hyper's send buffer cut to
//! [`H2_SCHEDULED_SEND_BUFFER`]. HTTP/1.1 has one response at a time on a
//! connection and no scheduler.
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
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::RANGE;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use netsim::tls::ALPN_H2;
use netsim::FlowControl;
use scenarios::Scheduler;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::budget::{BudgetedBody, SendBudget};
use crate::content::ContentServer;
use crate::early_data;
use crate::error::ServerError;
use crate::records::DynamicRecords;
use crate::schedule::{Rank, ScheduledBody, Turns, H2_MAX_FRAME_SIZE, H2_SCHEDULED_SEND_BUFFER};
use crate::watchdog::{serve_watched, Activity};

/// The `priority` request header field (RFC 9218).
const PRIORITY: &str = "priority";

/// Serve one TLS connection until the client closes it: HTTP/2 if ALPN
/// negotiated `h2`, else HTTP/1.1 with keep-alive. HTTP/2 announces
/// `flow`'s windows and stream limit, and interleaves its responses
/// round-robin ([`Scheduler::RoundRobin`]).
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
    serve_http(tls, h2, server, flow, Scheduler::RoundRobin).await
}

/// Serve HTTP/1.1 or HTTP/2 (`h2`) on an established TLS stream until the
/// client closes it, HTTP/2's responses in the order `scheduler` says; see
/// [`serve_h1_h2`].
async fn serve_http<S>(
    tls: S,
    h2: bool,
    server: ContentServer,
    flow: FlowControl,
    scheduler: Scheduler,
) -> Result<(), ServerError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve_http_limited(
        tls,
        h2,
        server,
        flow,
        scheduler,
        &ConnectionLimits::default(),
    )
    .await
}

/// What one connection on real sockets is held to (from [`crate::Limits`]);
/// `Default` is none of it, what the simulation's connections get.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnectionLimits {
    /// hyper's HTTP/1.1 `header_read_timeout` (on tokio's timer).
    pub(crate) header_timeout: Option<Duration>,
    /// hyper's HTTP/1.1 `max_buf_size`.
    pub(crate) http1_buffer: Option<usize>,
    /// HTTP/2's stream limit, below `flow`'s.
    pub(crate) max_streams: Option<u32>,
    /// hyper's HTTP/2 `max_send_buf_size`, where no scheduler sets one.
    pub(crate) h2_send_buffer: Option<usize>,
    /// The send budget that unscheduled response bodies are generated
    /// under.
    pub(crate) budget: Option<SendBudget>,
    /// The connection's activity and the idle timeout its watchdog holds it
    /// to (see [`crate::watchdog`]).
    pub(crate) watch: Option<(Arc<Activity>, Duration)>,
}

/// The body of a response: the simulation's, in turns or not, or one
/// generated under a send budget (real sockets).
#[derive(Debug)]
enum ServedBody {
    Scheduled(ScheduledBody),
    Budgeted(BudgetedBody),
}

impl Body for ServedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            ServedBody::Scheduled(body) => Pin::new(body).poll_frame(cx),
            ServedBody::Budgeted(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ServedBody::Scheduled(body) => body.is_end_stream(),
            ServedBody::Budgeted(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ServedBody::Scheduled(body) => body.size_hint(),
            ServedBody::Budgeted(body) => body.size_hint(),
        }
    }
}

/// [`serve_http`] with `limits`: a connection on real sockets.
pub(crate) async fn serve_http_limited<S>(
    tls: S,
    h2: bool,
    server: ContentServer,
    flow: FlowControl,
    scheduler: Scheduler,
    limits: &ConnectionLimits,
) -> Result<(), ServerError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(DynamicRecords::new(tls));
    let scheduled = h2 && scheduler != Scheduler::RoundRobin;
    let turns = Turns::new();
    // hyper calls the service in the order the connection received the
    // requests: for HTTP/2, stream-id order.
    let received = AtomicU64::new(0);
    let budget = limits.budget.clone().filter(|_| !scheduled);
    let service = service_fn(move |req: Request<Incoming>| {
        let range = req.headers().get(RANGE).map(|v| v.as_bytes());
        let response = server.respond(req.method(), req.uri().path(), range);
        let response = if scheduled {
            let priority = req.headers().get(PRIORITY).and_then(|v| v.to_str().ok());
            let n = received.fetch_add(1, Ordering::Relaxed);
            match Rank::of(scheduler, priority, n) {
                Some(rank) => response.map(|body| ScheduledBody::in_turn(body, &turns, rank)),
                None => response.map(ScheduledBody::unscheduled),
            }
            .map(ServedBody::Scheduled)
        } else if let Some(budget) = &budget {
            response.map(|body| ServedBody::Budgeted(BudgetedBody::new(body, budget)))
        } else {
            response.map(|body| ServedBody::Scheduled(ScheduledBody::unscheduled(body)))
        };
        std::future::ready(Ok::<_, Infallible>(response))
    });
    let watch = limits.watch.as_ref().map(|(a, idle)| (&**a, *idle));
    let served = if h2 {
        let mut builder = http2::Builder::new(TokioExecutor::new());
        let max_streams = limits.max_streams.map_or(flow.max_concurrent_streams, |m| {
            m.min(flow.max_concurrent_streams)
        });
        builder
            .initial_stream_window_size(flow.stream_window)
            .initial_connection_window_size(flow.connection_window)
            .adaptive_window(false)
            .max_concurrent_streams(max_streams)
            .max_frame_size(H2_MAX_FRAME_SIZE)
            .auto_date_header(false);
        if scheduled {
            builder.max_send_buf_size(H2_SCHEDULED_SEND_BUFFER);
        } else if let Some(buffer) = limits.h2_send_buffer {
            builder.max_send_buf_size(buffer);
        }
        let conn = builder.serve_connection(io, service);
        serve_watched(conn, |c| c.graceful_shutdown(), watch).await
    } else {
        let mut builder = http1::Builder::new();
        builder.keep_alive(true).auto_date_header(false);
        match limits.header_timeout {
            Some(timeout) => builder
                .timer(TokioTimer::new())
                .header_read_timeout(timeout),
            None => builder.header_read_timeout(None),
        };
        if let Some(buffer) = limits.http1_buffer {
            builder.max_buf_size(buffer);
        }
        let conn = builder.serve_connection(io, service);
        serve_watched(conn, |c| c.graceful_shutdown(), watch).await
    };
    // A connection the watchdog dropped ended as a server decided to end it.
    served
        .unwrap_or(Ok(()))
        .map_err(|e| ServerError::Http(Box::new(e)))
}

/// Accept TCP connections on `listener` for ever, each in its own task:
/// TLS handshake with `tls` (which must offer ALPN `h2` and/or `http/1.1`),
/// then [`serve_h1_h2`], with HTTP/2's responses in the order `scheduler`
/// says. An error on one connection ends only that connection. With a
/// config that accepts early data, connections go through
/// [`crate::early_data`] (see the module docs).
///
/// Returns only if the listener itself fails.
pub async fn serve_tcp(
    listener: netsim::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    server: ContentServer,
    flow: FlowControl,
    scheduler: Scheduler,
) -> Result<(), ServerError> {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => spawn_tls_connection(&acceptor, tcp, &server, flow, scheduler),
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => return Err(ServerError::Accept(e)),
        }
    }
}

/// Serve one accepted TCP connection in a task of its own, HTTP/2's
/// responses in the order `scheduler` says; its errors go nowhere, as a
/// server's per-connection errors do.
pub(crate) fn spawn_tls_connection<IO>(
    acceptor: &TlsAcceptor,
    io: IO,
    server: &ContentServer,
    flow: FlowControl,
    scheduler: Scheduler,
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
            let _ = serve_http(tls, h2, server, flow, scheduler).await;
        });
        return;
    }
    let accept = acceptor.accept(io);
    let server = server.clone();
    tokio::spawn(async move {
        let Ok(tls) = accept.await else {
            return;
        };
        let h2 = tls.get_ref().1.alpn_protocol() == Some(ALPN_H2);
        let _ = serve_http(tls, h2, server, flow, scheduler).await;
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
