//! Pricing a training run: the one function that turns a workload's profile (and, for a
//! measured run, this CPU's rates) into every catalog option's cost, the CPU itself as an
//! option, the sensitivity rows and the break-even. `costbench run` and `costbench estimate`
//! both call [`price`]; the report stores the [`CostRecord`] it gives.
//!
//! The CPU baseline: the target trained on the catalog's first CPU-only instance (on demand) at
//! the run's measured whole-step rate, scaled by vCPUs ÷ the measured machine's logical cores
//! (perfect scaling, which flatters the CPU).

use super::estimate::{
    self, BreakEven, ClusterSize, ModelOptions, OptionEstimate, Scenario, SensitivityRow, Skipped,
};
use super::uncertainty::{self, Inputs, OptionSpread, Range, Simulation};
use super::verdict::{self, Verdict, VerdictRules};
use super::{Assumptions, Profile};
use crate::catalog::{Catalog, Plan};
use crate::ops::OpClass;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many of the cheapest instances the sensitivity analysis varies.
const SENSITIVITY_INSTANCES: usize = 6;

/// What a measurement on this CPU contributes to pricing.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredRates {
    /// Achieved fraction of this machine's roofline per op class (the `measured` scenario).
    pub roofline_fractions: BTreeMap<OpClass, f64>,
    /// Whole-step rate, GFLOP/s (median), on `logical_cores`.
    pub step_gflops: f64,
    /// Logical cores of the machine that measured it.
    pub logical_cores: usize,
    /// Relative half-width of the product class's measured fraction (its 95% interval), the
    /// spread of the `measured` what-if.
    pub product_fraction_spread: f64,
}

impl MeasuredRates {
    /// The `measured` scenario: these fractions, each clamped to (0, 1] — a fraction above 1
    /// means the probe under-measured the machine's bandwidth, and an accelerator is never
    /// credited with more than its roofline. `published` when no class has a fraction.
    pub fn scenario(&self) -> Scenario {
        if self.roofline_fractions.is_empty() {
            Scenario::Published
        } else {
            Scenario::Measured(
                self.roofline_fractions
                    .iter()
                    .map(|(&c, &f)| (c, f.clamp(1e-6, 1.0)))
                    .collect(),
            )
        }
    }
}

/// What to price and how.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub profile: &'a Profile,
    pub catalog: &'a Catalog,
    pub scenario: Scenario,
    pub size: ClusterSize,
    pub assumptions: &'a Assumptions,
    /// Only these pricing plans (empty: all).
    pub plans: &'a [Plan],
    /// The measured run behind the request, if any: prices the CPU as an option.
    pub measured: Option<&'a MeasuredRates>,
    /// The Monte Carlo and the verdict (None: the nominal figures only).
    pub uncertainty: Option<UncertaintySettings>,
    /// Precision of the products and what the planner minimises (default: BF16, fastest).
    pub model: ModelOptions,
}

/// How to run the Monte Carlo and decide the verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UncertaintySettings {
    pub trials: usize,
    pub seed: u64,
    /// Leave spot out of the verdict for runs longer than this many days.
    pub spot_max_days: f64,
}

impl Default for UncertaintySettings {
    fn default() -> Self {
        UncertaintySettings {
            trials: uncertainty::DEFAULT_TRIALS,
            seed: 0,
            spot_max_days: verdict::DEFAULT_SPOT_MAX_DAYS,
        }
    }
}

/// Everything [`price`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    pub scenario: Scenario,
    pub size: ClusterSize,
    /// Every priced option, cheapest first.
    pub options: Vec<OptionEstimate>,
    /// Options not priced, with the reason.
    pub skipped: Vec<Skipped>,
    pub sensitivity: Vec<SensitivityRow>,
    pub break_even: Option<BreakEven>,
    pub cpu_baseline: Option<CpuBaseline>,
    /// The input distributions, the trials and the verdict (when asked for).
    pub uncertainty: Option<Uncertainty>,
}

/// The Monte Carlo of a pricing: its inputs, its trials and the verdict they give.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncertainty {
    pub inputs: Inputs,
    pub simulation: Simulation,
    pub verdict: Verdict,
}

/// Prices `request.profile` on every catalog option.
pub fn price(request: &Request<'_>) -> Pricing {
    let Request {
        profile,
        catalog,
        size,
        assumptions,
        plans,
        ..
    } = *request;
    let scenario = &request.scenario;
    let model = ModelOptions {
        goodput: Some(assumptions.goodput.value),
        ..request.model
    };
    let (mut options, mut skipped) =
        estimate::estimate_with(profile, catalog, scenario, size, assumptions, &model);
    if !plans.is_empty() {
        options.retain(|o| plans.contains(&o.plan));
        skipped.retain(|s| s.plan.is_none_or(|p| plans.contains(&p)));
    }
    let bundled = Catalog::bundled();
    for o in &mut options {
        o.changed_by_user = catalog.option_differs_from(&bundled, &o.instance, o.plan);
    }
    let sensitivity = estimate::sensitivity_with(
        profile,
        catalog,
        scenario,
        size,
        assumptions,
        &options,
        SENSITIVITY_INSTANCES,
        &model,
    );
    let break_even = estimate::break_even(profile, catalog, scenario, assumptions, &options);
    let cpu_baseline = request
        .measured
        .and_then(|m| cpu_baseline(profile, m, catalog, assumptions));
    let uncertainty = request.uncertainty.map(|u| {
        let efficiency_exact = matches!(scenario, Scenario::Custom { .. });
        let mut inputs = Inputs::stated(
            &options,
            assumptions.goodput.value,
            efficiency_exact,
            assumptions.goodput.given,
        );
        if let (Scenario::Measured(_), Some(m)) = (scenario, request.measured) {
            // The what-if carries the measurement's own interval, not published spreads.
            for r in inputs.efficiency.values_mut() {
                *r = Range::relative_interval(
                    m.product_fraction_spread,
                    "this run's measured product fraction (its 95% interval)",
                );
            }
        }
        let simulation = uncertainty::simulate(&options, &inputs, u.trials, u.seed);
        let verdict = verdict::decide(
            &options,
            &simulation,
            &VerdictRules {
                spot_max_days: u.spot_max_days,
                deadline_hours: match size {
                    ClusterSize::DeadlineDays(d) => Some(d * 24.0),
                    ClusterSize::Chips(_) => None,
                },
            },
        );
        Uncertainty {
            inputs,
            simulation,
            verdict,
        }
    });
    Pricing {
        scenario: scenario.clone(),
        size,
        options,
        skipped,
        sensitivity,
        break_even,
        cpu_baseline,
        uncertainty,
    }
}

impl Pricing {
    /// The cluster-size rule in words, as the report records it.
    pub fn cluster_rule(&self) -> String {
        match self.size {
            ClusterSize::DeadlineDays(d) => {
                format!("fewest whole instances finishing within {d} days")
            }
            ClusterSize::Chips(n) => format!("exactly {n} chips, rounded up to whole instances"),
        }
    }

    /// The record a report stores: these figures with the catalog's hash and date, the
    /// assumptions with their sources, and the legend of every source an option cites.
    pub fn record(&self, catalog: &Catalog, assumptions: &Assumptions) -> CostRecord {
        let cited: Vec<&str> = self
            .options
            .iter()
            .map(|o| o.price_source.as_str())
            .chain(self.cpu_baseline.iter().map(|b| b.price_source.as_str()))
            .collect();
        let sources = catalog
            .sources
            .iter()
            .filter(|(key, _)| cited.iter().any(|c| c.contains(key.as_str())))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let a = assumptions;
        CostRecord {
            scenario: self.scenario.name().to_string(),
            catalog_hash: catalog.hash(),
            catalog_as_of: catalog.as_of().to_string(),
            assumptions: [
                ("goodput", &a.goodput),
                ("pue", &a.pue),
                ("grid_kg_co2_per_kwh", &a.grid_kg_co2_per_kwh),
            ]
            .into_iter()
            .map(|(name, x)| AssumptionRecord {
                name: name.to_string(),
                value: x.value,
                source: x.source.to_string(),
            })
            .collect(),
            cluster: self.cluster_rule(),
            options: self.options.clone(),
            skipped: self.skipped.clone(),
            cpu_baseline: self.cpu_baseline.clone(),
            sensitivity: self.sensitivity.clone(),
            sources,
            uncertainty: self.uncertainty.as_ref().map(|u| UncertaintyRecord {
                trials: u.simulation.trials,
                seed: u.simulation.seed,
                interval: uncertainty::INTERVAL_LEVEL,
                inputs: u
                    .inputs
                    .efficiency
                    .iter()
                    .map(|(id, r)| (format!("efficiency:{id}"), r.clone()))
                    .chain([("goodput".to_string(), u.inputs.goodput.clone())])
                    .chain(
                        u.inputs
                            .price
                            .iter()
                            .map(|(p, r)| (format!("price:{}", p.as_str()), r.clone())),
                    )
                    .collect(),
                options: u.simulation.spreads.clone(),
                verdict: u.verdict.clone(),
            }),
        }
    }
}

/// The target trained on CPU instances (the catalog's first CPU-only instance, on demand) at
/// the measured whole-step rate scaled by vCPUs. None when the catalog has no priced CPU
/// instance.
fn cpu_baseline(
    profile: &Profile,
    measured: &MeasuredRates,
    catalog: &Catalog,
    assumptions: &Assumptions,
) -> Option<CpuBaseline> {
    let inst = catalog.instances.iter().find(|i| i.accelerator.is_none())?;
    let vcpus = inst.vcpus?;
    let price = inst.prices.get(&Plan::OnDemand)?;
    let usd_h = price.value?;
    let cores = measured.logical_cores.max(1);
    let rate = measured.step_gflops * 1e9 * vcpus as f64 / cores as f64;
    let instances = 1u32;
    let wall_hours =
        profile.executed_flops() / (rate * instances as f64) / 3600.0 / assumptions.goodput.value;
    Some(CpuBaseline {
        instance: inst.id.clone(),
        measured_gflops: measured.step_gflops,
        measured_logical_cores: cores,
        instance_vcpus: vcpus,
        instances,
        wall_hours,
        usd_per_instance_hour: usd_h,
        usd: wall_hours * usd_h * instances as f64,
        price_source: price.provenance(),
    })
}

/// The cost table of a run: the target priced with this run's measured profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostRecord {
    /// `measured` (this run's per-class roofline fractions) or `published`.
    pub scenario: String,
    /// SHA-256 of the effective catalog (hex) and its newest figure's date.
    pub catalog_hash: String,
    pub catalog_as_of: String,
    /// Goodput, PUE and grid intensity used, each with its source.
    pub assumptions: Vec<AssumptionRecord>,
    /// The cluster-size rule, e.g. `deadline 30 days`.
    pub cluster: String,
    /// Every priced option, cheapest first.
    pub options: Vec<OptionEstimate>,
    /// Options not priced, with the reason.
    pub skipped: Vec<Skipped>,
    /// The CPU itself as an option: this run's measured rate scaled to a CPU instance.
    #[serde(default)]
    pub cpu_baseline: Option<CpuBaseline>,
    /// Cost of the cheapest plan of the six cheapest instances with every efficiency and with
    /// the price at ±20% (since 1.2).
    #[serde(default)]
    pub sensitivity: Vec<SensitivityRow>,
    /// The catalog's source legend for every source key the options cite, e.g. `AWS-PRICE` →
    /// its full citation (since 1.2).
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
    /// The Monte Carlo: its inputs with their sources, every option's median and 90% interval,
    /// and the verdict (since 1.3).
    #[serde(default)]
    pub uncertainty: Option<UncertaintyRecord>,
}

/// What the report keeps of the Monte Carlo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UncertaintyRecord {
    pub trials: usize,
    pub seed: u64,
    /// Coverage of every interval (0.9: the 5th to the 95th percentile).
    pub interval: f64,
    /// Each input's distribution with its source: `efficiency:<chip>` (relative to the nominal
    /// efficiency), `goodput`, `price:<plan>` (a factor on the catalog price).
    pub inputs: BTreeMap<String, Range>,
    /// Every option's medians and intervals, in the order of `options`.
    pub options: Vec<OptionSpread>,
    pub verdict: Verdict,
}

/// Training the target on CPU instances at this run's measured rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CpuBaseline {
    pub instance: String,
    /// This run's whole-step GFLOP/s (median) on `measured_logical_cores`.
    pub measured_gflops: f64,
    pub measured_logical_cores: usize,
    /// vCPUs of one instance; the rate is scaled by vCPUs ÷ measured logical cores (an
    /// assumption: perfect scaling, which flatters the CPU).
    pub instance_vcpus: u32,
    /// Instances used (one: cost does not depend on the count when scaling is perfect).
    pub instances: u32,
    pub wall_hours: f64,
    pub usd_per_instance_hour: f64,
    pub usd: f64,
    pub price_source: String,
}

/// One model input with its value and source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssumptionRecord {
    pub name: String,
    pub value: f64,
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::validation;

    fn rates(f: f64, gflops: f64) -> MeasuredRates {
        MeasuredRates {
            roofline_fractions: OpClass::ALL.iter().map(|&c| (c, f)).collect(),
            step_gflops: gflops,
            logical_cores: 2,
            product_fraction_spread: 0.02,
        }
    }

    /// The accelerator costs of a measured run do not move with the CPU's load: in the
    /// published scenario two very different measurements price every accelerator alike, and
    /// only the CPU option follows the measurement. The measured what-if does move.
    #[test]
    fn accelerator_costs_do_not_follow_the_cpu_measurement() {
        let (_, w, _) = validation::llama2_runs().remove(0);
        let profile = Profile::from_transformer(&w);
        let catalog = Catalog::bundled();
        let assumptions = Assumptions::default();
        let price_with = |m: &MeasuredRates, scenario: Scenario| {
            price(&Request {
                profile: &profile,
                catalog: &catalog,
                scenario,
                size: ClusterSize::DeadlineDays(30.0),
                assumptions: &assumptions,
                plans: &[],
                measured: Some(m),
                uncertainty: None,
                model: Default::default(),
            })
        };
        let (busy, idle) = (rates(0.2, 20.0), rates(0.8, 80.0));
        let a = price_with(&busy, Scenario::Published);
        let b = price_with(&idle, Scenario::Published);
        assert_eq!(a.options, b.options);
        let (ca, cb) = (a.cpu_baseline.unwrap(), b.cpu_baseline.unwrap());
        assert!(
            (ca.usd / cb.usd - 4.0).abs() < 1e-9,
            "the CPU option follows its rate"
        );
        let wa = price_with(&busy, busy.scenario());
        let wb = price_with(&idle, idle.scenario());
        assert_ne!(
            wa.options, wb.options,
            "the measured what-if follows the measurement"
        );
        assert_eq!(wa.scenario.name(), "measured");
    }
}
