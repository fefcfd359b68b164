//! QUIC (quinn) on the simulated network.
//!
//! Endpoints run on the host's tokio runtime, whose clock is the
//! simulation's, over a simulated [`UdpSocket`](crate::UdpSocket). Each
//! endpoint's RNG and its connection IDs (which quinn otherwise draws from
//! an unseeded RNG) come from the run seed. Path-MTU discovery is off and
//! the UDP payload size is fixed: the smallest MTU of every path of the run
//! less the IPv4 and UDP headers ([`udp_payload`] of
//! [`Host::smallest_mtu`]; [`QUIC_UDP_PAYLOAD`], 1472 bytes, at the default
//! MTU of 1500), on the server's endpoint and the client's alike. quinn
//! fixes a connection's datagram size when the connection starts and keeps
//! it when the connection migrates, so the smallest MTU is the one size that
//! fits the client's path before and after a path change; on one path,
//! QUIC and TCP put the same packet size on the wire.
//! [`QuicConfig::settings`] describes the settings for reports; each host
//! keeps those of its first endpoint ([`Host::quic_settings`]).
//!
//! With qlog capture on ([`crate::CaptureConfig::qlog`]), each connection
//! gets a qlog trace of its own: on the server, each connection
//! [`QuicServer::accept`] accepts; on the client, each endpoint
//! [`client_endpoint`] makes (the lab opens one endpoint per connection).

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use quinn::congestion::{ControllerFactory, CubicConfig, NewRenoConfig};
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use quinn::{
    ClientConfig, ConnectionError, ConnectionId, ConnectionIdGenerator, Endpoint, EndpointConfig,
    Incoming, ServerConfig, TransportConfig, VarInt,
};
use tcp::Congestion;

use crate::accepted::{Entry, Handle};
use crate::clock::now;
pub use crate::congestion::QuicCongestion;
use crate::host::Host;
use crate::packet::{IPV4_HEADER_LEN, UDP_HEADER_LEN};
use crate::quic_bbr::QuicBbrFactory;
use crate::seed;
use crate::settings::{bytes_text, duration_text, on_off, pairs, Settings};
use crate::stats::{RttSample, TransportStats};

/// UDP payload of a full-size QUIC packet at the lab's default MTU: a
/// 1500-byte IPv4 packet minus the IPv4 and UDP headers.
pub const QUIC_UDP_PAYLOAD: u16 = udp_payload(1500);

/// The UDP payload of a full-size QUIC packet on a path whose MTU is `mtu`
/// bytes: the MTU less the IPv4 and UDP headers, within what quinn can send
/// (1200 to 16 383 bytes).
pub const fn udp_payload(mtu: u32) -> u16 {
    let payload = mtu.saturating_sub((IPV4_HEADER_LEN + UDP_HEADER_LEN) as u32);
    if payload < QUIC_MIN_UDP_PAYLOAD as u32 {
        QUIC_MIN_UDP_PAYLOAD
    } else if payload > QUIC_MAX_UDP_PAYLOAD as u32 {
        QUIC_MAX_UDP_PAYLOAD
    } else {
        payload as u16
    }
}

/// The largest UDP payload quinn 0.11 can send: it writes a long-header
/// packet's Length field in two bytes (quinn-proto's `PartialEncode::finish`
/// asserts that it is below 2^14), and pads a client's first datagram to
/// the full size, so a larger datagram size panics its connection driver.
/// On a path whose MTU is larger than this plus 28 bytes (IPv4 and UDP
/// headers), QUIC's packets are smaller than the MTU.
pub const QUIC_MAX_UDP_PAYLOAD: u16 = (1 << 14) - 1;

/// The smallest UDP payload QUIC allows (RFC 9000 section 14), where quinn
/// starts when it runs path-MTU discovery.
pub const QUIC_MIN_UDP_PAYLOAD: u16 = 1200;

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
    /// CUBIC's initial congestion window, in bytes, raised to two
    /// datagrams where they are larger ([`QuicConfig::initial_window_for`]).
    /// Default: 12 000, quinn's own default (`min(14 720, 10 × 1200)`: ten
    /// datagrams of QUIC's 1200-byte minimum size, RFC 9002 section 7.2).
    pub initial_window: u64,
    /// The RTT assumed before the first sample, which sets the first
    /// probe timeouts. Default: 333 ms, quinn's own default and RFC 9002's
    /// `kInitialRtt`.
    pub initial_rtt: Duration,
    /// The congestion controller and the initial window the run asks for.
    /// Default: quinn's CUBIC with [`initial_window`](Self::initial_window).
    pub congestion: QuicCongestion,
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
            initial_window: 12_000,
            initial_rtt: Duration::from_millis(333),
            congestion: QuicCongestion::default(),
        }
    }

    /// This config with the run's congestion choices.
    pub fn with_congestion(mut self, congestion: QuicCongestion) -> QuicConfig {
        self.congestion = congestion;
        self
    }

    /// The initial window for datagrams of `udp_payload` bytes: the run's
    /// [`QuicCongestion::initial_window`] full TCP segments' payload on the
    /// same path ([`tcp_segment_payload`]) if it sets one, else
    /// [`initial_window`](Self::initial_window); and at least two
    /// datagrams (RFC 9002 section 7.2), so that QUIC can send at all on a
    /// path whose MTU is larger than the window (jumbo frames).
    pub fn initial_window_for(&self, udp_payload: u16) -> u64 {
        let bytes = match self.congestion.initial_window {
            Some(segments) => u64::from(segments) * tcp_segment_payload(udp_payload),
            None => self.initial_window,
        };
        bytes.max(2 * u64::from(udp_payload))
    }

    /// The controller factory [`QuicConfig::transport`] gives quinn.
    fn controller(&self, udp_payload: u16) -> Arc<dyn ControllerFactory + Send + Sync> {
        let window = self.initial_window_for(udp_payload);
        match self.congestion.algorithm {
            Congestion::Cubic | Congestion::CubicRfc9438 => {
                let mut c = CubicConfig::default();
                c.initial_window(window);
                Arc::new(c)
            }
            Congestion::Reno => {
                let mut c = NewRenoConfig::default();
                c.initial_window(window);
                Arc::new(c)
            }
            Congestion::Bbr => Arc::new(QuicBbrFactory::new(window, self.congestion.seed)),
        }
    }

    /// The defaults for the run `host` belongs to, with its congestion
    /// choices ([`Host::quic_congestion`]).
    pub fn for_host(host: &Host) -> QuicConfig {
        QuicConfig::with_buffer(host.buffer_bytes() as u64).with_congestion(host.quic_congestion())
    }

    /// quinn's transport config: these windows, CUBIC with this initial
    /// window, this initial RTT, datagrams of `udp_payload` bytes (quinn's
    /// initial and minimum MTU; see [`udp_payload`]) and no path-MTU
    /// discovery; quinn's defaults for everything else (loss detection, ACK
    /// delays).
    pub fn transport(&self, udp_payload: u16) -> TransportConfig {
        let mut t = TransportConfig::default();
        t.receive_window(VarInt::from_u64(self.receive_window).unwrap_or(VarInt::MAX))
            .stream_receive_window(
                VarInt::from_u64(self.stream_receive_window).unwrap_or(VarInt::MAX),
            )
            .send_window(self.send_window)
            .max_concurrent_bidi_streams(VarInt::from_u32(self.max_concurrent_bidi_streams))
            .max_idle_timeout(self.idle_timeout.try_into().ok())
            .congestion_controller_factory(self.controller(udp_payload))
            .initial_rtt(self.initial_rtt)
            .initial_mtu(udp_payload)
            .min_mtu(udp_payload)
            .mtu_discovery_config(None);
        t
    }

    /// The congestion controller, as a report names it: `cubic` (quinn's
    /// default, as before the choice existed), else the label and whose
    /// implementation runs.
    fn congestion_text(&self) -> String {
        match self.congestion.algorithm {
            Congestion::Cubic => "cubic".to_owned(),
            Congestion::CubicRfc9438 => "cubic (quinn's; asked for cubic-rfc9438)".to_owned(),
            Congestion::Reno => "newreno (quinn's)".to_owned(),
            Congestion::Bbr => {
                "bbr (the lab's Linux tcp_bbr.c port on quinn's controller trait; quinn's pacer)"
                    .to_owned()
            }
        }
    }

    /// What [`QuicConfig::transport`] with `udp_payload` sets, as text with
    /// units for a report: `quinn` and its key settings.
    pub fn settings(&self, udp_payload: u16) -> Settings {
        let ip_packet = usize::from(udp_payload) + IPV4_HEADER_LEN + UDP_HEADER_LEN;
        Settings::new(
            "quinn",
            pairs([
                ("congestion_control", self.congestion_text()),
                (
                    "initial_window",
                    bytes_text(self.initial_window_for(udp_payload)),
                ),
                ("initial_rtt", duration_text(self.initial_rtt)),
                (
                    "udp_payload",
                    format!(
                        "{} ({} IP packets)",
                        bytes_text(udp_payload),
                        bytes_text(ip_packet)
                    ),
                ),
                ("path_mtu_discovery", on_off(false)),
                ("receive_window", bytes_text(self.receive_window)),
                (
                    "stream_receive_window",
                    bytes_text(self.stream_receive_window),
                ),
                ("send_window", bytes_text(self.send_window)),
                (
                    "max_concurrent_bidi_streams",
                    self.max_concurrent_bidi_streams.to_string(),
                ),
                ("idle_timeout", duration_text(self.idle_timeout)),
                ("loss_detection", "quinn's defaults (RFC 9002)".to_owned()),
                ("pacing", QUINN_PACING.to_owned()),
                (
                    "slow_start_exit",
                    match self.congestion.algorithm {
                        Congestion::Bbr => "BBR's startup (the lab's port)",
                        _ => QUINN_SLOW_START_EXIT,
                    }
                    .to_owned(),
                ),
                ("ack_policy", QUINN_ACK_POLICY.to_owned()),
            ]),
        )
    }
}

/// How quinn paces, which the lab does not change (quinn-proto 0.11's
/// `connection/pacing.rs`): always, from a token bucket.
pub const QUINN_PACING: &str = "always on (quinn's pacer: a token bucket refilled at 5/4 × cwnd per smoothed RTT, holding 2 ms of that, 10 to 256 datagrams)";
/// How quinn's CUBIC and NewReno leave slow start (quinn-proto 0.11's
/// `congestion/cubic.rs` and `new_reno.rs` have no HyStart).
pub const QUINN_SLOW_START_EXIT: &str = "on loss only: quinn's CUBIC and NewReno have no HyStart";
/// When quinn acknowledges, which the lab does not change (quinn-proto
/// 0.11's `PendingAcks`: an ack-eliciting threshold of 1 and a reordering
/// threshold of 1; the `max_ack_delay` transport parameter's default of
/// 25 ms).
pub const QUINN_ACK_POLICY: &str = "quinn's defaults: an ACK at once after a second ack-eliciting packet, or for one out of order (RFC 9000 section 13.2.1), else within max_ack_delay 25 ms";

/// The payload of a full-size segment of the lab's TCP on a path where
/// QUIC's datagrams carry `udp_payload` bytes: the MTU (`udp_payload` + 28)
/// less 52 bytes (IPv4 and TCP headers, and the timestamps option the
/// Linux-like TCP always negotiates), 1448 bytes at MTU 1500. So an initial
/// window of N segments is the same bytes for QUIC as for TCP (Linux counts
/// its window in such segments).
pub fn tcp_segment_payload(udp_payload: u16) -> u64 {
    (u64::from(udp_payload) + (IPV4_HEADER_LEN + UDP_HEADER_LEN) as u64).saturating_sub(52)
}

/// Length of the connection IDs an endpoint issues: 8 bytes, as quinn's
/// default generator's.
const LOCAL_CID_LEN: usize = 8;
/// Length of a client's first destination connection ID: 20 bytes, as
/// quinn's default.
const INITIAL_DCID_LEN: usize = 20;

/// The label of the host's next endpoint, `quinn/<side>/<n>` (n from 1),
/// from which its seeds are derived.
fn next_endpoint_label(host: &Host) -> String {
    let n = {
        let mut st = host.state();
        st.endpoints_made += 1;
        st.endpoints_made
    };
    format!("quinn/{}/{n}", host.side().label())
}

/// The UDP payload of the QUIC endpoints on `host`'s run: [`udp_payload`]
/// of the smallest MTU of the run's paths.
fn host_udp_payload(host: &Host) -> u16 {
    udp_payload(host.smallest_mtu())
}

/// The endpoint config of the endpoint `label`: its RNG and the connection
/// IDs it issues seeded from the run seed, and the largest datagram it
/// accepts (the `max_udp_payload_size` transport parameter) the
/// `udp_payload` it sends.
fn endpoint_config(host: &Host, label: &str, udp_payload: u16) -> EndpointConfig {
    let mut config = EndpointConfig::default();
    config.rng_seed(Some(seed::derive(host.seed(), label)));
    config
        .max_udp_payload_size(udp_payload)
        .expect("udp_payload() is within quinn's bounds");
    // quinn asks for one generator per endpoint; should it ask again, the
    // next one gets a stream of its own.
    let (run_seed, label) = (host.seed(), label.to_owned());
    let generators = AtomicU64::new(0);
    config.cid_generator(move || {
        let k = generators.fetch_add(1, Ordering::Relaxed);
        let seed = seed::derive(run_seed, &format!("{label}/cids/{k}"));
        Box::new(SeededCids(ChaCha8Rng::from_seed(seed)))
    });
    config
}

/// Connection IDs of [`LOCAL_CID_LEN`] bytes from a seeded stream, in place
/// of quinn's default generator, whose IDs come from an unseeded RNG: the
/// same run then gives the same IDs (in qlog traces and pcaps). The IDs
/// carry no signature, so `validate` accepts any ID, as quinn's
/// `RandomConnectionIdGenerator` does; the two lab endpoints only ever see
/// IDs they issued.
struct SeededCids(ChaCha8Rng);

impl ConnectionIdGenerator for SeededCids {
    fn generate_cid(&mut self) -> ConnectionId {
        let mut bytes = [0u8; LOCAL_CID_LEN];
        self.0.fill_bytes(&mut bytes);
        ConnectionId::new(&bytes)
    }

    fn cid_len(&self) -> usize {
        LOCAL_CID_LEN
    }

    fn cid_lifetime(&self) -> Option<Duration> {
        None
    }
}

/// A provider of a client's first destination connection IDs
/// ([`INITIAL_DCID_LEN`] bytes each) from a stream seeded by `seed`.
fn initial_dcids(seed: [u8; 32]) -> Arc<dyn Fn() -> ConnectionId + Send + Sync> {
    let rng = Mutex::new(ChaCha8Rng::from_seed(seed));
    Arc::new(move || {
        let mut bytes = [0u8; INITIAL_DCID_LEN];
        rng.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fill_bytes(&mut bytes);
        ConnectionId::new(&bytes)
    })
}

/// A QUIC server on the simulated network: its endpoint, and the settings
/// each connection it accepts gets.
///
/// Accept connections in two steps: [`Endpoint::accept`] on
/// [`endpoint`](Self::endpoint) gives each connection attempt, and
/// [`accept`](Self::accept) runs its handshake. Accepting through `accept`
/// rather than quinn's `Incoming::accept` is what gives each connection its
/// own qlog trace when the run records qlog, and what registers it among
/// the host's accepted connections, whose statistics the run reads at its
/// end; otherwise the two are the same.
#[derive(Clone, Debug)]
pub struct QuicServer {
    host: Host,
    endpoint: Endpoint,
    /// The endpoint's server config, which a connection's own config copies.
    server: Arc<ServerConfig>,
    transport: QuicConfig,
    /// The UDP payload of every datagram the endpoint sends.
    udp_payload: u16,
}

impl QuicServer {
    /// A QUIC server endpoint on `port` at the host's address, with TLS
    /// `crypto` and transport settings `config`, sending datagrams as large
    /// as every path of the run carries (see the module docs).
    pub fn bind(
        host: &Host,
        port: u16,
        crypto: Arc<QuicServerConfig>,
        config: &QuicConfig,
    ) -> io::Result<QuicServer> {
        let socket = Arc::new(host.udp_bind(port)?);
        let udp_payload = host_udp_payload(host);
        host.note_quic_settings(|| config.settings(udp_payload));
        let mut server = ServerConfig::with_crypto(crypto);
        server.transport_config(Arc::new(config.transport(udp_payload)));
        let label = next_endpoint_label(host);
        let endpoint = Endpoint::new_with_abstract_socket(
            endpoint_config(host, &label, udp_payload),
            Some(server.clone()),
            socket,
            Arc::new(crate::time::QuinnRuntime),
        )?;
        Ok(QuicServer {
            host: host.clone(),
            endpoint,
            server: Arc::new(server),
            transport: config.clone(),
            udp_payload,
        })
    }

    /// The endpoint: take connection attempts from its `accept()`, and
    /// close it to stop serving.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Accept the connection attempt `incoming`, which came from this
    /// server's endpoint: run its handshake and resolve with the connection
    /// once the handshake completed. The host registers it among its
    /// accepted connections (see the `accepted` module). When the run records
    /// qlog, the connection gets a trace of its own (`server-N`, N counting
    /// this host's accepted connections from 0).
    ///
    /// The future owns what it needs, so it can be spawned.
    ///
    /// With `zero_rtt` the connection is handed over as soon as the
    /// client's first flight has arrived (quinn's `Connecting::into_0rtt`),
    /// so 0-RTT requests can be answered at once; it is registered then.
    pub fn accept(
        &self,
        incoming: Incoming,
        zero_rtt: bool,
    ) -> impl Future<Output = Result<quinn::Connection, ConnectionError>> + Send + 'static {
        let server = self.clone();
        async move {
            let group_id = server
                .host
                .qlog_enabled()
                .then(|| incoming.orig_dst_cid().to_string());
            let connecting = match server.host.qlog_stream(group_id) {
                None => incoming.accept()?,
                Some(qlog) => {
                    let mut transport = server.transport.transport(server.udp_payload);
                    transport.qlog_stream(Some(qlog));
                    let mut config = (*server.server).clone();
                    config.transport_config(Arc::new(transport));
                    incoming.accept_with(Arc::new(config))?
                }
            };
            let conn = if zero_rtt {
                match connecting.into_0rtt() {
                    Ok((conn, _accepted)) => conn,
                    Err(connecting) => connecting.await?,
                }
            } else {
                connecting.await?
            };
            server.host.register_accepted(Entry {
                accepted_at: now(),
                peer: conn.remote_address(),
                handle: Handle::Quic {
                    endpoint: server.endpoint.clone(),
                    conn: conn.clone(),
                },
            });
            Ok(conn)
        }
    }
}

/// A QUIC client endpoint on a fresh port at the host's address, with
/// `crypto` and transport settings `config` as its default client config,
/// sending datagrams as large as every path of the run carries (see the
/// module docs).
///
/// When the run records qlog, the default config carries a trace of its own
/// (`client-N`, N counting this host's client endpoints from 0): every
/// connection the endpoint opens with `Endpoint::connect` writes to it, so
/// open one endpoint per connection, as the lab's clients do, for one trace
/// per connection.
pub fn client_endpoint(
    host: &Host,
    crypto: Arc<QuicClientConfig>,
    config: &QuicConfig,
) -> io::Result<Endpoint> {
    let socket = Arc::new(host.udp_bind(0)?);
    let udp_payload = host_udp_payload(host);
    host.note_quic_settings(|| config.settings(udp_payload));
    let label = next_endpoint_label(host);
    let mut endpoint = Endpoint::new_with_abstract_socket(
        endpoint_config(host, &label, udp_payload),
        None,
        socket,
        Arc::new(crate::time::QuinnRuntime),
    )?;
    let mut transport = config.transport(udp_payload);
    if let Some(qlog) = host.qlog_stream(None) {
        transport.qlog_stream(Some(qlog));
    }
    let mut client = ClientConfig::new(crypto);
    client
        .transport_config(Arc::new(transport))
        .initial_dst_cid_provider(initial_dcids(seed::derive(
            host.seed(),
            &format!("{label}/initial-dcids"),
        )));
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
/// quinn's counters plus the link model's drops on the connection's ports.
pub fn transport_stats(
    host: &Host,
    endpoint: &Endpoint,
    conn: &quinn::Connection,
) -> TransportStats {
    transport_stats_at(host, endpoint, conn, now())
}

/// [`transport_stats`] read at simulated time `at` (the time of its RTT
/// sample), for reading outside a running host.
pub(crate) fn transport_stats_at(
    host: &Host,
    endpoint: &Endpoint,
    conn: &quinn::Connection,
    at: Duration,
) -> TransportStats {
    let s = conn.stats();
    let peer_port = conn.remote_address().port();
    let (link_drops_sent, link_drops_received) = endpoint
        .local_addr()
        .map_or((0, 0), |a| host.udp_link_drops(a.port(), peer_port));
    TransportStats {
        packets_sent: s.udp_tx.datagrams,
        bytes_sent: s.udp_tx.bytes,
        packets_received: s.udp_rx.datagrams,
        bytes_received: s.udp_rx.bytes,
        link_drops_sent,
        link_drops_received,
        retransmissions: s.path.lost_packets,
        rtt_samples: vec![RttSample {
            at,
            rtt: s.path.rtt,
        }],
        smoothed_rtt: Some(s.path.rtt),
        cwnd: Some(s.path.cwnd),
        stack_counters: Vec::new(),
        arrivals: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quinn::congestion::ControllerFactory;

    /// The lab sets these explicitly so that a report can state them; they
    /// are quinn's own defaults, so setting them changes nothing. If quinn
    /// changes a default, this says so.
    #[test]
    // The wall clock, legitimately: see the comment on `now` below.
    #[allow(clippy::disallowed_methods)]
    fn the_lab_sets_quinns_own_defaults() {
        let lab = QuicConfig::with_buffer(1 << 20);
        // Building a controller needs an instant; only its initial window
        // is read, so the wall clock is harmless here.
        let now = std::time::Instant::now();
        let quinn = Arc::new(CubicConfig::default()).build(now, QUIC_UDP_PAYLOAD);
        assert_eq!(lab.initial_window, quinn.initial_window());
        let defaults = format!("{:?}", TransportConfig::default());
        assert!(
            defaults.contains(&format!("initial_rtt: {:?}", lab.initial_rtt)),
            "{defaults}"
        );
    }

    #[test]
    fn settings_describe_the_config() {
        let s = QuicConfig::with_buffer(6_000_000).settings(QUIC_UDP_PAYLOAD);
        assert_eq!(s.name, "quinn");
        assert_eq!(s.get("congestion_control"), Some("cubic"));
        assert_eq!(s.get("initial_window"), Some("12000 bytes"));
        assert_eq!(s.get("initial_rtt"), Some("333 ms"));
        assert_eq!(
            s.get("udp_payload"),
            Some("1472 bytes (1500 bytes IP packets)")
        );
        assert_eq!(s.get("receive_window"), Some("6000000 bytes"));
        assert_eq!(s.get("idle_timeout"), Some("30 s"));
        assert_eq!(s.get("pacing"), Some(QUINN_PACING));
        assert_eq!(s.get("slow_start_exit"), Some(QUINN_SLOW_START_EXIT));
        assert_eq!(s.get("ack_policy"), Some(QUINN_ACK_POLICY));
        let s = QuicConfig::with_buffer(6_000_000).settings(udp_payload(1280));
        assert_eq!(
            s.get("udp_payload"),
            Some("1252 bytes (1280 bytes IP packets)")
        );
    }

    #[test]
    fn the_udp_payload_is_the_mtu_less_the_headers_within_quinns_bounds() {
        assert_eq!(udp_payload(1500), 1472);
        assert_eq!(udp_payload(1400), 1372);
        assert_eq!(udp_payload(1280), 1252);
        assert_eq!(udp_payload(9000), 8972);
        assert_eq!(udp_payload(16_411), 16_383);
        assert_eq!(udp_payload(65_535), 16_383);
        assert_eq!(udp_payload(1000), 1200);
        // quinn's own default datagram limit is the lab's at 1500, so the
        // endpoint config the lab sets there is quinn's default.
        assert_eq!(
            EndpointConfig::default().get_max_udp_payload_size(),
            u64::from(QUIC_UDP_PAYLOAD)
        );
    }
}
