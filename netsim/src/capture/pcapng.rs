//! The pcapng file format (draft-ietf-opsawg-pcapng): the blocks one run's
//! capture file is made of, written little-endian.
//!
//! A file is one section: a Section Header Block, one Interface Description
//! Block per interface (raw IPv4, nanosecond timestamps, a name), a
//! Decryption Secrets Block holding the TLS key log when there is one, then
//! one Enhanced Packet Block per packet, with its direction and, for a packet
//! the link dropped, a comment saying so. This module knows the byte layout
//! only; what goes into the file is decided by `capture`.

/// Block type of a Section Header Block.
const SHB: u32 = 0x0A0D_0D0A;
/// Block type of an Interface Description Block.
const IDB: u32 = 0x0000_0001;
/// Block type of an Enhanced Packet Block.
const EPB: u32 = 0x0000_0006;
/// Block type of a Decryption Secrets Block.
const DSB: u32 = 0x0000_000A;
/// The byte-order magic of a Section Header Block.
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Secrets type of a DSB holding an NSS key log (the ASCII of "TLSK").
const SECRETS_TLS_KEY_LOG: u32 = 0x544C_534B;
/// `LINKTYPE_RAW`: each packet starts directly with its IP header.
const LINKTYPE_RAW: u16 = 101;
/// Largest packet kept whole (an IPv4 packet is at most 65535 bytes).
const SNAPLEN: u32 = 65_535;

/// Option code that ends an option list.
const OPT_ENDOFOPT: u16 = 0;
/// Option code of a comment (any block).
const OPT_COMMENT: u16 = 1;
/// SHB option: the application that wrote the file.
const SHB_USERAPPL: u16 = 4;
/// IDB option: the interface's name.
const IF_NAME: u16 = 2;
/// IDB option: the interface's description.
const IF_DESCRIPTION: u16 = 3;
/// IDB option: timestamp resolution; 9 is 10^-9 s.
const IF_TSRESOL: u16 = 9;
/// EPB option: flags word, whose two low bits give the direction.
const EPB_FLAGS: u16 = 2;

/// Which way a packet crossed its interface (the two low bits of
/// `epb_flags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PacketDirection {
    /// Received by the interface's host.
    Inbound,
    /// Sent by the interface's host.
    Outbound,
}

impl PacketDirection {
    fn flags(self) -> u32 {
        match self {
            PacketDirection::Inbound => 0b01,
            PacketDirection::Outbound => 0b10,
        }
    }
}

/// A pcapng file being put together, block by block. Blocks are appended in
/// the order the format requires them to be read: [`section`](Self::section)
/// first, then the interfaces, the secrets, and the packets.
#[derive(Debug, Default)]
pub(crate) struct PcapngWriter {
    bytes: Vec<u8>,
}

impl PcapngWriter {
    /// A file that starts with a Section Header Block naming `application`
    /// as its writer, section length unspecified.
    pub(crate) fn section(application: &str) -> PcapngWriter {
        let mut body = Vec::new();
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        // Section length: -1, not given.
        body.extend_from_slice(&u64::MAX.to_le_bytes());
        push_option(&mut body, SHB_USERAPPL, application.as_bytes());
        end_options(&mut body);
        let mut writer = PcapngWriter::default();
        writer.block(SHB, &body);
        writer
    }

    /// An Interface Description Block: raw IPv4 packets, nanosecond
    /// timestamps, named `name`. Interfaces are numbered from 0 in the
    /// order they are added.
    pub(crate) fn interface(&mut self, name: &str, description: &str) {
        let mut body = Vec::new();
        body.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&SNAPLEN.to_le_bytes());
        push_option(&mut body, IF_NAME, name.as_bytes());
        push_option(&mut body, IF_DESCRIPTION, description.as_bytes());
        push_option(&mut body, IF_TSRESOL, &[9]);
        end_options(&mut body);
        self.block(IDB, &body);
    }

    /// A Decryption Secrets Block holding `key_log`, an NSS key log.
    pub(crate) fn tls_key_log(&mut self, key_log: &str) {
        let secrets = key_log.as_bytes();
        let mut body = Vec::new();
        body.extend_from_slice(&SECRETS_TLS_KEY_LOG.to_le_bytes());
        body.extend_from_slice(&u32_len(secrets.len()).to_le_bytes());
        body.extend_from_slice(secrets);
        pad(&mut body);
        self.block(DSB, &body);
    }

    /// An Enhanced Packet Block: `packet` on interface `interface` at `ns`
    /// nanoseconds after the Unix epoch, crossing it `direction`, with
    /// `comment` if there is one.
    pub(crate) fn packet(
        &mut self,
        interface: u32,
        ns: u64,
        direction: PacketDirection,
        packet: &[u8],
        comment: Option<&str>,
    ) {
        let kept = &packet[..packet.len().min(SNAPLEN as usize)];
        let mut body = Vec::with_capacity(kept.len() + 64);
        body.extend_from_slice(&interface.to_le_bytes());
        // The 64-bit timestamp, high word first.
        body.extend_from_slice(&((ns >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ns as u32).to_le_bytes());
        body.extend_from_slice(&u32_len(kept.len()).to_le_bytes());
        body.extend_from_slice(&u32_len(packet.len()).to_le_bytes());
        body.extend_from_slice(kept);
        pad(&mut body);
        if let Some(comment) = comment {
            push_option(&mut body, OPT_COMMENT, comment.as_bytes());
        }
        push_option(&mut body, EPB_FLAGS, &direction.flags().to_le_bytes());
        end_options(&mut body);
        self.block(EPB, &body);
    }

    /// The file's bytes.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// One block: type, total length, `body` (already padded to 4 bytes),
    /// total length again.
    fn block(&mut self, block_type: u32, body: &[u8]) {
        debug_assert!(
            body.len().is_multiple_of(4),
            "block bodies are padded to 32 bits"
        );
        let total = u32_len(body.len() + 12);
        self.bytes.extend_from_slice(&block_type.to_le_bytes());
        self.bytes.extend_from_slice(&total.to_le_bytes());
        self.bytes.extend_from_slice(body);
        self.bytes.extend_from_slice(&total.to_le_bytes());
    }
}

/// One option: code, length, value padded to 32 bits. A value longer than
/// an option can hold (65535 bytes) is cut there.
fn push_option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    let value = &value[..value.len().min(usize::from(u16::MAX))];
    body.extend_from_slice(&code.to_le_bytes());
    // At most u16::MAX, as cut above.
    body.extend_from_slice(&(value.len() as u16).to_le_bytes());
    body.extend_from_slice(value);
    pad(body);
}

/// The `opt_endofopt` that closes an option list.
fn end_options(body: &mut Vec<u8>) {
    body.extend_from_slice(&OPT_ENDOFOPT.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
}

/// Zero bytes up to the next multiple of 4.
fn pad(body: &mut Vec<u8>) {
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
}

/// A length as the format's 32-bit field; what the lab writes (packets,
/// key logs) is far below 4 GiB, and a larger one saturates.
fn u32_len(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcapng::{Block, PcapNgReader};

    #[test]
    fn blocks_read_back_with_an_independent_reader() {
        let mut w = PcapngWriter::section("httplab");
        w.interface("client", "the client host");
        w.interface("server", "the server host");
        w.tls_key_log("CLIENT_RANDOM 00 11\n");
        let packet = [
            0x45u8, 0, 0, 21, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 7,
        ];
        w.packet(
            1,
            1_234_567_891,
            PacketDirection::Outbound,
            &packet,
            Some("dropped"),
        );
        w.packet(0, 1_234_567_999, PacketDirection::Inbound, &packet, None);
        let bytes = w.into_bytes();

        let mut reader = PcapNgReader::new(&bytes[..]).expect("section header parses");
        let mut interfaces = Vec::new();
        let mut secrets = 0;
        let mut packets = Vec::new();
        while let Some(block) = reader.next_block() {
            match block.expect("block parses") {
                Block::InterfaceDescription(idb) => interfaces.push(idb.linktype),
                Block::EnhancedPacket(epb) => {
                    packets.push((epb.interface_id, epb.timestamp, epb.data.into_owned()))
                }
                Block::Unknown(u) if u.type_ == DSB => secrets += 1,
                other => panic!("unexpected block {other:?}"),
            }
        }
        assert_eq!(interfaces.len(), 2);
        assert_eq!(secrets, 1);
        assert_eq!(packets.len(), 2);
        assert_eq!(packets[0].0, 1);
        assert_eq!(packets[0].1, std::time::Duration::from_nanos(1_234_567_891));
        assert_eq!(packets[0].2, packet);
        assert_eq!(packets[1].0, 0);
    }

    #[test]
    fn every_block_is_padded_to_32_bits() {
        let mut w = PcapngWriter::section("x");
        w.interface("c", "d");
        w.tls_key_log("abc");
        w.packet(
            0,
            0,
            PacketDirection::Inbound,
            &[1, 2, 3, 4, 5],
            Some("odd"),
        );
        let bytes = w.into_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
            assert_eq!(len % 4, 0);
            let trailer = u32::from_le_bytes(bytes[at + len - 4..at + len].try_into().unwrap());
            assert_eq!(
                trailer as usize, len,
                "trailing length repeats the leading one"
            );
            at += len;
        }
        assert_eq!(at, bytes.len());
    }
}
