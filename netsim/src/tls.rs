//! The lab's TLS identities and the rustls / quinn configs built from them.
//!
//! Every protocol in the lab (HTTP/1.1 and HTTP/2 over TLS over TCP, HTTP/3 over QUIC)
//! uses the same server identity and the same TLS parameters, so that handshake bytes
//! differ between protocols only where the protocols themselves differ.
//!
//! A run presents one of two identities ([`Identity`]; the scenario's `certificate`
//! chooses, `SimConfig::certificate` carries it, servers and clients read it from their
//! host):
//!
//! - [`Identity::minimal`], the default (also [`identity`]):
//!   one fixed Ed25519 key, whose signatures always have the same length (an ECDSA
//!   signature's length varies by a byte or two from run to run), and one self-signed
//!   certificate for [`SERVER_NAME`] (and `localhost`), generated from that key with fixed
//!   serial number and validity, so its DER bytes (304) never change. Clients trust exactly
//!   that certificate.
//! - [`Identity::realistic`]: a chain shaped like Let's
//!   Encrypt's historic default one: a leaf with an RSA-2048 key (RSA signatures are always
//!   as long as the modulus, 256 bytes), issued by an intermediate, issued by a root; the
//!   server sends leaf, intermediate and the root cross-signed by an older root (4053 bytes
//!   of certificates), and clients trust only the self-signed root, checked by webpki's
//!   path building as a browser does. The certificates were generated once and are
//!   embedded from `netsim/certs/realistic/` (see its `generate.sh`).
//!
//! Both use the same TLS parameters:
//!
//! - TLS 1.3 only, cipher suite `TLS13_AES_128_GCM_SHA256` only, key exchange X25519 only;
//! - by default no session resumption and no early data: every connection is a full
//!   handshake. Resumption is opt-in on both sides ([`ServerResumption`],
//!   [`ClientResumption`]), for the runs that measure it;
//! - certificate validity is checked against a fixed date ([`CERTIFICATE_CHECK_TIME`]),
//!   never the wall clock, so a run verifies the same way whenever it is repeated. The
//!   same fixed clock stamps and checks session tickets, so a ticket's age is always 0
//!   and its freshness never depends on when a run happens.
//!
//! Peers outside the lab (any server `httplab get` fetches from, a server presenting its
//! own certificate) get rustls's defaults and the real clock instead: [`real`].
//!
//! Randomness that remains (client and server random, key shares, QUIC connection IDs,
//! session ids and ticket nonces) comes from the crypto provider. It changes bytes but
//! never sizes.
//!
//! # Resumption
//!
//! With [`ServerResumption::On`] the server keeps its sessions in a cache of its own
//! (stateful resumption: a ticket is the 32-byte id of a cached session, used once).
//! rustls accepts early data only with stateful resumption, and the ticket's size never
//! depends on the session. A client with a [`ClientResumption`] other than `Off` keeps
//! the tickets it receives in a [`SessionCache`] shared by the connections of its run,
//! and offers one in its next handshake with that server.
//!
//! rustls resumes a session only with the very config (the same certificate verifier)
//! that received its ticket, so a client builds one config per run ([`client_tls`]) and
//! opens every connection of the run with it.
//!
//! Whether a handshake resumed: rustls says so for TLS over TCP
//! (`handshake_kind()`), but quinn does not pass it on. So every client config built
//! here counts its certificate checks ([`CertificateChecks`]): in TLS 1.3 the server
//! presents its certificate only in a full handshake, so a handshake that completed
//! while no certificate was checked resumed a session (tested against rustls's own
//! answer below).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ClientSessionMemoryCache, ClientSessionStore, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::ServerSessionMemoryCache;
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::settings::{bytes_text, on_off, pairs, Settings};

pub mod real;

/// The server name the lab's certificate is issued for, and the name clients connect to
/// (defined with the page model, whose document origin it is).
pub use scenarios::SERVER_NAME;

/// ALPN protocol id for HTTP/1.1.
pub const ALPN_HTTP1: &[u8] = b"http/1.1";
/// ALPN protocol id for HTTP/2 over TLS.
pub const ALPN_H2: &[u8] = b"h2";
/// ALPN protocol id for HTTP/3.
pub const ALPN_H3: &[u8] = b"h3";

/// The moment clients check the certificate's validity at: 2026-01-01T00:00:00Z, inside
/// the validity of every certificate the lab presents (the minimal one's: 2025-01-01 ..
/// 2045-01-01; the realistic leaf's, the shortest of its chain: 2025-11-15 .. 2026-02-13).
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

/// A lab server's certificates and private key, and the certificate its clients trust.
///
/// Built once per process ([`Identity::minimal`], [`Identity::realistic`]); the same bytes
/// in every run.
///
/// Which one a run uses is the scenario's `certificate` (`scenarios::Certificate`, the
/// lab's one name for the choice); `SimConfig::certificate` carries the identity itself,
/// and the lab's servers and clients read it from their host (`Host::certificate`).
/// Identities compare by [`Identity::name`].
#[derive(Debug)]
pub struct Identity {
    /// Which identity this is: `"minimal"` (one self-signed Ed25519 certificate of 304
    /// bytes, which clients trust directly; the default) or `"realistic"` (leaf with an
    /// RSA-2048 key, intermediate and cross-signed root, 4053 bytes of certificates;
    /// clients trust only the self-signed root, which is not sent).
    pub name: &'static str,
    /// The names its end-entity certificate is issued for: [`SERVER_NAME`],
    /// `localhost`, and for a minimal identity from [`Identity::covering`]
    /// the page's other origins.
    pub names: Vec<String>,
    /// The server's own (end-entity) certificate, DER-encoded: `chain[0]`.
    pub cert_der: CertificateDer<'static>,
    /// The same certificate in PEM. For [`Identity::minimal()`] it is also the trust
    /// anchor, for tools outside the lab (curl's `--cacert`, a browser's trust store).
    pub cert_pem: String,
    /// The certificates the server sends, in its Certificate message's order: the
    /// end-entity certificate first, then each issuer.
    pub chain: Vec<CertificateDer<'static>>,
    /// The one certificate clients trust, DER: the minimal identity's own certificate,
    /// or the realistic chain's self-signed root (which the server never sends).
    pub trust_anchor: CertificateDer<'static>,
    /// [`Identity::trust_anchor`] in PEM, for tools outside the lab.
    pub trust_anchor_pem: String,
    /// The end-entity certificate's private key, PKCS#8 DER.
    key_der: PrivateKeyDer<'static>,
}

impl PartialEq for Identity {
    fn eq(&self, other: &Identity) -> bool {
        self.name == other.name && self.cert_der == other.cert_der
    }
}

impl Eq for Identity {}

impl Identity {
    /// The minimal identity ([`Identity::minimal()`]): the fixed Ed25519 key and its
    /// self-signed certificate, built on first use.
    pub fn minimal() -> &'static Identity {
        static IDENTITY: OnceLock<Identity> = OnceLock::new();
        IDENTITY.get_or_init(build_identity)
    }

    /// The realistic identity ([`Identity::realistic()`]): the embedded chain and leaf
    /// key of `netsim/certs/realistic/`, parsed on first use.
    pub fn realistic() -> &'static Identity {
        static IDENTITY: OnceLock<Identity> = OnceLock::new();
        IDENTITY.get_or_init(build_realistic_identity)
    }

    /// An identity of the same kind whose certificate also covers `names`
    /// (the origins of a page, all served by the lab's server): `self` if it
    /// already does; for the minimal identity, the same key with a
    /// certificate issued for [`SERVER_NAME`], `localhost` and the other
    /// names in sorted order (built once per set of names, the same bytes
    /// every time). The realistic chain is issued for [`SERVER_NAME`] and
    /// `localhost` only and cannot be re-issued: the error names the names
    /// it does not cover.
    pub fn covering(&'static self, names: &[String]) -> Result<&'static Identity, String> {
        let mut extra: Vec<String> = names
            .iter()
            .filter(|n| n.as_str() != SERVER_NAME && n.as_str() != "localhost")
            .cloned()
            .collect();
        extra.sort();
        extra.dedup();
        if extra.is_empty() {
            return Ok(self);
        }
        if self.name != "minimal" {
            return Err(format!(
                "the {} certificate chain is issued for {SERVER_NAME} and localhost only, not \
                 for {}",
                self.name,
                extra.join(", ")
            ));
        }
        let cache = COVERING.get_or_init(Mutex::default);
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, id)) = cache.iter().find(|(n, _)| *n == extra) {
            return Ok(id);
        }
        let identity: &'static Identity = Box::leak(Box::new(build_identity_for(&extra)?));
        cache.push((extra, identity));
        Ok(identity)
    }

    /// A copy of the private key (PKCS#8 DER), for building a server config.
    pub fn clone_key(&self) -> PrivateKeyDer<'static> {
        self.key_der.clone_key()
    }

    /// Bytes of DER the server sends: the sum of [`Identity::chain`]'s certificates.
    pub fn chain_bytes(&self) -> usize {
        self.chain.iter().map(|c| c.len()).sum()
    }

    /// Bytes of the TLS 1.3 Certificate handshake message that carries the chain
    /// (RFC 8446 section 4.4.2): a 4-byte message header, an empty request context
    /// (1 byte), the list's 3-byte length, and per certificate a 3-byte length, its DER
    /// and 2 bytes of (empty) extensions. The lab's servers send no OCSP staple or SCT
    /// extension.
    pub fn certificate_message_bytes(&self) -> usize {
        4 + 1 + 3 + self.chain.iter().map(|c| 3 + c.len() + 2).sum::<usize>()
    }
}

/// The lab's minimal server identity ([`Identity::minimal`]): fixed key and
/// self-signed certificate, built on first use.
pub fn identity() -> &'static Identity {
    Identity::minimal()
}

/// The realistic leaf's private key: RSA-2048, PKCS#8, PEM.
///
/// This is a PUBLIC TEST KEY, like every key in `netsim/certs/realistic/`: generated once
/// by its `generate.sh` and published with the source code, so it protects nothing. It
/// exists only so that every run presents the same chain. Never use it outside the
/// simulated network.
const REALISTIC_LEAF_KEY_PEM: &str = include_str!("../certs/realistic/leaf.key");
/// The realistic chain as the server sends it: leaf (`server.httplab.test`, issued by
/// R3), intermediate (R3, issued by httplab Root X1), and httplab Root X1 cross-signed by
/// httplab Legacy Root CA X3 (so that a client trusting only the legacy root could build
/// a path too, as Let's Encrypt's chain did for old Android devices).
const REALISTIC_CHAIN_PEM: [&str; 3] = [
    include_str!("../certs/realistic/leaf.pem"),
    include_str!("../certs/realistic/intermediate.pem"),
    include_str!("../certs/realistic/root-cross.pem"),
];
/// The realistic chain's trust anchor: httplab Root X1, self-signed (RSA-4096).
const REALISTIC_ROOT_PEM: &str = include_str!("../certs/realistic/root.pem");

/// Parses the embedded realistic chain, root and leaf key.
fn build_realistic_identity() -> Identity {
    let parse = |pem: &str| {
        CertificateDer::from_pem_slice(pem.as_bytes())
            .expect("tls: the embedded certs/realistic PEM files hold one certificate each")
    };
    let chain: Vec<CertificateDer<'static>> =
        REALISTIC_CHAIN_PEM.iter().map(|p| parse(p)).collect();
    let key_der = PrivateKeyDer::from_pem_slice(REALISTIC_LEAF_KEY_PEM.as_bytes())
        .expect("tls: the embedded certs/realistic/leaf.key is a PKCS#8 key");
    Identity {
        name: "realistic",
        names: vec![SERVER_NAME.to_owned(), "localhost".to_owned()],
        cert_der: chain[0].clone(),
        cert_pem: REALISTIC_CHAIN_PEM[0].to_owned(),
        chain,
        trust_anchor: parse(REALISTIC_ROOT_PEM),
        trust_anchor_pem: REALISTIC_ROOT_PEM.to_owned(),
        key_der,
    }
}

/// Minimal identities for other sets of names ([`Identity::covering`]), by
/// their extra names.
type Covering = Mutex<Vec<(Vec<String>, &'static Identity)>>;
static COVERING: OnceLock<Covering> = OnceLock::new();

/// Parses the fixed key and issues the certificate from it.
fn build_identity() -> Identity {
    build_identity_for(&[]).expect("tls: the lab's own names are valid DNS names")
}

/// The minimal identity with a certificate also issued for `extra` names.
fn build_identity_for(extra: &[String]) -> Result<Identity, String> {
    let key_pair = lab_key_pair();
    let cert = lab_certificate(&key_pair, extra)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
    let mut names = vec![SERVER_NAME.to_owned(), "localhost".to_owned()];
    names.extend(extra.iter().cloned());
    Ok(Identity {
        name: "minimal",
        names,
        cert_der: cert.der().clone(),
        cert_pem: cert.pem(),
        chain: vec![cert.der().clone()],
        trust_anchor: cert.der().clone(),
        trust_anchor_pem: cert.pem(),
        key_der,
    })
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
fn lab_certificate(
    key_pair: &rcgen::KeyPair,
    extra: &[String],
) -> Result<rcgen::Certificate, String> {
    let mut names = vec![SERVER_NAME.to_string(), "localhost".to_string()];
    names.extend(extra.iter().cloned());
    let mut params = rcgen::CertificateParams::new(names)
        .map_err(|e| format!("a certificate for {}: {e}", extra.join(", ")))?;
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::CommonName, SERVER_NAME);
    params.distinguished_name = name;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(CERT_SERIAL));
    let (y, m, d) = CERT_NOT_BEFORE;
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = CERT_NOT_AFTER;
    params.not_after = rcgen::date_time_ymd(y, m, d);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.self_signed(key_pair).map_err(|e| {
        format!(
            "self-signing the lab certificate for {}: {e}",
            extra.join(", ")
        )
    })
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

/// Tickets a server with [`ServerResumption::On`] sends after each handshake: 2, rustls's
/// and OpenSSL's default. TLS 1.3 tickets are single-use, so each ticket allows one
/// resumed connection.
pub const TICKETS_PER_CONNECTION: usize = 2;

/// Sessions a server with [`ServerResumption::On`] keeps (each ticket it issues is the id
/// of one): 1024, far more than any run's connections use.
pub const SERVER_SESSION_CACHE: usize = 1024;

/// Most early data a TLS-over-TCP server with [`ServerResumption::On`] accepts per
/// connection: 16 KiB, one full TLS record, room for any request the lab's clients send
/// (with HTTP/2's connection preface and settings). QUIC's 0-RTT is limited by QUIC's
/// own flow control instead (quinn requires rustls's limit to be unlimited).
pub const TCP_EARLY_DATA_LIMIT: u32 = 16 * 1024;

/// What a server does with TLS sessions. Default: [`ServerResumption::Off`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ServerResumption {
    /// No tickets, no session cache, no early data: every handshake is a full one. The
    /// lab's default, used by every run that does not measure resumption.
    #[default]
    Off,
    /// Resumption and early data, as a server tuned for latency runs them:
    /// [`TICKETS_PER_CONNECTION`] tickets after each handshake (stateful: ids into a
    /// cache of [`SERVER_SESSION_CACHE`] sessions, each used once); early data accepted
    /// (up to [`TCP_EARLY_DATA_LIMIT`] over TCP, QUIC 0-RTT without a TLS limit); and
    /// application data allowed right after the server's first flight (0.5-RTT data),
    /// so that a request that came as early data is answered in the same round trip.
    On,
}

/// A server TLS config presenting the minimal identity, with no resumption.
///
/// TLS 1.3 only, `TLS13_AES_128_GCM_SHA256` only, X25519 only; offers the protocols in
/// `alpn` (in order of preference). Session tickets and the session cache are off and no
/// early data is accepted, so every connection is a full handshake. Secrets go to
/// `key_log` when one is given. The same as [`server_config_with`] and
/// [`ServerResumption::Off`].
pub fn server_config(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
) -> Arc<rustls::ServerConfig> {
    server_config_with(alpn, key_log, ServerResumption::Off)
}

/// A TLS-over-TCP server config presenting the minimal identity, with `resumption`.
///
/// As [`server_config`]; with [`ServerResumption::On`] it issues tickets, accepts up to
/// [`TCP_EARLY_DATA_LIMIT`] bytes of early data and may send 0.5-RTT data. The session
/// cache belongs to the returned config: share the config among a server's connections
/// so that a ticket from one is honoured by the next. The same as [`server_config_for`]
/// and [`Identity::minimal()`].
pub fn server_config_with(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
    resumption: ServerResumption,
) -> Arc<rustls::ServerConfig> {
    server_config_for(alpn, key_log, resumption, Identity::minimal())
}

/// [`server_config_with`], presenting `certificate`'s chain (signing with its leaf key).
pub fn server_config_for(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
    resumption: ServerResumption,
    identity: &'static Identity,
) -> Arc<rustls::ServerConfig> {
    Arc::new(build_server_config(
        alpn,
        key_log,
        resumption,
        TCP_EARLY_DATA_LIMIT,
        identity,
    ))
}

/// The server config; `early_data_limit` applies only with [`ServerResumption::On`].
fn build_server_config(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
    resumption: ServerResumption,
    early_data_limit: u32,
    identity: &'static Identity,
) -> rustls::ServerConfig {
    let id = identity;
    let mut config =
        rustls::ServerConfig::builder_with_details(lab_provider(), Arc::new(LabCertificateClock))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("tls: the ring provider supports TLS 1.3 with TLS13_AES_128_GCM_SHA256")
            .with_no_client_auth()
            .with_single_cert(id.chain.clone(), id.clone_key())
            .expect("tls: each lab identity's leaf certificate matches its key");
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    match resumption {
        ServerResumption::Off => {
            config.send_tls13_tickets = 0;
            config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
            config.max_early_data_size = 0;
        }
        ServerResumption::On => {
            // Stateful tickets: rustls accepts early data only without a ticketer.
            config.send_tls13_tickets = TICKETS_PER_CONNECTION;
            config.session_storage = ServerSessionMemoryCache::new(SERVER_SESSION_CACHE);
            config.max_early_data_size = early_data_limit;
            config.send_half_rtt_data = true;
        }
    }
    if let Some(key_log) = key_log {
        config.key_log = key_log;
    }
    config
}

/// Where a client keeps the TLS sessions servers give it (TLS 1.3 tickets), shared by
/// every connection of one run that may resume. Cloning shares the cache.
///
/// Holds up to 8 tickets for the lab's one server name (rustls's per-server limit), and
/// hands out the newest first.
#[derive(Clone)]
pub struct SessionCache(Arc<dyn ClientSessionStore>);

impl SessionCache {
    /// An empty cache.
    pub fn new() -> SessionCache {
        SessionCache(Arc::new(ClientSessionMemoryCache::new(8)))
    }
}

impl Default for SessionCache {
    fn default() -> SessionCache {
        SessionCache::new()
    }
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionCache")
    }
}

/// What a client does with TLS sessions. Default: [`ClientResumption::Off`].
#[derive(Clone, Debug, Default)]
pub enum ClientResumption {
    /// Keep no tickets: every connection is a full handshake. The lab's default.
    #[default]
    Off,
    /// Keep tickets in the cache and offer one in each new handshake (a 1-RTT
    /// resumption with a pre-shared key); never send early data.
    Resume(SessionCache),
    /// As `Resume`, and also send early data (TLS) or 0-RTT data (QUIC) when the ticket
    /// allows it. The TLS stack or quinn decides what goes in it; the config only allows
    /// it.
    EarlyData(SessionCache),
}

impl ClientResumption {
    /// Whether early data may be sent.
    pub fn early_data(&self) -> bool {
        matches!(self, ClientResumption::EarlyData(_))
    }

    /// The session cache, if sessions are kept.
    pub fn cache(&self) -> Option<&SessionCache> {
        match self {
            ClientResumption::Off => None,
            ClientResumption::Resume(cache) | ClientResumption::EarlyData(cache) => Some(cache),
        }
    }
}

/// How many server certificates a client config has checked.
///
/// In TLS 1.3 the server presents its certificate only in a full handshake; a handshake
/// that resumed a session (pre-shared key) has none. So a handshake during which the
/// count did not move, and no other handshake of the same config ran, resumed a session.
/// Cloning shares the count.
#[derive(Clone, Debug, Default)]
pub struct CertificateChecks(Arc<AtomicU64>);

impl CertificateChecks {
    /// Certificates checked so far (successfully or not).
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// rustls's WebPKI verifier, counting in [`CertificateChecks`] how often it was asked.
#[derive(Debug)]
struct CheckedVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    checks: CertificateChecks,
}

impl ServerCertVerifier for CheckedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.checks.0.fetch_add(1, Ordering::AcqRel);
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A client's TLS config for every connection of one run, and its count of certificate
/// checks. Cloning shares both.
#[derive(Clone, Debug)]
pub struct ClientTls {
    /// The rustls config.
    pub config: Arc<rustls::ClientConfig>,
    /// Server certificates this config has checked; a resumed handshake checks none.
    pub certificate_checks: CertificateChecks,
}

/// A client TLS config that trusts only the minimal identity's certificate, with no
/// resumption.
///
/// TLS 1.3 only, `TLS13_AES_128_GCM_SHA256` only, X25519 only; offers the protocols in
/// `alpn`. Resumption and early data are off, so every connection is a full handshake.
/// Connect with the server name [`SERVER_NAME`]. Secrets go to `key_log` when one is
/// given. The config of [`client_tls`] with [`ClientResumption::Off`].
pub fn client_config(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
) -> Arc<rustls::ClientConfig> {
    client_tls(alpn, key_log, &ClientResumption::Off).config
}

/// A client TLS config that trusts only the minimal identity's certificate, with
/// `resumption`, for every connection of one run.
///
/// As [`client_config`]; with a session cache it keeps the tickets it receives there and
/// offers one in its handshake, and with [`ClientResumption::EarlyData`] it may send early
/// data. rustls resumes only with the config that received the ticket, so open every
/// connection of a run with the same [`ClientTls`]. The same as [`client_tls_for`] and
/// [`Identity::minimal()`].
pub fn client_tls(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
    resumption: &ClientResumption,
) -> ClientTls {
    client_tls_for(alpn, key_log, resumption, Identity::minimal())
}

/// [`client_tls`], trusting only `certificate`'s trust anchor ([`Identity::trust_anchor`]):
/// the server's chain must lead there (webpki builds the path from the certificates the
/// server sent), so a server presenting the other identity is refused.
pub fn client_tls_for(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
    resumption: &ClientResumption,
    identity: &'static Identity,
) -> ClientTls {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(identity.trust_anchor.clone())
        .expect("tls: each lab identity's trust anchor is a valid one");
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), lab_provider())
        .build()
        .expect("tls: a verifier for one trust anchor and the ring provider builds");
    let builder =
        rustls::ClientConfig::builder_with_details(lab_provider(), Arc::new(LabCertificateClock))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("tls: the ring provider supports TLS 1.3 with TLS13_AES_128_GCM_SHA256");
    finish_client_tls(builder, inner, alpn, resumption, key_log)
}

/// The client config `builder` (its provider, clock and versions chosen)
/// finished the same way in the simulation and on real sockets:
/// certificates checked by `inner` and counted ([`CertificateChecks`]),
/// offering exactly `alpn`, keeping and using sessions as `resumption`
/// says, and writing secrets to `key_log` if given.
fn finish_client_tls(
    builder: rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>,
    inner: Arc<dyn ServerCertVerifier>,
    alpn: &[&[u8]],
    resumption: &ClientResumption,
    key_log: Option<Arc<dyn rustls::KeyLog>>,
) -> ClientTls {
    let checks = CertificateChecks::default();
    let verifier = CheckedVerifier {
        inner,
        checks: checks.clone(),
    };
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config.resumption = match resumption.cache() {
        None => rustls::client::Resumption::disabled(),
        Some(cache) => rustls::client::Resumption::store(cache.0.clone()),
    };
    config.enable_early_data = resumption.early_data();
    if let Some(key_log) = key_log {
        config.key_log = key_log;
    }
    ClientTls {
        config: Arc::new(config),
        certificate_checks: checks,
    }
}

/// [`server_config`] wrapped for quinn.
///
/// QUIC requires TLS 1.3, and `TLS13_AES_128_GCM_SHA256` is also the suite QUIC's
/// Initial packets use. 0-RTT is not accepted. Pass `ALPN_H3` for HTTP/3.
pub fn quic_server_crypto(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
) -> Arc<quinn::crypto::rustls::QuicServerConfig> {
    quic_server_crypto_with(alpn, key_log, ServerResumption::Off)
}

/// [`server_config_with`] wrapped for quinn: with [`ServerResumption::On`], tickets and
/// 0-RTT (rustls's early-data limit unlimited, as QUIC requires; QUIC flow control bounds
/// it).
///
/// The same as [`quic_server_crypto_for`] and [`Identity::minimal()`].
pub fn quic_server_crypto_with(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
    resumption: ServerResumption,
) -> Arc<quinn::crypto::rustls::QuicServerConfig> {
    quic_server_crypto_for(alpn, key_log, resumption, Identity::minimal())
}

/// [`quic_server_crypto_with`], presenting `certificate`'s chain.
pub fn quic_server_crypto_for(
    alpn: &[&[u8]],
    key_log: Option<Arc<dyn rustls::KeyLog>>,
    resumption: ServerResumption,
    identity: &'static Identity,
) -> Arc<quinn::crypto::rustls::QuicServerConfig> {
    let config = build_server_config(alpn, key_log, resumption, u32::MAX, identity);
    let config = quinn::crypto::rustls::QuicServerConfig::try_from(Arc::new(config))
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
    quic_client(&client_tls(alpn, key_log, &ClientResumption::Off))
}

/// `tls`'s config wrapped for quinn (sharing its session cache and its count of
/// certificate checks). With [`ClientResumption::EarlyData`] and a ticket that allows
/// it, quinn's `Connecting::into_0rtt` succeeds.
pub fn quic_client(tls: &ClientTls) -> Arc<quinn::crypto::rustls::QuicClientConfig> {
    let config = quinn::crypto::rustls::QuicClientConfig::try_from(tls.config.clone())
        .expect("tls: the lab provider offers TLS13_AES_128_GCM_SHA256, QUIC's initial suite");
    Arc::new(config)
}

/// The lab's TLS settings as text for a report, read from the config
/// [`server_config`] builds (the one every lab server uses by default): `rustls` with
/// its protocol versions, cipher suites, key-exchange groups, certificate
/// and resumption. The same as [`settings_for`] and [`Identity::minimal()`].
pub fn settings() -> Settings {
    settings_for(Identity::minimal())
}

/// [`settings`] of a server presenting `certificate`, read from the config
/// [`server_config_for`] builds. The `certificate` value of [`Identity::minimal()`] is
/// `"self-signed X.509, ED25519 key, one certificate of 304 bytes"`; that of
/// [`Identity::realistic()`] names the chain, its sizes and the leaf key, e.g.
/// `"realistic: 3 certificates, 4053 bytes (1344 + 1316 + 1393; Certificate message 4076
/// bytes), RSA-2048 leaf key; clients trust the root, which is not sent"`.
pub fn settings_for(identity: &'static Identity) -> Settings {
    static SETTINGS: [OnceLock<Settings>; 2] = [OnceLock::new(), OnceLock::new()];
    let slot = if identity == Identity::minimal() {
        &SETTINGS[0]
    } else {
        &SETTINGS[1]
    };
    slot.get_or_init(|| read_settings(identity)).clone()
}

/// [`settings_for`], read afresh.
fn read_settings(identity: &'static Identity) -> Settings {
    let config = server_config_for(&[], None, ServerResumption::Off, identity);
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
    let id = identity;
    let signing_key = provider.key_provider.load_private_key(id.clone_key());
    let key = match &signing_key {
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
                match id.chain.len() {
                    // One certificate, its own trust anchor.
                    1 => format!(
                        "self-signed X.509, {key} key, one certificate of {}",
                        bytes_text(id.cert_der.len())
                    ),
                    _ => {
                        let sizes: Vec<String> =
                            id.chain.iter().map(|c| c.len().to_string()).collect();
                        let leaf_key = signing_key
                            .as_ref()
                            .ok()
                            .and_then(|k| rsa_bits(k.as_ref()))
                            .map_or_else(|| key.clone(), |bits| format!("{key}-{bits}"));
                        format!(
                            "{}: {} certificates, {} ({}; Certificate message {}), {leaf_key} leaf \
                             key; clients trust the root, which is not sent",
                            id.name,
                            id.chain.len(),
                            bytes_text(id.chain_bytes()),
                            sizes.join(" + "),
                            bytes_text(id.certificate_message_bytes()),
                        )
                    }
                },
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

/// The modulus size of an RSA signing key, in bits, read from the length of a signature
/// it makes (an RSA signature is exactly as long as the modulus: what CertificateVerify
/// carries). `None` for other keys.
fn rsa_bits(key: &dyn rustls::sign::SigningKey) -> Option<usize> {
    if key.algorithm() != rustls::SignatureAlgorithm::RSA {
        return None;
    }
    let signer = key.choose_scheme(&[SignatureScheme::RSA_PSS_SHA256])?;
    signer.sign(b"httplab").ok().map(|sig| sig.len() * 8)
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

    /// Pass QUIC handshake messages back and forth until neither side has
    /// more to say (10 rounds is more than any TLS 1.3 handshake needs).
    fn quic_handshake(
        client: &mut rustls::quic::Connection,
        server: &mut rustls::quic::Connection,
    ) {
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
            deliver(client, server);
            deliver(server, client);
        }
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

    /// The default record's text must not change: golden results hold it.
    #[test]
    fn minimal_settings_text_is_unchanged() {
        assert_eq!(settings(), settings_for(Identity::minimal()));
        assert_eq!(
            settings().get("certificate"),
            Some("self-signed X.509, ED25519 key, one certificate of 304 bytes")
        );
    }

    #[test]
    fn realistic_settings_name_the_chain() {
        let s = settings_for(Identity::realistic());
        assert_eq!(s.name, "rustls");
        assert_eq!(s.get("cipher_suites"), Some("TLS13_AES_128_GCM_SHA256"));
        assert_eq!(
            s.get("certificate"),
            Some(
                "realistic: 3 certificates, 4053 bytes (1344 + 1316 + 1393; Certificate message \
                 4076 bytes), RSA-2048 leaf key; clients trust the root, which is not sent"
            )
        );
        assert_eq!(s.get("session_tickets"), settings().get("session_tickets"));
    }

    /// The realistic chain's sizes, which the docs and the handshake tests state.
    #[test]
    fn realistic_chain_sizes_are_pinned() {
        let id = Identity::realistic();
        assert_eq!(id.name, "realistic");
        let sizes: Vec<usize> = id.chain.iter().map(|c| c.len()).collect();
        assert_eq!(
            sizes,
            [1344, 1316, 1393],
            "leaf, intermediate, cross-signed root"
        );
        assert_eq!(id.chain_bytes(), 4053);
        assert_eq!(id.certificate_message_bytes(), 4076);
        assert_eq!(
            id.trust_anchor.len(),
            1395,
            "the self-signed root, not sent"
        );
        assert_eq!(id.cert_der, id.chain[0]);
        assert_ne!(
            id.trust_anchor, id.chain[2],
            "the root sent is the cross-signed one"
        );
        let minimal = Identity::minimal();
        assert_eq!(minimal.chain, std::slice::from_ref(&minimal.cert_der));
        assert_eq!(minimal.trust_anchor, minimal.cert_der);
        assert_eq!(minimal.certificate_message_bytes(), 4 + 1 + 3 + 3 + 304 + 2);
    }

    /// A full realistic handshake: the client builds the path leaf → intermediate →
    /// trusted root from what the server sent, and counts one certificate check; the
    /// server's flight (ServerHello .. Finished) fits TCP's initial window of 10 segments
    /// (14 600 bytes) with room to spare; RSA-PSS signatures are always 256 bytes, so
    /// every handshake is the same size.
    #[test]
    fn realistic_handshake_verifies_the_chain_and_is_always_the_same_size() {
        let tls = client_tls_for(
            &[ALPN_H2],
            None,
            &ClientResumption::Off,
            Identity::realistic(),
        );
        let server_cfg = server_config_for(
            &[ALPN_H2],
            None,
            ServerResumption::Off,
            Identity::realistic(),
        );
        let (client, _, first) = connect(&tls.config, &server_cfg);
        assert_eq!(client.handshake_kind(), Some(HandshakeKind::Full));
        assert_eq!(client.peer_certificates().map(<[_]>::len), Some(3));
        assert_eq!(tls.certificate_checks.count(), 1);
        let (_, _, second) = connect(&tls.config, &server_cfg);
        assert_eq!(first, second);
        let minimal = connect(
            &client_config(&[ALPN_H2], None),
            &server_config(&[ALPN_H2], None),
        )
        .2;
        eprintln!("server flight: realistic {first:?}, minimal {minimal:?}");
        assert_eq!(first.server_to_client, 4550);
        assert_eq!(minimal.server_to_client, 599);
        assert!(first.server_to_client < 10 * 1460);
    }

    /// Each client trusts only its own identity's anchor; and the realistic chain really
    /// is checked as a chain: without the intermediate the leaf leads nowhere.
    #[test]
    fn clients_refuse_a_chain_that_does_not_lead_to_their_anchor() {
        let refused = |client: &Arc<rustls::ClientConfig>, server: rustls::ServerConfig| {
            let mut client = rustls::Connection::Client(
                rustls::ClientConnection::new(client.clone(), server_name()).unwrap(),
            );
            let mut server = rustls::Connection::Server(
                rustls::ServerConnection::new(Arc::new(server)).unwrap(),
            );
            let mut wire = Vec::new();
            client.write_tls(&mut wire).unwrap();
            server.read_tls(&mut &wire[..]).unwrap();
            server.process_new_packets().unwrap();
            wire.clear();
            while server.wants_write() {
                server.write_tls(&mut wire).unwrap();
            }
            let mut rest = &wire[..];
            while !rest.is_empty() {
                client.read_tls(&mut rest).unwrap();
                if let Err(e) = client.process_new_packets() {
                    return e;
                }
            }
            panic!("the client accepted the server's flight");
        };
        let minimal_client = client_config(&[ALPN_H2], None);
        let realistic_client = client_tls_for(
            &[ALPN_H2],
            None,
            &ClientResumption::Off,
            Identity::realistic(),
        )
        .config;
        let server = |c| build_server_config(&[ALPN_H2], None, ServerResumption::Off, 0, c);
        let unknown = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert_eq!(
            refused(&minimal_client, server(Identity::realistic())),
            unknown
        );
        assert_eq!(
            refused(&realistic_client, server(Identity::minimal())),
            unknown
        );

        let id = Identity::realistic();
        let leaf_only = rustls::ServerConfig::builder_with_provider(lab_provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![id.cert_der.clone()], id.clone_key())
            .unwrap();
        assert_eq!(refused(&realistic_client, leaf_only), unknown);
    }

    /// QUIC-TLS with the realistic chain, and resumption detected by the count of
    /// certificate checks, as with the minimal identity.
    #[test]
    fn realistic_quic_handshake_completes_and_resumes() {
        let resumption = ClientResumption::Resume(SessionCache::new());
        let server_cfg = Arc::new(build_server_config(
            &[ALPN_H3],
            None,
            ServerResumption::On,
            u32::MAX,
            Identity::realistic(),
        ));
        let tls = client_tls_for(&[ALPN_H3], None, &resumption, Identity::realistic());
        let _ = quic_server_crypto_for(
            &[ALPN_H3],
            None,
            ServerResumption::On,
            Identity::realistic(),
        );
        let mut kinds = Vec::new();
        for _ in 0..2 {
            let before = tls.certificate_checks.count();
            let mut client = rustls::quic::Connection::Client(
                rustls::quic::ClientConnection::new(
                    tls.config.clone(),
                    rustls::quic::Version::V1,
                    server_name(),
                    b"client transport parameters".to_vec(),
                )
                .unwrap(),
            );
            let mut server = rustls::quic::Connection::Server(
                rustls::quic::ServerConnection::new(
                    server_cfg.clone(),
                    rustls::quic::Version::V1,
                    b"server transport parameters".to_vec(),
                )
                .unwrap(),
            );
            quic_handshake(&mut client, &mut server);
            assert!(!client.is_handshaking());
            kinds.push((
                client.handshake_kind(),
                tls.certificate_checks.count() > before,
            ));
        }
        assert_eq!(
            kinds,
            [
                (Some(HandshakeKind::Full), true),
                (Some(HandshakeKind::Resumed), false)
            ]
        );
    }

    #[test]
    fn certificate_is_identical_across_generations() {
        let first = lab_certificate(&lab_key_pair(), &[]).unwrap();
        let second = lab_certificate(&lab_key_pair(), &[]).unwrap();
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

        quic_handshake(&mut client, &mut server);

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

    fn resumable_pair(resumption: &ClientResumption) -> (ClientTls, Arc<rustls::ServerConfig>) {
        (
            client_tls(&[ALPN_H2], None, resumption),
            server_config_with(&[ALPN_H2], None, ServerResumption::On),
        )
    }

    /// A first connection gets tickets; a second, with a fresh config sharing the
    /// session cache, resumes: no certificate, fewer bytes from the server, and the
    /// certificate check agrees with rustls's own answer.
    #[test]
    fn a_second_connection_resumes_with_a_ticket_from_the_first() {
        let resumption = ClientResumption::Resume(SessionCache::new());
        let (tls, server_cfg) = resumable_pair(&resumption);
        let (first, _, first_bytes) = connect(&tls.config, &server_cfg);
        assert_eq!(first.handshake_kind(), Some(HandshakeKind::Full));
        assert_eq!(tls.certificate_checks.count(), 1);

        let (second, server, second_bytes) = connect(&tls.config, &server_cfg);
        assert_eq!(second.handshake_kind(), Some(HandshakeKind::Resumed));
        assert_eq!(server.handshake_kind(), Some(HandshakeKind::Resumed));
        assert_eq!(
            tls.certificate_checks.count(),
            1,
            "no certificate this time"
        );
        let cert_len = identity().cert_der.len();
        assert!(
            second_bytes.server_to_client + cert_len < first_bytes.server_to_client,
            "resumed: {second_bytes:?}, full: {first_bytes:?}, certificate {cert_len} bytes"
        );
    }

    #[test]
    fn without_resumption_on_both_sides_every_handshake_is_full() {
        // Client keeps tickets, server issues none.
        let resumption = ClientResumption::Resume(SessionCache::new());
        let tls = client_tls(&[ALPN_H2], None, &resumption);
        let server_cfg = server_config(&[ALPN_H2], None);
        for n in 1..=2 {
            let (client, _, _) = connect(&tls.config, &server_cfg);
            assert_eq!(client.handshake_kind(), Some(HandshakeKind::Full));
            assert_eq!(tls.certificate_checks.count(), n);
        }
        // Server issues tickets, client keeps none.
        let tls = client_tls(&[ALPN_H2], None, &ClientResumption::Off);
        let server_cfg = server_config_with(&[ALPN_H2], None, ServerResumption::On);
        for _ in 0..2 {
            let (client, _, _) = connect(&tls.config, &server_cfg);
            assert_eq!(client.handshake_kind(), Some(HandshakeKind::Full));
        }
    }

    /// Handshake sizes do not depend on the run: two independent pairs of
    /// (full, resumed) handshakes put the same number of bytes on the wire.
    #[test]
    fn resumed_handshakes_are_the_same_size_every_time() {
        let sizes = || {
            let resumption = ClientResumption::Resume(SessionCache::new());
            let (tls, server_cfg) = resumable_pair(&resumption);
            let (_, _, full) = connect(&tls.config, &server_cfg);
            let (_, _, resumed) = connect(&tls.config, &server_cfg);
            (full, resumed)
        };
        assert_eq!(sizes(), sizes());
    }

    /// Early data: the request travels with the ClientHello, the server reads it
    /// before the handshake completes and answers it in its first flight (0.5-RTT
    /// data), which the client can read once that flight has arrived.
    #[test]
    fn early_data_is_read_and_answered_in_the_first_flight() {
        let resumption = ClientResumption::EarlyData(SessionCache::new());
        let (tls, server_cfg) = resumable_pair(&resumption);
        connect(&tls.config, &server_cfg);

        let mut client = rustls::ClientConnection::new(tls.config, server_name()).unwrap();
        let request = b"GET / HTTP/1.1\r\n\r\n";
        let mut early = client.early_data().expect("the ticket allows early data");
        assert_eq!(early.write(request).unwrap(), request.len());
        let mut client = rustls::Connection::Client(client);
        let mut server =
            rustls::Connection::Server(rustls::ServerConnection::new(server_cfg).unwrap());

        // Flight 1: ClientHello + early data.
        transfer(&mut client, &mut server);
        assert!(server.is_handshaking());
        let rustls::Connection::Server(s) = &mut server else {
            unreachable!()
        };
        let mut got = Vec::new();
        s.early_data()
            .expect("the server accepted early data")
            .read_to_end(&mut got)
            .unwrap();
        assert_eq!(got, request);
        server.writer().write_all(b"HTTP/1.1 200 OK").unwrap();

        // Flight 2: the server's handshake and its answer, together.
        transfer(&mut server, &mut client);
        let mut answer = [0u8; 15];
        client.reader().read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"HTTP/1.1 200 OK");
        handshake(&mut client, &mut server);
        let rustls::Connection::Client(c) = &client else {
            unreachable!()
        };
        assert!(c.is_early_data_accepted());
        assert_eq!(c.handshake_kind(), Some(HandshakeKind::Resumed));
    }

    /// The count of certificate checks tells a resumed QUIC-TLS handshake from a full
    /// one, as rustls's own `handshake_kind` does (quinn passes on neither).
    #[test]
    fn counting_certificate_checks_tells_a_resumed_quic_handshake() {
        let resumption = ClientResumption::EarlyData(SessionCache::new());
        let server_cfg = Arc::new(build_server_config(
            &[ALPN_H3],
            None,
            ServerResumption::On,
            u32::MAX,
            Identity::minimal(),
        ));
        let tls = client_tls(&[ALPN_H3], None, &resumption);
        let mut kinds = Vec::new();
        for _ in 0..2 {
            let before = tls.certificate_checks.count();
            let mut client = rustls::quic::Connection::Client(
                rustls::quic::ClientConnection::new(
                    tls.config.clone(),
                    rustls::quic::Version::V1,
                    server_name(),
                    b"client transport parameters".to_vec(),
                )
                .unwrap(),
            );
            let mut server = rustls::quic::Connection::Server(
                rustls::quic::ServerConnection::new(
                    server_cfg.clone(),
                    rustls::quic::Version::V1,
                    b"server transport parameters".to_vec(),
                )
                .unwrap(),
            );
            quic_handshake(&mut client, &mut server);
            assert!(!client.is_handshaking());
            kinds.push((
                client.handshake_kind(),
                tls.certificate_checks.count() > before,
                client.zero_rtt_keys().is_some(),
            ));
        }
        assert_eq!(
            kinds,
            [
                (Some(HandshakeKind::Full), true, false),
                (Some(HandshakeKind::Resumed), false, true),
            ]
        );
    }
}
