//! Step time of a training run on n chips: a roofline per op class plus exposed communication.
//!
//! For op class c with F_c FLOPs and B_c bytes per sequence, on a chip of peak P (dense, at the
//! training precision) and HBM bandwidth W, with each chip processing `seqs` sequences' worth
//! of work per optimizer step:
//!
//!   compute_c = seqs·F_c / (P·η_c),  memory_c = seqs·B_c·k / (W·μ),  t_c = max(compute_c, memory_c)
//!
//! (Calculon, Isaev et al. 2023; llm-analysis), where k = ½ converts the plan's f32 bytes to
//! the bf16 tensors of mixed-precision training (the optimizer keeps its f32 bytes), η_c is the
//! efficiency of the scenario and μ = 0.9 the achievable fraction of HBM bandwidth
//! (llm-analysis' advice). Recomputation adds forward work: selective recomputation re-runs the
//! attention core's forward (a third of the attention products and the softmax forward), full
//! recomputation the whole forward (a third of every class). The optimizer (ZeRO-3-sharded)
//! updates N/n parameters per chip.
//!
//! Communication per step (ZeRO-3 / FSDP data parallelism): parameters all-gathered in forward
//! and in backward, gradients reduce-scattered: 3 × (d−1)/d × 2N bytes over d data-parallel
//! ranks (≈ 1.5× a plain all-reduce's 2·(d−1)/d × 2N; Rajbhandari et al. 2020, ZeRO, arXiv 1910.02054, §7), run hierarchically: among
//! the replicas inside an instance over the chip-to-chip link (one way), then among instances
//! over the instance network (each instance moves one model's bytes through all its adapters). Tensor parallelism of degree t adds 4 all-reduces of one layer's
//! activations per layer per sequence over the intra-instance link (Megatron-LM, Shoeybi et
//! al. 2019). Overlap assumption: communication runs concurrently with computation and only
//! the part that exceeds the computation is exposed. Latency terms are ignored.

use super::memory::{MemoryPlan, Recompute};
use super::profile::Profile;
use crate::ops::OpClass;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Achievable fraction of HBM bandwidth.
pub const HBM_EFFICIENCY: f64 = 0.9;
/// bf16 bytes per f32 byte counted by the plan.
pub const BF16_BYTES_RATIO: f64 = 0.5;

/// The chip and its links, in SI units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Chip {
    /// Dense peak at the training precision, FLOP/s.
    pub peak_flops: f64,
    /// HBM bandwidth, bytes/s.
    pub hbm_bytes_per_s: f64,
    /// Chip-to-chip bandwidth inside an instance, one way, bytes/s.
    pub link_bytes_per_s: f64,
    /// The instance's network to other instances (all its adapters), bytes/s.
    pub network_bytes_per_s: f64,
    pub chips_per_instance: u32,
}

/// Efficiency of each op class's compute on the accelerator (fraction of peak).
pub trait ClassEfficiency {
    /// Fraction of peak FLOP/s the class's computation reaches.
    fn eta(&self, class: OpClass) -> f64;
    /// Fraction of HBM bandwidth the class's memory traffic reaches.
    fn mu(&self, _class: OpClass) -> f64 {
        HBM_EFFICIENCY
    }
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
    /// FLOPs one chip executes per step, recomputation included.
    pub flops_per_chip: f64,
}

impl StepTime {
    /// The step's total time with every compute efficiency multiplied by `m` (memory-bound
    /// time and communication unchanged; communication still hides behind computation):
    /// Σ_c max(compute_c / m, memory_c) + max(0, communication − that sum). `total_at(1.0)`
    /// equals `total_s`. The Monte Carlo of `model::uncertainty` calls this for every trial.
    pub fn total_at(&self, m: f64) -> f64 {
        let m = m.max(1e-9);
        let compute: f64 = self
            .classes
            .iter()
            .map(|c| (c.compute_s / m).max(c.memory_s))
            .sum();
        compute + (self.communication_s - compute).max(0.0)
    }
}

/// Extra forward work of a recomputation choice, as a multiplier per class.
fn recompute_factor(class: OpClass, r: Recompute) -> f64 {
    match (r, class) {
        (Recompute::None, _) => 1.0,
        (Recompute::Selective, OpClass::Attention) => 4.0 / 3.0,
        (Recompute::Selective, OpClass::Softmax) => 1.0 + 6.0 / 11.0,
        (Recompute::Selective, _) => 1.0,
        (Recompute::Full, OpClass::Optimizer) => 1.0,
        (Recompute::Full, _) => 4.0 / 3.0,
    }
}

/// Step time on `chips` chips laid out as `layout`.
pub fn step_time(
    p: &Profile,
    chip: &Chip,
    chips: f64,
    layout: &MemoryPlan,
    eff: &dyn ClassEfficiency,
) -> StepTime {
    let seqs = p.global_batch / chips;
    let mut classes = Vec::new();
    let mut flops_per_chip = p.optimizer.flops / chips;
    for c in &p.per_sequence {
        let factor = recompute_factor(c.class, layout.recompute);
        flops_per_chip += seqs * c.flops * factor;
        let compute_s = seqs * c.flops * factor / (chip.peak_flops * eff.eta(c.class));
        let memory_s =
            seqs * c.bytes * factor * BF16_BYTES_RATIO / (chip.hbm_bytes_per_s * eff.mu(c.class));
        classes.push(ClassTime {
            class: c.class,
            compute_s,
            memory_s,
            time_s: compute_s.max(memory_s),
        });
    }
    let o = &p.optimizer;
    let compute_s = o.flops / chips / (chip.peak_flops * eff.eta(OpClass::Optimizer));
    let memory_s = o.bytes / chips / (chip.hbm_bytes_per_s * eff.mu(OpClass::Optimizer));
    classes.push(ClassTime {
        class: OpClass::Optimizer,
        compute_s,
        memory_s,
        time_s: compute_s.max(memory_s),
    });
    let compute: f64 = classes.iter().map(|c| c.time_s).sum();

    let t = layout.tensor_parallel as f64;
    // Hierarchical collectives (as NCCL and the Neuron runtime run them): replicas inside an
    // instance over the chip links, then the instances over the network, each instance moving
    // one model's worth of bf16 bytes through all its adapters.
    let per = (chip.chips_per_instance.max(1) as f64).min(chips);
    let instances = (chips / per).max(1.0);
    let local_replicas = (per / t).max(1.0);
    let model_bytes = 2.0 * p.params;
    let intra =
        3.0 * (local_replicas - 1.0) / local_replicas * model_bytes / t / chip.link_bytes_per_s;
    let inter = 3.0 * (instances - 1.0) / instances * model_bytes / chip.network_bytes_per_s;
    let dp = intra + inter;
    let tp = if t > 1.0 {
        let act = 2.0 * p.shape.seq_len as f64 * p.shape.d_model as f64;
        seqs * t * p.shape.layers as f64 * 4.0 * 2.0 * (t - 1.0) / t * act / chip.link_bytes_per_s
    } else {
        0.0
    };
    let communication_s = dp + tp;
    let exposed = (communication_s - compute).max(0.0);
    StepTime {
        classes,
        compute_s: compute,
        communication_s,
        exposed_communication_s: exposed,
        total_s: compute + exposed,
        flops_per_chip,
    }
}
