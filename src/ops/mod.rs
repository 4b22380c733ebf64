//! The shared vocabulary of the whole crate: the classes of work a training step is made of
//! ([`OpClass`]), the architectural choices a workload names ([`Norm`], [`Activation`],
//! [`Positions`], [`Dtype`]) and the FLOP conventions ([`flops`]). It depends on nothing else in
//! the crate, so every other module (kernels, workload plans, the cost model, reports) can speak
//! it without depending on each other.

pub mod flops;

use serde::{Deserialize, Serialize};

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

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Floating-point precision of a product sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    F32,
    F64,
}

impl Dtype {
    /// Bytes per element.
    pub fn bytes(self) -> u64 {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }
}

/// Activation function of a feed-forward block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// GELU, tanh approximation (GPT-2); FFN = W2 · gelu(W1 · x).
    Gelu,
    /// SwiGLU (Llama); FFN = W2 · (silu(Wg · x) ⊙ (Wu · x)): three matrices.
    Swiglu,
}

/// Normalisation layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// LayerNorm with gain and bias (GPT-2).
    Layernorm,
    /// RMSNorm with gain only (Llama).
    Rmsnorm,
}

/// Position encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Positions {
    /// A learned (seq_len × d_model) table added to the token embeddings (GPT-2, GPT-3).
    Learned,
    /// No position parameters. Llama's rotary embeddings are not executed by costbench; they
    /// have no parameters and cost about 3 FLOPs per q/k element, under 0.1% of a step.
    None,
}
