//! Bad input, end to end, for the project rule: "Bad input never panics and never corrupts a
//! result file: it gets a clear one-line error that names the file, the field and what was
//! expected, and a non-zero exit code (1 for errors, 2 for usage errors)."
//!
//! Every case is a table row: the files to create in a fresh temporary directory, the
//! arguments (run there), the expected exit code and the key words the error must contain. One
//! checker asserts, for every row:
//!
//! - the exit code, within a few seconds (no case may start a measurement);
//! - every key word, case-insensitively, in the error (and none of the row's `absent` words);
//! - no panic: no `panicked` or `backtrace` (any case) in stderr or stdout;
//! - for errors (exit 1): exactly one stderr line starting with `error`, which does not say the
//!   same thing twice (`…: X: X`). clap's usage errors (exit 2) may take several lines;
//! - nothing in the temporary directory was created, changed or removed (listing and contents
//!   compared before and after, `results/` included), and no `*.tmp` or `.costbench-*` file is
//!   left anywhere in it.
//!
//! The `regression_*` tests hold the rows that found bugs when this suite was written (each was
//! fixed; their comments say what used to happen).
//! `BAD_INPUT_SHOW=1 … -- --nocapture` prints the first stderr line of every passing case.

mod common;

use common::{GEMM, REPORT_FIXTURE, VALID};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The longest any case may take: an error is reported before anything is measured, and the
/// shortest possible measurement (3 s warm-up + a 10 s budget) takes longer than this.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A valid catalog overlay: one instance price.
const PRICE_OVERLAY: &str = r#"[[instances]]
id = "p5.48xlarge"
prices.on_demand = { usd_per_hour = 40, source = "our quote, e-mail of 2026-10-01", as_of = 2026-10-01 }
"#;

/// A valid catalog overlay: one accelerator figure.
const CHIP_OVERLAY: &str = r#"[[accelerators]]
id = "h100-sxm"
training_mfu = { value = 0.4, source = "our own runs", as_of = 2026-10-01 }
"#;

// ---------------------------------------------------------------------------------------------
// Inputs.

fn workload(line: &str, with: &str) -> String {
    common::replace_line(VALID, line, with)
}

fn sweep(line: &str, with: &str) -> String {
    common::replace_line(GEMM, line, with)
}

/// The price overlay with its `usd_per_hour` set to `usd` (any TOML value).
fn price_overlay(usd: &str) -> String {
    PRICE_OVERLAY.replace("usd_per_hour = 40", &format!("usd_per_hour = {usd}"))
}

/// `n` deterministic pseudo-random bytes (xorshift), starting with a byte that is never UTF-8.
fn random_bytes(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = vec![0xfe];
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push((x >> 24) as u8);
    }
    out
}

/// A PNG signature and IHDR chunk start, then bytes 0..=255.
fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend(0..=255u8);
    b
}

/// `text` as UTF-16LE with a byte-order mark, as some Windows editors save it.
fn utf16(text: &str) -> Vec<u8> {
    let mut b = vec![0xff, 0xfe];
    for u in text.encode_utf16() {
        b.extend(u.to_le_bytes());
    }
    b
}

fn fixture_bytes() -> Vec<u8> {
    std::fs::read(REPORT_FIXTURE).expect("the report fixture is readable")
}

fn fixture_text() -> String {
    String::from_utf8(fixture_bytes()).expect("the fixture is UTF-8")
}

/// The fixture report, changed by `f`, as pretty JSON.
fn report_with(f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&fixture_bytes()).expect("the fixture is JSON");
    f(&mut v);
    serde_json::to_vec_pretty(&v).unwrap()
}

/// The fixture report's text with the first `"point": ` replaced by `"point": {literal}, "x": `
/// (so the value is `literal` and the old number moves to an ignored key).
fn report_point_literal(literal: &str) -> Vec<u8> {
    let text = fixture_text();
    assert!(text.contains("\"point\": "));
    text.replacen("\"point\": ", &format!("\"point\": {literal}, \"x\": "), 1)
        .into_bytes()
}

/// The metric `step_time` of a report.
fn step_time(v: &mut Value) -> &mut Value {
    v["metrics"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["id"] == "step_time")
        .expect("the fixture has step_time")
}

// ---------------------------------------------------------------------------------------------
// Cases.

enum Entry {
    File(Vec<u8>),
    Dir,
}

struct Case {
    name: &'static str,
    files: Vec<(String, Entry)>,
    args: Vec<String>,
    code: i32,
    words: Vec<String>,
    absent: Vec<String>,
}

/// A case: `args` run in a temporary directory must exit with `code` and an error holding
/// every one of `words`.
fn case(name: &'static str, args: &str, code: i32, words: &[&str]) -> Case {
    Case {
        name,
        files: Vec::new(),
        args: args.split_whitespace().map(str::to_string).collect(),
        code,
        words: words.iter().map(|s| s.to_string()).collect(),
        absent: Vec::new(),
    }
}

impl Case {
    /// Creates `path` (relative, parents created) holding `bytes` before the run.
    fn file(mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.files
            .push((path.to_string(), Entry::File(bytes.into())));
        self
    }

    /// Creates the directory `path` before the run.
    fn dir(mut self, path: &str) -> Self {
        self.files.push((path.to_string(), Entry::Dir));
        self
    }

    /// A report already saved in `results/`, which the case must leave untouched.
    fn with_results(self) -> Self {
        self.file("results/20260101T000000Z-tiny.json", fixture_bytes())
    }

    /// Words the error must not contain.
    fn absent(mut self, words: &[&str]) -> Self {
        self.absent.extend(words.iter().map(|s| s.to_string()));
        self
    }
}

// ---------------------------------------------------------------------------------------------
// The checker.

#[derive(Debug, PartialEq)]
enum Node {
    Dir,
    File(Vec<u8>),
    Unreadable(u64),
}

/// Every file and directory under `root`, with the contents of every file.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Node> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Node>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                out.insert(rel, Node::Dir);
                walk(root, &path, out);
            } else {
                let node = match std::fs::read(&path) {
                    Ok(bytes) => Node::File(bytes),
                    Err(_) => Node::Unreadable(meta.len()),
                };
                out.insert(rel, node);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// What changed between two snapshots, one line per path.
fn diff(before: &BTreeMap<PathBuf, Node>, after: &BTreeMap<PathBuf, Node>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, node) in after {
        match before.get(path) {
            None => out.push(format!("created {}", path.display())),
            Some(old) if old != node => out.push(format!("changed {}", path.display())),
            Some(_) => {}
        }
    }
    for path in before.keys() {
        if !after.contains_key(path) {
            out.push(format!("removed {}", path.display()));
        }
    }
    out
}

/// Temporary files a writer may have left behind.
fn leftovers(snap: &BTreeMap<PathBuf, Node>) -> Vec<String> {
    snap.keys()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".tmp") || name.starts_with(".costbench-")
        })
        .map(|p| p.display().to_string())
        .collect()
}

/// The subcommand among `args` (the first argument naming one).
fn subcommand(args: &[String]) -> Option<&str> {
    const COMMANDS: [&str; 9] = [
        "list", "check", "run", "probe", "catalog", "estimate", "compare", "report", "history",
    ];
    args.iter()
        .map(String::as_str)
        .find(|a| COMMANDS.contains(a))
}

/// Creates the case's files in `dir`.
fn materialise(case: &Case, dir: &Path) {
    for (path, entry) in &case.files {
        let path = dir.join(path);
        match entry {
            Entry::Dir => std::fs::create_dir_all(&path).unwrap(),
            Entry::File(bytes) => {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, bytes).unwrap();
            }
        }
    }
}

/// Runs the case's command in `dir` and returns every way it broke the rule (empty: none).
fn run_in(case: &Case, dir: &Path, cache: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    if subcommand(&case.args) == Some("run") {
        assert!(
            case.args.iter().any(|a| a == "--no-probe")
                && case.args.iter().any(|a| a == "--results-dir"),
            "{}: a `run` case must pass --no-probe and --results-dir",
            case.name
        );
    }
    let before = snapshot(dir);
    let start = Instant::now();
    let out = common::costbench()
        .current_dir(dir)
        .args(&case.args)
        .env("CI", "1")
        .env("COSTBENCH_CACHE_DIR", cache)
        .timeout(TIMEOUT)
        .output()
        .expect("costbench starts");
    let elapsed = start.elapsed();
    let after = snapshot(dir);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();

    match out.status.code() {
        Some(code) if code == case.code => {}
        Some(code) => problems.push(format!("exit code {code}, expected {}", case.code)),
        None => problems.push(format!(
            "no exit code after {elapsed:.1?} (killed by the {TIMEOUT:?} timeout or a signal: \
             {})",
            out.status
        )),
    }
    problems.extend(common::panic_traces(&out));
    // The text the key words must be in: the error line for errors, all of stderr for clap's
    // usage errors.
    let text = if case.code == 2 {
        stderr.clone()
    } else {
        let (line, broken) = common::error_line(&stderr);
        problems.extend(broken);
        line
    };
    let lower = text.to_lowercase();
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
    for path in leftovers(&after) {
        problems.push(format!("temporary file left behind: {path}"));
    }
    if !problems.is_empty() {
        problems.push(format!("stderr: {stderr:?}"));
    } else if std::env::var_os("BAD_INPUT_SHOW").is_some() {
        // `BAD_INPUT_SHOW=1 cargo test --release --test bad_input -- --nocapture` lists every
        // error, to review the messages themselves.
        eprintln!(
            "{}: {}",
            case.name,
            stderr.lines().next().unwrap_or_default()
        );
    }
    problems
}

/// Runs one case in a fresh temporary directory.
fn check_case(case: &Case) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    materialise(case, dir.path());
    run_in(case, dir.path(), cache.path())
}

/// Runs every case and fails with the list of every case that broke the rule.
#[track_caller]
fn check_all(cases: &[Case]) {
    let mut names = std::collections::HashSet::new();
    for c in cases {
        assert!(names.insert(c.name), "duplicate case name {}", c.name);
    }
    let mut failures = Vec::new();
    for c in cases {
        let problems = check_case(c);
        if !problems.is_empty() {
            failures.push(format!(
                "{} (costbench {}):\n    {}",
                c.name,
                c.args.join(" "),
                problems.join("\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases broke the rule:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The inputs the cases break are valid as such.

#[test]
fn the_unbroken_inputs_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("work.toml"), VALID).unwrap();
    std::fs::write(d.join("sweep.toml"), GEMM).unwrap();
    std::fs::write(d.join("price.toml"), PRICE_OVERLAY).unwrap();
    std::fs::write(d.join("chip.toml"), CHIP_OVERLAY).unwrap();
    std::fs::write(d.join("r.json"), fixture_bytes()).unwrap();
    for args in [
        &["check", "work.toml"][..],
        &["check", "sweep.toml"],
        &["estimate", "work.toml"],
        &["catalog", "--catalog", "price.toml", "-q"],
        &["catalog", "--catalog", "chip.toml", "-q"],
        &["catalog", "--price", "p5.48xlarge:on_demand=40", "-q"],
        &["report", "r.json"],
        &["compare", "r.json", "r.json"],
    ] {
        let out = common::costbench()
            .current_dir(d)
            .args(args)
            .timeout(TIMEOUT)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Workload files: `check`, `run`, `estimate`.

/// Every `run` case passes `--no-probe` and `--results-dir` (the checker insists).
const RUN: &str = "run work.toml --no-probe --results-dir results";

/// [`RUN`] followed by `extra`.
fn run(extra: &str) -> String {
    format!("{RUN} {extra}")
}

fn workload_cases() -> Vec<Case> {
    let nul = workload("name = \"tiny\"", "name = \"ti\0ny\"");
    vec![
        // The file itself.
        case(
            "workload_empty_file",
            "check work.toml",
            1,
            &["work.toml", "empty", "expected"],
        )
        .file("work.toml", ""),
        case(
            "workload_only_comments_run",
            RUN,
            1,
            &["work.toml", "empty", "expected"],
        )
        .file("work.toml", "# nothing\n\n")
        .with_results(),
        case(
            "workload_random_bytes",
            "check work.toml",
            1,
            &["work.toml", "UTF-8", "expected a TOML workload file"],
        )
        .file("work.toml", random_bytes(512)),
        case(
            "workload_png",
            "estimate work.toml",
            1,
            &["work.toml:1:1", "UTF-8", "0x89"],
        )
        .file("work.toml", png()),
        case(
            "workload_utf16_bom_run",
            RUN,
            1,
            &["work.toml:1:1", "UTF-8", "0xff"],
        )
        .file("work.toml", utf16(VALID))
        .with_results(),
        case(
            "workload_nul_in_string",
            "check work.toml",
            1,
            &["work.toml:1:", "invalid TOML"],
        )
        .file("work.toml", nul.clone()),
        case(
            "workload_nul_in_string_run",
            RUN,
            1,
            &["work.toml:1:", "invalid TOML"],
        )
        .file("work.toml", nul),
        case(
            "workload_missing_file",
            "check missing.toml",
            1,
            &["missing.toml", "no such file"],
        ),
        case(
            "workload_missing_file_run",
            "run missing.toml --no-probe --results-dir results",
            1,
            &["missing.toml", "no such file"],
        ),
        case(
            "workload_is_a_directory",
            "check work.toml",
            1,
            &["work.toml", "directory", "not a workload file"],
        )
        .dir("work.toml"),
        case(
            "workload_is_a_directory_estimate",
            "estimate sub/",
            1,
            &["sub/", "directory"],
        )
        .dir("sub"),
        case(
            "workload_unknown_bundled_name",
            "run gpt5 --no-probe --results-dir results",
            1,
            &["unknown workload 'gpt5'", "gpt2-124m"],
        ),
        // Huge numbers.
        case(
            "workload_layers_1e30",
            "check work.toml",
            1,
            &[
                "work.toml:6:10",
                "target.layers",
                "expected at most 16777216",
            ],
        )
        .file(
            "work.toml",
            workload("layers = 4", "layers = 1000000000000000000000000000000"),
        ),
        case(
            "workload_d_model_2_pow_64_estimate",
            "estimate work.toml",
            1,
            &["target.d_model", "expected at most", "18446744073709551616"],
        )
        .file(
            "work.toml",
            workload("d_model = 64", "d_model = 18446744073709551616"),
        ),
        case(
            "workload_float_layers_1e30_run",
            RUN,
            1,
            &["measure.layers", "expected a positive integer"],
        )
        .file("work.toml", workload("layers = 2", "layers = 1e30")),
        case(
            "workload_tokens_above_1e18",
            "estimate work.toml",
            1,
            &["target.tokens", "expected at most 1e18"],
        )
        .file("work.toml", workload("tokens = 1e9", "tokens = 2e18")),
        // NaN and infinities.
        case(
            "workload_tokens_nan",
            "check work.toml",
            1,
            &["work.toml:15:10", "target.tokens", "expected", "NaN"],
        )
        .file("work.toml", workload("tokens = 1e9", "tokens = nan")),
        case(
            "workload_tokens_inf_estimate",
            "estimate work.toml",
            1,
            &["target.tokens", "expected", "inf"],
        )
        .file("work.toml", workload("tokens = 1e9", "tokens = +inf")),
        case(
            "workload_batch_minus_inf_run",
            RUN,
            1,
            &["measure.batch", "expected a positive integer", "-inf"],
        )
        .file("work.toml", workload("batch = 4", "batch = -inf")),
        case(
            "workload_layers_nan",
            "check work.toml",
            1,
            &["measure.layers", "expected a positive integer", "NaN"],
        )
        .file("work.toml", workload("layers = 2", "layers = nan")),
        // Syntax and types.
        case(
            "workload_duplicate_key",
            "check work.toml",
            1,
            &["work.toml:8:1", "duplicate key", "d_model"],
        )
        .file(
            "work.toml",
            workload("d_model = 64", "d_model = 64\nd_model = 64"),
        ),
        case(
            "workload_string_for_a_number_run",
            RUN,
            1,
            &["target.d_model", "expected a positive integer", "string"],
        )
        .file("work.toml", workload("d_model = 64", "d_model = \"64\""))
        .with_results(),
        case(
            "workload_string_for_a_boolean",
            "check work.toml",
            1,
            &["target.tied_embeddings", "expected true or false"],
        )
        .file(
            "work.toml",
            workload("tied_embeddings = true", "tied_embeddings = \"yes\""),
        ),
        case(
            "workload_string_for_tokens_estimate",
            "estimate work.toml",
            1,
            &[
                "target.tokens",
                "expected a whole positive number",
                "string",
            ],
        )
        .file(
            "work.toml",
            workload("tokens = 1e9", "tokens = \"a billion\""),
        ),
        // Sweeps.
        case(
            "sweep_m_1e9",
            "check work.toml",
            1,
            &[
                "target.shapes[0].m",
                "expected at most 16777216",
                "1000000000",
            ],
        )
        .file("work.toml", sweep("m = 16", "m = 1000000000")),
        case(
            "sweep_largest_sizes_run",
            RUN,
            1,
            &["work.toml", "target.shapes[0]"],
        )
        .file(
            "work.toml",
            sweep("m = 16", "m = 16777216")
                .replace("n = 48", "n = 16777216")
                .replace("k = 16", "k = 16777216\nbatch = 16777216"),
        )
        .with_results(),
        case(
            "sweep_square_float",
            "check work.toml",
            1,
            &["target.square[0]", "expected a positive integer"],
        )
        .file("work.toml", sweep("square = [64, 128]", "square = [1e9]")),
        case(
            "sweep_no_dtypes",
            "check work.toml",
            1,
            &["target.dtypes", "expected at least one"],
        )
        .file("work.toml", sweep("dtypes = [\"f32\"]", "dtypes = []")),
        case(
            "sweep_estimate_is_not_a_transformer",
            "estimate work.toml",
            1,
            &["not a transformer workload"],
        )
        .file("work.toml", GEMM),
    ]
}

#[test]
fn bad_workload_files() {
    check_all(&workload_cases());
}

// ---------------------------------------------------------------------------------------------
// Catalog overlays (`--catalog FILE`) and `--price`.

fn catalog_cases() -> Vec<Case> {
    const CAT: &str = "catalog --catalog over.toml";
    let field = "instances[0].prices.on_demand.usd_per_hour";
    vec![
        case(
            "overlay_empty_file",
            CAT,
            1,
            &["over.toml", "empty", "expected"],
        )
        .file("over.toml", ""),
        case(
            "overlay_random_bytes",
            CAT,
            1,
            &["over.toml", "UTF-8", "expected a TOML catalog file"],
        )
        .file("over.toml", random_bytes(256)),
        case(
            "overlay_png_estimate",
            "estimate gpt2-124m --catalog over.toml",
            1,
            &["over.toml:1:1", "UTF-8"],
        )
        .file("over.toml", png()),
        case("overlay_utf16_bom", CAT, 1, &["over.toml:1:1", "UTF-8"])
            .file("over.toml", utf16(PRICE_OVERLAY)),
        case(
            "overlay_nul_in_string",
            CAT,
            1,
            &["over.toml:3:", "region", "invalid TOML"],
        )
        .file(
            "over.toml",
            "[[instances]]\nid = \"p5.48xlarge\"\nregion = \"us-\0east-1\"\n",
        ),
        case(
            "overlay_missing_file",
            "catalog --catalog missing.toml",
            1,
            &["missing.toml", "no such file"],
        ),
        case(
            "overlay_is_a_directory",
            CAT,
            1,
            &["over.toml", "directory", "not a catalog file"],
        )
        .dir("over.toml"),
        case(
            "overlay_negative_price",
            CAT,
            1,
            &["over.toml:3:", field, "expected a positive, finite", "-40"],
        )
        .file("over.toml", price_overlay("-40")),
        case(
            "overlay_zero_price_estimate",
            "estimate gpt2-124m --catalog over.toml",
            1,
            &[
                "over.toml:3:",
                field,
                "expected a positive, finite",
                "found 0",
            ],
        )
        .file("over.toml", price_overlay("0")),
        case(
            "overlay_negative_price_run",
            "run work.toml --no-probe --results-dir results --catalog over.toml",
            1,
            &["over.toml:3:", field, "expected a positive"],
        )
        .file("work.toml", VALID)
        .file("over.toml", price_overlay("-1"))
        .with_results(),
        case(
            "overlay_nan_price",
            CAT,
            1,
            &[field, "expected a positive, finite", "NaN"],
        )
        .file("over.toml", price_overlay("nan")),
        case(
            "overlay_inf_figure",
            CAT,
            1,
            &["accelerators[0].training_mfu.value", "inf"],
        )
        .file(
            "over.toml",
            CHIP_OVERLAY.replace("value = 0.4", "value = inf"),
        ),
        case(
            "overlay_mfu_above_one",
            CAT,
            1,
            &["accelerators[0].training_mfu.value", "at most 1", "found 2"],
        )
        .file(
            "over.toml",
            CHIP_OVERLAY.replace("value = 0.4", "value = 2"),
        ),
        case(
            "overlay_string_price",
            CAT,
            1,
            &[field, "expected a number", "string"],
        )
        .file("over.toml", price_overlay("\"40\"")),
        case(
            "overlay_unknown_plan",
            CAT,
            1,
            &[
                "instances[0].prices.ondemand",
                "unknown price plan",
                "expected one of on_demand",
            ],
        )
        .file(
            "over.toml",
            PRICE_OVERLAY.replace("prices.on_demand", "prices.ondemand"),
        ),
        case(
            "overlay_unknown_accelerator",
            CAT,
            1,
            &[
                "over.toml:3:",
                "instances[0].accelerator",
                "unknown accelerator `tpu-v5`",
                "expected one of",
            ],
        )
        .file(
            "over.toml",
            "[[instances]]\nid = \"p5.48xlarge\"\naccelerator = \"tpu-v5\"\n",
        ),
        case(
            "overlay_new_instance_with_unknown_accelerator_estimate",
            "estimate gpt2-124m --catalog over.toml",
            1,
            &["instances[0].accelerator", "unknown accelerator `h100-sxn`"],
        )
        .file(
            "over.toml",
            "[[instances]]\nid = \"x.large\"\naccelerator = \"h100-sxn\"\nchips = 8\n\
             region = \"us-east-1\"\n\
             network_bits_per_s = { value = 1e9, source = \"AWS-EFA\", as_of = 2026-01-01 }\n",
        ),
        case(
            "overlay_duplicate_key",
            CAT,
            1,
            &["over.toml:4:1", "duplicate key", "chips"],
        )
        .file(
            "over.toml",
            "[[instances]]\nid = \"p5.48xlarge\"\nchips = 8\nchips = 4\n",
        ),
        case(
            "overlay_string_for_a_count",
            CAT,
            1,
            &["instances[0].chips", "expected a whole number", "string"],
        )
        .file(
            "over.toml",
            "[[instances]]\nid = \"p5.48xlarge\"\nchips = \"eight\"\n",
        ),
        case(
            "overlay_negative_count",
            CAT,
            1,
            &["instances[0].chips", "expected a whole number", "-1"],
        )
        .file(
            "over.toml",
            "[[instances]]\nid = \"p5.48xlarge\"\nchips = -1\n",
        ),
        case(
            "overlay_impossible_date",
            CAT,
            1,
            &["over.toml:3:", "as_of", "month"],
        )
        .file(
            "over.toml",
            PRICE_OVERLAY.replace("as_of = 2026-10-01", "as_of = 2026-13-01"),
        ),
        // --price.
        case(
            "price_negative",
            "catalog --price p5.48xlarge:on_demand=-1",
            2,
            &[
                "--price 'p5.48xlarge:on_demand=-1'",
                "usd",
                "expected a positive",
            ],
        ),
        case(
            "price_zero_estimate",
            "estimate gpt2-124m --price p5.48xlarge:on_demand=0",
            2,
            &["--price", "usd", "expected a positive", "`0`"],
        ),
        case(
            "price_zero_run",
            "run work.toml --no-probe --results-dir results --price p5.48xlarge:on_demand=0",
            2,
            &["--price", "expected a positive"],
        )
        .file("work.toml", VALID)
        .with_results(),
        case(
            "price_nan",
            "catalog --price p5.48xlarge:on_demand=nan",
            2,
            &["--price", "expected a positive, finite", "nan"],
        ),
        case(
            "price_1e400",
            "catalog --price p5.48xlarge:spot=1e400",
            2,
            &["--price", "expected a positive, finite", "1e400"],
        ),
        case(
            "price_unknown_instance",
            "catalog --price p9.huge:on_demand=3",
            2,
            &[
                "--price 'p9.huge:on_demand=3'",
                "instance",
                "unknown instance `p9.huge`",
                "expected one of",
            ],
        ),
        case(
            "price_unknown_plan",
            "estimate gpt2-124m --price p5.48xlarge:hourly=3",
            2,
            &[
                "--price",
                "plan",
                "unknown plan `hourly`",
                "expected one of",
            ],
        ),
        case(
            "price_malformed",
            "catalog --price p5.48xlarge",
            2,
            &["--price 'p5.48xlarge'", "expected INSTANCE:PLAN=USD"],
        ),
    ]
}

#[test]
fn bad_catalog_overlays_and_prices() {
    check_all(&catalog_cases());
}

// ---------------------------------------------------------------------------------------------
// Reports: `compare`, `report`, `history`.

fn report_cases() -> Vec<Case> {
    let version = |v: Value| report_with(|r| r["schema_version"] = v);
    let truncated = {
        let b = fixture_bytes();
        b[..b.len() / 2].to_vec()
    };
    vec![
        case(
            "report_schema_2_0",
            "compare good.json bad.json",
            1,
            &["bad.json", "schema 2.0", "newer costbench"],
        )
        .file("good.json", fixture_bytes())
        .file("bad.json", version("2.0".into())),
        case(
            "report_schema_1",
            "report bad.json",
            1,
            &["bad.json", "schema_version '1'", "expected \"major.minor\""],
        )
        .file("bad.json", version("1".into())),
        case(
            "report_schema_abc",
            "compare bad.json good.json",
            1,
            &["bad.json", "schema_version 'abc'", "expected"],
        )
        .file("good.json", fixture_bytes())
        .file("bad.json", version("abc".into())),
        case(
            "report_schema_missing",
            "report bad.json",
            1,
            &["bad.json", "schema_version", "expected"],
        )
        .file(
            "bad.json",
            report_with(|r| {
                r.as_object_mut().unwrap().remove("schema_version");
            }),
        ),
        case(
            "report_schema_a_number",
            "report bad.json",
            1,
            &["bad.json", "schema_version", "expected"],
        )
        .file("bad.json", version(serde_json::json!(1.2))),
        case(
            "report_truncated",
            "compare good.json bad.json",
            1,
            &["bad.json", "not a costbench report", "line", "truncated"],
        )
        .file("good.json", fixture_bytes())
        .file("bad.json", truncated),
        case(
            "report_empty_file",
            "report bad.json",
            1,
            &["bad.json", "not a costbench report", "ends early"],
        )
        .file("bad.json", ""),
        case(
            "report_nan_literal",
            "report bad.json",
            1,
            &["bad.json", "not a costbench report", "line", "column"],
        )
        .file("bad.json", report_point_literal("NaN")),
        case(
            "report_infinity_literal",
            "compare good.json bad.json",
            1,
            &["bad.json", "not a costbench report", "line", "column"],
        )
        .file("good.json", fixture_bytes())
        .file("bad.json", report_point_literal("Infinity")),
        case(
            "report_number_1e400",
            "report bad.json",
            1,
            &["bad.json", "number out of range", "line", "column"],
        )
        .file("bad.json", report_point_literal("1e400")),
        case(
            "report_second_of_several_is_bad",
            "report good.json bad.json",
            1,
            &["bad.json", "not a costbench report"],
        )
        .file("good.json", fixture_bytes())
        .file("bad.json", "{\"schema_version\": \"1.2\", "),
        case(
            "report_format_html_in_compare",
            "compare good.json good.json --format html",
            2,
            &["--format html", "costbench report FILE"],
        )
        .file("good.json", fixture_bytes()),
        // Directories and paths.
        case(
            "report_output_is_a_directory",
            "report good.json -o out",
            1,
            &["'out' is a directory", "expected a file path"],
        )
        .file("good.json", fixture_bytes())
        .dir("out"),
        case(
            "compare_output_is_a_directory",
            "compare good.json good.json --format json -o out",
            1,
            &["'out' is a directory", "expected a file path"],
        )
        .file("good.json", fixture_bytes())
        .dir("out"),
        case(
            "history_svg_is_a_directory",
            "history reports --svg out",
            1,
            &["'out' is a directory", "expected a file path"],
        )
        .file("reports/a.json", fixture_bytes())
        .dir("out"),
        case(
            "report_gab_without_a_directory",
            "report good.json --format github-action-benchmark",
            2,
            &["github-action-benchmark", "-o DIR"],
        )
        .file("good.json", fixture_bytes()),
        case(
            "compare_one_path",
            "compare good.json",
            2,
            &["compare", "BASE and NEW"],
        )
        .file("good.json", fixture_bytes()),
        case(
            "compare_baseline_escaping_the_directory",
            "compare --baseline ../x",
            2,
            &["baseline name '../x'", "expected"],
        )
        .with_results(),
        case(
            "compare_baseline_escaping_with_new",
            "compare --baseline ../x good.json",
            2,
            &["baseline name '../x'", "expected"],
        )
        .file("good.json", fixture_bytes()),
        case(
            "compare_unknown_baseline",
            "compare --baseline nope good.json",
            1,
            &["no baseline named 'nope'", "--save-baseline"],
        )
        .file("good.json", fixture_bytes())
        .with_results(),
        case(
            "compare_empty_directory",
            "compare empty good.json",
            1,
            &["'empty'", "no readable costbench report"],
        )
        .file("good.json", fixture_bytes())
        .dir("empty"),
        // An empty directory (or a fresh checkout's empty results/) is no longer an error:
        // a note and exit 0 (tests/cli.rs, history_of_no_reports_is_a_note_and_exit_0).
        case(
            "history_only_corrupt_reports",
            "history reports",
            1,
            &[
                "'reports'",
                "no readable costbench report",
                "a.json",
                "truncated",
            ],
        )
        .file("reports/a.json", "{\"schema_version\": \"1.2\""),
        case(
            "history_missing_directory",
            "history nowhere",
            1,
            &["'nowhere'", "no such file"],
        ),
        case(
            "history_on_a_file",
            "history good.json",
            1,
            &["'good.json'", "not a directory"],
        )
        .file("good.json", fixture_bytes()),
        case(
            "history_filters_match_nothing",
            "history reports --workload nope",
            1,
            &["'reports'", "--workload"],
        )
        .file("reports/a.json", fixture_bytes()),
    ]
}

#[test]
fn bad_reports() {
    check_all(&report_cases());
}

// ---------------------------------------------------------------------------------------------
// Command-line flags.

fn flag_cases() -> Vec<Case> {
    let with_reports = |c: Case| c.file("a.json", fixture_bytes());
    vec![
        with_reports(case(
            "noise_negative_inline",
            "compare a.json a.json --noise=-5",
            2,
            &["--noise", "expected a percentage", "-5"],
        )),
        with_reports(case(
            "noise_nan",
            "compare a.json a.json --noise nan",
            2,
            &["--noise", "expected a percentage", "nan"],
        )),
        with_reports(case(
            "fail_on_regression_abc",
            "compare a.json a.json --fail-on-regression abc",
            2,
            &["--fail-on-regression", "expected a percentage", "abc"],
        )),
        with_reports(case(
            "fail_on_regression_150",
            "compare a.json a.json --fail-on-regression 150",
            2,
            &["--fail-on-regression", "150"],
        )),
        with_reports(case(
            "significance_2",
            "compare a.json a.json --significance 2",
            2,
            &["--significance", "expected a fraction"],
        )),
        with_reports(case(
            "format_unknown",
            "report a.json --format xml",
            2,
            &["--format", "xml", "possible values"],
        )),
        with_reports(case(
            "compare_three_paths",
            "compare a.json a.json a.json",
            2,
            &["unexpected value 'a.json'"],
        )),
        case("report_without_a_file", "report", 2, &["<FILE>"]),
        case("unknown_subcommand", "frobnicate", 2, &["frobnicate"]),
        case(
            "history_significance_0",
            "history --significance 0",
            2,
            &["--significance", "expected a fraction"],
        ),
        case(
            "max_time_0",
            &run("--max-time 0"),
            2,
            &["--max-time", "expected a positive number of seconds"],
        )
        .file("work.toml", VALID),
        case(
            "max_time_nan",
            &run("--max-time nan"),
            2,
            &["--max-time", "nan"],
        )
        .file("work.toml", VALID),
        case(
            "precision_150",
            &run("--precision 150"),
            2,
            &["--precision", "expected a percentage", "150"],
        )
        .file("work.toml", VALID),
        case(
            "precision_0",
            &run("--precision 0"),
            2,
            &["--precision", "expected a percentage"],
        )
        .file("work.toml", VALID),
        case(
            "warmup_negative",
            &run("--warmup=-1"),
            2,
            &["--warmup", "expected a number of seconds"],
        )
        .file("work.toml", VALID),
        case(
            "min_samples_0",
            &run("--min-samples 0"),
            2,
            &["--min-samples", "0"],
        )
        .file("work.toml", VALID),
        case(
            "seed_not_a_number",
            &run("--seed abc"),
            2,
            &["--seed", "abc"],
        )
        .file("work.toml", VALID),
        case(
            "threads_not_a_number",
            "probe --threads abc",
            2,
            &["--threads", "abc"],
        ),
        case(
            "mfu_2",
            "estimate gpt2-124m --mfu 2",
            2,
            &["--mfu", "expected a fraction", "'2'"],
        ),
        case(
            "mfu_nan",
            "estimate gpt2-124m --mfu NaN",
            2,
            &["--mfu", "expected a fraction"],
        ),
        case(
            "deadline_days_1e400",
            "estimate gpt2-124m --deadline-days 1e400",
            2,
            &["--deadline-days", "1e400"],
        ),
        case(
            "tokens_1e400",
            "estimate gpt2-124m --tokens 1e400",
            2,
            &["--tokens", "expected a positive number", "1e400"],
        ),
        case(
            "tokens_zero",
            "estimate gpt2-124m --tokens 0",
            2,
            &["--tokens", "expected a positive number"],
        ),
        case(
            "layers_1e30",
            "estimate --layers 1000000000000000000000000000000 --d-model 64 --heads 4 --d-ff 256 --vocab 100 --seq-len 32 --tokens 1e9",
            2,
            &["--layers", "too large"],
        ),
        case(
            "d_model_2_pow_64",
            "estimate --layers 2 --d-model 18446744073709551616 --heads 4 --d-ff 256 --vocab 100 --seq-len 32 --tokens 1e9",
            2,
            &["--d-model", "too large"],
        ),
        case(
            "plan_unknown",
            "estimate gpt2-124m --plan ondemand",
            2,
            &["--plan", "'ondemand'", "on_demand"],
        ),
        case(
            "chips_0",
            "estimate gpt2-124m --chips 0",
            2,
            &["--chips", "0"],
        ),
        case(
            "batch_0",
            "estimate gpt2-124m --batch 0",
            2,
            &["--batch", "0"],
        ),
        case(
            "estimate_without_a_model",
            "estimate",
            2,
            &["estimate", "name a bundled workload", "--layers"],
        ),
        case(
            "estimate_flags_without_tokens",
            "estimate --layers 2 --d-model 64 --heads 4 --d-ff 256 --vocab 100 --seq-len 32",
            2,
            &["--tokens is required"],
        ),
        case(
            "run_output_is_a_directory",
            &run("-o out"),
            1,
            &["--output 'out'", "is a directory", "expected a file path"],
        )
        .file("work.toml", VALID)
        .dir("out"),
        case(
            "run_output_into_a_missing_directory_with_a_bad_workload",
            "run work.toml --no-probe --results-dir results -o missing/dir/report.json",
            1,
            &["work.toml", "empty"],
        )
        .file("work.toml", ""),
        case(
            "run_output_with_two_workloads",
            &run("gpt2-124m -o x.json"),
            2,
            &["--output takes one report", "2 workloads"],
        )
        .file("work.toml", VALID),
        case(
            "run_html_to_stdout",
            &run("--html -o -"),
            2,
            &["--html", "--output -"],
        )
        .file("work.toml", VALID),
        case(
            "run_existing_output_kept_on_a_bad_workload",
            &run("-o kept.json"),
            1,
            &["work.toml", "target.layers", "expected a positive integer"],
        )
        .file("work.toml", workload("layers = 4", "layers = 0"))
        .file("kept.json", fixture_bytes()),
    ]
}

#[test]
fn bad_flags() {
    check_all(&flag_cases());
}

// ---------------------------------------------------------------------------------------------
// Unreadable files. chmod 000 does not stop root from reading, so the case is skipped (with a
// message) when the file can still be read after it.

#[test]
fn unreadable_files() {
    use std::os::unix::fs::PermissionsExt;
    let cases = [
        case(
            "unreadable_workload",
            "check f.toml",
            1,
            &["f.toml", "permission denied"],
        )
        .file("f.toml", VALID),
        case(
            "unreadable_overlay",
            "catalog --catalog f.toml",
            1,
            &["f.toml", "permission denied"],
        )
        .file("f.toml", PRICE_OVERLAY),
        case(
            "unreadable_report",
            "report f.toml",
            1,
            &["f.toml", "permission denied"],
        )
        .file("f.toml", fixture_bytes()),
    ];
    let mut failures = Vec::new();
    for c in &cases {
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        materialise(c, dir.path());
        let path = dir.path().join("f.toml");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&path).is_ok() {
            eprintln!(
                "{}: skipped: the file is still readable after chmod 000 (running as root?)",
                c.name
            );
            continue;
        }
        let problems = run_in(c, dir.path(), cache.path());
        if !problems.is_empty() {
            failures.push(format!("{}: {}", c.name, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Bugs: each test holds the cases of one bug and is ignored until it is fixed.

/// `tokens = 1e400` (a float beyond f64) is reported as "floating-point number overflowed",
/// without what was expected.
#[test]
fn regression_float_overflow_says_nothing_expected() {
    check_all(&[
        case(
            "workload_tokens_1e400",
            "check work.toml",
            1,
            &["work.toml:15:10", "target.tokens", "expected"],
        )
        .file("work.toml", workload("tokens = 1e9", "tokens = 1e400")),
        case(
            "workload_tokens_1e400_run",
            RUN,
            1,
            &["target.tokens", "expected"],
        )
        .file("work.toml", workload("tokens = 1e9", "tokens = 1e400"))
        .with_results(),
        case(
            "overlay_price_1e400",
            "catalog --catalog over.toml",
            1,
            &[
                "instances[0].prices.on_demand.usd_per_hour",
                "expected a positive, finite",
            ],
        )
        .file("over.toml", price_overlay("1e400")),
        case(
            "overlay_figure_1e400_estimate",
            "estimate gpt2-124m --catalog over.toml",
            1,
            &["accelerators[0].training_mfu.value", "expected"],
        )
        .file(
            "over.toml",
            CHIP_OVERLAY.replace("value = 0.4", "value = 1e400"),
        ),
    ]);
}

/// `--threads 0` exits 1 where every other out-of-range flag value (`--chips 0`,
/// `--min-samples 0`, `--max-time 0`) is a usage error, exit 2.
#[test]
fn regression_threads_zero_is_not_a_usage_error() {
    check_all(&[
        case(
            "threads_0",
            "--threads 0 check work.toml",
            2,
            &["--threads", "0"],
        )
        .file("work.toml", VALID),
        case(
            "threads_0_run",
            "run work.toml --no-probe --results-dir results --threads 0",
            2,
            &["--threads", "0"],
        )
        .file("work.toml", VALID),
    ]);
}

/// `--noise -5` (a space, not `=`) is taken by clap for an unknown flag `-5`: the error names
/// neither `--noise` nor what it expects, unlike `--noise=-5`.
#[test]
fn regression_negative_flag_value_names_no_flag() {
    check_all(&[
        case(
            "noise_negative",
            "compare a.json a.json --noise -5",
            2,
            &["--noise", "expected a percentage"],
        )
        .file("a.json", fixture_bytes()),
        case(
            "max_time_negative",
            "run work.toml --no-probe --results-dir results --max-time -1",
            2,
            &["--max-time", "expected a positive number of seconds"],
        )
        .file("work.toml", VALID),
        case(
            "history_significance_negative",
            "history --significance -1",
            2,
            &["--significance", "expected a fraction"],
        ),
    ]);
}

/// `--deadline-days 0` says "expected a positive number of seconds".
#[test]
fn regression_deadline_days_says_seconds() {
    check_all(&[
        case(
            "deadline_days_0",
            "estimate gpt2-124m --deadline-days 0",
            2,
            &["--deadline-days", "expected a positive number"],
        )
        .absent(&["seconds"]),
        case(
            "deadline_days_negative",
            "estimate gpt2-124m --deadline-days=-1",
            2,
            &["--deadline-days", "expected a positive number"],
        )
        .absent(&["seconds"]),
    ]);
}

/// `run` creates the results directory (or `-o`'s parent) before it validates `--catalog`,
/// `--price` and `--save-baseline`, so a refused run leaves an empty directory behind.
#[test]
fn regression_refused_run_creates_directories() {
    let mk = |name: &'static str, extra: &str, words: &[&str]| case(name, &run(extra), 1, words);
    // A bad --price or baseline name is a usage error (exit 2), and leaves nothing behind too.
    let mk2 = |name: &'static str, extra: &str, words: &[&str]| case(name, &run(extra), 2, words);
    check_all(&[
        mk(
            "run_bad_catalog_creates_results",
            "--catalog over.toml",
            &["over.toml:3:", "usd_per_hour", "expected a positive"],
        )
        .file("work.toml", VALID)
        .file("over.toml", price_overlay("-1")),
        mk(
            "run_missing_catalog_creates_results",
            "--catalog missing.toml",
            &["missing.toml", "no such file"],
        )
        .file("work.toml", VALID),
        mk2(
            "run_bad_price_creates_results",
            "--price p5.48xlarge:on_demand=0",
            &["--price", "expected a positive"],
        )
        .file("work.toml", VALID),
        mk2(
            "run_bad_baseline_name_creates_results",
            "--save-baseline ../x",
            &["baseline name '../x'", "expected"],
        )
        .file("work.toml", VALID),
        mk(
            "run_bad_catalog_creates_the_output_directory",
            "--catalog over.toml -o newdir/r.json",
            &["over.toml:3:", "expected a positive"],
        )
        .file("work.toml", VALID)
        .file("over.toml", price_overlay("-1"))
        .with_results(),
    ]);
}

/// Errors from reading a report (or a directory, or a non-UTF-8 file where a report is
/// expected) repeat the OS error: `could not read 'x.json': No such file or directory (os error
/// 2): No such file or directory (os error 2)`.
#[test]
fn regression_report_read_errors_repeat_the_cause() {
    check_all(&[
        case(
            "report_missing_file",
            "report missing.json",
            1,
            &["missing.json", "no such file"],
        ),
        case(
            "compare_missing_file",
            "compare good.json missing.json",
            1,
            &["missing.json", "no such file"],
        )
        .file("good.json", fixture_bytes()),
        case(
            "report_on_a_directory",
            "report reports",
            1,
            &["'reports'", "directory"],
        )
        .file("reports/a.json", fixture_bytes()),
        case("report_png", "report bad.json", 1, &["bad.json", "UTF-8"]).file("bad.json", png()),
        case(
            "compare_random_bytes",
            "compare good.json bad.json",
            1,
            &["bad.json", "UTF-8"],
        )
        .file("good.json", fixture_bytes())
        .file("bad.json", random_bytes(4096)),
        case(
            "report_utf16_bom",
            "report bad.json",
            1,
            &["bad.json", "UTF-8"],
        )
        .file("bad.json", utf16(&fixture_text())),
    ]);
}

/// A report that is valid JSON but not an object (an array, `null`, a number) is refused as
/// "schema_version '': expected \"major.minor\"", which hides what is wrong.
#[test]
fn regression_non_object_report_is_blamed_on_its_version() {
    let array = {
        let mut b = b"[".to_vec();
        b.extend(fixture_bytes());
        b.push(b']');
        b
    };
    check_all(&[
        case(
            "report_json_array",
            "report bad.json",
            1,
            &["bad.json", "object"],
        )
        .file("bad.json", array),
        case(
            "compare_json_null",
            "compare good.json bad.json",
            1,
            &["bad.json", "object"],
        )
        .file("good.json", fixture_bytes())
        .file("bad.json", "null"),
        case(
            "history_json_number",
            "history reports",
            1,
            &["a.json", "object"],
        )
        .file("reports/a.json", "42"),
    ]);
}

/// A report value of the wrong type is refused by serde's message alone ("invalid type: string
/// \"fast\", expected f64 (line 1, column …)"): the field is not named.
#[test]
fn regression_report_type_errors_name_no_field() {
    let compact = |f: fn(&mut Value)| {
        let mut v: Value = serde_json::from_slice(&fixture_bytes()).unwrap();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    check_all(&[
        case(
            "report_string_estimate",
            "report bad.json",
            1,
            &["bad.json", "metrics", "point", "expected"],
        )
        .file(
            "bad.json",
            compact(|r| step_time(r)["estimate"]["point"] = "fast".into()),
        ),
        case(
            "compare_string_sample",
            "compare good.json bad.json",
            1,
            &["bad.json", "samples_s", "expected"],
        )
        .file("good.json", fixture_bytes())
        .file(
            "bad.json",
            compact(|r| r["measurement"]["samples_s"][0] = "1 ms".into()),
        ),
    ]);
}

/// Reports whose figures cannot be measurements (a negative or 1e308-second step time,
/// negative samples) load without complaint, and `compare --fail-on-regression` lets them
/// through the gate with "gate passed".
#[test]
fn regression_impossible_report_figures_are_accepted() {
    let n = {
        let v: Value = serde_json::from_slice(&fixture_bytes()).unwrap();
        v["measurement"]["samples_s"].as_array().unwrap().len()
    };
    let negative_samples = report_with(|r| {
        r["measurement"]["samples_s"] = Value::Array(vec![(-1.0).into(); n]);
    });
    check_all(&[
        case(
            "compare_negative_step_time",
            "compare good.json bad.json --fail-on-regression",
            1,
            &["bad.json", "step_time", "expected"],
        )
        .file("good.json", fixture_bytes())
        .file(
            "bad.json",
            report_with(|r| step_time(r)["estimate"]["point"] = (-1.0).into()),
        ),
        case(
            "compare_step_time_1e308",
            "compare good.json bad.json --fail-on-regression",
            1,
            &["bad.json", "step_time", "expected"],
        )
        .file("good.json", fixture_bytes())
        .file(
            "bad.json",
            report_with(|r| {
                let e = &mut step_time(r)["estimate"];
                e["point"] = 1e308.into();
                e["upper"] = 1e308.into();
            }),
        ),
        case(
            "compare_negative_samples",
            "compare good.json bad.json --fail-on-regression",
            1,
            &["bad.json", "samples_s", "expected"],
        )
        .file("good.json", fixture_bytes())
        .file("bad.json", negative_samples.clone()),
        case(
            "report_negative_samples",
            "report bad.json",
            1,
            &["bad.json", "samples_s", "expected"],
        )
        .file("bad.json", negative_samples),
    ]);
}

/// An output path that is one of the input reports replaces that report (with a table, an SVG
/// or Markdown), exit 0.
#[test]
fn regression_output_over_an_input_report() {
    check_all(&[
        case(
            "report_output_is_its_input",
            "report a.json -o a.json",
            1,
            &["a.json", "-o"],
        )
        .file("a.json", fixture_bytes()),
        case(
            "compare_output_is_its_new_report",
            "compare a.json b.json --format markdown -o b.json",
            1,
            &["b.json", "-o"],
        )
        .file("a.json", fixture_bytes())
        .file("b.json", fixture_bytes()),
        case(
            "history_svg_over_a_report",
            "history results --svg results/20260101T000000Z-tiny.json",
            1,
            &["20260101T000000Z-tiny.json", "--svg"],
        )
        .with_results(),
        case(
            "history_html_over_a_report",
            "history results --html results/20260101T000000Z-tiny.json",
            1,
            &["20260101T000000Z-tiny.json", "--html"],
        )
        .with_results(),
    ]);
}

/// Writing into a missing directory names the temporary file costbench tried to create
/// (`…/nodir/.costbench-out-XXXXXX.tmp`) instead of the output file the user gave.
#[test]
fn regression_write_into_a_missing_directory_names_a_temp_file() {
    check_all(&[
        case(
            "report_output_into_a_missing_directory",
            "report a.json --format csv -o nodir/x.csv",
            1,
            &["nodir/x.csv", "no such file"],
        )
        .file("a.json", fixture_bytes())
        .absent(&[".tmp"]),
        case(
            "compare_output_into_a_missing_directory",
            "compare a.json a.json -o nodir/x.md",
            1,
            &["nodir/x.md", "no such file"],
        )
        .file("a.json", fixture_bytes())
        .absent(&[".tmp"]),
        case(
            "history_svg_into_a_missing_directory",
            "history reports --svg nodir/x.svg",
            1,
            &["nodir/x.svg", "no such file"],
        )
        .file("reports/a.json", fixture_bytes())
        .absent(&[".tmp"]),
    ]);
}

/// A regular file where costbench wants to create a directory gives "could not create the
/// results directory 'F': File exists (os error 17)" — for `-o`, too, which is not a results
/// directory — without the flag or what was expected.
#[test]
fn regression_file_where_a_directory_is_needed() {
    check_all(&[
        case(
            "run_output_under_a_file",
            "run work.toml --no-probe --results-dir results -o work.toml/r.json",
            1,
            &["--output", "work.toml", "expected"],
        )
        .file("work.toml", VALID),
        case(
            "run_results_dir_is_a_file",
            "run work.toml --no-probe --results-dir work.toml",
            1,
            &["--results-dir", "work.toml", "expected"],
        )
        .file("work.toml", VALID),
        case(
            "report_gab_output_is_a_file",
            "report a.json --format github-action-benchmark -o existing.txt",
            1,
            &["-o", "existing.txt", "expected a directory"],
        )
        .file("a.json", fixture_bytes())
        .file("existing.txt", "not a directory\n"),
    ]);
}

/// A bad model given as `estimate` flags is reported at a position in a file that does not
/// exist ("command-line flags:7:9: target.heads"), not by the flag the user typed.
#[test]
fn regression_estimate_flags_reported_as_a_hidden_file() {
    let flags = |more: &str| {
        format!(
            "estimate --layers 2 --d-model 64 --d-ff 256 --vocab 100 --seq-len 32 --tokens 1e9 \
             {more}"
        )
    };
    check_all(&[
        case(
            "estimate_heads_not_dividing_d_model",
            &flags("--heads 5"),
            2,
            &["--heads", "expected a divisor of 64"],
        )
        .absent(&[":7:9"]),
        case(
            "estimate_kv_heads_not_dividing_heads",
            &flags("--heads 4 --kv-heads 3"),
            2,
            &["--kv-heads", "expected a divisor of 4"],
        ),
    ]);
}
