//! The run's bookkeeping: the clock, every request's and connection's
//! record as it fills in, and body verification ([`Verification`]).
//!
//! The protocol modules only move bytes; they report each event here
//! (queued, sent, head, data, end, failure) and the ledger stamps it with
//! the time since the run's start. Keeping partial records here, outside
//! the request futures, means a request cut off by the time limit still
//! leaves what it measured.
//!
//! A request cut off by a path change is not failed: the carrier calls
//! [`Ledger::resume`], and the request's next attempt asks for the bytes
//! not yet in hand ([`Ledger::range_start`]) and feeds them to the same
//! body check, so the whole body is still verified as one.
//!
//! Everything runs on the run's one task, so the ledger uses `RefCell`s and
//! is shared as an `Rc`.

use std::cell::{Cell, RefCell};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::header::{CONTENT_LENGTH, CONTENT_RANGE};
use netsim::TransportStats;
use scenarios::{BodyCheck, Object, ObjectKind};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::hol_cost::StreamSpan;
use crate::record::{ConnectionRecord, RequestRecord, Resumption};
use crate::stream_map::{self, StreamMapHandle};
use scenarios::Protocol;

/// The network the client is attached to, as its operating system names
/// it: two connections opened on the same network have equal ids, and a
/// path change gives the client a new one. In the simulation it is the
/// host's address (10.0.1.2, then 10.0.2.2 after a path change); on real
/// sockets there is one network for the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NetworkId(pub(crate) Ipv4Addr);

/// Reads a connection's transport statistics when the run ends.
pub(crate) type StatsSource = Box<dyn Fn() -> Option<TransportStats>>;

/// Where a connection's driver task (which runs apart from the run's task)
/// leaves the error it ended with, if it ended with one.
pub(crate) type DriverEnd = Arc<Mutex<Option<String>>>;

/// What a connection's TLS or QUIC handshake turned out to be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct HandshakeFacts {
    /// Whether it resumed an earlier session; `None` if unknown.
    pub(crate) resumed: Option<bool>,
    /// Whether the client offered early data (0-RTT).
    pub(crate) early_data_offered: bool,
    /// Whether the server accepted it; `None` if none was offered.
    pub(crate) early_data_accepted: Option<bool>,
}

/// A handshake that completes after the connection was handed to the HTTP
/// stack (early data, 0-RTT): when it completed and what it was, left by
/// the task that saw it complete (which runs apart from the run's task).
#[derive(Debug, Default)]
pub(crate) struct LateHandshake {
    /// When it completed; `None` while it has not.
    pub(crate) done: Option<Instant>,
    /// What it was.
    pub(crate) facts: HandshakeFacts,
}

/// Where a [`LateHandshake`] is left.
pub(crate) type LateHandshakeSlot = Arc<Mutex<LateHandshake>>;

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
    /// What the object stands for, which sets the priority it is asked for
    /// with.
    kind: ObjectKind,
    /// The content-model check, while the body is arriving.
    check: Option<BodyCheck>,
    /// The current attempt's `content-length`, under
    /// [`Verification::ContentLength`].
    declared_len: Option<u64>,
    /// Body bytes in hand: offsets `0..assembled` have arrived, in order,
    /// and gone to the check.
    assembled: u64,
    /// The most body bytes ever in hand; bytes arriving below it are
    /// fetched twice.
    high_water: u64,
    /// Body bytes of the current attempt.
    attempt_bytes: u64,
    /// Body bytes received more than once.
    fetched_twice: u64,
    done: bool,
    /// When `record.error` was set.
    failed_at: Option<Duration>,
    /// Whether the client has found the object yet (a page's objects are
    /// queued before they are discovered: [`Ledger::queue_undiscovered`]).
    discovered: bool,
    /// The request's `Host` / `:authority`, when it is not its carrier's
    /// (a page object of another origin on a coalesced connection).
    authority: Option<String>,
}

impl Request {
    /// The current attempt's resumption, `None` on the first attempt.
    fn resumption(&mut self) -> Option<&mut Resumption> {
        self.record.resumptions.last_mut()
    }
}

struct Connection {
    record: ConnectionRecord,
    /// The network it was opened on (TCP only: QUIC migrates).
    network: Option<NetworkId>,
    stats: Option<StatsSource>,
    /// What the client saw of the connection's TLS records and HTTP/2
    /// frames, for its head-of-line cost (HTTP/2 only).
    stream_map: Option<StreamMapHandle>,
    driver_end: Option<DriverEnd>,
    late_handshake: Option<LateHandshakeSlot>,
}

/// What [`Ledger::close`] hands back.
pub(crate) struct Closed {
    /// Every request, in plan order.
    pub(crate) requests: Vec<RequestRecord>,
    /// Every connection, in order of opening.
    pub(crate) connections: Vec<ConnectionRecord>,
    /// Per connection (same order), which stream each byte of its TCP
    /// stream carried, where the client mapped it (HTTP/2 over TCP).
    pub(crate) stream_maps: Vec<Option<Vec<StreamSpan>>>,
    /// The run's first failure, as `"{path}: {reason}"`.
    pub(crate) failure: Option<String>,
    /// When the OS first reported a path change, if it did.
    pub(crate) path_change: Option<Duration>,
    /// Body bytes received more than once, over all requests.
    pub(crate) bytes_fetched_twice: u64,
}

/// The run's clock and records. See the module docs.
pub(crate) struct Ledger {
    start: Instant,
    content_seed: u64,
    verification: Verification,
    requests: RefCell<Vec<Request>>,
    connections: RefCell<Vec<Connection>>,
    path_change: Cell<Option<Duration>>,
    /// Whether connections record the origin they were opened to (page
    /// runs only, so that other records stay as they were).
    record_origins: Cell<bool>,
    /// Raised whenever request 0 (a page's document) gets its head or body
    /// bytes.
    document_progress: Notify,
    /// When a response first advertised HTTP/3 (`alt-svc: h3=...`).
    alt_svc_h3: Cell<Option<Duration>>,
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
            path_change: Cell::default(),
            record_origins: Cell::new(false),
            document_progress: Notify::new(),
            alt_svc_h3: Cell::new(None),
        }
    }

    /// When a response first advertised HTTP/3 with `alt-svc`, if one did.
    pub(crate) fn alt_svc_h3(&self) -> Option<Duration> {
        self.alt_svc_h3.get()
    }

    /// Make every connection record the origin it was opened to.
    pub(crate) fn record_origins(&self) {
        self.record_origins.set(true);
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
        let req = self.queue_undiscovered(object, None);
        self.requests.borrow_mut()[req].discovered = true;
        req
    }

    /// Queue a request for a page object the client has not found yet,
    /// with its own `authority` if given; [`Ledger::discover`] it before it
    /// is sent. Returns its index.
    pub(crate) fn queue_undiscovered(&self, object: &Object, authority: Option<String>) -> usize {
        let mut requests = self.requests.borrow_mut();
        requests.push(Request {
            discovered: false,
            authority,
            kind: object.kind,
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
                resumptions: Vec::new(),
                timeline: Vec::new(),
                timeline_thinned_from: None,
                hol_blocked: None,
                hol_added: None,
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
            assembled: 0,
            high_water: 0,
            attempt_bytes: 0,
            fetched_twice: 0,
            done: false,
            failed_at: None,
        });
        requests.len() - 1
    }

    /// The client found request `req`'s object now: its start is now.
    pub(crate) fn discover(&self, req: usize) {
        let now = self.now();
        let mut requests = self.requests.borrow_mut();
        requests[req].discovered = true;
        requests[req].record.start = now;
    }

    /// Request `req`'s own authority, if it has one.
    pub(crate) fn authority(&self, req: usize) -> Option<String> {
        self.requests.borrow()[req].authority.clone()
    }

    /// When request `req` ended: `Ok(last byte)` if it succeeded, `Err(())`
    /// if it failed, `None` while it is still open.
    pub(crate) fn outcome(&self, req: usize) -> Option<Result<Duration, ()>> {
        let requests = self.requests.borrow();
        let r = &requests[req];
        if !r.done {
            return None;
        }
        match (&r.record.error, r.record.last_byte) {
            (None, Some(at)) => Some(Ok(at)),
            _ => Some(Err(())),
        }
    }

    /// Body bytes of request `req` in hand, in order from byte 0.
    pub(crate) fn in_hand(&self, req: usize) -> u64 {
        self.requests.borrow()[req].assembled
    }

    /// Resolves after request 0 next gets body bytes (at once if it got
    /// some since the last call).
    pub(crate) async fn document_progressed(&self) {
        self.document_progress.notified().await;
    }

    /// Requests queued so far.
    pub(crate) fn queued(&self) -> usize {
        self.requests.borrow().len()
    }

    /// The path of request `req`.
    pub(crate) fn path(&self, req: usize) -> String {
        self.requests.borrow()[req].record.path.clone()
    }

    /// What request `req`'s object stands for.
    pub(crate) fn kind(&self, req: usize) -> ObjectKind {
        self.requests.borrow()[req].kind
    }

    /// Request `req` will travel on connection `conn` (this attempt).
    pub(crate) fn assign(&self, req: usize, conn: u32) {
        let ready = self.connections.borrow()[conn as usize]
            .record
            .handshake_done;
        let mut requests = self.requests.borrow_mut();
        let r = &mut requests[req];
        if let Some(attempt) = r.resumption() {
            attempt.connection_id = Some(conn);
        } else {
            r.record.connection_id = Some(conn);
            r.record.connection_ready = ready;
        }
    }

    /// Where the current attempt of `req` starts in the body: `Some(n)`
    /// when it must ask for `Range: bytes=n-` (a resumption with `n` bytes
    /// in hand), `None` for a plain `GET`.
    pub(crate) fn range_start(&self, req: usize) -> Option<u64> {
        self.requests.borrow()[req]
            .record
            .resumptions
            .last()
            .map(|attempt| attempt.offset)
            .filter(|&offset| offset > 0)
    }

    /// Request `req` was handed to the HTTP stack as stream `stream_id`.
    pub(crate) fn sent(&self, req: usize, stream_id: u64) {
        let now = self.now();
        let mut requests = self.requests.borrow_mut();
        let r = &mut requests[req];
        if let Some(attempt) = r.resumption() {
            attempt.request_sent = Some(now);
            attempt.stream_id = Some(stream_id);
        } else {
            r.record.request_sent = Some(now);
            r.record.stream_id = Some(stream_id);
        }
    }

    /// Request `req` was given stream id `stream_id` (HTTP/3 learns it
    /// before the request is fully sent).
    pub(crate) fn stream_id(&self, req: usize, stream_id: u64) {
        let mut requests = self.requests.borrow_mut();
        let r = &mut requests[req];
        match r.resumption() {
            Some(attempt) => attempt.stream_id = Some(stream_id),
            None => r.record.stream_id = Some(stream_id),
        }
    }

    /// The response head of `req` arrived. The status must be 200, or for
    /// a ranged resumption 206 with the `content-range` asked for (a 200
    /// there means the whole body comes again: the check starts over and
    /// the bytes in hand will be fetched twice). Anything else fails the
    /// request (its body is still read and counted).
    pub(crate) fn head<B>(&self, req: usize, response: &http::Response<B>) {
        let now = self.now();
        let declared_len = match self.verification {
            Verification::ContentModel => None,
            Verification::ContentLength => response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok()),
        };
        let status = response.status().as_u16();
        let advertises_h3 = response
            .headers()
            .get_all(http::header::ALT_SVC)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|alt| alt.trim_start().starts_with("h3=")));
        if advertises_h3 && self.alt_svc_h3.get().is_none() {
            self.alt_svc_h3.set(Some(now));
        }
        if req == 0 {
            self.document_progress.notify_one();
        }
        let range_start = self.range_start(req);
        let problem = {
            let mut requests = self.requests.borrow_mut();
            let r = &mut requests[req];
            r.declared_len = declared_len;
            match r.resumption() {
                Some(attempt) => {
                    attempt.first_byte = Some(now);
                    attempt.status = Some(status);
                }
                None => r.record.first_byte = Some(now),
            }
            match (range_start, status) {
                (None, 200) => None,
                (None, _) => Some(format!("status {status}, expected 200")),
                (Some(start), 206) => {
                    let value = response.headers().get(CONTENT_RANGE);
                    check_content_range(value, start, r.record.size_expected).err()
                }
                (Some(_), 200) => {
                    // The server ignored the range: start the body over.
                    r.assembled = 0;
                    r.check = r.check.take().map(|c| {
                        BodyCheck::new(self.content_seed, &r.record.path, c.expected_len())
                    });
                    None
                }
                (Some(start), _) => Some(format!(
                    "status {status} for a range from byte {start}, expected 206 (or 200)"
                )),
            }
        };
        if let Some(reason) = problem {
            self.fail(req, reason);
        }
    }

    /// The next piece of `req`'s body, in order. Several pieces may make
    /// up one read or frame; call [`Ledger::progress`] after the last.
    pub(crate) fn data(&self, req: usize, data: &[u8]) {
        let mut requests = self.requests.borrow_mut();
        let r = &mut requests[req];
        let len = data.len() as u64;
        r.record.bytes += len;
        r.attempt_bytes += len;
        r.fetched_twice += r.high_water.saturating_sub(r.assembled).min(len);
        r.assembled += len;
        r.high_water = r.high_water.max(r.assembled);
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
        drop(requests);
        if req == 0 {
            self.document_progress.notify_one();
        }
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
                    .filter(|&declared| declared != r.attempt_bytes)
                    .map(|declared| {
                        format!(
                            "body is {} bytes, content-length says {declared}",
                            r.attempt_bytes
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

    /// A path change cut off request `req`'s connection (the carrier has
    /// checked that with [`Ledger::lost_to_path_change`]): record why, and
    /// make its next attempt ask for the bytes not yet in hand. Returns
    /// `false`, changing nothing, if the request had already finished or
    /// failed (a failure stands; the lab never retries one).
    pub(crate) fn resume(&self, req: usize, reason: String) -> bool {
        let now = self.now();
        let mut requests = self.requests.borrow_mut();
        let r = &mut requests[req];
        if r.done {
            return false;
        }
        r.attempt_bytes = 0;
        r.declared_len = None;
        let offset = r.assembled;
        r.record.resumptions.push(Resumption {
            interrupted: now,
            interrupted_by: reason,
            offset,
            connection_id: None,
            stream_id: None,
            request_sent: None,
            first_byte: None,
            status: None,
        });
        true
    }

    /// Fail every request not yet finished, for `reason`, in plan order; a
    /// page object not yet discovered fails as not requested.
    pub(crate) fn fail_unfinished(&self, reason: &str) {
        let open: Vec<(usize, bool)> = self
            .requests
            .borrow()
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.done)
            .map(|(i, r)| (i, r.discovered))
            .collect();
        for (req, discovered) in open {
            if discovered {
                self.fail(req, reason.to_string());
            } else {
                self.fail(
                    req,
                    format!("not requested: not yet discovered when {reason}"),
                );
            }
        }
    }

    // ---- connections ----------------------------------------------------

    /// The client starts opening a connection for `protocol` to the server
    /// named `origin`; returns its id.
    pub(crate) fn open_connection(&self, protocol: Protocol, origin: &str) -> u32 {
        let now = self.now();
        let mut connections = self.connections.borrow_mut();
        let id = u32::try_from(connections.len()).expect("fewer than 2^32 connections");
        connections.push(Connection {
            network: None,
            record: ConnectionRecord {
                id,
                protocol,
                started: now,
                tcp_connected: None,
                handshake_done: None,
                resumed: None,
                early_data_offered: false,
                early_data_accepted: None,
                stats: None,
                hol_blocked: None,
                hol_cost: None,
                error: None,
                origin: self.record_origins.get().then(|| origin.to_owned()),
            },
            stats: None,
            stream_map: None,
            driver_end: None,
            late_handshake: None,
        });
        id
    }

    /// Connection `conn` is being opened on `network`.
    pub(crate) fn opened_on(&self, conn: u32, network: NetworkId) {
        self.connections.borrow_mut()[conn as usize].network = Some(network);
    }

    /// Whether connection `conn` was opened on a network other than
    /// `current`, the one the OS reports now: then whatever broke it, it
    /// could not have survived, because the path it ran on is gone. Always
    /// `false` for a connection with no network (QUIC, which migrates).
    pub(crate) fn lost_to_path_change(&self, conn: u32, current: NetworkId) -> bool {
        self.connections.borrow()[conn as usize]
            .network
            .is_some_and(|network| network != current)
    }

    /// The OS reported that the client's network changed; the first report
    /// is kept.
    pub(crate) fn path_changed(&self) {
        if self.path_change.get().is_none() {
            self.path_change.set(Some(self.now()));
        }
    }

    /// Connection `conn` completed its TCP handshake.
    pub(crate) fn tcp_connected(&self, conn: u32) {
        let now = self.now();
        self.connections.borrow_mut()[conn as usize]
            .record
            .tcp_connected = Some(now);
    }

    /// Connection `conn` completed its TLS or QUIC handshake, as `facts`
    /// says.
    pub(crate) fn handshake_done(&self, conn: u32, facts: HandshakeFacts) {
        let now = self.now();
        let mut connections = self.connections.borrow_mut();
        let record = &mut connections[conn as usize].record;
        record.handshake_done = Some(now);
        record.resumed = facts.resumed;
        record.early_data_offered = facts.early_data_offered;
        record.early_data_accepted = facts.early_data_accepted;
    }

    /// Connection `conn` offered early data and goes on before its
    /// handshake completes; whoever sees it complete fills in the returned
    /// slot.
    pub(crate) fn late_handshake(&self, conn: u32) -> LateHandshakeSlot {
        let slot = LateHandshakeSlot::default();
        let mut connections = self.connections.borrow_mut();
        let c = &mut connections[conn as usize];
        c.record.early_data_offered = true;
        c.late_handshake = Some(slot.clone());
        slot
    }

    /// Where connection `conn`'s transport statistics come from.
    pub(crate) fn stats_source(&self, conn: u32, source: StatsSource) {
        self.connections.borrow_mut()[conn as usize].stats = Some(source);
    }

    /// Where connection `conn`'s map of bytes to streams comes from.
    pub(crate) fn stream_map(&self, conn: u32, map: StreamMapHandle) {
        self.connections.borrow_mut()[conn as usize].stream_map = Some(map);
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
    /// same moment the first in plan order, as `"{path}: {reason}"`.
    /// Handshakes that completed late (early data) are filled in, and so is
    /// the `connection_ready` of requests sent before their connection's
    /// handshake completed. Call once, while the connections are still
    /// open; the ledger is empty afterwards.
    pub(crate) fn close(&self) -> Closed {
        let mut stream_maps = Vec::new();
        let connections: Vec<ConnectionRecord> = self
            .connections
            .take()
            .into_iter()
            .map(|c| {
                stream_maps.push(c.stream_map.as_ref().and_then(stream_map::spans_of));
                let driver_error = c
                    .driver_end
                    .and_then(|end| end.lock().unwrap_or_else(|e| e.into_inner()).take());
                let mut record = ConnectionRecord {
                    stats: c.stats.as_ref().and_then(|s| s()),
                    error: c.record.error.clone().or(driver_error),
                    ..c.record
                };
                if let Some(slot) = c.late_handshake {
                    let late = slot.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(done) = late.done {
                        record.handshake_done = Some(done.saturating_duration_since(self.start));
                        record.resumed = late.facts.resumed;
                        record.early_data_accepted = late.facts.early_data_accepted;
                    }
                }
                record
            })
            .collect();
        let mut requests = self.requests.take();
        // A request sent as early data went before its connection was ready.
        for r in &mut requests {
            if let (None, Some(conn)) = (r.record.connection_ready, r.record.connection_id) {
                r.record.connection_ready = connections
                    .get(conn as usize)
                    .and_then(|c| c.handshake_done);
            }
        }
        let failure = requests
            .iter()
            .filter_map(|r| Some((r.failed_at?, r)))
            .min_by_key(|(at, _)| *at)
            .map(|(_, r)| {
                let reason = r.record.error.as_deref().unwrap_or_default();
                format!("{}: {reason}", r.record.path)
            });
        let bytes_fetched_twice = requests.iter().map(|r| r.fetched_twice).sum();
        let requests = requests.into_iter().map(|r| r.record).collect();
        Closed {
            requests,
            connections,
            stream_maps,
            failure,
            path_change: self.path_change.get(),
            bytes_fetched_twice,
        }
    }
}

/// Whether `value`, the `content-range` of a 206, is the range a
/// resumption from byte `start` asked for: `bytes {start}-{size - 1}/{size}`,
/// `size` being the body size the workload expects. The error says what
/// differs.
fn check_content_range(
    value: Option<&http::HeaderValue>,
    start: u64,
    size: u64,
) -> Result<(), String> {
    let expected = format!("bytes {start}-{}/{size}", size.saturating_sub(1));
    match value.map(|v| v.to_str()) {
        Some(Ok(got)) if got.trim() == expected => Ok(()),
        Some(Ok(got)) => Err(format!(
            "status 206 with content-range {got:?}, expected {expected:?}"
        )),
        Some(Err(_)) => Err(format!(
            "status 206 with a content-range that is not text, expected {expected:?}"
        )),
        None => Err(format!(
            "status 206 without content-range, expected {expected:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderValue, Response};
    use scenarios::{Object, ObjectKind};

    use super::*;

    const SEED: u64 = 7;
    const SIZE: u64 = 1000;

    fn ledger_with_one_request() -> (Ledger, usize, Vec<u8>) {
        let ledger = Ledger::new(SEED, Verification::ContentModel);
        let object = Object::new(SIZE, "x", ObjectKind::Data);
        let body = scenarios::content::body(SEED, &object.path, SIZE);
        let req = ledger.queue(&object);
        (ledger, req, body)
    }

    fn response(status: u16, content_range: Option<&str>) -> Response<()> {
        let mut r = Response::builder().status(status);
        if let Some(v) = content_range {
            r = r.header(CONTENT_RANGE, v);
        }
        r.body(()).unwrap()
    }

    fn receive(ledger: &Ledger, req: usize, data: &[u8]) {
        ledger.data(req, data);
        ledger.progress(req);
    }

    #[test]
    fn a_resumption_asks_for_the_rest_and_checks_the_parts_as_one_body() {
        let (ledger, req, body) = ledger_with_one_request();
        assert_eq!(ledger.range_start(req), None);
        ledger.head(req, &response(200, None));
        receive(&ledger, req, &body[..400]);
        assert!(ledger.resume(req, "cut off".into()));
        assert_eq!(ledger.range_start(req), Some(400));
        ledger.head(req, &response(206, Some("bytes 400-999/1000")));
        receive(&ledger, req, &body[400..]);
        ledger.end(req);
        let closed = ledger.close();
        let r = &closed.requests[0];
        assert!(r.verified, "{r:?}");
        assert_eq!(r.error, None);
        assert_eq!(r.bytes, SIZE);
        assert_eq!(r.resumptions[0].offset, 400);
        assert_eq!(r.resumptions[0].status, Some(206));
        assert_eq!(r.resumptions[0].interrupted_by, "cut off");
        assert_eq!(closed.bytes_fetched_twice, 0);
    }

    #[test]
    fn a_wrong_part_fails_the_body_check() {
        let (ledger, req, body) = ledger_with_one_request();
        ledger.head(req, &response(200, None));
        receive(&ledger, req, &body[..400]);
        assert!(ledger.resume(req, "cut off".into()));
        ledger.head(req, &response(206, Some("bytes 400-999/1000")));
        // The server's part starts one byte late.
        receive(&ledger, req, &body[401..]);
        receive(&ledger, req, &[0]);
        ledger.end(req);
        let r = &ledger.close().requests[0];
        assert!(!r.verified);
        // The first byte of the late part is the first that differs.
        assert!(
            r.error.as_deref().unwrap().contains("from byte 400 on"),
            "{r:?}"
        );
    }

    #[test]
    fn a_whole_body_instead_of_the_range_starts_over_and_counts_bytes_twice() {
        let (ledger, req, body) = ledger_with_one_request();
        ledger.head(req, &response(200, None));
        receive(&ledger, req, &body[..400]);
        assert!(ledger.resume(req, "cut off".into()));
        ledger.head(req, &response(200, None));
        receive(&ledger, req, &body[..700]);
        receive(&ledger, req, &body[700..]);
        ledger.end(req);
        let closed = ledger.close();
        let r = &closed.requests[0];
        assert!(r.verified, "{r:?}");
        assert_eq!(r.bytes, 1400);
        assert_eq!(r.resumptions[0].status, Some(200));
        assert_eq!(closed.bytes_fetched_twice, 400);
    }

    #[test]
    fn a_wrong_answer_to_a_range_fails_the_request() {
        for (status, range, says) in [
            (
                206,
                Some("bytes 0-999/1000"),
                "content-range \"bytes 0-999/1000\"",
            ),
            (206, None, "without content-range"),
            (404, None, "status 404 for a range from byte 400"),
        ] {
            let (ledger, req, body) = ledger_with_one_request();
            ledger.head(req, &response(200, None));
            receive(&ledger, req, &body[..400]);
            assert!(ledger.resume(req, "cut off".into()));
            ledger.head(req, &response(status, range));
            let failure = ledger.close().failure.expect("the request failed");
            assert!(failure.contains(says), "{failure}");
        }
    }

    #[test]
    fn a_failed_or_finished_request_is_never_resumed() {
        let (ledger, req, body) = ledger_with_one_request();
        ledger.head(req, &response(500, None));
        receive(&ledger, req, &body[..10]);
        assert!(!ledger.resume(req, "cut off".into()));
        assert_eq!(ledger.range_start(req), None);
        let (ledger, req, body) = ledger_with_one_request();
        ledger.head(req, &response(200, None));
        receive(&ledger, req, &body);
        ledger.end(req);
        assert!(!ledger.resume(req, "cut off".into()));
        assert!(ledger.close().requests[0].resumptions.is_empty());
    }

    #[test]
    fn content_range_must_be_the_rest_of_the_body() {
        let v = HeaderValue::from_static;
        assert_eq!(
            check_content_range(Some(&v("bytes 400-999/1000")), 400, 1000),
            Ok(())
        );
        for wrong in ["bytes 400-998/1000", "bytes 400-999/*", "bytes */1000"] {
            let e = check_content_range(Some(&v(wrong)), 400, 1000).unwrap_err();
            assert!(e.contains("expected \"bytes 400-999/1000\""), "{e}");
        }
    }
}
