//! `--color auto|always|never`: whether terminal tables carry colour (verdicts of `compare`,
//! `report`'s table). `auto` follows the conventions the Rust CLI ecosystem shares through
//! anstream: colour only on a terminal, never with `NO_COLOR` set or `TERM=dumb`, and forced by
//! `CLICOLOR_FORCE` even into a pipe (NO_COLOR still wins).

use clap::ValueEnum;
use std::sync::OnceLock;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ColorWhen {
    /// The default: colour on a terminal, honouring NO_COLOR, CLICOLOR_FORCE and TERM=dumb.
    #[default]
    Auto,
    /// Always colour, even into a file or a pipe.
    Always,
    /// Never colour.
    Never,
}

static CHOICE: OnceLock<ColorWhen> = OnceLock::new();

/// Records the command line's choice (once, at start).
pub fn set(choice: ColorWhen) {
    let _ = CHOICE.set(choice);
}

/// Whether what goes to standard output may carry colour.
pub fn stdout_enabled() -> bool {
    match CHOICE.get().copied().unwrap_or_default() {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => !matches!(
            anstream::AutoStream::choice(&std::io::stdout()),
            anstream::ColorChoice::Never
        ),
    }
}
