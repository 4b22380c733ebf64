//! Criterion benches of the product kernel at several sizes and of a training-step slice.
//! `cargo bench --bench kernels`; GFLOP/s is criterion's throughput in elements (= FLOPs)/s.

use costbench::kernels::Tally;
use costbench::kernels::gemm::{Threads, product_into};
use costbench::train::TransformerTrainer;
use costbench::workload::bundled;
use costbench::workload::{WorkloadKind, plan};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array2;
use std::time::Duration;

fn products(c: &mut Criterion) {
    let mut group = c.benchmark_group("product_f32");
    group
        .measurement_time(Duration::from_secs(5))
        .sample_size(10);
    for n in [256usize, 1024, 2048] {
        let a = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j) % 13) as f32 - 6.0);
        let b = Array2::from_shape_fn((n, n), |(i, j)| ((i + j * 5) % 11) as f32 - 5.0);
        let mut out = Array2::<f32>::zeros((n, n));
        group.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        group.bench_function(format!("{n}"), |bench| {
            bench.iter(|| product_into(a.view(), b.view(), out.view_mut(), false, Threads::Auto))
        });
    }
    group.finish();
}

fn gpt2_step(c: &mut Criterion) {
    let w = bundled::load_bundled("gpt2-124m").expect("bundled workload");
    let WorkloadKind::Transformer(t) = &w.kind else {
        unreachable!("gpt2-124m is a transformer")
    };
    let mut trainer = TransformerTrainer::new(&t.slice, t.slice_batch, 1);
    trainer.next_batch();
    let flops = plan::transformer_step(&t.slice, t.slice_batch).total_flops();
    let mut group = c.benchmark_group("training_step");
    group
        .measurement_time(Duration::from_secs(20))
        .sample_size(10);
    group.throughput(Throughput::Elements(flops));
    let mut tally = Tally::new();
    group.bench_function("gpt2-124m slice", |bench| {
        // One batch, trained on repeatedly: the bench times the step, not data generation.
        bench.iter(|| trainer.step(&mut tally))
    });
    group.finish();
}

criterion_group!(benches, products, gpt2_step);
criterion_main!(benches);
