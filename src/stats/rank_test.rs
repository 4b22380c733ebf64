//! The Mann–Whitney U test: H. B. Mann & D. R. Whitney, "On a test of whether one of two random
//! variables is stochastically larger than the other", *Annals of Mathematical Statistics*
//! 18(1), 1947 (equivalently Wilcoxon's rank-sum test). `compare` judges a change by it rather
//! than by a t-test; the tests below show why.

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::descriptive::{mean, std_dev};
    use crate::stats::student_t::student_t_two_sided_p;
    use crate::stats::test_support::close;

    /// Welch's unequal-variances t-test (B. L. Welch, Biometrika 34, 1947), two-sided p with the
    /// Welch–Satterthwaite degrees of freedom: only to show what Mann–Whitney is preferred to.
    fn welch_p(a: &[f64], b: &[f64]) -> f64 {
        let (na, nb) = (a.len() as f64, b.len() as f64);
        let (va, vb) = (std_dev(a).powi(2) / na, std_dev(b).powi(2) / nb);
        let t = (mean(a) - mean(b)) / (va + vb).sqrt();
        let df = (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
        student_t_two_sided_p(t, df)
    }

    #[test]
    fn welch_p_matches_a_known_value() {
        // Wikipedia's Welch example (A1, A2 of "Welch's t-test"), mpmath reference value.
        let a1 = [
            27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
            21.4,
        ];
        let a2 = [
            27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
            24.4,
        ];
        assert!(close(welch_p(&a1, &a2), 0.021_378_001_462_866_843, 1e-10));
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
        assert!(welch_p(&fast, &slow) > 0.1);
    }
}
