//! A stack's key settings as data: [`Parameter`]s, each a key and a typed
//! [`Value`]. The stack never formats report text; its caller (netsim's
//! transport settings) turns each value into text with its unit.

use std::time::Duration;

/// One key setting of a TCP implementation, read from its configuration and
/// constants.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// The setting's name, e.g. `"min_rto"` or `"cubic.beta"`.
    pub key: String,
    /// Its value.
    pub value: Value,
}

impl Parameter {
    /// `key` = `value`.
    pub fn new(key: impl Into<String>, value: Value) -> Parameter {
        Parameter {
            key: key.into(),
            value,
        }
    }
}

/// The value of a [`Parameter`], with its unit in its kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A name or a short description, shown as is (`"cubic"`).
    Text(String),
    /// A size in bytes.
    Bytes(u64),
    /// A time.
    Duration(Duration),
    /// A feature switched on or off.
    Switch(bool),
    /// A plain count (`2` retries).
    Count(u64),
    /// A real number (`0.7`).
    Number(f64),
    /// A number of segments.
    Segments(u64),
    /// At most this many segments.
    AtMostSegments(u64),
    /// A window: this many segments, which is this many bytes.
    Window {
        /// Segments.
        segments: u64,
        /// The same in bytes.
        bytes: u64,
    },
    /// A shift count (window scaling).
    Shift(u8),
    /// An inclusive range of whole numbers.
    Range(u64, u64),
    /// The stack does not have this feature (`None`) or has it with this
    /// value.
    Optional(Option<Box<Value>>),
}
