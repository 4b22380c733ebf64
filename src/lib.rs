//! costbench: measure real training-step workloads on this CPU and turn them into sourced cost
//! comparisons between accelerators. The architecture (the parts, and which way the arrows go)
//! is in `docs/design.md`; users start with the README.

pub mod catalog;
pub mod compare;
pub mod diag;
pub mod kernels;
pub mod measure;
pub mod model;
pub mod ops;
pub mod render;
pub mod report;
pub mod stats;
pub mod train;
pub mod units;
pub mod workload;
