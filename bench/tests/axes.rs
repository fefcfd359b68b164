//! The transport choices as axes, end to end through the runner
//! (`bench::runner`, what `httplab bench` and `run` use): congestion
//! control, pacing and the initial window reach both transports, every
//! run records them in its transport settings, runs repeat exactly, and
//! pacing cuts the page's slow-start queue drops.

use bench::{runner, Outcome, RunResult};
use netsim::{DropReason, Fate, PacketLog};
use scenarios::{Protocol, RunSpec, Scenario};

/// The runs of a scenario given as TOML (the top-level fields and a sweep).
fn specs(toml: &str) -> (Scenario, Vec<RunSpec>) {
    let scenario = Scenario::from_toml(toml, "axes.toml").unwrap_or_else(|e| panic!("{e}"));
    let runs = scenario.expand();
    (scenario, runs)
}

/// Run `spec`, which must complete with every body verified.
fn run(scenario: &Scenario, spec: &RunSpec) -> (RunResult, PacketLog) {
    let a = runner::run_captured(
        spec,
        &scenario.content_hash(),
        netsim::CaptureConfig::default(),
    );
    assert_eq!(
        a.result.outcome,
        Outcome::Ok,
        "{}: {:?}",
        spec.key(),
        a.result.reason
    );
    let m = a.result.measurements.as_ref().expect("measurements");
    assert!(
        m.requests.iter().all(|r| r.verified),
        "{}: a body failed its check",
        spec.key()
    );
    (a.result, a.packet_log.expect("the simulation ran"))
}

/// One recorded setting of a layer (`tcp` or `quic`).
fn setting(result: &RunResult, layer: &str, key: &str) -> String {
    let t = result.transport.as_ref().expect("transport settings");
    let settings = match layer {
        "tcp" => &t.tcp,
        "quic" => &t.quic,
        _ => &t.tls,
    };
    settings
        .get(key)
        .unwrap_or_else(|| panic!("{layer}.{key} is not recorded: {settings:?}"))
        .to_owned()
}

/// Data packets the server sent that the queue dropped.
fn queue_drops(log: &PacketLog) -> usize {
    log.records()
        .iter()
        .filter(|p| p.payload_len > 0 && p.fate == Fate::Dropped(DropReason::QueueFull))
        .count()
}

#[test]
fn every_protocol_loads_the_page_under_each_congestion_control_and_records_it() {
    let (scenario, runs) = specs(
        "name = \"cc\"\nseeds = 1\n[sweep]\nloss_percent = [2]\ncc = [\"cubic\", \"newreno\", \"bbr\"]\n",
    );
    assert_eq!(runs.len(), 9);
    for spec in &runs {
        let (result, _) = run(&scenario, spec);
        let cc = spec.choices.cc.label();
        let layer = if spec.protocol == Protocol::H3 {
            "quic"
        } else {
            "tcp"
        };
        let recorded = setting(&result, layer, "congestion_control");
        assert!(
            recorded.starts_with(cc),
            "{}: recorded {recorded:?}",
            spec.key()
        );
        assert_eq!(
            result.axes["cc"].to_string(),
            cc,
            "{}: the record's axes",
            spec.key()
        );
    }
}

#[test]
fn bbr_runs_repeat_exactly_for_both_transports() {
    let (scenario, runs) = specs("name = \"bbr\"\nseeds = 1\ncc = \"bbr\"\nprotocols = [\"h2\", \"h3\"]\n[sweep]\nloss_percent = [2]\n");
    for spec in &runs {
        let (a, _) = run(&scenario, spec);
        let (b, _) = run(&scenario, spec);
        let digest = |r: &RunResult| {
            r.simulation
                .as_ref()
                .expect("summary")
                .packet_log_digest
                .clone()
        };
        assert_eq!(digest(&a), digest(&b), "{}", spec.key());
    }
}

#[test]
fn the_initial_window_reaches_both_transports_in_the_same_bytes() {
    let (scenario, runs) =
        specs("name = \"iw\"\nseeds = 1\nprotocols = [\"h2\", \"h3\"]\ninitial_window = 4\n");
    let tcp = run(&scenario, &runs[0]).0;
    let quic = run(&scenario, &runs[1]).0;
    assert_eq!(
        setting(&tcp, "tcp", "initial_window"),
        "4 segments (5792 bytes)"
    );
    // 4 full TCP segments of payload at MTU 1500: 4 × 1448.
    assert_eq!(setting(&quic, "quic", "initial_window"), "5792 bytes");
    // Without the field each keeps its own.
    let (plain, runs) = specs("name = \"iw\"\nseeds = 1\nprotocols = [\"h3\"]\n");
    assert_eq!(
        setting(&run(&plain, &runs[0]).0, "quic", "initial_window"),
        "12000 bytes"
    );
}

/// Pacing on (Linux with fq) against off (Linux's default) on the default
/// page loaded flat (the figures below were measured on it) at 0 % loss: slow start overflows the one-BDP queue far less when
/// each round's segments are spread over the round trip. Measured over
/// seeds 1-3: HTTP/2 246 queue-full drops unpaced, 57 paced (the bound is
/// half); HTTP/1.1 354 and 300: its six connections are each paced on
/// their own, as fq paces each flow, and their slow starts together still
/// overflow the queue, so HTTP/1.1 is printed, not held to the bound.
#[test]
fn pacing_halves_the_pages_queue_full_drops() {
    let (scenario, runs) = specs(
        "name = \"pacing\"\nseeds = 3\nprotocols = [\"h1\", \"h2\"]\n[workload]\nkind = \"page\"\n\
         structure = \"flat\"\n[sweep]\npacing = [\"off\", \"on\"]\n",
    );
    let mut figures = Vec::new();
    for protocol in [Protocol::H1, Protocol::H2] {
        let drops = |pacing: netsim::Pacing| -> usize {
            runs.iter()
                .filter(|r| r.protocol == protocol && r.choices.pacing == pacing)
                .map(|r| queue_drops(&run(&scenario, r).1))
                .sum()
        };
        let (off, on) = (drops(netsim::Pacing::Off), drops(netsim::Pacing::On));
        eprintln!("{protocol}: queue-full drops over 3 seeds: pacing off {off}, on {on}");
        figures.push((protocol, off, on));
    }
    for (protocol, off, on) in figures {
        assert!(off > 0, "{protocol}: the unpaced page overflows the queue");
        assert!(on < off, "{protocol}: pacing on {on} against off {off}");
        if protocol == Protocol::H2 {
            assert!(
                2 * on <= off,
                "{protocol}: pacing on {on} against off {off}"
            );
        }
    }
}

/// A network that blocks UDP, as some middleboxes do (a `blackout` event
/// with `protocol = "udp"`): HTTP/3 cannot connect, and its run is a
/// failure whose reason says the network dropped its UDP; HTTP/1.1 and
/// HTTP/2 load the page over the same network untouched, every dropped
/// packet UDP. (A browser's fallback from QUIC to TCP is #14's next step.)
#[test]
fn a_network_that_blocks_udp_stops_http3_only() {
    let (scenario, runs) = specs(
        "name = \"no-udp\"\nseeds = 1\ntime_limit_s = 20\n\
         [[network.events]]\ntype = \"blackout\"\nprotocol = \"udp\"\nfrom_ms = 0\nuntil_ms = 1000000\n",
    );
    for spec in &runs {
        let a = runner::run_captured(
            spec,
            &scenario.content_hash(),
            netsim::CaptureConfig::default(),
        );
        let log = a.packet_log.expect("the simulation ran");
        let blackout: Vec<_> = log
            .records()
            .iter()
            .filter(|p| p.fate == Fate::Dropped(DropReason::Blackout))
            .collect();
        if spec.protocol == Protocol::H3 {
            assert_ne!(a.result.outcome, Outcome::Ok, "{}", spec.key());
            let reason = a.result.reason.unwrap_or_default();
            assert!(
                reason.contains("blackouts (network.events) dropped"),
                "{}: {reason}",
                spec.key()
            );
            assert!(!blackout.is_empty());
            assert!(blackout
                .iter()
                .all(|p| p.flow.proto == netsim::packet::IPPROTO_UDP));
        } else {
            assert_eq!(
                a.result.outcome,
                Outcome::Ok,
                "{}: {:?}",
                spec.key(),
                a.result.reason
            );
            assert!(blackout.is_empty(), "{}: TCP untouched", spec.key());
        }
    }
}

/// The grid docs/netsim.md measures ("Records and reports at scale") is
/// the one issue #18 names: 10 loss rates × 5 RTTs × 5 bandwidths × 3
/// protocols × 30 seeds of the default page, and its first and last runs
/// are the corners.
#[test]
fn the_measured_grid_is_issue_18s() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/grid.toml");
    let toml = std::fs::read_to_string(path).expect("bench/peers/grid.toml");
    let (scenario, runs) = specs(&toml);
    assert_eq!(runs.len(), 22_500);
    assert_eq!(scenario.seeds.len(), 30);
    let keys: std::collections::BTreeSet<String> = runs.iter().map(RunSpec::key).collect();
    assert_eq!(keys.len(), runs.len(), "every run its own");
    for (protocol, corner) in [
        (Protocol::H1, "loss_percent=0/rtt_ms=10/bandwidth_mbit=1"),
        (
            Protocol::H3,
            "loss_percent=10/rtt_ms=200/bandwidth_mbit=100",
        ),
    ] {
        assert!(
            runs.iter()
                .any(|r| r.protocol == protocol && r.key().ends_with(corner)),
            "{protocol} at {corner}"
        );
    }
}
