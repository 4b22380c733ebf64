//! Measuring a workload's slice: build it once (allocating its memory), then hand its training
//! step — or each product of a sweep — to the sampling harness, and turn the samples into the
//! report's measurement, with the FLOP accounting and each op class placed on this machine's
//! roofline.

use crate::kernels::Tally;
use crate::measure::interrupt::{self, Interrupted};
use crate::measure::probe::Roofline;
use crate::measure::record::{
    FlopAccounting, Measurement, OpClassMeasurement, StepMeasurement, SweepCaseMeasurement,
    SweepMeasurement, Warmup,
};
use crate::measure::sampler::{
    self, Bounds, Progress, Run, SampleSet, SamplingSettings, StopReason,
};
use crate::measure::scaling::{ScalingCheck, ScalingPoint};
use crate::ops::OpClass;
use crate::stats::{self, Estimate};
use crate::train::{GemmRunner, MlpTrainer, TrainingStep, TransformerTrainer};
use crate::workload::plan::{self, StepPlan};
use crate::workload::{TransformerShape, Workload, WorkloadKind};
use std::time::{Duration, Instant};

/// Largest relative difference between executed and analytic FLOPs that a run accepts.
pub const ACCOUNTING_TOLERANCE: f64 = 0.005;

/// How to choose the sampling settings of each unit of work.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SamplingChoice {
    /// `--quick`: [`SamplingSettings::quick`] (0.5 s warm-up, ±3%, a 5 s sampling budget that
    /// waits for at least 5 samples).
    pub quick: bool,
    /// `--min-samples`.
    pub min_samples: Option<usize>,
    /// `--max-time` in seconds: the bound on the whole measurement of a workload, every warm-up
    /// and every sample of every product (`docs/measurement.md`, "Time bounds").
    pub max_time_s: Option<f64>,
    /// `--warmup` in seconds.
    pub warmup_s: Option<f64>,
    /// `--target` relative half-width (0.01 = ±1%).
    pub target: Option<f64>,
    pub seed: u64,
}

impl SamplingChoice {
    /// Settings for a unit whose first run took `first_s`, when `units` share the budget.
    pub fn settings(&self, first_s: f64, units: usize) -> SamplingSettings {
        let mut s = if self.quick {
            SamplingSettings::quick(self.seed)
        } else {
            SamplingSettings::default_for(first_s, self.seed)
        };
        if let Some(t) = self.max_time_s {
            s.max_time_s = t;
        }
        s.max_time_s /= units.max(1) as f64;
        if let Some(n) = self.min_samples {
            s.min_samples = n;
        }
        if let Some(w) = self.warmup_s {
            s.warmup_s = w;
        }
        if let Some(t) = self.target {
            s.target_rel_half_width = t;
        }
        s.max_total_s = self.max_time_s;
        s
    }

    /// When a measurement that starts at `start` must end: `--max-time` later, or never.
    pub fn deadline(&self, start: Instant) -> Option<Instant> {
        self.max_time_s
            .map(|t| start + Duration::from_secs_f64(t.clamp(0.0, 1e9)))
    }

    /// The settings and bounds of a unit of work that started at `start` (its first run, which
    /// took `first_s`, included), when `left` of the measurement's `units` (this one included)
    /// remain. Without a deadline: warm up for `warmup_s`, then sample for the budget's share
    /// (the rule without `--max-time`). With one: an equal share of the time left to the deadline, of
    /// which the warm-up takes at most half (and at most `warmup_s`) and sampling the rest.
    pub fn plan(
        &self,
        first_s: f64,
        units: usize,
        left: usize,
        start: Instant,
        deadline: Option<Instant>,
    ) -> (SamplingSettings, Bounds) {
        let mut s = self.settings(first_s, units);
        let Some(deadline) = deadline else {
            let bounds = Bounds::from_settings(&s, start);
            return (s, bounds);
        };
        let share = deadline.saturating_duration_since(start).as_secs_f64() / left.max(1) as f64;
        s.warmup_s = s.warmup_s.min(share / 2.0);
        s.max_time_s = share - s.warmup_s;
        let bounds = Bounds {
            warmup_end: start + Duration::from_secs_f64(s.warmup_s),
            sampling_s: s.max_time_s,
            deadline: Some(deadline),
        };
        (s, bounds)
    }
}

/// Whether `deadline` has passed.
fn past(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

/// `--max-time` ran out before a unit had two samples, the fewest an interval needs.
fn too_few_samples(what: &str, choice: &SamplingChoice, warmup: &Warmup) -> anyhow::Error {
    anyhow::anyhow!(
        "{what}: --max-time {} s ran out before two samples were taken ({} warm-up runs, the \
         first {} s); raise --max-time",
        choice.max_time_s.unwrap_or(f64::NAN),
        warmup.count,
        warmup
            .first()
            .map_or("?".to_string(), |t| format!("{t:.3}"))
    )
}

/// What measuring one workload produced.
#[derive(Debug, Clone)]
pub struct Measured {
    pub measurement: Measurement,
    /// The settings used (for a sweep: those of its first product; the budget is per product).
    pub settings: SamplingSettings,
    pub warnings: Vec<String>,
}

/// A step executed other FLOPs than its plan lists: the measurement does not stand for the
/// target, so nothing is built from it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{workload}: executed FLOPs differ from the analytic formula by {:.3}% (limit {:.1}%): the step does not run the ops its plan lists; no report written; please report this",
    difference * 100.0,
    ACCOUNTING_TOLERANCE * 100.0
)]
pub struct AccountingMismatch {
    pub workload: String,
    /// (executed − analytic) / analytic.
    pub difference: f64,
}

/// Measures `w` and checks its FLOP accounting: executed FLOPs per step must equal the
/// analytic plan's within [`ACCOUNTING_TOLERANCE`] before anything is built from the
/// measurement. `progress(label, event)` is called as the harness works.
///
/// # Errors
/// [`Interrupted`] once Ctrl-C or SIGTERM came (checked before every unit of work);
/// [`AccountingMismatch`]; `--max-time` spent before a step, or every product, had two samples.
pub fn measure(
    w: &Workload,
    choice: &SamplingChoice,
    roofline: Option<&Roofline>,
    progress: impl FnMut(&str, Progress),
) -> anyhow::Result<Measured> {
    let measured = measure_unchecked(w, choice, roofline, progress)?;
    if let Measurement::Step(m) = &measured.measurement
        && m.flops.relative_difference.abs() > ACCOUNTING_TOLERANCE
    {
        return Err(AccountingMismatch {
            workload: w.name.clone(),
            difference: m.flops.relative_difference,
        }
        .into());
    }
    Ok(measured)
}

fn measure_unchecked(
    w: &Workload,
    choice: &SamplingChoice,
    roofline: Option<&Roofline>,
    mut progress: impl FnMut(&str, Progress),
) -> anyhow::Result<Measured> {
    let (mut slice, plan): (Box<dyn TrainingStep>, StepPlan) = match &w.kind {
        WorkloadKind::Transformer(t) => (
            Box::new(TransformerTrainer::new(
                &t.slice,
                t.slice_batch,
                choice.seed,
            )),
            plan::transformer_step(&t.slice, t.slice_batch),
        ),
        WorkloadKind::Mlp(m) => (
            Box::new(MlpTrainer::new(&m.slice, m.slice_batch, choice.seed)),
            plan::mlp_step(&m.slice, m.slice_batch),
        ),
        WorkloadKind::Gemm(sweep) => {
            return measure_sweep(&w.name, sweep, choice, roofline, progress);
        }
    };
    // The first two steps decide the default budget (the first alone is slowed by page faults
    // of fresh buffers); both are part of the warm-up, and of the --max-time bound.
    let start = Instant::now();
    let deadline = choice.deadline(start);
    let mut warmup = Warmup::default();
    for _ in 0..2 {
        interrupt::check()?;
        if warmup.count > 0 && past(deadline) {
            break;
        }
        slice.next_batch();
        let seconds = time_step(slice.as_mut()).seconds;
        // A step during which the signal came is discarded.
        interrupt::check()?;
        warmup.push(seconds);
    }
    let fastest = warmup.kept.iter().copied().fold(f64::INFINITY, f64::min);
    let (settings, bounds) = choice.plan(fastest, 1, 1, start, deadline);
    let set = sampler::sample(
        &settings,
        &bounds,
        warmup,
        || {
            slice.next_batch();
            time_step(slice.as_mut())
        },
        |p| progress(&w.name, p),
    );
    if set.stop == StopReason::Interrupted {
        return Err(Interrupted::now().into());
    }
    if set.runs.len() < 2 {
        return Err(too_few_samples(&w.name, choice, &set.warmup));
    }
    let mut warnings = set.warnings(&settings, &w.name);
    warnings.extend(planted_warning());
    let step = step_measurement(w, &plan, &set, &settings, roofline);
    Ok(Measured {
        measurement: Measurement::Step(Box::new(step)),
        settings,
        warnings,
    })
}

fn time_step(slice: &mut dyn TrainingStep) -> Run {
    let mut tally = Tally::new();
    let start = Instant::now();
    let loss = slice.step(&mut tally);
    if let Some(fraction) = planted_slowdown() {
        // Test-only: lengthen the timed step by `fraction` of itself, spinning (a real
        // slowdown of the work, not an edit of the figure).
        let until = start + start.elapsed().mul_f64(1.0 + fraction);
        while Instant::now() < until {
            std::hint::spin_loop();
        }
    }
    Run {
        seconds: start.elapsed().as_secs_f64(),
        tally: Some(tally),
        loss: Some(loss),
    }
}

/// The environment variable of the planted slowdown (test-only; `docs/ci.md`).
pub const PLANTED_SLOWDOWN_VAR: &str = "COSTBENCH_TEST_PLANTED_SLOWDOWN";

/// A slowdown planted in every timed training step, as a fraction: `COSTBENCH_TEST_PLANTED_SLOWDOWN`
/// given in percent (e.g. `5` for 5%), above 0 and at most 1000. Test-only: it exists to measure what
/// `costbench ab` detects (`docs/ci.md`), is off unless the variable is set, and a report
/// measured with it says so in its warnings. Any other value is ignored with a warning.
pub fn planted_slowdown() -> Option<f64> {
    static PLANTED: std::sync::OnceLock<Option<f64>> = std::sync::OnceLock::new();
    *PLANTED.get_or_init(|| {
        parse_planted(std::env::var_os(PLANTED_SLOWDOWN_VAR)?.to_str().unwrap_or("?"))
    })
}

fn parse_planted(text: &str) -> Option<f64> {
    match text.trim().parse::<f64>() {
        Ok(p) if p.is_finite() && p > 0.0 && p <= 1000.0 => Some(p / 100.0),
        _ => None,
    }
}

/// The warning a report measured with a planted slowdown carries.
fn planted_warning() -> Option<String> {
    let value = std::env::var_os(PLANTED_SLOWDOWN_VAR)?;
    Some(match planted_slowdown() {
        Some(f) => format!(
            "a planted slowdown of {}% was active ({PLANTED_SLOWDOWN_VAR}, test-only): every timed step was lengthened on purpose",
            f * 100.0
        ),
        None => format!(
            "{PLANTED_SLOWDOWN_VAR}='{}' ignored: expected a percentage in (0, 1000]",
            crate::diag::show::short(&value.to_string_lossy())
        ),
    })
}

/// GFLOP/s from a time estimate in seconds: the interval bounds swap (a longer time is a lower
/// rate).
pub fn rate_gflops(flops: u64, time_s: &Estimate) -> Estimate {
    let g = flops as f64 / 1e9;
    let rate = |t: f64| if t > 0.0 { g / t } else { f64::NAN };
    let point = rate(time_s.point);
    Estimate {
        point,
        lower: rate(time_s.upper),
        upper: rate(time_s.lower),
        confidence_level: time_s.confidence_level,
        // First-order propagation: se(g/t) ≈ g·se(t)/t².
        standard_error: if time_s.point > 0.0 {
            g * time_s.standard_error / (time_s.point * time_s.point)
        } else {
            f64::NAN
        },
    }
}

/// `rate` as a fraction of the roofline at `intensity`: the f32 roofline, or with `f64` the
/// f64 peak under the same bandwidth.
pub(crate) fn roofline_fraction(
    roofline: Option<&Roofline>,
    rate: &Estimate,
    intensity: f64,
    f64_peak: bool,
) -> Option<Estimate> {
    let r = roofline?;
    let attainable = if f64_peak {
        r.f64_gflops_all_threads
            .median
            .min(r.triad_gbps_all_threads.median * intensity)
    } else {
        r.attainable_gflops(intensity)
    };
    (attainable > 0.0).then(|| Estimate {
        point: rate.point / attainable,
        lower: rate.lower / attainable,
        upper: rate.upper / attainable,
        confidence_level: rate.confidence_level,
        standard_error: rate.standard_error / attainable,
    })
}

fn step_measurement(
    w: &Workload,
    plan: &StepPlan,
    set: &SampleSet,
    settings: &SamplingSettings,
    roofline: Option<&Roofline>,
) -> StepMeasurement {
    let tallies: Vec<&Tally> = set.runs.iter().filter_map(|r| r.tally.as_ref()).collect();
    let executed = tallies.first().map_or(0, |t| t.total_flops());
    let analytic = plan.total_flops();
    let op_classes = OpClass::ALL
        .iter()
        .filter_map(|&class| {
            let first = tallies.first()?.class(class);
            if first.calls == 0 {
                return None;
            }
            let samples_s: Vec<f64> = tallies
                .iter()
                .map(|t| t.class(class).nanos as f64 * 1e-9)
                .collect();
            let time_s = stats::summarize(
                &samples_s,
                settings.confidence_level,
                settings.resamples,
                settings.seed,
            );
            let gflops = rate_gflops(first.flops, &time_s.median);
            let intensity = first.flops as f64 / first.bytes.max(1) as f64;
            Some(OpClassMeasurement {
                class,
                flops: first.flops,
                bytes: first.bytes,
                calls: first.calls,
                arithmetic_intensity: intensity,
                roofline_fraction: roofline_fraction(roofline, &gflops, intensity, false),
                samples_s,
                time_s,
                gflops,
            })
        })
        .collect();
    StepMeasurement {
        warmup_s: set.warmup.kept.clone(),
        warmup_count: Some(set.warmup.count),
        warmup_total_s: Some(set.warmup.total_s),
        samples_s: set.times(),
        losses: set.runs.iter().filter_map(|r| r.loss).collect(),
        gflops: rate_gflops(executed, &set.summary.median),
        step_time_s: set.summary.clone(),
        stop: set.stop,
        flops: accounting(w, plan, executed, analytic),
        op_classes,
    }
}

fn accounting(w: &Workload, plan: &StepPlan, executed: u64, analytic: u64) -> FlopAccounting {
    // (target parameters, target tokens, executed-op training FLOPs, PaLM FLOPs)
    let (n, tokens, training, palm) = match &w.kind {
        WorkloadKind::Transformer(t) => (
            plan::transformer_params(&t.target),
            t.target_tokens,
            Some(plan::target_training_flops(t)),
            Some(plan::palm_flops_per_token(&t.target) * t.target_tokens as f64),
        ),
        WorkloadKind::Mlp(m) => (plan::mlp_params(&m.target), m.target_samples, None, None),
        WorkloadKind::Gemm(_) => unreachable!("sweeps have no step accounting"),
    };
    FlopAccounting {
        executed_per_step: executed,
        analytic_per_step: analytic,
        relative_difference: (executed as f64 - analytic as f64) / analytic.max(1) as f64,
        slice_params: plan.params,
        target_params: n,
        target_tokens: tokens,
        target_training_flops: training,
        target_six_nd: plan::six_nd(n, tokens),
        target_palm_flops: palm,
    }
}

/// Samples each product of a sweep on its own. With `--max-time`, the products share the time
/// left (each an equal share of what remains when it starts); a product that could not be
/// sampled twice before the deadline is left out of the report, with a warning naming it.
fn measure_sweep(
    name: &str,
    sweep: &crate::workload::GemmSweep,
    choice: &SamplingChoice,
    roofline: Option<&Roofline>,
    mut progress: impl FnMut(&str, Progress),
) -> anyhow::Result<Measured> {
    let mut runner = GemmRunner::new(sweep);
    let units = runner.cases.len();
    let start = Instant::now();
    let deadline = choice.deadline(start);
    let mut warnings = Vec::new();
    let mut first_settings = None;
    let mut cases = Vec::new();
    let mut left_out = Vec::new();
    for (i, case) in runner.cases.iter_mut().enumerate() {
        // After an interrupt the remaining products are skipped (the run writes nothing).
        interrupt::check()?;
        if past(deadline) {
            left_out.push(case.label.clone());
            continue;
        }
        let case_start = Instant::now();
        let mut tally = Tally::new();
        let first = case.run(&mut tally);
        interrupt::check()?;
        let mut warmup = Warmup::default();
        warmup.push(first);
        let (settings, bounds) = choice.plan(first, units, units - i, case_start, deadline);
        let label = case.label.clone();
        let set = sampler::sample(
            &settings,
            &bounds,
            warmup,
            || Run {
                seconds: case.run(&mut tally),
                tally: None,
                loss: None,
            },
            |p| progress(&label, p),
        );
        if set.stop == StopReason::Interrupted {
            return Err(Interrupted::now().into());
        }
        if set.runs.len() < 2 {
            left_out.push(label);
            continue;
        }
        warnings.extend(set.warnings(&settings, &label));
        let s = &case.shape;
        let bytes =
            s.batch as u64 * crate::kernels::gemm::product_bytes(s.m, s.n, s.k, case.dtype.bytes());
        let gflops = rate_gflops(case.flops(), &set.summary.median);
        let intensity = case.flops() as f64 / bytes as f64;
        first_settings.get_or_insert(settings);
        cases.push(SweepCaseMeasurement {
            label,
            m: s.m,
            n: s.n,
            k: s.k,
            batch: s.batch,
            dtype: case.dtype.name().to_string(),
            flops: case.flops(),
            bytes,
            warmup_s: set.warmup.kept.clone(),
            warmup_count: Some(set.warmup.count),
            warmup_total_s: Some(set.warmup.total_s),
            samples_s: set.times(),
            time_s: set.summary.clone(),
            stop: set.stop,
            roofline_fraction: roofline_fraction(
                roofline,
                &gflops,
                intensity,
                case.dtype == crate::workload::Dtype::F64,
            ),
            gflops,
        });
    }
    if !left_out.is_empty() {
        let budget = choice.max_time_s.unwrap_or(f64::NAN);
        anyhow::ensure!(
            !cases.is_empty(),
            "{name}: --max-time {budget} s ran out before any product was sampled twice; raise --max-time"
        );
        warnings.push(format!(
            "{name}: --max-time {budget} s ran out before {} of the {units} products were sampled \
             twice; they are left out of this report ({}): raise --max-time to measure them",
            left_out.len(),
            some_of(&left_out)
        ));
    }
    Ok(Measured {
        measurement: Measurement::Sweep(SweepMeasurement { cases }),
        settings: first_settings.unwrap_or_else(|| choice.settings(1.0, 1)),
        warnings,
    })
}

/// The first three of `names`, and how many more.
fn some_of(names: &[String]) -> String {
    let mut text = names[..names.len().min(3)].join(", ");
    if names.len() > 3 {
        text.push_str(&format!(" and {} more", names.len() - 3));
    }
    text
}

/// Measures a transformer workload's slice at three or four sizes — 1 to 4 layers, or, when the
/// target has fewer than three layers, 1 to 3 sequences per step — and fits time = a + b·FLOPs.
/// Refuses (before allocating) sizes whose memory exceeds `available_bytes`.
pub fn scaling_check(
    w: &Workload,
    choice: &SamplingChoice,
    available_bytes: u64,
    mut progress: impl FnMut(&str, Progress),
) -> anyhow::Result<ScalingCheck> {
    let WorkloadKind::Transformer(t) = &w.kind else {
        anyhow::bail!(
            "--scaling: '{}' is not a transformer workload; the scaling check varies a transformer slice's layers",
            w.name
        );
    };
    let sizes: Vec<(String, TransformerShape, usize)> = if t.target.layers >= 3 {
        (1..=t.target.layers.min(4))
            .map(|l| {
                (
                    format!("layers = {l}"),
                    TransformerShape {
                        layers: l,
                        ..t.slice.clone()
                    },
                    t.slice_batch,
                )
            })
            .collect()
    } else {
        (1..=3)
            .map(|b| (format!("batch = {b}"), t.slice.clone(), b))
            .collect()
    };
    for (label, shape, batch) in &sizes {
        let need = plan::transformer_memory_bytes(shape, *batch);
        anyhow::ensure!(
            need <= available_bytes,
            "--scaling: '{}' at {label} needs about {:.1} GiB, more than the {:.1} GiB available; reduce measure.seq_len or measure.batch",
            w.name,
            need as f64 / (1u64 << 30) as f64,
            available_bytes as f64 / (1u64 << 30) as f64
        );
    }
    let units = sizes.len();
    let start = Instant::now();
    let deadline = choice.deadline(start);
    let mut points = Vec::new();
    let mut left_out = Vec::new();
    for (i, (label, shape, batch)) in sizes.into_iter().enumerate() {
        interrupt::check()?;
        if past(deadline) {
            left_out.push(label);
            continue;
        }
        let size_start = Instant::now();
        let mut trainer = TransformerTrainer::new(&shape, batch, choice.seed);
        trainer.next_batch();
        let first = time_step(&mut trainer);
        interrupt::check()?;
        let mut warmup = Warmup::default();
        warmup.push(first.seconds);
        let (settings, bounds) = choice.plan(first.seconds, units, units - i, size_start, deadline);
        let set = sampler::sample(
            &settings,
            &bounds,
            warmup,
            || {
                trainer.next_batch();
                time_step(&mut trainer)
            },
            |p| progress(&format!("{} scaling, {label}", w.name), p),
        );
        if set.stop == StopReason::Interrupted {
            return Err(Interrupted::now().into());
        }
        if set.runs.len() < 2 {
            left_out.push(label);
            continue;
        }
        points.push(ScalingPoint {
            size: label,
            flops: plan::transformer_step(&shape, batch).total_flops(),
            median_s: set.summary.median.point,
            samples_s: set.times(),
        });
    }
    let mut check = ScalingCheck::fit(points);
    check.left_out = left_out;
    Ok(check)
}

#[cfg(test)]
mod planted_tests {
    use super::parse_planted;

    #[test]
    fn a_planted_slowdown_is_a_percentage_in_0_to_1000() {
        assert_eq!(parse_planted("5"), Some(0.05));
        assert_eq!(parse_planted(" 2.5 "), Some(0.025));
        assert_eq!(parse_planted("1000"), Some(10.0));
        for ignored in ["0", "-3", "1001", "nan", "inf", "", "5%", "?"] {
            assert_eq!(parse_planted(ignored), None, "{ignored:?}");
        }
    }
}
