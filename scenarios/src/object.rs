//! One object a client fetches ([`Object`]: a content path, its size and
//! its [`ObjectKind`]), and the priority a browser gives each kind.

use std::fmt;

use crate::content::object_path;
use crate::protocol::Priority;

/// What kind of resource an object stands for. The content is the same random
/// bytes for every kind; the kind only names and sizes objects, and lets
/// reports group them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    /// An HTML document.
    Html,
    /// A stylesheet.
    Css,
    /// A script the document's parser waits for (a classic `<script src>`
    /// in the head): it blocks rendering.
    Js,
    /// A script marked `async`: fetched without holding up the parser or
    /// the first render, run when it arrives.
    AsyncJs,
    /// A script marked `defer`: fetched without holding up the parser or
    /// the first render, run after the document is parsed and before
    /// DOMContentLoaded.
    DeferJs,
    /// An image.
    Image,
    /// A web font.
    Font,
    /// Anything else: JSON, binary blobs.
    Data,
}

impl ObjectKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [ObjectKind; 8] = [
        ObjectKind::Html,
        ObjectKind::Css,
        ObjectKind::Js,
        ObjectKind::AsyncJs,
        ObjectKind::DeferJs,
        ObjectKind::Image,
        ObjectKind::Font,
        ObjectKind::Data,
    ];

    /// A short lowercase name: `html`, `css`, `js`, `async-js`, `defer-js`,
    /// `image`, `font`, `data`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Html => "html",
            ObjectKind::Css => "css",
            ObjectKind::Js => "js",
            ObjectKind::AsyncJs => "async-js",
            ObjectKind::DeferJs => "defer-js",
            ObjectKind::Image => "image",
            ObjectKind::Font => "font",
            ObjectKind::Data => "data",
        }
    }

    /// The kind named `name` ([`ObjectKind::as_str`]), if any.
    pub fn from_name(name: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether an object of this kind can discover others in a
    /// [`crate::PageGraph`]: stylesheets and scripts.
    pub fn discovers(self) -> bool {
        matches!(
            self,
            ObjectKind::Css | ObjectKind::Js | ObjectKind::AsyncJs | ObjectKind::DeferJs
        )
    }

    /// The RFC 9218 priority Chrome's `priority` request header gives a
    /// resource of this kind when it is first requested (see
    /// `docs/workloads.md` for the Chromium code it follows):
    ///
    /// | kind | Chrome's load priority | urgency | incremental | header |
    /// |---|---|---|---|---|
    /// | HTML (navigation) | Highest | 0 | yes | `u=0, i` |
    /// | CSS, font | VeryHigh (Highest) | 0 | no | `u=0` |
    /// | script (parser-blocking) | High | 1 | no | `u=1` |
    /// | data (`fetch`/XHR) | High | 1 | yes | `u=1, i` |
    /// | script (`async`, `defer`) | Low | 3 | no | none |
    /// | image | Low | 3 | yes | `i` |
    ///
    /// Chromium's urgency is `HIGHEST - net::RequestPriority`
    /// (`ConvertRequestPriorityToQuicPriority`); stylesheets, scripts and
    /// fonts are not incremental (`ShouldLoadIncremental`), every other
    /// resource and the navigation are. Chrome raises an image it finds in
    /// the viewport to High once layout has run, with a priority update;
    /// the lab sends no updates, so every image keeps urgency 3.
    pub fn priority(self) -> Priority {
        let (urgency, incremental) = match self {
            ObjectKind::Html => (0, true),
            ObjectKind::Css | ObjectKind::Font => (0, false),
            ObjectKind::Js => (1, false),
            ObjectKind::Data => (1, true),
            ObjectKind::AsyncJs | ObjectKind::DeferJs => (3, false),
            ObjectKind::Image => (3, true),
        };
        Priority {
            urgency,
            incremental,
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One object to fetch: a content path and its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    /// The content path, `/bytes/{size}/{name}`.
    pub path: String,
    /// The body size in bytes; equals `size_of_path(path)`.
    pub size: u64,
    /// What the object stands for.
    pub kind: ObjectKind,
}

impl Object {
    /// The object of `size` bytes named `name` (see [`object_path`]).
    pub fn new(size: u64, name: &str, kind: ObjectKind) -> Object {
        Object {
            path: object_path(size, name),
            size,
            kind,
        }
    }
}
