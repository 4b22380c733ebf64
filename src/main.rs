//! The `costbench` binary: the command line lives in the library's private `cli` module; this
//! only starts it.

fn main() -> std::process::ExitCode {
    // Rust ignores SIGPIPE, so `costbench estimate … | head` would panic on a closed pipe;
    // restore the default so the process ends quietly, as other command-line tools do.
    #[cfg(unix)]
    // SAFETY: called before any other thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    costbench::run_command_line()
}
