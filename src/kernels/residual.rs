//! Residual additions: the forward `y = a + b`, and `acc += b`. (A training step merges the
//! backward gradient paths inside the norm backward, `norm::backward_add`.)

use super::flops::RESIDUAL;
use super::{OpClass, Tally};
use rayon::prelude::*;

const CHUNK: usize = 1 << 14;

/// `out = a + b`.
pub fn add(tally: &mut Tally, a: &[f32], b: &[f32], out: &mut [f32]) {
    let n = out.len() as u64;
    tally.record(OpClass::Residual, n * RESIDUAL, 12 * n, || {
        out.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK))
            .zip(b.par_chunks(CHUNK))
            .for_each(|((o, a), b)| {
                for ((o, a), b) in o.iter_mut().zip(a).zip(b) {
                    *o = a + b;
                }
            });
    });
}

/// `acc += b`.
pub fn add_assign(tally: &mut Tally, acc: &mut [f32], b: &[f32]) {
    let n = acc.len() as u64;
    tally.record(OpClass::Residual, n * RESIDUAL, 12 * n, || {
        acc.par_chunks_mut(CHUNK)
            .zip(b.par_chunks(CHUNK))
            .for_each(|(a, b)| a.iter_mut().zip(b).for_each(|(a, b)| *a += b));
    });
}
