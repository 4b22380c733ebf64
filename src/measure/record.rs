//! What a measured run produces: the samples of a training step (or of each product of a
//! sweep), their statistics, the executed-against-analytic FLOP accounting and each op class on
//! this machine's roofline. The report stores these types as they are (`report::schema`
//! re-exports them), so their serialised form is part of the report schema.

use crate::measure::sampler::StopReason;
use crate::ops::OpClass;
use crate::stats::{Estimate, Summary};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// At most this many warm-up step times are kept per sampled case (the first ones; the count
/// and total of all warm-up steps are kept beside them), so a report's size is bounded by the
/// sampling settings whatever the speed of the step: `max_samples + WARMUP_KEPT` times per case.
pub const WARMUP_KEPT: usize = 1_000;

/// What was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Measurement {
    /// A training step (transformer or MLP).
    Step(Box<StepMeasurement>),
    /// A product sweep: each product sampled on its own.
    Sweep(SweepMeasurement),
}

/// A sampled training step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StepMeasurement {
    /// Wall times of the warm-up steps, seconds (not in the statistics).
    pub warmup_s: Vec<f64>,
    /// Wall time of every sampled step, seconds.
    pub samples_s: Vec<f64>,
    /// Training loss of every sampled step (before its update).
    pub losses: Vec<f32>,
    /// Statistics of `samples_s`, seconds.
    pub step_time_s: Summary,
    pub stop: StopReason,
    /// Whole-step throughput, GFLOP/s: executed FLOPs per step ÷ the step-time estimate (the
    /// interval follows from the step time's).
    pub gflops: Estimate,
    pub flops: FlopAccounting,
    pub op_classes: Vec<OpClassMeasurement>,
}

/// Executed against analytic FLOPs, and the target's training FLOPs by three conventions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FlopAccounting {
    /// FLOPs one step executed, counted by the kernels.
    pub executed_per_step: u64,
    /// FLOPs of one step by the analytic formula (`docs/flops.md`).
    pub analytic_per_step: u64,
    /// (executed − analytic) / analytic.
    pub relative_difference: f64,
    /// Parameters of the slice run here.
    pub slice_params: u64,
    /// Parameters of the target.
    pub target_params: u64,
    /// Tokens (samples for an MLP) of the full training run.
    pub target_tokens: u64,
    /// Training FLOPs of the target by costbench's executed-op formula (transformers only).
    #[serde(default)]
    pub target_training_flops: Option<f64>,
    /// 6·N·D (Kaplan et al. 2020).
    pub target_six_nd: f64,
    /// 6N + 12·l·h·s per token (PaLM, Chowdhery et al. 2022) (transformers only).
    #[serde(default)]
    pub target_palm_flops: Option<f64>,
}

/// One op class of a sampled step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OpClassMeasurement {
    pub class: OpClass,
    /// FLOPs per step.
    pub flops: u64,
    /// Minimum bytes moved per step.
    pub bytes: u64,
    /// Kernel calls per step.
    pub calls: u64,
    /// FLOPs per byte.
    pub arithmetic_intensity: f64,
    /// This class's time in every sampled step, seconds.
    pub samples_s: Vec<f64>,
    /// Statistics of `samples_s`, seconds.
    pub time_s: Summary,
    /// GFLOP/s from the median time.
    pub gflops: Estimate,
    /// Achieved GFLOP/s ÷ this machine's roofline at the class's arithmetic intensity
    /// (machine-independent: what CI compares across machines). None without a probe.
    #[serde(default)]
    pub roofline_fraction: Option<Estimate>,
}

/// A sampled product sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SweepMeasurement {
    pub cases: Vec<SweepCaseMeasurement>,
}

/// One product shape in one precision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SweepCaseMeasurement {
    /// e.g. `gpt2 qkv (1024×2304×768) f32`.
    pub label: String,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub batch: usize,
    /// `f32` or `f64`.
    pub dtype: String,
    /// FLOPs of one run (all its batch).
    pub flops: u64,
    /// Minimum bytes of one run.
    pub bytes: u64,
    pub warmup_s: Vec<f64>,
    pub samples_s: Vec<f64>,
    pub time_s: Summary,
    pub stop: StopReason,
    pub gflops: Estimate,
    #[serde(default)]
    pub roofline_fraction: Option<Estimate>,
}
