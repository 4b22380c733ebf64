//! `--format markdown`: GitHub-flavoured Markdown for a pull-request comment.

use super::comparison::{
    COST_HEADER, METRIC_HEADER, cost_rows, counts, gate_line, metric_row, moved_costs, notices,
    testbed_line,
};
use super::{Exporter, NamedReport, Output, sections};
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

    fn report(&self, reports: &[NamedReport]) -> Result<Output> {
        let several = reports.len() > 1;
        Ok(Output::Text(sections(
            reports.iter().map(|r| report_markdown(r, several)),
        )))
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
        // The two files of this workload (under directories or a baseline, the title's paths
        // are not the files the rows come from).
        let side = |file: &str, created_at: &str, commit: &Option<String>| {
            format!(
                "{} ({}{})",
                code(file),
                escape(created_at),
                commit
                    .as_deref()
                    .map(|c| format!(", commit {}", code(&first_chars(c, 10))))
                    .unwrap_or_default()
            )
        };
        let _ = writeln!(
            out,
            "base {} → new {}\n",
            side(&p.base_file, &p.base_created_at, &p.base_commit),
            side(&p.new_file, &p.new_created_at, &p.new_commit)
        );
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

/// One report's figures, then its cost table, under a heading naming the report's workload and
/// the line naming its file, time, machine (and label) and commit.
///
/// With `several` reports every table row also starts with a `report` column, the file's name,
/// so a row copied out of the comment still says which report it came from. A single report's
/// tables leave it out: Markdown is read by people, and the line under the heading names the
/// one file. (The CSV, read by scripts, always has the column.)
pub fn report_markdown(named: &NamedReport, several: bool) -> String {
    let report = &named.report;
    let file = code(&named.file);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## costbench: {}\n\n{file}: {} on {} ({} threads){}{}\n",
        escape(&report.workload.name),
        escape(&report.created_at),
        escape(&report.machine.cpu_model),
        report.machine.threads,
        report
            .machine
            .label
            .as_ref()
            .map(|l| format!(", label {}", escape(l)))
            .unwrap_or_default(),
        report
            .machine
            .commit()
            .map(|c| format!(", commit {}", code(&first_chars(c, 10))))
            .unwrap_or_default()
    );
    // The report column, first in every row and header when there are several reports.
    let which = |mut cells: Vec<String>| {
        if several {
            cells.insert(0, file.clone());
        }
        cells
    };
    let header = |cells: &[&'static str]| {
        let mut h = cells.to_vec();
        if several {
            h.insert(0, "report");
        }
        h
    };
    let rows: Vec<Vec<String>> = crate::report::all_metrics(report)
        .iter()
        .map(|m| {
            let e = m.estimate;
            let show = |x: f64| units::in_unit(x, &m.unit);
            which(vec![
                code(&m.id),
                escape(&show(e.point)),
                escape(&if e.lower == e.upper {
                    "exact".to_string()
                } else {
                    format!("[{}, {}]", show(e.lower), show(e.upper))
                }),
            ])
        })
        .collect();
    table(
        &header(&["metric", "value", "95% interval"]),
        &rows,
        &mut out,
    );
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
                which(
                    COST_COLUMNS
                        .iter()
                        .map(|&col| escape(&r.text(col)))
                        .collect(),
                )
            })
            .collect();
        let columns: Vec<&str> = COST_COLUMNS.iter().map(|c| c.header()).collect();
        table(&header(&columns), &rows, &mut out);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Report {
        serde_json::from_str(include_str!("../../../tests/fixtures/reports/tiny.json")).unwrap()
    }

    /// The data rows of the Markdown tables of `md` (not headers, not separators).
    fn data_rows(md: &str) -> Vec<&str> {
        let mut rows = Vec::new();
        let mut in_table = false;
        let mut header = true;
        for line in md.lines() {
            if !line.starts_with('|') {
                in_table = false;
                continue;
            }
            if !in_table {
                in_table = true;
                header = true;
                continue;
            }
            if header && line.starts_with("|-") {
                header = false;
                continue;
            }
            rows.push(line);
        }
        rows
    }

    #[test]
    fn several_reports_name_their_file_in_every_row() {
        let a = NamedReport::new("a|<b>.json".as_ref(), fixture());
        let b = NamedReport::new("b.json".as_ref(), fixture());
        let Output::Text(md) = Markdown.report(&[a.clone(), b]).unwrap() else {
            panic!("text")
        };
        let (first, second) = md.split_at(md.find("\n## costbench").unwrap());
        for (section, file) in [(first, "`a\\|<b>.json`"), (second, "`b.json`")] {
            assert!(section.contains(&format!("\n{file}: 2026-11-26T18:46:40Z on ")));
            let rows = data_rows(section);
            assert!(rows.len() > 10);
            for row in rows {
                assert!(row.starts_with(&format!("| {file} ")), "{row}");
            }
            assert!(section.contains("| report "), "{section}");
        }
        // One report: the line under the heading names its file, the rows do not.
        let Output::Text(one) = Markdown.report(&[a]).unwrap() else {
            panic!("text")
        };
        assert!(one.contains("\n`a\\|<b>.json`: 2026-11-26T18:46:40Z on "));
        assert!(!one.contains("| report "));
        assert!(data_rows(&one).iter().all(|r| !r.contains("a\\|<b>")));
    }
}
