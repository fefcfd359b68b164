//! A TLS-over-TCP server stream that serves early data: [`accept`] and
//! [`EarlyDataStream`].
//!
//! tokio-rustls's acceptor hands a connection to the application only once
//! the handshake is complete, which is when the client's `Finished` arrives,
//! a round trip after the server's first flight. A request the client sent as
//! early data (with its `ClientHello`) would wait for that round trip, and
//! early data would gain nothing. This stream hands the connection over as
//! soon as the server's first flight is on the wire when the server has
//! accepted early data:
//!
//! - reads return the early data first (rustls keeps it apart from ordinary
//!   application data), then the ordinary data once the handshake completes;
//! - writes are encrypted at once with the server's application keys and sent
//!   right behind its first flight (0.5-RTT data, which
//!   `ServerConfig::send_half_rtt_data` allows), so the response to an
//!   early-data request reaches the client together with the handshake.
//!
//! When the client offered no early data, or the server refused it, [`accept`]
//! completes the handshake first, exactly as tokio-rustls does.
//!
//! Early data can be replayed by an attacker; the lab serves only `GET` and
//! `HEAD` of deterministic content, where a replay changes nothing (RFC 8470
//! lists such requests as safe to serve from early data).

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use rustls::{ServerConfig, ServerConnection};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A server TLS connection over `IO` that may still be completing its
/// handshake while early data is read and 0.5-RTT data is written. See the
/// module docs.
#[derive(Debug)]
pub struct EarlyDataStream<IO> {
    io: IO,
    tls: ServerConnection,
    /// The transport has reported end of file.
    io_eof: bool,
    /// `close_notify` has been queued.
    closing: bool,
}

/// Run the server's side of a TLS handshake on `io` with `config` until the
/// connection can carry HTTP: the handshake is complete, or the server has
/// accepted the client's early data and sent its first flight.
///
/// The error names the step that failed (`tls handshake: ...`).
pub async fn accept<IO>(config: Arc<ServerConfig>, io: IO) -> io::Result<EarlyDataStream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let tls = ServerConnection::new(config).map_err(|e| tls_error("tls handshake", e))?;
    let mut stream = EarlyDataStream {
        io,
        tls,
        io_eof: false,
        closing: false,
    };
    poll_fn(|cx| stream.poll_accept(cx)).await?;
    Ok(stream)
}

impl<IO> EarlyDataStream<IO> {
    /// The transport and the rustls connection.
    pub fn get_ref(&self) -> (&IO, &ServerConnection) {
        (&self.io, &self.tls)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> EarlyDataStream<IO> {
    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_write_all_tls(cx))?;
            if !self.tls.is_handshaking() || self.tls.early_data().is_some() {
                return Poll::Ready(Ok(()));
            }
            if ready!(self.poll_read_tls(cx))? == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "tls handshake: the client closed the connection",
                )));
            }
        }
    }

    /// Read what the transport has into rustls and process it. `Ok(0)` at
    /// the transport's end of file.
    fn poll_read_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let n = match self.tls.read_tls(&mut SyncIo {
            io: &mut self.io,
            cx,
        }) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if n == 0 {
            self.io_eof = true;
        }
        if let Err(e) = self.tls.process_new_packets() {
            // Send the alert rustls queued, if the transport takes it now.
            let _ = self.poll_write_all_tls(cx);
            return Poll::Ready(Err(tls_error("tls", e)));
        }
        Poll::Ready(Ok(n))
    }

    /// Write every TLS record rustls has queued to the transport.
    fn poll_write_all_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut SyncIo {
                io: &mut self.io,
                cx,
            }) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for EarlyDataStream<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            // Early data first: it precedes everything else the client sends.
            if let Some(mut early) = this.tls.early_data() {
                let n = early.read(buf.initialize_unfilled())?;
                if n > 0 {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
            }
            match this.tls.reader().read(buf.initialize_unfilled()) {
                Ok(n) => {
                    // 0 is a clean end: the client's close_notify.
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            if this.io_eof {
                // rustls reports an end without close_notify above; this is
                // only reached if it has nothing more to say.
                return Poll::Ready(Ok(()));
            }
            ready!(this.poll_read_tls(cx))?;
            // Processing may queue records (tickets after the client's
            // Finished); send them now. What the transport does not take
            // stays queued in rustls, and a write error shows again on the
            // next write: a read does not fail for it.
            let _ = this.poll_write_all_tls(cx);
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for EarlyDataStream<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut written = this.tls.writer().write(data)?;
        match this.poll_write_all_tls(cx) {
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            // rustls keeps what the transport did not take; a write it
            // could not keep at all waits for the transport.
            Poll::Pending if written == 0 => return Poll::Pending,
            Poll::Pending => return Poll::Ready(Ok(written)),
            Poll::Ready(Ok(())) => {}
        }
        if written == 0 && !data.is_empty() {
            // rustls's buffer was full and is empty now: once more.
            written = this.tls.writer().write(data)?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            if let Poll::Ready(Err(e)) = this.poll_write_all_tls(cx) {
                return Poll::Ready(Err(e));
            }
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.tls.writer().flush()?;
        ready!(this.poll_write_all_tls(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.closing {
            this.tls.send_close_notify();
            this.closing = true;
        }
        ready!(this.poll_write_all_tls(cx))?;
        match ready!(Pin::new(&mut this.io).poll_shutdown(cx)) {
            Err(e) if e.kind() != io::ErrorKind::NotConnected => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(())),
        }
    }
}

/// `std::io` over a tokio stream for rustls, within one poll: `Pending`
/// becomes `WouldBlock`.
struct SyncIo<'a, 'b, IO> {
    io: &'a mut IO,
    cx: &'a mut Context<'b>,
}

impl<IO: AsyncRead + Unpin> Read for SyncIo<'_, '_, IO> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut buf = ReadBuf::new(buf);
        match Pin::new(&mut *self.io).poll_read(self.cx, &mut buf) {
            Poll::Ready(Ok(())) => Ok(buf.filled().len()),
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl<IO: AsyncWrite + Unpin> Write for SyncIo<'_, '_, IO> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match Pin::new(&mut *self.io).poll_write(self.cx, buf) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match Pin::new(&mut *self.io).poll_write_vectored(self.cx, bufs) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match Pin::new(&mut *self.io).poll_flush(self.cx) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

/// A rustls error as an `io::Error` saying during what it happened.
fn tls_error(during: &str, e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{during}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsim::tls::{self, ClientResumption, ClientTls, ServerResumption, SessionCache};
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::TlsConnector;

    const ALPN: &[u8] = b"http/1.1";

    fn name() -> ServerName<'static> {
        ServerName::try_from(tls::SERVER_NAME).unwrap()
    }

    /// One exchange over an in-memory pipe: the client sends `ping`, the
    /// server answers `pong`. Returns whether the server's stream was handed
    /// over mid-handshake, and whether the client's early data was accepted.
    async fn ping_pong(client: &ClientTls, server: &Arc<ServerConfig>) -> (bool, bool) {
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let connector =
            TlsConnector::from(client.config.clone()).early_data(client.config.enable_early_data);
        let client_side = async {
            let mut tls = connector.connect(name(), client_io).await.unwrap();
            tls.write_all(b"ping").await.unwrap();
            tls.flush().await.unwrap();
            let mut pong = [0u8; 4];
            tls.read_exact(&mut pong).await.unwrap();
            assert_eq!(&pong, b"pong");
            tls.shutdown().await.unwrap();
            tls.get_ref().1.is_early_data_accepted()
        };
        let server_side = async {
            let mut tls = accept(server.clone(), server_io).await.unwrap();
            let early = tls.get_ref().1.is_handshaking();
            let mut ping = [0u8; 4];
            tls.read_exact(&mut ping).await.unwrap();
            assert_eq!(&ping, b"ping");
            tls.write_all(b"pong").await.unwrap();
            tls.flush().await.unwrap();
            // Until the client's close_notify: its Finished comes first.
            let mut rest = Vec::new();
            tls.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
            early
        };
        let (accepted, early) = tokio::join!(client_side, server_side);
        (early, accepted)
    }

    /// The second connection's request is read from early data while the
    /// handshake is still running, and answered before it completes.
    #[tokio::test]
    async fn early_data_is_read_before_the_handshake_completes() {
        let server = tls::server_config_with(&[ALPN], None, ServerResumption::On);
        let client = tls::client_tls(
            &[ALPN],
            None,
            &ClientResumption::EarlyData(SessionCache::new()),
        );
        assert_eq!(ping_pong(&client, &server).await, (false, false));
        assert_eq!(ping_pong(&client, &server).await, (true, true));
    }

    /// Without early data the stream is handed over once the handshake is
    /// complete, as tokio-rustls's would be.
    #[tokio::test]
    async fn without_early_data_the_handshake_completes_first() {
        let server = tls::server_config_with(&[ALPN], None, ServerResumption::On);
        let client = tls::client_tls(
            &[ALPN],
            None,
            &ClientResumption::Resume(SessionCache::new()),
        );
        for _ in 0..2 {
            assert_eq!(ping_pong(&client, &server).await, (false, false));
        }
    }

    /// A peer that is not speaking TLS gets an error naming the handshake.
    #[tokio::test]
    async fn garbage_fails_the_handshake_with_an_error() {
        let server = tls::server_config_with(&[ALPN], None, ServerResumption::On);
        let (mut client_io, server_io) = tokio::io::duplex(1024);
        client_io
            .write_all(b"GET / HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        drop(client_io);
        let e = accept(server, server_io).await.unwrap_err();
        assert!(e.to_string().starts_with("tls"), "{e}");
    }
}
