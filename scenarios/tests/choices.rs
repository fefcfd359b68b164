//! The transport, server, client and network choices as scenario fields
//! and sweep axes (`cc`, `pacing`, `initial_window`, `scheduler`,
//! `certificate`, `coalescing`, `h3_discovery`, `network_events`): parsing,
//! expansion, run keys, content hashes, overrides and the errors for values
//! that cannot run.

use scenarios::{
    Certificate, Choices, Coalescing, Handshake, NamedAxis, NetworkEvents, Overrides, Scenario,
    ScenarioError, Scheduler,
};
use tcp::{Congestion, Pacing};

/// `text` with the flat page unless it names a workload: the realistic
/// chain, which these tests choose, serves one origin only, and the flat
/// page has one.
fn with_flat_page(text: &str) -> String {
    if text.contains("[workload]") {
        text.to_owned()
    } else {
        format!("{text}\n[workload]\nkind = \"page\"\nstructure = \"flat\"\n")
    }
}

fn parse(text: &str) -> Scenario {
    Scenario::from_toml(&with_flat_page(text), "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn error(text: &str) -> ScenarioError {
    match Scenario::from_toml(&with_flat_page(text), "bad.toml") {
        Ok(s) => panic!("parsed, expected an error: {s:?}"),
        Err(e) => e,
    }
}

/// The flat page (one origin), which the realistic chain can serve (it is
/// issued for the lab's server name only, and the browser page has two
/// origins).
const FLAT: &str = "[workload]\nkind = \"page\"\nstructure = \"flat\"\n";

/// A scenario named `x` with the top-level fields `fields`, on the flat
/// page.
fn flat(fields: &str) -> String {
    format!("name = \"x\"\n{fields}{FLAT}")
}

#[test]
fn fields_set_every_run_and_default_to_the_lab_default() {
    let plain = parse(&flat(""));
    assert_eq!(plain.base_choices(), Choices::default());
    assert_eq!(plain.initial_window, None);
    let set = parse(&flat(
        "cc = \"bbr\"\npacing = \"on\"\ninitial_window = 32\n\
         scheduler = \"priorities\"\ncertificate = \"realistic\"\ncoalescing = \"off\"\n",
    ));
    let runs = set.expand();
    assert_eq!(runs.len(), 30);
    for r in &runs {
        assert_eq!(r.choices.cc, Congestion::Bbr);
        assert_eq!(r.choices.pacing, Pacing::On);
        assert_eq!(r.choices.scheduler, Scheduler::Priorities);
        assert_eq!(r.choices.certificate, Certificate::Realistic);
        assert_eq!(r.choices.coalescing, Coalescing::Off);
        assert_eq!(r.choices.handshake, Handshake::Full);
        assert_eq!(r.initial_window, Some(32));
        assert!(r.named_axes.is_empty());
    }
    // Fields are no axes: the keys stay plain.
    assert_eq!(runs[0].key(), "h1/seed=1");
    // Each non-default choice changes the hash; defaults spelled out do not.
    let spelled = parse(&flat(
        "cc = \"cubic\"\npacing = \"off\"\nscheduler = \"round-robin\"\n\
         certificate = \"minimal\"\ncoalescing = \"on\"\n",
    ));
    assert_eq!(spelled.content_hash(), plain.content_hash());
    assert_eq!(
        spelled.expand()[0].content_hash(),
        plain.expand()[0].content_hash()
    );
    for field in [
        "cc = \"newreno\"",
        "pacing = \"on\"",
        "initial_window = 10",
        "scheduler = \"sequential\"",
        "certificate = \"realistic\"",
        "coalescing = \"off\"",
    ] {
        let one = parse(&flat(&format!("{field}\n")));
        assert_ne!(one.content_hash(), plain.content_hash(), "{field}");
        assert_ne!(
            one.expand()[0].content_hash(),
            plain.expand()[0].content_hash(),
            "{field}"
        );
        let again = parse(&toml::to_string(&one).unwrap());
        assert_eq!(again, one, "{field}");
    }
}

#[test]
fn named_axes_expand_after_the_numeric_ones_in_a_fixed_order() {
    let scenario = parse(&format!(
        "name = \"f\"\nprotocols = [\"h2\", \"h3\"]\nseeds = 2\n{FLAT}\
         [sweep]\nloss_percent = [0, 2]\ninitial_window = [10, 32]\n\
         certificate = [\"minimal\", \"realistic\"]\ncc = [\"cubic\", \"bbr\"]\n\
         pacing = [\"off\", \"on\"]\nscheduler = [\"round-robin\", \"priorities\"]\n",
    ));
    let runs = scenario.expand();
    assert_eq!(runs.len(), 2 * 2 * 2 * 2 * 2 * 2 * 2 * 2);
    assert_eq!(scenario.run_count(), runs.len());
    assert_eq!(
        runs[0].key(),
        "h2/seed=1/loss_percent=0/initial_window=10/cc=cubic/pacing=off/scheduler=round-robin/certificate=minimal"
    );
    // The last named axis varies fastest (after protocols and seeds).
    assert_eq!(
        runs[4].key(),
        "h2/seed=1/loss_percent=0/initial_window=10/cc=cubic/pacing=off/scheduler=round-robin/certificate=realistic"
    );
    assert_eq!(
        runs.last().unwrap().key(),
        "h3/seed=2/loss_percent=2/initial_window=32/cc=bbr/pacing=on/scheduler=priorities/certificate=realistic"
    );
    assert_eq!(
        runs[0].named_axes,
        [
            NamedAxis::Cc,
            NamedAxis::Pacing,
            NamedAxis::Scheduler,
            NamedAxis::Certificate
        ]
    );
    let unique: std::collections::BTreeSet<String> = runs.iter().map(|r| r.key()).collect();
    assert_eq!(unique.len(), runs.len());
    let hashes: std::collections::BTreeSet<String> =
        runs.iter().map(|r| r.content_hash()).collect();
    assert_eq!(hashes.len(), runs.len());
    assert_eq!(runs.last().unwrap().initial_window, Some(32));
    // A run at the default values of a named axis is the same simulation
    // as a run of a scenario without the axis.
    let plain = parse("name = \"f\"\nprotocols = [\"h2\"]\n[sweep]\nloss_percent = [0]\n");
    let axis = parse(
        "name = \"f\"\nprotocols = [\"h2\"]\n[sweep]\nloss_percent = [0]\ncc = [\"cubic\", \"bbr\"]\n",
    );
    assert_eq!(
        axis.expand()[0].content_hash(),
        plain.expand()[0].content_hash()
    );
    assert_ne!(axis.content_hash(), plain.content_hash());
}

#[test]
fn overrides_pin_each_axis() {
    let base = parse(&format!(
        "name = \"x\"\nprotocols = [\"h2\"]\nseeds = 1\n{FLAT}[sweep]\ncc = [\"cubic\", \"bbr\"]\n",
    ));
    let pinned = base
        .with_overrides(&Overrides {
            cc: Some(Congestion::Reno),
            pacing: Some(Pacing::On),
            initial_window: Some(4),
            scheduler: Some(Scheduler::Sequential),
            certificate: Some(Certificate::Realistic),
            ..Overrides::default()
        })
        .unwrap();
    let runs = pinned.expand();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0].key(),
        "h2/seed=1/initial_window=4/cc=newreno/pacing=on/scheduler=sequential/certificate=realistic"
    );
    let e = parse("name = \"x\"\n")
        .with_overrides(&Overrides {
            initial_window: Some(0),
            ..Overrides::default()
        })
        .unwrap_err();
    assert_eq!(e.field(), Some("initial_window"));
    assert!(e.reason().contains("from 1 to 1000"), "{e}");
}

#[test]
fn bad_values_name_the_field() {
    let cases: [(&str, &str, &str); 15] = [
        ("cc = \"vegas\"\n", "cc", "unknown variant `vegas`"),
        ("pacing = \"fast\"\n", "pacing", "unknown variant `fast`"),
        (
            "scheduler = \"fifo\"\n",
            "scheduler",
            "unknown variant `fifo`",
        ),
        (
            "certificate = \"huge\"\n",
            "certificate",
            "unknown variant `huge`",
        ),
        (
            "coalescing = \"sometimes\"\n",
            "coalescing",
            "unknown variant `sometimes`",
        ),
        (
            "[sweep]\ncoalescing = [\"off\", \"off\"]\n",
            "sweep.coalescing[1]",
            "off is listed twice",
        ),
        (
            "[sweep]\ncoalescing = [\"on\", \"maybe\"]\n",
            "sweep.coalescing[1]",
            "unknown variant `maybe`",
        ),
        ("initial_window = 0\n", "initial_window", "must be a whole"),
        (
            "initial_window = 1001\n",
            "initial_window",
            "must be a whole",
        ),
        (
            "[sweep]\ninitial_window = [10, 2.5]\n",
            "sweep.initial_window[1]",
            "must be a whole",
        ),
        (
            "[sweep]\ncc = [\"bbr\", \"bbr\"]\n",
            "sweep.cc[1]",
            "bbr is listed twice",
        ),
        ("[sweep]\nscheduler = []\n", "sweep.scheduler", "must list"),
        (
            "tcp = \"smoltcp\"\ncc = \"bbr\"\n",
            "cc",
            "bbr needs the lab's Linux-like TCP",
        ),
        (
            "tcp = \"smoltcp\"\n[sweep]\npacing = [\"off\", \"on\"]\n",
            "sweep.pacing[1]",
            "pacing needs the lab's Linux-like TCP",
        ),
        (
            "tcp = \"smoltcp\"\ninitial_window = 4\n",
            "initial_window",
            "tcp = \"smoltcp\" keeps its own",
        ),
    ];
    for (text, field, reason) in cases {
        let e = error(&format!("name = \"x\"\n{text}"));
        assert_eq!(e.field(), Some(field), "{text}: {e}");
        assert!(e.reason().contains(reason), "{text}: {e}");
        assert!(e.line().is_some(), "{text}: {e}");
    }
    // The command line's --tcp smoltcp meets a scenario's bbr: the error
    // names the scenario's field.
    let e = parse("name = \"x\"\ncc = \"bbr\"\n")
        .with_overrides(&Overrides {
            tcp: Some(tcp::TcpImplementation::Smoltcp),
            ..Overrides::default()
        })
        .unwrap_err();
    assert_eq!(e.field(), Some("cc"), "{e}");
}

#[test]
fn coalescing_is_a_field_an_axis_and_an_override() {
    // The field: every run, no axis, plain keys.
    let off = parse("name = \"x\"\ncoalescing = \"off\"\n");
    assert_eq!(off.coalescing, Coalescing::Off);
    assert!(off
        .expand()
        .iter()
        .all(|r| r.choices.coalescing == Coalescing::Off && r.named_axes.is_empty()));
    assert_eq!(off.expand()[10].key(), "h2/seed=1");
    // The axis: after certificate, the last named axis, varying fastest.
    let swept = parse(
        "name = \"x\"\nprotocols = [\"h2\", \"h3\"]\nseeds = 1\n[sweep]\n\
         certificate = [\"minimal\"]\ncoalescing = [\"on\", \"off\"]\n",
    );
    let runs = swept.expand();
    let keys: Vec<String> = runs.iter().map(|r| r.key()).collect();
    assert_eq!(
        keys,
        [
            "h2/seed=1/certificate=minimal/coalescing=on",
            "h3/seed=1/certificate=minimal/coalescing=on",
            "h2/seed=1/certificate=minimal/coalescing=off",
            "h3/seed=1/certificate=minimal/coalescing=off",
        ]
    );
    assert_eq!(
        runs[0].named_axes,
        [NamedAxis::Certificate, NamedAxis::Coalescing]
    );
    assert_eq!(
        NamedAxis::ALL[NamedAxis::ALL.len() - 3..],
        [
            NamedAxis::Coalescing,
            NamedAxis::H3Discovery,
            NamedAxis::NetworkEvents
        ]
    );
    assert_eq!(
        NamedAxis::from_name("coalescing"),
        Some(NamedAxis::Coalescing)
    );
    // The default is the simulation of before: same run hash as a plain
    // scenario's run; off is another simulation.
    let plain = parse("name = \"x\"\nprotocols = [\"h2\", \"h3\"]\nseeds = 1\n");
    assert_eq!(runs[0].content_hash(), plain.expand()[0].content_hash());
    assert_ne!(runs[2].content_hash(), plain.expand()[0].content_hash());
    assert_eq!(runs[2].content_hash(), {
        let field =
            parse("name = \"x\"\nprotocols = [\"h2\", \"h3\"]\nseeds = 1\ncoalescing = \"off\"\n");
        field.expand()[0].content_hash()
    });
    // The override pins the axis, so the runs say it.
    let pinned = plain
        .with_overrides(&Overrides {
            coalescing: Some(Coalescing::Off),
            ..Overrides::default()
        })
        .unwrap();
    let runs = pinned.expand();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].key(), "h2/seed=1/coalescing=off");
    assert_eq!(runs[0].choices.coalescing, Coalescing::Off);
    // Written back as TOML, the choice reads back.
    assert_eq!(parse(&toml::to_string(&off).unwrap()), off);
    assert_eq!(parse(&toml::to_string(&pinned).unwrap()), pinned);
    // The unknown value's error names the field and lists the labels of
    // the command line and results.
    assert_eq!(
        "sometimes".parse::<Coalescing>().unwrap_err().to_string(),
        "unknown coalescing \"sometimes\"; expected on or off"
    );
}

#[test]
fn the_deciding_factors_scenario_crosses_cc_scheduler_and_pacing_at_two_percent() {
    let s = Scenario::builtin("deciding-factors").unwrap();
    // The flat page, on which its README figures were measured.
    let flat = scenarios::PageSpec {
        structure: scenarios::PageStructure::Flat,
        ..scenarios::PageSpec::default()
    };
    assert_eq!(s.workload.to_workload(), scenarios::Workload::Page(flat));
    assert_eq!(s.sweep.loss_percent, Some(vec![2.0]));
    assert_eq!(s.sweep.cc, Some(Congestion::ALL.to_vec()));
    assert_eq!(s.sweep.scheduler, Some(Scheduler::ALL.to_vec()));
    assert_eq!(s.sweep.pacing, Some(Pacing::ALL.to_vec()));
    assert_eq!(
        s.protocols,
        [scenarios::Protocol::H2, scenarios::Protocol::H3]
    );
    let runs = s.expand();
    assert_eq!(runs.len(), 3 * 3 * 2 * 2 * 20);
    assert_eq!(
        runs[0].key(),
        "h2/seed=1/loss_percent=2/cc=cubic/pacing=off/scheduler=round-robin"
    );
}

#[test]
fn the_realistic_chain_refuses_a_page_of_several_origins() {
    let text = "name = \"x\"\ncertificate = \"realistic\"\n[workload]\nkind = \"page\"\n";
    let e = Scenario::from_toml(text, "bad.toml").unwrap_err();
    assert_eq!(e.field(), Some("certificate"), "{e}");
    assert!(e.to_string().contains("static.httplab.test"), "{e}");
    let swept = "name = \"x\"\n[workload]\nkind = \"page\"\n[sweep]\ncertificate = [\"minimal\", \"realistic\"]\n";
    let e = Scenario::from_toml(swept, "bad.toml").unwrap_err();
    assert_eq!(e.field(), Some("sweep.certificate"), "{e}");
    // One origin is fine.
    parse("name = \"x\"\ncertificate = \"realistic\"\n");
}

#[test]
fn h3_discovery_is_a_field_an_axis_and_an_override() {
    use scenarios::H3Discovery;
    let browser = "[workload]\nkind = \"page\"\n";
    let set = parse(&format!(
        "name = \"x\"\nprotocols = [\"h3\"]\nh3_discovery = \"alt-svc\"\nh3_fallback_ms = 120\n{browser}"
    ));
    let runs = set.expand();
    assert!(runs
        .iter()
        .all(|r| r.choices.h3_discovery == H3Discovery::AltSvc));
    assert!(runs
        .iter()
        .all(|r| r.h3_fallback == std::time::Duration::from_millis(120)));
    assert_eq!(runs[0].key(), "h3/seed=1", "a field is no axis");
    // The default fallback delay is Chromium's 300 ms, and spelled out it
    // changes no hash; another delay does.
    let plain = parse(&format!("name = \"x\"\nprotocols = [\"h3\"]\n{browser}"));
    assert_eq!(plain.expand()[0].h3_fallback, scenarios::H3_FALLBACK_DELAY);
    let other = parse(&format!(
        "name = \"x\"\nprotocols = [\"h3\"]\nh3_fallback_ms = 120\n{browser}"
    ));
    assert_ne!(
        plain.expand()[0].content_hash(),
        other.expand()[0].content_hash()
    );
    assert_ne!(plain.content_hash(), other.content_hash());
    // An axis: keys name it, in the last place.
    let swept = parse(&format!(
        "name = \"x\"\nprotocols = [\"h3\"]\nseeds = 1\n{browser}[sweep]\n\
         h3_discovery = [\"known\", \"race\", \"alt-svc\"]\n"
    ));
    let keys: Vec<String> = swept.expand().iter().map(|r| r.key()).collect();
    assert_eq!(
        keys,
        [
            "h3/seed=1/h3_discovery=known",
            "h3/seed=1/h3_discovery=race",
            "h3/seed=1/h3_discovery=alt-svc"
        ]
    );
    // known is the default: the same simulation as a plain scenario's.
    assert_eq!(
        swept.expand()[0].content_hash(),
        parse(&format!(
            "name = \"x\"\nprotocols = [\"h3\"]\nseeds = 1\n{browser}"
        ))
        .expand()[0]
            .content_hash()
    );
    // The override pins it.
    let pinned = plain
        .with_overrides(&Overrides {
            h3_discovery: Some(H3Discovery::Race),
            ..Overrides::default()
        })
        .unwrap();
    assert!(pinned
        .expand()
        .iter()
        .all(|r| r.choices.h3_discovery == H3Discovery::Race));
    // Racing needs a page loaded as a browser does.
    let e = error("name = \"x\"\nh3_discovery = \"race\"\n");
    assert_eq!(e.field(), Some("h3_discovery"), "{e}");
    assert!(
        e.to_string().contains("page loaded as a browser does"),
        "{e}"
    );
    let e = error(&format!(
        "name = \"x\"\nh3_discovery = \"sideways\"\n{browser}"
    ));
    assert_eq!(e.field(), Some("h3_discovery"), "{e}");
    assert!(e.to_string().contains("`alt-svc`"), "{e}");
    let e = error(&format!("name = \"x\"\nh3_fallback_ms = -1\n{browser}"));
    assert_eq!(e.field(), Some("h3_fallback_ms"), "{e}");
}

/// A targeted drop, a blackout and a path change: every kind of
/// `[[network.events]]` table.
const EVENTS: &str = "[[network.events]]\ntype = \"drop\"\ndirection = \"down\"\nnth = 700\n\
                      data_only = true\n\
                      [[network.events]]\ntype = \"blackout\"\nfrom_ms = 2000\nuntil_ms = 2500\n\
                      [[network.events]]\ntype = \"path_change\"\nat_ms = 1000\n\
                      to = { preset = \"lte\" }\n";

#[test]
fn network_events_off_runs_without_drops_and_blackouts_but_keeps_the_path_change() {
    let on = parse(&format!("name = \"x\"\nseeds = 1\n{EVENTS}"));
    let network = on.expand()[0].network.clone();
    assert_eq!((network.drops.len(), network.blackouts.len()), (1, 1));
    assert!(network.path_change.is_some());
    // The field: every run without the drop and the blackout, the path and
    // the path change as they were, no axis in the keys.
    let off = parse(&format!(
        "name = \"x\"\nseeds = 1\nnetwork_events = \"off\"\n{EVENTS}"
    ));
    assert_eq!(off.network_events, NetworkEvents::Off);
    let runs = off.expand();
    assert_eq!(runs.len(), 3);
    for r in &runs {
        assert_eq!(r.choices.network_events, NetworkEvents::Off);
        assert!(r.network.drops.is_empty() && r.network.blackouts.is_empty());
        assert_eq!(r.network.path, network.path);
        assert_eq!(r.network.path_change, network.path_change);
        assert!(r.named_axes.is_empty());
    }
    assert_eq!(runs[1].key(), "h2/seed=1");
    assert_eq!(off.base_network(), runs[0].network);
    // Another simulation, so other hashes; written back as TOML, it reads
    // back.
    assert_ne!(off.content_hash(), on.content_hash());
    assert_ne!(runs[0].content_hash(), on.expand()[0].content_hash());
    assert_eq!(parse(&toml::to_string(&off).unwrap()), off);
    // "on" spelled out is the default: the same scenario, the same hashes.
    let spelled = parse(&format!(
        "name = \"x\"\nseeds = 1\nnetwork_events = \"on\"\n{EVENTS}"
    ));
    assert_eq!(spelled.content_hash(), on.content_hash());
    assert_eq!(spelled.expand(), on.expand());
}

#[test]
fn the_network_events_axis_doubles_the_runs_and_pairs_them_by_seed() {
    let plain = parse(&format!(
        "name = \"x\"\nprotocols = [\"h2\", \"h3\"]\nseeds = 2\n{EVENTS}"
    ));
    let swept = parse(&format!(
        "name = \"x\"\nprotocols = [\"h2\", \"h3\"]\nseeds = 2\n{EVENTS}\
         [sweep]\nnetwork_events = [\"on\", \"off\"]\n"
    ));
    let runs = swept.expand();
    assert_eq!(runs.len(), 2 * plain.expand().len());
    assert_eq!(swept.run_count(), runs.len());
    let keys: Vec<String> = runs.iter().map(|r| r.key()).collect();
    assert_eq!(
        keys,
        [
            "h2/seed=1/network_events=on",
            "h2/seed=2/network_events=on",
            "h3/seed=1/network_events=on",
            "h3/seed=2/network_events=on",
            "h2/seed=1/network_events=off",
            "h2/seed=2/network_events=off",
            "h3/seed=1/network_events=off",
            "h3/seed=2/network_events=off",
        ]
    );
    assert_eq!(runs[0].named_axes, [NamedAxis::NetworkEvents]);
    assert_eq!(NamedAxis::ALL.last(), Some(&NamedAxis::NetworkEvents));
    assert_eq!(
        NamedAxis::from_name("network_events"),
        Some(NamedAxis::NetworkEvents)
    );
    // The on half is the plain scenario's runs (the same simulations, the
    // same hashes); the off half the same runs without the drop and the
    // blackout, otherwise alike.
    let (on, off) = runs.split_at(4);
    for ((on, off), plain) in on.iter().zip(off).zip(plain.expand()) {
        assert_eq!(on.content_hash(), plain.content_hash());
        assert_eq!(on.network, plain.network);
        assert_eq!((on.protocol, on.seed), (off.protocol, off.seed));
        assert_eq!(off.network, NetworkEvents::Off.apply(plain.network.clone()));
        assert!(off.network.drops.is_empty() && off.network.blackouts.is_empty());
        assert_eq!(off.network.path_change, plain.network.path_change);
        assert_ne!(off.content_hash(), on.content_hash());
    }
    // The off half is what the field asks for, run for run.
    let field = parse(&format!(
        "name = \"x\"\nprotocols = [\"h2\", \"h3\"]\nseeds = 2\nnetwork_events = \"off\"\n\
         {EVENTS}"
    ));
    for (off, field) in off.iter().zip(field.expand()) {
        assert_eq!(off.network, field.network);
        assert_eq!(off.content_hash(), field.content_hash());
    }
    // The override pins the axis.
    let pinned = plain
        .with_overrides(&Overrides {
            network_events: Some(NetworkEvents::Off),
            ..Overrides::default()
        })
        .unwrap();
    let runs = pinned.expand();
    assert_eq!(runs.len(), 4);
    assert_eq!(runs[0].key(), "h2/seed=1/network_events=off");
    assert!(runs[0].network.drops.is_empty());
    assert_eq!(parse(&toml::to_string(&swept).unwrap()), swept);
}

#[test]
fn network_events_needs_a_drop_or_a_blackout_to_turn_off() {
    let swept = "name = \"x\"\n[sweep]\nnetwork_events = [\"on\", \"off\"]\n";
    let e = error(swept);
    assert_eq!(e.field(), Some("sweep.network_events"), "{e}");
    assert!(e.to_string().contains("has none"), "{e}");
    // A path change is no event to turn off.
    let migration = "name = \"x\"\n[[network.events]]\ntype = \"path_change\"\nat_ms = 1000\n\
                     to = { preset = \"lte\" }\n[sweep]\nnetwork_events = [\"off\"]\n";
    assert_eq!(error(migration).field(), Some("sweep.network_events"));
    let e = error("name = \"x\"\nnetwork_events = \"off\"\n");
    assert_eq!(e.field(), Some("network_events"), "{e}");
    // Pinned from the command line on a scenario without events.
    let e = parse("name = \"x\"\n")
        .with_overrides(&Overrides {
            network_events: Some(NetworkEvents::Off),
            ..Overrides::default()
        })
        .unwrap_err();
    assert_eq!(e.field(), Some("sweep.network_events"), "{e}");
    // "on" is the default, which every scenario may say.
    parse("name = \"x\"\nnetwork_events = \"on\"\n");
    // Bad values name the field and the value.
    for (text, field, reason) in [
        (
            "network_events = \"sometimes\"\n",
            "network_events",
            "unknown variant `sometimes`",
        ),
        (
            "[sweep]\nnetwork_events = [\"off\", \"off\"]\n",
            "sweep.network_events[1]",
            "off is listed twice",
        ),
        (
            "[sweep]\nnetwork_events = []\n",
            "sweep.network_events",
            "must list at least one value",
        ),
    ] {
        let e = error(&format!("name = \"x\"\n{text}"));
        assert_eq!(e.field(), Some(field), "{e}");
        assert!(e.to_string().contains(reason), "{e}");
    }
    assert_eq!(
        "sometimes"
            .parse::<NetworkEvents>()
            .unwrap_err()
            .to_string(),
        "unknown network_events \"sometimes\"; expected on or off"
    );
    for e in NetworkEvents::ALL {
        assert_eq!(e.label().parse::<NetworkEvents>().unwrap(), e);
    }
}

#[test]
fn the_single_loss_scenario_runs_each_run_again_without_its_drop() {
    let s = Scenario::builtin("single-loss").unwrap();
    assert_eq!(s.sweep.network_events, Some(NetworkEvents::ALL.to_vec()));
    let runs = s.expand();
    // 3 protocols × 10 seeds, with the drop and without it.
    assert_eq!(runs.len(), 2 * 3 * 10);
    let (on, off) = runs.split_at(30);
    assert_eq!(on[0].key(), "h1/seed=1/network_events=on");
    assert_eq!(off[0].key(), "h1/seed=1/network_events=off");
    for (on, off) in on.iter().zip(off) {
        assert_eq!((on.protocol, on.seed), (off.protocol, off.seed));
        assert_eq!(on.network.drops.len(), 1);
        assert!(off.network.drops.is_empty() && off.network.blackouts.is_empty());
        assert_eq!(off.network.path, on.network.path);
        assert_eq!(off.workload, on.workload);
    }
    // Its on runs are the runs it had before the axis: the same simulations.
    let before = Scenario::builtin_text("single-loss").unwrap();
    let before = before[..before.find("[sweep]").unwrap()].to_owned();
    let before = Scenario::from_toml(&before, "single-loss.toml").unwrap();
    let hashes: Vec<String> = before.expand().iter().map(|r| r.content_hash()).collect();
    let on_hashes: Vec<String> = on.iter().map(|r| r.content_hash()).collect();
    assert_eq!(on_hashes, hashes);
}
