//! One run: a [`RunSpec`] carried out in the simulation on the current
//! thread, and its [`RunResult`].
//!
//! ```text
//! RunSpec ──► SimConfig (seed, limit + grace, network, tcp)
//!         ──► Simulation::run(servers::run_simulated_with, clients::run) ──► RunResult
//! ```
//! [`RunResult`] is the `records` crate's; the parts of it made from the
//! simulation's own values are made here ([`server_connection`],
//! [`simulation_summary`]).
//! The client gets the run's time limit and handshake and records a
//! timeout when the limit passes; the server resumes TLS sessions exactly
//! when the run's handshake needs it (`spec::server_resumption`); the simulation's own limit is [`SIMULATION_GRACE`] later, a
//! backstop so that a stuck client still leaves a record. Nothing here
//! reads the wall clock, so a run's result depends only on its spec and the
//! lab's build.

use std::any::Any;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use clients::{ClientConfig, RunRecord};
use netsim::AcceptedConnection;
use netsim::Captures;
use netsim::PacketLog;
use netsim::QlogTrace;
pub use netsim::Ticks;
use netsim::{
    CaptureConfig, DropReason, Fate, RunError, SimConfig, Simulation, StopFlag, TransportSettings,
};
use records::{Mode, Outcome, RunResult, ServerConnection, SimulationSummary, SCHEMA};
use scenarios::{H3Discovery, Protocol, RunSpec};
use servers::ContentServer;

use crate::{lab, spec};

/// Simulated time the simulation allows past the run's time limit before
/// it ends the run itself: 5 s. The client gives up at the limit, so a run
/// reaches this only if the client is stuck.
pub const SIMULATION_GRACE: Duration = Duration::from_secs(5);

/// A run's result and what it captured.
#[derive(Debug)]
pub struct RunArtifacts {
    /// The run's record.
    pub result: RunResult,
    /// Client-side and server-side pcaps, if asked for and the run got far
    /// enough to have them.
    pub captures: Option<Captures>,
    /// The TLS key log (NSS format), if asked for.
    pub key_log: Option<String>,
    /// One qlog trace per QUIC connection (client side and server side),
    /// if asked for.
    pub qlogs: Option<Vec<QlogTrace>>,
    /// Every packet's fate (netsim's packet log), if the simulation ran.
    pub packet_log: Option<PacketLog>,
    /// How many ticks the simulation stepped and skipped, if it ran.
    pub ticks: Option<Ticks>,
}

/// The wall-clock guard's default: a run still going after 600 s of
/// wall-clock time is stopped (see [`run_limited`]). The lab's shipped
/// runs take well under a minute each on a 2-core machine.
pub const DEFAULT_WALL_LIMIT: Duration = Duration::from_secs(600);

/// Carry out `spec` in the simulation on this thread and record it. The
/// run belongs to the scenario whose content hash is `scenario_hash`.
///
/// Never panics and never loses the run: a failure, a timeout or a panic
/// inside the run is recorded as such, with its reason.
pub fn run(spec: &RunSpec, scenario_hash: &str) -> RunResult {
    run_captured(spec, scenario_hash, CaptureConfig::default()).result
}

/// [`run`], also capturing what `capture` asks for (pcaps, TLS key log,
/// qlog).
pub fn run_captured(spec: &RunSpec, scenario_hash: &str, capture: CaptureConfig) -> RunArtifacts {
    run_limited(spec, scenario_hash, capture, Some(DEFAULT_WALL_LIMIT))
}

/// [`run_captured`] with the wall-clock guard at `wall_limit` (`None`:
/// no guard). The guard is off the measured path: a watchdog thread
/// raises the simulation's stop flag once `wall_limit` of wall-clock time
/// has passed, and the simulation ends between two ticks. A run it stops
/// is recorded as failed, saying so and how far it got: unlike every
/// other outcome, that one depends on the machine's speed. A run that
/// finishes in time is untouched by it.
pub fn run_limited(
    spec: &RunSpec,
    scenario_hash: &str,
    capture: CaptureConfig,
    wall_limit: Option<Duration>,
) -> RunArtifacts {
    let stop = StopFlag::new();
    let (finished, watched) = std::sync::mpsc::channel::<()>();
    if let Some(limit) = wall_limit {
        let flag = stop.clone();
        // If the thread cannot start, the run goes unguarded.
        let _ = std::thread::Builder::new()
            .name("wall-clock guard".into())
            .spawn(move || {
                if watched.recv_timeout(limit) == Err(RecvTimeoutError::Timeout) {
                    flag.raise();
                }
            });
    }
    let artifacts = run_stoppable(spec, scenario_hash, capture, stop, wall_limit);
    drop(finished);
    artifacts
}

fn run_stoppable(
    spec: &RunSpec,
    scenario_hash: &str,
    capture: CaptureConfig,
    stop: StopFlag,
    wall_limit: Option<Duration>,
) -> RunArtifacts {
    let mut result = unfinished(spec, scenario_hash);
    match guarded(|| simulate(spec, capture, stop, wall_limit)) {
        Ok(Ok(done)) => {
            result.outcome = done.outcome;
            result.reason = done.reason;
            result.measurements = done.measurements;
            let mut transport = done.transport;
            transport.http = servers::http_settings(
                spec.choices.scheduler,
                spec::priority_headers(spec.choices.scheduler),
                spec.choices.coalescing,
            );
            result.transport = Some(transport);
            result.server_connections = Some(done.server_connections);
            result.simulation = Some(done.simulation);
            RunArtifacts {
                result,
                captures: done.captures,
                key_log: done.key_log,
                qlogs: done.qlogs,
                packet_log: Some(done.packet_log),
                ticks: Some(done.ticks),
            }
        }
        Ok(Err(invalid)) => {
            result.reason = Some(invalid);
            RunArtifacts {
                result,
                captures: None,
                key_log: None,
                qlogs: None,
                packet_log: None,
                ticks: None,
            }
        }
        Err(panic) => {
            result.reason = Some(panic);
            RunArtifacts {
                result,
                captures: None,
                key_log: None,
                qlogs: None,
                packet_log: None,
                ticks: None,
            }
        }
    }
}

/// The record of `spec` before it ran: failed, with no reason or
/// measurements yet. Also what a sweep records for a run whose thread
/// died.
pub fn unfinished(spec: &RunSpec, scenario_hash: &str) -> RunResult {
    RunResult {
        schema: SCHEMA,
        scenario: spec.scenario.clone(),
        scenario_hash: scenario_hash.to_owned(),
        run_key: spec.key(),
        protocol: spec.protocol,
        seed: spec.seed,
        axes: spec::axes(spec),
        tcp: spec.tcp,
        handshake: spec.handshake(),
        mode: Mode::Sim,
        transport: None,
        network: spec.network.clone(),
        lab: lab::current(),
        outcome: Outcome::Failed,
        reason: None,
        measurements: None,
        server_connections: None,
        simulation: None,
        kernel: None,
    }
}

/// `f()`, or the message of its panic as `"the run panicked: ..."`.
///
/// The message is the first panic's on this thread while `f` ran, with
/// where it happened: a task of the simulation that panics is caught by
/// its runtime, which then panics with a message of its own ("a spawned
/// task panicked and the LocalSet is configured to shutdown on unhandled
/// panic"), and the record should say what went wrong, not that.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_panic_recorder();
    FIRST_PANIC.with(|p| *p.borrow_mut() = None);
    WATCHING.with(|w| w.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    WATCHING.with(|w| w.set(false));
    let first = FIRST_PANIC.with(|p| p.borrow_mut().take());
    result.map_err(|panic| {
        format!(
            "the run panicked: {}",
            first.unwrap_or_else(|| panic_message(&*panic))
        )
    })
}

thread_local! {
    /// Whether [`guarded`] is running on this thread.
    static WATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The first panic on this thread while [`guarded`] ran: its message
    /// and where.
    static FIRST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Chain a panic hook, once per process, that notes the first panic of a
/// [`guarded`] call on its thread, then does what the hook before it did
/// (print it).
fn install_panic_recorder() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if WATCHING.with(std::cell::Cell::get) {
                FIRST_PANIC.with(|p| {
                    let mut p = p.borrow_mut();
                    if p.is_none() {
                        let at = info.location().map_or_else(String::new, |l| {
                            format!(" (at {}:{})", source_path(l.file()), l.line())
                        });
                        *p = Some(format!("{}{at}", panic_message(info.payload())));
                    }
                });
            }
            previous(info);
        }));
    });
}

/// A panic's source file as the same on every machine: a dependency's
/// path from its crate's folder (`smoltcp-0.14.0/src/socket/tcp.rs`),
/// not from this machine's cargo registry.
fn source_path(file: &str) -> &str {
    if let Some((_, rest)) = file.split_once("/registry/src/") {
        // registry/src/<index>/<crate>-<version>/...
        return rest.split_once('/').map_or(rest, |(_, path)| path);
    }
    if let Some((_, rest)) = file.split_once("/git/checkouts/") {
        // git/checkouts/<repo>-<hash>/<commit>/...
        return rest.splitn(3, '/').nth(2).unwrap_or(rest);
    }
    file
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_owned()
    }
}

/// What a finished simulation gave.
struct Simulated {
    outcome: Outcome,
    reason: Option<String>,
    measurements: Option<RunRecord>,
    transport: TransportSettings,
    server_connections: Vec<ServerConnection>,
    simulation: SimulationSummary,
    captures: Option<Captures>,
    key_log: Option<String>,
    qlogs: Option<Vec<QlogTrace>>,
    packet_log: PacketLog,
    ticks: Ticks,
}

thread_local! {
    /// Whether runs on this thread step every tick ([`every_tick`]).
    static EVERY_TICK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` with every simulation it starts on this thread stepping every
/// tick, instead of skipping the ticks in which nothing can happen
/// (`netsim::SimConfig::every_tick`). The runs are the same to the byte
/// either way; this is how a test checks that.
pub fn every_tick<R>(f: impl FnOnce() -> R) -> R {
    let before = EVERY_TICK.with(|e| e.replace(true));
    let out = f();
    EVERY_TICK.with(|e| e.set(before));
    out
}

/// Whether `spec` can run: `Err` with the reason (naming the field) if
/// its simulation's configuration is invalid, for example a network whose
/// bandwidth-delay product needs larger TCP buffers than the chosen stack
/// can hold. Cheap: nothing runs. `bench` and `run` check every run with
/// it before the first one starts.
pub fn check(spec: &RunSpec) -> Result<(), String> {
    simulation(spec, CaptureConfig::default(), StopFlag::new()).map(|_| ())
}

/// The simulation `spec` describes, validated, ended early if `stop` is
/// raised; `Err` with the reason if its configuration is invalid.
fn simulation(
    spec: &RunSpec,
    capture: CaptureConfig,
    stop: StopFlag,
) -> Result<Simulation, String> {
    let mut config = SimConfig {
        seed: spec.seed,
        time_limit: spec.time_limit.saturating_add(SIMULATION_GRACE),
        network: spec::network(spec).map_err(|e| format!("invalid network: {e}"))?,
        capture,
        stop,
        every_tick: EVERY_TICK.with(std::cell::Cell::get),
        ..SimConfig::default()
    };
    spec::apply_transport(spec, &mut config);
    config.client_start = spec::client_start(spec, &config.network);
    Simulation::new(config).map_err(|e| format!("invalid simulation config: {e}"))
}

/// Run `spec`; `Err` with the reason if its configuration is invalid.
fn simulate(
    spec: &RunSpec,
    capture: CaptureConfig,
    stop: StopFlag,
    wall_limit: Option<Duration>,
) -> Result<Simulated, String> {
    let limit = spec.time_limit;
    let simulation = simulation(spec, capture, stop)?;
    let config = simulation.config();
    let client_lag = config.client_clock_lag();
    let start_offset = config.client_start;
    let smallest_mtu = config.network.smallest_mtu();
    let (protocol, handshake) = (spec.protocol, spec.handshake());
    let resumption = spec::server_resumption(spec.handshake());
    let scheduler = spec.choices.scheduler;
    let coalesce = spec.choices.coalescing.is_on();
    let (discovery, fallback) = (spec.choices.h3_discovery, spec.h3_fallback);
    // A server offering HTTP/3 to a client that has to learn of it says so.
    let alt_svc = protocol == Protocol::H3 && discovery == H3Discovery::AltSvc;
    let plan = spec.workload.plan();
    let output = simulation.run(
        move |host| {
            let server = ContentServer::new(host.seed()).with_alt_svc(alt_svc);
            servers::run_simulated_with(host, server, resumption, scheduler)
        },
        move |host| async move {
            let config = ClientConfig::for_host(protocol, &host)
                .with_time_limit(limit)
                .with_handshake(handshake)
                .with_priority_headers(spec::priority_headers(scheduler))
                .with_coalescing(coalesce)
                .with_h3_discovery(discovery, fallback);
            let started = netsim::now();
            let record = clients::run(&host, &config, &plan).await;
            Ok::<_, Infallible>((record, started, netsim::now().saturating_sub(started)))
        },
    );
    // The origin of the record's times, on the network's clock: the
    // client's start, or after a warm-up the start of the measured part.
    let client_started = match &output.outcome {
        Ok((record, started, _)) => {
            *started + client_lag + record.warmup.as_ref().map_or(Duration::ZERO, |w| w.offset)
        }
        Err(_) => Duration::ZERO,
    };
    let (outcome, reason, measurements) = match output.outcome {
        // Every object arrived, but a run is ok only with the figures an
        // ok run is compared on (`RunRecord::missing_figure`).
        Ok((record, _, _)) if record.succeeded() => match record.missing_figure() {
            Some(missing) => (
                Outcome::Failed,
                Some(format!("every object arrived, but the run has {missing}")),
                Some(record),
            ),
            None => (Outcome::Ok, None, Some(record)),
        },
        Ok((record, _, took)) => {
            let outcome = if took >= limit {
                Outcome::Timeout
            } else {
                Outcome::Failed
            };
            (outcome, record.failure.clone(), Some(record))
        }
        Err(e @ RunError::Timeout { .. }) => (Outcome::Timeout, Some(e.to_string()), None),
        Err(RunError::Stopped { at }) => (
            Outcome::Failed,
            Some(format!(
                "stopped by the wall-clock guard: {} s of wall-clock time passed and the run had reached {:.3} s of simulated time; \
                 this outcome depends on the machine's speed, not on the run (to run it again with a higher --wall-limit-s, use a fresh --out: a resumed sweep keeps this record; docs/netsim.md)",
                wall_limit.unwrap_or_default().as_secs_f64(),
                at.as_secs_f64()
            )),
            None,
        ),
        Err(e) => (Outcome::Failed, Some(e.to_string()), None),
    };
    // A failed run's reason also says what the network dropped that no
    // transport could get past.
    let notes: Vec<String> = [
        oversize_drops(&output.packet_log, smallest_mtu),
        blackout_drops(&output.packet_log),
    ]
    .into_iter()
    .flatten()
    .collect();
    let reason = match reason {
        Some(reason) if outcome != Outcome::Ok && !notes.is_empty() => {
            Some(format!("{reason}; {}", notes.join("; ")))
        }
        reason => reason,
    };
    Ok(Simulated {
        outcome,
        reason,
        measurements,
        transport: output.transport,
        server_connections: (0..)
            .zip(output.server_connections)
            .map(|(id, c)| server_connection(id, c))
            .collect(),
        simulation: simulation_summary(
            &output.packet_log,
            client_started,
            start_offset,
            output.elapsed,
        ),
        captures: output.captures,
        key_log: output.key_log,
        qlogs: output.qlogs,
        packet_log: output.packet_log,
        ticks: output.ticks,
    })
}

/// The record of the `id`-th connection the server accepted.
///
/// Its RTT samples are left out to keep records small: the server sends
/// the data, so its TCP connection takes a sample per ACK (about 500, 19 KB
/// of JSON, for the page at 2 % loss); `smoothed_rtt_ns` stays, and the
/// client's samples are in `measurements`. Arrivals stay: at the server
/// they are the few request segments.
pub fn server_connection(id: u32, accepted: AcceptedConnection) -> ServerConnection {
    let mut stats = accepted.stats;
    stats.rtt_samples.clear();
    ServerConnection {
        id,
        transport: accepted.transport,
        accepted: accepted.accepted_at,
        peer: accepted.peer.to_string(),
        stats,
    }
}

/// The summary of a run's packet log, for a client that started at
/// `client_started` (`start_offset` after the server) and a run that ended
/// at `elapsed`.
pub fn simulation_summary(
    log: &PacketLog,
    client_started: Duration,
    start_offset: Duration,
    elapsed: Duration,
) -> SimulationSummary {
    let summary = log.summary();
    let drops: BTreeMap<String, u64> = DropReason::ALL
        .iter()
        .map(|&reason| {
            (
                reason.label().to_owned(),
                summary.up.dropped(reason) + summary.down.dropped(reason),
            )
        })
        .collect();
    SimulationSummary {
        elapsed,
        client_started,
        start_offset,
        packet_log_digest: log.digest(),
        packets: summary.up.sent + summary.down.sent,
        delivered: summary.up.delivered + summary.down.delivered,
        drops,
    }
}

/// What the packet log says about packets too large for the path, if it
/// dropped any: a failed run's reason ends with it, so that an MTU too
/// small for what a transport sends is not a bare timeout.
fn oversize_drops(log: &PacketLog, smallest_mtu: u32) -> Option<String> {
    let oversize = log
        .records()
        .iter()
        .filter(|r| r.fate == Fate::Dropped(DropReason::Oversize));
    let (count, largest) =
        oversize.fold((0u64, 0u32), |(n, largest), r| (n + 1, largest.max(r.len)));
    let packets = if count == 1 { "packet" } else { "packets" };
    (count > 0).then(|| {
        format!(
            "the network dropped {count} {packets} as larger than the link MTU \
             (oversize; the largest was {largest} bytes, the smallest path MTU {smallest_mtu} bytes)"
        )
    })
}

/// A failed run's note on the packets its network's blackouts dropped (a
/// `blackout` event, perhaps of UDP only, as a network that blocks QUIC),
/// so that such a run's reason says why nothing got through.
fn blackout_drops(log: &PacketLog) -> Option<String> {
    let dropped: Vec<_> = log
        .records()
        .iter()
        .filter(|r| r.fate == Fate::Dropped(DropReason::Blackout))
        .collect();
    let udp = dropped
        .iter()
        .filter(|r| r.flow.proto == netsim::packet::IPPROTO_UDP)
        .count();
    let count = dropped.len();
    (count > 0).then(|| {
        format!(
            "the network's blackouts (network.events) dropped {count} packets, {udp} of them UDP"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(guarded(|| 7), Ok(7));
        let e = guarded(|| -> u32 { panic!("boom {}", 42) }).unwrap_err();
        assert!(
            e.starts_with("the run panicked: boom 42 (at bench/src/runner.rs:"),
            "{e}"
        );
        let e = guarded(|| -> u32 { std::panic::panic_any(3_u8) }).unwrap_err();
        assert!(
            e.starts_with("the run panicked: (a panic without a message) (at "),
            "{e}"
        );
    }

    /// A panic caught inside the run (as the simulation's runtime catches
    /// a task's) and followed by another: the record gives the first, the
    /// cause (issue #16 item 3: it gave the runtime's own message).
    #[test]
    fn a_panic_caught_inside_the_run_is_the_one_recorded() {
        let e = guarded(|| -> u32 {
            let _ = std::panic::catch_unwind(|| panic!("receiving buffer too large"));
            panic!("a spawned task panicked and the LocalSet is configured to shutdown on unhandled panic")
        })
        .unwrap_err();
        assert!(
            e.starts_with("the run panicked: receiving buffer too large (at "),
            "{e}"
        );
        // The next call starts afresh.
        let e = guarded(|| -> u32 { panic!("second") }).unwrap_err();
        assert!(e.starts_with("the run panicked: second (at "), "{e}");
    }

    #[test]
    fn a_dependency_s_source_path_is_the_same_on_every_machine() {
        assert_eq!(
            source_path("/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/smoltcp-0.14.0/src/socket/tcp.rs"),
            "smoltcp-0.14.0/src/socket/tcp.rs"
        );
        assert_eq!(source_path("netsim/src/sim.rs"), "netsim/src/sim.rs");
        assert_eq!(
            source_path("/home/u/.cargo/git/checkouts/quinn-0123/abcdef0/quinn-proto/src/lib.rs"),
            "quinn-proto/src/lib.rs"
        );
    }

    #[test]
    fn oversize_drops_are_named_with_the_largest_packet() {
        use std::net::{Ipv4Addr, SocketAddrV4};

        let mut log = PacketLog::new();
        assert_eq!(oversize_drops(&log, 1400), None);
        let (src, dst) = (
            SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 443),
            SocketAddrV4::new(Ipv4Addr::new(10, 0, 1, 2), 49152),
        );
        let mut send = |payload: usize, fate: Fate| {
            let bytes = netsim::packet::build_udp(src, dst, 1, &vec![0; payload]);
            let packet = netsim::packet::parse(&bytes).expect("a valid packet");
            log.push(Duration::ZERO, netsim::Direction::Down, &packet, fate);
        };
        send(1372, Fate::Delivered { at: Duration::ZERO });
        send(1472, Fate::Dropped(DropReason::Oversize));
        send(1422, Fate::Dropped(DropReason::Oversize));
        send(1472, Fate::Dropped(DropReason::Random));
        assert_eq!(
            oversize_drops(&log, 1400).as_deref(),
            Some(
                "the network dropped 2 packets as larger than the link MTU (oversize; \
                 the largest was 1500 bytes, the smallest path MTU 1400 bytes)"
            )
        );
    }
}
