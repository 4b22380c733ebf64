//! `costbench completions SHELL` and `costbench man`: shell completion scripts (clap_complete)
//! and a roff man page (clap_mangen), both generated from the same clap definitions as `--help`,
//! so they cannot drift from the command line.

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::io::Write;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for `args.shell` to standard output, e.g.
/// `costbench completions bash > ~/.local/share/bash-completion/completions/costbench`.
pub fn completions(args: &CompletionsArgs) -> Result<()> {
    let mut cmd = super::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "costbench", &mut out);
    std::io::stdout()
        .write_all(&out)
        .context("could not write the completion script to standard output")
}

/// Writes the man page (roff) to standard output, e.g.
/// `costbench man > ~/.local/share/man/man1/costbench.1`.
pub fn man() -> Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(super::Cli::command())
        .render(&mut out)
        .context("could not render the man page")?;
    std::io::stdout()
        .write_all(&out)
        .context("could not write the man page to standard output")
}
