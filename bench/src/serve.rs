//! `httplab serve`'s limits on the command line ([`LimitArgs`], one flag per
//! field of `servers::Limits`, defaulting to its production defaults) and
//! what `serve` says about them and its address: the limits it serves
//! under, the address it bound, a warning for an address other machines
//! can reach.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;
use servers::{Limits, RealServer};

/// A limit as a flag takes it: a number, or `off` for no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// No limit.
    Off,
    /// This number (of milliseconds, connections, bytes, as the flag says).
    At(u64),
}

/// The word for [`Limit::Off`].
const OFF: &str = "off";

impl Limit {
    /// A timeout in milliseconds.
    fn millis(d: Option<Duration>) -> Limit {
        d.map_or(Limit::Off, |d| {
            Limit::At(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        })
    }

    /// A count.
    fn count<T: Into<u64>>(n: Option<T>) -> Limit {
        n.map_or(Limit::Off, |n| Limit::At(n.into()))
    }

    /// A count of `usize`.
    fn size(n: Option<usize>) -> Limit {
        Limit::count(n.map(|n| u64::try_from(n).unwrap_or(u64::MAX)))
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Off => f.write_str(OFF),
            Limit::At(n) => write!(f, "{n}"),
        }
    }
}

impl FromStr for Limit {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Limit, String> {
        if s == OFF {
            return Ok(Limit::Off);
        }
        s.parse::<u64>()
            .map(Limit::At)
            .map_err(|_| format!("'{s}' is neither a whole number nor '{OFF}'"))
    }
}

/// `httplab serve`'s limits, one flag per field of `servers::Limits`;
/// `docs/protocols.md` ("Limits on real sockets") says why each default.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Longest a TLS (TCP) or QUIC handshake may take, in milliseconds;
    /// off: no limit.
    #[arg(long, value_name = "MS|off", default_value_t = Limit::millis(Limits::default().handshake_timeout))]
    pub handshake_timeout_ms: Limit,
    /// Longest an HTTP/1.1 request head may take to arrive, however slowly
    /// its bytes trickle in (slowloris), in milliseconds; also how long a
    /// kept-alive HTTP/1.1 connection waits for its next request.
    #[arg(long, value_name = "MS|off", default_value_t = Limit::millis(Limits::default().header_timeout))]
    pub header_timeout_ms: Limit,
    /// Longest a connection may go without progress, in milliseconds:
    /// nothing read or written (idle), or response data held without any of
    /// it leaving (a client that stopped reading, or holds its window at 0).
    #[arg(long, value_name = "MS|off", default_value_t = Limit::millis(Limits::default().idle_timeout))]
    pub idle_timeout_ms: Limit,
    /// Most connections at once, per transport (TCP, QUIC), handshakes
    /// included; more are closed at once (TCP) or refused (QUIC). Lowered to
    /// the open-file limit (ulimit -n) less 32.
    #[arg(long, value_name = "N|off", default_value_t = Limit::size(Limits::default().max_connections))]
    pub max_connections: Limit,
    /// Most concurrent request streams of one HTTP/2 or HTTP/3 connection.
    #[arg(long, value_name = "N|off", default_value_t = Limit::count(Limits::default().max_streams))]
    pub max_streams: Limit,
    /// Most response bytes one connection may hold in the server, not yet
    /// written to its socket (also HTTP/2's per-stream send buffer).
    #[arg(long, value_name = "BYTES|off", default_value_t = Limit::size(Limits::default().connection_send_budget))]
    pub connection_send_budget: Limit,
    /// Most response bytes all connections together may hold in the server.
    #[arg(long, value_name = "BYTES|off", default_value_t = Limit::size(Limits::default().send_budget))]
    pub send_budget: Limit,
    /// hyper's HTTP/1.1 buffer: the largest request head, and the response
    /// bytes it queues per connection (at least 8192).
    #[arg(long, value_name = "BYTES|off", default_value_t = Limit::size(Limits::default().http1_buffer))]
    pub http1_buffer: Limit,
    /// QUIC handshakes in progress beyond which a new client must answer a
    /// Retry (prove its address) first; 0: every client.
    #[arg(long, value_name = "N|off", default_value_t = Limit::size(Limits::default().quic_retry_threshold))]
    pub quic_retry_threshold: Limit,
    /// Most QUIC handshakes in progress at once; more are refused.
    #[arg(long, value_name = "N|off", default_value_t = Limit::size(Limits::default().max_quic_handshakes))]
    pub max_quic_handshakes: Limit,
}

impl LimitArgs {
    /// The limits these flags ask for; the error names the flag.
    pub fn limits(&self) -> Result<Limits> {
        let timeout = |flag: &str, limit: Limit| -> Result<Option<Duration>> {
            Ok(positive(flag, limit)?.map(Duration::from_millis))
        };
        let size = |flag: &str, limit: Limit| -> Result<Option<usize>> {
            positive(flag, limit)?
                .map(|n| usize::try_from(n).map_err(|_| anyhow::anyhow!("--{flag} {n}: too large")))
                .transpose()
        };
        let http1_buffer = size("http1-buffer", self.http1_buffer)?;
        if let Some(n) = http1_buffer.filter(|&n| n < 8192) {
            bail!("--http1-buffer {n}: must be at least 8192 (hyper's minimum), or {OFF}");
        }
        let max_streams =
            size("max-streams", self.max_streams)?.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        let quic_retry_threshold = match self.quic_retry_threshold {
            Limit::Off => None,
            Limit::At(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        };
        Ok(Limits {
            handshake_timeout: timeout("handshake-timeout-ms", self.handshake_timeout_ms)?,
            header_timeout: timeout("header-timeout-ms", self.header_timeout_ms)?,
            idle_timeout: timeout("idle-timeout-ms", self.idle_timeout_ms)?,
            max_connections: size("max-connections", self.max_connections)?,
            max_streams,
            connection_send_budget: size("connection-send-budget", self.connection_send_budget)?,
            send_budget: size("send-budget", self.send_budget)?,
            http1_buffer,
            quic_retry_threshold,
            max_quic_handshakes: size("max-quic-handshakes", self.max_quic_handshakes)?,
        })
    }
}

/// `limit`, which must not be 0.
fn positive(flag: &str, limit: Limit) -> Result<Option<u64>> {
    match limit {
        Limit::Off => Ok(None),
        Limit::At(0) => bail!("--{flag} 0: must be above 0, or {OFF} for no limit"),
        Limit::At(n) => Ok(Some(n)),
    }
}

/// The warning `serve` prints for a `--listen` address that is not a
/// loopback address, if it is not.
pub fn listen_warning(listen: SocketAddr) -> Option<String> {
    (!listen.ip().is_loopback()).then(|| {
        format!(
            "warning: --listen {listen} is not a loopback address: other machines can reach \
             this server, and its TLS private key is public (it is in httplab's source, \
             netsim/src/tls.rs), so anyone can impersonate it or read its traffic. It is a \
             test server; use 127.0.0.1 unless you mean to expose it."
        )
    })
}

/// The line `serve` prints on stdout once bound, for scripts: `serving on
/// ADDR (TCP and UDP)` (or `(TCP)`, `(UDP)` when it serves only one).
pub fn bound_line(server: &RealServer) -> String {
    let transports = match (server.has_tcp(), server.has_udp()) {
        (true, true) => "TCP and UDP",
        (true, false) => "TCP",
        _ => "UDP",
    };
    format!("serving on {} ({transports})", server.local_addr())
}

/// The limits `serve` serves under, in one line for stderr; `asked` is what
/// the flags asked for (a connection cap the open-file limit lowered says
/// so).
pub fn describe(limits: &Limits, asked: &Limits) -> String {
    let time = |d: Option<Duration>| d.map_or_else(|| OFF.to_owned(), seconds);
    let count = |n: Option<usize>| n.map_or_else(|| OFF.to_owned(), |n| n.to_string());
    let bytes = |n: Option<usize>| n.map_or_else(|| OFF.to_owned(), bytes);
    let mut connections = format!(
        "{} connections per transport",
        count(limits.max_connections)
    );
    if limits.max_connections != asked.max_connections {
        connections.push_str(&format!(
            " (lowered from {} by the open-file limit)",
            count(asked.max_connections)
        ));
    }
    format!(
        "limits: handshake {}, request head {}, idle {}; {connections}, {} streams each; \
         response data held {} per connection, {} in all; HTTP/1.1 buffer {}; QUIC Retry \
         beyond {} handshakes, at most {}",
        time(limits.handshake_timeout),
        time(limits.header_timeout),
        time(limits.idle_timeout),
        count(limits.max_streams.map(|n| n as usize)),
        bytes(limits.connection_send_budget),
        bytes(limits.send_budget),
        bytes(limits.http1_buffer),
        count(limits.quic_retry_threshold),
        count(limits.max_quic_handshakes),
    )
}

/// `d` as "10 s", "2.5 s" or "300 ms".
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs_f64())
    }
}

/// `n` bytes as "64 KiB", "1.5 MiB" or "1000 B".
fn bytes(n: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB / 4) {
        format!("{} MiB", n as f64 / MIB as f64)
    } else if n >= KIB && n.is_multiple_of(KIB / 4) {
        format!("{} KiB", n as f64 / KIB as f64)
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        limits: LimitArgs,
    }

    fn limits(args: &[&str]) -> Result<Limits> {
        let flags = Flags::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))?;
        flags.limits.limits()
    }

    #[test]
    fn no_flags_are_the_production_defaults() {
        assert_eq!(limits(&[]).unwrap(), Limits::default());
    }

    #[test]
    fn flags_set_and_turn_off_limits() {
        let got = limits(&[
            "--header-timeout-ms",
            "1500",
            "--idle-timeout-ms",
            "off",
            "--max-connections",
            "10",
            "--quic-retry-threshold",
            "0",
        ])
        .unwrap();
        assert_eq!(got.header_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(got.idle_timeout, None);
        assert_eq!(got.max_connections, Some(10));
        assert_eq!(got.quic_retry_threshold, Some(0));
        assert_eq!(got.handshake_timeout, Limits::default().handshake_timeout);
    }

    #[test]
    fn a_bad_limit_names_its_flag() {
        let zero = limits(&["--idle-timeout-ms", "0"]).unwrap_err();
        assert_eq!(
            zero.to_string(),
            "--idle-timeout-ms 0: must be above 0, or off for no limit"
        );
        let small = limits(&["--http1-buffer", "100"]).unwrap_err();
        assert_eq!(
            small.to_string(),
            "--http1-buffer 100: must be at least 8192 (hyper's minimum), or off"
        );
        let word = limits(&["--max-streams", "lots"]).unwrap_err();
        assert!(
            word.to_string()
                .contains("'lots' is neither a whole number nor 'off'"),
            "{word}"
        );
    }

    #[test]
    fn the_limits_line_reads_as_the_defaults() {
        let defaults = Limits::default();
        let lowered = defaults.clone().within_open_files(1024);
        assert_eq!(
            describe(&lowered, &defaults),
            "limits: handshake 10 s, request head 30 s, idle 60 s; 992 connections per \
             transport (lowered from 1024 by the open-file limit), 100 streams each; response \
             data held 256 KiB per connection, 64 MiB in all; HTTP/1.1 buffer 64 KiB; QUIC \
             Retry beyond 64 handshakes, at most 1024"
        );
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5 s");
        assert_eq!(seconds(Duration::from_millis(300)), "300 ms");
        assert_eq!(bytes(1000), "1000 B");
    }

    #[test]
    fn only_loopback_addresses_go_without_a_warning() {
        assert!(listen_warning("127.0.0.1:8443".parse().unwrap()).is_none());
        assert!(listen_warning("[::1]:8443".parse().unwrap()).is_none());
        let warning = listen_warning("0.0.0.0:8443".parse().unwrap()).unwrap();
        assert!(warning.contains("TLS private key is public"), "{warning}");
        assert!(listen_warning("[::]:8443".parse().unwrap()).is_some());
    }
}
