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
//!   `Low`, `VeryLow`), as text; **render-blocking** from Chrome's
//!   `_renderBlocking` (`blocking`, `non_blocking`, `in_body_parser_blocking`,
//!   `potentially_blocking`), as text.
//! - **Timing**: `startedDateTime` (RFC 3339, read tolerantly: `T` or a
//!   space between date and time, any number of fraction digits, `Z`, an
//!   offset `+01:00`, `+0100` or `+01`, or none for UTC) as the time since
//!   the earliest start of the kept entries; `time` (the request's total
//!   milliseconds; a negative value is unknown), and `timings.receive` (the
//!   milliseconds the body took to arrive). Each is `None` when absent or
//!   unreadable, with a warning for `startedDateTime` and `time` (HAR 1.2
//!   requires both).
//!
//! Errors ([`HarError`]) name the entry (its index in `log.entries`) and
//! the field: text that is not JSON (with line and column), a missing
//! `log.entries`, an entry without a string `request.url`, a URL without a
//! host, and a page whose entries add up to no bytes at all. Nothing here
//! panics on any input.
//!
//! [`import`] turns a [`HarPage`] into the objects of a `page-graph`
//! workload ([`HarPage::to_page`]), the second step.

pub mod import;

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

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
    /// Chrome's `_renderBlocking` (`blocking`, `non_blocking`, ...), if the
    /// HAR says.
    pub render_blocking: Option<String>,
    /// When the request started (`startedDateTime`), counted from the
    /// earliest start of the page's kept entries; `None` if unknown.
    pub started: Option<Duration>,
    /// How long the request took in all (`time`), if known.
    pub time: Option<Duration>,
    /// How long its body took to arrive (`timings.receive`), if known.
    pub receive: Option<Duration>,
}

impl HarEntry {
    /// When the response had fully arrived ([`HarEntry::started`] plus
    /// [`HarEntry::time`]), if both are known (and the sum is a duration).
    pub fn finished(&self) -> Option<Duration> {
        self.started?.checked_add(self.time?)
    }
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
        // Each kept entry's start in nanoseconds since 1970, if known.
        let mut starts = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            if let Some((e, start)) = read_entry(index, entry, &mut page.warnings)? {
                if !seen.insert(e.url.clone()) {
                    page.warnings.push(HarWarning {
                        entry: index,
                        message: format!("{} was requested before too; kept both", e.url),
                    });
                }
                page.entries.push(e);
                starts.push(start);
            }
        }
        if let Some(first) = starts.iter().flatten().min().copied() {
            for (e, start) in page.entries.iter_mut().zip(starts) {
                e.started = start.and_then(|s| {
                    let since = s - first;
                    let secs = u64::try_from(since / 1_000_000_000).ok()?;
                    Some(Duration::new(secs, (since % 1_000_000_000) as u32))
                });
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

/// One entry and its start in nanoseconds since 1970 (if known), or `None`
/// if it is skipped (with a warning).
fn read_entry(
    index: usize,
    entry: &Value,
    warnings: &mut Vec<HarWarning>,
) -> Result<Option<(HarEntry, Option<i128>)>, HarError> {
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
    let text = |field: &str| entry.get(field).and_then(Value::as_str).map(str::to_owned);
    let priority = text("_priority");
    let render_blocking = text("_renderBlocking");

    let start = entry
        .get("startedDateTime")
        .and_then(Value::as_str)
        .and_then(rfc3339_nanos);
    if start.is_none() {
        warnings.push(HarWarning {
            entry: index,
            message: match entry.get("startedDateTime") {
                Some(v) => format!(
                    "startedDateTime {} is not an RFC 3339 time; its start is unknown",
                    short(&v.to_string())
                ),
                None => "no startedDateTime; its start is unknown".to_owned(),
            },
        });
    }
    let millis = |v: Option<&Value>| {
        v.and_then(Value::as_f64)
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok())
    };
    let time = millis(entry.get("time"));
    if time.is_none() {
        warnings.push(HarWarning {
            entry: index,
            message: "no time (or a negative one); its duration is unknown".to_owned(),
        });
    }
    let receive = millis(entry.pointer("/timings/receive"));
    Ok(Some((
        HarEntry {
            index,
            url: url.to_owned(),
            origin,
            resource_type,
            size,
            size_source,
            initiator,
            priority,
            render_blocking,
            started: None,
            time,
            receive,
        },
        start,
    )))
}

/// An RFC 3339 date and time as nanoseconds since 1970-01-01T00:00:00Z,
/// read tolerantly: `T`, `t` or a space between date and time, any number
/// of fraction digits (the first nine count), and `Z`, `z`, `+hh:mm`,
/// `+hhmm`, `+hh` (or `-`), or nothing (UTC). `None` if it is not such a
/// time.
fn rfc3339_nanos(text: &str) -> Option<i128> {
    let s = text.trim().as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = digits(0..4)?;
    let month = digits(5..7)?;
    let day = digits(8..10)?;
    let hour = digits(11..13)?;
    let minute = digits(14..16)?;
    let second = digits(17..19)?;
    if s.get(4) != Some(&b'-')
        || s.get(7) != Some(&b'-')
        || !matches!(s.get(10), Some(b'T' | b't' | b' '))
        || s.get(13) != Some(&b':')
        || s.get(16) != Some(&b':')
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut at = 19;
    let mut nanos: i128 = 0;
    if s.get(at) == Some(&b'.') {
        at += 1;
        let from = at;
        while s.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == from {
            return None;
        }
        let mut scale = 100_000_000;
        for &d in &s[from..at.min(from + 9)] {
            nanos += i128::from(d - b'0') * scale;
            scale /= 10;
        }
    }
    let offset_minutes = match s.get(at) {
        None | Some(b'Z' | b'z') if s.len() <= at + 1 => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &s[at + 1..];
            let hh = digits(at + 1..at + 3)?;
            let mm = match rest.len() {
                2 => 0,
                4 => digits(at + 3..at + 5)?,
                5 if rest[2] == b':' => digits(at + 4..at + 6)?,
                _ => return None,
            };
            if hh > 23 || mm > 59 {
                return None;
            }
            let minutes = hh * 60 + mm;
            if sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard
    // Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(i128::from(seconds) * 1_000_000_000 + nanos)
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

#[cfg(test)]
mod tests {
    use super::rfc3339_nanos;

    const S: i128 = 1_000_000_000;

    #[test]
    fn rfc3339_times_in_every_spelling_chrome_and_others_write() {
        // 2026-01-01T00:00:00Z is 20 454 days after 1970-01-01.
        let midnight = 20_454 * 86_400 * S;
        assert_eq!(rfc3339_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_nanos("2026-01-01T00:00:00.000Z"), Some(midnight));
        assert_eq!(rfc3339_nanos("2026-01-01t00:00:00z"), Some(midnight));
        assert_eq!(rfc3339_nanos("2026-01-01 00:00:00"), Some(midnight));
        assert_eq!(rfc3339_nanos("2026-01-01T01:00:00+01:00"), Some(midnight));
        assert_eq!(rfc3339_nanos("2026-01-01T01:30:00+0130"), Some(midnight));
        assert_eq!(rfc3339_nanos("2025-12-31T23:00:00-01"), Some(midnight));
        assert_eq!(
            rfc3339_nanos("2026-01-01T00:00:00.123456789123Z"),
            Some(midnight + 123_456_789)
        );
        assert_eq!(
            rfc3339_nanos("2026-01-01T00:00:00.5Z"),
            Some(midnight + S / 2)
        );
        // 2024 is a leap year: 1 March is 60 days after 1 January.
        assert_eq!(
            rfc3339_nanos("2024-03-01T00:00:00Z")
                .zip(rfc3339_nanos("2024-01-01T00:00:00Z"))
                .map(|(a, b)| a - b),
            Some(60 * 86_400 * S)
        );
        for bad in [
            "",
            "2026-01-01",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00Zjunk",
            "2026-01-01T00:00:00+1",
            "2026-01-01T00:00:00+01:0",
            "26-01-01T00:00:00Z",
            "２026-01-01T00:00:00Z",
        ] {
            assert_eq!(rfc3339_nanos(bad), None, "{bad:?}");
        }
    }
}
