//! Congestion control: CUBIC (RFC 9438) with HyStart++ (RFC 9406), and
//! NewReno (RFC 5681, RFC 6582).
//!
//! The connection owns one [`CongestionControl`] and tells it what happened;
//! the controller owns `cwnd` and `ssthresh`, in bytes. Call order:
//!
//! - [`CongestionControl::on_ack`] for each ACK that acknowledged new data
//!   outside loss recovery;
//! - [`CongestionControl::on_congestion_event`] when fast recovery starts,
//!   then [`CongestionControl::set_cwnd`] as PRR (RFC 6937) paces the
//!   reduction, then [`CongestionControl::on_recovery_end`] when recovery
//!   ends;
//! - [`CongestionControl::on_rto`] when the retransmission timer expires.
//!
//! Getters ([`CongestionControl::cwnd`], [`CongestionControl::ssthresh`],
//! [`CongestionControl::in_slow_start`]) may be called at any time.
//!
//! Time is the simulation's `now`, passed in; nothing here reads a clock.
//! CUBIC computes in `f64` segments, which is deterministic on one platform.
use std::fmt::Debug;
use std::time::Duration;

use crate::{Parameter, Value};

/// The initial window: 10 segments, Linux's `TCP_INIT_CWND` (RFC 6928
/// section 2 also caps it at 14600 bytes; Linux does not).
pub fn initial_window(mss: u64) -> u64 {
    10 * mss
}

/// What the connection tells the controller about one ACK that acknowledged
/// new data (cumulatively or by SACK), outside loss recovery.
#[derive(Clone, Copy, Debug)]
pub struct AckEvent {
    /// When the ACK arrived.
    pub now: Duration,
    /// Bytes newly delivered by this ACK (cumulative advance + newly
    /// SACKed).
    pub acked: u64,
    /// RTT sample this ACK produced, if any.
    pub rtt_sample: Option<Duration>,
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
    /// window) rather than by cwnd; then cwnd does not grow (RFC 7661's
    /// spirit, Linux's `tcp_is_cwnd_limited`).
    pub app_limited: bool,
}

/// A congestion controller: owns cwnd and ssthresh, in bytes.
///
/// See the module documentation for the order of calls.
pub trait CongestionControl: Debug + Send {
    /// The algorithm's name: `"cubic"` or `"newreno"`.
    fn name(&self) -> &'static str;

    /// The congestion window, in bytes.
    fn cwnd(&self) -> u64;

    /// The slow start threshold, in bytes; `u64::MAX` until the first
    /// congestion event (RFC 5681 section 3.1).
    fn ssthresh(&self) -> u64;

    /// Whether cwnd < ssthresh (RFC 5681 section 3.1). HyStart++'s
    /// conservative slow start counts as slow start.
    fn in_slow_start(&self) -> bool {
        self.cwnd() < self.ssthresh()
    }

    /// One ACK that acknowledged new data, outside loss recovery: grow
    /// cwnd (unless the ACK says the sender was application-limited).
    fn on_ack(&mut self, ev: &AckEvent);

    /// Loss detected and fast recovery starts at `now` with `in_flight`
    /// bytes outstanding: reduce ssthresh and record the controller's state
    /// for the next epoch. Leaves cwnd alone: during recovery the
    /// connection's PRR sets it through [`CongestionControl::set_cwnd`].
    /// Also ends HyStart++.
    fn on_congestion_event(&mut self, now: Duration, in_flight: u64);

    /// Fast recovery ended: cwnd = ssthresh (RFC 6937 section 3; RFC 6582
    /// section 3.2 step 6), and CUBIC starts a new epoch on its next ACK.
    fn on_recovery_end(&mut self, now: Duration);

    /// The retransmission timer expired: reduce ssthresh as in
    /// [`CongestionControl::on_congestion_event`] and set cwnd to one
    /// segment, the loss window of RFC 5681 section 3.1. Whether this is
    /// the first timeout of an episode is the connection's business: this
    /// always reduces.
    fn on_rto(&mut self, now: Duration, in_flight: u64);

    /// Sets cwnd directly (PRR during recovery). Never below one segment.
    fn set_cwnd(&mut self, cwnd: u64);

    /// The algorithm's own configuration (beyond its name, MSS and initial
    /// window, which the stack states), for reports.
    fn parameters(&self) -> Vec<Parameter>;
}

// ---------------------------------------------------------------------------
// CUBIC

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

/// CUBIC (RFC 9438) with HyStart++ (RFC 9406), as Linux's default.
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
pub struct Cubic {
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

impl Cubic {
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

impl CongestionControl for Cubic {
    fn name(&self) -> &'static str {
        "cubic"
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
    fn name(&self) -> &'static str {
        "newreno"
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

        fn send_what_cwnd_allows(&mut self, cc: &dyn CongestionControl) {
            while self.nxt + MSS <= self.una + cc.cwnd() {
                let arrives = self
                    .flight
                    .back()
                    .map_or(self.now + self.rtt, |&(_, last, _)| {
                        last.max(self.now + self.rtt)
                    });
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
                rtt_sample: Some(rtt),
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
            rtt_sample: Some(rtt),
            srtt: Some(rtt),
            min_rtt: Some(rtt),
            snd_una: 0,
            snd_nxt: 0,
            app_limited: false,
        }
    }

    /// CUBIC in congestion avoidance after a fast recovery from a window of
    /// `w_max` segments.
    fn cubic_after_recovery(w_max: u64) -> Cubic {
        let mut cc = Cubic::with_hystart(MSS, false);
        cc.set_cwnd(w_max * MSS);
        cc.on_congestion_event(Duration::ZERO, w_max * MSS);
        cc.on_recovery_end(Duration::ZERO);
        cc
    }

    #[test]
    fn the_initial_window_is_ten_segments() {
        assert_eq!(initial_window(1448), 14_480);
        let cubic = Cubic::new(MSS);
        assert_eq!(cubic.cwnd(), 10 * MSS);
        assert_eq!(cubic.ssthresh(), u64::MAX);
        assert!(cubic.in_slow_start());
        assert_eq!(cubic.hystart_state(), "slow-start");
        assert_eq!(cubic.name(), "cubic");
        let reno = NewReno::new(MSS);
        assert_eq!(reno.cwnd(), 10 * MSS);
        assert_eq!(reno.ssthresh(), u64::MAX);
        assert_eq!(reno.name(), "newreno");
    }

    #[test]
    fn cubic_slow_start_doubles_per_round_at_constant_rtt() {
        let mut cc = Cubic::new(MSS);
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
        let mut cc = Cubic::new(MSS);
        cc.on_ack(&ack(ms(100), 20 * MSS, ms(100)));
        assert_eq!(cc.cwnd(), 18 * MSS);

        let mut plain = Cubic::with_hystart(MSS, false);
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
        let mut cc = Cubic::new(MSS);
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
        let mut cc = Cubic::new(MSS);
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
        let mut cc = Cubic::new(MSS);
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
        let mut cubic = Cubic::new(MSS);
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
        cc: &mut Cubic,
        rtt: Duration,
        (from, len): (Duration, Duration),
        app_limited: bool,
        mut check: impl FnMut(Duration, &Cubic),
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
        let mut cc = Cubic::with_hystart(MSS, false);
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
        let mut cubic = Cubic::new(MSS);
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
        let cubic = Cubic::new(MSS);
        assert_eq!(cubic.name(), "cubic");
        assert_eq!(get(cubic.parameters(), "beta"), Some(Value::Number(0.7)));
        assert_eq!(get(cubic.parameters(), "c"), Some(Value::Number(0.4)));
        assert_eq!(
            get(cubic.parameters(), "hystart"),
            Some(Value::Switch(true))
        );
        let off = Cubic::with_hystart(MSS, false).parameters();
        assert_eq!(get(off, "hystart"), Some(Value::Switch(false)));
        let reno = NewReno::new(MSS);
        assert_eq!(reno.name(), "newreno");
        assert_eq!(
            get(reno.parameters(), "slow_start_l_segments"),
            Some(Value::Count(2))
        );
    }
}
