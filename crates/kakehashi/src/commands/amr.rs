//! `kakehashi amr`.

use std::process::ExitCode;

/// Subcommands of `kakehashi amr`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Being built.
    Pending {},
}

/// Runs `kakehashi amr`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kakehashi amr is being built")
}
