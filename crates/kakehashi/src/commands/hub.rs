//! `kakehashi hub`.

use std::process::ExitCode;

/// Arguments of `kakehashi hub`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `kakehashi hub`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kakehashi hub is being built")
}
