//! The calibration report (`reports::calibration`) on records built from
//! the fixtures: kernel copies of the simulated runs with page load times
//! scaled by a known factor, a stale record of another build, a repeated
//! run key, a second sweep point, and a suspect kernel run.

use std::path::Path;
use std::time::Duration;

use records::{KernelRun, Mode, RunResult};
use reports::calibration::render;

mod support;

use support::fixture_records;

fn kernel_copy(r: &RunResult, factor: f64) -> RunResult {
    let mut k = r.clone();
    k.mode = Mode::Kernel;
    k.run_key = format!("kernel/cubic/{}", r.run_key);
    let m = k.measurements.as_mut().expect("measured");
    m.plt = m.plt.map(|d| d.mul_f64(factor));
    k.kernel = Some(KernelRun {
        release: "6.18.0-test".into(),
        sysctls: Default::default(),
        deliveries: 100,
        late_p50: Duration::from_micros(1),
        late_p99: Duration::from_micros(50),
        late_max: Duration::from_micros(90),
        late_bound: Duration::from_millis(1),
        late_exceeded: false,
        forwarder_cpu: Duration::from_millis(5),
        realtime_priority: true,
        unmodelled_losses: Some(0),
        foreign_packets: Some(0),
    });
    k
}

fn write(dir: &Path, records: &[RunResult]) {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r).unwrap());
        text.push('\n');
    }
    std::fs::write(dir.join("results.jsonl"), text).unwrap();
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("httplab-calibration-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn ratios_are_kernel_over_sim_per_protocol_and_point_from_the_latest_build() {
    let sim = fixture_records();
    let mut all = Vec::new();
    // A stale kernel record of another build, with an absurd time: it must
    // be left out.
    let mut stale = kernel_copy(&sim[0], 100.0);
    stale.lab.commit = "0000000".into();
    all.push(stale);
    all.extend(sim.iter().cloned());
    // The same kernel run key twice: the later record counts.
    all.extend(sim.iter().map(|r| kernel_copy(r, 3.0)));
    all.extend(sim.iter().map(|r| kernel_copy(r, 1.25)));
    // A second sweep point, simulated only.
    for r in &sim {
        let mut p = r.clone();
        p.axes
            .insert("loss_percent".into(), records::AxisValue::Number(2.0));
        p.run_key = format!("{}/loss_percent=2", r.run_key);
        all.push(p);
    }
    // One suspect kernel run, at the first point.
    if let Some(k) = all.iter_mut().rev().find(|r| r.mode == Mode::Kernel) {
        k.kernel.as_mut().unwrap().unmodelled_losses = Some(3);
    }
    // The build of the last record is the fixtures': put one last.
    all.push(sim[0].clone());
    let dir = temp_dir("ratios");
    write(&dir, &all);

    let c = render(&dir).expect("the report renders");
    let plt: Vec<_> = c
        .rows
        .iter()
        .filter(|r| r.metric.starts_with("page load time") && r.point.is_empty())
        .collect();
    assert_eq!(
        plt.len(),
        3,
        "one row per protocol at the first point: {plt:?}"
    );
    for row in &plt {
        assert_eq!((row.sim_n, row.kernel_n), (2, 2), "{row:?}");
        let (ratio, low, high) = row.ratio.expect("a ratio");
        assert!((ratio - 1.25).abs() < 1e-3, "{row:?}");
        assert!(low <= ratio && ratio <= high, "{row:?}");
    }
    let second: Vec<_> = c
        .rows
        .iter()
        .filter(|r| r.point == "loss_percent=2" && r.metric.starts_with("page load time"))
        .collect();
    assert_eq!(second.len(), 3);
    assert!(second.iter().all(|r| r.kernel_n == 0 && r.ratio.is_none()));
    assert_eq!(c.late_runs, 1);
    assert!(
        c.markdown.contains("## Suspect kernel runs"),
        "{}",
        c.markdown
    );
    assert!(c.path.is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_empty_results_file_is_an_error() {
    let dir = temp_dir("empty");
    std::fs::write(dir.join("results.jsonl"), "").unwrap();
    assert!(render(&dir).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
