//! This binary's build, for every record it writes: [`current`].
//!
//! Captured at build time by `build.rs`: the lab's version, its git commit
//! and whether the working tree was dirty, and the versions of the protocol
//! and simulation crates from `Cargo.lock`. All of it is fixed per binary,
//! so it never makes two runs of one binary differ.

use records::LabInfo;

/// What `httplab -V` prints after the name: `0.1.0 (commit <hash>)`, with
/// `, dirty` when the tree had uncommitted changes.
pub const VERSION_LINE: &str = env!("HTTPLAB_VERSION_LINE");

/// This binary's build.
pub fn current() -> LabInfo {
    let crate_versions = env!("HTTPLAB_CRATE_VERSIONS")
        .split(';')
        .filter_map(|entry| entry.split_once('='))
        .map(|(name, version)| (name.to_owned(), version.to_owned()))
        .collect();
    LabInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        commit: env!("HTTPLAB_GIT_COMMIT").to_owned(),
        dirty: env!("HTTPLAB_GIT_DIRTY") == "true",
        crate_versions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_crate() {
        let lab = current();
        let names: Vec<_> = lab.crate_versions.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "h2",
                "h3",
                "h3-quinn",
                "hyper",
                "quinn",
                "quinn-proto",
                "rustls",
                "smoltcp",
                "tokio"
            ]
        );
        assert!(lab.crate_versions.values().all(|v| v != "unknown"));
        assert!(!lab.commit.is_empty());
    }
}
