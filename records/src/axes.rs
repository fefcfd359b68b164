//! A run's sweep-axis values: [`Axes`], each an [`AxisValue`].

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use scenarios::{Certificate, Handshake, NamedAxis, Scheduler};
use serde::{Deserialize, Serialize};
use tcp::{Congestion, Pacing};

/// A run's sweep-axis values, by axis name (the numeric
/// `scenarios::SWEEP_AXES`, then the named `scenarios::NamedAxis` ones).
pub type Axes = BTreeMap<String, AxisValue>;

/// The value of one sweep axis in a record: a number (`loss_percent`,
/// `rtt_ms`, `bandwidth_mbit`, `subresource_responses`, `initial_window`)
/// or the label of a named axis's value (`handshake`, `cc`, `pacing`,
/// `scheduler`, `certificate`). Serialized as a JSON number or as the
/// label. The labels of the named axes are all different, so a label alone
/// says its axis; [`AxisValue::axis`] says which, and the record reader
/// checks that it is the one the key names.
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
        }
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
        }
    }
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
            },
        ];
        for c in &choices {
            for axis in NamedAxis::ALL {
                let v = AxisValue::of(axis, c);
                let json = serde_json::to_string(&v).unwrap();
                assert_eq!(json, format!("\"{}\"", axis.label_in(c)));
                let back: AxisValue = serde_json::from_str(&json).unwrap();
                assert_eq!(back, v);
                assert_eq!(back.axis(), Some(axis));
            }
        }
    }
}
