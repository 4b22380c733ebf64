//! The sampling harness: a time-based warm-up, then samples until the confidence interval of
//! the median is as narrow as asked or the time budget is spent (criterion's rigour; the
//! stopping rule is a sequential one, re-estimated after every sample).
//!
//! The harness knows nothing of workloads: it drives a closure that runs one unit of work (a
//! training step, or one product of a sweep) and reports its wall time and, optionally, its
//! per-op-class tally. Every sample is kept; outliers are counted, never dropped. Warm-up runs
//! are kept up to [`WARMUP_KEPT`](crate::measure::record::WARMUP_KEPT), with the count and total
//! of all of them.
//!
//! Before every unit it checks the interrupt flag (`measure::interrupt`) and the hard deadline
//! of [`Bounds`]; a unit that was running when the interrupt came is discarded. So the harness
//! stops within one unit of a signal, and never starts a unit past `--max-time`.

use crate::kernels::Tally;
use crate::measure::interrupt;
use crate::measure::record::Warmup;
use crate::stats::{self, Summary};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// How long and how precisely to sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SamplingSettings {
    /// Minimum warm-up time before the first sample, seconds (at least one unit always runs).
    pub warmup_s: f64,
    /// Stop once the median's confidence interval half-width is at most this fraction of the
    /// median (0.01 = ±1%).
    pub target_rel_half_width: f64,
    /// Confidence level of every interval (0.95).
    pub confidence_level: f64,
    /// Samples taken before the stopping rule is consulted.
    pub min_samples: usize,
    /// Hard cap on samples.
    pub max_samples: usize,
    /// Sampling budget after warm-up, seconds: sampling stops when it runs out (once
    /// `min_samples` are taken) even if the interval is still wider than the target. With
    /// `max_total_s`, this unit's share of what was left when it started, less its warm-up.
    pub max_time_s: f64,
    /// `--max-time`: the bound on the whole measurement of a workload — every warm-up and
    /// every sample of every product — seconds. No unit starts once it has passed, whatever the
    /// sample count. None without `--max-time` (since 1.5).
    #[serde(default)]
    pub max_total_s: Option<f64>,
    /// Bootstrap resamples for the reported intervals.
    pub resamples: usize,
    /// Seed of every bootstrap.
    pub seed: u64,
}

impl SamplingSettings {
    /// Defaults for a unit of work whose first run took `first_s` seconds: 3 s warm-up (as
    /// criterion), ±1% at 95%, at least 10 samples, and a budget of 30 units' time clamped to
    /// 10–60 s — enough samples for a ±1% interval on a quiet machine without making a slow
    /// workload run for minutes.
    pub fn default_for(first_s: f64, seed: u64) -> Self {
        Self {
            warmup_s: 3.0,
            target_rel_half_width: 0.01,
            confidence_level: 0.95,
            min_samples: 10,
            max_samples: 10_000,
            max_time_s: (30.0 * first_s).clamp(10.0, 60.0),
            max_total_s: None,
            resamples: 10_000,
            seed,
        }
    }

    /// `--quick`: 0.5 s warm-up, ±3%, at least 5 samples, a 5 s budget. The budget waits for
    /// the 5 samples (without `--max-time`), so it bounds nothing for a step over 1 s.
    pub fn quick(seed: u64) -> Self {
        Self {
            warmup_s: 0.5,
            target_rel_half_width: 0.03,
            confidence_level: 0.95,
            min_samples: 5,
            max_samples: 10_000,
            max_time_s: 5.0,
            max_total_s: None,
            resamples: 10_000,
            seed,
        }
    }
}

/// What the harness reports while it works (for a progress bar).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress {
    /// Warming up: elapsed and planned warm-up time, seconds.
    Warmup { elapsed_s: f64, planned_s: f64 },
    /// Sampling: samples so far, elapsed and budget seconds, current median and relative
    /// half-width of its interval (NaN until estimated).
    Sampling {
        samples: usize,
        elapsed_s: f64,
        budget_s: f64,
        median_s: f64,
        rel_half_width: f64,
    },
}

/// One run of the unit of work: its wall time and, for training steps, its tally and loss.
#[derive(Debug, Clone)]
pub struct Run {
    pub seconds: f64,
    pub tally: Option<Tally>,
    pub loss: Option<f32>,
}

/// Everything a sampling session produced.
#[derive(Debug, Clone)]
pub struct SampleSet {
    /// The warm-up runs, as a report keeps them (not part of the statistics).
    pub warmup: Warmup,
    pub runs: Vec<Run>,
    /// Statistics of the run times.
    pub summary: Summary,
    /// Why sampling stopped.
    pub stop: StopReason,
    /// Sampling time after warm-up, seconds.
    pub elapsed_s: f64,
    /// The settings' `min_samples`, for the warnings.
    min_samples: usize,
}

/// When one unit's sampling must end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// The warm-up runs units until this instant has passed (runs timed before the harness was
    /// called, such as the one that chose the settings, count towards it).
    pub warmup_end: Instant,
    /// Sampling budget from the first sample, seconds: sampling stops with the first unit that
    /// ends past it, once `min_samples` are taken (two, under a deadline).
    pub sampling_s: f64,
    /// No unit starts at or after this instant, whatever the sample count: `--max-time`'s bound
    /// on the whole measurement. So the harness overruns it by at most the one unit running.
    pub deadline: Option<Instant>,
}

impl Bounds {
    /// The settings' rule from `start` on, without a deadline: warm up for `warmup_s`, then
    /// sample for `max_time_s`.
    pub fn from_settings(settings: &SamplingSettings, start: Instant) -> Self {
        Self {
            warmup_end: start + Duration::from_secs_f64(settings.warmup_s.max(0.0)),
            sampling_s: settings.max_time_s.max(0.0),
            deadline: None,
        }
    }

    /// Whether the deadline has passed.
    pub fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// Why sampling stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The median's interval reached the target width.
    TargetReached,
    /// The time budget ran out first.
    TimeBudget,
    /// The sample cap was reached.
    SampleCap,
    /// Ctrl-C or SIGTERM: the samples are incomplete and never written to a report.
    Interrupted,
}

/// Whether to re-estimate the interval after the `n`-th sample: after every sample up to 100,
/// then whenever the count has grown by about 2% — so a unit of microseconds sampled thousands
/// of times does not spend its budget on statistics.
fn estimate_now(n: usize) -> bool {
    n <= 100 || n.is_multiple_of(n / 50)
}

/// Warms up, then samples `unit` until the stopping rule says so, within `bounds`. `warmup`
/// holds the runs already timed (it is continued). `unit` times itself (so it can do untimed
/// preparation, such as drawing data, first). `progress` is called after every unit.
///
/// The interrupt flag is checked before every unit and after it: a unit during which an
/// interrupt came is discarded, and sampling stops with [`StopReason::Interrupted`].
pub fn sample(
    settings: &SamplingSettings,
    bounds: &Bounds,
    mut warmup: Warmup,
    mut unit: impl FnMut() -> Run,
    mut progress: impl FnMut(Progress),
) -> SampleSet {
    let warm_start = Instant::now();
    let planned_s = bounds
        .warmup_end
        .saturating_duration_since(warm_start)
        .as_secs_f64();
    let mut interrupted = false;
    while Instant::now() < bounds.warmup_end && !bounds.past_deadline() {
        if interrupt::requested() {
            interrupted = true;
            break;
        }
        let seconds = unit().seconds;
        if interrupt::requested() {
            interrupted = true;
            break;
        }
        warmup.push(seconds);
        progress(Progress::Warmup {
            elapsed_s: warm_start.elapsed().as_secs_f64(),
            planned_s,
        });
    }

    let start = Instant::now();
    let budget = Duration::from_secs_f64(bounds.sampling_s.max(0.0));
    // Samples the budget waits for: `min_samples`, but under a deadline (`--max-time`, whose
    // share must leave time for the units after this one) only the two an interval needs.
    let budget_floor = if bounds.deadline.is_some() {
        2
    } else {
        settings.min_samples.max(2)
    };
    let mut runs: Vec<Run> = Vec::new();
    let mut times: Vec<f64> = Vec::new();
    let mut last: Option<Summary> = None;
    let mut rel = f64::NAN;
    let stop = loop {
        if interrupted || interrupt::requested() {
            break StopReason::Interrupted;
        }
        if bounds.past_deadline() {
            break StopReason::TimeBudget;
        }
        let run = unit();
        if interrupt::requested() {
            break StopReason::Interrupted;
        }
        times.push(run.seconds);
        runs.push(run);
        let n = times.len();
        // The stopping rule consults exactly the estimate that will be reported: the same
        // statistics on the same samples with the same seed and resamples.
        if n >= settings.min_samples.max(2) && estimate_now(n) {
            let summary = stats::summarize(
                &times,
                settings.confidence_level,
                settings.resamples,
                settings.seed,
            );
            rel = summary.median.relative_half_width();
            last = Some(summary);
        }
        progress(Progress::Sampling {
            samples: n,
            elapsed_s: start.elapsed().as_secs_f64(),
            budget_s: bounds.sampling_s,
            median_s: stats::median(&times),
            rel_half_width: rel,
        });
        if n >= settings.min_samples && rel <= settings.target_rel_half_width {
            break StopReason::TargetReached;
        }
        if n >= budget_floor && start.elapsed() >= budget {
            break StopReason::TimeBudget;
        }
        if n >= settings.max_samples {
            break StopReason::SampleCap;
        }
    };
    let elapsed_s = start.elapsed().as_secs_f64();
    let summary = match last {
        Some(summary) if summary.n == times.len() => summary,
        _ => stats::summarize(
            &times,
            settings.confidence_level,
            settings.resamples,
            settings.seed,
        ),
    };
    SampleSet {
        warmup,
        runs,
        summary,
        stop,
        elapsed_s,
        min_samples: settings.min_samples,
    }
}

impl SampleSet {
    /// Run times, seconds.
    pub fn times(&self) -> Vec<f64> {
        self.runs.iter().map(|r| r.seconds).collect()
    }

    /// Warnings that say what to do: a noisy machine, a slow first run, outliers, a missed
    /// precision target.
    pub fn warnings(&self, settings: &SamplingSettings, what: &str) -> Vec<String> {
        let mut out = Vec::new();
        let s = &self.summary;
        let median = s.median.point;
        let cv = s.std_dev / s.mean.point;
        if cv > 0.05 {
            out.push(format!(
                "{what}: high noise (coefficient of variation {:.1}%): close other programs, check \
                 `costbench` is not sharing its cores, or raise --max-time",
                cv * 100.0
            ));
        }
        if let Some(first) = self.warmup.first()
            && median > 0.0
            && first > 2.0 * median
        {
            out.push(format!(
                "{what}: the first run took {:.1}× the median ({:.3} s vs {:.3} s: page faults \
                 and cold caches); it was part of the warm-up and is not in the statistics",
                first / median,
                first,
                median
            ));
        }
        let o = &s.outliers;
        if o.total() > 0 {
            out.push(format!(
                "{what}: {} of {} samples are outliers ({} low severe, {} low mild, {} high mild, \
                 {} high severe; Tukey's fences); they are kept in the statistics",
                o.total(),
                s.n,
                o.low_severe,
                o.low_mild,
                o.high_mild,
                o.high_severe
            ));
        }
        if self.stop == StopReason::TimeBudget && s.n < self.min_samples {
            out.push(format!(
                "{what}: --max-time ran out after {} samples, fewer than the {} asked for \
                 (--min-samples); the median's {:.0}% interval is ±{:.2}%: raise --max-time",
                s.n,
                self.min_samples,
                settings.confidence_level * 100.0,
                s.median.relative_half_width() * 100.0,
            ));
        } else if self.stop == StopReason::TimeBudget {
            out.push(format!(
                "{what}: the median's {:.0}% interval is ±{:.2}% after {:.1} s, wider than the \
                 ±{:.2}% target: raise --max-time for more samples or use a quieter machine",
                settings.confidence_level * 100.0,
                s.median.relative_half_width() * 100.0,
                self.elapsed_s,
                settings.target_rel_half_width * 100.0
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SamplingSettings {
        SamplingSettings {
            warmup_s: 0.0,
            target_rel_half_width: 0.01,
            confidence_level: 0.95,
            min_samples: 5,
            max_samples: 50,
            max_time_s: 10.0,
            max_total_s: None,
            resamples: 1000,
            seed: 1,
        }
    }

    /// A fake unit of work reporting scripted times, so the harness is tested without timing
    /// anything.
    fn scripted(times: Vec<f64>) -> impl FnMut() -> Run {
        let mut i = 0;
        move || {
            let seconds = times[i % times.len()];
            i += 1;
            Run {
                seconds,
                tally: None,
                loss: None,
            }
        }
    }

    /// As `measure::execute` drives the harness: the first run is timed outside it (it chooses
    /// the settings) and is the first warm-up run.
    fn sample_all(
        settings: &SamplingSettings,
        mut unit: impl FnMut() -> Run,
        progress: impl FnMut(Progress),
    ) -> SampleSet {
        let start = Instant::now();
        let mut warmup = Warmup::default();
        warmup.push(unit().seconds);
        let bounds = Bounds::from_settings(settings, start);
        sample(settings, &bounds, warmup, unit, progress)
    }

    #[test]
    fn identical_samples_stop_at_the_minimum() {
        let set = sample_all(&settings(), scripted(vec![0.5]), |_| {});
        assert_eq!(set.stop, StopReason::TargetReached);
        assert_eq!(set.runs.len(), 5);
        assert_eq!(set.warmup.kept, vec![0.5]);
        assert_eq!(set.summary.median.point, 0.5);
        assert!(set.warnings(&settings(), "x").is_empty());
    }

    #[test]
    fn the_reported_interval_is_the_one_that_met_the_target() {
        let mut s = settings();
        s.target_rel_half_width = 0.002;
        s.resamples = 10_000;
        let times = vec![1.0, 1.004, 0.997, 1.002, 0.999, 1.003, 0.996, 1.001];
        let set = sample_all(&s, scripted(times), |_| {});
        assert_eq!(set.stop, StopReason::TargetReached);
        assert!(set.summary.median.relative_half_width() <= s.target_rel_half_width);
        assert_eq!(set.summary.n, set.runs.len());
    }

    #[test]
    fn noisy_samples_run_to_the_cap_and_warn() {
        let mut s = settings();
        s.max_samples = 12;
        let set = sample_all(&s, scripted(vec![1.0, 2.0, 0.5, 3.0]), |_| {});
        assert_eq!(set.stop, StopReason::SampleCap);
        assert_eq!(set.runs.len(), 12);
        let w = set.warnings(&s, "step");
        assert!(w.iter().any(|w| w.contains("high noise")), "{w:?}");
    }

    #[test]
    fn a_slow_first_run_is_warm_up_and_is_reported() {
        let times = vec![10.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let set = sample_all(&settings(), scripted(times), |_| {});
        assert_eq!(set.warmup.kept, vec![10.0]);
        assert!(set.times().iter().all(|&t| t == 1.0));
        let w = set.warnings(&settings(), "step");
        assert!(
            w.iter().any(|w| w.contains("first run took 10.0×")),
            "{w:?}"
        );
    }

    #[test]
    fn the_budget_stops_sampling() {
        let mut s = settings();
        s.max_time_s = 0.0;
        s.max_samples = 1000;
        let set = sample_all(&s, scripted(vec![1.0, 1.5]), |_| {});
        assert_eq!(set.stop, StopReason::TimeBudget);
        assert_eq!(set.runs.len(), 5);
        assert!(
            set.warnings(&s, "step")
                .iter()
                .any(|w| w.contains("raise --max-time"))
        );
    }

    #[test]
    fn progress_is_reported_for_warm_up_and_every_sample() {
        let mut events = Vec::new();
        let mut s = settings();
        s.warmup_s = 0.02;
        let set = sample_all(&s, scripted(vec![0.2]), |p| events.push(p));
        let sampling = events
            .iter()
            .filter(|p| matches!(p, Progress::Sampling { .. }))
            .count();
        assert_eq!(sampling, set.runs.len());
        assert!(matches!(events[0], Progress::Warmup { .. }));
    }

    #[test]
    fn a_fast_unit_keeps_at_most_warmup_kept_warm_up_times_and_counts_them_all() {
        let mut s = settings();
        s.warmup_s = 0.05;
        // Each scripted run takes nanoseconds: a 50 ms warm-up runs far more than the cap.
        let set = sample_all(&s, scripted(vec![1e-6]), |_| {});
        let kept = crate::measure::record::WARMUP_KEPT;
        assert_eq!(set.warmup.kept.len(), kept);
        assert!(set.warmup.count > kept as u64, "{}", set.warmup.count);
        let total = set.warmup.count as f64 * 1e-6;
        assert!((set.warmup.total_s - total).abs() < 1e-9 * set.warmup.count as f64);
    }

    #[test]
    fn no_unit_starts_past_the_deadline_whatever_the_sample_count() {
        let mut s = settings();
        s.min_samples = 1_000;
        s.max_samples = 10_000;
        s.max_time_s = 1e6;
        let unit = || {
            std::thread::sleep(Duration::from_millis(10));
            Run {
                seconds: 0.01,
                tally: None,
                loss: None,
            }
        };
        let start = Instant::now();
        let bounds = Bounds {
            warmup_end: start,
            sampling_s: s.max_time_s,
            deadline: Some(start + Duration::from_millis(100)),
        };
        let set = sample(&s, &bounds, Warmup::default(), unit, |_| {});
        assert_eq!(set.stop, StopReason::TimeBudget);
        assert!(
            !set.runs.is_empty() && set.runs.len() <= 10,
            "{}",
            set.runs.len()
        );
        // The deadline passed during the last unit, which was the only one allowed to overrun.
        assert!(start.elapsed() >= Duration::from_millis(100));
        let w = set.warnings(&s, "step");
        assert!(
            w.iter()
                .any(|w| w.contains("fewer than the 1000 asked for")),
            "{w:?}"
        );
        // A deadline already past: no unit at all.
        let past = Bounds {
            deadline: Some(Instant::now()),
            ..bounds
        };
        let set = sample(&s, &past, Warmup::default(), unit, |_| {});
        assert_eq!((set.runs.len(), set.stop), (0, StopReason::TimeBudget));
    }
}
