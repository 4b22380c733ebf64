//! `costbench ab` end to end: two builds (here the test binary, and the same binary behind a
//! wrapper that plants a slowdown) run in interleaved rounds on the tiny workload; the rounds'
//! reports are kept, the JSON names every round, and the gate fires on a planted slowdown and not
//! on an A/A comparison with a wide threshold. (What ab detects at realistic sizes is measured,
//! not tested: tools/ab-power/run.sh, docs/ci.md.)

mod common;

use common::{TINY_WORKLOAD, costbench, single_error};
use std::path::{Path, PathBuf};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_costbench"))
}

/// A "head build" that is the same binary with a planted slowdown of `percent`.
fn slowed(dir: &Path, percent: u32) -> PathBuf {
    let path = dir.join(format!("slowed-{percent}"));
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nCOSTBENCH_TEST_PLANTED_SLOWDOWN={percent} exec '{}' \"$@\"\n",
            bin().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn ab(head: &Path, results: &Path, rounds: u32, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = costbench()
        .arg("ab")
        .arg(bin())
        .arg(head)
        .arg(TINY_WORKLOAD)
        .arg("--rounds")
        .arg(rounds.to_string())
        .args(["--format", "json", "--quiet", "--results-dir"])
        .arg(results)
        // One thread: a run competing with parallel builds for two cores moves less.
        .args([
            "--run-arg=--max-time",
            "--run-arg=1",
            "--run-arg=--threads=1",
        ])
        .args(extra)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!(
        code == 0 || code == 3,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn a_planted_slowdown_fires_the_gate_and_every_round_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    // A fivefold step time: above what a machine loaded by parallel builds moves a tiny
    // workload's median between two runs (fourfold has been seen), so the test does not flake.
    let head = slowed(dir.path(), 400);
    let results = dir.path().join("ab");
    let (code, json) = ab(&head, &results, 6, &["--fail-on-regression", "10"]);
    let step = json["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "step_time")
        .unwrap()
        .clone();
    assert_eq!(step["gated"], true);
    assert_eq!(step["verdict"], "regressed", "{step}");
    assert_eq!(code, 3, "{json}");
    assert!(step["change"]["point"].as_f64().unwrap() > 1.0, "{step}");
    // Six rounds, alternating order, each with one report per side that exists on disk.
    let rounds = json["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 6);
    let orders: Vec<_> = rounds
        .iter()
        .map(|r| r["order"].as_str().unwrap())
        .collect();
    assert_eq!(orders[..3], ["base, head", "head, base", "base, head"]);
    for r in rounds {
        for side in ["base_reports", "head_reports"] {
            let files = r[side].as_array().unwrap();
            assert_eq!(files.len(), 1);
            assert!(Path::new(files[0].as_str().unwrap()).is_file());
        }
    }
    // The planted slowdown is named in the comparison, and ab.json is kept beside the rounds.
    assert!(
        json["warnings"]
            .to_string()
            .contains("planted slowdown of 400%")
    );
    let kept: Vec<_> = std::fs::read_dir(&results).unwrap().collect();
    assert_eq!(kept.len(), 1);
    let run_dir = kept[0].as_ref().unwrap().path();
    assert!(run_dir.join("ab.json").is_file());
}

#[test]
fn an_a_a_comparison_does_not_fire_a_wide_gate() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json) = ab(
        &bin(),
        &dir.path().join("ab"),
        3,
        &["--fail-on-regression", "50"],
    );
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["gate"]["triggered"].as_array().unwrap().len(), 0);
    assert!(json["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn a_binary_that_is_not_costbench_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = costbench()
        .args(["ab", "/bin/true"])
        .arg(bin())
        .arg("--results-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let e = single_error(&out);
    assert!(
        e.contains("/bin/true") && e.contains("expected a costbench binary"),
        "{e}"
    );
    // Nothing was run, nothing created.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
