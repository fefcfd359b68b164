//! A run's sweep-axis values: [`Axes`], each an [`AxisValue`].

use std::collections::BTreeMap;
use std::fmt;

use scenarios::Handshake;
use serde::{Deserialize, Serialize};

/// A run's sweep-axis values, by axis name (`loss_percent`, `rtt_ms`,
/// `bandwidth_mbit`, `subresource_responses`, `handshake`).
pub type Axes = BTreeMap<String, AxisValue>;

/// The value of one sweep axis in a record: a number (`loss_percent`,
/// `rtt_ms`, `bandwidth_mbit`, `subresource_responses`) or a handshake
/// mode (the `handshake` axis, `scenarios::HANDSHAKE_AXIS`). Serialized as
/// a JSON number, or as the handshake's label.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AxisValue {
    /// A numeric axis's value.
    Number(f64),
    /// The handshake axis's value.
    Handshake(Handshake),
}

impl fmt::Display for AxisValue {
    /// A number in Rust's shortest round-trip form (as run keys write it:
    /// `2`, `0.5`), a handshake as its label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AxisValue::Number(v) => write!(f, "{v}"),
            AxisValue::Handshake(h) => f.write_str(h.label()),
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
}
