//! `httplab get URL`: one path, or a scenario's workload, fetched from any
//! HTTPS server on the machine's own sockets by the lab's own client
//! (`clients::run_real`), and what it measured, printed like curl's
//! `--write-out` timings.
//!
//! - [`Url`]: `https://HOST[:PORT]/PATH`, parsed; HOST a name (resolved)
//!   or an IP address;
//! - [`BodyCheck`]: how the body is checked (Content-Length, or the lab's
//!   content model);
//! - [`Timings`]: DNS, connect, TLS, first byte and total, each from the
//!   command's start, as curl's `time_namelookup`, `time_connect`,
//!   `time_appconnect`, `time_starttransfer` and `time_total`;
//! - [`run`]: the command itself.
//!
//! Nothing here is deterministic or reaches a simulation result: the clock
//! is the real one (tokio's, on a runtime of real time).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::ValueEnum;
use clients::{RunRecord, Trust};
use netsim::tls::real::TrustAnchors;
use scenarios::Protocol;
use serde::Serialize;

/// The port of `https://` when a URL names none.
const HTTPS_PORT: u16 = 443;

/// `--timeout`'s default without `--scenario`, in seconds.
pub const DEFAULT_TIMEOUT_S: f64 = 30.0;

/// An `https://` URL, as `httplab get` takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// The host as written, without the brackets of an IPv6 literal: the
    /// TLS server name (SNI, certificate check) and the request authority.
    pub host: String,
    /// The port: as written, else 443.
    pub port: u16,
    /// The path and query, `/` if the URL has none.
    pub path: String,
}

impl Url {
    /// Parse `text`: `https://HOST[:PORT][/PATH][?QUERY]`. The error says
    /// what is wrong with it.
    pub fn parse(text: &str) -> Result<Url> {
        let uri: http::Uri = text
            .parse()
            .map_err(|e| anyhow!("URL {text:?}: not a URL ({e})"))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some(other) => bail!(
                "URL {text:?}: scheme {other}, but httplab get speaks HTTPS only (https://HOST[:PORT]/PATH)"
            ),
            None => bail!("URL {text:?}: no scheme; write https://HOST[:PORT]/PATH"),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| anyhow!("URL {text:?}: no host; write https://HOST[:PORT]/PATH"))?;
        if authority.as_str().contains('@') {
            bail!("URL {text:?}: user information (user@host) is not supported");
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            bail!("URL {text:?}: no host; write https://HOST[:PORT]/PATH");
        }
        // `Authority::port` is `None` for a port that is not a u16
        // (`:99999`, `:abc`) as for no port: tell them apart by the text
        // after the host.
        let port_text = authority.as_str()[authority.host().len()..].strip_prefix(':');
        let port = match authority.port() {
            None if port_text.is_some_and(|p| !p.is_empty()) => bail!(
                "URL {text:?}: port {} is not one of 1 to 65535",
                port_text.unwrap_or_default()
            ),
            None => HTTPS_PORT,
            Some(port) => port
                .as_str()
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| anyhow!("URL {text:?}: port {port} is not one of 1 to 65535"))?,
        };
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        // `https://host?q=1` has the query but not the path's `/`.
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        Ok(Url {
            host: host.to_owned(),
            port,
            path,
        })
    }

    /// The host as an IP address, if it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// The URL written back: `https://host[:port]path` (IPv6 in brackets,
    /// no port if 443).
    pub fn display(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            HTTPS_PORT => format!("https://{host}{}", self.path),
            port => format!("https://{host}:{port}{}", self.path),
        }
    }
}

/// How `httplab get` checks each body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BodyCheck {
    /// The content model for a path of its form (`/bytes/N` or
    /// `/bytes/N/NAME`, as `httplab serve` serves them), Content-Length
    /// for any other path.
    #[default]
    Auto,
    /// The length only, against the response's Content-Length where it
    /// has one: for a server that does not serve the lab's content model.
    Length,
    /// Length, and every byte compared with the lab's content model under --seed:
    /// for `httplab serve`.
    ContentModel,
}

impl BodyCheck {
    /// What is checked for `path`: [`BodyCheck::Length`] or
    /// [`BodyCheck::ContentModel`] ([`BodyCheck::Auto`] decided by the
    /// path's form).
    pub fn for_path(self, path: &str) -> BodyCheck {
        match self {
            BodyCheck::Auto if scenarios::size_of_path(path).is_ok() => BodyCheck::ContentModel,
            BodyCheck::Auto => BodyCheck::Length,
            other => other,
        }
    }
}

/// When each step of the first request was done, from the command's start
/// (curl's `--write-out` variables; nanoseconds in JSON).
///
/// - `namelookup`: the host's name resolved (0 for an IP address or
///   `--addr`: nothing to resolve);
/// - `connect`: TCP's handshake done (HTTP/1.1, HTTP/2); for HTTP/3 the
///   QUIC handshake done, as there is no separate transport handshake;
/// - `appconnect`: the TLS handshake done; for HTTP/3 the QUIC handshake
///   (which carries TLS), the same moment as `connect`;
/// - `starttransfer`: the response head (status and headers) decrypted and
///   parsed: curl's first byte;
/// - `total`: the last byte of the body (of the last object, for a
///   workload).
///
/// A step that was never reached is `None` (absent in JSON).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Timings {
    /// The name resolved.
    #[serde(rename = "time_namelookup_ns", with = "netsim::nanos")]
    pub namelookup: Duration,
    /// TCP connected (HTTP/3: QUIC handshake done).
    #[serde(
        rename = "time_connect_ns",
        with = "netsim::nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub connect: Option<Duration>,
    /// TLS handshake done (HTTP/3: QUIC handshake done).
    #[serde(
        rename = "time_appconnect_ns",
        with = "netsim::nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub appconnect: Option<Duration>,
    /// Response head in.
    #[serde(
        rename = "time_starttransfer_ns",
        with = "netsim::nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub starttransfer: Option<Duration>,
    /// Last body byte in.
    #[serde(
        rename = "time_total_ns",
        with = "netsim::nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub total: Option<Duration>,
}

impl Timings {
    /// The timings of `record`'s first request, its times shifted by the
    /// `namelookup` that came before the run started.
    pub fn of(record: &RunRecord, namelookup: Duration) -> Timings {
        let after = |d: Option<Duration>| d.map(|d| namelookup + d);
        let first = record.requests.first();
        let conn = first
            .and_then(|r| r.connection_id)
            .and_then(|id| record.connections.iter().find(|c| c.id == id));
        let handshake = after(conn.and_then(|c| c.handshake_done));
        let connect = match record.protocol {
            Protocol::H3 => handshake,
            _ => after(conn.and_then(|c| c.tcp_connected)),
        };
        let last = record.requests.iter().map(|r| r.last_byte).max().flatten();
        Timings {
            namelookup,
            connect,
            appconnect: handshake,
            starttransfer: after(first.and_then(|r| r.first_byte)),
            total: after(record.plt.or(last)),
        }
    }

    /// The timings as curl's `--write-out` names them, one a line, in
    /// seconds with microseconds (`-` for a step not reached).
    pub fn text(&self) -> String {
        let secs =
            |d: Option<Duration>| d.map_or("-".to_owned(), |d| format!("{:.6} s", d.as_secs_f64()));
        let mut out = String::new();
        for (name, value) in [
            ("time_namelookup", Some(self.namelookup)),
            ("time_connect", self.connect),
            ("time_appconnect", self.appconnect),
            ("time_starttransfer", self.starttransfer),
            ("time_total", self.total),
        ] {
            let _ = writeln!(out, "{name:<19} {}", secs(value));
        }
        out
    }
}

/// What `httplab get --json` prints.
#[derive(Debug, Serialize)]
struct GetReport<'a> {
    /// The URL as given.
    url: &'a str,
    /// The protocol spoken.
    protocol: Protocol,
    /// The addresses connections were to try, in order.
    addrs: &'a [SocketAddr],
    /// The body check, decided.
    body_check: BodyCheck,
    /// The timings of the first request.
    timings: Timings,
    /// The lab client's whole record.
    record: &'a RunRecord,
}

/// What `httplab get` was asked for (from its flags).
#[derive(Clone, Debug)]
pub struct GetRequest {
    /// The URL, as given.
    pub url: String,
    /// The protocol.
    pub protocol: Protocol,
    /// `--cacert`.
    pub cacert: Option<PathBuf>,
    /// `--insecure`.
    pub insecure: bool,
    /// `--addr`: where to connect instead of resolving the host.
    pub addr: Option<SocketAddr>,
    /// `--scenario`: whose workload to fetch instead of the URL's path.
    pub scenario: Option<scenarios::Scenario>,
    /// `--seed`: the content seed of the content-model check.
    pub seed: u64,
    /// `--body-check`.
    pub body_check: BodyCheck,
    /// `--timeout`, in seconds.
    pub timeout_s: Option<f64>,
    /// `--json`.
    pub json: bool,
}

/// The trust `request`'s flags ask for: the file's certificates, none, or
/// the system's store.
fn trust(request: &GetRequest) -> Result<Trust> {
    if request.insecure {
        return Ok(Trust::Insecure);
    }
    let anchors = match &request.cacert {
        Some(path) => TrustAnchors::from_pem_file(path).context("--cacert")?,
        None => TrustAnchors::system().context(
            "trusting the system's root certificates (give --cacert FILE or --insecure)",
        )?,
    };
    Ok(Trust::Anchors(anchors))
}

/// Advice for a failure whose text says what went wrong in TLS.
fn advice(failure: &str, trust: &Trust, check: BodyCheck, seed: u64) -> Option<String> {
    let source = match trust {
        Trust::Anchors(a) => a.source().to_owned(),
        _ => "the trusted certificates".to_owned(),
    };
    if failure.contains("UnknownIssuer") || failure.contains("BadSignature") {
        return Some(format!(
            "the server's certificate is not issued by a certificate in {source}: give its issuer \
             with --cacert FILE (for httplab serve: --cacert <(httplab cert)), or skip the check \
             with --insecure"
        ));
    }
    if failure.contains("NotValidForName") {
        return Some(
            "the server's certificate is not issued for the URL's host: use the name it is issued \
             for in the URL (with --addr to connect elsewhere), or skip the check with --insecure"
                .to_owned(),
        );
    }
    if failure.contains("Expired") || failure.contains("NotValidYet") {
        return Some(
            "the server's certificate is outside its validity at this machine's time".to_owned(),
        );
    }
    if check == BodyCheck::ContentModel
        && (failure.contains("differ from the content model") || failure.contains("body is"))
    {
        return Some(format!(
            "the body is not the lab's content model under --seed {seed}: give the seed httplab \
             serve was started with, or for a server other than httplab serve use --body-check \
             length"
        ));
    }
    None
}

/// Carry out `httplab get`: resolve, fetch, print. An error before the
/// fetch (a bad URL or flag, a name that does not resolve) exits 1; a
/// fetch that failed ([`crate::console::Stop::RunsFailed`]) exits 3, after
/// what was measured is printed.
pub fn run(request: &GetRequest) -> Result<()> {
    let url = Url::parse(&request.url)?;
    let trust = trust(request)?;
    let (plan, check) = match &request.scenario {
        Some(scenario) => {
            if url.path != "/" {
                bail!(
                    "URL {}: --scenario fetches the scenario's workload, so the URL names only the \
                     server (https://{}:{}/), not the path {}",
                    request.url,
                    url.host,
                    url.port,
                    url.path
                );
            }
            let check = match request.body_check {
                BodyCheck::Auto => BodyCheck::ContentModel,
                other => other,
            };
            (scenario.workload.to_workload().plan(), check)
        }
        None => {
            let check = request.body_check.for_path(&url.path);
            let size = match check {
                BodyCheck::ContentModel => scenarios::size_of_path(&url.path).map_err(|e| {
                    anyhow!(
                        "URL {}: --body-check content-model needs a content-model path \
                         (/bytes/N or /bytes/N/NAME): {e}",
                        request.url
                    )
                })?,
                // Unknown: the length is checked against Content-Length.
                _ => 0,
            };
            let object = scenarios::Object {
                path: url.path.clone(),
                size,
                kind: scenarios::ObjectKind::Data,
            };
            let workload = scenarios::Workload::List {
                objects: vec![object],
            };
            (workload.plan(), check)
        }
    };
    let limit_s = request.timeout_s.unwrap_or_else(|| {
        request
            .scenario
            .as_ref()
            .map_or(DEFAULT_TIMEOUT_S, |s| s.time_limit_s)
    });
    let timeout = Duration::try_from_secs_f64(limit_s)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| anyhow!("--timeout {limit_s}: must be a number of seconds above 0"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let outcome = runtime.block_on(async {
        let start = tokio::time::Instant::now();
        let addrs = match (request.addr, url.ip()) {
            (Some(addr), _) => vec![addr],
            (None, Some(ip)) => vec![SocketAddr::new(ip, url.port)],
            (None, None) => {
                let lookup = tokio::net::lookup_host((url.host.as_str(), url.port));
                let found = tokio::time::timeout(timeout, lookup)
                    .await
                    .map_err(|_| {
                        anyhow!(
                            "resolving {}: no answer within --timeout {limit_s} s",
                            url.host
                        )
                    })?
                    .with_context(|| format!("resolving {}", url.host))?;
                let mut addrs: Vec<SocketAddr> = Vec::new();
                for addr in found {
                    if !addrs.contains(&addr) {
                        addrs.push(addr);
                    }
                }
                addrs
            }
        };
        let namelookup = start.elapsed();
        let Some((&first, rest)) = addrs.split_first() else {
            bail!("resolving {}: no address", url.host);
        };
        let left = timeout
            .saturating_sub(namelookup)
            .max(Duration::from_millis(1));
        let target = clients::RealTarget::new(first)
            .with_fallback(rest.to_vec())
            .with_server_name(url.host.clone())
            .with_trust(trust.clone())
            .with_verify_bodies(check == BodyCheck::ContentModel);
        let config = clients::ClientConfig::new(
            request.protocol,
            request.seed,
            netsim::FlowControl::for_buffer(4 << 20),
        )
        .with_time_limit(left);
        let record = clients::run_real(&target, &config, &plan).await;
        Ok((addrs, namelookup, record))
    });
    // A name lookup still going after --timeout runs on a blocking thread
    // that dropping the runtime would wait for: leave it behind instead.
    runtime.shutdown_background();
    let (addrs, namelookup, record) = outcome?;
    let timings = Timings::of(&record, namelookup);
    if request.json {
        let report = GetReport {
            url: &request.url,
            protocol: request.protocol,
            addrs: &addrs,
            body_check: check,
            timings,
            record: &record,
        };
        let json = serde_json::to_string_pretty(&report).context("encoding the record")?;
        crate::outln!("{json}")?;
    } else {
        crate::console::out(&format!(
            "{}{}",
            summary(&url, request, &addrs, check, &record),
            timings.text()
        ))?;
    }
    match &record.failure {
        None => Ok(()),
        // The fetch ran and failed: exit code 3, as `httplab run`'s.
        Some(failure) => Err(crate::console::Stop::RunsFailed(
            match advice(failure, &trust, check, request.seed) {
                Some(advice) => format!("{}: {failure}\nhint: {advice}", url.display()),
                None => format!("{}: {failure}", url.display()),
            },
        )
        .into()),
    }
}

/// The first lines of the text output: what was fetched, over what, from
/// where, and how the bodies were checked.
fn summary(
    url: &Url,
    request: &GetRequest,
    addrs: &[SocketAddr],
    check: BodyCheck,
    record: &RunRecord,
) -> String {
    let addrs: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
    let outcome = match &record.failure {
        None => "200".to_owned(),
        Some(_) => "failed".to_owned(),
    };
    let mut out = format!(
        "{} {} ({}): {outcome}, {} requests, {} bytes, {} connections\n",
        record.protocol.name(),
        url.display(),
        addrs.join(", "),
        record.requests.len(),
        record.total_bytes,
        record.connections_used,
    );
    let checked = match check {
        BodyCheck::ContentModel => format!(
            "length, and every byte against the content model (seed {})",
            request.seed
        ),
        _ => "length against content-length, where the response has one".to_owned(),
    };
    let _ = writeln!(out, "body check: {checked}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap_or_else(|e| panic!("{text}: {e:#}"))
    }

    #[test]
    fn urls_give_host_port_and_path() {
        let u = url("https://localhost:8443/bytes/1000/a.bin");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("localhost", 8443, "/bytes/1000/a.bin")
        );
        let u = url("https://example.com");
        assert_eq!((u.port, u.path.as_str()), (443, "/"));
        assert_eq!(u.display(), "https://example.com/");
        let u = url("https://[::1]:9000/x?y=1");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 9000, "/x?y=1")
        );
        assert_eq!(u.ip(), Some("::1".parse().unwrap()));
        assert_eq!(u.display(), "https://[::1]:9000/x?y=1");
        assert_eq!(url("https://10.0.0.1:443/").display(), "https://10.0.0.1/");
        // A query without the path's slash gets one.
        assert_eq!(url("https://example.com?q=1").path, "/?q=1");
        assert_eq!(url("https://[::1]/").port, 443);
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (text, says) in [
            ("http://localhost/", "HTTPS only"),
            ("localhost:8443", "no scheme"),
            ("https://:8443/", "no host"),
            ("https://host:0/", "port 0"),
            ("https://host:99999/", "port 99999"),
            ("https://host:abc/", "port abc"),
            ("https://[::1]:70000/", "port 70000"),
            ("https://u@host/", "user information"),
            ("not a url", "not a URL"),
        ] {
            let e = format!("{:#}", Url::parse(text).unwrap_err());
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn auto_checks_the_content_model_on_content_model_paths_only() {
        assert_eq!(
            BodyCheck::Auto.for_path("/bytes/100/a.bin"),
            BodyCheck::ContentModel
        );
        assert_eq!(
            BodyCheck::Auto.for_path("/bytes/100"),
            BodyCheck::ContentModel
        );
        assert_eq!(BodyCheck::Auto.for_path("/index.html"), BodyCheck::Length);
        assert_eq!(BodyCheck::Auto.for_path("/bytes/100?x"), BodyCheck::Length);
        assert_eq!(BodyCheck::Length.for_path("/bytes/100"), BodyCheck::Length);
    }

    #[test]
    fn an_unknown_issuer_points_to_cacert_and_insecure() {
        let hint = advice(
            "/x: tls handshake: invalid peer certificate: UnknownIssuer",
            &Trust::Insecure,
            BodyCheck::Length,
            1,
        )
        .unwrap();
        assert!(
            hint.contains("--cacert") && hint.contains("--insecure"),
            "{hint}"
        );
        assert!(advice(
            "/x: status 404, expected 200",
            &Trust::Insecure,
            BodyCheck::Length,
            1
        )
        .is_none());
        let seed = advice(
            "/bytes/9: body bytes differ from the content model from byte 0 on",
            &Trust::Insecure,
            BodyCheck::ContentModel,
            7,
        )
        .unwrap();
        assert!(
            seed.contains("--seed 7") && seed.contains("--body-check length"),
            "{seed}"
        );
    }

    #[test]
    fn timings_print_every_step_in_curls_names() {
        let t = Timings {
            namelookup: Duration::from_micros(12),
            connect: Some(Duration::from_micros(250)),
            appconnect: Some(Duration::from_millis(2)),
            starttransfer: None,
            total: None,
        };
        let text = t.text();
        assert!(text.contains("time_namelookup     0.000012 s"), "{text}");
        assert!(text.contains("time_appconnect     0.002000 s"), "{text}");
        assert!(text.contains("time_total          -\n"), "{text}");
        let json = serde_json::to_value(t).unwrap();
        assert_eq!(json["time_connect_ns"], 250_000);
        assert!(json.get("time_total_ns").is_none());
    }
}
