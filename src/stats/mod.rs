//! The statistics kernel over `&[f64]` samples (seconds, or any other positive measurement):
//! point estimates, bootstrap confidence intervals, Tukey outliers, a rank test and change
//! points. It owns no units: every figure it returns is in the unit of the samples it was given,
//! or is a ratio. It uses nothing else in the crate.
//!
//! Each file implements one method and cites its source:
//!
//! - [`descriptive`]: mean, type-7 quantiles and the median, standard deviation, MAD, Tukey's
//!   fences ([`Outliers`]);
//! - [`estimate`]: [`Estimate`], a statistic with its confidence interval;
//! - [`bootstrap`](mod@bootstrap): percentile bootstrap intervals of a statistic and of a
//!   relative change;
//! - [`summary`]: [`Summary`] of one sample, as [`summarize`] computes it;
//! - [`rank_test`]: the Mann–Whitney U test;
//! - [`paired`](mod@paired): the paired change of two builds measured in interleaved rounds
//!   (log ratios, Student t), and t quantiles;
//! - [`student_t`]: Student's t distribution (regularised incomplete beta, ln Γ);
//! - [`rng`]: the seeded ChaCha8 generator and unbiased index draws shared by the bootstrap and
//!   the change-point permutations;
//! - [`changepoint`]: E-divisive change points of a history;
//! - `nan_as_null`: reading back the NaN figures JSON writes as `null`.
//!
//! # Degenerate input
//!
//! Nothing here panics on any input. An empty sample gives NaN for every figure and zero
//! outlier counts. A single sample gives a standard deviation and MAD of 0 and an interval
//! collapsed onto the point. All-equal samples give a zero-width interval and no outliers. NaN
//! samples are the caller's problem: they are ordered with [`f64::total_cmp`] and propagate into
//! the figures they touch, but never panic.

pub mod bootstrap;
pub mod changepoint;
pub mod descriptive;
pub mod estimate;
pub(crate) mod nan_as_null;
pub mod paired;
pub mod rank_test;
pub(crate) mod rng;
pub mod student_t;
pub mod summary;

pub use bootstrap::{bootstrap, bootstrap_median_ratio, bootstrap_ratio};
pub use descriptive::{
    MAD_NORMAL_CONSISTENCY, Outliers, mad, mean, median, quantile_sorted, std_dev, tukey,
};
pub use estimate::Estimate;
pub use paired::{PairedChange, paired_log_ratio};
pub use rank_test::mann_whitney_u;
pub use student_t::{student_t_cdf, student_t_two_sided_p};
pub use summary::{Summary, summarize};

/// Helpers shared by the unit tests of this module's files.
#[cfg(test)]
mod test_support {
    use proptest::prelude::*;

    /// `a` and `b` agree to a relative `rel`.
    pub fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
    }

    /// Samples of plausible timings: 2 to 199 values in [1e-3, 1e3).
    pub fn samples() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(1e-3f64..1e3, 2..200)
    }

    /// The type-7 `q`-quantile of an unsorted sample.
    pub fn quantile(xs: &[f64], q: f64) -> f64 {
        let mut sorted = xs.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        super::quantile_sorted(&sorted, q)
    }
}
