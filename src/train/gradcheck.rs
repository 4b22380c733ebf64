//! Gradient checks: every backward kernel, and whole models, against central finite
//! differences.
//!
//! Each check takes a scalar L = Σ r ⊙ y over a kernel's output y with fixed random weights r
//! (accumulated in f64), so dL/dy = r, runs the kernel's backward on r, and compares each
//! checked input coordinate with (L(x + ε) − L(x − ε)) / 2ε at ε = 1e-2.
//! Tolerance: |numeric − analytic| ≤ atol + 2e-2·|numeric|, atol = 2e-3 for kernels and 2e-4
//! for whole models (whose mean loss has smaller derivatives); every check also requires some
//! checked derivative to exceed 10·atol, so it cannot pass on noise alone.
//! (f32 forward passes round at about 1e-7 relative; divided by 2ε that is ~1e-4 absolute on
//! these sizes, and the O(ε²) truncation error is of the same order.)

use crate::kernels::adamw::{self, AdamW, Slot};
use crate::kernels::attention::{self, AttentionShape};
use crate::kernels::{Tally, activation, embedding, loss, norm};
use crate::train::TransformerTrainer;
use crate::workload::{Activation, Norm, Positions, TransformerShape};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const EPS: f32 = 1e-2;
const ATOL: f64 = 2e-3;
const RTOL: f64 = 2e-2;

fn random(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

fn dot(r: &[f32], y: &[f32]) -> f64 {
    r.iter()
        .zip(y)
        .map(|(&a, &b)| f64::from(a) * f64::from(b))
        .sum()
}

/// Compares `analytic[i]` with the central difference of `loss` in `x[i]` for every `i` in
/// `indices`; panics with the worst offender.
fn check(
    name: &str,
    x: &mut [f32],
    analytic: &[f32],
    indices: impl IntoIterator<Item = usize>,
    loss: impl FnMut(&[f32]) -> f64,
) {
    check_with(name, ATOL, x, analytic, indices, loss)
}

/// [`check`] with its own absolute tolerance. Also requires some checked derivative to be
/// well above that tolerance, so a check cannot pass by comparing noise with noise.
fn check_with(
    name: &str,
    atol: f64,
    x: &mut [f32],
    analytic: &[f32],
    indices: impl IntoIterator<Item = usize>,
    mut loss: impl FnMut(&[f32]) -> f64,
) {
    let mut checked = 0;
    let mut largest = 0.0f64;
    for i in indices {
        let orig = x[i];
        x[i] = orig + EPS;
        let up = loss(x);
        x[i] = orig - EPS;
        let down = loss(x);
        x[i] = orig;
        let numeric = (up - down) / (2.0 * f64::from(EPS));
        let a = f64::from(analytic[i]);
        assert!(
            (numeric - a).abs() <= atol + RTOL * numeric.abs(),
            "{name}: coordinate {i}: finite difference {numeric:.6} vs backward {a:.6}"
        );
        checked += 1;
        largest = largest.max(numeric.abs());
    }
    assert!(checked > 0, "{name}: nothing checked");
    assert!(
        largest > 10.0 * atol,
        "{name}: every derivative is below 10× the tolerance ({largest:e})"
    );
}

/// Every index for small inputs, else a strided sample of about 60.
fn sample(n: usize) -> impl Iterator<Item = usize> {
    let step = (n / 60).max(1);
    (0..n).step_by(step)
}

#[test]
fn norms_backward_match_finite_differences() {
    for kind in [Norm::Layernorm, Norm::Rmsnorm] {
        let (rows, width) = (5, 16);
        let mut x = random(rows * width, 1, 2.0);
        let mut params = random(2 * width, 2, 1.0);
        let r = random(rows * width, 3, 1.0);
        let ln = kind == Norm::Layernorm;
        let fwd = |x: &[f32], p: &[f32]| {
            let mut y = vec![0.0; rows * width];
            let mut st = vec![0.0; 2 * rows];
            norm::forward(
                &mut Tally::new(),
                kind,
                x,
                width,
                &p[..width],
                ln.then(|| &p[width..]),
                &mut y,
                &mut st,
            );
            (y, st)
        };
        let (_, st) = fwd(&x, &params);
        let mut dx = vec![0.0; rows * width];
        let mut dp = vec![0.0; 2 * width];
        let (dg, db) = dp.split_at_mut(width);
        norm::backward(
            &mut Tally::new(),
            kind,
            &x,
            width,
            &params[..width],
            &st,
            &r,
            &mut dx,
            dg,
            ln.then_some(db),
        );
        let p0 = params.clone();
        check(
            &format!("{kind:?} dx"),
            &mut x,
            &dx,
            sample(rows * width),
            |x| dot(&r, &fwd(x, &p0).0),
        );
        let x0 = x.clone();
        let n_params = if ln { 2 * width } else { width };
        check(
            &format!("{kind:?} dgain/dbias"),
            &mut params,
            &dp,
            0..n_params,
            |p| dot(&r, &fwd(&x0, p).0),
        );
    }
}

#[test]
fn activations_backward_match_finite_differences() {
    let n = 64;
    let mut x = random(n, 4, 3.0);
    let r = random(n, 5, 1.0);
    let gelu = |x: &[f32]| {
        let mut y = vec![0.0; n];
        activation::gelu_forward(&mut Tally::new(), x, &mut y);
        y
    };
    let mut dx = vec![0.0; n];
    activation::gelu_backward(&mut Tally::new(), &x, &r, &mut dx);
    check("gelu", &mut x, &dx, 0..n, |x| dot(&r, &gelu(x)));

    let (rows, width) = (4, 8);
    let mut gu = random(rows * 2 * width, 6, 3.0);
    let r = random(rows * width, 7, 1.0);
    let swiglu = |gu: &[f32]| {
        let mut y = vec![0.0; rows * width];
        activation::swiglu_forward(&mut Tally::new(), gu, width, &mut y);
        y
    };
    let mut dgu = vec![0.0; rows * 2 * width];
    activation::swiglu_backward(&mut Tally::new(), &gu, width, &r, &mut dgu);
    check("swiglu", &mut gu, &dgu, 0..rows * 2 * width, |gu| {
        dot(&r, &swiglu(gu))
    });
}

#[test]
fn attention_backward_matches_finite_differences() {
    // Multi-head (g = a) and grouped-query (g < a); s not a multiple of the block, s = 1; the
    // kernel's own block side and small ones that make several blocks of these tiny shapes.
    let shapes = [(2, 5, 4, 3), (1, 7, 2, 5), (1, 1, 2, 3)];
    for (batch, seq, heads, head_dim) in shapes {
        for kv_heads in [heads, heads / 2, 1] {
            let a = AttentionShape {
                batch,
                seq,
                heads,
                kv_heads,
                head_dim,
            };
            for bs in [attention::block_size(head_dim), 2, 3] {
                let n = a.batch * a.seq * a.qkv_width();
                let mut qkv = random(n, 8, 1.5);
                let r = random(a.batch * a.seq * a.d_model(), 9, 1.0);
                let fwd = |qkv: &[f32]| {
                    let mut lse = vec![0.0; a.lse_len()];
                    let mut ctx = vec![0.0; a.batch * a.seq * a.d_model()];
                    attention::forward_blocked(&mut Tally::new(), a, bs, qkv, &mut lse, &mut ctx);
                    (lse, ctx)
                };
                let (lse, ctx) = fwd(&qkv);
                let mut dqkv = vec![0.0; n];
                attention::backward_blocked(
                    &mut Tally::new(),
                    a,
                    bs,
                    &qkv,
                    &ctx,
                    &lse,
                    &r,
                    &mut dqkv,
                );
                check(
                    &format!("attention {a:?} block {bs}"),
                    &mut qkv,
                    &dqkv,
                    0..n,
                    |q| dot(&r, &fwd(q).1),
                );
            }
        }
    }
}

#[test]
fn attention_is_causal() {
    // Changing the keys and values of later tokens leaves earlier outputs unchanged.
    let a = AttentionShape {
        batch: 1,
        seq: 6,
        heads: 2,
        kv_heads: 1,
        head_dim: 4,
    };
    let w = a.qkv_width();
    let qkv = random(a.seq * w, 10, 1.0);
    let run = |qkv: &[f32]| {
        let mut lse = vec![0.0; a.lse_len()];
        let mut ctx = vec![0.0; a.seq * a.d_model()];
        attention::forward(&mut Tally::new(), a, qkv, &mut lse, &mut ctx);
        ctx
    };
    let before = run(&qkv);
    let mut later = qkv.clone();
    later[3 * w..].iter_mut().for_each(|x| *x += 0.5);
    let after = run(&later);
    let h = a.d_model();
    assert_eq!(
        before[..3 * h],
        after[..3 * h],
        "rows 0..3 attend to the future"
    );
    assert_ne!(before[3 * h..], after[3 * h..]);
}

#[test]
fn cross_entropy_backward_matches_finite_differences() {
    let (rows, classes) = (4, 7);
    let mut z = random(rows * classes, 11, 3.0);
    let targets = [0u32, 6, 3, 3];
    let mut lse = vec![0.0; rows];
    let l = |z: &[f32]| {
        f64::from(loss::forward(
            &mut Tally::new(),
            z,
            classes,
            &targets,
            &mut vec![0.0; rows],
        ))
    };
    loss::forward(&mut Tally::new(), &z, classes, &targets, &mut lse);
    let mut dz = z.clone();
    loss::backward(&mut Tally::new(), &mut dz, classes, &targets, &lse);
    check("cross-entropy", &mut z, &dz, 0..rows * classes, l);
    // The fused kernel a training step runs: the same loss, the gradient left in place.
    let mut fused = z.clone();
    let loss = loss::forward_backward(&mut Tally::new(), &mut fused, classes, &targets);
    assert!((f64::from(loss) - l(&z)).abs() < 1e-6);
    check("fused cross-entropy", &mut z, &fused, 0..rows * classes, l);
    // Hand-computed: uniform logits give ln(classes).
    let flat = vec![0.0f32; classes];
    let v = loss::forward(&mut Tally::new(), &flat, classes, &[2], &mut [0.0]);
    assert!((v - (classes as f32).ln()).abs() < 1e-6);
}

#[test]
fn embedding_backward_matches_finite_differences() {
    let (vocab, width, seq) = (5, 3, 4);
    let tokens = [1u32, 4, 1, 0, 2, 2, 3, 1];
    let mut table = random(vocab * width, 12, 1.0);
    let mut pos = random(seq * width, 13, 1.0);
    let r = random(tokens.len() * width, 14, 1.0);
    let fwd = |t: &[f32], p: &[f32]| {
        let mut x = vec![0.0; tokens.len() * width];
        embedding::forward(&mut Tally::new(), &tokens, t, Some(p), seq, width, &mut x);
        x
    };
    let mut dtable = vec![0.0; vocab * width];
    let mut dpos = vec![0.0; seq * width];
    embedding::backward(
        &mut Tally::new(),
        &tokens,
        &r,
        seq,
        width,
        &mut dtable,
        Some(&mut dpos),
    );
    let p0 = pos.clone();
    check(
        "embedding table",
        &mut table,
        &dtable,
        0..vocab * width,
        |t| dot(&r, &fwd(t, &p0)),
    );
    let t0 = table.clone();
    check(
        "embedding positions",
        &mut pos,
        &dpos,
        0..seq * width,
        |p| dot(&r, &fwd(&t0, p)),
    );
}

#[test]
fn adamw_first_step_matches_hand_computation() {
    // At step 1 the bias-corrected moments are g and g², so the update is
    // w − lr·(g/(|g| + ε) + wd·w).
    let opt = AdamW {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.99,
        eps: 1e-8,
        weight_decay: 0.5,
    };
    let mut slot = Slot::new(vec![1.0, -2.0], true);
    slot.g = vec![0.5, -0.25];
    adamw::update(&mut Tally::new(), &opt, 1, std::iter::once(&mut slot));
    let expect = [1.0 - 0.1 * (1.0 + 0.5), -2.0 - 0.1 * (-1.0 + 0.5 * -2.0)];
    for (w, e) in slot.w.iter().zip(expect) {
        assert!((w - e).abs() < 1e-6, "{w} vs {e}");
    }
}

pub(crate) fn tiny_gpt() -> TransformerShape {
    TransformerShape {
        layers: 2,
        d_model: 16,
        heads: 4,
        kv_heads: 4,
        d_ff: 32,
        vocab: 11,
        seq_len: 6,
        norm: Norm::Layernorm,
        activation: Activation::Gelu,
        positions: Positions::Learned,
        tied_embeddings: true,
    }
}

pub(crate) fn tiny_llama() -> TransformerShape {
    TransformerShape {
        layers: 2,
        d_model: 16,
        heads: 4,
        kv_heads: 2,
        d_ff: 24,
        vocab: 13,
        seq_len: 5,
        norm: Norm::Rmsnorm,
        activation: Activation::Swiglu,
        positions: Positions::None,
        tied_embeddings: false,
    }
}

#[test]
fn whole_transformer_gradients_match_finite_differences() {
    for shape in [tiny_gpt(), tiny_llama()] {
        let batch = 2;
        let mut model = TransformerTrainer::new(&shape, batch, 42);
        // O(1) weights instead of the σ = 0.02 initialisation: then ε = 1e-2 is a small step
        // for every parameter (at σ = 0.02 it is half a standard deviation, and the
        // normalisations make the loss visibly curved over it).
        for (k, slot) in model.slots_mut().iter_mut().enumerate() {
            let n = slot.w.len();
            slot.w = random(n, 100 + k as u64, 0.5);
        }
        let t = batch * shape.seq_len;
        let mut rng = StdRng::seed_from_u64(7);
        let tokens: Vec<u32> = (0..t)
            .map(|_| rng.random_range(0..shape.vocab as u32))
            .collect();
        let targets: Vec<u32> = (0..t)
            .map(|_| rng.random_range(0..shape.vocab as u32))
            .collect();
        model.set_batch(&tokens, &targets);
        let mut tally = Tally::new();
        model.forward(&mut tally);
        model.backward(&mut tally);
        let grads: Vec<Vec<f32>> = model.slots_mut().iter().map(|s| s.g.clone()).collect();
        for (k, g) in grads.iter().enumerate() {
            let mut w = model.slots_mut()[k].w.clone();
            // The mean loss is O(1) and its derivatives small, so the absolute tolerance is
            // tighter here (f32 rounding of the loss, ~1e-6, over 2ε is ~5e-5).
            check_with(
                &format!("{:?} slot {k}", shape.norm),
                2e-4,
                &mut w,
                g,
                sample(g.len()),
                |w| {
                    model.slots_mut()[k].w.copy_from_slice(w);
                    f64::from(model.forward(&mut Tally::new()))
                },
            );
            let w0 = w.clone();
            model.slots_mut()[k].w.copy_from_slice(&w0);
        }
    }
}
