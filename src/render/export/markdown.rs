//! `--format markdown`: GitHub-flavoured Markdown for a pull-request comment.

use super::comparison::{
    COST_HEADER, METRIC_HEADER, cost_rows, counts, gate_line, metric_row, moved_costs, notices,
    testbed_line,
};
use super::{Exporter, Output, sections};
use crate::compare::{Comparison, MetricComparison, Verdict};
use crate::render::cost_rows::{Column, report_rows};
// Every inserted string, ours or a file's, goes through one of these two: text, or inline code.
use crate::render::escape::{code, markdown as escape};
use crate::report::schema::Report;
use crate::units;
use anyhow::Result;
use std::fmt::Write;

/// Markdown.
#[derive(Debug, Clone, Copy)]
pub struct Markdown;

impl Exporter for Markdown {
    fn name(&self) -> &'static str {
        "markdown"
    }

    fn report(&self, reports: &[Report]) -> Result<Output> {
        Ok(Output::Text(sections(reports.iter().map(report_markdown))))
    }

    fn comparison(&self, c: &Comparison, _new: &[Report]) -> Result<Output> {
        Ok(Output::Text(comparison_markdown(c)))
    }
}

/// The columns of a report's cost table.
const COST_COLUMNS: [Column; 9] = [
    Column::Instance,
    Column::Plan,
    Column::Chips,
    Column::WallTime,
    Column::Usd,
    Column::UsdPerMillionTokens,
    Column::ImpliedMfu,
    Column::UsdPerInstanceHour,
    Column::PriceSource,
];

/// A table of cells that are already Markdown (each made by [`escape`] or [`code`]).
fn table(header: &[&str], rows: &[Vec<String>], out: &mut String) {
    let mut t = crate::render::table::markdown(header);
    for r in rows {
        t.add_row(r.iter().cloned());
    }
    let _ = writeln!(out, "{t}");
}

/// Plain cells as Markdown text.
fn escaped(cells: Vec<String>) -> Vec<String> {
    cells.iter().map(|c| escape(c)).collect()
}

/// The first `n` characters of `s` (a commit), never cutting a character in two.
fn first_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn verdict(v: Verdict) -> String {
    match v {
        Verdict::Regressed => "🔴 **regressed**".to_string(),
        Verdict::Improved => "🟢 **improved**".to_string(),
        Verdict::Inconclusive => "🟡 inconclusive".to_string(),
        other => other.as_str().to_string(),
    }
}

/// The changes first, the rest folded.
pub fn comparison_markdown(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## costbench: {} → {}\n", code(&c.base), code(&c.new));
    if let Some(g) = gate_line(c) {
        let mark = if c.gate_failed() { "❌" } else { "✅" };
        let _ = writeln!(out, "{mark} {}\n", escape(&g));
    }
    let _ = writeln!(out, "{}\n", escape(&counts(c)));
    for n in notices(c) {
        let _ = writeln!(out, "> ⚠️ {}", escape(&n));
    }
    for p in &c.pairs {
        let _ = writeln!(out, "\n### {}\n", escape(&p.workload));
        let _ = writeln!(out, "{}\n", escape(&testbed_line(p)));
        let row = |m: &MetricComparison| {
            let mut r = escaped(metric_row(m));
            r[0] = code(&m.id);
            r[6] = verdict(m.verdict);
            if !m.gated {
                r[6].push_str(" (not gated)");
            }
            r
        };
        let (moved, quiet): (Vec<_>, Vec<_>) = p
            .metrics
            .iter()
            .partition(|m| m.verdict != Verdict::NoChange);
        if moved.is_empty() {
            let _ = writeln!(out, "No metric moved beyond the noise band.\n");
        } else {
            let rows: Vec<Vec<String>> = moved.iter().map(|m| row(m)).collect();
            table(&METRIC_HEADER, &rows, &mut out);
        }
        if !quiet.is_empty() {
            let _ = writeln!(
                out,
                "\n<details><summary>{} metrics with no change</summary>\n",
                quiet.len()
            );
            let rows: Vec<Vec<String>> = quiet.iter().map(|m| row(m)).collect();
            table(&METRIC_HEADER, &rows, &mut out);
            let _ = writeln!(out, "\n</details>");
        }
        for i in &p.cost_inputs {
            let _ = writeln!(out, "\nCost input changed: {}", escape(i));
        }
        let moved = moved_costs(p);
        if !moved.is_empty() {
            let _ = writeln!(
                out,
                "\nModelled cost of the target where it is not \"no change\" ({} other figures within ±{}%):\n",
                p.costs.len() - moved.len(),
                units::plain(c.settings.noise * 100.0)
            );
            let rows: Vec<Vec<String>> = cost_rows(&moved).into_iter().map(escaped).collect();
            table(&COST_HEADER, &rows, &mut out);
        } else if !p.costs.is_empty() {
            let _ = writeln!(
                out,
                "\nModelled costs: all {} figures within ±{}%.",
                p.costs.len(),
                units::plain(c.settings.noise * 100.0)
            );
        }
    }
    let _ = writeln!(
        out,
        "\n<sub>costbench {} · bootstrap of medians, {} resamples, seed {} · verdict rule: docs/ci.md</sub>",
        c.costbench_version, c.settings.resamples, c.settings.seed
    );
    out
}

/// One report's figures, then its cost table.
pub fn report_markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## costbench: {}\n\n{} on {} ({} threads){}\n",
        escape(&report.workload.name),
        escape(&report.created_at),
        escape(&report.machine.cpu_model),
        report.machine.threads,
        report
            .machine
            .commit()
            .map(|c| format!(", commit {}", code(&first_chars(c, 10))))
            .unwrap_or_default()
    );
    let rows: Vec<Vec<String>> = crate::report::all_metrics(report)
        .iter()
        .map(|m| {
            let e = m.estimate;
            let show = |x: f64| units::in_unit(x, &m.unit);
            vec![
                code(&m.id),
                escape(&show(e.point)),
                escape(&if e.lower == e.upper {
                    "exact".to_string()
                } else {
                    format!("[{}, {}]", show(e.lower), show(e.upper))
                }),
            ]
        })
        .collect();
    table(&["metric", "value", "95% interval"], &rows, &mut out);
    if let Some(c) = &report.cost {
        let _ = writeln!(
            out,
            "\n### Cost of the target ({} scenario; {}; catalog as of {})\n",
            escape(&c.scenario),
            escape(&c.cluster),
            escape(&c.catalog_as_of)
        );
        let rows: Vec<Vec<String>> = report_rows(&c.options)
            .iter()
            .map(|r| {
                COST_COLUMNS
                    .iter()
                    .map(|&col| escape(&r.text(col)))
                    .collect()
            })
            .collect();
        let header: Vec<&str> = COST_COLUMNS.iter().map(|c| c.header()).collect();
        table(&header, &rows, &mut out);
    }
    out
}

/// `costbench estimate --format markdown`: the verdict, then every option with its median and
/// 90% interval, for a pull request or a design document.
pub fn estimate_markdown(e: &crate::report::estimate::EstimateDocument) -> String {
    use crate::render::cost_rows::record_rows;
    let c = &e.cost;
    let mut out = format!(
        "## costbench estimate: {}\n\n{} parameters, {} tokens; {} scenario; {}; catalog as of {}\n\n",
        escape(&e.workload.name),
        crate::units::si(e.target_params),
        crate::units::si(e.target_tokens),
        escape(&c.scenario),
        escape(&c.cluster),
        escape(&c.catalog_as_of)
    );
    if let Some(u) = &c.uncertainty {
        out.push_str("```text\n");
        out.push_str(&crate::render::verdict::text(&u.verdict));
        out.push_str("```\n\n");
    }
    let columns = [
        Column::Family,
        Column::Instance,
        Column::Plan,
        Column::Chips,
        Column::Instances,
        Column::UsdInterval,
        Column::WallInterval,
        Column::ChipHours,
        Column::ImpliedMfu,
    ];
    let rows: Vec<Vec<String>> = record_rows(c)
        .iter()
        .map(|r| columns.iter().map(|&col| escape(&r.text(col))).collect())
        .collect();
    let header: Vec<&str> = columns.iter().map(|c| c.header()).collect();
    table(&header, &rows, &mut out);
    if c.options.iter().any(|o| o.changed_by_user) {
        out.push_str("\n\\* changed by `--price` or a catalog overlay\n");
    }
    out
}
