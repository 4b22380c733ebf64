//! `costbench check FILE` on bad workload files: one test per validation rule of
//! `workloads/README.md`. Each asserts exit code 1 and a single stderr line `error: FILE:LINE:COL:
//! FIELD: …` that names what was expected, with no panic or backtrace.

mod common;

use common::{GEMM, VALID, costbench, edit};
use predicates::prelude::*;
use tempfile::TempDir;

/// A valid MLP.
const MLP: &str = r#"name = "mlp"
kind = "mlp"
description = "a small mlp"

[target]
d_in = 32
d_hidden = 64
hidden_layers = 2
classes = 10
samples = 1e6
batch = 64

[measure]
batch = 16
"#;

/// A workload file in its own temporary directory (kept alive by the returned `TempDir`).
fn file(contents: impl AsRef<[u8]>) -> (TempDir, String) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("work.toml");
    std::fs::write(&path, contents).unwrap();
    (dir, path.to_str().unwrap().to_string())
}

/// Runs `costbench check arg`, asserts that it fails with exit code 1 and exactly one stderr
/// line starting with `error: ` and free of panic traces, and returns that line.
fn check_fails(arg: &str) -> String {
    common::single_error(&costbench().args(["check", arg]).output().unwrap())
}

/// Asserts that `line` contains every one of `parts`.
#[track_caller]
fn assert_mentions(line: &str, parts: &[&str]) {
    for p in parts {
        assert!(line.contains(p), "missing {p:?} in: {line}");
    }
}

/// Writes `text`, checks it, and asserts the error starts with `error: PATH:LOC: ` and contains
/// `parts`.
#[track_caller]
fn fails_at(text: &str, loc: &str, parts: &[&str]) -> String {
    let (_dir, path) = file(text);
    let line = check_fails(&path);
    let head = format!("error: {path}:{loc}: ");
    assert!(
        line.starts_with(&head),
        "expected {head:?} at the start of: {line}"
    );
    assert_mentions(&line, parts);
    line
}

// ---------------------------------------------------------------------------------------------
// Success.

#[test]
fn bundled_default_passes() {
    costbench()
        .args(["check", "gpt2-124m"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("gpt2-124m").and(predicate::str::contains("valid")))
        .stderr(predicate::str::is_empty());
}

#[test]
fn valid_user_files_pass() {
    for text in [VALID, GEMM, MLP] {
        let (_dir, path) = file(text);
        costbench().args(["check", &path]).assert().code(0);
    }
}

// ---------------------------------------------------------------------------------------------
// Files that cannot be read.

#[test]
fn nonexistent_file() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("missing.toml");
    let path = path.to_str().unwrap();
    let line = check_fails(path);
    assert_eq!(
        line,
        format!("error: could not read '{path}': no such file")
    );
}

#[test]
fn directory_instead_of_file() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().to_str().unwrap();
    let line = check_fails(path);
    assert_eq!(
        line,
        format!("error: could not read '{path}': it is a directory, not a workload file")
    );
}

#[test]
fn binary_garbage() {
    let bytes: Vec<u8> = (0..=255u8).rev().cycle().take(600).collect();
    let (_dir, path) = file(bytes);
    let line = check_fails(&path);
    assert_mentions(
        &line,
        &[
            &format!("error: {path}:1:1: "),
            "not a UTF-8 text file",
            "0xff",
        ],
    );
}

#[test]
fn control_characters_are_a_syntax_error() {
    fails_at(
        "\u{0}\u{1}\u{2}garbage\n",
        "1:11",
        &["invalid TOML", "expected `=`"],
    );
}

#[test]
fn empty_file() {
    for text in ["", "\n\n  \n", "# just a comment\n"] {
        let (_dir, path) = file(text);
        let line = check_fails(&path);
        assert_mentions(
            &line,
            &[
                &format!("error: {path}: "),
                "the file is empty",
                "expected",
                "name, kind",
            ],
        );
    }
}

#[test]
fn oversized_file() {
    let text = format!("{VALID}\n{}", "# padding\n".repeat(120_000));
    let (_dir, path) = file(text);
    let line = check_fails(&path);
    assert_mentions(&line, &[&path, "at most 1048576 bytes"]);
}

#[test]
fn unknown_bundled_name() {
    let line = check_fails("gpt5");
    assert_eq!(
        line,
        "error: unknown workload 'gpt5': not a bundled name (gemm-sweep, mlp-small, gpt2-124m, \
         llama2-7b, llama3-8b, llama3-8b-long, mixtral-8x7b) nor a file"
    );
}

#[test]
fn bundled_name_with_toml_suffix_gets_a_hint() {
    let line = check_fails("llama2-7b.toml");
    assert_mentions(
        &line,
        &[
            "could not read 'llama2-7b.toml'",
            "no such file",
            "named 'llama2-7b'",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Syntax.

#[test]
fn syntax_error() {
    fails_at(
        &edit(VALID, 5, "[target"),
        "5:8",
        &["invalid TOML", "expected `]`"],
    );
}

#[test]
fn duplicate_key() {
    fails_at(
        &edit(VALID, 7, "d_model = 64\nd_model = 65"),
        "8:1",
        &["invalid TOML", "duplicate key", "d_model"],
    );
}

// ---------------------------------------------------------------------------------------------
// Unknown keys.

#[test]
fn unknown_key_in_target() {
    fails_at(
        &edit(VALID, 6, "layer = 4"),
        "6:1",
        &[
            "unknown field `layer` in [target]",
            "did you mean `layers`?",
            "expected one of layers, d_model, heads",
        ],
    );
}

#[test]
fn unknown_key_in_measure() {
    fails_at(
        &edit(VALID, 21, "seq_len = 64\nsequence = 3"),
        "22:1",
        &[
            "unknown field `sequence` in [measure]",
            "expected one of",
            "seq_len",
        ],
    );
}

#[test]
fn unknown_key_at_top_level() {
    fails_at(
        &edit(VALID, 3, "description = \"d\"\nauthor = \"me\""),
        "4:1",
        &[
            "unknown field `author` at the top level",
            "expected one of name, kind, description, target, measure",
        ],
    );
}

#[test]
fn unknown_key_in_a_gemm_shape() {
    fails_at(
        &edit(GEMM, 13, "k = 16\nbatches = 2"),
        "14:1",
        &[
            "unknown field `batches` in [[target.shapes]] entry 0",
            "did you mean `batch`?",
        ],
    );
}

#[test]
fn field_of_another_kind() {
    fails_at(
        &edit(MLP, 6, "d_model = 32"),
        "6:1",
        &[
            "unknown field `d_model` in [target]",
            "expected one of d_in, d_hidden",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Types.

#[test]
fn string_for_an_integer() {
    fails_at(
        &edit(VALID, 7, "d_model = \"64\""),
        "7:11",
        &["target.d_model: expected a positive integer, found string \"64\""],
    );
}

#[test]
fn float_for_an_integer() {
    fails_at(
        &edit(VALID, 19, "layers = 1.5"),
        "19:10",
        &["measure.layers: expected a positive integer, found floating point `1.5`"],
    );
}

#[test]
fn integer_for_a_boolean() {
    fails_at(
        &edit(VALID, 14, "tied_embeddings = 1"),
        "14:19",
        &["target.tied_embeddings: expected true or false, found integer `1`"],
    );
}

#[test]
fn scalar_for_a_table() {
    let text = "name = \"x\"\nkind = \"transformer\"\ndescription = \"d\"\ntarget = 5\n";
    fails_at(
        text,
        "4:10",
        &["target: expected a table, found integer `5`"],
    );
}

#[test]
fn array_of_tables_for_a_table() {
    fails_at(
        &edit(VALID, 18, "[[measure]]"),
        "18:1",
        &["measure: expected a table (write [measure] once, not [[measure]]), found an array"],
    );
}

// ---------------------------------------------------------------------------------------------
// Missing fields.

#[test]
fn missing_target_field() {
    fails_at(
        &edit(VALID, 9, ""),
        "5:1",
        &[
            "target.d_ff: required field is missing from [target]",
            "expected a positive integer",
        ],
    );
}

#[test]
fn missing_measure_batch() {
    fails_at(
        &edit(VALID, 20, ""),
        "18:1",
        &[
            "measure.batch: required field is missing from [measure]",
            "sequences per measured step",
        ],
    );
}

#[test]
fn missing_measure_section() {
    let text: String = VALID.lines().take(16).map(|l| format!("{l}\n")).collect();
    let (_dir, path) = file(text);
    let line = check_fails(&path);
    assert_mentions(
        &line,
        &[
            &format!("error: {path}: measure: "),
            "required section [measure] is missing",
            "batch",
        ],
    );
}

#[test]
fn missing_kind() {
    let (_dir, path) = file(edit(VALID, 2, ""));
    let line = check_fails(&path);
    assert_mentions(
        &line,
        &[
            &format!("error: {path}: kind: "),
            "required field is missing",
            "gemm, mlp, transformer",
        ],
    );
}

#[test]
fn missing_gemm_shape_size() {
    fails_at(
        &edit(GEMM, 11, ""),
        "9:1",
        &["target.shapes[0].m: required field is missing from [[target.shapes]] entry 0"],
    );
}

#[test]
fn gemm_without_shapes() {
    // Only the first six lines (no `square`, no [[target.shapes]]), then [measure].
    let head: String = GEMM.lines().take(6).map(|l| format!("{l}\n")).collect();
    fails_at(
        &format!("{head}\n[measure]\ndtypes = [\"f32\"]\n"),
        "5:1",
        &["target: no product shapes", "square", "[[target.shapes]]"],
    );
}

// ---------------------------------------------------------------------------------------------
// Sizes.

#[test]
fn zero_size() {
    fails_at(
        &edit(VALID, 19, "layers = 0"),
        "19:10",
        &["measure.layers: expected a positive integer, found 0"],
    );
}

#[test]
fn negative_size() {
    fails_at(
        &edit(VALID, 10, "vocab = -1000"),
        "10:9",
        &["target.vocab: expected a positive integer, found -1000"],
    );
}

#[test]
fn zero_in_a_square_list() {
    fails_at(
        &edit(GEMM, 7, "square = [64, 0]"),
        "7:15",
        &["target.square[1]: expected a positive integer, found 0"],
    );
}

#[test]
fn dimension_over_the_limit() {
    fails_at(
        &edit(VALID, 9, "d_ff = 16777217"),
        "9:8",
        &[
            "target.d_ff: expected at most 16777216 (2^24",
            "found 16777217",
        ],
    );
}

#[test]
fn integer_beyond_64_bits() {
    fails_at(
        &edit(VALID, 16, "batch = 99999999999999999999999"),
        "16:9",
        &[
            "target.batch: expected at most 16777216",
            "found 99999999999999999999999",
        ],
    );
}

#[test]
fn target_sequence_too_large_to_count() {
    let mut text = VALID.to_string();
    for (line, key) in [
        (6, "layers"),
        (7, "d_model"),
        (9, "d_ff"),
        (10, "vocab"),
        (11, "seq_len"),
        (16, "batch"),
    ] {
        text = edit(&text, line, &format!("{key} = 16777216"));
    }
    fails_at(
        &text,
        "11:11",
        &[
            "target.seq_len: training on one sequence of the target executes about",
            "FLOPs",
            "2^62",
        ],
    );
}

#[test]
fn gemm_product_too_large_for_memory() {
    // 2^20 cubed: 12 TiB of operands, and 2^61 FLOPs, which can still be counted.
    fails_at(
        &edit(GEMM, 7, "square = [64, 1048576]"),
        "7:15",
        &[
            "target.square[1]: the product 1048576×1048576×1048576 in f32 needs about",
            "GiB of memory",
            "GiB available",
            "smaller m, n, k or batch",
        ],
    );
}

#[test]
fn gemm_product_too_large_to_count() {
    // 2^24 cubed: refused by the file's own rules, before this machine's memory is asked.
    fails_at(
        &edit(GEMM, 7, "square = [64, 16777216]"),
        "7:15",
        &[
            "target.square[1]: the product 16777216×16777216×16777216 executes about",
            "FLOPs",
            "2^62",
            "smaller m, n, k or batch",
        ],
    );
}

#[test]
fn slice_memory_exceeds_available() {
    // A 2^20-wide layer: about 70 TB of weights, gradients and AdamW state.
    let text = edit(&edit(VALID, 7, "d_model = 1048576"), 9, "d_ff = 1048576");
    fails_at(
        &text,
        "18:1",
        &[
            "measure: the measured slice needs about",
            "GiB of memory but this machine has",
            "reduce measure.layers, measure.batch or measure.seq_len",
        ],
    );
}

#[test]
fn mlp_slice_memory_exceeds_available() {
    let text = edit(&edit(MLP, 7, "d_hidden = 4194304"), 8, "hidden_layers = 8");
    fails_at(
        &text,
        "13:1",
        &[
            "measure: the measured slice needs about",
            "reduce measure.batch, measure.hidden_layers or measure.d_hidden",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Divisibility.

#[test]
fn heads_not_dividing_d_model_in_target() {
    fails_at(
        &edit(VALID, 8, "heads = 5"),
        "8:9",
        &[
            "target.heads: 5 heads do not divide target.d_model = 64",
            "expected a divisor of 64",
        ],
    );
}

#[test]
fn heads_not_dividing_d_model_in_slice() {
    fails_at(
        &edit(VALID, 21, "seq_len = 64\nd_model = 50"),
        "22:11",
        &["measure.d_model: in the measured slice, heads = 4 does not divide d_model = 50"],
    );
}

#[test]
fn kv_heads_not_dividing_heads_in_target() {
    fails_at(
        &edit(VALID, 8, "heads = 4\nkv_heads = 3"),
        "9:12",
        &[
            "target.kv_heads: 3 key/value heads do not divide target.heads = 4",
            "expected a divisor of 4",
        ],
    );
}

#[test]
fn kv_heads_not_dividing_heads_in_slice() {
    let text = edit(
        &edit(VALID, 8, "heads = 4\nkv_heads = 2"),
        22,
        "seq_len = 64\nheads = 1",
    );
    fails_at(
        &text,
        "23:9",
        &["measure.heads: in the measured slice, kv_heads = 2 does not divide heads = 1"],
    );
}

// ---------------------------------------------------------------------------------------------
// Slice larger than target.

#[test]
fn slice_layers_larger_than_target() {
    fails_at(
        &edit(VALID, 19, "layers = 5"),
        "19:10",
        &[
            "measure.layers: the slice is larger than its target (5 > target.layers = 4)",
            "expected at most 4",
        ],
    );
}

#[test]
fn slice_batch_larger_than_target() {
    fails_at(
        &edit(VALID, 20, "batch = 33"),
        "20:9",
        &["measure.batch: the slice is larger than its target (33 > target.batch = 32)"],
    );
}

#[test]
fn slice_seq_len_larger_than_target() {
    fails_at(
        &edit(VALID, 21, "seq_len = 256"),
        "21:11",
        &["measure.seq_len: the slice is larger than its target (256 > target.seq_len = 128)"],
    );
}

#[test]
fn slice_width_larger_than_target() {
    fails_at(
        &edit(VALID, 21, "seq_len = 64\nvocab = 1001"),
        "22:9",
        &["measure.vocab: the slice is larger than its target (1001 > target.vocab = 1000)"],
    );
}

#[test]
fn mlp_slice_larger_than_target() {
    fails_at(
        &edit(MLP, 14, "batch = 16\nhidden_layers = 3"),
        "15:17",
        &[
            "measure.hidden_layers: the slice is larger than its target (3 > target.hidden_layers = 2)",
        ],
    );
}

#[test]
fn measure_dtypes_not_in_target() {
    fails_at(
        &edit(GEMM, 16, "dtypes = [\"f32\", \"f64\"]"),
        "16:18",
        &[
            "measure.dtypes: f64 is not among target.dtypes",
            "expected a subset of [f32]",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Choices.

#[test]
fn bad_norm() {
    fails_at(
        &edit(VALID, 12, "norm = \"batchnorm\""),
        "12:8",
        &["target.norm: expected one of layernorm, rmsnorm, found string \"batchnorm\""],
    );
}

#[test]
fn bad_activation() {
    fails_at(
        &edit(VALID, 13, "activation = \"relu\""),
        "13:14",
        &["target.activation: expected one of gelu, swiglu, found string \"relu\""],
    );
}

#[test]
fn bad_positions() {
    fails_at(
        &edit(VALID, 13, "activation = \"gelu\"\npositions = \"rotary\""),
        "14:13",
        &["target.positions: expected one of learned, none, found string \"rotary\""],
    );
}

#[test]
fn bad_kind() {
    fails_at(
        &edit(VALID, 2, "kind = \"cnn\""),
        "2:8",
        &["kind: expected one of gemm, mlp, transformer, found string \"cnn\""],
    );
}

#[test]
fn bad_dtype() {
    fails_at(
        &edit(GEMM, 6, "dtypes = [\"f32\", \"bf16\"]"),
        "6:18",
        &["target.dtypes[1]: expected one of f32, f64, found string \"bf16\""],
    );
}

// ---------------------------------------------------------------------------------------------
// Token counts and names.

#[test]
fn tokens_not_whole() {
    fails_at(
        &edit(VALID, 15, "tokens = 1.5"),
        "15:10",
        &[
            "target.tokens: expected a whole positive number",
            "found 1.5",
        ],
    );
}

#[test]
fn tokens_not_positive() {
    fails_at(
        &edit(VALID, 15, "tokens = -1e9"),
        "15:10",
        &[
            "target.tokens: expected a whole positive number",
            "found -1000000000.0",
        ],
    );
}

#[test]
fn tokens_too_many() {
    fails_at(
        &edit(VALID, 15, "tokens = 2e18"),
        "15:10",
        &["target.tokens: expected at most 1e18", "found 2e18"],
    );
}

#[test]
fn samples_not_a_number() {
    fails_at(
        &edit(MLP, 10, "samples = \"a million\""),
        "10:11",
        &[
            "target.samples: expected a whole positive number",
            "found string \"a million\"",
        ],
    );
}

#[test]
fn name_with_bad_characters() {
    fails_at(
        &edit(VALID, 1, "name = \"My Model/1\""),
        "1:8",
        &[
            "name: expected a name of 1 to 64 lowercase letters, digits",
            "found \"My Model/1\"",
        ],
    );
}

#[test]
fn multi_line_description() {
    fails_at(
        &edit(VALID, 3, "description = \"\"\"two\nlines\"\"\""),
        "3:15",
        &["description: expected a non-empty one-line string"],
    );
}
