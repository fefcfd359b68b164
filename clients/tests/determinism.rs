//! The same seed gives the same run record, field for field (every time,
//! byte count, timeline point and transport statistic); another seed gives
//! another loss pattern and so another record.

mod harness;

use clients::RunRecord;
use harness::ServerSetup;
use scenarios::Protocol;

fn page_at_2_percent(protocol: Protocol, seed: u64) -> RunRecord {
    harness::run(
        protocol,
        harness::network(0.02),
        seed,
        &harness::flat_page(),
        ServerSetup::default(),
    )
    .record
}

#[test]
fn same_seed_same_record() {
    for protocol in Protocol::ALL {
        let a = page_at_2_percent(protocol, 7);
        let b = page_at_2_percent(protocol, 7);
        assert!(a.succeeded(), "{protocol}: {:?}", a.failure);
        assert!(a == b, "{protocol}: two runs with seed 7 differ");
        let c = page_at_2_percent(protocol, 8);
        assert!(c.succeeded(), "{protocol}: {:?}", c.failure);
        assert!(a != c, "{protocol}: seeds 7 and 8 give the same record");
        eprintln!("{protocol}: seed 7 plt {:?}, seed 8 plt {:?}", a.plt, c.plt);
    }
}
