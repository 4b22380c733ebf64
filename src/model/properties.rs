//! Properties of the cost model over random architectures, prices, efficiencies and cluster
//! sizes.

use super::estimate::{ClusterSize, Scenario, estimate_all};
use super::{Assumptions, Profile};
use crate::catalog::Catalog;
use crate::workload::{Activation, Norm, Positions, TransformerShape, TransformerWorkload};
use proptest::prelude::*;

fn workload(
    layers: usize,
    heads: usize,
    head_dim: usize,
    ffn: usize,
    seq: usize,
    batch: usize,
) -> TransformerWorkload {
    let shape = TransformerShape {
        layers,
        d_model: heads * head_dim,
        heads,
        kv_heads: heads,
        d_ff: ffn * heads * head_dim,
        vocab: 32000,
        seq_len: seq,
        norm: Norm::Rmsnorm,
        activation: Activation::Swiglu,
        positions: Positions::None,
        tied_embeddings: false,
    };
    TransformerWorkload {
        target: shape.clone(),
        target_tokens: 100_000_000_000,
        target_batch: batch,
        slice: shape,
        slice_batch: 1,
        target_moe: None,
    }
}

fn arb_profile() -> impl Strategy<Value = Profile> {
    (
        2usize..48,
        prop::sample::select(vec![8usize, 16, 32, 64]),
        prop::sample::select(vec![64usize, 128]),
        2usize..5,
        prop::sample::select(vec![1024usize, 2048, 4096]),
        prop::sample::select(vec![256usize, 1024, 2048]),
    )
        .prop_map(|(l, a, d, f, s, b)| Profile::from_transformer(&workload(l, a, d, f, s, b)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Raising one instance's price never lowers any of its options' cost, and leaves every
    /// other option unchanged.
    #[test]
    fn cost_never_falls_when_a_price_rises(p in arb_profile(), chips in 8u32..2048, raise in 1.01f64..3.0) {
        let base = Catalog::bundled();
        let a = Assumptions::default();
        let size = ClusterSize::Chips(chips);
        let (before, _) = estimate_all(&p, &base, &Scenario::Published, size, &a);
        let mut dearer = base.clone();
        let on_demand = base.instance("p5.48xlarge").and_then(|i| i.price(crate::catalog::Plan::OnDemand)).unwrap();
        dearer.set_price(&format!("p5.48xlarge:on_demand={}", on_demand * raise)).unwrap();
        let (after, _) = estimate_all(&p, &dearer, &Scenario::Published, size, &a);
        for o in &before {
            let n = after.iter().find(|x| x.instance == o.instance && x.plan == o.plan).unwrap();
            prop_assert!(n.usd >= o.usd * (1.0 - 1e-12), "{} {:?}: {} → {}", o.instance, o.plan, o.usd, n.usd);
        }
    }

    /// Lower efficiency never makes a run faster.
    #[test]
    fn time_never_falls_when_efficiency_falls(p in arb_profile(), chips in 8u32..2048, mfu in 0.1f64..0.9, drop in 0.5f64..0.99) {
        let c = Catalog::bundled();
        let a = Assumptions::default();
        let size = ClusterSize::Chips(chips);
        let (fast, _) = estimate_all(&p, &c, &Scenario::Custom { mfu }, size, &a);
        let (slow, _) = estimate_all(&p, &c, &Scenario::Custom { mfu: mfu * drop }, size, &a);
        for o in &fast {
            let s = slow.iter().find(|x| x.instance == o.instance && x.plan == o.plan).unwrap();
            prop_assert!(s.wall_hours >= o.wall_hours * (1.0 - 1e-12));
        }
    }

    /// No option runs faster than its FLOPs at the chips' full peak, and no option is charged
    /// fewer FLOPs than the work itself, whatever the cluster size (more chips can only remove
    /// recomputation, never work).
    #[test]
    fn time_is_never_below_flops_over_peak(p in arb_profile(), chips in 8u32..4096) {
        let c = Catalog::bundled();
        let a = Assumptions::default();
        let (options, _) = estimate_all(&p, &c, &Scenario::Published, ClusterSize::Chips(chips), &a);
        for o in &options {
            let acc = c.instances.iter().find(|i| i.id == o.instance).and_then(|i| c.accelerator_of(i)).unwrap();
            let peak = acc.tflops_bf16.value.unwrap() * 1e12;
            let productive_s = o.wall_hours * 3600.0 * a.goodput.value;
            let charged = o.step.flops_per_chip * o.chips as f64 * p.steps();
            prop_assert!(charged >= p.min_executed_flops() * (1.0 - 1e-9), "{charged:e} < {:e}", p.min_executed_flops());
            prop_assert!(productive_s >= charged / (o.chips as f64 * peak) * (1.0 - 1e-9));
        }
    }

    /// Adding chips never lowers the FLOPs a run must execute.
    #[test]
    fn more_chips_never_lower_the_compute_flops(p in arb_profile(), chips in 8u32..1024) {
        let c = Catalog::bundled();
        let a = Assumptions::default();
        let (large, _) = estimate_all(&p, &c, &Scenario::Published, ClusterSize::Chips(chips * 2), &a);
        for o in &large {
            let flops = o.step.flops_per_chip * o.chips as f64;
            prop_assert!(flops >= p.min_executed_flops() / p.steps() * (1.0 - 1e-9));
        }
    }
}

/// The chip, HBM and efficiency of a bundled instance.
fn target_parts(instance: &str) -> (super::time::Chip, f64, super::efficiency::Efficiency) {
    let c = Catalog::bundled();
    let inst = c.instance(instance).unwrap();
    let a = c.accelerator_of(inst).unwrap();
    let chip = super::estimate::chip_of(a, inst).unwrap();
    let eff = super::efficiency::efficiency(a, &c, &Scenario::Published).unwrap();
    (chip, a.hbm_bytes.value.unwrap(), eff)
}

const INSTANCES: [&str; 4] = [
    "p4de.24xlarge",
    "p5.48xlarge",
    "trn1.32xlarge",
    "p6-b200.48xlarge",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// The planner's choice is never slower than the layout the model used before it (ZeRO-3
    /// over every chip, tensor parallelism inside an instance chosen as before, no pipeline, one
    /// sequence per micro-batch), wherever that layout fits.
    #[test]
    fn the_planner_is_never_slower_than_the_fixed_layout(p in arb_profile(), instances in 1u32..64, which in 0usize..4) {
        use super::layout::{self, Layout, Target};
        let (chip, hbm, eff) = target_parts(INSTANCES[which]);
        let chips = instances * chip.chips_per_instance;
        let target = Target { profile: &p, chip: &chip, hbm_bytes: hbm, eff: &eff, precision: super::Precision::Bf16 };
        let Some(fixed) = super::memory::plan(&p, chips as f64, hbm, chip.chips_per_instance) else { return Ok(()) };
        let legacy = Layout::legacy(&p, chips, fixed.tensor_parallel, fixed.recompute);
        let Some((legacy_step, _)) = layout::evaluate(&target, &legacy) else { return Ok(()) };
        let planned = layout::plan(&target, chips);
        prop_assert!(planned.is_some());
        let planned = planned.unwrap();
        prop_assert!(planned.step.total_s <= legacy_step.total_s * (1.0 + 1e-9),
            "{} {:.4} s > fixed {} {:.4} s", planned.layout.describe(), planned.step.total_s, legacy.describe(), legacy_step.total_s);
    }

    /// The chosen layout's memory per chip never exceeds the chip's usable HBM.
    #[test]
    fn the_chosen_layout_fits_in_usable_hbm(p in arb_profile(), chips in 8u32..4096) {
        let c = Catalog::bundled();
        let (options, _) = estimate_all(&p, &c, &Scenario::Published, ClusterSize::Chips(chips), &Assumptions::default());
        for o in &options {
            let m = o.memory.unwrap();
            prop_assert!(m.total <= o.layout.usable_bytes * (1.0 + 1e-12), "{} {}: {:e} > {:e}", o.instance, o.parallel.unwrap().describe(), m.total, o.layout.usable_bytes);
            prop_assert!(o.parallel.unwrap().chips() <= o.chips);
        }
    }

    /// More chips never make a compute-bound step slower: with communication free (links and
    /// network without limit or latency) the planner's step on 2n chips is never longer than on
    /// n.
    #[test]
    fn more_chips_never_slow_a_compute_bound_step(p in arb_profile(), instances in 1u32..64, which in 0usize..4) {
        use super::layout::{self, Target};
        let (mut chip, hbm, eff) = target_parts(INSTANCES[which]);
        chip.link_bytes_per_s *= 1e12;
        chip.network_bytes_per_s *= 1e12;
        chip.alpha_link_s = 0.0;
        chip.alpha_network_s = 0.0;
        let chips = instances * chip.chips_per_instance;
        let target = Target { profile: &p, chip: &chip, hbm_bytes: hbm, eff: &eff, precision: super::Precision::Bf16 };
        let Some(small) = layout::plan(&target, chips) else { return Ok(()) };
        let large = layout::plan(&target, 2 * chips);
        prop_assert!(large.is_some(), "fits on {chips} chips but not on {}", 2 * chips);
        let large = large.unwrap();
        prop_assert!(large.step.total_s <= small.step.total_s * (1.0 + 1e-9),
            "{} chips: {} {:.5} s; {} chips: {} {:.5} s", chips, small.layout.describe(), small.step.total_s, 2 * chips, large.layout.describe(), large.step.total_s);
    }
}
