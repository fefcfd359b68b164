//! The lab's TLS identity and the rustls / quinn configs built from it.
//!
//! Every protocol in the lab (HTTP/1.1 and HTTP/2 over TLS over TCP, HTTP/3 over QUIC)
//! uses the same server identity and the same TLS parameters, so that handshake bytes
//! differ between protocols only where the protocols themselves differ:
//!
//! - one fixed Ed25519 key ([`identity`]), whose signatures always have the same length
//!   (an ECDSA signature's length varies by a byte or two from run to run);
//! - one self-signed certificate for [`SERVER_NAME`] (and `localhost`), generated from
//!   that key with fixed serial number and validity, so its DER bytes never change;
//! - TLS 1.3 only, cipher suite `TLS13_AES_128_GCM_SHA256` only, key exchange X25519 only;
//! - no session resumption and no early data: every run measures a full handshake;
//! - certificate validity is checked against a fixed date ([`CERTIFICATE_CHECK_TIME`]),
//!   never the wall clock, so a run verifies the same way whenever it is repeated.
//!
//! Randomness that remains (client and server random, key shares, QUIC connection IDs)
//! comes from the crypto provider. It changes bytes but never sizes.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};

use crate::settings::{bytes_text, on_off, pairs, Settings};

/// The server name the lab's certificate is issued for, and the name clients connect to.
pub const SERVER_NAME: &str = "server.httplab.test";

/// ALPN protocol id for HTTP/1.1.
pub const ALPN_HTTP1: &[u8] = b"http/1.1";
/// ALPN protocol id for HTTP/2 over TLS.
pub const ALPN_H2: &[u8] = b"h2";
/// ALPN protocol id for HTTP/3.
pub const ALPN_H3: &[u8] = b"h3";

/// The moment clients check the certificate's validity at: 2026-01-01T00:00:00Z, inside
/// the certificate's validity (2025-01-01 .. 2045-01-01).
///
/// rustls would otherwise read the wall clock for this check. A fixed time keeps the
/// lab's handshakes independent of when they run.
pub const CERTIFICATE_CHECK_TIME: Duration = Duration::from_secs(1_767_225_600);

/// The lab server's private key: Ed25519, PKCS#8, PEM.
///
/// This is a PUBLIC TEST KEY. It was generated once with `openssl genpkey -algorithm
/// ed25519` and is published with the source code, so it protects nothing. It exists
/// only so that every run uses the same key, and therefore the same certificate and the
/// same handshake sizes. Never use it outside the simulated network.
const LAB_KEY_PEM: &str = "\
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIPIyhqo0srui940v7u0bV+bFzJ1uIX8jGUahHRgHBmlO
-----END PRIVATE KEY-----
";

/// Serial number of the lab certificate. Fixed: rcgen would otherwise derive one.
const CERT_SERIAL: &[u8] = &[0x01];
/// Start of the lab certificate's validity (year, month, day), midnight UTC.
const CERT_NOT_BEFORE: (i32, u8, u8) = (2025, 1, 1);
/// End of the lab certificate's validity (year, month, day), midnight UTC.
const CERT_NOT_AFTER: (i32, u8, u8) = (2045, 1, 1);

/// The lab server's certificate and private key.
///
/// Built once per process by [`identity`]; the same bytes in every run.
#[derive(Debug)]
pub struct Identity {
    /// The self-signed certificate, DER-encoded. Clients trust exactly this certificate.
    pub cert_der: CertificateDer<'static>,
    /// The same certificate in PEM, for tools outside the lab (curl's
    /// `--cacert`, a browser's trust store).
    pub cert_pem: String,
    /// The Ed25519 private key, PKCS#8 DER.
    key_der: PrivateKeyDer<'static>,
}

impl Identity {
    /// A copy of the private key (PKCS#8 DER), for building a server config.
    pub fn clone_key(&self) -> PrivateKeyDer<'static> {
        self.key_der.clone_key()
    }
}

/// The lab's server identity: fixed key and certificate, built on first use.
pub fn identity() -> &'static Identity {
    static IDENTITY: OnceLock<Identity> = OnceLock::new();
    IDENTITY.get_or_init(build_identity)
}

/// Parses the fixed key and issues the certificate from it.
fn build_identity() -> Identity {
    let key_pair = lab_key_pair();
    let cert = lab_certificate(&key_pair);
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
    Identity {
        cert_der: cert.der().clone(),
        cert_pem: cert.pem(),
        key_der,
    }
}

/// The fixed key as an rcgen key pair.
fn lab_key_pair() -> rcgen::KeyPair {
    rcgen::KeyPair::from_pem(LAB_KEY_PEM)
        .expect("tls: the embedded lab key LAB_KEY_PEM is a valid Ed25519 PKCS#8 key")
}

/// Issues the self-signed lab certificate for `key_pair`.
///
/// Every field is fixed (names, serial, validity, extensions) and Ed25519 signatures are
/// deterministic, so the same key always gives the same DER bytes.
fn lab_certificate(key_pair: &rcgen::KeyPair) -> rcgen::Certificate {
    let mut params =
        rcgen::CertificateParams::new(vec![SERVER_NAME.to_string(), "localhost".to_string()])
            .expect("tls: SERVER_NAME and \"localhost\" are valid DNS names");
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::CommonName, SERVER_NAME);
    params.distinguished_name = name;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(CERT_SERIAL));
    let (y, m, d) = CERT_NOT_BEFORE;
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = CERT_NOT_AFTER;
    params.not_after = rcgen::date_time_ymd(y, m, d);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params
        .self_signed(key_pair)
        .expect("tls: self-signing the lab certificate with the lab key cannot fail")
}

/// The ring provider cut down to the lab's single choices.
///
/// Only `TLS13_AES_128_GCM_SHA256` is offered, so TLS over TCP and QUIC (whose Initial
/// packets always use AES-128-GCM) run the same cipher with the same record overhead
/// under every protocol. Only X25519 is offered, so the key share is always 32 bytes and
/// no HelloRetryRequest can happen.
fn lab_provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256];
    provider.kx_groups = vec![rustls::crypto::ring::kx_group::X25519];
    Arc::new(provider)
}

/// rustls's clock for certificate checks, stopped at [`CERTIFICATE_CHECK_TIME`].
#[derive(Debug)]
struct LabCertificateClock;

impl rustls::time_provider::TimeProvider for LabCertificateClock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(CERTIFICATE_CHECK_TIME))
    }
}

/// A server TLS config presenting the lab identity.
///
/// TLS 1.3 only, `TLS13_AES_128_GCM_SHA256` only, X25519 only; offers the protocols in
/// `alpn` (in order of preference). Session tickets and the session cache are off and no
/// early data is accepted, so every connection is a full handshake. Secrets go to
/// `key_log` when one is given.
pub fn server_config(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
) -> Arc<rustls::ServerConfig> {
    let id = identity();
    let mut config =
        rustls::ServerConfig::builder_with_details(lab_provider(), Arc::new(LabCertificateClock))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("tls: the ring provider supports TLS 1.3 with TLS13_AES_128_GCM_SHA256")
            .with_no_client_auth()
            .with_single_cert(vec![id.cert_der.clone()], id.clone_key())
            .expect("tls: the lab certificate matches the lab Ed25519 key");
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config.send_tls13_tickets = 0;
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    config.max_early_data_size = 0;
    if let Some(key_log) = key_log {
        config.key_log = key_log;
    }
    Arc::new(config)
}

/// A client TLS config that trusts only the lab certificate.
///
/// TLS 1.3 only, `TLS13_AES_128_GCM_SHA256` only, X25519 only; offers the protocols in
/// `alpn`. Resumption and early data are off, so every connection is a full handshake.
/// Connect with the server name [`SERVER_NAME`]. Secrets go to `key_log` when one is
/// given.
pub fn client_config(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(identity().cert_der.clone())
        .expect("tls: the lab certificate is a valid trust anchor");
    let mut config =
        rustls::ClientConfig::builder_with_details(lab_provider(), Arc::new(LabCertificateClock))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("tls: the ring provider supports TLS 1.3 with TLS13_AES_128_GCM_SHA256")
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config.resumption = rustls::client::Resumption::disabled();
    config.enable_early_data = false;
    if let Some(key_log) = key_log {
        config.key_log = key_log;
    }
    Arc::new(config)
}

/// [`server_config`] wrapped for quinn.
///
/// QUIC requires TLS 1.3, and `TLS13_AES_128_GCM_SHA256` is also the suite QUIC's
/// Initial packets use. 0-RTT is not accepted. Pass `ALPN_H3` for HTTP/3.
pub fn quic_server_crypto(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
) -> Arc<quinn::crypto::rustls::QuicServerConfig> {
    let config = quinn::crypto::rustls::QuicServerConfig::try_from(server_config(alpn, key_log))
        .expect("tls: the lab provider offers TLS13_AES_128_GCM_SHA256, QUIC's initial suite");
    Arc::new(config)
}

/// [`client_config`] wrapped for quinn.
///
/// QUIC requires TLS 1.3, and `TLS13_AES_128_GCM_SHA256` is also the suite QUIC's
/// Initial packets use. No 0-RTT is attempted. Pass `ALPN_H3` for HTTP/3.
pub fn quic_client_crypto(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
) -> Arc<quinn::crypto::rustls::QuicClientConfig> {
    let config = quinn::crypto::rustls::QuicClientConfig::try_from(client_config(alpn, key_log))
        .expect("tls: the lab provider offers TLS13_AES_128_GCM_SHA256, QUIC's initial suite");
    Arc::new(config)
}

/// The lab's TLS settings as text for a report, read from the config
/// [`server_config`] builds (the one every lab server uses): `rustls` with
/// its protocol versions, cipher suites, key-exchange groups, certificate
/// and resumption.
pub fn settings() -> Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(read_settings).clone()
}

/// [`settings`], read afresh.
fn read_settings() -> Settings {
    let config = server_config(&[], None);
    let provider = config.crypto_provider();
    let mut versions: Vec<String> = Vec::new();
    for suite in &provider.cipher_suites {
        let v = version_name(suite.version().version);
        if !versions.contains(&v) {
            versions.push(v);
        }
    }
    let suites: Vec<String> = provider
        .cipher_suites
        .iter()
        .map(|s| format!("{:?}", s.suite()))
        .collect();
    let groups: Vec<String> = provider
        .kx_groups
        .iter()
        .map(|g| format!("{:?}", g.name()))
        .collect();
    let id = identity();
    let key = match provider.key_provider.load_private_key(id.clone_key()) {
        Ok(key) => format!("{:?}", key.algorithm()),
        Err(e) => format!("unreadable ({e})"),
    };
    let tickets = config.send_tls13_tickets;
    Settings::new(
        "rustls",
        pairs([
            ("versions", versions.join(", ")),
            ("cipher_suites", suites.join(", ")),
            ("key_exchange", groups.join(", ")),
            (
                "certificate",
                format!(
                    "self-signed X.509, {key} key, one certificate of {}",
                    bytes_text(id.cert_der.len())
                ),
            ),
            (
                "session_tickets",
                if tickets == 0 {
                    "0 (no resumption: every connection is a full handshake)".to_owned()
                } else {
                    tickets.to_string()
                },
            ),
            ("early_data", on_off(config.max_early_data_size > 0)),
        ]),
    )
}

/// `"TLS 1.3"` for TLS 1.3, and so on.
fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_owned(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_owned(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::KeyLogCollector;
    use rustls::pki_types::ServerName;
    use rustls::{CipherSuite, HandshakeKind, NamedGroup, ProtocolVersion};
    use std::io::{Read, Write};

    /// Bytes each side put on the wire during one handshake.
    #[derive(Debug, PartialEq, Eq)]
    struct WireBytes {
        client_to_server: usize,
        server_to_client: usize,
    }

    fn server_name() -> ServerName<'static> {
        ServerName::try_from(SERVER_NAME).unwrap()
    }

    /// Moves every pending TLS record from `from` to `to`; returns the byte count.
    fn transfer(from: &mut rustls::Connection, to: &mut rustls::Connection) -> usize {
        let mut wire = Vec::new();
        while from.wants_write() {
            from.write_tls(&mut wire).unwrap();
        }
        let mut rest = &wire[..];
        while !rest.is_empty() {
            to.read_tls(&mut rest).unwrap();
            to.process_new_packets().expect("peer accepts the records");
        }
        wire.len()
    }

    /// Runs a TLS handshake between the two connections over an in-memory pipe.
    fn handshake(client: &mut rustls::Connection, server: &mut rustls::Connection) -> WireBytes {
        let mut bytes = WireBytes {
            client_to_server: 0,
            server_to_client: 0,
        };
        for _ in 0..10 {
            if !client.is_handshaking() && !server.is_handshaking() {
                return bytes;
            }
            bytes.client_to_server += transfer(client, server);
            bytes.server_to_client += transfer(server, client);
        }
        panic!("handshake did not finish in 10 round trips");
    }

    fn connect(
        client_cfg: &Arc<rustls::ClientConfig>,
        server_cfg: &Arc<rustls::ServerConfig>,
    ) -> (rustls::Connection, rustls::Connection, WireBytes) {
        let mut client = rustls::Connection::Client(
            rustls::ClientConnection::new(client_cfg.clone(), server_name()).unwrap(),
        );
        let mut server =
            rustls::Connection::Server(rustls::ServerConnection::new(server_cfg.clone()).unwrap());
        let bytes = handshake(&mut client, &mut server);
        (client, server, bytes)
    }

    fn labels(lines: &[String]) -> Vec<&str> {
        let mut labels: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
        labels.sort_unstable();
        labels
    }

    #[test]
    fn settings_are_read_from_the_server_config() {
        let s = settings();
        assert_eq!(s.name, "rustls");
        assert_eq!(s.get("versions"), Some("TLS 1.3"));
        assert_eq!(s.get("cipher_suites"), Some("TLS13_AES_128_GCM_SHA256"));
        assert_eq!(s.get("key_exchange"), Some("X25519"));
        let cert = s.get("certificate").unwrap_or_default();
        assert!(cert.contains("ED25519"), "{cert}");
        assert!(
            cert.contains(&format!("{} bytes", identity().cert_der.len())),
            "{cert}"
        );
        assert_eq!(s.get("early_data"), Some("off"));
    }

    #[test]
    fn certificate_is_identical_across_generations() {
        let first = lab_certificate(&lab_key_pair());
        let second = lab_certificate(&lab_key_pair());
        assert_eq!(first.der().as_ref(), second.der().as_ref());
        assert_eq!(identity().cert_der.as_ref(), first.der().as_ref());
    }

    /// The certificate's bytes are pinned across processes and builds. If this fails after
    /// a dependency upgrade, handshake sizes may have changed: note it in the results.
    #[test]
    fn certificate_bytes_are_pinned() {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(identity().cert_der.as_ref());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "df005772814bae0b1706c4bac637f6d577cfa73d348fa5dde03fb5d0e2e8ceaf"
        );
    }

    #[test]
    fn identity_key_is_the_embedded_ed25519_key() {
        let key = identity().clone_key();
        let PrivateKeyDer::Pkcs8(pkcs8) = &key else {
            panic!("lab key is not PKCS#8: {key:?}");
        };
        let key_pair = rcgen::KeyPair::try_from(pkcs8.secret_pkcs8_der()).unwrap();
        assert_eq!(key_pair.algorithm(), &rcgen::PKCS_ED25519);
        assert_eq!(key_pair.public_key_raw(), lab_key_pair().public_key_raw());
    }

    #[test]
    fn tls13_handshake_over_tcp_style_pipe() {
        let client_keys = KeyLogCollector::new();
        let server_keys = KeyLogCollector::new();
        let client_cfg = client_config(&[ALPN_H2, ALPN_HTTP1], Some(client_keys.clone()));
        let server_cfg = server_config(&[ALPN_H2, ALPN_HTTP1], Some(server_keys.clone()));
        let (mut client, mut server, _) = connect(&client_cfg, &server_cfg);

        for conn in [&client, &server] {
            assert_eq!(conn.protocol_version(), Some(ProtocolVersion::TLSv1_3));
            assert_eq!(
                conn.negotiated_cipher_suite().map(|s| s.suite()),
                Some(CipherSuite::TLS13_AES_128_GCM_SHA256)
            );
            assert_eq!(
                conn.negotiated_key_exchange_group().map(|g| g.name()),
                Some(NamedGroup::X25519)
            );
            assert_eq!(conn.alpn_protocol(), Some(ALPN_H2));
            assert_eq!(conn.handshake_kind(), Some(HandshakeKind::Full));
        }

        client.writer().write_all(b"GET / HTTP/1.1\r\n").unwrap();
        transfer(&mut client, &mut server);
        let mut request = [0u8; 16];
        server.reader().read_exact(&mut request).unwrap();
        assert_eq!(&request, b"GET / HTTP/1.1\r\n");

        let client_lines = client_keys.lines();
        assert_eq!(
            labels(&client_lines),
            [
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                "CLIENT_TRAFFIC_SECRET_0",
                "EXPORTER_SECRET",
                "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                "SERVER_TRAFFIC_SECRET_0",
            ]
        );
        // Both ends derive the same secrets for the same client random.
        let mut client_sorted = client_lines.clone();
        let mut server_sorted = server_keys.lines();
        client_sorted.sort();
        server_sorted.sort();
        assert_eq!(client_sorted, server_sorted);
    }

    #[test]
    fn alpn_settles_on_the_protocol_both_offer() {
        let client_cfg = client_config(&[ALPN_HTTP1], None);
        let server_cfg = server_config(&[ALPN_H2, ALPN_HTTP1], None);
        let (client, server, _) = connect(&client_cfg, &server_cfg);
        assert_eq!(client.alpn_protocol(), Some(ALPN_HTTP1));
        assert_eq!(server.alpn_protocol(), Some(ALPN_HTTP1));
    }

    #[test]
    fn certificate_also_names_localhost() {
        let mut client = rustls::Connection::Client(
            rustls::ClientConnection::new(
                client_config(&[ALPN_H2], None),
                ServerName::try_from("localhost").unwrap(),
            )
            .unwrap(),
        );
        let mut server = rustls::Connection::Server(
            rustls::ServerConnection::new(server_config(&[ALPN_H2], None)).unwrap(),
        );
        handshake(&mut client, &mut server);
        assert_eq!(client.alpn_protocol(), Some(ALPN_H2));
    }

    #[test]
    fn every_handshake_is_full_and_the_same_size() {
        let client_cfg = client_config(&[ALPN_H2], None);
        let server_cfg = server_config(&[ALPN_H2], None);
        let (first_client, _, first_bytes) = connect(&client_cfg, &server_cfg);
        let (second_client, _, second_bytes) = connect(&client_cfg, &server_cfg);

        assert_eq!(first_client.handshake_kind(), Some(HandshakeKind::Full));
        assert_eq!(second_client.handshake_kind(), Some(HandshakeKind::Full));
        assert_eq!(first_bytes, second_bytes);
    }

    #[test]
    fn client_rejects_a_certificate_it_was_not_given() {
        let other_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let other_cert = rcgen::CertificateParams::new(vec![SERVER_NAME.to_string()])
            .unwrap()
            .self_signed(&other_key)
            .unwrap();
        let impostor = rustls::ServerConfig::builder_with_provider(lab_provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![other_cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(other_key.serialize_der())),
            )
            .unwrap();

        let mut client = rustls::Connection::Client(
            rustls::ClientConnection::new(client_config(&[ALPN_H2], None), server_name()).unwrap(),
        );
        let mut server =
            rustls::Connection::Server(rustls::ServerConnection::new(Arc::new(impostor)).unwrap());
        let mut wire = Vec::new();
        client.write_tls(&mut wire).unwrap();
        server.read_tls(&mut &wire[..]).unwrap();
        server.process_new_packets().unwrap();
        wire.clear();
        while server.wants_write() {
            server.write_tls(&mut wire).unwrap();
        }
        client.read_tls(&mut &wire[..]).unwrap();
        let err = client.process_new_packets().unwrap_err();
        assert!(
            matches!(err, rustls::Error::InvalidCertificate(_)),
            "unexpected error: {err:?}"
        );
    }

    /// Runs a QUIC-TLS handshake (rustls's QUIC API, no packets) with the configs quinn
    /// gets; each `write_hs` chunk belongs to one encryption level and is delivered alone.
    #[test]
    fn quic_configs_complete_a_quic_handshake_with_h3() {
        // quinn accepts both configs.
        let _ = quic_server_crypto(&[ALPN_H3], None);
        let _ = quic_client_crypto(&[ALPN_H3], None);

        let keys = KeyLogCollector::new();
        let mut client = rustls::quic::Connection::Client(
            rustls::quic::ClientConnection::new(
                client_config(&[ALPN_H3], Some(keys.clone())),
                rustls::quic::Version::V1,
                server_name(),
                b"client transport parameters".to_vec(),
            )
            .unwrap(),
        );
        let mut server = rustls::quic::Connection::Server(
            rustls::quic::ServerConnection::new(
                server_config(&[ALPN_H3], None),
                rustls::quic::Version::V1,
                b"server transport parameters".to_vec(),
            )
            .unwrap(),
        );

        fn deliver(from: &mut rustls::quic::Connection, to: &mut rustls::quic::Connection) {
            loop {
                let mut chunk = Vec::new();
                let key_change = from.write_hs(&mut chunk);
                if !chunk.is_empty() {
                    to.read_hs(&chunk).unwrap();
                }
                if chunk.is_empty() && key_change.is_none() {
                    return;
                }
            }
        }
        for _ in 0..10 {
            deliver(&mut client, &mut server);
            deliver(&mut server, &mut client);
        }

        for conn in [&client, &server] {
            assert!(!conn.is_handshaking());
            assert_eq!(conn.alpn_protocol(), Some(ALPN_H3));
            assert_eq!(
                conn.negotiated_cipher_suite().map(|s| s.suite()),
                Some(CipherSuite::TLS13_AES_128_GCM_SHA256)
            );
        }
        assert_eq!(
            server.quic_transport_parameters(),
            Some(&b"client transport parameters"[..])
        );
        assert!(labels(&keys.lines()).contains(&"CLIENT_HANDSHAKE_TRAFFIC_SECRET"));
    }
}
