//! One TCP segment with its options, to and from a complete IPv4 packet.
//!
//! [`Segment`] is the stack's view of a segment: header fields, the options
//! the stack uses (MSS, window scale, SACK-permitted, timestamps, SACK
//! blocks) and the payload. [`Segment::to_ipv4`] frames it as the IPv4 packet
//! that travels the simulated wire; [`Segment::parse`] reads one back and
//! checks both checksums.
//!
//! The codec writes the options itself rather than through smoltcp's
//! `TcpRepr`: that type holds at most three SACK blocks, has one control
//! field (so no SYN with FIN, no FIN with PSH) and writes the options in its
//! own order. Here they go in Linux's order (`tcp_options_write`), every
//! option 4-byte aligned with NOPs, so a capture looks like one from Linux:
//!
//! - SYN: `MSS, SACK-permitted, timestamps, NOP, window scale` (20 bytes);
//!   without timestamps `MSS, NOP, NOP, SACK-permitted, NOP, window scale`;
//! - data and ACKs: `NOP, NOP, timestamps`, then `NOP, NOP, SACK` blocks.
//!
//! smoltcp's `TcpPacket` and `Ipv4Packet` still do the fixed header fields
//! and the checksums.

use std::fmt;
use std::net::SocketAddrV4;

use smoltcp::wire::{IpProtocol, Ipv4Packet, TcpPacket, TcpSeqNumber, IPV4_HEADER_LEN};

/// Size of a TCP header without options, in bytes.
pub const TCP_HEADER_LEN: usize = 20;
/// Most option bytes a TCP header can carry (data offset is 4 bits of
/// 32-bit words: 60 bytes of header, 20 of them fixed).
pub const MAX_OPTIONS_LEN: usize = 40;
/// Most SACK blocks one segment can carry (without timestamps; three fit
/// next to timestamps).
pub const MAX_SACK_BLOCKS: usize = 4;

const OPT_END: u8 = 0;
const OPT_NOP: u8 = 1;
const OPT_MSS: u8 = 2;
const OPT_WSCALE: u8 = 3;
const OPT_SACK_PERMITTED: u8 = 4;
const OPT_SACK: u8 = 5;
const OPT_TIMESTAMP: u8 = 8;

const LEN_MSS: u8 = 4;
const LEN_WSCALE: u8 = 3;
const LEN_SACK_PERMITTED: u8 = 2;
const LEN_TIMESTAMP: u8 = 10;
const SACK_BLOCK_LEN: usize = 8;

/// Time to live of every packet the stack sends (Linux's default).
const TTL: u8 = 64;

/// One TCP segment, with the options this stack reads and writes.
///
/// Options are written when their field is set, whatever the flags say; the
/// connection decides which options go on which segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Source address and port.
    pub src: SocketAddrV4,
    /// Destination address and port.
    pub dst: SocketAddrV4,
    /// Sequence number of the first byte (or of the SYN).
    pub seq: u32,
    /// Acknowledgement number; `Some` sets the ACK flag.
    pub ack: Option<u32>,
    /// SYN flag.
    pub syn: bool,
    /// FIN flag.
    pub fin: bool,
    /// RST flag.
    pub rst: bool,
    /// PSH flag.
    pub psh: bool,
    /// The raw window field, already scaled down by the sender.
    pub window: u16,
    /// Maximum segment size option (SYN only).
    pub mss: Option<u16>,
    /// Window scale option: the shift count (SYN only).
    pub window_scale: Option<u8>,
    /// SACK-permitted option (SYN only).
    pub sack_permitted: bool,
    /// Timestamps option: `(tsval, tsecr)`.
    pub timestamp: Option<(u32, u32)>,
    /// SACK blocks `(left, right)` in the order given. On the wire at most
    /// [`MAX_SACK_BLOCKS`], and only as many as fit in the 40 option bytes
    /// left by the other options (3 next to timestamps); the rest are not
    /// sent.
    pub sack: Vec<(u32, u32)>,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

/// Why bytes could not be read as a TCP segment.
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
pub enum SegmentError {
    /// Too short for an IPv4 header, not version 4, or lengths that do not
    /// add up.
    #[error("malformed ipv4 header")]
    MalformedIpv4,
    /// The IPv4 header checksum does not match.
    #[error("bad ipv4 checksum")]
    Ipv4Checksum,
    /// A fragment; the lab never fragments (DF is always set).
    #[error("ipv4 fragment")]
    Fragment,
    /// The IPv4 packet carries another protocol.
    #[error("not tcp: ip protocol {0}")]
    NotTcp(u8),
    /// Too short for a TCP header, or a data offset that does not fit.
    #[error("malformed tcp header")]
    MalformedTcp,
    /// The TCP checksum does not match.
    #[error("bad tcp checksum")]
    TcpChecksum,
    /// An option with a bad length, or one that runs past the header; the
    /// value is the option kind.
    #[error("malformed tcp option {0}")]
    MalformedOption(u8),
}

impl Segment {
    /// A segment from `src` to `dst` at `seq` with no flags, no options, a
    /// zero window and no payload; set what you need.
    pub fn new(src: SocketAddrV4, dst: SocketAddrV4, seq: u32) -> Segment {
        Segment {
            src,
            dst,
            seq,
            ack: None,
            syn: false,
            fin: false,
            rst: false,
            psh: false,
            window: 0,
            mss: None,
            window_scale: None,
            sack_permitted: false,
            timestamp: None,
            sack: Vec::new(),
            payload: Vec::new(),
        }
    }

    /// Sequence space the segment occupies: payload length, plus one for a
    /// SYN and one for a FIN.
    pub fn seq_len(&self) -> u32 {
        self.payload.len() as u32 + u32::from(self.syn) + u32::from(self.fin)
    }

    /// TCP and IPv4 header bytes this segment takes on the wire: 20 (IPv4)
    /// + 20 (TCP) + options, which are always a multiple of 4.
    ///
    /// A SYN with MSS, SACK-permitted, timestamps and window scale: 60.
    /// Data with timestamps: 52; with timestamps and 3 SACK blocks: 80.
    pub fn header_len(&self) -> usize {
        IPV4_HEADER_LEN + TCP_HEADER_LEN + self.options_len()
    }

    /// The SACK blocks that fit next to the other options.
    fn sack_on_wire(&self) -> &[(u32, u32)] {
        let room = MAX_OPTIONS_LEN - self.fixed_options_len();
        // Each SACK option costs NOP, NOP, kind, length, then 8 per block.
        let fit = room.saturating_sub(4) / SACK_BLOCK_LEN;
        &self.sack[..self.sack.len().min(fit).min(MAX_SACK_BLOCKS)]
    }

    /// Option bytes before the SACK blocks.
    fn fixed_options_len(&self) -> usize {
        let mut len = 0;
        if self.mss.is_some() {
            len += 4;
        }
        if self.timestamp.is_some() {
            // SACK-permitted (or NOP, NOP) then timestamps.
            len += 12;
        } else if self.sack_permitted {
            len += 4;
        }
        if self.window_scale.is_some() {
            len += 4;
        }
        len
    }

    fn options_len(&self) -> usize {
        let blocks = self.sack_on_wire().len();
        self.fixed_options_len()
            + if blocks > 0 {
                4 + SACK_BLOCK_LEN * blocks
            } else {
                0
            }
    }

    /// The option bytes, in Linux's order and alignment.
    fn write_options(&self) -> Vec<u8> {
        let mut o = Vec::with_capacity(MAX_OPTIONS_LEN);
        if let Some(mss) = self.mss {
            o.extend_from_slice(&[OPT_MSS, LEN_MSS]);
            o.extend_from_slice(&mss.to_be_bytes());
        }
        if let Some((tsval, tsecr)) = self.timestamp {
            if self.sack_permitted {
                o.extend_from_slice(&[OPT_SACK_PERMITTED, LEN_SACK_PERMITTED]);
            } else {
                o.extend_from_slice(&[OPT_NOP, OPT_NOP]);
            }
            o.extend_from_slice(&[OPT_TIMESTAMP, LEN_TIMESTAMP]);
            o.extend_from_slice(&tsval.to_be_bytes());
            o.extend_from_slice(&tsecr.to_be_bytes());
        } else if self.sack_permitted {
            o.extend_from_slice(&[OPT_NOP, OPT_NOP, OPT_SACK_PERMITTED, LEN_SACK_PERMITTED]);
        }
        if let Some(shift) = self.window_scale {
            o.extend_from_slice(&[OPT_NOP, OPT_WSCALE, LEN_WSCALE, shift]);
        }
        let blocks = self.sack_on_wire();
        if !blocks.is_empty() {
            let len = 2 + SACK_BLOCK_LEN * blocks.len();
            o.extend_from_slice(&[OPT_NOP, OPT_NOP, OPT_SACK, len as u8]);
            for (left, right) in blocks {
                o.extend_from_slice(&left.to_be_bytes());
                o.extend_from_slice(&right.to_be_bytes());
            }
        }
        debug_assert_eq!(o.len(), self.options_len());
        debug_assert!(o.len() <= MAX_OPTIONS_LEN && o.len() % 4 == 0);
        o
    }

    /// Encode as a complete IPv4 packet: 20-byte header, DF set, TTL 64, IP
    /// identification `ident`, valid IPv4 and TCP checksums.
    ///
    /// Panics if the packet would exceed 65535 bytes.
    pub fn to_ipv4(&self, ident: u16) -> Vec<u8> {
        let options = self.write_options();
        let tcp_len = TCP_HEADER_LEN + options.len() + self.payload.len();
        let total = IPV4_HEADER_LEN + tcp_len;
        let total_field = u16::try_from(total).expect("tcp segment larger than an ipv4 packet");
        let mut buf = vec![0u8; total];
        let src_ip = *self.src.ip();
        let dst_ip = *self.dst.ip();
        {
            let mut ip = Ipv4Packet::new_unchecked(&mut buf[..]);
            ip.set_version(4);
            ip.set_header_len(IPV4_HEADER_LEN as u8);
            ip.set_dscp(0);
            ip.set_ecn(0);
            ip.set_total_len(total_field);
            ip.set_ident(ident);
            ip.set_dont_frag(true);
            ip.set_more_frags(false);
            ip.set_frag_offset(0);
            ip.set_hop_limit(TTL);
            ip.set_next_header(IpProtocol::Tcp);
            ip.set_src_addr(src_ip);
            ip.set_dst_addr(dst_ip);
            ip.fill_checksum();
        }
        {
            let mut tcp = TcpPacket::new_unchecked(&mut buf[IPV4_HEADER_LEN..]);
            tcp.set_src_port(self.src.port());
            tcp.set_dst_port(self.dst.port());
            tcp.set_seq_number(TcpSeqNumber(self.seq as i32));
            tcp.set_ack_number(TcpSeqNumber(self.ack.unwrap_or(0) as i32));
            tcp.set_header_len((TCP_HEADER_LEN + options.len()) as u8);
            tcp.clear_flags();
            tcp.set_fin(self.fin);
            tcp.set_syn(self.syn);
            tcp.set_rst(self.rst);
            tcp.set_psh(self.psh);
            tcp.set_ack(self.ack.is_some());
            tcp.set_window_len(self.window);
            tcp.set_urgent_at(0);
            tcp.options_mut().copy_from_slice(&options);
            tcp.payload_mut().copy_from_slice(&self.payload);
            tcp.fill_checksum(&src_ip.into(), &dst_ip.into());
        }
        buf
    }

    /// Decode an IPv4 packet carrying TCP, checking both checksums and the
    /// option lengths. Unknown options are skipped; the urgent pointer and
    /// the ECN flags are ignored.
    pub fn parse(packet: &[u8]) -> Result<Segment, SegmentError> {
        let ip = Ipv4Packet::new_checked(packet).map_err(|_| SegmentError::MalformedIpv4)?;
        if ip.version() != 4 {
            return Err(SegmentError::MalformedIpv4);
        }
        if !ip.verify_checksum() {
            return Err(SegmentError::Ipv4Checksum);
        }
        if ip.more_frags() || ip.frag_offset() != 0 {
            return Err(SegmentError::Fragment);
        }
        if ip.next_header() != IpProtocol::Tcp {
            return Err(SegmentError::NotTcp(u8::from(ip.next_header())));
        }
        let src_ip = ip.src_addr();
        let dst_ip = ip.dst_addr();
        let tcp = TcpPacket::new_checked(ip.payload()).map_err(|_| SegmentError::MalformedTcp)?;
        if !tcp.verify_checksum(&src_ip.into(), &dst_ip.into()) {
            return Err(SegmentError::TcpChecksum);
        }
        let mut seg = Segment {
            src: SocketAddrV4::new(src_ip, tcp.src_port()),
            dst: SocketAddrV4::new(dst_ip, tcp.dst_port()),
            seq: tcp.seq_number().0 as u32,
            ack: tcp.ack().then(|| tcp.ack_number().0 as u32),
            syn: tcp.syn(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            psh: tcp.psh(),
            window: tcp.window_len(),
            mss: None,
            window_scale: None,
            sack_permitted: false,
            timestamp: None,
            sack: Vec::new(),
            payload: tcp.payload().to_vec(),
        };
        seg.read_options(tcp.options())?;
        Ok(seg)
    }

    fn read_options(&mut self, mut options: &[u8]) -> Result<(), SegmentError> {
        while let Some(&kind) = options.first() {
            match kind {
                OPT_END => break,
                OPT_NOP => {
                    options = &options[1..];
                    continue;
                }
                _ => {}
            }
            let bad = SegmentError::MalformedOption(kind);
            let len = usize::from(*options.get(1).ok_or(bad)?);
            if len < 2 || len > options.len() {
                return Err(bad);
            }
            let body = &options[2..len];
            match kind {
                OPT_MSS => {
                    let b: [u8; 2] = body.try_into().map_err(|_| bad)?;
                    self.mss = Some(u16::from_be_bytes(b));
                }
                OPT_WSCALE => {
                    let [shift] = body else { return Err(bad) };
                    self.window_scale = Some(*shift);
                }
                OPT_SACK_PERMITTED => {
                    if !body.is_empty() {
                        return Err(bad);
                    }
                    self.sack_permitted = true;
                }
                OPT_TIMESTAMP => {
                    if body.len() != 8 {
                        return Err(bad);
                    }
                    self.timestamp = Some((be_u32(&body[..4]), be_u32(&body[4..])));
                }
                OPT_SACK => {
                    if body.is_empty() || !body.len().is_multiple_of(SACK_BLOCK_LEN) {
                        return Err(bad);
                    }
                    self.sack = body
                        .chunks_exact(SACK_BLOCK_LEN)
                        .map(|b| (be_u32(&b[..4]), be_u32(&b[4..])))
                        .collect();
                }
                _ => {}
            }
            options = &options[len..];
        }
        Ok(())
    }
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// One line in tcpdump's style, e.g.
/// `10.0.0.1:80 > 10.0.0.2:5000 [S.] seq 100 ack 1 win 65535 len 0 <mss 1460,sackOK,TS 1 0,wscale 7>`.
impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut flags = String::new();
        for (set, c) in [
            (self.syn, 'S'),
            (self.fin, 'F'),
            (self.rst, 'R'),
            (self.psh, 'P'),
        ] {
            if set {
                flags.push(c);
            }
        }
        if self.ack.is_some() {
            flags.push('.');
        }
        write!(f, "{} > {} [{flags}] seq {}", self.src, self.dst, self.seq)?;
        if let Some(ack) = self.ack {
            write!(f, " ack {ack}")?;
        }
        write!(f, " win {} len {}", self.window, self.payload.len())?;
        let mut opts = Vec::new();
        if let Some(mss) = self.mss {
            opts.push(format!("mss {mss}"));
        }
        if self.sack_permitted {
            opts.push("sackOK".to_string());
        }
        if let Some((tsval, tsecr)) = self.timestamp {
            opts.push(format!("TS {tsval} {tsecr}"));
        }
        if let Some(shift) = self.window_scale {
            opts.push(format!("wscale {shift}"));
        }
        if !self.sack.is_empty() {
            let blocks: Vec<String> = self.sack.iter().map(|(l, r)| format!("{l}:{r}")).collect();
            opts.push(format!("sack {}", blocks.join(" ")));
        }
        if !opts.is_empty() {
            write!(f, " <{}>", opts.join(","))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn client() -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 49152)
    }

    fn server() -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 1, 1), 443)
    }

    fn bare(seq: u32) -> Segment {
        Segment::new(client(), server(), seq)
    }

    fn syn_all_options() -> Segment {
        Segment {
            syn: true,
            window: 65535,
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamp: Some((12345, 0)),
            ..bare(u32::MAX - 3)
        }
    }

    fn round_trip(seg: &Segment) -> Vec<u8> {
        let bytes = seg.to_ipv4(0x1234);
        assert_eq!(bytes.len(), seg.header_len() + seg.payload.len());
        assert_eq!(Segment::parse(&bytes).as_ref(), Ok(seg));
        bytes
    }

    #[test]
    fn syn_with_all_options_round_trips_in_linux_order() {
        let syn = syn_all_options();
        let bytes = round_trip(&syn);
        assert_eq!(syn.header_len(), 60);
        assert_eq!(syn.seq_len(), 1);
        #[rustfmt::skip]
        let expected_options = [
            2, 4, 0x05, 0xb4,           // MSS 1460
            4, 2,                       // SACK permitted
            8, 10, 0, 0, 0x30, 0x39, 0, 0, 0, 0, // TS 12345 0
            1, 3, 3, 7,                 // NOP, window scale 7
        ];
        assert_eq!(&bytes[40..60], &expected_options);
        // IPv4: DF set, TTL 64, ident, TCP.
        assert_eq!(bytes[6] & 0x40, 0x40);
        assert_eq!(bytes[8], 64);
        assert_eq!(&bytes[4..6], &[0x12, 0x34]);
        assert_eq!(bytes[9], 6);
        // Data offset 10 words, flags SYN only.
        assert_eq!(bytes[32], 10 << 4);
        assert_eq!(bytes[33], 0x02);
    }

    #[test]
    fn syn_ack_without_timestamps_round_trips() {
        let syn_ack = Segment {
            ack: Some(1000),
            timestamp: None,
            ..syn_all_options()
        };
        let bytes = round_trip(&syn_ack);
        assert_eq!(syn_ack.header_len(), 52);
        assert_eq!(&bytes[40..52], &[2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7]);
        assert_eq!(bytes[33], 0x12);
    }

    #[test]
    fn data_with_timestamps_and_three_sack_blocks_round_trips() {
        let seg = Segment {
            ack: Some(7),
            psh: true,
            window: 501,
            timestamp: Some((u32::MAX, 42)),
            sack: vec![(5000, 6000), (u32::MAX - 10, 20), (3000, 4000)],
            payload: (0..1000u32).map(|i| i as u8).collect(),
            ..bare(1)
        };
        let bytes = round_trip(&seg);
        assert_eq!(seg.header_len(), 80);
        assert_eq!(seg.seq_len(), 1000);
        assert_eq!(&bytes[40..44], &[1, 1, 8, 10]);
        assert_eq!(&bytes[52..56], &[1, 1, 5, 26]);
    }

    #[test]
    fn four_sack_blocks_fit_only_without_timestamps() {
        let blocks = vec![(10, 20), (30, 40), (50, 60), (70, 80)];
        let no_ts = Segment {
            ack: Some(1),
            sack: blocks.clone(),
            ..bare(1)
        };
        round_trip(&no_ts);
        assert_eq!(no_ts.header_len(), 40 + 4 + 32);

        let with_ts = Segment {
            timestamp: Some((1, 2)),
            ..no_ts
        };
        assert_eq!(with_ts.header_len(), 80);
        let parsed = Segment::parse(&with_ts.to_ipv4(0)).unwrap();
        assert_eq!(parsed.sack, blocks[..3]);
    }

    #[test]
    fn header_len_of_plain_segments() {
        assert_eq!(bare(0).header_len(), 40);
        let ts = Segment {
            timestamp: Some((1, 1)),
            ..bare(0)
        };
        assert_eq!(ts.header_len(), 52);
        let ts_sack1 = Segment {
            sack: vec![(1, 2)],
            ..ts
        };
        assert_eq!(ts_sack1.header_len(), 64);
    }

    #[test]
    fn fin_ack_round_trips() {
        let fin = Segment {
            ack: Some(99),
            fin: true,
            psh: true,
            window: 100,
            payload: b"bye".to_vec(),
            ..bare(500)
        };
        let bytes = round_trip(&fin);
        assert_eq!(fin.seq_len(), 4);
        assert_eq!(bytes[33], 0x19); // ACK | PSH | FIN
    }

    #[test]
    fn rst_round_trips() {
        let rst = Segment {
            rst: true,
            ..bare(77)
        };
        let bytes = round_trip(&rst);
        assert_eq!(bytes[33], 0x04);
        assert_eq!(rst.seq_len(), 0);
        let rst_ack = Segment {
            ack: Some(5),
            ..rst
        };
        round_trip(&rst_ack);
    }

    #[test]
    fn flipped_bytes_fail_the_checksums() {
        let seg = Segment {
            ack: Some(1),
            payload: b"hello".to_vec(),
            ..bare(1)
        };
        let good = seg.to_ipv4(1);

        let mut payload_flip = good.clone();
        *payload_flip.last_mut().unwrap() ^= 0x01;
        assert_eq!(
            Segment::parse(&payload_flip),
            Err(SegmentError::TcpChecksum)
        );

        let mut ttl_flip = good.clone();
        ttl_flip[8] ^= 0x01;
        assert_eq!(Segment::parse(&ttl_flip), Err(SegmentError::Ipv4Checksum));
    }

    #[test]
    fn malformed_packets_name_the_problem() {
        let good = bare(1).to_ipv4(1);
        assert_eq!(
            Segment::parse(&good[..10]),
            Err(SegmentError::MalformedIpv4)
        );

        // An IPv4 packet whose payload is too short for TCP.
        let mut short = good[..30].to_vec();
        short[2..4].copy_from_slice(&30u16.to_be_bytes());
        refill_ip_checksum(&mut short);
        assert_eq!(Segment::parse(&short), Err(SegmentError::MalformedTcp));

        // The same packet marked as UDP (IP protocol 17).
        let mut udp = good.clone();
        udp[9] = 17;
        refill_ip_checksum(&mut udp);
        assert_eq!(Segment::parse(&udp), Err(SegmentError::NotTcp(17)));

        let mut frag = good.clone();
        frag[6] |= 0x20; // more fragments
        refill_ip_checksum(&mut frag);
        assert_eq!(Segment::parse(&frag), Err(SegmentError::Fragment));
    }

    #[test]
    fn malformed_option_is_rejected_and_unknown_skipped() {
        // Hand-built options: unknown kind 30 (length 4), then MSS with a
        // bad length.
        let seg = Segment {
            mss: Some(1000),
            timestamp: Some((1, 2)),
            ..bare(1)
        };
        let mut bytes = seg.to_ipv4(1);
        // Replace MSS (bytes 40..44) with an unknown option of length 4.
        bytes[40] = 30;
        refill_tcp_checksum(&mut bytes);
        let parsed = Segment::parse(&bytes).unwrap();
        assert_eq!(parsed.mss, None);
        assert_eq!(parsed.timestamp, Some((1, 2)));

        bytes[40] = OPT_MSS;
        bytes[41] = 3;
        refill_tcp_checksum(&mut bytes);
        assert_eq!(
            Segment::parse(&bytes),
            Err(SegmentError::MalformedOption(2))
        );

        bytes[41] = 60; // runs past the header
        refill_tcp_checksum(&mut bytes);
        assert_eq!(
            Segment::parse(&bytes),
            Err(SegmentError::MalformedOption(2))
        );
    }

    #[test]
    fn display_reads_like_tcpdump() {
        let syn_ack = Segment {
            ack: Some(1),
            ..syn_all_options()
        };
        assert_eq!(
            syn_ack.to_string(),
            "10.0.0.1:49152 > 10.0.1.1:443 [S.] seq 4294967292 ack 1 win 65535 len 0 \
             <mss 1460,sackOK,TS 12345 0,wscale 7>"
        );
    }

    #[test]
    fn smoltcp_reads_what_we_write() {
        use smoltcp::phy::ChecksumCapabilities;
        use smoltcp::wire::{TcpControl, TcpRepr, TcpTimestampRepr};

        let parse = |seg: &Segment| {
            let bytes = seg.to_ipv4(9);
            let tcp = TcpPacket::new_checked(&bytes[IPV4_HEADER_LEN..]).unwrap();
            let caps = ChecksumCapabilities::default();
            let src = (*seg.src.ip()).into();
            let dst = (*seg.dst.ip()).into();
            let repr = TcpRepr::parse(&tcp, &src, &dst, &caps).unwrap();
            (
                repr.control,
                repr.max_seg_size,
                repr.window_scale,
                repr.sack_permitted,
                repr.timestamp,
                repr.sack_ranges,
            )
        };
        assert_eq!(
            parse(&syn_all_options()),
            (
                TcpControl::Syn,
                Some(1460),
                Some(7),
                true,
                Some(TcpTimestampRepr::new(12345, 0)),
                [None; 3]
            )
        );
        let data = Segment {
            ack: Some(1),
            timestamp: Some((5, 6)),
            sack: vec![(10, 20), (30, 40), (50, 60)],
            payload: vec![1; 10],
            ..bare(1)
        };
        assert_eq!(
            parse(&data),
            (
                TcpControl::None,
                None,
                None,
                false,
                Some(TcpTimestampRepr::new(5, 6)),
                [Some((10, 20)), Some((30, 40)), Some((50, 60))]
            )
        );
    }

    fn refill_ip_checksum(bytes: &mut [u8]) {
        Ipv4Packet::new_unchecked(bytes).fill_checksum();
    }

    fn refill_tcp_checksum(bytes: &mut [u8]) {
        let mut tcp = TcpPacket::new_unchecked(&mut bytes[IPV4_HEADER_LEN..]);
        tcp.fill_checksum(
            &client().ip().to_owned().into(),
            &server().ip().to_owned().into(),
        );
    }
}
