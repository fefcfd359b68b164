//! The workload runner: a warm-up first if the run resumes a session, then
//! phases in order, requests within a phase as their concurrency allows,
//! handed to the protocol's [`Carrier`](crate::carrier::Carrier), while it listens for the OS's
//! network-change notification; then the [`RunRecord`], with its
//! [`MigrationRecord`] if the network changed.

use std::rc::Rc;
use std::time::Duration;

use netsim::tls::{ClientResumption, ClientTls, SessionCache, ALPN_H2, ALPN_H3, ALPN_HTTP1};
use netsim::Host;
use scenarios::{Phase, Plan};
use tokio::time::Instant;

use crate::browse::browse;
use crate::carrier::Carrier;
use crate::carrier::Readiness;
use crate::config::{ClientConfig, WARMUP_PAUSE};
use crate::dial::{Dialer, Named};
use crate::h1::H1Pool;
use crate::hol;
use crate::ledger::Closed;
use crate::ledger::{Ledger, Verification};
use crate::mux::{Mux, H2, H3};
use crate::record::PageTimes;
use crate::record::{ConnectionRecord, MigrationRecord, RequestRecord, RunRecord, Warmup};
use crate::route::{RaceRecord, Route, RouteSpec, Routing};
use scenarios::{H3Discovery, Handshake, Protocol};

/// Carry out `plan` over `host`'s network as `config` says, and record it.
///
/// Phases run in order; within a phase, requests are queued in list order,
/// all at once or up to the phase's concurrency. Every request's body is
/// checked against the content model (status 200, length, every byte); a
/// failed request is recorded with its reason, the run goes on, and the
/// run's [`RunRecord::failure`] names the first failure. When
/// [`ClientConfig::time_limit`] passes, every unfinished request is
/// recorded as timed out. An invalid config fails every request with the
/// config error. Times come from the host's tokio clock (simulated time).
///
/// With [`Handshake::Full`] the run starts the moment this function is
/// called. With [`Handshake::Resume`] or [`Handshake::EarlyData`] a warm-up
/// comes first (see [`Handshake`]); the run's times then count from the
/// end of the warm-up's pause, and the time limit covers both.
///
/// When the client's network changes (a scheduled path change; the host's
/// address-change notification stands for the phone OS's), HTTP/1.1 and
/// HTTP/2 replace the connections that went with the old network and
/// resume every request they cut off with `Range: bytes=N-`, N being the
/// bytes already in hand; the body check runs over the parts as one body.
/// HTTP/3 migrates its connection. Only a connection lost with its network
/// is replaced: every other failure stays a failure. The record then has a
/// [`MigrationRecord`] (see `docs/migration.md`).
pub async fn run(host: &Host, config: &ClientConfig, plan: &Plan) -> RunRecord {
    // The transport's records (TCP segment arrivals) are in simulated time
    // since the simulation started; the run's clock starts now.
    let origin = netsim::now();
    run_with(
        host.clone(),
        config,
        plan,
        Verification::ContentModel,
        origin,
    )
    .await
}

/// [`run`] over any dialer, checking bodies as `verification` says.
/// `origin` is the simulated time at which the run's clock starts (zero
/// outside the simulation, where the transports record no arrivals).
pub(crate) async fn run_with<D: Dialer>(
    dialer: D,
    config: &ClientConfig,
    plan: &Plan,
    verification: Verification,
    origin: Duration,
) -> RunRecord {
    let called = Instant::now();
    if let Err(e) = config.validate() {
        let ledger = Ledger::new(config.content_seed, verification);
        for object in plan.objects() {
            let req = ledger.queue(object);
            ledger.fail(req, e.to_string());
        }
        return record(config, plan, ledger.close(), None, origin);
    }
    let deadline = Instant::now() + config.time_limit;
    let resumption = match config.handshake {
        Handshake::Full => ClientResumption::Off,
        Handshake::Resume => ClientResumption::Resume(SessionCache::new()),
        Handshake::EarlyData => ClientResumption::EarlyData(SessionCache::new()),
    };
    let tls = dialer.tls_client(alpn(config.protocol), &resumption);
    let warmup = match (config.handshake, plan.objects().next()) {
        (Handshake::Full, _) | (_, None) => None,
        (_, Some(first)) => {
            let warmup_start = Instant::now();
            let first = Plan {
                phases: vec![Phase {
                    objects: vec![first.clone()],
                    concurrency: None,
                }],
                page: None,
            };
            let ledger = Rc::new(Ledger::new(config.content_seed, verification));
            let (closed, _) = carry_on_carrier(
                &dialer,
                &resumption,
                &tls,
                config,
                &first,
                &ledger,
                deadline,
            )
            .await;
            // The warm-up's carrier is gone: its connection is closing.
            netsim::time::sleep_until(deadline.min(Instant::now() + WARMUP_PAUSE)).await;
            let mut requests = closed.requests;
            for request in &mut requests {
                request.cap_timeline();
            }
            Some(Warmup {
                offset: Instant::now().duration_since(warmup_start),
                requests,
                connections: closed.connections,
                failure: closed.failure,
            })
        }
    };
    let ledger = Rc::new(Ledger::new(config.content_seed, verification));
    // The measured part's clock starts now, after any warm-up.
    let origin = origin + Instant::now().duration_since(called);
    let (closed, races) =
        carry_on_carrier(&dialer, &resumption, &tls, config, plan, &ledger, deadline).await;
    let mut record = record(config, plan, closed, warmup, origin);
    record.races = races;
    record
}

/// The ALPN protocol id of `protocol`.
fn alpn(protocol: Protocol) -> &'static [u8] {
    match protocol {
        Protocol::H1 => ALPN_HTTP1,
        Protocol::H2 => ALPN_H2,
        Protocol::H3 => ALPN_H3,
    }
}

/// Any of the three carriers, so that one run can hold several kinds (an
/// HTTP/3 connection raced against an HTTP/2 one).
enum AnyCarrier<D: Dialer> {
    H1(H1Pool<Named<D>>),
    H2(Mux<H2, Named<D>>),
    H3(Mux<H3, Named<D>>),
}

impl<D: Dialer> Carrier for AnyCarrier<D> {
    fn submit(&mut self, req: usize) {
        match self {
            AnyCarrier::H1(c) => c.submit(req),
            AnyCarrier::H2(c) => c.submit(req),
            AnyCarrier::H3(c) => c.submit(req),
        }
    }

    async fn next_done(&mut self) -> Option<usize> {
        match self {
            AnyCarrier::H1(c) => c.next_done().await,
            AnyCarrier::H2(c) => c.next_done().await,
            AnyCarrier::H3(c) => c.next_done().await,
        }
    }

    fn connect(&mut self) {
        match self {
            AnyCarrier::H1(c) => c.connect(),
            AnyCarrier::H2(c) => c.connect(),
            AnyCarrier::H3(c) => c.connect(),
        }
    }

    fn readiness(&self) -> Readiness {
        match self {
            AnyCarrier::H1(c) => c.readiness(),
            AnyCarrier::H2(c) => c.readiness(),
            AnyCarrier::H3(c) => c.readiness(),
        }
    }
}

/// What builds a run's carriers: the run's settings, shared by all.
struct Build<'a, D: Dialer> {
    dialer: &'a D,
    resumption: &'a ClientResumption,
    tls: &'a ClientTls,
    config: &'a ClientConfig,
    ledger: &'a Rc<Ledger>,
    priority_headers: bool,
}

impl<D: Dialer> Build<'_, D> {
    /// A carrier of `protocol` to the origin `name`.
    fn carrier(&self, protocol: Protocol, name: &str) -> AnyCarrier<D> {
        let named = Named::new(self.dialer.clone(), name);
        let authority = named.authority();
        // The run's TLS config speaks the run's protocol; a carrier of
        // another (HTTP/2 raced against HTTP/3) gets its own.
        let tls = if protocol == self.config.protocol {
            self.tls.clone()
        } else {
            self.dialer.tls_client(alpn(protocol), self.resumption)
        };
        let (flow, priority_headers) = (self.config.flow, self.priority_headers);
        let ledger = self.ledger.clone();
        match protocol {
            Protocol::H1 => AnyCarrier::H1(H1Pool::new(
                named,
                tls,
                ledger,
                self.config.max_h1_connections,
                authority,
            )),
            Protocol::H2 => AnyCarrier::H2(Mux::new(
                H2 {
                    tls,
                    flow,
                    authority,
                    priority_headers,
                },
                named,
                ledger,
            )),
            Protocol::H3 => AnyCarrier::H3(Mux::new(
                H3 {
                    tls,
                    flow,
                    congestion: self.config.quic_congestion,
                    authority,
                    priority_headers,
                },
                named,
                ledger,
            )),
        }
    }
}

/// Carry out `plan` on new carriers of `config`'s protocol, with TLS
/// config `tls`, recording in `ledger`; the ledger's records and the
/// races' records, read while the carriers' connections are still open.
/// The carriers (and with them their connections) are dropped on return.
///
/// A plan without a page has one carrier. A page has one per origin for
/// HTTP/1.1 (a pool each); HTTP/2 and HTTP/3 coalesce every origin onto
/// one connection, since the lab's certificate covers all of a page's
/// names and they share one address (as Chrome pools connections), unless
/// [`ClientConfig::coalesce`] is off: then they too have one carrier (one
/// connection) per origin. An HTTP/3 page with [`H3Discovery::Race`] or
/// [`H3Discovery::AltSvc`] has an HTTP/2 carrier next to each HTTP/3 one
/// (see `crate::route`).
async fn carry_on_carrier<D: Dialer>(
    dialer: &D,
    resumption: &ClientResumption,
    tls: &ClientTls,
    config: &ClientConfig,
    plan: &Plan,
    ledger: &Rc<Ledger>,
    deadline: Instant,
) -> (Closed, Vec<RaceRecord>) {
    let build = Build {
        dialer,
        resumption,
        tls,
        config,
        ledger,
        // A browser sends Chrome's priorities with every page request.
        priority_headers: config.priority_headers || plan.page.is_some(),
    };
    let mut carriers = Vec::new();
    let mut routes = Vec::new();
    let group_of: Vec<usize> = match &plan.page {
        None => {
            carriers.push(build.carrier(config.protocol, dialer.server_name()));
            routes.push(Route::new(RouteSpec::Direct(0)));
            vec![0]
        }
        Some(page) => {
            ledger.record_origins();
            let n = page.origins.len();
            let group_of: Vec<usize> = match config.protocol {
                Protocol::H2 | Protocol::H3 if config.coalesce => vec![0; n],
                Protocol::H1 | Protocol::H2 | Protocol::H3 => (0..n).collect(),
            };
            let groups = group_of.iter().max().map_or(0, |&g| g + 1);
            for g in 0..groups {
                let first = group_of.iter().position(|&x| x == g).unwrap_or(0);
                let name = &page.origins[first];
                let raced =
                    config.protocol == Protocol::H3 && config.h3_discovery != H3Discovery::Known;
                carriers.push(build.carrier(config.protocol, name));
                if raced {
                    carriers.push(build.carrier(Protocol::H2, name));
                    routes.push(Route::new(RouteSpec::Race {
                        h3: carriers.len() - 2,
                        h2: carriers.len() - 1,
                        mode: config.h3_discovery,
                        fallback: config.h3_fallback,
                    }));
                } else {
                    routes.push(Route::new(RouteSpec::Direct(carriers.len() - 1)));
                }
            }
            group_of
        }
    };
    let (limit, watcher) = (config.time_limit, dialer.clone());
    let mut routing = Routing { group_of, routes };
    carry(
        &mut carriers,
        &mut routing,
        &watcher,
        plan,
        ledger,
        limit,
        deadline,
    )
    .await;
    let races = routing
        .routes
        .iter()
        .filter_map(|r| r.record().cloned())
        .collect();
    // Closed while the carriers (and their connections) are still alive, so
    // that the statistics are read from open connections.
    let closed = ledger.close();
    drop(carriers);
    (closed, races)
}

/// Run `plan` on `carriers` until `deadline` (the run's time limit,
/// `limit`, after its start): its page as a browser loads it, or its phases
/// on the one carrier; noting in the ledger when `dialer` reports a network
/// change; past the deadline, record what is left as failed.
async fn carry<C: Carrier, D: Dialer>(
    carriers: &mut [C],
    routing: &mut Routing,
    dialer: &D,
    plan: &Plan,
    ledger: &Ledger,
    limit: Duration,
    deadline: Instant,
) {
    let work = async {
        let load = async {
            match &plan.page {
                Some(page) => browse(carriers, routing, page, ledger).await,
                None => phases(&mut carriers[0], plan, ledger).await,
            }
        };
        // `biased`: the notification is seen before whatever it caused.
        tokio::select! {
            biased;
            () = watch_network(dialer, ledger) => {}
            () = load => {}
        }
    };
    let all_done = netsim::time::timeout_at(deadline, work).await;
    if all_done.is_err() {
        ledger.fail_unfinished(&format!(
            "timed out: the client's time limit of {limit:?} passed"
        ));
        for object in plan.objects().skip(ledger.queued()) {
            let req = ledger.queue(object);
            ledger.fail(
                req,
                format!("not requested: the client's time limit of {limit:?} passed first"),
            );
        }
    }
}

/// Note every network change `dialer` reports in `ledger`; never returns.
async fn watch_network<D: Dialer>(dialer: &D, ledger: &Ledger) {
    loop {
        dialer.network_changed().await;
        ledger.path_changed();
    }
}

async fn phases<C: Carrier>(carrier: &mut C, plan: &Plan, ledger: &Ledger) {
    for phase in &plan.phases {
        let limit = phase.concurrency.map_or(usize::MAX, |c| {
            usize::try_from(c.max(1)).unwrap_or(usize::MAX)
        });
        let mut objects = phase.objects.iter();
        let mut outstanding = 0usize;
        for object in objects.by_ref().take(limit) {
            carrier.submit(ledger.queue(object));
            outstanding += 1;
        }
        while outstanding > 0 {
            if carrier.next_done().await.is_none() {
                // A carrier always finishes what it was given; if one ever
                // does not, record it rather than wait for ever.
                ledger.fail_unfinished("client: request lost by its carrier");
                break;
            }
            outstanding -= 1;
            if let Some(object) = objects.next() {
                carrier.submit(ledger.queue(object));
                outstanding += 1;
            }
        }
    }
}

/// The run's record, from its ledger's records and its warm-up, with its
/// head-of-line blocked times (`crate::hol`) for a measured part whose
/// clock started at simulated time `origin`. A failed warm-up fails the
/// run.
fn record(
    config: &ClientConfig,
    plan: &Plan,
    closed: Closed,
    warmup: Option<Warmup>,
    origin: Duration,
) -> RunRecord {
    let (mut requests, mut connections, mut failure) =
        (closed.requests, closed.connections, closed.failure);
    if let Some(warm) = warmup.as_ref().and_then(|w| w.failure.as_ref()) {
        failure = Some(format!("warm-up: {warm}"));
    }
    let hol_blocked = hol::fill_in(&mut requests, &mut connections, origin);
    let hol_cost = hol::fill_in_cost(&mut requests, &mut connections, &closed.stream_maps);
    let total_bytes = requests.iter().map(|r| r.bytes).sum();
    let first_attempt = connections.iter().map(|c| c.started).min();
    let last_byte = requests.iter().filter_map(|r| r.last_byte).max();
    let plt = match (&failure, first_attempt, last_byte) {
        (None, Some(first), Some(last)) => Some(last.saturating_sub(first)),
        _ => None,
    };
    let migration = closed
        .path_change
        .map(|at| migration(at, &requests, &connections, plt, closed.bytes_fetched_twice));
    let page = plan
        .page
        .as_ref()
        .and_then(|page| PageTimes::compute(page, &requests));
    // Every figure that reads the timelines is computed: cap them for
    // the record.
    for request in &mut requests {
        request.cap_timeline();
    }
    // The first request's first response head, over its attempts: a path
    // change that cut it off before its head arrived leaves the head to a
    // resumption (an ok run always has one).
    let ttfb = requests.first().and_then(|r| {
        r.first_byte
            .or_else(|| r.resumptions.iter().find_map(|a| a.first_byte))
    });
    RunRecord {
        protocol: config.protocol,
        handshake: config.handshake,
        connections_used: connections.len(),
        connections,
        plt,
        ttfb,
        hol_blocked,
        hol_cost,
        total_bytes,
        failure,
        warmup,
        migration,
        page,
        races: Vec::new(),
        requests,
    }
}

/// The migration figures of a run whose network changed at `at`, from its
/// requests' timelines and its connections. A body piece handed over at or
/// before `at` counts as before the change: see [`MigrationRecord`].
fn migration(
    at: Duration,
    requests: &[RequestRecord],
    connections: &[ConnectionRecord],
    completion: Option<Duration>,
    bytes_fetched_twice: u64,
) -> MigrationRecord {
    let points = || requests.iter().flat_map(|r| r.timeline.iter().copied());
    let last_byte_before = points().map(|(t, _)| t).filter(|&t| t <= at).max();
    let first_byte_after = points().map(|(t, _)| t).filter(|&t| t > at).min();
    let bytes_before_change = requests
        .iter()
        .map(|r| {
            r.timeline
                .iter()
                .take_while(|&&(t, _)| t <= at)
                .last()
                .map_or(0, |&(_, bytes)| bytes)
        })
        .sum();
    MigrationRecord {
        path_change: at,
        last_byte_before,
        first_byte_after,
        interruption: last_byte_before
            .zip(first_byte_after)
            .map(|(before, after)| after.saturating_sub(before)),
        completion,
        bytes_before_change,
        bytes_fetched_twice,
        resumed_requests: requests
            .iter()
            .filter(|r| !r.resumptions.is_empty())
            .count(),
        connections_after_change: connections.iter().filter(|c| c.started >= at).count(),
    }
}
