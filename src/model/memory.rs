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

/// One chip's memory under a [`super::layout::Layout`], bytes.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct LayoutMemory {
    /// Weights, gradients and optimizer state after ZeRO sharding (and FP8 weight copies).
    pub state: f64,
    /// Weights gathered at a time under ZeRO-3 (two layers: the one computing and the next).
    pub gathered: f64,
    /// Activations kept for the backward pass (every micro-batch in flight).
    pub activations: f64,
    /// The output layer's logits (FP32) of one micro-batch, on the last stage.
    pub logits: f64,
    /// The most any stage holds.
    pub total: f64,
}

/// Activation bytes one layer keeps for one micro-batch of `b` sequences on one chip
/// (Korthikanti et al. 2022, §4, generalised to grouped-query attention, SwiGLU and
/// mixture-of-experts FFNs): attention 2sbh (QKV input) + 2sb(h + 2·kv) (Q, K, V) + 2sbh
/// (context) + sbh (dropout mask), plus 5·a·s²·b for the scores, softmax and its mask unless
/// FlashAttention or selective recomputation drops them; FFN 2sbh (input) + 4sbf (GELU) or 6sbf
/// (SwiGLU) per active expert + sbh (mask); norms 4sbh. Tensor parallelism of degree t divides
/// everything with sequence parallelism; without it 10sbh (norm inputs, the QKV and FFN inputs,
/// the masks) stay replicated. Full recomputation keeps only each layer's input, 2sbh (÷ t with
/// sequence parallelism). FP8 keeps the products' inputs in one byte instead of two.
pub fn layer_activation_bytes(
    p: &Profile,
    b: f64,
    t: f64,
    sp: bool,
    recompute: Recompute,
    fa: bool,
    fp8: bool,
) -> f64 {
    let s = p.shape.seq_len as f64;
    let h = p.shape.d_model as f64;
    let a = p.shape.heads as f64;
    let kvw = (p.shape.kv_heads * p.shape.head_dim()) as f64;
    let f = p.shape.d_ff as f64;
    let sbh = s * b * h;
    if recompute == Recompute::Full {
        return 2.0 * sbh / if sp { t } else { 1.0 };
    }
    let experts = p.moe.map_or(1.0, |m| m.active() as f64);
    let ffn_inner = match p.shape.activation {
        crate::workload::Activation::Gelu => 4.0 * s * b * f,
        crate::workload::Activation::Swiglu => 6.0 * s * b * f,
    } * experts;
    // Inputs of the four products, two bytes each (one under FP8).
    let product_inputs = 2.0 * sbh + 2.0 * sbh + 2.0 * sbh * experts + 2.0 * s * b * f * experts;
    let fp8_saving = if fp8 { 0.5 * product_inputs } else { 0.0 };
    let split = 2.0 * s * b * (h + 2.0 * kvw) + 2.0 * sbh + sbh + ffn_inner + sbh;
    let replicated = 4.0 * sbh + 2.0 * sbh + 2.0 * sbh * experts + 2.0 * sbh;
    let scores = if fa || recompute == Recompute::Selective {
        0.0
    } else {
        5.0 * a * s * s * b
    };
    let body = if sp {
        (split + replicated) / t
    } else {
        split / t + replicated
    };
    (body + scores / t - fp8_saving / t).max(0.0)
}

/// Bytes one chip holds at peak under `layout` (the larger of the first and the last pipeline
/// stage):
/// - state: per parameter 2 (bf16 weights) + 2 (bf16 gradients) + 12 (fp32 master weights and
///   two Adam moments; Rajbhandari et al. 2020, ZeRO), of which ZeRO-1 shards the 12 over the d
///   data-parallel ranks, ZeRO-2 the 14 and ZeRO-3 all 16; expert parameters are sharded over
///   their own data-parallel group d / e; FP8 adds one-byte weight copies and their transposes;
/// - ZeRO-3 holds two layers' gathered bf16 weights;
/// - activations: the first stage keeps min(m, p) micro-batches of its l/p layers in flight
///   (1F1B), × (1 + (p − 1)/(p·v)) when interleaved (Korthikanti et al. 2022, §4.2.3); full
///   recomputation adds one layer's full activations while it is recomputed;
/// - the last stage holds one micro-batch's FP32 logits, 4·s·b·V / t.
pub fn layout_bytes(
    p: &Profile,
    layout: &super::layout::Layout,
    precision: super::efficiency::Precision,
) -> LayoutMemory {
    let t = layout.tensor_parallel as f64;
    let pp = layout.pipeline_parallel as f64;
    let d = layout.data_parallel as f64;
    let e = layout.expert_parallel.max(1) as f64;
    let b = layout.micro_batch as f64;
    let m = layout.micro_batches as f64;
    let v = layout.virtual_stages.max(1) as f64;
    let l = p.shape.layers as f64;
    let fp8 = precision == super::efficiency::Precision::Fp8;
    let stage_layers = l / pp;
    let dense_layer = p.layer_params_dense();
    let expert_layer = p.layer_params_experts();
    let state_bytes = |params: f64, dp: f64| -> f64 {
        let per = match layout.zero {
            0 => STATE_BYTES_PER_PARAM,
            1 => 4.0 + 12.0 / dp,
            2 => 2.0 + 14.0 / dp,
            _ => STATE_BYTES_PER_PARAM / dp,
        };
        params * (per + if fp8 { 2.0 } else { 0.0 })
    };
    let ends = if pp > 1.0 {
        [p.embedding_params(), p.head_params()]
    } else {
        let head = if p.shape.tied_embeddings {
            0.0
        } else {
            p.head_params()
        };
        [p.embedding_params() + head, p.embedding_params() + head]
    };
    let stage_state = |end: f64| {
        state_bytes((stage_layers * dense_layer + end) / t, d)
            + state_bytes(stage_layers * expert_layer / (t * e), (d / e).max(1.0))
    };
    let gathered = if layout.zero >= 3 {
        2.0 * 2.0 * (dense_layer + expert_layer / e) / t
    } else {
        0.0
    };
    let per_layer = layer_activation_bytes(
        p,
        b,
        t,
        layout.sequence_parallel,
        layout.recompute,
        layout.flash_attention,
        fp8,
    );
    let full_layer = if layout.recompute == Recompute::Full {
        layer_activation_bytes(
            p,
            b,
            t,
            layout.sequence_parallel,
            Recompute::None,
            layout.flash_attention,
            fp8,
        )
    } else {
        0.0
    };
    let in_flight = |stage: f64| -> f64 {
        // Stage 0 keeps p micro-batches in flight, the last stage one.
        let n = (pp - stage).min(m).max(1.0);
        if v > 1.0 && stage == 0.0 {
            n * (1.0 + (pp - 1.0) / (pp * v))
        } else {
            n
        }
    };
    let logits = 4.0 * p.shape.seq_len as f64 * b * p.shape.vocab as f64 / t;
    let first =
        stage_state(ends[0]) + gathered + per_layer * stage_layers * in_flight(0.0) + full_layer;
    let last_acts = per_layer * stage_layers * in_flight(pp - 1.0) + full_layer;
    let last = stage_state(ends[1]) + gathered + last_acts + logits;
    let (activations, state, total) = if first >= last {
        (
            per_layer * stage_layers * in_flight(0.0) + full_layer,
            stage_state(ends[0]),
            first,
        )
    } else {
        (last_acts, stage_state(ends[1]), last)
    };
    LayoutMemory {
        state,
        gathered,
        activations,
        logits,
        total,
    }
}
