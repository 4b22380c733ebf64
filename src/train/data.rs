//! Synthetic, learnable training data, generated from a seed.

use crate::kernels::gemm::{Threads, product_into};
use ndarray::{Array2, ArrayView2};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Sequences that follow a fixed random permutation of the vocabulary: each sequence starts at a
/// random token and every next token is `successor[previous]`. A model that learns the
/// successor table predicts every target exactly, so the loss can fall from ln(V) towards 0.
#[derive(Debug, Clone)]
pub struct SuccessorTask {
    successor: Vec<u32>,
    rng: StdRng,
}

impl SuccessorTask {
    pub fn new(vocab: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut successor: Vec<u32> = (0..vocab as u32).collect();
        successor.shuffle(&mut rng);
        Self { successor, rng }
    }

    /// Fills `tokens` and `targets` (sequences of `seq` tokens back to back); `targets[t]` is the
    /// token that follows `tokens[t]`.
    pub fn fill(&mut self, seq: usize, tokens: &mut [u32], targets: &mut [u32]) {
        for (toks, tgts) in tokens
            .chunks_exact_mut(seq)
            .zip(targets.chunks_exact_mut(seq))
        {
            let mut tok = self.rng.random_range(0..self.successor.len() as u32);
            for (x, y) in toks.iter_mut().zip(tgts.iter_mut()) {
                *x = tok;
                tok = self.successor[tok as usize];
                *y = tok;
            }
        }
    }
}

/// Classification data for the MLP: standard normal inputs labelled by a fixed random linear
/// teacher (label = argmax of x · T), so the task is learnable.
#[derive(Debug, Clone)]
pub struct TeacherTask {
    teacher: Vec<f32>,
    d_in: usize,
    classes: usize,
    rng: StdRng,
}

impl TeacherTask {
    pub fn new(d_in: usize, classes: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let teacher = (0..d_in * classes)
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect();
        Self {
            teacher,
            d_in,
            classes,
            rng,
        }
    }

    /// Fills `inputs` (rows × d_in) and `labels` (rows).
    pub fn fill(&mut self, inputs: &mut [f32], labels: &mut [u32]) {
        let normal = rand_distr::StandardNormal;
        inputs.iter_mut().for_each(|v| *v = self.rng.sample(normal));
        let rows = labels.len();
        let mut scores = Array2::<f32>::zeros((rows, self.classes));
        let x =
            ArrayView2::from_shape((rows, self.d_in), &inputs[..]).expect("inputs are rows × d_in");
        let t = ArrayView2::from_shape((self.d_in, self.classes), &self.teacher[..])
            .expect("teacher is d_in × classes");
        product_into(x, t, scores.view_mut(), false, Threads::Auto);
        for (label, row) in labels.iter_mut().zip(scores.rows()) {
            let mut best = (f32::NEG_INFINITY, 0u32);
            for (c, &score) in row.iter().enumerate() {
                if score > best.0 {
                    best = (score, c as u32);
                }
            }
            *label = best.1;
        }
    }
}
