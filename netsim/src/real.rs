//! [`RealSockets`]: how the lab's clients and servers set up the machine's
//! own sockets (`clients::run_real`, `servers::serve_real_with`), which the
//! simulation does not use: the QUIC packet size and the kernel TCP's
//! congestion control.

use std::io;
use std::os::fd::AsFd;

use quinn::TransportConfig;

use crate::congestion::QuicCongestion;
use crate::quic::{QuicConfig, QUIC_MIN_UDP_PAYLOAD};

/// Settings of the real sockets of one client or server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RealSockets {
    /// QUIC's UDP payload, fixed, with no path-MTU discovery: what the
    /// simulation does (`netsim::quic::udp_payload` of the path's MTU), so
    /// a kernel run compares like for like. `None`: start at QUIC's
    /// 1200-byte minimum and discover the path's MTU, as a client on an
    /// unknown path must.
    pub quic_udp_payload: Option<u16>,
    /// The kernel TCP congestion control each TCP socket is set to
    /// (`TCP_CONGESTION`), e.g. `cubic`. `None`: the kernel's default (the
    /// namespace's `net.ipv4.tcp_congestion_control`).
    pub tcp_congestion: Option<String>,
    /// QUIC's congestion controller and initial window, as in the
    /// simulation (`SimConfig::quic`). Default: quinn's CUBIC.
    pub quic_congestion: QuicCongestion,
}

impl RealSockets {
    /// quinn's transport config for `config` on a real path: fixed
    /// datagrams if [`RealSockets::quic_udp_payload`] says so, else
    /// QUIC's minimum with path-MTU discovery.
    pub fn quic_transport(&self, config: &QuicConfig) -> TransportConfig {
        let config = &config.clone().with_congestion(self.quic_congestion);
        match self.quic_udp_payload {
            Some(payload) => config.transport(payload),
            None => {
                let mut transport = config.transport(QUIC_MIN_UDP_PAYLOAD);
                transport.mtu_discovery_config(Some(quinn::MtuDiscoveryConfig::default()));
                transport
            }
        }
    }

    /// Set `socket`'s congestion control, if [`RealSockets::tcp_congestion`]
    /// names one; the error says which and why the kernel refused.
    pub fn prepare_tcp(&self, socket: &impl AsFd) -> io::Result<()> {
        if let Some(name) = &self.tcp_congestion {
            socket2::SockRef::from(socket)
                .set_tcp_congestion(name.as_bytes())
                .map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("setting TCP congestion control '{name}': {e}"),
                    )
                })?;
        }
        Ok(())
    }
}
