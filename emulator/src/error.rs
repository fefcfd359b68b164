//! [`EmulatorError`]: what went wrong setting up or running the emulator,
//! said so that the person reading it knows what to do.

use std::io;

/// Why the emulator could not start, or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// Not root.
    #[error(
        "the emulator needs root (effective user 0) to create network namespaces and TUN \
         devices: run it as root, e.g. with sudo"
    )]
    NotRoot,
    /// No `/dev/net/tun`.
    #[error(
        "/dev/net/tun does not exist: load the tun module (`modprobe tun`), or in a container \
         pass the device through (docker run --device /dev/net/tun --cap-add NET_ADMIN)"
    )]
    NoTun,
    /// No `ip` command.
    #[error("`ip` (iproute2) was not found: install it, e.g. `apt-get install iproute2`")]
    NoIp,
    /// A namespace name that is not letters, digits, `-`, `_` and `.`.
    #[error(
        "'{0}' is not a usable namespace name: use up to 64 letters, digits, '-', '_' or '.', \
         not starting with '-' or '.'"
    )]
    BadName(String),
    /// The namespace exists already (another emulator, or one left behind).
    #[error(
        "network namespace '{0}' already exists (another httplab emulator, or one left behind \
         by a killed one): choose another --netns prefix, or remove it with `ip netns del {0}`"
    )]
    NameTaken(String),
    /// A command failed.
    #[error("`{command}` failed: {stderr}")]
    Command {
        /// The command line.
        command: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// A system call or file operation failed. (The I/O error is part of
    /// the message, not a separate cause, so that it is said once.)
    #[error("{what}: {error}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        error: io::Error,
    },
    /// The network configuration is invalid.
    #[error("invalid network: {0}")]
    Config(#[from] netsim::ConfigError),
    /// Something the emulator does not do.
    #[error("not supported by the emulator: {0}")]
    Unsupported(String),
    /// A congestion control the kernel does not have.
    #[error(
        "congestion control '{name}' is not available on this kernel (it offers: {available}); \
         load its module, e.g. `modprobe tcp_{name}`"
    )]
    CongestionUnavailable {
        /// The one asked for.
        name: String,
        /// `net.ipv4.tcp_available_congestion_control`.
        available: String,
    },
    /// A thread of the emulator panicked.
    #[error("{what} panicked")]
    Panicked {
        /// Which thread.
        what: String,
    },
}
