//! `--format bmf`: Bencher Metric Format, `{"bench": {"measure": {"value", "lower_value",
//! "upper_value"}}}`, of the reports' metrics (of a comparison: the new side's).
//!
//! BMF has no field for a note, so the measure's name says how a figure was obtained: the
//! measured figures keep the measures in [`MEASURED`] (Bencher's built-in `latency` among them)
//! and every modelled cost figure's measure starts with [`MODELLED_PREFIX`]
//! (`modelled-cost-usd`, `modelled-wall-days`). The names never carry a date or a value, so
//! Bencher tracks the same measure from run to run.

use super::{Entry, Exporter, NamedReport, Output, entries, pretty};
use crate::compare::Comparison;
use crate::compare::sources::split_id;
use crate::report::schema::Report;
use anyhow::Result;
use serde_json::{Map, Value, json};

/// The measures of measured figures: times (ns), rates, roofline fractions, the FLOP counts
/// the kernels counted, and a step's instruction and cache counts under Cachegrind (`run
/// --counts`).
pub const MEASURED: [&str; 8] = [
    "latency",
    "gflops",
    "roofline-fraction",
    "flops",
    "instructions",
    "cache-refs",
    "d1-misses",
    "ll-misses",
];

/// The start of every modelled figure's measure.
pub const MODELLED_PREFIX: &str = "modelled-";

/// Bencher Metric Format.
#[derive(Debug, Clone, Copy)]
pub struct Bmf;

impl Exporter for Bmf {
    fn name(&self) -> &'static str {
        "bmf"
    }

    fn report(&self, reports: &[NamedReport]) -> Result<Output> {
        Ok(Output::Text(bmf(&entries(
            reports.iter().map(|n| &n.report),
        ))))
    }

    fn comparison(&self, _c: &Comparison, new: &[Report]) -> Result<Output> {
        Ok(Output::Text(bmf(&entries(new))))
    }
}

/// Bencher's measure slug and the factor to its unit: measured times in nanoseconds under
/// Bencher's built-in `latency`, the other measured quantities as custom measures, modelled
/// quantities under [`MODELLED_PREFIX`] (`usd` is `modelled-cost-usd`).
fn measure(quantity: &str, unit: &str, modelled: bool) -> (String, f64) {
    if modelled {
        let q = match quantity {
            "usd" => "cost-usd",
            q => q,
        };
        return (format!("{MODELLED_PREFIX}{}", q.replace('_', "-")), 1.0);
    }
    match (quantity, unit) {
        (_, "s") => ("latency".to_string(), 1e9),
        ("gflops", _) => ("gflops".to_string(), 1.0),
        ("roofline_fraction", _) => ("roofline-fraction".to_string(), 1.0),
        ("flops", _) => ("flops".to_string(), 1.0),
        (q, _) => (q.replace('_', "-"), 1.0),
    }
}

/// Bench `<workload>/<subject>`, measure by quantity and basis (`latency` in ns, `gflops`,
/// `roofline-fraction`, `flops`; `modelled-cost-usd`, `modelled-wall-days`).
fn bmf(entries: &[Entry]) -> String {
    let mut root = Map::new();
    for entry in entries {
        let m = &entry.figure.metric;
        let (subject, quantity) = split_id(&m.id);
        let (measure, k) = measure(quantity, &m.unit, entry.figure.basis.is_modelled());
        let e = m.estimate;
        let mut fields = Map::new();
        fields.insert("value".into(), json!(e.point * k));
        if e.lower.is_finite() && e.upper.is_finite() {
            fields.insert("lower_value".into(), json!(e.lower * k));
            fields.insert("upper_value".into(), json!(e.upper * k));
        }
        let bench = root
            .entry(format!("{}/{subject}", entry.workload()))
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(b) = bench {
            b.insert(measure, Value::Object(fields));
        }
    }
    pretty(&Value::Object(root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modelled_measures_are_prefixed_and_measured_ones_kept() {
        assert_eq!(measure("time", "s", false), ("latency".to_string(), 1e9));
        assert_eq!(
            measure("roofline_fraction", "fraction", false).0,
            "roofline-fraction"
        );
        assert_eq!(measure("usd", "USD", true).0, "modelled-cost-usd");
        assert_eq!(measure("wall_days", "days", true).0, "modelled-wall-days");
        for (q, u) in [
            ("time", "s"),
            ("gflops", "GFLOP/s"),
            ("flops", "FLOP"),
            ("instructions", "instructions"),
            ("cache_refs", "references"),
            ("d1_misses", "misses"),
            ("ll_misses", "misses"),
        ] {
            assert!(MEASURED.contains(&measure(q, u, false).0.as_str()), "{q}");
        }
    }

    #[test]
    fn every_measure_of_a_report_is_measured_or_modelled() {
        let r: Report =
            serde_json::from_str(include_str!("../../../tests/fixtures/reports/tiny.json"))
                .unwrap();
        let doc: Value = serde_json::from_str(&bmf(&entries([&r]))).unwrap();
        let mut modelled = 0;
        for (bench, measures) in doc.as_object().unwrap() {
            for measure in measures.as_object().unwrap().keys() {
                let is_cost = bench.starts_with("tiny/cost.");
                if measure.starts_with(MODELLED_PREFIX) {
                    assert!(is_cost, "{bench} {measure}");
                    modelled += 1;
                } else {
                    assert!(MEASURED.contains(&measure.as_str()), "{bench} {measure}");
                    assert!(!is_cost, "{bench} {measure}");
                }
            }
        }
        assert_eq!(modelled, crate::report::cost_metrics(&r).len());
    }
}
