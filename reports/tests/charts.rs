//! The charts cannot mislead (issue #15, item 6): what each chart's SVG
//! must show so that a reader does not misread it. Rendered from the
//! fixtures of `fixtures/` (see fixtures/README.md), some of them edited
//! here the way each test says.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

mod support;

use support::{json_records, FIXTURE};

/// HTTP/1.1's, HTTP/2's and HTTP/3's colors in the SVGs.
const COLORS: [&str; 3] = ["#E69F00", "#0072B2", "#009E73"];

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    support::scratch("reports-charts-tests", name)
}

/// Write `records` as a results directory named `name`.
fn results_dir(name: &str, records: &[Value]) -> PathBuf {
    let dir = scratch(name);
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    fs::write(dir.join("results.jsonl"), text).unwrap();
    dir
}

/// Render the report of `dir` and return the SVG of chart `stem`.
fn render(dir: &Path, name: &str, stem: &str) -> String {
    let out = scratch(name);
    reports::render(dir, &out).unwrap();
    fs::read_to_string(out.join("charts").join(format!("{stem}.svg")))
        .unwrap_or_else(|e| panic!("{stem}.svg: {e}"))
}

/// The elements of `svg` named `tag` whose `fill` is `color`, fully
/// opaque (a band is not a marker), as their attributes.
fn filled<'a>(
    doc: &'a roxmltree::Document<'a>,
    tag: &str,
    color: &str,
) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag))
        .filter(|n| n.attribute("fill") == Some(color))
        .filter(|n| n.attribute("opacity").is_none_or(|o| o == "1"))
        .collect()
}

/// The texts of an SVG with the y of each, trimmed.
fn texts(doc: &roxmltree::Document<'_>) -> Vec<(String, f64)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| {
            let y = n.attribute("y")?.parse().ok()?;
            Some((n.text()?.trim().to_owned(), y))
        })
        .collect()
}

#[test]
fn each_protocol_has_its_own_marker_and_equal_values_are_dodged_apart() {
    let svg = render(
        &Path::new(FIXTURE).join("sweep"),
        "markers",
        "hol-vs-loss_percent",
    );
    let doc = roxmltree::Document::parse(&svg).unwrap();
    // HTTP/1.1 circles, HTTP/2 squares, HTTP/3 triangles: each protocol's
    // color on its own shape only (2 points, then the legend's sample).
    let [h1, h2, h3] = COLORS;
    let circles = filled(&doc, "circle", h1);
    assert_eq!(circles.len(), 3, "HTTP/1.1's circles");
    assert_eq!(filled(&doc, "rect", h2).len(), 3, "HTTP/2's squares");
    let triangles = filled(&doc, "polygon", h3);
    assert_eq!(triangles.len(), 3, "HTTP/3's triangles");
    for (tag, color) in [("circle", h2), ("circle", h3), ("rect", h1), ("rect", h3)] {
        assert!(filled(&doc, tag, color).is_empty(), "{tag} in {color}");
    }
    // HTTP/1.1 and HTTP/3 are both 0 at both points, by construction: the
    // same y, and x apart, so that neither hides the other.
    let attr =
        |n: &roxmltree::Node<'_, '_>, a: &str| -> f64 { n.attribute(a).unwrap().parse().unwrap() };
    let first_triangle: Vec<(f64, f64)> = triangles[1]
        .attribute("points")
        .unwrap()
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    let (tx, ty) = first_triangle[0];
    let (cx, cy) = (attr(&circles[1], "cx"), attr(&circles[1], "cy"));
    assert!((ty + 6.0 - cy).abs() < 1e-9, "HTTP/1.1 and HTTP/3 at one y");
    assert!(tx - cx >= 10.0, "the markers are {} px apart", tx - cx);
    // The legend is above the plot: every legend label above every marker.
    let legend_y = texts(&doc)
        .into_iter()
        .filter(|(t, _)| t.ends_with("median, p10–p90 band"))
        .map(|(_, y)| y)
        .collect::<Vec<_>>();
    assert_eq!(legend_y.len(), 3);
    let squares = filled(&doc, "rect", h2);
    let top_marker = squares[..2]
        .iter()
        .map(|r| attr(r, "y"))
        .chain(circles[..2].iter().map(|c| attr(c, "cy")))
        .fold(f64::INFINITY, f64::min);
    assert!(legend_y.iter().all(|&y| y + 20.0 < top_marker));
}

#[test]
fn the_loss_axis_has_a_tick_at_each_swept_rate_equally_spaced() {
    // The sweep fixture (0 and 2 %) with its 2 % runs again as 0.5 % and
    // as 10 %: four rates, two of them close together.
    let mut lines = Vec::new();
    for r in json_records(&Path::new(FIXTURE).join("sweep")) {
        lines.push(r.clone());
        if r["axes"]["loss_percent"] == 2.0 {
            for rate in [0.5, 10.0] {
                let mut copy = r.clone();
                copy["axes"]["loss_percent"] = rate.into();
                let key = copy["run_key"]
                    .as_str()
                    .unwrap()
                    .replace("=2", &format!("={rate}"));
                copy["run_key"] = key.into();
                lines.push(copy);
            }
        }
    }
    let dir = results_dir("loss-axis-in", &lines);
    let svg = render(&dir, "loss-axis", "plt-vs-loss_percent");
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let all = texts(&doc);
    // The tick labels: the rates, in order, one each, evenly spaced.
    let ticks: Vec<(f64, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| {
            let t = n.text()?.trim();
            let x = n.attribute("x")?.parse().ok()?;
            ["0", "0.5", "2", "10"]
                .contains(&t)
                .then(|| (x, t.to_owned()))
        })
        .filter(|(x, _)| *x > 100.0)
        .collect();
    let names: Vec<&str> = ticks.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(names, ["0", "0.5", "2", "10"], "{ticks:?}");
    let gaps: Vec<f64> = ticks.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(
        gaps.iter().all(|g| (g - gaps[0]).abs() <= 1.0),
        "equally spaced: {gaps:?}"
    );
    // The axis label says so.
    assert!(
        all.iter()
            .any(|(t, _)| t.contains("the swept values, equally spaced (not to scale)")),
        "{all:?}"
    );
}

/// The numeric texts of an SVG (its tick labels), in document order.
fn ticks(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    texts(&doc)
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| !t.is_empty() && t.parse::<f64>().is_ok())
        .collect()
}

#[test]
fn the_charts_of_one_kind_share_their_axes_across_protocols() {
    // At 2 % loss the protocols' representative runs last differently
    // long (the sweep fixture), yet each kind of chart has one time axis:
    // the same tick labels (the waterfalls and strips have no others).
    let out = scratch("shared-axes");
    reports::render(&Path::new(FIXTURE).join("sweep"), &out).unwrap();
    let svg =
        |stem: String| fs::read_to_string(out.join("charts").join(format!("{stem}.svg"))).unwrap();
    for kind in ["multiplexing", "waterfall"] {
        let [h1, h2, h3] =
            ["h1", "h2", "h3"].map(|p| ticks(&svg(format!("{kind}-{p}-loss_percent-2"))));
        assert!(h2.len() >= 4, "{kind}: {h2:?}");
        assert_eq!(h1, h2, "{kind}: HTTP/1.1 and HTTP/2");
        assert_eq!(h2, h3, "{kind}: HTTP/2 and HTTP/3");
    }
}

#[test]
fn the_migration_chart_labels_each_protocols_interruption() {
    // The page fixture with a path change at 500 ms, and a migration
    // record per run: HTTP/1.1 and HTTP/2 reconnect and resume, HTTP/3
    // migrates; an interruption of 120, 250 and 60 ms from 490 ms.
    let mut lines = Vec::new();
    for mut r in json_records(Path::new(FIXTURE)) {
        let (gap, after, resumed) = match r["protocol"].as_str().unwrap() {
            "h1" => (120, 1, 1),
            "h2" => (250, 1, 1),
            _ => (60, 0, 0),
        };
        r["network"]["path_change"] = serde_json::json!({
            "at_ns": 500_000_000u64,
            "path": r["network"]["path"].clone(),
        });
        r["measurements"]["migration"] = serde_json::json!({
            "path_change_ns": 500_000_000u64,
            "last_byte_before_ns": 490_000_000u64,
            "first_byte_after_ns": (490 + gap) * 1_000_000u64,
            "interruption_ns": gap * 1_000_000u64,
            "completion_ns": r["measurements"]["plt_ns"].clone(),
            "bytes_before_change": 1000,
            "bytes_fetched_twice": 0,
            "resumed_requests": resumed,
            "connections_after_change": after,
        });
        lines.push(r);
    }
    let dir = results_dir("migration-in", &lines);
    let svg = render(&dir, "migration", "migration-goodput");
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let all: Vec<String> = texts(&doc).into_iter().map(|(t, _)| t).collect();
    let labels: Vec<&String> = all
        .iter()
        .filter(|t| t.starts_with("interruption"))
        .collect();
    assert_eq!(
        labels,
        [
            "interruption 120 ms · 1 new connection, 1 request resumed",
            "interruption 250 ms · 1 new connection, 1 request resumed",
            "interruption 60 ms · no new connection",
        ],
        "{all:?}"
    );
    // One row per protocol, named, and the path change named once.
    for name in ["HTTP/1.1", "HTTP/2", "HTTP/3"] {
        assert_eq!(all.iter().filter(|t| *t == name).count(), 1, "{name}");
    }
    assert_eq!(all.iter().filter(|t| *t == "path change").count(), 1);
    // The three shades, as wide as their interruptions: 120 : 250 : 60.
    let shades: Vec<f64> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some("#D55E00"))
        .map(|n| n.attribute("width").unwrap().parse().unwrap())
        .collect();
    assert_eq!(shades.len(), 3, "{shades:?}");
    assert!(
        (shades[1] / shades[0] - 250.0 / 120.0).abs() < 0.1,
        "{shades:?}"
    );
}

#[test]
fn the_multiplexing_strip_colors_streams_and_marks_held_bytes() {
    // The sweep fixture keeps one segment arrival per connection (it is
    // thinned); HTTP/2's runs get back one segment that TCP held for
    // 100 ms behind a hole, 1 s into the run, and lose their requests'
    // `hol_added_ns`, as records from before it was measured.
    let mut lines = json_records(&Path::new(FIXTURE).join("sweep"));
    for r in lines.iter_mut().filter(|r| r["protocol"] == "h2") {
        for request in r["measurements"]["requests"].as_array_mut().unwrap() {
            request.as_object_mut().unwrap().remove("hol_added_ns");
        }
        let origin = r["simulation"]["client_started_ns"].as_u64().unwrap();
        r["measurements"]["connections"][0]["stats"]["arrivals"] = serde_json::json!({
            "unit_ns": 1,
            "arrived": [origin + 1_000_000_000],
            "offset": [0],
            "len": [1448],
            "readable": [100_000_000],
        });
    }
    let dir = results_dir("multiplexing-in", &lines);
    let out = scratch("multiplexing");
    reports::render(&dir, &out).unwrap();
    let svg =
        |stem: &str| fs::read_to_string(out.join("charts").join(format!("{stem}.svg"))).unwrap();
    // HTTP/2 at 2 % loss: one lane, the pieces of many streams in the
    // ten colors of the palette, and TCP holding bytes behind a hole.
    let h2 = svg("multiplexing-h2-loss_percent-2");
    let doc = roxmltree::Document::parse(&h2).unwrap();
    let palette = [
        "#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7",
        "#9C755F", "#BAB0AC",
    ];
    let rect_fills: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect"))
        .filter_map(|n| n.attribute("fill"))
        .collect();
    for color in palette {
        // The legend's swatch, and pieces of the streams of that color.
        assert!(
            rect_fills.iter().filter(|f| **f == color).count() >= 2,
            "{color}"
        );
    }
    let held = rect_fills.iter().filter(|f| **f == "#222222").count();
    assert!(held >= 2, "a held bar besides the legend's: {held}");
    let all: Vec<String> = texts(&doc).into_iter().map(|(t, _)| t).collect();
    assert!(all.contains(&"connection 0".to_owned()), "{all:?}");
    assert!(all.contains(&"bytes held by TCP behind a missing segment".to_owned()));
    // HTTP/3: holds not recorded, and said so.
    let h3 = svg("multiplexing-h3-loss_percent-2");
    assert!(h3.contains("held bytes not recorded for this transport"));
    // The stalled streams: at most six panels. Without hol_added_ns they
    // rank by the longest gap, longest first.
    let stalled = svg("streams-h2-loss_percent-2");
    let doc = roxmltree::Document::parse(&stalled).unwrap();
    let labels: Vec<String> = texts(&doc)
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| t.contains(" · longest gap "))
        .collect();
    assert!(!labels.is_empty() && labels.len() <= 6, "{labels:?}");
    assert!(labels.iter().all(|l| l.contains("HOL added not recorded")));
    let gaps: Vec<f64> = labels
        .iter()
        .map(|l| {
            let rest = l.split(" · longest gap ").nth(1).unwrap();
            rest.trim_end_matches(" ms").parse().unwrap()
        })
        .collect();
    assert!(gaps.windows(2).all(|w| w[0] >= w[1]), "{gaps:?}");
}
