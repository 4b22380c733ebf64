//! Workloads: the TOML format (`parse`: text → raw structs; `validate`: the rules → the
//! validated types of `spec`), the bundled files (`bundled`), the analytic plan of a training
//! step (`plan`: FLOPs, bytes, parameters, memory, in checked arithmetic), and whether a slice
//! fits this machine (`fit`, asked where a run is planned).

pub mod bundled;
pub mod fit;
pub mod hf;
pub mod parse;
pub mod plan;
pub mod spec;
mod validate;

pub use fit::{available_memory_bytes, check_fits};
pub use parse::{WorkloadError, load_workload, parse_workload};
pub use spec::*;

#[cfg(test)]
mod tests;
