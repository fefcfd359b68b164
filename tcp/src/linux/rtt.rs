//! The round-trip time estimator and the retransmission timeout.
//!
//! [`RttEstimator`] keeps the smoothed RTT and its variance as RFC 6298
//! section 2 describes (alpha = 1/8, beta = 1/4), plus the latest sample and
//! the minimum over the connection's life. Its [`RttEstimator::rto`] follows
//! Linux rather than the RFC's 1 s floor: the variance term is floored at
//! [`MIN_RTO`] (Linux's `TCP_RTO_MIN`), so the RTO is never below
//! srtt + 200 ms, and the result is capped at [`MAX_RTO`].
//!
//! Call order: [`RttEstimator::on_sample`] for each valid RTT measurement
//! (RFC 6298 section 3: never from a retransmitted segment, which Karn's
//! algorithm leaves to the caller); [`RttEstimator::back_off`] when the
//! retransmission timer expires; [`RttEstimator::reset_backoff`] when new
//! data is acknowledged; [`RttEstimator::rto`] whenever the timer is armed.
//!
//! Nothing here reads a clock: samples are durations the caller measured in
//! simulated time.
use std::time::Duration;

/// The smallest variance term in the RTO, Linux's `TCP_RTO_MIN` (200 ms).
///
/// Linux floors `4 * rttvar` at this value rather than flooring the whole
/// RTO at 1 s as RFC 6298 section 2.4 suggests.
pub const MIN_RTO: Duration = Duration::from_millis(200);

/// The largest RTO, Linux's `TCP_RTO_MAX` (120 s); RFC 6298 section 2.5
/// allows a maximum of at least 60 s.
pub const MAX_RTO: Duration = Duration::from_secs(120);

/// The RTO before the first RTT sample: 1 s, as RFC 6298 section 2.1 and
/// Linux's `TCP_TIMEOUT_INIT`.
pub const INITIAL_RTO: Duration = Duration::from_secs(1);

/// Smoothed RTT, RTT variance, latest and minimum RTT, and the RTO backoff
/// of one connection.
///
/// Starts with no samples: [`RttEstimator::srtt`] is `None` and the RTO is
/// [`INITIAL_RTO`] (times the backoff).
#[derive(Clone, Debug, Default)]
pub struct RttEstimator {
    /// SRTT; `None` until the first sample.
    srtt: Option<Duration>,
    /// RTTVAR; zero until the first sample.
    rttvar: Duration,
    /// The most recent sample.
    latest: Option<Duration>,
    /// The smallest sample over the connection's life.
    min_rtt: Option<Duration>,
    /// How many times the RTO has been doubled since the last forward
    /// progress.
    backoff: u32,
}

impl RttEstimator {
    /// An estimator with no samples and no backoff.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one RTT measurement.
    ///
    /// The first sets SRTT = R and RTTVAR = R/2 (RFC 6298 section 2.2);
    /// later ones set RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R| and then
    /// SRTT = 7/8 SRTT + 1/8 R, in that order (RFC 6298 section 2.3).
    /// Also records the sample as the latest and updates the minimum RTT.
    /// Arithmetic is in whole nanoseconds, rounding down.
    pub fn on_sample(&mut self, rtt: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(srtt) => {
                self.rttvar = (self.rttvar * 3 + srtt.abs_diff(rtt)) / 4;
                self.srtt = Some((srtt * 7 + rtt) / 8);
            }
        }
        self.latest = Some(rtt);
        self.min_rtt = Some(self.min_rtt.map_or(rtt, |min| min.min(rtt)));
    }

    /// The smoothed RTT (SRTT), or `None` before the first sample.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    #[cfg(test)]
    /// The RTT variation (RTTVAR); zero before the first sample.
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }

    #[cfg(test)]
    /// The most recent sample, or `None` before the first.
    pub fn latest(&self) -> Option<Duration> {
        self.latest
    }

    /// The smallest sample over the connection's life, or `None` before
    /// the first.
    pub fn min_rtt(&self) -> Option<Duration> {
        self.min_rtt
    }

    /// The retransmission timeout, Linux-style.
    ///
    /// With samples: srtt + max(4 * rttvar, [`MIN_RTO`]) (RFC 6298 section
    /// 2.3 with Linux's floor on the variance term); before the first
    /// sample: [`INITIAL_RTO`] (RFC 6298 section 2.1). Either is doubled
    /// once per [`RttEstimator::back_off`] (RFC 6298 section 5.5) and the
    /// result capped at [`MAX_RTO`] (RFC 6298 section 2.5).
    pub fn rto(&self) -> Duration {
        let base = match self.srtt {
            None => INITIAL_RTO,
            Some(srtt) => srtt.saturating_add(self.rttvar.saturating_mul(4).max(MIN_RTO)),
        };
        let factor = 1u32.checked_shl(self.backoff).unwrap_or(u32::MAX);
        base.checked_mul(factor).unwrap_or(MAX_RTO).min(MAX_RTO)
    }

    /// The retransmission timer expired: the next RTO is twice this one
    /// (RFC 6298 section 5.5), up to [`MAX_RTO`].
    pub fn back_off(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// New data was acknowledged: forget the backoff, so the RTO is again
    /// computed from SRTT and RTTVAR alone.
    ///
    /// RFC 6298 keeps the backed-off RTO until an ACK for new data yields
    /// a sample (Karn's algorithm, section 5 with section 3); Linux drops
    /// the backoff as soon as an ACK makes forward progress, and this
    /// follows Linux. When to call it is the caller's choice.
    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }

    #[cfg(test)]
    /// How many times the RTO has been doubled since the last
    /// [`RttEstimator::reset_backoff`].
    pub fn backoff_count(&self) -> u32 {
        self.backoff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn before_any_sample_the_rto_is_one_second() {
        let est = RttEstimator::new();
        assert_eq!(est.srtt(), None);
        assert_eq!(est.latest(), None);
        assert_eq!(est.min_rtt(), None);
        assert_eq!(est.rttvar(), Duration::ZERO);
        assert_eq!(est.rto(), INITIAL_RTO);
        assert_eq!(est.rto(), ms(1000));
    }

    #[test]
    fn first_sample_sets_srtt_and_half_of_it_as_rttvar() {
        let mut est = RttEstimator::new();
        est.on_sample(ms(100));
        assert_eq!(est.srtt(), Some(ms(100)));
        assert_eq!(est.rttvar(), ms(50));
        assert_eq!(est.latest(), Some(ms(100)));
        // 100 + max(4 * 50, 200) = 300 ms.
        assert_eq!(est.rto(), ms(300));
    }

    #[test]
    fn later_samples_follow_rfc6298_exactly() {
        let mut est = RttEstimator::new();
        est.on_sample(ms(100));

        // rttvar = 3/4 * 50 + 1/4 * |100 - 200| = 62.5 ms
        // srtt   = 7/8 * 100 + 1/8 * 200       = 112.5 ms
        est.on_sample(ms(200));
        assert_eq!(est.rttvar(), us(62_500));
        assert_eq!(est.srtt(), Some(us(112_500)));
        // 112.5 + 4 * 62.5 = 362.5 ms, above the floor.
        assert_eq!(est.rto(), us(362_500));

        // rttvar = 3/4 * 62.5 + 1/4 * |112.5 - 80| = 55 ms
        // srtt   = 7/8 * 112.5 + 1/8 * 80        = 108.4375 ms
        est.on_sample(ms(80));
        assert_eq!(est.rttvar(), us(55_000));
        assert_eq!(est.srtt(), Some(Duration::from_nanos(108_437_500)));
        assert_eq!(est.latest(), Some(ms(80)));
        assert_eq!(est.rto(), Duration::from_nanos(108_437_500 + 220_000_000));
    }

    #[test]
    fn the_variance_term_is_floored_at_200ms() {
        let mut est = RttEstimator::new();
        for _ in 0..50 {
            est.on_sample(ms(50));
        }
        assert_eq!(est.srtt(), Some(ms(50)));
        assert!(est.rttvar() < ms(1), "rttvar {:?}", est.rttvar());
        assert_eq!(est.rto(), ms(250));
    }

    #[test]
    fn backoff_doubles_and_caps_at_120s() {
        let mut est = RttEstimator::new();
        est.on_sample(ms(100));
        assert_eq!(est.rto(), ms(300));
        est.back_off();
        assert_eq!(est.backoff_count(), 1);
        assert_eq!(est.rto(), ms(600));
        est.back_off();
        assert_eq!(est.rto(), ms(1200));
        for _ in 0..7 {
            est.back_off();
        }
        // 300 ms * 2^9 = 153.6 s, above the cap.
        assert_eq!(est.backoff_count(), 9);
        assert_eq!(est.rto(), MAX_RTO);
        for _ in 0..100 {
            est.back_off();
        }
        assert_eq!(est.rto(), MAX_RTO);

        est.reset_backoff();
        assert_eq!(est.backoff_count(), 0);
        assert_eq!(est.rto(), ms(300));
    }

    #[test]
    fn backoff_before_any_sample_doubles_the_initial_rto() {
        let mut est = RttEstimator::new();
        est.back_off();
        est.back_off();
        assert_eq!(est.rto(), ms(4000));
        for _ in 0..5 {
            est.back_off();
        }
        // 1 s * 2^7 = 128 s, capped.
        assert_eq!(est.rto(), MAX_RTO);
    }

    #[test]
    fn min_rtt_is_the_smallest_sample_ever() {
        let mut est = RttEstimator::new();
        est.on_sample(ms(80));
        est.on_sample(ms(40));
        est.on_sample(ms(120));
        assert_eq!(est.min_rtt(), Some(ms(40)));
        assert_eq!(est.latest(), Some(ms(120)));
    }
}
