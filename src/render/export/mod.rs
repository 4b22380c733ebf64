//! The formats `costbench report` and `costbench compare` write, one file each behind the
//! [`Exporter`] trait (hyperfine's exporters are the model): the terminal [`table::Table`],
//! [`markdown::Markdown`] for a pull-request comment, [`json::Json`], Bencher Metric Format
//! ([`bmf::Bmf`]), [`github_action_benchmark::GithubActionBenchmark`]'s two files, the cost
//! table as [`csv::Csv`] and the self-contained [`html::Html`] page. Each reads only reports or
//! a comparison; snapshot tests (`tests/compare.rs`) pin every format. The command line decides
//! which formats a command offers and where the [`Output`] goes.

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
use crate::report::schema::{Metric, Report};
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

/// Every metric of `reports`, each with its workload's name.
fn figures<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Vec<(String, Metric)> {
    reports
        .into_iter()
        .flat_map(|r| {
            crate::report::all_metrics(r)
                .into_iter()
                .map(|m| (r.workload.name.clone(), m))
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
