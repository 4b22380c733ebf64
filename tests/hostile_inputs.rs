//! Hostile inputs and a hostile environment (issue 14, docs/reliability.md "Reads, the probe
//! cache and threads"): inputs without an end, a probe cache someone else can write or has
//! planted files in, a cache that cannot be written, and a process that cannot start threads.
//!
//! Each case asserts the exit code, the key words of its one `error:` or `warning:` line, no
//! panic or backtrace, and that it stays bounded: every command runs under a timeout, and the
//! reading cases under an address-space limit too (`ulimit -v`, 1 GiB), so a read that grows
//! without bound fails the test instead of the machine. The thread cases need RLIMIT_NPROC, which root ignores: as root they
//! run the binary as `nobody` (`setpriv`), and say "skipped" where that is not possible.

mod common;

use std::ffi::OsString;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{REPORT_FIXTURE, TINY_WORKLOAD};

/// The longest any case may take. The slowest reads 256 MiB of `/dev/zero` (well under a
/// second alone; more with other builds beside it); a quick probe takes about one second.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The address space every command gets, KiB (1 GiB): four times what the largest bounded read
/// (a report, 256 MiB) needs, and far less than an unbounded read of an endless input reaches.
const MEMORY_KIB: u64 = 1 << 20;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_costbench"))
}

/// What the command reads on standard input.
#[derive(Clone)]
enum Input {
    Null,
    /// These bytes, then end of file.
    Bytes(Vec<u8>),
    /// `y\n` forever, as `yes` writes it, until the reader goes away.
    Endless,
}

/// How a command ended.
struct Outcome {
    /// `None`: killed by the timeout or a signal.
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// A command to run: `costbench args` in `dir`, with `env` set (`None` removes the variable),
/// under the memory limit, optionally as another user with a process limit.
struct Run<'a> {
    dir: &'a Path,
    args: Vec<String>,
    env: Vec<(&'static str, Option<OsString>)>,
    input: Input,
    /// `ulimit -u` for the process (and `setpriv` to `nobody` when running as root).
    nproc: Option<u32>,
    /// `ulimit -v` ([`MEMORY_KIB`]) for the process.
    bounded_memory: bool,
}

impl<'a> Run<'a> {
    fn new(dir: &'a Path, args: &str) -> Self {
        Run {
            dir,
            args: args.split_whitespace().map(str::to_owned).collect(),
            env: Vec::new(),
            input: Input::Null,
            nproc: None,
            bounded_memory: false,
        }
    }

    fn env(mut self, name: &'static str, value: impl Into<OsString>) -> Self {
        self.env.push((name, Some(value.into())));
        self
    }

    fn env_remove(mut self, name: &'static str) -> Self {
        self.env.push((name, None));
        self
    }

    fn input(mut self, input: Input) -> Self {
        self.input = input;
        self
    }

    fn nproc(mut self, limit: u32) -> Self {
        self.nproc = Some(limit);
        self
    }

    fn bounded_memory(mut self) -> Self {
        self.bounded_memory = true;
        self
    }

    fn go(&self) -> Outcome {
        let out_dir = tempfile::tempdir().unwrap();
        let (out_path, err_path) = (out_dir.path().join("out"), out_dir.path().join("err"));
        let mut limits = String::new();
        if self.bounded_memory {
            limits += &format!("ulimit -v {MEMORY_KIB} && ");
        }
        if let Some(n) = self.nproc {
            limits += &format!("ulimit -u {n} && ");
        }
        limits += "exec \"$0\" \"$@\"";
        let mut cmd = if self.nproc.is_some() && is_root() {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "bash",
                "-c",
            ]);
            c
        } else {
            let mut c = Command::new("bash");
            c.arg("-c");
            c
        };
        cmd.arg(limits)
            .arg(bin())
            .args(&self.args)
            .current_dir(self.dir)
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .env_remove("RAYON_NUM_THREADS")
            .env("NO_COLOR", "1")
            .env("CI", "1")
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap());
        for (name, value) in &self.env {
            match value {
                Some(v) => cmd.env(name, v),
                None => cmd.env_remove(name),
            };
        }
        cmd.stdin(match self.input {
            Input::Null => Stdio::null(),
            _ => Stdio::piped(),
        });
        let start = Instant::now();
        let mut child = cmd.spawn().expect("bash and costbench start");
        let writer = child.stdin.take().map(|mut stdin| {
            let input = self.input.clone();
            std::thread::spawn(move || match input {
                Input::Bytes(b) => {
                    let _ = stdin.write_all(&b);
                }
                Input::Endless => {
                    let chunk = b"y\n".repeat(32 << 10);
                    // Ends when the reader exits (EPIPE: the test harness ignores SIGPIPE).
                    while stdin.write_all(&chunk).is_ok() {}
                }
                Input::Null => {}
            })
        });
        let code = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            if start.elapsed() > TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = start.elapsed();
        if let Some(w) = writer {
            w.join().unwrap();
        }
        Outcome {
            code,
            stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
            elapsed,
        }
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Every way `out` breaks the rule for a failure: exit code `code` (1), exactly one stderr line,
/// `error: …` holding every one of `words`, no panic, within the timeout.
fn error_problems(out: &Outcome, code: i32, words: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    if out.code != Some(code) {
        problems.push(format!(
            "exit code {:?} after {:.1?}, expected {code}",
            out.code, out.elapsed
        ));
    }
    let lines: Vec<&str> = out.stderr.lines().collect();
    if lines.len() != 1 || !lines[0].starts_with("error: ") {
        problems.push("stderr is not exactly one `error: ` line".into());
    }
    problems.extend(line_problems(&out.stderr, words));
    problems
}

/// Words missing from `text` (case-insensitive), and the signs of a panic.
fn line_problems(text: &str, words: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let lower = text.to_lowercase();
    for w in words {
        if !lower.contains(&w.to_lowercase()) {
            problems.push(format!("stderr does not mention {w:?}"));
        }
    }
    for bad in [
        "panicked",
        "backtrace",
        "out of memory",
        "memory allocation",
    ] {
        if lower.contains(bad) {
            problems.push(format!("stderr contains {bad:?}"));
        }
    }
    problems
}

#[track_caller]
fn assert_no_problems(failures: Vec<String>) {
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Everything under `dir`, as sorted relative paths.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// Bounded reads.

/// A case of an input that must be refused at its bound.
struct ReadCase {
    name: &'static str,
    args: &'static str,
    input: Input,
    words: &'static [&'static str],
}

fn read_case(
    name: &'static str,
    args: &'static str,
    input: Input,
    words: &'static [&'static str],
) -> ReadCase {
    ReadCase {
        name,
        args,
        input,
        words,
    }
}

const WORKLOAD_BOUND: &[&str] = &[
    "larger than 1 MiB (reading stopped after 1048577 bytes)",
    "expected a workload file of at most 1048576 bytes",
];
const CATALOG_BOUND: &[&str] = &[
    "larger than 1 MiB (reading stopped after 1048577 bytes)",
    "expected a catalog file of at most 1048576 bytes",
];
const REPORT_BOUND: &[&str] = &[
    "larger than 256 MiB (reading stopped after 268435457 bytes)",
    "expected a costbench report of at most 268435456 bytes",
];
const HF_BOUND: &[&str] = &[
    "--hf-config",
    "larger than 1 MiB (reading stopped after 1048577 bytes)",
    "expected a Hugging Face config.json of at most 1048576 bytes",
];

/// Devices and pipes that never end used to be read until memory ran out (the size limit
/// looked only at regular files' lengths, and reports had none): `check /dev/zero`,
/// `yes | costbench check /dev/stdin`. Each now stops one byte past its bound.
#[test]
fn endless_inputs_are_refused_at_their_bound() {
    use Input::{Endless, Null};
    let cases = [
        read_case("check_zero", "check /dev/zero", Null, WORKLOAD_BOUND),
        read_case(
            "run_zero",
            "run /dev/zero --no-probe --results-dir results",
            Null,
            WORKLOAD_BOUND,
        ),
        read_case("estimate_zero", "estimate /dev/zero", Null, WORKLOAD_BOUND),
        read_case("check_stdin", "check /dev/stdin", Endless, WORKLOAD_BOUND),
        read_case(
            "catalog_urandom",
            "catalog --catalog /dev/urandom",
            Null,
            CATALOG_BOUND,
        ),
        read_case(
            "catalog_zero",
            "catalog --catalog /dev/zero",
            Null,
            CATALOG_BOUND,
        ),
        read_case(
            "catalog_stdin",
            "catalog --catalog /dev/stdin",
            Endless,
            CATALOG_BOUND,
        ),
        read_case("report_zero", "report /dev/zero", Null, REPORT_BOUND),
        read_case("report_stdin", "report /dev/stdin", Endless, REPORT_BOUND),
        read_case(
            "compare_zero",
            "compare /dev/zero /dev/zero",
            Null,
            REPORT_BOUND,
        ),
        read_case(
            "hf_config_zero",
            "estimate --hf-config /dev/zero --tokens 1e9",
            Null,
            HF_BOUND,
        ),
        read_case(
            "hf_config_stdin",
            "estimate --hf-config /dev/stdin --tokens 1e9",
            Endless,
            HF_BOUND,
        ),
    ];
    let mut failures = Vec::new();
    for c in &cases {
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let out = Run::new(dir.path(), c.args)
            .env("COSTBENCH_CACHE_DIR", cache.path())
            .input(c.input.clone())
            .bounded_memory()
            .go();
        let mut problems = error_problems(&out, 1, c.words);
        if !listing(dir.path()).is_empty() {
            problems.push(format!("left behind: {:?}", listing(dir.path())));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} (costbench {}): {}\n    stderr: {:?}",
                c.name,
                c.args,
                problems.join("; "),
                out.stderr
            ));
        }
    }
    assert_no_problems(failures);
}

/// A named FIFO whose writer never stops is bounded like a device.
#[test]
fn a_fifo_with_an_endless_writer_is_refused_at_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("work.toml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            // Blocks until costbench opens the FIFO; ends when it closes it.
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            let chunk = b"# comment\n".repeat(8 << 10);
            while f.write_all(&chunk).is_ok() {}
        })
    };
    let out = Run::new(dir.path(), "check work.toml")
        .bounded_memory()
        .go();
    writer.join().unwrap();
    assert_no_problems(error_problems(&out, 1, &["work.toml", WORKLOAD_BOUND[0]]));
}

/// Regular files over the bound are refused by their length, without reading them: a sparse
/// report of 256 MiB + 1 byte, a 1 MiB + 1 `--hf-config`.
#[test]
fn oversized_regular_files_are_refused_with_their_size() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("huge.json");
    std::fs::File::create(&report)
        .unwrap()
        .set_len((256 << 20) + 1)
        .unwrap();
    std::fs::write(dir.path().join("config.json"), vec![b' '; (1 << 20) + 1]).unwrap();
    let mut failures = Vec::new();
    for (args, words) in [
        (
            "report huge.json",
            &["'huge.json'", "larger than 256 MiB (268435457 bytes)"][..],
        ),
        (
            "estimate --hf-config config.json --tokens 1e9",
            &["'config.json'", "larger than 1 MiB (1048577 bytes)"][..],
        ),
    ] {
        let out = Run::new(dir.path(), args).bounded_memory().go();
        let problems = error_problems(&out, 1, words);
        if out.elapsed > Duration::from_secs(10) {
            failures.push(format!("{args}: took {:.1?}", out.elapsed));
        }
        if !problems.is_empty() {
            failures.push(format!("{args}: {problems:?} stderr: {:?}", out.stderr));
        }
    }
    assert_no_problems(failures);
}

/// The bound does not stop inputs that are within it, from a pipe as from a file.
#[test]
fn small_inputs_from_pipes_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let workload = std::fs::read(TINY_WORKLOAD).unwrap();
    let report = std::fs::read(REPORT_FIXTURE).unwrap();
    for (args, input) in [
        ("check /dev/stdin", workload),
        ("report /dev/stdin", report),
    ] {
        let out = Run::new(dir.path(), args)
            .input(Input::Bytes(input))
            .bounded_memory()
            .go();
        assert_eq!(out.code, Some(0), "{args}: {}", out.stderr);
        assert!(!out.stdout.is_empty(), "{args}");
        assert_no_problems(line_problems(&out.stderr, &[]));
    }
}

// ---------------------------------------------------------------------------------------------
// The probe cache.

/// `probe --quick --json`'s roofline, from a successful run.
fn roofline(out: &Outcome) -> serde_json::Value {
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    serde_json::from_str(&out.stdout).expect("probe --json prints JSON")
}

fn measured_at(out: &Outcome) -> String {
    roofline(out)["measured_at"].as_str().unwrap().to_owned()
}

/// The one `warning: ` line of `out`, or a problem.
fn the_warning(out: &Outcome, words: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    if out.code != Some(0) {
        problems.push(format!("exit code {:?}, expected 0", out.code));
    }
    let lines: Vec<&str> = out.stderr.lines().collect();
    if lines.len() != 1 || !lines[0].starts_with("warning: ") {
        problems.push("stderr is not exactly one `warning: ` line".into());
    }
    problems.extend(line_problems(&out.stderr, words));
    if !problems.is_empty() {
        problems.push(format!("stderr: {:?}", out.stderr));
    }
    problems
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Any user could create `$TMPDIR/costbench` before us and then read and write our probes
/// there: a cache directory that others can write is not used (the probe runs, with one
/// warning, and nothing is written into it). `-q` silences the warning.
#[test]
fn a_cache_directory_others_can_write_is_not_used() {
    let root = tempfile::tempdir().unwrap();
    let shared = root.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    chmod(&shared, 0o777);
    let out = Run::new(root.path(), "probe --quick --json")
        .env("COSTBENCH_CACHE_DIR", &shared)
        .go();
    assert_no_problems(the_warning(
        &out,
        &[
            "probe cache not used",
            "shared' can be written by other users (mode 777",
            "measured and not saved",
        ],
    ));
    roofline(&out);
    assert!(listing(&shared).is_empty(), "{:?}", listing(&shared));
    let quiet = Run::new(root.path(), "probe -q --quick --json")
        .env("COSTBENCH_CACHE_DIR", &shared)
        .go();
    roofline(&quiet);
    assert_eq!(quiet.stderr, "");
}

/// Without HOME, XDG_CACHE_HOME or COSTBENCH_CACHE_DIR the cache is `$TMPDIR/costbench-<uid>`,
/// created private (0700, files 0600), and not used once someone else could write it.
#[test]
fn the_temporary_fallback_is_private_to_the_user() {
    let tmp = tempfile::tempdir().unwrap();
    let probe = || {
        Run::new(tmp.path(), "probe --quick --json")
            .env_remove("HOME")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("COSTBENCH_CACHE_DIR")
            .env("TMPDIR", tmp.path())
            .go()
    };
    let first = probe();
    assert_eq!(first.stderr, "");
    // SAFETY: geteuid has no preconditions.
    let dir = tmp
        .path()
        .join(format!("costbench-{}", unsafe { libc::geteuid() }));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let files = listing(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with("t-quick.json"), "{files:?}");
    assert_eq!(mode(&dir.join(&files[0])), 0o600);
    let second = probe();
    assert_eq!(measured_at(&second), measured_at(&first), "not read back");
    // Opened to others: not read (a planted probe could be there), not written.
    chmod(&dir, 0o733);
    let third = probe();
    assert_no_problems(the_warning(&third, &["can be written by other users"]));
    assert_ne!(measured_at(&third), measured_at(&first));
}

/// Files planted in the cache are never trusted blindly: a symbolic link is not followed (its
/// target is neither read nor written), malformed JSON and implausible figures are ignored, each
/// with one warning, and the probe is measured and saved again.
#[test]
fn planted_cache_files_are_not_trusted() {
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache");
    let probe = || {
        Run::new(root.path(), "probe --quick --json")
            .env("COSTBENCH_CACHE_DIR", &cache)
            .go()
    };
    let first = probe();
    assert_eq!(first.stderr, "");
    let valid = roofline(&first);
    let files = listing(&cache);
    assert_eq!(files.len(), 1, "{files:?}");
    let file = cache.join(&files[0]);

    let outside = root.path().join("outside.json");
    let mut absurd = valid.clone();
    absurd["f32_gflops_all_threads"]["median"] = 1e12.into();
    absurd["f32_gflops_all_threads"]["samples"] = serde_json::json!([1e12, 1e12, 1e12]);
    let mut future = valid.clone();
    future["measured_at"] = "2999-01-01T00:00:00Z".into();
    type Plant<'a> = (&'static str, Box<dyn Fn() + 'a>, &'static [&'static str]);
    let plants: Vec<Plant> = vec![
        (
            "a link to a probe elsewhere",
            Box::new(|| {
                std::fs::write(&outside, serde_json::to_vec(&valid).unwrap()).unwrap();
                std::os::unix::fs::symlink(&outside, &file).unwrap();
            }),
            &["ignored: it is a symbolic link"],
        ),
        (
            "a link to /dev/zero",
            Box::new(|| std::os::unix::fs::symlink("/dev/zero", &file).unwrap()),
            &["ignored: it is a symbolic link"],
        ),
        (
            "malformed JSON",
            Box::new(|| std::fs::write(&file, "{\"fingerprint\": ").unwrap()),
            &["ignored: not a cached probe"],
        ),
        (
            "absurd rates",
            Box::new(|| std::fs::write(&file, serde_json::to_vec(&absurd).unwrap()).unwrap()),
            &["ignored", "f32_gflops_all_threads", "not a positive rate"],
        ),
        (
            "measured in the future",
            Box::new(|| std::fs::write(&file, serde_json::to_vec(&future).unwrap()).unwrap()),
            &["ignored", "in the future"],
        ),
    ];
    let mut failures = Vec::new();
    for (name, plant, words) in plants {
        std::fs::remove_file(&file).unwrap();
        plant();
        let out = probe();
        let mut problems = the_warning(&out, words);
        if out.code == Some(0) && measured_at(&out) == measured_at(&first) {
            problems.push("the planted probe was used".into());
        }
        let meta = std::fs::symlink_metadata(&file).unwrap();
        if !meta.is_file() {
            problems.push("the planted file was not replaced by a probe".into());
        }
        let next = probe();
        if !next.stderr.is_empty() || measured_at(&next) != measured_at(&out) {
            problems.push(format!("the new probe was not reused: {:?}", next.stderr));
        }
        if !problems.is_empty() {
            failures.push(format!("{name}: {}", problems.join("; ")));
        }
    }
    assert_eq!(
        std::fs::read(&outside).unwrap(),
        serde_json::to_vec(&valid).unwrap(),
        "the link's target was written"
    );
    assert_no_problems(failures);
}

/// A cache that cannot be created or written is a warning, not a failed probe or run (it used to
/// be `error: Could not create the cache directory …`, exit 1).
#[test]
fn an_unwritable_cache_is_a_warning() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let mut failures = Vec::new();
    // Homes where no one, not even root, can create the cache; `run` (which takes a full
    // probe, several seconds) once.
    let proc_home = PathBuf::from("/proc/costbench-no-such-home");
    for (home, args) in [
        (&proc_home, "probe --quick --json".to_owned()),
        (&file, "probe --quick --json".to_owned()),
        (
            &proc_home,
            format!("run {TINY_WORKLOAD} --quick --max-time 1 -o -"),
        ),
    ] {
        {
            let out = Run::new(root.path(), &args)
                .env_remove("COSTBENCH_CACHE_DIR")
                .env_remove("XDG_CACHE_HOME")
                .env("HOME", home)
                .go();
            let mut problems = Vec::new();
            if out.code != Some(0) {
                problems.push(format!("exit code {:?}", out.code));
            }
            let warnings: Vec<&str> = out
                .stderr
                .lines()
                .filter(|l| l.contains("probe cache"))
                .collect();
            if warnings.len() != 1
                || !warnings[0].starts_with("warning: probe cache not used: could not ")
            {
                problems.push(format!("expected one cache warning: {warnings:?}"));
            }
            problems.extend(line_problems(&out.stderr, &[]));
            if !problems.is_empty() {
                failures.push(format!(
                    "HOME={} costbench {args}: {}\n    stderr: {:?}",
                    home.display(),
                    problems.join("; "),
                    out.stderr
                ));
            }
        }
    }
    assert_no_problems(failures);
}

/// Each thread count and each plan has its own cache file: `probe --threads 1` and
/// `probe --quick` never replace the probe `run` uses.
#[test]
fn other_thread_counts_and_quick_probes_do_not_replace_each_other() {
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache");
    let probe = |threads: u32| {
        let out = Run::new(
            root.path(),
            &format!("probe -q --threads {threads} --quick --json"),
        )
        .env("COSTBENCH_CACHE_DIR", &cache)
        .go();
        assert_eq!(out.stderr, "");
        out
    };
    let two = measured_at(&probe(2));
    let one = measured_at(&probe(1));
    assert_ne!(one, two);
    assert_eq!(
        measured_at(&probe(2)),
        two,
        "the 2-thread probe was replaced"
    );
    assert_eq!(
        measured_at(&probe(1)),
        one,
        "the 1-thread probe was replaced"
    );
    let files = listing(&cache);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files.iter().any(|f| f.ends_with("-1t-quick.json")),
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f.ends_with("-2t-quick.json")),
        "{files:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Threads.

fn logical_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// More threads than logical cores is allowed, with one warning (none with `-q`); a
/// `RAYON_NUM_THREADS` that is not a thread count is ignored, with one warning.
#[test]
fn more_threads_than_cores_warns() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let n = logical_cores() + 1;
    let out = Run::new(dir.path(), &format!("probe --threads {n} --quick --json"))
        .env("COSTBENCH_CACHE_DIR", cache.path())
        .go();
    assert_no_problems(the_warning(
        &out,
        &[&format!(
            "--threads {n} is more than the {} logical cores",
            logical_cores()
        )],
    ));
    assert_eq!(roofline(&out)["threads"], n);
    let quiet = Run::new(
        dir.path(),
        &format!("probe -q --threads {n} --quick --json"),
    )
    .env("COSTBENCH_CACHE_DIR", cache.path())
    .go();
    assert_eq!(quiet.stderr, "");
    roofline(&quiet);
    // A RAYON_NUM_THREADS that is not a thread count is ignored, with one warning.
    let ignored = Run::new(dir.path(), "probe --quick --json")
        .env("COSTBENCH_CACHE_DIR", cache.path())
        .env("RAYON_NUM_THREADS", "lots")
        .go();
    assert_no_problems(the_warning(
        &ignored,
        &[
            "RAYON_NUM_THREADS='lots' ignored",
            "one thread per logical core",
        ],
    ));
    assert_eq!(roofline(&ignored)["threads"], logical_cores());
}

/// Whether the process-limit cases can run: as root only as `nobody` (root ignores
/// RLIMIT_NPROC), which needs `setpriv` and a binary `nobody` can run. `None`, or why not.
fn cannot_limit_processes(dir: &Path) -> Option<String> {
    let out = Run::new(dir, "--version").nproc(1).go();
    (out.code != Some(0)).then(|| {
        format!(
            "cannot run costbench under `ulimit -u`{} (exit {:?}: {})",
            if is_root() {
                " as nobody with setpriv"
            } else {
                ""
            },
            out.code,
            out.stderr.trim()
        )
    })
}

/// A process that may not create its worker threads exits with one line, not a panic (rayon's
/// implicit pool used to panic: exit 101 and a backtrace), and a command that needs no threads
/// is not stopped by the limit.
#[test]
fn a_process_limit_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // `nobody` runs in it and reads the workload.
    chmod(dir.path(), 0o755);
    let work = dir.path().join("work.toml");
    std::fs::copy(TINY_WORKLOAD, &work).unwrap();
    chmod(&work, 0o644);
    if let Some(why) = cannot_limit_processes(dir.path()) {
        eprintln!("skipped: {why}");
        return;
    }
    let cases = [
        (
            "two threads under ulimit -u 2",
            Run::new(
                dir.path(),
                "run --threads 2 work.toml --no-probe --quick -o -",
            )
            .nproc(2),
            1,
            &[
                "error: could not start 2 worker threads (--threads)",
                "ulimit -u",
            ][..],
        ),
        (
            "RAYON_NUM_THREADS=1000 under ulimit -u 300",
            Run::new(dir.path(), "probe -q --quick")
                .env("RAYON_NUM_THREADS", "1000")
                .env("COSTBENCH_CACHE_DIR", "/proc/no-cache")
                .nproc(300),
            1,
            &["error: could not start 1000 worker threads (RAYON_NUM_THREADS)"][..],
        ),
        (
            "check needs no threads",
            Run::new(dir.path(), "check work.toml").nproc(1),
            0,
            &[][..],
        ),
    ];
    let mut failures = Vec::new();
    for (name, run, code, words) in cases {
        let out = run.go();
        let problems = if code == 0 {
            let mut p = line_problems(&out.stderr, words);
            if out.code != Some(0) {
                p.push(format!("exit code {:?}", out.code));
            }
            p
        } else {
            error_problems(&out, code, words)
        };
        if !problems.is_empty() {
            failures.push(format!(
                "{name}: {}\n    stderr: {:?}",
                problems.join("; "),
                out.stderr.chars().take(600).collect::<String>()
            ));
        }
    }
    assert_no_problems(failures);
}
