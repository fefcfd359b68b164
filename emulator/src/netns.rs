//! Named network namespaces, as `ip netns` makes them: [`Namespace`]
//! creates one, runs code or commands inside it, and deletes it when
//! dropped. Also the checks that the machine can do any of this
//! ([`preflight`]).

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;

use crate::error::EmulatorError;
use crate::sys;

/// Where `ip netns` binds its namespaces.
const NETNS_DIR: &str = "/run/netns";

/// Check that this process can create namespaces and TUN devices: root,
/// `/dev/net/tun`, and `ip` with netns support. The error names the first
/// thing missing and how to get it.
pub fn preflight() -> Result<(), EmulatorError> {
    if !sys::is_root() {
        return Err(EmulatorError::NotRoot);
    }
    if !Path::new("/dev/net/tun").exists() {
        return Err(EmulatorError::NoTun);
    }
    match Command::new("ip")
        .args(["netns", "list"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
    {
        Err(_) => Err(EmulatorError::NoIp),
        Ok(out) if !out.status.success() => Err(EmulatorError::Command {
            command: "ip netns list".into(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        }),
        Ok(_) => Ok(()),
    }
}

/// Run `ip ARGS…`; an error carries the command line and what it printed.
pub(crate) fn ip(args: &[&str]) -> Result<(), EmulatorError> {
    ip_output(args).map(drop)
}

/// Run `ip ARGS…` and return what it printed on stdout. It runs in a
/// process group of its own, so that a second Ctrl-C at the terminal
/// cannot kill it half way through tearing a namespace down.
pub(crate) fn ip_output(args: &[&str]) -> Result<String, EmulatorError> {
    let command = format!("ip {}", args.join(" "));
    let out = Command::new("ip")
        .args(args)
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| EmulatorError::Io {
            what: format!("starting `{command}`"),
            error: source,
        })?;
    if !out.status.success() {
        return Err(EmulatorError::Command {
            command,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Check that `name` is usable as a namespace name (or, with a suffix
/// such as `-client`, as a prefix): letters, digits, `-`, `_` and `.`, at
/// most 64 bytes, not starting with `-` or `.`.
pub fn check_name(name: &str) -> Result<(), EmulatorError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !name.starts_with(['-', '.']);
    if valid {
        Ok(())
    } else {
        Err(EmulatorError::BadName(name.to_owned()))
    }
}

/// A network namespace this process created, deleted on drop.
#[derive(Debug)]
pub struct Namespace {
    name: String,
}

impl Namespace {
    /// Create the namespace `name` (with `ip netns add`) and bring its
    /// loopback up. Refuses a name already taken, without touching that
    /// namespace, and names that `ip` would misread.
    pub fn create(name: &str) -> Result<Namespace, EmulatorError> {
        check_name(name)?;
        if Path::new(NETNS_DIR).join(name).exists() {
            return Err(EmulatorError::NameTaken(name.to_owned()));
        }
        ip(&["netns", "add", name])?;
        let ns = Namespace {
            name: name.to_owned(),
        };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Its name, as `ip netns list` shows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file `ip netns` binds it to.
    pub fn path(&self) -> PathBuf {
        Path::new(NETNS_DIR).join(&self.name)
    }

    /// Run `ip -n NAME ARGS…`.
    pub fn ip(&self, args: &[&str]) -> Result<(), EmulatorError> {
        self.ip_output(args).map(drop)
    }

    /// Run `ip -n NAME ARGS…` and return what it printed.
    pub fn ip_output(&self, args: &[&str]) -> Result<String, EmulatorError> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip_output(&all)
    }

    /// Run `f` on a new thread inside the namespace.
    pub fn spawn<T, F>(&self, f: F) -> Result<JoinHandle<Result<T, EmulatorError>>, EmulatorError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, EmulatorError> + Send + 'static,
    {
        let path = self.path();
        let name = self.name.clone();
        std::thread::Builder::new()
            .name(format!("netns-{name}"))
            .spawn(move || {
                sys::enter_network_namespace(&path).map_err(|source| EmulatorError::Io {
                    what: format!("entering network namespace '{name}'"),
                    error: source,
                })?;
                f()
            })
            .map_err(|source| EmulatorError::Io {
                what: "starting a thread".into(),
                error: source,
            })
    }

    /// Run `f` inside the namespace and wait for it.
    pub fn run<T, F>(&self, f: F) -> Result<T, EmulatorError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, EmulatorError> + Send + 'static,
    {
        self.spawn(f)?.join().map_err(|_| EmulatorError::Panicked {
            what: format!("a thread in network namespace '{}'", self.name),
        })?
    }

    /// Write a sysctl of this namespace: `key` as a path under
    /// `/proc/sys/` (`net/ipv4/tcp_no_metrics_save`).
    pub fn write_sysctl(&self, key: &str, value: &str) -> Result<(), EmulatorError> {
        let key = key.to_owned();
        let value = value.to_owned();
        let name = self.name.clone();
        self.run(move || {
            std::fs::write(Path::new("/proc/sys").join(&key), &value).map_err(|source| {
                EmulatorError::Io {
                    what: format!("setting {key} = {value} in network namespace '{name}'"),
                    error: source,
                }
            })
        })
    }

    /// Read a sysctl of this namespace (see [`Namespace::write_sysctl`]),
    /// trimmed.
    pub fn read_sysctl(&self, key: &str) -> Result<String, EmulatorError> {
        let key = key.to_owned();
        let name = self.name.clone();
        self.run(move || {
            std::fs::read_to_string(Path::new("/proc/sys").join(&key))
                .map(|s| s.trim().to_owned())
                .map_err(|source| EmulatorError::Io {
                    what: format!("reading {key} in network namespace '{name}'"),
                    error: source,
                })
        })
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // Processes still inside (a program's children, say) would hang on
        // a device that is gone: end them first, politely, then not.
        for signal in ["TERM", "KILL"] {
            let pids = ip_output(&["netns", "pids", &self.name]).unwrap_or_default();
            let pids: Vec<&str> = pids.split_whitespace().collect();
            if pids.is_empty() {
                break;
            }
            let _ = Command::new("kill")
                .arg(format!("-{signal}"))
                .args(&pids)
                .process_group(0)
                .stderr(Stdio::null())
                .status();
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        // Best effort: a failure here has nobody left to tell but stderr.
        if let Err(e) = ip(&["netns", "del", &self.name]) {
            eprintln!("warning: could not delete network namespace: {e}");
        }
    }
}

/// The host's (initial namespace's) sysctl `key`, trimmed.
pub(crate) fn host_sysctl(key: &str) -> Result<String, EmulatorError> {
    std::fs::read_to_string(Path::new("/proc/sys").join(key))
        .map(|s| s.trim().to_owned())
        .map_err(|source| EmulatorError::Io {
            what: format!("reading the host's {key}"),
            error: source,
        })
}

/// Set the host's sysctl `key`.
pub(crate) fn set_host_sysctl(key: &str, value: &str) -> Result<(), EmulatorError> {
    std::fs::write(Path::new("/proc/sys").join(key), value).map_err(|source| EmulatorError::Io {
        what: format!("setting the host's {key} = {value}"),
        error: source,
    })
}
