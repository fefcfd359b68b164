//! The scenario parser under 12 000 mutated scenario files (issue #16
//! item 8): each is parsed (which validates it), and a file that parses is hashed
//! and expanded. No case may panic, and every one that parses stays within
//! the lab's bounds (at most `MAX_RUNS` runs, each with its own run key),
//! so nothing a file says can make a sweep unbounded.
//!
//! The mutations are drawn from a fixed seed, so a failure repeats: its
//! message gives the case number and the text. They start from every
//! shipped scenario and the HAR-import fixture's shape, and apply one to
//! four of: deleting, duplicating or swapping lines; replacing a value
//! with a hostile one (`-0`, `1e308`, `nan`, `inf`, huge integers, empty
//! arrays and strings, `..`); inserting a known field with a hostile value;
//! cutting the text at a random byte; flipping a byte.

use std::panic::{catch_unwind, AssertUnwindSafe};

use scenarios::{Scenario, MAX_RUNS};

/// The cases run.
const CASES: usize = 12_000;

/// A small seeded generator (SplitMix64): the test needs no RNG crate, and
/// its cases are the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Values no sane scenario has.
const HOSTILE: &[&str] = &[
    "-0",
    "-0.0",
    "0",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-inf",
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967296",
    "1_000_000_000",
    "0.0000001",
    "[]",
    "[[]]",
    "[0, -0]",
    "[1e308, 1]",
    "\"\"",
    "\"..\"",
    "\".\"",
    "\"../../etc\"",
    "\"h4\"",
    "{}",
    "{ preset = \"moon\" }",
    "true",
    "\"\\u0000\"",
];

/// Fields a mutation may insert, at the top level or in a table.
const FIELDS: &[&str] = &[
    "name",
    "seeds",
    "protocols",
    "time_limit_s",
    "tcp",
    "initial_window",
    "h3_fallback_ms",
    "rtt_ms",
    "bandwidth_mbit",
    "loss",
    "jitter_ms",
    "queue",
    "mtu",
    "size",
    "count",
    "requests",
    "concurrency",
    "subresources",
    "html_size",
    "loss_percent",
    "at_ms",
    "objects",
    "kind",
    "preset",
];

/// The shipped scenarios, the starting points.
fn seeds() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/files");
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .expect("scenarios/files")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    texts.sort();
    texts.push(
        "name = \"graph\"\n[workload]\nkind = \"page-graph\"\n\
         [[workload.objects]]\npath = \"/bytes/3000/index.html\"\nkind = \"html\"\n\
         [[workload.objects]]\npath = \"/bytes/500/a.css\"\nkind = \"css\"\nhtml_offset = 100\n"
            .to_owned(),
    );
    texts.push(
        "name = \"list\"\n[workload]\nkind = \"list\"\n\
         objects = [{ path = \"/bytes/10/a.bin\" }, { path = \"/bytes/20/b.bin\" }]\n\
         [sweep]\nloss_percent = [0, 1]\nrtt_ms = [20, 80]\n"
            .to_owned(),
    );
    texts
}

/// One mutation of `text`.
fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let at = rng.below(lines.len());
    match rng.below(8) {
        0 => {
            lines.remove(at);
        }
        1 => {
            let line = lines[at].clone();
            lines.insert(at, line);
        }
        2 => {
            let other = rng.below(lines.len());
            lines.swap(at, other);
        }
        3 | 4 => {
            // Replace the value of a `key = value` line.
            if let Some((key, _)) = lines[at].split_once('=') {
                lines[at] = format!("{key}= {}", rng.pick(HOSTILE));
            }
        }
        5 => {
            let line = format!("{} = {}", rng.pick(FIELDS), rng.pick(HOSTILE));
            lines.insert(at, line);
        }
        6 => {
            let joined = lines.join("\n");
            let cut = rng.below(joined.len() + 1);
            let cut = (0..=cut)
                .rev()
                .find(|&i| joined.is_char_boundary(i))
                .unwrap_or(0);
            return joined[..cut].to_owned();
        }
        _ => {
            let mut bytes = lines.join("\n").into_bytes();
            if !bytes.is_empty() {
                let i = rng.below(bytes.len());
                let replacements = b"=[]{}\"#.,-0123456789\n x";
                bytes[i] = replacements[rng.below(replacements.len())];
            }
            return String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    lines.join("\n")
}

/// What a scenario that parsed (and so passed validation) must hold:
/// hashing and expanding it work, it stays within the run bound, and
/// every run's key is unique.
fn check_parsed(scenario: &Scenario) -> Result<(), String> {
    let _ = scenario.content_hash();
    let runs = scenario.expand();
    if runs.len() as u64 > MAX_RUNS {
        return Err(format!("{} runs, above MAX_RUNS", runs.len()));
    }
    let mut keys: Vec<String> = runs.iter().map(|r| r.key()).collect();
    keys.sort();
    let before = keys.len();
    keys.dedup();
    if keys.len() != before {
        return Err("two runs share a key".into());
    }
    if let Some(run) = runs.first() {
        let _ = run.content_hash();
    }
    Ok(())
}

#[test]
fn no_mutated_scenario_panics_or_escapes_the_bounds() {
    let starts = seeds();
    let mut rng = Rng(16);
    let (mut parsed, mut rejected) = (0, 0);
    for case in 0..CASES {
        let mut text = starts[rng.below(starts.len())].clone();
        for _ in 0..=rng.below(4) {
            text = mutate(&text, &mut rng);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            match Scenario::from_toml(&text, "mutated.toml") {
                Ok(scenario) => check_parsed(&scenario).map(|()| true),
                Err(e) => {
                    // An error names its file, as every parse error must.
                    let message = e.to_string();
                    if message.starts_with("mutated.toml") || message.contains("mutated.toml") {
                        Ok(false)
                    } else {
                        Err(format!("an error that does not name the file: {message}"))
                    }
                }
            }
        }));
        match outcome {
            Ok(Ok(true)) => parsed += 1,
            Ok(Ok(false)) => rejected += 1,
            Ok(Err(problem)) => panic!("case {case}: {problem}\n--- text ---\n{text}"),
            Err(_) => panic!("case {case} panicked\n--- text ---\n{text}"),
        }
    }
    eprintln!("{CASES} mutated scenarios: {parsed} parsed, {rejected} rejected, 0 panics");
    // The mutations are not all fatal: both paths were exercised.
    assert!(parsed > CASES / 20, "only {parsed} parsed");
    assert!(rejected > CASES / 20, "only {rejected} rejected");
}
