//! `--format github-action-benchmark`: the action's `customSmallerIsBetter` and
//! `customBiggerIsBetter` formats, two files of `{name, unit, value, range, extra}` arrays, of
//! the reports' metrics (of a comparison: the new side's).
//!
//! Every entry says how its figure was obtained, since the action charts measured times and
//! modelled dollars side by side: a modelled figure's name ends in [`MODELLED_SUFFIX`], and
//! every `extra` starts with `measured: ` (with the sample count and the interval, or "counted
//! … exact" for a FLOP count) or `modelled: ` (the formula with its inputs and the catalog's
//! date). The action tracks a series by `name`, so names hold no date or value: a measured
//! figure's name is `<workload> <metric id>`, a modelled one's `<workload> <metric id>
//! [modelled]`, the same on every run.

use super::{Entry, Exporter, NamedReport, Output, entries, pretty};
use crate::compare::Comparison;
use crate::report::schema::{Direction, Report};
use anyhow::Result;
use serde_json::{Map, Value, json};

/// File names of the two files.
pub const SMALLER: &str = "costbench-smaller-is-better.json";
pub const BIGGER: &str = "costbench-bigger-is-better.json";

/// The end of a modelled figure's name.
pub const MODELLED_SUFFIX: &str = " [modelled]";

/// github-action-benchmark's custom format.
#[derive(Debug, Clone, Copy)]
pub struct GithubActionBenchmark;

impl Exporter for GithubActionBenchmark {
    fn name(&self) -> &'static str {
        "github-action-benchmark"
    }

    fn report(&self, reports: &[NamedReport]) -> Result<Output> {
        Ok(files(&entries(reports.iter().map(|n| &n.report))))
    }

    fn comparison(&self, _c: &Comparison, new: &[Report]) -> Result<Output> {
        Ok(files(&entries(new)))
    }
}

fn files(entries: &[Entry]) -> Output {
    let (smaller, bigger) = split(entries);
    Output::Files(vec![(SMALLER, smaller), (BIGGER, bigger)])
}

/// The `(smaller-is-better, bigger-is-better)` files of `entries`.
fn split(entries: &[Entry]) -> (String, String) {
    let mut smaller = Vec::new();
    let mut bigger = Vec::new();
    for entry in entries {
        let m = &entry.figure.metric;
        let e = m.estimate;
        if !e.point.is_finite() {
            continue;
        }
        let marker = if entry.figure.basis.is_modelled() {
            MODELLED_SUFFIX
        } else {
            ""
        };
        let mut object = Map::new();
        object.insert(
            "name".into(),
            json!(format!("{} {}{marker}", entry.workload(), m.id)),
        );
        object.insert("unit".into(), json!(m.unit));
        object.insert("value".into(), json!(e.point));
        if e.lower.is_finite() && e.upper.is_finite() && e.lower != e.upper {
            object.insert(
                "range".into(),
                json!(format!("± {}", (e.upper - e.lower) / 2.0)),
            );
        }
        object.insert("extra".into(), json!(entry.provenance()));
        match m.direction {
            Direction::SmallerIsBetter => smaller.push(Value::Object(object)),
            Direction::BiggerIsBetter => bigger.push(Value::Object(object)),
        }
    }
    (
        pretty(&Value::Array(smaller)),
        pretty(&Value::Array(bigger)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_says_measured_or_modelled() {
        let r: Report =
            serde_json::from_str(include_str!("../../../tests/fixtures/reports/tiny.json"))
                .unwrap();
        let (smaller, bigger) = split(&entries([&r]));
        let mut modelled = 0;
        let mut measured = 0;
        for text in [smaller, bigger] {
            let doc: Value = serde_json::from_str(&text).unwrap();
            for e in doc.as_array().unwrap() {
                let name = e["name"].as_str().unwrap();
                let extra = e["extra"].as_str().unwrap();
                if name.ends_with(MODELLED_SUFFIX) {
                    assert!(name.starts_with("tiny cost."), "{name}");
                    assert!(extra.starts_with("modelled: "), "{name}: {extra}");
                    assert!(extra.ends_with("catalog as of 2026-08-01"), "{extra}");
                    modelled += 1;
                } else {
                    assert!(!name.contains(" cost."), "{name}");
                    assert!(extra.starts_with("measured: "), "{name}: {extra}");
                    measured += 1;
                }
            }
        }
        assert_eq!(modelled, crate::report::cost_metrics(&r).len());
        assert_eq!(measured, r.metrics.len());
    }

    #[test]
    fn extras_name_the_samples_the_count_and_the_formula() {
        let r: Report =
            serde_json::from_str(include_str!("../../../tests/fixtures/reports/tiny.json"))
                .unwrap();
        let crate::report::schema::Measurement::Step(step) = &r.measurement else {
            panic!("a step")
        };
        let extra = |id: &str| {
            entries([&r])
                .iter()
                .find(|e| e.figure.metric.id == id)
                .unwrap()
                .provenance()
        };
        assert!(
            extra("step_time").starts_with(&format!(
                "measured: {} timed samples, 95% interval [",
                step.samples_s.len()
            )),
            "{}",
            extra("step_time")
        );
        assert_eq!(
            extra("step_flops"),
            "measured: counted by the kernels while they ran, exact"
        );
        let o = &r.cost.as_ref().unwrap().options[0];
        let usd = extra(&format!("cost.{}.{}.usd", o.instance, o.plan.as_str()));
        assert!(
            usd.starts_with(&format!(
                "modelled: usd = {} instance(s) × {} wall-clock hours × {} USD per instance-hour",
                o.instances, o.wall_hours, o.usd_per_instance_hour
            )),
            "{usd}"
        );
        let cpu = &r.cost.as_ref().unwrap().cpu_baseline.as_ref().unwrap();
        let days = extra(&format!("cost.cpu.{}.wall_days", cpu.instance));
        assert!(days.contains("÷ goodput 0.9"), "{days}");
        assert!(days.contains("CPU baseline"), "{days}");
    }
}
