//! Runs one client workload against `servers::run_simulated` in a netsim
//! simulation, for the tests in this directory.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::time::Duration;

use clients::{ClientConfig, RunRecord};
use netsim::tls::{Identity, ServerResumption};
use netsim::PacketLog;
use scenarios::{PageSpec, PageStructure, Protocol, Scheduler};

use netsim::{Host, LossModel, NetworkConfig, SimConfig, Simulation};
use scenarios::Workload;
use servers::{ContentServer, Fault};

/// The lab's default path: 50 ms RTT, 10 Mbit/s.
pub const RTT: Duration = Duration::from_millis(50);
/// The default path's bottleneck rate, bits per second.
pub const RATE: u64 = 10_000_000;

/// What one simulated run gave.
pub struct Outcome {
    /// The client's record.
    pub record: RunRecord,
    /// Simulated time (since the simulation started) at which the client's
    /// run started (after its warm-up, if it had one): add it to a record's
    /// times to compare them with the packet log.
    pub run_started: Duration,
    /// Every packet of the run.
    pub packet_log: PacketLog,
}

/// The default page loaded flat ([`PageStructure::Flat`]: the HTML, then
/// every subresource at once, all of one origin), the page these tests
/// were written for. The browser page (two origins, objects requested as
/// they are found) is tested end to end in `bench/tests/browser_page.rs`.
pub fn flat_page() -> Workload {
    Workload::Page(PageSpec {
        structure: PageStructure::Flat,
        ..PageSpec::default()
    })
}

/// The default network with Bernoulli loss `loss` (0 for none).
pub fn network(loss: f64) -> NetworkConfig {
    let model = if loss > 0.0 {
        LossModel::Bernoulli { rate: loss }
    } else {
        LossModel::None
    };
    NetworkConfig::symmetric(RTT, RATE, model)
}

/// How the simulated server is set up.
#[derive(Clone, Debug)]
pub struct ServerSetup {
    /// A deliberate fault in served bodies. Default: none.
    pub fault: Fault,
    /// Whether the server issues session tickets and accepts early data.
    /// Default: off.
    pub resumption: ServerResumption,
    /// The TLS identity the server presents (and the client trusts the root
    /// of): the run's `SimConfig::certificate`. Default: minimal.
    pub certificate: &'static Identity,
    /// The order the server sends responses in. Default: round-robin.
    pub scheduler: Scheduler,
}

impl Default for ServerSetup {
    fn default() -> ServerSetup {
        ServerSetup {
            fault: Fault::default(),
            resumption: ServerResumption::default(),
            certificate: Identity::minimal(),
            scheduler: Scheduler::default(),
        }
    }
}

impl ServerSetup {
    /// The lab's server with `fault` injected.
    pub fn with_fault(fault: Fault) -> ServerSetup {
        ServerSetup {
            fault,
            ..ServerSetup::default()
        }
    }

    /// The lab's server presenting `certificate`.
    pub fn presenting(certificate: &'static Identity) -> ServerSetup {
        ServerSetup {
            certificate,
            ..ServerSetup::default()
        }
    }

    /// The lab's server with TLS sessions handled as `resumption` says.
    pub fn with_resumption(resumption: ServerResumption) -> ServerSetup {
        ServerSetup {
            resumption,
            ..ServerSetup::default()
        }
    }
}

async fn serve(host: Host, setup: ServerSetup) -> Result<(), String> {
    let server = ContentServer::new(host.seed()).with_fault(setup.fault);
    servers::run_simulated_with(host, server, setup.resumption, setup.scheduler)
        .await
        .map_err(|e| e.to_string())
}

/// Run `workload` over `protocol` on `network` with run seed `seed`,
/// against the content server set up as `setup` says.
pub fn run(
    protocol: Protocol,
    network: NetworkConfig,
    seed: u64,
    workload: &Workload,
    setup: ServerSetup,
) -> Outcome {
    run_configured(protocol, network, seed, workload, setup, |c| c)
}

/// [`run`] with the client's config (the simulation's default for
/// `protocol`) changed by `adjust`.
pub fn run_configured(
    protocol: Protocol,
    network: NetworkConfig,
    seed: u64,
    workload: &Workload,
    setup: ServerSetup,
    adjust: impl FnOnce(ClientConfig) -> ClientConfig + 'static,
) -> Outcome {
    let config = SimConfig {
        seed,
        network,
        certificate: setup.certificate,
        ..SimConfig::default()
    };
    let plan = workload.plan();
    let out = Simulation::new(config)
        .expect("valid simulation config")
        .run(
            move |host| serve(host, setup.clone()),
            move |host| async move {
                let config = adjust(ClientConfig::for_host(protocol, &host));
                let run_started = netsim::now();
                let record = clients::run(&host, &config, &plan).await;
                Ok::<_, String>((record, run_started))
            },
        );
    let (record, run_started) = out.outcome.expect("the client returns a record");
    let run_started = run_started + record.warmup.as_ref().map_or(Duration::ZERO, |w| w.offset);
    Outcome {
        record,
        run_started,
        packet_log: out.packet_log,
    }
}
