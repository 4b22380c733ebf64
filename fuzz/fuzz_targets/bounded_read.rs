//! The bounded reader (`costbench::diag::read::read_at_most`, under `diag::read::bounded` and
//! the probe cache reader): for any limit, size hint, payload and pattern of short reads,
//! interrupted reads and errors, it returns the whole payload when it is within the limit and
//! refuses it otherwise, never takes more than `limit + 1` bytes from the reader, and never
//! allocates a buffer larger than `limit + 1` bytes (a tracking global allocator checks that).
#![no_main]

use costbench::diag::read::read_at_most;
use libfuzzer_sys::fuzz_target;
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Records the largest allocation while `TRACKING` is set.
struct Tracking;

static TRACKING: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

fn note(size: usize) {
    if TRACKING.load(Ordering::Relaxed) {
        LARGEST.fetch_max(size, Ordering::Relaxed);
    }
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// A reader of `payload` whose calls follow `pattern` in turn: 0 an interrupted call (unless the
/// call before was one too: a real descriptor is not interrupted forever), 255 an error, n a read
/// of at most n bytes.
struct Scripted<'a> {
    payload: &'a [u8],
    pattern: &'a [u8],
    call: usize,
    consumed: usize,
    failed: bool,
    interrupted: bool,
}

impl Read for Scripted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let step = if self.pattern.is_empty() {
            u8::MAX - 1
        } else {
            self.pattern[self.call % self.pattern.len()]
        };
        self.call += 1;
        let interrupted_before = std::mem::replace(&mut self.interrupted, false);
        match step {
            0 if !interrupted_before => {
                self.interrupted = true;
                return Err(io::ErrorKind::Interrupted.into());
            }
            255 => {
                self.failed = true;
                // A simple error: `io::Error::other` would allocate inside the tracked call.
                return Err(io::ErrorKind::Other.into());
            }
            _ => {}
        }
        let step = step.max(1);
        let n = buf
            .len()
            .min(step as usize)
            .min(self.payload.len() - self.consumed);
        buf[..n].copy_from_slice(&self.payload[self.consumed..self.consumed + n]);
        self.consumed += n;
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let limit = u64::from(u16::from_le_bytes([data[0], data[1]]));
    let pattern_len = (data[3] % 8) as usize;
    let rest = &data[4..];
    let (pattern, payload) = rest.split_at(pattern_len.min(rest.len()));
    let hint = match data[2] % 5 {
        0 => 0,
        1 => payload.len() as u64,
        2 => payload.len() as u64 / 2,
        3 => u64::MAX,
        _ => u64::from(data[2]) * 256,
    };
    let mut reader = Scripted {
        payload,
        pattern,
        call: 0,
        consumed: 0,
        failed: false,
        interrupted: false,
    };
    LARGEST.store(0, Ordering::Relaxed);
    TRACKING.store(true, Ordering::Relaxed);
    let result = read_at_most(&mut reader, limit, hint);
    TRACKING.store(false, Ordering::Relaxed);

    let cap = limit as usize + 1;
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest <= cap,
        "allocated {largest} bytes for a limit of {limit}"
    );
    assert!(reader.consumed <= cap, "took {} bytes", reader.consumed);
    match result {
        Ok(Some(bytes)) => {
            assert!(payload.len() as u64 <= limit);
            assert_eq!(bytes, payload);
        }
        Ok(None) => {
            assert!(payload.len() as u64 > limit);
            assert_eq!(reader.consumed, cap);
        }
        Err(e) => {
            assert!(reader.failed, "an error without a failed read: {e}");
        }
    }
});
