//! [`Estimate`]: a statistic with its confidence interval and standard error, as the bootstrap
//! ([`super::bootstrap`](mod@super::bootstrap)) computes them, and the unit changes a caller
//! applies to one.

use super::nan_as_null;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    pub(super) fn undefined(confidence_level: f64) -> Estimate {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_support::close;

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
}
