//! A sweep: a scenario's runs, split by [`Shard`], run `jobs` at a time,
//! each on its own thread, into a results directory, resuming what an
//! earlier sweep left.
//!
//! ```text
//! runs (expansion order) ──► shard ──► skip stored ──► workers ──► results.jsonl
//!                                                               └► summary.csv
//! ```
//! - The run list is deterministic: the scenario's expansion order, then
//!   the shard's share of it (run `i`, 0-based, belongs to shard
//!   `i % N + 1`). A batch system's task can take its shard from the
//!   environment ([`Shard::from_env`]: a Slurm array task, a Kubernetes
//!   Indexed Job pod).
//! - Runs are started in that order. With more than one job they finish,
//!   and are appended to `results.jsonl`, in whatever order they finish, so
//!   that a killed sweep keeps every finished run. At the end of the sweep
//!   (also an interrupted one) `results.jsonl` is rewritten, atomically:
//!   any records that are not this sweep's first, in the order they were,
//!   then this sweep's in the run list's order (last, so that the file's
//!   last record is of the current build, which the report goes by). Each
//!   record is deterministic, and
//!   `summary.csv` is sorted, so neither file depends on the number of
//!   jobs, and two identical sweeps give byte-identical files.
//! - Resuming: a run is skipped when `results.jsonl` already holds a record
//!   with the same scenario hash, run key and lab build. The scenario hash
//!   leaves the seeds out, so a sweep grown from 10 seeds to 20 runs only
//!   the 10 new ones.
//! - Interrupting: when [`SweepConfig::interrupt`] is raised (`bench` raises
//!   it on SIGINT and SIGTERM), no new run starts; the runs in flight
//!   finish and are stored, and the sweep returns as usual, with
//!   [`SweepReport::interrupted`] set.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use anyhow::{Context, Result};

use records::{Outcome, RunResult};
use scenarios::RunSpec;

use crate::progress::Progress;
use crate::results::{
    summary_csv, whole_file, write_atomic, write_lines, OutLock, ResultsAppender, StoredKey,
    StoredLine, StoredRun, StoredRuns, RESULTS_FILE, SCENARIO_FILE, SUMMARY_FILE,
};
use crate::{lab, runner};
use records::LineAt;

/// Stack of each run's thread: 8 MiB, a main thread's, since a run drives
/// two hosts' protocol stacks on it.
const RUN_STACK_BYTES: usize = 8 << 20;

/// One of `count` disjoint shares of a run list, `index` from 1: the runs
/// whose 0-based position `i` has `i % count == index - 1`. Written `I/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which share, 1 ..= `count`.
    pub index: usize,
    /// How many shares.
    pub count: usize,
}

impl Shard {
    /// Whether run `position` (0-based, in expansion order) is this shard's.
    pub fn contains(self, position: usize) -> bool {
        position % self.count == self.index - 1
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("'{s}' is not I/N (for example 2/8)"))?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|_| format!("'{i}' in '{s}' is not a whole number"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("'{n}' in '{s}' is not a whole number"))?;
        if count == 0 {
            return Err(format!("'{s}': N must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(format!("'{s}': I must be between 1 and N"));
        }
        Ok(Shard { index, count })
    }
}

/// A [`Shard`] read from a batch system's environment by
/// [`Shard::from_env`], and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvShard {
    /// The shard.
    pub shard: Shard,
    /// The variables it came from, e.g. `SLURM_ARRAY_TASK_ID=2 in
    /// 0-7`, for messages.
    pub source: String,
}

/// Slurm's variables for an array task: its id, and the array's count,
/// lowest and highest id, and step.
const SLURM_VARS: [&str; 5] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_STEP",
];
/// The pod's index in a Kubernetes Indexed Job, from 0.
const K8S_INDEX_VAR: &str = "JOB_COMPLETION_INDEX";
/// The number of shards of a Kubernetes Indexed Job: Kubernetes does not
/// tell a pod the Job's `completions`, so the Job sets this to it.
pub const SHARD_COUNT_VAR: &str = "HTTPLAB_SHARD_COUNT";

impl Shard {
    /// This process's shard, as the batch system running it says, from the
    /// environment variables `var` looks up:
    ///
    /// - a Slurm array task (`SLURM_ARRAY_TASK_ID` set): shard `p + 1` of
    ///   `SLURM_ARRAY_TASK_COUNT`, `p` being the task's position in the
    ///   array (`(id - SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP`), so
    ///   `--array=0-7` and `--array=1-8` both give shards 1/8 to 8/8. The
    ///   array's ids must be evenly spaced (a range, with or without a
    ///   step), or some shard would have no task.
    /// - a Kubernetes Indexed Job pod (`JOB_COMPLETION_INDEX` set): shard
    ///   `JOB_COMPLETION_INDEX + 1` of [`SHARD_COUNT_VAR`], which the Job
    ///   sets to its `completions`.
    ///
    /// The error names the variable that is missing or wrong.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<EnvShard, String> {
        let slurm = var(SLURM_VARS[0]);
        let k8s = var(K8S_INDEX_VAR);
        match (slurm, k8s) {
            (Some(_), Some(_)) => Err(format!(
                "both {} (Slurm) and {K8S_INDEX_VAR} (Kubernetes) are set; \
                 unset the one that does not apply, or give --shard I/N",
                SLURM_VARS[0]
            )),
            (Some(id), None) => slurm_shard(&id, &var),
            (None, Some(index)) => k8s_shard(&index, &var),
            (None, None) => Err(format!(
                "neither {} (a Slurm array job) nor {K8S_INDEX_VAR} (a Kubernetes \
                 Indexed Job) is set; outside a batch system give --shard I/N",
                SLURM_VARS[0]
            )),
        }
    }
}

/// The whole number in variable `name`, whose value is `value`.
fn env_number(name: &str, value: &str) -> Result<u64, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{name}={value:?} is not a whole number"))
}

/// The whole number in variable `name`, which must be set.
fn required_number(var: &impl Fn(&str) -> Option<String>, name: &str) -> Result<u64, String> {
    let value = var(name).ok_or_else(|| {
        format!(
            "{} is set but {name} is not (Slurm sets it for array jobs, sbatch --array)",
            SLURM_VARS[0]
        )
    })?;
    env_number(name, &value)
}

fn slurm_shard(id: &str, var: &impl Fn(&str) -> Option<String>) -> Result<EnvShard, String> {
    let [id_var, count_var, min_var, max_var, step_var] = SLURM_VARS;
    let id = env_number(id_var, id)?;
    let count = required_number(var, count_var)?;
    let min = required_number(var, min_var)?;
    let max = required_number(var, max_var)?;
    let step = match var(step_var) {
        Some(step) => env_number(step_var, &step)?,
        None => 1,
    };
    let range = if step == 1 {
        format!("{min}-{max}")
    } else {
        format!("{min}-{max}:{step}")
    };
    if step == 0
        || count == 0
        || min > max
        || (max - min) % step != 0
        || (max - min) / step != count - 1
    {
        return Err(format!(
            "the array's task ids ({count_var}={count}, {min_var}={min}, {max_var}={max}, \
             {step_var}={step}) are not an evenly spaced range; submit with \
             --array=0-{} (or another range, with or without a :step)",
            count.saturating_sub(1)
        ));
    }
    if id < min || id > max || (id - min) % step != 0 {
        return Err(format!(
            "{id_var}={id} is not one of the array's task ids ({range})"
        ));
    }
    let shard = shard_of(((id - min) / step) as usize, count as usize);
    Ok(EnvShard {
        shard,
        source: format!("{id_var}={id} in --array={range}"),
    })
}

fn k8s_shard(index: &str, var: &impl Fn(&str) -> Option<String>) -> Result<EnvShard, String> {
    let index = env_number(K8S_INDEX_VAR, index)?;
    let count = var(SHARD_COUNT_VAR).ok_or_else(|| {
        format!(
            "{K8S_INDEX_VAR} is set but {SHARD_COUNT_VAR} is not; set it in the Job's \
             container env to the Job's completions"
        )
    })?;
    let count = env_number(SHARD_COUNT_VAR, &count)?;
    if index >= count {
        return Err(format!(
            "{K8S_INDEX_VAR}={index} is not below {SHARD_COUNT_VAR}={count}; \
             {SHARD_COUNT_VAR} must equal the Job's completions"
        ));
    }
    Ok(EnvShard {
        shard: shard_of(index as usize, count as usize),
        source: format!("{K8S_INDEX_VAR}={index}, {SHARD_COUNT_VAR}={count}"),
    })
}

/// Shard `position + 1` of `count` (`position < count`).
fn shard_of(position: usize, count: usize) -> Shard {
    Shard {
        index: position + 1,
        count,
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct SweepConfig {
    /// The results directory (created if absent).
    pub out: PathBuf,
    /// Runs at once, each on its own thread. At least 1.
    pub jobs: usize,
    /// This process's share of the runs; `None` for all of them.
    pub shard: Option<Shard>,
    /// Rewrite `summary.csv` after every this many finished runs (and at
    /// the end). Default: 10.
    pub summary_every: usize,
    /// The wall-clock guard of each run ([`runner::run_limited`]).
    /// Default: [`runner::DEFAULT_WALL_LIMIT`].
    pub wall_limit: Option<std::time::Duration>,
    /// Raised to stop the sweep early: no run starts after it is raised,
    /// the runs in flight finish and are stored. Default: never raised.
    pub interrupt: Arc<AtomicBool>,
}

impl SweepConfig {
    /// Into `out`, `jobs` at a time, every run, the summary every 10 runs.
    pub fn new(out: PathBuf, jobs: usize) -> SweepConfig {
        SweepConfig {
            out,
            jobs,
            shard: None,
            summary_every: 10,
            wall_limit: Some(runner::DEFAULT_WALL_LIMIT),
            interrupt: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// What a sweep did.
#[derive(Clone, Debug)]
pub struct SweepReport {
    /// Runs in this sweep (this shard's share).
    pub planned: usize,
    /// Of those, runs already in `results.jsonl`, not run again.
    pub resumed: usize,
    /// Runs carried out now (fewer than were left when interrupted).
    pub ran: usize,
    /// Whether [`SweepConfig::interrupt`] stopped the sweep before every
    /// run was done.
    pub interrupted: bool,
    /// Of this sweep's runs (resumed or not), those that failed or timed
    /// out.
    pub failed: usize,
    /// Records in `results.jsonl` that are not this sweep's (another
    /// scenario hash or lab build); left as they are, and not in the
    /// summary.
    pub other_records: usize,
    /// Whether a partial last line (an interrupted write) was dropped.
    pub dropped_partial_line: bool,
    /// This sweep's records, resumed and new, one per run.
    pub runs: Vec<StoredRun>,
}

/// Run `runs`, all from the scenario with content hash `scenario_hash`
/// (whose resolved TOML is `scenario_toml`), as `config` says, reporting
/// each finished run to `progress`, which is built once the number of runs
/// left is known. Errors are I/O errors on the results directory; a run's
/// own failure is a record, never an error.
pub fn run(
    scenario_hash: &str,
    scenario_toml: &str,
    runs: Vec<RunSpec>,
    config: &SweepConfig,
    progress: impl FnOnce(usize) -> Progress,
) -> Result<SweepReport> {
    let out = &config.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let _lock = OutLock::acquire(out)?;
    write_atomic(&out.join(SCENARIO_FILE), scenario_toml.as_bytes())?;

    let runs: Vec<RunSpec> = runs
        .into_iter()
        .enumerate()
        .filter(|(i, _)| config.shard.is_none_or(|s| s.contains(*i)))
        .map(|(_, r)| r)
        .collect();
    let build = lab::current().build_id();
    let key_of = |spec: &RunSpec| StoredKey {
        scenario_hash: scenario_hash.to_owned(),
        run_key: spec.key(),
        build: build.clone(),
    };
    let wanted: BTreeSet<StoredKey> = runs.iter().map(key_of).collect();

    let results_path = out.join(RESULTS_FILE);
    let stored = StoredRuns::read(&results_path)?;
    // This sweep's records (the first of each key) and every other line,
    // in file order: the canonical rewrite puts the first in run order and
    // keeps the others after them.
    let mut mine: Vec<StoredLine> = Vec::new();
    let mut others: Vec<LineAt> = Vec::new();
    let mut have: BTreeSet<StoredKey> = BTreeSet::new();
    let mut other_records = 0;
    for line in stored.lines {
        let key = line.run.key();
        if !wanted.contains(&key) {
            other_records += 1;
            others.push(line.at);
        } else if have.insert(key) {
            mine.push(line);
        } else {
            others.push(line.at);
        }
    }
    let pending: Vec<RunSpec> = runs
        .iter()
        .filter(|r| !have.contains(&key_of(r)))
        .cloned()
        .collect();
    let resumed = runs.len() - pending.len();

    let mut appender = ResultsAppender::open(&results_path, stored.complete_len)?;
    let summary_path = out.join(SUMMARY_FILE);
    let mut progress = progress(pending.len());
    let left = pending.len();
    let mut ran = 0;
    let write_error = execute(
        scenario_hash,
        pending,
        config.jobs.max(1),
        config.wall_limit,
        &config.interrupt,
        |result: RunResult| -> Result<()> {
            let at = appender.append(&result)?;
            ran += 1;
            progress.record(&result);
            mine.push(StoredLine {
                at,
                run: StoredRun::of(&result),
            });
            if config.summary_every > 0 && mine.len().is_multiple_of(config.summary_every) {
                write_atomic(
                    &summary_path,
                    summary_csv(mine.iter().map(|l| &l.run)).as_bytes(),
                )?;
            }
            Ok(())
        },
    );
    progress.finish();
    write_error?;
    write_atomic(
        &summary_path,
        summary_csv(mine.iter().map(|l| &l.run)).as_bytes(),
    )?;
    rewrite_in_run_order(
        &results_path,
        appender.file_len(),
        &runs,
        &key_of,
        &mine,
        &others,
    )?;
    let failed = mine.iter().filter(|l| l.run.outcome != Outcome::Ok).count();
    Ok(SweepReport {
        planned: runs.len(),
        resumed,
        ran,
        interrupted: ran < left,
        failed,
        other_records,
        dropped_partial_line: stored.partial_last_line,
        runs: mine.into_iter().map(|l| l.run).collect(),
    })
}

/// Rewrite `results.jsonl` at `path`, `len` bytes long (atomically, and
/// only if that changes it): the lines of `others` as they were, then the
/// records of `mine` in `runs` order, so that the file does not depend on
/// the order in which runs finished, and its last record is this sweep's
/// (the report takes the last record's build as the current one). The
/// lines are copied from the file, not held.
fn rewrite_in_run_order(
    path: &std::path::Path,
    len: u64,
    runs: &[RunSpec],
    key_of: &impl Fn(&RunSpec) -> StoredKey,
    mine: &[StoredLine],
    others: &[LineAt],
) -> Result<()> {
    let position: std::collections::BTreeMap<StoredKey, usize> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (key_of(r), i))
        .collect();
    let mut ordered: Vec<&StoredLine> = mine.iter().collect();
    ordered.sort_by_key(|l| position.get(&l.run.key()).copied().unwrap_or(usize::MAX));
    let lines: Vec<(&std::path::Path, LineAt)> = others
        .iter()
        .copied()
        .chain(ordered.iter().map(|l| l.at))
        .map(|at| (path, at))
        .collect();
    if !whole_file(lines.iter().map(|&(_, at)| at), len) {
        write_lines(path, &lines)?;
    }
    Ok(())
}

/// Run `pending` on `jobs` worker threads, each run on a thread of its
/// own, handing each result to `sink` on this thread as it finishes. The
/// first error from `sink` stops new runs from starting and is returned;
/// `interrupt`, once raised, stops new runs from starting too.
fn execute(
    scenario_hash: &str,
    pending: Vec<RunSpec>,
    jobs: usize,
    wall_limit: Option<std::time::Duration>,
    interrupt: &AtomicBool,
    mut sink: impl FnMut(RunResult) -> Result<()>,
) -> Result<()> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<RunResult>();
    let mut outcome = Ok(());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(pending.len()) {
            let tx = tx.clone();
            let (next, stop, pending) = (&next, &stop, &pending);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) && !interrupt.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(spec) = pending.get(i) else { break };
                    if tx
                        .send(run_isolated(spec, scenario_hash, wall_limit))
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for result in rx {
            if let Err(e) = sink(result) {
                stop.store(true, Ordering::Relaxed);
                outcome = Err(e);
                break;
            }
        }
    });
    outcome
}

/// [`runner::run`] on a fresh thread: a run shares no thread-local state
/// with any other, and even a panic the runner could not catch becomes a
/// failed record.
fn run_isolated(
    spec: &RunSpec,
    scenario_hash: &str,
    wall_limit: Option<std::time::Duration>,
) -> RunResult {
    let owned = (spec.clone(), scenario_hash.to_owned());
    let thread = std::thread::Builder::new()
        .name(format!("run {}", spec.key()))
        .stack_size(RUN_STACK_BYTES)
        .spawn(move || {
            runner::run_limited(&owned.0, &owned.1, Default::default(), wall_limit).result
        });
    let joined = match thread {
        Ok(handle) => handle.join().map_err(|panic| {
            format!(
                "the run's thread panicked: {}",
                runner::panic_message(&*panic)
            )
        }),
        Err(e) => Err(format!("could not start the run's thread: {e}")),
    };
    joined.unwrap_or_else(|reason| {
        let mut result = runner::unfinished(spec, scenario_hash);
        result.reason = Some(reason);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_list() {
        let shards: Vec<Shard> = ["1/3", "2/3", "3/3"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        for i in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.contains(i)).count(), 1);
        }
        assert!(shards[0].contains(0) && shards[1].contains(1) && shards[0].contains(3));
        for bad in ["0/3", "4/3", "1/0", "x/2", "1", "1/2/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(shards[1].to_string(), "2/3");
    }

    /// `Shard::from_env` over the variables `vars`.
    fn from_env(vars: &[(&str, &str)]) -> Result<EnvShard, String> {
        Shard::from_env(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn slurm(id: &str, count: &str, min: &str, max: &str) -> Vec<(&'static str, String)> {
        [
            ("SLURM_ARRAY_TASK_ID", id),
            ("SLURM_ARRAY_TASK_COUNT", count),
            ("SLURM_ARRAY_TASK_MIN", min),
            ("SLURM_ARRAY_TASK_MAX", max),
        ]
        .into_iter()
        .map(|(n, v)| (n, v.to_owned()))
        .collect()
    }

    fn with(
        vars: &[(&'static str, String)],
        extra: &[(&'static str, &str)],
    ) -> Result<EnvShard, String> {
        let mut all: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (*n, v.as_str())).collect();
        all.extend_from_slice(extra);
        from_env(&all)
    }

    #[test]
    fn a_slurm_array_task_is_its_position_in_the_array() {
        let shard = |id: &str, min: &str, max: &str| {
            with(&slurm(id, "8", min, max), &[]).map(|s| s.shard.to_string())
        };
        assert_eq!(shard("0", "0", "7").unwrap(), "1/8");
        assert_eq!(shard("7", "0", "7").unwrap(), "8/8");
        assert_eq!(shard("1", "1", "8").unwrap(), "1/8");
        assert_eq!(shard("8", "1", "8").unwrap(), "8/8");
        // --array=10-24:2, 8 tasks.
        let stepped = with(
            &slurm("14", "8", "10", "24"),
            &[("SLURM_ARRAY_TASK_STEP", "2")],
        )
        .unwrap();
        assert_eq!(stepped.shard.to_string(), "3/8");
        assert_eq!(stepped.source, "SLURM_ARRAY_TASK_ID=14 in --array=10-24:2");
        // Every task of an array gets a different shard.
        let all: BTreeSet<String> = (0..8)
            .map(|id| shard(&id.to_string(), "0", "7").unwrap())
            .collect();
        assert_eq!(all.len(), 8);
    }

    #[test]
    fn a_slurm_array_with_gaps_or_a_missing_variable_is_an_error() {
        // --array=1,2,5: three tasks between 1 and 5.
        let err = with(&slurm("2", "3", "1", "5"), &[]).unwrap_err();
        assert!(err.contains("not an evenly spaced range"), "{err}");
        let err = with(
            &slurm("3", "3", "0", "4"),
            &[("SLURM_ARRAY_TASK_STEP", "2")],
        )
        .unwrap_err();
        assert!(err.contains("SLURM_ARRAY_TASK_ID=3 is not one of"), "{err}");
        let err = from_env(&[("SLURM_ARRAY_TASK_ID", "3")]).unwrap_err();
        assert!(err.contains("SLURM_ARRAY_TASK_COUNT is not"), "{err}");
        let err = with(&slurm("x", "8", "0", "7"), &[]).unwrap_err();
        assert!(
            err.contains("SLURM_ARRAY_TASK_ID=\"x\" is not a whole number"),
            "{err}"
        );
        let err = with(
            &slurm("0", "8", "0", "7"),
            &[("SLURM_ARRAY_TASK_STEP", "0")],
        )
        .unwrap_err();
        assert!(err.contains("not an evenly spaced range"), "{err}");
    }

    #[test]
    fn a_kubernetes_completion_index_counts_from_zero() {
        let shard = |index| {
            from_env(&[
                ("JOB_COMPLETION_INDEX", index),
                ("HTTPLAB_SHARD_COUNT", "4"),
            ])
        };
        assert_eq!(shard("0").unwrap().shard.to_string(), "1/4");
        let last = shard("3").unwrap();
        assert_eq!(last.shard.to_string(), "4/4");
        assert_eq!(last.source, "JOB_COMPLETION_INDEX=3, HTTPLAB_SHARD_COUNT=4");
        let err = shard("4").unwrap_err();
        assert!(err.contains("must equal the Job's completions"), "{err}");
        let err = from_env(&[("JOB_COMPLETION_INDEX", "0")]).unwrap_err();
        assert!(err.contains("HTTPLAB_SHARD_COUNT is not"), "{err}");
        let err =
            from_env(&[("JOB_COMPLETION_INDEX", "0"), ("HTTPLAB_SHARD_COUNT", "0")]).unwrap_err();
        assert!(err.contains("is not below HTTPLAB_SHARD_COUNT=0"), "{err}");
    }

    #[test]
    fn no_batch_system_or_two_of_them_is_an_error() {
        let err = from_env(&[]).unwrap_err();
        assert!(err.contains("neither SLURM_ARRAY_TASK_ID"), "{err}");
        let err =
            from_env(&[("SLURM_ARRAY_TASK_ID", "0"), ("JOB_COMPLETION_INDEX", "0")]).unwrap_err();
        assert!(err.contains("both"), "{err}");
    }
}
