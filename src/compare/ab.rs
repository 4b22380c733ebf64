//! Same-runner A/B (`costbench ab`): a base build and a head build measured back to back on one
//! machine, in interleaved rounds, and compared on the paired per-round differences
//! (`stats::paired`). On a shared CI runner the machine's speed drifts by more than the changes
//! worth catching; a round's two runs share that drift, and the paired log ratio cancels it.
//!
//! Each round runs both builds once, in alternating order (base first in odd rounds, head first
//! in even ones), so that neither side always runs on a warmer or cooler machine. Each run's
//! figure is its report's point estimate (a median over its samples). The verdict follows
//! `compare`'s rule ([`super::verdict`]) with the paired interval and p-value, and the gate fires
//! on a gated metric (default `step_time`) that regressed beyond the threshold.

use super::{Gate, GateHit, Verdict, verdict};
use crate::report::schema::{Direction, Report};
use crate::stats::{Estimate, paired_log_ratio};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the A/B JSON (`costbench ab --format json`), `"major.minor"`.
pub const AB_SCHEMA_VERSION: &str = "1.0";

/// Which side ran first in round `index` (1-based): base in odd rounds, head in even ones.
pub fn base_first(index: usize) -> bool {
    index % 2 == 1
}

/// How the rounds are judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AbSettings {
    /// Half-width of the noise band, a fraction.
    pub noise: f64,
    /// Significance level of the paired t-test.
    pub significance: f64,
    /// Confidence level of the change's interval.
    pub confidence_level: f64,
    /// The gate: fail when a gated metric regresses by more than this fraction.
    pub fail_on_regression: Option<f64>,
    /// The metrics the gate looks at (ids, e.g. `step_time`).
    pub gated_metrics: Vec<String>,
}

/// One round: which side ran first and the reports each side wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Round {
    /// 1-based.
    pub index: usize,
    /// `base, head` or `head, base`.
    pub order: String,
    /// The reports of the round, per side (one per workload).
    pub base_reports: Vec<String>,
    pub head_reports: Vec<String>,
}

/// One metric of one workload over the rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AbMetric {
    pub workload: String,
    pub id: String,
    pub unit: String,
    pub direction: Direction,
    /// Whether the gate looks at this metric.
    pub gated: bool,
    /// Each round's figure (the report's point estimate), per side.
    pub base: Vec<f64>,
    pub head: Vec<f64>,
    /// head ÷ base − 1: the geometric mean of the per-round ratios, with its paired t interval.
    pub change: Estimate,
    /// Two-sided p-value of the paired t-test on the log ratios (null when undefined).
    pub p_value: Option<f64>,
    pub verdict: Verdict,
}

/// Everything `costbench ab` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AbComparison {
    pub schema_version: String,
    pub costbench_version: String,
    /// The two builds as given on the command line.
    pub base: String,
    pub head: String,
    /// Each side's `costbench --version`.
    pub base_version: String,
    pub head_version: String,
    pub settings: AbSettings,
    pub rounds: Vec<Round>,
    pub metrics: Vec<AbMetric>,
    /// Metrics left out because a round lacked them on one side (`workload: id`).
    pub incomplete: Vec<String>,
    pub gate: Option<Gate>,
    /// Anything that weakens the result (e.g. a planted slowdown was active).
    pub warnings: Vec<String>,
}

impl AbComparison {
    /// Whether the gate fired.
    pub fn gate_failed(&self) -> bool {
        self.gate.as_ref().is_some_and(|g| !g.triggered.is_empty())
    }
}

/// The reports of one round: each side's, one per workload.
#[derive(Debug, Clone)]
pub struct RoundReports {
    pub base: Vec<Report>,
    pub head: Vec<Report>,
}

/// Compares the rounds' reports metric by metric. `rounds` are in order; a workload's metric is
/// compared when every round has it on both sides.
pub fn analyse(rounds: &[RoundReports], settings: &AbSettings) -> (Vec<AbMetric>, Vec<String>) {
    // The metric list of the first round's base reports, in their order.
    let mut keys: Vec<(String, String, String, Direction)> = Vec::new();
    if let Some(first) = rounds.first() {
        for r in &first.base {
            for m in &r.metrics {
                keys.push((
                    r.workload.name.clone(),
                    m.id.clone(),
                    m.unit.clone(),
                    m.direction,
                ));
            }
        }
    }
    let point = |reports: &[Report], workload: &str, id: &str| {
        reports
            .iter()
            .find(|r| r.workload.name == workload)
            .and_then(|r| r.metrics.iter().find(|m| m.id == id))
            .map(|m| m.estimate.point)
    };
    let mut metrics = Vec::new();
    let mut incomplete = Vec::new();
    for (workload, id, unit, direction) in keys {
        let series = |side: fn(&RoundReports) -> &Vec<Report>| {
            rounds
                .iter()
                .map(|r| point(side(r), &workload, &id))
                .collect::<Option<Vec<f64>>>()
        };
        let (Some(base), Some(head)) = (series(|r| &r.base), series(|r| &r.head)) else {
            incomplete.push(format!("{workload}: {id}"));
            continue;
        };
        let paired = paired_log_ratio(&base, &head, settings.confidence_level);
        let p_value = paired.p_value.is_finite().then_some(paired.p_value);
        let v = verdict(
            &paired.change,
            p_value,
            direction,
            settings.noise,
            settings.significance,
        );
        metrics.push(AbMetric {
            gated: settings.gated_metrics.contains(&id),
            workload,
            id,
            unit,
            direction,
            base,
            head,
            change: paired.change,
            p_value,
            verdict: v,
        });
    }
    (metrics, incomplete)
}

/// The gate over the analysed metrics: a gated metric whose change, judged with the band widened
/// to the threshold, is a regression.
pub fn gate(metrics: &[AbMetric], settings: &AbSettings) -> Option<Gate> {
    let threshold = settings.fail_on_regression?;
    let band = threshold.max(settings.noise);
    Some(Gate {
        threshold,
        triggered: metrics
            .iter()
            .filter(|m| m.gated)
            .filter(|m| {
                verdict(
                    &m.change,
                    m.p_value,
                    m.direction,
                    band,
                    settings.significance,
                ) == Verdict::Regressed
            })
            .map(|m| GateHit {
                workload: m.workload.clone(),
                metric: m.id.clone(),
                change: m.change,
            })
            .collect(),
        // Both builds ran on this machine, round by round: never a cross-machine gate.
        refused: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(fail: Option<f64>) -> AbSettings {
        AbSettings {
            noise: 0.02,
            significance: 0.05,
            confidence_level: 0.95,
            fail_on_regression: fail,
            gated_metrics: vec!["step_time".into()],
        }
    }

    fn report_with(step: f64, gflops: f64) -> Report {
        // The committed fixture compare's own tests use; only its metrics' points matter here.
        let mut r = crate::compare::tests::template();
        r.workload.name = "w".into();
        for m in &mut r.metrics {
            m.estimate.point = match m.id.as_str() {
                "step_time" => step,
                _ => gflops,
            };
        }
        r
    }

    fn rounds(base: &[f64], head: &[f64]) -> Vec<RoundReports> {
        base.iter()
            .zip(head)
            .map(|(&b, &h)| RoundReports {
                base: vec![report_with(b, 1.0 / b)],
                head: vec![report_with(h, 1.0 / h)],
            })
            .collect()
    }

    #[test]
    fn a_slowdown_in_every_round_regresses_and_gates() {
        // The machine drifts by ±10% between rounds; head is 6% slower in each.
        let base = [1.00, 1.08, 0.93, 1.10, 0.97, 1.04];
        let noise = [0.005, -0.004, 0.006, -0.003, 0.002, -0.005];
        let head: Vec<f64> = base
            .iter()
            .zip(noise)
            .map(|(b, e)| b * (1.06 + e))
            .collect();
        let s = settings(Some(0.03));
        let (metrics, incomplete) = analyse(&rounds(&base, &head), &s);
        assert!(incomplete.is_empty());
        let step = metrics.iter().find(|m| m.id == "step_time").unwrap();
        assert_eq!(step.verdict, Verdict::Regressed, "{step:?}");
        assert!((step.change.point - 0.06).abs() < 0.003);
        let gate = gate(&metrics, &s).unwrap();
        assert_eq!(gate.triggered.len(), 1);
        assert_eq!(gate.triggered[0].metric, "step_time");
        // The rates moved the other way: regressed too, but not gated.
        assert!(
            metrics
                .iter()
                .filter(|m| m.id != "step_time" && m.unit == "GFLOP/s")
                .all(|m| m.verdict == Verdict::Regressed && !m.gated)
        );
        // Above the threshold's band the same data do not fire the gate.
        assert!(super::gate(&metrics, &settings(Some(0.10))).unwrap().triggered.is_empty());
    }

    #[test]
    fn drift_alone_is_no_change_and_never_fires() {
        let base = [1.00, 1.08, 0.93, 1.10, 0.97, 1.04];
        let noise = [0.003, -0.004, 0.002, -0.001, 0.004, -0.003];
        let head: Vec<f64> = base.iter().zip(noise).map(|(b, e)| b * (1.0 + e)).collect();
        let s = settings(Some(0.0));
        let (metrics, _) = analyse(&rounds(&base, &head), &s);
        let step = metrics.iter().find(|m| m.id == "step_time").unwrap();
        assert_eq!(step.verdict, Verdict::NoChange, "{step:?}");
        assert!(gate(&metrics, &s).unwrap().triggered.is_empty());
    }

    #[test]
    fn a_metric_missing_from_a_round_is_listed_not_compared() {
        let mut r = rounds(&[1.0, 1.0], &[1.0, 1.0]);
        r[1].head[0].metrics.retain(|m| m.id != "step_time");
        let (metrics, incomplete) = analyse(&r, &settings(None));
        assert!(metrics.iter().all(|m| m.id != "step_time"));
        assert_eq!(incomplete, vec!["w: step_time".to_string()]);
        assert!(base_first(1));
        assert!(!base_first(2));
    }
}
