//! Measurement: the statistics kernel (`stats`), this machine's context (`machine`), its
//! measured roofline (`probe`), the adaptive sampling harness (`sampler`) and a step's
//! instruction and cache counts under Cachegrind (`counts`).

pub mod counts;
pub mod execute;
pub mod interrupt;
pub mod machine;
pub mod probe;
pub mod record;
pub mod sampler;
pub mod scaling;
