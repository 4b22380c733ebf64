//! Criterion benches of the product kernel at several sizes and at every product shape of two
//! bundled slices' steps, of every other kernel at the gpt2-124m slice's shapes, of attention at
//! long sequences, and of a whole training-step slice.
//! `cargo bench --bench kernels`; GFLOP/s is criterion's throughput in elements (= FLOPs)/s.

use costbench::kernels::adamw::{self, AdamW, Slot};
use costbench::kernels::attention::{self, AttentionShape};
use costbench::kernels::gemm::{Threads, product_into};
use costbench::kernels::{Tally, activation, embedding, fastmath, loss, norm};
use costbench::train::TransformerTrainer;
use costbench::workload::Norm;
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

/// Every other kernel, forward and backward, at the shapes of the gpt2-124m slice (1024 tokens,
/// d_model 768, 12 heads, d_ff 3072, vocabulary 50257). The memory-bound kernels report bytes/s:
/// criterion's throughput is the minimum bytes each call moves (what the kernel charges to its
/// tally, `docs/flops.md`), so it compares directly with the probe's triad bandwidth.
fn other_kernels(c: &mut Criterion) {
    let (tokens, h, f, vocab) = (1024usize, 768usize, 3072usize, 50257usize);
    let fill = |n: usize, scale: f32| -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * scale)
            .collect()
    };
    let mut t = Tally::new();
    let mut group = c.benchmark_group("kernels");
    group
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);

    let a = AttentionShape {
        batch: 4,
        seq: 256,
        heads: 12,
        kv_heads: 12,
        head_dim: 64,
    };
    let qkv = fill(tokens * a.qkv_width(), 1.0);
    let mut lse_a = vec![0.0; a.lse_len()];
    let mut ctx = vec![0.0; tokens * h];
    let mut dqkv = vec![0.0; qkv.len()];
    group.bench_function("attention forward", |b| {
        b.iter(|| attention::forward(&mut t, a, &qkv, &mut lse_a, &mut ctx))
    });
    let dctx = fill(tokens * h, 0.1);
    group.bench_function("attention backward", |b| {
        b.iter(|| attention::backward(&mut t, a, &qkv, &ctx, &lse_a, &dctx, &mut dqkv))
    });

    // Bytes one call charges, read from a fresh tally around one untimed call.
    fn charged(f: impl FnOnce(&mut Tally)) -> Throughput {
        let mut t = Tally::new();
        f(&mut t);
        Throughput::Bytes(t.total_bytes())
    }
    let x = fill(tokens * h, 2.0);
    let gain = vec![1.0f32; 2 * h];
    let mut y = vec![0.0; tokens * h];
    let mut stats = vec![0.0; 2 * tokens];
    let mut dgain = vec![0.0; 2 * h];
    for kind in [Norm::Layernorm, Norm::Rmsnorm] {
        let bias = (kind == Norm::Layernorm).then(|| &gain[h..]);
        group.throughput(charged(|t| {
            norm::forward(t, kind, &x, h, &gain[..h], bias, &mut y, &mut stats)
        }));
        group.bench_function(format!("{kind:?} forward"), |b| {
            b.iter(|| norm::forward(&mut t, kind, &x, h, &gain[..h], bias, &mut y, &mut stats))
        });
        group.throughput(charged(|t| {
            let (dg, db) = dgain.split_at_mut(h);
            let db = (kind == Norm::Layernorm).then_some(db);
            norm::backward(t, kind, &x, h, &gain[..h], &stats, &dctx, &mut y, dg, db)
        }));
        group.bench_function(format!("{kind:?} backward"), |b| {
            b.iter(|| {
                let (dg, db) = dgain.split_at_mut(h);
                let db = (kind == Norm::Layernorm).then_some(db);
                norm::backward(
                    &mut t,
                    kind,
                    &x,
                    h,
                    &gain[..h],
                    &stats,
                    &dctx,
                    &mut y,
                    dg,
                    db,
                )
            })
        });
    }

    let up = fill(tokens * 2 * f, 3.0);
    let mut act = vec![0.0; tokens * f];
    let mut dup = vec![0.0; tokens * 2 * f];
    let dact = fill(tokens * f, 0.1);
    group.throughput(charged(|t| {
        activation::gelu_forward(t, &up[..tokens * f], &mut act)
    }));
    group.bench_function("gelu forward", |b| {
        b.iter(|| activation::gelu_forward(&mut t, &up[..tokens * f], &mut act))
    });
    group.throughput(charged(|t| {
        activation::gelu_backward(t, &up[..tokens * f], &dact, &mut dup[..tokens * f])
    }));
    group.bench_function("gelu backward", |b| {
        b.iter(|| {
            activation::gelu_backward(&mut t, &up[..tokens * f], &dact, &mut dup[..tokens * f])
        })
    });
    group.throughput(charged(|t| activation::swiglu_forward(t, &up, f, &mut act)));
    group.bench_function("swiglu forward", |b| {
        b.iter(|| activation::swiglu_forward(&mut t, &up, f, &mut act))
    });
    group.throughput(charged(|t| {
        activation::swiglu_backward(t, &up, f, &dact, &mut dup)
    }));
    group.bench_function("swiglu backward", |b| {
        b.iter(|| activation::swiglu_backward(&mut t, &up, f, &dact, &mut dup))
    });

    let logits = fill(tokens * vocab, 4.0);
    let targets: Vec<u32> = (0..tokens as u32).map(|i| i * 13 % vocab as u32).collect();
    let mut lse = vec![0.0; tokens];
    let mut grad = logits.clone();
    group.throughput(charged(|t| {
        loss::forward(t, &logits, vocab, &targets, &mut lse);
    }));
    group.bench_function("cross-entropy forward", |b| {
        b.iter(|| loss::forward(&mut t, &logits, vocab, &targets, &mut lse))
    });
    group.throughput(charged(|t| {
        loss::backward(t, &mut grad, vocab, &targets, &lse)
    }));
    group.bench_function("cross-entropy backward", |b| {
        b.iter(|| loss::backward(&mut t, &mut grad, vocab, &targets, &lse))
    });
    // What a training step runs: both in one kernel. Like the backward above it works in
    // place, so after the first iteration it runs on gradients (finite, of order 1/rows; the
    // exponentials cost the same on any input).
    grad.copy_from_slice(&logits);
    group.throughput(charged(|t| {
        loss::forward_backward(t, &mut grad, vocab, &targets);
    }));
    group.bench_function("cross-entropy forward and backward (fused)", |b| {
        b.iter(|| loss::forward_backward(&mut t, &mut grad, vocab, &targets))
    });

    let table = fill(vocab * h, 0.02);
    let mut xe = vec![0.0; tokens * h];
    let mut dtable = vec![0.0; vocab * h];
    group.throughput(charged(|t| {
        embedding::forward(t, &targets, &table, None, 256, h, &mut xe)
    }));
    group.bench_function("embedding forward", |b| {
        b.iter(|| embedding::forward(&mut t, &targets, &table, None, 256, h, &mut xe))
    });
    group.throughput(charged(|t| {
        embedding::backward(t, &targets, &dctx, 256, h, &mut dtable, None)
    }));
    group.bench_function("embedding backward", |b| {
        b.iter(|| embedding::backward(&mut t, &targets, &dctx, 256, h, &mut dtable, None))
    });

    let mut slot = Slot::new(fill(7_000_000, 0.02), true);
    slot.g = fill(7_000_000, 0.001);
    let opt = AdamW::default();
    group.throughput(charged(|t| {
        adamw::update(t, &opt, 1, std::iter::once(&mut slot))
    }));
    group.bench_function("adamw 7M parameters", |b| {
        b.iter(|| adamw::update(&mut t, &opt, 1, std::iter::once(&mut slot)))
    });
    group.throughput(Throughput::Elements(1 << 20));
    group.bench_function("exp of 1Mi values, fastmath", |b| {
        let xs = fill(1 << 20, 10.0);
        b.iter(|| fastmath::sum_exp(&xs, 0.0))
    });
    group.bench_function("exp of 1Mi values, std", |b| {
        let xs = fill(1 << 20, 10.0);
        b.iter(|| xs.iter().map(|&v| v.exp()).sum::<f32>())
    });
    group.finish();
}

/// The fused attention kernel alone at long sequences (head width 64, 4 heads, one sequence),
/// forward and backward; throughput is the FLOPs the kernel executes and charges (the blocks on
/// and below the diagonal). Compare with `costbench probe`'s f32 peak at the same thread count
/// (`RAYON_NUM_THREADS`).
fn attention_long(c: &mut Criterion) {
    let mut group = c.benchmark_group("attention");
    group
        .measurement_time(Duration::from_secs(5))
        .sample_size(10);
    for seq in [1024usize, 4096] {
        let a = AttentionShape {
            batch: 1,
            seq,
            heads: 4,
            kv_heads: 4,
            head_dim: 64,
        };
        let fill = |n: usize, scale: f32| -> Vec<f32> {
            (0..n)
                .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * scale)
                .collect()
        };
        let qkv = fill(seq * a.qkv_width(), 1.0);
        let mut lse = vec![0.0; a.lse_len()];
        let mut ctx = vec![0.0; seq * a.d_model()];
        let dctx = fill(seq * a.d_model(), 0.1);
        let mut dqkv = vec![0.0; qkv.len()];
        let bs = attention::block_size(a.head_dim);
        let mut t = Tally::new();
        group.throughput(Throughput::Elements(a.forward_flops(bs)));
        group.bench_function(format!("forward s={seq}"), |b| {
            b.iter(|| attention::forward(&mut t, a, &qkv, &mut lse, &mut ctx))
        });
        group.throughput(Throughput::Elements(a.backward_flops(bs)));
        group.bench_function(format!("backward s={seq}"), |b| {
            b.iter(|| attention::backward(&mut t, a, &qkv, &ctx, &lse, &dctx, &mut dqkv))
        });
    }
    group.finish();
}

/// Every product of one training step at two bundled slices' shapes, through `product_into` as
/// the step calls it, with the operands in the step's layouts: forward X·W (both row-major);
/// the input gradient dY·Wᵀ (W read as its column-major transpose — the shapes the column-major
/// route of `kernels::gemm` serves when the rows are few); the weight gradient Xᵀ·dY (X read
/// transposed); the output head likewise (tied to the embedding in GPT-2: X·Eᵀ forward).
/// gpt2-124m's slice has 1,024 tokens, llama2-7b's 256 (its products take the route).
/// Throughput is 2·m·n·k FLOPs; compare with `costbench probe`'s peak at the same thread count
/// (`RAYON_NUM_THREADS`). `docs/gemm-choice.md` discusses the figures.
fn step_products(c: &mut Criterion) {
    let mut group = c.benchmark_group("step_products");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(10);
    for name in ["gpt2-124m", "llama2-7b"] {
        let w = bundled::load_bundled(name).expect("bundled workload");
        let WorkloadKind::Transformer(t) = &w.kind else {
            unreachable!("{name} is a transformer")
        };
        let sh = &t.slice;
        let tokens = t.slice_batch * sh.seq_len;
        let h = sh.d_model;
        let qkv = h + 2 * sh.kv_heads * sh.head_dim();
        let up = match sh.activation {
            costbench::workload::Activation::Gelu => sh.d_ff,
            costbench::workload::Activation::Swiglu => 2 * sh.d_ff,
        };
        // (label, k, n) of each layer weight, k × n as the forward multiplies by it.
        let layers = [
            ("qkv", h, qkv),
            ("out", h, h),
            ("up", h, up),
            ("down", sh.d_ff, h),
        ];
        let fill = |r: usize, c: usize| {
            Array2::from_shape_fn((r, c), |(i, j)| ((i * 7 + j * 3) % 13) as f32 * 0.01 - 0.06)
        };
        let mut bench =
            |label: String, a: ndarray::ArrayView2<f32>, b: ndarray::ArrayView2<f32>| {
                let (m, n, k) = (a.nrows(), b.ncols(), a.ncols());
                let mut out = Array2::<f32>::zeros((m, n));
                group.throughput(Throughput::Elements(2 * (m * n * k) as u64));
                group.bench_function(format!("{name} {label} ({m}x{k} . {k}x{n})"), |bench| {
                    bench.iter(|| product_into(a, b, out.view_mut(), false, Threads::Auto))
                });
            };
        for (label, k, n) in layers {
            let (x, wt, dy) = (fill(tokens, k), fill(k, n), fill(tokens, n));
            bench(format!("{label} forward"), x.view(), wt.view());
            bench(format!("{label} input gradient"), dy.view(), wt.t());
            bench(format!("{label} weight gradient"), x.t(), dy.view());
        }
        let (x, dl) = (fill(tokens, h), fill(tokens, sh.vocab));
        if sh.tied_embeddings {
            let e = fill(sh.vocab, h);
            bench("head forward (tied)".into(), x.view(), e.t());
            bench("head input gradient (tied)".into(), dl.view(), e.view());
            bench("head weight gradient (tied)".into(), dl.t(), x.view());
        } else {
            let wh = fill(h, sh.vocab);
            bench("head forward".into(), x.view(), wh.view());
            bench("head input gradient".into(), dl.view(), wh.t());
            bench("head weight gradient".into(), x.t(), dl.view());
        }
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

criterion_group!(
    benches,
    products,
    step_products,
    other_kernels,
    attention_long,
    gpt2_step
);
criterion_main!(benches);
