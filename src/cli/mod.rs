//! The command line: clap's definitions (one file per command), turned into calls into the
//! library and printed. Nothing here computes a figure: parsing arguments, choosing where output
//! goes (`output`), progress bars (`progress`) and Ctrl-C wiring (`interrupt`) are all it owns.
//!
//! Exit codes: [`EXIT_CODES`], printed by `costbench --help` and tabled in README.md. Usage
//! errors found after clap's parsing go through [`usage::UsageError`] and are printed by clap.

mod ab;
mod args;
mod catalog;
mod check;
mod color;
mod compare;
mod completions;
mod count;
mod estimate;
#[cfg(test)]
mod help_tests;
mod history;
mod interrupt;
mod list;
mod output;
mod probe;
mod progress;
mod report;
mod run;
mod usage;

use crate::diag::show::{one_line, short};
use anyhow::Result;
use args::{ColorArg, QuietArg, ThreadsArg};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

/// Exit code of a usage error: clap's own, and [`usage::UsageError`].
pub const EXIT_USAGE: u8 = 2;
/// Exit code of a comparison whose CI gate fired.
pub const EXIT_REGRESSION: u8 = 3;
/// Exit code of an interrupted run (128 + SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Every exit code and what it means, as `costbench --help` prints them; README.md's table has
/// the same rows (tests/exit_codes.rs).
const EXIT_CODES: [(u8, &str); 5] = [
    (0, "success"),
    (
        1,
        "runtime error: a file missing, unreadable or invalid, an output that cannot be written, \
         a measurement that failed",
    ),
    (
        EXIT_USAGE,
        "usage error: an unknown flag, a bad value, or arguments that cannot go together",
    ),
    (
        EXIT_REGRESSION,
        "a comparison's gate fired: `compare` or `ab` with `--fail-on-regression` found a \
         regression beyond the threshold",
    ),
    (
        EXIT_INTERRUPTED,
        "interrupted (Ctrl-C or SIGTERM); any report already written is named",
    ),
];

/// The exit codes as a section of `costbench --help`, headed like clap's own sections.
fn exit_code_help() -> clap::builder::StyledStr {
    use std::fmt::Write as _;
    let header = clap::builder::Styles::default().get_header().to_owned();
    let mut s = clap::builder::StyledStr::new();
    let _ = writeln!(s, "{header}Exit codes:{header:#}");
    for (code, meaning) in EXIT_CODES {
        let _ = writeln!(s, "  {code:<5}{meaning}");
    }
    s
}

#[derive(Parser, Debug)]
#[command(
    name = "costbench",
    version,
    about = "Measure training-step workloads on this CPU and estimate what training would cost on accelerators",
    after_help = exit_code_help()
)]
pub struct Cli {
    #[command(flatten)]
    before: BeforeCommand,
    #[command(subcommand)]
    command: Command,
}

/// `--threads`, `--quiet` and `--color` in their old place, before the command
/// (`costbench --threads 1 run`), from when they were global. Each now belongs to the commands
/// it acts on (`ThreadsArg`, `QuietArg`, `ColorArg`), so that no command's help lists a flag
/// that does nothing there. The old place is still accepted, hidden from help, for those
/// commands; for any other it is a usage error ([`BeforeCommand::move_into`]), as the flag
/// after that command is.
#[derive(Args, Debug, Default)]
struct BeforeCommand {
    #[arg(long, hide = true, value_parser = clap::value_parser!(u32).range(1..=MAX_THREADS))]
    threads: Option<u32>,
    #[arg(long, short, hide = true)]
    quiet: bool,
    #[arg(long, hide = true, value_enum, value_name = "WHEN")]
    color: Option<color::ColorWhen>,
}

/// The shared flags a command takes (`None`: it does not take that one).
#[derive(Default)]
struct Shared<'a> {
    threads: Option<&'a mut ThreadsArg>,
    quiet: Option<&'a mut QuietArg>,
    color: Option<&'a mut ColorArg>,
}

impl BeforeCommand {
    /// Moves each flag given before the command into the command's own; a usage error when the
    /// command does not take it, or when it was given after the command too.
    fn move_into(self, shared: &mut Shared, command: &str) -> Result<()> {
        let refused = |flag: &str| {
            usage::usage(format!(
                "{flag} does nothing on `{command}`: it acts only on {}",
                takers(flag)
            ))
        };
        let twice = |flag: &str| {
            usage::usage(format!(
                "{flag} was given both before and after the command; give it once, after the \
                 command"
            ))
        };
        if let Some(n) = self.threads {
            let t = shared
                .threads
                .as_deref_mut()
                .ok_or_else(|| refused("--threads"))?;
            if t.threads.is_some() {
                return Err(twice("--threads"));
            }
            t.threads = Some(n);
        }
        if self.quiet {
            let q = shared
                .quiet
                .as_deref_mut()
                .ok_or_else(|| refused("--quiet"))?;
            if q.quiet {
                return Err(twice("--quiet"));
            }
            q.quiet = true;
        }
        if let Some(when) = self.color {
            let c = shared
                .color
                .as_deref_mut()
                .ok_or_else(|| refused("--color"))?;
            if c.color.is_some() {
                return Err(twice("--color"));
            }
            c.color = Some(when);
        }
        Ok(())
    }
}

/// The commands that take `flag` (`--threads`), from the clap definitions: "`run` and `probe`".
fn takers(flag: &str) -> String {
    let id = flag.trim_start_matches('-');
    let names: Vec<String> = Cli::command()
        .get_subcommands()
        .filter(|s| s.get_arguments().any(|a| a.get_id() == id))
        .map(|s| format!("`{}`", s.get_name()))
        .collect();
    match names.as_slice() {
        [] => "no command".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
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
    ///
    /// Formats (--format): table, json, csv, markdown or html.
    Estimate(estimate::EstimateArgs),
    /// Measure this machine's roofline: peak GFLOP/s (f32, f64; one thread and all) and memory
    /// bandwidth. Cached per machine and reused by `run`.
    Probe(probe::ProbeArgs),
    /// Same-runner A/B: run a base build and a head build of costbench back to back in
    /// interleaved rounds, and compare (and gate) on the paired per-round differences. The CI
    /// recipe for shared runners (docs/ci.md). Exits 3 with --fail-on-regression when a gated
    /// metric regressed beyond the threshold.
    Ab(ab::AbArgs),
    /// Compare two reports, or two directories of reports, metric by metric: the relative change
    /// with a bootstrap interval and a verdict (improved, regressed, no change, inconclusive).
    /// Exits 3 with --fail-on-regression when a metric regressed beyond the threshold.
    ///
    /// Formats (--format): table, markdown, json, bmf (Bencher Metric Format) or
    /// github-action-benchmark.
    Compare(compare::CompareArgs),
    /// Export saved reports as a table, Markdown, JSON, BMF (Bencher Metric Format),
    /// github-action-benchmark files, CSV (the cost table) or HTML (a page with charts, of one
    /// report).
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

impl Command {
    /// The shared flags this command takes.
    fn shared(&mut self) -> Shared<'_> {
        match self {
            Command::Run(a) => Shared {
                threads: Some(&mut a.threads),
                quiet: Some(&mut a.quiet),
                color: None,
            },
            Command::Probe(a) => Shared {
                threads: Some(&mut a.threads),
                quiet: Some(&mut a.quiet),
                color: None,
            },
            Command::Catalog(a) => Shared {
                quiet: Some(&mut a.quiet),
                ..Shared::default()
            },
            Command::History(a) => Shared {
                quiet: Some(&mut a.quiet),
                ..Shared::default()
            },
            Command::Compare(a) => Shared {
                threads: None,
                quiet: Some(&mut a.quiet),
                color: Some(&mut a.color),
            },
            Command::Report(a) => Shared {
                threads: None,
                quiet: Some(&mut a.quiet),
                color: Some(&mut a.color),
            },
            Command::Ab(a) => Shared {
                threads: None,
                quiet: Some(&mut a.quiet),
                color: Some(&mut a.color),
            },
            Command::List(_)
            | Command::Check(_)
            | Command::Estimate(_)
            | Command::Completions(_)
            | Command::Man
            | Command::CountSteps(_) => Shared::default(),
        }
    }
}

/// Parses the command line, runs the command and maps its outcome to an exit code.
pub fn main() -> ExitCode {
    let mut cmd = Cli::command();
    let matches = cmd.get_matches_mut();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut cmd).exit());
    let name = matches.subcommand_name().unwrap_or_default().to_string();
    if matches!(cli.command, Command::Run(_) | Command::Ab(_)) {
        // Before the thread pool starts: its threads leave Ctrl-C to the handler's thread.
        interrupt::install();
    }
    let outcome = dispatch(cli, &name);
    // From here one line says how the run ended: a late Ctrl-C no longer quits (cli/interrupt.rs).
    crate::measure::interrupt::ending();
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.is::<crate::measure::interrupt::Interrupted>() => {
            eprintln!("error: {}", one_line(&e.to_string()));
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Err(e) if usage::is_usage(&e) => {
            // As clap prints its own: the message, the command's usage, a pointer to --help.
            let message = one_line(&format!("{e:#}"));
            let sub = cmd.find_subcommand_mut(&name);
            let error = match sub {
                Some(sub) => sub.error(clap::error::ErrorKind::ArgumentConflict, message),
                None => cmd.error(clap::error::ErrorKind::ArgumentConflict, message),
            };
            let _ = error.print();
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => {
            // One line, whatever the error carries: control characters from a file name or a
            // file's contents shown visibly, and long values cut (diag::show).
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli, name: &str) -> Result<u8> {
    let Cli {
        before,
        mut command,
    } = cli;
    let mut shared = command.shared();
    before.move_into(&mut shared, name)?;
    let threads = shared.threads.map(|t| t.threads);
    let quiet = shared.quiet.is_some_and(|q| q.quiet);
    if let Some(c) = shared.color {
        color::set(c.color.unwrap_or_default());
    }
    // Only the commands that compute start threads (those that take --threads), so the others
    // still work where threads cannot be created.
    if let Some(flag) = threads {
        start_thread_pool(flag, quiet)?;
    }
    match command {
        Command::List(args) => list::list(&args),
        Command::Check(args) => check::check(&args),
        Command::Probe(args) => probe::probe(&args, quiet),
        Command::Run(args) => run::run(args, quiet),
        Command::Catalog(args) => catalog::catalog(&args, quiet),
        Command::Estimate(args) => estimate::estimate(args),
        Command::Compare(args) => return compare::compare(args, quiet),
        Command::Ab(args) => return ab::ab(args, quiet),
        Command::Report(args) => report::report(args, quiet),
        Command::History(args) => history::history(args, quiet),
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
