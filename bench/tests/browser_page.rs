//! The default page loaded as a browser does, checked from the request
//! timeline of real runs (h1, h2, h3; the same code as `httplab run`):
//! every body verified; every object requested exactly when its discoverer
//! delivered the byte that references it, or completed (and its delay
//! passed), never before; discovery in the page's order; a parser-blocking
//! script holding back the markup after it when the preload scanner is
//! off; and the connections per origin (HTTP/1.1: a pool of at most six per
//! origin; HTTP/2 and HTTP/3: one connection for both origins, coalesced,
//! or with `coalescing = "off"` one connection per origin).

use std::collections::BTreeMap;
use std::time::Duration;

use bench::{runner, Outcome, RunResult};
use clients::RequestRecord;
use scenarios::{Coalescing, Discovery, ObjectKind, PageGraph, Protocol, Scenario};

/// The default page for h1, h2 and h3, seed 1, at random loss `loss`, with
/// `top_level` scenario fields (`coalescing = "off"\n`) and
/// `extra_workload` fields of its `[workload]`.
fn scenario(top_level: &str, extra_workload: &str, loss: f64) -> Scenario {
    let text = format!(
        "name = \"browser-page\"\nprotocols = [\"h1\", \"h2\", \"h3\"]\nseeds = 1\n\
         time_limit_s = 60\n{top_level}[network]\nloss = {loss}\n[workload]\nkind = \"page\"\n\
         {extra_workload}"
    );
    Scenario::from_toml(&text, "browser_page.rs").expect("the test scenario parses")
}

fn runs(scenario: &Scenario) -> Vec<(RunResult, PageGraph)> {
    let hash = scenario.content_hash();
    scenario
        .expand()
        .iter()
        .map(|spec| {
            let graph = spec.workload.plan().page.expect("a browser page");
            (runner::run(spec, &hash), graph)
        })
        .collect()
}

/// When the first `offset` bytes of the document were in hand: the first
/// point of its timeline at or past `offset` (or its start, for offset 0).
fn document_reached(document: &RequestRecord, offset: u64) -> Duration {
    if offset == 0 {
        return document.first_byte.expect("the document's head arrived");
    }
    document
        .timeline
        .iter()
        .find(|&&(_, bytes)| bytes >= offset)
        .map(|&(t, _)| t)
        .expect("the document arrived whole")
}

/// The earliest moment object `i` could have been discovered, from the
/// records: the byte of the document that names it, or its discoverer's
/// last byte plus delay.
fn discoverable(graph: &PageGraph, requests: &[RequestRecord], i: usize) -> Duration {
    match graph.objects[i].discovery {
        Discovery::Navigation => requests[0].start,
        Discovery::Html { offset } => document_reached(&requests[0], offset),
        Discovery::Completion { of } => {
            requests[of].last_byte.expect("the discoverer completed") + graph.objects[of].delay
        }
    }
}

/// Checks one run of the page whose client coalesced as `coalescing` says.
fn check_run(result: &RunResult, graph: &PageGraph, coalescing: Coalescing) {
    assert_eq!(
        result.outcome,
        Outcome::Ok,
        "{}: {:?}",
        result.run_key,
        result.reason
    );
    let m = result.measurements.as_ref().expect("measurements");
    let requests = &m.requests;
    assert_eq!(requests.len(), graph.objects.len());
    for (i, (r, o)) in requests.iter().zip(&graph.objects).enumerate() {
        assert_eq!(r.path, o.object.path, "request {i} is object {i}");
        assert!(r.verified, "{}: {} not verified", result.run_key, r.path);
        // Requested at the moment it was found: not before, not later.
        assert_eq!(
            r.start,
            discoverable(graph, requests, i),
            "{}: {} requested at {:?}",
            result.run_key,
            r.path,
            r.start
        );
    }
    // Discovery order: the head (stylesheets, then scripts) before the
    // body's images; fonts only after the first stylesheet; data only after
    // the first parser-blocking script.
    let start_of = |name: &str| {
        requests
            .iter()
            .find(|r| r.path.ends_with(name))
            .map(|r| r.start)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let end_of = |name: &str| {
        requests
            .iter()
            .find(|r| r.path.ends_with(name))
            .and_then(|r| r.last_byte)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert!(start_of("style-1.css") <= start_of("img-01.jpg"));
    assert!(start_of("app-01.js") <= start_of("img-10.jpg"));
    assert!(start_of("img-10.jpg") <= start_of("app-08.js"));
    assert!(start_of("font-1.woff2") >= end_of("style-1.css"));
    assert!(start_of("data-1.json") >= end_of("app-01.js"));
    assert!(start_of("img-12.jpg") >= end_of("app-09.js"));
    // Connections per origin.
    let mut per_origin: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &m.connections {
        *per_origin
            .entry(
                c.origin
                    .as_deref()
                    .expect("page connections name their origin"),
            )
            .or_default() += 1;
    }
    match result.protocol {
        Protocol::H1 => {
            assert_eq!(per_origin.len(), 2, "{per_origin:?}");
            assert!(
                per_origin.values().all(|&n| (1..=6).contains(&n)),
                "{per_origin:?}"
            );
        }
        Protocol::H2 | Protocol::H3 => match coalescing {
            Coalescing::On => assert_eq!(
                per_origin,
                BTreeMap::from([("server.httplab.test", 1)]),
                "{}: both origins coalesce onto the document's connection",
                result.run_key
            ),
            Coalescing::Off => {
                assert_eq!(
                    per_origin,
                    BTreeMap::from([("server.httplab.test", 1), ("static.httplab.test", 1)]),
                    "{}: one connection per origin",
                    result.run_key
                );
                assert_eq!(m.connections.len(), 2, "{}", result.run_key);
            }
        },
    }
    // The record's HTTP settings name the choice only when it is off.
    let http = &result.transport.as_ref().expect("transport settings").http;
    let recorded = (!coalescing.is_on()).then_some("off");
    assert_eq!(http.get("coalescing"), recorded, "{}", result.run_key);
    // The user-facing times are there and ordered.
    let page = m.page.as_ref().expect("page times");
    assert!(page.first_render <= page.dom_content_loaded);
    assert!(page.dom_content_loaded <= page.onload);
    assert!(page.speed_index <= page.onload);
}

#[test]
fn the_default_page_is_requested_as_a_browser_finds_it() {
    for (result, graph) in runs(&scenario("", "", 0.0)) {
        check_run(&result, &graph, Coalescing::On);
    }
}

#[test]
fn without_coalescing_each_origin_has_its_own_connection() {
    let runs = runs(&scenario("coalescing = \"off\"\n", "", 0.0));
    assert_eq!(runs.len(), 3);
    for (result, graph) in &runs {
        assert_eq!(result.run_key, format!("{}/seed=1", result.protocol));
        check_run(result, graph, Coalescing::Off);
    }
}

#[test]
fn discovery_holds_under_loss() {
    for (result, graph) in runs(&scenario("", "", 2.0)) {
        check_run(&result, &graph, Coalescing::On);
    }
}

#[test]
fn without_the_preload_scanner_a_blocking_script_holds_back_the_markup_after_it() {
    // The default page as a page graph, with the scanner off and a 20 ms
    // run time on every stylesheet and script.
    let page = scenarios::PageSpec::default();
    let mut graph = PageGraph::browser(&page);
    graph.preload_scanner = false;
    for o in &mut graph.objects {
        if o.object.kind.discovers() {
            o.delay = Duration::from_millis(20);
        }
    }
    let spec_text = page_graph_toml(&graph);
    let scenario = Scenario::from_toml(&spec_text, "browser_page.rs").expect("parses");
    let hash = scenario.content_hash();
    for spec in scenario.expand() {
        let result = runner::run(&spec, &hash);
        assert_eq!(
            result.outcome,
            Outcome::Ok,
            "{}: {:?}",
            result.run_key,
            result.reason
        );
        let requests = &result.measurements.as_ref().unwrap().requests;
        let ready = |i: usize| requests[i].last_byte.unwrap() + graph.objects[i].delay;
        for (i, o) in graph.objects.iter().enumerate() {
            let Discovery::Html { offset } = o.discovery else {
                continue;
            };
            // Every parser-blocking script before it has run: arrived, its
            // delay passed, and every stylesheet before it ready.
            for (j, s) in graph.objects.iter().enumerate() {
                let Discovery::Html { offset: at } = s.discovery else {
                    continue;
                };
                if s.object.kind != ObjectKind::Js || at >= offset {
                    continue;
                }
                let mut runs = ready(j);
                for (k, css) in graph.objects.iter().enumerate() {
                    if let (ObjectKind::Css, Discovery::Html { offset: c }) =
                        (css.object.kind, css.discovery)
                    {
                        if c < at {
                            runs = runs.max(ready(k));
                        }
                    }
                }
                assert!(
                    requests[i].start >= runs,
                    "{}: {} requested at {:?}, before {} ran at {runs:?}",
                    result.run_key,
                    o.object.path,
                    requests[i].start,
                    s.object.path
                );
            }
        }
        // Fonts wait for style-1.css and its 20 ms.
        let font = graph
            .objects
            .iter()
            .position(|o| o.object.kind == ObjectKind::Font)
            .unwrap();
        let Discovery::Completion { of } = graph.objects[font].discovery else {
            panic!("fonts are found by a stylesheet");
        };
        assert_eq!(requests[font].start, ready(of), "{}", result.run_key);
    }
}

/// `graph` as a `page-graph` scenario for h1, h2 and h3, seed 1.
fn page_graph_toml(graph: &PageGraph) -> String {
    let quoted: Vec<String> = graph.origins.iter().map(|o| format!("{o:?}")).collect();
    let mut text = format!(
        "name = \"graph\"\nprotocols = [\"h1\", \"h2\", \"h3\"]\nseeds = 1\ntime_limit_s = 60\n\
         [workload]\nkind = \"page-graph\"\npreload_scanner = {}\norigins = [{}]\n",
        graph.preload_scanner,
        quoted.join(", ")
    );
    for o in &graph.objects {
        text.push_str(&format!(
            "[[workload.objects]]\npath = {:?}\nkind = {:?}\norigin = {:?}\nrender_blocking = {}\n\
             delay_ms = {}\n",
            o.object.path,
            o.object.kind.as_str(),
            graph.origins[o.origin],
            o.render_blocking,
            o.delay.as_secs_f64() * 1000.0,
        ));
        match o.discovery {
            Discovery::Navigation => {}
            Discovery::Html { offset } => text.push_str(&format!("html_offset = {offset}\n")),
            Discovery::Completion { of } => text.push_str(&format!(
                "initiator = {:?}\n",
                graph.objects[of].object.path
            )),
        }
    }
    text
}
