//! `costbench catalog`: the effective catalog, every figure with its source and date.

use super::args::CatalogArgs;
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct CatalogCommand {
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// Print the effective catalog as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn catalog(args: &CatalogCommand, quiet: bool) -> Result<()> {
    let c = args.catalog.load()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&c)?);
    } else {
        print!("{}", costbench::render::catalog::table(&c));
        println!("catalog hash {} (as of {})", c.hash(), c.as_of());
    }
    if !quiet {
        for w in c.stale_prices(chrono::Utc::now().date_naive(), 12) {
            eprintln!("warning: {w}");
        }
    }
    Ok(())
}
