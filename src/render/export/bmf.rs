//! `--format bmf`: Bencher Metric Format, `{"bench": {"measure": {"value", "lower_value",
//! "upper_value"}}}`, of the reports' metrics (of a comparison: the new side's).

use super::{Exporter, NamedReport, Output, figures, pretty};
use crate::compare::Comparison;
use crate::compare::sources::split_id;
use crate::report::schema::{Metric, Report};
use anyhow::Result;
use serde_json::{Map, Value, json};

/// Bencher Metric Format.
#[derive(Debug, Clone, Copy)]
pub struct Bmf;

impl Exporter for Bmf {
    fn name(&self) -> &'static str {
        "bmf"
    }

    fn report(&self, reports: &[NamedReport]) -> Result<Output> {
        Ok(Output::Text(bmf(&figures(
            reports.iter().map(|n| &n.report),
        ))))
    }

    fn comparison(&self, _c: &Comparison, new: &[Report]) -> Result<Output> {
        Ok(Output::Text(bmf(&figures(new))))
    }
}

/// Bencher's measure slug and the factor to its unit: times in nanoseconds under Bencher's
/// built-in `latency`; the other quantities as custom measures.
fn measure(quantity: &str, unit: &str) -> (String, f64) {
    match (quantity, unit) {
        (_, "s") => ("latency".to_string(), 1e9),
        ("gflops", _) => ("gflops".to_string(), 1.0),
        ("roofline_fraction", _) => ("roofline-fraction".to_string(), 1.0),
        ("flops", _) => ("flops".to_string(), 1.0),
        (q, _) => (q.replace('_', "-"), 1.0),
    }
}

/// `(workload, metric)` figures: bench `<workload>/<subject>`, measure by quantity (`latency`
/// in ns, `gflops`, `roofline-fraction`, `flops`, `usd`, `wall-days`).
fn bmf(figures: &[(String, Metric)]) -> String {
    let mut root = Map::new();
    for (workload, m) in figures {
        let (subject, quantity) = split_id(&m.id);
        let (measure, k) = measure(quantity, &m.unit);
        let e = m.estimate;
        let mut fields = Map::new();
        fields.insert("value".into(), json!(e.point * k));
        if e.lower.is_finite() && e.upper.is_finite() {
            fields.insert("lower_value".into(), json!(e.lower * k));
            fields.insert("upper_value".into(), json!(e.upper * k));
        }
        let bench = root
            .entry(format!("{workload}/{subject}"))
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(b) = bench {
            b.insert(measure, Value::Object(fields));
        }
    }
    pretty(&Value::Object(root))
}
