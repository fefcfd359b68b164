//! The times a person waits for, recomputed by hand from a page built
//! here object by object and request records with chosen times
//! (`docs/metrics.md`, "The times a person waits for"). Every expected
//! value is worked out in the comments beside it.
//!
//! Times in the records are on the run's clock, in ms; the page times count
//! from the navigation start, the document request's `start`, which is
//! 10 ms here, so that subtracting it shows.

use std::time::Duration;

use clients::{KindTimes, PageTimes, RequestRecord};
use scenarios::{Discovery, Object, ObjectKind, PageGraph, PageObject};

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// An object of the page.
fn object(
    name: &str,
    size: u64,
    kind: ObjectKind,
    discovery: Discovery,
    render_blocking: bool,
    delay_ms: u64,
) -> PageObject {
    PageObject {
        object: Object::new(size, name, kind),
        origin: 0,
        discovery,
        render_blocking,
        delay: ms(delay_ms),
    }
}

/// A completed request for `object`: queued at `start`, response head at
/// `first_byte`, body bytes as `timeline` (ms, cumulative bytes), its last
/// point being the last byte.
fn request(
    object: &PageObject,
    start: u64,
    first_byte: u64,
    timeline: &[(u64, u64)],
) -> RequestRecord {
    let &(last, bytes) = timeline.last().expect("a body");
    RequestRecord {
        path: object.object.path.clone(),
        size_expected: object.object.size,
        start: ms(start),
        connection_ready: Some(ms(start)),
        request_sent: Some(ms(start)),
        first_byte: Some(ms(first_byte)),
        last_byte: Some(ms(last)),
        bytes,
        stream_id: Some(0),
        connection_id: Some(0),
        resumptions: Vec::new(),
        timeline: timeline.iter().map(|&(t, b)| (ms(t), b)).collect(),
        timeline_thinned_from: None,
        hol_blocked: Some(Duration::ZERO),
        hol_added: None,
        verified: true,
        error: None,
    }
}

fn html(offset: u64) -> Discovery {
    Discovery::Html { offset }
}

fn kind(name: &str, bytes: u64, completed_ms: &[u64]) -> KindTimes {
    KindTimes {
        kind: name.to_owned(),
        bytes,
        completed: completed_ms.iter().map(|&t| ms(t)).collect(),
    }
}

/// The page of the acceptance test: a 10 KB document; a render-blocking
/// stylesheet at HTML byte 100 (5 ms to parse, after which it finds a
/// font); a parser-blocking, render-blocking script at byte 200 (4 ms to
/// run); a `defer` script at byte 300 (1 ms to run); an image at byte 5000;
/// the font (2 ms to decode); and a print stylesheet at byte 6000, which
/// blocks nothing.
fn page() -> PageGraph {
    PageGraph {
        origins: vec!["server.httplab.test".into()],
        objects: vec![
            object(
                "index.html",
                10_000,
                ObjectKind::Html,
                Discovery::Navigation,
                false,
                0,
            ),
            object("style.css", 3_000, ObjectKind::Css, html(100), true, 5),
            object("app.js", 5_000, ObjectKind::Js, html(200), true, 4),
            object("defer.js", 2_000, ObjectKind::DeferJs, html(300), false, 1),
            object("hero.jpg", 20_000, ObjectKind::Image, html(5_000), false, 0),
            object(
                "font.woff2",
                4_000,
                ObjectKind::Font,
                Discovery::Completion { of: 1 },
                false,
                2,
            ),
            object("print.css", 1_000, ObjectKind::Css, html(6_000), false, 0),
        ],
        preload_scanner: true,
    }
}

/// The requests of [`page`], run clock in ms. The starts follow the
/// page's discovery: bytes 100 to 300 are in at 120 (the document's first
/// 4000 bytes), bytes 5000 and 6000 at 160 (the rest), and the font is
/// found when the stylesheet has arrived (200) and been parsed (+5 ms).
fn requests(page: &PageGraph) -> Vec<RequestRecord> {
    let o = &page.objects;
    vec![
        request(&o[0], 10, 110, &[(120, 4_000), (160, 10_000)]),
        request(&o[1], 120, 170, &[(190, 1_500), (200, 3_000)]),
        request(&o[2], 120, 165, &[(185, 5_000)]),
        request(&o[3], 120, 200, &[(230, 2_000)]),
        request(&o[4], 160, 230, &[(250, 8_000), (300, 20_000)]),
        request(&o[5], 205, 280, &[(310, 4_000)]),
        request(&o[6], 160, 240, &[(270, 1_000)]),
    ]
}

#[test]
fn every_page_time_matches_the_hand_computation() {
    let page = page();
    page.validate().expect("a valid page");
    let times = PageTimes::compute(&page, &requests(&page)).expect("every object completed");

    // From the navigation start (10 ms), each object arrived (last byte)
    // and was ready (arrived + delay) at:
    //   document   160 − 10 = 150, + 0 = 150
    //   style.css  200 − 10 = 190, + 5 = 195
    //   app.js     185 − 10 = 175, + 4 = 179
    //   defer.js   230 − 10 = 220, + 1 = 221
    //   hero.jpg   300 − 10 = 290, + 0 = 290
    //   font.woff2 310 − 10 = 300, + 2 = 302
    //   print.css  270 − 10 = 260, + 0 = 260

    // First render: max(document's first byte 110 − 10 = 100, the
    // render-blocking style.css 195 and app.js 179) = 195. print.css
    // blocks nothing.
    assert_eq!(times.first_render, ms(195), "first render");

    // app.js runs once it is ready (179) and every stylesheet found before
    // byte 200 is: style.css (195), not print.css (byte 6000, 260):
    // max(179, 195) = 195. The parser is done at max(document ready 150,
    // app.js run 195) = 195; the defer script is ready at 221, so
    // DOMContentLoaded = max(195, 221) = 221.
    assert_eq!(times.dom_content_loaded, ms(221), "DOMContentLoaded");

    // Onload: max(DOMContentLoaded 221, every object ready: 150, 195, 179,
    // 221, 290, 302, 260) = 302, the font's arrival plus its 2 ms.
    assert_eq!(times.onload, ms(302), "onload");

    // Speed index over the visual bytes, document 10 000 + image 20 000 =
    // 30 000. Arrivals from the navigation start: the document's 4000 at
    // 110 and 6000 at 150, the image's 8000 at 240 and 12 000 at 290.
    //   0 to 195 (before the first render): nothing shown, 195 × 1 = 195
    //   at 195 the document's 10 000 bytes, already in, show at once
    //   195 to 240: 20 000 / 30 000 hidden, 45 × 2/3               =  30
    //   240 to 290: 12 000 / 30 000 hidden, 50 × 0.4               =  20
    //   from 290 everything is shown                         total = 245
    assert_eq!(times.speed_index, ms(245), "speed index");

    // Per kind, in ObjectKind::ALL order, the kinds present, completions
    // (last bytes) ascending, bytes summed; no delays here.
    assert_eq!(
        times.by_kind,
        vec![
            kind("html", 10_000, &[150]),
            kind("css", 3_000 + 1_000, &[190, 260]),
            kind("js", 5_000, &[175]),
            kind("defer-js", 2_000, &[220]),
            kind("image", 20_000, &[290]),
            kind("font", 4_000, &[300]),
        ]
    );
}

#[test]
fn a_failed_request_gives_no_page_times() {
    let page = page();
    let mut failed = requests(&page);
    failed[4].error = Some("reset by the server".into());
    failed[4].last_byte = None;
    failed[4].verified = false;
    assert_eq!(PageTimes::compute(&page, &failed), None, "failed image");

    // A body that arrived but failed its check is a failure too.
    let mut corrupt = requests(&page);
    corrupt[1].error = Some("body does not match the content model".into());
    corrupt[1].verified = false;
    assert_eq!(PageTimes::compute(&page, &corrupt), None, "bad stylesheet");

    // Records that are not the graph's objects give nothing either.
    let mut short = requests(&page);
    short.pop();
    assert_eq!(PageTimes::compute(&page, &short), None, "one request short");
    let empty = PageGraph {
        objects: Vec::new(),
        ..page.clone()
    };
    assert_eq!(PageTimes::compute(&empty, &[]), None, "no objects");
}

#[test]
fn without_render_blocking_objects_the_first_render_is_the_documents_first_byte() {
    // A document and an image, nothing render-blocking; navigation at 0.
    let page = PageGraph {
        origins: vec!["server.httplab.test".into()],
        objects: vec![
            object(
                "index.html",
                6_000,
                ObjectKind::Html,
                Discovery::Navigation,
                false,
                0,
            ),
            object("photo.jpg", 2_000, ObjectKind::Image, html(100), false, 0),
        ],
        preload_scanner: true,
    };
    let requests = vec![
        request(&page.objects[0], 0, 100, &[(130, 6_000)]),
        request(&page.objects[1], 130, 160, &[(200, 2_000)]),
    ];
    let times = PageTimes::compute(&page, &requests).unwrap();
    // First render: the document's first byte, 100.
    assert_eq!(times.first_render, ms(100));
    // No parser-blocking or defer script: DOMContentLoaded is the
    // document's arrival, 130; onload the image's, 200.
    assert_eq!(times.dom_content_loaded, ms(130));
    assert_eq!(times.onload, ms(200));
    // 8000 visual bytes: 100 × 1 before the first render; 100 to 130 none
    // shown, 30 × 1; 130 to 200 the image's 2000 hidden, 70 × 1/4 = 17.5;
    // 100 + 30 + 17.5 = 147.5 ms.
    assert_eq!(times.speed_index, Duration::from_micros(147_500));
}

#[test]
fn bytes_fetched_twice_are_shown_once() {
    // A document and two images; the second image's server ignored a
    // Range after a path change and sent its 20 000 bytes twice, so its
    // timeline counts 40 000. It is listed after the other image but
    // completes first.
    let page = PageGraph {
        origins: vec!["server.httplab.test".into()],
        objects: vec![
            object(
                "index.html",
                10_000,
                ObjectKind::Html,
                Discovery::Navigation,
                false,
                0,
            ),
            object("b.jpg", 20_000, ObjectKind::Image, html(100), false, 0),
            object("a.jpg", 20_000, ObjectKind::Image, html(200), false, 0),
        ],
        preload_scanner: true,
    };
    let requests = vec![
        request(&page.objects[0], 0, 100, &[(150, 10_000)]),
        request(&page.objects[1], 150, 200, &[(300, 20_000)]),
        request(&page.objects[2], 150, 200, &[(250, 20_000), (260, 40_000)]),
    ];
    let times = PageTimes::compute(&page, &requests).unwrap();
    // 50 000 visual bytes; first render at the document's first byte, 100.
    //   0 to 100:   100 × 1                                    = 100
    //   100 to 150: nothing shown, 50 × 1                      =  50
    //   150 to 250: the images' 40 000 hidden, 100 × 0.8       =  80
    //   250 to 300: b.jpg's 20 000 hidden, 50 × 0.4            =  20
    //   (a.jpg's second copy at 260 shows nothing new)   total = 250
    assert_eq!(times.speed_index, ms(250));
    assert_eq!(times.by_kind[1], kind("image", 40_000, &[260, 300]));
}
