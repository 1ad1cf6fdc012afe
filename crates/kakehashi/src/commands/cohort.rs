//! `kakehashi cohort`.

use std::process::ExitCode;

/// Subcommands of `kakehashi cohort`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Being built.
    Pending {},
}

/// Runs `kakehashi cohort`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kakehashi cohort is being built")
}
