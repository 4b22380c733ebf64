//! Measurement: the statistics kernel (`stats`), this machine's context (`machine`), its
//! measured roofline (`probe`) and the adaptive sampling harness (`sampler`).

pub mod execute;
pub mod interrupt;
pub mod machine;
pub mod probe;
pub mod record;
pub mod sampler;
pub mod scaling;
