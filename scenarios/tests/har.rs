//! Reading HAR 1.2 files (`scenarios::har`): the hand-written page in
//! `tests/fixtures/page.har` (a document, its stylesheet and script, a font
//! from a CDN, an image from a second origin fetched twice, a `data:` URL, a
//! script's fetch() and a body-less beacon), and HARs the reader must
//! refuse, naming the entry.

use scenarios::har::{HarPage, Initiator, ResourceType, SizeSource};

const PAGE: &str = include_str!("fixtures/page.har");

#[test]
fn the_test_page_gives_its_objects_origins_sizes_and_initiators() {
    let page = HarPage::parse(PAGE).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(usize, &str, ResourceType, u64, SizeSource)> = page
        .entries
        .iter()
        .map(|e| {
            (
                e.index,
                e.url.as_str(),
                e.resource_type,
                e.size,
                e.size_source,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                0,
                "https://www.example.test/",
                ResourceType::Document,
                30_000,
                SizeSource::BodySize
            ),
            (
                1,
                "https://www.example.test:443/css/site.css",
                ResourceType::Stylesheet,
                45_545,
                SizeSource::BodySize
            ),
            // bodySize -1: _transferSize 64 210 less 210 header bytes.
            (
                2,
                "https://www.example.test/js/app.js?v=3",
                ResourceType::Script,
                64_000,
                SizeSource::TransferSize
            ),
            (
                3,
                "https://fonts.cdn.test/inter.woff2",
                ResourceType::Font,
                24_000,
                SizeSource::BodySize
            ),
            // No _resourceType: the MIME type says image.
            (
                4,
                "https://img.example.test/hero.jpg",
                ResourceType::Image,
                120_000,
                SizeSource::BodySize
            ),
            // fetch() is an xhr; only the decoded size is known.
            (
                6,
                "https://api.example.test/v1/feed",
                ResourceType::Xhr,
                2_048,
                SizeSource::ContentSize
            ),
            // Fetched again from the cache: no body crossed the network.
            (
                7,
                "https://img.example.test/hero.jpg",
                ResourceType::Image,
                0,
                SizeSource::BodySize
            ),
        ]
    );
    assert_eq!(
        page.origins(),
        [
            "https://www.example.test",
            "https://fonts.cdn.test",
            "https://img.example.test",
            "https://api.example.test"
        ]
    );
    assert_eq!(page.total_bytes(), 285_593);
    assert_eq!(page.entries[0].initiator, Some(Initiator::Other));
    assert_eq!(
        page.entries[1].initiator,
        Some(Initiator::Parser {
            url: "https://www.example.test/".into(),
            line: Some(12)
        })
    );
    assert_eq!(
        page.entries[3].initiator,
        Some(Initiator::Parser {
            url: "https://www.example.test/css/site.css".into(),
            line: None
        })
    );
    let script = Some(Initiator::Script {
        url: Some("https://www.example.test/js/app.js?v=3".into()),
    });
    assert_eq!(
        page.entries[5].initiator, script,
        "from the stack's top frame"
    );
    assert_eq!(
        page.entries[6].initiator, script,
        "from the initiator's url"
    );
    assert_eq!(page.entries[0].priority.as_deref(), Some("VeryHigh"));
    assert_eq!(page.entries[4].priority.as_deref(), Some("Low"));
    // What was skipped or guessed, by entry.
    let warnings: Vec<String> = page.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        [
            "entry 5: data: is not http(s); skipped",
            "entry 6: no transferred body size; used the decoded content.size",
            "entry 7: https://img.example.test/hero.jpg was requested before too; kept both",
            "entry 8: https://www.example.test/beacon: no body size in the HAR; skipped",
        ]
    );
}

#[test]
fn bad_hars_are_refused_naming_the_entry_and_field() {
    let cases: [(&str, Option<usize>, &str, &str); 7] = [
        ("{\"log\": {\"entries\": [", None, "(file)", "it ends too early"),
        ("not json", None, "(file)", "a syntax error"),
        ("{\"log\": {}}", None, "log.entries", "missing"),
        ("{\"log\": {\"entries\": []}}", None, "log.entries", "no entries"),
        (
            "{\"log\": {\"entries\": [{\"request\": {}}]}}",
            Some(0),
            "request.url",
            "missing",
        ),
        (
            "{\"log\": {\"entries\": [{\"request\": {\"url\": \"https://a.test/\"}, \"response\": {\"bodySize\": 5}}, {\"request\": {\"url\": \"https:///x\"}}]}}",
            Some(1),
            "request.url",
            "has no host",
        ),
        (
            "{\"log\": {\"entries\": [{\"request\": {\"url\": \"https://a.test/\"}, \"response\": {\"bodySize\": 0}}]}}",
            None,
            "log.entries",
            "the page has no bytes",
        ),
    ];
    for (text, entry, field, reason) in cases {
        let e = HarPage::parse(text).expect_err(text);
        assert_eq!(e.entry, entry, "{text}: {e}");
        assert_eq!(e.field, field, "{text}: {e}");
        assert!(e.reason.contains(reason), "{text}: {e}");
    }
    let e = HarPage::parse("{\"log\": {\"entries\": [{\"request\": {}}]}}").unwrap_err();
    assert_eq!(
        e.to_string(),
        "entry 0: request.url: missing, or not a string"
    );
}

#[test]
fn any_prefix_of_a_har_is_an_error_or_a_page_never_a_panic() {
    for cut in (0..PAGE.len()).step_by(97) {
        let _ = HarPage::parse(&PAGE[..cut]);
    }
}
