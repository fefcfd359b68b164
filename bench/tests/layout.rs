//! The workspace's layout rules, checked on its source text:
//!
//! - no import circle between the files of a crate: if `a.rs` uses
//!   something of `b.rs` (through `crate::`, `super::`, `self::` or a
//!   re-export at the crate root), `b.rs` must not use something of `a.rs`,
//!   directly or through other files;
//! - each concept of the lab's vocabulary is defined in exactly one place.
//!
//! The checker reads Rust source as text (comments and string literals
//! skipped), which is enough for this codebase's plain `use` statements and
//! paths; it resolves a `crate::Name` that is not a module through the
//! root's `pub use` re-exports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench sits in the workspace")
        .to_path_buf()
}

/// The workspace's crates with a `src/lib.rs` or `src/main.rs`.
fn crates() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root())
        .expect("the workspace root is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Cargo.toml").is_file() && p.join("src").is_dir())
        .collect();
    out.sort();
    out
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("a readable directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `src/a/b.rs` and `src/a/b/mod.rs` → `["a", "b"]`; `src/lib.rs` → `[]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("a file under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_owned());
    }
    if rel.components().count() == 1 && matches!(stem, "lib" | "main") {
        parts.clear();
    }
    parts
}

/// Source text with comments, string and char literals blanked out.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'r' && b.get(i + 1) == Some(&b'#') && b.get(i + 2) == Some(&b'"') {
            let end = text[i + 3..].find("\"#").map_or(b.len(), |e| i + 3 + e + 2);
            i = end;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            i += 3;
            out.push_str("' '");
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') {
            let end = text[i + 2..].find('\'').map_or(b.len(), |e| i + 2 + e + 1);
            i = end;
            out.push_str("' '");
        } else {
            let ch = text[i..].chars().next().expect("a char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Expand a use tree (`a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str) -> Vec<Vec<String>> {
    // `X as Y` renames X: mark the rename before dropping whitespace, so
    // that names containing "as" (`Phase`, `HashMap`) stay whole.
    let tree: String = tree
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" as ", "@")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    fn go(prefix: &[String], t: &str, out: &mut Vec<Vec<String>>) {
        // Split top-level commas.
        let mut depth = 0;
        let mut start = 0;
        let mut items = Vec::new();
        for (i, c) in t.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&t[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&t[start..]);
        for item in items.into_iter().filter(|s| !s.is_empty()) {
            if let Some(open) = item.find('{') {
                let head = item[..open].trim_end_matches("::");
                let mut p = prefix.to_vec();
                p.extend(
                    head.split("::")
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
                go(&p, &item[open + 1..item.len() - 1], out);
            } else {
                let item = item.split('@').next().unwrap_or(item);
                let mut p = prefix.to_vec();
                p.extend(
                    item.split("::")
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    go(&[], &tree, &mut out);
    out
}

/// The byte ranges of the inline modules (`mod tests { ... }`) in `code`.
fn inline_modules(code: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("mod ") {
        let start = from + at;
        from = start + 4;
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let rest = &code[start + 4..];
        let name_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let after = rest[name_len..].trim_start();
        if !after.starts_with('{') {
            continue;
        }
        let open = start + 4 + name_len + (rest[name_len..].len() - after.len());
        let mut depth = 0;
        for (i, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        out.push(open..open + i);
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Every path a file names that starts with `crate`, `super` or `self`,
/// from its `use` statements and from paths in its code, with how many
/// inline modules (`mod tests { ... }`) enclose it.
fn paths_in(code: &str) -> Vec<(usize, Vec<String>)> {
    let inline = inline_modules(code);
    let depth = |at: usize| inline.iter().filter(|r| r.contains(&at)).count();
    let mut out = Vec::new();
    // `use` statements (possibly `pub use`, `pub(crate) use`), to the `;`.
    let mut from = 0;
    while let Some(at) = code[from..].find("use ") {
        let start = from + at;
        from = start + 4;
        let before = code[..start].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let after = &code[start + 4..];
        if let Some(end) = after.find(';') {
            let tree = &after[..end];
            if tree.contains('\n') && !tree.contains("::") {
                continue;
            }
            out.extend(expand(tree).into_iter().map(|p| (depth(start), p)));
        }
    }
    // Inline paths.
    let bytes = code.as_bytes();
    for key in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(key) {
            let start = from + at;
            from = start + key.len();
            if start > 0
                && (bytes[start - 1].is_ascii_alphanumeric()
                    || bytes[start - 1] == b'_'
                    || bytes[start - 1] == b':')
            {
                continue;
            }
            let mut end = start;
            while end < bytes.len()
                && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_' || bytes[end] == b':')
            {
                end += 1;
            }
            let path: Vec<String> = code[start..end]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            // `crate::{...}` is a use tree, read above.
            if path.len() > 1 {
                out.push((depth(start), path));
            }
        }
    }
    out
}

/// One crate's files, as module paths, and which files each one uses.
struct CrateGraph {
    files: BTreeMap<Vec<String>, PathBuf>,
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

fn graph(krate: &Path) -> CrateGraph {
    let src = krate.join("src");
    let mut files = BTreeMap::new();
    for f in rust_files(&src) {
        if f.file_name().is_some_and(|n| n == "main.rs") && src.join("lib.rs").is_file() {
            continue;
        }
        if f.strip_prefix(&src).is_ok_and(|r| r.starts_with("bin")) {
            continue;
        }
        files.insert(module_of(&src, &f), f);
    }
    let codes: BTreeMap<Vec<String>, String> = files
        .iter()
        .map(|(m, f)| {
            (
                m.clone(),
                code_only(&std::fs::read_to_string(f).expect("readable")),
            )
        })
        .collect();
    // Every module's re-exports: `pub use a::b::{X, Y}` in module `m` → a
    // path `m::X` leads to the file of `a::b`.
    let mut reexports: Reexports = BTreeMap::new();
    for (module, code) in &codes {
        for path in reexports_in(code) {
            let (name, target) = path.split_last().expect("a non-empty path");
            let mut absolute: Vec<String> = match target.first().map(String::as_str) {
                Some("crate") => target[1..].to_vec(),
                Some("self") => [module.as_slice(), &target[1..]].concat(),
                Some("super") => {
                    let mut m = module.clone();
                    let mut t = target;
                    while t.first().map(String::as_str) == Some("super") {
                        m.pop();
                        t = &t[1..];
                    }
                    [m.as_slice(), t].concat()
                }
                _ => [module.as_slice(), target].concat(),
            };
            while !absolute.is_empty() && !files.contains_key(&absolute) {
                absolute.pop();
            }
            if &absolute != module {
                reexports.insert((module.clone(), name.clone()), absolute);
            }
        }
    }
    let resolve = |from: &[String], path: &[String]| -> Option<Vec<String>> {
        let mut base: Vec<String> = match path.first().map(String::as_str) {
            Some("crate") => Vec::new(),
            Some("super") => {
                let mut b = from.to_vec();
                let mut p = path;
                while p.first().map(String::as_str) == Some("super") {
                    b.pop();
                    p = &p[1..];
                }
                let mut full = b;
                full.extend(p.iter().cloned());
                return deepest(&files, &full, &reexports);
            }
            Some("self") => from.to_vec(),
            Some(first) => {
                // A child module used by its bare name (`mod x; use x::Y`).
                let mut child = from.to_vec();
                child.push(first.to_owned());
                if files.contains_key(&child) {
                    from.to_vec()
                } else {
                    return None;
                }
            }
            None => return None,
        };
        let skip = usize::from(matches!(path[0].as_str(), "crate" | "self"));
        base.extend(path[skip..].iter().cloned());
        deepest(&files, &base, &reexports)
    };
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, code) in &codes {
        let set = edges.entry(module.clone()).or_default();
        for (inline_depth, mut path) in paths_in(code) {
            // Inside an inline module, its own `super`s and `self` stay in
            // this file.
            let mut within = inline_depth;
            while within > 0 && path.first().map(String::as_str) == Some("super") {
                path.remove(0);
                within -= 1;
            }
            if within > 0 && path.first().map(String::as_str) == Some("self") {
                continue;
            }
            if path.is_empty()
                || (inline_depth > 0
                    && within < inline_depth
                    && !matches!(path[0].as_str(), "crate" | "super" | "self"))
            {
                // `use super::*` (or `super::item`) in `mod tests`: this
                // file's own items.
                continue;
            }
            if let Some(target) = resolve(module, &path) {
                // A parent naming its own child module is how Rust declares
                // and re-exports modules, not a use of the child's code by
                // the child; only count edges between distinct files.
                if &target != module {
                    set.insert(target);
                }
            }
        }
    }
    CrateGraph { files, edges }
}

/// Re-exports: (module, name) → the module whose file defines the name.
type Reexports = BTreeMap<(Vec<String>, String), Vec<String>>;

/// The paths of a file's `pub use` / `pub(crate) use` statements.
fn reexports_in(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for key in ["pub use ", "pub(crate) use ", "pub(super) use "] {
        let mut from = 0;
        while let Some(at) = code[from..].find(key) {
            let start = from + at + key.len();
            from = start;
            if let Some(end) = code[start..].find(';') {
                out.extend(expand(&code[start..start + end]));
            }
        }
    }
    out
}

/// The deepest file module along `path` (a path into an item of a file
/// resolves to that file); an item a module re-exports resolves to the file
/// that defines it.
fn deepest(
    files: &BTreeMap<Vec<String>, PathBuf>,
    path: &[String],
    reexports: &Reexports,
) -> Option<Vec<String>> {
    let mut path = path.to_vec();
    for _ in 0..16 {
        let len = (0..=path.len())
            .rev()
            .find(|&len| files.contains_key(&path[..len]))?;
        match path.get(len) {
            Some(name) => match reexports.get(&(path[..len].to_vec(), name.clone())) {
                Some(target) => {
                    let mut next = target.clone();
                    next.extend(path[len + 1..].iter().cloned());
                    path = next;
                }
                None => return Some(path[..len].to_vec()),
            },
            None => return Some(path),
        }
    }
    None
}

/// The strongly connected components with more than one file (Tarjan).
fn circles(g: &CrateGraph) -> Vec<Vec<Vec<String>>> {
    struct State<'a> {
        g: &'a CrateGraph,
        index: BTreeMap<Vec<String>, usize>,
        low: BTreeMap<Vec<String>, usize>,
        stack: Vec<Vec<String>>,
        on_stack: BTreeSet<Vec<String>>,
        next: usize,
        out: Vec<Vec<Vec<String>>>,
    }
    fn visit(s: &mut State<'_>, v: &Vec<String>) {
        s.index.insert(v.clone(), s.next);
        s.low.insert(v.clone(), s.next);
        s.next += 1;
        s.stack.push(v.clone());
        s.on_stack.insert(v.clone());
        let targets: Vec<Vec<String>> = s.g.edges.get(v).into_iter().flatten().cloned().collect();
        for w in targets {
            if !s.index.contains_key(&w) {
                visit(s, &w);
                let lw = s.low[&w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(&w) {
                let iw = s.index[&w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().expect("on the stack");
                s.on_stack.remove(&w);
                let done = &w == v;
                component.push(w);
                if done {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.files.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

fn file_name(g: &CrateGraph, m: &[String]) -> String {
    g.files[m]
        .strip_prefix(root())
        .expect("under the root")
        .display()
        .to_string()
}

#[test]
fn no_import_circle_between_the_files_of_a_crate() {
    let mut found = Vec::new();
    for krate in crates() {
        let g = graph(&krate);
        for component in circles(&g) {
            let names: Vec<String> = component.iter().map(|m| file_name(&g, m)).collect();
            let uses: Vec<String> = component
                .iter()
                .map(|m| {
                    let targets: Vec<String> = g.edges[m]
                        .iter()
                        .filter(|t| component.contains(t))
                        .map(|t| file_name(&g, t))
                        .collect();
                    format!("    {} uses {}", file_name(&g, m), targets.join(", "))
                })
                .collect();
            found.push(format!("  {}\n{}", names.join(" ↔ "), uses.join("\n")));
        }
    }
    assert!(
        found.is_empty(),
        "import circles between files:\n{}",
        found.join("\n")
    );
}

#[test]
fn use_trees_expand_to_their_paths() {
    let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        expand("crate::{phase::Phase as P, alias::{Base, Cases}}"),
        vec![
            strs(&["crate", "phase", "Phase"]),
            strs(&["crate", "alias", "Base"]),
            strs(&["crate", "alias", "Cases"]),
        ]
    );
}

#[test]
fn the_checker_finds_a_circle_it_is_shown() {
    let dir = std::env::temp_dir().join(format!("httplab-layout-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "mod a;\nmod b;\nmod c;\npub use c::Thing;\n",
    )
    .unwrap();
    std::fs::write(
        src.join("a.rs"),
        "use crate::b::B;\n// use crate::c::Thing;\npub struct A;\n",
    )
    .unwrap();
    std::fs::write(src.join("b.rs"), "pub struct B(crate::Thing);\n").unwrap();
    std::fs::write(
        src.join("c.rs"),
        "use super::{a::A, b};\npub struct Thing;\nconst S: &str = \"crate::b\";\n",
    )
    .unwrap();
    let g = graph(&dir);
    let found = circles(&g);
    std::fs::remove_dir_all(&dir).unwrap();
    let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // a → b → c (through the root's re-export of Thing) → a.
    assert_eq!(found, vec![vec![strs(&["a"]), strs(&["b"]), strs(&["c"])]]);
}

/// Where `needle` (a definition) occurs in the workspace's Rust sources,
/// outside `target/`.
fn definitions(needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for krate in crates() {
        for dir in ["src", "tests", "benches"] {
            let dir = krate.join(dir);
            if !dir.is_dir() {
                continue;
            }
            for f in rust_files(&dir) {
                let code = code_only(&std::fs::read_to_string(&f).expect("readable"));
                for (n, line) in code.lines().enumerate() {
                    if line.contains(needle) {
                        out.push(format!(
                            "{}:{}",
                            f.strip_prefix(root()).expect("under the root").display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn each_vocabulary_type_is_defined_once() {
    for needle in [
        "enum Protocol ",
        "enum Protocol {",
        "enum Handshake ",
        "enum Handshake {",
        "enum TcpImplementation",
        "enum LossModelName",
        "enum Congestion ",
        "enum Congestion {",
        "enum Pacing ",
        "enum Pacing {",
        "enum Scheduler ",
        "enum Scheduler {",
        "enum Certificate ",
        "enum Certificate {",
        "enum Coalescing ",
        "enum Coalescing {",
        "enum H3Discovery",
        "enum NetworkEvents",
        "enum PageStructure",
        "enum ObjectKind",
        "struct PageGraph",
        "struct PageTimes",
        "struct RaceRecord",
        "const SERVER_NAME",
        "enum NamedAxis",
        "const TICK:",
        "struct RunResult",
        "mod nanos",
        "struct SegmentArrival",
    ] {
        let found = definitions(needle);
        assert_eq!(
            found.len(),
            1,
            "`{needle}` is defined {} times: {found:?}",
            found.len()
        );
    }
}
