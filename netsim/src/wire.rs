//! The wire between the two hosts, carrying each IPv4 packet the link
//! model delivers, stamped with its delivery time, and the inbox that holds
//! arrived packets until their delivery tick.
//!
//! A packet a host sends goes to the run's `Network`; if the link model
//! delivers it at time `t`, the [`Wire`] puts it, with `t`, in the peer's
//! queue at once and wakes the peer's driver, and the peer's [`Inbox`]
//! holds it until `t` rounded to the nearest tick. The wire itself has no
//! latency and no loss: every delay and drop comes from the lab's link
//! model. The hosts are stepped in turn on one thread (`crate::stepper`),
//! so a packet the server sends in a step is on the client's wire when the
//! client's tick of that step starts, and one the client sends is on the
//! server's when the server's next tick starts.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use crate::clock::to_tick;
use crate::network::Side;
use crate::sync::lock;

/// Packets on their way to one host, and its driver's waker.
#[derive(Debug, Default)]
struct Lane {
    queue: VecDeque<(Duration, Vec<u8>)>,
    waker: Option<Waker>,
}

/// The run's wire: one lane into each host.
#[derive(Debug, Default)]
pub(crate) struct Wires {
    to_client: Mutex<Lane>,
    to_server: Mutex<Lane>,
}

impl Wires {
    /// Whether no packet is on its way into `to`.
    pub(crate) fn is_empty(&self, to: Side) -> bool {
        lock(self.lane(to)).queue.is_empty()
    }

    fn lane(&self, to: Side) -> &Mutex<Lane> {
        match to {
            Side::Client => &self.to_client,
            Side::Server => &self.to_server,
        }
    }
}

/// One host's end of the wire.
#[derive(Debug)]
pub(crate) struct Wire {
    wires: Arc<Wires>,
    side: Side,
}

impl Wire {
    /// `side`'s end of `wires`.
    pub(crate) fn new(wires: Arc<Wires>, side: Side) -> Wire {
        Wire { wires, side }
    }

    /// Carry `packet` to the peer, to be handed over at `at`.
    pub(crate) fn send(&self, at: Duration, packet: &[u8]) {
        let mut lane = lock(self.wires.lane(self.side.peer()));
        lane.queue.push_back((at, packet.to_vec()));
        if let Some(w) = lane.waker.take() {
            drop(lane);
            w.wake();
        }
    }

    /// Move every packet that has come off the wire into `inbox`.
    pub(crate) fn receive(&self, inbox: &mut Inbox) {
        let mut lane = lock(self.wires.lane(self.side));
        for (at, packet) in lane.queue.drain(..) {
            inbox.push(to_tick(at), packet);
        }
    }

    /// Resolves when a packet is waiting.
    pub(crate) async fn readable(&self) {
        poll_fn(|cx| {
            let mut lane = lock(self.wires.lane(self.side));
            if lane.queue.is_empty() {
                lane.waker = Some(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await
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
