//! With and without the network events, when the results sweep
//! `network_events` over `on` and `off` (the `single-loss` scenario's
//! no-drop baseline): per protocol, what the scenario's drops and
//! blackouts change, paired by seed ([`stats::paired_difference`]), and
//! which objects they make finish later.
//!
//! Object by object: for each seed run both ways, each object's last-byte
//! time with the events minus without them (objects matched by path). An
//! object *finishes later* when that is at least [`LATER`]. The section
//! gives, per protocol, the median over seeds of how many objects finish
//! later and of the largest delay, and the largest delay in any seed.

use std::collections::BTreeMap;
use std::time::Duration;

use records::RunResult;
use scenarios::Protocol;

use crate::document::Block;
use crate::stats::{self, PairedDifference};
use crate::tables::{axis_point, paired_text, AxisPoint, Group, Metric};

/// The sweep axis the section reads.
pub const AXIS: &str = "network_events";
/// The least delay at which an object counts as finishing later: one
/// simulated tick.
pub const LATER: Duration = Duration::from_millis(1);

/// What the events did to one protocol's objects in one seed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ObjectDelays {
    /// Objects that finished at least [`LATER`] later with the events.
    pub later: usize,
    /// Objects that finished at least [`LATER`] earlier with them.
    pub earlier: usize,
    /// The largest delay, in ms (0 when none finished later).
    pub largest_ms: f64,
}

impl ObjectDelays {
    /// Object by object, `with` (events on) against `without` (off), the
    /// same seed: objects matched by path (the first request for a path),
    /// only objects whose last byte arrived in both.
    pub fn between(with: &RunResult, without: &RunResult) -> Option<ObjectDelays> {
        let done = |r: &RunResult| -> Option<BTreeMap<String, Duration>> {
            let mut by_path = BTreeMap::new();
            for q in &r.measurements.as_ref()?.requests {
                if let Some(t) = q.last_byte {
                    by_path.entry(q.path.clone()).or_insert(t);
                }
            }
            Some(by_path)
        };
        let (on, off) = (done(with)?, done(without)?);
        let mut d = ObjectDelays::default();
        for (path, &t_on) in &on {
            let Some(&t_off) = off.get(path) else {
                continue;
            };
            if t_on >= t_off + LATER {
                d.later += 1;
                d.largest_ms = d.largest_ms.max((t_on - t_off).as_secs_f64() * 1e3);
            } else if t_off >= t_on + LATER {
                d.earlier += 1;
            }
        }
        Some(d)
    }
}

/// The axis point without [`AXIS`], and [`AXIS`]'s value.
fn split(point: &AxisPoint) -> (AxisPoint, Option<&str>) {
    let rest = point.iter().filter(|(k, _)| k != AXIS).cloned().collect();
    let value = point
        .iter()
        .find(|(k, _)| k == AXIS)
        .map(|(_, v)| v.as_str());
    (rest, value)
}

/// The section, or nothing if the groups do not sweep [`AXIS`] over both
/// values.
pub fn section(groups: &[Group], records: &[&RunResult]) -> Vec<Block> {
    // (other axes, protocol) → (on, off).
    let mut pairs: Vec<(AxisPoint, Protocol, &Group, &Group)> = Vec::new();
    for on in groups {
        let (rest, value) = split(&on.axes);
        if value != Some("on") {
            continue;
        }
        let off = groups.iter().find(|g| {
            g.protocol == on.protocol && {
                let (r, v) = split(&g.axes);
                v == Some("off") && r == rest
            }
        });
        if let Some(off) = off {
            pairs.push((rest, on.protocol, on, off));
        }
    }
    if pairs.is_empty() {
        return Vec::new();
    }
    let several_points = pairs.iter().any(|p| p.0 != pairs[0].0);
    let mut rows = Vec::new();
    let mut reading = Vec::new();
    for (rest, protocol, on, off) in &pairs {
        let paired = |m: Metric| -> Option<PairedDifference> {
            stats::paired_difference(&on.by_seed(m), &off.by_seed(m))
        };
        let median = |g: &Group| stats::median(&g.values[&Metric::Plt]);
        let run = |seed: u64, value: &str| {
            records.iter().copied().find(|r| {
                r.protocol == *protocol
                    && r.seed == seed
                    && split(&axis_point(&r.axes)) == (rest.clone(), Some(value))
            })
        };
        let seeds: Vec<u64> = on.seeds[&Metric::Plt].clone();
        let delays: Vec<ObjectDelays> = seeds
            .iter()
            .filter_map(|&s| ObjectDelays::between(run(s, "on")?, run(s, "off")?))
            .collect();
        let later: Vec<f64> = delays.iter().map(|d| d.later as f64).collect();
        let largest: Vec<f64> = delays.iter().map(|d| d.largest_ms).collect();
        let worst = largest.iter().copied().fold(0.0, f64::max);
        let opt = |v: Option<f64>, decimals: usize| {
            v.map_or_else(|| "—".to_owned(), |v| format!("{v:.decimals$}"))
        };
        let mut row = vec![protocol.to_string()];
        if several_points {
            row.insert(
                0,
                rest.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        row.extend([
            opt(median(off), 1),
            opt(median(on), 1),
            paired(Metric::Plt).map_or("—".into(), |d| paired_text(&d, "ms")),
            paired(Metric::ByteDelivery).map_or("—".into(), |d| paired_text(&d, "ms")),
            opt(stats::median(&later), 1),
            format!("{} (at most {worst:.1})", opt(stats::median(&largest), 1)),
        ]);
        rows.push(row);
        if !several_points {
            if let (Some(n), Some(m)) = (stats::median(&later), stats::median(&largest)) {
                reading.push(format!(
                    "{}: with the events, a median of {n:.1} objects per seed finish later than without them, the latest by a median of {m:.1} ms (at most {worst:.1} ms over {} seeds); {}",
                    protocol.name(),
                    delays.len(),
                    match paired(Metric::Plt) {
                        Some(d) if d.constant() && d.mean == 0.0 => {
                            "the page load time is the same at every seed".to_owned()
                        }
                        Some(d) => format!("the page load time changes by {}", crate::tables::change_text(&d, "ms")),
                        None => "the page load time cannot be compared".to_owned(),
                    }
                ));
            }
        }
    }
    let mut header: Vec<String> = vec!["protocol".into()];
    if several_points {
        header.insert(0, "point".into());
    }
    header.extend([
        "PLT without events (ms, median)".into(),
        "PLT with events (ms, median)".into(),
        "PLT, with − without, paired by seed".into(),
        "byte delivery, with − without, paired by seed".into(),
        "objects finishing later (median over seeds)".into(),
        "largest delay of an object (ms, median over seeds)".into(),
    ]);
    let mut blocks = vec![
        Block::Heading(2, "With and without the network events".into()),
        Block::Paragraph(format!(
            "The same runs with the scenario's network events (its targeted drops and blackouts; {AXIS} = on) and without them (off). Paired by seed: each seed runs both ways, and each seed's difference (with − without) is what the events changed in that run; the cells give the median of those differences, their mean and the 95 % bootstrap interval of the mean. An object finishes later when its last byte arrives at least {} ms later with the events than without them.",
            LATER.as_millis(),
        )),
        Block::Table(header, rows),
    ];
    if !reading.is_empty() {
        blocks.push(Block::List(reading));
    }
    blocks
}
