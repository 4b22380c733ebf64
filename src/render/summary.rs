//! Plain-text summaries of a workload and of what running it measured. Every figure says where
//! it comes from: measured (samples), counted (the kernels' tally) or modelled (the analytic
//! plan, with its formula).

use crate::catalog::Catalog;
use crate::measure::machine::MachineContext;
use crate::measure::probe::Roofline;
use crate::measure::sampler::StopReason;
use crate::model::Assumptions;
use crate::model::estimate::{
    BreakEven, ClusterSize, OptionEstimate, Scenario, SensitivityRow, Skipped,
};
use crate::model::memory::Recompute;
use crate::model::pricing::Pricing;
use crate::report::schema::{Measurement, Report};
use crate::stats::Estimate;
use crate::workload::plan;
use crate::workload::{Workload, WorkloadKind};
use std::fmt::Write;

/// `x` with an SI prefix (k, M, G, T, P, E, Z, Y) and three decimals.
pub fn si(x: f64) -> String {
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

/// `1 layer`, `2 layers`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// What the workload is: the target the cost is for and the slice run here.
pub fn describe(w: &Workload) -> String {
    describe_with(w, true)
}

/// [`describe`] without the slice, for an estimate (nothing is run).
pub fn describe_target(w: &Workload) -> String {
    describe_with(w, false)
}

fn describe_with(w: &Workload, with_slice: bool) -> String {
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
            if with_slice {
                let _ = writeln!(
                    out,
                    "  slice:  {}, d_model {}, {} heads ({} kv), d_ff {}, vocab {}; {} × {} tokens per step; {} parameters",
                    count(sl.layers, "layer"),
                    sl.d_model,
                    sl.heads,
                    sl.kv_heads,
                    sl.d_ff,
                    sl.vocab,
                    count(t.slice_batch, "sequence"),
                    sl.seq_len,
                    si(plan::transformer_params(sl) as f64)
                );
            }
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

/// `point [lower, upper]` of an estimate in seconds, with the half-width in per cent.
fn interval_s(e: &Estimate) -> String {
    format!(
        "{} [{} – {}] ±{:.2}%",
        seconds(e.point),
        seconds(e.lower),
        seconds(e.upper),
        e.relative_half_width() * 100.0
    )
}

fn stop_text(stop: StopReason) -> &'static str {
    match stop {
        StopReason::TargetReached => "target precision reached",
        StopReason::TimeBudget => "time budget spent",
        StopReason::SampleCap => "sample cap reached",
        StopReason::Interrupted => "interrupted",
    }
}

/// What a run measured, read from its report: step time with its interval, executed FLOPs by op
/// class with time, throughput and roofline fraction, and the FLOP accounting check.
pub fn measured(report: &Report) -> String {
    let mut out = String::new();
    let conf = report.settings.confidence_level * 100.0;
    match &report.measurement {
        Measurement::Step(m) => {
            let s = &m.step_time_s;
            let warm: Vec<String> = m.warmup_s.iter().map(|t| format!("{t:.3}")).collect();
            let _ = writeln!(
                out,
                "  warm-up: {} steps, {} s each (not in the statistics)",
                m.warmup_s.len(),
                warm.join(" ")
            );
            let _ = writeln!(
                out,
                "  step time (measured): median {} ({conf:.0}% bootstrap CI); mean {}; σ {}; MAD {}; min {}; max {}",
                interval_s(&s.median),
                seconds(s.mean.point),
                seconds(s.std_dev),
                seconds(s.mad),
                seconds(s.min),
                seconds(s.max)
            );
            let _ = writeln!(
                out,
                "  samples: {} ({}); outliers: {} (Tukey; kept)",
                s.n,
                stop_text(m.stop),
                s.outliers.total()
            );
            if let (Some(first), Some(last)) = (m.losses.first(), m.losses.last()) {
                let _ = writeln!(out, "  loss: {first:.4} → {last:.4} over the sampled steps");
            }
            let executed = m.flops.executed_per_step;
            let _ = writeln!(
                out,
                "  {:<11} {:>12} {:>7} {:>11} {:>10} {:>9} {:>10}",
                "op class", "FLOPs/step", "share", "median", "GFLOP/s", "FLOP/B", "roofline"
            );
            for c in &m.op_classes {
                let roof = c
                    .roofline_fraction
                    .map_or("-".to_string(), |f| format!("{:.1}%", f.point * 100.0));
                let _ = writeln!(
                    out,
                    "  {:<11} {:>12} {:>6.2}% {:>11} {:>10.1} {:>9.2} {:>10}",
                    c.class.name(),
                    si(c.flops as f64),
                    100.0 * c.flops as f64 / executed.max(1) as f64,
                    seconds(c.time_s.median.point),
                    c.gflops.point,
                    c.arithmetic_intensity,
                    roof
                );
            }
            let _ = writeln!(
                out,
                "  {:<11} {:>12} {:>7} {:>11} {:>10.1}   whole step [{:.1} – {:.1}]",
                "total",
                si(executed as f64),
                "",
                seconds(s.median.point),
                m.gflops.point,
                m.gflops.lower,
                m.gflops.upper
            );
            let _ = writeln!(
                out,
                "  executed FLOPs {} vs analytic formula {}: difference {:.4}%",
                m.flops.executed_per_step,
                m.flops.analytic_per_step,
                m.flops.relative_difference * 100.0
            );
        }
        Measurement::Sweep(sw) => {
            let _ = writeln!(
                out,
                "  each product sampled on its own; median time with its {conf:.0}% bootstrap CI"
            );
            let _ = writeln!(
                out,
                "  {:<44} {:>10} {:>30} {:>9} {:>9} {:>9}",
                "product", "FLOPs", "median time", "GFLOP/s", "samples", "roofline"
            );
            for c in &sw.cases {
                let roof = c
                    .roofline_fraction
                    .map_or("-".to_string(), |f| format!("{:.1}%", f.point * 100.0));
                let _ = writeln!(
                    out,
                    "  {:<44} {:>10} {:>30} {:>9.1} {:>9} {:>9}",
                    c.label,
                    si(c.flops as f64),
                    interval_s(&c.time_s.median),
                    c.gflops.point,
                    c.time_s.n,
                    roof
                );
            }
        }
    }
    if let Some(sc) = &report.scaling {
        let _ = writeln!(
            out,
            "  scaling check: time = a + b·FLOPs over {} sizes",
            sc.points.len()
        );
        for p in &sc.points {
            let _ = writeln!(
                out,
                "    {:<12} {:>12} FLOPs  median {}",
                p.size,
                si(p.flops as f64),
                seconds(p.median_s)
            );
        }
        let _ = writeln!(
            out,
            "    a = {}, 1/b = {:.1} GFLOP/s (marginal rate), R² = {:.5}{}",
            seconds(sc.intercept_s),
            sc.marginal_gflops,
            sc.r_squared,
            if sc.warning().is_some() {
                " — poor fit"
            } else {
                ""
            }
        );
    }
    out
}

/// This machine's measured roofline.
pub fn roofline(r: &Roofline, machine: &MachineContext) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({} logical cores), measured {} (fingerprint {})",
        machine.cpu_model, machine.logical_cores, r.measured_at, r.fingerprint
    );
    let _ = writeln!(
        out,
        "  {:<26} {:>12} {:>12}",
        "",
        "1 thread",
        format!("{} threads", r.threads)
    );
    let rows = [
        (
            "f32 FMA peak, GFLOP/s",
            &r.f32_gflops_one_thread,
            &r.f32_gflops_all_threads,
        ),
        (
            "f64 FMA peak, GFLOP/s",
            &r.f64_gflops_one_thread,
            &r.f64_gflops_all_threads,
        ),
        (
            "triad bandwidth, GB/s",
            &r.triad_gbps_one_thread,
            &r.triad_gbps_all_threads,
        ),
    ];
    for (name, one, all) in rows {
        let _ = writeln!(
            out,
            "  {name:<26} {:>12.1} {:>12.1}",
            one.median, all.median
        );
    }
    let ridge = r.f32_gflops_all_threads.median / r.triad_gbps_all_threads.median;
    let _ = writeln!(
        out,
        "  ridge point: {ridge:.1} FLOP/byte (f32); medians of {} samples each",
        r.f32_gflops_all_threads.samples.len()
    );
    let _ = writeln!(out, "  method: {}", r.method);
    out
}

/// The cost table of an estimate: every priced option, cheapest first, then what was skipped
/// and why, then the assumptions behind the figures.
pub fn cost_table(
    options: &[OptionEstimate],
    skipped: &[Skipped],
    scenario: &Scenario,
    assumptions: &Assumptions,
    catalog: &Catalog,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<18} {:<15} {:>6} {:>9} {:>11} {:>13} {:>9} {:>6} {:>6} {:>10} {:>9}",
        "instance",
        "plan",
        "chips",
        "days",
        "chip-hours",
        "USD",
        "$/Mtok",
        "MFU",
        "TP/rc",
        "kWh",
        "t CO2"
    );
    for o in options {
        let rc = match o.layout.recompute {
            Recompute::None => "-",
            Recompute::Selective => "sel",
            Recompute::Full => "full",
        };
        let _ = writeln!(
            out,
            "  {:<18} {:<15} {:>6} {:>9.1} {:>11} {:>13} {:>9.3} {:>5.1}% {:>6} {:>10} {:>9}",
            o.instance,
            o.plan.as_str(),
            o.chips,
            o.wall_hours / 24.0,
            si(o.chip_hours),
            format!("${}", si(o.usd)),
            o.usd_per_million_tokens,
            o.implied_mfu * 100.0,
            format!("{}/{rc}", o.layout.tensor_parallel),
            o.energy_kwh.map_or("n/p".to_string(), si),
            o.kg_co2
                .map_or("n/p".to_string(), |k| format!("{:.1}", k / 1000.0)),
        );
    }
    if !skipped.is_empty() {
        let _ = writeln!(out, "  not priced:");
        for s in skipped {
            let plan = s.plan.map_or(String::new(), |p| format!(" {}", p.as_str()));
            let _ = writeln!(out, "    {}{plan}: {}", s.instance, s.reason);
        }
    }
    let _ = writeln!(out, "  scenario: {}", scenario.name());
    let notes: std::collections::BTreeSet<(&str, &str)> = options
        .iter()
        .map(|o| (o.accelerator.as_str(), o.efficiency_note.as_str()))
        .collect();
    for (acc, note) in notes {
        let _ = writeln!(out, "    {acc}: {note}");
    }
    let _ = writeln!(
        out,
        "  goodput {:.0}% ({}); PUE {:.2} ({}); grid {:.3} kg CO2/kWh ({}); n/p = chip power not published",
        assumptions.goodput.value * 100.0,
        assumptions.goodput.source,
        assumptions.pue.value,
        assumptions.pue.source,
        assumptions.grid_kg_co2_per_kwh.value,
        assumptions.grid_kg_co2_per_kwh.source
    );
    let _ = writeln!(
        out,
        "  catalog {} as of {}; formulas: docs/cost-model.md",
        &catalog.hash()[..12],
        catalog.as_of()
    );
    out
}

/// The ±20% sensitivity table.
pub fn sensitivity_table(rows: &[SensitivityRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  sensitivity (USD; efficiency = every compute and memory efficiency, price = the plan's price):"
    );
    let _ = writeln!(
        out,
        "    {:<18} {:<15} {:>11} {:>11} {:>11} {:>11} {:>11}",
        "instance", "plan", "base", "eff −20%", "eff +20%", "price −20%", "price +20%"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "    {:<18} {:<15} {:>11} {:>11} {:>11} {:>11} {:>11}",
            r.instance,
            r.plan.as_str(),
            format!("${}", si(r.usd)),
            format!("${}", si(r.usd_efficiency_minus_20)),
            format!("${}", si(r.usd_efficiency_plus_20)),
            format!("${}", si(r.usd_price_minus_20)),
            format!("${}", si(r.usd_price_plus_20)),
        );
    }
    out
}

/// The break-even lines between the best NVIDIA and the best Trainium option.
pub fn break_even_text(b: &BreakEven) -> String {
    let factor = |f: f64| {
        if f.is_finite() {
            format!("×{f:.2}")
        } else {
            "out of reach (it would need more than 100% of peak)".to_string()
        }
    };
    format!(
        "  break-even: best NVIDIA {} {} ${} vs best Trainium {} {} ${}\n    NVIDIA ties at efficiency {} or at ${:.2}/h (now ${:.2}/h)\n    Trainium ties at efficiency {} or at ${:.2}/h (now ${:.2}/h)\n",
        b.nvidia.instance,
        b.nvidia.plan.as_str(),
        si(b.nvidia.usd),
        b.trainium.instance,
        b.trainium.plan.as_str(),
        si(b.trainium.usd),
        factor(b.nvidia_efficiency_factor),
        b.nvidia_tie_usd_per_hour,
        b.nvidia.usd_per_instance_hour,
        factor(b.trainium_efficiency_factor),
        b.trainium_tie_usd_per_hour,
        b.trainium.usd_per_instance_hour,
    )
}

/// What `costbench run` prints after a measured transformer: the target's cost on every option
/// under the run's scenario, then the CPU itself as an option.
pub fn run_cost(p: &Pricing, assumptions: &Assumptions, catalog: &Catalog) -> String {
    let mut text = format!(
        "  cost of the target on every option ({} scenario, {}):\n",
        p.scenario.name(),
        match p.size {
            ClusterSize::DeadlineDays(d) => format!("finishing within {d} days"),
            ClusterSize::Chips(n) => format!("{n} chips"),
        }
    );
    text.push_str(&cost_table(
        &p.options,
        &p.skipped,
        &p.scenario,
        assumptions,
        catalog,
    ));
    if let Some(b) = &p.cpu_baseline {
        text.push_str(&format!(
            "  CPU baseline: {} × {} at this run's {:.1} GFLOP/s per {} cores scaled to {} vCPUs: {:.0} days, ${} (on_demand {}; assumes perfect scaling)\n",
            b.instances,
            b.instance,
            b.measured_gflops,
            b.measured_logical_cores,
            b.instance_vcpus,
            b.wall_hours / 24.0,
            si(b.usd),
            b.price_source
        ));
    }
    text
}
