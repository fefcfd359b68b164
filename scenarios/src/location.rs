//! Where each field of a scenario file is: field paths to lines and back.
//!
//! [`SourceMap::new`] parses the text a second time into a tree of every
//! value with its byte span (`network.loss.percent`, `protocols[1]`,
//! `network.events[0].nth`, ...). Errors then get a line from either side:
//! a toml error's span names the field it falls in ([`SourceMap::field_at`]),
//! and a validation error's field path names its line
//! ([`SourceMap::locate`]).
//!
//! Spans come from toml's `Spanned` protocol: the deserializer hands a value
//! with its span to a struct of this private name and fields. Tables that are
//! only implied (`[network.up]` without a `[network]` header, dotted keys)
//! have no span; the tree keeps them without one, and lookups fall back to
//! their children or their parent.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// The name and fields of toml's `Spanned` protocol (`serde_spanned`).
const SPANNED: &str = "$__serde_spanned_private_Spanned";
const SPANNED_START: &str = "$__serde_spanned_private_start";
const SPANNED_END: &str = "$__serde_spanned_private_end";
const SPANNED_VALUE: &str = "$__serde_spanned_private_value";
const SPANNED_FIELDS: &[&str] = &[SPANNED_START, SPANNED_END, SPANNED_VALUE];

/// A line and column, both counted from 1 (the column in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// Every value of a TOML text with its span.
#[derive(Debug, Default)]
pub(crate) struct SourceMap {
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
    /// Field path → span, for every value that has one.
    spans: BTreeMap<String, Range<usize>>,
    /// Every field path, with or without a span (implied tables).
    paths: Vec<String>,
    /// Whether the text parsed as TOML at all.
    parsed: bool,
}

impl SourceMap {
    /// The map of `text`; empty (but still able to turn offsets into lines)
    /// if `text` is not valid TOML.
    pub fn new(text: &str) -> SourceMap {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut map = SourceMap {
            line_starts,
            ..SourceMap::default()
        };
        if let Ok(root) = toml::from_str::<BTreeMap<String, Node>>(text) {
            map.parsed = true;
            for (key, node) in &root {
                map.add(key.clone(), node);
            }
        }
        map.text_check(text);
        map
    }

    fn text_check(&mut self, text: &str) {
        // Spans are byte offsets into `text`; drop any that are not (never
        // expected, but a bad span must not panic when slicing later).
        self.spans
            .retain(|_, span| span.start <= span.end && span.end <= text.len());
    }

    fn add(&mut self, path: String, node: &Node) {
        if let Some(span) = &node.span {
            self.spans.insert(path.clone(), span.clone());
        }
        match &node.kind {
            Kind::Table(entries) => {
                for (key, child) in entries {
                    self.add(format!("{path}.{key}"), child);
                }
            }
            Kind::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    self.add(format!("{path}[{i}]"), child);
                }
            }
            Kind::Leaf => {}
        }
        self.paths.push(path);
    }

    /// Whether the text parsed as TOML.
    pub fn parsed(&self) -> bool {
        self.parsed
    }

    /// Line and column of byte `offset`.
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        LineCol { line, column }
    }

    /// The field whose value is the smallest one containing byte `offset`,
    /// or `None` when it lies in no value (a top-level key, a comment).
    pub fn field_at(&self, offset: usize) -> Option<&str> {
        self.spans
            .iter()
            .filter(|(_, span)| span.start <= offset && offset < span.end.max(span.start + 1))
            .min_by_key(|(path, span)| (span.end - span.start, std::cmp::Reverse(path.len())))
            .map(|(path, _)| path.as_str())
    }

    /// Whether `path` names a value in the text.
    pub fn contains(&self, path: &str) -> bool {
        self.paths.iter().any(|p| p == path)
    }

    /// Byte offset of the value at `path`; for a value not in the text, the
    /// first of its children that is, or else the nearest enclosing value
    /// that is (`network.loss.percent` → `network.loss` → `network`).
    pub fn offset_of(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some(span) = self.spans.get(path) {
                return Some(span.start);
            }
            let first_child = self
                .spans
                .iter()
                .filter(|(p, _)| is_child(p, path))
                .map(|(_, span)| span.start)
                .min();
            if first_child.is_some() {
                return first_child;
            }
            path = parent(path)?;
        }
    }
}

/// Whether `path` lies under `parent` (`a.b` and `a[0]` under `a`).
fn is_child(path: &str, parent: &str) -> bool {
    path.strip_prefix(parent)
        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// `a.b[2].c` → `a.b[2]` → `a.b` → `a` → none.
fn parent(path: &str) -> Option<&str> {
    let cut = path.rfind(['.', '['])?;
    Some(&path[..cut])
}

/// One value of the text and its span.
#[derive(Debug)]
struct Node {
    span: Option<Range<usize>>,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Table(BTreeMap<String, Node>),
    Array(Vec<Node>),
    Leaf,
}

impl Node {
    fn leaf() -> Node {
        Node {
            span: None,
            kind: Kind::Leaf,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        // Ask for a span; a value that has none arrives as itself.
        deserializer.deserialize_struct(SPANNED, SPANNED_FIELDS, NodeVisitor)
    }
}

/// Reads a spanned value (the span protocol's map) or a plain one.
struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any TOML value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::leaf())
    }

    fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
        Ok(Node::leaf())
    }

    fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
        Ok(Node::leaf())
    }

    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::leaf())
    }

    fn visit_str<E>(self, _: &str) -> Result<Node, E> {
        Ok(Node::leaf())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node {
            span: None,
            kind: Kind::Array(items),
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = BTreeMap::new();
        let Some(first) = map.next_key::<String>()? else {
            return Ok(Node {
                span: None,
                kind: Kind::Table(entries),
            });
        };
        if first == SPANNED_START {
            let start: usize = map.next_value()?;
            let mut end = start;
            let mut inner = Node::leaf();
            while let Some(key) = map.next_key::<String>()? {
                match key.as_str() {
                    SPANNED_END => end = map.next_value()?,
                    SPANNED_VALUE => inner = map.next_value_seed(PlainValue)?,
                    _ => return Err(de::Error::custom("unexpected key in a spanned value")),
                }
            }
            return Ok(Node {
                span: Some(start..end.max(start)),
                kind: inner.kind,
            });
        }
        entries.insert(first, map.next_value::<Node>()?);
        while let Some((key, value)) = map.next_entry::<String, Node>()? {
            entries.insert(key, value);
        }
        Ok(Node {
            span: None,
            kind: Kind::Table(entries),
        })
    }
}

/// The value inside a span: read as whatever it is.
struct PlainValue;

impl<'de> DeserializeSeed<'de> for PlainValue {
    type Value = Node;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\nprotocols = [\"h1\", \"h4\"]\n\n[network.up]\ndelay_ms = 5\n\n[[network.events]]\ntype = \"drop\"\nnth = 3\n";

    #[test]
    fn values_are_found_by_path() {
        let map = SourceMap::new(TEXT);
        assert!(map.parsed());
        let line = |path: &str| map.line_col(TEXT, map.offset_of(path).unwrap()).line;
        assert_eq!(line("name"), 1);
        assert_eq!(line("protocols[1]"), 2);
        assert_eq!(line("network.up.delay_ms"), 5);
        assert_eq!(line("network.events[0].nth"), 9);
        // Not in the text: the nearest enclosing value.
        assert_eq!(line("network.up.loss.percent"), 4);
        // An implied table: its first child.
        assert_eq!(line("network"), 4);
    }

    #[test]
    fn offsets_name_the_smallest_enclosing_field() {
        let map = SourceMap::new(TEXT);
        let at = TEXT.find("\"h4\"").unwrap();
        assert_eq!(map.field_at(at), Some("protocols[1]"));
        let at = TEXT.find("nth").unwrap();
        assert_eq!(map.field_at(at), Some("network.events[0]"));
        assert_eq!(map.field_at(0), None);
    }

    #[test]
    fn columns_count_characters() {
        let text = "a = \"é\"\nb = 1\n";
        let map = SourceMap::new(text);
        assert_eq!(
            map.line_col(text, text.find('1').unwrap()),
            LineCol { line: 2, column: 5 }
        );
        assert_eq!(
            map.line_col(text, text.len()),
            LineCol { line: 3, column: 1 }
        );
    }

    #[test]
    fn garbage_gives_an_empty_map() {
        let map = SourceMap::new("[[[ = \n\u{0}");
        assert!(!map.parsed());
        assert_eq!(map.offset_of("name"), None);
    }
}
