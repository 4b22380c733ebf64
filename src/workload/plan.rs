//! The analytic plan of one training step: which kernels run, on which shapes, and the FLOPs and
//! minimum bytes each executes — computed from the architecture alone, without running anything.
//!
//! The same functions describe the small slice run here and the full-size target the cost is
//! for; the test `executed_equals_analytic` checks that the slice's executed count (the kernels'
//! own tally) equals this formula, which is what lets a measured slice stand for a large model.
//!
//! Conventions (see `docs/flops.md`): products count 2·m·n·k and the attention products are
//! executed and counted over the full s × s score matrix, as PaLM (Chowdhery et al. 2022,
//! App. B) and Megatron-LM (Narayanan et al. 2021, §5.1) count them; the causal softmax only
//! touches the s·(s+1)/2 unmasked scores. Every product runs three times per step (forward, input
//! gradient, weight gradient), so dense products total 6·(matrix parameters)·tokens, the
//! 6N of Kaplan et al. 2020.

use crate::ops::OpClass;
use crate::ops::flops::{self as fl, causal_entries, product};
use crate::workload::spec::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// Bytes of one f32.
const F32: u64 = 4;

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
    fn push(&mut self, class: OpClass, name: &str, flops: u64, bytes: u64, calls: u64) {
        self.ops.push(PlannedOp {
            class,
            name: name.to_string(),
            flops,
            bytes,
            calls,
        });
    }

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

    /// A product (m × k)·(k × n) run once forward and twice backward (input and weight
    /// gradients), `calls` times per step.
    fn dense(&mut self, name: &str, m: usize, n: usize, k: usize, calls: u64) {
        self.dense_first(name, m, n, k, calls);
        let (m64, n64, k64) = (m as u64, n as u64, k as u64);
        // dX (m × k) = dY (m × n) · Wᵀ (n × k)
        self.push(
            OpClass::Matmul,
            &format!("{name} input gradient"),
            product(m, n, k),
            F32 * (m64 * n64 + n64 * k64 + m64 * k64),
            calls,
        );
    }

    /// A product whose input needs no gradient (the first layer of an MLP, fed with data):
    /// forward and weight gradient only.
    fn dense_first(&mut self, name: &str, m: usize, n: usize, k: usize, calls: u64) {
        let (m64, n64, k64) = (m as u64, n as u64, k as u64);
        let fwd = product(m, n, k);
        self.push(
            OpClass::Matmul,
            &format!("{name} forward"),
            fwd,
            F32 * (m64 * k64 + k64 * n64 + m64 * n64),
            calls,
        );
        // dW (k × n) = Xᵀ (k × m) · dY (m × n)
        self.push(
            OpClass::Matmul,
            &format!("{name} weight gradient"),
            fwd,
            F32 * (k64 * m64 + m64 * n64 + k64 * n64),
            calls,
        );
    }

    /// An elementwise op over `elements` values with `per_element` FLOPs, reading and writing
    /// `(reads, writes)` arrays of that size.
    fn elementwise(
        &mut self,
        class: OpClass,
        name: &str,
        elements: u64,
        per_element: u64,
        (reads, writes): (u64, u64),
        calls: u64,
    ) {
        self.push(
            class,
            name,
            elements * per_element,
            F32 * elements * (reads + writes),
            calls,
        );
    }
}

/// Trainable parameters of a transformer: per layer the fused QKV projection h·(h + 2·g·d), the
/// output projection h², the FFN (2·h·f, or 3·h·f for SwiGLU) and two norms (2h each for
/// LayerNorm, h for RMSNorm); plus the token embedding V·h, learned positions s·h, the final norm,
/// and an untied output head V·h. Linear layers have no biases.
pub fn transformer_params(t: &TransformerShape) -> u64 {
    let h = t.d_model as u64;
    let kvw = (t.kv_heads * t.head_dim()) as u64;
    let f = t.d_ff as u64;
    let norm = match t.norm {
        Norm::Layernorm => 2 * h,
        Norm::Rmsnorm => h,
    };
    let ffn = match t.activation {
        Activation::Gelu => 2 * h * f,
        Activation::Swiglu => 3 * h * f,
    };
    let layer = h * (h + 2 * kvw) + h * h + ffn + 2 * norm;
    let embed = t.vocab as u64 * h;
    let positions = match t.positions {
        Positions::Learned => t.seq_len as u64 * h,
        Positions::None => 0,
    };
    let head = if t.tied_embeddings { 0 } else { embed };
    t.layers as u64 * layer + embed + positions + norm + head
}

/// Parameters of the MLP: one (d_in × d_hidden) product, hidden_layers − 1 square hidden ones,
/// and the (d_hidden × classes) output; no biases.
pub fn mlp_params(m: &MlpShape) -> u64 {
    let (i, hd, c) = (m.d_in as u64, m.d_hidden as u64, m.classes as u64);
    i * hd + (m.hidden_layers as u64 - 1) * hd * hd + hd * c
}

/// The training step of a transformer on `batch` sequences of `t.seq_len` tokens.
pub fn transformer_step(t: &TransformerShape, batch: usize) -> StepPlan {
    let params = transformer_params(t);
    let s = t.seq_len;
    let tokens = batch * s;
    let (h, f, v) = (t.d_model, t.d_ff, t.vocab);
    let d = t.head_dim();
    let kvw = t.kv_heads * d;
    let l = t.layers as u64;
    let th = (tokens * h) as u64;
    let tf = (tokens * f) as u64;
    let mut p = StepPlan {
        ops: Vec::new(),
        params,
        tokens: tokens as u64,
    };

    // Embedding: lookup (a copy), plus learned positions added; backward scatter-adds the
    // token gradient and sums the position gradient over the batch.
    let learned = t.positions == Positions::Learned;
    let pos = if learned { 1 } else { 0 };
    p.elementwise(
        OpClass::Embedding,
        "embedding forward",
        th,
        fl::EMBED_ADD * pos,
        (1 + pos, 1),
        1,
    );
    p.elementwise(
        OpClass::Embedding,
        "embedding backward",
        th,
        fl::EMBED_ADD * (1 + pos),
        (2 + pos, 1 + pos),
        1,
    );

    let (norm_fwd, norm_bwd, norm_params) = match t.norm {
        Norm::Layernorm => (fl::LAYERNORM_FWD, fl::LAYERNORM_BWD, 2),
        Norm::Rmsnorm => (fl::RMSNORM_FWD, fl::RMSNORM_BWD, 1),
    };
    // A norm forward reads x and writes y; backward reads dy and x, writes dx (and the gains'
    // gradients, `norm_params` rows of h, negligible but counted).
    let norm_bytes_fwd = |rows: u64| F32 * rows * h as u64 * 2;
    let norm_bytes_bwd = |rows: u64| F32 * (rows * h as u64 * 3 + norm_params * h as u64);
    let rows = tokens as u64;
    p.push(
        OpClass::Norm,
        "norm forward",
        rows * h as u64 * norm_fwd,
        norm_bytes_fwd(rows),
        2 * l + 1,
    );
    p.push(
        OpClass::Norm,
        "norm backward",
        rows * h as u64 * norm_bwd,
        norm_bytes_bwd(rows),
        2 * l + 1,
    );

    // Per layer: fused QKV, output projection, FFN.
    p.dense("qkv", tokens, h + 2 * kvw, h, l);
    p.dense("attention output", tokens, h, h, l);
    match t.activation {
        Activation::Gelu => {
            p.dense("ffn up", tokens, f, h, l);
            p.elementwise(
                OpClass::Activation,
                "gelu forward",
                tf,
                fl::GELU_FWD,
                (1, 1),
                l,
            );
            p.elementwise(
                OpClass::Activation,
                "gelu backward",
                tf,
                fl::GELU_BWD,
                (2, 1),
                l,
            );
        }
        Activation::Swiglu => {
            p.dense("ffn gate+up", tokens, 2 * f, h, l);
            p.elementwise(
                OpClass::Activation,
                "swiglu forward",
                tf,
                fl::SWIGLU_FWD,
                (2, 1),
                l,
            );
            p.elementwise(
                OpClass::Activation,
                "swiglu backward",
                tf,
                fl::SWIGLU_BWD,
                (3, 2),
                l,
            );
        }
    }
    p.dense("ffn down", tokens, h, f, l);

    // Attention per (sequence, head): S = Q·Kᵀ (s × d · d × s), P = softmax(S), O = P·V.
    // Backward: dP = dO·Vᵀ, dV = Pᵀ·dO, dS = softmax'(dP), dQ = dS·K, dK = dSᵀ·Q.
    let pairs = (batch * t.heads) as u64;
    let (s64, d64) = (s as u64, d as u64);
    let attn_flops = pairs * product(s, s, d);
    let qk_bytes = F32 * pairs * (2 * s64 * d64 + s64 * s64);
    p.push(OpClass::Attention, "scores Q·Kᵀ", attn_flops, qk_bytes, l);
    p.push(OpClass::Attention, "context P·V", attn_flops, qk_bytes, l);
    p.push(
        OpClass::Attention,
        "backward dP = dO·Vᵀ",
        attn_flops,
        qk_bytes,
        l,
    );
    p.push(
        OpClass::Attention,
        "backward dV = Pᵀ·dO",
        attn_flops,
        qk_bytes,
        l,
    );
    p.push(
        OpClass::Attention,
        "backward dQ = dS·K",
        attn_flops,
        qk_bytes,
        l,
    );
    p.push(
        OpClass::Attention,
        "backward dK = dSᵀ·Q",
        attn_flops,
        qk_bytes,
        l,
    );
    let unmasked = pairs * causal_entries(s);
    p.elementwise(
        OpClass::Softmax,
        "causal softmax forward",
        unmasked,
        fl::SOFTMAX_FWD,
        (1, 1),
        l,
    );
    p.elementwise(
        OpClass::Softmax,
        "causal softmax backward",
        unmasked,
        fl::SOFTMAX_BWD,
        (2, 1),
        l,
    );

    // Two residual additions per layer forward; backward merges the two gradient paths at
    // each of them.
    p.elementwise(
        OpClass::Residual,
        "residual forward",
        th,
        fl::RESIDUAL,
        (2, 1),
        2 * l,
    );
    p.elementwise(
        OpClass::Residual,
        "residual backward",
        th,
        fl::RESIDUAL,
        (2, 1),
        2 * l,
    );

    // Output head and loss.
    p.dense("output head", tokens, v, h, 1);
    let tv = (tokens * v) as u64;
    p.elementwise(
        OpClass::Loss,
        "cross-entropy forward",
        tv,
        fl::XENT_FWD,
        (1, 0),
        1,
    );
    p.elementwise(
        OpClass::Loss,
        "cross-entropy backward",
        tv,
        fl::XENT_BWD,
        (1, 1),
        1,
    );

    // AdamW reads weight, gradient and both moments, writes weight and both moments.
    p.elementwise(OpClass::Optimizer, "adamw", params, fl::ADAMW, (4, 3), 1);
    p
}

/// The training step of an MLP on `batch` samples.
pub fn mlp_step(m: &MlpShape, batch: usize) -> StepPlan {
    let params = mlp_params(m);
    let mut p = StepPlan {
        ops: Vec::new(),
        params,
        tokens: batch as u64,
    };
    p.dense_first("input layer", batch, m.d_hidden, m.d_in, 1);
    if m.hidden_layers > 1 {
        p.dense(
            "hidden layer",
            batch,
            m.d_hidden,
            m.d_hidden,
            m.hidden_layers as u64 - 1,
        );
    }
    p.dense("output layer", batch, m.classes, m.d_hidden, 1);
    let act = (batch * m.d_hidden) as u64;
    let hl = m.hidden_layers as u64;
    p.elementwise(
        OpClass::Activation,
        "gelu forward",
        act,
        fl::GELU_FWD,
        (1, 1),
        hl,
    );
    p.elementwise(
        OpClass::Activation,
        "gelu backward",
        act,
        fl::GELU_BWD,
        (2, 1),
        hl,
    );
    let logits = (batch * m.classes) as u64;
    p.elementwise(
        OpClass::Loss,
        "cross-entropy forward",
        logits,
        fl::XENT_FWD,
        (1, 0),
        1,
    );
    p.elementwise(
        OpClass::Loss,
        "cross-entropy backward",
        logits,
        fl::XENT_BWD,
        (1, 1),
        1,
    );
    p.elementwise(OpClass::Optimizer, "adamw", params, fl::ADAMW, (4, 3), 1);
    p
}

/// One pass over a product sweep in one precision: each shape's `batch` products once.
pub fn gemm_sweep_step(sweep: &GemmSweep, dtype: Dtype) -> StepPlan {
    let mut p = StepPlan {
        ops: Vec::new(),
        params: 0,
        tokens: 0,
    };
    for shape in &sweep.shapes {
        let (m, n, k) = (shape.m as u64, shape.n as u64, shape.k as u64);
        p.push(
            OpClass::Matmul,
            &gemm_label(shape),
            product(shape.m, shape.n, shape.k),
            dtype.bytes() * (m * k + k * n + m * n),
            shape.batch as u64,
        );
    }
    p
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
    match &w.kind {
        WorkloadKind::Gemm(sweep) => sweep
            .shapes
            .iter()
            .flat_map(|s| {
                sweep.dtypes.iter().map(move |d| {
                    let (m, n, k, b) = (s.m as u64, s.n as u64, s.k as u64, s.batch as u64);
                    d.bytes() * b * (m * k + k * n + m * n)
                })
            })
            .max()
            .unwrap_or(0),
        WorkloadKind::Mlp(m) => {
            let s = &m.slice;
            let b = m.slice_batch as u64;
            let widest = s.d_in.max(s.d_hidden).max(s.classes) as u64;
            let acts = b
                * (s.d_in as u64
                    + 2 * s.hidden_layers as u64 * s.d_hidden as u64
                    + 2 * s.classes as u64);
            F32 * (4 * mlp_params(s) + acts + 3 * b * widest)
        }
        WorkloadKind::Transformer(t) => transformer_memory_bytes(&t.slice, t.slice_batch),
    }
}

/// Memory of a transformer step on `batch` sequences (see [`slice_memory_bytes`]).
pub fn transformer_memory_bytes(t: &TransformerShape, batch: usize) -> u64 {
    let tokens = (batch * t.seq_len) as u64;
    let (h, f, v) = (t.d_model as u64, t.d_ff as u64, t.vocab as u64);
    let kvw = (t.kv_heads * t.head_dim()) as u64;
    let ffn_cols = match t.activation {
        Activation::Gelu => 2 * f,
        Activation::Swiglu => 3 * f,
    };
    let scores = (batch * t.heads) as u64 * (t.seq_len as u64).pow(2);
    // Kept per layer: input, two norm outputs, QKV, attention probabilities, context, the
    // mid-layer residual, FFN pre- and post-activation.
    let per_layer = tokens * (5 * h + 2 * kvw + ffn_cols) + scores;
    // Transient in backward: logits and their gradient, two score-sized buffers, and a few
    // token-by-widest gradient buffers.
    let widest = h.max(f).max(h + 2 * kvw) * 2;
    let transient = 2 * tokens * v + 2 * scores + 4 * tokens * widest;
    F32 * (4 * transformer_params(t) + t.layers as u64 * per_layer + transient)
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
    let one = transformer_step(&w.target, 1);
    let optimizer = one
        .by_class()
        .get(&OpClass::Optimizer)
        .map_or(0, |c| c.flops) as f64;
    let per_sequence = one.total_flops() as f64 - optimizer;
    let sequences = w.target_tokens as f64 / w.target.seq_len as f64;
    let steps = sequences / w.target_batch as f64;
    per_sequence * sequences + optimizer * steps
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
    /// products are PaLM's 12·l·h·s per token: the executed formula and the published
    /// conventions agree where they should.
    #[test]
    fn step_products_follow_6n_and_palm_conventions() {
        let shape = gpt(12, 768, 12, 1024);
        let batch = 2;
        let step = transformer_step(&shape, batch);
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
}
