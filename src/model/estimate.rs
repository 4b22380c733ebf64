//! Estimates of one training run on one catalog option: cluster size, wall-clock hours,
//! chip-hours, dollars per pricing plan, dollars per million tokens, implied MFU, energy and CO₂.

pub use super::efficiency::{Efficiency, Precision, Scenario, efficiency as chip_efficiency};
use super::layout::{self, Layout, Objective, RunnerUp, Target};
use super::memory::{LayoutMemory, MemoryPlan, USABLE_HBM};
use super::time::{Chip, StepTime};
use super::{Assumptions, Profile};
use crate::catalog::{Accelerator, Catalog, Instance, Plan};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Choices of the model beyond the scenario and cluster size.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ModelOptions {
    pub precision: Precision,
    pub objective: Objective,
    /// Overrides the assumed goodput (share of paid hours that advance training).
    pub goodput: Option<f64>,
}

/// How many chips to use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterSize {
    /// Exactly this many chips (rounded up to whole instances).
    Chips(u32),
    /// The fewest whole instances that finish within this many days.
    DeadlineDays(f64),
}

/// The default cluster: finish within 30 days (a stated convention; a month is the horizon of
/// published runs, e.g. Llama 3 405B's 54 days (arXiv 2407.21783), Llama 2's ~3 weeks per
/// model (arXiv 2307.09288)).
pub const DEFAULT_DEADLINE_DAYS: f64 = 30.0;

/// The efficiency of `a` under `scenario` (kept for callers of the earlier signature; the
/// profile no longer matters: product sizes are set per layout).
pub fn efficiency(
    _p: &Profile,
    a: &Accelerator,
    catalog: &Catalog,
    scenario: &Scenario,
) -> Option<Efficiency> {
    chip_efficiency(a, catalog, scenario)
}

/// One priced option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OptionEstimate {
    pub instance: String,
    /// Display name of the chip, e.g. `NVIDIA H100 SXM`.
    pub accelerator: String,
    /// Catalog id of the chip, e.g. `h100-sxm` (since report schema 1.3).
    #[serde(default)]
    pub accelerator_id: String,
    /// The chip's maker as the catalog names it (`AWS`, `NVIDIA`; since 1.3).
    #[serde(default)]
    pub vendor: String,
    /// Optimizer steps of the whole run (since 1.3).
    #[serde(default)]
    pub steps: f64,
    /// The option's price, instance or chip differs from the bundled catalog: changed by
    /// `--price` or a catalog overlay (since 1.3).
    #[serde(default)]
    pub changed_by_user: bool,
    pub plan: Plan,
    pub chips: u32,
    pub instances: u32,
    pub layout: MemoryPlan,
    /// The parallel layout the planner chose (since report schema 1.4).
    #[serde(default)]
    pub parallel: Option<Layout>,
    /// The planner's second-best layout and why it lost (since 1.4).
    #[serde(default)]
    pub runner_up: Option<RunnerUp>,
    /// One chip's memory under `parallel` (since 1.4).
    #[serde(default)]
    pub memory: Option<LayoutMemory>,
    /// The precision of the products (since 1.4).
    #[serde(default)]
    pub precision: Precision,
    pub step: StepTime,
    /// Wall-clock hours including lost time (÷ goodput).
    pub wall_hours: f64,
    /// chips × wall hours.
    pub chip_hours: f64,
    /// Price per instance-hour of this plan, USD.
    pub usd_per_instance_hour: f64,
    pub usd: f64,
    pub usd_per_million_tokens: f64,
    /// Model FLOPs (PaLM convention) ÷ (chips × peak × productive time).
    pub implied_mfu: f64,
    /// chips × TDP × wall hours × PUE, kWh; None where the chip's power is not published.
    pub energy_kwh: Option<f64>,
    pub kg_co2: Option<f64>,
    pub efficiency_note: String,
    pub price_source: String,
}

/// An option that could not be priced, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Skipped {
    pub instance: String,
    pub plan: Option<Plan>,
    pub reason: String,
}

/// Chips and links of an instance, in SI units; None when the catalog lacks a needed figure.
pub fn chip_of(a: &Accelerator, inst: &Instance) -> Result<Chip, String> {
    let peak = a
        .tflops_bf16
        .value
        .ok_or_else(|| format!("{}: no published BF16 peak", a.name))?
        * 1e12;
    let hbm_bw = a
        .hbm_bytes_per_s
        .value
        .ok_or_else(|| format!("{}: no published HBM bandwidth", a.name))?;
    let link = a
        .link_bytes_per_s_one_way()
        .ok_or_else(|| format!("{}: no published chip-to-chip bandwidth", a.name))?;
    let net = inst
        .network_bits_per_s
        .value
        .map(|b| b / 8.0)
        .ok_or_else(|| format!("{}: no published network bandwidth", inst.id))?;
    Ok(Chip {
        peak_flops: peak,
        peak_fp8_flops: a.tflops_fp8.value.map(|v| v * 1e12),
        hbm_bytes_per_s: hbm_bw,
        link_bytes_per_s: link,
        network_bytes_per_s: net,
        chips_per_instance: inst.chips,
        alpha_link_s: Chip::ALPHAS.0,
        alpha_network_s: Chip::ALPHAS.1,
    })
}

/// The planned layout on `chips` chips and its productive run time in seconds, or None if
/// nothing fits.
fn run(target: &Target<'_>, chips: f64) -> Option<(layout::Planned, f64)> {
    let planned = layout::plan(target, chips as u32)?;
    let seconds = planned.step.total_s * target.profile.steps();
    Some((planned, seconds))
}

/// The most chips a run can use: every data-parallel rank needs a sequence, so t × p × batch.
fn max_chips(target: &Target<'_>) -> f64 {
    let p = target.profile;
    let t = layout::tensor_degrees(p, target.chip.chips_per_instance)
        .last()
        .copied()
        .unwrap_or(1) as f64;
    let pp = p.shape.layers.min(128) as f64;
    (p.global_batch * t * pp).min(1e7)
}

/// Chips to use: exactly `n` (whole instances), or the fewest whole instances whose wall-clock
/// time meets the deadline (with [`Objective::Cheapest`], the cluster size meeting it with the
/// fewest chip-hours).
fn choose_chips(
    target: &Target<'_>,
    size: ClusterSize,
    goodput: f64,
    objective: Objective,
) -> Result<f64, String> {
    let p = target.profile;
    let per = target.chip.chips_per_instance.max(1) as f64;
    match size {
        ClusterSize::Chips(n) => {
            let chips = (n as f64 / per).ceil() * per;
            run(target, chips)
                .map(|_| chips)
                .ok_or_else(|| format!("does not fit on {chips} chips with any layout"))
        }
        ClusterSize::DeadlineDays(days) => {
            let limit = days * 86_400.0 * goodput;
            let max_instances = (max_chips(target) / per).floor().max(1.0) as u64;
            let fits = |i: u64| run(target, i as f64 * per);
            // The fewest instances on which some layout fits: memory per chip only falls as
            // instances are added, so search upward by doubling, then bisect.
            let mut hi = 1u64;
            while hi < max_instances && fits(hi).is_none() {
                hi = (hi * 2).min(max_instances);
            }
            if fits(hi).is_none() {
                return Err("does not fit in memory with any layout at any cluster size the global batch can use".to_string());
            }
            let mut lo = hi / 2 + 1;
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if fits(mid).is_some() {
                    hi = mid
                } else {
                    lo = mid + 1
                }
            }
            let first = hi;
            let ok = |i: u64| fits(i).is_some_and(|(_, s)| s <= limit);
            let (mut lo, mut hi) = (first, max_instances);
            if !ok(hi) {
                let largest = hi as f64 * per;
                return Err(match fits(hi) {
                    Some((planned, seconds)) => format!(
                        "cannot finish within {days} days: even {largest} chips (the most a global batch of {} sequences can use) take {:.0} days, {:.0}% of each step exposed communication",
                        p.global_batch,
                        seconds / goodput / 86_400.0,
                        100.0 * planned.step.exposed_communication_s / planned.step.total_s
                    ),
                    None => format!(
                        "cannot finish within {days} days: the largest cluster a global batch of {} sequences can use does not fit in memory",
                        p.global_batch
                    ),
                });
            }
            // Run time falls as instances are added: binary search for the fewest.
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if ok(mid) { hi = mid } else { lo = mid + 1 }
            }
            if objective == Objective::Cheapest {
                // A larger cluster can cost fewer chip-hours when it avoids recomputation or
                // bubbles: try a geometric ladder up to 4× the fewest.
                let cost = |i: u64| fits(i).map(|(_, s)| s * i as f64);
                let mut best = (lo, cost(lo).unwrap_or(f64::INFINITY));
                let mut i = lo;
                while i < max_instances && i < lo * 4 {
                    i = ((i as f64 * 1.25).ceil() as u64).min(max_instances);
                    if let Some(c) = cost(i)
                        && c < best.1
                    {
                        best = (i, c);
                    }
                }
                return Ok(best.0 as f64 * per);
            }
            Ok(lo as f64 * per)
        }
    }
}

/// Every (instance, plan) of the catalog priced for `p`, cheapest first, and what was skipped
/// (BF16, fastest layouts).
pub fn estimate_all(
    p: &Profile,
    catalog: &Catalog,
    scenario: &Scenario,
    size: ClusterSize,
    assumptions: &Assumptions,
) -> (Vec<OptionEstimate>, Vec<Skipped>) {
    estimate_scaled(p, catalog, scenario, size, assumptions, 1.0)
}

/// [`estimate_all`] with the model's options.
pub fn estimate_with(
    p: &Profile,
    catalog: &Catalog,
    scenario: &Scenario,
    size: ClusterSize,
    assumptions: &Assumptions,
    options: &ModelOptions,
) -> (Vec<OptionEstimate>, Vec<Skipped>) {
    estimate_instances(p, catalog, scenario, size, assumptions, 1.0, options, None)
}

/// [`estimate_all`] with every compute and memory efficiency multiplied by `scale` (capped at
/// 1): the sensitivity and break-even analyses.
pub fn estimate_scaled(
    p: &Profile,
    catalog: &Catalog,
    scenario: &Scenario,
    size: ClusterSize,
    assumptions: &Assumptions,
    scale: f64,
) -> (Vec<OptionEstimate>, Vec<Skipped>) {
    estimate_instances(
        p,
        catalog,
        scenario,
        size,
        assumptions,
        scale,
        &ModelOptions::default(),
        None,
    )
}

/// The options of every instance (or only of `only`), efficiencies × `scale`.
#[allow(clippy::too_many_arguments)]
pub fn estimate_instances(
    p: &Profile,
    catalog: &Catalog,
    scenario: &Scenario,
    size: ClusterSize,
    assumptions: &Assumptions,
    scale: f64,
    options: &ModelOptions,
    only: Option<&str>,
) -> (Vec<OptionEstimate>, Vec<Skipped>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let goodput = options.goodput.unwrap_or(assumptions.goodput.value);
    for inst in &catalog.instances {
        if only.is_some_and(|o| o != inst.id) {
            continue;
        }
        let Some(acc_id) = &inst.accelerator else {
            continue;
        };
        let Some(a) = catalog.accelerator(acc_id) else {
            continue;
        };
        let skip = |reason: String| Skipped {
            instance: inst.id.clone(),
            plan: None,
            reason,
        };
        let chip = match chip_of(a, inst) {
            Ok(c) => c,
            Err(e) => {
                skipped.push(skip(e));
                continue;
            }
        };
        let Some(hbm) = a.hbm_bytes.value else {
            skipped.push(skip(format!("{}: no published HBM capacity", a.name)));
            continue;
        };
        let Some(eff) = chip_efficiency(a, catalog, scenario).map(|e| e.scaled(scale)) else {
            skipped.push(skip(format!(
                "{}: the {} scenario has no efficiency for it",
                a.name,
                scenario.name()
            )));
            continue;
        };
        if options.precision == Precision::Fp8
            && (chip.peak_fp8_flops.is_none() || eff.product_at(1e3, Precision::Fp8).is_none())
        {
            skipped.push(skip(format!(
                "{}: no FP8 peak or FP8 efficiency for the {} scenario",
                a.name,
                scenario.name()
            )));
            continue;
        }
        let target = Target {
            profile: p,
            chip: &chip,
            hbm_bytes: hbm,
            eff: &eff,
            precision: options.precision,
        };
        let chips = match choose_chips(&target, size, goodput, options.objective) {
            Ok(n) => n,
            Err(e) => {
                skipped.push(skip(e));
                continue;
            }
        };
        let (mut planned, seconds) = run(&target, chips).expect("chosen sizes run");
        // Per allocated chip: chips the layout leaves idle are paid for and execute nothing.
        planned.step.flops_per_chip *= planned.layout.chips() as f64 / chips;
        let wall_hours = seconds / 3600.0 / goodput;
        let instances = (chips / inst.chips as f64).round() as u32;
        let implied_mfu = p.model_flops() / (chips * chip.peak_flops * seconds);
        let energy_kwh = a
            .tdp_watts
            .value
            .map(|w| chips * w * wall_hours * assumptions.pue.value / 1000.0);
        let memory_plan = MemoryPlan {
            recompute: planned.layout.recompute,
            tensor_parallel: planned.layout.tensor_parallel,
            bytes_per_chip: planned.memory.total,
            usable_bytes: USABLE_HBM * hbm,
        };
        for (plan, price) in &inst.prices {
            let Some(usd_h) = price.value else {
                skipped.push(Skipped {
                    instance: inst.id.clone(),
                    plan: Some(*plan),
                    reason: price.note.clone().unwrap_or_else(|| "not published".into()),
                });
                continue;
            };
            let usd = instances as f64 * wall_hours * usd_h;
            out.push(OptionEstimate {
                instance: inst.id.clone(),
                accelerator: a.name.clone(),
                accelerator_id: a.id.clone(),
                vendor: a.vendor.clone(),
                steps: p.steps(),
                changed_by_user: false,
                plan: *plan,
                chips: chips as u32,
                instances,
                layout: memory_plan,
                parallel: Some(planned.layout),
                runner_up: planned.runner_up.clone(),
                memory: Some(planned.memory),
                precision: options.precision,
                step: planned.step.clone(),
                wall_hours,
                chip_hours: chips * wall_hours,
                usd_per_instance_hour: usd_h,
                usd,
                usd_per_million_tokens: usd / (p.tokens / 1e6),
                implied_mfu,
                energy_kwh,
                kg_co2: energy_kwh.map(|e| e * assumptions.grid_kg_co2_per_kwh.value),
                efficiency_note: eff.note.clone(),
                price_source: format!("{} ({})", price.source, price.as_of),
            });
        }
    }
    out.sort_by(|a, b| a.usd.total_cmp(&b.usd));
    (out, skipped)
}

/// Cost of the cheapest plan of the best options at efficiency and price ±20%.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SensitivityRow {
    pub instance: String,
    pub plan: Plan,
    pub usd: f64,
    /// Cost with every efficiency × 0.8 and × 1.2.
    pub usd_efficiency_minus_20: f64,
    pub usd_efficiency_plus_20: f64,
    /// Cost with the price × 0.8 and × 1.2 (cost is linear in price).
    pub usd_price_minus_20: f64,
    pub usd_price_plus_20: f64,
}

/// The sensitivity of the cheapest plan of each instance (the `limit` cheapest instances).
pub fn sensitivity(
    p: &Profile,
    catalog: &Catalog,
    scenario: &Scenario,
    size: ClusterSize,
    assumptions: &Assumptions,
    options: &[OptionEstimate],
    limit: usize,
) -> Vec<SensitivityRow> {
    sensitivity_with(
        p,
        catalog,
        scenario,
        size,
        assumptions,
        options,
        limit,
        &ModelOptions::default(),
    )
}

/// [`sensitivity`] with the model's options (precision, objective).
#[allow(clippy::too_many_arguments)]
pub fn sensitivity_with(
    p: &Profile,
    catalog: &Catalog,
    scenario: &Scenario,
    size: ClusterSize,
    assumptions: &Assumptions,
    options: &[OptionEstimate],
    limit: usize,
    model: &ModelOptions,
) -> Vec<SensitivityRow> {
    let (low, _) = estimate_instances(p, catalog, scenario, size, assumptions, 0.8, model, None);
    let (high, _) = estimate_instances(p, catalog, scenario, size, assumptions, 1.2, model, None);
    let find = |set: &[OptionEstimate], o: &OptionEstimate| {
        set.iter()
            .find(|x| x.instance == o.instance && x.plan == o.plan)
            .map_or(f64::NAN, |x| x.usd)
    };
    let mut seen = std::collections::BTreeSet::new();
    options
        .iter()
        .filter(|o| seen.insert(o.instance.clone()))
        .take(limit)
        .map(|o| SensitivityRow {
            instance: o.instance.clone(),
            plan: o.plan,
            usd: o.usd,
            usd_efficiency_minus_20: find(&low, o),
            usd_efficiency_plus_20: find(&high, o),
            usd_price_minus_20: o.usd * 0.8,
            usd_price_plus_20: o.usd * 1.2,
        })
        .collect()
}

/// What it would take for the best NVIDIA option and the best Trainium option to tie.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakEven {
    pub nvidia: OptionEstimate,
    pub trainium: OptionEstimate,
    /// The factor by which the NVIDIA option's efficiency must change for its cost to equal
    /// the Trainium option's (> 1: it must be better; < 1: it could be that much worse).
    pub nvidia_efficiency_factor: f64,
    /// The NVIDIA instance price, USD per hour, at which the two tie.
    pub nvidia_tie_usd_per_hour: f64,
    /// The same for the Trainium option.
    pub trainium_efficiency_factor: f64,
    pub trainium_tie_usd_per_hour: f64,
}

/// Break-even between the cheapest NVIDIA and the cheapest Trainium option of `options`.
/// Efficiency factors are found by bisection on the scaled model (cluster size fixed at the
/// option's chips), so memory-bound classes and communication are accounted for.
pub fn break_even(
    p: &Profile,
    catalog: &Catalog,
    scenario: &Scenario,
    assumptions: &Assumptions,
    options: &[OptionEstimate],
) -> Option<BreakEven> {
    let vendor = |o: &OptionEstimate| {
        catalog
            .instance(&o.instance)
            .and_then(|i| catalog.accelerator_of(i))
            .map(|a| a.vendor.to_ascii_lowercase())
    };
    let nvidia = options
        .iter()
        .find(|o| vendor(o).as_deref() == Some("nvidia"))?
        .clone();
    let trainium = options
        .iter()
        .find(|o| vendor(o).as_deref() == Some("aws"))?
        .clone();
    let factor_to_reach = |o: &OptionEstimate, target_usd: f64| -> f64 {
        let cost_at = |k: f64| {
            let (set, _) = estimate_instances(
                p,
                catalog,
                scenario,
                ClusterSize::Chips(o.chips),
                assumptions,
                k,
                &ModelOptions {
                    precision: o.precision,
                    ..ModelOptions::default()
                },
                Some(&o.instance),
            );
            set.iter()
                .find(|x| x.instance == o.instance && x.plan == o.plan)
                .map_or(f64::INFINITY, |x| x.usd)
        };
        // Cost falls as efficiency rises; bracket, then bisect in log space.
        let (mut lo, mut hi) = (1.0 / 64.0, 64.0);
        if cost_at(hi) > target_usd || cost_at(lo) < target_usd {
            return f64::NAN;
        }
        for _ in 0..60 {
            let mid = (lo * hi).sqrt();
            if cost_at(mid) > target_usd {
                lo = mid
            } else {
                hi = mid
            }
        }
        (lo * hi).sqrt()
    };
    Some(BreakEven {
        nvidia_efficiency_factor: factor_to_reach(&nvidia, trainium.usd),
        nvidia_tie_usd_per_hour: nvidia.usd_per_instance_hour * trainium.usd / nvidia.usd,
        trainium_efficiency_factor: factor_to_reach(&trainium, nvidia.usd),
        trainium_tie_usd_per_hour: trainium.usd_per_instance_hour * nvidia.usd / trainium.usd,
        nvidia,
        trainium,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::validation::llama2_runs;
    use crate::ops::OpClass;
    use std::collections::BTreeMap;

    /// The measured scenario transfers per-class fractions: a code that reaches a higher
    /// fraction of its roofline on every class is cheaper everywhere, and without a product
    /// fraction nothing is priced.
    #[test]
    fn measured_fractions_transfer_to_every_option() {
        let catalog = Catalog::bundled();
        let (_, w, _) = llama2_runs().remove(0);
        let p = Profile::from_transformer(&w);
        let a = Assumptions::default();
        let fractions = |f: f64| Scenario::Measured(OpClass::ALL.iter().map(|&c| (c, f)).collect());
        let size = ClusterSize::Chips(256);
        let (slow, _) = estimate_all(&p, &catalog, &fractions(0.3), size, &a);
        let (fast, _) = estimate_all(&p, &catalog, &fractions(0.6), size, &a);
        assert!(!slow.is_empty());
        for o in &slow {
            let f = fast
                .iter()
                .find(|x| x.instance == o.instance && x.plan == o.plan)
                .unwrap();
            assert!(f.usd < o.usd, "{} {:?}", o.instance, o.plan);
            assert!(o.efficiency_note.contains("measured"));
        }
        let empty = Scenario::Measured(BTreeMap::new());
        let (none, skipped) = estimate_all(&p, &catalog, &empty, size, &a);
        assert!(none.is_empty() && !skipped.is_empty());
    }

    /// The example overlay of clusters outside AWS loads, and with a price its DGX H800 option
    /// is priced with the H800's own (slower) NVLink.
    #[test]
    fn the_infiniband_example_overlay_prices_dgx_clusters() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/catalog/examples/infiniband-dgx.toml"
        );
        let mut c = Catalog::bundled().clone();
        c.overlay(Catalog::load_overlay(std::path::Path::new(path)).unwrap())
            .unwrap();
        c.set_price("dgx-h800-ib:on_demand=40").unwrap();
        c.set_price("dgx-h100-ib:on_demand=40").unwrap();
        let (_, w, _) = llama2_runs().remove(2);
        let p = Profile::from_transformer(&w);
        let (options, _) = estimate_all(
            &p,
            &c,
            &Scenario::Published,
            ClusterSize::Chips(512),
            &Assumptions::default(),
        );
        let h800 = options
            .iter()
            .find(|o| o.instance == "dgx-h800-ib")
            .unwrap();
        let h100 = options
            .iter()
            .find(|o| o.instance == "dgx-h100-ib")
            .unwrap();
        assert_eq!(h800.accelerator_id, "h800-sxm");
        assert!(h800.step.total_s >= h100.step.total_s * (1.0 - 1e-9));
    }
}
