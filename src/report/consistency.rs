//! A loaded report must agree with its own samples: the samples are the source of truth, and
//! every figure derived from them is recomputed here and compared with what the file says.
//! A file whose figures disagree with its samples (an edited summary, doubled samples under the
//! old statistics, a metric that no sample supports) is refused before anything compares,
//! gates or renders it. The rules are listed in `docs/report-schema.md` ("Consistency").
//!
//! What is recomputed (to a relative [`TOLERANCE`]):
//! - each summary's count, mean, median, standard deviation, MAD, range and Tukey outliers from
//!   its samples (step, op classes, sweep products);
//! - each summary's bootstrap intervals, bit for bit in practice, from the samples and the
//!   report's own `settings` (`confidence_level`, `resamples`, `seed`: the sampler's statistics
//!   are deterministic, `stats::summarize`) — when that costs at most [`RECOMPUTE_BUDGET`]
//!   resample draws for the whole report, which covers every ordinary report (a few hundred
//!   samples per series). Beyond it the intervals are checked, not recomputed: point inside the
//!   interval, the interval inside the samples' range, the standard error at most the range and
//!   the confidence level the settings';
//! - rates (`gflops`) from the FLOPs and the median time, roofline fractions from the report's
//!   roofline, the FLOP accounting's relative difference and the op classes' FLOPs adding up to
//!   the step's, a product's FLOPs and bytes from its shape;
//! - the flat `metrics` list, which must be exactly the one the measurement and the counts give
//!   (`report::report_metrics`);
//! - the counts' per-step figures from their runs' raw totals (`measure::counts::per_step`), and
//!   what the runs must hold (two, fewer steps first; the cache events exactly when the caches
//!   were simulated);
//! - each roofline rate's median from its samples, the scaling fit from its points.
//!
//! Not recomputed: the modelled `cost` (it needs the catalog the report was priced with; its
//! inputs are compared by `compare`), and the warm-up times (only their values are checked, in
//! `store::validate`).

use super::schema::{Measurement, Report, StepMeasurement, SweepMeasurement};
use crate::measure::execute::{ACCOUNTING_TOLERANCE, rate_gflops};
use crate::measure::probe::Roofline;
use crate::stats::{self, Estimate, Summary};

/// Largest relative difference between a stored figure and the one recomputed from the samples.
/// The statistics are deterministic IEEE-754 arithmetic, so a file costbench wrote agrees
/// exactly; the tolerance only absorbs a future change of summation order.
pub const TOLERANCE: f64 = 1e-9;

/// Most bootstrap resample draws (samples × resamples, summed over every summary, mean and
/// median) spent recomputing a report's intervals on load: about a quarter of a second. A
/// report of 10 series of 100 samples at 10,000 resamples needs 2·10⁷.
pub const RECOMPUTE_BUDGET: u128 = 25_000_000;

/// Most bootstrap resamples a report's settings may name: every costbench so far uses 10,000.
/// A larger figure would only serve to push a report past [`RECOMPUTE_BUDGET`], where its
/// intervals are no longer recomputed; beyond it now lies only a report of thousands of real
/// samples per series.
pub const MAX_RESAMPLES: usize = 10_000;

/// Fewest samples a measured series holds: costbench's sampler never stops before two.
pub const MIN_SAMPLES: usize = 2;

/// Checks `r` against its own samples; `Err` names the field, what it holds and what was
/// expected.
pub fn check(r: &Report) -> Result<(), String> {
    let s = &r.settings;
    if !(s.confidence_level > 0.0 && s.confidence_level < 1.0) {
        return Err(format!(
            "settings.confidence_level: expected a fraction between 0 and 1, found {}",
            s.confidence_level
        ));
    }
    if !(1..=MAX_RESAMPLES).contains(&s.resamples) {
        return Err(format!(
            "settings.resamples: expected 1 to {MAX_RESAMPLES} (what costbench uses), found {}",
            s.resamples
        ));
    }
    let draws: u128 = series(&r.measurement)
        .map(|xs| 2 * xs.len() as u128 * s.resamples as u128)
        .sum();
    let ck = Checker {
        confidence_level: s.confidence_level,
        resamples: s.resamples,
        seed: s.seed,
        recompute_intervals: draws <= RECOMPUTE_BUDGET,
    };
    if let Some(roof) = &r.roofline {
        roofline(roof)?;
    }
    match &r.measurement {
        Measurement::Step(m) => step(&ck, m, r.roofline.as_ref())?,
        Measurement::Sweep(sw) => sweep(&ck, sw, r.roofline.as_ref())?,
    }
    if let Some(c) = &r.counts {
        counts(c)?;
    }
    metrics(r)?;
    if let Some(sc) = &r.scaling {
        scaling(sc)?;
    }
    Ok(())
}

/// The measured series of a measurement (step, op classes, products).
fn series(m: &Measurement) -> Box<dyn Iterator<Item = &[f64]> + '_> {
    match m {
        Measurement::Step(m) => Box::new(
            std::iter::once(m.samples_s.as_slice())
                .chain(m.op_classes.iter().map(|c| c.samples_s.as_slice())),
        ),
        Measurement::Sweep(sw) => Box::new(sw.cases.iter().map(|c| c.samples_s.as_slice())),
    }
}

/// Whether `a` and `b` agree to [`TOLERANCE`] (both NaN agree: a figure that could not be
/// computed).
pub fn agree(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= TOLERANCE * a.abs().max(b.abs())
}

/// `Err` unless `found` agrees with `expected`.
fn same(field: &str, found: f64, expected: f64, what: &str) -> Result<(), String> {
    if agree(found, expected) {
        Ok(())
    } else {
        Err(format!(
            "{field}: found {found}, expected {expected} ({what})"
        ))
    }
}

/// `Err` unless the estimates agree figure by figure.
fn same_estimate(
    field: &str,
    found: &Estimate,
    expected: &Estimate,
    what: &str,
) -> Result<(), String> {
    same(&format!("{field}.point"), found.point, expected.point, what)?;
    same(&format!("{field}.lower"), found.lower, expected.lower, what)?;
    same(&format!("{field}.upper"), found.upper, expected.upper, what)?;
    same(
        &format!("{field}.confidence_level"),
        found.confidence_level,
        expected.confidence_level,
        what,
    )?;
    same(
        &format!("{field}.standard_error"),
        found.standard_error,
        expected.standard_error,
        what,
    )
}

struct Checker {
    confidence_level: f64,
    resamples: usize,
    seed: u64,
    recompute_intervals: bool,
}

impl Checker {
    /// `summary` (at `field`) against the samples `xs` (at `samples_field`).
    fn summary(
        &self,
        field: &str,
        samples_field: &str,
        xs: &[f64],
        summary: &Summary,
    ) -> Result<(), String> {
        if xs.len() < MIN_SAMPLES {
            return Err(format!(
                "{samples_field}: expected at least {MIN_SAMPLES} samples (costbench's sampler takes at least two), found {}",
                xs.len()
            ));
        }
        if summary.n != xs.len() {
            return Err(format!(
                "{field}.n: found {}, expected {} (the number of {samples_field})",
                summary.n,
                xs.len()
            ));
        }
        let of = |what: &str| format!("the {what} of {samples_field}");
        let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        same(&format!("{field}.min"), summary.min, min, &of("smallest"))?;
        same(&format!("{field}.max"), summary.max, max, &of("largest"))?;
        same(
            &format!("{field}.median.point"),
            summary.median.point,
            stats::median(xs),
            &of("median"),
        )?;
        same(
            &format!("{field}.mean.point"),
            summary.mean.point,
            stats::mean(xs),
            &of("mean"),
        )?;
        same(
            &format!("{field}.std_dev"),
            summary.std_dev,
            stats::std_dev(xs),
            &of("standard deviation"),
        )?;
        same(
            &format!("{field}.mad"),
            summary.mad,
            stats::mad(xs),
            &of("MAD"),
        )?;
        let tukey = stats::tukey(xs);
        let (o, t) = (&summary.outliers, &tukey);
        for (name, found, expected) in [
            ("low_severe", o.low_severe, t.low_severe),
            ("low_mild", o.low_mild, t.low_mild),
            ("high_mild", o.high_mild, t.high_mild),
            ("high_severe", o.high_severe, t.high_severe),
        ] {
            if found != expected {
                return Err(format!(
                    "{field}.outliers.{name}: found {found}, expected {expected} ({})",
                    of("Tukey outlier count")
                ));
            }
        }
        for (i, (&found, &expected)) in o.fences.iter().zip(&t.fences).enumerate() {
            same(
                &format!("{field}.outliers.fences[{i}]"),
                found,
                expected,
                &of("Tukey fence"),
            )?;
        }
        for (name, e) in [("mean", &summary.mean), ("median", &summary.median)] {
            self.interval(&format!("{field}.{name}"), e, min, max)?;
        }
        if self.recompute_intervals {
            let again = stats::summarize(xs, self.confidence_level, self.resamples, self.seed);
            let what = format!(
                "the bootstrap of {samples_field} with the report's settings ({} resamples, seed {})",
                self.resamples, self.seed
            );
            same_estimate(&format!("{field}.mean"), &summary.mean, &again.mean, &what)?;
            same_estimate(
                &format!("{field}.median"),
                &summary.median,
                &again.median,
                &what,
            )?;
        }
        Ok(())
    }

    /// What any percentile-bootstrap estimate of a location of samples in `[min, max]` is:
    /// finite, its point inside its interval, the interval inside the samples' range, its
    /// standard error at most that range, at the settings' confidence level.
    fn interval(&self, field: &str, e: &Estimate, min: f64, max: f64) -> Result<(), String> {
        for (name, x) in [
            ("point", e.point),
            ("lower", e.lower),
            ("upper", e.upper),
            ("standard_error", e.standard_error),
        ] {
            if !x.is_finite() {
                return Err(format!(
                    "{field}.{name}: expected a finite number, found {x}"
                ));
            }
        }
        if e.lower > e.upper {
            return Err(format!(
                "{field}: lower {} is above upper {}; expected lower ≤ point ≤ upper",
                e.lower, e.upper
            ));
        }
        let slack = TOLERANCE * max.abs();
        if e.point < e.lower - slack || e.point > e.upper + slack {
            return Err(format!(
                "{field}.point: found {}, expected within its interval [{}, {}]",
                e.point, e.lower, e.upper
            ));
        }
        if e.lower < min - slack || e.upper > max + slack {
            return Err(format!(
                "{field}: interval [{}, {}] reaches outside the samples' range [{min}, {max}]; a bootstrap interval cannot",
                e.lower, e.upper
            ));
        }
        if e.standard_error < 0.0 || e.standard_error > (max - min) + slack {
            return Err(format!(
                "{field}.standard_error: found {}, expected from 0 to the samples' range {}",
                e.standard_error,
                max - min
            ));
        }
        same(
            &format!("{field}.confidence_level"),
            e.confidence_level,
            self.confidence_level,
            "settings.confidence_level",
        )
    }
}

/// A stored roofline fraction against the one its rate and the report's roofline give.
fn same_fraction(
    field: &str,
    found: Option<&Estimate>,
    roof: Option<&Roofline>,
    rate: &Estimate,
    intensity: f64,
    f64_peak: bool,
) -> Result<(), String> {
    // The rule `measure::execute` records fractions by.
    let expected = crate::measure::execute::roofline_fraction(roof, rate, intensity, f64_peak);
    match (found, expected) {
        (None, None) => Ok(()),
        (Some(f), Some(e)) => same_estimate(
            field,
            f,
            &e,
            "the rate divided by the report's roofline at the intensity",
        ),
        (Some(_), None) => Err(format!(
            "{field}: present, expected null (the report has no roofline it could be a fraction of)"
        )),
        (None, Some(_)) => Err(format!(
            "{field}: null, expected the rate as a fraction of the report's roofline"
        )),
    }
}

fn step(ck: &Checker, m: &StepMeasurement, roof: Option<&Roofline>) -> Result<(), String> {
    let f = "measurement";
    ck.summary(
        &format!("{f}.step_time_s"),
        &format!("{f}.samples_s"),
        &m.samples_s,
        &m.step_time_s,
    )?;
    let executed = m.flops.executed_per_step;
    same_estimate(
        &format!("{f}.gflops"),
        &m.gflops,
        &rate_gflops(executed, &m.step_time_s.median),
        "flops.executed_per_step ÷ the median step time",
    )?;
    let a = &m.flops;
    same(
        &format!("{f}.flops.relative_difference"),
        a.relative_difference,
        (a.executed_per_step as f64 - a.analytic_per_step as f64)
            / a.analytic_per_step.max(1) as f64,
        "(executed − analytic) ÷ analytic",
    )?;
    if a.relative_difference.abs() > ACCOUNTING_TOLERANCE {
        return Err(format!(
            "{f}.flops.relative_difference: found {}, expected at most {ACCOUNTING_TOLERANCE} in size (a run whose executed FLOPs differ more from the formula writes no report)",
            a.relative_difference
        ));
    }
    let mut seen = Vec::new();
    let mut class_flops: u128 = 0;
    for (i, c) in m.op_classes.iter().enumerate() {
        let cf = format!("{f}.op_classes[{i}]");
        if seen.contains(&c.class) {
            return Err(format!(
                "{cf}.class: {} appears twice; expected each op class once",
                c.class.name()
            ));
        }
        seen.push(c.class);
        if c.samples_s.len() != m.samples_s.len() {
            return Err(format!(
                "{cf}.samples_s: found {} samples, expected {} (one per sampled step, as {f}.samples_s)",
                c.samples_s.len(),
                m.samples_s.len()
            ));
        }
        ck.summary(
            &format!("{cf}.time_s"),
            &format!("{cf}.samples_s"),
            &c.samples_s,
            &c.time_s,
        )?;
        same_estimate(
            &format!("{cf}.gflops"),
            &c.gflops,
            &rate_gflops(c.flops, &c.time_s.median),
            "flops ÷ the class's median time",
        )?;
        let intensity = c.flops as f64 / c.bytes.max(1) as f64;
        same(
            &format!("{cf}.arithmetic_intensity"),
            c.arithmetic_intensity,
            intensity,
            "flops ÷ bytes",
        )?;
        same_fraction(
            &format!("{cf}.roofline_fraction"),
            c.roofline_fraction.as_ref(),
            roof,
            &c.gflops,
            intensity,
            false,
        )?;
        class_flops += u128::from(c.flops);
    }
    if !m.op_classes.is_empty() && class_flops != u128::from(executed) {
        return Err(format!(
            "{f}.flops.executed_per_step: found {executed}, expected {class_flops} (the sum of the op classes' flops)"
        ));
    }
    Ok(())
}

fn sweep(ck: &Checker, sw: &SweepMeasurement, roof: Option<&Roofline>) -> Result<(), String> {
    if sw.cases.is_empty() {
        return Err("measurement.cases: expected at least one product, found none".into());
    }
    for (i, c) in sw.cases.iter().enumerate() {
        let cf = format!("measurement.cases[{i}]");
        if sw.cases[..i].iter().any(|o| o.label == c.label) {
            return Err(format!(
                "{cf}.label: '{}' appears twice; expected each product once",
                crate::diag::show::short(&c.label)
            ));
        }
        ck.summary(
            &format!("{cf}.time_s"),
            &format!("{cf}.samples_s"),
            &c.samples_s,
            &c.time_s,
        )?;
        let elem: u128 = match c.dtype.as_str() {
            "f32" => 4,
            "f64" => 8,
            other => {
                return Err(format!(
                    "{cf}.dtype: expected f32 or f64, found '{}'",
                    crate::diag::show::short(other)
                ));
            }
        };
        let (m, n, k, b) = (c.m as u128, c.n as u128, c.k as u128, c.batch as u128);
        let flops = b * 2 * m * n * k;
        if u128::from(c.flops) != flops {
            return Err(format!(
                "{cf}.flops: found {}, expected {flops} (batch · 2·m·n·k)",
                c.flops
            ));
        }
        let bytes = b * elem * (m * k + k * n + m * n);
        if u128::from(c.bytes) != bytes {
            return Err(format!(
                "{cf}.bytes: found {}, expected {bytes} (batch · element size · (m·k + k·n + m·n))",
                c.bytes
            ));
        }
        same_estimate(
            &format!("{cf}.gflops"),
            &c.gflops,
            &rate_gflops(c.flops, &c.time_s.median),
            "flops ÷ the product's median time",
        )?;
        same_fraction(
            &format!("{cf}.roofline_fraction"),
            c.roofline_fraction.as_ref(),
            roof,
            &c.gflops,
            c.flops as f64 / c.bytes as f64,
            elem == 8,
        )?;
    }
    Ok(())
}

/// The counts' per-step figures must be those their raw totals give, from runs counted the way
/// `measure::counts` counts.
fn counts(c: &crate::measure::counts::Counts) -> Result<(), String> {
    use crate::measure::counts::{CACHES, FIGURES, TOOL, per_step};
    if c.tool != TOOL {
        return Err(format!(
            "counts.tool: found '{}', expected '{TOOL}'",
            crate::diag::show::short(&c.tool)
        ));
    }
    if c.threads != 1 {
        return Err(format!(
            "counts.threads: found {}, expected 1 (counts are of a step on one thread)",
            c.threads
        ));
    }
    match (c.cache_sim, &c.caches) {
        (true, Some(g)) if *g == CACHES => {}
        (true, _) => {
            return Err(
                "counts.caches: expected the fixed geometry costbench simulates (measure::counts::CACHES) when cache_sim is true"
                    .into(),
            );
        }
        (false, None) => {}
        (false, Some(_)) => {
            return Err("counts.caches: present, expected null when cache_sim is false".into());
        }
    }
    let cache_events: Vec<&str> = FIGURES
        .iter()
        .filter(|f| f.cache)
        .flat_map(|f| f.events.iter().copied())
        .filter(|e| *e != "Ir")
        .collect();
    for (i, run) in c.runs.iter().enumerate() {
        for e in &cache_events {
            if run.events.contains_key(*e) != c.cache_sim {
                return Err(format!(
                    "counts.runs[{i}].events: {e} is {}, expected it {} (cache_sim is {})",
                    if c.cache_sim { "missing" } else { "present" },
                    if c.cache_sim { "present" } else { "absent" },
                    c.cache_sim
                ));
            }
        }
    }
    let expected = per_step(&c.runs).map_err(|e| format!("counts.{e}"))?;
    for f in &FIGURES {
        let field = format!("counts.per_step.{}", f.name);
        match (c.per_step.get(f.name), expected.get(f.name)) {
            (Some(found), Some(e)) => same(
                &field,
                found,
                e,
                "(total of the longer run − total of the shorter) ÷ the difference in steps",
            )?,
            (None, None) => {}
            (Some(_), None) => {
                return Err(format!(
                    "{field}: present, expected null (the runs do not hold its events)"
                ));
            }
            (None, Some(e)) => {
                return Err(format!(
                    "{field}: null, expected {e} (from the runs' totals)"
                ));
            }
        }
    }
    Ok(())
}

/// The metrics must be exactly those the measurement and the counts give.
fn metrics(r: &Report) -> Result<(), String> {
    let derived = super::report_metrics(&r.measurement, r.counts.as_ref());
    for (i, (found, expected)) in r.metrics.iter().zip(&derived).enumerate() {
        let mf = format!("metrics[{i}]");
        if found.id != expected.id {
            return Err(format!(
                "{mf}.id: found '{}', expected '{}' (the metrics are derived from the measurement, in its order)",
                crate::diag::show::short(&found.id),
                crate::diag::show::short(&expected.id)
            ));
        }
        let id = crate::diag::show::short(&found.id);
        if found.unit != expected.unit
            || found.direction != expected.direction
            || found.machine_independent != expected.machine_independent
            || found.kind.is_some_and(|k| Some(k) != expected.kind)
        {
            return Err(format!(
                "{mf} ({id}): unit, direction, machine_independent or kind differ from the measurement's; expected {}, {:?}, {}, {}",
                expected.unit, expected.direction, expected.machine_independent, expected.kind().as_str()
            ));
        }
        same_estimate(
            &format!("{mf} ({id}).estimate"),
            &found.estimate,
            &expected.estimate,
            "the measurement's figure",
        )?;
    }
    if r.metrics.len() != derived.len() {
        let detail = match (r.metrics.get(derived.len()), derived.get(r.metrics.len())) {
            (Some(extra), _) => format!(
                "'{}' is not a figure of the measurement",
                crate::diag::show::short(&extra.id)
            ),
            (None, Some(missing)) => format!("'{}' is missing", missing.id),
            (None, None) => String::new(),
        };
        return Err(format!(
            "metrics: found {} metrics, expected the {} the measurement gives ({detail})",
            r.metrics.len(),
            derived.len()
        ));
    }
    Ok(())
}

fn roofline(r: &Roofline) -> Result<(), String> {
    for (name, rate) in [
        ("f32_gflops_one_thread", &r.f32_gflops_one_thread),
        ("f32_gflops_all_threads", &r.f32_gflops_all_threads),
        ("f64_gflops_one_thread", &r.f64_gflops_one_thread),
        ("f64_gflops_all_threads", &r.f64_gflops_all_threads),
        ("triad_gbps_one_thread", &r.triad_gbps_one_thread),
        ("triad_gbps_all_threads", &r.triad_gbps_all_threads),
    ] {
        let f = format!("roofline.{name}");
        if let Some((i, x)) = rate
            .samples
            .iter()
            .enumerate()
            .find(|(_, x)| !(x.is_finite() && **x > 0.0))
        {
            return Err(format!(
                "{f}.samples[{i}]: expected a positive, finite rate, found {x}"
            ));
        }
        if !(rate.median.is_finite() && rate.median > 0.0) {
            return Err(format!(
                "{f}.median: expected a positive, finite rate, found {}",
                rate.median
            ));
        }
        if !rate.samples.is_empty() {
            same(
                &format!("{f}.median"),
                rate.median,
                stats::median(&rate.samples),
                "the median of its samples",
            )?;
        }
    }
    Ok(())
}

fn scaling(sc: &crate::measure::scaling::ScalingCheck) -> Result<(), String> {
    for (i, p) in sc.points.iter().enumerate() {
        let f = format!("scaling.points[{i}]");
        if p.samples_s.is_empty() {
            return Err(format!(
                "{f}.samples_s: expected the step times the median comes from, found none"
            ));
        }
        same(
            &format!("{f}.median_s"),
            p.median_s,
            stats::median(&p.samples_s),
            "the median of its samples_s",
        )?;
    }
    let again = crate::measure::scaling::ScalingCheck::fit(sc.points.clone());
    let what = "the least-squares fit of the points";
    same(
        "scaling.intercept_s",
        sc.intercept_s,
        again.intercept_s,
        what,
    )?;
    same(
        "scaling.seconds_per_flop",
        sc.seconds_per_flop,
        again.seconds_per_flop,
        what,
    )?;
    same(
        "scaling.marginal_gflops",
        sc.marginal_gflops,
        again.marginal_gflops,
        what,
    )?;
    same("scaling.r_squared", sc.r_squared, again.r_squared, what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::map_times;
    use crate::report::schema::Measurement;

    fn fixture() -> Report {
        crate::report::store::parse(
            include_str!("../../tests/fixtures/reports/tiny.json"),
            "tiny.json",
        )
        .expect("the fixture loads")
    }

    fn step_median(r: &mut Report) -> &mut Estimate {
        match &mut r.measurement {
            Measurement::Step(m) => &mut m.step_time_s.median,
            Measurement::Sweep(_) => unreachable!("the fixture is a step"),
        }
    }

    /// The fixture's intervals are recomputed (58 samples × 10 series × 10,000 resamples × 2 =
    /// 1.16·10⁷ draws): narrowing one around its point is caught.
    #[test]
    fn intervals_are_recomputed_within_the_budget() {
        let mut r = fixture();
        assert!(check(&r).is_ok());
        let e = step_median(&mut r);
        (e.lower, e.upper) = (e.point, e.point);
        let err = check(&r).unwrap_err();
        assert!(
            err.starts_with("measurement.step_time_s.median.lower: found"),
            "{err}"
        );
        assert!(
            err.contains("bootstrap") && err.contains("10000 resamples"),
            "{err}"
        );
    }

    /// Past the budget (here 2,000 samples per series: 4·10⁸ draws) the intervals are checked,
    /// not recomputed, so loading stays fast; an interval outside the samples' range or around
    /// another point is still refused.
    #[test]
    fn past_the_budget_intervals_are_checked_against_the_samples() {
        let big = map_times(&fixture(), |xs| {
            xs.iter().cycle().take(2000).copied().collect()
        });
        let draws: u128 = series(&big.measurement)
            .map(|xs| 2 * xs.len() as u128 * big.settings.resamples as u128)
            .sum();
        assert!(draws > RECOMPUTE_BUDGET);
        let start = std::time::Instant::now();
        assert_eq!(check(&big), Ok(()));
        assert!(start.elapsed().as_secs_f64() < 2.0, "{:?}", start.elapsed());

        let mut wide = big.clone();
        step_median(&mut wide).upper = 1.0;
        let err = check(&wide).unwrap_err();
        assert!(err.contains("outside the samples' range"), "{err}");

        let mut off = big;
        let e = step_median(&mut off);
        e.lower = e.upper + 1e-6;
        let err = check(&off).unwrap_err();
        assert!(err.contains("above upper"), "{err}");
    }

    /// The fixture with counts of two runs (1 and 2 steps) attached, its metrics rederived.
    fn with_counts(cache_sim: bool) -> Report {
        use crate::measure::counts::{CACHES, CountRun, Counts, per_step};
        let events = |k: u64| {
            let mut e = vec![("Ir", 32_000_000 + 20_000_000 * k)];
            if cache_sim {
                e.extend([
                    ("I1mr", 14_000 + 4_000 * k),
                    ("ILmr", 9_756),
                    ("Dr", 7_784_522 + 5_000_000 * k),
                    ("D1mr", 570_048 + 500_000 * k),
                    ("DLmr", 8_210 + k),
                    ("Dw", 4_499_170 + 800_000 * k),
                    ("D1mw", 138_137 + 87_000 * k),
                    ("DLmw", 60_084 + 3 * k),
                ]);
            }
            e.into_iter().map(|(n, v)| (n.to_string(), v)).collect()
        };
        let runs: Vec<CountRun> = [1, 2]
            .into_iter()
            .map(|steps| CountRun {
                steps,
                events: events(steps),
                seconds: 10.0,
            })
            .collect();
        let mut r = fixture();
        r.counts = Some(Counts {
            tool: "cachegrind".into(),
            tool_version: "valgrind-3.19.0".into(),
            cache_sim,
            caches: cache_sim.then_some(CACHES),
            threads: 1,
            seed: 0,
            isa: "avx2+fma".into(),
            executable_sha256: "0".repeat(64),
            per_step: per_step(&runs).unwrap(),
            runs,
        });
        r.metrics = crate::report::report_metrics(&r.measurement, r.counts.as_ref());
        r
    }

    #[test]
    fn counts_agree_with_their_raw_totals() {
        for cache_sim in [false, true] {
            let r = with_counts(cache_sim);
            assert_eq!(check(&r), Ok(()));
            let ids: Vec<&str> = r
                .metrics
                .iter()
                .filter(|m| m.id.starts_with("count."))
                .map(|m| m.id.as_str())
                .collect();
            if cache_sim {
                assert_eq!(
                    ids,
                    [
                        "count.instructions",
                        "count.cache_refs",
                        "count.d1_misses",
                        "count.ll_misses"
                    ]
                );
            } else {
                assert_eq!(ids, ["count.instructions"]);
            }
            let m = &r.metrics[r.metrics.len() - ids.len()];
            assert_eq!(m.estimate.point, 20_000_000.0);
            assert_eq!((m.estimate.lower, m.estimate.upper), (m.estimate.point, m.estimate.point));
            // Saved and loaded back, the counts are the same.
            let back = crate::report::store::parse(&crate::report::store::to_json(&r), "r.json")
                .unwrap();
            assert_eq!(back, r);
        }
        // Without counts, the report has no `counts` key at all (files before 1.6 load as such).
        assert!(!crate::report::store::to_json(&fixture()).contains("\"counts\""));
    }

    #[test]
    fn counts_that_disagree_with_their_totals_are_refused_by_field() {
        let edit = |f: &dyn Fn(&mut crate::measure::counts::Counts)| {
            let mut r = with_counts(true);
            f(r.counts.as_mut().unwrap());
            check(&r).unwrap_err()
        };
        let e = edit(&|c| c.per_step.instructions += 1.0);
        assert!(
            e.starts_with("counts.per_step.instructions: found 20000001, expected 20000000"),
            "{e}"
        );
        let e = edit(&|c| *c.runs[1].events.get_mut("D1mw").unwrap() += 10);
        assert!(e.starts_with("counts.per_step.d1_misses: found"), "{e}");
        let e = edit(&|c| *c.runs[1].events.get_mut("Ir").unwrap() = 1);
        assert!(
            e.starts_with("counts.runs[1].events: instructions (Ir) is 1 after 2 steps"),
            "{e}"
        );
        let e = edit(&|c| c.runs.truncate(1));
        assert!(e.starts_with("counts.runs: expected two counted runs"), "{e}");
        let e = edit(&|c| c.cache_sim = false);
        assert!(e.starts_with("counts.caches: present"), "{e}");
        let e = edit(&|c| {
            c.cache_sim = false;
            c.caches = None;
        });
        assert!(e.starts_with("counts.runs[0].events: D"), "{e}");
        let e = edit(&|c| c.per_step.ll_misses = None);
        assert!(e.starts_with("counts.per_step.ll_misses: null"), "{e}");
        let e = edit(&|c| c.threads = 2);
        assert!(e.starts_with("counts.threads"), "{e}");
        // A count metric the counts do not support, or one missing.
        let mut r = with_counts(false);
        r.metrics.pop();
        let e = check(&r).unwrap_err();
        assert!(e.contains("'count.instructions' is missing"), "{e}");
        let mut r = with_counts(false);
        r.metrics.last_mut().unwrap().estimate.point *= 0.99;
        let e = check(&r).unwrap_err();
        assert!(e.contains("(count.instructions).estimate.point"), "{e}");
        let mut r = with_counts(false);
        r.counts = None;
        let e = check(&r).unwrap_err();
        assert!(e.contains("'count.instructions' is not a figure"), "{e}");
    }

    #[test]
    fn agreement_is_relative_and_nan_agrees_with_nan() {
        assert!(agree(1.0, 1.0 + 1e-12));
        assert!(!agree(1.0, 1.0 + 1e-6));
        assert!(agree(0.0, 0.0) && agree(f64::NAN, f64::NAN));
        assert!(!agree(0.0, 1e-300) && !agree(1.0, f64::NAN));
    }
}
