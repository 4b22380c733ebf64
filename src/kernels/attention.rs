//! Causal multi-head and grouped-query attention (Vaswani et al. 2017; Ainslie et al. 2023),
//! forward and backward, over a fused QKV matrix, blocked and fused in the manner of
//! FlashAttention (Dao et al. 2022) and FlashAttention-2 (Dao 2023): the s × s score matrix is
//! never stored, and blocks of it that lie entirely above the diagonal are never computed.
//!
//! Layout: `qkv` is row-major (tokens × (h + 2·g·d)); the rows of sequence b are
//! b·s .. (b+1)·s; query head i is columns i·d .. (i+1)·d, key head j is h + j·d, value head j
//! is h + g·d + j·d, and query head i reads key/value head i / (a/g).
//!
//! **Forward** ([`forward`]): per (sequence, head, query block of B rows), in parallel with
//! rayon, the key blocks of B columns left of and on the diagonal are visited in order; per
//! block S = Q·Kᵀ/√d, then the online softmax (running row maximum m and sum l, rescaling the
//! output accumulator when m grows), then O += P·V. It keeps per query row the log-sum-exp
//! L = m + ln l (batch · heads · s floats) for backward instead of the probabilities.
//!
//! **Backward** ([`backward`]): D = rowsum(dO ∘ O); per (sequence, key/value head, span of up
//! to 4 consecutive key blocks), in parallel, over the query heads sharing that K/V head and the
//! query blocks on and below the diagonal, and per query block over the span's key blocks left
//! of or on the diagonal: S recomputed, P = exp(S − L), dV += Pᵀ·dO, dP = dO·Vᵀ,
//! dS = P ∘ (dP − D), dK += dSᵀ·Q/√d, and dQ += dS·K/√d. dK and dV of a key block belong to
//! its task alone (the query heads of a group are summed inside it); the dQ block receives
//! contributions from every key block left of it, so each task adds its span's (B × d) sum under
//! a lock of that (head, query block) — no data race, no thread-count-sized buffers, memory
//! linear in s. Spans (`key_span`) let each query block's Q, dO and dQ, read from beyond L2 at
//! long sequences, serve several key blocks.
//!
//! The block products run on hand-written register-blocked micro-kernels (AVX-512, AVX2 + FMA,
//! or a portable loop; chosen at run time), on operands packed into contiguous, cache-line
//! aligned copies so a block's rows never alias in the cache: per call, the per-head operands
//! every block reads (V, K, …; Kᵀ and Vᵀ as one d × B panel per key block); per task, the
//! forward's Q·1/√d block. Packing and block buffers are kept per thread from call to call. The
//! forward's online softmax works on a block in three sweeps (maxima, exponentials, sums) so
//! that its exponentials are independent of each other (see `online_softmax_body`), and takes
//! e^x as 2^(x·log2 e) (`fastmath::exp2`; on AVX-512 with `vscalefps`). They are
//! hand-written because a general product library pays its packing and dispatch on every one of
//! the thousands of 64 × 64 × 64 block products per head; see `benches/kernels.rs`
//! (`attention`) for the measured rates.
//!
//! **Accounting** (`docs/flops.md`): the products of the blocks actually computed
//! (2·(rows·cols·d) each, two forward, five backward, over [`computed_scores`] scores per
//! (sequence, head)), plus [`FWD_PER_SCORE`] / [`BWD_PER_SCORE`] per unmasked score for the
//! softmax work; bytes are Q, K, V, O and L once forward, and additionally dO, dQ, dK, dV once
//! backward — never s².

use super::fastmath;
use super::flops::causal_entries;
use super::{OpClass, Tally};
use rayon::prelude::*;
use std::sync::Mutex;

/// Forward element work per unmasked score: row maximum (1), subtract it (1), exp (1), row sum
/// (1). The 1/√d scale is folded into the packed copy of Q (d multiplies per row, not per score).
pub const FWD_PER_SCORE: u64 = 4;
/// Backward element work per unmasked score: subtract L (1), exp (1), subtract D (1), times P (1).
pub const BWD_PER_SCORE: u64 = 4;

/// The L1 data cache every x86-64 core of the last decade has at least (32 KiB, in floats): the
/// block size is chosen so that one K block and one V block (2·B·d floats) fit in it, which keeps
/// the inner products' B operand in L1 on any of them. A property of the ISA family, not of the
/// machine measured.
const L1_FLOATS: usize = 32 * 1024 / 4;
/// Block sides are multiples of one AVX-512 register of f32 lanes.
const LANES: usize = 16;
/// Largest block side: beyond it the score block (B² floats) would leave L1 by itself.
const MAX_BLOCK: usize = 128;

/// The side B of the query and key blocks for head width `head_dim`: the largest multiple of 16
/// with 2·B·d floats within 32 KiB, between 16 and 128 (d = 64 → 64, d = 128 → 32,
/// d ≤ 32 → 128). The same for forward and backward, so both compute the same blocks.
pub fn block_size(head_dim: usize) -> usize {
    let b = L1_FLOATS / 2 / head_dim.max(1);
    (b / LANES * LANES).clamp(LANES, MAX_BLOCK)
}

/// Scores of the blocks computed per (sequence, head) for sequence length `s` and block side
/// `b`: query block q (rows q·b .. min((q+1)·b, s)) computes the key blocks 0..=q, i.e. all
/// columns up to its last row. With n = ⌊s/b⌋ full blocks and r = s mod b rows left:
/// b²·n(n+1)/2 + r·s.
pub fn computed_scores(s: usize, b: usize) -> u64 {
    let (s, b) = (s as u64, b as u64);
    let n = s / b;
    let r = s % b;
    b * b * n * (n + 1) / 2 + r * s
}

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
    /// Floats of the log-sum-exp buffer kept from forward for backward: batch · heads · s.
    pub fn lse_len(&self) -> usize {
        self.batch * self.heads * self.seq
    }
    fn pairs(&self) -> usize {
        self.batch * self.heads
    }
    fn kv_pairs(&self) -> usize {
        self.batch * self.kv_heads
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
    /// FLOPs of [`forward`] with block side `b`: per (sequence, head), S = Q·Kᵀ and O = P·V over
    /// the computed blocks, and the softmax work per unmasked score.
    pub fn forward_flops(&self, b: usize) -> u64 {
        let e = computed_scores(self.seq, b);
        let d = self.head_dim as u64;
        self.pairs() as u64 * (2 * 2 * e * d + FWD_PER_SCORE * causal_entries(self.seq))
    }
    /// FLOPs of [`backward`] with block side `b`: S recomputed, dV, dP, dQ and dK over the
    /// computed blocks, and the element work per unmasked score.
    pub fn backward_flops(&self, b: usize) -> u64 {
        let e = computed_scores(self.seq, b);
        let d = self.head_dim as u64;
        self.pairs() as u64 * (5 * 2 * e * d + BWD_PER_SCORE * causal_entries(self.seq))
    }
    /// Minimum bytes of [`forward`]: Q, K, V read and O, L written once.
    pub fn forward_bytes(&self) -> u64 {
        let (b, s, d) = (self.batch as u64, self.seq as u64, self.head_dim as u64);
        let (a, g) = (self.heads as u64, self.kv_heads as u64);
        4 * b * (s * d * (2 * a + 2 * g) + a * s)
    }
    /// Minimum bytes of [`backward`]: Q, K, V, O, dO, L read and dQ, dK, dV written once.
    pub fn backward_bytes(&self) -> u64 {
        let (b, s, d) = (self.batch as u64, self.seq as u64, self.head_dim as u64);
        let (a, g) = (self.heads as u64, self.kv_heads as u64);
        4 * b * (s * d * (4 * a + 4 * g) + a * s)
    }
}

/// A pointer that rayon tasks may share because each task writes a disjoint region (or writes
/// under a lock).
#[derive(Clone, Copy)]
struct Shared(*mut f32);
// SAFETY: used only where every task touches a disjoint region or holds a lock (argued at each
// use).
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}
impl Shared {
    fn at(self, offset: usize) -> *mut f32 {
        // SAFETY: offsets are computed within the buffer's bounds by the callers.
        unsafe { self.0.add(offset) }
    }

    /// The `len` floats from `offset` as a slice, so the loops over them vectorise.
    ///
    /// # Safety
    /// The range must lie within the buffer, and no other live reference may touch it (the
    /// caller argues why at each use).
    #[allow(clippy::mut_from_ref)]
    unsafe fn slice(&self, offset: usize, len: usize) -> &mut [f32] {
        // SAFETY: forwarded to the caller.
        unsafe { std::slice::from_raw_parts_mut(self.at(offset), len) }
    }
}

type Pool = std::thread::LocalKey<std::cell::Cell<Vec<f32>>>;

thread_local! {
    /// The packed copies of the last call on this thread, kept for the next one: a training step
    /// calls attention twice per layer with the same shapes, and a fresh buffer of this size
    /// would be zeroed (and, past glibc's mmap threshold, page-faulted in) on every call.
    static PACKED: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
    /// The block buffers of a task (the forward's Q block, scores and accumulator; the
    /// backward's P, dS, dK, dV and dQ blocks), kept for the thread's next task: allocating and
    /// zeroing them per task cost about 1% of a forward call at s = 1,024.
    static BLOCKS: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Floats in one 64-byte cache line.
const LINE: usize = 16;

/// This thread's buffer of `pool` with at least `n` floats from a cache-line-aligned start,
/// whose contents are those of an earlier use: every region a user reads, it writes first. Give
/// it back with [`give`]. A nested use (none exists) would get an empty buffer and allocate,
/// never share one.
fn take(pool: &'static Pool, n: usize) -> Vec<f32> {
    let mut buffer = pool.take();
    if buffer.len() < n + LINE {
        buffer.resize(n + LINE, 0.0);
    }
    buffer
}

fn give(pool: &'static Pool, buffer: Vec<f32>) {
    pool.set(buffer);
}

/// `v` from its first cache-line-aligned element on (buffers from [`take`] have LINE floats to
/// spare): a 64-byte AVX-512 load from an address 16 bytes into a line (where the allocator
/// puts a `Vec`'s data) touches two lines.
fn aligned(v: &mut [f32]) -> &mut [f32] {
    let off = v.as_ptr().align_offset(LINE * 4).min(LINE);
    &mut v[off..]
}

/// Splits `v` into consecutive slices of the given lengths, each starting on a cache line
/// (lengths are rounded up to whole lines; `v` must hold their sum).
fn carve<const N: usize>(mut v: &mut [f32], lens: [usize; N]) -> [&mut [f32]; N] {
    lens.map(|n| {
        let (head, tail) = std::mem::take(&mut v).split_at_mut(n.div_ceil(LINE) * LINE);
        v = tail;
        &mut head[..n]
    })
}

/// Floats [`carve`] needs for these lengths.
fn carved_len(lens: &[usize]) -> usize {
    lens.iter().map(|n| n.div_ceil(LINE) * LINE).sum()
}

/// Forward with the block side of [`block_size`]: `ctx` (tokens × h) receives the causal
/// softmax(Q·Kᵀ/√d)·V per head, `lse` (batch · heads · s, pair-major) the log-sum-exp of each
/// query row's scaled scores.
pub fn forward(
    tally: &mut Tally,
    a: AttentionShape,
    qkv: &[f32],
    lse: &mut [f32],
    ctx: &mut [f32],
) {
    forward_blocked(tally, a, block_size(a.head_dim), qkv, lse, ctx);
}

/// Backward with the block side of [`block_size`]: given `ctx` and `lse` from [`forward`] and
/// `dctx` (tokens × h), writes `dqkv` (tokens × (h + 2·g·d)).
pub fn backward(
    tally: &mut Tally,
    a: AttentionShape,
    qkv: &[f32],
    ctx: &[f32],
    lse: &[f32],
    dctx: &[f32],
    dqkv: &mut [f32],
) {
    backward_blocked(tally, a, block_size(a.head_dim), qkv, ctx, lse, dctx, dqkv);
}

/// Copies column block `col .. col + d` of the `rows` rows of `src` (row stride `stride`) into
/// `dst` (rows × d), times `scale`.
fn pack_rows(src: &[f32], stride: usize, col: usize, d: usize, scale: f32, dst: &mut [f32]) {
    for (r, out) in dst.chunks_exact_mut(d).enumerate() {
        let row = &src[r * stride + col..r * stride + col + d];
        out.iter_mut().zip(row).for_each(|(o, &x)| *o = x * scale);
    }
}

/// Copies column block `col .. col + d` of the `s` rows of `src` transposed, one panel per
/// block of `bs` rows: rows kb·bs .. of `src` become the d × bs panel at `dst[kb·bs·d ..]` (row
/// stride bs; the last panel's columns beyond s are left as they are). `dst` holds
/// ⌈s/bs⌉·bs·d floats.
///
/// Panels rather than one d × s matrix: a block product reads the d rows of one key block's
/// panel, and at stride s (4 KiB or a multiple of it for s = 1,024, 4,096, …) those rows would
/// all fall into the same few sets of the L1 cache and evict each other; a panel is contiguous.
fn pack_transposed(
    src: &[f32],
    stride: usize,
    col: usize,
    (d, s, bs): (usize, usize, usize),
    dst: &mut [f32],
) {
    // By tiles of 16 rows × d columns: the tile's source (16 row segments) stays in L1 while it
    // is written out 16 contiguous floats at a time; element by element, each source row
    // scattered its d values over d panel rows. A tile never crosses a panel: it ends at the
    // panel's end (tests use block sides that are not multiples of 16).
    const TILE: usize = 16;
    let mut r0 = 0;
    while r0 < s {
        let c0 = r0 % bs;
        let rows = TILE.min(s - r0).min(bs - c0);
        let panel = &mut dst[r0 / bs * bs * d..];
        // 16 columns of the tile at a time through a 16 × 16 block on the stack: its 256
        // scalar stores are done before the first of its rows is read back as a vector (one
        // column at a time, every vector read waited for the 16 stores just before it, which the
        // store buffer cannot forward: 60% of the pack's time).
        let mut block = [[0.0f32; TILE]; TILE];
        for k0 in (0..d).step_by(TILE) {
            let cols = TILE.min(d - k0);
            for t in 0..rows {
                let row = &src[(r0 + t) * stride + col + k0..][..cols];
                for (kk, &x) in row.iter().enumerate() {
                    block[kk][t] = x;
                }
            }
            for (kk, column) in block[..cols].iter().enumerate() {
                let out = &mut panel[(k0 + kk) * bs + c0..][..rows];
                match <&mut [f32; TILE]>::try_from(&mut *out) {
                    // A whole tile row as one fixed-size copy (a copy of run-time length
                    // became a call to memmove per 16 floats).
                    Ok(out) => *out = *column,
                    Err(_) => out.copy_from_slice(&column[..rows]),
                }
            }
        }
        r0 += rows;
    }
}

/// [`forward`] with block side `bs` (tests use small blocks to exercise many of them on tiny
/// shapes).
#[allow(clippy::needless_range_loop)]
pub(crate) fn forward_blocked(
    tally: &mut Tally,
    a: AttentionShape,
    bs: usize,
    qkv: &[f32],
    lse: &mut [f32],
    ctx: &mut [f32],
) {
    let (s, d, w, h) = (a.seq, a.head_dim, a.qkv_width(), a.d_model());
    assert_eq!(qkv.len(), a.batch * s * w);
    assert_eq!(lse.len(), a.lse_len());
    assert_eq!(ctx.len(), a.batch * s * h);
    assert!(bs > 0);
    let path = Simd::detect();
    let scale = a.scale();
    tally.record(
        OpClass::Attention,
        a.forward_flops(bs),
        a.forward_bytes(),
        || {
            if s == 0 || a.pairs() == 0 || d == 0 {
                return;
            }
            // Packed per K/V head: Kᵀ (d × bs panels) and V (s × d), which every query block of
            // the head reads. Each task packs its own Q block (times 1/√d) into its block buffer,
            // where it stays in cache for all its key blocks.
            let panels = s.div_ceil(bs) * bs * d;
            let kv_len = a.kv_pairs() * s * d;
            let mut packed = take(&PACKED, a.kv_pairs() * panels + kv_len);
            let (kt, rest) = aligned(&mut packed).split_at_mut(a.kv_pairs() * panels);
            let vp = &mut rest[..kv_len];
            kt.par_chunks_mut(panels)
                .zip(vp.par_chunks_mut(s * d))
                .enumerate()
                .for_each(|(q, (kdst, vdst))| {
                    let (b, j) = (q / a.kv_heads, q % a.kv_heads);
                    pack_transposed(&qkv[b * s * w..], w, a.k_col(j), (d, s, bs), kdst);
                    pack_rows(&qkv[b * s * w..], w, a.v_col(j), d, 1.0, vdst);
                });

            let nq = s.div_ceil(bs);
            let ctx_p = Shared(ctx.as_mut_ptr());
            let lse_p = Shared(lse.as_mut_ptr());
            let (kt, vp) = (&*kt, &*vp);
            let lens = [bs * d, bs * bs, bs * d];
            // Largest query blocks (most key blocks) first, for the scheduler.
            (0..a.pairs() * nq).into_par_iter().for_each(|t| {
                let (p, qb) = (t / nq, nq - 1 - t % nq);
                let (b, i) = (p / a.heads, p % a.heads);
                let kv = b * a.kv_heads + i / a.group();
                let (r0, r1) = (qb * bs, ((qb + 1) * bs).min(s));
                let br = r1 - r0;
                let k = &kt[kv * panels..(kv + 1) * panels];
                let v = &vp[kv * s * d..(kv + 1) * s * d];
                let mut blocks = take(&BLOCKS, carved_len(&lens));
                let [q, scores, acc] = carve(aligned(&mut blocks), lens);
                pack_rows(&qkv[(b * s + r0) * w..], w, a.q_col(i), d, scale, &mut q[..br * d]);
                let mut m = [f32::NEG_INFINITY; MAX_BLOCK];
                let mut l = [0.0f32; MAX_BLOCK];
                let (m, l) = (&mut m[..br], &mut l[..br]);
                for kb in 0..=qb {
                    let (c0, c1) = (kb * bs, ((kb + 1) * bs).min(s));
                    let bc = c1 - c0;
                    // SAFETY: q is br × d, k's panel kb is d × bc at stride bs, scores br × bc
                    // at stride bs: all within the buffers.
                    unsafe {
                        mm(
                            path,
                            (br, bc, d),
                            (q.as_ptr(), d, 1),
                            (k.as_ptr().add(kb * bs * d), bs),
                            (scores.as_mut_ptr(), bs),
                            false,
                        );
                    }
                    online_softmax(path, scores, bs, (r0, c0, bc), m, l, acc, d);
                    // SAFETY: scores br × bc (stride bs), V rows c0..c1 (d wide), acc br × d.
                    // The first key block sets acc (every row has a live score in it, so the
                    // softmax rescaled nothing before), the others add to it.
                    unsafe {
                        mm(
                            path,
                            (br, d, bc),
                            (scores.as_ptr(), bs, 1),
                            (v.as_ptr().add(c0 * d), d),
                            (acc.as_mut_ptr(), d),
                            kb > 0,
                        );
                    }
                }
                for r in 0..br {
                    let inv = 1.0 / l[r];
                    // SAFETY: row r0 + r of sequence b, head i's columns of ctx, and entry
                    // (p, r0 + r) of lse belong to this task (p, qb) alone.
                    let o = unsafe {
                        *lse_p.at(p * s + r0 + r) = m[r] + l[r].ln();
                        ctx_p.slice((b * s + r0 + r) * h + a.q_col(i), d)
                    };
                    for (o, &x) in o.iter_mut().zip(&acc[r * d..(r + 1) * d]) {
                        *o = x * inv;
                    }
                }
                give(&BLOCKS, blocks);
            });
            give(&PACKED, packed);
        },
    );
}

/// The online softmax of one (br × bc) score block at rows r0.., columns c0..: updates the
/// running maxima `m` and sums `l`, rescales the accumulator rows when a maximum grows, and
/// leaves P = exp(S − m) in `scores` (zero where masked or beyond bc).
#[allow(clippy::too_many_arguments)]
fn online_softmax(
    path: Simd,
    scores: &mut [f32],
    ld: usize,
    (r0, c0, bc): (usize, usize, usize),
    m: &mut [f32],
    l: &mut [f32],
    acc: &mut [f32],
    d: usize,
) {
    // SAFETY: each variant is called only when `Simd::detect` found its features.
    unsafe {
        match path {
            #[cfg(all(target_arch = "x86_64", feature = "avx512"))]
            Simd::Avx512 => online_softmax_avx512(scores, ld, (r0, c0, bc), m, l, acc, d),
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => online_softmax_avx2(scores, ld, (r0, c0, bc), m, l, acc, d),
            Simd::Portable => online_softmax_body(scores, ld, (r0, c0, bc), m, l, acc, d),
        }
    }
}

#[cfg(all(target_arch = "x86_64", feature = "avx512"))]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn online_softmax_avx512(
    scores: &mut [f32],
    ld: usize,
    at: (usize, usize, usize),
    m: &mut [f32],
    l: &mut [f32],
    acc: &mut [f32],
    d: usize,
) {
    // Sweeps 1 and 2 of `online_softmax_body` in AVX-512 intrinsics: the row maximum and the
    // row sum reduced by a shuffle tree (`_mm512_reduce_*`) instead of 15 dependent scalar
    // steps per row, and 2^x rounded by `vrndscaleps` and scaled by `vscalefps` (one
    // instruction each, where the portable exp2 needs two and three); the softmax took 12% of a
    // forward call at s = 1,024 before.
    use std::arch::x86_64::*;
    let (r0, c0, bc) = at;
    let rows = m.len();
    debug_assert!(rows <= MAX_BLOCK);
    let mut new_max = [f32::NEG_INFINITY; MAX_BLOCK];
    let mut live = [0usize; MAX_BLOCK];
    let mut sums = [0.0f32; MAX_BLOCK];
    let tail = |n: usize| -> __mmask16 { ((1u32 << n) - 1) as __mmask16 };
    // SAFETY: every pointer below addresses row r's first `live[r]` ≤ bc floats of `scores`.
    unsafe {
        for r in 0..rows {
            live[r] = (r0 + r + 1).saturating_sub(c0).min(bc);
            scores[r * ld + live[r]..r * ld + bc].fill(0.0);
            let (row, n) = (scores.as_ptr().add(r * ld), live[r]);
            let mut vm = _mm512_set1_ps(m[r]);
            let mut c = 0;
            while c + LANES <= n {
                vm = _mm512_max_ps(vm, _mm512_loadu_ps(row.add(c)));
                c += LANES;
            }
            if c < n {
                let k = tail(n - c);
                vm = _mm512_mask_max_ps(vm, k, vm, _mm512_maskz_loadu_ps(k, row.add(c)));
            }
            new_max[r] = _mm512_reduce_max_ps(vm);
        }
        // e^(x − m) = 2^(x·log2 e − m·log2 e), as `fastmath::exp_shifted`.
        let log2e = _mm512_set1_ps(std::f32::consts::LOG2_E);
        for r in 0..rows {
            let (row, n) = (scores.as_mut_ptr().add(r * ld), live[r]);
            let shift = _mm512_set1_ps(fastmath::log2e_shift(new_max[r]));
            let mut sum = _mm512_setzero_ps();
            let mut c = 0;
            while c + LANES <= n {
                let e = exp2_avx512(_mm512_fmadd_ps(_mm512_loadu_ps(row.add(c)), log2e, shift));
                _mm512_storeu_ps(row.add(c), e);
                sum = _mm512_add_ps(sum, e);
                c += LANES;
            }
            if c < n {
                let k = tail(n - c);
                let x = _mm512_maskz_loadu_ps(k, row.add(c));
                let e = exp2_avx512(_mm512_fmadd_ps(x, log2e, shift));
                _mm512_mask_storeu_ps(row.add(c), k, e);
                sum = _mm512_mask_add_ps(sum, k, sum, e);
            }
            sums[r] = _mm512_reduce_add_ps(sum);
        }
    }
    rescale_rows(&new_max[..rows], &live[..rows], &sums[..rows], m, l, acc, d);
}

/// 2^x per lane, as [`fastmath::exp2`] (same polynomial) but with 2^n applied by `vscalefps`:
/// inputs below −127 give 2^−127, NaN stays NaN, large inputs overflow to +∞.
#[cfg(all(target_arch = "x86_64", feature = "avx512"))]
#[target_feature(enable = "avx512f")]
fn exp2_avx512(x: std::arch::x86_64::__m512) -> std::arch::x86_64::__m512 {
    use std::arch::x86_64::*;
    // max(−127, x) returns x when x is NaN (the second operand wins).
    let x = _mm512_max_ps(_mm512_set1_ps(-127.0), x);
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(x);
    let r = _mm512_sub_ps(x, n);
    let [c5, c4, c3, c2, c1] = fastmath::EXP2_POLY;
    let q = _mm512_set1_ps(c5);
    let q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(c4));
    let q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(c3));
    let q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(c2));
    let q = _mm512_fmadd_ps(q, r, _mm512_set1_ps(c1));
    let p = _mm512_fmadd_ps(q, r, _mm512_set1_ps(1.0));
    _mm512_scalef_ps(p, n)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn online_softmax_avx2(
    scores: &mut [f32],
    ld: usize,
    at: (usize, usize, usize),
    m: &mut [f32],
    l: &mut [f32],
    acc: &mut [f32],
    d: usize,
) {
    online_softmax_body(scores, ld, at, m, l, acc, d)
}

/// In three sweeps over the block's rows, so that the exponentials — most of the work — form one
/// loop of independent iterations: (1) each row's new maximum (and zeros where masked), (2) the
/// exponentials, each row's sum kept in 16 lanes, (3) per row one horizontal sum, the rescaling
/// of `l` and the accumulator when the maximum grew. Row by row in one sweep, each row's chain
/// (maximum → exponentials → sum, about 100 cycles of latency for 64 scores) was more than the
/// out-of-order window overlaps, and the softmax took about a fifth of the forward's time.
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
fn online_softmax_body(
    scores: &mut [f32],
    ld: usize,
    (r0, c0, bc): (usize, usize, usize),
    m: &mut [f32],
    l: &mut [f32],
    acc: &mut [f32],
    d: usize,
) {
    let rows = m.len();
    debug_assert!(rows <= MAX_BLOCK);
    let mut new_max = [f32::NEG_INFINITY; MAX_BLOCK];
    let mut live = [0usize; MAX_BLOCK];
    for r in 0..rows {
        let row = &mut scores[r * ld..r * ld + bc];
        // Columns c0 .. r0 + r (inclusive) are unmasked.
        live[r] = (r0 + r + 1).saturating_sub(c0).min(bc);
        row[live[r]..].fill(0.0);
        new_max[r] = fastmath::fmax(m[r], fastmath::max(&row[..live[r]]));
    }
    let mut sums = [[0.0f32; LANES]; MAX_BLOCK];
    for r in 0..rows {
        // e^(x − m) through exp2 and one FMA for the argument (`fastmath::exp_shifted`).
        let (shift, sum) = (fastmath::log2e_shift(new_max[r]), &mut sums[r]);
        let mut chunks = scores[r * ld..r * ld + live[r]].chunks_exact_mut(LANES);
        for c in &mut chunks {
            for x in 0..LANES {
                c[x] = fastmath::exp_shifted(c[x], shift);
                sum[x] += c[x];
            }
        }
        for (x, v) in chunks.into_remainder().iter_mut().enumerate() {
            *v = fastmath::exp_shifted(*v, shift);
            sum[x] += *v;
        }
    }
    let mut totals = [0.0f32; MAX_BLOCK];
    for r in 0..rows {
        totals[r] = fastmath::hsum(sums[r]);
    }
    rescale_rows(&new_max[..rows], &live[..rows], &totals[..rows], m, l, acc, d);
}

/// Sweep 3 of the online softmax: per row with a live score, rescale `l` and the accumulator
/// row when the maximum grew, then add the block's sum to `l`.
#[inline(always)]
fn rescale_rows(
    new_max: &[f32],
    live: &[usize],
    sums: &[f32],
    m: &mut [f32],
    l: &mut [f32],
    acc: &mut [f32],
    d: usize,
) {
    for r in 0..m.len() {
        if live[r] == 0 {
            continue;
        }
        if new_max[r] > m[r] {
            // The first block of a row has m = −∞: nothing accumulated yet to rescale.
            if m[r] > f32::NEG_INFINITY {
                let corr = fastmath::exp_shifted(m[r], fastmath::log2e_shift(new_max[r]));
                l[r] *= corr;
                acc[r * d..(r + 1) * d].iter_mut().for_each(|x| *x *= corr);
            }
            m[r] = new_max[r];
        }
        l[r] += sums[r];
    }
}

/// [`backward`] with block side `bs`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward_blocked(
    tally: &mut Tally,
    a: AttentionShape,
    bs: usize,
    qkv: &[f32],
    ctx: &[f32],
    lse: &[f32],
    dctx: &[f32],
    dqkv: &mut [f32],
) {
    backward_spans(tally, a, (bs, None), qkv, ctx, lse, dctx, dqkv);
}

/// Key blocks per backward task for `kv_pairs` (sequence, K/V head) pairs of `nq` key blocks:
/// 4, 2 or 1, the largest that leaves at least 4 tasks per rayon thread.
///
/// A task of `span` consecutive key blocks reads each query block below them (Q, dO, and the dQ
/// rows it adds to, all from beyond L2 at long sequences) once for all of them, while the span's
/// K, Kᵀ, Vᵀ, dK and dV blocks (5·span·B·d floats, 320 KiB at 4) stay in L2. With one key block
/// per task, all of a head group's Q, dO and dQ were streamed once per key block: at s = 4,096
/// and d = 128 the dQ additions alone were 18% of the backward's time.
fn key_span(kv_pairs: usize, nq: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    [4usize, 2, 1]
        .into_iter()
        .find(|&g| kv_pairs * nq.div_ceil(g) >= 4 * threads)
        .unwrap_or(1)
}

/// [`backward_blocked`] with `span` key blocks per task ([`key_span`]'s if `None`; tests set it
/// so every span is exercised whatever the thread count).
#[allow(clippy::too_many_arguments)]
fn backward_spans(
    tally: &mut Tally,
    a: AttentionShape,
    (bs, span): (usize, Option<usize>),
    qkv: &[f32],
    ctx: &[f32],
    lse: &[f32],
    dctx: &[f32],
    dqkv: &mut [f32],
) {
    let (s, d, w, h) = (a.seq, a.head_dim, a.qkv_width(), a.d_model());
    assert_eq!(qkv.len(), a.batch * s * w);
    assert_eq!(dqkv.len(), qkv.len());
    assert_eq!(ctx.len(), a.batch * s * h);
    assert_eq!(dctx.len(), ctx.len());
    assert_eq!(lse.len(), a.lse_len());
    assert!(bs > 0 && span != Some(0));
    let path = Simd::detect();
    let scale = a.scale();
    tally.record(
        OpClass::Attention,
        a.backward_flops(bs),
        a.backward_bytes(),
        || {
            if s == 0 || a.pairs() == 0 || d == 0 {
                return;
            }
            // Packed per query head: Q/√d and dO (s × d), D = rowsum(dO ∘ O) (s); per K/V head:
            // K (s × d), Kᵀ and Vᵀ (d × bs panels, see `pack_transposed`).
            let panels = s.div_ceil(bs) * bs * d;
            let (q_len, kv_len) = (a.pairs() * s * d, a.kv_pairs() * s * d);
            let kt_len = a.kv_pairs() * panels;
            let mut packed = take(&PACKED, 2 * q_len + a.pairs() * s + kv_len + 2 * kt_len);
            let (qp, rest) = aligned(&mut packed).split_at_mut(q_len);
            let (dop, rest) = rest.split_at_mut(q_len);
            let (dd, rest) = rest.split_at_mut(a.pairs() * s);
            let (kp, rest) = rest.split_at_mut(kv_len);
            let (kt, rest) = rest.split_at_mut(kt_len);
            let vt = &mut rest[..kt_len];
            qp.par_chunks_mut(s * d)
                .zip(dop.par_chunks_mut(s * d))
                .zip(dd.par_chunks_mut(s))
                .enumerate()
                .for_each(|(p, ((qdst, ddst), dsum))| {
                    let (b, i) = (p / a.heads, p % a.heads);
                    pack_rows(&qkv[b * s * w..], w, a.q_col(i), d, scale, qdst);
                    pack_rows(&dctx[b * s * h..], h, a.q_col(i), d, 1.0, ddst);
                    for (r, v) in dsum.iter_mut().enumerate() {
                        let o = &ctx[(b * s + r) * h + a.q_col(i)..][..d];
                        *v = fastmath::dot(&ddst[r * d..(r + 1) * d], o);
                    }
                });
            kp.par_chunks_mut(s * d)
                .zip(kt.par_chunks_mut(panels))
                .zip(vt.par_chunks_mut(panels))
                .enumerate()
                .for_each(|(q, ((kdst, ktdst), vtdst))| {
                    let (b, j) = (q / a.kv_heads, q % a.kv_heads);
                    pack_rows(&qkv[b * s * w..], w, a.k_col(j), d, 1.0, kdst);
                    pack_transposed(&qkv[b * s * w..], w, a.k_col(j), (d, s, bs), ktdst);
                    pack_transposed(&qkv[b * s * w..], w, a.v_col(j), (d, s, bs), vtdst);
                });
            // dQ accumulates over key blocks: zero it, then add under a lock per (head, block).
            for row in dqkv.chunks_exact_mut(w) {
                row[..h].fill(0.0);
            }
            let nq = s.div_ceil(bs);
            let locks: Vec<Mutex<()>> = (0..a.pairs() * nq).map(|_| Mutex::new(())).collect();
            let dqkv_p = Shared(dqkv.as_mut_ptr());
            let (qp, dop, dd, kp, kt, vt, locks) = (&*qp, &*dop, &*dd, &*kp, &*kt, &*vt, &locks);
            let span = span.unwrap_or_else(|| key_span(a.kv_pairs(), nq));
            let spans = nq.div_ceil(span);
            // Key blocks on the left (most query blocks below them) first.
            (0..a.kv_pairs() * spans).into_par_iter().for_each(|t| {
                let (kv, g) = (t / spans, t % spans);
                let (b, j) = (kv / a.kv_heads, kv % a.kv_heads);
                let (kb0, kb1) = (g * span, ((g + 1) * span).min(nq));
                // Columns c0 .. c1 of the span; key block kb is columns kb·bs .. (kb+1)·bs ∧ s.
                let (c0, c1) = (kb0 * bs, (kb1 * bs).min(s));
                let width = c1 - c0;
                let k = &kp[kv * s * d..(kv + 1) * s * d];
                let kt = &kt[kv * panels..(kv + 1) * panels];
                let vt = &vt[kv * panels..(kv + 1) * panels];
                let lens = [bs * bs, bs * bs, width * d, width * d, bs * d];
                let mut blocks = take(&BLOCKS, carved_len(&lens));
                // P and dS are written by their products before they are read, dQ is set by
                // its first product; dK and dV accumulate over the task's query blocks.
                let [pbuf, dsbuf, dk, dv, dq] = carve(aligned(&mut blocks), lens);
                dk.fill(0.0);
                dv.fill(0.0);
                for i in j * a.group()..(j + 1) * a.group() {
                    let p = b * a.heads + i;
                    for qb in kb0..nq {
                        let (r0, r1) = (qb * bs, ((qb + 1) * bs).min(s));
                        let br = r1 - r0;
                        let q = &qp[p * s * d + r0 * d..p * s * d + r1 * d];
                        let dout = &dop[p * s * d + r0 * d..p * s * d + r1 * d];
                        let row_stats = (&lse[p * s + r0..p * s + r1], &dd[p * s + r0..p * s + r1]);
                        // The span's key blocks on or left of the diagonal.
                        for kb in kb0..kb1.min(qb + 1) {
                            let (k0, bc) = (kb * bs, ((kb + 1) * bs).min(s) - kb * bs);
                            let off = (k0 - c0) * d;
                            // SAFETY: every operand is a block within its packed buffer; the
                            // outputs are this task's own buffers.
                            unsafe {
                                mm(
                                    path,
                                    (br, bc, d),
                                    (q.as_ptr(), d, 1),
                                    (kt.as_ptr().add(kb * bs * d), bs),
                                    (pbuf.as_mut_ptr(), bs),
                                    false,
                                );
                                mm(
                                    path,
                                    (br, bc, d),
                                    (dout.as_ptr(), d, 1),
                                    (vt.as_ptr().add(kb * bs * d), bs),
                                    (dsbuf.as_mut_ptr(), bs),
                                    false,
                                );
                            }
                            let rows = (r0, k0, br, bc);
                            softmax_grad(path, pbuf, dsbuf, bs, rows, row_stats);
                            // SAFETY: as above; Pᵀ and dSᵀ are read through swapped strides.
                            unsafe {
                                mm(
                                    path,
                                    (bc, d, br),
                                    (pbuf.as_ptr(), 1, bs),
                                    (dout.as_ptr(), d),
                                    (dv.as_mut_ptr().add(off), d),
                                    true,
                                );
                                mm(
                                    path,
                                    (bc, d, br),
                                    (dsbuf.as_ptr(), 1, bs),
                                    (q.as_ptr(), d),
                                    (dk.as_mut_ptr().add(off), d),
                                    true,
                                );
                                mm(
                                    path,
                                    (br, d, bc),
                                    (dsbuf.as_ptr(), bs, 1),
                                    (k.as_ptr().add(k0 * d), d),
                                    (dq.as_mut_ptr(), d),
                                    kb > kb0,
                                );
                            }
                        }
                        let _guard = locks[p * nq + qb].lock().unwrap_or_else(|e| e.into_inner());
                        for (r, dq) in dq.chunks_exact(d).take(br).enumerate() {
                            // SAFETY: dQ rows r0..r1 of head i in sequence b are written only
                            // under the lock of (p, qb), held here.
                            let out = unsafe { dqkv_p.slice((b * s + r0 + r) * w + a.q_col(i), d) };
                            for (o, &x) in out.iter_mut().zip(dq) {
                                *o += scale * x;
                            }
                        }
                    }
                }
                for r in 0..width {
                    let row = (b * s + c0 + r) * w;
                    // SAFETY: dK and dV rows c0..c1 of K/V head j in sequence b belong to this
                    // task (b, j, span g) alone; the two column ranges do not overlap.
                    let (ko, vo) = unsafe {
                        (dqkv_p.slice(row + a.k_col(j), d), dqkv_p.slice(row + a.v_col(j), d))
                    };
                    ko.copy_from_slice(&dk[r * d..(r + 1) * d]);
                    vo.copy_from_slice(&dv[r * d..(r + 1) * d]);
                }
                give(&BLOCKS, blocks);
            });
            give(&PACKED, packed);
        },
    );
}

/// P = exp(S − L) into `p` and dS = P ∘ (dP − D) into `ds` for one (br × bc) block at rows
/// r0.., columns c0.. (zero where masked).
fn softmax_grad(
    path: Simd,
    p: &mut [f32],
    ds: &mut [f32],
    ld: usize,
    at: (usize, usize, usize, usize),
    stats: (&[f32], &[f32]),
) {
    // SAFETY: each variant is called only when `Simd::detect` found its features.
    unsafe {
        match path {
            #[cfg(all(target_arch = "x86_64", feature = "avx512"))]
            Simd::Avx512 => softmax_grad_avx512(p, ds, ld, at, stats),
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => softmax_grad_avx2(p, ds, ld, at, stats),
            Simd::Portable => softmax_grad_body(p, ds, ld, at, stats),
        }
    }
}

#[cfg(all(target_arch = "x86_64", feature = "avx512"))]
#[target_feature(enable = "avx512f")]
unsafe fn softmax_grad_avx512(
    p: &mut [f32],
    ds: &mut [f32],
    ld: usize,
    at: (usize, usize, usize, usize),
    stats: (&[f32], &[f32]),
) {
    softmax_grad_body(p, ds, ld, at, stats)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn softmax_grad_avx2(
    p: &mut [f32],
    ds: &mut [f32],
    ld: usize,
    at: (usize, usize, usize, usize),
    stats: (&[f32], &[f32]),
) {
    softmax_grad_body(p, ds, ld, at, stats)
}

#[inline(always)]
fn softmax_grad_body(
    p: &mut [f32],
    ds: &mut [f32],
    ld: usize,
    (r0, c0, br, bc): (usize, usize, usize, usize),
    (lse, dsum): (&[f32], &[f32]),
) {
    for r in 0..br {
        let live = (r0 + r + 1).saturating_sub(c0).min(bc);
        let prow = &mut p[r * ld..r * ld + bc];
        let drow = &mut ds[r * ld..r * ld + bc];
        let (shift, dv) = (fastmath::log2e_shift(lse[r]), dsum[r]);
        for (pv, dp) in prow[..live].iter_mut().zip(&mut drow[..live]) {
            // e^(S − L), as in the forward's softmax.
            let e = fastmath::exp_shifted(*pv, shift);
            *pv = e;
            *dp = e * (*dp - dv);
        }
        prow[live..].fill(0.0);
        drow[live..].fill(0.0);
    }
}

/// The instruction set the block products and the softmax loops run on, detected at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Simd {
    /// AVX-512F (only in builds with the `avx512` feature).
    #[cfg(all(target_arch = "x86_64", feature = "avx512"))]
    Avx512,
    /// AVX2 with FMA.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// Plain Rust (SSE2 on x86-64).
    Portable,
}

impl Simd {
    fn detect() -> Simd {
        #[cfg(all(target_arch = "x86_64", feature = "avx512"))]
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Simd::Avx512;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Simd::Avx2;
        }
        Simd::Portable
    }

    /// Every path this machine can run, best first (for tests).
    #[cfg(test)]
    fn available() -> Vec<Simd> {
        let best = Simd::detect();
        let mut all = vec![Simd::Portable];
        #[cfg(target_arch = "x86_64")]
        if best != Simd::Portable {
            all.push(Simd::Avx2);
        }
        #[cfg(all(target_arch = "x86_64", feature = "avx512"))]
        if best == Simd::Avx512 {
            all.push(Simd::Avx512);
        }
        all.reverse();
        all
    }
}

/// C (m × n, row stride ldc) = (or +=) A (m × k, strides (ars, acs)) · B (k × n, row stride
/// ldb, columns contiguous).
///
/// # Safety
/// The three matrices must be valid for those shapes and strides, C must not overlap A or B.
#[inline]
unsafe fn mm(
    path: Simd,
    (m, n, k): (usize, usize, usize),
    a: (*const f32, usize, usize),
    b: (*const f32, usize),
    c: (*mut f32, usize),
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: forwarded; each SIMD variant runs only where `Simd::detect` found it.
    unsafe {
        match path {
            #[cfg(all(target_arch = "x86_64", feature = "avx512"))]
            Simd::Avx512 => x86::mm_avx512(m, n, k, a, b, c, accumulate),
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => x86::mm_avx2(m, n, k, a, b, c, accumulate),
            Simd::Portable => mm_portable(m, n, k, a, b, c, accumulate),
        }
    }
}

/// The portable block product: row by row, i-k-j order so the inner loop over contiguous
/// columns of B and C vectorises with the baseline instruction set.
unsafe fn mm_portable(
    m: usize,
    n: usize,
    k: usize,
    (a, ars, acs): (*const f32, usize, usize),
    (b, ldb): (*const f32, usize),
    (c, ldc): (*mut f32, usize),
    accumulate: bool,
) {
    // SAFETY: the caller guarantees the shapes and strides are valid.
    unsafe {
        for i in 0..m {
            let crow = std::slice::from_raw_parts_mut(c.add(i * ldc), n);
            if !accumulate {
                crow.fill(0.0);
            }
            for p in 0..k {
                let av = *a.add(i * ars + p * acs);
                let brow = std::slice::from_raw_parts(b.add(p * ldb), n);
                crow.iter_mut()
                    .zip(brow)
                    .for_each(|(cv, &bv)| *cv += av * bv);
            }
        }
    }
}

/// The x86-64 micro-kernels: C is cut into tiles of MR rows × NV vector registers of columns,
/// each tile's accumulators stay in registers over the whole k loop (one broadcast of A and NV
/// loads of B per step, MR·NV fused multiply-adds).
#[cfg(target_arch = "x86_64")]
// Index loops over the register arrays read best as written (and unroll fully: R, NV are
// constants).
#[allow(clippy::needless_range_loop)]
mod x86 {
    use std::arch::x86_64::*;

    /// Calls `$f::<R, $nv>` for the tile's row count R (1 ..= 4, or 1 ..= 8 with `wide`).
    macro_rules! rows_dispatch {
        (wide $f:ident, $rows:expr, $nv:literal, $($arg:expr),*) => {
            match $rows {
                8 => $f::<8, $nv>($($arg),*),
                7 => $f::<7, $nv>($($arg),*),
                6 => $f::<6, $nv>($($arg),*),
                5 => $f::<5, $nv>($($arg),*),
                4 => $f::<4, $nv>($($arg),*),
                3 => $f::<3, $nv>($($arg),*),
                2 => $f::<2, $nv>($($arg),*),
                _ => $f::<1, $nv>($($arg),*),
            }
        };
        ($f:ident, $rows:expr, $nv:literal, $($arg:expr),*) => {
            match $rows {
                4 => $f::<4, $nv>($($arg),*),
                3 => $f::<3, $nv>($($arg),*),
                2 => $f::<2, $nv>($($arg),*),
                _ => $f::<1, $nv>($($arg),*),
            }
        };
    }

    /// AVX-512: tiles of 4 rows × 4 registers (64 columns): 16 accumulators, 4 B loads and 4
    /// broadcasts per 16 FMAs; a product at most 32 columns wide (the score blocks of d = 128)
    /// takes 8 rows × 2 registers instead, so 16 FMAs are still in flight. The last register of
    /// a tile is masked for a width not a multiple of 16.
    #[cfg(feature = "avx512")]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn mm_avx512(
        m: usize,
        n: usize,
        k: usize,
        a: (*const f32, usize, usize),
        b: (*const f32, usize),
        c: (*mut f32, usize),
        accumulate: bool,
    ) {
        let mut j = 0;
        while j < n {
            let width = (n - j).min(64);
            let nv = width.div_ceil(16);
            let mr = if nv <= 2 { 8 } else { 4 };
            let mut i = 0;
            while i < m {
                let rows = (m - i).min(mr);
                // SAFETY: the tile (i.., j..) of rows × width lies within the caller's shapes.
                unsafe {
                    let at = (a.0.add(i * a.1), a.1, a.2);
                    let bt = (b.0.add(j), b.1);
                    let ct = (c.0.add(i * c.1 + j), c.1);
                    match nv {
                        4 => rows_dispatch!(tile512, rows, 4, k, at, bt, ct, width, accumulate),
                        3 => rows_dispatch!(tile512, rows, 3, k, at, bt, ct, width, accumulate),
                        2 => {
                            rows_dispatch!(wide tile512, rows, 2, k, at, bt, ct, width, accumulate)
                        }
                        _ => {
                            rows_dispatch!(wide tile512, rows, 1, k, at, bt, ct, width, accumulate)
                        }
                    }
                }
                i += rows;
            }
            j += width;
        }
    }

    #[cfg(feature = "avx512")]
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn tile512<const R: usize, const NV: usize>(
        k: usize,
        (a, ars, acs): (*const f32, usize, usize),
        (b, ldb): (*const f32, usize),
        (c, ldc): (*mut f32, usize),
        width: usize,
        accumulate: bool,
    ) {
        let mut masks = [0xffffu16; NV];
        let tail = width - 16 * (NV - 1);
        masks[NV - 1] = if tail >= 16 {
            0xffff
        } else {
            (1u16 << tail) - 1
        };
        let mut acc = [[_mm512_setzero_ps(); NV]; R];
        // SAFETY: rows of A, B and C within the tile, loads and stores masked to its width.
        unsafe {
            for p in 0..k {
                let bp = b.add(p * ldb);
                let mut bv = [_mm512_setzero_ps(); NV];
                for v in 0..NV {
                    bv[v] = _mm512_maskz_loadu_ps(masks[v], bp.add(16 * v));
                }
                for r in 0..R {
                    let av = _mm512_set1_ps(*a.add(r * ars + p * acs));
                    for v in 0..NV {
                        acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
                    }
                }
            }
            for r in 0..R {
                for v in 0..NV {
                    let cp = c.add(r * ldc + 16 * v);
                    let mut out = acc[r][v];
                    if accumulate {
                        out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(masks[v], cp));
                    }
                    _mm512_mask_storeu_ps(cp, masks[v], out);
                }
            }
        }
    }

    /// AVX2 + FMA: tiles of 4 rows × 3 registers (24 columns): 12 accumulators of the 16 ymm
    /// registers (8 rows × 1 register for a product at most 8 columns wide); the last register
    /// of a tile is masked for a width not a multiple of 8.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn mm_avx2(
        m: usize,
        n: usize,
        k: usize,
        a: (*const f32, usize, usize),
        b: (*const f32, usize),
        c: (*mut f32, usize),
        accumulate: bool,
    ) {
        let mut j = 0;
        while j < n {
            let width = (n - j).min(24);
            let nv = width.div_ceil(8);
            let mr = if nv == 1 { 8 } else { 4 };
            let mut i = 0;
            while i < m {
                let rows = (m - i).min(mr);
                // SAFETY: the tile (i.., j..) of rows × width lies within the caller's shapes.
                unsafe {
                    let at = (a.0.add(i * a.1), a.1, a.2);
                    let bt = (b.0.add(j), b.1);
                    let ct = (c.0.add(i * c.1 + j), c.1);
                    match nv {
                        3 => rows_dispatch!(tile256, rows, 3, k, at, bt, ct, width, accumulate),
                        2 => rows_dispatch!(tile256, rows, 2, k, at, bt, ct, width, accumulate),
                        _ => {
                            rows_dispatch!(wide tile256, rows, 1, k, at, bt, ct, width, accumulate)
                        }
                    }
                }
                i += rows;
            }
            j += width;
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile256<const R: usize, const NV: usize>(
        k: usize,
        (a, ars, acs): (*const f32, usize, usize),
        (b, ldb): (*const f32, usize),
        (c, ldc): (*mut f32, usize),
        width: usize,
        accumulate: bool,
    ) {
        let tail = (width - 8 * (NV - 1)) as i32;
        let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let full = _mm256_set1_epi32(-1);
        let mut masks = [full; NV];
        masks[NV - 1] = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail), lanes);
        let mut acc = [[_mm256_setzero_ps(); NV]; R];
        // SAFETY: rows of A, B and C within the tile, loads and stores masked to its width.
        unsafe {
            for p in 0..k {
                let bp = b.add(p * ldb);
                let mut bv = [_mm256_setzero_ps(); NV];
                for v in 0..NV {
                    bv[v] = if v + 1 < NV {
                        _mm256_loadu_ps(bp.add(8 * v))
                    } else {
                        _mm256_maskload_ps(bp.add(8 * v), masks[v])
                    };
                }
                for r in 0..R {
                    let av = _mm256_set1_ps(*a.add(r * ars + p * acs));
                    for v in 0..NV {
                        acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
                    }
                }
            }
            for r in 0..R {
                for v in 0..NV {
                    let cp = c.add(r * ldc + 8 * v);
                    let mut out = acc[r][v];
                    if accumulate {
                        out = _mm256_add_ps(out, _mm256_maskload_ps(cp, masks[v]));
                    }
                    _mm256_maskstore_ps(cp, masks[v], out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, seed: u64, scale: f32) -> Vec<f32> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
            })
            .collect()
    }

    /// The materialising reference, in f64: (ctx, lse, dqkv) for upstream gradient `dctx`.
    fn reference(a: AttentionShape, qkv: &[f32], dctx: &[f32]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (s, d, w, h) = (a.seq, a.head_dim, a.qkv_width(), a.d_model());
        let scale = 1.0 / (d as f64).sqrt();
        let mut ctx = vec![0.0; a.batch * s * h];
        let mut lse = vec![0.0; a.lse_len()];
        let mut dqkv = vec![0.0; qkv.len()];
        let x = |row: usize, col: usize| f64::from(qkv[row * w + col]);
        for b in 0..a.batch {
            for i in 0..a.heads {
                let j = i / a.group();
                let (qc, kc, vc) = (a.q_col(i), a.k_col(j), a.v_col(j));
                let p_idx = b * a.heads + i;
                let mut p = vec![vec![0.0f64; s]; s];
                for r in 0..s {
                    let sc: Vec<f64> = (0..=r)
                        .map(|c| {
                            (0..d)
                                .map(|t| x(b * s + r, qc + t) * x(b * s + c, kc + t))
                                .sum::<f64>()
                                * scale
                        })
                        .collect();
                    let mx = sc.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = sc.iter().map(|v| (v - mx).exp()).sum();
                    lse[p_idx * s + r] = mx + sum.ln();
                    for c in 0..=r {
                        p[r][c] = (sc[c] - mx).exp() / sum;
                        for t in 0..d {
                            ctx[(b * s + r) * h + qc + t] += p[r][c] * x(b * s + c, vc + t);
                        }
                    }
                }
                // Backward.
                let g = |r: usize, t: usize| f64::from(dctx[(b * s + r) * h + qc + t]);
                for r in 0..s {
                    let dp: Vec<f64> = (0..=r)
                        .map(|c| (0..d).map(|t| g(r, t) * x(b * s + c, vc + t)).sum())
                        .collect();
                    let dot: f64 = (0..=r).map(|c| dp[c] * p[r][c]).sum();
                    for c in 0..=r {
                        let ds = p[r][c] * (dp[c] - dot) * scale;
                        for t in 0..d {
                            dqkv[(b * s + r) * w + qc + t] += ds * x(b * s + c, kc + t);
                            dqkv[(b * s + c) * w + kc + t] += ds * x(b * s + r, qc + t);
                            dqkv[(b * s + c) * w + vc + t] += p[r][c] * g(r, t);
                        }
                    }
                }
            }
        }
        (ctx, lse, dqkv)
    }

    fn close(name: &str, got: &[f32], want: &[f64], tol: f64) {
        assert_eq!(got.len(), want.len(), "{name} length");
        for (n, (&g, &w)) in got.iter().zip(want).enumerate() {
            assert!(
                (f64::from(g) - w).abs() <= tol * (1.0 + w.abs()),
                "{name}[{n}]: {g} vs reference {w}"
            );
        }
    }

    /// Forward and backward equal the materialising reference for odd shapes, blocks that do
    /// not divide s, s = 1, grouped-query heads, on every instruction-set path of this machine.
    #[test]
    fn blocked_attention_matches_the_reference() {
        let shapes = [
            (1, 1, 2, 2, 3),
            (2, 7, 4, 2, 5),
            (1, 13, 3, 1, 17),
            (2, 9, 2, 2, 8),
            (1, 37, 4, 1, 64),
            (1, 40, 2, 2, 20),
        ];
        for (batch, seq, heads, kv_heads, head_dim) in shapes {
            let a = AttentionShape {
                batch,
                seq,
                heads,
                kv_heads,
                head_dim,
            };
            let qkv = random(batch * seq * a.qkv_width(), seq as u64, 1.5);
            let dctx = random(batch * seq * a.d_model(), 7 + seq as u64, 1.0);
            let (ctx_ref, lse_ref, dqkv_ref) = reference(a, &qkv, &dctx);
            for bs in [1, 3, 4, 16, block_size(head_dim)] {
                let mut t = Tally::new();
                let mut lse = vec![0.0; a.lse_len()];
                let mut ctx = vec![0.0; batch * seq * a.d_model()];
                forward_blocked(&mut t, a, bs, &qkv, &mut lse, &mut ctx);
                let name = format!("{a:?} block {bs}");
                close(&format!("{name} ctx"), &ctx, &ctx_ref, 5e-5);
                close(&format!("{name} lse"), &lse, &lse_ref, 5e-5);
                let mut dqkv = vec![f32::NAN; qkv.len()];
                backward_blocked(&mut t, a, bs, &qkv, &ctx, &lse, &dctx, &mut dqkv);
                close(&format!("{name} dqkv"), &dqkv, &dqkv_ref, 1e-4);
                let work = t.class(OpClass::Attention);
                assert_eq!(work.flops, a.forward_flops(bs) + a.backward_flops(bs));
                assert_eq!(work.calls, 2);
                // Tasks of several key blocks, the last one short when they do not divide.
                for span in [1, 2, 3, 4] {
                    let mut dqkv = vec![f32::NAN; qkv.len()];
                    let sizes = (bs, Some(span));
                    backward_spans(&mut t, a, sizes, &qkv, &ctx, &lse, &dctx, &mut dqkv);
                    close(&format!("{name} span {span} dqkv"), &dqkv, &dqkv_ref, 1e-4);
                }
            }
        }
    }

    /// Every micro-kernel path gives the portable loop's product, on edge-sized tiles.
    #[test]
    fn every_path_computes_the_same_block_products() {
        for (m, n, k) in [
            (1, 1, 1),
            (5, 17, 3),
            (9, 64, 64),
            (7, 80, 13),
            (4, 24, 9),
            (13, 33, 2),
        ] {
            let a = random(m * k, 1, 1.0);
            let b = random(k * n, 2, 1.0);
            let c0 = random(m * n, 3, 1.0);
            let mut want = c0.clone();
            // SAFETY: row-major buffers of the stated shapes.
            unsafe {
                mm_portable(
                    m,
                    n,
                    k,
                    (a.as_ptr(), k, 1),
                    (b.as_ptr(), n),
                    (want.as_mut_ptr(), n),
                    true,
                );
            }
            for path in Simd::available() {
                for (accumulate, start) in [(true, &c0), (false, &vec![f32::NAN; m * n])] {
                    let mut got = start.clone();
                    // SAFETY: as above.
                    unsafe {
                        mm(
                            path,
                            (m, n, k),
                            (a.as_ptr(), k, 1),
                            (b.as_ptr(), n),
                            (got.as_mut_ptr(), n),
                            accumulate,
                        );
                    }
                    for x in 0..m * n {
                        let w = if accumulate { want[x] } else { want[x] - c0[x] };
                        assert!(
                            (got[x] - w).abs() < 1e-4,
                            "{path:?} {m}×{n}×{k} [{x}]: {} vs {w}",
                            got[x]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn block_size_follows_the_head_width() {
        assert_eq!(block_size(64), 64);
        assert_eq!(block_size(128), 32);
        assert_eq!(block_size(256), 16);
        assert_eq!(block_size(32), 128);
        assert_eq!(block_size(1), 128);
        assert_eq!(block_size(80), 48);
    }

    /// The closed form of the computed scores equals counting the blocks one by one, and is
    /// between the causal half and the full square.
    #[test]
    fn computed_scores_count_the_live_blocks() {
        for s in 1..70 {
            for b in [1, 3, 4, 16, 64] {
                let mut count = 0u64;
                for q0 in (0..s).step_by(b) {
                    let q1 = (q0 + b).min(s);
                    for k0 in (0..s).step_by(b) {
                        if k0 < q1 {
                            count += ((q1 - q0) * ((k0 + b).min(s) - k0)) as u64;
                        }
                    }
                }
                assert_eq!(computed_scores(s, b), count, "s {s} b {b}");
                assert!(count >= causal_entries(s) && count <= (s * s) as u64);
            }
        }
        assert_eq!(computed_scores(7, 1), causal_entries(7));
    }
}
