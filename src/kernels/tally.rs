//! Executed-work accounting: every kernel call adds the FLOPs it executes, the bytes it must
//! move at minimum, and its wall time to the counter of its op class.
//!
//! The counts are what the kernel *executes* for the shapes it was given (2·m·n·k for a product;
//! the per-element conventions of `docs/flops.md` for the rest), so that the analytic formula in
//! `workload::plan` can be checked against them.

use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The classes of work a training step is made of. Reports and the cost model key on these.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OpClass {
    /// Dense-layer products (projections, FFN, output head, MLP layers, sweeps), forward and
    /// backward.
    Matmul,
    /// The attention products Q·Kᵀ and P·V and their backward.
    Attention,
    /// Causal softmax of attention scores (including the 1/√d scale), forward and backward.
    Softmax,
    /// LayerNorm / RMSNorm.
    Norm,
    /// GELU / SwiGLU.
    Activation,
    /// Token and position embedding lookup, and its scatter-add backward.
    Embedding,
    /// Residual additions.
    Residual,
    /// Softmax cross-entropy over the vocabulary.
    Loss,
    /// The AdamW update.
    Optimizer,
}

impl OpClass {
    pub const ALL: [OpClass; 9] = [
        OpClass::Matmul,
        OpClass::Attention,
        OpClass::Softmax,
        OpClass::Norm,
        OpClass::Activation,
        OpClass::Embedding,
        OpClass::Residual,
        OpClass::Loss,
        OpClass::Optimizer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OpClass::Matmul => "matmul",
            OpClass::Attention => "attention",
            OpClass::Softmax => "softmax",
            OpClass::Norm => "norm",
            OpClass::Activation => "activation",
            OpClass::Embedding => "embedding",
            OpClass::Residual => "residual",
            OpClass::Loss => "loss",
            OpClass::Optimizer => "optimizer",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

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
