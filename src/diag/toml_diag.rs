//! Diagnostics shared by the TOML file parsers (`workload::parse` and `catalog::parse`).
//!
//! This module owns the machinery that turns a problem in a TOML file into a **one-line**
//! `origin:line:col: field: message` error: byte offset → 1-based line and character column
//! ([`position_in`]), keeping text on one line ([`one_line`]), reading a size-limited UTF-8 file
//! ([`read_text_file`]), parsing the document and wording its syntax errors
//! ([`parse_document`]), indexing the parsed document into dotted paths with spans
//! ([`Index`]), and rewording `toml`/serde errors in the file's terms (unknown fields with
//! "did you mean" from [`closest`], expected/found types). Each parser keeps its own error type
//! and its own checks of meaning.

pub(crate) use super::suggest::closest;

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

// ---------------------------------------------------------------------------------------------
// Reading files.

/// Why a file could not be read as text; each parser turns it into its own error type.
pub(crate) enum ReadProblem {
    /// Missing, a directory, no permission, …
    Unreadable { path: String, reason: String },
    /// Too long or not UTF-8: `origin:line:col: message`.
    Invalid {
        origin: String,
        position: Option<Position>,
        message: String,
    },
}

/// Reads `path` as UTF-8 text, refusing directories and files over `max_bytes`; returns the
/// text and the origin to name it by. `what` names the kind of file in messages (`workload`,
/// `catalog`).
pub(crate) fn read_text_file(
    path: &Path,
    what: &str,
    max_bytes: u64,
) -> Result<(String, String), ReadProblem> {
    let origin = one_line(&path.display().to_string());
    let unreadable = |reason: String| ReadProblem::Unreadable {
        path: origin.clone(),
        reason,
    };
    let too_long = |len: u64| ReadProblem::Invalid {
        origin: origin.clone(),
        position: None,
        message: too_long_message(len, what, max_bytes),
    };
    let meta = std::fs::metadata(path).map_err(|e| unreadable(io_reason(&e, what)))?;
    if meta.is_dir() {
        return Err(unreadable(format!("it is a directory, not a {what} file")));
    }
    if meta.is_file() && meta.len() > max_bytes {
        return Err(too_long(meta.len()));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(io_reason(&e, what)))?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_long(bytes.len() as u64));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok((text, origin)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
            Err(ReadProblem::Invalid {
                position: Some(position_in(valid, valid.len())),
                origin,
                message: format!(
                    "not a UTF-8 text file (invalid byte 0x{:02x} at byte offset {at}); \
                     expected a TOML {what} file",
                    bytes[at]
                ),
            })
        }
    }
}

fn io_reason(e: &std::io::Error, what: &str) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => format!("it is a directory, not a {what} file"),
        _ => one_line(&e.to_string()),
    }
}

/// The message for a file of `len` bytes, over the `max_bytes` limit.
pub(crate) fn too_long_message(len: u64, what: &str, max_bytes: u64) -> String {
    format!("the file is {len} bytes; expected a {what} file of at most {max_bytes} bytes (1 MiB)")
}

// ---------------------------------------------------------------------------------------------
// Parsing and indexing the document.

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

    /// The entry at `span`: a key with exactly that span, else the deepest value with exactly
    /// that span, else the smallest value containing it.
    pub fn locate(&self, span: &Range<usize>) -> Option<&Entry> {
        if let Some(e) = self.entries.iter().find(|e| e.key.as_ref() == Some(span)) {
            return Some(e);
        }
        let exact = self.entries.iter().filter(|e| e.value == *span);
        if let Some(e) = exact.max_by_key(|e| e.path.len()) {
            return Some(e);
        }
        self.entries
            .iter()
            .filter(|e| e.value.start <= span.start && span.end <= e.value.end)
            .min_by_key(|e| e.value.end - e.value.start)
    }

    /// The span of the key at `path`, when there is one.
    pub fn key_span(&self, path: &str) -> Option<Range<usize>> {
        self.entries
            .iter()
            .find(|e| e.path == path)
            .and_then(|e| e.key.clone())
    }
}

fn index_table(table: &DeTable, prefix: &str, out: &mut Vec<Entry>) {
    for (k, v) in table.iter() {
        let path = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        out.push(Entry {
            path: path.clone(),
            key: Some(k.span()),
            value: v.span(),
            is_array: matches!(v.get_ref(), DeValue::Array(_)),
        });
        index_value(v.get_ref(), &path, out);
    }
}

fn index_value(v: &DeValue, path: &str, out: &mut Vec<Entry>) {
    match v {
        DeValue::Table(t) => index_table(t, path, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                out.push(Entry {
                    path: p.clone(),
                    key: None,
                    value: item.span(),
                    is_array: matches!(item.get_ref(), DeValue::Array(_)),
                });
                index_value(item.get_ref(), &p, out);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Rewording serde errors.

/// For serde's "unknown field `x`, expected one of `a`, `b`" message (already one line): the
/// unknown name and the allowed names (none when the table takes no fields).
pub(crate) fn unknown_field(message: &str) -> Option<(&str, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (name, rest) = rest.split_once('`')?;
    let allowed = match rest.trim_start_matches(", ") {
        r if r.starts_with("expected") => r
            .trim_start_matches("expected")
            .trim_start_matches(" one of")
            .split([',', ' '])
            .filter(|w| !w.is_empty() && *w != "or")
            .map(|w| w.trim_matches('`').to_string())
            .filter(|w| !w.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    Some((name, allowed))
}

/// ` (did you mean `b`?); expected one of a, b`, or `; this table takes no fields`.
pub(crate) fn unknown_field_hint(name: &str, allowed: &[String]) -> String {
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

/// For serde's "invalid type: X, expected Y" or "invalid value: …" message: what was found
/// and what was expected, in the file's terms.
pub(crate) fn invalid_type(message: &str) -> Option<(String, String)> {
    ["invalid type: ", "invalid value: "]
        .iter()
        .find_map(|prefix| {
            let rest = message.strip_prefix(prefix)?;
            let (found, expected) = rest.rsplit_once(", expected ")?;
            Some((friendly_found(found), friendly_expected(expected)))
        })
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

#[cfg(test)]
mod tests {
    /// Found by fuzzing (`catalog_parse`): an overlay whose figure cites an undefined short
    /// source name, with a long name defined under `[sources]`, spent minutes in the quadratic
    /// edit distance of the "did you mean" hint (two 20,000-character names: 48 s in the fuzz
    /// build; 300,000: over 5 minutes). It is refused at once now, with or without a hint.
    #[test]
    fn fuzz_long_source_names() {
        use crate::catalog::{Catalog, CatalogOverlay};
        let n = 100_000;
        let overlay = |defined: &str, cited: &str| {
            format!(
                "[sources]\n{defined} = \"x\"\n\n[[instances]]\nid = \"trn1.32xlarge\"\n\
                 network_bits_per_s = {{ value = 1, source = \"{cited}\", as_of = 2026-01-01 }}\n"
            )
        };
        let apply = |text: &str| {
            let start = std::time::Instant::now();
            let o = CatalogOverlay::parse(text, "o.toml").expect("the overlay parses");
            let e = Catalog::bundled().overlay(o).unwrap_err().to_string();
            assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
            assert!(!e.contains('\n'), "{e}");
            e
        };
        let long = |c: &str| format!("A{}", c.repeat(n));
        let e = apply(&overlay(&long("C"), &long("D")));
        assert!(
            e.starts_with("o.toml:6:44: instances[0].network_bits_per_s.source: `AD"),
            "{}",
            &e[..100]
        );
        assert!(e.contains("is not defined under [sources]; expected one of"));
        // A near miss of a long name still gets its hint.
        let e = apply(&overlay(&long("C"), &format!("{}X", long("C"))));
        assert!(e.contains("[sources] (did you mean `ACCC"), "{}", &e[..100]);
    }
}
