//! Workloads: the default page, plans, totals and validation.

use scenarios::{
    size_of_path, Object, ObjectKind, PageSpec, PageStructure, Phase, Plan, Workload,
    MAX_OBJECT_SIZE,
};

/// The default page, flat: the plans below are the flat page's phases.
fn flat() -> PageSpec {
    PageSpec {
        structure: PageStructure::Flat,
        ..PageSpec::default()
    }
}

fn page(page_seed: u64, subresources: u32) -> Workload {
    Workload::Page(PageSpec {
        page_seed,
        subresources,
        ..flat()
    })
}

fn bytes_of(plan: &Plan, kind: ObjectKind) -> u64 {
    plan.objects()
        .filter(|object| object.kind == kind)
        .map(|object| object.size)
        .sum()
}

fn count_of(plan: &Plan, kind: ObjectKind) -> usize {
    plan.objects().filter(|object| object.kind == kind).count()
}

/// Every object is a content path naming its own size, and no path repeats.
fn assert_well_formed(plan: &Plan) {
    let mut paths: Vec<&str> = plan.objects().map(|o| o.path.as_str()).collect();
    for object in plan.objects() {
        assert_eq!(size_of_path(&object.path), Ok(object.size), "{object:?}");
    }
    paths.sort_unstable();
    let count = paths.len();
    paths.dedup();
    assert_eq!(paths.len(), count, "paths repeat");
}

#[test]
fn the_default_workload_is_the_default_page() {
    assert_eq!(Workload::default(), Workload::Page(PageSpec::default()));
    assert_eq!(
        PageSpec::default(),
        PageSpec {
            html_size: 30_000,
            subresources: 39,
            page_seed: 1,
            subresource_responses: None,
            structure: PageStructure::Browser,
        }
    );
    assert_eq!(Workload::default().validate(), Ok(()));
}

#[test]
fn the_default_page_is_40_objects_and_1_75_mb() {
    let plan = Workload::Page(flat()).plan();
    assert_eq!(plan.phases.len(), 2);
    assert_eq!(
        plan.phases[0],
        Phase {
            objects: vec![Object {
                path: "/bytes/30000/index.html".into(),
                size: 30_000,
                kind: ObjectKind::Html
            }],
            concurrency: None
        }
    );
    assert_eq!(plan.phases[1].objects.len(), 39);
    assert_eq!(plan.phases[1].concurrency, None);
    assert_eq!(plan.object_count(), 40);
    assert_eq!(plan.total_bytes(), 1_750_000);
    assert!((1_500_000..=2_000_000).contains(&plan.total_bytes()));
    assert_eq!(Workload::default().total_bytes(), 1_750_000);
    for object in &plan.phases[1].objects {
        assert!((200..=500_000).contains(&object.size), "{object:?}");
    }
    assert_well_formed(&plan);

    let kinds = [
        (ObjectKind::Css, 5, 70_000),
        (ObjectKind::Js, 8, bytes_of(&plan, ObjectKind::Js)),
        (
            ObjectKind::AsyncJs,
            8,
            552_000 - bytes_of(&plan, ObjectKind::Js),
        ),
        (ObjectKind::Font, 3, 118_000),
        (ObjectKind::Image, 12, 950_000),
        (ObjectKind::Data, 3, 30_000),
    ];
    for (kind, count, bytes) in kinds {
        assert_eq!(count_of(&plan, kind), count, "{kind}");
        assert_eq!(bytes_of(&plan, kind), bytes, "{kind}");
    }
}

/// The first half of the scripts block the parser, the rest are `async`;
/// the split names no path, size or place of its own.
#[test]
fn the_first_half_of_the_scripts_block_the_parser() {
    let plan = Workload::Page(flat()).plan();
    let scripts: Vec<(&str, ObjectKind)> = plan
        .objects()
        .filter(|o| matches!(o.kind, ObjectKind::Js | ObjectKind::AsyncJs))
        .map(|o| (o.path.rsplit('/').next().unwrap(), o.kind))
        .collect();
    assert_eq!(scripts.len(), 16);
    for (i, (name, kind)) in scripts.iter().enumerate() {
        assert_eq!(*name, format!("app-{:02}.js", i + 1));
        let expected = if i < 8 {
            ObjectKind::Js
        } else {
            ObjectKind::AsyncJs
        };
        assert_eq!(*kind, expected, "{name}");
    }
    // One script blocks (the half rounded up); of two, one of each.
    let single = page(1, 1).plan();
    assert_eq!(single.phases[1].objects[0].kind, ObjectKind::Js);
    let five = page(1, 5).plan();
    let kinds: Vec<ObjectKind> = five.phases[1]
        .objects
        .iter()
        .filter(|o| matches!(o.kind, ObjectKind::Js | ObjectKind::AsyncJs))
        .map(|o| o.kind)
        .collect();
    assert_eq!(kinds.len(), 2);
    assert_eq!(kinds, [ObjectKind::Js, ObjectKind::AsyncJs]);
}

/// What Chrome sends in its `priority` header, per kind.
#[test]
fn each_kind_has_chromes_priority() {
    let header = |kind: ObjectKind| kind.priority().header_value();
    assert_eq!(header(ObjectKind::Html).as_deref(), Some("u=0, i"));
    assert_eq!(header(ObjectKind::Css).as_deref(), Some("u=0"));
    assert_eq!(header(ObjectKind::Font).as_deref(), Some("u=0"));
    assert_eq!(header(ObjectKind::Js).as_deref(), Some("u=1"));
    assert_eq!(header(ObjectKind::Data).as_deref(), Some("u=1, i"));
    assert_eq!(header(ObjectKind::AsyncJs), None);
    assert_eq!(header(ObjectKind::Image).as_deref(), Some("i"));
}

/// The default page itself, pinned. It is drawn with f64 `exp`/`ln`; if this
/// fails on another platform, its libm rounds differently and the page
/// generator must move to integer-only arithmetic.
#[test]
fn the_default_page_is_exactly_this() {
    let paths: Vec<String> = Workload::Page(flat())
        .plan()
        .objects()
        .map(|o| o.path.clone())
        .collect();
    let expected = [
        "/bytes/30000/index.html",
        "/bytes/1753/style-1.css",
        "/bytes/7089/style-2.css",
        "/bytes/5930/style-3.css",
        "/bytes/9683/style-4.css",
        "/bytes/45545/style-5.css",
        "/bytes/130426/app-01.js",
        "/bytes/16457/app-02.js",
        "/bytes/42694/app-03.js",
        "/bytes/78292/app-04.js",
        "/bytes/16859/app-05.js",
        "/bytes/76853/app-06.js",
        "/bytes/38100/app-07.js",
        "/bytes/27088/app-08.js",
        "/bytes/1807/app-09.js",
        "/bytes/47461/app-10.js",
        "/bytes/23331/app-11.js",
        "/bytes/7128/app-12.js",
        "/bytes/1937/app-13.js",
        "/bytes/11610/app-14.js",
        "/bytes/13247/app-15.js",
        "/bytes/18710/app-16.js",
        "/bytes/51571/font-1.woff2",
        "/bytes/34551/font-2.woff2",
        "/bytes/31878/font-3.woff2",
        "/bytes/29161/img-01.jpg",
        "/bytes/57676/img-02.jpg",
        "/bytes/51834/img-03.jpg",
        "/bytes/47076/img-04.jpg",
        "/bytes/236114/img-05.jpg",
        "/bytes/90038/img-06.jpg",
        "/bytes/82168/img-07.jpg",
        "/bytes/19809/img-08.jpg",
        "/bytes/202062/img-09.jpg",
        "/bytes/45179/img-10.jpg",
        "/bytes/21230/img-11.jpg",
        "/bytes/67653/img-12.jpg",
        "/bytes/2825/data-1.json",
        "/bytes/13219/data-2.json",
        "/bytes/13956/data-3.json",
    ];
    assert_eq!(paths, expected);
}

#[test]
fn the_page_is_the_same_every_time() {
    // There is no run seed to pass: the page is a function of the spec alone.
    assert_eq!(Workload::default().plan(), Workload::default().plan());
    assert_eq!(page(9, 39).plan(), page(9, 39).plan());
}

#[test]
fn the_page_seed_moves_sizes_within_a_kind_only() {
    let default = Workload::Page(flat()).plan();
    for page_seed in [0, 2, 3, 1_000, u64::MAX] {
        let plan = page(page_seed, 39).plan();
        assert_ne!(plan, default, "page seed {page_seed}");
        assert_eq!(plan.total_bytes(), 1_750_000, "page seed {page_seed}");
        for kind in [ObjectKind::Css, ObjectKind::Image] {
            assert_eq!(bytes_of(&plan, kind), bytes_of(&default, kind));
            assert_eq!(count_of(&plan, kind), count_of(&default, kind));
        }
        // Scripts: the same bytes in all; the sync/async split moves with the sizes.
        let scripts =
            |plan: &Plan| bytes_of(plan, ObjectKind::Js) + bytes_of(plan, ObjectKind::AsyncJs);
        assert_eq!(scripts(&plan), scripts(&default));
        assert_eq!(count_of(&plan, ObjectKind::AsyncJs), 8);
        assert_well_formed(&plan);
    }
}

#[test]
fn pages_of_other_sizes_keep_the_mix() {
    for n in [1, 2, 10, 78, 100, 1_000] {
        let plan = page(1, n).plan();
        assert_eq!(plan.phases[1].objects.len(), n as usize, "{n}");
        for object in &plan.phases[1].objects {
            assert!((200..=500_000).contains(&object.size), "{n}: {object:?}");
        }
        assert_well_formed(&plan);
    }
    // Twice the subresources: twice each kind, twice the bytes.
    let double = page(1, 78).plan();
    assert_eq!(count_of(&double, ObjectKind::Image), 24);
    assert_eq!(bytes_of(&double, ObjectKind::Image), 1_900_000);
    assert_eq!(double.total_bytes(), 30_000 + 2 * 1_720_000);
    // One subresource: the most common kind.
    let single = page(1, 1).plan();
    assert_eq!(single.phases[1].objects[0].kind, ObjectKind::Js);
    assert_eq!(single.phases[1].objects[0].path, "/bytes/34500/app-1.js");
}

#[test]
fn bulk_is_one_object() {
    let bulk = Workload::Bulk { size: 10_000_000 };
    assert_eq!(
        bulk.plan(),
        Plan {
            phases: vec![Phase {
                objects: vec![Object {
                    path: "/bytes/10000000/bulk.bin".into(),
                    size: 10_000_000,
                    kind: ObjectKind::Data
                }],
                concurrency: None
            }],
            page: None
        }
    );
    assert_eq!(bulk.total_bytes(), 10_000_000);
}

#[test]
fn parallel_is_distinct_equal_objects_at_once() {
    let parallel = Workload::Parallel {
        count: 3,
        size: 1000,
    };
    let plan = parallel.plan();
    assert_eq!(plan.phases.len(), 1);
    assert_eq!(plan.phases[0].concurrency, None);
    let paths: Vec<&str> = plan.objects().map(|o| o.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/bytes/1000/part-1.bin",
            "/bytes/1000/part-2.bin",
            "/bytes/1000/part-3.bin"
        ]
    );
    assert_eq!(parallel.total_bytes(), 3000);
    assert_eq!(plan.total_bytes(), 3000);
}

#[test]
fn rpc_is_one_phase_with_bounded_concurrency() {
    let rpc = Workload::Rpc {
        requests: 1000,
        size: 512,
        concurrency: 8,
    };
    let plan = rpc.plan();
    assert_eq!(plan.phases.len(), 1);
    assert_eq!(plan.phases[0].concurrency, Some(8));
    assert_eq!(plan.object_count(), 1000);
    assert_eq!(plan.phases[0].objects[0].path, "/bytes/512/rpc-1.json");
    assert_eq!(plan.phases[0].objects[999].path, "/bytes/512/rpc-1000.json");
    assert_well_formed(&plan);
    assert_eq!(rpc.total_bytes(), 512_000);
    assert_eq!(plan.total_bytes(), 512_000);
}

#[test]
fn list_is_the_objects_as_given() {
    let objects = vec![
        Object::new(5, "b.css", ObjectKind::Css),
        Object::new(70_000, "a.js", ObjectKind::Js),
        Object::new(5, "b.css", ObjectKind::Css),
    ];
    let list = Workload::List {
        objects: objects.clone(),
    };
    assert_eq!(list.validate(), Ok(()));
    assert_eq!(
        list.plan(),
        Plan {
            phases: vec![Phase {
                objects,
                concurrency: None
            }],
            page: None
        }
    );
    assert_eq!(list.total_bytes(), 70_010);
}

#[test]
fn validation_names_the_field_and_the_reason() {
    let object = |path: &str, size| Object {
        path: path.into(),
        size,
        kind: ObjectKind::Data,
    };
    let cases = [
        (
            Workload::Rpc {
                requests: 10,
                size: 100,
                concurrency: 0,
            },
            "workload.rpc.concurrency: must be at least 1",
        ),
        (
            Workload::Rpc {
                requests: 0,
                size: 100,
                concurrency: 1,
            },
            "workload.rpc.requests: must be at least 1",
        ),
        (
            Workload::Rpc {
                requests: 100_001,
                size: 100,
                concurrency: 1,
            },
            "workload.rpc.requests: must be at most 100000, got 100001",
        ),
        (
            Workload::Rpc {
                requests: 1,
                size: 0,
                concurrency: 1,
            },
            "workload.rpc.size: must be at least 1",
        ),
        (
            Workload::Parallel { count: 0, size: 1 },
            "workload.parallel.count: must be at least 1",
        ),
        (
            Workload::Parallel {
                count: 10_001,
                size: 1,
            },
            "workload.parallel.count: must be at most 10000, got 10001",
        ),
        (
            Workload::Parallel { count: 1, size: 0 },
            "workload.parallel.size: must be at least 1",
        ),
        (
            Workload::Bulk { size: 0 },
            "workload.bulk.size: must be at least 1",
        ),
        (
            Workload::Bulk {
                size: MAX_OBJECT_SIZE + 1,
            },
            "workload.bulk.size: must be at most 1073741824 (1 GiB), got 1073741825",
        ),
        (page(1, 0), "workload.page.subresources: must be at least 1"),
        (
            page(1, 1001),
            "workload.page.subresources: must be at most 1000, got 1001",
        ),
        (
            Workload::Page(PageSpec {
                html_size: 0,
                ..flat()
            }),
            "workload.page.html_size: must be at least 1",
        ),
        (
            Workload::List { objects: vec![] },
            "workload.list.objects: must not be empty",
        ),
        (
            Workload::List {
                objects: vec![object("/bytes/5/a", 5), object("/bytes/0/b", 0)],
            },
            "workload.list.objects[1].size: must be at least 1",
        ),
        (
            Workload::List {
                objects: vec![object("/bytes/5/a", 5), object("/bytes/5/a/b", 5)],
            },
            "workload.list.objects[1].path: \"/bytes/5/a/b\": name contains '/'; allowed are A-Z a-z 0-9 . _ -",
        ),
        (
            Workload::List {
                objects: vec![object("/bytes/5/a", 6)],
            },
            "workload.list.objects[0].path: \"/bytes/5/a\" names 5 bytes but size is 6",
        ),
    ];
    for (workload, message) in cases {
        let err = workload.validate().unwrap_err();
        assert_eq!(err.to_string(), message);
        assert_eq!(format!("{}: {}", err.field(), err.reason()), message);
    }
}

#[test]
fn limits_themselves_are_valid() {
    let valid = [
        Workload::Bulk {
            size: MAX_OBJECT_SIZE,
        },
        Workload::Parallel {
            count: 10_000,
            size: 1,
        },
        Workload::Rpc {
            requests: 100_000,
            size: 1,
            concurrency: u32::MAX,
        },
        page(u64::MAX, 1_000),
        page(0, 1),
    ];
    for workload in valid {
        assert_eq!(workload.validate(), Ok(()), "{workload:?}");
    }
}

#[test]
fn a_bundled_page_carries_the_same_bytes_in_fewer_responses() {
    let page = flat();
    let objects = page.subresource_objects();
    let total: u64 = objects.iter().map(|o| o.size).sum();
    for k in [1u32, 2, 4, 38] {
        let bundled = PageSpec {
            subresource_responses: Some(k),
            ..flat()
        };
        let bundles = bundled.second_phase();
        assert_eq!(bundles.len(), k as usize, "k = {k}");
        assert_eq!(
            bundles.iter().map(|o| o.size).sum::<u64>(),
            total,
            "k = {k}"
        );
        for b in &bundles {
            assert_eq!(size_of_path(&b.path), Ok(b.size), "{}", b.path);
        }
        let plan = Workload::Page(bundled).plan();
        assert_eq!(plan.phases.len(), 2);
        assert_eq!(plan.phases[0].objects, vec![page.html()]);
    }
    // One bundle: everything after the HTML on one stream.
    let one = PageSpec {
        subresource_responses: Some(1),
        ..flat()
    }
    .second_phase();
    assert_eq!(one[0].path, format!("/bytes/{total}/bundle-1.bin"));
    // As many responses as objects, or none set: the objects themselves.
    let same = PageSpec {
        subresource_responses: Some(39),
        ..flat()
    };
    assert_eq!(same.second_phase(), objects);
    assert_eq!(page.second_phase(), objects);
    // Out of range is an error naming the field.
    let bad = Workload::Page(PageSpec {
        subresource_responses: Some(40),
        ..flat()
    });
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "workload.page.subresource_responses: must be at most 39, got 40"
    );
}

#[test]
fn the_default_page_keeps_the_flat_pages_objects() {
    let spec = PageSpec::default();
    let graph = scenarios::PageGraph::browser(&spec);
    graph.validate().unwrap();
    assert_eq!(graph.objects.len(), 40);
    let mut flat: Vec<String> = spec
        .subresource_objects()
        .into_iter()
        .map(|o| o.path)
        .collect();
    flat.insert(0, spec.html().path);
    let mut browser: Vec<String> = graph
        .objects
        .iter()
        .map(|o| o.object.path.clone())
        .collect();
    flat.sort();
    browser.sort();
    assert_eq!(flat, browser);
    let blocking = graph.objects.iter().filter(|o| o.render_blocking).count();
    assert_eq!(blocking, 5 + 4, "five stylesheets and four head scripts");
}

#[test]
fn small_pages_still_validate() {
    for n in 1..=45 {
        let spec = PageSpec {
            subresources: n,
            ..PageSpec::default()
        };
        let graph = scenarios::PageGraph::browser(&spec);
        graph.validate().unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(graph.objects.len(), n as usize + 1);
    }
}

/// A list workload has at most 10 000 objects: 1.5 million once took
/// 9.8 GB (issue #16 item 11).
#[test]
fn a_list_workload_is_bounded() {
    let list = |n: usize| Workload::List {
        objects: (0..n)
            .map(|i| Object {
                path: format!("/bytes/10/o{i}.bin"),
                size: 10,
                kind: ObjectKind::Data,
            })
            .collect(),
    };
    assert_eq!(list(scenarios::MAX_LIST_OBJECTS).validate(), Ok(()));
    let e = list(scenarios::MAX_LIST_OBJECTS + 1)
        .validate()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "workload.list.objects: must list at most 10000 objects, got 10001"
    );
}
