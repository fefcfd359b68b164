//! The "with and without the network events" section
//! (`reports::events`) on records built from the fixtures: each fixture
//! run is the run without the events, and a copy with known objects made
//! later (and one earlier) and a known page load time is the run with
//! them, so every number in the section is worked out here.

use std::time::Duration;

use records::{AxisValue, RunResult};
use reports::document::Block;
use reports::events::{section, ObjectDelays, AXIS};
use reports::tables::groups;

mod support;

use support::fixture_records;

/// The `network_events` axis value.
fn events(on: bool) -> AxisValue {
    AxisValue::NetworkEvents(if on {
        scenarios::NetworkEvents::On
    } else {
        scenarios::NetworkEvents::Off
    })
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `r` with the events: its requests 1..=later (by index) end `delay_ms`
/// ms later each plus 1 ms per index, request `later + 1` ends 5 ms
/// earlier, and its page load time grows by `plt_ms`.
fn with_events(r: &RunResult, later: usize, delay_ms: u64, plt_ms: u64) -> RunResult {
    let mut on = r.clone();
    on.axes.insert(AXIS.into(), events(true));
    on.run_key = format!("{}/{AXIS}=on", r.run_key);
    let m = on.measurements.as_mut().expect("measured");
    for (i, q) in m.requests.iter_mut().enumerate().skip(1).take(later) {
        q.last_byte = q.last_byte.map(|t| t + ms(delay_ms + i as u64));
    }
    let q = &mut m.requests[later + 1];
    q.last_byte = q.last_byte.map(|t| t - ms(5));
    m.plt = m.plt.map(|p| p + ms(plt_ms));
    on
}

fn without_events(r: &RunResult) -> RunResult {
    let mut off = r.clone();
    off.axes.insert(AXIS.into(), events(false));
    off.run_key = format!("{}/{AXIS}=off", r.run_key);
    off
}

#[test]
fn object_delays_count_later_and_earlier_objects() {
    let r = &fixture_records()[0];
    let d = ObjectDelays::between(&with_events(r, 3, 10, 0), &without_events(r)).unwrap();
    // Requests 1, 2, 3 end 11, 12 and 13 ms later; request 4 5 ms earlier.
    assert_eq!(d.later, 3);
    assert_eq!(d.earlier, 1);
    assert_eq!(d.largest_ms, 13.0);
    let same = ObjectDelays::between(&without_events(r), &without_events(r)).unwrap();
    assert_eq!(same, ObjectDelays::default());
}

#[test]
fn the_section_pairs_each_protocol_with_itself_seed_by_seed() {
    let fixtures = fixture_records();
    let mut all = Vec::new();
    for r in &fixtures {
        all.push(without_events(r));
        // Seed 1: 4 objects later (up to 24 ms), PLT +20 ms; seed 2: 2
        // objects (up to 32 ms), PLT +40 ms.
        let (later, delay, plt) = if r.seed == 1 {
            (4, 20, 20)
        } else {
            (2, 30, 40)
        };
        all.push(with_events(r, later, delay, plt));
    }
    let refs: Vec<&RunResult> = all.iter().collect();
    let blocks = section(&groups(&refs), &refs);
    let Some(Block::Table(header, rows)) = blocks.get(2) else {
        panic!("no table: {blocks:?}");
    };
    assert_eq!(header[0], "protocol");
    assert_eq!(rows.len(), 3, "one row per protocol: {rows:?}");
    for row in rows {
        // Objects later: 4 and 2, median 3; largest delays 24 and 32 ms,
        // median 28, at most 32.
        assert_eq!(row[5], "3.0", "{row:?}");
        assert_eq!(row[6], "28.0 (at most 32.0)", "{row:?}");
        // PLT: +20 and +40 ms at the two seeds.
        assert!(row[3].starts_with("median +"), "{row:?}");
        assert!(row[3].ends_with("; 2 seeds)"), "{row:?}");
    }
    let Some(Block::List(reading)) = blocks.get(3) else {
        panic!("no reading: {blocks:?}");
    };
    assert!(
        reading[0].starts_with("HTTP/1.1: with the events, a median of 3.0 objects per seed finish later than without them, the latest by a median of 28.0 ms (at most 32.0 ms over 2 seeds)"),
        "{}",
        reading[0]
    );
}

#[test]
fn no_section_without_both_values() {
    let fixtures = fixture_records();
    let only_off: Vec<RunResult> = fixtures.iter().map(without_events).collect();
    let refs: Vec<&RunResult> = only_off.iter().collect();
    assert!(section(&groups(&refs), &refs).is_empty());
    let plain: Vec<&RunResult> = fixtures.iter().collect();
    assert!(section(&groups(&plain), &plain).is_empty());
}
