//! `costbench run` end to end on a tiny workload: reports written where they should be, in the
//! documented schema, and refused destinations caught before anything is measured.

use assert_cmd::Command;
use costbench::report::schema::Measurement;
use costbench::report::store;
use predicates::prelude::*;
use std::fs;
use std::path::Path;

const TINY: &str = r#"name = "tiny"
kind = "transformer"
description = "a tiny transformer for tests"
[target]
layers = 4
d_model = 32
heads = 4
kv_heads = 2
d_ff = 64
vocab = 50
seq_len = 16
norm = "rmsnorm"
activation = "swiglu"
positions = "none"
tied_embeddings = false
tokens = 1e6
batch = 8
[measure]
layers = 1
batch = 2
seq_len = 8
"#;

fn tiny(dir: &Path) -> String {
    let path = dir.join("tiny.toml");
    fs::write(&path, TINY).unwrap();
    path.to_string_lossy().into_owned()
}

/// `costbench run` on one thread (the arguments follow).
fn run_in(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("costbench").unwrap();
    cmd.current_dir(dir)
        .env("CI", "true")
        .args(["run", "--threads", "1"]);
    cmd
}

const FAST: [&str; 6] = [
    "--quick",
    "--no-probe",
    "--warmup",
    "0",
    "--max-time",
    "0.3",
];

#[test]
fn run_writes_one_loadable_report_into_the_results_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny(dir.path());
    let results = dir.path().join("out");
    run_in(dir.path())
        .arg(&file)
        .args(FAST)
        .arg("--results-dir")
        .arg(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains("step time (measured): median"))
        .stdout(predicate::str::contains("difference 0.0000%"))
        // The answer comes before the measurement's table.
        .stdout(predicate::function(|out: &str| {
            matches!(
                (out.find("Trainium or NVIDIA?"), out.find("step time (measured)")),
                (Some(v), Some(m)) if v < m
            )
        }));
    let files: Vec<_> = fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.ends_with("-tiny.json") && name.len() == "20261126T160012Z-tiny.json".len(),
        "{name}"
    );
    let report = store::load(&files[0]).unwrap();
    assert_eq!(
        report.schema_version,
        costbench::report::schema::schema_version()
    );
    let cost = report
        .cost
        .as_ref()
        .expect("a transformer run prices its target");
    assert_eq!(
        cost.scenario, "published",
        "--no-probe: no roofline, so the published scenario"
    );
    assert!(!cost.options.is_empty() && !cost.catalog_hash.is_empty());
    let mc = cost
        .uncertainty
        .as_ref()
        .expect("the Monte Carlo is recorded");
    assert_eq!(mc.options.len(), cost.options.len());
    assert!(mc.verdict.trainium.is_some() && mc.verdict.nvidia.is_some());
    assert_eq!(report.workload.name, "tiny");
    assert_eq!(report.machine.threads, 1);
    let Measurement::Step(step) = &report.measurement else {
        panic!("a step")
    };
    assert!(step.samples_s.len() >= 5);
    assert_eq!(step.step_time_s.n, step.samples_s.len());
    assert_eq!(step.flops.executed_per_step, step.flops.analytic_per_step);
    assert!(
        report
            .metrics
            .iter()
            .any(|m| m.id == "step_time" && m.unit == "s")
    );
    assert!(
        report
            .metrics
            .iter()
            .any(|m| m.id == "op.attention.flops" && m.machine_independent)
    );
}

#[test]
fn output_dash_prints_the_report_and_moves_the_summary_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny(dir.path());
    let out = run_in(dir.path())
        .arg(&file)
        .args(FAST)
        .args(["--output", "-", "--label", "ci-box", "--seed", "7"])
        .assert()
        .success()
        .stderr(predicate::str::contains("step time (measured)"))
        .get_output()
        .stdout
        .clone();
    let report = store::parse(&String::from_utf8(out).unwrap(), "stdout").unwrap();
    assert_eq!(report.machine.label.as_deref(), Some("ci-box"));
    assert_eq!(report.settings.seed, 7);
    // Nothing was written into the default results directory.
    assert!(!dir.path().join("results").exists());
}

#[test]
fn an_unusable_results_directory_fails_before_measuring() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny(dir.path());
    let blocker = dir.path().join("a-file");
    fs::write(&blocker, "not a directory").unwrap();
    run_in(dir.path())
        .arg(&file)
        .args(FAST)
        .arg("--results-dir")
        .arg(blocker.join("results"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "--results-dir: could not create the directory",
        ))
        .stdout(predicate::str::contains("step time").not());
}

#[test]
fn output_that_is_a_directory_or_with_several_workloads_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny(dir.path());
    run_in(dir.path())
        .arg(&file)
        .args(FAST)
        .arg("--output")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is a directory"));
    // A usage error: one --output, several workloads.
    run_in(dir.path())
        .args([&file, &file, "--output", "x.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--output takes one report"));
}

#[test]
fn bad_sampling_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        ["--max-time", "-1"],
        ["--max-time", "nan"],
        ["--precision", "0"],
        ["--min-samples", "1"],
        ["--warmup", "soon"],
    ] {
        run_in(dir.path())
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn scaling_check_fits_three_or_more_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let file = tiny(dir.path());
    let out = run_in(dir.path())
        .arg(&file)
        .args(FAST)
        .args(["--scaling", "--output", "-"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "scaling check: time = a + b·FLOPs over 4 sizes",
        ))
        .get_output()
        .stdout
        .clone();
    let report = store::parse(&String::from_utf8(out).unwrap(), "stdout").unwrap();
    let scaling = report.scaling.expect("scaling recorded");
    assert_eq!(scaling.points.len(), 4);
    assert!(scaling.points.windows(2).all(|p| p[0].flops < p[1].flops));
    assert!(scaling.r_squared.is_finite());
}

/// Provenance: costbench's own build commit is always recorded (it is the commit of this
/// repository's sources when built from a checkout); the working directory's git state only
/// with --record-git, and then it is the repository the command ran in, not costbench's.
#[test]
fn reports_record_costbench_build_commit_and_the_working_directory_only_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let workload = tiny(dir.path());
    let load = |args: &[&str]| {
        let out = dir.path().join(format!("{}.json", args.len()));
        run_in(dir.path())
            .args(FAST)
            .arg(&workload)
            .args(args)
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        store::load(&out).unwrap()
    };
    let head = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());

    let plain = load(&[]);
    assert_eq!(plain.machine.git, None, "recorded without --record-git");
    if let Some(head) = &head {
        // Built from this checkout: the embedded commit is its HEAD.
        assert_eq!(
            plain.machine.costbench_commit.as_deref(),
            Some(head.as_str())
        );
        assert!(plain.machine.costbench_dirty.is_some());
    }

    // The temporary directory is no repository: --record-git finds nothing to record there.
    let asked = load(&["--record-git"]);
    assert_eq!(asked.machine.git, None);
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(repo.path())
            .args(args)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if git(&["init", "-q"])
        && git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ])
    {
        let out = repo.path().join("r.json");
        run_in(repo.path())
            .args(FAST)
            .arg(&workload)
            .args(["--record-git", "-o"])
            .arg(&out)
            .assert()
            .success();
        let r = store::load(&out).unwrap();
        let g = r
            .machine
            .git
            .expect("--record-git in a repository records it");
        assert_ne!(
            Some(g.commit.as_str()),
            head.as_deref(),
            "the working directory's, not costbench's"
        );
        assert_eq!(g.commit.len(), 40);
    }
}
