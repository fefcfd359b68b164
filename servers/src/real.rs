//! The same servers on the machine's own sockets, for checking the lab's
//! servers against real clients (curl, browsers, h2load) and real networks.
//!
//! Nothing here is deterministic: the kernel's TCP and real time apply.
//! QUIC keeps the lab's windows and stream limit but, unless
//! [`RealSockets`] fixes its packet size, starts at quinn's default
//! 1200-byte packets and runs path-MTU discovery, as the kernel's TCP does.

use std::net::SocketAddr;
use std::sync::Arc;

use netsim::tls::{self, ALPN_H2, ALPN_H3, ALPN_HTTP1};
use netsim::{FlowControl, RealSockets};
use scenarios::Scheduler;
use tokio_rustls::TlsAcceptor;

use crate::content::ContentServer;
use crate::error::ServerError;
use crate::quic::serve_h3;
use crate::tcp::{is_per_connection, spawn_tls_connection};

/// Which protocols [`serve_real`] offers. Default: all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocols {
    /// HTTP/1.1 over TLS over TCP (ALPN `http/1.1`).
    pub http1: bool,
    /// HTTP/2 over TLS over TCP (ALPN `h2`).
    pub http2: bool,
    /// HTTP/3 over QUIC on UDP (ALPN `h3`).
    pub http3: bool,
}

impl Protocols {
    /// HTTP/1.1, HTTP/2 and HTTP/3.
    pub const ALL: Protocols = Protocols {
        http1: true,
        http2: true,
        http3: true,
    };

    fn tcp_alpn(&self) -> Vec<&'static [u8]> {
        let mut alpn = Vec::new();
        if self.http2 {
            alpn.push(ALPN_H2);
        }
        if self.http1 {
            alpn.push(ALPN_HTTP1);
        }
        alpn
    }
}

impl Default for Protocols {
    fn default() -> Self {
        Protocols::ALL
    }
}

/// Serve `server` on real sockets at `listen` until a listener fails: TCP
/// for HTTP/1.1 and HTTP/2, UDP (the same port) for HTTP/3, as `protocols`
/// asks. TLS is the lab's fixed identity (certificate for
/// `server.httplab.test` and `localhost`; clients must trust it
/// explicitly). QUIC starts at 1200-byte datagrams and discovers the
/// path's MTU; TCP has the kernel's default congestion control (see
/// [`serve_real_with`] to choose). Must run inside a tokio runtime with I/O
/// and time enabled.
pub async fn serve_real(
    listen: SocketAddr,
    protocols: Protocols,
    server: ContentServer,
    flow: FlowControl,
) -> Result<(), ServerError> {
    serve_real_with(listen, protocols, server, flow, &RealSockets::default()).await
}

/// [`serve_real`] with the socket settings `sockets`: a fixed QUIC packet
/// size, a TCP congestion control (set on the listener, which accepted
/// connections inherit).
pub async fn serve_real_with(
    listen: SocketAddr,
    protocols: Protocols,
    server: ContentServer,
    flow: FlowControl,
    sockets: &RealSockets,
) -> Result<(), ServerError> {
    let alpn = protocols.tcp_alpn();
    if alpn.is_empty() && !protocols.http3 {
        return Err(ServerError::Config(
            "protocols: at least one must be on".into(),
        ));
    }
    let tcp = async {
        if alpn.is_empty() {
            return Ok(());
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| ServerError::Listen {
                port: listen.port(),
                source,
            })?;
        // Connections the listener accepts inherit a congestion control
        // set on it with TCP_CONGESTION (Linux copies it to the child).
        sockets
            .prepare_tcp(&listener)
            .map_err(|source| ServerError::Listen {
                port: listen.port(),
                source,
            })?;
        let acceptor = TlsAcceptor::from(tls::server_config(&alpn, None));
        loop {
            match listener.accept().await {
                Ok((tcp, _)) => {
                    // Browsers and servers turn Nagle off; a failure here
                    // only costs latency.
                    let _ = tcp.set_nodelay(true);
                    spawn_tls_connection(&acceptor, tcp, &server, flow, Scheduler::RoundRobin);
                }
                Err(e) if is_per_connection(&e) => continue,
                Err(e) => return Err(ServerError::Accept(e)),
            }
        }
    };
    let quic = async {
        if !protocols.http3 {
            return Ok(());
        }
        let transport = sockets.quic_transport(&flow.quic());
        let mut config =
            quinn::ServerConfig::with_crypto(tls::quic_server_crypto(&[ALPN_H3], None));
        config.transport_config(Arc::new(transport));
        let endpoint =
            quinn::Endpoint::server(config, listen).map_err(|source| ServerError::Endpoint {
                port: listen.port(),
                source,
            })?;
        serve_h3(endpoint, server.clone()).await
    };
    tokio::try_join!(tcp, quic)?;
    Ok(())
}
