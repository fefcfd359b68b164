//! The wire between the two hosts: turmoil's UDP, carrying each IPv4 packet
//! the link model delivers, stamped with its delivery time, and the inbox
//! that holds arrived packets until their delivery tick.
//!
//! A packet a host sends goes to the run's `Network`; if the link model
//! delivers it at time `t`, the [`Wire`] sends it over turmoil's UDP to the
//! peer framed with `t`, and the peer's [`Inbox`] holds it until `t` rounded
//! to the nearest tick. turmoil's own latency is zero and its loss is off:
//! every delay and drop comes from the lab's link model.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::clock::to_tick;
use crate::link::MAX_MTU;
use crate::network::Side;

/// The turmoil UDP port that carries the simulated wire between hosts.
const WIRE_PORT: u16 = 9;
/// A frame on the wire: delivery time in nanoseconds (8 bytes, little
/// endian), then the IPv4 packet.
const FRAME_HEADER: usize = 8;

/// One host's end of the wire.
#[derive(Debug)]
pub(crate) struct Wire {
    socket: turmoil::net::UdpSocket,
    peer: SocketAddr,
}

impl Wire {
    /// Bind `side`'s end inside its turmoil host.
    pub(crate) async fn bind(side: Side) -> io::Result<Wire> {
        let socket = turmoil::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, WIRE_PORT)).await?;
        let peer = SocketAddr::new(turmoil::lookup(side.peer().label()), WIRE_PORT);
        Ok(Wire { socket, peer })
    }

    /// Carry `packet` to the peer, to be handed over at `at`.
    pub(crate) fn send(&self, at: Duration, packet: &[u8]) {
        let mut frame = Vec::with_capacity(FRAME_HEADER + packet.len());
        frame.extend_from_slice(&(at.as_nanos() as u64).to_le_bytes());
        frame.extend_from_slice(packet);
        // turmoil's UDP never blocks and its links are healthy; an error
        // here means the peer host is gone, which ends the run anyway.
        let _ = self.socket.try_send_to(&frame, self.peer);
    }

    /// Move every frame that has come off the wire into `inbox`.
    pub(crate) fn receive(&self, buf: &mut ReceiveBuffer, inbox: &mut Inbox) {
        loop {
            match self.socket.try_recv_from(&mut buf.0) {
                Ok((n, _)) if n >= FRAME_HEADER => {
                    let at = u64::from_le_bytes(buf.0[..FRAME_HEADER].try_into().expect("8 bytes"));
                    inbox.push(
                        to_tick(Duration::from_nanos(at)),
                        buf.0[FRAME_HEADER..n].to_vec(),
                    );
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    }

    /// Resolves when a frame may be waiting.
    pub(crate) async fn readable(&self) {
        let _ = self.socket.readable().await;
    }
}

/// Room for a frame of the largest packet any link carries.
#[derive(Debug)]
pub(crate) struct ReceiveBuffer(Vec<u8>);

impl ReceiveBuffer {
    pub(crate) fn new() -> ReceiveBuffer {
        ReceiveBuffer(vec![0u8; FRAME_HEADER + MAX_MTU as usize])
    }
}

/// A packet waiting in the inbox until its delivery tick. Ordered by tick,
/// then by the order it came off the wire.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Arrival {
    at: Duration,
    seq: u64,
    packet: Vec<u8>,
}

/// Packets that came off the wire, waiting for their delivery tick.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    heap: BinaryHeap<Reverse<Arrival>>,
    seq: u64,
}

impl Inbox {
    fn push(&mut self, at: Duration, packet: Vec<u8>) {
        self.seq += 1;
        self.heap.push(Reverse(Arrival {
            at,
            seq: self.seq,
            packet,
        }));
    }

    /// The next packet due by `now`, in delivery order.
    pub(crate) fn pop_due(&mut self, now: Duration) -> Option<Vec<u8>> {
        if self.heap.peek().is_some_and(|Reverse(a)| a.at <= now) {
            self.heap.pop().map(|Reverse(a)| a.packet)
        } else {
            None
        }
    }

    /// When the next packet is due.
    pub(crate) fn next_at(&self) -> Option<Duration> {
        self.heap.peek().map(|Reverse(a)| a.at)
    }
}
