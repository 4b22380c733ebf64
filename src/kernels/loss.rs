//! Softmax cross-entropy over rows of logits, mean over rows.

use super::flops::{XENT_BWD, XENT_FWD};
use super::{OpClass, Tally, fastmath};
use rayon::prelude::*;

/// Mean cross-entropy of `logits` (rows × classes) against `targets`; `lse` receives each row's
/// log-sum-exp for the backward pass.
pub fn forward(
    tally: &mut Tally,
    logits: &[f32],
    classes: usize,
    targets: &[u32],
    lse: &mut [f32],
) -> f32 {
    let rows = targets.len();
    let n = (rows * classes) as u64;
    tally.record(OpClass::Loss, n * XENT_FWD, 4 * n, || {
        let total: f64 = logits
            .par_chunks(classes)
            .zip(lse.par_iter_mut())
            .zip(targets.par_iter())
            .map(|((z, lse), &t)| {
                let max = fastmath::max(z);
                let sum = fastmath::sum_exp(z, max);
                *lse = max + sum.ln();
                f64::from(*lse - z[t as usize])
            })
            .sum();
        (total / rows as f64) as f32
    })
}

/// Turns `logits` into d(mean loss)/d(logits) in place: (softmax − one-hot) / rows.
pub fn backward(
    tally: &mut Tally,
    logits: &mut [f32],
    classes: usize,
    targets: &[u32],
    lse: &[f32],
) {
    let rows = targets.len();
    let n = (rows * classes) as u64;
    let inv_rows = 1.0 / rows as f32;
    tally.record(OpClass::Loss, n * XENT_BWD, 8 * n, || {
        logits
            .par_chunks_mut(classes)
            .zip(lse.par_iter())
            .zip(targets.par_iter())
            .for_each(|((z, &lse), &t)| {
                z.iter_mut()
                    .for_each(|v| *v = fastmath::exp(*v - lse) * inv_rows);
                z[t as usize] -= inv_rows;
            });
    });
}
