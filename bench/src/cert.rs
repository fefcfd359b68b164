//! `httplab cert`: the lab's certificate in PEM, the one `httplab serve`
//! presents unless given `--cert/--key`, for the tools that must trust it
//! (`curl --cacert`, `httplab get --cacert`, a browser's trust store).
//!
//! It is self-signed and issued for `server.httplab.test` and `localhost`;
//! its private key is public (it is in the source), so trust it only where
//! nothing else depends on that trust.

use std::path::Path;

use anyhow::{Context, Result};

/// The lab's certificate, PEM (`netsim::tls::Identity::minimal`'s trust
/// anchor, which is its own certificate).
pub fn pem() -> &'static str {
    &netsim::tls::identity().trust_anchor_pem
}

/// Print the certificate on stdout, or write it to `out` (atomically) and
/// say where on stderr.
pub fn run(out: Option<&Path>) -> Result<()> {
    match out {
        None => crate::console::out(pem()).context("writing the certificate to standard output"),
        Some(path) => {
            crate::results::write_atomic(path, pem().as_bytes())
                .with_context(|| format!("--out {}", path.display()))?;
            crate::note!(
                "wrote the lab's certificate (for {} and localhost) to {}",
                netsim::tls::SERVER_NAME,
                path.display()
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pem_is_the_certificate_serve_presents() {
        let id = netsim::tls::identity();
        assert!(pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(id.chain.len(), 1);
        let anchors = netsim::tls::real::TrustAnchors::from_certificates(
            vec![id.chain[0].clone()],
            "the lab",
        )
        .unwrap();
        assert_eq!(anchors.len(), 1);
        assert_eq!(pem(), id.cert_pem);
    }
}
