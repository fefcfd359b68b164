//! What identifies the build of the lab in every record: [`LabInfo`].
//!
//! `bench` captures it at build time (its `build.rs`) and fills it in; it
//! is fixed per binary, so it never makes two runs of one binary differ.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The build of the lab that produced a record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// smoltcp and tokio, by crate name, from the workspace's
    /// `Cargo.lock` (`"unknown"` if absent; space-separated if the lockfile
    /// holds more than one version).
    pub crate_versions: BTreeMap<String, String>,
}

impl LabInfo {
    /// `version@commit`, with `+dirty` for a dirty tree: what resuming a
    /// sweep compares (with the scenario hash and the run key) to decide
    /// whether a stored result is this build's.
    pub fn build_id(&self) -> String {
        format!(
            "{}@{}{}",
            self.version,
            self.commit,
            if self.dirty { "+dirty" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_id_names_version_commit_and_a_dirty_tree() {
        let mut lab = LabInfo {
            version: "0.1.0".into(),
            commit: "abc".into(),
            dirty: false,
            crate_versions: BTreeMap::new(),
        };
        assert_eq!(lab.build_id(), "0.1.0@abc");
        lab.dirty = true;
        assert_eq!(lab.build_id(), "0.1.0@abc+dirty");
    }
}
