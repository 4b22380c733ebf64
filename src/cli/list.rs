//! `costbench list`: the bundled workloads.

use anyhow::Result;
use costbench::workload::bundled;

pub fn list() -> Result<()> {
    for name in bundled::names() {
        // Listing does not depend on this machine's memory.
        let w = bundled::load_bundled_with_memory(name, u64::MAX)?;
        println!("{name:<12} {}", w.description);
    }
    Ok(())
}
