//! Numerically real training steps of the workload kinds, built from `crate::kernels`:
//! a transformer, an MLP, and the product sweep. Each runs exactly the ops its
//! `workload::plan` lists.

#[cfg(test)]
mod accounting;
pub mod data;
#[cfg(test)]
mod gradcheck;
pub mod mlp;
pub mod sweep;
pub mod transformer;

use ndarray::{ArrayView2, ArrayViewMut2};

pub use mlp::MlpTrainer;
pub use sweep::GemmRunner;
pub use transformer::TransformerTrainer;

/// A (rows × cols) row-major view of a flat buffer.
pub(crate) fn mat(data: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols), &data[..rows * cols]).expect("buffer sized for its shape")
}

/// A mutable (rows × cols) row-major view of a flat buffer.
pub(crate) fn mat_mut(data: &mut [f32], rows: usize, cols: usize) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((rows, cols), &mut data[..rows * cols])
        .expect("buffer sized for its shape")
}
