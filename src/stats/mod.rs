//! The statistics kernel: point estimates, bootstrap confidence intervals, Tukey outliers and
//! Welch's t-test over `&[f64]` samples (seconds, or any other positive measurement). It owns no
//! units: every figure it returns is in the unit of the samples it was given, or is a ratio.
//!
//! # Algorithms
//!
//! - **Quantiles** interpolate linearly between order statistics: with the sorted sample
//!   `x₀ ≤ … ≤ xₙ₋₁` and `h = (n − 1)·q`, `Q(q) = x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋+1 − x⌊h⌋)` — definition 7
//!   of Hyndman & Fan, "Sample quantiles in statistical packages", *The American Statistician*
//!   50(4), 1996; the default of R and numpy. The median is `Q(0.5)` (the mean of the middle two
//!   for an even count).
//! - **Spread**: the sample standard deviation divides by `n − 1`; the median absolute deviation
//!   is `1.4826 · median(|xᵢ − median(x)|)`, the factor (`1 / Φ⁻¹(3/4)`) making it estimate σ for
//!   normal data, as criterion.rs does.
//! - **Outliers** are classified against Tukey's fences, `Q1 − 3·IQR`, `Q1 − 1.5·IQR`,
//!   `Q3 + 1.5·IQR`, `Q3 + 3·IQR` (J. W. Tukey, *Exploratory Data Analysis*, 1977), with type-7
//!   quartiles. They are counted and reported, never dropped.
//! - **Confidence intervals** are percentile bootstrap intervals (B. Efron & R. J. Tibshirani,
//!   *An Introduction to the Bootstrap*, 1993, ch. 13): resample the sample with replacement
//!   `B` times, compute the statistic on each resample, and take the `α/2` and `1 − α/2`
//!   quantiles of those `B` values as the interval, where `α = 1 − confidence level`. The
//!   standard error is the standard deviation of the `B` values (ibid., ch. 6). The point
//!   estimate is the statistic of the sample itself, not the mean of the bootstrap values.
//!   [`summarize`] finds each resample's median by counting draws per rank of the sorted
//!   sample rather than by selection; the result is identical, only faster.
//! - **Reproducibility**: resample indices come from ChaCha8 keyed by the caller's seed, mapped
//!   to `0..n` by Lemire's multiply-and-reject method ("Fast random integer generation in an
//!   interval", *ACM TOMACS* 29(1), 2019), implemented here rather than borrowed from
//!   `rand::Rng::random_range`, whose algorithm may change between rand versions. ChaCha8's
//!   output is specified by its algorithm and all arithmetic is IEEE-754, so a seed gives the
//!   same interval on every platform.
//! - **Welch's t-test** (B. L. Welch, "The generalization of 'Student's' problem when several
//!   different population variances are involved", *Biometrika* 34, 1947) with the
//!   Welch–Satterthwaite degrees of freedom; its p-value comes from the Student-t distribution,
//!   `P(|T| > |t|) = I_{ν/(ν+t²)}(ν/2, 1/2)`, where `I` is the regularized incomplete beta
//!   function, evaluated by its continued fraction (modified Lentz; Press et al., *Numerical
//!   Recipes*, 3rd ed., 2007, §6.4 `betacf`) with ln Γ from the Lanczos approximation (g = 7,
//!   9 terms).
//!
//! # Degenerate input
//!
//! Nothing here panics on any input. An empty sample gives NaN for every figure and zero
//! outlier counts. A single sample gives a standard deviation and MAD of 0 and an interval
//! collapsed onto the point. All-equal samples give a zero-width interval and no outliers. NaN
//! samples are the caller's problem: they are ordered with [`f64::total_cmp`] and propagate into
//! the figures they touch, but never panic.

pub mod changepoint;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Scales the raw median absolute deviation so it estimates σ for normally distributed data:
/// `1 / Φ⁻¹(3/4)`.
pub const MAD_NORMAL_CONSISTENCY: f64 = 1.4826;

/// Reading figures that may be NaN. JSON has no NaN, so serde_json writes one as `null`; these
/// read `null` back as NaN, so that every estimate that can be written can be read again (an
/// empty sample's summary included). The schema says `number | null` accordingly.
pub(crate) mod nan_as_null {
    use serde::{Deserialize, Deserializer};

    pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }

    pub fn numbers<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 4], D::Error> {
        let read = <[Option<f64>; 4]>::deserialize(d)?;
        Ok(read.map(|x| x.unwrap_or(f64::NAN)))
    }

    /// A required `number | null` (a plain `Option<f64>` would make the key optional).
    pub fn number_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": ["number", "null"], "format": "double" })
    }

    pub fn numbers_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "array",
            "items": { "type": ["number", "null"], "format": "double" },
            "minItems": 4,
            "maxItems": 4
        })
    }
}

/// A statistic with its confidence interval. Figures are in the unit of the samples they were
/// computed from (or are ratios, for [`bootstrap_ratio`]); NaN where they could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Estimate {
    /// The statistic of the sample itself, in the samples' unit.
    #[serde(deserialize_with = "nan_as_null::number")]
    #[schemars(schema_with = "nan_as_null::number_schema")]
    pub point: f64,
    /// Lower end of the confidence interval, in the samples' unit.
    #[serde(deserialize_with = "nan_as_null::number")]
    #[schemars(schema_with = "nan_as_null::number_schema")]
    pub lower: f64,
    /// Upper end of the confidence interval, in the samples' unit.
    #[serde(deserialize_with = "nan_as_null::number")]
    #[schemars(schema_with = "nan_as_null::number_schema")]
    pub upper: f64,
    /// Probability the interval is meant to cover, a fraction in [0, 1] (e.g. 0.95).
    #[serde(deserialize_with = "nan_as_null::number")]
    #[schemars(schema_with = "nan_as_null::number_schema")]
    pub confidence_level: f64,
    /// Standard error of the statistic (standard deviation of its bootstrap distribution), in
    /// the samples' unit.
    #[serde(deserialize_with = "nan_as_null::number")]
    #[schemars(schema_with = "nan_as_null::number_schema")]
    pub standard_error: f64,
}

impl Estimate {
    /// An estimate that could not be computed: every figure NaN.
    fn undefined(confidence_level: f64) -> Estimate {
        Estimate {
            point: f64::NAN,
            lower: f64::NAN,
            upper: f64::NAN,
            confidence_level,
            standard_error: f64::NAN,
        }
    }

    /// Half the interval's width relative to the point, `(upper − lower) / 2 / |point|`, a
    /// fraction (0.01 = ±1 %). Infinite (or NaN) when the point is zero.
    pub fn relative_half_width(&self) -> f64 {
        (self.upper - self.lower) / 2.0 / self.point.abs()
    }

    /// The same estimate in another unit: point, bounds and standard error multiplied by `k`
    /// (e.g. `1e3` for seconds → milliseconds). Meant for `k > 0`; a negative `k` swaps the
    /// bounds so that `lower ≤ upper` still holds and scales the standard error by `|k|`. (A
    /// reciprocal, such as seconds → rate, is not a scaling: its bounds are `1/upper, 1/lower`.)
    pub fn scaled(&self, k: f64) -> Estimate {
        let (a, b) = (self.lower * k, self.upper * k);
        let (lower, upper) = if k < 0.0 { (b, a) } else { (a, b) };
        Estimate {
            point: self.point * k,
            lower,
            upper,
            confidence_level: self.confidence_level,
            standard_error: self.standard_error * k.abs(),
        }
    }
}

/// Tukey's fences and the counts of samples beyond them (criterion.rs's classification).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Outliers {
    /// Samples below the low severe fence, `x < Q1 − 3·IQR`.
    pub low_severe: usize,
    /// Samples between the low fences, `Q1 − 3·IQR ≤ x < Q1 − 1.5·IQR`.
    pub low_mild: usize,
    /// Samples between the high fences, `Q3 + 1.5·IQR < x ≤ Q3 + 3·IQR`.
    pub high_mild: usize,
    /// Samples above the high severe fence, `x > Q3 + 3·IQR`.
    pub high_severe: usize,
    /// The fences, in the samples' unit: [low severe (Q1 − 3·IQR), low mild (Q1 − 1.5·IQR),
    /// high mild (Q3 + 1.5·IQR), high severe (Q3 + 3·IQR)]. NaN (JSON null) for an empty sample.
    #[serde(deserialize_with = "nan_as_null::numbers")]
    #[schemars(schema_with = "nan_as_null::numbers_schema")]
    pub fences: [f64; 4],
}

impl Outliers {
    /// Number of samples beyond either mild fence (mild and severe, low and high).
    pub fn total(&self) -> usize {
        self.low_severe + self.low_mild + self.high_mild + self.high_severe
    }
}

/// Location, spread and outliers of one sample, every figure in the samples' unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Arithmetic mean with its bootstrap confidence interval, in the samples' unit.
    pub mean: Estimate,
    /// Median with its bootstrap confidence interval, in the samples' unit.
    pub median: Estimate,
    /// Sample standard deviation (divisor `n − 1`), in the samples' unit.
    #[serde(deserialize_with = "nan_as_null::number")]
    #[schemars(schema_with = "nan_as_null::number_schema")]
    pub std_dev: f64,
    /// Median absolute deviation scaled by 1.4826 to estimate σ for normal data, in the
    /// samples' unit.
    #[serde(deserialize_with = "nan_as_null::number")]
    #[schemars(schema_with = "nan_as_null::number_schema")]
    pub mad: f64,
    /// Smallest sample, in the samples' unit.
    #[serde(deserialize_with = "nan_as_null::number")]
    #[schemars(schema_with = "nan_as_null::number_schema")]
    pub min: f64,
    /// Largest sample, in the samples' unit.
    #[serde(deserialize_with = "nan_as_null::number")]
    #[schemars(schema_with = "nan_as_null::number_schema")]
    pub max: f64,
    /// Tukey outlier counts and fences.
    pub outliers: Outliers,
}

/// Arithmetic mean; NaN for an empty sample.
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// `a + f·(b − a)` for `a ≤ b`, `f ∈ [0, 1]`, kept inside `[a, b]` so that rounding can never
/// make a quantile step backwards as `q` crosses an order statistic.
fn lerp(a: f64, b: f64, f: f64) -> f64 {
    if f == 0.0 {
        return a; // also keeps infinite neighbours from turning the result into NaN
    }
    let v = a + f * (b - a);
    if v < a {
        a
    } else if v > b {
        b
    } else {
        v
    }
}

/// Median (the mean of the middle two for an even count); NaN for an empty sample.
pub fn median(xs: &[f64]) -> f64 {
    median_in_place(&mut xs.to_vec())
}

/// [`median`] without the copy: partially reorders `buf` (selection, not a full sort).
pub fn median_in_place(buf: &mut [f64]) -> f64 {
    let n = buf.len();
    if n == 0 {
        return f64::NAN;
    }
    let k = n / 2;
    let (below, &mut upper_middle, _) = buf.select_nth_unstable_by(k, f64::total_cmp);
    if n % 2 == 1 {
        return upper_middle;
    }
    // After selection everything before `k` is ≤ buf[k]; the lower middle is their maximum.
    let lower_middle = below
        .iter()
        .copied()
        .max_by(f64::total_cmp)
        .unwrap_or(upper_middle);
    lerp(lower_middle, upper_middle, 0.5)
}

/// The `q`-quantile by linear interpolation between order statistics (Hyndman & Fan type 7,
/// numpy's default). `q` is clamped to [0, 1]; NaN for an empty sample or a NaN `q`.
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    let mut sorted = xs.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    quantile_sorted(&sorted, q)
}

/// [`quantile`] of a sample already sorted ascending (by [`f64::total_cmp`]).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || q.is_nan() {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = (h.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    lerp(sorted[lo], sorted[hi], h - lo as f64)
}

/// Sample standard deviation (divisor `n − 1`); 0 for one sample, NaN for none.
pub fn std_dev(xs: &[f64]) -> f64 {
    match xs.len() {
        0 => f64::NAN,
        1 => 0.0,
        n => {
            let m = mean(xs);
            let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
            (ss / (n - 1) as f64).sqrt()
        }
    }
}

/// Median absolute deviation from the median, multiplied by [`MAD_NORMAL_CONSISTENCY`] (1.4826)
/// so that it estimates σ for normally distributed data, as criterion.rs does. 0 for one
/// sample, NaN for none.
pub fn mad(xs: &[f64]) -> f64 {
    let mut buf = xs.to_vec();
    let m = median_in_place(&mut buf);
    for x in &mut buf {
        *x = (*x - m).abs();
    }
    median_in_place(&mut buf) * MAD_NORMAL_CONSISTENCY
}

/// Tukey's fences from type-7 quartiles and the number of samples beyond each. Samples on a
/// fence belong to the milder side; NaN samples are never counted.
pub fn tukey(xs: &[f64]) -> Outliers {
    let mut sorted = xs.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let (q1, q3) = (
        quantile_sorted(&sorted, 0.25),
        quantile_sorted(&sorted, 0.75),
    );
    let iqr = q3 - q1;
    let fences = [
        q1 - 3.0 * iqr,
        q1 - 1.5 * iqr,
        q3 + 1.5 * iqr,
        q3 + 3.0 * iqr,
    ];
    let mut out = Outliers {
        low_severe: 0,
        low_mild: 0,
        high_mild: 0,
        high_severe: 0,
        fences,
    };
    for &x in xs {
        if x < fences[0] {
            out.low_severe += 1;
        } else if x > fences[3] {
            out.high_severe += 1;
        } else if x < fences[1] {
            out.low_mild += 1;
        } else if x > fences[2] {
            out.high_mild += 1;
        }
    }
    out
}

/// ChaCha8 keyed by `seed` (little-endian in the first 8 key bytes, the rest zero), on `stream`.
/// Spelled out rather than `seed_from_u64` so the key schedule is fixed by this file alone.
pub(crate) fn generator(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(stream);
    rng
}

/// A uniform index in `0..n` (`n ≥ 1`), unbiased, by Lemire's multiply-and-reject. Samples
/// that fit in `u32` (all real ones) take 32-bit draws, which halves the generator's share of a
/// bootstrap; the choice depends only on `n`, so 32- and 64-bit platforms draw the same indices.
pub(crate) fn index_below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    match u32::try_from(n) {
        Ok(n) => {
            let mut m = u64::from(rng.next_u32()) * u64::from(n);
            if (m as u32) < n {
                let threshold = n.wrapping_neg() % n;
                while (m as u32) < threshold {
                    m = u64::from(rng.next_u32()) * u64::from(n);
                }
            }
            (m >> 32) as usize
        }
        Err(_) => {
            let n = n as u64;
            let mut m = u128::from(rng.next_u64()) * u128::from(n);
            if (m as u64) < n {
                let threshold = n.wrapping_neg() % n;
                while (m as u64) < threshold {
                    m = u128::from(rng.next_u64()) * u128::from(n);
                }
            }
            (m >> 64) as usize
        }
    }
}

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
    bootstrap_in_place(
        xs,
        |buf: &mut [f64]| statistic(buf),
        resamples,
        confidence_level,
        seed,
    )
}

/// [`bootstrap`] for a statistic that may reorder the resample it is given — e.g.
/// [`median_in_place`] — which saves a copy per resample. Same seed, same stream: for a
/// statistic that does not depend on order, the result equals [`bootstrap`]'s.
pub fn bootstrap_in_place(
    xs: &[f64],
    statistic: impl FnMut(&mut [f64]) -> f64,
    resamples: usize,
    confidence_level: f64,
    seed: u64,
) -> Estimate {
    bootstrap_stream(xs, statistic, resamples, confidence_level, seed, 0)
}

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
fn bootstrap_median(
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

/// Everything about one sample: mean and median with percentile bootstrap intervals, standard
/// deviation, MAD, range and Tukey outliers. The mean is bootstrapped on ChaCha8 stream 0 of
/// `seed` (so it equals `bootstrap(xs, mean, resamples, confidence_level, seed)`), the median on
/// stream 1, so the two intervals use independent resamples.
pub fn summarize(xs: &[f64], confidence_level: f64, resamples: usize, seed: u64) -> Summary {
    let (min, max) = if xs.is_empty() {
        (f64::NAN, f64::NAN)
    } else {
        let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (min, max)
    };
    Summary {
        n: xs.len(),
        mean: bootstrap_stream(
            xs,
            |buf: &mut [f64]| mean(buf),
            resamples,
            confidence_level,
            seed,
            0,
        ),
        median: bootstrap_median(xs, resamples, confidence_level, seed, 1),
        std_dev: std_dev(xs),
        mad: mad(xs),
        min,
        max,
        outliers: tukey(xs),
    }
}

/// Welch's unequal-variances t-test of `mean(a) = mean(b)` (Welch 1947). Returns
/// `(t, degrees of freedom, two-sided p-value)` with `t = (mean(a) − mean(b)) / √(s²ₐ/nₐ +
/// s²_b/n_b)` and Welch–Satterthwaite degrees of freedom. All NaN when either side has fewer
/// than two samples. When both sides are constant the standard error is zero: then `t` is 0
/// (equal means, p = 1) or ±∞ (p = 0), and the degrees of freedom are taken as `nₐ + n_b − 2`.
pub fn welch_t_test(a: &[f64], b: &[f64]) -> (f64, f64, f64) {
    if a.len() < 2 || b.len() < 2 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (ma, mb) = (mean(a), mean(b));
    let sa = std_dev(a).powi(2) / na; // squared standard error of mean(a)
    let sb = std_dev(b).powi(2) / nb;
    let se2 = sa + sb;
    if se2 == 0.0 {
        let df = na + nb - 2.0;
        return if ma == mb {
            (0.0, df, 1.0)
        } else {
            ((ma - mb) * f64::INFINITY, df, 0.0)
        };
    }
    let t = (ma - mb) / se2.sqrt();
    let df = se2 * se2 / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0));
    (t, df, student_t_two_sided_p(t, df))
}

/// Mann–Whitney U test (Mann & Whitney 1947; Wilcoxon rank-sum) of whether one sample tends to
/// be larger than the other: returns `(U of a, z, two-sided p)` by the normal approximation
/// with tie correction and continuity correction — what R's `wilcox.test(a, b, exact = FALSE)`
/// reports. Rank-based, so the outliers that timing samples carry (a preempted step) do not
/// mask a shift the way they inflate a t-test's variance. All NaN when a side is empty; p = 1
/// when every value is equal.
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> (f64, f64, f64) {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    all.sort_unstable_by(|x, y| x.0.total_cmp(&y.0));
    let n = all.len();
    let (mut rank_sum_a, mut tie_term) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Positions i..=j share the average of ranks i+1..=j+1.
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        rank_sum_a += rank * all[i..=j].iter().filter(|x| x.1).count() as f64;
        i = j + 1;
    }
    let (f1, f2, nf) = (n1 as f64, n2 as f64, n as f64);
    let u = rank_sum_a - f1 * (f1 + 1.0) / 2.0;
    let mu = f1 * f2 / 2.0;
    let variance = f1 * f2 / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    if variance <= 0.0 {
        return (u, 0.0, 1.0);
    }
    let d = u - mu;
    let z = (d - 0.5 * d.signum()) / variance.sqrt();
    let z = if d == 0.0 { 0.0 } else { z };
    (
        u,
        z,
        libm::erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0),
    )
}

/// Cumulative distribution function of Student's t with `df` degrees of freedom (any real
/// `df > 0`), `P(T ≤ t)`, via `I_{df/(df+t²)}(df/2, 1/2)`. NaN for `df ≤ 0`, non-finite `df` or
/// NaN `t`.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let tail = student_t_two_sided_p(t, df) / 2.0; // P(T > |t|)
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// Two-sided tail probability of Student's t, `P(|T| ≥ |t|) = I_x(df/2, 1/2)` with
/// `x = df/(df+t²)` and `1 − x = t²/(df+t²)` computed separately so that large `|t|` keeps its
/// precision. NaN for `df ≤ 0`, non-finite `df` or NaN `t`.
pub fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() || !(df > 0.0 && df.is_finite()) {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    let t2 = t * t;
    let denominator = df + t2;
    regularized_incomplete_beta(df / 2.0, 0.5, df / denominator, t2 / denominator)
}

/// Regularized incomplete beta function `I_x(a, b)` for `a, b > 0`, given `x` and `y = 1 − x`
/// (the caller may know `y` more precisely than `1 − x`). Numerical Recipes §6.4: the
/// continued fraction converges quickly for `x < (a + 1)/(a + b + 2)`; otherwise use the
/// symmetry `I_x(a, b) = 1 − I_{1−x}(b, a)`.
fn regularized_incomplete_beta(a: f64, b: f64, x: f64, y: f64) -> f64 {
    let unit = 0.0..=1.0;
    let valid = a > 0.0 && b > 0.0 && unit.contains(&x) && unit.contains(&y);
    if !valid {
        return f64::NAN;
    }
    if x == 0.0 {
        return 0.0;
    }
    if y == 0.0 {
        return 1.0;
    }
    // x^a · y^b / (a · B(a, b)) is the prefactor of the continued fraction.
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * y.ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, y) / b
    }
}

/// The continued fraction for `I_x(a, b)` evaluated by the modified Lentz method (Numerical
/// Recipes `betacf`). It needs O(√max(a, b)) terms; past the cap it returns its best value
/// rather than fail.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const EPS: f64 = 1e-16;
    const TINY: f64 = 1e-300; // keeps a vanishing denominator from dividing by zero
    let max_terms = (1000.0 + 100.0 * a.max(b).sqrt()).min(1e7) as usize;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=max_terms {
        let m = m as f64;
        let m2 = 2.0 * m;
        // Even step of the recurrence.
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        h *= d * c;
        // Odd step.
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// ln Γ(x) for `x > 0` by the Lanczos approximation (g = 7, 9 coefficients; relative error
/// ~1e-15), with the reflection formula below 1/2.
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Γ(x) Γ(1 − x) = π / sin(πx)
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, &c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
    }

    #[test]
    fn exact_figures_of_a_small_skewed_sample() {
        let xs = [1.0, 2.0, 3.0, 4.0, 100.0];
        assert_eq!(mean(&xs), 22.0);
        assert_eq!(median(&xs), 3.0);
        assert_eq!(quantile(&xs, 0.25), 2.0);
        assert_eq!(quantile(&xs, 0.75), 4.0);
        assert_eq!(quantile(&xs, 0.0), 1.0);
        assert_eq!(quantile(&xs, 1.0), 100.0);
        assert!(close(quantile(&xs, 0.1), 1.4, 1e-15)); // h = 0.4
        assert!(close(quantile(&xs, 0.9), 61.6, 1e-15)); // h = 3.6: 4 + 0.6·96
        // deviations from 22: −21, −20, −19, −18, 78; squares sum to 7610
        assert_eq!(std_dev(&xs), (7610.0f64 / 4.0).sqrt());
        // |x − 3| = 2, 1, 0, 1, 97 → median 1
        assert_eq!(mad(&xs), 1.4826);
        let o = tukey(&xs);
        assert_eq!(o.fences, [-4.0, -1.0, 7.0, 10.0]);
        assert_eq!(
            (o.low_severe, o.low_mild, o.high_mild, o.high_severe),
            (0, 0, 0, 1)
        );
        assert_eq!(o.total(), 1);
    }

    #[test]
    fn even_counts_interpolate_like_numpy() {
        let xs = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(median(&xs), 2.5);
        assert_eq!(quantile(&xs, 0.25), 1.75);
        assert_eq!(quantile(&xs, 0.75), 3.25);
        assert_eq!(quantile(&xs, 0.5), median(&xs));
        assert_eq!(std_dev(&xs), (5.0f64 / 3.0).sqrt());
        // |x − 2.5| = 1.5, 1.5, 0.5, 0.5 → median 1
        assert_eq!(mad(&xs), 1.4826);
    }

    #[test]
    fn quantile_clamps_q_and_rejects_nan() {
        let xs = [3.0, 1.0, 2.0];
        assert_eq!(quantile(&xs, -1.0), 1.0);
        assert_eq!(quantile(&xs, 2.0), 3.0);
        assert!(quantile(&xs, f64::NAN).is_nan());
    }

    #[test]
    fn tukey_counts_one_outlier_of_each_kind() {
        // Core 10..=29; quartiles (type 7, n = 24): Q1 = 13.75, Q3 = 25.25, IQR = 11.5.
        let mut xs: Vec<f64> = (10..30).map(f64::from).collect();
        xs.extend([-40.0, -10.0, 50.0, 80.0]);
        let o = tukey(&xs);
        assert_eq!(o.fences, [-20.75, -3.5, 42.5, 59.75]);
        assert_eq!(o.low_severe, 1);
        assert_eq!(o.low_mild, 1);
        assert_eq!(o.high_mild, 1);
        assert_eq!(o.high_severe, 1);
        assert_eq!(o.total(), 4);
    }

    #[test]
    fn samples_on_a_fence_belong_to_the_milder_side() {
        let big = tukey(&[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 4.0]);
        // Q1 = 0, Q3 = 1: fences [−3, −1.5, 2.5, 4] and 4 sits on the severe fence → mild.
        assert_eq!(big.fences, [-3.0, -1.5, 2.5, 4.0]);
        assert_eq!((big.high_mild, big.high_severe), (1, 0));
    }

    #[test]
    fn constant_samples_give_a_zero_width_interval_and_no_outliers() {
        let xs = [0.25; 50];
        let s = summarize(&xs, 0.95, 1000, 7);
        for e in [s.mean, s.median] {
            assert_eq!((e.point, e.lower, e.upper), (0.25, 0.25, 0.25));
            assert_eq!(e.standard_error, 0.0);
        }
        assert_eq!((s.std_dev, s.mad, s.min, s.max), (0.0, 0.0, 0.25, 0.25));
        assert_eq!(s.outliers.total(), 0);
        let e = bootstrap(&xs, median, 100, 0.99, 1);
        assert_eq!((e.lower, e.upper), (0.25, 0.25));
    }

    #[test]
    fn one_sample_collapses_the_interval_onto_the_point() {
        let s = summarize(&[3.5], 0.95, 200, 1);
        assert_eq!(s.n, 1);
        for e in [s.mean, s.median] {
            assert_eq!(
                (e.point, e.lower, e.upper, e.standard_error),
                (3.5, 3.5, 3.5, 0.0)
            );
        }
        assert_eq!((s.std_dev, s.mad, s.min, s.max), (0.0, 0.0, 3.5, 3.5));
        assert_eq!(s.outliers.total(), 0);
    }

    #[test]
    fn empty_input_gives_nan_figures_and_zero_counts() {
        let s = summarize(&[], 0.95, 100, 1);
        assert_eq!(s.n, 0);
        for e in [s.mean, s.median] {
            assert!(e.point.is_nan() && e.lower.is_nan() && e.upper.is_nan());
            assert!(e.standard_error.is_nan());
            assert_eq!(e.confidence_level, 0.95);
        }
        for v in [s.std_dev, s.mad, s.min, s.max] {
            assert!(v.is_nan());
        }
        assert_eq!(s.outliers.total(), 0);
        assert!(s.outliers.fences.iter().all(|f| f.is_nan()));
        assert!(mean(&[]).is_nan() && median(&[]).is_nan() && quantile(&[], 0.5).is_nan());
        assert!(
            bootstrap_ratio(&[], &[1.0], mean, 10, 0.95, 0)
                .point
                .is_nan()
        );
        let (t, df, p) = welch_t_test(&[], &[1.0, 2.0]);
        assert!(t.is_nan() && df.is_nan() && p.is_nan());
    }

    #[test]
    fn nan_samples_and_bad_arguments_do_not_panic() {
        let xs = [1.0, f64::NAN, 3.0, -f64::NAN, 2.0];
        let s = summarize(&xs, 0.95, 100, 3);
        assert_eq!(s.n, 5);
        let _ = (
            quantile(&xs, 0.3),
            tukey(&xs),
            mad(&xs),
            welch_t_test(&xs, &xs),
        );
        let _ = bootstrap_ratio(&xs, &xs, median, 50, 0.9, 0);
        // No resamples, or an impossible confidence level: a point but no interval.
        for (resamples, level) in [(0, 0.95), (100, 1.5), (100, f64::NAN), (100, -0.1)] {
            let e = bootstrap(&[1.0, 2.0, 3.0], mean, resamples, level, 0);
            assert_eq!(e.point, 2.0);
            assert!(e.lower.is_nan() && e.upper.is_nan() && e.standard_error.is_nan());
        }
        let _ = summarize(&[f64::INFINITY, 1.0, f64::NEG_INFINITY], 0.95, 50, 0);
    }

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

    #[test]
    fn summarize_mean_is_bootstrap_of_mean_with_the_same_seed() {
        let xs = [1.0, 5.0, 2.0, 8.0, 3.0, 3.5, 9.0];
        let s = summarize(&xs, 0.9, 500, 11);
        assert_eq!(s.mean, bootstrap(&xs, mean, 500, 0.9, 11));
        assert_eq!(s.median.point, 3.5);
        assert_ne!(s.median, bootstrap(&xs, median, 500, 0.9, 11)); // independent stream
        assert_eq!(
            bootstrap_in_place(&xs, median_in_place, 500, 0.9, 11),
            bootstrap(&xs, median, 500, 0.9, 11)
        );
        assert_eq!((s.min, s.max), (1.0, 9.0));
    }

    #[test]
    fn index_draws_are_uniform_and_in_range() {
        let mut rng = generator(9, 0);
        let mut counts = [0usize; 7];
        for _ in 0..70_000 {
            counts[index_below(&mut rng, 7)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(index_below(&mut rng, 1), 0);
    }

    #[test]
    fn summaries_with_nan_figures_survive_a_json_round_trip() {
        // serde_json writes NaN as null; reading it back must not fail (an empty measurement
        // would otherwise make its whole report unreadable).
        let empty = summarize(&[], 0.95, 10, 0);
        let json = serde_json::to_string(&empty).unwrap();
        assert!(json.contains("\"point\":null"), "{json}");
        let back: Summary = serde_json::from_str(&json).unwrap();
        assert!(back.mean.point.is_nan() && back.outliers.fences[2].is_nan());
        assert_eq!(serde_json::to_string(&back).unwrap(), json);

        let full = summarize(&[1.0, 2.0, 4.0, 8.0], 0.9, 100, 3);
        let back: Summary = serde_json::from_str(&serde_json::to_string(&full).unwrap()).unwrap();
        assert!(close(back.median.upper, full.median.upper, 1e-15));
        assert_eq!(
            (back.n, back.outliers.fences[3]),
            (full.n, full.outliers.fences[3])
        );

        // A missing figure is still an error: only null means NaN.
        assert!(serde_json::from_str::<Estimate>(r#"{"point":1.0}"#).is_err());
        let schema = serde_json::to_value(schemars::schema_for!(Summary)).unwrap();
        assert_eq!(
            schema["properties"]["mad"]["type"],
            serde_json::json!(["number", "null"])
        );
        assert_eq!(schema["required"].as_array().map(Vec::len), Some(8));
        let estimate = &schema["$defs"]["Estimate"];
        assert_eq!(estimate["required"].as_array().map(Vec::len), Some(5));
        let fences = &schema["$defs"]["Outliers"]["properties"]["fences"];
        assert_eq!(fences["maxItems"], 4);
        assert!(fences["description"].is_string());
    }

    #[test]
    fn estimate_helpers() {
        let e = Estimate {
            point: 2.0,
            lower: 1.8,
            upper: 2.4,
            confidence_level: 0.95,
            standard_error: 0.1,
        };
        assert!(close(e.relative_half_width(), 0.15, 1e-12));
        let ms = e.scaled(1e3);
        assert_eq!((ms.point, ms.lower, ms.upper), (2000.0, 1800.0, 2400.0));
        assert_eq!((ms.confidence_level, ms.standard_error), (0.95, 100.0));
        let neg = e.scaled(-1.0);
        assert_eq!((neg.point, neg.lower, neg.upper), (-2.0, -2.4, -1.8));
        assert_eq!(neg.standard_error, 0.1);
        assert!(close(neg.relative_half_width(), 0.15, 1e-12));
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        assert!(close(ln_gamma(1.0), 0.0, 1e-15) || ln_gamma(1.0).abs() < 1e-15);
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-14));
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-14
        ));
        // mpmath loggamma
        assert!(close(ln_gamma(0.3), 1.095_797_994_818_075_5, 1e-14));
        assert!(close(ln_gamma(100.0), 359.134_205_369_575_4, 1e-14));
        assert!(close(ln_gamma(1e-3), 6.907_178_885_383_853, 1e-14));
    }

    #[test]
    fn incomplete_beta_matches_closed_forms_and_mpmath() {
        for x in [0.01, 0.2, 0.5, 0.77, 0.99] {
            let y = 1.0 - x;
            assert!(close(regularized_incomplete_beta(1.0, 1.0, x, y), x, 1e-13));
            assert!(close(
                regularized_incomplete_beta(3.0, 1.0, x, y),
                x.powi(3),
                1e-13
            ));
            let closed = 1.0 - y.powf(2.5);
            assert!(close(
                regularized_incomplete_beta(1.0, 2.5, x, y),
                closed,
                1e-13
            ));
        }
        // mpmath betainc(a, b, 0, x, regularized=True)
        assert!(close(
            regularized_incomplete_beta(2.5, 0.5, 0.3, 0.7),
            0.018_927_124_071_945_65,
            1e-12
        ));
        assert!(close(
            regularized_incomplete_beta(10.0, 3.0, 0.7, 0.3),
            0.252_815_347_854_999_9,
            1e-12
        ));
        assert!(close(
            regularized_incomplete_beta(0.5, 0.5, 0.2, 0.8),
            0.295_167_235_300_866_6,
            1e-12
        ));
        assert!(regularized_incomplete_beta(-1.0, 1.0, 0.5, 0.5).is_nan());
    }

    #[test]
    fn student_t_p_values_match_known_values() {
        // two-sided p, reference values from mpmath at 30 digits
        let cases = [
            (2.0, 10.0, 0.073_388_034_770_740_37),
            (1.0, 1.0, 0.5),
            (3.0, 5.5, 0.026_723_480_661_845_91),
            (0.5, 30.0, 0.620_723_004_885_127_3),
            (5.0, 200.0, 1.250_198_127_771_539_5e-6),
            (10.0, 3.0, 0.002_128_399_058_414_15),
        ];
        for (t, df, p) in cases {
            let got = student_t_two_sided_p(t, df);
            assert!(close(got, p, 1e-11), "t={t} df={df}: {got} vs {p}");
            assert!(close(student_t_two_sided_p(-t, df), p, 1e-11));
        }
        // Large df: ln Γ of large arguments costs a few digits.
        let got = student_t_two_sided_p(1.5, 1e5);
        assert!(close(got, 0.133_617_559_522_830_6, 1e-8), "{got}");
        assert_eq!(student_t_two_sided_p(0.0, 4.0), 1.0);
        assert_eq!(student_t_two_sided_p(f64::INFINITY, 4.0), 0.0);
        assert!(student_t_two_sided_p(1.0, 0.0).is_nan());
        assert!(student_t_two_sided_p(1.0, f64::INFINITY).is_nan());
    }

    #[test]
    fn student_t_cdf_matches_closed_forms() {
        for t in [-30.0, -3.0, -1.0, -0.2, 0.0, 0.4, 1.0, 2.5, 50.0] {
            // df = 1 is Cauchy; df = 2 has F(t) = 1/2 + t / (2√(2 + t²)).
            let cauchy = 0.5 + f64::atan(t) / std::f64::consts::PI;
            assert!(close(student_t_cdf(t, 1.0), cauchy, 1e-12), "t={t}");
            let two = 0.5 + t / (2.0 * (2.0 + t * t).sqrt());
            assert!(close(student_t_cdf(t, 2.0), two, 1e-12), "t={t}");
        }
    }

    #[test]
    fn welch_matches_known_values() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [2.0, 4.0, 6.0, 8.0, 10.0];
        let (t, df, p) = welch_t_test(&a, &b);
        assert!(close(t, -1.897_366_596_101_027_6, 1e-13));
        assert!(close(df, 5.882_352_941_176_471, 1e-13));
        assert!(close(p, 0.107_531_194_930_627_24, 1e-10));
        // Wikipedia's Welch example (A1, A2 of "Welch's t-test"), mpmath reference values.
        let a1 = [
            27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
            21.4,
        ];
        let a2 = [
            27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
            24.4,
        ];
        let (t, df, p) = welch_t_test(&a1, &a2);
        assert!(close(t, -2.455_356_398_286_009, 1e-12));
        assert!(close(df, 24.988_529_290_231_414, 1e-12));
        assert!(close(p, 0.021_378_001_462_866_843, 1e-10));
        let (t2, df2, p2) = welch_t_test(&a2, &a1);
        assert_eq!((t2, df2, p2), (-t, df, p));
    }

    #[test]
    fn mann_whitney_matches_r() {
        // R: wilcox.test(1:5, 6:10, exact = FALSE) → W = 0, p-value = 0.01219.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [6.0, 7.0, 8.0, 9.0, 10.0];
        let (u, z, p) = mann_whitney_u(&a, &b);
        assert_eq!(u, 0.0);
        assert!((z + 2.5067).abs() < 1e-4, "{z}");
        assert!((p - 0.01219).abs() < 1e-5, "{p}");
        // Symmetric in the sides (U becomes n1·n2 − U).
        let (u2, z2, p2) = mann_whitney_u(&b, &a);
        assert_eq!((u2, z2), (25.0, -z));
        assert!((p2 - p).abs() < 1e-15);
        // Equal values everywhere: no evidence; empty side: undefined.
        assert_eq!(mann_whitney_u(&[2.0; 3], &[2.0; 4]), (6.0, 0.0, 1.0));
        assert!(mann_whitney_u(&[], &[1.0]).2.is_nan());
        // One outlier does not hide a clean shift (a t-test's variance would swallow it).
        let mut slow: Vec<f64> = (0..30).map(|i| 1.10 + 0.001 * i as f64).collect();
        let fast: Vec<f64> = (0..30).map(|i| 1.00 + 0.001 * i as f64).collect();
        slow[0] = 100.0;
        assert!(mann_whitney_u(&fast, &slow).2 < 1e-6);
        assert!(welch_t_test(&fast, &slow).2 > 0.1);
    }

    #[test]
    fn welch_on_constant_samples() {
        assert_eq!(welch_t_test(&[2.0, 2.0], &[2.0, 2.0, 2.0]), (0.0, 3.0, 1.0));
        let (t, df, p) = welch_t_test(&[1.0, 1.0], &[2.0, 2.0]);
        assert_eq!((t, df, p), (f64::NEG_INFINITY, 2.0, 0.0));
    }

    fn samples() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(1e-3f64..1e3, 2..200)
    }

    const RESAMPLES: usize = 300;

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
        fn quantile_is_monotone_in_q(xs in samples(), q1 in 0.0f64..=1.0, q2 in 0.0f64..=1.0) {
            let (lo, hi) = if q1 <= q2 { (q1, q2) } else { (q2, q1) };
            prop_assert!(quantile(&xs, lo) <= quantile(&xs, hi));
        }

        #[test]
        fn order_figures_are_consistent(xs in samples()) {
            let s = summarize(&xs, 0.95, 20, 0);
            prop_assert!(s.min <= s.median.point && s.median.point <= s.max);
            prop_assert!(s.min <= s.mean.point && s.mean.point <= s.max);
            prop_assert_eq!(s.median.point, quantile(&xs, 0.5));
            prop_assert!(s.outliers.total() <= s.n);
            prop_assert!(s.std_dev >= 0.0 && s.mad >= 0.0);
            let f = s.outliers.fences;
            prop_assert!(f[0] <= f[1] && f[1] <= f[2] && f[2] <= f[3]);
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
        fn ratio_is_unit_free(base in samples(), new in samples(), k in 1e-3f64..1e3, seed: u64) {
            let (kb, kn): (Vec<f64>, Vec<f64>) =
                (base.iter().map(|x| x * k).collect(), new.iter().map(|x| x * k).collect());
            let e = bootstrap_ratio(&base, &new, mean, 100, 0.95, seed);
            let f = bootstrap_ratio(&kb, &kn, mean, 100, 0.95, seed);
            // Relative changes near 0 lose relative precision, so compare in units of 1 + change.
            prop_assert!(((1.0 + f.lower) - (1.0 + e.lower)).abs() <= 1e-9 * (1.0 + e.lower));
            prop_assert!(((1.0 + f.upper) - (1.0 + e.upper)).abs() <= 1e-9 * (1.0 + e.upper));
        }

        #[test]
        fn welch_p_is_a_probability_and_symmetric(a in samples(), b in samples()) {
            let (t, df, p) = welch_t_test(&a, &b);
            prop_assert!((0.0..=1.0).contains(&p), "p = {p}");
            prop_assert!(df > 0.0);
            let (t2, _, p2) = welch_t_test(&b, &a);
            prop_assert_eq!(t2, -t);
            prop_assert_eq!(p2, p);
            prop_assert!(close(student_t_cdf(t, df) + student_t_cdf(-t, df), 1.0, 1e-12));
        }
    }
}
