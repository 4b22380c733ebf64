//! `costbench probe`: this machine's roofline, measured or from the cache.

use anyhow::Result;
use clap::Args;
use costbench::measure::machine::MachineContext;
use costbench::measure::probe;
use costbench::render::summary;

#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// Measure again even if a cached result exists.
    #[arg(long)]
    pub force: bool,
    /// Fewer, shorter samples.
    #[arg(long)]
    pub quick: bool,
    /// Print the roofline as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn probe(args: &ProbeArgs) -> Result<()> {
    let machine = MachineContext::detect(None, rayon::current_num_threads());
    let dir = probe::default_cache_dir();
    let roofline = probe::load_or_measure(&dir, &machine.fingerprint(), args.quick, args.force)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&roofline)?);
    } else {
        print!("{}", summary::roofline(&roofline, &machine));
    }
    Ok(())
}
