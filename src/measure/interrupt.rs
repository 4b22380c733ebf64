//! Ctrl-C (SIGINT) and SIGTERM during a measurement: the handler only raises a flag; the sampler
//! stops after the step it is timing, and `costbench run` then exits with code 130 before
//! writing anything. So an interrupted run leaves no report, no partial report and no
//! temporary file (writes are atomic and happen only after the flag is checked; a signal that
//! arrives during the write of one report lets that write finish, then stops). The command line
//! installs the handler (`cli/interrupt.rs`); this module only holds the flag.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The error `costbench` reports (exit code 130, 128 + SIGINT) when a run was interrupted.
#[derive(Debug, thiserror::Error)]
#[error("interrupted (Ctrl-C or SIGTERM): stopped before writing; no report was written")]
pub struct Interrupted;

/// Raises the flag (the signal handler's one job); true the first time.
pub fn request() -> bool {
    !REQUESTED.swap(true, Ordering::SeqCst)
}

/// Whether an interrupt has been received.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// `Err(Interrupted)` once an interrupt has been received.
pub fn check() -> Result<(), Interrupted> {
    if requested() {
        Err(Interrupted)
    } else {
        Ok(())
    }
}
