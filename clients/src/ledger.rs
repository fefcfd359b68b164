//! The run's bookkeeping: the clock, every request's and connection's
//! record as it fills in, and body verification ([`Verification`]).
//!
//! The protocol modules only move bytes; they report each event here
//! (queued, sent, head, data, end, failure) and the ledger stamps it with
//! the time since the run's start. Keeping partial records here, outside
//! the request futures, means a request cut off by the time limit still
//! leaves what it measured.
//!
//! Everything runs on the run's one task, so the ledger uses `RefCell`s and
//! is shared as an `Rc`.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::header::CONTENT_LENGTH;
use netsim::TransportStats;
use scenarios::{BodyCheck, Object};
use tokio::time::Instant;

use crate::config::Protocol;
use crate::record::{ConnectionRecord, RequestRecord};

/// Reads a connection's transport statistics when the run ends.
pub(crate) type StatsSource = Box<dyn Fn() -> Option<TransportStats>>;

/// Where a connection's driver task (which runs apart from the run's task)
/// leaves the error it ended with, if it ended with one.
pub(crate) type DriverEnd = Arc<Mutex<Option<String>>>;

/// How a run checks the bodies it receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verification {
    /// Against the content model: the length the workload expects and the
    /// SHA-256 of the path's body under the content seed.
    ContentModel,
    /// Only the length, against the response's `content-length` where it
    /// has one (for servers that do not serve the content model).
    ContentLength,
}

struct Request {
    record: RequestRecord,
    /// The content-model check, while the body is arriving.
    check: Option<BodyCheck>,
    /// The response's `content-length`, under
    /// [`Verification::ContentLength`].
    declared_len: Option<u64>,
    done: bool,
    /// When `record.error` was set.
    failed_at: Option<Duration>,
}

struct Connection {
    record: ConnectionRecord,
    stats: Option<StatsSource>,
    driver_end: Option<DriverEnd>,
}

/// The run's clock and records. See the module docs.
pub(crate) struct Ledger {
    start: Instant,
    content_seed: u64,
    verification: Verification,
    requests: RefCell<Vec<Request>>,
    connections: RefCell<Vec<Connection>>,
}

impl Ledger {
    /// A ledger whose clock starts now, checking bodies as `verification`
    /// says (against `content_seed` for the content model).
    pub(crate) fn new(content_seed: u64, verification: Verification) -> Ledger {
        Ledger {
            start: Instant::now(),
            content_seed,
            verification,
            requests: RefCell::default(),
            connections: RefCell::default(),
        }
    }

    /// Time since the run started.
    pub(crate) fn now(&self) -> Duration {
        Instant::now().duration_since(self.start)
    }

    /// The instant the run started.
    pub(crate) fn start(&self) -> Instant {
        self.start
    }

    // ---- requests -------------------------------------------------------

    /// Queue a request for `object`; returns its index (plan order).
    pub(crate) fn queue(&self, object: &Object) -> usize {
        let mut requests = self.requests.borrow_mut();
        requests.push(Request {
            record: RequestRecord {
                path: object.path.clone(),
                size_expected: object.size,
                start: self.now(),
                connection_ready: None,
                request_sent: None,
                first_byte: None,
                last_byte: None,
                bytes: 0,
                stream_id: None,
                connection_id: None,
                timeline: Vec::new(),
                hol_blocked: None,
                verified: false,
                error: None,
            },
            check: match self.verification {
                Verification::ContentModel => {
                    Some(BodyCheck::new(self.content_seed, &object.path, object.size))
                }
                Verification::ContentLength => None,
            },
            declared_len: None,
            done: false,
            failed_at: None,
        });
        requests.len() - 1
    }

    /// Requests queued so far.
    pub(crate) fn queued(&self) -> usize {
        self.requests.borrow().len()
    }

    /// The path of request `req`.
    pub(crate) fn path(&self, req: usize) -> String {
        self.requests.borrow()[req].record.path.clone()
    }

    /// Request `req` will travel on connection `conn`.
    pub(crate) fn assign(&self, req: usize, conn: u32) {
        let ready = self.connections.borrow()[conn as usize]
            .record
            .handshake_done;
        let mut requests = self.requests.borrow_mut();
        let r = &mut requests[req].record;
        r.connection_id = Some(conn);
        r.connection_ready = ready;
    }

    /// Request `req` was handed to the HTTP stack as stream `stream_id`.
    pub(crate) fn sent(&self, req: usize, stream_id: u64) {
        let now = self.now();
        let mut requests = self.requests.borrow_mut();
        let r = &mut requests[req].record;
        r.request_sent = Some(now);
        r.stream_id = Some(stream_id);
    }

    /// Request `req` was given stream id `stream_id` (HTTP/3 learns it
    /// before the request is fully sent).
    pub(crate) fn stream_id(&self, req: usize, stream_id: u64) {
        self.requests.borrow_mut()[req].record.stream_id = Some(stream_id);
    }

    /// The response head of `req` arrived. A status other than 200 fails
    /// the request (its body is still read and counted).
    pub(crate) fn head<B>(&self, req: usize, response: &http::Response<B>) {
        let now = self.now();
        let declared_len = match self.verification {
            Verification::ContentModel => None,
            Verification::ContentLength => response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok()),
        };
        {
            let mut requests = self.requests.borrow_mut();
            let r = &mut requests[req];
            r.record.first_byte = Some(now);
            r.declared_len = declared_len;
        }
        let status = response.status().as_u16();
        if status != 200 {
            self.fail(req, format!("status {status}, expected 200"));
        }
    }

    /// The next piece of `req`'s body, in order. Several pieces may make
    /// up one read or frame; call [`Ledger::progress`] after the last.
    pub(crate) fn data(&self, req: usize, data: &[u8]) {
        let mut requests = self.requests.borrow_mut();
        let r = &mut requests[req];
        r.record.bytes += data.len() as u64;
        if let Some(check) = r.check.as_mut() {
            check.update(data);
        }
    }

    /// A read or data frame of `req` ended: one timeline point.
    pub(crate) fn progress(&self, req: usize) {
        let now = self.now();
        let mut requests = self.requests.borrow_mut();
        let r = &mut requests[req].record;
        let bytes = r.bytes;
        r.timeline.push((now, bytes));
    }

    /// The body of `req` ended: stamp its last byte and check it.
    pub(crate) fn end(&self, req: usize) {
        let now = self.now();
        let mismatch = {
            let mut requests = self.requests.borrow_mut();
            let r = &mut requests[req];
            r.record.last_byte = Some(now);
            r.done = true;
            match r.check.take().map(BodyCheck::finish) {
                Some(Ok(())) => {
                    r.record.verified = r.record.error.is_none();
                    None
                }
                Some(Err(mismatch)) => Some(mismatch.to_string()),
                None => r
                    .declared_len
                    .filter(|&declared| declared != r.record.bytes)
                    .map(|declared| {
                        format!(
                            "body is {} bytes, content-length says {declared}",
                            r.record.bytes
                        )
                    }),
            }
        };
        if let Some(reason) = mismatch {
            self.fail(req, reason);
        }
    }

    /// Request `req` failed for `reason`; the first reason sticks.
    pub(crate) fn fail(&self, req: usize, reason: String) {
        let now = self.now();
        let mut requests = self.requests.borrow_mut();
        let r = &mut requests[req];
        r.done = true;
        r.check = None;
        if r.record.error.is_none() {
            r.record.error = Some(reason);
            r.failed_at = Some(now);
        }
    }

    /// Fail every request not yet finished, for `reason`, in plan order.
    pub(crate) fn fail_unfinished(&self, reason: &str) {
        let open: Vec<usize> = self
            .requests
            .borrow()
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.done)
            .map(|(i, _)| i)
            .collect();
        for req in open {
            self.fail(req, reason.to_string());
        }
    }

    // ---- connections ----------------------------------------------------

    /// The client starts opening a connection for `protocol`; returns its id.
    pub(crate) fn open_connection(&self, protocol: Protocol) -> u32 {
        let now = self.now();
        let mut connections = self.connections.borrow_mut();
        let id = u32::try_from(connections.len()).expect("fewer than 2^32 connections");
        connections.push(Connection {
            record: ConnectionRecord {
                id,
                protocol,
                started: now,
                tcp_connected: None,
                handshake_done: None,
                stats: None,
                hol_blocked: None,
                error: None,
            },
            stats: None,
            driver_end: None,
        });
        id
    }

    /// Connection `conn` completed its TCP handshake.
    pub(crate) fn tcp_connected(&self, conn: u32) {
        let now = self.now();
        self.connections.borrow_mut()[conn as usize]
            .record
            .tcp_connected = Some(now);
    }

    /// Connection `conn` completed its TLS or QUIC handshake.
    pub(crate) fn handshake_done(&self, conn: u32) {
        let now = self.now();
        self.connections.borrow_mut()[conn as usize]
            .record
            .handshake_done = Some(now);
    }

    /// Where connection `conn`'s transport statistics come from.
    pub(crate) fn stats_source(&self, conn: u32, source: StatsSource) {
        self.connections.borrow_mut()[conn as usize].stats = Some(source);
    }

    /// Where connection `conn`'s driver task reports how it ended.
    pub(crate) fn driver_end(&self, conn: u32) -> DriverEnd {
        let end = DriverEnd::default();
        self.connections.borrow_mut()[conn as usize].driver_end = Some(end.clone());
        end
    }

    /// Connection `conn` failed for `reason` (the first reason sticks).
    pub(crate) fn connection_failed(&self, conn: u32, reason: &str) {
        let mut connections = self.connections.borrow_mut();
        let c = &mut connections[conn as usize].record;
        if c.error.is_none() {
            c.error = Some(reason.to_string());
        }
    }

    // ---- the end --------------------------------------------------------

    /// Read every connection's statistics and hand back the records, plus
    /// the run's first failure: the earliest, and of those failing at the
    /// same moment the first in plan order, as `"{path}: {reason}"`. Call
    /// once, while the connections are still open; the ledger is empty
    /// afterwards.
    pub(crate) fn close(&self) -> (Vec<RequestRecord>, Vec<ConnectionRecord>, Option<String>) {
        let connections = self
            .connections
            .take()
            .into_iter()
            .map(|c| {
                let driver_error = c
                    .driver_end
                    .and_then(|end| end.lock().unwrap_or_else(|e| e.into_inner()).take());
                ConnectionRecord {
                    stats: c.stats.as_ref().and_then(|s| s()),
                    error: c.record.error.clone().or(driver_error),
                    ..c.record
                }
            })
            .collect();
        let requests = self.requests.take();
        let failure = requests
            .iter()
            .filter_map(|r| Some((r.failed_at?, r)))
            .min_by_key(|(at, _)| *at)
            .map(|(_, r)| {
                let reason = r.record.error.as_deref().unwrap_or_default();
                format!("{}: {reason}", r.record.path)
            });
        let requests = requests.into_iter().map(|r| r.record).collect();
        (requests, connections, failure)
    }
}
