//! The times a person waits for ([`PageTimes`]), computed from a page
//! run's request records and its [`PageGraph`] alone, so that anyone can
//! recompute them from a stored record (`docs/metrics.md` defines each).

use std::time::Duration;

use netsim::nanos;
use scenarios::{Discovery, ObjectKind, PageGraph};
use serde::{Deserialize, Serialize};

use crate::record::RequestRecord;

/// The user-facing times of one page load, each from the navigation start
/// (the document request's start). See `docs/metrics.md`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageTimes {
    /// First-render proxy: every render-blocking object has arrived and been
    /// processed (its delay), and the document's response has begun.
    #[serde(rename = "first_render_ns", with = "nanos")]
    pub first_render: Duration,
    /// DOMContentLoaded proxy: the document has arrived and been parsed
    /// (every parser-blocking script run, each after the stylesheets before
    /// it), and every `defer` script has run.
    #[serde(rename = "dom_content_loaded_ns", with = "nanos")]
    pub dom_content_loaded: Duration,
    /// Onload: every object has arrived and been processed.
    #[serde(rename = "onload_ns", with = "nanos")]
    pub onload: Duration,
    /// Byte-weighted visual completion (the Speed Index idea): the integral
    /// over time of the share of visual bytes (the document's and the
    /// images') not yet shown, where nothing is shown before the first
    /// render and a byte is shown once it has arrived.
    #[serde(rename = "speed_index_ns", with = "nanos")]
    pub speed_index: Duration,
    /// When the objects of each kind completed, per kind present, in
    /// [`ObjectKind::ALL`] order.
    pub by_kind: Vec<KindTimes>,
}

/// The completion times of the objects of one kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindTimes {
    /// The kind's name ([`ObjectKind::as_str`]).
    pub kind: String,
    /// Body bytes of its objects.
    pub bytes: u64,
    /// When each object completed (its last byte), ascending.
    #[serde(rename = "completed_ns", with = "nanos::vec")]
    pub completed: Vec<Duration>,
}

impl PageTimes {
    /// The times of a page load whose requests are `requests`, in the
    /// graph's object order. `None` if any object did not complete (a failed
    /// run has no user-facing times) or the counts differ.
    pub fn compute(graph: &PageGraph, requests: &[RequestRecord]) -> Option<PageTimes> {
        if requests.len() != graph.objects.len() || requests.iter().any(|r| !r.succeeded()) {
            return None;
        }
        let start = requests[0].start;
        let since = |t: Duration| t.saturating_sub(start);
        let arrived: Vec<Duration> = requests
            .iter()
            .map(|r| since(r.last_byte.unwrap_or_default()))
            .collect();
        let ready: Vec<Duration> = arrived
            .iter()
            .zip(&graph.objects)
            .map(|(&t, o)| t + o.delay)
            .collect();
        let document_begun = since(requests[0].first_byte.unwrap_or_default());
        let first_render = graph
            .objects
            .iter()
            .zip(&ready)
            .filter(|(o, _)| o.render_blocking)
            .map(|(_, &t)| t)
            .fold(document_begun, Duration::max);
        let dom_content_loaded = parsed(graph, &ready).max(
            graph
                .objects
                .iter()
                .zip(&ready)
                .filter(|(o, _)| o.object.kind == ObjectKind::DeferJs)
                .map(|(_, &t)| t)
                .max()
                .unwrap_or_default(),
        );
        let onload = ready
            .iter()
            .copied()
            .fold(dom_content_loaded, Duration::max);
        let speed_index = speed_index(graph, requests, start, first_render);
        let by_kind = ObjectKind::ALL
            .into_iter()
            .filter_map(|kind| {
                let of_kind: Vec<usize> = (0..graph.objects.len())
                    .filter(|&i| graph.objects[i].object.kind == kind)
                    .collect();
                if of_kind.is_empty() {
                    return None;
                }
                let mut completed: Vec<Duration> = of_kind.iter().map(|&i| arrived[i]).collect();
                completed.sort();
                Some(KindTimes {
                    kind: kind.as_str().to_owned(),
                    bytes: of_kind.iter().map(|&i| graph.objects[i].object.size).sum(),
                    completed,
                })
            })
            .collect();
        Some(PageTimes {
            first_render,
            dom_content_loaded,
            onload,
            speed_index,
            by_kind,
        })
    }
}

/// When a parser-blocking script found by the parser runs: once it is
/// ready and every stylesheet found before it in the document is ready.
/// `ready` is each object's arrival plus its delay.
pub(crate) fn script_runs(graph: &PageGraph, ready: &[Duration], script: usize) -> Duration {
    let Discovery::Html { offset } = graph.objects[script].discovery else {
        return ready[script];
    };
    graph
        .objects
        .iter()
        .zip(ready)
        .filter(|(o, _)| {
            o.object.kind == ObjectKind::Css
                && matches!(o.discovery, Discovery::Html { offset: at } if at < offset)
        })
        .map(|(_, &t)| t)
        .fold(ready[script], Duration::max)
}

/// When the parser has read the whole document: the document has arrived
/// and every parser-blocking script in it has run.
fn parsed(graph: &PageGraph, ready: &[Duration]) -> Duration {
    (1..graph.objects.len())
        .filter(|&i| {
            graph.objects[i].object.kind == ObjectKind::Js
                && matches!(graph.objects[i].discovery, Discovery::Html { .. })
        })
        .map(|i| script_runs(graph, ready, i))
        .fold(ready[0], Duration::max)
}

/// The byte-weighted visual completion: ∫ (1 − shown(t)) dt, shown(t)
/// being the share of the document's and the images' bytes that have
/// arrived by t, and 0 before `first_render`. Times from `start`.
fn speed_index(
    graph: &PageGraph,
    requests: &[RequestRecord],
    start: Duration,
    first_render: Duration,
) -> Duration {
    let visual: Vec<usize> = (0..graph.objects.len())
        .filter(|&i| {
            matches!(
                graph.objects[i].object.kind,
                ObjectKind::Html | ObjectKind::Image
            )
        })
        .collect();
    let total: u64 = visual.iter().map(|&i| graph.objects[i].object.size).sum();
    if total == 0 {
        return first_render;
    }
    // Every arrival of visual bytes, as (time from start, new bytes).
    let mut arrivals: Vec<(Duration, u64)> = Vec::new();
    for &i in &visual {
        let mut before = 0u64;
        for &(t, cumulative) in &requests[i].timeline {
            let new = cumulative
                .saturating_sub(before)
                .min(graph.objects[i].object.size);
            before = before.max(cumulative);
            arrivals.push((t.saturating_sub(start), new));
        }
    }
    arrivals.sort();
    // Integrate in nanoseconds × bytes, exactly, then divide once.
    let mut shown = 0u64;
    let mut area: u128 = 0;
    let mut at = first_render;
    let mut pending = 0u64;
    for (t, new) in arrivals {
        if t <= first_render {
            pending += new;
            continue;
        }
        if pending > 0 {
            shown = (shown + pending).min(total);
            pending = 0;
        }
        area += (t - at).as_nanos() * u128::from(total - shown);
        shown = (shown + new).min(total);
        at = t;
    }
    let hidden_before = first_render.as_nanos() * u128::from(total);
    let ns = (hidden_before + area) / u128::from(total);
    Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
}
