//! Importing a recorded page (`HarPage::to_page`): the hand-written shop
//! page in `tests/fixtures/shop.har` (every rule of the import, one entry
//! each: see each entry's `comment`), the test page of `tests/har.rs`, the
//! result as a scenario's workload, and HARs the import refuses, naming
//! the entry.

use std::time::Duration;

use scenarios::har::import::{Basis, ImportedPage, Inference};
use scenarios::har::{HarError, HarPage};
use scenarios::{Discovery, Scenario, Workload};

const SHOP: &str = include_str!("fixtures/shop.har");
const PAGE: &str = include_str!("fixtures/page.har");

fn import(text: &str) -> Result<ImportedPage, HarError> {
    HarPage::parse(text)?.to_page()
}

/// One object as a row: entry, path, kind, origin, html_offset, initiator,
/// render_blocking.
type Row = (
    usize,
    String,
    String,
    String,
    Option<u64>,
    Option<String>,
    bool,
);

fn rows(page: &ImportedPage) -> Vec<Row> {
    page.objects
        .iter()
        .map(|o| {
            (
                o.entry,
                o.spec.path.clone(),
                o.spec.kind.clone().unwrap_or_default(),
                o.spec.origin.clone().unwrap_or_default(),
                o.spec.html_offset,
                o.spec.initiator.clone(),
                o.spec.render_blocking.unwrap_or(false),
            )
        })
        .collect()
}

fn row(
    entry: usize,
    path: &str,
    kind: &str,
    origin: &str,
    html_offset: Option<u64>,
    initiator: Option<&str>,
    render_blocking: bool,
) -> Row {
    (
        entry,
        path.to_owned(),
        kind.to_owned(),
        origin.to_owned(),
        html_offset,
        initiator.map(str::to_owned),
        render_blocking,
    )
}

const LONG: &str = "/bytes/7000/averyveryveryveryveryveryveryveryveryveryveryverylongname-01.css";

#[test]
fn the_shop_page_becomes_these_objects_origins_and_initiators() {
    let page = import(SHOP).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        page.origins,
        [
            "www.shop.test",
            "cdn.shop.test",
            "api.shop.test",
            "img.shop.test",
            "ads.shop.test"
        ]
    );
    // The document is 40 000 bytes; the largest parser line is 39, so
    // line n is at byte 40 000 × n / 40 = 1000 n.
    assert_eq!(
        rows(&page),
        [
            row(
                1,
                "/bytes/40000/index.html",
                "html",
                "www.shop.test",
                None,
                None,
                false
            ),
            // _renderBlocking "blocking".
            row(
                2,
                "/bytes/20000/main.css",
                "css",
                "www.shop.test",
                Some(9000),
                None,
                true
            ),
            // High: parser-blocking; _renderBlocking in_body_parser_blocking: no.
            row(
                3,
                "/bytes/50000/app.js",
                "js",
                "www.shop.test",
                Some(19_000),
                None,
                false
            ),
            // Low: async.
            row(
                4,
                "/bytes/30000/analytics.js",
                "async-js",
                "cdn.shop.test",
                Some(29_000),
                None,
                false
            ),
            // No line: where the parser was before it.
            row(
                5,
                "/bytes/60000/hero.jpg",
                "image",
                "www.shop.test",
                Some(29_000),
                None,
                false
            ),
            // Parser with the stylesheet's URL: found by the stylesheet.
            row(
                6,
                "/bytes/25000/Inter_20Var.woff2",
                "font",
                "cdn.shop.test",
                None,
                Some("/bytes/20000/main.css"),
                false
            ),
            // fetch() in app.js; port 8443 dropped.
            row(
                7,
                "/bytes/1500/cart",
                "data",
                "api.shop.test",
                None,
                Some("/bytes/50000/app.js"),
                false
            ),
            // Started at 200 ms, half-way through the document's 150–250 ms.
            row(
                8,
                "/bytes/8000/thumb.jpg",
                "image",
                "img.shop.test",
                Some(20_000),
                None,
                false
            ),
            // The document's inline script; started at 230 ms: 80 %.
            row(
                9,
                "/bytes/12000/widget.js",
                "async-js",
                "www.shop.test",
                Some(32_000),
                None,
                false
            ),
            // Found by the parser, no _renderBlocking: render-blocking.
            row(10, LONG, "css", "cdn.shop.test", Some(35_000), None, true),
            // Started at 300 ms; app.js finished last before it, at 270 ms.
            row(
                11,
                "/bytes/9000/thumb-2.jpg",
                "image",
                "img.shop.test",
                None,
                Some("/bytes/50000/app.js"),
                false
            ),
            // No timing: the end of the document.
            row(
                12,
                "/bytes/43/pixel.gif",
                "image",
                "api.shop.test",
                Some(40_000),
                None,
                false
            ),
            // An iframe: data.
            row(
                13,
                "/bytes/5000/frame.html",
                "data",
                "ads.shop.test",
                Some(39_000),
                None,
                false
            ),
        ]
    );
    let bases: Vec<(usize, Basis)> = page
        .objects
        .iter()
        .map(|o| (o.entry, o.basis.clone()))
        .collect();
    let inferred = |from, because: &str| Basis::Inferred {
        from,
        because: because.to_owned(),
    };
    assert_eq!(
        bases,
        [
            (1, Basis::Navigation),
            (2, Basis::Parser { line: Some(9) }),
            (3, Basis::Parser { line: Some(19) }),
            (4, Basis::Parser { line: Some(29) }),
            (5, Basis::Parser { line: None }),
            (6, Basis::Initiator),
            (7, Basis::Initiator),
            (
                8,
                inferred(Inference::WhileDocumentArrived, "no _initiator")
            ),
            (
                9,
                inferred(
                    Inference::WhileDocumentArrived,
                    "its initiating script is an inline script of the document"
                )
            ),
            (10, Basis::Parser { line: Some(35) }),
            (11, inferred(Inference::AfterCompletion, "no _initiator")),
            (
                12,
                inferred(
                    Inference::EndOfDocument,
                    "its _initiator is neither parser nor script"
                )
            ),
            (13, Basis::Parser { line: Some(39) }),
        ]
    );
    assert_eq!(page.total_bytes(), 267_543);
    assert_eq!(
        page.objects_per_origin(),
        [
            ("www.shop.test", 5),
            ("cdn.shop.test", 3),
            ("api.shop.test", 2),
            ("img.shop.test", 2),
            ("ads.shop.test", 1)
        ]
    );
    let warnings: Vec<String> = page.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        [
            "entry 0: https://www.shop.test/old comes before the document (entry 1); dropped",
            "entry 12: no startedDateTime; its start is unknown",
            "entry 12: origin http://api.shop.test differs from https://api.shop.test:8443 only by \
             scheme or port; merged as api.shop.test (the lab serves every origin over https on one port)",
            "entry 13: https://ads.shop.test/frame.html is a second document (an iframe?); imported as data",
            "entry 14: https://www.shop.test/img/hero.jpg was requested before too; kept both",
            "entry 14: https://www.shop.test/img/hero.jpg: no body bytes crossed the network \
             (cached, or empty); skipped",
        ]
    );
}

#[test]
fn start_times_are_read_tolerantly_and_counted_from_the_first_entry() {
    let page = HarPage::parse(SHOP).unwrap();
    let started: Vec<Option<Duration>> = page.entries.iter().take(4).map(|e| e.started).collect();
    assert_eq!(
        started,
        [
            Some(Duration::ZERO),
            // 11:00:00.050+01:00
            Some(Duration::from_millis(50)),
            // a space for the T, no zone: UTC
            Some(Duration::from_millis(160)),
            // six fraction digits
            Some(Duration::from_millis(170)),
        ]
    );
    let document = &page.entries[1];
    assert_eq!(document.time, Some(Duration::from_millis(200)));
    assert_eq!(document.receive, Some(Duration::from_millis(100)));
    assert_eq!(document.finished(), Some(Duration::from_millis(250)));
    assert_eq!(page.entries[12].started, None);
    assert_eq!(page.entries[2].render_blocking.as_deref(), Some("blocking"));
}

#[test]
fn the_test_page_imports_with_its_initiators() {
    let page = import(PAGE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        page.origins,
        [
            "www.example.test",
            "fonts.cdn.test",
            "img.example.test",
            "api.example.test"
        ]
    );
    // Lines 12, 14 and 40 of a 30 000-byte document: 30 000 × n / 41.
    assert_eq!(
        rows(&page),
        [
            row(
                0,
                "/bytes/30000/index.html",
                "html",
                "www.example.test",
                None,
                None,
                false
            ),
            row(
                1,
                "/bytes/45545/site.css",
                "css",
                "www.example.test",
                Some(8780),
                None,
                true
            ),
            row(
                2,
                "/bytes/64000/app.js",
                "js",
                "www.example.test",
                Some(10_243),
                None,
                true
            ),
            row(
                3,
                "/bytes/24000/inter.woff2",
                "font",
                "fonts.cdn.test",
                None,
                Some("/bytes/45545/site.css"),
                false
            ),
            row(
                4,
                "/bytes/120000/hero.jpg",
                "image",
                "img.example.test",
                Some(29_268),
                None,
                false
            ),
            row(
                6,
                "/bytes/2048/feed",
                "data",
                "api.example.test",
                None,
                Some("/bytes/64000/app.js"),
                false
            ),
        ]
    );
    assert!(page
        .objects
        .iter()
        .all(|o| o.basis.from_har() || o.basis == Basis::Navigation));
    let warnings: Vec<String> = page.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings[3],
        "entry 7: https://img.example.test/hero.jpg: no body bytes crossed the network (cached, or empty); skipped"
    );
    assert_eq!(warnings.len(), 5, "{warnings:#?}");
}

#[test]
fn the_imported_page_is_a_valid_scenario_workload() {
    let page = import(SHOP).unwrap();
    #[derive(serde::Serialize)]
    struct File {
        name: &'static str,
        workload: scenarios::WorkloadSpec,
    }
    let text = toml::to_string(&File {
        name: "shop",
        workload: page.workload(),
    })
    .unwrap();
    let scenario =
        Scenario::from_toml(&text, "shop.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    let Workload::PageGraph(graph) = scenario.workload.to_workload() else {
        panic!("not a page graph: {text}");
    };
    assert_eq!(graph.origins, page.origins);
    assert!(graph.preload_scanner);
    assert_eq!(graph.objects.len(), 13);
    assert_eq!(graph.objects[5].discovery, Discovery::Completion { of: 1 });
    assert_eq!(graph.objects[9].object.path, LONG);
    assert_eq!(
        graph.objects[11].discovery,
        Discovery::Html { offset: 40_000 }
    );
    assert_eq!(
        graph.objects[6].origin, 2,
        "the cart comes from api.shop.test"
    );
    assert_eq!(
        graph.objects.iter().filter(|o| o.render_blocking).count(),
        2,
        "{text}"
    );
}

/// A HAR of these entries (`url`, `_resourceType`, `bodySize`).
fn har(entries: &[(&str, &str, i64)]) -> String {
    let entries: Vec<String> = entries
        .iter()
        .map(|(url, kind, size)| {
            format!(
                r#"{{"request": {{"url": "{url}"}}, "response": {{"bodySize": {size}}}, "_resourceType": "{kind}", "startedDateTime": "2026-01-01T00:00:00Z", "time": 1}}"#
            )
        })
        .collect();
    format!(r#"{{"log": {{"entries": [{}]}}}}"#, entries.join(", "))
}

#[test]
fn bad_hars_are_refused_naming_the_entry_and_field() {
    let cases: Vec<(String, Option<usize>, &str, &str)> = vec![
        (
            SHOP[..SHOP.len() / 2].to_owned(),
            None,
            "(file)",
            "it ends too early",
        ),
        (
            r#"{"log": {"entries": [{"request": {"method": "GET"}}]}}"#.to_owned(),
            Some(0),
            "request.url",
            "missing",
        ),
        (
            har(&[
                ("https://a.test/x.png", "image", 100),
                ("https://a.test/y.js", "script", 5),
            ]),
            None,
            "_resourceType",
            "no entry is an HTML document",
        ),
        (
            har(&[
                ("https://a.test/", "document", 0),
                ("https://a.test/y.js", "script", 5),
            ]),
            Some(0),
            "response.bodySize",
            "the document has no bytes",
        ),
        (
            har(&[("https://a.test/", "document", 0)]),
            None,
            "log.entries",
            "the page has no bytes",
        ),
        (
            har(&[
                ("data:text/html,hi", "document", 2),
                ("blob:https://a.test/1", "image", 5),
            ]),
            None,
            "log.entries",
            "0 HTTP(S) entries",
        ),
        (
            har(&[
                ("https://a.test/", "document", 10),
                ("https://b.test/big.mp4", "other", 2_000_000_000),
            ]),
            Some(1),
            "response.bodySize",
            "more than the content model serves",
        ),
        (
            har(&[
                ("https://a.test/", "document", 10),
                ("https://[::1]:8443/x", "image", 5),
            ]),
            Some(1),
            "request.url",
            "is not a host name",
        ),
    ];
    for (text, entry, field, reason) in cases {
        let e = import(&text).expect_err(&text);
        assert_eq!(e.entry, entry, "{text}: {e}");
        assert_eq!(e.field, field, "{text}: {e}");
        assert!(e.reason.contains(reason), "{text}: {e}");
    }
    let e = import(&har(&[
        ("https://a.test/", "document", 0),
        ("https://a.test/y.js", "script", 5),
    ]))
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "entry 0: response.bodySize: the document has no bytes (a cached page?); the content \
         model has no empty objects"
    );
}

#[test]
fn odd_hosts_and_names_are_repaired_with_a_warning() {
    let page = import(&har(&[
        ("https://my_site.test/", "document", 10),
        ("https://my_site.test/a/", "image", 5),
        ("https://my_site.test/..", "image", 5),
        ("https://my_site.test/%E2%9C%93.png?x", "image", 5),
    ]))
    .unwrap();
    assert_eq!(page.origins, ["my-site.test"]);
    let paths: Vec<&str> = page.objects.iter().map(|o| o.spec.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/bytes/10/index.html",
            "/bytes/5/a",
            "/bytes/5/image",
            "/bytes/5/_E2_9C_93.png"
        ]
    );
    assert_eq!(
        page.warnings[0].to_string(),
        "entry 0: host \"my_site.test\" is not a host name the lab can issue a certificate for; named my-site.test"
    );
}

#[test]
fn any_prefix_of_a_har_imports_or_is_an_error_never_a_panic() {
    for text in [SHOP, PAGE] {
        for cut in (0..text.len()).step_by(61) {
            let _ = import(&text[..cut]);
        }
    }
}

#[test]
fn extreme_numbers_import_without_a_panic() {
    let text = r#"{"log": {"entries": [
        {"request": {"url": "https://a.test/"}, "response": {"bodySize": 1000}, "_resourceType": "document",
         "startedDateTime": "1970-01-01T00:00:00Z", "time": 1e19, "timings": {"receive": 1e300}},
        {"request": {"url": "https://a.test/x.css"}, "response": {"bodySize": 10}, "_resourceType": "stylesheet",
         "startedDateTime": "9999-12-31T23:59:60.999999999Z", "time": 1.8e19,
         "_initiator": {"type": "parser", "url": "https://a.test/", "lineNumber": 18446744073709551615}},
        {"request": {"url": "https://a.test/y.png"}, "response": {"bodySize": 10}, "_resourceType": "image",
         "startedDateTime": "9999-12-31T23:59:59Z", "time": -5}
    ]}}"#;
    let page = import(text).unwrap_or_else(|e| panic!("{e}"));
    let offsets: Vec<Option<u64>> = page.objects.iter().map(|o| o.spec.html_offset).collect();
    // The only line is the largest: 1000 × L / (L + 1), just below 1000;
    // the image started 8 000 years into the document's 300 million.
    assert_eq!(offsets, [None, Some(999), Some(0)]);
    assert_eq!(
        page.objects[2].basis,
        Basis::Inferred {
            from: Inference::WhileDocumentArrived,
            because: "no _initiator".to_owned()
        }
    );
}
