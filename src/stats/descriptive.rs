//! Descriptive statistics of one sample: mean, quantiles and the median, standard deviation,
//! median absolute deviation and Tukey's outlier fences.
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

use super::nan_as_null;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Scales the raw median absolute deviation so it estimates σ for normally distributed data:
/// `1 / Φ⁻¹(3/4)`.
pub const MAD_NORMAL_CONSISTENCY: f64 = 1.4826;

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

/// Arithmetic mean; NaN for an empty sample.
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// `a + f·(b − a)` for `a ≤ b`, `f ∈ [0, 1]`, kept inside `[a, b]` so that rounding can never
/// make a quantile step backwards as `q` crosses an order statistic.
pub(super) fn lerp(a: f64, b: f64, f: f64) -> f64 {
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
pub(super) fn median_in_place(buf: &mut [f64]) -> f64 {
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

/// The `q`-quantile of a sample already sorted ascending (by [`f64::total_cmp`]), by linear
/// interpolation between order statistics (Hyndman & Fan type 7, numpy's default). `q` is
/// clamped to [0, 1]; NaN for an empty sample or a NaN `q`.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_support::{close, quantile, samples};
    use proptest::prelude::*;

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

    proptest! {
        #[test]
        fn quantile_is_monotone_in_q(xs in samples(), q1 in 0.0f64..=1.0, q2 in 0.0f64..=1.0) {
            let (lo, hi) = if q1 <= q2 { (q1, q2) } else { (q2, q1) };
            prop_assert!(quantile(&xs, lo) <= quantile(&xs, hi));
        }
    }
}
