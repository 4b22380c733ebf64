//! Executed-work accounting: every kernel call adds the FLOPs it executes, the bytes it must
//! move at minimum, and its wall time to the counter of its op class.
//!
//! The counts are what the kernel *executes* for the shapes it was given (2·m·n·k for a product;
//! the per-element conventions of `docs/flops.md` for the rest), so that the analytic formula in
//! `workload::plan` can be checked against them.

use crate::ops::OpClass;
use serde::Serialize;
use std::time::Instant;

/// Work of one op class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ClassWork {
    /// Floating-point operations executed.
    pub flops: u64,
    /// Minimum bytes read and written (each operand once), for the roofline.
    pub bytes: u64,
    /// Kernel calls.
    pub calls: u64,
    /// Wall time spent in this class's kernels, nanoseconds.
    pub nanos: u64,
}

/// Per-op-class counters of executed work. Kernels take `&mut Tally`; the step owns one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    work: [ClassWork; OpClass::ALL.len()],
}

impl Tally {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f`, timing it, and charges `flops` and `bytes` to `class`.
    #[inline]
    pub fn record<R>(
        &mut self,
        class: OpClass,
        flops: u64,
        bytes: u64,
        f: impl FnOnce() -> R,
    ) -> R {
        let start = Instant::now();
        let out = f();
        let elapsed = start.elapsed().as_nanos() as u64;
        let w = &mut self.work[class.index()];
        w.flops += flops;
        w.bytes += bytes;
        w.calls += 1;
        w.nanos += elapsed;
        out
    }

    pub fn class(&self, class: OpClass) -> ClassWork {
        self.work[class.index()]
    }

    /// `(class, work)` for every class, in `OpClass::ALL` order.
    pub fn iter(&self) -> impl Iterator<Item = (OpClass, ClassWork)> + '_ {
        OpClass::ALL.iter().map(move |&c| (c, self.work[c.index()]))
    }

    pub fn total_flops(&self) -> u64 {
        self.work.iter().map(|w| w.flops).sum()
    }

    pub fn total_bytes(&self) -> u64 {
        self.work.iter().map(|w| w.bytes).sum()
    }

    pub fn total_nanos(&self) -> u64 {
        self.work.iter().map(|w| w.nanos).sum()
    }

    pub fn reset(&mut self) {
        *self = Self::default();
    }
}
