//! `costbench history`: the reports of a directory in time order, with change points.

use super::args::unit_fraction;
use super::output::{Target, guard_outputs, write_file};
use crate::diag::show::{printable, short};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Directory of reports (default: results).
    pub dir: Option<PathBuf>,
    /// Only these workloads (repeatable).
    #[arg(long)]
    pub workload: Vec<String>,
    /// Only metrics whose id contains TEXT (repeatable; default: every measured metric; cost
    /// figures with `--metric cost.`).
    #[arg(long, value_name = "TEXT")]
    pub metric: Vec<String>,
    /// Also draw the series as an SVG chart into FILE (change points marked).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Output format (JSON schema: docs/history-schema.json).
    #[arg(long, value_enum, default_value_t = super::list::DocFormat::Table)]
    pub format: super::list::DocFormat,
    /// The same as `--format json` (kept for scripts written before --format).
    #[arg(long, hide = true, conflicts_with = "format")]
    pub json: bool,
    /// Also write the history as a self-contained HTML page (table and charts) into FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Significance level of the change-point permutation test.
    #[arg(long, default_value_t = 0.05, value_parser = unit_fraction, allow_negative_numbers = true)]
    pub significance: f64,
    #[command(flatten)]
    pub quiet: super::args::QuietArg,
}

pub fn history(args: HistoryArgs, quiet: bool) -> Result<()> {
    // One path named for both outputs is a usage error; two paths that meet through a link are
    // found by `guard_outputs` below, a runtime error.
    if let (Some(html), Some(svg)) = (&args.html, &args.svg) {
        let absolute = |p: &std::path::Path| std::path::absolute(p).ok();
        super::usage::ensure(
            absolute(html).is_none() || absolute(html) != absolute(svg),
            || {
                format!(
                    "--html and --svg name the same file '{}'; expected a different path for each output",
                    short(&svg.display().to_string())
                )
            },
        )?;
    }
    let json = args.json || args.format == super::list::DocFormat::Json;
    use crate::compare::history;
    use crate::stats::changepoint;
    let defaulted = args.dir.is_none();
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("results"));
    let settings = changepoint::Settings {
        significance: args.significance,
        ..changepoint::Settings::default()
    };
    // A first CI run has no reports yet: that is a note and exit 0, not a failure. (A directory
    // given by name that does not exist is still an error: likely a typo. A file that looks like
    // a report but cannot be read is an error too.)
    let first_run = if defaulted && !dir.exists() {
        Some((Vec::new(), Vec::new()))
    } else {
        None
    };
    let (reports, skipped) = match first_run {
        Some(empty) => empty,
        None => crate::compare::load_dir(&dir)?,
    };
    if reports.is_empty() && skipped.is_empty() {
        if !quiet {
            eprintln!(
                "note: history: '{}' holds no costbench report yet; nothing to show (run `costbench run` to add one)",
                short(&dir.display().to_string())
            );
        }
        if json {
            let empty = history::build(
                &dir.display().to_string(),
                &[],
                Vec::new(),
                &args.workload,
                &args.metric,
                &settings,
            );
            print!("{}", history::json(&empty));
        }
        return Ok(());
    }
    anyhow::ensure!(
        !reports.is_empty(),
        "history: '{}' holds no readable costbench report{}",
        dir.display(),
        skipped
            .first()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default()
    );
    let h = history::build(
        &dir.display().to_string(),
        &reports,
        skipped,
        &args.workload,
        &args.metric,
        &settings,
    );
    anyhow::ensure!(
        !h.series.is_empty(),
        "history: no metric in '{}' matches the --workload/--metric filters",
        dir.display()
    );
    // Every output is checked before anything is printed or written: not a report, not an
    // input, not a device, and not both flags naming one file.
    let inputs: Vec<PathBuf> = reports.iter().map(|(p, _)| p.clone()).collect();
    let targets: Vec<Target> = [("--html", &args.html), ("--svg", &args.svg)]
        .into_iter()
        .filter_map(|(flag, path)| path.as_deref().map(|p| Target::new(flag, p)))
        .collect();
    guard_outputs(&targets, &inputs)?;
    if json {
        print!("{}", history::json(&h));
    } else {
        print!("{}", crate::render::history::table(&h));
    }
    if let Some(path) = &args.html {
        write_file(path, &crate::render::export::html::history_page(&h))?;
        if !json {
            println!("page: {}", printable(&path.display().to_string()));
        }
    }
    if let Some(path) = &args.svg {
        write_file(path, &crate::render::history::svg(&h))?;
        if !json {
            println!("chart: {}", printable(&path.display().to_string()));
        }
    }
    Ok(())
}
