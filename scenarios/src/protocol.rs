//! The lab's names for what a run speaks, how it connects and what its
//! server does: [`Protocol`], [`Handshake`], [`Scheduler`] and
//! [`Certificate`], defined once here and read by scenario files, the
//! clients, the command line, the run records and the reports.
//!
//! Each is serialized as its label ([`Protocol::label`],
//! [`Handshake::label`], [`Certificate::label`]), parses from it
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

/// How a server orders the responses of one HTTP/2 or HTTP/3 connection
/// when several are ready (HTTP/1.1 sends one response per connection at a
/// time whatever this says). Serialized as its label (`"round-robin"`,
/// `"sequential"`, `"priorities"`), as a scenario's `scheduler` and its
/// `scheduler` sweep axis write it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Scheduler {
    /// Every ready response in turn (`"round-robin"`): HTTP/2 in DATA
    /// frames of up to 16 KiB, HTTP/3 as quinn's fair stream scheduling.
    /// The default, and what the lab did before the scheduler was a choice.
    #[default]
    RoundRobin,
    /// One response at a time, in request order (`"sequential"`).
    Sequential,
    /// RFC 9218's urgency and incremental parameters, from the `priority`
    /// header field the client sends for each object's type as Chrome
    /// does (`"priorities"`).
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
            Scheduler::RoundRobin => "Interleave every ready response (the default)",
            Scheduler::Sequential => "One response at a time, in request order",
            Scheduler::Priorities => "RFC 9218 urgency and incremental, as Chrome asks",
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
            .find(|x| x.label() == s)
            .ok_or_else(|| NameError::one_of("scheduler", s, &Scheduler::ALL.map(Scheduler::label)))
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
        for c in Certificate::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.label()));
            assert_eq!(serde_json::from_str::<Certificate>(&json).unwrap(), c);
            assert_eq!(c.label().parse::<Certificate>().unwrap(), c);
            assert_eq!(c.to_string(), c.label());
        }
        assert_eq!(Certificate::default(), Certificate::Minimal);
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
            "large".parse::<Certificate>().unwrap_err().to_string(),
            "unknown certificate \"large\"; expected minimal or realistic"
        );
    }
}
