//! `run --counts` end to end: a real count of `tests/fixtures/tiny.toml` under valgrind's
//! Cachegrind, recorded in the report, compared exactly, gated at 0.1% and exported; and the
//! refusals that need no valgrind (valgrind missing, a product sweep). Everything is written to
//! temporary directories.

mod common;

use common::{REPORT_FIXTURE, TINY_WORKLOAD, costbench, single_error};
use costbench::measure::counts::{self, Counts};
use costbench::report::schema::Report;
use costbench::report::store;
use std::path::Path;

fn valgrind_present() -> bool {
    std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `r` with every count of its longer run raised so that each per-step figure grows by
/// `fraction`, the per-step figures and metrics rederived: a planted regression of the counts.
fn counts_scaled(r: &Report, fraction: f64) -> Report {
    let mut out = r.clone();
    let c: &mut Counts = out.counts.as_mut().unwrap();
    let (short, long) = (c.runs[0].clone(), &mut c.runs[1]);
    for (name, total) in long.events.iter_mut() {
        let step = *total - short.events[name];
        *total += (step as f64 * fraction).round() as u64;
    }
    c.per_step = counts::per_step(&c.runs).unwrap();
    out.metrics = costbench::report::report_metrics(&out.measurement, out.counts.as_ref());
    out
}

fn compare(dir: &Path, base: &str, new: &str) -> std::process::Output {
    costbench()
        .current_dir(dir)
        .args(["compare", base, new, "--metric", "count."])
        .args(["--noise", "0.1", "--fail-on-regression", "0.1"])
        .output()
        .unwrap()
}

#[test]
fn a_counted_step_is_recorded_compared_exactly_gated_and_exported() {
    if !valgrind_present() {
        eprintln!(
            "note: valgrind is not installed, so --counts is not tested here (.ci/run installs it: apt-get install valgrind)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = costbench()
        .current_dir(dir.path())
        .env("CI", "true")
        .args([
            "run",
            "--quick",
            "--no-probe",
            "--warmup",
            "0",
            "--max-time",
            "1",
        ])
        .args(["--counts", TINY_WORKLOAD, "-o", "a.json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("step counts (valgrind-"), "{stdout}");

    // Recorded, with the raw totals the figures come from.
    let a = store::load(&dir.path().join("a.json")).unwrap();
    assert_eq!(a.schema_version, "1.6");
    let c = a.counts.as_ref().expect("counts recorded");
    assert_eq!(c.tool, "cachegrind");
    assert!(
        c.tool_version.starts_with("valgrind-"),
        "{}",
        c.tool_version
    );
    assert!(c.cache_sim && c.caches.is_some());
    assert_eq!((c.threads, c.seed), (1, 0));
    assert_eq!(
        c.runs.iter().map(|r| r.steps).collect::<Vec<_>>(),
        [counts::DEFAULT_STEPS.0, counts::DEFAULT_STEPS.1]
    );
    // Valgrind hides AVX-512: never the path counted.
    assert_ne!(c.isa, "avx512f");
    assert_eq!(c.executable_sha256.len(), 64);
    let p = c.per_step;
    let ir = (c.runs[1].events["Ir"] - c.runs[0].events["Ir"]) as f64;
    assert_eq!(p.instructions, ir);
    // A step of the tiny transformer runs about 21 million instructions on the AVX2 path.
    assert!((1e6..1e9).contains(&p.instructions), "{p:?}");
    assert!(p.cache_refs.unwrap() > p.instructions);
    assert!(p.d1_misses.unwrap() > 0.0 && p.ll_misses.is_some());
    let ids: Vec<&str> = a
        .metrics
        .iter()
        .map(|m| m.id.as_str())
        .filter(|id| id.starts_with("count."))
        .collect();
    assert_eq!(
        ids,
        [
            "count.instructions",
            "count.cache_refs",
            "count.d1_misses",
            "count.ll_misses"
        ]
    );

    // Compared exactly: against itself no change, and the 0.1% gate passes.
    std::fs::copy(dir.path().join("a.json"), dir.path().join("same.json")).unwrap();
    let same = compare(dir.path(), "a.json", "same.json");
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    let json = costbench()
        .current_dir(dir.path())
        .args(["compare", "a.json", "same.json", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let m = v["pairs"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "count.instructions")
        .unwrap()
        .clone();
    assert_eq!(m["method"], "exact");
    assert_eq!(m["verdict"], "no_change");

    // A planted 0.5% more instructions per step trips the gate (exit 3) and names the metric; 0.05%
    // stays inside it.
    for (fraction, name, code) in [(0.005, "worse.json", 3), (0.0005, "slightly.json", 0)] {
        let planted = counts_scaled(&a, fraction);
        store::save_to(&planted, &dir.path().join(name)).unwrap();
        let out = compare(dir.path(), "a.json", name);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{fraction}: {stderr}");
        if code == 3 {
            assert!(
                stderr.contains("gate FAILED") && stderr.contains("count.instructions +0.50%"),
                "{stderr}"
            );
        }
    }

    // Exported: Bencher's format under the `count` subject, github-action-benchmark among the
    // smaller-is-better figures.
    let bmf = costbench()
        .current_dir(dir.path())
        .args(["report", "a.json", "--format", "bmf"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bmf.stdout).unwrap();
    assert_eq!(v["tiny/count"]["instructions"]["value"], p.instructions);
    assert_eq!(v["tiny/count"]["d1-misses"]["value"], p.d1_misses.unwrap());
    let gab = costbench()
        .current_dir(dir.path())
        .args(["report", "a.json", "--format", "gab", "-o", "bench"])
        .output()
        .unwrap();
    assert!(gab.status.success());
    let smaller =
        std::fs::read_to_string(dir.path().join("bench/costbench-smaller-is-better.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&smaller).unwrap();
    let entry = v
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "tiny count.instructions")
        .expect("the instruction count is exported");
    assert_eq!(entry["unit"], "instructions");
    assert_eq!(entry["value"], p.instructions);
}

#[test]
fn a_missing_valgrind_is_one_line_saying_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = costbench()
        .current_dir(dir.path())
        .env("CI", "true")
        .env(counts::VALGRIND_ENV, "/nonexistent/valgrind")
        .args(["run", "--quick", "--no-probe", "--counts", TINY_WORKLOAD])
        .output()
        .unwrap();
    let line = single_error(&out);
    assert!(
        line.contains("'/nonexistent/valgrind' was not found")
            && line.contains("sudo apt-get install valgrind"),
        "{line}"
    );
    // Refused before anything was measured or written.
    assert!(!dir.path().join("results").exists());
}

#[test]
fn a_product_sweep_has_no_step_to_count() {
    let dir = tempfile::tempdir().unwrap();
    let out = costbench()
        .current_dir(dir.path())
        .env("CI", "true")
        .args(["run", "--quick", "--no-probe", "--counts", "gemm-sweep"])
        .output()
        .unwrap();
    let line = single_error(&out);
    assert!(line.contains("'gemm-sweep' is a product sweep"), "{line}");
}

#[test]
fn a_report_without_counts_loads_and_has_no_count_metrics() {
    let r = store::load(Path::new(REPORT_FIXTURE)).unwrap();
    assert!(r.counts.is_none());
    assert!(!r.metrics.iter().any(|m| m.id.starts_with("count.")));
}
