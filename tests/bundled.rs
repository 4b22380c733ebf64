//! Every bundled workload's architecture, shrunk to test size (same layers, heads, grouping,
//! norm, activation, positions and tying; small widths), executes exactly the FLOPs of its
//! analytic plan. The full-width slices are checked by `costbench run` itself, which refuses to
//! report a run whose executed FLOPs differ from the plan by more than 0.5%.

use costbench::kernels::Tally;
use costbench::ops::OpClass;
use costbench::train::{MlpTrainer, TransformerTrainer};
use costbench::workload::{WorkloadKind, bundled, plan};

#[test]
fn bundled_architectures_execute_their_planned_flops() {
    for name in bundled::names() {
        let w = bundled::load_bundled_with_memory(name, u64::MAX).expect("bundled workload parses");
        let (tally, planned) = match &w.kind {
            WorkloadKind::Transformer(t) => {
                let mut shape = t.slice.clone();
                shape.d_model = 4 * shape.heads;
                shape.d_ff = 24;
                shape.vocab = 50;
                shape.seq_len = 7;
                let mut model = TransformerTrainer::new(&shape, 2, 1);
                let mut tally = Tally::new();
                model.next_batch();
                model.step(&mut tally);
                (tally, plan::transformer_step(&shape, 2))
            }
            WorkloadKind::Mlp(m) => {
                let mut shape = m.slice.clone();
                shape.d_in = 12;
                shape.d_hidden = 16;
                shape.classes = 10;
                let mut model = MlpTrainer::new(&shape, 5, 1);
                let mut tally = Tally::new();
                model.next_batch();
                model.step(&mut tally);
                (tally, plan::mlp_step(&shape, 5))
            }
            WorkloadKind::Gemm(_) => continue,
        };
        let by = planned.by_class();
        for class in OpClass::ALL {
            let want = by.get(&class).map_or(0, |c| c.flops);
            assert_eq!(tally.class(class).flops, want, "{name}: {class:?}");
        }
    }
}
