//! Text from files and arguments (a report's workload name, CPU model, labels, sources, file
//! paths) placed into every output safely, one rule per kind of output:
//!
//! - **terminal** ([`term`]): control characters shown visibly (`\e`, `\n`, `\u{9b}` …) by
//!   [`crate::diag::show::printable`], so a crafted report cannot retitle or clear a terminal,
//!   move its cursor or split a table row;
//! - **Markdown** ([`markdown`], [`code`]): `&`, `<`, `>` as entities, `|` escaped (a table
//!   cell stays one cell), line breaks as spaces (a row stays one row), other controls shown
//!   visibly — so `<script>` is text, never markup;
//! - **CSV** ([`csv_field`]): a text cell that a spreadsheet would run as a formula (starting
//!   with `=`, `+`, `-`, `@`, tab or carriage return; OWASP's "CSV injection" rule) gets a
//!   leading `'` and is quoted; a number costbench wrote, such as `-3.2`, stays a number;
//! - **XML** (SVG and HTML, [`xml_chars`]): characters XML 1.0 forbids (C0 controls other than
//!   tab, line feed and carriage return; U+FFFE and U+FFFF) and the C1 controls and DEL are
//!   replaced by U+FFFD in the finished document, so every SVG and HTML page is well-formed
//!   whatever the report held. (Markup characters are escaped where the text is inserted:
//!   maud in HTML, plotters and `chart::escape` in SVG.)

use crate::diag::show::printable;
use std::borrow::Cow;

/// `s` for a terminal: control characters shown visibly.
pub fn term(s: &str) -> Cow<'_, str> {
    printable(s)
}

/// `s` as Markdown text (table cells, headings, prose): `&`, `<` and `>` as entities, `|` as
/// `\|`, line breaks as spaces and other control characters shown visibly.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            c => out.push(c),
        }
    }
    out
}

/// `s` as Markdown inline code (`` `s` ``): a code span shows its content literally, so only a
/// `|` (which would end a table cell) is escaped and line breaks become spaces. A value holding
/// a backtick, which would end the span early, is shown as escaped text instead.
pub fn code(s: &str) -> String {
    if s.contains('`') {
        return markdown(s);
    }
    format!("`{}`", one_line(s).replace('|', "\\|"))
}

/// Line breaks (and the Unicode line and paragraph separators) as spaces, then every other
/// control character shown visibly: text that must stay on its line.
fn one_line(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\u{2028}' | '\u{2029}' => ' ',
            c => c,
        })
        .collect();
    printable(&flat).into_owned()
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, or when it
/// was neutralised. A field starting with `=`, `+`, `@`, tab or carriage return, or with `-`
/// and not a number, is a formula to a spreadsheet: it gets a leading `'` and is quoted
/// (OWASP, "CSV Injection"). Control characters are shown visibly (the CSV may be printed on a
/// terminal).
pub fn csv_field(s: &str) -> String {
    let formula = match s.chars().next() {
        Some('=' | '+' | '@' | '\t' | '\r') => true,
        Some('-') => !s.parse::<f64>().is_ok_and(f64::is_finite),
        _ => false,
    };
    let text = printable(s);
    let text = if formula {
        format!("'{text}")
    } else {
        text.into_owned()
    };
    if formula || text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// One CSV record: the fields by [`csv_field`], comma-separated, ending in a line feed.
pub fn csv_record<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    let line: Vec<String> = fields.iter().map(|f| csv_field(f.as_ref())).collect();
    out.push_str(&line.join(","));
    out.push('\n');
}

/// Whether `c` may not appear in an XML document (or is a control character no document
/// should carry): C0 controls but tab, line feed and carriage return; DEL and the C1
/// controls; the non-characters U+FFFE and U+FFFF.
fn not_xml(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// A finished SVG or HTML document with every character XML 1.0 forbids (and the C1
/// controls) replaced by U+FFFD. Every SVG and HTML writer returns its document through this.
pub fn xml_chars(doc: String) -> String {
    if !doc.chars().any(not_xml) {
        return doc;
    }
    doc.chars()
        .map(|c| if not_xml(c) { '\u{FFFD}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_shows_control_characters() {
        assert_eq!(term("a\u{1b}]0;t\u{7}\u{1b}[2J"), "a\\e]0;t\\u{7}\\e[2J");
        assert_eq!(term("plain"), "plain");
    }

    #[test]
    fn markdown_text_cannot_open_markup_or_break_a_row() {
        assert_eq!(
            markdown("<script>alert(1)</script>|x\ny&z"),
            "&lt;script&gt;alert(1)&lt;/script&gt;\\|x y&amp;z"
        );
        assert_eq!(markdown("a\r\nb\u{1b}"), "a  b\\e");
        assert_eq!(code("op.matmul.time"), "`op.matmul.time`");
        assert_eq!(code("a|b\nc"), "`a\\|b c`");
        assert_eq!(code("x`<b>"), "x`&lt;b&gt;");
    }

    #[test]
    fn csv_formulas_are_neutralised_and_numbers_kept() {
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_field("+1"), "\"'+1\"");
        assert_eq!(csv_field("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(
            csv_field("-1+cmd|' /C calc'!A0"),
            "\"'-1+cmd|' /C calc'!A0\""
        );
        assert_eq!(csv_field("\tx"), "\"'\\tx\"");
        assert_eq!(csv_field("-3.2"), "-3.2");
        assert_eq!(csv_field("-1e-5"), "-1e-5");
        assert_eq!(csv_field("3.2"), "3.2");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field(""), "");
        assert_eq!(csv_field("x\u{1b}[2J"), "x\\e[2J");
        let mut out = String::new();
        csv_record(&mut out, &["a", "=1", "-2"]);
        assert_eq!(out, "a,\"'=1\",-2\n");
    }

    #[test]
    fn xml_documents_lose_forbidden_characters() {
        let doc = "<t>a\u{1b}[2J\u{7}\u{0}b\u{9b}\u{ffff}\t\n\r</t>".to_string();
        assert_eq!(
            xml_chars(doc),
            "<t>a\u{fffd}[2J\u{fffd}\u{fffd}b\u{fffd}\u{fffd}\t\n\r</t>"
        );
        assert_eq!(xml_chars("<t>é ✓</t>".into()), "<t>é ✓</t>");
    }
}
