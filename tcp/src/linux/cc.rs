//! Congestion control: CUBIC as Linux's `tcp_cubic.c` runs it (the
//! default), CUBIC per RFC 9438 with HyStart++ (RFC 9406), and NewReno
//! (RFC 5681, RFC 6582).
//!
//! The connection owns one [`CongestionControl`] and tells it what happened;
//! the controller owns `cwnd` and `ssthresh`, and speaks bytes (Linux's
//! CUBIC keeps whole segments inside). Call order:
//!
//! - [`CongestionControl::on_send`] for each data segment the connection
//!   sends;
//! - [`CongestionControl::on_ack`] for each ACK that acknowledged new data
//!   outside loss recovery;
//! - [`CongestionControl::on_congestion_event`] when fast recovery starts,
//!   then, for each ACK during recovery,
//!   [`CongestionControl::on_ack_in_recovery`] and
//!   [`CongestionControl::set_cwnd`] as PRR (RFC 6937) paces the reduction,
//!   then [`CongestionControl::on_recovery_end`] when recovery ends;
//! - [`CongestionControl::on_rto`] when the retransmission timer expires.
//!
//! Getters ([`CongestionControl::cwnd`], [`CongestionControl::ssthresh`],
//! [`CongestionControl::in_slow_start`]) may be called at any time.
//!
//! Time is the simulation's `now`, passed in; nothing here reads a clock.
//! Linux's CUBIC computes in integers as the kernel does; the RFC 9438 one
//! in `f64` segments, which is deterministic on one platform.
use std::fmt::Debug;
use std::time::Duration;

use crate::{Parameter, Value};

/// The default initial window: 10 segments, Linux's `TCP_INIT_CWND` (RFC
/// 6928 section 2 also caps it at 14600 bytes; Linux does not). A
/// connection's own comes from `TcpConfig::initial_window` through each
/// controller's `with_initial_window`.
pub fn initial_window(mss: u64) -> u64 {
    u64::from(crate::DEFAULT_INITIAL_WINDOW) * mss
}

/// What the connection tells the controller about one ACK that acknowledged
/// new data (cumulatively or by SACK).
#[derive(Clone, Copy, Debug)]
pub struct AckEvent {
    /// When the ACK arrived.
    pub now: Duration,
    /// Bytes newly delivered by this ACK (cumulative advance + newly
    /// SACKed).
    pub acked: u64,
    /// Segments newly delivered by this ACK, each counted once whatever its
    /// length (Linux's `acked_sacked`, in packets).
    pub segments: u64,
    /// RTT sample this ACK produced for the RTT estimator, if any (the
    /// timestamp echo, else Karn's rule).
    pub rtt_sample: Option<Duration>,
    /// The RTT of the most recently sent segment this ACK delivered that
    /// was never resent, to the microsecond: a newly SACKed one first, else
    /// one acknowledged cumulatively (none if resent data was acknowledged
    /// too), else the timestamp echo's (Linux's `ca_rtt_us`, the sample
    /// congestion control sees).
    pub newest_rtt: Option<Duration>,
    /// Smoothed RTT so far (the connection's `RttEstimator`), if known.
    pub srtt: Option<Duration>,
    /// Minimum RTT so far (the connection's `RttEstimator`), if known.
    pub min_rtt: Option<Duration>,
    /// Highest byte offset acknowledged cumulatively after this ACK
    /// (snd_una, as a stream offset that never wraps). With `snd_nxt` it
    /// delimits rounds: a round ends when snd_una passes the snd_nxt
    /// recorded at the round's start.
    pub snd_una: u64,
    /// The highest offset sent so far (snd_nxt), before anything this ACK
    /// lets the connection send.
    pub snd_nxt: u64,
    /// Whether the sender was limited by the application (or the peer's
    /// window) rather than by cwnd; then cwnd does not grow. The connection
    /// sets it to the negation of Linux's `tcp_is_cwnd_limited`, tracked
    /// per window as `tcp_cwnd_validate` does (RFC 7661's spirit).
    pub app_limited: bool,
}

/// Linux's congestion-avoidance states as BBR reads them
/// (`icsk_ca_state`): Open (and Disorder, CWR, which BBR treats alike),
/// Recovery (fast recovery), Loss (after an RTO). Ordered as Linux's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CaState {
    /// No loss episode under way.
    Open,
    /// Fast recovery (`TCP_CA_Recovery`).
    Recovery,
    /// Recovering from a retransmission timeout (`TCP_CA_Loss`).
    Loss,
}

/// One ACK's delivery-rate sample, as Linux's `struct rate_sample`
/// (`tcp_rate_gen` in net/ipv4/tcp_rate.c), with the connection state a
/// `cong_control` controller reads from `tcp_sock`.
#[derive(Clone, Copy, Debug)]
pub struct RateSample {
    /// When the ACK arrived (`tcp_mstamp`).
    pub now: Duration,
    /// Segments delivered over the sample's interval (`rs->delivered`);
    /// `None` when the ACK delivered nothing with timing information (-1).
    pub delivered: Option<u64>,
    /// The sample's interval: the longer of its send and ACK phases
    /// (`rs->interval_us`); `None` when invalid (-1, or below min RTT).
    pub interval: Option<Duration>,
    /// `tp->delivered` when the most recently sent delivered segment was
    /// sent (`rs->prior_delivered`).
    pub prior_delivered: u64,
    /// Segments newly delivered (ACKed or SACKed) by this ACK.
    pub acked_sacked: u64,
    /// Segments newly marked lost on this ACK.
    pub losses: u64,
    /// The sample's segment was sent while the connection was
    /// application-limited.
    pub is_app_limited: bool,
    /// The ACK was probably delayed (`FLAG_ACK_MAYBE_DELAYED`: it acked one
    /// short segment alone).
    pub is_ack_delayed: bool,
    /// The RTT of the newest segment delivered never resent (`rs->rtt_us`,
    /// Linux's `ca_rtt_us`).
    pub rtt: Option<Duration>,
    /// Segments in flight before the ACK (`prior_in_flight`).
    pub prior_in_flight: u64,
    /// Segments in flight after it (`tcp_packets_in_flight`).
    pub in_flight: u64,
    /// Segments delivered so far (`tp->delivered`).
    pub tp_delivered: u64,
    /// Segments marked lost so far (`tp->lost`).
    pub tp_lost: u64,
    /// When the latest delivery happened (`tp->delivered_mstamp`).
    pub delivered_mstamp: Duration,
    /// The loss state after the ACK's processing.
    pub ca_state: CaState,
    /// The next departure time of a paced segment, at least `now`
    /// (`max(tcp_wstamp_ns, tcp_clock_cache)`).
    pub edt: Duration,
    /// Smoothed RTT, if known.
    pub srtt: Option<Duration>,
}

impl RateSample {
    /// A sample at `now` with no measurement in it.
    pub fn empty(now: Duration) -> RateSample {
        RateSample {
            now,
            delivered: None,
            interval: None,
            prior_delivered: 0,
            acked_sacked: 0,
            losses: 0,
            is_app_limited: false,
            is_ack_delayed: false,
            rtt: None,
            prior_in_flight: 0,
            in_flight: 0,
            tp_delivered: 0,
            tp_lost: 0,
            delivered_mstamp: now,
            ca_state: CaState::Open,
            edt: now,
            srtt: None,
        }
    }
}

/// A congestion controller: owns cwnd and ssthresh, in bytes.
///
/// See the module documentation for the order of calls.
pub trait CongestionControl: Debug + Send {
    /// The algorithm's name: `"cubic"` (Linux's), `"cubic-rfc9438"` or
    /// `"newreno"`.
    fn name(&self) -> &'static str;

    /// Which variant of the algorithm this is and what it follows, in a
    /// few words for reports, e.g. `"RFC 9438 + HyStart++"`.
    fn variant(&self) -> &'static str;

    /// The congestion window, in bytes.
    fn cwnd(&self) -> u64;

    /// The slow start threshold, in bytes; `u64::MAX` until the first
    /// congestion event (RFC 5681 section 3.1) or slow start exit.
    fn ssthresh(&self) -> u64;

    /// Whether cwnd < ssthresh (RFC 5681 section 3.1). HyStart++'s
    /// conservative slow start counts as slow start.
    fn in_slow_start(&self) -> bool {
        self.cwnd() < self.ssthresh()
    }

    /// A data segment (new or resent) leaves at `now`, with `in_flight`
    /// bytes in flight before it and `snd_nxt` the highest offset sent
    /// after it. Default: nothing (Linux's CUBIC restarts its clock after
    /// idle here, `CA_EVENT_TX_START`).
    fn on_send(&mut self, now: Duration, in_flight: u64, snd_nxt: u64) {
        let _ = (now, in_flight, snd_nxt);
    }

    /// One ACK that acknowledged new data, outside loss recovery: grow
    /// cwnd (unless the ACK says the sender was application-limited).
    fn on_ack(&mut self, ev: &AckEvent);

    /// One ACK during fast recovery, before the connection decides whether
    /// it ends recovery: PRR owns cwnd, but the controller may take the
    /// RTT sample (Linux calls `pkts_acked` on every ACK). Default:
    /// nothing.
    fn on_ack_in_recovery(&mut self, ev: &AckEvent) {
        let _ = ev;
    }

    /// Loss detected and fast recovery starts at `now` with `in_flight`
    /// bytes outstanding: reduce ssthresh and record the controller's state
    /// for the next epoch. Leaves cwnd alone: during recovery the
    /// connection's PRR sets it through [`CongestionControl::set_cwnd`].
    /// Also ends HyStart++.
    fn on_congestion_event(&mut self, now: Duration, in_flight: u64);

    /// Fast recovery ended: cwnd = ssthresh (RFC 6937 section 3; RFC 6582
    /// section 3.2 step 6), and CUBIC starts a new epoch on its next ACK.
    fn on_recovery_end(&mut self, now: Duration);

    /// The retransmission timer expired: set cwnd to one segment, the loss
    /// window of RFC 5681 section 3.1, and reduce ssthresh as in
    /// [`CongestionControl::on_congestion_event`]. The connection calls
    /// this on every expiry; the RFC controllers always reduce, Linux's
    /// CUBIC only when `tcp_enter_loss` would (not during fast recovery, and
    /// not again before an ACK makes progress).
    fn on_rto(&mut self, now: Duration, in_flight: u64);

    /// Sets cwnd directly (PRR during recovery). Never below one segment.
    fn set_cwnd(&mut self, cwnd: u64);

    /// The pacing rate the controller sets itself, in bytes per second
    /// (BBR's `sk_pacing_rate`); `None` leaves it to the connection's
    /// `tcp_update_pacing_rate`. Default: `None`.
    fn own_pacing_rate(&self) -> Option<u64> {
        None
    }

    /// Whether the controller replaces the connection's congestion response
    /// (Linux's `cong_control` hook, which BBR sets): then each ACK that
    /// found data outstanding goes to [`CongestionControl::cong_control`]
    /// instead of `on_ack`, PRR and `set_cwnd`. Default: no.
    fn has_cong_control(&self) -> bool {
        false
    }

    /// One ACK's rate sample, for a `cong_control` controller; returns
    /// whether the connection is to be marked application-limited now
    /// (BBR's PROBE_RTT). Default: nothing.
    fn cong_control(&mut self, rs: &RateSample) -> bool {
        let _ = rs;
        false
    }

    /// The handshake completed at `now` with these RTT estimates (where
    /// Linux runs the controller's `init`, in `tcp_init_transfer`).
    /// Default: nothing.
    fn on_established(&mut self, now: Duration, srtt: Option<Duration>, min_rtt: Option<Duration>) {
        let _ = (now, srtt, min_rtt);
    }

    /// New data leaves with nothing in flight (`CA_EVENT_TX_START`), the
    /// connection application-limited or not, its latest delivery at
    /// `delivered_mstamp`. Default: nothing.
    fn on_tx_start(&mut self, now: Duration, app_limited: bool, delivered_mstamp: Duration) {
        let _ = (now, app_limited, delivered_mstamp);
    }

    /// The controller's own state, by name, for counters. Default: none.
    fn state(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }

    #[cfg(test)]
    /// This controller as `Any`, for tests to reach its concrete type.
    fn as_any(&self) -> &dyn std::any::Any;

    /// The algorithm's own configuration (beyond its name, MSS and initial
    /// window, which the stack states), for reports.
    fn parameters(&self) -> Vec<Parameter>;
}

// ---------------------------------------------------------------------------
// CUBIC as Linux runs it
//
// Constants and arithmetic follow net/ipv4/tcp_cubic.c and the helpers it
// calls in net/ipv4/tcp_cong.c (tcp_slow_start, tcp_cong_avoid_ai) and
// net/ipv4/tcp_input.c (tcp_enter_loss, tcp_init_cwnd_reduction,
// tcp_end_cwnd_reduction). Read in Linux 6.17-rc3 (the Kingxukai/linux
// mirror, commit 9b44fff6) and checked against a 6.18.15 tree
// (Aarav90-cpu/linux-kotlin), whose CUBIC arithmetic is the same.

/// Jiffies per second. CUBIC's epoch clock is `tcp_jiffies32`; the lab
/// assumes CONFIG_HZ=1000 (one jiffy per millisecond of `now`).
const HZ: u64 = 1000;
/// `BICTCP_BETA_SCALE`: beta is counted in 1024ths.
const BICTCP_BETA_SCALE: u32 = 1024;
/// `beta` = 717/1024 ≈ 0.7: ssthresh = cwnd × 717 / 1024.
const LINUX_BETA: u32 = 717;
/// `bic_scale` = 41: C = 41 × 10 / 1024 ≈ 0.4 segments per second cubed.
const BIC_SCALE: u32 = 41;
/// `BICTCP_HZ`: CUBIC's time unit is 2^-10 s.
const BICTCP_HZ: u32 = 10;
/// `cube_rtt_scale` = bic_scale × 10 (cubictcp_register).
const CUBE_RTT_SCALE: u64 = BIC_SCALE as u64 * 10;
/// `beta_scale` = 8 (1024 + beta) / 3 / (1024 − beta) = 15 in integers
/// (cubictcp_register): the Reno-friendly estimate gains one segment per
/// 15/8 cwnd of ACKed segments, α = 8/15 ≈ 0.53 per RTT, at every window.
const BETA_SCALE: u32 = 8 * (BICTCP_BETA_SCALE + LINUX_BETA) / 3 / (BICTCP_BETA_SCALE - LINUX_BETA);
/// `cube_factor` = 2^(10 + 3 BICTCP_HZ) / (bic_scale × 10): K =
/// cubic_root(cube_factor × (W_max − cwnd)), in 2^-10 s.
const CUBE_FACTOR: u64 = (1 << (10 + 3 * BICTCP_HZ)) / (BIC_SCALE as u64 * 10);
/// `TCP_INFINITE_SSTHRESH`: ssthresh before any exit from slow start.
const TCP_INFINITE_SSTHRESH: u32 = 0x7fff_ffff;
/// `HYSTART_MIN_SAMPLES`: RTT samples a round takes before the delay
/// detector judges it.
const HYSTART_MIN_SAMPLES: u8 = 8;
/// `HYSTART_DELAY_MIN`, µs: the smallest delay increase that ends slow
/// start (the threshold is delay_min / 8, clamped).
const HYSTART_DELAY_MIN_US: u32 = 4_000;
/// `HYSTART_DELAY_MAX`, µs: the largest.
const HYSTART_DELAY_MAX_US: u32 = 16_000;
/// `hystart_low_window`: HyStart judges nothing below 16 segments.
const HYSTART_LOW_WINDOW: u32 = 16;
/// `hystart_ack_delta_us`: ACKs at most this far apart belong to one train.
const HYSTART_ACK_DELTA_US: u64 = 2_000;
/// `hystart_ack_delay`'s cap (`USEC_PER_MSEC`), µs.
const HYSTART_ACK_DELAY_MAX_US: u64 = 1_000;
/// `sk_gso_max_size` in `hystart_ack_delay`: `GSO_LEGACY_MAX_SIZE`, the
/// default of Linux devices (include/linux/netdevice.h).
const GSO_MAX_SIZE: u64 = 65_536;
/// `sysctl_tcp_pacing_ss_ratio`, percent: `sk_pacing_rate` in slow start
/// (`tcp_update_pacing_rate`, tcp_input.c; default in tcp_ipv4.c).
pub(crate) const PACING_SS_RATIO: u64 = 200;
/// `sysctl_tcp_pacing_ca_ratio`, percent: `sk_pacing_rate` otherwise.
pub(crate) const PACING_CA_RATIO: u64 = 120;
/// `cubic_root`'s table (Willy Tarreau's, in tcp_cubic.c): for x in 0..64,
/// v[x] = cbrt(x << 18) − 1, refined by hand; cbrt(x) = (v[x] + 10) >> 6.
const CUBIC_ROOT_TABLE: [u8; 64] = [
    0, 54, 54, 54, 118, 118, 118, 118, //
    123, 129, 134, 138, 143, 147, 151, 156, //
    157, 161, 164, 168, 170, 173, 176, 179, //
    181, 185, 187, 190, 192, 194, 197, 199, //
    200, 202, 204, 206, 209, 211, 213, 215, //
    217, 219, 221, 222, 224, 225, 227, 229, //
    231, 232, 234, 236, 237, 239, 240, 242, //
    244, 245, 246, 248, 250, 251, 252, 254, //
];

/// `cubic_root` of tcp_cubic.c: cbrt(a) from the table's estimate of the
/// top bits and one Newton-Raphson step, x = (2x + a / (x (x − 1))) / 3,
/// the division by 3 done as × 341 / 1024 (an average error of about
/// 0.2 %). The u32 arithmetic wraps as C's does.
fn cubic_root(a: u64) -> u32 {
    let bits = u64::BITS - a.leading_zeros(); // fls64
    if bits < 7 {
        return (u32::from(CUBIC_ROOT_TABLE[a as usize]) + 35) >> 6;
    }
    let b = ((bits * 84) >> 8) - 1;
    let top = (a >> (b * 3)) as usize;
    let x = ((u32::from(CUBIC_ROOT_TABLE[top]) + 10) << b) >> 6;
    let x = x
        .wrapping_mul(2)
        .wrapping_add((a / (u64::from(x) * u64::from(x - 1))) as u32);
    x.wrapping_mul(341) >> 10
}

/// `usecs_to_jiffies` at HZ=1000: whole milliseconds, rounded up.
fn usecs_to_jiffies(us: u32) -> u64 {
    u64::from(us).div_ceil(1_000_000 / HZ)
}

/// `now` as `tcp_mstamp`, in µs.
fn micros(now: Duration) -> u64 {
    u64::try_from(now.as_micros()).unwrap_or(u64::MAX)
}

/// `now` as `tcp_jiffies32`.
fn jiffies(now: Duration) -> u64 {
    micros(now) / (1_000_000 / HZ)
}

/// A count as the kernel's `u32`, saturating.
fn count32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// CUBIC as Linux 6.18's `tcp_cubic.c` runs it: the lab's default.
///
/// The window is whole segments (`snd_cwnd`, grown one segment per `cnt`
/// ACKed segments through `snd_cwnd_cnt`, Linux's `tcp_cong_avoid_ai`),
/// shown outside as segments × MSS. What it does per ACK, as Linux:
///
/// - **`pkts_acked`** (every ACK with an RTT sample of the newest segment
///   it delivered, [`AckEvent::newest_rtt`], in every state): track
///   `delay_min`, except within a second of an epoch's start, and run
///   HyStart while in slow start and at 16 segments or more;
/// - **HyStart**, both detectors, rounds delimited by snd_una passing the
///   snd_nxt at the round's start: an *ACK train* (ACKs at most 2 ms apart
///   from the round's start) longer than (delay_min + `hystart_ack_delay`)
///   / 2, or a round's minimum RTT over its first 8+ samples above
///   delay_min + clamp(delay_min / 8, 4 ms, 16 ms); either sets ssthresh =
///   cwnd, once;
/// - **`cong_avoid`** (ACKs that advance snd_una, when cwnd-limited):
///   slow start grows cwnd by the segments ACKed up to ssthresh
///   (`tcp_slow_start`), the rest going to congestion avoidance:
///   `bictcp_update` sets `cnt` from the cubic curve (K from `cubic_root`,
///   t = epoch time + delay_min in 2^-10 s, 5 % per RTT at least while no
///   W_max is known), lowers it to follow the Reno-friendly estimate
///   (`tcp_friendliness`, α ≈ 0.53) and to 2 at least (at most 1.5× per
///   RTT); `cnt` is recomputed at most once per jiffy and, at the same
///   window, every HZ/32.
///
/// Congestion events (`cubictcp_recalc_ssthresh`): ssthresh = max(cwnd ×
/// 717 / 1024, 2), W_max = cwnd, or cwnd × (1024 + 717) / 2048 with fast
/// convergence when the window fell short of the last W_max; the epoch
/// ends. Around them, as `tcp_input.c`: fast recovery clears
/// `snd_cwnd_cnt` and ends with cwnd = ssthresh; a timeout (`tcp_enter_loss`)
/// reduces ssthresh only if neither fast recovery nor an earlier timeout
/// without progress since is under way, sets cwnd = 1 segment, and the Loss
/// state resets CUBIC entirely (`bictcp_reset`: W_max, delay_min and
/// HyStart's verdict forgotten). Sending after idle shifts the epoch by the
/// idle time (`CA_EVENT_TX_START`).
///
/// Approximations, where the lab has no kernel state to read:
/// - jiffies are milliseconds of `now` (HZ=1000), `tcp_mstamp` its µs;
///   both are 64-bit, so no wrap, and "no epoch" is `None`, not 0;
/// - `hystart_ack_delay` reads `sk_pacing_rate` as `tcp_update_pacing_rate`
///   computes it (mss × max(cwnd, packets out) × 200 % or 120 % / srtt)
///   with a 64 KiB `sk_gso_max_size`; without fq no packet is paced, so the
///   ACK-train threshold is halved (`SK_PACING_NONE`);
/// - cwnd-limited (`tcp_is_cwnd_limited`) is the connection's
///   `app_limited`; `snd_cwnd_clamp` is unlimited;
/// - the ACK that ends fast recovery does not also grow cwnd (Linux runs
///   `cong_avoid` on it once back in Open), and the sample of the ACK that
///   starts recovery is taken after ssthresh is reduced, not before;
/// - undo (`tcp_undo_cwnd`, F-RTO) is left out, as the connection has none.
#[derive(Clone, Debug)]
pub struct LinuxCubic {
    mss: u64,
    /// Module parameter `hystart`.
    hystart: bool,
    /// `snd_cwnd`, segments.
    snd_cwnd: u32,
    /// `snd_cwnd_cnt`: segments ACKed towards the next increment.
    snd_cwnd_cnt: u32,
    /// `snd_ssthresh`, segments.
    snd_ssthresh: u32,
    /// `cnt`: grow cwnd by one segment per this many ACKed segments.
    cnt: u32,
    /// `last_max_cwnd`: W_max, segments; 0 = unknown.
    last_max_cwnd: u32,
    /// `last_cwnd`: cwnd when `cnt` was last computed.
    last_cwnd: u32,
    /// `last_time`: when `cnt` was last computed, jiffies.
    last_time: u64,
    /// `bic_origin_point`: the curve's plateau, segments.
    bic_origin_point: u32,
    /// `bic_K`: time from the epoch's start to the plateau, 2^-10 s.
    bic_k: u32,
    /// `delay_min`: the smallest RTT sample, µs; 0 = none yet.
    delay_min: u32,
    /// `epoch_start`, jiffies: when congestion avoidance began.
    epoch_start: Option<u64>,
    /// `ack_cnt`: segments ACKed, for the Reno-friendly estimate.
    ack_cnt: u32,
    /// `tcp_cwnd`: the Reno-friendly estimate, segments.
    tcp_cwnd: u32,
    /// `sample_cnt`: RTT samples in this HyStart round.
    sample_cnt: u8,
    /// `found`: HyStart has ended slow start.
    found: bool,
    /// `round_start`, µs: when this HyStart round began.
    round_start: u64,
    /// `end_seq`: the round ends when snd_una passes this offset.
    end_seq: u64,
    /// `last_ack`, µs: the last ACK of the round's train.
    last_ack: u64,
    /// `curr_rtt`, µs: the round's smallest RTT sample.
    curr_rtt: u32,
    /// The connection's snd_una, as the ACKs have shown it.
    snd_una: u64,
    /// The connection's snd_nxt, as sends and ACKs have shown it.
    snd_nxt: u64,
    /// `lsndtime`, jiffies: when data was last sent.
    lsndtime: Option<u64>,
    /// `sk_pacing_rate`, bytes per second; `None` until an RTT is known
    /// (the socket's initial `~0`).
    pacing_rate: Option<u64>,
    /// In fast recovery (Linux's Recovery state).
    in_recovery: bool,
    /// A timeout happened and no ACK has advanced snd_una since (Linux's
    /// Loss state with `icsk_retransmits` > 0).
    timed_out: bool,
}

impl LinuxCubic {
    /// The same controller starting from an initial window of `segments`
    /// (Linux's `tcp_init_cwnd`: a route's `initcwnd`, else
    /// `TCP_INIT_CWND`).
    pub fn with_initial_window(mut self, segments: u32) -> Self {
        self.snd_cwnd = segments.max(1);
        self
    }

    /// `cubictcp_init`: cwnd at the [`initial_window`], ssthresh infinite,
    /// HyStart on or off.
    pub fn new(mss: u64, hystart: bool) -> Self {
        assert!(mss > 0, "mss must be positive");
        let mut cc = LinuxCubic {
            mss,
            hystart,
            snd_cwnd: count32(initial_window(mss) / mss),
            snd_cwnd_cnt: 0,
            snd_ssthresh: TCP_INFINITE_SSTHRESH,
            cnt: 0,
            last_max_cwnd: 0,
            last_cwnd: 0,
            last_time: 0,
            bic_origin_point: 0,
            bic_k: 0,
            delay_min: 0,
            epoch_start: None,
            ack_cnt: 0,
            tcp_cwnd: 0,
            sample_cnt: 0,
            found: false,
            round_start: 0,
            end_seq: 0,
            last_ack: 0,
            curr_rtt: u32::MAX,
            snd_una: 0,
            snd_nxt: 0,
            lsndtime: None,
            pacing_rate: None,
            in_recovery: false,
            timed_out: false,
        };
        if hystart {
            cc.hystart_reset(0);
        }
        cc
    }

    /// `tcp_in_slow_start`.
    fn slow_starting(&self) -> bool {
        self.snd_cwnd < self.snd_ssthresh
    }

    /// `bictcp_reset`: forget the curve, W_max, delay_min and HyStart's
    /// verdict.
    fn reset(&mut self) {
        self.cnt = 0;
        self.last_max_cwnd = 0;
        self.last_cwnd = 0;
        self.last_time = 0;
        self.bic_origin_point = 0;
        self.bic_k = 0;
        self.delay_min = 0;
        self.epoch_start = None;
        self.ack_cnt = 0;
        self.tcp_cwnd = 0;
        self.found = false;
    }

    /// `bictcp_hystart_reset`: a new HyStart round from `now_us`, ending
    /// when snd_una passes the current snd_nxt.
    fn hystart_reset(&mut self, now_us: u64) {
        self.round_start = now_us;
        self.last_ack = now_us;
        self.end_seq = self.snd_nxt;
        self.curr_rtt = u32::MAX;
        self.sample_cnt = 0;
    }

    /// Notes snd_una and snd_nxt from an ACK; returns whether snd_una
    /// advanced (`FLAG_SND_UNA_ADVANCED`, which also clears
    /// `icsk_retransmits`).
    fn note_ack(&mut self, ev: &AckEvent) -> bool {
        let advanced = ev.snd_una > self.snd_una;
        if advanced {
            self.snd_una = ev.snd_una;
            self.timed_out = false;
        }
        self.snd_nxt = self.snd_nxt.max(ev.snd_nxt);
        advanced
    }

    /// `cubictcp_acked`: one RTT sample.
    fn pkts_acked(&mut self, now: Duration, rtt: Duration) {
        // Discard delay samples right after fast recovery.
        if self
            .epoch_start
            .is_some_and(|start| jiffies(now).saturating_sub(start) < HZ)
        {
            return;
        }
        let delay = count32(micros(rtt)).max(1);
        if self.delay_min == 0 || self.delay_min > delay {
            self.delay_min = delay;
        }
        if !self.found && self.slow_starting() && self.hystart {
            self.hystart_update(micros(now), delay);
        }
    }

    /// `hystart_ack_delay`: a cushion for TSO/GRO aggregation, 4 GSO
    /// packets at the pacing rate, at most 1 ms.
    fn hystart_ack_delay(&self) -> u64 {
        match self.pacing_rate {
            Some(rate) if rate > 0 => {
                HYSTART_ACK_DELAY_MAX_US.min(GSO_MAX_SIZE * 4 * 1_000_000 / rate)
            }
            _ => 0,
        }
    }

    /// `hystart_update`: the round bookkeeping and both detectors.
    fn hystart_update(&mut self, now_us: u64, delay: u32) {
        if self.snd_una > self.end_seq {
            self.hystart_reset(now_us);
        }
        if self.snd_cwnd < HYSTART_LOW_WINDOW {
            return;
        }
        // ACK train: the round's ACKs so far came at most 2 ms apart, and
        // the train has lasted longer than half the minimum RTT (the
        // whole of it would be paced, which nothing is without fq).
        if now_us.saturating_sub(self.last_ack) <= HYSTART_ACK_DELTA_US {
            self.last_ack = now_us;
            let threshold = (u64::from(self.delay_min) + self.hystart_ack_delay()) >> 1;
            if now_us.saturating_sub(self.round_start) > threshold {
                self.found = true;
                self.snd_ssthresh = self.snd_cwnd;
            }
        }
        // Delay: the round's minimum RTT, after 8 samples, above delay_min
        // by an eighth of it (4 to 16 ms).
        self.curr_rtt = self.curr_rtt.min(delay);
        if self.sample_cnt < HYSTART_MIN_SAMPLES {
            self.sample_cnt += 1;
        } else {
            let thresh = (self.delay_min >> 3).clamp(HYSTART_DELAY_MIN_US, HYSTART_DELAY_MAX_US);
            if self.curr_rtt > self.delay_min + thresh {
                self.found = true;
                self.snd_ssthresh = self.snd_cwnd;
            }
        }
    }

    /// `tcp_slow_start`: cwnd grows by the segments ACKed, up to ssthresh;
    /// returns those left over for congestion avoidance.
    fn slow_start(&mut self, acked: u32) -> u32 {
        let cwnd = self.snd_cwnd.saturating_add(acked).min(self.snd_ssthresh);
        let left = acked - (cwnd - self.snd_cwnd);
        self.snd_cwnd = cwnd;
        left
    }

    /// `tcp_cong_avoid_ai`: one segment per `w` segments ACKed.
    fn cong_avoid_ai(&mut self, w: u32, acked: u32) {
        // Credits accumulated at a higher w are applied gently now.
        if self.snd_cwnd_cnt >= w {
            self.snd_cwnd_cnt = 0;
            self.snd_cwnd += 1;
        }
        self.snd_cwnd_cnt += acked;
        if self.snd_cwnd_cnt >= w {
            let delta = self.snd_cwnd_cnt / w;
            self.snd_cwnd_cnt -= delta * w;
            self.snd_cwnd += delta;
        }
    }

    /// `bictcp_update`: `cnt` for a window of `cwnd` segments at `now`,
    /// with `acked` segments just ACKed.
    fn update(&mut self, now: u64, cwnd: u32, acked: u32) {
        self.ack_cnt = self.ack_cnt.wrapping_add(acked);
        if self.last_cwnd == cwnd && now.saturating_sub(self.last_time) <= HZ / 32 {
            return;
        }
        // The cubic function runs at most once per jiffy; every reduction
        // ends the epoch, which forces it.
        if self.epoch_start.is_none() || now != self.last_time {
            self.last_cwnd = cwnd;
            self.last_time = now;
            let epoch_start = match self.epoch_start {
                Some(start) => start,
                None => {
                    self.epoch_start = Some(now);
                    self.ack_cnt = acked;
                    self.tcp_cwnd = cwnd;
                    if self.last_max_cwnd <= cwnd {
                        self.bic_k = 0;
                        self.bic_origin_point = cwnd;
                    } else {
                        self.bic_k = cubic_root(CUBE_FACTOR * u64::from(self.last_max_cwnd - cwnd));
                        self.bic_origin_point = self.last_max_cwnd;
                    }
                    now
                }
            };
            // t, one minimum RTT ahead, in 2^-10 s.
            let t = ((now.saturating_sub(epoch_start) + usecs_to_jiffies(self.delay_min))
                << BICTCP_HZ)
                / HZ;
            let k = u64::from(self.bic_k);
            let offs = t.abs_diff(k);
            // C (t − K)^3 in segments; wraps as the kernel's u64 does.
            let delta = (CUBE_RTT_SCALE
                .wrapping_mul(offs)
                .wrapping_mul(offs)
                .wrapping_mul(offs)
                >> (10 + 3 * BICTCP_HZ)) as u32;
            let target = if t < k {
                self.bic_origin_point.wrapping_sub(delta)
            } else {
                self.bic_origin_point.wrapping_add(delta)
            };
            self.cnt = if target > cwnd {
                cwnd / (target - cwnd)
            } else {
                100 * cwnd // a very small increment
            };
            // Not too conservative while the bandwidth is unknown: 5 % per
            // RTT at least.
            if self.last_max_cwnd == 0 && self.cnt > 20 {
                self.cnt = 20;
            }
        }
        // tcp_friendliness: the estimate of a Reno flow's window.
        let delta = (cwnd * BETA_SCALE) >> 3;
        while self.ack_cnt > delta {
            self.ack_cnt -= delta;
            self.tcp_cwnd += 1;
        }
        if self.tcp_cwnd > cwnd {
            let max_cnt = cwnd / (self.tcp_cwnd - cwnd);
            self.cnt = self.cnt.min(max_cnt);
        }
        // At most one segment per 2 ACKed: 1.5× per RTT.
        self.cnt = self.cnt.max(2);
    }

    /// `cubictcp_cong_avoid`, once the connection has found the sender
    /// cwnd-limited.
    fn cong_avoid(&mut self, now: Duration, acked: u32) {
        let mut acked = acked;
        if self.slow_starting() {
            acked = self.slow_start(acked);
            if acked == 0 {
                return;
            }
        }
        self.update(jiffies(now), self.snd_cwnd, acked);
        self.cong_avoid_ai(self.cnt, acked);
    }

    /// `cubictcp_recalc_ssthresh`: ends the epoch, sets W_max (with fast
    /// convergence) and returns the new ssthresh.
    fn recalc_ssthresh(&mut self) -> u32 {
        self.epoch_start = None;
        let cwnd = self.snd_cwnd;
        self.last_max_cwnd = if cwnd < self.last_max_cwnd {
            cwnd * (BICTCP_BETA_SCALE + LINUX_BETA) / (2 * BICTCP_BETA_SCALE)
        } else {
            cwnd
        };
        (cwnd * LINUX_BETA / BICTCP_BETA_SCALE).max(2)
    }

    /// `tcp_update_pacing_rate`, which `hystart_ack_delay` reads on the next
    /// ACK.
    fn update_pacing_rate(&mut self, ev: &AckEvent) {
        let Some(srtt) = ev.srtt.map(micros).filter(|&us| us > 0) else {
            return;
        };
        let ratio = if self.snd_cwnd < self.snd_ssthresh / 2 {
            PACING_SS_RATIO
        } else {
            PACING_CA_RATIO
        };
        let packets_out = ev.snd_nxt.saturating_sub(ev.snd_una).div_ceil(self.mss);
        let segments = u64::from(self.snd_cwnd).max(packets_out);
        // mss × ratio% × segments / srtt, in bytes per second.
        self.pacing_rate = Some(self.mss * ratio * 10_000 * segments / srtt);
    }
}

impl CongestionControl for LinuxCubic {
    #[cfg(test)]
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn name(&self) -> &'static str {
        "cubic"
    }

    fn variant(&self) -> &'static str {
        "Linux tcp_cubic.c 6.18: integer segments, β 717/1024, HyStart ACK-train + delay"
    }

    fn cwnd(&self) -> u64 {
        u64::from(self.snd_cwnd) * self.mss
    }

    fn ssthresh(&self) -> u64 {
        if self.snd_ssthresh >= TCP_INFINITE_SSTHRESH {
            u64::MAX
        } else {
            u64::from(self.snd_ssthresh) * self.mss
        }
    }

    fn on_send(&mut self, now: Duration, in_flight: u64, snd_nxt: u64) {
        // tcp_event_data_sent: CA_EVENT_TX_START when nothing was in
        // flight; cubictcp_cwnd_event moves the epoch by the idle time so
        // the curve does not run on while nothing was sent.
        let now = jiffies(now);
        if in_flight == 0 {
            if let (Some(start), Some(last)) = (self.epoch_start, self.lsndtime) {
                let idle = now.saturating_sub(last);
                if idle > 0 {
                    self.epoch_start = Some((start + idle).min(now));
                }
            }
        }
        self.lsndtime = Some(now);
        self.snd_nxt = self.snd_nxt.max(snd_nxt);
    }

    fn on_ack(&mut self, ev: &AckEvent) {
        // tcp_ack: tcp_clean_rtx_queue calls pkts_acked, then
        // tcp_cong_control grows cwnd on ACKs that acknowledged new data
        // (tcp_may_raise_cwnd: FLAG_DATA_ACKED) from a cwnd-limited sender.
        let advanced = self.note_ack(ev);
        if let Some(rtt) = ev.newest_rtt {
            self.pkts_acked(ev.now, rtt);
        }
        if advanced && !ev.app_limited {
            self.cong_avoid(ev.now, count32(ev.segments));
        }
        self.update_pacing_rate(ev);
    }

    fn on_ack_in_recovery(&mut self, ev: &AckEvent) {
        self.note_ack(ev);
        if let Some(rtt) = ev.newest_rtt {
            self.pkts_acked(ev.now, rtt);
        }
        self.update_pacing_rate(ev);
    }

    fn on_congestion_event(&mut self, _now: Duration, _in_flight: u64) {
        // tcp_enter_recovery → tcp_init_cwnd_reduction.
        self.in_recovery = true;
        self.snd_cwnd_cnt = 0;
        self.snd_ssthresh = self.recalc_ssthresh();
    }

    fn on_recovery_end(&mut self, _now: Duration) {
        // tcp_end_cwnd_reduction.
        self.in_recovery = false;
        if self.snd_ssthresh < TCP_INFINITE_SSTHRESH {
            self.snd_cwnd = self.snd_ssthresh;
        }
    }

    fn on_rto(&mut self, now: Duration, _in_flight: u64) {
        // tcp_enter_loss: reduce ssthresh unless it was already reduced
        // inside this window (fast recovery under way, or a timeout with no
        // progress since). The connection marks everything lost, so
        // nothing is in flight: cwnd = 0 + 1.
        if !self.in_recovery && !self.timed_out {
            self.snd_ssthresh = self.recalc_ssthresh();
        }
        self.snd_cwnd = 1;
        self.snd_cwnd_cnt = 0;
        self.in_recovery = false;
        self.timed_out = true;
        // tcp_set_ca_state(TCP_CA_Loss) → cubictcp_state.
        self.reset();
        self.hystart_reset(micros(now));
    }

    fn set_cwnd(&mut self, cwnd: u64) {
        self.snd_cwnd = count32(cwnd.div_ceil(self.mss)).max(1);
    }

    fn parameters(&self) -> Vec<Parameter> {
        [
            ("window_unit", Value::Text("whole segments".to_owned())),
            (
                "beta",
                Value::Text(format!("{LINUX_BETA}/{BICTCP_BETA_SCALE}")),
            ),
            (
                "c",
                Value::Text(format!("{CUBE_RTT_SCALE}/1024 (bic_scale {BIC_SCALE})")),
            ),
            ("fast_convergence", Value::Switch(true)),
            ("tcp_friendliness", Value::Switch(true)),
            ("hz", Value::Count(HZ)),
            ("hystart", Value::Switch(self.hystart)),
            (
                "hystart_detect",
                Value::Text("ACK train + delay".to_owned()),
            ),
            (
                "hystart_low_window",
                Value::Segments(u64::from(HYSTART_LOW_WINDOW)),
            ),
            (
                "hystart_ack_delta",
                Value::Duration(Duration::from_micros(HYSTART_ACK_DELTA_US)),
            ),
            (
                "hystart_min_samples",
                Value::Count(u64::from(HYSTART_MIN_SAMPLES)),
            ),
            (
                "hystart_delay_thresh_ms",
                Value::Range(
                    u64::from(HYSTART_DELAY_MIN_US / 1000),
                    u64::from(HYSTART_DELAY_MAX_US / 1000),
                ),
            ),
        ]
        .into_iter()
        .map(|(k, v)| Parameter::new(k, v))
        .collect()
    }
}

// ---------------------------------------------------------------------------
// CUBIC per RFC 9438

/// CUBIC's scaling constant C, in segments per second cubed (RFC 9438
/// sections 4.1.1 and 5).
const CUBIC_C: f64 = 0.4;

/// CUBIC's multiplicative decrease factor beta_cubic (RFC 9438 section
/// 4.6).
const CUBIC_BETA: f64 = 0.7;

/// The Reno-friendly additive increase alpha_cubic = 3 (1 - beta) /
/// (1 + beta) (RFC 9438 section 4.3).
const CUBIC_ALPHA: f64 = 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA);

/// HyStart++ (RFC 9406 section 4.3): the smallest RTT increase that ends
/// slow start.
const HYSTART_MIN_RTT_THRESH: Duration = Duration::from_millis(4);
/// HyStart++: the largest RTT increase threshold.
const HYSTART_MAX_RTT_THRESH: Duration = Duration::from_millis(16);
/// HyStart++: the threshold is the last round's minimum RTT divided by
/// this.
const HYSTART_MIN_RTT_DIVISOR: u32 = 8;
/// HyStart++: RTT samples needed in a round before it is judged.
const HYSTART_N_RTT_SAMPLE: u32 = 8;
/// HyStart++: conservative slow start grows this many times slower.
const HYSTART_CSS_GROWTH_DIVISOR: u64 = 4;
/// HyStart++: rounds of conservative slow start before congestion
/// avoidance.
const HYSTART_CSS_ROUNDS: u32 = 5;
/// HyStart++: the most segments one ACK may grow cwnd by, for a sender
/// that does not pace (RFC 9406 section 4.3: L = 8 unless paced).
const HYSTART_L: u64 = 8;

/// Where HyStart++ is in the initial slow start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HyStartPhase {
    /// Standard slow start, watching the RTT.
    SlowStart,
    /// Conservative slow start, after an RTT increase.
    Css,
    /// Not running: disabled, or the initial slow start is over.
    Off,
}

/// HyStart++ (RFC 9406 section 4.2) for the initial slow start.
#[derive(Clone, Debug)]
struct HyStart {
    phase: HyStartPhase,
    /// snd_nxt when the current round started; the round ends when snd_una
    /// reaches it. `None` before the first ACK.
    window_end: Option<u64>,
    /// lastRoundMinRTT; `None` is infinity.
    last_round_min_rtt: Option<Duration>,
    /// currentRoundMinRTT; `None` is infinity.
    current_round_min_rtt: Option<Duration>,
    /// rttSampleCount in the current round.
    rtt_sample_count: u32,
    /// cssBaselineMinRtt; `None` is infinity.
    css_baseline_min_rtt: Option<Duration>,
    /// Rounds that ended in CSS, the partial round CSS began in included.
    css_rounds: u32,
}

/// What a round boundary meant to HyStart++.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RoundOutcome {
    /// Keep growing in the current phase.
    Continue,
    /// CSS_ROUNDS rounds of CSS are complete: enter congestion avoidance.
    EnterCongestionAvoidance,
}

impl HyStart {
    fn new(enabled: bool) -> Self {
        Self {
            phase: if enabled {
                HyStartPhase::SlowStart
            } else {
                HyStartPhase::Off
            },
            window_end: None,
            last_round_min_rtt: None,
            current_round_min_rtt: None,
            rtt_sample_count: 0,
            css_baseline_min_rtt: None,
            css_rounds: 0,
        }
    }

    /// Starts a new round if this ACK ended the current one (RFC 9406
    /// section 4.2: "at the start of each round").
    fn on_round_boundary(&mut self, snd_una: u64, snd_nxt: u64) -> RoundOutcome {
        let ended = match self.window_end {
            None => true,
            Some(end) => snd_una >= end,
        };
        if !ended {
            return RoundOutcome::Continue;
        }
        if self.window_end.is_some() && self.phase == HyStartPhase::Css {
            // "If the transition into CSS happens in the middle of a round,
            // that partial round counts towards the limit."
            self.css_rounds += 1;
            if self.css_rounds >= HYSTART_CSS_ROUNDS {
                self.phase = HyStartPhase::Off;
                return RoundOutcome::EnterCongestionAvoidance;
            }
        }
        self.last_round_min_rtt = self.current_round_min_rtt;
        self.current_round_min_rtt = None;
        self.rtt_sample_count = 0;
        self.window_end = Some(snd_nxt);
        RoundOutcome::Continue
    }

    /// Tracks one RTT sample and decides on slow start exit (to CSS) or a
    /// spurious exit (back from CSS).
    fn on_rtt_sample(&mut self, rtt: Duration) {
        let current = self.current_round_min_rtt.map_or(rtt, |min| min.min(rtt));
        self.current_round_min_rtt = Some(current);
        self.rtt_sample_count += 1;
        if self.rtt_sample_count < HYSTART_N_RTT_SAMPLE {
            return;
        }
        match self.phase {
            HyStartPhase::SlowStart => {
                let Some(last) = self.last_round_min_rtt else {
                    return;
                };
                let thresh = (last / HYSTART_MIN_RTT_DIVISOR)
                    .clamp(HYSTART_MIN_RTT_THRESH, HYSTART_MAX_RTT_THRESH);
                if current >= last + thresh {
                    self.css_baseline_min_rtt = Some(current);
                    self.css_rounds = 0;
                    self.phase = HyStartPhase::Css;
                }
            }
            HyStartPhase::Css => {
                if self
                    .css_baseline_min_rtt
                    .is_some_and(|baseline| current < baseline)
                {
                    self.css_baseline_min_rtt = None;
                    self.phase = HyStartPhase::SlowStart;
                }
            }
            HyStartPhase::Off => {}
        }
    }
}

/// One congestion avoidance stage of CUBIC (RFC 9438 section 4.2).
#[derive(Clone, Copy, Debug)]
struct CubicEpoch {
    /// When the stage began (its first ACK), shifted later by the time
    /// spent application-limited.
    start: Duration,
    /// K, in seconds.
    k: f64,
    /// The plateau of the curve, W_max, in segments.
    w_max: f64,
    /// W_est, the Reno-friendly estimate (RFC 9438 section 4.3), in
    /// segments.
    w_est: f64,
}

/// CUBIC as RFC 9438 specifies it, with HyStart++ (RFC 9406): selectable
/// as `cubic-rfc9438`; the default is [`LinuxCubic`].
///
/// Constants: C = 0.4, beta_cubic = 0.7, fast convergence on, the
/// Reno-friendly region on. Windows are kept in bytes outside and computed
/// in segments of the MSS given at construction.
///
/// Slow start: with HyStart++ running (the initial slow start only, RFC
/// 9406 section 4.2), each ACK grows cwnd by min(acked, 8 MSS), a quarter of
/// that in conservative slow start. Otherwise (HyStart++ disabled, or the
/// slow start after a timeout) each ACK grows cwnd by the bytes it acked,
/// as Linux's `tcp_slow_start` does, up to ssthresh; the rest goes to
/// congestion avoidance.
///
/// Congestion avoidance follows RFC 9438 sections 4.2 to 4.5 per ACK, with
/// the RTT in W_cubic(t + RTT) taken from srtt (min RTT, then the sample,
/// if srtt is unknown). Where it differs from Linux's `tcp_cubic.c`: Linux
/// runs the older HyStart (ACK trains and delay), not HyStart++; Linux uses
/// the minimum RTT in the target; and after a timeout Linux grows back
/// towards the old W_max, where RFC 9438 section 4.8, followed here,
/// starts the curve at the window (K = 0).
#[derive(Clone, Debug)]
pub struct CubicRfc9438 {
    mss: u64,
    /// cwnd in bytes; fractional so per-ACK growth is not lost to rounding.
    cwnd: f64,
    ssthresh: u64,
    hystart_enabled: bool,
    hystart: HyStart,
    /// W_max in segments: the window at the last congestion event, after
    /// fast convergence. `None` until the first event.
    w_max: Option<f64>,
    /// cwnd_prior in segments: the window just before the last reduction
    /// (or at HyStart++'s exit). `None` before either.
    cwnd_prior: Option<f64>,
    /// The current congestion avoidance stage; `None` until its first ACK.
    epoch: Option<CubicEpoch>,
    /// The next stage follows a timeout (RFC 9438 section 4.8) or a slow
    /// start exit without loss (section 4.10): K = 0 and W_max = cwnd.
    origin_at_cwnd: bool,
    /// When the previous ACK arrived, to measure application-limited time.
    last_ack: Option<Duration>,
}

impl CubicRfc9438 {
    /// The same controller starting from an initial window of `segments`.
    pub fn with_initial_window(mut self, segments: u32) -> Self {
        self.cwnd = (u64::from(segments.max(1)) * self.mss) as f64;
        self
    }

    #[cfg(test)]
    /// CUBIC with HyStart++, cwnd at the [`initial_window`].
    pub fn new(mss: u64) -> Self {
        Self::with_hystart(mss, true)
    }

    /// CUBIC with HyStart++ on or off; off means standard slow start (RFC
    /// 5681 section 3.1) until the first loss.
    pub fn with_hystart(mss: u64, enabled: bool) -> Self {
        assert!(mss > 0, "mss must be positive");
        Self {
            mss,
            cwnd: initial_window(mss) as f64,
            ssthresh: u64::MAX,
            hystart_enabled: enabled,
            hystart: HyStart::new(enabled),
            w_max: None,
            cwnd_prior: None,
            epoch: None,
            origin_at_cwnd: true,
            last_ack: None,
        }
    }

    #[cfg(test)]
    /// HyStart++'s phase: `"slow-start"` (standard slow start, watching the
    /// RTT), `"css"` (conservative slow start) or `"off"` (disabled, or the
    /// initial slow start is over).
    pub fn hystart_state(&self) -> &'static str {
        match self.hystart.phase {
            HyStartPhase::SlowStart => "slow-start",
            HyStartPhase::Css => "css",
            HyStartPhase::Off => "off",
        }
    }

    fn mss_f(&self) -> f64 {
        self.mss as f64
    }

    /// W_cubic(t) = C (t - K)^3 + W_max, in segments (RFC 9438 section
    /// 4.2, figure 1).
    fn w_cubic(epoch: &CubicEpoch, t: f64) -> f64 {
        CUBIC_C * (t - epoch.k).powi(3) + epoch.w_max
    }

    /// Reduces ssthresh and records W_max and cwnd_prior (RFC 9438
    /// sections 4.6 and 4.7). Common to fast recovery and timeouts.
    fn reduce(&mut self) {
        let cwnd_seg = self.cwnd / self.mss_f();
        self.cwnd_prior = Some(cwnd_seg);
        // Fast convergence (section 4.7): a window below the last W_max
        // means the path got busier; give up some more.
        self.w_max = Some(match self.w_max {
            Some(w_max) if cwnd_seg < w_max => cwnd_seg * (1.0 + CUBIC_BETA) / 2.0,
            _ => cwnd_seg,
        });
        // Section 4.6 allows cwnd in place of flight size when the window
        // cannot outgrow what is in flight, which app_limited ensures.
        let ssthresh = (self.cwnd * CUBIC_BETA) as u64;
        self.ssthresh = ssthresh.max(2 * self.mss);
        self.epoch = None;
        // RFC 9406 section 4.2: HyStart++ only runs in the initial slow
        // start.
        self.hystart.phase = HyStartPhase::Off;
    }

    /// Slow start growth for one ACK. Returns the acked bytes left over
    /// for congestion avoidance.
    fn slow_start(&mut self, ev: &AckEvent) -> u64 {
        let room = self.ssthresh as f64 - self.cwnd;
        match self.hystart.phase {
            HyStartPhase::Off => {
                // Standard slow start, Linux's tcp_slow_start: grow by the
                // bytes acked up to ssthresh; the rest is for congestion
                // avoidance.
                let acked = ev.acked as f64;
                if acked <= room {
                    self.cwnd += acked;
                    0
                } else {
                    self.cwnd = self.ssthresh as f64;
                    (acked - room) as u64
                }
            }
            HyStartPhase::SlowStart | HyStartPhase::Css => {
                if self.hystart.on_round_boundary(ev.snd_una, ev.snd_nxt)
                    == RoundOutcome::EnterCongestionAvoidance
                {
                    self.leave_slow_start_without_loss();
                    return ev.acked;
                }
                let mut growth = ev.acked.min(HYSTART_L * self.mss);
                if self.hystart.phase == HyStartPhase::Css {
                    growth /= HYSTART_CSS_GROWTH_DIVISOR;
                }
                self.cwnd = (self.cwnd + growth as f64).min(self.ssthresh as f64);
                if let Some(rtt) = ev.rtt_sample {
                    self.hystart.on_rtt_sample(rtt);
                }
                0
            }
        }
    }

    /// HyStart++ ended slow start without loss: ssthresh = cwnd (RFC 9406
    /// section 4.2), cwnd_prior = cwnd, and the first stage starts with
    /// K = 0 (RFC 9438 section 4.10).
    fn leave_slow_start_without_loss(&mut self) {
        self.ssthresh = self.cwnd();
        self.cwnd = self.ssthresh as f64;
        self.cwnd_prior = Some(self.cwnd / self.mss_f());
        self.origin_at_cwnd = true;
        self.epoch = None;
    }

    /// Starts a congestion avoidance stage at `now` (RFC 9438 section 4.2).
    fn start_epoch(&mut self, now: Duration) -> CubicEpoch {
        let cwnd_seg = self.cwnd / self.mss_f();
        let (w_max, k) = match self.w_max {
            Some(w_max) if !self.origin_at_cwnd && w_max > cwnd_seg => {
                (w_max, ((w_max - cwnd_seg) / CUBIC_C).cbrt())
            }
            // After a timeout or a slow start exit without loss (sections
            // 4.8 and 4.10), and, as Linux does, whenever the window is
            // already at or above W_max: the curve starts at the window.
            _ => (cwnd_seg, 0.0),
        };
        self.w_max = Some(w_max);
        self.origin_at_cwnd = false;
        let epoch = CubicEpoch {
            start: now,
            k,
            w_max,
            w_est: cwnd_seg,
        };
        self.epoch = Some(epoch);
        epoch
    }

    /// Congestion avoidance growth for `acked` bytes (RFC 9438 sections
    /// 4.2 to 4.5).
    fn congestion_avoidance(&mut self, ev: &AckEvent, acked: u64) {
        if acked == 0 {
            return;
        }
        let mss = self.mss_f();
        let mut epoch = match self.epoch {
            Some(epoch) => epoch,
            None => self.start_epoch(ev.now),
        };
        let cwnd_seg = self.cwnd / mss;
        let segments_acked = acked as f64 / mss;

        // Reno-friendly estimate (section 4.3); alpha becomes 1 once W_est
        // has reached the window before the last reduction.
        let alpha = match self.cwnd_prior {
            Some(prior) if epoch.w_est < prior => CUBIC_ALPHA,
            _ => 1.0,
        };
        epoch.w_est += alpha * segments_acked / cwnd_seg;

        let t = ev.now.saturating_sub(epoch.start).as_secs_f64();
        let rtt = ev
            .srtt
            .or(ev.min_rtt)
            .or(ev.rtt_sample)
            .unwrap_or(Duration::ZERO)
            .as_secs_f64();
        if Self::w_cubic(&epoch, t) < epoch.w_est {
            // Reno-friendly region (section 4.3): cwnd = W_est. Never
            // shrink: cwnd may be ahead of W_cubic(t) by up to an RTT.
            self.cwnd = self.cwnd.max(epoch.w_est * mss);
        } else {
            // Concave and convex regions (sections 4.4 and 4.5).
            let target = Self::w_cubic(&epoch, t + rtt).clamp(cwnd_seg, 1.5 * cwnd_seg);
            self.cwnd += (target - cwnd_seg) / cwnd_seg * segments_acked * mss;
        }
        self.epoch = Some(epoch);
    }
}

impl CongestionControl for CubicRfc9438 {
    #[cfg(test)]
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn name(&self) -> &'static str {
        "cubic-rfc9438"
    }

    fn variant(&self) -> &'static str {
        "RFC 9438 + HyStart++"
    }

    fn cwnd(&self) -> u64 {
        self.cwnd as u64
    }

    fn ssthresh(&self) -> u64 {
        self.ssthresh
    }

    fn on_ack(&mut self, ev: &AckEvent) {
        let last_ack = self.last_ack.replace(ev.now);
        if ev.app_limited {
            // RFC 9438 section 5.8: no growth while application-limited,
            // and that time does not count towards t: move the stage's
            // start later by the time since the previous ACK.
            if let (Some(epoch), Some(last)) = (self.epoch.as_mut(), last_ack) {
                epoch.start = (epoch.start + ev.now.saturating_sub(last)).min(ev.now);
            }
            return;
        }
        let acked = if self.in_slow_start() {
            self.slow_start(ev)
        } else {
            ev.acked
        };
        self.congestion_avoidance(ev, acked);
    }

    fn on_congestion_event(&mut self, _now: Duration, _in_flight: u64) {
        self.reduce();
        self.origin_at_cwnd = false;
    }

    fn on_recovery_end(&mut self, _now: Duration) {
        self.cwnd = self.ssthresh as f64;
        self.epoch = None;
    }

    fn on_rto(&mut self, _now: Duration, _in_flight: u64) {
        self.reduce();
        self.cwnd = self.mss_f();
        self.origin_at_cwnd = true;
    }

    fn set_cwnd(&mut self, cwnd: u64) {
        self.cwnd = cwnd.max(self.mss) as f64;
    }

    fn parameters(&self) -> Vec<Parameter> {
        [
            ("c", Value::Number(CUBIC_C)),
            ("beta", Value::Number(CUBIC_BETA)),
            ("fast_convergence", Value::Switch(true)),
            ("reno_friendly", Value::Switch(true)),
            ("hystart", Value::Switch(self.hystart_enabled)),
            ("hystart_l_segments", Value::Count(HYSTART_L)),
            (
                "hystart_css_growth_divisor",
                Value::Count(HYSTART_CSS_GROWTH_DIVISOR),
            ),
            (
                "hystart_css_rounds",
                Value::Count(u64::from(HYSTART_CSS_ROUNDS)),
            ),
            (
                "hystart_n_rtt_sample",
                Value::Count(u64::from(HYSTART_N_RTT_SAMPLE)),
            ),
            (
                "hystart_rtt_thresh_ms",
                Value::Range(
                    HYSTART_MIN_RTT_THRESH.as_millis() as u64,
                    HYSTART_MAX_RTT_THRESH.as_millis() as u64,
                ),
            ),
        ]
        .into_iter()
        .map(|(k, v)| Parameter::new(k, v))
        .collect()
    }
}

// ---------------------------------------------------------------------------
// NewReno

/// The most segments one ACK may grow NewReno's cwnd by in slow start:
/// appropriate byte counting with L = 2 (RFC 3465 section 2.2).
const NEWRENO_SLOW_START_L: u64 = 2;

/// NewReno (RFC 5681 with RFC 6582's recovery, which the connection runs).
///
/// Slow start: each ACK grows cwnd by min(acked, 2 MSS) (RFC 3465 section
/// 2.2, L = 2), up to ssthresh; bytes acked past ssthresh go to congestion
/// avoidance. Congestion avoidance: byte counting (RFC 5681 section 3.1,
/// RFC 3465 section 2.1): one MSS per cwnd of bytes acked, about one MSS
/// per RTT. Congestion events set ssthresh = max(flight / 2, 2 MSS)
/// (RFC 5681 section 3.1, equation 4).
#[derive(Clone, Debug)]
pub struct NewReno {
    mss: u64,
    cwnd: u64,
    ssthresh: u64,
    /// Bytes acked in congestion avoidance not yet turned into growth.
    bytes_acked: u64,
}

impl NewReno {
    /// The same controller starting from an initial window of `segments`.
    pub fn with_initial_window(mut self, segments: u32) -> Self {
        self.cwnd = u64::from(segments.max(1)) * self.mss;
        self
    }

    /// NewReno with cwnd at the [`initial_window`].
    pub fn new(mss: u64) -> Self {
        assert!(mss > 0, "mss must be positive");
        Self {
            mss,
            cwnd: initial_window(mss),
            ssthresh: u64::MAX,
            bytes_acked: 0,
        }
    }

    fn reduce(&mut self, in_flight: u64) {
        self.ssthresh = (in_flight / 2).max(2 * self.mss);
        self.bytes_acked = 0;
    }
}

impl CongestionControl for NewReno {
    #[cfg(test)]
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn name(&self) -> &'static str {
        "newreno"
    }

    fn variant(&self) -> &'static str {
        "RFC 5681 + RFC 6582"
    }

    fn cwnd(&self) -> u64 {
        self.cwnd
    }

    fn ssthresh(&self) -> u64 {
        self.ssthresh
    }

    fn on_ack(&mut self, ev: &AckEvent) {
        if ev.app_limited {
            return;
        }
        let mut acked = ev.acked;
        if self.cwnd < self.ssthresh {
            let room = self.ssthresh - self.cwnd;
            let growth = acked.min(NEWRENO_SLOW_START_L * self.mss);
            if growth <= room {
                self.cwnd += growth;
                return;
            }
            self.cwnd = self.ssthresh;
            acked -= room;
        }
        self.bytes_acked += acked;
        if self.bytes_acked >= self.cwnd {
            let steps = self.bytes_acked / self.cwnd;
            self.bytes_acked -= steps * self.cwnd;
            self.cwnd += steps * self.mss;
        }
    }

    fn on_congestion_event(&mut self, _now: Duration, in_flight: u64) {
        self.reduce(in_flight);
    }

    fn on_recovery_end(&mut self, _now: Duration) {
        self.cwnd = self.ssthresh;
        self.bytes_acked = 0;
    }

    fn on_rto(&mut self, _now: Duration, in_flight: u64) {
        self.reduce(in_flight);
        self.cwnd = self.mss;
    }

    fn set_cwnd(&mut self, cwnd: u64) {
        self.cwnd = cwnd.max(self.mss);
    }

    fn parameters(&self) -> Vec<Parameter> {
        vec![
            Parameter::new("slow_start_l_segments", Value::Count(NEWRENO_SLOW_START_L)),
            Parameter::new(
                "ssthresh_on_loss",
                Value::Text("max(flight/2, 2*mss)".to_owned()),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::rtt::RttEstimator;
    use std::collections::VecDeque;

    const MSS: u64 = 1000;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn segments(bytes: u64) -> f64 {
        bytes as f64 / MSS as f64
    }

    /// One lossless, ACK-clocked path: each segment is ACKed on its own,
    /// `rtt` after it was sent, and the sender sends whenever cwnd allows.
    struct Path {
        now: Duration,
        rtt: Duration,
        una: u64,
        nxt: u64,
        app_limited: bool,
        est: RttEstimator,
        /// (sent at, ACK arrives at, end offset) per segment in flight.
        flight: VecDeque<(Duration, Duration, u64)>,
    }

    impl Path {
        fn new(rtt: Duration) -> Self {
            Self {
                now: Duration::ZERO,
                rtt,
                una: 0,
                nxt: 0,
                app_limited: false,
                est: RttEstimator::new(),
                flight: VecDeque::new(),
            }
        }

        fn send_what_cwnd_allows(&mut self, cc: &mut dyn CongestionControl) {
            while self.nxt + MSS <= self.una + cc.cwnd() {
                let arrives = self
                    .flight
                    .back()
                    .map_or(self.now + self.rtt, |&(_, last, _)| {
                        last.max(self.now + self.rtt)
                    });
                cc.on_send(self.now, self.nxt - self.una, self.nxt + MSS);
                self.nxt += MSS;
                self.flight.push_back((self.now, arrives, self.nxt));
            }
        }

        fn ack_one(&mut self, cc: &mut dyn CongestionControl) {
            let (sent, arrives, end) = self.flight.pop_front().expect("data in flight");
            self.now = arrives;
            let acked = end - self.una;
            self.una = end;
            let rtt = arrives - sent;
            self.est.on_sample(rtt);
            cc.on_ack(&AckEvent {
                now: self.now,
                acked,
                segments: acked.div_ceil(MSS),
                rtt_sample: Some(rtt),
                newest_rtt: Some(rtt),
                srtt: self.est.srtt(),
                min_rtt: self.est.min_rtt(),
                snd_una: self.una,
                snd_nxt: self.nxt,
                app_limited: self.app_limited,
            });
            self.send_what_cwnd_allows(cc);
        }

        /// Sends what cwnd allows, then ACKs until all of it is ACKed.
        fn round(&mut self, cc: &mut dyn CongestionControl) {
            self.send_what_cwnd_allows(cc);
            let end = self.nxt;
            while self.una < end {
                self.ack_one(cc);
            }
        }
    }

    /// An ACK of `acked` bytes at `now` with a constant RTT, outside the
    /// ACK-clocked path.
    fn ack(now: Duration, acked: u64, rtt: Duration) -> AckEvent {
        AckEvent {
            now,
            acked,
            segments: acked.div_ceil(MSS),
            rtt_sample: Some(rtt),
            newest_rtt: Some(rtt),
            srtt: Some(rtt),
            min_rtt: Some(rtt),
            snd_una: 0,
            snd_nxt: 0,
            app_limited: false,
        }
    }

    /// CUBIC in congestion avoidance after a fast recovery from a window of
    /// `w_max` segments.
    fn cubic_after_recovery(w_max: u64) -> CubicRfc9438 {
        let mut cc = CubicRfc9438::with_hystart(MSS, false);
        cc.set_cwnd(w_max * MSS);
        cc.on_congestion_event(Duration::ZERO, w_max * MSS);
        cc.on_recovery_end(Duration::ZERO);
        cc
    }

    #[test]
    fn the_initial_window_is_ten_segments() {
        assert_eq!(initial_window(1448), 14_480);
        let cubic = CubicRfc9438::new(MSS);
        assert_eq!(cubic.cwnd(), 10 * MSS);
        assert_eq!(cubic.ssthresh(), u64::MAX);
        assert!(cubic.in_slow_start());
        assert_eq!(cubic.hystart_state(), "slow-start");
        assert_eq!(cubic.name(), "cubic-rfc9438");
        let reno = NewReno::new(MSS);
        assert_eq!(reno.cwnd(), 10 * MSS);
        assert_eq!(reno.ssthresh(), u64::MAX);
        assert_eq!(reno.name(), "newreno");
    }

    #[test]
    fn cubic_slow_start_doubles_per_round_at_constant_rtt() {
        let mut cc = CubicRfc9438::new(MSS);
        let mut path = Path::new(ms(100));
        for expected in [20, 40, 80, 160, 320] {
            path.round(&mut cc);
            assert_eq!(cc.cwnd(), expected * MSS);
            assert_eq!(cc.hystart_state(), "slow-start");
        }
        assert!(cc.in_slow_start());
    }

    #[test]
    fn newreno_slow_start_doubles_per_round() {
        let mut cc = NewReno::new(MSS);
        let mut path = Path::new(ms(50));
        for expected in [20, 40, 80, 160] {
            path.round(&mut cc);
            assert_eq!(cc.cwnd(), expected * MSS);
        }
    }

    #[test]
    fn hystart_limits_growth_per_ack_to_eight_segments() {
        let mut cc = CubicRfc9438::new(MSS);
        cc.on_ack(&ack(ms(100), 20 * MSS, ms(100)));
        assert_eq!(cc.cwnd(), 18 * MSS);

        let mut plain = CubicRfc9438::with_hystart(MSS, false);
        assert_eq!(plain.hystart_state(), "off");
        plain.on_ack(&ack(ms(100), 20 * MSS, ms(100)));
        assert_eq!(plain.cwnd(), 30 * MSS);

        // NewReno: L = 2.
        let mut reno = NewReno::new(MSS);
        reno.on_ack(&ack(ms(100), 20 * MSS, ms(100)));
        assert_eq!(reno.cwnd(), 12 * MSS);
    }

    #[test]
    fn hystart_goes_to_css_on_rtt_increase_then_to_congestion_avoidance() {
        let mut cc = CubicRfc9438::new(MSS);
        let mut path = Path::new(ms(100));
        for _ in 0..3 {
            path.round(&mut cc);
        }
        assert_eq!(cc.cwnd(), 80 * MSS);
        assert_eq!(cc.hystart_state(), "slow-start");

        // A queue builds: +20 ms, above the 12.5 ms threshold (100 ms / 8).
        // The first round at the new RTT still ACKs segments sent at the
        // old one; HyStart++'s rounds (snd_una/snd_nxt) lag the path's by
        // part of a round, so CSS starts within the second, and that
        // partial round counts as one of the five.
        path.rtt = ms(120);
        let mut transcript = Vec::new();
        for _ in 0..8 {
            path.round(&mut cc);
            transcript.push((cc.hystart_state(), cc.cwnd() / MSS));
        }
        assert_eq!(
            transcript,
            [
                ("slow-start", 160),
                ("css", 302),
                ("css", 378), // x1.25 per round: growth / 4
                ("css", 472),
                ("css", 590),
                ("css", 738),
                ("off", 894), // five CSS rounds done: ssthresh = cwnd
                ("off", 895), // congestion avoidance, K = 0
            ]
        );
        assert!(!cc.in_slow_start());
        assert_eq!(cc.ssthresh(), 894 * MSS);
    }

    #[test]
    fn hystart_returns_to_slow_start_when_the_rtt_falls_back() {
        let mut cc = CubicRfc9438::new(MSS);
        let mut path = Path::new(ms(100));
        for _ in 0..3 {
            path.round(&mut cc);
        }
        path.rtt = ms(120);
        path.round(&mut cc);
        path.round(&mut cc);
        assert_eq!(cc.hystart_state(), "css");

        // The increase was jitter: below the CSS baseline again.
        path.rtt = ms(100);
        let mut states = Vec::new();
        for _ in 0..3 {
            path.round(&mut cc);
            states.push(cc.hystart_state());
        }
        assert_eq!(states, ["css", "slow-start", "slow-start"]);
        assert!(cc.in_slow_start());
    }

    #[test]
    fn cubic_congestion_event_sets_ssthresh_to_seven_tenths_of_cwnd() {
        let mut cc = CubicRfc9438::new(MSS);
        let mut path = Path::new(ms(100));
        path.round(&mut cc);
        path.round(&mut cc);
        assert_eq!(cc.cwnd(), 40 * MSS);

        cc.on_congestion_event(path.now, 40 * MSS);
        assert_eq!(cc.ssthresh(), 28 * MSS);
        assert_eq!(cc.cwnd(), 40 * MSS, "PRR, not the controller, lowers cwnd");
        assert_eq!(cc.hystart_state(), "off");
        assert_eq!(cc.w_max, Some(40.0));

        cc.set_cwnd(30 * MSS);
        assert_eq!(cc.cwnd(), 30 * MSS);
        cc.on_recovery_end(path.now);
        assert_eq!(cc.cwnd(), 28 * MSS);
        assert!(!cc.in_slow_start());
    }

    #[test]
    fn newreno_congestion_event_sets_ssthresh_to_half_the_flight() {
        let mut cc = NewReno::new(MSS);
        cc.set_cwnd(50 * MSS);
        cc.on_congestion_event(Duration::ZERO, 36 * MSS);
        assert_eq!(cc.ssthresh(), 18 * MSS);
        assert_eq!(cc.cwnd(), 50 * MSS);
        cc.on_recovery_end(Duration::ZERO);
        assert_eq!(cc.cwnd(), 18 * MSS);

        // Never below two segments.
        cc.on_congestion_event(Duration::ZERO, MSS);
        assert_eq!(cc.ssthresh(), 2 * MSS);
    }

    #[test]
    fn cwnd_is_never_set_below_one_segment() {
        let mut cubic = CubicRfc9438::new(MSS);
        cubic.set_cwnd(0);
        assert_eq!(cubic.cwnd(), MSS);
        cubic.on_congestion_event(Duration::ZERO, MSS);
        assert_eq!(cubic.ssthresh(), 2 * MSS);
        let mut reno = NewReno::new(MSS);
        reno.set_cwnd(10);
        assert_eq!(reno.cwnd(), MSS);
    }

    /// Runs `cc` from `from` for `len`, one ACK per millisecond, each
    /// delivering a window per `rtt` (cwnd / rtt-in-ms bytes); calls
    /// `check` after every ACK.
    fn ack_every_ms(
        cc: &mut CubicRfc9438,
        rtt: Duration,
        (from, len): (Duration, Duration),
        app_limited: bool,
        mut check: impl FnMut(Duration, &CubicRfc9438),
    ) {
        let steps = len.as_millis() as u64;
        let acks_per_rtt = rtt.as_millis() as u64;
        for i in 1..=steps {
            let now = from + ms(i);
            let mut ev = ack(now, cc.cwnd() / acks_per_rtt, rtt);
            ev.app_limited = app_limited;
            cc.on_ack(&ev);
            check(now, cc);
        }
    }

    #[test]
    fn cubic_window_follows_the_rfc9438_curve() {
        let mut cc = cubic_after_recovery(100);
        assert_eq!(cc.cwnd(), 70 * MSS);
        assert_eq!(cc.ssthresh(), 70 * MSS);

        // K = cbrt(W_max (1 - beta) / C) = cbrt(75) s; the epoch starts
        // with the first ACK, at 1 ms.
        let k = (100.0_f64 * (1.0 - 0.7) / 0.4).cbrt();
        let w_cubic = |t: f64| 0.4 * (t - k).powi(3) + 100.0;
        // W_est gains alpha segments per RTT (10 RTTs a second), alpha =
        // 3 (1 - beta) / (1 + beta) until W_est reaches cwnd_prior (100
        // segments), 1 after.
        let alpha = 3.0 * (1.0 - 0.7) / (1.0 + 0.7);
        let w_est = |t: f64| {
            let reached = 30.0 / (alpha * 10.0);
            if t < reached {
                70.0 + alpha * 10.0 * t
            } else {
                100.0 + 10.0 * (t - reached)
            }
        };
        let epoch_start = ms(1);
        let checkpoints = [500, 1000, 2000, 3000, 5000, 6000, 7000, 8000, 9000, 9999];
        let mut seen = Vec::new();
        ack_every_ms(
            &mut cc,
            ms(100),
            (Duration::ZERO, ms(10_000)),
            false,
            |now, cc| {
                let t = (now - epoch_start).as_secs_f64();
                if checkpoints.contains(&(now - epoch_start).as_millis()) || (t - k).abs() < 0.0005
                {
                    seen.push((t, segments(cc.cwnd())));
                }
            },
        );
        assert_eq!(seen.len(), checkpoints.len() + 1);
        let (mut cubic_region, mut reno_region) = (0, 0);
        for &(t, cwnd) in &seen {
            let expected = w_cubic(t).max(w_est(t));
            assert!(
                (cwnd - expected).abs() <= 2.0,
                "t = {t:.3} s: cwnd {cwnd:.2} segments, W_cubic {:.2}, W_est {:.2}",
                w_cubic(t),
                w_est(t)
            );
            if w_cubic(t) > w_est(t) + 2.0 {
                cubic_region += 1;
            } else if w_est(t) > w_cubic(t) + 2.0 {
                reno_region += 1;
            }
        }
        // Concave up to K, Reno-friendly around 7 s, convex after.
        assert!(cubic_region >= 6 && reno_region >= 1, "{seen:?}");
        let at_k = seen.iter().find(|(t, _)| (t - k).abs() < 0.0005).unwrap();
        assert!((at_k.1 - 100.0).abs() <= 1.0, "cwnd at K: {}", at_k.1);
    }

    #[test]
    fn fast_convergence_lowers_w_max_when_the_window_falls_short() {
        let mut cc = cubic_after_recovery(100);
        assert_eq!(cc.w_max, Some(100.0));
        // Grow to 80 segments, still below W_max, and lose again.
        let mut now = Duration::ZERO;
        while cc.cwnd() < 80 * MSS {
            now += ms(1);
            cc.on_ack(&ack(now, cc.cwnd() / 100, ms(100)));
        }
        assert_eq!(cc.cwnd() / MSS, 80);
        let cwnd = segments(cc.cwnd());
        cc.on_congestion_event(now, cc.cwnd());
        let w_max = cc.w_max.unwrap();
        // cwnd() rounds the window down to whole bytes.
        assert!((w_max - cwnd * 0.85).abs() < 0.01, "W_max {w_max}");
        assert!((segments(cc.ssthresh()) - cwnd * 0.7).abs() < 0.01);

        // The new curve plateaus at the lowered W_max (about 68 segments)
        // at K = cbrt((W_max - 0.7 cwnd) / C). A 500 ms RTT keeps the
        // Reno-friendly estimate below it (56 + 0.53 * 2 * K < 60).
        cc.on_recovery_end(now);
        let k = ((w_max - cwnd * 0.7) / 0.4).cbrt();
        let mut at_k = None;
        ack_every_ms(&mut cc, ms(500), (now, ms(4000)), false, |t, cc| {
            if (t - now).as_millis() == (k * 1000.0).round() as u128 {
                at_k = Some(segments(cc.cwnd()));
            }
        });
        let at_k = at_k.unwrap();
        assert!(
            (at_k - w_max).abs() <= 1.0,
            "cwnd {at_k} at K, W_max {w_max}"
        );

        // A loss above W_max sets W_max to the window itself.
        cc.set_cwnd(90 * MSS);
        cc.on_congestion_event(now, 90 * MSS);
        assert_eq!(cc.w_max, Some(90.0));
    }

    #[test]
    fn cubic_rto_collapses_to_one_segment_then_restarts_at_k_zero() {
        let mut cc = CubicRfc9438::with_hystart(MSS, false);
        cc.set_cwnd(100 * MSS);
        cc.on_rto(Duration::ZERO, 100 * MSS);
        assert_eq!(cc.cwnd(), MSS);
        assert_eq!(cc.ssthresh(), 70 * MSS);
        assert!(cc.in_slow_start());

        let mut path = Path::new(ms(100));
        let mut windows = Vec::new();
        for _ in 0..8 {
            path.round(&mut cc);
            windows.push(cc.cwnd() / MSS);
        }
        // In congestion avoidance the curve starts flat (K = 0) and the
        // Reno-friendly estimate grows 0.53 segments per round until it
        // reaches the window before the timeout.
        assert_eq!(windows, [2, 4, 8, 16, 32, 64, 70, 70]);
        // RFC 9438 section 4.8: the first stage after a timeout starts its
        // curve at the window it starts with.
        let epoch = cc.epoch.unwrap();
        assert_eq!(epoch.k, 0.0);
        assert_eq!(epoch.w_max, 70.0);
    }

    #[test]
    fn newreno_rto_collapses_then_grows_one_segment_per_round() {
        let mut cc = NewReno::new(MSS);
        cc.set_cwnd(40 * MSS);
        cc.on_rto(Duration::ZERO, 40 * MSS);
        assert_eq!(cc.cwnd(), MSS);
        assert_eq!(cc.ssthresh(), 20 * MSS);

        let mut path = Path::new(ms(100));
        let mut windows = Vec::new();
        for _ in 0..12 {
            path.round(&mut cc);
            windows.push(cc.cwnd() / MSS);
        }
        assert_eq!(windows, [2, 4, 8, 16, 20, 21, 22, 23, 24, 25, 26, 27]);
    }

    #[test]
    fn newreno_congestion_avoidance_adds_one_segment_per_rtt() {
        let mut cc = NewReno::new(MSS);
        cc.on_congestion_event(Duration::ZERO, 40 * MSS);
        cc.on_recovery_end(Duration::ZERO);
        assert_eq!(cc.cwnd(), 20 * MSS);
        let mut path = Path::new(ms(100));
        for round in 1..=10 {
            path.round(&mut cc);
            assert_eq!(cc.cwnd(), (20 + round) * MSS);
        }
    }

    #[test]
    fn app_limited_acks_do_not_grow_cwnd() {
        let mut cubic = CubicRfc9438::new(MSS);
        let mut reno = NewReno::new(MSS);
        let mut path = Path::new(ms(100));
        path.app_limited = true;
        path.round(&mut cubic);
        assert_eq!(cubic.cwnd(), 10 * MSS);
        let mut path = Path::new(ms(100));
        path.app_limited = true;
        path.round(&mut reno);
        assert_eq!(reno.cwnd(), 10 * MSS);

        reno.on_congestion_event(Duration::ZERO, 20 * MSS);
        reno.on_recovery_end(Duration::ZERO);
        path.round(&mut reno);
        path.round(&mut reno);
        assert_eq!(reno.cwnd(), 10 * MSS);
    }

    #[test]
    fn cubic_time_spent_app_limited_does_not_advance_the_curve() {
        let k = (100.0_f64 * (1.0 - 0.7) / 0.4).cbrt();
        let w_cubic = |t: f64| 0.4 * (t - k).powi(3) + 100.0;

        let mut cc = cubic_after_recovery(100);
        let rtt = ms(100);
        ack_every_ms(&mut cc, rtt, (Duration::ZERO, ms(1000)), false, |_, _| {});
        let before = cc.cwnd();
        ack_every_ms(&mut cc, rtt, (ms(1000), ms(10_000)), true, |_, _| {});
        assert_eq!(cc.cwnd(), before);
        ack_every_ms(&mut cc, rtt, (ms(11_000), ms(1000)), false, |_, _| {});
        // Two seconds of the curve, not twelve.
        let cwnd = segments(cc.cwnd());
        let expected = w_cubic(2.0 - 0.001);
        assert!(
            (cwnd - expected).abs() <= 2.0,
            "cwnd {cwnd}, W_cubic(2 s) {expected:.2}"
        );
    }

    #[test]
    fn parameters_name_the_configuration() {
        let get = |params: Vec<Parameter>, key: &str| {
            params.into_iter().find(|p| p.key == key).map(|p| p.value)
        };
        let cubic = CubicRfc9438::new(MSS);
        assert_eq!(cubic.name(), "cubic-rfc9438");
        assert_eq!(get(cubic.parameters(), "beta"), Some(Value::Number(0.7)));
        assert_eq!(get(cubic.parameters(), "c"), Some(Value::Number(0.4)));
        assert_eq!(
            get(cubic.parameters(), "hystart"),
            Some(Value::Switch(true))
        );
        let off = CubicRfc9438::with_hystart(MSS, false).parameters();
        assert_eq!(get(off, "hystart"), Some(Value::Switch(false)));
        let reno = NewReno::new(MSS);
        assert_eq!(reno.name(), "newreno");
        assert_eq!(
            get(reno.parameters(), "slow_start_l_segments"),
            Some(Value::Count(2))
        );
    }

    // -----------------------------------------------------------------------
    // Linux's CUBIC. The numbers below are tcp_cubic.c's integer arithmetic
    // worked through by hand (the steps are in the comments).

    /// An ACK for the Linux controller: `segments` segments delivered, snd_una
    /// at `una` segments, snd_nxt at `nxt` segments, one RTT sample.
    fn linux_ack(now: Duration, segments: u64, una: u64, nxt: u64, rtt: Duration) -> AckEvent {
        AckEvent {
            now,
            acked: segments * MSS,
            segments,
            rtt_sample: Some(rtt),
            newest_rtt: Some(rtt),
            srtt: Some(rtt),
            min_rtt: Some(rtt),
            snd_una: una * MSS,
            snd_nxt: nxt * MSS,
            app_limited: false,
        }
    }

    /// Drives `cc` with one ACK per `rtt` for its whole window (a stretch
    /// ACK), from `start`: each runs `bictcp_update` once and
    /// `tcp_cong_avoid_ai` with acked = cwnd, which keeps the arithmetic
    /// checkable by hand. Returns cwnd in segments before and after each.
    fn stretch_acks(cc: &mut LinuxCubic, start: Duration, rtt: Duration, rounds: u32) -> Vec<u64> {
        let mut una = cc.snd_una / MSS;
        let mut windows = vec![cc.cwnd() / MSS];
        for k in 0..rounds {
            let w = cc.cwnd() / MSS;
            una += w;
            cc.on_ack(&linux_ack(start + rtt * k, w, una, una, rtt));
            windows.push(cc.cwnd() / MSS);
        }
        windows
    }

    /// Linux CUBIC without HyStart after a fast recovery from `w_max`
    /// segments.
    fn linux_after_recovery(w_max: u64) -> LinuxCubic {
        let mut cc = LinuxCubic::new(MSS, false);
        cc.set_cwnd(w_max * MSS);
        cc.on_congestion_event(Duration::ZERO, w_max * MSS);
        cc.on_recovery_end(Duration::ZERO);
        cc
    }

    #[test]
    fn linux_cubic_root_is_the_kernels_table_and_one_newton_step() {
        // Below 64 the table alone: (v[a] + 35) >> 6.
        assert_eq!(cubic_root(0), 0); // (0 + 35) >> 6
        assert_eq!(cubic_root(1), 1); // (54 + 35) >> 6 = 89 >> 6
        assert_eq!(cubic_root(8), 2); // (123 + 35) >> 6 = 158 >> 6
        assert_eq!(cubic_root(27), 3); // (190 + 35) >> 6 = 225 >> 6
                                       // 1000: fls 10, b = (840 >> 8) − 1 = 2, v[1000 >> 6 = 15] = 156,
                                       // x = (166 << 2) >> 6 = 10; Newton: 2·10 + 1000 / (10·9) = 31,
                                       // 31·341 >> 10 = 10.
        assert_eq!(cubic_root(1000), 10);
        // 10^6: fls 20, b = 5, v[10^6 >> 15 = 30] = 197, x = (207 << 5) >> 6
        // = 103; 2·103 + 10^6 / (103·102) = 206 + 95 = 301, 301·341 >> 10 =
        // 100.
        assert_eq!(cubic_root(1_000_000), 100);
        // K after a loss at 100 segments (W_max − cwnd = 30): a = cube_factor
        // × 30 = 2681735677 × 30 = 80452070310; fls 37, b = 11, v[a >> 33 =
        // 9] = 129, x = (139 << 11) >> 6 = 4448; 2·4448 + a / (4448·4447) =
        // 8896 + 4067 = 12963, 12963·341 >> 10 = 4316 (4.215 s in 1/1024 s;
        // the real cbrt(30 / 0.4) is 4.217 s).
        assert_eq!(CUBE_FACTOR, 2_681_735_677);
        assert_eq!(cubic_root(CUBE_FACTOR * 30), 4316);
        assert_eq!(BETA_SCALE, 15);
    }

    #[test]
    fn linux_loss_sets_ssthresh_to_717_1024_of_cwnd_and_recovery_ends_there() {
        let mut cc = LinuxCubic::new(MSS, true);
        assert_eq!(cc.name(), "cubic");
        assert_eq!(cc.cwnd(), 10 * MSS);
        assert_eq!(cc.ssthresh(), u64::MAX);
        cc.set_cwnd(100 * MSS);
        cc.snd_cwnd_cnt = 7;
        cc.on_congestion_event(Duration::ZERO, 100 * MSS);
        // 100 × 717 / 1024 = 71700 / 1024 = 70.02.
        assert_eq!(cc.ssthresh(), 70 * MSS);
        assert_eq!(cc.last_max_cwnd, 100);
        assert_eq!(cc.snd_cwnd_cnt, 0, "tcp_init_cwnd_reduction");
        assert_eq!(cc.cwnd(), 100 * MSS, "PRR, not the controller, lowers cwnd");
        // PRR's cwnd is whole segments, rounded up.
        cc.set_cwnd(50 * MSS + 1);
        assert_eq!(cc.cwnd(), 51 * MSS);
        cc.on_recovery_end(Duration::ZERO);
        assert_eq!(cc.cwnd(), 70 * MSS);
        assert!(!cc.in_slow_start());

        // A loss short of W_max: fast convergence, W_max = 80 × 1741 / 2048
        // = 68.007, ssthresh = 80 × 717 / 1024 = 56.02.
        cc.set_cwnd(80 * MSS);
        cc.on_congestion_event(Duration::ZERO, 80 * MSS);
        assert_eq!(cc.last_max_cwnd, 68);
        assert_eq!(cc.ssthresh(), 56 * MSS);
        // Never below 2 segments: 2 × 717 / 1024 = 1.
        cc.set_cwnd(2 * MSS);
        cc.on_congestion_event(Duration::ZERO, 2 * MSS);
        assert_eq!(cc.ssthresh(), 2 * MSS);
    }

    #[test]
    fn linux_concave_growth_per_rtt_follows_the_kernels_arithmetic() {
        // After a loss at 100 segments: cwnd 70, W_max 100, and at a steady
        // 100 ms RTT the first ACK at 10 s starts the epoch (K = 4316).
        let mut cc = linux_after_recovery(100);
        let windows = stretch_acks(&mut cc, ms(10_000), ms(100), 12);
        // t is the epoch time plus delay_min (100 jiffies), in 1/1024 s;
        // target = 100 − 410 (K − t)^3 >> 40; cnt = cwnd / (target − cwnd).
        // 1: t = 100·1024/1000 = 102, (K − t) = 4214, 410·4214³ >> 40 = 27,
        //    target 73, cnt = 70/3 = 23; 70 ACKed: 70/23 = 3, cnt_ 1 → 73.
        // 2: t = 204, 4112 → 25, target 75, cnt = 73/2 = 36; (1 + 73)/36 =
        //    2, cnt_ 2 → 75. The Reno estimate (70, +1 per 73·15/8 = 136
        //    ACKed) reaches 71.
        // 3: t = 307, 4009 → 24, target 76, cnt = 75; (2 + 75)/75 = 1 → 76.
        // 4: t = 409, 3907 → 22, target 78, cnt = 38; (2 + 76)/38 = 2 → 78.
        assert_eq!(
            windows,
            [70, 73, 75, 76, 78, 80, 82, 83, 85, 86, 87, 88, 90],
            "concave towards W_max = 100 at K = 4.2 s"
        );
        assert_eq!(cc.bic_k, 4316);
        assert_eq!(cc.bic_origin_point, 100);
        // The Reno estimate lags: 76 segments after 12 RTTs.
        assert_eq!(cc.tcp_cwnd, 76);
    }

    #[test]
    fn linux_reno_friendly_estimate_gains_8_15_segment_per_rtt() {
        // At a 10 ms RTT the cubic curve towards W_max = 100 is slower than
        // Reno, so cwnd follows the Reno estimate, which gains one segment
        // per cwnd × 15 / 8 ACKed segments: α = 8/15 ≈ 0.53 per RTT, for
        // good (RFC 9438 switches to α = 1 past the old window).
        let mut cc = linux_after_recovery(100);
        let windows = stretch_acks(&mut cc, ms(10_000), ms(10), 100);
        // 1: t = 10 (10 jiffies → 10 in 1/1024 s), K − t = 4306 → 29,
        //    target 71, cnt 70: 70 → 71.
        // 2: target 71 = cwnd, cnt = 100 × 71; the estimate: 70 + 141 ACKed
        //    > 133 (= 71·15 >> 3) → 71, no lead.
        // 3-5: same window within HZ/32 = 31 jiffies: cnt kept, 3 × 71 more
        //    credits (cnt_ 284).
        // 6: 40 jiffies later, the estimate has counted 292 ACKed: 73, 2
        //    ahead, so cnt = 71 / 2 = 35; the 284 credits give one segment
        //    ("applied gently"), then 71/35 two more: 74.
        assert_eq!(windows[..7], [70, 71, 71, 71, 71, 71, 74]);
        // 100 RTTs: 52 segments gained, 0.52 per RTT; the estimate is at
        // 121 (credits carried over have put cwnd one ahead).
        assert_eq!(windows[100], 122);
        assert_eq!(cc.tcp_cwnd, 121);

        // The RFC 9438 controller on the same ACKs: its α turns 1 once the
        // estimate passes the old window, and it ends far higher.
        let mut rfc = cubic_after_recovery(100);
        let mut una = 0;
        for k in 0..100 {
            let w = rfc.cwnd();
            una += w;
            let mut ev = ack(ms(10_000) + ms(10) * k, w, ms(10));
            ev.snd_una = una;
            rfc.on_ack(&ev);
        }
        assert!(rfc.cwnd() / MSS >= 140, "RFC 9438: {}", rfc.cwnd() / MSS);
    }

    #[test]
    fn linux_grows_5_percent_per_rtt_while_w_max_is_unknown() {
        // A timeout at 100 segments: ssthresh 70, cwnd 1, and the Loss state
        // resets CUBIC, W_max included.
        let mut cc = LinuxCubic::new(MSS, false);
        cc.set_cwnd(100 * MSS);
        cc.on_rto(ms(9_000), 100 * MSS);
        assert_eq!(cc.cwnd(), MSS);
        assert_eq!(cc.ssthresh(), 70 * MSS);
        assert_eq!(cc.last_max_cwnd, 0);
        let windows = stretch_acks(&mut cc, ms(10_000), ms(100), 12);
        // Slow start doubles to 64; the next ACK (64) fills it to 70 and
        // gives 58 to congestion avoidance: the curve (K = 0, origin 70)
        // is flat so early (410·102³ >> 40 = 0), cnt = 100 × 70, capped at
        // 20 while W_max is unknown: 58/20 = 2 → 72 (cnt_ 18); then (18 +
        // 72)/20 = 4 → 76 (cnt_ 10), (10 + 76)/20 = 4 → 80, ...
        assert_eq!(windows, [1, 2, 4, 8, 16, 32, 64, 72, 76, 80, 84, 88, 92]);
        assert_eq!(cc.cnt, 20);
    }

    #[test]
    fn linux_slow_start_hands_acks_past_ssthresh_to_congestion_avoidance() {
        let mut cc = LinuxCubic::new(MSS, false);
        cc.set_cwnd(68 * MSS);
        cc.snd_ssthresh = 70;
        cc.on_ack(&linux_ack(ms(1000), 5, 5, 73, ms(100)));
        // tcp_slow_start: min(68 + 5, 70) = 70, 3 left over, which
        // tcp_cong_avoid_ai counts towards cnt.
        assert_eq!(cc.cwnd(), 70 * MSS);
        assert_eq!(cc.snd_cwnd_cnt, 3);
        assert!(cc.epoch_start.is_some());
    }

    #[test]
    fn linux_only_cwnd_limited_acks_that_advance_snd_una_grow_cwnd() {
        let mut cc = LinuxCubic::new(MSS, false);
        let mut ev = linux_ack(ms(100), 2, 2, 10, ms(100));
        ev.app_limited = true;
        cc.on_ack(&ev);
        assert_eq!(cc.cwnd(), 10 * MSS, "not cwnd-limited");
        assert_eq!(cc.delay_min, 100_000, "the sample still counts");
        // A SACK that delivers but leaves snd_una where it was.
        cc.on_ack(&linux_ack(ms(101), 1, 2, 10, ms(90)));
        assert_eq!(cc.cwnd(), 10 * MSS, "no FLAG_DATA_ACKED");
        assert_eq!(cc.delay_min, 90_000);
        cc.on_ack(&linux_ack(ms(102), 3, 5, 10, ms(100)));
        assert_eq!(cc.cwnd(), 13 * MSS);
    }

    #[test]
    fn linux_rto_reduces_once_per_window_and_resets_cubic() {
        let mut cc = LinuxCubic::new(MSS, true);
        cc.set_cwnd(100 * MSS);
        cc.on_ack(&linux_ack(ms(100), 1, 1, 100, ms(50)));
        assert_eq!(cc.delay_min, 50_000);
        cc.on_rto(ms(500), 100 * MSS);
        assert_eq!(cc.cwnd(), MSS);
        assert_eq!(cc.ssthresh(), 70 * MSS);
        assert_eq!((cc.last_max_cwnd, cc.delay_min), (0, 0), "bictcp_reset");
        assert!(!cc.found);
        // The backed-off timer fires again with no ACK between: the window
        // was already reduced (icsk_retransmits > 0).
        cc.on_rto(ms(1000), MSS);
        assert_eq!(cc.ssthresh(), 70 * MSS);
        // Progress, then a new timeout: reduce from the window then.
        cc.on_ack(&linux_ack(ms(1100), 1, 2, 100, ms(50)));
        assert_eq!(cc.cwnd(), 2 * MSS);
        cc.on_rto(ms(1500), MSS);
        assert_eq!(cc.ssthresh(), 2 * MSS, "max(2 × 717 / 1024, 2)");

        // A timeout during fast recovery keeps the recovery's ssthresh.
        let mut cc = LinuxCubic::new(MSS, true);
        cc.set_cwnd(100 * MSS);
        cc.on_congestion_event(ms(100), 100 * MSS);
        cc.set_cwnd(40 * MSS);
        cc.on_rto(ms(600), 40 * MSS);
        assert_eq!(cc.ssthresh(), 70 * MSS);
        assert_eq!(cc.cwnd(), MSS);
    }

    #[test]
    fn linux_idle_time_does_not_advance_the_curve() {
        let mut cc = linux_after_recovery(100);
        cc.on_send(ms(9_990), 0, 70 * MSS);
        stretch_acks(&mut cc, ms(10_000), ms(100), 3);
        assert_eq!(cc.epoch_start, Some(10_000));
        // The last send at 10.3 s, then 2 s with nothing in flight: the
        // next send (CA_EVENT_TX_START) moves the epoch by the idle time.
        cc.on_send(ms(10_300), 10 * MSS, 500 * MSS);
        cc.on_send(ms(12_300), 0, 501 * MSS);
        assert_eq!(cc.epoch_start, Some(12_000));
        // Never past now.
        let mut cc = linux_after_recovery(100);
        cc.on_send(ms(9_000), 0, MSS);
        cc.on_ack(&linux_ack(ms(10_000), 70, 70, 70, ms(100)));
        cc.on_send(ms(10_500), 0, 71 * MSS);
        assert_eq!(cc.epoch_start, Some(10_500));
    }

    /// Runs HyStart on the lossless ACK-clocked path: three rounds at
    /// `base`, then the RTT steps to `raised`; returns the window and
    /// ssthresh (segments, `None` if infinite) after three more rounds.
    fn linux_hystart_exit(base: Duration, raised: Duration) -> (u64, Option<u64>) {
        let mut cc = LinuxCubic::new(MSS, true);
        let mut path = Path::new(base);
        for _ in 0..3 {
            path.round(&mut cc);
        }
        assert_eq!(cc.cwnd(), 80 * MSS);
        path.rtt = raised;
        for _ in 0..3 {
            path.round(&mut cc);
        }
        let ssthresh = (cc.ssthresh() != u64::MAX).then(|| cc.ssthresh() / MSS);
        (cc.cwnd() / MSS, ssthresh)
    }

    #[test]
    fn linux_hystart_delay_detector_fires_above_delay_min_plus_an_eighth() {
        // delay_min 100 ms: the threshold is 100 ms / 8 = 12.5 ms. Each
        // round's ACKs arrive together (no ACK train). The segments of the
        // round after the step were sent at the old RTT; the next round
        // (160 segments) sees the new one, and its 9th sample, with cwnd
        // 160 + 8, is the first the detector judges.
        assert_eq!(
            linux_hystart_exit(ms(100), Duration::from_micros(112_500)),
            (640, None),
            "12.5 ms more is not above the threshold"
        );
        // Past it: ssthresh = cwnd = 168, then congestion avoidance with no
        // W_max yet, one segment per 20 ACKed (cnt's cap): the round's other
        // 151 ACKs and the exit's give 152 / 20 = 7 (175, 12 credits), the
        // next round's 175 ACKs (12 + 175) / 20 = 9.
        assert_eq!(
            linux_hystart_exit(ms(100), Duration::from_micros(112_501)),
            (184, Some(168))
        );
        // delay_min / 8 is clamped to 4..16 ms: 20 ms / 8 = 2.5 → 4 ms;
        // 200 ms / 8 = 25 → 16 ms.
        assert_eq!(linux_hystart_exit(ms(20), ms(24)).1, None);
        assert_eq!(
            linux_hystart_exit(ms(20), Duration::from_micros(24_001)).1,
            Some(168)
        );
        assert_eq!(linux_hystart_exit(ms(200), ms(216)).1, None);
        assert_eq!(
            linux_hystart_exit(ms(200), Duration::from_micros(216_001)).1,
            Some(168)
        );
    }

    /// One HyStart round for the Linux controller: ACKs of one segment
    /// each, `spacing` apart from `start`, at a constant RTT `rtt`, from
    /// segment `first` until snd_una reaches `end`; the sender keeps the
    /// window full. Stops at HyStart's exit; returns the ACKs it took.
    fn linux_ack_train(
        cc: &mut LinuxCubic,
        (start, spacing): (Duration, Duration),
        (first, end): (u64, u64),
        rtt: Duration,
    ) -> u64 {
        for (i, una) in (first..=end).enumerate() {
            let nxt = una - 1 + cc.cwnd() / MSS;
            cc.on_ack(&linux_ack(start + spacing * i as u32, 1, una, nxt, rtt));
            if cc.found {
                return i as u64 + 1;
            }
        }
        end - first + 1
    }

    #[test]
    fn linux_hystart_ack_train_ends_slow_start_at_half_delay_min() {
        // delay_min 10 ms, ACKs 0.5 ms apart (a train: at most 2 ms). The
        // pacing rate, 200 % × 1000 B × cwnd / 10 ms, is far below what
        // would shrink hystart_ack_delay's 1 ms (4 × 64 KiB / rate), so the
        // train must outlast (10 ms + 1 ms) / 2 = 5.5 ms.
        let mut cc = LinuxCubic::new(MSS, true);
        // Round 1 (segments 1..10) at 3 ms spacing: below 16 segments
        // HyStart only keeps its rounds.
        linux_ack_train(&mut cc, (ms(10), ms(3)), (1, 10), ms(10));
        assert_eq!(cc.cwnd(), 20 * MSS);
        assert!(!cc.found);
        assert_eq!(cc.hystart_ack_delay(), 1000);
        // Round 2 starts with segment 11 at 100 ms; its 13th ACK comes 6 ms
        // after the first (5.5 ms is not yet past the threshold), with cwnd
        // 20 + 12.
        let acks = linux_ack_train(
            &mut cc,
            (ms(100), Duration::from_micros(500)),
            (11, 30),
            ms(10),
        );
        assert_eq!(acks, 13);
        assert_eq!(cc.ssthresh(), 32 * MSS);
        assert!(!cc.in_slow_start());

        // ACKs 2.5 ms apart are no train: slow start goes on.
        let mut cc = LinuxCubic::new(MSS, true);
        linux_ack_train(&mut cc, (ms(10), ms(3)), (1, 10), ms(10));
        linux_ack_train(
            &mut cc,
            (ms(100), Duration::from_micros(2500)),
            (11, 30),
            ms(10),
        );
        assert_eq!(cc.cwnd(), 40 * MSS);
        assert_eq!(cc.ssthresh(), u64::MAX);

        // Below 16 segments nothing fires: with delay_min 1 ms and ACKs
        // 0.25 ms apart the train passes its threshold, (1 + 1) / 2 = 1 ms,
        // at the round's 6th ACK (1.25 ms in) with cwnd 15, but the first
        // ACK judged is the 7th (1.5 ms in: still a train, as nothing
        // before it was judged), with cwnd 16.
        let mut cc = LinuxCubic::new(MSS, true);
        let acks = linux_ack_train(
            &mut cc,
            (ms(10), Duration::from_micros(250)),
            (1, 10),
            ms(1),
        );
        assert_eq!(acks, 7);
        assert_eq!(cc.ssthresh(), 16 * MSS);
        // And when the window reaches 16 more than 2 ms into the round,
        // the train is already broken: 0.5 ms apart, the 7th ACK comes 3 ms
        // after the round's first.
        let mut cc = LinuxCubic::new(MSS, true);
        let acks = linux_ack_train(
            &mut cc,
            (ms(10), Duration::from_micros(500)),
            (1, 10),
            ms(1),
        );
        assert_eq!(acks, 10);
        assert_eq!(cc.ssthresh(), u64::MAX);
    }

    #[test]
    fn linux_parameters_name_the_variant() {
        let get = |params: Vec<Parameter>, key: &str| {
            params.into_iter().find(|p| p.key == key).map(|p| p.value)
        };
        let cc = LinuxCubic::new(MSS, true);
        assert_eq!(
            cc.variant(),
            "Linux tcp_cubic.c 6.18: integer segments, β 717/1024, HyStart ACK-train + delay"
        );
        assert_eq!(
            get(cc.parameters(), "beta"),
            Some(Value::Text("717/1024".into()))
        );
        assert_eq!(get(cc.parameters(), "hystart"), Some(Value::Switch(true)));
        assert_eq!(
            get(cc.parameters(), "hystart_low_window"),
            Some(Value::Segments(16))
        );
        let off = LinuxCubic::new(MSS, false).parameters();
        assert_eq!(get(off, "hystart"), Some(Value::Switch(false)));
        assert_eq!(CubicRfc9438::new(MSS).variant(), "RFC 9438 + HyStart++");
    }
}
