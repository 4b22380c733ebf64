//! Usage errors found after clap has parsed the command line: arguments that cannot go together,
//! or a value that can never work, checked by hand because clap cannot express the rule. They
//! exit 2 like clap's own usage errors and are printed by clap in the same style (`error: …`, the
//! command's usage, a hint pointing at `--help`), so every usage error reads alike.
//!
//! The line between the codes: a usage error is about the command line itself (it would fail
//! on any machine, with any files); a runtime error (exit 1) is about the world: a file missing,
//! unreadable or with invalid contents, a directory that cannot be written, a measurement that
//! failed.

use std::fmt;

/// A command line that can never work. Returned through `anyhow` and recognised by
/// [`super::main`], which exits 2.
#[derive(Debug)]
pub struct UsageError(String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A usage error saying `message` (one line: what is wrong and what would work).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// `Err(usage(message()))` unless `ok`.
pub fn ensure(ok: bool, message: impl FnOnce() -> String) -> anyhow::Result<()> {
    if ok { Ok(()) } else { Err(usage(message())) }
}

/// Whether `e` (or anything in its chain) is a usage error.
pub fn is_usage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<UsageError>())
}
