//! The servers' error type.

use std::io;

/// An error from a dependency, kept opaque so its type does not leak.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why serving stopped: a whole server (listener, endpoint) or one
/// connection.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A TCP port could not be listened on.
    #[error("cannot listen on tcp port {port}: {source}")]
    Listen {
        /// The port.
        port: u16,
        /// The socket error.
        source: io::Error,
    },
    /// A QUIC endpoint could not be opened.
    #[error("cannot open quic endpoint on udp port {port}: {source}")]
    Endpoint {
        /// The port.
        port: u16,
        /// The socket error.
        source: io::Error,
    },
    /// The TCP listener failed (not one connection: those never stop it).
    /// Only in the simulation: on real sockets a failing `accept` pauses
    /// accepting and never stops the server.
    #[error("tcp listener failed: {0}")]
    Accept(#[source] io::Error),
    /// A TLS handshake over TCP failed.
    #[error("tls handshake failed: {0}")]
    Tls(#[source] io::Error),
    /// An HTTP/1.1 or HTTP/2 connection ended with an error.
    #[error("http connection failed: {0}")]
    Http(#[source] BoxError),
    /// A QUIC handshake failed.
    #[error("quic handshake failed: {0}")]
    Quic(#[source] BoxError),
    /// An HTTP/3 connection or request stream ended with an error.
    #[error("http/3 failed: {0}")]
    H3(#[source] BoxError),
    /// The configuration given cannot be served.
    #[error("bad server config: {0}")]
    Config(String),
}
