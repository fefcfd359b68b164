//! The cluster examples in `examples/` work as shipped: the Slurm array
//! job's script, run once per array task as Slurm would run it, and then
//! its merge script, give the very records an unsharded sweep gives; the
//! submit script chains the merge after the array; and the Kubernetes
//! Indexed Job's container command, run once per completion index with the
//! Job's own environment, does the same.
//!
//! The sweep is the tiny scenario (6 runs) over the examples' 8 shards, so
//! two shards are empty, as happens when a sweep has fewer runs than tasks.
#![cfg(unix)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{result_lines, scratch, stderr, write};

/// Seeds per protocol of the test sweep (the tiny scenario's own count).
const SEEDS: &str = "3";

/// Variables a batch system or the examples read: cleared from every
/// command, so that the test's own environment cannot leak in.
const CLEARED: [&str; 13] = [
    "SLURM_ARRAY_JOB_ID",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_STEP",
    "SLURM_CPUS_PER_TASK",
    "JOB_COMPLETION_INDEX",
    "HTTPLAB_SHARD_COUNT",
    "HTTPLAB",
    "SCENARIO",
    "SEEDS",
    "SWEEP_DIR",
];

fn examples(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("examples")
        .join(dir)
}

/// `program args`, with the batch variables cleared and `env` set.
fn command(program: &str, args: &[&str], env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args);
    for name in CLEARED {
        cmd.env_remove(name);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

fn run_ok(mut cmd: Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(out.status.success(), "{what} failed: {}", stderr(&out));
    out
}

/// `dir/name` → the built `httplab`.
fn link_httplab(dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let link = dir.join(name);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_httplab"), &link).unwrap();
    link
}

/// The records and summary of the unsharded sweep the examples must
/// reproduce.
fn unsharded(dir: &Path, scenario: &Path) -> (Vec<String>, String) {
    let out = dir.join("unsharded");
    let mut cmd = command(
        env!("CARGO_BIN_EXE_httplab"),
        &[
            "bench",
            "--scenario",
            scenario.to_str().unwrap(),
            "--seeds",
            SEEDS,
            "--jobs",
            "1",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    cmd.stdout(std::process::Stdio::null());
    run_ok(cmd, "the unsharded sweep");
    (sorted(result_lines(&out)), summary(&out))
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

fn summary(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("summary.csv")).expect("summary.csv")
}

/// The merged results in `merged` are the unsharded sweep's, and the merge
/// step rendered their report.
fn assert_same_as_unsharded(merged: &Path, expected: &(Vec<String>, String)) {
    let lines = sorted(result_lines(merged));
    assert_eq!(lines.len(), 6, "every run of the sweep, once");
    assert_eq!(
        lines, expected.0,
        "merged records differ from the unsharded sweep's"
    );
    assert_eq!(summary(merged), expected.1);
    assert!(
        merged.join("report").join("report.md").is_file(),
        "no report"
    );
}

fn env_pair(name: &str, value: impl AsRef<std::ffi::OsStr>) -> (String, String) {
    (
        name.to_owned(),
        value.as_ref().to_string_lossy().into_owned(),
    )
}

/// The `--array=MIN-MAX` of a script's `#SBATCH` lines.
fn sbatch_array(script: &str) -> (u64, u64) {
    let range = script
        .lines()
        .find_map(|l| l.strip_prefix("#SBATCH --array="))
        .expect("an #SBATCH --array= line");
    let (min, max) = range.split_once('-').expect("a MIN-MAX range");
    (min.parse().unwrap(), max.parse().unwrap())
}

#[test]
fn the_slurm_array_job_and_its_merge_reproduce_the_unsharded_sweep() {
    let dir = scratch("cluster-slurm");
    let scenario = write(&dir, "tiny.toml", support::TINY);
    let expected = unsharded(&dir, &scenario);

    // A home directory laid out as the scripts' defaults expect: the
    // binary at ~/httplab/target/release/httplab, results under
    // ~/httplab-out/<scenario>/.
    let home = dir.join("home");
    link_httplab(&home.join("httplab/target/release"), "httplab");
    let settings = vec![
        env_pair("HOME", &home),
        env_pair("SCENARIO", &scenario),
        env_pair("SEEDS", SEEDS),
    ];

    let sweep = examples("slurm").join("sweep.sbatch");
    let (min, max) = sbatch_array(&std::fs::read_to_string(&sweep).unwrap());
    let count = max - min + 1;
    for id in min..=max {
        // What Slurm sets for task `id` of `--array=min-max`.
        let mut env = settings.clone();
        env.extend([
            env_pair("SLURM_ARRAY_JOB_ID", "77"),
            env_pair("SLURM_ARRAY_TASK_ID", id.to_string()),
            env_pair("SLURM_ARRAY_TASK_COUNT", count.to_string()),
            env_pair("SLURM_ARRAY_TASK_MIN", min.to_string()),
            env_pair("SLURM_ARRAY_TASK_MAX", max.to_string()),
            env_pair("SLURM_ARRAY_TASK_STEP", "1"),
            env_pair("SLURM_CPUS_PER_TASK", "1"),
        ]);
        let out = run_ok(
            command("bash", &[sweep.to_str().unwrap()], &env),
            &format!("sweep.sbatch as task {id}"),
        );
        let shard = format!(
            "shard {}/{count} from SLURM_ARRAY_TASK_ID={id}",
            id - min + 1
        );
        assert!(stderr(&out).contains(&shard), "task {id}: {}", stderr(&out));
    }
    let sweep_dir = home.join("httplab-out/tiny");
    for id in min..=max {
        assert!(sweep_dir
            .join(format!("shard-{id}/results.jsonl"))
            .is_file());
    }

    let merge = examples("slurm").join("merge.sbatch");
    run_ok(
        command("bash", &[merge.to_str().unwrap()], &settings),
        "merge.sbatch",
    );
    assert_same_as_unsharded(&sweep_dir.join("merged"), &expected);
}

#[test]
fn the_slurm_merge_fails_when_there_are_no_shards() {
    let dir = scratch("cluster-slurm-empty");
    let merge = examples("slurm").join("merge.sbatch");
    let env = vec![
        env_pair("HOME", &dir),
        env_pair("HTTPLAB", env!("CARGO_BIN_EXE_httplab")),
    ];
    let out = command("bash", &[merge.to_str().unwrap()], &env)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no shard-* directories"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn submit_queues_the_merge_after_every_task_of_the_array() {
    let dir = scratch("cluster-submit");
    // A stand-in for sbatch that notes its arguments and answers like
    // `sbatch --parsable` on a multi-cluster site.
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("sbatch.log");
    let fake = write(
        &bin,
        "sbatch",
        "#!/bin/bash\necho \"$*\" >> \"$SBATCH_LOG\"\necho \"$((4240 + $(wc -l < \"$SBATCH_LOG\")));lab\"\n",
    );
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let submit = examples("slurm").join("submit.sh");
    let out = run_ok(
        command(
            "bash",
            &[submit.to_str().unwrap(), "--array=0-31"],
            &[env_pair("PATH", path), env_pair("SBATCH_LOG", &log)],
        ),
        "submit.sh",
    );

    let calls: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let array: Vec<&str> = calls[0].split(' ').collect();
    assert_eq!(array[..2], ["--parsable", "--array=0-31"]);
    assert!(
        array[2].ends_with("/examples/slurm/sweep.sbatch"),
        "{calls:?}"
    );
    let merge: Vec<&str> = calls[1].split(' ').collect();
    assert_eq!(merge[..2], ["--parsable", "--dependency=afterok:4241"]);
    assert!(
        merge[2].ends_with("/examples/slurm/merge.sbatch"),
        "{calls:?}"
    );
    let said = support::stdout(&out);
    assert!(
        said.contains("array job 4241") && said.contains("job 4242"),
        "{said}"
    );
}

/// One container of a Kubernetes manifest, read with just enough YAML for
/// the examples' layout: a flow-sequence `command`, a literal block
/// (`- |`) as the only `args` item, `env` as name/value pairs, one
/// `mountPath`.
#[derive(Debug)]
struct Container {
    command: Vec<String>,
    script: String,
    env: Vec<(String, String)>,
    mount_path: String,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// A scalar as YAML writes it here: plain or double-quoted.
fn scalar(value: &str) -> String {
    let value = value.trim();
    if value.starts_with('"') {
        serde_json::from_str(value).expect("a double-quoted scalar")
    } else {
        value.to_owned()
    }
}

/// The value of the first `key: value` line of `doc`.
fn field(doc: &str, key: &str) -> Option<String> {
    doc.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}:")).map(scalar))
}

/// The lines of `doc` after the line that reads `header` (trimmed), as long
/// as they are blank or indented deeper than it.
fn block_after<'a>(doc: &'a str, header: &str) -> (usize, Vec<&'a str>) {
    let lines: Vec<&str> = doc.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == header)
        .unwrap_or_else(|| panic!("no `{header}` line"));
    let depth = indent(lines[at]);
    let body = lines[at + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > depth)
        .copied()
        .collect();
    (depth, body)
}

fn container(doc: &str) -> Container {
    let command = serde_json::from_str(&field(doc, "command").expect("a command"))
        .expect("command is a flow sequence of strings");
    let (_, args) = block_after(doc, "args:");
    assert_eq!(
        args.first().map(|l| l.trim()),
        Some("- |"),
        "args is one literal block"
    );
    let (_, script) = block_after(doc, "- |");
    let margin = script
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent(l))
        .min()
        .expect("a script");
    let script = script
        .iter()
        .map(|l| l.get(margin..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let (_, env_lines) = block_after(doc, "env:");
    let mut env = Vec::new();
    let mut name = None;
    for line in env_lines {
        let line = line.trim();
        if let Some(n) = line.strip_prefix("- name:") {
            name = Some(scalar(n));
        } else if let Some(v) = line.strip_prefix("value:") {
            env.push((name.take().expect("a name before its value"), scalar(v)));
        }
    }
    Container {
        command,
        script,
        env,
        mount_path: field(doc, "mountPath").expect("a mountPath"),
    }
}

/// The manifest document in `file` that holds `kind: Job`.
fn job(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    text.split("\n---\n")
        .find(|doc| doc.lines().any(|l| l.trim() == "kind: Job"))
        .expect("a Job")
        .to_owned()
}

/// Run `c`'s command as its pod would, with its environment (values under
/// its mount path moved to `volume`, `overrides` replacing values the Job
/// sets) and `extra`, `httplab` found on `path`.
fn run_container(
    c: &Container,
    volume: &Path,
    overrides: &[(&str, String)],
    extra: &[(String, String)],
    path: &str,
) -> Output {
    let mut env: Vec<(String, String)> = c
        .env
        .iter()
        .map(|(k, v)| {
            let v = match v.strip_prefix(&c.mount_path) {
                Some(rest) => format!("{}{rest}", volume.display()),
                None => v.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    for (name, value) in overrides {
        let slot = env
            .iter_mut()
            .find(|(k, _)| k == name)
            .unwrap_or_else(|| panic!("the Job sets no {name}"));
        slot.1 = value.clone();
    }
    env.extend_from_slice(extra);
    env.push(env_pair("PATH", path));
    let script = c
        .script
        .replace(&c.mount_path, &volume.display().to_string());
    let mut args: Vec<&str> = c.command[1..].iter().map(String::as_str).collect();
    args.push(&script);
    run_ok(
        command(&c.command[0], &args, &env),
        "the container's command",
    )
}

#[test]
fn the_kubernetes_indexed_job_and_its_merge_reproduce_the_unsharded_sweep() {
    let dir = scratch("cluster-k8s");
    let scenario = write(&dir, "tiny.toml", support::TINY);
    let expected = unsharded(&dir, &scenario);

    let sweep = job(&examples("k8s").join("sweep-job.yaml"));
    assert_eq!(field(&sweep, "completionMode").as_deref(), Some("Indexed"));
    let completions: u64 = field(&sweep, "completions").unwrap().parse().unwrap();
    let parallelism: u64 = field(&sweep, "parallelism").unwrap().parse().unwrap();
    assert!(parallelism <= completions);
    let shard = container(&sweep);
    assert_eq!(shard.command, ["/bin/sh", "-c"]);
    let count = shard
        .env
        .iter()
        .find(|(k, _)| k == "HTTPLAB_SHARD_COUNT")
        .map(|(_, v)| v.clone());
    assert_eq!(
        count,
        Some(completions.to_string()),
        "HTTPLAB_SHARD_COUNT must equal completions"
    );

    // The shared volume, and an image whose PATH has httplab.
    let volume = dir.join("results");
    let bin = dir.join("bin");
    link_httplab(&bin, "httplab");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let overrides = [
        ("SCENARIO", scenario.display().to_string()),
        ("SEEDS", SEEDS.to_owned()),
    ];
    for index in 0..completions {
        let out = run_container(
            &shard,
            &volume,
            &overrides,
            &[env_pair("JOB_COMPLETION_INDEX", index.to_string())],
            &path,
        );
        let expected_shard = format!(
            "shard {}/{completions} from JOB_COMPLETION_INDEX={index}",
            index + 1
        );
        assert!(
            stderr(&out).contains(&expected_shard),
            "index {index}: {}",
            stderr(&out)
        );
    }

    let merge = container(&job(&examples("k8s").join("merge-job.yaml")));
    let sweep_dir = |c: &Container| {
        c.env
            .iter()
            .find(|(k, _)| k == "SWEEP_DIR")
            .map(|(_, v)| v.clone())
    };
    assert_eq!(sweep_dir(&merge), sweep_dir(&shard), "SWEEP_DIR differs");
    assert_eq!(merge.mount_path, shard.mount_path);
    run_container(&merge, &volume, &[], &[], &path);
    let sweep_dir = sweep_dir(&shard).unwrap();
    let merged = volume
        .join(
            sweep_dir
                .strip_prefix(&shard.mount_path)
                .unwrap()
                .trim_start_matches('/'),
        )
        .join("merged");
    assert_same_as_unsharded(&merged, &expected);
}

#[test]
fn shard_from_env_outside_a_batch_system_is_an_error() {
    let dir = scratch("cluster-no-batch");
    let out_dir = dir.join("out");
    let httplab = env!("CARGO_BIN_EXE_httplab");
    let base = ["bench", "--quick", "--out", out_dir.to_str().unwrap()];
    // Flags, environment, and what the error must say.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case<'_>; 3] = [
        (&["--shard-from-env"], &[], "neither SLURM_ARRAY_TASK_ID"),
        (
            &["--shard-from-env", "--shard", "1/2"],
            &[],
            "cannot be used with",
        ),
        (
            &["--shard-from-env"],
            &[("JOB_COMPLETION_INDEX", "8"), ("HTTPLAB_SHARD_COUNT", "8")],
            "JOB_COMPLETION_INDEX=8 is not below HTTPLAB_SHARD_COUNT=8",
        ),
    ];
    for (flags, vars, needle) in cases {
        let args: Vec<&str> = base.iter().chain(flags).copied().collect();
        let env: Vec<(String, String)> = vars.iter().map(|(k, v)| env_pair(k, v)).collect();
        let out = command(httplab, &args, &env).output().unwrap();
        let err = stderr(&out);
        assert!(!out.status.success(), "{flags:?} {vars:?} succeeded");
        assert!(err.contains(needle), "{flags:?} {vars:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!out_dir.exists(), "a refused sweep wrote {out_dir:?}");
}
