//! GELU (Hendrycks & Gimpel 2016, tanh approximation as in GPT-2) and SwiGLU (Shazeer 2020,
//! as in Llama), forward and backward, parallel over chunks of elements.
//!
//! The tensors (tokens × d_ff) are too large for the caches, so each kernel is one streaming
//! sweep: read each operand once, write each result once. Their arithmetic is the vectorised
//! `exp` of `fastmath` (tanh and the sigmoid are built on it) and each chunk's loop is compiled
//! for AVX-512 as well (`fastmath::multiversion!`), so the sweep is not held up by it.

use super::fastmath::{self, multiversion};
use super::flops::{GELU_BWD, GELU_FWD, SWIGLU_BWD, SWIGLU_FWD};
use super::{OpClass, Tally};
use rayon::prelude::*;

/// √(2/π)
const K: f32 = 0.797_884_6;
/// The cubic coefficient of the tanh approximation.
const C: f32 = 0.044_715;
/// Elements per rayon task.
const CHUNK: usize = 1 << 14;

/// `y = gelu(x)`.
pub fn gelu_forward(tally: &mut Tally, x: &[f32], y: &mut [f32]) {
    let n = x.len() as u64;
    tally.record(OpClass::Activation, n * GELU_FWD, 8 * n, || {
        y.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(|(y, x)| gelu_chunk(x, y));
    });
}

multiversion! {
    fn gelu_chunk(x: &[f32], y: &mut [f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            let t = fastmath::tanh(K * x * (1.0 + C * x * x));
            *y = 0.5 * x * (1.0 + t);
        }
    }
}

/// `dx = gelu'(x) · dy`.
pub fn gelu_backward(tally: &mut Tally, x: &[f32], dy: &[f32], dx: &mut [f32]) {
    let n = x.len() as u64;
    tally.record(OpClass::Activation, n * GELU_BWD, 12 * n, || {
        dx.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .zip(dy.par_chunks(CHUNK))
            .for_each(|((dx, x), dy)| gelu_backward_chunk(x, dy, dx));
    });
}

multiversion! {
    fn gelu_backward_chunk(x: &[f32], dy: &[f32], dx: &mut [f32]) {
        for ((dx, &x), &dy) in dx.iter_mut().zip(x).zip(dy) {
            let x2 = x * x;
            let t = fastmath::tanh(K * x * (1.0 + C * x2));
            let d = 0.5 * (1.0 + t) + (0.5 * K) * x * (1.0 - t * t) * (1.0 + 3.0 * C * x2);
            *dx = d * dy;
        }
    }
}

/// SwiGLU: `gu` holds rows of `[gate (width) | up (width)]` (one fused product);
/// `y = silu(gate) ⊙ up`, rows of `width`.
pub fn swiglu_forward(tally: &mut Tally, gu: &[f32], width: usize, y: &mut [f32]) {
    let n = y.len() as u64;
    let rows = (CHUNK / width).max(1);
    tally.record(OpClass::Activation, n * SWIGLU_FWD, 12 * n, || {
        y.par_chunks_mut(rows * width)
            .zip(gu.par_chunks(2 * rows * width))
            .for_each(|(y, gu)| swiglu_rows(gu, width, y));
    });
}

multiversion! {
    fn swiglu_rows(gu: &[f32], width: usize, y: &mut [f32]) {
        for (y, gu) in y.chunks_exact_mut(width).zip(gu.chunks_exact(2 * width)) {
            let (g, u) = gu.split_at(width);
            for ((y, &g), &u) in y.iter_mut().zip(g).zip(u) {
                let silu = g / (1.0 + fastmath::exp(-g));
                *y = silu * u;
            }
        }
    }
}

/// Backward of [`swiglu_forward`]: `dgu` receives rows of `[dgate | dup]`.
pub fn swiglu_backward(tally: &mut Tally, gu: &[f32], width: usize, dy: &[f32], dgu: &mut [f32]) {
    let n = dy.len() as u64;
    let rows = (CHUNK / width).max(1);
    tally.record(OpClass::Activation, n * SWIGLU_BWD, 20 * n, || {
        dgu.par_chunks_mut(2 * rows * width)
            .zip(gu.par_chunks(2 * rows * width))
            .zip(dy.par_chunks(rows * width))
            .for_each(|((dgu, gu), dy)| swiglu_backward_rows(gu, width, dy, dgu));
    });
}

multiversion! {
    fn swiglu_backward_rows(gu: &[f32], width: usize, dy: &[f32], dgu: &mut [f32]) {
        for ((dgu, gu), dy) in dgu
            .chunks_exact_mut(2 * width)
            .zip(gu.chunks_exact(2 * width))
            .zip(dy.chunks_exact(width))
        {
            let (g, u) = gu.split_at(width);
            let (dg, du) = dgu.split_at_mut(width);
            for ((((dg, du), &g), &u), &dy) in dg.iter_mut().zip(du).zip(g).zip(u).zip(dy) {
                let sig = 1.0 / (1.0 + fastmath::exp(-g));
                let silu = g * sig;
                *du = dy * silu;
                let dsilu = sig * (1.0 + g * (1.0 - sig));
                *dg = dy * u * dsilu;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GELU (tanh form) and SwiGLU and their derivatives in f64 with the standard library's
    /// tanh and exp: the reference the vectorised kernels must match within f32 rounding.
    fn gelu64(x: f64) -> (f64, f64) {
        let (k, c) = (f64::from(K), f64::from(C));
        let t = (k * x * (1.0 + c * x * x)).tanh();
        let d = 0.5 * (1.0 + t) + 0.5 * k * x * (1.0 - t * t) * (1.0 + 3.0 * c * x * x);
        (0.5 * x * (1.0 + t), d)
    }

    #[test]
    fn vectorised_activations_match_f64_at_odd_lengths() {
        // Lengths that leave a remainder for every vector width, and one over a rayon chunk.
        for n in [1usize, 7, 17, 33, CHUNK + 5] {
            let x: Vec<f32> = (0..n).map(|i| (i * 7919 % 2001) as f32 / 100.0 - 10.0).collect();
            let dy: Vec<f32> = (0..n).map(|i| (i * 104_729 % 997) as f32 / 500.0 - 1.0).collect();
            let mut t = Tally::new();
            let (mut y, mut dx) = (vec![0.0; n], vec![0.0; n]);
            gelu_forward(&mut t, &x, &mut y);
            gelu_backward(&mut t, &x, &dy, &mut dx);
            for i in 0..n {
                let (want, d) = gelu64(f64::from(x[i]));
                assert!((f64::from(y[i]) - want).abs() < 1e-5 * (1.0 + want.abs()), "gelu({})", x[i]);
                let want_dx = d * f64::from(dy[i]);
                assert!((f64::from(dx[i]) - want_dx).abs() < 1e-5 * (1.0 + want_dx.abs()), "gelu'({})", x[i]);
            }
        }
        for width in [1usize, 7, 19, 771] {
            let rows = 3;
            let gu: Vec<f32> = (0..rows * 2 * width).map(|i| (i * 7919 % 2001) as f32 / 150.0 - 6.5).collect();
            let dy: Vec<f32> = (0..rows * width).map(|i| (i * 104_729 % 997) as f32 / 500.0 - 1.0).collect();
            let mut t = Tally::new();
            let mut y = vec![0.0; rows * width];
            let mut dgu = vec![0.0; rows * 2 * width];
            swiglu_forward(&mut t, &gu, width, &mut y);
            swiglu_backward(&mut t, &gu, width, &dy, &mut dgu);
            for r in 0..rows {
                for i in 0..width {
                    let g = f64::from(gu[r * 2 * width + i]);
                    let u = f64::from(gu[r * 2 * width + width + i]);
                    let d = f64::from(dy[r * width + i]);
                    let sig = 1.0 / (1.0 + (-g).exp());
                    let want = g * sig * u;
                    let got = f64::from(y[r * width + i]);
                    assert!((got - want).abs() < 1e-5 * (1.0 + want.abs()), "swiglu {g} {u}");
                    let want_du = d * g * sig;
                    let want_dg = d * u * sig * (1.0 + g * (1.0 - sig));
                    let (dg, du) = (dgu[r * 2 * width + i], dgu[r * 2 * width + width + i]);
                    assert!((f64::from(du) - want_du).abs() < 1e-5 * (1.0 + want_du.abs()));
                    assert!((f64::from(dg) - want_dg).abs() < 1e-5 * (1.0 + want_dg.abs()));
                }
            }
        }
    }
}
