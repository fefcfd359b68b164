//! The tables: runs grouped by axis point and protocol, and per group and
//! [`Metric`] the statistics of [`crate::stats`], plus `summary.csv`, the
//! same numbers in full precision.
//!
//! Only runs whose outcome is `ok` enter the statistics; failed and
//! timed-out runs are counted in every row ([`Group`]).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use clients::RunRecord;
use netsim::DropReason;
use records::{Axes, Outcome, RunResult};
use scenarios::Protocol;

use crate::stats::{self, Interval};

/// The protocol every other is compared against.
pub const BASELINE: Protocol = Protocol::H2;

/// A quantity measured once per run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// First-render proxy (`page.first_render_ns`, docs/metrics.md): the
    /// document's response has begun and every render-blocking object has
    /// arrived and been processed. From the navigation start; only runs of
    /// a page loaded as a browser does have it.
    FirstRender,
    /// DOMContentLoaded proxy (`page.dom_content_loaded_ns`): the document
    /// parsed, its parser-blocking scripts run and every `defer` script
    /// ready.
    DomContentLoaded,
    /// Onload (`page.onload_ns`): every object arrived and processed.
    Onload,
    /// Speed index (`page.speed_index_ns`): byte-weighted visual
    /// completion, ∫ (1 − shown(t)) dt over the document's and the images'
    /// bytes.
    SpeedIndex,
    /// Page load time: first connection attempt to the last verified byte.
    Plt,
    /// Time to first byte of the first request: its response head minus
    /// its start.
    Ttfb,
    /// The first connection's handshake: `handshake_done - started`
    /// (TCP and TLS, or QUIC).
    Handshake,
    /// Mean body-byte delivery time: the time, from the client's start,
    /// at which the average body byte was handed to the application,
    /// `Σ t × Δbytes / Σ Δbytes` over every request's timeline. Unlike PLT
    /// it rewards delivering early bytes early, so bytes held back behind
    /// a loss (head-of-line blocking) raise it even when the last byte
    /// arrives at the same time.
    ByteDelivery,
    /// Body bytes over page load time.
    Goodput,
    /// Retransmissions summed over the run's connections, from the
    /// client's transport statistics (the client's own packets only).
    Retransmissions,
    /// Retransmissions summed over the server's side of the run's
    /// connections (the server sends the responses, so this is where loss
    /// recovery shows).
    ServerRetransmissions,
    /// Packets the simulated network dropped for this reason, both
    /// directions (`simulation.drops`): random loss, the full queue,
    /// targeted drops, blackouts, packets over the MTU, packets with no
    /// route. Shown only when some run dropped one ([`Metric::shown`]).
    Dropped(DropReason),
    /// Head-of-line blocked time of the run (`hol_blocked_ns`,
    /// docs/metrics.md).
    HolBlocked,
    /// With a path change: the last body byte before it to the first body
    /// byte after it (`migration.interruption_ns`).
    Interruption,
    /// With a path change: body bytes the HTTP layer received more than
    /// once (`migration.bytes_fetched_twice`).
    BytesFetchedTwice,
    /// With a path change: connections opened after it
    /// (`migration.connections_after_change`).
    ConnectionsAfterChange,
}

impl Metric {
    /// Every metric, in table order: the times a person waits for first
    /// (when the runs have them), then page load time and the rest.
    pub const ALL: [Metric; 21] = [
        Metric::FirstRender,
        Metric::DomContentLoaded,
        Metric::Onload,
        Metric::SpeedIndex,
        Metric::Plt,
        Metric::Ttfb,
        Metric::Handshake,
        Metric::HolBlocked,
        Metric::ByteDelivery,
        Metric::Goodput,
        Metric::Retransmissions,
        Metric::ServerRetransmissions,
        Metric::Dropped(DropReason::Random),
        Metric::Dropped(DropReason::QueueFull),
        Metric::Dropped(DropReason::Targeted),
        Metric::Dropped(DropReason::Blackout),
        Metric::Dropped(DropReason::Oversize),
        Metric::Dropped(DropReason::NoRoute),
        Metric::Interruption,
        Metric::BytesFetchedTwice,
        Metric::ConnectionsAfterChange,
    ];

    /// The name in `summary.csv`.
    pub fn key(self) -> &'static str {
        match self {
            Metric::FirstRender => "first_render",
            Metric::DomContentLoaded => "dom_content_loaded",
            Metric::Onload => "onload",
            Metric::SpeedIndex => "speed_index",
            Metric::Plt => "plt",
            Metric::Ttfb => "ttfb",
            Metric::Handshake => "handshake",
            Metric::ByteDelivery => "byte_delivery",
            Metric::Goodput => "goodput",
            Metric::Retransmissions => "retransmissions",
            Metric::ServerRetransmissions => "server_retransmissions",
            Metric::Dropped(reason) => match reason {
                DropReason::Random => "drops_random",
                DropReason::QueueFull => "drops_queue_full",
                DropReason::Targeted => "drops_targeted",
                DropReason::Blackout => "drops_blackout",
                DropReason::Oversize => "drops_oversize",
                DropReason::NoRoute => "drops_no_route",
            },
            Metric::HolBlocked => "hol_blocked",
            Metric::Interruption => "interruption",
            Metric::BytesFetchedTwice => "bytes_fetched_twice",
            Metric::ConnectionsAfterChange => "connections_after_change",
        }
    }

    /// The heading in the report.
    pub fn title(self) -> &'static str {
        match self {
            Metric::FirstRender => "First render (proxy, from the navigation start)",
            Metric::DomContentLoaded => "DOMContentLoaded (proxy, from the navigation start)",
            Metric::Onload => "Onload (from the navigation start)",
            Metric::SpeedIndex => "Speed index (byte-weighted visual completion)",
            Metric::Plt => "Page load time",
            Metric::Ttfb => "Time to first byte (first request)",
            Metric::Handshake => "Handshake time (first connection)",
            Metric::ByteDelivery => "Mean body-byte delivery time",
            Metric::Goodput => "Goodput (body bytes / page load time)",
            Metric::Retransmissions => "Client retransmissions (all connections)",
            Metric::ServerRetransmissions => "Server retransmissions (all connections)",
            Metric::Dropped(reason) => match reason {
                DropReason::Random => "Packets dropped by random loss (both directions)",
                DropReason::QueueFull => "Packets dropped at the full queue (both directions)",
                DropReason::Targeted => "Packets dropped by targeted drops (both directions)",
                DropReason::Blackout => "Packets dropped in blackouts (both directions)",
                DropReason::Oversize => "Packets dropped as larger than the MTU (both directions)",
                DropReason::NoRoute => "Packets dropped for want of a route (both directions)",
            },
            Metric::HolBlocked => "Head-of-line blocked time",
            Metric::Interruption => "Interruption at the path change",
            Metric::BytesFetchedTwice => "Bytes fetched twice after the path change",
            Metric::ConnectionsAfterChange => "Connections opened after the path change",
        }
    }

    /// The unit of its values.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::FirstRender
            | Metric::DomContentLoaded
            | Metric::Onload
            | Metric::SpeedIndex
            | Metric::Plt
            | Metric::Ttfb
            | Metric::Handshake
            | Metric::ByteDelivery
            | Metric::Interruption
            | Metric::HolBlocked => "ms",
            Metric::BytesFetchedTwice => "bytes",
            Metric::ConnectionsAfterChange => "connections",
            Metric::Goodput => "Mbit/s",
            Metric::Retransmissions | Metric::ServerRetransmissions | Metric::Dropped(_) => {
                "packets"
            }
        }
    }

    /// Decimals shown in the report (the CSV has every digit).
    pub fn decimals(self) -> usize {
        match self {
            Metric::Goodput => 3,
            _ => 1,
        }
    }

    /// Its value for one run, if the run measured it.
    pub fn of(self, m: &RunRecord) -> Option<f64> {
        match self {
            Metric::FirstRender => m.page.as_ref().map(|p| ms(p.first_render)),
            Metric::DomContentLoaded => m.page.as_ref().map(|p| ms(p.dom_content_loaded)),
            Metric::Onload => m.page.as_ref().map(|p| ms(p.onload)),
            Metric::SpeedIndex => m.page.as_ref().map(|p| ms(p.speed_index)),
            Metric::Plt => m.plt.map(ms),
            Metric::Ttfb => {
                let first = m.requests.first()?;
                Some(ms(first.first_byte?.checked_sub(first.start)?))
            }
            Metric::Handshake => {
                let first = m.connections.first()?;
                Some(ms(first.handshake_done?.checked_sub(first.started)?))
            }
            Metric::ByteDelivery => {
                let (mut weighted, mut bytes) = (0.0, 0u64);
                for r in &m.requests {
                    let mut before = 0;
                    for &(t, total) in &r.timeline {
                        let delta = total.saturating_sub(before);
                        weighted += ns(t) * delta as f64;
                        bytes += delta;
                        before = total;
                    }
                }
                (m.plt.is_some() && bytes > 0).then(|| weighted / bytes as f64 / 1e6)
            }
            Metric::Goodput => {
                let plt = m.plt.filter(|p| !p.is_zero())?;
                Some(m.total_bytes as f64 * 8.0 * 1e3 / ns(plt))
            }
            Metric::Retransmissions => Some(
                m.connections
                    .iter()
                    .filter_map(|c| c.stats.as_ref())
                    .map(|s| s.retransmissions as f64)
                    .sum(),
            ),
            Metric::ServerRetransmissions | Metric::Dropped(_) => None,
            Metric::HolBlocked => m.hol_blocked.map(ms),
            Metric::Interruption => m.migration.as_ref()?.interruption.map(ms),
            Metric::BytesFetchedTwice => Some(m.migration.as_ref()?.bytes_fetched_twice as f64),
            Metric::ConnectionsAfterChange => {
                Some(m.migration.as_ref()?.connections_after_change as f64)
            }
        }
    }

    /// Its value for one run: [`Metric::of`] its measurements, the
    /// server's side for [`Metric::ServerRetransmissions`], and the
    /// simulation's count for [`Metric::Dropped`].
    pub fn of_run(self, r: &RunResult) -> Option<f64> {
        match self {
            Metric::Dropped(reason) => {
                r.measurements.as_ref()?;
                let drops = &r.simulation.as_ref()?.drops;
                drops.get(reason.label()).map(|&n| n as f64)
            }
            Metric::ServerRetransmissions => {
                r.measurements.as_ref()?;
                let server = r.server_connections.as_deref().unwrap_or_default();
                (!server.is_empty())
                    .then(|| server.iter().map(|c| c.stats.retransmissions as f64).sum())
            }
            _ => self.of(r.measurements.as_ref()?),
        }
    }

    /// The metrics `groups` have values for, in [`Metric::ALL`] order;
    /// page load time always (so a table counts runs that all failed).
    /// A drop reason only when some run of some group dropped a packet
    /// for it: every simulated run counts every reason, mostly 0, and a
    /// table of zeros says nothing the others do not.
    pub fn shown(groups: &[Group]) -> Vec<Metric> {
        let measured = |m: &Metric| match m {
            Metric::Plt => true,
            Metric::Dropped(_) => groups.iter().any(|g| g.values[m].iter().any(|&v| v != 0.0)),
            _ => groups.iter().any(|g| !g.values[m].is_empty()),
        };
        Metric::ALL.into_iter().filter(measured).collect()
    }
}

/// A duration in nanoseconds, as a number.
fn ns(d: Duration) -> f64 {
    d.as_nanos() as f64
}

/// A duration in milliseconds, from its nanoseconds.
fn ms(d: Duration) -> f64 {
    ns(d) / 1e6
}

/// A sweep point: axis names and values as text (`AxisValue`'s
/// `Display`), sorted by name.
pub type AxisPoint = Vec<(String, String)>;

/// A record's axis point.
pub fn axis_point(axes: &Axes) -> AxisPoint {
    axes.iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect()
}

/// Axis points in order, name by name, values in
/// [`records::AxisValue::sort_cmp`]'s order (numbers numerically, a named axis's
/// values in its own order).
fn compare_points(a: &Axes, b: &Axes) -> Ordering {
    for ((ka, va), (kb, vb)) in a.iter().zip(b) {
        let o = ka.cmp(kb).then_with(|| va.sort_cmp(vb));
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Axis points in order, name by name: numerically where both values
/// parse as numbers, else as text.
pub fn compare_axis_points(a: &AxisPoint, b: &AxisPoint) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o =
            x.0.cmp(&y.0)
                .then_with(|| match (x.1.parse::<f64>(), y.1.parse::<f64>()) {
                    (Ok(p), Ok(q)) => p.total_cmp(&q),
                    _ => x.1.cmp(&y.1),
                });
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// One protocol at one axis point: its runs, counted by outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The axis point.
    pub axes: AxisPoint,
    /// The protocol.
    pub protocol: Protocol,
    /// Runs in the group.
    pub runs: usize,
    /// Of those, runs that failed.
    pub failed: usize,
    /// Of those, runs that timed out.
    pub timed_out: usize,
    /// Per metric, the values of the `ok` runs that measured it, in
    /// record order.
    pub values: BTreeMap<Metric, Vec<f64>>,
}

/// The statistics of one metric over one group's `ok` runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Values summarized.
    pub n: usize,
    /// Median.
    pub median: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Mean.
    pub mean: f64,
    /// 95 % bootstrap interval of the mean.
    pub mean_ci: Interval,
}

impl Summary {
    /// The summary of `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<Summary> {
        Some(Summary {
            n: values.len(),
            median: stats::median(values)?,
            p10: stats::p10(values)?,
            p90: stats::p90(values)?,
            mean: stats::mean(values)?,
            mean_ci: stats::bootstrap_mean_ci(values)?,
        })
    }
}

/// The difference of a group's mean against the baseline's at the same
/// axis point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    /// In percent of the baseline's mean.
    pub percent: f64,
    /// Its 95 % bootstrap interval.
    pub ci: Interval,
}

/// One line of a table: a group and one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Row<'a> {
    /// The group.
    pub group: &'a Group,
    /// The metric.
    pub metric: Metric,
    /// Its statistics; `None` when no `ok` run measured it.
    pub summary: Option<Summary>,
    /// Against [`BASELINE`]; `None` for the baseline itself or when
    /// either side has no values.
    pub vs_baseline: Option<Difference>,
}

/// Group `records` by axis point and protocol, in order: axis points
/// (numerically), then h1, h2, h3.
pub fn groups(records: &[&RunResult]) -> Vec<Group> {
    let mut sorted: Vec<&RunResult> = records.to_vec();
    sorted.sort_by(|a, b| {
        compare_points(&a.axes, &b.axes)
            .then_with(|| a.protocol.cmp(&b.protocol))
            .then_with(|| a.seed.cmp(&b.seed))
            .then_with(|| a.run_key.cmp(&b.run_key))
    });
    let mut out: Vec<Group> = Vec::new();
    for r in sorted {
        let axes = axis_point(&r.axes);
        let fresh = out
            .last()
            .is_none_or(|g| g.axes != axes || g.protocol != r.protocol);
        if fresh {
            out.push(Group {
                axes,
                protocol: r.protocol,
                runs: 0,
                failed: 0,
                timed_out: 0,
                values: Metric::ALL.iter().map(|&m| (m, Vec::new())).collect(),
            });
        }
        let Some(g) = out.last_mut() else { continue };
        g.runs += 1;
        match r.outcome {
            Outcome::Ok => {
                for (metric, values) in g.values.iter_mut() {
                    values.extend(metric.of_run(r));
                }
            }
            Outcome::Timeout => g.timed_out += 1,
            Outcome::Failed => g.failed += 1,
        }
    }
    out
}

/// The rows of `groups`' tables for `metric`, in group order.
pub fn rows(groups: &[Group], metric: Metric) -> Vec<Row<'_>> {
    groups
        .iter()
        .map(|g| {
            let values = &g.values[&metric];
            let base = groups
                .iter()
                .find(|b| b.axes == g.axes && b.protocol == BASELINE)
                .filter(|_| g.protocol != BASELINE)
                .map(|b| &b.values[&metric]);
            let vs_baseline = base.and_then(|base| {
                Some(Difference {
                    percent: stats::difference_percent(values, base)?,
                    ci: stats::bootstrap_difference_ci(values, base)?,
                })
            });
            Row {
                group: g,
                metric,
                summary: Summary::of(values),
                vs_baseline,
            }
        })
        .collect()
}

/// The header of `summary.csv` after the axis columns.
pub const CSV_COLUMNS: [&str; 17] = [
    "protocol",
    "metric",
    "unit",
    "runs",
    "failed",
    "timed_out",
    "n",
    "median",
    "p10",
    "p90",
    "mean",
    "mean_ci_low",
    "mean_ci_high",
    "delta_vs_h2_pct",
    "delta_ci_low",
    "delta_ci_high",
    "baseline",
];

/// `summary.csv`: one column per axis name (sorted), then
/// [`CSV_COLUMNS`]; one row per group and metric, groups in order,
/// metrics in [`Metric::ALL`] order (those [`Metric::shown`] keeps). Numbers are printed in Rust's
/// shortest round-trip form, so they parse back to the same `f64`; empty
/// where there is no value.
pub fn summary_csv(groups: &[Group]) -> String {
    let mut axis_names: Vec<&str> = groups
        .iter()
        .flat_map(|g| g.axes.iter().map(|(k, _)| k.as_str()))
        .collect();
    axis_names.sort_unstable();
    axis_names.dedup();
    let mut out = String::new();
    let header: Vec<&str> = axis_names.iter().copied().chain(CSV_COLUMNS).collect();
    let _ = writeln!(out, "{}", header.join(","));
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
    let shown = Metric::shown(groups);
    let by_metric: Vec<Vec<Row<'_>>> = shown.iter().map(|&m| rows(groups, m)).collect();
    for (i, g) in groups.iter().enumerate() {
        for (metric, metric_rows) in shown.iter().zip(&by_metric) {
            let row = &metric_rows[i];
            let (s, vs) = (row.summary, row.vs_baseline);
            let mut fields: Vec<String> = axis_names
                .iter()
                .map(|name| {
                    g.axes
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| csv_field(v))
                        .unwrap_or_default()
                })
                .collect();
            fields.extend([
                csv_field(g.protocol.label()),
                metric.key().to_owned(),
                metric.unit().to_owned(),
                g.runs.to_string(),
                g.failed.to_string(),
                g.timed_out.to_string(),
                s.map_or(0, |s| s.n).to_string(),
                opt(s.map(|s| s.median)),
                opt(s.map(|s| s.p10)),
                opt(s.map(|s| s.p90)),
                opt(s.map(|s| s.mean)),
                opt(s.map(|s| s.mean_ci.low)),
                opt(s.map(|s| s.mean_ci.high)),
                opt(vs.map(|d| d.percent)),
                opt(vs.map(|d| d.ci.low)),
                opt(vs.map(|d| d.ci.high)),
                BASELINE.to_string(),
            ]);
            let _ = writeln!(out, "{}", fields.join(","));
        }
    }
    out
}

/// A CSV field, quoted as RFC 4180 says when it needs to be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group of `protocol` at no axis point, with `values` for the
    /// metrics given and none for the others.
    fn group(protocol: Protocol, values: &[(Metric, &[f64])]) -> Group {
        let runs = values.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
        Group {
            axes: Vec::new(),
            protocol,
            runs,
            failed: 0,
            timed_out: 0,
            values: Metric::ALL
                .iter()
                .map(|&m| {
                    let v = values
                        .iter()
                        .find(|(k, _)| *k == m)
                        .map(|(_, v)| v.to_vec());
                    (m, v.unwrap_or_default())
                })
                .collect(),
        }
    }

    const RANDOM: Metric = Metric::Dropped(DropReason::Random);
    const QUEUE: Metric = Metric::Dropped(DropReason::QueueFull);
    const TARGETED: Metric = Metric::Dropped(DropReason::Targeted);

    #[test]
    fn a_drop_reason_is_shown_when_some_run_of_some_group_dropped_for_it() {
        // Every simulated run counts every reason. Queue-full drops in one
        // run of one group show the reason for every group; random loss
        // and targeted drops that never happened do not show.
        let groups = [
            group(
                Protocol::H1,
                &[
                    (Metric::Plt, &[900.0, 950.0]),
                    (RANDOM, &[0.0, 0.0]),
                    (QUEUE, &[0.0, 3.0]),
                    (TARGETED, &[0.0, 0.0]),
                ],
            ),
            group(
                Protocol::H2,
                &[
                    (Metric::Plt, &[800.0, 820.0]),
                    (RANDOM, &[0.0, 0.0]),
                    (QUEUE, &[0.0, 0.0]),
                    (TARGETED, &[0.0, 0.0]),
                ],
            ),
        ];
        assert_eq!(Metric::shown(&groups), [Metric::Plt, QUEUE]);
        // With no values at all (every run failed), page load time still
        // has its table and no drop reason does.
        assert_eq!(Metric::shown(&[group(Protocol::H2, &[])]), [Metric::Plt]);
    }

    #[test]
    fn drop_metrics_are_named_after_the_record_s_reasons() {
        let drops: Vec<(&str, &str)> = Metric::ALL
            .iter()
            .filter(|m| matches!(m, Metric::Dropped(_)))
            .map(|m| (m.key(), m.unit()))
            .collect();
        assert_eq!(
            drops,
            [
                ("drops_random", "packets"),
                ("drops_queue_full", "packets"),
                ("drops_targeted", "packets"),
                ("drops_blackout", "packets"),
                ("drops_oversize", "packets"),
                ("drops_no_route", "packets"),
            ]
        );
        // One per reason the network has, in its order.
        let reasons: Vec<DropReason> = Metric::ALL
            .iter()
            .filter_map(|m| match m {
                Metric::Dropped(r) => Some(*r),
                _ => None,
            })
            .collect();
        assert_eq!(reasons, DropReason::ALL);
    }
}
