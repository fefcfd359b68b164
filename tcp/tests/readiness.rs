//! `readable` and `writable` against what `recv` and `send` then do, for
//! both implementations, through a transfer that fills the receiver's
//! buffer (so the sender's fills and `send` blocks), the FIN, and a reset.
//!
//! netsim wakes a task waiting on a connection only when these say it can
//! go on, so the contract is: never `false` when the call would not block.
//! The lab's Linux-like stack is exact (never `true` when it would); for
//! smoltcp the test only checks that `false` occurs, so that the check
//! saves polls at all.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use tcp::{build_stack, ConnId, RecvOutcome, SendOutcome, TcpConfig, TcpImplementation, TcpStack};

const CLIENT: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 1, 2), 50_000);
const SERVER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 443);
/// Bytes the server sends: many times the 64 KiB buffers of the test's
/// connections.
const TOTAL: usize = 3_000_000;

/// What the readiness calls said, and what the calls they predict did.
#[derive(Default)]
struct Tally {
    /// `readable`/`writable` said `false` and the call did not block.
    missed: Vec<String>,
    /// They said `true` and the call blocked.
    wasted: u32,
    /// They said `false` (and the call blocked).
    saved: u32,
}

impl Tally {
    fn recv(
        &mut self,
        stack: &mut dyn TcpStack,
        conn: ConnId,
        buf: &mut [u8],
        at: u64,
    ) -> RecvOutcome {
        let ready = stack.readable(conn);
        let outcome = stack.recv(conn, buf);
        let blocked = matches!(outcome, RecvOutcome::WouldBlock);
        self.note(ready, blocked, || format!("recv at {at} ms: {outcome:?}"));
        outcome
    }

    fn send(
        &mut self,
        stack: &mut dyn TcpStack,
        conn: ConnId,
        data: &[u8],
        at: u64,
    ) -> SendOutcome {
        let ready = stack.writable(conn);
        let outcome = stack.send(conn, data);
        let blocked = matches!(outcome, SendOutcome::WouldBlock);
        self.note(ready, blocked, || format!("send at {at} ms: {outcome:?}"));
        outcome
    }

    fn note(&mut self, ready: bool, blocked: bool, what: impl FnOnce() -> String) {
        match (ready, blocked) {
            (false, false) => self.missed.push(what()),
            (true, true) => self.wasted += 1,
            (false, true) => self.saved += 1,
            (true, false) => {}
        }
    }
}

/// Client and server stacks back to back (each packet handed over in the
/// millisecond it was sent); the server streams [`TOTAL`] bytes, the client
/// reads 4 KB every 5 ms until it has read a third of them and then all it
/// can, the server closes; then a second connection is reset mid-transfer.
fn exercise(implementation: TcpImplementation) -> Tally {
    let config = TcpConfig {
        implementation,
        buffer_bytes: 64 * 1024,
        ..TcpConfig::default()
    };
    let mut client = build_stack(&config, *CLIENT.ip(), 1, Duration::ZERO);
    let mut server = build_stack(&config, *SERVER.ip(), 2, Duration::ZERO);
    let mut tally = Tally::default();
    let listener = server.listen(SERVER).expect("listen");
    let c = client.connect(CLIENT, SERVER).expect("connect");
    let data = vec![7u8; 64 * 1024];
    let mut buf = vec![0u8; 64 * 1024];
    let (mut sent, mut received, mut eof) = (0, 0, false);
    let mut s = None;
    for ms in 0..60_000u64 {
        let now = Duration::from_millis(ms);
        let mut out = Vec::new();
        client.poll(now, &mut out);
        for p in out.drain(..) {
            server.handle_packet(now, p);
        }
        server.poll(now, &mut out);
        for p in out.drain(..) {
            client.handle_packet(now, p);
        }
        if s.is_none() {
            s = server.accept(listener);
        }
        // The client writes nothing: before the handshake `send` blocks.
        if ms < 2 {
            let _ = tally.send(client.as_mut(), c, b"x", ms);
        }
        if let Some(s) = s {
            while sent < TOTAL {
                match tally.send(
                    server.as_mut(),
                    s,
                    &data[..(TOTAL - sent).min(data.len())],
                    ms,
                ) {
                    SendOutcome::Queued(n) => sent += n,
                    SendOutcome::WouldBlock => break,
                    SendOutcome::Failed(e) => panic!("server send failed: {e:?}"),
                }
            }
            if sent == TOTAL {
                server.shutdown(s);
            }
        }
        let slow = received < TOTAL / 3;
        if !slow || ms % 5 == 0 {
            let chunk = if slow { 4096 } else { buf.len() };
            loop {
                match tally.recv(client.as_mut(), c, &mut buf[..chunk], ms) {
                    RecvOutcome::Data(n) => received += n,
                    RecvOutcome::Eof => {
                        eof = true;
                        break;
                    }
                    RecvOutcome::WouldBlock => break,
                    RecvOutcome::Failed(e) => panic!("client recv failed: {e:?}"),
                }
                if slow {
                    break;
                }
            }
        }
        if eof {
            break;
        }
    }
    assert!(
        eof,
        "{implementation}: the transfer ended ({received} of {TOTAL} bytes)"
    );
    assert_eq!(received, TOTAL, "{implementation}: every byte arrived");

    // A reset: both calls stop blocking, and the readiness calls say so.
    let c2 = client
        .connect(SocketAddrV4::new(*CLIENT.ip(), 50_001), SERVER)
        .expect("second connect");
    let start = 61_000u64;
    for ms in start..start + 200 {
        let now = Duration::from_millis(ms);
        let mut out = Vec::new();
        client.poll(now, &mut out);
        for p in out.drain(..) {
            server.handle_packet(now, p);
        }
        server.poll(now, &mut out);
        for p in out.drain(..) {
            client.handle_packet(now, p);
        }
        let _ = tally.recv(client.as_mut(), c2, &mut buf[..1], ms);
        if ms == start + 100 {
            client.abort(c2, tcp::TcpError::Reset);
        }
    }
    assert!(
        client.readable(c2),
        "{implementation}: a reset connection is readable (recv fails)"
    );
    assert!(
        client.writable(c2),
        "{implementation}: a reset connection is writable (send fails)"
    );
    let _ = tally.send(client.as_mut(), c2, b"x", start + 200);
    tally
}

#[test]
fn linux_readiness_is_exactly_what_recv_and_send_do() {
    let t = exercise(TcpImplementation::Linux);
    assert_eq!(
        t.missed,
        Vec::<String>::new(),
        "false where the call went on"
    );
    assert_eq!(t.wasted, 0, "true where the call blocked");
    assert!(
        t.saved > 1000,
        "the transfer blocked both sides often ({} times)",
        t.saved
    );
}

#[test]
fn smoltcp_readiness_never_holds_back_a_call_that_would_go_on() {
    let t = exercise(TcpImplementation::Smoltcp);
    assert_eq!(
        t.missed,
        Vec::<String>::new(),
        "false where the call went on"
    );
    assert!(
        t.saved > 1000,
        "false often enough to save polls ({} times)",
        t.saved
    );
}
