//! The validated, in-memory form of a workload file (`workloads/*.toml`).
//!
//! A workload names a **target** (the full-size model and the tokens to train it on: what the
//! cost is for) and a **measured slice** (what is actually run on this CPU: the same layer widths
//! by default, fewer layers, a smaller batch or sequence). Parsing and validation live in
//! `parse.rs`; these types are only ever built from input that passed validation, so the rest
//! of the crate can rely on every size being positive and every divisibility rule holding.

pub use crate::ops::{Activation, Dtype, Norm, Positions};
use serde::Serialize;

/// A parsed and validated workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// Short identifier, e.g. `gpt2-124m` (used in report file names).
    pub name: String,
    /// One-line human description.
    pub description: String,
    /// What is trained (target) and what is run here (slice).
    pub kind: WorkloadKind,
}

/// The three workload kinds of the design card.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum WorkloadKind {
    /// A sweep of matrix products: the calibration workload.
    Gemm(GemmSweep),
    /// A multi-layer perceptron training step.
    Mlp(MlpWorkload),
    /// A decoder-only transformer training step.
    Transformer(TransformerWorkload),
}

/// One product shape: `batch` independent products of (m × k) · (k × n).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GemmShape {
    /// Rows of the left operand and of the result.
    pub m: usize,
    /// Columns of the right operand and of the result.
    pub n: usize,
    /// The contracted dimension.
    pub k: usize,
    /// Independent products of this shape run together (1 = a single product).
    pub batch: usize,
    /// Optional name, e.g. `gpt2 attn qkv`.
    pub label: Option<String>,
}

/// A `gemm` workload: the product shapes to characterise, in the precisions to run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GemmSweep {
    /// Products to run, in file order.
    pub shapes: Vec<GemmShape>,
    /// Precisions to run each shape in (at least one).
    pub dtypes: Vec<Dtype>,
}

/// Architecture of a decoder-only transformer, independent of how much of it is run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransformerShape {
    /// Transformer blocks.
    pub layers: usize,
    /// Hidden size h.
    pub d_model: usize,
    /// Attention (query) heads a; divides d_model.
    pub heads: usize,
    /// Key/value heads for grouped-query attention; divides heads (= heads for multi-head).
    pub kv_heads: usize,
    /// Feed-forward inner width f.
    pub d_ff: usize,
    /// Vocabulary size V.
    pub vocab: usize,
    /// Sequence length s (tokens per sequence).
    pub seq_len: usize,
    pub norm: Norm,
    pub activation: Activation,
    pub positions: Positions,
    /// The output projection is the transpose of the token embedding (counted once).
    pub tied_embeddings: bool,
}

impl TransformerShape {
    /// Width of one attention head, d_model / heads.
    pub fn head_dim(&self) -> usize {
        self.d_model / self.heads
    }
}

/// A `transformer` workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransformerWorkload {
    /// The full-size model the cost is for.
    pub target: TransformerShape,
    /// Training tokens of the full run.
    pub target_tokens: u64,
    /// Sequences per optimizer step (global batch) of the full run.
    pub target_batch: usize,
    /// The architecture actually run here: the target's widths unless overridden, fewer layers,
    /// a shorter sequence.
    pub slice: TransformerShape,
    /// Sequences per measured step (micro-batch).
    pub slice_batch: usize,
    /// A mixture-of-experts feed-forward block of the target (`[target] experts`, `top_k`,
    /// `shared_experts`); the measured slice runs one expert's dense FFN.
    pub target_moe: Option<MoeSpec>,
}

/// Mixture-of-experts structure of a transformer target: every layer's FFN is `experts`
/// experts of width `d_ff`, each token routed to `top_k` of them, plus `shared_experts` every
/// token visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MoeSpec {
    pub experts: usize,
    pub top_k: usize,
    pub shared_experts: usize,
}

/// Architecture of a multi-layer perceptron classifier:
/// `d_in → d_hidden (× hidden_layers, GELU) → classes`, cross-entropy loss.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MlpShape {
    /// Input features.
    pub d_in: usize,
    /// Width of each hidden layer.
    pub d_hidden: usize,
    /// Hidden layers (each a product followed by GELU).
    pub hidden_layers: usize,
    /// Output classes.
    pub classes: usize,
}

/// An `mlp` workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MlpWorkload {
    pub target: MlpShape,
    /// Training samples of the full run (the MLP's analogue of tokens).
    pub target_samples: u64,
    /// Samples per optimizer step of the full run.
    pub target_batch: usize,
    pub slice: MlpShape,
    /// Samples per measured step.
    pub slice_batch: usize,
}

impl Workload {
    /// The same workload with its target trained on `tokens` tokens (samples for an MLP; a
    /// sweep has no target and is returned unchanged): `estimate --tokens`.
    pub fn with_target_tokens(mut self, tokens: u64) -> Self {
        match &mut self.kind {
            WorkloadKind::Transformer(t) => t.target_tokens = tokens,
            WorkloadKind::Mlp(m) => m.target_samples = tokens,
            WorkloadKind::Gemm(_) => {}
        }
        self
    }
}
