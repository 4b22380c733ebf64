//! Matrix products over ndarray views, by the `gemm` crate (with its `x86-v4` feature, so it
//! uses AVX-512 where the CPU has it). `gemm` takes arbitrary row and column strides, so the
//! transposed operands backward needs (Xᵀ·dY, dY·Wᵀ) are free: pass `.t()` views.
//! `docs/gemm-choice.md` holds the measurements behind choosing it over faer and
//! matrixmultiply.

use super::{OpClass, Tally};
use ndarray::{ArrayView2, ArrayViewMut2, s};

/// Element types the product kernel runs on.
pub trait Element: Copy + Send + Sync + std::ops::Add<Output = Self> + 'static {
    const ZERO: Self;
    const ONE: Self;
    const BYTES: u64;
    /// Runs `f` on this thread's two scratch buffers of at least `a` and `c` elements (the
    /// column-major copies of [`column_major_route`]), which grow and are then reused, so a
    /// training step allocates them in its warm-up only.
    fn with_scratch<R>(a: usize, c: usize, f: impl FnOnce(&mut [Self], &mut [Self]) -> R) -> R;
}

macro_rules! element {
    ($t:ty, $bytes:expr) => {
        impl Element for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const BYTES: u64 = $bytes;
            fn with_scratch<R>(
                a: usize,
                c: usize,
                f: impl FnOnce(&mut [Self], &mut [Self]) -> R,
            ) -> R {
                thread_local! {
                    static SCRATCH: std::cell::RefCell<(Vec<$t>, Vec<$t>)> =
                        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
                }
                SCRATCH.with(|s| {
                    // A product inside a product never happens (gemm calls no user code), but a
                    // re-entrant borrow must not panic: it gets fresh buffers instead.
                    let Ok(mut s) = s.try_borrow_mut() else {
                        return f(&mut vec![0.0; a], &mut vec![0.0; c]);
                    };
                    let (sa, sc) = &mut *s;
                    if sa.len() < a {
                        sa.resize(a, 0.0);
                    }
                    if sc.len() < c {
                        sc.resize(c, 0.0);
                    }
                    f(&mut sa[..a], &mut sc[..c])
                })
            }
        }
    };
}
element!(f32, 4);
element!(f64, 8);

/// Below this many multiply-adds a product runs on one thread: splitting a small product
/// across cores costs more than it gains (two threads pay off from about 256³ on
/// the machines measured in `docs/gemm-choice.md`).
const PARALLEL_MIN_MACS: usize = 128 * 128 * 128;

/// How a single product may use the cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// All rayon threads when the product is large enough.
    Auto,
    /// One thread: the caller already runs products in parallel (batched attention).
    Single,
}

/// How a long product is cut into chunks, each preceded by a cancellation check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Chunking {
    /// Products of more than this many multiply-adds run in chunks of at most about this many.
    macs: usize,
    /// The inner dimension is cut at multiples of this.
    k_step: usize,
    /// `m` and `n` are cut no finer than this.
    mn_min: usize,
}

/// Products of more than 2³² multiply-adds (8.6 GFLOP: a few tens of milliseconds in f32 and
/// about a tenth of a second in f64 on the machines of `docs/gemm-choice.md`) run in chunks with
/// a cancellation check ([`super::cancel`]) before each, so Ctrl-C stops even a 6144³ f64
/// product at once; smaller products run in one call. `k` is cut at multiples of 512: gemm walks
/// `k` in blocks of at least 512 (its `kc`) and reads and writes the output once per block
/// anyway, so a cut there adds no memory traffic. `m` and `n` are cut only when a 512-deep slice
/// of the whole output is still longer than a chunk, and no finer than 2,048: each such cut packs
/// the other operand's panel once more, a small cost at that width. Measured on the 2-vCPU Zen 5
/// of `docs/measurement.md` (`--quick` sweeps, before and after chunking, GFLOP/s): 4096³ f32
/// 206.1 → 206.2, 1024×22016×4096 f32 205.4 → 209.9, 4096³ f64 102.5 → 102.9, 1024×22016×4096
/// f64 102.1 → 102.3; no difference beyond the run-to-run noise.
const CHUNKING: Chunking = Chunking {
    macs: 1 << 32,
    k_step: 512,
    mn_min: 2048,
};

/// `c = a · b` (or `c += a · b` when `accumulate`), without touching the tally.
///
/// A product of more than 2³² multiply-adds runs chunk by chunk and stops early, its output
/// incomplete, once [`super::cancel`]'s flag is raised: the unit of work it belongs to is
/// being discarded.
///
/// # Panics
/// If the shapes do not agree (a programming error: shapes come from the validated plan).
pub fn product_into<T: Element>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    c: ArrayViewMut2<T>,
    accumulate: bool,
    threads: Threads,
) {
    product_until(
        a,
        b,
        c,
        accumulate,
        threads,
        CHUNKING,
        &super::cancel::raised,
    );
}

/// Chunk sides `(mb, nb, kb)` of an `m × n × k` product under `rule`: the whole product when
/// it is at most `rule.macs`; otherwise `k` is cut into multiples of `rule.k_step`, then `n`,
/// then `m`, into pieces of at least `rule.mn_min` until a chunk is at most `rule.macs` (or as
/// small as those floors allow).
fn chunk_sides(m: usize, n: usize, k: usize, rule: Chunking) -> (usize, usize, usize) {
    let macs = |m: usize, n: usize, k: usize| m.saturating_mul(n).saturating_mul(k);
    if macs(m, n, k) <= rule.macs {
        return (m, n, k);
    }
    let kb = if k <= rule.k_step {
        k
    } else {
        (rule.macs / m.saturating_mul(n).max(1) / rule.k_step * rule.k_step).clamp(rule.k_step, k)
    };
    let nb = if macs(m, n, kb) <= rule.macs {
        n
    } else {
        (rule.macs / m.saturating_mul(kb).max(1)).clamp(rule.mn_min.min(n), n)
    };
    let mb = if macs(m, nb, kb) <= rule.macs {
        m
    } else {
        (rule.macs / nb.saturating_mul(kb).max(1)).clamp(rule.mn_min.min(m), m)
    };
    (mb, nb, kb)
}

/// [`product_into`] with the cancellation check `stop`, asked before each chunk of a long
/// product (and once before a shorter one that is worth running in parallel): true when the
/// product is complete, false when `stop` cut it short.
fn product_until<T: Element>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    mut c: ArrayViewMut2<T>,
    accumulate: bool,
    threads: Threads,
    rule: Chunking,
    stop: &dyn Fn() -> bool,
) -> bool {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert_eq!(k, k2, "product: inner dimensions differ");
    assert_eq!(c.dim(), (m, n), "product: output shape");
    if m == 0 || n == 0 {
        return true;
    }
    let macs = m.saturating_mul(n).saturating_mul(k);
    let parallelism = match threads {
        Threads::Auto if macs >= PARALLEL_MIN_MACS && rayon::current_num_threads() > 1 => {
            gemm::Parallelism::Rayon(rayon::current_num_threads())
        }
        _ => gemm::Parallelism::None,
    };
    let (mb, nb, kb) = chunk_sides(m, n, k, rule);
    if (mb, nb, kb) == (m, n, k) {
        if macs >= PARALLEL_MIN_MACS && stop() {
            return false;
        }
        call_gemm(a, b, c, accumulate, parallelism);
        return true;
    }
    for j in (0..n).step_by(nb) {
        let cols = j..(j + nb).min(n);
        for i in (0..m).step_by(mb) {
            let rows = i..(i + mb).min(m);
            for p in (0..k).step_by(kb) {
                if stop() {
                    return false;
                }
                let inner = p..(p + kb).min(k);
                call_gemm(
                    a.slice(s![rows.clone(), inner.clone()]),
                    b.slice(s![inner, cols.clone()]),
                    c.slice_mut(s![rows.clone(), cols.clone()]),
                    accumulate || p > 0,
                    parallelism,
                );
            }
        }
    }
    true
}

/// Whether `c = a · b` takes [`column_major_route`]: `b` column-major, `c` row-major, and the
/// product doing at least [`ROUTE_MIN_FLOPS_PER_MOVE`] FLOPs per element the two copies move.
///
/// gemm 0.19 (a column-major library: a row-major output is computed as `cᵀ = bᵀ·aᵀ`) packs its
/// left operand slowly when that operand is row-major, which is what a column-major `b` becomes.
/// Every backward input gradient `dY·Wᵀ` of a training step, and a tied output head `X·Eᵀ`, is such
/// a product. Measured on a 2-core AVX-512 Zen 4 (`docs/gemm-choice.md`, "The step's own shapes";
/// GFLOP/s, 1 / 2 threads):
/// 256×4096·(22016×4096)ᵀ 74 / 137 as given, against 104 / 206 for the same product with a
/// row-major `b`; 256×768·(3072×768)ᵀ 70 / 96 against 104 / 206. With `a` and `c` column-major
/// too, a column-major `b` runs at full speed (all column-major: 104 / 208), so this route
/// copies `a` into column-major order, lets gemm write a column-major `c`, and copies that back:
/// two copies of the small operands (the activations, m = tokens), never of the weights.
fn column_major_route<T>(a: &ArrayView2<T>, b: &ArrayView2<T>, c: &ArrayViewMut2<T>) -> bool {
    let (m, k) = a.dim();
    let n = b.dim().1;
    let b_column_major = b.strides()[0] == 1 && b.strides()[1] != 1;
    let c_row_major = c.strides()[1] == 1 && c.strides()[0] != 1;
    // 2·m·n·k FLOPs against m·k + m·n elements copied (each read and written once).
    let flops_per_move = (n * k) as f64 / (n + k) as f64 * 2.0;
    b_column_major
        && c_row_major
        && (2..=ROUTE_MAX_ROWS).contains(&m)
        && flops_per_move >= ROUTE_MIN_FLOPS_PER_MOVE
}

/// gemm's slow case is a short product: with m = 1,024 rows (the gpt2-124m slice's tokens) the
/// same column-major right operands run at full speed (2 threads, GFLOP/s: the tied head
/// 1024×768·(50257×768)ᵀ 198, the input gradients 156–189), and the route's copies of a
/// 1,024-row output (a 1024 × 50,257 head: 206 MB each way) cost more than they save: the whole
/// slice stepped 6% slower with the route at every m. At m = 256 (batch × sequence of the Llama
/// slices and of a 4 × 64 GPT-2 batch) the route gains 3–9% of the whole step. Between the two
/// nothing was measured, so the bound sits nearer the measured gain.
const ROUTE_MAX_ROWS: usize = 384;

/// Below this many FLOPs per copied element the route's copies are not worth it: a copy moves
/// about a billion elements a second per core, the product runs at about a hundred GFLOP/s per
/// core, so at 128 the copies cost at most about a tenth of the product's time, while the route
/// saves about a third. The step's products are far above it (768-wide GPT-2: 768; 4096-wide
/// Llama: 4096); the narrow products of tests and of `mlp-small`'s head are below or near it.
const ROUTE_MIN_FLOPS_PER_MOVE: f64 = 128.0;

/// Side of the copies' tiles: a 16 × 16 tile of f32 is 16 cache lines each way.
const TILE: usize = 16;

/// `c (+)= a · b` by way of column-major copies of `a` and `c` (see [`column_major_route`]).
fn call_gemm_column_major<T: Element>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    c: ArrayViewMut2<T>,
    accumulate: bool,
    parallelism: gemm::Parallelism,
) {
    use ndarray::ShapeBuilder;
    let (m, k) = a.dim();
    let n = b.dim().1;
    let parallel = !matches!(parallelism, gemm::Parallelism::None);
    T::with_scratch(m * k, m * n, |at, ct| {
        let mut at = ArrayViewMut2::from_shape((m, k).f(), at).expect("m × k scratch");
        copy_view(a, at.view_mut(), false, parallel);
        let mut ct = ArrayViewMut2::from_shape((m, n).f(), ct).expect("m × n scratch");
        // All three column-major: the direct call, which the route's test compares against.
        call_gemm(at.view(), b, ct.view_mut(), false, parallelism);
        copy_view(ct.view(), c, accumulate, parallel);
    });
}

/// `dst (+)= src` for two views of one shape in any layouts.
fn copy_view<T: Element>(
    src: ArrayView2<T>,
    mut dst: ArrayViewMut2<T>,
    accumulate: bool,
    parallel: bool,
) {
    assert_eq!(src.dim(), dst.dim(), "copy: shapes differ");
    let (sr, sq) = (src.strides()[0], src.strides()[1]);
    let (dr, dq) = (dst.strides()[0], dst.strides()[1]);
    // SAFETY: both views are valid for their shape at their strides (ndarray guarantees it),
    // and `dst` is borrowed mutably, so its elements are distinct and do not overlap `src`.
    unsafe {
        copy_strided(
            src.as_ptr(),
            (sr, sq),
            dst.as_mut_ptr(),
            (dr, dq),
            src.dim(),
            accumulate,
            parallel,
        )
    };
}

/// `dst[r·dr + q·dq] (+)= src[r·sr + q·sq]` for `r < rows`, `q < cols`, in [`TILE`] × [`TILE`]
/// tiles (so the strided side's cache lines are reused across a tile), parallel over blocks of
/// rows. Raw pointers because the copies must run at memory speed: indexed views cost a bounds
/// check and a stride multiply per element, which made the copies of a 256 × 50,257 output
/// cost more than the route saved (measured as in [`column_major_route`]).
///
/// # Safety
/// `src` and `dst` must be valid for `rows × cols` elements at their strides, the `dst`
/// elements distinct, and the two regions must not overlap.
unsafe fn copy_strided<T: Element>(
    src: *const T,
    (sr, sq): (isize, isize),
    dst: *mut T,
    (dr, dq): (isize, isize),
    (rows, cols): (usize, usize),
    accumulate: bool,
    parallel: bool,
) {
    let (src, dst) = (src as usize, dst as usize);
    let block = move |r0: usize| {
        let (src, dst) = (src as *const T, dst as *mut T);
        let re = (r0 + 4 * TILE).min(rows);
        for q0 in (0..cols).step_by(TILE) {
            let qe = (q0 + TILE).min(cols);
            for r in r0..re {
                for q in q0..qe {
                    let (r, q) = (r as isize, q as isize);
                    // SAFETY: r < rows and q < cols, inside both regions (the caller's
                    // contract); each (r, q) is written by one block only.
                    unsafe {
                        let v = *src.offset(r * sr + q * sq);
                        let d = dst.offset(r * dr + q * dq);
                        *d = if accumulate { *d + v } else { v };
                    }
                }
            }
        }
    };
    if parallel {
        use rayon::prelude::*;
        (0..rows).into_par_iter().step_by(4 * TILE).for_each(block);
    } else {
        (0..rows).step_by(4 * TILE).for_each(block);
    }
}

/// One call of the `gemm` crate on views whose shapes agree.
fn call_gemm<T: Element>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    mut c: ArrayViewMut2<T>,
    accumulate: bool,
    parallelism: gemm::Parallelism,
) {
    if column_major_route(&a, &b, &c) {
        return call_gemm_column_major(a, b, c, accumulate, parallelism);
    }
    let (m, k) = a.dim();
    let n = b.dim().1;
    let (a_rs, a_cs) = (a.strides()[0], a.strides()[1]);
    let (b_rs, b_cs) = (b.strides()[0], b.strides()[1]);
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the three views are valid for their shapes and strides (ndarray guarantees it),
    // `c` is borrowed mutably so it cannot alias `a` or `b`, and gemm reads/writes only within
    // m × k, k × n and m × n elements at those strides.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cs,
            c_rs,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// Raw-pointer form of [`product_into`] for kernels that run many small products in parallel
/// over disjoint parts of one buffer (batched attention).
///
/// # Safety
/// Each pointer with its strides must address valid `f32` matrices of the given shapes, `c`
/// must not overlap `a`, `b` or any region another thread writes concurrently.
#[allow(clippy::too_many_arguments)]
pub unsafe fn product_raw(
    m: usize,
    n: usize,
    k: usize,
    a: (*const f32, isize, isize),
    b: (*const f32, isize, isize),
    c: (*mut f32, isize, isize),
    accumulate: bool,
) {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.0,
            c.2,
            c.1,
            accumulate,
            a.0,
            a.2,
            a.1,
            b.0,
            b.2,
            b.1,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Bytes a product moves at minimum: each operand read once, the result written once.
pub fn product_bytes(m: usize, n: usize, k: usize, elem_bytes: u64) -> u64 {
    let (m, n, k) = (m as u64, n as u64, k as u64);
    elem_bytes * (m * k + k * n + m * n)
}

/// `c = a · b` (or `c += a · b`), charged to `class` in the tally.
pub fn matmul<T: Element>(
    tally: &mut Tally,
    class: OpClass,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    c: ArrayViewMut2<T>,
    accumulate: bool,
) {
    let (m, k) = a.dim();
    let n = b.dim().1;
    let flops = super::flops::product(m, n, k);
    let bytes = product_bytes(m, n, k, T::BYTES);
    tally.record(class, flops, bytes, || {
        product_into(a, b, c, accumulate, Threads::Auto)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    fn naive(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
        let (m, k) = a.dim();
        let n = b.dim().1;
        Array2::from_shape_fn((m, n), |(i, j)| (0..k).map(|p| a[[i, p]] * b[[p, j]]).sum())
    }

    #[test]
    fn small_product_matches_hand_computed() {
        let a = array![[1.0f32, 2.0], [3.0, 4.0]];
        let b = array![[5.0f32, 6.0], [7.0, 8.0]];
        let mut c = Array2::zeros((2, 2));
        let mut t = Tally::new();
        matmul(
            &mut t,
            OpClass::Matmul,
            a.view(),
            b.view(),
            c.view_mut(),
            false,
        );
        assert_eq!(c, array![[19.0, 22.0], [43.0, 50.0]]);
        assert_eq!(t.class(OpClass::Matmul).flops, 16);
        matmul(
            &mut t,
            OpClass::Matmul,
            a.view(),
            b.view(),
            c.view_mut(),
            true,
        );
        assert_eq!(c, array![[38.0, 44.0], [86.0, 100.0]]);
    }

    /// A chunking small enough to cut products of a few hundred elements a side.
    const SMALL: Chunking = Chunking {
        macs: 40_000,
        k_step: 16,
        mn_min: 24,
    };

    #[test]
    fn chunk_sides_bound_every_chunk_and_cut_k_at_whole_blocks() {
        for &(m, n, k) in &[
            (6144, 6144, 6144),
            (4096, 4096, 4096),
            (1024, 22016, 4096),
            (1024, 50257, 768),
            (64, 64, 1 << 24),
            (1 << 20, 4096, 512),
            (2048, 2048, 1024),
            (100, 100, 100),
        ] {
            let (mb, nb, kb) = chunk_sides(m, n, k, CHUNKING);
            assert!(mb <= m && nb <= n && kb <= k && mb > 0 && nb > 0 && kb > 0);
            assert!(kb == k || kb % CHUNKING.k_step == 0, "{m}×{n}×{k}: kb {kb}");
            assert!(mb * nb * kb <= CHUNKING.macs, "{m}×{n}×{k}: {mb}×{nb}×{kb}");
            if m * n * k <= CHUNKING.macs {
                assert_eq!((mb, nb, kb), (m, n, k));
            }
        }
        // 6144³ f64 (the product that used to take 18 s to notice Ctrl-C): chunks of 2³² MACs.
        assert_eq!(chunk_sides(6144, 6144, 6144, CHUNKING), (4096, 2048, 512));
    }

    #[test]
    fn a_chunked_product_equals_one_call() {
        let (m, n, k) = (70, 90, 50);
        let a = Array2::from_shape_fn((m, k), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
        let b = Array2::from_shape_fn((k, n), |(i, j)| ((i * 5 + j * 2) % 13) as f64 - 6.0);
        assert_ne!(chunk_sides(m, n, k, SMALL), (m, n, k), "the test must cut");
        let expect = naive(&a, &b);
        for accumulate in [false, true] {
            let mut c = Array2::from_elem((m, n), 1.0);
            let done = product_until(
                a.view(),
                b.view(),
                c.view_mut(),
                accumulate,
                Threads::Auto,
                SMALL,
                &|| false,
            );
            assert!(done);
            let want = if accumulate {
                &expect + 1.0
            } else {
                expect.clone()
            };
            assert_eq!(c, want, "accumulate = {accumulate}");
        }
    }

    #[test]
    fn a_cancelled_product_stops_between_chunks() {
        let (m, n, k) = (70, 90, 50);
        let a = Array2::<f32>::ones((m, k));
        let b = Array2::<f32>::ones((k, n));
        let mut c = Array2::zeros((m, n));
        let asked = std::cell::Cell::new(0);
        let done = product_until(
            a.view(),
            b.view(),
            c.view_mut(),
            false,
            Threads::Single,
            SMALL,
            &|| {
                asked.set(asked.get() + 1);
                asked.get() > 2
            },
        );
        assert!(!done);
        assert_eq!(
            asked.get(),
            3,
            "asked before every chunk, stopped at the third"
        );
        // Two chunks ran: the output is incomplete (the caller discards it).
        assert!(c.iter().any(|&x| x != k as f32));
    }

    #[test]
    fn the_column_major_route_equals_the_direct_call() {
        // Integer-valued f64, so both orders of summation are exact and must agree bit for bit.
        let (m, n, k) = (37, 300, 260);
        let a = Array2::from_shape_fn((m, k), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
        let bt = Array2::from_shape_fn((n, k), |(i, j)| ((i * 5 + j * 2) % 13) as f64 - 6.0);
        let b = bt.t();
        let c0 = Array2::from_shape_fn((m, n), |(i, j)| (i + j) as f64);
        assert!(column_major_route(&a.view(), &b, &c0.clone().view_mut()));
        let expect = naive(&a, &b.to_owned());
        for parallelism in [gemm::Parallelism::None, gemm::Parallelism::Rayon(2)] {
            for accumulate in [false, true] {
                let mut c = c0.clone();
                call_gemm(a.view(), b, c.view_mut(), accumulate, parallelism);
                let want = if accumulate { &expect + &c0 } else { expect.clone() };
                assert_eq!(c, want, "accumulate = {accumulate}");
            }
        }
        // A strided output window (as the chunked path passes) leaves everything else alone.
        let mut big = Array2::from_elem((m + 3, n + 5), -1.0);
        call_gemm(
            a.view(),
            b,
            big.slice_mut(s![1..m + 1, 2..n + 2]),
            false,
            gemm::Parallelism::Rayon(2),
        );
        assert_eq!(big.slice(s![1..m + 1, 2..n + 2]), expect);
        for ((i, j), &x) in big.indexed_iter() {
            if !(1..m + 1).contains(&i) || !(2..n + 2).contains(&j) {
                assert_eq!(x, -1.0, "({i}, {j}) is outside the window");
            }
        }
        // Narrow products, and row-major right operands, keep the direct call.
        let narrow = Array2::<f64>::zeros((8, 8));
        assert!(!column_major_route(&a.view(), &narrow.t(), &Array2::zeros((m, 8)).view_mut()));
        let row_major = bt.t().as_standard_layout().into_owned();
        assert!(!column_major_route(&a.view(), &row_major.view(), &c0.clone().view_mut()));
    }

    #[test]
    fn transposed_views_match_naive_product() {
        // Large enough to take the parallel path.
        let (m, n, k) = (150, 170, 130);
        let a = Array2::from_shape_fn((k, m), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
        let b = Array2::from_shape_fn((n, k), |(i, j)| ((i * 5 + j * 2) % 13) as f64 - 6.0);
        let mut c = Array2::zeros((m, n));
        product_into(a.t(), b.t(), c.view_mut(), false, Threads::Auto);
        let expect = naive(&a.t().to_owned(), &b.t().to_owned());
        assert_eq!(c, expect);
    }
}
