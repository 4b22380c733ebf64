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
use crate::model::pricing::Pricing;
use crate::render::cost_rows::{Column, ENERGY, RUN, cost_rows, terminal_table};
use crate::render::table::{align_right, indented, ruled};
use crate::report::schema::{Measurement, Report};
use crate::stats::Estimate;
use crate::units::{self, MISSING, si};
use crate::workload::plan;
use crate::workload::{Workload, WorkloadKind};
use std::fmt::Write;

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

/// `point [lower – upper] ±half-width` of an estimate in seconds.
fn interval_s(e: &Estimate) -> String {
    format!(
        "{} [{} – {}] {}",
        units::seconds(e.point),
        units::seconds(e.lower),
        units::seconds(e.upper),
        units::plus_minus(e.relative_half_width())
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

/// A roofline fraction, or [`MISSING`] without a roofline.
fn roofline_text(f: Option<&Estimate>) -> String {
    f.map_or(MISSING.to_string(), |f| units::percent(f.point))
}

/// What a run measured, read from its report: step time with its interval, executed FLOPs by op
/// class with time, throughput and roofline fraction, and the FLOP accounting check.
pub fn measured(report: &Report) -> String {
    let mut out = String::new();
    let conf = units::percent_to(report.settings.confidence_level, 0);
    match &report.measurement {
        Measurement::Step(m) => {
            let s = &m.step_time_s;
            let warm: Vec<String> = m.warmup_s.iter().map(|t| units::decimal(*t, 3)).collect();
            let _ = writeln!(
                out,
                "  warm-up: {} steps, {} s each (not in the statistics)",
                m.warmup_s.len(),
                warm.join(" ")
            );
            let _ = writeln!(
                out,
                "  step time (measured): median {} ({conf} bootstrap CI); mean {}; σ {}; MAD {}; min {}; max {}",
                interval_s(&s.median),
                units::seconds(s.mean.point),
                units::seconds(s.std_dev),
                units::seconds(s.mad),
                units::seconds(s.min),
                units::seconds(s.max)
            );
            let _ = writeln!(
                out,
                "  samples: {} ({}); outliers: {} (Tukey; kept)",
                s.n,
                stop_text(m.stop),
                s.outliers.total()
            );
            if let (Some(first), Some(last)) = (m.losses.first(), m.losses.last()) {
                let _ = writeln!(
                    out,
                    "  loss: {} → {} over the sampled steps",
                    units::decimal(f64::from(*first), 4),
                    units::decimal(f64::from(*last), 4)
                );
            }
            let executed = m.flops.executed_per_step;
            let mut t = ruled(
                &[
                    "op class",
                    "FLOPs/step",
                    "share",
                    "median",
                    "GFLOP/s",
                    "FLOP/B",
                    "roofline",
                ],
                false,
            );
            for c in &m.op_classes {
                t.add_row(vec![
                    c.class.name().to_string(),
                    si(c.flops as f64),
                    units::percent(c.flops as f64 / executed.max(1) as f64),
                    units::seconds(c.time_s.median.point),
                    units::decimal(c.gflops.point, 1),
                    units::intensity(c.arithmetic_intensity),
                    roofline_text(c.roofline_fraction.as_ref()),
                ]);
            }
            t.add_row(vec![
                "total".to_string(),
                si(executed as f64),
                String::new(),
                units::seconds(s.median.point),
                units::decimal(m.gflops.point, 1),
                String::new(),
                String::new(),
            ]);
            align_right(&mut t, &[1, 2, 3, 4, 5, 6]);
            out.push_str(&indented(&t, "  "));
            let _ = writeln!(
                out,
                "  whole step: {} [{} – {}]",
                units::gflops(m.gflops.point),
                units::decimal(m.gflops.lower, 1),
                units::decimal(m.gflops.upper, 1)
            );
            let _ = writeln!(
                out,
                "  executed FLOPs {} vs analytic formula {}: difference {}",
                m.flops.executed_per_step,
                m.flops.analytic_per_step,
                units::percent_to(m.flops.relative_difference, 4)
            );
        }
        Measurement::Sweep(sw) => {
            let _ = writeln!(
                out,
                "  each product sampled on its own; median time with its {conf} bootstrap CI"
            );
            let mut t = ruled(
                &[
                    "product",
                    "FLOPs",
                    "median time",
                    "GFLOP/s",
                    "samples",
                    "roofline",
                ],
                false,
            );
            for c in &sw.cases {
                t.add_row(vec![
                    c.label.clone(),
                    si(c.flops as f64),
                    interval_s(&c.time_s.median),
                    units::decimal(c.gflops.point, 1),
                    c.time_s.n.to_string(),
                    roofline_text(c.roofline_fraction.as_ref()),
                ]);
            }
            align_right(&mut t, &[1, 2, 3, 4, 5]);
            out.push_str(&indented(&t, "  "));
        }
    }
    if let Some(sc) = &report.scaling {
        let _ = writeln!(
            out,
            "  scaling check: time = a + b·FLOPs over {} sizes",
            sc.points.len()
        );
        let mut t = ruled(&["size", "FLOPs", "median"], false);
        for p in &sc.points {
            t.add_row(vec![
                p.size.clone(),
                si(p.flops as f64),
                units::seconds(p.median_s),
            ]);
        }
        align_right(&mut t, &[1, 2]);
        out.push_str(&indented(&t, "    "));
        let _ = writeln!(
            out,
            "    a = {}, 1/b = {} (marginal rate), R² = {}{}",
            units::seconds(sc.intercept_s),
            units::gflops(sc.marginal_gflops),
            units::decimal(sc.r_squared, 5),
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
    let all = format!("{} threads", r.threads);
    let mut t = ruled(&["", "1 thread", &all], false);
    for (name, one, every) in [
        (
            "f32 FMA peak",
            &r.f32_gflops_one_thread,
            &r.f32_gflops_all_threads,
        ),
        (
            "f64 FMA peak",
            &r.f64_gflops_one_thread,
            &r.f64_gflops_all_threads,
        ),
    ] {
        t.add_row(vec![
            name.to_string(),
            units::gflops(one.median),
            units::gflops(every.median),
        ]);
    }
    t.add_row(vec![
        "triad bandwidth".to_string(),
        units::bandwidth(r.triad_gbps_one_thread.median * 1e9),
        units::bandwidth(r.triad_gbps_all_threads.median * 1e9),
    ]);
    align_right(&mut t, &[1, 2]);
    out.push_str(&indented(&t, "  "));
    let ridge = r.f32_gflops_all_threads.median / r.triad_gbps_all_threads.median;
    let _ = writeln!(
        out,
        "  ridge point: {} FLOP/byte (f32); medians of {} samples each",
        units::intensity(ridge),
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
    let rows = cost_rows(options, catalog);
    let columns = [
        &[Column::Instance, Column::Plan][..],
        &RUN,
        &[Column::Layout],
        &ENERGY,
    ]
    .concat();
    let mut out = indented(&terminal_table(&rows, &columns), "  ");
    if !skipped.is_empty() {
        let _ = writeln!(out, "  not priced:");
        for s in skipped {
            let plan = s.plan.map_or(String::new(), |p| format!(" {}", p.as_str()));
            let _ = writeln!(out, "    {}{plan}: {}", s.instance, s.reason);
        }
    }
    let _ = writeln!(out, "  scenario: {}", scenario.name());
    let notes: std::collections::BTreeSet<(&str, &str)> = rows
        .iter()
        .map(|r| (r.accelerator.as_str(), r.efficiency.as_str()))
        .collect();
    for (acc, note) in notes {
        let _ = writeln!(out, "    {acc}: {note}");
    }
    let _ = writeln!(
        out,
        "  goodput {} ({}); PUE {} ({}); grid {} kg CO2/kWh ({}); {MISSING} in kWh and t CO₂ = chip power not published",
        units::percent_to(assumptions.goodput.value, 0),
        assumptions.goodput.source,
        units::decimal(assumptions.pue.value, 2),
        assumptions.pue.source,
        units::decimal(assumptions.grid_kg_co2_per_kwh.value, 3),
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
    let mut out = String::from(
        "  sensitivity (USD; efficiency = every compute and memory efficiency, price = the plan's price):\n",
    );
    let mut t = ruled(
        &[
            "instance",
            "plan",
            "base",
            "eff −20%",
            "eff +20%",
            "price −20%",
            "price +20%",
        ],
        false,
    );
    for r in rows {
        t.add_row(vec![
            r.instance.clone(),
            r.plan.as_str().to_string(),
            units::usd(r.usd),
            units::usd(r.usd_efficiency_minus_20),
            units::usd(r.usd_efficiency_plus_20),
            units::usd(r.usd_price_minus_20),
            units::usd(r.usd_price_plus_20),
        ]);
    }
    align_right(&mut t, &[2, 3, 4, 5, 6]);
    out.push_str(&indented(&t, "    "));
    out
}

/// The break-even lines between the best NVIDIA and the best Trainium option.
pub fn break_even_text(b: &BreakEven) -> String {
    let factor = |f: f64| {
        if f.is_finite() {
            format!("×{}", units::decimal(f, 2))
        } else {
            "out of reach (it would need more than 100% of peak)".to_string()
        }
    };
    format!(
        "  break-even: best NVIDIA {} {} {} vs best Trainium {} {} {}\n    NVIDIA ties at efficiency {} or at {}/h (now {}/h)\n    Trainium ties at efficiency {} or at {}/h (now {}/h)\n",
        b.nvidia.instance,
        b.nvidia.plan.as_str(),
        units::usd(b.nvidia.usd),
        b.trainium.instance,
        b.trainium.plan.as_str(),
        units::usd(b.trainium.usd),
        factor(b.nvidia_efficiency_factor),
        units::usd(b.nvidia_tie_usd_per_hour),
        units::usd(b.nvidia.usd_per_instance_hour),
        factor(b.trainium_efficiency_factor),
        units::usd(b.trainium_tie_usd_per_hour),
        units::usd(b.trainium.usd_per_instance_hour),
    )
}

/// What `costbench run` prints after a measured transformer: the target's cost on every option
/// under the run's scenario, then the CPU itself as an option.
pub fn run_cost(p: &Pricing, assumptions: &Assumptions, catalog: &Catalog) -> String {
    let mut text = format!(
        "  cost of the target on every option ({} scenario, {}):\n",
        p.scenario.name(),
        match p.size {
            ClusterSize::DeadlineDays(d) => format!("finishing within {} days", units::plain(d)),
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
            "  CPU baseline: {} × {} at this run's {} per {} cores scaled to {} vCPUs: {}, {} (on_demand {}; assumes perfect scaling)\n",
            b.instances,
            b.instance,
            units::gflops(b.measured_gflops),
            b.measured_logical_cores,
            b.instance_vcpus,
            units::days(b.wall_hours / 24.0),
            units::usd(b.usd),
            b.price_source
        ));
    }
    text
}
