//! Exit codes: 0 success, 1 runtime error, 2 usage error, 3 a comparison's gate fired, 130
//! interrupted — one table in README.md and in `costbench --help`, and one case here per usage
//! error checked after clap (`src/cli/usage.rs`). Exit 3 is tested in `tests/compare.rs`
//! (`…fail_on_regression…`), 130 in `tests/interrupts.rs` and `tests/reliability.rs`.
//!
//! A usage error is printed as clap prints its own: one `error: …` line (the message on one
//! line), then the command's usage and a pointer to `--help`. Nothing is read or written before
//! it: every case runs in an empty temporary directory (but for the report it compares) and
//! leaves it as it was.

mod common;

use common::REPORT_FIXTURE;
use std::path::Path;

/// Every file under `dir`, with its contents.
fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        out.push((entry.display().to_string(), bytes));
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.push(path.clone());
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Runs `costbench args` in a temporary directory holding `r.json` (a report), and returns
/// the exit code, standard output and standard error; asserts that the directory is unchanged.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(REPORT_FIXTURE, dir.path().join("r.json")).unwrap();
    let before = listing(dir.path());
    let out = common::costbench()
        .current_dir(dir.path())
        .env("COSTBENCH_CACHE_DIR", dir.path().join("cache"))
        .args(args)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(
        listing(dir.path()),
        before,
        "{args:?} changed its directory"
    );
    assert!(common::panic_traces(&out).is_empty(), "{args:?} panicked");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One usage error: the arguments and words its message must hold.
struct Usage {
    args: &'static [&'static str],
    words: &'static [&'static str],
}

const fn usage(args: &'static [&'static str], words: &'static [&'static str]) -> Usage {
    Usage { args, words }
}

/// Every usage error checked after clap, by command.
const USAGE_ERRORS: &[Usage] = &[
    // estimate: where the model comes from, and what each source needs.
    usage(&["estimate"], &["name a bundled workload", "--layers"]),
    usage(
        &["estimate", "gpt2-124m", "--layers", "2"],
        &["either a workload or the model as flags"],
    ),
    usage(
        &["estimate", "--hf-config", "config.json", "--heads", "4"],
        &["either --hf-config or the model as flags"],
    ),
    usage(
        &["estimate", "--hf-config", "config.json"],
        &["--tokens is required with --hf-config"],
    ),
    usage(
        &["estimate", "gpt2-124m", "--seq-len", "128"],
        &["--seq-len and --batch go with --hf-config"],
    ),
    usage(
        &[
            "estimate",
            "--layers",
            "2",
            "--d-model",
            "64",
            "--d-ff",
            "256",
            "--vocab",
            "100",
            "--seq-len",
            "32",
            "--tokens",
            "1e9",
        ],
        &["--heads is required"],
    ),
    usage(
        &[
            "estimate",
            "--layers",
            "2",
            "--d-model",
            "64",
            "--heads",
            "4",
            "--d-ff",
            "256",
            "--vocab",
            "100",
            "--seq-len",
            "32",
        ],
        &["--tokens is required when the model is given as flags"],
    ),
    usage(
        &[
            "estimate",
            "--layers",
            "2",
            "--d-model",
            "64",
            "--heads",
            "5",
            "--d-ff",
            "256",
            "--vocab",
            "100",
            "--seq-len",
            "32",
            "--tokens",
            "1e9",
        ],
        &["--heads", "divide"],
    ),
    usage(
        &["estimate", "gpt2-124m", "--scenario", "custom"],
        &["--scenario custom needs --mfu"],
    ),
    // --price, on every command that takes it (a value of the command line).
    usage(
        &["catalog", "--price", "p5.48xlarge"],
        &["--price 'p5.48xlarge'", "expected INSTANCE:PLAN=USD"],
    ),
    usage(
        &["estimate", "gpt2-124m", "--price", "p9.huge:on_demand=3"],
        &["unknown instance `p9.huge`"],
    ),
    usage(
        &["catalog", "--price", "p5.48xlarge:on_demand=-1"],
        &["--price", "expected a positive"],
    ),
    // compare: the paths, the baseline's name, the format's output.
    usage(&["compare", "r.json"], &["give BASE and NEW"]),
    usage(&["compare"], &["give BASE and NEW"]),
    usage(
        &["compare", "--baseline", "main", "r.json", "r.json"],
        &["with --baseline give at most one path"],
    ),
    usage(
        &["compare", "--baseline", "bad name"],
        &["--baseline", "baseline name 'bad name'", "expected"],
    ),
    usage(
        &["compare", "r.json", "r.json", "--format", "html"],
        &["--format html exports single reports", "costbench report"],
    ),
    usage(
        &["compare", "r.json", "r.json", "--format", "csv"],
        &["--format csv exports single reports"],
    ),
    usage(
        &["compare", "r.json", "r.json", "--format", "gab"],
        &["writes two files", "-o DIR"],
    ),
    // report: the format's output, and html's one report.
    usage(
        &["report", "r.json", "--format", "gab"],
        &[
            "--format github-action-benchmark writes two files",
            "-o DIR",
        ],
    ),
    // Checked before the (missing) input is read.
    usage(
        &[
            "report",
            "missing.json",
            "--format",
            "github-action-benchmark",
        ],
        &["writes two files"],
    ),
    usage(
        &["report", "r.json", "r.json", "r.json", "--format", "html"],
        &["one page per report", "3 given"],
    ),
    // run: one --output, the baseline's name, --html's page (before any workload is read).
    usage(
        &["run", "-o", "x.json", "a.toml", "b.toml"],
        &["--output takes one report", "2 workloads"],
    ),
    usage(
        &["run", "--save-baseline", "bad name", "--no-probe"],
        &["--save-baseline", "baseline name 'bad name'"],
    ),
    usage(
        &["run", "--save-baseline", "../up", "--no-probe"],
        &["baseline name '../up'"],
    ),
    usage(
        &["run", "--html", "-o", "-", "--no-probe"],
        &["--html", "--output -"],
    ),
    usage(
        &["run", "--html", "-o", "page.html", "--no-probe"],
        &["--html", "is the report", "page.html"],
    ),
    // history: one path named for both outputs (through a link it is a runtime error:
    // tests/hostile_outputs.rs).
    usage(
        &["history", ".", "--svg", "x.svg", "--html", "./x.svg"],
        &["--html and --svg name the same file"],
    ),
    // The shared flags before the command (their old place), where they do nothing, or twice.
    usage(
        &["--threads", "1", "list"],
        &["--threads does nothing on `list`", "`run` and `probe`"],
    ),
    usage(
        &["-q", "estimate", "gpt2-124m"],
        &["--quiet does nothing on `estimate`"],
    ),
    usage(
        &["--color", "never", "run", "--no-probe"],
        &["--color does nothing on `run`", "`compare` and `report`"],
    ),
    usage(
        &["--threads", "2", "probe", "--threads", "1"],
        &["--threads was given both before and after the command"],
    ),
];

/// The commands whose usage errors are listed.
const COMMANDS: [&str; 8] = [
    "list", "run", "probe", "catalog", "estimate", "compare", "report", "history",
];

#[test]
fn every_usage_error_exits_2_with_one_error_line_in_clap_style() {
    let mut problems = Vec::new();
    for case in USAGE_ERRORS {
        let (code, stdout, stderr) = run(case.args);
        let mut wrong = Vec::new();
        if code != Some(2) {
            wrong.push(format!("exit {code:?}"));
        }
        if !stdout.is_empty() {
            wrong.push(format!("stdout: {stdout:?}"));
        }
        let lines: Vec<&str> = stderr.lines().collect();
        let errors = lines.iter().filter(|l| l.starts_with("error")).count();
        let first = lines.first().copied().unwrap_or_default();
        // The message is the first line; clap's usage and hint follow after a blank line.
        if errors != 1 || !first.starts_with("error: ") || lines.get(1) != Some(&"") {
            wrong.push("not one `error: …` line followed by a blank line".into());
        }
        for word in case.words {
            if !first.contains(word) {
                wrong.push(format!("the message lacks {word:?}"));
            }
        }
        let command = case.args.iter().find(|a| COMMANDS.contains(a)).unwrap();
        if !stderr.contains(&format!("Usage: costbench {command}"))
            || !stderr.contains("try '--help'")
        {
            wrong.push("no usage line or --help hint".into());
        }
        if !wrong.is_empty() {
            problems.push(format!(
                "costbench {}: {}\n  stderr: {stderr:?}",
                case.args.join(" "),
                wrong.join("; ")
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The other codes, at a glance: success, and runtime errors (about the world) that look like
/// the usage errors above but are not.
#[test]
fn success_and_runtime_errors_exit_0_and_1() {
    let (code, stdout, _) = run(&["list"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("gpt2-124m"));
    for (args, words) in [
        (&["report", "missing.json"][..], "missing.json"),
        (&["compare", "r.json", "missing.json"], "missing.json"),
        // A well-formed baseline name that is not saved: the world, not the command line.
        (
            &["compare", "--baseline", "main"],
            "no baseline named 'main'",
        ),
        (&["check", "missing.toml"], "missing.toml"),
        (&["run", "missing.toml", "--no-probe"], "missing.toml"),
        // The workload's contents: a bundled multilayer perceptron is not priced.
        (&["estimate", "mlp-small"], "not a transformer"),
        (
            &["estimate", "--hf-config", "missing.json", "--tokens", "1e9"],
            "missing.json",
        ),
    ] {
        let (code, _, stderr) = run(args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        let (line, broken) = common::error_line(&stderr);
        assert!(broken.is_empty(), "{args:?}: {broken:?}");
        assert!(line.contains(words), "{args:?}: {line}");
        assert!(!stderr.contains("Usage:"), "{args:?}: {stderr}");
    }
}

/// The shared flags in their old place still act on the commands that take them.
#[test]
fn shared_flags_before_the_command_still_act_where_they_act() {
    // --threads before `run` is taken: the run gets to the (missing) workload.
    let (code, _, stderr) = run(&["--threads", "1", "run", "missing.toml", "--no-probe"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("missing.toml"), "{stderr}");
    // -q and --color before `compare`.
    let (code, stdout, stderr) = run(&["-q", "--color", "always", "compare", "r.json", "r.json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains('\x1b'),
        "--color always before compare was ignored"
    );
}

/// README.md's table of exit codes holds exactly the rows `costbench --help` prints.
#[test]
fn the_readme_and_help_have_one_exit_code_table() {
    let (code, help, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    let section = help
        .split_once("Exit codes:\n")
        .expect("--help has an exit-code section")
        .1;
    let from_help: Vec<(String, String)> = section
        .lines()
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let (code, meaning) = l.trim().split_once(' ').unwrap();
            (code.to_string(), meaning.trim().to_string())
        })
        .collect();
    let codes: Vec<&str> = from_help.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(codes, ["0", "1", "2", "3", "130"]);

    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme
        .split_once("## Exit codes\n")
        .expect("README.md has an Exit codes section")
        .1;
    let from_readme: Vec<(String, String)> = table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            (cells[0].to_string(), cells[1].to_string())
        })
        .collect();
    assert_eq!(from_readme, from_help);
    // One table: no other list of exit codes in the README.
    assert_eq!(readme.matches("| exit | meaning |").count(), 1);
}
