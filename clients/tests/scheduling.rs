//! The server's stream schedulers (`scenarios::Scheduler`), read from the
//! per-stream timelines the client records: the default page at 0 % loss
//! over HTTP/2 and HTTP/3, seed 1, the client sending Chrome's `priority`
//! headers (`ClientConfig::priority_headers`) in every run so that only
//! the server's order differs.
//!
//! Even at 0 % loss the default path's bottleneck queue (one
//! bandwidth-delay product) overflows in slow start and drops packets. Over
//! QUIC the stream whose packet was lost then waits for loss detection
//! (about a round trip) while quinn, which has nothing else of it to send,
//! sends the next streams: a stream overtaken by loss recovery, not by the
//! scheduler. So the order is checked on the same path with a queue deep
//! enough that nothing is dropped ([`Path::DeepQueue`]); the CSS and PLT
//! figures are those of the default path ([`Path::Default`]), where the
//! overlap loss recovery adds is printed too.
//!
//! - round-robin interleaves: many responses receive bytes in the same
//!   interval;
//! - sequential sends one response at a time in request order: of the
//!   responses after one in that order, at most [`overlap_bound`] bytes
//!   arrive before it completes;
//! - priorities sends the most urgent first: of the responses ranked after
//!   a non-incremental one (RFC 9218 order: urgency, then non-incremental
//!   first, then request order), at most the same bound arrives before it
//!   completes; and the render-blocking CSS completes sooner than under
//!   round-robin.

mod harness;

use std::sync::OnceLock;
use std::time::Duration;

use clients::{RequestRecord, RunRecord};
use harness::ServerSetup;
use netsim::QueueLimit;
use scenarios::{ObjectKind, Plan, Protocol, Scheduler};

/// The path a run takes: 50 ms RTT, 10 Mbit/s, no random loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// The lab's default: a bottleneck queue of one bandwidth-delay
    /// product (42 packets), which drops packets in slow start.
    Default,
    /// The same with a queue of 10 000 packets, which drops none.
    DeepQueue,
}

/// The run of the default page over `protocol` on `path` with the
/// server's `scheduler`; each is simulated once and shared by the tests.
fn page(protocol: Protocol, scheduler: Scheduler, path: Path) -> &'static RunRecord {
    static RUNS: [OnceLock<RunRecord>; 12] = [const { OnceLock::new() }; 12];
    let p = Protocol::ALL.iter().position(|&p| p == protocol).unwrap();
    let s = Scheduler::ALL.iter().position(|&s| s == scheduler).unwrap();
    let slot = &RUNS[((p - 1) * 3 + s) * 2 + usize::from(path == Path::DeepQueue)];
    slot.get_or_init(|| {
        let setup = ServerSetup {
            scheduler,
            ..ServerSetup::default()
        };
        let mut network = harness::network(0.0);
        if path == Path::DeepQueue {
            network.path.up.queue = QueueLimit::Packets(10_000);
            network.path.down.queue = QueueLimit::Packets(10_000);
        }
        let record =
            harness::run_configured(protocol, network, 1, &harness::flat_page(), setup, |c| {
                c.with_priority_headers(true)
            })
            .record;
        assert_eq!(
            record.failure, None,
            "{protocol} {scheduler}: the page loads"
        );
        assert!(record.requests.iter().all(RequestRecord::succeeded));
        if path == Path::DeepQueue {
            let stats = record.connections[0].stats.as_ref().expect("statistics");
            assert_eq!(stats.link_drops_received, 0, "{protocol}: nothing dropped");
        }
        record
    })
}

fn plan() -> Plan {
    harness::flat_page().plan()
}

/// The most bytes of later responses that may arrive before a response
/// completes, when responses go one at a time.
///
/// HTTP/2: the server hands the next response to hyper when the previous
/// one's last piece is out of its hands, and by then h2 may still hold up
/// to its send buffer (16 KiB) of the previous response and hyper the last
/// piece (16 KiB); h2 interleaves the next response's DATA frames with
/// those, one frame each in turn, so up to 32 KiB of the next one can go
/// ahead of the previous one's last byte. The bytes in TCP's send buffer
/// add nothing: that buffer is first in, first out.
///
/// HTTP/3: quinn builds every packet from the highest-priority stream with
/// data, so only the packet that carries the previous response's last
/// bytes can carry the next one's first ones: under 1.5 KB. The bound is
/// the same 32 KiB for both, which HTTP/3 stays far below.
///
/// Both hold where nothing is lost; see the module docs for loss.
fn overlap_bound() -> u64 {
    32 * 1024
}

/// Bytes of `record`'s body that had arrived before `at`. Bytes that
/// arrive in the same 1 ms tick cannot be told apart; and over TCP, bytes
/// held behind a missing segment (a queue drop) all arrive in the tick its
/// retransmission does, whatever order they were sent in. So only earlier
/// ticks count.
fn bytes_before(record: &RequestRecord, at: Duration) -> u64 {
    record
        .timeline
        .iter()
        .take_while(|(t, _)| *t < at)
        .last()
        .map_or(0, |(_, bytes)| *bytes)
}

/// The order `scheduler` sends the page's second phase in, as indices into
/// the run's requests, with a flag saying whether each runs alone (not
/// incremental).
fn expected_order(scheduler: Scheduler) -> Vec<(usize, bool)> {
    let plan = plan();
    let mut ranked: Vec<((u8, bool, usize), usize)> = plan
        .objects()
        .enumerate()
        .skip(1)
        .map(|(i, object)| {
            let priority = object.kind.priority();
            let key = match scheduler {
                Scheduler::Priorities => (priority.urgency, priority.incremental, i),
                _ => (0, false, i),
            };
            (key, i)
        })
        .collect();
    ranked.sort();
    ranked.into_iter().map(|(key, i)| (i, !key.1)).collect()
}

/// For each response that runs alone, the bytes of responses ranked after
/// it that arrived before it completed; the largest, with its path.
fn worst_overlap(record: &RunRecord, scheduler: Scheduler) -> (u64, String) {
    let order = expected_order(scheduler);
    let mut worst = (0, String::new());
    for (n, &(i, alone)) in order.iter().enumerate() {
        if !alone {
            continue;
        }
        let done = record.requests[i].last_byte.expect("it completed");
        let ahead: u64 = order[n + 1..]
            .iter()
            .map(|&(j, _)| bytes_before(&record.requests[j], done))
            .sum();
        if ahead > worst.0 {
            worst = (ahead, record.requests[i].path.clone());
        }
    }
    worst
}

/// The most responses in progress at once: at the time of some piece of
/// body, how many responses had received bytes before it and were not
/// complete until after it.
fn most_in_progress(record: &RunRecord) -> usize {
    let times = record
        .requests
        .iter()
        .flat_map(|r| r.timeline.iter().map(|p| p.0));
    times
        .map(|at| {
            record
                .requests
                .iter()
                .filter(|r| r.timeline.first().is_some_and(|p| p.0 < at))
                .filter(|r| r.last_byte.is_some_and(|done| done > at))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// When the last object of `kind` completed.
fn done(record: &RunRecord, kind: ObjectKind) -> Duration {
    plan()
        .objects()
        .zip(&record.requests)
        .filter(|(object, _)| object.kind == kind)
        .map(|(_, r)| r.last_byte.expect("it completed"))
        .max()
        .expect("the page has objects of the kind")
}

/// When the last render-blocking stylesheet completed.
fn css_done(record: &RunRecord) -> Duration {
    done(record, ObjectKind::Css)
}

#[test]
fn round_robin_interleaves_every_response() {
    for protocol in [Protocol::H2, Protocol::H3] {
        let record = page(protocol, Scheduler::RoundRobin, Path::DeepQueue);
        let most = most_in_progress(record);
        eprintln!("{protocol} round-robin: up to {most} responses in progress at once");
        assert!(most >= 20, "{protocol}: {most} responses at once");
        let (overlap, _) = worst_overlap(record, Scheduler::Sequential);
        assert!(overlap > 10 * overlap_bound(), "{protocol}: {overlap}");
    }
}

#[test]
fn sequential_sends_one_response_at_a_time_in_request_order() {
    for protocol in [Protocol::H2, Protocol::H3] {
        let record = page(protocol, Scheduler::Sequential, Path::DeepQueue);
        let (overlap, path) = worst_overlap(record, Scheduler::Sequential);
        let most = most_in_progress(record);
        eprintln!(
            "{protocol} sequential: at most {overlap} bytes of later responses before one \
             completes ({path}); up to {most} responses in progress at once"
        );
        assert!(
            overlap <= overlap_bound(),
            "{protocol}: {overlap} bytes ({path})"
        );
        assert!(
            most <= 2,
            "{protocol}: {most} responses in progress at once"
        );
    }
}

#[test]
fn priorities_send_the_urgent_responses_first() {
    for protocol in [Protocol::H2, Protocol::H3] {
        let record = page(protocol, Scheduler::Priorities, Path::DeepQueue);
        let (overlap, path) = worst_overlap(record, Scheduler::Priorities);
        eprintln!(
            "{protocol} priorities: at most {overlap} bytes of lower-ranked responses before a \
             non-incremental one completes ({path})"
        );
        assert!(
            overlap <= overlap_bound(),
            "{protocol}: {overlap} bytes ({path})"
        );
    }
}

#[test]
fn priorities_complete_the_css_sooner_than_round_robin() {
    let mut table = String::from(
        "protocol  scheduler      css done  sync js done  fonts done      plt   \
         overlap (with queue drops)\n",
    );
    for protocol in [Protocol::H2, Protocol::H3] {
        for scheduler in Scheduler::ALL {
            let record = page(protocol, scheduler, Path::Default);
            let overlap = match scheduler {
                Scheduler::RoundRobin => "-".to_owned(),
                _ => format!("{} bytes", worst_overlap(record, scheduler).0),
            };
            table += &format!(
                "{:<9} {:<13} {:>6} ms     {:>6} ms   {:>6} ms {:>6} ms   {overlap}\n",
                protocol.label(),
                scheduler.label(),
                css_done(record).as_millis(),
                done(record, ObjectKind::Js).as_millis(),
                done(record, ObjectKind::Font).as_millis(),
                record.plt.unwrap().as_millis()
            );
        }
        let rr = css_done(page(protocol, Scheduler::RoundRobin, Path::Default));
        let prio = css_done(page(protocol, Scheduler::Priorities, Path::Default));
        assert!(prio < rr, "{protocol}: css at {prio:?}, round-robin {rr:?}");
    }
    eprintln!("{table}");
}
