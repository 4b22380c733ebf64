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
/// A scatter with repeated tokens would race if split over tokens, so the threads split the
/// *table*: each task owns a band of table rows and adds, in token order, the gradient rows of
/// the tokens that fall in it (every task scans the token ids, a few bytes each; each gradient
/// row is read by one task). Every element receives the same additions in the same order as a
/// sequential loop, so the result does not depend on the thread count.
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
            scatter_rows(dtable, width, dx, |t| tokens[t] as usize);
            if let Some(dp) = dpositions {
                dp.fill(0.0);
                scatter_rows(dp, width, dx, |t| t % seq);
            }
        },
    );
}

/// `table[row_of(t)] += dx[t]` for every row t of `dx`, in parallel over bands of table rows.
fn scatter_rows(
    table: &mut [f32],
    width: usize,
    dx: &[f32],
    row_of: impl Fn(usize) -> usize + Sync,
) {
    if width == 0 {
        return;
    }
    let rows = table.len() / width;
    // About four bands per thread, so uneven token counts still balance.
    let band = rows.div_ceil(4 * rayon::current_num_threads().max(1)).max(1);
    table
        .par_chunks_mut(band * width)
        .enumerate()
        .for_each(|(b, chunk)| {
            let lo = b * band;
            for (t, g) in dx.chunks_exact(width).enumerate() {
                let r = row_of(t);
                if (lo..lo + band).contains(&r) {
                    let d = &mut chunk[(r - lo) * width..(r - lo + 1) * width];
                    d.iter_mut().zip(g).for_each(|(d, g)| *d += g);
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_scatter_equals_the_sequential_one() {
        // Widths below, at and above one band, with repeated tokens.
        for width in [1usize, 5, 16, 37, 300] {
            let (vocab, seq) = (7, 4);
            let tokens: Vec<u32> = (0..12u32).map(|t| t * 5 % vocab as u32 % 3).collect();
            let dx: Vec<f32> = (0..tokens.len() * width).map(|i| (i % 13) as f32 * 0.37 - 2.0).collect();
            let mut want = vec![0.5f32; vocab * width];
            let mut want_pos = vec![0.0f32; seq * width];
            for (t, row) in dx.chunks(width).enumerate() {
                let tok = tokens[t] as usize;
                for c in 0..width {
                    want[tok * width + c] += row[c];
                    want_pos[(t % seq) * width + c] += row[c];
                }
            }
            let mut got = vec![0.5f32; vocab * width];
            let mut got_pos = vec![9.0f32; seq * width];
            backward(&mut Tally::new(), &tokens, &dx, seq, width, &mut got, Some(&mut got_pos));
            assert_eq!(got, want, "width {width}");
            assert_eq!(got_pos, want_pos, "width {width}");
        }
    }
}
