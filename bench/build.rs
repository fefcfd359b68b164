//! Captures what identifies this build of the lab, for every run record:
//! the git commit and whether the tree was dirty (`git rev-parse HEAD`,
//! `git status --porcelain`; "unknown" and not dirty without git), and the
//! versions of the protocol and simulation crates from the workspace's
//! `Cargo.lock`. They reach the crate as `HTTPLAB_*` environment variables
//! (see `src/lab.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The crates whose versions every record names, in this order.
const CRATES: [&str; 9] = [
    "hyper",
    "h2",
    "h3",
    "h3-quinn",
    "quinn",
    "quinn-proto",
    "rustls",
    "smoltcp",
    "tokio",
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.parent().unwrap_or(&manifest).to_path_buf();

    let commit = git(&root, &["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    let dirty = git(&root, &["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
    println!("cargo:rustc-env=HTTPLAB_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=HTTPLAB_GIT_DIRTY={dirty}");
    // What `httplab -V` prints after the name: the version, the commit and
    // whether the tree was dirty.
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let dirty_note = if dirty { ", dirty" } else { "" };
    println!("cargo:rustc-env=HTTPLAB_VERSION_LINE={version} (commit {commit}{dirty_note})");

    let lock = root.join("Cargo.lock");
    let versions = std::fs::read_to_string(&lock)
        .map(|text| crate_versions(&text))
        .unwrap_or_default();
    let list: Vec<String> = CRATES
        .iter()
        .map(|name| {
            let version = versions
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>();
            let version = if version.is_empty() {
                "unknown".to_owned()
            } else {
                version.join(" ")
            };
            format!("{name}={version}")
        })
        .collect();
    println!("cargo:rustc-env=HTTPLAB_CRATE_VERSIONS={}", list.join(";"));

    // Rerun when the commit, the index, the lockfile or any lab source
    // changes, so that `dirty` and the versions stay current.
    println!("cargo:rerun-if-changed={}", lock.display());
    if let Some(git_dir) = git(&root, &["rev-parse", "--absolute-git-dir"]) {
        let git_dir = PathBuf::from(git_dir);
        // Only paths that exist: cargo reruns the script for ever when a
        // watched file is missing.
        for p in ["HEAD", "index", "refs/heads", "packed-refs"] {
            let path = git_dir.join(p);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    for member in [
        "scenarios",
        "netsim",
        "servers",
        "clients",
        "records",
        "bench",
    ] {
        for part in ["src", "Cargo.toml"] {
            println!(
                "cargo:rerun-if-changed={}",
                root.join(member).join(part).display()
            );
        }
    }
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.toml").display()
    );
}

/// `git args` in `dir`, trimmed; `None` if git is missing or fails. With
/// `--no-optional-locks`, so that `git status` does not rewrite the index
/// (which would make cargo run this script again on every build).
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("--no-optional-locks")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Every `(name, version)` of a `Cargo.lock`, in file order.
fn crate_versions(lock: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name: Option<String> = None;
    for line in lock.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            name = None;
        } else if let Some(v) = quoted_value(line, "name") {
            name = Some(v);
        } else if let Some(v) = quoted_value(line, "version") {
            if let Some(n) = name.take() {
                out.push((n, v));
            }
        }
    }
    out
}

/// The value of a `key = "value"` line.
fn quoted_value(line: &str, key: &str) -> Option<String> {
    let rest = line
        .strip_prefix(key)?
        .trim_start()
        .strip_prefix('=')?
        .trim();
    Some(rest.strip_prefix('"')?.strip_suffix('"')?.to_owned())
}
