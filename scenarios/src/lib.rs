//! What the lab fetches, as data: the content every server serves and the
//! workloads every client carries out.
//!
//! - [`content`]: the bytes of every body, by path and run seed; path grammar; [`BodyCheck`].
//! - [`workload`]: what a client fetches ([`Workload`]), its validation, and its [`Plan`].
//!
//! Servers and clients carry out a workload; they never define one. Nothing
//! here reads a clock, and nothing here depends on the run seed except the
//! bytes of the bodies.

pub mod content;
pub mod workload;

pub use content::{
    body, digest, fill, object_path, size_of_path, BodyCheck, BodyMismatch, BodySource, PathError,
    MAX_NAME_LEN, MAX_OBJECT_SIZE,
};
pub use workload::{
    Object, ObjectKind, PageSpec, Phase, Plan, Workload, WorkloadError, MAX_PAGE_SUBRESOURCES,
    MAX_PARALLEL_COUNT, MAX_RPC_REQUESTS,
};
