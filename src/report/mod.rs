//! Reports: the versioned schema (`schema`), reading and atomic writing (`store`), the checks that
//! a loaded report agrees with its own samples (`consistency`), and building a
//! report from a measurement (here). Renderers read only a `Report`.

pub mod consistency;
pub mod estimate;
pub mod schema;
pub mod store;

use crate::measure::execute::Measured;
use crate::measure::machine::MachineContext;
use crate::measure::probe::Roofline;
use crate::measure::scaling::ScalingCheck;
use crate::model::pricing::MeasuredRates;
use crate::stats::Estimate;
use crate::workload::{Workload, WorkloadKind};
use chrono::{DateTime, SecondsFormat, Utc};
use schema::{CostRecord, Counts, Direction, Measurement, Metric, Report, WorkloadRecord};
use sha2::{Digest, Sha256};

/// The workload as recorded in a report, with the hash of its validated form.
pub fn workload_record(w: &Workload, source: &str) -> WorkloadRecord {
    let spec = serde_json::to_value(w).expect("workloads serialise");
    let compact = serde_json::to_string(&spec).expect("values serialise");
    let kind = match w.kind {
        WorkloadKind::Gemm(_) => "gemm",
        WorkloadKind::Mlp(_) => "mlp",
        WorkloadKind::Transformer(_) => "transformer",
    };
    WorkloadRecord {
        name: w.name.clone(),
        kind: kind.to_string(),
        source: source.to_string(),
        spec,
        spec_hash: hex(&Sha256::digest(compact.as_bytes())),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything one measured workload's report is composed of.
#[derive(Debug, Clone)]
pub struct Parts {
    pub workload: WorkloadRecord,
    /// The measurement, its FLOP accounting already checked (`measure::execute::measure`).
    pub measured: Measured,
    pub machine: MachineContext,
    pub roofline: Option<Roofline>,
    pub created_at: DateTime<Utc>,
    /// Warnings about the machine (busy processes, frequency scaling), before the
    /// measurement's own.
    pub machine_warnings: Vec<String>,
    /// `run --scaling`'s fit, if it was asked for.
    pub scaling: Option<ScalingCheck>,
    /// The target priced on every option (transformer workloads).
    pub cost: Option<CostRecord>,
    /// The step counted under Cachegrind (`run --counts`).
    pub counts: Option<Counts>,
}

/// Composes the report of one measured workload, once: nothing reads it back to change it.
pub fn compose(parts: Parts) -> Report {
    let Parts {
        workload,
        measured,
        machine,
        roofline,
        created_at,
        machine_warnings,
        scaling,
        cost,
        counts,
    } = parts;
    let metrics = report_metrics(&measured.measurement, counts.as_ref());
    let mut warnings = machine_warnings;
    warnings.extend(measured.warnings);
    warnings.extend(scaling.as_ref().and_then(ScalingCheck::warning));
    Report {
        schema_version: schema::schema_version(),
        costbench_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        machine,
        roofline,
        workload,
        settings: measured.settings,
        measurement: measured.measurement,
        metrics,
        warnings,
        scaling,
        cost,
        counts,
    }
}

/// What a measurement contributes to pricing: its per-class roofline fractions, whole-step
/// rate and the cores that achieved it. None for a sweep (no training step to price).
pub fn measured_rates(
    measurement: &Measurement,
    machine: &MachineContext,
) -> Option<MeasuredRates> {
    let Measurement::Step(m) = measurement else {
        return None;
    };
    Some(MeasuredRates {
        roofline_fractions: m
            .op_classes
            .iter()
            .filter_map(|c| c.roofline_fraction.map(|f| (c.class, f.point)))
            .collect(),
        step_gflops: m.gflops.point,
        logical_cores: machine.logical_cores,
        product_fraction_spread: m
            .op_classes
            .iter()
            .find(|c| c.class == crate::ops::OpClass::Matmul)
            .and_then(|c| c.roofline_fraction)
            .map_or(0.0, |f| f.relative_half_width()),
    })
}

/// How a measured run is priced: which efficiency scenario, and the Monte Carlo's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunPricing {
    /// Price with this run's measured roofline fractions (`measured`) rather than the
    /// published efficiencies.
    pub measured_scenario: bool,
    pub seed: u64,
    pub spot_max_days: f64,
}

/// Prices a measured workload's target on every catalog option, with the CPU itself as an option
/// at the measured rate: what `costbench run` and the library's `measure` store in a report.
/// None for a workload that is not a transformer, or a measurement without a step rate.
pub fn price_run(
    w: &Workload,
    measurement: &Measurement,
    machine: &MachineContext,
    catalog: &crate::catalog::Catalog,
    assumptions: &crate::model::Assumptions,
    how: RunPricing,
) -> Option<crate::model::pricing::Pricing> {
    use crate::model::estimate::{ClusterSize, DEFAULT_DEADLINE_DAYS, Scenario};
    use crate::model::pricing::{self, Request};
    let (WorkloadKind::Transformer(t), Some(rates)) = (&w.kind, measured_rates(measurement, machine))
    else {
        return None;
    };
    let profile = crate::model::Profile::from_transformer(t);
    Some(pricing::price(&Request {
        profile: &profile,
        catalog,
        scenario: if how.measured_scenario {
            rates.scenario()
        } else {
            Scenario::Published
        },
        size: ClusterSize::DeadlineDays(DEFAULT_DEADLINE_DAYS),
        assumptions,
        plans: &[],
        measured: Some(&rates),
        uncertainty: Some(pricing::UncertaintySettings {
            seed: how.seed,
            spot_max_days: how.spot_max_days,
            ..Default::default()
        }),
        model: Default::default(),
    }))
}

fn exact(value: f64) -> Estimate {
    Estimate {
        point: value,
        lower: value,
        upper: value,
        confidence_level: 1.0,
        standard_error: 0.0,
    }
}

fn metric(
    id: String,
    unit: &str,
    direction: Direction,
    machine_independent: bool,
    estimate: Estimate,
) -> Metric {
    Metric {
        kind: Some(schema::MetricKind::of_id(&id, unit)),
        id,
        unit: unit.to_string(),
        direction,
        machine_independent,
        estimate,
    }
}

/// The flat list of comparable figures of a measurement. Ids are stable across versions.
pub fn metrics(m: &Measurement) -> Vec<Metric> {
    measured_figures(m).into_iter().map(|(m, _)| m).collect()
}

/// [`metrics`], each with the number of timed samples behind it (None for a FLOP count, which
/// the kernels counted exactly).
fn measured_figures(m: &Measurement) -> Vec<(Metric, Option<usize>)> {
    use Direction::*;
    let mut out = Vec::new();
    match m {
        Measurement::Step(s) => {
            let n = Some(s.samples_s.len());
            out.push((
                metric(
                    "step_time".into(),
                    "s",
                    SmallerIsBetter,
                    false,
                    s.step_time_s.median,
                ),
                n,
            ));
            out.push((
                metric(
                    "step_gflops".into(),
                    "GFLOP/s",
                    BiggerIsBetter,
                    false,
                    s.gflops,
                ),
                n,
            ));
            out.push((
                metric(
                    "step_flops".into(),
                    "FLOP",
                    SmallerIsBetter,
                    true,
                    exact(s.flops.executed_per_step as f64),
                ),
                None,
            ));
            for c in &s.op_classes {
                let name = c.class.name();
                let n = Some(c.samples_s.len());
                out.push((
                    metric(
                        format!("op.{name}.time"),
                        "s",
                        SmallerIsBetter,
                        false,
                        c.time_s.median,
                    ),
                    n,
                ));
                out.push((
                    metric(
                        format!("op.{name}.gflops"),
                        "GFLOP/s",
                        BiggerIsBetter,
                        false,
                        c.gflops,
                    ),
                    n,
                ));
                out.push((
                    metric(
                        format!("op.{name}.flops"),
                        "FLOP",
                        SmallerIsBetter,
                        true,
                        exact(c.flops as f64),
                    ),
                    None,
                ));
                if let Some(f) = c.roofline_fraction {
                    out.push((
                        metric(
                            format!("op.{name}.roofline_fraction"),
                            "fraction",
                            BiggerIsBetter,
                            true,
                            f,
                        ),
                        n,
                    ));
                }
            }
        }
        Measurement::Sweep(s) => {
            for c in &s.cases {
                let id = format!("case.{}", c.label);
                let n = Some(c.samples_s.len());
                out.push((
                    metric(
                        format!("{id}.time"),
                        "s",
                        SmallerIsBetter,
                        false,
                        c.time_s.median,
                    ),
                    n,
                ));
                out.push((
                    metric(
                        format!("{id}.gflops"),
                        "GFLOP/s",
                        BiggerIsBetter,
                        false,
                        c.gflops,
                    ),
                    n,
                ));
                if let Some(f) = c.roofline_fraction {
                    out.push((
                        metric(
                            format!("{id}.roofline_fraction"),
                            "fraction",
                            BiggerIsBetter,
                            true,
                            f,
                        ),
                        n,
                    ));
                }
            }
        }
    }
    out
}

/// The per-step counts as metrics, `count.<figure>` (`count.instructions`, and with cache
/// simulation `count.cache_refs`, `count.d1_misses`, `count.ll_misses`): smaller is better,
/// exact (no interval; `compare` compares them exactly), and machine-independent in the sense
/// that they are exact for one binary on one instruction-set path (`counts.isa`), whatever the
/// machine's load or clock.
pub fn count_metrics(c: &Counts) -> Vec<Metric> {
    crate::measure::counts::FIGURES
        .iter()
        .filter_map(|f| {
            let value = c.per_step.get(f.name)?;
            Some(metric(
                format!("count.{}", f.name),
                f.unit,
                Direction::SmallerIsBetter,
                true,
                exact(value),
            ))
        })
        .collect()
}

/// Every measured metric of a report: the measurement's ([`metrics`]), then the counts'
/// ([`count_metrics`]). What `compose` stores and `consistency` expects.
pub fn report_metrics(m: &Measurement, counts: Option<&Counts>) -> Vec<Metric> {
    let mut out = metrics(m);
    out.extend(counts.map(count_metrics).unwrap_or_default());
    out
}

/// The JSON Schema (draft 2020-12) of [`Report`], pretty-printed with a trailing newline: the
/// content of `docs/report-schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Report);
    let mut s = serde_json::to_string_pretty(&schema).expect("schemas serialise");
    s.push('\n');
    s
}

/// The report with every sampled time replaced by `f(samples)` (step, op classes, sweep cases)
/// and every figure derived from them — summaries, rates, roofline fractions, metrics —
/// recomputed with the report's own statistics settings. Used to plant a known change (a 2×
/// slowdown in the CI gate's tests) and to test `compare` on known distributions.
pub fn map_times(report: &Report, f: impl Fn(&[f64]) -> Vec<f64>) -> Report {
    use crate::stats;
    let s = &report.settings;
    let summarize = |xs: &[f64]| stats::summarize(xs, s.confidence_level, s.resamples, s.seed);
    // A fraction keeps its roofline: attainable = old rate ÷ old fraction.
    let refraction = |old_rate: &Estimate, old: Option<Estimate>, rate: &Estimate| {
        old.map(|f| rate.scaled(f.point / old_rate.point))
    };
    let mut out = report.clone();
    match &mut out.measurement {
        Measurement::Step(m) => {
            m.samples_s = f(&m.samples_s);
            m.step_time_s = summarize(&m.samples_s);
            m.gflops = crate::measure::execute::rate_gflops(
                m.flops.executed_per_step,
                &m.step_time_s.median,
            );
            for c in &mut m.op_classes {
                c.samples_s = f(&c.samples_s);
                c.time_s = summarize(&c.samples_s);
                let rate = crate::measure::execute::rate_gflops(c.flops, &c.time_s.median);
                c.roofline_fraction = refraction(&c.gflops, c.roofline_fraction, &rate);
                c.gflops = rate;
            }
        }
        Measurement::Sweep(sw) => {
            for c in &mut sw.cases {
                c.samples_s = f(&c.samples_s);
                c.time_s = summarize(&c.samples_s);
                let rate = crate::measure::execute::rate_gflops(c.flops, &c.time_s.median);
                c.roofline_fraction = refraction(&c.gflops, c.roofline_fraction, &rate);
                c.gflops = rate;
            }
        }
    }
    out.metrics = report_metrics(&out.measurement, out.counts.as_ref());
    out
}

/// How a figure of a report was obtained: what the exports for dashboards (BMF,
/// github-action-benchmark) mark on every entry, since a dashboard shows a measured time and a
/// modelled dollar figure side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Measured by the run on its machine: from `samples` timed samples (a time, or a rate or
    /// roofline fraction computed from them), or, when `samples` is None, counted exactly by
    /// the kernels while they ran (a FLOP count).
    Measured { samples: Option<usize> },
    /// Computed by the cost model from the run's measurement and the catalog's figures: one of
    /// the cost record's options or its CPU baseline.
    Modelled(Priced),
}

/// Which priced entry of a report's [`CostRecord`] a modelled figure is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priced {
    /// `cost.options[i]`.
    Option(usize),
    /// `cost.cpu_baseline`.
    CpuBaseline,
}

impl Basis {
    pub fn is_modelled(self) -> bool {
        matches!(self, Basis::Modelled(_))
    }
}

/// A comparable figure with how it was obtained.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub metric: Metric,
    pub basis: Basis,
}

/// A report's modelled cost figures: `cost.<instance>.<plan>.usd` and `.wall_days` (and
/// `cost.cpu.<instance>.*` for the CPU baseline). Exact: no interval.
fn cost_figures(report: &Report) -> Vec<Figure> {
    let Some(cost) = &report.cost else {
        return Vec::new();
    };
    let exact = |x: f64| Estimate {
        point: x,
        lower: x,
        upper: x,
        confidence_level: 1.0,
        standard_error: 0.0,
    };
    let figure = |id: String, unit: &str, x: f64, priced: Priced| Figure {
        metric: Metric {
            id,
            unit: unit.to_string(),
            direction: Direction::SmallerIsBetter,
            machine_independent: true,
            estimate: exact(x),
            kind: Some(schema::MetricKind::Modelled),
        },
        basis: Basis::Modelled(priced),
    };
    let mut out = Vec::new();
    for (i, o) in cost.options.iter().enumerate() {
        let id = format!("cost.{}.{}", o.instance, o.plan.as_str());
        let p = Priced::Option(i);
        out.push(figure(format!("{id}.usd"), "USD", o.usd, p));
        out.push(figure(
            format!("{id}.wall_days"),
            "days",
            o.wall_hours / 24.0,
            p,
        ));
    }
    if let Some(b) = &cost.cpu_baseline {
        let id = format!("cost.cpu.{}", b.instance);
        let p = Priced::CpuBaseline;
        out.push(figure(format!("{id}.usd"), "USD", b.usd, p));
        out.push(figure(
            format!("{id}.wall_days"),
            "days",
            b.wall_hours / 24.0,
            p,
        ));
    }
    out
}

/// A report's modelled cost figures as metrics: `cost.<instance>.<plan>.usd` and `.wall_days`
/// (and `cost.cpu.<instance>.*` for the CPU baseline). Exact: no interval.
pub fn cost_metrics(report: &Report) -> Vec<Metric> {
    cost_figures(report).into_iter().map(|f| f.metric).collect()
}

/// Every figure of a report with its [`Basis`], in [`all_metrics`]' order: the report's
/// `metrics` (measured), then the modelled cost figures. A measured metric's sample count is
/// looked up by id in the measurement (a loaded report's `metrics` are exactly the ones its
/// measurement gives: `consistency` refuses any other).
pub fn figures(report: &Report) -> Vec<Figure> {
    let samples: std::collections::HashMap<String, Option<usize>> =
        measured_figures(&report.measurement)
            .into_iter()
            .map(|(m, n)| (m.id, n))
            .collect();
    let mut out: Vec<Figure> = report
        .metrics
        .iter()
        .map(|m| Figure {
            metric: m.clone(),
            basis: Basis::Measured {
                samples: samples.get(&m.id).copied().flatten(),
            },
        })
        .collect();
    out.extend(cost_figures(report));
    out
}

/// Every figure of a report, measured then modelled.
pub fn all_metrics(report: &Report) -> Vec<Metric> {
    let mut m = report.metrics.clone();
    m.extend(cost_metrics(report));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Report {
        serde_json::from_str(include_str!("../../tests/fixtures/reports/tiny.json"))
            .expect("the fixture parses")
    }

    #[test]
    fn every_figure_says_whether_it_was_measured_or_modelled() {
        let r = fixture();
        let figures = figures(&r);
        let ids: Vec<&str> = figures.iter().map(|f| f.metric.id.as_str()).collect();
        let all: Vec<String> = all_metrics(&r).into_iter().map(|m| m.id).collect();
        assert_eq!(ids, all, "the same figures as all_metrics, in its order");
        let Measurement::Step(step) = &r.measurement else {
            panic!("the fixture is a step")
        };
        for f in &figures {
            let id = f.metric.id.as_str();
            match f.basis {
                Basis::Modelled(_) => assert!(id.starts_with("cost."), "{id}"),
                Basis::Measured { samples: None } => {
                    assert!(id.ends_with("flops") || id.starts_with("count."), "{id}")
                }
                Basis::Measured { samples: Some(n) } => {
                    assert!(!id.starts_with("cost.") && n >= 2, "{id}: {n}")
                }
            }
        }
        let basis = |id: &str| figures.iter().find(|f| f.metric.id == id).unwrap().basis;
        assert_eq!(
            basis("step_time"),
            Basis::Measured {
                samples: Some(step.samples_s.len())
            }
        );
        assert_eq!(basis("step_flops"), Basis::Measured { samples: None });
        let cost = r.cost.as_ref().unwrap();
        let first = &cost.options[0];
        let id = format!("cost.{}.{}.usd", first.instance, first.plan.as_str());
        assert_eq!(basis(&id), Basis::Modelled(Priced::Option(0)));
        let cpu = cost.cpu_baseline.as_ref().unwrap();
        let id = format!("cost.cpu.{}.wall_days", cpu.instance);
        assert_eq!(basis(&id), Basis::Modelled(Priced::CpuBaseline));
        assert_eq!(
            figures.iter().filter(|f| f.basis.is_modelled()).count(),
            cost_metrics(&r).len()
        );
    }
}
