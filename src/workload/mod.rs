//! Workloads: the TOML format (`parse`), its validated types (`spec`), the bundled files
//! (`bundled`), and the analytic plan of a training step (`plan`: FLOPs, bytes, parameters,
//! memory).

pub mod bundled;
pub mod parse;
pub mod plan;
pub mod spec;

pub use parse::{WorkloadError, load_workload, parse_workload};
pub use spec::*;
