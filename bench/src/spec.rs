//! The boundary to the scenario schema (`scenarios::Scenario`,
//! `scenarios::RunSpec`): the conversions from a run's data to the
//! client's and the simulation's types, and the few scenario edits the
//! command line makes.

use std::collections::BTreeMap;

use netsim::tcp::TcpImplementation;
use netsim::NetworkConfig;
use scenarios::{ProtocolName, RunSpec, Scenario};

/// A run's sweep-axis values, by axis name (`loss_percent`, `rtt_ms`,
/// `bandwidth_mbit`).
pub type Axes = BTreeMap<String, f64>;

/// The client protocol a scenario names.
pub fn protocol(p: ProtocolName) -> clients::Protocol {
    match p {
        ProtocolName::H1 => clients::Protocol::H1,
        ProtocolName::H2 => clients::Protocol::H2,
        ProtocolName::H3 => clients::Protocol::H3,
    }
}

/// The scenario spelling of a client protocol.
pub fn protocol_name(p: clients::Protocol) -> ProtocolName {
    match p {
        clients::Protocol::H1 => ProtocolName::H1,
        clients::Protocol::H2 => ProtocolName::H2,
        clients::Protocol::H3 => ProtocolName::H3,
    }
}

/// The network of `spec`, as the simulation takes it; the error names the
/// field.
pub fn network(spec: &RunSpec) -> Result<NetworkConfig, netsim::ConfigError> {
    NetworkConfig::from_resolved(&spec.network)
}

/// The TCP implementation of `spec`.
pub fn tcp(spec: &RunSpec) -> TcpImplementation {
    spec.tcp.into()
}

/// Cap `scenario`'s per-run simulated-time limit at `limit_s` seconds.
/// The limit is part of the scenario's content hash, so runs with the cap
/// never pass for runs without it.
pub fn cap_time_limit(scenario: &mut Scenario, limit_s: f64) {
    scenario.time_limit_s = scenario.time_limit_s.min(limit_s);
}

/// `scenario`, resolved, as TOML: what a results directory's
/// `scenario.toml` holds. Loading it back gives the same content hash.
pub fn to_toml(scenario: &Scenario) -> anyhow::Result<String> {
    use anyhow::Context as _;
    let body = toml::to_string_pretty(scenario)
        .with_context(|| format!("writing scenario {} as TOML", scenario.name))?;
    Ok(format!(
        "# The scenario these results came from, as resolved (overrides applied).\n\
         # content hash: {}\n\n{body}",
        scenario.content_hash()
    ))
}
