//! The `[workload]` table: what the client fetches, told apart by `kind`,
//! and its conversion to a [`Workload`].

use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::{FieldMessage, Invalid};
use crate::content::size_of_path;
use crate::workload::{Object, ObjectKind, PageSpec, Workload};

/// Every object kind, for parsing `kind = "js"`.
const OBJECT_KINDS: [ObjectKind; 7] = [
    ObjectKind::Html,
    ObjectKind::Css,
    ObjectKind::Js,
    ObjectKind::AsyncJs,
    ObjectKind::Image,
    ObjectKind::Font,
    ObjectKind::Data,
];

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
        }
    }
}

/// One object of a `list` workload: `{ path = "/bytes/5000/app.js", kind = "js" }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSpec {
    /// A content path, `/bytes/{size}/{name}`; the size comes from it.
    pub path: String,
    /// `html`, `css`, `js`, `image`, `font` or `data`. Default `data`.
    pub kind: Option<String>,
}

impl WorkloadSpec {
    /// `"page"`, `"bulk"`, `"parallel"`, `"rpc"` or `"list"`.
    pub fn kind(&self) -> &'static str {
        match self {
            WorkloadSpec::Page { .. } => "page",
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
            } => {
                let default = PageSpec::default();
                Workload::Page(PageSpec {
                    html_size: html_size.unwrap_or(default.html_size),
                    subresources: subresources.unwrap_or(default.subresources),
                    page_seed: page_seed.unwrap_or(default.page_seed),
                    subresource_responses: *subresource_responses,
                })
            }
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
                objects: objects
                    .iter()
                    .map(|o| Object {
                        path: o.path.clone(),
                        size: size_of_path(&o.path).unwrap_or(0),
                        kind: o
                            .kind
                            .as_deref()
                            .and_then(object_kind)
                            .unwrap_or(ObjectKind::Data),
                    })
                    .collect(),
            },
        }
    }

    /// Checks every field; the error names it as written in the file
    /// (`workload.concurrency`, `workload.objects[2].path`).
    pub(crate) fn check(&self) -> Result<(), Invalid> {
        if let WorkloadSpec::List { objects } = self {
            for (i, object) in objects.iter().enumerate() {
                if let Err(e) = size_of_path(&object.path) {
                    return Err(Invalid::new(
                        format!("workload.objects[{i}].path"),
                        format!("{:?} is not a content path: {e}", object.path),
                    ));
                }
                if let Some(kind) = &object.kind {
                    if object_kind(kind).is_none() {
                        return Err(Invalid::new(
                            format!("workload.objects[{i}].kind"),
                            format!(
                                "unknown object kind {kind:?}; expected html, css, js, async-js, \
                                 image, font or data"
                            ),
                        ));
                    }
                }
            }
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

fn object_kind(name: &str) -> Option<ObjectKind> {
    OBJECT_KINDS.into_iter().find(|k| k.as_str() == name)
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

#[derive(Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum WorkloadKind {
    Page,
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
                "missing: one of \"page\", \"bulk\", \"parallel\", \"rpc\", \"list\"",
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
                ],
            ),
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
            } => {
                t.kind = Some(WorkloadKind::Page);
                t.html_size = *html_size;
                t.subresources = *subresources;
                t.page_seed = *page_seed;
                t.subresource_responses = *subresource_responses;
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
