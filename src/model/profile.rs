//! The work of training a target model, per sequence and per optimizer step, by op class: what
//! the cost model prices. Built from the same analytic plan whose executed counts the tests
//! check (`workload::plan`), evaluated for one sequence of the full-size target.

use crate::ops::OpClass;
use crate::workload::plan;
use crate::workload::{Activation, Norm, Positions, TransformerShape, TransformerWorkload};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A mixture-of-experts feed-forward block: every layer's FFN is `experts` experts of the
/// shape's `d_ff` width, each token routed to `top_k` of them (plus `shared_experts` that see
/// every token), as in Mixtral (Jiang et al. 2024, arXiv 2401.04088) and DeepSeekMoE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Moe {
    pub experts: usize,
    pub top_k: usize,
    #[serde(default)]
    pub shared_experts: usize,
}

impl Moe {
    /// Experts that process each token (routed plus shared).
    pub fn active(&self) -> usize {
        self.top_k + self.shared_experts
    }
}

/// FLOPs and minimum bytes of one op class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassLoad {
    pub class: OpClass,
    /// FLOPs per unit (per sequence, or per optimizer step for the optimizer).
    pub flops: f64,
    /// Minimum bytes moved per unit, at the precision the plan counts (f32).
    pub bytes: f64,
}

/// The training run of a transformer target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub shape: TransformerShape,
    /// Trainable parameters N.
    pub params: f64,
    /// Training tokens D.
    pub tokens: f64,
    /// Sequences per optimizer step.
    pub global_batch: f64,
    /// Forward + backward work of one sequence, by op class (optimizer excluded).
    pub per_sequence: Vec<ClassLoad>,
    /// The optimizer update, once per optimizer step.
    pub optimizer: ClassLoad,
    /// Model FLOPs per token by the PaLM convention, 6N + 12·l·h·s: the numerator of MFU
    /// (N = the parameters active for one token).
    pub model_flops_per_token: f64,
    /// The mixture-of-experts structure, if any: `params` then counts every expert (memory)
    /// and `active_params` those one token uses (compute).
    pub moe: Option<Moe>,
    /// Parameters one token's forward pass uses (= `params` for a dense model).
    pub active_params: f64,
}

impl Profile {
    pub fn from_transformer(w: &TransformerWorkload) -> Self {
        // The model-FLOPs convention (unfused attention over the full s² scores), not the count
        // of costbench's own CPU kernels: the cost model prices GPU kernels (`docs/flops.md`).
        let one = plan::transformer_model_step(&w.target, 1);
        let by = one.by_class();
        let mut per_sequence = Vec::new();
        let mut optimizer = ClassLoad {
            class: OpClass::Optimizer,
            flops: 0.0,
            bytes: 0.0,
        };
        for (&class, t) in &by {
            let load = ClassLoad {
                class,
                flops: t.flops as f64,
                bytes: t.bytes as f64,
            };
            if class == OpClass::Optimizer {
                optimizer = load;
            } else {
                per_sequence.push(load);
            }
        }
        let dense = Self {
            shape: w.target.clone(),
            params: plan::transformer_params(&w.target) as f64,
            tokens: w.target_tokens as f64,
            global_batch: w.target_batch as f64,
            per_sequence,
            optimizer,
            model_flops_per_token: plan::palm_flops_per_token(&w.target),
            moe: None,
            active_params: plan::transformer_params(&w.target) as f64,
        };
        match w.target_moe {
            Some(m) => dense.with_moe(Moe {
                experts: m.experts,
                top_k: m.top_k,
                shared_experts: m.shared_experts,
            }),
            None => dense,
        }
    }

    /// A profile of `shape` trained on `tokens` tokens in global batches of `batch` sequences.
    pub fn from_shape(shape: &TransformerShape, tokens: f64, batch: usize) -> Self {
        Self::from_transformer(&TransformerWorkload {
            target: shape.clone(),
            target_tokens: tokens as u64,
            target_batch: batch,
            slice: shape.clone(),
            slice_batch: 1,
            target_moe: None,
        })
    }

    /// This profile with a mixture-of-experts FFN: `moe.experts` copies of the FFN in memory,
    /// `moe.active()` of them in each token's compute, plus a router (h × experts per layer).
    /// The extra experts' work is charged to the product and activation classes, the extra
    /// parameters to the optimizer.
    pub fn with_moe(mut self, moe: Moe) -> Self {
        if self.moe.is_some() || moe.experts == 0 || moe.active() == 0 {
            return self;
        }
        let ffn = self.ffn_params_per_layer();
        let l = self.shape.layers as f64;
        let h = self.shape.d_model as f64;
        let s = self.shape.seq_len as f64;
        let router = h * moe.experts as f64;
        let dense = self.params;
        let extra_total = l * (ffn * (moe.experts + moe.shared_experts) as f64 - ffn + router);
        let extra_active = l * (ffn * moe.active() as f64 - ffn + router);
        self.params = dense + extra_total;
        self.active_params = dense + extra_active;
        let k = moe.active() as f64;
        for c in &mut self.per_sequence {
            match c.class {
                // Forward and backward of every extra expert a token visits and of the router,
                // and the extra experts' weight reads (f32 bytes, as the plan counts them).
                OpClass::Matmul => {
                    c.flops += 6.0 * s * extra_active;
                    c.bytes += 4.0 * 3.0 * extra_active;
                }
                OpClass::Activation => {
                    c.flops *= k;
                    c.bytes *= k;
                }
                _ => {}
            }
        }
        self.optimizer.flops *= self.params / dense;
        self.optimizer.bytes *= self.params / dense;
        self.model_flops_per_token = 6.0 * self.active_params + 12.0 * l * h * s;
        self.moe = Some(moe);
        self
    }

    /// Parameters of one layer's feed-forward block (one expert of a mixture).
    pub fn ffn_params_per_layer(&self) -> f64 {
        let (h, f) = (self.shape.d_model as f64, self.shape.d_ff as f64);
        match self.shape.activation {
            Activation::Gelu => 2.0 * h * f,
            Activation::Swiglu => 3.0 * h * f,
        }
    }

    /// Parameters of one layer outside its experts: attention, norms, the dense FFN of a dense
    /// model, and the shared experts and router of a mixture.
    pub fn layer_params_dense(&self) -> f64 {
        let t = &self.shape;
        let h = t.d_model as f64;
        let kvw = (t.kv_heads * t.head_dim()) as f64;
        let norm = match t.norm {
            Norm::Layernorm => 2.0 * h,
            Norm::Rmsnorm => h,
        };
        let attention = h * (h + 2.0 * kvw) + h * h + 2.0 * norm;
        match self.moe {
            None => attention + self.ffn_params_per_layer(),
            Some(m) => {
                attention
                    + self.ffn_params_per_layer() * m.shared_experts as f64
                    + h * m.experts as f64
            }
        }
    }

    /// Parameters of one layer's routed experts (0 for a dense model).
    pub fn layer_params_experts(&self) -> f64 {
        self.moe
            .map_or(0.0, |m| self.ffn_params_per_layer() * m.experts as f64)
    }

    /// Parameters of the token embedding (with learned positions).
    pub fn embedding_params(&self) -> f64 {
        let t = &self.shape;
        let pos = match t.positions {
            Positions::Learned => t.seq_len as f64,
            Positions::None => 0.0,
        };
        (t.vocab as f64 + pos) * t.d_model as f64
    }

    /// Parameters of the output head (0 when tied to the embedding; the last pipeline stage
    /// then holds a copy, as Megatron-LM does).
    pub fn head_params(&self) -> f64 {
        (self.shape.vocab * self.shape.d_model) as f64
    }

    /// Forward FLOPs per token of each dense product of one layer (input width, output width),
    /// for one expert of a mixture: the per-chip sizes that set product efficiency.
    pub fn layer_products(&self) -> [(f64, f64); 4] {
        let t = &self.shape;
        let h = t.d_model as f64;
        let kvw = (t.kv_heads * t.head_dim()) as f64;
        let f = t.d_ff as f64;
        let up = match t.activation {
            Activation::Gelu => f,
            Activation::Swiglu => 2.0 * f,
        };
        [(h, h + 2.0 * kvw), (h, h), (h, up), (f, h)]
    }

    /// FLOPs of the attention products of one sequence (all layers, forward and backward), as
    /// the model-convention plan counts them (full s² scores, `plan::transformer_model_step`).
    pub fn attention_flops(&self) -> f64 {
        self.per_sequence
            .iter()
            .filter(|c| c.class == OpClass::Attention)
            .map(|c| c.flops)
            .sum()
    }

    /// The fewest FLOPs any kernel can execute for the run: the plan's count less the masked
    /// half of the attention products that a causal FlashAttention kernel skips.
    pub fn min_executed_flops(&self) -> f64 {
        self.executed_flops() - 0.5 * self.attention_flops() * self.sequences()
    }

    /// Sequences in the whole run.
    pub fn sequences(&self) -> f64 {
        self.tokens / self.shape.seq_len as f64
    }

    /// Optimizer steps in the whole run.
    pub fn steps(&self) -> f64 {
        self.sequences() / self.global_batch
    }

    /// Model FLOPs of the whole run (PaLM convention).
    pub fn model_flops(&self) -> f64 {
        self.model_flops_per_token * self.tokens
    }

    /// Executed FLOPs of the whole run (every op class, optimizer once per step).
    pub fn executed_flops(&self) -> f64 {
        let per_seq: f64 = self.per_sequence.iter().map(|c| c.flops).sum();
        per_seq * self.sequences() + self.optimizer.flops * self.steps()
    }
}
