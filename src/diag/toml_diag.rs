//! Diagnostics shared by the TOML file parsers (`workload::parse` and `catalog::parse`).
//!
//! This module owns the machinery that turns a problem in a TOML file into a **one-line**
//! `origin:line:col: field: message` error ([`InvalidFile`]): byte offset → 1-based line and
//! character column ([`position_in`]), keeping text on one line ([`one_line`]), reading a
//! size-limited UTF-8 file ([`read_text_file`]), parsing the document and wording its syntax
//! errors, indexing it into dotted paths with spans ([`Index`]), and reading it with serde into
//! a parser's raw structs ([`Doc::deserialize`]), each refusal in the file's terms: the field
//! path from serde (`serde_path_to_error`), its position from the index, unknown fields with
//! "did you mean" ([`closest`]), expected and found types. Each parser keeps its own error type
//! (which wraps [`InvalidFile`]) and its own checks of meaning.

pub(crate) use super::numbers::{Expecting, Int, Number, Written};
pub(crate) use super::suggest::closest;

pub(crate) use super::de::Problem;

use super::de as structured;
use super::read;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A 1-based line and column (columns count characters) in a TOML file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// `:line:col`, or nothing when the position is unknown (for `Display` of errors).
pub(crate) fn position_suffix(p: &Option<Position>) -> String {
    p.map(|p| format!(":{}:{}", p.line, p.column))
        .unwrap_or_default()
}

/// `field: `, or nothing when there is no field (for `Display` of errors).
pub(crate) fn field_prefix(f: &Option<String>) -> String {
    f.as_ref().map(|f| format!("{f}: ")).unwrap_or_default()
}

/// Replaces line breaks and other control characters so a message stays on one line.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// 1-based line and character column of byte `offset` in `text`. An offset inside a
/// multi-byte character is moved back to its start.
pub(crate) fn position_in(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

/// A problem in a file, displayed as one line: `origin:line:col: field: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{origin}{}: {}{message}",
    position_suffix(position),
    field_prefix(field)
)]
pub struct InvalidFile {
    /// The file as named by the user (or `workloads/<name>.toml (bundled)`).
    pub origin: String,
    /// Where the offending value (or its section) is, when known.
    pub position: Option<Position>,
    /// Dotted path of the offending field, e.g. `measure.layers`.
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

/// What kind of file a parser reads: how messages name it, its size limit, what an empty one
/// is told.
pub(crate) struct Format {
    /// `workload`, `catalog`.
    pub what: &'static str,
    pub max_bytes: u64,
    /// The message for a file with no settings.
    pub empty: &'static str,
    /// Whether a syntax error names the key being assigned before it (see [`key_before`]).
    pub syntax_errors_name_their_key: bool,
}

// ---------------------------------------------------------------------------------------------
// Reading files.

/// Why a file could not be read as text; each parser turns it into its own error type.
pub(crate) enum ReadProblem {
    /// Missing, a directory, no permission, …
    Unreadable { path: String, reason: String },
    /// Too long or not UTF-8.
    Invalid(InvalidFile),
}

/// Reads `path` as UTF-8 text, refusing directories and files over the format's limit; returns
/// the text and the origin to name it by.
pub(crate) fn read_text_file(
    path: &Path,
    format: &Format,
) -> Result<(String, String), ReadProblem> {
    let what = format.what;
    let origin = one_line(&path.display().to_string());
    let unreadable = |reason: String| ReadProblem::Unreadable {
        path: origin.clone(),
        reason,
    };
    // Bounded whatever the file is: a regular file by its length, a device, FIFO or pipe by
    // reading at most one byte past the limit (diag::read).
    let bytes =
        read::bounded(path, format.max_bytes, &format!("{what} file")).map_err(|e| {
            match e.problem {
                read::Problem::TooLarge { .. } => ReadProblem::Invalid(InvalidFile {
                    origin: origin.clone(),
                    position: None,
                    field: None,
                    message: e.reason(),
                }),
                _ => unreadable(e.reason()),
            }
        })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok((text, origin)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
            Err(ReadProblem::Invalid(InvalidFile {
                position: Some(position_in(valid, valid.len())),
                origin,
                field: None,
                message: format!(
                    "not a UTF-8 text file (invalid byte 0x{:02x} at byte offset {at}); \
                     expected a TOML {what} file",
                    bytes[at]
                ),
            }))
        }
    }
}

/// The error for a text of `len` bytes, over the format's limit.
fn too_long(origin: &str, len: u64, format: &Format) -> InvalidFile {
    InvalidFile {
        origin: origin.to_string(),
        position: None,
        field: None,
        message: read::ReadError {
            path: String::new(),
            what: format!("{} file", format.what),
            problem: read::Problem::TooLarge {
                limit: format.max_bytes,
                size: Some(len),
            },
        }
        .reason(),
    }
}

// ---------------------------------------------------------------------------------------------
// The document: its text, and where every key and value is.

/// A parsed TOML document with its origin and index, which the parsers read and point into.
pub(crate) struct Doc<'a> {
    origin: &'a str,
    text: &'a str,
    root: Spanned<DeTable<'a>>,
    pub index: Index,
}

impl<'a> Doc<'a> {
    /// Checks size and syntax, refuses an empty document, and indexes every key.
    pub fn new(text: &'a str, origin: &'a str, format: &Format) -> Result<Self, InvalidFile> {
        let error = |span: Option<&Range<usize>>, field: Option<&str>, message: &str| {
            located(origin, text, span, field, message)
        };
        if text.len() as u64 > format.max_bytes {
            return Err(too_long(&one_line(origin), text.len() as u64, format));
        }
        let root = parse_document(text).map_err(|(span, message)| {
            let field = span
                .as_ref()
                .filter(|_| format.syntax_errors_name_their_key)
                .and_then(|s| key_before(text, s.start));
            error(span.as_ref(), field.as_deref(), &message)
        })?;
        if root.get_ref().is_empty() {
            return Err(error(None, None, format.empty));
        }
        let index = Index::new(root.get_ref());
        Ok(Doc {
            origin,
            text,
            root,
            index,
        })
    }

    /// An error at `span` (when known) about `field` (when there is one).
    pub fn error(
        &self,
        span: Option<&Range<usize>>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> InvalidFile {
        located(self.origin, self.text, span, field, &message.into())
    }

    /// An error about the value `v` of field `path`.
    pub fn at<T>(&self, v: &Spanned<T>, path: &str, message: impl Into<String>) -> InvalidFile {
        self.error(Some(&v.span()), Some(path), message)
    }

    /// The position of byte offset `offset`.
    pub fn position(&self, offset: usize) -> Position {
        position_in(self.text, offset)
    }

    /// Reads the document into `T` (a parser's raw structs) with serde. A refusal names the
    /// field path (from serde) and its span (from the index: the key of an unknown field, else
    /// the value), and says what was expected in the file's terms.
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<T, Refusal> {
        let reader = toml::Deserializer::from(self.root.clone());
        structured::deserialize(reader, is_reader_key).map_err(|f| {
            let entry = self.index.entries.iter().find(|e| e.path == f.path);
            let value = entry.map(|e| e.value.clone());
            let (span, problem) = match f.problem {
                p @ Problem::UnknownField { .. } => (entry.and_then(|e| e.key.clone()), p),
                Problem::Mismatch { found, expected } => (
                    value,
                    Problem::Mismatch {
                        found: friendly_found(&found),
                        expected: friendly_expected(&expected),
                    },
                ),
                // The reader's own errors at a number: one it cannot hold.
                Problem::Other(_) if entry.is_some_and(|e| e.is_number) => {
                    (value, Problem::OutOfRange)
                }
                Problem::Other(message) => (value, Problem::Other(one_line(message.trim()))),
                p @ Problem::OutOfRange => (value, p),
            };
            Refusal {
                span,
                path: (!f.path.is_empty()).then_some(f.path),
                problem,
            }
        })
    }
}

/// An [`InvalidFile`] in `text` (named `origin`) at `span`.
fn located(
    origin: &str,
    text: &str,
    span: Option<&Range<usize>>,
    field: Option<&str>,
    message: &str,
) -> InvalidFile {
    InvalidFile {
        origin: one_line(origin),
        position: span.map(|s| position_in(text, s.start)),
        field: field.map(one_line),
        message: one_line(message),
    }
}

/// Keys of `toml`'s own machinery in serde's view of the document (`Spanned` values are read as
/// maps with private keys), which are not part of a field path.
fn is_reader_key(key: &str) -> bool {
    key.starts_with("$__serde_spanned_private_") || key.starts_with("$__toml_private_")
}

/// Parses `text` as a TOML document. On a syntax error, returns its span and the one-line
/// message `invalid TOML: …` (naming the offending text, e.g. the duplicate key, when `toml`
/// does not).
pub(crate) fn parse_document(
    text: &str,
) -> Result<Spanned<DeTable<'_>>, (Option<Range<usize>>, String)> {
    DeTable::parse(text).map_err(|e| {
        let span = e.span();
        let mut message = one_line(e.message().trim());
        // toml says only "duplicate key"; name it.
        if let Some(s) = &span
            && let Some(key) = text.get(s.clone())
            && !key.is_empty()
            && key.len() <= 64
            && !message.contains(key)
        {
            message = format!("{message} `{}`", one_line(key));
        }
        (span, format!("invalid TOML: {message}"))
    })
}

/// For a syntax error at byte `offset`, the key being assigned on that line before it
/// (`as_of` in `… as_of = 2026-02-30 }`), as written: the parser gives no path, but the key
/// tells the reader which value is wrong.
pub(crate) fn key_before(text: &str, offset: usize) -> Option<String> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line = &text[text[..offset].rfind('\n').map_or(0, |i| i + 1)..offset];
    let (before, _) = line.rsplit_once('=')?;
    let key: String = before
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || "_-.".contains(*c))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!key.is_empty()).then_some(key)
}

/// One key (or array element) of the document and where it is.
pub(crate) struct Entry {
    /// Dotted path, array entries counted from 0: `target.shapes[2].m`.
    pub path: String,
    /// The key's span (none for array elements).
    pub key: Option<Range<usize>>,
    /// The value's span.
    pub value: Range<usize>,
    /// Whether the value is an array.
    pub is_array: bool,
    /// Whether the value is an integer or a float.
    pub is_number: bool,
}

/// Every key and array element of a parsed document, with its dotted path and spans.
#[derive(Default)]
pub(crate) struct Index {
    pub entries: Vec<Entry>,
}

impl Index {
    /// Indexes the document's root table.
    pub fn new(root: &DeTable) -> Self {
        let mut index = Index::default();
        index_table(root, "", &mut index.entries);
        index
    }

    fn entry(&self, path: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.path == path)
    }

    /// The span of the key at `path`, when there is one.
    pub fn key_span(&self, path: &str) -> Option<Range<usize>> {
        self.entry(path).and_then(|e| e.key.clone())
    }

    /// The span of the value at `path`, when there is one.
    pub fn value_span(&self, path: &str) -> Option<Range<usize>> {
        self.entry(path).map(|e| e.value.clone())
    }

    /// How many elements the array at `path` has (0 when there is none).
    pub fn array_len(&self, path: &str) -> usize {
        let prefix = format!("{path}[");
        self.entries
            .iter()
            .filter(|e| {
                e.path
                    .strip_prefix(&prefix)
                    .and_then(|r| r.strip_suffix(']'))
                    .is_some_and(|i| i.chars().all(|c| c.is_ascii_digit()))
            })
            .count()
    }
}

fn entry(path: String, key: Option<Range<usize>>, value: &Spanned<DeValue>) -> Entry {
    Entry {
        path,
        key,
        value: value.span(),
        is_array: matches!(value.get_ref(), DeValue::Array(_)),
        is_number: matches!(value.get_ref(), DeValue::Integer(_) | DeValue::Float(_)),
    }
}

fn index_table(table: &DeTable, prefix: &str, out: &mut Vec<Entry>) {
    for (k, v) in table.iter() {
        let path = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        out.push(entry(path.clone(), Some(k.span()), v));
        index_value(v.get_ref(), &path, out);
    }
}

fn index_value(v: &DeValue, path: &str, out: &mut Vec<Entry>) {
    match v {
        DeValue::Table(t) => index_table(t, path, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                out.push(entry(p.clone(), None, item));
                index_value(item.get_ref(), &p, out);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// What serde refused.

/// A value serde refused while reading the document into a parser's raw structs; each parser
/// words it with [`Refusal::message`] or its own phrasing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refusal {
    /// The key of an unknown field, else the value, when known.
    pub span: Option<Range<usize>>,
    /// The dotted field path (the unknown key's own path for an unknown field).
    pub path: Option<String>,
    pub problem: Problem,
}

impl Refusal {
    /// The path of the table holding the refused field (`target`, `target.shapes[1]`; empty at
    /// the top level).
    pub fn parent(&self) -> &str {
        self.path
            .as_deref()
            .and_then(|p| p.rsplit_once('.').map(|(parent, _)| parent))
            .unwrap_or("")
    }

    /// The message for an unknown field: ` (did you mean `b`?); expected one of a, b`, or `;
    /// this table takes no fields`, after what the parser says first.
    pub fn unknown_field_hint(name: &str, allowed: &[&str]) -> String {
        let mut msg = String::new();
        if let Some(close) = closest(name, allowed) {
            msg.push_str(&format!(" (did you mean `{close}`?)"));
        }
        if allowed.is_empty() {
            msg.push_str("; this table takes no fields");
        } else {
            msg.push_str(&format!("; expected one of {}", allowed.join(", ")));
        }
        msg
    }
}

/// serde's names for what a field takes, in the file's terms.
fn friendly_expected(e: &str) -> String {
    if e.starts_with("struct ") || e == "a map" {
        "a table".into()
    } else if e == "a sequence" {
        "an array".into()
    } else if e == "a boolean" {
        "true or false".into()
    } else {
        e.to_string()
    }
}

/// serde's names for what was found, in the file's terms.
fn friendly_found(f: &str) -> String {
    match f {
        "sequence" => "an array".into(),
        "map" => "a table".into(),
        _ => f.to_string(),
    }
}
