//! Memory feasibility: does one chip's share of a training run fit in its HBM, and with which
//! recomputation and tensor-parallel degree?
//!
//! - Training state: 16 bytes per parameter for mixed-precision AdamW (bf16 weights and
//!   gradients, fp32 master weights and two moments; Rajbhandari et al. 2020, ZeRO), sharded over
//!   all n chips as ZeRO-3 / FSDP does, plus the bf16 weights of two layers gathered at a time
//!   (the layer computing and the one being prefetched).
//! - Activations of one sequence per chip (the per-chip micro-batch), per layer, without
//!   recomputation: s·h·(34 + 5·a·s/h) bytes; with selective recomputation of the attention
//!   core: s·h·34; with full recomputation only each layer's input, 2·s·h (Korthikanti et al.
//!   2022, §4). Tensor parallelism of degree t inside an instance (with sequence parallelism)
//!   divides them by t.
//! - Usable HBM: 90% of capacity (an assumption: allocator fragmentation, runtime and
//!   communication buffers; see `docs/cost-model.md`).

use super::profile::Profile;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What is recomputed in the backward pass.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Recompute {
    /// Every activation is kept.
    None,
    /// The attention core (Q·Kᵀ, softmax, P·V) is recomputed: its forward runs twice.
    Selective,
    /// Only layer inputs are kept: the whole forward runs twice (Megatron's 8 vs 6).
    Full,
}

/// How a run is laid out on its chips.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MemoryPlan {
    pub recompute: Recompute,
    /// Tensor-parallel degree inside an instance (1 = none).
    pub tensor_parallel: u32,
    /// Bytes one chip holds at peak.
    pub bytes_per_chip: f64,
    /// Bytes one chip can use (90% of HBM).
    pub usable_bytes: f64,
}

/// Fraction of HBM a run can use.
pub const USABLE_HBM: f64 = 0.9;
/// Training-state bytes per parameter (mixed-precision AdamW).
pub const STATE_BYTES_PER_PARAM: f64 = 16.0;

/// Activation bytes of one sequence on one chip.
pub fn activation_bytes(p: &Profile, recompute: Recompute, tensor_parallel: u32) -> f64 {
    let s = p.shape.seq_len as f64;
    let h = p.shape.d_model as f64;
    let a = p.shape.heads as f64;
    let l = p.shape.layers as f64;
    let per_layer = match recompute {
        Recompute::None => s * h * (34.0 + 5.0 * a * s / h),
        Recompute::Selective => s * h * 34.0,
        Recompute::Full => 2.0 * s * h,
    };
    l * per_layer / tensor_parallel as f64
}

/// Bytes one chip holds when the run uses `chips` chips.
pub fn bytes_per_chip(p: &Profile, chips: f64, recompute: Recompute, tensor_parallel: u32) -> f64 {
    let layer_params = (p.params - 2.0 * p.shape.vocab as f64 * p.shape.d_model as f64).max(0.0)
        / p.shape.layers as f64;
    let state = STATE_BYTES_PER_PARAM * p.params / chips;
    let gathered = 2.0 * 2.0 * layer_params / tensor_parallel as f64;
    state + gathered + activation_bytes(p, recompute, tensor_parallel)
}

/// The cheapest layout that fits on `chips` chips of `hbm_bytes` each, `chips_per_instance`
/// of them linked inside an instance: no recomputation before selective before full, and no
/// tensor parallelism before 2, 4, 8… up to the instance. Data parallelism needs at least one
/// sequence of the global batch per rank, so more chips than sequences need tensor parallelism
/// of at least chips / batch. `None` when nothing fits.
pub fn plan(
    p: &Profile,
    chips: f64,
    hbm_bytes: f64,
    chips_per_instance: u32,
) -> Option<MemoryPlan> {
    let usable = USABLE_HBM * hbm_bytes;
    let min_tp = (chips / p.global_batch).ceil().max(1.0);
    let mut degrees = Vec::new();
    let mut t = 1u32;
    while t <= chips_per_instance.max(1)
        && (t as f64) <= chips
        && p.shape.heads.is_multiple_of(t as usize)
    {
        if t as f64 >= min_tp {
            degrees.push(t);
        }
        t *= 2;
    }
    for recompute in [Recompute::None, Recompute::Selective, Recompute::Full] {
        for &t in &degrees {
            let bytes = bytes_per_chip(p, chips, recompute, t);
            if bytes <= usable {
                return Some(MemoryPlan {
                    recompute,
                    tensor_parallel: t,
                    bytes_per_chip: bytes,
                    usable_bytes: usable,
                });
            }
        }
    }
    None
}

/// The fewest chips (whole instances) on which the run fits, up to `max_chips`.
pub fn min_chips(
    p: &Profile,
    hbm_bytes: f64,
    chips_per_instance: u32,
    max_chips: f64,
) -> Option<f64> {
    let step = chips_per_instance.max(1) as f64;
    let mut n = step;
    while n <= max_chips {
        if plan(p, n, hbm_bytes, chips_per_instance).is_some() {
            return Some(n);
        }
        n += step;
    }
    None
}
