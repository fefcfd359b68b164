//! HTTP/2 and HTTP/3: one connection, every request a stream on it.
//!
//! [`Mux`] is the carrier both share: it opens the one connection on the
//! first request, queues requests until the handshake is done, then starts
//! each one in plan order. [`H2`] and [`H3`] say how to open the connection
//! and how to carry one request on it.
//!
//! After a path change an HTTP/2 connection is lost with its network (TCP
//! cannot move): the carrier opens a new one and resumes every request
//! that was cut off with `Range`. An HTTP/3 connection migrates (see
//! `crate::dial`), so for HTTP/3 a broken connection is always a failure.

use std::collections::VecDeque;
use std::rc::Rc;

use bytes::{Buf, Bytes};
use futures_util::future::{FutureExt, LocalBoxFuture, OptionFuture};
use futures_util::stream::{FuturesUnordered, StreamExt};
use http::header::{HeaderName, RANGE};
use http::Request;
use http_body_util::Empty;
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use netsim::quic::QuicCongestion;
use netsim::tls::{ClientTls, ALPN_H2};
use netsim::FlowControl;

use crate::carrier::{Carrier, Readiness};
use crate::dial::{open_quic, open_tls, Dialer};
use crate::error::error_chain;
use crate::h1::read_body;
use crate::ledger::{Ledger, NetworkId};
use scenarios::Protocol;

/// How one multiplexed protocol opens its connection and carries a request.
pub(crate) trait Multiplexed: 'static {
    /// What requests are sent through once the connection is open.
    type Handle: 'static;

    /// The protocol it speaks.
    const PROTOCOL: Protocol;

    /// Whether a connection lost to a path change is replaced and its
    /// requests resumed (TCP), rather than expected to migrate (QUIC).
    const RECONNECTS_AFTER_PATH_CHANGE: bool;

    /// Open connection `conn` (recording its milestones in `ledger`).
    fn open<D: Dialer>(
        &self,
        dialer: D,
        ledger: Rc<Ledger>,
        conn: u32,
    ) -> LocalBoxFuture<'static, Result<Self::Handle, String>>;

    /// Start request `req`, the `n`-th (from 0) on the connection, asking
    /// for `Range: bytes={start}-` when [`Ledger::range_start`] says so;
    /// the future carries it to its end and records everything in
    /// `ledger`, except an error of the connection or stream, which it
    /// returns unrecorded for the carrier to judge.
    fn start(
        &self,
        handle: &mut Self::Handle,
        ledger: Rc<Ledger>,
        req: usize,
        n: u64,
    ) -> LocalBoxFuture<'static, Result<(), String>>;
}

/// A request's stream ended: the request, its connection, and the
/// connection's error if it broke the stream off.
type StreamEnd = (usize, u32, Result<(), String>);

enum State<H> {
    NotOpened,
    Opening(LocalBoxFuture<'static, Result<H, String>>),
    Ready(H),
    Failed(String),
}

/// The carrier of HTTP/2 and HTTP/3. See the module docs.
pub(crate) struct Mux<M: Multiplexed, D: Dialer> {
    protocol: M,
    dialer: D,
    ledger: Rc<Ledger>,
    conn: u32,
    state: State<M::Handle>,
    queue: VecDeque<usize>,
    streams: FuturesUnordered<LocalBoxFuture<'static, StreamEnd>>,
    done: VecDeque<usize>,
    /// Requests started on the current connection.
    started: u64,
    /// The network the current connection was opened on.
    opened_on: NetworkId,
}

impl<M: Multiplexed, D: Dialer> Mux<M, D> {
    /// A carrier that opens its connection on the first request.
    pub(crate) fn new(protocol: M, dialer: D, ledger: Rc<Ledger>) -> Self {
        let opened_on = dialer.network();
        Mux {
            protocol,
            dialer,
            ledger,
            conn: 0,
            state: State::NotOpened,
            queue: VecDeque::new(),
            streams: FuturesUnordered::new(),
            done: VecDeque::new(),
            started: 0,
            opened_on,
        }
    }

    fn start(&mut self, req: usize) {
        let State::Ready(handle) = &mut self.state else {
            unreachable!("requests start on a ready connection");
        };
        self.ledger.assign(req, self.conn);
        let stream = self
            .protocol
            .start(handle, self.ledger.clone(), req, self.started);
        self.started += 1;
        let conn = self.conn;
        self.streams
            .push(stream.map(move |end| (req, conn, end)).boxed_local());
    }

    /// Whether connection `conn` went with the network a path change took
    /// away, and is to be replaced.
    fn lost(&self, conn: u32) -> bool {
        M::RECONNECTS_AFTER_PATH_CHANGE
            && self.ledger.lost_to_path_change(conn, self.dialer.network())
    }

    /// The stream of `req` on `conn` ended; returns whether `req` is
    /// settled (`false`: it was cut off by a path change and submitted
    /// again, to resume on a new connection).
    fn ended(&mut self, req: usize, conn: u32, end: Result<(), String>) -> bool {
        let Err(reason) = end else {
            return true;
        };
        if self.lost(conn) && self.ledger.resume(req, reason.clone()) {
            if conn == self.conn && matches!(self.state, State::Ready(_)) {
                self.state = State::NotOpened;
            }
            self.submit(req);
            false
        } else {
            self.ledger.fail(req, reason);
            true
        }
    }

    fn fail(&mut self, req: usize, reason: &str) {
        self.ledger.assign(req, self.conn);
        self.ledger
            .fail(req, format!("connection {}: {reason}", self.conn));
        self.done.push_back(req);
    }

    fn opened(&mut self, result: Result<M::Handle, String>) {
        match result {
            Ok(handle) => {
                self.state = State::Ready(handle);
                while let Some(req) = self.queue.pop_front() {
                    self.start(req);
                }
            }
            Err(reason) => {
                self.ledger.connection_failed(self.conn, &reason);
                // A connection that was opening on the network that went
                // away is replaced, QUIC's too: QUIC cannot migrate before
                // its handshake is done (RFC 9000, section 9), and the
                // client gives such a handshake up at once (`open_quic`).
                if self.lost(self.conn) || self.dialer.network() != self.opened_on {
                    // Open another on the new network, for the requests
                    // waiting, or at once if none is (a connection opened
                    // ahead of its requests, as an HTTP/3 race does, must
                    // not be left unopened).
                    self.state = State::NotOpened;
                    self.open_now();
                    for req in std::mem::take(&mut self.queue) {
                        self.submit(req);
                    }
                    return;
                }
                while let Some(req) = self.queue.pop_front() {
                    self.fail(req, &reason);
                }
                self.state = State::Failed(reason);
            }
        }
    }
}

impl<M: Multiplexed, D: Dialer> Mux<M, D> {
    /// Open the connection (state `NotOpened` only).
    fn open_now(&mut self) {
        self.conn = self
            .ledger
            .open_connection(M::PROTOCOL, self.dialer.server_name());
        self.started = 0;
        self.opened_on = self.dialer.network();
        let opening = self
            .protocol
            .open(self.dialer.clone(), self.ledger.clone(), self.conn);
        self.state = State::Opening(opening);
    }
}

impl<M: Multiplexed, D: Dialer> Carrier for Mux<M, D> {
    fn connect(&mut self) {
        if matches!(self.state, State::NotOpened) {
            self.open_now();
        }
    }

    fn readiness(&self) -> Readiness {
        match self.state {
            State::NotOpened => Readiness::Idle,
            State::Opening(_) => Readiness::Opening,
            State::Ready(_) => Readiness::Ready,
            State::Failed(_) => Readiness::Failed,
        }
    }

    fn submit(&mut self, req: usize) {
        match &self.state {
            State::NotOpened => {
                self.open_now();
                self.queue.push_back(req);
            }
            State::Opening(_) => self.queue.push_back(req),
            State::Ready(_) => self.start(req),
            State::Failed(reason) => {
                let reason = reason.clone();
                self.fail(req, &reason);
            }
        }
    }

    async fn next_done(&mut self) -> Option<usize> {
        loop {
            if let Some(req) = self.done.pop_front() {
                return Some(req);
            }
            let opening = match &mut self.state {
                State::Opening(f) => Some(f),
                _ => None,
            };
            let is_opening = opening.is_some();
            tokio::select! {
                biased;
                Some(result) = OptionFuture::from(opening), if is_opening => {
                    self.opened(result);
                }
                Some((req, conn, end)) = self.streams.next(), if !self.streams.is_empty() => {
                    if self.ended(req, conn, end) {
                        return Some(req);
                    }
                }
                else => return None,
            }
        }
    }
}

/// HTTP/2 over TLS over TCP (ALPN `h2`), hyper's client, windows from the
/// flow control and hyper's adaptive window off.
pub(crate) struct H2 {
    /// The run's TLS config (ALPN `h2`).
    pub(crate) tls: ClientTls,
    /// The flow-control windows to announce.
    pub(crate) flow: FlowControl,
    /// The server's name, for `:authority`.
    pub(crate) authority: String,
    /// Whether requests carry a `priority` header.
    pub(crate) priority_headers: bool,
}

/// The `priority` request header field (RFC 9218).
const PRIORITY: HeaderName = HeaderName::from_static("priority");

/// The `priority` header value of request `req`, if it carries one.
fn priority_header(on: bool, ledger: &Ledger, req: usize) -> Option<String> {
    on.then(|| ledger.kind(req).priority().header_value())
        .flatten()
}

impl Multiplexed for H2 {
    type Handle = http2::SendRequest<Empty<Bytes>>;

    const PROTOCOL: Protocol = Protocol::H2;

    const RECONNECTS_AFTER_PATH_CHANGE: bool = true;

    fn open<D: Dialer>(
        &self,
        dialer: D,
        ledger: Rc<Ledger>,
        conn: u32,
    ) -> LocalBoxFuture<'static, Result<Self::Handle, String>> {
        let (flow, tls) = (self.flow, self.tls.clone());
        async move {
            let tls = open_tls(&dialer, &tls, ALPN_H2, &ledger, conn).await?;
            let (sender, connection) = http2::Builder::new(TokioExecutor::new())
                .initial_stream_window_size(flow.stream_window)
                .initial_connection_window_size(flow.connection_window)
                .adaptive_window(false)
                .handshake(TokioIo::new(tls))
                .await
                .map_err(|e| format!("http/2 handshake: {}", error_chain(&e)))?;
            let end = ledger.driver_end(conn);
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    *end.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(format!("http/2 connection: {}", error_chain(&e)));
                }
            });
            Ok(sender)
        }
        .boxed_local()
    }

    /// hyper hands the request to h2 at once, in call order, so h2 numbers
    /// the streams 1, 3, 5, ... in the order requests start here.
    fn start(
        &self,
        handle: &mut Self::Handle,
        ledger: Rc<Ledger>,
        req: usize,
        n: u64,
    ) -> LocalBoxFuture<'static, Result<(), String>> {
        let authority = ledger
            .authority(req)
            .unwrap_or_else(|| self.authority.clone());
        let mut request = Request::get(format!("https://{authority}{}", ledger.path(req)));
        if let Some(start) = ledger.range_start(req) {
            request = request.header(RANGE, format!("bytes={start}-"));
        }
        if let Some(priority) = priority_header(self.priority_headers, &ledger, req) {
            request = request.header(PRIORITY, priority);
        }
        let request = match request.body(Empty::new()) {
            Ok(r) => r,
            Err(e) => {
                ledger.fail(req, format!("bad request: {e}"));
                return async { Ok(()) }.boxed_local();
            }
        };
        ledger.sent(req, 2 * n + 1);
        let response = handle.send_request(request);
        async move {
            let response = response
                .await
                .map_err(|e| format!("http/2: {}", error_chain(&e)))?;
            ledger.head(req, &response);
            read_body(response.into_body(), &ledger, req, "http/2").await
        }
        .boxed_local()
    }
}

/// HTTP/3 over QUIC (ALPN `h3`): h3 on quinn, QUIC windows from the flow
/// control, no GREASE.
pub(crate) struct H3 {
    /// The run's TLS config (ALPN `h3`).
    pub(crate) tls: ClientTls,
    /// The flow-control windows to announce.
    pub(crate) flow: FlowControl,
    /// The congestion controller and initial window.
    pub(crate) congestion: QuicCongestion,
    /// The server's name, for `:authority`.
    pub(crate) authority: String,
    /// Whether requests carry a `priority` header.
    pub(crate) priority_headers: bool,
}

impl Multiplexed for H3 {
    type Handle = h3::client::SendRequest<h3_quinn::OpenStreams, Bytes>;

    const PROTOCOL: Protocol = Protocol::H3;

    const RECONNECTS_AFTER_PATH_CHANGE: bool = false;

    fn open<D: Dialer>(
        &self,
        dialer: D,
        ledger: Rc<Ledger>,
        conn: u32,
    ) -> LocalBoxFuture<'static, Result<Self::Handle, String>> {
        let config = self.flow.quic().with_congestion(self.congestion);
        let tls = self.tls.clone();
        async move {
            let connection = open_quic(&dialer, &tls, &config, &ledger, conn).await?;
            let (mut driver, sender) = h3::client::builder()
                .send_grease(false)
                .build(h3_quinn::Connection::new(connection))
                .await
                .map_err(|e| format!("http/3 setup: {}", error_chain(&e)))?;
            let end = ledger.driver_end(conn);
            tokio::spawn(async move {
                let e = driver.wait_idle().await;
                if !e.is_h3_no_error() {
                    *end.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(format!("http/3 connection: {}", error_chain(&e)));
                }
            });
            Ok(sender)
        }
        .boxed_local()
    }

    /// The stream id is the QUIC stream's own.
    fn start(
        &self,
        handle: &mut Self::Handle,
        ledger: Rc<Ledger>,
        req: usize,
        _n: u64,
    ) -> LocalBoxFuture<'static, Result<(), String>> {
        let mut sender = handle.clone();
        let authority = ledger
            .authority(req)
            .unwrap_or_else(|| self.authority.clone());
        let uri = format!("https://{authority}{}", ledger.path(req));
        let priority = priority_header(self.priority_headers, &ledger, req);
        async move { exchange_h3(&mut sender, &ledger, req, uri, priority).await }.boxed_local()
    }
}

/// One request (with the `priority` header value `priority`, if any) and
/// its response on an HTTP/3 connection. A request that cannot be built
/// fails in the ledger; a stream or connection error is returned.
async fn exchange_h3(
    sender: &mut h3::client::SendRequest<h3_quinn::OpenStreams, Bytes>,
    ledger: &Ledger,
    req: usize,
    uri: String,
    priority: Option<String>,
) -> Result<(), String> {
    let mut request = Request::get(uri);
    if let Some(start) = ledger.range_start(req) {
        request = request.header(RANGE, format!("bytes={start}-"));
    }
    if let Some(priority) = priority {
        request = request.header(PRIORITY, priority);
    }
    let request = match request.body(()) {
        Ok(r) => r,
        Err(e) => {
            ledger.fail(req, format!("bad request: {e}"));
            return Ok(());
        }
    };
    let mut stream = sender
        .send_request(request)
        .await
        .map_err(|e| format!("http/3: sending the request: {}", error_chain(&e)))?;
    let id = stream.id().into_inner();
    ledger.stream_id(req, id);
    stream
        .finish()
        .await
        .map_err(|e| format!("http/3: finishing the request: {}", error_chain(&e)))?;
    ledger.sent(req, id);
    let response = stream
        .recv_response()
        .await
        .map_err(|e| format!("http/3: response head: {}", error_chain(&e)))?;
    ledger.head(req, &response);
    loop {
        match stream.recv_data().await {
            Ok(Some(mut data)) => {
                while data.has_remaining() {
                    let chunk = data.chunk();
                    let n = chunk.len();
                    ledger.data(req, chunk);
                    data.advance(n);
                }
                ledger.progress(req);
            }
            Ok(None) => break,
            Err(e) => return Err(format!("http/3: response body: {}", error_chain(&e))),
        }
    }
    ledger.end(req);
    Ok(())
}
