//! `--format csv`: the reports' cost tables (RFC 4180, a header row, one row per priced option,
//! figures unrounded) for spreadsheets. Reports only: a comparison has no cost table.
//!
//! Every field is written by [`csv_record`]: a text taken from a report or a catalog that a
//! spreadsheet would run as a formula (`=HYPERLINK(…)`, `+…`, `@…`, `-…` that is not a number)
//! is neutralised with a leading `'` and quoted; costbench's own negative numbers stay numbers.

use super::{Exporter, Output, reports_only};
use crate::compare::Comparison;
use crate::render::cost_rows::{Column, ENERGY, RUN, report_rows};
use crate::render::escape::csv_record;
use crate::report::schema::Report;
use anyhow::Result;

/// CSV.
#[derive(Debug, Clone, Copy)]
pub struct Csv;

impl Exporter for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn report(&self, reports: &[Report]) -> Result<Output> {
        Ok(Output::Text(cost_csv(reports)?))
    }

    fn comparison(&self, _c: &Comparison, _new: &[Report]) -> Result<Output> {
        Err(reports_only(self.name()))
    }
}

/// The cost columns, between the report's `workload, scenario` and `catalog_as_of`.
fn columns() -> Vec<Column> {
    [
        &[Column::Instance, Column::Accelerator, Column::Plan][..],
        &RUN,
        &ENERGY,
        &[Column::UsdPerInstanceHour, Column::PriceSource],
    ]
    .concat()
}

fn cost_csv(reports: &[Report]) -> Result<String> {
    let mut w = String::new();
    let columns = columns();
    let mut header = vec!["workload", "scenario"];
    header.extend(columns.iter().map(|c| c.key()));
    header.extend(["catalog_as_of", "efficiency", "vendor"]);
    csv_record(&mut w, &header);
    for r in reports {
        let Some(c) = &r.cost else { continue };
        for row in report_rows(&c.options) {
            let mut record = vec![r.workload.name.clone(), c.scenario.clone()];
            record.extend(columns.iter().map(|&col| row.raw(col)));
            record.extend([
                c.catalog_as_of.clone(),
                row.raw(Column::Efficiency),
                row.raw(Column::Vendor),
            ]);
            csv_record(&mut w, &record);
        }
    }
    Ok(w)
}

/// `costbench estimate --format csv`: one row per priced option with its nominal figures, the
/// Monte Carlo's median and 90% interval of cost and wall-clock hours, and whether `--price`
/// or an overlay changed it; unrounded.
pub fn estimate_csv(e: &crate::report::estimate::EstimateDocument) -> Result<String> {
    use crate::render::cost_rows::record_rows;
    let mut w = String::new();
    let columns = columns();
    let mut header = vec!["workload", "scenario", "family"];
    header.extend(columns.iter().map(|c| c.key()));
    header.extend([
        "usd_median",
        "usd_p5",
        "usd_p95",
        "wall_hours_median",
        "wall_hours_p5",
        "wall_hours_p95",
        "changed_by_user",
        "catalog_as_of",
        "efficiency",
        "vendor",
    ]);
    csv_record(&mut w, &header);
    let c = &e.cost;
    for row in record_rows(c) {
        let mut record = vec![
            e.workload.name.clone(),
            c.scenario.clone(),
            row.text(Column::Family),
        ];
        record.extend(columns.iter().map(|&col| row.raw(col)));
        let spread = |f: &dyn Fn(&crate::model::uncertainty::OptionSpread) -> f64| {
            row.spread
                .as_ref()
                .map_or(String::new(), |s| f(s).to_string())
        };
        record.extend([
            spread(&|s| s.usd.median),
            spread(&|s| s.usd.low),
            spread(&|s| s.usd.high),
            spread(&|s| s.wall_hours.median),
            spread(&|s| s.wall_hours.low),
            spread(&|s| s.wall_hours.high),
            row.changed.to_string(),
            c.catalog_as_of.clone(),
            row.raw(Column::Efficiency),
            row.raw(Column::Vendor),
        ]);
        csv_record(&mut w, &record);
    }
    Ok(w)
}
