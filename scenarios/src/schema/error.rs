//! Scenario errors: what is wrong, in which file, on which line, in which
//! field.

use std::fmt;

use crate::location::SourceMap;

/// What kind of problem a [`ScenarioError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file could not be read.
    Read,
    /// The text is not valid TOML.
    Syntax,
    /// Valid TOML that does not fit the schema: an unknown field, a wrong
    /// type, a missing field, an unknown name (`protocols = ["h4"]`).
    Schema,
    /// A value out of range or inconsistent with another
    /// (`network.loss.percent = 150`, an unknown preset).
    Invalid,
    /// A command-line override is out of range.
    Override,
}

/// A scenario that cannot be used, and why.
///
/// Displays as `{origin}:{line}:{column}: {field}: {reason}`, e.g.
/// `bad.toml:7:11: network.loss.percent: must be between 0 and 100, got 150`;
/// the line and column are left out when unknown (a scenario built in
/// code, an override), the field when the problem is in no field (a TOML
/// syntax error).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    kind: ErrorKind,
    origin: String,
    line: Option<usize>,
    column: Option<usize>,
    field: Option<String>,
    reason: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl ScenarioError {
    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The file (or `<built-in NAME>`, or `overrides`) the problem is in.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The line, counted from 1, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The column in characters, counted from 1, when known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// The field's path, e.g. `network.loss.percent` or
    /// `network.events[0].nth`, when the problem is in one.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// What is wrong, e.g. `must be between 0 and 100, got 150`.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    pub(crate) fn read(origin: &str, reason: impl fmt::Display) -> ScenarioError {
        ScenarioError {
            kind: ErrorKind::Read,
            origin: origin.to_owned(),
            line: None,
            column: None,
            field: None,
            reason: format!("cannot read the file: {reason}"),
        }
    }

    pub(crate) fn override_value(invalid: Invalid) -> ScenarioError {
        ScenarioError {
            kind: ErrorKind::Override,
            origin: "overrides".to_owned(),
            line: None,
            column: None,
            field: Some(invalid.field),
            reason: invalid.reason,
        }
    }

    /// A validation error, placed on the line of its field when the text
    /// is known.
    pub(crate) fn invalid(
        origin: &str,
        source: Option<(&str, &SourceMap)>,
        invalid: Invalid,
    ) -> ScenarioError {
        let at = source.and_then(|(text, map)| {
            map.offset_of(&invalid.field)
                .map(|offset| map.line_col(text, offset))
        });
        ScenarioError {
            kind: ErrorKind::Invalid,
            origin: origin.to_owned(),
            line: at.map(|at| at.line),
            column: at.map(|at| at.column),
            field: Some(invalid.field),
            reason: invalid.reason,
        }
    }

    /// A toml error (syntax or schema), with the field it falls in.
    pub(crate) fn from_toml(
        origin: &str,
        text: &str,
        map: &SourceMap,
        error: &toml::de::Error,
    ) -> ScenarioError {
        let message = one_line(error.message());
        let span = error.span();
        let mut at = span.as_ref().map(|s| map.line_col(text, s.start));
        if !map.parsed() {
            return ScenarioError {
                kind: ErrorKind::Syntax,
                origin: origin.to_owned(),
                line: at.map(|at| at.line),
                column: at.map(|at| at.column),
                field: None,
                reason: message,
            };
        }
        let container = span
            .as_ref()
            .and_then(|s| map.field_at(s.start))
            .map(str::to_owned);
        let join = |name: &str| match &container {
            Some(container) => format!("{container}.{name}"),
            None => name.to_owned(),
        };
        let (field, reason) = if let Some(name) = quoted_after(&message, "unknown field `")
            .or_else(|| quoted_after(&message, "missing field `"))
        {
            (Some(join(name)), message.clone())
        } else if let Some((name, reason)) = own_field_message(&message) {
            // Raised by this crate's own conversions as "name: reason",
            // where `name` is relative to the table being read.
            let field = join(name);
            if map.contains(&field) {
                at = map
                    .offset_of(&field)
                    .map(|offset| map.line_col(text, offset));
            }
            (Some(field), reason.to_owned())
        } else {
            (container, message.clone())
        };
        ScenarioError {
            kind: ErrorKind::Schema,
            origin: origin.to_owned(),
            line: at.map(|at| at.line),
            column: at.map(|at| at.column),
            field,
            reason,
        }
    }
}

/// A field that fails validation: its path in the file and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub field: String,
    pub reason: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Invalid {
        Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// An error this crate raises while reading a table, as `"{field}: {reason}"`
/// with `field` relative to the table; [`ScenarioError::from_toml`] turns it
/// back into a full field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldMessage {
    pub field: &'static str,
    pub reason: String,
}

impl FieldMessage {
    pub fn new(field: &'static str, reason: impl Into<String>) -> FieldMessage {
        FieldMessage {
            field,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FieldMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// `name` in `"... unknown field `name`, ..."`.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    Some(&rest[..rest.find('`')?])
}

/// `("nth", "must ...")` from `"nth: must ..."`, when the part before the
/// colon is a field name (serde's own messages have spaces there).
fn own_field_message(message: &str) -> Option<(&str, &str)> {
    let (name, reason) = message.split_once(": ")?;
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    is_name.then_some((name, reason))
}

/// A toml message on one line.
fn one_line(message: &str) -> String {
    message
        .trim()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a name is not one the lab knows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?}; expected {expected}")]
pub struct NameError {
    what: &'static str,
    name: String,
    expected: String,
}

impl NameError {
    /// `name` is not one of `known`, which the message lists as
    /// `a, b or c`.
    pub(crate) fn one_of(what: &'static str, name: &str, known: &[&str]) -> NameError {
        let expected = match known {
            [] => String::new(),
            [only] => (*only).to_owned(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
        };
        NameError {
            what,
            name: name.to_owned(),
            expected,
        }
    }
}
