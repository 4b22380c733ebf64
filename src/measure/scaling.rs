//! The scaling check: a transformer slice measured at several sizes, and a least-squares fit of
//! time = a + b·FLOPs. A good fit (R² ≥ 0.98) is the evidence that time grows linearly with
//! the work, so that the slice's measured rate can be extrapolated to the full-size target; a
//! poor fit says the slice is too small (fixed costs dominate) or the machine too noisy.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// R² below which the fit is called poor.
pub const MIN_R_SQUARED: f64 = 0.98;

/// One measured size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScalingPoint {
    /// What changed, e.g. `layers = 3`.
    pub size: String,
    /// Executed FLOPs of one step at this size.
    pub flops: u64,
    /// Median step time, seconds.
    pub median_s: f64,
    /// Every sampled step time, seconds.
    pub samples_s: Vec<f64>,
}

/// The fit over all points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScalingCheck {
    pub points: Vec<ScalingPoint>,
    /// Intercept a, seconds: fixed cost per step.
    pub intercept_s: f64,
    /// Slope b, seconds per FLOP.
    pub seconds_per_flop: f64,
    /// 1/b in GFLOP/s: the marginal rate the extrapolation uses.
    pub marginal_gflops: f64,
    /// Coefficient of determination of the fit on the medians.
    pub r_squared: f64,
    /// Sizes `--max-time` ran out before sampling twice, left out of the fit (since 1.5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
}

/// Ordinary least squares of y = a + b·x: (a, b, R²). R² is 1 when every y is equal and
/// fitted exactly, and NaN with fewer than two distinct x.
pub fn linear_fit(xs: &[f64], ys: &[f64]) -> (f64, f64, f64) {
    let n = xs.len().min(ys.len()) as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    if sxx == 0.0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let b = sxy / sxx;
    let a = my - b * mx;
    let ss_tot: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    let ss_res: f64 = xs
        .iter()
        .zip(ys)
        .map(|(x, y)| (y - a - b * x).powi(2))
        .sum();
    let r2 = if ss_tot == 0.0 {
        1.0
    } else {
        1.0 - ss_res / ss_tot
    };
    (a, b, r2)
}

impl ScalingCheck {
    /// Fits the points (FLOPs against median time).
    pub fn fit(points: Vec<ScalingPoint>) -> Self {
        let xs: Vec<f64> = points.iter().map(|p| p.flops as f64).collect();
        let ys: Vec<f64> = points.iter().map(|p| p.median_s).collect();
        let (a, b, r2) = linear_fit(&xs, &ys);
        Self {
            points,
            intercept_s: a,
            seconds_per_flop: b,
            marginal_gflops: 1.0 / b / 1e9,
            r_squared: r2,
            left_out: Vec::new(),
        }
    }

    /// A warning when the fit is poor, or sizes were left out, saying what to do.
    pub fn warning(&self) -> Option<String> {
        if !self.left_out.is_empty() {
            return Some(format!(
                "scaling check: --max-time ran out before {} could be sampled twice; the fit \
                 (R² = {:.4}) uses the {} other sizes and does not support extrapolating this \
                 slice: raise --max-time",
                self.left_out.join(", "),
                self.r_squared,
                self.points.len()
            ));
        }
        // NaN (a degenerate fit) counts as poor.
        let good = self.r_squared >= MIN_R_SQUARED;
        (!good).then(|| {
            format!(
                "scaling check: time = a + b·FLOPs fits poorly (R² = {:.4} < {MIN_R_SQUARED}): \
                 extrapolating this slice to the target is not supported by the data; use a \
                 larger slice (more layers, longer sequences) or a quieter machine",
                self.r_squared
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_line_has_r_squared_one() {
        let (a, b, r2) = linear_fit(&[1.0, 2.0, 3.0, 4.0], &[3.0, 5.0, 7.0, 9.0]);
        assert!((a - 1.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
        assert!((r2 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn hand_computed_fit() {
        // x = 0, 1, 2; y = 0, 1, 3: b = 1.5, a = −1/6, SS_res = 1/6, SS_tot = 14/3 → R² = 27/28.
        let (a, b, r2) = linear_fit(&[0.0, 1.0, 2.0], &[0.0, 1.0, 3.0]);
        assert!((b - 1.5).abs() < 1e-12);
        assert!((a + 1.0 / 6.0).abs() < 1e-12);
        assert!((r2 - 27.0 / 28.0).abs() < 1e-12);
    }

    #[test]
    fn a_poor_fit_warns_and_a_good_one_does_not() {
        let point = |flops: u64, t: f64| ScalingPoint {
            size: String::new(),
            flops,
            median_s: t,
            samples_s: vec![t],
        };
        let good = ScalingCheck::fit(vec![point(1, 1.1), point(2, 2.1), point(3, 3.1)]);
        assert!(good.warning().is_none());
        assert!((good.marginal_gflops - 1e-9).abs() < 1e-18);
        let poor = ScalingCheck::fit(vec![point(1, 1.0), point(2, 3.0), point(3, 1.5)]);
        assert!(poor.warning().unwrap().contains("fits poorly"));
        let degenerate = ScalingCheck::fit(vec![point(1, 1.0), point(1, 2.0), point(1, 3.0)]);
        assert!(degenerate.warning().is_some());
        let mut short = ScalingCheck::fit(vec![point(1, 1.1), point(2, 2.1)]);
        short.left_out = vec!["layers = 3".to_string()];
        let w = short.warning().unwrap();
        assert!(
            w.contains("layers = 3") && w.contains("raise --max-time"),
            "{w}"
        );
    }
}
