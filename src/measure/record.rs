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
    /// Wall times of the first warm-up steps, seconds: at most [`WARMUP_KEPT`] (not in the
    /// statistics).
    pub warmup_s: Vec<f64>,
    /// How many warm-up steps ran (since 1.5; absent in older reports, whose `warmup_s` holds
    /// every one).
    #[serde(default)]
    pub warmup_count: Option<u64>,
    /// Total wall time of all warm-up steps, seconds (since 1.5).
    #[serde(default)]
    pub warmup_total_s: Option<f64>,
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
    /// Achieved GFLOP/s ÷ this machine's roofline at the class's arithmetic intensity. It moves
    /// between machines (the kernels and the probe do not speed up together), so across
    /// testbeds `compare` shows it and never gates on it (docs/ci.md). None without a probe.
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
    /// Wall times of the first warm-up runs, seconds: at most [`WARMUP_KEPT`].
    pub warmup_s: Vec<f64>,
    /// How many warm-up runs there were (since 1.5; absent in older reports, whose `warmup_s`
    /// holds every one).
    #[serde(default)]
    pub warmup_count: Option<u64>,
    /// Total wall time of all warm-up runs, seconds (since 1.5).
    #[serde(default)]
    pub warmup_total_s: Option<f64>,
    pub samples_s: Vec<f64>,
    pub time_s: Summary,
    pub stop: StopReason,
    pub gflops: Estimate,
    #[serde(default)]
    pub roofline_fraction: Option<Estimate>,
}

/// The warm-up of one unit of work as a report keeps it: the first [`WARMUP_KEPT`] times, and
/// the count and total of all of them, so a report's size does not grow with the number of
/// warm-up steps a fast unit runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Warmup {
    /// The first times, seconds.
    pub kept: Vec<f64>,
    /// Every warm-up run.
    pub count: u64,
    /// Their total, seconds.
    pub total_s: f64,
}

impl Warmup {
    /// Adds one warm-up run of `seconds`.
    pub fn push(&mut self, seconds: f64) {
        if self.kept.len() < WARMUP_KEPT {
            self.kept.push(seconds);
        }
        self.count += 1;
        self.total_s += seconds;
    }

    /// The first run's time, if any ran.
    pub fn first(&self) -> Option<f64> {
        self.kept.first().copied()
    }
}

impl StepMeasurement {
    /// Warm-up steps that ran: `warmup_count`, or for a report before 1.5 the length of
    /// `warmup_s`, which then held every one.
    pub fn warmup_steps(&self) -> u64 {
        self.warmup_count.unwrap_or(self.warmup_s.len() as u64)
    }

    /// Their total time, seconds (summed from `warmup_s` for a report before 1.5).
    pub fn warmup_seconds(&self) -> f64 {
        self.warmup_total_s
            .unwrap_or_else(|| self.warmup_s.iter().sum())
    }
}

impl SweepCaseMeasurement {
    /// Warm-up runs that there were (see [`StepMeasurement::warmup_steps`]).
    pub fn warmup_runs(&self) -> u64 {
        self.warmup_count.unwrap_or(self.warmup_s.len() as u64)
    }

    /// Their total time, seconds.
    pub fn warmup_seconds(&self) -> f64 {
        self.warmup_total_s
            .unwrap_or_else(|| self.warmup_s.iter().sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warm_up_keeps_the_first_times_and_counts_them_all() {
        let mut w = Warmup::default();
        for i in 0..(WARMUP_KEPT + 500) {
            w.push(if i == 0 { 2.0 } else { 0.001 });
        }
        assert_eq!(w.kept.len(), WARMUP_KEPT);
        assert_eq!(w.first(), Some(2.0));
        assert_eq!(w.count, (WARMUP_KEPT + 500) as u64);
        assert!((w.total_s - (2.0 + 0.001 * (WARMUP_KEPT + 499) as f64)).abs() < 1e-9);
    }
}
