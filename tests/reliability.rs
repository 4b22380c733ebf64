//! No lost or corrupted results (docs/reliability.md): an interrupted run leaves nothing behind,
//! a read-only or full results directory is refused before measuring, two runs in the same
//! second keep both reports, and `--max-time` bounds the sampling.

mod common;

use assert_cmd::Command;
use common::TINY_WORKLOAD;
use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Every file under `dir`, recursively, as paths relative to it.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Starts a run that would sample for 60 s, waits until it is sampling, sends `signal`.
fn interrupted_run(signal: libc::c_int) {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let bin = assert_cmd::cargo::cargo_bin("costbench");
    let child = std::process::Command::new(bin)
        .args([
            "run",
            TINY_WORKLOAD,
            "--no-probe",
            "--precision",
            "0.01",
            "--max-time",
            "60",
        ])
        .arg("--results-dir")
        .arg(&results)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The results directory is checked (a probe file created and removed) before sampling;
    // give the process time to get into the sampling loop.
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let start = Instant::now();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("no report was written"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // It stopped after the step it was timing, not after the 60 s budget.
    assert!(start.elapsed() < Duration::from_secs(20));
    assert_eq!(files(dir.path()), Vec::<String>::new(), "left behind");
}

#[test]
fn sigint_during_a_run_leaves_no_report_and_no_temporary_file() {
    interrupted_run(libc::SIGINT);
}

#[test]
fn sigterm_during_a_run_leaves_no_report_and_no_temporary_file() {
    interrupted_run(libc::SIGTERM);
}

#[test]
fn two_runs_started_together_keep_both_reports() {
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("costbench");
    let start = || {
        std::process::Command::new(&bin)
            .current_dir(dir.path())
            .args([
                "run",
                TINY_WORKLOAD,
                "--no-probe",
                "--quick",
                "--max-time",
                "0.2",
                "-q",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b, mut c) = (start(), start(), start());
    for child in [&mut a, &mut b, &mut c] {
        assert!(child.wait().unwrap().success());
    }
    let reports = files(&dir.path().join("results"));
    assert_eq!(reports.len(), 3, "{reports:?}");
    for r in &reports {
        assert!(r.ends_with(".json"), "{r}");
        costbench::report::store::load(Path::new(r)).expect("a complete report");
    }
}

#[test]
fn max_time_bounds_the_sampling() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    Command::cargo_bin("costbench")
        .unwrap()
        .args([
            "run",
            TINY_WORKLOAD,
            "--no-probe",
            "--precision",
            "0.01",
            "--max-time",
            "0.5",
        ])
        .args(["--warmup", "0", "-q", "-o"])
        .arg(&out)
        .assert()
        .success();
    let r = costbench::report::store::load(&out).unwrap();
    let costbench::report::schema::Measurement::Step(m) = &r.measurement else {
        panic!("a step")
    };
    assert_eq!(r.settings.max_time_s, 0.5);
    assert_eq!(m.stop, costbench::measure::sampler::StopReason::TimeBudget);
    // Sampling stops at the first step that ends past the budget.
    let total: f64 = m.samples_s.iter().sum();
    let longest = m.samples_s.iter().copied().fold(0.0, f64::max);
    assert!(total <= 0.5 + longest, "{total} s sampled");
}

/// Mounts a tmpfs with `options` on a new directory, or None where this process may not mount
/// (not root, or a container without the capability).
fn tmpfs(options: &str) -> Option<(tempfile::TempDir, Mounted)> {
    let dir = tempfile::tempdir().ok()?;
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", options, "tmpfs"])
        .arg(dir.path())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return None;
    }
    let m = Mounted(dir.path().to_path_buf());
    Some((dir, m))
}

struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

fn refused_before_measuring(results: &Path, expected: &str) {
    let out = Command::cargo_bin("costbench")
        .unwrap()
        .args(["run", TINY_WORKLOAD, "--no-probe", "--results-dir"])
        .arg(results)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // Nothing was measured: the step-time line never appeared.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("step time"));
}

#[test]
fn a_read_only_results_directory_is_refused_before_measuring() {
    let Some((dir, _m)) = tmpfs("ro,size=1m") else {
        return;
    };
    refused_before_measuring(&dir.path().join("results"), "Read-only file system");
}

#[test]
fn a_full_results_directory_is_refused_before_measuring() {
    let Some((dir, _m)) = tmpfs("size=256k") else {
        return;
    };
    let results = dir.path().join("results");
    fs::create_dir_all(&results).unwrap();
    // Fill the filesystem, leaving less than a report's reserve.
    let _ = fs::write(dir.path().join("fill"), vec![0u8; 240 * 1024]);
    refused_before_measuring(&results, "cannot hold a report");
    let left: Vec<String> = files(&results);
    assert_eq!(left, Vec::<String>::new());
}

#[test]
fn a_results_path_through_a_file_is_refused_before_measuring() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("file"), "x").unwrap();
    refused_before_measuring(
        &dir.path().join("file/results"),
        "--results-dir: could not create the directory",
    );
}
