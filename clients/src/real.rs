//! The same clients on the machine's own sockets: [`RealTarget`] (where the
//! server is, what to trust, how to check bodies), its dialer (a tokio
//! `TcpStream`, a quinn endpoint on a real UDP socket) and [`run_real`].
//!
//! Nothing here is deterministic: the kernel's TCP, the real network and
//! real time apply. QUIC keeps the lab's windows and stream limit but, like
//! `servers::serve_real`, starts at quinn's 1200-byte packets and runs
//! path-MTU discovery, since a real path may not carry the simulation's
//! fixed 1500-byte packets; [`RealTarget::sockets`] can fix the packet
//! size instead, for a path whose MTU is known (the emulator's).

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use netsim::quic::QuicConfig;
use netsim::tls::{self, ClientResumption, ClientTls};
use netsim::TransportStats;
use netsim::{RealSockets, RttSample};
use scenarios::Plan;
use tokio::net::{TcpSocket, TcpStream};

use crate::config::ClientConfig;
use crate::dial::Dialer;
use crate::ledger::NetworkId;
use crate::ledger::Verification;
use crate::record::RunRecord;
use crate::runner::run_with;

/// The port HTTPS uses when a URL names none; the request authority leaves
/// it out.
const HTTPS_PORT: u16 = 443;

/// Which server certificates a real-socket client accepts.
///
/// Only the lab's own certificate today. Trusting the system's roots (to
/// measure public servers) needs a root store (`rustls-native-certs` or
/// `webpki-roots`), which the lab does not depend on yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trust {
    /// Exactly the lab's self-signed certificate (`netsim::tls::identity`,
    /// issued for `server.httplab.test` and `localhost`), checked at the
    /// lab's fixed date, with the lab's TLS settings: what the simulated
    /// client trusts. The default.
    #[default]
    LabCertificate,
}

/// A server on the machine's network, and how to talk to it.
///
/// Build it with [`RealTarget::new`] and adjust it with the `with_*`
/// setters. TCP (HTTP/1.1, HTTP/2) and UDP (HTTP/3) both go to
/// [`RealTarget::addr`], as `servers::serve_real` listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealTarget {
    /// The server's address, for TCP and for QUIC.
    pub addr: SocketAddr,
    /// The name sent as SNI and checked against the certificate, also the
    /// request authority (with `:port` unless the port is 443). Default:
    /// `netsim::tls::SERVER_NAME` (`server.httplab.test`), which the lab's
    /// certificate is issued for whatever address the server has.
    pub server_name: String,
    /// Which certificates to accept. Default: [`Trust::LabCertificate`].
    pub trust: Trust,
    /// Whether to check every body against the content model (length and
    /// SHA-256 under [`ClientConfig::content_seed`]), as the simulated
    /// client always does. Off, a body is checked only against the
    /// response's `content-length`, where it has one, so that servers that
    /// do not serve the content model can be measured; such requests are
    /// never marked [`crate::RequestRecord::verified`]. A status other than
    /// 200 fails a request either way. Default: on.
    pub verify_bodies: bool,
    /// How the client's sockets are set up: QUIC's packet size, TCP's
    /// congestion control. Default: QUIC from 1200-byte datagrams with
    /// path-MTU discovery, the kernel's default congestion control.
    pub sockets: RealSockets,
}

impl RealTarget {
    /// The server at `addr`, with the defaults for everything else.
    pub fn new(addr: SocketAddr) -> RealTarget {
        RealTarget {
            addr,
            server_name: tls::SERVER_NAME.to_string(),
            trust: Trust::default(),
            verify_bodies: true,
            sockets: RealSockets::default(),
        }
    }

    /// Set [`RealTarget::server_name`](field@RealTarget::server_name).
    pub fn with_server_name(mut self, name: impl Into<String>) -> RealTarget {
        self.server_name = name.into();
        self
    }

    /// Set [`RealTarget::trust`].
    pub fn with_trust(mut self, trust: Trust) -> RealTarget {
        self.trust = trust;
        self
    }

    /// Set [`RealTarget::sockets`].
    pub fn with_sockets(mut self, sockets: RealSockets) -> RealTarget {
        self.sockets = sockets;
        self
    }

    /// Set [`RealTarget::verify_bodies`].
    pub fn with_verify_bodies(mut self, on: bool) -> RealTarget {
        self.verify_bodies = on;
        self
    }
}

/// Carry out `plan` against the server `target` names, on the machine's
/// own sockets, as `config` says, and record it.
///
/// The runner is [`crate::run`]'s: the same phases, pool, connections and
/// records. What differs:
/// - times are real time (tokio's clock) from the moment this function is
///   called, and nothing is deterministic;
/// - bodies are checked as [`RealTarget::verify_bodies`] says;
/// - transport statistics: quinn's for QUIC (RTT, congestion window,
///   packets, bytes, packets lost; no link drops, as there is no link
///   model), none for TCP (the kernel keeps them; they are not read).
///
/// Must run inside a tokio runtime with I/O and time enabled; it spawns
/// each connection's driver task onto it. Like [`crate::run`], the future
/// is not `Send`: drive it with `block_on` or inside a `LocalSet`.
///
/// ```no_run
/// # async fn doc() {
/// use clients::{ClientConfig, RealTarget};
/// use scenarios::Protocol;
/// use netsim::FlowControl;
/// // A `servers::serve_real` on port 8443, serving content seed 7.
/// let target = RealTarget::new("127.0.0.1:8443".parse().unwrap());
/// let config = ClientConfig::new(Protocol::H3, 7, FlowControl::for_buffer(4 << 20));
/// let plan = scenarios::Workload::default().plan();
/// let record = clients::run_real(&target, &config, &plan).await;
/// assert!(record.succeeded(), "{:?}", record.failure);
/// # }
/// ```
pub async fn run_real(target: &RealTarget, config: &ClientConfig, plan: &Plan) -> RunRecord {
    let verification = if target.verify_bodies {
        Verification::ContentModel
    } else {
        Verification::ContentLength
    };
    run_with(target.clone(), config, plan, verification, Duration::ZERO).await
}

impl Dialer for RealTarget {
    type Tcp = TcpStream;

    /// Nagle off (`TCP_NODELAY`), as browsers do.
    fn connect_tcp(&self) -> impl Future<Output = io::Result<TcpStream>> {
        let addr = self.addr;
        let sockets = self.sockets.clone();
        async move {
            let socket = match addr {
                SocketAddr::V4(_) => TcpSocket::new_v4()?,
                SocketAddr::V6(_) => TcpSocket::new_v6()?,
            };
            sockets.prepare_tcp(&socket)?;
            let tcp = socket.connect(addr).await?;
            tcp.set_nodelay(true)
                .map_err(|e| io::Error::new(e.kind(), format!("setting TCP_NODELAY: {e}")))?;
            Ok(tcp)
        }
    }

    fn tcp_stats(&self, _tcp: &TcpStream) -> Option<TransportStats> {
        None
    }

    fn tls_client(&self, alpn: &[u8], resumption: &ClientResumption) -> ClientTls {
        match self.trust {
            Trust::LabCertificate => tls::client_tls(&[alpn], None, resumption),
        }
    }

    fn server_name(&self) -> &str {
        &self.server_name
    }

    /// `name`, `name:port`, or for an IPv6 literal `[name]` / `[name]:port`.
    fn authority(&self) -> String {
        let host = if self.server_name.parse::<Ipv6Addr>().is_ok() {
            format!("[{}]", self.server_name)
        } else {
            self.server_name.clone()
        };
        match self.addr.port() {
            HTTPS_PORT => host,
            port => format!("{host}:{port}"),
        }
    }

    /// A fresh endpoint on an ephemeral port of the target's address family
    /// (`0.0.0.0:0` or `[::]:0`).
    fn quic_endpoint(&self, tls: &ClientTls, config: &QuicConfig) -> io::Result<quinn::Endpoint> {
        let bind: SocketAddr = match self.addr {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let mut endpoint = quinn::Endpoint::client(bind)?;
        let transport = self.sockets.quic_transport(config);
        let mut client = quinn::ClientConfig::new(tls::quic_client(tls));
        client.transport_config(Arc::new(transport));
        endpoint.set_default_client_config(client);
        Ok(endpoint)
    }

    fn quic_server(&self) -> SocketAddr {
        self.addr
    }

    /// One network for the whole run: no network-change notifications are
    /// read from the OS here.
    fn network(&self) -> NetworkId {
        NetworkId(Ipv4Addr::UNSPECIFIED)
    }

    /// Never: there is one network for the whole run.
    fn network_changed(&self) -> impl Future<Output = ()> {
        std::future::pending()
    }

    /// quinn's counters; the one RTT sample is stamped `at`. No link
    /// drops (0): there is no link model to count them.
    fn quic_stats(
        &self,
        _endpoint: &quinn::Endpoint,
        conn: &quinn::Connection,
        at: Duration,
    ) -> Option<TransportStats> {
        let s = conn.stats();
        Some(TransportStats {
            packets_sent: s.udp_tx.datagrams,
            bytes_sent: s.udp_tx.bytes,
            packets_received: s.udp_rx.datagrams,
            bytes_received: s.udp_rx.bytes,
            retransmissions: s.path.lost_packets,
            rtt_samples: vec![RttSample {
                at,
                rtt: s.path.rtt,
            }],
            smoothed_rtt: Some(s.path.rtt),
            cwnd: Some(s.path.cwnd),
            ..TransportStats::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(addr: &str) -> RealTarget {
        RealTarget::new(addr.parse().unwrap())
    }

    #[test]
    fn defaults() {
        let t = target("127.0.0.1:8443");
        assert_eq!(t.server_name, tls::SERVER_NAME);
        assert_eq!(t.trust, Trust::LabCertificate);
        assert!(t.verify_bodies);
    }

    #[test]
    fn authority_names_the_port_unless_it_is_443() {
        let t = target("127.0.0.1:8443");
        assert_eq!(t.authority(), "server.httplab.test:8443");
        assert_eq!(
            target("127.0.0.1:443")
                .with_server_name("localhost")
                .authority(),
            "localhost"
        );
        let v6 = target("[::1]:8443").with_server_name("::1");
        assert_eq!(v6.authority(), "[::1]:8443");
    }
}
