//! CPU compute kernels of a training step, forward and backward, f32, parallel with rayon over
//! ndarray arrays and flat row-major slices. Every kernel charges the FLOPs it executes to a
//! [`Tally`]; the per-element FLOP conventions are the constants in [`crate::ops::flops`], tabulated in
//! `docs/flops.md`.

pub mod activation;
pub mod adamw;
pub mod attention;
pub mod cancel;
pub mod embedding;
pub mod fastmath;
pub mod gemm;
pub mod loss;
pub mod memory;
pub mod norm;
pub mod residual;
pub mod tally;

pub use tally::{ClassWork, Tally};

// The vocabulary the kernels charge their work in; submodules reach it as `super::…`.
use crate::ops::{OpClass, flops};
