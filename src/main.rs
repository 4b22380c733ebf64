//! The `costbench` binary: the command line lives in `cli/`; this only starts it.

mod cli;

fn main() -> std::process::ExitCode {
    // Rust ignores SIGPIPE, so `costbench estimate … | head` would panic on a closed pipe;
    // restore the default so the process ends quietly, as other command-line tools do.
    #[cfg(unix)]
    // SAFETY: called before any other thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    cli::main()
}
