//! `--format csv`: the reports' cost tables (RFC 4180, a header row, one row per priced option,
//! figures unrounded) for spreadsheets. Reports only: a comparison has no cost table.

use super::{Exporter, Output, reports_only};
use crate::compare::Comparison;
use crate::render::cost_rows::{Column, ENERGY, RUN, report_rows};
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
    let mut w = csv::Writer::from_writer(Vec::new());
    let columns = columns();
    let mut header = vec!["workload", "scenario"];
    header.extend(columns.iter().map(|c| c.key()));
    header.extend(["catalog_as_of", "efficiency", "vendor"]);
    w.write_record(&header)?;
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
            w.write_record(&record)?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
