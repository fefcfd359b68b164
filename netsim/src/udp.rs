//! Simulated UDP sockets, and quinn's `AsyncUdpSocket` on top of them.
//!
//! A datagram sent on a [`UdpSocket`] is wrapped in IPv4/UDP headers and
//! crosses the link model like any other packet. Sending never blocks: a
//! datagram the bottleneck queue cannot take is dropped there, as a real
//! router would. GSO/GRO are off (one datagram per call), and the socket
//! never fragments, so quinn sends at the fixed MTU the lab configures.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSliceMut};
use std::net::{SocketAddr, SocketAddrV4};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use quinn::udp::{RecvMeta, Transmit};
use quinn::{AsyncUdpSocket, UdpPoller};

use crate::clock::now;
use crate::host::{Host, UdpSlot};
use crate::packet;

/// A UDP socket on a simulated host, bound to the host's address at bind
/// time. After a path change it neither sends nor receives (its address is
/// gone); bind a new one.
pub struct UdpSocket {
    host: Host,
    local: SocketAddrV4,
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local", &self.local)
            .finish()
    }
}

impl Host {
    /// Bind a UDP socket at this host's current address; port 0 picks a
    /// free ephemeral port.
    pub fn udp_bind(&self, port: u16) -> io::Result<UdpSocket> {
        let mut st = self.state();
        let port = if port == 0 {
            st.ephemeral_port()?
        } else {
            port
        };
        let addr = st.address;
        if st.udp.get(&port).is_some_and(|s| s.addr == addr) {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("udp port {port} already bound at {addr}"),
            ));
        }
        st.udp.insert(
            port,
            UdpSlot {
                addr,
                queue: Default::default(),
                waker: None,
            },
        );
        Ok(UdpSocket {
            host: self.clone(),
            local: SocketAddrV4::new(addr, port),
        })
    }
}

impl UdpSocket {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddrV4 {
        self.local
    }

    /// Send one datagram to `dst`. Never blocks.
    pub fn send_to(&self, payload: &[u8], dst: SocketAddrV4) -> io::Result<()> {
        let mut st = self.host.state();
        let ident = st.next_ip_ident();
        let bytes = packet::build_udp(self.local, dst, ident, payload);
        self.host.send_packet(&mut st, now(), bytes);
        Ok(())
    }

    /// Receive one datagram into `buf`, truncating it if `buf` is short.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddrV4)>> {
        let mut st = self.host.state();
        let Some(slot) = st.udp.get_mut(&self.local.port()) else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "udp socket closed",
            )));
        };
        if slot.addr != *self.local.ip() {
            // Rebound elsewhere after a path change; this socket is dead.
            return Poll::Pending;
        }
        match slot.queue.pop_front() {
            Some((src, data)) => {
                let n = data.len().min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                Poll::Ready(Ok((n, src)))
            }
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// Receive one datagram.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddrV4)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        let mut st = self.host.state();
        if st
            .udp
            .get(&self.local.port())
            .is_some_and(|s| s.addr == *self.local.ip())
        {
            st.udp.remove(&self.local.port());
            st.release_port(self.local.port());
        }
    }
}

/// Always writable: the simulated socket never pushes back.
#[derive(Debug)]
struct Writable;

impl UdpPoller for Writable {
    fn poll_writable(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn v4(addr: SocketAddr) -> io::Result<SocketAddrV4> {
    match addr {
        SocketAddr::V4(a) => Ok(a),
        SocketAddr::V6(a) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("the simulated network is IPv4 only, got {a}"),
        )),
    }
}

impl AsyncUdpSocket for UdpSocket {
    fn create_io_poller(self: Arc<Self>) -> Pin<Box<dyn UdpPoller>> {
        Box::pin(Writable)
    }

    fn try_send(&self, transmit: &Transmit<'_>) -> io::Result<()> {
        let dst = v4(transmit.destination)?;
        match transmit.segment_size {
            Some(size) if size < transmit.contents.len() => {
                for chunk in transmit.contents.chunks(size) {
                    self.send_to(chunk, dst)?;
                }
                Ok(())
            }
            _ => self.send_to(transmit.contents, dst),
        }
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        let mut count = 0;
        for (buf, meta) in bufs.iter_mut().zip(meta.iter_mut()) {
            match self.poll_recv_from(cx, buf) {
                Poll::Ready(Ok((len, src))) => {
                    *meta = RecvMeta {
                        addr: SocketAddr::V4(src),
                        len,
                        stride: len,
                        ecn: None,
                        dst_ip: Some((*self.local.ip()).into()),
                    };
                    count += 1;
                }
                Poll::Ready(Err(e)) if count == 0 => return Poll::Ready(Err(e)),
                _ => break,
            }
        }
        if count == 0 {
            Poll::Pending
        } else {
            Poll::Ready(Ok(count))
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::V4(self.local))
    }

    fn may_fragment(&self) -> bool {
        false
    }
}
