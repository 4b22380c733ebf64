//! The workloads shipped inside the binary (the files of `workloads/`), and the rule that turns a
//! command-line argument into a workload: a bundled name, else a file path.

use crate::workload::parse::{
    WorkloadError, load_workload_with_memory, parse_workload, parse_workload_with_memory,
};
use crate::workload::spec::Workload;
use std::path::Path;

/// `(name, TOML text)` of every bundled workload, in the order `costbench list` shows them.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "gemm-sweep",
        include_str!("../../workloads/gemm-sweep.toml"),
    ),
    ("mlp-small", include_str!("../../workloads/mlp-small.toml")),
    ("gpt2-124m", include_str!("../../workloads/gpt2-124m.toml")),
    ("llama2-7b", include_str!("../../workloads/llama2-7b.toml")),
    ("llama3-8b", include_str!("../../workloads/llama3-8b.toml")),
    (
        "llama3-8b-long",
        include_str!("../../workloads/llama3-8b-long.toml"),
    ),
    (
        "mixtral-8x7b",
        include_str!("../../workloads/mixtral-8x7b.toml"),
    ),
];

/// The workload run when none is named.
pub const DEFAULT_WORKLOAD: &str = "gpt2-124m";

/// Names of the bundled workloads.
pub fn names() -> Vec<&'static str> {
    BUNDLED.iter().map(|(n, _)| *n).collect()
}

/// The TOML text of a bundled workload.
pub fn text(name: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

fn origin(name: &str) -> String {
    format!("workloads/{name}.toml (bundled)")
}

fn unknown(name: &str) -> WorkloadError {
    WorkloadError::UnknownWorkload {
        name: name.to_string(),
        known: names().into_iter().map(String::from).collect(),
        suggestion: suggest(name).map(str::to_owned),
    }
}

/// The bundled name `name` most likely meant: one within two edits (`gpt2-124`, `lama2-7b`),
/// else the only one that begins with it, ignoring case (`gpt2`, `Mixtral`).
fn suggest(name: &str) -> Option<&'static str> {
    let all = names();
    if let Some(near) = crate::diag::suggest::closest(name, &all) {
        return all.iter().copied().find(|n| *n == near);
    }
    let lower = name.to_lowercase();
    let mut starting = all
        .iter()
        .copied()
        .filter(|n| !lower.is_empty() && n.starts_with(lower.as_str()));
    match (starting.next(), starting.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// Parses and validates a bundled workload (pure: this machine's memory is not asked).
pub fn load_bundled(name: &str) -> Result<Workload, WorkloadError> {
    let text = text(name).ok_or_else(|| unknown(name))?;
    parse_workload(text, &origin(name))
}

/// [`load_bundled`], then checks that the slice fits in `available_bytes` (`u64::MAX` checks
/// nothing more).
pub fn load_bundled_with_memory(
    name: &str,
    available_bytes: u64,
) -> Result<Workload, WorkloadError> {
    let text = text(name).ok_or_else(|| unknown(name))?;
    parse_workload_with_memory(text, &origin(name), available_bytes)
}

/// A command-line workload argument: a bundled name if it is one; else a file, if it looks like
/// a path (contains a path separator, ends in `.toml`, or exists); else an error listing the
/// bundled names. Pure: for commands that run nothing (`estimate`); a run uses
/// [`resolve_for_run`].
pub fn resolve(arg: &str) -> Result<Workload, WorkloadError> {
    resolve_for_run(arg, u64::MAX)
}

/// [`resolve`], then checks that the measured slice fits in `available_bytes` (this machine's
/// available memory, [`crate::workload::available_memory_bytes`]), as `run` and `check` do.
pub fn resolve_for_run(arg: &str, available_bytes: u64) -> Result<Workload, WorkloadError> {
    if text(arg).is_some() {
        return load_bundled_with_memory(arg, available_bytes);
    }
    let path = Path::new(arg);
    let looks_like_path = arg.contains('/')
        || arg.contains(std::path::MAIN_SEPARATOR)
        || arg.ends_with(".toml")
        || path.exists();
    if !looks_like_path {
        return Err(unknown(arg));
    }
    load_workload_with_memory(path, available_bytes).map_err(|e| match e {
        // `gpt2-124m.toml` typed for the bundled `gpt2-124m`.
        WorkloadError::Unreadable { path: p, reason }
            if !path.exists()
                && path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| text(s).is_some()) =>
        {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            WorkloadError::Unreadable {
                path: p,
                reason: format!("{reason} (the bundled workload is named '{stem}', without .toml)"),
            }
        }
        e => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::spec::WorkloadKind;

    const GIB64: u64 = 64 << 30;

    #[test]
    fn every_bundled_workload_is_valid_and_named_after_its_file() {
        assert!(names().contains(&DEFAULT_WORKLOAD));
        for (name, text) in BUNDLED {
            let w = parse_workload_with_memory(text, &origin(name), GIB64)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(w.name, *name);
        }
    }

    #[test]
    fn bundled_files_match_the_design() {
        let get = |n| load_bundled_with_memory(n, GIB64).unwrap().kind;
        let WorkloadKind::Transformer(g) = get("gpt2-124m") else {
            panic!()
        };
        assert_eq!(
            crate::workload::plan::transformer_params(&g.target) / 1_000_000,
            124
        );
        assert_eq!(
            (g.slice.layers, g.slice.seq_len, g.slice_batch),
            (2, 256, 4)
        );
        let WorkloadKind::Transformer(l2) = get("llama2-7b") else {
            panic!()
        };
        // Touvron et al. 2023 round 6.74B to 7B.
        assert_eq!(
            crate::workload::plan::transformer_params(&l2.target) / 10_000_000,
            673
        );
        assert_eq!(l2.target_tokens, 2_000_000_000_000);
        let WorkloadKind::Transformer(l3) = get("llama3-8b") else {
            panic!()
        };
        assert_eq!(
            (l3.target.kv_heads, l3.target.vocab, l3.slice.vocab),
            (8, 128_256, 32_000)
        );
        // The long-context slice: s ≥ 4,096, attention most of a layer's executed FLOPs.
        let WorkloadKind::Transformer(long) = get("llama3-8b-long") else {
            panic!()
        };
        assert_eq!(long.target, l3.target);
        assert!(long.slice.seq_len >= 4096 && long.slice_batch == 1);
        let by = crate::workload::plan::transformer_step(&long.slice, 1).by_class();
        let attention = by[&crate::ops::OpClass::Attention].flops;
        let products = by[&crate::ops::OpClass::Matmul].flops;
        assert!(attention > products, "{attention} vs {products}");
        assert_eq!(
            crate::workload::plan::transformer_params(&l3.target) / 100_000_000,
            80
        );
        let WorkloadKind::Gemm(s) = get("gemm-sweep") else {
            panic!()
        };
        assert_eq!(s.shapes.len(), 6 + 6 + 4);
        assert_eq!(s.dtypes, vec![crate::workload::spec::Dtype::F32]);
        assert!(matches!(get("mlp-small"), WorkloadKind::Mlp(_)));
    }

    #[test]
    fn unknown_names_get_the_bundled_name_they_most_likely_meant() {
        for (typed, meant) in [
            ("gpt2", Some("gpt2-124m")),
            ("gpt2-124", Some("gpt2-124m")),
            ("lama2-7b", Some("llama2-7b")),
            ("Mixtral", Some("mixtral-8x7b")),
            ("llama", None), // llama2-7b or llama3-8b: no guess
            ("bert", None),
            ("", None),
        ] {
            assert_eq!(suggest(typed), meant, "{typed}");
            let e = unknown(typed).to_string();
            match meant {
                Some(m) => assert!(e.ends_with(&format!("(did you mean `{m}`?)")), "{e}"),
                None => assert!(!e.contains("did you mean"), "{e}"),
            }
        }
    }

    #[test]
    fn resolve_distinguishes_names_paths_and_unknowns() {
        assert!(resolve(DEFAULT_WORKLOAD).is_ok());
        // Only a run asks whether the slice fits.
        let e = resolve_for_run(DEFAULT_WORKLOAD, 1 << 20)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("workloads/gpt2-124m.toml (bundled):")
                && e.contains("measure: the measured slice needs about"),
            "{e}"
        );
        let e = resolve("gpt5").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown workload 'gpt5': not a bundled name (gemm-sweep, mlp-small, gpt2-124m, \
             llama2-7b, llama3-8b, llama3-8b-long, mixtral-8x7b) nor a file"
        );
        let e = resolve("gpt2-124m.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("could not read 'gpt2-124m.toml': no such file (the bundled"),
            "{e}"
        );
        let e = resolve("no/such/file.toml").unwrap_err().to_string();
        assert_eq!(e, "could not read 'no/such/file.toml': no such file");
    }
}
