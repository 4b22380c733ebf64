//! Writing and reading report files.
//!
//! Writes are atomic ([`crate::diag::write`]): the JSON goes to a temporary file in the
//! destination directory, is flushed to disk, then linked into place. In `results/` the final
//! name is `<UTC timestamp>-<workload>.json` and is never overwritten: the link fails if the name
//! exists, and the next free `-2`, `-3`… suffix is taken, so two runs finishing in the same
//! second both keep their reports.

use super::schema::{Report, SCHEMA_MAJOR};
use crate::diag::toml_diag::one_line;
use crate::diag::write;
use chrono::{DateTime, Utc};
use std::fs;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a report could not be read.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("could not read '{path}': {reason}")]
    Io { path: String, reason: String },
    #[error("'{path}' is not a costbench report: {detail}")]
    Invalid { path: String, detail: String },
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

/// Largest report file read, in bytes (256 MiB), so that `report /dev/zero` or a planted huge
/// file stops there instead of filling memory. What a run writes is far smaller: a sampled case
/// keeps at most `max_samples` (10,000) + [`crate::measure::record::WARMUP_KEPT`] (1,000) step
/// times, at most 40 bytes each in pretty JSON; a training step adds a loss per sample and a
/// series per op class (9), about 110,000 numbers in all (under 5 MB), and a sweep keeps 11,000
/// per product (under 0.45 MB). 256 MiB holds a step report 50 times over and a sweep of about
/// 600 products each sampled 10,000 times.
pub const MAX_REPORT_BYTES: u64 = 256 << 20;

/// Reads a report, accepting any minor version of this major and ignoring unknown keys.
pub fn load(path: &Path) -> Result<Report, LoadError> {
    let shown = one_line(&path.display().to_string());
    let io = |reason: String| LoadError::Io {
        path: shown.clone(),
        reason,
    };
    if path.is_dir() {
        return Err(io("it is a directory; expected a report file".into()));
    }
    let bytes = crate::diag::read::bounded(path, MAX_REPORT_BYTES, "costbench report")
        .map_err(|e| io(e.reason()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| io("not UTF-8 text; a costbench report is UTF-8 JSON".into()))?;
    parse(&text, &shown)
}

/// [`load`] from text; `origin` names the file in errors. Every error is one line: text taken
/// from the file (a version, a key, a string serde quotes) has its line breaks escaped.
pub fn parse(text: &str, origin: &str) -> Result<Report, LoadError> {
    let origin = &one_line(origin);
    let malformed = |e: serde_json::Error| LoadError::Malformed {
        path: origin.to_string(),
        detail: one_line(e.to_string().split(" at line ").next().unwrap_or_default()),
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
    let invalid = |detail: String| LoadError::Invalid {
        path: origin.to_string(),
        detail: one_line(&detail),
    };
    let kind = match &value {
        serde_json::Value::Object(_) => None,
        serde_json::Value::Array(_) => Some("an array"),
        serde_json::Value::Null => Some("null"),
        serde_json::Value::Bool(_) => Some("a boolean"),
        serde_json::Value::Number(_) => Some("a number"),
        serde_json::Value::String(_) => Some("a string"),
    };
    if let Some(kind) = kind {
        return Err(invalid(format!(
            "expected a JSON object with a schema_version, found {kind}"
        )));
    }
    if value.get("schema_version").is_none() {
        return Err(invalid(
            "schema_version: missing; expected \"major.minor\", e.g. \"1.2\"".into(),
        ));
    }
    let version = value
        .get("schema_version")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let major = version
        .split_once('.')
        .and_then(|(major, minor)| minor.parse::<u32>().ok().and(major.parse::<u32>().ok()));
    let found = one_line(version);
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
    // serde_path_to_error names the field a type error is in (`metrics[0].estimate.point`).
    let measurement = value.get("measurement").cloned();
    let report: Report = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // `measurement` is an internally tagged enum, whose content serde buffers, so the path
        // stops there: deserialise the variant on its own to name the field inside it.
        let deeper = (path == "measurement")
            .then(|| measurement.and_then(|m| measurement_error(&m)))
            .flatten();
        invalid(deeper.unwrap_or_else(|| format!("{path}: {inner}")))
    })?;
    validate(&report).map_err(invalid)?;
    Ok(report)
}

/// The field-level error inside a `measurement` object, e.g. `measurement.samples_s[0]: …`.
fn measurement_error(m: &serde_json::Value) -> Option<String> {
    use super::schema::{StepMeasurement, SweepMeasurement};
    fn inner<T: serde::de::DeserializeOwned>(m: &serde_json::Value) -> Option<String> {
        let e = serde_path_to_error::deserialize::<_, T>(m.clone()).err()?;
        let path = e.path().to_string();
        Some(format!("measurement.{path}: {}", e.into_inner()))
    }
    match m.get("type").and_then(|t| t.as_str()) {
        Some("step") => inner::<StepMeasurement>(m),
        Some("sweep") => inner::<SweepMeasurement>(m),
        _ => None,
    }
}

/// Longest plausible sampled time, seconds (a step of a week): a larger figure is corruption.
const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// The checks of meaning a well-typed report must pass before anything compares or renders it:
/// sampled times positive, finite and below [`MAX_SECONDS`]; metric values finite and not
/// negative (times positive and plausible). `Err` names the field and what was expected.
pub fn validate(r: &Report) -> Result<(), String> {
    use super::schema::Measurement;
    let times = |field: &str, xs: &[f64]| -> Result<(), String> {
        match xs
            .iter()
            .enumerate()
            .find(|(_, x)| !(x.is_finite() && **x >= 0.0 && **x <= MAX_SECONDS))
        {
            Some((i, x)) => Err(format!(
                "{field}[{i}]: expected a number of seconds from 0 to {MAX_SECONDS:e}, found {x}"
            )),
            None => Ok(()),
        }
    };
    match &r.measurement {
        Measurement::Step(m) => {
            times("measurement.samples_s", &m.samples_s)?;
            not_all_zero(&m.samples_s, "measurement.samples_s")?;
            for (i, c) in m.op_classes.iter().enumerate() {
                times(
                    &format!("measurement.op_classes[{i}].samples_s"),
                    &c.samples_s,
                )?;
            }
        }
        Measurement::Sweep(s) => {
            for (i, c) in s.cases.iter().enumerate() {
                times(&format!("measurement.cases[{i}].samples_s"), &c.samples_s)?;
                not_all_zero(&c.samples_s, &format!("measurement.cases[{i}].samples_s"))?;
            }
        }
    }
    for (i, m) in r.metrics.iter().enumerate() {
        let p = m.estimate.point;
        let ok = if m.unit == "s" {
            p.is_finite() && p > 0.0 && p <= MAX_SECONDS
        } else {
            // NaN (null) is allowed: a figure that could not be computed.
            p.is_nan() || (p.is_finite() && p >= 0.0)
        };
        if !ok {
            let what = if m.unit == "s" {
                format!("a positive number of seconds up to {MAX_SECONDS:e}")
            } else {
                format!("a finite number ≥ 0 ({})", m.unit)
            };
            return Err(format!(
                "metrics[{i}] ({}).estimate.point: expected {what}, found {p}",
                m.id
            ));
        }
    }
    Ok(())
}

/// A sampled step takes time: at least one sample of a step or product must be positive.
fn not_all_zero(xs: &[f64], field: &str) -> Result<(), String> {
    if !xs.is_empty() && xs.iter().all(|&x| x <= 0.0) {
        return Err(format!(
            "{field}: expected positive step times, found only zeros"
        ));
    }
    Ok(())
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
///
/// `flag` names the option the directory came from (`--results-dir`, `--output`, …) in errors.
pub fn check_writable(dir: &Path, flag: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !dir.exists() || dir.is_dir(),
        "{flag}: '{}' is a file; expected a directory to hold the report",
        dir.display()
    );
    if let Err(e) = fs::create_dir_all(dir) {
        anyhow::bail!(
            "{flag}: could not create the directory '{}': {e}",
            dir.display()
        );
    }
    let probe = match tempfile::Builder::new()
        .prefix(".costbench-write-check-")
        .tempfile_in(dir)
    {
        Ok(p) => p,
        Err(e) => anyhow::bail!(
            "{flag}: the directory '{}' is not writable: {e}",
            dir.display()
        ),
    };
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor belongs to `probe`, open for writing, for this whole call.
        let err = unsafe { libc::posix_fallocate(probe.as_file().as_raw_fd(), 0, RESERVE_BYTES) };
        // EOPNOTSUPP / EINVAL: the filesystem cannot preallocate; the write itself will tell.
        if err != 0 && err != libc::EOPNOTSUPP && err != libc::EINVAL {
            anyhow::bail!(
                "{flag}: the directory '{}' cannot hold a report: {} (need about {} KiB free)",
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
    let base = file_name(created_at, &report.workload.name);
    let stem = base.trim_end_matches(".json").to_string();
    let names = std::iter::once(base).chain((2..).map(|n| format!("{stem}-{n}.json")));
    write::create_new(dir, names, to_json(report).as_bytes())
}

/// Writes `report` to `path` atomically, replacing it if it exists (an explicit `--output`).
pub fn save_to(report: &Report, path: &Path) -> anyhow::Result<()> {
    write::replace(path, to_json(report).as_bytes())
}

/// Writes `text` to `path` atomically, replacing it if it exists: a temporary file in the same
/// directory, flushed, then renamed, so a reader never sees half a file.
pub fn write_text(path: &Path, text: &str) -> anyhow::Result<()> {
    write::replace(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::execute::{self, SamplingChoice};
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
        let measured = execute::measure(&w, &choice, None, |_, _| {}).expect("accounting holds");
        report::compose(report::Parts {
            workload: report::workload_record(&w, "tiny.toml"),
            measured,
            machine: MachineContext::detect(Some("test".into()), 1),
            roofline: None,
            created_at: Utc::now(),
            machine_warnings: Vec::new(),
            scaling: None,
            cost: None,
        })
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
        assert!(e.contains("expected a JSON object"), "{e}");
        let e = parse("{}", "r.json").unwrap_err().to_string();
        assert!(e.contains("schema_version: missing"), "{e}");

        // A wrongly typed field is named by its path, also inside the tagged measurement.
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["metrics"][0]["estimate"]["point"] = "fast".into();
        let e = parse(&v.to_string(), "r.json").unwrap_err().to_string();
        assert!(e.contains("metrics[0].estimate.point: invalid type"), "{e}");
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["measurement"]["samples_s"][0] = "1 ms".into();
        let e = parse(&v.to_string(), "r.json").unwrap_err().to_string();
        assert!(e.contains("measurement.samples_s[0]: invalid type"), "{e}");

        // Impossible figures are refused with the field and the expectation.
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["measurement"]["samples_s"][0] = (-1.0).into();
        let e = parse(&v.to_string(), "r.json").unwrap_err().to_string();
        assert!(
            e.contains("measurement.samples_s[0]: expected a number of seconds"),
            "{e}"
        );

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

    /// Found by fuzzing (`report_load`, minimised to the 23 bytes below): text taken from the
    /// file went into the error as it was, so a line break in `schema_version` (or in a string
    /// serde quotes, such as an unknown measurement type) split the error over two lines.
    #[test]
    fn fuzz_line_break_in_file_text() {
        let e = parse("{\"schema_version\":\"\\n\"}", "r.json")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "'r.json': schema_version '\\n': expected \"major.minor\" with major 1"
        );

        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/reports/tiny.json"
        );
        let mut v: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(fixture).unwrap()).unwrap();
        v["measurement"]["type"] = "st\nep".into();
        let e = parse(&v.to_string(), "r\nx.json").unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(
            e.starts_with("'r\\nx.json' is not a costbench report: "),
            "{e}"
        );
        assert!(e.contains("st\\nep"), "{e}");
    }
}
