//! The head-of-line cost metrics (`Metric::HolExcess`, `Metric::HolOwnWait`)
//! read from a record's `hol_cost`, in byte·s, and summarized per group:
//! a fixture record given a known cost.

use clients::record::HolCostRecord;
use records::RunResult;
use reports::tables::{groups, Metric};

mod support;

use support::fixture_records;

#[test]
fn the_cost_is_read_in_byte_seconds_and_absent_without_a_record() {
    let mut all = fixture_records();
    for (i, r) in all.iter_mut().enumerate() {
        let m = r.measurements.as_mut().expect("measured");
        // The fixtures predate the cost: none is recorded.
        assert_eq!(m.hol_cost, None);
        // 200 bytes waited 48.5 ms on average for other streams (9.7
        // byte·s), 100 bytes 30 ms for their own (3 byte·s); the second
        // seed twice that.
        let k = 1 + (i % 2) as u64;
        m.hol_cost = Some(HolCostRecord {
            held_bytes: 200 * k,
            excess_byte_us: 9_700_000 * k,
            own_wait_bytes: 100 * k,
            own_wait_byte_us: 3_000_000 * k,
        });
    }
    let r = &all[0];
    assert_eq!(Metric::HolExcess.of_run(r), Some(9.7));
    assert_eq!(Metric::HolOwnWait.of_run(r), Some(3.0));
    assert_eq!(Metric::HolExcess.unit(), "byte·s");
    let refs: Vec<&RunResult> = all.iter().collect();
    for g in groups(&refs) {
        let v = &g.values[&Metric::HolExcess];
        assert_eq!(v.len(), 2, "{:?}: both seeds", g.protocol);
        let mut v = v.clone();
        v.sort_by(f64::total_cmp);
        assert_eq!(v, vec![9.7, 19.4]);
    }
}
