//! The command line: clap's definitions (one file per command), turned into calls into the
//! library and printed. Nothing here computes a figure: parsing arguments, choosing where output
//! goes (`output`), progress bars (`progress`) and Ctrl-C wiring (`interrupt`) are all it owns.
//!
//! Exit codes: 0 success, 1 error, 2 usage error (clap), 3 a comparison's CI gate fired,
//! 130 interrupted.

mod args;
mod catalog;
mod check;
mod color;
mod compare;
mod completions;
mod count;
mod estimate;
mod history;
mod interrupt;
mod list;
mod output;
mod probe;
mod progress;
mod report;
mod run;

use crate::diag::show::{one_line, short};
use anyhow::Result;
use clap::{Parser, Subcommand};
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
    /// Worker threads for the kernels (default: RAYON_NUM_THREADS if set, else one per logical
    /// core; more than the cores is allowed, with a warning).
    #[arg(long, global = true, value_parser = clap::value_parser!(u32).range(1..=MAX_THREADS))]
    threads: Option<u32>,
    /// No progress bars or warnings on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Colour in terminal tables: auto (a terminal, unless NO_COLOR or TERM=dumb;
    /// CLICOLOR_FORCE forces it), always, never.
    #[arg(long, global = true, value_enum, default_value_t = color::ColorWhen::Auto)]
    color: color::ColorWhen,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the bundled workloads.
    List(list::ListArgs),
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
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff) to standard output: `costbench man > costbench.1`.
    Man,
    /// Internal: build a workload's slice and run N steps on one thread (what `run --counts`
    /// counts under Cachegrind).
    #[command(name = count::COMMAND, hide = true)]
    CountSteps(count::CountStepsArgs),
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
    crate::measure::interrupt::ending();
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.is::<crate::measure::interrupt::Interrupted>() => {
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
    // Only the commands that compute start threads, so the others still work where threads
    // cannot be created.
    if matches!(cli.command, Command::Run(_) | Command::Probe(_)) {
        start_thread_pool(cli.threads, cli.quiet)?;
    }
    let quiet = cli.quiet;
    color::set(cli.color);
    match cli.command {
        Command::List(args) => list::list(&args),
        Command::Check(args) => check::check(&args),
        Command::Probe(args) => probe::probe(&args, quiet),
        Command::Run(args) => run::run(args, quiet),
        Command::Catalog(args) => catalog::catalog(&args, quiet),
        Command::Estimate(args) => estimate::estimate(args),
        Command::Compare(args) => return compare::compare(args, quiet),
        Command::Report(args) => report::report(args, quiet),
        Command::History(args) => history::history(args),
        Command::Completions(args) => completions::completions(&args),
        Command::Man => completions::man(),
        Command::CountSteps(args) => count::count_steps(&args),
    }
    .map(|()| 0)
}

/// The most worker threads asked for, by `--threads` or `RAYON_NUM_THREADS`.
const MAX_THREADS: i64 = 4096;

/// How many worker threads the pool gets, who said so (`--threads`, else `RAYON_NUM_THREADS`
/// when it is a whole number from 1 to [`MAX_THREADS`], else one per logical core), and a
/// warning when `RAYON_NUM_THREADS` was set to something else and is ignored (0 or empty mean
/// the default, as they do to rayon, and are not warned about).
fn thread_count(
    flag: Option<u32>,
    env: Option<std::ffi::OsString>,
    cores: usize,
) -> (usize, &'static str, Option<String>) {
    if let Some(n) = flag {
        return (n as usize, "--threads", None);
    }
    let default = (cores, "one per logical core");
    let Some(value) = env else {
        return (default.0, default.1, None);
    };
    let text = value.to_string_lossy();
    match text.trim().parse::<i64>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => (n as usize, "RAYON_NUM_THREADS", None),
        Ok(0) => (default.0, default.1, None),
        _ if text.trim().is_empty() => (default.0, default.1, None),
        _ => (
            default.0,
            default.1,
            Some(format!(
                "RAYON_NUM_THREADS='{}' ignored: expected a whole number from 1 to \
                 {MAX_THREADS}; using one thread per logical core ({cores})",
                short(&text)
            )),
        ),
    }
}

/// Builds rayon's global pool explicitly, before anything uses it: left to itself, rayon builds
/// it on first use and panics when a thread cannot be created (`ulimit -u`, a container's pids
/// limit). Warns (unless `quiet`) when more threads are asked for than there are logical cores.
fn start_thread_pool(flag: Option<u32>, quiet: bool) -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (threads, source, ignored) =
        thread_count(flag, std::env::var_os("RAYON_NUM_THREADS"), cores);
    if let Some(w) = ignored.filter(|_| !quiet) {
        eprintln!("warning: {w}");
    }
    if threads > cores && !quiet {
        eprintln!(
            "warning: {source} {threads} is more than the {cores} logical cores available: threads \
             will share cores, and the measurements will be slower and noisier"
        );
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| pool_error(threads, source, &e))
}

/// The one-line error for a pool that could not start.
fn pool_error(threads: usize, source: &str, e: &dyn std::fmt::Display) -> anyhow::Error {
    let reason = e.to_string();
    let reason = reason.split(" (os error").next().unwrap_or_default();
    anyhow::anyhow!(
        "could not start {threads} worker threads ({source}): {reason}; ask for fewer with \
         --threads, or raise the limit on processes (ulimit -u)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn the_flag_then_the_environment_then_the_cores_set_the_threads() {
        let env = |s: &str| Some(OsString::from(s));
        let count = |flag, e, cores| {
            let (n, source, _) = thread_count(flag, e, cores);
            (n, source)
        };
        assert_eq!(count(Some(3), env("8"), 2), (3, "--threads"));
        assert_eq!(count(None, env("8"), 2), (8, "RAYON_NUM_THREADS"));
        assert_eq!(count(None, env(" 5 "), 2), (5, "RAYON_NUM_THREADS"));
        assert_eq!(count(None, env("4096"), 2), (4096, "RAYON_NUM_THREADS"));
        assert_eq!(count(None, None, 4), (4, "one per logical core"));
        // Rayon's own defaults, silently.
        for default in ["0", "", " "] {
            assert_eq!(
                thread_count(None, env(default), 2),
                (2, "one per logical core", None)
            );
        }
        // Anything else is ignored with a warning.
        for ignored in ["-1", "abc", "1e3", "4097", "99999999999999999999"] {
            let (n, source, warning) = thread_count(None, env(ignored), 2);
            assert_eq!((n, source), (2, "one per logical core"), "{ignored:?}");
            let warning = warning.unwrap();
            assert!(
                warning.starts_with(&format!("RAYON_NUM_THREADS='{ignored}' ignored")),
                "{warning}"
            );
        }
    }

    #[test]
    fn a_pool_that_cannot_start_is_one_line_naming_the_limit() {
        let e = std::io::Error::from_raw_os_error(libc::EAGAIN);
        let shown = format!("{:#}", pool_error(1000, "RAYON_NUM_THREADS", &e));
        assert_eq!(
            shown,
            "could not start 1000 worker threads (RAYON_NUM_THREADS): Resource temporarily \
             unavailable; ask for fewer with --threads, or raise the limit on processes \
             (ulimit -u)"
        );
        // The error rayon gives when the pool exists already reads as one line too.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build_global();
        let again = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build_global()
            .unwrap_err();
        let shown = format!("{:#}", pool_error(1, "--threads", &again));
        assert!(
            !shown.contains('\n') && shown.contains("could not start 1 worker"),
            "{shown}"
        );
    }
}
