//! Plain-text summaries of a workload and of what running it measured. Every figure says where
//! it comes from: measured (samples), counted (the kernels' tally) or modelled (the analytic
//! plan, with its formula).

use crate::execute::{Outcome, class_medians, median};
use crate::workload::plan::{self, StepPlan};
use crate::workload::{Workload, WorkloadKind};
use std::fmt::Write;

fn si(x: f64) -> String {
    let (v, unit) = match x.abs() {
        a if a >= 1e24 => (x / 1e24, "Y"),
        a if a >= 1e21 => (x / 1e21, "Z"),
        a if a >= 1e18 => (x / 1e18, "E"),
        a if a >= 1e15 => (x / 1e15, "P"),
        a if a >= 1e12 => (x / 1e12, "T"),
        a if a >= 1e9 => (x / 1e9, "G"),
        a if a >= 1e6 => (x / 1e6, "M"),
        a if a >= 1e3 => (x / 1e3, "k"),
        _ => (x, ""),
    };
    format!("{v:.3}{unit}")
}

fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else {
        format!("{:.2} ms", s * 1e3)
    }
}

/// What the workload is: the target the cost is for and the slice run here.
pub fn describe(w: &Workload) -> String {
    let mut out = String::new();
    match &w.kind {
        WorkloadKind::Transformer(t) => {
            let (tg, sl) = (&t.target, &t.slice);
            let n = plan::transformer_params(tg);
            let _ = writeln!(
                out,
                "{} (transformer): {}\n  target: {} layers, d_model {}, {} heads ({} kv), d_ff {}, vocab {}, seq {}; {} parameters; {} tokens in batches of {} sequences",
                w.name,
                w.description,
                tg.layers,
                tg.d_model,
                tg.heads,
                tg.kv_heads,
                tg.d_ff,
                tg.vocab,
                tg.seq_len,
                si(n as f64),
                si(t.target_tokens as f64),
                t.target_batch
            );
            let _ = writeln!(
                out,
                "  slice:  {} layers, d_model {}, {} heads ({} kv), d_ff {}, vocab {}; {} sequences × {} tokens per step; {} parameters",
                sl.layers,
                sl.d_model,
                sl.heads,
                sl.kv_heads,
                sl.d_ff,
                sl.vocab,
                t.slice_batch,
                sl.seq_len,
                si(plan::transformer_params(sl) as f64)
            );
            let total = plan::target_training_flops(t);
            let six = plan::six_nd(n, t.target_tokens);
            let palm = plan::palm_flops_per_token(tg) * t.target_tokens as f64;
            let _ = writeln!(
                out,
                "  target training FLOPs (modelled): {} by costbench's executed-op formula; 6ND {}; PaLM 6N+12lhs {}",
                si(total),
                si(six),
                si(palm)
            );
        }
        WorkloadKind::Mlp(m) => {
            let _ = writeln!(
                out,
                "{} (mlp): {}\n  target: {} → {} × {} → {}; {} parameters; {} samples in batches of {}\n  slice:  {} → {} × {} → {}; batch {}",
                w.name,
                w.description,
                m.target.d_in,
                m.target.d_hidden,
                m.target.hidden_layers,
                m.target.classes,
                si(plan::mlp_params(&m.target) as f64),
                si(m.target_samples as f64),
                m.target_batch,
                m.slice.d_in,
                m.slice.d_hidden,
                m.slice.hidden_layers,
                m.slice.classes,
                m.slice_batch
            );
        }
        WorkloadKind::Gemm(g) => {
            let dtypes: Vec<&str> = g.dtypes.iter().map(|d| d.name()).collect();
            let _ = writeln!(
                out,
                "{} (gemm): {}\n  {} shapes in {}",
                w.name,
                w.description,
                g.shapes.len(),
                dtypes.join(", ")
            );
        }
    }
    out
}

/// The measurement: step time, executed FLOPs by op class, achieved GFLOP/s, and the check of
/// executed against analytic FLOPs.
pub fn measured(outcome: &Outcome) -> String {
    let mut out = String::new();
    match outcome {
        Outcome::Steps {
            plan,
            warmup_seconds,
            samples,
        } => {
            let secs: Vec<f64> = samples.iter().map(|s| s.seconds).collect();
            let med = median(&secs);
            let min = secs.iter().copied().fold(f64::INFINITY, f64::min);
            let max = secs.iter().copied().fold(0.0, f64::max);
            let list: Vec<String> = secs.iter().map(|s| format!("{:.4}", s)).collect();
            let _ = writeln!(
                out,
                "  warm-up: 1 step, {} (not counted)",
                seconds(*warmup_seconds)
            );
            let _ = writeln!(
                out,
                "  step time (measured, {} steps): median {}, min {}, max {}; samples [s]: {}",
                secs.len(),
                seconds(med),
                seconds(min),
                seconds(max),
                list.join(" ")
            );
            if let (Some(first), Some(last)) = (
                samples.first().and_then(|s| s.loss),
                samples.last().and_then(|s| s.loss),
            ) {
                let _ = writeln!(out, "  loss: {first:.4} → {last:.4} over the timed steps");
            }
            let executed = samples[0].tally.total_flops();
            let _ = writeln!(
                out,
                "  {:<11} {:>12} {:>7} {:>12} {:>10}",
                "op class", "FLOPs/step", "share", "time/step", "GFLOP/s"
            );
            for (class, flops, t) in class_medians(samples) {
                let rate = if t > 0.0 { flops as f64 / t / 1e9 } else { 0.0 };
                let _ = writeln!(
                    out,
                    "  {:<11} {:>12} {:>6.2}% {:>12} {:>10.1}",
                    class.name(),
                    si(flops as f64),
                    100.0 * flops as f64 / executed as f64,
                    seconds(t),
                    rate
                );
            }
            let _ = writeln!(
                out,
                "  {:<11} {:>12} {:>7} {:>12} {:>10.1}   (whole step, median)",
                "total",
                si(executed as f64),
                "",
                seconds(med),
                executed as f64 / med / 1e9
            );
            out.push_str(&accounting_line(plan, executed));
        }
        Outcome::Sweep { cases } => {
            let _ = writeln!(
                out,
                "  {:<44} {:>12} {:>12} {:>10}",
                "product", "FLOPs", "median", "GFLOP/s"
            );
            for c in cases {
                let med = median(&c.seconds);
                let _ = writeln!(
                    out,
                    "  {:<44} {:>12} {:>12} {:>10.1}",
                    c.label,
                    si(c.flops as f64),
                    seconds(med),
                    c.flops as f64 / med / 1e9
                );
            }
            let n = cases.first().map_or(0, |c| c.seconds.len());
            let _ = writeln!(
                out,
                "  (median of {n} timed runs per product after one warm-up run)"
            );
        }
    }
    out
}

/// Executed (counted) against analytic (planned) FLOPs, with the relative difference.
fn accounting_line(plan: &StepPlan, executed: u64) -> String {
    let analytic = plan.total_flops();
    let diff = (executed as f64 - analytic as f64) / analytic as f64 * 100.0;
    format!(
        "  executed FLOPs {} vs analytic formula {}: difference {:.4}%\n",
        executed, analytic, diff
    )
}
