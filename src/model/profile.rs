//! The work of training a target model, per sequence and per optimizer step, by op class: what
//! the cost model prices. Built from the same analytic plan whose executed counts the tests
//! check (`workload::plan`), evaluated for one sequence of the full-size target.

use crate::ops::OpClass;
use crate::workload::plan;
use crate::workload::{TransformerShape, TransformerWorkload};
use serde::Serialize;

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
    /// Model FLOPs per token by the PaLM convention, 6N + 12·l·h·s: the numerator of MFU.
    pub model_flops_per_token: f64,
}

impl Profile {
    pub fn from_transformer(w: &TransformerWorkload) -> Self {
        let one = plan::transformer_step(&w.target, 1);
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
        Self {
            shape: w.target.clone(),
            params: plan::transformer_params(&w.target) as f64,
            tokens: w.target_tokens as f64,
            global_batch: w.target_batch as f64,
            per_sequence,
            optimizer,
            model_flops_per_token: plan::palm_flops_per_token(&w.target),
        }
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
