//! Loading a page as a browser does ([`browse`]): objects are requested as
//! they are discovered, following the page's [`PageGraph`].
//!
//! - The document is requested at once. As its bytes arrive in order, the
//!   parser reaches each object found in the HTML ([`Discovery::Html`]),
//!   which is requested then.
//! - A stylesheet or script that discovers others does so once it has
//!   arrived and its delay (processing time) has passed.
//! - A parser-blocking script ([`ObjectKind::Js`] found in the HTML) runs
//!   once it and every stylesheet found before it are ready. Until then,
//!   with the preload scanner off, nothing found in the HTML after it is
//!   requested; with it on (the default), markup after it is still found.
//! - Requests go to their origin's carrier: an HTTP/1.1 pool per origin
//!   (its connection limit, 6, per origin), or one HTTP/2 or HTTP/3
//!   connection for the origins it coalesces.
//! - An object whose discoverer failed, or that lies past where a failed
//!   document ended, is never requested and fails as such.
//!
//! Every object is queued in the ledger at the start, in graph order, so
//! that request `i` is object `i`; its start is set when it is discovered.

use std::time::Duration;

use futures_util::future::select_all;
use scenarios::{Discovery, ObjectKind, PageGraph};

use crate::carrier::{Carrier, Readiness};
use crate::ledger::Ledger;
use crate::page_times::script_runs;
use crate::route::Routing;

/// Where an object stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not found yet.
    Hidden,
    /// Requested, not ended.
    Requested,
    /// Arrived at this time (run clock).
    Arrived(Duration),
    /// Failed (requested or not).
    Failed,
}

/// Load `graph` through `carriers`, object `i`'s requests going the way
/// `routes[group_of[origin of i]]` says (see `crate::route`), recording in
/// `ledger`. Returns when every object has arrived or failed.
pub(crate) async fn browse<C: Carrier>(
    carriers: &mut [C],
    routing: &mut Routing,
    graph: &PageGraph,
    ledger: &Ledger,
) {
    let Routing { group_of, routes } = routing;
    let base = ledger.queued();
    for object in &graph.objects {
        let authority = graph.origins[object.origin].clone();
        ledger.queue_undiscovered(&object.object, Some(authority));
    }
    let n = graph.objects.len();
    let mut state = vec![State::Hidden; n];
    let mut outstanding = vec![0usize; carriers.len()];
    // Parser-blocking scripts found in the HTML, in document order.
    let mut blocking: Vec<(u64, usize)> = (1..n)
        .filter_map(|i| match graph.objects[i].discovery {
            Discovery::Html { offset } if graph.objects[i].object.kind == ObjectKind::Js => {
                Some((offset, i))
            }
            _ => None,
        })
        .collect();
    blocking.sort();
    let document_size = graph.objects[0].object.size;
    loop {
        let now = ledger.now();
        // Each object's ready time (arrival + delay), if it has arrived; a
        // failed object counts as ready now, so that nothing waits on it.
        let ready: Vec<Duration> = state
            .iter()
            .zip(&graph.objects)
            .map(|(s, o)| match s {
                State::Arrived(at) => *at + o.delay,
                State::Failed => Duration::ZERO,
                _ => Duration::MAX,
            })
            .collect();
        let document_failed = state[0] == State::Failed;
        let parsed_to = match state[0] {
            State::Arrived(_) => document_size,
            _ => ledger.in_hand(base),
        };
        // How far the parser may go: up to the first blocking script that
        // has not run yet.
        let parser_limit = blocking
            .iter()
            .find(|&&(_, i)| script_runs(graph, &ready, i) > now)
            .map_or(u64::MAX, |&(offset, _)| offset);
        for i in 0..n {
            if state[i] != State::Hidden {
                continue;
            }
            let object = &graph.objects[i];
            let found = match object.discovery {
                Discovery::Navigation => Ok(true),
                Discovery::Html { offset } => {
                    let reached =
                        offset <= parsed_to && (graph.preload_scanner || offset <= parser_limit);
                    if reached {
                        Ok(true)
                    } else if document_failed {
                        Err(format!(
                            "not requested: the document failed before its byte {offset}, where \
                             the object is found"
                        ))
                    } else {
                        Ok(false)
                    }
                }
                Discovery::Completion { of } => match state[of] {
                    State::Arrived(_) => Ok(ready[of] <= now),
                    State::Failed => Err(format!(
                        "not requested: it is found by {}, which failed",
                        graph.objects[of].object.path
                    )),
                    _ => Ok(false),
                },
            };
            match found {
                Ok(true) => {
                    let req = base + i;
                    ledger.discover(req);
                    routes[group_of[object.origin]].submit(carriers, &mut outstanding, req);
                    state[i] = State::Requested;
                }
                Ok(false) => {}
                Err(reason) => {
                    ledger.fail(base + i, reason);
                    state[i] = State::Failed;
                }
            }
        }
        // Races move on (and may send what they held).
        let alt_svc = ledger.alt_svc_h3();
        let mut race_timer: Option<Duration> = None;
        for route in routes.iter_mut() {
            let due = route.advance(carriers, &mut outstanding, now, alt_svc);
            race_timer = match (race_timer, due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        if state
            .iter()
            .all(|s| matches!(s, State::Arrived(_) | State::Failed))
        {
            return;
        }
        // The next moment a delay or a race's fallback delay ends.
        let timer = ready
            .iter()
            .copied()
            .filter(|&t| t > now && t != Duration::MAX)
            .chain(race_timer)
            .min();
        let waiting_for_document = matches!(state[0], State::Requested)
            && graph
                .objects
                .iter()
                .any(|o| matches!(o.discovery, Discovery::Html { offset } if offset > parsed_to));
        let opening: Vec<bool> = carriers
            .iter()
            .map(|c| c.readiness() == Readiness::Opening)
            .collect();
        let busy = outstanding.iter().any(|&k| k > 0) || opening.contains(&true);
        if !busy && timer.is_none() && !waiting_for_document {
            // Nothing can happen any more: what is left is never found.
            for (i, s) in state.iter_mut().enumerate() {
                if *s == State::Hidden {
                    ledger.fail(base + i, "not requested: never discovered".to_owned());
                    *s = State::Failed;
                }
            }
            return;
        }
        let sleep = async {
            match timer {
                Some(t) => netsim::time::sleep_until(ledger.start() + t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            done = next_of(carriers, &outstanding, &opening), if busy => match done {
                (carrier, Some(req)) => {
                    outstanding[carrier] -= 1;
                    state[req - base] = match ledger.outcome(req) {
                        Some(Ok(at)) => State::Arrived(at),
                        _ => State::Failed,
                    };
                }
                // A connection opened ahead of its requests is open (or
                // failed): the races look again.
                (carrier, None) if outstanding[carrier] == 0 => {}
                (carrier, None) => {
                    // A carrier always finishes what it was given; if one
                    // ever does not, record it rather than wait for ever.
                    outstanding[carrier] = 0;
                    ledger.fail_unfinished("client: request lost by its carrier");
                    return;
                }
            },
            () = ledger.document_progressed(), if waiting_for_document => {}
            () = sleep => {}
        }
    }
}

/// The next request any carrier with requests outstanding (or a connection
/// opening) finishes: the carrier and the request (`None`: nothing was
/// outstanding and its connection is now open or failed). Only called with
/// at least one carrier busy. Cancel-safe: each carrier's `next_done` is.
async fn next_of<C: Carrier>(
    carriers: &mut [C],
    outstanding: &[usize],
    opening: &[bool],
) -> (usize, Option<usize>) {
    let waiting: Vec<_> = carriers
        .iter_mut()
        .enumerate()
        .filter(|(c, _)| outstanding[*c] > 0 || opening[*c])
        .map(|(group, carrier)| Box::pin(async move { (group, carrier.next_done().await) }))
        .collect();
    select_all(waiting).await.0
}
