//! `run --counts`: count a workload's training step under valgrind's Cachegrind by running this
//! same executable twice through the hidden `count-steps` command (`measure::counts`), and that
//! hidden command itself.

use crate::measure::counts::{self, Counts, Request};
use crate::workload::Workload;
use anyhow::Result;
use clap::Args;
use std::ffi::OsString;

/// The hidden command the counted process runs.
pub const COMMAND: &str = "count-steps";

/// `costbench count-steps --steps N --seed S < workload.toml`: builds the slice of the workload
/// read on standard input and runs N steps on one thread, then prints what it ran as one JSON
/// line. Run by `run --counts` under Cachegrind, with arguments and an environment that never
/// vary (`measure::counts::count`); not meant for people, so hidden from the help.
#[derive(Args, Debug)]
pub struct CountStepsArgs {
    /// Training steps to run after building the slice.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub steps: u64,
    /// Seed of the weights and the synthetic data.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The hidden command: one thread (this one), the steps, one JSON line on standard output.
pub fn count_steps(args: &CountStepsArgs) -> Result<()> {
    use std::io::Read as _;
    counts::start_counting_pool()?;
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| {
        anyhow::anyhow!("count-steps: could not read the workload on standard input: {e}")
    })?;
    let w = crate::workload::parse_workload(&text, "standard input")?;
    let ran = counts::run_steps(&w, args.steps, args.seed)?;
    println!(
        "{}",
        serde_json::to_string(&ran).expect("a run's record serialises")
    );
    Ok(())
}

/// The TOML text of the workload `source` names: a bundled workload's, or the file's.
fn workload_text(source: &str) -> Result<String> {
    if let Some(text) = crate::workload::bundled::text(source) {
        return Ok(text.to_string());
    }
    std::fs::read_to_string(source).map_err(|e| {
        anyhow::anyhow!(
            "--counts: could not read the workload file '{}' again: {e}",
            crate::diag::show::short(source)
        )
    })
}

/// The valgrind program: `$COSTBENCH_VALGRIND`, else `valgrind` on the `PATH`.
pub fn valgrind() -> OsString {
    std::env::var_os(counts::VALGRIND_ENV)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "valgrind".into())
}

/// Checks, before anything is measured, that `w` can be counted and valgrind is there; returns
/// valgrind's version.
pub fn preflight(workloads: &[&Workload]) -> Result<String> {
    for w in workloads {
        counts::check_countable(w)?;
    }
    counts::tool_version(&valgrind())
}

/// Counts the step of `w` (given on the command line as `source`) with `seed`, the caches
/// simulated (they add about 5% to the time under the tool: docs/ci.md). Unless `quiet`, warns
/// first when counting will take long.
pub fn count(source: &str, w: &Workload, seed: u64, quiet: bool) -> Result<Counts> {
    if let Some(hours) = counts::expected_hours(w).filter(|h| *h >= 1.0 / 6.0 && !quiet) {
        eprintln!(
            "warning: --counts: counting a step of '{}' under Cachegrind takes about {} here \
             (valgrind runs the step's vector code hundreds of times slower); a smaller slice \
             (measure.layers, measure.seq_len, measure.batch) counts faster",
            crate::diag::show::short(&w.name),
            crate::units::span_words(hours)
        );
    }
    let exe = std::env::current_exe().map_err(|e| {
        anyhow::anyhow!("--counts: could not find costbench's own executable to count: {e}")
    })?;
    // The workload goes on standard input: its path's length would move the counted process's
    // stack (`measure::counts::count`).
    let text = workload_text(source)?;
    let args = |steps: u64| -> Vec<OsString> {
        vec![
            COMMAND.into(),
            "--steps".into(),
            steps.to_string().into(),
            "--seed".into(),
            seed.to_string().into(),
        ]
    };
    // Both processes at once when there are two cores and memory for two slices: Cachegrind
    // runs a process on one core, and the counts do not depend on timing.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let need = crate::workload::plan::slice_memory_bytes(w);
    let parallel =
        cores >= 2 && need.saturating_mul(3) <= crate::workload::available_memory_bytes();
    let valgrind = valgrind();
    counts::count(&Request {
        valgrind: &valgrind,
        exe: &exe,
        args: &args,
        stdin: &text,
        workload: w,
        seed,
        steps: counts::DEFAULT_STEPS,
        cache_sim: true,
        parallel,
    })
}
