//! Estimates of one training run on one catalog option: cluster size, wall-clock hours,
//! chip-hours, dollars per pricing plan, dollars per million tokens, implied MFU, energy and CO₂.

use super::memory::{self, MemoryPlan};
use super::time::{self, Chip, ClassEfficiency, StepTime};
use super::{Assumptions, Profile, size_multiplier};
use crate::catalog::{Accelerator, Catalog, Instance, Plan};
use crate::ops::OpClass;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where the compute efficiency η of each op class comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// The accelerator's published LLM-training MFU (catalog), scaled for small products by the
    /// Calculon size curve; a chip without a published MFU uses a stated proxy.
    Published,
    /// This CPU's achieved fraction of its own roofline per op class (from a report), applied to
    /// the accelerator's roofline.
    Measured(BTreeMap<OpClass, f64>),
    /// One efficiency for every product (`--mfu`).
    Custom { mfu: f64 },
}

impl Scenario {
    pub fn name(&self) -> &'static str {
        match self {
            Scenario::Published => "published",
            Scenario::Measured(_) => "measured",
            Scenario::Custom { .. } => "custom",
        }
    }
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

/// The efficiency of each class on a given chip under a scenario, with the note that says where
/// it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Efficiency {
    /// η for products (before the size multiplier), fraction of peak.
    pub product: f64,
    /// Size multipliers of dense products and of attention products (Calculon curve).
    pub matmul_size: f64,
    pub attention_size: f64,
    /// Per-class fractions (measured scenario).
    pub measured: Option<BTreeMap<OpClass, f64>>,
    /// Where `product` came from.
    pub note: String,
    /// Multiplier of the HBM efficiency (sensitivity analyses; 1 otherwise).
    pub memory_scale: f64,
}

impl Efficiency {
    /// Every efficiency × `k`, none above 1.
    pub fn scaled(mut self, k: f64) -> Self {
        self.product = (self.product * k).min(1.0);
        if let Some(m) = &mut self.measured {
            m.values_mut().for_each(|v| *v = (*v * k).min(1.0));
        }
        self.memory_scale = k;
        self
    }
}

impl ClassEfficiency for Efficiency {
    fn eta(&self, class: OpClass) -> f64 {
        if let Some(m) = &self.measured {
            return m.get(&class).copied().unwrap_or(self.product).max(1e-6);
        }
        match class {
            OpClass::Matmul => self.product * self.matmul_size,
            OpClass::Attention => self.product * self.attention_size,
            _ => self.product,
        }
    }
    fn mu(&self, class: OpClass) -> f64 {
        match &self.measured {
            Some(m) => m
                .get(&class)
                .copied()
                .unwrap_or(time::HBM_EFFICIENCY)
                .max(1e-6),
            None => (time::HBM_EFFICIENCY * self.memory_scale).min(1.0),
        }
    }
}

/// The published MFU of `a`, or the proxy the model uses when none is published.
fn published_mfu(a: &Accelerator, catalog: &Catalog) -> Option<(f64, String)> {
    if let Some(v) = a.training_mfu.value {
        return Some((
            v,
            format!(
                "published MFU {:.0}% ({}, {})",
                v * 100.0,
                a.training_mfu.source,
                a.training_mfu.as_of
            ),
        ));
    }
    // Proxies, each a stated assumption (docs/cost-model.md).
    let proxy_of = |id: &str| {
        catalog
            .accelerator(id)
            .and_then(|p| p.training_mfu.value.map(|v| (p, v)))
    };
    if a.vendor.eq_ignore_ascii_case("AWS") {
        let (p, v) = proxy_of("trainium")?;
        return Some((
            v,
            format!(
                "no published MFU for {}: proxy = {}'s published {:.0}% (same Neuron software stack)",
                a.name,
                p.name,
                v * 100.0
            ),
        ));
    }
    let (p, v) = proxy_of("h100-sxm")?;
    match (a.gemm_efficiency.value, p.gemm_efficiency.value) {
        (Some(mine), Some(theirs)) => {
            let est = v * mine / theirs;
            Some((
                est,
                format!(
                    "no published MFU for {}: proxy = {}'s {:.0}% × GEMM-efficiency ratio {:.2}/{:.2}",
                    a.name,
                    p.name,
                    v * 100.0,
                    mine,
                    theirs
                ),
            ))
        }
        _ => Some((
            v,
            format!(
                "no published MFU for {}: proxy = {}'s {:.0}%",
                a.name,
                p.name,
                v * 100.0
            ),
        )),
    }
}

/// The per-chip product sizes that set the Calculon multipliers: the largest dense product of a
/// layer and one head's score product, for one sequence per chip.
fn product_sizes_gflop(p: &Profile) -> (f64, f64) {
    let s = p.shape.seq_len as f64;
    let h = p.shape.d_model as f64;
    let kvw = (p.shape.kv_heads * p.shape.head_dim()) as f64;
    let up = match p.shape.activation {
        crate::workload::Activation::Gelu => p.shape.d_ff as f64,
        crate::workload::Activation::Swiglu => 2.0 * p.shape.d_ff as f64,
    };
    let dense = 2.0 * s * h * (h + 2.0 * kvw).max(up) / 1e9;
    let attention = 2.0 * s * s * p.shape.head_dim() as f64 / 1e9;
    (dense, attention)
}

/// The efficiency of `a` under `scenario`; None when the scenario has nothing for this chip.
pub fn efficiency(
    p: &Profile,
    a: &Accelerator,
    catalog: &Catalog,
    scenario: &Scenario,
) -> Option<Efficiency> {
    let (dense, attention) = product_sizes_gflop(p);
    let (product, note, measured) = match scenario {
        Scenario::Published => {
            let (v, note) = published_mfu(a, catalog)?;
            (v, note, None)
        }
        Scenario::Custom { mfu } => (
            *mfu,
            format!("custom MFU {:.0}% (--mfu)", mfu * 100.0),
            None,
        ),
        // Without a measured product fraction there is nothing to transfer.
        Scenario::Measured(m) => (
            *m.get(&OpClass::Matmul)?,
            "this CPU's measured fraction of its roofline per op class".to_string(),
            Some(m.clone()),
        ),
    };
    Some(Efficiency {
        product,
        matmul_size: size_multiplier(dense),
        attention_size: size_multiplier(attention),
        measured,
        note,
        memory_scale: 1.0,
    })
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
        hbm_bytes_per_s: hbm_bw,
        link_bytes_per_s: link,
        network_bytes_per_s: net,
        chips_per_instance: inst.chips,
    })
}

/// Run time (productive, without goodput losses) in seconds on `chips` chips, or None if it does
/// not fit or exceeds the data-parallel limit.
fn run(
    p: &Profile,
    chip: &Chip,
    hbm: f64,
    chips: f64,
    eff: &Efficiency,
) -> Option<(MemoryPlan, StepTime, f64)> {
    let layout = memory::plan(p, chips, hbm, chip.chips_per_instance)?;
    let step = time::step_time(p, chip, chips, &layout, eff);
    let seconds = step.total_s * p.steps();
    Some((layout, step, seconds))
}

/// Chips to use on `inst`: exactly `n` (whole instances), or the fewest whole instances whose
/// wall-clock time meets the deadline.
fn choose_chips(
    p: &Profile,
    chip: &Chip,
    hbm: f64,
    eff: &Efficiency,
    size: ClusterSize,
    goodput: f64,
) -> Result<f64, String> {
    let per = chip.chips_per_instance.max(1) as f64;
    match size {
        ClusterSize::Chips(n) => {
            let chips = (n as f64 / per).ceil() * per;
            run(p, chip, hbm, chips, eff)
                .map(|_| chips)
                .ok_or_else(|| format!("does not fit on {chips} chips"))
        }
        ClusterSize::DeadlineDays(days) => {
            let limit = days * 86_400.0 * goodput;
            // Beyond batch × (largest tensor-parallel degree) chips a data-parallel rank would
            // have no sequence of the global batch.
            let mut t_max = 1u32;
            while t_max * 2 <= chip.chips_per_instance
                && p.shape.heads.is_multiple_of(t_max as usize * 2)
            {
                t_max *= 2;
            }
            let max_instances = (p.global_batch * t_max as f64 / per).floor().max(1.0) as u64;
            let first = memory::min_chips(p, hbm, chip.chips_per_instance, max_instances as f64 * per)
                .ok_or_else(|| "does not fit in HBM at any cluster size this model covers (needs pipeline parallelism, not modelled)".to_string())?;
            let ok = |instances: u64| {
                run(p, chip, hbm, instances as f64 * per, eff).is_some_and(|(_, _, s)| s <= limit)
            };
            let (mut lo, mut hi) = ((first / per) as u64, max_instances);
            if !ok(hi) {
                let largest = hi as f64 * per;
                return Err(match run(p, chip, hbm, largest, eff) {
                    Some((_, step, seconds)) => format!(
                        "cannot finish within {days} days: even {largest} chips (the most a global batch of {} sequences can use) take {:.0} days, {:.0}% of each step exposed communication",
                        p.global_batch,
                        seconds / goodput / 86_400.0,
                        100.0 * step.exposed_communication_s / step.total_s
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
            Ok(lo as f64 * per)
        }
    }
}

/// Every (instance, plan) of the catalog priced for `p`, cheapest first, and what was skipped.
pub fn estimate_all(
    p: &Profile,
    catalog: &Catalog,
    scenario: &Scenario,
    size: ClusterSize,
    assumptions: &Assumptions,
) -> (Vec<OptionEstimate>, Vec<Skipped>) {
    estimate_scaled(p, catalog, scenario, size, assumptions, 1.0)
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
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let goodput = assumptions.goodput.value;
    for inst in &catalog.instances {
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
        let Some(eff) = efficiency(p, a, catalog, scenario).map(|e| e.scaled(scale)) else {
            skipped.push(skip(format!(
                "{}: the {} scenario has no efficiency for it",
                a.name,
                scenario.name()
            )));
            continue;
        };
        let chips = match choose_chips(p, &chip, hbm, &eff, size, goodput) {
            Ok(n) => n,
            Err(e) => {
                skipped.push(skip(e));
                continue;
            }
        };
        let (layout, step, seconds) = run(p, &chip, hbm, chips, &eff).expect("chosen sizes run");
        let wall_hours = seconds / 3600.0 / goodput;
        let instances = (chips / inst.chips as f64).round() as u32;
        let implied_mfu = p.model_flops() / (chips * chip.peak_flops * seconds);
        let energy_kwh = a
            .tdp_watts
            .value
            .map(|w| chips * w * wall_hours * assumptions.pue.value / 1000.0);
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
                layout,
                step: step.clone(),
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
    let (low, _) = estimate_scaled(p, catalog, scenario, size, assumptions, 0.8);
    let (high, _) = estimate_scaled(p, catalog, scenario, size, assumptions, 1.2);
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
            let (set, _) = estimate_scaled(
                p,
                catalog,
                scenario,
                ClusterSize::Chips(o.chips),
                assumptions,
                k,
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
}
