//! QUIC (quinn) on the simulated network.
//!
//! Endpoints run on the host's tokio runtime, whose clock is the
//! simulation's, over a simulated [`UdpSocket`]. Each endpoint's RNG is
//! seeded from the run seed. The UDP payload size is fixed at
//! [`QUIC_UDP_PAYLOAD`] (1500-byte IP packets, the same as TCP's) and path-MTU
//! discovery is off, so QUIC and TCP put the same packet size on the wire.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use quinn::{ClientConfig, Endpoint, EndpointConfig, ServerConfig, TransportConfig, VarInt};

use crate::host::Host;
use crate::packet::{IPV4_HEADER_LEN, UDP_HEADER_LEN};
use crate::seed;
use crate::stats::{RttSample, TransportStats};

/// UDP payload of a full-size QUIC packet: a 1500-byte IPv4 packet minus
/// the IPv4 and UDP headers.
pub const QUIC_UDP_PAYLOAD: u16 = (1500 - IPV4_HEADER_LEN - UDP_HEADER_LEN) as u16;

/// QUIC transport settings the lab controls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuicConfig {
    /// Connection-level receive window (flow control), in bytes. Default:
    /// the run's TCP buffer size, so QUIC and TCP get the same window.
    pub receive_window: u64,
    /// Per-stream receive window, in bytes. Default: the same as
    /// `receive_window`.
    pub stream_receive_window: u64,
    /// Send buffer, in bytes. Default: the same as `receive_window`.
    pub send_window: u64,
    /// Concurrent bidirectional streams the peer may open. Default: 100.
    pub max_concurrent_bidi_streams: u32,
    /// Idle timeout. Default: 30 s.
    pub idle_timeout: Duration,
}

impl QuicConfig {
    /// The defaults for a run whose TCP buffers are `buffer_bytes`.
    pub fn with_buffer(buffer_bytes: u64) -> QuicConfig {
        QuicConfig {
            receive_window: buffer_bytes,
            stream_receive_window: buffer_bytes,
            send_window: buffer_bytes,
            max_concurrent_bidi_streams: 100,
            idle_timeout: Duration::from_secs(30),
        }
    }

    /// The defaults for the run `host` belongs to.
    pub fn for_host(host: &Host) -> QuicConfig {
        QuicConfig::with_buffer(host.buffer_bytes() as u64)
    }

    /// quinn's transport config: these windows, CUBIC (quinn's default
    /// controller), a fixed MTU and no path-MTU discovery.
    pub fn transport(&self) -> TransportConfig {
        let mut t = TransportConfig::default();
        t.receive_window(VarInt::from_u64(self.receive_window).unwrap_or(VarInt::MAX))
            .stream_receive_window(
                VarInt::from_u64(self.stream_receive_window).unwrap_or(VarInt::MAX),
            )
            .send_window(self.send_window)
            .max_concurrent_bidi_streams(VarInt::from_u32(self.max_concurrent_bidi_streams))
            .max_idle_timeout(self.idle_timeout.try_into().ok())
            .initial_mtu(QUIC_UDP_PAYLOAD)
            .min_mtu(QUIC_UDP_PAYLOAD)
            .mtu_discovery_config(None);
        t
    }
}

fn endpoint_config(host: &Host) -> EndpointConfig {
    let n = {
        let mut st = host.state();
        st.endpoints_made += 1;
        st.endpoints_made
    };
    let mut config = EndpointConfig::default();
    config.rng_seed(Some(seed::derive(
        host.seed(),
        &format!("quinn/{}/{n}", host.side().label()),
    )));
    config
}

/// A QUIC server endpoint on `port` at the host's address.
pub fn server_endpoint(
    host: &Host,
    port: u16,
    crypto: Arc<QuicServerConfig>,
    config: &QuicConfig,
) -> io::Result<Endpoint> {
    let socket = Arc::new(host.udp_bind(port)?);
    let mut server = ServerConfig::with_crypto(crypto);
    server.transport_config(Arc::new(config.transport()));
    Endpoint::new_with_abstract_socket(
        endpoint_config(host),
        Some(server),
        socket,
        Arc::new(quinn::TokioRuntime),
    )
}

/// A QUIC client endpoint on a fresh port at the host's address, with
/// `crypto` as its default client config.
pub fn client_endpoint(
    host: &Host,
    crypto: Arc<QuicClientConfig>,
    config: &QuicConfig,
) -> io::Result<Endpoint> {
    let socket = Arc::new(host.udp_bind(0)?);
    let mut endpoint = Endpoint::new_with_abstract_socket(
        endpoint_config(host),
        None,
        socket,
        Arc::new(quinn::TokioRuntime),
    )?;
    let mut client = ClientConfig::new(crypto);
    client.transport_config(Arc::new(config.transport()));
    endpoint.set_default_client_config(client);
    Ok(endpoint)
}

/// Move `endpoint` to a new socket at the host's current address (after a
/// path change), keeping its port number. Its connections continue on the
/// new path after QUIC's path validation.
pub fn rebind(host: &Host, endpoint: &Endpoint) -> io::Result<()> {
    let port = endpoint.local_addr()?.port();
    let socket = Arc::new(host.udp_bind(port)?);
    endpoint.rebind_abstract(socket)
}

/// Transport statistics of a QUIC connection from this host's view:
/// quinn's counters plus the link model's drops on the endpoint's port.
pub fn transport_stats(
    host: &Host,
    endpoint: &Endpoint,
    conn: &quinn::Connection,
) -> TransportStats {
    let s = conn.stats();
    let (link_drops_sent, link_drops_received) = endpoint
        .local_addr()
        .map_or((0, 0), |a| host.udp_link_drops(a.port()));
    TransportStats {
        packets_sent: s.udp_tx.datagrams,
        bytes_sent: s.udp_tx.bytes,
        packets_received: s.udp_rx.datagrams,
        bytes_received: s.udp_rx.bytes,
        link_drops_sent,
        link_drops_received,
        retransmissions: s.path.lost_packets,
        rtt_samples: vec![RttSample {
            at: crate::host::now(),
            rtt: s.path.rtt,
        }],
        smoothed_rtt: Some(s.path.rtt),
        cwnd: Some(s.path.cwnd),
        stack_counters: Vec::new(),
        arrivals: None,
    }
}
