//! Paired comparison of two builds measured in interleaved rounds (`costbench ab`): round `r`
//! gives one figure of each side, `a_r` and `b_r`, measured back to back on the same machine, so
//! whatever disturbed that round (another process, a frequency change, a noisy neighbour on a
//! shared runner) touches both. The change is estimated from the per-round log ratios
//! `d_r = ln(b_r / a_r)`, which cancel that shared disturbance:
//!
//! - the relative change is `exp(mean d) − 1` (the geometric mean of the ratios, minus one);
//! - its confidence interval is the paired Student t interval of the mean log ratio,
//!   `mean d ± t_{1−α/2, n−1} · s_d / √n`, mapped through `exp(·) − 1`;
//! - the p-value is the paired t-test's two-sided `P(|T_{n−1}| ≥ |mean d| / (s_d / √n))`.
//!
//! The t interval assumes the log ratios are roughly normal; they are ratios of medians of many
//! steps each, which are. An outlying round widens the interval (fewer detections) rather than
//! faking a change, which is the right way to fail in a CI gate. (Student, "The probable error
//! of a mean", *Biometrika* 6(1), 1908; the paired design as in any statistics text, e.g.
//! Rice, *Mathematical Statistics and Data Analysis*, 3rd ed., §11.3.)

use super::Estimate;
use super::student_t::{student_t_cdf, student_t_two_sided_p};

/// A paired change: `b` relative to `a`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedChange {
    /// `exp(mean ln(b/a)) − 1` and its interval (a fraction: 0.05 = 5% larger).
    pub change: Estimate,
    /// Two-sided p-value of the paired t-test (NaN with fewer than two rounds).
    pub p_value: f64,
    /// Rounds used.
    pub rounds: usize,
}

/// The paired change of `b` over `a` (same length, round by round), with a `confidence_level`
/// interval. Pairs where either value is not a positive finite number are an error of the
/// caller's data and make every figure NaN; fewer than two pairs give a NaN interval.
pub fn paired_log_ratio(a: &[f64], b: &[f64], confidence_level: f64) -> PairedChange {
    let undefined = PairedChange {
        change: Estimate::undefined(confidence_level),
        p_value: f64::NAN,
        rounds: a.len().min(b.len()),
    };
    let valid = |x: f64| x.is_finite() && x > 0.0;
    if a.len() != b.len() || a.iter().chain(b).any(|&x| !valid(x)) || a.is_empty() {
        return undefined;
    }
    let n = a.len();
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| (y / x).ln()).collect();
    let mean = d.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return PairedChange {
            change: Estimate {
                point: mean.exp_m1(),
                ..Estimate::undefined(confidence_level)
            },
            ..undefined
        };
    }
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = var.sqrt() / (n as f64).sqrt();
    let df = (n - 1) as f64;
    let (p_value, half) = if se > 0.0 {
        let t = mean / se;
        (
            student_t_two_sided_p(t, df),
            t_quantile(0.5 + confidence_level / 2.0, df) * se,
        )
    } else if mean == 0.0 {
        // Every round identical: no evidence of any change.
        (1.0, 0.0)
    } else {
        // Every round moved by exactly the same ratio: a certain change.
        (0.0, 0.0)
    };
    PairedChange {
        change: Estimate {
            point: mean.exp_m1(),
            lower: (mean - half).exp_m1(),
            upper: (mean + half).exp_m1(),
            confidence_level,
            // Of the mean log ratio (≈ the relative change's, for small changes).
            standard_error: se,
        },
        p_value,
        rounds: n,
    }
}

/// The `q` quantile of Student's t with `df` degrees of freedom (0 < q < 1), by bisection on the
/// distribution function: 200 halvings of [−10⁶, 10⁶] reach the limit of f64.
pub fn t_quantile(q: f64, df: f64) -> f64 {
    let valid = q > 0.0 && q < 1.0 && df > 0.0;
    if !valid {
        return f64::NAN;
    }
    let (mut lo, mut hi) = (-1e6, 1e6);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if student_t_cdf(mid, df) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // R: qt(0.975, c(1, 2, 5, 9, 30)).
        for (df, want) in [
            (1.0, 12.706_204_736),
            (2.0, 4.302_652_730),
            (5.0, 2.570_581_836),
            (9.0, 2.262_157_163),
            (30.0, 2.042_272_456),
        ] {
            let got = t_quantile(0.975, df);
            assert!((got - want).abs() < 1e-6, "df {df}: {got} vs {want}");
        }
        assert!((t_quantile(0.5, 4.0)).abs() < 1e-9);
        assert!(t_quantile(0.0, 4.0).is_nan() && t_quantile(0.9, 0.0).is_nan());
    }

    #[test]
    fn a_paired_change_matches_a_hand_computation() {
        // R: d <- log(b/a); t.test(d) gives mean, interval and p.
        let a = [1.00, 1.10, 0.95, 1.05, 1.02, 0.98];
        let b = [1.05, 1.14, 1.01, 1.09, 1.08, 1.02];
        let r = paired_log_ratio(&a, &b, 0.95);
        let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| (y / x).ln()).collect();
        let mean = d.iter().sum::<f64>() / 6.0;
        let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 5.0).sqrt();
        let half = 2.570_581_836 * sd / 6f64.sqrt();
        assert!((r.change.point - mean.exp_m1()).abs() < 1e-12);
        assert!((r.change.lower - (mean - half).exp_m1()).abs() < 1e-8);
        assert!((r.change.upper - (mean + half).exp_m1()).abs() < 1e-8);
        let p = student_t_two_sided_p(mean / (sd / 6f64.sqrt()), 5.0);
        assert!((r.p_value - p).abs() < 1e-12 && r.p_value < 0.001, "{}", r.p_value);
        assert_eq!(r.rounds, 6);
    }

    #[test]
    fn a_drift_shared_by_both_sides_cancels() {
        // The machine slows down by 30% over the rounds; b is 4% slower than a in every round.
        let a: Vec<f64> = (0..8).map(|r| 1.0 + 0.04 * r as f64).collect();
        let b: Vec<f64> = a.iter().map(|x| x * 1.04).collect();
        let r = paired_log_ratio(&a, &b, 0.95);
        assert!((r.change.point - 0.04).abs() < 1e-12);
        assert_eq!((r.change.lower, r.change.upper), (r.change.point, r.change.point));
        assert_eq!(r.p_value, 0.0);
        // Identical sides: no change, p = 1.
        let same = paired_log_ratio(&a, &a, 0.95);
        assert_eq!((same.change.point, same.p_value), (0.0, 1.0));
    }

    #[test]
    fn bad_or_short_input_is_nan_never_a_panic() {
        for (a, b) in [
            (vec![], vec![]),
            (vec![1.0, 2.0], vec![1.0]),
            (vec![1.0, 0.0], vec![1.0, 1.0]),
            (vec![1.0, f64::NAN], vec![1.0, 1.0]),
            (vec![1.0, -1.0], vec![1.0, 1.0]),
        ] {
            let r = paired_log_ratio(&a, &b, 0.95);
            assert!(r.change.point.is_nan() && r.p_value.is_nan(), "{a:?} {b:?}");
        }
        let one = paired_log_ratio(&[1.0], &[1.1], 0.95);
        assert!((one.change.point - 0.1).abs() < 1e-12);
        assert!(one.change.lower.is_nan() && one.p_value.is_nan());
    }
}
