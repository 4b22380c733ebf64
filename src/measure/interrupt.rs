//! Ctrl-C (SIGINT) and SIGTERM during a measurement. The handler (`cli/interrupt.rs`) only
//! raises a flag, the one of `kernels::cancel`, so the long products see it too. Everything that
//! runs units of work checks it before starting the next one — the warm-up and sampling loops,
//! the first runs that choose the budget, the products of a sweep — and a product longer than
//! a few tens of milliseconds checks it between its chunks. The unit that was running when the
//! signal came is discarded, never recorded, and `costbench run` exits with code 130 without
//! writing anything more.
//!
//! Writing is the one thing a signal does not cut: a report being written when the signal comes
//! is completed (writes are atomic: temporary file, then link or rename), and the exit message
//! names every file the run wrote ([`record_written`]). A second signal quits at once, exit 130,
//! and so does the first after a grace period if the run has not stopped by then (something
//! that does not check the flag: the roofline probe on thousands of threads); both wait for a
//! write in progress ([`writing`]) so they never leave a temporary file.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Files (or `standard output`) written by this process, in order, for the exit message.
static WRITTEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Held while a file is written, so a second signal waits for it.
static WRITING: Mutex<()> = Mutex::new(());

/// The error `costbench` reports (exit code 130, 128 + SIGINT) when a run was interrupted: what
/// was written before the interrupt took effect, if anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", message(false, &self.written))]
pub struct Interrupted {
    /// Reports and pages the run had written, in order.
    pub written: Vec<String>,
}

impl Interrupted {
    /// The interruption as of now: with every file written so far.
    pub fn now() -> Self {
        Self { written: written() }
    }
}

/// The one line that says a run was interrupted — `twice`: by a second signal, which quits at
/// once — and what was and was not written.
pub fn message(twice: bool, written: &[String]) -> String {
    const SHOWN: usize = 4;
    let head = if twice {
        "interrupted twice (Ctrl-C or SIGTERM): quit at once"
    } else {
        "interrupted (Ctrl-C or SIGTERM): stopped"
    };
    if written.is_empty() {
        return format!("{head} before writing; no report was written");
    }
    let mut list = written[..written.len().min(SHOWN)].join(", ");
    if written.len() > SHOWN {
        list.push_str(&format!(" and {} more", written.len() - SHOWN));
    }
    format!("{head}; written before the interrupt, complete: {list}; nothing else was written")
}

/// Raises the flag (the signal handler's one job); true the first time.
pub fn request() -> bool {
    crate::kernels::cancel::raise()
}

/// Whether an interrupt has been received.
pub fn requested() -> bool {
    crate::kernels::cancel::raised()
}

/// `Err(Interrupted)` once an interrupt has been received.
pub fn check() -> Result<(), Interrupted> {
    if requested() {
        Err(Interrupted::now())
    } else {
        Ok(())
    }
}

/// Notes a file (or `standard output`) the run has written, for the exit message.
pub fn record_written(what: impl std::fmt::Display) {
    WRITTEN
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(what.to_string());
}

/// Every file recorded by [`record_written`], in order.
pub fn written() -> Vec<String> {
    WRITTEN
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Held while files are written: a handler that quits the process waits for the guard to drop,
/// so it never leaves a temporary file behind. Writes take milliseconds.
pub fn writing() -> MutexGuard<'static, ()> {
    WRITING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The process is ending on its own (its outcome about to be printed): from now on a handler
/// that would quit waits forever instead, so one line, not two, says how the run ended.
pub fn ending() {
    std::mem::forget(writing());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_says_what_was_written() {
        assert_eq!(
            message(false, &[]),
            "interrupted (Ctrl-C or SIGTERM): stopped before writing; no report was written"
        );
        assert_eq!(
            message(true, &[]),
            "interrupted twice (Ctrl-C or SIGTERM): quit at once before writing; no report was \
             written"
        );
        let one = message(false, &["results/a.json".to_string()]);
        assert!(
            one.contains("complete: results/a.json; nothing else"),
            "{one}"
        );
        let many: Vec<String> = (0..6).map(|i| format!("r{i}.json")).collect();
        let text = message(true, &many);
        assert!(
            text.contains("r0.json, r1.json, r2.json, r3.json and 2 more"),
            "{text}"
        );
        assert!(!text.contains('\n'));
    }
}
