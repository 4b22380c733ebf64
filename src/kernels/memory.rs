//! Large, zeroed f32 buffers backed by transparent huge pages where the kernel allows them.
//!
//! A training step streams through hundreds of megabytes of weights, moments and activations.
//! With 4 KiB pages that is a TLB miss every 1,024 floats, and the cost depends on where the
//! kernel happened to place each page, so step times wandered by several per cent from one
//! process to the next on the development machine (whose kernel gives huge pages only to memory
//! that asks for them: `transparent_hugepage/enabled = madvise`). Asking with
//! `madvise(MADV_HUGEPAGE)` before the first touch removes most of both.

/// Buffers smaller than this stay on ordinary pages (a huge page is 2 MiB).
const HUGE_MIN_BYTES: usize = 4 << 20;

/// `n` zeros, in huge pages when the buffer is large and the OS supports it.
pub fn zeroed(n: usize) -> Vec<f32> {
    // `vec![0.0; n]` of this size comes from calloc → mmap: untouched zero pages, so the advice
    // below applies before any page is faulted in.
    let v = vec![0.0f32; n];
    advise_huge(&v);
    v
}

#[cfg(target_os = "linux")]
fn advise_huge(v: &[f32]) {
    let bytes = std::mem::size_of_val(v);
    if bytes < HUGE_MIN_BYTES {
        return;
    }
    let page = 4096usize;
    let start = (v.as_ptr() as usize).div_ceil(page) * page;
    let end = (v.as_ptr() as usize + bytes) / page * page;
    if end > start {
        // SAFETY: [start, end) lies inside the allocation backing `v`; MADV_HUGEPAGE changes
        // only how the kernel backs those pages, never their contents. A failure (a kernel
        // without THP) just leaves ordinary pages, so the result is ignored.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_: &[f32]) {}

#[cfg(test)]
mod tests {
    #[test]
    fn zeroed_buffers_are_zero_of_any_size() {
        for n in [0, 1, 1000, 3 << 20] {
            let v = super::zeroed(n);
            assert_eq!(v.len(), n);
            assert!(v.iter().all(|&x| x == 0.0));
        }
    }
}
