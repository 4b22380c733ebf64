//! A decoder-only transformer (GPT-2 / Llama style, pre-norm) with a real training step:
//! forward, backward and AdamW update, built from the kernels in `crate::kernels`.
//!
//! Every buffer is allocated once, at construction, and reused by every step, so a measured
//! step times computation rather than page faults. Weights are stored (in × out) so a layer is
//! `Y = X · W`. The kernel calls made by [`TransformerTrainer::step`] are exactly the ops of
//! `workload::plan::transformer_step`, which the tests check call by call through the tally.

use super::data::SuccessorTask;
use super::{mat, mat_mut, normal_init};
use crate::kernels::adamw::{self, AdamW, Slot};
use crate::kernels::attention::{self, AttentionShape};
use crate::kernels::gemm::matmul;
use crate::kernels::memory::zeroed;
use crate::kernels::{Tally, activation, embedding, loss, norm, residual};
use crate::ops::OpClass;
use crate::workload::{Activation, Norm, Positions, TransformerShape};

/// Indices into the parameter slots of one block.
#[derive(Debug, Clone, Copy)]
struct BlockParams {
    /// Gain then (LayerNorm) bias of the attention norm, one slot.
    norm1: usize,
    /// Fused QKV projection, h × (h + 2·g·d).
    wqkv: usize,
    /// Attention output projection, h × h.
    wo: usize,
    norm2: usize,
    /// FFN up projection, h × f (GELU) or h × 2f (SwiGLU: gate then up).
    wup: usize,
    /// FFN down projection, f × h.
    wdown: usize,
}

/// What one block keeps from forward for backward.
#[derive(Debug, Clone)]
struct BlockActs {
    n1: Vec<f32>,
    st1: Vec<f32>,
    qkv: Vec<f32>,
    /// Log-sum-exp of each query row's attention scores (batch · heads · s), for backward.
    lse: Vec<f32>,
    ctx: Vec<f32>,
    mid: Vec<f32>,
    n2: Vec<f32>,
    st2: Vec<f32>,
    up: Vec<f32>,
    act: Vec<f32>,
}

/// Gradient workspace shared by all blocks.
#[derive(Debug, Clone)]
struct Grads {
    dy: Vec<f32>,
    dmid: Vec<f32>,
    tmp: Vec<f32>,
    dn: Vec<f32>,
    dqkv: Vec<f32>,
    dctx: Vec<f32>,
    dup: Vec<f32>,
    dact: Vec<f32>,
}

/// A transformer with its optimizer state, activations and a synthetic data stream.
pub struct TransformerTrainer {
    shape: TransformerShape,
    batch: usize,
    slots: Vec<Slot>,
    embed: usize,
    positions: Option<usize>,
    blocks: Vec<BlockParams>,
    norm_f: usize,
    /// Untied output head, h × V.
    head: Option<usize>,
    /// Block inputs: xs[l] is block l's input, xs[layers] the last block's output.
    xs: Vec<Vec<f32>>,
    acts: Vec<BlockActs>,
    nf: Vec<f32>,
    stf: Vec<f32>,
    logits: Vec<f32>,
    lse: Vec<f32>,
    /// `logits` holds d(loss)/d(logits): the step's forward ran the fused loss kernel.
    dlogits_ready: bool,
    grads: Grads,
    opt: AdamW,
    steps: u64,
    task: SuccessorTask,
    tokens: Vec<u32>,
    targets: Vec<u32>,
}

impl TransformerTrainer {
    /// Builds the model with GPT-2's initialisation (normal, σ = 0.02; residual output
    /// projections σ = 0.02/√(2·layers)) from `seed`.
    pub fn new(shape: &TransformerShape, batch: usize, seed: u64) -> Self {
        let (h, f, v, s) = (shape.d_model, shape.d_ff, shape.vocab, shape.seq_len);
        let a = attention_shape(shape, batch);
        let up_w = up_width(shape);
        let std = 0.02f32;
        let std_out = std / ((2 * shape.layers) as f32).sqrt();
        let mut slots = Vec::new();
        let mut add = |slot: Slot| {
            slots.push(slot);
            slots.len() - 1
        };
        // Each tensor gets its own stream, so initialisation runs in parallel and does not
        // depend on the thread count.
        let mut tensor = 0u64;
        let mut normal = |n: usize, sd: f32| -> Vec<f32> {
            tensor += 1;
            normal_init(
                n,
                sd,
                seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    .wrapping_add(tensor),
            )
        };
        let norm_slot = |shape: &TransformerShape| {
            let mut w = vec![1.0f32; h];
            if shape.norm == Norm::Layernorm {
                w.extend(std::iter::repeat_n(0.0, h));
            }
            Slot::new(w, false)
        };
        let embed = add(Slot::new(normal(v * h, std), true));
        let positions = match shape.positions {
            Positions::Learned => Some(add(Slot::new(normal(s * h, 0.01), true))),
            Positions::None => None,
        };
        let blocks = (0..shape.layers)
            .map(|_| BlockParams {
                norm1: add(norm_slot(shape)),
                wqkv: add(Slot::new(normal(h * a.qkv_width(), std), true)),
                wo: add(Slot::new(normal(h * h, std_out), true)),
                norm2: add(norm_slot(shape)),
                wup: add(Slot::new(normal(h * up_w, std), true)),
                wdown: add(Slot::new(normal(f * h, std_out), true)),
            })
            .collect();
        let norm_f = add(norm_slot(shape));
        let head = (!shape.tied_embeddings).then(|| add(Slot::new(normal(h * v, std), true)));

        let t = batch * s;
        let acts = (0..shape.layers)
            .map(|_| BlockActs {
                n1: zeroed(t * h),
                st1: zeroed(2 * t),
                qkv: zeroed(t * a.qkv_width()),
                lse: zeroed(a.lse_len()),
                ctx: zeroed(t * h),
                mid: zeroed(t * h),
                n2: zeroed(t * h),
                st2: zeroed(2 * t),
                up: zeroed(t * up_w),
                act: zeroed(t * f),
            })
            .collect();
        let grads = Grads {
            dy: zeroed(t * h),
            dmid: zeroed(t * h),
            tmp: zeroed(t * h),
            dn: zeroed(t * h),
            dqkv: zeroed(t * a.qkv_width()),
            dctx: zeroed(t * h),
            dup: zeroed(t * up_w),
            dact: zeroed(t * f),
        };
        let task = SuccessorTask::new(v, seed ^ 0x5eed);
        Self {
            shape: shape.clone(),
            batch,
            slots,
            embed,
            positions,
            blocks,
            norm_f,
            head,
            xs: (0..shape.layers + 1).map(|_| zeroed(t * h)).collect(),
            acts,
            nf: zeroed(t * h),
            stf: zeroed(2 * t),
            logits: zeroed(t * v),
            lse: zeroed(t),
            dlogits_ready: false,
            grads,
            opt: AdamW::default(),
            steps: 0,
            task,
            tokens: vec![0; t],
            targets: vec![0; t],
        }
    }

    /// Sets the optimizer's hyper-parameters.
    pub fn with_optimizer(mut self, opt: AdamW) -> Self {
        self.opt = opt;
        self
    }

    pub fn shape(&self) -> &TransformerShape {
        &self.shape
    }

    /// Trainable parameters.
    pub fn params(&self) -> u64 {
        self.slots.iter().map(|s| s.len() as u64).sum()
    }

    /// Draws the next batch from the synthetic task (outside any timed region).
    pub fn next_batch(&mut self) {
        self.task
            .fill(self.shape.seq_len, &mut self.tokens, &mut self.targets);
    }

    /// One training step on the current batch: forward, backward, AdamW update. Returns the
    /// loss before the update.
    pub fn step(&mut self, tally: &mut Tally) -> f32 {
        // Backward follows at once, so the loss kernel also leaves d(logits) (one read of the
        // logits instead of two: `kernels::loss::forward_backward`).
        let loss = self.forward_with(tally, true);
        self.backward(tally);
        self.steps += 1;
        adamw::update(tally, &self.opt, self.steps, self.slots.iter_mut());
        loss
    }

    /// The loss on the current batch (forward only).
    pub fn forward(&mut self, tally: &mut Tally) -> f32 {
        self.forward_with(tally, false)
    }

    /// The forward pass; with `gradient`, the loss kernel also turns the logits into
    /// d(loss)/d(logits) for [`backward`](Self::backward).
    fn forward_with(&mut self, tally: &mut Tally, gradient: bool) -> f32 {
        let sh = &self.shape;
        let (h, s, v) = (sh.d_model, sh.seq_len, sh.vocab);
        let t = self.batch * s;
        let a = attention_shape(sh, self.batch);
        let qkvw = a.qkv_width();
        let up_w = up_width(sh);
        fn bias(norm: Norm, slot: &Slot, h: usize) -> Option<&[f32]> {
            (norm == Norm::Layernorm).then(|| &slot.w[h..])
        }

        let pos = self.positions.map(|p| self.slots[p].w.as_slice());
        embedding::forward(
            tally,
            &self.tokens,
            &self.slots[self.embed].w,
            pos,
            s,
            h,
            &mut self.xs[0],
        );

        for (l, (bp, acts)) in self.blocks.iter().zip(self.acts.iter_mut()).enumerate() {
            let (inputs, outputs) = self.xs.split_at_mut(l + 1);
            let x = &inputs[l];
            let out = &mut outputs[0];
            let n1 = &self.slots[bp.norm1];
            norm::forward(
                tally,
                sh.norm,
                x,
                h,
                &n1.w[..h],
                bias(sh.norm, n1, h),
                &mut acts.n1,
                &mut acts.st1,
            );
            let wqkv = &self.slots[bp.wqkv].w;
            matmul(
                tally,
                OpClass::Matmul,
                mat(&acts.n1, t, h),
                mat(wqkv, h, qkvw),
                mat_mut(&mut acts.qkv, t, qkvw),
                false,
            );
            attention::forward(tally, a, &acts.qkv, &mut acts.lse, &mut acts.ctx);
            let tmp = &mut self.grads.tmp;
            matmul(
                tally,
                OpClass::Matmul,
                mat(&acts.ctx, t, h),
                mat(&self.slots[bp.wo].w, h, h),
                mat_mut(tmp, t, h),
                false,
            );
            residual::add(tally, x, tmp, &mut acts.mid);
            let n2 = &self.slots[bp.norm2];
            norm::forward(
                tally,
                sh.norm,
                &acts.mid,
                h,
                &n2.w[..h],
                bias(sh.norm, n2, h),
                &mut acts.n2,
                &mut acts.st2,
            );
            matmul(
                tally,
                OpClass::Matmul,
                mat(&acts.n2, t, h),
                mat(&self.slots[bp.wup].w, h, up_w),
                mat_mut(&mut acts.up, t, up_w),
                false,
            );
            match sh.activation {
                Activation::Gelu => activation::gelu_forward(tally, &acts.up, &mut acts.act),
                Activation::Swiglu => {
                    activation::swiglu_forward(tally, &acts.up, sh.d_ff, &mut acts.act)
                }
            }
            let f = sh.d_ff;
            matmul(
                tally,
                OpClass::Matmul,
                mat(&acts.act, t, f),
                mat(&self.slots[bp.wdown].w, f, h),
                mat_mut(tmp, t, h),
                false,
            );
            residual::add(tally, &acts.mid, tmp, out);
        }

        let last = &self.xs[sh.layers];
        let nf = &self.slots[self.norm_f];
        norm::forward(
            tally,
            sh.norm,
            last,
            h,
            &nf.w[..h],
            bias(sh.norm, nf, h),
            &mut self.nf,
            &mut self.stf,
        );
        let logits = mat_mut(&mut self.logits, t, v);
        match self.head {
            Some(hd) => matmul(
                tally,
                OpClass::Matmul,
                mat(&self.nf, t, h),
                mat(&self.slots[hd].w, h, v),
                logits,
                false,
            ),
            None => matmul(
                tally,
                OpClass::Matmul,
                mat(&self.nf, t, h),
                mat(&self.slots[self.embed].w, v, h).t(),
                logits,
                false,
            ),
        }
        self.dlogits_ready = gradient;
        if gradient {
            loss::forward_backward(tally, &mut self.logits, v, &self.targets)
        } else {
            loss::forward(tally, &self.logits, v, &self.targets, &mut self.lse)
        }
    }

    /// Gradients of the loss of the last [`forward`](Self::forward) into every slot's `g`.
    pub fn backward(&mut self, tally: &mut Tally) {
        let sh = self.shape.clone();
        let (h, s, v, f) = (sh.d_model, sh.seq_len, sh.vocab, sh.d_ff);
        let t = self.batch * s;
        let a = attention_shape(&sh, self.batch);
        let qkvw = a.qkv_width();
        let up_w = up_width(&sh);
        let ln = sh.norm == Norm::Layernorm;
        let g = &mut self.grads;

        if !std::mem::take(&mut self.dlogits_ready) {
            loss::backward(tally, &mut self.logits, v, &self.targets, &self.lse);
        }
        let dlogits = mat(&self.logits, t, v);
        match self.head {
            Some(hd) => {
                let Slot { w, g: dw, .. } = &mut self.slots[hd];
                matmul(
                    tally,
                    OpClass::Matmul,
                    dlogits,
                    mat(w, h, v).t(),
                    mat_mut(&mut g.dn, t, h),
                    false,
                );
                matmul(
                    tally,
                    OpClass::Matmul,
                    mat(&self.nf, t, h).t(),
                    dlogits,
                    mat_mut(dw, h, v),
                    false,
                );
            }
            None => {
                let Slot { w, g: dw, .. } = &mut self.slots[self.embed];
                matmul(
                    tally,
                    OpClass::Matmul,
                    dlogits,
                    mat(w, v, h),
                    mat_mut(&mut g.dn, t, h),
                    false,
                );
                // Assigns the embedding gradient; the lookup's backward adds to it below.
                matmul(
                    tally,
                    OpClass::Matmul,
                    dlogits.t(),
                    mat(&self.nf, t, h),
                    mat_mut(dw, v, h),
                    false,
                );
            }
        }
        {
            let Slot { w, g: dw, .. } = &mut self.slots[self.norm_f];
            let (dgain, dbias) = dw.split_at_mut(h);
            norm::backward(
                tally,
                sh.norm,
                &self.xs[sh.layers],
                h,
                &w[..h],
                &self.stf,
                &g.dn,
                &mut g.dy,
                dgain,
                ln.then_some(dbias),
            );
        }

        for l in (0..sh.layers).rev() {
            let bp = self.blocks[l];
            let acts = &self.acts[l];
            // FFN: dy is the gradient of the block output.
            {
                let Slot { w, g: dw, .. } = &mut self.slots[bp.wdown];
                matmul(
                    tally,
                    OpClass::Matmul,
                    mat(&g.dy, t, h),
                    mat(w, f, h).t(),
                    mat_mut(&mut g.dact, t, f),
                    false,
                );
                matmul(
                    tally,
                    OpClass::Matmul,
                    mat(&acts.act, t, f).t(),
                    mat(&g.dy, t, h),
                    mat_mut(dw, f, h),
                    false,
                );
            }
            match sh.activation {
                Activation::Gelu => activation::gelu_backward(tally, &acts.up, &g.dact, &mut g.dup),
                Activation::Swiglu => {
                    activation::swiglu_backward(tally, &acts.up, f, &g.dact, &mut g.dup)
                }
            }
            {
                let Slot { w, g: dw, .. } = &mut self.slots[bp.wup];
                matmul(
                    tally,
                    OpClass::Matmul,
                    mat(&g.dup, t, up_w),
                    mat(w, h, up_w).t(),
                    mat_mut(&mut g.dn, t, h),
                    false,
                );
                matmul(
                    tally,
                    OpClass::Matmul,
                    mat(&acts.n2, t, h).t(),
                    mat(&g.dup, t, up_w),
                    mat_mut(dw, h, up_w),
                    false,
                );
            }
            {
                // dmid = dy (the residual path) + the norm's input gradient, in one kernel.
                let Slot { w, g: dw, .. } = &mut self.slots[bp.norm2];
                let (dgain, dbias) = dw.split_at_mut(h);
                norm::backward_add(
                    tally,
                    sh.norm,
                    &acts.mid,
                    h,
                    &w[..h],
                    &acts.st2,
                    &g.dn,
                    &g.dy,
                    &mut g.dmid,
                    dgain,
                    ln.then_some(dbias),
                );
            }
            // Attention: dmid is the gradient of the mid-block residual stream.
            {
                let Slot { w, g: dw, .. } = &mut self.slots[bp.wo];
                matmul(
                    tally,
                    OpClass::Matmul,
                    mat(&g.dmid, t, h),
                    mat(w, h, h).t(),
                    mat_mut(&mut g.dctx, t, h),
                    false,
                );
                matmul(
                    tally,
                    OpClass::Matmul,
                    mat(&acts.ctx, t, h).t(),
                    mat(&g.dmid, t, h),
                    mat_mut(dw, h, h),
                    false,
                );
            }
            attention::backward(
                tally,
                a,
                &acts.qkv,
                &acts.ctx,
                &acts.lse,
                &g.dctx,
                &mut g.dqkv,
            );
            {
                let Slot { w, g: dw, .. } = &mut self.slots[bp.wqkv];
                matmul(
                    tally,
                    OpClass::Matmul,
                    mat(&g.dqkv, t, qkvw),
                    mat(w, h, qkvw).t(),
                    mat_mut(&mut g.dn, t, h),
                    false,
                );
                matmul(
                    tally,
                    OpClass::Matmul,
                    mat(&acts.n1, t, h).t(),
                    mat(&g.dqkv, t, qkvw),
                    mat_mut(dw, h, qkvw),
                    false,
                );
            }
            {
                // dy = dmid (the residual path) + the norm's input gradient, in one kernel.
                let Slot { w, g: dw, .. } = &mut self.slots[bp.norm1];
                let (dgain, dbias) = dw.split_at_mut(h);
                norm::backward_add(
                    tally,
                    sh.norm,
                    &self.xs[l],
                    h,
                    &w[..h],
                    &acts.st1,
                    &g.dn,
                    &g.dmid,
                    &mut g.dy,
                    dgain,
                    ln.then_some(dbias),
                );
            }
        }

        if self.head.is_some() {
            self.slots[self.embed].g.fill(0.0);
        }
        let (embed_slots, rest) = self.slots.split_at_mut(self.embed + 1);
        let dpos = self.positions.map(|p| {
            // Position slot comes right after the embedding.
            debug_assert_eq!(p, self.embed + 1);
            rest[0].g.as_mut_slice()
        });
        embedding::backward(
            tally,
            &self.tokens,
            &g.dy,
            s,
            h,
            &mut embed_slots[self.embed].g,
            dpos,
        );
    }

    /// Every parameter slot, for gradient checks.
    pub fn slots_mut(&mut self) -> &mut [Slot] {
        &mut self.slots
    }

    /// Sets the batch the next [`forward`](Self::forward) uses.
    pub fn set_batch(&mut self, tokens: &[u32], targets: &[u32]) {
        self.tokens.copy_from_slice(tokens);
        self.targets.copy_from_slice(targets);
    }
}

fn attention_shape(sh: &TransformerShape, batch: usize) -> AttentionShape {
    AttentionShape {
        batch,
        seq: sh.seq_len,
        heads: sh.heads,
        kv_heads: sh.kv_heads,
        head_dim: sh.head_dim(),
    }
}

fn up_width(sh: &TransformerShape) -> usize {
    match sh.activation {
        Activation::Gelu => sh.d_ff,
        Activation::Swiglu => 2 * sh.d_ff,
    }
}
