//! Ctrl-C (SIGINT) and SIGTERM wiring: the handler only raises the library's flag
//! (`costbench::measure::interrupt`), which the sampler checks after every step. The `ctrlc`
//! crate installs it (a self-pipe thread, so nothing unsafe runs in signal context).

use costbench::measure::interrupt;

/// Installs the handler. Once per process; a second call is an error from `ctrlc`, ignored.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if interrupt::request() {
            eprintln!(
                "\ninterrupt received: finishing the current step, then stopping without writing a report"
            );
        }
    });
}
