//! Per-connection transport statistics.
//!
//! For TCP the host measures passively, at its own NIC, the way tcptrace
//! reads a capture: packets and bytes sent, retransmissions (a data segment
//! that does not extend the highest sequence number sent), and RTT samples
//! (send time of a segment to the ACK that first covers it, skipping
//! retransmitted segments, per Karn's algorithm). This works for any TCP
//! implementation behind the `TcpStack` trait. For QUIC the numbers come
//! from quinn's own connection statistics. Link-level drops come from the
//! network's per-flow counters in both cases.
//!
//! Serialized (serde), every duration is a whole number of nanoseconds in a
//! field whose name ends in `_ns`; [`nanos`] is that convention, for any
//! record that carries these statistics.

use std::collections::{BTreeMap, VecDeque};

use crate::packet::{FlowKey, PacketSummary};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use tcp::{columns, nanos, SegmentArrival};

/// What one host's NIC saw of every flow: for each flow it sent on, a
/// [`TcpFlowTracker`] (TCP only), and for each flow it received, packet
/// and byte counts. The host's one owner of flow statistics.
#[derive(Debug, Default)]
pub(crate) struct FlowStats {
    sent: BTreeMap<FlowKey, TcpFlowTracker>,
    received: BTreeMap<FlowKey, RxCounters>,
}

/// Received-side counters of one flow.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RxCounters {
    /// Packets received.
    pub(crate) packets: u64,
    /// Bytes (whole IP packets) received.
    pub(crate) bytes: u64,
}

impl FlowStats {
    /// The host sent `packet` at `now`.
    pub(crate) fn on_send(&mut self, now: Duration, packet: &PacketSummary) {
        if let Some(tcp) = packet.tcp {
            let seg_len = tcp.payload_len + u32::from(tcp.syn) + u32::from(tcp.fin);
            self.sent
                .entry(packet.flow)
                .or_default()
                .on_send(now, packet.len, tcp.seq, seg_len);
        }
    }

    /// `packet` arrived at the host's NIC (whatever its address).
    pub(crate) fn on_receive(&mut self, packet: &PacketSummary) {
        let rx = self.received.entry(packet.flow).or_default();
        rx.packets += 1;
        rx.bytes += u64::from(packet.len);
    }

    /// A TCP `packet` for this host arrived at `now`: if it acknowledges
    /// data, the reverse flow's tracker takes its RTT sample.
    pub(crate) fn on_ack(&mut self, now: Duration, packet: &PacketSummary) {
        if let Some(tcp) = packet.tcp.filter(|t| t.ack) {
            if let Some(tracker) = self.sent.get_mut(&packet.flow.reversed()) {
                tracker.on_ack(now, tcp.ack_number);
            }
        }
    }

    /// The sending side of TCP flow `out` and the receiving side of its
    /// reverse, as counted so far.
    pub(crate) fn tcp_flow(&self, out: &FlowKey) -> (TcpFlowTracker, RxCounters) {
        (
            self.sent.get(out).cloned().unwrap_or_default(),
            self.received
                .get(&out.reversed())
                .copied()
                .unwrap_or_default(),
        )
    }
}

/// One RTT measurement. Records hold a connection's samples as columns
/// (`rtt_columns`), not one object each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RttSample {
    /// Simulated time at which the sample was taken.
    pub at: Duration,
    /// The measured round-trip time.
    pub rtt: Duration,
}

/// Transport statistics of one connection, from one endpoint's view.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransportStats {
    /// Packets this endpoint sent (IP packets for TCP, UDP datagrams for
    /// QUIC).
    pub packets_sent: u64,
    /// Bytes this endpoint sent (whole IP packets for TCP, UDP payload for
    /// QUIC, as quinn counts them).
    pub bytes_sent: u64,
    /// Packets this endpoint received.
    pub packets_received: u64,
    /// Bytes this endpoint received.
    pub bytes_received: u64,
    /// Of this endpoint's packets, how many the link model dropped.
    pub link_drops_sent: u64,
    /// Of the peer's packets to this endpoint, how many the link model
    /// dropped.
    pub link_drops_received: u64,
    /// Retransmissions: TCP segments resent, or QUIC packets declared lost
    /// (whose frames quinn then resends).
    pub retransmissions: u64,
    /// RTT samples, in time order (TCP: passive; QUIC: each change of
    /// quinn's smoothed RTT seen when stats were read, so possibly only the
    /// last). Written as columns (`rtt_columns`).
    #[serde(with = "rtt_columns")]
    pub rtt_samples: Vec<RttSample>,
    /// Smoothed RTT, where known.
    #[serde(rename = "smoothed_rtt_ns", with = "nanos::option")]
    pub smoothed_rtt: Option<Duration>,
    /// Congestion window in bytes, where the stack exposes it.
    pub cwnd: Option<u64>,
    /// The TCP implementation's own counters for this connection, by name
    /// (empty for QUIC and for stacks that keep none).
    pub stack_counters: Vec<(String, u64)>,
    /// Every data segment received, in arrival order, with the time its
    /// bytes became readable: `Some` on the Linux-like TCP stack, `None`
    /// where the transport keeps no such record (smoltcp, QUIC). Written
    /// as columns (`tcp::columns::arrivals`).
    #[serde(with = "tcp::columns::arrivals")]
    pub arrivals: Option<Vec<SegmentArrival>>,
}

/// Serde for RTT samples as columns (`tcp::columns`): `unit_ns`, `at`
/// (the sample times in units, delta-encoded) and `rtt` (each sample's
/// round-trip time in units).
mod rtt_columns {
    use std::time::Duration;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use tcp::columns::{deltas, in_units, same_lengths, sums, to_ns, unit, Error};
    use tcp::nanos::to_u64;

    use super::RttSample;

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Columns {
        unit_ns: u64,
        at: Vec<i64>,
        rtt: Vec<u64>,
    }

    pub(super) fn serialize<S: Serializer>(samples: &[RttSample], s: S) -> Result<S::Ok, S::Error> {
        let unit = unit(samples.iter().flat_map(|x| [to_u64(x.at), to_u64(x.rtt)]));
        Columns {
            unit_ns: unit,
            at: deltas(samples.iter().map(|x| in_units(to_u64(x.at), unit))),
            rtt: samples
                .iter()
                .map(|x| in_units(to_u64(x.rtt), unit))
                .collect(),
        }
        .serialize(s)
    }

    fn decode(c: Columns) -> Result<Vec<RttSample>, Error> {
        if c.unit_ns == 0 {
            return Err(Error::ZeroUnit);
        }
        same_lengths(&[("at", c.at.len()), ("rtt", c.rtt.len())])?;
        sums("at", &c.at)?
            .into_iter()
            .zip(&c.rtt)
            .enumerate()
            .map(|(i, (at, &rtt))| {
                Ok(RttSample {
                    at: Duration::from_nanos(to_ns(at, c.unit_ns, "at", i)?),
                    rtt: Duration::from_nanos(to_ns(rtt, c.unit_ns, "rtt", i)?),
                })
            })
            .collect()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RttSample>, D::Error> {
        decode(Columns::deserialize(d)?).map_err(|e| D::Error::custom(format!("rtt_samples: {e}")))
    }
}

/// Wrapping comparison of TCP sequence numbers: `a < b`.
fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

fn seq_le(a: u32, b: u32) -> bool {
    a == b || seq_lt(a, b)
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    end: u32,
    sent: Duration,
    retransmitted: bool,
}

/// Passive sender-side tracking of one TCP flow.
#[derive(Clone, Debug, Default)]
pub struct TcpFlowTracker {
    highest_end: Option<u32>,
    /// Segments sent and not yet acknowledged, in sequence order (their
    /// ends increase).
    in_flight: VecDeque<InFlight>,
    /// Segments of `in_flight` counted from the flow's first (so that a
    /// position survives the acknowledged ones leaving the front): how
    /// many have left.
    acked_count: u64,
    /// The positions marked retransmitted, as ranges in increasing order.
    /// A retransmission marks every segment in flight that ends after
    /// where it starts: the segments from one position to the last sent,
    /// found by binary search and noted as one range, not one by one.
    retransmitted: VecDeque<(u64, u64)>,
    /// Packets sent on the flow.
    pub packets: u64,
    /// Bytes (whole IP packets) sent on the flow.
    pub bytes: u64,
    /// Segments that resent sequence space already sent.
    pub retransmissions: u64,
    /// RTT samples.
    pub rtt_samples: Vec<RttSample>,
}

impl TcpFlowTracker {
    /// A segment left this host at `now`. `seg_len` counts payload plus one
    /// for SYN and one for FIN.
    pub fn on_send(&mut self, now: Duration, ip_len: u32, seq: u32, seg_len: u32) {
        self.packets += 1;
        self.bytes += u64::from(ip_len);
        if seg_len == 0 {
            return;
        }
        let end = seq.wrapping_add(seg_len);
        match self.highest_end {
            Some(high) if seq_lt(seq, high) => {
                // Resends sequence space: a retransmission. No RTT sample may
                // come from the segments it overlaps.
                self.retransmissions += 1;
                let first = self.in_flight.partition_point(|f| !seq_lt(seq, f.end));
                let mut from = self.acked_count + first as u64;
                let to = self.acked_count + self.in_flight.len() as u64;
                if from < to {
                    // Every range noted so far ends at or before `to`.
                    while let Some(&(start, end)) = self.retransmitted.back() {
                        if end < from {
                            break;
                        }
                        from = from.min(start);
                        self.retransmitted.pop_back();
                    }
                    self.retransmitted.push_back((from, to));
                }
                if seq_lt(high, end) {
                    self.in_flight.push_back(InFlight {
                        end,
                        sent: now,
                        retransmitted: true,
                    });
                    self.highest_end = Some(end);
                }
            }
            _ => {
                self.in_flight.push_back(InFlight {
                    end,
                    sent: now,
                    retransmitted: false,
                });
                self.highest_end = Some(end);
            }
        }
    }

    /// An ACK for this flow arrived at `now`.
    pub fn on_ack(&mut self, now: Duration, ack: u32) {
        let mut newest: Option<InFlight> = None;
        while let Some(front) = self.in_flight.front() {
            if seq_le(front.end, ack) {
                let at = self.acked_count;
                newest = self.in_flight.pop_front().map(|mut f| {
                    f.retransmitted |= self
                        .retransmitted
                        .front()
                        .is_some_and(|&(start, end)| start <= at && at < end);
                    f
                });
                self.acked_count += 1;
                while self
                    .retransmitted
                    .front()
                    .is_some_and(|&(_, end)| end <= self.acked_count)
                {
                    self.retransmitted.pop_front();
                }
            } else {
                break;
            }
        }
        if let Some(f) = newest {
            if !f.retransmitted {
                self.rtt_samples.push(RttSample {
                    at: now,
                    rtt: now - f.sent,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn rtt_from_first_transmissions_only() {
        let mut t = TcpFlowTracker::default();
        t.on_send(ms(0), 40, 1000, 1); // SYN
        t.on_ack(ms(50), 1001);
        assert_eq!(
            t.rtt_samples,
            vec![RttSample {
                at: ms(50),
                rtt: ms(50)
            }]
        );
        t.on_send(ms(60), 1500, 1001, 1460);
        t.on_send(ms(61), 1500, 2461, 1460);
        // The first segment is lost and resent at 300 ms.
        t.on_send(ms(300), 1500, 1001, 1460);
        assert_eq!(t.retransmissions, 1);
        t.on_ack(ms(350), 3921);
        // Both segments were marked retransmitted: no sample (Karn).
        assert_eq!(t.rtt_samples.len(), 1);
        t.on_send(ms(360), 1500, 3921, 1460);
        t.on_ack(ms(420), 5381);
        assert_eq!(t.rtt_samples.last().unwrap().rtt, ms(60));
        assert_eq!(t.packets, 5);
    }

    #[test]
    fn sequence_wrap() {
        let mut t = TcpFlowTracker::default();
        t.on_send(ms(0), 1500, u32::MAX - 100, 1460);
        t.on_send(ms(1), 1500, (u32::MAX - 100).wrapping_add(1460), 1460);
        assert_eq!(t.retransmissions, 0);
        t.on_ack(ms(40), (u32::MAX - 100).wrapping_add(2920));
        assert_eq!(t.rtt_samples.last().unwrap().rtt, ms(39));
    }
}
