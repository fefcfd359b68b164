//! Measurements through the emulated link that check it against its
//! configuration: [`ping`] (ICMP echo round trips, for the RTT) and
//! [`flood`] (paced UDP from client to server, for the bottleneck rate,
//! the loss rate and the queue limit).

use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::time::Duration;

use crate::error::EmulatorError;
use crate::forward::wall_clock;
use crate::lab::Emulator;
use crate::sys;

/// The UDP port the flood receiver listens on in the server's namespace.
const FLOOD_PORT: u16 = 9;
/// IPv4 + UDP headers, counted in a flood's rates (the link counts whole
/// IP packets).
const IP_UDP_HEADERS: usize = 28;

fn io_error(what: &str) -> impl FnOnce(std::io::Error) -> EmulatorError + '_ {
    move |source| EmulatorError::Io {
        what: what.to_owned(),
        error: source,
    }
}

/// Send `count` ICMP echo requests with `payload` bytes each from the
/// client to the server, one every `interval`, and return each round trip
/// (a lost one is absent: no reply within twice the base RTT plus 0.5 s).
/// The kernel of the server's namespace answers.
pub fn ping(
    emulator: &Emulator,
    count: u32,
    payload: usize,
    interval: Duration,
) -> Result<Vec<Duration>, EmulatorError> {
    // Let root's group open ICMP ping sockets in the client's namespace.
    emulator
        .client()
        .write_sysctl("net/ipv4/ping_group_range", "0 0")?;
    let server = emulator.server_addr();
    // A reply later than twice the base RTT plus half a second is lost.
    let timeout = 2 * emulator.network().path.base_rtt() + Duration::from_millis(500);
    emulator.client().run(move || {
        let socket =
            UdpSocket::from(sys::icmp_socket().map_err(io_error("opening an ICMP socket"))?);
        socket
            .connect(SocketAddrV4::new(server, 0))
            .map_err(io_error("addressing the ICMP socket"))?;
        socket
            .set_read_timeout(Some(timeout))
            .map_err(io_error("setting the ICMP socket's timeout"))?;
        let mut rtts = Vec::new();
        let mut reply = vec![0u8; payload + 64];
        for seq in 0..count {
            // Echo request: type 8, code 0; the kernel fills the checksum
            // and the identifier.
            let mut request = vec![8u8, 0, 0, 0, 0, 0];
            request.extend_from_slice(&(seq as u16).to_be_bytes());
            request.resize(8 + payload, 0x5a);
            let sent = wall_clock();
            socket
                .send(&request)
                .map_err(io_error("sending an ICMP echo request"))?;
            loop {
                match socket.recv(&mut reply) {
                    Ok(n) if n >= 8 && reply[0] == 0 && reply[6..8] == request[6..8] => {
                        rtts.push(sent.elapsed());
                        break;
                    }
                    Ok(_) => continue,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        break
                    }
                    Err(e) => return Err(io_error("receiving an ICMP echo reply")(e)),
                }
            }
            std::thread::sleep(interval);
        }
        Ok(rtts)
    })
}

/// What a [`flood`] measured at the receiver.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FloodResult {
    /// Datagrams sent.
    pub sent: u64,
    /// Datagrams received.
    pub received: u64,
    /// IP bytes received.
    pub bytes_received: u64,
    /// Time from the first datagram received to the last.
    pub span: Duration,
    /// The receive rate in bit/s of IP packets: bytes after the first
    /// datagram over `span`.
    pub rate_bps: f64,
}

impl FloodResult {
    /// The fraction of datagrams that did not arrive.
    pub fn loss(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        1.0 - self.received as f64 / self.sent as f64
    }
}

/// Send UDP datagrams of `packet_len` IP bytes from the client to the
/// server at `rate_bps` (IP bytes) for `duration`, and count what arrives.
pub fn flood(
    emulator: &Emulator,
    rate_bps: u64,
    packet_len: usize,
    duration: Duration,
) -> Result<FloodResult, EmulatorError> {
    if packet_len <= IP_UDP_HEADERS || rate_bps == 0 {
        return Err(EmulatorError::Unsupported(format!(
            "a flood needs packets over {IP_UDP_HEADERS} bytes and a rate above 0"
        )));
    }
    let server_addr = SocketAddr::from(SocketAddrV4::new(emulator.server_addr(), FLOOD_PORT));
    let receiver = emulator.server().spawn(move || {
        let socket =
            UdpSocket::bind(server_addr).map_err(io_error("binding the flood receiver"))?;
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .map_err(io_error("setting the receiver's timeout"))?;
        let mut buf = vec![0u8; 65_536];
        let mut arrivals = Vec::new();
        let started = wall_clock();
        let mut idle_since = None;
        loop {
            match socket.recv(&mut buf) {
                Ok(n) => {
                    arrivals.push((wall_clock(), n + IP_UDP_HEADERS));
                    idle_since = None;
                    // The sender's "done" marker: an empty datagram.
                    if n == 0 {
                        break;
                    }
                }
                Err(_) => {
                    let idle = *idle_since.get_or_insert_with(wall_clock);
                    // Two seconds of silence after the sender started: it
                    // is done, and the marker was lost.
                    if idle.elapsed() > Duration::from_secs(2)
                        || started.elapsed() > duration + Duration::from_secs(30)
                    {
                        break;
                    }
                }
            }
        }
        Ok(arrivals)
    })?;
    // Give the receiver a moment to bind.
    std::thread::sleep(Duration::from_millis(50));
    let payload = packet_len - IP_UDP_HEADERS;
    let sent = emulator.client().run(move || {
        let socket = UdpSocket::bind("0.0.0.0:0").map_err(io_error("binding the flood sender"))?;
        socket
            .connect(server_addr)
            .map_err(io_error("addressing the flood sender"))?;
        let gap = Duration::from_secs_f64(packet_len as f64 * 8.0 / rate_bps as f64);
        let datagram = vec![0xa5u8; payload];
        let start = wall_clock();
        let mut sent = 0u64;
        while start.elapsed() < duration {
            let due = gap * sent as u32;
            let now = start.elapsed();
            if now < due {
                std::thread::sleep(due - now);
            }
            // A full socket buffer is the sender's own loss, not the
            // link's: wait and count only what left.
            if socket.send(&datagram).is_ok() {
                sent += 1;
            }
        }
        // Let the queue drain, then mark the end (three times, against
        // loss).
        std::thread::sleep(Duration::from_millis(600));
        for _ in 0..3 {
            let _ = socket.send(&[]);
        }
        Ok(sent)
    })?;
    let arrivals = receiver.join().map_err(|_| EmulatorError::Panicked {
        what: "the flood receiver".into(),
    })??;
    let data: Vec<_> = arrivals
        .iter()
        .filter(|(_, len)| *len > IP_UDP_HEADERS)
        .collect();
    let received = data.len() as u64;
    let bytes_received: u64 = data.iter().map(|(_, len)| *len as u64).sum();
    let (span, rate_bps) = match (data.first(), data.last()) {
        (Some(first), Some(last)) if data.len() > 1 => {
            let span = last.0.duration_since(first.0);
            let after_first = bytes_received - first.1 as u64;
            (span, after_first as f64 * 8.0 / span.as_secs_f64())
        }
        _ => (Duration::ZERO, 0.0),
    };
    Ok(FloodResult {
        sent,
        received,
        bytes_received,
        span,
        rate_bps,
    })
}
