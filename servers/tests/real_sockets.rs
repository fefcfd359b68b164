//! `serve_real` on the machine's loopback: HTTP/1.1, HTTP/2 and HTTP/3 each
//! serve the content model to a client written here.

use std::future::poll_fn;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use bytes::{Buf, Bytes};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use netsim::tls::{self, ALPN_H2, ALPN_H3, ALPN_HTTP1};
use netsim::{FlowControl, RealSockets};
use servers::{serve_real, ContentServer, Limits, Protocols, RealServer};

type Error = Box<dyn std::error::Error>;

const SEED: u64 = 11;
const PATH: &str = "/bytes/200000/real";

/// A loopback port free for both TCP and UDP, at the time of asking.
fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = tcp.local_addr().unwrap().port();
        if std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

async fn tcp_get(addr: SocketAddr, alpn: &'static [u8]) -> Result<(StatusCode, Vec<u8>), Error> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(tls::client_config(&[alpn], None));
    let name = rustls::pki_types::ServerName::try_from("localhost")?;
    let io = TokioIo::new(connector.connect(name, tcp).await?);
    let res = if alpn == ALPN_H2 {
        let (mut send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
        tokio::spawn(conn);
        let req = Request::get(format!("https://localhost{PATH}")).body(Empty::<Bytes>::new())?;
        send.send_request(req).await?
    } else {
        let (mut send, conn) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(conn);
        let req = Request::get(PATH)
            .header("host", "localhost")
            .body(Empty::<Bytes>::new())?;
        send.send_request(req).await?
    };
    let status = res.status();
    Ok((status, res.into_body().collect().await?.to_bytes().to_vec()))
}

async fn h3_get(addr: SocketAddr) -> Result<(StatusCode, Vec<u8>), Error> {
    let mut endpoint = quinn::Endpoint::client((Ipv4Addr::LOCALHOST, 0).into())?;
    endpoint.set_default_client_config(quinn::ClientConfig::new(tls::quic_client_crypto(
        &[ALPN_H3],
        None,
    )));
    let conn = endpoint.connect(addr, "localhost")?.await?;
    let (mut driver, mut send) = h3::client::builder()
        .send_grease(false)
        .build::<_, _, Bytes>(h3_quinn::Connection::new(conn))
        .await?;
    tokio::spawn(async move { poll_fn(|cx| driver.poll_close(cx)).await });
    let mut stream = send
        .send_request(Request::get(format!("https://localhost{PATH}")).body(())?)
        .await?;
    stream.finish().await?;
    let status = stream.recv_response().await?.status();
    let mut body = Vec::new();
    while let Some(mut chunk) = stream.recv_data().await? {
        body.extend_from_slice(&chunk.copy_to_bytes(chunk.remaining()));
    }
    Ok((status, body))
}

#[tokio::test]
async fn every_protocol_serves_on_loopback() {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
    let flow = FlowControl::for_buffer(4 << 20);
    let server = tokio::spawn(serve_real(
        addr,
        Protocols::ALL,
        ContentServer::new(SEED),
        flow,
    ));
    // Let the listeners come up.
    tokio::task::yield_now().await;
    let expected = Arc::new(scenarios::content::body(SEED, PATH, 200_000));

    for (name, got) in [
        ("http/1.1", tcp_get(addr, ALPN_HTTP1).await),
        ("h2", tcp_get(addr, ALPN_H2).await),
        ("h3", h3_get(addr).await),
    ] {
        let (status, body) = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(status, StatusCode::OK, "{name}");
        assert!(body == *expected, "{name}: body differs");
    }
    assert!(!server.is_finished(), "server stopped: {:?}", server.await);
    server.abort();
}

#[tokio::test]
async fn no_protocol_is_a_config_error() {
    let none = Protocols {
        http1: false,
        http2: false,
        http3: false,
    };
    let err = serve_real(
        (Ipv4Addr::LOCALHOST, 0).into(),
        none,
        ContentServer::new(SEED),
        FlowControl::for_buffer(1 << 20),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad server config: protocols: at least one must be on"
    );
}

/// Port 0: one port, TCP's, taken on UDP too, so every protocol is served
/// at the one address `local_addr` gives.
#[tokio::test]
async fn port_zero_binds_one_port_for_tcp_and_udp() {
    let bound = RealServer::bind(
        (Ipv4Addr::LOCALHOST, 0).into(),
        Protocols::ALL,
        FlowControl::for_buffer(4 << 20),
        &RealSockets::default(),
        Limits::default(),
    )
    .expect("bind");
    let addr = bound.local_addr();
    assert_ne!(addr.port(), 0);
    assert!(bound.has_tcp() && bound.has_udp());
    assert!(
        std::net::UdpSocket::bind(addr).is_err(),
        "UDP {addr} is not the server's"
    );
    let server = tokio::spawn(bound.serve(ContentServer::new(SEED)));
    let expected = scenarios::content::body(SEED, PATH, 200_000);
    for (name, got) in [
        ("h2", tcp_get(addr, ALPN_H2).await),
        ("h3", h3_get(addr).await),
    ] {
        let (status, body) = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(status, StatusCode::OK, "{name}");
        assert!(body == expected, "{name}: body differs");
    }
    server.abort();
}

#[tokio::test]
async fn a_bad_limit_is_a_config_error_that_names_it() {
    let limits = Limits {
        idle_timeout: Some(std::time::Duration::ZERO),
        ..Limits::default()
    };
    let err = RealServer::bind(
        (Ipv4Addr::LOCALHOST, 0).into(),
        Protocols::ALL,
        FlowControl::for_buffer(1 << 20),
        &RealSockets::default(),
        limits,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad server config: limits.idle_timeout: must be above 0 (None for no limit)"
    );
}
