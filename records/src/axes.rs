//! A run's sweep-axis values: [`Axes`], each an [`AxisValue`], and how a
//! record reads them (by axis name, `read_axes`).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use scenarios::{
    Certificate, Coalescing, H3Discovery, Handshake, NamedAxis, NetworkEvents, Scheduler,
};
use serde::{Deserialize, Deserializer, Serialize};
use tcp::{Congestion, Pacing};

/// A run's sweep-axis values, by axis name (the numeric
/// `scenarios::SWEEP_AXES`, then the named `scenarios::NamedAxis` ones).
pub type Axes = BTreeMap<String, AxisValue>;

/// The value of one sweep axis in a record: a number (`loss_percent`,
/// `rtt_ms`, `bandwidth_mbit`, `subresource_responses`, `initial_window`)
/// or the label of a named axis's value (`handshake`, `cc`, `pacing`,
/// `scheduler`, `certificate`, `coalescing`, `h3_discovery`,
/// `network_events`). Serialized as a JSON number or as the label. Three
/// axes share labels (`pacing`, `coalescing` and `network_events` are all
/// `"on"` or `"off"`), so a label alone does not always say its axis: a
/// record reads each named axis's label as that axis's value (by the key:
/// `RunResult::axes`), [`AxisValue::axis`] says which axis a value is of,
/// and the record reader checks that it is the one the key names.
/// Deserialized on its own, a shared label reads as the first axis that
/// has it (`pacing`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AxisValue {
    /// A numeric axis's value.
    Number(f64),
    /// The handshake axis's value.
    Handshake(Handshake),
    /// The congestion-control axis's value.
    Cc(Congestion),
    /// The pacing axis's value.
    Pacing(Pacing),
    /// The scheduler axis's value.
    Scheduler(Scheduler),
    /// The certificate axis's value.
    Certificate(Certificate),
    /// The coalescing axis's value.
    Coalescing(Coalescing),
    /// The HTTP/3 discovery axis's value.
    H3Discovery(H3Discovery),
    /// The network-events axis's value.
    NetworkEvents(NetworkEvents),
}

impl AxisValue {
    /// The named axis this value belongs to; `None` for a number.
    pub fn axis(&self) -> Option<NamedAxis> {
        match self {
            AxisValue::Number(_) => None,
            AxisValue::Handshake(_) => Some(NamedAxis::Handshake),
            AxisValue::Cc(_) => Some(NamedAxis::Cc),
            AxisValue::Pacing(_) => Some(NamedAxis::Pacing),
            AxisValue::Scheduler(_) => Some(NamedAxis::Scheduler),
            AxisValue::Certificate(_) => Some(NamedAxis::Certificate),
            AxisValue::Coalescing(_) => Some(NamedAxis::Coalescing),
            AxisValue::H3Discovery(_) => Some(NamedAxis::H3Discovery),
            AxisValue::NetworkEvents(_) => Some(NamedAxis::NetworkEvents),
        }
    }

    /// The value of `axis` in `choices`.
    pub fn of(axis: NamedAxis, choices: &scenarios::Choices) -> AxisValue {
        match axis {
            NamedAxis::Handshake => AxisValue::Handshake(choices.handshake),
            NamedAxis::Cc => AxisValue::Cc(choices.cc),
            NamedAxis::Pacing => AxisValue::Pacing(choices.pacing),
            NamedAxis::Scheduler => AxisValue::Scheduler(choices.scheduler),
            NamedAxis::Certificate => AxisValue::Certificate(choices.certificate),
            NamedAxis::Coalescing => AxisValue::Coalescing(choices.coalescing),
            NamedAxis::H3Discovery => AxisValue::H3Discovery(choices.h3_discovery),
            NamedAxis::NetworkEvents => AxisValue::NetworkEvents(choices.network_events),
        }
    }

    /// The value of `axis` whose label is `label`; `None` if `axis` has no
    /// value of that label.
    pub fn named(axis: NamedAxis, label: &str) -> Option<AxisValue> {
        Some(match axis {
            NamedAxis::Handshake => AxisValue::Handshake(label.parse().ok()?),
            NamedAxis::Cc => AxisValue::Cc(label.parse().ok()?),
            NamedAxis::Pacing => AxisValue::Pacing(label.parse().ok()?),
            NamedAxis::Scheduler => AxisValue::Scheduler(label.parse().ok()?),
            NamedAxis::Certificate => AxisValue::Certificate(label.parse().ok()?),
            NamedAxis::Coalescing => AxisValue::Coalescing(label.parse().ok()?),
            NamedAxis::H3Discovery => AxisValue::H3Discovery(label.parse().ok()?),
            NamedAxis::NetworkEvents => AxisValue::NetworkEvents(label.parse().ok()?),
        })
    }

    /// The number, if this is a numeric axis's value.
    pub fn number(&self) -> Option<f64> {
        match self {
            AxisValue::Number(v) => Some(*v),
            _ => None,
        }
    }

    /// A total order for sorting sweep points: numbers by value, the
    /// values of one named axis in that axis's `ALL` order (full, resume,
    /// early data; cubic, newreno, bbr; ...), named values before numbers
    /// and the named axes in `NamedAxis` order.
    pub fn sort_cmp(&self, other: &AxisValue) -> Ordering {
        match (self, other) {
            (AxisValue::Number(a), AxisValue::Number(b)) => a.total_cmp(b),
            (AxisValue::Handshake(a), AxisValue::Handshake(b)) => a.cmp(b),
            (AxisValue::Cc(a), AxisValue::Cc(b)) => {
                position(&Congestion::ALL, a).cmp(&position(&Congestion::ALL, b))
            }
            (AxisValue::Pacing(a), AxisValue::Pacing(b)) => a.cmp(b),
            (AxisValue::Scheduler(a), AxisValue::Scheduler(b)) => a.cmp(b),
            (AxisValue::Certificate(a), AxisValue::Certificate(b)) => a.cmp(b),
            (AxisValue::Coalescing(a), AxisValue::Coalescing(b)) => a.cmp(b),
            (AxisValue::H3Discovery(a), AxisValue::H3Discovery(b)) => a.cmp(b),
            (AxisValue::NetworkEvents(a), AxisValue::NetworkEvents(b)) => a.cmp(b),
            (a, b) => match (a.axis(), b.axis()) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
        }
    }
}

/// Where `x` is in `all` (its end if absent: a code-only value sorts last).
fn position<T: PartialEq>(all: &[T], x: &T) -> usize {
    all.iter().position(|y| y == x).unwrap_or(all.len())
}

impl fmt::Display for AxisValue {
    /// A number in Rust's shortest round-trip form (as run keys write it:
    /// `2`, `0.5`), a named value as its label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AxisValue::Number(v) => write!(f, "{v}"),
            AxisValue::Handshake(h) => f.write_str(h.label()),
            AxisValue::Cc(c) => f.write_str(c.label()),
            AxisValue::Pacing(p) => f.write_str(p.label()),
            AxisValue::Scheduler(s) => f.write_str(s.label()),
            AxisValue::Certificate(c) => f.write_str(c.label()),
            AxisValue::Coalescing(c) => f.write_str(c.label()),
            AxisValue::H3Discovery(d) => f.write_str(d.label()),
            AxisValue::NetworkEvents(e) => f.write_str(e.label()),
        }
    }
}

/// A record's axes, each named axis's label read as a value of the axis its
/// key names (`"coalescing": "off"` is [`Coalescing::Off`], not
/// `Pacing::Off`). A label the key's axis does not have stays as it reads
/// on its own, for the record reader to reject with the key's name; keys
/// that name no axis are kept too, for the same reason.
pub(crate) fn read_axes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Axes, D::Error> {
    let mut axes = Axes::deserialize(deserializer)?;
    for (name, value) in axes.iter_mut() {
        let Some(axis) = NamedAxis::from_name(name) else {
            continue;
        };
        if value.axis().is_some_and(|a| a != axis) {
            if let Some(own) = AxisValue::named(axis, &value.to_string()) {
                *value = own;
            }
        }
    }
    Ok(axes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_handshakes_round_trip() {
        let axes: Axes =
            serde_json::from_str(r#"{"loss_percent":2.0,"handshake":"resume"}"#).expect("axes");
        assert_eq!(axes["loss_percent"], AxisValue::Number(2.0));
        assert_eq!(axes["handshake"], AxisValue::Handshake(Handshake::Resume));
        assert_eq!(
            serde_json::to_string(&axes).unwrap(),
            r#"{"handshake":"resume","loss_percent":2.0}"#
        );
        assert_eq!(axes["loss_percent"].to_string(), "2");
        assert_eq!(AxisValue::Number(0.25).to_string(), "0.25");
        assert_eq!(axes["handshake"].to_string(), "resume");
        // An integer in the JSON is a number too; a name that is not a
        // handshake is not an axis value.
        assert_eq!(
            serde_json::from_str::<AxisValue>("2").unwrap(),
            AxisValue::Number(2.0)
        );
        assert!(serde_json::from_str::<AxisValue>(r#""sideways""#).is_err());
    }

    #[test]
    fn every_named_label_reads_back_as_its_axis() {
        let choices = [
            scenarios::Choices::default(),
            scenarios::Choices {
                handshake: Handshake::EarlyData,
                cc: Congestion::Bbr,
                pacing: Pacing::On,
                scheduler: Scheduler::Priorities,
                certificate: Certificate::Realistic,
                coalescing: Coalescing::Off,
                h3_discovery: H3Discovery::AltSvc,
                network_events: NetworkEvents::Off,
            },
        ];
        for c in &choices {
            for axis in NamedAxis::ALL {
                let v = AxisValue::of(axis, c);
                let json = serde_json::to_string(&v).unwrap();
                assert_eq!(json, format!("\"{}\"", axis.label_in(c)));
                // Read as a record reads it: by the axis's name.
                let record = format!("{{\"{}\":{json}}}", axis.name());
                let back = read_axes(&mut serde_json::Deserializer::from_str(&record)).unwrap();
                assert_eq!(back[axis.name()], v);
                assert_eq!(back[axis.name()].axis(), Some(axis));
                assert_eq!(AxisValue::named(axis, axis.label_in(c)), Some(v));
            }
        }
    }

    #[test]
    fn pacing_and_coalescing_share_labels_and_the_key_tells_them_apart() {
        let json = r#"{"coalescing":"off","pacing":"on","cc":"off"}"#;
        let axes = read_axes(&mut serde_json::Deserializer::from_str(json)).unwrap();
        assert_eq!(axes["coalescing"], AxisValue::Coalescing(Coalescing::Off));
        assert_eq!(axes["pacing"], AxisValue::Pacing(Pacing::On));
        // A label the key's axis lacks stays what it reads as alone, which
        // the record reader rejects.
        assert_eq!(axes["cc"], AxisValue::Pacing(Pacing::Off));
        assert_eq!(AxisValue::named(NamedAxis::Cc, "off"), None);
        // Written back, the labels are the same.
        assert_eq!(
            serde_json::to_string(&axes).unwrap(),
            r#"{"cc":"off","coalescing":"off","pacing":"on"}"#
        );
        assert!(AxisValue::Coalescing(Coalescing::On)
            .sort_cmp(&AxisValue::Coalescing(Coalescing::Off))
            .is_lt());
    }

    #[test]
    fn network_events_shares_on_and_off_and_the_key_tells_it_apart() {
        let json = r#"{"network_events":"off","coalescing":"on","pacing":"off"}"#;
        let axes = read_axes(&mut serde_json::Deserializer::from_str(json)).unwrap();
        assert_eq!(
            axes["network_events"],
            AxisValue::NetworkEvents(NetworkEvents::Off)
        );
        assert_eq!(axes["coalescing"], AxisValue::Coalescing(Coalescing::On));
        assert_eq!(axes["pacing"], AxisValue::Pacing(Pacing::Off));
        assert_eq!(
            axes["network_events"].axis(),
            Some(NamedAxis::NetworkEvents)
        );
        // Printed as its label, written back as it was read.
        assert_eq!(axes["network_events"].to_string(), "off");
        assert_eq!(
            serde_json::to_string(&axes).unwrap(),
            r#"{"coalescing":"on","network_events":"off","pacing":"off"}"#
        );
        // On sorts before off, as NetworkEvents::ALL lists them, and the
        // axis after every other named axis (NamedAxis order).
        let on = AxisValue::NetworkEvents(NetworkEvents::On);
        let off = AxisValue::NetworkEvents(NetworkEvents::Off);
        assert!(on.sort_cmp(&off).is_lt());
        assert!(AxisValue::H3Discovery(H3Discovery::AltSvc)
            .sort_cmp(&on)
            .is_lt());
        assert!(on.sort_cmp(&AxisValue::Number(0.0)).is_lt());
        assert_eq!(
            AxisValue::named(NamedAxis::NetworkEvents, "sometimes"),
            None
        );
    }
}
