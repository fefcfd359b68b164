//! The transport settings a run used, as text for a report's methodology:
//! [`TransportSettings`] (TCP, QUIC, TLS, HTTP), each a [`Settings`] list of
//! `(key, value)` pairs whose values carry their units (`"10 segments"`,
//! `"200 ms"`, `"4194304 bytes"`).
//!
//! Every value is read from the configuration object the run used (the TCP
//! stack's config and constants, the QUIC server's [`QuicConfig`], the TLS
//! config [`crate::tls::server_config`] builds), never restated beside it,
//! so a description cannot drift from what ran. [`Simulation::run`] fills
//! `RunOutput::transport`.
//!
//! [`QuicConfig`]: crate::quic::QuicConfig
//! [`Simulation::run`]: crate::Simulation::run

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tcp::{Parameter, Value};

/// One implementation's name and key settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The implementation: `"linux"` or `"smoltcp"` for TCP, `"quinn"` for
    /// QUIC, `"rustls"` for TLS. Empty when nothing of this kind ran.
    pub name: String,
    /// Key settings in a fixed order, as `(key, value)` text; values carry
    /// their units.
    pub parameters: Vec<(String, String)>,
}

impl Settings {
    /// `name` with `parameters`.
    pub fn new(name: &str, parameters: Vec<(String, String)>) -> Settings {
        Settings {
            name: name.to_owned(),
            parameters,
        }
    }

    /// `name` with a TCP stack's parameters, each value as text with its
    /// unit (`"1448 bytes"`, `"200 ms"`, `"on"`, ...).
    pub fn of_tcp(name: &str, parameters: Vec<Parameter>) -> Settings {
        Settings::new(
            name,
            parameters
                .into_iter()
                .map(|p| (p.key, value_text(&p.value)))
                .collect(),
        )
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The transport settings of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportSettings {
    /// The TCP stack under HTTP/1.1 and HTTP/2 (the server's; both hosts run
    /// the same configuration).
    pub tcp: Settings,
    /// The QUIC transport under HTTP/3: the server endpoint's settings (the
    /// lab's clients use the same numbers); empty if no QUIC endpoint was
    /// made.
    pub quic: Settings,
    /// TLS, the same for TCP and QUIC.
    pub tls: Settings,
    /// HTTP: how the server orders responses (its scheduler), whether the
    /// client sends RFC 9218 priorities, and `coalescing = off` when the
    /// client gives each origin of a page its own HTTP/2 or HTTP/3
    /// connection (absent: it coalesces). The simulation leaves it empty
    /// (it does not know the HTTP layer); the lab's runner fills it from
    /// the server it ran (`servers::http_settings`). Empty in records
    /// written before it was recorded.
    #[serde(default)]
    pub http: Settings,
}

/// `(key, value)` pairs from string slices and owned values.
pub(crate) fn pairs<const N: usize>(items: [(&str, String); N]) -> Vec<(String, String)> {
    items.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// A duration as text with its unit: whole seconds as `"1 s"`, whole
/// milliseconds as `"200 ms"`, anything finer as `"1500 µs"` or `"7 ns"`.
pub(crate) fn duration_text(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        "0 ms".to_owned()
    } else if ns.is_multiple_of(1_000_000_000) {
        format!("{} s", ns / 1_000_000_000)
    } else if ns.is_multiple_of(1_000_000) {
        format!("{} ms", ns / 1_000_000)
    } else if ns.is_multiple_of(1_000) {
        format!("{} µs", ns / 1_000)
    } else {
        format!("{ns} ns")
    }
}

/// A TCP parameter's value as text with its unit: `"1448 bytes"`,
/// `"200 ms"`, `"on"`, `"10 segments (14480 bytes)"`, `"shift 7"`, ...
pub(crate) fn value_text(value: &Value) -> String {
    match value {
        Value::Text(text) => text.clone(),
        Value::Bytes(n) => bytes_text(n),
        Value::Duration(d) => duration_text(*d),
        Value::Switch(on) => on_off(*on),
        Value::Count(n) => n.to_string(),
        Value::Number(x) => x.to_string(),
        Value::Segments(n) => format!("{n} segments"),
        Value::AtMostSegments(n) => format!("up to {n} segments"),
        Value::Window { segments, bytes } => {
            format!("{segments} segments ({})", bytes_text(bytes))
        }
        Value::Shift(n) => format!("shift {n}"),
        Value::Range(lo, hi) => format!("{lo}..{hi}"),
        Value::Optional(None) => on_off(false),
        Value::Optional(Some(v)) => value_text(v),
    }
}

/// A byte count as text: `"1448 bytes"`.
pub(crate) fn bytes_text(n: impl std::fmt::Display) -> String {
    format!("{n} bytes")
}

/// `"on"` or `"off"`.
pub(crate) fn on_off(on: bool) -> String {
    if on { "on" } else { "off" }.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_carry_their_unit() {
        assert_eq!(duration_text(Duration::from_secs(1)), "1 s");
        assert_eq!(duration_text(Duration::from_secs(120)), "120 s");
        assert_eq!(duration_text(Duration::from_millis(200)), "200 ms");
        assert_eq!(duration_text(Duration::from_millis(1500)), "1500 ms");
        assert_eq!(duration_text(Duration::from_micros(250)), "250 µs");
        assert_eq!(duration_text(Duration::from_nanos(7)), "7 ns");
        assert_eq!(duration_text(Duration::ZERO), "0 ms");
    }

    #[test]
    fn a_setting_is_found_by_key() {
        let s = Settings::new("x", pairs([("a", "1 s".into()), ("b", on_off(true))]));
        assert_eq!(s.get("b"), Some("on"));
        assert_eq!(s.get("c"), None);
        assert_eq!(bytes_text(1448), "1448 bytes");
    }
}
