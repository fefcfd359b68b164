//! The head-of-line ablation, when the results sweep
//! `subresource_responses`: per protocol, the page bundled into one
//! response (one stream) against the page with one response per object,
//! side by side, with what the difference means.
//!
//! The comparison uses medians over the completed runs at each point, for
//! page load time and the mean body-byte delivery time
//! ([`Metric::ByteDelivery`]): with the same bytes on the same connection,
//! PLT mostly measures when the last byte arrived, while the delivery time
//! also shows bytes that arrived but were held back.

use scenarios::Protocol;

use crate::document::Block;
use crate::stats;
use crate::tables::{Group, Metric};

/// The sweep axis the ablation reads.
pub const AXIS: &str = "subresource_responses";

/// The ablation section, or nothing if the groups do not sweep [`AXIS`]
/// over 1 and a larger value.
pub fn section(groups: &[Group]) -> Vec<Block> {
    let responses = |g: &Group| -> Option<f64> {
        g.axes
            .iter()
            .find(|(k, _)| k == AXIS)
            .and_then(|(_, v)| v.parse().ok())
    };
    let multiplexed = groups.iter().filter_map(responses).fold(f64::NAN, f64::max);
    let has_both = multiplexed > 1.0 && groups.iter().any(|g| responses(g) == Some(1.0));
    if !has_both {
        return Vec::new();
    }
    let median = |protocol: Protocol, k: f64, metric: Metric| -> Option<f64> {
        let g = groups
            .iter()
            .find(|g| g.protocol == protocol && responses(g) == Some(k))?;
        stats::median(&g.values[&metric])
    };
    let mut protocols: Vec<Protocol> = Vec::new();
    for g in groups {
        if !protocols.contains(&g.protocol) {
            protocols.push(g.protocol);
        }
    }
    let mut rows = Vec::new();
    let change = |protocol: Protocol, metric: Metric| -> Option<(f64, f64, f64)> {
        let (m, b) = (
            median(protocol, multiplexed, metric)?,
            median(protocol, 1.0, metric)?,
        );
        Some((m, b, 100.0 * (b - m) / m))
    };
    let mut delivery_change = Vec::new();
    for &p in &protocols {
        let plt = change(p, Metric::Plt);
        let delivery = change(p, Metric::ByteDelivery);
        if let Some(d) = delivery {
            delivery_change.push((p, d.2));
        }
        let cells = |v: Option<(f64, f64, f64)>| match v {
            Some((m, b, d)) => [format!("{m:.1}"), format!("{b:.1}"), format!("{d:+.1} %")],
            None => ["—".to_owned(), "—".into(), "—".into()],
        };
        let mut row = vec![p.to_string()];
        row.extend(cells(plt));
        row.extend(cells(delivery));
        rows.push(row);
    }
    let header = [
        "protocol".to_owned(),
        format!("PLT, {multiplexed} responses (ms)"),
        "PLT, bundled (ms)".into(),
        "PLT change".into(),
        format!("byte delivery, {multiplexed} responses (ms)"),
        "byte delivery, bundled (ms)".into(),
        "byte delivery change".into(),
    ];
    let mut blocks = vec![
        Block::Heading(2, "Head-of-line ablation: bundled against multiplexed".into()),
        Block::Paragraph(format!(
            "The same page, its subresources served as {multiplexed} responses (one stream each) or bundled into one response (one stream). The bytes and the connection are the same; only the number of streams changes. Medians over completed runs; byte delivery is the mean body-byte delivery time (see Methodology). Full tables per point are under Results."
        )),
        Block::Table(header.to_vec(), rows),
    ];
    let said = |p: Protocol| delivery_change.iter().find(|(q, _)| *q == p).map(|x| x.1);
    let mut reading = Vec::new();
    if let Some(d) = said(Protocol::H3) {
        reading.push(format!(
            "HTTP/3: bundling changes the mean byte delivery time by {d:+.1} %. On one QUIC connection with one congestion controller, a single stream stalls everything behind each loss, while separate streams let QUIC hand over the data of streams that lost nothing; the difference is the head-of-line blocking that per-stream delivery removes."
        ));
    }
    if let Some(d) = said(Protocol::H2) {
        reading.push(format!(
            "HTTP/2: bundling changes it by {d:+.1} %. TCP delivers one ordered byte stream either way, so HTTP/2's separate streams already wait behind every loss as a single bundled stream does: TCP serializes everything."
        ));
    }
    if let Some(d) = said(Protocol::H1) {
        reading.push(format!(
            "HTTP/1.1: bundling changes it by {d:+.1} %, but it also changes the number of connections (one instead of up to six), so it is not a head-of-line comparison."
        ));
    }
    if !reading.is_empty() {
        blocks.push(Block::List(reading));
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(protocol: Protocol, responses: &str, plt: &[f64], delivery: &[f64]) -> Group {
        Group {
            axes: vec![(AXIS.to_owned(), responses.to_owned())],
            protocol,
            runs: plt.len(),
            failed: 0,
            timed_out: 0,
            values: Metric::ALL
                .iter()
                .map(|&m| {
                    let v = match m {
                        Metric::Plt => plt.to_vec(),
                        Metric::ByteDelivery => delivery.to_vec(),
                        _ => Vec::new(),
                    };
                    (m, v)
                })
                .collect(),
        }
    }

    #[test]
    fn bundled_and_multiplexed_side_by_side_per_protocol() {
        let groups = vec![
            group(Protocol::H2, "1", &[100.0], &[50.0]),
            group(
                Protocol::H3,
                "1",
                &[100.0, 120.0, 140.0],
                &[60.0, 66.0, 70.0],
            ),
            group(Protocol::H2, "39", &[100.0], &[50.0]),
            group(Protocol::H3, "39", &[100.0], &[60.0]),
        ];
        let blocks = section(&groups);
        let Some(Block::Table(_, rows)) = blocks.get(2) else {
            panic!("no table: {blocks:?}");
        };
        assert_eq!(
            rows,
            &vec![
                vec!["h2", "100.0", "100.0", "+0.0 %", "50.0", "50.0", "+0.0 %"],
                vec!["h3", "100.0", "120.0", "+20.0 %", "60.0", "66.0", "+10.0 %"],
            ]
        );
        let Some(Block::List(reading)) = blocks.get(3) else {
            panic!("no reading");
        };
        assert!(reading[0]
            .starts_with("HTTP/3: bundling changes the mean byte delivery time by +10.0 %"));
        assert!(reading[1].starts_with("HTTP/2: bundling changes it by +0.0 %"));
    }

    #[test]
    fn no_section_without_both_points() {
        assert!(section(&[group(Protocol::H3, "39", &[1.0], &[1.0])]).is_empty());
        assert!(section(&[group(Protocol::H3, "1", &[1.0], &[1.0])]).is_empty());
    }
}
