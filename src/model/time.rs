//! Step time of a training run under a layout: a roofline per op class on the slowest pipeline
//! stage, the pipeline bubble, and the communication the overlap rules leave exposed.
//!
//! For op class c with F_c FLOPs and B_c bytes per sequence on the stage, a chip of peak P (at
//! the class's precision) and HBM bandwidth W, per micro-batch of b sequences:
//!
//!   compute_c = b·F_c / (P·η_c),  memory_c = b·B_c·k / (W·μ),  t_c = max(compute_c, memory_c)
//!
//! (Calculon, Isaev et al. 2023; llm-analysis), where k = ½ converts the plan's f32 bytes to
//! the bf16 tensors of mixed-precision training, μ = [`HBM_EFFICIENCY`] and η_c comes from
//! [`super::efficiency`]: dense products by their per-chip size (b·s tokens × the layer's widths
//! ÷ t), FlashAttention on the FLOPs it executes, the rest memory-bound. Tensor parallelism t
//! divides every layer class (the norms and residuals only with sequence parallelism); a stage
//! holds l/p layers, the first one the embedding and the last one the output head and loss, and
//! the slower of the two sets the pace. Recomputation adds forward work: selective
//! recomputation re-runs the attention core's forward (a third of the attention products and
//! the softmax forward; nothing with FlashAttention, which recomputes its scores anyway), full
//! recomputation the whole forward (a third of every class).
//!
//! A step is m micro-batches: pipelined = m · Σ_c t_c; the 1F1B or interleaved schedule adds a
//! bubble of (p − 1)/(m·v) of the per-micro-batch work (Narayanan et al. 2021, §2.2); the
//! optimizer updates the chip's share of parameters (÷ d under ZeRO); communication
//! ([`super::comm`]) adds what its overlap rules leave exposed.

use super::comm;
use super::efficiency::{CAUSAL_EXECUTED_SHARE, Efficiency, Precision};
use super::layout::Layout;
use super::memory::Recompute;
use super::profile::Profile;
use crate::ops::OpClass;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Achievable fraction of HBM bandwidth.
pub const HBM_EFFICIENCY: f64 = 0.9;
/// Memory traffic of the elementwise classes (norms, activations, residuals, embedding, loss)
/// relative to the plan's minimum: GPU frameworks run them as several unfused
/// kernels with dropout masks, bias additions, rotary embeddings and fp32 casts the minimum does
/// not count (calibrated on the validation set, `docs/cost-model.md`).
pub const ELEMENTWISE_TRAFFIC: f64 = 5.0;
/// bf16 bytes per f32 byte counted by the plan.
pub const BF16_BYTES_RATIO: f64 = 0.5;

/// The chip and its links, in SI units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Chip {
    /// Dense BF16 peak, FLOP/s.
    pub peak_flops: f64,
    /// Dense FP8 peak, FLOP/s, where published.
    pub peak_fp8_flops: Option<f64>,
    /// HBM bandwidth, bytes/s.
    pub hbm_bytes_per_s: f64,
    /// Chip-to-chip bandwidth inside an instance, one way, bytes/s.
    pub link_bytes_per_s: f64,
    /// The instance's network to other instances (all its adapters), bytes/s.
    pub network_bytes_per_s: f64,
    pub chips_per_instance: u32,
    /// Latency of one collective step over the chip link and over the network, seconds
    /// ([`comm::ALPHA_LINK_S`], [`comm::ALPHA_NETWORK_S`]).
    pub alpha_link_s: f64,
    pub alpha_network_s: f64,
}

impl Chip {
    /// The latencies the model assumes ([`comm::ALPHA_LINK_S`], [`comm::ALPHA_NETWORK_S`]).
    pub const ALPHAS: (f64, f64) = (comm::ALPHA_LINK_S, comm::ALPHA_NETWORK_S);
}

/// Time of one op class per optimizer step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClassTime {
    pub class: OpClass,
    pub compute_s: f64,
    pub memory_s: f64,
    /// max(compute, memory), seconds.
    pub time_s: f64,
}

/// One optimizer step on n chips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StepTime {
    pub classes: Vec<ClassTime>,
    /// Σ class times, seconds.
    pub compute_s: f64,
    /// Data- and tensor-parallel communication, seconds.
    pub communication_s: f64,
    /// The part of communication not hidden behind computation, seconds.
    pub exposed_communication_s: f64,
    /// compute + exposed communication, seconds.
    pub total_s: f64,
    /// FLOPs one chip executes per step, recomputation included (the average chip).
    pub flops_per_chip: f64,
    /// The pipeline bubble, seconds (since report schema 1.4, as every field below).
    #[serde(default)]
    pub bubble_s: f64,
    /// (p − 1)/(m·v): the bubble as a share of the per-micro-batch work.
    #[serde(default)]
    pub bubble_fraction: f64,
    /// Tensor-parallel, pipeline, data-parallel and expert communication, seconds.
    #[serde(default)]
    pub tp_communication_s: f64,
    #[serde(default)]
    pub pp_communication_s: f64,
    #[serde(default)]
    pub dp_communication_s: f64,
    #[serde(default)]
    pub ep_communication_s: f64,
    /// The part of each that is not hidden behind computation, seconds.
    #[serde(default)]
    pub exposed_tp_s: f64,
    #[serde(default)]
    pub exposed_pp_s: f64,
    #[serde(default)]
    pub exposed_dp_s: f64,
    #[serde(default)]
    pub exposed_ep_s: f64,
    /// Pipeline sends on the critical path while the pipeline fills and drains, seconds.
    #[serde(default)]
    pub pp_fill_s: f64,
    /// The share of the pipelined computation data-parallel communication hides behind.
    #[serde(default)]
    pub dp_window: f64,
    /// Data-parallel communication that is never hidden (the last bucket), seconds.
    #[serde(default)]
    pub dp_tail_s: f64,
    /// Whether the step was modelled with a layout (schema 1.4); older reports used
    /// compute + max(0, communication − compute).
    #[serde(default)]
    pub layout_aware: bool,
}

impl StepTime {
    /// The step's total time with every compute efficiency multiplied by `m` (memory-bound
    /// time and communication unchanged, the overlap rules applied again, the bubble scaling
    /// with the per-micro-batch work). `total_at(1.0)` equals `total_s`. The Monte Carlo of
    /// `model::uncertainty` calls this for every trial.
    pub fn total_at(&self, m: f64) -> f64 {
        let m = m.max(1e-9);
        let time = |c: &ClassTime| (c.compute_s / m).max(c.memory_s);
        if !self.layout_aware {
            let compute: f64 = self.classes.iter().map(time).sum();
            return compute + (self.communication_s - compute).max(0.0);
        }
        let pipelined: f64 = self
            .classes
            .iter()
            .filter(|c| c.class != OpClass::Optimizer)
            .map(time)
            .sum();
        let optimizer: f64 = self
            .classes
            .iter()
            .filter(|c| c.class == OpClass::Optimizer)
            .map(time)
            .sum();
        let parts = Exposure::of(self, pipelined);
        pipelined + parts.bubble + optimizer + parts.exposed()
    }
}

/// The bubble and exposed communication for a given pipelined computation time.
struct Exposure {
    bubble: f64,
    tp: f64,
    pp: f64,
    dp: f64,
    ep: f64,
}

impl Exposure {
    fn of(s: &StepTime, pipelined: f64) -> Self {
        let tp = s.tp_communication_s * (1.0 - comm::OVERLAP.tensor_parallel);
        let ep = s.ep_communication_s * (1.0 - comm::OVERLAP.expert_parallel);
        let pp = if comm::OVERLAP.pipeline_steady_state {
            s.pp_fill_s + (s.pp_communication_s - s.pp_fill_s - pipelined).max(0.0)
        } else {
            s.pp_communication_s
        };
        let overlappable = s.dp_communication_s - s.dp_tail_s;
        let window = s.dp_window * pipelined;
        let dp = (overlappable - window).max(0.0)
            + s.dp_tail_s
            + comm::OVERLAP.contention * overlappable.min(window);
        Exposure {
            bubble: (pipelined + tp + ep) * s.bubble_fraction,
            tp,
            pp,
            dp,
            ep,
        }
    }

    fn exposed(&self) -> f64 {
        self.tp + self.pp + self.dp + self.ep
    }
}

/// Extra forward work of a recomputation choice, as a multiplier per class.
fn recompute_factor(class: OpClass, r: Recompute, flash: bool) -> f64 {
    match (r, class) {
        (Recompute::None, _) => 1.0,
        (Recompute::Selective, _) if flash => 1.0,
        (Recompute::Selective, OpClass::Attention) => 4.0 / 3.0,
        (Recompute::Selective, OpClass::Softmax) => 1.0 + 6.0 / 11.0,
        (Recompute::Selective, _) => 1.0,
        (Recompute::Full, OpClass::Optimizer) => 1.0,
        (Recompute::Full, _) => 4.0 / 3.0,
    }
}

/// Where a class's work sits in the pipeline.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    /// Every layer: split over the stages.
    Layers,
    /// The first stage (the embedding).
    First,
    /// The last stage (the output head and loss).
    Last,
}

/// The step time of `layout` for profile `p` on `chip`; None when the chip has no peak or
/// efficiency at `precision`.
pub fn layout_step_time(
    p: &Profile,
    chip: &Chip,
    layout: &Layout,
    eff: &Efficiency,
    precision: Precision,
) -> Option<StepTime> {
    let t = layout.tensor_parallel as f64;
    let pp = layout.pipeline_parallel as f64;
    let d = layout.data_parallel as f64;
    let b = layout.micro_batch as f64;
    let m = layout.micro_batches as f64;
    let s = p.shape.seq_len as f64;
    let h = p.shape.d_model as f64;
    let v = p.shape.vocab as f64;
    let sp = layout.sequence_parallel;
    let fa = layout.flash_attention;
    let rc = layout.recompute;
    let chips = t * pp * d;
    let peak_products = match precision {
        Precision::Bf16 => chip.peak_flops,
        Precision::Fp8 => chip.peak_fp8_flops?,
    };
    // Efficiency of the products must exist at this precision.
    eff.product_at(1e3, precision)?;

    // Dense products of a layer: their share of the layers' product FLOPs and per-chip size.
    let head_flops = 6.0 * s * h * v;
    let matmul = p
        .per_sequence
        .iter()
        .find(|c| c.class == OpClass::Matmul)
        .copied();
    let (matmul_flops, matmul_bytes) = matmul.map_or((0.0, 0.0), |c| (c.flops, c.bytes));
    let layer_matmul_flops = (matmul_flops - head_flops).max(0.0);
    let products = p.layer_products();
    let (routed, experts) = match p.moe {
        Some(moe) => (moe.active() as f64, moe.experts as f64),
        None => (1.0, 1.0),
    };
    let e = layout.expert_parallel.max(1) as f64;
    let weights: Vec<f64> = products
        .iter()
        .enumerate()
        .map(|(i, (a, o))| a * o * if i >= 2 { routed } else { 1.0 })
        .collect();
    let wsum: f64 = weights.iter().sum();
    // Seconds per FLOP of the layers' products, FLOP-weighted over their sizes.
    let mut layer_product_s_per_flop = 0.0;
    for (i, (a, o)) in products.iter().enumerate() {
        let tokens = if i >= 2 && p.moe.is_some() {
            // Tokens one local expert sees: the micro-batch's top-k copies spread over the
            // experts, gathered from the e ranks of the expert group.
            b * s * routed * e / experts
        } else {
            b * s
        };
        let gflop = 2.0 * tokens * a * o / t / 1e9;
        let eta = eff.product_at(gflop, precision)?;
        layer_product_s_per_flop += weights[i] / wsum / (peak_products * eta);
    }
    let head_eta = eff.product_at(2.0 * b * s * h * v / t / 1e9, Precision::Bf16)?;
    let bf16_peak = chip.peak_flops;
    let mu_bytes = BF16_BYTES_RATIO;

    // Per micro-batch, per stage: (class, place, flops, seconds of compute, bytes).
    struct Work {
        class: OpClass,
        place: Place,
        compute_s: f64,
        memory_s: f64,
        flops: f64,
    }
    let mut work: Vec<Work> = Vec::with_capacity(12);
    let w = |class, place, flops: f64, compute_s: f64, bytes: f64| Work {
        class,
        place,
        compute_s,
        memory_s: bytes * mu_bytes / (chip.hbm_bytes_per_s * eff.mu(class)),
        flops,
    };
    for c in &p.per_sequence {
        let r = recompute_factor(c.class, rc, fa);
        match c.class {
            OpClass::Matmul => {
                let layer_share = if matmul_flops > 0.0 {
                    layer_matmul_flops / matmul_flops
                } else {
                    0.0
                };
                let f_layers = b * layer_matmul_flops * r / t;
                let f_head = b * head_flops * r / t;
                let (compute_layers, compute_head) = if eff.measured.is_some() {
                    let eta = eff.product_at(1.0, precision)?;
                    (f_layers / (peak_products * eta), f_head / (bf16_peak * eta))
                } else {
                    (
                        f_layers * layer_product_s_per_flop,
                        f_head / (bf16_peak * head_eta),
                    )
                };
                let bytes = b * matmul_bytes * r / t;
                work.push(w(
                    c.class,
                    Place::Layers,
                    f_layers,
                    compute_layers,
                    bytes * layer_share,
                ));
                work.push(w(
                    c.class,
                    Place::Last,
                    f_head,
                    compute_head,
                    bytes * (1.0 - layer_share),
                ));
            }
            OpClass::Attention => {
                if fa {
                    let flops = b * c.flops * r * CAUSAL_EXECUTED_SHARE / t;
                    // Q, K, V, O and their gradients, bf16, once per layer.
                    let bytes = b * 12.0 * s * h * 2.0 * p.shape.layers as f64 / t / mu_bytes;
                    work.push(w(
                        c.class,
                        Place::Layers,
                        flops,
                        flops / (bf16_peak * eff.flash_attention()),
                        bytes,
                    ));
                } else {
                    let head_gflop = 2.0 * s * s * p.shape.head_dim() as f64 / 1e9;
                    let flops = b * c.flops * r / t;
                    work.push(w(
                        c.class,
                        Place::Layers,
                        flops,
                        flops / (bf16_peak * eff.attention_products(head_gflop)),
                        b * c.bytes * r / t,
                    ));
                }
            }
            // FlashAttention fuses the softmax into the attention kernel: its FLOPs are
            // executed there, its traffic never reaches HBM.
            OpClass::Softmax if fa => {
                work.push(w(c.class, Place::Layers, b * c.flops * r / t, 0.0, 0.0));
            }
            OpClass::Optimizer => {}
            class => {
                let split = match class {
                    OpClass::Norm | OpClass::Residual | OpClass::Embedding => {
                        if sp {
                            t
                        } else {
                            1.0
                        }
                    }
                    _ => t,
                };
                let place = match class {
                    OpClass::Embedding => Place::First,
                    OpClass::Loss => Place::Last,
                    _ => Place::Layers,
                };
                let flops = b * c.flops * r / split;
                let compute = flops / (bf16_peak * eff.eta(class));
                // Megatron's fused softmax reads and writes the scores once.
                let traffic = if eff.measured.is_some() || class == OpClass::Softmax {
                    1.0
                } else {
                    ELEMENTWISE_TRAFFIC
                };
                work.push(w(
                    class,
                    place,
                    flops,
                    compute,
                    b * c.bytes * r / split * traffic,
                ));
            }
        }
    }
    // The slower of the first and the last stage sets the pace.
    let stage = |first: bool| -> f64 {
        work.iter()
            .map(|x| {
                let share = match x.place {
                    Place::Layers => 1.0 / pp,
                    Place::First => f64::from(first || pp == 1.0),
                    Place::Last => f64::from(!first || pp == 1.0),
                };
                share * x.compute_s.max(x.memory_s)
            })
            .sum()
    };
    let first = pp > 1.0 && stage(true) > stage(false);
    let mut classes: Vec<ClassTime> = Vec::with_capacity(10);
    for x in &work {
        let share = match x.place {
            Place::Layers => 1.0 / pp,
            Place::First => f64::from(first || pp == 1.0),
            Place::Last => f64::from(!first || pp == 1.0),
        };
        if share == 0.0 {
            continue;
        }
        let (compute_s, memory_s) = (m * share * x.compute_s, m * share * x.memory_s);
        match classes.iter_mut().find(|c| c.class == x.class) {
            Some(c) => {
                c.compute_s += compute_s;
                c.memory_s += memory_s;
                c.time_s += compute_s.max(memory_s);
            }
            None => classes.push(ClassTime {
                class: x.class,
                compute_s,
                memory_s,
                time_s: compute_s.max(memory_s),
            }),
        }
    }
    // The optimizer: this chip's parameters of the slowest stage, ÷ d under ZeRO.
    let stage_params = (p.shape.layers as f64 / pp * p.layer_params_dense()
        + if first || pp == 1.0 {
            p.embedding_params()
        } else {
            0.0
        }
        + if !first || pp == 1.0 {
            p.head_params()
        } else {
            0.0
        })
        / t
        + p.shape.layers as f64 / pp * p.layer_params_experts() / (t * e);
    let shard = if layout.zero >= 1 { d } else { 1.0 };
    let opt_params = stage_params / shard;
    let per_param = |x: f64| x / p.params.max(1.0);
    let o = &p.optimizer;
    let compute_s = per_param(o.flops) * opt_params / (bf16_peak * eff.eta(OpClass::Optimizer));
    let memory_s =
        per_param(o.bytes) * opt_params / (chip.hbm_bytes_per_s * eff.mu(OpClass::Optimizer));
    classes.push(ClassTime {
        class: OpClass::Optimizer,
        compute_s,
        memory_s,
        time_s: compute_s.max(memory_s),
    });

    let c = comm::step_comm(p, chip, layout, precision);
    let total_flops: f64 = work.iter().map(|x| x.flops).sum::<f64>() * t;
    let flops_per_chip = (p.global_batch * total_flops / b + o.flops) / chips;
    let compute: f64 = classes.iter().map(|c| c.time_s).sum();
    let mut step = StepTime {
        classes,
        compute_s: compute,
        communication_s: c.tp_s + c.pp_s + c.dp_s + c.ep_s,
        exposed_communication_s: 0.0,
        total_s: 0.0,
        flops_per_chip,
        bubble_s: 0.0,
        bubble_fraction: layout.bubble_fraction(),
        tp_communication_s: c.tp_s,
        pp_communication_s: c.pp_s,
        dp_communication_s: c.dp_s,
        ep_communication_s: c.ep_s,
        exposed_tp_s: 0.0,
        exposed_pp_s: 0.0,
        exposed_dp_s: 0.0,
        exposed_ep_s: 0.0,
        pp_fill_s: c.pp_fill_s,
        dp_window: c.dp_window,
        dp_tail_s: c.dp_tail_s,
        layout_aware: true,
    };
    let pipelined = compute - step.classes.last().map_or(0.0, |c| c.time_s);
    let x = Exposure::of(&step, pipelined);
    step.bubble_s = x.bubble;
    step.exposed_tp_s = x.tp;
    step.exposed_pp_s = x.pp;
    step.exposed_dp_s = x.dp;
    step.exposed_ep_s = x.ep;
    step.exposed_communication_s = x.exposed();
    step.total_s = compute + x.bubble + x.exposed();
    Some(step)
}
