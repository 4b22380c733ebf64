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
