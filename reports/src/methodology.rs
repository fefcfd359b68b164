//! The generated "Methodology" section: what was run, on what network,
//! with which build, and how to run it again, all taken from the records
//! (and `scenario.toml`, when the results directory has one).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use netsim::{Settings, TcpImplementation, TransportSettings};
use records::{AxisValue, RunResult};
use scenarios::{
    Coalescing, NamedAxis, Protocol, ResolvedLink, ResolvedLoss, ResolvedNetwork, ResolvedQueue,
};

use crate::document::Block;
use crate::stats::{BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED};
use crate::tables::{
    axis_point, AxisPoint, MIN_BASELINE_BYTES, MIN_BASELINE_CONNECTIONS, MIN_BASELINE_MBIT_S,
    MIN_BASELINE_MS, MIN_BASELINE_PACKETS,
};

/// What the section is made from.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// The records the report covers.
    pub records: &'a [&'a RunResult],
    /// SHA-256, hex, of the report's records: their lines of
    /// `results.jsonl`, each with a newline, in run-key order (so that it
    /// does not depend on the order of the file's lines).
    pub records_sha256: String,
    /// Records in `results.jsonl` left out (another scenario version or
    /// lab build, or a repeated run key).
    pub left_out: usize,
    /// SHA-256 of `scenario.toml`, hex, if there is one.
    pub scenario_file_sha256: Option<String>,
}

/// The section's blocks.
pub fn section(inputs: &Inputs<'_>) -> Vec<Block> {
    let records = inputs.records;
    let mut blocks = vec![Block::Heading(2, "Methodology".into())];
    let distinct = |f: &dyn Fn(&RunResult) -> String| -> BTreeSet<String> {
        records.iter().map(|r| f(r)).collect()
    };
    let names = distinct(&|r| r.scenario.clone());
    let hashes = distinct(&|r| r.scenario_hash.clone());
    let mut source = vec![
        format!(
            "Scenario: {}; content hash {}.",
            join(&names),
            join(&hashes)
        ),
        format!(
            "Input: results.jsonl; {} records in this report, whose lines, in run-key order, each with its newline, have SHA-256 {}{}.",
            records.len(),
            inputs.records_sha256,
            if inputs.left_out > 0 {
                format!(
                    ", {} records left out (other scenario versions or lab builds, or repeated runs)",
                    inputs.left_out
                )
            } else {
                String::new()
            }
        ),
    ];
    if let Some(h) = &inputs.scenario_file_sha256 {
        source.push(format!(
            "scenario.toml (the resolved scenario), SHA-256 {h}."
        ));
    }
    blocks.push(Block::List(source));

    blocks.push(Block::Heading(3, "Network".into()));
    let mut networks: Vec<(AxisPoint, &ResolvedNetwork)> = Vec::new();
    for r in records {
        let n = &r.network;
        let point = axis_point(&r.axes);
        if !networks.iter().any(|(p, m)| *p == point && *m == n) {
            networks.push((point, n));
        }
    }
    networks.sort_by(|a, b| crate::tables::compare_axis_points(&a.0, &b.0));
    for (point, n) in networks {
        let at = if point.is_empty() {
            "Every run".to_owned()
        } else {
            format!("At {}", point_text(&point))
        };
        blocks.push(Block::Paragraph(format!("{at}:")));
        let mut items = vec![
            format!("up (client → server): {}", link_text(&n.path.up)),
            format!("down (server → client): {}", link_text(&n.path.down)),
            format!(
                "{} targeted drops, {} blackouts, {}",
                n.drops.len(),
                n.blackouts.len(),
                match &n.path_change {
                    Some(c) => format!(
                        "a path change at {} ms (the client gets a new address; the path after it is below)",
                        ms(c.at_ns)
                    ),
                    None => "no path change".to_owned(),
                }
            ),
        ];
        if let Some(c) = &n.path_change {
            items.push(format!(
                "after the path change, up: {}",
                link_text(&c.path.up)
            ));
            items.push(format!(
                "after the path change, down: {}",
                link_text(&c.path.down)
            ));
        }
        blocks.push(Block::List(items));
    }

    blocks.push(Block::Heading(3, "Implementations and build".into()));
    let tcp = distinct(&|r| r.tcp.label().to_owned());
    let implementations: BTreeSet<TcpImplementation> = records.iter().map(|r| r.tcp).collect();
    let commits = distinct(&|r| {
        format!(
            "{} (version {}{})",
            r.lab.commit,
            r.lab.version,
            if r.lab.dirty {
                ", dirty: uncommitted changes"
            } else {
                ""
            }
        )
    });
    let mut versions: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in records {
        for (k, v) in &r.lab.crate_versions {
            versions.entry(k).or_default().insert(v);
        }
    }
    let versions: Vec<String> = versions
        .iter()
        .map(|(k, v)| format!("{k} {}", v.iter().copied().collect::<Vec<_>>().join(" / ")))
        .collect();
    let mut implementations_list = vec![
        format!(
            "TCP under HTTP/1.1 and HTTP/2: {} ({}).",
            join(&tcp),
            implementations
                .iter()
                .map(|&t| tcp_note(t))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        "QUIC under HTTP/3: quinn; TLS 1.3: rustls (versions below).".into(),
        compared(records),
        format!("Lab build: {}.", join(&commits)),
        format!("Crate versions (from Cargo.lock): {}.", versions.join(", ")),
    ];
    implementations_list.push(clients_text(records));
    implementations_list.extend(connections_of_pages(records));
    implementations_list.extend(reaching_http3(records));
    blocks.push(Block::List(implementations_list));
    blocks.extend(settings(records));

    blocks.push(Block::Heading(3, "Runs and statistics".into()));
    let mut seeds: Vec<u64> = records.iter().map(|r| r.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    let has_page_times = records
        .iter()
        .any(|r| r.measurements.as_ref().is_some_and(|m| m.page.is_some()));
    let mut statistics = vec![
        format!("Seeds: {}.", seeds_text(&seeds)),
        seeds_vary(records),
        "Median, p10 and p90: quantiles by linear interpolation between order statistics (Hyndman and Fan type 7, as R and NumPy by default).".into(),
        format!("Mean ± 95 % CI: percentile bootstrap, {BOOTSTRAP_RESAMPLES} resamples with replacement, ChaCha8 generator seeded with {BOOTSTRAP_SEED:#x} for every interval."),
        format!("Δ vs HTTP/2: 100 × (mean − mean of HTTP/2) / mean of HTTP/2 at the same axis point, when HTTP/2's mean is at least {} ms, {} packets, {} bytes, {} connections or {} Mbit/s (by the metric's unit: ten ticks of the 1 ms clock, ten packets, ten full-size packets, ten connections); below that, mean − mean of HTTP/2 in the metric's unit (marked ¹), since a percent of a near-0 baseline is mostly its smallness; none (—, marked ²) where the metric is 0 by construction for the protocol (head-of-line blocked time for HTTP/1.1 and HTTP/3). Each CI resamples both groups independently in each replicate. stats.csv has both forms (delta_vs_h2_pct, delta_vs_h2_abs) and says in delta_pct_omitted why a percent is empty.", MIN_BASELINE_MS, MIN_BASELINE_PACKETS, MIN_BASELINE_BYTES, MIN_BASELINE_CONNECTIONS, MIN_BASELINE_MBIT_S),
        "Only runs that completed (outcome ok) enter the statistics; failed and timed-out runs are counted in every table and left out of its numbers.".into(),
        "Bootstrap replicates whose HTTP/2 mean is 0 (possible for retransmissions) have no relative difference and are left out of that interval.".into(),
        "Metrics: page load time is the client's plt_ns; TTFB is the first request's first_byte_ns − start_ns (its first resumption's first_byte_ns when a path change cut it off before its head); handshake is the first connection's handshake_done_ns − started_ns; mean body-byte delivery time is Σ t × Δbytes / Σ Δbytes over every request's timeline (when the average body byte reached the application); goodput is total_bytes × 8 / page load time; retransmissions sum the client's connections' retransmissions, server retransmissions those of the server's side (server_connections); head-of-line blocked time is the run's hol_blocked_ns; packets dropped are the simulation's count per reason (simulation.drops, both directions: random loss, the full queue, targeted drops, blackouts, over the MTU, no route), one table per reason some run dropped a packet for; with a path change, interruption, bytes fetched twice and connections opened after it come from the run's migration record (docs/migration.md). Tables appear only for metrics some run measured.".into(),
    ];
    if has_page_times {
        statistics.push("Page times (runs of a page loaded as a browser does, every object completed; docs/metrics.md): from the navigation start, the document request's start_ns; each object is ready at its last byte plus its delay in the page graph. First render is the latest of the document's first byte and every render-blocking object's ready time; DOMContentLoaded is the latest of the document's ready time, each parser-blocking script's run (it and every stylesheet found before it in the HTML ready) and every defer script's ready time; onload the latest ready time of all; speed index ∫ (1 − shown(t)) dt, shown(t) the share of the document's and the images' bytes arrived by t and 0 before the first render. Per kind, the chart shows when the kind's last object arrived.".into());
    }
    statistics.extend(seeds_without_variation(records));
    blocks.push(Block::List(statistics));

    blocks.push(Block::Heading(3, "Reproduce".into()));
    blocks.extend(reproduce(
        records,
        &seeds,
        inputs.scenario_file_sha256.is_some(),
    ));

    blocks.push(Block::Heading(3, "Known limits".into()));
    let mut limits = vec![
        "Simulated time advances in 1 ms steps: every time here is a whole number of milliseconds of simulated time, and differences below 1 ms are not resolved.".to_owned(),
    ];
    limits.extend(implementations.iter().map(|&t| tcp_limit(t).to_owned()));
    limits.push("Pacing differs by transport unless a run sets it: the lab's TCP does not pace by default (pacing = off, as Linux without the fq qdisc; BBR paces always, as Linux's internal pacing does), while quinn always paces (a token bucket refilled at 5/4 × cwnd / smoothed RTT). The transport settings above say what each run used.".into());
    limits.push("Retransmissions count different things per transport: TCP segments resent, QUIC packets declared lost (QUIC resends frames in new packets). Client and server counts are both shown; the server sends the responses, so its count is where loss recovery shows.".into());
    limits.push("Head-of-line blocked time is measured from the TCP receiver's record of held data (docs/metrics.md); for HTTP/3 it is 0 by construction, since QUIC hands each stream over on its own; smoltcp keeps no such record, so its runs show none.".into());
    if has_page_times {
        limits.push("The page times are proxies computed from the page's declared dependencies and the measured arrivals: there is no layout, no paint and no script execution beyond each object's stated delay (delays run side by side, not on one main thread), and the speed index weighs bytes, not pixels. They are not comparable with a browser's First Contentful Paint, DOMContentLoaded, load or Speed Index. Runs of a flat page have none.".into());
    }
    limits.push(format!(
        "With few runs per group ({} seeds here) the bootstrap intervals are narrow and optimistic.",
        seeds.len()
    ));
    let page_charts = if has_page_times {
        "page times, per-kind completion, "
    } else {
        ""
    };
    let named: Vec<&str> = NamedAxis::ALL.iter().map(|a| a.name()).collect();
    limits.push(format!("Charts at one condition ({page_charts}CDF, handshake and TTFB, transport cost, waterfalls, per-stream bytes, migration goodput) show the reference point only: the only axis point without a sweep, else the middle one (index len / 2) of the sorted points whose named axes ({}) are at the lab's defaults, or of all points if none is. Waterfalls and per-stream charts show one run per protocol, the one with the median page load time (of the completed runs sorted by PLT then seed, index (n − 1) / 2); other runs differ.", named.join(", ")));
    blocks.push(Block::List(limits));
    blocks
}

/// What a seed sets in every run, for the methodology.
const SEEDS_DRAW: &str = "What a seed varies: every random choice of a run is drawn from generators seeded with it, namely the link model's random loss (Bernoulli draws, or the Gilbert–Elliott states) and jitter (the network's jitter_ms, 0 unless a scenario sets it), TCP's initial sequence numbers, QUIC's connection IDs, TLS's random values and key shares, and the client's start offset (the scenario's start_offset).";

/// What a seed changes in the timing of these runs, read from their start
/// offsets (`simulation.start_offset_ns`).
fn seeds_vary(records: &[&RunResult]) -> String {
    let offsets: Vec<Duration> = records
        .iter()
        .filter_map(|r| r.simulation.as_ref().map(|s| s.start_offset))
        .collect();
    let offset = offsets
        .iter()
        .filter(|d| !d.is_zero())
        .min()
        .zip(offsets.iter().max());
    let without = offsets.iter().any(Duration::is_zero);
    let mut text = SEEDS_DRAW.to_owned();
    if let Some((low, high)) = offset {
        text.push_str(&format!(" The client starts after the server by an offset drawn from the seed, uniform in [0, the path's round-trip propagation delay) to the nanosecond (here {:.3} to {:.3} ms): its whole milliseconds move the transfer against the scenario's timed events (a path change, a blackout), and its fraction of a millisecond is how far the client's 1 ms ticks fall after the server's, which moves each delivery to the client or from it by up to a tick. So a seed changes the timing of packets even without random loss or jitter; every time measured counts from the client's start.", ms_f(*low), ms_f(*high)));
    }
    if without {
        text.push_str(" Runs with start_offset = none start the client with the server: over TCP only the loss draws and the jitter change the timing of their packets, so at a condition with neither, HTTP/1.1 and HTTP/2 runs that differ only in the seed are the same run.");
    }
    text.push_str(" HTTP/3 runs differ a little in any case: quinn and h3 draw random values (greasing, for one) that change the size of a few of the client's packets by a few bytes, and with them some timings.");
    text
}

/// A duration in milliseconds, as a float.
fn ms_f(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

/// The one-line statement of which implementations are compared, from the
/// records' protocols, TCP implementations and crate versions.
fn compared(records: &[&RunResult]) -> String {
    let version = |name: &str| -> String {
        let v: BTreeSet<&str> = records
            .iter()
            .filter_map(|r| r.lab.crate_versions.get(name).map(String::as_str))
            .collect();
        if v.is_empty() {
            name.to_owned()
        } else {
            format!("{name} {}", v.into_iter().collect::<Vec<_>>().join(" / "))
        }
    };
    let tcp: BTreeSet<&str> = records.iter().map(|r| r.tcp.label()).collect();
    let tcp = format!(
        "the lab's {} TCP",
        tcp.into_iter().collect::<Vec<_>>().join(" / ")
    );
    let protocols: BTreeSet<Protocol> = records.iter().map(|r| r.protocol).collect();
    let mut parts = Vec::new();
    if protocols.contains(&Protocol::H1) {
        parts.push(format!(
            "HTTP/1.1 is {} over rustls over {tcp}",
            version("hyper")
        ));
    }
    if protocols.contains(&Protocol::H2) {
        parts.push(format!(
            "HTTP/2 is {} ({}) over rustls over {tcp}",
            version("hyper"),
            version("h2")
        ));
    }
    if protocols.contains(&Protocol::H3) {
        parts.push(format!(
            "HTTP/3 is {} with h3-quinn over {} (rustls inside)",
            version("h3"),
            version("quinn")
        ));
    }
    let mut text = format!("What is compared: {}.", parts.join("; "));
    if protocols.contains(&Protocol::H3) && protocols.len() > 1 {
        text.push_str(&format!(" So \"HTTP/3 against HTTP/2\" here means quinn's QUIC against {tcp}, each with these HTTP layers on top, in one simulated network; not browsers' or kernels' stacks."));
    }
    text
}

/// How the lab's clients behave, for the methodology: connections and
/// request order, read from the records (page times say a page was loaded
/// as a browser does; the HTTP settings say whether priorities were sent).
fn clients_text(records: &[&RunResult]) -> String {
    let browser = records
        .iter()
        .any(|r| r.measurements.as_ref().is_some_and(|m| m.page.is_some()));
    let priorities = records.iter().any(|r| {
        r.transport.as_ref().is_some_and(|t| {
            t.http
                .parameters
                .iter()
                .any(|(k, v)| k == "priority_headers" && v == "on")
        })
    });
    let order = if browser {
        "requests go out as the page model discovers each object (HTML parsing as its bytes arrive, stylesheets and scripts on completion; docs/workloads.md)"
    } else {
        "requests go out as the workload's phases allow (a page: the document, then every subresource at once)"
    };
    format!(
        "Clients: HTTP/1.1 keeps up to {} connections per origin and one request at a time on each (no pipelining); HTTP/2 and HTTP/3 send every request on the origin's one connection as soon as it is due; {order}; {}.",
        clients::config::DEFAULT_MAX_H1_CONNECTIONS,
        if priorities {
            "requests carry RFC 9218 priority header fields as Chrome sets them per resource type"
        } else {
            "requests carry no priority header fields"
        }
    )
}

/// The groups (axis point and protocol) whose runs are the same run in
/// every seed (one packet-log digest for several seeds), said once.
fn seeds_without_variation(records: &[&RunResult]) -> Option<String> {
    let mut digests: BTreeMap<(String, Protocol), (BTreeSet<&str>, usize)> = BTreeMap::new();
    for r in records {
        let Some(sim) = r.simulation.as_ref() else {
            continue;
        };
        let e = digests
            .entry((point_text(&axis_point(&r.axes)), r.protocol))
            .or_default();
        e.0.insert(sim.packet_log_digest.as_str());
        e.1 += 1;
    }
    let same: Vec<String> = digests
        .iter()
        .filter(|(_, (d, n))| d.len() == 1 && *n > 1)
        .map(|((point, p), (_, n))| {
            if point.is_empty() {
                format!("{p} ({n} seeds)")
            } else {
                format!("{p} at {point} ({n} seeds)")
            }
        })
        .collect();
    if same.is_empty() {
        return None;
    }
    Some(format!(
        "No variation across seeds (every seed gave the same packets, one packet-log digest): {}. Their intervals are points and say nothing about variation.",
        same.join(", ")
    ))
}

/// How the records' browser pages (pages of several origins) spread over
/// connections: HTTP/1.1 a pool per origin; HTTP/2 and HTTP/3 as each
/// run's coalescing choice says. Nothing for records without a browser
/// page.
fn connections_of_pages(records: &[&RunResult]) -> Option<String> {
    let pages: Vec<&RunResult> = records
        .iter()
        .copied()
        .filter(|r| r.measurements.as_ref().is_some_and(|m| m.page.is_some()))
        .collect();
    if pages.is_empty() {
        return None;
    }
    let choices: BTreeSet<Coalescing> = pages
        .iter()
        .filter(|r| r.protocol != Protocol::H1)
        .filter_map(|r| coalescing(r))
        .collect();
    let why = "the lab's certificate covers every origin of the page and they share the server's one address, as Chrome pools connections";
    let on = format!(
        "send every origin's requests on the document origin's connection (coalescing = on: {why})"
    );
    let off = "open one connection per origin (coalescing = off, as when the origins are on different servers)";
    let multiplexed = match (
        choices.contains(&Coalescing::On),
        choices.contains(&Coalescing::Off),
    ) {
        (true, true) => format!(
            "; HTTP/2 and HTTP/3 send every origin's requests on the document origin's connection in the runs with coalescing = on ({why}), and open one connection per origin in those with coalescing = off (as when the origins are on different servers)"
        ),
        (true, false) => format!("; HTTP/2 and HTTP/3 {on}"),
        (false, true) => format!("; HTTP/2 and HTTP/3 {off}"),
        (false, false) => String::new(),
    };
    Some(format!(
        "Connections of a page of several origins: HTTP/1.1 opens a pool of up to {} per origin and never coalesces{multiplexed}.",
        clients::config::DEFAULT_MAX_H1_CONNECTIONS
    ))
}

/// How the records' HTTP/3 page runs reached HTTP/3 (`h3_discovery`), from
/// their race records: known (no race recorded), race or alt-svc, with the
/// fallback delays and how many runs fell back to HTTP/2. Nothing without
/// an HTTP/3 page run.
fn reaching_http3(records: &[&RunResult]) -> Option<String> {
    let runs: Vec<&clients::RunRecord> = records
        .iter()
        .filter(|r| r.protocol == Protocol::H3)
        .filter_map(|r| r.measurements.as_ref())
        .filter(|m| m.page.is_some() || !m.races.is_empty())
        .collect();
    if runs.is_empty() {
        return None;
    }
    let known = runs.iter().filter(|m| m.races.is_empty()).count();
    let mut parts = Vec::new();
    if known > 0 {
        parts.push(format!(
            "{known} knew the server speaks HTTP/3 and used it alone (h3_discovery = known)"
        ));
    }
    for (mode, what) in [
        ("race", "raced QUIC against TCP, TCP starting after the fallback delay if QUIC had no connection (h3_discovery = race, as Chrome races)"),
        ("alt-svc", "began over HTTP/2 and switched once the server's alt-svc header named HTTP/3, requests found meanwhile waiting for QUIC up to the fallback delay (h3_discovery = alt-svc, a first visit)"),
    ] {
        let races: Vec<&clients::RaceRecord> = runs
            .iter()
            .flat_map(|m| m.races.iter())
            .filter(|r| r.mode == mode)
            .collect();
        if races.is_empty() {
            continue;
        }
        let delays: BTreeSet<String> = races
            .iter()
            .map(|r| format!("{} ms", r.fallback_delay.as_millis()))
            .collect();
        let fell_back = races
            .iter()
            .filter(|r| r.winner == Some(Protocol::H2))
            .count();
        parts.push(format!(
            "{} {what}; fallback delay {}; {fell_back} of them fell back to HTTP/2",
            races.len(),
            delays.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Some(format!(
        "How the HTTP/3 page runs reached HTTP/3: {}. Each race is in its record (measurements.races).",
        parts.join("; ")
    ))
}

/// The coalescing choice of a run: its `coalescing` axis value if the
/// sweep names one, else its HTTP settings' (which name it only when off);
/// `None` for a run that recorded neither (its configuration was never
/// read).
fn coalescing(r: &RunResult) -> Option<Coalescing> {
    if let Some(AxisValue::Coalescing(c)) = r.axes.get(NamedAxis::Coalescing.name()) {
        return Some(*c);
    }
    let http = &r.transport.as_ref()?.http;
    Some(match http.get("coalescing") {
        Some(label) => label.parse().ok()?,
        None => Coalescing::On,
    })
}

/// The commands that make these results and this report again.
fn reproduce(records: &[&RunResult], seeds: &[u64], has_scenario_file: bool) -> Vec<Block> {
    let name = records.first().map_or("page", |r| r.scenario.as_str());
    let commit = records.first().map_or("unknown", |r| r.lab.commit.as_str());
    let mut flags = vec![format!("--scenario {name}")];
    for (axis, flag) in [
        ("loss_percent", "--loss"),
        ("rtt_ms", "--rtt"),
        ("bandwidth_mbit", "--bandwidth"),
    ] {
        let values: BTreeSet<String> = records
            .iter()
            .filter_map(|r| r.axes.get(axis).map(ToString::to_string))
            .collect();
        if values.len() == 1 && records.iter().all(|r| r.axes.contains_key(axis)) {
            flags.push(format!("{flag} {}", join(&values)));
        }
    }
    if seeds.first() == Some(&1) && seeds.last() == Some(&(seeds.len() as u64)) {
        flags.push(format!("--seeds {}", seeds.len()));
    }
    let mut protocols: Vec<Protocol> = records.iter().map(|r| r.protocol).collect();
    protocols.sort_unstable();
    protocols.dedup();
    let protocols: Vec<&str> = protocols.into_iter().map(Protocol::label).collect();
    flags.push(format!("--protocols {}", protocols.join(",")));
    let tcp: BTreeSet<TcpImplementation> = records.iter().map(|r| r.tcp).collect();
    if tcp.len() == 1 && tcp.contains(&TcpImplementation::Smoltcp) {
        flags.push("--tcp smoltcp".into());
    }
    let mut blocks = vec![Block::Paragraph(format!(
        "Build the lab at commit {commit}, then run the sweep and render its report:"
    ))];
    let mut code = String::new();
    if has_scenario_file {
        code.push_str("# exact: DIR is this results directory; its scenario.toml is the resolved scenario\nhttplab bench --scenario DIR/scenario.toml --out NEW_DIR\n");
        code.push_str(
            "# approximate: the same from the built-in scenario and the flags these records show\n",
        );
    }
    code.push_str(&format!(
        "httplab bench {} --out NEW_DIR\nhttplab report NEW_DIR",
        flags.join(" ")
    ));
    blocks.push(Block::Code(code));
    blocks.push(Block::Paragraph(
        "The command from flags is reconstructed from the records: it assumes the built-in scenario of that name at that commit, and flags the records do not show (--preset, a --quick time limit, a scenario file's own settings) are not in it. A rerun is the same exactly when its records carry the same scenario content hash.".into(),
    ));
    blocks
}

/// One link in a line.
fn link_text(l: &ResolvedLink) -> String {
    // The link model has one queue discipline: a FIFO that drops what
    // arrives when it is full (netsim's link, docs/netsim.md).
    let queue = match l.queue {
        ResolvedQueue::Packets(p) => format!("drop-tail FIFO of {p} packets"),
        ResolvedQueue::Bytes(b) => format!("drop-tail FIFO of {b} bytes"),
    };
    let loss = match l.loss {
        ResolvedLoss::Bernoulli { rate } => format!("Bernoulli, rate {rate}"),
        ResolvedLoss::GilbertElliott {
            mean_loss,
            mean_burst,
        } => format!("Gilbert–Elliott, mean loss {mean_loss}, mean burst {mean_burst} packets"),
        ResolvedLoss::None => l.loss.model().label().to_owned(),
    };
    format!(
        "delay {} ms, bandwidth {} Mbit/s, queue {queue}, loss {loss}, jitter {} ms{}, MTU {} bytes",
        ms(l.delay_ns),
        l.bandwidth_bps as f64 / 1e6,
        ms(l.jitter_ns),
        if l.reorder { " (may reorder)" } else { "" },
        l.mtu
    )
}

/// What a TCP name stands for.
fn tcp_note(tcp: TcpImplementation) -> &'static str {
    match tcp {
        TcpImplementation::Linux => {
            "the lab's Linux-like stack: IW10, SACK, RACK-TLP, PRR, CUBIC as Linux's tcp_cubic.c runs it (HyStart's ACK-train and delay detectors)"
        }
        TcpImplementation::Smoltcp => "smoltcp, the RFC-minimal cross-check",
    }
}

/// The limit a TCP implementation brings.
fn tcp_limit(tcp: TcpImplementation) -> &'static str {
    match tcp {
        TcpImplementation::Linux => "TCP is the lab's Linux-like stack: its congestion control follows Linux's tcp_cubic.c, but it leaves out pacing, TSO, F-RTO and recovery undo (docs/tcp.md).",
        TcpImplementation::Smoltcp => "TCP is smoltcp, whose weak loss recovery dominates HTTP/1.1 and HTTP/2 results under loss.",
    }
}

/// Picks one layer's settings out of a run's transport settings.
type Layer = fn(&TransportSettings) -> &Settings;

/// The transport settings the records carry (read from the configuration
/// each run used): one table per layer, every distinct value listed.
fn settings(records: &[&RunResult]) -> Vec<Block> {
    let layers: [(&str, Layer); 4] = [
        ("TCP", |t| &t.tcp),
        ("QUIC", |t| &t.quic),
        ("TLS", |t| &t.tls),
        ("HTTP", |t| &t.http),
    ];
    let mut rows = Vec::new();
    for (layer, pick) in layers {
        // Key → distinct values, keys in the order the records give them.
        let mut keys: Vec<String> = Vec::new();
        let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut names = BTreeSet::new();
        for t in records.iter().filter_map(|r| r.transport.as_ref()) {
            let settings = pick(t);
            if !settings.name.is_empty() {
                names.insert(settings.name.clone());
            }
            for (k, v) in &settings.parameters {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
                values.entry(k.clone()).or_default().insert(v.clone());
            }
        }
        let name = join(&names);
        for k in keys {
            rows.push(vec![
                format!("{layer} ({name})"),
                k.clone(),
                join(&values[&k]),
            ]);
        }
    }
    if rows.is_empty() {
        return vec![Block::Paragraph(
            "The records carry no transport settings (written by a lab build before they were recorded).".into(),
        )];
    }
    vec![
        Block::Paragraph("Key transport settings, as each run's configuration gave them (a setting that differs between runs lists every value; buffers and windows follow the network's bandwidth-delay product):".into()),
        Block::Table(
            vec!["layer".into(), "setting".into(), "value".into()],
            rows,
        ),
    ]
}

/// Nanoseconds as milliseconds, shortest form.
fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// `a=1, b=2`.
pub fn point_text(point: &AxisPoint) -> String {
    point
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Seeds as ranges: `1–10` or `1, 3, 5–7`.
fn seeds_text(seeds: &[u64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < seeds.len() {
        let mut j = i;
        while j + 1 < seeds.len() && seeds[j + 1] == seeds[j] + 1 {
            j += 1;
        }
        parts.push(if j > i {
            format!("{}–{}", seeds[i], seeds[j])
        } else {
            seeds[i].to_string()
        });
        i = j + 1;
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// Distinct values joined by " / ".
fn join(values: &BTreeSet<String>) -> String {
    values.iter().cloned().collect::<Vec<_>>().join(" / ")
}
