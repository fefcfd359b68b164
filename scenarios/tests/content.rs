//! The content model: ranges, digests, body checks and the path grammar.

use scenarios::{
    body, digest, fill, object_path, size_of_path, BodyCheck, BodyMismatch, BodySource, PathError,
    MAX_OBJECT_SIZE,
};
use sha2::{Digest as _, Sha256};

const SEED: u64 = 7;
const PATH: &str = "/bytes/200000/range.bin";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Known answers, computed independently of rand_chacha (a few lines of
/// Python implementing ChaCha8 with a 64-bit block counter and nonce 0).
/// If these change, the content model changed: bump its version label.
#[test]
fn content_matches_known_answers() {
    assert_eq!(
        hex(&body(1, "/bytes/32/kat.bin", 32)),
        "4ff0bfbbdecdec5b379fc11ecb43443a5438ccc7551f6c67c6253cc308f96952"
    );
    assert_eq!(
        hex(&digest(1, "/bytes/1000/kat.bin", 1000)),
        "d2d6bd339ada0a55c50783880daed81a54d1a50a8abe3eb4f7072b3aceb6d4eb"
    );
}

#[test]
fn fill_at_any_offset_equals_that_slice_of_the_body() {
    let whole = body(SEED, PATH, 200_000);
    // Word (4 B), ChaCha block (64 B) and rand_chacha buffer (256 B) boundaries,
    // and offsets just off them.
    let offsets = [
        0, 1, 2, 3, 4, 5, 7, 63, 64, 65, 127, 255, 256, 257, 1023, 1025, 65_535, 65_536, 65_537,
        131_071, 199_990, 199_999,
    ];
    let lengths = [0, 1, 2, 3, 4, 5, 63, 64, 65, 255, 256, 1000, 4096, 70_001];
    for &offset in &offsets {
        for &len in &lengths {
            let end = (offset + len).min(whole.len());
            let mut buf = vec![0; end - offset];
            fill(SEED, PATH, offset as u64, &mut buf);
            assert_eq!(buf, whole[offset..end], "offset {offset}, len {len}");
        }
    }
}

#[test]
fn a_body_source_serves_pieces_in_any_order() {
    let whole = body(SEED, PATH, 200_000);
    let mut source = BodySource::new(SEED, PATH);
    let pieces = [
        (150_001, 3),
        (3, 16_384),
        (0, 3),
        (16_387, 1),
        (100_000, 50_001),
    ];
    for (offset, len) in pieces {
        let mut buf = vec![0; len];
        source.fill(offset as u64, &mut buf);
        assert_eq!(buf, whole[offset..offset + len], "offset {offset}");
    }
}

#[test]
fn a_short_body_is_a_prefix_of_a_longer_one() {
    assert_eq!(body(SEED, PATH, 1000), body(SEED, PATH, 200_000)[..1000]);
}

#[test]
fn different_paths_and_seeds_give_different_bytes() {
    let a = body(SEED, "/bytes/4096/a", 4096);
    assert_ne!(a, body(SEED, "/bytes/4096/b", 4096), "other name");
    assert_ne!(a, body(SEED + 1, "/bytes/4096/a", 4096), "other seed");
    assert_ne!(
        body(SEED, "/bytes/4096", 4096),
        body(SEED, "/bytes/4096/", 4096),
        "the whole path is the key"
    );
    // And a body is not made of repeats of itself.
    assert_ne!(a[..2048], a[2048..]);
}

#[test]
fn digest_is_the_sha256_of_the_body() {
    for len in [0, 1, 3, 64, 65_535, 65_536, 65_537, 200_000] {
        assert_eq!(
            digest(SEED, PATH, len),
            sha256(&body(SEED, PATH, len)),
            "len {len}"
        );
    }
}

fn check_in_pieces(data: &[u8], piece: usize, expected_len: u64) -> Result<(), BodyMismatch> {
    let mut check = BodyCheck::new(SEED, PATH, expected_len);
    for chunk in data.chunks(piece) {
        check.update(chunk);
    }
    assert_eq!(check.received(), data.len() as u64);
    check.finish()
}

#[test]
fn body_check_accepts_the_body_in_any_pieces() {
    let whole = body(SEED, PATH, 200_000);
    for piece in [1 << 20, 16_384, 1_000, 7] {
        assert_eq!(check_in_pieces(&whole, piece, 200_000), Ok(()), "{piece}");
    }
    assert_eq!(BodyCheck::new(SEED, "/bytes/0", 0).finish(), Ok(()));
}

#[test]
fn body_check_reports_a_truncated_body() {
    let whole = body(SEED, PATH, 200_000);
    let err = check_in_pieces(&whole[..199_999], 16_384, 200_000).unwrap_err();
    assert_eq!(
        err,
        BodyMismatch::Length {
            expected: 200_000,
            got: 199_999
        }
    );
    assert_eq!(err.to_string(), "body is 199999 bytes, expected 200000");
    assert_eq!(
        BodyCheck::new(SEED, PATH, 200_000).finish(),
        Err(BodyMismatch::Length {
            expected: 200_000,
            got: 0
        })
    );
}

#[test]
fn body_check_reports_a_long_body() {
    let mut data = body(SEED, PATH, 200_000);
    data.push(0);
    assert_eq!(
        check_in_pieces(&data, 16_384, 200_000),
        Err(BodyMismatch::Length {
            expected: 200_000,
            got: 200_001
        })
    );
}

#[test]
fn body_check_reports_one_flipped_byte() {
    let mut data = body(SEED, PATH, 200_000);
    data[123_457] ^= 0x01;
    // Pieces that do and do not line up with the comparison's chunks.
    for piece in [16_384, 1_000, 200_000, 7] {
        let err = check_in_pieces(&data, piece, 200_000).unwrap_err();
        assert_eq!(err, BodyMismatch::Content { offset: 123_457 }, "{piece}");
    }
    assert_eq!(
        check_in_pieces(&data, 16_384, 200_000)
            .unwrap_err()
            .to_string(),
        "body bytes differ from the content model from byte 123457 on"
    );
    // The last byte too.
    let mut last = body(SEED, PATH, 200_000);
    last[199_999] ^= 0x80;
    assert_eq!(
        check_in_pieces(&last, 4_096, 200_000),
        Err(BodyMismatch::Content { offset: 199_999 })
    );
}

#[test]
fn body_check_reports_another_seeds_body() {
    let other = body(SEED + 1, PATH, 200_000);
    assert_eq!(
        check_in_pieces(&other, 16_384, 200_000),
        Err(BodyMismatch::Content { offset: 0 })
    );
}

#[test]
fn size_of_path_accepts_the_grammar() {
    let name64 = "n".repeat(64);
    let accepted: [(&str, u64); 7] = [
        ("/bytes/0", 0),
        ("/bytes/1", 1),
        ("/bytes/30000/index.html", 30_000),
        ("/bytes/1073741824", MAX_OBJECT_SIZE),
        ("/bytes/5/A-z_0.9", 5),
        ("/bytes/5/...", 5),
        (&format!("/bytes/12/{name64}"), 12),
    ];
    for (path, size) in accepted {
        assert_eq!(size_of_path(path), Ok(size), "{path}");
    }
}

#[test]
fn size_of_path_rejects_everything_else_and_says_why() {
    let name65 = format!("/bytes/12/{}", "n".repeat(65));
    let rejected: [(&str, PathError, &str); 18] = [
        (
            "/other",
            PathError::NotBytes,
            "path must start with /bytes/",
        ),
        (
            "/bytes",
            PathError::NotBytes,
            "path must start with /bytes/",
        ),
        (
            "bytes/12",
            PathError::NotBytes,
            "path must start with /bytes/",
        ),
        (
            "/bytes/",
            PathError::MissingSize,
            "missing size after /bytes/",
        ),
        (
            "/bytes//x",
            PathError::MissingSize,
            "missing size after /bytes/",
        ),
        (
            "/bytes/-1",
            PathError::SizeNotDecimal('-'),
            "size contains '-'; only the digits 0-9 are allowed",
        ),
        (
            "/bytes/12x",
            PathError::SizeNotDecimal('x'),
            "size contains 'x'; only the digits 0-9 are allowed",
        ),
        (
            "/bytes/+12",
            PathError::SizeNotDecimal('+'),
            "size contains '+'; only the digits 0-9 are allowed",
        ),
        (
            "/bytes/12?a=1",
            PathError::SizeNotDecimal('?'),
            "size contains '?'; only the digits 0-9 are allowed",
        ),
        (
            "/bytes/012",
            PathError::SizeLeadingZero,
            "size has a leading zero",
        ),
        (
            "/bytes/99999999999999999999",
            PathError::SizeTooLarge,
            "size is larger than the maximum of 1073741824 bytes",
        ),
        (
            "/bytes/1073741825",
            PathError::SizeTooLarge,
            "size is larger than the maximum of 1073741824 bytes",
        ),
        (
            "/bytes/12/",
            PathError::EmptyName,
            "missing name after the size",
        ),
        (
            "/bytes/12/a/b",
            PathError::NameChar('/'),
            "name contains '/'; allowed are A-Z a-z 0-9 . _ -",
        ),
        (
            "/bytes/12/a b",
            PathError::NameChar(' '),
            "name contains ' '; allowed are A-Z a-z 0-9 . _ -",
        ),
        (
            "/bytes/12/é",
            PathError::NameChar('é'),
            "name contains 'é'; allowed are A-Z a-z 0-9 . _ -",
        ),
        (
            &name65,
            PathError::NameTooLong(65),
            "name is 65 bytes long; the limit is 64",
        ),
        (
            "/bytes/12/..",
            PathError::DotName,
            "name must not be . or ..",
        ),
    ];
    for (path, error, message) in rejected {
        let got = size_of_path(path);
        assert_eq!(got, Err(error), "{path}");
        assert_eq!(got.unwrap_err().to_string(), message, "{path}");
    }
}

#[test]
fn object_path_parses_back_to_its_size() {
    for size in [0, 1, 30_000, MAX_OBJECT_SIZE] {
        let path = object_path(size, "img-03.jpg");
        assert_eq!(path, format!("/bytes/{size}/img-03.jpg"));
        assert_eq!(size_of_path(&path), Ok(size));
    }
}
