//! Workload files (`costbench check FILE`): arbitrary text never panics, never allocates in
//! proportion to the sizes it names, and any error is one line naming the file. A workload that
//! validates must be safe to plan: the summary `check` prints and the step plans `run` builds
//! must not overflow (the fuzz build has overflow checks on).
#![no_main]

use costbench::workload::parse::parse_workload_with_memory;
use costbench::workload::{WorkloadKind, plan};
use libfuzzer_sys::fuzz_target;

/// Fixed available-memory figures, so results do not depend on the machine the fuzzer runs on:
/// 24 GiB (this project's machines), and `u64::MAX`, which is what `parse_workload` uses when
/// the machine's memory cannot be read (the memory check then bounds nothing).
const AVAILABLE: [u64; 2] = [24 << 30, u64::MAX];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for available in AVAILABLE {
        check(text, available);
    }
});

fn check(text: &str, available: u64) {
    match parse_workload_with_memory(text, "fuzz.toml", available) {
        Err(e) => {
            let shown = e.to_string();
            assert!(!shown.contains('\n'), "error not on one line: {shown:?}");
            assert!(
                shown.starts_with("fuzz.toml"),
                "error without its file: {shown:?}"
            );
        }
        Ok(w) => {
            // What `costbench check` prints.
            let _ = costbench::render::summary::describe(&w);
            let needed = plan::slice_memory_bytes(&w);
            assert!(
                needed <= available,
                "accepted a slice needing {needed} bytes with {available} available"
            );
            // What `costbench run` plans before it measures.
            match &w.kind {
                WorkloadKind::Transformer(t) => {
                    let step = plan::transformer_step(&t.slice, t.slice_batch);
                    let _ = (step.total_flops(), step.total_bytes(), step.by_class());
                    let _ = plan::target_training_flops(t);
                }
                WorkloadKind::Mlp(m) => {
                    let step = plan::mlp_step(&m.slice, m.slice_batch);
                    let _ = (step.total_flops(), step.total_bytes(), step.by_class());
                    let _ = plan::mlp_step(&m.target, m.target_batch).total_flops();
                }
                WorkloadKind::Gemm(g) => {
                    for &d in &g.dtypes {
                        let step = plan::gemm_sweep_step(g, d);
                        let _ = (step.total_flops(), step.total_bytes(), step.by_class());
                    }
                }
            }
        }
    }
}
