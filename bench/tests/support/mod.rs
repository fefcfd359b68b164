//! Running the `httplab` binary from the tests, in scratch directories.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A small scenario for sweeps: one 100 KB object, HTTP/1.1 and HTTP/3,
/// three seeds (6 runs).
pub const TINY: &str = r#"
name = "tiny"
description = "100 KB, two protocols, three seeds"
protocols = ["h1", "h3"]
seeds = 3
time_limit_s = 20

[workload]
kind = "bulk"
size = 100_000
"#;

/// A fresh, empty scratch directory for `name` under cargo's target tmp.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("bench-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Write `text` to `dir/name` and return its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path
}

/// The `httplab` command with `args`.
pub fn httplab_command<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_httplab"));
    cmd.args(args);
    cmd
}

/// The command `httplab bench --scenario SCENARIO --out OUT` plus `extra`.
pub fn bench_command(scenario: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = httplab_command([
        "bench".as_ref(),
        "--scenario".as_ref(),
        scenario.as_os_str(),
    ]);
    cmd.args(["--out".as_ref(), out.as_os_str()]).args(extra);
    cmd
}

/// Run `httplab` with `args` to its end.
pub fn httplab<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    httplab_command(args).output().expect("run httplab")
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Assert that `out` succeeded, showing its stderr if not.
pub fn assert_ok(out: &Output) {
    assert!(out.status.success(), "httplab failed: {}", stderr(out));
}

/// The complete lines of `dir/results.jsonl`.
pub fn result_lines(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("results.jsonl")).unwrap_or_default();
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| l.trim_end().to_owned())
        .collect()
}

/// The `run_key` of a results line.
pub fn run_key(line: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(line).expect("a JSON record");
    v["run_key"].as_str().expect("run_key").to_owned()
}

/// A finished sweep of [`TINY`] (6 runs, one job) in a fresh scratch
/// directory `name`: the scenario file and the results directory
/// (`name/out`).
pub fn tiny_sweep(name: &str) -> (PathBuf, PathBuf) {
    let base = scratch(name);
    let scenario = write(&base, "tiny.toml", TINY);
    let out = base.join("out");
    let path = |p: &Path| p.to_str().expect("a UTF-8 path").to_owned();
    assert_ok(&httplab([
        "bench".to_owned(),
        "--scenario".to_owned(),
        path(&scenario),
        "--jobs".to_owned(),
        "1".to_owned(),
        "--out".to_owned(),
        path(&out),
    ]));
    (scenario, out)
}
