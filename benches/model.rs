//! The cost model's speed: `costbench estimate` over every catalog option × plan × scenario for
//! Llama-2-70B-size and GPT-2-size targets (issue target: under 50 ms end to end).
//! The Monte Carlo over the whole catalog: 10,000 paired trials of every option × plan (issue
//! target: under 200 ms on 2 cores). `cargo bench --bench model`.

use costbench::catalog::Catalog;
use costbench::model::estimate::{ClusterSize, DEFAULT_DEADLINE_DAYS, Scenario, estimate_all};
use costbench::model::{Assumptions, Profile};
use costbench::workload::{WorkloadKind, bundled};
use criterion::{Criterion, criterion_group, criterion_main};

fn estimate(c: &mut Criterion) {
    let catalog = Catalog::bundled();
    let assumptions = Assumptions::default();
    let mut group = c.benchmark_group("estimate");
    for name in ["gpt2-124m", "llama2-7b", "llama3-8b"] {
        let w = bundled::load_bundled_with_memory(name, u64::MAX).expect("bundled");
        let WorkloadKind::Transformer(t) = &w.kind else {
            unreachable!()
        };
        let profile = Profile::from_transformer(t);
        group.bench_function(format!("{name}: every option × plan × scenario"), |b| {
            b.iter(|| {
                for scenario in [Scenario::Published, Scenario::Custom { mfu: 0.4 }] {
                    estimate_all(
                        &profile,
                        &catalog,
                        &scenario,
                        ClusterSize::DeadlineDays(DEFAULT_DEADLINE_DAYS),
                        &assumptions,
                    );
                }
            })
        });
    }
    group.finish();
}

fn monte_carlo(c: &mut Criterion) {
    use costbench::model::uncertainty::{DEFAULT_TRIALS, Inputs, simulate};
    let catalog = Catalog::bundled();
    let assumptions = Assumptions::default();
    let mut group = c.benchmark_group("monte_carlo");
    group.sample_size(20);
    for name in ["gpt2-124m", "llama3-8b"] {
        let w = bundled::load_bundled_with_memory(name, u64::MAX).expect("bundled");
        let WorkloadKind::Transformer(t) = &w.kind else {
            unreachable!()
        };
        let profile = Profile::from_transformer(t);
        let (options, _) = estimate_all(
            &profile,
            &catalog,
            &Scenario::Published,
            ClusterSize::DeadlineDays(DEFAULT_DEADLINE_DAYS),
            &assumptions,
        );
        let inputs = Inputs::stated(&options, assumptions.goodput.value, false, false);
        group.bench_function(
            format!(
                "{name}: {DEFAULT_TRIALS} trials × {} options",
                options.len()
            ),
            |b| b.iter(|| simulate(&options, &inputs, DEFAULT_TRIALS, 0)),
        );
    }
    group.finish();
}

/// The layout planner over the whole bundled catalog: every instance's cluster size (30-day
/// deadline) and, at each size tried, the search over tensor, pipeline and data parallelism,
/// ZeRO stage, micro-batch and recomputation (issue target: under 1 s on 2 cores), for a 7B,
/// a 70B, a 175B and a 1T model, BF16 and FP8.
fn planner(c: &mut Criterion) {
    use costbench::model::estimate::{ModelOptions, estimate_with};
    use costbench::model::{Moe, Precision};
    use costbench::workload::{Activation, Norm, Positions, TransformerShape};
    let catalog = Catalog::bundled();
    let assumptions = Assumptions::default();
    let gpt = |layers, d: usize, heads, seq, batch, tokens: f64| {
        let shape = TransformerShape {
            layers,
            d_model: d,
            heads,
            kv_heads: heads,
            d_ff: 4 * d,
            vocab: 51200,
            seq_len: seq,
            norm: Norm::Layernorm,
            activation: Activation::Gelu,
            positions: Positions::None,
            tied_embeddings: false,
        };
        Profile::from_shape(&shape, tokens, batch)
    };
    let mixtral = {
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
    };
    let mut group = c.benchmark_group("planner");
    group.sample_size(10);
    for (name, profile) in [
        ("llama2-7b", {
            let w = bundled::load_bundled_with_memory("llama2-7b", u64::MAX).expect("bundled");
            let WorkloadKind::Transformer(t) = &w.kind else {
                unreachable!()
            };
            Profile::from_transformer(t)
        }),
        ("gpt-70b", gpt(80, 8192, 64, 4096, 1024, 2e12)),
        ("gpt-175b", gpt(96, 12288, 96, 2048, 1536, 3e11)),
        ("gpt-1t", gpt(128, 25600, 160, 2048, 3072, 4.5e11)),
        ("mixtral-8x7b", mixtral),
    ] {
        for precision in [Precision::Bf16, Precision::Fp8] {
            let options = ModelOptions {
                precision,
                ..ModelOptions::default()
            };
            group.bench_function(format!("{name} {}: whole catalog", precision.name()), |b| {
                b.iter(|| {
                    estimate_with(
                        &profile,
                        &catalog,
                        &Scenario::Published,
                        ClusterSize::DeadlineDays(DEFAULT_DEADLINE_DAYS),
                        &assumptions,
                        &options,
                    )
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, estimate, monte_carlo, planner);
criterion_main!(benches);
