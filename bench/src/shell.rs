//! `httplab shell`: any program in the client's namespace behind the
//! emulated link, with the lab's server reachable in the server's
//! namespace, as Mahimahi's shells do.
//!
//! The program gets, in its environment:
//! - `HTTPLAB_SERVER`: the server's address and port (TCP and UDP), e.g.
//!   `10.0.0.2:443`;
//! - `HTTPLAB_SERVER_NAME`: the name its certificate is issued for
//!   (`server.httplab.test`);
//! - `HTTPLAB_URL`: `https://server.httplab.test/`;
//! - `HTTPLAB_CA`: a PEM file with the lab's certificate, to trust it
//!   (curl's `--cacert`).
//!
//! So `curl --cacert "$HTTPLAB_CA" --resolve
//! server.httplab.test:443:10.0.0.2 https://server.httplab.test/bytes/1000`
//! fetches through the link. The shell exits with the program's status.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};

use anyhow::{anyhow, Context, Result};
use emulator::{Emulator, EmulatorConfig, Forwarded};
use netsim::{DropReason, NetworkConfig, SERVER_PORT};

use crate::kernel::{like_the_simulation, LabServer};
use crate::note;
use crate::results::write_atomic;

/// What `httplab shell` runs.
#[derive(Clone, Debug)]
pub struct ShellConfig {
    /// The emulated network.
    pub network: NetworkConfig,
    /// The link's seed and the server's content seed.
    pub seed: u64,
    /// The kernel TCP congestion control of both namespaces.
    pub congestion: String,
    /// The namespaces' prefix.
    pub prefix: String,
    /// Where to write the emulator's packet log (CSV), if anywhere.
    pub packet_log: Option<PathBuf>,
    /// The program and its arguments.
    pub command: Vec<String>,
}

/// The lab certificate as a PEM file for the program, in a private
/// temporary directory of its own (created anew, mode 0700: no other user
/// can plant a link there), deleted with it on drop.
struct CaFile {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl CaFile {
    fn write() -> Result<CaFile> {
        let dir = tempfile::Builder::new()
            .prefix("httplab-shell-")
            .tempdir()
            .context("creating a temporary directory for the lab's certificate")?;
        let path = dir.path().join("httplab-ca.pem");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        file.write_all(netsim::tls::identity().cert_pem.as_bytes())
            .with_context(|| format!("writing the lab's certificate to {}", path.display()))?;
        Ok(CaFile { dir, path })
    }
}

/// Run the shell; returns the program's exit status. The namespaces are
/// gone when this returns, whatever happened.
pub fn run(config: &ShellConfig) -> Result<ExitStatus> {
    let (program, args) = config
        .command
        .split_first()
        .ok_or_else(|| anyhow!("httplab shell needs a command after --"))?;
    emulator::preflight().context("httplab shell runs the emulator")?;
    emulator::catch_interrupts();
    let (flow, sockets) = like_the_simulation(&config.network, &config.congestion);
    let emu = Emulator::start(EmulatorConfig {
        network: config.network.clone(),
        seed: config.seed,
        prefix: config.prefix.clone(),
        congestion: Some(config.congestion.clone()),
    })?;
    let server = LabServer::start(&emu, config.seed, flow, sockets).map_err(|e| anyhow!(e))?;
    let ca = CaFile::write()?;
    let name = netsim::tls::SERVER_NAME;
    let addr = server.addr;
    let path = &config.network.path;
    note!(
        "httplab shell: {} in namespace {} behind the link (RTT {:?}, {} Mbit/s down, {} Mbit/s up, loss {:?}); \
         the lab's server at {addr} (TCP and UDP, content seed {}) in {}, certificate for {name} in {}",
        program,
        emu.client().name(),
        path.base_rtt(),
        path.down.bandwidth_bps as f64 / 1e6,
        path.up.bandwidth_bps as f64 / 1e6,
        path.down.loss,
        config.seed,
        emu.server().name(),
        ca.path.display()
    );
    note!(
        "  e.g. curl --cacert \"$HTTPLAB_CA\" --resolve {name}:{SERVER_PORT}:{} https://{name}/bytes/100000",
        addr.ip()
    );
    let mut command = Command::new(program);
    command
        .args(args)
        .env("HTTPLAB_SERVER", addr.to_string())
        .env("HTTPLAB_SERVER_NAME", name)
        .env("HTTPLAB_URL", format!("https://{name}/"))
        .env("HTTPLAB_CA", &ca.path);
    let program_name = program.clone();
    // Started from a thread inside the client's namespace, the program is
    // inside it too.
    let child = emu.client().run(move || {
        command
            .spawn()
            .map_err(|source| emulator::EmulatorError::Io {
                what: if source.kind() == std::io::ErrorKind::NotFound {
                    format!("command '{program_name}' was not found (not a file, nor in PATH)")
                } else {
                    format!("starting '{program_name}'")
                },
                error: source,
            })
    });
    let status = child.and_then(wait_or_interrupt);
    let served = server.stop();
    let forwarded = emu.stop()?;
    let status = status?;
    if let Err(e) = served {
        note!("httplab shell: the server stopped early: {e}");
    }
    note!("httplab shell: {}", summary(&forwarded));
    if let Some(path) = &config.packet_log {
        let mut csv = Vec::new();
        forwarded
            .log
            .write_csv_with_lateness(&mut csv, &forwarded.late)
            .context("encoding the packet log")?;
        write_atomic(path, &csv)?;
        note!("httplab shell: packet log in {}", path.display());
    }
    drop(ca.dir);
    Ok(status)
}

/// Wait for `child`; on Ctrl-C or SIGTERM to the shell (which it catches,
/// to clean up), end the child too: SIGTERM, then SIGKILL after 2 s. (Its
/// own children still in the namespace are ended when the namespace is
/// deleted.)
fn wait_or_interrupt(mut child: Child) -> Result<ExitStatus, emulator::EmulatorError> {
    let io = |what: &str| {
        let what = what.to_owned();
        move |error| emulator::EmulatorError::Io { what, error }
    };
    let mut asked = None;
    loop {
        if let Some(status) = child.try_wait().map_err(io("waiting for the command"))? {
            return Ok(status);
        }
        if emulator::interrupted() {
            match asked {
                None => {
                    // Polite first: the program may want to clean up too.
                    let _ = emulator::terminate(&child);
                    asked = Some(0u32);
                }
                Some(n) if n >= 40 => {
                    let _ = child.kill();
                }
                Some(n) => asked = Some(n + 1),
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// One line: packets each way, drops by reason, lateness.
fn summary(f: &Forwarded) -> String {
    let s = f.log.summary();
    let drops = |reason: DropReason| s.up.dropped(reason) + s.down.dropped(reason);
    let late = f.lateness();
    format!(
        "the link carried {} packets up and {} down; dropped {} at random, {} at the full queue, {} in all; \
         {} lost outside the link model; delivery lateness p50 {} µs, p99 {} µs, max {} µs",
        s.up.sent,
        s.down.sent,
        drops(DropReason::Random),
        drops(DropReason::QueueFull),
        s.up.dropped_total() + s.down.dropped_total(),
        f.unmodelled_losses(),
        late.p50.as_micros(),
        late.p99.as_micros(),
        late.max.as_micros()
    )
}
