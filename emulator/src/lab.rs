//! [`Emulator`]: two network namespaces, a client's and a server's, each
//! with a TUN device, joined by the forwarder, and the kernel settings that
//! make runs comparable with the simulation.
//!
//! Addresses are the simulation's: the client is `netsim::CLIENT_ADDR`
//! (10.0.1.2) and the server `netsim::SERVER_ADDR` (10.0.0.2), each a /32
//! with the other as its point-to-point peer, so the link model routes
//! and logs real packets exactly as it does simulated ones. Nothing
//! outside the two namespaces is reachable from them, and they are
//! deleted when the emulator is dropped: at the end, on an error, and
//! after an interrupt (see [`catch_interrupts`]).

use std::net::Ipv4Addr;

use netsim::{Network, NetworkConfig, CLIENT_ADDR, SERVER_ADDR};

use crate::error::EmulatorError;
use crate::forward::{Forwarded, Forwarder};
use crate::netns::{self, host_sysctl, set_host_sysctl, Namespace};
use crate::sys;

/// The TUN device's name in each namespace.
pub const DEVICE: &str = "httplab0";

/// The kernel settings recorded with every kernel run: each is a path under
/// `/proc/sys/`, read in the server's namespace (the client's are set the
/// same way).
pub const RECORDED_SYSCTLS: &[&str] = &[
    "net/ipv4/tcp_congestion_control",
    "net/ipv4/tcp_no_metrics_save",
    "net/ipv4/tcp_sack",
    "net/ipv4/tcp_timestamps",
    "net/ipv4/tcp_window_scaling",
    "net/ipv4/tcp_ecn",
    "net/ipv4/tcp_recovery",
    "net/ipv4/tcp_frto",
    "net/ipv4/tcp_early_retrans",
    "net/ipv4/tcp_slow_start_after_idle",
    "net/ipv4/tcp_mtu_probing",
    "net/ipv4/tcp_autocorking",
    "net/ipv4/tcp_rmem",
    "net/ipv4/tcp_wmem",
    "net/ipv4/tcp_pacing_ss_ratio",
    "net/ipv4/tcp_pacing_ca_ratio",
];

/// Host-wide settings recorded with every kernel run (read in the initial
/// namespace), then the devices' queueing discipline.
pub const HOST_SYSCTLS: &[&str] = &[
    "net/core/default_qdisc",
    "net/ipv4/tcp_allowed_congestion_control",
];

/// The delivery lateness a kernel run may have at its 99th percentile;
/// beyond it the run's record says that the emulator did not keep up, and
/// its times are suspect.
pub const LATENESS_BOUND: std::time::Duration = std::time::Duration::from_millis(1);

/// The host sysctl listing what a non-initial namespace may choose.
const ALLOWED: &str = "net/ipv4/tcp_allowed_congestion_control";

/// Check that the kernel has the congestion control `name` loaded, without
/// changing anything; the error lists what it has.
pub fn check_congestion(name: &str) -> Result<(), EmulatorError> {
    let available = host_sysctl(AVAILABLE)?;
    if available.split_whitespace().any(|a| a == name) {
        Ok(())
    } else {
        Err(EmulatorError::CongestionUnavailable {
            name: name.to_owned(),
            available,
        })
    }
}
/// The host sysctl listing what the kernel has loaded.
const AVAILABLE: &str = "net/ipv4/tcp_available_congestion_control";

/// How to set up an [`Emulator`].
#[derive(Clone, Debug, PartialEq)]
pub struct EmulatorConfig {
    /// The network to emulate: the same type, and the same meaning, as the
    /// simulation's. Path changes are not emulated.
    pub network: NetworkConfig,
    /// The run seed: the links' random streams are derived from it as in
    /// the simulation.
    pub seed: u64,
    /// The namespaces are `PREFIX-client` and `PREFIX-server`. Default:
    /// `httplab-PID`.
    pub prefix: String,
    /// The kernel TCP congestion control both namespaces default to (the
    /// `net.ipv4.tcp_congestion_control` of each). If the host does not
    /// allow namespaces to choose it, the emulator adds it to the host's
    /// `net.ipv4.tcp_allowed_congestion_control` while it runs and puts the
    /// old list back after. `None` leaves the kernel's default. Default:
    /// `cubic`, what the lab's TCP models.
    pub congestion: Option<String>,
}

impl EmulatorConfig {
    /// `network` at `seed`, with the default prefix and CUBIC.
    pub fn new(network: NetworkConfig, seed: u64) -> EmulatorConfig {
        EmulatorConfig {
            network,
            seed,
            prefix: default_prefix(),
            congestion: Some("cubic".to_owned()),
        }
    }
}

/// `httplab-PID`: unique among running processes.
pub fn default_prefix() -> String {
    format!("httplab-{}", std::process::id())
}

/// The kernel and its settings, as the namespaces had them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelSettings {
    /// `uname -r`.
    pub release: String,
    /// Each of [`RECORDED_SYSCTLS`] with its value (dotted, as `sysctl`
    /// names them; `(absent)` where this kernel lacks it), then each of
    /// [`HOST_SYSCTLS`] marked `(host)`, then `httplab0 qdisc`: the
    /// queueing discipline on the devices.
    pub sysctls: Vec<(String, String)>,
}

/// Where emulators on this machine keep, under an exclusive `flock`, how
/// many of them hold the host's allowed-congestion list and the list to
/// put back: the count on the first line, the original list on the second.
/// In /run, so a reboot forgets it (and the host's list is the boot's).
const ALLOWED_STATE: &str = "/run/httplab-allowed-congestion";

/// One hold on the host's allowed list, shared by every emulator of every
/// process on the machine; the last one dropped restores the list as it
/// was before the first changed it. (A process killed with SIGKILL leaves
/// its count behind: the list then stays extended until a reboot.)
#[derive(Debug)]
struct AllowedHold;

/// The state file, locked until dropped.
struct AllowedState {
    file: std::fs::File,
}

impl AllowedState {
    fn lock() -> Result<AllowedState, EmulatorError> {
        let io = |what: &str| {
            let what = format!("{what} {ALLOWED_STATE}");
            move |error| EmulatorError::Io { what, error }
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(ALLOWED_STATE)
            .map_err(io("opening"))?;
        sys::lock_exclusive(&file).map_err(io("locking"))?;
        Ok(AllowedState { file })
    }

    /// (holders, the list to restore).
    fn read(&mut self) -> (u32, Option<String>) {
        use std::io::{Read as _, Seek as _};
        let mut text = String::new();
        let _ = self.file.rewind();
        let _ = self.file.read_to_string(&mut text);
        let mut lines = text.lines();
        let count = lines
            .next()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0);
        let original = lines
            .next()
            .map(str::to_owned)
            .filter(|l| count > 0 && !l.is_empty());
        (count, original)
    }

    fn write(&mut self, count: u32, original: Option<&str>) {
        use std::io::{Seek as _, Write as _};
        let _ = self.file.set_len(0);
        let _ = self.file.rewind();
        let _ = write!(self.file, "{count}\n{}\n", original.unwrap_or(""));
        let _ = self.file.flush();
    }
}

impl AllowedHold {
    fn take(name: &str) -> Result<AllowedHold, EmulatorError> {
        let mut state = AllowedState::lock()?;
        let (count, mut original) = state.read();
        let allowed = host_sysctl(ALLOWED)?;
        if !allowed.split_whitespace().any(|a| a == name) {
            set_host_sysctl(ALLOWED, &format!("{allowed} {name}"))?;
            // The list to restore is the one before the first change.
            original.get_or_insert(allowed);
        }
        state.write(count + 1, original.as_deref());
        Ok(AllowedHold)
    }
}

impl Drop for AllowedHold {
    fn drop(&mut self) {
        let Ok(mut state) = AllowedState::lock() else {
            eprintln!(
                "warning: could not lock {ALLOWED_STATE}; the host's {ALLOWED} stays as it is"
            );
            return;
        };
        let (count, original) = state.read();
        let count = count.saturating_sub(1);
        if count == 0 {
            if let Some(old) = &original {
                if let Err(e) = set_host_sysctl(ALLOWED, old) {
                    eprintln!("warning: could not restore the host's {ALLOWED}: {e}");
                }
            }
            state.write(0, None);
        } else {
            state.write(count, original.as_deref());
        }
    }
}

/// The emulated link between two namespaces, running.
///
/// Start it with [`Emulator::start`]; run things inside with
/// [`Emulator::client`] and [`Emulator::server`] (each a [`Namespace`]);
/// end it with [`Emulator::stop`], which returns the packet log. Dropping
/// it also stops it. Either way the namespaces are deleted and the host's
/// settings restored.
#[derive(Debug)]
pub struct Emulator {
    // Field order is drop order: the forwarder closes the TUN devices
    // before the namespaces go, and the host's list is restored last.
    forwarder: Option<Forwarder>,
    client: Namespace,
    server: Namespace,
    kernel: KernelSettings,
    network: NetworkConfig,
    _allowed: Option<AllowedHold>,
}

impl Emulator {
    /// Check the machine, create the namespaces and devices, set the kernel
    /// up, and start forwarding.
    pub fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        netns::preflight()?;
        config.network.validate()?;
        if config.network.path_change.is_some() {
            return Err(EmulatorError::Unsupported(
                "network.path_change: the emulator has one path (a path change needs the \
                 client's address to move, which it does not do yet)"
                    .into(),
            ));
        }
        let allowed = match &config.congestion {
            Some(name) => {
                check_congestion(name)?;
                Some(AllowedHold::take(name)?)
            }
            None => None,
        };
        let client = Namespace::create(&format!("{}-client", config.prefix))?;
        let server = Namespace::create(&format!("{}-server", config.prefix))?;
        let path = &config.network.path;
        for ns in [&client, &server] {
            // Nothing but IPv4 crosses the link; without IPv6 the devices
            // (created next) send no router solicitations. Best effort: a
            // kernel without IPv6 has no such file.
            let _ = ns.write_sysctl("net/ipv6/conf/all/disable_ipv6", "1");
            let _ = ns.write_sysctl("net/ipv6/conf/default/disable_ipv6", "1");
        }
        let client_fd = attach(&client, CLIENT_ADDR, SERVER_ADDR, path.up.mtu)?;
        let server_fd = attach(&server, SERVER_ADDR, CLIENT_ADDR, path.down.mtu)?;
        for ns in [&client, &server] {
            ns.write_sysctl("net/ipv4/tcp_no_metrics_save", "1")?;
            if let Some(name) = &config.congestion {
                ns.write_sysctl("net/ipv4/tcp_congestion_control", name)?;
            }
        }
        let kernel = read_kernel_settings(&server)?;
        let network = Network::new(config.network.clone(), config.seed)?;
        let forwarder = Forwarder::start(network, client_fd, server_fd)?;
        Ok(Emulator {
            forwarder: Some(forwarder),
            client,
            server,
            kernel,
            network: config.network,
            _allowed: allowed,
        })
    }

    /// The client's namespace.
    pub fn client(&self) -> &Namespace {
        &self.client
    }

    /// The server's namespace.
    pub fn server(&self) -> &Namespace {
        &self.server
    }

    /// The client's address (in its namespace).
    pub fn client_addr(&self) -> Ipv4Addr {
        CLIENT_ADDR
    }

    /// The server's address (in its namespace).
    pub fn server_addr(&self) -> Ipv4Addr {
        SERVER_ADDR
    }

    /// The kernel and its settings, as read when the emulator started.
    pub fn kernel(&self) -> &KernelSettings {
        &self.kernel
    }

    /// Time since forwarding started: the clock of the packet log
    /// [`Emulator::stop`] returns.
    pub fn now(&self) -> std::time::Duration {
        self.forwarder.as_ref().expect("running").now()
    }

    /// The moment forwarding started: [`Emulator::now`] is the time since,
    /// and another thread can read the same clock from it.
    pub fn clock(&self) -> std::time::Instant {
        self.forwarder.as_ref().expect("running").started()
    }

    /// The network it emulates.
    pub fn network(&self) -> &NetworkConfig {
        &self.network
    }

    /// Stop forwarding, delete the namespaces, and return what crossed the
    /// link.
    pub fn stop(mut self) -> Result<Forwarded, EmulatorError> {
        let forwarder = self.forwarder.take().expect("stopped only once");
        let mut forwarded = forwarder.stop()?;
        forwarded.device_drops = (
            device_tx_dropped(&self.client),
            device_tx_dropped(&self.server),
        );
        Ok(forwarded)
    }
}

/// Create the TUN device in `ns`, give it `local` with `peer` at the other
/// end, and bring it up with `mtu`.
fn attach(
    ns: &Namespace,
    local: Ipv4Addr,
    peer: Ipv4Addr,
    mtu: u32,
) -> Result<std::os::fd::OwnedFd, EmulatorError> {
    let name = ns.name().to_owned();
    let fd = ns.run(move || {
        sys::create_tun(DEVICE).map_err(|source| EmulatorError::Io {
            what: format!("creating TUN device {DEVICE} in network namespace '{name}'"),
            error: source,
        })
    })?;
    ns.ip(&[
        "addr",
        "add",
        &format!("{local}/32"),
        "peer",
        &format!("{peer}/32"),
        "dev",
        DEVICE,
    ])?;
    ns.ip(&["link", "set", DEVICE, "mtu", &mtu.to_string(), "up"])?;
    Ok(fd)
}

/// The `tx_dropped` counter of [`DEVICE`] in `ns` (0 if unreadable): from
/// `ip -s link show`, whose line after "TX:" reads bytes, packets, errors,
/// dropped, ...
fn device_tx_dropped(ns: &Namespace) -> u64 {
    let Ok(out) = ns.ip_output(&["-s", "link", "show", "dev", DEVICE]) else {
        return 0;
    };
    let mut lines = out.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("TX:") {
            return lines
                .next()
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        }
    }
    0
}

/// The queueing discipline the kernel put on [`DEVICE`] in `ns`, from
/// `ip link show` ("... qdisc NAME ...").
fn device_qdisc(ns: &Namespace) -> String {
    ns.ip_output(&["link", "show", "dev", DEVICE])
        .ok()
        .and_then(|out| {
            let words: Vec<&str> = out.split_whitespace().collect();
            words
                .iter()
                .position(|w| *w == "qdisc")
                .and_then(|i| words.get(i + 1))
                .map(|q| (*q).to_owned())
        })
        .unwrap_or_else(|| "(unknown)".to_owned())
}

fn read_kernel_settings(ns: &Namespace) -> Result<KernelSettings, EmulatorError> {
    let release = host_sysctl("kernel/osrelease")?;
    let mut sysctls = Vec::new();
    for key in RECORDED_SYSCTLS {
        // A setting this kernel lacks is recorded as such, not an error.
        let value = ns
            .read_sysctl(key)
            .unwrap_or_else(|_| "(absent)".to_owned());
        sysctls.push((
            key.replace('/', "."),
            value.split_whitespace().collect::<Vec<_>>().join(" "),
        ));
    }
    for key in HOST_SYSCTLS {
        let value = host_sysctl(key).unwrap_or_else(|_| "(unreadable)".to_owned());
        sysctls.push((key.replace('/', ".") + " (host)", value));
    }
    sysctls.push((format!("{DEVICE} qdisc"), device_qdisc(ns)));
    Ok(KernelSettings { release, sysctls })
}

/// The SCHED_FIFO priority [`run_at_realtime_priority`] gives the threads
/// of a run's client and server: below the forwarder's, above everything
/// else on the machine.
pub const ENDPOINT_PRIORITY: i32 = 5;

/// Give the calling thread (a run's client or server) a real-time
/// priority, [`ENDPOINT_PRIORITY`], so that other work on the machine does
/// not slow a kernel run down. Returns whether the kernel agreed.
pub fn run_at_realtime_priority() -> bool {
    sys::realtime_priority(ENDPOINT_PRIORITY)
}

/// From now on, Ctrl-C (SIGINT) and SIGTERM do not end the process but set
/// a flag ([`interrupted`]), so that it can stop its emulator and delete
/// its namespaces before it exits. Programs started afterwards get the
/// default handling back.
pub fn catch_interrupts() {
    sys::catch_interrupts();
}

/// Ask `child` to end (SIGTERM), as a shell passes an interrupt on.
pub fn terminate(child: &std::process::Child) -> std::io::Result<()> {
    sys::terminate(child.id())
}

/// Whether Ctrl-C or SIGTERM arrived since [`catch_interrupts`].
pub fn interrupted() -> bool {
    sys::interrupted()
}
