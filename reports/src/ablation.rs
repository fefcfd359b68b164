//! The head-of-line ablation, when the results sweep
//! `subresource_responses`: per protocol, the page bundled into one
//! response (one stream) against the page with one response per object,
//! side by side, with what the difference means.
//!
//! The comparison is paired by seed (a seed draws the same random loss at
//! both points; [`stats::paired_difference`]), for page load time and the
//! mean body-byte delivery time ([`Metric::ByteDelivery`]): with the same
//! bytes on the same connection, PLT mostly measures when the last byte
//! arrived, while the delivery time also shows bytes that arrived but were
//! held back. The medians of each point stand beside it.

use scenarios::Protocol;

use crate::document::Block;
use crate::stats::{self, PairedDifference};
use crate::tables::{change_text, paired_text, Group, Metric, PAIRING};

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
    let group = |protocol: Protocol, k: f64| -> Option<&Group> {
        groups
            .iter()
            .find(|g| g.protocol == protocol && responses(g) == Some(k))
    };
    let mut protocols: Vec<Protocol> = Vec::new();
    for g in groups {
        if !protocols.contains(&g.protocol) {
            protocols.push(g.protocol);
        }
    }
    let mut rows = Vec::new();
    // Per protocol and metric: the two medians, and bundled against
    // multiplexed paired by seed.
    let compare = |protocol: Protocol, metric: Metric| {
        let (m, b) = (group(protocol, multiplexed)?, group(protocol, 1.0)?);
        Some((
            stats::median(&m.values[&metric])?,
            stats::median(&b.values[&metric])?,
            stats::paired_difference(&b.by_seed(metric), &m.by_seed(metric))?,
        ))
    };
    let mut delivery_change = Vec::new();
    for &p in &protocols {
        let plt = compare(p, Metric::Plt);
        let delivery = compare(p, Metric::ByteDelivery);
        if let Some(d) = delivery {
            delivery_change.push((p, d.2));
        }
        let cells = |v: Option<(f64, f64, PairedDifference)>| match v {
            Some((m, b, d)) => [format!("{m:.1}"), format!("{b:.1}"), paired_text(&d, "ms")],
            None => ["—".to_owned(), "—".into(), "—".into()],
        };
        let mut row = vec![p.to_string()];
        row.extend(cells(plt));
        row.extend(cells(delivery));
        rows.push(row);
    }
    let header = [
        "protocol".to_owned(),
        format!("PLT, {multiplexed} responses (ms, median)"),
        "PLT, bundled (ms, median)".into(),
        "PLT, bundled − multiplexed, paired by seed".into(),
        format!("byte delivery, {multiplexed} responses (ms, median)"),
        "byte delivery, bundled (ms, median)".into(),
        "byte delivery, bundled − multiplexed, paired by seed".into(),
    ];
    let mut blocks = vec![
        Block::Heading(2, "Head-of-line ablation: bundled against multiplexed".into()),
        Block::Paragraph(format!(
            "The same page, its subresources served as {multiplexed} responses (one stream each) or bundled into one response (one stream). The bytes and the connection are the same; only the number of streams changes. Byte delivery is the mean body-byte delivery time (see Methodology). Full tables per point are under Results."
        )),
        Block::Paragraph(PAIRING.into()),
        Block::Table(header.to_vec(), rows),
    ];
    let said = |p: Protocol| {
        delivery_change
            .iter()
            .find(|(q, _)| *q == p)
            .map(|x| change_text(&x.1, "ms"))
    };
    let mut reading = Vec::new();
    if let Some(d) = said(Protocol::H3) {
        reading.push(format!(
            "HTTP/3: bundling changes the mean byte delivery time by {d}. On one QUIC connection with one congestion controller, a single stream stalls everything behind each loss, while separate streams let QUIC hand over the data of streams that lost nothing; the difference is the head-of-line blocking that per-stream delivery removes."
        ));
    }
    if let Some(d) = said(Protocol::H2) {
        reading.push(format!(
            "HTTP/2: bundling changes it by {d}. TCP delivers one ordered byte stream either way, so HTTP/2's separate streams already wait behind every loss as a single bundled stream does: TCP serializes everything."
        ));
    }
    if let Some(d) = said(Protocol::H1) {
        reading.push(format!(
            "HTTP/1.1: bundling changes it by {d}, but it also changes the number of connections (one instead of up to six), so it is not a head-of-line comparison."
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

    /// A group whose run `i` has seed `i + 1`.
    fn group(protocol: Protocol, responses: &str, plt: &[f64], delivery: &[f64]) -> Group {
        let seeds = |n: usize| (1..=n as u64).collect::<Vec<u64>>();
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
            seeds: Metric::ALL
                .iter()
                .map(|&m| {
                    let n = match m {
                        Metric::Plt => plt.len(),
                        Metric::ByteDelivery => delivery.len(),
                        _ => 0,
                    };
                    (m, seeds(n))
                })
                .collect(),
        }
    }

    #[test]
    fn bundled_against_multiplexed_paired_by_seed() {
        let groups = vec![
            group(Protocol::H2, "1", &[100.0, 200.0], &[50.0, 80.0]),
            group(
                Protocol::H3,
                "1",
                &[110.0, 190.0, 330.0, 400.0],
                &[60.0, 66.0, 70.0, 80.0],
            ),
            group(Protocol::H2, "39", &[100.0, 200.0], &[50.0, 80.0]),
            group(
                Protocol::H3,
                "39",
                &[100.0, 200.0, 300.0, 400.0],
                &[60.0, 60.0, 70.0, 64.0],
            ),
        ];
        let blocks = section(&groups);
        let Some(Block::Table(_, rows)) = blocks.get(3) else {
            panic!("no table: {blocks:?}");
        };
        // h2: both points equal at each seed. h3 PLT: per seed +10 %,
        // -5 %, +10 %, 0 % (median 5, mean 3.75); medians 250 and 260.
        // h3 delivery: +0 %, +10 %, +0 %, +25 % (median 5, mean 8.75).
        assert_eq!(
            rows[0][1..4],
            [
                "150.0",
                "150.0",
                "+0.0 % at every seed (no variation across 2 seeds)"
            ]
        );
        assert_eq!(rows[1][1..3], ["250.0", "260.0"]);
        assert!(
            rows[1][3].starts_with("median +5.0 % (mean +3.8 %, 95 % CI "),
            "{}",
            rows[1][3]
        );
        assert!(rows[1][3].ends_with("; 4 seeds)"), "{}", rows[1][3]);
        assert_eq!(rows[1][4..6], ["62.0", "68.0"]);
        assert!(
            rows[1][6].starts_with("median +5.0 % (mean +8.8 %"),
            "{}",
            rows[1][6]
        );
        let Some(Block::List(reading)) = blocks.get(4) else {
            panic!("no reading");
        };
        assert!(
            reading[0].starts_with(
                "HTTP/3: bundling changes the mean byte delivery time by a median of +5.0 % (mean +8.8 %, 95 % CI "
            ),
            "{}",
            reading[0]
        );
        assert!(reading[0].contains("paired by seed over 4 seeds"));
        assert!(
            reading[1].starts_with("HTTP/2: bundling changes it by +0.0 % at every one of 2 seeds")
        );
    }

    #[test]
    fn no_section_without_both_points() {
        assert!(section(&[group(Protocol::H3, "39", &[1.0], &[1.0])]).is_empty());
        assert!(section(&[group(Protocol::H3, "1", &[1.0], &[1.0])]).is_empty());
    }
}
