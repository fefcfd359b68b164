//! What the lab fetches, as data: the content every server serves and the
//! workloads every client carries out.
//!
//! - [`content`]: the bytes of every body, by path and run seed; path grammar; [`BodyCheck`].
//! - [`workload`]: what a client fetches ([`Workload`]), its validation, and its [`Plan`].
//! - [`schema`]: scenario files ([`Scenario`]): the TOML schema, validation with
//!   file/line/field errors, overrides, sweep expansion into [`RunSpec`]s, the content hash;
//!   whether a run has its network's drops and blackouts ([`NetworkEvents`]).
//! - [`resolved`]: the network of one run with every value explicit ([`ResolvedNetwork`]),
//!   and the names of the loss models ([`LossModelName`]).
//! - [`protocol`]: the lab's names for what a run speaks ([`Protocol`]), how it
//!   sets up its connections ([`Handshake`]), how its server orders responses
//!   ([`Scheduler`]), which certificate chain it presents ([`Certificate`])
//!   and whether a page's origins share a connection ([`Coalescing`]),
//!   used by every crate above this one; a request's RFC 9218 [`Priority`].
//!   Congestion control and pacing are named in the `tcp` crate
//!   (`tcp::Congestion`, `tcp::Pacing`), below this one.
//! - [`object`]: one object a client fetches ([`Object`], [`ObjectKind`]) and
//!   the priority a browser gives its kind.
//! - [`page`]: a page as a browser loads it ([`PageGraph`]): what discovers
//!   each object, its origin, whether it blocks the first render; the
//!   default page's structure.
//! - [`har`]: reading a recorded page from a HAR 1.2 file ([`har::HarPage`]);
//!   [`har::import`]: the page as the objects of a `page-graph` workload
//!   ([`har::HarPage::to_page`]), which `httplab import-har` writes as a
//!   scenario file.
//! - [`mod@preset`]: named networks (`fiber`, `cable`, `wifi`, `lte`, `3g`, `satellite`,
//!   `lossy-wifi`) with their sources.
//! - `location` (private): where each field of a TOML text is, for error lines.
//!
//! Servers and clients carry out a workload; they never define one. Nothing
//! here reads a clock, and nothing here depends on the run seed except the
//! bytes of the bodies.

pub mod content;
pub mod har;
mod location;
pub mod object;
pub mod page;
pub mod preset;
pub mod protocol;
pub mod resolved;
pub mod schema;
pub mod workload;

pub use content::{
    body, digest, fill, object_path, size_of_path, BodyCheck, BodyMismatch, BodySource, PathError,
    MAX_NAME_LEN, MAX_OBJECT_SIZE,
};
pub use object::{Object, ObjectKind};
pub use page::{
    Discovery, PageError, PageGraph, PageObject, PageStructure, MAX_PAGE_OBJECTS, MAX_PAGE_ORIGINS,
    SERVER_NAME, STATIC_ORIGIN,
};
pub use preset::{preset, presets, Preset};
pub use protocol::{
    Certificate, Coalescing, H3Discovery, Handshake, Priority, Protocol, Scheduler,
    H3_FALLBACK_DELAY,
};
pub use resolved::{
    Direction, IpProtocol, LossModelName, ResolvedBlackout, ResolvedDrop, ResolvedLink,
    ResolvedLoss, ResolvedNetwork, ResolvedPath, ResolvedPathChange, ResolvedQueue,
};
pub use schema::{
    Choices, DirectionSpec, ErrorKind, EventSpec, LossSpec, NameError, NamedAxis, NetworkEvents,
    NetworkSpec, ObjectSpec, Overrides, PathSpec, QueueSpec, RunSpec, Scenario, ScenarioError,
    Seeds, StartOffset, Sweep, WorkloadSpec, HANDSHAKE_AXIS, MAX_INITIAL_WINDOW,
    MAX_LISTED_OBJECTS, MAX_RUNS, MAX_SEEDS, MAX_SWEEP_POINTS,
};
pub use workload::{
    PageSpec, Phase, Plan, Workload, WorkloadError, MAX_LIST_OBJECTS, MAX_PAGE_SUBRESOURCES,
    MAX_PARALLEL_COUNT, MAX_RPC_REQUESTS,
};
