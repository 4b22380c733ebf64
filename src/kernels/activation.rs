//! GELU (Hendrycks & Gimpel 2016, tanh approximation as in GPT-2) and SwiGLU (Shazeer 2020,
//! as in Llama), forward and backward, parallel over chunks of elements.

use super::flops::{GELU_BWD, GELU_FWD, SWIGLU_BWD, SWIGLU_FWD};
use super::{OpClass, Tally, fastmath};
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
            .for_each(|(y, x)| {
                for (y, &x) in y.iter_mut().zip(x) {
                    let t = fastmath::tanh(K * x * (1.0 + C * x * x));
                    *y = 0.5 * x * (1.0 + t);
                }
            });
    });
}

/// `dx = gelu'(x) · dy`.
pub fn gelu_backward(tally: &mut Tally, x: &[f32], dy: &[f32], dx: &mut [f32]) {
    let n = x.len() as u64;
    tally.record(OpClass::Activation, n * GELU_BWD, 12 * n, || {
        dx.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .zip(dy.par_chunks(CHUNK))
            .for_each(|((dx, x), dy)| {
                for ((dx, &x), &dy) in dx.iter_mut().zip(x).zip(dy) {
                    let x2 = x * x;
                    let t = fastmath::tanh(K * x * (1.0 + C * x2));
                    let d = 0.5 * (1.0 + t) + (0.5 * K) * x * (1.0 - t * t) * (1.0 + 3.0 * C * x2);
                    *dx = d * dy;
                }
            });
    });
}

/// SwiGLU: `gu` holds rows of `[gate (width) | up (width)]` (one fused product);
/// `y = silu(gate) ⊙ up`, rows of `width`.
pub fn swiglu_forward(tally: &mut Tally, gu: &[f32], width: usize, y: &mut [f32]) {
    let n = y.len() as u64;
    let rows = (CHUNK / width).max(1);
    tally.record(OpClass::Activation, n * SWIGLU_FWD, 12 * n, || {
        y.par_chunks_mut(rows * width)
            .zip(gu.par_chunks(2 * rows * width))
            .for_each(|(y, gu)| {
                for (y, gu) in y.chunks_exact_mut(width).zip(gu.chunks_exact(2 * width)) {
                    let (g, u) = gu.split_at(width);
                    for i in 0..width {
                        let silu = g[i] / (1.0 + fastmath::exp(-g[i]));
                        y[i] = silu * u[i];
                    }
                }
            });
    });
}

/// Backward of [`swiglu_forward`]: `dgu` receives rows of `[dgate | dup]`.
pub fn swiglu_backward(tally: &mut Tally, gu: &[f32], width: usize, dy: &[f32], dgu: &mut [f32]) {
    let n = dy.len() as u64;
    let rows = (CHUNK / width).max(1);
    tally.record(OpClass::Activation, n * SWIGLU_BWD, 20 * n, || {
        dgu.par_chunks_mut(2 * rows * width)
            .zip(gu.par_chunks(2 * rows * width))
            .zip(dy.par_chunks(rows * width))
            .for_each(|((dgu, gu), dy)| {
                for ((dgu, gu), dy) in dgu
                    .chunks_exact_mut(2 * width)
                    .zip(gu.chunks_exact(2 * width))
                    .zip(dy.chunks_exact(width))
                {
                    let (g, u) = gu.split_at(width);
                    let (dg, du) = dgu.split_at_mut(width);
                    for i in 0..width {
                        let sig = 1.0 / (1.0 + fastmath::exp(-g[i]));
                        let silu = g[i] * sig;
                        du[i] = dy[i] * silu;
                        let dsilu = sig * (1.0 + g[i] * (1.0 - sig));
                        dg[i] = dy[i] * u[i] * dsilu;
                    }
                }
            });
    });
}
