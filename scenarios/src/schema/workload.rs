//! The `[workload]` table: what the client fetches, told apart by `kind`,
//! and its conversion to a [`Workload`].

use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::{FieldMessage, Invalid};
use std::time::Duration;

use crate::content::size_of_path;
use crate::object::{Object, ObjectKind};
use crate::page::{Discovery, PageGraph, PageObject, PageStructure, SERVER_NAME};
use crate::workload::{PageSpec, Workload};

/// The `[workload]` table. Default: the default page.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkloadSpec {
    /// `kind = "page"`: an HTML document, then its subresources (see
    /// [`PageSpec`]); each field left out takes the default page's value.
    Page {
        /// HTML size in bytes. Default 30 000.
        html_size: Option<u64>,
        /// Number of subresources. Default 39.
        subresources: Option<u32>,
        /// Seed of the page's sizes. Default 1.
        page_seed: Option<u64>,
        /// Responses that carry the subresources (see
        /// [`PageSpec::subresource_responses`]). Default: one per
        /// subresource.
        subresource_responses: Option<u32>,
        /// `browser` (the default) or `flat`.
        structure: Option<PageStructure>,
    },
    /// `kind = "page-graph"`: a page object by object, with what discovers
    /// each (see [`PageGraph`]).
    PageGraph {
        /// Host names of the origins, the document's first. Default: the
        /// lab's server name alone.
        origins: Option<Vec<String>>,
        /// Whether the preload scanner is on. Default on.
        preload_scanner: Option<bool>,
        /// The objects, the document first.
        objects: Vec<ObjectSpec>,
    },
    /// `kind = "bulk"`: one object of `size` bytes.
    Bulk {
        /// Body size in bytes.
        size: u64,
    },
    /// `kind = "parallel"`: `count` objects of `size` bytes, all at once.
    Parallel {
        /// Number of objects.
        count: u32,
        /// Body size of each, in bytes.
        size: u64,
    },
    /// `kind = "rpc"`: `requests` objects of `size` bytes, at most
    /// `concurrency` outstanding.
    Rpc {
        /// Number of requests.
        requests: u32,
        /// Body size of each response, in bytes.
        size: u64,
        /// Most requests outstanding at once.
        concurrency: u32,
    },
    /// `kind = "list"`: the objects as given, all at once.
    List {
        /// The objects, in request order.
        objects: Vec<ObjectSpec>,
    },
}

impl Default for WorkloadSpec {
    /// The default page.
    fn default() -> WorkloadSpec {
        WorkloadSpec::Page {
            html_size: None,
            subresources: None,
            page_seed: None,
            subresource_responses: None,
            structure: None,
        }
    }
}

/// One object of a `list` workload, `{ path = "/bytes/5000/app.js", kind =
/// "js" }`, or of a `page-graph` workload, which takes the fields after
/// `kind` too.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSpec {
    /// A content path, `/bytes/{size}/{name}`; the size comes from it.
    pub path: String,
    /// `html`, `css`, `js`, `async-js`, `defer-js`, `image`, `font` or
    /// `data`. Default `data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Page graphs: the host name of its origin, one of `origins`. Default
    /// the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Page graphs: found by the HTML parser at this byte of the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html_offset: Option<u64>,
    /// Page graphs: found by this earlier stylesheet or script (its path)
    /// once it has arrived and run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initiator: Option<String>,
    /// Page graphs: whether the first render waits for it. Default no.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub render_blocking: Option<bool>,
    /// Page graphs: milliseconds the browser spends on it after it has
    /// arrived (parsing, running) before what it discovers is requested.
    /// Default 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<f64>,
}

impl ObjectSpec {
    /// The first page-graph field set on a list object, if any.
    fn graph_field(&self) -> Option<&'static str> {
        [
            ("origin", self.origin.is_some()),
            ("html_offset", self.html_offset.is_some()),
            ("initiator", self.initiator.is_some()),
            ("render_blocking", self.render_blocking.is_some()),
            ("delay_ms", self.delay_ms.is_some()),
        ]
        .into_iter()
        .find(|(_, set)| *set)
        .map(|(name, _)| name)
    }

    fn object(&self) -> Object {
        Object {
            path: self.path.clone(),
            size: size_of_path(&self.path).unwrap_or(0),
            kind: self
                .kind
                .as_deref()
                .and_then(ObjectKind::from_name)
                .unwrap_or(ObjectKind::Data),
        }
    }
}

/// The page graph a `page-graph` table describes, or the field that is
/// wrong, named as in the file (`objects[3].initiator`).
fn page_graph(
    origins: &Option<Vec<String>>,
    preload_scanner: Option<bool>,
    objects: &[ObjectSpec],
) -> Result<PageGraph, Invalid> {
    let origins = origins
        .clone()
        .unwrap_or_else(|| vec![SERVER_NAME.to_owned()]);
    let mut graph = PageGraph {
        origins,
        objects: Vec::with_capacity(objects.len()),
        preload_scanner: preload_scanner.unwrap_or(true),
    };
    for (i, spec) in objects.iter().enumerate() {
        let field = |name: &str| format!("workload.objects[{i}].{name}");
        let origin = match &spec.origin {
            None => 0,
            Some(name) => graph
                .origins
                .iter()
                .position(|o| o == name)
                .ok_or_else(|| {
                    Invalid::new(
                        field("origin"),
                        format!(
                            "{name:?} is not one of the page's origins ({})",
                            graph.origins.join(", ")
                        ),
                    )
                })?,
        };
        let discovery = match (i, spec.html_offset, &spec.initiator) {
            (0, None, None) => Discovery::Navigation,
            (0, _, _) => {
                return Err(Invalid::new(
                    field(if spec.html_offset.is_some() {
                        "html_offset"
                    } else {
                        "initiator"
                    }),
                    "the first object is the document, requested by the navigation",
                ))
            }
            (_, Some(offset), None) => Discovery::Html { offset },
            (_, None, Some(path)) => {
                let of = objects[..i]
                    .iter()
                    .position(|o| &o.path == path)
                    .ok_or_else(|| {
                        Invalid::new(
                            field("initiator"),
                            format!("{path:?} is not the path of an earlier object"),
                        )
                    })?;
                Discovery::Completion { of }
            }
            (_, Some(_), Some(_)) => {
                return Err(Invalid::new(
                    field("initiator"),
                    "set html_offset or initiator, not both",
                ))
            }
            (_, None, None) => {
                return Err(Invalid::new(
                    field("html_offset"),
                    "missing: every object after the document needs html_offset (found by \
                     the parser) or initiator (found by a stylesheet or script)",
                ))
            }
        };
        let delay = match spec.delay_ms {
            None => Duration::ZERO,
            Some(ms) if ms.is_finite() && (0.0..=600_000.0).contains(&ms) => {
                Duration::from_secs_f64(ms / 1000.0)
            }
            Some(ms) => {
                return Err(Invalid::new(
                    field("delay_ms"),
                    format!("must be from 0 to 600000 (ten minutes), got {ms}"),
                ))
            }
        };
        graph.objects.push(PageObject {
            object: spec.object(),
            origin,
            discovery,
            render_blocking: spec.render_blocking.unwrap_or(false),
            delay,
        });
    }
    Ok(graph)
}

impl WorkloadSpec {
    /// `"page"`, `"page-graph"`, `"bulk"`, `"parallel"`, `"rpc"` or `"list"`.
    pub fn kind(&self) -> &'static str {
        match self {
            WorkloadSpec::Page { .. } => "page",
            WorkloadSpec::PageGraph { .. } => "page-graph",
            WorkloadSpec::Bulk { .. } => "bulk",
            WorkloadSpec::Parallel { .. } => "parallel",
            WorkloadSpec::Rpc { .. } => "rpc",
            WorkloadSpec::List { .. } => "list",
        }
    }

    /// The workload, defaults filled in. Call [`crate::Scenario::validate`]
    /// first: a list object with a bad path gets size 0 here.
    pub fn to_workload(&self) -> Workload {
        match self {
            WorkloadSpec::Page {
                html_size,
                subresources,
                page_seed,
                subresource_responses,
                structure,
            } => {
                let default = PageSpec::default();
                Workload::Page(PageSpec {
                    html_size: html_size.unwrap_or(default.html_size),
                    subresources: subresources.unwrap_or(default.subresources),
                    page_seed: page_seed.unwrap_or(default.page_seed),
                    subresource_responses: *subresource_responses,
                    structure: structure.unwrap_or_default(),
                })
            }
            WorkloadSpec::PageGraph {
                origins,
                preload_scanner,
                objects,
            } => match page_graph(origins, *preload_scanner, objects) {
                Ok(graph) => Workload::PageGraph(graph),
                // `check` reports this; until then, an empty graph (which
                // fails validation).
                Err(_) => Workload::PageGraph(PageGraph {
                    origins: Vec::new(),
                    objects: Vec::new(),
                    preload_scanner: true,
                }),
            },
            WorkloadSpec::Bulk { size } => Workload::Bulk { size: *size },
            WorkloadSpec::Parallel { count, size } => Workload::Parallel {
                count: *count,
                size: *size,
            },
            WorkloadSpec::Rpc {
                requests,
                size,
                concurrency,
            } => Workload::Rpc {
                requests: *requests,
                size: *size,
                concurrency: *concurrency,
            },
            WorkloadSpec::List { objects } => Workload::List {
                objects: objects.iter().map(ObjectSpec::object).collect(),
            },
        }
    }

    /// Checks every field; the error names it as written in the file
    /// (`workload.concurrency`, `workload.objects[2].path`).
    pub(crate) fn check(&self) -> Result<(), Invalid> {
        if let WorkloadSpec::List { objects } | WorkloadSpec::PageGraph { objects, .. } = self {
            for (i, object) in objects.iter().enumerate() {
                if let (WorkloadSpec::List { .. }, Some(name)) = (self, object.graph_field()) {
                    return Err(Invalid::new(
                        format!("workload.objects[{i}].{name}"),
                        "only the objects of a page-graph workload take it",
                    ));
                }
                if let Err(e) = size_of_path(&object.path) {
                    return Err(Invalid::new(
                        format!("workload.objects[{i}].path"),
                        format!("{:?} is not a content path: {e}", object.path),
                    ));
                }
                if let Some(kind) = &object.kind {
                    if ObjectKind::from_name(kind).is_none() {
                        let names: Vec<&str> = ObjectKind::ALL.iter().map(|k| k.as_str()).collect();
                        return Err(Invalid::new(
                            format!("workload.objects[{i}].kind"),
                            format!(
                                "unknown object kind {kind:?}; expected one of {}",
                                names.join(", ")
                            ),
                        ));
                    }
                }
            }
        }
        if let WorkloadSpec::PageGraph {
            origins,
            preload_scanner,
            objects,
        } = self
        {
            page_graph(origins, *preload_scanner, objects)?;
        }
        self.to_workload().validate().map_err(|e| {
            // `workload.rpc.concurrency` → `workload.concurrency`: in the
            // file, the kind is a field, not a table.
            let inner = format!("workload.{}.", self.kind());
            let field = match e.field().strip_prefix(&inner) {
                Some(rest) => format!("workload.{rest}"),
                None => e.field().to_owned(),
            };
            Invalid::new(field, e.reason())
        })
    }
}

/// The workload table as written: the union of every kind's fields.
#[derive(Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct WorkloadTable {
    kind: Option<WorkloadKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    html_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subresources: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subresource_responses: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    structure: Option<StructureName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origins: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preload_scanner: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requests: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    concurrency: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects: Option<Vec<ObjectSpec>>,
}

/// [`PageStructure`] as written: `"browser"` or `"flat"`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct StructureName(PageStructure);

impl Serialize for StructureName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for StructureName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StructureName, D::Error> {
        let name = String::deserialize(deserializer)?;
        PageStructure::from_name(&name)
            .map(StructureName)
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "unknown page structure {name:?}; expected \"browser\" or \"flat\""
                ))
            })
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
enum WorkloadKind {
    Page,
    PageGraph,
    Bulk,
    Parallel,
    Rpc,
    List,
}

impl WorkloadTable {
    fn stray_field(&self, allowed: &[&str]) -> Option<&'static str> {
        [
            ("html_size", self.html_size.is_some()),
            ("subresources", self.subresources.is_some()),
            ("page_seed", self.page_seed.is_some()),
            (
                "subresource_responses",
                self.subresource_responses.is_some(),
            ),
            ("structure", self.structure.is_some()),
            ("origins", self.origins.is_some()),
            ("preload_scanner", self.preload_scanner.is_some()),
            ("requests", self.requests.is_some()),
            ("count", self.count.is_some()),
            ("size", self.size.is_some()),
            ("concurrency", self.concurrency.is_some()),
            ("objects", self.objects.is_some()),
        ]
        .into_iter()
        .find(|(name, is_set)| *is_set && !allowed.contains(name))
        .map(|(name, _)| name)
    }
}

impl TryFrom<WorkloadTable> for WorkloadSpec {
    type Error = FieldMessage;

    fn try_from(t: WorkloadTable) -> Result<WorkloadSpec, FieldMessage> {
        let Some(kind) = t.kind else {
            return Err(FieldMessage::new(
                "kind",
                "missing: one of \"page\", \"page-graph\", \"bulk\", \"parallel\", \"rpc\", \"list\"",
            ));
        };
        let (name, allowed): (&str, &[&str]) = match kind {
            WorkloadKind::Page => (
                "page",
                &[
                    "html_size",
                    "subresources",
                    "page_seed",
                    "subresource_responses",
                    "structure",
                ],
            ),
            WorkloadKind::PageGraph => ("page-graph", &["origins", "preload_scanner", "objects"]),
            WorkloadKind::Bulk => ("bulk", &["size"]),
            WorkloadKind::Parallel => ("parallel", &["count", "size"]),
            WorkloadKind::Rpc => ("rpc", &["requests", "size", "concurrency"]),
            WorkloadKind::List => ("list", &["objects"]),
        };
        if let Some(field) = t.stray_field(allowed) {
            return Err(FieldMessage::new(
                field,
                format!(
                    "not a field of a {name} workload (it takes {})",
                    allowed.join(", ")
                ),
            ));
        }
        let need = |field: &'static str, value: Option<u64>| {
            value.ok_or_else(|| {
                FieldMessage::new(
                    field,
                    format!("missing: a {name} workload needs {}", allowed.join(", ")),
                )
            })
        };
        let need32 = |field: &'static str, value: Option<u32>| {
            need(field, value.map(u64::from)).map(|v| v as u32)
        };
        Ok(match kind {
            WorkloadKind::Page => WorkloadSpec::Page {
                html_size: t.html_size,
                subresources: t.subresources,
                page_seed: t.page_seed,
                subresource_responses: t.subresource_responses,
                structure: t.structure.map(|s| s.0),
            },
            WorkloadKind::PageGraph => WorkloadSpec::PageGraph {
                origins: t.origins,
                preload_scanner: t.preload_scanner,
                objects: t.objects.ok_or_else(|| {
                    FieldMessage::new("objects", "missing: a page-graph workload needs objects")
                })?,
            },
            WorkloadKind::Bulk => WorkloadSpec::Bulk {
                size: need("size", t.size)?,
            },
            WorkloadKind::Parallel => WorkloadSpec::Parallel {
                count: need32("count", t.count)?,
                size: need("size", t.size)?,
            },
            WorkloadKind::Rpc => WorkloadSpec::Rpc {
                requests: need32("requests", t.requests)?,
                size: need("size", t.size)?,
                concurrency: need32("concurrency", t.concurrency)?,
            },
            WorkloadKind::List => WorkloadSpec::List {
                objects: t.objects.ok_or_else(|| {
                    FieldMessage::new("objects", "missing: a list workload needs objects")
                })?,
            },
        })
    }
}

impl From<&WorkloadSpec> for WorkloadTable {
    fn from(spec: &WorkloadSpec) -> WorkloadTable {
        let mut t = WorkloadTable::default();
        match spec {
            WorkloadSpec::Page {
                html_size,
                subresources,
                page_seed,
                subresource_responses,
                structure,
            } => {
                t.kind = Some(WorkloadKind::Page);
                t.html_size = *html_size;
                t.subresources = *subresources;
                t.page_seed = *page_seed;
                t.subresource_responses = *subresource_responses;
                t.structure = structure.map(StructureName);
            }
            WorkloadSpec::PageGraph {
                origins,
                preload_scanner,
                objects,
            } => {
                t.kind = Some(WorkloadKind::PageGraph);
                t.origins = origins.clone();
                t.preload_scanner = *preload_scanner;
                t.objects = Some(objects.clone());
            }
            WorkloadSpec::Bulk { size } => {
                t.kind = Some(WorkloadKind::Bulk);
                t.size = Some(*size);
            }
            WorkloadSpec::Parallel { count, size } => {
                t.kind = Some(WorkloadKind::Parallel);
                t.count = Some(*count);
                t.size = Some(*size);
            }
            WorkloadSpec::Rpc {
                requests,
                size,
                concurrency,
            } => {
                t.kind = Some(WorkloadKind::Rpc);
                t.requests = Some(*requests);
                t.size = Some(*size);
                t.concurrency = Some(*concurrency);
            }
            WorkloadSpec::List { objects } => {
                t.kind = Some(WorkloadKind::List);
                t.objects = Some(objects.clone());
            }
        }
        t
    }
}

impl<'de> Deserialize<'de> for WorkloadSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<WorkloadSpec, D::Error> {
        struct WorkloadVisitor;

        impl<'de> Visitor<'de> for WorkloadVisitor {
            type Value = WorkloadSpec;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a workload table with kind = \"page\", \"bulk\", ...")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<WorkloadSpec, A::Error> {
                let table = WorkloadTable::deserialize(MapAccessDeserializer::new(map))?;
                WorkloadSpec::try_from(table).map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_map(WorkloadVisitor)
    }
}

impl Serialize for WorkloadSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WorkloadTable::from(self).serialize(serializer)
    }
}
