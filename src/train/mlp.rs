//! A multi-layer perceptron classifier with a real training step:
//! `d_in → d_hidden (× hidden_layers, GELU) → classes`, softmax cross-entropy, AdamW.

use super::data::TeacherTask;
use super::{mat, mat_mut, normal_init};
use crate::kernels::adamw::{self, AdamW, Slot};
use crate::kernels::gemm::matmul;
use crate::kernels::memory::zeroed;
use crate::kernels::{Tally, activation, loss};
use crate::ops::OpClass;
use crate::workload::MlpShape;

/// An MLP with its optimizer state, activations and a synthetic data stream. Buffers are
/// allocated once.
pub struct MlpTrainer {
    shape: MlpShape,
    batch: usize,
    /// One weight matrix per layer, (in × out).
    slots: Vec<Slot>,
    inputs: Vec<f32>,
    labels: Vec<u32>,
    /// Pre-activations of each hidden layer.
    pre: Vec<Vec<f32>>,
    /// Post-activations of each hidden layer.
    post: Vec<Vec<f32>>,
    logits: Vec<f32>,
    /// Gradient workspace: d(post) and d(pre), batch × widest hidden.
    dpost: Vec<f32>,
    dpre: Vec<f32>,
    opt: AdamW,
    steps: u64,
    task: TeacherTask,
}

impl MlpTrainer {
    /// He-style initialisation (σ = √(2/fan_in)) from `seed`.
    pub fn new(shape: &MlpShape, batch: usize, seed: u64) -> Self {
        let dims = layer_dims(shape);
        let slots = dims
            .iter()
            .enumerate()
            .map(|(l, &(i, o))| {
                let sd = (2.0 / i as f32).sqrt();
                Slot::new(normal_init(i * o, sd, seed.wrapping_add(l as u64)), true)
            })
            .collect();
        let hd = shape.d_hidden;
        Self {
            shape: shape.clone(),
            batch,
            slots,
            inputs: zeroed(batch * shape.d_in),
            labels: vec![0; batch],
            pre: (0..shape.hidden_layers)
                .map(|_| zeroed(batch * hd))
                .collect(),
            post: (0..shape.hidden_layers)
                .map(|_| zeroed(batch * hd))
                .collect(),
            logits: zeroed(batch * shape.classes),
            dpost: zeroed(batch * hd),
            dpre: zeroed(batch * hd),
            opt: AdamW {
                lr: 1e-3,
                ..AdamW::default()
            },
            steps: 0,
            task: TeacherTask::new(shape.d_in, shape.classes, seed ^ 0x7eac),
        }
    }

    /// Trainable parameters.
    pub fn params(&self) -> u64 {
        self.slots.iter().map(|s| s.len() as u64).sum()
    }

    /// Draws the next batch from the synthetic task (outside any timed region).
    pub fn next_batch(&mut self) {
        self.task.fill(&mut self.inputs, &mut self.labels);
    }

    /// One training step on the current batch; returns the loss before the update.
    pub fn step(&mut self, tally: &mut Tally) -> f32 {
        let (b, hd, c) = (self.batch, self.shape.d_hidden, self.shape.classes);
        let dims = layer_dims(&self.shape);
        let layers = self.shape.hidden_layers;

        // Forward.
        for (l, &(i, o)) in dims.iter().enumerate().take(layers) {
            let x = if l == 0 {
                &self.inputs
            } else {
                &self.post[l - 1]
            };
            matmul(
                tally,
                OpClass::Matmul,
                mat(x, b, i),
                mat(&self.slots[l].w, i, o),
                mat_mut(&mut self.pre[l], b, o),
                false,
            );
            activation::gelu_forward(tally, &self.pre[l], &mut self.post[l]);
        }
        let last = &self.post[layers - 1];
        matmul(
            tally,
            OpClass::Matmul,
            mat(last, b, hd),
            mat(&self.slots[layers].w, hd, c),
            mat_mut(&mut self.logits, b, c),
            false,
        );
        // The loss and, in the same kernel, its gradient: backward starts here.
        let loss = loss::forward_backward(tally, &mut self.logits, c, &self.labels);

        // Backward.
        {
            let Slot { w, g, .. } = &mut self.slots[layers];
            matmul(
                tally,
                OpClass::Matmul,
                mat(&self.logits, b, c),
                mat(w, hd, c).t(),
                mat_mut(&mut self.dpost, b, hd),
                false,
            );
            matmul(
                tally,
                OpClass::Matmul,
                mat(last, b, hd).t(),
                mat(&self.logits, b, c),
                mat_mut(g, hd, c),
                false,
            );
        }
        for l in (0..layers).rev() {
            let (i, o) = dims[l];
            activation::gelu_backward(tally, &self.pre[l], &self.dpost, &mut self.dpre);
            let Slot { w, g, .. } = &mut self.slots[l];
            // The first layer's input is data: no input gradient.
            if l > 0 {
                matmul(
                    tally,
                    OpClass::Matmul,
                    mat(&self.dpre, b, o),
                    mat(w, i, o).t(),
                    mat_mut(&mut self.dpost, b, i),
                    false,
                );
            }
            let x = if l == 0 {
                &self.inputs
            } else {
                &self.post[l - 1]
            };
            matmul(
                tally,
                OpClass::Matmul,
                mat(x, b, i).t(),
                mat(&self.dpre, b, o),
                mat_mut(g, i, o),
                false,
            );
        }
        self.steps += 1;
        adamw::update(tally, &self.opt, self.steps, self.slots.iter_mut());
        loss
    }
}

/// (in, out) of every layer, the output layer last.
fn layer_dims(s: &MlpShape) -> Vec<(usize, usize)> {
    let mut dims = vec![(s.d_in, s.d_hidden)];
    dims.extend(std::iter::repeat_n(
        (s.d_hidden, s.d_hidden),
        s.hidden_layers - 1,
    ));
    dims.push((s.d_hidden, s.classes));
    dims
}
