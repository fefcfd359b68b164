//! TLS on the machine's own sockets, for peers the lab does not control
//! (`httplab get` against any server, `httplab serve --cert/--key`).
//!
//! The simulation's configs (the rest of [`crate::tls`]) stay as they are:
//! one cipher suite, one key-exchange group and a stopped certificate clock,
//! so that every run's handshake has the same bytes. A real server may want
//! other choices (nghttpd accepts only P-256 key exchange) and issues
//! certificates by the real calendar, so the configs here take:
//!
//! - rustls's defaults with the ring provider: its cipher suites
//!   (TLS 1.3's AES-256-GCM, AES-128-GCM and ChaCha20-Poly1305, and the
//!   TLS 1.2 ECDHE suites), its key-exchange groups (X25519, P-256, P-384)
//!   and its protocol versions (TLS 1.3 and 1.2 over TCP; QUIC is TLS 1.3
//!   only, RFC 9001 section 4.2);
//! - the real clock for certificate validity (rustls's default time
//!   provider);
//! - trust from [`TrustAnchors`]: the operating system's store
//!   ([`TrustAnchors::system`], read with `rustls-native-certs`: on Linux
//!   `SSL_CERT_FILE`, `SSL_CERT_DIR`, else the distribution's bundle such
//!   as `/etc/ssl/certs/ca-certificates.crt`), or the certificates of a PEM
//!   file ([`TrustAnchors::from_pem_file`]); or no certificate check at all
//!   ([`client_tls`] with `None`: handshake signatures are still checked,
//!   the certificate is not, as `curl --insecure`).
//!
//! Client configs count their certificate checks as the simulation's do
//! ([`super::CertificateChecks`]), so the records tell a resumed handshake
//! from a full one the same way.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::{ClientResumption, ClientTls, ALPN_H3};

/// Why a real-socket TLS config could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RealTlsError {
    /// A PEM file could not be read or parsed.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A PEM file holds no certificate.
    #[error("{path}: no certificate in it (expected a PEM block '-----BEGIN CERTIFICATE-----')")]
    NoCertificate {
        /// The file.
        path: String,
    },
    /// A certificate cannot serve as a trust anchor.
    #[error(
        "{path}: certificate {index} (counting from 1) is not a usable trust anchor: {reason}"
    )]
    BadAnchor {
        /// The file.
        path: String,
        /// Which certificate of the file.
        index: usize,
        /// Why webpki refused it.
        reason: String,
    },
    /// The operating system's store has no usable certificate.
    #[error("no trusted root certificates in the system store{detail}")]
    NoSystemRoots {
        /// What the store's loader reported, with a leading `": "`, or empty.
        detail: String,
    },
    /// rustls refused a certificate chain and key as a server identity.
    #[error("the certificate {cert} and key {key} cannot be served: {reason}")]
    Identity {
        /// The certificate file.
        cert: String,
        /// The key file.
        key: String,
        /// rustls's reason (e.g. the key does not match the certificate).
        reason: String,
    },
}

/// The certificates a real-socket client trusts, and where they came from.
/// Never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustAnchors {
    certs: Vec<CertificateDer<'static>>,
    source: String,
}

impl TrustAnchors {
    /// The operating system's trust store (`rustls-native-certs`). Fails if
    /// it holds no certificate webpki can use; certificates it cannot use
    /// are left out.
    pub fn system() -> Result<TrustAnchors, RealTlsError> {
        let found = rustls_native_certs::load_native_certs();
        let mut store = rustls::RootCertStore::empty();
        let (added, _ignored) = store.add_parsable_certificates(found.certs.iter().cloned());
        if added == 0 {
            let errors: Vec<String> = found.errors.iter().map(|e| e.to_string()).collect();
            return Err(RealTlsError::NoSystemRoots {
                detail: if errors.is_empty() {
                    String::new()
                } else {
                    format!(": {}", errors.join("; "))
                },
            });
        }
        let usable = found
            .certs
            .into_iter()
            .filter(|c| webpki_anchor(c).is_ok())
            .collect();
        Ok(TrustAnchors {
            certs: usable,
            source: "the system trust store".to_owned(),
        })
    }

    /// Every certificate of the PEM file at `path` (other PEM blocks are
    /// skipped). Fails, naming the file, if it cannot be read, holds no
    /// certificate, or holds one that cannot be a trust anchor.
    pub fn from_pem_file(path: &Path) -> Result<TrustAnchors, RealTlsError> {
        let certs = read_certificates(path)?;
        let shown = path.display().to_string();
        for (i, cert) in certs.iter().enumerate() {
            webpki_anchor(cert).map_err(|reason| RealTlsError::BadAnchor {
                path: shown.clone(),
                index: i + 1,
                reason,
            })?;
        }
        Ok(TrustAnchors {
            certs,
            source: shown,
        })
    }

    /// Exactly `certs`, from `source` (a description for messages). Fails
    /// if there are none or one is not a usable trust anchor.
    pub fn from_certificates(
        certs: Vec<CertificateDer<'static>>,
        source: &str,
    ) -> Result<TrustAnchors, RealTlsError> {
        if certs.is_empty() {
            return Err(RealTlsError::NoCertificate {
                path: source.to_owned(),
            });
        }
        for (i, cert) in certs.iter().enumerate() {
            webpki_anchor(cert).map_err(|reason| RealTlsError::BadAnchor {
                path: source.to_owned(),
                index: i + 1,
                reason,
            })?;
        }
        Ok(TrustAnchors {
            certs,
            source: source.to_owned(),
        })
    }

    /// How many certificates are trusted.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Always `false`: a [`TrustAnchors`] is never empty.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Where they came from: a file's path, or `"the system trust store"`.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn store(&self) -> Arc<rustls::RootCertStore> {
        let mut store = rustls::RootCertStore::empty();
        store.add_parsable_certificates(self.certs.iter().cloned());
        Arc::new(store)
    }
}

/// Whether webpki can use `cert` as a trust anchor; its reason if not.
fn webpki_anchor(cert: &CertificateDer<'_>) -> Result<(), String> {
    rustls::RootCertStore::empty()
        .add(cert.clone().into_owned())
        .map_err(|e| e.to_string())
}

/// The certificates of the PEM file at `path`, in file order.
fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, RealTlsError> {
    let shown = path.display().to_string();
    let pem_error = |e: rustls::pki_types::pem::Error| RealTlsError::Pem {
        path: shown.clone(),
        reason: pem_reason(e),
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error)?;
    if certs.is_empty() {
        return Err(RealTlsError::NoCertificate { path: shown });
    }
    Ok(certs)
}

/// A PEM error in words.
fn pem_reason(e: rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match e {
        Error::Io(io) => io.to_string(),
        Error::NoItemsFound => "no PEM item of the expected kind in it".to_owned(),
        other => format!("not valid PEM ({other:?})"),
    }
}

/// rustls's default ring provider: every cipher suite and key-exchange
/// group rustls offers by default.
fn default_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The protocol versions for `alpn`: TLS 1.3 only for HTTP/3 (QUIC),
/// rustls's defaults (TLS 1.3 and 1.2) otherwise.
fn versions(alpn: &[&[u8]]) -> &'static [&'static rustls::SupportedProtocolVersion] {
    /// TLS 1.3 alone.
    static TLS13_ONLY: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    if alpn.contains(&ALPN_H3) {
        &TLS13_ONLY
    } else {
        rustls::DEFAULT_VERSIONS
    }
}

/// A server-certificate verifier that accepts every certificate, checking
/// only the handshake's signatures (that the peer holds the key of the
/// certificate it sent): `curl --insecure`.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A real-socket client TLS config for every connection of one run:
/// rustls's default suites, groups and versions (TLS 1.3 only when `alpn`
/// has `h3`), the real clock, and certificates checked by webpki against
/// `anchors`, or not at all with `None` (signatures still checked).
/// Offers exactly `alpn`; keeps and uses sessions as `resumption` says,
/// as [`super::client_tls`] does.
pub fn client_tls(
    alpn: &[&[u8]],
    anchors: Option<&TrustAnchors>,
    resumption: &ClientResumption,
) -> ClientTls {
    let provider = default_provider();
    let inner: Arc<dyn ServerCertVerifier> = match anchors {
        Some(anchors) => {
            WebPkiServerVerifier::builder_with_provider(anchors.store(), provider.clone())
                .build()
                .expect("tls: a TrustAnchors is never empty, so its verifier builds")
        }
        None => Arc::new(AnyCertificate {
            provider: provider.clone(),
        }),
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions(alpn))
        .expect("tls: the ring provider supports rustls's default versions");
    super::finish_client_tls(builder, inner, alpn, resumption, None)
}

/// A server's own certificate chain and private key, read from PEM files
/// (`httplab serve --cert FILE --key FILE`).
#[derive(Debug)]
pub struct ServerIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    cert_path: String,
    key_path: String,
}

impl ServerIdentity {
    /// The chain in `cert` (the server's certificate first, then its
    /// issuers, as servers send them) and the private key in `key` (PKCS#8,
    /// PKCS#1 or SEC1 PEM). Fails, naming the file, if either cannot be
    /// read or parsed, or if rustls refuses the pair (a key that does not
    /// match the certificate, an algorithm ring cannot sign with).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<ServerIdentity, RealTlsError> {
        let chain = read_certificates(cert)?;
        let key_path = key.display().to_string();
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| RealTlsError::Pem {
            path: key_path.clone(),
            reason: match e {
                rustls::pki_types::pem::Error::NoItemsFound => {
                    "no private key in it (expected a PEM block '-----BEGIN PRIVATE KEY-----', \
                     '-----BEGIN RSA PRIVATE KEY-----' or '-----BEGIN EC PRIVATE KEY-----')"
                        .to_owned()
                }
                other => pem_reason(other),
            },
        })?;
        let identity = ServerIdentity {
            chain,
            key: key_der,
            cert_path: cert.display().to_string(),
            key_path,
        };
        // Build once, so a key that does not fit the certificate fails
        // here, naming both files.
        identity.server_config(&[])?;
        Ok(identity)
    }

    /// The chain, the server's certificate first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The certificate file's path, as given.
    pub fn cert_path(&self) -> &str {
        &self.cert_path
    }

    fn server_config(&self, alpn: &[&[u8]]) -> Result<rustls::ServerConfig, RealTlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(default_provider())
            .with_protocol_versions(versions(alpn))
            .expect("tls: the ring provider supports rustls's default versions")
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| RealTlsError::Identity {
                cert: self.cert_path.clone(),
                key: self.key_path.clone(),
                reason: e.to_string(),
            })?;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        // As the lab's own server: every connection a full handshake.
        config.send_tls13_tickets = 0;
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        config.max_early_data_size = 0;
        Ok(config)
    }
}

/// A TLS-over-TCP server config presenting `identity`, offering `alpn` (in
/// order of preference): rustls's default suites, groups and versions, no
/// session resumption and no early data (every connection a full
/// handshake, as the lab's own server).
pub fn server_config(
    alpn: &[&[u8]],
    identity: &ServerIdentity,
) -> Result<Arc<rustls::ServerConfig>, RealTlsError> {
    identity.server_config(alpn).map(Arc::new)
}

/// [`server_config`] for QUIC (TLS 1.3 only), wrapped for quinn. Pass
/// `ALPN_H3` for HTTP/3.
pub fn quic_server_crypto(
    alpn: &[&[u8]],
    identity: &ServerIdentity,
) -> Result<Arc<quinn::crypto::rustls::QuicServerConfig>, RealTlsError> {
    let mut alpn_h3: Vec<&[u8]> = alpn.to_vec();
    if !alpn_h3.contains(&ALPN_H3) {
        // Only to pick QUIC's TLS 1.3: the config offers `alpn` alone.
        alpn_h3.push(ALPN_H3);
    }
    let mut config = identity.server_config(&alpn_h3)?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let config = quinn::crypto::rustls::QuicServerConfig::try_from(Arc::new(config)).expect(
        "tls: rustls's default suites include TLS13_AES_128_GCM_SHA256, QUIC's initial suite",
    );
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::{identity, ALPN_H2};
    use rustls::NamedGroup;

    fn scratch(name: &str, text: &str) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("httplab-real-tls-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn client_configs_offer_rustls_defaults_and_p256() {
        let anchors =
            TrustAnchors::from_certificates(vec![identity().cert_der.clone()], "lab").unwrap();
        let tcp = client_tls(&[ALPN_H2], Some(&anchors), &ClientResumption::Off);
        let groups: Vec<NamedGroup> = tcp
            .config
            .crypto_provider()
            .kx_groups
            .iter()
            .map(|g| g.name())
            .collect();
        assert!(groups.contains(&NamedGroup::secp256r1), "{groups:?}");
        assert!(groups.contains(&NamedGroup::X25519), "{groups:?}");
        assert!(tcp.config.crypto_provider().cipher_suites.len() > 1);
        let names = |alpn: &[&[u8]]| -> Vec<rustls::ProtocolVersion> {
            versions(alpn).iter().map(|v| v.version).collect()
        };
        use rustls::ProtocolVersion::{TLSv1_2, TLSv1_3};
        assert_eq!(names(&[ALPN_H2]), [TLSv1_3, TLSv1_2]);
        assert_eq!(names(&[ALPN_H3]), [TLSv1_3], "QUIC is TLS 1.3 only");
        let quic = client_tls(&[ALPN_H3], None, &ClientResumption::Off);
        assert_eq!(quic.config.alpn_protocols, [ALPN_H3.to_vec()]);
    }

    #[test]
    fn trust_files_that_cannot_be_used_are_named() {
        let missing = Path::new("/nonexistent/httplab/ca.pem");
        let e = TrustAnchors::from_pem_file(missing)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("/nonexistent/httplab/ca.pem: "), "{e}");
        let key_only = scratch("key-only.pem", "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPIyhqo0srui940v7u0bV+bFzJ1uIX8jGUahHRgHBmlO\n-----END PRIVATE KEY-----\n");
        let e = TrustAnchors::from_pem_file(&key_only).unwrap_err();
        assert!(matches!(e, RealTlsError::NoCertificate { .. }), "{e}");
        assert!(e.to_string().contains("BEGIN CERTIFICATE"), "{e}");
        let lab = scratch("lab.pem", &identity().cert_pem);
        let anchors = TrustAnchors::from_pem_file(&lab).unwrap();
        assert_eq!(
            (anchors.len(), anchors.source()),
            (1, lab.display().to_string().as_str())
        );
        for path in [key_only, lab] {
            let _ = std::fs::remove_file(path);
        }
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused_naming_both_files() {
        let cert = scratch("cert.pem", &identity().cert_pem);
        let other = rcgen::KeyPair::generate().unwrap();
        let key = scratch("other-key.pem", &other.serialize_pem());
        let e = ServerIdentity::from_pem_files(&cert, &key)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&cert.display().to_string()), "{e}");
        assert!(e.contains(&key.display().to_string()), "{e}");
        let not_a_key = scratch("not-a-key.pem", &identity().cert_pem);
        let e = ServerIdentity::from_pem_files(&cert, &not_a_key)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no private key"), "{e}");
        for path in [cert, key, not_a_key] {
            let _ = std::fs::remove_file(path);
        }
    }
}
