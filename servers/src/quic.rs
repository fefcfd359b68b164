//! HTTP/3 over QUIC: h3 on quinn.
//!
//! The endpoint carries the transport settings (build it with
//! [`netsim::FlowControl::quic`], as
//! [`run_simulated`](crate::run_simulated) does). h3 sends no GREASE: its
//! GREASE values come from an unseeded RNG and would make runs differ.
//!
//! Responses go in the order a [`Scheduler`] says (see
//! [`crate::schedule`]): under round-robin h3 runs on h3-quinn and quinn
//! interleaves the streams with its fair scheduling, as it does of itself;
//! under the other schedulers h3 runs on [`crate::prioritized`], and each
//! response's stream gets the quinn priority of its rank before its first
//! byte.

use std::future::Future;

use bytes::Bytes;
use http::header::RANGE;
use http::Response;
use netsim::tls::ServerResumption;
use scenarios::Scheduler;

use crate::budget::SendBudget;
use crate::content::ContentServer;
use crate::error::ServerError;
use crate::prioritized::{self, StreamPriorities};
use crate::schedule::Rank;

/// The `priority` request header field (RFC 9218).
const PRIORITY: &str = "priority";

/// Accept QUIC connections on `endpoint` until it is closed, each served by
/// [`serve_h3_connection`] in its own task once its handshake is complete.
/// An error on one connection ends only that connection. The same as
/// [`serve_h3_with`] and [`ServerResumption::Off`].
pub async fn serve_h3(endpoint: quinn::Endpoint, server: ContentServer) -> Result<(), ServerError> {
    serve_h3_with(endpoint, server, ServerResumption::Off).await
}

/// [`serve_h3`] for an endpoint whose TLS config has `resumption` (build it
/// with `netsim::tls::quic_server_crypto_with` and the same value).
///
/// With [`ServerResumption::On`] each connection is served from the moment
/// the client's first flight has arrived (quinn's `Connecting::into_0rtt`):
/// requests the client sent as 0-RTT data are read at once and answered
/// with 0.5-RTT data, in the same round trip, and the server's HTTP/3
/// SETTINGS leave with its first flight. With [`ServerResumption::Off`]
/// serving starts once the handshake is complete.
pub async fn serve_h3_with(
    endpoint: quinn::Endpoint,
    server: ContentServer,
    resumption: ServerResumption,
) -> Result<(), ServerError> {
    serve_h3_accepting(
        endpoint,
        server,
        Scheduler::RoundRobin,
        move |incoming: quinn::Incoming| async move {
            let connecting = incoming.accept()?;
            match resumption {
                ServerResumption::Off => connecting.await,
                // A server can always go on before the handshake ends.
                ServerResumption::On => match connecting.into_0rtt() {
                    Ok((conn, _accepted)) => Ok(conn),
                    Err(connecting) => connecting.await,
                },
            }
        },
    )
    .await
}

/// [`serve_h3`], with responses in the order `scheduler` says, and with
/// `accept` accepting each connection attempt: it returns a future that
/// runs the handshake (or, with 0-RTT, only its first flight) and resolves
/// with the connection, and that future runs in the connection's own task.
/// For example `netsim::quic::QuicServer::accept`, which gives each
/// connection a qlog trace of its own and registers it with its host, whose
/// statistics the run reads at its end. An attempt whose future fails is
/// dropped.
pub async fn serve_h3_accepting<A, F>(
    endpoint: quinn::Endpoint,
    server: ContentServer,
    scheduler: Scheduler,
    accept: A,
) -> Result<(), ServerError>
where
    A: Fn(quinn::Incoming) -> F,
    F: Future<Output = Result<quinn::Connection, quinn::ConnectionError>> + Send + 'static,
{
    while let Some(incoming) = endpoint.accept().await {
        let server = server.clone();
        let accepting = accept(incoming);
        tokio::spawn(async move {
            let Ok(conn) = accepting.await else {
                return;
            };
            let _ = serve_h3_scheduled(conn, server, scheduler).await;
        });
    }
    Ok(())
}

/// Serve HTTP/3 on one established QUIC connection until the client closes
/// it, each request in its own task, responses interleaved round-robin. A
/// close with `H3_NO_ERROR` is a clean end.
pub async fn serve_h3_connection(
    conn: quinn::Connection,
    server: ContentServer,
) -> Result<(), ServerError> {
    serve_h3_scheduled(conn, server, Scheduler::RoundRobin).await
}

/// [`serve_h3_connection`], with responses in the order `scheduler` says.
pub async fn serve_h3_scheduled(
    conn: quinn::Connection,
    server: ContentServer,
    scheduler: Scheduler,
) -> Result<(), ServerError> {
    match scheduler {
        Scheduler::RoundRobin => {
            serve_on(h3_quinn::Connection::new(conn), server, None, None).await
        }
        Scheduler::Sequential | Scheduler::Priorities => {
            let (transport, priorities) = prioritized::Connection::new(conn);
            serve_on(transport, server, Some((scheduler, priorities)), None).await
        }
    }
}

/// [`serve_h3_connection`] on real sockets: each response body generated
/// under `budget` (see [`crate::budget`]).
pub(crate) async fn serve_h3_budgeted(
    conn: quinn::Connection,
    server: ContentServer,
    budget: SendBudget,
) -> Result<(), ServerError> {
    serve_on(h3_quinn::Connection::new(conn), server, None, Some(budget)).await
}

/// Serve HTTP/3 on `transport`; with `order`, each response's stream gets
/// the quinn priority of the rank the scheduler gives it; with `budget`,
/// each response body is generated under it.
async fn serve_on<C>(
    transport: C,
    server: ContentServer,
    order: Option<(Scheduler, StreamPriorities)>,
    budget: Option<SendBudget>,
) -> Result<(), ServerError>
where
    C: h3::quic::Connection<Bytes> + Send + 'static,
    C::BidiStream: h3::quic::BidiStream<Bytes> + Send + 'static,
    <C::BidiStream as h3::quic::BidiStream<Bytes>>::SendStream: Send,
    <C::BidiStream as h3::quic::BidiStream<Bytes>>::RecvStream: Send,
{
    let mut h3 = h3::server::builder()
        .send_grease(false)
        .build::<_, Bytes>(transport)
        .await
        .map_err(|e| h3_error(e, "setup"))?;
    loop {
        match h3.accept().await {
            Ok(Some(resolver)) => {
                let server = server.clone();
                let order = order.clone();
                let budget = budget.clone();
                tokio::spawn(async move {
                    let _ = serve_h3_request(resolver, server, order, budget).await;
                });
            }
            Ok(None) => return Ok(()),
            Err(e) if e.is_h3_no_error() => return Ok(()),
            Err(e) => return Err(h3_error(e, "connection")),
        }
    }
}

/// Read one request's headers, give its stream its priority (with
/// `order`), answer it, send the body chunk by chunk (each generated under
/// `budget`, if there is one), finish the stream.
async fn serve_h3_request<C>(
    resolver: h3::server::RequestResolver<C, Bytes>,
    server: ContentServer,
    order: Option<(Scheduler, StreamPriorities)>,
    budget: Option<SendBudget>,
) -> Result<(), ServerError>
where
    C: h3::quic::Connection<Bytes>,
{
    let (request, mut stream) = resolver
        .resolve_request()
        .await
        .map_err(|e| h3_error(e, "request"))?;
    if let Some((scheduler, priorities)) = order {
        let id = stream.id().into_inner();
        let priority = request
            .headers()
            .get(PRIORITY)
            .and_then(|v| v.to_str().ok());
        if let Some(rank) = Rank::of(scheduler, priority, id) {
            priorities.set(id, rank.quinn_priority());
        }
    }
    let range = request.headers().get(RANGE).map(|v| v.as_bytes());
    let (parts, mut body) = server
        .respond(request.method(), request.uri().path(), range)
        .into_parts();
    stream
        .send_response(Response::from_parts(parts, ()))
        .await
        .map_err(|e| h3_error(e, "response"))?;
    loop {
        let chunk = match &budget {
            None => body.next_chunk(),
            Some(budget) => budget.next_chunk(&mut body).await,
        };
        let Some(chunk) = chunk else {
            break;
        };
        stream
            .send_data(chunk)
            .await
            .map_err(|e| h3_error(e, "response body"))?;
    }
    stream.finish().await.map_err(|e| h3_error(e, "finish"))
}

fn h3_error(e: impl std::fmt::Display, during: &str) -> ServerError {
    ServerError::H3(format!("{during}: {e}").into())
}
