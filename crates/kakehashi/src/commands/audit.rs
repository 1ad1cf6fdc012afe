//! `kakehashi audit`.

use std::process::ExitCode;

/// Subcommands of `kakehashi audit`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Being built.
    Pending {},
}

/// Runs `kakehashi audit`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kakehashi audit is being built")
}
