//! `costbench probe`: this machine's roofline, measured or from the cache.

use crate::diag::show::one_line;
use crate::measure::machine::MachineContext;
use crate::measure::probe;
use crate::render::summary;
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// Measure again even if a cached result exists.
    #[arg(long)]
    pub force: bool,
    /// Fewer, shorter samples (cached apart: a quick probe never replaces a full one, which
    /// `run` uses).
    #[arg(long)]
    pub quick: bool,
    /// Output format (JSON schema: docs/probe-schema.json).
    #[arg(long, value_enum, default_value_t = super::list::DocFormat::Table)]
    pub format: super::list::DocFormat,
    /// The same as `--format json` (kept for scripts written before --format).
    #[arg(long, hide = true, conflicts_with = "format")]
    pub json: bool,
    #[command(flatten)]
    pub threads: super::args::ThreadsArg,
    #[command(flatten)]
    pub quiet: super::args::QuietArg,
}

/// Measures (or reads from the cache) and prints the roofline; a cache that cannot be used is a
/// warning on stderr (unless `quiet`), never a failure.
pub fn probe(args: &ProbeArgs, quiet: bool) -> Result<()> {
    let json = args.json || args.format == super::list::DocFormat::Json;
    let machine = MachineContext::detect(None, rayon::current_num_threads());
    let dir = probe::default_cache_dir();
    let probed = probe::cached_or_measured(&dir, &machine.fingerprint(), args.quick, args.force);
    if !quiet {
        for w in &probed.warnings {
            eprintln!("warning: {}", one_line(w));
        }
    }
    let roofline = probed.roofline;
    if json {
        println!("{}", serde_json::to_string_pretty(&roofline)?);
    } else {
        print!("{}", summary::roofline(&roofline, &machine));
    }
    Ok(())
}
