//! records: the record of one run, one line of `results.jsonl`, and the one
//! reader of that file. `bench` writes these records and reads them back to
//! resume and merge sweeps; `reports` reads them to render a report. Both
//! read through this crate ([`ResultsReader`], a line at a time), so a line
//! one of them rejects the other rejects too, with the same message naming
//! the file and the line.
//!
//! Map of the crate:
//! - `run`: [`RunResult`], the envelope of one run (what it was, how it
//!   ended, what it measured), with [`Outcome`], [`ServerConnection`],
//!   [`SimulationSummary`] and the layout version [`SCHEMA`];
//! - `lab`: [`LabInfo`], the build of the lab that made a record, and its
//!   [`LabInfo::build_id`];
//! - `axes`: [`Axes`] and [`AxisValue`], a run's sweep-axis values;
//! - `plausible`: [`RunResult::implausible`], what no record the lab's
//!   writer produced can show (an ok run without a TTFB, a page load time
//!   shorter than a round trip), for `report`'s warnings;
//! - `read`: [`ResultsReader`] (line by line; [`read_records`] for a small
//!   file whole) and [`LineAt`], where a line is: the strict reader, every
//!   complete line a
//!   [`RunResult`] of this [`SCHEMA`] with no unknown field, or a
//!   [`ReadError`] (`path:line: what is wrong`).
//!
//! The record is composed of types defined where they are produced: the
//! network (`scenarios::ResolvedNetwork`), the client's measurements
//! (`clients::RunRecord`), the transport's statistics and settings
//! (`netsim::TransportStats`, `netsim::TransportSettings`). This crate owns
//! the envelope and the reader, and nothing here runs anything: the
//! constructors that need a simulation's values are bench's.
//! `docs/results.md` documents every field.

mod axes;
mod lab;
mod plausible;
mod read;
mod run;

pub use axes::{Axes, AxisValue};
pub use lab::LabInfo;
pub use read::{read_records, LineAt, ReadError, RecordLine, ResultsReader, RESULTS_FILE};
pub use run::{KernelRun, Mode, Outcome, RunResult, ServerConnection, SimulationSummary, SCHEMA};
