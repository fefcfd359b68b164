//! `httplab import-har`: the hand-written shop page
//! (`scenarios/tests/fixtures/shop.har`) becomes a scenario file that
//! loads, validates and runs, with a summary on stderr; bad files give a
//! clear error and a non-zero exit, never a panic, and write nothing.

mod support;

use std::path::{Path, PathBuf};

use scenarios::{Scenario, Workload};
use support::{assert_ok, httplab, scratch, stderr, stdout, write};

/// The shop page's HAR.
fn shop_har() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/tests/fixtures/shop.har")
}

#[test]
fn a_har_becomes_a_scenario_that_loads_and_runs() {
    let dir = scratch("import-har");
    let out = dir.join("shop.toml");
    let har = shop_har();
    let imported = httplab([
        "import-har".as_ref(),
        har.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_ok(&imported);
    assert!(imported.stdout.is_empty(), "--out: nothing on stdout");
    let summary = stderr(&imported);
    for line in [
        ": 13 objects, 267543 bytes (0.27 MB), 5 origins\n",
        "  www.shop.test  5 objects\n",
        "  cdn.shop.test  3 objects\n",
        "  api.shop.test  2 objects\n",
        "  img.shop.test  2 objects\n",
        "  ads.shop.test  1 object\n",
        "dependencies: 8 from the HAR's initiators, 4 inferred from timing:\n",
        "  entry 8 thumb.jpg: found at byte 20000 of the document, inferred: no _initiator; \
         started while the document arrived\n",
        "  entry 11 thumb-2.jpg: found by app.js, inferred: no _initiator; started after the \
         stylesheet or script that finished last before it\n",
        "6 warnings:\n",
        "  entry 0: https://www.shop.test/old comes before the document (entry 1); dropped\n",
        "  entry 12: no startedDateTime; its start is unknown\n",
        "wrote scenario shop to ",
    ] {
        assert!(summary.contains(line), "{line:?} not in:\n{summary}");
    }

    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with(&format!(
            "# Imported by `httplab import-har` from {}.\n",
            har.display()
        )),
        "{text}"
    );
    assert!(text.contains("# - every delay 0, the preload scanner on.\n"));
    assert!(text.contains(
        "# entry 6: https://cdn.shop.test/fonts/Inter%20Var.woff2\n\
         # found by main.css (its _initiator)\n\
         [[workload.objects]]\n\
         path = \"/bytes/25000/Inter_20Var.woff2\"\n\
         kind = \"font\"\n\
         origin = \"cdn.shop.test\"\n\
         initiator = \"/bytes/20000/main.css\"\n"
    ));
    let scenario = Scenario::load(&out).unwrap_or_else(|e| panic!("{e}\n{text}"));
    scenario.validate().unwrap();
    assert_eq!(scenario.name, "shop");
    assert_eq!(scenario.protocols.len(), 3);
    assert_eq!(scenario.seeds.len(), 10);
    let Workload::PageGraph(graph) = scenario.workload.to_workload() else {
        panic!("not a page graph:\n{text}");
    };
    assert_eq!(graph.objects.len(), 13);
    assert_eq!(graph.origins[0], "www.shop.test");
    assert_eq!(
        graph.objects.iter().map(|o| o.object.size).sum::<u64>(),
        267_543
    );

    // Without --out, the same scenario on stdout (here under another name).
    let printed = httplab([
        "import-har".as_ref(),
        har.as_os_str(),
        "--name".as_ref(),
        "shop-2".as_ref(),
    ]);
    assert_ok(&printed);
    assert_eq!(
        stdout(&printed),
        text.replace("name = \"shop\"", "name = \"shop-2\"")
    );

    // It runs: every object, every byte.
    let run = httplab([
        "run".as_ref(),
        "--scenario".as_ref(),
        out.as_os_str(),
        "--protocol".as_ref(),
        "h3".as_ref(),
        "--json".as_ref(),
    ]);
    assert_ok(&run);
    let record: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(record["outcome"], "ok", "{record:#}");
    assert_eq!(record["measurements"]["total_bytes"], 267_543);
    assert_eq!(
        record["measurements"]["requests"].as_array().map(Vec::len),
        Some(13)
    );
}

#[test]
fn bad_har_files_fail_with_a_message_and_write_nothing() {
    let dir = scratch("import-har-bad");
    let shop = std::fs::read_to_string(shop_har()).unwrap();
    let cases: [(&str, String, &str); 5] = [
        (
            "truncated.har",
            shop[..shop.len() / 3].to_owned(),
            "truncated.har: (file): not a JSON document: it ends too early",
        ),
        (
            "images.har",
            r#"{"log": {"entries": [{"request": {"url": "https://a.test/x.png"}, "response": {"bodySize": 9}, "_resourceType": "image"}]}}"#.to_owned(),
            "images.har: _resourceType: no entry is an HTML document",
        ),
        (
            "cached.har",
            r#"{"log": {"entries": [{"request": {"url": "https://a.test/"}, "response": {"bodySize": 0}, "_resourceType": "document"}, {"request": {"url": "https://a.test/x.png"}, "response": {"bodySize": 9}}]}}"#.to_owned(),
            "cached.har: entry 0: response.bodySize: the document has no bytes",
        ),
        (
            "no-url.har",
            r#"{"log": {"entries": [{"request": {"url": "https://a.test/"}, "response": {"bodySize": 9}}, {"request": {}}]}}"#.to_owned(),
            "no-url.har: entry 1: request.url: missing, or not a string",
        ),
        (
            "binary.har",
            "\u{0}\u{1}".to_owned(),
            "binary.har: (file): not a JSON document",
        ),
    ];
    for (name, text, message) in cases {
        let har = write(&dir, name, &text);
        let out = dir.join(format!("{name}.toml"));
        let result = httplab([
            "import-har".as_ref(),
            har.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        let err = stderr(&result);
        assert!(!result.status.success(), "{name}: succeeded");
        assert!(err.contains(message), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(!out.exists(), "{name}: wrote {}", out.display());
    }

    let missing = httplab(["import-har", "no-such-file.har"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("error: reading the HAR file no-such-file.har:"),
        "{}",
        stderr(&missing)
    );
    let har = shop_har();
    let bad_name = httplab([
        "import-har".as_ref(),
        har.as_os_str(),
        "--name".as_ref(),
        "my page".as_ref(),
    ]);
    assert!(!bad_name.status.success());
    assert!(
        stderr(&bad_name).contains("error: --name \"my page\": "),
        "{}",
        stderr(&bad_name)
    );
    assert!(bad_name.stdout.is_empty());
}
