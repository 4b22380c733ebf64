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

criterion_group!(benches, estimate, monte_carlo);
criterion_main!(benches);
