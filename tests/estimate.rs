//! `costbench estimate` and `costbench catalog` through the binary.

use assert_cmd::Command;
use predicates::prelude::*;

fn costbench() -> Command {
    let mut cmd = Command::cargo_bin("costbench").unwrap();
    cmd.env("CI", "true");
    cmd
}

#[test]
fn estimate_prices_every_option_and_says_what_it_could_not_price() {
    costbench()
        .args(["estimate", "llama2-7b"])
        .assert()
        .success()
        .stdout(predicate::str::contains("p5.48xlarge"))
        .stdout(predicate::str::contains("trn1.32xlarge"))
        .stdout(predicate::str::contains(
            "trn2.48xlarge on_demand: not published",
        ))
        .stdout(predicate::str::contains("sensitivity"))
        .stdout(predicate::str::contains("break-even: best NVIDIA"))
        .stdout(predicate::str::contains("goodput 90%"));
}

#[test]
fn llama2_70b_on_2t_tokens_given_as_flags() {
    costbench()
        .args([
            "estimate",
            "--layers",
            "80",
            "--d-model",
            "8192",
            "--heads",
            "64",
            "--kv-heads",
            "8",
            "--d-ff",
            "28672",
            "--vocab",
            "32000",
            "--seq-len",
            "4096",
            "--tokens",
            "2e12",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("68.977G parameters"))
        .stdout(predicate::str::contains("p6-b200.48xlarge"));
}

#[test]
fn validate_prints_the_llama2_table() {
    costbench()
        .args(["estimate", "--validate"])
        .assert()
        .success()
        .stdout(predicate::str::contains("| Llama 2 70B | 1720320 |"));
}

#[test]
fn a_price_override_changes_the_cost() {
    let base = costbench()
        .args(["estimate", "gpt2-124m", "--plan", "on_demand"])
        .output()
        .unwrap();
    let cheap = costbench()
        .args([
            "estimate",
            "gpt2-124m",
            "--plan",
            "on_demand",
            "--price",
            "p5.48xlarge:on_demand=1",
        ])
        .output()
        .unwrap();
    assert!(base.status.success() && cheap.status.success());
    let row = |out: &[u8]| {
        String::from_utf8_lossy(out)
            .lines()
            .find(|l| l.trim_start().starts_with("p5.48xlarge"))
            .unwrap()
            .to_string()
    };
    assert_ne!(row(&base.stdout), row(&cheap.stdout));
}

#[test]
fn bad_estimate_input_is_one_line_and_non_zero() {
    for (args, code, words) in [
        (
            vec!["estimate", "llama2-7b", "--scenario", "custom"],
            1,
            "needs --mfu",
        ),
        (
            vec!["estimate", "llama2-7b", "--mfu", "1.5"],
            2,
            "expected a fraction",
        ),
        (
            vec![
                "estimate",
                "llama2-7b",
                "--price",
                "p5.48xlarge:on_demand=-1",
            ],
            1,
            "price",
        ),
        (
            vec!["estimate", "llama2-7b", "--price", "nope:on_demand=1"],
            1,
            "nope",
        ),
        (
            vec!["estimate", "mlp-small"],
            1,
            "not a transformer workload",
        ),
        (vec!["estimate", "--layers", "2"], 1, "is required"),
        (vec!["estimate"], 1, "name a bundled workload"),
        (
            vec!["catalog", "--catalog", "/nonexistent/overlay.toml"],
            1,
            "overlay.toml",
        ),
    ] {
        costbench()
            .args(&args)
            .assert()
            .code(code)
            .stderr(predicate::str::contains(words))
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn catalog_lists_sources_and_dates() {
    costbench()
        .arg("catalog")
        .assert()
        .success()
        .stdout(predicate::str::contains("AWS Trainium2"))
        .stdout(predicate::str::contains("not published"))
        .stdout(predicate::str::contains("catalog hash"));
    let out = costbench().args(["catalog", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["instances"].as_array().unwrap().len() >= 10);
}

/// Regression: piping into `head` closed stdout early and the print panicked.
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::{Command as Std, Stdio};
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("costbench"))
        .args(["estimate", "llama2-7b"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
}
