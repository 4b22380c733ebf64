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
fn template() -> Report {
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
