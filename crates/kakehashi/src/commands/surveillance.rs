//! `kakehashi surveillance`.

use std::process::ExitCode;

/// Subcommands of `kakehashi surveillance`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Being built.
    Pending {},
}

/// Runs `kakehashi surveillance`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kakehashi surveillance is being built")
}
