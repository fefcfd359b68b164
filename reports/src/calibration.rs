//! The calibration report: the same runs in the simulation (`mode = sim`)
//! and on the kernel through the emulator (`mode = kernel`), side by side
//! per protocol, from a results directory `httplab calibrate` wrote.
//!
//! Per protocol and metric: both modes' medians with p10 and p90, and the
//! kernel/sim ratio of the medians with its 95 % percentile-bootstrap
//! interval (the two samples resampled independently: a kernel run and a
//! simulated run of one seed share the link's random streams but not the
//! packets they decide on, so they are not pairs). Failed and timed-out
//! runs are counted and left out of the statistics.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use records::{Mode, Outcome, RunResult};
use scenarios::Protocol;

use crate::stats::{bootstrap_median_ratio_ci, median, p10, p90, BOOTSTRAP_RESAMPLES};
use crate::Error;

/// The calibration report's file, in the results directory.
pub const CALIBRATION_MD: &str = "calibration.md";

/// One metric of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Measure {
    /// Page load time, s.
    Plt,
    /// Body bytes over the page load time, Mbit/s.
    Goodput,
    /// Time to first byte, ms.
    Ttfb,
    /// Packets dropped at the full queue, per run.
    QueueDrops,
    /// Packets dropped by the loss model, per run.
    RandomDrops,
}

impl Measure {
    const ALL: [Measure; 5] = [
        Measure::Plt,
        Measure::Goodput,
        Measure::Ttfb,
        Measure::QueueDrops,
        Measure::RandomDrops,
    ];

    fn label(self) -> &'static str {
        match self {
            Measure::Plt => "page load time (s)",
            Measure::Goodput => "goodput (Mbit/s)",
            Measure::Ttfb => "time to first byte (ms)",
            Measure::QueueDrops => "queue drops per run",
            Measure::RandomDrops => "random drops per run",
        }
    }

    fn of(self, r: &RunResult) -> Option<f64> {
        let m = r.measurements.as_ref();
        let drops = |reason: &str| {
            r.simulation
                .as_ref()
                .and_then(|s| s.drops.get(reason).copied())
                .map(|n| n as f64)
        };
        match self {
            Measure::Plt => m?.plt.map(|d| d.as_secs_f64()),
            Measure::Goodput => {
                let m = m?;
                let plt = m.plt?.as_secs_f64();
                (plt > 0.0).then(|| m.total_bytes as f64 * 8.0 / plt / 1e6)
            }
            Measure::Ttfb => m?.ttfb.map(|d| d.as_secs_f64() * 1e3),
            Measure::QueueDrops => drops("queue-full"),
            Measure::RandomDrops => drops("random"),
        }
    }
}

/// One sweep point × protocol × metric row.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibrationRow {
    /// The sweep point, `axis=value` pairs (empty without a sweep).
    pub point: String,
    /// The protocol.
    pub protocol: Protocol,
    /// The metric's label, with its unit.
    pub metric: String,
    /// Completed simulated runs measured.
    pub sim_n: usize,
    /// Completed kernel runs measured.
    pub kernel_n: usize,
    /// Simulation: median, p10, p90.
    pub sim: Option<(f64, f64, f64)>,
    /// Kernel: median, p10, p90.
    pub kernel: Option<(f64, f64, f64)>,
    /// Kernel median / simulation median, with the bootstrap interval.
    pub ratio: Option<(f64, f64, f64)>,
}

/// What [`render`] found, besides the file it wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// Every row, by protocol then metric.
    pub rows: Vec<CalibrationRow>,
    /// Runs read, per mode: (completed, failed or timed out).
    pub runs: BTreeMap<&'static str, (usize, usize)>,
    /// Kernel runs whose times are suspect: emulator lateness over its
    /// bound, or packets lost outside the link model.
    pub late_runs: usize,
    /// The Markdown written to [`CALIBRATION_MD`].
    pub markdown: String,
    /// Where it was written.
    pub path: PathBuf,
}

/// A run's sweep point as text: `loss_percent=2, rtt_ms=80`.
fn point_label(r: &RunResult) -> String {
    r.axes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a kernel run's times are suspect: the emulator was late past its
/// bound, or packets were lost outside the link model.
fn suspect(r: &RunResult) -> bool {
    r.kernel
        .as_ref()
        .is_some_and(|k| k.late_exceeded || k.unmodelled_losses.is_some_and(|n| n > 0))
}

fn spread(values: &[f64]) -> Option<(f64, f64, f64)> {
    Some((median(values)?, p10(values)?, p90(values)?))
}

/// Read `results_dir`'s `results.jsonl` and write its calibration report to
/// `results_dir/calibration.md`. Reads the records of the last record's
/// scenario version: the simulated runs of the last simulated record's lab
/// build, and the kernel runs (`mode = kernel`) of any build, of a run key
/// stored twice the later record; the report names the builds. Rows are
/// per sweep point, protocol and metric.
pub fn render(results_dir: &Path) -> Result<Calibration, Error> {
    let all = crate::read_results(results_dir)?.all;
    let last = all.last().expect("read_results refuses an empty file");
    // The last record's scenario version. Simulated runs: those of the
    // last simulated record's build. Kernel runs: of any build (they do not
    // run the simulation; `httplab calibrate --reuse-kernel-runs` keeps
    // them across builds), the later record of a run key stored twice.
    let hash = last.scenario_hash.clone();
    let sim_build = all
        .iter()
        .rev()
        .find(|r| r.scenario_hash == hash && r.mode == Mode::Sim)
        .map(|r| r.lab.build_id());
    // The runs `scenario.toml` lists (the hash leaves the seeds out, so a
    // calibration rerun with fewer --runs shares it): a kernel run's key is
    // `kernel/CC/` then its simulated twin's.
    let scenario = fs::read(results_dir.join(crate::SCENARIO_FILE)).ok();
    let expected = crate::scenario_run_keys(scenario.as_deref(), &hash);
    let listed = |r: &RunResult| {
        let key = match r.mode {
            Mode::Kernel => r
                .run_key
                .strip_prefix("kernel/")
                .and_then(|k| k.split_once('/'))
                .map_or(r.run_key.as_str(), |(_, k)| k),
            Mode::Sim => r.run_key.as_str(),
        };
        expected.as_ref().is_none_or(|keys| keys.contains(key))
    };
    let mut latest: BTreeMap<&str, &RunResult> = BTreeMap::new();
    for r in all.iter().filter(|r| {
        r.scenario_hash == hash
            && listed(r)
            && (r.mode == Mode::Kernel || Some(r.lab.build_id()) == sim_build)
    }) {
        latest.insert(r.run_key.as_str(), r);
    }
    let mut records: Vec<&RunResult> = latest.into_values().collect();
    records.sort_by_key(|r| (r.mode, r.protocol, point_label(r), r.seed));

    let mut runs: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    for r in &records {
        let e = runs.entry(r.mode.label()).or_default();
        if r.outcome == Outcome::Ok {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    let late_runs = records.iter().filter(|r| suspect(r)).count();
    let mut points: Vec<String> = records.iter().map(|r| point_label(r)).collect();
    points.dedup();
    points.sort();
    points.dedup();
    let mut rows = Vec::new();
    for point in &points {
        for protocol in Protocol::ALL {
            let of_mode = |mode: Mode| -> Vec<&RunResult> {
                records
                    .iter()
                    .copied()
                    .filter(|r| {
                        r.protocol == protocol
                            && r.mode == mode
                            && r.outcome == Outcome::Ok
                            && &point_label(r) == point
                    })
                    .collect()
            };
            let (sim, kernel) = (of_mode(Mode::Sim), of_mode(Mode::Kernel));
            if sim.is_empty() && kernel.is_empty() {
                continue;
            }
            for measure in Measure::ALL {
                let values = |runs: &[&RunResult]| -> Vec<f64> {
                    runs.iter().filter_map(|r| measure.of(r)).collect()
                };
                let (s, k) = (values(&sim), values(&kernel));
                let ratio = match (median(&k), median(&s)) {
                    (Some(mk), Some(ms)) if ms != 0.0 => {
                        bootstrap_median_ratio_ci(&k, &s).map(|ci| (mk / ms, ci.low, ci.high))
                    }
                    _ => None,
                };
                rows.push(CalibrationRow {
                    point: point.clone(),
                    protocol,
                    metric: measure.label().to_owned(),
                    sim_n: s.len(),
                    kernel_n: k.len(),
                    sim: spread(&s),
                    kernel: spread(&k),
                    ratio,
                });
            }
        }
    }
    let markdown = markdown(&records, &rows, &runs, late_runs);
    let path = results_dir.join(CALIBRATION_MD);
    fs::write(&path, &markdown).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    Ok(Calibration {
        rows,
        runs,
        late_runs,
        markdown,
        path,
    })
}

fn number(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}

fn cell(v: Option<(f64, f64, f64)>) -> String {
    match v {
        Some((m, lo, hi)) => format!("{} [{}, {}]", number(m), number(lo), number(hi)),
        None => "–".to_owned(),
    }
}

/// The table as Markdown, one line per row.
pub fn table(rows: &[CalibrationRow]) -> String {
    let mut out = String::new();
    out.push_str(
        "| point | protocol | metric | sim median [p10, p90] | kernel median [p10, p90] | kernel / sim [95 % CI] | n sim / kernel |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let ratio = match r.ratio {
            Some((x, lo, hi)) => format!("{x:.3} [{lo:.3}, {hi:.3}]"),
            None => "–".to_owned(),
        };
        let point = if r.point.is_empty() { "–" } else { &r.point };
        let _ = writeln!(
            out,
            "| {point} | {} | {} | {} | {} | {} | {} / {} |",
            r.protocol.name(),
            r.metric,
            cell(r.sim),
            cell(r.kernel),
            ratio,
            r.sim_n,
            r.kernel_n
        );
    }
    out
}

fn markdown(
    records: &[&RunResult],
    rows: &[CalibrationRow],
    runs: &BTreeMap<&'static str, (usize, usize)>,
    late_runs: usize,
) -> String {
    let mut out = String::new();
    let scenario = records.first().map_or("", |r| r.scenario.as_str());
    let _ = writeln!(out, "# httplab calibration: {scenario}\n");
    let count = |mode: &str| runs.get(mode).copied().unwrap_or_default();
    let (sim_ok, sim_bad) = count("sim");
    let (k_ok, k_bad) = count("kernel");
    let _ = writeln!(
        out,
        "The same runs in the simulation and on this machine's kernel, through the real-time emulator of the same link model. \
         Simulation: {sim_ok} completed, {sim_bad} failed or timed out. Kernel: {k_ok} completed, {k_bad} failed or timed out; \
         {late_runs} kernel run(s) suspect (emulator lateness over its bound, or packets lost outside the link model; they are in the statistics and listed below).\n"
    );
    out.push_str(&table(rows));
    out.push_str("\n## Method\n\n");
    let _ = writeln!(
        out,
        "- Medians and p10/p90 are type-7 quantiles over completed runs. The kernel/sim ratio is of the medians; its interval is a 95 % percentile bootstrap ({BOOTSTRAP_RESAMPLES} resamples), each mode resampled independently.\n\
         - Goodput is the body bytes over the page load time. Drops are counted by the link model (the emulator runs the simulation's own `netsim::Network`), per run."
    );
    if let Some(k) = records.iter().rev().find_map(|r| r.kernel.as_ref()) {
        let _ = writeln!(out, "- Kernel {}; the namespaces' settings:", k.release);
        for (key, value) in &k.sysctls {
            let _ = writeln!(out, "  - `{key}` = `{value}`");
        }
        let late: Vec<f64> = records
            .iter()
            .filter_map(|r| r.kernel.as_ref())
            .map(|k| k.late_p99.as_secs_f64() * 1e6)
            .collect();
        if let Some(worst) = late.iter().copied().reduce(f64::max) {
            let _ = writeln!(
                out,
                "- Emulator delivery lateness, p99 per run: median {:.0} µs, worst {worst:.0} µs (bound {} µs).",
                median(&late).unwrap_or(0.0),
                k.late_bound.as_micros()
            );
        }
    }
    if let Some(r) = records.last() {
        let p = &r.network.path;
        let _ = writeln!(
            out,
            "- Network: {} (see results.jsonl for every value).",
            path_text(p)
        );
        let builds = |mode: Mode| -> String {
            let mut b: Vec<String> = records
                .iter()
                .filter(|r| r.mode == mode)
                .map(|r| r.lab.build_id())
                .collect();
            b.sort();
            b.dedup();
            b.join(", ")
        };
        let _ = writeln!(
            out,
            "- Lab build of the simulated runs: {}; of the kernel runs: {}.",
            builds(Mode::Sim),
            builds(Mode::Kernel)
        );
    }
    let suspects: Vec<String> = records
        .iter()
        .filter(|r| suspect(r))
        .filter_map(|r| {
            let k = r.kernel.as_ref()?;
            Some(format!(
                "- {}: lateness p99 {} µs (bound {} µs), {} packets lost outside the link model",
                r.run_key,
                k.late_p99.as_micros(),
                k.late_bound.as_micros(),
                k.unmodelled_losses
                    .map_or("uncounted".to_owned(), |n| n.to_string())
            ))
        })
        .collect();
    if !suspects.is_empty() {
        out.push_str("\n## Suspect kernel runs\n\n");
        for s in suspects {
            let _ = writeln!(out, "{s}");
        }
    }
    let mut failures: Vec<String> = records
        .iter()
        .filter(|r| r.outcome != Outcome::Ok)
        .map(|r| {
            format!(
                "- {} {}: {} ({})",
                r.mode.label(),
                r.run_key,
                r.outcome.label(),
                r.reason.as_deref().unwrap_or("no reason recorded")
            )
        })
        .collect();
    if !failures.is_empty() {
        out.push_str("\n## Runs that did not complete\n\n");
        failures.sort();
        for f in failures {
            let _ = writeln!(out, "{f}");
        }
    }
    out
}

/// The path's headline numbers in words.
fn path_text(path: &scenarios::ResolvedPath) -> String {
    let d = &path.down;
    format!(
        "RTT {} ms, {} Mbit/s down and {} Mbit/s up, queue {:?}, loss {:?} each way, MTU {} bytes",
        path.rtt_ns() as f64 / 1e6,
        d.bandwidth_bps as f64 / 1e6,
        path.up.bandwidth_bps as f64 / 1e6,
        d.queue,
        d.loss,
        d.mtu
    )
}
