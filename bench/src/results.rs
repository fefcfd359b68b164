//! A results directory: `results.jsonl` (one `records::RunResult` per
//! line), `summary.csv` (one row per run) and `scenario.toml` (the resolved
//! scenario).
//!
//! - `results.jsonl` is append-only: each record is written as one whole
//!   line, newline included, in a single write, then flushed. A sweep that
//!   is killed leaves at most one partial last line; [`StoredRuns::read`]
//!   drops it (that run simply runs again) and [`ResultsAppender::open`]
//!   cuts the file back to its last complete line before appending.
//! - It is read through `records::ResultsReader`, a line at a time with
//!   the checks `reports` applies too: any complete line that is not a
//!   record of this build's layout is an error naming the file and the
//!   line, here as there. What is kept of a line is where it is
//!   ([`StoredLine`]) and its [`StoredRun`]; a rewrite copies the lines
//!   from the file ([`write_lines`]), so a sweep's memory grows with its
//!   runs, not with its records' bytes.
//! - `summary.csv` and `scenario.toml` are replaced atomically
//!   ([`write_atomic`]: a temporary sibling, then a rename), so a reader
//!   sees the old file or the new one, never half of one.
//! - Records are keyed by [`StoredKey`]: scenario hash, run key and the
//!   lab build. Resuming skips runs whose key is already stored; merging
//!   keeps the first record of each key.

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use records::{Axes, AxisValue, LineAt, Outcome, ResultsReader, RunResult};
use reports::tables::Metric;
use scenarios::Protocol;

/// The raw results, one JSON record per line.
pub const RESULTS_FILE: &str = records::RESULTS_FILE;
/// One CSV row per run.
pub const SUMMARY_FILE: &str = "summary.csv";
/// The resolved scenario the runs came from.
pub const SCENARIO_FILE: &str = "scenario.toml";

/// What identifies a stored run: the same scenario (content hash), the same
/// run within it, and the same build of the lab.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoredKey {
    /// The scenario's content hash.
    pub scenario_hash: String,
    /// The run's key within the scenario.
    pub run_key: String,
    /// The lab build, `LabInfo::build_id`.
    pub build: String,
}

/// What resuming, merging, the summary and the printed table need of a
/// record: a view computed from a [`RunResult`] ([`StoredRun::of`]), small
/// enough to keep one per run of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRun {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario's content hash.
    pub scenario_hash: String,
    /// The run's key within its scenario.
    pub run_key: String,
    /// The protocol.
    pub protocol: Protocol,
    /// The run seed.
    pub seed: u64,
    /// Sweep-axis values by name.
    pub axes: Axes,
    /// How the run ended.
    pub outcome: Outcome,
    /// Why it failed or timed out.
    pub reason: Option<String>,
    /// The lab build, `LabInfo::build_id`.
    pub build: String,
    /// Page load time, if the run completed.
    pub plt: Option<Duration>,
    /// Time to first byte, if the first response head arrived.
    pub ttfb: Option<Duration>,
    /// First render, from the navigation start, if the run has page times
    /// (`clients::PageTimes`: a page loaded as a browser does, every object
    /// complete).
    pub first_render: Option<Duration>,
    /// DOMContentLoaded, from the navigation start, if the run has page
    /// times.
    pub dom_content_loaded: Option<Duration>,
    /// Onload, from the navigation start, if the run has page times.
    pub onload: Option<Duration>,
    /// Speed index (byte-weighted visual completion), if the run has page
    /// times.
    pub speed_index: Option<Duration>,
    /// Body bytes received, if the client left a record.
    pub total_bytes: Option<u64>,
    /// Connections opened, if the client left a record.
    pub connections_used: Option<usize>,
    /// The value of each of [`summary_metrics`], in that order, if the run
    /// measured it ([`Metric::of_run`], as the report computes it).
    pub metrics: Vec<Option<f64>>,
}

/// The per-run metrics of the report ([`Metric::ALL`], in its order) that
/// `summary.csv` has after its `connections` column: all of them but the
/// times it has exactly, to the nanosecond, in columns of their own (page
/// load time, TTFB and the page times).
pub fn summary_metrics() -> impl Iterator<Item = Metric> {
    Metric::ALL.into_iter().filter(|m| {
        !matches!(
            m,
            Metric::FirstRender
                | Metric::DomContentLoaded
                | Metric::Onload
                | Metric::SpeedIndex
                | Metric::Plt
                | Metric::Ttfb
        )
    })
}

/// A metric's column in `summary.csv`: its name in the report's
/// statistics, with its unit when it has one beyond a count
/// (`handshake_ms`, `goodput_mbit_s`, `hol_excess_byte_s`; `retransmissions`,
/// `drops_random`).
pub fn summary_column(metric: Metric) -> String {
    let key = metric.key();
    match metric.unit() {
        "ms" => format!("{key}_ms"),
        "Mbit/s" => format!("{key}_mbit_s"),
        "byte·s" => format!("{key}_byte_s"),
        _ => key.to_owned(),
    }
}

impl StoredRun {
    /// The view of `result`.
    pub fn of(result: &RunResult) -> StoredRun {
        let m = result.measurements.as_ref();
        let page = m.and_then(|m| m.page.as_ref());
        StoredRun {
            scenario: result.scenario.clone(),
            scenario_hash: result.scenario_hash.clone(),
            run_key: result.run_key.clone(),
            protocol: result.protocol,
            seed: result.seed,
            axes: result.axes.clone(),
            outcome: result.outcome,
            reason: result.reason.clone(),
            build: result.lab.build_id(),
            plt: m.and_then(|m| m.plt),
            ttfb: m.and_then(|m| m.ttfb),
            first_render: page.map(|p| p.first_render),
            dom_content_loaded: page.map(|p| p.dom_content_loaded),
            onload: page.map(|p| p.onload),
            speed_index: page.map(|p| p.speed_index),
            total_bytes: m.map(|m| m.total_bytes),
            connections_used: m.map(|m| m.connections_used),
            metrics: summary_metrics()
                .map(|metric| metric.of_run(result))
                .collect(),
        }
    }

    /// Its key.
    pub fn key(&self) -> StoredKey {
        StoredKey {
            scenario_hash: self.scenario_hash.clone(),
            run_key: self.run_key.clone(),
            build: self.build.clone(),
        }
    }
}

/// The order of the summary and the table: scenario, protocol, axis values
/// (numerically), seed, then the key, so that it is the same however the
/// runs were split or ordered.
pub fn summary_order(run: &StoredRun) -> impl Ord + '_ {
    let axes: Vec<(&String, AxisOrder)> =
        run.axes.iter().map(|(k, &v)| (k, AxisOrder(v))).collect();
    (
        &run.scenario,
        &run.scenario_hash,
        run.protocol,
        axes,
        run.seed,
        run.key(),
    )
}

/// Axis values in [`AxisValue::sort_cmp`]'s order.
struct AxisOrder(AxisValue);

impl PartialEq for AxisOrder {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for AxisOrder {}

impl PartialOrd for AxisOrder {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AxisOrder {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.sort_cmp(&other.0)
    }
}

/// One stored record: where its line is, and what is read from it.
#[derive(Clone, Debug)]
pub struct StoredLine {
    /// Where the line is in its file.
    pub at: LineAt,
    /// Its view.
    pub run: StoredRun,
}

/// Whether `lines` are, in order, every byte of a file of `len` bytes:
/// each line starting where the one before ended, from 0 to `len` (then
/// writing them again would write the file as it is).
pub fn whole_file(lines: impl IntoIterator<Item = LineAt>, len: u64) -> bool {
    let mut at = 0;
    for line in lines {
        if line.offset != at {
            return false;
        }
        at = line.end();
    }
    at == len
}

/// What `results.jsonl` holds.
#[derive(Clone, Debug, Default)]
pub struct StoredRuns {
    /// Every complete record, in file order.
    pub lines: Vec<StoredLine>,
    /// Bytes of the file up to the end of its last complete line.
    pub complete_len: u64,
    /// Whether the file ended in a partial line (an interrupted write),
    /// which was left out.
    pub partial_last_line: bool,
}

impl StoredRuns {
    /// Read `path` a line at a time with `records::ResultsReader`; an
    /// absent file holds nothing. A last line without its newline is an
    /// interrupted write: it is left out. Any other line that is not a
    /// record is an error naming the file and line.
    pub fn read(path: &Path) -> Result<StoredRuns> {
        let mut reader = match ResultsReader::open(path) {
            Ok(reader) => reader,
            Err(records::ReadError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return Ok(StoredRuns::default())
            }
            Err(e) => return Err(e.into()),
        };
        let mut lines = Vec::new();
        while let Some(line) = reader.next_record() {
            let line = line?;
            lines.push(StoredLine {
                at: line.at,
                run: StoredRun::of(&line.record),
            });
        }
        Ok(StoredRuns {
            lines,
            complete_len: reader.complete_len(),
            partial_last_line: reader.partial_last_line(),
        })
    }
}

/// Appends records to `results.jsonl`, one whole line per write.
#[derive(Debug)]
pub struct ResultsAppender {
    file: File,
    path: PathBuf,
    len: u64,
}

impl ResultsAppender {
    /// Open `path` for appending, first cutting it to `complete_len` bytes
    /// (dropping a partial last line); create it if absent.
    pub fn open(path: &Path, complete_len: u64) -> Result<ResultsAppender> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        let len = file
            .metadata()
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        if len > complete_len {
            file.set_len(complete_len)
                .with_context(|| format!("cutting the partial last line of {}", path.display()))?;
        }
        Ok(ResultsAppender {
            file,
            path: path.to_owned(),
            len: len.min(complete_len),
        })
    }

    /// Append `result` as one line, written whole and flushed; returns
    /// where the line is.
    pub fn append(&mut self, result: &RunResult) -> Result<LineAt> {
        let mut line = serde_json::to_string(result)
            .with_context(|| format!("encoding the record of run {}", result.run_key))?;
        line.push('\n');
        let at = LineAt {
            offset: self.len,
            len: line.len() - 1,
        };
        self.append_line(&line)?;
        self.len += line.len() as u64;
        Ok(at)
    }

    /// The file's length: where the next line goes.
    pub fn file_len(&self) -> u64 {
        self.len
    }

    /// Append `line`, which ends in a newline, in one write, and flush.
    fn append_line(&mut self, line: &str) -> Result<()> {
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

/// Write `bytes` to `path` atomically: into a temporary sibling, synced,
/// then renamed over `path`. The temporary's name is this process's and
/// this write's own (`.NAME.PID.N.tmp`), so two writers of one file never
/// share one; a failed write removes it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// Write `lines` (each from its file, `lines[i].0`) to `path`, each with
/// its newline, atomically as [`write_atomic`] writes, copying them from
/// their files a line at a time. A line that is no longer where it was
/// (its file shorter) is an error naming its file.
pub fn write_lines(path: &Path, lines: &[(&Path, LineAt)]) -> Result<()> {
    let mut sources: Vec<(&Path, File)> = Vec::new();
    let mut line = Vec::new();
    // The file being read when an error came, if one did.
    let mut reading: Option<&Path> = None;
    let result = write_atomic_with(path, |out| {
        for &(source, at) in lines {
            reading = Some(source);
            let i = match sources.iter().position(|(p, _)| *p == source) {
                Some(i) => i,
                None => {
                    sources.push((source, File::open(source)?));
                    sources.len() - 1
                }
            };
            let file = &mut sources[i].1;
            line.resize(at.len + 1, 0);
            file.seek(SeekFrom::Start(at.offset))?;
            file.read_exact(&mut line)?;
            if line.last() != Some(&b'\n') {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("the line at byte {} is no longer there", at.offset),
                ));
            }
            reading = None;
            out.write_all(&line)?;
        }
        Ok(())
    });
    match reading {
        Some(source) => result.with_context(|| format!("reading {}", source.display())),
        None => result,
    }
}

/// Write what `write` writes to `path` atomically: into a temporary
/// sibling (buffered), synced, then renamed over `path`.
fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    let written = || -> std::io::Result<()> {
        let mut file = BufWriter::new(File::create(&tmp)?);
        write(&mut file)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    };
    written().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        anyhow::Error::new(e).context(format!("writing {}", path.display()))
    })
}

/// The lock file of a results directory (see [`OutLock`]).
pub const LOCK_FILE: &str = ".httplab.lock";

/// An advisory lock on a results directory, held while a command writes
/// into it (`bench`, `merge`, `calibrate`): a second command on the same
/// directory stops at once, naming the holder's process id, instead of
/// running every run a second time. The lock is the operating system's
/// (`flock` on Linux), so it goes away with its process, however that
/// ends; the file [`LOCK_FILE`] stays, holding the last holder's pid.
#[derive(Debug)]
pub struct OutLock {
    _file: File,
}

impl OutLock {
    /// Lock `dir` (which must exist), or say who holds it.
    pub fn acquire(dir: &Path) -> Result<OutLock> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = std::io::Read::read_to_string(&mut file, &mut holder);
                let holder = match holder.trim() {
                    "" => "another process".to_owned(),
                    pid => format!("process {pid}"),
                };
                bail!(
                    "{} is in use: {holder} is writing into it (lock {}); \
                     wait for it to finish, or choose another --out",
                    dir.display(),
                    path.display()
                );
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(anyhow::Error::new(e).context(format!("locking {}", path.display())));
            }
        }
        file.set_len(0)
            .and_then(|()| file.write_all(format!("{}\n", std::process::id()).as_bytes()))
            .with_context(|| format!("writing the lock file {}", path.display()))?;
        Ok(OutLock { _file: file })
    }
}

/// The summary CSV of `runs`: a header, then one row per run, ordered by
/// scenario, protocol, axis values and seed.
///
/// Columns: `scenario, protocol, seed`, one column per axis name (sorted;
/// empty where a run has no value), `outcome, plt_ms, ttfb_ms,
/// first_render_ms, dcl_ms, onload_ms, speed_index_ms, total_bytes,
/// connections`, a column per metric of [`summary_metrics`]
/// ([`summary_column`]: `handshake_ms, hol_blocked_ms, ...,
/// connections_after_change`; empty where the run did not measure it),
/// then `reason`. The times are exact (nanosecond precision):
/// `plt_ms` empty when the run did not complete, `ttfb_ms` when the first
/// response head never arrived, and the page times (first render,
/// DOMContentLoaded, onload, speed index, from the navigation start) when
/// the run has none (a flat page, another workload, a failed run); fields
/// are quoted as RFC 4180 says.
pub fn summary_csv<'a>(runs: impl IntoIterator<Item = &'a StoredRun>) -> String {
    let mut runs: Vec<&StoredRun> = runs.into_iter().collect();
    runs.sort_by(|a, b| summary_order(a).cmp(&summary_order(b)));
    let mut axis_names: Vec<&String> = runs.iter().flat_map(|r| r.axes.keys()).collect();
    axis_names.sort();
    axis_names.dedup();

    let mut out = String::new();
    let mut header = vec!["scenario", "protocol", "seed"];
    header.extend(axis_names.iter().map(|s| s.as_str()));
    header.extend([
        "outcome",
        "plt_ms",
        "ttfb_ms",
        "first_render_ms",
        "dcl_ms",
        "onload_ms",
        "speed_index_ms",
        "total_bytes",
        "connections",
    ]);
    let mut header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    header.extend(summary_metrics().map(summary_column));
    header.push("reason".to_owned());
    push_row(&mut out, header);
    for run in runs {
        let mut row = vec![
            run.scenario.clone(),
            run.protocol.to_string(),
            run.seed.to_string(),
        ];
        row.extend(axis_names.iter().map(|name| {
            run.axes
                .get(*name)
                .map(AxisValue::to_string)
                .unwrap_or_default()
        }));
        row.push(run.outcome.label().to_owned());
        row.push(run.plt.map(format_ms).unwrap_or_default());
        row.push(run.ttfb.map(format_ms).unwrap_or_default());
        for time in [
            run.first_render,
            run.dom_content_loaded,
            run.onload,
            run.speed_index,
        ] {
            row.push(time.map(format_ms).unwrap_or_default());
        }
        row.push(run.total_bytes.map(|b| b.to_string()).unwrap_or_default());
        row.push(
            run.connections_used
                .map(|c| c.to_string())
                .unwrap_or_default(),
        );
        // Shortest text that reads back as the same number: the value the
        // report computes, to the last bit.
        row.extend(
            run.metrics
                .iter()
                .map(|v| v.map(|v| v.to_string()).unwrap_or_default()),
        );
        row.push(run.reason.clone().unwrap_or_default());
        push_row(&mut out, row);
    }
    out
}

/// A duration as milliseconds with six decimals, exactly (to the
/// nanosecond).
pub fn format_ms(d: Duration) -> String {
    let ns = d.as_nanos();
    format!("{}.{:06}", ns / 1_000_000, ns % 1_000_000)
}

fn push_row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    let mut first = true;
    for field in fields {
        if !first {
            out.push(',');
        }
        first = false;
        if field.contains([',', '"', '\n', '\r']) {
            let _ = write!(out, "\"{}\"", field.replace('"', "\"\""));
        } else {
            out.push_str(&field);
        }
    }
    out.push('\n');
}

/// Join the results directories `inputs` into `out`: every record of each
/// input's `results.jsonl` (and of `out`'s own, first, if it has one), the
/// first of each key kept; `summary.csv` regenerated from them all; the
/// first input's `scenario.toml` copied. Returns (records kept, duplicates
/// dropped).
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<(usize, usize)> {
    if inputs.is_empty() {
        bail!("merge: name at least one results directory to merge");
    }
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let _lock = OutLock::acquire(out)?;
    let mut sources: Vec<PathBuf> = Vec::new();
    let own = out.join(RESULTS_FILE);
    if own.exists() && !inputs.iter().any(|i| same_dir(i, out)) {
        sources.push(own.clone());
    }
    for dir in inputs {
        let path = dir.join(RESULTS_FILE);
        if !path.is_file() {
            bail!("merge: {} has no {RESULTS_FILE}", dir.display());
        }
        sources.push(path);
    }
    let mut seen = std::collections::BTreeSet::new();
    // Each kept line with the index of its source.
    let mut kept: Vec<(usize, StoredLine)> = Vec::new();
    let mut duplicates = 0;
    for (i, source) in sources.iter().enumerate() {
        let file = StoredRuns::read(source)?;
        for line in file.lines {
            if seen.insert(line.run.key()) {
                kept.push((i, line));
            } else {
                duplicates += 1;
            }
        }
    }
    let lines: Vec<(&Path, LineAt)> = kept
        .iter()
        .map(|(source, line)| (sources[*source].as_path(), line.at))
        .collect();
    write_lines(&own, &lines)?;
    let summary = summary_csv(kept.iter().map(|(_, l)| &l.run));
    write_atomic(&out.join(SUMMARY_FILE), summary.as_bytes())?;
    if let Some(scenario) = inputs
        .iter()
        .map(|d| d.join(SCENARIO_FILE))
        .find(|p| p.is_file())
    {
        if !same_dir(scenario.parent().unwrap_or(out), out) {
            let text =
                fs::read(&scenario).with_context(|| format!("reading {}", scenario.display()))?;
            write_atomic(&out.join(SCENARIO_FILE), &text)?;
        }
    }
    Ok((kept.len(), duplicates))
}

/// Whether `a` and `b` name the same directory.
fn same_dir(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_copied_from_their_files_and_a_whole_file_is_left_as_it_is() {
        let dir = std::env::temp_dir().join(format!("bench-write-lines-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (a, b, out) = (dir.join("a"), dir.join("b"), dir.join("out"));
        fs::write(&a, "one\ntwo\n\nthree\n").unwrap();
        fs::write(&b, "four\n").unwrap();
        let at = |offset, len| LineAt { offset, len };
        let a_lines = [at(0, 3), at(4, 3), at(9, 5)];
        assert!(!whole_file(a_lines, 15), "the blank line is not in them");
        assert!(whole_file([at(0, 3), at(4, 3), at(8, 0), at(9, 5)], 15));
        assert!(!whole_file([at(4, 3), at(0, 3)], 8), "out of order");
        assert!(!whole_file([at(0, 3)], 8), "short of the end");
        assert!(whole_file([], 0));
        write_lines(
            &out,
            &[
                (&a, a_lines[2]),
                (&b, at(0, 4)),
                (&a, a_lines[0]),
                (&a, a_lines[1]),
            ],
        )
        .unwrap();
        assert_eq!(fs::read_to_string(&out).unwrap(), "three\nfour\none\ntwo\n");
        // A line no longer where it was: an error naming its file, and the
        // file written to is as it was.
        fs::write(&b, "fo").unwrap();
        let e = write_lines(&out, &[(&a, a_lines[0]), (&b, at(0, 4))]).unwrap_err();
        assert!(
            format!("{e:#}").starts_with(&format!("reading {}", b.display())),
            "{e:#}"
        );
        assert_eq!(fs::read_to_string(&out).unwrap(), "three\nfour\none\ntwo\n");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 3, "no temporary left");
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A completed run of `scenario` with page load time `plt_ms`.
    fn run(scenario: &str, protocol: Protocol, seed: u64, plt_ms: u64) -> StoredRun {
        StoredRun {
            scenario: scenario.into(),
            scenario_hash: "abcd".into(),
            run_key: format!("{protocol}/seed={seed}"),
            protocol,
            seed,
            axes: Axes::new(),
            outcome: Outcome::Ok,
            reason: None,
            build: "0.1.0+0000000".into(),
            plt: Some(Duration::from_millis(plt_ms)),
            ttfb: Some(Duration::from_micros(104_500)),
            first_render: None,
            dom_content_loaded: None,
            onload: None,
            speed_index: None,
            total_bytes: Some(1_750_000),
            connections_used: Some(1),
            metrics: vec![None; summary_metrics().count()],
        }
    }

    #[test]
    fn the_summary_has_the_page_times_after_the_first_byte_empty_when_absent() {
        let flat = run("page-flat", Protocol::H2, 1, 2_000);
        let mut metrics = vec![None; summary_metrics().count()];
        metrics[1] = Some(12.5); // hol_blocked_ms
        metrics[5] = Some(7.123456789); // goodput_mbit_s
        metrics[8] = Some(3.0); // drops_random
        let page = StoredRun {
            metrics,
            first_render: Some(Duration::from_nanos(412_000_001)),
            dom_content_loaded: Some(Duration::from_millis(900)),
            onload: Some(Duration::from_millis(1_950)),
            speed_index: Some(Duration::from_micros(1_234_567)),
            ..run("page", Protocol::H3, 2, 1_960)
        };
        let failed = StoredRun {
            outcome: Outcome::Failed,
            reason: Some("/bytes/30000/index.html: reset, by the peer".into()),
            plt: None,
            ..run("page", Protocol::H1, 1, 0)
        };
        assert_eq!(
            summary_csv([&flat, &page, &failed]),
            "scenario,protocol,seed,outcome,plt_ms,ttfb_ms,first_render_ms,dcl_ms,onload_ms,speed_index_ms,total_bytes,connections,\
             handshake_ms,hol_blocked_ms,hol_excess_byte_s,hol_own_wait_byte_s,byte_delivery_ms,goodput_mbit_s,\
             retransmissions,server_retransmissions,drops_random,drops_queue_full,drops_targeted,drops_blackout,\
             drops_oversize,drops_no_route,interruption_ms,bytes_fetched_twice,connections_after_change,reason\n\
             page,h1,1,failed,,104.500000,,,,,1750000,1,,,,,,,,,,,,,,,,,,\"/bytes/30000/index.html: reset, by the peer\"\n\
             page,h3,2,ok,1960.000000,104.500000,412.000001,900.000000,1950.000000,1234.567000,1750000,1,,12.5,,,,7.123456789,,,3,,,,,,,,,\n\
             page-flat,h2,1,ok,2000.000000,104.500000,,,,,1750000,1,,,,,,,,,,,,,,,,,,\n"
        );
    }
}
