//! The MTU in a stack's configuration, for both implementations: a
//! connection announces an MSS of the MTU less 40 bytes, its full-sized
//! packets are exactly the MTU and none is larger, `parameters()` reports
//! the MTU in use, and `set_mtu` changes it for connections made after it.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use tcp::{
    build_stack, ConnId, RecvOutcome, SendOutcome, TcpConfig, TcpImplementation, TcpStack, Value,
};

const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);
const SERVER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 443);

/// A client and a server stack of one implementation, wired back to back:
/// each packet is handed over in the millisecond it was sent, and every
/// packet's length is kept.
struct Wire {
    client: Box<dyn TcpStack>,
    server: Box<dyn TcpStack>,
    now: u64,
    /// The length of every packet either side sent, in order.
    lengths: Vec<usize>,
}

impl Wire {
    fn new(implementation: TcpImplementation, mtu: u32) -> Wire {
        let config = TcpConfig {
            implementation,
            mtu,
            ..TcpConfig::default()
        };
        config.validate().expect("a valid config");
        Wire {
            client: build_stack(&config, CLIENT_IP, 1, Duration::ZERO),
            server: build_stack(&config, *SERVER.ip(), 2, Duration::ZERO),
            now: 0,
            lengths: Vec::new(),
        }
    }

    /// Run both stacks for `ms` milliseconds.
    fn run(&mut self, ms: u64) {
        for _ in 0..ms {
            let now = Duration::from_millis(self.now);
            let mut out = Vec::new();
            self.client.poll(now, &mut out);
            self.lengths.extend(out.iter().map(Vec::len));
            for p in out.drain(..) {
                self.server.handle_packet(now, p);
            }
            self.server.poll(now, &mut out);
            self.lengths.extend(out.iter().map(Vec::len));
            for p in out.drain(..) {
                self.client.handle_packet(now, p);
            }
            self.now += 1;
        }
    }

    /// Open a connection from client port `port`, send `bytes` bytes from
    /// the server to the client over it, and read them all; the lengths of
    /// the packets it took.
    fn download(&mut self, port: u16, bytes: usize) -> Vec<usize> {
        let first = self.lengths.len();
        let listener = self.server.listen(SERVER).expect("listen");
        let c = self
            .client
            .connect(SocketAddrV4::new(CLIENT_IP, port), SERVER)
            .expect("connect");
        self.run(20);
        let s = self
            .server
            .accept(listener)
            .expect("an established connection");
        self.server.close_listener(listener);
        let mut sent = 0;
        let mut received = 0;
        let mut buf = vec![0; 64 << 10];
        for _ in 0..2_000 {
            if sent < bytes {
                if let SendOutcome::Queued(n) = self.server.send(s, &vec![7; bytes - sent]) {
                    sent += n;
                }
            }
            self.run(1);
            while let RecvOutcome::Data(n) = self.client.recv(c, &mut buf) {
                received += n;
            }
            if received == bytes {
                self.close(c, s);
                return self.lengths[first..].to_vec();
            }
        }
        panic!("{received} of {bytes} bytes arrived");
    }

    fn close(&mut self, c: ConnId, s: ConnId) {
        self.client.release(c);
        self.server.release(s);
        self.run(50);
    }
}

/// A stack's parameters by key.
fn parameters(stack: &dyn TcpStack) -> BTreeMap<String, Value> {
    stack
        .parameters()
        .into_iter()
        .map(|p| (p.key, p.value))
        .collect()
}

#[test]
fn full_sized_packets_are_the_mtu_and_none_is_larger() {
    for implementation in TcpImplementation::ALL {
        for mtu in [1280, 1400, 1500, 9000] {
            let mut wire = Wire::new(implementation, mtu);
            let lengths = wire.download(50_000, 200_000);
            let largest = lengths.iter().copied().max().unwrap();
            assert_eq!(largest, mtu as usize, "{implementation} at MTU {mtu}");
            let p = parameters(&*wire.server);
            assert_eq!(p["mtu"], Value::Bytes(u64::from(mtu)), "{implementation}");
            assert_eq!(
                p["announced_mss"],
                Value::Bytes(u64::from(mtu - 40)),
                "{implementation}"
            );
        }
    }
}

#[test]
fn the_linux_stack_subtracts_its_timestamp_option_from_the_segment_payload() {
    let wire = Wire::new(TcpImplementation::Linux, 1400);
    let p = parameters(&*wire.server);
    assert_eq!(p["segment_payload"], Value::Bytes(1400 - 40 - 12));
    assert_eq!(
        p["initial_window"],
        Value::Window {
            segments: 10,
            bytes: 10 * 1348
        }
    );
}

#[test]
fn set_mtu_applies_to_connections_made_after_it() {
    for implementation in TcpImplementation::ALL {
        let mut wire = Wire::new(implementation, 1500);
        let before = wire.download(50_000, 100_000);
        assert_eq!(before.iter().max(), Some(&1500), "{implementation}");
        for stack in [&mut wire.client, &mut wire.server] {
            stack.set_mtu(1280).expect("a valid MTU");
        }
        assert_eq!(parameters(&*wire.client)["mtu"], Value::Bytes(1280));
        let after = wire.download(50_001, 100_000);
        assert_eq!(after.iter().max(), Some(&1280), "{implementation}");
    }
}

#[test]
fn an_mtu_no_stack_can_use_is_rejected_by_name() {
    let e = TcpConfig {
        mtu: 100,
        ..TcpConfig::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(e.field, "mtu");
    assert_eq!(
        e.to_string(),
        "mtu: must be between 576 and 65535 bytes, got 100"
    );
    let e = TcpConfig {
        mtu: 70_000,
        ..TcpConfig::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(e.field, "mtu");
    assert_eq!(TcpConfig::default().mtu, 1500);
    assert_eq!(TcpConfig::default().validate(), Ok(()));
    for implementation in TcpImplementation::ALL {
        let mut wire = Wire::new(implementation, 1400);
        let e = wire.client.set_mtu(100).unwrap_err();
        assert_eq!(e.field, "mtu");
        assert_eq!(parameters(&*wire.client)["mtu"], Value::Bytes(1400));
    }
}
