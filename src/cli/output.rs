//! Where output goes: the terminal, a file, standard output; never over an input, a report or
//! anything that is not a regular file, and never two outputs of one command into one file.

use crate::diag::show::short;
use crate::diag::write::{self, Found};
use crate::render::export::table::Table;
use crate::render::export::{Exporter, Output};
use crate::report::store;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Whether to colour the terminal table (`--color`, `cli/color.rs`).
pub fn colour() -> bool {
    super::color::stdout_enabled()
}

/// Writes `text` to `path` atomically (a temporary file in the same directory, then renamed).
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    store::write_text(path, text)
}

/// `path` for a message: control characters escaped, a long name cut.
pub fn shown(path: &Path) -> String {
    short(&path.display().to_string())
}

/// One file a command is about to write.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The option that named it (`-o`, `--svg`, …), for messages.
    pub flag: &'a str,
    pub path: &'a Path,
    /// Whether an existing costbench report there may be replaced (`run --force`, a baseline).
    pub may_replace_report: bool,
    /// The flag that would allow replacing a report, named in the refusal (`--force`).
    pub override_flag: Option<&'a str>,
}

impl<'a> Target<'a> {
    /// An output that must not replace a report.
    pub fn new(flag: &'a str, path: &'a Path) -> Self {
        Target {
            flag,
            path,
            may_replace_report: false,
            override_flag: None,
        }
    }
}

/// Whether `a` and `b` are the same file (device and inode; symbolic links followed).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        matches!(
            (std::fs::metadata(a), std::fs::metadata(b)),
            (Ok(x), Ok(y)) if x.dev() == y.dev() && x.ino() == y.ino()
        )
    }
    #[cfg(not(unix))]
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Where a write to `path` lands, as an absolute path without symbolic links as far as it
/// exists: two outputs with the same destination are one file.
fn destination(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (write::parent_dir(path).canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

/// Refuses an output path that would replace one of the `inputs` or any costbench report, or
/// that is not a regular file: an export must never destroy a measurement or a device.
pub fn guard_output(path: &Path, inputs: &[PathBuf], flag: &str) -> Result<()> {
    guard_outputs(&[Target::new(flag, path)], inputs)
}

/// Checks every output of one command before anything is written (for `run`, before anything is
/// measured), looking at what is there without reading more than a small prefix of it:
///
/// - what exists at an output path must be a regular file (symbolic links followed): a
///   directory, a device, a FIFO, a socket or a dangling link is refused, never opened;
/// - no output may be one of the `inputs` (the same file, also through another name);
/// - no output may be a costbench report ([`store::looks_like_report`]: at most 64 KiB read),
///   unless the target says it may;
/// - no two outputs may be the same file.
pub fn guard_outputs(targets: &[Target], inputs: &[PathBuf]) -> Result<()> {
    for t in targets {
        let p = shown(t.path);
        let flag = t.flag;
        let found = write::what_is_at(t.path)
            .with_context(|| format!("{flag}: could not look at '{p}'"))?;
        match found {
            Found::Nothing => {}
            Found::Directory => anyhow::bail!("{flag} '{p}' is a directory; expected a file path"),
            Found::Other(kind) => anyhow::bail!(
                "{flag} '{p}' is {kind}, not a regular file; expected a new file path (costbench writes only regular files)"
            ),
            Found::File(_) => {
                anyhow::ensure!(
                    !inputs.iter().any(|i| same_file(i, t.path)),
                    "{flag} '{p}' is one of the files being read; expected a new output path (inputs are never overwritten)"
                );
                if !t.may_replace_report {
                    let report = store::looks_like_report(t.path).with_context(|| {
                        format!("{flag}: could not read '{p}' to check that it is not a report")
                    })?;
                    let hint = t
                        .override_flag
                        .map(|f| format!("; {f} replaces it"))
                        .unwrap_or_default();
                    anyhow::ensure!(
                        !report,
                        "{flag} '{p}' is a costbench report; expected a new output path (reports are never overwritten{hint})"
                    );
                }
            }
        }
    }
    for (i, a) in targets.iter().enumerate() {
        if let Some(b) = targets[..i]
            .iter()
            .find(|b| destination(b.path) == destination(a.path))
        {
            let flags = if a.flag == b.flag {
                format!("two {} outputs", a.flag)
            } else {
                format!("{} and {}", b.flag, a.flag)
            };
            anyhow::bail!(
                "{flags} name the same file '{}'; expected a different path for each output",
                shown(a.path)
            );
        }
    }
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
    let terminal = || -> Result<()> {
        if !quiet && let Output::Text(t) = export(&Table { color: colour() })? {
            print!("{t}");
        }
        Ok(())
    };
    match (export(chosen)?, out) {
        (Output::Text(body), None) => print!("{body}"),
        (Output::Text(body), Some(path)) => {
            guard_output(path, inputs, "-o")?;
            write_file(path, &body)?;
            terminal()?;
        }
        (Output::Files(files), None) => {
            // Checked before reading the inputs (`report::check_output`); kept for any format
            // that writes files.
            let names: Vec<&str> = files.iter().map(|(name, _)| *name).collect();
            return Err(super::usage::usage(format!(
                "--format {} writes {} files ({}): give the directory with -o DIR",
                chosen.name(),
                files.len(),
                names.join(" and ")
            )));
        }
        (Output::Files(files), Some(dir)) => {
            let p = shown(dir);
            let not_a_dir = |what: String| {
                anyhow::anyhow!(
                    "-o '{p}' is {what}; expected a directory for the {} files",
                    chosen.name()
                )
            };
            match write::what_is_at(dir).with_context(|| format!("-o: could not look at '{p}'"))? {
                Found::Directory | Found::Nothing => {}
                Found::File(_) => return Err(not_a_dir("a file".into())),
                Found::Other(kind) => return Err(not_a_dir(kind)),
            }
            let paths: Vec<PathBuf> = files.iter().map(|(name, _)| dir.join(name)).collect();
            let targets: Vec<Target> = paths.iter().map(|p| Target::new("-o", p)).collect();
            guard_outputs(&targets, inputs)?;
            std::fs::create_dir_all(dir)
                .with_context(|| format!("-o: could not create the directory '{p}'"))?;
            for (path, (_, text)) in paths.iter().zip(files) {
                write_file(path, &text)?;
            }
            terminal()?;
        }
    }
    Ok(())
}
