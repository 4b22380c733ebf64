//! What `costbench estimate --format json` writes: the priced target without a measurement —
//! the workload as priced, the cost record (every option, the Monte Carlo, the verdict) and
//! the provenance of both. Its JSON Schema is `docs/estimate-schema.json` (a test keeps it
//! current); it follows the report's compatibility rules (unknown keys ignored, added fields
//! optional, a new major version refused).

use super::schema::WorkloadRecord;
use crate::model::pricing::CostRecord;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Major version of the estimate document.
pub const ESTIMATE_SCHEMA_MAJOR: u32 = 1;
/// Minor version of the estimate document.
pub const ESTIMATE_SCHEMA_MINOR: u32 = 1;

/// One `costbench estimate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EstimateDocument {
    /// `"major.minor"` of this document's schema.
    pub schema_version: String,
    pub costbench_version: String,
    /// When the estimate was made, RFC 3339, UTC.
    pub created_at: String,
    /// The workload whose target is priced (after `--tokens`).
    pub workload: WorkloadRecord,
    /// Parameters of the target.
    pub target_params: f64,
    /// Training tokens of the target.
    pub target_tokens: f64,
    /// Training FLOPs of the target by the executed-op formula.
    pub target_training_flops: f64,
    /// The efficiency scenario (`published`, `custom`, `measured`).
    pub scenario: String,
    pub cost: CostRecord,
}

impl EstimateDocument {
    /// The document as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("estimates serialise");
        s.push('\n');
        s
    }
}

/// `"<major>.<minor>"` of this build's estimate schema.
pub fn schema_version() -> String {
    format!("{ESTIMATE_SCHEMA_MAJOR}.{ESTIMATE_SCHEMA_MINOR}")
}

/// The JSON Schema of [`EstimateDocument`]: the content of `docs/estimate-schema.json`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(EstimateDocument);
    let mut s = serde_json::to_string_pretty(&schema).expect("schemas serialise");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_estimate_schema_matches_the_types() {
        let generated = super::json_schema();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/estimate-schema.json");
        if std::env::var_os("COSTBENCH_UPDATE_SCHEMA").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/estimate-schema.json is out of date: run `COSTBENCH_UPDATE_SCHEMA=1 cargo test --release schema`"
        );
    }
}
