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

/// A training step that can be timed apart from drawing its data.
pub trait TrainingStep {
    /// Draws the next batch of synthetic data.
    fn next_batch(&mut self);
    /// Forward, backward and optimizer update on the current batch; the loss before the update.
    fn step(&mut self, tally: &mut crate::kernels::Tally) -> f32;
}

impl TrainingStep for TransformerTrainer {
    fn next_batch(&mut self) {
        TransformerTrainer::next_batch(self)
    }
    fn step(&mut self, tally: &mut crate::kernels::Tally) -> f32 {
        TransformerTrainer::step(self, tally)
    }
}

impl TrainingStep for MlpTrainer {
    fn next_batch(&mut self) {
        MlpTrainer::next_batch(self)
    }
    fn step(&mut self, tally: &mut crate::kernels::Tally) -> f32 {
        MlpTrainer::step(self, tally)
    }
}

/// `n` draws from N(0, sd²), generated in parallel: chunk c of 64Ki values comes from its own
/// generator seeded with (seed, c), so the values depend on the seed only, not on the threads.
pub(crate) fn normal_init(n: usize, sd: f32, seed: u64) -> Vec<f32> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 16;
    let dist = Normal::new(0.0f32, sd).expect("σ is positive and finite");
    let mut out = crate::kernels::memory::zeroed(n);
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let mut rng = rand::rngs::StdRng::seed_from_u64(
                seed ^ (c as u64).wrapping_mul(0xd1b5_4a32_d192_ed03),
            );
            chunk.iter_mut().for_each(|v| *v = dist.sample(&mut rng));
        });
    out
}

/// A (rows × cols) row-major view of a flat buffer.
pub(crate) fn mat(data: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols), &data[..rows * cols]).expect("buffer sized for its shape")
}

/// A mutable (rows × cols) row-major view of a flat buffer.
pub(crate) fn mat_mut(data: &mut [f32], rows: usize, cols: usize) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((rows, cols), &mut data[..rows * cols])
        .expect("buffer sized for its shape")
}
