//! What a seed changes without random loss: the client's start offset.
//!
//! The shipped `page` scenario has no random loss and no jitter. Its seeds
//! still give different runs, since each starts its client at an offset of
//! its own (`start_offset = "per-seed"`), and a seed run again gives the
//! identical record. `page-flat` starts its clients with the server
//! (`start_offset = "none"`): there, over TCP, every seed is the same run.

use bench::{runner, Outcome, RunResult};
use scenarios::{Protocol, RunSpec, Scenario};

/// The run of `scenario` (a shipped one) over `protocol` with `seed`.
fn run(scenario: &str, protocol: Protocol, seed: u64) -> RunResult {
    let scenario = Scenario::builtin(scenario).expect("a shipped scenario");
    let spec: RunSpec = scenario
        .expand()
        .into_iter()
        .find(|s| s.protocol == protocol && s.seed == seed)
        .expect("the scenario has the run");
    let result = runner::run(&spec, &scenario.content_hash());
    assert_eq!(
        result.outcome,
        Outcome::Ok,
        "{}: {:?}",
        spec.key(),
        result.reason
    );
    result
}

/// The record as `results.jsonl` stores it.
fn line(r: &RunResult) -> String {
    serde_json::to_string(r).expect("a record serializes")
}

fn digest(r: &RunResult) -> &str {
    &r.simulation.as_ref().expect("a summary").packet_log_digest
}

#[test]
fn two_seeds_of_the_default_page_differ_and_a_seed_repeats() {
    for protocol in [Protocol::H1, Protocol::H2] {
        let one = run("page", protocol, 1);
        let two = run("page", protocol, 2);
        let again = run("page", protocol, 1);
        let (a, b) = (
            one.simulation.as_ref().expect("a summary"),
            two.simulation.as_ref().expect("a summary"),
        );
        assert_eq!(a.drops["random"], 0, "no random loss");
        assert!(a.drops["queue-full"] > 0, "the queue drops: {:?}", a.drops);
        assert_ne!(a.start_offset, b.start_offset);
        assert_eq!(a.client_started, a.start_offset, "no warm-up");
        assert_ne!(digest(&one), digest(&two), "{protocol}: seeds 1 and 2");
        assert_ne!(line(&one), line(&two));
        assert_eq!(line(&one), line(&again), "{protocol}: seed 1 twice");
    }
}

#[test]
fn without_the_offset_every_seed_is_the_same_tcp_run() {
    let one = run("page-flat", Protocol::H2, 1);
    let two = run("page-flat", Protocol::H2, 2);
    assert!(one
        .simulation
        .as_ref()
        .expect("a summary")
        .start_offset
        .is_zero());
    assert_eq!(digest(&one), digest(&two));
    assert_eq!(
        one.measurements.as_ref().and_then(|m| m.plt),
        two.measurements.as_ref().and_then(|m| m.plt)
    );
}
