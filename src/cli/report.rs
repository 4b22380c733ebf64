//! `costbench report`: export saved reports (table, Markdown, JSON, CSV, HTML, BMF,
//! github-action-benchmark).

use super::args::OutputArgs;
use super::output::{colour, emit};
use super::usage;
use crate::render::export::{
    Exporter, NamedReport, bmf::Bmf, csv::Csv, github_action_benchmark,
    github_action_benchmark::GithubActionBenchmark, html::Html, json::Json, markdown::Markdown,
    table::Table,
};
use crate::report::store;
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// What `report --format` writes (`compare --format` offers the first five).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Aligned text (colour on a terminal).
    Table,
    /// GitHub-flavoured Markdown, for a pull-request comment.
    Markdown,
    /// The reports' metrics (or the full comparison) as JSON.
    Json,
    /// Bencher Metric Format: {"bench": {"measure": {"value", "lower_value", "upper_value"}}}
    /// (of a comparison: the new side's metrics).
    Bmf,
    /// github-action-benchmark's `customSmallerIsBetter` and `customBiggerIsBetter` arrays,
    /// written as two files into the -o directory (of a comparison: the new side's metrics);
    /// alias: gab.
    #[value(name = "github-action-benchmark", alias = "gab")]
    GithubActionBenchmark,
    /// The cost table as CSV, one row per priced option (`report` only).
    Csv,
    /// A self-contained HTML page with charts, of one report (`report` only).
    Html,
}

impl ReportFormat {
    /// The format's exporter; `color` for the table on a terminal.
    pub fn exporter(self, color: bool) -> Box<dyn Exporter> {
        match self {
            ReportFormat::Table => Box::new(Table { color }),
            ReportFormat::Markdown => Box::new(Markdown),
            ReportFormat::Json => Box::new(Json),
            ReportFormat::Bmf => Box::new(Bmf),
            ReportFormat::GithubActionBenchmark => Box::new(GithubActionBenchmark),
            ReportFormat::Csv => Box::new(Csv),
            ReportFormat::Html => Box::new(Html),
        }
    }

    /// Whether the format writes several files, into the `-o` directory.
    pub fn writes_files(self) -> bool {
        self == ReportFormat::GithubActionBenchmark
    }
}

/// The usage errors of an export's format and `-o`, before any input is read: a format that
/// writes several files needs `-o DIR`.
pub fn check_output(format: ReportFormat, out: Option<&std::path::Path>) -> Result<()> {
    usage::ensure(!format.writes_files() || out.is_some(), || {
        let name = format.to_possible_value().map(|v| v.get_name().to_string());
        format!(
            "--format {} writes two files ({} and {}): give the directory with -o DIR",
            name.unwrap_or_default(),
            github_action_benchmark::SMALLER,
            github_action_benchmark::BIGGER
        )
    })
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Report files (several: one table / Markdown section each, one merged BMF or
    /// github-action-benchmark export, one JSON document).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub quiet: super::args::QuietArg,
    #[command(flatten)]
    pub color: super::args::ColorArg,
}

pub fn report(args: ReportArgs, quiet: bool) -> Result<()> {
    check_output(args.format, args.output.output.as_deref())?;
    usage::ensure(
        args.format != ReportFormat::Html || args.files.len() == 1,
        || {
            format!(
                "report --format html makes one page per report; give one FILE ({} given)",
                args.files.len()
            )
        },
    )?;
    let reports = args
        .files
        .iter()
        .map(|f| store::load(f).map(|r| NamedReport::new(f, r)))
        .collect::<Result<Vec<_>, _>>()?;
    let out = args.output.output.as_deref();
    let chosen = args.format.exporter(out.is_none() && colour());
    emit(
        chosen.as_ref(),
        &|e| e.report(&reports),
        out,
        &args.files,
        quiet,
    )
}
