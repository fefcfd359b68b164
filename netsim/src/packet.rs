//! IPv4 packets on the simulated wire: flow keys, parsing, and the IPv4/UDP
//! framing used for QUIC datagrams.
//!
//! Every packet that crosses the simulated network is a complete IPv4 packet
//! (TCP segments straight from the TCP stack, QUIC datagrams wrapped here in
//! IPv4/UDP). That keeps one code path for the link model, the packet log and
//! the pcap capture.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};

use smoltcp::wire::{IpProtocol, Ipv4Address, Ipv4Packet, TcpPacket, UdpPacket};

/// IP protocol number of ICMP (only the real-time emulator sees it: `ping`
/// through the emulated link).
pub const IPPROTO_ICMP: u8 = 1;
/// IP protocol number of TCP.
pub const IPPROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const IPPROTO_UDP: u8 = 17;
/// Size of the IPv4 header the lab writes (no options), in bytes.
pub const IPV4_HEADER_LEN: usize = 20;
/// Size of a UDP header, in bytes.
pub const UDP_HEADER_LEN: usize = 8;

/// The 5-tuple of a packet, in the direction it travels.
///
/// Ordered, so it can key a `BTreeMap` and iterate deterministically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowKey {
    /// IP protocol number ([`IPPROTO_TCP`] or [`IPPROTO_UDP`]).
    pub proto: u8,
    /// Source address and port.
    pub src: SocketAddrV4,
    /// Destination address and port.
    pub dst: SocketAddrV4,
}

impl FlowKey {
    /// The same flow seen from the other end.
    pub fn reversed(&self) -> FlowKey {
        FlowKey {
            proto: self.proto,
            src: self.dst,
            dst: self.src,
        }
    }
}

impl fmt::Display for FlowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proto = match self.proto {
            IPPROTO_TCP => "tcp",
            IPPROTO_UDP => "udp",
            IPPROTO_ICMP => "icmp",
            _ => "ip",
        };
        write!(f, "{proto} {} -> {}", self.src, self.dst)
    }
}

/// TCP header fields the lab looks at (for passive RTT and retransmission
/// accounting, and for the packet log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSummary {
    /// Sequence number of the first byte (or of the SYN/FIN).
    pub seq: u32,
    /// Acknowledgement number (valid when `ack` is set).
    pub ack_number: u32,
    /// ACK flag.
    pub ack: bool,
    /// SYN flag.
    pub syn: bool,
    /// FIN flag.
    pub fin: bool,
    /// RST flag.
    pub rst: bool,
    /// Payload length in bytes.
    pub payload_len: u32,
}

/// What the lab needs to know about one IPv4 packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketSummary {
    /// Its 5-tuple.
    pub flow: FlowKey,
    /// Length of the whole IP packet in bytes.
    pub len: u32,
    /// Length of the transport payload in bytes (TCP payload or UDP payload).
    pub payload_len: u32,
    /// TCP header fields, for TCP packets.
    pub tcp: Option<TcpSummary>,
}

impl PacketSummary {
    /// Whether the packet carries transport payload (a TCP segment with data,
    /// or any UDP datagram with a payload). Pure ACKs, SYNs and FINs do not.
    pub fn carries_data(&self) -> bool {
        self.payload_len > 0
    }
}

/// A packet the lab cannot interpret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PacketError {
    /// Not a well-formed IPv4 packet.
    #[error("malformed ipv4 packet")]
    MalformedIpv4,
    /// A TCP or UDP header that does not fit in the packet.
    #[error("malformed {0} header")]
    MalformedTransport(&'static str),
    /// A protocol other than TCP, UDP or ICMP.
    #[error("unsupported ip protocol {0}")]
    UnsupportedProtocol(u8),
}

/// Parse an IPv4 packet carrying TCP, UDP or ICMP (whose flow key has
/// port 0 at both ends).
pub fn parse(packet: &[u8]) -> Result<PacketSummary, PacketError> {
    let ip = Ipv4Packet::new_checked(packet).map_err(|_| PacketError::MalformedIpv4)?;
    let src_ip: Ipv4Addr = ip.src_addr();
    let dst_ip: Ipv4Addr = ip.dst_addr();
    let len = u32::from(ip.total_len());
    let payload = ip.payload();
    match ip.next_header() {
        IpProtocol::Tcp => {
            let tcp = TcpPacket::new_checked(payload)
                .map_err(|_| PacketError::MalformedTransport("tcp"))?;
            let payload_len = (payload.len() - usize::from(tcp.header_len())) as u32;
            Ok(PacketSummary {
                flow: FlowKey {
                    proto: IPPROTO_TCP,
                    src: SocketAddrV4::new(src_ip, tcp.src_port()),
                    dst: SocketAddrV4::new(dst_ip, tcp.dst_port()),
                },
                len,
                payload_len,
                tcp: Some(TcpSummary {
                    seq: tcp.seq_number().0 as u32,
                    ack_number: tcp.ack_number().0 as u32,
                    ack: tcp.ack(),
                    syn: tcp.syn(),
                    fin: tcp.fin(),
                    rst: tcp.rst(),
                    payload_len,
                }),
            })
        }
        IpProtocol::Udp => {
            let udp = UdpPacket::new_checked(payload)
                .map_err(|_| PacketError::MalformedTransport("udp"))?;
            Ok(PacketSummary {
                flow: FlowKey {
                    proto: IPPROTO_UDP,
                    src: SocketAddrV4::new(src_ip, udp.src_port()),
                    dst: SocketAddrV4::new(dst_ip, udp.dst_port()),
                },
                len,
                payload_len: (payload.len() - UDP_HEADER_LEN) as u32,
                tcp: None,
            })
        }
        IpProtocol::Icmp => Ok(PacketSummary {
            flow: FlowKey {
                proto: IPPROTO_ICMP,
                src: SocketAddrV4::new(src_ip, 0),
                dst: SocketAddrV4::new(dst_ip, 0),
            },
            len,
            payload_len: payload.len() as u32,
            tcp: None,
        }),
        other => Err(PacketError::UnsupportedProtocol(u8::from(other))),
    }
}

/// The UDP payload of an IPv4/UDP packet (no checks beyond bounds: call
/// [`parse`] first).
pub fn udp_payload(packet: &[u8]) -> &[u8] {
    let header_len = usize::from(packet[0] & 0x0f) * 4;
    &packet[header_len + UDP_HEADER_LEN..]
}

/// Wrap a UDP datagram in IPv4 and UDP headers, with valid checksums, so it
/// travels the wire (and appears in a pcap) like a real one.
pub fn build_udp(src: SocketAddrV4, dst: SocketAddrV4, ident: u16, payload: &[u8]) -> Vec<u8> {
    let total = IPV4_HEADER_LEN + UDP_HEADER_LEN + payload.len();
    let mut buf = vec![0u8; total];
    let src_ip: Ipv4Address = *src.ip();
    let dst_ip: Ipv4Address = *dst.ip();
    {
        let mut ip = Ipv4Packet::new_unchecked(&mut buf[..]);
        ip.set_version(4);
        ip.set_header_len(IPV4_HEADER_LEN as u8);
        ip.set_dscp(0);
        ip.set_ecn(0);
        ip.set_total_len(total as u16);
        ip.set_ident(ident);
        ip.set_dont_frag(true);
        ip.set_more_frags(false);
        ip.set_frag_offset(0);
        ip.set_hop_limit(64);
        ip.set_next_header(IpProtocol::Udp);
        ip.set_src_addr(src_ip);
        ip.set_dst_addr(dst_ip);
        ip.fill_checksum();
    }
    {
        let mut udp = UdpPacket::new_unchecked(&mut buf[IPV4_HEADER_LEN..]);
        udp.set_src_port(src.port());
        udp.set_dst_port(dst.port());
        udp.set_len((UDP_HEADER_LEN + payload.len()) as u16);
        udp.payload_mut().copy_from_slice(payload);
        udp.fill_checksum(&src_ip.into(), &dst_ip.into());
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_round_trip() {
        let src = SocketAddrV4::new(Ipv4Addr::new(10, 0, 1, 2), 5000);
        let dst = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 443);
        let pkt = build_udp(src, dst, 7, b"hello quic");
        let s = parse(&pkt).unwrap();
        assert_eq!(s.flow.proto, IPPROTO_UDP);
        assert_eq!(s.flow.src, src);
        assert_eq!(s.flow.dst, dst);
        assert_eq!(s.len as usize, 20 + 8 + 10);
        assert_eq!(s.payload_len, 10);
        assert!(s.carries_data());
        assert_eq!(udp_payload(&pkt), b"hello quic");
        let ip = Ipv4Packet::new_checked(&pkt[..]).unwrap();
        assert!(ip.verify_checksum());
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse(&[0x45, 0, 0]), Err(PacketError::MalformedIpv4));
    }
}
