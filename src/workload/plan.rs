//! The analytic plan of one training step: which kernels run, on which shapes, and the FLOPs and
//! minimum bytes each executes — computed from the architecture alone, without running anything.
//!
//! The same functions describe the small slice run here and the full-size target the cost is
//! for; the test `executed_equals_analytic` checks that the slice's executed count (the kernels'
//! own tally) equals this formula, which is what lets a measured slice stand for a large model.
//!
//! Conventions (see `docs/flops.md`): products count 2·m·n·k. Every product runs three times
//! per step (forward, input gradient, weight gradient), so dense products total
//! 6·(matrix parameters)·tokens, the 6N of Kaplan et al. 2020. Attention is counted two ways:
//! [`transformer_step`] counts what costbench's fused, blocked kernel executes (the products of
//! the score blocks on and below the diagonal, softmax work per unmasked score, Q, K, V and O
//! moved once); [`transformer_model_step`] counts the model-FLOPs convention the cost model
//! applies to a target — six products over the full s × s score matrix, as PaLM (Chowdhery et
//! al. 2022, App. B) and Megatron-LM (Narayanan et al. 2021, §5.1) count them, and a causal
//! softmax over the s·(s+1)/2 unmasked scores.

use crate::kernels::attention;
use crate::ops::OpClass;
use crate::ops::flops as fl;
use crate::workload::spec::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// Bytes of one f32.
const F32: u64 = 4;

/// Largest FLOP count of one step (one optimizer step of the target, or one product of a sweep)
/// a workload may ask for: 2^62 ≈ 4.6e18, a quarter of `u64::MAX`, so the FLOP counters (the
/// plan's, and the kernels' tallies of executed work) keep headroom.
pub const MAX_STEP_FLOPS: u64 = 1 << 62;

/// A figure of the plan in checked arithmetic: `None` once it passes `u128::MAX`. The plan's
/// formulas are written once, in this type, so that sizes too large for the `u64` figures are
/// found (and reported with their size) instead of overflowing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Big(pub Option<u128>);

impl Big {
    fn of(n: impl Into<u128>) -> Big {
        Big(Some(n.into()))
    }

    fn size(n: usize) -> Big {
        Big(u128::try_from(n).ok())
    }

    /// The figure as `u64`, when it fits.
    pub fn to_u64(self) -> Option<u64> {
        self.0.and_then(|n| u64::try_from(n).ok())
    }

    fn max(self, other: Big) -> Big {
        Big(self.0.zip(other.0).map(|(a, b)| a.max(b)))
    }

    fn halved(self) -> Big {
        Big(self.0.map(|n| n / 2))
    }
}

impl std::ops::Add for Big {
    type Output = Big;
    fn add(self, o: Big) -> Big {
        Big(self.0.zip(o.0).and_then(|(a, b)| a.checked_add(b)))
    }
}

impl std::ops::Mul for Big {
    type Output = Big;
    fn mul(self, o: Big) -> Big {
        Big(self.0.zip(o.0).and_then(|(a, b)| a.checked_mul(b)))
    }
}

impl std::ops::Mul<u64> for Big {
    type Output = Big;
    fn mul(self, o: u64) -> Big {
        self * Big::of(o)
    }
}

/// A step too large for the plan's `u64` figures: its totals, each `None` beyond `u128::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    pub flops: Option<u128>,
    pub bytes: Option<u128>,
}

/// What workload validation guarantees, and the infallible plan functions rely on.
const VALIDATED: &str = "the plan of a validated workload fits its u64 figures \
                         (workload::parse refuses larger ones)";

/// One kind of kernel call in a step, with how often it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedOp {
    pub class: OpClass,
    /// What the op is, e.g. `qkv forward`.
    pub name: String,
    /// FLOPs of one call.
    pub flops: u64,
    /// Minimum bytes moved by one call (each operand read once, each result written once).
    pub bytes: u64,
    /// Calls per step.
    pub calls: u64,
}

/// The ops of one training step (forward, backward, optimizer update) of one micro-batch.
///
/// Built by the `checked_*` functions only when every figure, and the step's totals of FLOPs
/// and bytes, fit `u64`; so the sums below cannot overflow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepPlan {
    pub ops: Vec<PlannedOp>,
    /// Trainable parameters.
    pub params: u64,
    /// Tokens (sequences × sequence length; samples for an MLP) processed by the step.
    pub tokens: u64,
}

/// FLOPs and bytes of one op class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ClassTotals {
    pub flops: u64,
    pub bytes: u64,
    pub calls: u64,
}

impl StepPlan {
    /// Totals per op class (classes with no ops are absent).
    pub fn by_class(&self) -> BTreeMap<OpClass, ClassTotals> {
        let mut out: BTreeMap<OpClass, ClassTotals> = BTreeMap::new();
        for op in &self.ops {
            let t = out.entry(op.class).or_default();
            t.flops += op.flops * op.calls;
            t.bytes += op.bytes * op.calls;
            t.calls += op.calls;
        }
        out
    }

    pub fn total_flops(&self) -> u64 {
        self.ops.iter().map(|o| o.flops * o.calls).sum()
    }

    pub fn total_bytes(&self) -> u64 {
        self.ops.iter().map(|o| o.bytes * o.calls).sum()
    }
}

/// A step being planned, in checked arithmetic.
struct Planner {
    ops: Vec<PlannedOp>,
    params: Big,
    tokens: Big,
    flops: Big,
    bytes: Big,
    /// Every op's figures fit `u64`.
    fits: bool,
}

impl Planner {
    fn new(params: Big, tokens: Big) -> Self {
        Planner {
            ops: Vec::new(),
            params,
            tokens,
            flops: Big::of(0u8),
            bytes: Big::of(0u8),
            fits: true,
        }
    }

    fn push(&mut self, class: OpClass, name: &str, flops: Big, bytes: Big, calls: Big) {
        self.flops = self.flops + flops * calls;
        self.bytes = self.bytes + bytes * calls;
        match (flops.to_u64(), bytes.to_u64(), calls.to_u64()) {
            (Some(flops), Some(bytes), Some(calls)) => self.ops.push(PlannedOp {
                class,
                name: name.to_string(),
                flops,
                bytes,
                calls,
            }),
            _ => self.fits = false,
        }
    }

    fn finish(self) -> Result<StepPlan, TooLarge> {
        match (
            self.flops.to_u64(),
            self.bytes.to_u64(),
            self.params.to_u64(),
            self.tokens.to_u64(),
        ) {
            (Some(_), Some(_), Some(params), Some(tokens)) if self.fits => Ok(StepPlan {
                ops: self.ops,
                params,
                tokens,
            }),
            _ => Err(TooLarge {
                flops: self.flops.0,
                bytes: self.bytes.0,
            }),
        }
    }

    /// A product (m × k)·(k × n) run once forward and twice backward (input and weight
    /// gradients), `calls` times per step.
    fn dense(&mut self, name: &str, m: Big, n: Big, k: Big, calls: Big) {
        self.dense_first(name, m, n, k, calls);
        // dX (m × k) = dY (m × n) · Wᵀ (n × k)
        self.push(
            OpClass::Matmul,
            &format!("{name} input gradient"),
            product(m, n, k),
            (m * n + n * k + m * k) * F32,
            calls,
        );
    }

    /// A product whose input needs no gradient (the first layer of an MLP, fed with data):
    /// forward and weight gradient only.
    fn dense_first(&mut self, name: &str, m: Big, n: Big, k: Big, calls: Big) {
        let fwd = product(m, n, k);
        self.push(
            OpClass::Matmul,
            &format!("{name} forward"),
            fwd,
            (m * k + k * n + m * n) * F32,
            calls,
        );
        // dW (k × n) = Xᵀ (k × m) · dY (m × n)
        self.push(
            OpClass::Matmul,
            &format!("{name} weight gradient"),
            fwd,
            (k * m + m * n + k * n) * F32,
            calls,
        );
    }

    /// An elementwise op over `elements` values with `per_element` FLOPs, reading and writing
    /// `(reads, writes)` arrays of that size.
    fn elementwise(
        &mut self,
        class: OpClass,
        name: &str,
        elements: Big,
        per_element: u64,
        (reads, writes): (u64, u64),
        calls: Big,
    ) {
        self.push(
            class,
            name,
            elements * per_element,
            elements * F32 * (reads + writes),
            calls,
        );
    }

    /// GELU forward and backward over `elements` values, `calls` times.
    fn gelu(&mut self, elements: Big, calls: Big) {
        let gelu = [
            ("gelu forward", fl::GELU_FWD, (1, 1)),
            ("gelu backward", fl::GELU_BWD, (2, 1)),
        ];
        for (name, per_element, arrays) in gelu {
            self.elementwise(
                OpClass::Activation,
                name,
                elements,
                per_element,
                arrays,
                calls,
            );
        }
    }

    /// The end of every step: the cross-entropy over `logits`, `fused` into one kernel as
    /// costbench executes it (`kernels::loss::forward_backward`: each logit read once, its
    /// gradient written once in its place, one exp per logit) or as two passes (the cost model's
    /// convention); then the AdamW update, which reads weight, gradient and both moments and
    /// writes weight and both moments.
    fn loss_and_update(&mut self, logits: Big, fused: bool) {
        let once = Big::of(1u8);
        if fused {
            self.elementwise(
                OpClass::Loss,
                "cross-entropy forward and backward (fused)",
                logits,
                fl::XENT_FUSED,
                (1, 1),
                once,
            );
        } else {
            let xent = [
                ("cross-entropy forward", fl::XENT_FWD, (1, 0)),
                ("cross-entropy backward", fl::XENT_BWD, (1, 1)),
            ];
            for (name, per_element, arrays) in xent {
                self.elementwise(OpClass::Loss, name, logits, per_element, arrays, once);
            }
        }
        let params = self.params;
        self.elementwise(OpClass::Optimizer, "adamw", params, fl::ADAMW, (4, 3), once);
    }
}

impl Planner {
    /// Attention forward and backward of every layer, counted as `count` says.
    fn attention(&mut self, t: &TransformerShape, batch: usize, count: StepCount) {
        let s = Big::size(t.seq_len);
        let d = Big::size(t.head_dim());
        let l = Big::size(t.layers);
        let b = Big::size(batch);
        let (heads, kv_heads) = (Big::size(t.heads), Big::size(t.kv_heads));
        let pairs = b * heads;
        let unmasked = pairs * causal_entries(s);
        match count {
            StepCount::Executed => {
                // Per (sequence, head): the blocks of side B on and below the diagonal
                // (`kernels::attention::computed_scores`), two products forward (S = Q·Kᵀ,
                // O = P·V) and five backward (S again, dV = Pᵀ·dO, dP = dO·Vᵀ, dQ = dS·K,
                // dK = dSᵀ·Q), and the softmax work per unmasked score.
                let bs = attention::block_size(t.head_dim());
                let computed = pairs * computed_scores(s, Big::size(bs));
                let products = |n: u64| computed * d * (2 * n);
                let sd = s * d;
                // Forward: Q, K, V read and O, L written; backward: Q, K, V, O, dO, L read and
                // dQ, dK, dV written — per head each once.
                let fwd_bytes = b * (sd * (heads * 2 + kv_heads * 2) + heads * s) * F32;
                let bwd_bytes = b * (sd * (heads * 4 + kv_heads * 4) + heads * s) * F32;
                self.push(
                    OpClass::Attention,
                    "attention forward (fused)",
                    products(2) + unmasked * attention::FWD_PER_SCORE,
                    fwd_bytes,
                    l,
                );
                self.push(
                    OpClass::Attention,
                    "attention backward (fused)",
                    products(5) + unmasked * attention::BWD_PER_SCORE,
                    bwd_bytes,
                    l,
                );
            }
            StepCount::Model => {
                // Per (sequence, head): S = Q·Kᵀ (s × d · d × s), P = softmax(S), O = P·V;
                // backward dP = dO·Vᵀ, dV = Pᵀ·dO, dS = softmax'(dP), dQ = dS·K, dK = dSᵀ·Q.
                let attn_flops = pairs * product(s, s, d);
                let qk_bytes = pairs * (s * d * 2 + s * s) * F32;
                for name in [
                    "scores Q·Kᵀ",
                    "context P·V",
                    "backward dP = dO·Vᵀ",
                    "backward dV = Pᵀ·dO",
                    "backward dQ = dS·K",
                    "backward dK = dSᵀ·Q",
                ] {
                    self.push(OpClass::Attention, name, attn_flops, qk_bytes, l);
                }
                self.elementwise(
                    OpClass::Softmax,
                    "causal softmax forward",
                    unmasked,
                    fl::SOFTMAX_FWD,
                    (1, 1),
                    l,
                );
                self.elementwise(
                    OpClass::Softmax,
                    "causal softmax backward",
                    unmasked,
                    fl::SOFTMAX_BWD,
                    (2, 1),
                    l,
                );
            }
        }
    }
}

/// Scores computed per (sequence, head) by the fused kernel with block side `b`
/// ([`crate::kernels::attention::computed_scores`], checked): with n = ⌊s/b⌋ and r = s mod b,
/// b²·n(n+1)/2 + r·s.
fn computed_scores(s: Big, b: Big) -> Big {
    match (s.0, b.0) {
        (Some(s), Some(b)) if b > 0 => {
            let (n, r) = (Big::of(s / b), Big::of(s % b));
            let b = Big::of(b);
            (b * b * n * (n + Big::of(1u8))).halved() + r * Big::of(s)
        }
        _ => Big(None),
    }
}

/// 2·m·n·k for one product ([`crate::ops::flops::product`], checked).
fn product(m: Big, n: Big, k: Big) -> Big {
    Big::of(2u8) * m * n * k
}

/// Unmasked entries of an s × s causal score matrix, s·(s+1)/2
/// ([`crate::ops::flops::causal_entries`], checked).
fn causal_entries(s: Big) -> Big {
    (s * (s + Big::of(1u8))).halved()
}

/// Trainable parameters of a transformer: per layer the fused QKV projection h·(h + 2·g·d), the
/// output projection h², the FFN (2·h·f, or 3·h·f for SwiGLU) and two norms (2h each for
/// LayerNorm, h for RMSNorm); plus the token embedding V·h, learned positions s·h, the final norm,
/// and an untied output head V·h. Linear layers have no biases.
pub fn transformer_params(t: &TransformerShape) -> u64 {
    checked_transformer_params(t).to_u64().expect(VALIDATED)
}

fn checked_transformer_params(t: &TransformerShape) -> Big {
    let h = Big::size(t.d_model);
    let kvw = Big::size(t.kv_heads) * Big::size(t.head_dim());
    let f = Big::size(t.d_ff);
    let norm = match t.norm {
        Norm::Layernorm => h * 2,
        Norm::Rmsnorm => h,
    };
    let ffn = match t.activation {
        Activation::Gelu => h * f * 2,
        Activation::Swiglu => h * f * 3,
    };
    let layer = h * (h + kvw * 2) + h * h + ffn + norm * 2;
    let embed = Big::size(t.vocab) * h;
    let positions = match t.positions {
        Positions::Learned => Big::size(t.seq_len) * h,
        Positions::None => Big::of(0u8),
    };
    let head = if t.tied_embeddings {
        Big::of(0u8)
    } else {
        embed
    };
    Big::size(t.layers) * layer + embed + positions + norm + head
}

/// Parameters of the MLP: one (d_in × d_hidden) product, hidden_layers − 1 square hidden ones,
/// and the (d_hidden × classes) output; no biases.
pub fn mlp_params(m: &MlpShape) -> u64 {
    checked_mlp_params(m).to_u64().expect(VALIDATED)
}

fn checked_mlp_params(m: &MlpShape) -> Big {
    let (i, hd, c) = (
        Big::size(m.d_in),
        Big::size(m.d_hidden),
        Big::size(m.classes),
    );
    let square = Big::size(m.hidden_layers.saturating_sub(1));
    i * hd + square * hd * hd + hd * c
}

/// How a step is counted: as costbench's CPU kernels execute it, or by the convention the cost
/// model applies to every target, which must not move when a CPU kernel is fused or blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StepCount {
    /// What costbench's kernels execute. Attention: the fused, blocked kernel
    /// (`kernels::attention`): the products of the blocks on and below the diagonal, the softmax
    /// work of the unmasked scores, and Q, K, V, O (and their gradients) moved once. The loss:
    /// one fused softmax-cross-entropy forward and backward. Each block norm's backward merges the
    /// residual path's gradient (`norm::backward_add`), in place of the backward residual
    /// additions.
    Executed,
    /// The model-FLOPs convention the cost model applies to a target (PaLM, Megatron-LM): six
    /// attention products over the full s × s score matrix, a separate causal softmax over the
    /// s·(s+1)/2 unmasked scores, the cross-entropy's forward and backward as two passes, and
    /// the norms' and residuals' backward as separate ops (`docs/flops.md`).
    Model,
}

/// The training step of a transformer on `batch` sequences of `t.seq_len` tokens, as
/// costbench's kernels execute it (the tally of a measured step equals it call by call).
pub fn transformer_step(t: &TransformerShape, batch: usize) -> StepPlan {
    checked_transformer_step(t, batch).expect(VALIDATED)
}

/// [`transformer_step`], or its totals when they do not fit `u64`.
pub fn checked_transformer_step(t: &TransformerShape, batch: usize) -> Result<StepPlan, TooLarge> {
    checked_step(t, batch, StepCount::Executed)
}

/// The training step of a transformer by the model-FLOPs convention of the cost model: the same
/// ops as [`transformer_step`] except attention, counted unfused over the full s × s scores
/// (PaLM / Megatron-LM) with its causal softmax as a class of its own. The cost model
/// (`model::profile`) and the target's training FLOPs use this, so they do not depend on how
/// costbench's CPU kernel happens to block its attention.
pub fn transformer_model_step(t: &TransformerShape, batch: usize) -> StepPlan {
    checked_transformer_model_step(t, batch).expect(VALIDATED)
}

/// [`transformer_model_step`], or its totals when they do not fit `u64`.
pub fn checked_transformer_model_step(
    t: &TransformerShape,
    batch: usize,
) -> Result<StepPlan, TooLarge> {
    checked_step(t, batch, StepCount::Model)
}

fn checked_step(
    t: &TransformerShape,
    batch: usize,
    count: StepCount,
) -> Result<StepPlan, TooLarge> {
    let params = checked_transformer_params(t);
    let s = Big::size(t.seq_len);
    let tokens = Big::size(batch) * s;
    let (h, f, v) = (Big::size(t.d_model), Big::size(t.d_ff), Big::size(t.vocab));
    let d = Big::size(t.head_dim());
    let kvw = Big::size(t.kv_heads) * d;
    let l = Big::size(t.layers);
    let th = tokens * h;
    let tf = tokens * f;
    let mut p = Planner::new(params, tokens);

    // Embedding: lookup (a copy), plus learned positions added; backward scatter-adds the
    // token gradient and sums the position gradient over the batch.
    let learned = t.positions == Positions::Learned;
    let pos = if learned { 1 } else { 0 };
    let once = Big::of(1u8);
    p.elementwise(
        OpClass::Embedding,
        "embedding forward",
        th,
        fl::EMBED_ADD * pos,
        (1 + pos, 1),
        once,
    );
    p.elementwise(
        OpClass::Embedding,
        "embedding backward",
        th,
        fl::EMBED_ADD * (1 + pos),
        (2 + pos, 1 + pos),
        once,
    );

    let (norm_fwd, norm_bwd, norm_params) = match t.norm {
        Norm::Layernorm => (fl::LAYERNORM_FWD, fl::LAYERNORM_BWD, 2),
        Norm::Rmsnorm => (fl::RMSNORM_FWD, fl::RMSNORM_BWD, 1),
    };
    // A norm forward reads x and writes y; backward reads dy and x, writes dx (and the gains'
    // gradients, `norm_params` rows of h, negligible but counted). The backward of each block's
    // two norms also adds the residual path's gradient into dx (`norm::backward_add`: one
    // more array read, one more FLOP per element), which takes the place of the backward
    // residual additions; the final norm's backward has no residual to merge.
    let norms = l * 2 + once;
    let merged = count == StepCount::Executed;
    p.push(
        OpClass::Norm,
        "norm forward",
        th * norm_fwd,
        th * 2 * F32,
        norms,
    );
    p.push(
        OpClass::Norm,
        "norm backward",
        th * norm_bwd,
        (th * 3 + h * norm_params) * F32,
        if merged { once } else { norms },
    );
    if merged {
        p.push(
            OpClass::Norm,
            "norm backward + residual merge (fused)",
            th * (norm_bwd + fl::RESIDUAL),
            (th * 4 + h * norm_params) * F32,
            l * 2,
        );
    }

    // Per layer: fused QKV, output projection, FFN.
    p.dense("qkv", tokens, h + kvw * 2, h, l);
    p.dense("attention output", tokens, h, h, l);
    match t.activation {
        Activation::Gelu => {
            p.dense("ffn up", tokens, f, h, l);
            p.gelu(tf, l);
        }
        Activation::Swiglu => {
            p.dense("ffn gate+up", tokens, f * 2, h, l);
            let swiglu = [
                ("swiglu forward", fl::SWIGLU_FWD, (2, 1)),
                ("swiglu backward", fl::SWIGLU_BWD, (3, 2)),
            ];
            for (name, per_element, arrays) in swiglu {
                p.elementwise(OpClass::Activation, name, tf, per_element, arrays, l);
            }
        }
    }
    p.dense("ffn down", tokens, h, f, l);

    p.attention(t, batch, count);

    // Two residual additions per layer forward; backward merges the two gradient paths at
    // each of them: executed inside the norm backward above, by the model as additions.
    let residuals: &[&str] = if merged {
        &["residual forward"]
    } else {
        &["residual forward", "residual backward"]
    };
    for &name in residuals {
        p.elementwise(OpClass::Residual, name, th, fl::RESIDUAL, (2, 1), l * 2);
    }

    // Output head, loss and update.
    p.dense("output head", tokens, v, h, once);
    p.loss_and_update(tokens * v, merged);
    p.finish()
}

/// The training step of an MLP on `batch` samples.
pub fn mlp_step(m: &MlpShape, batch: usize) -> StepPlan {
    checked_mlp_step(m, batch).expect(VALIDATED)
}

/// [`mlp_step`], or its totals when they do not fit `u64`.
pub fn checked_mlp_step(m: &MlpShape, batch: usize) -> Result<StepPlan, TooLarge> {
    let params = checked_mlp_params(m);
    let b = Big::size(batch);
    let (d_in, hd, classes) = (
        Big::size(m.d_in),
        Big::size(m.d_hidden),
        Big::size(m.classes),
    );
    let once = Big::of(1u8);
    let mut p = Planner::new(params, b);
    p.dense_first("input layer", b, hd, d_in, once);
    if m.hidden_layers > 1 {
        let square = Big::size(m.hidden_layers - 1);
        p.dense("hidden layer", b, hd, hd, square);
    }
    p.dense("output layer", b, classes, hd, once);
    p.gelu(b * hd, Big::size(m.hidden_layers));
    p.loss_and_update(b * classes, true);
    p.finish()
}

/// One pass over a product sweep in one precision: each shape's `batch` products once.
pub fn gemm_sweep_step(sweep: &GemmSweep, dtype: Dtype) -> StepPlan {
    checked_gemm_step(&sweep.shapes, dtype).expect(VALIDATED)
}

/// One pass over `shapes` in `dtype` ([`gemm_sweep_step`]), or its totals when they do not fit
/// `u64`.
pub fn checked_gemm_step(shapes: &[GemmShape], dtype: Dtype) -> Result<StepPlan, TooLarge> {
    let mut p = Planner::new(Big::of(0u8), Big::of(0u8));
    for shape in shapes {
        let (m, n, k) = (Big::size(shape.m), Big::size(shape.n), Big::size(shape.k));
        p.push(
            OpClass::Matmul,
            &gemm_label(shape),
            product(m, n, k),
            (m * k + k * n + m * n) * dtype.bytes(),
            Big::size(shape.batch),
        );
    }
    p.finish()
}

/// `label (m×n×k)` or `m×n×k`, with `×batch` when batched.
pub fn gemm_label(shape: &GemmShape) -> String {
    let dims = if shape.batch > 1 {
        format!("{}×{}×{} ×{}", shape.m, shape.n, shape.k, shape.batch)
    } else {
        format!("{}×{}×{}", shape.m, shape.n, shape.k)
    };
    match &shape.label {
        Some(l) => format!("{l} ({dims})"),
        None => dims,
    }
}

/// Bytes the measured slice needs while it runs: parameters with their gradients and both AdamW
/// moments (16 bytes per parameter in f32), the activations the backward pass keeps, and the
/// largest transient buffers of the backward pass. An estimate made before anything is
/// allocated, so a slice too large for this machine is refused up front.
pub fn slice_memory_bytes(w: &Workload) -> u64 {
    checked_slice_memory_bytes(w).to_u64().expect(VALIDATED)
}

/// [`slice_memory_bytes`] in checked arithmetic.
pub fn checked_slice_memory_bytes(w: &Workload) -> Big {
    match &w.kind {
        WorkloadKind::Gemm(sweep) => sweep
            .shapes
            .iter()
            .flat_map(|s| sweep.dtypes.iter().map(move |&d| gemm_memory_bytes(s, d)))
            .fold(Big::of(0u8), Big::max),
        WorkloadKind::Mlp(m) => {
            let s = &m.slice;
            let b = Big::size(m.slice_batch);
            let (d_in, hd, c) = (
                Big::size(s.d_in),
                Big::size(s.d_hidden),
                Big::size(s.classes),
            );
            let widest = d_in.max(hd).max(c);
            let acts = b * (d_in + Big::size(s.hidden_layers) * hd * 2 + c * 2);
            (checked_mlp_params(s) * 4 + acts + b * widest * 3) * F32
        }
        WorkloadKind::Transformer(t) => checked_transformer_memory_bytes(&t.slice, t.slice_batch),
    }
}

/// Memory of one product of a sweep: its operands and result, `batch` times, in `dtype`.
pub fn gemm_memory_bytes(s: &GemmShape, dtype: Dtype) -> Big {
    let (m, n, k) = (Big::size(s.m), Big::size(s.n), Big::size(s.k));
    (m * k + k * n + m * n) * Big::size(s.batch) * dtype.bytes()
}

/// Memory of a transformer step on `batch` sequences (see [`slice_memory_bytes`]).
pub fn transformer_memory_bytes(t: &TransformerShape, batch: usize) -> u64 {
    checked_transformer_memory_bytes(t, batch)
        .to_u64()
        .expect(VALIDATED)
}

fn checked_transformer_memory_bytes(t: &TransformerShape, batch: usize) -> Big {
    let s = Big::size(t.seq_len);
    let tokens = Big::size(batch) * s;
    let (h, f, v) = (Big::size(t.d_model), Big::size(t.d_ff), Big::size(t.vocab));
    let kvw = Big::size(t.kv_heads) * Big::size(t.head_dim());
    let ffn_cols = match t.activation {
        Activation::Gelu => f * 2,
        Activation::Swiglu => f * 3,
    };
    // The attention's log-sum-exp per query row; nothing of size s² (the kernel is fused).
    let lse = Big::size(batch) * Big::size(t.heads) * s;
    // Kept per layer: input, two norm outputs, QKV, the attention's log-sum-exp, context, the
    // mid-layer residual, FFN pre- and post-activation.
    let per_layer = tokens * (h * 5 + kvw * 2 + ffn_cols) + lse;
    // Transient in backward: logits and their gradient, the attention backward's packed copies
    // (Q and dO per query head, K, Kᵀ and Vᵀ per K/V head, and D = rowsum(dO ∘ O)), and a few
    // token-by-widest gradient buffers.
    let widest = h.max(f).max(h + kvw * 2) * 2;
    let attention_packs = tokens * (h * 2 + kvw * 3) + lse;
    let transient = tokens * v * 2 + attention_packs + tokens * widest * 4;
    (checked_transformer_params(t) * 4 + Big::size(t.layers) * per_layer + transient) * F32
}

/// Parameters of a transformer target with its mixture of experts, if any: (held in memory,
/// used per token). Each extra expert is one more feed-forward block per layer; the router is
/// h × experts per layer.
pub fn target_params(w: &TransformerWorkload) -> (u64, u64) {
    let dense = transformer_params(&w.target);
    let Some(m) = w.target_moe else {
        return (dense, dense);
    };
    let t = &w.target;
    let (h, f, l) = (t.d_model as u64, t.d_ff as u64, t.layers as u64);
    let ffn = match t.activation {
        Activation::Gelu => 2 * h * f,
        Activation::Swiglu => 3 * h * f,
    };
    let router = h * m.experts as u64;
    let total = dense + l * (ffn * (m.experts + m.shared_experts) as u64 - ffn + router);
    let active = dense + l * (ffn * (m.top_k + m.shared_experts) as u64 - ffn + router);
    (total, active)
}

/// Training FLOPs by the 6ND convention (Kaplan et al. 2020; Hoffmann et al. 2022): 6 FLOPs per
/// parameter per token, attention scores ignored.
pub fn six_nd(params: u64, tokens: u64) -> f64 {
    6.0 * params as f64 * tokens as f64
}

/// Training FLOPs per token by the PaLM convention (Chowdhery et al. 2022, App. B):
/// 6N + 12·l·h·s, where N excludes nothing and the attention term counts the full s² scores.
pub fn palm_flops_per_token(t: &TransformerShape) -> f64 {
    6.0 * transformer_params(t) as f64
        + 12.0 * t.layers as f64 * t.d_model as f64 * t.seq_len as f64
}

/// FLOPs of the whole target run: this crate's executed-FLOP formula (products, attention and
/// every non-product op) for every sequence, plus one optimizer update per global batch.
///
/// Computed from the plan of a single sequence, scaled in f64: a whole global batch of a large
/// model (Llama 3 405B at 16M tokens is ~4e19 FLOPs) does not fit the plan's u64 counters, one
/// sequence does.
pub fn target_training_flops(w: &TransformerWorkload) -> f64 {
    let one = transformer_model_step(&w.target, 1);
    let optimizer = one
        .by_class()
        .get(&OpClass::Optimizer)
        .map_or(0, |c| c.flops) as f64;
    let per_sequence = one.total_flops() as f64 - optimizer;
    let sequences = w.target_tokens as f64 / w.target.seq_len as f64;
    let steps = sequences / w.target_batch as f64;
    // A mixture's extra experts: forward and backward products of the active ones, and the
    // optimizer over every one.
    let (total, active) = target_params(w);
    let dense = transformer_params(&w.target) as f64;
    let extra = 6.0 * (active as f64 - dense) * w.target_tokens as f64;
    per_sequence * sequences + extra + optimizer * total as f64 / dense * steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpt(layers: usize, d_model: usize, heads: usize, seq_len: usize) -> TransformerShape {
        TransformerShape {
            layers,
            d_model,
            heads,
            kv_heads: heads,
            d_ff: 4 * d_model,
            vocab: 50257,
            seq_len,
            norm: Norm::Layernorm,
            activation: Activation::Gelu,
            positions: Positions::Learned,
            tied_embeddings: true,
        }
    }

    fn within(actual: f64, published: f64, tolerance: f64) -> bool {
        ((actual - published) / published).abs() <= tolerance
    }

    /// Llama 2 parameter counts from their architectures (Touvron et al. 2023, arXiv 2307.09288) within 1% of the published sizes.
    #[test]
    fn llama2_parameter_counts_match_published_sizes() {
        // The architectures are the cost model's validation runs (one definition of each).
        let runs = crate::model::validation::llama2_runs();
        assert_eq!(runs.len(), 3);
        for ((_, w, _), published) in runs.iter().zip([6.7e9, 13.0e9, 69.0e9]) {
            let n = transformer_params(&w.target) as f64;
            assert!(
                within(n, published, 0.01),
                "{n:e} vs published {published:e}"
            );
        }
    }

    /// GPT-3 175B (Brown et al. 2020): 174.6B parameters, and 300B tokens by 6ND give the
    /// published 3.14e23 training FLOPs.
    #[test]
    fn gpt3_training_flops_by_6nd_match_published() {
        let shape = gpt(96, 12288, 96, 2048);
        let n = transformer_params(&shape);
        assert!(within(n as f64, 174.6e9, 0.01), "{n}");
        let flops = six_nd(n, 300_000_000_000);
        assert!(within(flops, 3.14e23, 0.01), "{flops:e}");
    }

    /// GPT-2 small: 124M parameters (without the linear biases costbench omits, 124.4M).
    #[test]
    fn gpt2_small_parameter_count() {
        let n = transformer_params(&gpt(12, 768, 12, 1024));
        assert!(within(n as f64, 124.4e6, 0.005), "{n}");
    }

    /// The dense products of a step are 6 × (matrix parameters) × tokens, and the attention
    /// products of the model convention are PaLM's 12·l·h·s per token: the formula and the
    /// published conventions agree where they should.
    #[test]
    fn step_products_follow_6n_and_palm_conventions() {
        let shape = gpt(12, 768, 12, 1024);
        let batch = 2;
        let step = transformer_model_step(&shape, batch);
        let by = step.by_class();
        let tokens = (batch * shape.seq_len) as u64;
        let h = shape.d_model as u64;
        let positions = shape.seq_len as u64 * h;
        let norms = (2 * shape.layers as u64 + 1) * 2 * h;
        // Tied: the embedding matrix is used as the output head's weight.
        let matrix_params = transformer_params(&shape) - positions - norms;
        assert_eq!(by[&OpClass::Matmul].flops, 6 * matrix_params * tokens);
        let palm_attention = 12 * shape.layers as u64 * h * shape.seq_len as u64 * tokens;
        assert_eq!(by[&OpClass::Attention].flops, palm_attention);
    }

    /// The executed step differs from the model convention in attention, where the fused kernel
    /// computes the 64 × 64 blocks on and below the diagonal (d = 64) — seven products over
    /// s²/2 + 32·s scores instead of six over s² — has no separate softmax class, and moves
    /// no s² bytes; and in the fused loss, norm and residual kernels.
    #[test]
    fn executed_attention_is_the_fused_kernels_blocks() {
        let shape = gpt(2, 256, 4, 1024);
        let (fused, model) = (
            transformer_step(&shape, 3),
            transformer_model_step(&shape, 3),
        );
        let (f, m) = (fused.by_class(), model.by_class());
        for class in OpClass::ALL {
            if !matches!(
                class,
                OpClass::Attention
                    | OpClass::Softmax
                    | OpClass::Loss
                    | OpClass::Norm
                    | OpClass::Residual
            ) {
                assert_eq!(f.get(&class), m.get(&class), "{class:?}");
            }
        }
        assert!(!f.contains_key(&OpClass::Softmax));
        // The fused loss computes one exp per logit (5 FLOPs where the two passes count 4 + 3)
        // and reads the logits once; the norm backward that merges the residual path executes
        // the same FLOPs as the model's separate passes and moves fewer bytes.
        let tokens = 3 * 1024u64;
        let (fl, ml) = (f[&OpClass::Loss], m[&OpClass::Loss]);
        assert_eq!(fl.flops, tokens * 50257 * 5);
        assert_eq!(ml.flops, tokens * 50257 * 7);
        assert_eq!((fl.calls, ml.calls), (1, 2));
        assert_eq!(ml.bytes - fl.bytes, tokens * 50257 * 4, "one read of the logits saved");
        let merged = |c: OpClass| f[&c].flops;
        let model = |c: OpClass| m[&c].flops;
        assert_eq!(
            merged(OpClass::Norm) + merged(OpClass::Residual),
            model(OpClass::Norm) + model(OpClass::Residual)
        );
        assert_eq!(m[&OpClass::Residual].calls, 2 * f[&OpClass::Residual].calls);
        assert!(f[&OpClass::Norm].bytes + f[&OpClass::Residual].bytes < m[&OpClass::Norm].bytes + m[&OpClass::Residual].bytes);

        let (s, d, pairs, l) = (1024u64, 64u64, 3 * 4u64, 2u64);
        let computed = s * s / 2 + 32 * s;
        let unmasked = s * (s + 1) / 2;
        let attn = f[&OpClass::Attention];
        assert_eq!(attn.flops, l * pairs * (14 * computed * d + 8 * unmasked));
        assert_eq!(attn.calls, 2 * l);
        assert_eq!(attn.bytes, l * 3 * (s * d * 48 + 8 * s) * 4);
        // Memory is linear in the sequence length: doubling s about doubles it (s² would
        // quadruple the attention's share).
        let long = |s| transformer_memory_bytes(&gpt(2, 256, 4, s), 1) as f64;
        assert!(
            long(8192) < 2.2 * long(4096),
            "{} {}",
            long(8192),
            long(4096)
        );
    }
}
