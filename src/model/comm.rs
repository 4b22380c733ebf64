//! Communication of a training step under a layout: which collectives run, over which link, how
//! long they take and how much of them computation hides.
//!
//! **Collectives.** A ring all-gather or reduce-scatter of S bytes (the full, unsharded size)
//! among x ranks moves (x − 1)/x · S bytes through each rank's link in x − 1 steps; an
//! all-reduce is one of each, 2(x − 1)/x · S (Patarasuk & Yuan 2009; NCCL's bus bandwidth). Each
//! step also pays a latency α ([`ALPHA_LINK_S`], [`ALPHA_NETWORK_S`]).
//!
//! **Hierarchy.** A data-parallel group of d ranks, r of them in one instance (tensor-parallel
//! ranks are innermost, as Megatron-LM orders them), runs its collectives first among the r
//! local ranks over the chip-to-chip link, then among the d / r instances over the network with
//! S / r bytes per chip, each chip having 1 / (chips per instance) of the instance's network.
//! Both links reach [`LINK_EFFICIENCY`] and [`NETWORK_EFFICIENCY`] of their nominal bandwidth.
//!
//! **What runs.**
//! - Tensor parallelism (degree t, per layer and micro-batch): two all-reduces of the layer's
//!   activations forward and two backward (with sequence parallelism the same bytes as
//!   all-gathers and reduce-scatters), two more forward under full recomputation (Shoeybi et al.
//!   2019; Korthikanti et al. 2022). Over the chip link.
//! - Pipeline parallelism: each micro-batch's activations (b·s·h/t bytes with Megatron's
//!   scatter/gather) sent forward and their gradients backward at every stage boundary, point to
//!   point; over the network when the run spans instances.
//! - Data parallelism per ZeRO stage: ZeRO-1 reduce-scatters the gradients and all-gathers the
//!   updated parameters once per step (an all-reduce's 2(d−1)/d); ZeRO-2 reduce-scatters every
//!   micro-batch's gradients; ZeRO-3 all-gathers the parameters in forward and in backward and
//!   reduce-scatters the gradients every micro-batch, 3(d−1)/d per micro-batch (Rajbhandari et
//!   al. 2020). Expert parameters reduce over their own group d / e.
//! - Expert parallelism: four all-to-alls per MoE layer and micro-batch (dispatch and combine,
//!   forward and backward), each moving the tokens' top-k copies, (e − 1)/e of them off-chip;
//!   over the chip link when the e × t ranks of an expert group fit in one instance, else over
//!   the network.
//!
//! **Overlap rules** ([`Overlap`]): tensor-parallel and expert all-to-all communication is not
//! overlapped (it sits between dependent products); pipeline sends overlap with computation
//! except while the pipeline fills and drains; data-parallel communication overlaps with
//! computation (ZeRO-1: the last micro-batch's backward and the next step's first forward;
//! ZeRO-2: every backward; ZeRO-3: everything) except its last bucket, one layer's collectives.

use super::efficiency::Precision;
use super::layout::Layout;
use super::profile::Profile;
use super::time::Chip;
use serde::Serialize;

/// Achieved fraction of the chip-to-chip link's one-way bandwidth by collectives (NCCL's bus
/// bandwidth on NVLink reaches ~80% of nominal in nccl-tests).
pub const LINK_EFFICIENCY: f64 = 0.8;
/// Achieved fraction of the instance network's bandwidth by inter-instance collectives.
pub const NETWORK_EFFICIENCY: f64 = 0.8;
/// Latency of one collective step over the chip link, seconds.
pub const ALPHA_LINK_S: f64 = 5e-6;
/// Latency of one collective step over the instance network, seconds.
pub const ALPHA_NETWORK_S: f64 = 15e-6;

/// The overlap rules, as stated constants.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Overlap {
    /// Share of tensor-parallel communication hidden behind computation.
    pub tensor_parallel: f64,
    /// Share of the expert all-to-alls hidden.
    pub expert_parallel: f64,
    /// Whether pipeline sends overlap with computation outside the fill and drain.
    pub pipeline_steady_state: bool,
    /// Whether data-parallel communication overlaps with computation (except the last bucket).
    pub data_parallel: bool,
    /// Share of the hidden data-parallel communication time that still slows the step: the
    /// collectives' kernels take streaming multiprocessors and HBM bandwidth from the
    /// computation they overlap (calibrated on the FSDP rows of the validation set).
    pub contention: f64,
}

/// The overlap rules the model applies.
pub const OVERLAP: Overlap = Overlap {
    tensor_parallel: 0.0,
    expert_parallel: 0.0,
    pipeline_steady_state: true,
    data_parallel: true,
    contention: 0.3,
};

/// One ring phase (all-gather or reduce-scatter) of `bytes` among `x` ranks over a link of
/// `bw` bytes/s (already derated) with step latency `alpha`.
pub fn ring_phase(bytes: f64, x: f64, bw: f64, alpha: f64) -> f64 {
    if x <= 1.0 {
        return 0.0;
    }
    (x - 1.0) / x * bytes / bw + (x - 1.0) * alpha
}

/// One phase of a hierarchical collective of `bytes` over a group of `group` ranks, `local` of
/// them inside each instance.
pub fn hierarchical_phase(bytes: f64, group: f64, local: f64, chip: &Chip) -> f64 {
    let local = local.clamp(1.0, group.max(1.0));
    let instances = (group / local).max(1.0);
    let per = chip.chips_per_instance.max(1) as f64;
    let link = chip.link_bytes_per_s * LINK_EFFICIENCY;
    let net = chip.network_bytes_per_s * NETWORK_EFFICIENCY / per;
    ring_phase(bytes, local, link, chip.alpha_link_s)
        + ring_phase(bytes / local, instances, net, chip.alpha_network_s)
}

/// The communication of one optimizer step on the slowest stage, seconds, with what the overlap
/// rules need.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepComm {
    /// Tensor-parallel collectives, all micro-batches.
    pub tp_s: f64,
    /// Pipeline sends and receives, all micro-batches.
    pub pp_s: f64,
    /// The part of `pp_s` on the critical path while the pipeline fills and drains.
    pub pp_fill_s: f64,
    /// Data-parallel collectives per step.
    pub dp_s: f64,
    /// The share of the pipelined computation data-parallel communication can hide behind.
    pub dp_window: f64,
    /// The last bucket's collectives, never hidden.
    pub dp_tail_s: f64,
    /// Expert all-to-alls, all micro-batches.
    pub ep_s: f64,
}

/// The communication of `layout` for profile `p` on `chip`.
pub fn step_comm(p: &Profile, chip: &Chip, layout: &Layout, precision: Precision) -> StepComm {
    let t = layout.tensor_parallel as f64;
    let pp = layout.pipeline_parallel as f64;
    let d = layout.data_parallel as f64;
    let e = layout.expert_parallel.max(1) as f64;
    let b = layout.micro_batch as f64;
    let m = layout.micro_batches as f64;
    let v = layout.virtual_stages.max(1) as f64;
    let per = chip.chips_per_instance.max(1) as f64;
    let chips = t * pp * d;
    let s = p.shape.seq_len as f64;
    let h = p.shape.d_model as f64;
    let stage_layers = p.shape.layers as f64 / pp;
    let fp8 = precision == Precision::Fp8;
    let link = chip.link_bytes_per_s * LINK_EFFICIENCY;
    let net_per_chip = chip.network_bytes_per_s * NETWORK_EFFICIENCY / per;

    // Tensor parallelism: one layer's activations of the micro-batch, bf16.
    let act = 2.0 * b * s * h;
    let tp_s = if t > 1.0 {
        // All-gather (FP8 under FP8 with sequence parallelism) + reduce-scatter = an
        // all-reduce.
        let gather = if fp8 && layout.sequence_parallel {
            0.5
        } else {
            1.0
        };
        let one = ring_phase(act * gather, t, link, chip.alpha_link_s)
            + ring_phase(act, t, link, chip.alpha_link_s);
        let per_layer = match layout.recompute {
            super::memory::Recompute::Full => 6.0,
            _ => 4.0,
        };
        m * stage_layers * per_layer * one
    } else {
        0.0
    };

    // Pipeline: one micro-batch's boundary activations, scattered over the t ranks.
    let (pp_s, pp_fill_s) = if pp > 1.0 {
        let bytes = act / t;
        let one = if chips <= per {
            bytes / link + chip.alpha_link_s
        } else {
            bytes / net_per_chip + chip.alpha_network_s
        };
        (2.0 * m * v * one, 2.0 * (pp - 1.0) * one)
    } else {
        (0.0, 0.0)
    };

    // Data parallelism: the stage's parameters on this chip, bf16.
    let dense_params = (stage_layers * p.layer_params_dense()
        + p.embedding_params().max(p.head_params()) / pp)
        / t;
    let expert_params = stage_layers * p.layer_params_experts() / (t * e);
    let local = (per / t).max(1.0).min(d);
    let phase = |params: f64, group: f64, local: f64, bytes_per: f64| {
        hierarchical_phase(params * bytes_per, group, local, chip)
    };
    let gather_bytes = if fp8 { 1.0 } else { 2.0 };
    let dp_group = |params: f64, group: f64, local: f64| -> (f64, f64) {
        let rs = phase(params, group, local, 2.0);
        let ag = phase(params, group, local, 2.0);
        let ag3 = phase(params, group, local, gather_bytes);
        match layout.zero {
            0 | 1 => (rs + ag, rs + ag),
            2 => (m * rs + ag, rs + ag),
            _ => (m * (2.0 * ag3 + rs), 2.0 * ag3 + rs),
        }
    };
    let (dense_dp, dense_once) = dp_group(dense_params, d, local);
    let expert_group = (d / e).max(1.0);
    let (expert_dp, expert_once) = dp_group(expert_params, expert_group, (local / e).max(1.0));
    let dp_s = dense_dp + expert_dp;
    let dp_window = match layout.zero {
        0 | 1 => 1.0 / m,
        2 => (2.0 / 3.0 * m + 1.0 / 3.0) / m,
        _ => 1.0,
    };
    let dp_tail_s = (dense_once + expert_once) / stage_layers.max(1.0);
    let (dp_window, dp_tail_s) = if OVERLAP.data_parallel {
        (dp_window, dp_tail_s.min(dp_s))
    } else {
        (0.0, 0.0)
    };

    // Expert all-to-alls.
    let ep_s = match p.moe {
        Some(moe) if e > 1.0 => {
            let bytes = act * moe.top_k as f64 / t * (e - 1.0) / e;
            let per_layer = match layout.recompute {
                super::memory::Recompute::Full => 6.0,
                _ => 4.0,
            };
            let one = if e * t <= per {
                bytes / link + (e - 1.0) * chip.alpha_link_s
            } else {
                bytes / net_per_chip + (e - 1.0) * chip.alpha_network_s
            };
            m * stage_layers * per_layer * one
        }
        _ => 0.0,
    };
    StepComm {
        tp_s,
        pp_s,
        pp_fill_s,
        dp_s,
        dp_window,
        dp_tail_s,
        ep_s,
    }
}
