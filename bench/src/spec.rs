//! The boundary to the scenario schema (`scenarios::Scenario`,
//! `scenarios::RunSpec`): the conversions from a run's data to the
//! simulation's and the server's types, and the few scenario edits the
//! command line makes.

use netsim::quic::QuicCongestion;
use netsim::tls::ServerResumption;
use std::time::Duration;

use netsim::{NetworkConfig, SimConfig};
use records::{Axes, AxisValue};
use scenarios::{Certificate, Handshake, RunSpec, Scenario, Scheduler, StartOffset};

/// The sweep-axis values of `spec`: its numeric axes, and the value of
/// each named axis its scenario sweeps.
pub fn axes(spec: &RunSpec) -> Axes {
    let mut axes: Axes = spec
        .axes
        .iter()
        .map(|(k, &v)| (k.clone(), AxisValue::Number(v)))
        .collect();
    for &axis in &spec.named_axes {
        axes.insert(axis.name().to_owned(), AxisValue::of(axis, &spec.choices));
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

/// Whether the client of a run whose server schedules with `scheduler`
/// sends Chrome's RFC 9218 `priority` header on each HTTP/2 and HTTP/3
/// request: only for `priorities`, the one scheduler that reads it.
/// Round-robin and sequential servers ignore the header, so leaving it out
/// there changes no order, and keeps the request bytes of the runs from
/// before the scheduler was a choice.
pub fn priority_headers(scheduler: Scheduler) -> bool {
    scheduler == Scheduler::Priorities
}

/// The TLS identity of a run with certificate `c`, as the simulation takes it
/// (`SimConfig::certificate`, which the lab's server presents and whose root
/// its client trusts).
pub fn certificate(c: Certificate) -> &'static netsim::tls::Identity {
    match c {
        Certificate::Minimal => netsim::tls::Identity::minimal(),
        Certificate::Realistic => netsim::tls::Identity::realistic(),
    }
}

/// The network of `spec`, as the simulation takes it; the error names the
/// field.
pub fn network(spec: &RunSpec) -> Result<NetworkConfig, netsim::ConfigError> {
    crate::network::network_config(&spec.network)
}

/// Set what `spec` chooses for its transports in `config`: the TCP
/// implementation, congestion control (TCP and QUIC), TCP pacing, the
/// initial window (TCP in segments; QUIC in bytes of the same segments,
/// see `netsim::quic::QuicCongestion`) and the certificate chain. A run
/// that chooses nothing keeps every default.
pub fn apply_transport(spec: &RunSpec, config: &mut SimConfig) {
    config.tcp.implementation = spec.tcp;
    config.tcp.congestion = spec.choices.cc;
    config.tcp.pacing = spec.choices.pacing;
    if let Some(iw) = spec.initial_window {
        config.tcp.initial_window = iw;
    }
    config.quic = QuicCongestion {
        algorithm: spec.choices.cc,
        initial_window: spec.initial_window,
        ..QuicCongestion::default()
    };
    config.certificate = identity(spec);
}

/// How long after the server `spec`'s client starts on `network` (the
/// run's network, built from `spec`): per seed, or not at all (see
/// `scenarios::StartOffset`).
pub fn client_start(spec: &RunSpec, network: &NetworkConfig) -> Duration {
    match spec.start_offset {
        StartOffset::PerSeed => netsim::seeded_client_start(spec.seed, network),
        StartOffset::None => Duration::ZERO,
    }
}

/// The TLS identity of `spec`'s server: its certificate choice, issued also
/// for every origin of its page (`Identity::covering`). A choice that cannot
/// cover them (the realistic chain, which scenario validation refuses with a
/// page of several origins) keeps its own names, and the run's TLS
/// handshakes to the other origins then fail, naming the name.
pub fn identity(spec: &RunSpec) -> &'static netsim::tls::Identity {
    let base = certificate(spec.choices.certificate);
    match spec.workload.plan().page {
        Some(page) => base.covering(&page.origins).unwrap_or(base),
        None => base,
    }
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
    fn each_certificate_maps_to_netsim_s_identity_of_the_same_name() {
        for c in Certificate::ALL {
            assert_eq!(certificate(c).name, c.label());
        }
        assert_eq!(
            certificate(Certificate::default()),
            netsim::SimConfig::default().certificate
        );
    }
}
