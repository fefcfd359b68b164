//! The async face of TCP: [`TcpStream`] (tokio `AsyncRead` + `AsyncWrite`)
//! and [`TcpListener`], written once against the [`TcpStack`] trait, so
//! hyper (through hyper-util's `TokioIo`) and tokio-rustls run on them
//! unchanged. The stack itself is the `tcp` crate's (sans-IO); the TCP
//! configuration types are re-exported at the crate root for
//! [`crate::SimConfig`].
//!
//! [`TcpStack`]: tcp::TcpStack

use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, SocketAddrV4};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::accepted::{Entry, Handle};
use crate::clock::now;
use crate::host::{Host, Interest};
use crate::stats::TransportStats;
use tcp::{ConnId, ConnState, ListenerId, RecvOutcome, SendOutcome, TcpError};

fn io_error(e: TcpError) -> io::Error {
    let kind = match e {
        TcpError::Reset => io::ErrorKind::ConnectionReset,
        TcpError::Refused => io::ErrorKind::ConnectionRefused,
        TcpError::AddressGone(_) => io::ErrorKind::NetworkDown,
        TcpError::AddrInUse(_) => io::ErrorKind::AddrInUse,
        TcpError::Exhausted(_) => io::ErrorKind::OutOfMemory,
        TcpError::Closed => io::ErrorKind::BrokenPipe,
        TcpError::Unknown => io::ErrorKind::NotConnected,
    };
    io::Error::new(kind, e)
}

impl Host {
    /// Open a TCP connection to `remote` from this host's current address
    /// and a fresh port. Resolves when the handshake completes (or fails).
    pub async fn tcp_connect(&self, remote: SocketAddrV4) -> io::Result<TcpStream> {
        let (conn, local) = {
            let mut st = self.state();
            let port = st.ephemeral_port()?;
            let local = SocketAddrV4::new(st.address, port);
            match st.tcp.connect(local, remote) {
                Ok(c) => (c, local),
                Err(e) => {
                    st.release_port(port);
                    return Err(io_error(e));
                }
            }
        };
        self.nudge();
        let stream = TcpStream {
            host: self.clone(),
            conn,
            local,
            remote,
        };
        poll_fn(|cx| {
            let mut st = self.state();
            match st.tcp.state(conn) {
                ConnState::Connecting => {
                    st.wait_tcp(Interest::Connect(conn), cx.waker());
                    Poll::Pending
                }
                ConnState::Established => Poll::Ready(Ok(())),
                ConnState::Closed(e) => Poll::Ready(Err(io_error(e.unwrap_or(TcpError::Closed)))),
            }
        })
        .await?;
        Ok(stream)
    }

    /// Listen for TCP connections on `port` at this host's address.
    pub fn tcp_listen(&self, port: u16) -> io::Result<TcpListener> {
        let mut st = self.state();
        let local = SocketAddrV4::new(st.address, port);
        let id = st.tcp.listen(local).map_err(io_error)?;
        drop(st);
        self.nudge();
        Ok(TcpListener {
            host: self.clone(),
            id,
            local,
        })
    }
}

/// A listening TCP port on a simulated host.
#[derive(Debug)]
pub struct TcpListener {
    host: Host,
    id: ListenerId,
    local: SocketAddrV4,
}

impl TcpListener {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddrV4 {
        self.local
    }

    /// Wait for the next established connection. The host registers it
    /// among its accepted connections (see the `accepted` module).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddrV4)> {
        let (conn, local, remote) = poll_fn(|cx| {
            let mut st = self.host.state();
            match st.tcp.accept(self.id) {
                Some(conn) => {
                    let (local, remote) = st.tcp.endpoints(conn).ok_or_else(|| {
                        io::Error::new(io::ErrorKind::NotConnected, "accepted connection vanished")
                    })?;
                    Poll::Ready(Ok::<_, io::Error>((conn, local, remote)))
                }
                None => {
                    st.wait_tcp(Interest::Accept, cx.waker());
                    Poll::Pending
                }
            }
        })
        .await?;
        self.host.register_accepted(Entry {
            accepted_at: now(),
            peer: SocketAddr::V4(remote),
            handle: Handle::Tcp {
                conn,
                local,
                remote,
            },
        });
        let stream = TcpStream {
            host: self.host.clone(),
            conn,
            local,
            remote,
        };
        Ok((stream, remote))
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        self.host.state().tcp.close_listener(self.id);
        self.host.nudge();
    }
}

/// A TCP connection on a simulated host. Reads and writes go through the
/// host's TCP stack; every segment crosses the link model.
///
/// Writes complete once the bytes are in the stack's send buffer, as with a
/// kernel socket; `flush` has nothing to wait for. Dropping the stream
/// closes it gracefully (FIN).
#[derive(Debug)]
pub struct TcpStream {
    host: Host,
    conn: ConnId,
    local: SocketAddrV4,
    remote: SocketAddrV4,
}

impl TcpStream {
    /// Local address and port.
    pub fn local_addr(&self) -> SocketAddrV4 {
        self.local
    }

    /// Remote address and port.
    pub fn peer_addr(&self) -> SocketAddrV4 {
        self.remote
    }

    /// Transport statistics of this connection so far, from this end.
    pub fn transport_stats(&self) -> TransportStats {
        self.host.tcp_stats(self.conn, self.local, self.remote)
    }

    /// Reset the connection at once.
    pub fn abort(&self) {
        self.host.state().tcp.abort(self.conn, TcpError::Reset);
        self.host.nudge();
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut st = self.host.state();
        match st.tcp.recv(self.conn, buf.initialize_unfilled()) {
            RecvOutcome::Data(n) => {
                buf.advance(n);
                drop(st);
                // Reading opens the receive window: let the stack announce it.
                self.host.nudge();
                Poll::Ready(Ok(()))
            }
            RecvOutcome::Eof => Poll::Ready(Ok(())),
            RecvOutcome::WouldBlock => {
                st.wait_tcp(Interest::Read(self.conn), cx.waker());
                Poll::Pending
            }
            RecvOutcome::Failed(e) => Poll::Ready(Err(io_error(e))),
        }
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut st = self.host.state();
        match st.tcp.send(self.conn, data) {
            SendOutcome::Queued(n) => {
                drop(st);
                self.host.nudge();
                Poll::Ready(Ok(n))
            }
            SendOutcome::WouldBlock => {
                st.wait_tcp(Interest::Write(self.conn), cx.waker());
                Poll::Pending
            }
            SendOutcome::Failed(e) => Poll::Ready(Err(io_error(e))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.host.state().tcp.shutdown(self.conn);
        self.host.nudge();
        Poll::Ready(Ok(()))
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        let mut st = self.host.state();
        st.tcp.release(self.conn);
        st.release_port(self.local.port());
        drop(st);
        self.host.nudge();
    }
}
