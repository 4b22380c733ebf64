//! Matrix products over ndarray views, by the `gemm` crate (with its `x86-v4` feature, so it
//! uses AVX-512 where the CPU has it). `gemm` takes arbitrary row and column strides, so the
//! transposed operands backward needs (Xᵀ·dY, dY·Wᵀ) are free: pass `.t()` views.
//! `docs/gemm-choice.md` holds the measurements behind choosing it over faer and
//! matrixmultiply.

use super::{OpClass, Tally};
use ndarray::{ArrayView2, ArrayViewMut2};

/// Element types the product kernel runs on.
pub trait Element: Copy + Send + Sync + 'static {
    const ZERO: Self;
    const ONE: Self;
    const BYTES: u64;
}

impl Element for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const BYTES: u64 = 4;
}

impl Element for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const BYTES: u64 = 8;
}

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

/// `c = a · b` (or `c += a · b` when `accumulate`), without touching the tally.
///
/// # Panics
/// If the shapes do not agree (a programming error: shapes come from the validated plan).
pub fn product_into<T: Element>(
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    mut c: ArrayViewMut2<T>,
    accumulate: bool,
    threads: Threads,
) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert_eq!(k, k2, "product: inner dimensions differ");
    assert_eq!(c.dim(), (m, n), "product: output shape");
    if m == 0 || n == 0 {
        return;
    }
    let parallelism = match threads {
        Threads::Auto if m * n * k >= PARALLEL_MIN_MACS && rayon::current_num_threads() > 1 => {
            gemm::Parallelism::Rayon(rayon::current_num_threads())
        }
        _ => gemm::Parallelism::None,
    };
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
