//! The boundary between the lab and a TCP implementation.
//!
//! A [`TcpStack`] is one host's TCP, sans-IO: it never reads a clock and never
//! touches a socket. The caller (netsim's host) feeds it IPv4 packets and
//! the current simulated time, and takes IPv4 packets out. netsim's async
//! `TcpStream` and `TcpListener` are written once, against this trait, so a
//! second implementation drops in beside [`crate::LinuxStack`] and
//! [`crate::SmoltcpStack`].
//! The call order is documented on [`TcpStack`].

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Parameter, SegmentArrival};

/// Identifies a connection inside one [`TcpStack`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u32);

/// Identifies a listening port inside one [`TcpStack`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenerId(pub u32);

/// Why a TCP connection cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TcpError {
    /// The peer reset the connection, or it was aborted.
    #[error("connection reset")]
    Reset,
    /// The connection attempt was refused or failed.
    #[error("connection refused")]
    Refused,
    /// The local address the connection was bound to went away (path change).
    #[error("network path changed: local address {0} is gone")]
    AddressGone(Ipv4Addr),
    /// The port is already in use.
    #[error("address in use: {0}")]
    AddrInUse(SocketAddrV4),
    /// The stack ran out of resources (sockets or ports).
    #[error("tcp stack exhausted: {0}")]
    Exhausted(&'static str),
    /// The connection is closed for this operation (e.g. write after close).
    #[error("connection closed")]
    Closed,
    /// No connection or listener has this id.
    #[error("unknown connection")]
    Unknown,
}

/// The outcome of a [`TcpStack::recv`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecvOutcome {
    /// This many bytes were copied.
    Data(usize),
    /// Nothing to read yet.
    WouldBlock,
    /// The peer closed its side; no more data will come.
    Eof,
    /// The connection failed.
    Failed(TcpError),
}

/// The outcome of a [`TcpStack::send`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// This many bytes were queued (at least one).
    Queued(usize),
    /// The send buffer is full, or the connection is not yet established.
    WouldBlock,
    /// The connection failed or is closed for writing.
    Failed(TcpError),
}

/// Where a connection is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// The handshake is under way.
    Connecting,
    /// Data can flow.
    Established,
    /// The connection is over, cleanly or not.
    Closed(Option<TcpError>),
}

/// What the stack can tell about one connection's sender state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpSenderInfo {
    /// Congestion window in bytes, if the stack exposes it.
    pub cwnd: Option<u64>,
    /// Smoothed RTT, if the stack exposes it.
    pub srtt: Option<Duration>,
}

/// Settings every TCP implementation takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpConfig {
    /// Send and receive buffer size of every connection, in bytes. The
    /// receive buffer bounds the advertised window (with window scaling).
    /// Default: 4 MiB; the simulation raises it to at least 4 × the
    /// network's largest bandwidth-delay product.
    pub buffer_bytes: usize,
    /// Congestion control. Default: [`Congestion::Cubic`], Linux's CUBIC.
    pub congestion: Congestion,
    /// Nagle's algorithm. Default: off, as browsers and servers set
    /// `TCP_NODELAY`. (The Linux-like stack never uses Nagle.)
    pub nagle: bool,
    /// Which TCP implementation runs. Default: [`TcpImplementation::Linux`].
    pub implementation: TcpImplementation,
    /// The MTU of the host's link, in bytes (whole IPv4 packets): a
    /// connection announces an MSS of this less 40 bytes (IPv4 and TCP
    /// headers without options) and sends no packet larger than this.
    /// Default: 1500. Between [`MIN_MTU`] and [`MAX_MTU`]; change it on a
    /// running stack with [`TcpStack::set_mtu`].
    pub mtu: u32,
    /// Pacing of data segments (Linux's fq qdisc in EDT mode). Default:
    /// [`Pacing::Off`], as Linux with its default `pfifo_fast`/`fq_codel`
    /// qdisc and CUBIC. [`Congestion::Bbr`] paces whatever this says, as
    /// Linux's BBR does (`tcp_internal_pacing`). smoltcp cannot pace.
    pub pacing: Pacing,
    /// The initial congestion window, in segments (Linux's
    /// `TCP_INIT_CWND`, or a route's `initcwnd`). Default: 10
    /// ([`DEFAULT_INITIAL_WINDOW`]); between 1 and
    /// [`MAX_INITIAL_WINDOW`]. smoltcp has its own fixed initial window
    /// (two 1024-byte segments, `DEFAULT_MSS * 2` in its congestion
    /// controllers) and accepts only the default here, which it reads as
    /// "the implementation's own".
    pub initial_window: u32,
}

/// The largest socket buffer smoltcp takes, in bytes: 1 GiB (its
/// `tcp::Socket::new` panics above it, because a window scale of 14 cannot
/// announce more).
pub const SMOLTCP_MAX_BUFFER: usize = 1 << 30;

/// The initial window of a [`TcpConfig::default`], in segments: Linux's
/// `TCP_INIT_CWND` (include/net/tcp.h), RFC 6928's IW10.
pub const DEFAULT_INITIAL_WINDOW: u32 = 10;
/// Largest initial window a [`TcpConfig`] accepts, in segments.
pub const MAX_INITIAL_WINDOW: u32 = 1000;

/// Smallest MTU a [`TcpConfig`] accepts, in bytes: 576, the datagram every
/// IPv4 host must accept (RFC 791), whose MSS is TCP's default of 536
/// (RFC 9293 3.7.1).
pub const MIN_MTU: u32 = 576;
/// Largest MTU a [`TcpConfig`] accepts, in bytes: the largest IPv4 packet.
pub const MAX_MTU: u32 = 65_535;
/// The MTU of a [`TcpConfig::default`], in bytes.
pub const DEFAULT_MTU: u32 = 1500;

/// A [`TcpConfig`] field with a value no stack can use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidTcpConfig {
    /// The field, e.g. `mtu`.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl TcpConfig {
    /// Check every field; the error names the first bad one. The
    /// congestion controller is named `cc`, as scenarios spell it.
    ///
    /// smoltcp supports less than the Linux-like stack: it has no BBR (its
    /// `CongestionControl` is `None`, `Reno` or `Cubic`), no pacing, and a
    /// fixed initial window of its own, so [`Congestion::Bbr`],
    /// [`Pacing::On`] and an initial window other than the default are
    /// errors for [`TcpImplementation::Smoltcp`].
    pub fn validate(&self) -> Result<(), InvalidTcpConfig> {
        if self.buffer_bytes == 0 {
            return Err(InvalidTcpConfig {
                field: "buffer_bytes",
                reason: "must be greater than zero".to_owned(),
            });
        }
        check_mtu(self.mtu)?;
        if !(1..=MAX_INITIAL_WINDOW).contains(&self.initial_window) {
            return Err(InvalidTcpConfig {
                field: "initial_window",
                reason: format!(
                    "must be between 1 and {MAX_INITIAL_WINDOW} segments, got {}",
                    self.initial_window
                ),
            });
        }
        match self.implementation {
            TcpImplementation::Linux => {}
            TcpImplementation::Smoltcp => {
                if self.buffer_bytes > SMOLTCP_MAX_BUFFER {
                    return Err(InvalidTcpConfig {
                        field: "buffer_bytes",
                        reason: format!(
                            "smoltcp's socket buffers cannot exceed 1 GiB \
                             ({SMOLTCP_MAX_BUFFER} bytes), got {}",
                            self.buffer_bytes
                        ),
                    });
                }
                if self.congestion == Congestion::Bbr {
                    return Err(InvalidTcpConfig {
                        field: "cc",
                        reason: "smoltcp has no bbr (only cubic and newreno)".to_owned(),
                    });
                }
                if self.pacing == Pacing::On {
                    return Err(InvalidTcpConfig {
                        field: "pacing",
                        reason: "smoltcp cannot pace".to_owned(),
                    });
                }
                if self.initial_window != DEFAULT_INITIAL_WINDOW {
                    return Err(InvalidTcpConfig {
                        field: "initial_window",
                        reason: format!(
                            "smoltcp has its own fixed initial window (2 x 1024 bytes); \
                             leave it at the default {DEFAULT_INITIAL_WINDOW}, got {}",
                            self.initial_window
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// `Ok` if a stack can run with an MTU of `mtu` bytes.
pub(crate) fn check_mtu(mtu: u32) -> Result<(), InvalidTcpConfig> {
    if (MIN_MTU..=MAX_MTU).contains(&mtu) {
        Ok(())
    } else {
        Err(InvalidTcpConfig {
            field: "mtu",
            reason: format!("must be between {MIN_MTU} and {MAX_MTU} bytes, got {mtu}"),
        })
    }
}

/// The TCP implementations the lab can run. Serialized as its label
/// (`"linux"`, `"smoltcp"`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TcpImplementation {
    /// The lab's own TCP modelled on Linux's defaults (IW10, 200 ms minimum
    /// RTO, SACK, RACK-TLP, PRR, CUBIC as Linux's `tcp_cubic.c` with HyStart).
    /// The default.
    #[default]
    Linux,
    /// smoltcp 0.14, RFC-minimal; kept as an independent cross-check.
    Smoltcp,
}

impl TcpImplementation {
    /// Every implementation, the default first.
    pub const ALL: [TcpImplementation; 2] = [TcpImplementation::Linux, TcpImplementation::Smoltcp];

    /// `"linux"` or `"smoltcp"`, as scenarios and the command line spell it.
    pub fn label(self) -> &'static str {
        match self {
            TcpImplementation::Linux => "linux",
            TcpImplementation::Smoltcp => "smoltcp",
        }
    }

    /// One line for a person: what this implementation is.
    pub fn description(self) -> &'static str {
        match self {
            TcpImplementation::Linux => "The lab's Linux-like TCP (the default)",
            TcpImplementation::Smoltcp => "smoltcp, the RFC-minimal cross-check",
        }
    }
}

impl fmt::Display for TcpImplementation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A name that is not a [`TcpImplementation`]'s label.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown tcp implementation {0:?}: expected linux or smoltcp")]
pub struct UnknownImplementation(pub String);

impl FromStr for TcpImplementation {
    type Err = UnknownImplementation;

    /// `"linux"` or `"smoltcp"`.
    fn from_str(s: &str) -> Result<TcpImplementation, UnknownImplementation> {
        TcpImplementation::ALL
            .into_iter()
            .find(|t| t.label() == s)
            .ok_or_else(|| UnknownImplementation(s.to_owned()))
    }
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            buffer_bytes: 4 << 20,
            congestion: Congestion::Cubic,
            nagle: false,
            implementation: TcpImplementation::Linux,
            mtu: DEFAULT_MTU,
            pacing: Pacing::Off,
            initial_window: DEFAULT_INITIAL_WINDOW,
        }
    }
}

/// A congestion controller. Serialized as its label (`"cubic"`,
/// `"cubic-rfc9438"`, `"newreno"`, `"bbr"`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Congestion {
    /// CUBIC as Linux's `tcp_cubic.c` runs it: whole segments, β =
    /// 717/1024, HyStart's ACK-train and delay detectors (`"cubic"`). The
    /// default.
    #[default]
    #[serde(rename = "cubic")]
    Cubic,
    /// CUBIC as RFC 9438 specifies it, with HyStart++ (RFC 9406)
    /// (`"cubic-rfc9438"`). Not among the scenario choices
    /// ([`Congestion::ALL`]), but its label parses.
    #[serde(rename = "cubic-rfc9438")]
    CubicRfc9438,
    /// Reno (NewReno in the Linux-like stack) (`"newreno"`).
    #[serde(rename = "newreno")]
    Reno,
    /// BBR v1 as mainline Linux's `tcp_bbr.c` (`"bbr"`). It always paces.
    #[serde(rename = "bbr")]
    Bbr,
}

impl Congestion {
    /// The scenario choices, the default first.
    pub const ALL: [Congestion; 3] = [Congestion::Cubic, Congestion::Reno, Congestion::Bbr];

    /// `"cubic"`, `"cubic-rfc9438"`, `"newreno"` or `"bbr"`, as scenarios
    /// and the command line spell it.
    pub fn label(self) -> &'static str {
        match self {
            Congestion::Cubic => "cubic",
            Congestion::CubicRfc9438 => "cubic-rfc9438",
            Congestion::Reno => "newreno",
            Congestion::Bbr => "bbr",
        }
    }

    /// One line for a person: what this controller is.
    pub fn description(self) -> &'static str {
        match self {
            Congestion::Cubic => "CUBIC as Linux's tcp_cubic.c, with HyStart (the default)",
            Congestion::CubicRfc9438 => "CUBIC as RFC 9438, with HyStart++",
            Congestion::Reno => "NewReno (RFC 5681 + RFC 6582)",
            Congestion::Bbr => "BBR v1 as Linux's tcp_bbr.c, paced",
        }
    }
}

impl fmt::Display for Congestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A name that is not a [`Congestion`]'s label.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown cc {0:?}: expected cubic, newreno or bbr")]
pub struct UnknownCongestion(pub String);

impl FromStr for Congestion {
    type Err = UnknownCongestion;

    /// A label of [`Congestion::ALL`], or `"cubic-rfc9438"`.
    fn from_str(s: &str) -> Result<Congestion, UnknownCongestion> {
        Congestion::ALL
            .into_iter()
            .chain([Congestion::CubicRfc9438])
            .find(|c| c.label() == s)
            .ok_or_else(|| UnknownCongestion(s.to_owned()))
    }
}

/// Whether data segments are paced. Serialized as its label (`"off"`,
/// `"on"`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Pacing {
    /// Segments leave as soon as the window allows, in bursts (`"off"`).
    /// The default.
    #[default]
    Off,
    /// Each data segment leaves at its earliest departure time, as Linux
    /// with the fq qdisc (EDT) paces: at 200 % of cwnd/srtt in slow start,
    /// 120 % in congestion avoidance (`"on"`).
    On,
}

impl Pacing {
    /// Both settings, the default first.
    pub const ALL: [Pacing; 2] = [Pacing::Off, Pacing::On];

    /// `"off"` or `"on"`, as scenarios and the command line spell it.
    pub fn label(self) -> &'static str {
        match self {
            Pacing::Off => "off",
            Pacing::On => "on",
        }
    }

    /// One line for a person: what this setting does.
    pub fn description(self) -> &'static str {
        match self {
            Pacing::Off => "No pacing: segments leave in window-sized bursts (the default)",
            Pacing::On => {
                "Paced as Linux's fq qdisc (EDT): 200 % of cwnd/srtt in slow start, 120 % after"
            }
        }
    }
}

impl fmt::Display for Pacing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A name that is not a [`Pacing`]'s label.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown pacing {0:?}: expected off or on")]
pub struct UnknownPacing(pub String);

impl FromStr for Pacing {
    type Err = UnknownPacing;

    /// `"off"` or `"on"`.
    fn from_str(s: &str) -> Result<Pacing, UnknownPacing> {
        Pacing::ALL
            .into_iter()
            .find(|p| p.label() == s)
            .ok_or_else(|| UnknownPacing(s.to_owned()))
    }
}

/// One host's TCP implementation, sans-IO: it never reads a clock and
/// never touches a socket; every time it needs is passed in.
///
/// Its methods fall into four groups, in the style of `quinn-proto`'s
/// `Connection`:
/// - getters, which change nothing: [`implementation`](Self::implementation),
///   [`parameters`](Self::parameters), [`state`](Self::state),
///   [`endpoints`](Self::endpoints), [`readable`](Self::readable),
///   [`writable`](Self::writable), [`sender_info`](Self::sender_info),
///   [`counters`](Self::counters), [`arrivals`](Self::arrivals);
/// - application calls: [`listen`](Self::listen), [`accept`](Self::accept),
///   [`close_listener`](Self::close_listener), [`connect`](Self::connect),
///   [`recv`](Self::recv), [`send`](Self::send),
///   [`shutdown`](Self::shutdown), [`abort`](Self::abort),
///   [`release`](Self::release), and the host's
///   [`change_address`](Self::change_address) and
///   [`set_mtu`](Self::set_mtu);
/// - `handle_*`, inputs from the wire: [`handle_packet`](Self::handle_packet);
/// - `poll*`, outputs: [`poll`](Self::poll) and [`poll_at`](Self::poll_at).
///
/// # Call order
/// The caller (netsim's host driver) runs steps; in each step, at the
/// current time `now`:
/// 1. [`handle_packet`](Self::handle_packet) for every packet that arrived
///    by `now`, in arrival order;
/// 2. [`poll`](Self::poll) with `now`, which runs timers and appends the
///    packets to send;
/// 3. [`poll_at`](Self::poll_at), to learn when to run the next step if
///    nothing arrives.
///
/// Application calls may come at any time between steps; the caller runs a
/// step after them (at the same `now`) so that what they queued goes out.
/// `now` never goes backwards from one call to the next.
pub trait TcpStack: Send + fmt::Debug {
    /// Which implementation this is.
    fn implementation(&self) -> TcpImplementation;
    /// Key parameters for a report's methodology, in a fixed order, read
    /// from the stack's configuration and constants; the caller formats
    /// them.
    fn parameters(&self) -> Vec<Parameter>;

    /// Start listening on `local`.
    fn listen(&mut self, local: SocketAddrV4) -> Result<ListenerId, TcpError>;
    /// Take one established connection from a listener's backlog.
    fn accept(&mut self, listener: ListenerId) -> Option<ConnId>;
    /// Stop listening and drop the backlog.
    fn close_listener(&mut self, listener: ListenerId);

    /// Open a connection from `local` to `remote`; the SYN goes out at the
    /// next `poll`.
    fn connect(&mut self, local: SocketAddrV4, remote: SocketAddrV4) -> Result<ConnId, TcpError>;
    /// The connection's state.
    fn state(&self, conn: ConnId) -> ConnState;
    /// Local and remote address of a connection.
    fn endpoints(&self, conn: ConnId) -> Option<(SocketAddrV4, SocketAddrV4)>;
    /// Copy received bytes into `buf`.
    fn recv(&mut self, conn: ConnId, buf: &mut [u8]) -> RecvOutcome;
    /// Queue bytes for sending.
    fn send(&mut self, conn: ConnId, data: &[u8]) -> SendOutcome;
    /// Whether [`recv`](Self::recv) into a non-empty buffer would return
    /// anything but [`RecvOutcome::WouldBlock`] now: bytes, the end of the
    /// stream, or a failure. The caller wakes a reader only when it holds,
    /// so it must never be `false` when `recv` would not block; `true`
    /// when unsure costs a wasted poll, nothing else.
    fn readable(&self, conn: ConnId) -> bool;
    /// Whether [`send`](Self::send) of a non-empty buffer would return
    /// anything but [`SendOutcome::WouldBlock`] now, with the same
    /// contract as [`readable`](Self::readable).
    fn writable(&self, conn: ConnId) -> bool;
    /// Close the sending side (FIN) once queued data is sent.
    fn shutdown(&mut self, conn: ConnId);
    /// Reset the connection at once.
    fn abort(&mut self, conn: ConnId, reason: TcpError);
    /// The application dropped its handle: close gracefully and free the
    /// connection when done.
    fn release(&mut self, conn: ConnId);
    /// Sender state, where the stack exposes it.
    fn sender_info(&self, conn: ConnId) -> TcpSenderInfo;
    /// The implementation's own counters for a connection (retransmission
    /// timeouts, tail loss probes, recovery episodes, ...), by name. Default:
    /// none.
    fn counters(&self, _conn: ConnId) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
    /// Every data segment the connection received, with when its bytes
    /// became readable; `None` if the stack keeps no such record. Default:
    /// `None`.
    fn arrivals(&self, _conn: ConnId) -> Option<Vec<SegmentArrival>> {
        None
    }

    /// The host's address changed from `old` to `new`. Connections bound to
    /// `old` end with [`TcpError::AddressGone`]; returns them.
    fn change_address(&mut self, old: Ipv4Addr, new: Ipv4Addr) -> Vec<ConnId>;
    /// The host's link MTU is now `mtu` bytes (it moved to a path with
    /// another MTU): connections opened or accepted from now on announce
    /// their MSS from it and send no larger packet. What happens to
    /// connections already open is the implementation's (see its docs).
    /// [`parameters`](Self::parameters) reports the new MTU. Rejects an MTU
    /// [`TcpConfig::validate`] would, changing nothing.
    fn set_mtu(&mut self, mtu: u32) -> Result<(), InvalidTcpConfig>;

    /// An IPv4 packet carrying TCP arrived.
    fn handle_packet(&mut self, now: Duration, packet: Vec<u8>);
    /// Process arrived packets and timers at `now`; append packets to send
    /// to `out`.
    fn poll(&mut self, now: Duration, out: &mut Vec<Vec<u8>>);
    /// When `poll` must be called next even if no packet arrives.
    fn poll_at(&mut self, now: Duration) -> Option<Duration>;
}

#[cfg(test)]
mod vocabulary {
    use super::*;

    #[test]
    fn congestion_labels_parse_and_serialize_as_themselves() {
        let every = [
            Congestion::Cubic,
            Congestion::CubicRfc9438,
            Congestion::Reno,
            Congestion::Bbr,
        ];
        for cc in every {
            assert_eq!(cc.label().parse::<Congestion>(), Ok(cc));
            assert_eq!(cc.to_string(), cc.label());
            let json = serde_json::to_string(&cc).unwrap();
            assert_eq!(json, format!("{:?}", cc.label()));
            assert_eq!(serde_json::from_str::<Congestion>(&json).unwrap(), cc);
            assert!(!cc.description().is_empty());
        }
        assert_eq!(
            Congestion::ALL.map(Congestion::label),
            ["cubic", "newreno", "bbr"]
        );
        assert_eq!(Congestion::default(), Congestion::Cubic);
        assert_eq!(
            "reno".parse::<Congestion>().unwrap_err().to_string(),
            "unknown cc \"reno\": expected cubic, newreno or bbr"
        );
    }

    #[test]
    fn pacing_labels_parse_and_serialize_as_themselves() {
        for p in Pacing::ALL {
            assert_eq!(p.label().parse::<Pacing>(), Ok(p));
            assert_eq!(p.to_string(), p.label());
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Pacing>(&json).unwrap(), p);
            assert!(!p.description().is_empty());
        }
        assert_eq!(Pacing::ALL.map(Pacing::label), ["off", "on"]);
        assert_eq!(Pacing::default(), Pacing::Off);
        assert!("yes".parse::<Pacing>().is_err());
    }

    #[test]
    fn initial_window_is_checked_by_name() {
        assert_eq!(TcpConfig::default().initial_window, 10);
        for iw in [0, 1001] {
            let e = TcpConfig {
                initial_window: iw,
                ..TcpConfig::default()
            }
            .validate()
            .unwrap_err();
            assert_eq!(e.field, "initial_window");
        }
        for iw in [1, 4, 32, 1000] {
            let c = TcpConfig {
                initial_window: iw,
                ..TcpConfig::default()
            };
            assert_eq!(c.validate(), Ok(()));
        }
    }

    #[test]
    fn smoltcp_rejects_what_it_cannot_do_by_field() {
        let smoltcp = TcpConfig {
            implementation: TcpImplementation::Smoltcp,
            ..TcpConfig::default()
        };
        assert_eq!(smoltcp.validate(), Ok(()));
        let cases = [
            (
                TcpConfig {
                    congestion: Congestion::Bbr,
                    ..smoltcp.clone()
                },
                "cc",
            ),
            (
                TcpConfig {
                    pacing: Pacing::On,
                    ..smoltcp.clone()
                },
                "pacing",
            ),
            (
                TcpConfig {
                    initial_window: 2,
                    ..smoltcp.clone()
                },
                "initial_window",
            ),
        ];
        for (config, field) in cases {
            assert_eq!(config.validate().unwrap_err().field, field);
        }
        for cc in [
            Congestion::Cubic,
            Congestion::CubicRfc9438,
            Congestion::Reno,
        ] {
            let c = TcpConfig {
                congestion: cc,
                ..smoltcp.clone()
            };
            assert_eq!(c.validate(), Ok(()));
        }
    }
}
