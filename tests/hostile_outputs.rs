//! Hostile outputs, end to end (issue 14, "outputs that cannot destroy"): every place costbench
//! writes — `run`'s report, page and baseline, the exports of `report`, `compare`, `estimate`,
//! `history` — given a path that must not be written. Each is refused with one line, before
//! anything is measured or written, and nothing of the directory changes.
//!
//! Every refusal is a table row: the entries to create in a fresh temporary directory (files,
//! directories, FIFOs, sockets, symbolic links), the arguments (run there), and the key words the
//! error must contain. One checker asserts for every row:
//!
//! - exit code 1 within a few seconds (no case may start a measurement, or wait on a FIFO, or
//!   read a device without end), or 2 for the few the command line alone decides (one path
//!   named for two outputs: a usage error);
//! - every key word, case-insensitively, in the error, and none of the row's `absent` words;
//! - exactly one stderr line starting with `error`, with no control character in it, without a
//!   panic;
//! - nothing in the temporary directory created, changed or removed (FIFOs and sockets are
//!   compared by kind, never opened) and no `.costbench-*` or `*.tmp` file left;
//! - `/dev/null` is still a character device (the tests run as root here: a command that
//!   replaced it would succeed). A case that names a real device runs first against a copy of
//!   that device node in a temporary directory, and names the real one only if the copy was
//!   refused and left intact, so a regression cannot damage the machine's devices.
//!
//! The other tests cover what a table cannot: the measurement saved to a recovery file when the
//! report cannot be written after measuring, the space reserved from the workload, `--force`,
//! and the umask.

mod common;

use common::{REPORT_FIXTURE, VALID};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The longest any refusal may take: a refusal comes before anything is measured.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Flags of a fast, probe-free run.
const FAST: [&str; 8] = [
    "--quick",
    "--no-probe",
    "--warmup",
    "0",
    "--max-time",
    "0.3",
    "-q",
    "--threads=1",
];

/// A valid catalog overlay: one instance price.
const PRICE_OVERLAY: &str = r#"[[instances]]
id = "p5.48xlarge"
prices.on_demand = { usd_per_hour = 40, source = "our quote", as_of = 2026-10-01 }
"#;

fn fixture_bytes() -> Vec<u8> {
    fs::read(REPORT_FIXTURE).expect("the report fixture is readable")
}

/// The fixture report, changed by `f`, as pretty JSON (which this costbench may not load).
fn report_with(f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&fixture_bytes()).unwrap();
    f(&mut v);
    serde_json::to_vec_pretty(&v).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Cases.

enum Entry {
    File(Vec<u8>),
    Dir,
    Fifo,
    Socket,
    Symlink(String),
}

struct Case {
    name: &'static str,
    entries: Vec<(String, Entry)>,
    args: Vec<String>,
    words: Vec<String>,
    absent: Vec<String>,
    /// The exit code: 1, or 2 for a usage error ([`Case::usage`]).
    code: i32,
}

/// A refusal: `args` (split on spaces) run in a temporary directory must exit 1 with an error
/// holding every one of `words`.
fn case(name: &'static str, args: &str, words: &[&str]) -> Case {
    Case {
        name,
        entries: Vec::new(),
        args: args.split_whitespace().map(str::to_string).collect(),
        words: words.iter().map(|s| s.to_string()).collect(),
        absent: Vec::new(),
        code: 1,
    }
}

impl Case {
    fn entry(mut self, path: &str, e: Entry) -> Self {
        self.entries.push((path.to_string(), e));
        self
    }
    fn file(self, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.entry(path, Entry::File(bytes.into()))
    }
    fn dir(self, path: &str) -> Self {
        self.entry(path, Entry::Dir)
    }
    fn fifo(self, path: &str) -> Self {
        self.entry(path, Entry::Fifo)
    }
    fn socket(self, path: &str) -> Self {
        self.entry(path, Entry::Socket)
    }
    fn symlink(self, path: &str, to: &str) -> Self {
        self.entry(path, Entry::Symlink(to.to_string()))
    }
    /// `work.toml`, a valid workload named `tiny`.
    fn workload(self) -> Self {
        self.file("work.toml", VALID)
    }
    /// `r.json`, a report.
    fn report(self) -> Self {
        self.file("r.json", fixture_bytes())
    }
    /// `reports/a.json`, a directory of one report for `history`.
    fn reports(self) -> Self {
        self.file("reports/a.json", fixture_bytes())
    }
    /// One argument that may hold spaces or control characters, appended.
    fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }
    fn absent(mut self, words: &[&str]) -> Self {
        self.absent.extend(words.iter().map(|s| s.to_string()));
        self
    }
    /// A refusal the command line alone decides (one path named for two outputs): a usage
    /// error, exit 2.
    fn usage(mut self) -> Self {
        self.code = 2;
        self
    }
}

/// `run work.toml` without probe, into `results`, followed by `more`.
fn run(more: &str) -> String {
    format!("run work.toml --no-probe --results-dir results {more}")
}

// ---------------------------------------------------------------------------------------------
// The checker.

#[derive(Debug, PartialEq)]
enum Node {
    Dir,
    File(Vec<u8>),
    Link(PathBuf),
    /// A FIFO, socket or device: compared by kind, never opened.
    Special(&'static str),
}

fn special_kind(t: &fs::FileType) -> &'static str {
    if t.is_fifo() {
        "fifo"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() {
        "char"
    } else if t.is_block_device() {
        "block"
    } else {
        "other"
    }
}

/// Every entry under `root` (symbolic links not followed), with the contents of regular files.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Node> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Node>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let meta = fs::symlink_metadata(&path).unwrap();
            let t = meta.file_type();
            let node = if t.is_symlink() {
                Node::Link(fs::read_link(&path).unwrap())
            } else if t.is_dir() {
                walk(root, &path, out);
                Node::Dir
            } else if t.is_file() {
                Node::File(fs::read(&path).unwrap())
            } else {
                Node::Special(special_kind(&t))
            };
            out.insert(rel, node);
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn diff(before: &BTreeMap<PathBuf, Node>, after: &BTreeMap<PathBuf, Node>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, node) in after {
        match before.get(path) {
            None => out.push(format!("created {}", path.display())),
            Some(old) if old != node => out.push(format!("changed {}", path.display())),
            Some(_) => {}
        }
    }
    for path in before.keys().filter(|p| !after.contains_key(*p)) {
        out.push(format!("removed {}", path.display()));
    }
    out
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string; mkfifo only creates a file.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

fn materialise(case: &Case, dir: &Path) {
    for (path, entry) in &case.entries {
        let path = dir.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        match entry {
            Entry::Dir => fs::create_dir_all(&path).unwrap(),
            Entry::File(bytes) => fs::write(&path, bytes).unwrap(),
            Entry::Fifo => mkfifo(&path),
            Entry::Socket => drop(std::os::unix::net::UnixListener::bind(&path).unwrap()),
            Entry::Symlink(to) => std::os::unix::fs::symlink(to, &path).unwrap(),
        }
    }
}

/// Whether `/dev/null` is the character device it must be.
fn dev_null_intact() -> bool {
    fs::symlink_metadata("/dev/null").is_ok_and(|m| m.file_type().is_char_device())
}

/// A copy of the device `/dev/NAME` (same major and minor numbers) at `path`, or false where
/// this process may not create device nodes (not root: then it cannot replace `/dev/NAME`
/// either).
fn mknod_like(device: &Path, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(meta) = fs::metadata(device) else {
        return false;
    };
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string; mknod only creates a file (in a temporary directory).
    unsafe {
        libc::mknod(
            c.as_ptr(),
            libc::S_IFCHR | 0o666,
            meta.rdev() as libc::dev_t,
        ) == 0
    }
}

/// Before a case names a real device (`/dev/null`, `/dev/zero`, `/dev/full`), the same command
/// is run against a copy of that device node in a temporary directory: only if it is refused
/// there, and the copy is still a device, may the real one be named. The tests run as root here,
/// so a regression that replaced devices would otherwise replace the machine's `/dev/null`.
/// Returns the problem when the canary was not refused.
fn device_canary(case: &Case) -> Option<String> {
    let device = case.args.iter().find(|a| a.starts_with("/dev/"))?;
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    materialise(case, dir.path());
    let copy = dir.path().join("device-copy");
    if !mknod_like(Path::new(device), &copy) {
        return None;
    }
    let args: Vec<String> = case
        .args
        .iter()
        .map(|a| {
            if a == device {
                copy.display().to_string()
            } else {
                a.clone()
            }
        })
        .collect();
    let out = common::costbench()
        .current_dir(dir.path())
        .args(&args)
        .env("COSTBENCH_CACHE_DIR", cache.path())
        .env("TMPDIR", cache.path())
        .timeout(TIMEOUT)
        .output()
        .expect("costbench starts");
    let still_a_device = fs::symlink_metadata(&copy).is_ok_and(|m| m.file_type().is_char_device());
    (out.status.code() != Some(1) || !still_a_device).then(|| {
        format!(
            "not run with {device}: against a copy of that device node the command exited {:?} \
             (expected 1) and the copy is {}a character device; the real device was left alone",
            out.status.code(),
            if still_a_device {
                "still "
            } else {
                "no longer "
            }
        )
    })
}

/// Runs the case in a fresh temporary directory and returns every way it broke the rule.
fn check_case(case: &Case) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let d = dir.path();
    materialise(case, d);
    if case.args.first().is_some_and(|a| a == "run") {
        assert!(
            case.args.iter().any(|a| a == "--no-probe")
                && case.args.iter().any(|a| a == "--results-dir"),
            "{}: a `run` case must pass --no-probe and --results-dir",
            case.name
        );
    }
    if let Some(problem) = device_canary(case) {
        return vec![problem];
    }
    let before = snapshot(d);
    let start = Instant::now();
    let out = common::costbench()
        .current_dir(d)
        .args(&case.args)
        .env("CI", "1")
        .env("COSTBENCH_CACHE_DIR", cache.path())
        .env("TMPDIR", cache.path())
        .timeout(TIMEOUT)
        .output()
        .expect("costbench starts");
    let elapsed = start.elapsed();
    let after = snapshot(d);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut problems = Vec::new();
    match out.status.code() {
        Some(code) if code == case.code => {}
        Some(code) => problems.push(format!("exit code {code}, expected {}", case.code)),
        None => problems.push(format!(
            "no exit code after {elapsed:.1?} (the {TIMEOUT:?} timeout or a signal)"
        )),
    }
    problems.extend(common::panic_traces(&out));
    let (line, broken) = common::error_line(&stderr);
    problems.extend(broken);
    if line.chars().any(char::is_control) {
        problems.push("the error holds a control character".into());
    }
    let lower = line.to_lowercase();
    for word in &case.words {
        if !lower.contains(&word.to_lowercase()) {
            problems.push(format!("the error does not mention {word:?}"));
        }
    }
    for word in &case.absent {
        if lower.contains(&word.to_lowercase()) {
            problems.push(format!("the error mentions {word:?}"));
        }
    }
    for change in diff(&before, &after) {
        problems.push(format!("the temporary directory changed: {change}"));
    }
    for path in after.keys() {
        let name = path.file_name().unwrap().to_string_lossy();
        if name.ends_with(".tmp") || name.starts_with(".costbench-") {
            problems.push(format!("temporary file left behind: {}", path.display()));
        }
    }
    if !dev_null_intact() {
        problems.push("/dev/null is no longer a character device".into());
    }
    if !problems.is_empty() {
        problems.push(format!("stderr: {stderr:?}"));
    }
    problems
}

#[track_caller]
fn check_all(cases: &[Case]) {
    let mut names = std::collections::HashSet::new();
    for c in cases {
        assert!(names.insert(c.name), "duplicate case name {}", c.name);
    }
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let problems = check_case(c);
            (!problems.is_empty()).then(|| {
                // Arguments cut to 80 characters: some cases hold 100 KB names.
                let args: Vec<String> = c
                    .args
                    .iter()
                    .map(|a| a.chars().take(80).collect())
                    .collect();
                format!(
                    "{} (costbench {args:?}):\n    {}",
                    c.name,
                    problems.join("\n    ")
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases broke the rule:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 1. What is not a regular file is refused, never read, never replaced.

/// Device nodes were replaced by a regular file (as root), `-o /dev/full` or `/dev/zero` was
/// first read without bound by the "is this a report" check, and a FIFO hung the command in that
/// read.
#[test]
fn regression_outputs_that_are_not_regular_files() {
    let not_regular = ["not a regular file"];
    check_all(&[
        // /dev/null is named only where the command refuses before any write (the checker
        // asserts it is still a character device).
        case(
            "report_json_over_dev_null",
            "report r.json --format json -o /dev/null",
            &["-o '/dev/null'", "a character device"],
        )
        .report(),
        case(
            "report_over_dev_zero",
            "report r.json --format json -o /dev/zero",
            &["/dev/zero", "a character device"],
        )
        .report(),
        case(
            "report_over_dev_full",
            "report r.json -o /dev/full",
            &["/dev/full", "a character device"],
        )
        .report(),
        case(
            "report_over_a_fifo",
            "report r.json --format json -o fifo",
            &["-o 'fifo'", "a FIFO (named pipe)", not_regular[0]],
        )
        .report()
        .fifo("fifo"),
        case(
            "report_through_a_link_to_a_fifo",
            "report r.json -o link",
            &["-o 'link'", "FIFO"],
        )
        .report()
        .fifo("fifo")
        .symlink("link", "fifo"),
        case(
            "report_over_a_dangling_link",
            "report r.json -o link",
            &["-o 'link'", "a dangling symbolic link", "nowhere"],
        )
        .report()
        .symlink("link", "nowhere/x.json"),
        case(
            "report_gab_directory_is_a_fifo",
            "report r.json --format github-action-benchmark -o fifo",
            &["-o 'fifo'", "FIFO", "expected a directory"],
        )
        .report()
        .fifo("fifo"),
        case(
            "report_gab_file_in_the_directory_is_a_fifo",
            "report r.json --format github-action-benchmark -o bench",
            &["FIFO", not_regular[0]],
        )
        .report()
        .fifo("bench/costbench-smaller-is-better.json"),
        case(
            "compare_over_a_socket",
            "compare r.json r.json --format markdown -o sock",
            &["-o 'sock'", "a socket", not_regular[0]],
        )
        .report()
        .socket("sock"),
        case(
            "history_svg_over_dev_zero",
            "history reports --svg /dev/zero",
            &["--svg '/dev/zero'", "a character device"],
        )
        .reports(),
        case(
            "history_html_over_a_fifo",
            "history reports --html fifo",
            &["--html 'fifo'", "FIFO"],
        )
        .reports()
        .fifo("fifo"),
        case(
            "history_html_over_a_directory",
            "history reports --html out",
            &["--html 'out'", "is a directory", "expected a file path"],
        )
        .reports()
        .dir("out"),
        case(
            "estimate_over_a_fifo",
            "estimate gpt2-124m --format json -o fifo",
            &["-o 'fifo'", "FIFO"],
        )
        .fifo("fifo"),
        case(
            "run_output_over_dev_null",
            &run("-o /dev/null"),
            &["--output '/dev/null'", "a character device"],
        )
        .workload(),
        case(
            "run_output_over_a_fifo",
            &run("-o fifo"),
            &["--output 'fifo'", "FIFO"],
        )
        .workload()
        .fifo("fifo"),
        case(
            "run_page_over_a_fifo",
            &run("-o r.json --html"),
            &["--html 'r.html'", "FIFO"],
        )
        .workload()
        .fifo("r.html"),
        case(
            "run_baseline_over_a_fifo",
            &run("--save-baseline main"),
            &["--save-baseline", "tiny.json", "FIFO"],
        )
        .workload()
        .fifo("results/baselines/main/tiny.json"),
        case(
            "run_results_dir_is_a_fifo",
            "run work.toml --no-probe --results-dir fifo",
            &["--results-dir", "'fifo' is a FIFO", "expected a directory"],
        )
        .workload()
        .fifo("fifo"),
    ]);
}

// ---------------------------------------------------------------------------------------------
// 2. Two outputs of one command are never one file.

/// `history --svg X --html X` wrote the page over the chart, and `run -o out.html --html` wrote
/// the HTML page over the JSON report it had just saved (the measurement lost, exit 0).
#[test]
fn regression_two_outputs_in_one_file() {
    let same = "name the same file";
    check_all(&[
        case(
            "history_svg_and_html_same_path",
            "history reports --svg x.svg --html x.svg",
            &["--html and --svg", same, "x.svg"],
        )
        .reports()
        .usage(),
        case(
            "history_svg_and_html_same_file_two_spellings",
            "history reports --svg ./x.svg --html x.svg",
            &["--html and --svg", same],
        )
        .reports()
        .usage(),
        case(
            "history_svg_and_html_same_file_through_a_link",
            "history reports --svg x.svg --html link.svg",
            &["--html and --svg", same],
        )
        .reports()
        .file("x.svg", "<svg/>")
        .symlink("link.svg", "x.svg"),
        case(
            "run_page_over_its_own_report",
            &run("-o out.html --html"),
            &["--html", "'out.html'", ".json name"],
        )
        .workload()
        .usage(),
        case(
            "run_output_is_the_baseline",
            &run("-o results/baselines/main/tiny.json --save-baseline main"),
            &["--output and --save-baseline", same],
        )
        .workload(),
        case(
            "run_two_workloads_one_baseline",
            "run work.toml work.toml --no-probe --results-dir results --save-baseline main",
            &["two --save-baseline outputs", same, "tiny.json"],
        )
        .workload(),
    ]);
}

// ---------------------------------------------------------------------------------------------
// 3. `run -o` never replaces an input, nor a report without --force.

/// `run w.toml -o w.toml` replaced the workload with its report (exit 0), `-o` over a catalog
/// overlay likewise, and `run -o` replaced existing reports; the exports' check loaded the file
/// whole, so a report this costbench cannot load (a newer schema, an invalid sample, a cut file)
/// was not recognised and was replaced.
#[test]
fn regression_run_output_over_inputs_and_reports() {
    let input = "one of the files being read";
    let report = "is a costbench report";
    let newer = report_with(|v| v["schema_version"] = "9.0".into());
    let invalid = report_with(|v| v["measurement"]["samples_s"][0] = (-1.0).into());
    let cut = fixture_bytes()[..50_000].to_vec();
    check_all(&[
        case(
            "run_output_is_its_workload",
            &run("-o work.toml"),
            &["--output 'work.toml'", input],
        )
        .workload(),
        case(
            "run_output_is_its_workload_spelled_otherwise",
            &run("-o ./work.toml"),
            &["--output", input],
        )
        .workload(),
        case(
            "run_output_is_a_link_to_its_workload",
            &run("-o link.toml"),
            &["--output 'link.toml'", input],
        )
        .workload()
        .symlink("link.toml", "work.toml"),
        case(
            "run_force_never_replaces_its_workload",
            &run("-o work.toml --force"),
            &["--output 'work.toml'", input],
        )
        .workload(),
        case(
            "run_output_is_its_catalog_overlay",
            &run("--catalog price.toml -o price.toml"),
            &["--output 'price.toml'", input],
        )
        .workload()
        .file("price.toml", PRICE_OVERLAY),
        case(
            "run_output_is_a_report",
            &run("-o kept.json"),
            &["--output 'kept.json'", report, "--force replaces it"],
        )
        .workload()
        .file("kept.json", fixture_bytes()),
        case(
            "run_output_is_a_report_of_a_newer_schema",
            &run("-o kept.json"),
            &[report],
        )
        .workload()
        .file("kept.json", newer.clone()),
        case(
            "run_output_is_a_report_with_an_invalid_sample",
            &run("-o kept.json"),
            &[report],
        )
        .workload()
        .file("kept.json", invalid.clone()),
        case(
            "run_output_is_a_cut_report",
            &run("-o kept.json"),
            &[report],
        )
        .workload()
        .file("kept.json", cut.clone()),
        case(
            "run_page_is_a_report",
            &run("-o new.json --html"),
            &["--html 'new.html'", report],
        )
        .workload()
        .file("new.html", fixture_bytes()),
        case(
            "report_output_is_a_report_of_a_newer_schema",
            "report r.json --format csv -o kept.json",
            &["-o 'kept.json'", report],
        )
        .report()
        .file("kept.json", newer),
        case(
            "history_svg_over_an_invalid_report_elsewhere",
            "history reports --svg kept.json",
            &["--svg 'kept.json'", report],
        )
        .reports()
        .file("kept.json", invalid),
        case(
            "compare_output_over_a_cut_report",
            "compare r.json r.json -o kept.json",
            &["-o 'kept.json'", report],
        )
        .report()
        .file("kept.json", cut),
        case(
            "estimate_output_is_its_workload",
            "estimate work.toml --format json -o work.toml",
            &["-o 'work.toml'", input],
        )
        .workload(),
    ]);
}

/// An output that is an input under another name (a hard link), which the table cannot make.
#[test]
fn an_output_that_is_a_hard_link_of_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("r.json"), fixture_bytes()).unwrap();
    fs::hard_link(d.join("r.json"), d.join("other.json")).unwrap();
    let out = common::costbench()
        .current_dir(d)
        .args(["report", "r.json", "--format", "csv", "-o", "other.json"])
        .output()
        .unwrap();
    let line = common::single_error(&out);
    assert!(line.contains("one of the files being read"), "{line}");
    assert_eq!(fs::read(d.join("other.json")).unwrap(), fixture_bytes());
}

#[test]
fn force_replaces_a_report_and_an_ordinary_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("work.toml"), VALID).unwrap();
    fs::write(d.join("kept.json"), fixture_bytes()).unwrap();
    fs::write(d.join("notes.txt"), "not a report").unwrap();
    for out in ["kept.json", "notes.txt"] {
        let mut cmd = common::costbench();
        cmd.current_dir(d)
            .args(["run", "work.toml", "--results-dir", "results", "-o", out])
            .args(FAST);
        if out == "kept.json" {
            cmd.arg("--force");
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let r = costbench::report::store::load(&d.join(out)).expect("a new report");
        assert_eq!(r.workload.name, "tiny");
    }
    assert_ne!(fs::read(d.join("kept.json")).unwrap(), fixture_bytes());
    assert!(!d.join("results").exists());
    // --force without --output is a usage error.
    let o = common::costbench()
        .current_dir(d)
        .args(["run", "work.toml", "--force"])
        .args(FAST)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

// ---------------------------------------------------------------------------------------------
// 4. Nothing measured is lost.

/// The file names of `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The binary as a standard command (whose standard output can be any file), without
/// backtraces or colour.
fn plain() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("costbench"));
    cmd.env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped());
    cmd
}

/// Asserts that the run failed with one error line naming the one recovery file in `rescue`,
/// which holds the complete report; returns the error line.
#[track_caller]
fn assert_recovered(out: &std::process::Output, rescue: &Path) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(common::panic_traces(out).is_empty(), "{stderr}");
    let (line, problems) = common::error_line(&stderr);
    assert!(problems.is_empty(), "{problems:?}: {stderr}");
    let saved = names(rescue);
    assert_eq!(saved.len(), 1, "{saved:?}; {line}");
    assert!(saved[0].starts_with("costbench-unsaved-"), "{saved:?}");
    assert!(saved[0].ends_with("-tiny.json"), "{saved:?}");
    let path = rescue.join(&saved[0]);
    assert!(
        line.contains("the measurement is not lost") && line.contains(&path.display().to_string()),
        "{line}"
    );
    let r = costbench::report::store::load(&path).expect("the recovered report loads");
    assert_eq!(r.workload.name, "tiny");
    line
}

/// A report that could not be written after measuring was lost with the error. Here standard
/// output is `/dev/full` (opening it for writing changes nothing): the report goes to a recovery
/// file in $TMPDIR, or in the working directory when $TMPDIR is unusable.
#[test]
fn a_report_that_cannot_be_written_after_measuring_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("work.toml"), VALID).unwrap();
    let tmp = d.join("tmp");
    fs::create_dir(&tmp).unwrap();
    let full = || {
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let out = plain()
        .current_dir(d)
        .args(["run", "work.toml", "-o", "-"])
        .args(FAST)
        .env("TMPDIR", &tmp)
        .stdout(full())
        .output()
        .unwrap();
    let line = assert_recovered(&out, &tmp);
    assert!(line.contains("standard output"), "{line}");

    // $TMPDIR unusable: the working directory.
    let cwd = d.join("cwd");
    fs::create_dir(&cwd).unwrap();
    fs::copy(d.join("work.toml"), cwd.join("work.toml")).unwrap();
    let out = plain()
        .current_dir(&cwd)
        .args(["run", "work.toml", "-o", "-"])
        .args(FAST)
        .env("TMPDIR", d.join("work.toml/not-a-dir"))
        .stdout(full())
        .output()
        .unwrap();
    let saved: Vec<String> = names(&cwd)
        .into_iter()
        .filter(|n| n != "work.toml")
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    fs::remove_file(cwd.join("work.toml")).unwrap();
    assert_recovered(&out, &cwd);
    assert!(dev_null_intact());
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

struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Starts a run sampling for `seconds` into `results`, waits until it has checked the results
/// directory and is sampling, applies `spoil` to the destination, and returns the run's output.
fn spoiled_run(
    results: &Path,
    rescue: &Path,
    seconds: &str,
    spoil: impl FnOnce(),
) -> std::process::Output {
    let work = rescue.parent().unwrap().join("work.toml");
    fs::write(&work, VALID).unwrap();
    let child = plain()
        .arg("run")
        .arg(&work)
        .args(["--no-probe", "--warmup", "0", "--precision", "0.001", "-q"])
        .args(["--max-time", seconds, "--results-dir"])
        .arg(results)
        .env("TMPDIR", rescue)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // The check creates the results directory before sampling starts.
    let start = Instant::now();
    while !results.is_dir() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // The check (a probe file, the reserve) takes milliseconds; sampling takes `seconds`.
    std::thread::sleep(Duration::from_millis(1000));
    spoil();
    child.wait_with_output().unwrap()
}

/// The destination turns read-only after the check, while the run samples: the report is saved
/// to the recovery file, and the error names it.
#[test]
fn a_results_directory_made_read_only_after_the_check_loses_nothing() {
    let Some((mnt, _m)) = tmpfs("size=64m") else {
        return;
    };
    let outside = tempfile::tempdir().unwrap();
    let rescue = outside.path().join("rescue");
    fs::create_dir(&rescue).unwrap();
    let results = mnt.path().join("results");
    let out = spoiled_run(&results, &rescue, "4", || {
        let ok = std::process::Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(mnt.path())
            .status()
            .unwrap();
        assert!(ok.success());
    });
    let line = assert_recovered(&out, &rescue);
    assert!(line.contains("read-only"), "{line}");
    assert_eq!(names(&results), Vec::<String>::new());
}

/// The destination fills up after the check: the same.
#[test]
fn a_results_directory_filled_after_the_check_loses_nothing() {
    let Some((mnt, _m)) = tmpfs("size=16m") else {
        return;
    };
    let outside = tempfile::tempdir().unwrap();
    let rescue = outside.path().join("rescue");
    fs::create_dir(&rescue).unwrap();
    let results = mnt.path().join("results");
    let out = spoiled_run(&results, &rescue, "4", || {
        // Fill every byte left.
        let _ = fs::write(mnt.path().join("fill"), vec![0u8; 16 << 20]);
    });
    let line = assert_recovered(&out, &rescue);
    assert!(line.contains("space"), "{line}");
    // No temporary file or partial report is left in the results directory.
    assert_eq!(names(&results), Vec::<String>::new());
}

/// The space check reserved a fixed 1 MiB, less than a report of 10,000 samples needs (about
/// 6 MiB for a training step): a run into a directory with 4 MiB free measured, then could not
/// save. The reserve now follows from the workload and the sampling settings.
#[test]
fn regression_the_space_reserve_follows_from_the_workload() {
    let Some((mnt, _m)) = tmpfs("size=4m") else {
        return;
    };
    fs::write(mnt.path().join("work.toml"), VALID).unwrap();
    let start = Instant::now();
    let out = common::costbench()
        .current_dir(mnt.path())
        .args(["run", "work.toml", "--no-probe", "--results-dir", "results"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let line = common::single_error(&out);
    assert!(
        line.contains("--results-dir") && line.contains("cannot hold a report"),
        "{line}"
    );
    assert!(line.contains("need about"), "{line}");
    assert!(start.elapsed() < TIMEOUT);
    assert_eq!(names(&mnt.path().join("results")), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// 5. Files follow the umask.

/// Runs `costbench args` in `dir` under `umask`.
fn under_umask(dir: &Path, umask: &str, args: &[&str]) {
    let bin = assert_cmd::cargo::cargo_bin!("costbench");
    let out = std::process::Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(bin)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every file was written 0600 (tempfile's mode), whatever the umask: a report shared on a
/// CI runner or a team directory could not be read by others.
#[test]
fn regression_files_follow_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("work.toml"), VALID).unwrap();
    fs::write(d.join("r.json"), fixture_bytes()).unwrap();
    let mut run = vec!["run", "work.toml", "--results-dir", "results", "--html"];
    run.extend(FAST);
    under_umask(d, "022", &run);
    under_umask(
        d,
        "022",
        &["report", "r.json", "--format", "csv", "-o", "x.csv"],
    );
    under_umask(
        d,
        "077",
        &["report", "r.json", "--format", "csv", "-o", "y.csv"],
    );
    under_umask(d, "022", &["history", "results", "--svg", "h.svg"]);
    let results = names(&d.join("results"));
    assert_eq!(results.len(), 2, "{results:?}");
    for name in &results {
        assert_eq!(mode(&d.join("results").join(name)), 0o644, "{name}");
    }
    assert_eq!(mode(&d.join("x.csv")), 0o644);
    assert_eq!(mode(&d.join("y.csv")), 0o600);
    assert_eq!(mode(&d.join("h.svg")), 0o644);
}

// ---------------------------------------------------------------------------------------------
// 6. Messages name the path safely, on one line.

/// A path holding ESC reached the terminal raw in the success line; a 100 KB file name filled
/// the screen; a dangling symbolic link as the results directory said "File exists (os error
/// 17)".
#[test]
fn regression_messages_about_paths() {
    let long = format!("nodir/{}.json", "n".repeat(100_000));
    check_all(&[
        case(
            "output_path_with_an_escape",
            "report r.json -o",
            &["\\e[31m", "no such file"],
        )
        .report()
        .arg("nodir/\u{1b}[31mred.json"),
        case(
            "output_path_of_100_kb",
            "report r.json -o",
            &["chars)", ".json'", "file name too long"],
        )
        .report()
        .arg(long),
        case(
            "results_dir_with_a_newline",
            "run work.toml --no-probe --results-dir",
            &["--results-dir", "work.toml/a\\nb", "expected a directory"],
        )
        .workload()
        .arg("work.toml/a\nb"),
        case(
            "results_dir_is_a_dangling_link",
            "run work.toml --no-probe --results-dir dangling",
            &[
                "--results-dir",
                "'dangling' is a dangling symbolic link",
                "gone",
            ],
        )
        .workload()
        .symlink("dangling", "gone/dir")
        .absent(&["File exists"]),
        case(
            "results_dir_under_a_dangling_link",
            "run work.toml --no-probe --results-dir dangling/results",
            &[
                "could not create the directory",
                "'dangling' is a dangling symbolic link",
            ],
        )
        .workload()
        .symlink("dangling", "gone/dir")
        .absent(&["File exists"]),
    ]);
    // And the success line of a run escapes it too.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("work.toml"), VALID).unwrap();
    let out = common::costbench()
        .current_dir(dir.path())
        .args(["run", "work.toml", "--results-dir", "results", "-o"])
        .arg("\u{1b}[31mred.json")
        .args(FAST)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("report: \\e[31mred.json"), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "{stdout}");
}
