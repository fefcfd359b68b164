//! reports: tables, statistics and a generated methodology, rendered from
//! a results directory's raw results only (`results.jsonl`, and
//! `scenario.toml` when present). Rendering the same directory twice gives
//! the same bytes.
//!
//! The records are `records::RunResult`s, read a line at a time with
//! `records::ResultsReader`, which checks each line as `bench`'s reader
//! does: a line bench would reject is an error here too, naming the file
//! and the line. (No dependency on `bench`.) Of each record the report
//! keeps its metric values and the record without its long series
//! ([`tables::Values`]); the representative runs' charts read theirs
//! again, so memory grows with the runs, not with the file.
//!
//! Map of the crate:
//! - [`stats`]: quantiles (type 7), the mean, percentile-bootstrap
//!   intervals of the mean and of the difference against HTTP/2, and
//!   differences paired by seed;
//! - [`tables`]: runs grouped by axis point and protocol, per-metric rows,
//!   `stats.csv`;
//! - [`conditions`]: an axis point's network and losses in words ("no
//!   random loss (139 queue drops per run)"), for captions, axis labels
//!   and the Results section;
//! - [`methodology`]: the generated "Methodology" section;
//! - [`document`]: a report as blocks, written as Markdown and as
//!   self-contained HTML;
//! - [`ablation`]: the head-of-line ablation (bundled against
//!   multiplexed, paired by seed), when the results sweep
//!   `subresource_responses`;
//! - [`events`]: with against without the network events (paired by seed,
//!   and object by object), when the results sweep `network_events`;
//! - [`charts`]: the charts (plotters), each as SVG and PNG;
//! - [`calibration`]: the side-by-side table of a calibration (simulated
//!   and kernel runs of the same workload), `calibration.md`;
//! - [`render`]: all of it, from a results directory to `report.md`,
//!   `index.html`, `stats.csv` and `charts/`.

pub mod ablation;
pub mod calibration;
pub mod charts;
pub mod conditions;
pub mod document;
pub mod events;
pub mod methodology;
pub mod stats;
pub mod tables;

use std::fs;
use std::path::{Path, PathBuf};

use records::{ResultsReader, RunResult};
use sha2::{Digest, Sha256};

use document::Block;
use tables::{Difference, Metric, Row, BASELINE};

/// The raw results a report reads.
pub const RESULTS_FILE: &str = records::RESULTS_FILE;
/// The resolved scenario, read when present.
pub const SCENARIO_FILE: &str = "scenario.toml";
/// The Markdown report.
pub const REPORT_MD: &str = "report.md";
/// The HTML report.
pub const REPORT_HTML: &str = "index.html";
/// The tables' numbers, in full precision, one row per axis point,
/// protocol and metric (the raw results' per-run `stats.csv` is another
/// file, in the results directory).
pub const STATS_CSV: &str = "stats.csv";

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// `results.jsonl` could not be read, or a line of it is not a
    /// record (the error names the file and the line).
    #[error(transparent)]
    Read(#[from] records::ReadError),
    /// `results.jsonl` holds no complete record.
    #[error("{0}: no run records")]
    Empty(PathBuf),
    /// A line of `results.jsonl` read again (to draw its run, or for the
    /// records' digest) is not what the first reading found: something
    /// wrote to the file meanwhile.
    #[error(
        "{path}:{line}: changed while the report read it; render again once nothing writes to it"
    )]
    Changed {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
    },
    /// A chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] charts::ChartError),
}

/// What [`render`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportSummary {
    /// Runs in the report.
    pub runs: usize,
    /// Of those, runs that failed.
    pub failed: usize,
    /// Of those, runs that timed out.
    pub timed_out: usize,
    /// Groups (axis point × protocol).
    pub groups: usize,
    /// Records of `results.jsonl` left out: another scenario version or
    /// lab build, or a repeated run key.
    pub left_out: usize,
    /// Kernel runs (`mode = kernel`) in `results.jsonl`, which the report
    /// leaves out: `httplab calibrate` reports them beside the simulation.
    pub kernel_runs: usize,
    /// The files written, in `out_dir`.
    pub files: Vec<PathBuf>,
    /// What a reader should know about the records, one line each naming
    /// the file, the line and the run: a record left out because its run
    /// key is not a run of the scenario, a record that is implausible
    /// ([`RunResult::implausible`]).
    pub warnings: Vec<String>,
}

/// What [`read_results`] read.
pub(crate) struct Results {
    /// The file, to read a line of it again.
    reader: ResultsReader,
    /// Every record, in file order, [`slim`]: without the long series.
    all: Vec<RunResult>,
    /// Each of `all`'s metric values, computed from its full record.
    values: Vec<tables::Values>,
    /// Where each of `all` is in the file.
    lines: Vec<Line>,
}

/// A record's line in `results.jsonl`, to read it again in full.
#[derive(Clone, Copy, Debug)]
struct Line {
    /// Its line number, from 1.
    number: usize,
    /// Where it is.
    at: records::LineAt,
    /// SHA-256 of the line, to tell that a second reading found it as the
    /// first did.
    sha256: [u8; 32],
}

impl Results {
    /// Record `i` of `all` again, in full, with its series.
    fn full(&mut self, i: usize) -> Result<RunResult, Error> {
        let (line, changed) = self.changed(i);
        match self.reader.record_at(line.number, line.at) {
            Ok(read) if Sha256::digest(read.text.as_bytes())[..] == line.sha256 => Ok(read.record),
            Err(e @ records::ReadError::Io { .. }) => Err(e.into()),
            // Another line, or no longer a record.
            Ok(_) | Err(_) => Err(changed),
        }
    }

    /// Record `i`'s line as written, read again.
    fn text(&mut self, i: usize) -> Result<&str, Error> {
        let (line, changed) = self.changed(i);
        let text = self.reader.text_at(line.at)?;
        if Sha256::digest(text.as_bytes())[..] != line.sha256 {
            return Err(changed);
        }
        Ok(text)
    }

    /// Where record `i` is, and the [`Error::Changed`] to give if a second
    /// reading finds another line there.
    fn changed(&self, i: usize) -> (Line, Error) {
        let line = self.lines[i];
        let error = Error::Changed {
            path: self.reader.path().to_owned(),
            line: line.number,
        };
        (line, error)
    }
}

/// `results_dir`'s `results.jsonl` and every record in it, in file order
/// (a partial last line left out), each with its line and metric values,
/// in one pass that holds one full record at a time: each is kept
/// [`slim`]. [`Error::Empty`] if it holds none.
pub(crate) fn read_results(results_dir: &Path) -> Result<Results, Error> {
    let results_path = results_dir.join(RESULTS_FILE);
    let mut reader = ResultsReader::open(&results_path)?;
    let (mut all, mut values, mut lines) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(line) = reader.next_record() {
        let line = line?;
        lines.push(Line {
            number: line.number,
            at: line.at,
            sha256: Sha256::digest(line.text.as_bytes()).into(),
        });
        let mut record = line.record;
        values.push(tables::Values::of(&record));
        slim(&mut record);
        all.push(record);
    }
    if all.is_empty() {
        return Err(Error::Empty(results_path));
    }
    Ok(Results {
        reader,
        all,
        values,
        lines,
    })
}

/// `r` without the long series, which only the charts of a representative
/// run draw (they read it again in full) and only [`tables::Values`]
/// otherwise needs: the client's segment arrivals, RTT samples and stack
/// counters, the server's likewise, and every request's body timeline.
/// They are most of a record's memory (about 70 % at 2 % loss), so a
/// report of any number of runs holds what is left of each.
fn slim(r: &mut RunResult) {
    let slim_stats = |s: &mut netsim::TransportStats| {
        s.arrivals = None;
        s.rtt_samples = Vec::new();
        s.stack_counters = Vec::new();
    };
    if let Some(m) = r.measurements.as_mut() {
        for c in &mut m.connections {
            if let Some(s) = c.stats.as_mut() {
                slim_stats(s);
            }
        }
        for q in &mut m.requests {
            q.timeline = Vec::new();
        }
    }
    for c in r.server_connections.iter_mut().flatten() {
        slim_stats(&mut c.stats);
    }
}

/// The run keys of the scenario file `scenario` (its bytes), if it parses
/// and is the version with content hash `hash`: the runs a report of
/// `hash`'s records covers. The hash leaves the seeds out, so records of
/// seeds the file no longer lists share it; this tells them apart.
pub(crate) fn scenario_run_keys(
    scenario: Option<&[u8]>,
    hash: &str,
) -> Option<std::collections::BTreeSet<String>> {
    scenario
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| scenarios::Scenario::from_toml(s, SCENARIO_FILE).ok())
        .filter(|s| s.content_hash() == hash)
        .map(|s| s.expand().iter().map(|r| r.key()).collect())
}

/// Render the report of the results directory `results_dir` into
/// `out_dir` (created if absent): `report.md`, `index.html` and
/// `stats.csv`.
///
/// Reads only `results.jsonl` and, when present, `scenario.toml`. The
/// report covers one scenario version: the one whose content hash
/// `scenario.toml` names, else the last record's, and, of its records,
/// the lab build (version, commit, dirty) of the last one, as a sweep's
/// own summary does. Records of other scenario versions or builds, and
/// repeats of a run key (merge keeps the first), are counted and left
/// out. A partial last line (an interrupted
/// write) is ignored; any other line that is not a record is an error
/// ([`Error::Read`]).
pub fn render(results_dir: &Path, out_dir: &Path) -> Result<ReportSummary, Error> {
    let mut results = read_results(results_dir)?;
    let all = std::mem::take(&mut results.all);
    let scenario_path = results_dir.join(SCENARIO_FILE);
    let scenario = match fs::read(&scenario_path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(Error::Io {
                path: scenario_path,
                source,
            })
        }
    };
    let hash = scenario
        .as_deref()
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.trim().strip_prefix("# content hash:"))
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| all.iter().any(|r| &r.scenario_hash == h))
        .or_else(|| all.last().map(|r| r.scenario_hash.clone()))
        .ok_or_else(|| Error::Empty(results_dir.join(RESULTS_FILE)))?;
    let build = |r: &RunResult| r.lab.build_id();
    // Kernel runs (`httplab calibrate`) have their own report; they are
    // counted apart, not as left out.
    let simulated = |r: &&RunResult| r.mode == records::Mode::Sim;
    let kernel_runs = all
        .iter()
        .filter(|r| r.mode == records::Mode::Kernel)
        .count();
    let latest = all
        .iter()
        .rev()
        .filter(simulated)
        .find(|r| r.scenario_hash == hash)
        .map(build);
    // The runs the scenario file describes, when it is there and is the
    // version the records came from: a record whose run key is not one of
    // them is left out, as `bench` leaves it out, and said.
    let expected = scenario_run_keys(scenario.as_deref(), &hash);
    let mut warnings = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    // Records of the scenario's version whose run is not in the scenario
    // file (a seed or point a later sweep dropped): counted, and said once.
    let mut unknown: Vec<usize> = Vec::new();
    let mut selected: Vec<usize> = (0..all.len())
        .filter(|&i| simulated(&&all[i]))
        .filter(|&i| all[i].scenario_hash == hash && Some(build(&all[i])) == latest)
        .filter(|&i| {
            let known = expected
                .as_ref()
                .is_none_or(|keys| keys.contains(&all[i].run_key));
            if !known {
                unknown.push(i);
            }
            known
        })
        .filter(|&i| seen.insert(all[i].run_key.clone()))
        .collect();
    if let Some(&first) = unknown.first() {
        warnings.push(format!(
            "{}:{}: left out {} whose run is not in {SCENARIO_FILE} (seeds or sweep \
             points the last sweep did not have; the first: run key {:?})",
            results.reader.path().display(),
            results.lines[first].number,
            match unknown.len() {
                1 => "1 record".to_owned(),
                n => format!("{n} records"),
            },
            all[first].run_key
        ));
    }
    for &i in &selected {
        for what in all[i].implausible() {
            warnings.push(format!(
                "{}:{}: run {}: {what}",
                results.reader.path().display(),
                results.lines[i].number,
                all[i].run_key
            ));
        }
    }
    // Canonical order: by run key (unique among the selected), so that
    // nothing below depends on the order of the lines in the file.
    selected.sort_by(|&a, &b| all[a].run_key.cmp(&all[b].run_key));
    let records: Vec<&RunResult> = selected.iter().map(|&i| &all[i]).collect();
    let left_out = all.len() - kernel_runs - records.len();
    let records_sha256 = {
        let mut h = Sha256::new();
        for &i in &selected {
            h.update(results.text(i)?.as_bytes());
            h.update(b"\n");
        }
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };

    let values: Vec<&tables::Values> = selected.iter().map(|&i| &results.values[i]).collect();
    let groups = tables::groups_with(&records, &values);
    let mut blocks = vec![Block::Heading(
        1,
        format!(
            "httplab report: {}",
            records.first().map_or("", |r| r.scenario.as_str())
        ),
    )];
    blocks.push(Block::Paragraph(format!(
        "{} runs: {} completed, {} failed, {} timed out. Rendered from {} only; numbers in full precision are in {}.",
        records.len(),
        groups.iter().map(|g| g.runs - g.failed - g.timed_out).sum::<usize>(),
        groups.iter().map(|g| g.failed).sum::<usize>(),
        groups.iter().map(|g| g.timed_out).sum::<usize>(),
        RESULTS_FILE,
        STATS_CSV
    )));
    // The representative runs' charts draw their series: those records
    // are read again, in full.
    let mut full = Vec::new();
    for (_, r) in charts::representatives(&records, &groups) {
        if let Some(k) = records.iter().position(|x| x.run_key == r.run_key) {
            full.push(results.full(selected[k])?);
        }
    }
    let figures = charts::figures(&records, &groups, &full)?;
    if !figures.is_empty() {
        blocks.push(Block::Heading(2, "Charts".into()));
        blocks.push(Block::Paragraph(format!(
            "Each chart is in {}/ as SVG and PNG. Colors are fixed per protocol (HTTP/1.1 orange, HTTP/2 blue, HTTP/3 green; Okabe–Ito palette, safe for color blindness); the transport-cost chart colors its drops by reason instead, from the palette's other colors, and names the protocol under each bar. Charts at one condition use the reference point (see Methodology) and, for one run, each protocol's run with the median page load time.",
            document::CHART_DIR
        )));
        for f in &figures {
            blocks.push(Block::Figure {
                stem: f.stem.clone(),
                title: f.title.clone(),
                caption: f.caption.clone(),
                svg: f.svg.clone(),
            });
        }
    }
    blocks.extend(ablation::section(&groups));
    blocks.extend(events::section(&groups, &records));
    blocks.extend(result_tables(&records, &groups));
    blocks.extend(methodology::section(&methodology::Inputs {
        records: &records,
        records_sha256,
        left_out,
        scenario_file_sha256: scenario.as_deref().map(sha256_hex),
    }));

    fs::create_dir_all(out_dir).map_err(|source| Error::Io {
        path: out_dir.to_owned(),
        source,
    })?;
    let title = match &blocks[0] {
        Block::Heading(_, t) => t.clone(),
        _ => String::new(),
    };
    let outputs = [
        (REPORT_MD, document::to_markdown(&blocks)),
        (REPORT_HTML, document::to_html(&title, &blocks)),
        (STATS_CSV, tables::stats_csv(&groups)),
    ];
    let mut files = Vec::new();
    let chart_dir = out_dir.join(document::CHART_DIR);
    if !figures.is_empty() {
        fs::create_dir_all(&chart_dir).map_err(|source| Error::Io {
            path: chart_dir.clone(),
            source,
        })?;
    }
    for f in &figures {
        for (ext, bytes) in [("svg", f.svg.as_bytes()), ("png", f.png.as_slice())] {
            let path = chart_dir.join(format!("{}.{ext}", f.stem));
            fs::write(&path, bytes).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            files.push(path);
        }
    }
    for (name, text) in outputs {
        let path = out_dir.join(name);
        fs::write(&path, text).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        files.push(path);
    }
    Ok(ReportSummary {
        runs: records.len(),
        failed: groups.iter().map(|g| g.failed).sum(),
        timed_out: groups.iter().map(|g| g.timed_out).sum(),
        groups: groups.len(),
        left_out,
        kernel_runs,
        files,
        warnings,
    })
}

/// Marks a difference given in the metric's unit, its baseline near 0.
const NEAR_ZERO_MARK: &str = "¹";
/// Marks a difference left out, the metric 0 by construction.
const BY_CONSTRUCTION_MARK: &str = "²";

/// The "Results" section: per axis point, its network and losses in
/// words ([`conditions`]), then one table per metric, one row per
/// protocol.
fn result_tables(records: &[&RunResult], groups: &[tables::Group]) -> Vec<Block> {
    let mut blocks = vec![Block::Heading(2, "Results".into())];
    blocks.push(Block::Paragraph(format!(
        "Per metric, one row per protocol: median, p10 and p90, the mean with its 95 % bootstrap confidence interval, and the difference of the mean against HTTP/2 ({BASELINE}) in percent with its interval. Where HTTP/2's mean is too near 0 for a percent to mean anything (below {} ms, {} packets, {} bytes, {} connections or {} Mbit/s), the difference is in the metric's unit instead ({NEAR_ZERO_MARK}); where the metric is 0 by construction for a protocol, there is none ({BY_CONSTRUCTION_MARK}). Failed and timed-out runs are counted in the runs column and excluded from the statistics; n is the number of completed runs that measured the metric.",
        tables::MIN_BASELINE_MS,
        tables::MIN_BASELINE_PACKETS,
        tables::MIN_BASELINE_BYTES,
        tables::MIN_BASELINE_CONNECTIONS,
        tables::MIN_BASELINE_MBIT_S,
    )));
    let shown = Metric::shown(groups);
    let by_metric: Vec<Vec<Row<'_>>> = shown.iter().map(|&m| tables::rows(groups, m)).collect();
    let mut points: Vec<&tables::AxisPoint> = Vec::new();
    for g in groups {
        if points.last() != Some(&&g.axes) {
            points.push(&g.axes);
        }
    }
    for point in points {
        let network = records
            .iter()
            .find(|r| &tables::axis_point(&r.axes) == point)
            .map(|r| &r.network);
        let queue = conditions::queue_drops(groups, point);
        let no_random_loss = network.is_some_and(|n| {
            conditions::no_random_loss(&n.path.up.loss)
                && conditions::no_random_loss(&n.path.down.loss)
        });
        if !point.is_empty() {
            let mut heading = methodology::point_text(point);
            if let Some(n) = network.filter(|_| no_random_loss) {
                heading = format!("{heading}: {}", conditions::loss_text(n, &queue));
            }
            blocks.push(Block::Heading(3, heading));
        }
        if let Some(n) = network {
            let mut text = format!("Network: {}.", conditions::text(n, &queue));
            if conditions::queue_drops_text(&queue).is_some() {
                text.push_str(&format!(
                    " Packets dropped at the full queue per run (mean over completed runs): {}.",
                    conditions::per_protocol(&queue)
                ));
            }
            blocks.push(Block::Paragraph(text));
        }
        for (metric, rows) in shown.iter().zip(&by_metric) {
            let d = metric.decimals();
            let unit = metric.unit();
            let header = [
                "protocol".to_owned(),
                "runs / failed / timed out".to_owned(),
                "n".to_owned(),
                format!("median ({unit})"),
                format!("p10 ({unit})"),
                format!("p90 ({unit})"),
                format!("mean ± 95 % CI ({unit})"),
                "Δ vs HTTP/2 (95 % CI)".to_owned(),
            ];
            let mut body = Vec::new();
            let mut excluded = 0;
            let mut near_zero = false;
            let mut by_construction = Vec::new();
            for row in rows.iter().filter(|r| &r.group.axes == point) {
                let g = row.group;
                excluded += g.failed + g.timed_out;
                let n = row.summary.map_or(0, |s| s.n);
                let mut cells = vec![
                    g.protocol.to_string(),
                    format!("{} / {} / {}", g.runs, g.failed, g.timed_out),
                    n.to_string(),
                ];
                match row.summary {
                    Some(s) => cells.extend([
                        format!("{:.d$}", s.median),
                        format!("{:.d$}", s.p10),
                        format!("{:.d$}", s.p90),
                        // Every run gave the same value: an interval would
                        // be a point that says nothing about variation.
                        if s.n > 1 && s.p10 == s.p90 && s.mean_ci.low == s.mean_ci.high {
                            format!("{:.d$} (no variation across {} seeds)", s.mean, s.n)
                        } else {
                            format!(
                                "{:.d$} [{:.d$}, {:.d$}]",
                                s.mean, s.mean_ci.low, s.mean_ci.high
                            )
                        },
                    ]),
                    None => cells.extend(["—".to_owned(), "—".into(), "—".into(), "—".into()]),
                }
                cells.push(match (row.vs_baseline, g.protocol == BASELINE) {
                    (_, true) => "baseline".to_owned(),
                    (Some(Difference::Percent { percent: v, .. }), false) => {
                        format!("{:+.1} % [{:+.1}, {:+.1}]", v.value, v.ci.low, v.ci.high)
                    }
                    (Some(Difference::Absolute(v)), false) => {
                        near_zero = true;
                        format!(
                            "{:+.d$} {unit} [{:+.d$}, {:+.d$}] {NEAR_ZERO_MARK}",
                            v.value, v.ci.low, v.ci.high
                        )
                    }
                    (Some(Difference::ZeroByConstruction(why)), false) => {
                        by_construction.push((g.protocol, why));
                        format!("— {BY_CONSTRUCTION_MARK}")
                    }
                    (None, false) => "—".to_owned(),
                });
                body.push(cells);
            }
            blocks.push(Block::Heading(4, format!("{} ({unit})", metric.title())));
            blocks.push(Block::Table(header.to_vec(), body));
            if near_zero {
                blocks.push(Block::Paragraph(format!(
                    "{NEAR_ZERO_MARK} HTTP/2's mean is below {} {unit} here, too near 0 for a percent of it to mean anything: the difference of the means is given in {unit}, with its 95 % bootstrap interval.",
                    metric.min_baseline()
                )));
            }
            for (protocol, why) in by_construction {
                blocks.push(Block::Paragraph(format!(
                    "{BY_CONSTRUCTION_MARK} {}'s {} is 0 by construction: {why}. A difference against HTTP/2 would only restate HTTP/2's value.",
                    protocol.name(),
                    metric.title().to_lowercase()
                )));
            }
            if excluded > 0 {
                blocks.push(Block::Paragraph(format!(
                    "Note: {excluded} failed or timed-out runs are excluded from these statistics."
                )));
            }
        }
    }
    blocks
}

/// SHA-256 of `bytes`, lowercase hex.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report fixtures' results directory.
    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
    }

    #[test]
    fn slim_records_keep_the_values_of_their_full_records() {
        let results = read_results(&fixtures()).unwrap();
        let full = records::read_records(&fixtures().join(RESULTS_FILE)).unwrap();
        assert_eq!(results.all.len(), full.len());
        // The series are gone from what the report holds ...
        let series = |r: &RunResult| {
            r.measurements.iter().any(|m| {
                m.requests.iter().any(|q| !q.timeline.is_empty())
                    || m.connections.iter().any(|c| {
                        c.stats
                            .as_ref()
                            .is_some_and(|s| s.arrivals.is_some() || !s.rtt_samples.is_empty())
                    })
            })
        };
        assert!(full.iter().any(series), "the fixtures have series");
        assert!(!results.all.iter().any(series));
        // ... and the metrics computed from them are not.
        let refs: Vec<&RunResult> = full.iter().collect();
        let slim: Vec<&RunResult> = results.all.iter().collect();
        let values: Vec<&tables::Values> = results.values.iter().collect();
        let (expected, got) = (tables::groups(&refs), tables::groups_with(&slim, &values));
        assert!(expected
            .iter()
            .any(|g| !g.values[&Metric::ByteDelivery].is_empty()));
        assert_eq!(got, expected);
        assert_ne!(
            tables::groups(&slim),
            expected,
            "slim alone would lose them"
        );
    }

    #[test]
    fn a_record_read_again_must_be_the_line_read_first() {
        let dir = std::env::temp_dir().join(format!("reports-changed-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let text = fs::read_to_string(fixtures().join(RESULTS_FILE)).unwrap();
        fs::write(dir.join(RESULTS_FILE), &text).unwrap();
        let mut results = read_results(&dir).unwrap();
        assert_eq!(results.full(1).unwrap().run_key, results.all[1].run_key);
        assert!(results.full(1).unwrap() != results.all[1], "read in full");
        // The file rewritten with its lines in another order: the line at
        // record 1's place is another.
        let mut lines: Vec<&str> = text.lines().collect();
        lines.swap(1, 2);
        fs::write(dir.join(RESULTS_FILE), lines.join("\n") + "\n").unwrap();
        let line = results.lines[1].number;
        let message = format!(
            "{}:{line}: changed while the report read it",
            dir.join(RESULTS_FILE).display()
        );
        assert!(results
            .full(1)
            .unwrap_err()
            .to_string()
            .starts_with(&message));
        assert!(results
            .text(1)
            .unwrap_err()
            .to_string()
            .starts_with(&message));
        fs::remove_dir_all(&dir).unwrap();
    }
}
