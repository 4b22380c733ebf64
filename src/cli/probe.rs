//! `costbench probe`: this machine's roofline, measured or from the cache.

use anyhow::Result;
use clap::Args;
use costbench::diag::show::one_line;
use costbench::measure::machine::MachineContext;
use costbench::measure::probe;
use costbench::render::summary;

#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// Measure again even if a cached result exists.
    #[arg(long)]
    pub force: bool,
    /// Fewer, shorter samples (cached apart: a quick probe never replaces a full one, which
    /// `run` uses).
    #[arg(long)]
    pub quick: bool,
    /// Print the roofline as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Measures (or reads from the cache) and prints the roofline; a cache that cannot be used is a
/// warning on stderr (unless `quiet`), never a failure.
pub fn probe(args: &ProbeArgs, quiet: bool) -> Result<()> {
    let machine = MachineContext::detect(None, rayon::current_num_threads());
    let dir = probe::default_cache_dir();
    let probed = probe::cached_or_measured(&dir, &machine.fingerprint(), args.quick, args.force);
    if !quiet {
        for w in &probed.warnings {
            eprintln!("warning: {}", one_line(w));
        }
    }
    let roofline = probed.roofline;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&roofline)?);
    } else {
        print!("{}", summary::roofline(&roofline, &machine));
    }
    Ok(())
}
