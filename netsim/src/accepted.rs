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
//! The host's [`Registry`] keeps them; [`Simulation::run`](crate::Simulation::run)
//! reads every one's [`TransportStats`] for the server once the client has
//! finished (`RunOutput::server_connections`). This module is data only: it
//! knows nothing of hosts or QUIC, so everything that registers a
//! connection can depend on it.
//!
//! A TCP entry is only the connection's id and addresses, so keeping it
//! changes nothing; the Linux-like stack keeps a closed connection's final
//! statistics after it frees it. A QUIC entry holds a `quinn::Connection`,
//! which keeps quinn from closing the connection implicitly when the
//! application drops its last handle: close connections explicitly (h3's
//! server does, when it drops its connection).

use std::net::SocketAddr;
use std::net::SocketAddrV4;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

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

/// The connections one host accepted, in accept order.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    entries: Mutex<Vec<Entry>>,
}

impl Registry {
    /// Keep `entry`.
    pub(crate) fn register(&self, entry: Entry) {
        self.lock().push(entry);
    }

    /// Every entry so far, in accept order, taken out: the registry is
    /// empty after. A QUIC entry holds its endpoint, whose socket holds
    /// the host, which holds this registry: taking the entries at the end
    /// of a run breaks that cycle, so the run's QUIC state is freed.
    pub(crate) fn take(&self) -> Vec<Entry> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}
