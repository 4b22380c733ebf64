//! Plain-text summaries of a workload and of what running it measured. Every figure says where
//! it comes from: measured (samples), counted (the kernels' tally) or modelled (the analytic
//! plan, with its formula).

use crate::catalog::Catalog;
use crate::measure::machine::MachineContext;
use crate::measure::probe::Roofline;
use crate::measure::sampler::StopReason;
use crate::model::Assumptions;
use crate::model::estimate::{BreakEven, SensitivityRow};
use crate::model::pricing::Pricing;
use crate::model::verdict::Family;
use crate::render::cost_rows::{Column, CostRow, ENERGY, priced_rows, terminal_table};
use crate::render::escape::term;
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

/// `text` with every line longer than `width` columns broken at spaces; a continuation is
/// indented two columns deeper than its line.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let cont = " ".repeat(indent + 2);
        let mut current = String::new();
        for word in line.trim_start().split(' ') {
            let start = if current.is_empty() {
                " ".repeat(indent)
            } else {
                String::new()
            };
            if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
                out.push_str(&current);
                out.push('\n');
                current = format!("{cont}{word}");
            } else if current.is_empty() {
                current = format!("{start}{word}");
            } else {
                current.push(' ');
                current.push_str(word);
            }
        }
        out.push_str(&current);
        out.push('\n');
    }
    out
}

fn describe_with(w: &Workload, with_slice: bool) -> String {
    wrap(&describe_lines(w, with_slice), 100)
}

fn describe_lines(w: &Workload, with_slice: bool) -> String {
    let mut out = String::new();
    match &w.kind {
        WorkloadKind::Transformer(t) => {
            let (tg, sl) = (&t.target, &t.slice);
            let (total, n) = plan::target_params(t);
            let params = match t.target_moe {
                None => format!("{} parameters", si(n as f64)),
                Some(m) => format!(
                    "{} parameters ({} active: {} experts, top-{}{})",
                    si(total as f64),
                    si(n as f64),
                    m.experts,
                    m.top_k,
                    if m.shared_experts > 0 {
                        format!(", {} shared", m.shared_experts)
                    } else {
                        String::new()
                    }
                ),
            };
            let _ = writeln!(
                out,
                "{} (transformer): {}\n  target: {} layers, d_model {}, {} heads ({} kv), d_ff {}, vocab {}, seq {}; {}; {} tokens in batches of {} sequences",
                term(&w.name),
                term(&w.description),
                tg.layers,
                tg.d_model,
                tg.heads,
                tg.kv_heads,
                tg.d_ff,
                tg.vocab,
                tg.seq_len,
                params,
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
            let dense = plan::transformer_params(tg);
            let palm = (plan::palm_flops_per_token(tg) + 6.0 * (n - dense) as f64)
                * t.target_tokens as f64;
            let _ = writeln!(
                out,
                "  target training FLOPs (modelled): {} by costbench's executed-op formula; 6ND {}; PaLM 6N+12lhs {}",
                units::flop(total),
                units::flop(six),
                units::flop(palm)
            );
        }
        WorkloadKind::Mlp(m) => {
            let _ = writeln!(
                out,
                "{} (mlp): {}\n  target: {} → {} × {} → {}; {} parameters; {} samples in batches of {}\n  slice:  {} → {} × {} → {}; batch {}",
                term(&w.name),
                term(&w.description),
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
                term(&w.name),
                term(&w.description),
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

/// The counted step (`run --counts`): the per-step figures, and how they were counted.
fn counts(c: &crate::measure::counts::Counts) -> String {
    let p = &c.per_step;
    let mut figures = vec![format!("{} instructions", si(p.instructions))];
    if let (Some(refs), Some(d1), Some(ll)) = (p.cache_refs, p.d1_misses, p.ll_misses) {
        figures.push(format!("{} cache references", si(refs)));
        figures.push(format!("{} D1 misses", si(d1)));
        figures.push(format!("{} LL misses", si(ll)));
    }
    let steps: Vec<String> = c.runs.iter().map(|r| r.steps.to_string()).collect();
    let seconds: Vec<String> = c.runs.iter().map(|r| units::seconds(r.seconds)).collect();
    format!(
        "  step counts ({}, {} path, 1 thread): {} per step (the difference of runs of {} steps, \
         which took {} under the tool)\n",
        term(&c.tool_version),
        term(&c.isa),
        figures.join(", "),
        steps.join(" and "),
        seconds.join(" and ")
    )
}

/// What a run measured, read from its report: step time with its interval, executed FLOPs by op
/// class with time, throughput and roofline fraction, and the FLOP accounting check.
pub fn measured(report: &Report) -> String {
    let mut out = String::new();
    let conf = units::percent_to(report.settings.confidence_level, 0);
    match &report.measurement {
        Measurement::Step(m) => {
            let s = &m.step_time_s;
            // The first few times: a fast step runs thousands of warm-up steps.
            let warm: Vec<String> = m
                .warmup_s
                .iter()
                .take(8)
                .map(|t| units::decimal(*t, 3))
                .collect();
            let more = if m.warmup_steps() > warm.len() as u64 {
                " …"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  warm-up: {} steps, {} s each{more} (not in the statistics)",
                m.warmup_steps(),
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
                    term(&c.label).into_owned(),
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
    if let Some(c) = &report.counts {
        out.push_str(&counts(c));
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
                term(&p.size).into_owned(),
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
        term(&machine.cpu_model),
        machine.logical_cores,
        term(&r.measured_at),
        term(&r.fingerprint)
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
    let _ = writeln!(out, "  method: {}", term(&r.method));
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

/// The CPU itself as an option, at the run's measured rate (empty without one).
pub fn cpu_option(p: &Pricing) -> String {
    let mut text = String::new();
    if let Some(b) = &p.cpu_baseline {
        text.push_str(&wrap(
            &format!(
                "  This CPU as an option: {} × {} at this run's {} on {} cores, scaled to {} vCPUs (perfect scaling assumed): {}, {} (on_demand, {}).",
                b.instances,
                b.instance,
                units::gflops(b.measured_gflops),
                b.measured_logical_cores,
                b.instance_vcpus,
                units::wall_clock(b.wall_hours),
                units::usd(b.usd),
                b.price_source
            ),
            100,
        ));
    }
    text
}

/// How many options per vendor the compact table shows.
const BEST_PER_VENDOR: usize = 3;

/// What `estimate` and `run` print of a pricing: the verdict first; then, by default, the best
/// options per vendor in a table that fits 100 columns, a count of what was not priced and the
/// assumptions in one line; with `verbose`, every instance × plan, the not-priced list, every
/// assumption with its source, the ±20% sensitivity and the break-even.
/// The planner's layout of each instance (its options share one), its memory per chip, its
/// step-time breakdown and the runner-up with why it lost (`--verbose`).
pub fn layouts_text(options: &[crate::model::estimate::OptionEstimate]) -> String {
    let mut out = String::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut first = true;
    for o in options {
        let Some(l) = &o.parallel else { continue };
        if !seen.insert(o.instance.clone()) {
            continue;
        }
        if first {
            let _ = writeln!(out, "\nLayouts chosen by the planner (fastest that fits):");
            first = false;
        }
        let s = &o.step;
        let _ = writeln!(
            out,
            "  {} ({} chips, {}): {}",
            o.instance,
            o.chips,
            o.precision.name(),
            l.describe()
        );
        if let Some(m) = &o.memory {
            let _ = writeln!(
                out,
                "    memory per chip {:.1} of {:.1} GB usable; step {:.3} s = compute {:.3} + bubble {:.3} + exposed communication {:.3} (TP {:.3}, PP {:.3}, DP {:.3}, EP {:.3})",
                m.total / 1e9,
                o.layout.usable_bytes / 1e9,
                s.total_s,
                s.compute_s,
                s.bubble_s,
                s.exposed_communication_s,
                s.exposed_tp_s,
                s.exposed_pp_s,
                s.exposed_dp_s,
                s.exposed_ep_s
            );
        }
        if let Some(r) = &o.runner_up {
            let _ = writeln!(
                out,
                "    runner-up: {} ({:.3} s/step), {}",
                r.layout.describe(),
                r.step_s,
                r.reason
            );
        }
    }
    out
}

pub fn pricing(p: &Pricing, assumptions: &Assumptions, catalog: &Catalog, verbose: bool) -> String {
    let mut out = String::new();
    let spreads = p
        .uncertainty
        .as_ref()
        .map(|u| u.simulation.spreads.as_slice());
    if let Some(u) = &p.uncertainty {
        out.push_str(&super::verdict::text(&u.verdict));
        out.push('\n');
    }
    let rows = priced_rows(&p.options, spreads, catalog);
    let by_median = |i: usize| spreads.map_or(p.options[i].usd, |s| s[i].usd.median);
    if verbose {
        let _ = writeln!(
            out,
            "Every option, cheapest median first ({} priced):",
            p.options.len()
        );
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|&a, &b| by_median(a).total_cmp(&by_median(b)));
        let sorted: Vec<CostRow> = order.iter().map(|&i| rows[i].clone()).collect();
        let columns = [
            &[Column::Family, Column::Instance, Column::Plan][..],
            &[Column::Chips, Column::Instances],
            &[Column::UsdInterval, Column::WallInterval, Column::ChipHours],
            &[
                Column::UsdPerMillionTokens,
                Column::ImpliedMfu,
                Column::Layout,
            ],
            &ENERGY,
        ]
        .concat();
        out.push_str(&indented(&terminal_table(&sorted, &columns), "  "));
        out.push_str(&cost_table_notes(p, &rows, assumptions, catalog));
        out.push_str(&layouts_text(&p.options));
        out.push_str(&sensitivity_table(&p.sensitivity));
        if let Some(b) = &p.break_even {
            out.push_str(&break_even_text(b));
        }
    } else {
        let _ = writeln!(
            out,
            "Best options per vendor (of {} priced; --verbose shows every one):",
            p.options.len()
        );
        let mut picked: Vec<usize> = Vec::new();
        for family in [Family::Trainium, Family::Nvidia, Family::Other] {
            let mut mine: Vec<usize> = (0..rows.len())
                .filter(|&i| rows[i].vendor.as_deref().map(Family::of_vendor) == Some(family))
                .collect();
            mine.sort_by(|&a, &b| by_median(a).total_cmp(&by_median(b)));
            picked.extend(mine.into_iter().take(BEST_PER_VENDOR));
        }
        let sorted: Vec<CostRow> = picked.iter().map(|&i| rows[i].clone()).collect();
        let columns = [
            Column::Family,
            Column::Instance,
            Column::Instances,
            Column::Plan,
            Column::UsdInterval,
            Column::WallInterval,
        ];
        let mut table = terminal_table(&sorted, &columns);
        table.set_header([
            "vendor",
            "instance",
            "n",
            "plan",
            "USD (90% interval)",
            "wall-clock (90%)",
        ]);
        // Two columns between cells (the style's blank border and one of padding), none at
        // the edges, so the table fits 100 columns.
        for i in 0..columns.len() {
            if let Some(c) = table.column_mut(i) {
                c.set_padding((0, if i + 1 == columns.len() { 0 } else { 1 }));
            }
        }
        out.push_str(&indented(&table, "  "));
        if !p.skipped.is_empty() {
            let _ = writeln!(
                out,
                "  {} instance × plan pairs not priced (no published price or figure; --verbose lists them).",
                p.skipped.len()
            );
        }
        let _ = write!(
            out,
            "{}",
            wrap(
                &format!(
                    "  Assumptions: {} efficiencies; goodput {}, PUE {}, grid {} kg CO₂/kWh; catalog {} ({}).",
                    p.scenario.name(),
                    units::percent_to(assumptions.goodput.value, 0),
                    units::decimal(assumptions.pue.value, 2),
                    units::decimal(assumptions.grid_kg_co2_per_kwh.value, 3),
                    &catalog.hash()[..12],
                    catalog.as_of()
                ),
                100
            )
        );
        if rows.iter().any(|r| r.changed) {
            let _ = writeln!(
                out,
                "  * price, instance or chip changed by --price or a catalog overlay."
            );
        }
        let _ = writeln!(
            out,
            "  n = instances; 90% interval = 5th–95th percentile of the trials; formulas and sources:\n  docs/cost-model.md, docs/sources.md; every assumption with its source: --verbose."
        );
    }
    out
}

/// The verbose table's notes: what was not priced, each chip's efficiency and where it came
/// from, the assumptions with their sources, the catalog.
fn cost_table_notes(
    p: &Pricing,
    rows: &[CostRow],
    assumptions: &Assumptions,
    catalog: &Catalog,
) -> String {
    let mut out = String::new();
    if rows.iter().any(|r| r.changed) {
        let _ = writeln!(
            out,
            "  * price, instance or chip changed by --price or a catalog overlay"
        );
    }
    let _ = writeln!(
        out,
        "  TP/recompute = tensor-parallel degree / activation recomputation (none, sel = selective, full)"
    );
    if !p.skipped.is_empty() {
        let _ = writeln!(out, "  not priced:");
        for s in &p.skipped {
            let plan = s.plan.map_or(String::new(), |p| format!(" {}", p.as_str()));
            let _ = writeln!(out, "    {}{plan}: {}", s.instance, s.reason);
        }
    }
    let _ = writeln!(out, "  scenario: {}", p.scenario.name());
    let notes: std::collections::BTreeSet<(&str, &str)> = rows
        .iter()
        .map(|r| (r.accelerator.as_str(), r.efficiency.as_str()))
        .collect();
    for (acc, note) in notes {
        let _ = writeln!(out, "    {acc}: {note}");
    }
    if let Some(u) = &p.uncertainty {
        let _ = writeln!(
            out,
            "  uncertainty: {} paired trials (seed {}); each input's range (low–mode–high) and source:",
            units::grouped(u.simulation.trials as f64),
            u.simulation.seed
        );
        let ranges = u
            .inputs
            .efficiency
            .iter()
            .map(|(id, r)| (format!("efficiency of {id} (× nominal)"), r))
            .chain([("goodput".to_string(), &u.inputs.goodput)])
            .chain(
                u.inputs
                    .price
                    .iter()
                    .filter(|(_, r)| !r.is_exact())
                    .map(|(plan, r)| (format!("{} price (× catalog)", plan.as_str()), r)),
            );
        for (name, r) in ranges {
            let _ = writeln!(
                out,
                "    {name}: {}–{}–{} ({})",
                units::decimal(r.low, 3),
                units::decimal(r.mode, 3),
                units::decimal(r.high, 3),
                r.source
            );
        }
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
