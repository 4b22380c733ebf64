//! `compare` on known distributions: the verdicts the issue asks for, from seeded normal samples.

use super::*;
use crate::report::schema::Direction::{BiggerIsBetter, SmallerIsBetter};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// `n` samples of N(mean, (cv·mean)²), seeded.
fn normal(n: usize, mean: f64, cv: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d = Normal::new(mean, cv * mean).unwrap();
    (0..n).map(|_| d.sample(&mut rng)).collect()
}

fn judge(base: &[f64], new: &[f64], direction: Direction) -> (Estimate, Verdict) {
    let s = Settings::default();
    let power = if direction == SmallerIsBetter { 1 } else { -1 };
    let (change, p) = sample_change(base, new, power, 1.0, &s);
    (
        change,
        verdict(&change, p, direction, s.noise, s.significance),
    )
}

#[test]
fn identical_samples_are_no_change() {
    let a = normal(30, 1.0, 0.01, 1);
    let (change, v) = judge(&a, &a, SmallerIsBetter);
    assert_eq!(change.point, 0.0);
    assert!(change.lower < 0.0 && change.upper > 0.0, "{change:?}");
    assert_eq!(v, Verdict::NoChange, "{change:?}");
}

#[test]
fn two_draws_of_one_low_noise_distribution_are_no_change() {
    let (change, v) = judge(
        &normal(30, 1.0, 0.01, 1),
        &normal(30, 1.0, 0.01, 2),
        SmallerIsBetter,
    );
    assert_eq!(v, Verdict::NoChange, "{change:?}");
}

#[test]
fn ten_percent_slower_with_low_noise_is_a_regression() {
    let (change, v) = judge(
        &normal(30, 1.0, 0.01, 1),
        &normal(30, 1.1, 0.01, 2),
        SmallerIsBetter,
    );
    assert!((change.point - 0.10).abs() < 0.01, "{change:?}");
    assert_eq!(v, Verdict::Regressed);
    // The same samples read as a rate (bigger is better): a 9% drop, also a regression.
    let (change, v) = judge(
        &normal(30, 1.0, 0.01, 1),
        &normal(30, 1.1, 0.01, 2),
        BiggerIsBetter,
    );
    assert!((change.point + 0.0909).abs() < 0.01, "{change:?}");
    assert_eq!(v, Verdict::Regressed);
}

#[test]
fn ten_percent_faster_with_low_noise_is_an_improvement() {
    let (_, v) = judge(
        &normal(30, 1.0, 0.01, 1),
        &normal(30, 0.9, 0.01, 2),
        SmallerIsBetter,
    );
    assert_eq!(v, Verdict::Improved);
}

/// Verdict counts over `trials` seeded pairs of draws, `[improved, regressed, no change,
/// inconclusive]`.
fn verdict_rates(n: usize, base_mean: f64, new_mean: f64, cv: f64, trials: u64) -> [usize; 4] {
    let s = Settings {
        resamples: 2000,
        ..Settings::default()
    };
    let mut counts = [0; 4];
    for t in 0..trials {
        let base = normal(n, base_mean, cv, 2 * t);
        let new = normal(n, new_mean, cv, 2 * t + 1);
        let (change, p) = sample_change(&base, &new, 1, 1.0, &s);
        let i = match verdict(&change, p, SmallerIsBetter, s.noise, s.significance) {
            Verdict::Improved => 0,
            Verdict::Regressed => 1,
            Verdict::NoChange => 2,
            _ => 3,
        };
        counts[i] += 1;
    }
    counts
}

#[test]
fn a_three_percent_shift_in_five_percent_noise_is_inconclusive() {
    // 30 samples a side: the median's interval is about ±3%, so a 3% shift cannot be told from
    // a 2% one. Over 100 seeded draws the verdict is mostly inconclusive and never "improved";
    // a draw that lands far from 3% may honestly read as a regression.
    let [improved, regressed, no_change, inconclusive] = verdict_rates(30, 1.0, 1.03, 0.05, 100);
    eprintln!(
        "3% in 5% noise: {improved} improved, {regressed} regressed, {no_change} no change, {inconclusive} inconclusive"
    );
    assert_eq!(improved, 0);
    assert!(inconclusive >= 75, "{inconclusive}");
    assert!(no_change <= 5, "{no_change}");
    // The fixed draw of the example.
    let (change, v) = judge(
        &normal(30, 1.0, 0.05, 10),
        &normal(30, 1.03, 0.05, 11),
        SmallerIsBetter,
    );
    assert_eq!(v, Verdict::Inconclusive, "{change:?}");
}

#[test]
fn verdicts_over_many_draws_match_the_truth() {
    // 10% slower, 1% noise: always a regression. Equal distributions, 1% noise: never a
    // regression or an improvement.
    let [i, r, _, _] = verdict_rates(30, 1.0, 1.10, 0.01, 50);
    assert_eq!((i, r), (0, 50));
    let [i, r, no_change, _] = verdict_rates(30, 1.0, 1.0, 0.01, 50);
    assert_eq!((i, r), (0, 0));
    assert!(no_change >= 45, "{no_change}");
}

#[test]
fn a_shift_inside_the_band_is_no_change_even_when_significant() {
    // 1% slower with 0.1% noise: significant, but within ±2%: criterion's "within noise".
    let base = normal(40, 1.0, 0.001, 1);
    let new = normal(40, 1.01, 0.001, 2);
    let (_, _, p) = stats::mann_whitney_u(&base, &new);
    assert!(p < 0.001);
    let (_, v) = judge(&base, &new, SmallerIsBetter);
    assert_eq!(v, Verdict::NoChange);
}

#[test]
fn the_verdict_rule_at_its_edges() {
    let e = |lower: f64, upper: f64| Estimate {
        point: (lower + upper) / 2.0,
        lower,
        upper,
        confidence_level: 0.95,
        standard_error: 0.0,
    };
    let v = |c: Estimate, p: f64| verdict(&c, Some(p), SmallerIsBetter, 0.02, 0.05);
    assert_eq!(v(e(0.03, 0.05), 0.01), Verdict::Regressed);
    // Wholly outside the band but not significant: criterion says no.
    assert_eq!(v(e(0.03, 0.05), 0.2), Verdict::Inconclusive);
    assert_eq!(v(e(0.01, 0.05), 0.01), Verdict::Inconclusive);
    assert_eq!(v(e(-0.05, -0.03), 0.01), Verdict::Improved);
    assert_eq!(v(e(-0.02, 0.02), 0.9), Verdict::NoChange);
    assert_eq!(v(e(f64::NAN, 0.0), 0.9), Verdict::Inconclusive);
    assert_eq!(
        verdict(&e(0.03, 0.05), None, SmallerIsBetter, 0.02, 0.05),
        Verdict::Inconclusive
    );
}

#[test]
fn the_delta_method_agrees_with_the_bootstrap_roughly() {
    let a = normal(50, 1.0, 0.02, 1);
    let b = normal(50, 1.1, 0.02, 2);
    let s = Settings::default();
    let ea = stats::bootstrap(&a, stats::median, 2000, 0.95, 0);
    let eb = stats::bootstrap(&b, stats::median, 2000, 0.95, 0);
    let (d, p) = delta_change(&ea, &eb, 0.95);
    let (boot, _) = sample_change(&a, &b, 1, 1.0, &s);
    assert!((d.point - boot.point).abs() < 1e-12);
    assert!(((d.upper - d.lower) / (boot.upper - boot.lower) - 1.0).abs() < 0.5);
    assert!(p.unwrap() < 0.001);
    assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-5);
}

/// The committed fixture: a real quick run of `tests/fixtures/tiny.toml` with 58 step samples
/// (a freshly measured report could have too few samples for any test to be significant).
pub(super) fn template() -> Report {
    crate::report::store::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/reports/tiny.json"
    )))
    .expect("the fixture loads")
}

fn side(r: &Report) -> Side {
    let mut reports = BTreeMap::new();
    reports.insert(
        r.workload.name.clone(),
        (
            PathBuf::from(format!("{}.json", r.workload.name)),
            r.clone(),
        ),
    );
    Side {
        shown: "x".into(),
        reports,
        skipped: Vec::new(),
    }
}

#[test]
fn the_gate_fires_on_a_planted_two_fold_slowdown_and_not_on_a_rerun() {
    let base = template();
    let gate = Settings {
        fail_on_regression: Some(0.05),
        ..Settings::default()
    };
    let slow = crate::report::map_times(&base, |xs| xs.iter().map(|x| 2.0 * x).collect());
    let c = compare(&side(&base), &side(&slow), &gate);
    assert!(c.gate_failed());
    let hits: Vec<&str> = c
        .gate
        .as_ref()
        .unwrap()
        .triggered
        .iter()
        .map(|h| h.metric.as_str())
        .collect();
    assert!(
        hits.contains(&"step_time") && hits.contains(&"step_gflops"),
        "{hits:?}"
    );
    let step = c.pairs[0]
        .metrics
        .iter()
        .find(|m| m.id == "step_time")
        .unwrap();
    assert!((step.change.unwrap().point - 1.0).abs() < 1e-9);
    // FLOP counts did not move.
    let flops = c.pairs[0]
        .metrics
        .iter()
        .find(|m| m.id == "step_flops")
        .unwrap();
    assert_eq!(flops.verdict, Verdict::NoChange);

    // An identical rerun: the same report, and the same samples in another order.
    let c = compare(&side(&base), &side(&base), &gate);
    assert!(!c.gate_failed(), "{:?}", c.gate);
    let shuffled = crate::report::map_times(&base, |xs| xs.iter().rev().copied().collect());
    let c = compare(&side(&base), &side(&shuffled), &gate);
    assert!(!c.gate_failed(), "{:?}", c.gate);
    assert!(
        c.pairs[0]
            .metrics
            .iter()
            .all(|m| m.verdict != Verdict::Regressed)
    );
}

#[test]
fn a_metric_on_one_side_only_is_reported() {
    let base = template();
    let mut new = base.clone();
    let gone = new.metrics.remove(0);
    new.metrics.push(crate::report::schema::Metric {
        id: "op.future.time".into(),
        ..gone.clone()
    });
    let c = compare(&side(&base), &side(&new), &Settings::default());
    let p = &c.pairs[0];
    let find = |id: &str| p.metrics.iter().find(|m| m.id == id).unwrap().verdict;
    assert_eq!(find(&gone.id), Verdict::OnlyInBase);
    assert_eq!(find("op.future.time"), Verdict::OnlyInNew);
}

#[test]
fn different_machines_compare_machine_independent_figures_only() {
    let base = template();
    let mut new = base.clone();
    new.machine.cpu_model = "Some Other CPU".into();
    let c = compare(&side(&base), &side(&new), &Settings::default());
    let p = &c.pairs[0];
    assert_eq!(
        p.machine_differences.len(),
        1,
        "{:?}",
        p.machine_differences
    );
    assert!(!p.raw_times_compared);
    assert!(p.not_compared.contains(&"step_time".to_string()));
    assert!(p.metrics.iter().all(|m| m.machine_independent));
    assert!(p.metrics.iter().all(|m| m.kind != MetricKind::Measured));
    assert!(p.metrics.iter().any(|m| m.id == "step_flops"));
    let raw = Settings {
        raw_times: true,
        ..Settings::default()
    };
    let c = compare(&side(&base), &side(&new), &raw);
    assert!(c.pairs[0].metrics.iter().any(|m| m.id == "step_time"));
}

#[test]
fn workloads_in_one_directory_only_are_listed() {
    let a = template();
    let mut b = a.clone();
    b.workload.name = "other".into();
    let mut both = side(&a);
    both.reports
        .insert("other".into(), (PathBuf::from("o.json"), b.clone()));
    let mut c_side = side(&a);
    let mut third = a.clone();
    third.workload.name = "third".into();
    c_side
        .reports
        .insert("third".into(), (PathBuf::from("t.json"), third));
    let c = compare(&both, &c_side, &Settings::default());
    assert_eq!(c.pairs.len(), 1);
    assert_eq!(c.only_in_base, vec!["other".to_string()]);
    assert_eq!(c.only_in_new, vec!["third".to_string()]);
}

#[test]
fn baseline_names_are_checked() {
    let root = Path::new("results");
    assert_eq!(
        baseline_dir(root, "main").unwrap(),
        Path::new("results/baselines/main")
    );
    for bad in ["", "../x", ".hidden", "a/b", &"x".repeat(65)] {
        let e = baseline_dir(root, bad).unwrap_err().to_string();
        assert!(e.contains("baseline name"), "{e}");
    }
}

#[test]
fn the_committed_comparison_schema_matches_the_types() {
    let generated = json_schema();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/compare-schema.json");
    if std::env::var_os("COSTBENCH_UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/compare-schema.json is out of date: run `COSTBENCH_UPDATE_SCHEMA=1 cargo test --release schema`"
    );
}

#[test]
fn the_table_is_coloured_only_when_asked() {
    let base = template();
    let slow = crate::report::map_times(&base, |xs| xs.iter().map(|x| 2.0 * x).collect());
    let c = compare(&side(&base), &side(&slow), &Settings::default());
    let plain = crate::render::export::table::comparison_table(&c, false);
    let coloured = crate::render::export::table::comparison_table(&c, true);
    assert!(!plain.contains('\x1b'));
    // Regressed verdicts in red (SGR 38;5;9 or 31, depending on the palette).
    assert!(coloured.contains("\x1b["), "{coloured}");
    assert!(coloured.contains("regressed"));
}

/// All-equal samples give a zero-width interval; the metric is still measured, so it is
/// compared through its samples, never as an exact count. (It was: two reports of two equal
/// samples each, 1 ms and 2 ms, "regressed" with p = 0 from two steps apiece.)
#[test]
fn a_zero_width_interval_is_not_an_exact_count() {
    let base = template();
    let gate = Settings {
        fail_on_regression: Some(0.05),
        ..Settings::default()
    };
    let flat = |t: f64| crate::report::map_times(&base, move |_| vec![t; 2]);
    let (a, b) = (flat(1e-3), flat(2e-3));
    let c = compare(&side(&a), &side(&b), &gate);
    let step = c.pairs[0]
        .metrics
        .iter()
        .find(|m| m.id == "step_time")
        .unwrap();
    assert_eq!(step.method, "bootstrap", "{step:?}");
    assert_ne!(step.verdict, Verdict::Regressed, "{step:?}");
    assert!(!c.gate_failed(), "{:?}", c.gate);
    // Counts are still exact.
    let flops = c.pairs[0]
        .metrics
        .iter()
        .find(|m| m.id == "step_flops")
        .unwrap();
    assert_eq!(flops.method, "exact");
}

/// `r` measured on another machine: another CPU model, so another testbed.
fn elsewhere(r: &Report) -> Report {
    let mut r = r.clone();
    r.machine.cpu_model = "Some Other CPU".into();
    r
}

fn metric<'a>(c: &'a Comparison, id: &str) -> &'a MetricComparison {
    c.pairs[0].metrics.iter().find(|m| m.id == id).unwrap()
}

/// The new report's FLOP counts all `k` times the base's (another workload's work, as a code
/// change that does more work would give).
fn more_work(r: &Report, k: f64) -> Report {
    let mut r = r.clone();
    for m in &mut r.metrics {
        if m.kind() == MetricKind::Exact {
            m.estimate = m.estimate.scaled(k);
        }
    }
    r
}

#[test]
fn gating_across_testbeds_is_refused_without_across_machines() {
    let base = template();
    let new = elsewhere(&crate::report::map_times(&base, |xs| {
        xs.iter().map(|x| 3.0 * x).collect()
    }));
    let gate = Settings {
        fail_on_regression: Some(0.10),
        ..Settings::default()
    };
    let c = compare(&side(&base), &side(&new), &gate);
    assert!(c.gate_refused());
    assert!(!c.gate_failed(), "a refused gate neither passes nor fails");
    assert_eq!(c.gate.as_ref().unwrap().refused, vec!["tiny".to_string()]);
    // The comparison is still made: the testbeds, the exact figures, the fractions.
    let p = &c.pairs[0];
    assert_ne!(p.base_testbed, p.new_testbed);
    assert_eq!(p.base_testbed.label, p.new_testbed.label);
    assert!(p.metrics.iter().any(|m| m.id == "step_flops"));
    // Without the gate nothing is refused.
    let c = compare(&side(&base), &side(&new), &Settings::default());
    assert!(!c.gate_refused() && c.gate.is_none());
}

#[test]
fn roofline_fractions_never_gate_across_testbeds() {
    let base = template();
    // Three times slower elsewhere: every fraction falls by two thirds, far beyond any band.
    let new = elsewhere(&crate::report::map_times(&base, |xs| {
        xs.iter().map(|x| 3.0 * x).collect()
    }));
    let across = Settings {
        fail_on_regression: Some(0.10),
        across_machines: true,
        ..Settings::default()
    };
    let c = compare(&side(&base), &side(&new), &across);
    let fraction = metric(&c, "op.matmul.roofline_fraction");
    assert_eq!(fraction.kind, MetricKind::RooflineRelative);
    assert_eq!(fraction.verdict, Verdict::Regressed, "{fraction:?}");
    assert!(!fraction.gated);
    assert!(!c.gate_refused());
    assert!(!c.gate_failed(), "{:?}", c.gate);
    // With --raw-times the times are shown, and still not gated.
    let raw = Settings {
        raw_times: true,
        ..across
    };
    let c = compare(&side(&base), &side(&new), &raw);
    let step = metric(&c, "step_time");
    assert_eq!(step.verdict, Verdict::Regressed);
    assert!(!step.gated);
    assert!(!c.gate_failed(), "{:?}", c.gate);
    // On one testbed the same slowdown gates, fractions included.
    let here = crate::report::map_times(&base, |xs| xs.iter().map(|x| 3.0 * x).collect());
    let c = compare(&side(&base), &side(&here), &across);
    assert!(c.gate_failed());
    assert!(
        c.gate.as_ref().unwrap().triggered.iter().any(|h| h.metric == "op.matmul.roofline_fraction")
    );
}

#[test]
fn exact_figures_gate_across_testbeds_with_across_machines() {
    let base = template();
    let new = elsewhere(&more_work(&base, 1.25));
    let across = Settings {
        fail_on_regression: Some(0.10),
        across_machines: true,
        ..Settings::default()
    };
    let c = compare(&side(&base), &side(&new), &across);
    let flops = metric(&c, "step_flops");
    assert_eq!((flops.kind, flops.gated), (MetricKind::Exact, true));
    assert!(c.gate_failed(), "{:?}", c.gate);
    let hits: Vec<&str> = c.gate.as_ref().unwrap().triggered.iter().map(|h| h.metric.as_str()).collect();
    assert!(hits.iter().all(|h| h.ends_with("flops")), "{hits:?}");
    // The same counts elsewhere: the gate passes.
    let c = compare(&side(&base), &side(&elsewhere(&base)), &across);
    assert!(!c.gate_failed() && !c.gate_refused(), "{:?}", c.gate);
}

#[test]
fn counts_gate_across_testbeds_only_on_the_same_code_path() {
    let base = template();
    let with_count = |r: &Report, count: f64| {
        let mut r = r.clone();
        r.metrics.push(crate::report::schema::Metric {
            id: "count.step.instructions".into(),
            unit: "instructions".into(),
            direction: Direction::SmallerIsBetter,
            machine_independent: true,
            estimate: Estimate {
                point: count,
                lower: count,
                upper: count,
                confidence_level: 1.0,
                standard_error: 0.0,
            },
            kind: None,
        });
        r
    };
    let across = Settings {
        fail_on_regression: Some(0.05),
        across_machines: true,
        ..Settings::default()
    };
    let a = with_count(&base, 1e9);
    // Another CPU model with the same ISA, caches, threads and build: the same instructions run.
    let b = elsewhere(&with_count(&base, 1.2e9));
    let c = compare(&side(&a), &side(&b), &across);
    let m = metric(&c, "count.step.instructions");
    assert_eq!((m.kind, m.gated), (MetricKind::ExactForBinary, true));
    assert!(c.gate_failed());
    // An AVX2-only build runs other kernels: the count is shown, not gated.
    let mut b = b.clone();
    b.machine.features = Some(Vec::new());
    let c = compare(&side(&a), &side(&b), &across);
    let m = metric(&c, "count.step.instructions");
    assert_eq!(m.verdict, Verdict::Regressed);
    assert!(!m.gated);
    assert!(!c.gate_failed(), "{:?}", c.gate);
}

#[test]
fn one_machine_under_two_labels_is_one_testbed() {
    let base = template();
    let mut new = crate::report::map_times(&base, |xs| xs.iter().map(|x| 2.0 * x).collect());
    new.machine.label = Some("another-name".into());
    let gate = Settings {
        fail_on_regression: Some(0.05),
        ..Settings::default()
    };
    let c = compare(&side(&base), &side(&new), &gate);
    let p = &c.pairs[0];
    assert!(p.machine_differences.is_empty());
    assert_eq!(p.base_testbed.fingerprint, p.new_testbed.fingerprint);
    assert_ne!(p.base_testbed, p.new_testbed);
    assert!(!c.gate_refused());
    assert!(c.gate_failed());
    let text = crate::render::export::table::comparison_table(&c, false);
    assert!(text.contains("one machine under two labels"), "{text}");
}

/// `r` with every modelled cost figure `k` times the base's (the price per instance-hour
/// kept): what a repricing at rates `1/k` as fast gives.
fn costs_scaled(r: &Report, k: f64) -> Report {
    let mut r = r.clone();
    let cost = r.cost.as_mut().unwrap();
    for o in &mut cost.options {
        o.usd *= k;
        o.wall_hours *= k;
        o.chip_hours *= k;
    }
    let cpu = cost.cpu_baseline.as_mut().unwrap();
    cpu.usd *= k;
    cpu.wall_hours *= k;
    r
}

#[test]
fn a_cost_moved_only_by_an_inconclusive_measurement_is_inconclusive() {
    let base = template();
    // 3% slower: the samples cannot tell it from the 2% band. The costs, repriced by hand at
    // +8%, are beyond the band: today's incident, 34 cost rows "regressed, cause: performance"
    // while every measured metric was inconclusive.
    let new = costs_scaled(
        &crate::report::map_times(&base, |xs| xs.iter().map(|x| 1.03 * x).collect()),
        1.08,
    );
    let gate = Settings {
        fail_on_regression: Some(0.02),
        ..Settings::default()
    };
    let c = compare(&side(&base), &side(&new), &gate);
    assert_eq!(metric(&c, "step_gflops").verdict, Verdict::Inconclusive);
    let p = &c.pairs[0];
    let cpu = p
        .costs
        .iter()
        .find(|x| x.option.starts_with("cpu ") && x.figure == "usd")
        .unwrap();
    assert_eq!(cpu.cause, "performance");
    assert_eq!(cpu.driven_by, vec!["step_gflops".to_string()]);
    assert_eq!(cpu.verdict, Verdict::Inconclusive, "{cpu:?}");
    let iv = cpu.interval.unwrap();
    assert!(iv.lower < 0.08 && 0.08 < iv.upper, "{iv:?}");
    // Every cost row: regressed only where a measurement behind it regressed.
    for x in p.costs.iter().filter(|x| x.change.is_some_and(|c| c != 0.0)) {
        assert_eq!(x.cause, "performance", "{x:?}");
        assert!(!x.driven_by.is_empty(), "{x:?}");
        let driver_regressed = x
            .driven_by
            .iter()
            .any(|d| metric(&c, d).verdict == Verdict::Regressed);
        if !driver_regressed {
            assert_ne!(x.verdict, Verdict::Regressed, "{x:?}");
        }
    }
    // The gate sees measured metrics only: none regressed beyond 2%, so it passes.
    assert!(
        !c.gate.as_ref().unwrap().triggered.iter().any(|h| h.metric.starts_with("cost")),
        "{:?}",
        c.gate
    );
}

#[test]
fn a_cost_moved_by_a_conclusive_measurement_inherits_its_verdict_and_interval() {
    let base = template();
    let new = costs_scaled(
        &crate::report::map_times(&base, |xs| xs.iter().map(|x| 2.0 * x).collect()),
        2.0,
    );
    let c = compare(&side(&base), &side(&new), &Settings::default());
    let gflops = metric(&c, "step_gflops");
    assert_eq!(gflops.verdict, Verdict::Regressed);
    let cpu = c.pairs[0]
        .costs
        .iter()
        .find(|x| x.option.starts_with("cpu ") && x.figure == "usd")
        .unwrap();
    assert_eq!(cpu.verdict, Verdict::Regressed, "{cpu:?}");
    // One driver with share 1, cost ∝ 1 / rate: the rate's interval mapped exactly.
    let g = gflops.change.unwrap();
    let iv = cpu.interval.unwrap();
    let point = cpu.change.unwrap();
    assert!((iv.lower - ((1.0 + point) * (1.0 + g.point) / (1.0 + g.upper) - 1.0)).abs() < 1e-12);
    assert!((iv.upper - ((1.0 + point) * (1.0 + g.point) / (1.0 + g.lower) - 1.0)).abs() < 1e-12);
    assert_eq!(cpu.p_value, gflops.p_value);
    // The accelerators (measured scenario) are driven by the per-class fractions.
    let acc = c.pairs[0]
        .costs
        .iter()
        .find(|x| !x.option.starts_with("cpu ") && x.figure == "usd")
        .unwrap();
    assert!(acc.driven_by.iter().all(|d| d.ends_with(".roofline_fraction")), "{acc:?}");
    assert_eq!(acc.verdict, Verdict::Regressed, "{acc:?}");
}

#[test]
fn a_price_change_is_labelled_and_never_gates() {
    let base = template();
    let mut new = base.clone();
    for o in &mut new.cost.as_mut().unwrap().options {
        o.usd_per_instance_hour *= 1.5;
        o.usd *= 1.5;
    }
    let gate = Settings {
        fail_on_regression: Some(0.02),
        ..Settings::default()
    };
    let c = compare(&side(&base), &side(&new), &gate);
    let moved: Vec<&CostComparison> = c.pairs[0]
        .costs
        .iter()
        .filter(|x| x.figure == "usd" && !x.option.starts_with("cpu "))
        .collect();
    assert!(!moved.is_empty());
    for x in moved {
        assert_eq!(x.cause, "price", "{x:?}");
        assert_eq!(x.verdict, Verdict::Regressed, "{x:?}");
        assert!(x.interval.is_none() && x.driven_by.is_empty(), "{x:?}");
    }
    assert!(!c.gate_failed(), "{:?}", c.gate);
}

#[test]
fn a_published_scenario_cost_does_not_follow_the_measurement() {
    let mut base = template();
    base.cost.as_mut().unwrap().scenario = "published".into();
    let record = base.cost.clone().unwrap();
    let first = &record.options[0];
    let option = format!("{} {}", first.instance, first.plan.as_str());
    assert!(cost_drivers(&record, &option).is_empty());
    let cpu = format!("cpu {}", record.cpu_baseline.as_ref().unwrap().instance);
    assert_eq!(cost_drivers(&record, &cpu), vec![("step_gflops".to_string(), 1.0)]);
    // In the measured scenario the shares are the option's class times over its step.
    base.cost.as_mut().unwrap().scenario = "measured".into();
    let record = base.cost.clone().unwrap();
    let drivers = cost_drivers(&record, &option);
    let total: f64 = drivers.iter().map(|(_, w)| w).sum();
    assert!(!drivers.is_empty() && total > 0.0 && total <= 1.0 + 1e-12, "{drivers:?}");
}

/// A compared rate with change `point` in `[lower, upper]`, p-value `p` and its verdict.
fn rate(id: &str, point: f64, lower: f64, upper: f64, p: f64) -> MetricComparison {
    let change = Estimate {
        point,
        lower,
        upper,
        confidence_level: 0.95,
        standard_error: 0.0,
    };
    let s = Settings::default();
    MetricComparison {
        id: id.into(),
        unit: "fraction".into(),
        direction: BiggerIsBetter,
        machine_independent: true,
        kind: MetricKind::RooflineRelative,
        gated: true,
        base: None,
        new: None,
        change: Some(change),
        p_value: Some(p),
        method: "bootstrap".into(),
        verdict: verdict(&change, Some(p), BiggerIsBetter, s.noise, s.significance),
    }
}

#[test]
fn a_cost_is_never_more_conclusive_than_the_measurements_behind_it() {
    let s = Settings::default();
    // Two classes, both inconclusive (their intervals straddle −2%), and a cost that the model
    // moved by +8% (a chip count that jumped): inconclusive, not regressed.
    let a = rate("op.matmul.roofline_fraction", -0.03, -0.05, -0.01, 0.01);
    let b = rate("op.attention.roofline_fraction", -0.03, -0.04, 0.0, 0.03);
    assert_eq!((a.verdict, b.verdict), (Verdict::Inconclusive, Verdict::Inconclusive));
    let (iv, p, v) = inherited_change(0.08, &[(Some(&a), 0.7), (Some(&b), 0.2)], &s);
    let iv = iv.unwrap();
    assert!(iv.lower > 0.02, "the interval alone would say regressed: {iv:?}");
    assert_eq!(p, Some(0.03), "the largest p when no driver moved conclusively");
    assert_eq!(v, Verdict::Inconclusive);
    // The first-order interval: a tenth of the step does not move.
    let q = |c: &MetricComparison, bound: f64| (1.0 + c.change.unwrap().point) / (1.0 + bound);
    let lo = 1.08 * (0.1 + 0.7 * q(&a, -0.01) + 0.2 * q(&b, 0.0)) - 1.0;
    assert!((iv.lower - lo).abs() < 1e-12, "{iv:?} vs {lo}");
    // One driver regressed conclusively: the cost may say so.
    let c = rate("op.matmul.roofline_fraction", -0.10, -0.12, -0.08, 1e-6);
    assert_eq!(c.verdict, Verdict::Regressed);
    let (_, p, v) = inherited_change(0.08, &[(Some(&c), 0.7), (Some(&b), 0.2)], &s);
    assert_eq!((p, v), (Some(1e-6), Verdict::Regressed));
    // ...but a rate that rose (improved) cannot make the cost regress.
    let up = rate("op.matmul.roofline_fraction", 0.10, 0.08, 0.12, 1e-6);
    let (_, _, v) = inherited_change(0.08, &[(Some(&up), 0.7)], &s);
    assert_eq!(v, Verdict::Inconclusive);
    // A driver missing from a report: nothing says how far the cost moved.
    assert_eq!(inherited_change(0.08, &[(None, 1.0)], &s), (None, None, Verdict::Inconclusive));
    assert_eq!(inherited_change(0.08, &[], &s), (None, None, Verdict::Inconclusive));
}
