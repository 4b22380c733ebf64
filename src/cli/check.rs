//! `costbench check`: validate a workload and describe it, without running it.

use anyhow::Result;
use clap::Args;
use costbench::render::summary;
use costbench::workload::{bundled, plan};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Bundled workload name or path to a workload TOML file.
    pub workload: String,
}

pub fn check(args: &CheckArgs) -> Result<()> {
    let available = costbench::workload::available_memory_bytes();
    let w = bundled::resolve_for_run(&args.workload, available)?;
    print!("{}", summary::describe(&w));
    let mem = plan::slice_memory_bytes(&w);
    println!(
        "  valid; the slice needs about {:.2} GiB",
        mem as f64 / (1u64 << 30) as f64
    );
    Ok(())
}
