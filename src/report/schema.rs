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
    /// Whether the figure depends on the machine (times, rates) or not (FLOP counts, fractions
    /// of the machine's own roofline).
    pub machine_independent: bool,
    pub estimate: Estimate,
}
