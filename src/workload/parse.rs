//! Reading workload files: TOML text → a validated [`Workload`] (the format is documented in
//! `workloads/README.md`).
//!
//! Three layers, each reporting the first problem it finds as **one line** that names the file,
//! the line and column, the field (a dotted path such as `measure.layers`, array entries counted
//! from 0 as in `target.shapes[2].m`) and what was expected:
//!
//! 1. syntax: `toml`'s parser, whose error spans give the position;
//! 2. shape (this file): serde into private `Raw*` structs with `deny_unknown_fields`, every
//!    value wrapped in [`toml::Spanned`] so the checks can point at it. Every field is optional
//!    at this stage, so a missing field gets a message naming its section rather than serde's
//!    position-less `missing field`;
//! 3. meaning (`validate.rs`): sizes, divisibility, slice ≤ target, token counts, and that the
//!    plan of every step can be counted (`plan`'s checked arithmetic).
//!
//! Parsing is pure: it does not ask this machine anything. Whether the measured slice fits this
//! machine's memory is checked where a run is planned ([`parse_workload_with_memory`],
//! `bundled::resolve_for_run`, [`crate::workload::fit`]).
//!
//! Nothing is allocated in proportion to the sizes in the file: a workload asking for a model
//! wider than 2^24, or a step too large to count, is refused here, before any kernel sees it.

use crate::diag::toml_diag::{self, Doc, Expecting, Format, InvalidFile, Problem, ReadProblem};
use crate::workload::fit::{self, DoesNotFit, Unfit};
use crate::workload::spec::{Activation, Dtype, Norm, Positions, Workload};
use crate::workload::validate;
use serde::Deserialize;
use serde::de::{self, IgnoredAny, Visitor};
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use toml::Spanned;

/// Largest value any single dimension (layers, widths, heads, vocabulary, sequence length,
/// batch, m, n, k) may take: 2^24 = 16,777,216.
pub const MAX_DIMENSION: usize = 1 << 24;

/// Largest training-token (or sample) count of a target run: 10^18.
pub const MAX_TRAINING_TOKENS: u64 = 1_000_000_000_000_000_000;

/// Largest workload file accepted, in bytes (1 MiB; the bundled files are under 4 KiB).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

pub use crate::diag::toml_diag::Position;
pub use crate::workload::plan::MAX_STEP_FLOPS;

/// How workload files are read.
const FORMAT: Format = Format {
    what: "workload",
    max_bytes: MAX_FILE_BYTES,
    empty: "the file is empty (no settings); expected a workload with name, kind, description, \
            [target] and [measure] (see workloads/README.md)",
    syntax_errors_name_their_key: false,
};

/// Why a workload could not be loaded. Every variant displays as a single line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    /// The text is not a valid workload (or its slice does not fit this machine):
    /// `origin:line:col: field: message`.
    #[error(transparent)]
    Invalid(#[from] InvalidFile),
    /// The file could not be read (missing, a directory, no permission, …).
    #[error("could not read '{path}': {reason}")]
    Unreadable { path: String, reason: String },
    /// Neither a bundled workload name nor a file.
    #[error(
        "unknown workload '{name}': not a bundled name ({}) nor a file{}",
        known.join(", "),
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
    )]
    UnknownWorkload {
        name: String,
        known: Vec<String>,
        /// The bundled name the user most likely meant.
        suggestion: Option<String>,
    },
}

impl WorkloadError {
    /// The dotted path of the offending field, when the error is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            WorkloadError::Invalid(e) => e.field.as_deref(),
            _ => None,
        }
    }

    /// Where in the file the problem is, when known.
    pub fn position(&self) -> Option<Position> {
        match self {
            WorkloadError::Invalid(e) => e.position,
            _ => None,
        }
    }
}

/// Reads and validates a workload file; errors name the file as `path` was given. Pure: the
/// slice is not checked against this machine's memory (see [`load_workload_with_memory`]).
pub fn load_workload(path: &Path) -> Result<Workload, WorkloadError> {
    let (text, origin) = read_file(path)?;
    parse_workload(&text, &origin)
}

/// [`load_workload`], then checks that the measured slice fits in `available_bytes`.
pub fn load_workload_with_memory(
    path: &Path,
    available_bytes: u64,
) -> Result<Workload, WorkloadError> {
    let (text, origin) = read_file(path)?;
    parse_workload_with_memory(&text, &origin, available_bytes)
}

fn read_file(path: &Path) -> Result<(String, String), WorkloadError> {
    toml_diag::read_text_file(path, &FORMAT).map_err(|p| match p {
        ReadProblem::Unreadable { path, reason } => WorkloadError::Unreadable { path, reason },
        ReadProblem::Invalid(e) => WorkloadError::Invalid(e),
    })
}

/// Parses and validates workload text; `origin` names it in error messages (usually the file
/// path). Pure: nothing about this machine is asked or checked.
pub fn parse_workload(text: &str, origin: &str) -> Result<Workload, WorkloadError> {
    Ok(read(text, origin)?.1)
}

/// [`parse_workload`], then checks that the measured slice fits in `available_bytes`
/// ([`fit::check_fits`]), reporting a slice that does not at its place in the file.
/// `u64::MAX` checks nothing more than [`parse_workload`].
pub fn parse_workload_with_memory(
    text: &str,
    origin: &str,
    available_bytes: u64,
) -> Result<Workload, WorkloadError> {
    let (doc, w) = read(text, origin)?;
    fit::check_fits(&w, available_bytes).map_err(|e| doc.fit_error(e))?;
    Ok(w)
}

/// The document and the workload validated from it.
fn read<'a>(text: &'a str, origin: &'a str) -> Result<(WorkloadDoc<'a>, Workload), InvalidFile> {
    let doc = WorkloadDoc(Doc::new(text, origin, &FORMAT)?);
    let header: RawHeader = doc.read()?;
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
    let raw = match kind.get_ref().0 {
        KindName::Gemm => RawWorkload::Gemm(doc.read()?),
        KindName::Mlp => RawWorkload::Mlp(doc.read()?),
        KindName::Transformer => RawWorkload::Transformer(doc.read()?),
    };
    let w = validate::workload(&doc, &raw)?;
    Ok((doc, w))
}

// ---------------------------------------------------------------------------------------------
// Raw (as written) forms.

/// What a size is expected to be, in messages.
pub(super) struct Positive;
impl Expecting for Positive {
    const TEXT: &'static str = "a positive integer";
}

/// What a count of training tokens or samples is expected to be.
pub(super) struct WholePositive;
impl Expecting for WholePositive {
    const TEXT: &'static str = COUNT_EXPECTED;
}

pub(super) const COUNT_EXPECTED: &str =
    "a whole positive number (an integer, or a float such as 2e12)";

/// An integer as written, before range checks.
pub(super) type Int = toml_diag::Int<Positive>;

/// A count of training tokens or samples: an integer, or a float such as `2e12`.
pub(super) type Count = toml_diag::Number<WholePositive>;

/// A string-valued setting with a fixed set of allowed values.
pub(super) trait Choice: Copy + 'static {
    const ALL: &'static [(&'static str, Self)];
}

pub(super) fn choice_names<T: Choice>() -> String {
    T::ALL
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One of a [`Choice`]'s values, as written.
pub(super) struct Pick<T>(pub T);

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

pub(super) type Field<T> = Option<Spanned<T>>;

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

/// The whole file as read, by kind (one short-lived value per file read, so its size is no
/// concern).
#[allow(clippy::large_enum_variant)]
pub(super) enum RawWorkload {
    Gemm(RawFile<RawGemmTarget, RawGemmMeasure>),
    Mlp(RawFile<RawMlpTarget, RawMlpMeasure>),
    Transformer(RawFile<RawTransformerTarget, RawTransformerMeasure>),
}

/// The whole file, with the kind's own `[target]` and `[measure]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile<T, M> {
    pub name: Field<String>,
    #[allow(dead_code)]
    kind: Option<IgnoredAny>,
    pub description: Field<String>,
    pub target: Field<T>,
    pub measure: Field<M>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTransformerTarget {
    pub layers: Field<Int>,
    pub d_model: Field<Int>,
    pub heads: Field<Int>,
    pub kv_heads: Field<Int>,
    pub d_ff: Field<Int>,
    pub vocab: Field<Int>,
    pub seq_len: Field<Int>,
    pub norm: Field<Pick<Norm>>,
    pub activation: Field<Pick<Activation>>,
    pub positions: Field<Pick<Positions>>,
    pub tied_embeddings: Field<bool>,
    pub tokens: Field<Count>,
    pub batch: Field<Int>,
    pub experts: Field<Int>,
    pub top_k: Field<Int>,
    pub shared_experts: Field<Int>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTransformerMeasure {
    pub layers: Field<Int>,
    pub batch: Field<Int>,
    pub seq_len: Field<Int>,
    pub d_model: Field<Int>,
    pub heads: Field<Int>,
    pub kv_heads: Field<Int>,
    pub d_ff: Field<Int>,
    pub vocab: Field<Int>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMlpTarget {
    pub d_in: Field<Int>,
    pub d_hidden: Field<Int>,
    pub hidden_layers: Field<Int>,
    pub classes: Field<Int>,
    pub samples: Field<Count>,
    pub batch: Field<Int>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMlpMeasure {
    pub batch: Field<Int>,
    pub hidden_layers: Field<Int>,
    pub d_in: Field<Int>,
    pub d_hidden: Field<Int>,
    pub classes: Field<Int>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGemmTarget {
    pub dtypes: Field<Vec<Spanned<Pick<Dtype>>>>,
    pub square: Field<Vec<Spanned<Int>>>,
    pub shapes: Field<Vec<Spanned<RawGemmShape>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGemmShape {
    pub m: Field<Int>,
    pub n: Field<Int>,
    pub k: Field<Int>,
    pub batch: Field<Int>,
    pub label: Field<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGemmMeasure {
    pub dtypes: Field<Vec<Spanned<Pick<Dtype>>>>,
}

// ---------------------------------------------------------------------------------------------
// The document.

/// A workload document: the shared TOML document, read in the workload's terms.
pub(super) struct WorkloadDoc<'a>(Doc<'a>);

impl<'a> std::ops::Deref for WorkloadDoc<'a> {
    type Target = Doc<'a>;
    fn deref(&self) -> &Doc<'a> {
        &self.0
    }
}

impl WorkloadDoc<'_> {
    /// Reads the document into `T` with serde, wording a refusal in the workload's terms.
    fn read<T: de::DeserializeOwned>(&self) -> Result<T, InvalidFile> {
        self.deserialize().map_err(|r| {
            let path = r.path.as_deref();
            match &r.problem {
                Problem::UnknownField { name, allowed } => {
                    let msg = format!(
                        "unknown field `{name}` {}{}",
                        section_phrase(r.parent()),
                        toml_diag::Refusal::unknown_field_hint(name, allowed)
                    );
                    self.error(r.span.as_ref(), None, msg)
                }
                Problem::Mismatch { found, expected } => self.error(
                    r.span.as_ref(),
                    path,
                    format!("expected {expected}, found {found}"),
                ),
                Problem::OutOfRange => self.error(
                    r.span.as_ref(),
                    path,
                    "expected a finite number (counts at most 1e18), found one beyond the \
                     floating-point range",
                ),
                Problem::Other(message) => self.error(r.span.as_ref(), path, message.as_str()),
            }
        })
    }

    /// serde reads an array into a struct positionally (`shapes = [[1, 2, 3]]` would be m, n,
    /// k); the format has no positional tables, so an array where a table belongs is refused.
    fn refuse_arrays_for_tables(&self) -> Result<(), InvalidFile> {
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

    /// A slice that does not fit, at its place in the file: the `[measure]` table, or the
    /// product's entry (`target.square[i]` or `target.shapes[j]`, squares first).
    fn fit_error(&self, e: DoesNotFit) -> WorkloadError {
        let path = match e.what {
            Unfit::Slice => "measure".to_string(),
            Unfit::Product(i) => {
                let squares = self.index.array_len("target.square");
                if i < squares {
                    format!("target.square[{i}]")
                } else {
                    format!("target.shapes[{}]", i - squares)
                }
            }
        };
        let span = self.index.value_span(&path);
        self.error(span.as_ref(), Some(&path), e.message).into()
    }
}

/// "in [target]", "in [[target.shapes]] entry 2", "at the top level".
pub(super) fn section_phrase(parent: &str) -> String {
    if parent.is_empty() {
        return "at the top level".into();
    }
    if let Some((array, rest)) = parent.rsplit_once('[')
        && let Some(i) = rest.strip_suffix(']')
        && !array.contains('[')
    {
        return format!("in [[{array}]] entry {i} (counting from 0)");
    }
    format!("in [{parent}]")
}
