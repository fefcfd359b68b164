//! The statistics of the tables: quantiles, the mean, and percentile
//! bootstrap confidence intervals of the mean, of a difference of means
//! (in the unit of the values, and in percent of the baseline's mean),
//! and of a ratio of medians (the calibration's kernel/sim); and the
//! difference of two samples paired by seed ([`paired_difference`]).
//!
//! - Quantiles use linear interpolation between order statistics (Hyndman
//!   and Fan's type 7, the default of R and NumPy): for sorted values
//!   `x[0..n]` and probability `p`, `h = (n - 1) p`, and the quantile is
//!   `x[⌊h⌋] + (h - ⌊h⌋) (x[⌊h⌋ + 1] - x[⌊h⌋])`.
//! - Bootstrap: [`BOOTSTRAP_RESAMPLES`] resamples with replacement, each
//!   the size of the sample; the interval is the 2.5 % and 97.5 % type-7
//!   quantiles of the resampled statistic (the percentile method). Every
//!   call starts a fresh ChaCha8 generator from [`BOOTSTRAP_SEED`], so an
//!   interval depends only on its input and reports are byte-identical.
//!   The draws therefore depend only on the sample sizes: each thread
//!   draws those of a set of sizes once and keeps them (`Draws`), which
//!   more than halves the time a report of many points takes.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Resamples per bootstrap interval.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;
/// The seed of every bootstrap's generator.
pub const BOOTSTRAP_SEED: u64 = 0x6874_7470_6c61_6235;
/// The confidence level of the intervals.
pub const CONFIDENCE: f64 = 0.95;

/// The type-7 quantile at `p` (0 to 1) of `values`, which need not be
/// sorted; `None` when empty.
pub fn quantile(values: &[f64], p: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    quantile_sorted(&sorted, p)
}

/// The type-7 quantile at `p` of already sorted `sorted`.
fn quantile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(last);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// The median (the type-7 quantile at 0.5).
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// The 10th percentile.
pub fn p10(values: &[f64]) -> Option<f64> {
    quantile(values, 0.1)
}

/// The 90th percentile.
pub fn p90(values: &[f64]) -> Option<f64> {
    quantile(values, 0.9)
}

/// The arithmetic mean; `None` when empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

/// A confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// Draws kept per thread before the store is emptied: 8 M indices, 32 MB.
const DRAWS_KEPT: usize = 8 << 20;

/// [`Draws::of`]'s store: the draws of each set of sample sizes, and how
/// many indices it holds in all.
#[derive(Default)]
struct Kept {
    by_sizes: BTreeMap<Vec<usize>, Rc<[u32]>>,
    len: usize,
}

thread_local! {
    static KEPT: RefCell<Kept> = RefCell::default();
}

/// The indices a bootstrap over samples of some sizes draws: for each of
/// [`BOOTSTRAP_RESAMPLES`] replicates, one resample of each sample in
/// turn, `n` indices in `0..n` for a sample of `n`, all from one ChaCha8
/// generator started from [`BOOTSTRAP_SEED`]. They depend on nothing
/// else, so each thread draws them once per set of sizes and keeps them
/// (up to [`DRAWS_KEPT`] indices in all; past that it starts over).
struct Draws {
    drawn: Rc<[u32]>,
    sizes: Vec<usize>,
    per_replicate: usize,
}

impl Draws {
    /// The draws of a bootstrap over `samples`.
    fn of(samples: &[&[f64]]) -> Draws {
        let sizes: Vec<usize> = samples.iter().map(|s| s.len()).collect();
        let per_replicate = sizes.iter().sum();
        let kept = KEPT.with(|k| k.borrow().by_sizes.get(&sizes).cloned());
        let drawn = kept.unwrap_or_else(|| {
            let mut rng = ChaCha8Rng::seed_from_u64(BOOTSTRAP_SEED);
            let mut drawn = Vec::with_capacity(BOOTSTRAP_RESAMPLES * per_replicate);
            for _ in 0..BOOTSTRAP_RESAMPLES {
                for &n in &sizes {
                    let n = n as u64;
                    // A sample has fewer than 2^32 values.
                    drawn.extend((0..n).map(|_| rng.random_range(0..n) as u32));
                }
            }
            let drawn: Rc<[u32]> = drawn.into();
            KEPT.with(|k| {
                let k = &mut *k.borrow_mut();
                if k.len + drawn.len() > DRAWS_KEPT {
                    *k = Kept::default();
                }
                // Draws larger than the whole store are not kept.
                if drawn.len() <= DRAWS_KEPT {
                    k.len += drawn.len();
                    k.by_sizes.insert(sizes.clone(), drawn.clone());
                }
            });
            drawn
        });
        Draws {
            drawn,
            sizes,
            per_replicate,
        }
    }

    /// Replicate `r`'s indices into sample `i`.
    fn indices(&self, r: usize, i: usize) -> &[u32] {
        let at = r * self.per_replicate + self.sizes[..i].iter().sum::<usize>();
        &self.drawn[at..at + self.sizes[i]]
    }
}

/// The mean of the resample of `values` at `indices`, summed in draw
/// order.
fn resampled_mean(values: &[f64], indices: &[u32]) -> f64 {
    let sum: f64 = indices.iter().map(|&i| values[i as usize]).sum();
    sum / values.len() as f64
}

/// The bounds of the central [`CONFIDENCE`] share of `stats`.
fn percentile_interval(mut stats: Vec<f64>) -> Option<Interval> {
    stats.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    Some(Interval {
        low: quantile_sorted(&stats, tail)?,
        high: quantile_sorted(&stats, 1.0 - tail)?,
    })
}

/// The 95 % percentile-bootstrap interval of the mean of `values`;
/// `None` when empty.
pub fn bootstrap_mean_ci(values: &[f64]) -> Option<Interval> {
    if values.is_empty() {
        return None;
    }
    let draws = Draws::of(&[values]);
    let means = (0..BOOTSTRAP_RESAMPLES)
        .map(|r| resampled_mean(values, draws.indices(r, 0)))
        .collect();
    percentile_interval(means)
}

/// `mean(x) - mean(base)`: how much larger `x`'s mean is than `base`'s,
/// in their unit; `None` when either is empty.
pub fn difference_of_means(x: &[f64], base: &[f64]) -> Option<f64> {
    Some(mean(x)? - mean(base)?)
}

/// `100 (mean(x) - mean(base)) / mean(base)`: how much larger `x`'s mean
/// is than `base`'s, in percent; `None` when either is empty or `base`'s
/// mean is 0.
pub fn difference_percent(x: &[f64], base: &[f64]) -> Option<f64> {
    let b = mean(base)?;
    if b == 0.0 {
        return None;
    }
    Some(100.0 * (mean(x)? - b) / b)
}

/// The percentile interval of `statistic(mean of a resample of x, mean of
/// a resample of base)` over [`BOOTSTRAP_RESAMPLES`] replicates, each
/// resampling `x` and then `base` from one generator; replicates where
/// `statistic` is `None` are left out. `None` if all are, or either
/// sample is empty.
fn bootstrap_two_sample(
    x: &[f64],
    base: &[f64],
    statistic: impl Fn(f64, f64) -> Option<f64>,
) -> Option<Interval> {
    if x.is_empty() || base.is_empty() {
        return None;
    }
    let draws = Draws::of(&[x, base]);
    let stats: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .filter_map(|r| {
            let mx = resampled_mean(x, draws.indices(r, 0));
            let mb = resampled_mean(base, draws.indices(r, 1));
            statistic(mx, mb)
        })
        .collect();
    if stats.is_empty() {
        return None;
    }
    percentile_interval(stats)
}

/// The 95 % percentile-bootstrap interval of [`difference_of_means`]:
/// each replicate resamples `x` and `base` independently (first `x`,
/// then `base`, from one generator, as [`bootstrap_difference_ci`]
/// does). `None` if either sample is empty.
pub fn bootstrap_difference_of_means_ci(x: &[f64], base: &[f64]) -> Option<Interval> {
    bootstrap_two_sample(x, base, |mx, mb| Some(mx - mb))
}

/// The 95 % percentile-bootstrap interval of [`difference_percent`]:
/// each replicate resamples `x` and `base` independently (first `x`,
/// then `base`, from one generator). Replicates whose `base` mean is 0
/// are left out; `None` if all are, or either sample is empty.
pub fn bootstrap_difference_ci(x: &[f64], base: &[f64]) -> Option<Interval> {
    bootstrap_two_sample(x, base, |mx, mb| {
        (mb != 0.0).then(|| 100.0 * (mx - mb) / mb)
    })
}

/// The 95 % percentile-bootstrap interval of `median(x) / median(base)`:
/// each replicate resamples `x` and `base` independently (first `x`, then
/// `base`, from one generator). `None` if either sample is empty, or if
/// any replicate's `base` median is 0 (the ratio is then undefined, and
/// leaving such replicates out would bias the interval).
pub fn bootstrap_median_ratio_ci(x: &[f64], base: &[f64]) -> Option<Interval> {
    if x.is_empty() || base.is_empty() {
        return None;
    }
    let draws = Draws::of(&[x, base]);
    let median = |values: &[f64], indices: &[u32]| -> f64 {
        let mut resample: Vec<f64> = indices.iter().map(|&i| values[i as usize]).collect();
        resample.sort_by(f64::total_cmp);
        quantile_sorted(&resample, 0.5).unwrap_or(0.0)
    };
    let ratios: Option<Vec<f64>> = (0..BOOTSTRAP_RESAMPLES)
        .map(|r| {
            let mx = median(x, draws.indices(r, 0));
            let mb = median(base, draws.indices(r, 1));
            (mb != 0.0).then(|| mx / mb)
        })
        .collect();
    percentile_interval(ratios?)
}

/// Two samples compared seed by seed: the same protocol at two points of
/// one axis, where each seed draws the same random loss at both, so the
/// per-seed difference removes the variation the two share.
///
/// For the seeds present in both samples, `d_s = x_s - base_s` and, where
/// every `base_s > 0`, `p_s = 100 d_s / base_s`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairedDifference {
    /// Seeds in both samples.
    pub n: usize,
    /// Median of `d_s`.
    pub median: f64,
    /// Mean of `d_s`.
    pub mean: f64,
    /// 95 % bootstrap interval of the mean of `d_s` (the pairs resampled).
    pub mean_ci: Interval,
    /// Median of `p_s`; `None` when some `base_s` is not above 0.
    pub median_percent: Option<f64>,
    /// Mean of `p_s`; `None` as above.
    pub mean_percent: Option<f64>,
    /// 95 % bootstrap interval of the mean of `p_s`; `None` as above.
    pub mean_percent_ci: Option<Interval>,
}

impl PairedDifference {
    /// Whether every pair has the same difference: the seeds did not vary
    /// it (the interval is then a point, and says nothing).
    pub fn constant(&self) -> bool {
        self.mean_ci.low == self.mean_ci.high
    }
}

/// `x` against `base`, paired by seed: each sample is `(seed, value)`; a
/// seed counts once (its first value) and only if both samples have it.
/// `None` when no seed is in both.
pub fn paired_difference(x: &[(u64, f64)], base: &[(u64, f64)]) -> Option<PairedDifference> {
    let mut base_of: std::collections::BTreeMap<u64, f64> = std::collections::BTreeMap::new();
    for &(seed, v) in base {
        base_of.entry(seed).or_insert(v);
    }
    let mut seen = std::collections::BTreeSet::new();
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .filter(|(seed, _)| seen.insert(*seed))
        .filter_map(|&(seed, v)| Some((v, *base_of.get(&seed)?)))
        .collect();
    let d: Vec<f64> = pairs.iter().map(|(v, b)| v - b).collect();
    let percent: Option<Vec<f64>> = pairs
        .iter()
        .map(|&(v, b)| (b > 0.0).then(|| 100.0 * (v - b) / b))
        .collect();
    Some(PairedDifference {
        n: d.len(),
        median: median(&d)?,
        mean: mean(&d)?,
        mean_ci: bootstrap_mean_ci(&d)?,
        median_percent: percent.as_deref().and_then(median),
        mean_percent: percent.as_deref().and_then(mean),
        mean_percent_ci: percent.as_deref().and_then(bootstrap_mean_ci),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The intervals as the generator gives them, drawn afresh for each
    /// (the way they were computed before draws were kept).
    fn fresh_two_sample_mean_ci(x: &[f64], base: &[f64]) -> Interval {
        let mut rng = ChaCha8Rng::seed_from_u64(BOOTSTRAP_SEED);
        let mut mean_of = |values: &[f64]| {
            let n = values.len() as u64;
            let sum: f64 = (0..n)
                .map(|_| values[rng.random_range(0..n) as usize])
                .sum();
            sum / n as f64
        };
        let stats = (0..BOOTSTRAP_RESAMPLES)
            .map(|_| {
                let mx = mean_of(x);
                let mb = mean_of(base);
                mx - mb
            })
            .collect();
        percentile_interval(stats).unwrap()
    }

    #[test]
    fn kept_draws_give_the_intervals_fresh_draws_give() {
        let x: Vec<f64> = (0..30).map(|i| f64::from(i * i % 17)).collect();
        let base: Vec<f64> = (0..12).map(|i| f64::from(i * 3 % 7)).collect();
        let want = fresh_two_sample_mean_ci(&x, &base);
        // Twice: the first draws, the second reads what the first kept.
        for _ in 0..2 {
            assert_eq!(bootstrap_difference_of_means_ci(&x, &base), Some(want));
        }
        // Other sizes in between do not disturb them, nor does the store
        // starting over.
        let _ = bootstrap_mean_ci(&x[..5]);
        KEPT.with(|k| *k.borrow_mut() = Kept::default());
        assert_eq!(bootstrap_difference_of_means_ci(&x, &base), Some(want));
        // The samples' order matters: (base, x) is another set of sizes.
        assert_ne!(
            bootstrap_difference_of_means_ci(&base, &x).map(|i| -i.high),
            Some(want.low)
        );
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn quantiles_interpolate_linearly() {
        // Sorted: 1 2 3 4 10; n - 1 = 4.
        let x = [4.0, 1.0, 10.0, 3.0, 2.0];
        // p = 0.5: h = 2 → 3.
        assert_eq!(median(&x), Some(3.0));
        // p = 0.1: h = 0.4 → 1 + 0.4 (2 - 1) = 1.4.
        assert!(close(p10(&x).unwrap(), 1.4));
        // p = 0.9: h = 3.6 → 4 + 0.6 (10 - 4) = 7.6.
        assert!(close(p90(&x).unwrap(), 7.6));
        // Even count: 1 2 3 4 → h = 1.5 → 2.5.
        assert_eq!(median(&[1.0, 2.0, 3.0, 4.0]), Some(2.5));
        assert_eq!(quantile(&[7.0], 0.9), Some(7.0));
        assert_eq!(quantile(&[1.0, 3.0], 0.0), Some(1.0));
        assert_eq!(quantile(&[1.0, 3.0], 1.0), Some(3.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn mean_and_difference() {
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
        assert_eq!(mean(&[]), None);
        // mean 3 against mean 2: +50 %.
        assert_eq!(difference_percent(&[3.0, 3.0], &[1.0, 3.0]), Some(50.0));
        assert_eq!(difference_percent(&[1.0], &[2.0, 2.0]), Some(-50.0));
        assert_eq!(difference_percent(&[1.0], &[0.0]), None);
        assert_eq!(difference_percent(&[], &[1.0]), None);
        // mean 3 against mean 2: +1; against a mean of 0 still defined.
        assert_eq!(difference_of_means(&[3.0, 3.0], &[1.0, 3.0]), Some(1.0));
        assert_eq!(difference_of_means(&[13.0, 14.0], &[0.0, 0.0]), Some(13.5));
        assert_eq!(difference_of_means(&[1.0], &[]), None);
    }

    #[test]
    fn constant_samples_have_point_intervals() {
        let ci = bootstrap_mean_ci(&[5.0, 5.0, 5.0]).unwrap();
        assert_eq!((ci.low, ci.high), (5.0, 5.0));
        let d = bootstrap_difference_ci(&[6.0; 4], &[4.0; 3]).unwrap();
        assert_eq!((d.low, d.high), (50.0, 50.0));
        assert_eq!(bootstrap_mean_ci(&[]), None);
        assert_eq!(bootstrap_difference_ci(&[1.0], &[0.0, 0.0]), None);
        // The difference of means needs no non-zero baseline: 6 - 4 = 2,
        // and 1 - 0 = 1, in every replicate.
        let a = bootstrap_difference_of_means_ci(&[6.0; 4], &[4.0; 3]).unwrap();
        assert_eq!((a.low, a.high), (2.0, 2.0));
        let z = bootstrap_difference_of_means_ci(&[1.0], &[0.0, 0.0]).unwrap();
        assert_eq!((z.low, z.high), (1.0, 1.0));
        assert_eq!(bootstrap_difference_of_means_ci(&[], &[1.0]), None);
        let r = bootstrap_median_ratio_ci(&[6.0; 4], &[4.0; 3]).unwrap();
        assert_eq!((r.low, r.high), (1.5, 1.5));
        assert_eq!(bootstrap_median_ratio_ci(&[1.0], &[0.0]), None);
    }

    #[test]
    fn two_point_sample_interval() {
        // Resamples of {0, 1} of size 2 have means 0, 0.5 or 1 with
        // probability 1/4, 1/2, 1/4; 2000 of them put about 500 at each
        // end, so the 2.5 % and 97.5 % points are exactly 0 and 1.
        let ci = bootstrap_mean_ci(&[0.0, 1.0]).unwrap();
        assert_eq!((ci.low, ci.high), (0.0, 1.0));
    }

    #[test]
    fn intervals_cover_the_mean_and_repeat_exactly() {
        let x: Vec<f64> = (1..=20).map(|i| (i * i) as f64).collect();
        let m = mean(&x).unwrap();
        let ci = bootstrap_mean_ci(&x).unwrap();
        assert!(ci.low < m && m < ci.high, "{ci:?} around {m}");
        assert_eq!(bootstrap_mean_ci(&x), Some(ci));
        let base: Vec<f64> = x.iter().map(|v| v * 2.0).collect();
        let d = bootstrap_difference_ci(&x, &base).unwrap();
        let point = difference_percent(&x, &base).unwrap();
        assert!(close(point, -50.0));
        assert!(d.low < point && point < d.high, "{d:?} around {point}");
        // The same replicates in the unit of the values: mean(x) = 2870 /
        // 20 = 143.5 and mean(base) = 287, so the difference is -143.5,
        // inside its interval, which lies below 0 as the percent's does.
        let a = bootstrap_difference_of_means_ci(&x, &base).unwrap();
        let diff = difference_of_means(&x, &base).unwrap();
        assert!(close(diff, -143.5));
        assert!(a.low < diff && diff < a.high, "{a:?} around {diff}");
        assert!(a.high < 0.0);
    }

    #[test]
    fn a_two_point_difference_of_means_interval() {
        // x = {0, 1}, base = {0}: each replicate is a resampled mean of x
        // (0, 0.5 or 1 with probability 1/4, 1/2, 1/4, as in
        // two_point_sample_interval) minus 0, so the interval is [0, 1].
        let a = bootstrap_difference_of_means_ci(&[0.0, 1.0], &[0.0]).unwrap();
        assert_eq!((a.low, a.high), (0.0, 1.0));
    }

    #[test]
    fn paired_differences_by_seed() {
        // Seeds 1..=4; seed 5 only in x and seed 9 only in base are left
        // out, and x's second value for seed 1 is ignored.
        let x = [
            (1, 110.0),
            (2, 190.0),
            (3, 330.0),
            (4, 400.0),
            (5, 1.0),
            (1, 0.0),
        ];
        let base = [(4, 400.0), (3, 300.0), (2, 200.0), (1, 100.0), (9, 7.0)];
        let p = paired_difference(&x, &base).unwrap();
        assert_eq!(p.n, 4);
        // d = 10, -10, 30, 0: sorted -10 0 10 30, median 5, mean 7.5.
        assert_eq!(p.median, 5.0);
        assert_eq!(p.mean, 7.5);
        assert!(
            p.mean_ci.low < 7.5 && 7.5 < p.mean_ci.high,
            "{:?}",
            p.mean_ci
        );
        // p = +10 %, -5 %, +10 %, 0 %: sorted -5 0 10 10, median 5, mean 3.75.
        assert_eq!(p.median_percent, Some(5.0));
        assert_eq!(p.mean_percent, Some(3.75));
        let ci = p.mean_percent_ci.unwrap();
        assert!(ci.low < 3.75 && 3.75 < ci.high, "{ci:?}");
        assert!(!p.constant());
        assert_eq!(paired_difference(&x, &base), Some(p), "repeatable");
    }

    #[test]
    fn pairing_removes_what_the_seeds_share() {
        // Each seed's draw moves both samples by the same amount: unpaired,
        // the means differ by 2 within a spread of hundreds; paired, every
        // seed differs by exactly 2 and the interval is that point.
        let base: Vec<(u64, f64)> = (1..=10).map(|s| (s, 100.0 * s as f64)).collect();
        let x: Vec<(u64, f64)> = base.iter().map(|&(s, v)| (s, v + 2.0)).collect();
        let p = paired_difference(&x, &base).unwrap();
        assert_eq!((p.median, p.mean), (2.0, 2.0));
        assert_eq!((p.mean_ci.low, p.mean_ci.high), (2.0, 2.0));
        assert!(p.constant());
        let values = |v: &[(u64, f64)]| v.iter().map(|x| x.1).collect::<Vec<f64>>();
        let unpaired = bootstrap_difference_ci(&values(&x), &values(&base)).unwrap();
        assert!(unpaired.low < 0.0 && unpaired.high > 0.0, "{unpaired:?}");
    }

    #[test]
    fn paired_percent_needs_a_positive_base() {
        let p = paired_difference(&[(1, 5.0), (2, 3.0)], &[(1, 0.0), (2, 1.0)]).unwrap();
        assert_eq!((p.median, p.mean), (3.5, 3.5));
        assert_eq!(p.median_percent, None);
        assert_eq!(p.mean_percent_ci, None);
        assert_eq!(paired_difference(&[(1, 5.0)], &[(2, 1.0)]), None);
    }
}
