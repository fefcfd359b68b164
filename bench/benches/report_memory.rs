//! The report's memory per 1000 runs: the peak resident memory (VmHWM) of
//! a process that renders the report of a results directory and nothing
//! else, for results directories of several sizes.
//!
//! The records are real: `httplab bench --loss 2 --seeds 10` writes 30
//! page runs (10 per protocol) at 2 % loss, and each larger file holds
//! copies of them under fresh seeds and run keys, so that every copy is a
//! run of its own to the report (the report's memory depends on what a
//! record holds, not on which seed it came from). Each report renders in
//! a child process (this bench again, told so by [`CHILD`]), which prints
//! its own VmHWM from `/proc/self/status` when it is done; the table gives
//! that peak, the results file's size, and the memory per 1000 runs as the
//! difference between the two largest sizes.
//!
//! `cargo bench -p bench --bench report_memory` measures 1000 and 5000
//! runs; under `cargo test --benches` it renders 30 and 90 runs once, so
//! it keeps compiling and working. Figures only, no assertions on memory
//! or time.

// The wall clock, legitimately: a benchmark measures wall-clock time by
// definition; nothing it reads reaches a result.
#![allow(clippy::disallowed_methods)]
// A bench that prints its figures.
#![allow(clippy::print_stdout)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The environment variable that makes this bench a child that renders
/// the report of the results directory it names and prints its VmHWM.
const CHILD: &str = "HTTPLAB_REPORT_MEMORY_CHILD";

/// Sizes measured by `cargo bench`, in runs.
const SIZES: [usize; 2] = [1000, 5000];
/// Sizes rendered under `cargo test --benches`.
const SMOKE_SIZES: [usize; 2] = [30, 90];

/// A field of `/proc/self/status` in bytes (the file gives kB).
fn status_bytes(name: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or_else(|| panic!("no {name} in /proc/self/status"))
}

/// The child: render `dir`'s report into `dir/report`, then print
/// `vmhwm BYTES` (and `vmrss BYTES` before rendering).
fn child(dir: &Path) {
    let before = status_bytes("VmRSS:");
    let summary = reports::render(dir, &dir.join("report")).expect("the report renders");
    assert_eq!(summary.failed + summary.timed_out, 0, "every run completed");
    println!("runs {}", summary.runs);
    println!("vmrss {before}");
    println!("vmhwm {}", status_bytes("VmHWM:"));
}

/// `base`'s records, copied round-robin into `runs` records under seeds
/// after the base's own, each with its run key to match, as one
/// `results.jsonl` text.
fn grown(base: &[serde_json::Value], runs: usize) -> String {
    let top_seed = base
        .iter()
        .filter_map(|r| r["seed"].as_u64())
        .max()
        .expect("seeds");
    let mut text = String::new();
    for i in 0..runs {
        let mut r = base[i % base.len()].clone();
        let round = (i / base.len()) as u64;
        let seed = r["seed"].as_u64().expect("a seed") + round * top_seed;
        let key = r["run_key"].as_str().expect("a run key").to_owned();
        let old = format!("seed={}", r["seed"]);
        let new_key: Vec<String> = key
            .split('/')
            .map(|part| {
                if part == old {
                    format!("seed={seed}")
                } else {
                    part.to_owned()
                }
            })
            .collect();
        assert!(
            key.split('/').any(|part| part == old),
            "run key {key} names its seed"
        );
        r["run_key"] = new_key.join("/").into();
        r["seed"] = seed.into();
        text.push_str(&r.to_string());
        text.push('\n');
    }
    text
}

/// One child's figures: runs rendered, RSS before rendering and its peak,
/// in bytes, and the wall time of the whole child.
fn measure(dir: &Path) -> (usize, u64, u64, f64) {
    let started = Instant::now();
    let out = Command::new(std::env::current_exe().expect("this bench's path"))
        .env(CHILD, dir)
        .output()
        .expect("run the child");
    let wall = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the child failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |name: &str| -> u64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in the child's output: {stdout}"))
    };
    (
        field("runs ") as usize,
        field("vmrss "),
        field("vmhwm "),
        wall,
    )
}

fn main() {
    if let Some(dir) = std::env::var_os(CHILD) {
        child(Path::new(&dir));
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    // cargo bench passes --bench; cargo test --benches does not.
    let measuring = args.iter().any(|a| a == "--bench");
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let (seeds, sizes) = if measuring {
        ("10", SIZES)
    } else {
        ("1", SMOKE_SIZES)
    };
    let work: PathBuf =
        std::env::temp_dir().join(format!("httplab-report-memory-{}", std::process::id()));
    let base_dir = work.join("base");
    let status = Command::new(env!("CARGO_BIN_EXE_httplab"))
        .args(["bench", "--loss", "2", "--seeds", seeds, "--out"])
        .arg(&base_dir)
        .output()
        .expect("run httplab bench");
    assert!(
        status.status.success(),
        "httplab bench failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let base: Vec<serde_json::Value> = fs::read_to_string(base_dir.join("results.jsonl"))
        .expect("the base results")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a record"))
        .collect();
    println!(
        "report memory: peak resident memory (VmHWM) of a process rendering the report alone; \
         records are copies of {} real page runs at 2 % loss under fresh seeds",
        base.len()
    );
    println!(
        "{:>8} {:>12} {:>12} {:>14} {:>10}",
        "runs", "results MB", "peak RSS MB", "before MB", "wall s"
    );
    let mut rows = Vec::new();
    for &runs in &sizes {
        let dir = work.join(format!("runs-{runs}"));
        fs::create_dir_all(&dir).expect("a results directory");
        let text = grown(&base, runs);
        fs::write(dir.join("results.jsonl"), &text).expect("write the results");
        let (rendered, before, peak, wall) = measure(&dir);
        assert_eq!(rendered, runs, "the report has every run");
        println!(
            "{:>8} {:>12.1} {:>12.1} {:>14.1} {:>10.2}",
            runs,
            text.len() as f64 / 1e6,
            peak as f64 / 1e6,
            before as f64 / 1e6,
            wall
        );
        rows.push((runs, text.len(), peak));
        fs::remove_dir_all(&dir).expect("remove the results");
    }
    if let [(n0, bytes0, peak0), (n1, bytes1, peak1)] = rows[..] {
        let per_1000 = |v1: usize, v0: usize| (v1 as f64 - v0 as f64) / (n1 - n0) as f64 * 1000.0;
        println!(
            "per 1000 runs: {:.1} MB of peak RSS for {:.1} MB of results ({:.2}x the file)",
            per_1000(peak1 as usize, peak0 as usize) / 1e6,
            per_1000(bytes1, bytes0) / 1e6,
            per_1000(peak1 as usize, peak0 as usize) / per_1000(bytes1, bytes0)
        );
    }
    fs::remove_dir_all(&work).expect("remove the work directory");
}
