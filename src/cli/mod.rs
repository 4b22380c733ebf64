//! The command line: clap's definitions (one file per command), turned into calls into the
//! library and printed. Nothing here computes a figure: parsing arguments, choosing where output
//! goes (`output`), progress bars (`progress`) and Ctrl-C wiring (`interrupt`) are all it owns.
//!
//! Exit codes: 0 success, 1 error, 2 usage error (clap), 3 a comparison's CI gate fired,
//! 130 interrupted.

mod args;
mod catalog;
mod check;
mod compare;
mod estimate;
mod history;
mod interrupt;
mod list;
mod output;
mod probe;
mod progress;
mod report;
mod run;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use costbench::diag::show::one_line;
use std::process::ExitCode;

/// Exit code of a comparison whose CI gate fired (errors are 1, usage errors 2).
pub const EXIT_REGRESSION: u8 = 3;
/// Exit code of an interrupted run (128 + SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;

#[derive(Parser, Debug)]
#[command(
    name = "costbench",
    version,
    about = "Measure training-step workloads on this CPU and estimate what training would cost on accelerators"
)]
pub struct Cli {
    /// Worker threads for the kernels (default: one per logical core).
    #[arg(long, global = true, value_parser = clap::value_parser!(u32).range(1..=4096))]
    threads: Option<u32>,
    /// No progress bars or warnings on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the bundled workloads.
    List,
    /// Validate a workload (bundled name or file) and describe it, without running it.
    Check(check::CheckArgs),
    /// Measure workloads' slices on this CPU and save a report per workload in results/.
    Run(run::RunArgs),
    /// List the accelerators, instances and prices the cost model uses, each with its source and
    /// as-of date (the bundled catalog, with --catalog and --price applied).
    Catalog(catalog::CatalogCommand),
    /// The cost model alone, without measuring: what training a model on N tokens costs on
    /// every catalog option.
    Estimate(estimate::EstimateArgs),
    /// Measure this machine's roofline: peak GFLOP/s (f32, f64; one thread and all) and memory
    /// bandwidth. Cached per machine and reused by `run`.
    Probe(probe::ProbeArgs),
    /// Compare two reports, or two directories of reports, metric by metric: the relative change
    /// with a bootstrap interval and a verdict (improved, regressed, no change, inconclusive).
    /// Exits 3 with --fail-on-regression when a metric regressed beyond the threshold.
    Compare(compare::CompareArgs),
    /// Export one report's figures as a table, Markdown, JSON, Bencher Metric Format or
    /// github-action-benchmark files.
    Report(report::ReportArgs),
    /// The reports of a directory in time order: each metric's series, with change points
    /// detected by E-divisive means (docs/ci.md); a table, and an SVG chart with --svg.
    History(history::HistoryArgs),
}

/// Parses the command line, runs the command and maps its outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Run(_)) {
        // Before the thread pool starts: its threads leave Ctrl-C to the handler's thread.
        interrupt::install();
    }
    let outcome = dispatch(cli);
    // From here one line says how the run ended: a late Ctrl-C no longer quits (cli/interrupt.rs).
    costbench::measure::interrupt::ending();
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.is::<costbench::measure::interrupt::Interrupted>() => {
            eprintln!("error: {}", one_line(&e.to_string()));
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Err(e) => {
            // One line, whatever the error carries: control characters from a file name or a
            // file's contents shown visibly, and long values cut (diag::show).
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> Result<u8> {
    if let Some(n) = cli.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n as usize)
            .build_global()
            .context("could not start the thread pool")?;
    }
    let quiet = cli.quiet;
    match cli.command {
        Command::List => list::list(),
        Command::Check(args) => check::check(&args),
        Command::Probe(args) => probe::probe(&args),
        Command::Run(args) => run::run(args, quiet),
        Command::Catalog(args) => catalog::catalog(&args, quiet),
        Command::Estimate(args) => estimate::estimate(args),
        Command::Compare(args) => return compare::compare(args, quiet),
        Command::Report(args) => report::report(args, quiet),
        Command::History(args) => history::history(args),
    }
    .map(|()| 0)
}
