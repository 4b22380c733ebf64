//! `exp` and `tanh` for f32 that the compiler can vectorise.
//!
//! Hand-written because the standard library's `f32::exp` / `f32::tanh` call libm one element
//! at a time, which made the softmax, cross-entropy and GELU kernels the slowest part of a step
//! (`cargo bench --bench kernels -- exp` measures both). The method is Cephes'
//! `expf` (Moshier 1984-2000): x = n·ln 2 + r with |r| ≤ ln2/2, a degree-6 polynomial for e^r,
//! and 2^n assembled in the exponent bits; rounding to n uses the 1.5·2^23 trick instead of
//! `floor`, which needs no SSE4.1. Relative error under 3e-7 (tested against `f64::exp`).
//!
//! Every helper here is plain Rust over arrays of 16 lanes, vectorised by the compiler for the
//! build target (x86-64-v3, AVX2 + FMA, under `.cargo/config.toml`). The elementwise kernels
//! wrap their inner loops in [`multiversion!`], which also compiles them for AVX-512 and picks
//! that copy at run time on CPUs that have it (with the `avx512` feature, as the probe does):
//! the loops then run 16 lanes per instruction instead of 8.

/// Whether the AVX-512 copies of the elementwise kernels may run: built with the `avx512`
/// feature and a CPU and OS with AVX-512F (`is_x86_feature_detected!` caches its answer).
#[inline(always)]
pub fn avx512() -> bool {
    #[cfg(all(target_arch = "x86_64", feature = "avx512"))]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(all(target_arch = "x86_64", feature = "avx512")))]
    {
        false
    }
}

/// Defines `fn name(args) -> ret { body }` twice — as compiled for the build target, and with
/// AVX-512F enabled — and calls the AVX-512 copy where [`avx512`] says it may run. The body is
/// ordinary safe Rust written to auto-vectorise (the helpers of this module inline into it).
/// Hand-written rather than a crate: the few crates for this (`multiversion`) add a proc-macro
/// dependency for what is twenty lines here.
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(all(target_arch = "x86_64", feature = "avx512"))]
            {
                #[target_feature(enable = "avx512f")]
                #[allow(clippy::too_many_arguments)]
                fn wide($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                if $crate::kernels::fastmath::avx512() {
                    // SAFETY: `avx512()` checked at run time that the CPU and OS support
                    // AVX-512F, the only feature `wide` is compiled with.
                    return unsafe { wide($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use multiversion;

/// log2(e)
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in a high part exact in f32 and a low correction (Cephes).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Adding and subtracting 1.5·2^23 rounds an f32 of magnitude < 2^22 to the nearest integer.
const ROUND: f32 = 12_582_912.0;

/// a·b + c, as one fused multiply-add where the build target has FMA (x86-64-v3, the default of
/// `.cargo/config.toml`), else as a multiply and an add. Never `f32::mul_add` without FMA in
/// hardware: that is a call into libm per element. Rust does not contract a·b + c by itself.
#[inline(always)]
pub fn fma(a: f32, b: f32, c: f32) -> f32 {
    if cfg!(target_feature = "fma") {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Σ of 16 lanes, left to right. Not by halves (8 + 8, 4 + 4, …), though that is a shorter
/// chain: a tree here makes LLVM's vectoriser split the accumulating loop before it into 2- and
/// 4-lane pieces instead of one 16-lane register (seen in the compiled attention softmax and the
/// cross-entropy), which costs far more than the 15 scalar adds at the end.
#[inline(always)]
pub fn hsum(acc: [f32; 16]) -> f32 {
    acc.iter().sum()
}

/// The larger of a and b as one compare-and-select (`vmaxps`), where `f32::max` adds the
/// instructions that make it ignore a NaN. With a NaN among the values the result may or may not
/// be that NaN; the kernels that take a maximum then take e^(x − max) of every x, so a NaN input
/// still reaches their result.
#[inline(always)]
pub fn fmax(a: f32, b: f32) -> f32 {
    if a > b { a } else { b }
}

/// The largest of 16 lanes, left to right (see [`hsum`] for why not by halves).
#[inline(always)]
pub fn hmax(acc: [f32; 16]) -> f32 {
    acc.iter().fold(f32::NEG_INFINITY, |m, &v| fmax(m, v))
}

/// e^x. Inputs below −87.3 give about 1.2e-38 instead of a denormal or 0; inputs above 88
/// give about 1.65e38 (e^88) instead of infinity.
#[inline(always)]
// The coefficients are Cephes' as published, to more digits than f32 holds.
#[allow(clippy::excessive_precision)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.0);
    let t = fma(x, LOG2E, ROUND);
    let n = t - ROUND;
    let r = fma(-n, LN2_LO, fma(-n, LN2_HI, x));
    let p = 1.987_569_1e-4_f32;
    let p = fma(p, r, 1.398_199_9e-3);
    let p = fma(p, r, 8.333_452e-3);
    let p = fma(p, r, 4.166_579_6e-2);
    let p = fma(p, r, 1.666_666_5e-1);
    let p = fma(p, r, 5.000_000_1e-1);
    let p = fma(p * r, r, r) + 1.0;
    // 2^n from the rounding sum itself: t = 1.5·2^23 + n has the bits 0x4B40_0000 + n, whose
    // low 9 bits are n + 127 ∈ [1, 254] — integer operations only, which vectorise without the
    // range checks of a float-to-int `as` cast.
    let bits = t.to_bits().wrapping_add(127) << 23;
    p * f32::from_bits(bits)
}

/// The coefficients of 2^r ≈ 1 + c1·r + c2·r² + … + c5·r⁵ on r ∈ [−½, ½], highest first (see
/// [`exp2`]).
#[allow(clippy::excessive_precision)]
pub const EXP2_POLY: [f32; 5] = [
    1.321_867_247e-3,
    9.671_697_939e-3,
    5.550_892_952e-2,
    2.402_223_800e-1,
    6.931_468_559e-1,
];

/// 2^x, within 3e-7 relative: about a third fewer instructions than [`exp`], for the loops
/// that take e^(x − shift) of many x as 2^(x·log2 e − shift·log2 e) with one [`fma`] for the
/// argument (the attention's softmax and the cross-entropy, through [`exp_shifted`]). Inputs are clamped to [−126, 127], so the result is a
/// normal f32 from 2^−126 to 2^127, never a denormal, 0 or infinity.
///
/// The reduction 2^x = 2^n · 2^r, n the integer nearest x, needs no correction term (exp's ln 2
/// split), and 2^r on r ∈ [−½, ½] is 1 + r·q(r) with q of degree 4: coefficients fitted here by
/// least squares in relative error on 2,000 Chebyshev nodes (the Taylor coefficients are
/// ln(2)^k / k!), 1.04e-7 relative error before rounding.
#[inline(always)]
pub fn exp2(x: f32) -> f32 {
    let x = x.clamp(-126.0, 127.0);
    let t = x + ROUND;
    let n = t - ROUND;
    let r = x - n;
    let [c5, c4, c3, c2, c1] = EXP2_POLY;
    let q = fma(fma(fma(fma(c5, r, c4), r, c3), r, c2), r, c1);
    let p = fma(q, r, 1.0);
    // 2^n as in `exp`: the low 9 bits of t's pattern are n + 127 ∈ [1, 254] after the add.
    let bits = t.to_bits().wrapping_add(127) << 23;
    p * f32::from_bits(bits)
}

/// tanh(x) = 1 − 2 / (1 + e^(2x)); exact limits ±1 for large |x|.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (1.0 + exp(2.0 * x))
}

/// e^(x − shift) as 2^(x·log2 e − shift·log2 e): one FMA for the argument and [`exp2`]'s
/// cheaper reduction, about a third fewer instructions than `exp(x - shift)`. The rounding of
/// shift·log2 e scales every result of one shift by the same factor (relative 6e-8·|shift·log2
/// e|), which a normalisation by their sum cancels.
#[inline(always)]
pub fn exp_shifted(x: f32, shift_log2e: f32) -> f32 {
    exp2(fma(x, LOG2E, shift_log2e))
}

/// −shift·log2 e, the second argument of [`exp_shifted`].
#[inline(always)]
pub fn log2e_shift(shift: f32) -> f32 {
    -shift * LOG2E
}

/// Σ e^(x − shift) over `xs`, with 16 independent partial sums so the loop vectorises.
#[inline(always)]
pub fn sum_exp(xs: &[f32], shift: f32) -> f32 {
    let k = log2e_shift(shift);
    let mut acc = [0.0f32; 16];
    let mut chunks = xs.chunks_exact(16);
    for c in &mut chunks {
        for i in 0..16 {
            acc[i] += exp_shifted(c[i], k);
        }
    }
    let tail: f32 = chunks.remainder().iter().map(|&v| exp_shifted(v, k)).sum();
    hsum(acc) + tail
}

/// Replaces each x of `xs` with e^(x − shift) and returns their sum, with 16 independent partial
/// sums so the loop vectorises: [`sum_exp`] that keeps what it computes.
#[inline(always)]
pub fn exp_in_place_sum(xs: &mut [f32], shift: f32) -> f32 {
    let k = log2e_shift(shift);
    let mut acc = [0.0f32; 16];
    let mut chunks = xs.chunks_exact_mut(16);
    for c in &mut chunks {
        for i in 0..16 {
            c[i] = exp_shifted(c[i], k);
            acc[i] += c[i];
        }
    }
    let mut tail = 0.0f32;
    for v in chunks.into_remainder() {
        *v = exp_shifted(*v, k);
        tail += *v;
    }
    hsum(acc) + tail
}

/// Lanes of the accumulators of [`sum`], [`dot`], [`max`] and [`sum_sq_dev`]: four AVX-512
/// registers (eight AVX2 ones). One register's worth of lanes makes its add or max the loop's
/// critical path, one instruction every 3 (add) or 2 (max) cycles while the loads could go 2 per
/// cycle; four independent chains hide that latency (seen in the compiled code: four zmm
/// accumulators). The cross-entropy's row maximum was a quarter of its time with one.
const WIDE: usize = 64;

/// The 64 lanes of a wide accumulator folded into 16 with `f`, lane i with lanes i + 16, i + 32
/// and i + 48.
#[inline(always)]
fn fold_wide(acc: &[f32; WIDE], f: impl Fn(f32, f32) -> f32) -> [f32; 16] {
    std::array::from_fn(|i| f(f(acc[i], acc[i + 16]), f(acc[i + 32], acc[i + 48])))
}

/// Σ xs, with 64 partial sums so the loop vectorises into independent registers.
#[inline(always)]
pub fn sum(xs: &[f32]) -> f32 {
    let mut wide = [0.0f32; WIDE];
    let mut big = xs.chunks_exact(WIDE);
    for c in &mut big {
        for i in 0..WIDE {
            wide[i] += c[i];
        }
    }
    let mut acc = fold_wide(&wide, |a, b| a + b);
    let mut chunks = big.remainder().chunks_exact(16);
    for c in &mut chunks {
        for i in 0..16 {
            acc[i] += c[i];
        }
    }
    hsum(acc) + chunks.remainder().iter().sum::<f32>()
}

/// Σ a·b, with 64 partial sums so the loop vectorises into independent registers.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut wide = [0.0f32; WIDE];
    for (x, y) in a.chunks_exact(WIDE).zip(b.chunks_exact(WIDE)) {
        for i in 0..WIDE {
            // A multiply and an add, not `fma`: the add alone is on the loop-carried chain (3
            // cycles, against 4 for an FMA).
            wide[i] += x[i] * y[i];
        }
    }
    let mut acc = fold_wide(&wide, |a, b| a + b);
    let done = n / WIDE * WIDE;
    for (x, y) in a[done..].chunks_exact(16).zip(b[done..].chunks_exact(16)) {
        for i in 0..16 {
            acc[i] += x[i] * y[i];
        }
    }
    let done = n / 16 * 16;
    let tail: f32 = a[done..].iter().zip(&b[done..]).map(|(x, y)| x * y).sum();
    hsum(acc) + tail
}

/// Largest element (−∞ for an empty slice), with 64 partial maxima so the loop vectorises into
/// independent registers.
#[inline(always)]
pub fn max(xs: &[f32]) -> f32 {
    let mut wide = [f32::NEG_INFINITY; WIDE];
    let mut big = xs.chunks_exact(WIDE);
    for c in &mut big {
        for i in 0..WIDE {
            wide[i] = fmax(wide[i], c[i]);
        }
    }
    let mut acc = fold_wide(&wide, fmax);
    let mut chunks = big.remainder().chunks_exact(16);
    for c in &mut chunks {
        for i in 0..16 {
            acc[i] = fmax(acc[i], c[i]);
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| fmax(m, v));
    fmax(hmax(acc), tail)
}

/// Σ (x − shift)², with 64 partial sums so the loop vectorises into independent registers (a
/// norm's variance).
#[inline(always)]
pub fn sum_sq_dev(xs: &[f32], shift: f32) -> f32 {
    let mut wide = [0.0f32; WIDE];
    let mut big = xs.chunks_exact(WIDE);
    for c in &mut big {
        for i in 0..WIDE {
            let d = c[i] - shift;
            wide[i] += d * d; // not `fma`: see `dot`
        }
    }
    let mut acc = fold_wide(&wide, |a, b| a + b);
    let mut chunks = big.remainder().chunks_exact(16);
    for c in &mut chunks {
        for i in 0..16 {
            let d = c[i] - shift;
            acc[i] += d * d;
        }
    }
    let tail: f32 = chunks
        .remainder()
        .iter()
        .map(|&v| (v - shift) * (v - shift))
        .sum();
    hsum(acc) + tail
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
    fn exp2_is_within_3e7_relative_of_f64_exp2_and_exact_at_integers() {
        let mut worst = 0.0f64;
        let mut x = -126.0f32;
        while x < 127.0 {
            let exact = f64::from(x).exp2();
            let rel = ((f64::from(exp2(x)) - exact) / exact).abs();
            worst = worst.max(rel);
            x += 0.000_731;
        }
        assert!(worst < 3e-7, "worst relative error {worst:e}");
        for n in -126..=127 {
            assert_eq!(exp2(n as f32), (n as f32).exp2(), "2^{n}");
        }
        assert_eq!(exp2(-1000.0), f32::MIN_POSITIVE);
        assert_eq!(exp2(1000.0), 2f32.powi(127));
        // e^(x − m) as the softmaxes compute it.
        let (x, m) = (-3.7f32, 2.25f32);
        let e = exp_shifted(x, log2e_shift(m));
        assert!((f64::from(e) / f64::from(x - m).exp() - 1.0).abs() < 5e-7);
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
    fn reductions_match_f64_loops_at_every_length_class() {
        // Lengths below one 16-lane chunk, between 16 and the 64-lane accumulators, and beyond,
        // with and without remainders.
        for n in [0usize, 1, 15, 16, 37, 63, 64, 65, 100, 128, 1000, 1037] {
            let xs: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 5.0).collect();
            let ys: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let m = xs.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
            assert_eq!(max(&xs), m, "max, n = {n}");
            let close = |got: f32, want: f64, what: &str| {
                let tol = 1e-5 * want.abs().max(1.0);
                assert!((f64::from(got) - want).abs() < tol, "{what}, n = {n}: {got} vs {want}");
            };
            close(sum(&xs), xs.iter().map(|&v| f64::from(v)).sum(), "sum");
            let d: f64 = xs.iter().zip(&ys).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum();
            close(dot(&xs, &ys), d, "dot");
            if n > 0 {
                let e: f64 = xs.iter().map(|&v| f64::from(v - m).exp()).sum();
                close(sum_exp(&xs, m), e, "sum_exp");
                let mut kept = xs.clone();
                close(exp_in_place_sum(&mut kept, m), e, "exp_in_place_sum");
                for (&k, &x) in kept.iter().zip(&xs) {
                    let rel = (f64::from(k) / f64::from(x - m).exp() - 1.0).abs();
                    // The f32 argument's own rounding puts about |x − m|·2^−24 of relative
                    // error into any e^(x − m) (4.8e-7 at x − m = −9.3, for `exp(x - m)` too).
                    assert!(rel < 2e-6, "n = {n}, x = {x}, m = {m}: {rel:e}");
                }
                let mean = xs.iter().sum::<f32>() / n as f32;
                let sq: f64 = xs.iter().map(|&v| f64::from(v - mean).powi(2)).sum();
                close(sum_sq_dev(&xs, mean), sq, "sum_sq_dev");
            }
        }
    }

    multiversion! {
        /// A multiversioned function for the test below.
        fn sum_both(a: &[f32], b: &[f32]) -> f32 {
            sum(a) + sum(b)
        }
    }

    #[test]
    fn multiversioned_functions_agree_with_their_body() {
        let a: Vec<f32> = (0..41).map(|i| i as f32).collect();
        assert_eq!(sum_both(&a, &a[..3]), 820.0 + 3.0);
    }
}
