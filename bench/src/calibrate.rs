//! `httplab calibrate`: a scenario's runs in the simulation and on the
//! machine's kernel through the emulator, into one results directory, and
//! the side-by-side report (`reports::calibration`).
//!
//! The simulated runs go first (they take a second each), then the kernel
//! runs, one at a time: a kernel run takes the real time its transfer
//! takes, and anything else running on the machine would disturb it.
//! Every finished run is appended to `results.jsonl` at once, so an
//! interrupted calibration (Ctrl-C) keeps what it finished and resumes
//! where it stopped; an interrupted kernel run is not recorded, and its
//! namespaces are deleted before the command exits. A kernel run that
//! cannot start (the emulator, the server) stops the calibration without a
//! record, so that it runs once the cause is fixed.
//!
//! Stored runs count as done for the same scenario version and lab build;
//! kernel runs also for the same congestion control (it is in their run
//! key), and with `--reuse-kernel-runs` for any build. The report reads the
//! last record's scenario version: the simulated runs of the newest build,
//! and the newest kernel record of each run key.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use records::{Mode, Outcome, RunResult};
use scenarios::{RunSpec, Scenario};

use crate::kernel::{check, kernel_key, run_kernel, KernelOptions, KERNEL_KEY_PREFIX};
use crate::results::{
    write_atomic, OutLock, ResultsAppender, StoredRuns, RESULTS_FILE, SCENARIO_FILE,
};
use crate::{note, runner, spec};

/// What to calibrate, and where the results go.
#[derive(Clone, Debug)]
pub struct CalibrateConfig {
    /// The resolved scenario (overrides applied, seeds = the runs per
    /// protocol).
    pub scenario: Scenario,
    /// The results directory.
    pub out: PathBuf,
    /// How kernel runs are set up.
    pub kernel: KernelOptions,
    /// Count stored kernel runs of any lab build as done, so that only the
    /// simulated runs run again: for checking a change to the simulation
    /// against kernel runs already measured. Kernel runs do not run the
    /// simulation, but they do run the lab's clients, servers and
    /// emulator: use it only when those did not change.
    pub reuse_kernel_runs: bool,
}

/// What a calibration did.
#[derive(Clone, Debug)]
pub struct CalibrateReport {
    /// Runs already stored and skipped.
    pub resumed: usize,
    /// Runs carried out now.
    pub ran: usize,
    /// The report, rendered from every stored run.
    pub calibration: reports::calibration::Calibration,
}

/// Carry out the calibration `config` describes. Checks first that the
/// emulator can run at all, so that nothing runs when it cannot.
pub fn run(config: &CalibrateConfig) -> Result<CalibrateReport> {
    emulator::preflight().context("httplab calibrate runs the emulator")?;
    let scenario = &config.scenario;
    let hash = scenario.content_hash();
    let runs: Vec<RunSpec> = scenario.expand();
    // Everything that would stop a kernel run before it starts is checked
    // now, before any run: such a failure is not a run.
    for spec in &runs {
        check(spec, &config.kernel).context("this calibration cannot run on the kernel")?;
    }
    emulator::catch_interrupts();
    std::fs::create_dir_all(&config.out)
        .with_context(|| format!("creating {}", config.out.display()))?;
    let _lock = OutLock::acquire(&config.out)?;
    write_atomic(
        &config.out.join(SCENARIO_FILE),
        spec::to_toml(scenario)?.as_bytes(),
    )?;
    let results = config.out.join(RESULTS_FILE);
    let stored = StoredRuns::read(&results)?;
    let build = crate::lab::current().build_id();
    let done: BTreeSet<String> = stored
        .lines
        .iter()
        .filter(|l| {
            l.run.scenario_hash == hash
                && (l.run.build == build
                    || (config.reuse_kernel_runs && l.run.run_key.starts_with(KERNEL_KEY_PREFIX)))
        })
        .map(|l| l.run.run_key.clone())
        .collect();
    let mut appender = ResultsAppender::open(&results, stored.complete_len)?;
    let mut todo: Vec<(Mode, &RunSpec)> = Vec::new();
    todo.extend(
        runs.iter()
            .filter(|s| !done.contains(&s.key()))
            .map(|s| (Mode::Sim, s)),
    );
    todo.extend(
        runs.iter()
            .filter(|s| !done.contains(&kernel_key(s)))
            .map(|s| (Mode::Kernel, s)),
    );
    let resumed = 2 * runs.len() - todo.len();
    note!(
        "calibrating {} ({hash}): {} runs in the simulation and {} on the kernel; {} to run, into {}",
        scenario.name,
        runs.len(),
        runs.len(),
        todo.len(),
        config.out.display()
    );
    let mut ran = 0;
    for (i, (mode, spec)) in todo.iter().enumerate() {
        if emulator::interrupted() {
            break;
        }
        let result = match mode {
            Mode::Sim => runner::run(spec, &hash),
            Mode::Kernel => match run_kernel(spec, &hash, &config.kernel) {
                Ok(result) => result,
                // Cut short by Ctrl-C: not a finished result.
                Err(_) if emulator::interrupted() => break,
                Err(e) => bail!(
                    "kernel run {} could not start: {e}; {ran} runs finished now are in {}, \
                     and the same command resumes after the cause is fixed",
                    spec.key(),
                    results.display()
                ),
            },
        };
        note!("[{}/{}] {}", i + 1, todo.len(), progress_line(&result));
        appender.append(&result)?;
        ran += 1;
    }
    if emulator::interrupted() {
        bail!(
            "interrupted: {ran} runs finished now are in {}; rerun the same command to resume",
            results.display()
        );
    }
    let calibration = reports::calibration::render(&config.out)
        .with_context(|| format!("rendering the calibration of {}", config.out.display()))?;
    Ok(CalibrateReport {
        resumed,
        ran,
        calibration,
    })
}

fn progress_line(r: &RunResult) -> String {
    let m = r.measurements.as_ref();
    let what = match (r.outcome, m.and_then(|m| m.plt)) {
        (Outcome::Ok, Some(plt)) => {
            let bytes = m.map_or(0, |m| m.total_bytes);
            format!(
                "{:.3} s, {:.2} Mbit/s",
                plt.as_secs_f64(),
                bytes as f64 * 8.0 / plt.as_secs_f64() / 1e6
            )
        }
        (outcome, _) => format!(
            "{}: {}",
            outcome.label(),
            r.reason.as_deref().unwrap_or("no reason")
        ),
    };
    let late = r
        .kernel
        .as_ref()
        .map(|k| {
            format!(
                "; emulator lateness p99 {} µs{}",
                k.late_p99.as_micros(),
                if k.late_exceeded {
                    " (over its bound)"
                } else {
                    ""
                }
            )
        })
        .unwrap_or_default();
    format!("{} {}: {what}{late}", r.mode.label(), r.run_key)
}

/// The default results directory of a calibration of `scenario`:
/// `reports/out/calibrate-NAME`.
pub fn default_out(scenario: &Scenario) -> PathBuf {
    Path::new("reports")
        .join("out")
        .join(format!("calibrate-{}", scenario.name))
}
