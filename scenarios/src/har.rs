//! Reading a recorded page from a HAR 1.2 file (as Chrome DevTools and
//! WebPageTest export it): [`HarPage::parse`] turns the text into the
//! entries a page workload needs, one [`HarEntry`] per HTTP(S) request, with
//! what the file says of each: URL and origin, resource type, body size,
//! initiator and priority. It is the first step of `httplab import-har`
//! (issue #14): the page model that runs such a page is built on it.
//!
//! What is read, and the choices made:
//! - **URL and origin** from `request.url`: the origin is
//!   `scheme://host[:port]`, the port only when it is not the scheme's
//!   default. Entries whose scheme is not `http` or `https` (`data:`,
//!   `blob:`, `chrome-extension:`) are skipped with a warning.
//! - **Resource type** from Chrome's `_resourceType` when present
//!   (`document`, `stylesheet`, `script`, `font`, `image`, `xhr`/`fetch`,
//!   anything else `other`), else from `response.content.mimeType`.
//! - **Size**: the body's bytes as they crossed the network, which is what
//!   the lab's servers send (their bodies are incompressible, so nothing
//!   shrinks them): `response.bodySize` when it is 0 or more; else
//!   `_transferSize` less `response.headersSize` when both are known; else
//!   `response.content.size` (the decoded size), with a warning; else the
//!   entry is skipped with a warning. Which one was used is recorded
//!   ([`SizeSource`]).
//! - **Initiator** from Chrome's `_initiator`: `parser` (with the URL and
//!   line of the document that referenced it), `script` (the URL of the
//!   script on top of its stack, or the `url` field), anything else
//!   [`Initiator::Other`]. Absent: `None`, for the page model to infer.
//! - **Priority** from Chrome's `_priority` (`VeryHigh`, `High`, `Medium`,
//!   `Low`, `VeryLow`), as text.
//!
//! Errors ([`HarError`]) name the entry (its index in `log.entries`) and
//! the field: text that is not JSON (with line and column), a missing
//! `log.entries`, an entry without a string `request.url`, a URL without a
//! host, and a page whose entries add up to no bytes at all. Nothing here
//! panics on any input.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

/// What kind of resource an entry is, as a browser classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceType {
    /// An HTML document.
    Document,
    /// A stylesheet.
    Stylesheet,
    /// A script.
    Script,
    /// A web font.
    Font,
    /// An image.
    Image,
    /// An XHR or fetch() request.
    Xhr,
    /// Anything else (media, manifests, pings, ...).
    Other,
}

impl ResourceType {
    /// A short lowercase name: `document`, `stylesheet`, `script`, `font`,
    /// `image`, `xhr`, `other`.
    pub fn label(self) -> &'static str {
        match self {
            ResourceType::Document => "document",
            ResourceType::Stylesheet => "stylesheet",
            ResourceType::Script => "script",
            ResourceType::Font => "font",
            ResourceType::Image => "image",
            ResourceType::Xhr => "xhr",
            ResourceType::Other => "other",
        }
    }

    /// Chrome's `_resourceType` value.
    fn from_chrome(s: &str) -> ResourceType {
        match s.to_ascii_lowercase().as_str() {
            "document" => ResourceType::Document,
            "stylesheet" => ResourceType::Stylesheet,
            "script" => ResourceType::Script,
            "font" => ResourceType::Font,
            "image" => ResourceType::Image,
            "xhr" | "fetch" => ResourceType::Xhr,
            _ => ResourceType::Other,
        }
    }

    /// A MIME type's resource type (parameters such as `; charset=` are
    /// ignored).
    fn from_mime(mime: &str) -> ResourceType {
        let essence = mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "text/html" | "application/xhtml+xml" => ResourceType::Document,
            "text/css" => ResourceType::Stylesheet,
            "text/javascript"
            | "application/javascript"
            | "application/x-javascript"
            | "module" => ResourceType::Script,
            "application/json" => ResourceType::Xhr,
            m if m.starts_with("font/") || m.contains("font-woff") => ResourceType::Font,
            m if m.starts_with("image/") => ResourceType::Image,
            _ => ResourceType::Other,
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Which HAR field an entry's size came from (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeSource {
    /// `response.bodySize`: the body as transferred.
    BodySize,
    /// `_transferSize` − `response.headersSize`.
    TransferSize,
    /// `response.content.size`: the decoded body (a fallback).
    ContentSize,
}

/// What requested an entry, as Chrome's `_initiator` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Initiator {
    /// The HTML parser of the document at `url`, at `line` if given.
    Parser {
        /// The document that referenced the resource.
        url: String,
        /// Its line (0-based, as Chrome writes it), if given.
        line: Option<u64>,
    },
    /// A script: the URL on top of the initiating stack, or the initiator's
    /// `url`.
    Script {
        /// The script's URL, if the HAR names one.
        url: Option<String>,
    },
    /// Anything else (`other`, `preload`, a redirect, ...).
    Other,
}

/// One HTTP(S) request of the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HarEntry {
    /// Its index in `log.entries` (errors and warnings name it).
    pub index: usize,
    /// The full URL.
    pub url: String,
    /// `scheme://host[:port]`.
    pub origin: String,
    /// The resource type.
    pub resource_type: ResourceType,
    /// The body size in bytes.
    pub size: u64,
    /// Where [`HarEntry::size`] came from.
    pub size_source: SizeSource,
    /// What requested it, if the HAR says.
    pub initiator: Option<Initiator>,
    /// Chrome's priority (`VeryHigh` ... `VeryLow`), if the HAR says.
    pub priority: Option<String>,
}

/// Something the reader noticed and worked around, naming the entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HarWarning {
    /// The entry's index in `log.entries`.
    pub entry: usize,
    /// What was done and why.
    pub message: String,
}

impl fmt::Display for HarWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {}: {}", self.entry, self.message)
    }
}

/// A HAR file the reader cannot use, with where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{field}: {reason}", entry.map(|i| format!("entry {i}: ")).unwrap_or_default())]
pub struct HarError {
    /// The entry's index in `log.entries`, if the error is in one.
    pub entry: Option<usize>,
    /// The field, e.g. `request.url`, or `log.entries`.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl HarError {
    fn at(entry: Option<usize>, field: &str, reason: impl Into<String>) -> HarError {
        HarError {
            entry,
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The requests of a recorded page, in the HAR's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HarPage {
    /// Every HTTP(S) entry the reader kept.
    pub entries: Vec<HarEntry>,
    /// What it skipped or guessed, by entry.
    pub warnings: Vec<HarWarning>,
}

impl HarPage {
    /// Read a HAR 1.2 text. See the module docs for what is read and the
    /// errors.
    pub fn parse(text: &str) -> Result<HarPage, HarError> {
        let root: Value = serde_json::from_str(text).map_err(|e| {
            HarError::at(
                None,
                "(file)",
                format!(
                    "not a JSON document: {} at line {} column {}",
                    json_reason(&e),
                    e.line(),
                    e.column()
                ),
            )
        })?;
        let entries = root
            .get("log")
            .and_then(|log| log.get("entries"))
            .and_then(Value::as_array)
            .ok_or_else(|| {
                HarError::at(
                    None,
                    "log.entries",
                    "missing, or not a list: not a HAR file",
                )
            })?;
        if entries.is_empty() {
            return Err(HarError::at(None, "log.entries", "the HAR has no entries"));
        }
        let mut page = HarPage {
            entries: Vec::new(),
            warnings: Vec::new(),
        };
        let mut seen = BTreeSet::new();
        for (index, entry) in entries.iter().enumerate() {
            if let Some(e) = read_entry(index, entry, &mut page.warnings)? {
                if !seen.insert(e.url.clone()) {
                    page.warnings.push(HarWarning {
                        entry: index,
                        message: format!("{} was requested before too; kept both", e.url),
                    });
                }
                page.entries.push(e);
            }
        }
        if page.entries.iter().all(|e| e.size == 0) {
            return Err(HarError::at(
                None,
                "log.entries",
                format!(
                    "the page has no bytes: {} HTTP(S) entries, every body empty or unknown",
                    page.entries.len()
                ),
            ));
        }
        Ok(page)
    }

    /// The distinct origins, in order of first appearance.
    pub fn origins(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for e in &self.entries {
            if !out.contains(&e.origin.as_str()) {
                out.push(&e.origin);
            }
        }
        out
    }

    /// Bytes of every body.
    pub fn total_bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.size).sum()
    }
}

/// `serde_json`'s error category in words.
fn json_reason(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "it ends too early (truncated?)",
        serde_json::error::Category::Syntax => "a syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Io => "a read error",
    }
}

/// One entry, or `None` if it is skipped (with a warning).
fn read_entry(
    index: usize,
    entry: &Value,
    warnings: &mut Vec<HarWarning>,
) -> Result<Option<HarEntry>, HarError> {
    let at = Some(index);
    let url = entry
        .pointer("/request/url")
        .and_then(Value::as_str)
        .ok_or_else(|| HarError::at(at, "request.url", "missing, or not a string"))?;
    let scheme = url
        .split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default();
    let rest = match url.split_once("://") {
        Some((_, rest)) if scheme == "http" || scheme == "https" => rest,
        _ if scheme.is_empty() => {
            warnings.push(HarWarning {
                entry: index,
                message: format!("{} is not an http(s) URL; skipped", short(url)),
            });
            return Ok(None);
        }
        _ => "",
    };
    if scheme != "http" && scheme != "https" {
        warnings.push(HarWarning {
            entry: index,
            message: format!("{scheme}: is not http(s); skipped"),
        });
        return Ok(None);
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    if host_port.is_empty() {
        return Err(HarError::at(
            at,
            "request.url",
            format!("{} has no host", short(url)),
        ));
    }
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let host_port = host_port
        .strip_suffix(default_port)
        .unwrap_or(host_port)
        .to_ascii_lowercase();
    let origin = format!("{scheme}://{host_port}");

    let mime = entry
        .pointer("/response/content/mimeType")
        .and_then(Value::as_str)
        .unwrap_or("");
    let resource_type = match entry.get("_resourceType").and_then(Value::as_str) {
        Some(t) => ResourceType::from_chrome(t),
        None => ResourceType::from_mime(mime),
    };

    let number = |pointer: &str| entry.pointer(pointer).and_then(Value::as_i64);
    let (size, size_source) = if let Some(n) = number("/response/bodySize").filter(|&n| n >= 0) {
        (n as u64, SizeSource::BodySize)
    } else if let (Some(t), Some(h)) = (
        number("/_transferSize").filter(|&n| n >= 0),
        number("/response/headersSize").filter(|&n| n >= 0),
    ) {
        (t.saturating_sub(h) as u64, SizeSource::TransferSize)
    } else if let Some(n) = number("/response/content/size").filter(|&n| n >= 0) {
        warnings.push(HarWarning {
            entry: index,
            message: "no transferred body size; used the decoded content.size".to_owned(),
        });
        (n as u64, SizeSource::ContentSize)
    } else {
        warnings.push(HarWarning {
            entry: index,
            message: format!("{}: no body size in the HAR; skipped", short(url)),
        });
        return Ok(None);
    };

    let initiator = entry.get("_initiator").map(|i| {
        let kind = i.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "parser" => Initiator::Parser {
                url: i
                    .get("url")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                line: i.get("lineNumber").and_then(Value::as_u64),
            },
            "script" => Initiator::Script {
                url: i
                    .pointer("/stack/callFrames/0/url")
                    .and_then(Value::as_str)
                    .or_else(|| i.get("url").and_then(Value::as_str))
                    .filter(|u| !u.is_empty())
                    .map(str::to_owned),
            },
            _ => Initiator::Other,
        }
    });
    let priority = entry
        .get("_priority")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Some(HarEntry {
        index,
        url: url.to_owned(),
        origin,
        resource_type,
        size,
        size_source,
        initiator,
        priority,
    }))
}

/// A URL cut to 80 characters for messages.
fn short(url: &str) -> String {
    if url.chars().count() <= 80 {
        url.to_owned()
    } else {
        let cut: String = url.chars().take(77).collect();
        format!("{cut}...")
    }
}
