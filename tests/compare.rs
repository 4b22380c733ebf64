//! `costbench compare`, `report` and `history` end to end: snapshots of every format, the CI
//! gate's exit codes, named baselines, directories, mixed schema versions and machines.
//!
//! The fixture `tests/fixtures/reports/tiny.json` is a real quick run of
//! `tests/fixtures/tiny.toml`; changes are planted with `costbench::report::map_times`, so every
//! output is deterministic (the bootstrap is seeded).

mod common;

use assert_cmd::Command;
use common::{REPORT_FIXTURE, TINY_WORKLOAD};
use costbench::report::{map_times, schema::Report, store};
use std::fs;
use std::path::Path;

fn fixture() -> Report {
    store::load(Path::new(REPORT_FIXTURE)).expect("the fixture loads")
}

fn scaled(r: &Report, k: f64) -> Report {
    map_times(r, |xs| xs.iter().map(|x| x * k).collect())
}

/// A temporary directory holding `base.json` and `new.json`.
fn pair(base: &Report, new: &Report) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    store::save_to(base, &dir.path().join("base.json")).unwrap();
    store::save_to(new, &dir.path().join("new.json")).unwrap();
    dir
}

fn costbench(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("costbench").unwrap();
    c.current_dir(dir).env("NO_COLOR", "1");
    c
}

/// A quick, probe-free run of the tiny workload in `dir` with `extra` arguments; it must succeed.
fn quick_run(dir: &Path, extra: &[&str]) {
    costbench(dir)
        .args(["run", TINY_WORKLOAD, "--quick", "--max-time", "0.3"])
        .args(["--no-probe", "-q"])
        .args(extra)
        .assert()
        .success();
}

fn stdout(dir: &Path, args: &[&str]) -> String {
    let out = costbench(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn compare_formats_are_pinned() {
    let base = fixture();
    let dir = pair(&base, &scaled(&base, 1.10));
    let d = dir.path();
    let args = ["compare", "base.json", "new.json"];
    insta::assert_snapshot!("compare_table", stdout(d, &args));
    for (name, format) in [
        ("compare_markdown", "markdown"),
        ("compare_json", "json"),
        ("compare_bmf", "bmf"),
    ] {
        let text = stdout(d, &[&args[..], &["--format", format]].concat());
        insta::assert_snapshot!(name, text);
    }
    stdout(
        d,
        &[
            &args[..],
            &["--format", "github-action-benchmark", "-o", "gab"],
        ]
        .concat(),
    );
    insta::assert_snapshot!(
        "compare_gab_smaller",
        fs::read_to_string(d.join("gab/costbench-smaller-is-better.json")).unwrap()
    );
    insta::assert_snapshot!(
        "compare_gab_bigger",
        fs::read_to_string(d.join("gab/costbench-bigger-is-better.json")).unwrap()
    );
}

#[test]
fn report_formats_are_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::copy(REPORT_FIXTURE, d.join("tiny.json")).unwrap();
    insta::assert_snapshot!("report_table", stdout(d, &["report", "tiny.json"]));
    for format in ["markdown", "json", "bmf"] {
        let text = stdout(d, &["report", "tiny.json", "--format", format]);
        insta::assert_snapshot!(format!("report_{format}"), text);
    }
    stdout(
        d,
        &["report", "tiny.json", "--format", "gab", "-o", "out", "-q"],
    );
    let smaller = fs::read_to_string(d.join("out/costbench-smaller-is-better.json")).unwrap();
    let bigger = fs::read_to_string(d.join("out/costbench-bigger-is-better.json")).unwrap();
    insta::assert_snapshot!("report_gab_smaller", smaller);
    insta::assert_snapshot!("report_gab_bigger", bigger);
    // Both are arrays of {name, unit, value[, range, extra]}.
    for text in [smaller, bigger] {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for e in v.as_array().unwrap() {
            assert!(e["name"].is_string() && e["unit"].is_string() && e["value"].is_number());
        }
    }
}

#[test]
fn bencher_metric_format_has_value_and_bounds() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(REPORT_FIXTURE, dir.path().join("tiny.json")).unwrap();
    let text = stdout(dir.path(), &["report", "tiny.json", "--format", "bmf"]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let step = &v["tiny/step"];
    let latency = &step["latency"];
    let (lo, val, hi) = (
        latency["lower_value"].as_f64().unwrap(),
        latency["value"].as_f64().unwrap(),
        latency["upper_value"].as_f64().unwrap(),
    );
    assert!(lo <= val && val <= hi);
    // Nanoseconds, as Bencher's latency measure expects.
    let median_s = fixture().metrics[0].estimate.point;
    assert!((val - median_s * 1e9).abs() < 1e-3 * val);
    assert!(step["flops"]["value"].is_number());
}

#[test]
fn the_gate_exits_3_on_a_planted_slowdown_and_0_on_a_rerun() {
    let base = fixture();
    let dir = pair(&base, &scaled(&base, 2.0));
    let out = costbench(dir.path())
        .args([
            "compare",
            "base.json",
            "new.json",
            "--fail-on-regression",
            "5",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("gate FAILED"), "{err}");
    assert!(err.contains("more than 5%"), "{err}");
    assert!(err.contains("against base.json"), "{err}");
    assert!(err.contains("tiny step_time +100.00%"), "{err}");

    // The same report twice, and its samples reordered: no regression, exit 0.
    let rerun = map_times(&base, |xs| xs.iter().rev().copied().collect());
    for new in [&base, &rerun] {
        let dir = pair(&base, new);
        let out = costbench(dir.path())
            .args(["compare", "base.json", "new.json", "--fail-on-regression"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("gate passed"));
    }

    // A regression smaller than the threshold passes the gate.
    let dir = pair(&base, &scaled(&base, 1.10));
    costbench(dir.path())
        .args([
            "compare",
            "base.json",
            "new.json",
            "--fail-on-regression",
            "50",
        ])
        .assert()
        .code(0);
    // Errors stay 1, usage errors 2.
    costbench(dir.path())
        .args([
            "compare",
            "base.json",
            "missing.json",
            "--fail-on-regression",
        ])
        .assert()
        .code(1);
    costbench(dir.path())
        .args(["compare", "base.json", "new.json", "--noise", "lots"])
        .assert()
        .code(2);
    costbench(dir.path())
        .args(["compare", "base.json"])
        .assert()
        .code(2);
}

#[test]
fn reports_of_different_schema_minor_versions_compare() {
    let new = fixture();
    let mut v = serde_json::to_value(&new).unwrap();
    let obj = v.as_object_mut().unwrap();
    obj.remove("cost");
    obj.remove("warnings");
    v["schema_version"] = serde_json::json!("1.0");
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("old.json"), v.to_string()).unwrap();
    store::save_to(&new, &dir.path().join("new.json")).unwrap();
    let text = stdout(dir.path(), &["compare", "old.json", "new.json"]);
    assert!(text.contains("report schema 1.0 vs 1.2"), "{text}");
    assert!(
        text.contains("cost input changed: cost: priced in the new report only"),
        "{text}"
    );
    assert!(text.contains("step_time"), "{text}");
}

#[test]
fn different_machines_are_announced_and_raw_times_left_out() {
    let base = fixture();
    let mut new = scaled(&base, 3.0);
    new.machine.cpu_model = "A Much Slower CPU".into();
    let dir = pair(&base, &new);
    let out = costbench(dir.path())
        .args(["compare", "base.json", "new.json", "--fail-on-regression"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DIFFERENT TESTBEDS"), "{text}");
    assert!(text.contains("(cpu_model: "), "{text}");
    assert!(!text.contains(" step_time "), "{text}");
    assert!(text.contains("op.matmul.roofline_fraction"), "{text}");
    assert!(text.contains("step_flops"), "{text}");
    // Roofline fractions fell by two thirds (the planted slowdown keeps the base's roofline),
    // but they move between machines by design: the gate is refused, not fired (exit 2), and
    // with --across-machines it gates the FLOP counts only, which did not move.
    assert_eq!(out.status.code(), Some(2), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gating across machines needs --across-machines"),
        "{err}"
    );
    let out = costbench(dir.path())
        .args(["compare", "base.json", "new.json", "--fail-on-regression"])
        .arg("--across-machines")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("regressed (not gated)"), "{text}");
    assert!(text.contains("gate passed"), "{text}");
    let raw = stdout(
        dir.path(),
        &["compare", "base.json", "new.json", "--raw-times"],
    );
    assert!(raw.contains(" step_time "), "{raw}");
}

/// A quick run in `dir` (threads 1: never the fixture's testbed, which ran on 2) of the tiny
/// workload with a slice batch of `batch` sequences, into `dir/<name>.json`.
fn tiny_run(dir: &Path, batch: u32, name: &str) -> Report {
    let workload = fs::read_to_string(TINY_WORKLOAD).unwrap().replace(
        "layers = 2\nbatch = 4",
        &format!("layers = 2\nbatch = {batch}"),
    );
    assert!(workload.contains(&format!("batch = {batch}\n")));
    fs::write(dir.join("w.toml"), workload).unwrap();
    costbench(dir)
        .args([
            "run",
            "w.toml",
            "--quick",
            "--max-time",
            "0.3",
            "--no-probe",
            "-q",
        ])
        .args(["--threads", "1", "-o", &format!("{name}.json")])
        .assert()
        .success();
    store::load(&dir.join(format!("{name}.json"))).unwrap()
}

#[test]
fn exact_figures_gate_across_testbeds_only_with_across_machines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::copy(REPORT_FIXTURE, d.join("base.json")).unwrap();
    // Six sequences a step instead of four: more FLOPs per step, measured on another testbed.
    let new = tiny_run(d, 6, "new");
    assert_ne!(new.machine.testbed(), fixture().machine.testbed());
    let gate = [
        "compare",
        "base.json",
        "new.json",
        "--fail-on-regression",
        "10",
    ];
    let out = costbench(d).args(gate).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // The comparison is still printed, with both testbeds.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DIFFERENT TESTBEDS"), "{text}");
    assert!(text.contains("gate REFUSED"), "{text}");
    let out = costbench(d)
        .args(gate)
        .arg("--across-machines")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    // Only exact figures gate: FLOP counts; no time, rate or roofline fraction.
    let line = err.lines().find(|l| l.starts_with("gate FAILED")).unwrap();
    assert!(line.contains("step_flops"), "{line}");
    assert!(
        !line.contains("time") && !line.contains("gflops ") && !line.contains("fraction"),
        "{line}"
    );
    // JSON says which rows gate.
    let json: serde_json::Value = serde_json::from_str(&stdout(
        d,
        &[
            "compare",
            "base.json",
            "new.json",
            "--format",
            "json",
            "--raw-times",
        ],
    ))
    .unwrap();
    for m in json["pairs"][0]["metrics"].as_array().unwrap() {
        let exact = m["kind"] == "exact";
        assert_eq!(m["gated"].as_bool().unwrap(), exact, "{m}");
    }
}

#[test]
fn the_summary_counts_every_row() {
    let base = fixture();
    let dir = pair(&base, &scaled(&base, 1.10));
    let d = dir.path();
    let text = stdout(d, &["compare", "base.json", "new.json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(
        d,
        &["compare", "base.json", "new.json", "--format", "json"],
    ))
    .unwrap();
    let metrics = json["pairs"][0]["metrics"].as_array().unwrap().len();
    let costs = json["pairs"][0]["costs"].as_array().unwrap().len();
    assert!(costs > 0);
    let line = text.lines().find(|l| l.contains(" metrics: ")).unwrap();
    assert!(line.starts_with(&format!("{metrics} metrics: ")), "{line}");
    assert!(
        line.contains(&format!("; {costs} cost figures: ")),
        "{line}"
    );
    // Each part's verdicts add up to its rows.
    for (part, total) in line.split("; ").zip([metrics, costs]) {
        let part = part.split(" (").next().unwrap();
        let sum: usize = part
            .split(": ")
            .nth(1)
            .unwrap()
            .split(", ")
            .map(|x| x.split(' ').next().unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(sum, total, "{part}");
    }
    // The same line in the Markdown.
    let md = stdout(
        d,
        &["compare", "base.json", "new.json", "--format", "markdown"],
    );
    assert!(md.contains(&format!("{metrics} metrics: ")), "{md}");
}

#[test]
fn history_and_compare_show_the_same_testbed() {
    let base = fixture();
    let mut other = scaled(&base, 1.05);
    other.machine.label = Some("second-name".into());
    other.created_at = "2026-12-01T00:00:00Z".into();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("h")).unwrap();
    store::save_to(&base, &d.join("h/a.json")).unwrap();
    store::save_to(&other, &d.join("h/b.json")).unwrap();
    let (t1, t2) = (base.machine.testbed(), other.machine.testbed());
    assert_eq!(t1.fingerprint, t2.fingerprint);
    let shown = [t1.to_string(), t2.to_string()];
    assert!(shown[0].starts_with("fixture@") && shown[1].starts_with("second-name@"));
    // compare: one machine named twice, said so; both testbeds shown.
    let c = stdout(d, &["compare", "h/a.json", "h/b.json"]);
    assert!(c.contains("one machine under two labels"), "{c}");
    let md = stdout(
        d,
        &["compare", "h/a.json", "h/b.json", "--format", "markdown"],
    );
    let json = stdout(d, &["compare", "h/a.json", "h/b.json", "--format", "json"]);
    // history: the two labels are two series, each shown with its testbed.
    let h = stdout(
        d,
        &["history", "h", "--metric", "step_time", "--svg", "h.svg"],
    );
    let hj = stdout(
        d,
        &["history", "h", "--metric", "step_time", "--format", "json"],
    );
    for t in &shown {
        for (what, text) in [("compare", &c), ("markdown", &md), ("history", &h)] {
            assert!(text.contains(t.as_str()), "{what} lacks {t}: {text}");
        }
    }
    for t in [&t1, &t2] {
        assert!(
            json.contains(&format!("\"fingerprint\": \"{}\"", t.fingerprint)),
            "{json}"
        );
        assert!(
            hj.contains(&format!("\"fingerprint\": \"{}\"", t.fingerprint)),
            "{hj}"
        );
    }
    let series: serde_json::Value = serde_json::from_str(&hj).unwrap();
    assert_eq!(series["series"].as_array().unwrap().len(), 2);
    // The chart's two panels (one metric, two testbeds) have two titles.
    let svg = fs::read_to_string(d.join("h.svg")).unwrap();
    for t in &shown {
        assert!(
            svg.contains(&format!("tiny · step_time (s) · {t}")),
            "{t}: {svg}"
        );
    }
}

#[test]
fn a_changed_price_is_labelled_as_such() {
    let base = fixture();
    let mut new = base.clone();
    let cost = new.cost.as_mut().unwrap();
    cost.catalog_hash = "0".repeat(64);
    for o in &mut cost.options {
        if o.instance == "p5.48xlarge" {
            o.usd_per_instance_hour *= 1.5;
            o.usd *= 1.5;
        }
    }
    let dir = pair(&base, &new);
    let text = stdout(dir.path(), &["compare", "base.json", "new.json"]);
    assert!(text.contains("cost input changed: catalog:"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("p5.48xlarge on_demand"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("+50.00%") && line.contains("price"), "{line}");
    assert!(!line.contains("performance"), "{line}");
    // No measured metric moved; the moved cost figures are counted and named by their cause.
    assert!(text.contains("metrics: 0 regressed, 0 improved"), "{text}");
    assert!(
        text.contains("moved by an input of the cost model, never gated"),
        "{text}"
    );
    // A price is not a regression of the code: the gate passes.
    costbench(dir.path())
        .args([
            "compare",
            "base.json",
            "new.json",
            "--fail-on-regression",
            "1",
        ])
        .assert()
        .code(0);
}

#[test]
fn directories_pair_workloads_and_list_the_rest() {
    let base = fixture();
    let mut other = base.clone();
    other.workload.name = "other".into();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(&b).unwrap();
    store::save_to(&base, &a.join("1.json")).unwrap();
    store::save_to(&other, &a.join("2.json")).unwrap();
    // Two reports of `tiny` in b: the newer one is compared.
    let mut older = scaled(&base, 5.0);
    older.created_at = "2000-01-01T00:00:00Z".into();
    store::save_to(&older, &b.join("old.json")).unwrap();
    store::save_to(&base, &b.join("new.json")).unwrap();
    fs::write(b.join("broken.json"), "{\"schema_version\": \"1.1\"").unwrap();
    let text = stdout(dir.path(), &["compare", "a", "b", "--fail-on-regression"]);
    assert!(text.contains("other: in the base only"), "{text}");
    assert!(text.contains("skipped: 'b/broken.json'"), "{text}");
    assert!(text.contains("b/new.json"), "{text}");
    assert!(text.contains("gate passed"), "{text}");
}

#[test]
fn named_baselines_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |extra: &[&str]| quick_run(d, extra);
    run(&["--save-baseline", "main"]);
    assert!(d.join("results/baselines/main/tiny.json").is_file());
    run(&[]);
    let text = stdout(d, &["compare", "--baseline", "main"]);
    assert!(text.contains("baseline main → results"), "{text}");
    // The baseline carries its testbed: the same one here, so the gate may run.
    let testbed = store::load(&d.join("results/baselines/main/tiny.json"))
        .unwrap()
        .machine
        .testbed();
    assert!(
        text.contains(&format!("testbed: {testbed} (")),
        "{testbed}: {text}"
    );
    // (Passed or failed on the timings, which load may move; never refused.)
    let out = costbench(d)
        .args(["compare", "--baseline", "main", "--fail-on-regression"])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A run with another thread count is another testbed: gating against the baseline needs
    // --across-machines.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let other = d.join("other");
    fs::create_dir_all(&other).unwrap();
    costbench(d)
        .args([
            "run",
            TINY_WORKLOAD,
            "--quick",
            "--max-time",
            "0.3",
            "--no-probe",
            "-q",
        ])
        .args([
            "--threads",
            &(cores + 1).to_string(),
            "--results-dir",
            "other",
        ])
        .assert()
        .success();
    let gate = [
        "compare",
        "--baseline",
        "main",
        "other",
        "--fail-on-regression",
        "99",
    ];
    costbench(d)
        .args(gate)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("needs --across-machines"));
    costbench(d)
        .args(gate)
        .arg("--across-machines")
        .assert()
        .code(0);
    let md = stdout(
        d,
        &[
            "report",
            "results/baselines/main/tiny.json",
            "results/baselines/main/tiny.json",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&md).unwrap();
    assert_eq!(v["reports"].as_array().unwrap().len(), 2);
    assert!(text.contains("step_time"), "{text}");
    // Saving again replaces the baseline; nothing else is left in its directory.
    run(&["--save-baseline", "main"]);
    assert_eq!(
        fs::read_dir(d.join("results/baselines/main"))
            .unwrap()
            .count(),
        1
    );
    let err = costbench(d)
        .args(["compare", "--baseline", "nope"])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&err);
    assert!(err.contains("no baseline named 'nope'"), "{err}");
    costbench(d)
        .args([
            "run",
            TINY_WORKLOAD,
            "--save-baseline",
            "../escape",
            "--no-probe",
        ])
        .assert()
        .code(2);
}

#[test]
fn history_finds_a_planted_step_and_draws_it() {
    let base = fixture();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("h")).unwrap();
    for i in 0..12 {
        // Twelve runs a day apart; from the seventh on, 20% slower.
        let k = if i < 6 { 1.0 } else { 1.2 } * (1.0 + 0.002 * (i % 3) as f64);
        let mut r = scaled(&base, k);
        r.created_at = format!("2026-11-{:02}T12:00:00Z", i + 1);
        store::save_to(&r, &d.join(format!("h/{i:02}.json"))).unwrap();
    }
    let text = stdout(
        d,
        &["history", "h", "--metric", "step_time", "--svg", "h.svg"],
    );
    assert!(text.contains("12 reports"), "{text}");
    let row = text.lines().find(|l| l.contains("step_time")).unwrap();
    assert!(row.contains("regression at #7 (2026-11-07 12:00"), "{text}");
    let svg = fs::read_to_string(d.join("h.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("step_time"));
    let json: serde_json::Value =
        serde_json::from_str(&stdout(d, &["history", "h", "--json"])).unwrap();
    assert!(json["series"].as_array().unwrap().len() > 10);
    costbench(d)
        .args(["history", "empty-dir-that-is-missing"])
        .assert()
        .code(1);
}

/// The baseline `.ci/run` compares against: a committed quick run of the bundled default.
const CI_BASELINE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/results/baselines/ci/gpt2-124m.json"
);

#[test]
fn the_committed_ci_baseline_gates_a_planted_slowdown_and_passes_a_rerun() {
    let base = store::load(Path::new(CI_BASELINE)).expect("the committed baseline loads");
    assert_eq!(base.workload.name, "gpt2-124m");
    let gate = ["compare", "base.json", "new.json", "--fail-on-regression"];
    let dir = pair(&base, &scaled(&base, 2.0));
    let out = costbench(dir.path()).args(gate).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gpt2-124m step_time +100.00%"));
    let rerun = map_times(&base, |xs| xs.iter().rev().copied().collect());
    let dir = pair(&base, &rerun);
    costbench(dir.path()).args(gate).assert().code(0);
}

#[test]
fn the_cost_table_exports_as_csv_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::copy(REPORT_FIXTURE, d.join("tiny.json")).unwrap();
    let options = fixture().cost.unwrap().options;
    let csv = stdout(d, &["report", "tiny.json", "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with(
        "report,workload,created_at,machine_label,scenario,instance,accelerator,plan,chips"
    ));
    assert_eq!(lines.len(), options.len() + 1);
    // Unrounded figures that read back to the report's.
    let first: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(first[0], "tiny.json");
    assert_eq!(first[5], options[0].instance);
    assert_eq!(first[12].parse::<f64>().unwrap(), options[0].usd);
    let md = stdout(d, &["report", "tiny.json", "--format", "markdown"]);
    assert!(md.contains("### Cost of the target"), "{md}");
    assert!(md.contains(&format!("| {} ", options[0].instance)), "{md}");
    // HTML is one page per report; compare does not make pages (a usage error, with a hint).
    costbench(d)
        .args(["report", "tiny.json", "tiny.json", "--format", "html"])
        .assert()
        .code(2);
    for format in ["html", "csv"] {
        costbench(d)
            .args(["compare", "tiny.json", "tiny.json", "--format", format])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(format!(
                "costbench report FILE --format {format}"
            )));
    }
}

#[test]
fn run_and_history_write_html_pages() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    quick_run(d, &["--html"]);
    let pages: Vec<_> = fs::read_dir(d.join("results"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    assert_eq!(pages.len(), 1, "{pages:?}");
    let html = fs::read_to_string(&pages[0]).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("chart-cost"));
    stdout(d, &["history", "results", "--html", "h.html"]);
    let html = fs::read_to_string(d.join("h.html")).unwrap();
    assert!(html.contains("chart-history") && html.contains("<svg"));
    // A report can still go to standard output, but not with a page beside it.
    costbench(d)
        .args(["run", TINY_WORKLOAD, "--no-probe", "--html", "-o", "-"])
        .assert()
        .code(2);
}

/// Two reports of the same workload, an hour apart: `base.json` and `runs/later.json` in a
/// temporary directory (the second 1.5× slower, on the same machine).
fn two_reports() -> (tempfile::TempDir, [&'static str; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let base = fixture();
    let mut later = scaled(&base, 1.5);
    later.created_at = "2026-11-26T19:46:40Z".into();
    store::save_to(&base, &dir.path().join("base.json")).unwrap();
    fs::create_dir(dir.path().join("runs")).unwrap();
    store::save_to(&later, &dir.path().join("runs/later.json")).unwrap();
    (dir, ["base.json", "./runs/later.json"])
}

#[test]
fn csv_and_markdown_rows_of_several_reports_name_their_report() {
    let (dir, files) = two_reports();
    let d = dir.path();
    let options = fixture().cost.unwrap().options.len();
    // CSV: every row starts with the file as given, the workload, created_at and the label.
    let csv = stdout(d, &["report", files[0], files[1], "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("report,workload,created_at,machine_label,scenario,"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + 2 * options);
    let expected = [
        "base.json,tiny,2026-11-26T18:46:40Z,fixture,",
        "./runs/later.json,tiny,2026-11-26T19:46:40Z,fixture,",
    ];
    for (i, row) in lines[1..].iter().enumerate() {
        let from = expected[i / options];
        assert!(row.starts_with(from), "row {i}: {row}");
    }
    // Markdown: one section per report, the line under its heading names the file, and every row
    // of its tables starts with that file.
    let md = stdout(d, &["report", files[0], files[1], "--format", "markdown"]);
    let mut section = None;
    let mut header = false;
    let mut rows = [0usize; 2];
    for line in md.lines() {
        if let Some(i) = files
            .iter()
            .position(|f| line.starts_with(&format!("`{f}`: ")))
        {
            section = Some(i);
        }
        if !line.starts_with('|') {
            header = true;
            continue;
        }
        let i = section.expect("a table under a section naming its report");
        if header {
            assert!(line.starts_with("| report "), "{line}");
            header = false;
        } else if !line.starts_with("|-") {
            assert!(line.starts_with(&format!("| `{}` ", files[i])), "{line}");
            rows[i] += 1;
        }
    }
    let per_report = fixture().metrics.len() + 2 * (options + 1) + options;
    assert_eq!(rows, [per_report, per_report], "{md}");
}

/// Every entry of the dashboards' formats, of `report` and of `compare` (the new side), says
/// whether its figure was measured or modelled; the names are the same from run to run.
#[test]
fn every_bmf_and_gab_entry_is_marked_measured_or_modelled() {
    let (dir, files) = two_reports();
    let d = dir.path();
    let report = fixture();
    let modelled_per_report = 2 * (report.cost.as_ref().unwrap().options.len() + 1);
    let measured_per_report = report.metrics.len();
    // BMF: a measured figure's measure is one of the documented four, a modelled one's starts
    // with `modelled-`, and only cost figures are modelled.
    let bmf_measures = |args: &[&str]| {
        let v: serde_json::Value = serde_json::from_str(&stdout(d, args)).unwrap();
        let mut keys = Vec::new();
        let (mut measured, mut modelled) = (0, 0);
        for (bench, measures) in v.as_object().unwrap() {
            for measure in measures.as_object().unwrap().keys() {
                let cost = bench.starts_with("tiny/cost.");
                if measure.starts_with("modelled-") {
                    assert!(cost, "{bench}: {measure}");
                    modelled += 1;
                } else {
                    assert!(
                        ["latency", "gflops", "roofline-fraction", "flops"]
                            .contains(&measure.as_str()),
                        "{bench}: {measure} is neither a measured measure nor modelled-"
                    );
                    assert!(!cost, "{bench}: {measure}");
                    measured += 1;
                }
                keys.push(format!("{bench} {measure}"));
            }
        }
        (keys, measured, modelled)
    };
    let (first, measured, modelled) = bmf_measures(&["report", files[0], "--format", "bmf"]);
    assert!(measured > 0 && modelled == modelled_per_report);
    let (second, ..) = bmf_measures(&["report", files[1], "--format", "bmf"]);
    assert_eq!(first, second, "BMF keys change from run to run");
    let (both, ..) = bmf_measures(&["compare", files[0], files[1], "--format", "bmf"]);
    assert_eq!(first, both);
    // github-action-benchmark: a modelled figure's name ends in ` [modelled]` and its extra
    // starts with `modelled: ` and names the catalog's date; a measured one's extra starts with
    // `measured: `.
    let gab_names = |args: &[&str], out: &str| {
        stdout(d, &[args, &["--format", "gab", "-o", out, "-q"]].concat());
        let mut names = Vec::new();
        let (mut measured, mut modelled) = (0, 0);
        for file in [
            "costbench-smaller-is-better.json",
            "costbench-bigger-is-better.json",
        ] {
            let text = fs::read_to_string(d.join(out).join(file)).unwrap();
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            for e in v.as_array().unwrap() {
                let name = e["name"].as_str().unwrap();
                let extra = e["extra"].as_str().unwrap_or_default();
                if name.ends_with(" [modelled]") {
                    assert!(name.starts_with("tiny cost."), "{name}");
                    assert!(extra.starts_with("modelled: "), "{name}: {extra}");
                    assert!(extra.ends_with("; catalog as of 2026-08-01"), "{extra}");
                    modelled += 1;
                } else {
                    assert!(!name.contains(" cost."), "{name} is a cost, not marked");
                    assert!(extra.starts_with("measured: "), "{name}: {extra:?}");
                    measured += 1;
                }
                names.push(name.to_string());
            }
        }
        assert_eq!(
            (measured, modelled),
            (measured_per_report, modelled_per_report)
        );
        names
    };
    let first = gab_names(&["report", files[0]], "a");
    assert_eq!(first, gab_names(&["report", files[1]], "b"));
    assert_eq!(first, gab_names(&["compare", files[0], files[1]], "c"));
}
