//! The `costbench` command line: clap definitions turned into calls into the library.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use costbench::execute;
use costbench::summary;
use costbench::workload::{bundled, plan};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "costbench",
    version,
    about = "Measure training-step workloads on this CPU and estimate what training would cost on accelerators"
)]
struct Cli {
    /// Worker threads for the kernels (default: one per logical core).
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the bundled workloads.
    List,
    /// Validate a workload (bundled name or file) and describe it, without running it.
    Check {
        /// Bundled workload name or path to a workload TOML file.
        workload: String,
    },
    /// Run workloads' measured slices on this CPU: step time, executed FLOPs by op class,
    /// achieved GFLOP/s.
    Run {
        /// Bundled workload names or workload files (default: the bundled default, gpt2-124m).
        workloads: Vec<String>,
        /// Timed steps after one warm-up step.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        steps: u64,
        /// Seed of the initial weights and the synthetic training data.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    if let Some(n) = cli.threads {
        anyhow::ensure!(
            n > 0,
            "--threads: expected a positive number of threads, found 0"
        );
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("could not start the thread pool")?;
    }
    match cli.command {
        Command::List => {
            for name in bundled::names() {
                // Listing does not depend on this machine's memory.
                let w = bundled::load_bundled_with_memory(name, u64::MAX)?;
                println!("{name:<12} {}", w.description);
            }
            Ok(())
        }
        Command::Check { workload } => {
            let w = bundled::resolve(&workload)?;
            print!("{}", summary::describe(&w));
            let mem = plan::slice_memory_bytes(&w);
            println!(
                "  valid; the slice needs about {:.2} GiB",
                mem as f64 / (1u64 << 30) as f64
            );
            Ok(())
        }
        Command::Run {
            workloads,
            steps,
            seed,
        } => {
            let names = if workloads.is_empty() {
                vec![bundled::DEFAULT_WORKLOAD.to_string()]
            } else {
                workloads
            };
            // Validate every workload before running any, so a typo in the last one does not
            // waste the time of the first.
            let parsed = names
                .iter()
                .map(|n| bundled::resolve(n))
                .collect::<Result<Vec<_>, _>>()?;
            println!(
                "costbench {} on {} threads",
                env!("CARGO_PKG_VERSION"),
                rayon::current_num_threads()
            );
            for w in &parsed {
                print!("{}", summary::describe(w));
                let outcome = execute::run(w, steps as usize, seed);
                print!("{}", summary::measured(&outcome));
                if let Some(diff) = outcome.accounting_difference() {
                    anyhow::ensure!(
                        diff <= execute::ACCOUNTING_TOLERANCE,
                        "{}: executed FLOPs differ from the analytic formula by {:.3}% (limit {:.1}%): the step does not run the ops its plan lists; please report this",
                        w.name,
                        diff * 100.0,
                        execute::ACCOUNTING_TOLERANCE * 100.0
                    );
                }
            }
            Ok(())
        }
    }
}
