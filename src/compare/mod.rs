//! `costbench compare`: two reports (or two directories of reports) metric by metric, with a
//! bootstrap confidence interval of each relative change and a verdict by criterion.rs's rule;
//! cost figures with the cause of their change; and the CI gate (`--fail-on-regression`).
//!
//! The verdict rule (docs/ci.md): with the change's interval `[lo, hi]` (a fraction, new ÷ base
//! − 1) and the noise band `±b`:
//! - **regressed / improved**: the difference is significant (p < `significance`) *and* the
//!   interval lies wholly outside the band, on the worse / better side — criterion.rs's
//!   `compare_to_threshold`. The test is Mann–Whitney U on the samples, not criterion's t-test:
//!   timing samples carry outliers (a preempted step) that inflate a t-test's variance until it
//!   misses a clean 10% shift (`stats::rank_test::tests::mann_whitney_matches_r`: one outlier among 30
//!   samples, Welch p > 0.1, U p < 10⁻⁶);
//! - **no change**: the interval lies wholly inside the band (the data rule out a change larger
//!   than the noise band);
//! - **inconclusive**: anything else — the interval straddles an edge of the band, so the
//!   samples cannot tell a change of the band's size from noise. Measure longer to decide.
//!
//! Reports are matched by testbed ([`Testbed`]: the label and the fingerprint of the machine, its
//! setup and the build's code path). Across testbeds each metric follows its kind
//! ([`MetricKind`]): exact figures (FLOP counts; instruction counts where the code path is the
//! same) are compared and, with `across_machines`, gated; roofline fractions are shown, never
//! gated; measured times and rates are left out (shown, never gated, with `raw_times`); and the
//! gate is refused without `across_machines`.
//!
//! Cost figures never gate. One moved by an input (price, catalog, assumptions, scenario,
//! workload) says so; one moved by the measurement alone inherits that measurement's verdict:
//! its interval is the measured rates' intervals carried through the cost's dependence on them
//! ([`cost_drivers`]), and it is never more conclusive than they are.

pub mod ab;
pub mod history;
pub mod select;
pub mod sources;

use crate::measure::machine::Testbed;
use crate::report::schema::{Direction, Metric, MetricKind, Report};
use crate::report::store;
use crate::stats::{self, Estimate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Version of the comparison JSON (`costbench compare --format json`), `"major.minor"`.
pub const COMPARISON_SCHEMA_VERSION: &str = "1.1";

/// How to compare.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Settings {
    /// Half-width of the noise band, a fraction (0.02 = ±2 %).
    pub noise: f64,
    /// Significance level of the Mann–Whitney U test (criterion.rs's default 0.05).
    pub significance: f64,
    /// Confidence level of the change's interval.
    pub confidence_level: f64,
    /// Bootstrap resamples per metric.
    pub resamples: usize,
    /// Seed of the bootstrap (ChaCha8): the same reports and seed give the same output.
    pub seed: u64,
    /// Compare machine-dependent figures (times, GFLOP/s) even across different testbeds
    /// (shown, never gated there).
    pub raw_times: bool,
    /// Gate across testbeds, on the figures that are exact there (FLOP counts; instruction
    /// counts on the same code path). Without it, a gate across testbeds is refused (since
    /// comparison schema 1.1).
    #[serde(default)]
    pub across_machines: bool,
    /// The CI gate: fail when a measured metric regresses by more than this fraction.
    pub fail_on_regression: Option<f64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            noise: 0.02,
            significance: 0.05,
            confidence_level: 0.95,
            resamples: 10_000,
            seed: 0,
            raw_times: false,
            across_machines: false,
            fail_on_regression: None,
        }
    }
}

/// What the data say about one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Improved,
    Regressed,
    NoChange,
    Inconclusive,
    /// The metric is in the base report only.
    OnlyInBase,
    /// The metric is in the new report only.
    OnlyInNew,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::Regressed => "regressed",
            Verdict::NoChange => "no change",
            Verdict::Inconclusive => "inconclusive",
            Verdict::OnlyInBase => "only in base",
            Verdict::OnlyInNew => "only in new",
        }
    }
}

/// One metric of one workload, compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricComparison {
    pub id: String,
    pub unit: String,
    pub direction: Direction,
    /// The report's legacy flag (false for times and rates); `kind` says more.
    pub machine_independent: bool,
    /// What the figure depends on, which decides whether it gates across testbeds (since 1.1).
    pub kind: MetricKind,
    /// Whether this row counts for `--fail-on-regression` in this comparison: every metric on
    /// one testbed; across testbeds only the exact ones (since 1.1).
    pub gated: bool,
    pub base: Option<Estimate>,
    pub new: Option<Estimate>,
    /// new ÷ base − 1 with its confidence interval (a fraction: 0.05 = 5 % larger).
    pub change: Option<Estimate>,
    /// Two-sided p-value of the Mann–Whitney U test on the samples (0 for exact figures that differ, 1
    /// for equal ones; None when a side has fewer than two samples).
    pub p_value: Option<f64>,
    /// How `change` was obtained: `bootstrap` (of the samples' medians), `exact` (counts) or
    /// `delta` (from the two reports' intervals, when the samples are absent).
    pub method: String,
    pub verdict: Verdict,
}

/// One cost figure of one priced option, compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostComparison {
    /// `<instance> <plan>`, or `cpu <instance>` for the CPU baseline.
    pub option: String,
    /// `usd`, `wall_days` or `chip_hours`.
    pub figure: String,
    pub base: Option<f64>,
    pub new: Option<f64>,
    /// new ÷ base − 1, exact given the two reports' inputs.
    pub change: Option<f64>,
    /// For a figure moved by the measurement alone (cause `performance` or `testbed`): the
    /// change with the interval the measured rates behind it give (since 1.1). None when an
    /// input moved it, or it did not move.
    #[serde(default)]
    pub interval: Option<Estimate>,
    /// The p-value the verdict used: that of the measurement behind the figure (since 1.1).
    #[serde(default)]
    pub p_value: Option<f64>,
    /// The metrics whose measurement the figure inherits its verdict from, e.g. `step_gflops`
    /// for the CPU baseline, the per-class roofline fractions for an accelerator priced in the
    /// `measured` scenario (since 1.1).
    #[serde(default)]
    pub driven_by: Vec<String>,
    pub verdict: Verdict,
    /// Why it changed: `performance` (same testbed, catalog, assumptions and workload: the
    /// measured rates moved), `testbed` (the same, measured on different testbeds), or the
    /// inputs that differ: `price`, `catalog`, `assumptions`, `workload`, `scenario`.
    pub cause: String,
}

/// One workload present on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PairComparison {
    pub workload: String,
    pub base_file: String,
    pub new_file: String,
    pub base_created_at: String,
    pub new_created_at: String,
    pub base_commit: Option<String>,
    pub new_commit: Option<String>,
    pub base_schema_version: String,
    pub new_schema_version: String,
    /// Where each side was measured (since 1.1).
    pub base_testbed: Testbed,
    pub new_testbed: Testbed,
    /// How the two testbeds' machines and setups differ ("field: base vs new"); empty for the
    /// same fingerprint (labels may still differ).
    pub machine_differences: Vec<String>,
    /// Whether machine-dependent figures (times, GFLOP/s) were compared.
    pub raw_times_compared: bool,
    /// Measured metric ids left out because the testbeds differ.
    pub not_compared: Vec<String>,
    /// The workloads' validated specs differ (their hashes).
    pub spec_changed: bool,
    /// Fewest samples behind any measured series of each report (the step's, or a sweep
    /// case's). Below [`FEW_SAMPLES`] the intervals understate the uncertainty.
    pub base_samples: usize,
    pub new_samples: usize,
    pub metrics: Vec<MetricComparison>,
    /// Differences in the cost model's inputs (catalog, assumptions, scenario, cluster rule).
    pub cost_inputs: Vec<String>,
    pub costs: Vec<CostComparison>,
}

/// A metric that tripped the CI gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GateHit {
    pub workload: String,
    pub metric: String,
    pub change: Estimate,
}

/// The CI gate's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Gate {
    /// Threshold, a fraction.
    pub threshold: f64,
    pub triggered: Vec<GateHit>,
    /// Workloads whose base and new testbeds differ, gated without `--across-machines`: the
    /// gate is refused, whatever `triggered` says (`compare` exits 2; since 1.1).
    #[serde(default)]
    pub refused: Vec<String>,
}

/// Everything `costbench compare` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    pub schema_version: String,
    pub costbench_version: String,
    /// What was compared: paths or `baseline <name>`.
    pub base: String,
    pub new: String,
    pub settings: Settings,
    pub pairs: Vec<PairComparison>,
    /// Workloads in the base only / in the new side only.
    pub only_in_base: Vec<String>,
    pub only_in_new: Vec<String>,
    /// Files that could not be read (in directories), with the reason.
    pub skipped_files: Vec<String>,
    pub gate: Option<Gate>,
}

impl Comparison {
    /// Whether the CI gate fired (and was not refused).
    pub fn gate_failed(&self) -> bool {
        self.gate
            .as_ref()
            .is_some_and(|g| g.refused.is_empty() && !g.triggered.is_empty())
    }

    /// Whether the gate was refused: asked for across testbeds without `--across-machines`.
    pub fn gate_refused(&self) -> bool {
        self.gate.as_ref().is_some_and(|g| !g.refused.is_empty())
    }
}

/// One side of a comparison: the newest report of each workload found.
#[derive(Debug, Clone)]
pub struct Side {
    pub shown: String,
    pub reports: BTreeMap<String, (PathBuf, Report)>,
    /// Files in a directory that are not readable reports, with the reason.
    pub skipped: Vec<String>,
}

/// Reports read from a directory, in time order, and the reasons files were skipped.
pub type Loaded = (Vec<(PathBuf, Report)>, Vec<String>);

/// Reads every report in `dir` (not recursive; `.json` files only), sorted by creation time
/// then file name. Unreadable files are returned as reasons, not errors: one bad file must not
/// hide a directory's history.
pub fn load_dir(dir: &Path) -> anyhow::Result<Loaded> {
    let read = read_dir(dir)?;
    let mut skipped = read.refused;
    skipped.extend(read.skipped);
    Ok((read.reports, skipped))
}

/// What a directory holds: readable reports in time order, files that are not reports, and
/// reports refused for their figures ([`store::LoadError::is_refused_report`]).
struct DirReports {
    reports: Vec<(PathBuf, Report)>,
    skipped: Vec<String>,
    refused: Vec<String>,
}

fn read_dir(dir: &Path) -> anyhow::Result<DirReports> {
    use anyhow::Context;
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "could not read the directory '{}'",
            crate::diag::show::short(&dir.display().to_string())
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut out = DirReports {
        reports: Vec::new(),
        skipped: Vec::new(),
        refused: Vec::new(),
    };
    for p in paths {
        match store::load(&p) {
            Ok(r) => out.reports.push((p, r)),
            Err(e) if e.is_refused_report() => out.refused.push(e.to_string()),
            Err(e) => out.skipped.push(e.to_string()),
        }
    }
    // By the instant, not the text: RFC 3339 times with other offsets sort wrongly as text
    // (every loaded report's `created_at` parses: `store::validate`).
    let instant = |r: &Report| chrono::DateTime::parse_from_rfc3339(&r.created_at).ok();
    out.reports
        .sort_by(|a, b| instant(&a.1).cmp(&instant(&b.1)).then(a.0.cmp(&b.0)));
    Ok(out)
}

impl Side {
    /// A report file, or a directory (the newest report of each workload in it). A directory
    /// holding a report refused for its figures (impossible, or inconsistent with its samples)
    /// is refused: a comparison, and the CI gate, must not pass by skipping a report that lies.
    /// Files that are not reports are skipped and listed.
    pub fn load(path: &Path) -> anyhow::Result<Side> {
        let shown = path.display().to_string();
        if path.is_dir() {
            let DirReports {
                reports: all,
                skipped,
                refused,
            } = read_dir(path)?;
            if let Some(first) = refused.first() {
                anyhow::bail!(
                    "{first} (in '{}'{}; remove or replace it to compare)",
                    crate::diag::show::short(&shown),
                    if refused.len() > 1 {
                        format!(", and {} more refused reports", refused.len() - 1)
                    } else {
                        String::new()
                    }
                );
            }
            anyhow::ensure!(
                !all.is_empty(),
                "'{}' holds no readable costbench report{}",
                crate::diag::show::short(&shown),
                skipped
                    .first()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default()
            );
            let mut reports = BTreeMap::new();
            for (p, r) in all {
                // Sorted by time: the newest of each workload wins.
                reports.insert(r.workload.name.clone(), (p, r));
            }
            Ok(Side {
                shown,
                reports,
                skipped,
            })
        } else {
            let r = store::load(path)?;
            let mut reports = BTreeMap::new();
            reports.insert(r.workload.name.clone(), (path.to_path_buf(), r));
            Ok(Side {
                shown,
                reports,
                skipped: Vec::new(),
            })
        }
    }
}

/// Compares two sides workload by workload.
pub fn compare(base: &Side, new: &Side, settings: &Settings) -> Comparison {
    let mut pairs = Vec::new();
    let mut only_in_base = Vec::new();
    let mut only_in_new = Vec::new();
    // Single files of different workloads are still compared: the user named them.
    let single = base.reports.len() == 1 && new.reports.len() == 1;
    if single {
        let (bp, b) = base.reports.values().next().expect("one report");
        let (np, n) = new.reports.values().next().expect("one report");
        pairs.push(compare_reports(b, n, bp, np, settings));
    } else {
        for (name, (bp, b)) in &base.reports {
            match new.reports.get(name) {
                Some((np, n)) => pairs.push(compare_reports(b, n, bp, np, settings)),
                None => only_in_base.push(name.clone()),
            }
        }
        for name in new.reports.keys() {
            if !base.reports.contains_key(name) {
                only_in_new.push(name.clone());
            }
        }
    }
    let gate = settings.fail_on_regression.map(|threshold| Gate {
        threshold,
        refused: if settings.across_machines {
            Vec::new()
        } else {
            pairs
                .iter()
                .filter(|p| !p.machine_differences.is_empty())
                .map(|p| p.workload.clone())
                .collect()
        },
        triggered: pairs
            .iter()
            .flat_map(|p| {
                p.metrics.iter().filter(|m| m.gated).filter_map(|m| {
                    let change = m.change?;
                    let band = threshold.max(settings.noise);
                    let v = verdict(&change, m.p_value, m.direction, band, settings.significance);
                    (v == Verdict::Regressed).then(|| GateHit {
                        workload: p.workload.clone(),
                        metric: m.id.clone(),
                        change,
                    })
                })
            })
            .collect(),
    });
    let mut skipped_files = base.skipped.clone();
    skipped_files.extend(new.skipped.iter().cloned());
    Comparison {
        schema_version: COMPARISON_SCHEMA_VERSION.to_string(),
        costbench_version: env!("CARGO_PKG_VERSION").to_string(),
        base: base.shown.clone(),
        new: new.shown.clone(),
        settings: *settings,
        pairs,
        only_in_base,
        only_in_new,
        skipped_files,
        gate,
    }
}

/// The verdict for a change interval (see the module doc). `p_value` None counts as not
/// significant.
pub fn verdict(
    change: &Estimate,
    p_value: Option<f64>,
    direction: Direction,
    band: f64,
    significance: f64,
) -> Verdict {
    let (lo, hi) = (change.lower, change.upper);
    if !(lo.is_finite() && hi.is_finite()) {
        return Verdict::Inconclusive;
    }
    let significant = p_value.is_some_and(|p| p < significance);
    let worse_if_up = direction == Direction::SmallerIsBetter;
    if significant && lo > band {
        return if worse_if_up {
            Verdict::Regressed
        } else {
            Verdict::Improved
        };
    }
    if significant && hi < -band {
        return if worse_if_up {
            Verdict::Improved
        } else {
            Verdict::Regressed
        };
    }
    if lo >= -band && hi <= band {
        return Verdict::NoChange;
    }
    Verdict::Inconclusive
}

/// Relative change of `median(new)·k_new` over `median(base)·k_base`, raised to `power` (+1 for
/// a time, −1 for a rate), by bootstrap of the two samples; with the Mann–Whitney p-value.
pub fn sample_change(
    base: &[f64],
    new: &[f64],
    power: i32,
    scale_ratio: f64,
    settings: &Settings,
) -> (Estimate, Option<f64>) {
    // Above 10,000 samples a side, each resample's median is drawn from its exact distribution
    // (stats::bootstrap): the same bootstrap, in seconds for a million samples.
    let r = stats::bootstrap_median_ratio(
        base,
        new,
        settings.resamples,
        settings.confidence_level,
        settings.seed,
    );
    // change = k·(1 + r)^power − 1 is monotone in r: percentile bounds map through it.
    let map = |x: f64| scale_ratio * (1.0 + x).powi(power) - 1.0;
    let (a, b) = (map(r.lower), map(r.upper));
    let derivative = scale_ratio * f64::from(power) * (1.0 + r.point).powi(power - 1);
    let change = Estimate {
        point: map(r.point),
        lower: a.min(b),
        upper: a.max(b),
        confidence_level: r.confidence_level,
        standard_error: r.standard_error * derivative.abs(),
    };
    let (_, _, p) = stats::mann_whitney_u(base, new);
    (change, p.is_finite().then_some(p))
}

/// Relative change from two reported estimates alone (first-order propagation of their standard
/// errors, normal quantiles), for metrics whose samples a report does not hold.
fn delta_change(base: &Estimate, new: &Estimate, confidence_level: f64) -> (Estimate, Option<f64>) {
    let ratio = new.point / base.point;
    let rel_se = ((new.standard_error / new.point).powi(2)
        + (base.standard_error / base.point).powi(2))
    .sqrt();
    let se = ratio.abs() * rel_se;
    let z = normal_quantile(0.5 + confidence_level / 2.0);
    let point = ratio - 1.0;
    let change = Estimate {
        point,
        lower: point - z * se,
        upper: point + z * se,
        confidence_level,
        standard_error: se,
    };
    let p = if se > 0.0 {
        Some(stats::student_t_two_sided_p(point / se, 1e9))
    } else if point == 0.0 {
        Some(1.0)
    } else {
        Some(0.0)
    };
    (change, p.filter(|p| p.is_finite()))
}

/// The standard normal quantile by bisection on Student's t with a huge df (exact enough).
fn normal_quantile(q: f64) -> f64 {
    let (mut lo, mut hi) = (-10.0, 10.0);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if stats::student_t_cdf(mid, 1e9) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

fn exact_change(base: f64, new: f64) -> (Estimate, Option<f64>) {
    let point = if base == new { 0.0 } else { new / base - 1.0 };
    (
        Estimate {
            point,
            lower: point,
            upper: point,
            confidence_level: 1.0,
            standard_error: 0.0,
        },
        Some(if point == 0.0 { 1.0 } else { 0.0 }),
    )
}

fn is_exact(e: &Estimate) -> bool {
    e.lower == e.point && e.upper == e.point && e.standard_error == 0.0
}

/// Compares one metric present on both sides.
fn compare_metric(
    b: &Metric,
    n: &Metric,
    base: &Report,
    new: &Report,
    settings: &Settings,
) -> MetricComparison {
    // A measured metric is compared through its samples, always: its stored interval is not
    // evidence of anything the samples do not show (all-equal samples have a zero-width
    // interval, which must not pass for an exact count). The exact rule is for counts.
    let (change, p, method) = match (
        sources::samples_of(base, &b.id),
        sources::samples_of(new, &n.id),
    ) {
        (Some(sb), Some(sn))
            if sb.power == sn.power && sb.samples.len() >= 2 && sn.samples.len() >= 2 =>
        {
            // value = k·median^power on each side: k from the report's own point.
            let kb = b.estimate.point / stats::median(sb.samples).powi(sb.power);
            let kn = n.estimate.point / stats::median(sn.samples).powi(sn.power);
            let (c, p) = sample_change(sb.samples, sn.samples, sb.power, kn / kb, settings);
            (c, p, "bootstrap")
        }
        (None, None) if is_exact(&b.estimate) && is_exact(&n.estimate) => {
            let (c, p) = exact_change(b.estimate.point, n.estimate.point);
            (c, p, "exact")
        }
        _ => {
            let (c, p) = delta_change(&b.estimate, &n.estimate, settings.confidence_level);
            (c, p, "delta")
        }
    };
    MetricComparison {
        id: b.id.clone(),
        unit: b.unit.clone(),
        direction: b.direction,
        machine_independent: b.machine_independent,
        kind: b.kind(),
        gated: true,
        base: Some(b.estimate),
        new: Some(n.estimate),
        change: Some(change),
        p_value: p,
        method: method.to_string(),
        verdict: verdict(
            &change,
            p,
            b.direction,
            settings.noise,
            settings.significance,
        ),
    }
}

fn one_sided(m: &Metric, in_base: bool) -> MetricComparison {
    MetricComparison {
        id: m.id.clone(),
        unit: m.unit.clone(),
        direction: m.direction,
        machine_independent: m.machine_independent,
        kind: m.kind(),
        gated: true,
        base: in_base.then_some(m.estimate),
        new: (!in_base).then_some(m.estimate),
        change: None,
        p_value: None,
        method: "none".to_string(),
        verdict: if in_base {
            Verdict::OnlyInBase
        } else {
            Verdict::OnlyInNew
        },
    }
}

/// Compares two reports (normally of the same workload).
pub fn compare_reports(
    base: &Report,
    new: &Report,
    base_path: &Path,
    new_path: &Path,
    settings: &Settings,
) -> PairComparison {
    let machine_differences = base.machine.differences(&new.machine);
    let same_testbed = machine_differences.is_empty();
    let same_code_path = base.machine.code_path_differences(&new.machine).is_empty();
    let raw = same_testbed || settings.raw_times;
    // What each kind of figure does across testbeds (docs/ci.md): shown or left out, gated or
    // not. On one testbed everything is shown and gated.
    let shown = |kind: MetricKind| same_testbed || raw || kind != MetricKind::Measured;
    let gated = |kind: MetricKind| match kind {
        _ if same_testbed => true,
        MetricKind::Exact => true,
        MetricKind::ExactForBinary => same_code_path,
        MetricKind::Measured | MetricKind::RooflineRelative | MetricKind::Modelled => false,
    };
    // Every metric on both sides is compared (the cost figures inherit their verdicts from
    // some of them, shown or not); the rows are those shown.
    let mut all: BTreeMap<String, MetricComparison> = BTreeMap::new();
    let mut metrics = Vec::new();
    let mut not_compared = Vec::new();
    let new_by_id: BTreeMap<&str, &Metric> =
        new.metrics.iter().map(|m| (m.id.as_str(), m)).collect();
    let base_ids: std::collections::BTreeSet<&str> =
        base.metrics.iter().map(|m| m.id.as_str()).collect();
    let mut row = |mut m: MetricComparison| {
        m.gated = gated(m.kind);
        if shown(m.kind) {
            metrics.push(m.clone());
        } else {
            not_compared.push(m.id.clone());
        }
        all.insert(m.id.clone(), m);
    };
    for b in &base.metrics {
        match new_by_id.get(b.id.as_str()) {
            Some(n) => row(compare_metric(b, n, base, new, settings)),
            None => row(one_sided(b, true)),
        }
    }
    for n in &new.metrics {
        if !base_ids.contains(n.id.as_str()) {
            row(one_sided(n, false));
        }
    }
    let (cost_inputs, costs) = compare_costs(base, new, &all, same_testbed, settings);
    PairComparison {
        workload: if base.workload.name == new.workload.name {
            base.workload.name.clone()
        } else {
            format!("{} → {}", base.workload.name, new.workload.name)
        },
        base_file: base_path.display().to_string(),
        new_file: new_path.display().to_string(),
        base_created_at: base.created_at.clone(),
        new_created_at: new.created_at.clone(),
        base_commit: base.machine.commit().map(str::to_owned),
        new_commit: new.machine.commit().map(str::to_owned),
        base_schema_version: base.schema_version.clone(),
        new_schema_version: new.schema_version.clone(),
        base_testbed: base.machine.testbed(),
        new_testbed: new.machine.testbed(),
        machine_differences,
        raw_times_compared: raw,
        not_compared,
        spec_changed: base.workload.spec_hash != new.workload.spec_hash,
        base_samples: fewest_samples(base),
        new_samples: fewest_samples(new),
        metrics,
        cost_inputs,
        costs,
    }
}

/// Below this many samples a side's bootstrap interval is too narrow to trust (a median of five
/// samples can only take five values), and one run says nothing about the run-to-run spread.
pub const FEW_SAMPLES: usize = 10;

fn fewest_samples(r: &Report) -> usize {
    match &r.measurement {
        crate::report::schema::Measurement::Step(s) => s.samples_s.len(),
        crate::report::schema::Measurement::Sweep(s) => {
            s.cases.iter().map(|c| c.samples_s.len()).min().unwrap_or(0)
        }
    }
}

/// The measured figures a priced option's cost depends on, each with its share of the cost
/// (the rest does not move with the measurement), when nothing but the measurement differs.
///
/// - The CPU baseline is priced at the run's whole-step rate: its cost is proportional to
///   1 / `step_gflops`, which is its one driver, with share 1.
/// - An accelerator priced in the `measured` scenario takes each op class's roofline fraction
///   as its efficiency: a class's time is proportional to 1 / its fraction, so the class's
///   share is its time in the option's modelled step (`step.classes[].time_s ÷ step.total_s`,
///   the new side's); the rest (exposed communication, the pipeline bubble) does not move.
/// - In the `published` scenario an accelerator's cost does not depend on the run: no driver.
pub fn cost_drivers(record: &crate::report::schema::CostRecord, option: &str) -> Vec<(String, f64)> {
    if option.starts_with("cpu ") {
        return vec![("step_gflops".to_string(), 1.0)];
    }
    if record.scenario != "measured" {
        return Vec::new();
    }
    let Some(o) = record
        .options
        .iter()
        .find(|o| format!("{} {}", o.instance, o.plan.as_str()) == option)
    else {
        return Vec::new();
    };
    let total = o.step.total_s;
    if !(total.is_finite() && total > 0.0) {
        return Vec::new();
    }
    o.step
        .classes
        .iter()
        .filter(|c| c.time_s.is_finite() && c.time_s > 0.0)
        .map(|c| {
            (
                format!("op.{}.roofline_fraction", c.class.name()),
                (c.time_s / total).min(1.0),
            )
        })
        .collect()
}

/// A cost figure's change when only the measurement behind it moved: its exact modelled
/// change `point` (new ÷ base − 1), with the interval and the p-value its drivers give, and a
/// verdict never more conclusive than theirs.
///
/// Each driver is a rate (bigger is better) with change `c ∈ [l, u]`; the figure's time goes as
/// 1 / rate, so the driver's time ratio relative to its point lies in
/// `[(1 + c)/(1 + u), (1 + c)/(1 + l)]`. With shares `w` (the rest `w₀ = 1 − Σw` fixed), the
/// figure's ratio lies in `(1 + point) · [w₀ + Σ w·lo, w₀ + Σ w·hi]`: first-order exact for a
/// cost that is a fixed part plus a sum of class times, and conservative in taking every
/// driver at its worst together. For the CPU baseline (one driver, share 1) it is the rate's
/// interval mapped exactly. The p-value is the smallest of the drivers that moved
/// conclusively, else the largest of all; and the figure is "regressed" ("improved") only if
/// a driver is — else at most inconclusive.
fn inherited_change(
    point: f64,
    drivers: &[(Option<&MetricComparison>, f64)],
    settings: &Settings,
) -> (Option<Estimate>, Option<f64>, Verdict) {
    let mut lo = 0.0;
    let mut hi = 0.0;
    let mut fixed = 1.0;
    for (m, w) in drivers {
        // A driver missing on a side (or from both reports) leaves the figure unexplained.
        let (q_lo, q_hi) = match m.and_then(|m| m.change) {
            Some(c) if c.lower > -1.0 => (
                (1.0 + c.point) / (1.0 + c.upper),
                (1.0 + c.point) / (1.0 + c.lower),
            ),
            _ => (f64::NAN, f64::NAN),
        };
        lo += w * q_lo;
        hi += w * q_hi;
        fixed -= w;
    }
    let fixed = fixed.max(0.0);
    let (lo, hi) = ((1.0 + point) * (fixed + lo), (1.0 + point) * (fixed + hi));
    if drivers.is_empty() || !(lo.is_finite() && hi.is_finite()) {
        // Moved by a measurement the reports do not both hold: nothing says how far.
        return (None, None, Verdict::Inconclusive);
    }
    let (lower, upper) = ((lo - 1.0).min(point), (hi - 1.0).max(point));
    let z = normal_quantile(0.5 + settings.confidence_level / 2.0);
    let interval = Estimate {
        point,
        lower,
        upper,
        confidence_level: settings.confidence_level,
        // The normal equivalent of the interval's width.
        standard_error: (upper - lower) / (2.0 * z),
    };
    let conclusive = |v: Verdict| matches!(v, Verdict::Regressed | Verdict::Improved);
    let p_of = |want: fn(Verdict) -> bool| {
        drivers
            .iter()
            .filter_map(|(m, _)| *m)
            .filter(|m| want(m.verdict))
            .filter_map(|m| m.p_value)
            .collect::<Vec<f64>>()
    };
    let moved = p_of(conclusive);
    let p = if moved.is_empty() {
        p_of(|_| true).into_iter().reduce(f64::max)
    } else {
        moved.into_iter().reduce(f64::min)
    };
    let v = verdict(
        &interval,
        p,
        Direction::SmallerIsBetter,
        settings.noise,
        settings.significance,
    );
    // A driver regressing (a rate falling) raises the cost: the same word.
    let v = match v {
        Verdict::Regressed | Verdict::Improved
            if !drivers.iter().any(|(m, _)| m.is_some_and(|m| m.verdict == v)) =>
        {
            Verdict::Inconclusive
        }
        v => v,
    };
    (Some(interval), p, v)
}

/// Cost figures of every option priced in either report, with the cause of each change; the
/// figures moved by the measurement alone take their verdict from `measured` (every metric
/// of the pair, compared) through [`cost_drivers`].
fn compare_costs(
    base: &Report,
    new: &Report,
    measured: &BTreeMap<String, MetricComparison>,
    same_testbed: bool,
    settings: &Settings,
) -> (Vec<String>, Vec<CostComparison>) {
    let (Some(bc), Some(nc)) = (&base.cost, &new.cost) else {
        let mut inputs = Vec::new();
        if base.cost.is_some() != new.cost.is_some() {
            inputs.push(format!(
                "cost: priced in the {} report only",
                if base.cost.is_some() { "base" } else { "new" }
            ));
        }
        return (inputs, Vec::new());
    };
    let mut inputs = Vec::new();
    let mut causes = Vec::new();
    if base.workload.spec_hash != new.workload.spec_hash {
        inputs.push("workload: the validated specs differ".to_string());
        causes.push("workload");
    }
    if bc.catalog_hash != nc.catalog_hash {
        inputs.push(format!(
            "catalog: {} (as of {}) vs {} (as of {})",
            short(&bc.catalog_hash),
            bc.catalog_as_of,
            short(&nc.catalog_hash),
            nc.catalog_as_of
        ));
        causes.push("catalog");
    }
    if bc.assumptions != nc.assumptions {
        for a in &bc.assumptions {
            let other = nc.assumptions.iter().find(|x| x.name == a.name);
            match other {
                Some(o) if o.value == a.value => {}
                Some(o) => inputs.push(format!("{}: {} vs {}", a.name, a.value, o.value)),
                None => inputs.push(format!("{}: {} vs absent", a.name, a.value)),
            }
        }
        causes.push("assumptions");
    }
    if bc.scenario != nc.scenario || bc.cluster != nc.cluster {
        inputs.push(format!(
            "scenario: {} ({}) vs {} ({})",
            bc.scenario, bc.cluster, nc.scenario, nc.cluster
        ));
        causes.push("scenario");
    }
    let mut out = Vec::new();
    type Figures = (f64, f64, f64, f64); // usd, wall days, chip-hours, price per instance-hour
    let mut options: BTreeMap<String, (Option<Figures>, Option<Figures>)> = BTreeMap::new();
    for (side, record) in [(0, bc), (1, nc)] {
        for o in &record.options {
            let key = format!("{} {}", o.instance, o.plan.as_str());
            let figures = (
                o.usd,
                o.wall_hours / 24.0,
                o.chip_hours,
                o.usd_per_instance_hour,
            );
            let entry = options.entry(key).or_default();
            if side == 0 {
                entry.0 = Some(figures);
            } else {
                entry.1 = Some(figures);
            }
        }
        if let Some(cpu) = &record.cpu_baseline {
            let key = format!("cpu {}", cpu.instance);
            let figures = (
                cpu.usd,
                cpu.wall_hours / 24.0,
                f64::NAN,
                cpu.usd_per_instance_hour,
            );
            let entry = options.entry(key).or_default();
            if side == 0 {
                entry.0 = Some(figures);
            } else {
                entry.1 = Some(figures);
            }
        }
    }
    for (option, (b, n)) in options {
        let price_changed = matches!((b, n), (Some(b), Some(n)) if b.3 != n.3);
        let mut input_causes: Vec<&str> = Vec::new();
        if price_changed {
            input_causes.push("price");
        }
        input_causes.extend(
            causes
                .iter()
                .filter(|&&x| !(x == "catalog" && price_changed)),
        );
        // Moved by the measurement alone: the figure inherits its drivers' verdict.
        let measured_only = input_causes.is_empty();
        let driver_ids = if measured_only {
            cost_drivers(nc, &option)
        } else {
            Vec::new()
        };
        let drivers: Vec<(Option<&MetricComparison>, f64)> = driver_ids
            .iter()
            .map(|(id, w)| (measured.get(id), *w))
            .collect();
        let cause = if !input_causes.is_empty() {
            input_causes.join(" + ")
        } else if same_testbed {
            "performance".to_string()
        } else {
            "testbed".to_string()
        };
        type Getter = fn(&Figures) -> f64;
        let figures: [(&str, Getter); 3] = [
            ("usd", |f| f.0),
            ("wall_days", |f| f.1),
            ("chip_hours", |f| f.2),
        ];
        for (figure, get) in figures {
            let bv = b.as_ref().map(get).filter(|v| v.is_finite());
            let nv = n.as_ref().map(get).filter(|v| v.is_finite());
            let mut interval = None;
            let mut p_value = None;
            let (change, verdict) = match (bv, nv) {
                (Some(x), Some(y)) => {
                    let (c, p) = exact_change(x, y);
                    if c.point != 0.0 && measured_only {
                        let (iv, p, v) = inherited_change(c.point, &drivers, settings);
                        interval = iv;
                        p_value = p;
                        (Some(c.point), v)
                    } else {
                        p_value = p;
                        (
                            Some(c.point),
                            verdict(
                                &c,
                                p,
                                Direction::SmallerIsBetter,
                                settings.noise,
                                settings.significance,
                            ),
                        )
                    }
                }
                (Some(_), None) => (None, Verdict::OnlyInBase),
                (None, Some(_)) => (None, Verdict::OnlyInNew),
                (None, None) => continue,
            };
            let moved = change.is_some_and(|c| c != 0.0);
            out.push(CostComparison {
                option: option.clone(),
                figure: figure.to_string(),
                base: bv,
                new: nv,
                change,
                interval,
                p_value,
                driven_by: if moved && measured_only {
                    driver_ids.iter().map(|(id, _)| id.clone()).collect()
                } else {
                    Vec::new()
                },
                verdict,
                cause: if moved { cause.clone() } else { String::new() },
            });
        }
    }
    (inputs, out)
}

/// The first 12 characters of a hash (characters, not bytes: a file may hold any text).
fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

/// Directory of the named baseline `name` under `results_dir`: `results/baselines/<name>/`.
pub fn baseline_dir(results_dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    anyhow::ensure!(
        !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !name.starts_with('.'),
        "baseline name '{name}': expected 1–64 characters of letters, digits, '-', '_' or '.', not starting with '.'"
    );
    Ok(results_dir.join("baselines").join(name))
}

/// The JSON Schema of [`Comparison`] (`costbench compare --format json`): the content of
/// `docs/compare-schema.json`, kept current by a test.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Comparison);
    let mut s = serde_json::to_string_pretty(&schema).expect("schemas serialise");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests;
