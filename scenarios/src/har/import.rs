//! A recorded page as a page graph: [`HarPage::to_page`] turns the entries
//! of a HAR ([`HarPage`]) into the objects of a `kind = "page-graph"`
//! workload ([`ImportedPage::workload`]), and says for each object how its
//! discovery was decided ([`Basis`]). `httplab import-har` writes the
//! result as a scenario file.
//!
//! The rules, in order (`docs/workloads.md`, "Importing a HAR", says the
//! same):
//!
//! - **The document** is the first entry of type document. Entries before
//!   it (redirects, service-worker fetches) are dropped with a warning;
//!   later documents (iframes) become `data`, with a warning. A HAR
//!   without a document, or whose document has no bytes, is an error.
//! - **Zero-byte entries** (cached repeats, empty beacons) are skipped with
//!   a warning: no bytes crossed the network, and the content model has no
//!   empty objects. An entry larger than [`MAX_OBJECT_SIZE`] is an error.
//! - **Origins** are the host names of the entries' origins, in order of
//!   first appearance, so the document's is first. Schemes and ports are
//!   dropped (the lab serves every origin over https from its one server);
//!   two origins that differ only by them are merged, with a warning. A
//!   host that is not a host name ([`is_host_name`]: an underscore, say)
//!   gets every other character replaced by `-`, with a warning; one that
//!   cannot be repaired (an IPv6 literal) is an error.
//! - **Kinds**: stylesheet → `css`; script → `js` (parser-blocking) when
//!   Chrome's `_priority` is `VeryHigh`, `High`, `Medium` or absent, and
//!   `async-js` when it is `Low` or `VeryLow` (Chrome gives `async` and
//!   `defer` scripts Low); font → `font`; image → `image`; xhr, other and
//!   the later documents → `data`; the document → `html`.
//! - **Names** come from the URL's last non-empty path segment (`index.html`
//!   for the document's `/`, the resource type otherwise), every character
//!   outside `A-Z a-z 0-9 . _ -` replaced by `_`, cut to [`MAX_NAME_LEN`]
//!   bytes keeping a short extension, and made unique with `-2`, `-3`, ...
//!   before the extension. The path is `/bytes/{size}/{name}`
//!   ([`object_path`]), so paths are unique too.
//! - **Discovery** of each object after the document, from its
//!   `_initiator`:
//!   - `parser` naming the document: found by the HTML parser at byte
//!     `H × line / (L + 1)`, `H` the document's size and `L` the largest
//!     line of any object the document's parser found. Without a line: the
//!     offset of the object the parser found before it (0 if none), or,
//!     when no object of the document has a line, `H × (k + 1) / (n + 1)`
//!     for the `k`-th (from 0) of the `n` objects it found.
//!   - `parser` or `script` naming an earlier stylesheet or script of the
//!     page: found by that object once it has arrived (`initiator =` its
//!     path). Chrome reports a font or image named by a stylesheet as
//!     `parser` with the stylesheet's URL.
//!   - anything else (no `_initiator`, type `other`, a script without a
//!     URL, the document's inline script, a URL that is not an earlier
//!     stylesheet or script): inferred from the timing. If the request
//!     started before the document had arrived, the parser found it at the
//!     byte proportional to its start within the document's download
//!     window (`timings.receive` before the document's end, or the whole
//!     request without it; 0 before the window). Else the earlier
//!     stylesheet or script that finished latest at or before its start
//!     found it. Else (no timing, or nothing finished before it) it is
//!     found at the end of the document (`html_offset = H`). Each inferred
//!     object says why ([`Basis::Inferred`]).
//! - **Render-blocking**: Chrome's `_renderBlocking` when present
//!   (`blocking` → yes, anything else no); else stylesheets and
//!   parser-blocking scripts found by the HTML parser (an HTML offset, from
//!   the HAR or inferred) block the first render, nothing else does. The
//!   document itself is never marked.
//! - Every delay is 0, and the preload scanner is on.
//!
//! The result is checked as a scenario's workload is
//! ([`crate::Scenario::from_toml`] accepts it); nothing here panics on any
//! HAR.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{HarEntry, HarError, HarPage, HarWarning, Initiator, ResourceType};
use crate::content::{object_path, MAX_NAME_LEN, MAX_OBJECT_SIZE};
use crate::object::ObjectKind;
use crate::page::{is_host_name, MAX_PAGE_OBJECTS, MAX_PAGE_ORIGINS};
use crate::schema::{ObjectSpec, WorkloadSpec};

/// The longest extension (dot included) kept whole when a name is cut.
const MAX_EXTENSION_LEN: usize = 16;

/// A HAR's page as the objects of a `page-graph` workload, with how each
/// was decided.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedPage {
    /// Host names of the origins, the document's first.
    pub origins: Vec<String>,
    /// The objects, the document first, in the HAR's order.
    pub objects: Vec<ImportedObject>,
    /// What the reader and the conversion noticed, by entry.
    pub warnings: Vec<HarWarning>,
}

/// One object of an [`ImportedPage`].
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedObject {
    /// The entry it comes from (its index in `log.entries`).
    pub entry: usize,
    /// The entry's URL.
    pub url: String,
    /// The object as a `page-graph` workload takes it.
    pub spec: ObjectSpec,
    /// Its kind (the one `spec.kind` names).
    pub kind: ObjectKind,
    /// Its size in bytes (the one `spec.path` names).
    pub size: u64,
    /// How its discovery was decided.
    pub basis: Basis,
}

/// How an imported object's discovery was decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Basis {
    /// The document, requested by the navigation.
    Navigation,
    /// `_initiator` `parser` naming the document, at this line (0-based),
    /// if it gives one.
    Parser {
        /// The line the HAR gives.
        line: Option<u64>,
    },
    /// `_initiator` (`parser` or `script`) naming an earlier stylesheet or
    /// script of the page.
    Initiator,
    /// Inferred from the timing, because the HAR's initiator could not be
    /// used.
    Inferred {
        /// What was inferred.
        from: Inference,
        /// Why the HAR's initiator was not used, e.g. `no _initiator`.
        because: String,
    },
}

impl Basis {
    /// Whether the discovery came from the HAR's initiator ([`Basis::Parser`]
    /// or [`Basis::Initiator`]).
    pub fn from_har(&self) -> bool {
        matches!(self, Basis::Parser { .. } | Basis::Initiator)
    }
}

/// What the timing of an object without a usable initiator says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inference {
    /// It started while the document was arriving: found by the parser at
    /// the proportional byte.
    WhileDocumentArrived,
    /// It started after the document: found by the earlier stylesheet or
    /// script that finished latest before its start.
    AfterCompletion,
    /// Nothing to go on (no timing, or nothing finished before it): found
    /// at the end of the document.
    EndOfDocument,
}

impl fmt::Display for Inference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Inference::WhileDocumentArrived => "started while the document arrived",
            Inference::AfterCompletion => {
                "started after the stylesheet or script that finished last before it"
            }
            Inference::EndOfDocument => "no timing to go on: found at the end of the document",
        })
    }
}

impl ImportedPage {
    /// The `kind = "page-graph"` workload: these origins and objects, the
    /// preload scanner on.
    pub fn workload(&self) -> WorkloadSpec {
        WorkloadSpec::PageGraph {
            origins: Some(self.origins.clone()),
            preload_scanner: Some(true),
            objects: self.objects.iter().map(|o| o.spec.clone()).collect(),
        }
    }

    /// Bytes of every object.
    pub fn total_bytes(&self) -> u64 {
        self.objects.iter().map(|o| o.size).sum()
    }

    /// Each origin with how many objects come from it, in origin order.
    pub fn objects_per_origin(&self) -> Vec<(&str, usize)> {
        self.origins
            .iter()
            .map(|name| {
                let n = self
                    .objects
                    .iter()
                    .filter(|o| o.spec.origin.as_deref() == Some(name.as_str()))
                    .count();
                (name.as_str(), n)
            })
            .collect()
    }
}

impl HarPage {
    /// The page as the objects of a `page-graph` workload, by the rules in
    /// the module docs. Errors name the entry and field: no document, a
    /// document without bytes, an object too large for the content model,
    /// a host that is no host name, more objects or origins than a page
    /// graph takes.
    pub fn to_page(&self) -> Result<ImportedPage, HarError> {
        let mut warnings = self.warnings.clone();
        let Some(first) = self
            .entries
            .iter()
            .position(|e| e.resource_type == ResourceType::Document)
        else {
            return Err(HarError::at(
                None,
                "_resourceType",
                format!(
                    "no entry is an HTML document (_resourceType document, or mimeType text/html), \
                     so there is no page to import ({} HTTP(S) entries)",
                    self.entries.len()
                ),
            ));
        };
        let document = &self.entries[first];
        for e in &self.entries[..first] {
            warnings.push(HarWarning {
                entry: e.index,
                message: format!(
                    "{} comes before the document (entry {}); dropped",
                    super::short(&e.url),
                    document.index
                ),
            });
        }
        if document.size == 0 {
            return Err(HarError::at(
                Some(document.index),
                size_field(document),
                "the document has no bytes (a cached page?); the content model has no empty objects",
            ));
        }
        let mut kept: Vec<&HarEntry> = Vec::new();
        for e in &self.entries[first..] {
            if e.size > MAX_OBJECT_SIZE {
                return Err(HarError::at(
                    Some(e.index),
                    size_field(e),
                    format!(
                        "{} bytes is more than the content model serves ({MAX_OBJECT_SIZE})",
                        e.size
                    ),
                ));
            }
            if e.size == 0 {
                warnings.push(HarWarning {
                    entry: e.index,
                    message: format!(
                        "{}: no body bytes crossed the network (cached, or empty); skipped",
                        super::short(&e.url)
                    ),
                });
                continue;
            }
            if kept.len() == MAX_PAGE_OBJECTS {
                return Err(HarError::at(
                    Some(e.index),
                    "log.entries",
                    format!("a page graph takes at most {MAX_PAGE_OBJECTS} objects"),
                ));
            }
            if e.resource_type == ResourceType::Document && !kept.is_empty() {
                warnings.push(HarWarning {
                    entry: e.index,
                    message: format!(
                        "{} is a second document (an iframe?); imported as data",
                        super::short(&e.url)
                    ),
                });
            }
            kept.push(e);
        }

        let (origins, origin_of) = origins(&kept, &mut warnings)?;
        let kinds: Vec<ObjectKind> = kept
            .iter()
            .enumerate()
            .map(|(i, e)| kind_of(e, i == 0))
            .collect();
        let mut names = BTreeSet::new();
        let paths: Vec<String> = kept
            .iter()
            .map(|e| object_path(e.size, &unique_name(e, &mut names)))
            .collect();

        let discoveries = discover(&kept, &kinds);
        let mut objects = Vec::with_capacity(kept.len());
        for (i, e) in kept.iter().enumerate() {
            let (discovery, basis) = &discoveries[i];
            let render_blocking = i > 0
                && match &e.render_blocking {
                    Some(value) => value == "blocking",
                    None => {
                        matches!(kinds[i], ObjectKind::Css | ObjectKind::Js)
                            && matches!(discovery, Found::Html(_))
                    }
                };
            let (html_offset, initiator) = match *discovery {
                Found::Navigation => (None, None),
                Found::Html(offset) => (Some(offset), None),
                Found::By(of) => (None, Some(paths[of].clone())),
            };
            objects.push(ImportedObject {
                entry: e.index,
                url: e.url.clone(),
                spec: ObjectSpec {
                    path: paths[i].clone(),
                    kind: Some(kinds[i].as_str().to_owned()),
                    origin: Some(origins[origin_of[i]].clone()),
                    html_offset,
                    initiator,
                    render_blocking: render_blocking.then_some(true),
                    delay_ms: None,
                },
                kind: kinds[i],
                size: e.size,
                basis: basis.clone(),
            });
        }
        warnings.sort_by_key(|w| w.entry);
        let page = ImportedPage {
            origins,
            objects,
            warnings,
        };
        // The rules above make a valid workload; should they not, say so
        // rather than write a scenario that does not load.
        page.workload().check().map_err(|e| {
            HarError::at(
                None,
                "(import)",
                format!(
                    "the imported page is not a valid page graph (a bug in the import): {}: {}",
                    e.field, e.reason
                ),
            )
        })?;
        Ok(page)
    }
}

/// The HAR field an entry's size came from, for errors.
fn size_field(e: &HarEntry) -> &'static str {
    match e.size_source {
        super::SizeSource::BodySize => "response.bodySize",
        super::SizeSource::TransferSize => "_transferSize",
        super::SizeSource::ContentSize => "response.content.size",
    }
}

/// The page's host names in order of first appearance, and each kept
/// entry's index among them.
fn origins(
    kept: &[&HarEntry],
    warnings: &mut Vec<HarWarning>,
) -> Result<(Vec<String>, Vec<usize>), HarError> {
    let mut hosts: Vec<String> = Vec::new();
    // The first HAR origin (`scheme://host[:port]`) of each host.
    let mut first_origin: Vec<&str> = Vec::new();
    let mut by_origin: BTreeMap<&str, usize> = BTreeMap::new();
    let mut origin_of = Vec::with_capacity(kept.len());
    for e in kept {
        if let Some(&i) = by_origin.get(e.origin.as_str()) {
            origin_of.push(i);
            continue;
        }
        let host = lab_host(e, warnings)?;
        let i = match hosts.iter().position(|h| *h == host) {
            Some(i) => {
                warnings.push(HarWarning {
                    entry: e.index,
                    message: format!(
                        "origin {} differs from {} only by scheme or port; merged as {host} \
                         (the lab serves every origin over https on one port)",
                        e.origin, first_origin[i]
                    ),
                });
                i
            }
            None => {
                if hosts.len() == MAX_PAGE_ORIGINS {
                    return Err(HarError::at(
                        Some(e.index),
                        "request.url",
                        format!(
                            "{} is origin {}; a page graph takes at most {MAX_PAGE_ORIGINS}",
                            e.origin,
                            MAX_PAGE_ORIGINS + 1
                        ),
                    ));
                }
                hosts.push(host);
                first_origin.push(&e.origin);
                hosts.len() - 1
            }
        };
        by_origin.insert(&e.origin, i);
        origin_of.push(i);
    }
    Ok((hosts, origin_of))
}

/// The host name of an entry's origin, without scheme and port, repaired
/// (with a warning) if it is not a host name.
fn lab_host(e: &HarEntry, warnings: &mut Vec<HarWarning>) -> Result<String, HarError> {
    let authority = e.origin.split_once("://").map_or("", |(_, a)| a);
    let host = if authority.starts_with('[') {
        // An IPv6 literal: `[::1]:8080`.
        format!("{}]", authority.split(']').next().unwrap_or(""))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host.to_owned(),
            _ => authority.to_owned(),
        }
    };
    if is_host_name(&host) {
        return Ok(host);
    }
    let repaired: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let repaired: Vec<&str> = repaired
        .split('.')
        .map(|label| label.trim_matches('-'))
        .filter(|label| !label.is_empty())
        .collect();
    let repaired = repaired.join(".");
    if !host.starts_with('[') && is_host_name(&repaired) {
        warnings.push(HarWarning {
            entry: e.index,
            message: format!(
                "host {host:?} is not a host name the lab can issue a certificate for; named {repaired}"
            ),
        });
        return Ok(repaired);
    }
    Err(HarError::at(
        Some(e.index),
        "request.url",
        format!(
            "host {host:?} of {} is not a host name (letters, digits, '-' and '.'), and the lab \
             serves origins by name",
            super::short(&e.url)
        ),
    ))
}

/// The object kind of an entry (`document`: whether it is the page's
/// document).
fn kind_of(e: &HarEntry, document: bool) -> ObjectKind {
    match e.resource_type {
        ResourceType::Document if document => ObjectKind::Html,
        ResourceType::Stylesheet => ObjectKind::Css,
        ResourceType::Script => match e.priority.as_deref() {
            Some(p) if p.eq_ignore_ascii_case("low") || p.eq_ignore_ascii_case("verylow") => {
                ObjectKind::AsyncJs
            }
            _ => ObjectKind::Js,
        },
        ResourceType::Font => ObjectKind::Font,
        ResourceType::Image => ObjectKind::Image,
        ResourceType::Document | ResourceType::Xhr | ResourceType::Other => ObjectKind::Data,
    }
}

/// An object name for `e` that is not in `taken` yet (and is now).
fn unique_name(e: &HarEntry, taken: &mut BTreeSet<String>) -> String {
    let base = base_name(e);
    let (stem, extension) = match base.rfind('.') {
        Some(dot) if dot > 0 && base.len() - dot <= MAX_EXTENSION_LEN => base.split_at(dot),
        _ => (base.as_str(), ""),
    };
    let mut n = 1u64;
    loop {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let room = MAX_NAME_LEN.saturating_sub(extension.len() + suffix.len());
        // Every character is ASCII: byte positions are character ones.
        let name = format!("{}{suffix}{extension}", &stem[..stem.len().min(room)]);
        if taken.insert(name.clone()) {
            return name;
        }
        n += 1;
    }
}

/// The URL's last non-empty path segment, characters outside the name
/// grammar replaced by `_`; a fallback name when there is none.
fn base_name(e: &HarEntry) -> String {
    let rest = e.url.split_once("://").map_or(e.url.as_str(), |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let path = rest.find('/').map_or("", |slash| &rest[slash..]);
    let segment = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("");
    let name: String = segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.chars().all(|c| c == '.') {
        match e.resource_type {
            ResourceType::Document => "index.html".to_owned(),
            other => other.label().to_owned(),
        }
    } else {
        name
    }
}

/// What discovers an object: the navigation, the parser at a byte, or an
/// earlier object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    Navigation,
    Html(u64),
    By(usize),
}

/// `url` in one spelling: scheme and host lowercase, no default port, no
/// fragment, `/` for an empty path.
fn url_key(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let scheme = scheme.to_ascii_lowercase();
    let rest = rest.split('#').next().unwrap_or("");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = authority
        .rsplit('@')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => "",
    };
    let authority = match authority.strip_suffix(default_port) {
        Some(a) if !default_port.is_empty() => a,
        _ => &authority,
    };
    let tail = if tail.is_empty() { "/" } else { tail };
    format!("{scheme}://{authority}{tail}")
}

/// `a × b / c` in 128 bits, at most `a` (`b ≤ c` in every use), 0 if `c`
/// is 0.
fn scale(a: u64, b: u128, c: u128) -> u64 {
    if c == 0 {
        return 0;
    }
    let v = u128::from(a) * b.min(c) / c;
    u64::try_from(v).unwrap_or(a).min(a)
}

/// What discovers each kept entry, and on what basis (see the module docs).
fn discover(kept: &[&HarEntry], kinds: &[ObjectKind]) -> Vec<(Found, Basis)> {
    let document = kept[0];
    let h = document.size;
    let document_key = url_key(&document.url);
    let parsed_line = |e: &HarEntry| match &e.initiator {
        Some(Initiator::Parser { url, line }) if url_key(url) == document_key => Some(*line),
        _ => None,
    };
    let parser_found: Vec<Option<u64>> = kept[1..].iter().filter_map(|e| parsed_line(e)).collect();
    let largest_line = parser_found.iter().flatten().max().copied();
    let parser_count = parser_found.len() as u64;
    let mut parser_rank = 0u64;
    let mut last_parser_offset = 0u64;

    let mut out = vec![(Found::Navigation, Basis::Navigation)];
    // The latest object with each URL, among those before the current one.
    let mut earlier: BTreeMap<String, usize> = BTreeMap::new();
    earlier.insert(document_key.clone(), 0);
    for (j, e) in kept.iter().enumerate().skip(1) {
        let named = |url: &str, what: &str| -> Result<usize, String> {
            let key = url_key(url);
            match earlier.get(&key) {
                Some(&of) if kinds[of].discovers() => Ok(of),
                Some(0) => Err(format!("{what} is an inline script of the document")),
                Some(&of) => Err(format!(
                    "{what} {} is {}, which discovers nothing",
                    super::short(url),
                    kinds[of]
                )),
                None => Err(format!(
                    "{what} {} is not an earlier object of the page",
                    super::short(url)
                )),
            }
        };
        let from_har: Result<(Found, Basis), String> = match (&e.initiator, parsed_line(e)) {
            (_, Some(line)) => {
                let offset = match (line, largest_line) {
                    (Some(line), Some(largest)) => {
                        scale(h, u128::from(line), u128::from(largest) + 1)
                    }
                    (None, Some(_)) => last_parser_offset,
                    (_, None) => {
                        scale(h, u128::from(parser_rank) + 1, u128::from(parser_count) + 1)
                    }
                };
                parser_rank += 1;
                last_parser_offset = offset;
                Ok((Found::Html(offset), Basis::Parser { line }))
            }
            (Some(Initiator::Parser { url, .. }), None) => {
                named(url, "its parser initiator").map(|of| (Found::By(of), Basis::Initiator))
            }
            (Some(Initiator::Script { url: Some(url) }), None) => {
                named(url, "its initiating script").map(|of| (Found::By(of), Basis::Initiator))
            }
            (Some(Initiator::Script { url: None }), None) => {
                Err("its script initiator names no URL".to_owned())
            }
            (Some(Initiator::Other), None) => {
                Err("its _initiator is neither parser nor script".to_owned())
            }
            (None, None) => Err("no _initiator".to_owned()),
        };
        let found = from_har.unwrap_or_else(|because| {
            let (found, from) = infer(kept, kinds, j);
            (found, Basis::Inferred { from, because })
        });
        out.push(found);
        earlier.insert(url_key(&e.url), j);
    }
    out
}

/// What entry `j`'s timing says discovered it (see the module docs).
fn infer(kept: &[&HarEntry], kinds: &[ObjectKind], j: usize) -> (Found, Inference) {
    let document = kept[0];
    let h = document.size;
    let e = kept[j];
    let Some(start) = e.started else {
        return (Found::Html(h), Inference::EndOfDocument);
    };
    if let (Some(doc_start), Some(doc_end)) = (document.started, document.finished()) {
        if start < doc_end {
            let window = document
                .receive
                .map_or(doc_start, |r| doc_end.saturating_sub(r))
                .max(doc_start);
            let into = start.saturating_sub(window).as_nanos();
            let length = (doc_end - window).as_nanos();
            return (
                Found::Html(scale(h, into, length)),
                Inference::WhileDocumentArrived,
            );
        }
    }
    let latest = (1..j)
        .filter(|&i| kinds[i].discovers())
        .filter_map(|i| kept[i].finished().filter(|&f| f <= start).map(|f| (f, i)))
        .max();
    match latest {
        Some((_, of)) => (Found::By(of), Inference::AfterCompletion),
        None => (Found::Html(h), Inference::EndOfDocument),
    }
}
