//! Kernel runs: one run of a scenario on the machine's own kernel, through
//! the real-time emulator of the simulation's link model (the `emulator`
//! crate), recorded in the same [`RunResult`] as a simulated run, with
//! `mode = kernel`.
//!
//! Each run gets fresh namespaces (so no TCP state survives from one run
//! to the next), a `servers::serve_real_with` in the server's namespace and
//! the lab's client (`clients::run_real`) in the client's, on real sockets:
//! the kernel's TCP for HTTP/1.1 and HTTP/2, quinn on real UDP for HTTP/3.
//! QUIC's packet size is the simulation's, fixed (no path-MTU discovery);
//! every TCP socket is set to the chosen congestion control.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use clients::{ClientConfig, RealTarget};
use emulator::{Emulator, EmulatorConfig, LATENESS_BOUND};
use netsim::quic::QuicCongestion;
use netsim::{Congestion, Pacing};
use netsim::{
    FlowControl, NetworkConfig, RealSockets, Settings, SimConfig, TransportSettings, SERVER_PORT,
};
use records::{KernelRun, Mode, Outcome, RunResult};
use scenarios::{Certificate, Handshake, RunSpec, Scheduler};
use servers::{ContentServer, Protocols};

use crate::runner::{panic_message, simulation_summary, unfinished};
use crate::spec;

/// How kernel runs are set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelOptions {
    /// The namespaces' prefix (see `emulator::EmulatorConfig::prefix`).
    pub prefix: String,
}

impl Default for KernelOptions {
    /// The lab's default prefix.
    fn default() -> Self {
        KernelOptions {
            prefix: emulator::default_prefix(),
        }
    }
}

/// The Linux name of the congestion control a run with `cc` gets on the
/// kernel (`TCP_CONGESTION` on every socket and the namespaces' default):
/// `cubic`, `reno` (Linux's Reno is NewReno) or `bbr` (mainline BBR v1).
/// The lab's `cubic-rfc9438` has no kernel counterpart; it gets Linux's
/// `cubic`.
pub fn kernel_congestion(cc: Congestion) -> &'static str {
    match cc {
        Congestion::Cubic | Congestion::CubicRfc9438 => "cubic",
        Congestion::Reno => "reno",
        Congestion::Bbr => "bbr",
    }
}

/// The run key of `spec`'s kernel run: `kernel/CC/` (its
/// [`kernel_congestion`]) then the simulated run's key, so that both modes,
/// and kernel runs with different congestion controls, live in one results
/// file apart.
pub fn kernel_key(spec: &RunSpec) -> String {
    format!(
        "{KERNEL_KEY_PREFIX}{}/{}",
        kernel_congestion(spec.choices.cc),
        spec.key()
    )
}

/// What every kernel run key starts with.
pub const KERNEL_KEY_PREFIX: &str = "kernel/";

/// Why a kernel run could not be carried out at all: the machine, the
/// options or the scenario, not the run. Nothing is recorded; fix the
/// cause and run again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// Check, before anything runs, that `spec` can run on the kernel with
/// `options`: the namespace prefix, the congestion control, TCP without
/// pacing (unless BBR paces), the kernel's own initial window, the lab's
/// default server choices, a full handshake and a network without a path
/// change.
pub fn check(spec: &RunSpec, options: &KernelOptions) -> Result<(), SetupError> {
    let fail = |e: &dyn std::fmt::Display| SetupError(e.to_string());
    emulator::check_name(&format!("{}-client", options.prefix)).map_err(|e| fail(&e))?;
    emulator::check_congestion(kernel_congestion(spec.choices.cc)).map_err(|e| fail(&e))?;
    if spec.choices.pacing == Pacing::On {
        return Err(SetupError(format!(
            "run {}: pacing = on is Linux with the fq qdisc, which this machine's kernel \
             lacks; kernel runs pace only with cc = bbr (its internal pacing)",
            spec.key()
        )));
    }
    if spec.initial_window.is_some() {
        return Err(SetupError(format!(
            "run {}: kernel runs keep the kernel's initial window (10 segments); leave \
             initial_window unset",
            spec.key()
        )));
    }
    if spec.choices.scheduler != Scheduler::default()
        || spec.choices.certificate != Certificate::default()
    {
        return Err(SetupError(format!(
            "run {}: kernel runs use the lab's default server (scheduler = {}, certificate = \
             {}) so far",
            spec.key(),
            Scheduler::default(),
            Certificate::default()
        )));
    }
    if spec.choices.h3_discovery != scenarios::H3Discovery::Known {
        return Err(SetupError(format!(
            "run {}: kernel runs reach HTTP/3 directly (h3_discovery = known) so far; \
             h3_discovery = {} needs the simulation",
            spec.key(),
            spec.choices.h3_discovery
        )));
    }
    if let Some(page) = spec.workload.plan().page {
        if page.origins.len() > 1 {
            return Err(SetupError(format!(
                "run {}: kernel runs serve one origin so far (the server on real sockets \
                 presents a certificate for {} only), and this page has {}: {}; calibrate \
                 with the flat page (--scenario page-flat) or a page graph of one origin",
                spec.key(),
                netsim::tls::SERVER_NAME,
                page.origins.len(),
                page.origins.join(", ")
            )));
        }
    }
    if spec.handshake() != Handshake::Full {
        return Err(SetupError(format!(
            "kernel runs do full handshakes only (the server on real sockets issues no \
             tickets); run {} has handshake {}: pin it with --handshake full",
            spec.key(),
            spec.handshake()
        )));
    }
    let network = spec::network(spec).map_err(|e| SetupError(format!("invalid network: {e}")))?;
    if network.path_change.is_some() {
        return Err(SetupError(format!(
            "run {}: the emulator does not emulate a path change (network.path_change)",
            spec.key()
        )));
    }
    Ok(())
}

/// Carry out `spec` on the kernel and record it. A failure, a timeout or a
/// panic of the run is recorded with its reason; `Err` when the run could
/// not be set up at all (see [`SetupError`]), or was cut short by Ctrl-C.
pub fn run_kernel(
    spec: &RunSpec,
    scenario_hash: &str,
    options: &KernelOptions,
) -> Result<RunResult, SetupError> {
    check(spec, options)?;
    let mut result = unfinished(spec, scenario_hash);
    result.mode = Mode::Kernel;
    result.run_key = kernel_key(spec);
    match catch_unwind(AssertUnwindSafe(|| kernel(spec, options, &mut result))) {
        Ok(Ok(())) => {}
        Ok(Err(KernelError::Setup(e))) => return Err(e),
        Ok(Err(KernelError::Run(reason))) => {
            result.outcome = Outcome::Failed;
            result.reason = Some(reason);
        }
        Err(panic) => {
            result.outcome = Outcome::Failed;
            result.reason = Some(format!("the run panicked: {}", panic_message(&*panic)));
        }
    }
    Ok(result)
}

/// How [`kernel`] failed.
enum KernelError {
    /// Before the run started: not recorded.
    Setup(SetupError),
    /// The run itself: recorded.
    Run(String),
}

impl From<String> for KernelError {
    fn from(reason: String) -> Self {
        KernelError::Run(reason)
    }
}

/// A current-thread tokio runtime with I/O and time.
fn runtime() -> Result<tokio::runtime::Runtime, emulator::EmulatorError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| emulator::EmulatorError::Io {
            what: "starting a tokio runtime".into(),
            error: source,
        })
}

/// The simulation's buffers and flow-control windows for `network`, and
/// real sockets like its own: QUIC at the simulation's fixed packet size,
/// TCP with `congestion`.
pub fn like_the_simulation(
    network: &NetworkConfig,
    congestion: &str,
) -> (FlowControl, RealSockets) {
    let sim = SimConfig {
        network: network.clone(),
        ..SimConfig::default()
    };
    let flow = FlowControl::for_buffer(sim.effective_tcp().buffer_bytes);
    let sockets = RealSockets {
        quic_udp_payload: Some(netsim::quic::udp_payload(network.smallest_mtu())),
        tcp_congestion: Some(congestion.to_owned()),
        ..RealSockets::default()
    };
    (flow, sockets)
}

/// Resolves once Ctrl-C or SIGTERM has arrived (see
/// `emulator::catch_interrupts`).
async fn until_interrupted() {
    while !emulator::interrupted() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The lab's server (`servers::serve_real_with`, every protocol) on a
/// thread in an emulator's server namespace, at the server's address and
/// `netsim::SERVER_PORT`, until [`LabServer::stop`].
#[derive(Debug)]
pub struct LabServer {
    /// Where it listens, TCP and UDP.
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<Result<Result<(), String>, emulator::EmulatorError>>,
}

impl LabServer {
    /// Start serving content seed `content_seed` with `flow` and `sockets`.
    pub fn start(
        emu: &Emulator,
        content_seed: u64,
        flow: FlowControl,
        sockets: RealSockets,
    ) -> Result<LabServer, String> {
        let addr = SocketAddr::from((emu.server_addr(), SERVER_PORT));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = emu
            .server()
            .spawn(move || {
                emulator::run_at_realtime_priority();
                Ok(runtime()?.block_on(async move {
                    // No limits: the server the simulation runs, which has
                    // none, on a private emulated link.
                    let serve = servers::serve_real_with(
                        addr,
                        Protocols::ALL,
                        ContentServer::new(content_seed),
                        flow,
                        &sockets,
                        servers::Limits::unlimited(),
                    );
                    tokio::select! {
                        served = serve => served.map_err(|e| format!("the server stopped: {e:#}")),
                        _ = stopped => Ok(()),
                    }
                }))
            })
            .map_err(|e| e.to_string())?;
        // The server binds within microseconds; give it a margin.
        std::thread::sleep(Duration::from_millis(100));
        if thread.is_finished() {
            return match thread.join() {
                Ok(Ok(Err(e))) => Err(e),
                Ok(Err(e)) => Err(e.to_string()),
                _ => Err("the server stopped at once".into()),
            };
        }
        Ok(LabServer { addr, stop, thread })
    }

    /// Stop it; the error says why it had stopped by itself, if it had.
    pub fn stop(self) -> Result<(), String> {
        let _ = self.stop.send(());
        match self.thread.join() {
            Ok(Ok(served)) => served,
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("the server thread panicked".into()),
        }
    }
}

fn kernel(
    spec: &RunSpec,
    options: &KernelOptions,
    result: &mut RunResult,
) -> Result<(), KernelError> {
    let setup = |e: String| KernelError::Setup(SetupError(e));
    let network = spec::network(spec).map_err(|e| setup(format!("invalid network: {e}")))?;
    let congestion = kernel_congestion(spec.choices.cc);
    let (flow, mut sockets) = like_the_simulation(&network, congestion);
    // QUIC runs the simulation's controller (quinn's, or the lab's BBR).
    let quic_congestion = QuicCongestion {
        algorithm: spec.choices.cc,
        initial_window: None,
        seed: spec.seed,
    };
    sockets.quic_congestion = quic_congestion;
    let udp_payload = sockets
        .quic_udp_payload
        .unwrap_or(netsim::quic::QUIC_UDP_PAYLOAD);
    let emu = Emulator::start(EmulatorConfig {
        network,
        seed: spec.seed,
        prefix: options.prefix.clone(),
        congestion: Some(congestion.to_owned()),
    })
    .map_err(|e| setup(format!("the emulator did not start: {e}")))?;
    let content_seed = spec.seed;
    let server = LabServer::start(&emu, content_seed, flow, sockets.clone())
        .map_err(|e| setup(format!("the lab's server did not start: {e}")))?;
    let addr = server.addr;

    let target = RealTarget::new(addr).with_sockets(sockets);
    let config = ClientConfig::new(spec.protocol, content_seed, flow)
        .with_time_limit(spec.time_limit)
        .with_handshake(Handshake::Full)
        .with_coalescing(spec.choices.coalescing.is_on());
    let plan = spec.workload.plan();
    let clock = emu.clock();
    let (record, client_started) = emu
        .client()
        .run(move || {
            emulator::run_at_realtime_priority();
            let rt = runtime()?;
            // The record's times count from run_real's own start, within
            // microseconds of this.
            let started = clock.elapsed();
            Ok((
                rt.block_on(async {
                    tokio::select! {
                        record = clients::run_real(&target, &config, &plan) => Some(record),
                        () = until_interrupted() => None,
                    }
                }),
                started,
            ))
        })
        .map_err(|e| e.to_string())?;
    let elapsed = emu.now();
    let served = server.stop();
    let kernel_settings = emu.kernel().clone();
    let forwarded = emu
        .stop()
        .map_err(|e| format!("the emulator failed: {e}"))?;
    let Some(record) = record else {
        return Err(setup("interrupted".into()));
    };
    served?;

    let took = elapsed.saturating_sub(client_started);
    let (outcome, reason) = if record.succeeded() {
        (Outcome::Ok, None)
    } else if took >= spec.time_limit {
        (Outcome::Timeout, record.failure.clone())
    } else {
        (Outcome::Failed, record.failure.clone())
    };
    let lateness = forwarded.lateness();
    let mut tcp_parameters = vec![("congestion control".to_owned(), congestion.to_owned())];
    tcp_parameters.push(("kernel".to_owned(), kernel_settings.release.clone()));
    tcp_parameters.extend(kernel_settings.sysctls.iter().cloned());
    result.transport = Some(TransportSettings {
        tcp: Settings::new("kernel", tcp_parameters),
        quic: flow
            .quic()
            .with_congestion(quic_congestion)
            .settings(udp_payload),
        tls: netsim::tls::settings(),
        http: servers::http_settings(spec.choices.scheduler, false, spec.choices.coalescing),
    });
    result.outcome = outcome;
    result.reason = reason;
    result.measurements = Some(record);
    result.simulation = Some(simulation_summary(
        &forwarded.log,
        client_started,
        Duration::ZERO,
        elapsed,
    ));
    result.kernel = Some(KernelRun {
        release: kernel_settings.release,
        sysctls: kernel_settings
            .sysctls
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        deliveries: lateness.count as u64,
        late_p50: lateness.p50,
        late_p99: lateness.p99,
        late_max: lateness.max,
        late_bound: LATENESS_BOUND,
        late_exceeded: lateness.p99 > LATENESS_BOUND,
        forwarder_cpu: forwarded.cpu,
        realtime_priority: forwarded.realtime,
        unmodelled_losses: Some(forwarded.unmodelled_losses()),
        foreign_packets: Some(forwarded.foreign),
    });
    Ok(())
}
