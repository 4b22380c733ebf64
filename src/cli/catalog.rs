//! `costbench catalog`: the effective catalog, every figure with its source and date.

use super::args::CatalogArgs;
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct CatalogCommand {
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// Output format (JSON schema: docs/catalog-schema.json).
    #[arg(long, value_enum, default_value_t = super::list::DocFormat::Table)]
    pub format: super::list::DocFormat,
    /// The same as `--format json` (kept for scripts written before --format).
    #[arg(long, hide = true, conflicts_with = "format")]
    pub json: bool,
    #[command(flatten)]
    pub quiet: super::args::QuietArg,
}

pub fn catalog(args: &CatalogCommand, quiet: bool) -> Result<()> {
    let c = args.catalog.load()?;
    if args.json || args.format == super::list::DocFormat::Json {
        print!("{}", crate::render::documents::to_json(&c));
    } else {
        print!("{}", crate::render::catalog::table(&c));
        println!("catalog hash {} (as of {})", c.hash(), c.as_of());
    }
    if !quiet {
        for w in c.stale_prices(chrono::Utc::now().date_naive(), 12) {
            eprintln!("warning: {w}");
        }
    }
    Ok(())
}
