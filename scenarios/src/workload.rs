//! Workloads: what a client fetches, as data.
//!
//! A [`Workload`] says what to fetch; [`Workload::plan`] turns it into a
//! [`Plan`]: phases run one after another, and within a phase objects are
//! requested in list order as the phase's concurrency allows. Every object is
//! a content path (see [`crate::content`]), so servers need nothing but the
//! path to answer.
//!
//! # The default page
//!
//! [`PageSpec::default`] is one HTML document of 30 000 bytes and 39
//! subresources, 1 750 000 bytes in all. Its mix follows the HTTP Archive Web
//! Almanac 2024, "Page Weight" chapter
//! (<https://almanac.httparchive.org/en/2024/page-weight>, October 2024
//! crawl). There the median desktop page makes 71 requests: 2 HTML, 4 font,
//! 8 CSS, 18 image and 24 JavaScript; and the median desktop home page loads
//! 18 KB of HTML, 78 KB of CSS, 131 KB of fonts, 613 KB of JavaScript and
//! 1 054 KB of images (2 652 KB in all, counting everything). The lab's page
//! has 40 objects, so it takes two thirds of each typed request count (JS 16,
//! images 12, CSS 5, fonts 3) plus 3 data objects for the requests no type
//! covers, and the byte medians scaled by 0.9 (data: our own 30 KB):
//!
//! | kind | objects | bytes | sigma of ln(size) | names |
//! |---|---|---|---|---|
//! | CSS   | 5  | 70 000  | 0.9 | `style-1.css` .. |
//! | JS    | 16 | 552 000 | 1.1 | `app-01.js` .. (`app-09.js` on: async) |
//! | font  | 3  | 118 000 | 0.5 | `font-1.woff2` .. |
//! | image | 12 | 950 000 | 1.3 | `img-01.jpg` .. |
//! | data  | 3  | 30 000  | 1.0 | `data-1.json` .. |
//!
//! Within a kind, sizes are log-normal with that sigma, drawn by an RNG keyed
//! by `page_seed` alone (never the run seed, so every run fetches the same
//! page), then scaled so the kind's sizes sum to its bytes exactly, each
//! clamped to [200 B, 500 KB] (see `fit_to_budget`). So every page seed has
//! the same total and the same bytes per kind; the seed moves only the split
//! within a kind. For `n` subresources the counts are the default mix scaled to
//! `n` (largest remainder) and each kind keeps its bytes per object. The
//! subresources are requested in the order of the table: what a browser finds
//! in the head, then what the CSS and body reference, then what scripts fetch.
//! Of the scripts, the first half (rounded up: `app-01.js` to `app-08.js`)
//! are parser-blocking ([`ObjectKind::Js`]) and the rest `async`
//! ([`ObjectKind::AsyncJs`]); the split changes only the kind, and with it
//! the priority a client may send ([`ObjectKind::priority`]), never a path,
//! size or the order. More in `docs/workloads.md`.

use std::time::Duration;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest as _, Sha256};

use crate::content::{size_of_path, MAX_OBJECT_SIZE};
use crate::object::{Object, ObjectKind};
use crate::page::{Discovery, PageGraph, PageObject, PageStructure, SERVER_NAME, STATIC_ORIGIN};

/// The most objects a [`Workload::Parallel`] may request.
pub const MAX_PARALLEL_COUNT: u32 = 10_000;
/// The most requests a [`Workload::Rpc`] may make: 100 000. Each costs
/// its record about 340 bytes and the run a few kilobytes while it runs;
/// a million made 340 MB records and a 4.8 GB process.
pub const MAX_RPC_REQUESTS: u32 = 100_000;
/// The most objects a [`Workload::List`] may request: 10 000, as a page
/// graph ([`crate::page::MAX_PAGE_OBJECTS`]); 1.5 million once took
/// 9.8 GB.
pub const MAX_LIST_OBJECTS: usize = 10_000;
/// The most subresources a [`PageSpec`] may have.
pub const MAX_PAGE_SUBRESOURCES: u32 = 1_000;

/// A web page: one HTML document, then its subresources.
#[derive(Clone, Debug, PartialEq)]
pub struct PageSpec {
    /// Size of the HTML document in bytes. Default 30 000.
    pub html_size: u64,
    /// Number of subresources fetched after the document. Default 39.
    pub subresources: u32,
    /// Seed of the page's sizes, independent of the run seed so that every run
    /// fetches the same page. Default 1.
    pub page_seed: u64,
    /// How many responses carry the subresources. `None` (the default): one
    /// response per subresource, all requested at once, as browsers do. `Some(k)`
    /// with `k` below `subresources`: the subresources, in request order, are cut
    /// into `k` consecutive groups of near-equal count and each group is served
    /// as one response of their summed size (`/bytes/{sum}/bundle-{i}.bin`), the
    /// same bytes in fewer streams. `Some(1)` is the bundled page of the
    /// head-of-line ablation: everything after the HTML on one stream.
    /// Only with [`PageStructure::Flat`].
    pub subresource_responses: Option<u32>,
    /// How the page is loaded: as a browser does (the default, see
    /// [`PageGraph::browser`]) or flat (the document, then everything at
    /// once).
    pub structure: PageStructure,
}

impl Default for PageSpec {
    fn default() -> PageSpec {
        PageSpec {
            html_size: 30_000,
            subresources: 39,
            page_seed: 1,
            subresource_responses: None,
            structure: PageStructure::Browser,
        }
    }
}

/// The model of one kind of subresource, for the default page of 39.
struct KindModel {
    kind: ObjectKind,
    /// Objects of this kind among the default 39 subresources.
    count: u32,
    /// Bytes of this kind on the default page.
    bytes: u64,
    /// Spread of sizes within the kind: standard deviation of ln(size).
    sigma: f64,
    /// Name prefix and extension: `{stem}-{i}.{ext}`.
    stem: &'static str,
    ext: &'static str,
}

/// The subresource mix, in request order: stylesheets and scripts (in the
/// document head), fonts (found through the CSS), images (in the body), data
/// (fetched by scripts). Counts sum to [`DEFAULT_SUBRESOURCES`], bytes to
/// 1 720 000; see the module doc for where the numbers come from.
const PAGE_MIX: [KindModel; 5] = [
    KindModel {
        kind: ObjectKind::Css,
        count: 5,
        bytes: 70_000,
        sigma: 0.9,
        stem: "style",
        ext: "css",
    },
    KindModel {
        kind: ObjectKind::Js,
        count: 16,
        bytes: 552_000,
        sigma: 1.1,
        stem: "app",
        ext: "js",
    },
    KindModel {
        kind: ObjectKind::Font,
        count: 3,
        bytes: 118_000,
        sigma: 0.5,
        stem: "font",
        ext: "woff2",
    },
    KindModel {
        kind: ObjectKind::Image,
        count: 12,
        bytes: 950_000,
        sigma: 1.3,
        stem: "img",
        ext: "jpg",
    },
    KindModel {
        kind: ObjectKind::Data,
        count: 3,
        bytes: 30_000,
        sigma: 1.0,
        stem: "data",
        ext: "json",
    },
];

impl KindModel {
    /// The kind of the `i`-th (from 1) of `count` objects of this model:
    /// scripts after the first half (rounded up) are `async`.
    fn kind_of(&self, i: u32, count: u32) -> ObjectKind {
        if self.kind == ObjectKind::Js && i > count.div_ceil(2) {
            ObjectKind::AsyncJs
        } else {
            self.kind
        }
    }
}

const DEFAULT_SUBRESOURCES: u32 = 39;
const MIN_SUBRESOURCE_SIZE: f64 = 200.0;
const MAX_SUBRESOURCE_SIZE: f64 = 500_000.0;
const PAGE_KEY_LABEL: &[u8] = b"httplab-page-v1";

impl PageSpec {
    /// The HTML document: `/bytes/{html_size}/index.html`.
    pub fn html(&self) -> Object {
        Object::new(self.html_size, "index.html", ObjectKind::Html)
    }

    /// The subresources in request order (see the module doc for the model).
    /// A function of `subresources` and `page_seed` only.
    pub fn subresource_objects(&self) -> Vec<Object> {
        let counts = kind_counts(self.subresources);
        let mut rng = page_rng(self.page_seed);
        let mut objects = Vec::with_capacity(self.subresources as usize);
        for (model, &count) in PAGE_MIX.iter().zip(&counts) {
            // Relative sizes: log-normal with median 1; the budget sets the scale.
            let weights: Vec<f64> = (0..count)
                .map(|_| (model.sigma * standard_normal(&mut rng)).exp())
                .collect();
            let budget = model.bytes * u64::from(count) / u64::from(model.count);
            let width = count.to_string().len();
            for (i, size) in (1..).zip(fit_to_budget(&weights, budget)) {
                let name = format!("{}-{i:0width$}.{}", model.stem, model.ext);
                objects.push(Object::new(size, &name, model.kind_of(i, count)));
            }
        }
        objects
    }

    /// What the client requests after the HTML: the subresources, or with
    /// [`PageSpec::subresource_responses`] set below their count, that many
    /// bundles of them (see there).
    pub fn second_phase(&self) -> Vec<Object> {
        let objects = self.subresource_objects();
        let n = objects.len();
        let k = match self.subresource_responses {
            Some(k) if (k as usize) < n && k > 0 => k as usize,
            _ => return objects,
        };
        let width = k.to_string().len();
        (0..k)
            .map(|i| {
                // Group i holds objects [i n / k, (i + 1) n / k).
                let group = &objects[i * n / k..(i + 1) * n / k];
                let size = group.iter().map(|o| o.size).sum();
                let name = format!("bundle-{:0width$}.bin", i + 1);
                Object::new(size, &name, ObjectKind::Data)
            })
            .collect()
    }
}

impl PageGraph {
    /// The lab's default page structure over `spec`'s document and
    /// subresources (the same paths and sizes as the flat page). Offsets are
    /// in per mille of the document's size `H`:
    ///
    /// | objects | where | discovered | render-blocking | origin |
    /// |---|---|---|---|---|
    /// | stylesheets | head | HTML, spread over 20–150 ‰ with the head's scripts | yes | document's |
    /// | parser-blocking scripts, first half | head | HTML, after the stylesheets | yes | document's |
    /// | `async` scripts, first half | head | HTML, after those | no | document's |
    /// | `async` scripts, second half, as `defer` | head | HTML, last in the head | no | document's |
    /// | images, all but the last sixth | body | HTML, spread over 200–900 ‰ | no | static |
    /// | parser-blocking scripts, second half | end of body | HTML, 920–980 ‰ | no | document's |
    /// | fonts | — | on completion of the first stylesheet | no | static |
    /// | images, last sixth (rounded down) | — | on completion of the first `async` script (lazy-loaded) | no | static |
    /// | data | — | on completion of the first parser-blocking script (`fetch`) | no | document's |
    ///
    /// Where the discovering object does not exist (a small page), the
    /// object is found at the end of the body instead. Every delay is 0 and
    /// the preload scanner is on. The document origin is [`SERVER_NAME`],
    /// the static one [`STATIC_ORIGIN`].
    pub fn browser(spec: &PageSpec) -> PageGraph {
        let html = spec.html();
        let h = html.size;
        let at = |per_mille: u64| Discovery::Html {
            offset: h * per_mille / 1000,
        };
        let subresources = spec.subresource_objects();
        let of_kind = |kind: ObjectKind| -> Vec<Object> {
            subresources
                .iter()
                .filter(|o| o.kind == kind)
                .cloned()
                .collect()
        };
        let css = of_kind(ObjectKind::Css);
        let sync = of_kind(ObjectKind::Js);
        let not_blocking = of_kind(ObjectKind::AsyncJs);
        let fonts = of_kind(ObjectKind::Font);
        let images = of_kind(ObjectKind::Image);
        let data = of_kind(ObjectKind::Data);
        let (head_sync, tail_sync) = sync.split_at(sync.len().div_ceil(2));
        let (asyncs, defers) = not_blocking.split_at(not_blocking.len().div_ceil(2));
        let lazy = images.len() / 6;
        let (body_images, lazy_images) = images.split_at(images.len() - lazy);

        let mut objects = vec![PageObject {
            object: html,
            origin: 0,
            discovery: Discovery::Navigation,
            render_blocking: false,
            delay: Duration::ZERO,
        }];
        let mut push = |object: Object, origin, discovery, render_blocking| {
            objects.push(PageObject {
                object,
                origin,
                discovery,
                render_blocking,
                delay: Duration::ZERO,
            });
            objects.len() - 1
        };
        // The head, in document order.
        let head: Vec<(Object, bool)> = css
            .iter()
            .chain(head_sync)
            .map(|o| (o.clone(), true))
            .chain(asyncs.iter().map(|o| (o.clone(), false)))
            .chain(defers.iter().map(|o| {
                let mut defer = o.clone();
                defer.kind = ObjectKind::DeferJs;
                (defer, false)
            }))
            .collect();
        let mut first_css = None;
        let mut first_sync = None;
        let mut first_async = None;
        let n = head.len() as u64;
        for (k, (object, blocking)) in (0..).zip(head) {
            let kind = object.kind;
            let index = push(object, 0, at(20 + 130 * k / n.max(1)), blocking);
            let first = match kind {
                ObjectKind::Css => &mut first_css,
                ObjectKind::Js => &mut first_sync,
                ObjectKind::AsyncJs => &mut first_async,
                _ => continue,
            };
            first.get_or_insert(index);
        }
        let n = body_images.len() as u64;
        for (k, image) in (0..).zip(body_images) {
            push(image.clone(), 1, at(200 + 700 * k / n.max(1)), false);
        }
        let n = tail_sync.len() as u64;
        for (k, script) in (0..).zip(tail_sync) {
            push(script.clone(), 0, at(920 + 60 * k / n.max(1)), false);
        }
        let by = |discoverer: Option<usize>| {
            discoverer.map_or(at(990), |of| Discovery::Completion { of })
        };
        for font in fonts {
            push(font, 1, by(first_css), false);
        }
        for image in lazy_images {
            push(image.clone(), 1, by(first_async), false);
        }
        for object in data {
            push(object, 0, by(first_sync), false);
        }
        PageGraph {
            origins: vec![SERVER_NAME.to_owned(), STATIC_ORIGIN.to_owned()],
            objects,
            preload_scanner: true,
        }
    }
}

/// Objects per kind for `n` subresources: the default mix scaled to `n`,
/// rounded by largest remainder (ties go to the kind listed first).
fn kind_counts(n: u32) -> [u32; PAGE_MIX.len()] {
    let mut counts = [0; PAGE_MIX.len()];
    let mut remainders = [(0u32, 0usize); PAGE_MIX.len()];
    for (i, model) in PAGE_MIX.iter().enumerate() {
        let scaled = u64::from(n) * u64::from(model.count);
        counts[i] = (scaled / u64::from(DEFAULT_SUBRESOURCES)) as u32;
        remainders[i] = ((scaled % u64::from(DEFAULT_SUBRESOURCES)) as u32, i);
    }
    let mut left = n - counts.iter().sum::<u32>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in &remainders {
        if left == 0 {
            break;
        }
        counts[i] += 1;
        left -= 1;
    }
    counts
}

/// The page's own RNG: keyed by the page seed, never by the run seed.
fn page_rng(page_seed: u64) -> ChaCha8Rng {
    let mut key = Sha256::new();
    key.update(PAGE_KEY_LABEL);
    key.update(page_seed.to_le_bytes());
    ChaCha8Rng::from_seed(key.finalize().into())
}

/// Uniform in [0, 1) with 53 random bits.
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A standard normal deviate (Marsaglia's polar method).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    loop {
        let u = 2.0 * unit(rng) - 1.0;
        let v = 2.0 * unit(rng) - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            return u * (-2.0 * s.ln() / s).sqrt();
        }
    }
}

/// Whole-byte sizes proportional to `weights` (all positive) that sum to
/// `budget` and lie within [200 B, 500 KB], keeping the proportions where the
/// bounds allow: scale the sizes not yet at a bound by one factor, clamp, and
/// repeat until no size moves; then round, putting the few bytes of rounding
/// remainder on the largest size that stays within the bounds. The budget is
/// met exactly when `budget / weights.len()` lies within the bounds.
fn fit_to_budget(weights: &[f64], budget: u64) -> Vec<u64> {
    let mut sizes = weights.to_vec();
    let mut pinned = vec![false; sizes.len()];
    // Each pass pins at least one more size at a bound, or ends.
    for _ in 0..=sizes.len() {
        let (mut pinned_sum, mut free_sum) = (0.0, 0.0);
        for (size, &at_bound) in sizes.iter().zip(&pinned) {
            if at_bound {
                pinned_sum += size;
            } else {
                free_sum += size;
            }
        }
        if free_sum <= 0.0 {
            break;
        }
        let factor = (budget as f64 - pinned_sum) / free_sum;
        let mut moved = false;
        for (size, at_bound) in sizes.iter_mut().zip(pinned.iter_mut()) {
            if *at_bound {
                continue;
            }
            let scaled = *size * factor;
            *size = scaled.clamp(MIN_SUBRESOURCE_SIZE, MAX_SUBRESOURCE_SIZE);
            if *size != scaled {
                *at_bound = true;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    let mut whole: Vec<u64> = sizes.iter().map(|s| s.round() as u64).collect();
    let total: u64 = whole.iter().sum();
    let (min, max) = (MIN_SUBRESOURCE_SIZE as u64, MAX_SUBRESOURCE_SIZE as u64);
    let fits = |size: u64| {
        if total <= budget {
            size + (budget - total) <= max
        } else {
            size >= min + (total - budget)
        }
    };
    // The largest size that can take the remainder; the first on ties.
    let target = (0..whole.len())
        .filter(|&i| fits(whole[i]))
        .max_by_key(|&i| (whole[i], std::cmp::Reverse(i)));
    if let Some(i) = target {
        whole[i] = whole[i] + budget.saturating_sub(total) - total.saturating_sub(budget);
    }
    whole
}

/// What a client fetches.
#[derive(Clone, Debug, PartialEq)]
pub enum Workload {
    /// The lab's page: loaded as a browser does ([`PageGraph::browser`]),
    /// or with [`PageStructure::Flat`] the HTML document, then when it
    /// completes every subresource at once.
    Page(PageSpec),
    /// A page given object by object with its dependencies (written by
    /// hand or by `httplab import-har`), loaded as a browser does.
    PageGraph(PageGraph),
    /// One large object.
    Bulk {
        /// Body size in bytes.
        size: u64,
    },
    /// `count` equal objects requested at once.
    Parallel {
        /// Number of objects, 1 to [`MAX_PARALLEL_COUNT`].
        count: u32,
        /// Body size of each, in bytes.
        size: u64,
    },
    /// `requests` small objects, at most `concurrency` outstanding.
    Rpc {
        /// Number of requests, 1 to [`MAX_RPC_REQUESTS`].
        requests: u32,
        /// Body size of each response, in bytes.
        size: u64,
        /// Most requests outstanding at once, at least 1.
        concurrency: u32,
    },
    /// An explicit list, requested at once.
    List {
        /// The objects, in request order.
        objects: Vec<Object>,
    },
}

impl Default for Workload {
    /// The default page ([`PageSpec::default`]).
    fn default() -> Workload {
        Workload::Page(PageSpec::default())
    }
}

/// The requests of a workload, in phases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The phases, in order. For a page loaded as a browser does, one phase
    /// with every object of [`Plan::page`] in its order; the client follows
    /// the page's dependencies instead of the phase.
    pub phases: Vec<Phase>,
    /// The page's dependencies, when the plan is a page loaded as a browser
    /// does.
    pub page: Option<PageGraph>,
}

impl Plan {
    /// Every object of every phase, in plan order.
    pub fn objects(&self) -> impl Iterator<Item = &Object> + '_ {
        self.phases.iter().flat_map(|phase| phase.objects.iter())
    }

    /// The number of objects in all phases.
    pub fn object_count(&self) -> usize {
        self.phases.iter().map(|phase| phase.objects.len()).sum()
    }

    /// The body bytes of all objects.
    pub fn total_bytes(&self) -> u64 {
        self.objects()
            .fold(0u64, |sum, object| sum.saturating_add(object.size))
    }
}

/// Phases run one after another; within a phase, objects are requested as the
/// concurrency allows (None = all at once), in list order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase {
    /// The objects, in request order.
    pub objects: Vec<Object>,
    /// Most requests outstanding at once; `None` requests them all at once.
    pub concurrency: Option<u32>,
}

impl Phase {
    fn all_at_once(objects: Vec<Object>) -> Phase {
        Phase {
            objects,
            concurrency: None,
        }
    }
}

/// A workload field that fails validation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct WorkloadError {
    field: String,
    reason: String,
}

impl WorkloadError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> WorkloadError {
        WorkloadError {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The field's path, e.g. `workload.rpc.concurrency` or
    /// `workload.list.objects[2].path`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it, e.g. `must be at least 1`.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

fn check_size(field: &str, size: u64) -> Result<(), WorkloadError> {
    if size == 0 {
        return Err(WorkloadError::new(field, "must be at least 1"));
    }
    if size > MAX_OBJECT_SIZE {
        return Err(WorkloadError::new(
            field,
            format!("must be at most {MAX_OBJECT_SIZE} (1 GiB), got {size}"),
        ));
    }
    Ok(())
}

fn check_count(field: &str, count: u32, max: u32) -> Result<(), WorkloadError> {
    if count == 0 {
        return Err(WorkloadError::new(field, "must be at least 1"));
    }
    if count > max {
        return Err(WorkloadError::new(
            field,
            format!("must be at most {max}, got {count}"),
        ));
    }
    Ok(())
}

impl Workload {
    /// Checks every field: sizes 1 to [`MAX_OBJECT_SIZE`], counts at least 1
    /// and within their limits, concurrency at least 1, list objects with
    /// content paths that name their size. The error names the first bad
    /// field, e.g. `workload.rpc.concurrency: must be at least 1`.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        match self {
            Workload::PageGraph(graph) => {
                graph
                    .validate()
                    .map_err(|e| WorkloadError::new(format!("workload.{}", e.field), e.reason))?;
                for (i, object) in graph.objects.iter().enumerate() {
                    check_size(&format!("workload.objects[{i}].size"), object.object.size)?;
                }
                Ok(())
            }
            Workload::Page(page) => {
                check_size("workload.page.html_size", page.html_size)?;
                check_count(
                    "workload.page.subresources",
                    page.subresources,
                    MAX_PAGE_SUBRESOURCES,
                )?;
                if let Some(k) = page.subresource_responses {
                    check_count("workload.page.subresource_responses", k, page.subresources)?;
                    if page.structure != PageStructure::Flat {
                        return Err(WorkloadError::new(
                            "workload.page.subresource_responses",
                            "bundles the flat page only: set structure = \"flat\"",
                        ));
                    }
                }
                Ok(())
            }
            Workload::Bulk { size } => check_size("workload.bulk.size", *size),
            Workload::Parallel { count, size } => {
                check_count("workload.parallel.count", *count, MAX_PARALLEL_COUNT)?;
                check_size("workload.parallel.size", *size)
            }
            Workload::Rpc {
                requests,
                size,
                concurrency,
            } => {
                check_count("workload.rpc.requests", *requests, MAX_RPC_REQUESTS)?;
                check_size("workload.rpc.size", *size)?;
                check_count("workload.rpc.concurrency", *concurrency, u32::MAX)
            }
            Workload::List { objects } => {
                if objects.is_empty() {
                    return Err(WorkloadError::new(
                        "workload.list.objects",
                        "must not be empty",
                    ));
                }
                if objects.len() > MAX_LIST_OBJECTS {
                    return Err(WorkloadError::new(
                        "workload.list.objects",
                        format!(
                            "must list at most {MAX_LIST_OBJECTS} objects, got {}",
                            objects.len()
                        ),
                    ));
                }
                for (i, object) in objects.iter().enumerate() {
                    check_size(&format!("workload.list.objects[{i}].size"), object.size)?;
                    let field = format!("workload.list.objects[{i}].path");
                    match size_of_path(&object.path) {
                        Err(e) => {
                            return Err(WorkloadError::new(
                                field,
                                format!("{:?}: {e}", object.path),
                            ))
                        }
                        Ok(n) if n != object.size => {
                            return Err(WorkloadError::new(
                                field,
                                format!(
                                    "{:?} names {n} bytes but size is {}",
                                    object.path, object.size
                                ),
                            ))
                        }
                        Ok(_) => {}
                    }
                }
                Ok(())
            }
        }
    }

    /// The phases to carry out; a function of the workload alone.
    ///
    /// - `Page` loaded as a browser does, and `PageGraph`: one phase of the
    ///   page's objects, with [`Plan::page`] set;
    /// - `Page` with [`PageStructure::Flat`]: `[[index.html],
    ///   [subresources]]`, both all at once (the subresources bundled if
    ///   [`PageSpec::subresource_responses`] says so);
    /// - `Bulk`: `[["/bytes/{size}/bulk.bin"]]`;
    /// - `Parallel`: one phase of `"/bytes/{size}/part-{i}.bin"`, `i` = 1..=count;
    /// - `Rpc`: one phase of `"/bytes/{size}/rpc-{i}.json"`, `i` = 1..=requests,
    ///   with concurrency `Some(concurrency)`;
    /// - `List`: one phase of the objects as given.
    ///
    /// Call [`Workload::validate`] first; sizes are not checked here.
    pub fn plan(&self) -> Plan {
        let page = match self {
            Workload::Page(spec) if spec.structure == PageStructure::Browser => {
                Some(PageGraph::browser(spec))
            }
            Workload::PageGraph(graph) => Some(graph.clone()),
            _ => None,
        };
        if let Some(graph) = page {
            let objects = graph.objects.iter().map(|o| o.object.clone()).collect();
            return Plan {
                phases: vec![Phase::all_at_once(objects)],
                page: Some(graph),
            };
        }
        let phases = match self {
            Workload::PageGraph(_) => unreachable!("a page graph's plan is made above"),
            Workload::Page(page) => vec![
                Phase::all_at_once(vec![page.html()]),
                Phase::all_at_once(page.second_phase()),
            ],
            Workload::Bulk { size } => vec![Phase::all_at_once(vec![Object::new(
                *size,
                "bulk.bin",
                ObjectKind::Data,
            )])],
            Workload::Parallel { count, size } => vec![Phase::all_at_once(
                (1..=*count)
                    .map(|i| Object::new(*size, &format!("part-{i}.bin"), ObjectKind::Data))
                    .collect(),
            )],
            Workload::Rpc {
                requests,
                size,
                concurrency,
            } => vec![Phase {
                objects: (1..=*requests)
                    .map(|i| Object::new(*size, &format!("rpc-{i}.json"), ObjectKind::Data))
                    .collect(),
                concurrency: Some(*concurrency),
            }],
            Workload::List { objects } => vec![Phase::all_at_once(objects.clone())],
        };
        Plan { phases, page: None }
    }

    /// The body bytes the workload fetches, summed over its objects.
    pub fn total_bytes(&self) -> u64 {
        match self {
            Workload::Page(_) | Workload::List { .. } => self.plan().total_bytes(),
            Workload::PageGraph(graph) => graph
                .objects
                .iter()
                .fold(0u64, |sum, o| sum.saturating_add(o.object.size)),
            Workload::Bulk { size } => *size,
            Workload::Parallel { count, size } => u64::from(*count).saturating_mul(*size),
            Workload::Rpc { requests, size, .. } => u64::from(*requests).saturating_mul(*size),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_pins_sizes_at_the_top_bound_and_spreads_the_rest() {
        assert_eq!(
            fit_to_budget(&[1000.0, 1.0, 1.0], 600_000),
            [500_000, 50_000, 50_000]
        );
    }

    #[test]
    fn fitting_pins_sizes_at_the_bottom_bound_and_spreads_the_rest() {
        assert_eq!(
            fit_to_budget(&[1.0, 1e6, 1e6], 100_000),
            [200, 49_900, 49_900]
        );
    }

    #[test]
    fn fitting_puts_the_rounding_remainder_on_the_largest_size() {
        assert_eq!(fit_to_budget(&[1.0, 1.0, 1.0], 1_000), [334, 333, 333]);
        assert_eq!(fit_to_budget(&[1.0, 2.0], 1_000), [333, 667]);
    }

    #[test]
    fn kind_counts_follow_the_default_mix() {
        assert_eq!(kind_counts(39), [5, 16, 3, 12, 3]);
        assert_eq!(kind_counts(78), [10, 32, 6, 24, 6]);
        assert_eq!(kind_counts(1), [0, 1, 0, 0, 0]);
        assert_eq!(kind_counts(0), [0; 5]);
        for n in 0..=MAX_PAGE_SUBRESOURCES {
            assert_eq!(kind_counts(n).iter().sum::<u32>(), n);
        }
    }

    #[test]
    fn the_mix_adds_up_to_the_default_page() {
        let count: u32 = PAGE_MIX.iter().map(|m| m.count).sum();
        let bytes: u64 = PAGE_MIX.iter().map(|m| m.bytes).sum();
        assert_eq!((count, bytes), (DEFAULT_SUBRESOURCES, 1_720_000));
    }
}
