//! Event-driven time changes nothing: every shipped scenario's runs (its
//! first seed, at most [`PER_SCENARIO`] runs of it, spread over its sweep)
//! give the same record and the same packet log when the simulation skips
//! the ticks in which nothing can happen as when it steps every tick.

use bench::runner;
use scenarios::Scenario;

/// Runs checked per shipped scenario.
const PER_SCENARIO: usize = 9;

/// The run's record as `results.jsonl` stores it, without the build's
/// `lab` field.
fn record(r: &bench::RunResult) -> String {
    let mut r = r.clone();
    r.lab = records::LabInfo {
        version: String::new(),
        commit: String::new(),
        dirty: false,
        crate_versions: Default::default(),
    };
    serde_json::to_string(&r).expect("a record serializes")
}

#[test]
fn skipping_idle_ticks_gives_the_same_runs_as_stepping_every_tick() {
    let mut checked = 0;
    let mut specs = Vec::new();
    for name in Scenario::builtin_names() {
        let scenario = Scenario::builtin(name).expect("a shipped scenario");
        let hash = scenario.content_hash();
        let all: Vec<_> = scenario.expand();
        let first_seed = all.iter().map(|s| s.seed).min().expect("runs");
        let of_seed: Vec<_> = all.into_iter().filter(|s| s.seed == first_seed).collect();
        let step = of_seed.len().div_ceil(PER_SCENARIO).max(1);
        for spec in of_seed.into_iter().step_by(step) {
            specs.push((name.to_string(), hash.clone(), spec));
        }
    }
    // Two threads, each taking every other run.
    let (failures, ticks): (Vec<String>, Vec<runner::Ticks>) = std::thread::scope(|s| {
        let halves: Vec<_> = (0..2)
            .map(|half| {
                let specs = &specs;
                s.spawn(move || {
                    let mut failures = Vec::new();
                    let mut ticks = runner::Ticks::default();
                    for (name, hash, spec) in specs.iter().skip(half).step_by(2) {
                        let skipping = runner::run_captured(spec, hash, Default::default());
                        let stepping = runner::every_tick(|| {
                            runner::run_captured(spec, hash, Default::default())
                        });
                        let t = skipping.ticks.unwrap_or_default();
                        ticks.stepped += t.stepped;
                        ticks.skipped += t.skipped;
                        let digest =
                            |a: &runner::RunArtifacts| a.packet_log.as_ref().map(|l| l.digest());
                        if record(&skipping.result) != record(&stepping.result)
                            || digest(&skipping) != digest(&stepping)
                        {
                            failures.push(format!(
                                "{name}: {} differs (skipping: {:?} {:?}; every tick: {:?} {:?})",
                                skipping.result.run_key,
                                skipping.result.outcome,
                                skipping.result.reason,
                                stepping.result.outcome,
                                stepping.result.reason
                            ));
                        }
                    }
                    (failures, ticks)
                })
            })
            .collect();
        halves
            .into_iter()
            .map(|h| h.join().expect("a checking thread"))
            .fold((Vec::new(), Vec::new()), |(mut f, mut t), (f1, t1)| {
                f.extend(f1);
                t.push(t1);
                (f, t)
            })
    });
    let stepped: u64 = ticks.iter().map(|t| t.stepped).sum();
    let skipped: u64 = ticks.iter().map(|t| t.skipped).sum();
    // The check means something only if ticks were skipped: about a third
    // are, in these runs (the rest have a packet or a timer on one host).
    assert!(
        4 * skipped > stepped + skipped,
        "only {skipped} of {} ticks skipped",
        stepped + skipped
    );
    checked += specs.len();
    assert!(
        checked >= 2 * Scenario::builtin_names().len(),
        "only {checked} runs checked"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} runs differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
