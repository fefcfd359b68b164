//! The report's charts: which ones a results directory supports, the data
//! each one shows, and their rendering as SVG (inlined in `index.html`)
//! and PNG (beside `report.md`).
//!
//! Every chart is drawn twice by the same code, once per plotters backend
//! (`render`). Text is laid out and, in the PNG, rasterized with the
//! DejaVu Sans font embedded in this crate (`fonts/`), so a chart renders
//! the same on a machine without system fonts: plotters' `ab_glyph`
//! feature never looks for system fonts, and the PNG's text is drawn by
//! `raster` from the embedded font. The SVGs name the family
//! `sans-serif`, which any browser has.
//!
//! Colors come from the Okabe–Ito palette (safe for the common forms of
//! color blindness), one per protocol, the same in every chart
//! ([`protocol_color`]), and one per drop reason from the colors no
//! protocol uses ([`drop_reason_color`]).
//!
//! Which charts are drawn:
//! - PLT against the sweep axis (median and p10–p90 band; grouped bars
//!   with p10–p90 whiskers when the axis is categorical, as
//!   `subresource_responses` is), when the
//!   scenario sweeps one numeric axis over at least two points;
//! - at the *reference point* (the only point without a sweep; with one,
//!   the middle point, index `len / 2`, of the sorted points whose named
//!   axes are at the lab's defaults, or of all points if none is — 2 % of
//!   the loss sweep 0, 0.25, 0.5, 1, 1.5, 2, 3, 5, 7, 10):
//!   - when runs there have page times (a page loaded as a browser does):
//!     first render, DOMContentLoaded, onload and speed index per
//!     protocol, and per object kind when its last object arrived;
//!   - the CDF of PLT per protocol;
//!   - handshake and TTFB per protocol, in ms and in RTTs;
//!   - transport cost: packets the network dropped, stacked by reason
//!     ([`drop_reason_color`]), and packets retransmitted, per protocol;
//!   - per protocol, for its *representative run* (the run with the median
//!     PLT: of the `ok` runs sorted by PLT then seed, index `(n - 1) / 2`):
//!     a request waterfall, a multiplexing strip (each connection's
//!     body pieces over time colored by stream, with the bytes TCP held
//!     behind a hole marked), and small multiples of the streams that
//!     stalled most;
//!   - with a path change, goodput over time around it, one row per
//!     protocol (representative runs), each with its interruption shaded
//!     and labelled.

mod draw;
mod raster;

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

use netsim::DropReason;
use plotters::prelude::*;
use records::{AxisValue, Outcome, RunResult};
use scenarios::{Handshake, Protocol, HANDSHAKE_AXIS};

use crate::conditions;
use crate::stats;
use crate::tables::{self, AxisPoint, Group, Metric};

/// DejaVu Sans (Bitstream Vera license, `fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

/// The font family every chart uses.
const FAMILY: &str = "sans-serif";

/// One rendered chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// File name without extension: `charts/<stem>.svg`, `.png`.
    pub stem: String,
    /// What it shows, one line.
    pub title: String,
    /// What was run and how to read it.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
    /// The PNG file.
    pub png: Vec<u8>,
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("chart {stem}: {reason}")]
pub struct ChartError {
    /// The chart.
    pub stem: String,
    /// What went wrong.
    pub reason: String,
}

/// The color of a protocol in every chart (Okabe–Ito): HTTP/1.1 orange,
/// HTTP/2 blue, HTTP/3 bluish green. Legends name a protocol by
/// [`Protocol::name`].
pub fn protocol_color(protocol: Protocol) -> RGBColor {
    match protocol {
        Protocol::H1 => RGBColor(0xE6, 0x9F, 0x00),
        Protocol::H2 => RGBColor(0x00, 0x72, 0xB2),
        Protocol::H3 => RGBColor(0x00, 0x9E, 0x73),
    }
}

/// Register the embedded font with plotters, once per process.
fn register_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
            .map_err(|_| "the embedded DejaVu Sans font did not load".to_owned())
    })
    .clone()
}

/// Draw `chart` at `size` pixels into an SVG string and a PNG file.
fn render(
    stem: &str,
    size: (u32, u32),
    title: &str,
    footer: &str,
    chart: &impl draw::Chart,
) -> Result<(String, Vec<u8>), ChartError> {
    let fail = |reason: String| ChartError {
        stem: stem.to_owned(),
        reason,
    };
    register_font().map_err(fail)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        chart
            .draw(&root, title, footer)
            .and_then(|()| Ok(root.present()?))
            .map_err(|e| fail(format!("SVG: {e}")))?;
    }
    let (w, h) = size;
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let root = raster::Raster::new(&mut pixels, size, FONT)
            .map_err(fail)?
            .into_drawing_area();
        chart
            .draw(&root, title, footer)
            .and_then(|()| Ok(root.present()?))
            .map_err(|e| fail(format!("PNG: {e}")))?;
    }
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| fail(format!("PNG: {e}")))?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| fail(format!("PNG: {e}")))?;
    }
    Ok((svg, png))
}

/// Render `chart` and describe it.
fn figure(
    stem: String,
    size: (u32, u32),
    title: String,
    caption: String,
    footer: &str,
    chart: &impl draw::Chart,
) -> Result<Figure, ChartError> {
    let (svg, png) = render(&stem, size, &title, footer, chart)?;
    Ok(Figure {
        stem,
        title,
        caption,
        svg,
        png,
    })
}

/// Each protocol's representative run, in protocol order: of its runs at
/// the reference point, the `ok` run with the median page load time
/// ([`median_run`]). Their charts draw the long series (body timelines,
/// segment arrivals), which a report reads again for these runs only.
pub fn representatives<'a>(
    records: &[&'a RunResult],
    groups: &[Group],
) -> Vec<(Protocol, &'a RunResult)> {
    let points = axis_points(groups);
    let Some(point) = reference_point(&points) else {
        return Vec::new();
    };
    protocols(groups)
        .into_iter()
        .filter_map(|p| {
            let runs: Vec<&RunResult> = records
                .iter()
                .copied()
                .filter(|r| r.protocol == p && &tables::axis_point(&r.axes) == point)
                .collect();
            Some((p, median_run(&runs)?))
        })
        .collect()
}

/// Every chart `records` support, in report order. `groups` are
/// `tables::groups(records)`. `full` holds records of
/// [`representatives`] with their series, where `records` may not (a
/// representative run not in `full` is drawn from `records`).
pub fn figures(
    records: &[&RunResult],
    groups: &[Group],
    full: &[RunResult],
) -> Result<Vec<Figure>, ChartError> {
    let mut out = Vec::new();
    let Some(first) = records.first() else {
        return Ok(out);
    };
    let points = axis_points(groups);
    let protocols = protocols(groups);
    let seeds: BTreeSet<u64> = records.iter().map(|r| r.seed).collect();
    let what = format!(
        "scenario {} · TCP {} · {} seed{} · httplab {}",
        first.scenario,
        first.tcp,
        seeds.len(),
        if seeds.len() == 1 { "" } else { "s" },
        first.lab.commit.get(..8).unwrap_or(&first.lab.commit)
    );

    // PLT and head-of-line blocked time against the sweep axis.
    if let Some(axis) = single_numeric_axis(&points) {
        let lossless = lossless_point(records, groups, &points);
        let x_desc = match &lossless {
            Some((value, loss, _)) if axis == "loss_percent" => {
                format!("{}; at {value} %: {loss}", axis_label(&axis))
            }
            _ => axis_label(&axis),
        };
        let queue_note = match &lossless {
            Some((value, _, per_protocol)) if axis == "loss_percent" => format!(
                " Random loss is the links' loss model only: the full queue drops packets as well, at {value} % too (mean queue drops per run there: {per_protocol}; the tables give every point and reason)."
            ),
            _ => String::new(),
        };
        for (metric, stem, name) in [
            (Metric::Plt, "plt", "Page load time"),
            (Metric::HolBlocked, "hol", "Head-of-line blocked time"),
        ] {
            if categorical_axis(&axis) {
                if let Some(f) =
                    categorical_chart(groups, &protocols, &axis, metric, stem, name, &what)?
                {
                    out.push(f);
                }
                continue;
            }
            let series: Vec<draw::AxisSeries> = protocols
                .iter()
                .map(|&p| draw::AxisSeries {
                    protocol: p,
                    points: groups
                        .iter()
                        .filter(|g| g.protocol == p)
                        .filter_map(|g| {
                            let x = g.axes.first()?.1.parse::<f64>().ok()?;
                            let v = &g.values[&metric];
                            Some((x, stats::p10(v)?, stats::median(v)?, stats::p90(v)?))
                        })
                        .collect(),
                })
                .filter(|s| !s.points.is_empty())
                .collect();
            if series.is_empty() {
                continue;
            }
            let note = if metric == Metric::HolBlocked {
                " HTTP/1.1's and HTTP/3's are 0 by construction: an HTTP/1.1 connection carries one response at a time, and QUIC hands each stream over on its own (docs/metrics.md)."
            } else {
                ""
            };
            let (x_scale, scale_note) = x_scale(&axis, &series);
            let chart = draw::MetricVsAxis {
                x_desc: match &x_scale {
                    draw::XScale::Swept(_) => {
                        format!("{x_desc} · the swept values, equally spaced (not to scale)")
                    }
                    draw::XScale::Linear => x_desc.clone(),
                },
                y_desc: format!("{} (ms)", name.to_lowercase()),
                series,
                x_scale,
            };
            out.push(figure(
                format!("{stem}-vs-{axis}"),
                (900, 560),
                format!("{name} against {}", axis_label(&axis)),
                format!(
                    "{name} against {}: median (line; circle HTTP/1.1, square HTTP/2, triangle HTTP/3) and p10–p90 (band, as the tables give them) of the completed runs at each point, per protocol. Each protocol's points are drawn a few pixels to the side of the value they stand for (HTTP/1.1 left, HTTP/3 right), so that equal values stay visible.{scale_note}{note}{queue_note} {what}.",
                    axis_label(&axis)
                ),
                &what,
                &chart,
            )?);
        }
    }

    // TTFB per handshake mode, when the runs sweep it.
    if let Some(figure) = handshake_modes(records, &protocols, &what)? {
        out.push(figure);
    }

    // Everything else at the reference point.
    let Some(point) = reference_point(&points) else {
        return Ok(out);
    };
    let at: Vec<&RunResult> = records
        .iter()
        .copied()
        .filter(|r| &tables::axis_point(&r.axes) == point)
        .collect();
    let Some(sample) = at.first() else {
        return Ok(out);
    };
    let condition = conditions::text(&sample.network, &conditions::queue_drops(groups, point));
    let where_ = if point.is_empty() {
        condition.clone()
    } else {
        format!("{}: {condition}", crate::methodology::point_text(point))
    };
    let footer = format!("{where_} · {what}");
    let suffix = if point.is_empty() {
        String::new()
    } else {
        format!(
            "-{}",
            point
                .iter()
                .map(|(k, v)| format!("{k}-{v}"))
                .collect::<Vec<_>>()
                .join("-")
        )
    };
    let by_protocol: Vec<(Protocol, Vec<&RunResult>)> = protocols
        .iter()
        .map(|&p| (p, at.iter().copied().filter(|r| r.protocol == p).collect()))
        .collect();

    // The times a person waits for, and when each kind of object was in,
    // for runs of a page loaded as a browser does.
    out.extend(page_times(&by_protocol, &where_, &footer, &what, &suffix)?);

    // CDF of PLT.
    {
        let series: Vec<(Protocol, Vec<f64>)> = by_protocol
            .iter()
            .map(|(p, runs)| {
                let mut v: Vec<f64> = runs
                    .iter()
                    .filter(|r| r.outcome == Outcome::Ok)
                    .filter_map(|r| Metric::Plt.of(r.measurements.as_ref()?))
                    .collect();
                v.sort_by(f64::total_cmp);
                (*p, v)
            })
            .collect();
        if series.iter().any(|(_, v)| !v.is_empty()) {
            let stem = format!("cdf-plt{suffix}");
            let chart = draw::Cdf {
                x_desc: "page load time (ms)".into(),
                series,
            };
            out.push(figure(
                stem,
                (900, 520),
                "Distribution of page load time".into(),
                format!("Empirical CDF of page load time over the completed runs, per protocol, at {where_}. {what}."),
                &footer,
                &chart,
            )?);
        }
    }

    // Handshake and TTFB, in ms and RTTs.
    let rtt_ms = sample.network.path.rtt_ns() as f64 / 1e6;
    {
        let metrics = [Metric::Handshake, Metric::Ttfb];
        let series = bar_series(&by_protocol, |r| {
            let m = r.measurements.as_ref();
            metrics
                .iter()
                .map(|metric| m.and_then(|m| metric.of(m)))
                .collect()
        });
        if has_values(&series) && rtt_ms > 0.0 {
            let stem = format!("handshake-ttfb{suffix}");
            let chart = draw::Bars {
                categories: vec![
                    "handshake (first connection)".into(),
                    "time to first byte (first request)".into(),
                ],
                y_desc: "time (ms)".into(),
                series,
                second_axis: Some(("RTTs".into(), rtt_ms)),
            };
            out.push(figure(
                stem,
                (900, 520),
                "Handshake and time to first byte".into(),
                format!(
                    "Median (bar) and p10–p90 (whisker) over completed runs; each label gives the median in ms and in round trips of the base RTT ({rtt_ms} ms). Handshake: TCP and TLS 1.3, or QUIC, from the first connection attempt to handshake completion. TTFB: from the first request's start to its response head (a resumption's, if a path change cut it off first). At {where_}. {what}."
                ),
                &footer,
                &chart,
            )?);
        }
    }

    // Transport cost: drops by reason, retransmissions by side.
    out.extend(transport_cost(
        &by_protocol,
        &where_,
        &footer,
        &what,
        &suffix,
    )?);

    // Representative runs: waterfall and per-stream progress.
    let representative: Vec<(Protocol, &RunResult)> = representatives(records, groups)
        .into_iter()
        .map(|(p, r)| (p, full.iter().find(|f| f.run_key == r.run_key).unwrap_or(r)))
        .collect();
    // The charts of one kind share their axes, so that they compare at a
    // glance: every waterfall one time axis, every per-stream chart one
    // time axis and one byte axis.
    let rows_of: Vec<Vec<draw::WaterfallRow>> = representative
        .iter()
        .map(|(_, r)| {
            r.measurements
                .as_ref()
                .map(draw::waterfall_rows)
                .unwrap_or_default()
        })
        .collect();
    let lines_of: Vec<Vec<draw::StreamLine>> = representative
        .iter()
        .map(|(_, r)| {
            r.measurements
                .as_ref()
                .map(draw::stream_lines)
                .unwrap_or_default()
        })
        .collect();
    let lanes_of: Vec<Vec<draw::Lane>> = representative
        .iter()
        .map(|(_, r)| {
            let origin = r
                .simulation
                .as_ref()
                .map_or(Duration::ZERO, |s| s.client_started);
            let bytes_per_ms = r.network.path.down.bandwidth_bps as f64 / 8e3;
            r.measurements
                .as_ref()
                .map(|m| draw::multiplexing_lanes(m, origin, bytes_per_ms))
                .unwrap_or_default()
        })
        .collect();
    let waterfall_end = draw::waterfall_end(rows_of.iter().map(Vec::as_slice));
    let stream_ranges = draw::stream_ranges(lines_of.iter().map(Vec::as_slice));
    // The strips and the stalled streams' panels on one time axis.
    let strip_end = draw::lanes_end(lanes_of.iter().flatten()).max(stream_ranges.0.end);
    for (k, &(protocol, run)) in representative.iter().enumerate() {
        let Some(m) = run.measurements.as_ref() else {
            continue;
        };
        let plt = m.plt.unwrap_or_default().as_nanos() as f64 / 1e6;
        let who = format!(
            "{} seed {} (median PLT {plt} ms)",
            protocol.name(),
            run.seed
        );
        let rows = rows_of[k].clone();
        if !rows.is_empty() {
            let stem = format!("waterfall-{protocol}{suffix}");
            let height = (150 + rows.len() as u32 * 16).min(2400);
            let chart = draw::Waterfall {
                protocol,
                rows,
                t_hi: waterfall_end,
            };
            out.push(figure(
                stem,
                (1000, height),
                format!("Request waterfall, {}", protocol.name()),
                format!(
                    "Each request of the representative run {who}, grouped by connection: queued until sent (grey), waiting for the response head (light), receiving the body (solid). Every protocol's waterfall in this report has the same time axis. At {where_}. {what}."
                ),
                &format!("{who} · {footer}"),
                &chart,
            )?);
        }
        let lanes = lanes_of[k].clone();
        if !lanes.is_empty() {
            let holds_recorded = m
                .connections
                .iter()
                .any(|c| c.stats.as_ref().is_some_and(|s| s.arrivals.is_some()));
            let height = (170 + 46 * lanes.len() as u32).min(1200);
            let chart = draw::Multiplexing {
                protocol,
                lanes: lanes.clone(),
                t_hi: strip_end,
                holds_recorded,
            };
            let holds = if holds_recorded {
                "The dark bar under a lane marks when its TCP held bytes that had arrived behind a missing segment; bytes released at the end of a bar for more than one stream waited for another stream's data (head-of-line blocking)."
            } else {
                "QUIC hands each stream's bytes over on its own, and quinn does not say when it held bytes, so no held bytes are marked."
            };
            out.push(figure(
                format!("multiplexing-{protocol}{suffix}"),
                (1000, height),
                format!("Multiplexing: which stream's bytes arrived when, {}", protocol.name()),
                format!(
                    "The representative run {who}: per connection, a lane over time in which each piece of response body the HTTP stack handed over is colored by its request (stream; ten colors in plan order, repeating), so that interleaved delivery shows as mixed colors and sequential delivery as one color after another. Each piece is as wide as its bytes take at the bottleneck rate, from its delivery or the end of the piece before it, whichever is later, so a burst released at one instant is laid out piece after piece. {holds} Every protocol's strip in this report has the same time axis. At {where_}. {what}."
                ),
                &format!("{who} · {footer}"),
                &chart,
            )?);
        }
        let stalled = draw::stalled_streams(m, 6);
        if !stalled.is_empty() {
            let panels = stalled
                .iter()
                .filter_map(|&(i, added, gap)| {
                    let r = &m.requests[i];
                    let name = r.path.rsplit('/').next().unwrap_or(&r.path);
                    let (_, points) = draw::stream_line(r);
                    let (first, last) = (points.first()?.0, points.last()?.0);
                    let held = lanes
                        .iter()
                        .filter(|l| Some(l.connection) == r.connection_id)
                        .flat_map(|l| l.held.iter())
                        .filter(|&&(a, b)| b > first && a < last)
                        .map(|&(a, b)| (a.max(first), b.min(last)))
                        .collect();
                    let stream = r.stream_id.map_or(String::new(), |s| format!(" s{s}"));
                    let added = added.map_or("HOL added not recorded".to_owned(), |a| {
                        format!("HOL added {} ms", short_ms(a))
                    });
                    Some(draw::StalledPanel {
                        index: i,
                        label: format!(
                            "{name} (request {i}{stream}) · {added} · longest gap {} ms",
                            short_ms(gap)
                        ),
                        points,
                        held,
                    })
                })
                .collect::<Vec<_>>();
            let rows = panels.len().div_ceil(draw::STALLED_COLUMNS) as u32;
            let chart = draw::Stalled {
                protocol,
                panels,
                x: 0.0..strip_end,
            };
            out.push(figure(
                format!("streams-{protocol}{suffix}"),
                (1000, 110 + 170 * rows),
                format!("The streams that stalled most, {}", protocol.name()),
                format!(
                    "Body bytes each of the (up to) six requests that stalled most had received over time, in the representative run {who}, as steps: those with the largest delay head-of-line blocking added to their completion (hol_added_ns), then the longest gap between two of their body pieces. One panel each, in the request's color of the multiplexing strip, on the strip's time axis and each on its own byte scale; grey shade: its connection's TCP held bytes behind a missing segment. A flat stretch under a shade is a stream waiting for lost data, its own or another's. At {where_}. {what}."
                ),
                &format!("{who} · {footer}"),
                &chart,
            )?);
        }
    }

    // Migration: goodput around the path change.
    if let Some(change) = sample.network.path_change.as_ref() {
        let rows: Vec<draw::GoodputRow> = representative
            .iter()
            .filter_map(|&(p, r)| {
                let m = r.measurements.as_ref()?;
                let origin = r
                    .simulation
                    .as_ref()
                    .map_or(Duration::ZERO, |s| s.client_started);
                let migration = m.migration.as_ref();
                let interruption = migration.and_then(|g| {
                    let a = ms_of(origin + g.last_byte_before?);
                    let b = ms_of(origin + g.first_byte_after?);
                    Some((a, b))
                });
                let note = migration.map_or(String::new(), |g| {
                    let reconnections = match g.connections_after_change {
                        0 => "no new connection".to_owned(),
                        1 => "1 new connection".to_owned(),
                        n => format!("{n} new connections"),
                    };
                    match g.resumed_requests {
                        0 => reconnections,
                        1 => format!("{reconnections}, 1 request resumed"),
                        n => format!("{reconnections}, {n} requests resumed"),
                    }
                });
                let bins = draw::goodput_bins(m, origin, GOODPUT_BIN_NS);
                Some(draw::GoodputRow {
                    protocol: p,
                    bins,
                    interruption,
                    note,
                })
            })
            .filter(|row| !row.bins.is_empty())
            .collect();
        if !rows.is_empty() {
            let stem = format!("migration-goodput{suffix}");
            let at_ms = change.at_ns as f64 / 1e6;
            let height = 120 + 150 * rows.len() as u32;
            let chart = draw::Goodput {
                rows,
                change_ms: at_ms,
            };
            out.push(figure(
                stem,
                (900, height),
                "Goodput around the path change".into(),
                format!(
                    "Body bytes received per {} ms, as Mbit/s, in each protocol's representative run, one row per protocol on one time axis and one scale; the dashed line marks the client's move to the new path at {at_ms} ms (simulation time), and the shade each protocol's interruption, from its last body byte before the change to its first after it (measurements.migration, docs/migration.md), labelled with its length and the connections opened and requests resumed after the change. This is delivery to the application: a bin above the link rate holds data that had arrived earlier and was released at once when a hole was filled. At {where_}. {what}.",
                    GOODPUT_BIN_NS / 1_000_000
                ),
                &footer,
                &chart,
            )?);
        }
    }
    Ok(out)
}

/// The point the one-condition charts show: of the sorted `points` whose
/// named-axis values (handshake, cc, pacing, scheduler, certificate,
/// coalescing) are
/// all the lab's defaults, the middle one (index `len / 2`); if no point
/// has them all, the middle of all the points. So a sweep of the loss rate
/// shows its middle loss rate, and a sweep of choices shows the lab's
/// default choices rather than whichever cell sorts to the middle.
fn reference_point(points: &[tables::AxisPoint]) -> Option<&tables::AxisPoint> {
    let defaults = scenarios::Choices::default();
    let is_default = |point: &&tables::AxisPoint| {
        point.iter().all(|(name, value)| {
            scenarios::NamedAxis::from_name(name).is_none_or(|a| a.label_in(&defaults) == value)
        })
    };
    let plain: Vec<&tables::AxisPoint> = points.iter().filter(is_default).collect();
    if plain.is_empty() {
        points.get(points.len() / 2)
    } else {
        plain.get(plain.len() / 2).copied()
    }
}

/// The TTFB chart across handshake modes (`handshake` axis): per mode,
/// one bar per protocol, median TTFB with p10–p90, labelled in ms and in
/// RTTs; `None` without that axis.
fn handshake_modes(
    records: &[&RunResult],
    protocols: &[Protocol],
    what: &str,
) -> Result<Option<Figure>, ChartError> {
    let mode = |r: &RunResult| match r.axes.get(HANDSHAKE_AXIS) {
        Some(AxisValue::Handshake(h)) => Some(*h),
        _ => None,
    };
    let mut modes: Vec<Handshake> = records.iter().filter_map(|r| mode(r)).collect();
    modes.sort();
    modes.dedup();
    if modes.len() < 2 {
        return Ok(None);
    }
    let Some(rtt_ms) = records
        .first()
        .map(|r| r.network.path.rtt_ns() as f64 / 1e6)
        .filter(|&rtt| rtt > 0.0)
    else {
        return Ok(None);
    };
    let series = protocols
        .iter()
        .map(|&p| draw::BarSeries {
            protocol: p,
            bars: modes
                .iter()
                .map(|&m| {
                    let v: Vec<f64> = records
                        .iter()
                        .filter(|r| r.protocol == p && r.outcome == Outcome::Ok)
                        .filter(|r| mode(r) == Some(m))
                        .filter_map(|r| {
                            Some(r.measurements.as_ref()?.ttfb?.as_nanos() as f64 / 1e6)
                        })
                        .collect();
                    Some((stats::p10(&v)?, stats::median(&v)?, stats::p90(&v)?))
                })
                .collect(),
        })
        .collect();
    let chart = draw::Bars {
        categories: modes.iter().map(|m| format!("{m} handshake")).collect(),
        y_desc: "time to first byte (ms)".into(),
        series,
        second_axis: Some(("RTTs".into(), rtt_ms)),
    };
    let footer = format!("RTT {rtt_ms} ms · {what}");
    figure(
        "ttfb-by-handshake".into(),
        (900, 520),
        "Time to first byte by handshake".into(),
        format!(
            "Time to first byte of the measured connection (from its first connection attempt to the first response head), per handshake mode and protocol: median (bar) and p10–p90 (whisker), labelled in ms and in round trips of the base RTT ({rtt_ms} ms). resume and early-data runs first make a warm-up connection for the session ticket (docs/handshakes.md). {what}."
        ),
        &footer,
        &chart,
    )
    .map(Some)
}

/// The page-times charts at one point, when some run there has page times
/// (`measurements.page`): first render, DOMContentLoaded, onload and speed
/// index per protocol, and per object kind the time its last object
/// arrived. Empty otherwise.
fn page_times(
    by_protocol: &[(Protocol, Vec<&RunResult>)],
    where_: &str,
    footer: &str,
    what: &str,
    suffix: &str,
) -> Result<Vec<Figure>, ChartError> {
    let page = |r: &RunResult| r.measurements.as_ref()?.page.clone();
    let mut out = Vec::new();
    let metrics = [
        Metric::FirstRender,
        Metric::DomContentLoaded,
        Metric::Onload,
        Metric::SpeedIndex,
    ];
    let series = bar_series(by_protocol, |r| {
        let m = r.measurements.as_ref();
        metrics
            .iter()
            .map(|metric| m.and_then(|m| metric.of(m)))
            .collect()
    });
    if !has_values(&series) {
        return Ok(out);
    }
    let chart = draw::Bars {
        categories: vec![
            "first render".into(),
            "DOMContentLoaded".into(),
            "onload".into(),
            "speed index".into(),
        ],
        y_desc: "time from the navigation start (ms)".into(),
        series,
        second_axis: None,
    };
    out.push(figure(
        format!("page-times{suffix}"),
        (900, 520),
        "The times a person waits for".into(),
        format!(
            "Median (bar) and p10–p90 (whisker) over completed runs, from the navigation start (the document request's start). First render: the document's response has begun and every render-blocking stylesheet and script has arrived and been processed. DOMContentLoaded: the document parsed, its parser-blocking scripts run, every defer script ready. Onload: every object in. Speed index: ∫ (1 − shown) dt over the document's and the images' bytes, nothing shown before the first render. Proxies from the page's dependencies, not a browser's paint (docs/metrics.md). At {where_}. {what}."
        ),
        footer,
        &chart,
    )?);

    // The kinds any run has, in ObjectKind::ALL order, with their object
    // counts (the page is the same in every run).
    let mut kinds: Vec<(usize, String, usize)> = Vec::new();
    for r in by_protocol.iter().flat_map(|(_, runs)| runs) {
        for k in page(r).into_iter().flat_map(|p| p.by_kind) {
            if !kinds.iter().any(|(_, name, _)| *name == k.kind) {
                let order = scenarios::ObjectKind::from_name(&k.kind)
                    .and_then(|kind| scenarios::ObjectKind::ALL.iter().position(|&x| x == kind))
                    .unwrap_or(usize::MAX);
                kinds.push((order, k.kind.clone(), k.completed.len()));
            }
        }
    }
    kinds.sort();
    let series = bar_series(by_protocol, |r| {
        let by_kind = page(r).map(|p| p.by_kind).unwrap_or_default();
        kinds
            .iter()
            .map(|(_, name, _)| {
                let k = by_kind.iter().find(|k| &k.kind == name)?;
                Some(k.completed.last()?.as_nanos() as f64 / 1e6)
            })
            .collect()
    });
    if has_values(&series) {
        let chart = draw::Bars {
            categories: kinds
                .iter()
                .map(|(_, name, n)| format!("{name} ({n})"))
                .collect(),
            y_desc: "last object in, from the navigation start (ms)".into(),
            series,
            second_axis: None,
        };
        out.push(figure(
            format!("kind-completion{suffix}"),
            (1000, 520),
            "When each kind of object was in".into(),
            format!(
                "Per object kind (its count in brackets), when the last of its objects arrived (its last byte), from the navigation start: median (bar) and p10–p90 (whisker) over completed runs, per protocol. Every object's completion is in the record (measurements.page.by_kind). At {where_}. {what}."
            ),
            footer,
            &chart,
        )?);
    }
    Ok(out)
}

/// The color of a drop reason in the transport-cost chart, from the
/// Okabe–Ito colors no protocol uses: random loss sky blue, the full
/// queue vermillion, targeted drops reddish purple, blackouts black,
/// over the MTU yellow, no route grey.
pub fn drop_reason_color(reason: DropReason) -> RGBColor {
    match reason {
        DropReason::Random => RGBColor(0x56, 0xB4, 0xE9),
        DropReason::QueueFull => RGBColor(0xD5, 0x5E, 0x00),
        DropReason::Targeted => RGBColor(0xCC, 0x79, 0xA7),
        DropReason::Blackout => RGBColor(0x00, 0x00, 0x00),
        DropReason::Oversize => RGBColor(0xF0, 0xE4, 0x42),
        DropReason::NoRoute => RGBColor(0x99, 0x99, 0x99),
    }
}

/// The transport-cost chart at one point: per protocol, the packets the
/// network dropped, by reason (the reasons some completed run dropped a
/// packet for), and the packets each side retransmitted. `None` without
/// a completed run.
fn transport_cost(
    by_protocol: &[(Protocol, Vec<&RunResult>)],
    where_: &str,
    footer: &str,
    what: &str,
    suffix: &str,
) -> Result<Option<Figure>, ChartError> {
    fn ok<'a>(runs: &[&'a RunResult]) -> Vec<&'a RunResult> {
        runs.iter()
            .copied()
            .filter(|r| r.outcome == Outcome::Ok)
            .collect()
    }
    let values = |runs: &[&RunResult], metric: Metric| -> Vec<f64> {
        ok(runs).iter().filter_map(|r| metric.of_run(r)).collect()
    };
    let reasons: Vec<DropReason> = DropReason::ALL
        .into_iter()
        .filter(|&reason| {
            by_protocol.iter().any(|(_, runs)| {
                values(runs, Metric::Dropped(reason))
                    .iter()
                    .any(|&v| v > 0.0)
            })
        })
        .collect();
    let mut drops = Vec::new();
    let mut retransmissions = Vec::new();
    for (protocol, runs) in by_protocol {
        let totals: Vec<f64> = ok(runs)
            .iter()
            .filter_map(|r| {
                let s = r.simulation.as_ref()?;
                Some(s.drops.values().sum::<u64>() as f64)
            })
            .collect();
        if let (Some(p10), Some(p90)) = (stats::p10(&totals), stats::p90(&totals)) {
            drops.push(draw::DropStack {
                protocol: *protocol,
                means: reasons
                    .iter()
                    .map(|&reason| {
                        stats::mean(&values(runs, Metric::Dropped(reason))).unwrap_or(0.0)
                    })
                    .collect(),
                total_p10_p90: (p10, p90),
            });
        }
        let side = |metric: Metric| {
            let v = values(runs, metric);
            Some((stats::p10(&v)?, stats::mean(&v)?, stats::p90(&v)?))
        };
        let sides = [
            side(Metric::Retransmissions),
            side(Metric::ServerRetransmissions),
        ];
        if sides.iter().any(Option::is_some) {
            retransmissions.push(draw::RetransmissionBars {
                protocol: *protocol,
                sides,
            });
        }
    }
    if drops.is_empty() && retransmissions.is_empty() {
        return Ok(None);
    }
    let chart = draw::TransportCost {
        reasons: reasons
            .iter()
            .map(|&r| (conditions::reason_name(r).to_owned(), drop_reason_color(r)))
            .collect(),
        drops,
        retransmissions,
    };
    figure(
        format!("transport-cost{suffix}"),
        (1000, 540),
        "Transport cost: packets dropped, by reason, and retransmitted".into(),
        format!(
            "Left: the packets the simulated network dropped in a run, both directions, per protocol, one color per reason (only reasons some completed run dropped a packet for): each segment is that reason's mean over the completed runs, labelled beside it (or under the protocol, when too thin) where a stack has more than one, so the stack is the mean total (\"in all\"); the whisker is p10–p90 of the runs' totals. A queue drop is the bottleneck queue overflowing under the senders' own load; a random drop is the links' loss model. Right: the packets each side retransmitted, mean (bar) and p10–p90 (whisker), counted by its transport (TCP segments resent, QUIC packets declared lost); the server sends the responses, so its count is where loss recovery shows. Both panels share one scale in packets per run. At {where_}. {what}."
        ),
        footer,
        &chart,
    )
    .map(Some)
}

/// Milliseconds for a label: whole above 10, else to a tenth.
fn short_ms(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A duration in milliseconds.
fn ms_of(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

/// Width of a goodput bin.
const GOODPUT_BIN_NS: u64 = 50_000_000;

/// Per protocol, per category: the values of each run.
fn bar_series(
    by_protocol: &[(Protocol, Vec<&RunResult>)],
    values: impl Fn(&RunResult) -> Vec<Option<f64>>,
) -> Vec<draw::BarSeries> {
    by_protocol
        .iter()
        .map(|(p, runs)| {
            let mut per_category: Vec<Vec<f64>> = Vec::new();
            for r in runs.iter().filter(|r| r.outcome == Outcome::Ok) {
                for (i, v) in values(r).into_iter().enumerate() {
                    if per_category.len() <= i {
                        per_category.resize(i + 1, Vec::new());
                    }
                    per_category[i].extend(v);
                }
            }
            draw::BarSeries {
                protocol: *p,
                bars: per_category
                    .iter()
                    .map(|v| Some((stats::p10(v)?, stats::median(v)?, stats::p90(v)?)))
                    .collect(),
            }
        })
        .collect()
}

/// Whether any bar has a value.
fn has_values(series: &[draw::BarSeries]) -> bool {
    series.iter().any(|s| s.bars.iter().any(Option::is_some))
}

/// The `ok` run with the median PLT: of the `ok` runs sorted by PLT then
/// seed, index `(n - 1) / 2`.
pub fn median_run<'a>(runs: &[&'a RunResult]) -> Option<&'a RunResult> {
    let mut ok: Vec<(Duration, u64, &RunResult)> = runs
        .iter()
        .filter(|r| r.outcome == Outcome::Ok)
        .filter_map(|r| Some((r.measurements.as_ref()?.plt?, r.seed, *r)))
        .collect();
    ok.sort_by_key(|&(plt, seed, _)| (plt, seed));
    ok.get(ok.len().checked_sub(1)? / 2).map(|&(_, _, r)| r)
}

/// The distinct axis points of `groups`, in their order.
fn axis_points(groups: &[Group]) -> Vec<AxisPoint> {
    let mut points: Vec<AxisPoint> = Vec::new();
    for g in groups {
        if !points.contains(&g.axes) {
            points.push(g.axes.clone());
        }
    }
    points
}

/// The protocols of `groups`, in version order.
fn protocols(groups: &[Group]) -> Vec<Protocol> {
    let mut out: Vec<Protocol> = groups.iter().map(|g| g.protocol).collect();
    out.sort();
    out.dedup();
    out
}

/// The one axis the sweep varies, if there is exactly one, it is numeric
/// and it has at least two points.
fn single_numeric_axis(points: &[AxisPoint]) -> Option<String> {
    let names: BTreeSet<&str> = points
        .iter()
        .flat_map(|p| p.iter().map(|(k, _)| k.as_str()))
        .collect();
    let numeric = points
        .iter()
        .all(|p| p.len() == 1 && p[0].1.parse::<f64>().is_ok());
    (names.len() == 1 && numeric && points.len() >= 2)
        .then(|| names.into_iter().next())?
        .map(str::to_owned)
}

/// Whether a numeric sweep axis names categories rather than a scale:
/// `subresource_responses` compares stream structures (39 responses
/// against one bundle), whose values a line between them would misread as
/// a trend.
fn categorical_axis(axis: &str) -> bool {
    axis == "subresource_responses"
}

/// `metric` per value of a categorical axis: grouped bars per protocol,
/// median with a p10–p90 whisker; `None` without values.
fn categorical_chart(
    groups: &[Group],
    protocols: &[Protocol],
    axis: &str,
    metric: Metric,
    stem: &str,
    name: &str,
    what: &str,
) -> Result<Option<Figure>, ChartError> {
    let mut values: Vec<f64> = groups
        .iter()
        .filter_map(|g| g.axes.first()?.1.parse::<f64>().ok())
        .collect();
    // Largest first: the page as browsers fetch it, then bundled.
    values.sort_by(|a, b| b.total_cmp(a));
    values.dedup();
    let series: Vec<draw::BarSeries> = protocols
        .iter()
        .map(|&p| draw::BarSeries {
            protocol: p,
            bars: values
                .iter()
                .map(|&x| {
                    let g = groups.iter().find(|g| {
                        g.protocol == p
                            && g.axes.first().and_then(|a| a.1.parse::<f64>().ok()) == Some(x)
                    })?;
                    let v = &g.values[&metric];
                    Some((stats::p10(v)?, stats::median(v)?, stats::p90(v)?))
                })
                .collect(),
        })
        .filter(|s| s.bars.iter().any(Option::is_some))
        .collect();
    if series.is_empty() {
        return Ok(None);
    }
    let category = |x: f64| match (axis, x) {
        ("subresource_responses", 1.0) => "1 response (bundled)".to_owned(),
        ("subresource_responses", x) => format!("{x} responses"),
        (_, x) => format!("{axis} = {x}"),
    };
    let chart = draw::Bars {
        categories: values.iter().map(|&x| category(x)).collect(),
        y_desc: format!("{} (ms)", name.to_lowercase()),
        series,
        second_axis: None,
    };
    figure(
        format!("{stem}-vs-{axis}"),
        (900, 520),
        format!("{name} by {}", axis_label(axis)),
        format!(
            "{name} by {}: median (bar) and p10–p90 (whisker) of the completed runs at each value, per protocol. The values are categories (how the page's bytes are split into responses), not points on a scale, so they are not joined by lines; the paired differences are in the ablation section. {what}.",
            axis_label(axis)
        ),
        what,
        &chart,
    )
    .map(Some)
}

/// How a line chart against `axis` places the swept values, and what its
/// caption says about it: random loss (`loss_percent`) at its swept values,
/// equally spaced and labelled with their values, because its effects sit
/// at the small rates (0–1 %) that a linear axis up to 10 % crowds into
/// its left edge; every other axis to scale.
fn x_scale(axis: &str, series: &[draw::AxisSeries]) -> (draw::XScale, &'static str) {
    if axis != "loss_percent" {
        return (draw::XScale::Linear, "");
    }
    let mut values: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    (
        draw::XScale::Swept(values),
        " The x axis places the swept loss rates side by side at equal spacing, each tick labelled with its rate: it is not to scale, so that the small rates, where the protocols part, get as much room as the large ones.",
    )
}

/// An axis name as an axis label with its unit.
fn axis_label(axis: &str) -> String {
    match axis {
        "loss_percent" => "random loss (%)".into(),
        "rtt_ms" => "round-trip time (ms)".into(),
        "bandwidth_mbit" => "bandwidth (Mbit/s)".into(),
        "subresource_responses" => "responses carrying the subresources".into(),
        other => other.into(),
    }
}

/// The first of `points` (in order) whose runs have no random loss but
/// drop packets at the full queue: its axis value, its losses in words
/// ([`conditions::loss_text`]) and the queue drops per protocol
/// ([`conditions::per_protocol`]). `None` if no point is like that.
fn lossless_point(
    records: &[&RunResult],
    groups: &[Group],
    points: &[AxisPoint],
) -> Option<(String, String, String)> {
    points.iter().find_map(|point| {
        let (_, value) = point.first()?;
        let r = records
            .iter()
            .find(|r| &tables::axis_point(&r.axes) == point)?;
        let (up, down) = (&r.network.path.up.loss, &r.network.path.down.loss);
        if !(conditions::no_random_loss(up) && conditions::no_random_loss(down)) {
            return None;
        }
        let queue = conditions::queue_drops(groups, point);
        conditions::queue_drops_text(&queue)?;
        Some((
            value.clone(),
            conditions::loss_text(&r.network, &queue),
            conditions::per_protocol(&queue),
        ))
    })
}
