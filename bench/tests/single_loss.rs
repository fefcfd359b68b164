//! The `single-loss` scenario: one server data packet dropped in the middle
//! of the page, and nothing else lost. Run through the same code as
//! `httplab run` (`bench::runner`), one seed per protocol.
//!
//! From the recorded timelines (definitions in `docs/metrics.md`, "Streams
//! stalled around a loss"): over HTTP/2 every active stream stalls while
//! the lost packet's bytes are missing, although packets keep arriving;
//! over HTTP/3 only the stream whose bytes were lost stalls; over HTTP/1.1
//! only the stream on the connection that lost it. The same run without the
//! drop (the scenario's own twin, `network_events = off`) shows that the
//! stalls are the loss's doing, and that without a loss the head-of-line
//! blocked time is exactly zero; that twin loses no packet at all, and the
//! run with the drop exactly the one targeted.

use std::ops::Range;
use std::time::Duration;

use bench::{runner, Outcome, RunResult};
use clients::hol::stalled_streams;
use clients::{RequestRecord, RunRecord};
use netsim::PacketLog;
use netsim::TICK;
use netsim::{DropReason, Fate};
use records::AxisValue;
use scenarios::{NetworkEvents, Protocol, RunSpec, Scenario};

/// The lost packet and what the client saw around it.
struct Loss {
    /// The interval in which the lost packet's bytes were certainly missing
    /// at the client and no byte sent before it can have been delivered, on
    /// the client's clock: from the tick after the lost packet would have
    /// been handed to the client until one tick before the earliest moment
    /// a retransmission could arrive, one round-trip propagation delay
    /// later.
    window: Range<Duration>,
    /// Packets of its flow the client received during the window.
    arrived_meanwhile: usize,
}

/// The scenario's run of `protocol` with seed 1 and its network events
/// `events` (on: with the drop; off: its twin without it).
fn spec(scenario: &Scenario, protocol: Protocol, events: NetworkEvents) -> RunSpec {
    scenario
        .expand()
        .into_iter()
        .find(|r| r.protocol == protocol && r.seed == 1 && r.choices.network_events == events)
        .expect("a run of the protocol with seed 1")
}

/// The single-loss run of `protocol` (seed 1), and the same run without the
/// drop (its `network_events = off` twin).
fn runs(protocol: Protocol) -> (RunSpec, RunResult, PacketLog, RunResult, PacketLog) {
    let scenario = Scenario::builtin("single-loss").expect("a shipped scenario");
    let hash = scenario.content_hash();
    let run = |spec: &RunSpec| {
        let a = runner::run_captured(spec, &hash, netsim::CaptureConfig::default());
        assert_eq!(a.result.outcome, Outcome::Ok, "{:?}", a.result.reason);
        (a.result, a.packet_log.expect("the simulation ran"))
    };
    let spec_with_drop = spec(&scenario, protocol, NetworkEvents::On);
    let (lossy, lossy_log) = run(&spec_with_drop);
    let (clean, clean_log) = run(&spec(&scenario, protocol, NetworkEvents::Off));
    let drops = &clean.simulation.as_ref().expect("a summary").drops;
    assert!(
        drops.values().all(|&n| n == 0),
        "without the drop: {drops:?}"
    );
    (spec_with_drop, lossy, lossy_log, clean, clean_log)
}

/// The run's one lost packet: it must be the targeted drop and the only
/// packet lost.
fn the_loss(spec: &RunSpec, result: &RunResult, log: &PacketLog) -> Loss {
    let dropped: Vec<_> = log
        .records()
        .iter()
        .filter(|r| matches!(r.fate, Fate::Dropped(_)))
        .collect();
    assert_eq!(dropped.len(), 1, "exactly one packet is lost in the run");
    let lost = dropped[0];
    assert_eq!(lost.fate, Fate::Dropped(DropReason::Targeted));
    // Without jitter a link delivers in order, so the lost packet would
    // have arrived just before the next packet of its flow did, and been
    // handed to the client at that tick at the latest.
    let next_arrival = log.records()[lost.index as usize + 1..]
        .iter()
        .filter(|r| r.flow == lost.flow)
        .find_map(|r| match r.fate {
            Fate::Delivered { at } => Some(at),
            Fate::Dropped(_) => None,
        })
        .expect("packets of the flow arrive after the lost one");
    // The client's ticks fall `lag` after the network's (the sub-tick part
    // of its start offset): it was handed the packet at its nearest tick.
    let origin = result
        .simulation
        .as_ref()
        .expect("a summary")
        .client_started;
    let lag = Duration::from_nanos((origin.as_nanos() % TICK.as_nanos()) as u64);
    let tick = (next_arrival - lag + TICK / 2).as_millis();
    let handed_over = Duration::from_millis(u64::try_from(tick).expect("a short run")) + lag;
    // A retransmission needs the client's news of later packets to reach
    // the server and itself to come back: one round-trip propagation delay
    // after the loss at the earliest, give or take a tick of rounding.
    let rtt = Duration::from_nanos(spec.network.path.rtt_ns());
    let sim_window = handed_over + TICK..handed_over + rtt - TICK;
    let arrived_meanwhile = log
        .records()
        .iter()
        .filter(|r| r.flow == lost.flow)
        .filter(|r| matches!(r.fate, Fate::Delivered { at } if sim_window.contains(&at)))
        .count();
    Loss {
        window: sim_window.start - origin..sim_window.end - origin,
        arrived_meanwhile,
    }
}

fn measurements(result: &RunResult) -> &RunRecord {
    result.measurements.as_ref().expect("the client's record")
}

/// The streams that stalled throughout `window`, as (connection, stream
/// id).
fn stalled(record: &RunRecord, window: &Range<Duration>) -> Vec<(u32, u64)> {
    record
        .connections
        .iter()
        .flat_map(|c| {
            stalled_streams(&record.requests, c.id, window.clone())
                .into_iter()
                .map(move |i| (c.id, record.requests[i].stream_id.expect("sent")))
        })
        .collect()
}

/// Body bytes the run's requests received during `window`, and the ids of
/// the streams that received any.
fn delivered_during(record: &RunRecord, window: &Range<Duration>) -> (u64, Vec<u64>) {
    let mut total = 0;
    let mut streams = Vec::new();
    for r in &record.requests {
        let at = |t: Duration| {
            r.timeline
                .iter()
                .take_while(|p| p.0 < t)
                .last()
                .map_or(0, |p| p.1)
        };
        let bytes = at(window.end) - at(window.start);
        if bytes > 0 {
            total += bytes;
            streams.extend(r.stream_id);
        }
    }
    (total, streams)
}

/// The ids of the streams active throughout `window`: response head before
/// it began, body incomplete when it ended (`docs/metrics.md`).
fn active_during(record: &RunRecord, window: &Range<Duration>) -> Vec<u64> {
    record
        .requests
        .iter()
        .filter(|r| r.first_byte.is_some_and(|t| t < window.start))
        .filter(|r| r.last_byte.is_none_or(|t| t >= window.end))
        .filter_map(|r| r.stream_id)
        .collect()
}

/// The ids of the streams whose last body byte arrived during `window`.
fn finished_during(record: &RunRecord, window: &Range<Duration>) -> Vec<u64> {
    record
        .requests
        .iter()
        .filter(|r| r.last_byte.is_some_and(|t| window.contains(&t)))
        .filter_map(|r| r.stream_id)
        .collect()
}

/// The first time at or after `from` that the request's body grew, and by
/// how many bytes in all at that instant.
fn next_delivery(request: &RequestRecord, from: Duration) -> Option<(Duration, u64)> {
    let before = |t: Duration| {
        request
            .timeline
            .iter()
            .take_while(|p| p.0 < t)
            .last()
            .map_or(0, |p| p.1)
    };
    let at = request
        .timeline
        .iter()
        .find(|p| p.0 >= from && p.1 > before(from))?
        .0;
    let through = request
        .timeline
        .iter()
        .take_while(|p| p.0 <= at)
        .last()
        .map_or(0, |p| p.1);
    Some((at, through - before(at)))
}

#[test]
fn http2_every_active_stream_stalls_behind_one_lost_packet() {
    let (spec, lossy, log, clean, clean_log) = runs(Protocol::H2);
    let loss = the_loss(&spec, &lossy, &log);
    let (lossy, clean) = (measurements(&lossy), measurements(&clean));
    let stalled_ids = stalled(lossy, &loss.window);
    eprintln!(
        "h2: loss window {:?}, {} packets arrived in it, stalled streams {stalled_ids:?}, \
         HOL-blocked {:?}",
        loss.window, loss.arrived_meanwhile, lossy.hol_blocked
    );
    // Packets kept arriving, but no byte of any stream reached the
    // application: every active stream stalled.
    assert!(loss.arrived_meanwhile >= 10, "data kept arriving");
    assert_eq!(delivered_during(lossy, &loss.window), (0, vec![]));
    assert!(stalled_ids.len() >= 2, "stalled: {stalled_ids:?}");
    // Without the drop, several of those streams progressed in the same
    // window.
    assert_eq!(clean_log.summary().down.dropped_total(), 0);
    let (_, progressed) = delivered_during(clean, &loss.window);
    let held_up = progressed
        .iter()
        .filter(|&&id| stalled_ids.contains(&(0, id)))
        .count();
    assert!(held_up >= 2, "without the loss, {progressed:?} progressed");
    // The metric sees it: HOL-blocked for at least the window; none
    // without the loss.
    let hol = lossy.hol_blocked.expect("measured on the Linux-like TCP");
    assert!(hol >= loss.window.end - loss.window.start, "{hol:?}");
    assert_eq!(clean.hol_blocked, Some(Duration::ZERO));
}

#[test]
fn http3_only_the_stream_that_lost_data_stalls() {
    let (spec, lossy, log, clean, clean_log) = runs(Protocol::H3);
    let loss = the_loss(&spec, &lossy, &log);
    let (lossy, clean) = (measurements(&lossy), measurements(&clean));
    let stalled_ids = stalled(lossy, &loss.window);
    let (bytes, progressed) = delivered_during(lossy, &loss.window);
    let finished = finished_during(lossy, &loss.window);
    eprintln!(
        "h3: loss window {:?}, {} packets arrived in it, stalled streams {stalled_ids:?}, \
         {bytes} bytes of {} other streams delivered meanwhile, {} of them finished",
        loss.window,
        loss.arrived_meanwhile,
        progressed.len(),
        finished.len()
    );
    assert!(loss.arrived_meanwhile >= 10, "data kept arriving");
    let [(0, lost)] = stalled_ids[..] else {
        panic!("one stream stalled, got {stalled_ids:?}");
    };
    // Of the streams active throughout the window, the one that lost data
    // stalled and every other one delivered ...
    let active = active_during(lossy, &loss.window);
    assert!(active.len() >= 2, "active: {active:?}");
    for id in active.iter().filter(|&&id| id != lost) {
        assert!(
            progressed.contains(id),
            "stream {id} was active but stalled"
        );
    }
    // ... other streams kept delivering what arrived, and some completed
    // their whole response before the lost bytes could even come back:
    // nothing waited for the repair but the stream that needed it.
    assert!(progressed.len() >= 2 && bytes >= 10 * 1000);
    assert!(finished.len() >= 2, "finished meanwhile: {finished:?}");
    // The repair came within a round trip of the earliest it could, and
    // the stream's bytes that had arrived behind the hole (QUIC held them
    // for that stream alone) were then handed over together.
    let request = lossy
        .requests
        .iter()
        .find(|r| r.stream_id == Some(lost))
        .expect("the stalled stream's request");
    let rtt = Duration::from_nanos(spec.network.path.rtt_ns());
    let (resumed, caught_up) = next_delivery(request, loss.window.start).expect("it resumed");
    assert!(
        resumed >= loss.window.end && resumed < loss.window.end + rtt,
        "stream {lost} resumed at {resumed:?}"
    );
    assert!(caught_up > 2 * 1400, "{caught_up} bytes at {resumed:?}");
    assert!(request.verified && request.bytes == request.size_expected);
    // Without the drop, the same stream progressed in the same window.
    assert_eq!(clean_log.summary().down.dropped_total(), 0);
    assert_eq!(stalled(clean, &loss.window), vec![]);
    assert!(delivered_during(clean, &loss.window).1.contains(&lost));
}

#[test]
fn http1_the_stream_on_the_hit_connection_stalls_alone_and_no_hol() {
    let (spec, lossy, log, clean, clean_log) = runs(Protocol::H1);
    let loss = the_loss(&spec, &lossy, &log);
    let (lossy, clean) = (measurements(&lossy), measurements(&clean));
    let stalled_ids = stalled(lossy, &loss.window);
    eprintln!(
        "h1: loss window {:?}, {} packets of the hit connection arrived in it, \
         stalled (connection, stream) {stalled_ids:?}",
        loss.window, loss.arrived_meanwhile
    );
    // The stream on the connection that lost the packet waited for its own
    // bytes; the other connections carried on. That is not head-of-line
    // blocking: one connection carries one stream at a time. (One of six
    // connections gets a sixth of the link: fewer packets in the window.)
    assert!(loss.arrived_meanwhile >= 3, "data kept arriving");
    assert_eq!(stalled_ids.len(), 1, "stalled: {stalled_ids:?}");
    assert!(delivered_during(lossy, &loss.window).0 > 0);
    assert!(lossy.connections.len() > 1);
    for c in &lossy.connections {
        assert_eq!(c.hol_blocked, Some(Duration::ZERO), "connection {}", c.id);
    }
    assert_eq!(lossy.hol_blocked, Some(Duration::ZERO));
    assert_eq!(clean_log.summary().down.dropped_total(), 0);
    assert_eq!(clean.hol_blocked, Some(Duration::ZERO));
}

#[test]
fn without_its_events_http2_loses_no_packet_and_with_them_exactly_the_targeted_one() {
    let scenario = Scenario::builtin("single-loss").expect("a shipped scenario");
    let hash = scenario.content_hash();
    for events in NetworkEvents::ALL {
        let result = runner::run(&spec(&scenario, Protocol::H2, events), &hash);
        assert_eq!(result.outcome, Outcome::Ok, "{:?}", result.reason);
        // The record says which twin it is, in its key and its axes.
        assert_eq!(result.run_key, format!("h2/seed=1/network_events={events}"));
        assert_eq!(
            result.axes.get("network_events"),
            Some(&AxisValue::NetworkEvents(events))
        );
        let drops = &result.simulation.as_ref().expect("a summary").drops;
        eprintln!("h2 seed 1, network_events = {events}: drops {drops:?}");
        match events {
            NetworkEvents::On => {
                assert_eq!(drops.get("targeted"), Some(&1), "{drops:?}");
                assert_eq!(drops.values().sum::<u64>(), 1, "{drops:?}");
                assert_eq!(result.network.drops.len(), 1);
            }
            NetworkEvents::Off => {
                assert!(drops.values().all(|&n| n == 0), "{drops:?}");
                assert!(result.network.drops.is_empty());
            }
        }
    }
}
