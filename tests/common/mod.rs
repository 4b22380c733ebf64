//! Fixtures and harness shared by the integration tests (`mod common;` in each test file that
//! uses them): the valid inputs that tests break one line at a time, the report fixture, line
//! editing, the binary with a clean environment, and the project's error rule — a failure is one
//! `error` line on standard error, without a panic or a backtrace, that says nothing twice.

// Every test file is its own crate and uses only part of this module.
#![allow(dead_code)]

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin_cmd;
use std::process::Output;

/// A real quick-run report of `tests/fixtures/tiny.toml`.
pub const REPORT_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/reports/tiny.json"
);

/// The tiny transformer workload the report fixture was measured from: runs in milliseconds.
pub const TINY_WORKLOAD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny.toml");

/// A valid transformer workload; tests replace single lines of it (line numbers are 1-based).
pub const VALID: &str = r#"name = "tiny"
kind = "transformer"
description = "a tiny transformer for tests"

[target]
layers = 4
d_model = 64
heads = 4
d_ff = 256
vocab = 1000
seq_len = 128
norm = "layernorm"
activation = "gelu"
tied_embeddings = true
tokens = 1e9
batch = 32

[measure]
layers = 2
batch = 4
seq_len = 64
"#;

/// A valid product sweep; tests replace single lines of it.
pub const GEMM: &str = r#"name = "sweep"
kind = "gemm"
description = "a small sweep"

[target]
dtypes = ["f32"]
square = [64, 128]

[[target.shapes]]
label = "qkv"
m = 16
n = 48
k = 16

[measure]
dtypes = ["f32"]
"#;

/// `text` with its 1-based line `line` replaced by `with` (several lines, or none).
pub fn edit(text: &str, line: usize, with: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(line >= 1 && line <= lines.len(), "no line {line}");
    let mut out: Vec<&str> = lines.drain(..line - 1).collect();
    lines.remove(0);
    if !with.is_empty() {
        out.extend(with.lines());
    }
    out.extend(lines);
    out.join("\n") + "\n"
}

/// `text` with the first line equal to `line` replaced by `with` (which may span lines).
pub fn replace_line(text: &str, line: &str, with: &str) -> String {
    let at = text
        .lines()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("no line {line:?} to replace"));
    edit(text, at + 1, with)
}

/// The `costbench` binary, asked for no backtrace and no colour.
pub fn costbench() -> Command {
    let mut cmd = cargo_bin_cmd!("costbench");
    cmd.env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env("NO_COLOR", "1");
    cmd
}

/// The signs of a panic in either output stream, one problem each.
pub fn panic_traces(out: &Output) -> Vec<String> {
    let mut problems = Vec::new();
    for stream in [&out.stderr, &out.stdout] {
        let text = String::from_utf8_lossy(stream).to_lowercase();
        for bad in ["panicked", "backtrace"] {
            if text.contains(bad) {
                problems.push(format!("output contains {bad:?}"));
            }
        }
    }
    problems
}

/// The error line of `stderr` (its first line starting with `error`, or "" when none does), and
/// the ways it breaks the rule: not exactly one such line, or a part said twice in a row
/// (`…: X: X`).
pub fn error_line(stderr: &str) -> (String, Vec<String>) {
    let mut problems = Vec::new();
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    if lines.len() != 1 {
        problems.push(format!(
            "{} stderr lines start with \"error\", expected exactly one",
            lines.len()
        ));
    }
    let line = lines.first().copied().unwrap_or_default();
    let parts: Vec<&str> = line.split(": ").collect();
    if let Some(w) = parts.windows(2).find(|w| w[0] == w[1]) {
        problems.push(format!("the error says {:?} twice in a row", w[0]));
    }
    (line.to_string(), problems)
}

/// Asserts that `out` failed with exit code 1, printed nothing on standard output, and printed
/// exactly one line on standard error, `error: …`, that keeps the rule; returns that line.
#[track_caller]
pub fn single_error(out: &Output) -> String {
    let stderr = String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8");
    assert_eq!(out.status.code(), Some(1), "exit code; stderr: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let line = stderr.strip_suffix('\n').unwrap_or(&stderr);
    assert!(!line.contains('\n'), "more than one line: {stderr:?}");
    assert!(line.starts_with("error: "), "{line}");
    let mut problems = panic_traces(out);
    problems.extend(error_line(&stderr).1);
    assert!(problems.is_empty(), "{problems:?}: {line}");
    line.to_string()
}
