//! `costbench history`: the reports of a directory in time order, each metric's series per
//! workload and testbed (the label and machine fingerprint `compare` matches by), and the
//! change points E-divisive means finds in it
//! ([`crate::stats::changepoint`]; docs/ci.md).

use crate::measure::machine::Testbed;
use crate::report::all_metrics;
use crate::report::schema::{Direction, Report};
use crate::stats::Estimate;
use crate::stats::changepoint::{self, ChangePoint};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One report's value of a metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Point {
    pub file: String,
    pub created_at: String,
    pub commit: Option<String>,
    pub estimate: Estimate,
}

/// A metric over time on one testbed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Series {
    pub workload: String,
    /// Where the points were measured: series never mix testbeds (label and fingerprint, as
    /// `compare` matches reports).
    pub testbed: Testbed,
    pub id: String,
    pub unit: String,
    pub direction: Direction,
    pub points: Vec<Point>,
    /// Change points of the series of point values, oldest first.
    pub change_points: Vec<ChangePoint>,
}

/// Everything `costbench history` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct History {
    pub dir: String,
    pub reports: usize,
    pub series: Vec<Series>,
    /// Files that are not readable reports, with the reason.
    pub skipped: Vec<String>,
    /// The detector's settings: significance, permutations, minimum segment, seed.
    pub method: String,
}

/// Whether a metric id is selected: contains one of `filters`, or (no filters) is measured.
fn selected(id: &str, filters: &[String]) -> bool {
    if filters.is_empty() {
        !id.starts_with("cost.")
    } else {
        filters.iter().any(|f| id.contains(f.as_str()))
    }
}

/// Builds the series of `reports` (already in time order, as [`crate::compare::load_dir`] gives
/// them).
pub fn build(
    dir: &str,
    reports: &[(PathBuf, Report)],
    skipped: Vec<String>,
    workloads: &[String],
    metrics: &[String],
    settings: &changepoint::Settings,
) -> History {
    let mut by_key: BTreeMap<(String, Testbed, String), Series> = BTreeMap::new();
    let mut count = 0;
    for (path, r) in reports {
        if !workloads.is_empty() && !workloads.contains(&r.workload.name) {
            continue;
        }
        count += 1;
        let testbed = r.machine.testbed();
        for m in all_metrics(r) {
            if !selected(&m.id, metrics) {
                continue;
            }
            let key = (r.workload.name.clone(), testbed.clone(), m.id.clone());
            let s = by_key.entry(key).or_insert_with(|| Series {
                workload: r.workload.name.clone(),
                testbed: testbed.clone(),
                id: m.id.clone(),
                unit: m.unit.clone(),
                direction: m.direction,
                points: Vec::new(),
                change_points: Vec::new(),
            });
            s.points.push(Point {
                file: path.display().to_string(),
                created_at: r.created_at.clone(),
                commit: r.machine.commit().map(str::to_owned),
                estimate: m.estimate,
            });
        }
    }
    let mut series: Vec<Series> = by_key.into_values().collect();
    for s in &mut series {
        let values: Vec<f64> = s.points.iter().map(|p| p.estimate.point).collect();
        s.change_points = changepoint::detect(&values, settings);
    }
    History {
        dir: dir.to_string(),
        reports: count,
        series,
        skipped,
        method: format!(
            "E-divisive means (Matteson & James 2014), permutation test α = {}, {} permutations, segments ≥ {} points, seed {}",
            settings.significance, settings.permutations, settings.min_segment, settings.seed
        ),
    }
}

/// The history as pretty JSON.
pub fn json(h: &History) -> String {
    let mut s = serde_json::to_string_pretty(h).expect("histories serialise");
    s.push('\n');
    s
}
