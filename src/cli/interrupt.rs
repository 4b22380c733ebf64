//! Ctrl-C (SIGINT) and SIGTERM wiring. The first signal raises the library's flag
//! (`crate::measure::interrupt`): the run stops before its next unit of work (a long product
//! checks it between chunks), completes a report it is writing, and exits 130 naming what it
//! wrote. Should the run not have ended [`GRACE`] later (something that does not check the flag
//! is running: the roofline probe on thousands of threads, a huge step), the process quits
//! anyway; a second signal quits at once. Either way it first waits for a write in progress
//! (milliseconds), so no partial report or temporary file is left, and prints one line. The
//! `ctrlc` crate runs the handler on its own thread (a self-pipe), so nothing runs in signal
//! context.

use crate::measure::interrupt;
use std::time::Duration;

/// How long the first signal lets the run stop on its own before the process quits.
const GRACE: Duration = Duration::from_secs(2);

/// Installs the handler, then blocks the signals it handles in the calling thread, and so in
/// every thread started from it afterwards (the rayon pool): the kernel then delivers them to
/// the handler's own thread, which sleeps until one comes. So a signal is handled at once even
/// among thousands of busy threads (`--threads 4096` on two cores), not when the thread it
/// happened to land on next gets a core. Once per process; a second call does nothing.
pub fn install() {
    let installed = ctrlc::set_handler(|| {
        if interrupt::request() {
            eprintln!(
                "\ninterrupt received: stopping before the next step (a report being written is \
                 completed); interrupt again to quit at once"
            );
            // On its own thread, so a second signal is still handled at once.
            std::thread::spawn(|| {
                std::thread::sleep(GRACE);
                quit(false);
            });
        } else {
            quit(true);
        }
    });
    #[cfg(not(unix))]
    let _ = installed;
    #[cfg(unix)]
    if installed.is_ok() {
        // SAFETY: plain libc calls on a local, initialised signal set; the mask changes only
        // this thread (and those it starts later). std resets the mask in child processes.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::sigaddset(&mut set, signal);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
    }
}

/// Waits for a write in progress, says what was written, and exits 130 (`twice`: the second
/// signal).
fn quit(twice: bool) -> ! {
    let _writing = interrupt::writing();
    eprintln!(
        "\nerror: {}",
        interrupt::message(twice, &interrupt::written())
    );
    std::process::exit(i32::from(super::EXIT_INTERRUPTED));
}
