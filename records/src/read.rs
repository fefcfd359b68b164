//! The one reader of `results.jsonl`: [`ResultsFile`].
//!
//! - A last line without its newline is an interrupted write (a sweep
//!   killed mid-write leaves at most one): it is left out, and
//!   [`ResultsFile::partial_last_line`] says so.
//! - Blank lines are skipped.
//! - Every other line must be one [`RunResult`] of layout [`SCHEMA`]: JSON,
//!   every field present with its type, no field the record's envelope does
//!   not have, and only names the lab knows (protocols, handshakes,
//!   outcomes, loss models, ...). Anything else is a [`ReadError`] naming
//!   the file and the line, `path:line: what is wrong`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::run::{RunResult, SCHEMA};

/// The file name of the raw results in a results directory.
pub const RESULTS_FILE: &str = "results.jsonl";

/// Why a line of `results.jsonl` is not a record, or the file could not be
/// read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A line is not UTF-8.
    #[error("{path}:{line}: not UTF-8")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
    },
    /// A line is a record of another layout version.
    #[error(
        "{path}:{line}: a record of schema {found}, and this build reads schema {SCHEMA}; \
         write the results again with this build, into a fresh directory"
    )]
    Schema {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// The record's `schema`.
        found: u64,
    },
    /// A line is not a run record: not JSON, a field missing, of the wrong
    /// type or unknown, or a name the lab does not know.
    #[error("{path}:{line}: not a run record: {reason}")]
    NotARecord {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong, and at which column of the line.
        reason: String,
    },
}

/// One record of a [`ResultsFile`].
#[derive(Clone, Debug, PartialEq)]
pub struct RecordLine<'a> {
    /// Its line number, from 1.
    pub number: usize,
    /// The line as written, without its newline.
    pub text: &'a str,
    /// The record.
    pub record: RunResult,
}

/// The bytes of a `results.jsonl`, read record by record with
/// [`ResultsFile::records`].
#[derive(Clone, Debug)]
pub struct ResultsFile {
    path: PathBuf,
    bytes: Vec<u8>,
    complete_len: usize,
}

impl ResultsFile {
    /// Read the file at `path`; an error names it.
    pub fn read(path: &Path) -> Result<ResultsFile, ReadError> {
        let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok(ResultsFile::new(path, bytes))
    }

    /// The file at `path` whose contents are `bytes` (read already, or
    /// absent: no bytes); `path` names the file in errors.
    pub fn new(path: impl Into<PathBuf>, bytes: Vec<u8>) -> ResultsFile {
        let complete_len = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        ResultsFile {
            path: path.into(),
            bytes,
            complete_len,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's bytes, all of them.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Bytes up to the end of the last complete line.
    pub fn complete_len(&self) -> u64 {
        self.complete_len as u64
    }

    /// Whether the file ends in a line without its newline (an interrupted
    /// write), which [`ResultsFile::records`] leaves out.
    pub fn partial_last_line(&self) -> bool {
        self.complete_len < self.bytes.len()
    }

    /// Every complete, non-blank line as a record, in file order; a line
    /// that is not one is an error naming the file and the line.
    pub fn records(&self) -> impl Iterator<Item = Result<RecordLine<'_>, ReadError>> + '_ {
        self.bytes[..self.complete_len]
            .split(|&b| b == b'\n')
            .enumerate()
            .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
            .map(|(i, line)| self.record(i + 1, line))
    }

    /// Line `number`, whose bytes are `line`, as a record.
    fn record<'a>(&'a self, number: usize, line: &'a [u8]) -> Result<RecordLine<'a>, ReadError> {
        let text = std::str::from_utf8(line).map_err(|_| ReadError::NotUtf8 {
            path: self.path.clone(),
            line: number,
        })?;
        let schema_error = |found: u64| ReadError::Schema {
            path: self.path.clone(),
            line: number,
            found,
        };
        match serde_json::from_str::<RunResult>(text) {
            Ok(record) if record.schema == SCHEMA => match check_axes(&record.axes) {
                Ok(()) => Ok(RecordLine {
                    number,
                    text,
                    record,
                }),
                Err(reason) => Err(ReadError::NotARecord {
                    path: self.path.clone(),
                    line: number,
                    reason,
                }),
            },
            Ok(record) => Err(schema_error(u64::from(record.schema))),
            Err(e) => match layout(text) {
                Some(found) if found != u64::from(SCHEMA) => Err(schema_error(found)),
                _ => Err(ReadError::NotARecord {
                    path: self.path.clone(),
                    line: number,
                    reason: reason(&e),
                }),
            },
        }
    }
}

/// Every axis a sweep has, each with a value of its kind: a number for
/// the numeric axes, the axis's own label for a named one.
fn check_axes(axes: &crate::Axes) -> Result<(), String> {
    for (name, value) in axes {
        let ok = match scenarios::NamedAxis::from_name(name) {
            Some(axis) => value.axis() == Some(axis),
            None if scenarios::schema::SWEEP_AXES.contains(&name.as_str()) => {
                value.number().is_some()
            }
            None => return Err(format!("axes: unknown sweep axis {name:?}")),
        };
        if !ok {
            return Err(format!("axes.{name}: {value} is not a value of this axis"));
        }
    }
    Ok(())
}

/// The `schema` of a line that is a JSON object with one, whatever else it
/// holds.
fn layout(text: &str) -> Option<u64> {
    #[derive(Deserialize)]
    struct Layout {
        schema: u64,
    }
    serde_json::from_str::<Layout>(text).ok().map(|l| l.schema)
}

/// serde_json's message with its position as a column of the line (each
/// record is one line, so its "line 1" would only confuse).
fn reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&position) {
        Some(message) => format!("{message} (column {})", e.column()),
        None => text,
    }
}
