//! The content model: what every protocol serves, byte for byte.
//!
//! A body is named by its path, `/bytes/{n}` or `/bytes/{n}/{name}`, where `n`
//! is its length in bytes. Its bytes are a ChaCha8 keystream keyed by
//! `SHA-256("httplab-content-v1" || seed.to_le_bytes() || path)`: byte `i` of
//! the body is keystream byte `i` (original ChaCha with 8 rounds, 64-bit block
//! counter from 0, nonce 0; `rand_chacha::ChaCha8Rng` produces exactly this
//! stream, and a test pins known answers computed without it). So any range of
//! any body can be produced directly ([`fill`]), without state and without
//! storing anything; the bytes are incompressible; and distinct paths or run
//! seeds give unrelated bytes.
//!
//! Servers produce bodies with [`fill`] (or a [`BodySource`], which keys the
//! keystream once); clients verify them with [`BodyCheck`].

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest as _, Sha256};

/// The largest body the content model serves: 1 GiB.
pub const MAX_OBJECT_SIZE: u64 = 1 << 30;

/// The longest object name allowed after the size in a path, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Domain separation for the content key; bump the version if the model changes.
const KEY_LABEL: &[u8] = b"httplab-content-v1";

/// Chunk size used when hashing a whole body.
const DIGEST_CHUNK: usize = 64 * 1024;

/// The keystream of one body, keyed once, from which any range can be read.
///
/// [`fill`] builds one of these per call; a server writing a body in many
/// pieces can keep one per response and call [`BodySource::fill`] repeatedly.
#[derive(Clone)]
pub struct BodySource {
    rng: ChaCha8Rng,
}

impl BodySource {
    /// The body of `path` under run seed `seed`. The path is not checked; any
    /// string names a keystream.
    pub fn new(seed: u64, path: &str) -> BodySource {
        let mut key = Sha256::new();
        key.update(KEY_LABEL);
        key.update(seed.to_le_bytes());
        key.update(path.as_bytes());
        BodySource {
            rng: ChaCha8Rng::from_seed(key.finalize().into()),
        }
    }

    /// Writes body bytes `offset .. offset + buf.len()` into `buf`.
    pub fn fill(&mut self, offset: u64, buf: &mut [u8]) {
        if buf.is_empty() {
            return;
        }
        // The keystream is addressed in 32-bit words; a word's bytes are its
        // little-endian encoding, which is also what `fill_bytes` writes.
        self.rng.set_word_pos(u128::from(offset / 4));
        let skip = (offset % 4) as usize;
        let mut rest = buf;
        if skip != 0 {
            let word = self.rng.next_u32().to_le_bytes();
            let n = (4 - skip).min(rest.len());
            rest[..n].copy_from_slice(&word[skip..skip + n]);
            rest = &mut rest[n..];
        }
        // One call for the rest: `fill_bytes` only drops bytes of a partial
        // final word, so the stream stays contiguous.
        self.rng.fill_bytes(rest);
    }
}

impl std::fmt::Debug for BodySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodySource").finish_non_exhaustive()
    }
}

/// Writes bytes `offset .. offset + buf.len()` of the body of `path` under run
/// seed `seed` into `buf`.
///
/// The path is not checked (see [`size_of_path`]), and neither is the range:
/// bytes past the body's end are simply more keystream.
pub fn fill(seed: u64, path: &str, offset: u64, buf: &mut [u8]) {
    BodySource::new(seed, path).fill(offset, buf);
}

/// The first `len` bytes of the body of `path` under run seed `seed`.
///
/// # Panics
///
/// If `len` does not fit in memory (`usize`).
pub fn body(seed: u64, path: &str, len: u64) -> Vec<u8> {
    let len = usize::try_from(len).expect("body length fits in usize");
    let mut out = vec![0; len];
    fill(seed, path, 0, &mut out);
    out
}

/// SHA-256 of the first `len` bytes of the body of `path` under run seed `seed`
/// (the whole body when `len` is its size).
pub fn digest(seed: u64, path: &str, len: u64) -> [u8; 32] {
    let mut source = BodySource::new(seed, path);
    let mut hasher = Sha256::new();
    let mut chunk = vec![0; DIGEST_CHUNK.min(usize::try_from(len).unwrap_or(usize::MAX))];
    let mut offset = 0;
    while offset < len {
        let n = (len - offset).min(chunk.len() as u64) as usize;
        source.fill(offset, &mut chunk[..n]);
        hasher.update(&chunk[..n]);
        offset += n as u64;
    }
    hasher.finalize().into()
}

/// The path of a body of `size` bytes named `name`: `/bytes/{size}/{name}`.
///
/// Nothing is checked: `name` should match the grammar of [`size_of_path`]
/// (`[A-Za-z0-9._-]{1,64}`, not `.` or `..`) and `size` be at most
/// [`MAX_OBJECT_SIZE`] for the path to parse back to `size`.
pub fn object_path(size: u64, name: &str) -> String {
    format!("/bytes/{size}/{name}")
}

/// Why a path is not a content path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path does not start with `/bytes/`.
    #[error("path must start with /bytes/")]
    NotBytes,
    /// Nothing follows `/bytes/`.
    #[error("missing size after /bytes/")]
    MissingSize,
    /// The size has a character other than a decimal digit.
    #[error("size contains {0:?}; only the digits 0-9 are allowed")]
    SizeNotDecimal(char),
    /// The size has a leading zero (sizes are written in one way only).
    #[error("size has a leading zero")]
    SizeLeadingZero,
    /// The size is larger than [`MAX_OBJECT_SIZE`].
    #[error("size is larger than the maximum of {MAX_OBJECT_SIZE} bytes")]
    SizeTooLarge,
    /// A `/` after the size is not followed by a name.
    #[error("missing name after the size")]
    EmptyName,
    /// The name is longer than [`MAX_NAME_LEN`] bytes.
    #[error("name is {0} bytes long; the limit is {MAX_NAME_LEN}")]
    NameTooLong(usize),
    /// The name has a character outside `A-Z a-z 0-9 . _ -` (for example `/`).
    #[error("name contains {0:?}; allowed are A-Z a-z 0-9 . _ -")]
    NameChar(char),
    /// The name is `.` or `..`, which URL handling may rewrite.
    #[error("name must not be . or ..")]
    DotName,
}

/// The body size `n` named by a content path: `/bytes/{n}` or
/// `/bytes/{n}/{name}`.
///
/// `n` is decimal without leading zeros (`0` itself is allowed) and at most
/// [`MAX_OBJECT_SIZE`]; `name` is 1 to [`MAX_NAME_LEN`] characters from
/// `[A-Za-z0-9._-]` and not `.` or `..`. Nothing else (no query, no trailing
/// slash) is accepted.
pub fn size_of_path(path: &str) -> Result<u64, PathError> {
    let rest = path.strip_prefix("/bytes/").ok_or(PathError::NotBytes)?;
    let (digits, name) = match rest.split_once('/') {
        Some((digits, name)) => (digits, Some(name)),
        None => (rest, None),
    };
    if digits.is_empty() {
        return Err(PathError::MissingSize);
    }
    if let Some(c) = digits.chars().find(|c| !c.is_ascii_digit()) {
        return Err(PathError::SizeNotDecimal(c));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(PathError::SizeLeadingZero);
    }
    let size = digits
        .parse::<u64>()
        .ok()
        .filter(|&n| n <= MAX_OBJECT_SIZE)
        .ok_or(PathError::SizeTooLarge)?;
    if let Some(name) = name {
        check_name(name)?;
    }
    Ok(size)
}

fn check_name(name: &str) -> Result<(), PathError> {
    if name.is_empty() {
        return Err(PathError::EmptyName);
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(PathError::NameChar(c));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(PathError::NameTooLong(name.len()));
    }
    if name == "." || name == ".." {
        return Err(PathError::DotName);
    }
    Ok(())
}

/// How a received body differs from the content model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyMismatch {
    /// A different number of bytes arrived than expected (fewer: truncated).
    #[error("body is {got} bytes, expected {expected}")]
    Length {
        /// The length the workload asked for.
        expected: u64,
        /// The number of bytes that arrived.
        got: u64,
    },
    /// The length is right but the bytes are not the path's body.
    #[error("body bytes differ from the content model from byte {offset} on")]
    Content {
        /// The first byte (from the body's start) that is not the model's.
        offset: u64,
    },
}

/// Bytes of the model regenerated at a time to compare received bytes with.
const COMPARE_CHUNK: usize = 16 * 1024;

/// Incremental check of a received body.
///
/// Call order: [`BodyCheck::new`] when the response starts, [`BodyCheck::update`]
/// with each piece of the body in order, then [`BodyCheck::finish`] once.
/// Each received piece is compared, as it arrives, with the model's bytes at
/// its offset, regenerated from the keystream ([`BodySource`]): no digest is
/// computed, and a mismatch names the first byte that differs. `finish`
/// checks the count against the expected length first.
pub struct BodyCheck {
    seed: u64,
    path: String,
    expected_len: u64,
    received: u64,
    source: BodySource,
    /// The model's bytes for the piece being compared (allocated at the
    /// first piece, at most [`COMPARE_CHUNK`]).
    expected: Vec<u8>,
    /// The first byte that differed, once one has.
    first_bad: Option<u64>,
}

impl BodyCheck {
    /// Starts checking the body of `path` under run seed `seed`, which should
    /// be `expected_len` bytes long.
    pub fn new(seed: u64, path: &str, expected_len: u64) -> BodyCheck {
        BodyCheck {
            seed,
            path: path.to_owned(),
            expected_len,
            received: 0,
            source: BodySource::new(seed, path),
            expected: Vec::new(),
            first_bad: None,
        }
    }

    /// Feeds the next received bytes of the body. Bytes past the expected
    /// length are counted, not compared (the length check fails anyway).
    pub fn update(&mut self, data: &[u8]) {
        let start = self.received;
        self.received += data.len() as u64;
        if self.first_bad.is_some() {
            return;
        }
        let within = self.expected_len.saturating_sub(start);
        let data = &data[..data
            .len()
            .min(usize::try_from(within).unwrap_or(usize::MAX))];
        let mut offset = start;
        for piece in data.chunks(COMPARE_CHUNK) {
            let expected = &mut self.expected;
            expected.resize(piece.len(), 0);
            self.source.fill(offset, expected);
            if piece != expected.as_slice() {
                let at = piece.iter().zip(expected.iter()).position(|(a, b)| a != b);
                self.first_bad = Some(offset + at.unwrap_or(0) as u64);
                return;
            }
            offset += piece.len() as u64;
        }
    }

    /// The number of body bytes fed so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The body length this check expects.
    pub fn expected_len(&self) -> u64 {
        self.expected_len
    }

    /// `Ok` if exactly the expected number of bytes arrived and they are the
    /// path's body; otherwise which of the two failed (length is checked first).
    pub fn finish(self) -> Result<(), BodyMismatch> {
        if self.received != self.expected_len {
            return Err(BodyMismatch::Length {
                expected: self.expected_len,
                got: self.received,
            });
        }
        match self.first_bad {
            None => Ok(()),
            Some(offset) => Err(BodyMismatch::Content { offset }),
        }
    }
}

impl std::fmt::Debug for BodyCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyCheck")
            .field("seed", &self.seed)
            .field("path", &self.path)
            .field("expected_len", &self.expected_len)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}
