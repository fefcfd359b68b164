//! Every body is verified: a corrupted or truncated body fails its request
//! and the run, the failure names the path, and every other request is
//! still recorded (and succeeds).

mod harness;

use clients::RunRecord;
use harness::ServerSetup;
use scenarios::Protocol;
use servers::Fault;

/// The default page with `fault` on the object at `(phase, index)` of its
/// plan; returns the record and the faulted path.
fn faulted_page(
    protocol: Protocol,
    phase: usize,
    index: usize,
    fault: fn(String) -> Fault,
) -> (RunRecord, String) {
    let workload = harness::flat_page();
    let path = workload.plan().phases[phase].objects[index].path.clone();
    let out = harness::run(
        protocol,
        harness::network(0.0),
        1,
        &workload,
        ServerSetup::with_fault(fault(path.clone())),
    );
    (out.record, path)
}

fn assert_only_failure(record: &RunRecord, path: &str, what: &str) {
    let protocol = record.protocol;
    let failure = record.failure.as_deref().expect("the run failed");
    assert!(
        failure.starts_with(&format!("{path}: ")),
        "{protocol}: the failure names the path: {failure}"
    );
    assert!(
        failure.contains(what),
        "{protocol}: the failure says {what:?}: {failure}"
    );
    assert_eq!(record.plt, None, "{protocol}: a failed run has no PLT");
    assert_eq!(
        record.requests.len(),
        harness::flat_page().plan().object_count(),
        "{protocol}: every request is recorded"
    );
    for r in &record.requests {
        if r.path == path {
            assert!(!r.succeeded(), "{protocol}: {path} failed");
            assert!(r.error.as_deref().is_some_and(|e| e.contains(what)));
        } else {
            assert!(r.succeeded(), "{protocol}: {}: {:?}", r.path, r.error);
        }
    }
}

fn corrupt(path: String) -> Fault {
    Fault::CorruptByte {
        path_contains: path,
    }
}

fn truncate(path: String) -> Fault {
    Fault::Truncate {
        path_contains: path,
    }
}

#[test]
fn corrupted_byte_fails_the_request_and_the_run() {
    for protocol in Protocol::ALL {
        let (record, path) = faulted_page(protocol, 1, 7, corrupt);
        eprintln!("{protocol}: {:?}", record.failure);
        assert_only_failure(&record, &path, "differ from the content model");
        let r = record.requests.iter().find(|r| r.path == path).unwrap();
        assert_eq!(r.bytes, r.size_expected, "the length was right");
        assert!(r.last_byte.is_some());
    }
}

#[test]
fn truncated_body_fails_the_request_and_the_run() {
    for protocol in Protocol::ALL {
        let (record, path) = faulted_page(protocol, 1, 7, truncate);
        eprintln!("{protocol}: {:?}", record.failure);
        let r = record.requests.iter().find(|r| r.path == path).unwrap();
        assert!(r.bytes < r.size_expected, "{protocol}: {} bytes", r.bytes);
        // HTTP/3 sees a clean end of stream, short; HTTP/1.1 and HTTP/2
        // see the stream end before its content-length.
        let what = match protocol {
            Protocol::H3 => "expected",
            Protocol::H1 | Protocol::H2 => "body",
        };
        assert_only_failure(&record, &path, what);
    }
}

#[test]
fn a_failed_document_does_not_stop_the_subresources() {
    for protocol in Protocol::ALL {
        let (record, path) = faulted_page(protocol, 0, 0, corrupt);
        assert_only_failure(&record, &path, "differ from the content model");
    }
}
