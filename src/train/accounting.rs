//! The executed-FLOP accounting against the analytic plan: a step's tally must equal
//! `workload::plan` per op class — FLOPs, bytes and kernel calls — for hand-picked and random
//! valid architectures (the issue asks for 0.5%; the two agree exactly).

use super::gradcheck::{tiny_gpt, tiny_llama};
use super::{MlpTrainer, TransformerTrainer};
use crate::kernels::Tally;
use crate::ops::OpClass;
use crate::workload::plan::{self, StepPlan};
use crate::workload::{Activation, MlpShape, Norm, Positions, TransformerShape};
use proptest::prelude::*;

fn assert_tally_matches(tally: &Tally, plan: &StepPlan) {
    let by = plan.by_class();
    for class in OpClass::ALL {
        let executed = tally.class(class);
        let planned = by.get(&class).copied().unwrap_or_default();
        assert_eq!(executed.flops, planned.flops, "{class:?} FLOPs");
        assert_eq!(executed.bytes, planned.bytes, "{class:?} bytes");
        assert_eq!(executed.calls, planned.calls, "{class:?} calls");
    }
    assert_eq!(tally.total_flops(), plan.total_flops());
}

fn transformer_matches(shape: &TransformerShape, batch: usize) {
    let mut model = TransformerTrainer::new(shape, batch, 3);
    let mut tally = Tally::new();
    model.next_batch();
    model.step(&mut tally);
    let plan = plan::transformer_step(shape, batch);
    assert_eq!(model.params(), plan.params);
    assert_tally_matches(&tally, &plan);
}

#[test]
fn transformer_step_executes_the_planned_flops() {
    transformer_matches(&tiny_gpt(), 3);
    transformer_matches(&tiny_llama(), 2);
}

#[test]
fn mlp_step_executes_the_planned_flops() {
    for hidden_layers in [1, 3] {
        let shape = MlpShape {
            d_in: 12,
            d_hidden: 20,
            hidden_layers,
            classes: 7,
        };
        let mut model = MlpTrainer::new(&shape, 9, 1);
        let mut tally = Tally::new();
        model.next_batch();
        model.step(&mut tally);
        let plan = plan::mlp_step(&shape, 9);
        assert_eq!(model.params(), plan.params);
        assert_tally_matches(&tally, &plan);
    }
}

fn arb_transformer() -> impl Strategy<Value = (TransformerShape, usize)> {
    (
        1usize..=3,
        1usize..=4,
        1usize..=4,
        1usize..=6,
        1usize..=24,
        2usize..=30,
        1usize..=9,
        1usize..=3,
        any::<[bool; 4]>(),
    )
        .prop_flat_map(
            |(layers, kv_heads, group, head_dim, d_ff, vocab, seq_len, batch, flags)| {
                let heads = kv_heads * group;
                let shape = TransformerShape {
                    layers,
                    d_model: heads * head_dim,
                    heads,
                    kv_heads,
                    d_ff,
                    vocab,
                    seq_len,
                    norm: if flags[0] {
                        Norm::Layernorm
                    } else {
                        Norm::Rmsnorm
                    },
                    activation: if flags[1] {
                        Activation::Gelu
                    } else {
                        Activation::Swiglu
                    },
                    positions: if flags[2] {
                        Positions::Learned
                    } else {
                        Positions::None
                    },
                    tied_embeddings: flags[3],
                };
                Just((shape, batch))
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_transformers_execute_the_planned_flops((shape, batch) in arb_transformer()) {
        transformer_matches(&shape, batch);
    }

    #[test]
    fn random_mlps_execute_the_planned_flops(d_in in 1usize..20, d_hidden in 1usize..20, hidden_layers in 1usize..4, classes in 2usize..12, batch in 1usize..8) {
        let shape = MlpShape { d_in, d_hidden, hidden_layers, classes };
        let mut model = MlpTrainer::new(&shape, batch, 2);
        let mut tally = Tally::new();
        model.next_batch();
    model.step(&mut tally);
        assert_tally_matches(&tally, &plan::mlp_step(&shape, batch));
    }
}

/// A step (whose loss kernel also leaves d(logits), fused) computes the gradients of `forward`
/// then `backward` (separate loss kernels), which the whole-model gradient check compares with
/// finite differences; and on the same batch the same loss. Equal to rounding, not to the bit:
/// the fused kernel computes e^(z − lse) as e^(z − m_b)·e^(m_b − lse), one exp per logit.
#[test]
fn fused_loss_step_gives_the_gradients_of_forward_then_backward() {
    for shape in [tiny_gpt(), tiny_llama()] {
        let mut separate = TransformerTrainer::new(&shape, 2, 9);
        let mut fused = TransformerTrainer::new(&shape, 2, 9);
        separate.next_batch();
        fused.next_batch();
        let mut tally = Tally::new();
        let l1 = separate.forward(&mut tally);
        separate.backward(&mut tally);
        let l2 = fused.step(&mut tally);
        assert!((l1 - l2).abs() <= 1e-6 * l1.abs(), "loss {l1} vs {l2}");
        for (a, b) in separate.slots_mut().iter().zip(fused.slots_mut().iter()) {
            let scale = a.g.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(scale > 0.0);
            for (x, y) in a.g.iter().zip(&b.g) {
                assert!((x - y).abs() <= 1e-4 * scale, "{x} vs {y} (largest {scale})");
            }
        }
    }
}

/// Training a tiny transformer for 30 steps on the successor task (a fixed random permutation
/// of the vocabulary; see `data::SuccessorTask`) lowers the loss from about ln(V) to under
/// half of it.
#[test]
fn tiny_transformer_learns_the_successor_task() {
    for shape in [tiny_gpt(), tiny_llama()] {
        let mut model =
            TransformerTrainer::new(&shape, 8, 5).with_optimizer(crate::kernels::adamw::AdamW {
                lr: 1e-2,
                weight_decay: 0.0,
                ..Default::default()
            });
        let mut tally = Tally::new();
        let losses: Vec<f32> = (0..30)
            .map(|_| {
                model.next_batch();
                model.step(&mut tally)
            })
            .collect();
        let first = losses[0];
        let last = losses[27..].iter().sum::<f32>() / 3.0;
        assert!(
            (first - (shape.vocab as f32).ln()).abs() < 0.3,
            "initial loss {first} is not about ln(V)"
        );
        assert!(
            last < 0.5 * first,
            "{:?}: loss went from {first} to {last}: {losses:?}",
            shape.norm
        );
    }
}
