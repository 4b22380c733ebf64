//! costbench: measure real training-step workloads on this CPU and turn them into sourced cost
//! comparisons between accelerators. See `../shared/DESIGN.md` and the README.

pub mod catalog;
pub mod chart;
pub mod compare;
pub mod execute;
pub mod history;
pub mod html;
pub mod interrupt;
pub mod kernels;
pub mod measure;
pub mod model;
pub mod report;
pub mod summary;
pub mod toml_diag;
pub mod train;
pub mod workload;
