//! `--format github-action-benchmark`: the action's `customSmallerIsBetter` and
//! `customBiggerIsBetter` formats, two files of `{name, unit, value, range, extra}` arrays, of
//! the reports' metrics (of a comparison: the new side's).

use super::{Exporter, NamedReport, Output, figures, pretty};
use crate::compare::Comparison;
use crate::report::schema::{Direction, Metric, Report};
use anyhow::Result;
use serde_json::{Map, Value, json};

/// File names of the two files.
pub const SMALLER: &str = "costbench-smaller-is-better.json";
pub const BIGGER: &str = "costbench-bigger-is-better.json";

/// github-action-benchmark's custom format.
#[derive(Debug, Clone, Copy)]
pub struct GithubActionBenchmark;

impl Exporter for GithubActionBenchmark {
    fn name(&self) -> &'static str {
        "github-action-benchmark"
    }

    fn report(&self, reports: &[NamedReport]) -> Result<Output> {
        let (smaller, bigger) = split(&figures(reports.iter().map(|n| &n.report)));
        Ok(Output::Files(vec![(SMALLER, smaller), (BIGGER, bigger)]))
    }

    fn comparison(&self, _c: &Comparison, new: &[Report]) -> Result<Output> {
        let (smaller, bigger) = split(&figures(new));
        Ok(Output::Files(vec![(SMALLER, smaller), (BIGGER, bigger)]))
    }
}

/// The `(smaller-is-better, bigger-is-better)` files of `figures`.
fn split(figures: &[(String, Metric)]) -> (String, String) {
    let mut smaller = Vec::new();
    let mut bigger = Vec::new();
    for (workload, m) in figures {
        let e = m.estimate;
        if !e.point.is_finite() {
            continue;
        }
        let mut entry = Map::new();
        entry.insert("name".into(), json!(format!("{workload} {}", m.id)));
        entry.insert("unit".into(), json!(m.unit));
        entry.insert("value".into(), json!(e.point));
        if e.lower.is_finite() && e.upper.is_finite() && e.lower != e.upper {
            entry.insert(
                "range".into(),
                json!(format!("± {}", (e.upper - e.lower) / 2.0)),
            );
            entry.insert(
                "extra".into(),
                json!(format!(
                    "{} interval [{}, {}]",
                    crate::units::percent_to(e.confidence_level, 0),
                    e.lower,
                    e.upper
                )),
            );
        }
        match m.direction {
            Direction::SmallerIsBetter => smaller.push(Value::Object(entry)),
            Direction::BiggerIsBetter => bigger.push(Value::Object(entry)),
        }
    }
    (
        pretty(&Value::Array(smaller)),
        pretty(&Value::Array(bigger)),
    )
}
