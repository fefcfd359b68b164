//! The lab's names for what a run speaks, how it connects, how its server
//! orders responses, which certificate chain it presents and whether a
//! page's origins share a connection: [`Protocol`], [`Handshake`],
//! [`Scheduler`], [`Certificate`] and [`Coalescing`], defined once here and
//! read by scenario files, the servers, the clients, the command line, the
//! run records and the reports; and the RFC 9218 [`Priority`] a request
//! carries, which the client sends and the server's
//! [`Scheduler::Priorities`] reads.
//!
//! Each name is serialized as its label ([`Protocol::label`],
//! [`Handshake::label`], [`Scheduler::label`], [`Certificate::label`],
//! [`Coalescing::label`]), parses from it
//! ([`std::str::FromStr`]) and prints as it ([`std::fmt::Display`]); `ALL`
//! lists every value in order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::schema::NameError;

/// An HTTP version the lab runs. Serialized as its label (`"h1"`, `"h2"`,
/// `"h3"`); ordered by version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// HTTP/1.1 over TLS 1.3 over TCP (`"h1"`); the client opens a
    /// browser-like pool of connections.
    H1,
    /// HTTP/2 over TLS 1.3 over TCP (`"h2"`), one connection.
    H2,
    /// HTTP/3 over QUIC (`"h3"`), one connection.
    H3,
}

impl Protocol {
    /// Every protocol, in version order.
    pub const ALL: [Protocol; 3] = [Protocol::H1, Protocol::H2, Protocol::H3];

    /// The label scenario files, the command line and results use:
    /// `"h1"`, `"h2"` or `"h3"`.
    pub fn label(self) -> &'static str {
        match self {
            Protocol::H1 => "h1",
            Protocol::H2 => "h2",
            Protocol::H3 => "h3",
        }
    }

    /// The HTTP version as people write it: `"HTTP/1.1"`, `"HTTP/2"` or
    /// `"HTTP/3"`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::H1 => "HTTP/1.1",
            Protocol::H2 => "HTTP/2",
            Protocol::H3 => "HTTP/3",
        }
    }

    /// What it runs over, in a few words: `"HTTP/1.1 over TLS over TCP"`.
    pub fn description(self) -> &'static str {
        match self {
            Protocol::H1 => "HTTP/1.1 over TLS over TCP",
            Protocol::H2 => "HTTP/2 over TLS over TCP",
            Protocol::H3 => "HTTP/3 over QUIC",
        }
    }
}

impl fmt::Display for Protocol {
    /// The label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Protocol {
    type Err = NameError;

    /// `"h1"`, `"h2"` or `"h3"`.
    fn from_str(s: &str) -> Result<Protocol, NameError> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.label() == s)
            .ok_or_else(|| NameError::one_of("protocol", s, &Protocol::ALL.map(Protocol::label)))
    }
}

/// How a run sets up its connections: a first visit (full TLS and QUIC
/// handshakes), or a return visit that resumes the TLS session of an
/// earlier one, with or without early data (TLS) / 0-RTT (QUIC).
/// Serialized as its label (`"full"`, `"resume"`, `"early-data"`), as a
/// scenario's `handshake` and its `handshake` sweep axis write it.
///
/// With `Resume` and `EarlyData` the client (`clients::run`) starts the run
/// with a warm-up: one connection fetches the plan's first object with a
/// full handshake, keeps the server's session tickets and closes; after
/// `clients::WARMUP_PAUSE` (1 s) the measured part of the run starts, its
/// connections offering those tickets. The server must issue tickets
/// (`netsim::tls::ServerResumption::On`, which the lab's runner sets for
/// these two), or every handshake stays full.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Handshake {
    /// Every connection a full handshake, no tickets kept (`"full"`): TLS
    /// 1.3 over TCP takes TCP's round trip and TLS's before the request
    /// goes; QUIC one round trip. The default, and what every other run of
    /// the lab does.
    #[default]
    Full,
    /// A warm-up, then connections that resume its session (`"resume"`;
    /// TLS 1.3 with a pre-shared key): still a round trip for TLS (and one
    /// for QUIC), but no certificate. No early data.
    Resume,
    /// As `Resume`, and the first request goes as early data
    /// (`"early-data"`): over TCP in the TLS ClientHello's flight (one
    /// round trip after TCP's), over QUIC as 0-RTT data with the first
    /// packet.
    EarlyData,
}

impl Handshake {
    /// Every mode, in order: full, resume, early data.
    pub const ALL: [Handshake; 3] = [Handshake::Full, Handshake::Resume, Handshake::EarlyData];

    /// The label scenario files, the command line and results use:
    /// `"full"`, `"resume"` or `"early-data"`.
    pub fn label(self) -> &'static str {
        match self {
            Handshake::Full => "full",
            Handshake::Resume => "resume",
            Handshake::EarlyData => "early-data",
        }
    }

    /// What it does, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            Handshake::Full => "Full TLS / QUIC handshakes",
            Handshake::Resume => "A warm-up connection, then one that resumes its TLS session",
            Handshake::EarlyData => {
                "As resume, with the first request as early data (TLS) or 0-RTT (QUIC)"
            }
        }
    }
}

impl fmt::Display for Handshake {
    /// The label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Handshake {
    type Err = NameError;

    /// `"full"`, `"resume"` or `"early-data"`.
    fn from_str(s: &str) -> Result<Handshake, NameError> {
        Handshake::ALL
            .into_iter()
            .find(|h| h.label() == s)
            .ok_or_else(|| NameError::one_of("handshake", s, &Handshake::ALL.map(Handshake::label)))
    }
}

/// How a server orders the responses it sends at the same time on one
/// HTTP/2 or HTTP/3 connection. Serialized as its label (`"round-robin"`,
/// `"sequential"`, `"priorities"`). HTTP/1.1 carries one response per
/// connection at a time and is not affected.
///
/// `servers::run_simulated_with` takes it; `docs/servers.md` says how each
/// server carries it out and how many bytes of two responses can still
/// overlap.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Scheduler {
    /// Every response at once, interleaved (`"round-robin"`): HTTP/2 one
    /// DATA frame (16 KiB) per stream in turn, as the h2 crate does; HTTP/3
    /// quinn's fair scheduling, one packet's worth per stream in turn. The
    /// default, and what every other run of the lab does.
    #[default]
    RoundRobin,
    /// One response at a time, in request order (`"sequential"`), each
    /// whole before the next starts.
    Sequential,
    /// RFC 9218 Extensible Prioritization (`"priorities"`): each request's
    /// `priority` header field ([`Priority`]; none means `u=3`, not
    /// incremental); more urgent responses first; among equally urgent
    /// ones, the non-incremental one at a time in request order, then the
    /// incremental ones together, interleaved (RFC 9218 section 10).
    Priorities,
}

impl Scheduler {
    /// Every scheduler, in order: round-robin, sequential, priorities.
    pub const ALL: [Scheduler; 3] = [
        Scheduler::RoundRobin,
        Scheduler::Sequential,
        Scheduler::Priorities,
    ];

    /// The label scenario files, the command line and results use:
    /// `"round-robin"`, `"sequential"` or `"priorities"`.
    pub fn label(self) -> &'static str {
        match self {
            Scheduler::RoundRobin => "round-robin",
            Scheduler::Sequential => "sequential",
            Scheduler::Priorities => "priorities",
        }
    }

    /// What it does, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            Scheduler::RoundRobin => "Every response interleaved, round-robin",
            Scheduler::Sequential => "One response at a time, in request order",
            Scheduler::Priorities => {
                "RFC 9218 priorities: most urgent first; non-incremental one at a time, \
                 incremental interleaved"
            }
        }
    }
}

impl fmt::Display for Scheduler {
    /// The label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Scheduler {
    type Err = NameError;

    /// `"round-robin"`, `"sequential"` or `"priorities"`.
    fn from_str(s: &str) -> Result<Scheduler, NameError> {
        Scheduler::ALL
            .into_iter()
            .find(|h| h.label() == s)
            .ok_or_else(|| NameError::one_of("scheduler", s, &Scheduler::ALL.map(Scheduler::label)))
    }
}

/// The priority of one response, as RFC 9218 (Extensible Prioritization
/// Scheme for HTTP, <https://www.rfc-editor.org/rfc/rfc9218>) writes it in
/// the `priority` request header field: an urgency from 0 (most urgent) to
/// 7, and whether the response can be used incrementally, as it arrives.
/// The default is RFC 9218's: `u=3`, not incremental.
///
/// What the lab's client sends for each kind of object is
/// `ObjectKind::priority` (Chrome's values, `docs/workloads.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority {
    /// 0 (most urgent) to 7 ([`Priority::LOWEST_URGENCY`]).
    pub urgency: u8,
    /// Whether the client processes the response as its bytes arrive
    /// (images), rather than only once it is whole (scripts, stylesheets).
    pub incremental: bool,
}

impl Default for Priority {
    /// `u=3`, not incremental.
    fn default() -> Priority {
        Priority::DEFAULT
    }
}

impl Priority {
    /// RFC 9218's default: urgency 3, not incremental.
    pub const DEFAULT: Priority = Priority {
        urgency: 3,
        incremental: false,
    };

    /// The largest (least urgent) urgency: 7.
    pub const LOWEST_URGENCY: u8 = 7;

    /// The `priority` header field's value, with RFC 9218's defaults left
    /// out as Chromium leaves them out (quiche's
    /// `SerializePriorityFieldValue`): `"u=0"`, `"u=1, i"`, `"i"` (urgency
    /// 3, incremental); `None` for the default, for which a client sends no
    /// header at all. An urgency above 7 is written as 7.
    pub fn header_value(self) -> Option<String> {
        let urgency = self.urgency.min(Priority::LOWEST_URGENCY);
        match (urgency == Priority::DEFAULT.urgency, self.incremental) {
            (true, false) => None,
            (true, true) => Some("i".to_owned()),
            (false, false) => Some(format!("u={urgency}")),
            (false, true) => Some(format!("u={urgency}, i")),
        }
    }

    /// The priority a `priority` header field's value asks for, read as
    /// RFC 9218 section 4 says: a structured-field dictionary whose `u`
    /// member is an integer 0 to 7 and whose `i` member is a boolean (a
    /// bare `i` is true); members the scheme does not define, their
    /// parameters, and values out of range or of the wrong type are
    /// ignored and leave the default in place. `None` (no header) is the
    /// default.
    pub fn parse(value: Option<&str>) -> Priority {
        let mut priority = Priority::DEFAULT;
        for member in value.unwrap_or("").split(',') {
            // Parameters (`;...`) of a member do not change its value.
            let member = member.split(';').next().unwrap_or("").trim();
            let (key, value) = match member.split_once('=') {
                Some((key, value)) => (key.trim(), Some(value.trim())),
                None => (member, None),
            };
            match (key, value) {
                ("u", Some(v)) => {
                    if let Ok(u) = v.parse::<u8>() {
                        if u <= Priority::LOWEST_URGENCY && !v.starts_with('+') {
                            priority.urgency = u;
                        }
                    }
                }
                ("i", None | Some("?1")) => priority.incremental = true,
                ("i", Some("?0")) => priority.incremental = false,
                _ => {}
            }
        }
        priority
    }
}

/// Which certificate chain the server presents in a full handshake.
/// Serialized as its label (`"minimal"`, `"realistic"`), as a scenario's
/// `certificate` and its `certificate` sweep axis write it.
///
/// The runner maps it to netsim's `tls::Certificate` (`SimConfig::certificate`),
/// which both the lab's server and its client read: the server presents
/// that chain, the client trusts only its root.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Certificate {
    /// One self-signed Ed25519 certificate of 304 bytes, which the client
    /// trusts directly (`"minimal"`): the smallest handshake TLS allows. The
    /// default, and what every other run of the lab does.
    #[default]
    Minimal,
    /// A public web server's chain (`"realistic"`): a leaf with an RSA-2048
    /// key, its intermediate and a cross-signed root, about 4 KB (as Let's
    /// Encrypt served 2021-2024); the client trusts only the self-signed
    /// root. Over QUIC the server's first flight then exceeds the 3×
    /// anti-amplification limit.
    Realistic,
}

impl Certificate {
    /// Every chain, in order: minimal, realistic.
    pub const ALL: [Certificate; 2] = [Certificate::Minimal, Certificate::Realistic];

    /// The label scenario files, the command line and results use:
    /// `"minimal"` or `"realistic"`.
    pub fn label(self) -> &'static str {
        match self {
            Certificate::Minimal => "minimal",
            Certificate::Realistic => "realistic",
        }
    }

    /// What it is, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            Certificate::Minimal => "One self-signed Ed25519 certificate (304 bytes)",
            Certificate::Realistic => {
                "Leaf (RSA-2048), intermediate and cross-signed root (about 4 KB)"
            }
        }
    }
}

impl fmt::Display for Certificate {
    /// The label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Certificate {
    type Err = NameError;

    /// `"minimal"` or `"realistic"`.
    fn from_str(s: &str) -> Result<Certificate, NameError> {
        Certificate::ALL
            .into_iter()
            .find(|x| x.label() == s)
            .ok_or_else(|| {
                NameError::one_of("certificate", s, &Certificate::ALL.map(Certificate::label))
            })
    }
}

/// Whether HTTP/2 and HTTP/3 carry the requests of every origin of a page
/// on one connection (connection coalescing). Serialized as its label
/// (`"on"`, `"off"`), as a scenario's `coalescing` and its `coalescing`
/// sweep axis write it.
///
/// The client (`clients::ClientConfig::coalesce`) carries it out. HTTP/1.1
/// never coalesces: it opens a pool of connections per origin either way.
/// A workload of one origin has nothing to coalesce, so the choice changes
/// only pages of several origins.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Coalescing {
    /// Every origin's requests on the document origin's connection
    /// (`"on"`), as Chrome pools connections (RFC 9113 section 9.1.1, RFC
    /// 9114 section 3.3): the lab's certificate covers every origin of the
    /// page and they share the server's one address. The default, and what
    /// every other run of the lab does.
    #[default]
    On,
    /// One connection per origin (`"off"`), as when the origins are served
    /// by different servers or the certificate does not cover them all.
    Off,
}

impl Coalescing {
    /// Both choices, in order: on, off.
    pub const ALL: [Coalescing; 2] = [Coalescing::On, Coalescing::Off];

    /// The label scenario files, the command line and results use: `"on"`
    /// or `"off"`.
    pub fn label(self) -> &'static str {
        match self {
            Coalescing::On => "on",
            Coalescing::Off => "off",
        }
    }

    /// What it does, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            Coalescing::On => {
                "HTTP/2 and HTTP/3 send every origin's requests on the document's connection"
            }
            Coalescing::Off => "HTTP/2 and HTTP/3 open one connection per origin",
        }
    }

    /// Whether the origins share a connection ([`Coalescing::On`]).
    pub fn is_on(self) -> bool {
        self == Coalescing::On
    }
}

impl fmt::Display for Coalescing {
    /// The label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Coalescing {
    type Err = NameError;

    /// `"on"` or `"off"`.
    fn from_str(s: &str) -> Result<Coalescing, NameError> {
        Coalescing::ALL
            .into_iter()
            .find(|x| x.label() == s)
            .ok_or_else(|| {
                NameError::one_of("coalescing", s, &Coalescing::ALL.map(Coalescing::label))
            })
    }
}

/// How the client reaches HTTP/3, on a page loaded as a browser does.
/// Serialized as its label (`"known"`, `"race"`, `"alt-svc"`), as a
/// scenario's `h3_discovery` writes it. HTTP/1.1 and HTTP/2 runs ignore it.
///
/// The fallback delay (the scenario's `h3_fallback_ms`, default
/// [`H3_FALLBACK_DELAY`]) bounds how long requests wait for QUIC before
/// TCP is used.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum H3Discovery {
    /// The client knows the server speaks HTTP/3 and uses it alone, with no
    /// fallback (`"known"`): the lab's pure HTTP/3 measurement, and the
    /// default. With UDP blocked, the run fails.
    #[default]
    Known,
    /// As Chrome does when HTTP/3 is known to work (`"race"`): QUIC first,
    /// then TCP (HTTP/2) if QUIC has no connection after the fallback delay,
    /// or at once if QUIC fails; the first connection ready carries the page.
    Race,
    /// A first visit (`"alt-svc"`): HTTP/2 first; the server's `alt-svc: h3`
    /// header starts QUIC, and requests found from then on wait for it, up
    /// to the fallback delay, before going over HTTP/2.
    AltSvc,
}

/// The default fallback delay: 300 ms, Chromium's delay for the TCP job
/// when it races QUIC and has no RTT estimate of the server
/// (`QuicSessionPool::GetTimeDelayForWaitingJob`; with one it waits 1.5 ×
/// the smoothed RTT, at most 3 s).
pub const H3_FALLBACK_DELAY: std::time::Duration = std::time::Duration::from_millis(300);

impl H3Discovery {
    /// Every way, in order: known, race, alt-svc.
    pub const ALL: [H3Discovery; 3] = [H3Discovery::Known, H3Discovery::Race, H3Discovery::AltSvc];

    /// The label scenario files, the command line and results use.
    pub fn label(self) -> &'static str {
        match self {
            H3Discovery::Known => "known",
            H3Discovery::Race => "race",
            H3Discovery::AltSvc => "alt-svc",
        }
    }

    /// What it is, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            H3Discovery::Known => "HTTP/3 alone, no fallback",
            H3Discovery::Race => "QUIC first, TCP after the fallback delay (as Chrome races)",
            H3Discovery::AltSvc => "HTTP/2 first, HTTP/3 once alt-svc says so (a first visit)",
        }
    }
}

impl fmt::Display for H3Discovery {
    /// The label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for H3Discovery {
    type Err = NameError;

    /// `"known"`, `"race"` or `"alt-svc"`.
    fn from_str(s: &str) -> Result<H3Discovery, NameError> {
        H3Discovery::ALL
            .into_iter()
            .find(|x| x.label() == s)
            .ok_or_else(|| {
                NameError::one_of("h3_discovery", s, &H3Discovery::ALL.map(H3Discovery::label))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_writes_and_reads_the_labels() {
        for p in Protocol::ALL {
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.label()));
            assert_eq!(serde_json::from_str::<Protocol>(&json).unwrap(), p);
            assert_eq!(p.label().parse::<Protocol>().unwrap(), p);
            assert_eq!(p.to_string(), p.label());
        }
        for h in Handshake::ALL {
            let json = serde_json::to_string(&h).unwrap();
            assert_eq!(json, format!("\"{}\"", h.label()));
            assert_eq!(serde_json::from_str::<Handshake>(&json).unwrap(), h);
            assert_eq!(h.label().parse::<Handshake>().unwrap(), h);
            assert_eq!(h.to_string(), h.label());
        }
        for s in Scheduler::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.label()));
            assert_eq!(serde_json::from_str::<Scheduler>(&json).unwrap(), s);
            assert_eq!(s.label().parse::<Scheduler>().unwrap(), s);
            assert_eq!(s.to_string(), s.label());
        }
        assert_eq!(Scheduler::default(), Scheduler::RoundRobin);
    }

    #[test]
    fn certificates_read_and_write_their_labels() {
        for c in Certificate::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.label()));
            assert_eq!(serde_json::from_str::<Certificate>(&json).unwrap(), c);
            assert_eq!(c.label().parse::<Certificate>().unwrap(), c);
            assert_eq!(c.to_string(), c.label());
        }
        assert_eq!(Certificate::default(), Certificate::Minimal);
        assert_eq!(
            "large".parse::<Certificate>().unwrap_err().to_string(),
            "unknown certificate \"large\"; expected minimal or realistic"
        );
    }

    #[test]
    fn coalescing_reads_and_writes_its_labels() {
        for c in Coalescing::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.label()));
            assert_eq!(serde_json::from_str::<Coalescing>(&json).unwrap(), c);
            assert_eq!(c.label().parse::<Coalescing>().unwrap(), c);
            assert_eq!(c.to_string(), c.label());
        }
        assert_eq!(Coalescing::default(), Coalescing::On);
        assert!(Coalescing::On.is_on() && !Coalescing::Off.is_on());
        assert_eq!(
            "sometimes".parse::<Coalescing>().unwrap_err().to_string(),
            "unknown coalescing \"sometimes\"; expected on or off"
        );
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        assert_eq!(
            "h4".parse::<Protocol>().unwrap_err().to_string(),
            "unknown protocol \"h4\"; expected h1, h2 or h3"
        );
        assert_eq!(
            "0rtt".parse::<Handshake>().unwrap_err().to_string(),
            "unknown handshake \"0rtt\"; expected full, resume or early-data"
        );
        assert_eq!(
            "fifo".parse::<Scheduler>().unwrap_err().to_string(),
            "unknown scheduler \"fifo\"; expected round-robin, sequential or priorities"
        );
    }

    #[test]
    fn priorities_are_written_without_their_defaults() {
        let p = |urgency, incremental| Priority {
            urgency,
            incremental,
        };
        assert_eq!(p(0, false).header_value().as_deref(), Some("u=0"));
        assert_eq!(p(0, true).header_value().as_deref(), Some("u=0, i"));
        assert_eq!(p(1, true).header_value().as_deref(), Some("u=1, i"));
        assert_eq!(p(3, true).header_value().as_deref(), Some("i"));
        assert_eq!(p(3, false).header_value(), None);
        assert_eq!(p(5, false).header_value().as_deref(), Some("u=5"));
        assert_eq!(Priority::default(), p(3, false));
    }

    #[test]
    fn priorities_are_read_as_rfc_9218_says() {
        let p = |urgency, incremental| Priority {
            urgency,
            incremental,
        };
        assert_eq!(Priority::parse(None), p(3, false));
        assert_eq!(Priority::parse(Some("")), p(3, false));
        assert_eq!(Priority::parse(Some("u=0")), p(0, false));
        assert_eq!(Priority::parse(Some("u=1, i")), p(1, true));
        assert_eq!(Priority::parse(Some("i")), p(3, true));
        assert_eq!(Priority::parse(Some("u=2,i=?1")), p(2, true));
        assert_eq!(Priority::parse(Some("i=?0, u=6")), p(6, false));
        // Unknown members, parameters and bad values are ignored.
        assert_eq!(Priority::parse(Some("u=9, i")), p(3, true));
        assert_eq!(Priority::parse(Some("u=a, x=1")), p(3, false));
        assert_eq!(Priority::parse(Some("u=1;foo=bar, i;x")), p(1, true));
        assert_eq!(Priority::parse(Some("i=1")), p(3, false));
        // What is written reads back.
        for urgency in 0..=7 {
            for incremental in [false, true] {
                let priority = p(urgency, incremental);
                assert_eq!(
                    Priority::parse(priority.header_value().as_deref()),
                    priority
                );
            }
        }
    }
}
