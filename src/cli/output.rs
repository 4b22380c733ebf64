//! Where output goes: the terminal, a file, standard output; never over an input or a report.

use anyhow::{Context, Result};
use costbench::render::export;
use costbench::report::store;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Whether to colour the terminal table: standard output is a terminal and NO_COLOR is unset.
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
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

/// Writes an export in `format` (to `out`, or standard output) and the terminal table; returns
/// whether standard output already carries the export.
pub fn emit(
    format: export::Format,
    out: Option<&std::path::Path>,
    inputs: &[PathBuf],
    table: &dyn Fn(bool) -> String,
    text: &dyn Fn() -> Result<String>,
    figures: &dyn Fn() -> Vec<(String, costbench::report::schema::Metric)>,
    quiet: bool,
) -> Result<()> {
    use export::Format;
    if let Some(path) = out {
        guard_output(path, inputs, "-o")?;
    }
    let body = match format {
        Format::Table => None,
        Format::Markdown | Format::Json | Format::Html | Format::Csv => Some(text()?),
        Format::Bmf => Some(export::bmf(&figures())),
        Format::GithubActionBenchmark => {
            let dir = out.ok_or_else(|| {
                anyhow::anyhow!(
                    "--format github-action-benchmark writes two files ({} and {}): give the directory with -o DIR",
                    export::GAB_SMALLER,
                    export::GAB_BIGGER
                )
            })?;
            anyhow::ensure!(
                !dir.exists() || dir.is_dir(),
                "-o '{}' is a file; expected a directory for the two github-action-benchmark files",
                dir.display()
            );
            std::fs::create_dir_all(dir).with_context(|| {
                format!("-o: could not create the directory '{}'", dir.display())
            })?;
            let (smaller, bigger) = export::github_action_benchmark(&figures());
            for (name, text) in [(export::GAB_SMALLER, smaller), (export::GAB_BIGGER, bigger)] {
                let path = dir.join(name);
                guard_output(&path, inputs, "-o")?;
                write_file(&path, &text)?;
            }
            if !quiet {
                print!("{}", table(colour()));
            }
            return Ok(());
        }
    };
    match (body, out) {
        (None, None) => print!("{}", table(colour())),
        (None, Some(path)) => {
            write_file(path, &table(false))?;
            if !quiet {
                print!("{}", table(colour()));
            }
        }
        (Some(body), None) => print!("{body}"),
        (Some(body), Some(path)) => {
            write_file(path, &body)?;
            if !quiet {
                print!("{}", table(colour()));
            }
        }
    }
    Ok(())
}
