//! `costbench check`: validate a workload and describe it, without running it.

use super::list::DocFormat;
use crate::render::documents::{self, CheckDocument, DescribedWorkload};
use crate::render::summary;
use crate::workload::{bundled, plan};
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Bundled workload name or path to a workload TOML file.
    pub workload: String,
    /// Output format (JSON schema: docs/check-schema.json). An invalid workload is an error on
    /// standard error either way.
    #[arg(long, value_enum, default_value_t = DocFormat::Table)]
    pub format: DocFormat,
}

pub fn check(args: &CheckArgs) -> Result<()> {
    let available = crate::workload::available_memory_bytes();
    let w = bundled::resolve_for_run(&args.workload, available)?;
    let mem = plan::slice_memory_bytes(&w);
    match args.format {
        DocFormat::Table => {
            print!("{}", summary::describe(&w));
            println!(
                "  valid; the slice needs about {:.2} GiB",
                mem as f64 / (1u64 << 30) as f64
            );
        }
        DocFormat::Json => print!(
            "{}",
            documents::to_json(&CheckDocument {
                schema_version: documents::LISTING_SCHEMA_VERSION.into(),
                workload: DescribedWorkload::new(&w, &args.workload),
                slice_memory_bytes: mem,
                available_memory_bytes: (available != u64::MAX).then_some(available),
            })
        ),
    }
    Ok(())
}
