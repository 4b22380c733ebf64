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
        .args(["estimate", "llama2-7b", "--verbose"])
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
        .stdout(predicate::str::contains("68.977G"))
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
            "--verbose",
        ])
        .output()
        .unwrap();
    assert!(base.status.success() && cheap.status.success());
    let text = String::from_utf8_lossy(&cheap.stdout);
    // The changed row is marked, and the mark explained.
    let row = text
        .lines()
        .find(|l| l.contains("p5.48xlarge*"))
        .expect("the changed row is marked");
    assert!(row.contains("on_demand"), "{row}");
    assert!(text.contains("changed by --price or a catalog overlay"));
    assert_ne!(String::from_utf8_lossy(&base.stdout), text);
}

#[test]
fn bad_estimate_input_is_one_line_and_non_zero() {
    for (args, code, words) in [
        (
            vec!["estimate", "llama2-7b", "--scenario", "custom"],
            2,
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
            2,
            "price",
        ),
        (
            vec!["estimate", "llama2-7b", "--price", "nope:on_demand=1"],
            2,
            "nope",
        ),
        (
            vec!["estimate", "mlp-small"],
            1,
            "not a transformer workload",
        ),
        (vec!["estimate", "--layers", "2"], 2, "is required"),
        (vec!["estimate"], 2, "name a bundled workload"),
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

#[test]
fn the_verdict_comes_first_and_the_default_text_fits_100_columns() {
    for workload in ["gpt2-124m", "llama2-7b", "llama3-8b"] {
        let out = costbench().args(["estimate", workload]).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        for line in text.lines() {
            assert!(
                line.chars().count() <= 100,
                "{workload}: {} columns: {line}",
                line.chars().count()
            );
        }
        let verdict = text.find("Trainium or NVIDIA?").expect("a verdict");
        let table = text.find("Best options per vendor").expect("a table");
        assert!(verdict < table, "{text}");
        assert!(
            text.contains("  Trainium  ") && text.contains("  NVIDIA    "),
            "{text}"
        );
        assert!(text.contains("cheaper in"), "{text}");
    }
}

#[test]
fn estimate_writes_json_csv_markdown_and_html() {
    let json = costbench()
        .args(["estimate", "llama2-7b", "--format", "json"])
        .output()
        .unwrap();
    assert!(json.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["schema_version"], "1.1");
    let verdict = &doc["cost"]["uncertainty"]["verdict"];
    assert_eq!(verdict["trainium"]["vendor"], "AWS");
    assert_eq!(verdict["nvidia"]["vendor"], "NVIDIA");
    assert!(verdict["p_trainium_cheaper"].is_number());
    let options = doc["cost"]["options"].as_array().unwrap().len();
    assert_eq!(
        doc["cost"]["uncertainty"]["options"]
            .as_array()
            .unwrap()
            .len(),
        options
    );
    // The verdict is reproducible: pinned (seed 0).
    insta::assert_snapshot!(
        "estimate_llama2_7b_verdict",
        serde_json::to_string_pretty(verdict).unwrap()
    );

    let csv = costbench()
        .args(["estimate", "llama2-7b", "--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(csv.lines().next().unwrap().contains("usd_p5"));
    assert_eq!(csv.lines().count(), options + 1);

    let md = costbench()
        .args(["estimate", "llama2-7b", "--format", "markdown"])
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(
        md.contains("Trainium or NVIDIA?") && md.contains("| vendor"),
        "{md}"
    );

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("e.html");
    costbench()
        .args(["estimate", "llama2-7b", "--format", "html", "-o"])
        .arg(&page)
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("llama2-7b"));
}

#[test]
fn goodput_pue_and_grid_flags_reach_the_assumptions() {
    costbench()
        .args([
            "estimate",
            "llama2-7b",
            "--goodput",
            "0.8",
            "--pue",
            "1.5",
            "--grid-intensity",
            "0.2",
            "--verbose",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "goodput 80% (given on the command line (--goodput))",
        ))
        .stdout(predicate::str::contains(
            "PUE 1.50 (given on the command line (--pue))",
        ))
        .stdout(predicate::str::contains("grid 0.200 kg CO2/kWh"));
    costbench()
        .args(["estimate", "llama2-7b", "--pue", "0.5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected a PUE from 1 to 3"));
}

#[test]
fn validate_prints_the_calibration_table_with_its_median_error() {
    costbench()
        .args(["estimate", "--validate"])
        .assert()
        .success()
        .stdout(predicate::str::contains("| A-14 | GPT-3 175B |"))
        .stdout(predicate::str::contains("| T-01 |"))
        .stdout(predicate::str::contains("Median absolute error: "));
}

#[test]
fn a_hugging_face_config_is_priced_and_its_errors_name_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("config.json");
    std::fs::write(
        &good,
        r#"{"model_type":"mixtral","hidden_size":4096,"intermediate_size":14336,
        "max_position_embeddings":32768,"num_attention_heads":32,"num_hidden_layers":32,
        "num_key_value_heads":8,"num_local_experts":8,"num_experts_per_tok":2,
        "vocab_size":32000,"tie_word_embeddings":false}"#,
    )
    .unwrap();
    costbench()
        .args(["estimate", "--hf-config"])
        .arg(&good)
        .args(["--tokens", "1e12", "--seq-len", "4096"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "(12.880G active: 8 experts, top-2)",
        ));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"model_type":"llama","hidden_size":4096}"#).unwrap();
    let out = costbench()
        .args(["estimate", "--hf-config"])
        .arg(&bad)
        .args(["--tokens", "1e12"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("bad.json: num_hidden_layers: missing"),
        "{err}"
    );
}

#[test]
fn fp8_prices_only_chips_with_an_fp8_peak() {
    let out = costbench()
        .args(["estimate", "llama2-7b", "--precision", "fp8", "--verbose"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("(8 chips, fp8)") || text.contains("chips, fp8)"),
        "{text}"
    );
    assert!(text.contains("no FP8 peak"), "{text}");
}
