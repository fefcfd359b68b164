//! hyper runs unchanged on netsim's TCP (through hyper-util's `TokioIo`),
//! inside TLS 1.3 from tokio-rustls: HTTP/1.1 and HTTP/2, with the body
//! checked byte for byte.

use std::convert::Infallible;
use std::net::SocketAddrV4;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use netsim::tls::{self, ALPN_H2, ALPN_HTTP1};
use netsim::{Host, LossModel, NetworkConfig, SimConfig, Simulation};

const BODY: usize = 300_000;

fn body() -> Bytes {
    (0..BODY)
        .map(|i| (i % 253) as u8)
        .collect::<Vec<u8>>()
        .into()
}

async fn serve(host: Host) -> Result<(), Box<dyn std::error::Error>> {
    let listener = host.tcp_listen(443)?;
    let acceptor =
        tokio_rustls::TlsAcceptor::from(tls::server_config(&[ALPN_H2, ALPN_HTTP1], None));
    loop {
        let (tcp, _) = listener.accept().await?;
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let h2 = tls.get_ref().1.alpn_protocol() == Some(ALPN_H2);
            let service = hyper::service::service_fn(|_req: Request<Incoming>| async {
                Ok::<_, Infallible>(Response::new(Full::new(body())))
            });
            let io = TokioIo::new(tls);
            let _ = if h2 {
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(io, service)
                    .await
            } else {
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await
            };
        });
    }
}

async fn get(
    host: Host,
    alpn: &'static [u8],
) -> Result<(Vec<u8>, Duration), Box<dyn std::error::Error>> {
    let tcp = host
        .tcp_connect(SocketAddrV4::new(host.server_addr(), 443))
        .await?;
    let connector = tokio_rustls::TlsConnector::from(tls::client_config(&[alpn], None));
    let name = rustls::pki_types::ServerName::try_from(tls::SERVER_NAME)?;
    let tls = connector.connect(name, tcp).await?;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(alpn));
    let io = TokioIo::new(tls);
    let req =
        Request::get("https://server.httplab.test/bytes/300000").body(Full::new(Bytes::new()))?;
    let response = if alpn == ALPN_H2 {
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
        tokio::spawn(conn);
        sender.send_request(req).await?
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(conn);
        sender.send_request(req).await?
    };
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await?.to_bytes().to_vec();
    Ok((body, netsim::now()))
}

fn run(alpn: &'static [u8]) -> (Vec<u8>, Duration) {
    let config = SimConfig {
        network: NetworkConfig::symmetric(
            Duration::from_millis(40),
            10_000_000,
            LossModel::Bernoulli { rate: 0.01 },
        ),
        ..SimConfig::default()
    };
    let out = Simulation::new(config)
        .expect("valid config")
        .run(serve, move |host| async move {
            get(host, alpn).await.map_err(|e| e.to_string())
        });
    out.outcome.expect("request completes")
}

#[test]
fn http1_over_tls_over_netsim_tcp() {
    let (body_got, at) = run(ALPN_HTTP1);
    eprintln!("HTTP/1.1: {} bytes at {at:?}", body_got.len());
    assert_eq!(body_got, body().to_vec());
}

#[test]
fn http2_over_tls_over_netsim_tcp() {
    let (body_got, at) = run(ALPN_H2);
    eprintln!("HTTP/2: {} bytes at {at:?}", body_got.len());
    assert_eq!(body_got, body().to_vec());
}
