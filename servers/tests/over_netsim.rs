//! The servers inside the simulated network, spoken to by small clients
//! written here with hyper and h3 directly (not the `clients` crate): every
//! protocol serves the content model, ranges and errors, and keeps serving
//! on the same connection after an error.

use std::future::poll_fn;
use std::net::{SocketAddr, SocketAddrV4};

use bytes::{Buf, Bytes};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use netsim::tls::{self, ALPN_H2, ALPN_H3, ALPN_HTTP1};
use netsim::{FlowControl, Host, SimConfig, Simulation};
use scenarios::Protocol;
use servers::{run_simulated, ContentServer, Fault};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Error = Box<dyn std::error::Error>;

const SEED: u64 = 7;
const AUTHORITY: &str = "https://server.httplab.test";

/// One response, body read to the end.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One client connection of any protocol.
enum Client {
    Http1(hyper::client::conn::http1::SendRequest<Empty<Bytes>>),
    Http2(hyper::client::conn::http2::SendRequest<Empty<Bytes>>),
    Http3 {
        send: h3::client::SendRequest<h3_quinn::OpenStreams, Bytes>,
        // Kept so the endpoint outlives the connection.
        _endpoint: quinn::Endpoint,
    },
}

async fn tls_connect(
    host: &Host,
    alpn: &'static [u8],
) -> Result<tokio_rustls::client::TlsStream<netsim::TcpStream>, Error> {
    let tcp = host
        .tcp_connect(SocketAddrV4::new(host.server_addr(), 443))
        .await?;
    let connector = tokio_rustls::TlsConnector::from(tls::client_config(&[alpn], None));
    let name = rustls::pki_types::ServerName::try_from(tls::SERVER_NAME)?;
    let tls = connector.connect(name, tcp).await?;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(alpn));
    Ok(tls)
}

impl Client {
    async fn connect(host: &Host, protocol: Protocol) -> Result<Client, Error> {
        let flow = FlowControl::for_buffer(host.buffer_bytes());
        match protocol {
            Protocol::H1 => {
                let io = TokioIo::new(tls_connect(host, ALPN_HTTP1).await?);
                let (send, conn) = hyper::client::conn::http1::handshake(io).await?;
                tokio::spawn(conn);
                Ok(Client::Http1(send))
            }
            Protocol::H2 => {
                let io = TokioIo::new(tls_connect(host, ALPN_H2).await?);
                let (send, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                    .initial_stream_window_size(flow.stream_window)
                    .initial_connection_window_size(flow.connection_window)
                    .adaptive_window(false)
                    .handshake(io)
                    .await?;
                tokio::spawn(conn);
                Ok(Client::Http2(send))
            }
            Protocol::H3 => {
                let endpoint = netsim::quic::client_endpoint(
                    host,
                    tls::quic_client_crypto(&[ALPN_H3], None),
                    &flow.quic(),
                )?;
                let server = SocketAddr::new(host.server_addr().into(), 443);
                let conn = endpoint.connect(server, tls::SERVER_NAME)?.await?;
                let (mut driver, send) = h3::client::builder()
                    .send_grease(false)
                    .build::<_, _, Bytes>(h3_quinn::Connection::new(conn))
                    .await?;
                tokio::spawn(async move { poll_fn(|cx| driver.poll_close(cx)).await });
                Ok(Client::Http3 {
                    send,
                    _endpoint: endpoint,
                })
            }
        }
    }

    async fn request(
        &mut self,
        method: Method,
        path: &str,
        range: Option<&str>,
    ) -> Result<Reply, Error> {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{AUTHORITY}{path}"));
        if let Some(range) = range {
            builder = builder.header(http::header::RANGE, range);
        }
        match self {
            Client::Http1(send) => {
                send.ready().await?;
                let mut req = builder.body(Empty::new())?;
                // HTTP/1.1 wants a Host header rather than an absolute URI.
                *req.uri_mut() = path.parse()?;
                req.headers_mut()
                    .insert(http::header::HOST, tls::SERVER_NAME.parse()?);
                let res = send.send_request(req).await?;
                let (head, body) = res.into_parts();
                let body = body.collect().await?.to_bytes().to_vec();
                Ok(Reply {
                    status: head.status,
                    headers: head.headers,
                    body,
                })
            }
            Client::Http2(send) => {
                send.ready().await?;
                let res = send.send_request(builder.body(Empty::new())?).await?;
                let (head, body) = res.into_parts();
                let body = body.collect().await?.to_bytes().to_vec();
                Ok(Reply {
                    status: head.status,
                    headers: head.headers,
                    body,
                })
            }
            Client::Http3 { send, .. } => {
                let mut stream = send.send_request(builder.body(())?).await?;
                stream.finish().await?;
                let res = stream.recv_response().await?;
                let mut body = Vec::new();
                while let Some(mut chunk) = stream.recv_data().await? {
                    while chunk.has_remaining() {
                        let piece = chunk.chunk();
                        body.extend_from_slice(piece);
                        let n = piece.len();
                        chunk.advance(n);
                    }
                }
                let (head, ()) = res.into_parts();
                Ok(Reply {
                    status: head.status,
                    headers: head.headers,
                    body,
                })
            }
        }
    }

    /// A second handle on the same multiplexed connection.
    fn another_handle(&self) -> Client {
        match self {
            Client::Http2(send) => Client::Http2(send.clone()),
            Client::Http3 { send, _endpoint } => Client::Http3 {
                send: send.clone(),
                _endpoint: _endpoint.clone(),
            },
            Client::Http1(_) => panic!("HTTP/1.1 does not multiplex"),
        }
    }

    async fn get(&mut self, path: &str) -> Result<Reply, Error> {
        self.request(Method::GET, path, None).await
    }
}

/// Run `client` against [`run_simulated`] serving `server` on the default
/// network (50 ms RTT, 10 Mbit/s, no loss).
fn simulate<T, F>(server: ContentServer, client: impl FnOnce(Host) -> F + 'static) -> T
where
    T: 'static,
    F: std::future::Future<Output = Result<T, Error>> + 'static,
{
    let out = Simulation::new(SimConfig::default())
        .expect("valid config")
        .run(
            move |host| run_simulated(host, server.clone()),
            move |host| async move { client(host).await.map_err(|e| e.to_string()) },
        );
    out.outcome.expect("client completes")
}

fn content(path: &str, len: u64) -> Vec<u8> {
    scenarios::content::body(SEED, path, len)
}

/// A good request, as the check after every error.
async fn assert_still_serves(client: &mut Client, after: &str) -> Result<(), Error> {
    let reply = client.get("/bytes/3000/after").await?;
    assert_eq!(reply.status, StatusCode::OK, "after {after}");
    assert_eq!(
        reply.body,
        content("/bytes/3000/after", 3000),
        "after {after}"
    );
    Ok(())
}

fn get_returns_the_content(protocol: Protocol) {
    let reply = simulate(ContentServer::new(SEED), move |host| async move {
        let mut client = Client::connect(&host, protocol).await?;
        client.get("/bytes/100000/x").await
    });
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-length"), Some("100000"));
    assert_eq!(
        reply.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(reply.header("date"), None, "no wall-clock header");
    assert_eq!(reply.body.len(), 100_000);
    assert!(reply.body == content("/bytes/100000/x", 100_000));
}

#[test]
fn http1_get_returns_the_content() {
    get_returns_the_content(Protocol::H1);
}

#[test]
fn http2_get_returns_the_content() {
    get_returns_the_content(Protocol::H2);
}

#[test]
fn http3_get_returns_the_content() {
    get_returns_the_content(Protocol::H3);
}

/// One connection: a range, then every kind of error, each followed by a
/// good request on the same connection.
fn ranges_and_errors_on_one_connection(protocol: Protocol) {
    simulate(ContentServer::new(SEED), move |host| async move {
        let path = "/bytes/100000/r";
        let full = content(path, 100_000);
        let mut c = Client::connect(&host, protocol).await?;

        let r = c
            .request(Method::GET, path, Some("bytes=70000-70099"))
            .await?;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(r.header("content-range"), Some("bytes 70000-70099/100000"));
        assert_eq!(r.header("content-length"), Some("100"));
        assert_eq!(r.body, full[70_000..70_100]);

        let r = c.request(Method::GET, path, Some("bytes=-5")).await?;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(r.header("content-range"), Some("bytes 99995-99999/100000"));
        assert_eq!(r.body, full[99_995..]);

        let r = c.request(Method::GET, path, Some("bytes=90000-")).await?;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(r.body, full[90_000..]);

        let r = c.request(Method::GET, path, Some("bytes=100000-")).await?;
        assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(r.header("content-range"), Some("bytes */100000"));
        assert_eq!(r.body, b"range not satisfiable\n");
        assert_still_serves(&mut c, "416 unsatisfiable").await?;

        let r = c.request(Method::GET, path, Some("bytes=zz")).await?;
        assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(r.body, b"malformed range\n");
        assert_still_serves(&mut c, "416 malformed").await?;

        let r = c.get("/nothing/here").await?;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(r.body, b"not found: /nothing/here\n");
        assert_still_serves(&mut c, "404").await?;

        let r = c.request(Method::POST, path, None).await?;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
        assert_eq!(r.body, b"method not allowed: POST\n");
        assert_still_serves(&mut c, "405").await?;

        let r = c.get("/bytes/12x/name").await?;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.starts_with(b"bad path: "), "{:?}", r.body);
        assert_still_serves(&mut c, "400").await?;

        let r = c.request(Method::HEAD, path, None).await?;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("content-length"), Some("100000"));
        assert!(r.body.is_empty());
        assert_still_serves(&mut c, "HEAD").await?;

        let r = c.get(path).await?;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body == full);
        Ok(())
    });
}

#[test]
fn http1_ranges_and_errors_keep_the_connection_serving() {
    ranges_and_errors_on_one_connection(Protocol::H1);
}

#[test]
fn http2_ranges_and_errors_keep_the_connection_serving() {
    ranges_and_errors_on_one_connection(Protocol::H2);
}

#[test]
fn http3_ranges_and_errors_keep_the_connection_serving() {
    ranges_and_errors_on_one_connection(Protocol::H3);
}

/// Many requests at once on one multiplexed connection, each answered with
/// its own object.
fn concurrent_requests(protocol: Protocol) {
    simulate(ContentServer::new(SEED), move |host| async move {
        let c = Client::connect(&host, protocol).await?;
        let mut tasks = Vec::new();
        for i in 0..20u64 {
            let path = format!("/bytes/{}/obj{i}", 10_000 + i);
            let mut client = c.another_handle();
            tasks.push(tokio::task::spawn_local(async move {
                let r = client.get(&path).await.map_err(|e| e.to_string())?;
                Ok::<_, String>((path, r))
            }));
        }
        for task in tasks {
            let (path, r) = task.await??;
            let len = 10_000 + path.rsplit("obj").next().unwrap().parse::<u64>()?;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            assert!(r.body == content(&path, len), "{path}");
        }
        Ok(())
    });
}

#[test]
fn http2_serves_concurrent_requests() {
    concurrent_requests(Protocol::H2);
}

#[test]
fn http3_serves_concurrent_requests() {
    concurrent_requests(Protocol::H3);
}

/// Send `raw` as an HTTP/1.1 request over a fresh TLS connection; return
/// everything the server sent until it closed.
async fn raw_http1(host: &Host, raw: &[u8]) -> Result<String, Error> {
    let mut tls = tls_connect(host, ALPN_HTTP1).await?;
    tls.write_all(raw).await?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tls.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            // The server may close without TLS close_notify.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}

#[test]
fn malformed_http1_requests_get_400_and_the_server_goes_on() {
    simulate(ContentServer::new(SEED), |host| async move {
        let bad_length = raw_http1(
            &host,
            b"GET /bytes/10 HTTP/1.1\r\nHost: x\r\nContent-Length: zzz\r\n\r\n",
        )
        .await?;
        assert!(bad_length.starts_with("HTTP/1.1 400 "), "{bad_length:?}");

        let garbage = raw_http1(&host, b"\x01\x02 nonsense\r\n\r\n").await?;
        assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage:?}");

        let bad_version = raw_http1(&host, b"GET /bytes/10 HTTP/7.7\r\nHost: x\r\n\r\n").await?;
        assert!(bad_version.starts_with("HTTP/1.1 400 "), "{bad_version:?}");

        // A well-formed request on a raw connection, for comparison.
        let good = raw_http1(
            &host,
            b"GET /bytes/10/raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await?;
        assert!(good.starts_with("HTTP/1.1 200 OK\r\n"), "{good:?}");

        // And a new connection is served as usual.
        let mut c = Client::connect(&host, Protocol::H1).await?;
        assert_still_serves(&mut c, "malformed requests").await?;
        Ok(())
    });
}

#[test]
fn corrupt_fault_changes_one_byte_on_every_protocol() {
    for protocol in Protocol::ALL {
        let server = ContentServer::new(SEED).with_fault(Fault::CorruptByte {
            path_contains: "bad".into(),
        });
        let (bad, good) = simulate(server, move |host| async move {
            let mut c = Client::connect(&host, protocol).await?;
            let bad = c.get("/bytes/100000/bad").await?;
            let good = c.get("/bytes/100000/good").await?;
            Ok((bad, good))
        });
        assert_eq!(bad.status, StatusCode::OK);
        let expected = content("/bytes/100000/bad", 100_000);
        assert_eq!(bad.body.len(), expected.len(), "{protocol:?}");
        let diffs = (0..expected.len())
            .filter(|&i| bad.body[i] != expected[i])
            .collect::<Vec<_>>();
        assert_eq!(diffs, [50_000], "{protocol:?}");
        assert!(good.body == content("/bytes/100000/good", 100_000));
    }
}

#[test]
fn truncate_fault_sends_a_short_body_on_every_protocol() {
    for protocol in Protocol::ALL {
        let server = ContentServer::new(SEED).with_fault(Fault::Truncate {
            path_contains: "cut".into(),
        });
        let outcome = simulate(server, move |host| async move {
            let mut c = Client::connect(&host, protocol).await?;
            Ok(c.get("/bytes/100000/cut")
                .await
                .map(|r| {
                    (
                        r.status,
                        r.header("content-length").map(str::to_owned),
                        r.body.len(),
                    )
                })
                .map_err(|e| e.to_string()))
        });
        match protocol {
            // hyper's clients check the body against content-length.
            Protocol::H1 | Protocol::H2 => {
                assert!(outcome.is_err(), "{protocol:?}: {outcome:?}")
            }
            // h3 does not: the stream ends cleanly after half the bytes.
            Protocol::H3 => {
                let (status, length, got) = outcome.expect("h3 reads a short body");
                assert_eq!(status, StatusCode::OK);
                assert_eq!(length.as_deref(), Some("100000"));
                assert_eq!(got, 50_000);
            }
        }
    }
}

/// One GET over a fresh connection; when it completed.
async fn fetch_once(host: &Host, protocol: Protocol) -> Result<std::time::Duration, Error> {
    let mut c = Client::connect(host, protocol).await?;
    let r = c.get("/bytes/300000/d").await?;
    assert!(r.body == content("/bytes/300000/d", 300_000));
    Ok(netsim::now())
}

/// The same seed gives the same packets: the servers add nothing random or
/// clock-dependent (no `Date` header, no h3 GREASE).
#[test]
fn every_protocol_gives_the_same_run_twice() {
    for protocol in Protocol::ALL {
        let run = || {
            let out =
                Simulation::new(SimConfig {
                    network: netsim::NetworkConfig::symmetric(
                        std::time::Duration::from_millis(40),
                        10_000_000,
                        netsim::LossModel::Bernoulli { rate: 0.02 },
                    ),
                    ..SimConfig::default()
                })
                .expect("valid config")
                .run(
                    |host| run_simulated(host, ContentServer::new(SEED)),
                    move |host| async move {
                        fetch_once(&host, protocol).await.map_err(|e| e.to_string())
                    },
                );
            (
                out.outcome.expect("client completes"),
                out.packet_log.digest(),
            )
        };
        let first = run();
        let second = run();
        assert_eq!(first, second, "{protocol:?}");
    }
}
