//! Which HTTP/2 stream each byte of a TLS-over-TCP connection belongs to,
//! read passively off the bytes the client receives: the TLS records in the
//! ciphertext TCP delivers ([`TlsRecords`]), the HTTP/2 frames in the
//! plaintext hyper reads ([`H2Frames`]), and the two lined up
//! ([`stream_spans`]) into [`StreamSpan`]s of TCP stream offsets, which
//! [`crate::hol_cost::HolCost`] takes.
//!
//! Nothing here changes a byte: the parsers only look at what passes.
//!
//! Lining up: the ciphertext starts with the server's handshake (a
//! plaintext ServerHello record, a ChangeCipherSpec, then encrypted
//! records), and every encrypted record (content type 23,
//! application_data, on the wire) holds `length − 17` bytes of plaintext:
//! a 16-byte AEAD tag and the inner content-type byte (rustls never pads).
//! The first encrypted records carry the rest of the handshake, and the
//! last may carry an alert, none of which hyper reads. The application
//! data is the run of consecutive encrypted records, starting at the
//! earliest record for which one exists, whose plaintext adds up exactly to
//! what hyper read; with no such run the map is unknown (`None`), and the
//! cost with it.

use std::sync::{Arc, Mutex};

use crate::hol_cost::StreamSpan;

/// The TLS record content type of every encrypted TLS 1.3 record.
const APPLICATION_DATA: u8 = 23;
/// Bytes of an encrypted record that are not plaintext: the AEAD tag (16,
/// AES-GCM and ChaCha20-Poly1305 alike) and the inner content type (1).
const RECORD_OVERHEAD: u64 = 17;
/// A TLS record header: type (1), version (2), length (2).
const TLS_HEADER: usize = 5;
/// An HTTP/2 frame header: length (3), type (1), flags (1), stream (4).
const H2_HEADER: usize = 9;

/// One TLS record: where its header starts in the TCP byte stream, its
/// content type and its payload length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsRecord {
    /// Offset of its first header byte in the connection's byte stream.
    pub start: u64,
    /// Its (outer) content type.
    pub content_type: u8,
    /// Its payload length (after the 5-byte header).
    pub len: u64,
}

/// The TLS records of a byte stream fed in order from its first byte.
#[derive(Clone, Debug, Default)]
pub struct TlsRecords {
    fed: u64,
    header: Vec<u8>,
    remaining: u64,
    records: Vec<TlsRecord>,
}

impl TlsRecords {
    /// The next bytes of the stream.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.remaining > 0 {
                let n = self.remaining.min(bytes.len() as u64);
                self.remaining -= n;
                self.fed += n;
                bytes = &bytes[n as usize..];
                continue;
            }
            let n = (TLS_HEADER - self.header.len()).min(bytes.len());
            self.header.extend_from_slice(&bytes[..n]);
            self.fed += n as u64;
            bytes = &bytes[n..];
            if self.header.len() == TLS_HEADER {
                let len = u64::from(u16::from_be_bytes([self.header[3], self.header[4]]));
                self.records.push(TlsRecord {
                    start: self.fed - TLS_HEADER as u64,
                    content_type: self.header[0],
                    len,
                });
                self.remaining = len;
                self.header.clear();
            }
        }
    }

    /// The records whose header has been seen, in order.
    pub fn records(&self) -> &[TlsRecord] {
        &self.records
    }
}

/// The HTTP/2 frames of the server's plaintext, fed in order from its
/// first byte, as spans of plaintext offsets: the payload of DATA,
/// HEADERS and CONTINUATION frames is its stream's; frame headers and
/// every other frame belong to no stream.
#[derive(Clone, Debug, Default)]
pub struct H2Frames {
    fed: u64,
    header: Vec<u8>,
    remaining: u64,
    stream: Option<u64>,
    spans: Vec<StreamSpan>,
}

impl H2Frames {
    /// The next plaintext bytes.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.remaining > 0 {
                let n = self.remaining.min(bytes.len() as u64);
                self.push(n, self.stream);
                self.remaining -= n;
                bytes = &bytes[n as usize..];
                continue;
            }
            let n = (H2_HEADER - self.header.len()).min(bytes.len());
            self.header.extend_from_slice(&bytes[..n]);
            self.push(n as u64, None);
            bytes = &bytes[n..];
            if self.header.len() == H2_HEADER {
                let h = &self.header;
                let len = u64::from(h[0]) << 16 | u64::from(h[1]) << 8 | u64::from(h[2]);
                let id = u64::from(u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff);
                // DATA, HEADERS, CONTINUATION: a stream's own bytes.
                self.stream = (matches!(h[3], 0x0 | 0x1 | 0x9) && id != 0).then_some(id);
                self.remaining = len;
                self.header.clear();
            }
        }
    }

    /// Plaintext bytes fed so far.
    pub fn fed(&self) -> u64 {
        self.fed
    }

    /// The spans so far, in plaintext offsets, adjacent spans of one
    /// stream merged.
    pub fn spans(&self) -> &[StreamSpan] {
        &self.spans
    }

    fn push(&mut self, n: u64, stream: Option<u64>) {
        if n == 0 {
            return;
        }
        let start = self.fed;
        self.fed += n;
        match self.spans.last_mut() {
            Some(last) if last.stream == stream && last.end == start => last.end = self.fed,
            _ => self.spans.push(StreamSpan {
                start,
                end: self.fed,
                stream,
            }),
        }
    }
}

/// The spans of `frames` in offsets of the TCP byte stream whose records
/// are `records` (see the module docs for how they are lined up); `None`
/// if no run of encrypted records holds exactly the plaintext the frames
/// were read from.
pub fn stream_spans(records: &TlsRecords, frames: &H2Frames) -> Option<Vec<StreamSpan>> {
    let encrypted: Vec<&TlsRecord> = records
        .records()
        .iter()
        .filter(|r| r.content_type == APPLICATION_DATA && r.len > RECORD_OVERHEAD)
        .collect();
    let total = frames.fed();
    // The first record of the application data: the earliest from which
    // consecutive records add up to exactly `total`.
    let first = (0..encrypted.len()).find(|&k| {
        let mut sum = 0;
        for r in &encrypted[k..] {
            if sum >= total {
                break;
            }
            sum += r.len - RECORD_OVERHEAD;
        }
        sum == total
    })?;
    // Plaintext offset → TCP offset, record by record.
    let mut plain = 0;
    let mut pieces = Vec::new(); // (plaintext start, TCP start, length)
    for r in &encrypted[first..] {
        if plain >= total {
            break;
        }
        let len = r.len - RECORD_OVERHEAD;
        pieces.push((plain, r.start + TLS_HEADER as u64, len));
        plain += len;
    }
    let mut out = Vec::new();
    let mut p = 0;
    for span in frames.spans() {
        while p < pieces.len() && pieces[p].0 + pieces[p].2 <= span.start {
            p += 1;
        }
        for &(plain_start, tcp_start, len) in pieces[p..].iter().take_while(|x| x.0 < span.end) {
            let from = span.start.max(plain_start);
            let to = span.end.min(plain_start + len);
            if from < to {
                out.push(StreamSpan {
                    start: tcp_start + (from - plain_start),
                    end: tcp_start + (to - plain_start),
                    stream: span.stream,
                });
            }
        }
    }
    Some(out)
}

/// What the client saw of one connection, shared by the stream under TLS
/// (ciphertext) and the stream above it (plaintext).
#[derive(Debug, Default)]
pub(crate) struct Observed {
    /// The records of the ciphertext TCP delivered.
    pub(crate) records: TlsRecords,
    /// The frames of the plaintext hyper read.
    pub(crate) frames: H2Frames,
}

/// A connection's [`Observed`], shared.
pub(crate) type StreamMapHandle = Arc<Mutex<Observed>>;

/// The spans of what `handle` observed ([`stream_spans`]).
pub(crate) fn spans_of(handle: &StreamMapHandle) -> Option<Vec<StreamSpan>> {
    let seen = handle.lock().unwrap_or_else(|e| e.into_inner());
    stream_spans(&seen.records, &seen.frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS record header and `len` payload bytes.
    fn record(content_type: u8, len: usize) -> Vec<u8> {
        let mut v = vec![content_type, 3, 3, (len >> 8) as u8, len as u8];
        v.resize(TLS_HEADER + len, 0xaa);
        v
    }

    /// An HTTP/2 frame header and `len` payload bytes.
    fn frame(kind: u8, stream: u32, len: usize) -> Vec<u8> {
        let mut v = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, 0];
        v.extend_from_slice(&stream.to_be_bytes());
        v.resize(H2_HEADER + len, 0xbb);
        v
    }

    fn span(start: u64, end: u64, stream: Option<u64>) -> StreamSpan {
        StreamSpan { start, end, stream }
    }

    #[test]
    fn records_are_found_however_the_bytes_are_cut() {
        let mut bytes = record(22, 90);
        bytes.extend(record(20, 1));
        bytes.extend(record(23, 300));
        for cut in [1, 3, 5, 7, 64, 1000] {
            let mut r = TlsRecords::default();
            for chunk in bytes.chunks(cut) {
                r.feed(chunk);
            }
            let got: Vec<(u64, u8, u64)> = r
                .records()
                .iter()
                .map(|x| (x.start, x.content_type, x.len))
                .collect();
            assert_eq!(
                got,
                vec![(0, 22, 90), (95, 20, 1), (101, 23, 300)],
                "cut {cut}"
            );
        }
    }

    #[test]
    fn frames_give_each_streams_payload_and_nothing_for_headers_and_control() {
        let mut bytes = frame(0x4, 0, 18); // SETTINGS
        bytes.extend(frame(0x1, 1, 30)); // HEADERS, stream 1
        bytes.extend(frame(0x0, 1, 100)); // DATA, stream 1
        bytes.extend(frame(0x0, 3, 50)); // DATA, stream 3
        bytes.extend(frame(0x8, 0, 4)); // WINDOW_UPDATE
        for cut in [1, 2, 9, 10, 1000] {
            let mut f = H2Frames::default();
            for chunk in bytes.chunks(cut) {
                f.feed(chunk);
            }
            assert_eq!(f.fed(), bytes.len() as u64);
            assert_eq!(
                f.spans(),
                &[
                    span(0, 36, None),
                    span(36, 66, Some(1)),
                    span(66, 75, None),
                    span(75, 175, Some(1)),
                    span(175, 184, None),
                    span(184, 234, Some(3)),
                    span(234, 247, None),
                ],
                "cut {cut}"
            );
        }
    }

    #[test]
    fn plaintext_lines_up_with_the_application_data_records() {
        // Ciphertext: ServerHello (0..95), CCS (95..101), an encrypted
        // handshake record (101..1106, 1000 bytes), then two records of
        // application data (40 and 83 bytes of plaintext: lengths 57 and
        // 100), then a close_notify alert (2 + 17 = 19).
        let mut c = TlsRecords::default();
        for (t, len) in [(22, 90), (20, 1), (23, 1000), (23, 57), (23, 100), (23, 19)] {
            c.feed(&record(t, len));
        }
        // Plaintext: SETTINGS with 31 bytes (0..40), then DATA on stream 1
        // of 74 bytes (40..123).
        let mut f = H2Frames::default();
        f.feed(&frame(0x4, 0, 31));
        f.feed(&frame(0x0, 1, 74));
        assert_eq!(f.fed(), 123);
        // Record 4 (57) starts at 1106: its plaintext at 1111..1151 holds
        // plaintext 0..40. Record 5 (100) starts at 1168: plaintext 40..123
        // at 1173..1256; the DATA header is 1173..1182, its payload
        // 1182..1256.
        let spans = stream_spans(&c, &f).unwrap();
        assert_eq!(
            spans,
            vec![
                span(1111, 1151, None),
                span(1173, 1182, None),
                span(1182, 1256, Some(1)),
            ]
        );
    }

    #[test]
    fn a_frame_across_records_is_split_at_their_boundary() {
        let mut c = TlsRecords::default();
        c.feed(&record(23, 17 + 20)); // 20 bytes of plaintext at 5..25
        c.feed(&record(23, 17 + 30)); // 30 at 47..77
        let mut f = H2Frames::default();
        f.feed(&frame(0x0, 5, 41)); // 9 + 41 = 50
        let spans = stream_spans(&c, &f).unwrap();
        assert_eq!(
            spans,
            vec![
                span(5, 14, None),
                span(14, 25, Some(5)),
                span(47, 77, Some(5))
            ]
        );
    }

    #[test]
    fn plaintext_that_fits_no_run_of_records_has_no_map() {
        let mut c = TlsRecords::default();
        c.feed(&record(23, 17 + 20));
        let mut f = H2Frames::default();
        f.feed(&frame(0x0, 1, 20)); // 29 bytes: no run of records has 29
        assert_eq!(stream_spans(&c, &f), None);
    }
}
