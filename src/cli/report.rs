//! `costbench report`: export saved reports (table, Markdown, JSON, CSV, HTML, BMF,
//! github-action-benchmark).

use super::args::OutputArgs;
use super::output::emit;
use anyhow::Result;
use clap::Args;
use costbench::render::export;
use costbench::report::store;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Report files (several: one table / Markdown section each, one merged BMF or
    /// github-action-benchmark export, one JSON document).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn report(args: ReportArgs, quiet: bool) -> Result<()> {
    let reports = args
        .files
        .iter()
        .map(|f| store::load(f))
        .collect::<Result<Vec<_>, _>>()?;
    let figures = || {
        reports
            .iter()
            .flat_map(|r| {
                costbench::report::all_metrics(r)
                    .into_iter()
                    .map(|m| (r.workload.name.clone(), m))
            })
            .collect()
    };
    let each = |f: &dyn Fn(&costbench::report::schema::Report) -> String| {
        reports.iter().map(f).collect::<Vec<_>>().join("\n")
    };
    emit(
        args.output.format,
        args.output.output.as_deref(),
        &args.files,
        &|colour| each(&|r| export::report_table(r, colour)),
        &|| match args.output.format {
            export::Format::Markdown => Ok(each(&export::report_markdown)),
            export::Format::Csv => export::cost_csv(&reports),
            export::Format::Html => {
                anyhow::ensure!(
                    reports.len() == 1,
                    "report --format html makes one page per report; give one FILE ({} given)",
                    reports.len()
                );
                Ok(costbench::render::html::report_page(&reports[0]))
            }
            _ => Ok(export::report_json(&reports)),
        },
        &figures,
        quiet,
    )
}
