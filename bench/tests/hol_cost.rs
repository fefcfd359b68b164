//! The head-of-line cost (`clients::hol_cost`, docs/metrics.md) on whole
//! runs of the flat page at 2 % loss, through the same code as `httplab
//! run` (`bench::runner`), seed 1:
//!
//! - over HTTP/2 the client maps its bytes to streams (the map must be
//!   known), some bytes wait for other streams' holes, and the excess and
//!   the own-stream waits together account for the transport's whole wait
//!   (Σ (readable − arrived) × bytes over the segment arrivals) but for
//!   the framing bytes, which belong to no stream: at least 97 % of it;
//! - bundled into one stream, the same page has no excess at all, and its
//!   own-stream waits are of the same order as the multiplexed page's
//!   total;
//! - HTTP/1.1 has no excess (one response at a time per connection);
//! - HTTP/3 has none recorded: quinn does not say when each stream frame
//!   arrived.

use bench::{runner, Outcome, RunResult};
use clients::record::HolCostRecord;
use scenarios::{Protocol, RunSpec, Scenario};

fn spec(protocol: Protocol, responses: u32) -> RunSpec {
    let toml = format!(
        "name = \"hol-cost\"\nprotocols = [\"{}\"]\n[network]\nloss = 2\n[workload]\nkind = \"page\"\nstructure = \"flat\"\nsubresource_responses = {responses}\n",
        protocol.label()
    );
    let scenario = Scenario::from_toml(&toml, "hol-cost").expect("a valid scenario");
    scenario.expand().remove(0)
}

fn run(protocol: Protocol, responses: u32) -> RunResult {
    let r = runner::run(&spec(protocol, responses), "hol-cost");
    assert_eq!(r.outcome, Outcome::Ok, "{protocol}: {:?}", r.reason);
    r
}

fn cost(r: &RunResult) -> Option<HolCostRecord> {
    r.measurements.as_ref().expect("measured").hol_cost
}

/// Σ (readable − arrived) × bytes over every connection's segment
/// arrivals, in byte·µs.
fn transport_wait(r: &RunResult) -> u64 {
    r.measurements
        .as_ref()
        .expect("measured")
        .connections
        .iter()
        .filter_map(|c| c.stats.as_ref()?.arrivals.as_ref())
        .flatten()
        .filter_map(|a| {
            let wait = a.readable_at?.saturating_sub(a.arrived);
            Some(u64::from(a.len) * wait.as_micros() as u64)
        })
        .sum()
}

#[test]
fn http2_bytes_wait_for_other_streams_and_the_map_accounts_for_the_wait() {
    let r = run(Protocol::H2, 39);
    let c = cost(&r).expect("HTTP/2 over the lab's TCP has a cost: the map is known");
    assert!(c.held_bytes > 0, "{c:?}");
    assert!(c.excess_byte_us > 0, "{c:?}");
    let wait = transport_wait(&r);
    let accounted = c.excess_byte_us + c.own_wait_byte_us;
    eprintln!("h2: {c:?}; transport wait {wait} byte·µs, accounted {accounted}");
    assert!(accounted <= wait, "no more than the transport waited");
    assert!(
        accounted as f64 >= 0.97 * wait as f64,
        "the streams' bytes carry nearly all of the wait: {accounted} of {wait}"
    );
    // Some request finished later because of another stream's hole.
    let requests = &r.measurements.as_ref().unwrap().requests;
    assert!(requests.iter().all(|q| q.hol_added.is_some()));
    assert!(requests
        .iter()
        .any(|q| q.hol_added.unwrap() > std::time::Duration::ZERO));

    let bundled = run(Protocol::H2, 1);
    let b = cost(&bundled).expect("a cost");
    eprintln!("h2 bundled: {b:?}");
    assert_eq!(
        (b.held_bytes, b.excess_byte_us),
        (0, 0),
        "one stream: no other stream's hole"
    );
    assert!(b.own_wait_byte_us > 0);
    let (total, one) = (accounted as f64, b.own_wait_byte_us as f64);
    assert!(
        one > total / 3.0 && one < total * 3.0,
        "same order: {one} against {total}"
    );
}

#[test]
fn http1_has_no_excess_and_http3_no_record() {
    let h1 = cost(&run(Protocol::H1, 39)).expect("a cost");
    assert_eq!((h1.held_bytes, h1.excess_byte_us), (0, 0));
    assert!(h1.own_wait_bytes > 0, "2 % loss holds some bytes: {h1:?}");
    assert_eq!(cost(&run(Protocol::H3, 39)), None);
}
