//! The workload runner: phases in order, requests within a phase as their
//! concurrency allows, handed to the protocol's [`Carrier`]; then the
//! [`RunRecord`].

use std::rc::Rc;
use std::time::Duration;

use netsim::Host;
use scenarios::Plan;

use crate::config::{ClientConfig, Protocol};
use crate::dial::Dialer;
use crate::h1::H1Pool;
use crate::hol;
use crate::ledger::{Ledger, Verification};
use crate::mux::{Mux, H2, H3};
use crate::record::RunRecord;

/// One protocol's way of carrying requests over its connections.
///
/// Call order: [`Carrier::submit`] a queued request (an index into the
/// ledger), then [`Carrier::next_done`] once per submitted request. A
/// carrier opens connections as it needs them and always finishes a
/// submitted request, successfully or not.
pub(crate) trait Carrier {
    /// Take request `req`, already queued in the ledger.
    fn submit(&mut self, req: usize);

    /// Wait for the next submitted request to finish and return its index;
    /// `None` if nothing is outstanding.
    async fn next_done(&mut self) -> Option<usize>;
}

/// Carry out `plan` over `host`'s network as `config` says, and record it.
///
/// Phases run in order; within a phase, requests are queued in list order,
/// all at once or up to the phase's concurrency. Every request's body is
/// checked against the content model (status 200, length and SHA-256); a
/// failed request is recorded with its reason, the run goes on, and the
/// run's [`RunRecord::failure`] names the first failure. When
/// [`ClientConfig::time_limit`] passes, every unfinished request is
/// recorded as timed out. An invalid config fails every request with the
/// config error. Times come from the host's tokio clock (simulated time),
/// from the moment this function is called.
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
    let ledger = Rc::new(Ledger::new(config.content_seed, verification));
    let finish = |ledger: &Ledger| record(config.protocol, ledger, origin);
    if let Err(e) = config.validate() {
        for object in plan.objects() {
            let req = ledger.queue(object);
            ledger.fail(req, e.to_string());
        }
        return finish(&ledger);
    }
    let authority = dialer.authority();
    // Each carrier stays alive until the record is made, so that the
    // statistics are read from open connections.
    match config.protocol {
        Protocol::H1 => {
            let mut pool =
                H1Pool::new(dialer, ledger.clone(), config.max_h1_connections, authority);
            carry(&mut pool, plan, &ledger, config.time_limit).await;
            finish(&ledger)
        }
        Protocol::H2 => {
            let h2 = H2 {
                flow: config.flow,
                authority,
            };
            let mut mux = Mux::new(h2, dialer, ledger.clone());
            carry(&mut mux, plan, &ledger, config.time_limit).await;
            finish(&ledger)
        }
        Protocol::H3 => {
            let h3 = H3 {
                flow: config.flow,
                authority,
            };
            let mut mux = Mux::new(h3, dialer, ledger.clone());
            carry(&mut mux, plan, &ledger, config.time_limit).await;
            finish(&ledger)
        }
    }
}

/// Run every phase of `plan` on `carrier` within `limit` of the run's
/// start; past it, record what is left as failed.
async fn carry<C: Carrier>(carrier: &mut C, plan: &Plan, ledger: &Ledger, limit: Duration) {
    let deadline = ledger.start() + limit;
    let all_done = tokio::time::timeout_at(deadline, phases(carrier, plan, ledger)).await;
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

/// The run's record, from the ledger (reads every connection's statistics),
/// with its head-of-line blocked times (`crate::hol`) for a run whose clock
/// started at simulated time `origin`.
fn record(protocol: Protocol, ledger: &Ledger, origin: Duration) -> RunRecord {
    let (mut requests, mut connections, failure) = ledger.close();
    let hol_blocked = hol::fill_in(&mut requests, &mut connections, origin);
    let total_bytes = requests.iter().map(|r| r.bytes).sum();
    let first_attempt = connections.iter().map(|c| c.started).min();
    let last_byte = requests.iter().filter_map(|r| r.last_byte).max();
    let plt = match (&failure, first_attempt, last_byte) {
        (None, Some(first), Some(last)) => Some(last.saturating_sub(first)),
        _ => None,
    };
    RunRecord {
        protocol,
        connections_used: connections.len(),
        requests,
        connections,
        plt,
        hol_blocked,
        total_bytes,
        failure,
    }
}
