//! Causal multi-head and grouped-query attention (Vaswani et al. 2017; Ainslie et al. 2023),
//! forward and backward, over a fused QKV matrix.
//!
//! Layout: `qkv` is row-major (tokens × (h + 2·g·d)); the rows of sequence b are
//! b·s .. (b+1)·s; query head i is columns i·d .. (i+1)·d, key head j is h + j·d, value head j
//! is h + g·d + j·d, and query head i reads key/value head i / (a/g). Each (sequence, head)
//! pair's products run on one thread, pairs in parallel with rayon (parallelising inside such
//! small products is slower, as measured in `docs/gemm-choice.md`). Products, softmax and
//! context run as separate passes so each op class is timed on its own. The products cover the
//! full s × s score matrix (the PaLM / Megatron convention); the softmax touches only the
//! s·(s+1)/2 unmasked scores and writes zeros above the diagonal.

use super::fastmath;
use super::flops::{SOFTMAX_BWD, SOFTMAX_FWD, causal_entries, product};
use super::gemm::product_raw;
use super::{OpClass, Tally};
use rayon::prelude::*;

/// The shape of one attention call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttentionShape {
    /// Sequences.
    pub batch: usize,
    /// Tokens per sequence s.
    pub seq: usize,
    /// Query heads a.
    pub heads: usize,
    /// Key/value heads g (divides a).
    pub kv_heads: usize,
    /// Head width d.
    pub head_dim: usize,
}

impl AttentionShape {
    pub fn d_model(&self) -> usize {
        self.heads * self.head_dim
    }
    pub fn kv_width(&self) -> usize {
        self.kv_heads * self.head_dim
    }
    /// Columns of the fused QKV matrix.
    pub fn qkv_width(&self) -> usize {
        self.d_model() + 2 * self.kv_width()
    }
    /// Floats of the score / probability buffer: batch · heads · s².
    pub fn scores_len(&self) -> usize {
        self.batch * self.heads * self.seq * self.seq
    }
    fn pairs(&self) -> usize {
        self.batch * self.heads
    }
    fn group(&self) -> usize {
        self.heads / self.kv_heads
    }
    fn q_col(&self, i: usize) -> usize {
        i * self.head_dim
    }
    fn k_col(&self, j: usize) -> usize {
        self.d_model() + j * self.head_dim
    }
    fn v_col(&self, j: usize) -> usize {
        self.d_model() + self.kv_width() + j * self.head_dim
    }
    fn scale(&self) -> f32 {
        1.0 / (self.head_dim as f32).sqrt()
    }
    fn pair_product_flops(&self) -> u64 {
        self.pairs() as u64 * product(self.seq, self.seq, self.head_dim)
    }
    fn pair_product_bytes(&self) -> u64 {
        let (s, d) = (self.seq as u64, self.head_dim as u64);
        4 * self.pairs() as u64 * (2 * s * d + s * s)
    }
}

/// A pointer that rayon tasks may share because each task writes a disjoint region.
#[derive(Clone, Copy)]
struct Shared(*mut f32);
// SAFETY: used only where every task touches a disjoint region (argued at each use).
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}
impl Shared {
    fn at(self, offset: usize) -> *mut f32 {
        // SAFETY: offsets are computed within the buffer's bounds by the callers.
        unsafe { self.0.add(offset) }
    }
}

/// Forward: `probs` (batch·heads × s × s) receives the causal softmax of Q·Kᵀ/√d, `ctx`
/// (tokens × h) receives P·V per head.
pub fn forward(
    tally: &mut Tally,
    a: AttentionShape,
    qkv: &[f32],
    probs: &mut [f32],
    ctx: &mut [f32],
) {
    let (s, d, w) = (a.seq, a.head_dim, a.qkv_width());
    let h = a.d_model();
    assert_eq!(qkv.len(), a.batch * s * w);
    assert_eq!(probs.len(), a.scores_len());
    assert_eq!(ctx.len(), a.batch * s * h);
    let qkv_p = qkv.as_ptr() as usize;

    // S = Q·Kᵀ per (sequence, head).
    tally.record(
        OpClass::Attention,
        a.pair_product_flops(),
        a.pair_product_bytes(),
        || {
            probs
                .par_chunks_mut(s * s)
                .enumerate()
                .for_each(|(p, out)| {
                    let (b, i) = (p / a.heads, p % a.heads);
                    let j = i / a.group();
                    let base = qkv_p as *const f32;
                    // SAFETY: Q and K of sequence b are within `qkv` (row b·s .. b·s+s, the head's
                    // columns); `out` is this task's own s × s block.
                    unsafe {
                        let q = base.add(b * s * w + a.q_col(i));
                        let k = base.add(b * s * w + a.k_col(j));
                        product_raw(
                            s,
                            s,
                            d,
                            (q, w as isize, 1),
                            (k, 1, w as isize),
                            (out.as_mut_ptr(), s as isize, 1),
                            false,
                        );
                    }
                });
        },
    );

    // P = causal softmax(S / √d), in place.
    let unmasked = a.pairs() as u64 * causal_entries(s);
    let scale = a.scale();
    tally.record(
        OpClass::Softmax,
        unmasked * SOFTMAX_FWD,
        8 * unmasked,
        || {
            probs.par_chunks_mut(s * s).for_each(|block| {
                for (r, row) in block.chunks_exact_mut(s).enumerate() {
                    let (live, masked) = row.split_at_mut(r + 1);
                    live.iter_mut().for_each(|v| *v *= scale);
                    let max = fastmath::max(live);
                    live.iter_mut().for_each(|v| *v = fastmath::exp(*v - max));
                    let inv = 1.0 / fastmath::sum(live);
                    live.iter_mut().for_each(|v| *v *= inv);
                    masked.fill(0.0);
                }
            });
        },
    );

    // O = P·V per (sequence, head), written into the head's columns of ctx.
    let ctx_p = Shared(ctx.as_mut_ptr());
    let probs_p = probs.as_ptr() as usize;
    tally.record(
        OpClass::Attention,
        a.pair_product_flops(),
        a.pair_product_bytes(),
        || {
            (0..a.pairs()).into_par_iter().for_each(|p| {
                let (b, i) = (p / a.heads, p % a.heads);
                let j = i / a.group();
                // SAFETY: reads P's block p and V of sequence b; writes the (s × d) block of ctx at
                // rows of sequence b and columns of head i, which no other task p' ≠ p writes.
                unsafe {
                    let pr = (probs_p as *const f32).add(p * s * s);
                    let v = (qkv_p as *const f32).add(b * s * w + a.v_col(j));
                    let o = ctx_p.at(b * s * h + a.q_col(i));
                    product_raw(
                        s,
                        d,
                        s,
                        (pr, s as isize, 1),
                        (v, w as isize, 1),
                        (o, h as isize, 1),
                        false,
                    );
                }
            });
        },
    );
}

/// Backward: given `dctx` (tokens × h), writes `dqkv` (tokens × (h + 2·g·d)); `dprobs` is
/// workspace of the size of `probs`.
pub fn backward(
    tally: &mut Tally,
    a: AttentionShape,
    qkv: &[f32],
    probs: &[f32],
    dctx: &[f32],
    dprobs: &mut [f32],
    dqkv: &mut [f32],
) {
    let (s, d, w) = (a.seq, a.head_dim, a.qkv_width());
    let h = a.d_model();
    assert_eq!(dqkv.len(), qkv.len());
    assert_eq!(dprobs.len(), probs.len());
    let qkv_p = qkv.as_ptr() as usize;
    let probs_p = probs.as_ptr() as usize;
    let dctx_p = dctx.as_ptr() as usize;
    let dqkv_p = Shared(dqkv.as_mut_ptr());
    let flops = a.pair_product_flops();
    let bytes = a.pair_product_bytes();

    // dP = dO·Vᵀ per (sequence, head).
    tally.record(OpClass::Attention, flops, bytes, || {
        dprobs
            .par_chunks_mut(s * s)
            .enumerate()
            .for_each(|(p, out)| {
                let (b, i) = (p / a.heads, p % a.heads);
                let j = i / a.group();
                // SAFETY: reads dO (head i of sequence b) and V; writes this task's own block.
                unsafe {
                    let dout = (dctx_p as *const f32).add(b * s * h + a.q_col(i));
                    let v = (qkv_p as *const f32).add(b * s * w + a.v_col(j));
                    product_raw(
                        s,
                        s,
                        d,
                        (dout, h as isize, 1),
                        (v, 1, w as isize),
                        (out.as_mut_ptr(), s as isize, 1),
                        false,
                    );
                }
            });
    });

    // dV_j = Σ_{i in group j} Pᵢᵀ·dOᵢ per (sequence, kv head).
    tally.record(OpClass::Attention, flops, bytes, || {
        (0..a.batch * a.kv_heads).into_par_iter().for_each(|q| {
            let (b, j) = (q / a.kv_heads, q % a.kv_heads);
            for (n, i) in (j * a.group()..(j + 1) * a.group()).enumerate() {
                let p = b * a.heads + i;
                // SAFETY: writes only dV of (sequence b, kv head j), owned by this task.
                unsafe {
                    let pr = (probs_p as *const f32).add(p * s * s);
                    let dout = (dctx_p as *const f32).add(b * s * h + a.q_col(i));
                    let dv = dqkv_p.at(b * s * w + a.v_col(j));
                    product_raw(
                        s,
                        d,
                        s,
                        (pr, 1, s as isize),
                        (dout, h as isize, 1),
                        (dv, w as isize, 1),
                        n > 0,
                    );
                }
            }
        });
    });

    // dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √d, in place in dprobs.
    let unmasked = a.pairs() as u64 * causal_entries(s);
    let scale = a.scale();
    tally.record(
        OpClass::Softmax,
        unmasked * SOFTMAX_BWD,
        12 * unmasked,
        || {
            dprobs
                .par_chunks_mut(s * s)
                .zip(probs.par_chunks(s * s))
                .for_each(|(dblock, pblock)| {
                    for (r, (drow, prow)) in dblock
                        .chunks_exact_mut(s)
                        .zip(pblock.chunks_exact(s))
                        .enumerate()
                    {
                        let (live, masked) = drow.split_at_mut(r + 1);
                        let dot = fastmath::dot(live, prow);
                        for (dp, p) in live.iter_mut().zip(prow) {
                            *dp = (*dp - dot) * p * scale;
                        }
                        masked.fill(0.0);
                    }
                });
        },
    );

    // dQᵢ = dSᵢ·K_j per (sequence, head).
    let dprobs_p = dprobs.as_ptr() as usize;
    tally.record(OpClass::Attention, flops, bytes, || {
        (0..a.pairs()).into_par_iter().for_each(|p| {
            let (b, i) = (p / a.heads, p % a.heads);
            let j = i / a.group();
            // SAFETY: writes only dQ of (sequence b, head i).
            unsafe {
                let ds = (dprobs_p as *const f32).add(p * s * s);
                let k = (qkv_p as *const f32).add(b * s * w + a.k_col(j));
                let dq = dqkv_p.at(b * s * w + a.q_col(i));
                product_raw(
                    s,
                    d,
                    s,
                    (ds, s as isize, 1),
                    (k, w as isize, 1),
                    (dq, w as isize, 1),
                    false,
                );
            }
        });
    });

    // dK_j = Σ_{i in group j} dSᵢᵀ·Qᵢ per (sequence, kv head).
    tally.record(OpClass::Attention, flops, bytes, || {
        (0..a.batch * a.kv_heads).into_par_iter().for_each(|q| {
            let (b, j) = (q / a.kv_heads, q % a.kv_heads);
            for (n, i) in (j * a.group()..(j + 1) * a.group()).enumerate() {
                let p = b * a.heads + i;
                // SAFETY: writes only dK of (sequence b, kv head j), owned by this task.
                unsafe {
                    let ds = (dprobs_p as *const f32).add(p * s * s);
                    let qh = (qkv_p as *const f32).add(b * s * w + a.q_col(i));
                    let dk = dqkv_p.at(b * s * w + a.k_col(j));
                    product_raw(
                        s,
                        d,
                        s,
                        (ds, 1, s as isize),
                        (qh, w as isize, 1),
                        (dk, w as isize, 1),
                        n > 0,
                    );
                }
            }
        });
    });
}
