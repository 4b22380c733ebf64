//! The one place tables get their look (comfy-table): every terminal table — the exports'
//! `table` format, the summaries of `run`, `estimate` and `probe`, the catalog listing, the
//! history — and the Markdown tables are made here, never aligned by hand.

use comfy_table::{CellAlignment, ContentArrangement, LineStyle, Table, TableStyle, presets};

/// Results: a line above and below the table and under the header, none between rows.
const RULED: TableStyle = presets::UTF8_HORIZONTAL_ONLY.row_separator(LineStyle::none());

fn new(style: TableStyle, color: bool) -> Table {
    let mut t = Table::new();
    t.load_style(style)
        .set_content_arrangement(ContentArrangement::Disabled);
    if color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

/// A table of results with `header`; colours (verdicts) only when `color`.
pub fn ruled(header: &[&str], color: bool) -> Table {
    let mut t = new(RULED, color);
    t.set_header(header.iter().copied());
    t
}

/// A GitHub-flavoured Markdown table with `header` (cells escaped by the caller).
pub fn markdown(header: &[&str]) -> Table {
    let mut t = new(presets::ASCII_MARKDOWN, false);
    t.set_header(header.iter().copied());
    t
}

/// Columns without lines or header, two spaces apart, each line starting with one (a
/// label–value listing).
pub fn bare() -> Table {
    new(presets::NOTHING, false)
}

/// Right-aligns the columns at `columns` (figures).
pub fn align_right(t: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// `t` as text, every line indented by `indent` and without trailing blanks, ending in a
/// newline.
pub fn indented(t: &Table, indent: &str) -> String {
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(indent);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
