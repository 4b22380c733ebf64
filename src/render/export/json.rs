//! `--format json`: a comparison in full (schema: docs/ci.md), or reports' metrics.

use super::{Exporter, NamedReport, Output, pretty};
use crate::compare::Comparison;
use crate::report::schema::Report;
use anyhow::Result;
use serde_json::{Value, json};

/// JSON.
#[derive(Debug, Clone, Copy)]
pub struct Json;

impl Exporter for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn report(&self, reports: &[NamedReport]) -> Result<Output> {
        let reports: Vec<&Report> = reports.iter().map(|n| &n.report).collect();
        Ok(Output::Text(report_json(&reports)))
    }

    fn comparison(&self, c: &Comparison, _new: &[Report]) -> Result<Output> {
        Ok(Output::Text(pretty(c)))
    }
}

/// Reports' figures: `{schema_version, reports: [{workload, created_at, commit,
/// report_schema_version, metrics}]}` (every metric, measured and modelled).
fn report_json(reports: &[&Report]) -> String {
    let list: Vec<Value> = reports
        .iter()
        .map(|r| {
            json!({
                "workload": r.workload.name,
                "created_at": r.created_at,
                "commit": r.machine.commit(),
                "report_schema_version": r.schema_version,
                "metrics": crate::report::all_metrics(r),
            })
        })
        .collect();
    pretty(&json!({
        "schema_version": crate::compare::COMPARISON_SCHEMA_VERSION,
        "reports": list,
    }))
}
