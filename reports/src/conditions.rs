//! The condition of an axis point in words, for chart footers and
//! captions, axis labels and the Results section: its path (RTT,
//! bandwidth), its random loss, its targeted drops and blackouts, and the
//! packets its runs lost at the full queue. A point without random loss
//! is never written "0 % loss": the full queue drops packets without it,
//! so the text says "no random loss (82–126 queue drops per run)".
//!
//! Queue drops per run are, per protocol, the mean over its completed
//! runs at the point (the tables' mean of `drops_queue_full`). One number
//! when the protocols' means agree to a tenth of a packet, else the
//! lowest and the highest of them; [`per_protocol`] gives each.

use netsim::DropReason;
use scenarios::{Protocol, ResolvedLoss, ResolvedNetwork};

use crate::stats;
use crate::tables::{AxisPoint, Group, Metric};

/// The metric the queue drops are read from.
const QUEUE_FULL: Metric = Metric::Dropped(DropReason::QueueFull);

/// Per protocol at `point`, in group order, the mean queue-full drops
/// per completed run; a protocol without completed runs there is left
/// out.
pub fn queue_drops(groups: &[Group], point: &AxisPoint) -> Vec<(Protocol, f64)> {
    groups
        .iter()
        .filter(|g| &g.axes == point)
        .filter_map(|g| Some((g.protocol, stats::mean(&g.values[&QUEUE_FULL])?)))
        .collect()
}

/// A mean count of packets, to a tenth: `139`, `37.5`, and `< 0.1` for a
/// mean above 0 that rounds to 0.
pub fn count(v: f64) -> String {
    let tenths = (v * 10.0).round() / 10.0;
    if tenths == 0.0 && v > 0.0 {
        "< 0.1".into()
    } else if tenths.fract() == 0.0 {
        format!("{tenths:.0}")
    } else {
        format!("{tenths:.1}")
    }
}

/// `139 queue drops per run`, `82–126 queue drops per run` (the lowest and
/// highest protocol means); `None` when no protocol's runs dropped a
/// packet at the queue.
pub fn queue_drops_text(queue: &[(Protocol, f64)]) -> Option<String> {
    let means = || queue.iter().map(|&(_, m)| m);
    if !means().any(|m| m > 0.0) {
        return None;
    }
    let lo = count(means().fold(f64::INFINITY, f64::min));
    let hi = count(means().fold(f64::NEG_INFINITY, f64::max));
    Some(if lo == hi {
        let noun = if hi == "1" { "drop" } else { "drops" };
        format!("{hi} queue {noun} per run")
    } else {
        format!("{lo}–{hi} queue drops per run")
    })
}

/// `HTTP/1.1 118, HTTP/2 82, HTTP/3 126`: each protocol's mean queue
/// drops per run.
pub fn per_protocol(queue: &[(Protocol, f64)]) -> String {
    queue
        .iter()
        .map(|&(p, m)| format!("{} {}", p.name(), count(m)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A drop reason in a legend: `random loss`, `queue full`, `targeted
/// drop`, `blackout`, `over the MTU`, `no route`.
pub fn reason_name(reason: DropReason) -> &'static str {
    match reason {
        DropReason::Random => "random loss",
        DropReason::QueueFull => "queue full",
        DropReason::Targeted => "targeted drop",
        DropReason::Blackout => "blackout",
        DropReason::Oversize => "over the MTU",
        DropReason::NoRoute => "no route",
    }
}

/// Whether a link's loss model drops nothing at random.
pub fn no_random_loss(loss: &ResolvedLoss) -> bool {
    match *loss {
        ResolvedLoss::None => true,
        ResolvedLoss::Bernoulli { rate } => rate == 0.0,
        ResolvedLoss::GilbertElliott { mean_loss, .. } => mean_loss == 0.0,
    }
}

/// The point's losses in words: `no random loss (139 queue drops per
/// run)`, `no random loss` (nothing dropped at the queue either), `random
/// loss 2 % (and 0–80 queue drops per run)`, `random loss 2 % down, none
/// up`, `random loss 1 % in bursts of 3`.
pub fn loss_text(network: &ResolvedNetwork, queue: &[(Protocol, f64)]) -> String {
    let (up, down) = (&network.path.up.loss, &network.path.down.loss);
    let queue = queue_drops_text(queue);
    if no_random_loss(up) && no_random_loss(down) {
        return match queue {
            Some(q) => format!("no random loss ({q})"),
            None => "no random loss".into(),
        };
    }
    let one = |l: &ResolvedLoss| match *l {
        _ if no_random_loss(l) => "none".to_owned(),
        ResolvedLoss::Bernoulli { rate } => format!("{} %", percent(rate)),
        ResolvedLoss::GilbertElliott {
            mean_loss,
            mean_burst,
        } => format!("{} % in bursts of {mean_burst}", percent(mean_loss)),
        ResolvedLoss::None => "none".to_owned(),
    };
    let random = if up == down {
        format!("random loss {}", one(down))
    } else {
        format!("random loss {} down, {} up", one(down), one(up))
    };
    match queue {
        Some(q) => format!("{random} (and {q})"),
        None => random,
    }
}

/// `RTT 50 ms, 10 Mbit/s, no random loss (139 queue drops per run), 1
/// targeted drop`: the network of a point, short, with its losses
/// ([`loss_text`]).
pub fn text(network: &ResolvedNetwork, queue: &[(Protocol, f64)]) -> String {
    let (up, down) = (&network.path.up, &network.path.down);
    let rtt = (up.delay_ns + down.delay_ns) as f64 / 1e6;
    let rate = |bps: u64| bps as f64 / 1e6;
    let bandwidth = if up.bandwidth_bps == down.bandwidth_bps {
        format!("{} Mbit/s", rate(down.bandwidth_bps))
    } else {
        format!(
            "{} Mbit/s down, {} up",
            rate(down.bandwidth_bps),
            rate(up.bandwidth_bps)
        )
    };
    let mut text = format!("RTT {rtt} ms, {bandwidth}, {}", loss_text(network, queue));
    match network.drops.len() {
        0 => {}
        1 => text.push_str(", 1 targeted drop"),
        k => text.push_str(&format!(", {k} targeted drops")),
    }
    if !network.blackouts.is_empty() {
        text.push_str(&format!(", {} blackout(s)", network.blackouts.len()));
    }
    text
}

/// A fraction in percent, rounded to 6 decimals (so 0.02 shows as 2).
fn percent(fraction: f64) -> f64 {
    (fraction * 1e8).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    const H1: Protocol = Protocol::H1;
    const H2: Protocol = Protocol::H2;
    const H3: Protocol = Protocol::H3;

    /// The lab's default network (50 ms RTT, 10 Mbit/s) with `loss` on
    /// both links.
    fn network(loss: ResolvedLoss) -> ResolvedNetwork {
        let mut n = scenarios::NetworkSpec::default().resolve();
        n.path.up.loss = loss;
        n.path.down.loss = loss;
        n
    }

    #[test]
    fn counts_to_a_tenth() {
        assert_eq!(count(139.0), "139");
        assert_eq!(count(37.5), "37.5");
        // (40 + 44 + 41) / 3 = 41.666… → 41.7.
        assert_eq!(count(125.0 / 3.0), "41.7");
        assert_eq!(count(0.0), "0");
        assert_eq!(count(0.04), "< 0.1");
    }

    #[test]
    fn queue_drops_are_one_number_or_the_protocols_range() {
        assert_eq!(
            queue_drops_text(&[(H1, 139.0), (H2, 139.0)]).as_deref(),
            Some("139 queue drops per run")
        );
        assert_eq!(
            queue_drops_text(&[(H1, 118.0), (H2, 82.0), (H3, 126.0)]).as_deref(),
            Some("82–126 queue drops per run")
        );
        // A protocol that dropped none at the queue is the range's low end.
        assert_eq!(
            queue_drops_text(&[(H1, 80.0), (H2, 0.0)]).as_deref(),
            Some("0–80 queue drops per run")
        );
        assert_eq!(
            queue_drops_text(&[(H2, 1.0)]).as_deref(),
            Some("1 queue drop per run")
        );
        assert_eq!(queue_drops_text(&[(H2, 0.0), (H3, 0.0)]), None);
        assert_eq!(queue_drops_text(&[]), None);
        assert_eq!(
            per_protocol(&[(H1, 118.0), (H2, 82.0), (H3, 37.5)]),
            "HTTP/1.1 118, HTTP/2 82, HTTP/3 37.5"
        );
    }

    #[test]
    fn no_random_loss_says_so_and_counts_the_queue_drops() {
        let queue = [(H1, 118.0), (H2, 82.0), (H3, 126.0)];
        let lossless = network(ResolvedLoss::None);
        assert_eq!(
            loss_text(&lossless, &queue),
            "no random loss (82–126 queue drops per run)"
        );
        // A Bernoulli rate of 0 is no random loss too.
        assert_eq!(
            loss_text(
                &network(ResolvedLoss::Bernoulli { rate: 0.0 }),
                &[(H2, 139.0)]
            ),
            "no random loss (139 queue drops per run)"
        );
        // Nothing dropped at all.
        assert_eq!(loss_text(&lossless, &[(H2, 0.0)]), "no random loss");
        assert_eq!(
            text(&lossless, &queue),
            "RTT 50 ms, 10 Mbit/s, no random loss (82–126 queue drops per run)"
        );
    }

    #[test]
    fn random_loss_is_named_and_the_queue_drops_are_added() {
        let two = network(ResolvedLoss::Bernoulli { rate: 0.02 });
        assert_eq!(
            loss_text(&two, &[(H1, 80.0), (H2, 0.0), (H3, 0.0)]),
            "random loss 2 % (and 0–80 queue drops per run)"
        );
        assert_eq!(loss_text(&two, &[(H2, 0.0)]), "random loss 2 %");
        let mut down_only = two.clone();
        down_only.path.up.loss = ResolvedLoss::None;
        assert_eq!(loss_text(&down_only, &[]), "random loss 2 % down, none up");
        let bursts = network(ResolvedLoss::GilbertElliott {
            mean_loss: 0.01,
            mean_burst: 3.0,
        });
        assert_eq!(loss_text(&bursts, &[]), "random loss 1 % in bursts of 3");
    }
}
