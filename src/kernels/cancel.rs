//! Cancelling long kernels: one process-wide flag that a product longer than a few tens of
//! milliseconds checks between its chunks (`gemm::product_into`), so that Ctrl-C stops even a
//! 6144³ f64 product within a fraction of a second instead of after it. The flag is raised by
//! `measure::interrupt` (the kernels know nothing of signals); once raised it stays raised for
//! the life of the process, and a kernel that sees it returns early with its output incomplete.
//! The unit of work it belonged to is then discarded by the sampler, never recorded.

use std::sync::atomic::{AtomicBool, Ordering};

static CANCELLED: AtomicBool = AtomicBool::new(false);

/// Raises the flag; true the first time.
pub fn raise() -> bool {
    !CANCELLED.swap(true, Ordering::SeqCst)
}

/// Whether the flag is raised: long kernels stop at their next chunk.
#[inline]
pub fn raised() -> bool {
    CANCELLED.load(Ordering::Relaxed)
}
