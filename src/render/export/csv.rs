//! `--format csv`: the reports' cost tables (RFC 4180, a header row, one row per priced option,
//! figures unrounded) for spreadsheets. Reports only: a comparison has no cost table.
//!
//! Every row says which report it came from: `report` (the file as the command line named it),
//! then the report's `workload`, `created_at` and `machine_label` (`run --label`; empty
//! without one). A single report's rows carry them too, so the columns never depend on how many
//! files were given: a script that concatenates the CSVs of several runs, or reads one by
//! column position, sees one layout.
//!
//! Every field is written by [`csv_record`]: a text taken from a report or a catalog that a
//! spreadsheet would run as a formula (`=HYPERLINK(…)`, `+…`, `@…`, `-…` that is not a number)
//! is neutralised with a leading `'` and quoted; costbench's own negative numbers stay numbers.

use super::{Exporter, NamedReport, Output, reports_only};
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

    fn report(&self, reports: &[NamedReport]) -> Result<Output> {
        Ok(Output::Text(cost_csv(reports)?))
    }

    fn comparison(&self, _c: &Comparison, _new: &[Report]) -> Result<Output> {
        Err(reports_only(self.name()))
    }
}

/// The cost columns, between the report's `scenario` and `catalog_as_of`.
fn columns() -> Vec<Column> {
    [
        &[Column::Instance, Column::Accelerator, Column::Plan][..],
        &RUN,
        &ENERGY,
        &[Column::UsdPerInstanceHour, Column::PriceSource],
    ]
    .concat()
}

/// The columns that say which report a row came from, before `scenario`.
const WHICH_REPORT: [&str; 4] = ["report", "workload", "created_at", "machine_label"];

fn cost_csv(reports: &[NamedReport]) -> Result<String> {
    let mut w = String::new();
    let columns = columns();
    let mut header = WHICH_REPORT.to_vec();
    header.push("scenario");
    header.extend(columns.iter().map(|c| c.key()));
    header.extend(["catalog_as_of", "efficiency", "vendor"]);
    csv_record(&mut w, &header);
    for NamedReport { file, report: r } in reports {
        let Some(c) = &r.cost else { continue };
        for row in report_rows(&c.options) {
            let mut record = vec![
                file.clone(),
                r.workload.name.clone(),
                r.created_at.clone(),
                r.machine.label.clone().unwrap_or_default(),
                c.scenario.clone(),
            ];
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Report {
        serde_json::from_str(include_str!("../../../tests/fixtures/reports/tiny.json")).unwrap()
    }

    fn named(file: &str, report: Report) -> NamedReport {
        NamedReport::new(std::path::Path::new(file), report)
    }

    #[test]
    fn every_row_names_its_report_and_one_report_has_the_same_columns() {
        let a = fixture();
        let mut b = fixture();
        b.created_at = "2026-12-01T00:00:00Z".into();
        b.machine.label = None;
        let options = a.cost.as_ref().unwrap().options.len();
        let both = cost_csv(&[named("runs/a.json", a.clone()), named("=b,1.json", b)]).unwrap();
        let lines: Vec<&str> = both.lines().collect();
        assert!(
            lines[0].starts_with("report,workload,created_at,machine_label,scenario,instance,"),
            "{}",
            lines[0]
        );
        assert_eq!(lines.len(), 1 + 2 * options);
        for l in &lines[1..=options] {
            assert!(
                l.starts_with("runs/a.json,tiny,2026-11-26T18:46:40Z,fixture,measured,"),
                "{l}"
            );
        }
        // The file name is a text cell like any other: neutralised, quoted.
        for l in &lines[options + 1..] {
            assert!(
                l.starts_with("\"'=b,1.json\",tiny,2026-12-01T00:00:00Z,,measured,"),
                "{l}"
            );
        }
        let one = cost_csv(&[named("runs/a.json", a)]).unwrap();
        assert_eq!(one.lines().next(), Some(lines[0]));
        assert_eq!(one.lines().nth(1), Some(lines[1]));
    }
}
