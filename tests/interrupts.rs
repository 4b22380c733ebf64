//! Interrupts and time bounds (docs/reliability.md, "Interrupts and time bounds"): Ctrl-C and
//! SIGTERM sent to the real binary at chosen moments stop it within seconds, with exit code 130,
//! one line that says what was and was not written, and no partial report or temporary file;
//! `--max-time` bounds a whole sweep, warm-ups included; `compare` handles a million samples in
//! seconds; the warm-up record is bounded.
//!
//! Time bounds are generous (this runs on loaded two-core machines): each is several times what
//! the fixed code takes, and a small fraction of what the code before the fix took.

mod common;

use common::TINY_WORKLOAD;
use costbench::measure::record::{Measurement, WARMUP_KEPT};
use costbench::report::store;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `costbench` with `args`, its output piped, without colour or backtraces.
fn start(args: &[&str], dir: &Path) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("costbench"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COSTBENCH_CACHE_DIR", dir.join("cache"))
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
}

/// Waits for `child` and returns its output and how long after `since` it ended.
fn finish(child: Child, since: Instant) -> (Output, Duration) {
    let out = child.wait_with_output().unwrap();
    (out, since.elapsed())
}

/// Exit 130, one `error:` line with `words`, no panic; returns standard error.
#[track_caller]
fn interrupted(out: &Output, words: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    assert!(errors[0].contains(words), "{stderr}");
    assert!(common::panic_traces(out).is_empty(), "{stderr}");
    stderr
}

/// A sweep of one square product of `size` in `dtype`.
fn one_product(dir: &Path, size: usize, dtype: &str) -> PathBuf {
    let path = dir.join(format!("p{size}.toml"));
    fs::write(
        &path,
        format!(
            "name = \"p{size}\"\nkind = \"gemm\"\ndescription = \"one product\"\n\n[target]\n\
             dtypes = [\"{dtype}\"]\nsquare = [{size}]\n\n[measure]\ndtypes = [\"{dtype}\"]\n"
        ),
    )
    .unwrap();
    path
}

/// A sweep of `count` small square products, 32 to 32 + 4·(count − 1) wide.
fn small_sweep(dir: &Path, count: usize) -> PathBuf {
    let sizes: Vec<String> = (0..count).map(|i| (32 + 4 * i).to_string()).collect();
    let path = dir.join("sweep.toml");
    fs::write(
        &path,
        format!(
            "name = \"sweep\"\nkind = \"gemm\"\ndescription = \"small products\"\n\n[target]\n\
             dtypes = [\"f32\"]\nsquare = [{}]\n\n[measure]\ndtypes = [\"f32\"]\n",
            sizes.join(", ")
        ),
    )
    .unwrap();
    path
}

/// Lines of the child's standard error as they come.
fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Signals a run during the first run of a long product (4096³ f64: 137 GFLOP, 2.7 s on an
/// idle two-core Zen 5; before the fix the run went on for three such products, 8 s and more,
/// and now stops at the product's next chunk).
fn interrupted_in_a_long_product(sig: libc::c_int) {
    let dir = tempfile::tempdir().unwrap();
    let workload = one_product(dir.path(), 4096, "f64");
    let child = start(
        &[
            "run",
            workload.to_str().unwrap(),
            "--no-probe",
            "-q",
            "--results-dir",
            "results",
        ],
        dir.path(),
    );
    // Building the operands takes a fraction of a second; then the first product runs.
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, sig);
    let (out, after) = finish(child, Instant::now());
    interrupted(&out, "stopped before writing; no report was written");
    assert!(
        after < Duration::from_secs(5),
        "stopped {after:?} after the signal"
    );
    assert_eq!(files(&dir.path().join("results")), Vec::<PathBuf>::new());
}

#[test]
fn sigint_during_a_long_product_stops_within_seconds() {
    interrupted_in_a_long_product(libc::SIGINT);
}

#[test]
fn sigterm_during_a_long_product_stops_within_seconds() {
    interrupted_in_a_long_product(libc::SIGTERM);
}

#[test]
fn sigint_during_the_warm_up_stops_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    // A 60 s warm-up: the signal comes during it.
    let child = start(
        &[
            "run",
            TINY_WORKLOAD,
            "--no-probe",
            "-q",
            "--warmup",
            "60",
            "--results-dir",
            "results",
        ],
        dir.path(),
    );
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, libc::SIGINT);
    let (out, after) = finish(child, Instant::now());
    interrupted(&out, "no report was written");
    assert!(
        after < Duration::from_secs(5),
        "stopped {after:?} after the signal"
    );
    assert_eq!(files(&dir.path().join("results")), Vec::<PathBuf>::new());
}

#[test]
fn an_interrupt_between_two_workloads_names_the_report_already_written() {
    let dir = tempfile::tempdir().unwrap();
    // The tiny workload takes under a second; the product then takes several: a 0.5 s
    // warm-up after its first run, then at least five runs of a 2048³ f64 product.
    let workload = one_product(dir.path(), 2048, "f64");
    let results = dir.path().join("results");
    let child = start(
        &[
            "run",
            TINY_WORKLOAD,
            workload.to_str().unwrap(),
            "--no-probe",
            "-q",
            "--quick",
            "--results-dir",
            "results",
        ],
        dir.path(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let first = loop {
        let reports: Vec<PathBuf> = files(&results)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        if let Some(r) = reports.first() {
            break r.clone();
        }
        assert!(Instant::now() < deadline, "the first report never appeared");
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, libc::SIGINT);
    let (out, after) = finish(child, Instant::now());
    let stderr = interrupted(&out, "written before the interrupt, complete:");
    // Named as the run was told (`--results-dir results`).
    let name = first.file_name().unwrap().to_str().unwrap();
    assert!(
        stderr.contains(&format!("complete: results/{name}; nothing else")),
        "{stderr}"
    );
    assert!(!stderr.contains("no report was written"), "{stderr}");
    assert!(
        after < Duration::from_secs(5),
        "stopped {after:?} after the signal"
    );
    // Exactly the first report, complete; no temporary file.
    assert_eq!(files(&results), vec![first.clone()]);
    let r = store::load(&first).expect("a complete report");
    assert_eq!(r.workload.name, "tiny");
}

#[test]
fn an_interrupt_the_work_does_not_check_quits_after_the_grace_period_and_a_second_at_once() {
    // The roofline probe (measured afresh: an empty cache directory) never checks the flag and
    // takes several seconds with 16 threads: the first signal quits it after the 2 s grace
    // period, and a second signal at once.
    for twice in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let child = start(
            &[
                "run",
                "--threads",
                "16",
                TINY_WORKLOAD,
                "-q",
                "--results-dir",
                "results",
            ],
            dir.path(),
        );
        std::thread::sleep(Duration::from_millis(1000));
        signal(&child, libc::SIGTERM);
        let first = Instant::now();
        if twice {
            std::thread::sleep(Duration::from_millis(300));
            signal(&child, libc::SIGINT);
        }
        let (out, after) = finish(child, first);
        let words = if twice {
            "interrupted twice (Ctrl-C or SIGTERM): quit at once before writing; no report was written"
        } else {
            "interrupted (Ctrl-C or SIGTERM): stopped before writing; no report was written"
        };
        interrupted(&out, words);
        assert!(
            after < Duration::from_secs(8),
            "quit {after:?} after the signal"
        );
        // Nothing in the results directory, no probe cached and no temporary file anywhere.
        assert_eq!(files(dir.path()), Vec::<PathBuf>::new());
    }
}

#[test]
fn an_interrupt_during_the_last_write_completes_it_names_it_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    // The report goes to a pipe this test does not read yet, shrunk to one page: once more than
    // that is written, the write blocks, and the signal comes while it is blocked.
    let mut child = start(
        &[
            "run",
            TINY_WORKLOAD,
            "--no-probe",
            "-q",
            "--warmup",
            "0.2",
            "--max-time",
            "1",
            "-o",
            "-",
        ],
        dir.path(),
    );
    {
        use std::os::fd::AsRawFd;
        let fd = child.stdout.as_ref().unwrap().as_raw_fd();
        // SAFETY: resizing a pipe this process holds open; the child has not written to it yet
        // (the report is written after a second of measuring).
        assert!(unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, 4096) } >= 4096);
    }
    let lines = stderr_lines(&mut child);
    let mut stderr = Vec::new();
    // The summary goes to standard error just before the report is written.
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the summary");
        let done = line.contains("step time (measured)");
        stderr.push(line);
        if done {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(1000));
    signal(&child, libc::SIGINT);
    // Longer than the grace period: the write is waited for, not cut.
    std::thread::sleep(Duration::from_millis(3000));
    assert!(child.try_wait().unwrap().is_none(), "quit during the write");
    let mut report = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut report)
        .unwrap();
    let status = child.wait().unwrap();
    stderr.extend(lines.iter());
    let stderr = stderr.join("\n");
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        report.len() > 8 * 4096,
        "the report fits in the pipe: {}",
        report.len()
    );
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("written before the interrupt, complete: standard output"),
        "{stderr}"
    );
    let r = store::parse(&report, "stdout").expect("a complete report");
    assert_eq!(r.workload.name, "tiny");
}

#[test]
fn max_time_bounds_a_sweep_with_its_warm_ups() {
    let dir = tempfile::tempdir().unwrap();
    let workload = small_sweep(dir.path(), 30);
    let out = dir.path().join("r.json");
    let started = Instant::now();
    let run = common::costbench()
        .args(["run", workload.to_str().unwrap(), "--no-probe", "--quick"])
        .args(["--max-time", "1.5", "-q", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    let wall = started.elapsed();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let r = store::load(&out).unwrap();
    assert_eq!(r.settings.max_total_s, Some(1.5));
    let Measurement::Sweep(s) = &r.measurement else {
        panic!("a sweep")
    };
    // Everything timed — every warm-up and sample of every product — within the budget plus
    // the one unit that was running when it ran out.
    let longest = s
        .cases
        .iter()
        .flat_map(|c| c.warmup_s.iter().chain(&c.samples_s))
        .copied()
        .fold(0.0, f64::max);
    let timed: f64 = s
        .cases
        .iter()
        .map(|c| c.warmup_total_s.unwrap() + c.samples_s.iter().sum::<f64>())
        .sum();
    assert!(timed <= 1.5 + longest, "{timed} s timed");
    // Before the bound covered warm-ups, 30 products × 0.5 s of warm-up took over 15 s.
    assert!(wall < Duration::from_secs(8), "{wall:?}");
    for c in &s.cases {
        assert!(c.samples_s.len() >= 2, "{}: {:?}", c.label, c.samples_s);
    }
    // A product left out is named, with the remedy.
    if s.cases.len() < 30 {
        assert!(
            r.warnings
                .iter()
                .any(|w| w.contains("left out of this report") && w.contains("raise --max-time")),
            "{:?}",
            r.warnings
        );
    }
}

#[test]
fn max_time_too_short_for_two_samples_writes_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // The first run alone (a 1024³ product: milliseconds at least) outlasts the budget.
    let workload = one_product(dir.path(), 1024, "f32");
    let out = common::costbench()
        .current_dir(dir.path())
        .args(["run", workload.to_str().unwrap(), "--no-probe", "--quick"])
        .args(["--max-time", "0.001", "--results-dir", "results"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let (line, problems) = common::error_line(&stderr);
    assert!(problems.is_empty(), "{problems:?}: {stderr}");
    assert!(
        line.contains("--max-time 0.001 s ran out before") && line.contains("raise --max-time"),
        "{line}"
    );
    assert_eq!(files(&dir.path().join("results")), Vec::<PathBuf>::new());
}

#[test]
fn the_warm_up_record_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let workload = one_product(dir.path(), 32, "f32");
    let out = dir.path().join("r.json");
    let run = common::costbench()
        .args(["run", workload.to_str().unwrap(), "--no-probe", "--quick"])
        .args(["--max-time", "2", "-q", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let r = store::load(&out).unwrap();
    let Measurement::Sweep(s) = &r.measurement else {
        panic!("a sweep")
    };
    let c = &s.cases[0];
    // A 32³ product runs tens of thousands of times in its 0.5 s warm-up.
    let count = c.warmup_count.unwrap();
    assert!(c.warmup_s.len() <= WARMUP_KEPT);
    assert!(count >= c.warmup_s.len() as u64);
    assert!(count > WARMUP_KEPT as u64, "{count} warm-up runs");
    let kept: f64 = c.warmup_s.iter().sum();
    assert!(c.warmup_total_s.unwrap() >= kept, "{:?}", c.warmup_total_s);
    // Before the bound: every warm-up time, megabytes.
    let size = fs::metadata(&out).unwrap().len();
    assert!(size < 200_000, "{size} bytes");
}

/// The report fixture with `n` step samples (and `n` per op class) around their fixture
/// medians × `scale`, every summary recomputed from them (`report::map_times`) so the report
/// is consistent and loads. Its bootstrap uses 10 resamples: the report's own intervals are
/// then cheap to recompute on load; compare's statistics are the subject of the test.
fn report_with_samples(n: usize, scale: f64, seed: u64) -> String {
    let mut r = store::load(Path::new(common::REPORT_FIXTURE)).unwrap();
    r.settings.resamples = 10;
    if let Measurement::Step(m) = &mut r.measurement {
        let loss = m.losses[0];
        m.losses = vec![loss; n];
        // A million per-class series as well would pass the 256 MiB report bound; the step's
        // samples are what compare's statistics are tested on.
        m.op_classes.clear();
    }
    let state = std::cell::Cell::new(seed.wrapping_mul(6364136223846793005).wrapping_add(1));
    let mapped = costbench::report::map_times(&r, |xs| {
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2] * scale;
        (0..n)
            .map(|_| {
                let next = state
                    .get()
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                state.set(next);
                let u = (next >> 11) as f64 / (1u64 << 53) as f64;
                median * (0.98 + 0.04 * u)
            })
            .collect()
    });
    store::to_json(&mapped)
}

#[test]
fn compare_of_a_million_samples_a_side_takes_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let (base, new) = (dir.path().join("base.json"), dir.path().join("new.json"));
    fs::write(&base, report_with_samples(1_000_000, 1.0, 1)).unwrap();
    fs::write(&new, report_with_samples(1_000_000, 1.05, 2)).unwrap();
    let started = Instant::now();
    let out = common::costbench()
        .args(["compare", "--format", "json"])
        .arg(&base)
        .arg(&new)
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // More than 300 s before (10¹⁰ draws per bootstrap); about 3 s now, loading included.
    assert!(took < Duration::from_secs(30), "{took:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let step = json["pairs"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "step_time")
        .unwrap()
        .clone();
    assert_eq!(step["method"], "bootstrap");
    let change = &step["change"];
    let (lo, hi) = (
        change["lower"].as_f64().unwrap(),
        change["upper"].as_f64().unwrap(),
    );
    // A million samples pin the median: the interval is narrow and holds its point.
    let point = change["point"].as_f64().unwrap();
    assert!(lo <= point && point <= hi && hi - lo < 0.01, "{change}");
}
