//! Change points in a performance history: the E-divisive means method, hand-written here (no
//! crate implements it).
//!
//! # Method
//!
//! E-divisive is due to D. S. Matteson & N. A. James, "A Nonparametric Approach for Multiple
//! Change Point Analysis of Multivariate Data", *Journal of the American Statistical
//! Association* 109(505), 334–345, 2014. MongoDB uses it to find performance regressions in
//! continuous integration: D. Daly, W. Brown, H. Ingo, J. O'Leary & D. Bradford, "The Use of
//! Change Point Detection to Identify Software Performance Regressions in a Continuous
//! Integration System", *ICPE 2020*. This file implements the univariate case with the paper's
//! `α = 1`, so the distance between two points is `|x − y|`.
//!
//! - **Divergence.** For a segment `[a, b)` and a split `τ`, let `X = x[a..τ)` (`m` points) and
//!   `Y = x[τ..b)` (`n` points). Then
//!   `Ê = 2/(m·n)·Σᵢⱼ|Xᵢ − Yⱼ| − C(m,2)⁻¹·Σ_{i<k}|Xᵢ − Xₖ| − C(n,2)⁻¹·Σ_{j<k}|Yⱼ − Yₖ|`
//!   and the statistic is `q̂(τ) = m·n/(m + n) · Ê`. The paper also moves the right end of `Y`
//!   (its `κ`) inside the segment; this implementation keeps it fixed at the segment's end, as
//!   MongoDB's `signal-processing-algorithms` does. Every split leaves at least
//!   [`Settings::min_segment`] points on each side.
//! - **Bisection.** Start with the whole series as one segment. Among all current segments take
//!   the split with the largest `q̂` (the first one on ties), test it, and if it is significant
//!   split that segment and repeat; stop at the first candidate that is not significant or when
//!   no segment is long enough to split.
//! - **Permutation test** (the paper's §3.2): shuffle the points within each current segment,
//!   redo the same search over all segments and keep its largest `q̂`; after `R` permutations
//!   `p = (1 + #{permuted ≥ observed}) / (1 + R)`. The candidate is accepted when
//!   `p ≤` [`Settings::significance`]. "≥" allows a relative slack of 10⁻⁹ so that a permutation
//!   that reproduces the observed statistic up to rounding counts as reaching it (conservative).
//!   Once so many permutations have reached the observed value that `p` can no longer fall to
//!   the significance level, the test stops early: the candidate is rejected and the search ends
//!   either way, so the result is the same, only sooner.
//! - **Cost.** One search over a segment of `L` points is `O(L²)`: each point's summed distance
//!   to the points left and right of it within the segment is computed once (`L²/2` distances),
//!   and moving `τ` one step updates the three sums in `O(1)`. A test costs `R` such searches
//!   over the whole series.
//! - **Reproducibility.** Shuffles are Fisher–Yates driven by ChaCha8 keyed by
//!   [`Settings::seed`] (the same key schedule as the bootstrap, [`super::rng`]), with indices
//!   drawn by Lemire's multiply-and-reject rather than `rand`'s `shuffle`, whose algorithm may
//!   change between versions. The same series and settings give the same change points on every
//!   platform.
//!
//! # Degenerate input
//!
//! A series with a non-finite value, or shorter than `2 · min_segment`, has no change points
//! (an empty result, not an error). A `min_segment` below 2 is treated as 2: the within-part
//! mean distance needs two points (R's `ecp::e.divisive` likewise requires `min.size ≥ 2`).
//! With `permutations = 0` the p-value is 1 and nothing is ever accepted. Values so large that
//! the distance sums overflow (magnitudes near `f64::MAX`) give a non-finite statistic, which
//! ends the search.

use super::descriptive::mean;
use super::nan_as_null;
use super::rng::{generator, index_below};
use rand_chacha::ChaCha8Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Settings of the detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Significance level of the permutation test (default 0.05).
    pub significance: f64,
    /// Permutations per candidate (default 199).
    pub permutations: usize,
    /// Minimum points in each segment (default 3).
    pub min_segment: usize,
    /// Seed of the ChaCha8 generator for permutations (default 0): same seed, same result.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            significance: 0.05,
            permutations: 199,
            min_segment: 3,
            seed: 0,
        }
    }
}

/// One detected change point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChangePoint {
    /// Index of the first point of the new segment (0-based, so 0 < index < n).
    pub index: usize,
    /// Mean of the segment before and after (the segments bounded by neighbouring change points).
    pub mean_before: f64,
    pub mean_after: f64,
    /// mean_after / mean_before − 1 (infinite or NaN when `mean_before` is 0; JSON `null` then,
    /// read back as NaN).
    #[serde(deserialize_with = "nan_as_null::number")]
    #[schemars(schema_with = "nan_as_null::number_schema")]
    pub relative_change: f64,
    /// Permutation p-value: (1 + #permutations with statistic ≥ observed) / (1 + permutations).
    pub p_value: f64,
    /// The divergence statistic q̂ at the chosen split.
    pub statistic: f64,
}

/// Relative slack of the permutation test's "≥" (see the module documentation).
const TIE_SLACK: f64 = 1e-9;

/// The best split of one segment.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// Absolute index of the first point of the right part.
    tau: usize,
    /// `q̂` at `tau`.
    statistic: f64,
}

/// Per-point distance sums, reused across searches.
struct Scratch {
    /// `left[p]`: Σ |x_p − x_i| over the segment's points `i` before `p`.
    left: Vec<f64>,
    /// `right[p]`: Σ |x_p − x_j| over the segment's points `j` after `p`.
    right: Vec<f64>,
}

/// Change points of `series`, sorted by index. Non-finite values are an error-free no-op:
/// return an empty Vec if any value is non-finite or n < 2·min_segment.
pub fn detect(series: &[f64], settings: &Settings) -> Vec<ChangePoint> {
    let min = settings.min_segment.max(2);
    let n = series.len();
    if n < 2 * min || series.iter().any(|x| !x.is_finite()) {
        return Vec::new();
    }

    let mut scratch = Scratch {
        left: vec![0.0; n],
        right: vec![0.0; n],
    };
    let mut rng = generator(settings.seed, 0);
    let mut permuted = vec![0.0; n];

    // `bounds` holds 0, the accepted change points and n, sorted; segment `s` is
    // `bounds[s]..bounds[s + 1]` and `candidates[s]` its best split, if it can be split.
    let mut bounds = vec![0, n];
    let mut candidates = vec![best_split(series, 0, n, min, &mut scratch)];
    // (index, p-value, statistic) of each accepted change point, in order of acceptance.
    let mut accepted: Vec<(usize, f64, f64)> = Vec::new();

    loop {
        let mut best: Option<(usize, Candidate)> = None;
        for (s, c) in candidates.iter().enumerate() {
            if let Some(c) = c
                && best.is_none_or(|(_, b)| c.statistic > b.statistic)
            {
                best = Some((s, *c));
            }
        }
        let Some((segment, candidate)) = best else {
            break;
        };
        if !candidate.statistic.is_finite() {
            break;
        }
        let p = permutation_p_value(
            series,
            &bounds,
            candidate.statistic,
            settings,
            min,
            &mut rng,
            &mut permuted,
            &mut scratch,
        );
        let significant = p <= settings.significance;
        if !significant {
            break;
        }
        accepted.push((candidate.tau, p, candidate.statistic));
        let (a, b) = (bounds[segment], bounds[segment + 1]);
        bounds.insert(segment + 1, candidate.tau);
        let left = best_split(series, a, candidate.tau, min, &mut scratch);
        let right = best_split(series, candidate.tau, b, min, &mut scratch);
        candidates[segment] = left;
        candidates.insert(segment + 1, right);
    }

    accepted.sort_by_key(|&(index, _, _)| index);
    accepted
        .iter()
        .map(|&(index, p_value, statistic)| {
            // `bounds` is sorted and contains every accepted index exactly once.
            let k = bounds.partition_point(|&b| b < index);
            let mean_before = mean(&series[bounds[k - 1]..index]);
            let mean_after = mean(&series[index..bounds[k + 1]]);
            ChangePoint {
                index,
                mean_before,
                mean_after,
                relative_change: mean_after / mean_before - 1.0,
                p_value,
                statistic,
            }
        })
        .collect()
}

/// The split of `x[a..b)` with the largest `q̂` (the first on ties) leaving at least `min ≥ 2`
/// points on each side, or `None` when the segment is too short.
fn best_split(
    x: &[f64],
    a: usize,
    b: usize,
    min: usize,
    scratch: &mut Scratch,
) -> Option<Candidate> {
    let len = b - a;
    if len < 2 * min {
        return None;
    }
    let seg = &x[a..b];
    let left = &mut scratch.left[..len];
    let right = &mut scratch.right[..len];
    left.fill(0.0);
    let mut total = 0.0;
    for p in 0..len {
        let xp = seg[p];
        let mut sum = 0.0;
        for (q, &xq) in seg.iter().enumerate().skip(p + 1) {
            let d = (xp - xq).abs();
            sum += d;
            left[q] += d;
        }
        right[p] = sum;
        total += sum;
    }

    // Move points from Y to X one at a time: after moving point t, X = seg[..=t].
    let (mut within_x, mut within_y, mut cross) = (0.0, total, 0.0);
    let mut best: Option<Candidate> = None;
    for t in 0..len - min {
        within_x += left[t];
        within_y -= right[t];
        cross += right[t] - left[t];
        let m = (t + 1) as f64;
        let n = (len - t - 1) as f64;
        if t + 1 < min {
            continue;
        }
        let e = 2.0 * cross / (m * n)
            - within_x / (m * (m - 1.0) / 2.0)
            - within_y / (n * (n - 1.0) / 2.0);
        let statistic = m * n / (m + n) * e;
        if best.is_none_or(|c| statistic > c.statistic) {
            best = Some(Candidate {
                tau: a + t + 1,
                statistic,
            });
        }
    }
    best
}

/// The permutation p-value of `observed` given the current segment `bounds`; once it cannot
/// reach `settings.significance` it returns early with a value above it.
#[allow(clippy::too_many_arguments)]
fn permutation_p_value(
    series: &[f64],
    bounds: &[usize],
    observed: f64,
    settings: &Settings,
    min: usize,
    rng: &mut ChaCha8Rng,
    permuted: &mut [f64],
    scratch: &mut Scratch,
) -> f64 {
    let r = settings.permutations;
    let threshold = observed - TIE_SLACK * observed.abs();
    let p_of = |count: usize| (1 + count) as f64 / (1 + r) as f64;
    let mut reached = 0;
    for _ in 0..r {
        permuted.copy_from_slice(series);
        let mut best = f64::NEG_INFINITY;
        for w in bounds.windows(2) {
            let (a, b) = (w[0], w[1]);
            if b - a < 2 * min {
                continue; // cannot be split: its order does not matter
            }
            shuffle(&mut permuted[a..b], rng);
            if let Some(c) = best_split(permuted, a, b, min, scratch) {
                best = best.max(c.statistic);
            }
        }
        if best >= threshold {
            reached += 1;
            if p_of(reached) > settings.significance {
                return p_of(reached);
            }
        }
    }
    p_of(reached)
}

/// Fisher–Yates shuffle in place.
fn shuffle(xs: &mut [f64], rng: &mut ChaCha8Rng) {
    for i in (1..xs.len()).rev() {
        let j = index_below(rng, i + 1);
        xs.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    /// `n` draws of N(mean, sd) from ChaCha8 seeded with `seed`.
    fn normal(n: usize, mean: f64, sd: f64, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let dist = Normal::new(mean, sd).unwrap();
        (0..n).map(|_| dist.sample(&mut rng)).collect()
    }

    /// Piecewise-constant levels plus N(0, sd) noise.
    fn steps(levels: &[(f64, usize)], sd: f64, seed: u64) -> Vec<f64> {
        let n = levels.iter().map(|&(_, len)| len).sum();
        let noise = normal(n, 0.0, sd, seed);
        levels
            .iter()
            .flat_map(|&(level, len)| std::iter::repeat_n(level, len))
            .zip(noise)
            .map(|(level, e)| level + e)
            .collect()
    }

    /// The statistic by its definition, in O(L²) per split.
    fn q_hat_naive(x: &[f64], tau: usize) -> f64 {
        let (xs, ys) = x.split_at(tau);
        let (m, n) = (xs.len() as f64, ys.len() as f64);
        let cross: f64 = xs
            .iter()
            .flat_map(|a| ys.iter().map(move |b| (a - b).abs()))
            .sum();
        let within = |v: &[f64]| -> f64 {
            let mut s = 0.0;
            for i in 0..v.len() {
                for k in i + 1..v.len() {
                    s += (v[i] - v[k]).abs();
                }
            }
            s
        };
        let e = 2.0 * cross / (m * n)
            - within(xs) / (m * (m - 1.0) / 2.0)
            - within(ys) / (n * (n - 1.0) / 2.0);
        m * n / (m + n) * e
    }

    #[test]
    fn incremental_statistic_matches_definition() {
        let x = normal(30, 5.0, 2.0, 7);
        let mut scratch = Scratch {
            left: vec![0.0; 30],
            right: vec![0.0; 30],
        };
        let c = best_split(&x, 0, 30, 3, &mut scratch).unwrap();
        let (tau, q) = (3..=27)
            .map(|t| (t, q_hat_naive(&x, t)))
            .fold((0, f64::NEG_INFINITY), |b, c| if c.1 > b.1 { c } else { b });
        assert_eq!(c.tau, tau);
        assert!(
            (c.statistic - q).abs() <= 1e-9 * q.abs(),
            "{} vs {q}",
            c.statistic
        );
        // A sub-segment is searched on its own points only.
        let c = best_split(&x, 10, 25, 4, &mut scratch).unwrap();
        let q = (4..=11)
            .map(|t| q_hat_naive(&x[10..25], t))
            .fold(f64::NEG_INFINITY, f64::max);
        assert!((c.statistic - q).abs() <= 1e-9 * q.abs());
    }

    #[test]
    fn constant_series_has_none() {
        assert!(detect(&[100.0; 50], &Settings::default()).is_empty());
    }

    #[test]
    fn one_step_is_found() {
        let x = steps(&[(100.0, 20), (120.0, 20)], 0.5, 1);
        let cps = detect(&x, &Settings::default());
        assert_eq!(cps.len(), 1, "{cps:?}");
        let cp = &cps[0];
        assert!(cp.index.abs_diff(20) <= 1, "{cp:?}");
        assert!((cp.relative_change - 0.2).abs() < 0.01, "{cp:?}");
        assert!((cp.mean_before - 100.0).abs() < 0.5 && (cp.mean_after - 120.0).abs() < 0.5);
        assert!(cp.p_value <= 0.05 && cp.statistic > 0.0);
    }

    #[test]
    fn two_steps_are_found() {
        let x = steps(&[(100.0, 20), (120.0, 20), (90.0, 20)], 0.5, 2);
        let cps = detect(&x, &Settings::default());
        let indices: Vec<usize> = cps.iter().map(|c| c.index).collect();
        assert_eq!(cps.len(), 2, "{cps:?}");
        assert!(
            indices[0].abs_diff(20) <= 1 && indices[1].abs_diff(40) <= 1,
            "{indices:?}"
        );
        assert!((cps[0].relative_change - 0.2).abs() < 0.01);
        assert!((cps[1].relative_change - (90.0 / 120.0 - 1.0)).abs() < 0.01);
        // The segments are bounded by the neighbouring change point.
        assert_eq!(cps[0].mean_after, cps[1].mean_before);
    }

    #[test]
    fn pure_noise_has_none() {
        let x = normal(60, 100.0, 1.0, 3);
        assert!(detect(&x, &Settings::default()).is_empty());
    }

    #[test]
    fn non_finite_or_short_series_give_nothing() {
        let mut x = steps(&[(100.0, 20), (120.0, 20)], 0.5, 1);
        x[5] = f64::NAN;
        assert!(detect(&x, &Settings::default()).is_empty());
        x[5] = f64::INFINITY;
        assert!(detect(&x, &Settings::default()).is_empty());
        assert!(detect(&[], &Settings::default()).is_empty());
        assert!(detect(&[1.0, 1.0, 1.0, 9.0, 9.0], &Settings::default()).is_empty());
        // min_segment below 2 acts as 2.
        let s = Settings {
            min_segment: 0,
            ..Settings::default()
        };
        assert!(detect(&[1.0, 1.0, 9.0], &s).is_empty());
        // No permutations: p = 1, nothing accepted.
        let s = Settings {
            permutations: 0,
            ..Settings::default()
        };
        assert!(detect(&steps(&[(100.0, 20), (120.0, 20)], 0.5, 1), &s).is_empty());
    }

    #[test]
    fn same_seed_same_result() {
        let x = steps(&[(100.0, 25), (103.0, 25), (99.0, 25)], 2.0, 4);
        for seed in [0, 1, 99] {
            let s = Settings {
                seed,
                ..Settings::default()
            };
            assert_eq!(detect(&x, &s), detect(&x, &s));
        }
    }

    #[test]
    fn json_round_trip() {
        let x = steps(&[(100.0, 20), (120.0, 20)], 0.5, 1);
        let cps = detect(&x, &Settings::default());
        let text = serde_json::to_string(&cps).unwrap();
        assert_eq!(
            serde_json::from_str::<Vec<ChangePoint>>(&text).unwrap(),
            cps
        );
        let zero = detect(
            &steps(&[(0.0, 10), (5.0, 10)], 0.0, 0),
            &Settings::default(),
        );
        assert!(zero[0].relative_change.is_infinite());
        let back: Vec<ChangePoint> =
            serde_json::from_str(&serde_json::to_string(&zero).unwrap()).unwrap();
        assert!(back[0].relative_change.is_nan());
    }

    /// Not a benchmark: one timing of a 200-point history with three steps (and one with 19),
    /// printed.
    #[test]
    fn runtime_of_200_points() {
        let x = steps(
            &[(100.0, 50), (110.0, 50), (105.0, 50), (120.0, 50)],
            2.0,
            5,
        );
        let start = std::time::Instant::now();
        let cps = detect(&x, &Settings::default());
        let elapsed = start.elapsed();
        println!(
            "detect on 200 points: {elapsed:?}, change points {:?}",
            cps.iter().map(|c| c.index).collect::<Vec<_>>()
        );
        assert_eq!(cps.len(), 3, "{cps:?}");
        // A costlier case: every accepted point needs all 199 permutations, and there are 19.
        let stairs: Vec<(f64, usize)> = (0..20).map(|k| (100.0 + 10.0 * k as f64, 10)).collect();
        let x = steps(&stairs, 0.5, 6);
        let start = std::time::Instant::now();
        let cps = detect(&x, &Settings::default());
        println!(
            "detect on 200 points, 20 steps: {:?}, {} change points",
            start.elapsed(),
            cps.len()
        );
    }

    fn arb_series() -> impl Strategy<Value = Vec<f64>> {
        prop_oneof![
            // Steps with noise, so that change points are actually found.
            (
                prop::collection::vec((-1e3f64..1e3, 1usize..30), 1..5),
                0.0f64..5.0,
                any::<u64>(),
            )
                .prop_map(|(levels, sd, seed)| steps(&levels, sd, seed)),
            // Anything finite, including repeated values.
            prop::collection::vec(prop_oneof![-1e6f64..1e6, Just(0.0), Just(1.0)], 0..80),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Indices respect the minimum segment, are strictly increasing, and every accepted
        /// point passed the test.
        #[test]
        fn change_points_are_well_formed(
            x in arb_series(),
            min_segment in 2usize..7,
            permutations in 19usize..80,
            significance in prop::sample::select(vec![0.01, 0.05, 0.2]),
            seed in any::<u64>(),
        ) {
            let s = Settings { significance, permutations, min_segment, seed };
            let cps = detect(&x, &s);
            let n = x.len();
            for c in &cps {
                prop_assert!(min_segment <= c.index && c.index <= n - min_segment, "{c:?}, n = {n}");
                prop_assert!(c.p_value <= significance, "{c:?}");
                prop_assert!(c.statistic.is_finite());
            }
            for w in cps.windows(2) {
                prop_assert!(w[0].index < w[1].index);
                prop_assert!(w[1].index - w[0].index >= min_segment);
            }
        }
    }
}
