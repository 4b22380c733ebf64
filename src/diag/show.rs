//! Showing untrusted text safely: every string that came from a file, a report or an argument
//! and reaches a terminal or a one-line message goes through [`printable`] (control characters
//! shown visibly, so a crafted report cannot retitle or clear a terminal, and a newline cannot
//! split a message) or [`short`] (the same, and cut to a bounded length, so a 100 KB file name
//! does not flood the screen).

use std::borrow::Cow;

/// The longest value a message shows in full, in characters; longer ones are cut in the middle.
pub const SHORT_MAX: usize = 160;

/// Whether `c` must not reach a terminal raw: C0 and C1 controls (ESC, BEL, CR, LF, …), DEL,
/// and the Unicode line/paragraph separators and bidirectional overrides that can reorder or
/// split what a reader sees.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `s` with every control character replaced by a visible escape (`\n`, `\t`, `\r`, `\e`,
/// `\u{9b}` …). Text without one is returned as it is (no copy).
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`printable`] of `s`, cut to at most about [`SHORT_MAX`] characters: the start and the end
/// are kept (a path's directory and file name) with "…(N chars)…" between them.
pub fn short(s: &str) -> String {
    let shown = printable(s);
    let n = shown.chars().count();
    if n <= SHORT_MAX {
        return shown.into_owned();
    }
    let keep = SHORT_MAX / 2 - 8;
    let head: String = shown.chars().take(keep).collect();
    let tail: String = shown.chars().skip(n - keep).collect();
    format!("{head}…({} chars)…{tail}", n - 2 * keep)
}

/// One line for a whole message: [`printable`], and every run of characters longer than
/// [`SHORT_MAX`] without a space (a file name, a value) cut as [`short`] cuts it.
pub fn one_line(message: &str) -> String {
    let shown = printable(message);
    shown
        .split(' ')
        .map(|word| {
            if word.chars().count() > SHORT_MAX {
                short(word)
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(printable("plain"), Cow::Borrowed("plain"));
        assert_eq!(printable("a\nb\tc\rd"), "a\\nb\\tc\\rd");
        assert_eq!(printable("\u{1b}]0;owned\u{7}"), "\\e]0;owned\\u{7}");
        assert_eq!(printable("x\u{9b}2J"), "x\\u{9b}2J");
        assert_eq!(printable("\u{202e}txt.exe"), "\\u{202e}txt.exe");
        assert_eq!(printable("\u{7f}"), "\\u{7f}");
        assert_eq!(printable("GPT-2 124M — Trainium"), "GPT-2 124M — Trainium");
    }

    #[test]
    fn long_values_are_cut_in_the_middle_and_keep_both_ends() {
        let long = format!("/tmp/{}/report.json", "d".repeat(100_000));
        let s = short(&long);
        assert!(s.chars().count() <= SHORT_MAX + 20, "{}", s.len());
        assert!(s.starts_with("/tmp/ddd"), "{s}");
        assert!(s.ends_with("report.json"), "{s}");
        assert!(s.contains("chars)"), "{s}");
        assert_eq!(short("short"), "short");
    }

    #[test]
    fn a_message_stays_on_one_line_and_bounded() {
        let name = "n".repeat(50_000);
        let m = one_line(&format!("could not write '{name}'\nsecond line: \u{1b}[2J"));
        assert!(!m.contains('\n') && !m.contains('\u{1b}'), "{m}");
        assert!(m.len() < 400, "{}", m.len());
        assert!(m.starts_with("could not write 'nnn"), "{m}");
        assert!(m.ends_with("line: \\e[2J"), "{m}");
    }
}
