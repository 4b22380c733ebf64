//! Unit tests of workload parsing and validation (the command-line behaviour is tested in
//! `tests/workload_errors.rs`).

use crate::diag::toml_diag::position_in;
use crate::workload::parse::*;
use crate::workload::spec::*;

const GIB64: u64 = 64 << 30;

const GPT: &str = r#"
name = "tiny"
kind = "transformer"
description = "a tiny transformer"

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

fn parse(text: &str) -> Result<Workload, WorkloadError> {
    parse_workload_with_memory(text, "t.toml", GIB64)
}

/// The error of `text`, as displayed, asserting that it is one line.
fn err(text: &str) -> String {
    let e = parse(text).expect_err("expected an error").to_string();
    assert!(!e.contains('\n'), "not one line: {e}");
    e
}

fn replace(from: &str, to: &str) -> String {
    assert!(GPT.contains(from), "{from}");
    GPT.replacen(from, to, 1)
}

#[test]
fn valid_transformer_resolves_its_slice() {
    let w = parse(GPT).unwrap();
    let WorkloadKind::Transformer(t) = &w.kind else {
        panic!()
    };
    assert_eq!(t.target.kv_heads, 4);
    assert_eq!(t.target.positions, Positions::Learned);
    assert_eq!(t.target_tokens, 1_000_000_000);
    assert_eq!((t.slice.layers, t.slice.seq_len, t.slice_batch), (2, 64, 4));
    assert_eq!((t.slice.d_model, t.slice.vocab), (64, 1000));
    assert!(t.slice.tied_embeddings);
}

#[test]
fn positions_are_one_based_lines_and_character_columns() {
    assert_eq!(position_in("ab\ncé d", 7), Position { line: 2, column: 4 });
    assert_eq!(position_in("", 0), Position { line: 1, column: 1 });
    // An offset inside a multi-byte character is moved back to its start.
    assert_eq!(position_in("é", 1), Position { line: 1, column: 1 });
}

#[test]
fn zero_size_names_field_line_and_column() {
    let e = err(&replace("layers = 2", "layers = 0"));
    assert_eq!(
        e,
        "t.toml:20:10: measure.layers: expected a positive integer, found 0"
    );
}

#[test]
fn unknown_field_lists_the_allowed_ones() {
    let e = err(&replace("layers = 4", "layer = 4"));
    assert!(
        e.starts_with("t.toml:7:1: unknown field `layer` in [target]"),
        "{e}"
    );
    assert!(e.contains("did you mean `layers`?"), "{e}");
    assert!(e.contains("expected one of layers, d_model"), "{e}");
}

#[test]
fn wrong_type_says_what_was_expected() {
    let e = err(&replace("d_model = 64", "d_model = \"64\""));
    assert!(
        e.contains(":8:11: target.d_model: expected a positive integer, found string"),
        "{e}"
    );
    let e = err(&replace("tied_embeddings = true", "tied_embeddings = 1"));
    assert!(
        e.contains("target.tied_embeddings: expected true or false"),
        "{e}"
    );
}

#[test]
fn bad_enum_lists_the_values() {
    let e = err(&replace("\"gelu\"", "\"relu\""));
    assert!(
        e.contains("target.activation: expected one of gelu, swiglu, found string \"relu\""),
        "{e}"
    );
}

#[test]
fn missing_field_points_at_its_section() {
    let e = err(&replace("vocab = 1000\n", ""));
    assert!(
        e.starts_with("t.toml:6:1: target.vocab: required field is missing from [target]"),
        "{e}"
    );
    let e = err(&replace("batch = 4\n", ""));
    assert!(
        e.contains("measure.batch: required field is missing from [measure]"),
        "{e}"
    );
}

#[test]
fn heads_must_divide_d_model_in_target_and_slice() {
    let e = err(&replace("heads = 4", "heads = 5"));
    assert!(
        e.contains("target.heads: 5 heads do not divide target.d_model = 64"),
        "{e}"
    );
    let e = err(&replace("seq_len = 64", "seq_len = 64\nd_model = 50"));
    assert!(
        e.contains(
            "measure.d_model: in the measured slice, heads = 4 does not divide d_model = 50"
        ),
        "{e}"
    );
    // A multi-head target stays multi-head when only the slice's heads change.
    let w = parse(&replace("seq_len = 64", "seq_len = 64\nheads = 2")).unwrap();
    let WorkloadKind::Transformer(t) = &w.kind else {
        panic!()
    };
    assert_eq!((t.slice.heads, t.slice.kv_heads), (2, 2));
}

#[test]
fn kv_heads_must_divide_heads() {
    let e = err(&replace("heads = 4", "heads = 4\nkv_heads = 3"));
    assert!(
        e.contains("target.kv_heads: 3 key/value heads do not divide target.heads = 4"),
        "{e}"
    );
    let gqa = replace("heads = 4", "heads = 4\nkv_heads = 2");
    let e = err(&gqa.replacen("seq_len = 64", "seq_len = 64\nheads = 1", 1));
    assert!(
        e.contains("measure.heads: in the measured slice, kv_heads = 2 does not divide heads = 1"),
        "{e}"
    );
}

#[test]
fn slice_larger_than_target_names_both_values() {
    let e = err(&replace("batch = 4", "batch = 33"));
    assert!(
        e.contains("measure.batch: the slice is larger than its target (33 > target.batch = 32)"),
        "{e}"
    );
    let e = err(&replace("seq_len = 64", "seq_len = 129"));
    assert!(
        e.contains(
            "measure.seq_len: the slice is larger than its target (129 > target.seq_len = 128)"
        ),
        "{e}"
    );
}

#[test]
fn tokens_must_be_whole_positive_and_bounded() {
    for (tokens, want) in [
        ("2.5e0", "expected a whole positive number"),
        ("0", "expected a whole positive number"),
        ("-5", "found -5"),
        ("2e18", "expected at most 1e18"),
        ("nan", "found NaN"),
        ("\"lots\"", "found string \"lots\""),
    ] {
        let e = err(&replace("tokens = 1e9", &format!("tokens = {tokens}")));
        assert!(
            e.contains("target.tokens: ") && e.contains(want),
            "{tokens}: {e}"
        );
    }
    assert!(
        parse(&replace(
            "tokens = 1e9",
            "tokens = 1_000_000_000_000_000_000"
        ))
        .is_ok()
    );
}

#[test]
fn absurd_sizes_are_refused_without_overflow() {
    let e = err(&replace("d_ff = 256", "d_ff = 16777217"));
    assert!(
        e.contains("target.d_ff: expected at most 16777216 (2^24"),
        "{e}"
    );
    let e = err(&replace("vocab = 1000", "vocab = 99999999999999999999999"));
    assert!(e.contains("target.vocab: expected at most 16777216"), "{e}");
    // Every size at the limit: one target sequence would overflow u64 FLOP counters.
    let mut big = GPT.to_string();
    for k in [
        "layers = 4",
        "d_model = 64",
        "d_ff = 256",
        "vocab = 1000",
        "seq_len = 128",
        "batch = 32",
    ] {
        let key = k.split(' ').next().unwrap();
        big = big.replacen(k, &format!("{key} = 16777216"), 1);
    }
    let e = err(&big);
    assert!(
        e.contains("target.seq_len: training on one sequence of the target executes about"),
        "{e}"
    );
}

/// Found by fuzzing (`workload_parse` with the available memory unknown, `u64::MAX`, as
/// `available_memory_bytes` has it when the machine's memory cannot be read; minimised): a wide
/// model whose one target sequence fits the FLOP counters, measured 1,677,216 sequences at
/// a time. The memory check passed (petabytes < u64::MAX) and the slice's step plan
/// overflowed u64 (`kernels/flops.rs`). The slice's step is now checked like the target's.
#[test]
fn fuzz_slice_step_flops_with_unknown_memory() {
    let text = "name = \"e\"\nkind = \"transformer\"\ndescription = \"d\"\n[target]\n\
                layers=1\nd_model =1048576\nheads =1\nd_ff =1\nvocab = 1\nseq_len=1\n\
                norm =\"layernorm\"\nactivation =\"gelu\"\ntied_embeddings = true\n\
                tokens = 1\nbatch= 16777216\n[measure]\nbatch = 1677216";
    let e = parse_workload_with_memory(text, "t.toml", u64::MAX)
        .unwrap_err()
        .to_string();
    assert!(!e.contains('\n'), "{e}");
    assert!(
        e.starts_with(
            "t.toml:17:9: measure.batch: one measured step of the slice executes about \
             4.4e19 FLOPs, more than costbench's 64-bit counters hold (4.6e18 = 2^62); \
             expected a smaller measure.batch"
        ),
        "{e}"
    );
    // Parsing asks nothing about this machine: the step is refused whatever the memory, and
    // before any memory check.
    assert_eq!(err(text), e);
    assert_eq!(parse_workload(text, "t.toml").unwrap_err().to_string(), e);
    // A slice of the same model that fits the counters is accepted.
    let w = text.replace("batch = 1677216", "batch = 1000");
    assert!(parse_workload_with_memory(&w, "t.toml", u64::MAX).is_ok());
}

#[test]
fn memory_is_checked_against_what_is_available() {
    let e = parse_workload_with_memory(GPT, "t.toml", 1 << 20)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("t.toml:19:1: measure: the measured slice needs about"),
        "{e}"
    );
    assert!(e.contains("GiB available; reduce measure.layers"), "{e}");
    // Huge but countable: refused by memory, estimated in f64.
    let wide = replace("d_model = 64", "d_model = 1048576");
    let e = err(&wide);
    assert!(e.contains("measure: the measured slice needs about"), "{e}");
}

#[test]
fn name_and_description_rules() {
    let e = err(&replace("\"tiny\"", "\"Tiny Model\""));
    assert!(
        e.contains("t.toml:2:8: name: expected a name of 1 to 64 lowercase letters"),
        "{e}"
    );
    let e = err(&replace("description = \"a tiny transformer\"\n", ""));
    assert!(e.contains("description: required field is missing"), "{e}");
    let e = err(&replace("kind = \"transformer\"\n", ""));
    assert!(
        e.contains(
            "kind: required field is missing; expected kind = one of gemm, mlp, transformer"
        ),
        "{e}"
    );
    let e = err(&replace("\"transformer\"", "\"cnn\""));
    assert!(
        e.contains(
            "t.toml:3:8: kind: expected one of gemm, mlp, transformer, found string \"cnn\""
        ),
        "{e}"
    );
}

#[test]
fn syntax_errors_and_empty_files() {
    let e = err("name = \"x\"\n[target\n");
    assert!(e.starts_with("t.toml:2:8: invalid TOML: "), "{e}");
    let e = err("[measure]\nbatch = 1\n[measure]\nbatch = 2\n");
    assert!(e.contains("invalid TOML: duplicate key `measure`"), "{e}");
    for empty in ["", "  \n\n", "# only a comment\n"] {
        assert!(err(empty).starts_with("t.toml: the file is empty"));
    }
    let e = err("\u{0}\u{1}binary");
    assert!(
        e.starts_with("t.toml:1:") && e.contains(": invalid TOML: "),
        "{e}"
    );
}

const MLP: &str = r#"
name = "m"
kind = "mlp"
description = "d"
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

#[test]
fn mlp_rules() {
    let w = parse(MLP).unwrap();
    let WorkloadKind::Mlp(m) = &w.kind else {
        panic!()
    };
    assert_eq!(
        (m.slice.hidden_layers, m.slice_batch, m.target_samples),
        (2, 16, 1_000_000)
    );
    let e = err(&MLP.replace("batch = 16", "batch = 16\nhidden_layers = 3"));
    assert!(e.contains("measure.hidden_layers: the slice is larger than its target (3 > target.hidden_layers = 2)"), "{e}");
    let e = err(&MLP.replace("[measure]\nbatch = 16\n", ""));
    assert!(
        e.contains("measure: required section [measure] is missing"),
        "{e}"
    );
    let e = err(&MLP.replace("d_in = 32", "d_in = 32\nheads = 2"));
    assert!(
        e.contains("unknown field `heads` in [target]; expected one of d_in,"),
        "{e}"
    );
    let e = parse_workload_with_memory(MLP, "m.toml", 1000)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("reduce measure.batch, measure.hidden_layers or measure.d_hidden"),
        "{e}"
    );
}

const GEMM: &str = r#"
name = "g"
kind = "gemm"
description = "d"
[target]
dtypes = ["f32", "f64"]
square = [64, 128]
[[target.shapes]]
label = "qkv"
m = 16
n = 48
k = 16
[[target.shapes]]
m = 8
n = 8
k = 8
batch = 3
[measure]
dtypes = ["f32"]
"#;

#[test]
fn gemm_rules() {
    let w = parse(GEMM).unwrap();
    let WorkloadKind::Gemm(g) = &w.kind else {
        panic!()
    };
    assert_eq!(g.dtypes, vec![Dtype::F32]);
    assert_eq!(g.shapes.len(), 4);
    assert_eq!(g.shapes[2].label.as_deref(), Some("qkv"));
    assert_eq!(g.shapes[3].batch, 3);
    let e = err(&GEMM.replace("m = 8\n", ""));
    assert!(
        e.contains(
            ":13:1: target.shapes[1].m: required field is missing from [[target.shapes]] entry 1"
        ),
        "{e}"
    );
    let e = err(&GEMM.replace("k = 8", "k = 8\nkk = 1"));
    assert!(
        e.contains(":17:1: unknown field `kk` in [[target.shapes]] entry 1"),
        "{e}"
    );
    let e = err(&GEMM.replace("[64, 128]", "[64, 0]"));
    assert!(
        e.contains(":7:15: target.square[1]: expected a positive integer, found 0"),
        "{e}"
    );
    let e = err(&GEMM.replace("[\"f32\", \"f64\"]", "[\"f32\", \"f16\"]"));
    assert!(
        e.contains("target.dtypes[1]: expected one of f32, f64, found string \"f16\""),
        "{e}"
    );
    let e = err(&GEMM.replace("[\"f32\"]", "[]"));
    assert!(
        e.contains("measure.dtypes: expected at least one of f32, f64"),
        "{e}"
    );
    let e = err(&GEMM
        .replace("square = [64, 128]\n", "")
        .replace("[[target.shapes]]", "[[nope]]"));
    assert!(e.contains("unknown field `nope` at the top level"), "{e}");
    let e =
        err("name = \"g\"\nkind = \"gemm\"\ndescription = \"d\"\n[target]\ndtypes = [\"f32\"]\n");
    assert!(e.contains(":4:1: target: no product shapes"), "{e}");
    let e = err(&GEMM.replace("[64, 128]", "[64, 1048576]"));
    assert!(
        e.contains(
            ":7:15: target.square[1]: the product 1048576×1048576×1048576 in f32 needs about \
             12288 GiB of memory but this machine has 64.0 GiB available"
        ),
        "{e}"
    );
    // A product too large to count is refused by parsing, whatever the memory.
    let e = parse_workload(&GEMM.replace("[64, 128]", "[64, 16777216]"), "t.toml")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "t.toml:7:15: target.square[1]: the product 16777216×16777216×16777216 executes about \
         9.4e21 FLOPs, more than costbench's 64-bit counters hold (4.6e18 = 2^62); expected \
         smaller m, n, k or batch"
    );
    // Products that each can be counted, but not all together.
    let many = format!("[{}]", ["1048576"; 8].join(", "));
    let e = parse_workload(&GEMM.replace("[64, 128]", &many), "t.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "t.toml:5:1: target: the 10 products in f32 together would execute about 1.8e19 \
             FLOPs, more than costbench's 64-bit counters hold (1.8e19 = 2^64)"
        ),
        "{e}"
    );
}

#[test]
fn measure_dtypes_must_be_a_subset() {
    let text = GEMM
        .replace("dtypes = [\"f32\", \"f64\"]", "dtypes = [\"f32\"]")
        .replace(
            "[measure]\ndtypes = [\"f32\"]",
            "[measure]\ndtypes = [\"f64\"]",
        );
    let e = err(&text);
    assert!(
        e.contains(
            ":19:11: measure.dtypes: f64 is not among target.dtypes; expected a subset of [f32]"
        ),
        "{e}"
    );
}

proptest::proptest! {
    /// Arbitrary text never panics, and any error is one line naming the origin.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        if let Err(e) = parse(&text) {
            let s = e.to_string();
            proptest::prop_assert!(!s.contains('\n'));
            proptest::prop_assert!(s.starts_with("t.toml"));
        }
    }

    /// Any integer in any size field of a valid file is either accepted or refused with a
    /// one-line error; never a panic or an overflow.
    #[test]
    fn any_size_never_panics(
        field in proptest::sample::select(vec![
            "layers = 4", "d_model = 64", "heads = 4", "d_ff = 256", "vocab = 1000",
            "seq_len = 128", "batch = 32", "layers = 2", "batch = 4", "seq_len = 64",
        ]),
        value in proptest::prop_oneof![
            proptest::num::i64::ANY,
            0i64..=(1 << 25),
            proptest::sample::select(vec![1i64 << 24, (1 << 24) + 1, 1 << 20, 1 << 16]),
        ],
    ) {
        let key = field.split(' ').next().unwrap();
        let text = GPT.replacen(field, &format!("{key} = {value}"), 1);
        if let Err(e) = parse_workload_with_memory(&text, "t.toml", u64::MAX) {
            proptest::prop_assert!(!e.to_string().contains('\n'));
        }
    }
}
