//! Writing and reading report files.
//!
//! Writes are atomic: the JSON goes to a temporary file in the destination directory, is flushed
//! to disk, then linked into place. In `results/` the final name is
//! `<UTC timestamp>-<workload>.json` and is never overwritten: the link fails if the name
//! exists, and the next free `-2`, `-3`… suffix is taken, so two runs finishing in the same
//! second both keep their reports.

use super::schema::{Report, SCHEMA_MAJOR};
use chrono::{DateTime, Utc};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a report could not be read.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("could not read '{path}': {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("'{path}' is not a costbench report: {detail} (line {line}, column {column}){hint}")]
    Malformed {
        path: String,
        detail: String,
        line: usize,
        column: usize,
        hint: &'static str,
    },
    #[error(
        "'{path}': schema_version '{found}': expected \"major.minor\" with major {SCHEMA_MAJOR}"
    )]
    BadVersion { path: String, found: String },
    #[error(
        "'{path}' was written with report schema {found} by a newer costbench; this costbench reads schema {SCHEMA_MAJOR}.x: upgrade costbench to read it"
    )]
    FutureMajor { path: String, found: String },
}

/// Reads a report, accepting any minor version of this major and ignoring unknown keys.
pub fn load(path: &Path) -> Result<Report, LoadError> {
    let shown = path.display().to_string();
    let text = fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: shown.clone(),
        source,
    })?;
    parse(&text, &shown)
}

/// [`load`] from text; `origin` names the file in errors.
pub fn parse(text: &str, origin: &str) -> Result<Report, LoadError> {
    let malformed = |e: serde_json::Error| LoadError::Malformed {
        path: origin.to_string(),
        detail: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string(),
        line: e.line(),
        column: e.column(),
        hint: if e.is_eof() {
            ": the file ends early (truncated?)"
        } else {
            ""
        },
    };
    // Check the version before the shape, so a future major's new layout is reported as
    // such rather than as a confusing missing field.
    let value: serde_json::Value = serde_json::from_str(text).map_err(malformed)?;
    let found = value
        .get("schema_version")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let major = found
        .split_once('.')
        .and_then(|(major, minor)| minor.parse::<u32>().ok().and(major.parse::<u32>().ok()));
    match major {
        None => {
            return Err(LoadError::BadVersion {
                path: origin.to_string(),
                found,
            });
        }
        Some(m) if m > SCHEMA_MAJOR => {
            return Err(LoadError::FutureMajor {
                path: origin.to_string(),
                found,
            });
        }
        Some(m) if m < SCHEMA_MAJOR => {
            return Err(LoadError::BadVersion {
                path: origin.to_string(),
                found,
            });
        }
        Some(_) => {}
    }
    serde_json::from_str(text).map_err(malformed)
}

/// The report as pretty JSON with a trailing newline.
pub fn to_json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("reports serialise");
    s.push('\n');
    s
}

/// `<UTC timestamp>-<workload>.json`, the timestamp as `20261126T160012Z`.
pub fn file_name(created_at: &DateTime<Utc>, workload: &str) -> String {
    format!("{}-{workload}.json", created_at.format("%Y%m%dT%H%M%SZ"))
}

/// Space `check_writable` reserves to prove a report fits: larger than any report written so far
/// (a full gemm-sweep report is a few hundred KiB).
pub const RESERVE_BYTES: i64 = 1 << 20;

/// Fails early, before any measurement, if `dir` cannot hold a new report: creates it if needed,
/// then creates a probe file and reserves [`RESERVE_BYTES`] in it (`posix_fallocate`, so a full
/// disk answers now, not after a long measurement), and removes it.
pub fn check_writable(dir: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    fs::create_dir_all(dir)
        .with_context(|| format!("could not create the results directory '{}'", dir.display()))?;
    let probe = tempfile::Builder::new()
        .prefix(".costbench-write-check-")
        .tempfile_in(dir)
        .with_context(|| {
            format!(
                "the results directory '{}' is not writable (choose another with --results-dir or --output)",
                dir.display()
            )
        })?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor belongs to `probe`, open for writing, for this whole call.
        let err = unsafe { libc::posix_fallocate(probe.as_file().as_raw_fd(), 0, RESERVE_BYTES) };
        // EOPNOTSUPP / EINVAL: the filesystem cannot preallocate; the write itself will tell.
        if err != 0 && err != libc::EOPNOTSUPP && err != libc::EINVAL {
            anyhow::bail!(
                "the results directory '{}' cannot hold a report: {} (need about {} KiB free; choose another with --results-dir or --output)",
                dir.display(),
                std::io::Error::from_raw_os_error(err),
                RESERVE_BYTES / 1024
            );
        }
    }
    drop(probe);
    Ok(())
}

/// Writes `report` into `dir` under a new name (never replacing a file); returns the path.
pub fn save_new(
    report: &Report,
    dir: &Path,
    created_at: &DateTime<Utc>,
) -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    let base = file_name(created_at, &report.workload.name);
    let stem = base.trim_end_matches(".json").to_string();
    let tmp = write_temp(report, dir)?;
    for n in 1.. {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{stem}-{n}.json")
        };
        let dest = dir.join(&name);
        match fs::hard_link(tmp.path(), &dest) {
            Ok(()) => return Ok(dest),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("could not write '{}'", dest.display()));
            }
        }
    }
    unreachable!("some suffix is free")
}

/// Writes `report` to `path` atomically, replacing it if it exists (an explicit `--output`).
pub fn save_to(report: &Report, path: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = write_temp(report, dir)?;
    tmp.persist(path)
        .with_context(|| format!("could not write '{}'", path.display()))?;
    Ok(())
}

/// Writes `text` to `path` atomically, replacing it if it exists: a temporary file in the same
/// directory, flushed, then renamed, so a reader never sees half a file.
pub fn write_text(path: &Path, text: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    anyhow::ensure!(
        !path.is_dir(),
        "'{}' is a directory; expected a file path",
        path.display()
    );
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".costbench-out-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("could not write in '{}'", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("could not write '{}'", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("could not write '{}'", path.display()))?;
    Ok(())
}

/// The report in a temporary file of `dir` (removed when dropped unless linked or persisted).
fn write_temp(report: &Report, dir: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    use anyhow::Context;
    let mut tmp = tempfile::Builder::new()
        .prefix(".costbench-report-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("could not write in '{}'", dir.display()))?;
    tmp.write_all(to_json(report).as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("could not write in '{}'", dir.display()))?;
    Ok(tmp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::{self, SamplingChoice};
    use crate::measure::machine::MachineContext;
    use crate::report;
    use crate::workload::parse::parse_workload_with_memory;

    const TINY: &str = r#"
name = "tiny"
kind = "transformer"
description = "a tiny transformer for tests"
[target]
layers = 2
d_model = 32
heads = 4
d_ff = 64
vocab = 50
seq_len = 16
norm = "layernorm"
activation = "gelu"
tied_embeddings = true
tokens = 1e6
batch = 8
[measure]
layers = 1
batch = 2
seq_len = 8
"#;

    /// A real report of a tiny workload, measured for a fraction of a second.
    fn tiny_report() -> Report {
        let w = parse_workload_with_memory(TINY, "tiny.toml", u64::MAX).expect("valid");
        let choice = SamplingChoice {
            quick: true,
            max_time_s: Some(0.2),
            warmup_s: Some(0.0),
            ..Default::default()
        };
        let measured = execute::measure(&w, &choice, None, |_, _| {});
        report::build(
            report::workload_record(&w, "tiny.toml"),
            measured,
            MachineContext::detect(Some("test".into()), 1),
            None,
            &Utc::now(),
            &[],
        )
    }

    #[test]
    fn a_saved_report_loads_back_equal() {
        let dir = tempfile::tempdir().unwrap();
        let r = tiny_report();
        let path = save_new(&r, dir.path(), &Utc::now()).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(to_json(&back), to_json(&r));
        assert_eq!(back, r);
        // Nothing but the report is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn reports_of_the_same_second_never_overwrite_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let r = tiny_report();
        let at = Utc::now();
        let a = save_new(&r, dir.path(), &at).unwrap();
        let b = save_new(&r, dir.path(), &at).unwrap();
        let c = save_new(&r, dir.path(), &at).unwrap();
        assert_ne!(a, b);
        assert!(
            b.to_string_lossy().ends_with("-tiny-2.json"),
            "{}",
            b.display()
        );
        assert!(
            c.to_string_lossy().ends_with("-tiny-3.json"),
            "{}",
            c.display()
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn unknown_keys_are_ignored_and_an_older_minor_loads() {
        let r = tiny_report();
        let mut v = serde_json::to_value(&r).unwrap();
        v["a_field_from_the_future"] = serde_json::json!({"x": 1});
        v["measurement"]["another_new_field"] = serde_json::json!(3);
        v["schema_version"] = serde_json::json!("1.7");
        assert!(parse(&v.to_string(), "x.json").is_ok());
        // Optional fields a 1.0 file lacks (`cost` came in 1.1).
        let obj = v.as_object_mut().unwrap();
        obj.remove("warnings");
        obj.remove("roofline");
        obj.remove("cost");
        v["schema_version"] = serde_json::json!("1.0");
        let back = parse(&v.to_string(), "x.json").unwrap();
        assert!(back.warnings.is_empty());
    }

    #[test]
    fn truncated_corrupted_and_future_reports_are_refused_clearly() {
        let json = to_json(&tiny_report());
        let cut = &json[..json.len() / 2];
        let e = parse(cut, "r.json").unwrap_err().to_string();
        assert!(e.contains("'r.json' is not a costbench report"), "{e}");
        assert!(e.contains("truncated"), "{e}");

        let e = parse("{\"schema_version\": \"1.0\", ]", "r.json")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not a costbench report") && e.contains("line 1"),
            "{e}"
        );

        let current = format!("\"{}\"", crate::report::schema::schema_version());
        let e = parse(&json.replacen(&current, "\"2.0\"", 1), "r.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("schema 2.0 by a newer costbench"), "{e}");

        let e = parse("{\"schema_version\": \"one\"}", "r.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("schema_version 'one'"), "{e}");

        let e = parse("[1, 2]", "r.json").unwrap_err().to_string();
        assert!(e.contains("schema_version ''"), "{e}");

        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v.as_object_mut().unwrap().remove("machine");
        let e = parse(&v.to_string(), "r.json").unwrap_err().to_string();
        assert!(e.contains("missing field `machine`"), "{e}");
    }

    #[test]
    fn a_directory_or_missing_file_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(e.starts_with("could not read"), "{e}");
        let e = load(&dir.path().join("nope.json")).unwrap_err().to_string();
        assert!(e.starts_with("could not read"), "{e}");
    }

    #[test]
    fn save_to_replaces_atomically_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        fs::write(&path, "old").unwrap();
        save_to(&tiny_report(), &path).unwrap();
        assert!(load(&path).is_ok());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn the_committed_json_schema_matches_the_types() {
        let generated = crate::report::json_schema();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/report-schema.json");
        if std::env::var_os("COSTBENCH_UPDATE_SCHEMA").is_some() {
            fs::write(path, &generated).unwrap();
        }
        let committed = fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/report-schema.json is out of date: run `COSTBENCH_UPDATE_SCHEMA=1 cargo test --release json_schema`"
        );
    }
}
