//! [`Summary`]: everything about one sample — mean and median with percentile bootstrap
//! intervals ([`super::bootstrap`](mod@super::bootstrap)), standard deviation, MAD, range and
//! Tukey outliers ([`super::descriptive`]) — as the sampler and the report record it.

use super::bootstrap::{bootstrap, bootstrap_median};
use super::descriptive::{Outliers, mad, mean, std_dev, tukey};
use super::estimate::Estimate;
use super::nan_as_null;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
        mean: bootstrap(xs, mean, resamples, confidence_level, seed),
        median: bootstrap_median(xs, resamples, confidence_level, seed, 1),
        std_dev: std_dev(xs),
        mad: mad(xs),
        min,
        max,
        outliers: tukey(xs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::bootstrap_ratio;
    use crate::stats::descriptive::{median, quantile_sorted};
    use crate::stats::rank_test::mann_whitney_u;
    use crate::stats::test_support::{close, quantile, samples};
    use proptest::prelude::*;

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
        assert!(mean(&[]).is_nan() && median(&[]).is_nan() && quantile_sorted(&[], 0.5).is_nan());
        assert!(
            bootstrap_ratio(&[], &[1.0], mean, 10, 0.95, 0)
                .point
                .is_nan()
        );
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
            mann_whitney_u(&xs, &xs),
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
    fn summarize_mean_is_bootstrap_of_mean_with_the_same_seed() {
        let xs = [1.0, 5.0, 2.0, 8.0, 3.0, 3.5, 9.0];
        let s = summarize(&xs, 0.9, 500, 11);
        assert_eq!(s.mean, bootstrap(&xs, mean, 500, 0.9, 11));
        assert_eq!(s.median.point, 3.5);
        assert_ne!(s.median, bootstrap(&xs, median, 500, 0.9, 11)); // independent stream
        assert_eq!((s.min, s.max), (1.0, 9.0));
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

    proptest! {
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
    }
}
