//! The formats `costbench report` and `costbench compare` write, one file each behind the
//! [`Exporter`] trait (hyperfine's exporters are the model): the terminal [`table::Table`],
//! [`markdown::Markdown`] for a pull-request comment, [`json::Json`], Bencher Metric Format
//! ([`bmf::Bmf`]), [`github_action_benchmark::GithubActionBenchmark`]'s two files, the cost
//! table as [`csv::Csv`] and the self-contained [`html::Html`] page. Each reads only reports or
//! a comparison; snapshot tests (`tests/compare.rs`) pin every format. The command line decides
//! which formats a command offers and where the [`Output`] goes.
//!
//! The formats that feed a dashboard (BMF, github-action-benchmark) mark every entry as measured
//! or modelled ([`crate::report::Basis`]), in names that stay the same from run to run.

pub mod bmf;
pub mod comparison;
pub mod csv;
pub mod github_action_benchmark;
pub mod html;
pub mod json;
pub mod markdown;
pub mod table;

pub use comparison::gate_line;

use crate::compare::Comparison;
use crate::report::schema::Report;
use crate::report::{Basis, Figure, Priced};
use anyhow::Result;
use std::path::Path;

/// What an exporter makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// One document (for standard output or the `-o` file).
    Text(String),
    /// Named files for the `-o` directory: `(file name, contents)`.
    Files(Vec<(&'static str, String)>),
}

/// A report and the name of the file it was read from, as the command line gave it: what the
/// CSV and Markdown rows of several reports say they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedReport {
    pub file: String,
    pub report: Report,
}

impl NamedReport {
    /// `report`, read from `file` (shown as given; a name that is not UTF-8 loses the bytes it
    /// cannot show).
    pub fn new(file: &Path, report: Report) -> Self {
        Self {
            file: file.display().to_string(),
            report,
        }
    }
}

/// One export format.
pub trait Exporter {
    /// The format's name as `--format` spells it, for messages.
    fn name(&self) -> &'static str;

    /// Reports' figures: one document for them all, or one section per report.
    fn report(&self, reports: &[NamedReport]) -> Result<Output>;

    /// A comparison. `new` are the new side's reports: the formats that feed a dashboard (BMF,
    /// github-action-benchmark) export those. A format that has no comparison form says so in
    /// its error.
    fn comparison(&self, c: &Comparison, new: &[Report]) -> Result<Output>;
}

/// One figure of a report, for the exports that feed a dashboard (BMF, github-action-benchmark).
struct Entry<'a> {
    report: &'a Report,
    figure: Figure,
}

impl Entry<'_> {
    fn workload(&self) -> &str {
        &self.report.workload.name
    }

    /// What the figure is, for a dashboard's reader: `measured: 30 timed samples, 95% interval
    /// [a, b]`, `measured: counted by the kernels, exact`, or `modelled: <the formula and its
    /// inputs>, catalog as of <date>`. Figures unrounded, as in every machine-readable export.
    fn provenance(&self) -> String {
        let e = self.figure.metric.estimate;
        match self.figure.basis {
            Basis::Measured { samples: None }
                if self.figure.metric.kind() == crate::report::schema::MetricKind::ExactForBinary =>
            {
                "measured: one step counted under valgrind's Cachegrind (run --counts), exact for this binary".to_string()
            }
            Basis::Measured { samples: None } => {
                "measured: counted by the kernels while they ran, exact".to_string()
            }
            Basis::Measured { samples } => {
                let count = samples.map_or(String::new(), |n| format!("{n} timed samples, "));
                if e.lower.is_finite() && e.upper.is_finite() {
                    format!(
                        "measured: {count}{} interval [{}, {}]",
                        crate::units::percent_to(e.confidence_level, 0),
                        e.lower,
                        e.upper
                    )
                } else {
                    format!("measured: {}", count.trim_end_matches(", "))
                }
            }
            Basis::Modelled(priced) => modelled(self.report, &self.figure.metric.id, priced),
        }
    }
}

/// `modelled: …` for a cost figure: its formula with the inputs the report recorded, the
/// efficiency it assumed and the catalog's date.
fn modelled(report: &Report, id: &str, priced: Priced) -> String {
    let Some(c) = &report.cost else {
        return "modelled: by the cost model".to_string();
    };
    let goodput = c
        .assumptions
        .iter()
        .find(|a| a.name == "goodput")
        .map_or(String::new(), |a| format!(" ÷ goodput {}", a.value));
    let days = id.ends_with(".wall_days");
    let body = match priced {
        Priced::Option(i) => {
            let Some(o) = c.options.get(i) else {
                return "modelled: by the cost model".to_string();
            };
            if days {
                // Reports before schema 1.3 did not record the steps.
                let steps = if o.steps > 0.0 {
                    format!("{} steps", o.steps)
                } else {
                    "the target's steps".to_string()
                };
                format!(
                    "wall_days = {steps} × modelled step time {} s on {} chips{goodput} ÷ 86400 s/day; {} scenario: {}",
                    o.step.total_s, o.chips, c.scenario, o.efficiency_note
                )
            } else {
                format!(
                    "usd = {} instance(s) × {} wall-clock hours × {} USD per instance-hour ({}; {}); {} scenario: {}",
                    o.instances,
                    o.wall_hours,
                    o.usd_per_instance_hour,
                    o.plan.as_str(),
                    o.price_source,
                    c.scenario,
                    o.efficiency_note
                )
            }
        }
        Priced::CpuBaseline => {
            let Some(b) = &c.cpu_baseline else {
                return "modelled: by the cost model".to_string();
            };
            if days {
                format!(
                    "wall_days = target FLOPs ÷ (this run's {} GFLOP/s × {} vCPUs ÷ {} cores){goodput} ÷ 86400 s/day; CPU baseline, perfect scaling assumed",
                    b.measured_gflops, b.instance_vcpus, b.measured_logical_cores
                )
            } else {
                format!(
                    "usd = {} instance(s) × {} wall-clock hours × {} USD per instance-hour (on_demand; {}); CPU baseline",
                    b.instances, b.wall_hours, b.usd_per_instance_hour, b.price_source
                )
            }
        }
    };
    format!("modelled: {body}; catalog as of {}", c.catalog_as_of)
}

/// Every figure of `reports`, measured then modelled, report by report.
fn entries<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Vec<Entry<'a>> {
    reports
        .into_iter()
        .flat_map(|report| {
            crate::report::figures(report)
                .into_iter()
                .map(move |figure| Entry { report, figure })
        })
        .collect()
}

/// The error of a format that exports single reports only.
fn reports_only(name: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "compare: --format {name} exports single reports; use `costbench report FILE --format {name}` (compare writes table, markdown, json, bmf or github-action-benchmark)"
    )
}

/// `texts` one after the other, a blank line between.
fn sections(texts: impl Iterator<Item = String>) -> String {
    texts.collect::<Vec<_>>().join("\n")
}

/// `v` as pretty JSON with a trailing newline.
fn pretty(v: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("values serialise");
    s.push('\n');
    s
}
