//! The AdamW update (Loshchilov & Hutter 2019: Adam with decoupled weight decay).

use super::fastmath::multiversion;
use super::flops::ADAMW;
use super::memory::zeroed;
use super::{OpClass, Tally};
use rayon::prelude::*;

/// Hyper-parameters of AdamW.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamW {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
}

impl Default for AdamW {
    /// GPT-3 / Llama-style defaults (β2 = 0.95, decay 0.1).
    fn default() -> Self {
        Self {
            lr: 3e-4,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: 0.1,
        }
    }
}

/// One parameter tensor with its gradient and both moments, flat.
#[derive(Debug, Clone)]
pub struct Slot {
    pub w: Vec<f32>,
    pub g: Vec<f32>,
    pub m: Vec<f32>,
    pub v: Vec<f32>,
    /// Whether weight decay applies (matrices and embeddings yes, norm gains and biases no).
    pub decay: bool,
}

impl Slot {
    pub fn new(w: Vec<f32>, decay: bool) -> Self {
        let n = w.len();
        Self {
            w,
            g: zeroed(n),
            m: zeroed(n),
            v: zeroed(n),
            decay,
        }
    }
    pub fn len(&self) -> usize {
        self.w.len()
    }
    pub fn is_empty(&self) -> bool {
        self.w.is_empty()
    }
}

const CHUNK: usize = 1 << 14;

/// Applies update number `step` (1-based) to every slot; one tally record for the whole update.
pub fn update<'a>(
    tally: &mut Tally,
    opt: &AdamW,
    step: u64,
    slots: impl Iterator<Item = &'a mut Slot>,
) {
    let slots: Vec<&mut Slot> = slots.collect();
    let n: u64 = slots.iter().map(|s| s.len() as u64).sum();
    let c1 = 1.0 / (1.0 - opt.beta1.powi(step as i32));
    let c2 = 1.0 / (1.0 - opt.beta2.powi(step as i32));
    tally.record(OpClass::Optimizer, n * ADAMW, 28 * n, || {
        for slot in slots {
            let wd = if slot.decay { opt.weight_decay } else { 0.0 };
            let Slot { w, g, m, v, .. } = slot;
            w.par_chunks_mut(CHUNK)
                .zip(g.par_chunks(CHUNK))
                .zip(m.par_chunks_mut(CHUNK))
                .zip(v.par_chunks_mut(CHUNK))
                .for_each(|(((w, g), m), v)| update_chunk(opt, c1, c2, wd, w, g, m, v));
        }
    });
}

multiversion! {
    /// The update of one chunk: zipped iterators, so the loop has no bounds checks and
    /// vectorises (an indexed loop over four slices of unproven equal length does not).
    #[allow(clippy::too_many_arguments)]
    fn update_chunk(
        opt: &AdamW,
        c1: f32,
        c2: f32,
        wd: f32,
        w: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
    ) {
        for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m = opt.beta1 * *m + (1.0 - opt.beta1) * g;
            *v = opt.beta2 * *v + (1.0 - opt.beta2) * g * g;
            let mh = *m * c1;
            let vh = *v * c2;
            let step = mh / (vh.sqrt() + opt.eps) + wd * *w;
            *w -= opt.lr * step;
        }
    }
}
