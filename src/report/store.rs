//! Writing and reading report files.
//!
//! Writes are atomic ([`crate::diag::write`]): the JSON goes to a temporary file in the
//! destination directory, is flushed to disk, then moved into place. In `results/` the final
//! name is `<UTC timestamp>-<workload>.json` and is never overwritten: the move fails if the name
//! exists, and the next free `-2`, `-3`… suffix is taken, so two runs finishing in the same
//! second both keep their reports. Before a run measures, [`check_writable`] reserves the space
//! its reports can take ([`report_bytes_bound`]); a report that still cannot be written is saved
//! by [`save_recovery`]; [`looks_like_report`] tells, from a bounded prefix, whether an existing
//! file is a report an output must not replace.

use super::schema::{Report, SCHEMA_MAJOR};
use crate::diag::show::short;
use crate::diag::toml_diag::one_line;
use crate::diag::write::{self, Found};
use crate::workload::{Workload, WorkloadKind};
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
    /// Well-formed, but a figure is impossible (a negative time, an unparsable date).
    #[error("'{path}' holds an impossible figure: {detail}")]
    Impossible { path: String, detail: String },
    /// Well-formed and plausible, but a figure disagrees with the samples it is derived from
    /// ([`super::consistency`]).
    #[error("'{path}' is inconsistent: {detail}; a report's figures must be those of its samples")]
    Inconsistent { path: String, detail: String },
}

impl LoadError {
    /// Whether the file is a costbench report of this major that was refused for what it
    /// says (an impossible or inconsistent figure), rather than a file that is not a report.
    /// `compare` refuses a directory holding one: a gate must not skip a lying report.
    pub fn is_refused_report(&self) -> bool {
        matches!(
            self,
            LoadError::Impossible { .. } | LoadError::Inconsistent { .. }
        )
    }
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
    validate(&report).map_err(|detail| LoadError::Impossible {
        path: origin.to_string(),
        detail: one_line(&detail),
    })?;
    super::consistency::check(&report).map_err(|detail| LoadError::Inconsistent {
        path: origin.to_string(),
        detail: one_line(&detail),
    })?;
    // A report before schema 1.6 has no metric kinds: each is its id's (what 1.6 writes).
    let mut report = report;
    for m in &mut report.metrics {
        m.kind = Some(m.kind());
    }
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
/// times (sampled, warm-up, scaling) finite, not negative and below [`MAX_SECONDS`]; metric
/// values finite and not negative (times positive and plausible); `created_at` (and the
/// roofline's `measured_at`) RFC 3339 times. `Err` names the field and what was expected.
/// Whether the figures agree with the samples is [`super::consistency::check`]'s question.
pub fn validate(r: &Report) -> Result<(), String> {
    use super::schema::Measurement;
    rfc3339("created_at", &r.created_at)?;
    if let Some(roof) = &r.roofline {
        rfc3339("roofline.measured_at", &roof.measured_at)?;
    }
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
            times("measurement.warmup_s", &m.warmup_s)?;
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
                times(&format!("measurement.cases[{i}].warmup_s"), &c.warmup_s)?;
                times(&format!("measurement.cases[{i}].samples_s"), &c.samples_s)?;
                not_all_zero(&c.samples_s, &format!("measurement.cases[{i}].samples_s"))?;
            }
        }
    }
    if let Some(sc) = &r.scaling {
        for (i, p) in sc.points.iter().enumerate() {
            times(&format!("scaling.points[{i}].samples_s"), &p.samples_s)?;
        }
    }
    if let Some(c) = &r.cost {
        // The modelled figures cannot be recomputed without the catalog they were priced
        // with, but they can be possible: finite and not negative (compare reads them).
        let figure = |field: String, x: f64| {
            if x.is_finite() && x >= 0.0 {
                Ok(())
            } else {
                Err(format!("{field}: expected a finite number ≥ 0, found {x}"))
            }
        };
        for (i, o) in c.options.iter().enumerate() {
            let f = format!("cost.options[{i}]");
            figure(format!("{f}.usd"), o.usd)?;
            figure(format!("{f}.wall_hours"), o.wall_hours)?;
            figure(format!("{f}.chip_hours"), o.chip_hours)?;
            figure(
                format!("{f}.usd_per_instance_hour"),
                o.usd_per_instance_hour,
            )?;
        }
        if let Some(b) = &c.cpu_baseline {
            figure("cost.cpu_baseline.usd".into(), b.usd)?;
            figure("cost.cpu_baseline.wall_hours".into(), b.wall_hours)?;
            figure(
                "cost.cpu_baseline.usd_per_instance_hour".into(),
                b.usd_per_instance_hour,
            )?;
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

/// `Err` unless `value` is an RFC 3339 time (`2026-11-26T16:15:02Z`).
fn rfc3339(field: &str, value: &str) -> Result<(), String> {
    match DateTime::parse_from_rfc3339(value) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "{field}: expected an RFC 3339 time such as 2026-11-26T16:15:02Z, found '{}' ({e})",
            crate::diag::show::short(value)
        )),
    }
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

/// The most bytes one sampled number takes in a report: the longest `f64` serde_json writes (24
/// characters, `-2.2250738585072014e-308`), the pretty printer's indentation where samples are
/// nested deepest (10 spaces, `measurement.op_classes[i].samples_s`), a comma and a newline (36),
/// rounded up.
pub const BYTES_PER_VALUE: u64 = 48;

/// What a report holds besides its sampled numbers (machine, roofline, workload, cost record,
/// metrics, warnings), at most: a report of a bundled workload has about 150 KiB of it.
pub const FIXED_BYTES: u64 = 1 << 20;

/// What each sampled case adds besides its sampled numbers (its statistics, estimates and
/// metrics), at most.
pub const CASE_BYTES: u64 = 64 << 10;

/// Most sizes the scaling check (`run --scaling`) samples.
const SCALING_POINTS: u64 = 4;

/// An upper bound on the size of a report of `w`, in bytes, when each sampled case keeps at most
/// `max_samples` times (`SamplingSettings::max_samples`) and [`WARMUP_KEPT`] warm-up times;
/// `scaling` adds the scaling check's samples:
///
/// ```text
/// FIXED_BYTES
///   + cases × (CASE_BYTES + (max_samples × values_per_sample + WARMUP_KEPT) × BYTES_PER_VALUE)
///   + [scaling] SCALING_POINTS × max_samples × BYTES_PER_VALUE
/// ```
///
/// A training step is one case whose every sample records its time, its loss and the time of
/// each op class (`values_per_sample` = 2 + the 9 classes); a product sweep has one case per
/// shape and precision, each sample a time. With the defaults (10,000 samples) a training step's
/// report is at most about 6.4 MiB.
///
/// [`WARMUP_KEPT`]: crate::measure::record::WARMUP_KEPT
pub fn report_bytes_bound(w: &Workload, max_samples: usize, scaling: bool) -> u64 {
    use crate::measure::record::WARMUP_KEPT;
    let (cases, values_per_sample) = match &w.kind {
        WorkloadKind::Gemm(s) => ((s.shapes.len() * s.dtypes.len()) as u64, 1),
        WorkloadKind::Mlp(_) | WorkloadKind::Transformer(_) => {
            (1, 2 + crate::ops::OpClass::ALL.len() as u64)
        }
    };
    let samples = max_samples as u64;
    let per_case = samples
        .saturating_mul(values_per_sample)
        .saturating_add(WARMUP_KEPT as u64)
        .saturating_mul(BYTES_PER_VALUE)
        .saturating_add(CASE_BYTES);
    let scaled = if scaling && matches!(w.kind, WorkloadKind::Transformer(_)) {
        SCALING_POINTS
            .saturating_mul(samples)
            .saturating_mul(BYTES_PER_VALUE)
    } else {
        0
    };
    FIXED_BYTES
        .saturating_add(cases.saturating_mul(per_case))
        .saturating_add(scaled)
}

/// Why a directory cannot be created, in words, when an ancestor of it is not a directory (a
/// dangling symbolic link, a file, a device); None when no ancestor explains it.
fn ancestor_in_the_way(dir: &Path) -> Option<String> {
    for a in dir.ancestors().filter(|a| !a.as_os_str().is_empty()) {
        match write::what_is_at(a) {
            Ok(Found::Nothing) => continue,
            Ok(Found::Directory) | Err(_) => return None,
            Ok(Found::File(_)) => {
                return Some(format!("'{}' is a file", short(&a.display().to_string())));
            }
            Ok(Found::Other(kind)) => {
                return Some(format!("'{}' is {kind}", short(&a.display().to_string())));
            }
        }
    }
    None
}

/// Fails early, before any measurement, if `dir` cannot hold new files of `reserve` bytes in
/// all (see [`report_bytes_bound`]): refuses a path that is not a directory (a file, a device, a
/// dangling symbolic link), creates the directory if needed, then creates a probe file with the
/// mode reports get and reserves `reserve` bytes in it (`posix_fallocate`, so a full disk
/// answers now, not after a long measurement), and removes it.
///
/// `flag` names the option the directory came from (`--results-dir`, `--output`, …) in errors.
pub fn check_writable(dir: &Path, flag: &str, reserve: u64) -> anyhow::Result<()> {
    let shown = short(&dir.display().to_string());
    match write::what_is_at(dir) {
        Ok(Found::Directory) => {}
        Ok(Found::Nothing) => {
            if let Err(e) = fs::create_dir_all(dir) {
                let why = ancestor_in_the_way(dir)
                    .map(|w| format!("{w}; expected a directory"))
                    .unwrap_or_else(|| e.to_string());
                anyhow::bail!("{flag}: could not create the directory '{shown}': {why}");
            }
        }
        Ok(Found::File(_)) => {
            anyhow::bail!("{flag}: '{shown}' is a file; expected a directory to hold the report")
        }
        Ok(Found::Other(kind)) => {
            anyhow::bail!("{flag}: '{shown}' is {kind}; expected a directory to hold the report")
        }
        Err(e) => anyhow::bail!("{flag}: could not look at '{shown}': {e}"),
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".costbench-write-check-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(fs::Permissions::from_mode(write::Access::Shared.mode()));
    }
    let probe = match builder.tempfile_in(dir) {
        Ok(p) => p,
        Err(e) => anyhow::bail!(
            "{flag}: the directory '{shown}' is not writable: {}",
            // The kind alone: the error itself names the probe file.
            std::io::Error::from(e.kind())
        ),
    };
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let len = libc::off_t::try_from(reserve).unwrap_or(libc::off_t::MAX);
        // SAFETY: the descriptor belongs to `probe`, open for writing, for this whole call.
        let err = unsafe { libc::posix_fallocate(probe.as_file().as_raw_fd(), 0, len) };
        // EOPNOTSUPP / EINVAL: the filesystem cannot preallocate; the write itself will tell.
        if err != 0 && err != libc::EOPNOTSUPP && err != libc::EINVAL {
            anyhow::bail!(
                "{flag}: the directory '{shown}' cannot hold a report: {} (need about {} free)",
                std::io::Error::from_raw_os_error(err),
                crate::units::bytes(reserve as f64)
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

/// The name of a recovery file: `costbench-unsaved-<UTC timestamp>-<workload>.json`.
pub fn recovery_name(created_at: &DateTime<Utc>, workload: &str) -> String {
    format!("costbench-unsaved-{}", file_name(created_at, workload))
}

/// Saves the JSON of a report that could not be written where it was meant to go, under
/// `name` (or `-2`, `-3`… before `.json`: never replacing a file) in the first of `dirs` that
/// takes it. Returns its path, or each directory's error.
pub fn save_recovery(json: &str, name: &str, dirs: &[PathBuf]) -> Result<PathBuf, Vec<String>> {
    let stem = name.trim_end_matches(".json").to_string();
    let mut errors = Vec::new();
    for dir in dirs {
        let names = std::iter::once(format!("{stem}.json"))
            .chain((2..=1000).map(|n| format!("{stem}-{n}.json")));
        match write::create_new(dir, names, json.as_bytes()) {
            Ok(path) => return Ok(path),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    Err(errors)
}

/// How much of an existing file is read, at most, to tell whether it is a costbench report.
pub const REPORT_PREFIX_BYTES: u64 = 64 << 10;

/// The top-level keys of a report ([`Report`]'s fields).
const REPORT_KEYS: [&str; 12] = [
    "schema_version",
    "costbench_version",
    "created_at",
    "machine",
    "roofline",
    "workload",
    "settings",
    "measurement",
    "metrics",
    "warnings",
    "scaling",
    "cost",
];

/// The keys of the top-level JSON object at the start of `bytes`, and whether the object ends
/// within them; None when `bytes` does not start with an object. A lenient scan, not a parser:
/// it only follows strings and nesting.
fn top_level_keys(bytes: &[u8]) -> Option<(Vec<String>, bool)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    if bytes[start] != b'{' {
        return None;
    }
    let mut keys = Vec::new();
    let (mut depth, mut expect_key, mut i) = (0usize, false, start);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let from = i + 1;
                i = from;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if i >= bytes.len() {
                    break;
                }
                if depth == 1 && expect_key {
                    keys.push(String::from_utf8_lossy(&bytes[from..i]).into_owned());
                    expect_key = false;
                }
            }
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some((keys, true));
                }
            }
            b',' if depth == 1 => expect_key = true,
            _ => {}
        }
        i += 1;
    }
    Some((keys, false))
}

/// Whether `prefix`, the start of a file, shows a costbench report — one this costbench can
/// load or not (a newer schema, an invalid sample, a cut file). It does when its top-level
/// object has a version key (`schema_version` or `costbench_version`) and a key only reports have
/// (`machine` or `measurement`); or, when the object does not end within `prefix`, when every
/// key seen is a report's and one of them is a version key or `cost` (pretty reports begin with
/// the versions; reports with sorted keys with `cost`). Other documents of costbench (estimates,
/// comparisons, exports) have keys of their own and do not count.
pub fn is_report_prefix(prefix: &[u8]) -> bool {
    let Some((keys, closed)) = top_level_keys(prefix) else {
        return false;
    };
    let has = |k: &str| keys.iter().any(|x| x == k);
    let versioned = has("schema_version") || has("costbench_version");
    if versioned && (has("machine") || has("measurement")) {
        return true;
    }
    !closed && (versioned || has("cost")) && keys.iter().all(|k| REPORT_KEYS.contains(&k.as_str()))
}

/// Whether the regular file at `path` is a costbench report ([`is_report_prefix`]), reading at
/// most [`REPORT_PREFIX_BYTES`] of it. Opens without blocking (`O_NONBLOCK`, so a FIFO that
/// appeared since the caller looked cannot hang it) and refuses what the open descriptor shows
/// is not a regular file.
pub fn looks_like_report(path: &Path) -> std::io::Result<bool> {
    use std::io::Read as _;
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut prefix = Vec::new();
    file.take(REPORT_PREFIX_BYTES).read_to_end(&mut prefix)?;
    Ok(is_report_prefix(&prefix))
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
            // A bound that leaves room for two samples on a loaded machine (0.2 s did not:
            // a first step took 0.1 s while other builds ran).
            max_time_s: Some(2.0),
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
            counts: None,
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

    fn fixture_text() -> String {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/reports/tiny.json"
        );
        fs::read_to_string(path).unwrap()
    }

    /// The worst case of `report_bytes_bound`: the fixture report (with its roofline and cost
    /// record) holding `max_samples` samples per value and `WARMUP_KEPT` warm-up times, each
    /// number as long as serde_json ever writes one.
    #[test]
    fn the_reserve_bounds_the_largest_report_of_a_workload() {
        use crate::measure::record::WARMUP_KEPT;
        let toml = fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/tiny.toml"
        ))
        .unwrap();
        let w = parse_workload_with_memory(&toml, "tiny.toml", u64::MAX).unwrap();
        let mut r: Report = serde_json::from_str(&fixture_text()).unwrap();
        let max_samples = 2_000;
        let longest = -2.2250738585072014e-308_f64;
        assert_eq!(serde_json::to_string(&longest).unwrap().len(), 24);
        let crate::measure::record::Measurement::Step(m) = &mut r.measurement else {
            panic!("a step")
        };
        m.samples_s = vec![longest; max_samples];
        m.warmup_s = vec![longest; WARMUP_KEPT];
        m.losses = vec![-1.1754944e-38_f32; max_samples];
        assert_eq!(m.op_classes.len(), crate::ops::OpClass::ALL.len());
        for c in &mut m.op_classes {
            c.samples_s = vec![longest; max_samples];
        }
        let size = to_json(&r).len() as u64;
        let bound = report_bytes_bound(&w, max_samples, false);
        assert!(size <= bound, "{size} > {bound}");
        // And not absurdly loose: within 2 MiB of the worst case.
        assert!(bound - size < 2 << 20, "{size} vs {bound}");
        // With the default 10,000 samples a step's report stays under 7 MiB.
        assert!(report_bytes_bound(&w, 10_000, false) < 7 << 20);
        assert!(report_bytes_bound(&w, 10_000, true) > report_bytes_bound(&w, 10_000, false));
    }

    #[test]
    fn a_report_is_recognised_from_its_prefix_even_when_it_does_not_load() {
        let text = fixture_text();
        let cut = |t: &str| t.as_bytes()[..REPORT_PREFIX_BYTES as usize].to_vec();
        assert!(text.len() as u64 > REPORT_PREFIX_BYTES);
        assert!(is_report_prefix(text.as_bytes()));
        assert!(is_report_prefix(&cut(&text)));
        // A newer schema, an impossible sample: not loadable, still a report.
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["schema_version"] = "9.0".into();
        v["measurement"]["samples_s"][0] = (-1.0).into();
        let changed = serde_json::to_string_pretty(&v).unwrap();
        assert!(parse(&changed, "r.json").is_err());
        assert!(is_report_prefix(changed.as_bytes()));
        // Keys sorted (serde_json's map, `jq -S`): `cost` comes first and fills the prefix.
        let sorted = serde_json::to_string(&v).unwrap();
        assert!(sorted.starts_with("{\"cost\""), "{}", &sorted[..20]);
        assert!(is_report_prefix(&cut(&sorted)));
        // A report cut short (a crash while writing it), with a byte-order mark.
        assert!(is_report_prefix(
            b"\xEF\xBB\xBF {\n  \"schema_version\": \"1.2\",\n  \"costbench_version\": \"0.1"
        ));
        // Other documents are not reports: an estimate, a comparison, exports, a bare version.
        let estimate = format!(
            "{{\"schema_version\": \"1.1\", \"costbench_version\": \"0.1.0\", \"created_at\": \"x\", \
             \"workload\": {{\"machine\": 1}}, \"target_params\": 1, \"cost\": {}}}",
            serde_json::to_string(&v["cost"]).unwrap()
        );
        assert!(!is_report_prefix(estimate.as_bytes()));
        assert!(!is_report_prefix(&cut(&format!(
            "{estimate}{}",
            " ".repeat(70_000)
        ))));
        let compare = r#"{"schema_version": "1.0", "costbench_version": "0.1.0", "base": "a",
            "new": "b", "settings": {}, "pairs": [{"machine": "x", "measurement": 1}]}"#;
        assert!(!is_report_prefix(compare.as_bytes()));
        for other in [
            &b"{\"reports\": [{\"schema_version\": \"1.2\", \"machine\": {}}]}"[..],
            b"{\"schema_version\": \"1.2\"}",
            b"[{\"schema_version\": \"1.2\", \"machine\": {}}]",
            b"schema_version machine measurement",
            b"",
            b"{\"a\": \"\\\"schema_version\\\": 1, \\\"machine\\\": 2\"}",
        ] {
            assert!(
                !is_report_prefix(other),
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    #[test]
    fn looks_like_report_reads_a_bounded_prefix_of_regular_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("r.json");
        fs::write(&report, fixture_text()).unwrap();
        assert!(looks_like_report(&report).unwrap());
        let other = dir.path().join("o.json");
        fs::write(&other, "{\"x\": 1}").unwrap();
        assert!(!looks_like_report(&other).unwrap());
        // A FIFO nobody writes to: answered at once, not waited on.
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string; mkfifo only creates a file.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(looks_like_report(&fifo).is_err());
    }

    #[test]
    fn a_report_that_cannot_be_written_is_saved_to_the_first_recovery_directory_that_works() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, "x").unwrap();
        let rescue = dir.path().join("rescue");
        fs::create_dir(&rescue).unwrap();
        let json = to_json(&tiny_report());
        let name = recovery_name(&Utc::now(), "tiny");
        assert!(name.starts_with("costbench-unsaved-") && name.ends_with("-tiny.json"));
        let dirs = [file.join("sub"), rescue.clone()];
        let a = save_recovery(&json, &name, &dirs).unwrap();
        let b = save_recovery(&json, &name, &dirs).unwrap();
        assert_eq!(a, rescue.join(&name));
        assert!(
            b.to_string_lossy().ends_with("-tiny-2.json"),
            "{}",
            b.display()
        );
        assert!(load(&a).is_ok() && load(&b).is_ok());
        let errors = save_recovery(&json, &name, &[file.join("sub"), file.clone()]).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn check_writable_names_what_is_in_the_way() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::os::unix::fs::symlink(d.join("missing"), d.join("dangling")).unwrap();
        fs::write(d.join("file"), "x").unwrap();
        for (path, words) in [
            (d.join("dangling"), "is a dangling symbolic link"),
            (d.join("dangling/sub"), "is a dangling symbolic link"),
            (d.join("file"), "is a file; expected a directory"),
            (d.join("file/sub"), "could not create the directory"),
            (PathBuf::from("/dev/null"), "is a character device"),
        ] {
            let e = check_writable(&path, "--results-dir", 1 << 20)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("--results-dir: ") && e.contains(words), "{e}");
            assert!(!e.contains("File exists"), "{e}");
        }
        let fine = d.join("new/results");
        check_writable(&fine, "--results-dir", 1 << 20).unwrap();
        assert_eq!(fs::read_dir(&fine).unwrap().count(), 0);
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
