//! The one reader of `results.jsonl`, [`ResultsReader`] (one line at a
//! time, for files of any size; [`read_records`] for a small file whole),
//! and [`LineAt`], where a line is. Each line is read and checked alike:
//!
//! - A last line without its newline is an interrupted write (a sweep
//!   killed mid-write leaves at most one): it is left out, and
//!   [`ResultsReader::partial_last_line`] says so.
//! - Blank lines are skipped.
//! - Every other line must be one [`RunResult`] of layout [`SCHEMA`]: JSON,
//!   every field present with its type, no field the record's envelope does
//!   not have, and only names the lab knows (protocols, handshakes,
//!   outcomes, loss models, ...). Anything else is a [`ReadError`] naming
//!   the file and the line, `path:line: what is wrong`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
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

/// Where a line is in its file: its first byte and its length without the
/// newline. Enough to read it again ([`ResultsReader::record_at`]) or copy
/// it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineAt {
    /// Bytes from the start of the file.
    pub offset: u64,
    /// Length in bytes, without the newline.
    pub len: usize,
}

impl LineAt {
    /// Where the next line starts: after this one's newline.
    pub fn end(self) -> u64 {
        self.offset + self.len as u64 + 1
    }
}

/// One record of a `results.jsonl`, as [`ResultsReader::next_record`]
/// gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordLine<'a> {
    /// Its line number, from 1.
    pub number: usize,
    /// Where the line is.
    pub at: LineAt,
    /// The line as written, without its newline.
    pub text: &'a str,
    /// The record.
    pub record: RunResult,
}

/// `results.jsonl` read one line at a time, so that a file of any size
/// needs memory for one line only: [`ResultsReader::next_record`] gives
/// each complete, non-blank line as a record, in file order;
/// [`ResultsReader::text_at`] reads a line again where it is.
/// [`read_records`] reads a small file whole.
///
/// A last line without its newline is an interrupted write and is left
/// out ([`ResultsReader::partial_last_line`]).
///
/// `R` is where the bytes come from: the file ([`ResultsReader::open`]),
/// or bytes in memory ([`ResultsReader::of_bytes`]), which cannot be read
/// again by offset.
#[derive(Debug)]
pub struct ResultsReader<R = BufReader<File>> {
    path: PathBuf,
    source: R,
    /// A second handle for [`ResultsReader::text_at`], opened when first
    /// needed, so that reading a line again leaves the stream where it is.
    again: Option<File>,
    line: Vec<u8>,
    number: usize,
    offset: u64,
    complete: u64,
    partial: bool,
}

impl ResultsReader {
    /// Open the file at `path`; an error names it.
    pub fn open(path: &Path) -> Result<ResultsReader, ReadError> {
        let file = File::open(path).map_err(|source| ReadError::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok(ResultsReader::with_source(
            path,
            BufReader::with_capacity(1 << 20, file),
        ))
    }

    /// The line at `at` (one [`ResultsReader::next_record`] gave, without
    /// its newline), read again from the file; reading goes on where it
    /// was.
    pub fn text_at(&mut self, at: LineAt) -> Result<&str, ReadError> {
        let LineAt { offset, len } = at;
        let again = match self.again.take() {
            Some(file) => file,
            None => File::open(&self.path).map_err(|source| self.io(source))?,
        };
        let again = self.again.insert(again);
        self.line.resize(len, 0);
        let read = again
            .seek(SeekFrom::Start(offset))
            .and_then(|_| again.read_exact(&mut self.line));
        if let Err(source) = read {
            return Err(self.io(source));
        }
        std::str::from_utf8(&self.line).map_err(|_| ReadError::Io {
            path: self.path.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the {len} bytes at offset {offset} are no longer one UTF-8 line"),
            ),
        })
    }

    /// Line `number`, at `at`, read again, as a record.
    pub fn record_at(&mut self, number: usize, at: LineAt) -> Result<RecordLine<'_>, ReadError> {
        self.text_at(at)?;
        record(&self.path, number, at, &self.line)
    }
}

impl ResultsReader<std::io::Cursor<Vec<u8>>> {
    /// The bytes of a file (read already, or made by a test), read as the
    /// file `path`: errors name it.
    pub fn of_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Self {
        ResultsReader::with_source(path, std::io::Cursor::new(bytes))
    }
}

impl<R: BufRead> ResultsReader<R> {
    fn with_source(path: impl Into<PathBuf>, source: R) -> Self {
        ResultsReader {
            path: path.into(),
            source,
            again: None,
            line: Vec::new(),
            number: 0,
            offset: 0,
            complete: 0,
            partial: false,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next complete, non-blank line as a record, or `None` at the end
    /// of the file; a line that is not one is an error naming the file and
    /// the line (and reading may go on past it).
    pub fn next_record(&mut self) -> Option<Result<RecordLine<'_>, ReadError>> {
        loop {
            self.line.clear();
            let offset = self.offset;
            let read = match self.source.read_until(b'\n', &mut self.line) {
                Ok(n) => n,
                Err(source) => return Some(Err(self.io(source))),
            };
            if read == 0 {
                return None;
            }
            self.offset += read as u64;
            self.number += 1;
            if self.line.last() != Some(&b'\n') {
                self.partial = true;
                return None;
            }
            self.line.pop();
            self.complete = self.offset;
            if !blank(&self.line) {
                let at = LineAt {
                    offset,
                    len: self.line.len(),
                };
                return Some(record(&self.path, self.number, at, &self.line));
            }
        }
    }

    /// Bytes up to the end of the last complete line read so far (at the
    /// end of the file: where a partial last line begins, or its length).
    pub fn complete_len(&self) -> u64 {
        self.complete
    }

    /// Whether the lines read so far ended in one without its newline (an
    /// interrupted write), which [`ResultsReader::next_record`] left out.
    pub fn partial_last_line(&self) -> bool {
        self.partial
    }

    /// `source` as an error naming the file.
    fn io(&self, source: std::io::Error) -> ReadError {
        ReadError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

/// Every record of the file at `path`, in file order (a partial last line
/// left out); the first line that is not one is the error. For files small
/// enough to hold: tests, calibration, fixtures.
pub fn read_records(path: &Path) -> Result<Vec<RunResult>, ReadError> {
    let mut reader = ResultsReader::open(path)?;
    let mut records = Vec::new();
    while let Some(line) = reader.next_record() {
        records.push(line?.record);
    }
    Ok(records)
}

/// Whether a line holds only whitespace (a blank line is skipped).
fn blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Line `number` of the file at `path`, starting at `offset`, whose bytes
/// are `line`, as a record.
fn record<'a>(
    path: &Path,
    number: usize,
    at: LineAt,
    line: &'a [u8],
) -> Result<RecordLine<'a>, ReadError> {
    let text = std::str::from_utf8(line).map_err(|_| ReadError::NotUtf8 {
        path: path.to_owned(),
        line: number,
    })?;
    let schema_error = |found: u64| ReadError::Schema {
        path: path.to_owned(),
        line: number,
        found,
    };
    let not_a_record = |reason: String| ReadError::NotARecord {
        path: path.to_owned(),
        line: number,
        reason,
    };
    match serde_json::from_str::<RunResult>(text) {
        Ok(record) if record.schema == SCHEMA => match check_axes(&record.axes) {
            Ok(()) => Ok(RecordLine {
                number,
                at,
                text,
                record,
            }),
            Err(reason) => Err(not_a_record(reason)),
        },
        Ok(record) => Err(schema_error(u64::from(record.schema))),
        Err(e) => match layout(text) {
            Some(found) if found != u64::from(SCHEMA) => Err(schema_error(found)),
            _ => Err(not_a_record(reason(&e))),
        },
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
