//! A real record has exactly the fields `docs/results.md` documents: every
//! field of the record is in the documentation's tables, and every
//! documented field of an object the record holds is in the record.

mod support;

use std::collections::BTreeMap;

use serde_json::Value;
use support::{assert_ok, httplab, scratch, write};

/// One documented field: its type cell.
#[derive(Debug)]
struct Field {
    /// The object type it holds (the link in its type cell), if any.
    object: Option<String>,
    /// Present only in some forms of its object.
    variant: bool,
}

/// The documented types: section name → field name → field.
type Docs = BTreeMap<String, BTreeMap<String, Field>>;

/// Every `| Field | Type | Meaning |` table of the page, under the name of
/// the heading above it.
fn parse_docs() -> Docs {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/results.md");
    let text = std::fs::read_to_string(path).expect("docs/results.md");
    let mut docs = Docs::new();
    let mut heading = String::new();
    let mut in_table = false;
    for line in text.lines() {
        if let Some(h) = line
            .strip_prefix("## ")
            .or_else(|| line.strip_prefix("### "))
        {
            heading = h.trim().to_owned();
            in_table = false;
        } else if line.starts_with("| Field | Type | Meaning |") {
            in_table = true;
            docs.entry(heading.clone()).or_default();
        } else if in_table && line.starts_with("| `") {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells[1].trim_matches('`').to_owned();
            let ty = cells[2];
            // A link `[Name](#anchor)` names the object type.
            let object = ty
                .split_once("](#")
                .and_then(|(before, _)| before.rsplit_once('[').map(|(_, name)| name.to_owned()));
            let field = Field {
                object,
                variant: ty.contains("variant"),
            };
            docs.get_mut(&heading).unwrap().insert(name, field);
        } else if !line.starts_with('|') {
            in_table = false;
        }
    }
    docs
}

/// Check `value`, an object of documented type `ty`, at `path`.
fn check(docs: &Docs, ty: &str, value: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(fields) = docs.get(ty) else {
        problems.push(format!("{path}: type {ty} has no table"));
        return;
    };
    let Some(object) = value.as_object() else {
        problems.push(format!("{path}: expected an object ({ty})"));
        return;
    };
    for (key, v) in object {
        let Some(field) = fields.get(key) else {
            problems.push(format!(
                "{path}.{key}: in the record, not in the docs ({ty})"
            ));
            continue;
        };
        if let Some(inner) = &field.object {
            match v {
                Value::Object(_) => check(docs, inner, v, &format!("{path}.{key}"), problems),
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        check(docs, inner, item, &format!("{path}.{key}[{i}]"), problems);
                    }
                }
                _ => {}
            }
        }
    }
    for (name, field) in fields {
        if !field.variant && !object.contains_key(name) {
            problems.push(format!(
                "{path}.{name}: in the docs ({ty}), not in the record"
            ));
        }
    }
}

fn record(scenario: &std::path::Path, protocol: &str) -> Value {
    let out = httplab([
        "run",
        "--scenario",
        scenario.to_str().unwrap(),
        "--protocol",
        protocol,
        "--json",
    ]);
    assert_ok(&out);
    serde_json::from_slice(&out.stdout).expect("a JSON record")
}

#[test]
fn a_record_has_exactly_the_documented_fields() {
    let docs = parse_docs();
    for ty in [
        "The record",
        "Network",
        "Link",
        "Measurements",
        "Warmup",
        "TransportStats",
        "Simulation",
        "Migration",
        "Resumption",
    ] {
        assert!(docs.contains_key(ty), "docs/results.md has no {ty} table");
    }
    let dir = scratch("schema");
    // Events and both loss forms, so that every table has an instance.
    let events = write(
        &dir,
        "events.toml",
        r#"
        name = "events"
        [network]
        loss = { model = "gilbert-elliott", percent = 1, burst = 2 }
        [network.up]
        loss = { model = "bernoulli", percent = 1 }
        [[network.events]]
        type = "drop"
        direction = "down"
        nth = 5
        [[network.events]]
        type = "blackout"
        from_ms = 300
        until_ms = 350
        [workload]
        kind = "bulk"
        size = 200_000
        "#,
    );
    let migration = write(
        &dir,
        "migration.toml",
        r#"
        name = "migration"
        [[network.events]]
        type = "path_change"
        at_ms = 200
        to = { preset = "lte" }
        [workload]
        kind = "bulk"
        size = 200_000
        "#,
    );
    // A warm-up and early data, so that the warm-up table has an instance.
    let handshake = write(
        &dir,
        "handshake.toml",
        r#"
        name = "handshake"
        [workload]
        kind = "bulk"
        size = 1_000
        [sweep]
        handshake = ["early-data"]
        "#,
    );
    let mut problems = Vec::new();
    // Across the path change, HTTP/2 resumes (a Resumption) and HTTP/3
    // migrates; both have a Migration. A resumed handshake has a Warmup.
    for (scenario, protocol) in [
        (&events, "h2"),
        (&migration, "h2"),
        (&migration, "h3"),
        (&handshake, "h2"),
    ] {
        let record = record(scenario, protocol);
        check(&docs, "The record", &record, protocol, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "record and docs differ:\n{}",
        problems.join("\n")
    );
}
