//! Reading workload files: TOML text → a validated [`Workload`] (the format is documented in
//! `workloads/README.md`).
//!
//! Three layers, each reporting the first problem it finds as **one line** that names the file,
//! the line and column, the field (a dotted path such as `measure.layers`, array entries counted
//! from 0 as in `target.shapes[2].m`) and what was expected:
//!
//! 1. syntax: `toml`'s parser, whose error spans give the position;
//! 2. shape: serde into private `Raw*` structs with `deny_unknown_fields`, every value wrapped in
//!    [`toml::Spanned`] so the checks below can point at it. Every field is optional at this
//!    stage, so a missing field gets a message naming its section rather than serde's
//!    position-less `missing field`;
//! 3. meaning: sizes, divisibility, slice ≤ target, token counts, and the memory the measured
//!    slice will need ([`plan::slice_memory_bytes`]) against this machine's available memory.
//!
//! Nothing is allocated in proportion to the sizes in the file: a workload asking for a model
//! wider than 2^24, or a slice larger than this machine's memory, is refused here, before any
//! kernel sees it. Sizes large enough to overflow the plan's 64-bit arithmetic are caught first
//! by `f64` estimates (see [`MAX_EXACT_BYTES`] and [`MAX_STEP_FLOPS`]).

use crate::diag::toml_diag::{
    self, Index, ReadProblem, field_prefix, one_line, position_in, position_suffix,
};
use crate::workload::plan;
use crate::workload::spec::{
    Activation, Dtype, GemmShape, GemmSweep, MlpShape, MlpWorkload, Norm, Positions,
    TransformerShape, TransformerWorkload, Workload, WorkloadKind,
};
use serde::Deserialize;
use serde::de::{self, IgnoredAny, Visitor};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// Largest value any single dimension (layers, widths, heads, vocabulary, sequence length,
/// batch, m, n, k) may take: 2^24 = 16,777,216.
pub const MAX_DIMENSION: usize = 1 << 24;

/// Largest training-token (or sample) count of a target run: 10^18.
pub const MAX_TRAINING_TOKENS: u64 = 1_000_000_000_000_000_000;

/// Largest workload file accepted, in bytes (1 MiB; the bundled files are under 4 KiB).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Memory estimates above this many bytes (2^60, 1 EiB) are refused from their `f64` estimate
/// without computing them exactly: every intermediate of [`plan::slice_memory_bytes`] is at most
/// its total, so below this bound its `u64` arithmetic cannot overflow.
pub const MAX_EXACT_BYTES: f64 = (1u64 << 60) as f64;

/// Largest FLOP count of one step (one optimizer step of the target, or one product of a sweep)
/// accepted: 2^62 ≈ 4.6e18, a quarter of `u64::MAX`, so the plan's `u64` FLOP counters (sums
/// over a step's ops) cannot overflow.
pub const MAX_STEP_FLOPS: f64 = (1u64 << 62) as f64;

const GIB: f64 = (1u64 << 30) as f64;

pub use crate::diag::toml_diag::Position;

/// Why a workload could not be loaded. Every variant displays as a single line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    /// The text is not a valid workload: `origin:line:col: field: message`.
    #[error(
        "{origin}{}: {}{message}",
        position_suffix(position),
        field_prefix(field)
    )]
    Invalid {
        /// The file as named by the user (or `workloads/<name>.toml (bundled)`).
        origin: String,
        /// Where the offending value (or its section) is, when known.
        position: Option<Position>,
        /// Dotted path of the offending field, e.g. `measure.layers`.
        field: Option<String>,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The file could not be read (missing, a directory, no permission, …).
    #[error("could not read '{path}': {reason}")]
    Unreadable { path: String, reason: String },
    /// Neither a bundled workload name nor a file.
    #[error("unknown workload '{name}': not a bundled name ({}) nor a file", known.join(", "))]
    UnknownWorkload { name: String, known: Vec<String> },
}

impl WorkloadError {
    /// The dotted path of the offending field, when the error is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            WorkloadError::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// Where in the file the problem is, when known.
    pub fn position(&self) -> Option<Position> {
        match self {
            WorkloadError::Invalid { position, .. } => *position,
            _ => None,
        }
    }
}

/// Reads and validates a workload file; errors name the file as `path` was given.
pub fn load_workload(path: &Path) -> Result<Workload, WorkloadError> {
    let (text, origin) =
        toml_diag::read_text_file(path, "workload", MAX_FILE_BYTES).map_err(|p| match p {
            ReadProblem::Unreadable { path, reason } => WorkloadError::Unreadable { path, reason },
            ReadProblem::Invalid {
                origin,
                position,
                message,
            } => WorkloadError::Invalid {
                origin,
                position,
                field: None,
                message,
            },
        })?;
    parse_workload(&text, &origin)
}

fn too_long(origin: &str, len: u64) -> WorkloadError {
    WorkloadError::Invalid {
        origin: origin.to_string(),
        position: None,
        field: None,
        message: toml_diag::too_long_message(len, "workload", MAX_FILE_BYTES),
    }
}

/// Parses and validates workload text, checking the measured slice against this machine's
/// available memory. `origin` names the text in error messages (usually the file path).
pub fn parse_workload(text: &str, origin: &str) -> Result<Workload, WorkloadError> {
    parse_workload_with_memory(text, origin, available_memory_bytes())
}

/// This machine's available memory in bytes (sysinfo's `available_memory`, capped by a cgroup
/// memory limit when there is one), or `u64::MAX` when it cannot be read, which skips the check.
pub fn available_memory_bytes() -> u64 {
    let Ok(mut sys) = sysinfo::System::new() else {
        return u64::MAX;
    };
    sys.refresh_memory();
    let mut available = sys.available_memory();
    if available == 0 {
        return u64::MAX;
    }
    if let Some(limits) = sys.cgroup_limits()
        && limits.total_memory > 0
    {
        available = available.min(limits.total_memory);
    }
    available
}

/// [`parse_workload`] with the available memory given, so tests do not depend on this machine.
pub fn parse_workload_with_memory(
    text: &str,
    origin: &str,
    available_bytes: u64,
) -> Result<Workload, WorkloadError> {
    let doc = Doc::new(text, origin)?;
    let header: RawHeader = doc.deserialize()?;
    doc.refuse_arrays_for_tables()?;
    let Some(kind) = header.kind else {
        return Err(doc.error(
            None,
            Some("kind"),
            format!(
                "required field is missing; expected kind = one of {}",
                choice_names::<KindName>()
            ),
        ));
    };
    match kind.get_ref().0 {
        KindName::Gemm => doc.gemm(doc.deserialize()?, available_bytes),
        KindName::Mlp => doc.mlp(doc.deserialize()?, available_bytes),
        KindName::Transformer => doc.transformer(doc.deserialize()?, available_bytes),
    }
}

// ---------------------------------------------------------------------------------------------
// Raw (as written) forms.

/// An integer as written, before range checks. TOML integers are 64-bit; the parser hands larger
/// literals on as `i128`, which the range checks then refuse with their value.
struct Int(i128);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a positive integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                Ok(Int(v.into()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Int, E> {
                Ok(Int(v))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Int, E> {
                Ok(Int(i128::try_from(v).unwrap_or(i128::MAX)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A count of training tokens or samples: an integer, or a float such as `2e12`.
enum Count {
    Int(i128),
    Float(f64),
}

const COUNT_EXPECTED: &str = "a whole positive number (an integer, or a float such as 2e12)";

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(COUNT_EXPECTED)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
                Ok(Count::Int(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
                Ok(Count::Int(v.into()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Count, E> {
                Ok(Count::Int(v))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Count, E> {
                Ok(Count::Int(i128::try_from(v).unwrap_or(i128::MAX)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Count, E> {
                Ok(Count::Float(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// A string-valued setting with a fixed set of allowed values.
trait Choice: Copy + 'static {
    const ALL: &'static [(&'static str, Self)];
}

fn choice_names<T: Choice>() -> String {
    T::ALL
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One of a [`Choice`]'s values, as written.
struct Pick<T>(T);

impl<'de, T: Choice> Deserialize<'de> for Pick<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<T: Choice> Visitor<'_> for V<T> {
            type Value = Pick<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "one of {}", choice_names::<T>())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Pick<T>, E> {
                T::ALL
                    .iter()
                    .find(|(n, _)| *n == v)
                    .map(|(_, c)| Pick(*c))
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum KindName {
    Gemm,
    Mlp,
    Transformer,
}

impl Choice for KindName {
    const ALL: &'static [(&'static str, Self)] = &[
        ("gemm", KindName::Gemm),
        ("mlp", KindName::Mlp),
        ("transformer", KindName::Transformer),
    ];
}

impl Choice for Norm {
    const ALL: &'static [(&'static str, Self)] =
        &[("layernorm", Norm::Layernorm), ("rmsnorm", Norm::Rmsnorm)];
}

impl Choice for Activation {
    const ALL: &'static [(&'static str, Self)] =
        &[("gelu", Activation::Gelu), ("swiglu", Activation::Swiglu)];
}

impl Choice for Positions {
    const ALL: &'static [(&'static str, Self)] =
        &[("learned", Positions::Learned), ("none", Positions::None)];
}

impl Choice for Dtype {
    const ALL: &'static [(&'static str, Self)] = &[("f32", Dtype::F32), ("f64", Dtype::F64)];
}

type Field<T> = Option<Spanned<T>>;

/// The top level, read first to learn the kind (and to refuse unknown top-level keys).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RawHeader {
    name: Option<IgnoredAny>,
    kind: Field<Pick<KindName>>,
    description: Option<IgnoredAny>,
    target: Option<IgnoredAny>,
    measure: Option<IgnoredAny>,
}

/// The whole file, with the kind's own `[target]` and `[measure]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RawFile<T, M> {
    name: Field<String>,
    kind: Option<IgnoredAny>,
    description: Field<String>,
    target: Field<T>,
    measure: Field<M>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransformerTarget {
    layers: Field<Int>,
    d_model: Field<Int>,
    heads: Field<Int>,
    kv_heads: Field<Int>,
    d_ff: Field<Int>,
    vocab: Field<Int>,
    seq_len: Field<Int>,
    norm: Field<Pick<Norm>>,
    activation: Field<Pick<Activation>>,
    positions: Field<Pick<Positions>>,
    tied_embeddings: Field<bool>,
    tokens: Field<Count>,
    batch: Field<Int>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransformerMeasure {
    layers: Field<Int>,
    batch: Field<Int>,
    seq_len: Field<Int>,
    d_model: Field<Int>,
    heads: Field<Int>,
    kv_heads: Field<Int>,
    d_ff: Field<Int>,
    vocab: Field<Int>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMlpTarget {
    d_in: Field<Int>,
    d_hidden: Field<Int>,
    hidden_layers: Field<Int>,
    classes: Field<Int>,
    samples: Field<Count>,
    batch: Field<Int>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMlpMeasure {
    batch: Field<Int>,
    hidden_layers: Field<Int>,
    d_in: Field<Int>,
    d_hidden: Field<Int>,
    classes: Field<Int>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGemmTarget {
    dtypes: Field<Vec<Spanned<Pick<Dtype>>>>,
    square: Field<Vec<Spanned<Int>>>,
    shapes: Field<Vec<Spanned<RawGemmShape>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGemmShape {
    m: Field<Int>,
    n: Field<Int>,
    k: Field<Int>,
    batch: Field<Int>,
    label: Field<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGemmMeasure {
    dtypes: Field<Vec<Spanned<Pick<Dtype>>>>,
}

// ---------------------------------------------------------------------------------------------
// The document: its text, and where every key and value is.

struct Doc<'a> {
    origin: &'a str,
    text: &'a str,
    index: Index,
}

impl<'a> Doc<'a> {
    /// Checks size and syntax, refuses an empty document, and indexes every key.
    fn new(text: &'a str, origin: &'a str) -> Result<Self, WorkloadError> {
        let mut doc = Doc {
            origin,
            text,
            index: Index::default(),
        };
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(too_long(origin, text.len() as u64));
        }
        let root = toml_diag::parse_document(text)
            .map_err(|(span, message)| doc.error(span.as_ref(), None, message))?;
        if root.get_ref().is_empty() {
            return Err(doc.error(
                None,
                None,
                "the file is empty (no settings); expected a workload with name, kind, description, \
                 [target] and [measure] (see workloads/README.md)",
            ));
        }
        doc.index = Index::new(root.get_ref());
        Ok(doc)
    }

    fn error(
        &self,
        span: Option<&Range<usize>>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> WorkloadError {
        WorkloadError::Invalid {
            origin: one_line(self.origin),
            position: span.map(|s| position_in(self.text, s.start)),
            field: field.map(one_line),
            message: one_line(&message.into()),
        }
    }

    /// An error about the value `v` of field `path`.
    fn at<T>(&self, v: &Spanned<T>, path: &str, message: impl Into<String>) -> WorkloadError {
        self.error(Some(&v.span()), Some(path), message)
    }

    /// serde reads an array into a struct positionally (`shapes = [[1, 2, 3]]` would be m, n,
    /// k); the format has no positional tables, so an array where a table belongs is refused.
    fn refuse_arrays_for_tables(&self) -> Result<(), WorkloadError> {
        let is_table_path = |p: &str| {
            p == "target"
                || p == "measure"
                || p.strip_prefix("target.shapes[")
                    .and_then(|r| r.strip_suffix(']'))
                    .is_some_and(|i| i.chars().all(|c| c.is_ascii_digit()))
        };
        match self
            .index
            .entries
            .iter()
            .find(|e| e.is_array && is_table_path(&e.path))
        {
            Some(e) => {
                let hint = if e.path.starts_with("target.shapes") {
                    "a [[target.shapes]] table with m, n and k".to_string()
                } else {
                    format!("a table (write [{0}] once, not [[{0}]])", e.path)
                };
                Err(self.error(
                    Some(&e.value),
                    Some(&e.path),
                    format!("expected {hint}, found an array"),
                ))
            }
            None => Ok(()),
        }
    }

    fn deserialize<T: de::DeserializeOwned>(&self) -> Result<T, WorkloadError> {
        toml::from_str(self.text).map_err(|e| self.serde_error(&e))
    }

    /// Turns a serde error from `toml` (message + span) into our one-line form.
    fn serde_error(&self, e: &toml::de::Error) -> WorkloadError {
        let span = e.span();
        let message = one_line(e.message().trim());
        let entry = span.as_ref().and_then(|s| self.index.locate(s));
        let path = entry.map(|e| e.path.as_str());

        if let Some((name, allowed)) = toml_diag::unknown_field(&message) {
            let parent = path
                .and_then(|p| p.rsplit_once('.').map(|(parent, _)| parent))
                .unwrap_or("");
            let parent = if path.is_some() { parent } else { "?" };
            let msg = format!(
                "unknown field `{name}` {}{}",
                section_phrase(parent),
                toml_diag::unknown_field_hint(name, &allowed)
            );
            return self.error(span.as_ref(), None, msg);
        }
        if let Some((found, expected)) = toml_diag::invalid_type(&message) {
            let msg = format!("expected {expected}, found {found}");
            return self.error(span.as_ref(), path, msg);
        }
        if message.contains("overflowed") {
            let msg = "expected a finite number (counts at most 1e18), found one beyond the floating-point range";
            return self.error(span.as_ref(), path, msg.to_string());
        }
        self.error(span.as_ref(), path, message)
    }

    fn section<'r, T>(
        &self,
        section: &'r Field<T>,
        name: &str,
        needs: &str,
    ) -> Result<&'r Spanned<T>, WorkloadError> {
        section.as_ref().ok_or_else(|| {
            self.error(
                None,
                Some(name),
                format!(
                    "required section [{name}] is missing; expected a [{name}] table with {needs}"
                ),
            )
        })
    }

    /// A required field of `section` (at path `path`); when missing, the error points at the
    /// section's header.
    fn required<'r, T, S>(
        &self,
        v: &'r Field<T>,
        section: &Spanned<S>,
        path: &str,
        expected: &str,
    ) -> Result<&'r Spanned<T>, WorkloadError> {
        v.as_ref().ok_or_else(|| {
            let (table, _) = path.rsplit_once('.').unwrap_or(("", path));
            self.error(
                Some(&section.span()),
                Some(path),
                format!(
                    "required field is missing {}; expected {expected}",
                    section_phrase(table).replacen("in ", "from ", 1)
                ),
            )
        })
    }

    /// A size: a positive integer no larger than [`MAX_DIMENSION`].
    fn dim(&self, v: &Spanned<Int>, path: &str) -> Result<usize, WorkloadError> {
        let n = v.get_ref().0;
        if n < 1 {
            Err(self.at(v, path, format!("expected a positive integer, found {n}")))
        } else if n > MAX_DIMENSION as i128 {
            Err(self.at(
                v,
                path,
                format!(
                    "expected at most {MAX_DIMENSION} (2^24, the largest size costbench accepts \
                     for any single dimension), found {n}"
                ),
            ))
        } else {
            Ok(n as usize)
        }
    }

    fn required_dim<S>(
        &self,
        v: &Field<Int>,
        section: &Spanned<S>,
        path: &str,
    ) -> Result<usize, WorkloadError> {
        self.dim(self.required(v, section, path, "a positive integer")?, path)
    }

    /// A measured-slice size: the target's value when omitted, never larger than it.
    fn slice_dim(
        &self,
        v: &Field<Int>,
        path: &str,
        target: usize,
    ) -> Result<(usize, Option<Range<usize>>), WorkloadError> {
        let Some(v) = v else {
            return Ok((target, None));
        };
        let n = self.dim(v, path)?;
        if n > target {
            let target_path = path.replacen("measure.", "target.", 1);
            return Err(self.at(
                v,
                path,
                format!(
                    "the slice is larger than its target ({n} > {target_path} = {target}); \
                     expected at most {target}"
                ),
            ));
        }
        Ok((n, Some(v.span())))
    }

    /// Training tokens or samples: a whole positive number no larger than
    /// [`MAX_TRAINING_TOKENS`].
    fn count(&self, v: &Spanned<Count>, path: &str) -> Result<u64, WorkloadError> {
        let max = MAX_TRAINING_TOKENS;
        let too_big = |shown: String| {
            self.at(
                v,
                path,
                format!(
                    "expected at most 1e18 (costbench's limit on training tokens), found {shown}"
                ),
            )
        };
        match *v.get_ref() {
            Count::Int(n) if n < 1 => {
                Err(self.at(v, path, format!("expected {COUNT_EXPECTED}, found {n}")))
            }
            Count::Int(n) if n > i128::from(max) => Err(too_big(n.to_string())),
            Count::Int(n) => Ok(n as u64),
            Count::Float(f) if !f.is_finite() || f < 1.0 || f.fract() != 0.0 => {
                Err(self.at(v, path, format!("expected {COUNT_EXPECTED}, found {f:?}")))
            }
            Count::Float(f) if f > max as f64 => Err(too_big(format!("{f:e}"))),
            Count::Float(f) => Ok(f as u64),
        }
    }

    fn pick<T: Choice, S>(
        &self,
        v: &Field<Pick<T>>,
        section: &Spanned<S>,
        path: &str,
    ) -> Result<T, WorkloadError> {
        let expected = format!("one of {}", choice_names::<T>());
        Ok(self.required(v, section, path, &expected)?.get_ref().0)
    }

    /// `name` and `description`, common to every kind.
    fn common<T, M>(&self, raw: &RawFile<T, M>) -> Result<(String, String), WorkloadError> {
        const NAME_RULE: &str = "a name of 1 to 64 lowercase letters, digits, '.', '_' or '-' \
                                 (it is used in file names)";
        let name = raw.name.as_ref().ok_or_else(|| {
            self.error(
                None,
                Some("name"),
                format!("required field is missing; expected {NAME_RULE}"),
            )
        })?;
        let n = name.get_ref();
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        if n.is_empty() || n.len() > 64 || !n.chars().all(ok_char) {
            return Err(self.at(name, "name", format!("expected {NAME_RULE}, found {n:?}")));
        }
        let description = raw.description.as_ref().ok_or_else(|| {
            self.error(
                None,
                Some("description"),
                "required field is missing; expected a one-line description string",
            )
        })?;
        let d = description.get_ref().trim();
        if d.is_empty() || d.contains(['\n', '\r']) {
            return Err(self.at(
                description,
                "description",
                format!(
                    "expected a non-empty one-line string, found {:?}",
                    description.get_ref()
                ),
            ));
        }
        Ok((n.clone(), d.to_string()))
    }

    // -----------------------------------------------------------------------------------------
    // Kinds.

    fn transformer(
        &self,
        raw: RawFile<RawTransformerTarget, RawTransformerMeasure>,
        available_bytes: u64,
    ) -> Result<Workload, WorkloadError> {
        let (name, description) = self.common(&raw)?;
        let ts = self.section(
            &raw.target,
            "target",
            "layers, d_model, heads, d_ff, vocab, seq_len, norm, activation, tied_embeddings, \
             tokens and batch",
        )?;
        let t = ts.get_ref();
        let layers = self.required_dim(&t.layers, ts, "target.layers")?;
        let d_model = self.required_dim(&t.d_model, ts, "target.d_model")?;
        let heads_v = self.required(&t.heads, ts, "target.heads", "a positive integer")?;
        let heads = self.dim(heads_v, "target.heads")?;
        if d_model % heads != 0 {
            return Err(self.at(
                heads_v,
                "target.heads",
                format!(
                    "{heads} heads do not divide target.d_model = {d_model}; expected a divisor \
                     of {d_model} (each head is d_model/heads wide)"
                ),
            ));
        }
        let kv_heads = match &t.kv_heads {
            None => heads,
            Some(v) => {
                let kv = self.dim(v, "target.kv_heads")?;
                if heads % kv != 0 {
                    return Err(self.at(
                        v,
                        "target.kv_heads",
                        format!(
                            "{kv} key/value heads do not divide target.heads = {heads}; expected \
                             a divisor of {heads} (each key/value head serves heads/kv_heads \
                             query heads)"
                        ),
                    ));
                }
                kv
            }
        };
        let d_ff = self.required_dim(&t.d_ff, ts, "target.d_ff")?;
        let vocab = self.required_dim(&t.vocab, ts, "target.vocab")?;
        let seq_len = self.required_dim(&t.seq_len, ts, "target.seq_len")?;
        let norm = self.pick(&t.norm, ts, "target.norm")?;
        let activation = self.pick(&t.activation, ts, "target.activation")?;
        let positions = t
            .positions
            .as_ref()
            .map_or(Positions::Learned, |p| p.get_ref().0);
        let tied_embeddings = *self
            .required(
                &t.tied_embeddings,
                ts,
                "target.tied_embeddings",
                "true or false",
            )?
            .get_ref();
        let tokens_v = self.required(&t.tokens, ts, "target.tokens", COUNT_EXPECTED)?;
        let target_tokens = self.count(tokens_v, "target.tokens")?;
        let batch_v = self.required(&t.batch, ts, "target.batch", "a positive integer")?;
        let target_batch = self.dim(batch_v, "target.batch")?;
        let target = TransformerShape {
            layers,
            d_model,
            heads,
            kv_heads,
            d_ff,
            vocab,
            seq_len,
            norm,
            activation,
            positions,
            tied_embeddings,
        };

        let ms = self.section(
            &raw.measure,
            "measure",
            "batch (sequences per measured step) and optionally layers, seq_len, d_model, heads, \
             kv_heads, d_ff, vocab",
        )?;
        let m = ms.get_ref();
        let (s_layers, _) = self.slice_dim(&m.layers, "measure.layers", layers)?;
        let slice_batch_v = self.required(
            &m.batch,
            ms,
            "measure.batch",
            "a positive integer (sequences per measured step)",
        )?;
        let (slice_batch, _) = self.slice_dim(&m.batch, "measure.batch", target_batch)?;
        let (s_seq, _) = self.slice_dim(&m.seq_len, "measure.seq_len", seq_len)?;
        let (s_d_model, d_model_at) = self.slice_dim(&m.d_model, "measure.d_model", d_model)?;
        let (s_heads, heads_at) = self.slice_dim(&m.heads, "measure.heads", heads)?;
        // A multi-head target stays multi-head when only `measure.heads` is given.
        let kv_default = if kv_heads == heads { s_heads } else { kv_heads };
        let (s_kv, kv_at) = match &m.kv_heads {
            None => (kv_default, None),
            some => self.slice_dim(some, "measure.kv_heads", kv_heads)?,
        };
        let measure_span = ms.span();
        if s_d_model % s_heads != 0 {
            let (at, field) = match &heads_at {
                Some(s) => (s, "measure.heads"),
                None => (
                    d_model_at.as_ref().unwrap_or(&measure_span),
                    "measure.d_model",
                ),
            };
            return Err(self.error(
                Some(at),
                Some(field),
                format!(
                    "in the measured slice, heads = {s_heads} does not divide d_model = \
                     {s_d_model}; expected heads to divide d_model (each head is d_model/heads \
                     wide)"
                ),
            ));
        }
        if s_heads % s_kv != 0 {
            let (at, field) = match (&kv_at, &heads_at) {
                (Some(s), _) => (s, "measure.kv_heads"),
                (None, Some(s)) => (s, "measure.heads"),
                (None, None) => (&measure_span, "measure"),
            };
            return Err(self.error(
                Some(at),
                Some(field),
                format!(
                    "in the measured slice, kv_heads = {s_kv} does not divide heads = {s_heads}; \
                     expected kv_heads to divide heads (set measure.kv_heads)"
                ),
            ));
        }
        let (s_d_ff, _) = self.slice_dim(&m.d_ff, "measure.d_ff", d_ff)?;
        let (s_vocab, _) = self.slice_dim(&m.vocab, "measure.vocab", vocab)?;
        let slice = TransformerShape {
            layers: s_layers,
            d_model: s_d_model,
            heads: s_heads,
            kv_heads: s_kv,
            d_ff: s_d_ff,
            vocab: s_vocab,
            seq_len: s_seq,
            ..target.clone()
        };

        // The plan of the target is evaluated one sequence at a time
        // (`plan::target_training_flops`), so one sequence must fit its counters.
        let step_flops = transformer_step_flops_f64(&target, 1);
        self.check_step_flops(
            step_flops,
            t.seq_len.as_ref().unwrap_or(batch_v),
            "target.seq_len",
            "training on one sequence of the target",
            "a shorter target.seq_len or a smaller model",
        )?;
        let w = Workload {
            name,
            description,
            kind: WorkloadKind::Transformer(TransformerWorkload {
                target,
                target_tokens,
                target_batch,
                slice,
                slice_batch,
            }),
        };
        let WorkloadKind::Transformer(tw) = &w.kind else {
            unreachable!()
        };
        let rough = transformer_bytes_f64(&tw.slice, tw.slice_batch);
        self.check_memory(
            &w,
            rough,
            &ms.span(),
            "measure",
            "the measured slice",
            "reduce measure.layers, measure.batch or measure.seq_len",
            available_bytes,
        )?;
        // The measured step's plan counts all `slice_batch` sequences in one step. The memory
        // check bounds that only when this machine's memory is known (not with `u64::MAX`).
        self.check_step_flops(
            transformer_step_flops_f64(&tw.slice, tw.slice_batch),
            slice_batch_v,
            "measure.batch",
            "one measured step of the slice",
            "a smaller measure.batch, measure.seq_len or measure.layers",
        )?;
        Ok(w)
    }

    fn mlp(
        &self,
        raw: RawFile<RawMlpTarget, RawMlpMeasure>,
        available_bytes: u64,
    ) -> Result<Workload, WorkloadError> {
        let (name, description) = self.common(&raw)?;
        let ts = self.section(
            &raw.target,
            "target",
            "d_in, d_hidden, hidden_layers, classes, samples and batch",
        )?;
        let t = ts.get_ref();
        let target = MlpShape {
            d_in: self.required_dim(&t.d_in, ts, "target.d_in")?,
            d_hidden: self.required_dim(&t.d_hidden, ts, "target.d_hidden")?,
            hidden_layers: self.required_dim(&t.hidden_layers, ts, "target.hidden_layers")?,
            classes: self.required_dim(&t.classes, ts, "target.classes")?,
        };
        let samples_v = self.required(&t.samples, ts, "target.samples", COUNT_EXPECTED)?;
        let target_samples = self.count(samples_v, "target.samples")?;
        let batch_v = self.required(&t.batch, ts, "target.batch", "a positive integer")?;
        let target_batch = self.dim(batch_v, "target.batch")?;

        let ms = self.section(
            &raw.measure,
            "measure",
            "batch (samples per measured step) and optionally hidden_layers, d_in, d_hidden, \
             classes",
        )?;
        let m = ms.get_ref();
        self.required(
            &m.batch,
            ms,
            "measure.batch",
            "a positive integer (samples per measured step)",
        )?;
        let (slice_batch, _) = self.slice_dim(&m.batch, "measure.batch", target_batch)?;
        let slice = MlpShape {
            d_in: self.slice_dim(&m.d_in, "measure.d_in", target.d_in)?.0,
            d_hidden: self
                .slice_dim(&m.d_hidden, "measure.d_hidden", target.d_hidden)?
                .0,
            hidden_layers: self
                .slice_dim(
                    &m.hidden_layers,
                    "measure.hidden_layers",
                    target.hidden_layers,
                )?
                .0,
            classes: self
                .slice_dim(&m.classes, "measure.classes", target.classes)?
                .0,
        };

        let step_flops = mlp_step_flops_f64(&target, target_batch);
        self.check_step_flops(
            step_flops,
            batch_v,
            "target.batch",
            "one optimizer step of the target",
            "a smaller target.batch (or a smaller model)",
        )?;
        let rough = mlp_bytes_f64(&slice, slice_batch);
        let w = Workload {
            name,
            description,
            kind: WorkloadKind::Mlp(MlpWorkload {
                target,
                target_samples,
                target_batch,
                slice,
                slice_batch,
            }),
        };
        self.check_memory(
            &w,
            rough,
            &ms.span(),
            "measure",
            "the measured slice",
            "reduce measure.batch, measure.hidden_layers or measure.d_hidden",
            available_bytes,
        )?;
        Ok(w)
    }

    fn dtypes(
        &self,
        list: &Spanned<Vec<Spanned<Pick<Dtype>>>>,
        path: &str,
    ) -> Result<Vec<Dtype>, WorkloadError> {
        if list.get_ref().is_empty() {
            return Err(self.at(
                list,
                path,
                format!(
                    "expected at least one of {}, found an empty array",
                    choice_names::<Dtype>()
                ),
            ));
        }
        let mut out = Vec::new();
        for d in list.get_ref() {
            let v = d.get_ref().0;
            if out.contains(&v) {
                return Err(self.at(
                    d,
                    path,
                    format!(
                        "{} is listed twice; expected each dtype at most once",
                        v.name()
                    ),
                ));
            }
            out.push(v);
        }
        Ok(out)
    }

    fn gemm(
        &self,
        raw: RawFile<RawGemmTarget, RawGemmMeasure>,
        available_bytes: u64,
    ) -> Result<Workload, WorkloadError> {
        let (name, description) = self.common(&raw)?;
        let ts = self.section(
            &raw.target,
            "target",
            "`square = [...]` and/or [[target.shapes]] entries (m, n, k), and optionally dtypes",
        )?;
        let t = ts.get_ref();
        let target_dtypes = match &t.dtypes {
            None => vec![Dtype::F32],
            Some(list) => self.dtypes(list, "target.dtypes")?,
        };

        // Each shape with the path and span its errors point at.
        let mut shapes: Vec<(GemmShape, String, Range<usize>)> = Vec::new();
        for (i, s) in t.square.iter().flat_map(|v| v.get_ref().iter()).enumerate() {
            let path = format!("target.square[{i}]");
            let n = self.dim(s, &path)?;
            let shape = GemmShape {
                m: n,
                n,
                k: n,
                batch: 1,
                label: None,
            };
            shapes.push((shape, path, s.span()));
        }
        for (i, s) in t.shapes.iter().flat_map(|v| v.get_ref().iter()).enumerate() {
            let path = format!("target.shapes[{i}]");
            let r = s.get_ref();
            let label = match &r.label {
                None => None,
                Some(l) => {
                    let text = l.get_ref().trim();
                    if text.is_empty() || text.contains(['\n', '\r']) {
                        return Err(self.at(
                            l,
                            &format!("{path}.label"),
                            format!(
                                "expected a non-empty one-line string, found {:?}",
                                l.get_ref()
                            ),
                        ));
                    }
                    Some(text.to_string())
                }
            };
            let shape = GemmShape {
                m: self.required_dim(&r.m, s, &format!("{path}.m"))?,
                n: self.required_dim(&r.n, s, &format!("{path}.n"))?,
                k: self.required_dim(&r.k, s, &format!("{path}.k"))?,
                batch: match &r.batch {
                    None => 1,
                    Some(b) => self.dim(b, &format!("{path}.batch"))?,
                },
                label,
            };
            shapes.push((shape, path, s.span()));
        }
        if shapes.is_empty() {
            return Err(self.error(
                Some(&ts.span()),
                Some("target"),
                "no product shapes; expected `square = [...]` and/or [[target.shapes]] tables \
                 with m, n and k",
            ));
        }

        let dtypes = match raw
            .measure
            .as_ref()
            .and_then(|m| m.get_ref().dtypes.as_ref())
        {
            None => target_dtypes.clone(),
            Some(list) => {
                let chosen = self.dtypes(list, "measure.dtypes")?;
                for (d, v) in chosen.iter().zip(list.get_ref()) {
                    if !target_dtypes.contains(d) {
                        let allowed: Vec<&str> = target_dtypes.iter().map(|d| d.name()).collect();
                        return Err(self.at(
                            v,
                            "measure.dtypes",
                            format!(
                                "{} is not among target.dtypes; expected a subset of [{}]",
                                d.name(),
                                allowed.join(", ")
                            ),
                        ));
                    }
                }
                chosen
            }
        };

        // Each product is run on its own, so each must fit: check them one at a time to name
        // the one that does not.
        for (shape, path, span) in &shapes {
            let (m, n, k, b) = (
                shape.m as f64,
                shape.n as f64,
                shape.k as f64,
                shape.batch as f64,
            );
            for &d in &dtypes {
                let one = Workload {
                    name: name.clone(),
                    description: String::new(),
                    kind: WorkloadKind::Gemm(GemmSweep {
                        shapes: vec![shape.clone()],
                        dtypes: vec![d],
                    }),
                };
                let rough = d.bytes() as f64 * b * (m * k + k * n + m * n);
                self.check_memory(
                    &one,
                    rough,
                    span,
                    path,
                    &format!("the product {} in {}", plan::gemm_label(shape), d.name()),
                    "use smaller m, n, k or batch, or leave f64 out of measure.dtypes",
                    available_bytes,
                )?;
            }
            let flops = 2.0 * m * n * k * b;
            if flops > MAX_STEP_FLOPS {
                return Err(self.error(
                    Some(span),
                    Some(path),
                    format!(
                        "the product {} executes about {flops:.1e} FLOPs, more than costbench's \
                         64-bit counters hold ({MAX_STEP_FLOPS:.1e} = 2^62); expected smaller m, \
                         n, k or batch",
                        plan::gemm_label(shape)
                    ),
                ));
            }
        }

        Ok(Workload {
            name,
            description,
            kind: WorkloadKind::Gemm(GemmSweep {
                shapes: shapes.into_iter().map(|(s, _, _)| s).collect(),
                dtypes,
            }),
        })
    }

    /// Refuses a target whose one optimizer step would overflow the plan's FLOP counters.
    fn check_step_flops(
        &self,
        flops: f64,
        at: &Spanned<Int>,
        path: &str,
        what: &str,
        remedy: &str,
    ) -> Result<(), WorkloadError> {
        if flops > MAX_STEP_FLOPS {
            return Err(self.at(
                at,
                path,
                format!(
                    "{what} executes about {flops:.1e} FLOPs, more than costbench's 64-bit \
                     counters hold ({MAX_STEP_FLOPS:.1e} = 2^62); expected {remedy}"
                ),
            ));
        }
        Ok(())
    }

    /// Refuses `w` when the memory it needs to run ([`plan::slice_memory_bytes`]) exceeds
    /// `available_bytes`. `rough` is an `f64` estimate of the same figure, used instead when it
    /// is too large for the exact `u64` arithmetic.
    #[allow(clippy::too_many_arguments)]
    fn check_memory(
        &self,
        w: &Workload,
        rough: f64,
        span: &Range<usize>,
        field: &str,
        what: &str,
        remedy: &str,
        available_bytes: u64,
    ) -> Result<(), WorkloadError> {
        let needed = if rough > MAX_EXACT_BYTES {
            rough
        } else {
            plan::slice_memory_bytes(w) as f64
        };
        if needed > available_bytes as f64 {
            return Err(self.error(
                Some(span),
                Some(field),
                format!(
                    "{what} needs about {} GiB of memory but this machine has {} GiB available; \
                     {remedy}",
                    gib(needed),
                    gib(available_bytes as f64)
                ),
            ));
        }
        Ok(())
    }
}

/// `bytes` in GiB, with as many digits as help.
fn gib(bytes: f64) -> String {
    let g = bytes / GIB;
    if g >= 1e6 {
        format!("{g:.1e}")
    } else if g >= 100.0 {
        format!("{g:.0}")
    } else if g >= 1.0 {
        format!("{g:.1}")
    } else {
        format!("{g:.2}")
    }
}

/// "in [target]", "in [[target.shapes]] entry 2", "at the top level".
fn section_phrase(parent: &str) -> String {
    if parent.is_empty() {
        return "at the top level".into();
    }
    if parent == "?" {
        return "in this table".into();
    }
    if let Some((array, rest)) = parent.rsplit_once('[')
        && let Some(i) = rest.strip_suffix(']')
        && !array.contains('[')
    {
        return format!("in [[{array}]] entry {i} (counting from 0)");
    }
    format!("in [{parent}]")
}

// ---------------------------------------------------------------------------------------------
// f64 estimates (overflow guards). They mirror `plan`'s formulas in floating point, so sizes that
// would overflow its u64 arithmetic are refused before it runs.

fn transformer_params_f64(t: &TransformerShape) -> f64 {
    let h = t.d_model as f64;
    let kvw = t.kv_heads as f64 * (t.d_model / t.heads) as f64;
    let f = t.d_ff as f64;
    let ffn_mats = match t.activation {
        Activation::Gelu => 2.0,
        Activation::Swiglu => 3.0,
    };
    let layer = h * (h + 2.0 * kvw) + h * h + ffn_mats * h * f + 4.0 * h;
    let embed = t.vocab as f64 * h;
    t.layers as f64 * layer + 2.0 * embed + t.seq_len as f64 * h + 2.0 * h
}

/// An upper estimate of `plan::transformer_step(t, batch).total_flops()`.
fn transformer_step_flops_f64(t: &TransformerShape, batch: usize) -> f64 {
    let (l, h, f, v) = (
        t.layers as f64,
        t.d_model as f64,
        t.d_ff as f64,
        t.vocab as f64,
    );
    let s = t.seq_len as f64;
    let tokens = batch as f64 * s;
    let params = transformer_params_f64(t);
    let pairs = batch as f64 * t.heads as f64;
    let d = (t.d_model / t.heads) as f64;
    let dense = 6.0 * tokens * params;
    let attention = l * pairs * s * s * (12.0 * d + 11.0);
    let elementwise = tokens * (8.0 * v + l * (30.0 * f + 40.0 * h) + 5.0 * h) + 16.0 * params;
    dense + attention + elementwise
}

/// Mirrors `plan::transformer_memory_bytes`.
fn transformer_bytes_f64(t: &TransformerShape, batch: usize) -> f64 {
    let tokens = batch as f64 * t.seq_len as f64;
    let (h, f, v) = (t.d_model as f64, t.d_ff as f64, t.vocab as f64);
    let kvw = t.kv_heads as f64 * (t.d_model / t.heads) as f64;
    let scores = batch as f64 * t.heads as f64 * (t.seq_len as f64).powi(2);
    let per_layer = tokens * (5.0 * h + 2.0 * kvw + 3.0 * f) + scores;
    let widest = h.max(f).max(h + 2.0 * kvw) * 2.0;
    let transient = 2.0 * tokens * v + 2.0 * scores + 4.0 * tokens * widest;
    4.0 * (4.0 * transformer_params_f64(t) + t.layers as f64 * per_layer + transient)
}

fn mlp_params_f64(m: &MlpShape) -> f64 {
    let (i, hd, c) = (m.d_in as f64, m.d_hidden as f64, m.classes as f64);
    i * hd + m.hidden_layers as f64 * hd * hd + hd * c
}

/// An upper estimate of `plan::mlp_step(m, batch).total_flops()`.
fn mlp_step_flops_f64(m: &MlpShape, batch: usize) -> f64 {
    let b = batch as f64;
    let params = mlp_params_f64(m);
    6.0 * b * params
        + b * (24.0 * m.hidden_layers as f64 * m.d_hidden as f64 + 8.0 * m.classes as f64)
        + 16.0 * params
}

/// Mirrors `plan::slice_memory_bytes` for an MLP.
fn mlp_bytes_f64(m: &MlpShape, batch: usize) -> f64 {
    let b = batch as f64;
    let widest = m.d_in.max(m.d_hidden).max(m.classes) as f64;
    let acts = b
        * (m.d_in as f64
            + 2.0 * m.hidden_layers as f64 * m.d_hidden as f64
            + 2.0 * m.classes as f64);
    4.0 * (4.0 * mlp_params_f64(m) + acts + 3.0 * b * widest)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            e.contains(
                "measure.heads: in the measured slice, kv_heads = 2 does not divide heads = 1"
            ),
            "{e}"
        );
    }

    #[test]
    fn slice_larger_than_target_names_both_values() {
        let e = err(&replace("batch = 4", "batch = 33"));
        assert!(
            e.contains(
                "measure.batch: the slice is larger than its target (33 > target.batch = 32)"
            ),
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
    /// `parse_workload` has it when the machine's memory cannot be read; minimised): a wide
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
        // With this machine's memory known, the memory check still speaks first.
        let e = err(text);
        assert!(
            e.starts_with("t.toml:16:1: measure: the measured slice needs about"),
            "{e}"
        );
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
        assert!(e.contains(":13:1: target.shapes[1].m: required field is missing from [[target.shapes]] entry 1"), "{e}");
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
        let e = err(
            "name = \"g\"\nkind = \"gemm\"\ndescription = \"d\"\n[target]\ndtypes = [\"f32\"]\n",
        );
        assert!(e.contains(":4:1: target: no product shapes"), "{e}");
        let e = err(&GEMM.replace("[64, 128]", "[64, 16777216]"));
        assert!(
            e.contains(
                ":7:15: target.square[1]: the product 16777216×16777216×16777216 in f32 needs about"
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
        /// The f64 guards bound the plan's exact u64 figures from above, so a size the guard
        /// lets through cannot overflow the plan.
        #[test]
        fn f64_guards_bound_the_plan(
            layers in 1usize..8, heads in 1usize..8, head_dim in 1usize..64, group in 1usize..4,
            d_ff in 1usize..512, vocab in 1usize..2000, seq_len in 1usize..256,
            batch in 1usize..8, swiglu in proptest::bool::ANY, rms in proptest::bool::ANY,
            learned in proptest::bool::ANY, tied in proptest::bool::ANY,
        ) {
            let t = TransformerShape {
                layers,
                d_model: heads * group * head_dim,
                heads: heads * group,
                kv_heads: heads,
                d_ff,
                vocab,
                seq_len,
                norm: if rms { Norm::Rmsnorm } else { Norm::Layernorm },
                activation: if swiglu { Activation::Swiglu } else { Activation::Gelu },
                positions: if learned { Positions::Learned } else { Positions::None },
                tied_embeddings: tied,
            };
            let exact = plan::transformer_step(&t, batch).total_flops() as f64;
            proptest::prop_assert!(transformer_step_flops_f64(&t, batch) >= exact);
            let bytes = plan::transformer_memory_bytes(&t, batch) as f64;
            proptest::prop_assert!(transformer_bytes_f64(&t, batch) >= bytes);
            let m = MlpShape { d_in: d_ff, d_hidden: vocab, hidden_layers: layers, classes: seq_len };
            let exact = plan::mlp_step(&m, batch).total_flops() as f64;
            proptest::prop_assert!(mlp_step_flops_f64(&m, batch) >= exact);
            let w = Workload {
                name: "m".into(),
                description: "d".into(),
                kind: WorkloadKind::Mlp(MlpWorkload {
                    target: m.clone(),
                    target_samples: 1,
                    target_batch: batch,
                    slice: m.clone(),
                    slice_batch: batch,
                }),
            };
            proptest::prop_assert!(mlp_bytes_f64(&m, batch) >= plan::slice_memory_bytes(&w) as f64);
        }
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
}
