//! A page as a browser loads it: objects with what discovers each one, from
//! which origin, and whether it holds up the first render ([`PageGraph`]).
//!
//! A client runs a [`PageGraph`] as a browser does (see `clients`, and
//! `docs/workloads.md` for the full model):
//! - the document (`objects[0]`) is requested first;
//! - the parser reads the HTML as its bytes arrive; an object discovered at
//!   HTML byte `k` ([`Discovery::Html`]) is requested once `k` bytes of the
//!   document are in;
//! - a stylesheet or script that discovers others ([`Discovery::Completion`]:
//!   fonts named by a stylesheet, resources a script inserts or fetches)
//!   does so once it has arrived and its [`PageObject::delay`] has passed;
//! - a parser-blocking script ([`ObjectKind::Js`]) stops the parser at its
//!   offset until it has arrived, every stylesheet before it has arrived
//!   (scripts wait for the CSSOM), and its delay has passed. With
//!   [`PageGraph::preload_scanner`] on (the default, as in every major
//!   browser), resources in the markup after it are still found as their
//!   bytes arrive; with it off, nothing after a blocking script is
//!   discovered until the script has run.
//!
//! [`PageGraph::browser`] (in `workload`, next to the page it structures)
//! builds the lab's default page from a [`crate::PageSpec`]: today's sizes
//! and counts, with the structure documented there. [`PageStructure::Flat`] keeps the earlier model (document, then
//! every subresource at once) for results that must stay reproducible.

use std::fmt;
use std::time::Duration;

use crate::object::{Object, ObjectKind};

/// The host name of the lab's server: the default page's document origin
/// and the name the lab's certificate is issued for.
pub const SERVER_NAME: &str = "server.httplab.test";

/// The default page's second origin: its images and fonts come from here,
/// as from a static-content host. The lab serves it from the same server
/// host (see `docs/workloads.md`).
pub const STATIC_ORIGIN: &str = "static.httplab.test";

/// The most objects a [`PageGraph`] may have.
pub const MAX_PAGE_OBJECTS: usize = 10_000;

/// The most origins a [`PageGraph`] may have.
pub const MAX_PAGE_ORIGINS: usize = 64;

/// How a `page` workload is structured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PageStructure {
    /// As a browser loads it: discovery while the HTML arrives, stylesheets
    /// that find fonts, scripts that block the parser or insert resources,
    /// a second origin ([`PageGraph::browser`]). The default.
    #[default]
    Browser,
    /// The lab's first model: the document, then when it is complete every
    /// subresource at once, one origin. Kept so that earlier results stay
    /// reproducible (the `page-flat` scenario).
    Flat,
}

impl PageStructure {
    /// Every structure, default first.
    pub const ALL: [PageStructure; 2] = [PageStructure::Browser, PageStructure::Flat];

    /// Its name in scenario files: `browser` or `flat`.
    pub fn as_str(self) -> &'static str {
        match self {
            PageStructure::Browser => "browser",
            PageStructure::Flat => "flat",
        }
    }

    /// The structure named `name`, if any.
    pub fn from_name(name: &str) -> Option<PageStructure> {
        PageStructure::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for PageStructure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What makes a client request an object of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discovery {
    /// The navigation itself: the document, `objects[0]`, and only it.
    Navigation,
    /// The HTML parser (or the preload scanner), once `offset` bytes of the
    /// document have arrived.
    Html {
        /// The byte of the document that references the object, from 0 to
        /// the document's size.
        offset: u64,
    },
    /// Object `of` (an earlier stylesheet or script), once it has arrived
    /// and its delay has passed.
    Completion {
        /// Index of the discovering object in [`PageGraph::objects`].
        of: usize,
    },
}

/// One object of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageObject {
    /// Path, size and kind.
    pub object: Object,
    /// Index of its origin in [`PageGraph::origins`].
    pub origin: usize,
    /// What discovers it.
    pub discovery: Discovery,
    /// Whether the first render waits for it (stylesheets and parser-blocking
    /// scripts in the document's head).
    pub render_blocking: bool,
    /// Time it takes the browser to process the object once it has arrived
    /// (parse a stylesheet, run a script) before what it discovers is
    /// requested and a blocked parser goes on. Default 0.
    pub delay: Duration,
}

/// A page with its dependencies. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageGraph {
    /// Host names of the page's origins (all `https`, served by the lab's
    /// server); `origins[0]` is the document's.
    pub origins: Vec<String>,
    /// The objects; `objects[0]` is the document.
    pub objects: Vec<PageObject>,
    /// Whether markup after a parser-blocking script is found before the
    /// script has run (see the module docs). Default on.
    pub preload_scanner: bool,
}

/// A page graph that fails validation: the object (or origin) and what is
/// wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct PageError {
    /// The field, e.g. `objects[3].initiator` or `origins[1]`.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl PageError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> PageError {
        PageError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Whether `name` is a host name the lab can issue a certificate for:
/// labels of ASCII letters, digits and `-`, joined by dots, 1 to 253
/// characters, each label 1 to 63 and not starting or ending with `-`.
pub fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl PageGraph {
    /// Checks the graph: 1 to [`MAX_PAGE_OBJECTS`] objects, the first an
    /// HTML document discovered by the navigation from origin 0 and no other
    /// one so; 1 to [`MAX_PAGE_ORIGINS`] distinct host names; every origin
    /// index in range; every HTML offset within the document; every
    /// completion discoverer an earlier stylesheet or script. Sizes are the
    /// workload's to check ([`crate::Workload::validate`]).
    pub fn validate(&self) -> Result<(), PageError> {
        if self.origins.is_empty() {
            return Err(PageError::new("origins", "must name at least one origin"));
        }
        if self.origins.len() > MAX_PAGE_ORIGINS {
            return Err(PageError::new(
                "origins",
                format!(
                    "at most {MAX_PAGE_ORIGINS} origins, got {}",
                    self.origins.len()
                ),
            ));
        }
        for (i, name) in self.origins.iter().enumerate() {
            if !is_host_name(name) {
                return Err(PageError::new(
                    format!("origins[{i}]"),
                    format!("{name:?} is not a host name (letters, digits, '-' and '.')"),
                ));
            }
            if self.origins[..i].contains(name) {
                return Err(PageError::new(
                    format!("origins[{i}]"),
                    format!("{name:?} is listed twice"),
                ));
            }
        }
        let Some(document) = self.objects.first() else {
            return Err(PageError::new("objects", "must not be empty"));
        };
        if self.objects.len() > MAX_PAGE_OBJECTS {
            return Err(PageError::new(
                "objects",
                format!(
                    "at most {MAX_PAGE_OBJECTS} objects, got {}",
                    self.objects.len()
                ),
            ));
        }
        if document.object.kind != ObjectKind::Html {
            return Err(PageError::new(
                "objects[0].kind",
                format!(
                    "the first object is the document and must be html, got {}",
                    document.object.kind
                ),
            ));
        }
        if document.origin != 0 {
            return Err(PageError::new(
                "objects[0].origin",
                "the document comes from the first origin",
            ));
        }
        for (i, object) in self.objects.iter().enumerate() {
            if object.origin >= self.origins.len() {
                return Err(PageError::new(
                    format!("objects[{i}].origin"),
                    format!(
                        "origin {} does not exist ({} origins)",
                        object.origin,
                        self.origins.len()
                    ),
                ));
            }
            match (i, object.discovery) {
                (0, Discovery::Navigation) => {}
                (0, _) => {
                    return Err(PageError::new(
                        "objects[0]",
                        "the document is requested by the navigation, not discovered",
                    ))
                }
                (_, Discovery::Navigation) => {
                    return Err(PageError::new(
                        format!("objects[{i}]"),
                        "only the first object (the document) is requested by the navigation",
                    ))
                }
                (_, Discovery::Html { offset }) if offset > document.object.size => {
                    return Err(PageError::new(
                        format!("objects[{i}].html_offset"),
                        format!(
                            "{offset} is past the end of the {}-byte document",
                            document.object.size
                        ),
                    ))
                }
                (_, Discovery::Html { .. }) => {}
                (_, Discovery::Completion { of }) => {
                    if of >= i {
                        return Err(PageError::new(
                            format!("objects[{i}].initiator"),
                            format!("object {of} is not an earlier object"),
                        ));
                    }
                    if !self.objects[of].object.kind.discovers() {
                        return Err(PageError::new(
                            format!("objects[{i}].initiator"),
                            format!(
                                "{} is {}; only stylesheets and scripts discover objects",
                                self.objects[of].object.path, self.objects[of].object.kind
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert!(is_host_name("static.httplab.test"));
        assert!(is_host_name("a-b.c1"));
        assert!(!is_host_name(""));
        assert!(!is_host_name("a..b"));
        assert!(!is_host_name("-a.b"));
        assert!(!is_host_name("a_b.c"));
        assert!(!is_host_name("a.b:443"));
    }
}
