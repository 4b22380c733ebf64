//! Which samples a report's metric was computed from, so that `compare` can bootstrap the
//! change instead of guessing it from two intervals.
//!
//! Every measured metric is `k · median(samples)^power`: a time is the median itself (power 1),
//! a rate or a roofline fraction is a constant over the median time (power −1).

use crate::report::schema::{Measurement, Report};

/// The samples behind a metric.
#[derive(Debug, Clone, Copy)]
pub struct SampleSource<'a> {
    pub samples: &'a [f64],
    /// +1: the metric grows with the median time; −1: it is inversely proportional to it.
    pub power: i32,
}

fn power_of(quantity: &str) -> Option<i32> {
    match quantity {
        "time" => Some(1),
        "gflops" | "roofline_fraction" => Some(-1),
        _ => None,
    }
}

/// The samples of metric `id` in `report`, if it is a measured (not counted) figure.
pub fn samples_of<'a>(report: &'a Report, id: &str) -> Option<SampleSource<'a>> {
    match &report.measurement {
        Measurement::Step(s) => {
            let (subject, quantity) = match id.strip_prefix("step_") {
                Some(q) => ("step", q),
                None => id.rsplit_once('.')?,
            };
            let power = power_of(quantity)?;
            let samples: &[f64] = if subject == "step" {
                &s.samples_s
            } else {
                let class = subject.strip_prefix("op.")?;
                &s.op_classes
                    .iter()
                    .find(|c| c.class.name() == class)?
                    .samples_s
            };
            Some(SampleSource { samples, power })
        }
        Measurement::Sweep(s) => {
            let (subject, quantity) = id.rsplit_once('.')?;
            let label = subject.strip_prefix("case.")?;
            let power = power_of(quantity)?;
            let case = s.cases.iter().find(|c| c.label == label)?;
            Some(SampleSource {
                samples: &case.samples_s,
                power,
            })
        }
    }
}

/// Splits a metric id into the subject measured and the quantity: `op.matmul.time` →
/// (`op.matmul`, `time`), `step_gflops` → (`step`, `gflops`), `case.<label>.time` →
/// (`case.<label>`, `time`).
pub fn split_id(id: &str) -> (&str, &str) {
    if let Some(q) = id.strip_prefix("step_") {
        return ("step", q);
    }
    id.rsplit_once('.').unwrap_or((id, "value"))
}
