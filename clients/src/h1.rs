//! HTTP/1.1: a browser-like pool of keep-alive connections.
//!
//! - Up to `max` TLS connections (ALPN `http/1.1`), opened on demand: when
//!   more requests wait than connections are being opened, and fewer than
//!   `max` are open, another one is opened.
//! - One request at a time per connection (no pipelining); a finished
//!   connection is reused (keep-alive).
//! - Waiting requests are served first come, first served, in plan order,
//!   by whichever connection is free first (the most recently freed one
//!   when several are idle, as browsers do).
//! - A connection that fails to open fails the request at the head of the
//!   queue (as a browser's failed connect job does); a connection whose
//!   response broke off is closed and not reused.
//! - Except when a path change took the connection's network away: then
//!   nothing fails. A request cut off is queued again, first, to resume
//!   with `Range` on a new connection, and a connection that was still
//!   opening on the old network is simply replaced.

use std::collections::VecDeque;
use std::rc::Rc;

use bytes::Bytes;
use futures_util::future::{FutureExt, LocalBoxFuture};
use futures_util::stream::{FuturesUnordered, StreamExt};
use http::header::{HOST, RANGE};
use http::Request;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use netsim::tls::{ClientTls, ALPN_HTTP1};

use crate::carrier::Carrier;
use crate::dial::{open_tls, Dialer};
use crate::error::error_chain;
use crate::ledger::Ledger;
use scenarios::Protocol;

type Sender = http1::SendRequest<Empty<Bytes>>;

enum SlotState {
    Connecting,
    Idle {
        sender: Sender,
        /// When it became idle, in pool events (larger = more recent).
        since: u64,
    },
    Busy,
    Closed,
}

struct Slot {
    id: u32,
    state: SlotState,
    /// Requests started on it so far.
    served: u64,
}

type Opening = LocalBoxFuture<'static, (usize, Result<Sender, String>)>;
/// Slot, request, and how the exchange ended: the sender, ready for the
/// next request, or why the connection broke off (the request is then not
/// settled yet).
type Exchange = LocalBoxFuture<'static, (usize, usize, Result<Sender, String>)>;

/// The HTTP/1.1 connection pool. See the module docs.
pub(crate) struct H1Pool<D: Dialer> {
    dialer: D,
    tls: ClientTls,
    ledger: Rc<Ledger>,
    max: usize,
    authority: String,
    slots: Vec<Slot>,
    queue: VecDeque<usize>,
    opening: FuturesUnordered<Opening>,
    exchanges: FuturesUnordered<Exchange>,
    done: VecDeque<usize>,
    events: u64,
}

impl<D: Dialer> H1Pool<D> {
    /// A pool of at most `max` connections to `authority` with the run's TLS
    /// config `tls` (ALPN `http/1.1`), empty until the first request.
    pub(crate) fn new(
        dialer: D,
        tls: ClientTls,
        ledger: Rc<Ledger>,
        max: usize,
        authority: String,
    ) -> Self {
        H1Pool {
            dialer,
            tls,
            ledger,
            max: max.max(1),
            authority,
            slots: Vec::new(),
            queue: VecDeque::new(),
            opening: FuturesUnordered::new(),
            exchanges: FuturesUnordered::new(),
            done: VecDeque::new(),
            events: 0,
        }
    }

    /// Start waiting requests on idle connections, then open connections
    /// for the requests still waiting.
    fn dispatch(&mut self) {
        while !self.queue.is_empty() {
            let idle = self
                .slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| match &s.state {
                    SlotState::Idle { since, .. } => Some((*since, i)),
                    _ => None,
                })
                .max();
            let Some((_, slot)) = idle else { break };
            let SlotState::Idle { sender, .. } =
                std::mem::replace(&mut self.slots[slot].state, SlotState::Busy)
            else {
                unreachable!("picked an idle slot");
            };
            if sender.is_closed() {
                self.slots[slot].state = SlotState::Closed;
                continue;
            }
            let req = self.queue.pop_front().expect("queue is not empty");
            self.start(req, slot, sender);
        }
        let connecting = self
            .slots
            .iter()
            .filter(|s| matches!(s.state, SlotState::Connecting))
            .count();
        let mut live = self
            .slots
            .iter()
            .filter(|s| !matches!(s.state, SlotState::Closed))
            .count();
        let mut wanted = self.queue.len().saturating_sub(connecting);
        while wanted > 0 && live < self.max {
            self.open();
            wanted -= 1;
            live += 1;
        }
    }

    fn open(&mut self) {
        let id = self
            .ledger
            .open_connection(Protocol::H1, self.dialer.server_name());
        let slot = self.slots.len();
        self.slots.push(Slot {
            id,
            state: SlotState::Connecting,
            served: 0,
        });
        let (dialer, tls, ledger) = (self.dialer.clone(), self.tls.clone(), self.ledger.clone());
        self.opening.push(
            async move {
                let result = async {
                    let tls = open_tls(&dialer, &tls, ALPN_HTTP1, &ledger, id).await?;
                    let (sender, connection) = http1::handshake(TokioIo::new(tls))
                        .await
                        .map_err(|e| format!("http/1.1 handshake: {}", error_chain(&e)))?;
                    let end = ledger.driver_end(id);
                    tokio::spawn(async move {
                        if let Err(e) = connection.await {
                            *end.lock().unwrap_or_else(|e| e.into_inner()) =
                                Some(format!("http/1.1 connection: {}", error_chain(&e)));
                        }
                    });
                    Ok(sender)
                }
                .await;
                (slot, result)
            }
            .boxed_local(),
        );
    }

    fn start(&mut self, req: usize, slot: usize, sender: Sender) {
        let s = &mut self.slots[slot];
        s.state = SlotState::Busy;
        let index = s.served;
        s.served += 1;
        let id = s.id;
        self.ledger.assign(req, id);
        let ledger = self.ledger.clone();
        let authority = self.authority.clone();
        self.exchanges.push(
            async move {
                let end = exchange(sender, &ledger, &authority, req, index).await;
                (slot, req, end)
            }
            .boxed_local(),
        );
    }

    fn opened(&mut self, slot: usize, result: Result<Sender, String>) {
        self.events += 1;
        let id = self.slots[slot].id;
        match result {
            Ok(sender) => {
                self.slots[slot].state = SlotState::Idle {
                    sender,
                    since: self.events,
                };
            }
            Err(reason) => {
                self.slots[slot].state = SlotState::Closed;
                self.ledger.connection_failed(id, &reason);
                if self.ledger.lost_to_path_change(id, self.dialer.network()) {
                    // Its network is gone; dispatch opens another on the
                    // new one for the requests still waiting.
                } else if let Some(req) = self.queue.pop_front() {
                    self.ledger.assign(req, id);
                    self.ledger.fail(req, format!("connection {id}: {reason}"));
                    self.done.push_back(req);
                }
            }
        }
        self.dispatch();
    }

    /// The exchange of `req` on `slot` ended; returns whether `req` is
    /// settled (`false`: it was cut off by a path change and queued again).
    fn finished(&mut self, slot: usize, req: usize, end: Result<Sender, String>) -> bool {
        self.events += 1;
        let id = self.slots[slot].id;
        let settled = match end {
            Ok(sender) => {
                self.slots[slot].state = SlotState::Idle {
                    sender,
                    since: self.events,
                };
                true
            }
            Err(reason) => {
                self.slots[slot].state = SlotState::Closed;
                self.ledger.connection_failed(id, &reason);
                if self.ledger.lost_to_path_change(id, self.dialer.network())
                    && self.ledger.resume(req, reason.clone())
                {
                    // It was in progress: it goes ahead of those waiting.
                    self.queue.push_front(req);
                    false
                } else {
                    self.ledger.fail(req, reason);
                    true
                }
            }
        };
        self.dispatch();
        settled
    }
}

impl<D: Dialer> Carrier for H1Pool<D> {
    fn submit(&mut self, req: usize) {
        self.queue.push_back(req);
        self.dispatch();
    }

    async fn next_done(&mut self) -> Option<usize> {
        loop {
            if let Some(req) = self.done.pop_front() {
                return Some(req);
            }
            tokio::select! {
                biased;
                Some((slot, result)) = self.opening.next(), if !self.opening.is_empty() => {
                    self.opened(slot, result);
                }
                Some((slot, req, end)) = self.exchanges.next(), if !self.exchanges.is_empty() => {
                    if self.finished(slot, req, end) {
                        return Some(req);
                    }
                }
                else => return None,
            }
        }
    }
}

/// One request and its response on an HTTP/1.1 connection, as the `index`-th
/// request on connection `conn`, asking for the rest of the body with
/// `Range` if it resumes. Returns the sender if the connection can carry
/// another request; a broken connection's error is returned, not recorded,
/// for the pool to decide what it means.
async fn exchange(
    mut sender: Sender,
    ledger: &Ledger,
    authority: &str,
    req: usize,
    index: u64,
) -> Result<Sender, String> {
    if let Err(e) = sender.ready().await {
        return Err(format!(
            "http/1.1: connection not usable: {}",
            error_chain(&e)
        ));
    }
    let mut request = Request::get(ledger.path(req)).header(HOST, authority);
    if let Some(start) = ledger.range_start(req) {
        request = request.header(RANGE, format!("bytes={start}-"));
    }
    let request = match request.body(Empty::new()) {
        Ok(r) => r,
        Err(e) => {
            ledger.fail(req, format!("bad request: {e}"));
            return Ok(sender);
        }
    };
    ledger.sent(req, index);
    let response = match sender.send_request(request).await {
        Ok(r) => r,
        Err(e) => return Err(format!("http/1.1: {}", error_chain(&e))),
    };
    ledger.head(req, &response);
    read_body(response.into_body(), ledger, req, "http/1.1").await?;
    Ok(sender)
}

/// Read a hyper response body into the ledger: one timeline point per data
/// frame, then the end (which verifies it). A body error is returned, not
/// recorded: the carrier decides whether it fails the request or, after a
/// path change, the request resumes.
pub(crate) async fn read_body(
    mut body: Incoming,
    ledger: &Ledger,
    req: usize,
    protocol: &str,
) -> Result<(), String> {
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Some(data) = frame.data_ref() {
                    ledger.data(req, data);
                    ledger.progress(req);
                }
            }
            Err(e) => return Err(format!("{protocol}: response body: {}", error_chain(&e))),
        }
    }
    ledger.end(req);
    Ok(())
}
