//! How a training run is laid out on its chips, and the planner that picks the layout.
//!
//! A [`Layout`] is tensor parallelism t inside the chip-link domain (one instance), pipeline
//! parallelism p (1F1B, or interleaved with v virtual stages per chip), data parallelism d with
//! ZeRO stage 1, 2 or 3, expert parallelism e (MoE: the experts spread over e of the d
//! data-parallel ranks), a micro-batch of b sequences and m micro-batches per pipeline per
//! optimizer step (global batch = d × b × m), sequence parallelism, recomputation
//! (none / selective / full) and FlashAttention. chips = t × p × d.
//!
//! [`plan`] searches these for a chip count and returns the fastest layout that fits in memory
//! (at a fixed chip count the fastest is also the cheapest), with the runner-up and why it lost.
//! The search is exact under two dominance rules, which is what keeps the whole catalog under a
//! second (`cargo bench --bench model`): for a fixed (t, p, v, b, ZeRO) the first recomputation
//! that fits (none, selective, full) is the fastest, since recomputation only adds work; and
//! sequence parallelism is always on with t > 1 (it moves the same bytes as tensor parallelism
//! without it and divides the norms' work and memory by t), as is FlashAttention (it removes the
//! s² score traffic and memory; with it, selective recomputation has nothing left to recompute).

use super::efficiency::{Efficiency, Precision};
use super::memory::{self, Recompute};
use super::profile::Profile;
use super::time::{self, Chip, StepTime};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the planner and the cluster search minimise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// The fastest layout; with a deadline, the fewest instances that meet it.
    #[default]
    Fastest,
    /// The fewest chip-hours (dollars): with a deadline, among the cluster sizes that meet it,
    /// the one whose chip-hours are least (a larger cluster can be cheaper when it avoids
    /// recomputation or pipeline bubbles).
    Cheapest,
}

/// A parallel layout of one training run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Layout {
    /// Tensor-parallel degree t, inside one instance.
    pub tensor_parallel: u32,
    /// Pipeline stages p.
    pub pipeline_parallel: u32,
    /// Virtual stages per chip v (1 = 1F1B; more = the interleaved schedule).
    pub virtual_stages: u32,
    /// Data-parallel degree d.
    pub data_parallel: u32,
    /// Expert-parallel degree e (a divisor of d; 1 for dense models).
    pub expert_parallel: u32,
    /// Sequences per micro-batch b.
    pub micro_batch: u32,
    /// Micro-batches per pipeline per optimizer step m (gradient accumulation).
    pub micro_batches: u32,
    /// ZeRO stage (1: optimizer state sharded over d; 2: and gradients; 3: and parameters).
    pub zero: u8,
    /// Sequence parallelism (norms, dropout and residuals split over the t ranks).
    pub sequence_parallel: bool,
    pub recompute: Recompute,
    pub flash_attention: bool,
}

impl Layout {
    /// Chips the layout uses (t × p × d; a cluster may hold more, idle).
    pub fn chips(&self) -> u32 {
        self.tensor_parallel * self.pipeline_parallel * self.data_parallel
    }

    /// Sequences one optimizer step processes (d × b × m; at least the global batch).
    pub fn sequences(&self) -> u32 {
        self.data_parallel * self.micro_batch * self.micro_batches
    }

    /// Pipeline bubble as a share of the pipelined compute: (p − 1) / (m · v).
    pub fn bubble_fraction(&self) -> f64 {
        (self.pipeline_parallel as f64 - 1.0)
            / (self.micro_batches as f64 * self.virtual_stages as f64)
    }

    /// `t2 p8 v3 d16 e1 b1 m48 zero1 sp sel fa` — the layout in one short line.
    pub fn describe(&self) -> String {
        let rc = match self.recompute {
            Recompute::None => "none",
            Recompute::Selective => "selective",
            Recompute::Full => "full",
        };
        format!(
            "TP{} PP{}{} DP{}{} micro-batch {} × {} ZeRO-{}{} recompute {}{}",
            self.tensor_parallel,
            self.pipeline_parallel,
            if self.virtual_stages > 1 {
                format!(" (interleaved v{})", self.virtual_stages)
            } else {
                String::new()
            },
            self.data_parallel,
            if self.expert_parallel > 1 {
                format!(" EP{}", self.expert_parallel)
            } else {
                String::new()
            },
            self.micro_batch,
            self.micro_batches,
            self.zero,
            if self.sequence_parallel { " SP" } else { "" },
            rc,
            if self.flash_attention {
                " FlashAttention"
            } else {
                ""
            },
        )
    }

    /// The layout the model used before the planner existed: ZeRO-3 over every chip, tensor
    /// parallelism t inside an instance, no pipeline, one sequence per micro-batch.
    pub fn legacy(p: &Profile, chips: u32, tensor_parallel: u32, recompute: Recompute) -> Self {
        let d = (chips / tensor_parallel).max(1);
        Layout {
            tensor_parallel,
            pipeline_parallel: 1,
            virtual_stages: 1,
            data_parallel: d,
            expert_parallel: 1,
            micro_batch: 1,
            micro_batches: (p.global_batch / d as f64).ceil().max(1.0) as u32,
            zero: 3,
            sequence_parallel: tensor_parallel > 1,
            recompute,
            flash_attention: true,
        }
    }
}

/// A layout the planner considered second best, and why it lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunnerUp {
    pub layout: Layout,
    /// Its step time, seconds.
    pub step_s: f64,
    /// Why the chosen layout beat it, in words.
    pub reason: String,
}

/// The planner's answer for one chip count.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub layout: Layout,
    pub step: StepTime,
    pub memory: memory::LayoutMemory,
    pub runner_up: Option<RunnerUp>,
}

/// What the planner needs beyond the profile.
pub struct Target<'a> {
    pub profile: &'a Profile,
    pub chip: &'a Chip,
    pub hbm_bytes: f64,
    pub eff: &'a Efficiency,
    pub precision: Precision,
}

/// Powers of two up to the instance's chips that divide the heads: the tensor-parallel degrees.
pub fn tensor_degrees(p: &Profile, chips_per_instance: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut t = 1u32;
    while t <= chips_per_instance.max(1) {
        if p.shape.heads.is_multiple_of(t as usize) {
            out.push(t);
        }
        t *= 2;
    }
    out
}

/// Pipeline degrees: divisors of the layer count, up to 128.
fn pipeline_degrees(layers: usize) -> Vec<u32> {
    (1..=layers.min(128))
        .filter(|p| layers.is_multiple_of(*p))
        .map(|p| p as u32)
        .collect()
}

const MICRO_BATCHES: [u32; 6] = [1, 2, 4, 8, 16, 32];
const VIRTUAL_STAGES: [u32; 3] = [1, 2, 4];

/// The step time and memory of `layout`, or None when it does not fit in memory.
pub fn evaluate(target: &Target<'_>, layout: &Layout) -> Option<(StepTime, memory::LayoutMemory)> {
    let mem = memory::layout_bytes(target.profile, layout, target.precision);
    if mem.total > memory::USABLE_HBM * target.hbm_bytes {
        return None;
    }
    let step = time::layout_step_time(
        target.profile,
        target.chip,
        layout,
        target.eff,
        target.precision,
    )?;
    Some((step, mem))
}

/// Why `best` beat `other`, from their step-time breakdowns.
fn reason(best: &StepTime, other: &StepTime) -> String {
    let parts = |s: &StepTime| {
        [
            ("computation", s.compute_s),
            ("pipeline bubble", s.bubble_s),
            ("exposed tensor-parallel communication", s.exposed_tp_s),
            ("exposed pipeline communication", s.exposed_pp_s),
            ("exposed data-parallel communication", s.exposed_dp_s),
            ("expert all-to-all", s.exposed_ep_s),
        ]
    };
    let (b, o) = (parts(best), parts(other));
    let (name, extra) = b
        .iter()
        .zip(o.iter())
        .map(|((n, x), (_, y))| (*n, y - x))
        .max_by(|x, y| x.1.total_cmp(&y.1))
        .unwrap_or(("time", 0.0));
    format!(
        "{:.1}% slower: {:.3} s more {name} per step",
        100.0 * (other.total_s / best.total_s - 1.0),
        extra
    )
}

/// The fastest layout on at most `chips` chips that fits, with the runner-up; None when nothing
/// fits. A layout uses t × p × d ≤ chips (the rest idle, still paid for), so adding chips never
/// removes a layout.
pub fn plan(target: &Target<'_>, chips: u32) -> Option<Planned> {
    let p = target.profile;
    let per = target.chip.chips_per_instance.max(1);
    let batch = p.global_batch.max(1.0);
    let layers = p.shape.layers;
    let experts = p.moe.map_or(1, |m| m.experts as u32);
    let fa_options = [true];
    let mut best: Option<(Layout, StepTime, memory::LayoutMemory)> = None;
    let mut second: Option<(Layout, StepTime)> = None;
    let mut consider = |l: Layout, best: &mut Option<(Layout, StepTime, memory::LayoutMemory)>| {
        let Some((step, mem)) = evaluate(target, &l) else {
            return false;
        };
        match best {
            Some((_, b, _)) if b.total_s <= step.total_s => {
                if second
                    .as_ref()
                    .is_none_or(|(_, s)| step.total_s < s.total_s)
                {
                    second = Some((l, step));
                }
            }
            _ => {
                if let Some((ol, os, _)) = best.take() {
                    second = Some((ol, os));
                }
                *best = Some((l, step, mem));
            }
        }
        true
    };
    for &t in &tensor_degrees(p, per) {
        if t > chips {
            break;
        }
        for &pp in &pipeline_degrees(layers) {
            let tp = t * pp;
            if tp > chips {
                continue;
            }
            // As many data-parallel replicas as fit (chips left over idle), at most one per
            // sequence of the global batch.
            let d = (chips / tp).min(batch as u32);
            let stage_layers = (layers as u32) / pp;
            for &v in &VIRTUAL_STAGES {
                if v > 1 && (pp == 1 || !stage_layers.is_multiple_of(v)) {
                    continue;
                }
                for &b in &MICRO_BATCHES {
                    if (d * b) as f64 > batch {
                        break;
                    }
                    let m = (batch / (d * b) as f64).ceil() as u32;
                    // Interleaving needs at least p micro-batches in flight.
                    if v > 1 && m < pp {
                        continue;
                    }
                    let mut eps = vec![1u32];
                    if experts > 1 {
                        let mut e = 2;
                        while e <= d && e <= experts {
                            if d.is_multiple_of(e) && experts.is_multiple_of(e) {
                                eps.push(e);
                            }
                            e *= 2;
                        }
                    }
                    for &e in &eps {
                        for zero in [1u8, 2, 3] {
                            if zero > 1 && d == 1 {
                                break;
                            }
                            for &fa in &fa_options {
                                for rc in [Recompute::None, Recompute::Selective, Recompute::Full] {
                                    if fa && rc == Recompute::Selective {
                                        continue;
                                    }
                                    let l = Layout {
                                        tensor_parallel: t,
                                        pipeline_parallel: pp,
                                        virtual_stages: v,
                                        data_parallel: d,
                                        expert_parallel: e,
                                        micro_batch: b,
                                        micro_batches: m,
                                        zero,
                                        sequence_parallel: t > 1,
                                        recompute: rc,
                                        flash_attention: fa,
                                    };
                                    if consider(l, &mut best) {
                                        break;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let (layout, step, memory) = best?;
    let runner_up = second.map(|(l, s)| RunnerUp {
        reason: reason(&step, &s),
        layout: l,
        step_s: s.total_s,
    });
    Some(Planned {
        layout,
        step,
        memory,
        runner_up,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::model::estimate::{
        ClusterSize, ModelOptions, Scenario, chip_efficiency, chip_of, estimate_with,
    };
    use crate::model::{Assumptions, Moe};
    use crate::workload::{Activation, Norm, Positions, TransformerShape};

    fn mixtral() -> Profile {
        let shape = TransformerShape {
            layers: 32,
            d_model: 4096,
            heads: 32,
            kv_heads: 8,
            d_ff: 14336,
            vocab: 32000,
            seq_len: 4096,
            norm: Norm::Rmsnorm,
            activation: Activation::Swiglu,
            positions: Positions::None,
            tied_embeddings: false,
        };
        Profile::from_shape(&shape, 1e12, 1024).with_moe(Moe {
            experts: 8,
            top_k: 2,
            shared_experts: 0,
        })
    }

    fn target_on(instance: &str) -> (Chip, f64, Efficiency) {
        let c = &Catalog::bundled();
        let inst = c.instance(instance).unwrap();
        let a = c.accelerator_of(inst).unwrap();
        (
            chip_of(a, inst).unwrap(),
            a.hbm_bytes.value.unwrap(),
            chip_efficiency(a, c, &Scenario::Published).unwrap(),
        )
    }

    /// Mixtral 8x7B: every expert in memory (46.7B), two per token in compute (12.9B), and
    /// expert parallelism's all-to-all over NVLink inside an instance, over the network across
    /// instances.
    #[test]
    fn a_mixture_holds_every_expert_and_computes_the_active_ones() {
        let p = mixtral();
        assert!((p.params / 1e9 - 46.70).abs() < 0.01, "{}", p.params);
        assert!(
            (p.active_params / 1e9 - 12.88).abs() < 0.01,
            "{}",
            p.active_params
        );
        let (chip, hbm, eff) = target_on("p5.48xlarge");
        let t = Target {
            profile: &p,
            chip: &chip,
            hbm_bytes: hbm,
            eff: &eff,
            precision: Precision::Bf16,
        };
        let base = Layout {
            tensor_parallel: 1,
            pipeline_parallel: 1,
            virtual_stages: 1,
            data_parallel: 16,
            expert_parallel: 8,
            micro_batch: 1,
            micro_batches: 64,
            zero: 1,
            sequence_parallel: false,
            recompute: Recompute::Full,
            flash_attention: true,
        };
        let (inside, _) = evaluate(&t, &base).unwrap();
        let across = Layout {
            expert_parallel: 16,
            ..base
        };
        // 8 experts cannot spread over 16 ranks, but the all-to-all rule is what is tested:
        // e × t = 16 > 8 chips per instance puts it on the network.
        let c_inside = crate::model::comm::step_comm(&p, &chip, &base, Precision::Bf16);
        let c_across = crate::model::comm::step_comm(&p, &chip, &across, Precision::Bf16);
        assert!(c_inside.ep_s > 0.0 && c_across.ep_s > 2.0 * c_inside.ep_s);
        assert!(inside.exposed_ep_s > 0.0);
        // Memory counts every expert: ZeRO-1 state of 46.7B over 16 ranks (experts over 2).
        let m = memory::layout_bytes(&p, &base, Precision::Bf16);
        assert!(m.state > 4.0 * p.layer_params_experts() * 32.0 / 8.0);
    }

    /// FP8 makes an H100 step faster than BF16 and is refused on A100 (no FP8 peak).
    #[test]
    fn fp8_is_faster_on_h100_and_refused_on_a100() {
        let c = &Catalog::bundled();
        let (_, w, _) = crate::model::validation::llama2_runs().remove(0);
        let p = Profile::from_transformer(&w);
        let a = Assumptions::default();
        let opts = |precision| ModelOptions {
            precision,
            ..ModelOptions::default()
        };
        let size = ClusterSize::Chips(64);
        let (bf16, _) = estimate_with(
            &p,
            c,
            &Scenario::Published,
            size,
            &a,
            &opts(Precision::Bf16),
        );
        let (fp8, skipped) =
            estimate_with(&p, c, &Scenario::Published, size, &a, &opts(Precision::Fp8));
        let h = |set: &[crate::model::estimate::OptionEstimate]| {
            set.iter()
                .find(|o| o.instance == "p5.48xlarge")
                .unwrap()
                .step
                .total_s
        };
        assert!(h(&fp8) < h(&bf16) * 0.9, "{} vs {}", h(&fp8), h(&bf16));
        assert!(fp8.iter().all(|o| !o.accelerator_id.starts_with("a100")));
        assert!(
            skipped
                .iter()
                .any(|s| s.instance == "p4d.24xlarge" && s.reason.contains("FP8"))
        );
    }

    /// The cheapest objective never costs more chip-hours than the fastest one.
    #[test]
    fn the_cheapest_objective_never_costs_more_chip_hours() {
        let c = &Catalog::bundled();
        let (_, w, _) = crate::model::validation::llama2_runs().remove(2);
        let p = Profile::from_transformer(&w);
        let a = Assumptions::default();
        let size = ClusterSize::DeadlineDays(60.0);
        let run = |objective| {
            estimate_with(
                &p,
                c,
                &Scenario::Published,
                size,
                &a,
                &ModelOptions {
                    objective,
                    ..ModelOptions::default()
                },
            )
            .0
        };
        let (fast, cheap) = (run(Objective::Fastest), run(Objective::Cheapest));
        for o in &cheap {
            let f = fast
                .iter()
                .find(|x| x.instance == o.instance && x.plan == o.plan)
                .unwrap();
            assert!(
                o.chip_hours <= f.chip_hours * (1.0 + 1e-9),
                "{}",
                o.instance
            );
            assert!(o.wall_hours <= 60.0 * 24.0 * (1.0 + 1e-9));
        }
    }

    /// The runner-up is recorded with a reason, and is never faster than the choice.
    #[test]
    fn the_runner_up_is_slower_and_says_why() {
        let (_, w, _) = crate::model::validation::llama2_runs().remove(2);
        let p = Profile::from_transformer(&w);
        let (chip, hbm, eff) = target_on("p4de.24xlarge");
        let t = Target {
            profile: &p,
            chip: &chip,
            hbm_bytes: hbm,
            eff: &eff,
            precision: Precision::Bf16,
        };
        let planned = plan(&t, 512).unwrap();
        let r = planned.runner_up.unwrap();
        assert!(r.step_s >= planned.step.total_s);
        assert!(r.reason.contains("slower"), "{}", r.reason);
        assert!((planned.step.total_at(1.0) - planned.step.total_s).abs() < 1e-9);
    }

    /// Small products are slower: GPT-2 124M's products on an H100 run further below peak than
    /// Llama 2 70B's, and a micro-batch of one sequence costs more per token than one of eight.
    #[test]
    fn small_models_and_small_micro_batches_come_out_slower() {
        let (chip, hbm, eff) = target_on("p5.48xlarge");
        let gpt2 = crate::workload::bundled::load_bundled("gpt2-124m").unwrap();
        let crate::workload::WorkloadKind::Transformer(w) = &gpt2.kind else {
            unreachable!()
        };
        let small = Profile::from_transformer(w);
        let (_, w70, _) = crate::model::validation::llama2_runs().remove(2);
        let large = Profile::from_transformer(&w70);
        let layout = |p: &Profile, b: u32| Layout {
            tensor_parallel: 1,
            pipeline_parallel: 1,
            virtual_stages: 1,
            data_parallel: 8,
            expert_parallel: 1,
            micro_batch: b,
            micro_batches: (p.global_batch / (8 * b) as f64).ceil() as u32,
            zero: 3,
            sequence_parallel: false,
            recompute: Recompute::Full,
            flash_attention: true,
        };
        let matmul_eta = |p: &Profile, b: u32| {
            let st =
                time::layout_step_time(p, &chip, &layout(p, b), &eff, Precision::Bf16).unwrap();
            let m = st
                .classes
                .iter()
                .find(|c| c.class == crate::ops::OpClass::Matmul)
                .unwrap();
            // FLOPs at peak over the time taken: the products' achieved efficiency.
            let flops: f64 = p
                .per_sequence
                .iter()
                .filter(|c| c.class == crate::ops::OpClass::Matmul)
                .map(|c| c.flops)
                .sum::<f64>()
                * 4.0
                / 3.0
                * (layout(p, b).micro_batches * b) as f64;
            flops / (chip.peak_flops * m.compute_s)
        };
        assert!(matmul_eta(&small, 1) < matmul_eta(&large, 1));
        assert!(matmul_eta(&small, 1) < matmul_eta(&small, 8));
        let _ = hbm;
    }
}
