//! One run: a deterministic simulation of a client and a server on the
//! network, from one seed, within a simulated-time limit.
//!
//! ```text
//! SimConfig ──► Simulation::new (validate) ──► run(server, client) ──► RunOutput
//! ```
//! The stepping loop (`crate::stepper`) drives both hosts with a 1 ms
//! tick. Every random choice comes from the run seed: the link model (one
//! stream per direction and path), tokio's RNG (with
//! `--cfg tokio_unstable`), the TCP stacks' initial sequence numbers and
//! quinn's endpoints.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::accepted::{AcceptedConnection, Handle, Transport};
use crate::capture::{
    self, CaptureError, KeyLogCollector, PcapRecorder, PcapngPackets, QlogCollector, QlogTrace,
};
use crate::clock::{now, TICK};
use crate::congestion::QuicCongestion;
use crate::host::{lock, Host, RunShared};
use crate::link::ConfigError;
use crate::log::PacketLog;
use crate::network::{FlowCounters, Network, NetworkConfig, Side};
use crate::packet::FlowKey;
use crate::quic;
use crate::seed;
use crate::settings::{Settings, TransportSettings};
use crate::stepper::{HostResult, HostRuntime, HostSeeds};
use crate::tls;
use crate::wire::Wires;
use std::collections::BTreeMap;
use tcp::TcpConfig;

/// Smallest TCP buffer the simulation uses, whatever the BDP.
const MIN_BUFFER: usize = 1 << 20;

/// What to capture during a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureConfig {
    /// Record a pcap of every packet at the client and at the server.
    pub pcap: bool,
    /// Record TLS secrets in NSS key-log format (pass [`Host::key_log`] to
    /// the TLS configs).
    pub key_log: bool,
    /// Record a qlog trace of every QUIC connection, client side and server
    /// side (connections made through [`crate::quic`]).
    pub qlog: bool,
}

/// Everything that defines a run.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// The run seed. Default: 1.
    pub seed: u64,
    /// Simulated-time limit; a run that passes it ends with
    /// [`RunError::Timeout`]. Default: 60 s.
    pub time_limit: Duration,
    /// The network. Default: [`NetworkConfig::default`].
    pub network: NetworkConfig,
    /// TCP settings. The buffer size is raised to at least 4 × the
    /// network's largest bandwidth-delay product (and 1 MiB), and the MTU
    /// is not this one but that of the path each host is on
    /// ([`PathConfig::mtu`](crate::PathConfig::mtu)), from the start and
    /// again after a path change (see [`SimConfig::effective_tcp`]).
    pub tcp: TcpConfig,
    /// The congestion controller and initial window of every QUIC
    /// connection of the run, server's and client's alike
    /// ([`Host::quic_congestion`](crate::Host::quic_congestion)). Default:
    /// quinn's CUBIC with its own initial window.
    pub quic: QuicCongestion,
    /// Captures. Default: none.
    pub capture: CaptureConfig,
    /// How long after the server the client starts, on the network's
    /// clock. Default: zero. The whole ticks of it the client's host waits
    /// before it calls the client; the rest (less than a tick) its clock
    /// runs behind the network's ([`Network::set_client_lag`]), so its
    /// ticks fall between the server's. [`seeded_client_start`] draws one
    /// from the run seed.
    pub client_start: Duration,
    /// The TLS identity the lab's servers present and whose trust anchor the lab's
    /// clients trust (they read it with [`Host::certificate`]); the run's
    /// [`TransportSettings::tls`] reports it. Default: [`tls::Identity::minimal()`].
    pub certificate: &'static tls::Identity,
    /// A flag another thread may raise to end the run between two ticks,
    /// with [`RunError::Stopped`]. Default: one nobody raises. The
    /// simulation only reads it; whoever raises it (bench's wall-clock
    /// guard) decides when, so nothing measured depends on it unless it
    /// is raised, and a run it ends says so.
    pub stop: StopFlag,
    /// Step every tick, instead of skipping the ticks in which nothing can
    /// happen (no timer fires and no packet is on its way). Default:
    /// false. Results are the same to the byte either way
    /// (docs/netsim.md, "Event-driven time"); this exists to check that.
    pub every_tick: bool,
}

/// A flag that ends a run between two ticks once raised (see
/// [`SimConfig::stop`]). Clones share the flag.
#[derive(Clone, Debug, Default)]
pub struct StopFlag(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl StopFlag {
    /// A flag not raised.
    pub fn new() -> StopFlag {
        StopFlag::default()
    }

    /// Raise it: the run it belongs to ends before its next tick.
    pub fn raise(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether it was raised.
    pub fn is_raised(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Two flags are equal when both are raised or neither is: a config's
/// equality is about what the run does.
impl PartialEq for StopFlag {
    fn eq(&self, other: &StopFlag) -> bool {
        self.is_raised() == other.is_raised()
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            time_limit: Duration::from_secs(60),
            network: NetworkConfig::default(),
            tcp: TcpConfig::default(),
            quic: QuicCongestion::default(),
            capture: CaptureConfig::default(),
            client_start: Duration::ZERO,
            certificate: tls::Identity::minimal(),
            stop: StopFlag::default(),
            every_tick: false,
        }
    }
}

/// A client start offset drawn from the run seed: uniform in [0, the
/// first path's round-trip propagation delay), to the nanosecond.
///
/// Without it, a run without random loss or jitter is the same run for
/// every seed: nothing else random touches a TCP connection's timing. With
/// it, the client's packets meet the network's ticks at a phase of their
/// own (its sub-tick part), and a scheduled event (a path change, a
/// blackout, a targeted drop by time) meets the transfer at another point
/// (its whole ticks).
pub fn seeded_client_start(seed: u64, network: &NetworkConfig) -> Duration {
    let rtt = network.path.base_rtt().as_nanos() as u64;
    if rtt == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(seed::derive_u64(seed, "client-start") % rtt)
}

impl SimConfig {
    /// How far the client's clock runs behind the network's: the part of
    /// [`SimConfig::client_start`] below a whole tick. Add it to a time on
    /// the client's clock to get the network's (the packet log's) time.
    pub fn client_clock_lag(&self) -> Duration {
        Duration::from_nanos((self.client_start.as_nanos() % TICK.as_nanos()) as u64)
    }

    /// The whole ticks of [`SimConfig::client_start`]: how long the client's
    /// host waits before it calls the client.
    fn client_wait(&self) -> Duration {
        self.client_start - self.client_clock_lag()
    }

    /// The TCP config the run starts with on both hosts: its buffers sized
    /// for the network, and the MTU of the first path. A host whose path
    /// changes to one with another MTU then takes that MTU
    /// (`TcpStack::set_mtu`): connections made afterwards announce their
    /// MSS from it.
    pub fn effective_tcp(&self) -> TcpConfig {
        let bdp = self.network.max_bdp_bytes() as usize;
        let mut tcp = self.tcp.clone();
        tcp.buffer_bytes = tcp.buffer_bytes.max(4 * bdp).max(MIN_BUFFER);
        tcp.mtu = self.network.path.mtu();
        tcp
    }
}

/// Why a run did not produce its result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The run passed its simulated-time limit.
    #[error("timed out after {limit:?} of simulated time")]
    Timeout {
        /// The limit.
        limit: Duration,
    },
    /// The client returned an error.
    #[error("client failed: {0}")]
    Client(String),
    /// The server returned an error.
    #[error("server failed: {0}")]
    Server(String),
    /// The simulator failed.
    #[error("simulation failed: {0}")]
    Simulation(String),
    /// Its [`SimConfig::stop`] flag was raised.
    #[error("stopped from outside at {at:?} of simulated time")]
    Stopped {
        /// The simulated time it had reached.
        at: Duration,
    },
}

/// pcaps of one run.
#[derive(Clone, Debug)]
pub struct Captures {
    /// Every packet the client sent or received, when it did.
    pub client: PcapRecorder,
    /// Every packet the server sent or received, when it did.
    pub server: PcapRecorder,
}

impl Captures {
    /// The run's capture as one pcapng file that Wireshark opens with no setup:
    /// the client and the server are its two interfaces (`client`, `server`),
    /// timestamps are nanoseconds of simulated time on the network's clock (from
    /// 1970-01-01), `key_log` (the run's NSS key log, [`RunOutput::key_log`]; empty
    /// for none) is its Decryption Secrets Block, so TLS and QUIC decrypt with no
    /// key-log file, and every packet the link dropped carries a comment saying
    /// where and why ([`drop_comment`](crate::drop_comment)). `which` says whether
    /// it holds each packet once, as sent, or also as received.
    pub fn to_pcapng(&self, key_log: &str, which: PcapngPackets) -> Vec<u8> {
        capture::pcapng_file(&self.client, &self.server, key_log, which)
    }

    /// Writes [`to_pcapng`](Self::to_pcapng) to `path`, replacing any file
    /// already there (through a `.tmp` sibling, renamed into place).
    pub fn write_pcapng(
        &self,
        path: &std::path::Path,
        key_log: &str,
        which: PcapngPackets,
    ) -> Result<(), CaptureError> {
        capture::write_atomically(path, &self.to_pcapng(key_log, which))
    }
}

/// Everything a run produced, whether or not it succeeded.
#[derive(Debug)]
pub struct RunOutput<T> {
    /// The client's result, or why there is none.
    pub outcome: Result<T, RunError>,
    /// Simulated time when the run ended.
    pub elapsed: Duration,
    /// Every packet's fate.
    pub packet_log: PacketLog,
    /// Per-flow counters as the network saw them.
    pub flows: BTreeMap<FlowKey, FlowCounters>,
    /// The pcaps, if asked for.
    pub captures: Option<Captures>,
    /// The TLS key log (NSS format), if asked for.
    pub key_log: Option<String>,
    /// One qlog trace per QUIC connection, if asked for: the client's in
    /// connection order, then the server's. Empty if the run made no QUIC
    /// connection.
    pub qlogs: Option<Vec<QlogTrace>>,
    /// The connections the server accepted, in accept order, with their
    /// transport statistics read when the run ended (after the client
    /// finished, or when the simulation stopped). Empty if the server
    /// accepted none.
    pub server_connections: Vec<AcceptedConnection>,
    /// The TCP, QUIC and TLS settings the run used (see
    /// the `settings` module).
    pub transport: TransportSettings,
    /// How many ticks it stepped and how many it skipped.
    pub ticks: Ticks,
}

/// A run's ticks: the ones the hosts were stepped through and the ones
/// skipped because nothing could happen in them
/// ([`SimConfig::every_tick`]). Not part of the record: the run is the
/// same either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ticks {
    /// Steps taken one tick at a time.
    pub stepped: u64,
    /// Ticks skipped.
    pub skipped: u64,
}

/// A validated run, ready to go.
#[derive(Debug)]
pub struct Simulation {
    config: SimConfig,
}

impl Simulation {
    /// Validate `config`. The error names the offending field.
    pub fn new(config: SimConfig) -> Result<Simulation, ConfigError> {
        config.network.validate()?;
        if config.time_limit.is_zero() {
            return Err(ConfigError {
                field: "time_limit".into(),
                reason: "must be greater than zero".into(),
            });
        }
        config.tcp.validate().map_err(|e| ConfigError {
            field: format!("tcp.{}", e.field),
            reason: e.reason,
        })?;
        // The buffers the run actually gets grow with the network's
        // bandwidth-delay product: a stack that cannot hold them is the
        // network's fault, and the error says so.
        let effective = config.effective_tcp();
        if let Err(e) = effective.validate() {
            if e.field != "buffer_bytes" {
                return Err(ConfigError {
                    field: format!("tcp.{}", e.field),
                    reason: e.reason,
                });
            }
            return Err(ConfigError {
                field: "network.bandwidth_mbit".into(),
                reason: format!(
                    "the path's bandwidth-delay product of {} bytes needs TCP buffers of \
                     {} bytes (4 x BDP), and {}: lower the bandwidth or the RTT, \
                     or use the Linux-like TCP",
                    config.network.max_bdp_bytes(),
                    effective.buffer_bytes,
                    e.reason
                ),
            });
        }
        Ok(Simulation { config })
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Run `server` and `client` on their hosts until the client finishes
    /// or the time limit passes. The server is restarted by nobody: if it
    /// returns early it simply stops serving.
    pub fn run<T, S, SF, C, CF, SE, CE>(self, server: S, client: C) -> RunOutput<T>
    where
        T: 'static,
        S: Fn(Host) -> SF + 'static,
        SF: Future<Output = Result<(), SE>> + 'static,
        SE: std::fmt::Display + 'static,
        C: FnOnce(Host) -> CF + 'static,
        CF: Future<Output = Result<T, CE>> + 'static,
        CE: std::fmt::Display + 'static,
    {
        let config = self.config;
        let tcp = config.effective_tcp();
        let mut network = Network::new(config.network.clone(), config.seed)
            .expect("validated in Simulation::new");
        network.set_client_lag(config.client_clock_lag());
        let client_wait = config.client_wait();
        let run = Arc::new(RunShared {
            seed: config.seed,
            network: Mutex::new(network),
            key_log: config.capture.key_log.then(KeyLogCollector::new),
            qlog: config.capture.qlog.then(|| QlogCollector::new(config.seed)),
            buffer_bytes: tcp.buffer_bytes,
            quic: config.quic,
            certificate: config.certificate,
            wires: Arc::new(Wires::default()),
        });

        // The label is the one the seeds had when turmoil drew them, so
        // that tokio's RNG in each host is the one of earlier runs.
        let mut seeds = HostSeeds::new(seed::derive_u64(config.seed, "turmoil"));
        let hosts: Rc<RefCell<Vec<Host>>> = Rc::default();
        let server_error: Rc<RefCell<Option<String>>> = Rc::default();
        let client_error: Rc<RefCell<Option<String>>> = Rc::default();
        let result: Rc<RefCell<Option<T>>> = Rc::default();
        let ended_at: Rc<RefCell<Option<Duration>>> = Rc::default();

        let mut server_rt = {
            let run = run.clone();
            let hosts = hosts.clone();
            let tcp = tcp.clone();
            let server_error = server_error.clone();
            let capture = config.capture.pcap;
            HostRuntime::new(&mut seeds, async move {
                let host = Host::start(Side::Server, run, &tcp, capture);
                hosts.borrow_mut().push(host.clone());
                if let Err(e) = server(host).await {
                    let msg = e.to_string();
                    *server_error.borrow_mut() = Some(msg.clone());
                    return Err(msg);
                }
                HostResult::Ok(())
            })
        };
        let mut client_rt = {
            let run = run.clone();
            let hosts = hosts.clone();
            let client_error = client_error.clone();
            let result = result.clone();
            let ended_at = ended_at.clone();
            let capture = config.capture.pcap;
            HostRuntime::new(&mut seeds, async move {
                let host = Host::start(Side::Client, run, &tcp, capture);
                hosts.borrow_mut().push(host.clone());
                if !client_wait.is_zero() {
                    crate::time::sleep(client_wait).await;
                }
                let out = client(host).await;
                *ended_at.borrow_mut() = Some(now());
                match out {
                    Ok(v) => {
                        *result.borrow_mut() = Some(v);
                        Ok(())
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        *client_error.borrow_mut() = Some(msg.clone());
                        Err(msg)
                    }
                }
            })
        };

        // One step: the server's tick, then the client's. A raised stop
        // flag ends the run between two steps. Ticks in which nothing can
        // happen on either host are skipped, up to the one whose end
        // fires the next timer, or the step that passes the time limit.
        let mut stopped = None;
        let mut elapsed = Duration::ZERO;
        let mut ticks: u64 = 0;
        let mut skipped: u64 = 0;
        let limit_tick = (config.time_limit.as_nanos() / TICK.as_nanos()) as u64 + 1;
        let wires = run.wires.clone();
        let sim_result: Result<(), String> = loop {
            if config.stop.is_raised() {
                stopped = Some(elapsed);
                break Ok(());
            }
            if !config.every_tick && ticks > 0 {
                let idle = |rt: &HostRuntime, side: Side| {
                    if !rt.is_running() {
                        return Some(None);
                    }
                    let next = rt.next_timer_tick();
                    (wires.is_empty(side) && next.is_none_or(|t| t > ticks)).then_some(next)
                };
                if let (Some(s), Some(c)) = (
                    idle(&server_rt, Side::Server),
                    idle(&client_rt, Side::Client),
                ) {
                    let next = [s, c].into_iter().flatten().min().unwrap_or(limit_tick);
                    let quiet = next.min(limit_tick).saturating_sub(ticks + 1);
                    if quiet > 0 {
                        let done = [&mut server_rt, &mut client_rt]
                            .into_iter()
                            .filter(|rt| rt.is_running())
                            .try_for_each(|rt| rt.skip(quiet, TICK));
                        if let Err(e) = done {
                            break Err(e);
                        }
                        ticks += quiet;
                        skipped += quiet;
                        elapsed = TICK * u32::try_from(ticks).unwrap_or(u32::MAX);
                        continue;
                    }
                }
            }
            let step = (|| {
                if server_rt.is_running() {
                    server_rt.tick(TICK)?;
                }
                if client_rt.is_running() {
                    return client_rt.tick(TICK);
                }
                Ok(true)
            })();
            elapsed += TICK;
            ticks += 1;
            match step {
                Ok(true) => break Ok(()),
                Ok(false) if elapsed > config.time_limit => {
                    break Err(format!("Ran for duration: {:?}", config.time_limit))
                }
                Ok(false) => {}
                Err(e) => break Err(e),
            }
        };
        let elapsed = ended_at.borrow().unwrap_or(elapsed);
        // Read the server's connections now: the client has finished (or
        // the simulation stopped), and nothing has been torn down yet.
        let server_connections = hosts
            .borrow()
            .iter()
            .find(|h| h.side() == Side::Server)
            .map(|h| accepted_connections(h, elapsed))
            .unwrap_or_default();
        let outcome = match (result.borrow_mut().take(), sim_result) {
            (Some(v), _) => Ok(v),
            (None, _) if stopped.is_some() => Err(RunError::Stopped {
                at: stopped.unwrap_or_default(),
            }),
            (None, Ok(())) => Err(RunError::Simulation(
                "client finished without a result".into(),
            )),
            (None, Err(e)) => Err(if let Some(msg) = client_error.borrow_mut().take() {
                RunError::Client(msg)
            } else if let Some(msg) = server_error.borrow_mut().take() {
                RunError::Server(msg)
            } else if e.starts_with("Ran for duration") {
                RunError::Timeout {
                    limit: config.time_limit,
                }
            } else {
                RunError::Simulation(e)
            }),
        };
        drop(server_rt);
        drop(client_rt);

        let hosts = std::mem::take(&mut *hosts.borrow_mut());
        let find = |side: Side| hosts.iter().find(|h| h.side() == side);
        let captures = match (find(Side::Client), find(Side::Server)) {
            (Some(c), Some(s)) => match (c.take_capture(), s.take_capture()) {
                (Some(client), Some(server)) => Some(Captures { client, server }),
                _ => None,
            },
            _ => None,
        };
        let transport = TransportSettings {
            tcp: find(Side::Server)
                .or_else(|| find(Side::Client))
                .map(Host::tcp_settings)
                .unwrap_or_default(),
            quic: find(Side::Server)
                .and_then(Host::quic_settings)
                .or_else(|| find(Side::Client).and_then(Host::quic_settings))
                .unwrap_or_default(),
            tls: tls::settings_for(config.certificate),
            http: Settings::default(),
        };
        let mut net = lock(&run.network);
        RunOutput {
            outcome,
            elapsed,
            packet_log: net.take_log(),
            flows: net.flows().clone(),
            captures,
            key_log: run.key_log.as_ref().map(|k| k.to_string()),
            qlogs: run.qlog.as_ref().map(|q| q.traces()),
            server_connections,
            transport,
            ticks: Ticks {
                stepped: ticks - skipped,
                skipped,
            },
        }
    }
}

/// Every connection `host` accepted, in accept order, with its statistics
/// read now, at simulated time `at` (QUIC stamps its RTT sample with it),
/// taken out of the host, which lets the run's QUIC state go. Empty for a
/// host that accepted none.
fn accepted_connections(host: &Host, at: Duration) -> Vec<AcceptedConnection> {
    host.take_accepted()
        .into_iter()
        .map(|entry| {
            let (transport, stats) = match &entry.handle {
                Handle::Tcp {
                    conn,
                    local,
                    remote,
                } => (Transport::Tcp, host.tcp_stats(*conn, *local, *remote)),
                Handle::Quic { endpoint, conn } => (
                    Transport::Quic,
                    quic::transport_stats_at(host, endpoint, conn, at),
                ),
            };
            AcceptedConnection {
                transport,
                accepted_at: entry.accepted_at,
                peer: entry.peer,
                stats,
            }
        })
        .collect()
}
