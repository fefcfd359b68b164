//! Scenario files: parsing, defaults, expansion, overrides, the content hash,
//! and errors that name the file, the line and the field.

use std::collections::BTreeMap;
use std::time::Duration;

use scenarios::{
    ErrorKind, Handshake, LossSpec, NamedAxis, Overrides, Protocol, ResolvedLink, ResolvedLoss,
    ResolvedQueue, Scenario, ScenarioError, Seeds, Workload,
};
use tcp::TcpImplementation;

const FILES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/files");

fn parse(text: &str) -> Scenario {
    Scenario::from_toml(text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn error(text: &str) -> ScenarioError {
    match Scenario::from_toml(text, "bad.toml") {
        Ok(s) => panic!("parsed, expected an error: {s:?}"),
        Err(e) => e,
    }
}

/// Asserts the error's message is exactly `bad.toml:{line}:{column}: {field}: {reason}`
/// with `reason` starting as given, and the parts agree.
#[track_caller]
fn assert_error(e: &ScenarioError, line: usize, field: &str, reason_starts: &str) {
    let message = e.to_string();
    assert_eq!(e.origin(), "bad.toml", "{message}");
    assert_eq!(e.line(), Some(line), "{message}");
    assert_eq!(e.field(), Some(field), "{message}");
    assert!(
        e.reason().starts_with(reason_starts),
        "reason {:?} does not start with {reason_starts:?}",
        e.reason()
    );
    let prefix = format!("bad.toml:{line}:{}: {field}: ", e.column().unwrap());
    assert!(message.starts_with(&prefix), "{message:?} vs {prefix:?}");
}

fn default_link() -> ResolvedLink {
    ResolvedLink {
        delay_ns: 25_000_000,
        bandwidth_bps: 10_000_000,
        queue: ResolvedQueue::Packets(42),
        loss: ResolvedLoss::None,
        jitter_ns: 0,
        reorder: false,
        mtu: 1500,
    }
}

// ---- the shipped files ----

#[test]
fn every_shipped_file_parses_and_validates() {
    let mut on_disk: Vec<String> = std::fs::read_dir(FILES)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|n| n.strip_suffix(".toml").map(str::to_owned))
        .collect();
    on_disk.sort();
    let mut names: Vec<String> = Scenario::builtin_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    names.sort();
    assert_eq!(
        on_disk, names,
        "every file in files/ is built in, and only those"
    );

    for name in Scenario::builtin_names() {
        let path = format!("{FILES}/{name}.toml");
        let loaded = Scenario::load(path.as_ref()).unwrap_or_else(|e| panic!("{e}"));
        let builtin = Scenario::builtin(name).unwrap();
        assert_eq!(loaded, builtin);
        assert_eq!(&builtin.name, name);
        assert!(!builtin.description.is_empty(), "{name} has a description");
        assert!(
            Scenario::builtin_text(name)
                .unwrap()
                .trim_start()
                .starts_with('#'),
            "{name} opens with a comment"
        );
        builtin.validate().unwrap();
        assert!(!builtin.expand().is_empty());
    }
    assert_eq!(Scenario::builtin("nope"), None);
}

#[test]
fn the_shipped_scenarios_are_what_their_names_say() {
    let workload = |name: &str| Scenario::builtin(name).unwrap().workload.to_workload();
    assert_eq!(workload("page"), Workload::default());
    assert_eq!(workload("bulk"), Workload::Bulk { size: 10_000_000 });
    assert_eq!(workload("bulk-30mb"), Workload::Bulk { size: 30_000_000 });
    assert_eq!(
        workload("parallel"),
        Workload::Parallel {
            count: 8,
            size: 250_000
        }
    );
    assert_eq!(
        workload("rpc"),
        Workload::Rpc {
            requests: 200,
            size: 2_000,
            concurrency: 10
        }
    );
    assert_eq!(workload("handshake"), Workload::Bulk { size: 1_000 });
    let handshake = Scenario::builtin("handshake").unwrap();
    assert_eq!(handshake.sweep.handshake, Some(Handshake::ALL.to_vec()));
    assert_eq!(handshake.base_network().path.down, default_link());

    let single = Scenario::builtin("single-loss").unwrap().base_network();
    assert_eq!(single.drops.len(), 1);
    assert_eq!(single.drops[0].direction, scenarios::Direction::Down);
    assert!(single.drops[0].data_only);
    // 100 Mbit/s, so that slow start never overflows the queue (still one
    // bandwidth-delay product: 417 packets at 50 ms).
    assert_eq!(
        single.path.down,
        ResolvedLink {
            bandwidth_bps: 100_000_000,
            queue: ResolvedQueue::Packets(417),
            ..default_link()
        }
    );

    let migration = Scenario::builtin("migration").unwrap().base_network();
    let wifi = scenarios::preset("wifi").unwrap();
    let lte = scenarios::preset("lte").unwrap();
    assert_eq!(migration.path.rtt_ns(), (wifi.rtt_ms * 1e6) as u64);
    let change = migration.path_change.unwrap();
    assert_eq!(change.at_ns, 1_000_000_000);
    assert_eq!(change.path.rtt_ns(), (lte.rtt_ms * 1e6) as u64);
    assert_eq!(change.path.down.bandwidth_bps, (lte.down_mbit * 1e6) as u64);
}

// ---- defaults and round trips ----

#[test]
fn the_page_scenario_is_the_lab_default() {
    let page = Scenario::builtin("page").unwrap();
    assert_eq!(page.protocols, Protocol::ALL);
    assert_eq!(page.seeds, Seeds::Count(10));
    assert_eq!(page.time_limit_s, 60.0);
    assert_eq!(page.tcp, TcpImplementation::Linux);
    let network = page.base_network();
    assert_eq!(network.path.up, default_link());
    assert_eq!(network.path.down, default_link());
    assert!(network.drops.is_empty() && network.blackouts.is_empty());
    assert_eq!(network.path_change, None);
}

#[test]
fn a_file_with_only_a_name_takes_every_default() {
    let minimal = parse("name = \"minimal\"");
    let page = Scenario::builtin("page").unwrap();
    assert_eq!(minimal.protocols, page.protocols);
    assert_eq!(minimal.seeds, page.seeds);
    assert_eq!(minimal.time_limit_s, page.time_limit_s);
    assert_eq!(minimal.tcp, page.tcp);
    assert_eq!(minimal.workload, page.workload);
    assert_eq!(minimal.base_network(), page.base_network());
    assert_eq!(minimal.description, "");
}

#[test]
fn every_shipped_scenario_survives_a_round_trip_through_toml() {
    for name in Scenario::builtin_names() {
        let scenario = Scenario::builtin(name).unwrap();
        let text = toml::to_string(&scenario).unwrap();
        let back =
            Scenario::from_toml(&text, "round-trip").unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, scenario, "{text}");
        assert_eq!(back.content_hash(), scenario.content_hash());
    }
}

#[test]
fn every_field_round_trips() {
    let text = r#"
        name = "everything"
        description = "all the fields"
        protocols = ["h3", "h1"]
        seeds = [5, 3]
        time_limit_s = 12.5
        tcp = "smoltcp"

        [network]
        preset = "cable"
        rtt_ms = 40
        bandwidth_mbit = 8
        queue = { packets = 20 }
        loss = { model = "gilbert-elliott", percent = 1, burst = 2.5 }
        jitter_ms = 3
        reorder = true
        mtu = 1400
        up = { delay_ms = 5, bandwidth_mbit = 1, loss = "none", queue = { bytes = 9000 }, jitter_ms = 0 }
        down = { loss = 0.5 }

        [[network.events]]
        type = "drop"
        direction = "up"
        nth = 3
        flow = 0

        [[network.events]]
        type = "blackout"
        from_ms = 100
        until_ms = 250.5
        direction = "down"

        [[network.events]]
        type = "path_change"
        at_ms = 2000
        to = { preset = "3g", loss = { model = "bernoulli", percent = 1 }, down = { queue = { bdp = 2 } } }

        [workload]
        kind = "list"
        objects = [
            { path = "/bytes/1000/index.html", kind = "html" },
            { path = "/bytes/5000/app.js", kind = "js" },
            { path = "/bytes/300/x.bin" },
        ]

        [sweep]
        rtt_ms = [20, 40]
        bandwidth_mbit = [5]
    "#;
    let scenario = parse(text);
    let again = parse(&toml::to_string(&scenario).unwrap());
    assert_eq!(again, scenario);

    let network = scenario.base_network();
    // Per-direction settings win; the rest comes from the path-wide fields,
    // which win over the preset.
    assert_eq!(
        network.path.up,
        ResolvedLink {
            delay_ns: 5_000_000,
            bandwidth_bps: 1_000_000,
            queue: ResolvedQueue::Bytes(9000),
            loss: ResolvedLoss::None,
            jitter_ns: 0,
            reorder: true,
            mtu: 1400,
        }
    );
    assert_eq!(
        network.path.down,
        ResolvedLink {
            delay_ns: 20_000_000,
            bandwidth_bps: 8_000_000,
            queue: ResolvedQueue::Packets(20),
            loss: ResolvedLoss::Bernoulli { rate: 0.005 },
            jitter_ns: 3_000_000,
            reorder: true,
            mtu: 1400,
        }
    );
    assert_eq!(network.blackouts[0].end_ns, 250_500_000);
    let change = network.path_change.unwrap();
    // The new path resolves on its own: the 3g preset plus its overrides.
    assert_eq!(change.path.rtt_ns(), 300_000_000);
    assert_eq!(change.path.up.bandwidth_bps, 768_000);
    assert_eq!(change.path.up.loss, ResolvedLoss::Bernoulli { rate: 0.01 });
    // Down: 1.6 Mbit/s × 300 ms = 60 000 bytes; two BDPs = 80 packets.
    // Up: 768 kbit/s × 300 ms = 28 800 bytes; one BDP = 19.2 → 20 packets.
    assert_eq!(change.path.down.queue, ResolvedQueue::Packets(80));
    assert_eq!(change.path.up.queue, ResolvedQueue::Packets(20));
    let Workload::List { objects } = scenario.workload.to_workload() else {
        panic!("a list")
    };
    assert_eq!(objects[1].size, 5000);
    assert_eq!(objects[1].kind, scenarios::ObjectKind::Js);
    assert_eq!(objects[2].kind, scenarios::ObjectKind::Data);
}

#[test]
fn presets_fill_what_the_file_leaves_out() {
    let lte = parse("name = \"x\"\n[network]\npreset = \"lte\"\n").base_network();
    assert_eq!(lte.path.rtt_ns(), 70_000_000);
    assert_eq!(lte.path.down.bandwidth_bps, 12_000_000);
    // 12 Mbit/s × 70 ms = 105 000 bytes = 70 packets.
    assert_eq!(lte.path.down.queue, ResolvedQueue::Packets(70));

    let g3 = parse("name = \"x\"\n[network]\npreset = \"3g\"\nrtt_ms = 100\n").base_network();
    assert_eq!(g3.path.rtt_ns(), 100_000_000);
    assert_eq!(g3.path.down.bandwidth_bps, 1_600_000);
    assert_eq!(g3.path.up.bandwidth_bps, 768_000);

    let lossy = parse("name = \"x\"\n[network]\npreset = \"lossy-wifi\"\n").base_network();
    assert!(matches!(
        lossy.path.down.loss,
        ResolvedLoss::GilbertElliott { .. }
    ));
}

#[test]
fn presets_document_their_numbers_and_keep_buffers_sane() {
    let presets = scenarios::presets();
    let names: Vec<&str> = presets.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "fiber",
            "cable",
            "wifi",
            "lte",
            "3g",
            "satellite",
            "lossy-wifi"
        ]
    );
    for p in presets {
        assert!(
            !p.description.is_empty() && !p.source.is_empty(),
            "{}",
            p.name
        );
        let network = parse(&format!(
            "name = \"x\"\n[network]\npreset = \"{}\"\n",
            p.name
        ))
        .base_network();
        // netsim sizes TCP buffers at max(4 MiB, 4 × BDP): keep them at most 16 MiB.
        let bdp = network.path.down.bandwidth_bps as f64 * network.path.rtt_ns() as f64 / 8e9;
        assert!(4.0 * bdp <= 16.0 * 1024.0 * 1024.0, "{}: BDP {bdp}", p.name);
    }
}

#[test]
fn the_resolved_network_serializes_as_documented() {
    let link = serde_json::json!({
        "delay_ns": 25_000_000, "bandwidth_bps": 10_000_000, "queue": { "packets": 42 },
        "loss": { "model": "none" }, "jitter_ns": 0, "reorder": false, "mtu": 1500
    });
    assert_eq!(
        serde_json::to_value(Scenario::builtin("page").unwrap().base_network()).unwrap(),
        serde_json::json!({
            "path": { "up": link, "down": link },
            "drops": [], "blackouts": [], "path_change": null
        })
    );
    let single = Scenario::builtin("single-loss").unwrap().base_network();
    assert_eq!(
        serde_json::to_value(single.drops[0]).unwrap(),
        serde_json::json!({ "direction": "down", "nth": 700, "flow": null, "data_only": true })
    );
    let lossy = parse("name = \"x\"\n[network]\npreset = \"lossy-wifi\"\n").base_network();
    assert_eq!(
        serde_json::to_value(lossy.path.down.loss).unwrap(),
        serde_json::json!({ "model": "gilbert-elliott", "mean_loss": 0.05, "mean_burst": 2.0 })
    );
    // And back: results readers can deserialize it.
    let back: scenarios::ResolvedNetwork =
        serde_json::from_value(serde_json::to_value(&single).unwrap()).unwrap();
    assert_eq!(back, single);
}

// ---- expansion ----

#[test]
fn the_loss_sweep_expands_to_600_runs_in_order() {
    let sweep = Scenario::builtin("loss-sweep").unwrap();
    let runs = sweep.expand();
    assert_eq!(runs.len(), 10 * 3 * 20);
    assert_eq!(sweep.run_count(), runs.len());
    let keys: Vec<String> = runs.iter().map(|r| r.key()).collect();
    assert_eq!(keys[0], "h1/seed=1/loss_percent=0");
    assert_eq!(keys[19], "h1/seed=20/loss_percent=0");
    assert_eq!(keys[20], "h2/seed=1/loss_percent=0");
    assert_eq!(keys[60], "h1/seed=1/loss_percent=0.25");
    assert_eq!(keys[599], "h3/seed=20/loss_percent=10");
    let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len());
    for run in &runs {
        let loss = run.axes["loss_percent"];
        let expected = if loss == 0.0 {
            ResolvedLoss::None
        } else {
            ResolvedLoss::Bernoulli { rate: loss / 100.0 }
        };
        assert_eq!(run.network.path.up.loss, expected, "{}", run.key());
        assert_eq!(run.network.path.down.loss, expected, "{}", run.key());
        assert_eq!(run.time_limit, Duration::from_secs(120));
        assert_eq!(run.scenario, "loss-sweep");
    }
}

#[test]
fn axes_expand_in_a_fixed_order_with_values_as_listed() {
    let scenario = parse(
        r#"
        name = "grid"
        protocols = ["h3", "h1"]
        seeds = [9, 4]
        [sweep]
        bandwidth_mbit = [20, 5]
        loss_percent = [2, 1]
        rtt_ms = [80, 20]
        "#,
    );
    let keys: Vec<String> = scenario.expand().iter().map(|r| r.key()).collect();
    assert_eq!(keys.len(), 2 * 2 * 2 * 2 * 2);
    assert_eq!(
        keys[..5],
        [
            "h3/seed=9/loss_percent=2/rtt_ms=80/bandwidth_mbit=20",
            "h3/seed=4/loss_percent=2/rtt_ms=80/bandwidth_mbit=20",
            "h1/seed=9/loss_percent=2/rtt_ms=80/bandwidth_mbit=20",
            "h1/seed=4/loss_percent=2/rtt_ms=80/bandwidth_mbit=20",
            "h3/seed=9/loss_percent=2/rtt_ms=80/bandwidth_mbit=5",
        ]
    );
    assert_eq!(
        keys[31],
        "h1/seed=4/loss_percent=1/rtt_ms=20/bandwidth_mbit=5"
    );
    let last = scenario.expand().pop().unwrap();
    assert_eq!(
        last.axes,
        BTreeMap::from([
            ("bandwidth_mbit".to_string(), 5.0),
            ("loss_percent".to_string(), 1.0),
            ("rtt_ms".to_string(), 20.0),
        ])
    );
    assert_eq!(last.network.path.rtt_ns(), 20_000_000);
    assert_eq!(last.network.path.up.bandwidth_bps, 5_000_000);
    // 5 Mbit/s × 20 ms = 12 500 bytes → 9 packets.
    assert_eq!(last.network.path.up.queue, ResolvedQueue::Packets(9));
}

#[test]
fn a_per_direction_loss_wins_over_the_loss_axis() {
    let scenario = parse(
        r#"
        name = "x"
        [network.up]
        loss = "none"
        [sweep]
        loss_percent = [3]
        "#,
    );
    let run = &scenario.expand()[0];
    assert_eq!(run.network.path.up.loss, ResolvedLoss::None);
    assert_eq!(
        run.network.path.down.loss,
        ResolvedLoss::Bernoulli { rate: 0.03 }
    );
}

#[test]
fn the_loss_axis_keeps_a_bursty_model() {
    let scenario = parse(
        r#"
        name = "x"
        [network]
        preset = "lossy-wifi"
        [sweep]
        loss_percent = [0, 5]
        "#,
    );
    let runs = scenario.expand();
    assert_eq!(runs[0].network.path.down.loss, ResolvedLoss::None);
    let burst = scenarios::preset("lossy-wifi").unwrap().loss_burst.unwrap();
    assert_eq!(
        runs.last().unwrap().network.path.down.loss,
        ResolvedLoss::GilbertElliott {
            mean_loss: 0.05,
            mean_burst: burst
        }
    );
}

// ---- overrides ----

#[test]
fn overrides_replace_fields_and_pin_axes() {
    let page = Scenario::builtin("page").unwrap();
    let o = Overrides {
        loss_percent: Some(2.0),
        rtt_ms: Some(80.0),
        seeds: Some(3),
        protocols: Some(vec![Protocol::H2]),
        tcp: Some(TcpImplementation::Smoltcp),
        ..Overrides::default()
    };
    let changed = page.clone().with_overrides(&o).unwrap();
    let runs = changed.expand();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0].key(), "h2/seed=1/loss_percent=2/rtt_ms=80");
    assert_eq!(runs[0].tcp, TcpImplementation::Smoltcp);
    assert_eq!(
        runs[0].network.path.down.loss,
        ResolvedLoss::Bernoulli { rate: 0.02 }
    );
    assert_eq!(runs[0].network.path.rtt_ns(), 80_000_000);
    assert_ne!(changed.content_hash(), page.content_hash());

    // Pinning an axis the scenario sweeps leaves that one value.
    let sweep = Scenario::builtin("loss-sweep").unwrap();
    let pinned = sweep
        .with_overrides(&Overrides {
            loss_percent: Some(5.0),
            ..Overrides::default()
        })
        .unwrap();
    assert_eq!(pinned.expand().len(), 60);

    let preset = page
        .clone()
        .with_overrides(&Overrides {
            preset: Some("satellite".into()),
            bandwidth_mbit: Some(50.0),
            ..Overrides::default()
        })
        .unwrap();
    let run = &preset.expand()[0];
    assert_eq!(run.network.path.rtt_ns(), 600_000_000);
    assert_eq!(run.network.path.down.bandwidth_bps, 50_000_000);
    assert_eq!(run.network.path.up.bandwidth_bps, 50_000_000);

    // No overrides: nothing changes.
    assert_eq!(
        page.clone().with_overrides(&Overrides::default()).unwrap(),
        page
    );
}

#[test]
fn bad_overrides_name_the_override() {
    let page = || Scenario::builtin("page").unwrap();
    let cases = [
        (
            Overrides {
                loss_percent: Some(150.0),
                ..Overrides::default()
            },
            "overrides: loss_percent: must be between 0 and 100, got 150",
        ),
        (
            Overrides {
                rtt_ms: Some(-1.0),
                ..Overrides::default()
            },
            "overrides: rtt_ms: must be between 0 and 120000 ms, got -1",
        ),
        (
            Overrides {
                bandwidth_mbit: Some(0.0),
                ..Overrides::default()
            },
            "overrides: bandwidth_mbit: must be between 0.001 and 100000 Mbit/s, got 0",
        ),
        (
            Overrides {
                preset: Some("mars".into()),
                ..Overrides::default()
            },
            "overrides: preset: unknown preset \"mars\"; known presets: fiber, cable, wifi, \
             lte, 3g, satellite, lossy-wifi",
        ),
        (
            Overrides {
                seeds: Some(0),
                ..Overrides::default()
            },
            "overrides: seeds: must be between 1 and 100000 seeds, got 0",
        ),
        (
            Overrides {
                protocols: Some(vec![]),
                ..Overrides::default()
            },
            "overrides: protocols: must list at least one of h1, h2, h3",
        ),
    ];
    for (o, message) in cases {
        let e = page().with_overrides(&o).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Override);
        assert_eq!(e.to_string(), message);
    }
}

#[test]
fn names_parse_from_the_command_line() {
    assert_eq!("h2".parse::<Protocol>().unwrap(), Protocol::H2);
    assert_eq!(
        "smoltcp".parse::<TcpImplementation>().unwrap(),
        TcpImplementation::Smoltcp
    );
    assert_eq!(
        "h4".parse::<Protocol>().unwrap_err().to_string(),
        "unknown protocol \"h4\"; expected h1, h2 or h3"
    );
    assert!("tcp".parse::<TcpImplementation>().is_err());
}

// ---- the content hash ----

#[test]
fn the_content_hash_ignores_formatting_and_comments() {
    let page = Scenario::builtin("page").unwrap();
    let text = Scenario::builtin_text("page").unwrap();
    let hash = page.content_hash();
    assert_eq!(hash.len(), 64);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));

    let reformatted: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| format!("  {}  # a comment\n", l.replace(" = ", "=")))
        .collect::<String>()
        .replace("  # a comment\n  # a comment", "");
    let reformatted = reformatted
        .replace("  [", "[")
        .replace("]  # a comment", "]");
    assert_eq!(parse(&reformatted).content_hash(), hash, "{reformatted}");

    // Written differently, the same scenario.
    let spelled_out = r#"
        name = "page"
        description = "another description"
        seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        [network]
        rtt_ms = 50.0
        bandwidth_mbit = 10
        queue = { packets = 42 }
        loss = { model = "bernoulli", percent = 0 }
        mtu = 1500
        up = { delay_ms = 25 }
        [workload]
        kind = "page"
        html_size = 30000
        subresources = 39
        page_seed = 1
    "#;
    assert_eq!(parse(spelled_out).content_hash(), hash);
    // A preset and its numbers are the same network.
    let lte = parse("name = \"x\"\n[network]\npreset = \"lte\"\n");
    let numbers = parse("name = \"x\"\n[network]\nrtt_ms = 70\nbandwidth_mbit = 12\n");
    assert_eq!(lte.content_hash(), numbers.content_hash());
}

#[test]
fn the_content_hash_changes_with_every_parameter() {
    let text = Scenario::builtin_text("single-loss").unwrap();
    let base = parse(text).content_hash();
    let changes = [
        ("name = \"single-loss\"", "name = \"single-loss-2\""),
        ("time_limit_s = 60", "time_limit_s = 61"),
        ("seeds = 10", "seeds = 10\ntcp = \"smoltcp\""),
        ("seeds = 10", "seeds = 10\nprotocols = [\"h1\", \"h2\"]"),
        (
            "seeds = 10",
            "seeds = 10\nprotocols = [\"h3\", \"h2\", \"h1\"]",
        ),
        ("kind = \"page\"", "kind = \"page\"\npage_seed = 2"),
        ("nth = 700", "nth = 701"),
        ("data_only = true", "data_only = false"),
        ("direction = \"down\"", "direction = \"up\""),
        ("bandwidth_mbit = 100", "bandwidth_mbit = 99"),
        ("bandwidth_mbit = 100", "bandwidth_mbit = 100\nrtt_ms = 51"),
        ("bandwidth_mbit = 100", "bandwidth_mbit = 100\nmtu = 1499"),
        (
            "bandwidth_mbit = 100",
            "bandwidth_mbit = 100\njitter_ms = 1",
        ),
        (
            "bandwidth_mbit = 100",
            "bandwidth_mbit = 100\nqueue = { bdp = 2 }",
        ),
        (
            "[workload]",
            "[network.down]\nbandwidth_mbit = 9\n[workload]",
        ),
        (
            "network_events = [\"on\", \"off\"]",
            "network_events = [\"on\", \"off\"]\nloss_percent = [0]",
        ),
        (
            "network_events = [\"on\", \"off\"]",
            "network_events = [\"off\", \"on\"]",
        ),
        (
            "network_events = [\"on\", \"off\"]",
            "network_events = [\"on\"]",
        ),
    ];
    let mut seen = std::collections::BTreeSet::from([base.clone()]);
    for (from, to) in changes {
        assert!(text.contains(from), "{from}");
        let changed = parse(&text.replacen(from, to, 1)).content_hash();
        assert!(seen.insert(changed), "{to} did not change the hash");
    }
}

#[test]
fn the_content_hash_leaves_the_seeds_out() {
    // A record does not depend on the other seeds of its sweep, so growing
    // or reordering the seeds keeps the hash, and a sweep resumes per run.
    let text = Scenario::builtin_text("single-loss").unwrap();
    let base = parse(text).content_hash();
    for to in ["seeds = 20", "seeds = [2, 1]", "seeds = [7]"] {
        assert_eq!(
            parse(&text.replacen("seeds = 10", to, 1)).content_hash(),
            base,
            "{to}"
        );
    }
}

#[test]
fn the_content_hash_is_pinned() {
    // The canonical form is part of the results format: a deliberate change
    // bumps its "format" label and this value.
    assert_eq!(Scenario::builtin("page").unwrap().content_hash(), PAGE_HASH);
    // The flat page hashes as the page did before page structures existed
    // (in format v2, which leaves the seeds out), so that its stored
    // results are still found (and resumed).
    let flat = Scenario::builtin_text("page")
        .unwrap()
        .replace("kind = \"page\"", "kind = \"page\"\nstructure = \"flat\"");
    assert_eq!(
        Scenario::from_toml(&flat, "page.toml")
            .unwrap()
            .content_hash(),
        FLAT_PAGE_HASH
    );
}

/// The `page` scenario's hash: its page loaded as a browser does (format
/// v2: without the seeds).
const PAGE_HASH: &str = "3f2e863d0e799793545f0058aa69d8da5a0ffd13437ea84f389a61d2d67796f8";
/// The `page` scenario's hash with the flat page, and before page structures
/// existed.
const FLAT_PAGE_HASH: &str = "30b7afd2d524ed8d48df3fb84d2879fc49680035f40e1c5f0222e713f3399edd";

#[test]
fn a_runs_hash_depends_on_the_run_only() {
    let page = Scenario::builtin("page").unwrap();
    let renamed =
        parse("name = \"other\"\nprotocols = [\"h2\"]\nseeds = [3]\n[sweep]\nrtt_ms = [50]\n");
    let a = page
        .expand()
        .into_iter()
        .find(|r| r.key() == "h2/seed=3")
        .unwrap();
    let b = renamed.expand().pop().unwrap();
    assert_eq!(a.content_hash(), b.content_hash());
    assert_ne!(page.content_hash(), renamed.content_hash());
    let c = page
        .expand()
        .into_iter()
        .find(|r| r.key() == "h2/seed=4")
        .unwrap();
    assert_ne!(a.content_hash(), c.content_hash());
}

// ---- handshakes ----

#[test]
fn the_handshake_axis_expands_last_and_names_itself_in_keys() {
    let scenario = parse(
        "name = \"hs\"\nprotocols = [\"h1\", \"h3\"]\nseeds = 2\n\
         [sweep]\nrtt_ms = [20, 80]\nhandshake = [\"full\", \"early-data\"]\n",
    );
    let runs = scenario.expand();
    assert_eq!(runs.len(), 2 * 2 * 2 * 2);
    assert_eq!(scenario.run_count(), runs.len());
    let keys: Vec<String> = runs.iter().map(|r| r.key()).collect();
    assert_eq!(
        keys[..6],
        [
            "h1/seed=1/rtt_ms=20/handshake=full",
            "h1/seed=2/rtt_ms=20/handshake=full",
            "h3/seed=1/rtt_ms=20/handshake=full",
            "h3/seed=2/rtt_ms=20/handshake=full",
            "h1/seed=1/rtt_ms=20/handshake=early-data",
            "h1/seed=2/rtt_ms=20/handshake=early-data",
        ]
    );
    assert_eq!(keys[15], "h3/seed=2/rtt_ms=80/handshake=early-data");
    assert_eq!(runs[4].handshake(), Handshake::EarlyData);
    assert!(runs.iter().all(|r| r.is_axis(NamedAxis::Handshake)));
    let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len());

    let shipped = Scenario::builtin("handshake").unwrap().expand();
    assert_eq!(shipped.len(), 3 * 3 * 10);
    assert_eq!(shipped[30].key(), "h1/seed=1/handshake=resume");
}

#[test]
fn a_single_handshake_is_no_axis_and_full_is_the_default() {
    let plain = parse("name = \"x\"\n");
    assert_eq!(plain.handshake, Handshake::Full);
    let resume = parse("name = \"x\"\nhandshake = \"resume\"\n");
    let runs = resume.expand();
    assert_eq!(runs.len(), 30);
    assert!(runs
        .iter()
        .all(|r| r.handshake() == Handshake::Resume && !r.is_axis(NamedAxis::Handshake)));
    assert_eq!(runs[0].key(), "h1/seed=1");
    // Full, spelled out, is the default: same scenario, same hash.
    let full = parse("name = \"x\"\nhandshake = \"full\"\n");
    assert_eq!(full, plain);
    assert_eq!(full.content_hash(), plain.content_hash());
    assert_ne!(resume.content_hash(), plain.content_hash());
    // A run's hash tells the handshakes apart, and full adds nothing.
    assert_ne!(runs[0].content_hash(), plain.expand()[0].content_hash());
    let axis = parse("name = \"x\"\n[sweep]\nhandshake = [\"full\", \"resume\"]\n");
    assert_ne!(axis.content_hash(), plain.content_hash());
    assert_eq!(
        axis.expand()[0].content_hash(),
        plain.expand()[0].content_hash()
    );
    assert_eq!(axis.expand()[30].content_hash(), runs[0].content_hash());
    // Round trip through TOML.
    for scenario in [resume, axis] {
        let again = parse(&toml::to_string(&scenario).unwrap());
        assert_eq!(again, scenario);
    }
}

#[test]
fn the_handshake_override_pins_the_axis() {
    let shipped = Scenario::builtin("handshake").unwrap();
    let pinned = shipped
        .clone()
        .with_overrides(&Overrides {
            handshake: Some(Handshake::EarlyData),
            ..Overrides::default()
        })
        .unwrap();
    let runs = pinned.expand();
    assert_eq!(runs.len(), 30);
    assert_eq!(runs[0].key(), "h1/seed=1/handshake=early-data");
    assert_ne!(pinned.content_hash(), shipped.content_hash());
    assert_eq!(
        "early-data".parse::<Handshake>().unwrap(),
        Handshake::EarlyData
    );
    assert_eq!(
        "0rtt".parse::<Handshake>().unwrap_err().to_string(),
        "unknown handshake \"0rtt\"; expected full, resume or early-data"
    );
}

#[test]
fn bad_handshakes_are_named_with_their_line() {
    let text = "name = \"x\"\nseeds = 1\nhandshake = \"zero\"\n";
    let e = error(text);
    assert_eq!(e.kind(), ErrorKind::Schema);
    assert_error(&e, 3, "handshake", "unknown variant `zero`");
    let text = "name = \"x\"\n[sweep]\nhandshake = [\"full\", \"resume\", \"full\"]\n";
    assert_error(
        &error(text),
        3,
        "sweep.handshake[2]",
        "full is listed twice",
    );
    let text = "name = \"x\"\n[sweep]\nhandshake = []\n";
    assert_error(
        &error(text),
        3,
        "sweep.handshake",
        "must list at least one value",
    );
}

// ---- errors ----

/// The page file with `network` lines added.
fn with_network(lines: &str) -> String {
    Scenario::builtin_text("page")
        .unwrap()
        .replace("[network]\n", &format!("[network]\n{lines}\n"))
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

#[test]
fn an_unknown_field_is_named_with_its_line() {
    let text = with_network("rtt_msec = 20");
    let e = error(&text);
    assert_eq!(e.kind(), ErrorKind::Schema);
    assert_error(
        &e,
        line_of(&text, "rtt_msec"),
        "network.rtt_msec",
        "unknown field `rtt_msec`",
    );

    let text = Scenario::builtin_text("page")
        .unwrap()
        .replace("seeds = 10", "seeds = 10\nrepeat = 3");
    assert_error(
        &error(&text),
        line_of(&text, "repeat"),
        "repeat",
        "unknown field `repeat`",
    );
}

#[test]
fn a_wrong_type_is_named_with_its_line() {
    let text = with_network("rtt_ms = \"fast\"");
    let e = error(&text);
    assert_eq!(e.kind(), ErrorKind::Schema);
    assert_error(
        &e,
        line_of(&text, "rtt_ms = \"fast\""),
        "network.rtt_ms",
        "invalid type: string \"fast\", expected f64",
    );

    let text = Scenario::builtin_text("page")
        .unwrap()
        .replace("seeds = 10", "seeds = \"ten\"");
    assert_error(
        &error(&text),
        line_of(&text, "\"ten\""),
        "seeds",
        "invalid type: string \"ten\"",
    );
}

#[test]
fn loss_above_100_is_named_with_its_line() {
    let text = with_network("loss = { model = \"bernoulli\", percent = 150 }");
    let e = error(&text);
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert_error(
        &e,
        line_of(&text, "percent = 150"),
        "network.loss.percent",
        "must be between 0 and 100, got 150",
    );
    let line = line_of(&text, "percent = 150");
    assert_eq!(
        e.to_string(),
        format!("bad.toml:{line}:41: network.loss.percent: must be between 0 and 100, got 150")
    );

    let text = Scenario::builtin_text("loss-sweep").unwrap().replace(
        "[0, 0.25, 0.5, 1, 1.5, 2, 3, 5, 7, 10]",
        "[0, 0.25, 0.5, 1, 1.5, 2, 3, 5, 7, 150]",
    );
    assert_error(
        &error(&text),
        line_of(&text, "[0, 0.25"),
        "sweep.loss_percent[9]",
        "must be between 0 and 100, got 150",
    );
}

#[test]
fn an_unknown_protocol_is_named_with_its_line() {
    let text = Scenario::builtin_text("page")
        .unwrap()
        .replace("[\"h1\", \"h2\", \"h3\"]", "[\"h1\", \"h4\"]");
    let e = error(&text);
    assert_eq!(e.kind(), ErrorKind::Schema);
    assert_error(
        &e,
        line_of(&text, "protocols"),
        "protocols[1]",
        "unknown variant `h4`, expected one of `h1`, `h2`, `h3`",
    );
}

#[test]
fn an_unknown_preset_is_named_with_its_line() {
    let text = with_network("preset = \"dialup\"");
    let e = error(&text);
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert_error(
        &e,
        line_of(&text, "preset"),
        "network.preset",
        "unknown preset \"dialup\"; known presets: fiber, cable",
    );

    let text = Scenario::builtin_text("migration")
        .unwrap()
        .replace("to = { preset = \"lte\" }", "to = { preset = \"5g\" }");
    assert_error(
        &error(&text),
        line_of(&text, "\"5g\""),
        "network.events[0].to.preset",
        "unknown preset \"5g\"",
    );
}

#[test]
fn event_and_workload_errors_name_the_field_inside_the_table() {
    // Without its `structure = "flat"`, which only a page workload takes.
    let single = Scenario::builtin_text("single-loss")
        .unwrap()
        .replace("structure = \"flat\"\n", "");
    let cases = [
        (
            single.replace("nth = 700", "nth = 700\nuntil_ms = 5"),
            "until_ms",
            "network.events[0].until_ms",
            "not a field of a drop event",
        ),
        (
            single.replace("nth = 700", "nth = 0"),
            "nth = 0",
            "network.events[0].nth",
            "must be at least 1",
        ),
        (
            single.replace("\"down\"", "\"sideways\""),
            "sideways",
            "network.events[0].direction",
            "unknown variant `sideways`",
        ),
        (
            single.replace("type = \"drop\"", "type = \"dorp\""),
            "dorp",
            "network.events[0].type",
            "unknown variant `dorp`",
        ),
        (
            single.replace("kind = \"page\"", "kind = \"bulk\"\nsize = 0"),
            "size = 0",
            "workload.size",
            "must be at least 1",
        ),
        (
            single.replace("kind = \"page\"", "kind = \"page\"\ncount = 3"),
            "count = 3",
            "workload.count",
            "not a field of a page workload",
        ),
        (
            single.replace(
                "kind = \"page\"",
                "kind = \"rpc\"\nrequests = 3\nsize = 10\nconcurrency = 0",
            ),
            "concurrency",
            "workload.concurrency",
            "must be at least 1",
        ),
        (
            single.replace(
                "kind = \"page\"",
                "kind = \"list\"\nobjects = [{ path = \"/bytes/x\" }]",
            ),
            "objects",
            "workload.objects[0].path",
            "\"/bytes/x\" is not a content path",
        ),
    ];
    for (text, needle, field, reason) in cases {
        assert_error(&error(&text), line_of(&text, needle), field, reason);
    }
}

#[test]
fn other_invalid_values_name_their_fields() {
    let cases = [
        (
            "bandwidth_mbit = 0",
            "network.bandwidth_mbit",
            "must be between 0.001 and 100000 Mbit/s, got 0",
        ),
        (
            "mtu = 9",
            "network.mtu",
            "must be between 1280 and 65535 bytes, got 9",
        ),
        (
            "jitter_ms = -1",
            "network.jitter_ms",
            "must be between 0 and 10000 ms",
        ),
        (
            "queue = { packets = 0 }",
            "network.queue.packets",
            "must be at least 1",
        ),
        (
            "queue = { bytes = 100 }",
            "network.queue.bytes",
            "must be at least the mtu",
        ),
        (
            "loss = { model = \"gilbert-elliott\", percent = 100, burst = 2 }",
            "network.loss.percent",
            "must be at least 0 and below 100",
        ),
        (
            "loss = { model = \"gilbert-elliott\", percent = 60, burst = 1 }",
            "network.loss.burst",
            "must be at least 1.500 packets",
        ),
        (
            "loss = { model = \"gilbert-elliott\", percent = 2 }",
            "network.loss.burst",
            "missing",
        ),
        (
            "loss = \"some\"",
            "network.loss",
            "invalid value: string \"some\"",
        ),
        (
            "up = { delay_ms = 70000 }",
            "network.up.delay_ms",
            "must be between 0 and 60000 ms",
        ),
    ];
    for (line, field, reason) in cases {
        let text = with_network(line);
        assert_error(&error(&text), line_of(&text, line), field, reason);
    }
    let page = Scenario::builtin_text("page").unwrap();
    let cases = [
        (
            page.replace("seeds = 10", "seeds = 0"),
            "seeds = 0",
            "seeds",
            "must be between 1 and 100000",
        ),
        (
            page.replace("seeds = 10", "seeds = [4, 5, 4]"),
            "seeds",
            "seeds[2]",
            "seed 4 is listed twice",
        ),
        (
            page.replace("[\"h1\", \"h2\", \"h3\"]", "[\"h2\", \"h2\"]"),
            "protocols",
            "protocols[1]",
            "h2 is listed twice",
        ),
        (
            page.replace("[\"h1\", \"h2\", \"h3\"]", "[]"),
            "protocols",
            "protocols",
            "must list at least one",
        ),
        (
            page.replace("time_limit_s = 60", "time_limit_s = 0"),
            "time_limit_s",
            "time_limit_s",
            "must be at least 0.001 s",
        ),
        (
            page.replace("name = \"page\"", "name = \"a page\""),
            "name",
            "name",
            "\"a page\" must be 1 to 64",
        ),
        // A name is a folder under reports/out: `..` once wrote into
        // the source tree (issue #16 item 13).
        (
            page.replace("name = \"page\"", "name = \"..\""),
            "name",
            "name",
            "\"..\" must be 1 to 64",
        ),
        (
            page.replace("name = \"page\"", "name = \".hidden\""),
            "name",
            "name",
            "\".hidden\" must be 1 to 64",
        ),
        (
            page.replace("seeds = 10", "seeds = 10\ntcp = \"bsd\""),
            "bsd",
            "tcp",
            "unknown variant `bsd`",
        ),
    ];
    for (text, needle, field, reason) in cases {
        assert_error(&error(&text), line_of(&text, needle), field, reason);
    }
}

#[test]
fn a_sweep_that_would_change_nothing_is_an_error() {
    let text = "name = \"x\"\n[network]\nup = { loss = 1 }\ndown = { loss = 1 }\n[sweep]\nloss_percent = [1, 2]\n";
    let e = error(text);
    assert_error(
        &e,
        6,
        "sweep.loss_percent",
        "has no effect: network.up.loss and network.down.loss are both set",
    );
    let text = "name = \"x\"\n[sweep]\nrtt_ms = [10, 20, 10]\n";
    assert_error(&error(text), 3, "sweep.rtt_ms[2]", "10 is listed twice");
    let text = "name = \"x\"\n[sweep]\nrtt_ms = []\n";
    assert_error(
        &error(text),
        3,
        "sweep.rtt_ms",
        "must list at least one value",
    );
    // A bursty model cannot reach 100 %.
    let text =
        "name = \"x\"\n[network]\npreset = \"lossy-wifi\"\n[sweep]\nloss_percent = [1, 100]\n";
    assert_error(
        &error(text),
        5,
        "sweep.loss_percent",
        "up link at [loss_percent = 100]: gilbert-elliott loss",
    );
}

#[test]
fn a_syntax_error_names_its_line() {
    let text = Scenario::builtin_text("page")
        .unwrap()
        .replace("[workload]", "[workload");
    let e = error(&text);
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert_eq!(e.line(), Some(line_of(&text, "[workload")));
    assert_eq!(e.field(), None);
    assert!(e
        .to_string()
        .starts_with(&format!("bad.toml:{}:", e.line().unwrap())));
}

#[test]
fn a_missing_file_names_its_path() {
    let e = Scenario::load("/no/such/dir/scenario.toml".as_ref()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Read);
    assert!(
        e.to_string()
            .starts_with("/no/such/dir/scenario.toml: cannot read the file: "),
        "{e}"
    );
}

#[test]
fn validating_a_scenario_built_in_code_names_the_field() {
    let mut page = Scenario::builtin("page").unwrap();
    page.network.loss = Some(LossSpec::Bernoulli { percent: 101.0 });
    let e = page.validate().unwrap_err();
    assert_eq!(
        e.to_string(),
        "scenario \"page\": network.loss.percent: must be between 0 and 100, got 101"
    );
    assert_eq!(e.line(), None);
}

#[test]
fn garbage_gives_errors_never_panics() {
    let garbage = [
        "",
        "\u{0}",
        "name",
        "name =",
        "= 1",
        "[[[",
        "name = \"x\"\n[network]\n[network]\n",
        "name = \"x\"\nnetwork = 5\n",
        "name = \"x\"\nworkload = []\n",
        "name = \"x\"\n[[workload]]\nkind = \"page\"\n",
        "name = \"x\"\nnetwork.events = 3\n",
        "name = \"x\"\n[[network.events]]\n",
        "name = \"x\"\n[network]\nloss = {}\n",
        "name = \"x\"\n[network]\nloss = []\n",
        "name = \"x\"\n[network]\nqueue = { bdp = 1, packets = 2 }\n",
        "name = \"x\"\n[network]\nrtt_ms = nan\n",
        "name = \"x\"\n[network]\nrtt_ms = inf\n",
        "name = \"x\"\nseeds = 18446744073709551615\n",
        "name = \"x\"\nseeds = [1, \"2\"]\n",
        "name = \"x\"\ntime_limit_s = 1e308\n",
        "name = \"x\"\n[sweep]\nloss_percent = [nan]\n",
        "name = \"x\"\n[workload]\nkind = \"list\"\nobjects = []\n",
        "name = \"x\"\n[workload]\nkind = \"parallel\"\ncount = 4294967296\nsize = 1\n",
        "name = 1979-05-27T07:32:00Z\n",
        &"[".repeat(10_000),
        &"a = [".repeat(10_000),
        &format!("name = \"{}\"", "x".repeat(100)),
    ];
    for text in garbage {
        let e = Scenario::from_toml(text, "bad.toml").unwrap_err();
        assert!(e.to_string().starts_with("bad.toml"), "{e}");
    }
}

#[test]
fn every_truncation_and_corruption_of_a_shipped_file_is_handled() {
    for name in Scenario::builtin_names() {
        let text = Scenario::builtin_text(name).unwrap();
        for (cut, _) in text.char_indices() {
            for variant in [&text[..cut], &format!("{}\"{}", &text[..cut], &text[cut..])] {
                if let Err(e) = Scenario::from_toml(variant, "bad.toml") {
                    // Anything the schema or the TOML parser rejects has a line.
                    if e.kind() != ErrorKind::Invalid {
                        assert!(e.line().is_some(), "{name} at {cut}: {e}");
                    }
                }
            }
        }
    }
}

#[test]
fn the_subresource_responses_axis_bundles_the_page_per_point() {
    let s = Scenario::builtin("bundled").unwrap();
    let runs = s.expand();
    assert_eq!(runs.len(), 2 * 3 * 20);
    let responses = |r: &scenarios::RunSpec| match &r.workload {
        scenarios::Workload::Page(p) => p.subresource_responses,
        other => panic!("not a page: {other:?}"),
    };
    assert_eq!(responses(&runs[0]), Some(39));
    assert_eq!(runs[0].key(), "h1/seed=1/subresource_responses=39");
    let last = runs.last().unwrap();
    assert_eq!(responses(last), Some(1));
    assert_eq!(last.workload.plan().phases[1].objects.len(), 1);
    // The two points are different runs with different hashes.
    assert_ne!(runs[0].content_hash(), runs[60].content_hash());
    // Only on a page, only whole numbers in range.
    let text = "name = \"x\"\n[workload]\nkind = \"bulk\"\nsize = 1000\n[sweep]\nsubresource_responses = [1]\n";
    assert_error(
        &error(text),
        6,
        "sweep.subresource_responses[0]",
        "applies to page workloads only",
    );
    let text = "name = \"x\"\n[sweep]\nsubresource_responses = [1]\n";
    assert_error(
        &error(text),
        3,
        "sweep.subresource_responses[0]",
        "bundles the flat page only",
    );
    let text = "name = \"x\"\n[workload]\nkind = \"page\"\nstructure = \"flat\"\n[sweep]\nsubresource_responses = [1.5]\n";
    assert_error(
        &error(text),
        6,
        "sweep.subresource_responses[0]",
        "must be a whole number from 1 to the page's 39 subresources",
    );
    let text = "name = \"x\"\n[workload]\nkind = \"page\"\nstructure = \"flat\"\n[sweep]\nsubresource_responses = [40]\n";
    assert_error(
        &error(text),
        6,
        "sweep.subresource_responses[0]",
        "must be a whole number",
    );
}

#[test]
fn a_blackout_can_drop_one_protocol_only() {
    let udp = parse(
        "name = \"x\"\n[[network.events]]\ntype = \"blackout\"\nprotocol = \"udp\"\nfrom_ms = 2000\nuntil_ms = 60000\n",
    );
    let b = udp.base_network().blackouts;
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].protocol, Some(scenarios::IpProtocol::Udp));
    assert_eq!(scenarios::IpProtocol::Udp.number(), 17);
    assert_eq!(parse(&toml::to_string(&udp).unwrap()), udp);
    // Without the field a blackout drops everything, and its network (and
    // so every hash) is what it was before the field existed.
    let all = parse(
        "name = \"x\"\n[[network.events]]\ntype = \"blackout\"\nfrom_ms = 2000\nuntil_ms = 60000\n",
    );
    assert_eq!(all.base_network().blackouts[0].protocol, None);
    assert!(!serde_json::to_string(&all.base_network())
        .unwrap()
        .contains("protocol"));
    assert_ne!(all.content_hash(), udp.content_hash());
    // Only a blackout takes it, and only tcp or udp.
    let e = error(
        "name = \"x\"\n[[network.events]]\ntype = \"drop\"\ndirection = \"up\"\nnth = 3\nprotocol = \"udp\"\n",
    );
    assert!(e.to_string().contains("protocol"), "{e}");
    assert!(e.reason().contains("not a field of a drop event"), "{e}");
    let e = error(
        "name = \"x\"\n[[network.events]]\ntype = \"blackout\"\nprotocol = \"sctp\"\nfrom_ms = 0\nuntil_ms = 10\n",
    );
    assert!(e.to_string().contains("sctp"), "{e}");
}

/// `-0` and `0` are one sweep point: the same run key and the same hashes
/// (they once gave `loss_percent=-0` and `loss_percent=0`, two runs).
#[test]
fn minus_zero_is_zero_in_run_keys_and_hashes() {
    let with = |value: &str| {
        parse(&format!(
            "name = \"z\"\nseeds = 1\nprotocols = [\"h2\"]\n[sweep]\nloss_percent = [{value}, 1]\n"
        ))
    };
    let (plus, minus) = (with("0"), with("-0.0"));
    assert_eq!(plus.content_hash(), minus.content_hash());
    let (a, b) = (plus.expand(), minus.expand());
    assert_eq!(a.len(), 2);
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(a.key(), b.key());
        assert_eq!(a.content_hash(), b.content_hash());
    }
    assert_eq!(a[0].key(), "h2/seed=1/loss_percent=0");
}

/// Sweeps and scenarios have a size limit, checked before anything
/// expands: a million-point sweep once sat silent for minutes (issue #16
/// item 11).
#[test]
fn sweeps_and_run_counts_are_bounded() {
    let values = |n: usize, scale: f64| {
        (1..=n)
            .map(|i| format!("{}", i as f64 * scale))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let million = format!(
        "name = \"big\"\n[sweep]\nloss_percent = [{}]\nrtt_ms = [{}]\n",
        values(1000, 0.05),
        values(1000, 1.0)
    );
    let e = error(&million);
    assert_eq!(e.field(), Some("sweep"), "{e}");
    assert!(
        e.to_string()
            .contains("has 1000000 points (the product of its axes' lengths); the most is 10000"),
        "{e}"
    );
    let runs = "name = \"many\"\nseeds = 40000\n";
    let e = error(runs);
    assert_eq!(e.field(), Some("seeds"), "{e}");
    assert!(
        e.to_string().contains(
            "1 sweep points x 3 protocols x 40000 seeds make 120000 runs; the most is 100000"
        ),
        "{e}"
    );
    // The count comes first, from the lists' lengths: three axes of 300
    // values (27 million points, from a 10 KB file) are refused before a
    // single point is built.
    let huge = format!(
        "name = \"big\"\n[sweep]\nloss_percent = [{}]\nrtt_ms = [{}]\nbandwidth_mbit = [{}]\n",
        values(300, 0.1),
        values(300, 1.0),
        values(300, 1.0)
    );
    let e = error(&huge);
    assert_eq!(e.field(), Some("sweep"), "{e}");
    assert!(e.to_string().contains("has 27000000 points"), "{e}");
    // A list of 10 000 objects in 3 000 runs is 30 million listed objects,
    // each run holding its own copy: refused.
    let objects: Vec<String> = (0..10_000)
        .map(|i| format!("{{ path = \"/bytes/10/o{i}.bin\" }}"))
        .collect();
    let listed = format!(
        "name = \"listed\"\nseeds = 1000\n[workload]\nkind = \"list\"\nobjects = [{}]\n",
        objects.join(", ")
    );
    let e = error(&listed);
    assert_eq!(e.field(), Some("workload.objects"), "{e}");
    assert!(
        e.to_string().contains("make 30000000 listed objects"),
        "{e}"
    );
    // At the limits, the same files are fine.
    parse("name = \"many\"\nseeds = 33333\n");
    parse(&format!(
        "name = \"big\"\nseeds = 1\n[sweep]\nloss_percent = [{}]\nrtt_ms = [{}]\n",
        values(100, 0.5),
        values(100, 1.0)
    ));
}
