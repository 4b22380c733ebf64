//! `costbench history` as text and pictures: the table of series with their change points, and
//! the SVG chart (one panel per series).

use crate::compare::history::{History, Point, Series};
use crate::render::escape::term;
use crate::report::schema::Direction;
use crate::stats::changepoint::ChangePoint;
use crate::units;
use std::fmt::Write;

/// `2026-11-26 18:03 ab12cd3`: a point's label on charts and in tables, control characters
/// shown visibly (the commit is text from a report file, cut by characters, not bytes).
pub fn point_label(p: &Point) -> String {
    let time: String = p
        .created_at
        .chars()
        .take(16)
        .collect::<String>()
        .replace('T', " ");
    let label = match &p.commit {
        Some(c) => format!("{time} {}", c.chars().take(7).collect::<String>()),
        None => time,
    };
    term(&label).into_owned()
}

fn change_text(s: &Series, c: &ChangePoint) -> String {
    let p = &s.points[c.index];
    let worse = match s.direction {
        Direction::SmallerIsBetter => c.relative_change > 0.0,
        Direction::BiggerIsBetter => c.relative_change < 0.0,
    };
    format!(
        "{} at #{} ({}): {} → {} {}, p = {}",
        if worse { "regression" } else { "improvement" },
        c.index + 1,
        point_label(p),
        units::in_unit(c.mean_before, &s.unit),
        units::in_unit(c.mean_after, &s.unit),
        units::change(c.relative_change),
        units::p_value(Some(c.p_value))
    )
}

/// `lab@5c1e0f3a (AMD EPYC, 2 threads)`: the series' testbed, as `compare` shows it.
pub fn testbed_text(s: &Series) -> String {
    format!("{} ({})", s.testbed, s.testbed.machine)
}

/// A series' chart title: its workload, metric, unit and testbed, so that no two panels share
/// one (series differ by one of them).
pub fn title(s: &Series) -> String {
    format!(
        "{} · {} ({}) · {}",
        s.workload,
        s.id,
        s.unit,
        testbed_text(s)
    )
}

/// The history as a table: one row per series.
pub fn table(h: &History) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "costbench history: {} reports in {} ({} series)",
        h.reports,
        term(&h.dir),
        h.series.len()
    );
    for s in &h.skipped {
        let _ = writeln!(out, "! skipped: {}", term(s));
    }
    let mut t = crate::render::table::ruled(
        &[
            "workload",
            "testbed",
            "metric",
            "n",
            "first",
            "last",
            "last/first",
            "change points",
        ],
        false,
    );
    for s in &h.series {
        let first = s.points.first().map_or(f64::NAN, |p| p.estimate.point);
        let last = s.points.last().map_or(f64::NAN, |p| p.estimate.point);
        let changes: Vec<String> = s.change_points.iter().map(|c| change_text(s, c)).collect();
        t.add_row(vec![
            term(&s.workload).into_owned(),
            term(&testbed_text(s)).into_owned(),
            term(&s.id).into_owned(),
            s.points.len().to_string(),
            units::in_unit(first, &s.unit),
            units::in_unit(last, &s.unit),
            units::change(last / first - 1.0),
            if changes.is_empty() {
                "none".to_string()
            } else {
                changes.join("\n")
            },
        ]);
    }
    let _ = writeln!(out, "{t}");
    let _ = writeln!(out, "change points: {}", term(&h.method));
    out
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
        .map(title)
        .collect();
    let indices: Vec<Vec<usize>> = h
        .series
        .iter()
        .map(|s| s.change_points.iter().map(|c| c.index).collect())
        .collect();
    let panels: Vec<crate::render::chart::Series<'_>> = h
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| crate::render::chart::Series {
            title: &titles[i],
            unit: &s.unit,
            labels: &labels[i],
            values: &values[i][0],
            lower: Some(&values[i][1]),
            upper: Some(&values[i][2]),
            change_points: &indices[i],
        })
        .collect();
    crate::render::chart::history_svg(&panels)
}
