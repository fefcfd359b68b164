//! One run through the library: a run that fails or times out is
//! recorded with its reason, never dropped.

use bench::{runner, Outcome};
use scenarios::Scenario;

fn first_run(toml: &str) -> scenarios::RunSpec {
    let scenario = Scenario::from_toml(toml, "test.toml").expect("a valid scenario");
    scenario.expand().remove(0)
}

#[test]
fn a_run_past_its_time_limit_is_a_timeout_with_its_measurements() {
    // 10 MB at 10 Mbit/s needs 8 s; the limit is 1 s.
    let spec = first_run(
        r#"
        name = "too-slow"
        protocols = ["h2"]
        time_limit_s = 1
        [workload]
        kind = "bulk"
        size = 10_000_000
        "#,
    );
    let result = runner::run(&spec, "hash");
    assert_eq!(result.outcome, Outcome::Timeout);
    let reason = result.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("time limit"), "{reason}");
    let m = result.measurements.as_ref().expect("the client's record");
    assert!(m.plt.is_none());
    assert!(m.total_bytes > 0 && m.total_bytes < 10_000_000);
    assert!(result.simulation.is_some());
}

#[test]
fn a_failed_run_is_recorded_with_its_reason() {
    // A blackout of the down link from the start: nothing ever arrives.
    let spec = first_run(
        r#"
        name = "dark"
        protocols = ["h3"]
        time_limit_s = 2
        [[network.events]]
        type = "blackout"
        from_ms = 0
        until_ms = 100000
        direction = "down"
        [workload]
        kind = "bulk"
        size = 1000
        "#,
    );
    let result = runner::run(&spec, "hash");
    assert_ne!(result.outcome, Outcome::Ok);
    assert!(result.reason.is_some());
    assert_eq!(result.run_key, "h3/seed=1");
    let sim = result.simulation.expect("the network's summary");
    assert!(sim.drops["blackout"] > 0);
}

#[test]
fn a_stored_result_reads_back_equal() {
    let spec = first_run(
        r#"
        name = "small"
        protocols = ["h1"]
        [network]
        loss = { model = "bernoulli", percent = 2 }
        [workload]
        kind = "bulk"
        size = 200_000
        "#,
    );
    let result = runner::run(&spec, "hash");
    assert_eq!(result.outcome, Outcome::Ok, "{:?}", result.reason);
    let line = serde_json::to_string(&result).unwrap();
    let back: bench::RunResult = serde_json::from_str(&line).unwrap();
    assert_eq!(back, result);
}
