//! The library API as another crate sees it: only what `costbench` re-exports at its root (no
//! `internals`), from loading a workload to a saved and reloaded report.

use costbench::{Catalog, EstimateOptions, MeasureOptions, Report, Workload, estimate, measure};

const TINY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny.toml");
const TINY_REPORT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/reports/tiny.json"
);

#[test]
fn a_measured_report_is_saved_and_loads_back_equal() {
    let w = Workload::from_file(TINY).unwrap();
    assert_eq!(w.kind(), "transformer");
    let mut options = MeasureOptions::default();
    options.quick = true;
    options.probe = false;
    options.label = Some("library-test".into());
    let report = measure(&w, &options).unwrap();
    assert_eq!(report.workload_name(), w.name());
    let step = report.metric("step_time").expect("a step time");
    assert!(step.smaller_is_better && step.unit == "s");
    assert!(step.value.low <= step.value.value && step.value.value <= step.value.high);
    assert!(step.value.value > 0.0);
    // The target is priced from the measured rate: the CPU and every catalog option.
    let cost = report.estimate().expect("a transformer is priced");
    assert!(!cost.options().is_empty());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.json");
    report.save(&path).unwrap();
    let back = Report::load(&path).unwrap();
    assert_eq!(back.to_json(), report.to_json());
    assert_eq!(back.metrics(), report.metrics());
}

#[test]
fn a_committed_report_loads_and_its_metrics_are_named() {
    let report = Report::load(TINY_REPORT).unwrap();
    let metrics = report.metrics();
    assert!(metrics.iter().any(|m| m.id == "step_time"));
    assert!(metrics.iter().any(|m| m.id.starts_with("cost.")));
    assert!(!report.created_at().is_empty() && !report.costbench_version().is_empty());
}

#[test]
fn estimate_prices_a_bundled_model_and_answers_the_question() {
    let model = Workload::bundled("llama2-7b")
        .unwrap()
        .with_target_tokens(2_000_000_000_000);
    assert_eq!(model.target_tokens(), Some(2.0e12));
    let priced = estimate(&model, &Catalog::bundled(), &EstimateOptions::default()).unwrap();
    let options = priced.options();
    assert!(options.len() > 10);
    // Cheapest first, each within the deadline, each with its interval and source.
    for pair in options.windows(2) {
        assert!(pair[0].usd <= pair[1].usd, "{pair:?}");
    }
    for o in &options {
        assert!(o.wall_hours <= 30.0 * 24.0 + 1e-6, "{o:?}");
        let i = o.usd_interval.expect("the Monte Carlo ran");
        assert!(i.low <= i.value && i.value <= i.high, "{o:?}");
        assert!(!o.price_source.is_empty());
    }
    let verdict = priced.verdict().expect("a verdict");
    assert!(verdict.trainium.is_some() && verdict.nvidia.is_some());
    let p = verdict.p_trainium_cheaper.unwrap();
    assert!((0.0..=1.0).contains(&p));
    // The JSON is the estimate document of `costbench estimate --format json`.
    let json: serde_json::Value = serde_json::from_str(&priced.to_json()).unwrap();
    assert_eq!(json["target_tokens"], 2.0e12);
}

#[test]
fn a_what_if_price_moves_only_its_option() {
    let model = Workload::bundled("llama2-7b").unwrap();
    let mut catalog = Catalog::bundled();
    let options = EstimateOptions::default();
    let cost = |e: &costbench::Estimate, instance: &str, plan: &str| {
        e.options()
            .into_iter()
            .find(|o| o.instance == instance && o.plan == plan)
            .unwrap()
            .usd
    };
    let before = estimate(&model, &catalog, &options).unwrap();
    catalog.set_price("trn1.32xlarge:on_demand=10").unwrap();
    let after = estimate(&model, &catalog, &options).unwrap();
    assert!(
        cost(&after, "trn1.32xlarge", "on_demand") < cost(&before, "trn1.32xlarge", "on_demand")
    );
    assert_eq!(
        cost(&after, "p5.48xlarge", "on_demand"),
        cost(&before, "p5.48xlarge", "on_demand")
    );
}

#[test]
fn bad_input_is_an_error_naming_what_was_expected() {
    let missing = Workload::from_file("/nonexistent/costbench/w.toml").unwrap_err();
    assert!(missing.to_string().contains("w.toml"), "{missing}");
    let unknown = Workload::bundled("gpt2").unwrap_err();
    assert!(unknown.to_string().contains("gpt2-124m"), "{unknown}");
    let sweep = Workload::bundled_names()
        .into_iter()
        .map(|n| Workload::bundled(n).unwrap())
        .find(|w| w.kind() == "gemm")
        .expect("a bundled sweep");
    let e = estimate(&sweep, &Catalog::bundled(), &EstimateOptions::default()).unwrap_err();
    assert!(e.to_string().contains("transformer"), "{e}");
    let model = Workload::bundled("llama2-7b").unwrap();
    for (field, options) in [
        ("mfu", {
            let mut o = EstimateOptions::default();
            o.mfu = Some(1.5);
            o
        }),
        ("chips", {
            let mut o = EstimateOptions::default();
            o.chips = Some(0);
            o
        }),
        ("deadline_days", {
            let mut o = EstimateOptions::default();
            o.deadline_days = f64::NAN;
            o
        }),
    ] {
        let e = estimate(&model, &Catalog::bundled(), &options).unwrap_err();
        assert!(e.to_string().contains(field), "{e}");
    }
    let mut catalog = Catalog::bundled();
    assert!(catalog.set_price("p5.48xlarge:on_demand=-1").is_err());
    assert!(Report::from_json("{}", "empty.json").is_err());
    let mut options = MeasureOptions::default();
    options.max_time_s = Some(-1.0);
    let e = measure(&model, &options).unwrap_err();
    assert!(e.to_string().contains("max_time_s"), "{e}");
}
