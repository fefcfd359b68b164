//! Which connection carries a page's request: an origin's one carrier, or,
//! when HTTP/3 is raced against TCP or learned from `alt-svc`, whichever of
//! an HTTP/3 and an HTTP/2 carrier the race gives it (`Route`).
//!
//! How a browser reaches HTTP/3 (`scenarios::H3Discovery`):
//! - **known**: HTTP/3 only (the lab's pure HTTP/3 measurement; with UDP
//!   blocked the run fails).
//! - **race**: as Chrome does when it knows the server speaks HTTP/3: QUIC
//!   first, and TCP (HTTP/2) once the fallback delay has passed without a
//!   QUIC connection, or at once if QUIC fails. Requests wait for the race;
//!   the first connection ready carries them all.
//! - **alt-svc**: a first visit: the document and whatever is found before
//!   an `alt-svc: h3` response header go over HTTP/2; the header starts
//!   QUIC, and requests found from then on wait for it, up to the fallback
//!   delay; if QUIC is not ready by then (or fails) they go over HTTP/2.
//!
//! [`RaceRecord`] records how the race went; each request's connection (and
//! with it its protocol) is in its own record.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use netsim::nanos;
use scenarios::{H3Discovery, Protocol};

use crate::carrier::{Carrier, Readiness};

/// How one group of origins is reached: carrier indices into the run's
/// carriers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RouteSpec {
    /// One carrier.
    Direct(usize),
    /// An HTTP/3 carrier raced against an HTTP/2 one.
    Race {
        /// The HTTP/3 carrier.
        h3: usize,
        /// The HTTP/2 carrier.
        h2: usize,
        /// Race or alt-svc.
        mode: H3Discovery,
        /// How long QUIC may take before TCP is used.
        fallback: Duration,
    },
}

/// How a race between HTTP/3 and HTTP/2 went, for one group of origins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaceRecord {
    /// `race` or `alt-svc` (`scenarios::H3Discovery::label`).
    pub mode: String,
    /// The fallback delay: how long requests waited for QUIC at most before
    /// TCP was used.
    #[serde(rename = "fallback_delay_ns", with = "nanos")]
    pub fallback_delay: Duration,
    /// When an `alt-svc: h3` header arrived (alt-svc only).
    #[serde(rename = "alt_svc_ns", with = "nanos::option")]
    pub alt_svc: Option<Duration>,
    /// When the client started opening the QUIC connection.
    #[serde(rename = "quic_started_ns", with = "nanos::option")]
    pub quic_started: Option<Duration>,
    /// When it started opening the TCP connection for the race (race only;
    /// with alt-svc the HTTP/2 connection is the first one).
    #[serde(rename = "tcp_started_ns", with = "nanos::option")]
    pub tcp_started: Option<Duration>,
    /// When the race was decided: the winner's connection was ready, or the
    /// fallback delay passed.
    #[serde(rename = "decided_ns", with = "nanos::option")]
    pub decided: Option<Duration>,
    /// Which protocol won: `h3`, or `h2` (the fallback).
    pub winner: Option<Protocol>,
    /// What reaching HTTP/3 this way cost the requests that waited. Race:
    /// the delay before TCP began, if HTTP/2 won, else 0 (each connection's
    /// own setup is what any connection costs). Alt-svc: from the header to
    /// the decision (QUIC's handshake, or the fallback delay or failure, time
    /// the requests found meanwhile could have been on HTTP/2). `None` if
    /// the race was never decided.
    #[serde(rename = "waited_ns", with = "nanos::option")]
    pub waited: Option<Duration>,
}

/// Which route each origin's requests take: `routes[group_of[origin]]`.
pub(crate) struct Routing {
    /// The group of each origin of the page (one group for a plan without
    /// a page).
    pub(crate) group_of: Vec<usize>,
    /// Each group's route.
    pub(crate) routes: Vec<Route>,
}

/// Where a race stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// alt-svc: HTTP/2 until an `alt-svc: h3` header arrives.
    H2First,
    /// Requests are held until a connection wins.
    Racing,
    /// Everything goes to this carrier.
    Won(usize),
}

/// One group's route while the page loads.
pub(crate) struct Route {
    spec: RouteSpec,
    phase: Phase,
    held: Vec<usize>,
    record: Option<RaceRecord>,
}

impl Route {
    /// The route of `spec`, before anything is sent.
    pub(crate) fn new(spec: RouteSpec) -> Route {
        let (phase, record) = match spec {
            RouteSpec::Direct(carrier) => (Phase::Won(carrier), None),
            RouteSpec::Race { mode, fallback, .. } => (
                if mode == H3Discovery::AltSvc {
                    Phase::H2First
                } else {
                    Phase::Racing
                },
                Some(RaceRecord {
                    mode: mode.label().to_owned(),
                    fallback_delay: fallback,
                    alt_svc: None,
                    quic_started: None,
                    tcp_started: None,
                    decided: None,
                    winner: None,
                    waited: None,
                }),
            ),
        };
        Route {
            spec,
            phase,
            held: Vec::new(),
            record,
        }
    }

    /// Send request `req` (counted in `outstanding` by carrier), or hold it
    /// while the race is on.
    pub(crate) fn submit<C: Carrier>(
        &mut self,
        carriers: &mut [C],
        outstanding: &mut [usize],
        req: usize,
    ) {
        let carrier = match (self.phase, self.spec) {
            (Phase::Won(c), _) => c,
            (Phase::H2First, RouteSpec::Race { h2, .. }) => h2,
            _ => {
                self.held.push(req);
                return;
            }
        };
        carriers[carrier].submit(req);
        outstanding[carrier] += 1;
    }

    /// Move the race on at `now`, given when an `alt-svc: h3` header arrived
    /// (if one has): start QUIC, start TCP, or decide. Returns the next
    /// moment something is due (the fallback delay's end), if any.
    pub(crate) fn advance<C: Carrier>(
        &mut self,
        carriers: &mut [C],
        outstanding: &mut [usize],
        now: Duration,
        alt_svc: Option<Duration>,
    ) -> Option<Duration> {
        let RouteSpec::Race {
            h3,
            h2,
            mode,
            fallback,
        } = self.spec
        else {
            return None;
        };
        let record = self.record.as_mut().expect("a race has a record");
        if self.phase == Phase::H2First {
            record.alt_svc = Some(alt_svc?);
            self.phase = Phase::Racing;
        }
        if self.phase != Phase::Racing {
            return None;
        }
        if record.quic_started.is_none() {
            carriers[h3].connect();
            record.quic_started = Some(now);
        }
        let started = record.quic_started.unwrap_or(now);
        let quic = carriers[h3].readiness();
        let deadline = started + fallback;
        let winner = match mode {
            H3Discovery::AltSvc => match quic {
                Readiness::Ready => Some(h3),
                Readiness::Failed => Some(h2),
                _ if now >= deadline => Some(h2),
                _ => None,
            },
            _ => {
                if record.tcp_started.is_none() && (now >= deadline || quic == Readiness::Failed) {
                    carriers[h2].connect();
                    record.tcp_started = Some(now);
                }
                match (quic, carriers[h2].readiness()) {
                    (Readiness::Ready, _) => Some(h3),
                    (_, Readiness::Ready) => Some(h2),
                    (Readiness::Failed, Readiness::Failed) => Some(h2),
                    _ => None,
                }
            }
        };
        let Some(winner) = winner else {
            return (record.tcp_started.is_none() || mode == H3Discovery::AltSvc)
                .then_some(deadline)
                .filter(|&t| t > now);
        };
        record.decided = Some(now);
        record.winner = Some(if winner == h3 {
            Protocol::H3
        } else {
            Protocol::H2
        });
        record.waited = Some(match (mode, record.tcp_started) {
            // Racing, the cost is the delay before TCP began (its own setup
            // and QUIC's are what any connection costs).
            (H3Discovery::AltSvc, _) => now.saturating_sub(started),
            (_, Some(tcp)) if winner == h2 => tcp.saturating_sub(started),
            _ => Duration::ZERO,
        });
        self.phase = Phase::Won(winner);
        for req in std::mem::take(&mut self.held) {
            carriers[winner].submit(req);
            outstanding[winner] += 1;
        }
        None
    }

    /// The race's record, if this route raced.
    pub(crate) fn record(&self) -> Option<&RaceRecord> {
        self.record.as_ref()
    }
}
