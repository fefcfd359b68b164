//! The connections a host accepted, kept so that their transport statistics
//! can be read when the run ends.
//!
//! A server serves each connection in a task of its own, out of reach of
//! whoever runs the simulation. So the host itself keeps a handle to every
//! connection it accepts, in accept order:
//! - [`TcpListener::accept`](crate::TcpListener::accept) registers each TCP
//!   connection it hands out (its handshake is complete);
//! - [`QuicServer::accept`](crate::quic::QuicServer::accept) registers each
//!   QUIC connection whose handshake completed.
//!
//! [`Host::accepted_connections`] reads every one's [`TransportStats`] at
//! that moment; [`Simulation::run`](crate::Simulation::run) does so for the
//! server once the client has finished (`RunOutput::server_connections`).
//!
//! A TCP entry is only the connection's id and addresses, so keeping it
//! changes nothing; the Linux-like stack keeps a closed connection's final
//! statistics after it frees it. A QUIC entry holds a `quinn::Connection`,
//! which keeps quinn from closing the connection implicitly when the
//! application drops its last handle: close connections explicitly (h3's
//! server does, when it drops its connection).

use std::net::SocketAddr;
use std::net::SocketAddrV4;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::host::Host;
use crate::stats::TransportStats;
use tcp::ConnId;

/// What carries an accepted connection. Serialized as its label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP (under TLS, HTTP/1.1 or HTTP/2).
    Tcp,
    /// QUIC (under HTTP/3).
    Quic,
}

impl Transport {
    /// `"tcp"` or `"quic"`.
    pub fn label(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Quic => "quic",
        }
    }
}

/// One connection a host accepted, with its statistics as they were read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedConnection {
    /// TCP or QUIC.
    pub transport: Transport,
    /// Simulated time at which it was accepted: TCP when the listener handed
    /// it out, QUIC when its handshake completed.
    pub accepted_at: Duration,
    /// The peer's address when it was accepted.
    pub peer: SocketAddr,
    /// Its transport statistics from this host's side, as read.
    pub stats: TransportStats,
}

/// How the host reaches an accepted connection's statistics.
#[derive(Clone, Debug)]
pub(crate) enum Handle {
    /// A TCP connection of the host's stack, by id and flow.
    Tcp {
        conn: ConnId,
        local: SocketAddrV4,
        remote: SocketAddrV4,
    },
    /// A QUIC connection and the endpoint it belongs to.
    Quic {
        endpoint: quinn::Endpoint,
        conn: quinn::Connection,
    },
}

/// One registered connection.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) accepted_at: Duration,
    pub(crate) peer: SocketAddr,
    pub(crate) handle: Handle,
}

impl Entry {
    /// The connection's statistics from `host`'s side at simulated time
    /// `at`.
    pub(crate) fn read(&self, host: &Host, at: Duration) -> AcceptedConnection {
        let (transport, stats) = match &self.handle {
            Handle::Tcp {
                conn,
                local,
                remote,
            } => (Transport::Tcp, host.tcp_stats(*conn, *local, *remote)),
            Handle::Quic { endpoint, conn } => (
                Transport::Quic,
                crate::quic::transport_stats_at(host, endpoint, conn, at),
            ),
        };
        AcceptedConnection {
            transport,
            accepted_at: self.accepted_at,
            peer: self.peer,
            stats,
        }
    }
}

impl Host {
    /// Every connection this host accepted, in accept order, with its
    /// statistics read now, at simulated time `at` (QUIC stamps its RTT
    /// sample with it). Empty for a host that accepted none.
    pub fn accepted_connections(&self, at: Duration) -> Vec<AcceptedConnection> {
        self.accepted_entries()
            .iter()
            .map(|e| e.read(self, at))
            .collect()
    }
}
