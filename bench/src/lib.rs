//! bench: the `httplab` binary and the sweep runner: scenario in, raw
//! results out.
//!
//! Map of the crate:
//! - [`runner`]: one run of a `RunSpec` in the simulation, on the current
//!   thread, with panics caught: its [`RunResult`] (the `records` crate's
//!   record of one run, documented field by field in `docs/results.md`);
//! - [`kernel`]: one run of a `RunSpec` on the machine's kernel, through
//!   the real-time emulator (the `emulator` crate), recorded as a
//!   [`RunResult`] with `mode = kernel`;
//! - [`calibrate`]: `httplab calibrate`: the same runs in the simulation
//!   and on the kernel, side by side;
//! - [`shell`]: `httplab shell`: a program behind the emulated link;
//! - [`lab`]: this binary's `records::LabInfo` (version, git commit,
//!   dependency versions), captured by `build.rs`;
//! - [`sweep`]: a scenario's runs, sharded, run in parallel on threads of
//!   their own, resumed from what is already stored;
//! - [`results`]: a results directory: `results.jsonl` (written here, read
//!   through `records::ResultsReader`), [`results::StoredRun`] (what
//!   resuming, merging and the summary need of a record), `summary.csv`,
//!   `scenario.toml`, atomic writes, merging shards;
//! - [`table`]: the per-protocol table a sweep prints at its end;
//! - [`progress`]: a sweep's progress on stderr;
//! - [`signals`]: SIGINT and SIGTERM as the flag that stops a sweep;
//! - [`spec`]: the boundary to the scenario schema;
//! - [`network`]: a scenario's resolved network as netsim's
//!   `NetworkConfig` (netsim knows nothing of scenarios);
//! - [`import_har`]: `httplab import-har`: a recorded page (HAR) as a
//!   scenario file;
//! - [`serve`]: `httplab serve`'s limits flags (`servers::Limits`) and
//!   what it prints of its limits and address;
//! - [`get`]: `httplab get URL`: a URL fetched from any HTTPS server by the
//!   lab's client on real sockets, with curl-like timings;
//! - [`cert`]: `httplab cert`: the lab's certificate in PEM;
//! - [`console`]: writing to stdout and stderr as shell tools do (one
//!   write per line, a closed pipe ignored), the exit codes, and error
//!   messages with each cause once;
//! - [`cli`]: the command line (`httplab bench | run | list | merge | serve
//!   | get | cert | report | calibrate | shell | import-har`).
//!
//! Arrows point one way: bench uses scenarios, netsim, servers, clients
//! and records; nothing below it knows about sweeps. It calls `reports` to
//! render a report, which reads only what bench wrote to disk.

pub mod calibrate;
pub mod cert;
pub mod cli;
pub mod console;
pub mod get;
pub mod import_har;
pub mod kernel;
pub mod lab;
pub mod network;
pub mod progress;
pub mod results;
pub mod runner;
pub mod serve;
pub mod shell;
pub mod signals;
pub mod spec;
pub mod sweep;
pub mod table;

/// What [`runner::run`] returns: the record of one run, and how it ended.
pub use records::{Outcome, RunResult};
