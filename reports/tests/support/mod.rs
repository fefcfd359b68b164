//! The fixtures of `reports/tests/fixtures` (see its README.md), read the
//! ways the tests read them, and scratch directories to render into.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use records::RunResult;
use serde_json::Value;

/// The fixture directory.
pub const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// The records of the main fixture (`fixtures/results.jsonl`).
pub fn fixture_records() -> Vec<RunResult> {
    records::read_records(&Path::new(FIXTURE).join("results.jsonl")).expect("the fixtures read")
}

/// The records of the results directory `dir` as JSON values.
pub fn json_records(dir: &Path) -> Vec<Value> {
    fs::read_to_string(dir.join("results.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A fresh, empty directory `name` for one test of the test file `suite`.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(suite)
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}
