//! `kakehashi query`.

use std::process::ExitCode;

/// Arguments of `kakehashi query`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `kakehashi query`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kakehashi query is being built")
}
