//! Measurement: the statistics kernel (`stats`), this machine's context (`machine`), its
//! measured roofline (`probe`) and the adaptive sampling harness (`sampler`).

pub mod changepoint;
pub mod machine;
pub mod probe;
pub mod sampler;
pub mod scaling;
pub mod stats;
