//! `costbench list`: the bundled workloads.

use crate::render::documents::{self, DescribedWorkload, WorkloadList};
use crate::workload::bundled;
use anyhow::Result;
use clap::{Args, ValueEnum};

/// What `list` and `check` print.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DocFormat {
    /// Human-readable text.
    #[default]
    Table,
    /// JSON (schema: docs/list-schema.json, docs/check-schema.json).
    Json,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Output format (JSON schema: docs/list-schema.json).
    #[arg(long, value_enum, default_value_t = DocFormat::Table)]
    pub format: DocFormat,
}

pub fn list(args: &ListArgs) -> Result<()> {
    let mut workloads = Vec::new();
    for name in bundled::names() {
        // Listing does not depend on this machine's memory.
        let w = bundled::load_bundled_with_memory(name, u64::MAX)?;
        workloads.push(DescribedWorkload::new(&w, name));
    }
    match args.format {
        DocFormat::Table => {
            for w in &workloads {
                println!("{:<12} {}", w.workload.name, w.description);
            }
        }
        DocFormat::Json => print!(
            "{}",
            documents::to_json(&WorkloadList {
                schema_version: documents::LISTING_SCHEMA_VERSION.into(),
                workloads,
            })
        ),
    }
    Ok(())
}
