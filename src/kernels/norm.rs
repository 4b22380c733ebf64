//! LayerNorm (Ba et al. 2016) and RMSNorm (Zhang & Sennrich 2019) over the rows of a
//! row-major (rows × width) matrix, forward and backward, parallel over rows.

use super::flops::{LAYERNORM_BWD, LAYERNORM_FWD, RMSNORM_BWD, RMSNORM_FWD};
use super::{OpClass, Tally};
use crate::ops::Norm;
use rayon::prelude::*;

/// Variance epsilon (GPT-2 and Llama use 1e-5).
pub const EPS: f32 = 1e-5;

/// Rows per rayon task: enough work per task to amortise scheduling.
fn rows_per_task(width: usize) -> usize {
    (16384 / width.max(1)).max(1)
}

/// `y = norm(x)·γ (+ β)`. `stats` receives (mean, 1/σ) per row (mean is 0 for RMSNorm).
/// `bias` must be `Some` exactly for LayerNorm.
#[allow(clippy::too_many_arguments)]
pub fn forward(
    tally: &mut Tally,
    kind: Norm,
    x: &[f32],
    width: usize,
    gain: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    stats: &mut [f32],
) {
    let rows = x.len() / width;
    let per = match kind {
        Norm::Layernorm => LAYERNORM_FWD,
        Norm::Rmsnorm => RMSNORM_FWD,
    };
    let flops = (rows * width) as u64 * per;
    let bytes = 4 * (2 * rows * width) as u64;
    let chunk = rows_per_task(width);
    tally.record(OpClass::Norm, flops, bytes, || {
        y.par_chunks_mut(width * chunk)
            .zip(x.par_chunks(width * chunk))
            .zip(stats.par_chunks_mut(2 * chunk))
            .for_each(|((y, x), st)| {
                for ((y, x), st) in y
                    .chunks_exact_mut(width)
                    .zip(x.chunks_exact(width))
                    .zip(st.chunks_exact_mut(2))
                {
                    let n = width as f32;
                    match kind {
                        Norm::Layernorm => {
                            let mean = x.iter().sum::<f32>() / n;
                            let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
                            let rstd = 1.0 / (var + EPS).sqrt();
                            let b = bias.expect("layernorm has a bias");
                            for i in 0..width {
                                y[i] = (x[i] - mean) * rstd * gain[i] + b[i];
                            }
                            st[0] = mean;
                            st[1] = rstd;
                        }
                        Norm::Rmsnorm => {
                            let ms = x.iter().map(|v| v * v).sum::<f32>() / n;
                            let rstd = 1.0 / (ms + EPS).sqrt();
                            for i in 0..width {
                                y[i] = x[i] * rstd * gain[i];
                            }
                            st[0] = 0.0;
                            st[1] = rstd;
                        }
                    }
                }
            });
    });
}

/// Backward of [`forward`]: writes `dx` and *assigns* `dgain` (and `dbias`).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    tally: &mut Tally,
    kind: Norm,
    x: &[f32],
    width: usize,
    gain: &[f32],
    stats: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    dgain: &mut [f32],
    dbias: Option<&mut [f32]>,
) {
    let rows = x.len() / width;
    let per = match kind {
        Norm::Layernorm => LAYERNORM_BWD,
        Norm::Rmsnorm => RMSNORM_BWD,
    };
    let params = if kind == Norm::Layernorm { 2 } else { 1 };
    let flops = (rows * width) as u64 * per;
    let bytes = 4 * (3 * rows * width + params * width) as u64;
    let chunk = rows_per_task(width);
    tally.record(OpClass::Norm, flops, bytes, || {
        // Each task returns its partial (dγ, dβ); partial sums are then added (that reduction
        // is per task, not per element, and is not counted).
        let partial = dx
            .par_chunks_mut(width * chunk)
            .zip(x.par_chunks(width * chunk))
            .zip(dy.par_chunks(width * chunk))
            .zip(stats.par_chunks(2 * chunk))
            .map(|(((dx, x), dy), st)| {
                let mut acc = vec![0.0f32; 2 * width];
                let (dg, db) = acc.split_at_mut(width);
                let n = width as f32;
                for (((dx, x), dy), st) in dx
                    .chunks_exact_mut(width)
                    .zip(x.chunks_exact(width))
                    .zip(dy.chunks_exact(width))
                    .zip(st.chunks_exact(2))
                {
                    let (mean, rstd) = (st[0], st[1]);
                    match kind {
                        Norm::Layernorm => {
                            let mut sum_g = 0.0f32;
                            let mut sum_gx = 0.0f32;
                            for i in 0..width {
                                let xh = (x[i] - mean) * rstd;
                                let g = dy[i] * gain[i];
                                sum_g += g;
                                sum_gx += g * xh;
                                dg[i] += dy[i] * xh;
                                db[i] += dy[i];
                            }
                            let (mg, mgx) = (sum_g / n, sum_gx / n);
                            for i in 0..width {
                                let xh = (x[i] - mean) * rstd;
                                dx[i] = rstd * (dy[i] * gain[i] - mg - xh * mgx);
                            }
                        }
                        Norm::Rmsnorm => {
                            let mut sum_gx = 0.0f32;
                            for i in 0..width {
                                let xh = x[i] * rstd;
                                sum_gx += dy[i] * gain[i] * xh;
                                dg[i] += dy[i] * xh;
                            }
                            let mgx = sum_gx / n;
                            for i in 0..width {
                                dx[i] = rstd * (dy[i] * gain[i] - x[i] * rstd * mgx);
                            }
                        }
                    }
                }
                acc
            })
            .reduce(
                || vec![0.0f32; 2 * width],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                    a
                },
            );
        dgain.copy_from_slice(&partial[..width]);
        if let Some(db) = dbias {
            db.copy_from_slice(&partial[width..]);
        }
    });
}
