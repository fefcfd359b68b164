//! `httplab import-har`: a recorded page (a HAR file) as a scenario file
//! whose workload is the page, object by object (`kind = "page-graph"`).
//!
//! The conversion is `scenarios::har::HarPage::to_page`, whose module docs
//! (and `docs/workloads.md`, "Importing a HAR") state its rules; this
//! module writes its result as a complete scenario ([`scenario_toml`]:
//! a header saying where the page came from and which choices were made,
//! the default network, h1, h2 and h3, ten seeds, a comment at each object
//! naming its entry and how it is discovered) and summarises it for the
//! terminal ([`summary`]).

use std::fmt::Write as _;

use anyhow::{anyhow, Context as _, Result};
use scenarios::har::import::{Basis, ImportedObject, ImportedPage};
use scenarios::Scenario;

/// The scenario's seeds: 1 to this.
pub const SEEDS: u64 = 10;
/// The scenario's simulated-time limit per run, in seconds.
pub const TIME_LIMIT_S: u64 = 60;

/// The scenario name for a HAR file of stem `stem`: its characters outside
/// `A-Z a-z 0-9 . _ -` replaced by `-`, cut to 64; `imported-page` if
/// nothing is left.
pub fn default_name(stem: &str) -> String {
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() || name.chars().all(|c| c == '.') {
        "imported-page".to_owned()
    } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        // A scenario's name starts with a letter or a digit (it names a
        // folder): `.hidden` becomes `har-.hidden`.
        format!("har-{}", &name[..name.len().min(60)])
    } else {
        name
    }
}

/// `text` fit for one comment line: control characters (a newline would
/// end the comment) as `?`.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A TOML string literal.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// The last segment of an object's path: its name.
fn object_name(o: &ImportedObject) -> &str {
    o.spec.path.rsplit('/').next().unwrap_or(&o.spec.path)
}

/// How an object is discovered, in words, for its comment and the summary.
fn discovery(o: &ImportedObject, page: &ImportedPage) -> String {
    let by = || {
        let path = o.spec.initiator.as_deref().unwrap_or_default();
        let name = page
            .objects
            .iter()
            .find(|p| p.spec.path == path)
            .map_or(path, object_name);
        format!("found by {name}")
    };
    let found = match (o.spec.html_offset, &o.spec.initiator) {
        (Some(offset), _) => format!("found at byte {offset} of the document"),
        (None, Some(_)) => by(),
        (None, None) => "the document".to_owned(),
    };
    match &o.basis {
        Basis::Navigation => found,
        Basis::Parser { line: Some(line) } => format!("{found} (parser, line {line})"),
        Basis::Parser { line: None } => format!("{found} (parser, no line: after the one before)"),
        Basis::Initiator => format!("{found} (its _initiator)"),
        Basis::Inferred { from, because } => {
            format!("{found}, inferred: {because}; {from}")
        }
    }
}

/// How many of the objects after the document were discovered as the
/// HAR's initiators say, and how many were inferred.
fn dependency_counts(page: &ImportedPage) -> (usize, usize) {
    let from_har = page.objects.iter().filter(|o| o.basis.from_har()).count();
    let inferred = page
        .objects
        .iter()
        .filter(|o| matches!(o.basis, Basis::Inferred { .. }))
        .count();
    (from_har, inferred)
}

/// `page` as a complete scenario file named `name`, imported from
/// `source` (the HAR's path as given, for the header). The text is checked
/// to load as a scenario; a bad `name` is an error naming `--name`.
pub fn scenario_toml(page: &ImportedPage, name: &str, source: &str) -> Result<String> {
    let file = std::path::Path::new(source)
        .file_name()
        .map_or_else(|| source.to_owned(), |f| f.to_string_lossy().into_owned());
    let bytes = page.total_bytes();
    let (from_har, inferred) = dependency_counts(page);
    let mut t = String::new();
    let w = &mut t;
    // Writing to a String cannot fail.
    let _ = writeln!(
        w,
        "# Imported by `httplab import-har` from {}.",
        comment(source)
    );
    let _ = writeln!(
        w,
        "# {} objects, {bytes} bytes, {} origins; {from_har} discovered as the HAR's initiators say,",
        page.objects.len(),
        page.origins.len()
    );
    let _ = writeln!(
        w,
        "# {inferred} inferred from timing (said at each object). An ordinary scenario file: edit freely."
    );
    let _ = writeln!(
        w,
        "#\n# The choices made (docs/workloads.md, \"Importing a HAR\", has every rule):"
    );
    for line in [
        "- the document is the HAR's first document; entries before it are dropped, later",
        "  documents (iframes) are data; entries with no body bytes (cached) are skipped;",
        "  sizes are the bytes that crossed the network (the lab's bodies are incompressible);",
        "- origins are host names, the document's first; schemes and ports are dropped: the lab",
        "  serves every origin over https from its one server;",
        "- kinds from Chrome's resource type; scripts with _priority Low or VeryLow are async-js,",
        "  other scripts parser-blocking js; xhr, fetch and other are data;",
        "- names from the URL's last path segment, made unique; paths /bytes/{size}/{name};",
        "- discovery from _initiator: the document's parser at byte size x line / (largest line",
        "  + 1), a stylesheet or script named as initiator once it has arrived; without a usable",
        "  initiator, from the timing: started while the document arrived, at the proportional",
        "  byte; else found by the stylesheet or script that finished last before it started;",
        "  else at the end of the document;",
        "- render_blocking from Chrome's _renderBlocking (\"blocking\"), else stylesheets and",
        "  parser-blocking scripts found by the parser;",
        "- every delay 0, the preload scanner on.",
    ] {
        let _ = writeln!(w, "# {line}");
    }
    if !page.warnings.is_empty() {
        let _ = writeln!(w, "#\n# Warnings:");
        for warning in &page.warnings {
            let _ = writeln!(w, "#   {}", comment(&warning.to_string()));
        }
    }
    let description = format!(
        "The page recorded in {file} ({} objects, {bytes} bytes, {} origins), loaded as a browser does, on the default network.",
        page.objects.len(),
        page.origins.len()
    );
    let _ = writeln!(w);
    let _ = writeln!(w, "name = {}", toml_string(name));
    let _ = writeln!(w, "description = {}", toml_string(&description));
    let _ = writeln!(w, "protocols = [\"h1\", \"h2\", \"h3\"]");
    let _ = writeln!(w, "seeds = {SEEDS}");
    let _ = writeln!(w, "time_limit_s = {TIME_LIMIT_S}");
    let _ = writeln!(w);
    let _ = writeln!(w, "[network]");
    let _ = writeln!(
        w,
        "# Nothing set: the lab's default network (50 ms RTT, 10 Mbit/s, no loss); see docs/scenarios.md."
    );
    let _ = writeln!(w);
    let _ = writeln!(w, "[workload]");
    let _ = writeln!(w, "kind = \"page-graph\"");
    let origins: Vec<String> = page.origins.iter().map(|o| toml_string(o)).collect();
    let _ = writeln!(w, "origins = [{}]", origins.join(", "));
    let _ = writeln!(w, "preload_scanner = true");
    for o in &page.objects {
        let _ = writeln!(w);
        let _ = writeln!(w, "# entry {}: {}", o.entry, comment(&short(&o.url)));
        let _ = writeln!(w, "# {}", comment(&discovery(o, page)));
        let _ = writeln!(w, "[[workload.objects]]");
        let table = toml::to_string(&o.spec)
            .with_context(|| format!("writing the object of entry {} as TOML", o.entry))?;
        w.push_str(&table);
    }
    if let Err(e) = Scenario::from_toml(&t, "the imported scenario") {
        if e.field() == Some("name") {
            return Err(anyhow!("--name {name:?}: {}", e.reason()));
        }
        return Err(anyhow!(
            "the imported scenario does not load (a bug in import-har): {e}"
        ));
    }
    Ok(t)
}

/// A URL cut to 100 characters.
fn short(url: &str) -> String {
    if url.chars().count() <= 100 {
        url.to_owned()
    } else {
        let cut: String = url.chars().take(97).collect();
        format!("{cut}...")
    }
}

/// What was imported, for standard error: objects, bytes, origins with
/// their object counts, how many dependencies came from the HAR's
/// initiators and which were inferred, and every warning with its entry.
pub fn summary(page: &ImportedPage, source: &str) -> String {
    let mut t = String::new();
    let w = &mut t;
    let bytes = page.total_bytes();
    let _ = writeln!(
        w,
        "imported {}: {} objects, {bytes} bytes ({:.2} MB), {} origins",
        comment(source),
        page.objects.len(),
        bytes as f64 / 1e6,
        page.origins.len()
    );
    let width = page.origins.iter().map(String::len).max().unwrap_or(0);
    for (origin, n) in page.objects_per_origin() {
        let s = if n == 1 { "" } else { "s" };
        let _ = writeln!(w, "  {origin:<width$}  {n} object{s}");
    }
    let (from_har, inferred) = dependency_counts(page);
    let _ = writeln!(
        w,
        "dependencies: {from_har} from the HAR's initiators, {inferred} inferred from timing{}",
        if inferred > 0 { ":" } else { "" }
    );
    for o in &page.objects {
        if matches!(o.basis, Basis::Inferred { .. }) {
            let _ = writeln!(
                w,
                "  entry {} {}: {}",
                o.entry,
                object_name(o),
                comment(&discovery(o, page))
            );
        }
    }
    let n = page.warnings.len();
    let _ = writeln!(
        w,
        "{n} warning{}{}",
        if n == 1 { "" } else { "s" },
        if n > 0 { ":" } else { "" }
    );
    for warning in &page.warnings {
        let _ = writeln!(w, "  {}", comment(&warning.to_string()));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_file_stems() {
        assert_eq!(default_name("www.example.com"), "www.example.com");
        assert_eq!(default_name("my page (1)"), "my-page--1-");
        assert_eq!(default_name(""), "imported-page");
        assert_eq!(default_name(".."), "imported-page");
        assert_eq!(default_name(&"x".repeat(80)).len(), 64);
        assert_eq!(default_name(".hidden"), "har-.hidden");
        assert_eq!(default_name("-x"), "har--x");
    }
}
