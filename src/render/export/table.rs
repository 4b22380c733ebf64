//! `--format table`: aligned text for the terminal, verdicts coloured when `color`.

use super::comparison::{
    COST_HEADER, METRIC_HEADER, cost_rows, counts, gate_line, metric_row, moved_costs, notices,
    pair_header,
};
use super::{Exporter, NamedReport, Output, sections};
use crate::compare::{Comparison, Verdict};
use crate::render::escape::term;
use crate::render::table::ruled;
use crate::report::schema::Report;
use crate::units;
use anyhow::Result;
use comfy_table::{Cell, Color};
use std::fmt::Write;

/// The terminal table; `color` for a terminal that shows colour.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub color: bool,
}

impl Exporter for Table {
    fn name(&self) -> &'static str {
        "table"
    }

    fn report(&self, reports: &[NamedReport]) -> Result<Output> {
        Ok(Output::Text(sections(
            reports.iter().map(|n| report_table(&n.report)),
        )))
    }

    fn comparison(&self, c: &Comparison, _new: &[Report]) -> Result<Output> {
        Ok(Output::Text(comparison_table(c, self.color)))
    }
}

fn verdict_color(v: Verdict) -> Option<Color> {
    match v {
        Verdict::Regressed => Some(Color::Red),
        Verdict::Improved => Some(Color::Green),
        Verdict::Inconclusive => Some(Color::Yellow),
        _ => None,
    }
}

/// Per workload, every metric and every cost figure that changed.
pub fn comparison_table(c: &Comparison, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "costbench compare: {} → {}",
        term(&c.base),
        term(&c.new)
    );
    for n in notices(c) {
        let _ = writeln!(out, "! {n}");
    }
    for p in &c.pairs {
        let _ = writeln!(out, "\n{}", pair_header(p));
        let mut t = ruled(&METRIC_HEADER, color);
        for m in &p.metrics {
            let mut cells: Vec<Cell> = metric_row(m).into_iter().map(Cell::new).collect();
            if let Some(col) = verdict_color(m.verdict) {
                let last = cells.pop().expect("seven cells");
                cells.push(last.fg(col));
            }
            t.add_row(cells);
        }
        let _ = writeln!(out, "{t}");
        for i in &p.cost_inputs {
            let _ = writeln!(out, "  cost input changed: {}", term(i));
        }
        if p.costs.is_empty() {
            continue;
        }
        let noise = units::plain(c.settings.noise * 100.0);
        let moved = moved_costs(p);
        if moved.is_empty() {
            let _ = writeln!(
                out,
                "  modelled costs: all {} figures within ±{noise}%",
                p.costs.len()
            );
            continue;
        }
        let mut t = ruled(&COST_HEADER, color);
        for row in cost_rows(&moved) {
            t.add_row(row);
        }
        let _ = writeln!(
            out,
            "  modelled cost of the target where it is not \"no change\" ({} other figures within ±{noise}%):\n{t}",
            p.costs.len() - moved.len()
        );
    }
    let _ = writeln!(out, "\n{}", counts(c));
    if let Some(g) = gate_line(c) {
        let _ = writeln!(out, "{g}");
    }
    out
}

/// One report's figures.
pub fn report_table(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}), {} on {}",
        term(&report.workload.name),
        term(&report.workload.source),
        term(&report.created_at),
        term(&report.machine.cpu_model)
    );
    let mut t = ruled(&["metric", "value", "interval", "±"], false);
    for m in crate::report::all_metrics(report) {
        let e = m.estimate;
        let (iv, hw) = if e.lower == e.upper {
            ("exact".to_string(), String::new())
        } else {
            (
                format!(
                    "[{}, {}]",
                    units::in_unit(e.lower, &m.unit),
                    units::in_unit(e.upper, &m.unit)
                ),
                units::percent_to(e.relative_half_width(), 2),
            )
        };
        t.add_row(vec![
            term(&m.id).into_owned(),
            units::in_unit(e.point, &m.unit),
            iv,
            hw,
        ]);
    }
    let _ = writeln!(out, "{t}");
    out
}
