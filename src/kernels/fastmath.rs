//! `exp` and `tanh` for f32 that the compiler can vectorise.
//!
//! Hand-written because the standard library's `f32::exp` / `f32::tanh` call libm one element
//! at a time, which made the softmax, cross-entropy and GELU kernels the slowest part of a step
//! (`cargo bench --bench kernels -- exp` measures both). The method is Cephes'
//! `expf` (Moshier 1984-2000): x = n·ln 2 + r with |r| ≤ ln2/2, a degree-6 polynomial for e^r,
//! and 2^n assembled in the exponent bits; rounding to n uses the 1.5·2^23 trick instead of
//! `floor`, which needs no SSE4.1. Relative error under 3e-7 (tested against `f64::exp`).

/// log2(e)
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in a high part exact in f32 and a low correction (Cephes).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Adding and subtracting 1.5·2^23 rounds an f32 of magnitude < 2^22 to the nearest integer.
const ROUND: f32 = 12_582_912.0;

/// e^x. Inputs below −87.3 give about 1.2e-38 instead of a denormal or 0; inputs above 88
/// give about 1.65e38 (e^88) instead of infinity.
#[inline(always)]
// The coefficients are Cephes' as published, to more digits than f32 holds.
#[allow(clippy::excessive_precision)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 5.000_000_1e-1;
    let p = p * r * r + r + 1.0;
    let bits = ((n as i32 + 127) as u32) << 23;
    p * f32::from_bits(bits)
}

/// tanh(x) = 1 − 2 / (1 + e^(2x)); exact limits ±1 for large |x|.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (1.0 + exp(2.0 * x))
}

/// Σ e^(x − shift) over `xs`, with 16 independent partial sums so the loop vectorises.
#[inline]
pub fn sum_exp(xs: &[f32], shift: f32) -> f32 {
    let mut acc = [0.0f32; 16];
    let mut chunks = xs.chunks_exact(16);
    for c in &mut chunks {
        for i in 0..16 {
            acc[i] += exp(c[i] - shift);
        }
    }
    let tail: f32 = chunks.remainder().iter().map(|&v| exp(v - shift)).sum();
    acc.iter().sum::<f32>() + tail
}

/// Σ xs, with 16 partial sums so the loop vectorises.
#[inline]
pub fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let mut chunks = xs.chunks_exact(16);
    for c in &mut chunks {
        for i in 0..16 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// Σ a·b, with 16 partial sums so the loop vectorises.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 16];
    for (x, y) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
        for i in 0..16 {
            acc[i] += x[i] * y[i];
        }
    }
    let done = n / 16 * 16;
    let tail: f32 = a[done..].iter().zip(&b[done..]).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// Largest element (−∞ for an empty slice), with 16 partial maxima so the loop vectorises.
#[inline]
pub fn max(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 16];
    let mut chunks = xs.chunks_exact(16);
    for c in &mut chunks {
        for i in 0..16 {
            acc[i] = acc[i].max(c[i]);
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    acc.iter().fold(tail, |m, &v| m.max(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_3e7_relative_of_f64_exp() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let exact = f64::from(x).exp();
            let rel = ((f64::from(exp(x)) - exact) / exact).abs();
            worst = worst.max(rel);
            x += 0.001_37;
        }
        assert!(worst < 3e-7, "worst relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn exp_saturates_instead_of_overflowing() {
        assert!(exp(-1000.0) < 1.3e-38 && exp(-1000.0) > 0.0);
        assert!(exp(1000.0).is_finite());
    }

    #[test]
    fn tanh_is_within_1e6_of_f64_tanh() {
        let mut x = -20.0f32;
        while x < 20.0 {
            let err = (f64::from(tanh(x)) - f64::from(x).tanh()).abs();
            assert!(err < 1e-6, "tanh({x}) off by {err:e}");
            x += 0.000_97;
        }
        assert_eq!(tanh(100.0), 1.0);
        assert_eq!(tanh(-100.0), -1.0);
    }

    #[test]
    fn sum_exp_and_max_match_scalar_loops() {
        let xs: Vec<f32> = (0..37).map(|i| (i as f32 * 0.37).sin() * 5.0).collect();
        let m = xs.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        assert_eq!(max(&xs), m);
        let s: f64 = xs.iter().map(|&v| f64::from(v - m).exp()).sum();
        assert!((f64::from(sum_exp(&xs, m)) - s).abs() < 1e-5 * s);
        assert_eq!(max(&[]), f32::NEG_INFINITY);
    }
}
