//! Where output goes: the terminal, a file, standard output; never over an input or a report.

use anyhow::{Context, Result};
use costbench::render::export::table::Table;
use costbench::render::export::{Exporter, Output};
use costbench::report::store;
use std::path::{Path, PathBuf};

/// Whether to colour the terminal table (`--color`, `cli/color.rs`).
pub fn colour() -> bool {
    super::color::stdout_enabled()
}

/// Writes `text` to `path` atomically (a temporary file in the same directory, then renamed).
pub fn write_file(path: &std::path::Path, text: &str) -> Result<()> {
    store::write_text(path, text)
}

/// Refuses an output path that would replace one of the `inputs` or any costbench report: an
/// export must never destroy a measurement.
pub fn guard_output(path: &std::path::Path, inputs: &[PathBuf], flag: &str) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let same =
        |p: &PathBuf| matches!((p.canonicalize(), path.canonicalize()), (Ok(a), Ok(b)) if a == b);
    anyhow::ensure!(
        !inputs.iter().any(same),
        "{flag} '{}' is one of the reports being read; expected a new output path (inputs are never overwritten)",
        path.display()
    );
    anyhow::ensure!(
        path.is_dir() || store::load(path).is_err(),
        "{flag} '{}' is a costbench report; expected a new output path (reports are never overwritten)",
        path.display()
    );
    Ok(())
}

/// Writes `chosen`'s export of the input (`export` applies an exporter to it: the reports or the
/// comparison) to `out`, or to standard output, and the terminal table beside a file unless
/// `quiet`. Files formats (github-action-benchmark) need `out` as their directory.
pub fn emit(
    chosen: &dyn Exporter,
    export: &dyn Fn(&dyn Exporter) -> Result<Output>,
    out: Option<&Path>,
    inputs: &[PathBuf],
    quiet: bool,
) -> Result<()> {
    if let Some(path) = out {
        guard_output(path, inputs, "-o")?;
    }
    let terminal = || -> Result<()> {
        if !quiet && let Output::Text(t) = export(&Table { color: colour() })? {
            print!("{t}");
        }
        Ok(())
    };
    match (export(chosen)?, out) {
        (Output::Text(body), None) => print!("{body}"),
        (Output::Text(body), Some(path)) => {
            write_file(path, &body)?;
            terminal()?;
        }
        (Output::Files(files), None) => {
            let names: Vec<&str> = files.iter().map(|(name, _)| *name).collect();
            anyhow::bail!(
                "--format {} writes {} files ({}): give the directory with -o DIR",
                chosen.name(),
                files.len(),
                names.join(" and ")
            );
        }
        (Output::Files(files), Some(dir)) => {
            anyhow::ensure!(
                !dir.exists() || dir.is_dir(),
                "-o '{}' is a file; expected a directory for the {} files",
                dir.display(),
                chosen.name()
            );
            std::fs::create_dir_all(dir).with_context(|| {
                format!("-o: could not create the directory '{}'", dir.display())
            })?;
            for (name, text) in files {
                let path = dir.join(name);
                guard_output(&path, inputs, "-o")?;
                write_file(&path, &text)?;
            }
            terminal()?;
        }
    }
    Ok(())
}
