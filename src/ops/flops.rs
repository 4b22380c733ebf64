//! FLOP conventions of the non-product kernels: floating-point operations executed per element,
//! counted from the kernels' inner loops (a transcendental — exp, tanh, sqrt — counts as one;
//! per-row scalar work such as one square root per row is not counted, being under 1/width of
//! the total). A product of (m × k)·(k × n) counts 2·m·n·k. `docs/flops.md` tabulates these.
//!
//! Both the kernels (executed counts) and `workload::plan` (the analytic formula) use these
//! constants; what the equality test between them checks is that the step runs exactly the
//! kernel calls, on exactly the shapes, that the plan says.

/// LayerNorm forward: mean (1), centred square and sum (3), normalise (2), gain and bias (2).
pub const LAYERNORM_FWD: u64 = 8;
/// LayerNorm backward: recompute x̂ (2), dγ (2), dβ (1), g = dy·γ (1), Σg (1), Σg·x̂ (2), dx (4).
pub const LAYERNORM_BWD: u64 = 13;
/// RMSNorm forward: square and sum (2), normalise (1), gain (1).
pub const RMSNORM_FWD: u64 = 4;
/// RMSNorm backward: recompute x̂ (1), dγ (2), g = dy·γ (1), Σg·x̂ (2), dx (3).
pub const RMSNORM_BWD: u64 = 9;
/// GELU (tanh approximation) forward: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
pub const GELU_FWD: u64 = 9;
/// GELU backward: recompute the tanh (6), 0.5·(1 + t) (2), 0.5·k·x·(1 − t²)·(1 + 3c·x²) (7),
/// sum (1), times dy (1).
pub const GELU_BWD: u64 = 17;
/// SwiGLU forward per output element: silu(g) = g / (1 + e^(−g)) (negate, exp, add, divide: 4),
/// times u (1).
pub const SWIGLU_FWD: u64 = 5;
/// SwiGLU backward per output element: e^(−g) (2), σ = 1/(1 + e) (2), silu = g·σ (1),
/// du = dy·silu (1), dsilu = σ·(1 + g·(1 − σ)) (4), dg = dy·u·dsilu (2).
pub const SWIGLU_BWD: u64 = 12;
/// Causal softmax forward per unmasked score: scale (1), max (1), subtract (1), exp (1), sum (1),
/// normalise (1).
pub const SOFTMAX_FWD: u64 = 6;
/// Causal softmax backward per unmasked score: dP·P (1), row sum (1), subtract (1), times P (1),
/// scale (1).
pub const SOFTMAX_BWD: u64 = 5;
/// Cross-entropy forward per logit: max (1), subtract (1), exp (1), sum (1).
pub const XENT_FWD: u64 = 4;
/// Cross-entropy backward per logit: subtract the row's log-sum-exp (1), exp (1), scale by
/// 1/rows (1); the one-hot subtraction is one per row, not counted. The cost model's step counts
/// the cross-entropy as these two passes.
pub const XENT_BWD: u64 = 3;
/// Cross-entropy forward and backward fused into one kernel, as a training step executes it
/// (`kernels::loss::forward_backward`), per logit: the block's max (1), subtract (1), exp (1),
/// sum (1), then times the block's factor e^(m_b − lse)/rows (1). One exp per logit where the
/// two passes compute two; per block and per row work (one exp and a logarithm) is not counted.
pub const XENT_FUSED: u64 = 5;
/// AdamW per parameter: first moment (3), second moment (4), bias corrections (2), √v̂ + ε (2),
/// divide (1), weight decay (2), learning rate (1), update (1).
pub const ADAMW: u64 = 16;
/// A residual addition, per element.
pub const RESIDUAL: u64 = 1;
/// Adding a position embedding, or scatter-adding an embedding gradient, per element.
pub const EMBED_ADD: u64 = 1;

/// 2·m·n·k for one product.
#[inline]
pub fn product(m: usize, n: usize, k: usize) -> u64 {
    2 * m as u64 * n as u64 * k as u64
}

/// Unmasked entries of an s × s causal score matrix: s·(s+1)/2.
#[inline]
pub fn causal_entries(s: usize) -> u64 {
    let s = s as u64;
    s * (s + 1) / 2
}
