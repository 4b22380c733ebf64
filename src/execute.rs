//! Running a workload's measured slice: build it once, run a warm-up step, then time a handful
//! of steps, keeping every sample and every step's per-op-class tally. No statistics beyond
//! median, minimum and maximum of the samples: confidence intervals belong to the measurement
//! harness, not here.

use crate::kernels::{OpClass, Tally};
use crate::train::{GemmRunner, MlpTrainer, TrainingStep, TransformerTrainer};
use crate::workload::plan::{self, StepPlan};
use crate::workload::{Workload, WorkloadKind};
use std::time::Instant;

/// One timed step.
#[derive(Debug, Clone)]
pub struct StepSample {
    /// Wall time of the whole step, seconds.
    pub seconds: f64,
    /// Training loss of the step (before its update); `None` for a product sweep.
    pub loss: Option<f32>,
    /// Executed work of the step per op class.
    pub tally: Tally,
}

/// A product-sweep case's samples.
#[derive(Debug, Clone)]
pub struct CaseSamples {
    pub label: String,
    /// FLOPs of one run of the case.
    pub flops: u64,
    /// Wall time of each timed run, seconds.
    pub seconds: Vec<f64>,
}

/// What running a workload produced.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A training step (transformer or MLP).
    Steps {
        plan: StepPlan,
        /// Wall time of the untimed warm-up step, seconds.
        warmup_seconds: f64,
        samples: Vec<StepSample>,
    },
    /// A product sweep: every case timed on its own.
    Sweep { cases: Vec<CaseSamples> },
}

/// Builds the slice of `w` (allocating its memory), runs one warm-up step and `steps` timed
/// steps. `seed` fixes the initial weights and the synthetic data.
pub fn run(w: &Workload, steps: usize, seed: u64) -> Outcome {
    let steps = steps.max(1);
    let (mut slice, plan): (Box<dyn TrainingStep>, _) = match &w.kind {
        WorkloadKind::Transformer(t) => (
            Box::new(TransformerTrainer::new(&t.slice, t.slice_batch, seed)),
            plan::transformer_step(&t.slice, t.slice_batch),
        ),
        WorkloadKind::Mlp(m) => (
            Box::new(MlpTrainer::new(&m.slice, m.slice_batch, seed)),
            plan::mlp_step(&m.slice, m.slice_batch),
        ),
        WorkloadKind::Gemm(sweep) => return run_sweep(sweep, steps),
    };
    // Drawing synthetic data is not part of a training step: it happens before each timer
    // starts.
    slice.next_batch();
    let start = Instant::now();
    slice.step(&mut Tally::new());
    let warmup_seconds = start.elapsed().as_secs_f64();
    let samples = (0..steps)
        .map(|_| {
            slice.next_batch();
            let mut tally = Tally::new();
            let start = Instant::now();
            let loss = slice.step(&mut tally);
            StepSample {
                seconds: start.elapsed().as_secs_f64(),
                loss: Some(loss),
                tally,
            }
        })
        .collect();
    Outcome::Steps {
        plan,
        warmup_seconds,
        samples,
    }
}

fn run_sweep(sweep: &crate::workload::GemmSweep, runs: usize) -> Outcome {
    let mut runner = GemmRunner::new(sweep);
    let cases = runner
        .cases
        .iter_mut()
        .map(|case| {
            let mut tally = Tally::new();
            case.run(&mut tally);
            let seconds = (0..runs).map(|_| case.run(&mut tally)).collect();
            CaseSamples {
                label: case.label.clone(),
                flops: case.flops(),
                seconds,
            }
        })
        .collect();
    Outcome::Sweep { cases }
}

impl Outcome {
    /// Relative difference of executed (tallied) and analytic (planned) FLOPs of a step;
    /// `None` for a product sweep.
    pub fn accounting_difference(&self) -> Option<f64> {
        match self {
            Outcome::Steps { plan, samples, .. } => {
                let analytic = plan.total_flops() as f64;
                let worst = samples
                    .iter()
                    .map(|s| ((s.tally.total_flops() as f64 - analytic) / analytic).abs())
                    .fold(0.0, f64::max);
                Some(worst)
            }
            Outcome::Sweep { .. } => None,
        }
    }
}

/// Largest relative difference between executed and analytic FLOPs that a run accepts.
pub const ACCOUNTING_TOLERANCE: f64 = 0.005;

/// Median of `xs` (mean of the middle two for an even count).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Per-class median over samples of (seconds, FLOPs) — FLOPs are the same every step.
pub fn class_medians(samples: &[StepSample]) -> Vec<(OpClass, u64, f64)> {
    OpClass::ALL
        .iter()
        .map(|&c| {
            let secs: Vec<f64> = samples
                .iter()
                .map(|s| s.tally.class(c).nanos as f64 * 1e-9)
                .collect();
            let flops = samples.first().map_or(0, |s| s.tally.class(c).flops);
            (c, flops, median(&secs))
        })
        .filter(|&(_, flops, secs)| flops > 0 || secs > 0.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
