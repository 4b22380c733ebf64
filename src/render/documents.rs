//! The JSON documents of the commands that measure nothing — `list`, `check` — and the one
//! place that generates every command's JSON Schema into `docs/` (`list`, `check`, `catalog`,
//! `probe`, `history`; the report's and the estimate's live beside their types). A test keeps
//! the committed files current (`COSTBENCH_UPDATE_SCHEMA=1 cargo test --release schema`).

use crate::catalog::Catalog;
use crate::compare::history::History;
use crate::measure::probe::Roofline;
use crate::report::schema::WorkloadRecord;
use crate::workload::Workload;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the `list` and `check` documents.
pub const LISTING_SCHEMA_VERSION: &str = "1.0";

/// `costbench list --format json`: every bundled workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkloadList {
    /// `"1.0"`.
    pub schema_version: String,
    pub workloads: Vec<DescribedWorkload>,
}

/// A workload as costbench understood it, with its one-line description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DescribedWorkload {
    /// One-line human description.
    pub description: String,
    /// Name, kind, source, the validated spec and its hash (as in a report's `workload`).
    #[serde(flatten)]
    pub workload: WorkloadRecord,
}

/// `costbench check --format json`: a workload that validated (an invalid one is an error on
/// standard error and exit code 1, never a document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckDocument {
    /// `"1.0"`.
    pub schema_version: String,
    pub workload: DescribedWorkload,
    /// Memory the measured slice needs, bytes (weights, gradients, optimizer state,
    /// activations of the slice).
    pub slice_memory_bytes: u64,
    /// This machine's available memory, bytes, when the OS tells it (the slice fits: a slice
    /// that does not is refused before this document is written).
    pub available_memory_bytes: Option<u64>,
}

impl DescribedWorkload {
    pub fn new(w: &Workload, source: &str) -> Self {
        Self {
            description: w.description.clone(),
            workload: crate::report::workload_record(w, source),
        }
    }
}

/// Pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("documents serialise");
    s.push('\n');
    s
}

/// `costbench probe --format json`: the roofline (as stored in a report's `roofline`).
pub type ProbeDocument = Roofline;
/// `costbench catalog --format json`: the effective catalog.
pub type CatalogDocument = Catalog;
/// `costbench history --format json`.
pub type HistoryDocument = History;

/// Every command document's schema file under `docs/` and its content.
pub fn json_schemas() -> Vec<(&'static str, String)> {
    fn pretty(schema: schemars::Schema) -> String {
        let mut s = serde_json::to_string_pretty(&schema).expect("schemas serialise");
        s.push('\n');
        s
    }
    vec![
        (
            "list-schema.json",
            pretty(schemars::schema_for!(WorkloadList)),
        ),
        (
            "check-schema.json",
            pretty(schemars::schema_for!(CheckDocument)),
        ),
        (
            "catalog-schema.json",
            pretty(schemars::schema_for!(CatalogDocument)),
        ),
        (
            "probe-schema.json",
            pretty(schemars::schema_for!(ProbeDocument)),
        ),
        (
            "history-schema.json",
            pretty(schemars::schema_for!(HistoryDocument)),
        ),
        (
            "ab-schema.json",
            pretty(schemars::schema_for!(crate::compare::ab::AbComparison)),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_command_schemas_match_the_types() {
        for (name, generated) in json_schemas() {
            let path = format!("{}/docs/{name}", env!("CARGO_MANIFEST_DIR"));
            if std::env::var_os("COSTBENCH_UPDATE_SCHEMA").is_some() {
                std::fs::write(&path, &generated).unwrap();
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == generated,
                "docs/{name} is out of date: run `COSTBENCH_UPDATE_SCHEMA=1 cargo test --release schema`"
            );
        }
    }

    #[test]
    fn a_listed_workload_flattens_its_record_and_reads_back() {
        let w = crate::workload::bundled::load_bundled("mlp-small").unwrap();
        let list = WorkloadList {
            schema_version: LISTING_SCHEMA_VERSION.into(),
            workloads: vec![DescribedWorkload::new(&w, "mlp-small")],
        };
        let v: serde_json::Value = serde_json::from_str(&to_json(&list)).unwrap();
        let first = &v["workloads"][0];
        assert_eq!(first["name"], "mlp-small");
        assert_eq!(first["kind"], "mlp");
        assert!(first["spec_hash"].as_str().unwrap().len() == 64);
        let back: WorkloadList = serde_json::from_value(v).unwrap();
        assert_eq!(back, list);
    }
}
