//! Token (and learned position) embedding lookup, and its scatter-add backward.

use super::flops::EMBED_ADD;
use super::{OpClass, Tally};
use rayon::prelude::*;

/// `x[t] = table[tokens[t]] (+ positions[t mod seq])`, rows of `width`.
pub fn forward(
    tally: &mut Tally,
    tokens: &[u32],
    table: &[f32],
    positions: Option<&[f32]>,
    seq: usize,
    width: usize,
    x: &mut [f32],
) {
    let n = (tokens.len() * width) as u64;
    let pos = positions.is_some() as u64;
    tally.record(
        OpClass::Embedding,
        n * EMBED_ADD * pos,
        4 * n * (2 + pos),
        || {
            x.par_chunks_mut(width).enumerate().for_each(|(t, row)| {
                let tok = tokens[t] as usize;
                row.copy_from_slice(&table[tok * width..(tok + 1) * width]);
                if let Some(p) = positions {
                    let p = &p[(t % seq) * width..(t % seq + 1) * width];
                    row.iter_mut().zip(p).for_each(|(r, p)| *r += p);
                }
            });
        },
    );
}

/// `dtable[tokens[t]] += dx[t]` (the caller has zeroed or assigned `dtable`), and
/// `dpositions` is *assigned* the sum over sequences of `dx`.
///
/// Sequential: a scatter with repeated tokens would race in parallel, and it is T·h additions,
/// a few hundredths of a per cent of a step's FLOPs.
pub fn backward(
    tally: &mut Tally,
    tokens: &[u32],
    dx: &[f32],
    seq: usize,
    width: usize,
    dtable: &mut [f32],
    dpositions: Option<&mut [f32]>,
) {
    let n = (tokens.len() * width) as u64;
    let pos = dpositions.is_some() as u64;
    tally.record(
        OpClass::Embedding,
        n * EMBED_ADD * (1 + pos),
        4 * n * (3 + 2 * pos),
        || {
            for (t, row) in dx.chunks_exact(width).enumerate() {
                let tok = tokens[t] as usize;
                dtable[tok * width..(tok + 1) * width]
                    .iter_mut()
                    .zip(row)
                    .for_each(|(d, g)| *d += g);
            }
            if let Some(dp) = dpositions {
                dp.fill(0.0);
                for (t, row) in dx.chunks_exact(width).enumerate() {
                    let p = t % seq;
                    dp[p * width..(p + 1) * width]
                        .iter_mut()
                        .zip(row)
                        .for_each(|(d, g)| *d += g);
                }
            }
        },
    );
}
