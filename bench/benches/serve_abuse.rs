//! `httplab serve` under abuse at 10 000 connections: the checks of
//! `tests/serve_abuse.rs` at a larger scale, each against a fresh server
//! with its production limits under `ulimit -n 1024`, then all at once.
//! For each it prints whether the server survived, its memory (the peak,
//! and after the abuse), how long until a normal request succeeded on
//! every protocol while the abuse held ("served during", counted from the
//! abuse being in place), and after the abusive clients let go
//! ("recovered"). Figures only, no assertions on time: the machine is
//! shared.
//!
//! `cargo bench -p bench --bench serve_abuse` runs it at 10 000; under
//! `cargo test --benches` it runs once at 300, so it keeps compiling and
//! working. Loopback only. Needs about 11 000 open files for its clients
//! (it raises its own soft limit if the hard limit allows, else says so and
//! runs smaller).
//!
//! A slowloris holds a connection until the 30 s request-head timeout and
//! a silent connection until the 10 s handshake timeout, so with 10 000 of
//! them and room for 992 connections, serving resumes when the first of
//! them time out: "served during" shows those timeouts.

// The wall clock, legitimately: a benchmark measures wall-clock time by
// definition; nothing it reads reaches a result.
#![allow(clippy::disallowed_methods)]
// A bench that prints its figures.
#![allow(clippy::print_stdout)]

#[path = "../tests/serve_support/mod.rs"]
mod serve_support;

use std::future::Future;
use std::time::{Duration, Instant};

use serve_support::{
    h1_never_reads, h2_zero_window, half_hello, idle_connects, in_background, quic_initials,
    raise_open_files, slowloris, Serve,
};

/// Connections (or streams, or Initials) per abuse in a real run.
const FULL: usize = 10_000;
/// The same under `cargo test --benches`.
const SMOKE: usize = 300;
/// Longest to wait for the server to serve every protocol.
const PATIENCE: Duration = Duration::from_secs(90);

/// One line of the table.
struct Figures {
    abuse: String,
    alive: bool,
    peak_mb: u64,
    after_mb: u64,
    during: Option<Duration>,
    recovered: Option<Duration>,
}

fn seconds(d: Option<Duration>) -> String {
    d.map_or_else(
        || "never".to_owned(),
        |d| format!("{:.2} s", d.as_secs_f64()),
    )
}

/// What an abuse is given: the server's address, a sender to say once its
/// connections are in place, and a receiver that says when to let go.
struct Abuse {
    addr: std::net::SocketAddr,
    in_place: std::sync::mpsc::Sender<()>,
    released: tokio::sync::watch::Receiver<bool>,
}

impl Abuse {
    /// Say the abuse is in place, and hold until told to let go.
    async fn hold(self) {
        let _ = self.in_place.send(());
        until(self.released).await;
    }
}

/// Start a server, put `abuse` on it (a future on a client runtime of its
/// own, which says when its connections are in place and holds them until
/// told to let go), wait `settle`, measure, let go, measure again.
fn measure<A, F>(name: String, settle: Duration, abuse: A) -> Figures
where
    A: FnOnce(Abuse) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let mut serve = Serve::start(&[]);
    let (release, released) = tokio::sync::watch::channel(false);
    let (in_place, placed) = std::sync::mpsc::channel();
    let clients = in_background(abuse(Abuse {
        addr: serve.addr,
        in_place,
        released,
    }));
    let _ = placed.recv_timeout(PATIENCE);
    std::thread::sleep(settle);
    let during = serve.time_to_serve_every_protocol(PATIENCE);
    let (_, peak) = serve.memory();
    release.send_replace(true);
    let _ = clients.join();
    let let_go = Instant::now();
    let recovered = serve
        .time_to_serve_every_protocol(PATIENCE)
        .map(|_| let_go.elapsed());
    let alive = serve.alive();
    let after = if alive { serve.memory().0 } else { 0 };
    Figures {
        abuse: name,
        alive,
        peak_mb: peak >> 20,
        after_mb: after >> 20,
        during,
        recovered,
    }
}

/// Resolves once `released` says so.
async fn until(mut released: tokio::sync::watch::Receiver<bool>) {
    let _ = released.wait_for(|r| *r).await;
}

/// The abuses at scale `n`.
fn run(n: usize) -> Vec<Figures> {
    let streams = 100;
    let h2_conns = n.div_ceil(streams);
    let settle = Duration::from_secs(2);
    let mut table = Vec::new();
    table.push(measure(
        format!("{n} idle TCP connects"),
        settle,
        move |abuse| async move {
            let conns = idle_connects(abuse.addr, n).await;
            abuse.hold().await;
            drop(conns);
        },
    ));
    table.push(measure(
        format!("{n} half ClientHellos"),
        settle,
        move |abuse| async move {
            let mut conns = Vec::new();
            for _ in 0..n {
                let hello = tokio::time::timeout(Duration::from_secs(2), half_hello(abuse.addr));
                if let Ok(Ok(c)) = hello.await {
                    conns.push(c);
                }
            }
            abuse.hold().await;
            drop(conns);
        },
    ));
    table.push(measure(
        format!("{n} slowloris heads, a line a second"),
        settle,
        move |abuse| async move {
            let mut lorises = tokio::task::JoinSet::new();
            for _ in 0..n {
                lorises.spawn(slowloris(abuse.addr, Duration::from_secs(1), 120));
            }
            abuse.hold().await;
            lorises.abort_all();
        },
    ));
    table.push(measure(
        format!("{h2_conns} × {streams} HTTP/2 streams at window 0"),
        settle,
        move |abuse| async move {
            let mut conns = Vec::new();
            for _ in 0..h2_conns {
                if let Ok(conn) = h2_zero_window(abuse.addr, streams).await {
                    conns.push(conn);
                }
            }
            let mut held = tokio::task::JoinSet::new();
            for conn in conns {
                held.spawn(conn.hold(None, until(abuse.released.clone())));
            }
            abuse.hold().await;
            held.join_all().await;
        },
    ));
    table.push(measure(
        format!("{n} HTTP/1.1 clients that never read"),
        Duration::from_secs(3),
        move |abuse| async move {
            let mut conns = Vec::new();
            for _ in 0..n {
                let ask = tokio::time::timeout(Duration::from_secs(2), h1_never_reads(abuse.addr));
                if let Ok(Ok(c)) = ask.await {
                    conns.push(c);
                }
            }
            abuse.hold().await;
            drop(conns);
        },
    ));
    table.push(measure(
        format!("{n} QUIC Initials never answered"),
        Duration::ZERO,
        move |abuse| async move {
            let addr = abuse.addr;
            let flood = tokio::task::spawn_blocking(move || {
                quic_initials(addr, n, 16, 2500, Duration::from_millis(500))
            });
            let _ = flood.await;
            abuse.hold().await;
        },
    ));
    let half = n / 2;
    table.push(measure(
        format!(
            "all at once ({half} idle, {half} slowloris, {h2_conns} × {streams} HTTP/2, {n} QUIC)"
        ),
        settle,
        move |abuse| async move {
            let addr = abuse.addr;
            let silent = tokio::spawn(idle_connects(addr, half));
            let mut lorises = tokio::task::JoinSet::new();
            for _ in 0..half {
                lorises.spawn(slowloris(addr, Duration::from_secs(1), 120));
            }
            let flood = tokio::task::spawn_blocking(move || {
                quic_initials(addr, n, 16, 2500, Duration::from_millis(500))
            });
            let mut held = tokio::task::JoinSet::new();
            for _ in 0..h2_conns {
                if let Ok(conn) = h2_zero_window(addr, streams).await {
                    held.spawn(conn.hold(None, until(abuse.released.clone())));
                }
            }
            let _ = flood.await;
            let silent = silent.await;
            abuse.hold().await;
            drop(silent);
            lorises.abort_all();
            held.join_all().await;
        },
    ));
    table
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not.
    let full = std::env::args().any(|a| a == "--bench");
    let want = if full { FULL } else { SMOKE };
    // Clients: the connections of one abuse, and a margin.
    let files = raise_open_files(want as u64 + 1024);
    let n = want.min(usize::try_from(files.saturating_sub(1024)).unwrap_or(want));
    if n < want {
        println!(
            "serve_abuse: the open-file limit allows {files}; running at {n} instead of {want}"
        );
    }
    let started = Instant::now();
    let table = run(n);
    println!(
        "\nhttplab serve under abuse (production limits, ulimit -n {}; peak RSS is the \
         server's VmHWM):",
        serve_support::SERVER_OPEN_FILES
    );
    println!(
        "{:<72} {:>5} {:>9} {:>9} {:>13} {:>10}",
        "abuse", "alive", "peak RSS", "RSS after", "served during", "recovered"
    );
    for f in &table {
        println!(
            "{:<72} {:>5} {:>6} MB {:>6} MB {:>13} {:>10}",
            f.abuse,
            if f.alive { "yes" } else { "NO" },
            f.peak_mb,
            f.after_mb,
            seconds(f.during),
            seconds(f.recovered),
        );
    }
    println!("(total {:.0} s)", started.elapsed().as_secs_f64());
}
