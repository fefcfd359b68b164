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
use netsim::tls::real::TrustAnchors;
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

/// How long a QUIC handshake with one of several addresses of a server may
/// take before the next address is tried ([`RealTarget::fallback`]): 1 s,
/// several round trips of any terrestrial path. QUIC hears of no refusal
/// (an ICMP port-unreachable does not reach quinn), so an address nothing
/// listens on is only told by silence.
pub const QUIC_FALLBACK_AFTER: Duration = Duration::from_secs(1);

/// Which server certificates a real-socket client accepts, and with which
/// TLS settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trust {
    /// Exactly the lab's self-signed certificate (`netsim::tls::identity`,
    /// issued for `server.httplab.test` and `localhost`), checked at the
    /// lab's fixed date, with the lab's TLS settings (one cipher suite,
    /// X25519 only): what the simulated client trusts, for runs that
    /// compare the kernel with the simulation (`httplab calibrate`). The
    /// default.
    #[default]
    LabCertificate,
    /// The certificates in these anchors (the system's store, or a PEM
    /// file), checked by webpki at the real time, with rustls's default
    /// cipher suites, key-exchange groups and versions
    /// (`netsim::tls::real`): what a client of any server uses.
    Anchors(TrustAnchors),
    /// Any certificate (handshake signatures are still checked), with
    /// rustls's defaults as [`Trust::Anchors`]: `curl --insecure`.
    Insecure,
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
    /// Further addresses of the same server (a name that resolved to
    /// several), tried in order when a connection to [`RealTarget::addr`]
    /// fails: TCP when its connect fails, QUIC when its handshake fails
    /// or has not completed within [`QUIC_FALLBACK_AFTER`] (the last
    /// address tried has no such limit). Default: none.
    pub fallback: Vec<SocketAddr>,
    /// The name sent as SNI and checked against the certificate, also the
    /// request authority (with `:port` unless the port is 443). Default:
    /// `netsim::tls::SERVER_NAME` (`server.httplab.test`), which the lab's
    /// certificate is issued for whatever address the server has.
    pub server_name: String,
    /// Which certificates to accept. Default: [`Trust::LabCertificate`].
    pub trust: Trust,
    /// Whether to check every body against the content model (length and
    /// every byte, under [`ClientConfig::content_seed`]), as the simulated
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
            fallback: Vec::new(),
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

    /// Set [`RealTarget::fallback`].
    pub fn with_fallback(mut self, addrs: Vec<SocketAddr>) -> RealTarget {
        self.fallback = addrs;
        self
    }

    /// The addresses connections try, in order: [`RealTarget::addr`], then
    /// [`RealTarget::fallback`].
    pub fn addrs(&self) -> Vec<SocketAddr> {
        std::iter::once(self.addr)
            .chain(self.fallback.iter().copied())
            .collect()
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

    /// Nagle off (`TCP_NODELAY`), as browsers do. Each address of
    /// [`RealTarget::addrs`] in turn until one connects; the error names
    /// every address tried.
    fn connect_tcp(&self) -> impl Future<Output = io::Result<TcpStream>> {
        let addrs = self.addrs();
        let sockets = self.sockets.clone();
        async move {
            let mut failures = Vec::new();
            let mut last_kind = io::ErrorKind::Other;
            for &addr in &addrs {
                match connect_one(addr, &sockets).await {
                    Ok(tcp) => return Ok(tcp),
                    Err(e) => {
                        last_kind = e.kind();
                        failures.push(format!("{addr}: {e}"));
                    }
                }
            }
            Err(match failures.len() {
                1 => io::Error::new(last_kind, failures.remove(0)),
                _ => io::Error::new(last_kind, failures.join("; ")),
            })
        }
    }

    fn tcp_stats(&self, _tcp: &TcpStream) -> Option<TransportStats> {
        None
    }

    fn tls_client(&self, alpn: &[u8], resumption: &ClientResumption) -> ClientTls {
        match &self.trust {
            Trust::LabCertificate => tls::client_tls(&[alpn], None, resumption),
            Trust::Anchors(anchors) => tls::real::client_tls(&[alpn], Some(anchors), resumption),
            Trust::Insecure => tls::real::client_tls(&[alpn], None, resumption),
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

    /// A fresh endpoint on an ephemeral port: `[::]:0` (dual-stack) if any
    /// of the target's addresses is IPv6, else `0.0.0.0:0`.
    fn quic_endpoint(&self, tls: &ClientTls, config: &QuicConfig) -> io::Result<quinn::Endpoint> {
        let bind: SocketAddr = if self.addrs().iter().any(SocketAddr::is_ipv6) {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv4Addr::UNSPECIFIED, 0).into()
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

    fn quic_servers(&self) -> (Vec<SocketAddr>, Duration) {
        (self.addrs(), QUIC_FALLBACK_AFTER)
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

/// A TCP connection to `addr` with `sockets`' settings and Nagle off.
async fn connect_one(addr: SocketAddr, sockets: &RealSockets) -> io::Result<TcpStream> {
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
        assert!(t.fallback.is_empty());
        assert_eq!(t.addrs(), [t.addr]);
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
