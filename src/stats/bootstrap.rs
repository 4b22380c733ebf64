//! Percentile bootstrap confidence intervals (B. Efron & R. J. Tibshirani, *An Introduction to
//! the Bootstrap*, 1993, ch. 13): resample the sample with replacement `B` times, compute the
//! statistic on each resample, and take the `α/2` and `1 − α/2` quantiles of those `B` values as
//! the interval, where `α = 1 − confidence level`. The standard error is the standard deviation
//! of the `B` values (ibid., ch. 6). The point estimate is the statistic of the sample itself,
//! not the mean of the bootstrap values.
//!
//! The median's bootstrap counts draws per rank of the sorted sample rather than selecting the
//! middle of each resample; the result is identical, only faster. Resample indices come from
//! [`super::rng`], so a seed gives the same interval on every platform (all arithmetic is
//! IEEE-754).
//!
//! The bootstrap of a change in medians ([`bootstrap_median_ratio`]) costs a resample of the
//! whole sample per draw, n × B: 2 × 10¹⁰ draws for two sides of a million samples and 10,000
//! resamples, minutes. Above [`MEDIAN_BY_ORDER_STATISTICS_ABOVE`] samples it draws each
//! resample's median directly from its exact distribution instead: a draw from the sample is
//! `sorted[⌊n·U⌋]` with U uniform on [0, 1), monotone in U, so a resample's order statistics are
//! those of n uniforms mapped through it; the k-th of n uniforms is Beta(k, n − k + 1) (David &
//! Nagaraja, *Order Statistics*, 3rd ed. 2003, §2.2), and given it, the next is
//! U₍ₖ₎ + (1 − U₍ₖ₎)·(1 − V^(1/(n−k))) with V uniform (the rest are uniform above it). The
//! bootstrap distribution is the same; each resample costs a few draws instead of n.

use super::descriptive::{lerp, quantile_sorted, std_dev};
use super::estimate::Estimate;
use super::rng::{generator, index_below};
use rand::RngCore;
use rand_chacha::ChaCha8Rng;

/// Fills `buf` (same length as `xs`) with a resample of `xs` drawn with replacement.
fn resample_into(xs: &[f64], buf: &mut [f64], rng: &mut ChaCha8Rng) {
    for slot in buf.iter_mut() {
        *slot = xs[index_below(rng, xs.len())];
    }
}

/// Interval and standard error from a bootstrap distribution (consumed: it is sorted).
fn percentile_interval(mut dist: Vec<f64>, point: f64, confidence_level: f64) -> Estimate {
    if dist.is_empty() || !(0.0..=1.0).contains(&confidence_level) {
        return Estimate {
            point,
            ..Estimate::undefined(confidence_level)
        };
    }
    let standard_error = std_dev(&dist);
    dist.sort_unstable_by(f64::total_cmp);
    let tail = (1.0 - confidence_level) / 2.0;
    Estimate {
        point,
        lower: quantile_sorted(&dist, tail),
        upper: quantile_sorted(&dist, 1.0 - tail),
        confidence_level,
        standard_error,
    }
}

/// Percentile bootstrap confidence interval of `statistic` over `xs` (Efron & Tibshirani 1993):
/// `resamples` resamples drawn with replacement using ChaCha8 seeded with `seed`, so the same
/// seed gives the same interval on every platform. `point` is `statistic(xs)`, not the mean of
/// the bootstrap distribution; `standard_error` is that distribution's standard deviation.
///
/// An empty `xs` gives an all-NaN estimate; `resamples == 0` or a `confidence_level` outside
/// [0, 1] gives NaN bounds and standard error around a valid point.
pub fn bootstrap(
    xs: &[f64],
    statistic: impl Fn(&[f64]) -> f64,
    resamples: usize,
    confidence_level: f64,
    seed: u64,
) -> Estimate {
    bootstrap_stream(
        xs,
        |buf: &mut [f64]| statistic(buf),
        resamples,
        confidence_level,
        seed,
        0,
    )
}

/// [`bootstrap`] on ChaCha8 stream `stream` of `seed`, for a statistic that may reorder the
/// resample it is given (which saves a copy per resample).
fn bootstrap_stream(
    xs: &[f64],
    mut statistic: impl FnMut(&mut [f64]) -> f64,
    resamples: usize,
    confidence_level: f64,
    seed: u64,
    stream: u64,
) -> Estimate {
    if xs.is_empty() {
        return Estimate::undefined(confidence_level);
    }
    // One buffer reused for the point and for every resample: no allocation per resample.
    let mut buf = xs.to_vec();
    let point = statistic(&mut buf);
    let mut rng = generator(seed, stream);
    let mut dist = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        resample_into(xs, &mut buf, &mut rng);
        dist.push(statistic(&mut buf));
    }
    percentile_interval(dist, point, confidence_level)
}

/// The median's bootstrap by counting instead of selecting: identical result to
/// `bootstrap_stream(xs, median_in_place, …)` — the same draws pick the same resamples — in
/// about 60 % of the time (100 samples). Each draw increments a count at the drawn sample's
/// rank in the sorted sample; a walk over the counts then finds the resample's middle order
/// statistics without comparing a single pair of values.
pub(super) fn bootstrap_median(
    xs: &[f64],
    resamples: usize,
    confidence_level: f64,
    seed: u64,
    stream: u64,
) -> Estimate {
    let n = xs.len();
    if n == 0 {
        return Estimate::undefined(confidence_level);
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let sorted: Vec<f64> = order.iter().map(|&i| xs[i]).collect();
    let mut rank = vec![0; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    // Ranks (0-based) of the middle order statistics; equal for odd n.
    let (lower_rank, upper_rank) = ((n - 1) / 2, n / 2);
    let point = lerp(sorted[lower_rank], sorted[upper_rank], 0.5);
    let mut rng = generator(seed, stream);
    let mut counts = vec![0usize; n];
    let mut dist = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        counts.fill(0);
        for _ in 0..n {
            counts[rank[index_below(&mut rng, n)]] += 1;
        }
        let (mut lower, mut seen) = (f64::NAN, 0);
        for (&count, &value) in counts.iter().zip(&sorted) {
            seen += count; // resample ranks below `seen` hold values ≤ `value`
            if lower.is_nan() && seen > lower_rank {
                lower = value;
            }
            if seen > upper_rank {
                dist.push(if n % 2 == 1 {
                    value
                } else {
                    lerp(lower, value, 0.5)
                });
                break;
            }
        }
    }
    percentile_interval(dist, point, confidence_level)
}

/// Percentile bootstrap interval of the relative change `statistic(new) / statistic(base) − 1`
/// (a fraction: +0.05 = new is 5 % larger), resampling each side independently from one ChaCha8
/// generator seeded with `seed`. All-NaN if either side is empty; otherwise as [`bootstrap`].
pub fn bootstrap_ratio(
    base: &[f64],
    new: &[f64],
    statistic: impl Fn(&[f64]) -> f64,
    resamples: usize,
    confidence_level: f64,
    seed: u64,
) -> Estimate {
    if base.is_empty() || new.is_empty() {
        return Estimate::undefined(confidence_level);
    }
    let point = statistic(new) / statistic(base) - 1.0;
    let (mut base_buf, mut new_buf) = (base.to_vec(), new.to_vec());
    let mut rng = generator(seed, 0);
    let mut dist = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        resample_into(base, &mut base_buf, &mut rng);
        resample_into(new, &mut new_buf, &mut rng);
        dist.push(statistic(&new_buf) / statistic(&base_buf) - 1.0);
    }
    percentile_interval(dist, point, confidence_level)
}

/// Above this many samples on either side, [`bootstrap_median_ratio`] draws each resample's
/// median from its exact distribution (module doc) instead of drawing the whole resample. At or
/// below it (every sample set `costbench run` writes: its sampler stops at 10,000) the draws
/// are those of [`bootstrap_ratio`] with the median, so those intervals do not change.
pub const MEDIAN_BY_ORDER_STATISTICS_ABOVE: usize = 10_000;

/// [`bootstrap_ratio`] of the median: the percentile bootstrap interval of
/// `median(new) / median(base) − 1`, in time independent of the sample sizes above
/// [`MEDIAN_BY_ORDER_STATISTICS_ABOVE`] (module doc).
pub fn bootstrap_median_ratio(
    base: &[f64],
    new: &[f64],
    resamples: usize,
    confidence_level: f64,
    seed: u64,
) -> Estimate {
    if base.len().max(new.len()) <= MEDIAN_BY_ORDER_STATISTICS_ABOVE {
        return bootstrap_ratio(
            base,
            new,
            super::descriptive::median,
            resamples,
            confidence_level,
            seed,
        );
    }
    if base.is_empty() || new.is_empty() {
        return Estimate::undefined(confidence_level);
    }
    let sorted = |xs: &[f64]| {
        let mut v = xs.to_vec();
        v.sort_unstable_by(f64::total_cmp);
        v
    };
    let (base, new) = (sorted(base), sorted(new));
    let middle = |v: &[f64]| lerp(v[(v.len() - 1) / 2], v[v.len() / 2], 0.5);
    let point = middle(&new) / middle(&base) - 1.0;
    let mut rng = generator(seed, 0);
    let mut dist = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let b = resample_median(&base, &mut rng);
        let n = resample_median(&new, &mut rng);
        dist.push(n / b - 1.0);
    }
    percentile_interval(dist, point, confidence_level)
}

/// The median of one resample (n draws with replacement) of the non-empty `sorted`, drawn from
/// its exact distribution by order statistics of uniforms (module doc).
fn resample_median(sorted: &[f64], rng: &mut ChaCha8Rng) -> f64 {
    let n = sorted.len();
    // 1-based rank of the lower middle: the median for odd n, the lower of the two for even n.
    let k = n.div_ceil(2);
    let at = |u: f64| sorted[((u * n as f64) as usize).min(n - 1)];
    let u = beta(k as f64, (n - k + 1) as f64, rng);
    if n % 2 == 1 {
        return at(u);
    }
    let above = 1.0 - libm::pow(unit_open(rng), 1.0 / (n - k) as f64);
    lerp(at(u), at(u + (1.0 - u) * above), 0.5)
}

/// Uniform on [0, 1) with 53 random bits.
fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform on (0, 1].
fn unit_open(rng: &mut ChaCha8Rng) -> f64 {
    1.0 - uniform(rng)
}

/// Standard normal by Box–Muller (one of the pair).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u, v) = (unit_open(rng), uniform(rng));
    libm::sqrt(-2.0 * libm::log(u)) * libm::cos(std::f64::consts::TAU * v)
}

/// Gamma(shape, 1) for shape ≥ 1, by G. Marsaglia & W. W. Tsang, "A simple method for
/// generating gamma variables", *ACM TOMS* 26(3), 2000 (exact: a rejection method).
fn gamma(shape: f64, rng: &mut ChaCha8Rng) -> f64 {
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / libm::sqrt(9.0 * d);
    loop {
        let x = normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = unit_open(rng);
        if u < 1.0 - 0.0331 * x * x * x * x
            || libm::log(u) < 0.5 * x * x + d * (1.0 - v + libm::log(v))
        {
            return d * v;
        }
    }
}

/// Beta(a, b) for a, b ≥ 1, as X / (X + Y) of independent Gamma(a) and Gamma(b).
fn beta(a: f64, b: f64, rng: &mut ChaCha8Rng) -> f64 {
    let x = gamma(a, rng);
    let y = gamma(b, rng);
    x / (x + y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::descriptive::{mean, median, median_in_place};
    use crate::stats::summary::summarize;
    use crate::stats::test_support::{close, samples};
    use proptest::prelude::*;

    #[test]
    fn confidence_level_one_spans_the_whole_bootstrap_distribution() {
        let xs = [1.0, 2.0];
        // Resample medians take only the values 1, 1.5 and 2; with many resamples all appear.
        let e = bootstrap(&xs, median, 2000, 1.0, 5);
        assert_eq!((e.lower, e.point, e.upper), (1.0, 1.5, 2.0));
    }

    #[test]
    fn a_seed_pins_the_interval() {
        // Golden values: if these change, every saved report's intervals would stop being
        // reproducible from its seed — a change in ChaCha8, the key layout or index mapping.
        let xs: Vec<f64> = (1..=20).map(|i| f64::from(i * i) / 10.0).collect();
        let e = bootstrap(&xs, mean, 1000, 0.95, 42);
        assert_eq!(e.point, 14.35);
        let golden = (9.279374999999998, 19.886375000000005, 2.7497121154436917);
        assert_eq!((e.lower, e.upper, e.standard_error), golden);
    }

    const RESAMPLES: usize = 300;

    /// Largest difference between the empirical CDFs of two samples (Kolmogorov–Smirnov).
    fn ks_distance(mut a: Vec<f64>, mut b: Vec<f64>) -> f64 {
        a.sort_unstable_by(f64::total_cmp);
        b.sort_unstable_by(f64::total_cmp);
        let (mut i, mut j, mut d) = (0, 0, 0.0f64);
        while i < a.len() && j < b.len() {
            let x = a[i].min(b[j]);
            while i < a.len() && a[i] <= x {
                i += 1;
            }
            while j < b.len() && b[j] <= x {
                j += 1;
            }
            d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
        }
        d
    }

    #[test]
    fn order_statistics_draw_the_resample_median_from_its_bootstrap_distribution() {
        // Odd and even sizes, with ties: the median of a resample drawn whole (the counting
        // bootstrap) and drawn by order statistics have the same distribution.
        for n in [1usize, 2, 7, 30, 31, 200] {
            let xs: Vec<f64> = (0..n)
                .map(|i| ((i * 37) % 11) as f64 + 0.5 * (i % 3) as f64)
                .collect();
            let mut sorted = xs.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            let draws = 40_000;
            let whole = {
                let mut buf = xs.clone();
                let mut rng = generator(3, 1);
                (0..draws)
                    .map(|_| {
                        resample_into(&xs, &mut buf, &mut rng);
                        median_in_place(&mut buf)
                    })
                    .collect::<Vec<f64>>()
            };
            let mut rng = generator(4, 2);
            let direct: Vec<f64> = (0..draws)
                .map(|_| resample_median(&sorted, &mut rng))
                .collect();
            // Two-sample KS at 40,000 draws each: 0.0136 is the 0.001 critical value.
            let d = ks_distance(whole, direct);
            assert!(d < 0.0136, "n = {n}: KS distance {d}");
        }
    }

    #[test]
    fn beta_draws_have_the_beta_mean_and_variance() {
        let mut rng = generator(5, 0);
        for (a, b) in [(1.0, 1.0), (3.0, 9.0), (500.0, 501.0)] {
            let xs: Vec<f64> = (0..50_000).map(|_| beta(a, b, &mut rng)).collect();
            let m = mean(&xs);
            let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / xs.len() as f64;
            let (em, ev) = (a / (a + b), a * b / ((a + b) * (a + b) * (a + b + 1.0)));
            assert!(
                (m - em).abs() < 5.0 * (ev / xs.len() as f64).sqrt(),
                "{a},{b}: mean {m}"
            );
            assert!(
                (var / ev - 1.0).abs() < 0.03,
                "{a},{b}: variance {var} vs {ev}"
            );
        }
    }

    #[test]
    fn a_million_samples_a_side_take_well_under_a_second() {
        let base: Vec<f64> = (0..1_000_000)
            .map(|i| 1.0 + ((i * 7919) % 1000) as f64 * 1e-5)
            .collect();
        let new: Vec<f64> = base.iter().map(|x| x * 1.05).collect();
        let start = std::time::Instant::now();
        let e = bootstrap_median_ratio(&base, &new, 10_000, 0.95, 1);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            start.elapsed()
        );
        assert!((e.point - 0.05).abs() < 1e-12, "{e:?}");
        assert!(
            e.lower <= e.point && e.point <= e.upper && e.upper - e.lower < 1e-3,
            "{e:?}"
        );
        // Reproducible from the seed.
        assert_eq!(e, bootstrap_median_ratio(&base, &new, 10_000, 0.95, 1));
    }

    proptest! {
        #[test]
        fn interval_contains_the_point(xs in samples(), seed: u64) {
            for stat in [mean as fn(&[f64]) -> f64, median] {
                let e = bootstrap(&xs, stat, RESAMPLES, 0.95, seed);
                prop_assert!(e.lower <= e.point && e.point <= e.upper, "{e:?}");
                prop_assert!(e.standard_error >= 0.0);
            }
            let s = summarize(&xs, 0.95, RESAMPLES, seed);
            for e in [s.mean, s.median] {
                prop_assert!(e.lower <= e.point && e.point <= e.upper, "{e:?}");
            }
        }

        #[test]
        fn shifting_the_samples_shifts_the_estimate(
            xs in samples(),
            c in -1e-3f64..1e3,
            seed: u64,
        ) {
            let shifted: Vec<f64> = xs.iter().map(|x| x + c).collect();
            for stat in [mean as fn(&[f64]) -> f64, median] {
                let e = bootstrap(&xs, stat, RESAMPLES, 0.95, seed);
                let f = bootstrap(&shifted, stat, RESAMPLES, 0.95, seed);
                let scale = 1e-9 * (e.upper.abs() + c.abs());
                prop_assert!((f.point - (e.point + c)).abs() <= scale, "{e:?} {f:?}");
                prop_assert!((f.lower - (e.lower + c)).abs() <= scale, "{e:?} {f:?}");
                prop_assert!((f.upper - (e.upper + c)).abs() <= scale, "{e:?} {f:?}");
                prop_assert!((f.standard_error - e.standard_error).abs() <= scale);
            }
        }

        #[test]
        fn scaling_the_samples_scales_the_estimate(xs in samples(), k in 1e-3f64..1e3, seed: u64) {
            let scaled: Vec<f64> = xs.iter().map(|x| x * k).collect();
            for stat in [mean as fn(&[f64]) -> f64, median] {
                let e = bootstrap(&xs, stat, RESAMPLES, 0.95, seed).scaled(k);
                let f = bootstrap(&scaled, stat, RESAMPLES, 0.95, seed);
                prop_assert!(close(f.point, e.point, 1e-9), "{e:?} {f:?}");
                prop_assert!(close(f.lower, e.lower, 1e-9), "{e:?} {f:?}");
                prop_assert!(close(f.upper, e.upper, 1e-9), "{e:?} {f:?}");
                let se_ok = close(f.standard_error, e.standard_error, 1e-9);
                prop_assert!(se_ok || e.standard_error == 0.0);
            }
        }

        #[test]
        fn the_same_seed_gives_the_same_interval(xs in samples(), seed: u64) {
            prop_assert_eq!(
                summarize(&xs, 0.95, RESAMPLES, seed),
                summarize(&xs, 0.95, RESAMPLES, seed)
            );
            prop_assert_eq!(
                bootstrap_ratio(&xs, &xs, mean, RESAMPLES, 0.9, seed),
                bootstrap_ratio(&xs, &xs, mean, RESAMPLES, 0.9, seed)
            );
        }

        #[test]
        fn counting_median_equals_selecting_median(xs in samples(), seed: u64, stream: u64) {
            prop_assert_eq!(
                bootstrap_median(&xs, RESAMPLES, 0.95, seed, stream),
                bootstrap_stream(&xs, median_in_place, RESAMPLES, 0.95, seed, stream)
            );
        }

        #[test]
        fn ratio_of_identical_samples_contains_zero(xs in samples(), seed: u64) {
            for stat in [mean as fn(&[f64]) -> f64, median] {
                let e = bootstrap_ratio(&xs, &xs, stat, RESAMPLES, 0.95, seed);
                prop_assert_eq!(e.point, 0.0);
                prop_assert!(e.lower <= 0.0 && 0.0 <= e.upper, "{e:?}");
            }
        }

        #[test]
        fn the_median_ratio_is_the_ratio_bootstrap_up_to_the_threshold(
            base in samples(), new in samples(), seed: u64,
        ) {
            prop_assert_eq!(
                bootstrap_median_ratio(&base, &new, RESAMPLES, 0.95, seed),
                bootstrap_ratio(&base, &new, median, RESAMPLES, 0.95, seed)
            );
        }

        #[test]
        fn ratio_is_unit_free(base in samples(), new in samples(), k in 1e-3f64..1e3, seed: u64) {
            let (kb, kn): (Vec<f64>, Vec<f64>) =
                (base.iter().map(|x| x * k).collect(), new.iter().map(|x| x * k).collect());
            let e = bootstrap_ratio(&base, &new, mean, 100, 0.95, seed);
            let f = bootstrap_ratio(&kb, &kn, mean, 100, 0.95, seed);
            // Relative changes near 0 lose relative precision, so compare in units of 1 + change.
            prop_assert!(((1.0 + f.lower) - (1.0 + e.lower)).abs() <= 1e-9 * (1.0 + e.lower));
            prop_assert!(((1.0 + f.upper) - (1.0 + e.upper)).abs() <= 1e-9 * (1.0 + e.upper));
        }
    }
}
