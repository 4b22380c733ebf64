//! The answer to the product's question, from the paired Monte Carlo trials: the cheapest
//! Trainium option and the cheapest NVIDIA option (by median cost), each with its 90% interval,
//! the probability that the Trainium one costs less, and how likely each is to finish within the
//! deadline.
//!
//! Spot capacity can be reclaimed at two minutes' notice (AWS EC2 documentation, "Spot Instance
//! interruptions"), and a long run on it pays for every restart; so spot options are left out
//! of the verdict for runs longer than `spot_max_days` (default one day), and said to be.

use super::estimate::OptionEstimate;
use super::uncertainty::{Simulation, Spread, Swing};
use crate::catalog::Plan;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Runs longer than this many days leave spot out of the verdict by default.
pub const DEFAULT_SPOT_MAX_DAYS: f64 = 1.0;

/// The two vendor families the verdict compares.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Family {
    /// AWS Trainium chips.
    Trainium,
    /// NVIDIA GPUs.
    Nvidia,
    /// Anything else (a CPU, a chip added by an overlay from another maker).
    Other,
}

impl Family {
    /// The family of a catalog vendor name (`AWS` makes Trainium).
    pub fn of_vendor(vendor: &str) -> Family {
        if vendor.eq_ignore_ascii_case("AWS") {
            Family::Trainium
        } else if vendor.eq_ignore_ascii_case("NVIDIA") {
            Family::Nvidia
        } else {
            Family::Other
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::Trainium => "Trainium",
            Family::Nvidia => "NVIDIA",
            Family::Other => "other",
        }
    }
}

/// One side of the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Pick {
    pub family: Family,
    /// Index of the option in the priced options.
    pub option: usize,
    pub vendor: String,
    /// Chip display name.
    pub chip: String,
    pub instance: String,
    pub plan: Plan,
    pub chips: u32,
    pub instances: u32,
    pub usd: Spread,
    pub wall_hours: Spread,
    pub chip_hours: Spread,
    /// Probability of finishing within the deadline (None without a deadline).
    pub p_within_deadline: Option<f64>,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Verdict {
    pub trainium: Option<Pick>,
    pub nvidia: Option<Pick>,
    /// P(the Trainium pick costs less than the NVIDIA pick), from the paired trials.
    pub p_trainium_cheaper: Option<f64>,
    /// P(the Trainium pick finishes sooner).
    pub p_trainium_faster: Option<f64>,
    /// The deadline the picks are held to, hours (None when the cluster size was given).
    pub deadline_hours: Option<f64>,
    /// Spot options were left out (runs longer than this many days).
    pub spot_left_out_beyond_days: Option<f64>,
    /// The inputs that move the Trainium-to-NVIDIA cost ratio most, largest first.
    pub swings: Vec<Swing>,
    pub trials: usize,
    pub seed: u64,
}

/// Settings of the verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VerdictRules {
    /// Leave spot out for runs longer than this (days); `f64::INFINITY` keeps spot.
    pub spot_max_days: f64,
    /// The deadline, hours (None when the cluster size was given).
    pub deadline_hours: Option<f64>,
}

/// The verdict over `options` and their simulation.
pub fn decide(options: &[OptionEstimate], sim: &Simulation, rules: &VerdictRules) -> Verdict {
    let eligible = |i: usize| {
        let o = &options[i];
        o.plan != Plan::Spot || o.wall_hours <= rules.spot_max_days * 24.0
    };
    let spot_dropped = (0..options.len()).any(|i| !eligible(i));
    let pick = |family: Family| {
        (0..options.len())
            .filter(|&i| eligible(i) && Family::of_vendor(&options[i].vendor) == family)
            .min_by(|&a, &b| {
                sim.spreads[a]
                    .usd
                    .median
                    .total_cmp(&sim.spreads[b].usd.median)
            })
            .map(|i| {
                let o = &options[i];
                let s = &sim.spreads[i];
                Pick {
                    family,
                    option: i,
                    vendor: o.vendor.clone(),
                    chip: o.accelerator.clone(),
                    instance: o.instance.clone(),
                    plan: o.plan,
                    chips: o.chips,
                    instances: o.instances,
                    usd: s.usd,
                    wall_hours: s.wall_hours,
                    chip_hours: s.chip_hours,
                    p_within_deadline: rules.deadline_hours.map(|h| sim.p_within(i, h)),
                }
            })
    };
    let trainium = pick(Family::Trainium);
    let nvidia = pick(Family::Nvidia);
    let (p_cheaper, p_faster, swings) = match (&trainium, &nvidia) {
        (Some(t), Some(n)) => (
            Some(sim.p_cheaper(t.option, n.option)),
            Some(sim.p_faster(t.option, n.option)),
            sim.swings(t.option, n.option),
        ),
        _ => (None, None, Vec::new()),
    };
    Verdict {
        trainium,
        nvidia,
        p_trainium_cheaper: p_cheaper,
        p_trainium_faster: p_faster,
        deadline_hours: rules.deadline_hours,
        spot_left_out_beyond_days: spot_dropped.then_some(rules.spot_max_days),
        swings,
        trials: sim.trials,
        seed: sim.seed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::model::estimate::{self, ClusterSize, Scenario};
    use crate::model::uncertainty::{Inputs, simulate};
    use crate::model::{Assumptions, Profile, validation};

    fn priced(days: f64) -> Vec<OptionEstimate> {
        let (_, w, _) = validation::llama2_runs().remove(0);
        estimate::estimate_all(
            &Profile::from_transformer(&w),
            &Catalog::bundled(),
            &Scenario::Published,
            ClusterSize::DeadlineDays(days),
            &Assumptions::default(),
        )
        .0
    }

    #[test]
    fn the_verdict_names_one_option_of_each_family_and_leaves_long_spot_runs_out() {
        let options = priced(30.0);
        let sim = simulate(
            &options,
            &Inputs::stated(&options, 0.9, false, false),
            2_000,
            0,
        );
        let rules = VerdictRules {
            spot_max_days: DEFAULT_SPOT_MAX_DAYS,
            deadline_hours: Some(30.0 * 24.0),
        };
        let v = decide(&options, &sim, &rules);
        let t = v.trainium.as_ref().expect("a Trainium option");
        let n = v.nvidia.as_ref().expect("an NVIDIA option");
        assert_eq!(t.family, Family::Trainium);
        assert_eq!(t.vendor, "AWS");
        assert_eq!(n.vendor, "NVIDIA");
        // A month-long run: spot is out.
        assert_ne!(t.plan, Plan::Spot);
        assert_ne!(n.plan, Plan::Spot);
        assert_eq!(v.spot_left_out_beyond_days, Some(1.0));
        let p = v.p_trainium_cheaper.unwrap();
        assert!((0.0..=1.0).contains(&p));
        // Each pick is its family's cheapest eligible option by median.
        for (i, o) in options.iter().enumerate() {
            if o.plan != Plan::Spot && Family::of_vendor(&o.vendor) == Family::Trainium {
                assert!(sim.spreads[i].usd.median >= t.usd.median);
            }
        }
        // Keeping spot can only make a pick cheaper.
        let keep = decide(
            &options,
            &sim,
            &VerdictRules {
                spot_max_days: f64::INFINITY,
                ..rules
            },
        );
        assert!(keep.trainium.unwrap().usd.median <= t.usd.median);
        assert_eq!(keep.spot_left_out_beyond_days, None);
    }
}
