//! The cost model's speed: `costbench estimate` over every catalog option × plan × scenario for
//! Llama-2-70B-size and GPT-2-size targets (issue target: under 50 ms end to end).
//! `cargo bench --bench model`.

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

criterion_group!(benches, estimate);
criterion_main!(benches);
