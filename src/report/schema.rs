//! Report schema v1: what `costbench run` writes to `results/`, documented in
//! `docs/report-schema.md` and as JSON Schema in `docs/report-schema.json` (generated from these
//! types; a test keeps the file current).
//!
//! Compatibility rules: readers ignore unknown keys; a field added in a later minor version is
//! optional (`#[serde(default)]`) so older files still load; a new major version is refused.

pub use crate::measure::counts::Counts;
use crate::measure::machine::MachineContext;
use crate::measure::probe::Roofline;
pub use crate::measure::record::{
    FlopAccounting, Measurement, OpClassMeasurement, StepMeasurement, SweepCaseMeasurement,
    SweepMeasurement,
};
use crate::measure::sampler::SamplingSettings;
use crate::measure::scaling::ScalingCheck;
pub use crate::model::pricing::{AssumptionRecord, CostRecord, CpuBaseline};
use crate::stats::Estimate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Major version: bumped when a reader of the previous major could misread a file.
pub const SCHEMA_MAJOR: u32 = 1;
/// Minor version: bumped when fields are added.
pub const SCHEMA_MINOR: u32 = 6;

/// `"<major>.<minor>"` of this build's schema.
pub fn schema_version() -> String {
    format!("{SCHEMA_MAJOR}.{SCHEMA_MINOR}")
}

/// One saved run of one workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// `"major.minor"` of the schema the file follows.
    pub schema_version: String,
    pub costbench_version: String,
    /// When the run finished, RFC 3339, UTC.
    pub created_at: String,
    pub machine: MachineContext,
    /// This machine's measured roofline, when probed.
    #[serde(default)]
    pub roofline: Option<Roofline>,
    pub workload: WorkloadRecord,
    pub settings: SamplingSettings,
    pub measurement: Measurement,
    /// Every comparable figure of the run, flat, with id, unit and direction (what `compare`
    /// matches on).
    pub metrics: Vec<Metric>,
    /// Warnings raised while measuring, each saying what to do.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The slice measured at several sizes (`costbench run --scaling`).
    #[serde(default)]
    pub scaling: Option<ScalingCheck>,
    /// The target's training cost on every catalog option (transformer workloads; since 1.1).
    #[serde(default)]
    pub cost: Option<CostRecord>,
    /// Instructions (and cache references and misses) of one step counted under Cachegrind,
    /// with the raw totals they come from (`run --counts`; since 1.6, absent without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
}

/// The workload as it was run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkloadRecord {
    pub name: String,
    /// `transformer`, `mlp` or `gemm`.
    pub kind: String,
    /// Where it came from: a bundled name or the file path given.
    pub source: String,
    /// The validated workload (target and slice), as costbench understood it.
    pub spec: serde_json::Value,
    /// SHA-256 of `spec` serialised as compact JSON, hex: equal hashes mean the same workload.
    pub spec_hash: String,
}

/// Whether a larger value of a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    SmallerIsBetter,
    BiggerIsBetter,
}

/// A comparable figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Metric {
    /// Stable identifier, e.g. `step_time`, `op.matmul.gflops`, `case.<label>.time`.
    pub id: String,
    /// Unit of `estimate`, e.g. `s`, `GFLOP/s`, `fraction`, `FLOP`.
    pub unit: String,
    pub direction: Direction,
    /// Kept for readers of schema 1.0–1.5: false for times and rates, true otherwise. It lumps
    /// roofline fractions (which move between machines) with counts (which do not); `kind`
    /// says which is which.
    pub machine_independent: bool,
    pub estimate: Estimate,
    /// What the figure depends on (since 1.6; read [`Metric::kind`], which derives it from the
    /// id for older reports).
    #[serde(default)]
    pub kind: Option<MetricKind>,
}

impl Metric {
    /// What the figure depends on: the recorded kind, or for a report before 1.6 the one its
    /// id gives ([`MetricKind::of_id`]).
    pub fn kind(&self) -> MetricKind {
        self.kind.unwrap_or_else(|| MetricKind::of_id(&self.id, &self.unit))
    }
}

/// What a metric's value depends on, which decides where it may be compared and gated
/// (docs/ci.md, "Across testbeds").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Exact given the workload: executed FLOP counts (`*.flops`, `step_flops`). The same on
    /// every machine and build; compared and gated across testbeds.
    Exact,
    /// Exact for one binary on one code path: instruction and cache counts (`count.*`). Equal
    /// across testbeds only where the code path is the same (ISA, caches, threads, build).
    ExactForBinary,
    /// Measured on its testbed: times and rates (`*time`, `*gflops`). Across testbeds left out
    /// (`compare --raw-times` shows them, never gated).
    Measured,
    /// Measured, relative to its own testbed's measured roofline (`*.roofline_fraction`).
    /// Moves between machines (the roofline's code path and the kernels' do not move
    /// together): across testbeds shown, never gated.
    RooflineRelative,
    /// Modelled by the cost model from its inputs and the run's measured rates (`cost.*`).
    Modelled,
}

impl MetricKind {
    /// The kind of a metric by its id (and unit), the rule of reports before 1.6: `cost.*`
    /// modelled, `count.*` exact for the binary, FLOP counts exact, roofline fractions relative
    /// to the roofline, anything else measured.
    pub fn of_id(id: &str, unit: &str) -> MetricKind {
        let quantity = id
            .strip_prefix("step_")
            .unwrap_or_else(|| id.rsplit_once('.').map_or(id, |(_, q)| q));
        if id.starts_with("cost.") {
            MetricKind::Modelled
        } else if id.starts_with("count.") {
            MetricKind::ExactForBinary
        } else if quantity == "flops" || unit == "FLOP" {
            MetricKind::Exact
        } else if quantity == "roofline_fraction" {
            MetricKind::RooflineRelative
        } else {
            MetricKind::Measured
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Exact => "exact",
            MetricKind::ExactForBinary => "exact for the binary",
            MetricKind::Measured => "measured",
            MetricKind::RooflineRelative => "relative to the roofline",
            MetricKind::Modelled => "modelled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MetricKind::{self, *};

    #[test]
    fn the_kind_of_every_metric_id() {
        let cases: [(&str, &str, MetricKind); 12] = [
            ("step_time", "s", Measured),
            ("step_gflops", "GFLOP/s", Measured),
            ("step_flops", "FLOP", Exact),
            ("op.matmul.time", "s", Measured),
            ("op.matmul.gflops", "GFLOP/s", Measured),
            ("op.matmul.flops", "FLOP", Exact),
            ("op.matmul.roofline_fraction", "fraction", RooflineRelative),
            ("case.sq-64-f32.time", "s", Measured),
            ("case.sq-64-f32.roofline_fraction", "fraction", RooflineRelative),
            ("cost.p5.48xlarge.on_demand.usd", "USD", Modelled),
            ("cost.cpu.c7i.48xlarge.wall_days", "days", Modelled),
            ("count.step.instructions", "instructions", ExactForBinary),
        ];
        for (id, unit, kind) in cases {
            assert_eq!(MetricKind::of_id(id, unit), kind, "{id}");
        }
    }
}
