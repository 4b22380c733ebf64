//! The module graph's direction, checked on every `cargo test`: the top-level modules of `src/`
//! form layers, and a module may only use modules of its own layer or below, with no cycle
//! among them. `docs/design.md` draws the same picture; this test keeps it true.
//!
//! The check reads the source text: every `crate::name` / `costbench::name` path outside test
//! code (`#[cfg(test)]` items and the files they declare) is an edge from the file's top-level
//! module to `name`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers, bottom first. A module may use its own layer and the ones before it.
const LAYERS: &[&[&str]] = &[
    // The shared vocabulary and helpers: depend on nothing in the crate.
    &["ops", "stats", "diag", "units"],
    // CPU compute.
    &["kernels"],
    // Inputs and the training steps built from the kernels.
    &["workload", "catalog", "train"],
    // Measuring on this CPU; modelling accelerators.
    &["measure", "model"],
    // Composing, comparing and rendering results.
    &["report", "compare", "render"],
    // The library API and the command line.
    &["api", "cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/model/time.rs` → `model`), or None for the
/// crate roots.
fn top_module(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// The file's text without `#[cfg(test)]` items, and the names of test-only modules it declares
/// (`#[cfg(test)] mod tests;`).
fn without_tests(text: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut declared = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let semi = after.find(';').unwrap_or(usize::MAX);
        let brace = after.find('{').unwrap_or(usize::MAX);
        if semi < brace {
            let item = after[..semi].trim();
            if let Some(name) = item.strip_prefix("mod ") {
                declared.push(name.trim().to_string());
            }
            rest = &after[semi + 1..];
        } else if brace != usize::MAX {
            let mut depth = 0usize;
            let mut end = after.len();
            for (i, c) in after[brace..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = brace + i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            rest = &after[end..];
        } else {
            rest = "";
        }
    }
    out.push_str(rest);
    (out, declared)
}

/// Every module path segment right after `crate::` or `costbench::` (and inside
/// `crate::{a, b::c}` groups).
fn referenced(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for root in ["crate::", "costbench::"] {
        let mut rest = text;
        while let Some(at) = rest.find(root) {
            let before = rest[..at].chars().last();
            rest = &rest[at + root.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for part in group[..end].split(',') {
                    let name: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        found.insert(name);
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        }
    }
    found
}

/// Edges between top-level modules: from → {to}.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    let mut texts = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let (code, declared) = without_tests(&text);
        let dir = if path
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs" || n == "main.rs")
        {
            path.parent().unwrap().to_path_buf()
        } else {
            path.with_extension("")
        };
        for name in declared {
            test_only.insert(dir.join(format!("{name}.rs")));
            test_only.insert(dir.join(&name).join("mod.rs"));
        }
        texts.push((path.clone(), code));
    }
    let modules: BTreeSet<String> = files.iter().filter_map(|p| top_module(p)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, code) in texts {
        if test_only.contains(&path) {
            continue;
        }
        let Some(from) = top_module(&path) else {
            continue;
        };
        let entry = edges.entry(from.clone()).or_default();
        for to in referenced(&code) {
            if to != from && modules.contains(&to) {
                entry.insert(to);
            }
        }
    }
    edges
}

#[test]
fn every_top_level_module_has_a_layer() {
    let unplaced: Vec<String> = graph()
        .into_keys()
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules without a layer in tests/architecture.rs (and docs/design.md): {unplaced:?}"
    );
}

#[test]
fn modules_only_use_their_own_layer_or_below() {
    let mut upward = Vec::new();
    for (from, tos) in graph() {
        for to in tos {
            if let (Some(a), Some(b)) = (layer_of(&from), layer_of(&to))
                && b > a
            {
                upward.push(format!("{from} (layer {a}) → {to} (layer {b})"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "uses that point up the layers:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_module_graph_has_no_cycle() {
    let g = graph();
    // Depth-first search with colours; a grey node reached again closes a cycle.
    fn visit(
        node: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(1) => {
                let start = path.iter().position(|p| p == node).unwrap();
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            Some(2) => return None,
            _ => {}
        }
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in g.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, g, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in g.keys() {
        if let Some(cycle) = visit(node, &g, &mut state, &mut Vec::new()) {
            panic!("module cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_entry_point_is_only_an_entry_point() {
    let main = std::fs::read_to_string(src().join("main.rs")).unwrap();
    let lines = main.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(
        lines <= 60,
        "src/main.rs has {lines} non-blank lines; the command line belongs in src/cli/"
    );
}

/// Prints the graph (`cargo test --test architecture -- --nocapture print`), for docs/design.md.
#[test]
fn print_the_module_graph() {
    for (from, tos) in graph() {
        let tos: Vec<&str> = tos.iter().map(String::as_str).collect();
        println!("{from} → {}", tos.join(", "));
    }
}

#[test]
fn the_checker_sees_test_code_apart_and_group_imports() {
    let (code, declared) = without_tests(
        "use crate::a;\n#[cfg(test)]\nmod tests;\n#[cfg(test)]\nmod inline { use crate::b; }\nfn f() { crate::c::g(); }\n",
    );
    assert_eq!(declared, ["tests"]);
    let refs = referenced(&code);
    assert!(
        refs.contains("a") && refs.contains("c") && !refs.contains("b"),
        "{refs:?}"
    );
    let refs = referenced("use crate::{x::Y, z};");
    assert_eq!(refs, BTreeSet::from(["x".to_string(), "z".to_string()]));
}
