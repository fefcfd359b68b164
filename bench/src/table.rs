//! The short table a sweep prints at its end: per protocol and axis
//! values, the runs, how many failed, and of the runs that completed: when
//! the runs loaded a page as a browser does, the median first render,
//! DOMContentLoaded and speed index (the times a person waits for, first);
//! the median, 10th and 90th percentile page load time; and the median time
//! to first byte.

use std::fmt::Write as _;

use records::Outcome;
use scenarios::Protocol;

use crate::results::StoredRun;

/// One row: a protocol at one combination of axis values.
#[derive(Clone, Debug, PartialEq)]
pub struct TableRow {
    /// The protocol.
    pub protocol: Protocol,
    /// The axis values, `name=value` joined by spaces (empty without axes).
    pub axes: String,
    /// Runs in the group.
    pub runs: usize,
    /// Runs that failed or timed out.
    pub failed: usize,
    /// Median page load time of the completed runs, in seconds.
    pub median_s: Option<f64>,
    /// 10th percentile, seconds.
    pub p10_s: Option<f64>,
    /// 90th percentile, seconds.
    pub p90_s: Option<f64>,
    /// Median time to first byte of the completed runs, in seconds.
    pub median_ttfb_s: Option<f64>,
    /// Median first render of the completed runs with page times, seconds.
    pub median_first_render_s: Option<f64>,
    /// Median DOMContentLoaded, seconds.
    pub median_dcl_s: Option<f64>,
    /// Median speed index, seconds.
    pub median_speed_index_s: Option<f64>,
}

/// The rows for `runs`, grouped by protocol and axis values, in summary
/// order.
pub fn rows<'a>(runs: impl IntoIterator<Item = &'a StoredRun>) -> Vec<TableRow> {
    let mut runs: Vec<&StoredRun> = runs.into_iter().collect();
    runs.sort_by(|a, b| crate::results::summary_order(a).cmp(&crate::results::summary_order(b)));
    let mut groups: Vec<(Protocol, String, Vec<&StoredRun>)> = Vec::new();
    for run in runs {
        let axes = run
            .axes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        match groups
            .iter_mut()
            .find(|(p, a, _)| *p == run.protocol && *a == axes)
        {
            Some(group) => group.2.push(run),
            None => groups.push((run.protocol, axes, vec![run])),
        }
    }
    groups
        .into_iter()
        .map(|(protocol, axes, runs)| {
            let mut plt: Vec<f64> = runs
                .iter()
                .filter(|r| r.outcome == Outcome::Ok)
                .filter_map(|r| r.plt)
                .map(seconds)
                .collect();
            plt.sort_by(f64::total_cmp);
            let mut ttfb: Vec<f64> = runs
                .iter()
                .filter(|r| r.outcome == Outcome::Ok)
                .filter_map(|r| r.ttfb)
                .map(seconds)
                .collect();
            ttfb.sort_by(f64::total_cmp);
            let median_of = |time: fn(&StoredRun) -> Option<std::time::Duration>| {
                let mut v: Vec<f64> = runs
                    .iter()
                    .filter(|r| r.outcome == Outcome::Ok)
                    .filter_map(|r| time(r))
                    .map(seconds)
                    .collect();
                v.sort_by(f64::total_cmp);
                percentile(&v, 0.5)
            };
            TableRow {
                median_first_render_s: median_of(|r| r.first_render),
                median_dcl_s: median_of(|r| r.dom_content_loaded),
                median_speed_index_s: median_of(|r| r.speed_index),
                protocol,
                axes,
                runs: runs.len(),
                failed: runs.iter().filter(|r| r.outcome != Outcome::Ok).count(),
                median_s: percentile(&plt, 0.5),
                p10_s: percentile(&plt, 0.1),
                p90_s: percentile(&plt, 0.9),
                median_ttfb_s: percentile(&ttfb, 0.5),
            }
        })
        .collect()
}

/// `d` in seconds, from its nanoseconds.
fn seconds(d: std::time::Duration) -> f64 {
    d.as_nanos() as f64 / 1e9
}

/// The `q` quantile of sorted `values`, interpolating linearly between
/// the two nearest ranks (the "type 7" estimator of R and NumPy); `None`
/// for no values.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

/// `rows` as aligned text, one line per row under a header; the page-time
/// columns only when some row has page times.
pub fn render(rows: &[TableRow]) -> String {
    let seconds = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |s| format!("{s:.3} s"));
    let millis =
        |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |s| format!("{:.1} ms", s * 1e3));
    let page = rows.iter().any(|r| r.median_first_render_s.is_some());
    let mut header = vec!["protocol", "axes", "runs", "failed"];
    if page {
        header.extend(["median render", "median DCL", "median SI"]);
    }
    header.extend(["median PLT", "p10", "p90", "median TTFB"]);
    let mut cells: Vec<Vec<String>> = vec![header.into_iter().map(str::to_owned).collect()];
    for r in rows {
        let mut row = vec![
            r.protocol.to_string(),
            if r.axes.is_empty() {
                "-".to_owned()
            } else {
                r.axes.clone()
            },
            r.runs.to_string(),
            r.failed.to_string(),
        ];
        if page {
            row.extend([
                seconds(r.median_first_render_s),
                seconds(r.median_dcl_s),
                seconds(r.median_speed_index_s),
            ]);
        }
        row.extend([
            seconds(r.median_s),
            seconds(r.p10_s),
            seconds(r.p90_s),
            millis(r.median_ttfb_s),
        ]);
        cells.push(row);
    }
    let mut widths = vec![0usize; cells[0].len()];
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &cells {
        let mut line = String::new();
        for (i, (cell, &w)) in row.iter().zip(&widths).enumerate() {
            if i < 2 {
                let _ = write!(line, "{cell:<w$}  ");
            } else {
                let _ = write!(line, "{cell:>w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(percentile(&v, 0.5), Some(5.5));
        assert!((percentile(&v, 0.1).unwrap() - 1.9).abs() < 1e-12);
        assert!((percentile(&v, 0.9).unwrap() - 9.1).abs() < 1e-12);
        assert_eq!(percentile(&[3.0], 0.9), Some(3.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
