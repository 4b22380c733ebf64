//! LayerNorm (Ba et al. 2016) and RMSNorm (Zhang & Sennrich 2019) over the rows of a
//! row-major (rows × width) matrix, forward and backward, parallel over rows.
//!
//! A row (768 floats for GPT-2) sits in L1 cache while it is worked on, so each kernel reads its
//! operands from memory once and writes its results once however many sweeps it makes over a
//! row. What bounds the time is then the arithmetic of those sweeps: the row statistics are
//! sums of 16 independent lanes (a single running sum is a chain of dependent additions the
//! compiler may not reorder, four cycles each), and every row function is compiled for AVX-512
//! too (`fastmath::multiversion!`).

use super::fastmath::{self, multiversion};
use super::flops::{LAYERNORM_BWD, LAYERNORM_FWD, RESIDUAL, RMSNORM_BWD, RMSNORM_FWD};
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
    let gain = &gain[..width];
    let bias = match kind {
        Norm::Layernorm => Some(&bias.expect("layernorm has a bias")[..width]),
        Norm::Rmsnorm => None,
    };
    tally.record(OpClass::Norm, flops, bytes, || {
        y.par_chunks_mut(width * chunk)
            .zip(x.par_chunks(width * chunk))
            .zip(stats.par_chunks_mut(2 * chunk))
            .for_each(|((y, x), st)| match bias {
                Some(b) => layernorm_rows(x, gain, b, y, st),
                None => rmsnorm_rows(x, gain, y, st),
            });
    });
}

multiversion! {
    /// LayerNorm forward over whole rows of `gain.len()`.
    fn layernorm_rows(x: &[f32], gain: &[f32], bias: &[f32], y: &mut [f32], stats: &mut [f32]) {
        let width = gain.len();
        let n = width as f32;
        for ((y, x), st) in y
            .chunks_exact_mut(width)
            .zip(x.chunks_exact(width))
            .zip(stats.chunks_exact_mut(2))
        {
            let mean = fastmath::sum(x) / n;
            let var = fastmath::sum_sq_dev(x, mean) / n;
            let rstd = 1.0 / (var + EPS).sqrt();
            for (((y, &x), &g), &b) in y.iter_mut().zip(x).zip(gain).zip(bias) {
                *y = (x - mean) * rstd * g + b;
            }
            st[0] = mean;
            st[1] = rstd;
        }
    }
}

multiversion! {
    /// RMSNorm forward over whole rows of `gain.len()`.
    fn rmsnorm_rows(x: &[f32], gain: &[f32], y: &mut [f32], stats: &mut [f32]) {
        let width = gain.len();
        let n = width as f32;
        for ((y, x), st) in y
            .chunks_exact_mut(width)
            .zip(x.chunks_exact(width))
            .zip(stats.chunks_exact_mut(2))
        {
            let ms = fastmath::dot(x, x) / n;
            let rstd = 1.0 / (ms + EPS).sqrt();
            for ((y, &x), &g) in y.iter_mut().zip(x).zip(gain) {
                *y = x * rstd * g;
            }
            st[0] = 0.0;
            st[1] = rstd;
        }
    }
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
    backward_impl(
        tally, kind, x, width, gain, stats, dy, None, dx, dgain, dbias,
    );
}

/// Backward of [`forward`] merged with the residual branch it sits on:
/// `dx = skip + d(norm)/dx · dy`, where `skip` is the gradient reaching the norm's input by the
/// residual path. The pre-norm block's backward then needs no separate residual addition (which
/// would write the norm's gradient and read it back): one read each of x, dy and skip, one
/// write of dx. Charged to the norm class with one more FLOP per element (the addition);
/// *assigns* `dgain` (and `dbias`) like [`backward`].
#[allow(clippy::too_many_arguments)]
pub fn backward_add(
    tally: &mut Tally,
    kind: Norm,
    x: &[f32],
    width: usize,
    gain: &[f32],
    stats: &[f32],
    dy: &[f32],
    skip: &[f32],
    dx: &mut [f32],
    dgain: &mut [f32],
    dbias: Option<&mut [f32]>,
) {
    assert_eq!(skip.len(), x.len(), "the residual gradient has the norm input's shape");
    backward_impl(
        tally,
        kind,
        x,
        width,
        gain,
        stats,
        dy,
        Some(skip),
        dx,
        dgain,
        dbias,
    );
}

#[allow(clippy::too_many_arguments)]
fn backward_impl(
    tally: &mut Tally,
    kind: Norm,
    x: &[f32],
    width: usize,
    gain: &[f32],
    stats: &[f32],
    dy: &[f32],
    skip: Option<&[f32]>,
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
    let (per, arrays) = match skip {
        Some(_) => (per + RESIDUAL, 4),
        None => (per, 3),
    };
    let flops = (rows * width) as u64 * per;
    let bytes = 4 * (arrays * rows * width + params * width) as u64;
    let chunk = rows_per_task(width);
    let gain = &gain[..width];
    tally.record(OpClass::Norm, flops, bytes, || {
        // Each task returns its partial (dγ, dβ); partial sums are then added (that reduction
        // is per task, not per element, and is not counted).
        let partial = dx
            .par_chunks_mut(width * chunk)
            .zip(x.par_chunks(width * chunk))
            .zip(dy.par_chunks(width * chunk))
            .zip(stats.par_chunks(2 * chunk))
            .enumerate()
            .map(|(task, (((dx, x), dy), st))| {
                let mut acc = vec![0.0f32; 2 * width];
                let (dg, db) = acc.split_at_mut(width);
                match kind {
                    Norm::Layernorm => layernorm_backward_rows(x, dy, st, gain, dx, dg, db),
                    Norm::Rmsnorm => rmsnorm_backward_rows(x, dy, st, gain, dx, dg),
                }
                if let Some(skip) = skip {
                    // The task's rows of dx are still in L1/L2: adding the residual gradient
                    // here costs no memory traffic beyond reading `skip`.
                    let start = task * width * chunk;
                    add_into(dx, &skip[start..start + dx.len()]);
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

multiversion! {
    /// `acc += b`.
    fn add_into(acc: &mut [f32], b: &[f32]) {
        for (a, &b) in acc.iter_mut().zip(b) {
            *a += b;
        }
    }
}

/// Lanes of the row sums in the backward passes.
const LANES: usize = 16;

multiversion! {
    /// LayerNorm backward over whole rows of `gain.len()`: writes `dx`, adds to `dg` and `db`.
    fn layernorm_backward_rows(
        x: &[f32],
        dy: &[f32],
        stats: &[f32],
        gain: &[f32],
        dx: &mut [f32],
        dg: &mut [f32],
        db: &mut [f32],
    ) {
        let width = gain.len();
        let n = width as f32;
        let (dg, db) = (&mut dg[..width], &mut db[..width]);
        for (((dx, x), dy), st) in dx
            .chunks_exact_mut(width)
            .zip(x.chunks_exact(width))
            .zip(dy.chunks_exact(width))
            .zip(stats.chunks_exact(2))
        {
            let (mean, rstd) = (st[0], st[1]);
            // Σg and Σg·x̂ in 16 lanes each, with dγ += dy·x̂ and dβ += dy in the same sweep.
            let mut sum_g = [0.0f32; LANES];
            let mut sum_gx = [0.0f32; LANES];
            let full = width / LANES * LANES;
            for ((((x, dy), gain), dg), db) in x[..full]
                .chunks_exact(LANES)
                .zip(dy[..full].chunks_exact(LANES))
                .zip(gain[..full].chunks_exact(LANES))
                .zip(dg[..full].chunks_exact_mut(LANES))
                .zip(db[..full].chunks_exact_mut(LANES))
            {
                for l in 0..LANES {
                    let xh = (x[l] - mean) * rstd;
                    let g = dy[l] * gain[l];
                    sum_g[l] += g;
                    sum_gx[l] += g * xh;
                    dg[l] += dy[l] * xh;
                    db[l] += dy[l];
                }
            }
            let (mut tail_g, mut tail_gx) = (0.0f32, 0.0f32);
            for i in full..width {
                let xh = (x[i] - mean) * rstd;
                let g = dy[i] * gain[i];
                tail_g += g;
                tail_gx += g * xh;
                dg[i] += dy[i] * xh;
                db[i] += dy[i];
            }
            let mg = (sum_g.iter().sum::<f32>() + tail_g) / n;
            let mgx = (sum_gx.iter().sum::<f32>() + tail_gx) / n;
            for (((dx, &x), &dy), &g) in dx.iter_mut().zip(x).zip(dy).zip(gain) {
                let xh = (x - mean) * rstd;
                *dx = rstd * (dy * g - mg - xh * mgx);
            }
        }
    }
}

multiversion! {
    /// RMSNorm backward over whole rows of `gain.len()`: writes `dx`, adds to `dg`.
    fn rmsnorm_backward_rows(
        x: &[f32],
        dy: &[f32],
        stats: &[f32],
        gain: &[f32],
        dx: &mut [f32],
        dg: &mut [f32],
    ) {
        let width = gain.len();
        let n = width as f32;
        let dg = &mut dg[..width];
        for (((dx, x), dy), st) in dx
            .chunks_exact_mut(width)
            .zip(x.chunks_exact(width))
            .zip(dy.chunks_exact(width))
            .zip(stats.chunks_exact(2))
        {
            let rstd = st[1];
            let mut sum_gx = [0.0f32; LANES];
            let full = width / LANES * LANES;
            for (((x, dy), gain), dg) in x[..full]
                .chunks_exact(LANES)
                .zip(dy[..full].chunks_exact(LANES))
                .zip(gain[..full].chunks_exact(LANES))
                .zip(dg[..full].chunks_exact_mut(LANES))
            {
                for l in 0..LANES {
                    let xh = x[l] * rstd;
                    sum_gx[l] += dy[l] * gain[l] * xh;
                    dg[l] += dy[l] * xh;
                }
            }
            let mut tail_gx = 0.0f32;
            for i in full..width {
                let xh = x[i] * rstd;
                tail_gx += dy[i] * gain[i] * xh;
                dg[i] += dy[i] * xh;
            }
            let mgx = (sum_gx.iter().sum::<f32>() + tail_gx) / n;
            for (((dx, &x), &dy), &g) in dx.iter_mut().zip(x).zip(dy).zip(gain) {
                *dx = rstd * (dy * g - x * rstd * mgx);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scalar kernels this module had before the vectorised ones (one running sum per
    /// statistic), in f64: the reference.
    fn reference(
        kind: Norm,
        x: &[f32],
        width: usize,
        gain: &[f32],
        bias: &[f32],
        dy: &[f32],
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let n = width as f64;
        let (mut y, mut dx) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        let (mut dg, mut db) = (vec![0.0; width], vec![0.0; width]);
        for (r, (x, dy)) in x.chunks(width).zip(dy.chunks(width)).enumerate() {
            let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
            let dy: Vec<f64> = dy.iter().map(|&v| f64::from(v)).collect();
            let ln = kind == Norm::Layernorm;
            let mean = if ln { x.iter().sum::<f64>() / n } else { 0.0 };
            let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
            let rstd = 1.0 / (var + f64::from(EPS)).sqrt();
            let xh: Vec<f64> = x.iter().map(|v| (v - mean) * rstd).collect();
            let g: Vec<f64> = (0..width).map(|i| dy[i] * f64::from(gain[i])).collect();
            let mg = if ln { g.iter().sum::<f64>() / n } else { 0.0 };
            let mgx = (0..width).map(|i| g[i] * xh[i]).sum::<f64>() / n;
            for i in 0..width {
                let b = if ln { f64::from(bias[i]) } else { 0.0 };
                y[r * width + i] = xh[i] * f64::from(gain[i]) + b;
                dx[r * width + i] = rstd * (g[i] - mg - xh[i] * mgx);
                dg[i] += dy[i] * xh[i];
                db[i] += dy[i];
            }
        }
        (y, dx, dg, db)
    }

    #[test]
    fn vectorised_norms_match_the_scalar_reference_at_odd_widths() {
        for kind in [Norm::Layernorm, Norm::Rmsnorm] {
            // Widths below, between and above the 16 lanes, none a multiple of 8; 70 rows
            // make several rayon tasks at the smaller widths.
            for width in [1usize, 7, 17, 33, 771] {
                let rows = 70;
                let x: Vec<f32> = (0..rows * width)
                    .map(|i| ((i * 7919 % 1013) as f32 / 300.0 - 1.5) + (i / width) as f32 * 0.01)
                    .collect();
                let gain: Vec<f32> = (0..width).map(|i| 0.5 + (i % 5) as f32 * 0.3).collect();
                let bias: Vec<f32> = (0..width).map(|i| (i % 3) as f32 * 0.1 - 0.1).collect();
                let dy: Vec<f32> = (0..rows * width)
                    .map(|i| (i * 104_729 % 997) as f32 / 500.0 - 1.0)
                    .collect();
                let ln = kind == Norm::Layernorm;
                let mut t = Tally::new();
                let (mut y, mut st) = (vec![0.0; x.len()], vec![0.0; 2 * rows]);
                forward(&mut t, kind, &x, width, &gain, ln.then_some(&bias[..]), &mut y, &mut st);
                let mut dx = vec![0.0; x.len()];
                let (mut dg, mut db) = (vec![0.0; width], vec![0.0; width]);
                backward(
                    &mut t,
                    kind,
                    &x,
                    width,
                    &gain,
                    &st,
                    &dy,
                    &mut dx,
                    &mut dg,
                    ln.then_some(&mut db[..]),
                );
                let (wy, wdx, wdg, wdb) = reference(kind, &x, width, &gain, &bias, &dy);
                let close = |a: &[f32], b: &[f64], what: &str| {
                    for (i, (&a, &b)) in a.iter().zip(b).enumerate() {
                        assert!(
                            (f64::from(a) - b).abs() <= 1e-4 * (1.0 + b.abs()),
                            "{kind:?} width {width} {what}[{i}]: {a} vs {b}"
                        );
                    }
                };
                // The residual-merged backward: dx + skip, the same parameter gradients.
                let skip: Vec<f32> = (0..x.len()).map(|i| (i % 11) as f32 * 0.25 - 1.0).collect();
                let mut dx2 = vec![0.0; x.len()];
                let (mut dg2, mut db2) = (vec![0.0; width], vec![0.0; width]);
                backward_add(
                    &mut t,
                    kind,
                    &x,
                    width,
                    &gain,
                    &st,
                    &dy,
                    &skip,
                    &mut dx2,
                    &mut dg2,
                    ln.then_some(&mut db2[..]),
                );
                for i in 0..x.len() {
                    assert_eq!(dx2[i], dx[i] + skip[i]);
                }
                assert_eq!((&dg2, &db2), (&dg, &db));
                close(&y, &wy, "y");
                close(&dx, &wdx, "dx");
                close(&dg, &wdg, "dgain");
                if ln {
                    close(&db, &wdb, "dbias");
                }
            }
        }
    }
}
