//! The chart kinds, each drawn by one generic function over any plotters
//! backend ([`Chart::draw`]), and the per-run data some of them need
//! ([`waterfall_rows`], [`stream_lines`], [`multiplexing_lanes`],
//! [`stalled_streams`], [`goodput_bins`]).
//!
//! Every chart has a title at the top and a footer line at the bottom
//! saying what was run, so a chart lifted out of the report still says
//! where it came from.

use plotters::chart::MeshStyle;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use std::time::Duration;

use clients::RunRecord;
use netsim::nanos;
use scenarios::Protocol;

use super::{protocol_color, FAMILY};
use crate::conditions::count;

/// What drawing returns.
pub type Result = std::result::Result<(), Box<dyn std::error::Error>>;

/// A duration in milliseconds, from its nanoseconds.
fn ms(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

/// A chart that draws itself on any backend.
pub trait Chart {
    /// Draw onto `root`, the whole image, with `title` at the top and
    /// `footer` at the bottom.
    fn draw<DB>(&self, root: &DrawingArea<DB, Shift>, title: &str, footer: &str) -> Result
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static;
}

/// Light grid lines.
const GRID: RGBColor = RGBColor(228, 228, 228);
/// Secondary text.
const MUTED: RGBColor = RGBColor(90, 90, 90);

/// The font at `size` pixels.
fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

/// `color` blended toward white by `f` (0: unchanged, 1: white).
fn tint(color: RGBColor, f: f64) -> RGBColor {
    let mix = |c: u8| (f64::from(c) * (1.0 - f) + 255.0 * f).round() as u8;
    RGBColor(mix(color.0), mix(color.1), mix(color.2))
}

/// Fill `root` white, write `footer` along the bottom, and return the
/// area above it.
fn frame<DB>(
    root: &DrawingArea<DB, Shift>,
    footer: &str,
) -> std::result::Result<DrawingArea<DB, Shift>, Box<dyn std::error::Error>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (w, h) = root.dim_in_pixel();
    let style = (FAMILY, 11).into_font().color(&MUTED);
    let width = |text: &str| root.estimate_text_size(text, &style).map_or(0, |(w, _)| w);
    let lines = footer_lines(footer, w.saturating_sub(20), width);
    let height = 8 + 14 * lines.len() as u32;
    let (body, foot) = root.split_vertically(h.saturating_sub(height));
    for (i, line) in lines.into_iter().enumerate() {
        foot.draw(&Text::new(line, (10, 4 + 14 * i as i32), style.clone()))?;
    }
    Ok(body)
}

/// `footer` broken into lines no wider than `room` pixels (as `width`
/// measures text), at its ` · ` separators; a part wider than `room` on
/// its own keeps a line of its own.
fn footer_lines(footer: &str, room: u32, width: impl Fn(&str) -> u32) -> Vec<String> {
    const SEPARATOR: &str = " · ";
    let mut lines: Vec<String> = Vec::new();
    for part in footer.split(SEPARATOR) {
        match lines.last_mut() {
            Some(line) if width(&format!("{line}{SEPARATOR}{part}")) <= room => {
                line.push_str(SEPARATOR);
                line.push_str(part);
            }
            Some(line) => {
                // The separator ends the line, so the next one reads on.
                line.push_str(SEPARATOR.trim_end());
                lines.push(part.to_owned());
            }
            None => lines.push(part.to_owned()),
        }
    }
    lines
}

/// A chart on `body` in the house layout: `title` on top, label areas of
/// `(x, y)` pixels, linear `x` and `y` axes.
fn chart_area<'a, DB>(
    body: &'a DrawingArea<DB, Shift>,
    title: &str,
    (x_area, y_area): (u32, u32),
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> std::result::Result<Chart2d<'a, DB>, Box<dyn std::error::Error>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    Ok(ChartBuilder::on(body)
        .caption(title, font(17))
        .margin(14)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x, y)?)
}

/// The chart's mesh in the house style (tick labels through [`num`],
/// light grid); add axis descriptions, then `draw`.
fn mesh<'a, 'b, DB: DrawingBackend>(
    chart: &'b mut Chart2d<'a, DB>,
) -> MeshStyle<'a, 'b, RangedCoordf64, RangedCoordf64, DB> {
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&num)
        .y_label_formatter(&num)
        .label_style(font(12))
        .axis_desc_style(font(13))
        .light_line_style(WHITE)
        .bold_line_style(GRID);
    mesh
}

/// Every chart's coordinates: linear f64 on both axes.
type Chart2d<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A p10–p90 whisker at `mid`, its end caps `cap` wide each side.
fn whisker<DB>(chart: &mut Chart2d<'_, DB>, mid: f64, cap: f64, (p10, p90): (f64, f64)) -> Result
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    chart.draw_series(
        [
            vec![(mid, p10), (mid, p90)],
            vec![(mid - cap, p10), (mid + cap, p10)],
            vec![(mid - cap, p90), (mid + cap, p90)],
        ]
        .into_iter()
        .map(|p| PathElement::new(p, BLACK.stroke_width(1))),
    )?;
    Ok(())
}

/// A legend entry's line sample.
fn legend_line(color: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
}

/// The legend box, drawn where it hides the least (upper left or right).
fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, position: SeriesLabelPosition) -> Result
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .label_font(font(12))
        .draw()?;
    Ok(())
}

/// `lo..hi` padded so a flat range still has height.
fn padded(lo: f64, hi: f64) -> std::ops::Range<f64> {
    if hi > lo {
        let pad = (hi - lo) * 0.04;
        lo - pad..hi + pad
    } else {
        lo - 1.0..hi + 1.0
    }
}

/// The marker shape of a protocol's points in the line charts, so that
/// lines that coincide stay told apart by shape as well as by color.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// HTTP/1.1.
    Circle,
    /// HTTP/2.
    Square,
    /// HTTP/3.
    Triangle,
}

/// The marker of `protocol` in every line chart: HTTP/1.1 a circle,
/// HTTP/2 a square, HTTP/3 a triangle.
pub fn protocol_marker(protocol: Protocol) -> Marker {
    match protocol {
        Protocol::H1 => Marker::Circle,
        Protocol::H2 => Marker::Square,
        Protocol::H3 => Marker::Triangle,
    }
}

/// Draw `protocol`'s marker, in its color with a white rim, centred on
/// the pixel `at` of `area`.
fn draw_marker<DB>(area: &DrawingArea<DB, Shift>, protocol: Protocol, at: (i32, i32)) -> Result
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let color = protocol_color(protocol);
    let (fill, rim) = (color.filled(), WHITE.stroke_width(1));
    match protocol_marker(protocol) {
        Marker::Circle => {
            area.draw(&Circle::new(at, 5, fill))?;
            area.draw(&Circle::new(at, 5, rim))?;
        }
        Marker::Square => {
            let corners = [(at.0 - 4, at.1 - 4), (at.0 + 4, at.1 + 4)];
            area.draw(&Rectangle::new(corners, fill))?;
            area.draw(&Rectangle::new(corners, rim))?;
        }
        Marker::Triangle => {
            let corners = vec![(at.0, at.1 - 6), (at.0 + 6, at.1 + 4), (at.0 - 6, at.1 + 4)];
            area.draw(&Polygon::new(corners.clone(), fill))?;
            let mut outline = corners;
            outline.push(outline[0]);
            area.draw(&PathElement::new(outline, rim))?;
        }
    }
    Ok(())
}

/// A legend of protocols as one row above a plot, each a line sample
/// with its marker and a name, drawn on `strip` from its left edge at
/// height `y` (pixels in `strip`): outside the plot, so it covers no data.
fn protocol_legend_row<DB>(
    strip: &DrawingArea<DB, Shift>,
    x0: i32,
    y: i32,
    items: &[(Protocol, String)],
) -> Result
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let mut x = x0;
    for (protocol, name) in items {
        strip.draw(&PathElement::new(
            vec![(x, y), (x + 26, y)],
            protocol_color(*protocol).stroke_width(2),
        ))?;
        draw_marker(strip, *protocol, (x + 13, y))?;
        let label = font(12).pos(Pos::new(HPos::Left, VPos::Center));
        strip.draw(&Text::new(name.clone(), (x + 32, y), label.clone()))?;
        let (w, _) = strip.estimate_text_size(name, &label)?;
        x += 32 + w as i32 + 22;
    }
    Ok(())
}

/// The horizontal offset (dodge) of the `j`-th of `n` series, in units of
/// `step`: the series spread evenly around 0, the middle one unmoved.
pub fn dodge(j: usize, n: usize, step: f64) -> f64 {
    (j as f64 - (n.max(1) - 1) as f64 / 2.0) * step
}

/// One protocol's line in [`MetricVsAxis`].
#[derive(Clone, Debug, PartialEq)]
pub struct AxisSeries {
    /// The protocol.
    pub protocol: Protocol,
    /// `(x, p10, median, p90)` per axis point, in x order.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// How [`MetricVsAxis`] places its x values.
#[derive(Clone, Debug, PartialEq)]
pub enum XScale {
    /// To scale, linear.
    Linear,
    /// The swept values, ascending, equally spaced and each labelled with
    /// its value: not to scale, so that closely spaced small values (loss
    /// rates of 0, 0.25, 0.5 and 1 % beside 5, 7 and 10 %) get as much
    /// room as the large ones. Every point's x is one of them.
    Swept(Vec<f64>),
}

impl XScale {
    /// Where `x` goes on the chart's x axis: itself, or its index among
    /// the swept values (the nearest one's, for a value not among them).
    pub fn position(&self, x: f64) -> f64 {
        match self {
            XScale::Linear => x,
            XScale::Swept(values) => values
                .iter()
                .enumerate()
                .min_by(|a, b| (a.1 - x).abs().total_cmp(&(b.1 - x).abs()))
                .map_or(0.0, |(i, _)| i as f64),
        }
    }
}

/// A metric against a sweep axis: per protocol a median line with its
/// protocol's marker at each point and a p10–p90 band. Each protocol's
/// points are shifted sideways by a few pixels ([`dodge`]), so that
/// protocols with equal values (HTTP/1.1's and HTTP/3's head-of-line
/// blocked time, 0 by construction) are all seen; the legend is a row
/// above the plot.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricVsAxis {
    /// The x axis label, with unit.
    pub x_desc: String,
    /// The y axis label, with unit.
    pub y_desc: String,
    /// One per protocol.
    pub series: Vec<AxisSeries>,
    /// How x values are placed.
    pub x_scale: XScale,
}

impl Chart for MetricVsAxis {
    fn draw<DB>(&self, root: &DrawingArea<DB, Shift>, title: &str, footer: &str) -> Result
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        let body = frame(root, footer)?.titled(title, font(17))?;
        let (strip, plot) = body.split_vertically(26);
        let all = || self.series.iter().flat_map(|s| s.points.iter());
        let y_hi = (all().map(|p| p.3).fold(0.0, f64::max) * 1.08).max(1.0);
        let x = match &self.x_scale {
            XScale::Linear => {
                let x_lo = all().map(|p| p.0).fold(f64::INFINITY, f64::min);
                let x_hi = all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
                padded(x_lo, x_hi)
            }
            XScale::Swept(values) => -0.5..values.len().max(1) as f64 - 0.5,
        };
        // About 7 pixels of a some 780-pixel plot per series.
        let step = (x.end - x.start) * 0.009;
        let mut chart = ChartBuilder::on(&plot)
            .margin(14)
            .margin_top(4)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(x, 0.0..y_hi)?;
        match &self.x_scale {
            XScale::Linear => {
                mesh(&mut chart)
                    .x_desc(self.x_desc.as_str())
                    .y_desc(self.y_desc.as_str())
                    .draw()?;
            }
            XScale::Swept(values) => {
                // A tick and a grid line at each swept value, labelled
                // with the value itself.
                mesh(&mut chart)
                    .disable_x_mesh()
                    .x_labels(0)
                    .x_label_formatter(&|_| String::new())
                    .x_desc(self.x_desc.as_str())
                    .y_desc(self.y_desc.as_str())
                    .draw()?;
                for (i, v) in values.iter().enumerate() {
                    let x = i as f64;
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(x, 0.0), (x, y_hi)],
                        GRID.stroke_width(1),
                    )))?;
                    let (px, py) = chart.backend_coord(&(x, 0.0));
                    root.draw(&PathElement::new(
                        vec![(px, py), (px, py + 5)],
                        BLACK.stroke_width(1),
                    ))?;
                    root.draw(&Text::new(
                        num(v),
                        (px, py + 8),
                        font(12).pos(Pos::new(HPos::Center, VPos::Top)),
                    ))?;
                }
            }
        }
        let n = self.series.len();
        let shifted = |j: usize, s: &AxisSeries| -> Vec<(f64, f64, f64, f64)> {
            let dx = dodge(j, n, step);
            s.points
                .iter()
                .map(|&(x, lo, mid, hi)| (self.x_scale.position(x) + dx, lo, mid, hi))
                .collect()
        };
        for (j, s) in self.series.iter().enumerate() {
            let color = protocol_color(s.protocol);
            let points = shifted(j, s);
            let mut band: Vec<(f64, f64)> = points.iter().map(|p| (p.0, p.1)).collect();
            band.extend(points.iter().rev().map(|p| (p.0, p.3)));
            chart.draw_series(std::iter::once(Polygon::new(
                band,
                color.mix(0.18).filled(),
            )))?;
        }
        for (j, s) in self.series.iter().enumerate() {
            let points = shifted(j, s);
            chart.draw_series(LineSeries::new(
                points.iter().map(|p| (p.0, p.2)),
                protocol_color(s.protocol).stroke_width(2),
            ))?;
        }
        // Markers last, so that no line covers another protocol's marker.
        for (j, s) in self.series.iter().enumerate() {
            for p in shifted(j, s) {
                let at = chart.backend_coord(&(p.0, p.2));
                draw_marker(root, s.protocol, at)?;
            }
        }
        let items: Vec<(Protocol, String)> = self
            .series
            .iter()
            .map(|s| {
                let name = format!("{} median, p10–p90 band", s.protocol.name());
                (s.protocol, name)
            })
            .collect();
        protocol_legend_row(&strip, 84, 13, &items)
    }
}

/// Empirical CDFs of one metric, one line per protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct Cdf {
    /// The x axis label, with unit.
    pub x_desc: String,
    /// Per protocol, its values sorted ascending.
    pub series: Vec<(Protocol, Vec<f64>)>,
}

impl Chart for Cdf {
    fn draw<DB>(&self, root: &DrawingArea<DB, Shift>, title: &str, footer: &str) -> Result
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        let body = frame(root, footer)?;
        let all = || self.series.iter().flat_map(|(_, v)| v.iter().copied());
        let lo = all().fold(f64::INFINITY, f64::min);
        let hi = all().fold(f64::NEG_INFINITY, f64::max);
        let x = padded(lo, hi);
        let mut chart = chart_area(&body, title, (44, 70), x.clone(), 0.0..1.02)?;
        mesh(&mut chart)
            .x_desc(self.x_desc.as_str())
            .y_desc("fraction of runs")
            .draw()?;
        for (protocol, values) in &self.series {
            if values.is_empty() {
                continue;
            }
            let color = protocol_color(*protocol);
            let n = values.len() as f64;
            let mut steps = vec![(x.start, 0.0)];
            for (i, &v) in values.iter().enumerate() {
                steps.push((v, i as f64 / n));
                steps.push((v, (i + 1) as f64 / n));
            }
            steps.push((x.end, 1.0));
            chart
                .draw_series(LineSeries::new(steps, color.stroke_width(2)))?
                .label(format!("{} (n = {})", protocol.name(), values.len()))
                .legend(legend_line(color));
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}

/// One protocol's bars in [`Bars`].
#[derive(Clone, Debug, PartialEq)]
pub struct BarSeries {
    /// The protocol.
    pub protocol: Protocol,
    /// Per category, `(p10, median, p90)`; `None` without values.
    pub bars: Vec<Option<(f64, f64, f64)>>,
}

/// Grouped bars: per category, one bar per protocol (median) with a
/// p10–p90 whisker.
#[derive(Clone, Debug, PartialEq)]
pub struct Bars {
    /// The categories, left to right.
    pub categories: Vec<String>,
    /// The y axis label, with unit.
    pub y_desc: String,
    /// One per protocol.
    pub series: Vec<BarSeries>,
    /// A second unit shown beside each bar's value: its name and how
    /// many y units make one of it (for RTTs: the RTT in ms).
    pub second_axis: Option<(String, f64)>,
}

impl Chart for Bars {
    fn draw<DB>(&self, root: &DrawingArea<DB, Shift>, title: &str, footer: &str) -> Result
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        let body = frame(root, footer)?;
        let categories = self.categories.len().max(1) as f64;
        let y_hi = self
            .series
            .iter()
            .flat_map(|s| s.bars.iter().flatten())
            .map(|b| b.2)
            .fold(0.0, f64::max)
            .max(1.0)
            * 1.3;
        let mut chart = chart_area(&body, title, (40, 70), 0.0..categories, 0.0..y_hi)?;
        mesh(&mut chart)
            .disable_x_mesh()
            .x_labels(0)
            .x_label_formatter(&|_| String::new())
            .y_desc(self.y_desc.as_str())
            .draw()?;
        let protocols = self.series.len().max(1) as f64;
        let width = 0.8 / protocols;
        for (j, s) in self.series.iter().enumerate() {
            let color = protocol_color(s.protocol);
            let mut first = true;
            for (i, bar) in s.bars.iter().enumerate() {
                let Some((p10, median, p90)) = *bar else {
                    continue;
                };
                let x0 = i as f64 + 0.1 + j as f64 * width;
                let x1 = x0 + width * 0.92;
                let mid = (x0 + x1) / 2.0;
                let drawn = chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, 0.0), (x1, median)],
                    color.filled(),
                )))?;
                if first {
                    drawn
                        .label(s.protocol.name().to_owned())
                        .legend(move |(x, y)| {
                            Rectangle::new([(x, y - 6), (x + 16, y + 6)], color.filled())
                        });
                    first = false;
                }
                let cap = width * 0.15;
                whisker(&mut chart, mid, cap, (p10, p90))?;
                // The value, and above it the value in the second unit.
                let mut lines = vec![short(median)];
                if let Some((unit, per)) = self.second_axis.as_ref().filter(|(_, p)| *p > 0.0) {
                    lines.push(format!("{:.2} {unit}", median / per));
                }
                let (px, py) = chart.backend_coord(&(mid, p90.max(median)));
                for (k, line) in lines.into_iter().enumerate() {
                    root.draw(&Text::new(
                        line,
                        (px, py - 4 - 13 * k as i32),
                        font(11).pos(Pos::new(HPos::Center, VPos::Bottom)),
                    ))?;
                }
            }
        }
        for (i, name) in self.categories.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            root.draw(&Text::new(
                name.clone(),
                (px, py + 10),
                font(13).pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

/// One protocol's drops in [`TransportCost`].
#[derive(Clone, Debug, PartialEq)]
pub struct DropStack {
    /// The protocol (named under its bar).
    pub protocol: Protocol,
    /// Per reason of [`TransportCost::reasons`], in its order, the mean
    /// packets per run.
    pub means: Vec<f64>,
    /// p10 and p90 of the run's total drops.
    pub total_p10_p90: (f64, f64),
}

/// One protocol's retransmissions in [`TransportCost`]: per side (client,
/// server), `(p10, mean, p90)` per run; `None` without values.
#[derive(Clone, Debug, PartialEq)]
pub struct RetransmissionBars {
    /// The protocol (its color).
    pub protocol: Protocol,
    /// The client's, then the server's.
    pub sides: [Option<(f64, f64, f64)>; 2],
}

/// What a run cost the transport, in two panels on one packets-per-run
/// scale: on the left, per protocol, the packets the network dropped as
/// a stack of its reasons (one color per reason, the mean per run of
/// each, so the stack is the mean total; whisker p10–p90 of the total);
/// on the right, the packets each side retransmitted, one bar per
/// protocol in its color (mean, whisker p10–p90). Labels are packets to
/// a tenth ([`count`]); a segment too thin to label beside it is named
/// with its mean under its protocol. Each panel's legend is a row above its plot, so
/// no legend covers a bar.
#[derive(Clone, Debug, PartialEq)]
pub struct TransportCost {
    /// The drop reasons shown, with their colors: bottom to top in each
    /// stack, left to right in the legend.
    pub reasons: Vec<(String, RGBColor)>,
    /// Per protocol with completed runs.
    pub drops: Vec<DropStack>,
    /// Per protocol with completed runs.
    pub retransmissions: Vec<RetransmissionBars>,
}

/// A legend as one row of swatches and names, drawn on `strip` from its
/// left edge at height `y` (pixels in `strip`).
fn legend_row<DB>(strip: &DrawingArea<DB, Shift>, y: i32, items: &[(String, RGBColor)]) -> Result
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let mut x = 8;
    for (name, color) in items {
        strip.draw(&Rectangle::new(
            [(x, y - 6), (x + 14, y + 6)],
            color.filled(),
        ))?;
        let label = font(12).pos(Pos::new(HPos::Left, VPos::Center));
        strip.draw(&Text::new(name.clone(), (x + 19, y), label.clone()))?;
        let (w, _) = strip.estimate_text_size(name, &label)?;
        x += 19 + w as i32 + 16;
    }
    Ok(())
}

impl Chart for TransportCost {
    fn draw<DB>(&self, root: &DrawingArea<DB, Shift>, title: &str, footer: &str) -> Result
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        let body = frame(root, footer)?.titled(title, font(17))?;
        // One scale for both panels, with room for the labels on top.
        let drops_top = self
            .drops
            .iter()
            .map(|d| d.total_p10_p90.1.max(d.means.iter().sum()))
            .fold(0.0, f64::max);
        let retransmissions_top = self
            .retransmissions
            .iter()
            .flat_map(|r| r.sides.iter().flatten())
            .map(|&(_, mean, p90)| p90.max(mean))
            .fold(0.0, f64::max);
        let y_hi = drops_top.max(retransmissions_top).max(1.0) * 1.15;
        let (w, _) = body.dim_in_pixel();
        let (left, right) = body.split_horizontally(w * 11 / 20);

        // Left: drops by reason.
        let (strip, plot) = left.split_vertically(44);
        strip.draw(&Text::new(
            "dropped by the network (both ways), by reason",
            (8, 4),
            font(13),
        ))?;
        if self.reasons.is_empty() {
            strip.draw(&Text::new(
                "no run dropped a packet",
                (8, 24),
                (FAMILY, 12).into_font().color(&MUTED),
            ))?;
        } else {
            legend_row(&strip, 31, &self.reasons)?;
        }
        // A segment too thin to label beside it (under about 13 of the
        // plot's some 380 pixels) is named under its protocol instead, a
        // line each; both panels keep the same label area, so that their
        // scales line up.
        let thin = |mean: f64| mean < y_hi * 0.035;
        let thin_lines = self
            .drops
            .iter()
            .map(|d| d.means.iter().filter(|&&m| m > 0.0 && thin(m)).count())
            .max()
            .unwrap_or(0);
        let below = 30 + 14 * thin_lines as u32;
        let n = self.drops.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .margin_top(4)
            .x_label_area_size(below)
            .y_label_area_size(62)
            .build_cartesian_2d(0.0..n, 0.0..y_hi)?;
        mesh(&mut chart)
            .disable_x_mesh()
            .x_labels(0)
            .x_label_formatter(&|_| String::new())
            .y_desc("packets per run (mean; whisker p10–p90)")
            .draw()?;
        for (i, d) in self.drops.iter().enumerate() {
            let (x0, x1) = (i as f64 + 0.22, i as f64 + 0.72);
            let mid = (x0 + x1) / 2.0;
            let mut base = 0.0;
            let mut named_below = Vec::new();
            let segments = d.means.iter().filter(|&&m| m > 0.0).count();
            for (mean, (name, color)) in d.means.iter().zip(&self.reasons) {
                if *mean <= 0.0 {
                    continue;
                }
                let top = base + mean;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, base), (x1, top)],
                    color.filled(),
                )))?;
                // A white seam between stacked reasons.
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x0, top), (x1, top)],
                    WHITE.stroke_width(1),
                )))?;
                // The reason's mean beside its segment, or under the
                // protocol's name when the segment is too thin for it; a
                // stack of one reason has only its total.
                if segments >= 2 && thin(*mean) {
                    named_below.push(format!("{name} {}", count(*mean)));
                } else if segments >= 2 {
                    let (_, py_top) = chart.backend_coord(&(x1, top));
                    let (px, py_base) = chart.backend_coord(&(x1, base));
                    root.draw(&Text::new(
                        count(*mean),
                        (px + 4, (py_top + py_base) / 2),
                        font(11).pos(Pos::new(HPos::Left, VPos::Center)),
                    ))?;
                }
                base = top;
            }
            let (p10, p90) = d.total_p10_p90;
            let cap = 0.06;
            whisker(&mut chart, mid, cap, (p10, p90))?;
            let (px, py) = chart.backend_coord(&(mid, p90.max(base)));
            root.draw(&Text::new(
                format!("{} in all", count(base)),
                (px, py - 4),
                font(11).pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))?;
            let (px, py) = chart.backend_coord(&(mid, 0.0));
            root.draw(&Text::new(
                d.protocol.name().to_owned(),
                (px, py + 8),
                font(13).pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
            for (k, line) in named_below.into_iter().enumerate() {
                root.draw(&Text::new(
                    line,
                    (px, py + 26 + 14 * k as i32),
                    (FAMILY, 11)
                        .into_font()
                        .color(&MUTED)
                        .pos(Pos::new(HPos::Center, VPos::Top)),
                ))?;
            }
        }

        // Right: retransmissions, by side and protocol.
        let (strip, plot) = right.split_vertically(44);
        strip.draw(&Text::new("retransmitted", (8, 4), font(13)))?;
        let protocols: Vec<(String, RGBColor)> = self
            .retransmissions
            .iter()
            .map(|r| (r.protocol.name().to_owned(), protocol_color(r.protocol)))
            .collect();
        legend_row(&strip, 31, &protocols)?;
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .margin_top(4)
            .x_label_area_size(below)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..2.0, 0.0..y_hi)?;
        mesh(&mut chart)
            .disable_x_mesh()
            .x_labels(0)
            .x_label_formatter(&|_| String::new())
            .draw()?;
        let k = self.retransmissions.len().max(1) as f64;
        let width = 0.8 / k;
        for (j, r) in self.retransmissions.iter().enumerate() {
            let color = protocol_color(r.protocol);
            for (i, side) in r.sides.iter().enumerate() {
                let Some((p10, mean, p90)) = *side else {
                    continue;
                };
                let x0 = i as f64 + 0.1 + j as f64 * width;
                let x1 = x0 + width * 0.92;
                let mid = (x0 + x1) / 2.0;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, 0.0), (x1, mean)],
                    color.filled(),
                )))?;
                let cap = width * 0.15;
                whisker(&mut chart, mid, cap, (p10, p90))?;
                let (px, py) = chart.backend_coord(&(mid, p90.max(mean)));
                root.draw(&Text::new(
                    count(mean),
                    (px, py - 4),
                    font(11).pos(Pos::new(HPos::Center, VPos::Bottom)),
                ))?;
            }
        }
        for (i, name) in ["by the client", "by the server"].into_iter().enumerate() {
            let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            root.draw(&Text::new(
                name,
                (px, py + 8),
                font(13).pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        Ok(())
    }
}

/// An axis tick: no decimals on whole numbers, else up to 3.
fn num(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// A value for a bar's label: whole numbers without decimals, else about
/// three significant digits.
fn short(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// One request in a [`Waterfall`], times in ms.
#[derive(Clone, Debug, PartialEq)]
pub struct WaterfallRow {
    /// Connection, stream and object name.
    pub label: String,
    /// The connection that carried it.
    pub connection: Option<u32>,
    /// Queued.
    pub start: f64,
    /// Handed to the HTTP stack.
    pub sent: Option<f64>,
    /// Response head.
    pub first_byte: Option<f64>,
    /// Last body byte.
    pub last_byte: Option<f64>,
    /// Whether it failed.
    pub failed: bool,
}

/// The waterfall rows of a run: by connection, then start, then plan
/// order.
pub fn waterfall_rows(m: &RunRecord) -> Vec<WaterfallRow> {
    let mut rows: Vec<(Option<u32>, Duration, usize, WaterfallRow)> = m
        .requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let name = r.path.rsplit('/').next().unwrap_or(&r.path);
            let label = match (r.connection_id, r.stream_id) {
                (Some(c), Some(s)) => format!("c{c} s{s} {name}"),
                (Some(c), None) => format!("c{c} {name}"),
                _ => name.to_owned(),
            };
            (
                r.connection_id,
                r.start,
                i,
                WaterfallRow {
                    label,
                    connection: r.connection_id,
                    start: ms(r.start),
                    sent: r.request_sent.map(ms),
                    first_byte: r.first_byte.map(ms),
                    last_byte: r.last_byte.map(ms),
                    failed: r.error.is_some(),
                },
            )
        })
        .collect();
    rows.sort_by_key(|(c, start, i, _)| (c.is_none(), *c, *start, *i));
    rows.into_iter().map(|(_, _, _, r)| r).collect()
}

/// A per-request waterfall, grouped by connection.
#[derive(Clone, Debug, PartialEq)]
pub struct Waterfall {
    /// The protocol (its color).
    pub protocol: Protocol,
    /// The requests, top to bottom.
    pub rows: Vec<WaterfallRow>,
    /// The right end of the time axis (ms), shared by the waterfalls of
    /// one report ([`waterfall_end`]).
    pub t_hi: f64,
}

/// The right end of a time axis that holds every row of `runs`' rows,
/// so that their waterfalls share it.
pub fn waterfall_end<'a>(runs: impl IntoIterator<Item = &'a [WaterfallRow]>) -> f64 {
    runs.into_iter()
        .flatten()
        .flat_map(|r| [Some(r.start), r.sent, r.first_byte, r.last_byte])
        .flatten()
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.02
}

impl Chart for Waterfall {
    fn draw<DB>(&self, root: &DrawingArea<DB, Shift>, title: &str, footer: &str) -> Result
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        let body = frame(root, footer)?;
        let color = protocol_color(self.protocol);
        let n = self.rows.len() as f64;
        let t_hi = self.t_hi;
        let mut chart = chart_area(&body, title, (44, 190), 0.0..t_hi, 0.0..n)?;
        mesh(&mut chart)
            .disable_y_mesh()
            .y_labels(0)
            .y_label_formatter(&|_| String::new())
            .x_desc("time since the client started (ms)")
            .draw()?;
        // Row i spans y in [n - i - 1, n - i].
        let y = |i: usize| n - i as f64;
        let mut shade = false;
        let mut i = 0;
        while i < self.rows.len() {
            let c = self.rows[i].connection;
            let mut j = i;
            while j < self.rows.len() && self.rows[j].connection == c {
                j += 1;
            }
            if shade {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y(j)), (t_hi, y(i))],
                    RGBColor(244, 244, 244).filled(),
                )))?;
            }
            shade = !shade;
            i = j;
        }
        let queued = RGBColor(205, 205, 205);
        let waiting = tint(color, 0.6);
        for (i, r) in self.rows.iter().enumerate() {
            let (top, bottom) = (y(i) - 0.15, y(i) - 0.85);
            let mut segments = Vec::new();
            let sent = r.sent.or(r.first_byte).or(r.last_byte);
            if let Some(sent) = sent {
                segments.push((r.start, sent, queued));
            }
            if let (Some(sent), Some(first)) = (r.sent, r.first_byte) {
                segments.push((sent, first, waiting));
            }
            if let (Some(first), Some(last)) = (r.first_byte, r.last_byte) {
                segments.push((first, last, color));
            }
            for (a, b, c) in segments {
                // At least a hairline, so instant phases stay visible.
                let b = b.max(a + t_hi * 0.002);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(a, bottom), (b, top)],
                    c.filled(),
                )))?;
            }
            let (px, py) = chart.backend_coord(&(0.0, y(i) - 0.5));
            let label = if r.failed {
                format!("{} (failed)", r.label)
            } else {
                r.label.clone()
            };
            root.draw(&Text::new(
                label,
                (px - 8, py),
                font(11).pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        for (name, c) in [
            ("queued until sent", queued),
            ("waiting for the response head", waiting),
            ("receiving the body", color),
        ] {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, 0.0), (0.0, 0.0)],
                    c.filled(),
                )))?
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], c.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

/// One request's line in [`Streams`]: its label and `(ms, KiB)` points.
pub type StreamLine = (String, Vec<(f64, f64)>);

/// Per request with body bytes: its label and `(ms, KiB)` points of
/// cumulative body bytes as a step line ([`stream_line`]).
pub fn stream_lines(m: &RunRecord) -> Vec<StreamLine> {
    m.requests
        .iter()
        .filter(|r| !r.timeline.is_empty())
        .map(stream_line)
        .collect()
}

/// A request's label (its object's name) and `(ms, KiB)` points of
/// cumulative body bytes as a step line, from 0 at the time it was sent.
pub fn stream_line(r: &clients::RequestRecord) -> StreamLine {
    let name = r.path.rsplit('/').next().unwrap_or(&r.path).to_owned();
    let origin = r
        .request_sent
        .or(r.first_byte)
        .or(r.timeline.first().map(|p| p.0))
        .unwrap_or_default();
    // Steps, not slopes: bytes arrive at an instant, and a stall is a
    // flat stretch.
    let mut points = vec![(ms(origin), 0.0)];
    let mut before = 0.0;
    for &(t, b) in &r.timeline {
        let kib = b as f64 / 1024.0;
        points.push((ms(t), before));
        points.push((ms(t), kib));
        before = kib;
    }
    (name, points)
}

/// The x range (ms) and the largest y (KiB) of the [`stream_lines`] of
/// several runs together, so that their charts share both axes:
/// `(t_lo..t_hi, kib_hi)`.
pub fn stream_ranges<'a>(
    runs: impl IntoIterator<Item = &'a [StreamLine]>,
) -> (std::ops::Range<f64>, f64) {
    let (mut t_lo, mut t_hi, mut b_hi) = (f64::INFINITY, 0.0_f64, 0.0_f64);
    for streams in runs {
        for &(t, b) in streams.iter().flat_map(|(_, p)| p.iter()) {
            t_lo = t_lo.min(t);
            t_hi = t_hi.max(t);
            b_hi = b_hi.max(b);
        }
    }
    (padded(t_lo.min(t_hi), t_hi), b_hi.max(1.0) * 1.05)
}

/// Goodput of a run in bins of `bin_ns`, on the simulation's clock (the
/// run's times plus `origin`, the client's start): `(bin centre ms,
/// Mbit/s)`, every bin from 0 to the last byte, empty ones included.
pub fn goodput_bins(m: &RunRecord, origin: Duration, bin_ns: u64) -> Vec<(f64, f64)> {
    let origin_ns = nanos::to_u64(origin);
    let mut bins: Vec<u64> = Vec::new();
    for r in &m.requests {
        let mut before = 0;
        for &(t, total) in &r.timeline {
            let i = ((nanos::to_u64(t) + origin_ns) / bin_ns.max(1)) as usize;
            if bins.len() <= i {
                bins.resize(i + 1, 0);
            }
            bins[i] += total.saturating_sub(before);
            before = total;
        }
    }
    bins.iter()
        .enumerate()
        .map(|(i, &bytes)| {
            let centre = (i as f64 + 0.5) * bin_ns as f64 / 1e6;
            (centre, bytes as f64 * 8.0 * 1e3 / bin_ns as f64)
        })
        .collect()
}

/// One protocol's row in [`Goodput`].
#[derive(Clone, Debug, PartialEq)]
pub struct GoodputRow {
    /// The protocol.
    pub protocol: Protocol,
    /// From [`goodput_bins`].
    pub bins: Vec<(f64, f64)>,
    /// The interruption around the path change, ms of simulation time:
    /// from the last body byte before the change to the first after it
    /// (`MigrationRecord`); `None` if the run has no such record.
    pub interruption: Option<(f64, f64)>,
    /// What else the row says after the interruption's length (e.g. "1
    /// reconnection, 1 request resumed"); may be empty.
    pub note: String,
}

/// Goodput over time around a path change as small multiples: one row per
/// protocol, all on one time axis and one goodput scale, each with its
/// interruption shaded and labelled with its length, and the path change
/// as a dashed line through every row.
#[derive(Clone, Debug, PartialEq)]
pub struct Goodput {
    /// One per protocol, top to bottom.
    pub rows: Vec<GoodputRow>,
    /// When the path changed, ms of simulation time.
    pub change_ms: f64,
}

/// The shade of an interruption.
const INTERRUPTION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);

impl Chart for Goodput {
    fn draw<DB>(&self, root: &DrawingArea<DB, Shift>, title: &str, footer: &str) -> Result
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        let body = frame(root, footer)?.titled(title, font(17))?;
        let all = || self.rows.iter().flat_map(|r| r.bins.iter());
        let t_hi = all().map(|p| p.0).fold(self.change_ms, f64::max) * 1.02;
        let y_hi = all().map(|p| p.1).fold(0.0, f64::max).max(0.1) * 1.25;
        let (_, h) = body.dim_in_pixel();
        // The last row carries the time axis below it.
        let axis = 46;
        let n = self.rows.len().max(1) as u32;
        let row_h = h.saturating_sub(axis) / n;
        let mut rest = body;
        for (i, row) in self.rows.iter().enumerate() {
            let last = i + 1 == self.rows.len();
            let (area, below) = rest.split_vertically(if last { row_h + axis } else { row_h });
            rest = below;
            let color = protocol_color(row.protocol);
            let mut chart = ChartBuilder::on(&area)
                .margin_left(14)
                .margin_right(20)
                .margin_top(6)
                .x_label_area_size(if last { axis } else { 0 })
                .y_label_area_size(70)
                .build_cartesian_2d(0.0..t_hi, 0.0..y_hi)?;
            let mut m = mesh(&mut chart);
            m.y_labels(3).y_desc("Mbit/s");
            if last {
                m.x_desc("simulation time (ms)");
            }
            m.draw()?;
            if let Some((a, b)) = row.interruption {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(a, 0.0), (b.max(a + t_hi * 0.002), y_hi)],
                    INTERRUPTION.mix(0.3).filled(),
                )))?;
            }
            let dashes = 16;
            chart.draw_series((0..dashes).step_by(2).map(|k| {
                let a = y_hi * f64::from(k) / f64::from(dashes);
                let b = y_hi * f64::from(k + 1) / f64::from(dashes);
                PathElement::new(
                    vec![(self.change_ms, a), (self.change_ms, b)],
                    BLACK.stroke_width(1),
                )
            }))?;
            chart.draw_series(std::iter::once(Polygon::new(
                std::iter::once((0.0, 0.0))
                    .chain(row.bins.iter().copied())
                    .chain(row.bins.last().map(|&(t, _)| (t, 0.0)))
                    .collect::<Vec<_>>(),
                color.mix(0.2).filled(),
            )))?;
            chart.draw_series(LineSeries::new(
                row.bins.iter().copied(),
                color.stroke_width(2),
            ))?;
            // The protocol's name in the row's upper left, the
            // interruption's length beside its shade, the path change
            // named in the top row.
            let (px, py) = chart.backend_coord(&(0.0, y_hi));
            root.draw(&Text::new(
                row.protocol.name().to_owned(),
                (px + 8, py + 4),
                font(13).pos(Pos::new(HPos::Left, VPos::Top)),
            ))?;
            let label = match row.interruption {
                Some((a, b)) => format!("interruption {} ms", short(b - a)),
                None => "no interruption recorded".to_owned(),
            };
            let label = if row.note.is_empty() {
                label
            } else {
                format!("{label} · {}", row.note)
            };
            let right_of = row
                .interruption
                .map_or(self.change_ms, |(_, b)| b.max(self.change_ms));
            let (lx, ly) = chart.backend_coord(&(right_of, y_hi));
            root.draw(&Text::new(
                label,
                (lx + 6, ly + 22),
                (FAMILY, 12)
                    .into_font()
                    .color(&INTERRUPTION)
                    .pos(Pos::new(HPos::Left, VPos::Top)),
            ))?;
            if i == 0 {
                let (cx, cy) = chart.backend_coord(&(self.change_ms, y_hi));
                root.draw(&Text::new(
                    "path change",
                    (cx + 6, cy + 4),
                    font(12).pos(Pos::new(HPos::Left, VPos::Top)),
                ))?;
            }
        }
        Ok(())
    }
}

/// The colors of streams in the multiplexing strip and the stalled
/// streams' panels, by request index in plan order, repeating after ten
/// (a categorical palette of ten well-separated hues).
pub const STREAM_PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xBA, 0xB0, 0xAC),
];

/// The color of the stream of request `index` (plan order).
pub fn stream_color(index: usize) -> RGBColor {
    STREAM_PALETTE[index % STREAM_PALETTE.len()]
}

/// The color of bytes held behind a hole in the multiplexing strip.
const HELD: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// One connection in a [`Multiplexing`] strip: the body pieces it
/// delivered, laid out in time, and when its transport held bytes behind
/// a hole.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    /// The connection's id.
    pub connection: u32,
    /// Per body piece, in delivery order: the request's index (plan
    /// order) and the piece's start and end on the strip (ms). A piece is
    /// as wide as its bytes take at the bottleneck rate, and starts at its
    /// delivery or where the piece before it on the lane ends, whichever
    /// is later: a burst released at one instant is laid out one piece
    /// after another.
    pub pieces: Vec<(usize, f64, f64)>,
    /// When the transport held bytes that had arrived behind a hole, as
    /// merged intervals (ms); empty when not recorded (QUIC, smoltcp).
    pub held: Vec<(f64, f64)>,
}

/// Merge `intervals` (any order) into disjoint ones, ascending.
fn merge(mut intervals: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    intervals.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (a, b) in intervals {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// The lanes of a run's multiplexing strip, one per connection that
/// delivered body bytes, in connection order. `origin` is the simulated
/// time the run's clock started (its segment arrivals are in simulated
/// time); `bytes_per_ms` the bottleneck's rate down.
pub fn multiplexing_lanes(m: &RunRecord, origin: Duration, bytes_per_ms: f64) -> Vec<Lane> {
    let mut by_connection: std::collections::BTreeMap<u32, Vec<(Duration, usize, u64)>> =
        std::collections::BTreeMap::new();
    for (i, r) in m.requests.iter().enumerate() {
        let Some(c) = r.connection_id else {
            continue;
        };
        let mut before = 0;
        for &(t, total) in &r.timeline {
            if total > before {
                by_connection
                    .entry(c)
                    .or_default()
                    .push((t, i, total - before));
            }
            before = total;
        }
    }
    by_connection
        .into_iter()
        .map(|(connection, mut deliveries)| {
            deliveries.sort_by_key(|&(t, i, _)| (t, i));
            let mut end = f64::NEG_INFINITY;
            let pieces = deliveries
                .into_iter()
                .map(|(t, i, bytes)| {
                    let start = ms(t).max(end);
                    end = start + bytes as f64 / bytes_per_ms.max(1e-9);
                    (i, start, end)
                })
                .collect();
            let held = m
                .connections
                .iter()
                .find(|c| c.id == connection)
                .and_then(|c| c.stats.as_ref()?.arrivals.as_deref())
                .map(|a| {
                    merge(
                        clients::hol::Hold::from_arrivals(a, origin)
                            .into_iter()
                            .map(|h| (ms(h.arrived), ms(h.readable)))
                            .collect(),
                    )
                })
                .unwrap_or_default();
            Lane {
                connection,
                pieces,
                held,
            }
        })
        .collect()
}

/// The end of a time axis that holds every piece and hold of `lanes`.
pub fn lanes_end<'a>(lanes: impl IntoIterator<Item = &'a Lane>) -> f64 {
    lanes
        .into_iter()
        .flat_map(|l| {
            let pieces = l.pieces.iter().map(|p| p.2);
            pieces.chain(l.held.iter().map(|h| h.1))
        })
        .fold(1.0, f64::max)
        * 1.02
}

/// A qvis-style multiplexing strip of one run: per connection a lane over
/// time in which each body piece is colored by its request's stream
/// ([`stream_color`]), so interleaving and sequential delivery show, with
/// a dark bar under the lane while its transport held bytes behind a
/// hole (head-of-line blocking when the bytes released belong to more than
/// one stream).
#[derive(Clone, Debug, PartialEq)]
pub struct Multiplexing {
    /// The protocol.
    pub protocol: Protocol,
    /// From [`multiplexing_lanes`].
    pub lanes: Vec<Lane>,
    /// The right end of the time axis (ms), shared by the strips of one
    /// report ([`lanes_end`]).
    pub t_hi: f64,
    /// Whether the transport records held bytes (TCP in the lab); if not,
    /// the legend says so.
    pub holds_recorded: bool,
}

impl Chart for Multiplexing {
    fn draw<DB>(&self, root: &DrawingArea<DB, Shift>, title: &str, footer: &str) -> Result
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        let body = frame(root, footer)?.titled(title, font(17))?;
        let (strip, plot) = body.split_vertically(26);
        let mut x = 8;
        for k in 0..STREAM_PALETTE.len() {
            strip.draw(&Rectangle::new(
                [(x + 7 * k as i32, 7), (x + 7 * k as i32 + 7, 19)],
                stream_color(k).filled(),
            ))?;
        }
        x += 7 * STREAM_PALETTE.len() as i32 + 6;
        let label = font(12).pos(Pos::new(HPos::Left, VPos::Center));
        let text = "one color per request (stream), plan order, repeating after 10";
        strip.draw(&Text::new(text, (x, 13), label.clone()))?;
        let (w, _) = strip.estimate_text_size(text, &label)?;
        x += w as i32 + 24;
        let held = if self.holds_recorded {
            "bytes held by TCP behind a missing segment"
        } else {
            "held bytes not recorded for this transport"
        };
        let swatch = [(x, 10), (x + 18, 16)];
        if self.holds_recorded {
            strip.draw(&Rectangle::new(swatch, HELD.filled()))?;
        } else {
            strip.draw(&Rectangle::new(swatch, HELD.stroke_width(1)))?;
        }
        strip.draw(&Text::new(held, (x + 24, 13), label))?;
        let n = self.lanes.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&plot)
            .margin(14)
            .margin_top(4)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..self.t_hi, 0.0..n)?;
        mesh(&mut chart)
            .disable_y_mesh()
            .y_labels(0)
            .y_label_formatter(&|_| String::new())
            .x_desc("time since the client started (ms); each piece as wide as its bytes take at the bottleneck rate")
            .draw()?;
        for (i, lane) in self.lanes.iter().enumerate() {
            let base = n - i as f64 - 1.0;
            chart.draw_series(lane.pieces.iter().map(|&(stream, a, b)| {
                Rectangle::new(
                    [(a, base + 0.3), (b, base + 0.92)],
                    stream_color(stream).filled(),
                )
            }))?;
            chart.draw_series(lane.held.iter().map(|&(a, b)| {
                Rectangle::new(
                    [(a, base + 0.1), (b.max(a + self.t_hi * 0.002), base + 0.24)],
                    HELD.filled(),
                )
            }))?;
            // The connection, with its protocol's color beside it.
            let (px, py) = chart.backend_coord(&(0.0, base + 0.55));
            root.draw(&Text::new(
                format!("connection {}", lane.connection),
                (px - 12, py),
                font(11).pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
            root.draw(&Rectangle::new(
                [(px - 8, py - 8), (px - 3, py + 8)],
                protocol_color(self.protocol).filled(),
            ))?;
        }
        Ok(())
    }
}

/// One panel of [`Stalled`]: a stream's cumulative body bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct StalledPanel {
    /// The request's index in plan order (its color).
    pub index: usize,
    /// What the panel is: stream, object, and its figures.
    pub label: String,
    /// `(ms, KiB)` steps, from [`stream_lines`].
    pub points: Vec<(f64, f64)>,
    /// When its connection held bytes behind a hole while the stream was
    /// receiving (ms).
    pub held: Vec<(f64, f64)>,
}

/// The streams of a run that stalled most, ranked by the delay
/// head-of-line blocking added to them (`hol_added_ns`), then by their
/// longest gap between two body pieces, then plan order: up to `k`
/// request indices with each one's added delay and longest gap (ms).
pub fn stalled_streams(m: &RunRecord, k: usize) -> Vec<(usize, Option<f64>, f64)> {
    let mut ranked: Vec<(usize, Option<f64>, f64)> = m
        .requests
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.timeline.is_empty())
        .map(|(i, r)| {
            let gap = r
                .timeline
                .windows(2)
                .map(|w| ms(w[1].0.saturating_sub(w[0].0)))
                .fold(0.0, f64::max);
            (i, r.hol_added.map(ms), gap)
        })
        .collect();
    ranked.sort_by(|a, b| {
        let added = |x: &(usize, Option<f64>, f64)| x.1.unwrap_or(0.0);
        added(b)
            .total_cmp(&added(a))
            .then(b.2.total_cmp(&a.2))
            .then(a.0.cmp(&b.0))
    });
    ranked.truncate(k);
    ranked
}

/// Small multiples of the streams that stalled most ([`stalled_streams`]):
/// a panel each, on one time axis, each with its own byte scale, shaded
/// while its connection held bytes behind a hole.
#[derive(Clone, Debug, PartialEq)]
pub struct Stalled {
    /// The protocol.
    pub protocol: Protocol,
    /// Left to right, then top to bottom.
    pub panels: Vec<StalledPanel>,
    /// The time axis (ms), shared with the other protocols' panels.
    pub x: std::ops::Range<f64>,
}

/// Columns of [`Stalled`]'s grid.
pub const STALLED_COLUMNS: usize = 2;

impl Chart for Stalled {
    fn draw<DB>(&self, root: &DrawingArea<DB, Shift>, title: &str, footer: &str) -> Result
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        let body = frame(root, footer)?.titled(title, font(17))?;
        let rows = self.panels.len().div_ceil(STALLED_COLUMNS).max(1);
        let cells = body.split_evenly((rows, STALLED_COLUMNS));
        for (panel, cell) in self.panels.iter().zip(cells.iter()) {
            let (head, area) = cell.split_vertically(20);
            // The protocol's color, then what the panel shows.
            head.draw(&Rectangle::new(
                [(62, 5), (68, 16)],
                protocol_color(self.protocol).filled(),
            ))?;
            head.draw(&Text::new(panel.label.clone(), (74, 4), font(12)))?;
            let b_hi = panel
                .points
                .iter()
                .map(|p| p.1)
                .fold(0.0, f64::max)
                .max(1.0)
                * 1.08;
            let mut chart = ChartBuilder::on(&area)
                .margin(8)
                .margin_top(2)
                .x_label_area_size(24)
                .y_label_area_size(62)
                .build_cartesian_2d(self.x.clone(), 0.0..b_hi)?;
            mesh(&mut chart).y_labels(3).y_desc("KiB").draw()?;
            chart.draw_series(
                panel
                    .held
                    .iter()
                    .map(|&(a, b)| Rectangle::new([(a, 0.0), (b, b_hi)], HELD.mix(0.15).filled())),
            )?;
            chart.draw_series(LineSeries::new(
                panel.points.iter().copied(),
                stream_color(panel.index).stroke_width(2),
            ))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::footer_lines;

    #[test]
    fn a_footer_too_wide_breaks_at_its_separators() {
        // Each character 1 pixel wide.
        let width = |t: &str| t.chars().count() as u32;
        let footer = "loss 2 % · RTT 50 ms · 10 Mbit/s · 30 seeds · http";
        assert_eq!(footer_lines(footer, 100, width), [footer]);
        assert_eq!(
            footer_lines(footer, 24, width),
            ["loss 2 % · RTT 50 ms ·", "10 Mbit/s · 30 seeds ·", "http"]
        );
        // A part wider than the room keeps its own line.
        assert_eq!(
            footer_lines("a · a very long part · b", 5, width),
            ["a ·", "a very long part ·", "b"]
        );
    }
}
