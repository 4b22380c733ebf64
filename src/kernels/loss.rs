//! Softmax cross-entropy over rows of logits, mean over rows.
//!
//! A training step runs [`forward_backward`]: the loss and d(loss)/d(logits) in one kernel that
//! reads each row of logits from memory once and writes its gradient in place, computing one
//! exponential per logit. The log-sum-exp is one pass (by blocks that stay in L1), and a row
//! (the vocabulary: 50,257 floats, 200 KB for GPT-2) stays in the core's L2 cache until the
//! gradient sweep rewrites it, so the logits, the largest memory-bound tensor of a step, cross
//! the memory bus once each way (8 bytes per logit instead of the 12 of a forward then a
//! backward kernel). [`forward`] and [`backward`] remain for a forward-only loss and the
//! gradient checks.

use super::fastmath::{self, multiversion};
use super::flops::{XENT_BWD, XENT_FUSED, XENT_FWD};
use super::{OpClass, Tally};
use rayon::prelude::*;

/// Logits per block of the one-pass log-sum-exp: 4 KB, inside any L1 data cache.
const BLOCK: usize = 1024;

/// A row's log-sum-exp in one pass over memory: block by block, the block's maximum and then
/// its Σ exp while the block is in L1, rescaling the running sum when the maximum grows
/// (the online softmax of Milakov & Gimelshein 2018, by blocks instead of by elements, so each
/// logit still costs one exp). Reading the next block from memory thus alternates with
/// arithmetic on one already in cache.
#[inline(always)]
fn log_sum_exp(z: &[f32]) -> f32 {
    let mut max = f32::NEG_INFINITY;
    let mut sum = 0.0f32;
    for block in z.chunks(BLOCK) {
        let m = fastmath::max(block);
        if m > max {
            // The first block: sum is 0 and exp(−∞) is clamped to a tiny positive number.
            sum *= fastmath::exp(max - m);
            max = m;
        }
        sum += fastmath::sum_exp(block, max);
    }
    max + sum.ln()
}

multiversion! {
    /// One row's log-sum-exp.
    fn row_lse(z: &[f32]) -> f32 {
        log_sum_exp(z)
    }
}

multiversion! {
    /// Overwrites a row of logits with (softmax − one-hot)·scale, given its log-sum-exp.
    fn row_gradient(z: &mut [f32], lse: f32, target: usize, scale: f32) {
        let k = fastmath::log2e_shift(lse);
        for v in z.iter_mut() {
            *v = fastmath::exp_shifted(*v, k) * scale;
        }
        z[target] -= scale;
    }
}

multiversion! {
    /// The fused kernel on one row, with one exp per logit: returns its loss and leaves its
    /// gradient in `z`. Pass 1, block by block while the block is in L1: the block's maximum
    /// m_b, then e^(z − m_b) stored in place of z and summed; the row's log-sum-exp follows from
    /// the blocks' maxima and sums as in [`log_sum_exp`]. Pass 2: each block times
    /// e^(m_b − lse)·scale, which turns e^(z − m_b) into softmax(z)·scale. `maxima` is scratch
    /// for the blocks' maxima, reused across rows.
    fn row_loss_and_gradient(z: &mut [f32], target: usize, scale: f32, maxima: &mut Vec<f32>) -> f32 {
        // Read before pass 1 overwrites it.
        let z_target = z[target];
        maxima.clear();
        let mut max = f32::NEG_INFINITY;
        let mut sum = 0.0f32;
        for block in z.chunks_mut(BLOCK) {
            let m = fastmath::max(block);
            let s = fastmath::exp_in_place_sum(block, m);
            if m > max {
                // The first block: sum is 0 and exp(−∞) is clamped to a tiny positive number.
                sum = sum * fastmath::exp(max - m) + s;
                max = m;
            } else {
                sum += s * fastmath::exp(m - max);
            }
            maxima.push(m);
        }
        let lse = max + sum.ln();
        for (block, &m) in z.chunks_mut(BLOCK).zip(maxima.iter()) {
            let factor = fastmath::exp(m - lse) * scale;
            for v in block {
                *v *= factor;
            }
        }
        z[target] -= scale;
        lse - z_target
    }
}

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
                *lse = row_lse(z);
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
            .for_each(|((z, &lse), &t)| row_gradient(z, lse, t as usize, inv_rows));
    });
}

/// [`forward`] then [`backward`] in one kernel: returns the mean cross-entropy of `logits`
/// against `targets` and leaves d(mean loss)/d(logits) in `logits`. Computes one exp per logit
/// where the pair computes two (`XENT_FUSED` = 5 FLOPs per logit against 4 + 3), and moves
/// 8 bytes per logit: each read once, each gradient written once.
pub fn forward_backward(
    tally: &mut Tally,
    logits: &mut [f32],
    classes: usize,
    targets: &[u32],
) -> f32 {
    let rows = targets.len();
    let n = (rows * classes) as u64;
    let inv_rows = 1.0 / rows as f32;
    tally.record(OpClass::Loss, n * XENT_FUSED, 8 * n, || {
        let total: f64 = logits
            .par_chunks_mut(classes)
            .zip(targets.par_iter())
            .map_init(Vec::new, |maxima, (z, &t)| {
                f64::from(row_loss_and_gradient(z, t as usize, inv_rows, maxima))
            })
            .sum();
        (total / rows as f64) as f32
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scalar kernels this module had before the fused one, in f64: the reference.
    fn reference(z: &[f32], classes: usize, targets: &[u32]) -> (f64, Vec<f64>) {
        let rows = targets.len();
        let mut loss = 0.0;
        let mut grad = vec![0.0; z.len()];
        for (r, (row, &t)) in z.chunks(classes).zip(targets).enumerate() {
            let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
            let sum: f64 = row.iter().map(|&v| (f64::from(v) - max).exp()).sum();
            let lse = max + sum.ln();
            loss += lse - f64::from(row[t as usize]);
            for (c, &v) in row.iter().enumerate() {
                grad[r * classes + c] = (f64::from(v) - lse).exp() / rows as f64;
            }
            grad[r * classes + t as usize] -= 1.0 / rows as f64;
        }
        (loss / rows as f64, grad)
    }

    #[test]
    fn fused_loss_equals_forward_then_backward_and_the_reference() {
        // Odd widths, none a multiple of 8 or 16 lanes, and one of a single class.
        // Rows over two blocks of the one-pass log-sum-exp too, whose ramp makes the maximum
        // grow from block to block (the rescaling path).
        for classes in [1usize, 7, 17, 33, 1003, 2500] {
            let rows = 5;
            let targets: Vec<u32> = (0..rows as u32).map(|r| r * 5 % classes as u32).collect();
            let z: Vec<f32> = (0..rows * classes)
                .map(|i| ((i * 7919 % 1013) as f32 / 100.0 - 5.0) * 1.3 + (i % classes) as f32 * 0.004)
                .collect();
            let (want_loss, want_grad) = reference(&z, classes, &targets);

            let mut tally = Tally::new();
            let mut lse = vec![0.0; rows];
            let l1 = forward(&mut tally, &z, classes, &targets, &mut lse);
            let mut g1 = z.clone();
            backward(&mut tally, &mut g1, classes, &targets, &lse);
            let mut g2 = z.clone();
            let l2 = forward_backward(&mut tally, &mut g2, classes, &targets);

            // The fused kernel computes e^(z − lse) as e^(z − m_b)·e^(m_b − lse): the same
            // values to a few ulp, not the same bits.
            for (l, g) in [(l1, &g1), (l2, &g2)] {
                assert!(
                    (f64::from(l) - want_loss).abs() < 1e-5 * want_loss.abs().max(1.0),
                    "{classes} classes: loss {l} vs {want_loss}"
                );
                for (g, w) in g.iter().zip(&want_grad) {
                    assert!(
                        (f64::from(*g) - w).abs() < 1e-6 / rows as f64 + 2e-6 * w.abs(),
                        "{classes} classes: {g} vs {w}"
                    );
                }
            }
            assert!((l1 - l2).abs() <= 1e-6 * l1.abs().max(1.0), "{l1} vs {l2}");
            // The fused kernel charges 5 FLOPs per logit (one exp) where the pair charges
            // 4 + 3, and moves 8 bytes per logit where the pair moves 12.
            let n = (rows * classes) as u64;
            assert_eq!(tally.class(OpClass::Loss).bytes, 12 * n + 8 * n);
            assert_eq!(
                tally.class(OpClass::Loss).flops,
                n * (XENT_FWD + XENT_BWD) + n * XENT_FUSED
            );
        }
    }
}
