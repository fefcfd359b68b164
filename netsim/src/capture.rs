//! Packet capture, TLS key logs and qlog: what a run leaves behind for Wireshark and
//! qvis.
//!
//! This module owns three recorders and the files made from them:
//!
//! - [`PcapRecorder`] keeps every IPv4 packet seen at one host in memory (with its
//!   direction and, if the link dropped it, why), and writes it as a classic libpcap
//!   file (microsecond timestamps, `LINKTYPE_RAW`), stamped with simulated time.
//! - `pcapng_file` makes the two hosts' recorders one pcapng file (the block layout
//!   is the `pcapng` submodule's): two interfaces, the key log inside, drops
//!   commented, so Wireshark opens it with no setup.
//! - [`KeyLogCollector`] is a [`rustls::KeyLog`] that keeps TLS secrets in NSS key-log
//!   format, so Wireshark can decrypt both TLS over TCP and QUIC from the same capture.
//! - `QlogCollector` (crate-internal) hands each QUIC connection a quinn qlog stream
//!   of its own and keeps what quinn writes to it: one JSON-SEQ trace per connection
//!   and side, a [`QlogTrace`], with event times in simulated milliseconds since the
//!   run started, read out through the `qlog_rewrite` submodule (vantage point, one
//!   group id, RTTs in milliseconds, no infinite values).
//!
//! All are deterministic: the same packets, secrets and events at the same simulated
//! times give byte-identical files. None reads a clock. All write files atomically (a
//! `.tmp` sibling, then a rename), so a reader never sees a half-written capture.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::link::{Direction, DropReason};
use crate::network::Side;

mod pcapng;
mod qlog_rewrite;

pub(crate) use pcapng::{PacketDirection, PcapngWriter};

/// Magic number of a classic pcap file with microsecond timestamps.
const PCAP_MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// pcap format version written in the global header (2.4, the only one in use).
const PCAP_VERSION: (u16, u16) = (2, 4);
/// Largest packet kept whole. An IPv4 packet is at most 65535 bytes, so nothing is cut.
const PCAP_SNAPLEN: u32 = 65_535;
/// `LINKTYPE_RAW`: each record starts directly with the IP header, no link header.
const LINKTYPE_RAW: u16 = 101;
/// Size of the pcap global header in bytes.
const PCAP_GLOBAL_HEADER_LEN: usize = 24;
/// Size of a pcap record header in bytes.
const PCAP_RECORD_HEADER_LEN: usize = 16;

/// An in-memory capture of the IPv4 packets seen at one host: each packet with
/// when the host saw it, which way it went, and, for a packet the host sent, its
/// fate on the link.
///
/// It writes a classic libpcap file of its own ([`to_bytes`](Self::to_bytes),
/// [`write_to`](Self::write_to)): little-endian, microsecond timestamps, snaplen
/// 65535, link type `LINKTYPE_RAW` (101), so each record is a bare IPv4 packet,
/// every packet the host sent (lost or not) and every one it received. Two
/// recorders, the client's and the server's, together make one pcapng file
/// ([`Captures::to_pcapng`](crate::Captures::to_pcapng)).
///
/// Timestamps are simulated time measured from the Unix epoch: a packet recorded at
/// `at` since simulation start is stamped `1970-01-01T00:00:00Z + at`. The epoch offset
/// is fixed at zero, not taken from the wall clock, so the same run produces the same
/// bytes every time. Wireshark shows such packets as early January 1970; the "seconds
/// since beginning of capture" column is the simulated time.
///
/// Call [`record`](Self::record) (or the crate's `record_sent` / `record_received`)
/// for each packet in the order the capture point sees them, then
/// [`to_bytes`](Self::to_bytes) or [`write_to`](Self::write_to) once the run is
/// over.
#[derive(Clone, Debug, Default)]
pub struct PcapRecorder {
    /// Every packet, in the order the host saw it.
    packets: Vec<CapturedPacket>,
}

/// One packet as a host saw it.
#[derive(Clone, Debug)]
pub(crate) struct CapturedPacket {
    /// When, on the host's clock (the classic pcap's timestamp).
    pub(crate) host_time: Duration,
    /// When, on the network's clock, which both hosts share (the pcapng's).
    pub(crate) network_time: Duration,
    /// Whether the host sent it (`Outbound`) or received it.
    pub(crate) direction: PacketDirection,
    /// For a packet the host sent that the link dropped: where and why.
    pub(crate) dropped: Option<(Direction, DropReason)>,
    /// The IPv4 packet.
    pub(crate) bytes: Vec<u8>,
}

impl PcapRecorder {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one IPv4 packet seen at simulated time `at` (since simulation start),
    /// as received, on a host whose clock is the network's.
    ///
    /// The classic pcap's timestamp is `at` after the Unix epoch, truncated to whole
    /// microseconds. Times beyond the range of a 32-bit seconds field (about 136
    /// years) saturate.
    pub fn record(&mut self, at: Duration, packet: &[u8]) {
        self.record_received(at, at, packet);
    }

    /// Records a packet the host sent at `host_time` on its clock (`network_time`
    /// on the network's), with its fate on the link.
    pub(crate) fn record_sent(
        &mut self,
        host_time: Duration,
        network_time: Duration,
        packet: &[u8],
        dropped: Option<(Direction, DropReason)>,
    ) {
        self.packets.push(CapturedPacket {
            host_time,
            network_time,
            direction: PacketDirection::Outbound,
            dropped,
            bytes: packet.to_vec(),
        });
    }

    /// Records a packet the host received at `host_time` on its clock
    /// (`network_time` on the network's).
    pub(crate) fn record_received(
        &mut self,
        host_time: Duration,
        network_time: Duration,
        packet: &[u8],
    ) {
        self.packets.push(CapturedPacket {
            host_time,
            network_time,
            direction: PacketDirection::Inbound,
            dropped: None,
            bytes: packet.to_vec(),
        });
    }

    /// How many packets have been recorded.
    pub fn packet_count(&self) -> usize {
        self.packets.len()
    }

    /// Every packet, in the order the host saw it.
    pub(crate) fn packets(&self) -> &[CapturedPacket] {
        &self.packets
    }

    /// The complete classic pcap file: the global header followed by every record.
    pub fn to_bytes(&self) -> Vec<u8> {
        let records: usize = self
            .packets
            .iter()
            .map(|p| PCAP_RECORD_HEADER_LEN + p.bytes.len())
            .sum();
        let mut bytes = Vec::with_capacity(PCAP_GLOBAL_HEADER_LEN + records);
        bytes.extend_from_slice(&PCAP_MAGIC_MICROS.to_le_bytes());
        bytes.extend_from_slice(&PCAP_VERSION.0.to_le_bytes());
        bytes.extend_from_slice(&PCAP_VERSION.1.to_le_bytes());
        // thiszone (GMT offset) and sigfigs (timestamp accuracy) are always zero.
        bytes.extend_from_slice(&0i32.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&PCAP_SNAPLEN.to_le_bytes());
        bytes.extend_from_slice(&u32::from(LINKTYPE_RAW).to_le_bytes());
        for packet in &self.packets {
            let at = packet.host_time;
            let ts_sec = u32::try_from(at.as_secs()).unwrap_or(u32::MAX);
            let ts_usec = at.subsec_micros();
            let orig_len = u32::try_from(packet.bytes.len()).unwrap_or(u32::MAX);
            let incl_len = orig_len.min(PCAP_SNAPLEN);
            // `incl_len` is at most 65535, so the cast back to usize is lossless.
            let kept = &packet.bytes[..incl_len as usize];
            bytes.extend_from_slice(&ts_sec.to_le_bytes());
            bytes.extend_from_slice(&ts_usec.to_le_bytes());
            bytes.extend_from_slice(&incl_len.to_le_bytes());
            bytes.extend_from_slice(&orig_len.to_le_bytes());
            bytes.extend_from_slice(kept);
        }
        bytes
    }

    /// Writes the classic pcap file to `path`, replacing any file already there.
    ///
    /// The bytes go to `<path>.tmp` first, which is then renamed over `path`.
    pub fn write_to(&self, path: &Path) -> Result<(), CaptureError> {
        write_atomically(path, &self.to_bytes())
    }
}

/// Which packets a pcapng capture holds ([`Captures::to_pcapng`](crate::Captures::to_pcapng)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PcapngPackets {
    /// Each packet once, on the interface of the host that sent it, at the time it
    /// was sent, whether or not it arrived. Wireshark's TCP analysis then sees each
    /// segment once, as a capture at the sender does: retransmissions are the
    /// stack's own, and each byte stream reads in the order it was sent. The
    /// default.
    #[default]
    Sent,
    /// Also each packet that arrived, on the receiving host's interface, at the
    /// time it arrived: both hosts' complete views, as two tcpdumps merged.
    /// Every delivered packet is then in the file twice, and Wireshark, which
    /// does not tell interfaces apart in its TCP analysis, marks every second
    /// copy as a retransmission (filter on `frame.interface_name` to see one
    /// host's view), and tshark 4.0 leaves about half of the QUIC packets
    /// undecrypted when it sees each twice.
    SentAndReceived,
}

/// The comment a pcapng capture gives a packet the link dropped, e.g.
/// `dropped on the link (client to server): random loss`.
pub fn drop_comment(direction: Direction, reason: DropReason) -> String {
    let way = match direction {
        Direction::Up => "client to server",
        Direction::Down => "server to client",
    };
    let why = match reason {
        DropReason::Random => "random loss",
        DropReason::QueueFull => "bottleneck queue full",
        DropReason::Targeted => "targeted drop",
        DropReason::Blackout => "blackout",
        DropReason::Oversize => "larger than the link MTU",
        DropReason::NoRoute => "no route to its address (after a path change)",
    };
    format!("dropped on the link ({way}): {why}")
}

/// One pcapng file of a run: interface 0 is the client (`client`), interface 1
/// the server (`server`); the TLS key log `key_log`, if not empty, is its
/// Decryption Secrets Block; then `which` packets of both recorders, in the order
/// of their time on the network's clock (nanosecond timestamps). Packets at the
/// same nanosecond keep a fixed order: the client's before the server's, and each
/// host's in the order it saw them.
pub(crate) fn pcapng_file(
    client: &PcapRecorder,
    server: &PcapRecorder,
    key_log: &str,
    which: PcapngPackets,
) -> Vec<u8> {
    let mut file = PcapngWriter::section("httplab (simulated network)");
    file.interface(
        Side::Client.label(),
        "the client host's interface, simulated time",
    );
    file.interface(
        Side::Server.label(),
        "the server host's interface, simulated time",
    );
    if !key_log.is_empty() {
        file.tls_key_log(key_log);
    }
    let keep = |p: &&CapturedPacket| {
        which == PcapngPackets::SentAndReceived || p.direction == PacketDirection::Outbound
    };
    let mut merged: Vec<(Duration, u32, usize, &CapturedPacket)> = Vec::new();
    for (interface, recorder) in [(0u32, client), (1u32, server)] {
        merged.extend(
            recorder
                .packets()
                .iter()
                .filter(keep)
                .enumerate()
                .map(|(i, p)| (p.network_time, interface, i, p)),
        );
    }
    merged.sort_by_key(|&(at, interface, i, _)| (at, interface, i));
    for (at, interface, _, packet) in merged {
        let comment = packet.dropped.map(|(d, r)| drop_comment(d, r));
        let ns = u64::try_from(at.as_nanos()).unwrap_or(u64::MAX);
        file.packet(
            interface,
            ns,
            packet.direction,
            &packet.bytes,
            comment.as_deref(),
        );
    }
    file.into_bytes()
}

/// Collects TLS secrets in NSS key-log format, for Wireshark.
///
/// Each secret becomes one line `LABEL <client_random hex> <secret hex>`, with the label
/// as rustls gives it (upper case, e.g. `CLIENT_HANDSHAKE_TRAFFIC_SECRET`) and both byte
/// strings in lower-case hex. Wireshark reads the same file for TLS over TCP and for QUIC.
///
/// Hand the collector to [`crate::tls::server_config`] / [`crate::tls::client_config`]
/// (or their QUIC variants) as the key log. Lines are kept in the order rustls logs them.
/// The formatted file is available through [`Display`](fmt::Display) (so `to_string()`)
/// and [`write_to`](Self::write_to).
#[derive(Debug, Default)]
pub struct KeyLogCollector {
    /// Logged lines, without their trailing newline.
    lines: Mutex<Vec<String>>,
}

impl KeyLogCollector {
    /// An empty collector, shared so it can be given to rustls and read afterwards.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    #[cfg(test)]
    /// Every line logged so far, in order, without trailing newlines.
    pub fn lines(&self) -> Vec<String> {
        self.locked_lines().clone()
    }

    #[cfg(test)]
    /// Writes the key log to `path`, replacing any file already there.
    ///
    /// The bytes go to `<path>.tmp` first, which is then renamed over `path`.
    pub fn write_to(&self, path: &Path) -> Result<(), CaptureError> {
        write_atomically(path, self.to_string().as_bytes())
    }

    /// The line list. A panic while holding the lock cannot leave a half-pushed line,
    /// so a poisoned lock is still safe to read.
    fn locked_lines(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl rustls::KeyLog for KeyLogCollector {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = format!("{label} {} {}", lower_hex(client_random), lower_hex(secret));
        self.locked_lines().push(line);
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}

/// The whole key-log file: every line, each ending in `\n`.
impl fmt::Display for KeyLogCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in self.locked_lines().iter() {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// qlog traces of a run's QUIC connections, kept in memory: one JSON-SEQ trace per
/// connection, numbered from 0 per side in the order that side opened (client) or
/// accepted (server) them.
///
/// [`open`](Self::open) gives quinn a [`quinn::QlogStream`] for one connection; quinn
/// writes the trace's header record at once and one record per event (`packet_sent`,
/// `packet_received`, `packet_lost`, `metrics_updated`) as the connection runs. Event
/// times are milliseconds since the `start` given to `open`, measured on quinn's
/// clock, which in the simulation is the host's tokio clock: simulated time. The
/// header records no wall-clock time. [`traces`](Self::traces) gives the traces so
/// far, in a fixed order.
#[derive(Debug)]
pub(crate) struct QlogCollector {
    /// The run seed, named in each trace's title.
    seed: u64,
    /// Every trace opened, in the order it was opened.
    traces: Mutex<Vec<OpenTrace>>,
}

/// A trace quinn is still writing into.
#[derive(Debug)]
struct OpenTrace {
    side: Side,
    connection: u32,
    /// The connection's original destination connection ID, in hex, when
    /// known as the trace opens (on the server).
    group_id: Option<String>,
    bytes: SharedBytes,
}

impl QlogCollector {
    /// An empty collector for the run with seed `seed`, shared by the run's hosts.
    pub(crate) fn new(seed: u64) -> Arc<Self> {
        Arc::new(QlogCollector {
            seed,
            traces: Mutex::default(),
        })
    }

    /// Start the trace of `side`'s next QUIC connection, with event times counted
    /// from `start` on quinn's clock (pass the instant the run started, so that times
    /// read as simulated time since the start, like a pcap's). `group_id` is the
    /// connection's original destination connection ID in hex, if known (the
    /// server's `Incoming` has it; on the client, `None` takes the trace's first
    /// event's, which is that ID). Returns the stream to hand to quinn's
    /// `TransportConfig::qlog_stream`, or `None` if quinn could not write the
    /// trace's header (which cannot happen with the in-memory buffer).
    pub(crate) fn open(
        &self,
        side: Side,
        start: Instant,
        group_id: Option<String>,
    ) -> Option<quinn::QlogStream> {
        let bytes = SharedBytes::default();
        let mut traces = self.locked_traces();
        let connection = traces.iter().filter(|t| t.side == side).count();
        let connection = u32::try_from(connection).unwrap_or(u32::MAX);
        // `QlogConfig::default()` notes the wall-clock instant as its start time;
        // `start_time` replaces it before anything is written, so it never reaches
        // the trace.
        let mut config = quinn::QlogConfig::default();
        config
            .writer(Box::new(bytes.clone()))
            .title(Some(format!(
                "httplab run with seed {}: {} side of QUIC connection {connection}",
                self.seed,
                side.label()
            )))
            .description(Some(
                "event times are simulated milliseconds since the run started".to_owned(),
            ))
            .start_time(start);
        let stream = config.into_stream()?;
        traces.push(OpenTrace {
            side,
            connection,
            group_id,
            bytes,
        });
        Some(stream)
    }

    /// Every trace so far: the client's in connection order, then the server's,
    /// each as quinn wrote it with the changes `qlog_rewrite` makes (vantage point,
    /// one group ID, RTTs in milliseconds, no infinite values).
    pub(crate) fn traces(&self) -> Vec<QlogTrace> {
        let traces = self.locked_traces();
        let mut out: Vec<QlogTrace> = traces
            .iter()
            .map(|t| QlogTrace {
                side: t.side,
                connection: t.connection,
                bytes: qlog_rewrite::rewrite(&t.bytes.snapshot(), t.side, t.group_id.as_deref()),
            })
            .collect();
        out.sort_by_key(|t| (t.side != Side::Client, t.connection));
        out
    }

    /// The trace list. A panic while holding the lock cannot leave a half-pushed
    /// entry, so a poisoned lock is still safe to read.
    fn locked_traces(&self) -> std::sync::MutexGuard<'_, Vec<OpenTrace>> {
        self.traces.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One QUIC connection's qlog trace, from one side: a JSON-SEQ file (RFC 7464, each
/// record a record separator `0x1E`, a JSON text and a newline), the first record the
/// trace's header (`qlog_format` `"JSON-SEQ"`), then one record per event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QlogTrace {
    /// Which end of the connection recorded it.
    pub side: Side,
    /// The connection's number on that side, from 0, in the order that side opened or
    /// accepted its QUIC connections.
    pub connection: u32,
    /// The trace's bytes.
    pub bytes: Vec<u8>,
}

impl QlogTrace {
    /// The trace's file name: `client-N.sqlog` or `server-N.sqlog`, N being
    /// [`connection`](Self::connection).
    pub fn file_name(&self) -> String {
        format!("{}-{}.sqlog", self.side.label(), self.connection)
    }

    /// Writes the trace to `path`, replacing any file already there.
    ///
    /// The bytes go to `<path>.tmp` first, which is then renamed over `path`.
    pub fn write_to(&self, path: &Path) -> Result<(), CaptureError> {
        write_atomically(path, &self.bytes)
    }
}

/// A byte buffer quinn's qlog streamer writes into while the run keeps a handle to
/// read it afterwards.
#[derive(Clone, Debug, Default)]
struct SharedBytes(Arc<Mutex<Vec<u8>>>);

impl SharedBytes {
    fn locked(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        // A panic mid-write leaves at most a partial record, which a reader of
        // JSON-SEQ skips; the bytes are still worth keeping.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn snapshot(&self) -> Vec<u8> {
        self.locked().clone()
    }
}

impl io::Write for SharedBytes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.locked().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Lower-case hex of `bytes`, two digits per byte.
fn lower_hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Writes `bytes` to `<path>.tmp`, then renames it to `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CaptureError> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    result.map_err(|source| {
        // Best effort: do not leave a stray temporary file behind. The original error is
        // the one worth reporting.
        let _ = std::fs::remove_file(&tmp);
        CaptureError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Why a capture, key log or qlog trace could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Writing the file (or renaming its temporary file into place) failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file that was to be written.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcap::PcapReader;
    use pcap_file::DataLink;
    use rustls::KeyLog as _;

    /// A minimal IPv4 header (20 bytes) followed by `payload_len` bytes, tagged by `id`.
    fn ipv4_packet(id: u8, payload_len: usize) -> Vec<u8> {
        let total = 20 + payload_len;
        let mut p = vec![0u8; total];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&u16::try_from(total).unwrap().to_be_bytes());
        p[5] = id;
        p[8] = 64;
        p[9] = 17;
        p[12..16].copy_from_slice(&[10, 0, 0, 1]);
        p[16..20].copy_from_slice(&[10, 0, 0, 2]);
        p
    }

    fn read_back(bytes: &[u8]) -> (pcap_file::pcap::PcapHeader, Vec<(Duration, u32, Vec<u8>)>) {
        let mut reader = PcapReader::new(bytes).expect("global header parses");
        let header = reader.header();
        let mut packets = Vec::new();
        while let Some(packet) = reader.next_packet() {
            let packet = packet.expect("record parses");
            packets.push((packet.timestamp, packet.orig_len, packet.data.into_owned()));
        }
        (header, packets)
    }

    fn scratch_dir(test: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("netsim-capture-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn empty_capture_is_a_valid_raw_ip_pcap() {
        let pcap = PcapRecorder::new();
        assert_eq!(pcap.packet_count(), 0);
        let bytes = pcap.to_bytes();
        assert_eq!(bytes.len(), PCAP_GLOBAL_HEADER_LEN);
        let (header, packets) = read_back(&bytes);
        assert_eq!(header.datalink, DataLink::RAW);
        assert_eq!(header.snaplen, 65_535);
        assert_eq!((header.version_major, header.version_minor), (2, 4));
        assert!(packets.is_empty());
    }

    #[test]
    fn recorded_packets_read_back_with_their_sim_timestamps() {
        let mut pcap = PcapRecorder::new();
        let syn = ipv4_packet(1, 20);
        let data = ipv4_packet(2, 1200);
        let ack = ipv4_packet(3, 20);
        pcap.record(Duration::ZERO, &syn);
        pcap.record(Duration::new(1, 234_500_000), &data);
        pcap.record(Duration::from_millis(2_040), &ack);
        assert_eq!(pcap.packet_count(), 3);

        let (header, packets) = read_back(&pcap.to_bytes());
        assert_eq!(header.datalink, DataLink::RAW);
        assert_eq!(packets.len(), 3);
        assert_eq!(packets[0], (Duration::ZERO, 40, syn));
        assert_eq!(packets[1], (Duration::new(1, 234_500_000), 1220, data));
        assert_eq!(packets[2], (Duration::new(2, 40_000_000), 40, ack));
    }

    #[test]
    fn record_header_holds_seconds_and_microseconds() {
        let mut pcap = PcapRecorder::new();
        pcap.record(Duration::new(1, 234_500_000), &ipv4_packet(0, 0));
        let bytes = pcap.to_bytes();
        let record = &bytes[PCAP_GLOBAL_HEADER_LEN..];
        assert_eq!(record[0..4], 1u32.to_le_bytes());
        assert_eq!(record[4..8], 234_500u32.to_le_bytes());
        assert_eq!(record[8..12], 20u32.to_le_bytes());
        assert_eq!(record[12..16], 20u32.to_le_bytes());
    }

    #[test]
    fn sub_microsecond_time_is_truncated() {
        let mut pcap = PcapRecorder::new();
        pcap.record(Duration::new(3, 999_999), &ipv4_packet(0, 0));
        let (_, packets) = read_back(&pcap.to_bytes());
        assert_eq!(packets[0].0, Duration::new(3, 999_000));
    }

    #[test]
    fn same_packets_give_identical_bytes() {
        let run = || {
            let mut pcap = PcapRecorder::new();
            for i in 0..50u8 {
                pcap.record(
                    Duration::from_millis(u64::from(i) * 7),
                    &ipv4_packet(i, usize::from(i) * 10),
                );
            }
            pcap.to_bytes()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn write_to_replaces_the_file_and_leaves_no_tmp() {
        let dir = scratch_dir("pcap");
        let path = dir.join("client.pcap");
        let mut pcap = PcapRecorder::new();
        pcap.record(Duration::from_millis(5), &ipv4_packet(9, 100));
        pcap.write_to(&path).unwrap();
        pcap.record(Duration::from_millis(6), &ipv4_packet(10, 100));
        pcap.write_to(&path).unwrap();

        assert_eq!(std::fs::read(&path).unwrap(), pcap.to_bytes());
        assert!(!dir.join("client.pcap.tmp").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn write_error_names_the_path() {
        let path = std::env::temp_dir()
            .join(format!("netsim-capture-missing-{}", std::process::id()))
            .join("no-such-dir")
            .join("server.pcap");
        let err = PcapRecorder::new().write_to(&path).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("cannot write {}: ", path.display())),
            "{message}"
        );
    }

    #[test]
    fn key_log_lines_use_nss_format() {
        let keys = KeyLogCollector::new();
        assert!(keys.will_log("CLIENT_RANDOM"));
        keys.log(
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            &[0x00, 0xAB, 0x10, 0xff],
            &[0xDE, 0xAD, 0xbe, 0xef, 0x01],
        );
        keys.log("SERVER_TRAFFIC_SECRET_0", &[0x0F], &[0xF0]);

        assert_eq!(
            keys.lines(),
            vec![
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET 00ab10ff deadbeef01".to_string(),
                "SERVER_TRAFFIC_SECRET_0 0f f0".to_string(),
            ]
        );
        assert_eq!(
            keys.to_string(),
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET 00ab10ff deadbeef01\n\
             SERVER_TRAFFIC_SECRET_0 0f f0\n"
        );
    }

    #[test]
    fn empty_key_log_is_an_empty_file() {
        let keys = KeyLogCollector::new();
        assert!(keys.lines().is_empty());
        assert_eq!(keys.to_string(), "");
    }

    #[test]
    fn key_log_write_to_writes_every_line() {
        let dir = scratch_dir("keylog");
        let path = dir.join("keys.log");
        let keys = KeyLogCollector::new();
        keys.log("CLIENT_TRAFFIC_SECRET_0", &[1, 2], &[3, 4]);
        keys.write_to(&path).unwrap();

        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "CLIENT_TRAFFIC_SECRET_0 0102 0304\n"
        );
        assert!(!dir.join("keys.log.tmp").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
