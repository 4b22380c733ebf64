//! One attention shape, forward and backward, called N times in a row: prints the fastest and
//! the median call of each, in ms, and the GFLOP/s of the fastest (executed FLOPs, as the kernel
//! charges them). Built by `run.sh` against two checkouts of costbench; not part of the crate.
//!
//! Usage: attention_calls CALLS SEQ HEADS KV_HEADS HEAD_DIM
use costbench::kernels::attention::{self, AttentionShape};
use costbench::kernels::Tally;
use std::time::Instant;

fn main() {
    let arg = |i: usize, default: usize| -> usize {
        std::env::args()
            .nth(i)
            .map(|s| s.parse().expect("a positive integer"))
            .unwrap_or(default)
    };
    let (calls, seq) = (arg(1, 20).max(1), arg(2, 1024));
    let a = AttentionShape {
        batch: 1,
        seq,
        heads: arg(3, 4),
        kv_heads: arg(4, 4),
        head_dim: arg(5, 64),
    };
    // The same inputs as `benches/kernels.rs` (`attention`).
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
    let mut tally = Tally::new();
    let (mut fwd, mut bwd) = (Vec::new(), Vec::new());
    for _ in 0..calls {
        let t = Instant::now();
        attention::forward(&mut tally, a, &qkv, &mut lse, &mut ctx);
        fwd.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        attention::backward(&mut tally, a, &qkv, &ctx, &lse, &dctx, &mut dqkv);
        bwd.push(t.elapsed().as_secs_f64());
    }
    for (name, mut times, flops) in [
        ("forward", fwd, a.forward_flops(bs)),
        ("backward", bwd, a.backward_flops(bs)),
    ] {
        times.sort_by(f64::total_cmp);
        let (min, median) = (times[0], times[times.len() / 2]);
        println!(
            "{name} {:.4} {:.4} {:.1}",
            min * 1e3,
            median * 1e3,
            flops as f64 / min / 1e9
        );
    }
    // Keeps the outputs alive.
    std::hint::black_box((&ctx, &dqkv));
}
