//! Seed derivation: every random choice in a run comes from the run seed.
//!
//! Each consumer (a link direction, the hosts' tokio runtimes, the TCP stacks, a quinn
//! endpoint) gets its own stream, derived as `SHA-256(run seed || label)`, so
//! adding a consumer never shifts another's random sequence.

use sha2::{Digest, Sha256};

/// A 32-byte seed for the consumer named `label`, derived from `run_seed`.
pub fn derive(run_seed: u64, label: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"httplab-seed-v1");
    h.update(run_seed.to_le_bytes());
    h.update((label.len() as u64).to_le_bytes());
    h.update(label.as_bytes());
    h.finalize().into()
}

/// A 64-bit seed for the consumer named `label` (the first 8 bytes of
/// [`derive`]).
pub fn derive_u64(run_seed: u64, label: &str) -> u64 {
    let b = derive(run_seed, label);
    u64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_seeds_separate_streams() {
        assert_eq!(derive(1, "link-up"), derive(1, "link-up"));
        assert_ne!(derive(1, "link-up"), derive(1, "link-down"));
        assert_ne!(derive(1, "link-up"), derive(2, "link-up"));
    }
}
