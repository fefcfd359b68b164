//! Mechanism tests in transcript style: two connections back to back on a
//! wire with a fixed one-way delay, where the test decides which segments
//! are lost. Every segment that goes out is logged with its time, so each
//! test reads as "these segments went in at t; these came out, then".

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use super::conn::{Connection, LinuxConfig, State};
use super::segment::Segment;

const ONE_WAY: Duration = Duration::from_millis(25);
const MSS: u64 = 1448;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Which way a segment travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Way {
    /// Client to server.
    Up,
    /// Server to client.
    Down,
}

/// One logged segment.
#[derive(Clone, Debug)]
struct Sent {
    at: Duration,
    way: Way,
    seg: Segment,
    dropped: bool,
    /// The sender's pacing rate right after it sent this, if it paces.
    pacing_rate: Option<u64>,
}

impl Sent {
    fn is_data(&self) -> bool {
        !self.seg.payload.is_empty()
    }
}

/// Decides whether the n-th data segment (counted from 1) going down is
/// dropped.
type DropRule = Box<dyn FnMut(u64, &Segment) -> bool>;

/// A drop-tail bottleneck on the way down: `rate` bytes of IPv4 packet
/// per second, at most `limit` packets queued or in service.
struct Bottleneck {
    rate: u64,
    limit: usize,
    busy_until: Duration,
    /// When each packet queued or in service finishes serialization.
    departures: std::collections::VecDeque<Duration>,
}

impl Bottleneck {
    fn new(rate: u64, limit: usize) -> Bottleneck {
        Bottleneck {
            rate,
            limit,
            busy_until: Duration::ZERO,
            departures: Default::default(),
        }
    }

    /// When a packet of `size` bytes entering at `now` has been serialized,
    /// or `None` if the queue is full.
    fn admit(&mut self, now: Duration, size: usize) -> Option<Duration> {
        while self.departures.front().is_some_and(|&d| d <= now) {
            self.departures.pop_front();
        }
        if self.departures.len() >= self.limit {
            return None;
        }
        let start = self.busy_until.max(now);
        let done = start + Duration::from_nanos(size as u64 * 1_000_000_000 / self.rate);
        self.busy_until = done;
        self.departures.push_back(done);
        Some(done)
    }
}

/// A client and a server on a lossless-unless-told wire.
struct Pair {
    now: Duration,
    client: Connection,
    server: Connection,
    wire: Vec<(Duration, Way, Segment)>,
    log: Vec<Sent>,
    drop_down: DropRule,
    /// As `drop_down`, for the data segments going up.
    drop_up: DropRule,
    up_data_count: u64,
    down_data_count: u64,
    /// Whether the client application reads what arrives.
    client_reads: bool,
    received: Vec<u8>,
    /// Step from event to event (wire arrivals and timers, at most 1 ms
    /// apart) rather than in whole milliseconds.
    exact: bool,
    /// A bottleneck on the way down, if any.
    bottleneck: Option<Bottleneck>,
}

impl Pair {
    fn new(config: LinuxConfig) -> Pair {
        let c = SocketAddrV4::new(Ipv4Addr::new(10, 0, 1, 2), 50000);
        let s = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 443);
        let client = Connection::connect(c, s, 1_000_000, config.clone());
        // The server connection is created when the SYN arrives.
        let server_placeholder = Connection::connect(s, c, 0, config.clone());
        let mut p = Pair {
            now: Duration::ZERO,
            client,
            server: server_placeholder,
            wire: Vec::new(),
            log: Vec::new(),
            drop_down: Box::new(|_, _| false),
            drop_up: Box::new(|_, _| false),
            up_data_count: 0,
            down_data_count: 0,
            client_reads: true,
            received: Vec::new(),
            exact: false,
            bottleneck: None,
        };
        // Handshake: SYN, SYN-ACK, ACK.
        let syn = p.client.poll_transmit(p.now).expect("SYN");
        assert!(syn.syn);
        p.log.push(Sent {
            at: p.now,
            way: Way::Up,
            seg: syn.clone(),
            dropped: false,
            pacing_rate: None,
        });
        p.now += ONE_WAY;
        p.server = Connection::accept(s, c, 7_000_000, &syn, config);
        p.flush();
        p.run_until(ms(200));
        assert_eq!(p.client.state(), State::Established);
        assert_eq!(p.server.state(), State::Established);
        p
    }

    /// Send everything both ends want to send now.
    fn flush(&mut self) {
        for way in [Way::Up, Way::Down] {
            loop {
                let conn = match way {
                    Way::Up => &mut self.client,
                    Way::Down => &mut self.server,
                };
                let Some(seg) = conn.poll_transmit(self.now) else {
                    break;
                };
                let mut dropped = false;
                if way == Way::Down && !seg.payload.is_empty() {
                    self.down_data_count += 1;
                    dropped = (self.drop_down)(self.down_data_count, &seg);
                }
                if way == Way::Up && !seg.payload.is_empty() {
                    self.up_data_count += 1;
                    dropped = (self.drop_up)(self.up_data_count, &seg);
                }
                let mut leaves = Some(self.now);
                if let (Way::Down, Some(b), false) = (way, self.bottleneck.as_mut(), dropped) {
                    leaves = b.admit(self.now, seg.header_len() + seg.payload.len());
                    dropped = leaves.is_none();
                }
                let pacing_rate = conn.sender().and_then(|s| s.pacing_rate());
                self.log.push(Sent {
                    at: self.now,
                    way,
                    seg: seg.clone(),
                    dropped,
                    pacing_rate,
                });
                if let (Some(t), false) = (leaves, dropped) {
                    self.wire.push((t + ONE_WAY, way, seg));
                }
            }
        }
    }

    /// Advance time in 1 ms steps to `until`, delivering segments and
    /// running timers.
    fn run_until(&mut self, until: Duration) {
        while self.now < until {
            self.step();
        }
    }

    fn step(&mut self) {
        let now = self.now;
        let due: Vec<(Duration, Way, Segment)> = {
            let (due, later) = self.wire.drain(..).partition(|(t, _, _)| *t <= now);
            self.wire = later;
            due
        };
        // Each segment is handled, and what it triggers sent, before the
        // next (no receive coalescing).
        for (_, way, seg) in due {
            match way {
                Way::Up => self.server.handle_segment(now, &seg),
                Way::Down => self.client.handle_segment(now, &seg),
            }
            self.flush();
        }
        for conn in [&mut self.client, &mut self.server] {
            if conn.poll_timeout().is_some_and(|t| t <= now) {
                conn.handle_timeout(now);
            }
        }
        if self.client_reads {
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = self.client.read(&mut buf);
                if n == 0 {
                    break;
                }
                self.received.extend_from_slice(&buf[..n]);
            }
        }
        self.flush();
        self.now = if self.exact {
            let next = self.wire.iter().map(|(t, _, _)| *t);
            let timers = [self.client.poll_timeout(), self.server.poll_timeout()];
            next.chain(timers.into_iter().flatten())
                .filter(|&t| t > now)
                .chain([now + ms(1)])
                .min()
                .expect("now + 1 ms")
        } else {
            now + ms(1)
        };
    }

    /// The server writes `n` bytes (as much as fits) now.
    fn server_writes(&mut self, n: usize) -> usize {
        let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        let w = self.server.write(&data);
        self.flush();
        w
    }

    /// Data segments the server sent, in order, with times.
    fn down_data(&self) -> Vec<&Sent> {
        self.log
            .iter()
            .filter(|s| s.way == Way::Down && s.is_data())
            .collect()
    }

    /// Data segments sent at or after `from` and before `to`.
    fn down_data_between(&self, from: Duration, to: Duration) -> usize {
        self.down_data()
            .iter()
            .filter(|s| s.at >= from && s.at < to)
            .count()
    }

    /// Retransmitted data segments (a sequence number seen before), in
    /// order, with their send times.
    fn retransmissions(&self) -> Vec<(Duration, u32)> {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for s in self.down_data() {
            if !seen.insert(s.seg.seq) {
                out.push((s.at, s.seg.seq));
            }
        }
        out
    }

    #[allow(dead_code)]
    fn dump(&self, from: Duration, lines: usize) {
        for s in self.log.iter().filter(|s| s.at >= from).take(lines) {
            eprintln!(
                "{:>6?} {:?} {} {}",
                s.at,
                s.way,
                s.seg,
                if s.dropped { "DROPPED" } else { "" }
            );
        }
    }

    fn expect_received_len(&self, n: usize) {
        assert_eq!(self.received.len(), n, "bytes delivered to the client");
    }

    fn expect_received(&self, n: usize) {
        assert_eq!(self.received.len(), n, "bytes delivered to the client");
        for (i, b) in self.received.iter().enumerate() {
            assert_eq!(*b, (i % 251) as u8, "byte {i}");
        }
    }
}

#[test]
fn handshake_negotiates_linux_options() {
    let p = Pair::new(LinuxConfig::default());
    let syn = &p.log[0].seg;
    assert!(syn.syn && syn.ack.is_none());
    assert_eq!(syn.mss, Some(1460));
    assert!(syn.sack_permitted);
    assert!(syn.timestamp.is_some());
    assert!(syn.window_scale.is_some());
    let syn_ack = &p.log[1].seg;
    assert!(syn_ack.syn && syn_ack.ack == Some(1_000_001));
    assert_eq!(p.log[1].at, ONE_WAY);
    // The client's ACK completes the handshake one RTT after the SYN.
    assert_eq!(p.log[2].at, ONE_WAY * 2);
    assert_eq!(
        p.server.sender().expect("sender").mss(),
        MSS,
        "1460 less the timestamp option"
    );
}

#[test]
fn initial_window_is_ten_segments() {
    let mut p = Pair::new(LinuxConfig::default());
    let start = p.now;
    p.server_writes(100_000);
    // Everything sent before the first ACK can come back is the IW.
    assert_eq!(p.down_data_between(start, start + ms(1)), 10);
    assert_eq!(p.down_data_between(start, start + ONE_WAY * 2), 10);
}

#[test]
fn the_first_flight_is_the_configured_initial_window() {
    for iw in [4, 32] {
        let mut p = Pair::new(LinuxConfig {
            initial_window: iw,
            ..LinuxConfig::default()
        });
        let start = p.now;
        p.server_writes(200_000);
        // Everything sent before the first ACK can come back is the IW.
        assert_eq!(p.down_data_between(start, start + ONE_WAY * 2), iw as usize);
        assert_eq!(
            p.server.sender().expect("sender").cwnd(),
            u64::from(iw) * MSS
        );
    }
}

#[test]
fn slow_start_doubles_per_round_trip() {
    let mut p = Pair::new(LinuxConfig {
        hystart: false,
        ..LinuxConfig::default()
    });
    let start = p.now;
    p.server_writes(1_000_000);
    p.run_until(start + ms(400));
    let rtt = ONE_WAY * 2;
    let rounds: Vec<usize> = (0..4)
        .map(|k| p.down_data_between(start + rtt * k, start + rtt * (k + 1)))
        .collect();
    eprintln!("segments per round: {rounds:?}");
    assert_eq!(rounds[0], 10);
    for k in 1..4 {
        assert_eq!(rounds[k], rounds[k - 1] * 2, "round {k}: {rounds:?}");
    }
}

#[test]
fn sack_recovery_repairs_several_holes_in_one_window() {
    let mut p = Pair::new(LinuxConfig::default());
    // Lose the 12th, 15th and 18th data segments (second flight).
    p.drop_down = Box::new(|n, _| matches!(n, 12 | 15 | 18));
    let start = p.now;
    let n = p.server_writes(200_000);
    p.run_until(start + ms(2000));
    let retx = p.retransmissions();
    eprintln!("retransmissions: {retx:?}");
    assert_eq!(retx.len(), 3, "each hole resent once");
    // All three within about one RTT of each other, well before any RTO.
    let first_loss_sent = p.down_data()[11].at;
    for (at, _) in &retx {
        assert!(*at < first_loss_sent + ms(200), "resent at {at:?}");
    }
    let stats = p.server.stats().sender;
    assert_eq!(stats.rtos, 0);
    assert_eq!(stats.recoveries, 1);
    p.expect_received(n);
}

#[test]
fn rack_detects_a_loss_with_too_few_dupacks() {
    let mut p = Pair::new(LinuxConfig::default());
    // A 4-segment write: losing the 2nd leaves only 2 segments above it, too
    // few for DupThresh; RACK's timer finds it.
    p.drop_down = Box::new(|n, _| n == 2);
    let start = p.now;
    p.server_writes(4 * MSS as usize);
    p.run_until(start + ms(1000));
    let retx = p.retransmissions();
    eprintln!("retransmissions: {retx:?}");
    assert_eq!(retx.len(), 1);
    // RACK: sent at start, declared lost at start + RTT + min_rtt/4 after
    // the SACK of segment 4 arrives (start + RTT).
    let rtt = ONE_WAY * 2;
    assert!(
        retx[0].0 >= start + rtt && retx[0].0 <= start + rtt + rtt / 4 + ms(2),
        "{retx:?}"
    );
    assert_eq!(p.server.stats().sender.rtos, 0);
    p.expect_received(4 * MSS as usize);
}

#[test]
fn a_retransmission_carrying_sack_blocks_is_cut_to_fit_the_mtu() {
    let mut p = Pair::new(LinuxConfig::default());
    // Both ends send. The client's first data segment is lost, so until its
    // retransmission arrives every segment the server sends carries a SACK
    // block (12 more option bytes). The server's 3rd data segment, sent
    // full size before the client's data arrived, is lost too: resent now
    // it would be 12 bytes over the MTU.
    p.drop_down = Box::new(|n, _| n == 3);
    p.drop_up = Box::new(|n, _| n == 1);
    let start = p.now;
    p.server_writes(6 * MSS as usize);
    let up: Vec<u8> = (0..6 * MSS as usize).map(|i| (i % 7) as u8).collect();
    assert_eq!(p.client.write(&up), up.len());
    p.flush();
    p.run_until(start + ms(1000));
    let lost_seq = p.down_data()[2].seg.seq;
    assert_eq!(p.down_data()[2].seg.payload.len(), MSS as usize);
    let mtu = LinuxConfig::default().mtu;
    for s in p.log.iter().filter(|s| s.is_data()) {
        let len = s.seg.header_len() + s.seg.payload.len();
        assert!(len <= mtu, "{len} bytes over an MTU of {mtu}: {}", s.seg);
    }
    // The resent head of the lost segment carried a SACK block and so less
    // than a full segment; the rest of it followed.
    let resent: Vec<&Sent> = p
        .down_data()
        .into_iter()
        .filter(|s| s.at > start + ms(10) && s.seg.seq == lost_seq)
        .collect();
    assert_eq!(resent.len(), 1, "the lost segment's head is resent once");
    let head = &resent[0].seg;
    assert!(!head.sack.is_empty(), "{head}");
    assert_eq!(head.payload.len(), mtu - head.header_len());
    assert!(head.payload.len() < MSS as usize);
    let tail_seq = lost_seq.wrapping_add(head.payload.len() as u32);
    assert!(
        p.down_data().iter().any(|s| s.seg.seq == tail_seq),
        "the rest of the lost segment is resent"
    );
    p.expect_received(6 * MSS as usize);
}

#[test]
fn tail_loss_probe_repairs_a_lost_last_segment() {
    let mut p = Pair::new(LinuxConfig::default());
    p.drop_down = Box::new(|n, _| n == 4);
    let start = p.now;
    p.server_writes(4 * MSS as usize);
    p.run_until(start + ms(1000));
    let retx = p.retransmissions();
    eprintln!("retransmissions: {retx:?}");
    assert_eq!(retx.len(), 1);
    let stats = p.server.stats().sender;
    assert_eq!(stats.tlps, 1);
    assert_eq!(stats.rtos, 0);
    // The ACK of the first three segments arrives one RTT after the send
    // and re-arms the probe with one segment in flight: PTO = 2 × SRTT plus
    // the 200 ms delayed-ACK allowance, capped by the RTO (SRTT + 200 ms).
    let srtt = ONE_WAY * 2;
    let rto = srtt + ms(200);
    assert_eq!(
        retx[0].0,
        start + srtt + rto.min(2 * srtt + ms(200)),
        "{retx:?}"
    );
    p.expect_received(4 * MSS as usize);
}

#[test]
fn rto_backs_off_exponentially() {
    let mut p = Pair::new(LinuxConfig::default());
    // Lose the only data segment and its first three retransmissions.
    p.drop_down = Box::new(|n, _| n <= 5);
    let start = p.now;
    p.server_writes(100);
    p.run_until(start + ms(10_000));
    let sends: Vec<Duration> = p.down_data().iter().map(|s| s.at - start).collect();
    eprintln!("sends: {sends:?}");
    // First send, then the TLP, then RTOs at doubling intervals.
    assert!(sends.len() >= 5);
    let gaps: Vec<Duration> = sends.windows(2).map(|w| w[1] - w[0]).collect();
    for k in 2..gaps.len().min(4) {
        assert_eq!(gaps[k], gaps[k - 1] * 2, "gaps {gaps:?}");
    }
    assert!(p.server.stats().sender.rtos >= 3);
    p.expect_received(100);
}

#[test]
fn prr_spreads_the_reduction_over_the_recovery() {
    let mut p = Pair::new(LinuxConfig {
        hystart: false,
        ..LinuxConfig::default()
    });
    // Lose one segment of the fourth flight, when cwnd is 80 segments.
    p.drop_down = Box::new(|n, _| n == 80);
    let start = p.now;
    p.server_writes(2_000_000);
    p.run_until(start + ms(3000));
    let stats = p.server.stats().sender;
    assert_eq!(stats.recoveries, 1);
    assert_eq!(stats.rtos, 0);
    // During recovery PRR sends about ssthresh/RecoverFS = 0.7 segments per
    // segment delivered, rather than stopping and bursting.
    let retx = p.retransmissions();
    let recovery_start = retx[0].0;
    let next_rtt = p.down_data_between(recovery_start, recovery_start + ONE_WAY * 2);
    eprintln!("segments sent in the recovery round trip: {next_rtt}");
    assert!((40..=80).contains(&next_rtt), "{next_rtt}");
}

#[test]
fn delayed_ack_every_second_segment_after_quickack() {
    let mut p = Pair::new(LinuxConfig::default());
    let start = p.now;
    p.server_writes(400_000);
    p.run_until(start + ms(600));
    let acks_up = p
        .log
        .iter()
        .filter(|s| s.way == Way::Up && s.at > start && !s.is_data())
        .count();
    let data_down = p.down_data().len();
    eprintln!("{acks_up} ACKs for {data_down} segments");
    // 16 quick ACKs, then one per two segments.
    assert!(
        acks_up <= 16 + (data_down - 16) / 2 + 4,
        "{acks_up} / {data_down}"
    );
    assert!(acks_up >= (data_down / 2), "{acks_up} / {data_down}");
}

#[test]
fn lone_segment_is_acked_within_40ms() {
    let mut p = Pair::new(LinuxConfig::default());
    // Use up quick-ack mode first.
    p.server_writes(40 * MSS as usize);
    p.run_until(p.now + ms(500));
    let t = p.now;
    p.server_writes(100);
    p.run_until(t + ms(200));
    let ack = p
        .log
        .iter()
        .find(|s| s.way == Way::Up && s.at > t)
        .expect("an ACK");
    assert_eq!(ack.at, t + ONE_WAY + ms(40), "delayed ACK timer is 40 ms");
}

#[test]
fn zero_window_probe_and_reopen() {
    let mut p = Pair::new(LinuxConfig {
        buffer: 64 * 1024,
        ..LinuxConfig::default()
    });
    p.client_reads = false;
    let start = p.now;
    // Fill the client's buffer, then queue more while its window is shut.
    let mut written = p.server_writes(64 * 1024);
    p.run_until(start + ms(500));
    written += p.server_writes(32 * 1024);
    p.run_until(start + ms(5000));
    let probes: Vec<Duration> = p
        .down_data()
        .iter()
        .map(|s| s.at)
        .chain(
            p.log
                .iter()
                .filter(|s| s.way == Way::Down && !s.is_data() && s.at > start + ms(500))
                .map(|s| s.at),
        )
        .filter(|t| *t > start + ms(500))
        .collect();
    let stats = p.server.stats().sender;
    eprintln!("window probes: {} at {probes:?}", stats.window_probes);
    assert!(
        stats.window_probes >= 3,
        "the sender probes the zero window"
    );
    assert_eq!(stats.rtos, 0, "a closed window is not a loss");
    assert!(p.received.is_empty());
    // Probes back off: each interval at least as long as the one before.
    let gaps: Vec<Duration> = probes.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.windows(2).all(|g| g[1] >= g[0]), "{gaps:?}");
    // Reading reopens the window; the queued data follows.
    p.client_reads = true;
    p.run_until(p.now + ms(10_000));
    p.expect_received_len(written);
}

#[test]
fn rack_detects_a_lost_retransmission() {
    let mut p = Pair::new(LinuxConfig::default());
    // Lose the 12th segment and then its first retransmission.
    let mut hole_seq = None;
    p.drop_down = Box::new(move |n, seg| {
        if n == 12 {
            hole_seq = Some(seg.seq);
            return true;
        }
        let resend = hole_seq == Some(seg.seq);
        if resend {
            hole_seq = None; // drop only the first resend
        }
        resend
    });
    let start = p.now;
    let n = p.server_writes(300_000);
    p.run_until(start + ms(3000));
    let retx = p.retransmissions();
    eprintln!("retransmissions: {retx:?}");
    assert_eq!(retx.len(), 2, "the hole was resent twice");
    assert_eq!(retx[0].1, retx[1].1);
    // The second resend came from RACK, not from a retransmission timeout:
    // once a segment sent after the first resend was SACKed (segments sent
    // one RTT later, on the next ACKs, SACKed one RTT after that).
    let rtt = ONE_WAY * 2;
    assert!(retx[1].0 - retx[0].0 <= rtt * 2 + rtt / 4, "{retx:?}");
    assert_eq!(p.server.stats().sender.rtos, 0);
    p.expect_received(n);
}

#[test]
fn slow_start_grows_cwnd_by_every_segment_of_a_window_that_filled_it() {
    // Linux's tcp_is_cwnd_limited (include/net/tcp.h) with the tracking of
    // tcp_cwnd_validate (tcp_output.c): once a send in the current window
    // left cwnd full, every ACK of that window grows cwnd, even after the
    // application ran out of data; and in slow start cwnd may grow to twice
    // the most segments that were out. A 16-segment response on IW10: the
    // first flight fills cwnd, the first three ACKs send the other six and
    // fill it again, so all 16 ACKs grow cwnd: 10 + 16 = 26 segments.
    let mut p = Pair::new(LinuxConfig::default());
    let start = p.now;
    p.server_writes(16 * MSS as usize);
    // Both flights are acknowledged by start + 2 RTT; write again well
    // within an RTO of the last send, so no idle restart applies.
    p.run_until(start + ms(200));
    assert_eq!(p.down_data().len(), 16);
    assert_eq!(p.server.stats().sender.retransmissions, 0);
    let t = p.now;
    p.server_writes(100 * MSS as usize);
    assert_eq!(
        p.down_data_between(t, t + ms(1)),
        26,
        "the next response goes out in one flight of the grown cwnd"
    );
}

#[test]
fn prr_sends_one_per_sack_below_ssthresh_without_the_extra_segment() {
    // Linux's tcp_cwnd_reduction (tcp_input.c): once no more than ssthresh
    // is in flight, PRR-SSRB sends what each ACK delivered, plus one only
    // when snd_una advanced and nothing was newly lost. SACK-only ACKs get
    // exactly one segment each: packet conservation, no growth to ssthresh.
    let mut p = Pair::new(LinuxConfig::default());
    let start = p.now;
    // cwnd grows to 26 segments (as in the slow-start test above).
    p.server_writes(16 * MSS as usize);
    p.run_until(start + ms(200));
    assert_eq!(p.server.sender().expect("sender").cwnd(), 26 * MSS);
    // The next flight of 26: its first 10 segments are lost.
    p.drop_down = Box::new(|n, _| (17..=26).contains(&n));
    let t = p.now;
    p.server_writes(200 * MSS as usize);
    assert_eq!(p.down_data_between(t, t + ms(1)), 26);
    // One RTT later the 16 SACKs arrive, one by one. The first two each
    // take a segment out of flight, and a new one goes out. The third makes
    // three segments SACKed: RACK's reordering window drops to zero, the 10
    // holes are lost, and recovery starts with ssthresh = 26 × 717/1024 =
    // 18 and 15 segments in flight. From then on each SACK (14 of them)
    // lets exactly one segment out: 2 + 14 = 16, where adding a segment on
    // every ACK would climb to ssthresh (18).
    let rtt = ONE_WAY * 2;
    p.run_until(t + rtt + ms(1));
    assert_eq!(p.server.stats().sender.recoveries, 1);
    assert_eq!(p.down_data_between(t + rtt, t + rtt + ms(1)), 16);
}

#[test]
fn rack_in_recovery_has_no_reordering_window() {
    // Linux's tcp_rack_reo_wnd (tcp_recovery.c): with no reordering seen,
    // the reordering window is zero in recovery. A lost retransmission is
    // found on the first SACK of a segment sent after it, one RTT after the
    // resend, not min_rtt/4 later.
    let mut p = Pair::new(LinuxConfig::default());
    let mut hole_seq = None;
    p.drop_down = Box::new(move |n, seg| {
        if n == 12 {
            hole_seq = Some(seg.seq);
            return true;
        }
        let resend = hole_seq == Some(seg.seq);
        if resend {
            hole_seq = None;
        }
        resend
    });
    let start = p.now;
    let n = p.server_writes(300_000);
    p.run_until(start + ms(3000));
    let retx = p.retransmissions();
    eprintln!("retransmissions: {retx:?}");
    assert_eq!(retx.len(), 2);
    assert_eq!(retx[1].0 - retx[0].0, ONE_WAY * 2, "{retx:?}");
    assert_eq!(p.server.stats().sender.rtos, 0);
    p.expect_received(n);
}

/// The length Linux paces by: the write queue's `skb->len`, the payload
/// (the header is pushed on the clone that leaves, in `__tcp_transmit_skb`).
fn skb_len(seg: &Segment) -> u64 {
    seg.payload.len() as u64
}

/// Checks that no run of the server's paced data segments left faster than
/// the pacing rate allows: from the eleventh data segment on (Linux leaves
/// the first ten unpaced), for every i < j, segment j left no earlier than
/// segment i plus the transmission times `len / rate` of segments i to
/// j − 1, less half of segment i's (the most the "OS jitter" credit of
/// `tcp_update_skb_after_send` takes back after a late departure). Returns
/// how many segments were checked.
fn assert_paced(p: &Pair) -> usize {
    let data = p.down_data();
    let paced: Vec<(Duration, u64)> = data
        .iter()
        .skip(super::send::UNPACED_SEGMENTS as usize - 1)
        .map(|s| {
            let rate = s.pacing_rate.expect("a pacing rate after the handshake");
            (s.at, skb_len(&s.seg) * 1_000_000_000 / rate)
        })
        .collect();
    for i in 0..paced.len() {
        let mut allowed = 0u64;
        for j in i + 1..paced.len() {
            allowed += paced[j - 1].1;
            let floor = paced[i].0 + Duration::from_nanos(allowed - paced[i].1 / 2);
            assert!(
                paced[j].0 + Duration::from_nanos(1) >= floor,
                "segment {j} left at {:?}, before {floor:?} (from segment {i} at {:?})",
                paced[j].0,
                paced[i].0
            );
        }
    }
    paced.len()
}

#[test]
fn paced_segments_leave_no_faster_than_the_pacing_rate() {
    for exact in [true, false] {
        let mut p = Pair::new(LinuxConfig {
            pacing: crate::Pacing::On,
            ..LinuxConfig::default()
        });
        p.exact = exact;
        // 50 ms handshake RTT, IW10: 200 % of 10 × 1448 bytes per 50 ms.
        let rate = p.server.sender().expect("sender").pacing_rate();
        assert_eq!(rate, Some(2 * 10 * 1448 * 20));
        let start = p.now;
        p.server_writes(400_000);
        p.run_until(start + ms(2000));
        p.expect_received(400_000);
        // The first ten (the initial window) leave at once.
        let first: Vec<Duration> = p.down_data().iter().take(10).map(|s| s.at).collect();
        assert!(first.iter().all(|&t| t == start), "{first:?}");
        // The second flight: the first ACK (at 250 ms) releases the
        // eleventh segment 47 ms after its departure time, so its gap is
        // halved (the jitter credit); then, at the rate the ACKs set, each
        // segment leaves exactly `len / rate` after the one before (to the
        // nanosecond when the harness wakes at departure times).
        let data = p.down_data();
        assert_eq!(data[10].at, start + ms(50));
        let len_over_rate = |s: &Sent| {
            Duration::from_nanos(skb_len(&s.seg) * 1_000_000_000 / s.pacing_rate.expect("rate"))
        };
        if exact {
            let full = len_over_rate(data[10]).as_nanos() as u64;
            assert_eq!(
                data[11].at - data[10].at,
                Duration::from_nanos(full - full / 2)
            );
        }
        for w in data[11..30].windows(2) {
            if exact {
                assert_eq!(w[1].at - w[0].at, len_over_rate(w[0]));
            } else {
                assert!(w[1].at - w[0].at <= ms(2));
            }
        }
        let checked = assert_paced(&p);
        assert!(checked > 200, "{checked} paced segments");
    }
}

#[test]
fn pacing_spreads_slow_start_over_the_round_trip() {
    // Unpaced, the second flight (20 segments, two per ACK) leaves in a
    // burst as the first flight's ACKs arrive within a millisecond; paced at
    // 200 % of cwnd/srtt, it is spread over about half an RTT.
    let spread = |pacing| {
        let mut p = Pair::new(LinuxConfig {
            pacing,
            ..LinuxConfig::default()
        });
        p.exact = true;
        let start = p.now;
        p.server_writes(100_000);
        p.run_until(start + ms(200));
        let second: Vec<Duration> = p
            .down_data()
            .iter()
            .skip(10)
            .take(20)
            .map(|s| s.at)
            .collect();
        second[19] - second[0]
    };
    assert!(
        spread(crate::Pacing::Off) <= ms(1),
        "{:?}",
        spread(crate::Pacing::Off)
    );
    let paced = spread(crate::Pacing::On);
    assert!(paced >= ms(20), "{paced:?}");
}

/// 10 Mbit/s of IPv4 packets, in bytes per second.
const TEN_MBIT: u64 = 1_250_000;

/// A BBR server behind a 10 Mbit/s bottleneck with a one-BDP (42-packet)
/// queue, 50 ms RTT, the harness waking at every event. The bottleneck
/// starts after the handshake, so the handshake's RTT is the bare 50 ms.
fn bbr_pair() -> Pair {
    let mut p = Pair::new(LinuxConfig {
        congestion: crate::Congestion::Bbr,
        ..LinuxConfig::default()
    });
    p.exact = true;
    p.bottleneck = Some(Bottleneck::new(TEN_MBIT, 42));
    p
}

/// The server's BBR.
fn bbr(p: &Pair) -> &super::bbr::Bbr {
    p.server
        .sender()
        .expect("sender")
        .cc()
        .as_any()
        .downcast_ref::<super::bbr::Bbr>()
        .expect("bbr")
}

/// Run until `until` with the server's send buffer kept full (a bulk
/// transfer), calling `each` after every step.
fn bulk_until(p: &mut Pair, until: Duration, mut each: impl FnMut(&Pair)) {
    while p.now < until {
        if p.server.sender().expect("sender").free_space() > 1 << 18 {
            p.server_writes(1 << 18);
        }
        p.step();
        each(p);
    }
}

#[test]
fn bbr_goes_from_startup_through_drain_to_probe_bw() {
    use super::bbr::BbrMode;
    let mut p = bbr_pair();
    let start = p.now;
    bulk_until(&mut p, start + ms(3000), |_| {});
    let b = bbr(&p);
    let modes: Vec<BbrMode> = b.transitions().iter().map(|(_, m)| *m).collect();
    eprintln!("BBR transitions: {:?}", b.transitions());
    assert_eq!(modes, [BbrMode::Startup, BbrMode::Drain, BbrMode::ProbeBw]);
    let (drain_at, probe_bw_at) = (b.transitions()[1].0, b.transitions()[2].0);
    // STARTUP doubles per round from 10 segments: the pipe (42 packets)
    // plus queue fills within about 6 rounds, and full-bandwidth detection
    // takes 3 more rounds without 25 % growth.
    assert!(drain_at - start < ms(1000), "DRAIN at {drain_at:?}");
    // DRAIN at 1/2.89 empties STARTUP's queue in about one round.
    assert!(
        probe_bw_at - drain_at < ms(300),
        "PROBE_BW at {probe_bw_at:?}"
    );
    // The delivery rate of payload: 1448 of every 1500 bytes at 10 Mbit/s.
    let payload_rate = TEN_MBIT * MSS / 1500;
    let bw = b.btl_bw();
    eprintln!("btl_bw {bw} B/s (payload rate {payload_rate} B/s)");
    assert!(bw <= payload_rate + payload_rate / 100, "{bw}");
    assert!(bw >= payload_rate * 95 / 100, "{bw}");
}

#[test]
fn bbr_probes_rtt_after_ten_seconds_at_four_packets_for_200ms() {
    use super::bbr::BbrMode;
    let mut p = bbr_pair();
    let start = p.now;
    // The handshake's packets saw no bottleneck: min_rtt is the bare 50 ms.
    assert_eq!(bbr(&p).min_rtt(), Some(ms(50)));
    let mut cwnd_in_probe_rtt = std::collections::BTreeSet::new();
    bulk_until(&mut p, start + ms(11_000), |p| {
        if bbr(p).mode() == BbrMode::ProbeRtt {
            cwnd_in_probe_rtt.insert(p.server.sender().expect("sender").cwnd() / MSS);
        }
    });
    let b = bbr(&p);
    eprintln!("BBR transitions: {:?}", b.transitions());
    let probe_rtt: Vec<usize> = (0..b.transitions().len())
        .filter(|&i| b.transitions()[i].1 == BbrMode::ProbeRtt)
        .collect();
    assert_eq!(probe_rtt.len(), 1, "one PROBE_RTT in 11 s");
    let (entered, _) = b.transitions()[probe_rtt[0]];
    let (left, after) = b.transitions()[probe_rtt[0] + 1];
    // No sample went below the handshake's 50 ms, so the filter expires
    // 10 s and a jiffy after bbr_init, which ran when the handshake's last
    // ACK reached the server at 75 ms: on the first ACK after 10.076 s.
    assert!(entered >= ms(10_076), "{entered:?}");
    assert!(entered < ms(10_080), "{entered:?}");
    assert!(
        left - entered >= ms(200),
        "PROBE_RTT lasted {:?}",
        left - entered
    );
    assert!(
        left - entered <= ms(400),
        "PROBE_RTT lasted {:?}",
        left - entered
    );
    assert_eq!(after, BbrMode::ProbeBw);
    assert_eq!(
        cwnd_in_probe_rtt.into_iter().collect::<Vec<_>>(),
        [4],
        "cwnd in PROBE_RTT, packets"
    );
    // With the queue drained, a full segment's RTT is the path's: 50 ms of
    // propagation plus 1.2 ms to serialize 1500 bytes at 10 Mbit/s.
    assert_eq!(b.min_rtt(), Some(Duration::from_micros(51_200)));
}
