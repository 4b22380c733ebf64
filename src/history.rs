//! `costbench history`: the reports of a directory in time order, each metric's series per
//! workload and machine, and the change points E-divisive means finds in it
//! ([`crate::measure::changepoint`]; docs/ci.md).

use crate::compare::export::{self, all_metrics};
use crate::measure::changepoint::{self, ChangePoint};
use crate::measure::stats::Estimate;
use crate::report::schema::{Direction, Report};
use comfy_table::{ContentArrangement, Table, presets};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

/// One report's value of a metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Point {
    pub file: String,
    pub created_at: String,
    pub commit: Option<String>,
    pub estimate: Estimate,
}

/// A metric over time on one machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Series {
    pub workload: String,
    /// `<cpu model>, <threads> threads[, label]`: series never mix machines.
    pub machine: String,
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

fn machine_key(r: &Report) -> String {
    let m = &r.machine;
    let mut key = format!("{}, {} threads", m.cpu_model, m.threads);
    if let Some(l) = &m.label {
        key.push_str(&format!(", {l}"));
    }
    key
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
    let mut by_key: BTreeMap<(String, String, String), Series> = BTreeMap::new();
    let mut count = 0;
    for (path, r) in reports {
        if !workloads.is_empty() && !workloads.contains(&r.workload.name) {
            continue;
        }
        count += 1;
        let machine = machine_key(r);
        for m in all_metrics(r) {
            if !selected(&m.id, metrics) {
                continue;
            }
            let key = (r.workload.name.clone(), machine.clone(), m.id.clone());
            let s = by_key.entry(key).or_insert_with(|| Series {
                workload: r.workload.name.clone(),
                machine: machine.clone(),
                id: m.id.clone(),
                unit: m.unit.clone(),
                direction: m.direction,
                points: Vec::new(),
                change_points: Vec::new(),
            });
            s.points.push(Point {
                file: path.display().to_string(),
                created_at: r.created_at.clone(),
                commit: r.machine.git.as_ref().map(|g| g.commit.clone()),
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

/// `2026-11-26 18:03 ab12cd3`: a point's label on charts and in tables.
pub fn point_label(p: &Point) -> String {
    let time = p
        .created_at
        .get(..16)
        .unwrap_or(&p.created_at)
        .replace('T', " ");
    match &p.commit {
        Some(c) => format!("{time} {}", &c[..c.len().min(7)]),
        None => time,
    }
}

fn change_text(s: &Series, c: &ChangePoint) -> String {
    let p = &s.points[c.index];
    let worse = match s.direction {
        Direction::SmallerIsBetter => c.relative_change > 0.0,
        Direction::BiggerIsBetter => c.relative_change < 0.0,
    };
    format!(
        "{} at #{} ({}): {} → {} {}, p = {:.3}",
        if worse { "regression" } else { "improvement" },
        c.index + 1,
        point_label(p),
        export::value(c.mean_before, &s.unit),
        export::value(c.mean_after, &s.unit),
        export::percent(c.relative_change),
        c.p_value
    )
}

/// The history as a table: one row per series.
pub fn table(h: &History) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "costbench history: {} reports in {} ({} series)",
        h.reports,
        h.dir,
        h.series.len()
    );
    for s in &h.skipped {
        let _ = writeln!(out, "! skipped: {s}");
    }
    let mut t = Table::new();
    t.load_style(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Disabled)
        .force_no_tty()
        .set_header(vec![
            "workload",
            "metric",
            "n",
            "first",
            "last",
            "last/first",
            "change points",
        ]);
    let machines: std::collections::BTreeSet<&str> =
        h.series.iter().map(|s| s.machine.as_str()).collect();
    for s in &h.series {
        let first = s.points.first().map_or(f64::NAN, |p| p.estimate.point);
        let last = s.points.last().map_or(f64::NAN, |p| p.estimate.point);
        let changes: Vec<String> = s.change_points.iter().map(|c| change_text(s, c)).collect();
        let workload = if machines.len() > 1 {
            format!("{} ({})", s.workload, s.machine)
        } else {
            s.workload.clone()
        };
        t.add_row(vec![
            workload,
            s.id.clone(),
            s.points.len().to_string(),
            export::value(first, &s.unit),
            export::value(last, &s.unit),
            export::percent(last / first - 1.0),
            if changes.is_empty() {
                "none".to_string()
            } else {
                changes.join("\n")
            },
        ]);
    }
    let _ = writeln!(out, "{t}");
    let _ = writeln!(out, "change points: {}", h.method);
    out
}

/// The history as pretty JSON.
pub fn json(h: &History) -> String {
    let mut s = serde_json::to_string_pretty(h).expect("histories serialise");
    s.push('\n');
    s
}

/// The series as an SVG chart, one panel per series (change points marked).
pub fn svg(h: &History) -> String {
    let labels: Vec<Vec<String>> = h
        .series
        .iter()
        .map(|s| s.points.iter().map(point_label).collect())
        .collect();
    let values: Vec<[Vec<f64>; 3]> = h
        .series
        .iter()
        .map(|s| {
            [
                s.points.iter().map(|p| p.estimate.point).collect(),
                s.points.iter().map(|p| p.estimate.lower).collect(),
                s.points.iter().map(|p| p.estimate.upper).collect(),
            ]
        })
        .collect();
    let titles: Vec<String> = h
        .series
        .iter()
        .map(|s| format!("{} · {} ({})", s.workload, s.id, s.unit))
        .collect();
    let indices: Vec<Vec<usize>> = h
        .series
        .iter()
        .map(|s| s.change_points.iter().map(|c| c.index).collect())
        .collect();
    let panels: Vec<crate::chart::Series<'_>> = h
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| crate::chart::Series {
            title: &titles[i],
            unit: &s.unit,
            labels: &labels[i],
            values: &values[i][0],
            lower: Some(&values[i][1]),
            upper: Some(&values[i][2]),
            change_points: &indices[i],
        })
        .collect();
    crate::chart::history_svg(&panels)
}
