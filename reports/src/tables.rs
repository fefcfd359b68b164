//! The tables: runs grouped by axis point and protocol, and per group and
//! [`Metric`] the statistics of [`crate::stats`], plus `stats.csv`, the
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

use crate::stats::{self, Interval, PairedDifference};

/// The protocol every other is compared against.
pub const BASELINE: Protocol = Protocol::H2;

/// The smallest baseline mean, in ms, against which a difference is given
/// in percent ([`Metric::min_baseline`]); below it the difference of the
/// means is given in ms. Ten ticks of the simulation's 1 ms clock: every
/// time is a whole number of ms, so above it rounding alone moves a
/// percent by at most 5 % (half a tick in ten).
pub const MIN_BASELINE_MS: f64 = 10.0;
/// The same for packets (retransmissions, drops): ten packets, so that
/// one packet more or less moves the percent by at most 10 %. (HTTP/2's
/// client retransmits almost nothing, and a percent of it was
/// "+6500 %".)
pub const MIN_BASELINE_PACKETS: f64 = 10.0;
/// The same for bytes (bytes fetched twice): ten full-size packets of the
/// default MTU, 1500 bytes.
pub const MIN_BASELINE_BYTES: f64 = 15_000.0;
/// The same for connections (opened after a path change): ten, as for
/// packets; a page opens one to six.
pub const MIN_BASELINE_CONNECTIONS: f64 = 10.0;
/// The same for goodput: 0.1 Mbit/s, a hundredth of the default
/// bottleneck; no completed run of the lab's scenarios comes near it, so
/// goodput's differences are in percent.
pub const MIN_BASELINE_MBIT_S: f64 = 0.1;
/// The smallest baseline mean of a byte·time metric (the head-of-line
/// cost) given in percent: [`MIN_BASELINE_BYTES`] waiting one tick (1 ms).
pub const MIN_BASELINE_BYTE_S: f64 = 15.0;

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
    /// Head-of-line cost of the run (`hol_cost.excess_byte_us`,
    /// docs/metrics.md): bytes × the delay that holes in other streams'
    /// data added, in byte·s. Not recorded for HTTP/3.
    HolExcess,
    /// The own-stream waits of the run (`hol_cost.own_wait_byte_us`): bytes
    /// × the delay that holes in their own stream's data added, in byte·s.
    HolOwnWait,
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
    pub const ALL: [Metric; 23] = [
        Metric::FirstRender,
        Metric::DomContentLoaded,
        Metric::Onload,
        Metric::SpeedIndex,
        Metric::Plt,
        Metric::Ttfb,
        Metric::Handshake,
        Metric::HolBlocked,
        Metric::HolExcess,
        Metric::HolOwnWait,
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

    /// The name in `stats.csv`.
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
            Metric::HolExcess => "hol_excess",
            Metric::HolOwnWait => "hol_own_wait",
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
            Metric::HolExcess => {
                "Head-of-line cost (bytes × the wait for other streams' holes; not recorded for HTTP/3)"
            }
            Metric::HolOwnWait => {
                "Own-stream wait (bytes × the wait for their own stream's holes; not recorded for HTTP/3)"
            }
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
            Metric::HolExcess | Metric::HolOwnWait => "byte·s",
            Metric::ConnectionsAfterChange => "connections",
            Metric::Goodput => "Mbit/s",
            Metric::Retransmissions | Metric::ServerRetransmissions | Metric::Dropped(_) => {
                "packets"
            }
        }
    }

    /// The smallest baseline mean against which a difference of this
    /// metric is given in percent: [`MIN_BASELINE_MS`],
    /// [`MIN_BASELINE_PACKETS`], [`MIN_BASELINE_BYTES`],
    /// [`MIN_BASELINE_CONNECTIONS`] or [`MIN_BASELINE_MBIT_S`], by its
    /// unit. Below it a percent is mostly the baseline's smallness, so
    /// the difference is given in the metric's unit ([`Difference`]).
    pub fn min_baseline(self) -> f64 {
        match self.unit() {
            "ms" => MIN_BASELINE_MS,
            "packets" => MIN_BASELINE_PACKETS,
            "bytes" => MIN_BASELINE_BYTES,
            "connections" => MIN_BASELINE_CONNECTIONS,
            "byte·s" => MIN_BASELINE_BYTE_S,
            _ => MIN_BASELINE_MBIT_S,
        }
    }

    /// Why this metric is 0 for `protocol` by construction, if it is: then
    /// a difference against the baseline only restates the baseline's
    /// value. Head-of-line blocked time, for HTTP/3 (QUIC orders bytes
    /// per stream) and HTTP/1.1 (a connection carries one response at a
    /// time; docs/metrics.md).
    pub fn zero_by_construction(self, protocol: Protocol) -> Option<&'static str> {
        match (self, protocol) {
            (Metric::HolBlocked, Protocol::H3) => Some(
                "QUIC orders bytes per stream, so no stream's data waits for another stream's",
            ),
            (Metric::HolBlocked | Metric::HolExcess, Protocol::H1) => Some(
                "an HTTP/1.1 connection carries one response at a time, so no stream's data waits for another stream's",
            ),
            _ => None,
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
                // A first request a path change cut off before its head
                // arrived has its head in a resumption (as `m.ttfb`).
                let head = first
                    .first_byte
                    .or_else(|| first.resumptions.iter().find_map(|a| a.first_byte))?;
                Some(ms(head.checked_sub(first.start)?))
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
            Metric::HolExcess => m.hol_cost.map(|c| c.excess_byte_seconds()),
            Metric::HolOwnWait => m.hol_cost.map(|c| c.own_wait_byte_us as f64 / 1e6),
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

/// One run's value of every metric it measured ([`Metric::of_run`]),
/// computed from its full record, so that a report can let go of the
/// series some values come from (a request's timeline, for
/// [`Metric::ByteDelivery`]) and still have them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Values(BTreeMap<Metric, f64>);

impl Values {
    /// Every metric of `r` that it measured.
    pub fn of(r: &RunResult) -> Values {
        Values(
            Metric::ALL
                .iter()
                .filter_map(|&m| Some((m, m.of_run(r)?)))
                .collect(),
        )
    }

    /// `metric`'s value, if the run measured it.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        self.0.get(&metric).copied()
    }
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
    /// Per metric, the seed of each of `values`' runs (`seeds[m][i]` is
    /// the seed of `values[m][i]`), for comparisons paired by seed.
    pub seeds: BTreeMap<Metric, Vec<u64>>,
}

impl Group {
    /// `metric`'s values with their runs' seeds, as
    /// [`stats::paired_difference`] takes them.
    pub fn by_seed(&self, metric: Metric) -> Vec<(u64, f64)> {
        self.seeds[&metric]
            .iter()
            .copied()
            .zip(self.values[&metric].iter().copied())
            .collect()
    }
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

/// A statistic with its 95 % bootstrap interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The statistic.
    pub value: f64,
    /// Its interval.
    pub ci: Interval,
}

/// The difference of a group's mean against the baseline's at the same
/// axis point, in the form that means something for it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Difference {
    /// The baseline's mean is at least [`Metric::min_baseline`]: the
    /// difference in percent of it ([`stats::difference_percent`]), and
    /// in the metric's unit ([`stats::difference_of_means`]).
    Percent {
        /// In percent of the baseline's mean.
        percent: Estimate,
        /// In the metric's unit.
        absolute: Estimate,
    },
    /// The baseline's mean is below [`Metric::min_baseline`] (or every
    /// bootstrap replicate of it is 0): the difference in the metric's
    /// unit only.
    Absolute(Estimate),
    /// The metric is 0 by construction for this group's protocol (and
    /// every value is 0): the reason ([`Metric::zero_by_construction`]),
    /// and no difference.
    ZeroByConstruction(&'static str),
}

impl Difference {
    /// Compare `values` of `protocol` with `base`, the baseline's values
    /// of `metric` at the same point; `None` when either is empty.
    pub fn of(metric: Metric, protocol: Protocol, values: &[f64], base: &[f64]) -> Option<Self> {
        if values.is_empty() || base.is_empty() {
            return None;
        }
        if let Some(why) = metric.zero_by_construction(protocol) {
            if values.iter().all(|&v| v == 0.0) {
                return Some(Difference::ZeroByConstruction(why));
            }
        }
        let absolute = Estimate {
            value: stats::difference_of_means(values, base)?,
            ci: stats::bootstrap_difference_of_means_ci(values, base)?,
        };
        if stats::mean(base)? < metric.min_baseline() {
            return Some(Difference::Absolute(absolute));
        }
        let percent = stats::difference_percent(values, base)
            .zip(stats::bootstrap_difference_ci(values, base))
            .map(|(value, ci)| Estimate { value, ci });
        Some(match percent {
            Some(percent) => Difference::Percent { percent, absolute },
            None => Difference::Absolute(absolute),
        })
    }

    /// In percent, when that is the form.
    pub fn percent(&self) -> Option<Estimate> {
        match *self {
            Difference::Percent { percent, .. } => Some(percent),
            _ => None,
        }
    }

    /// In the metric's unit, unless the metric is 0 by construction.
    pub fn absolute(&self) -> Option<Estimate> {
        match *self {
            Difference::Percent { absolute, .. } | Difference::Absolute(absolute) => Some(absolute),
            Difference::ZeroByConstruction(_) => None,
        }
    }

    /// Why there is no percent, as `stats.csv`'s `delta_pct_omitted`
    /// says it: `baseline_near_zero`, `zero_by_construction`, or `None`.
    pub fn percent_omitted(&self) -> Option<&'static str> {
        match self {
            Difference::Percent { .. } => None,
            Difference::Absolute(_) => Some("baseline_near_zero"),
            Difference::ZeroByConstruction(_) => Some("zero_by_construction"),
        }
    }
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
    let values: Vec<Values> = records.iter().map(|r| Values::of(r)).collect();
    groups_with(records, &values.iter().collect::<Vec<_>>())
}

/// As [`groups`], with each record's metric values computed already
/// (`values[i]` those of `records[i]`), so that the records need not
/// hold the series some values are computed from.
pub fn groups_with(records: &[&RunResult], values: &[&Values]) -> Vec<Group> {
    let mut sorted: Vec<(&RunResult, &Values)> = records
        .iter()
        .copied()
        .zip(values.iter().copied())
        .collect();
    sorted.sort_by(|(a, _), (b, _)| {
        compare_points(&a.axes, &b.axes)
            .then_with(|| a.protocol.cmp(&b.protocol))
            .then_with(|| a.seed.cmp(&b.seed))
            .then_with(|| a.run_key.cmp(&b.run_key))
    });
    let mut out: Vec<Group> = Vec::new();
    for (r, run_values) in sorted {
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
                seeds: Metric::ALL.iter().map(|&m| (m, Vec::new())).collect(),
            });
        }
        let Some(g) = out.last_mut() else { continue };
        g.runs += 1;
        match r.outcome {
            Outcome::Ok => {
                for (metric, values) in g.values.iter_mut() {
                    if let Some(v) = run_values.get(*metric) {
                        values.push(v);
                        g.seeds.entry(*metric).or_default().push(r.seed);
                    }
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
            let vs_baseline =
                base.and_then(|base| Difference::of(metric, g.protocol, values, base));
            Row {
                group: g,
                metric,
                summary: Summary::of(values),
                vs_baseline,
            }
        })
        .collect()
}

/// What a comparison paired by seed is, and why protocols are not paired,
/// for the report's text.
pub const PAIRING: &str = "Paired by seed: a seed gives both points of the axis the same sequence of random loss draws, packet by packet (until their packets differ), so each seed's difference (bundled − multiplexed) removes the variation the two share; the cells give the median of those differences, their mean and the 95 % bootstrap interval of the mean. Protocols are compared unpaired (elsewhere in the report): different protocols send different packets, so the same seed does not drop the same data and there is nothing to pair.";

/// A paired difference as a table cell: the median of the per-seed
/// relative differences, then their mean and its interval, and the seed
/// count; in `unit` (absolute differences) where a baseline value is 0.
/// When every seed differs by the same amount it says so instead of
/// printing an interval that is a point.
pub fn paired_text(d: &PairedDifference, unit: &str) -> String {
    let seeds = if d.n == 1 {
        "1 seed".to_owned()
    } else {
        format!("{} seeds", d.n)
    };
    if d.constant() {
        return match d.mean_percent {
            Some(p) => format!("{p:+.1} % at every seed (no variation across {seeds})"),
            None => format!(
                "{:+.1} {unit} at every seed (no variation across {seeds})",
                d.mean
            ),
        };
    }
    match (d.median_percent, d.mean_percent, d.mean_percent_ci) {
        (Some(median), Some(mean), Some(ci)) => format!(
            "median {median:+.1} % (mean {mean:+.1} %, 95 % CI {:+.1} to {:+.1} %; {seeds})",
            ci.low, ci.high
        ),
        _ => format!(
            "median {:+.1} {unit} (mean {:+.1} {unit}, 95 % CI {:+.1} to {:+.1} {unit}; {seeds})",
            d.median, d.mean, d.mean_ci.low, d.mean_ci.high
        ),
    }
}

/// A paired difference in a sentence: "a median of +0.3 % (mean +0.8 %,
/// 95 % CI +0.1 to +1.7 %, paired by seed over 20 seeds)".
pub fn change_text(d: &PairedDifference, unit: &str) -> String {
    if d.constant() {
        return match d.mean_percent {
            Some(p) => format!("{p:+.1} % at every one of {} seeds", d.n),
            None => format!("{:+.1} {unit} at every one of {} seeds", d.mean, d.n),
        };
    }
    match (d.median_percent, d.mean_percent, d.mean_percent_ci) {
        (Some(median), Some(mean), Some(ci)) => format!(
            "a median of {median:+.1} % (mean {mean:+.1} %, 95 % CI {:+.1} to {:+.1} %, paired by seed over {} seeds)",
            ci.low, ci.high, d.n
        ),
        _ => format!(
            "a median of {:+.1} {unit} (mean {:+.1} {unit}, 95 % CI {:+.1} to {:+.1} {unit}, paired by seed over {} seeds)",
            d.median, d.mean, d.mean_ci.low, d.mean_ci.high, d.n
        ),
    }
}

/// The header of `stats.csv` after the axis columns. The `delta_*`
/// columns are [`Row::vs_baseline`]: `delta_vs_h2_pct` and its interval
/// only where a percent means something ([`Difference::Percent`]),
/// `delta_vs_h2_abs` (mean − HTTP/2's mean, in `unit`) and its interval
/// unless the metric is 0 by construction, and `delta_pct_omitted` says
/// why the percent is empty (`baseline_near_zero`,
/// `zero_by_construction`; empty for the baseline's rows and where there
/// is a percent).
pub const CSV_COLUMNS: [&str; 21] = [
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
    "delta_vs_h2_abs",
    "delta_abs_ci_low",
    "delta_abs_ci_high",
    "delta_pct_omitted",
];

/// `stats.csv`: one column per axis name (sorted), then
/// [`CSV_COLUMNS`]; one row per group and metric, groups in order,
/// metrics in [`Metric::ALL`] order (those [`Metric::shown`] keeps). Numbers are printed in Rust's
/// shortest round-trip form, so they parse back to the same `f64`; empty
/// where there is no value.
pub fn stats_csv(groups: &[Group]) -> String {
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
            let pct = vs.and_then(|d| d.percent());
            let abs = vs.and_then(|d| d.absolute());
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
                opt(pct.map(|d| d.value)),
                opt(pct.map(|d| d.ci.low)),
                opt(pct.map(|d| d.ci.high)),
                BASELINE.to_string(),
                opt(abs.map(|d| d.value)),
                opt(abs.map(|d| d.ci.low)),
                opt(abs.map(|d| d.ci.high)),
                vs.and_then(|d| d.percent_omitted())
                    .unwrap_or_default()
                    .to_owned(),
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
            seeds: Metric::ALL
                .iter()
                .map(|&m| {
                    let n = values
                        .iter()
                        .find(|(k, _)| *k == m)
                        .map_or(0, |(_, v)| v.len());
                    (m, (1..=n as u64).collect())
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

    /// `value [low, high]` as an [`Estimate`].
    fn estimate(value: f64, low: f64, high: f64) -> Estimate {
        Estimate {
            value,
            ci: Interval { low, high },
        }
    }

    #[test]
    fn a_difference_is_in_percent_only_against_a_baseline_far_enough_from_0() {
        let of = |metric, protocol, x: &[f64], base: &[f64]| {
            Difference::of(metric, protocol, x, base).unwrap()
        };
        // PLT, HTTP/2 1000 ms in each run, HTTP/3 1100: +10 % and +100 ms,
        // every bootstrap replicate alike.
        assert_eq!(
            of(Metric::Plt, Protocol::H3, &[1100.0, 1100.0], &[1000.0; 3]),
            Difference::Percent {
                percent: estimate(10.0, 10.0, 10.0),
                absolute: estimate(100.0, 100.0, 100.0),
            }
        );
        // Client retransmissions, HTTP/2 0 and 0, HTTP/3 13 and 14: no
        // percent of 0; the difference of the means is 13.5 packets, and
        // its replicates are HTTP/3's resampled means, 13, 13.5 or 14
        // (1/4, 1/2, 1/4 of 2000 each), so the interval is [13, 14].
        let d = of(
            Metric::Retransmissions,
            Protocol::H3,
            &[13.0, 14.0],
            &[0.0, 0.0],
        );
        assert_eq!(d, Difference::Absolute(estimate(13.5, 13.0, 14.0)));
        assert_eq!(
            (d.percent(), d.percent_omitted()),
            (None, Some("baseline_near_zero"))
        );
        // The threshold is the baseline's mean: 9.5 packets is below 10
        // (MIN_BASELINE_PACKETS), 10 is not: (12 - 10) / 10 = +20 %.
        assert!(matches!(
            of(Metric::Retransmissions, Protocol::H1, &[12.0], &[9.0, 10.0]),
            Difference::Absolute(a) if a.value == 2.5
        ));
        assert_eq!(
            of(Metric::Retransmissions, Protocol::H1, &[12.0], &[10.0]).percent(),
            Some(estimate(20.0, 20.0, 20.0))
        );
        // In ms the threshold is 10 ms (MIN_BASELINE_MS): HOL of HTTP/2 at
        // 4 ms, of HTTP/1.1 at 6 ms is +2 ms, not +50 %.
        assert_eq!(
            of(Metric::HolBlocked, Protocol::H1, &[6.0], &[4.0]),
            Difference::Absolute(estimate(2.0, 2.0, 2.0))
        );
    }

    #[test]
    fn a_metric_0_by_construction_has_no_difference() {
        // HTTP/3's head-of-line blocked time is 0 by construction: against
        // HTTP/2's 234 ms it would be "-100 %"; there is none.
        let d = Difference::of(
            Metric::HolBlocked,
            Protocol::H3,
            &[0.0, 0.0],
            &[234.0, 234.0],
        );
        assert!(
            matches!(d, Some(Difference::ZeroByConstruction(why)) if why.starts_with("QUIC orders bytes per stream"))
        );
        let d = d.unwrap();
        assert_eq!((d.percent(), d.absolute()), (None, None));
        assert_eq!(d.percent_omitted(), Some("zero_by_construction"));
        assert!(matches!(
            Difference::of(Metric::HolBlocked, Protocol::H1, &[0.0], &[234.0]),
            Some(Difference::ZeroByConstruction(_))
        ));
        // A value that is not 0 is a measurement, compared as any other:
        // (117 - 234) / 234 = -50 %.
        let d = Difference::of(Metric::HolBlocked, Protocol::H1, &[117.0], &[234.0]).unwrap();
        assert_eq!(d.percent(), Some(estimate(-50.0, -50.0, -50.0)));
        // Other metrics are never 0 by construction: HTTP/3's client
        // retransmissions of 0 against HTTP/2's 20 are -100 %.
        assert_eq!(
            Difference::of(Metric::Retransmissions, Protocol::H3, &[0.0], &[20.0])
                .unwrap()
                .percent(),
            Some(estimate(-100.0, -100.0, -100.0))
        );
        assert_eq!(Difference::of(Metric::Plt, Protocol::H3, &[], &[1.0]), None);
    }

    #[test]
    fn stats_csv_has_the_difference_in_both_forms_and_why_a_percent_is_missing() {
        let groups = [
            group(
                Protocol::H1,
                &[
                    (Metric::Plt, &[1200.0]),
                    (Metric::Retransmissions, &[4.0]),
                    (Metric::HolBlocked, &[0.0]),
                ],
            ),
            group(
                Protocol::H2,
                &[
                    (Metric::Plt, &[1000.0]),
                    (Metric::Retransmissions, &[0.0]),
                    (Metric::HolBlocked, &[234.0]),
                ],
            ),
            group(
                Protocol::H3,
                &[
                    (Metric::Plt, &[900.0]),
                    (Metric::Retransmissions, &[13.0]),
                    (Metric::HolBlocked, &[0.0]),
                ],
            ),
        ];
        let csv = stats_csv(&groups);
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(header, CSV_COLUMNS);
        let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let deltas: Vec<Vec<&str>> = lines
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                [
                    "protocol",
                    "metric",
                    "delta_vs_h2_pct",
                    "delta_ci_low",
                    "delta_vs_h2_abs",
                    "delta_abs_ci_high",
                    "delta_pct_omitted",
                ]
                .iter()
                .map(|c| f[column(c)])
                .collect()
            })
            .collect();
        assert_eq!(
            deltas,
            [
                // PLT: (1200 - 1000) / 1000 = +20 %, +200 ms.
                ["h1", "plt", "20", "20", "200", "200", ""],
                ["h1", "hol_blocked", "", "", "", "", "zero_by_construction"],
                // Retransmissions against HTTP/2's 0: +4 packets only.
                [
                    "h1",
                    "retransmissions",
                    "",
                    "",
                    "4",
                    "4",
                    "baseline_near_zero"
                ],
                ["h2", "plt", "", "", "", "", ""],
                ["h2", "hol_blocked", "", "", "", "", ""],
                ["h2", "retransmissions", "", "", "", "", ""],
                // (900 - 1000) / 1000 = -10 %, -100 ms.
                ["h3", "plt", "-10", "-10", "-100", "-100", ""],
                ["h3", "hol_blocked", "", "", "", "", "zero_by_construction"],
                [
                    "h3",
                    "retransmissions",
                    "",
                    "",
                    "13",
                    "13",
                    "baseline_near_zero"
                ],
            ]
        );
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
