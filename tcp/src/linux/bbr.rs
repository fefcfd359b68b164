//! TCP BBR v1 as mainline Linux's `net/ipv4/tcp_bbr.c` runs it (read in
//! Linux 6.17-rc3, the Kingxukai/linux mirror), with the windowed max filter
//! of `lib/win_minmax.c`.
//!
//! BBR replaces the connection's congestion response: it is a
//! `cong_control` controller ([`CongestionControl::has_cong_control`]), so
//! on every ACK that found data outstanding the sender hands it a
//! [`RateSample`] (Linux's `tcp_rate.c`) and BBR sets cwnd and the pacing
//! rate itself (`bbr_main`); PRR and the `ssthresh` reductions do not run.
//! It always paces (`SK_PACING_NEEDED`, Linux's internal pacing when no fq
//! qdisc paces).
//!
//! What it does, in Linux's order per ACK (`bbr_update_model`, then
//! `bbr_set_pacing_rate` and `bbr_set_cwnd`):
//! - **bandwidth**: a delivery-rate sample `delivered / interval` (in
//!   packets per µs << 24) enters a windowed max filter over 10 packet-timed
//!   rounds (`bbr_bw_rtts`), unless it is application-limited and below the
//!   current max; a round ends when a segment sent after the round's start
//!   is delivered (`next_rtt_delivered`);
//! - **ACK aggregation** (`bbr_update_ack_aggregation`): the most data ACKed
//!   beyond bw × elapsed in an epoch, over 5–10 rounds, added to the target
//!   cwnd once the pipe is full;
//! - **PROBE_BW gain cycling**: 5/4, 3/4, then six phases of 1, each at
//!   least min_rtt long, the 5/4 phase until inflight reaches 5/4 × BDP (or
//!   a loss), the 3/4 phase until it falls to the BDP; the cycle starts at a
//!   random phase other than 3/4 (`bbr_reset_probe_bw_mode`, from a seeded
//!   RNG where Linux uses `get_random_u32_below`);
//! - **STARTUP / DRAIN**: pacing and cwnd gain 2/ln 2 (2885/1000, plus one
//!   in BBR_UNIT) until the max bw grew by less than 25 % in 3 rounds that
//!   were not app-limited; then DRAIN paces at 1/high_gain until the packets
//!   in the network at the next departure fall to the BDP;
//! - **min_rtt / PROBE_RTT**: min_rtt is the lowest RTT sample in 10 s;
//!   when it expires BBR enters PROBE_RTT with cwnd 4 packets for max(200
//!   ms, one round) after inflight first fell to 4, then restores the saved
//!   cwnd and returns to PROBE_BW (or STARTUP if the pipe never filled);
//! - **long-term bw** (`bbr_lt_bw_sampling`): two consecutive intervals of
//!   4+ rounds with a loss rate of 20 % or more and a consistent rate mean
//!   a policer: BBR then paces at their average for 48 rounds;
//! - **cwnd**: target = bw × min_rtt × cwnd_gain (2 in PROBE_BW, rounded
//!   up), plus ACK aggregation, plus the quantization budget (3 ×
//!   `bbr_tso_segs_goal`, rounded up to even, + 2 in the 5/4 phase);
//!   cwnd grows towards it by the packets ACKed (and only down to it once
//!   the pipe is full), at least 4; in loss recovery the first round is
//!   packet conservation (cwnd = in flight + ACKed) and leaving recovery
//!   restores the cwnd saved when it began (`bbr_save_cwnd`);
//! - **pacing**: pacing_gain × bw × mss × 99 % (`bbr_pacing_margin_percent`),
//!   never lowered in STARTUP before the pipe filled; initially
//!   high_gain × initial cwnd / srtt (or / 1 ms without an RTT sample).
//!
//! Differences from Linux: `bbr_tso_segs_goal` is computed as Linux does
//! (it only adds to the quantization budget, as the lab sends one MSS per
//! segment); `sk_max_pacing_rate` and `snd_cwnd_clamp` are unlimited; the
//! jiffies clock is 1 ms (HZ=1000); undo of a spurious recovery
//! (`bbr_undo_cwnd`) never runs, as the stack never undoes.
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::cc::{AckEvent, CaState, CongestionControl, RateSample};
use crate::{Parameter, Value};

/// `BW_SCALE`: bandwidth is packets per µs << 24.
const BW_SCALE: u32 = 24;
/// `BW_UNIT`.
const BW_UNIT: u64 = 1 << BW_SCALE;
/// `BBR_SCALE`: gains are fractions of 256.
const BBR_SCALE: u32 = 8;
/// `BBR_UNIT`: a gain of 1.
const BBR_UNIT: u64 = 1 << BBR_SCALE;
/// `CYCLE_LEN`: phases of the PROBE_BW gain cycle.
const CYCLE_LEN: usize = 8;
/// `bbr_bw_rtts`: the max-bw filter's window, in rounds.
const BW_RTTS: u64 = CYCLE_LEN as u64 + 2;
/// `bbr_min_rtt_win_sec`, in jiffies (ms): the min_rtt filter's window.
const MIN_RTT_WIN_MS: u64 = 10_000;
/// `bbr_probe_rtt_mode_ms`: the least time at 4 packets in PROBE_RTT.
const PROBE_RTT_MODE_MS: u64 = 200;
/// `bbr_min_tso_rate`, bits per second: below it `bbr_min_tso_segs` is 1.
const MIN_TSO_RATE: u64 = 1_200_000;
/// `bbr_pacing_margin_percent`: pace 1 % below the estimated bandwidth.
const PACING_MARGIN_PERCENT: u64 = 1;
/// `bbr_high_gain` = 2/ln 2 in BBR_UNIT, rounded up: 739 (2.887).
const HIGH_GAIN: u64 = BBR_UNIT * 2885 / 1000 + 1;
/// `bbr_drain_gain` = 1/high_gain: 88 (0.344).
const DRAIN_GAIN: u64 = BBR_UNIT * 1000 / 2885;
/// `bbr_cwnd_gain`: 2.
const CWND_GAIN: u64 = BBR_UNIT * 2;
/// `bbr_pacing_gain`: the PROBE_BW cycle.
const PACING_GAIN: [u64; CYCLE_LEN] = [
    BBR_UNIT * 5 / 4,
    BBR_UNIT * 3 / 4,
    BBR_UNIT,
    BBR_UNIT,
    BBR_UNIT,
    BBR_UNIT,
    BBR_UNIT,
    BBR_UNIT,
];
/// `bbr_cycle_rand`: the cycle starts at one of this many phases.
const CYCLE_RAND: u32 = 7;
/// `bbr_cwnd_min_target`: 4 packets.
const CWND_MIN_TARGET: u64 = 4;
/// `bbr_full_bw_thresh`: growth of 25 % counts as growth.
const FULL_BW_THRESH: u64 = BBR_UNIT * 5 / 4;
/// `bbr_full_bw_cnt`: rounds without growth that fill the pipe.
const FULL_BW_CNT: u32 = 3;
/// `bbr_lt_intvl_min_rtts`: the shortest long-term sampling interval.
const LT_INTVL_MIN_RTTS: u32 = 4;
/// `bbr_lt_loss_thresh`: a loss rate of 50/256 (≈ 20 %) is lossy.
const LT_LOSS_THRESH: u64 = 50;
/// `bbr_lt_bw_ratio`: two intervals within 1/8 are consistent.
const LT_BW_RATIO: u64 = BBR_UNIT / 8;
/// `bbr_lt_bw_diff`, bytes per second: or within 4 kbit/s.
const LT_BW_DIFF: u64 = 4000 / 8;
/// `bbr_lt_bw_max_rtts`: rounds to use the policed rate.
const LT_BW_MAX_RTTS: u32 = 48;
/// `bbr_extra_acked_gain`: 1.
const EXTRA_ACKED_GAIN: u64 = BBR_UNIT;
/// `bbr_extra_acked_win_rtts`.
const EXTRA_ACKED_WIN_RTTS: u32 = 5;
/// `bbr_ack_epoch_acked_reset_thresh`.
const ACK_EPOCH_ACKED_RESET_THRESH: u64 = 1 << 20;
/// `bbr_extra_acked_max_us`.
const EXTRA_ACKED_MAX_US: u64 = 100_000;
/// `TCP_INIT_CWND`, which `bbr_bdp` and `bbr_set_cwnd` use whatever the
/// connection's initial window.
const TCP_INIT_CWND: u64 = 10;
/// `sk_pacing_shift`'s default (10): TSO bursts of about 1 ms.
const PACING_SHIFT: u32 = 10;
/// `GSO_LEGACY_MAX_SIZE − 1 − MAX_TCP_HEADER` in `bbr_tso_segs_goal`
/// (MAX_TCP_HEADER is 320 on x86-64).
const TSO_MAX_BYTES: u64 = 65_536 - 1 - 320;

/// BBR's modes (`enum bbr_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BbrMode {
    /// Ramp up quickly to fill the pipe.
    Startup,
    /// Drain the queue STARTUP built.
    Drain,
    /// Pace around the estimated bandwidth, cycling the gain.
    ProbeBw,
    /// Cut inflight to 4 packets to measure min_rtt again.
    ProbeRtt,
}

impl BbrMode {
    /// Linux's number for the mode (`BBR_STARTUP` = 0 ...).
    pub fn number(self) -> u64 {
        match self {
            BbrMode::Startup => 0,
            BbrMode::Drain => 1,
            BbrMode::ProbeBw => 2,
            BbrMode::ProbeRtt => 3,
        }
    }
}

/// `lib/win_minmax.c`'s windowed max: the best, second and third best
/// samples (time, value), spread over the window.
#[derive(Clone, Copy, Debug, Default)]
struct MinMax {
    s: [(u64, u64); 3],
}

impl MinMax {
    fn get(&self) -> u64 {
        self.s[0].1
    }

    fn reset(&mut self, t: u64, v: u64) -> u64 {
        self.s = [(t, v); 3];
        v
    }

    /// `minmax_running_max`.
    fn running_max(&mut self, win: u64, t: u64, v: u64) -> u64 {
        let val = (t, v);
        if v >= self.s[0].1 || t - self.s[2].0 > win {
            return self.reset(t, v);
        }
        if v >= self.s[1].1 {
            self.s[2] = val;
            self.s[1] = val;
        } else if v >= self.s[2].1 {
            self.s[2] = val;
        }
        self.subwin_update(win, val)
    }

    /// `minmax_subwin_update`.
    fn subwin_update(&mut self, win: u64, val: (u64, u64)) -> u64 {
        let dt = val.0 - self.s[0].0;
        if dt > win {
            self.s[0] = self.s[1];
            self.s[1] = self.s[2];
            self.s[2] = val;
            if val.0 - self.s[0].0 > win {
                self.s[0] = self.s[1];
                self.s[1] = self.s[2];
                self.s[2] = val;
            }
        } else if self.s[1].0 == self.s[0].0 && dt > win / 4 {
            self.s[2] = val;
            self.s[1] = val;
        } else if self.s[2].0 == self.s[1].0 && dt > win / 2 {
            self.s[2] = val;
        }
        self.s[0].1
    }
}

/// `now` in µs (`tcp_mstamp`).
fn micros(t: Duration) -> u64 {
    u64::try_from(t.as_micros()).unwrap_or(u64::MAX)
}

/// `now` in jiffies at HZ=1000 (`tcp_jiffies32`).
fn jiffies(t: Duration) -> u64 {
    u64::try_from(t.as_millis()).unwrap_or(u64::MAX)
}

/// TCP BBR v1 (`struct bbr`), cwnd in packets.
#[derive(Clone, Debug)]
pub struct Bbr {
    mss: u64,
    rng: ChaCha8Rng,
    /// `snd_cwnd`, packets.
    cwnd: u64,
    /// `snd_ssthresh`, packets (infinite until DRAIN sets it).
    ssthresh: u64,
    /// `sk_pacing_rate`, bytes per second (`None` before `bbr_init`).
    pacing_rate: Option<u64>,
    /// `min_rtt_us`; `None` is `~0U` (no sample yet).
    min_rtt_us: Option<u64>,
    min_rtt_stamp: u64,
    probe_rtt_done_stamp: Option<u64>,
    bw: MinMax,
    rtt_cnt: u64,
    next_rtt_delivered: u64,
    cycle_mstamp: Duration,
    mode: BbrMode,
    prev_ca_state: CaState,
    packet_conservation: bool,
    round_start: bool,
    idle_restart: bool,
    probe_rtt_round_done: bool,
    lt_is_sampling: bool,
    lt_rtt_cnt: u32,
    lt_use_bw: bool,
    lt_bw: u64,
    lt_last_delivered: u64,
    lt_last_stamp: u64,
    lt_last_lost: u64,
    pacing_gain: u64,
    cwnd_gain: u64,
    full_bw_reached: bool,
    full_bw_cnt: u32,
    cycle_idx: usize,
    has_seen_rtt: bool,
    prior_cwnd: u64,
    full_bw: u64,
    ack_epoch_mstamp: Duration,
    extra_acked: [u64; 2],
    ack_epoch_acked: u64,
    extra_acked_win_rtts: u32,
    extra_acked_win_idx: usize,
    /// Every mode change, with its time, for tests and reports.
    transitions: Vec<(Duration, BbrMode)>,
    /// `tp->delivered`, `tp->lost` and `tp->delivered_mstamp` at the last
    /// rate sample, for the RTO's long-term sampling.
    last_counters: (u64, u64, Duration),
}

impl Bbr {
    /// BBR for segments of `mss` bytes starting at `initial_window`
    /// segments; `seed` seeds the gain cycle's random start phase. It
    /// starts for real at [`CongestionControl::on_established`]
    /// (`bbr_init`, which Linux runs when the handshake completes).
    pub fn new(mss: u64, initial_window: u32, seed: u64) -> Bbr {
        assert!(mss > 0, "mss must be positive");
        Bbr {
            mss,
            rng: ChaCha8Rng::seed_from_u64(seed),
            cwnd: u64::from(initial_window.max(1)),
            ssthresh: u64::MAX,
            pacing_rate: None,
            min_rtt_us: None,
            min_rtt_stamp: 0,
            probe_rtt_done_stamp: None,
            bw: MinMax::default(),
            rtt_cnt: 0,
            next_rtt_delivered: 0,
            cycle_mstamp: Duration::ZERO,
            mode: BbrMode::Startup,
            prev_ca_state: CaState::Open,
            packet_conservation: false,
            round_start: false,
            idle_restart: false,
            probe_rtt_round_done: false,
            lt_is_sampling: false,
            lt_rtt_cnt: 0,
            lt_use_bw: false,
            lt_bw: 0,
            lt_last_delivered: 0,
            lt_last_stamp: 0,
            lt_last_lost: 0,
            pacing_gain: HIGH_GAIN,
            cwnd_gain: HIGH_GAIN,
            full_bw_reached: false,
            full_bw_cnt: 0,
            cycle_idx: 0,
            has_seen_rtt: false,
            prior_cwnd: 0,
            full_bw: 0,
            ack_epoch_mstamp: Duration::ZERO,
            extra_acked: [0; 2],
            ack_epoch_acked: 0,
            extra_acked_win_rtts: 0,
            extra_acked_win_idx: 0,
            transitions: vec![(Duration::ZERO, BbrMode::Startup)],
            last_counters: (0, 0, Duration::ZERO),
        }
    }

    /// The current mode.
    pub fn mode(&self) -> BbrMode {
        self.mode
    }

    /// The bandwidth estimate (`bbr_bw`), in bytes per second.
    pub fn btl_bw(&self) -> u64 {
        (self.bw() * self.mss * 1_000_000) >> BW_SCALE
    }

    /// The min_rtt estimate, if there is one.
    pub fn min_rtt(&self) -> Option<Duration> {
        self.min_rtt_us.map(Duration::from_micros)
    }

    /// Mode changes so far, with their times (STARTUP at zero first).
    pub fn transitions(&self) -> &[(Duration, BbrMode)] {
        &self.transitions
    }

    // ---- For a sender outside this stack (netsim's QUIC controller) ----
    //
    // The Linux-like TCP drives BBR through the crate's `CongestionControl`
    // trait. A sender of its own (QUIC, through quinn's controller trait)
    // drives it through these, in the same order as the TCP does:
    // `established` once, `send_after_idle` when data leaves with nothing
    // in flight, `rate_sample` on each ACK that found data outstanding,
    // `loss_episode` when a loss episode (fast recovery) starts, and
    // `persistent_congestion` where TCP would time out.

    /// The handshake completed at `now` with these RTT estimates
    /// (`bbr_init`).
    pub fn established(
        &mut self,
        now: Duration,
        srtt: Option<Duration>,
        min_rtt: Option<Duration>,
    ) {
        CongestionControl::on_established(self, now, srtt, min_rtt);
    }

    /// Data leaves at `now` with nothing in flight (`CA_EVENT_TX_START`);
    /// `app_limited` says whether the sender had been application-limited,
    /// `delivered_mstamp` is when its latest delivery happened.
    pub fn send_after_idle(
        &mut self,
        now: Duration,
        app_limited: bool,
        delivered_mstamp: Duration,
    ) {
        CongestionControl::on_tx_start(self, now, app_limited, delivered_mstamp);
    }

    /// One ACK's delivery-rate sample (`bbr_main`); returns whether the
    /// sender is to mark itself application-limited now (PROBE_RTT's
    /// request, `tcp_rate_check_app_limited`'s marker).
    pub fn rate_sample(&mut self, rs: &RateSample) -> bool {
        CongestionControl::cong_control(self, rs)
    }

    /// A loss episode (fast recovery) starts: remember cwnd to restore when
    /// it ends (`bbr_ssthresh` → `bbr_save_cwnd`). The next rate samples
    /// carry [`CaState::Recovery`] until it ends.
    pub fn loss_episode(&mut self) {
        self.save_cwnd();
    }

    /// Where TCP's retransmission timer would expire (`tcp_enter_loss`):
    /// cwnd falls to one segment and the long-term sampler sees a loss.
    pub fn persistent_congestion(&mut self, now: Duration) {
        CongestionControl::on_rto(self, now, 0);
    }

    /// The congestion window, in bytes.
    pub fn cwnd_bytes(&self) -> u64 {
        CongestionControl::cwnd(self)
    }

    /// The pacing rate BBR asks for, in bytes per second (`None` before
    /// [`Bbr::established`]).
    pub fn pacing_rate(&self) -> Option<u64> {
        self.pacing_rate
    }

    /// BBR's state by name (mode, bandwidth estimate in bit/s, min_rtt in
    /// µs, cycle phase, ...), as the TCP reports it in its counters.
    pub fn counters(&self) -> Vec<(&'static str, u64)> {
        CongestionControl::state(self)
    }

    /// BBR's constants, for a report.
    pub fn constants(&self) -> Vec<Parameter> {
        CongestionControl::parameters(self)
    }

    fn set_mode(&mut self, now: Duration, mode: BbrMode) {
        if mode != self.mode {
            self.transitions.push((now, mode));
        }
        self.mode = mode;
    }

    fn max_bw(&self) -> u64 {
        self.bw.get()
    }

    /// `bbr_bw`: the policed rate if one was detected, else the max filter.
    fn bw(&self) -> u64 {
        if self.lt_use_bw {
            self.lt_bw
        } else {
            self.max_bw()
        }
    }

    /// `bbr_rate_bytes_per_sec`: `rate` (packets/µs << 24) × mss × gain,
    /// less the 1 % pacing margin, in bytes per second.
    fn rate_bytes_per_sec(&self, rate: u64, gain: u64) -> u64 {
        let rate = (u128::from(rate) * u128::from(self.mss) * u128::from(gain)) >> BBR_SCALE;
        let rate = rate * u128::from(1_000_000 / 100 * (100 - PACING_MARGIN_PERCENT));
        u64::try_from(rate >> BW_SCALE).unwrap_or(u64::MAX)
    }

    /// `bbr_init_pacing_rate_from_rtt`: high_gain × cwnd / srtt (1 ms
    /// without a sample).
    fn init_pacing_rate_from_rtt(&mut self, srtt: Option<Duration>) {
        let rtt_us = match srtt {
            Some(srtt) => {
                self.has_seen_rtt = true;
                micros(srtt).max(1)
            }
            None => 1_000,
        };
        let bw = self.cwnd * BW_UNIT / rtt_us;
        self.pacing_rate = Some(self.rate_bytes_per_sec(bw, HIGH_GAIN));
    }

    /// `bbr_set_pacing_rate`.
    fn set_pacing_rate(&mut self, bw: u64, gain: u64, srtt: Option<Duration>) {
        let rate = self.rate_bytes_per_sec(bw, gain);
        if !self.has_seen_rtt && srtt.is_some() {
            self.init_pacing_rate_from_rtt(srtt);
        }
        if self.full_bw_reached || self.pacing_rate.is_none_or(|r| rate > r) {
            self.pacing_rate = Some(rate);
        }
    }

    /// `bbr_tso_segs_goal`, with `bbr_min_tso_segs`.
    fn tso_segs_goal(&self) -> u64 {
        let rate = self.pacing_rate.unwrap_or(u64::MAX);
        let min_segs = if rate < MIN_TSO_RATE / 8 { 1 } else { 2 };
        let bytes = (rate >> PACING_SHIFT).min(TSO_MAX_BYTES);
        (bytes / self.mss).max(min_segs).min(0x7f)
    }

    /// `bbr_save_cwnd`.
    fn save_cwnd(&mut self) {
        if self.prev_ca_state < CaState::Recovery && self.mode != BbrMode::ProbeRtt {
            self.prior_cwnd = self.cwnd;
        } else {
            self.prior_cwnd = self.prior_cwnd.max(self.cwnd);
        }
    }

    /// `bbr_bdp`: ceil(bw × min_rtt × gain), or `TCP_INIT_CWND` without an
    /// RTT sample.
    fn bdp(&self, bw: u64, gain: u64) -> u64 {
        let Some(min_rtt) = self.min_rtt_us else {
            return TCP_INIT_CWND;
        };
        let w = u128::from(bw) * u128::from(min_rtt);
        let bdp = ((w * u128::from(gain)) >> BBR_SCALE).div_ceil(u128::from(BW_UNIT));
        u64::try_from(bdp).unwrap_or(u64::MAX)
    }

    /// `bbr_quantization_budget`.
    fn quantization_budget(&self, cwnd: u64) -> u64 {
        let mut cwnd = cwnd + 3 * self.tso_segs_goal();
        cwnd = (cwnd + 1) & !1;
        if self.mode == BbrMode::ProbeBw && self.cycle_idx == 0 {
            cwnd += 2;
        }
        cwnd
    }

    /// `bbr_inflight`.
    fn inflight(&self, bw: u64, gain: u64) -> u64 {
        self.quantization_budget(self.bdp(bw, gain))
    }

    /// `bbr_packets_in_net_at_edt`.
    fn packets_in_net_at_edt(&self, rs: &RateSample, inflight_now: u64) -> u64 {
        let interval_us = micros(rs.edt.saturating_sub(rs.now));
        let interval_delivered = (self.bw() * interval_us) >> BW_SCALE;
        let mut inflight_at_edt = inflight_now;
        if self.pacing_gain > BBR_UNIT {
            inflight_at_edt += self.tso_segs_goal();
        }
        inflight_at_edt.saturating_sub(interval_delivered)
    }

    /// `bbr_ack_aggregation_cwnd`.
    fn ack_aggregation_cwnd(&self) -> u64 {
        if EXTRA_ACKED_GAIN == 0 || !self.full_bw_reached {
            return 0;
        }
        let max_aggr_cwnd = self.bw() * EXTRA_ACKED_MAX_US / BW_UNIT;
        let aggr_cwnd =
            (EXTRA_ACKED_GAIN * self.extra_acked[0].max(self.extra_acked[1])) >> BBR_SCALE;
        aggr_cwnd.min(max_aggr_cwnd)
    }

    /// `bbr_set_cwnd_to_recover_or_restore`: the cwnd to use and whether
    /// packet conservation applies.
    fn recover_or_restore(&mut self, rs: &RateSample, acked: u64) -> (u64, bool) {
        let (prev_state, state) = (self.prev_ca_state, rs.ca_state);
        let mut cwnd = self.cwnd;
        if rs.losses > 0 {
            cwnd = cwnd.saturating_sub(rs.losses).max(1);
        }
        if state == CaState::Recovery && prev_state != CaState::Recovery {
            self.packet_conservation = true;
            self.next_rtt_delivered = rs.tp_delivered;
            cwnd = rs.in_flight + acked;
        } else if prev_state >= CaState::Recovery && state < CaState::Recovery {
            cwnd = cwnd.max(self.prior_cwnd);
            self.packet_conservation = false;
        }
        self.prev_ca_state = state;
        if self.packet_conservation {
            return (cwnd.max(rs.in_flight + acked), true);
        }
        (cwnd, false)
    }

    /// `bbr_set_cwnd`.
    fn set_cwnd(&mut self, rs: &RateSample, acked: u64, bw: u64, gain: u64) {
        let mut cwnd = self.cwnd;
        if acked > 0 {
            let (c, conserving) = self.recover_or_restore(rs, acked);
            cwnd = c;
            if !conserving {
                let mut target = self.bdp(bw, gain);
                target += self.ack_aggregation_cwnd();
                target = self.quantization_budget(target);
                if self.full_bw_reached {
                    cwnd = (cwnd + acked).min(target);
                } else if cwnd < target || rs.tp_delivered < TCP_INIT_CWND {
                    cwnd += acked;
                }
                cwnd = cwnd.max(CWND_MIN_TARGET);
            }
        }
        self.cwnd = cwnd;
        if self.mode == BbrMode::ProbeRtt {
            self.cwnd = self.cwnd.min(CWND_MIN_TARGET);
        }
    }

    /// `bbr_is_next_cycle_phase`.
    fn is_next_cycle_phase(&self, rs: &RateSample) -> bool {
        let elapsed = micros(rs.delivered_mstamp.saturating_sub(self.cycle_mstamp));
        let is_full_length = self.min_rtt_us.is_some_and(|m| elapsed > m);
        if self.pacing_gain == BBR_UNIT {
            return is_full_length;
        }
        let inflight = self.packets_in_net_at_edt(rs, rs.prior_in_flight);
        let bw = self.max_bw();
        if self.pacing_gain > BBR_UNIT {
            return is_full_length
                && (rs.losses > 0 || inflight >= self.inflight(bw, self.pacing_gain));
        }
        is_full_length || inflight <= self.inflight(bw, BBR_UNIT)
    }

    /// `bbr_advance_cycle_phase`.
    fn advance_cycle_phase(&mut self, rs_delivered_mstamp: Duration) {
        self.cycle_idx = (self.cycle_idx + 1) & (CYCLE_LEN - 1);
        self.cycle_mstamp = rs_delivered_mstamp;
    }

    /// `bbr_reset_probe_bw_mode`: a random phase other than 3/4 next.
    fn reset_probe_bw_mode(&mut self, now: Duration, delivered_mstamp: Duration) {
        self.set_mode(now, BbrMode::ProbeBw);
        let r = self.rng.random_range(0..CYCLE_RAND) as usize;
        self.cycle_idx = CYCLE_LEN - 1 - r;
        self.advance_cycle_phase(delivered_mstamp);
    }

    /// `bbr_reset_mode`.
    fn reset_mode(&mut self, now: Duration, delivered_mstamp: Duration) {
        if self.full_bw_reached {
            self.reset_probe_bw_mode(now, delivered_mstamp);
        } else {
            self.set_mode(now, BbrMode::Startup);
        }
    }

    /// `bbr_reset_lt_bw_sampling_interval`.
    fn reset_lt_bw_sampling_interval(&mut self, tp_delivered: u64, tp_lost: u64, mstamp: Duration) {
        self.lt_last_stamp = micros(mstamp) / 1000;
        self.lt_last_delivered = tp_delivered;
        self.lt_last_lost = tp_lost;
        self.lt_rtt_cnt = 0;
    }

    /// `bbr_reset_lt_bw_sampling`.
    fn reset_lt_bw_sampling(&mut self, tp_delivered: u64, tp_lost: u64, mstamp: Duration) {
        self.lt_bw = 0;
        self.lt_use_bw = false;
        self.lt_is_sampling = false;
        self.reset_lt_bw_sampling_interval(tp_delivered, tp_lost, mstamp);
    }

    /// `bbr_lt_bw_interval_done`.
    fn lt_bw_interval_done(&mut self, bw: u64, rs: &RateSample) {
        if self.lt_bw > 0 {
            let diff = bw.abs_diff(self.lt_bw);
            if diff * BBR_UNIT <= LT_BW_RATIO * self.lt_bw
                || self.rate_bytes_per_sec(diff, BBR_UNIT) <= LT_BW_DIFF
            {
                self.lt_bw = (bw + self.lt_bw) >> 1;
                self.lt_use_bw = true;
                self.pacing_gain = BBR_UNIT;
                self.lt_rtt_cnt = 0;
                return;
            }
        }
        self.lt_bw = bw;
        self.reset_lt_bw_sampling_interval(rs.tp_delivered, rs.tp_lost, rs.delivered_mstamp);
    }

    /// `bbr_lt_bw_sampling`: detect a token-bucket policer.
    fn lt_bw_sampling(&mut self, rs: &RateSample) {
        if self.lt_use_bw {
            if self.mode == BbrMode::ProbeBw && self.round_start {
                self.lt_rtt_cnt += 1;
                if self.lt_rtt_cnt >= LT_BW_MAX_RTTS {
                    self.reset_lt_bw_sampling(rs.tp_delivered, rs.tp_lost, rs.delivered_mstamp);
                    self.reset_probe_bw_mode(rs.now, rs.delivered_mstamp);
                }
            }
            return;
        }
        if !self.lt_is_sampling {
            if rs.losses == 0 {
                return;
            }
            self.reset_lt_bw_sampling_interval(rs.tp_delivered, rs.tp_lost, rs.delivered_mstamp);
            self.lt_is_sampling = true;
        }
        if rs.is_app_limited {
            self.reset_lt_bw_sampling(rs.tp_delivered, rs.tp_lost, rs.delivered_mstamp);
            return;
        }
        if self.round_start {
            self.lt_rtt_cnt += 1;
        }
        if self.lt_rtt_cnt < LT_INTVL_MIN_RTTS {
            return;
        }
        if self.lt_rtt_cnt > 4 * LT_INTVL_MIN_RTTS {
            self.reset_lt_bw_sampling(rs.tp_delivered, rs.tp_lost, rs.delivered_mstamp);
            return;
        }
        if rs.losses == 0 {
            return;
        }
        let lost = rs.tp_lost - self.lt_last_lost;
        let delivered = rs.tp_delivered - self.lt_last_delivered;
        if delivered == 0 || (lost << BBR_SCALE) < LT_LOSS_THRESH * delivered {
            return;
        }
        let t = (micros(rs.delivered_mstamp) / 1000).saturating_sub(self.lt_last_stamp);
        if t < 1 {
            return;
        }
        let bw = delivered * BW_UNIT / (t * 1000);
        self.lt_bw_interval_done(bw, rs);
    }

    /// `bbr_update_bw`.
    fn update_bw(&mut self, rs: &RateSample) {
        self.round_start = false;
        let (Some(delivered), Some(interval)) = (rs.delivered, rs.interval) else {
            return;
        };
        let interval_us = micros(interval);
        if interval_us == 0 {
            return;
        }
        if rs.prior_delivered >= self.next_rtt_delivered {
            self.next_rtt_delivered = rs.tp_delivered;
            self.rtt_cnt += 1;
            self.round_start = true;
            self.packet_conservation = false;
        }
        self.lt_bw_sampling(rs);
        let bw = delivered * BW_UNIT / interval_us;
        if !rs.is_app_limited || bw >= self.max_bw() {
            self.bw.running_max(BW_RTTS, self.rtt_cnt, bw);
        }
    }

    /// `bbr_update_ack_aggregation`.
    fn update_ack_aggregation(&mut self, rs: &RateSample) {
        if EXTRA_ACKED_GAIN == 0
            || rs.acked_sacked == 0
            || rs.delivered.is_none()
            || rs.interval.is_none_or(|i| i.is_zero())
        {
            return;
        }
        if self.round_start {
            self.extra_acked_win_rtts = (self.extra_acked_win_rtts + 1).min(0x1f);
            if self.extra_acked_win_rtts >= EXTRA_ACKED_WIN_RTTS {
                self.extra_acked_win_rtts = 0;
                self.extra_acked_win_idx = 1 - self.extra_acked_win_idx;
                self.extra_acked[self.extra_acked_win_idx] = 0;
            }
        }
        let epoch_us = micros(rs.delivered_mstamp.saturating_sub(self.ack_epoch_mstamp));
        let mut expected_acked = self.bw() * epoch_us / BW_UNIT;
        if self.ack_epoch_acked <= expected_acked
            || self.ack_epoch_acked + rs.acked_sacked >= ACK_EPOCH_ACKED_RESET_THRESH
        {
            self.ack_epoch_acked = 0;
            self.ack_epoch_mstamp = rs.delivered_mstamp;
            expected_acked = 0;
        }
        self.ack_epoch_acked = (self.ack_epoch_acked + rs.acked_sacked).min(0xfffff);
        let extra_acked = (self.ack_epoch_acked - expected_acked).min(self.cwnd);
        let slot = &mut self.extra_acked[self.extra_acked_win_idx];
        if extra_acked > *slot {
            *slot = extra_acked;
        }
    }

    /// `bbr_update_cycle_phase`.
    fn update_cycle_phase(&mut self, rs: &RateSample) {
        if self.mode == BbrMode::ProbeBw && self.is_next_cycle_phase(rs) {
            self.advance_cycle_phase(rs.delivered_mstamp);
        }
    }

    /// `bbr_check_full_bw_reached`.
    fn check_full_bw_reached(&mut self, rs: &RateSample) {
        if self.full_bw_reached || !self.round_start || rs.is_app_limited {
            return;
        }
        let bw_thresh = (self.full_bw * FULL_BW_THRESH) >> BBR_SCALE;
        if self.max_bw() >= bw_thresh {
            self.full_bw = self.max_bw();
            self.full_bw_cnt = 0;
            return;
        }
        self.full_bw_cnt += 1;
        self.full_bw_reached = self.full_bw_cnt >= FULL_BW_CNT;
    }

    /// `bbr_check_drain`.
    fn check_drain(&mut self, rs: &RateSample) {
        if self.mode == BbrMode::Startup && self.full_bw_reached {
            self.set_mode(rs.now, BbrMode::Drain);
            self.ssthresh = self.inflight(self.max_bw(), BBR_UNIT);
        }
        if self.mode == BbrMode::Drain
            && self.packets_in_net_at_edt(rs, rs.in_flight)
                <= self.inflight(self.max_bw(), BBR_UNIT)
        {
            self.reset_probe_bw_mode(rs.now, rs.delivered_mstamp);
        }
    }

    /// `bbr_check_probe_rtt_done`.
    fn check_probe_rtt_done(&mut self, now: Duration, delivered_mstamp: Duration) {
        if self.probe_rtt_done_stamp.is_none_or(|t| jiffies(now) <= t) {
            return;
        }
        self.min_rtt_stamp = jiffies(now);
        self.cwnd = self.cwnd.max(self.prior_cwnd);
        self.reset_mode(now, delivered_mstamp);
    }

    /// `bbr_update_min_rtt`; returns whether the connection is to be marked
    /// application-limited (PROBE_RTT ignores its low-rate samples).
    fn update_min_rtt(&mut self, rs: &RateSample) -> bool {
        let now = jiffies(rs.now);
        let filter_expired = now > self.min_rtt_stamp + MIN_RTT_WIN_MS;
        if let Some(rtt) = rs.rtt.map(micros) {
            if self.min_rtt_us.is_none_or(|m| rtt < m) || (filter_expired && !rs.is_ack_delayed) {
                self.min_rtt_us = Some(rtt);
                self.min_rtt_stamp = now;
            }
        }
        if PROBE_RTT_MODE_MS > 0
            && filter_expired
            && !self.idle_restart
            && self.mode != BbrMode::ProbeRtt
        {
            self.set_mode(rs.now, BbrMode::ProbeRtt);
            self.save_cwnd();
            self.probe_rtt_done_stamp = None;
        }
        let mut mark_app_limited = false;
        if self.mode == BbrMode::ProbeRtt {
            mark_app_limited = true;
            if self.probe_rtt_done_stamp.is_none() && rs.in_flight <= CWND_MIN_TARGET {
                self.probe_rtt_done_stamp = Some(now + PROBE_RTT_MODE_MS);
                self.probe_rtt_round_done = false;
                self.next_rtt_delivered = rs.tp_delivered;
            } else if self.probe_rtt_done_stamp.is_some() {
                if self.round_start {
                    self.probe_rtt_round_done = true;
                }
                if self.probe_rtt_round_done {
                    self.check_probe_rtt_done(rs.now, rs.delivered_mstamp);
                }
            }
        }
        if rs.delivered.is_some_and(|d| d > 0) {
            self.idle_restart = false;
        }
        mark_app_limited
    }

    /// `bbr_update_gains`.
    fn update_gains(&mut self) {
        (self.pacing_gain, self.cwnd_gain) = match self.mode {
            BbrMode::Startup => (HIGH_GAIN, HIGH_GAIN),
            BbrMode::Drain => (DRAIN_GAIN, HIGH_GAIN),
            BbrMode::ProbeBw => (
                if self.lt_use_bw {
                    BBR_UNIT
                } else {
                    PACING_GAIN[self.cycle_idx]
                },
                CWND_GAIN,
            ),
            BbrMode::ProbeRtt => (BBR_UNIT, BBR_UNIT),
        };
    }
}

impl CongestionControl for Bbr {
    fn name(&self) -> &'static str {
        "bbr"
    }

    fn variant(&self) -> &'static str {
        "Linux tcp_bbr.c v1, paced"
    }

    fn cwnd(&self) -> u64 {
        self.cwnd * self.mss
    }

    fn ssthresh(&self) -> u64 {
        self.ssthresh.saturating_mul(self.mss)
    }

    fn on_ack(&mut self, _ev: &AckEvent) {
        // BBR acts on rate samples (`cong_control`), not on this hook.
    }

    fn on_congestion_event(&mut self, _now: Duration, _in_flight: u64) {
        // bbr_ssthresh: save cwnd for the end of recovery; ssthresh stays.
        self.save_cwnd();
    }

    fn on_recovery_end(&mut self, _now: Duration) {
        // tcp_end_cwnd_reduction returns early for a cong_control
        // controller; bbr_set_cwnd_to_recover_or_restore restores cwnd on
        // the next rate sample.
    }

    fn on_rto(&mut self, now: Duration, _in_flight: u64) {
        // tcp_enter_loss: bbr_ssthresh (once per loss episode), then cwnd =
        // packets in flight + 1 (everything unSACKed is marked lost, so 1),
        // then bbr_set_state(TCP_CA_Loss).
        if self.prev_ca_state != CaState::Loss {
            self.save_cwnd();
        }
        self.cwnd = 1;
        self.prev_ca_state = CaState::Loss;
        self.full_bw = 0;
        self.round_start = true;
        // bbr_lt_bw_sampling with a rate sample of one loss, reading the
        // connection's counters as of the last ACK.
        let (tp_delivered, tp_lost, delivered_mstamp) = self.last_counters;
        let rs = RateSample {
            losses: 1,
            tp_delivered,
            tp_lost,
            delivered_mstamp,
            ..RateSample::empty(now)
        };
        self.lt_bw_sampling(&rs);
    }

    fn set_cwnd(&mut self, cwnd: u64) {
        self.cwnd = (cwnd / self.mss).max(1);
    }

    fn own_pacing_rate(&self) -> Option<u64> {
        self.pacing_rate
    }

    fn has_cong_control(&self) -> bool {
        true
    }

    fn on_established(&mut self, now: Duration, srtt: Option<Duration>, min_rtt: Option<Duration>) {
        // bbr_init.
        self.prior_cwnd = 0;
        self.ssthresh = u64::MAX;
        self.rtt_cnt = 0;
        self.next_rtt_delivered = 0;
        self.prev_ca_state = CaState::Open;
        self.packet_conservation = false;
        self.probe_rtt_done_stamp = None;
        self.probe_rtt_round_done = false;
        self.min_rtt_us = min_rtt.map(micros);
        self.min_rtt_stamp = jiffies(now);
        self.bw.reset(0, 0);
        self.has_seen_rtt = false;
        self.init_pacing_rate_from_rtt(srtt);
        self.round_start = false;
        self.idle_restart = false;
        self.full_bw_reached = false;
        self.full_bw = 0;
        self.full_bw_cnt = 0;
        self.cycle_mstamp = Duration::ZERO;
        self.cycle_idx = 0;
        self.reset_lt_bw_sampling(0, 0, Duration::ZERO);
        self.mode = BbrMode::Startup;
        self.ack_epoch_mstamp = now;
        self.ack_epoch_acked = 0;
        self.extra_acked_win_rtts = 0;
        self.extra_acked_win_idx = 0;
        self.extra_acked = [0; 2];
    }

    fn on_tx_start(&mut self, now: Duration, app_limited: bool, delivered_mstamp: Duration) {
        // bbr_cwnd_event(CA_EVENT_TX_START).
        if !app_limited {
            return;
        }
        self.idle_restart = true;
        self.ack_epoch_mstamp = now;
        self.ack_epoch_acked = 0;
        match self.mode {
            BbrMode::ProbeBw => self.set_pacing_rate(self.bw(), BBR_UNIT, None),
            BbrMode::ProbeRtt => self.check_probe_rtt_done(now, delivered_mstamp),
            _ => {}
        }
    }

    fn cong_control(&mut self, rs: &RateSample) -> bool {
        // bbr_main: bbr_update_model, then pacing rate and cwnd.
        self.last_counters = (rs.tp_delivered, rs.tp_lost, rs.delivered_mstamp);
        self.update_bw(rs);
        self.update_ack_aggregation(rs);
        self.update_cycle_phase(rs);
        self.check_full_bw_reached(rs);
        self.check_drain(rs);
        let mark_app_limited = self.update_min_rtt(rs);
        self.update_gains();
        let bw = self.bw();
        self.set_pacing_rate(bw, self.pacing_gain, rs.srtt);
        self.set_cwnd(rs, rs.acked_sacked, bw, self.cwnd_gain);
        mark_app_limited
    }

    fn state(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("bbr.mode", self.mode.number()),
            ("bbr.btl_bw_bps", self.btl_bw().saturating_mul(8)),
            ("bbr.min_rtt_us", self.min_rtt_us.unwrap_or(0)),
            ("bbr.cycle_idx", self.cycle_idx as u64),
            ("bbr.full_bw_reached", u64::from(self.full_bw_reached)),
            ("bbr.lt_use_bw", u64::from(self.lt_use_bw)),
            (
                "bbr.probe_rtt_entries",
                self.transitions
                    .iter()
                    .filter(|(_, m)| *m == BbrMode::ProbeRtt)
                    .count() as u64,
            ),
        ]
    }

    fn parameters(&self) -> Vec<Parameter> {
        vec![
            Parameter::new("high_gain", Value::Text("2885/1000 (+1/256)".to_owned())),
            Parameter::new("cwnd_gain", Value::Number(2.0)),
            Parameter::new("bw_filter_rounds", Value::Count(BW_RTTS)),
            Parameter::new(
                "min_rtt_window",
                Value::Duration(Duration::from_millis(MIN_RTT_WIN_MS)),
            ),
            Parameter::new(
                "probe_rtt_time",
                Value::Duration(Duration::from_millis(PROBE_RTT_MODE_MS)),
            ),
            Parameter::new("pacing_margin_percent", Value::Count(PACING_MARGIN_PERCENT)),
        ]
    }

    #[cfg(test)]
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
