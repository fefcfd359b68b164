//! What identifies this build of the lab in every record: [`LabInfo`].
//!
//! Captured at build time by `build.rs`: the lab's version, its git commit
//! and whether the working tree was dirty, and the versions of the protocol
//! and simulation crates from `Cargo.lock`. All of it is fixed per binary,
//! so it never makes two runs of one binary differ.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The build of the lab that produced a record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabInfo {
    /// The lab's version (`CARGO_PKG_VERSION` of the `bench` crate).
    pub version: String,
    /// The git commit the binary was built from (`git rev-parse HEAD`), or
    /// `"unknown"` when it was built outside a git checkout.
    pub commit: String,
    /// Whether the working tree had changes not in `commit` when the binary
    /// was built (`git status --porcelain` not empty).
    pub dirty: bool,
    /// Versions of hyper, h2, h3, h3-quinn, quinn, quinn-proto, rustls,
    /// smoltcp, turmoil and tokio, by crate name, from the workspace's
    /// `Cargo.lock` (`"unknown"` if absent; space-separated if the lockfile
    /// holds more than one version).
    pub crate_versions: BTreeMap<String, String>,
}

impl LabInfo {
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

    /// `version@commit`, with `+dirty` for a dirty tree: what resuming a
    /// sweep compares (with the scenario hash and the run key) to decide
    /// whether a stored result is this build's.
    pub fn build_id(&self) -> String {
        build_id(&self.version, &self.commit, self.dirty)
    }
}

/// `version@commit`, with `+dirty` for a dirty tree (see
/// [`LabInfo::build_id`]).
pub fn build_id(version: &str, commit: &str, dirty: bool) -> String {
    format!("{version}@{commit}{}", if dirty { "+dirty" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_crate() {
        let lab = LabInfo::current();
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
                "tokio",
                "turmoil"
            ]
        );
        assert!(lab.crate_versions.values().all(|v| v != "unknown"));
        assert!(!lab.commit.is_empty());
    }
}
