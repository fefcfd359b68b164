//! The boundary to the scenario schema (`scenarios::Scenario`,
//! `scenarios::RunSpec`): the conversions from a run's data to the
//! simulation's and the server's types, and the few scenario edits the
//! command line makes.

use netsim::tls::ServerResumption;
use netsim::NetworkConfig;
use netsim::TcpImplementation;
use records::{Axes, AxisValue};
use scenarios::{Certificate, Handshake, RunSpec, Scenario, HANDSHAKE_AXIS};

/// The sweep-axis values of `spec`: its numeric axes, and its handshake if
/// that is an axis of its scenario.
pub fn axes(spec: &RunSpec) -> Axes {
    let mut axes: Axes = spec
        .axes
        .iter()
        .map(|(k, &v)| (k.clone(), AxisValue::Number(v)))
        .collect();
    if spec.handshake_is_axis {
        axes.insert(
            HANDSHAKE_AXIS.to_owned(),
            AxisValue::Handshake(spec.handshake),
        );
    }
    axes
}

/// What the server of a run with handshake `h` does with TLS sessions:
/// nothing for full handshakes (the lab's default server, as in every
/// other run), tickets and early data when the run resumes.
pub fn server_resumption(h: Handshake) -> ServerResumption {
    match h {
        Handshake::Full => ServerResumption::Off,
        Handshake::Resume | Handshake::EarlyData => ServerResumption::On,
    }
}

/// The TLS identity of a run with certificate `c`, as the simulation takes it
/// (`SimConfig::certificate`, which the lab's server presents and whose root
/// its client trusts).
pub fn certificate(c: Certificate) -> netsim::tls::Certificate {
    match c {
        Certificate::Minimal => netsim::tls::Certificate::Minimal,
        Certificate::Realistic => netsim::tls::Certificate::Realistic,
    }
}

/// The network of `spec`, as the simulation takes it; the error names the
/// field.
pub fn network(spec: &RunSpec) -> Result<NetworkConfig, netsim::ConfigError> {
    crate::network::network_config(&spec.network)
}

/// The TCP implementation of `spec`.
pub fn tcp(spec: &RunSpec) -> TcpImplementation {
    spec.tcp
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_certificate_maps_to_netsim_s_of_the_same_label() {
        for c in Certificate::ALL {
            assert_eq!(certificate(c).label(), c.label());
        }
        assert_eq!(
            certificate(Certificate::default()),
            netsim::tls::Certificate::default()
        );
    }
}
